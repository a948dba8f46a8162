"""The live ranking of each cycle, computed once per state of the registry and shared.

:func:`geo_ip.registry.live.live_ranking` runs the law over the whole cycle (about a
second for 10,000 requests). Every page that shows the ranking, a request's place in it
or a download of it reads it from here: one computation per *state* of the cycle (its
latest run, budget, rules and current decisions), made by one thread while the others
wait for it (no two threads compute the same state).

Pages that show a single request's place (the request page) may take the last ranking
computed while a new one is computed in the background (``stale_ok=True``); the page
then says when the ranking it shows was computed. The ranking page, the proposal to the
Secretary and the downloads always wait for the current state.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_ip.law.budget import budget_summary
from geo_ip.outputs.format import Labels
from geo_ip.outputs.views import ordered_rows
from geo_ip.registry import live
from geo_ip.registry.db import Registry
from geo_ip.registry.models import Cycle, Decision, Request, Run
from geo_ip.requests.privacy import public_view
from geo_ip.rules.config import Rules

__all__ = ["RankingEntry", "RankingState", "cached_ranking"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankingEntry:
    """A request in the live ranking.

    Attributes
    ----------
    posicao : int or None
        Position (None: not ranked).
    situacao : str
        The ranking's situation, labelled.
    pontuacao : float or None
        Final total.
    percentual : float or None
        Municipal share (%).
    custo_municipio : float or None
        Municipal cost (R$).
    selecionado : bool
        Selected within the budget.
    motivo : str
        Why the request is in this situation.
    classificados : int
        Requests ranked in the cycle.
    """

    posicao: int | None
    situacao: str
    pontuacao: float | None
    percentual: float | None
    custo_municipio: float | None
    selecionado: bool
    motivo: str
    classificados: int


@dataclass(frozen=True)
class RankingState:
    """The live ranking of a cycle at one state of the registry.

    Attributes
    ----------
    table : pandas.DataFrame
        The ranked table (may hold personal data: show it only through
        :func:`geo_ip.requests.privacy.public_view`).
    ordered : pandas.DataFrame
        The table in the order of the lists (ranking first, then the requests apart),
        still with personal data: show its rows through :meth:`public_rows`.
    run_id : int
        The run it is based on.
    provenance : dict
        The run's provenance.
    decisions : int
        Current decisions applied.
    eligibility_checked : bool
        Whether eligibility was checked again.
    summary : dict
        :func:`geo_ip.law.budget.budget_summary`.
    entries : dict of str to RankingEntry
        Each request's place, by protocol.
    computed_at : datetime
        When it was computed (UTC).
    current : bool
        False when it is the last ranking computed and a newer state is being computed.
    names : tuple of str
        The applicants' names of the cycle, for the redaction of :meth:`public_rows`.
    """

    table: pd.DataFrame
    ordered: pd.DataFrame
    run_id: int
    provenance: dict[str, Any]
    decisions: int
    eligibility_checked: bool
    summary: dict[str, Any]
    entries: dict[str, RankingEntry] = field(default_factory=dict)
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    current: bool = True
    names: tuple[str, ...] = ()

    def public_rows(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Return rows of the ordered list through ``public_view`` (no personal data).

        Only the rows asked for are redacted (a page of the list, not the whole cycle),
        with the names of every applicant of the cycle: a motivation that names an
        applicant of another page is redacted as in the whole list.
        """
        return public_view(self.ordered.iloc[start:stop], names=self.names)


_CACHE_SIZE = 4
_CACHE: OrderedDict[tuple[Any, ...], RankingState] = OrderedDict()
_LATEST: dict[tuple[str, int], RankingState] = {}
_COMPUTING: dict[tuple[Any, ...], threading.Lock] = {}
_BACKGROUND: set[tuple[str, int]] = set()
_LOCK = threading.Lock()


