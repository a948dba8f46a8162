"""Row-by-row implementations from before the array kernels (issue 7), kept as oracles.

The vectorised :func:`geo_ip.ranking.rank`, :func:`geo_ip.eligibility.check`, the path
assembly of :class:`geo_ip.gridpath.GridNetwork` and the cached
:func:`geo_ip.scoring.format_number` must give exactly what these gave: the code below
is the code of geo_ip 0.1.0 before that change, verbatim but for the imports and the
names (``rank``, ``check``, ``via_lines``, ``format_number``).
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._parse import cell_text, slug, yes_no
from geo_ip.config import Rules
from geo_ip.eligibility import (
    _ASK,
    _USE_LABELS,
    _INPUT_COLUMNS,
    _as_date,
    _column,
    _money,
    _number as _elig_number,
    _tipo,
    log,
    years_before,
)
from geo_ip.errors import BudgetError, GeoIPError
from geo_ip.intake import mask_cpf
from geo_ip.privacy import cpf_hashes
from geo_ip.ranking import _DECIMALS, _EPSILON, REQUIRED_COLUMNS, cents

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_SAME_EDGE, _VIA_START, _VIA_END = 0, 1, 2


# --- scoring.format_number --------------------------------------------------------------


def format_number(value: float, decimals: int = 1, *, trim: bool = True) -> str:
    """Format a number the Brazilian way (``1.234,5``).

    Parameters
    ----------
    value : float
        The number.
    decimals : int, default 1
        Decimal places.
    trim : bool, default True
        Drop trailing zeros of the decimal part (``120,0`` → ``120``).

    Returns
    -------
    str
        The formatted number; ``"?"`` for NaN.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    text = f"{float(value):,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_brl(value: float) -> str:
    return f"R$ {format_number(value, 2, trim=False)}"


# --- ranking.rank ------------------------------------------------------------------------


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


# --- eligibility.check -------------------------------------------------------------------


def _use_and_hardship(row: dict[str, object], rules: Rules) -> tuple[list[str], list[str]]:
    """Reasons and warnings of Art. 5, I and Art. 4 §2 for one request."""
    el = rules.elegibilidade
    limit = el.renda_per_capita_maxima.valor
    limit_text = _money(limit)
    use, mei, cad = slug(cell_text(row["uso_imovel"])), yes_no(row["mei"]), yes_no(row["cadunico"])
    income, people = _elig_number(row["renda_familiar"]), _elig_number(row["moradores"])
    homes = _elig_number(row["residencias"])
    family = people / homes if homes > 1 else people
    per_capita = income / family if family > 0 else math.nan
    income_ok = per_capita <= limit + 1e-9
    how = "inscrição no CadÚnico" if cad is True else "renda per capita declarada"
    reasons: list[str] = []
    notes: list[str] = []
    if use in {slug(u) for u in el.usos_inelegiveis}:
        label = _USE_LABELS.get(use, use)
        if mei is True and (cad is True or income_ok):
            notes.append(
                f"Art. 5, I: imóvel de uso {label} de MEI em hipossuficiência comprovada "
                f"({how}): elegível pela exceção; a Comissão confere"
            )
        elif mei is True:
            reasons.append(
                f"Art. 5, I: imóvel de uso {label}; o solicitante é MEI, mas sem "
                "hipossuficiência comprovada (nem inscrição no CadÚnico nem renda per capita "
                f"declarada até {limit_text})"
            )
            return reasons, notes  # the reason already says what Art. 4 §2 would
        else:
            who = "não é MEI" if mei is False else "não informou se é MEI"
            reasons.append(f"Art. 5, I: imóvel de uso {label} e o solicitante {who}")
    elif use == "misto":
        notes.append(
            "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
            "verifica o uso"
        )
    elif not use:
        notes.append("Art. 5, I: uso do imóvel não informado; considerado residencial")
    elif use != "residencial":
        shown = cell_text(row["uso_imovel"])[:40]
        notes.append(f"Art. 5, I: uso do imóvel não reconhecido ('{shown}'); a Comissão verifica")

    # Art. 4 §2 — proof of hardship: warnings only (§2, III lets the commission ask).
    if cad is True:
        if per_capita > limit + 1e-9:
            notes.append(
                "Art. 4 §2: inscrito no CadÚnico, mas a renda per capita declarada passa do "
                f"limite de {limit_text} (Art. 2, IV); a Comissão confere"
            )
    elif income_ok:
        pass
    elif not math.isnan(per_capita):
        notes.append(
            "Art. 4 §2: sem inscrição no CadÚnico e com renda per capita declarada acima do "
            f"limite de {limit_text} (Art. 2, IV): hipossuficiência não comprovada; {_ASK}"
        )
    elif not math.isnan(income):
        notes.append(
            "Art. 4 §2: renda familiar declarada sem o número de moradores, renda per capita "
            f"não calculada: hipossuficiência não comprovada; {_ASK}"
        )
    else:
        notes.append(
            "Art. 4 §2: hipossuficiência não comprovada (sem inscrição no CadÚnico nem "
            f"declaração de renda); {_ASK}"
        )
    return reasons, notes


