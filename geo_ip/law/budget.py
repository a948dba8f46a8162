"""The budget walk: Art. 11 and 12 reservations, then the ranked list (pure).

Every work is charged to the budget (Art. 11, sole paragraph; Art. 13: "observada a
disponibilidade orçamentária") by its **municipal part** (Art. 4). :func:`walk_budget`
first reserves the Art. 11 and Art. 12 works the Commission or the Executive decided,
in the order of their decisions (``ordem_ato``), each when it fits the remaining
budget; then it walks the ranked list with what remains: a work is selected when its
municipal cost fits, one that does not fit (or whose cost is unknown) waits, and later
ones are still considered unless ``rules.orcamento.estrito``, in which case the
selection stops there. :func:`budget_summary` sums the walk up.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl, format_number
from geo_ip.law.cells import formatted, numbers, texts
from geo_ip.law.order import Ordering, sort_key

__all__ = [
    "RESERVED",
    "Walk",
    "budget_summary",
    "budget_texts",
    "cents",
    "reserved_texts",
    "walk_budget",
]

RESERVED = ("execucao_direta_art12", "estrategico_art11")
"""Situations charged to the budget before the ranked list, in the order of their decisions."""

_EPSILON = 1e-6
"""Tolerance, in R$, when checking that a cost fits the remaining budget."""

# Outcome of each work in the walk: no limit, stopped (strict budget), unknown cost,
# selected (or reserved), waits (does not fit).
_UNLIMITED, _STOPPED, _UNKNOWN, _FITS, _WAITS = 0, 1, 2, 3, 4


class Walk(NamedTuple):
    """The budget walk of :func:`walk_budget`."""

    selected: np.ndarray
    """Every row: selected (ranked) or reserved (Art. 11 and 12)."""
    reserved: np.ndarray
    """Rows reserved in the budget, in the order of their decisions."""
    reserved_outcome: np.ndarray
    """Outcome of each reserved row (no limit, unknown cost, fits, does not fit)."""
    reserved_balance: np.ndarray
    """Budget left after each reserved row (NaN: no limit or unknown cost)."""
    outcome: np.ndarray
    """Outcome of each ranked row (no limit, stopped, unknown cost, selected, waits)."""
    balance: np.ndarray
    """Budget left after each ranked row (NaN where not charged)."""
    stopped: np.ndarray
    """Protocol where a strict budget stopped the selection (``""``: not stopped)."""


def cents(value: np.ndarray) -> np.ndarray:
    """Round amounts in reais to centavos, halves up (as money is rounded).

    Parameters
    ----------
    value : numpy.ndarray
        Amounts (non-negative; NaN stays NaN).

    Returns
    -------
    numpy.ndarray
        Rounded amounts.
    """
    return np.floor(np.asarray(value, dtype=float) * 100 + 0.5 + 1e-9) / 100


def _reservation_order(rows: pd.DataFrame, reserved: np.ndarray, natural: np.ndarray) -> np.ndarray:
    """Rows reserved in the budget, in the order of their decisions (``ordem_ato``).

    A row without an order (NA) comes after the others, by protocol.
    """
    if len(reserved) == 0:
        return reserved.astype("int64")
    order = numbers(rows["ordem_ato"]) if "ordem_ato" in rows else np.full(len(rows), np.nan)
    nan, value = sort_key(order[reserved], False)
    return reserved[np.lexsort((natural[reserved], value, nan))]


def _reserve(amounts: list[float], remaining: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Reserve the Art. 11 and 12 works in order: outcome, balance after each, what is left."""
    outcome = np.zeros(len(amounts), dtype="int64")
    balance = np.full(len(amounts), np.nan)
    for j, amount in enumerate(amounts):
        if math.isnan(amount):
            outcome[j] = _UNKNOWN
        elif amount <= remaining + _EPSILON:
            remaining = max(remaining - amount, 0.0)
            outcome[j], balance[j] = _FITS, remaining
        else:
            outcome[j], balance[j] = _WAITS, remaining
    return outcome, balance, remaining


