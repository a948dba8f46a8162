"""The live ranking of a cycle as pages show it: the ranked table and each request's place.

:func:`compute` runs :func:`geo_ip.registry.live.live_ranking` (the law functions of
``geo-ip avaliar``) and keeps what the pages need: the list order, the budget summary,
the count per situation, the applicants' names for the redaction and each request's
flags (``alertas``, :func:`geo_ip.outputs.views.request_alerts`, once per ranking).
:mod:`geo_ip.webapp.ranking_cache` decides when it is computed and shares it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from geo_ip.law.budget import budget_summary
from geo_ip.outputs.format import Labels
from geo_ip.outputs.views import list_order, request_alerts
from geo_ip.registry import live
from geo_ip.registry.models import Cycle
from geo_ip.requests.privacy import public_view
from geo_ip.rules.config import Rules

__all__ = [
    "RankingEntry",
    "RankingState",
    "alert_labels",
    "compute",
    "entries_of",
    "number",
    "stale_notice",
]

_PAGES_KEPT = 200
"""Redacted pages kept with a ranking (:meth:`RankingState.public_rows`)."""


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
    alertas : tuple of str
        The request's flags (labels of :data:`geo_ip.outputs.views.ALERTS`), in order;
        empty when nothing is flagged.
    """

    posicao: int | None
    situacao: str
    pontuacao: float | None
    percentual: float | None
    custo_municipio: float | None
    selecionado: bool
    motivo: str
    classificados: int
    alertas: tuple[str, ...] = ()


@dataclass(frozen=True)
class RankingState:
    """The live ranking of a cycle at one state of the registry.

    Attributes
    ----------
    table : pandas.DataFrame
        The ranked table, with its ``alertas`` (may hold personal data: show it only
        through :func:`geo_ip.requests.privacy.public_view`).
    order : numpy.ndarray
        Positions of the table's rows in the order of the lists (ranking first, then
        the requests apart): show them through :meth:`public_rows`.
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
    entries : Mapping of str to RankingEntry
        Each request's place, by protocol.
    computed_at : datetime
        When it was computed (UTC).
    current : bool
        False when it is the last ranking computed and a newer state is being computed.
    names : tuple of str
        The applicants' names of the cycle, for the redaction of :meth:`public_rows`.
    state : tuple
        The state of the registry it was computed for: cycle, budget, rules' hash, run,
        number of decisions and the highest decision id (it holds every decision up to
        that one).
    behind : int
        When it is not current: decisions saved since it was computed.
    situations : dict of str to int
        Requests per ranking situation (code).
    pages : dict
        The pages of :meth:`public_rows` already redacted.
    alerted : numpy.ndarray
        The positions of :attr:`order` whose request has a flag (``alertas``), in the
        same order: the list filtered to the requests with an alert.
    """

    table: pd.DataFrame
    order: np.ndarray
    run_id: int
    provenance: dict[str, Any]
    decisions: int
    eligibility_checked: bool
    summary: dict[str, Any]
    entries: Mapping[str, RankingEntry] = field(default_factory=dict)
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    current: bool = True
    names: tuple[str, ...] = ()
    state: tuple[Any, ...] = ()
    behind: int = 0
    situations: dict[str, int] = field(default_factory=dict)
    pages: dict[tuple[int, int | None, bool], pd.DataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )
    alerted: np.ndarray = field(
        default_factory=lambda: np.empty(0, dtype=np.intp), repr=False, compare=False
    )

    @property
    def last_decision(self) -> int:
        """Return the highest decision id this ranking holds (0: none)."""
        last = self.state[-1] if self.state else None
        return int(last) if last is not None else 0

    def public_rows(
        self, start: int = 0, stop: int | None = None, *, alerted: bool = False
    ) -> pd.DataFrame:
        """Return rows of the ordered list through ``public_view`` (no personal data).

        Only the rows asked for are redacted (a page of the list, not the whole cycle),
        with the names of every applicant of the cycle: a motivation that names an
        applicant of another page is redacted as in the whole list. Each page is
        redacted once per ranking (kept with it, shared by its copies). With
        ``alerted``, the rows are those of the list filtered to the requests with an
        alert (:attr:`alerted`).
        """
        key = (start, stop, alerted)
        found = self.pages.get(key)
        if found is None:
            rows = self.alerted if alerted else self.order
            found = public_view(self.table.iloc[rows[start:stop]], names=self.names)
            if len(self.pages) < _PAGES_KEPT:
                self.pages[key] = found
        return found.copy()


def alert_labels(value: Any) -> tuple[str, ...]:
    """Split a request's ``alertas`` cell into its labels.

    Parameters
    ----------
    value : object
        A cell of ``alertas``: the ``"; "``-joined labels of
        :data:`geo_ip.outputs.views.ALERTS` (blank, None or NaN: no flag).

    Returns
    -------
    tuple of str
        The labels, in order.
    """
    if not isinstance(value, str):
        return ()
    return tuple(text.strip() for text in value.split(";") if text.strip())


