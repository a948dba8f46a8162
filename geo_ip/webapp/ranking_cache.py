"""The live ranking of each cycle, computed once per state of the registry and shared.

:func:`geo_ip.registry.live.live_ranking` runs the law over the whole cycle (a few
tenths of a second for 10,000 requests). Every page that shows the ranking, a request's
place in it or a download of it reads it from here: one computation per *state* of the
cycle (its latest run, budget, rules and current decisions), made once while the others
wait for it (no two threads compute the same state). It runs in one helper process
(loky), so the server's own threads keep answering pages meanwhile; an in-memory
registry, which no other process can open, is computed in the server.

Saving a decision starts the computation of the new state at once, in the background
(:func:`refresh`). While members are deciding, a page view does not wait for it: it
shows the last ranking computed, as long as that holds the decisions the page is about
(the ranking page: every decision of the member viewing it, who always sees their own
decisions ranked; a request page: every decision on that request), and says that newer
decisions are being included (:func:`stale_notice`). When nothing is being computed
the page computes the current state and shows it. The proposal to the Secretary and the
downloads always wait for the current state.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from typing import Any

from loky import BrokenProcessPool, ProcessPoolExecutor
from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session

from geo_ip.errors import GeoIPError
from geo_ip.registry import live
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import Cycle, Decision, Request, Run
from geo_ip.registry.store import RegistryError
from geo_ip.rules.config import Rules
from geo_ip.webapp.ranking_state import (
    RankingEntry,
    RankingState,
    compute,
    entries_of,
    stale_notice,
)

__all__ = [
    "RankingEntry",
    "RankingState",
    "cached_ranking",
    "last_decision_by",
    "last_decision_on",
    "refresh",
    "stale_notice",
    "warm_up",
]

log = logging.getLogger(__name__)


_CACHE_SIZE = 4
_CACHE: OrderedDict[tuple[Any, ...], RankingState] = OrderedDict()
_LATEST: dict[tuple[str, int], RankingState] = {}
_RUNNING: set[tuple[str, int]] = set()
_BACKGROUND: set[tuple[str, int]] = set()
_AGAIN: set[tuple[str, int]] = set()
_LOCK = threading.RLock()
_DONE = threading.Condition(_LOCK)


def _state_key(session: Session, url: str, cycle: Cycle, rules: Rules) -> tuple[Any, ...]:
    count, last = session.execute(
        select(func.count(Decision.id), func.max(Decision.id))
        .join(Request, Request.id == Decision.pedido_id)
        .where(Request.ciclo_id == cycle.id)
    ).one()
    run = session.scalar(select(func.max(Run.id)).where(Run.ciclo_id == cycle.id))
    return (url, cycle.id, cycle.orcamento_rs, rules.sha256, run, int(count or 0), last)


# --- the helper process --------------------------------------------------------------------------
#
# The law over a cycle of 10,000 requests takes a few tenths of a second of pure Python.
# Computed in the server's process it would hold the interpreter's lock that long and
# slow every other page; it is computed in one helper process instead (its caches of the
# run's table and eligibility kept between calls), and only the result is handed back.


def _in_helper(
    url: str, cycle_id: int, given: Rules, key: bytes
) -> tuple[tuple[Any, ...], RankingState]:
    """Compute, in the helper process, the ranking of a cycle as the registry is now.

    Return the state it was computed for (read before the ranking, so the ranking
    holds at least that state's decisions) and the ranking.
    """
    registry = open_registry(url, migrate=False)
    with registry.session() as session:
        cycle = session.get(Cycle, cycle_id)
        if cycle is None:
            raise RegistryError("o ciclo não existe mais no registro")
        rules = live.rules_of(session, cycle, given)
        state = _state_key(session, url, cycle, rules)
        return state, dataclasses.replace(compute(session, cycle, rules, key), state=state[1:])


_HELPER: list[ProcessPoolExecutor] = []
_HELPER_TIMEOUT = 300.0
"""Seconds to wait for the helper process before computing in the server instead."""
_HELPER_LOCK = threading.Lock()


def _helper() -> ProcessPoolExecutor:
    with _HELPER_LOCK:
        if not _HELPER:
            _HELPER.append(ProcessPoolExecutor(max_workers=1))
        return _HELPER[0]


def _shareable(url: str) -> bool:
    """Whether another process can open the registry (not an in-memory SQLite)."""
    parsed = make_url(url)
    return not (parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"))


def _remote(
    url: str, cycle_id: int, rules: Rules, key: bytes
) -> tuple[tuple[Any, ...], RankingState] | None:
    """Compute in the helper process; None when it cannot (the caller computes here)."""
    if not _shareable(url):
        return None
    helper = _helper()
    try:
        return helper.submit(_in_helper, url, cycle_id, rules, key).result(_HELPER_TIMEOUT)
    except (BrokenProcessPool, TimeoutError) as exc:
        log.warning("classificação: o processo auxiliar %s; calculando no servidor",
                    "parou" if isinstance(exc, BrokenProcessPool) else "não respondeu")  # fmt: skip
        with _HELPER_LOCK:
            if _HELPER and _HELPER[0] is helper:
                _HELPER.clear()
        helper.shutdown(wait=False, kill_workers=True)
        return None
    except Exception as exc:
        # (rules that do not pickle, a database busy for the helper's own connection...):
        # the server's computation raises the real error again, if there is one
        log.warning("classificação: cálculo no servidor (%s)", type(exc).__name__)
        return None


# --- the cache -----------------------------------------------------------------------------------


def _store(state: tuple[Any, ...], built: RankingState) -> RankingState:
    with _LOCK:
        _CACHE[state] = built
        _CACHE.move_to_end(state)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        latest = _LATEST.get((state[0], state[1]))
        if latest is None or latest.last_decision <= built.last_decision:
            _LATEST[(state[0], state[1])] = built
    return built


def _ready(state: tuple[Any, ...]) -> RankingState | None:
    """Return a ranking computed for ``state`` or a later one holding it (lock held)."""
    found = _CACHE.get(state)
    if found is not None:
        _CACHE.move_to_end(state)
        return found
    latest = _LATEST.get((state[0], state[1]))
    if latest is not None and _holds((state[0], *latest.state), state):
        return latest
    return None


def _compute_once(
    state: tuple[Any, ...], session: Session, cycle: Cycle, rules: Rules, key: bytes
) -> RankingState:
    """Compute a state, one computation per cycle at a time.

    Whoever asks while the cycle's ranking is being computed waits for it; if the
    ranking it brings does not hold the decisions asked for (they were saved after it
    started), the first of those waiting computes the next one, which holds what all
    of them need. The helper process never has more than one computation of a cycle
    waiting, however fast decisions are saved.
    """
    cycle_key = (state[0], state[1])
    with _DONE:
        while True:
            found = _ready(state)
            if found is not None:
                return found
            if cycle_key not in _RUNNING:
                _RUNNING.add(cycle_key)
                break
            _DONE.wait()
    built: RankingState | None = None
    try:
        remote = _remote(state[0], cycle.id, rules, key)
        if remote is not None and not _holds(remote[0], state):
            # the caller's session sees what the helper cannot (not committed yet)
            remote = None
        if remote is None:
            built = dataclasses.replace(compute(session, cycle, rules, key), state=state[1:])
        else:
            built = remote[1]
        # built here, not in the helper: a mapping of Python objects pickles slowly
        built = dataclasses.replace(built, entries=entries_of(built.table))
    finally:
        with _DONE:
            if built is not None:
                _store(state, built)
            _RUNNING.discard(cycle_key)
            _DONE.notify_all()
    assert built is not None  # else the computation raised
    return built


def _holds(newer: tuple[Any, ...], state: tuple[Any, ...]) -> bool:
    """Whether a ranking computed for ``newer`` holds every decision of ``state``.

    Same registry, cycle, budget, rules and run, and no fewer decisions (ids only grow:
    decisions are never deleted).
    """
    if newer[:5] != state[:5]:
        return False
    return int(newer[5]) >= int(state[5]) and int(newer[6] or 0) >= int(state[6] or 0)


def refresh(registry: Registry, cycle_id: int, rules: Rules, key: bytes) -> None:
    """Compute the cycle's ranking again in the background, until it holds every decision.

    Called after a decision is saved and when a page shows an older ranking: one
    background computation per cycle at a time; a call while it runs makes it run once
    more when it ends, so the last decision saved is always taken.

    Parameters
    ----------
    registry : Registry
        The registry.
    cycle_id : int
        The cycle.
    rules : Rules
        The cycle's rules.
    key : bytes
        The LGPD key.
    """
    cycle_key = (registry.url, cycle_id)
    with _LOCK:
        if cycle_key in _BACKGROUND:
            _AGAIN.add(cycle_key)
            return
        _BACKGROUND.add(cycle_key)

    def work() -> None:
        try:
            while True:
                with _LOCK:
                    _AGAIN.discard(cycle_key)
                with registry.session() as session:
                    cycle = session.get(Cycle, cycle_id)
                    if cycle is None:
                        return
                    state = _state_key(session, registry.url, cycle, rules)
                    _compute_once(state, session, cycle, rules, key)
                with _LOCK:
                    if cycle_key not in _AGAIN:
                        return
        except Exception:  # the next page view computes it again, in the foreground
            log.exception("classificação: falha ao recalcular em segundo plano")
        finally:
            with _LOCK:
                _BACKGROUND.discard(cycle_key)
                _AGAIN.discard(cycle_key)

    threading.Thread(target=work, name="geo-ip-classificacao", daemon=True).start()


def last_decision_by(session: Session, cycle: Cycle, login: str) -> int:
    """Return the id of the last decision ``login`` saved in a cycle (0: none).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.
    login : str
        The member's login.

    Returns
    -------
    int
        The decision's id, for ``cached_ranking(must_hold=...)``.
    """
    last = session.scalar(
        select(func.max(Decision.id))
        .join(Request, Request.id == Decision.pedido_id)
        .where(Request.ciclo_id == cycle.id, Decision.usuario == login)
    )
    return int(last or 0)


def last_decision_on(session: Session, request_id: int) -> int:
    """Return the id of the last decision on a request, by anyone (0: none).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    request_id : int
        The request.

    Returns
    -------
    int
        The decision's id, for ``cached_ranking(must_hold=...)``.
    """
    last = session.scalar(select(func.max(Decision.id)).where(Decision.pedido_id == request_id))
    return int(last or 0)


def cached_ranking(
    session: Session,
    url: str,
    cycle: Cycle,
    rules: Rules,
    key: bytes,
    *,
    must_hold: int | None = None,
    registry: Registry | None = None,
) -> RankingState:
    """Return the live ranking of a cycle, computed once per state of the registry.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    url : str
        The registry's URL (the cache serves several registries).
    cycle : Cycle
        The cycle.
    rules : Rules
        The cycle's rules.
    key : bytes
        The LGPD key.
    must_hold : int, optional
        Accept an older ranking that holds every decision up to this id (``registry``
        required): while the cycle's ranking is being computed (members are
        deciding), the last ranking computed is shown instead of waiting when it holds
        the decisions the page is about (:func:`last_decision_by` the member viewing
        the ranking page, :func:`last_decision_on` the request of a request page) and
        differs from now only by later decisions (its ``current`` is False and
        ``behind`` says how many); the newest one is computed in the background. When
        nothing is being computed, and when None (the proposal, the downloads), the
        current state is awaited.
    registry : Registry, optional
        The registry, for the background computation.

    Returns
    -------
    RankingState
        The ranking (shared between requests: do not modify its tables).

    Raises
    ------
    geo_ip.registry.store.RegistryError
        The cycle has no run.
    """
    state = _state_key(session, url, cycle, rules)
    with _LOCK:
        found = _ready(state)
        latest = _LATEST.get((url, cycle.id))
        busy = (url, cycle.id) in _BACKGROUND or (url, cycle.id) in _RUNNING
    if found is not None:
        return found
    if (
        busy  # quiet, the current ranking is computed now; busy, the page does not wait
        and must_hold is not None
        and registry is not None
        and latest is not None
        and latest.state[:4] == state[1:5]  # same cycle, budget, rules and run
        and latest.last_decision >= must_hold
    ):
        refresh(registry, cycle.id, rules, key)
        behind = max(0, int(state[5]) - int(latest.state[4]))
        return dataclasses.replace(latest, current=False, behind=behind)
    return _compute_once(state, session, cycle, rules, key)


def warm_up(registry: Registry, rules: Rules | None, key: bytes) -> None:
    """Start computing the ranking of the latest cycle with a run, in the background.

    ``geo-ip servir`` calls it before it answers: the helper process starts and the first
    page that shows the ranking finds it ready.

    Parameters
    ----------
    registry : Registry
        The registry.
    rules : Rules, optional
        The rules given to ``geo-ip servir`` (None: the cycle's recorded rules).
    key : bytes
        The LGPD key.
    """
    with registry.session() as session:
        cycle = session.scalar(
            select(Cycle).where(Cycle.id == select(func.max(Run.ciclo_id)).scalar_subquery())
        )
        if cycle is None:
            return
        try:
            resolved = live.rules_of(session, cycle, rules)
        except GeoIPError as exc:  # the pages say it when they are opened
            log.info("classificação não pré-calculada: %s", exc)
            return
    refresh(registry, cycle.id, resolved, key)
