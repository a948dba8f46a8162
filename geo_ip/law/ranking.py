"""Ranking of the requests, tie-break, municipal cost share and budget selection (pure).

:func:`rank` implements Art. 13 (decreasing total score, Art. 11 and 12 requests
apart, subject to the budget), the tie-break of Art. 10 §1 in the order given by
``rules.desempate.ordem``, and the municipal share of Art. 4 §1 from
``rules.participacao``.

Every work is charged to the budget (Art. 11, sole paragraph; Art. 13: "observada a
disponibilidade orçamentária"): the walk first reserves the Art. 11 and Art. 12 works
the Commission or the Executive decided, in the order of their decisions, with the
shares ``participacao.percentual_art11`` and ``percentual_art12``; then it walks the
ranked list with what remains. A request whose hardship is not proven
(``pendente_comprovacao``) or whose place is too uncertain (``pendente_localizacao``:
located only by the street or the bairro, beyond ``avaliacao.incerteza_maxima_m``,
until a ``localizacao`` decision confirms the place) is scored and its would-be place
is said, but it gets no share and is never selected.

The order is a total order on the rows' contents (the request number is the last
key), so it does not depend on the order of the input rows, and adding a request
never changes the relative order of the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo_ip.errors import BudgetError, GeoIPError
from geo_ip.law.scoring import format_brl, format_number
from geo_ip.rules.config import CRITERIA, Rules

__all__ = [
    "PENDING",
    "RANKING_COLUMNS",
    "RESERVED",
    "SITUACOES",
    "BudgetError",
    "budget_summary",
    "rank",
]

SITUACOES = (
    "classificado",
    "aguardando_orcamento",
    "pendente_localizacao",
    "pendente_comprovacao",
    "estrategico_art11",
    "execucao_direta_art12",
    "inelegivel",
    "erro",
)
"""Values of ``situacao`` after ranking."""

RANKING_COLUMNS = (
    "situacao",
    "posicao",
    "percentual_municipio",
    "custo_municipio_rs",
    "selecionado_orcamento",
    "motivo_situacao",
)
"""Columns added (or replaced) by :func:`rank`."""

REQUIRED_COLUMNS = (
    "protocolo",
    "data_protocolo",
    *(f"pont_{c}" for c in CRITERIA),
    "pontuacao_total",
    "moradores_estimados",
    "custo_estimado_rs",
    "custo_por_beneficiario_rs",
    "erro",
    "elegivel",
    "art11_decidido",
    "art12_decidido",
)
"""Columns :func:`rank` needs."""
RESERVED = ("execucao_direta_art12", "estrategico_art11")
"""Situations charged to the budget before the ranked list, in the order of their decisions."""
PENDING = ("pendente_localizacao", "pendente_comprovacao")
"""Situations scored and placed among the ranked requests, but never given a share."""

_DECIMALS = 6
"""Scores and amounts are compared after rounding to this many decimals (float noise)."""
_EPSILON = 1e-6
"""Tolerance, in R$, when checking that a cost fits the remaining budget."""


# ---------------------------------------------------------------------------
# Sort keys
# ---------------------------------------------------------------------------
def _number(value: Any) -> float:
    """Float of a cell, NaN for NA/None/non-numbers."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return round(number, _DECIMALS) if math.isfinite(number) else number