def _previous_benefit(
    row: dict[str, object],
    events: list[tuple[date, str, str]] | None,
    start: date,
    years: float,
) -> tuple[list[str], list[str]]:
    """Reasons and warnings of Art. 5, II for one request (``events``: its CPF's history)."""
    reasons: list[str] = []
    notes: list[str] = []
    found: list[tuple[date, str]] = []
    own = _as_date(row["beneficio_anterior_data"])
    if own is not None:
        found.append((own, "declarado no pedido; tipo presumido idêntico"))
    kind = cell_text(row["tipo"])
    for day, tipo, protocol in events or []:
        where = f"histórico, protocolo {protocol}" if protocol else "histórico"
        if not tipo:
            found.append((day, f"{where}; tipo não informado, presumido idêntico"))
        elif tipo == kind:
            found.append((day, where))
        elif day >= start:
            notes.append(
                f"Art. 5, II: benefício de outro tipo ({tipo}) em {day.isoformat()} ({where}): "
                "não é idêntico"
            )
    recent = [e for e in found if e[0] >= start]
    if recent:
        day, source = max(recent, key=lambda e: e[0])
        n_years = f"{years:g}".replace(".", ",")
        when = f"em {day.isoformat()} ({source}), nos últimos {n_years} anos"
        if cell_text(row["beneficio_anterior_justificativa"]):
            notes.append(
                f"Art. 5, II: benefício idêntico {when}; fato superveniente justificado — a "
                "Comissão decide"
            )
        else:
            reasons.append(
                f"Art. 5, II: benefício idêntico concedido {when}, sem justificativa de fato "
                "superveniente (campo 'beneficio_anterior_justificativa')"
            )
    return reasons, notes


