"""Row-by-row implementations of the array kernels, kept as oracles.

The vectorised :func:`geo_ip.law.ranking.rank`, :func:`geo_ip.law.eligibility.check`, the path
assembly of :class:`geo_ip.network.gridpath.GridNetwork` and the cached
:func:`geo_ip.law.scoring.format_number` must give exactly what these give.

The path assembly and ``format_number`` are the code of geo_ip 0.1.0 before the array
kernels (issue 7). ``rank`` and ``check`` were rewritten row by row for the money
decisions of issue 16 (Art. 11/12 works reserved in the budget, hardship as the
program's condition), from the docstrings of :mod:`geo_ip.law.ranking` and
:mod:`geo_ip.law.eligibility`, not from their code; only the texts were copied. The cases
where the two first disagreed (fixed in the code) are pinned in ``tests/test_kernels.py``.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._util.parse import cell_text, slug, yes_no
from geo_ip.rules.config import Rules
from geo_ip.law.benefits import _as_date, _column, years_before
from geo_ip.law.eligibility import _INPUT_COLUMNS, _USE_LABELS, log
from geo_ip.law.hardship import _ASK, _money
from geo_ip.law.hardship import _number as _elig_number
from geo_ip.law.phrases import REQUEST_TYPES
from geo_ip.requests.intake_checks import request_type
from geo_ip.errors import BudgetError, GeoIPError
from geo_ip.requests.intake import mask_cpf
from geo_ip.requests.cpf import cpf_hashes
from geo_ip.law.budget import _EPSILON, cents
from geo_ip.law.cells import DECIMALS as _DECIMALS
from geo_ip.law.ranking import REQUIRED_COLUMNS

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
    """Natural order of protocol numbers: ``PED-99`` before ``PED-100``; the text last."""
    parts = tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.findall(r"\d+|\D+", text)
    )
    return (*parts, (2, text))


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


def _flag(row: _Row, name: str, default: bool) -> bool:
    """A flag cell; NA (or an absent column) is ``default``."""
    value = row.get(name)
    return default if value is None or pd.isna(value) else bool(value)


def _text(row: _Row, name: str) -> str:
    """Text of an optional cell (``""`` when absent or NA), stripped."""
    value = row.get(name)
    return "" if value is None or pd.isna(value) else str(value).strip()


def _situation(row: _Row) -> str:
    """Situation before the budget (``""``: to be ranked).

    Precedence: erro > pendente_localizacao > execucao_direta_art12 > inelegivel >
    pendente_comprovacao > estrategico_art11, except that an ineligible request whose
    place is uncertain stays inelegivel unless the Executive decided it (Art. 12).
    """
    if _flag(row, "erro", False):
        return "erro"
    if _flag(row, "localizacao_pendente", False) and (
        _flag(row, "art12_decidido", False) or _flag(row, "elegivel", False)
    ):
        return "pendente_localizacao"
    if _flag(row, "art12_decidido", False):
        return "execucao_direta_art12"
    if not _flag(row, "elegivel", False):
        return "inelegivel"
    if _text(row, "hipossuficiencia") == "sem_comprovacao":
        return "pendente_comprovacao"
    if _flag(row, "art11_decidido", False):
        return "estrategico_art11"
    return ""


def _share(total: Any, rules: Rules) -> float:
    """Municipal percentage for a total score (NaN when the score is unknown)."""
    score = _number(total)
    if math.isnan(score):
        return math.nan
    return float(rules.participacao.share_for(max(score, 0.0)))


_ART12_SIGN = (
    "; indício de via rural de alto fluxo (Art. 12 §1): a execução direta depende de "
    "decisão do Poder Executivo em procedimento administrativo próprio (Art. 12 §2)"
)
_ART11_HEAD = (
    "Interesse estratégico (Art. 11): análise direta pela Comissão, sem a pontuação, com "
    "parecer técnico circunstanciado"
)
_ART12_HEAD = (
    "Execução direta pelo Poder Executivo em via rural de alto fluxo (Art. 12), "
    "procedimento administrativo "
)
_RESERVE = "reserva no orçamento (Art. 11, parágrafo único, e Art. 13)"


def rank(table: pd.DataFrame, rules: Rules, budget: float | None) -> pd.DataFrame:
    """Rank, share and select within the budget, one row at a time (see ``ranking.rank``)."""
    if budget is not None and (math.isnan(budget) or budget < 0):
        what = "negativo" if budget < 0 else "inválido (não é um número)"
        raise BudgetError(f"orçamento {what}: {format_brl(budget)}", field="orcamento")
    for name in REQUIRED_COLUMNS:
        if name not in table:
            raise GeoIPError("coluna obrigatória ausente na tabela de classificação", field=name)

    rows = table.reset_index(drop=True)
    n = len(rows)
    records: list[_Row] = [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
    situation = [_situation(row) for row in records]
    motive = [""] * n

    # the municipal share: by the points for the ranked rows (Art. 4 §1), the rules' own
    # for the Art. 11 and 12 works, none for the others
    share = np.full(n, np.nan)
    for i, row in enumerate(records):
        if situation[i] == "":
            share[i] = _share(row["pontuacao_total"], rules)
        elif situation[i] == "estrategico_art11":
            share[i] = float(rules.participacao.percentual_art11.valor)
        elif situation[i] == "execucao_direta_art12":
            share[i] = float(rules.participacao.percentual_art12.valor)
    cost = np.array([_number(row["custo_estimado_rs"]) for row in records], dtype=float)
    municipal = cents(share / 100.0 * cost)

    # rows apart from the list and from the budget: errors and ineligible requests
    for i, row in enumerate(records):
        if situation[i] == "erro":
            if _text(row, "problemas"):
                motive[i] = "Pedido com erro, não classificado (ver problemas)."
            else:
                motive[i] = "Pedido com erro, não classificado."
        elif situation[i] == "inelegivel":
            detail = _text(row, "motivos_inelegibilidade")
            text = "Inelegível ao custeio municipal"
            motive[i] = (f"{text}: {detail}" if detail else text) + "."

    selected = np.zeros(n, dtype=bool)
    remaining = math.inf if budget is None else float(budget)

    # 1. the Art. 11 and 12 works, in the order of their decisions (NA last, then by protocol)
    def decision_order(i: int) -> tuple[Any, ...]:
        order_number = _number(records[i].get("ordem_ato"))
        return (_asc(order_number), _natural(str(records[i]["protocolo"])))

    reserved = [
        i for i in range(n) if situation[i] in ("estrategico_art11", "execucao_direta_art12")
    ]
    reserved.sort(key=decision_order)
    for place, i in enumerate(reserved, start=1):
        row = records[i]
        if situation[i] == "execucao_direta_art12":
            head = _ART12_HEAD + (_text(row, "procedimento_art12") or "não informado")
        else:
            head = _ART11_HEAD
        amount = municipal[i]
        charge = (
            f"; listado à parte da classificação; {place}ª {_RESERVE}: custo municipal "
            f"{format_brl(amount)} ({format_number(share[i])} %)"
        )
        if math.isnan(amount):
            charge = (
                f"; listado à parte da classificação; {place}ª {_RESERVE}: custo municipal "
                "desconhecido (estime o custo da obra)"
            )
        if budget is None:
            selected[i] = True
            charge += " (sem limite de orçamento informado)"
        elif math.isnan(amount):
            charge += ", não reservado"
        elif amount <= remaining + _EPSILON:
            remaining = max(remaining - amount, 0.0)
            selected[i] = True
            charge += f", reservado; saldo restante {format_brl(remaining)}"
        else:
            charge += f", não cabe no saldo de {format_brl(remaining)}: não reservado"
        motive[i] = head + charge + "."

    # 2. the ranked list, with the pending requests sorted among them (never selected)
    order = tuple(rules.desempate.ordem)
    pending = ("pendente_comprovacao", "pendente_localizacao")
    candidates = [i for i in range(n) if situation[i] in ("", *pending)]
    candidates.sort(key=lambda i: _sort_key(records[i], order))
    ranked = [i for i in candidates if situation[i] == ""]
    position = pd.array([pd.NA] * n, dtype="Int64")
    ahead = 0
    for i in candidates:
        if situation[i] == "pendente_comprovacao":
            motive[i] = (
                "Pendente de comprovação da hipossuficiência (Art. 4, caput e §2): com "
                f"{format_number(_number(records[i]['pontuacao_total']))} pontos, ficaria em "
                f"{ahead + 1}º na classificação; sem participação do Município e fora do "
                "orçamento até a comprovação (CadÚnico, declaração de renda ou documentos "
                "aceitos pela Comissão)."
            )
        elif situation[i] == "pendente_localizacao":
            motive[i] = _location_text(records[i], ahead + 1, rules)
        else:
            ahead += 1
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
        if _flag(records[i], "indicio_art12", False):
            text += _ART12_SIGN
        motive[i] = text + "."

    out = table.copy()
    out["situacao"] = pd.Series(situation, index=table.index, dtype="object")
    out["posicao"] = pd.Series(position, index=table.index)
    out["percentual_municipio"] = pd.Series(share, index=table.index, dtype="float64")
    out["custo_municipio_rs"] = pd.Series(municipal, index=table.index, dtype="float64")
    out["selecionado_orcamento"] = pd.Series(selected, index=table.index, dtype="bool")
    out["motivo_situacao"] = pd.Series(motive, index=table.index, dtype="object")
    return out


def _location_text(row: _Row, place: int, rules: Rules) -> str:
    """Reason of a request pending location (see ``ranking._location_texts``)."""
    limit = format_number(rules.avaliacao.incerteza_maxima_m.valor)
    radius = _number(row.get("incerteza_m"))
    size = (
        f"incerteza de {format_number(radius, 0)} m, acima do limite de {limit} m das regras"
        if math.isfinite(radius)
        else "incerteza desconhecida"
    )
    text = (
        f"Pendente de confirmação do local (posição aproximada: {size}): com "
        f"{format_number(_number(row['pontuacao_total']))} pontos no pior "
        f"caso entre as posições possíveis, ficaria em {place}º na classificação; sem "
        "participação do Município e fora do orçamento até a Comissão confirmar o local "
        "(decisão 'localizacao', com latitude e longitude)"
    )
    if _text(row, "hipossuficiencia") == "sem_comprovacao":
        text += "; falta também comprovar a hipossuficiência (Art. 4, caput e §2)"
    if _flag(row, "art12_decidido", False):
        text += (
            "; a execução direta decidida pelo Poder Executivo (Art. 12) só é reservada no "
            "orçamento com o local confirmado"
        )
    elif _flag(row, "art11_decidido", False):
        text += (
            "; a análise direta decidida pela Comissão (Art. 11) só é reservada no orçamento "
            "com o local confirmado"
        )
    return text + "."


def budget_summary(table: pd.DataFrame, budget: float | None) -> dict[str, Any]:
    """Re-walk the budget of a ranked table row by row (see ``budget.budget_summary``).

    The reserved works first, in the order of their decisions, then the selected ranked
    rows: the balances are what is left after each part, in centavos.
    """
    reserved_rs = ranked_rs = 0.0
    reservations = unreserved = chosen = 0
    for situation, picked, cost in zip(
        table["situacao"], table["selecionado_orcamento"], table["custo_municipio_rs"],
        strict=True,
    ):  # fmt: skip
        amount = 0.0 if pd.isna(cost) else float(cost)
        if situation in ("estrategico_art11", "execucao_direta_art12"):
            if picked:
                reservations += 1
                reserved_rs += amount
            else:
                unreserved += 1
        elif picked:
            chosen += 1
            ranked_rs += amount
    after = None if budget is None else round(budget - reserved_rs, 2)
    return {
        "orcamento_rs": budget,
        "reservado_rs": round(reserved_rs, 2),
        "reservas": reservations,
        "reservas_sem_saldo": unreserved,
        "saldo_apos_reservas_rs": after,
        "classificados_rs": round(ranked_rs, 2),
        "selecionados": chosen,
        "saldo_final_rs": None if after is None else round(after - ranked_rs, 2),
    }


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

_PUBLIC_HARDSHIP = {
    "cadunico": "comprovada",
    "declaracao": "comprovada",
    "aceita_comissao": "comprovada",
    "acima_do_limite": "não comprovada",
    "sem_comprovacao": "pendente",
    "nao_exigida": "não exigida",
}


def _limits_text(rules: Rules) -> str:
    """The income limits of the regulation in words."""
    hs = rules.hipossuficiencia
    parts = []
    if hs.per_capita_limit_rs is not None:
        parts.append(f"renda per capita até {_money(hs.per_capita_limit_rs)}")
    if hs.family_limit_rs is not None:
        parts.append(f"renda familiar até {_money(hs.family_limit_rs)}")
    return " ou ".join(parts)


def _missing_proof(rules: Rules) -> str:
    return (
        "falta comprovar a hipossuficiência financeira (Art. 4 §2): inscrição ativa no "
        "CadÚnico (I), declaração de composição familiar e renda dentro do limite — "
        f"{_limits_text(rules)} (II, Art. 2, IV) — ou outros documentos aceitos pela "
        "Comissão (III)"
    )


def _use_and_hardship(
    row: dict[str, object], rules: Rules, accepted: bool
) -> tuple[list[tuple[str, str]], list[str], list[str], str]:
    """Art. 4 and Art. 5, I for one request.

    Returns (reasons as (articles, text), use notes, hardship notes, hardship status).
    """
    el, hs = rules.elegibilidade, rules.hipossuficiencia
    limits = _limits_text(rules)
    pc_limit, fam_limit = hs.per_capita_limit_rs, hs.family_limit_rs
    use, mei, cad = slug(cell_text(row["uso_imovel"])), yes_no(row["mei"]), yes_no(row["cadunico"])
    income, people = _elig_number(row["renda_familiar"]), _elig_number(row["moradores"])
    homes = _elig_number(row["residencias"])
    family = people / homes if homes > 1 else people
    per_capita = income / family if family > 0 else math.nan

    # Art. 2, IV: within either limit proves (§2, II); above every limit that can be
    # tested with the declaration is over the limit
    within = False
    testable = False
    if pc_limit is not None and not math.isnan(per_capita):
        testable = True
        within = within or per_capita <= pc_limit + 1e-9
    if fam_limit is not None and not math.isnan(income):
        testable = True
        within = within or income <= fam_limit + 1e-9
    above = testable and not within
    kind = request_type(cell_text(row["tipo"])) or ""
    if kind and kind not in hs.tipos:
        status = "nao_exigida"
    elif cad is True:
        status = "cadunico"
    elif within:
        status = "declaracao"
    elif accepted:
        status = "aceita_comissao"
    elif above:
        status = "acima_do_limite"
    else:
        status = "sem_comprovacao"
    if cad is True:
        how = "inscrição no CadÚnico"
    elif within:
        how = "renda declarada dentro do limite"
    elif accepted:
        how = "documentos aceitos pela Comissão"
    else:
        how = ""

    reasons: list[tuple[str, str]] = []
    use_notes: list[str] = []
    hardship_notes: list[str] = []
    mei_without_proof = False
    if use in {slug(u) for u in el.usos_inelegiveis}:
        label = _USE_LABELS.get(use, use)
        if mei is True and how:
            use_notes.append(
                f"Art. 5, I: imóvel de uso {label} de MEI em hipossuficiência comprovada "
                f"({how}): elegível pela exceção; a Comissão confere"
            )
        elif mei is True:
            mei_without_proof = True
            reasons.append(
                (
                    "Art. 5, I",
                    f"Art. 5, I: imóvel de uso {label}; o solicitante é MEI, mas sem "
                    "hipossuficiência comprovada (nem inscrição no CadÚnico nem renda "
                    f"declarada dentro do limite: {limits})",
                )
            )
        else:
            who = "não é MEI" if mei is False else "não informou se é MEI"
            reasons.append(("Art. 5, I", f"Art. 5, I: imóvel de uso {label} e o solicitante {who}"))
    elif use == "misto":
        use_notes.append(
            "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
            "verifica o uso"
        )
    elif not use:
        use_notes.append("Art. 5, I: uso do imóvel não informado; considerado residencial")
    elif use != "residencial":
        shown = cell_text(row["uso_imovel"])[:40]
        use_notes.append(
            f"Art. 5, I: uso do imóvel não reconhecido ('{shown}'); a Comissão verifica"
        )

    # Art. 4: the hardship reason comes first among the reasons
    if status == "acima_do_limite":
        text = (
            f"Art. 4, caput e Art. 2, IV: renda declarada acima do limite ({limits}), sem "
            "inscrição no CadÚnico nem documentos aceitos pela Comissão"
        )
        reasons.insert(0, ("Art. 4, caput; Art. 2, IV", text))
    elif status == "sem_comprovacao" and not mei_without_proof:
        if math.isnan(income):
            detail = " (sem inscrição no CadÚnico nem declaração de renda)"
        elif math.isnan(per_capita):
            detail = (
                " (renda familiar declarada sem o número de moradores: renda per capita não "
                "calculada)"
            )
        else:
            detail = ""
        hardship_notes.append(
            f"Art. 4 §2: hipossuficiência não comprovada{detail}; pedido pendente de "
            f"comprovação, sem participação do Município até lá; {_ASK}"
        )
    elif status == "aceita_comissao":
        hardship_notes.append(
            "Art. 4 §2, III: hipossuficiência aceita pela Comissão com outros documentos"
        )
    elif status == "cadunico" and above:
        hardship_notes.append(
            "Art. 4 §2, I: inscrito no CadÚnico (comprova a hipossuficiência), mas a renda "
            f"declarada passa do limite ({limits}, Art. 2, IV); a Comissão confere"
        )
    return reasons, use_notes, hardship_notes, status


def _previous_benefit(
    row: dict[str, object],
    events: list[tuple[date, str, str]] | None,
    start: date,
    years: float,
) -> tuple[list[str], list[str], list[str]]:
    """Art. 5, II for one request (``events``: its CPF's history).

    Returns (reasons, notes on benefits of other types, note on a justified identical one).
    """
    reasons: list[str] = []
    others: list[str] = []
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
            others.append(
                f"Art. 5, II: benefício de outro tipo ({REQUEST_TYPES.get(tipo, tipo)}) em "
                f"{day.strftime('%d/%m/%Y')} ({where}): "
                "não é idêntico"
            )
    recent = [e for e in found if e[0] >= start]
    if recent:
        day, source = max(recent, key=lambda e: e[0])
        n_years = f"{years:g}".replace(".", ",")
        when = f"em {day.strftime('%d/%m/%Y')} ({source}), nos últimos {n_years} anos"
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
    return reasons, others, notes


def check(
    requests: pd.DataFrame,
    rules: Rules,
    *,
    history: pd.DataFrame | None = None,
    reference_date: date,
    key: bytes,
    mask: bool = True,
    accepted: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check hardship, Art. 5 and the Art. 11 marking, one row at a time (see ``check``)."""
    out = requests.copy()
    n = len(out)
    years = rules.elegibilidade.anos_beneficio_identico.valor
    start = years_before(reference_date, years)
    data = {c: _column(out, c) for c in _INPUT_COLUMNS}
    hashes = cpf_hashes(pd.Series(data["cpf_solicitante"], dtype=object), key).tolist()
    past = _history_events(history, key)
    if past is None:
        log.info("elegibilidade sem histórico de benefícios: Art. 5, II só pelo pedido")
    decided = dict(accepted or {})
    same_cpf: dict[str, list[str]] = {}
    for h, protocol in zip(hashes, data["protocolo"], strict=True):
        if h:
            same_cpf.setdefault(h, []).append(cell_text(protocol))

    columns: dict[str, list[object]] = {
        name: []
        for name in (
            "elegivel", "motivos_inelegibilidade", "fundamento_inelegibilidade",
            "avisos_elegibilidade", "hipossuficiencia", "condicao_hipossuficiencia",
            "pendencia_hipossuficiencia", "pedido_estrategico",
        )
    }  # fmt: skip
    for i in range(n):
        row = {c: values[i] for c, values in data.items()}
        protocol = cell_text(row["protocolo"])
        reasons, use_notes, hardship_notes, status = _use_and_hardship(
            row, rules, protocol in decided
        )
        events = past.get(hashes[i], []) if past is not None and hashes[i] else None
        benefit_reasons, other_benefits, identical = _previous_benefit(row, events, start, years)
        reasons += [("Art. 5, II", r) for r in benefit_reasons]
        notes = use_notes + hardship_notes
        if protocol in decided:
            notes.append("Art. 4 §2, III: decisão da Comissão — " + decided[protocol])
        notes += other_benefits + identical
        if past is not None and not hashes[i]:
            notes.append(
                "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no "
                "histórico"
            )
        others = list(same_cpf.get(hashes[i], []))
        if others:
            others.remove(protocol)
        if others:
            notes.append(
                "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: "
                f"{', '.join(others)}; a Comissão verifica"
            )
        flagged = yes_no(row["estrategico"]) is True
        justified = bool(cell_text(row["justificativa_estrategica"]))
        if flagged and not justified:
            notes.append(
                "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
                "expressa; não é tratado como Art. 11"
            )
        elif flagged:
            notes.append(
                "Art. 11: marcado como estratégico, com justificativa; a dispensa da pontuação "
                "depende de parecer técnico circunstanciado da Comissão (decisão com "
                "criterio = art11, Art. 11, parágrafo único)"
            )
        columns["elegivel"].append(not reasons)
        columns["motivos_inelegibilidade"].append(" | ".join(t for _a, t in reasons if t))
        columns["fundamento_inelegibilidade"].append("; ".join(a for a, _text in reasons))
        columns["avisos_elegibilidade"].append(" | ".join(notes))
        columns["hipossuficiencia"].append(status)
        columns["condicao_hipossuficiencia"].append(_PUBLIC_HARDSHIP[status])
        columns["pendencia_hipossuficiencia"].append(
            _missing_proof(rules) if status == "sem_comprovacao" else ""
        )
        columns["pedido_estrategico"].append(flagged and justified)

    def column(values: list[object], dtype: type) -> pd.Series:
        return pd.Series(values, index=out.index, dtype=dtype)

    for name, values in columns.items():
        out[name] = column(values, bool if name in ("elegivel", "pedido_estrategico") else str)
    out["cpf_hash"] = column(list(hashes), str)
    if mask and "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = [
            cell_text(v) if cell_text(v).startswith("***") else mask_cpf(v)
            for v in out["cpf_solicitante"]
        ]
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
        tipo = request_type(cell_text(tipo_v)) or ""
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
