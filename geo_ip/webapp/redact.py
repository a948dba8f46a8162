"""Applicants' names out of the free text shown to users who may not see personal data.

Members of the Commission type free text (motivations, the conclusive report, document
requests and answers, reasons of status changes, inspection findings, meeting notes)
that may name an applicant. A user whose role lacks ``dados_pessoais``
(:func:`geo_ip.webapp.security.allowed`) sees those texts through
:class:`geo_ip.registry.store.ApplicantNames`: CPF-shaped numbers and the names of the
cycle's applicants (and every part of the name of the request the text is about) become
``[dado pessoal omitido]``.

- In the templates, the filter ``sem_dados_pessoais`` (registered on the shared Jinja
  environment, :data:`geo_ip.webapp.templating.templates`, when this module is
  imported): ``{{ texto | sem_dados_pessoais }}`` about the page's ``pedido``, or
  ``{{ texto | sem_dados_pessoais(protocolo) }}`` about another request. It returns
  the text unchanged to users allowed to see personal data.
- In the downloads, :func:`cycle_names` gives the redactor of a cycle.

The names are read from ``dados_pessoais`` (:func:`geo_ip.registry.store.applicants_of`)
for this computation only, without a view event, and kept in memory per registry, cycle
and latest run (a new run is the only change of the applicants' data).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from geo_ip.registry.models import Cycle, Run
from geo_ip.registry.store import ApplicantNames, applicants_of
from geo_ip.webapp.security import allowed
from geo_ip.webapp.templating import templates

__all__ = ["FILTER", "cycle_names", "register", "sem_dados_pessoais"]

FILTER = "sem_dados_pessoais"
"""Name of the Jinja filter."""

_CACHE_SIZE = 8
_CACHE: OrderedDict[tuple[str, int, int | None], ApplicantNames] = OrderedDict()
_LOCK = threading.Lock()
_NO_NAMES = ApplicantNames({})
_STATE = "geoip_nomes"


def cycle_names(session: Session, cycle: Cycle) -> ApplicantNames:
    """Return the redactor of a cycle's applicants' names (cached per cycle and run).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session of the registry.
    cycle : Cycle
        The cycle.

    Returns
    -------
    ApplicantNames
        Shared between requests: read only.
    """
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    run = session.scalar(select(func.max(Run.id)).where(Run.ciclo_id == cycle.id))
    key = (url, cycle.id, run)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = ApplicantNames(applicants_of(session, cycle))
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def _cycle_id(context: jinja2.runtime.Context) -> int | None:
    for name in ("ciclo", "pedido", "reuniao"):
        found = context.get(name)
        if isinstance(found, Cycle):
            return found.id
        cycle_id = getattr(found, "ciclo_id", None)
        if isinstance(cycle_id, int):
            return cycle_id
    return None


def _session(context: jinja2.runtime.Context) -> Session | None:
    for name in ("ciclo", "pedido", "reuniao"):
        found = context.get(name)
        session = object_session(found) if found is not None else None
        if session is not None:
            return session
    return None


def _read_names(context: jinja2.runtime.Context, cycle_id: int) -> ApplicantNames:
    """Return the redactor of a cycle, read in the page's session or in a new one."""
    session = _session(context)
    if session is not None:
        cycle = session.get(Cycle, cycle_id)
        return cycle_names(session, cycle) if cycle is not None else _NO_NAMES
    request = context.get("request")
    registry = getattr(getattr(request, "app", None), "state", None)
    registry = getattr(registry, "registry", None)
    if registry is None:
        return _NO_NAMES
    with registry.session() as own:
        cycle = own.get(Cycle, cycle_id)
        return cycle_names(own, cycle) if cycle is not None else _NO_NAMES


def _page_names(context: jinja2.runtime.Context) -> ApplicantNames:
    """Return the redactor of the page's cycle, read once per HTTP request."""
    cycle_id = _cycle_id(context)
    if cycle_id is None:
        return _NO_NAMES
    request = context.get("request")
    state = getattr(request, "state", None)
    memo: dict[int, ApplicantNames] | None = getattr(state, _STATE, None)
    if memo is None:
        memo = {}
        if state is not None:
            setattr(state, _STATE, memo)
    if cycle_id not in memo:
        memo[cycle_id] = _read_names(context, cycle_id)
    return memo[cycle_id]


@jinja2.pass_context
def sem_dados_pessoais(context: jinja2.runtime.Context, value: Any, protocol: Any = None) -> str:
    """Jinja filter: a free text as the page's user may see it.

    Parameters
    ----------
    context : jinja2.runtime.Context
        The template's context (``user``, ``request``, ``ciclo``, ``pedido``...).
    value : object
        The text (None gives ``""``).
    protocol : object, optional
        The request the text is about (default: the page's ``pedido``).

    Returns
    -------
    str
        The text unchanged for a user allowed to see personal data; otherwise with
        CPF-shaped numbers and the cycle's applicants' names redacted.
    """
    if value is None:
        return ""
    if allowed(context.get("user"), "dados_pessoais"):
        return str(value)
    if protocol is None:
        request_row = context.get("pedido")
        protocol = getattr(request_row, "protocolo", None)
    return _page_names(context).redact(value, protocol)


def register(environment: jinja2.Environment) -> None:
    """Add the filter :data:`FILTER` to a Jinja environment.

    Parameters
    ----------
    environment : jinja2.Environment
        The environment (the web app's: :data:`geo_ip.webapp.templating.templates`).
    """
    environment.filters[FILTER] = sem_dados_pessoais


register(templates.env)