def check(
    requests: pd.DataFrame,
    rules: Rules,
    *,
    history: pd.DataFrame | None = None,
    reference_date: date,
    key: bytes,
    mask: bool = True,
) -> pd.DataFrame:
    """Check Art. 5 eligibility, Art. 4 §2 hardship proof and the Art. 11 flag.

    Parameters
    ----------
    requests : pandas.DataFrame
        The evidence table (or the validated requests) with the columns of
        :data:`_INPUT_COLUMNS` (``protocolo``, ``tipo``, ``uso_imovel``, ``mei``,
        ``cadunico``, ``renda_familiar``, ``moradores``, ``residencias``,
        ``cpf_solicitante``, ``beneficio_anterior_data``,
        ``beneficio_anterior_justificativa``, ``estrategico``,
        ``justificativa_estrategica``); a missing column counts as blank.
    rules : Rules
        ``rules.elegibilidade`` gives the ineligible uses, the years of Art. 5, II and
        the per-capita income limit.
    history : pandas.DataFrame, optional
        Previous benefits from :func:`read_history` (``cpf_hash`` or ``cpf``, ``data``,
        optional ``tipo``, ``protocolo``).
    reference_date : datetime.date
        Date the years of Art. 5, II are counted back from.
    key : bytes
        The LGPD key (:func:`geo_ip.privacy.load_key`), the same as the history's hashes.
    mask : bool, default True
        Return ``cpf_solicitante`` masked (the hash serves every later comparison).

    Returns
    -------
    pandas.DataFrame
        A copy of ``requests`` with :data:`RESULT_COLUMNS` added (rules in the module
        docstring). No text contains a CPF, a name or an income figure.
    """
    out = requests.copy()
    n = len(out)
    years = rules.elegibilidade.anos_beneficio_identico.valor
    start = years_before(reference_date, years)
    data = {c: _column(out, c) for c in _INPUT_COLUMNS}
    hashes = cpf_hashes(pd.Series(data["cpf_solicitante"], dtype=object), key).tolist()
    past = _history_events(history, key)
    if past is None:
        log.info("elegibilidade sem histórico de benefícios: Art. 5, II só pelo pedido")
    same_cpf: dict[str, list[str]] = {}
    for h, protocol in zip(hashes, data["protocolo"], strict=True):
        if h:
            same_cpf.setdefault(h, []).append(cell_text(protocol))

    reasons: list[list[str]] = []
    notes: list[list[str]] = []
    strategic: list[bool] = []
    for i in range(n):
        row = {c: values[i] for c, values in data.items()}
        why, note = _use_and_hardship(row, rules)
        events = past.get(hashes[i], []) if past is not None and hashes[i] else None
        why2, note2 = _previous_benefit(row, events, start, years)
        why, note = why + why2, note + note2
        if past is not None and not hashes[i]:
            note.append(
                "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no "
                "histórico"
            )
        others = list(same_cpf.get(hashes[i], []))
        if others:
            others.remove(cell_text(row["protocolo"]))
        if others:
            note.append(
                "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: "
                f"{', '.join(others)}; a Comissão verifica"
            )
        flagged = yes_no(row["estrategico"]) is True
        justified = bool(cell_text(row["justificativa_estrategica"]))
        if flagged and not justified:
            note.append(
                "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
                "expressa; não é tratado como Art. 11"
            )
        reasons.append(why)
        notes.append(note)
        strategic.append(flagged and justified)

    def column(values: list[object], dtype: type) -> pd.Series:
        return pd.Series(values, index=out.index, dtype=dtype)

    out["elegivel"] = column([not r for r in reasons], bool)
    out["motivos_inelegibilidade"] = column([" | ".join(r) for r in reasons], str)
    articles = ["; ".join(dict.fromkeys(x.split(":")[0] for x in r)) for r in reasons]
    out["fundamento_inelegibilidade"] = column(list(articles), str)
    out["avisos_elegibilidade"] = column([" | ".join(x) for x in notes], str)
    out["estrategico_art11"] = column(list(strategic), bool)
    out["cpf_hash"] = column(list(hashes), str)
    if mask and "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = [
            cell_text(v) if cell_text(v).startswith("***") else mask_cpf(v)
            for v in out["cpf_solicitante"]
        ]
    log.info(
        "elegibilidade: %d pedido(s) elegível(is), %d inelegível(is), %d estratégico(s) (Art. 11)",
        int(out["elegivel"].sum()),
        int((~out["elegivel"]).sum()),
        int(out["estrategico_art11"].sum()),
    )
    return out


def _history_events(
    history: pd.DataFrame | None, key: bytes
) -> dict[str, list[tuple[date, str, str]]] | None:
    """Benefits by CPF hash: (date, canonical type or "", protocol)."""
    if history is None:
        return None
    if "cpf_hash" in history.columns:
        hashes = [cell_text(h).lower() for h in history["cpf_hash"]]
    elif "cpf" in history.columns:
        hashes = cpf_hashes(history["cpf"], key).tolist()
    else:
        raise ValueError("history needs a 'cpf_hash' or 'cpf' column")
    events: dict[str, list[tuple[date, str, str]]] = {}
    rows = zip(
        hashes,
        _column(history, "data"),
        _column(history, "tipo"),
        _column(history, "protocolo"),
        strict=True,
    )
    for h, day_v, tipo_v, protocol_v in rows:
        day = _as_date(day_v)
        if not h or day is None:
            continue
        tipo = _tipo(cell_text(tipo_v)) or ""
        events.setdefault(h, []).append((day, tipo, cell_text(protocol_v)))
    return events


# --- gridpath: per-request path assembly -------------------------------------------------