def _day(value: Any) -> int | None:
    """Ordinal day of a protocol date (``None`` when unknown)."""
    if value is None:
        return None
    if isinstance(value, date):
        return None if pd.isna(value) else value.toordinal()
    try:
        if pd.isna(value):
            return None
        return pd.Timestamp(value).date().toordinal()
    except (TypeError, ValueError):
        return None


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of protocol numbers: ``PED-99`` before ``PED-100``.

    The text itself closes the key, so two distinct protocols never compare equal
    (``PED-01`` before ``PED-1``, ``ped-1`` after ``PED-1``): a complete tie never
    depends on the order of the input rows.
    """
    parts = tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.findall(r"\d+|\D+", text)
    )
    return (*parts, (2, text))


def _per_value(values: Any, convert: Callable[[Any], Any]) -> list[Any]:
    """``[convert(v) for v in values]``, calling ``convert`` once per distinct value."""
    series = pd.Series(np.asarray(values, dtype=object), dtype=object)
    codes, uniques = pd.factorize(series)
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(v) for v in uniques]
    converted[-1] = convert(None)  # code -1: a missing value
    return list(converted[codes])


def _numbers(values: Any) -> np.ndarray:
    """:func:`_number` of every cell (float array)."""
    if isinstance(values, pd.Series) and pd.api.types.is_float_dtype(values.dtype):
        raw = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(raw)
        out = raw.copy()
        if finite.any():
            distinct, inverse = np.unique(raw[finite], return_inverse=True)
            rounded = np.array([round(float(v), _DECIMALS) for v in distinct], dtype=float)
            out[finite] = rounded[inverse.reshape(-1)]
        return out
    return np.array(_per_value(values, _number), dtype=float).reshape(len(values))


def _key(values: np.ndarray, larger_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sort key of :func:`_desc` / :func:`_asc` as two arrays: (is NaN, value)."""
    nan = np.isnan(values)
    value = np.where(nan, 0.0, -values if larger_first else values)
    return nan, value


def _days(values: Any) -> np.ndarray:
    """Ordinal day of each protocol date, NaN when unknown (see :func:`_day`)."""
    days = _per_value(values, _day)
    return np.array([np.nan if d is None else float(d) for d in days], dtype=float)


_TIE_COLUMNS = {
    # Art. 10 §1: "maior número de beneficiários" — the estimated residents, not the points.
    "beneficiarios": ("moradores_estimados", True),
    # "maior pontuação em segurança pública e segurança viária".
    "seguranca": ("pont_seguranca", True),
    # "melhor relação de custo-benefício": the lower cost per beneficiary.
    "custo_beneficio": ("custo_por_beneficiario_rs", False),
    # "antiguidade do protocolo": the older protocol first.
    "antiguidade_protocolo": ("data_protocolo", False),
}
"""Tie-break keys of Art. 10 §1: the column and whether the larger value comes first."""


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