def number(value: Any) -> float | None:
    """Return a cell as a float, or None when it is missing, not a number or NaN.

    Parameters
    ----------
    value : object
        A cell of the ranked table.

    Returns
    -------
    float or None
        The number.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def entries_of(table: pd.DataFrame) -> Mapping[str, RankingEntry]:
    """Return each request's place in a ranked table, by protocol, built when asked.

    Parameters
    ----------
    table : pandas.DataFrame
        The ranked table.

    Returns
    -------
    Mapping of str to RankingEntry
        Built in the server, not in the helper process: a mapping of Python objects
        pickles slowly.
    """
    return _Entries(table)


class _Entries(Mapping[str, RankingEntry]):
    """Each request's place, by protocol, built when asked (a page shows one or a few)."""

    _COLUMNS = ("posicao", "situacao", "pontuacao_total", "percentual_municipio",
                "custo_municipio_rs", "selecionado_orcamento", "motivo_situacao",
                "alertas")  # fmt: skip

    def __init__(self, table: pd.DataFrame) -> None:
        self._columns = {
            c: table[c].to_numpy(dtype=object) for c in self._COLUMNS if c in table.columns
        }
        protocols = table["protocolo"].astype(str).to_numpy(dtype=object)
        # the last row of a protocol wins, as a dict built row by row would keep it
        self._row = {p: i for i, p in enumerate(protocols)}
        self._ranked = int(table["posicao"].notna().sum()) if "posicao" in table.columns else 0

    def __getitem__(self, protocol: str) -> RankingEntry:
        row = self._row[protocol]
        value = {c: values[row] for c, values in self._columns.items()}
        position = number(value.get("posicao"))
        return RankingEntry(
            posicao=None if position is None else int(position),
            situacao=_labels().situation(value.get("situacao")),
            pontuacao=number(value.get("pontuacao_total")),
            percentual=number(value.get("percentual_municipio")),
            custo_municipio=number(value.get("custo_municipio_rs")),
            selecionado=bool(value.get("selecionado_orcamento") is True),
            motivo=str(value.get("motivo_situacao") or ""),
            classificados=self._ranked,
            alertas=alert_labels(value.get("alertas")),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


@functools.cache
def _labels() -> Labels:
    return Labels()


def compute(session: Session, cycle: Cycle, rules: Rules, key: bytes) -> RankingState:
    """Rank a cycle now (without :attr:`RankingState.entries`: see :func:`entries_of`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.
    rules : Rules
        The cycle's rules.
    key : bytes
        The LGPD key.

    Returns
    -------
    RankingState
        The ranking, its ``state`` still empty.
    """
    ranking = live.live_ranking(session, cycle, rules=rules, key=key)
    # the flags once per ranking, over the whole table (the downloads read them too)
    alerts = request_alerts(ranking.table, rules)
    table = ranking.table.assign(alertas=alerts)
    order = list_order(table)
    situations = table["situacao"].iloc[order].astype(str).value_counts(sort=False)
    flagged = alerts.to_numpy(dtype=object)[order] != ""
    return RankingState(
        table=table,
        order=order,
        alerted=order[flagged],
        run_id=ranking.run.id,
        provenance=dict(ranking.run.proveniencia),
        decisions=len(ranking.decisions),
        eligibility_checked=ranking.eligibility_checked,
        summary=budget_summary(table, cycle.orcamento_rs),
        names=_names(table),
        situations={str(k): int(n) for k, n in situations.items()},
    )


def _names(table: pd.DataFrame) -> tuple[str, ...]:
    """Return the applicants' names of the cycle (distinct, sorted), for the redaction."""
    if "nome_solicitante" not in table.columns:
        return ()
    names = {str(n) for n in table["nome_solicitante"].dropna().to_numpy(dtype=object)}
    return tuple(sorted(n for n in names if n.strip()))


def stale_notice(state: RankingState) -> str:
    """Return what a page says when it shows a ranking that is not current ("" if current).

    Parameters
    ----------
    state : RankingState
        The ranking shown.

    Returns
    -------
    str
        When it was computed and how many decisions it does not hold yet, in
        Portuguese (the page only shows it when it holds those the page is about).
    """
    if state.current:
        return ""
    when = state.computed_at.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC")
    if state.behind == 1:
        later = "1 decisão salva depois ainda está sendo incluída"
    elif state.behind > 1:
        later = f"{state.behind} decisões salvas depois ainda estão sendo incluídas"
    else:
        later = "uma alteração recente ainda está sendo incluída"
    return f"Classificação calculada em {when}; {later} (atualize a página em instantes)."