class PathOracle:
    """The per-request path assembly of the old :class:`GridNetwork`, on a new network."""

    def __init__(self, network: Any) -> None:
        self.net = network
        for name in ("_off", "_xy", "_cum", "_s_edge", "_s_xy", "_s_pos", "_a", "_b", "_len"):
            setattr(self, name, getattr(network, name))

    def _partial(self, edge: int, start: float, end: float) -> FloatArray:
        """Coordinates of ``edge`` from position ``start`` to ``end`` (reversed if end < start)."""
        o0, o1 = self._off[edge], self._off[edge + 1]
        xy, cum = self._xy[o0:o1], self._cum[o0:o1]
        lo, hi = min(start, end), max(start, end)
        inner = xy[(cum > lo) & (cum < hi)]
        ends = np.column_stack(
            [np.interp([lo, hi], cum, xy[:, 0]), np.interp([lo, hi], cum, xy[:, 1])]
        )
        out = np.vstack([ends[:1], inner, ends[1:]])
        return out if start <= end else out[::-1]

    def _from_sample(self, sample: int, to: float) -> FloatArray:
        """Element position → attachment point → along its edge to position ``to``."""
        edge = int(self._s_edge[sample])
        return np.vstack([self._s_xy[sample], self._partial(edge, self._s_pos[sample], to)])

    def _to_node(self, tree: _Tree, node: int, cache: dict[int, FloatArray]) -> FloatArray:
        """Coordinates from the element whose path reaches ``node`` to ``node`` (memoised)."""
        if node in cache:
            return cache[node]
        chain: list[int] = []
        n = node
        while n not in cache and tree.pred[n] >= 0:
            chain.append(n)
            n = int(tree.pred[n])
        if n in cache:
            parts = [cache[n]]
        else:  # n is the root: leave the attachment towards the end of its edge that is n
            q = int(tree.root_sample[n])
            e = int(self._s_edge[q])
            via_a = self._a[e] == n and (self._b[e] != n or self._s_pos[q] <= self._len[e] / 2)
            parts = [self._from_sample(q, 0.0 if via_a else float(self._len[e]))]
        for child in reversed(chain):
            e = int(tree.pred_edge[child])
            xy = self._xy[self._off[e] : self._off[e + 1]]
            parts.append(xy if self._b[e] == child else xy[::-1])
        cache[node] = np.vstack(parts)
        return cache[node]

    def _via_lines(
        self,
        trees: tuple[_Tree | None, _Tree | None],
        second: BoolArray,
        mode: IntArray,
        edge: IntArray,
        t: FloatArray,
        sample: IntArray,
    ) -> npt.NDArray[np.object_]:
        """Path geometries of requests reached along the roads (element → snapped point)."""
        caches: dict[bool, dict[int, FloatArray]] = {False: {}, True: {}}
        pieces = []
        for which, md, e, ti, q in zip(
            second.tolist(), mode.tolist(), edge.tolist(), t.tolist(), sample.tolist(),
            strict=True,
        ):  # fmt: skip
            tree = trees[which]
            assert tree is not None
            if md == _SAME_EDGE:
                pieces.append(self._from_sample(q, ti))
                continue
            node, end = (self._a[e], 0.0) if md == _VIA_START else (self._b[e], self._len[e])
            cache = caches[which]
            pieces.append(
                np.vstack([self._to_node(tree, int(node), cache), self._partial(e, end, ti)])
            )
        if not pieces:
            return np.empty(0, dtype=object)
        coords = np.vstack(pieces)
        idx = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
        step = np.diff(idx) != 0
        keep = np.r_[True, step | np.any(np.diff(coords, axis=0) != 0, axis=1)]
        coords, idx = coords[keep], idx[keep]
        # A request exactly at an element on the road: zero-length, two-point path.
        single = np.flatnonzero(np.bincount(idx, minlength=len(pieces)) == 1)
        first = np.searchsorted(idx, single)
        coords, idx = np.vstack([coords, coords[first]]), np.r_[idx, single]
        order = np.argsort(idx, kind="stable")
        return np.asarray(shapely.linestrings(coords[order], indices=idx[order]), dtype=object)