def _flag(table: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    """Boolean array of a flag column; NA becomes ``default``."""
    column = table[name]
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.astype("boolean").fillna(default).to_numpy(dtype=bool).reshape(len(table))
    values = _per_value(column, lambda v: default if v is None or pd.isna(v) else bool(v))
    return np.array(values, dtype=bool).reshape(len(table))


def _text(table: pd.DataFrame, name: str) -> np.ndarray:
    """Strings of an optional column (``""`` when absent or NA)."""
    if name not in table:
        return np.full(len(table), "", dtype=object)
    values = _per_value(table[name], lambda v: "" if v is None or pd.isna(v) else str(v).strip())
    return np.asarray(values, dtype=object).reshape(len(table))


def _with_detail(text: str, detail: np.ndarray) -> np.ndarray:
    """``text: detail``, or ``text`` where the detail is empty (element-wise)."""
    out = np.full(len(detail), text, dtype=object)
    filled = detail != ""
    out[filled] = text + ": " + detail[filled]
    return out


def _apart_reasons(table: pd.DataFrame, situation: np.ndarray) -> np.ndarray:
    """Reason text of each row that is neither ranked nor reserved (``""`` for those)."""
    out = np.full(len(table), "", dtype=object)
    rows = {kind: np.flatnonzero(situation == kind) for kind in ("erro", "inelegivel")}
    if len(rows["erro"]):
        # the problems themselves are in the problemas column, beside this one
        problems = _text(table.iloc[rows["erro"]], "problemas")
        out[rows["erro"]] = np.where(
            problems != "",
            "Pedido com erro, não classificado (ver problemas)",
            "Pedido com erro, não classificado",
        )
    if len(rows["inelegivel"]):
        detail = _text(table.iloc[rows["inelegivel"]], "motivos_inelegibilidade")
        out[rows["inelegivel"]] = _with_detail("Inelegível ao custeio municipal", detail)
    return out


def _situation(table: pd.DataFrame) -> np.ndarray:
    """Situation before the budget, by precedence.

    ``erro`` > ``pendente_localizacao`` > ``execucao_direta_art12`` (the Executive's own
    act on a public road, not a benefit to the applicant) > ``inelegivel`` >
    ``pendente_comprovacao`` > ``estrategico_art11`` (Art. 4 and 5 still apply to it: it
    only skips the points), with one exception: an ineligible request whose place is
    uncertain stays ``inelegivel`` (confirming the place would not make it eligible), unless
    the Executive decided its direct execution (Art. 12 does not depend on eligibility).
    No work is charged to the budget at a place the Commission has not confirmed, so
    ``pendente_localizacao`` comes before the Art. 11 and 12 reservations; a request both
    pending location and pending proof of hardship is ``pendente_localizacao`` (the place
    changes the points themselves) and its reason names the missing proof as well.
    Rows with none of these are ``""`` (to be ranked).
    """
    error = _flag(table, "erro", default=False)
    eligible = _flag(table, "elegivel", default=False)
    art11 = _flag(table, "art11_decidido", default=False)
    art12 = _flag(table, "art12_decidido", default=False)
    pending = _text(table, "hipossuficiencia") == "sem_comprovacao"
    place = (
        _flag(table, "localizacao_pendente", default=False)
        if "localizacao_pendente" in table
        else np.zeros(len(table), dtype=bool)
    )
    return np.select(
        [error, place & (art12 | eligible), art12, ~eligible, pending, art11],
        [
            "erro",
            "pendente_localizacao",
            "execucao_direta_art12",
            "inelegivel",
            "pendente_comprovacao",
            "estrategico_art11",
        ],
        default="",
    )


def _shares(totals: np.ndarray, rules: Rules) -> np.ndarray:
    """Municipal percentage for each total score (NaN when the score is unknown)."""
    out = np.full(len(totals), np.nan)
    known = ~np.isnan(totals)
    if known.any():
        distinct, inverse = np.unique(totals[known], return_inverse=True)
        share = [float(rules.participacao.share_for(max(float(t), 0.0))) for t in distinct]
        out[known] = np.asarray(share, dtype=float)[inverse.reshape(-1)]
    return out


def _formatted(values: np.ndarray, fmt: Callable[[float], str]) -> np.ndarray:
    """``fmt`` of each value, computed once per distinct value (NaN included)."""
    return np.asarray(_per_value(values, lambda v: fmt(math.nan if v is None else v)), object)


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------
def rank(table: pd.DataFrame, rules: Rules, budget: float | None) -> pd.DataFrame:
    """Rank the requests, compute the municipal share and select them within the budget.

    Parameters
    ----------
    table : DataFrame
        One row per request with the columns of :data:`REQUIRED_COLUMNS`:
        ``protocolo``, ``data_protocolo`` (date or None), the final points
        ``pont_<c>`` of the five criteria, ``pontuacao_total``,
        ``moradores_estimados``, ``custo_estimado_rs``, ``custo_por_beneficiario_rs``
        and the flags ``erro``, ``elegivel``, ``art11_decidido``, ``art12_decidido``
        (NA counts as False, and as not eligible for ``elegivel``). Optional:
        ``hipossuficiencia`` (``sem_comprovacao`` makes a request pending),
        ``localizacao_pendente`` (the place is too uncertain: pending location) with
        ``incerteza_m`` (quoted in its reason),
        ``ordem_ato`` (order of the Art. 11/12 decisions), ``indicio_art12``,
        ``procedimento_art12``, ``problemas`` and ``motivos_inelegibilidade`` (each
        reason already names its article), quoted in the reasons.
    rules : Rules
        Municipality rules: ``desempate.ordem`` (Art. 10 §1), ``participacao``
        (Art. 4 §1, and the shares of Art. 11 and 12 works) and ``orcamento.estrito``.
    budget : float or None
        Amount available for the works, in R$. It pays the **municipal part** of
        each work (``custo_municipio_rs``, Art. 4), not its total cost. ``None``
        means no limit: every ranked request and every Art. 11/12 work is selected.

    Returns
    -------
    DataFrame
        A copy of ``table`` (same index and row order) with :data:`RANKING_COLUMNS`:

        - ``situacao``: ``erro`` > ``pendente_localizacao`` >
          ``execucao_direta_art12`` > ``inelegivel`` > ``pendente_comprovacao`` >
          ``estrategico_art11`` take precedence in that order (an ineligible request
          with an uncertain place stays ``inelegivel`` unless an Art. 12 decision holds,
          see :func:`_situation`); the other rows are ranked and are ``classificado``
          when selected within the budget, else ``aguardando_orcamento``;
        - ``posicao`` (Int64): 1..k among the ranked rows, NA for the others. Order:
          ``pontuacao_total`` descending, then the keys of ``rules.desempate.ordem``
          (beneficiarios: more ``moradores_estimados``; seguranca: more
          ``pont_seguranca``; custo_beneficio: lower ``custo_por_beneficiario_rs``;
          antiguidade_protocolo: older ``data_protocolo``; unknown values last),
          then ``protocolo`` as text. A pending row's (``pendente_localizacao``,
          ``pendente_comprovacao``) reason says the place it would have;
        - ``percentual_municipio``: municipal share (%) by the total score (Art. 4
          §1) for ranked rows, ``participacao.percentual_art11``/``percentual_art12``
          for Art. 11/12 works; NaN for ``erro``, ``inelegivel``,
          ``pendente_localizacao`` and ``pendente_comprovacao`` rows and when the total
          is unknown;
        - ``custo_municipio_rs``: ``percentual_municipio / 100 × custo_estimado_rs``;
        - ``selecionado_orcamento``: the Art. 11 and 12 works are reserved first, in
          the order of their decisions, each when it fits the remaining budget; then,
          walking in ranking order, a row is selected when its municipal cost fits
          what remains; one that does not fit (or whose cost is unknown) waits, and
          later ones are still considered unless ``rules.orcamento.estrito``, in which
          case the selection stops there;
        - ``motivo_situacao``: the reason, in Portuguese.

    Raises
    ------
    BudgetError
        If ``budget`` is negative or not a number.
    GeoIPError
        If a required column is missing.

    Notes
    -----
    Every column is computed for all rows at once (sort keys with
    :func:`numpy.lexsort`, texts from formatted columns); only the walk down the
    budget, where each selection depends on the ones before, is a loop, over numbers.
    """
    if budget is not None and (math.isnan(budget) or budget < 0):
        what = "negativo" if budget < 0 else "inválido (não é um número)"
        raise BudgetError(f"orçamento {what}: {format_brl(budget)}", field="orcamento")
    for name in REQUIRED_COLUMNS:
        if name not in table:
            raise GeoIPError("coluna obrigatória ausente na tabela de classificação", field=name)

    rows = table.reset_index(drop=True)
    n = len(rows)
    situation = _situation(rows).astype(object)
    motive = np.full(n, "", dtype=object)
    reserved_kind = np.isin(situation, RESERVED)
    pending = np.isin(situation, PENDING)
    apart = situation != ""
    plain_apart = apart & ~reserved_kind & ~pending
    motive[plain_apart] = _apart_reasons(rows, situation)[plain_apart] + "."

    # Art. 4 §1 ties the share to the score: only ranked rows have one by their points;
    # Art. 11 and 12 works have the rules' own share; pending and excluded rows none.
    total = _numbers(rows["pontuacao_total"])
    share = np.where(~apart, _shares(np.where(apart, np.nan, total), rules), np.nan)
    share[situation == "estrategico_art11"] = rules.participacao.percentual_art11.valor
    share[situation == "execucao_direta_art12"] = rules.participacao.percentual_art12.valor
    cost = _numbers(rows["custo_estimado_rs"])
    municipal = cents(share / 100.0 * cost)

    order = tuple(rules.desempate.ordem)
    values = {
        name: _days(rows[column]) if name == "antiguidade_protocolo" else _numbers(rows[column])
        for name, (column, _larger) in _TIE_COLUMNS.items()
    }
    keys = [_key(total, True)] + [_key(values[k], _TIE_COLUMNS[k][1]) for k in order]
    protocols = np.asarray(rows["protocolo"].astype(object), dtype=object)
    text_protocol = np.array([str(p) for p in protocols], dtype=object) if n else protocols
    natural = _per_value(text_protocol, lambda t: _natural("None" if t is None else t))
    distinct = sorted(set(natural))
    place_of = {key: i for i, key in enumerate(distinct)}
    natural_rank = np.array([place_of[k] for k in natural], dtype="int64")

    # the ranked and the pending rows are sorted together: a pending row's would-be place
    # is the number of ranked rows ahead of it, plus one
    candidates = np.flatnonzero(~apart | pending)
    flat = [a for pair in keys for a in pair]  # (nan, value) of each key, most significant first
    sort_keys = [natural_rank[candidates]] + [k[candidates] for k in reversed(flat)]
    in_order = candidates[np.lexsort(sort_keys)]
    is_pending = pending[in_order]
    ranked = in_order[~is_pending]
    would_be = np.cumsum(~is_pending)[is_pending] + 1
    k = len(ranked)
    position = pd.array([pd.NA] * n, dtype="Int64")
    position[ranked] = np.arange(1, k + 1)

    # Art. 11 and 12 works first, in the order of their decisions (Art. 11 sole paragraph,
    # Art. 13), then the ranked list with what remains; each step depends on the previous.
    reserved = _reservation_order(rows, np.flatnonzero(reserved_kind), natural_rank)
    selected = np.zeros(n, dtype=bool)
    r_outcome = np.zeros(len(reserved), dtype="int64")  # 0 no limit, 2 unknown, 3 fits, 4 not
    r_balance = np.full(len(reserved), np.nan)
    outcome = np.zeros(k, dtype="int64")  # 0 no limit, 1 stopped, 2 unknown, 3 selected, 4 waits
    balance = np.full(k, np.nan)
    stopped = np.full(k, "", dtype=object)
    if budget is None:
        selected[reserved] = True
        selected[ranked] = True
    else:
        remaining = float(budget)
        for j, amount in enumerate(municipal[reserved].tolist()):
            if math.isnan(amount):
                r_outcome[j] = 2
            elif amount <= remaining + _EPSILON:
                remaining = max(remaining - amount, 0.0)
                r_outcome[j], r_balance[j] = 3, remaining
            else:
                r_outcome[j], r_balance[j] = 4, remaining
        selected[reserved[r_outcome == 3]] = True
        stop_at: str | None = None
        strict = rules.orcamento.estrito
        for j, amount in enumerate(municipal[ranked].tolist()):
            if stop_at is not None:
                outcome[j], stopped[j] = 1, stop_at
            elif math.isnan(amount):
                outcome[j] = 2
                stop_at = text_protocol[ranked[j]] if strict else None
            elif amount <= remaining + _EPSILON:
                remaining = max(remaining - amount, 0.0)
                outcome[j], balance[j] = 3, remaining
            else:
                outcome[j], balance[j] = 4, remaining
                stop_at = text_protocol[ranked[j]] if strict else None
        selected[ranked[outcome == 3]] = True
    situation[ranked] = np.where(selected[ranked], "classificado", "aguardando_orcamento")
    motive[ranked] = (
        _ranked_texts(rows, ranked, total, share, keys, values, order, text_protocol)
        + _budget_texts(municipal[ranked], outcome, balance, stopped, budget is None)
        + _art12_sign(rows, ranked)
        + "."
    )
    pending_rows = in_order[is_pending]
    proof = situation[pending_rows] == "pendente_comprovacao"
    motive[pending_rows[proof]] = _pending_texts(pending_rows[proof], total, would_be[proof])
    motive[pending_rows[~proof]] = _location_texts(
        rows, pending_rows[~proof], total, would_be[~proof], rules
    )
    motive[reserved] = _reserved_texts(
        rows, reserved, situation, share, municipal, r_outcome, r_balance, budget is None
    )

    out = table.copy()
    out["situacao"] = pd.Series(situation, index=table.index, dtype="object")
    out["posicao"] = pd.Series(position, index=table.index)
    out["percentual_municipio"] = pd.Series(share, index=table.index, dtype="float64")
    out["custo_municipio_rs"] = pd.Series(municipal, index=table.index, dtype="float64")
    out["selecionado_orcamento"] = pd.Series(selected, index=table.index, dtype="bool")
    out["motivo_situacao"] = pd.Series(list(motive), index=table.index, dtype="object")
    return out


def _budget_texts(
    amount: np.ndarray,
    outcome: np.ndarray,
    balance: np.ndarray,
    stopped: np.ndarray,
    unlimited: bool,
) -> np.ndarray:
    """Write the budget part of each ranked row's reason (see :func:`rank`)."""
    k = len(amount)
    out = np.full(k, "", dtype=object)
    if unlimited:
        shown = _formatted(amount, format_brl)
        shown[np.isnan(amount)] = "desconhecido"
        return "; custo municipal " + shown + " (sem limite de orçamento informado)"
    money, left = _formatted(amount, format_brl), _formatted(balance, format_brl)
    stop = outcome == 1
    out[stop] = (
        "; aguarda orçamento: seleção interrompida no protocolo "
        + stopped[stop]
        + " (orçamento estrito, Art. 13)"
    )
    out[outcome == 2] = "; aguarda orçamento: custo municipal desconhecido (estime o custo da obra)"
    chosen = outcome == 3
    out[chosen] = (
        "; selecionado no orçamento: custo municipal "
        + money[chosen]
        + ", saldo restante "
        + left[chosen]
    )
    waits = outcome == 4
    out[waits] = (
        "; aguarda orçamento: custo municipal " + money[waits] + " excede o saldo de " + left[waits]
    )
    return out


def _reservation_order(rows: pd.DataFrame, reserved: np.ndarray, natural: np.ndarray) -> np.ndarray:
    """Rows reserved in the budget, in the order of their decisions (``ordem_ato``).

    A row without an order (NA) comes after the others, by protocol.
    """
    if len(reserved) == 0:
        return reserved.astype("int64")
    order = _numbers(rows["ordem_ato"]) if "ordem_ato" in rows else np.full(len(rows), np.nan)
    nan, value = _key(order[reserved], False)
    return reserved[np.lexsort((natural[reserved], value, nan))]


def _art12_sign(rows: pd.DataFrame, ranked: np.ndarray) -> np.ndarray:
    """``"; indício ... (Art. 12 §1)"`` for ranked rows with an Art. 12 indication."""
    out = np.full(len(ranked), "", dtype=object)
    if "indicio_art12" not in rows:
        return out
    sign = _flag(rows, "indicio_art12", default=False)[ranked]
    out[sign] = (
        "; indício de via rural de alto fluxo (Art. 12 §1): a execução direta depende de "
        "decisão do Poder Executivo em procedimento administrativo próprio (Art. 12 §2)"
    )
    return out


def _pending_texts(pending: np.ndarray, total: np.ndarray, would_be: np.ndarray) -> np.ndarray:
    """Reason of each request pending proof of hardship: its points and would-be place."""
    if len(pending) == 0:
        return np.zeros(0, dtype=object)
    points = _formatted(total[pending], format_number)
    place = would_be.astype(str).astype(object)
    return (
        "Pendente de comprovação da hipossuficiência (Art. 4, caput e §2): com "
        + points
        + " pontos, ficaria em "
        + place
        + "º na classificação; sem participação do Município e fora do orçamento até a "
        "comprovação (CadÚnico, declaração de renda ou documentos aceitos pela Comissão)."
    )


def _location_texts(
    rows: pd.DataFrame, pending: np.ndarray, total: np.ndarray, would_be: np.ndarray, rules: Rules
) -> np.ndarray:
    """Reason of each request pending location: its uncertainty, points and would-be place.

    It also names what else waits for the place: a missing proof of hardship, an Art. 11
    or Art. 12 decision (reserved in the budget only at a confirmed place).
    """
    if len(pending) == 0:
        return np.zeros(0, dtype=object)
    radius = (
        _numbers(rows["incerteza_m"])[pending]
        if "incerteza_m" in rows
        else np.full(len(pending), np.nan)
    )
    limit = format_number(rules.avaliacao.incerteza_maxima_m.valor)
    size = np.where(
        np.isfinite(radius),
        "incerteza de "
        + _formatted(radius, lambda v: format_number(v, 0))
        + f" m, acima do limite de {limit} m das regras",
        "incerteza desconhecida",
    ).astype(object)
    text = (
        "Pendente de confirmação do local (posição aproximada: "
        + size
        + "): com "
        + _formatted(total[pending], format_number)
        + " pontos no pior caso entre as posições possíveis, ficaria em "
        + would_be.astype(str).astype(object)
        + "º na classificação; sem participação do Município e fora do orçamento até a "
        "Comissão confirmar o local (decisão 'localizacao', com latitude e longitude)"
    )
    proof = _text(rows, "hipossuficiencia")[pending] == "sem_comprovacao"
    art12 = _flag(rows, "art12_decidido", default=False)[pending]
    art11 = _flag(rows, "art11_decidido", default=False)[pending] & ~art12
    text[proof] = text[proof] + ("; falta também comprovar a hipossuficiência (Art. 4, caput e §2)")
    text[art12] = text[art12] + (
        "; a execução direta decidida pelo Poder Executivo (Art. 12) só é reservada no "
        "orçamento com o local confirmado"
    )
    text[art11] = text[art11] + (
        "; a análise direta decidida pela Comissão (Art. 11) só é reservada no orçamento "
        "com o local confirmado"
    )
    return text + "."


def _reserved_texts(
    rows: pd.DataFrame,
    reserved: np.ndarray,
    situation: np.ndarray,
    share: np.ndarray,
    municipal: np.ndarray,
    outcome: np.ndarray,
    balance: np.ndarray,
    unlimited: bool,
) -> np.ndarray:
    """Reason of each Art. 11 / Art. 12 work: the act and its reservation in the budget."""
    m = len(reserved)
    if m == 0:
        return np.zeros(0, dtype=object)
    art12 = situation[reserved] == "execucao_direta_art12"
    procedure = _text(rows, "procedimento_art12")[reserved]
    head = np.where(
        art12,
        "Execução direta pelo Poder Executivo em via rural de alto fluxo (Art. 12), "
        "procedimento administrativo "
        + np.where(procedure != "", procedure, "não informado").astype(object),
        "Interesse estratégico (Art. 11): análise direta pela Comissão, sem a pontuação, "
        "com parecer técnico circunstanciado",
    ).astype(object)
    place = (np.arange(1, m + 1)).astype(str).astype(object)
    money = _formatted(municipal[reserved], format_brl)
    pct = _formatted(share[reserved], format_number)
    left = _formatted(balance, format_brl)
    charge = (
        "; listado à parte da classificação; "
        + place
        + "ª reserva no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal "
        + money
        + " ("
        + pct
        + " %)"
    )
    tail = np.full(m, "", dtype=object)
    if unlimited:
        tail[:] = " (sem limite de orçamento informado)"
    else:
        fits = outcome == 3
        tail[fits] = ", reservado; saldo restante " + left[fits]
        tail[outcome == 4] = ", não cabe no saldo de " + left[outcome == 4] + ": não reservado"
    unknown = np.isnan(municipal[reserved])
    charge[unknown] = (
        "; listado à parte da classificação; "
        + place[unknown]
        + "ª reserva no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal "
        "desconhecido (estime o custo da obra)"
    )
    tail[unknown] = " (sem limite de orçamento informado)" if unlimited else ", não reservado"
    return head + charge + tail + "."


def budget_summary(table: pd.DataFrame, budget: float | None) -> dict[str, Any]:
    """Sum up the budget walk of :func:`rank`: reservations, ranked selection and remainder.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`rank` (``situacao``, ``selecionado_orcamento``,
        ``custo_municipio_rs``).
    budget : float or None
        The budget given to :func:`rank` (``None``: no limit).

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


def _dates_text(days: np.ndarray) -> np.ndarray:
    return _formatted(
        days,
        lambda d: "sem data" if math.isnan(d) else date.fromordinal(int(d)).strftime("%d/%m/%Y"),
    )


def _ranked_texts(
    rows: pd.DataFrame,
    ranked: np.ndarray,
    total: np.ndarray,
    share: np.ndarray,
    keys: list[tuple[np.ndarray, np.ndarray]],
    values: dict[str, np.ndarray],
    order: tuple[str, ...],
    protocol: np.ndarray,
) -> np.ndarray:
    """Reason of each ranked row: position, points, share and any tie-break decided."""
    k = len(ranked)
    if k == 0:
        return np.zeros(0, dtype=object)
    places = np.arange(1, k + 1).astype(str).astype(object)
    text = (
        places
        + "º na classificação por pontuação (Art. 13), com "
        + _formatted(total[ranked], format_number)
        + " pontos; participação do Município de "
        + _formatted(share[ranked], format_number)
        + " % (Art. 4 §1)"
    )
    if k == 1:
        return text
    # ties with the row just ahead: on the total, then the first tie-break key that differs
    row, ahead = ranked[1:], ranked[:-1]

    def differs(key: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        nan, value = key
        return (nan[row] != nan[ahead]) | (value[row] != value[ahead])

    tied = ~differs(keys[0])
    decided = np.full(k - 1, -1, dtype="int64")
    for i, key in enumerate(keys[1:]):
        decided = np.where((decided < 0) & tied & differs(key), i, decided)
    tail = np.full(k - 1, "", dtype=object)
    all_tied = tied & (decided < 0)
    tail[all_tied] = (
        "; empatado com o protocolo "
        + protocol[ahead[all_tied]]
        + " em todos os critérios de desempate do Art. 10 §1, fica atrás pelo número do "
        "protocolo (regra técnica)"
    )
    for i, name in enumerate(order):
        hit = np.flatnonzero(tied & (decided == i))
        if hit.size == 0:
            continue
        a, b = values[name][ahead[hit]], values[name][row[hit]]
        if name == "beneficiarios":
            why = (
                "maior número de beneficiários ("
                + _formatted(a, format_number)
                + " contra "
                + _formatted(b, format_number)
                + " moradores estimados)"
            )
        elif name == "seguranca":
            why = (
                "maior pontuação em segurança ("
                + _formatted(a, format_number)
                + " contra "
                + _formatted(b, format_number)
                + ")"
            )
        elif name == "custo_beneficio":
            why = (
                "melhor relação de custo-benefício ("
                + _formatted(a, format_brl)
                + " contra "
                + _formatted(b, format_brl)
                + " por beneficiário)"
            )
        else:
            why = "protocolo mais antigo (" + _dates_text(a) + " contra " + _dates_text(b) + ")"
        tail[hit] = (
            "; empatado com o protocolo "
            + protocol[ahead[hit]]
            + ", que fica à frente por "
            + why
            + " (Art. 10 §1)"
        )
    text[1:] = text[1:] + tail
    return text
