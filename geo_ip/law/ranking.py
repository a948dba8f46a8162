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

The order (:mod:`geo_ip.law.order`) is a total order on the rows' contents (the
request number is the last key), so it does not depend on the order of the input rows,
and adding a request never changes the relative order of the others. The budget walk
and its summary are :mod:`geo_ip.law.budget`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl, format_number
from geo_ip.errors import BudgetError, GeoIPError
from geo_ip.law.budget import RESERVED, Walk, budget_texts, cents, reserved_texts, walk_budget
from geo_ip.law.cells import flags, formatted, numbers, texts
from geo_ip.law.order import Ordering, ranked_texts, sort_requests
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import RANKING

__all__ = [
    "PENDING",
    "RANKING_COLUMNS",
    "SITUACOES",
    "BudgetError",
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

RANKING_COLUMNS = tuple(RANKING)
"""Columns added (or replaced) by :func:`rank`, in order (:data:`geo_ip.schema.RANKING`)."""

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
PENDING = ("pendente_localizacao", "pendente_comprovacao")
"""Situations scored and placed among the ranked requests, but never given a share."""

_DTYPES = {
    "situacao": "object",
    "posicao": "Int64",
    "percentual_municipio": "float64",
    "custo_municipio_rs": "float64",
    "selecionado_orcamento": "bool",
    "motivo_situacao": "object",
}
"""Type of each of :data:`RANKING_COLUMNS`."""


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
        problems = texts(table.iloc[rows["erro"]], "problemas")
        out[rows["erro"]] = np.where(
            problems != "",
            "Pedido com erro, não classificado (ver problemas)",
            "Pedido com erro, não classificado",
        )
    if len(rows["inelegivel"]):
        detail = texts(table.iloc[rows["inelegivel"]], "motivos_inelegibilidade")
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
    error = flags(table, "erro", default=False)
    eligible = flags(table, "elegivel", default=False)
    art11 = flags(table, "art11_decidido", default=False)
    art12 = flags(table, "art12_decidido", default=False)
    pending = texts(table, "hipossuficiencia") == "sem_comprovacao"
    place = (
        flags(table, "localizacao_pendente", default=False)
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


def _municipal_share(
    situation: np.ndarray, total: np.ndarray, cost: np.ndarray, rules: Rules
) -> tuple[np.ndarray, np.ndarray]:
    """Municipal share (%) and municipal cost (R$, in centavos) of every row.

    Art. 4 §1 ties the share to the score: only ranked rows have one by their points;
    Art. 11 and 12 works have the rules' own share; pending and excluded rows none.
    """
    apart = situation != ""
    share = np.where(~apart, _shares(np.where(apart, np.nan, total), rules), np.nan)
    share[situation == "estrategico_art11"] = rules.participacao.percentual_art11.valor
    share[situation == "execucao_direta_art12"] = rules.participacao.percentual_art12.valor
    return share, cents(share / 100.0 * cost)


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
    _check_inputs(table, budget)
    columns = _ranking_columns(table.reset_index(drop=True), rules, budget)
    out = table.copy()
    for name in RANKING_COLUMNS:
        out[name] = pd.Series(columns[name], index=table.index, dtype=_DTYPES[name])
    return out


def _check_inputs(table: pd.DataFrame, budget: float | None) -> None:
    """Raise on a negative or invalid budget and on a missing required column."""
    if budget is not None and (math.isnan(budget) or budget < 0):
        what = "negativo" if budget < 0 else "inválido (não é um número)"
        raise BudgetError(f"orçamento {what}: {format_brl(budget)}", field="orcamento")
    for name in REQUIRED_COLUMNS:
        if name not in table:
            raise GeoIPError("coluna obrigatória ausente na tabela de classificação", field=name)


def _ranking_columns(rows: pd.DataFrame, rules: Rules, budget: float | None) -> dict[str, object]:
    """Compute :data:`RANKING_COLUMNS` for ``rows`` (index ``0..n-1``), step by step.

    Situation before the budget; municipal share; the ranked and pending rows sorted
    together; the budget walk (Art. 11 and 12 works first, then the ranked list); the
    ranked rows selected or waiting; the reasons.
    """
    situation = _situation(rows).astype(object)
    total = numbers(rows["pontuacao_total"])
    share, municipal = _municipal_share(situation, total, numbers(rows["custo_estimado_rs"]), rules)
    ordering = sort_requests(
        rows, total, situation == "", np.isin(situation, PENDING), tuple(rules.desempate.ordem)
    )
    reserved = np.isin(situation, RESERVED)
    walk = walk_budget(rows, municipal, reserved, ordering, budget, rules.orcamento.estrito)
    ranked = ordering.ranked
    situation[ranked] = np.where(walk.selected[ranked], "classificado", "aguardando_orcamento")
    position = pd.array([pd.NA] * len(rows), dtype="Int64")
    position[ranked] = np.arange(1, len(ranked) + 1)
    return {
        "situacao": situation,
        "posicao": position,
        "percentual_municipio": share,
        "custo_municipio_rs": municipal,
        "selecionado_orcamento": walk.selected,
        "motivo_situacao": list(
            _motives(rows, situation, total, share, municipal, ordering, walk, budget, rules)
        ),
    }


def _motives(
    rows: pd.DataFrame,
    situation: np.ndarray,
    total: np.ndarray,
    share: np.ndarray,
    municipal: np.ndarray,
    ordering: Ordering,
    walk: Walk,
    budget: float | None,
    rules: Rules,
) -> np.ndarray:
    """Write the reason of every row (``motivo_situacao``), by its situation."""
    unlimited = budget is None
    motive = np.full(len(rows), "", dtype=object)
    apart = np.isin(situation, ("erro", "inelegivel"))
    motive[apart] = _apart_reasons(rows, situation)[apart] + "."
    ranked = ordering.ranked
    motive[ranked] = (
        ranked_texts(ordering, total, share, tuple(rules.desempate.ordem))
        + budget_texts(municipal[ranked], walk, unlimited)
        + _art12_sign(rows, ranked)
        + "."
    )
    pending, would_be = ordering.pending, ordering.would_be
    proof = situation[pending] == "pendente_comprovacao"
    motive[pending[proof]] = _pending_texts(pending[proof], total, would_be[proof])
    motive[pending[~proof]] = _location_texts(rows, pending[~proof], total, would_be[~proof], rules)
    motive[walk.reserved] = reserved_texts(rows, walk, situation, share, municipal, unlimited)
    return motive


def _art12_sign(rows: pd.DataFrame, ranked: np.ndarray) -> np.ndarray:
    """``"; indício ... (Art. 12 §1)"`` for ranked rows with an Art. 12 indication."""
    out = np.full(len(ranked), "", dtype=object)
    if "indicio_art12" not in rows:
        return out
    sign = flags(rows, "indicio_art12", default=False)[ranked]
    out[sign] = (
        "; indício de via rural de alto fluxo (Art. 12 §1): a execução direta depende de "
        "decisão do Poder Executivo em procedimento administrativo próprio (Art. 12 §2)"
    )
    return out


def _pending_texts(pending: np.ndarray, total: np.ndarray, would_be: np.ndarray) -> np.ndarray:
    """Reason of each request pending proof of hardship: its points and would-be place."""
    if len(pending) == 0:
        return np.zeros(0, dtype=object)
    points = formatted(total[pending], format_number)
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
        numbers(rows["incerteza_m"])[pending]
        if "incerteza_m" in rows
        else np.full(len(pending), np.nan)
    )
    limit = format_number(rules.avaliacao.incerteza_maxima_m.valor)
    size = np.where(
        np.isfinite(radius),
        "incerteza de "
        + formatted(radius, lambda v: format_number(v, 0))
        + f" m, acima do limite de {limit} m das regras",
        "incerteza desconhecida",
    ).astype(object)
    text = (
        "Pendente de confirmação do local (posição aproximada: "
        + size
        + "): com "
        + formatted(total[pending], format_number)
        + " pontos no pior caso entre as posições possíveis, ficaria em "
        + would_be.astype(str).astype(object)
        + "º na classificação; sem participação do Município e fora do orçamento até a "
        "Comissão confirmar o local (decisão 'localizacao', com latitude e longitude)"
    )
    proof = texts(rows, "hipossuficiencia")[pending] == "sem_comprovacao"
    art12 = flags(rows, "art12_decidido", default=False)[pending]
    art11 = flags(rows, "art11_decidido", default=False)[pending] & ~art12
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
