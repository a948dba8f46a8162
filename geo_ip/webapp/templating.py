"""The web app's templates: one shared Jinja2 environment (autoescape on) and :func:`render`.

Every page is rendered with :func:`render`, which adds to the context:

- ``user``: the :class:`~geo_ip.registry.models.User` logged in, or None;
- ``csrf_token``: the session's CSRF token (``csrf_field()`` writes the hidden input);
- ``pode(permission)``: whether the user's role has a permission
  (:data:`geo_ip.webapp.security.PERMISSIONS`).

Globals and filters available in every template: ``csrf_field()``, ``fmt_date``
(``dd/mm/aaaa``), ``fmt_datetime`` (``dd/mm/aaaa hh:mm``, Brasília time), ``fmt_brl``
(``R$ 1.234,56``), ``fmt_points`` (``12,5``) and ``papel_rotulo`` (a role's label).
Templates live in ``geo_ip/webapp/templates`` and extend ``base.html``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from geo_ip.webapp.security import CSRF_FIELD, allowed, session_of
from geo_ip.webapp.users import BRASILIA, ROLE_LABELS

__all__ = [
    "TEMPLATES",
    "csrf_field",
    "fmt_brl",
    "fmt_date",
    "fmt_datetime",
    "fmt_points",
    "render",
    "render_error",
    "templates",
]

MISSING = "—"
"""Shown where a value does not exist (as :data:`geo_ip.outputs.format.MISSING`)."""

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""Folder of the web app's templates."""


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def fmt_date(value: Any) -> str:
    """Format a date as ``dd/mm/aaaa``.

    Parameters
    ----------
    value : date, datetime, str or None
        A date, a time (shown in Brasília time; naive times are taken as UTC) or ISO text.

    Returns
    -------
    str
        ``"31/12/2026"``; ``"—"`` when absent; unreadable text is returned as it is.
    """
    if _missing(value):
        return MISSING
    if isinstance(value, datetime):
        return _brasilia(value).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def fmt_datetime(value: Any) -> str:
    """Format a time as ``dd/mm/aaaa hh:mm`` in Brasília time.

    Parameters
    ----------
    value : datetime, str or None
        A time (naive times are taken as UTC, as the registry stores them) or ISO text.

    Returns
    -------
    str
        ``"31/12/2026 14:05"``; ``"—"`` when absent.
    """
    if _missing(value):
        return MISSING
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return _brasilia(value).strftime("%d/%m/%Y %H:%M")
    return fmt_date(value)


def _brasilia(moment: datetime) -> datetime:
    """Convert a stored time (UTC; naive from SQLite) to Brasília time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BRASILIA)


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def fmt_brl(value: Any) -> str:
    """Format an amount in reais.

    Parameters
    ----------
    value : float or None
        Amount in R$.

    Returns
    -------
    str
        ``"R$ 1.234,56"`` (``"-R$ 10,00"`` when negative); ``"—"`` when absent.
    """
    number = _number(value)
    if number is None:
        return MISSING
    text = f"{abs(number):,.2f}".translate(str.maketrans(",.", ".,"))
    return f"-R$ {text}" if number < 0 and text != "0,00" else f"R$ {text}"


def fmt_points(value: Any) -> str:
    """Format points with a decimal comma and no useless zeros.

    Parameters
    ----------
    value : float or None
        Points.

    Returns
    -------
    str
        ``"12,5"``, ``"10"``; ``"—"`` when absent.
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{round(number, 2):g}".replace(".", ",")


def papel_rotulo(role: str) -> str:
    """Return a role's Portuguese label (the role itself when unknown)."""
    return ROLE_LABELS.get(role, role)


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """Write the hidden input with the CSRF token of the request being rendered.

    Parameters
    ----------
    context : jinja2.runtime.Context
        The template's context (passed by Jinja).

    Returns
    -------
    markupsafe.Markup
        ``<input type="hidden" name="csrf" value="...">``.
    """
    token = context.get("csrf_token")
    if not token:
        state = session_of(context["request"])
        token = state.csrf_token() if state is not None else ""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    helpers = {
        "fmt_date": fmt_date,
        "fmt_datetime": fmt_datetime,
        "fmt_brl": fmt_brl,
        "fmt_points": fmt_points,
        "papel_rotulo": papel_rotulo,
    }
    env.globals.update(helpers)
    env.globals["csrf_field"] = csrf_field
    env.filters.update(helpers)
    return env


templates = Jinja2Templates(env=_environment())
"""The shared templates (``templates.env`` is the Jinja environment)."""


def _context(
    request: Request, context: Mapping[str, Any] | None, *, session: bool
) -> dict[str, Any]:
    state = session_of(request)
    user = None if state is None else state.user
    if state is None:
        token = ""
    elif session:
        token = state.csrf_token()
    else:
        token = state.csrf or ""
    base: dict[str, Any] = {
        "user": user,
        "csrf_token": token,
        "pode": lambda permission: allowed(user, permission),
    }
    base.update(context or {})
    return base


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page.

    Parameters
    ----------
    request : Request
        The request.
    name : str
        Template file name (in ``geo_ip/webapp/templates``).
    context : mapping, optional
        The page's variables (they may override ``user``, ``csrf_token`` or ``pode``).
    status_code : int, default 200
        HTTP status.
    headers : mapping, optional
        Extra response headers.

    Returns
    -------
    HTMLResponse
        The page. An anonymous visitor without a session gets one (for the CSRF token).
    """
    return templates.TemplateResponse(
        request,
        name,
        _context(request, context, session=True),
        status_code=status_code,
        headers=headers,
    )


def render_error(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``erro.html`` without touching the database (no session is created).

    Parameters
    ----------
    request : Request
        The request.
    status_code : int
        HTTP status.
    title : str
        Heading, in Portuguese.
    message : str
        Explanation, in Portuguese (never a stack trace or personal data).
    headers : mapping, optional
        Extra response headers (``Retry-After``, ``Allow``...).

    Returns
    -------
    HTMLResponse
        The error page.
    """
    context = {"titulo": title, "detalhe": message, "codigo": status_code}
    return templates.TemplateResponse(
        request,
        "erro.html",
        _context(request, context, session=False),
        status_code=status_code,
        headers=headers,
    )