def _select(
    amounts: list[float], protocols: np.ndarray, remaining: float, strict: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk the ranked list with what remains: outcome, balance and stopping protocol."""
    outcome = np.zeros(len(amounts), dtype="int64")
    balance = np.full(len(amounts), np.nan)
    stopped = np.full(len(amounts), "", dtype=object)
    stop_at: str | None = None
    for j, amount in enumerate(amounts):
        if stop_at is not None:
            outcome[j], stopped[j] = _STOPPED, stop_at
        elif math.isnan(amount):
            outcome[j] = _UNKNOWN
            stop_at = protocols[j] if strict else None
        elif amount <= remaining + _EPSILON:
            remaining = max(remaining - amount, 0.0)
            outcome[j], balance[j] = _FITS, remaining
        else:
            outcome[j], balance[j] = _WAITS, remaining
            stop_at = protocols[j] if strict else None
    return outcome, balance, stopped


def walk_budget(
    rows: pd.DataFrame,
    municipal: np.ndarray,
    reserved: np.ndarray,
    ordering: Ordering,
    budget: float | None,
    strict: bool,
) -> Walk:
    """Charge the Art. 11 and 12 works, then the ranked ones, to the budget.

    Parameters
    ----------
    rows : pandas.DataFrame
        The requests, index ``0..n-1`` (``ordem_ato``, optional, orders the reservations).
    municipal : numpy.ndarray
        Municipal cost of every row, in R$ (NaN: unknown).
    reserved : numpy.ndarray of bool
        The Art. 11 and 12 works (situations :data:`RESERVED`).
    ordering : Ordering
        The ranked rows in order (:func:`geo_ip.law.order.sort_requests`).
    budget : float or None
        Amount available (``None``: no limit, every work selected).
    strict : bool
        ``rules.orcamento.estrito``: stop at the first ranked work that does not fit.

    Returns
    -------
    Walk
        Each step depends on the ones before: a loop over numbers.
    """
    order = _reservation_order(rows, np.flatnonzero(reserved), ordering.natural)
    ranked = ordering.ranked
    selected = np.zeros(len(rows), dtype=bool)
    if budget is None:
        selected[order] = True
        selected[ranked] = True
        k = len(ranked)
        return Walk(
            selected, order, np.zeros(len(order), dtype="int64"), np.full(len(order), np.nan),
            np.zeros(k, dtype="int64"), np.full(k, np.nan), np.full(k, "", dtype=object),
        )  # fmt: skip
    r_outcome, r_balance, remaining = _reserve(municipal[order].tolist(), float(budget))
    selected[order[r_outcome == _FITS]] = True
    outcome, balance, stopped = _select(
        municipal[ranked].tolist(), ordering.protocol[ranked], remaining, strict
    )
    selected[ranked[outcome == _FITS]] = True
    return Walk(selected, order, r_outcome, r_balance, outcome, balance, stopped)


def budget_texts(amount: np.ndarray, walk: Walk, unlimited: bool) -> np.ndarray:
    """Write the budget part of each ranked row's reason.

    Parameters
    ----------
    amount : numpy.ndarray
        Municipal cost of each ranked row, in order.
    walk : Walk
        :func:`walk_budget`.
    unlimited : bool
        No budget was given.

    Returns
    -------
    numpy.ndarray of object
        ``"; ..."``, one per ranked row.
    """
    outcome, balance, stopped = walk.outcome, walk.balance, walk.stopped
    out = np.full(len(amount), "", dtype=object)
    if unlimited:
        shown = formatted(amount, format_brl)
        shown[np.isnan(amount)] = "desconhecido"
        return "; custo municipal " + shown + " (sem limite de orçamento informado)"
    money, left = formatted(amount, format_brl), formatted(balance, format_brl)
    stop = outcome == _STOPPED
    out[stop] = (
        "; aguarda orçamento: seleção interrompida no protocolo "
        + stopped[stop]
        + " (orçamento estrito, Art. 13)"
    )
    out[outcome == _UNKNOWN] = (
        "; aguarda orçamento: custo municipal desconhecido (estime o custo da obra)"
    )
    chosen = outcome == _FITS
    out[chosen] = (
        "; selecionado no orçamento: custo municipal "
        + money[chosen]
        + ", saldo restante "
        + left[chosen]
    )
    waits = outcome == _WAITS
    out[waits] = (
        "; aguarda orçamento: custo municipal " + money[waits] + " excede o saldo de " + left[waits]
    )
    return out


def _reserved_head(rows: pd.DataFrame, reserved: np.ndarray, situation: np.ndarray) -> np.ndarray:
    """Say the act of each reserved work: Art. 12 direct execution or Art. 11 analysis."""
    art12 = situation[reserved] == "execucao_direta_art12"
    procedure = texts(rows, "procedimento_art12")[reserved]
    return np.where(
        art12,
        "Execução direta pelo Poder Executivo em via rural de alto fluxo (Art. 12), "
        "procedimento administrativo "
        + np.where(procedure != "", procedure, "não informado").astype(object),
        "Interesse estratégico (Art. 11): análise direta pela Comissão, sem a pontuação, "
        "com parecer técnico circunstanciado",
    ).astype(object)


def reserved_texts(
    rows: pd.DataFrame,
    walk: Walk,
    situation: np.ndarray,
    share: np.ndarray,
    municipal: np.ndarray,
    unlimited: bool,
) -> np.ndarray:
    """Write the reason of each Art. 11 / Art. 12 work: the act and its reservation.

    Parameters
    ----------
    rows : pandas.DataFrame
        The requests (``procedimento_art12``, optional, is quoted).
    walk : Walk
        :func:`walk_budget`.
    situation, share, municipal : numpy.ndarray
        Situation, municipal share (%) and municipal cost of every row.
    unlimited : bool
        No budget was given.

    Returns
    -------
    numpy.ndarray of object
        One text per reserved row, in the order of ``walk.reserved``.
    """
    reserved = walk.reserved
    m = len(reserved)
    if m == 0:
        return np.zeros(0, dtype=object)
    place = (np.arange(1, m + 1)).astype(str).astype(object)
    charge = (
        "; listado à parte da classificação; "
        + place
        + "ª reserva no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal "
        + formatted(municipal[reserved], format_brl)
        + " ("
        + formatted(share[reserved], format_number)
        + " %)"
    )
    tail = np.full(m, "", dtype=object)
    if unlimited:
        tail[:] = " (sem limite de orçamento informado)"
    else:
        outcome, left = walk.reserved_outcome, formatted(walk.reserved_balance, format_brl)
        fits, waits = outcome == _FITS, outcome == _WAITS
        tail[fits] = ", reservado; saldo restante " + left[fits]
        tail[waits] = ", não cabe no saldo de " + left[waits] + ": não reservado"
    unknown = np.isnan(municipal[reserved])
    charge[unknown] = (
        "; listado à parte da classificação; "
        + place[unknown]
        + "ª reserva no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal "
        "desconhecido (estime o custo da obra)"
    )
    tail[unknown] = " (sem limite de orçamento informado)" if unlimited else ", não reservado"
    return _reserved_head(rows, reserved, situation) + charge + tail + "."


def budget_summary(table: pd.DataFrame, budget: float | None) -> dict[str, Any]:
    """Sum up the budget walk of :func:`geo_ip.law.ranking.rank`.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`geo_ip.law.ranking.rank` (``situacao``,
        ``selecionado_orcamento``, ``custo_municipio_rs``).
    budget : float or None
        The budget given to :func:`geo_ip.law.ranking.rank` (``None``: no limit).

    Returns
    -------
    dict
        ``orcamento_rs``, ``reservado_rs`` (Art. 11 and 12 works reserved),
        ``reservas`` (their number), ``reservas_sem_saldo`` (decided works not
        reserved), ``saldo_apos_reservas_rs``, ``classificados_rs`` (ranked works
        selected), ``selecionados`` (their number), ``saldo_final_rs``; amounts in
        centavos (``None`` for the balances when there is no budget).
    """
    situation = table["situacao"].astype(str)
    chosen = table["selecionado_orcamento"].astype(bool)
    cost = pd.to_numeric(table["custo_municipio_rs"], errors="coerce").fillna(0.0)
    reserved = situation.isin(RESERVED)
    reserved_rs = round(float(cost[reserved & chosen].sum()), 2)
    ranked_rs = round(float(cost[~reserved & chosen].sum()), 2)
    after = None if budget is None else round(float(budget) - reserved_rs, 2)
    final = None if after is None else round(after - ranked_rs, 2)
    return {
        "orcamento_rs": budget,
        "reservado_rs": reserved_rs,
        "reservas": int((reserved & chosen).sum()),
        "reservas_sem_saldo": int((reserved & ~chosen).sum()),
        "saldo_apos_reservas_rs": after,
        "classificados_rs": ranked_rs,
        "selecionados": int((~reserved & chosen).sum()),
        "saldo_final_rs": final,
    }
