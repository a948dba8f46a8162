"""Ranking of the requests, tie-break, municipal cost share and budget selection (pure).

:func:`rank` implements Art. 13 (decreasing total score, Art. 11 and 12 requests
apart, subject to the budget), the tie-break of Art. 10 §1 in the order given by
``rules.desempate.ordem``, and the municipal share of Art. 4 §1 from
``rules.participacao``.

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

from geo_ip.config import CRITERIA, Rules
from geo_ip.errors import BudgetError, GeoIPError
from geo_ip.scoring import format_brl, format_number

__all__ = ["RANKING_COLUMNS", "SITUACOES", "BudgetError", "rank"]

SITUACOES = (
    "classificado",
    "aguardando_orcamento",
    "inelegivel",
    "estrategico_art11",
    "candidato_art12",
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
    "estrategico_art11",
    "candidato_art12",
)
"""Columns :func:`rank` needs."""

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


def _desc(value: float) -> tuple[bool, float]:
    """Key for "larger first, NaN last"."""
    return (math.isnan(value), 0.0 if math.isnan(value) else -value)


def _asc(value: float) -> tuple[bool, float]:
    """Key for "smaller first, NaN last"."""
    return (math.isnan(value), 0.0 if math.isnan(value) else value)


_Row = dict[str, Any]
_TieKey = Callable[[_Row], tuple[bool, float]]
_TIE_KEYS: dict[str, _TieKey] = {
    # Art. 10 §1: "maior número de beneficiários" — the estimated residents, not the points.
    "beneficiarios": lambda row: _desc(_number(row["moradores_estimados"])),
    # "maior pontuação em segurança pública e segurança viária".
    "seguranca": lambda row: _desc(_number(row["pont_seguranca"])),
    # "melhor relação de custo-benefício": the lower cost per beneficiary.
    "custo_beneficio": lambda row: _asc(_number(row["custo_por_beneficiario_rs"])),
    # "antiguidade do protocolo": the older protocol first.
    "antiguidade_protocolo": lambda row: _asc(
        math.nan if (day := _day(row["data_protocolo"])) is None else float(day)
    ),
}


def _sort_key(row: _Row, order: tuple[str, ...]) -> tuple[Any, ...]:
    """Full ranking key of a row: total, the tie-break keys in order, protocol number."""
    keys: list[Any] = [_desc(_number(row["pontuacao_total"]))]
    keys.extend(_TIE_KEYS[name](row) for name in order)
    keys.append(_natural(str(row["protocolo"])))
    return tuple(keys)


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of protocol numbers: ``PED-99`` before ``PED-100``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.findall(r"\d+|\D+", text)
    )


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


def _tie_text(name: str, ahead: _Row, row: _Row) -> str:
    """Why ``ahead`` comes before ``row`` on tie-break key ``name`` (Portuguese)."""
    if name == "beneficiarios":
        a, b = _number(ahead["moradores_estimados"]), _number(row["moradores_estimados"])
        return (
            f"maior número de beneficiários ({format_number(a)} contra "
            f"{format_number(b)} moradores estimados)"
        )
    if name == "seguranca":
        a, b = _number(ahead["pont_seguranca"]), _number(row["pont_seguranca"])
        return f"maior pontuação em segurança ({format_number(a)} contra {format_number(b)})"
    if name == "custo_beneficio":
        a, b = (
            _number(ahead["custo_por_beneficiario_rs"]),
            _number(row["custo_por_beneficiario_rs"]),
        )
        return (
            f"melhor relação de custo-benefício ({format_brl(a)} contra {format_brl(b)} "
            "por beneficiário)"
        )
    days = [_day(ahead["data_protocolo"]), _day(row["data_protocolo"])]
    shown = [
        date.fromordinal(d).strftime("%d/%m/%Y") if d is not None else "sem data" for d in days
    ]
    return f"protocolo mais antigo ({shown[0]} contra {shown[1]})"


# ---------------------------------------------------------------------------
# Situation of each row
# ---------------------------------------------------------------------------
def _flag(table: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    """Boolean array of a flag column; NA becomes ``default``."""
    values = [default if pd.isna(v) else bool(v) for v in table[name].astype("object")]
    return np.array(values, dtype=bool).reshape(len(table))


def _text(table: pd.DataFrame, name: str) -> list[str]:
    """Strings of an optional column (``""`` when absent or NA)."""
    if name not in table:
        return [""] * len(table)
    return ["" if pd.isna(v) else str(v).strip() for v in table[name].astype("object")]


def _with_detail(text: str, detail: str) -> str:
    return f"{text}: {detail}" if detail else text


def _apart_reasons(table: pd.DataFrame) -> dict[str, list[str]]:
    """Reason texts of the rows that are not ranked, by situation."""
    problems = _text(table, "problemas")
    ineligible = _text(table, "motivos_inelegibilidade")
    art11 = _text(table, "justificativa_estrategica")
    art12 = _text(table, "motivo_art12")
    return {
        # the problems themselves are in the problemas column, beside this one
        "erro": [
            "Pedido com erro, não classificado (ver problemas)"
            if p
            else "Pedido com erro, não classificado"
            for p in problems
        ],
        "inelegivel": [
            _with_detail("Inelegível ao custeio municipal (Art. 5)", m) for m in ineligible
        ],
        "estrategico_art11": [
            _with_detail(
                "Interesse estratégico (Art. 11): análise direta pela Comissão, sem "
                "submissão obrigatória à pontuação; listado à parte da classificação",
                j,
            )
            for j in art11
        ],
        "candidato_art12": [
            _with_detail(
                "Via rural de alto fluxo (Art. 12): o Poder Executivo pode executar "
                "diretamente, em procedimento próprio; listado à parte da classificação",
                m.rstrip("."),
            )
            for m in art12
        ],
    }


def _situation(table: pd.DataFrame) -> np.ndarray:
    """Situation before the budget: ``erro > inelegivel > estrategico_art11 > candidato_art12``.

    Rows with none of these flags are ``""`` (to be ranked).
    """
    error = _flag(table, "erro", default=False)
    eligible = _flag(table, "elegivel", default=False)
    art11 = _flag(table, "estrategico_art11", default=False)
    art12 = _flag(table, "candidato_art12", default=False)
    return np.select(
        [error, ~eligible, art11, art12],
        ["erro", "inelegivel", "estrategico_art11", "candidato_art12"],
        default="",
    )


def _share(total: Any, rules: Rules) -> float:
    """Municipal percentage for a total score (NaN when the score is unknown)."""
    score = _number(total)
    if math.isnan(score):
        return math.nan
    return float(rules.participacao.share_for(max(score, 0.0)))


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
        and the flags ``erro``, ``elegivel``, ``estrategico_art11``,
        ``candidato_art12`` (NA counts as False, and as not eligible for
        ``elegivel``). Optional ``problemas``, ``motivos_inelegibilidade``,
        ``justificativa_estrategica`` and ``motivo_art12`` are quoted in the reasons.
    rules : Rules
        Municipality rules: ``desempate.ordem`` (Art. 10 §1), ``participacao``
        (Art. 4 §1) and ``orcamento.estrito``.
    budget : float or None
        Amount available for the works, in R$. It pays the **municipal part** of
        each work (``custo_municipio_rs``, Art. 4), not its total cost. ``None``
        means no limit: every ranked request is selected.

    Returns
    -------
    DataFrame
        A copy of ``table`` (same index and row order) with :data:`RANKING_COLUMNS`:

        - ``situacao``: ``erro`` > ``inelegivel`` > ``estrategico_art11`` >
          ``candidato_art12`` take precedence in that order; the other rows are ranked
          and are ``classificado`` when selected within the budget, else
          ``aguardando_orcamento``;
        - ``posicao`` (Int64): 1..k among the ranked rows, NA for the others. Order:
          ``pontuacao_total`` descending, then the keys of ``rules.desempate.ordem``
          (beneficiarios: more ``moradores_estimados``; seguranca: more
          ``pont_seguranca``; custo_beneficio: lower ``custo_por_beneficiario_rs``;
          antiguidade_protocolo: older ``data_protocolo``; unknown values last),
          then ``protocolo`` as text;
        - ``percentual_municipio``: municipal share (%) by the total score (Art. 4
          §1), for ranked and Art. 11/12 rows; NaN for ``erro`` and ``inelegivel``
          rows and when the total is unknown;
        - ``custo_municipio_rs``: ``percentual_municipio / 100 × custo_estimado_rs``;
        - ``selecionado_orcamento``: walking in ranking order, a row is selected when
          its municipal cost fits the remaining budget; one that does not fit (or whose
          cost is unknown) waits, and later ones are still considered unless
          ``rules.orcamento.estrito``, in which case the selection stops there;
        - ``motivo_situacao``: the reason, in Portuguese.

    Raises
    ------
    BudgetError
        If ``budget`` is negative or not a number.
    GeoIPError
        If a required column is missing.
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
    reasons = _apart_reasons(rows)
    motive = [reasons[s][i] + "." if s else "" for i, s in enumerate(situation)]

    # Art. 4 §1 ties the share to the score: only ranked rows have one. Art. 11 and 12
    # requests skip the points, so their share is the commission's (left blank).
    share = np.full(n, np.nan)
    for i in range(n):
        if situation[i] == "":
            share[i] = _share(rows.at[i, "pontuacao_total"], rules)
    cost = np.array([_number(v) for v in rows["custo_estimado_rs"]], dtype=float)
    municipal = cents(share / 100.0 * cost)

    order = tuple(rules.desempate.ordem)
    ranked = [i for i in range(n) if situation[i] == ""]
    records: list[_Row] = [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
    ranked.sort(key=lambda i: _sort_key(records[i], order))
    position = pd.array([pd.NA] * n, dtype="Int64")
    selected = np.zeros(n, dtype=bool)
    remaining = math.inf if budget is None else float(budget)
    stopped_at: str | None = None
    for place, i in enumerate(ranked, start=1):
        position[i] = place
        text = _ranked_text(records, ranked, place, order, rules)
        amount = municipal[i]
        if budget is None:
            situation[i], selected[i] = "classificado", True
            shown = "desconhecido" if math.isnan(amount) else format_brl(amount)
            text += f"; custo municipal {shown} (sem limite de orçamento informado)"
        elif stopped_at is not None:
            situation[i] = "aguardando_orcamento"
            text += (
                f"; aguarda orçamento: seleção interrompida no protocolo {stopped_at} "
                "(orçamento estrito, Art. 13)"
            )
        elif math.isnan(amount):
            situation[i] = "aguardando_orcamento"
            text += "; aguarda orçamento: custo municipal desconhecido (estime o custo da obra)"
            if rules.orcamento.estrito:
                stopped_at = str(records[i]["protocolo"])
        elif amount <= remaining + _EPSILON:
            remaining = max(remaining - amount, 0.0)
            situation[i], selected[i] = "classificado", True
            text += (
                f"; selecionado no orçamento: custo municipal {format_brl(amount)}, "
                f"saldo restante {format_brl(remaining)}"
            )
        else:
            situation[i] = "aguardando_orcamento"
            text += (
                f"; aguarda orçamento: custo municipal {format_brl(amount)} excede o saldo de "
                f"{format_brl(remaining)}"
            )
            if rules.orcamento.estrito:
                stopped_at = str(records[i]["protocolo"])
        motive[i] = text + "."

    out = table.copy()
    out["situacao"] = pd.Series(situation, index=table.index, dtype="object")
    out["posicao"] = pd.Series(position, index=table.index)
    out["percentual_municipio"] = pd.Series(share, index=table.index, dtype="float64")
    out["custo_municipio_rs"] = pd.Series(municipal, index=table.index, dtype="float64")
    out["selecionado_orcamento"] = pd.Series(selected, index=table.index, dtype="bool")
    out["motivo_situacao"] = pd.Series(motive, index=table.index, dtype="object")
    return out


def _ranked_text(
    records: list[_Row], ranked: list[int], place: int, order: tuple[str, ...], rules: Rules
) -> str:
    """Reason text of a ranked row: position, points, share and any tie-break decided."""
    i = ranked[place - 1]
    row = records[i]
    total = _number(row["pontuacao_total"])
    share = _share(total, rules)
    text = (
        f"{place}º na classificação por pontuação (Art. 13), com "
        f"{format_number(total)} pontos; participação do Município de "
        f"{format_number(share)} % (Art. 4 §1)"
    )
    if place == 1:
        return text
    ahead = records[ranked[place - 2]]
    if _desc(_number(ahead["pontuacao_total"])) != _desc(total):
        return text
    for name in order:
        if _TIE_KEYS[name](ahead) != _TIE_KEYS[name](row):
            return (
                f"{text}; empatado com o protocolo {ahead['protocolo']}, que fica à frente por "
                f"{_tie_text(name, ahead, row)} (Art. 10 §1)"
            )
    return (
        f"{text}; empatado com o protocolo {ahead['protocolo']} em todos os critérios de "
        "desempate do Art. 10 §1, fica atrás pelo número do protocolo (regra técnica)"
    )