def _state_key(session: Session, url: str, cycle: Cycle, rules: Rules) -> tuple[Any, ...]:
    count, last = session.execute(
        select(func.count(Decision.id), func.max(Decision.id))
        .join(Request, Request.id == Decision.pedido_id)
        .where(Request.ciclo_id == cycle.id)
    ).one()
    run = session.scalar(select(func.max(Run.id)).where(Run.ciclo_id == cycle.id))
    return (url, cycle.id, cycle.orcamento_rs, rules.sha256, run, int(count or 0), last)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _entries(table: pd.DataFrame) -> dict[str, RankingEntry]:
    labels = Labels()
    ranked = int(table["posicao"].notna().sum())
    out = {}
    columns = ["protocolo", "posicao", "situacao", "pontuacao_total", "percentual_municipio",
               "custo_municipio_rs", "selecionado_orcamento", "motivo_situacao"]  # fmt: skip
    present = [c for c in columns if c in table.columns]
    for row in table[present].to_dict("records"):
        position = _number(row.get("posicao"))
        out[str(row["protocolo"])] = RankingEntry(
            posicao=None if position is None else int(position),
            situacao=labels.situation(row.get("situacao")),
            pontuacao=_number(row.get("pontuacao_total")),
            percentual=_number(row.get("percentual_municipio")),
            custo_municipio=_number(row.get("custo_municipio_rs")),
            selecionado=bool(row.get("selecionado_orcamento") is True),
            motivo=str(row.get("motivo_situacao") or ""),
            classificados=ranked,
        )
    return out


def _compute(session: Session, cycle: Cycle, rules: Rules, key: bytes) -> RankingState:
    ranking = live.live_ranking(session, cycle, rules=rules, key=key)
    return RankingState(
        table=ranking.table,
        ordered=ordered_rows(ranking.table),
        run_id=ranking.run.id,
        provenance=dict(ranking.run.proveniencia),
        decisions=len(ranking.decisions),
        eligibility_checked=ranking.eligibility_checked,
        summary=budget_summary(ranking.table, cycle.orcamento_rs),
        entries=_entries(ranking.table),
        names=tuple(
            sorted({str(n) for n in ranking.table.get("nome_solicitante", []) if str(n).strip()})
        ),
    )


def _store(state: tuple[Any, ...], built: RankingState) -> None:
    with _LOCK:
        _CACHE[state] = built
        _CACHE.move_to_end(state)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        latest = _LATEST.get((state[0], state[1]))
        if latest is None or latest.computed_at <= built.computed_at:
            _LATEST[(state[0], state[1])] = built


def _compute_once(
    state: tuple[Any, ...], session: Session, cycle: Cycle, rules: Rules, key: bytes
) -> RankingState:
    """Compute a state once: the first caller computes, the others wait for its result."""
    with _LOCK:
        found = _CACHE.get(state)
        if found is not None:
            _CACHE.move_to_end(state)
            return found
        computing = _COMPUTING.setdefault(state, threading.Lock())
    with computing:
        with _LOCK:
            found = _CACHE.get(state)
        if found is not None:
            return found
        try:
            built = _compute(session, cycle, rules, key)
        finally:
            with _LOCK:
                _COMPUTING.pop(state, None)
        _store(state, built)
        return built


def _in_background(
    registry: Registry, state: tuple[Any, ...], cycle_id: int, rules: Rules, key: bytes
) -> None:
    cycle_key = (registry.url, cycle_id)

    def work() -> None:
        try:
            with registry.session() as session:
                cycle = session.get(Cycle, cycle_id)
                if cycle is not None:
                    # the state as this session sees it (what it computes is stored under it)
                    own = _state_key(session, registry.url, cycle, rules)
                    _compute_once(own, session, cycle, rules, key)
        except Exception:  # the next page view computes it again, in the foreground
            log.exception("classificação: falha ao recalcular em segundo plano")
        finally:
            with _LOCK:
                _BACKGROUND.discard(cycle_key)

    with _LOCK:
        # one background computation per cycle at a time: decisions saved meanwhile are
        # taken by the next one (a page view after it ends starts it)
        if state in _COMPUTING or cycle_key in _BACKGROUND:
            return
        _BACKGROUND.add(cycle_key)
    threading.Thread(target=work, name="geo-ip-classificacao", daemon=True).start()


def cached_ranking(
    session: Session,
    url: str,
    cycle: Cycle,
    rules: Rules,
    key: bytes,
    *,
    stale_ok: bool = False,
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
    stale_ok : bool, default False
        Accept the last ranking computed for the cycle while the current state is
        computed in the background (``registry`` required); its ``current`` is False.
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
        found = _CACHE.get(state)
        latest = _LATEST.get((url, cycle.id))
    if found is not None:
        return found
    if stale_ok and registry is not None and latest is not None:
        _in_background(registry, state, cycle.id, rules, key)
        return dataclasses.replace(latest, current=False)
    return _compute_once(state, session, cycle, rules, key)
