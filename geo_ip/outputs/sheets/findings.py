"""What the assessment concluded about one request, as the text of its technical sheet.

The criteria with their points and motivations (Art. 10, V), the final score and
position (Art. 10, VI), the costs and how the budget took the work (Art. 13), the
eligibility with hardship and Arts. 11 and 12, and the alert at the top of a sheet
whose request was not scored or waits for a proof or for its place (:func:`findings`).
Every value is already written the Brazilian way (:mod:`geo_ip.outputs.format`); the
row is that of :func:`geo_ip.requests.privacy.internal_view`, and hardship appears only
as its public condition, never how it was proven.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from geo_ip.outputs.format import (
    MISSING,
    Item,
    Labels,
    as_float,
    br_dates,
    brl,
    clean,
    is_missing,
    num,
    or_missing,
    ordinal,
    pending_place,
    place_ranges,
    worst_case,
    yes_no,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA

__all__ = ["CriterionRow", "findings"]


@dataclass(frozen=True)
class CriterionRow:
    """One criterion of Art. 9 on the sheet (Art. 10, V)."""

    numero: str
    titulo: str
    curto: str
    artigo: str
    maximo: str
    nivel: str
    sugerido: str
    final: str
    alterado: bool
    motivacao: str
    decisao: str


_ROMAN = ("I", "II", "III", "IV", "V")


_SHORT = {
    "beneficiarios": "Beneficiários",
    "seguranca": "Segurança pública e viária",
    "trafego": "Tráfego e fluxo de pedestres",
    "custo_beneficio": "Custo-benefício social",
    "viabilidade": "Viabilidade técnica",
}


def _criteria(row: dict[str, Any], rules: Rules) -> list[CriterionRow]:
    out = []
    for number, c in zip(_ROMAN, CRITERIA, strict=True):
        criterion = getattr(rules.criterios, c)
        changed = row.get(f"alterado_{c}")
        out.append(
            CriterionRow(
                numero=number,
                titulo=criterion.titulo,
                curto=_SHORT.get(c, criterion.titulo),
                artigo=f"Art. 9, {number}",
                maximo=num(criterion.peso.valor, 0),
                nivel=clean(row.get(f"nivel_{c}")) or MISSING,
                sugerido=num(row.get(f"sugerido_{c}"), 1),
                final=num(row.get(f"pont_{c}"), 1),
                alterado=bool(changed) if not is_missing(changed) else False,
                motivacao=or_missing(clean(row.get(f"motivacao_{c}"))),
                decisao=br_dates(clean(row.get(f"decisao_{c}"))),
            )
        )
    return out


_WOULD_BE = re.compile(r"ficaria em (\d+)º")


def _would_be(row: dict[str, Any]) -> str:
    """Place a pending request would have (from ``motivo_situacao``), ``""`` if unknown."""
    match = _WOULD_BE.search(clean(row.get("motivo_situacao")))
    return f"{match[1]}º" if match else ""


def _final(row: dict[str, Any], labels: Labels) -> list[Item]:
    situation = clean(row.get("situacao"))
    position = ordinal(row.get("posicao"))
    pending = {
        "pendente_comprovacao": "pendente de comprovação da hipossuficiência",
        "pendente_localizacao": "pendente de confirmação do local",
    }
    if situation in pending:
        place = _would_be(row)
        position = (
            f"{MISSING} (ficaria em {place}; {pending[situation]})"
            if place
            else f"{MISSING} ({pending[situation]})"
        )
    return [
        Item("Posição (Art. 13)", position),
        Item("Situação", labels.situation(situation) or MISSING),
    ]


def _suggested_total(row: dict[str, Any]) -> str:
    values = [row.get(f"sugerido_{c}") for c in CRITERIA]
    return num(sum(0.0 if is_missing(v) else as_float(v) for v in values), 1)


def _final_sentence(row: dict[str, Any], labels: Labels) -> str:
    situation = clean(row.get("situacao"))
    total = num(row.get("pontuacao_total"), 1)
    if situation == "erro":
        return "Pontuação final: não atribuída — pedido não pontuado (motivo no alto da ficha)."
    if total == MISSING:
        return f"Pontuação final: não atribuída — {labels.situation(situation) or situation}."
    suggested = _suggested_total(row)
    if situation == "pendente_localizacao":
        low = num(row.get("pontuacao_sugerida_min"), 1)
        high = num(row.get("pontuacao_sugerida_max"), 1)
        span = f", de {low} a {high} conforme a posição" if MISSING not in (low, high) else ""
        return (
            f"Pontuação final: {total} de 100 pontos no pior caso do trecho candidato "
            f"(sugerida pelo geo_ip: {suggested}{span}); provisória até a Comissão confirmar "
            "o local."
        )
    return f"Pontuação final: {total} de 100 pontos (sugerida pelo geo_ip: {suggested})."


_SHARE_BASIS = {
    "estrategico_art11": "Participação (Art. 11)",
    "execucao_direta_art12": "Participação (Art. 12)",
}
"""Label of the share of an Art. 11 / Art. 12 work (the rules' own share, not §1's bands)."""


_BALANCE = re.compile(r"(?:saldo restante|não cabe no saldo de) (R\$ [\d.]+,\d{2})")


def _reservation(row: dict[str, Any], municipal: Any, share: Any) -> str:
    """Say how an Art. 11 / Art. 12 work was charged to the budget, before the ranking."""
    reason = clean(row.get("motivo_situacao"))
    balance = _BALANCE.search(reason)
    left = balance[1] if balance else ""
    if is_missing(municipal):
        return "custo municipal desconhecido: não reservado (estime o custo da obra)"
    charge = f"custo municipal {brl(municipal)} ({num(share, 0, '%')})"
    if yes_no(row.get("selecionado_orcamento")) == "sim":
        text = f"reservado antes da classificação (Art. 11, parágrafo único, e Art. 13): {charge}"
        if "sem limite de orçamento" in reason:
            return text + "; sem limite de orçamento informado"
        return text + (f"; saldo restante {left}" if left else "")
    return f"não coube no saldo{f' de {left}' if left else ''}: {charge}, não reservado"


def _costs(row: dict[str, Any]) -> list[Item]:
    cost = row.get("custo_estimado_rs")
    share = row.get("percentual_municipio")
    municipal = row.get("custo_municipio_rs")
    rest = MISSING
    if not (is_missing(cost) or is_missing(municipal)):
        rest = brl(as_float(cost) - as_float(municipal))
    selected = yes_no(row.get("selecionado_orcamento")) == "sim"
    situation = clean(row.get("situacao"))
    if situation in ("classificado", "aguardando_orcamento"):
        budget = "selecionado no orçamento" if selected else "aguardando orçamento"
    elif situation in _SHARE_BASIS:
        budget = _reservation(row, municipal, share)
    elif situation == "pendente_comprovacao":
        budget = "fora do orçamento até a comprovação da hipossuficiência (Art. 4 §2)"
    elif situation == "pendente_localizacao":
        budget = "fora do orçamento até a Comissão confirmar o local (decisão 'localizacao')"
    else:
        budget = "não se aplica (fora da classificação por pontuação)"
    estimate = brl(cost)
    if situation == "pendente_localizacao" and estimate != MISSING:
        low, high = row.get("custo_min_rs"), row.get("custo_max_rs")
        estimate = worst_case(estimate, low, high, lambda a, b: f"{brl(a)} a {brl(b)}")
    return [
        Item("Custo estimado", estimate),
        Item("Custo por beneficiário", brl(row.get("custo_por_beneficiario_rs"))),
        Item(_SHARE_BASIS.get(situation, "Participação (Art. 4 §1)"), num(share, 0, "%")),
        Item("Custo do Município", brl(municipal)),
        Item("Parcela não custeada", rest),
        Item("Orçamento (Art. 13)", budget),
    ]


_ABOVE_LIMIT = re.compile(r"Art\. 4, caput e Art\. 2, IV: [^|]*?(?=\s*\||\.?$)")
"""The reason of a declared income above the limit, up to the next item."""


_PROOF_MEANS = re.compile(
    r" \((?:inscrição no CadÚnico|renda declarada dentro do limite|"
    r"documentos aceitos pela Comissão)\)"
)
"""How hardship was proven, quoted in the Art. 5, I exception note."""


def _without_hardship_means(text: str) -> str:
    """Remove from eligibility texts how hardship was (or was not) proven.

    The hardship notes (``"Art. 4 §2..."`` items) go, the income-above-the-limit reason
    becomes "hipossuficiência não comprovada", and the MEI exception note loses the
    means in parentheses: the sheet's "Hipossuficiência" item says the condition.
    """
    items = [item for item in text.split(" | ") if not item.startswith("Art. 4 §2")]
    kept = " | ".join(item for item in items if item)
    kept = _ABOVE_LIMIT.sub("Art. 4, caput e Art. 2, IV: hipossuficiência não comprovada", kept)
    return _PROOF_MEANS.sub("", kept)


_HARDSHIP_TEXT = {
    "comprovada": "Comprovada",
    "pendente": "Pendente de comprovação",
    "não comprovada": "Não comprovada",
    "não exigida": "Não exigida para este tipo de pedido",
}


def _hardship(row: dict[str, Any]) -> Item:
    """Give the public condition of hardship, and what proof is missing when pending."""
    condition = clean(row.get("condicao_hipossuficiencia"))
    text = _HARDSHIP_TEXT.get(condition, condition) or MISSING
    missing = clean(row.get("pendencia_hipossuficiencia"))
    if missing:
        text += f" — {missing}"
    return Item("Hipossuficiência (Art. 4 §2)", text)


def _art11(row: dict[str, Any]) -> str:
    if yes_no(row.get("art11_decidido")) == "sim":
        opinion = br_dates(clean(row.get("decisao_art11")))
        return "estratégico por decisão da Comissão: análise direta, sem a pontuação (Art. 11)" + (
            f"; parecer técnico circunstanciado: {opinion}" if opinion else ""
        )
    if yes_no(row.get("pedido_estrategico")) == "sim":
        return (
            "marcado como estratégico; aguarda parecer da Comissão (Art. 11, parágrafo único): "
            "até lá, segue na classificação por pontuação"
        )
    return ""


def _art12(row: dict[str, Any]) -> str:
    parts = []
    if yes_no(row.get("indicio_art12")) == "sim":
        reason = clean(row.get("motivo_art12")).rstrip(".")
        parts.append(reason or "indício de via rural de alto fluxo (Art. 12 §1)")
    if yes_no(row.get("art12_decidido")) == "sim":
        procedure = clean(row.get("procedimento_art12")) or "não informado"
        text = (
            "Execução direta decidida pelo Poder Executivo (Art. 12 §2), procedimento "
            f"administrativo {procedure}"
        )
        # the audit text repeats the procedure: said once
        decision = br_dates(clean(row.get("decisao_art12"))).replace(
            f", procedimento administrativo {procedure}", ""
        )
        parts.append(text + (f" — {decision}" if decision else ""))
    return ". ".join(parts) + "." if parts else ""


def _eligibility(row: dict[str, Any]) -> list[Item]:
    eligible = row.get("elegivel")
    items = [
        Item("Elegível (Art. 4 §2 e Art. 5)", yes_no(eligible)),
        _hardship(row),
    ]
    basis = clean(row.get("fundamento_inelegibilidade"))
    if basis:
        items.append(Item("Fundamento", basis))
    reasons = br_dates(_without_hardship_means(clean(row.get("motivos_inelegibilidade"))))
    items.append(Item("Inelegibilidade", reasons.replace(" | ", "; ") or "nenhum motivo"))
    warnings = br_dates(_without_hardship_means(clean(row.get("avisos_elegibilidade"))))
    items.append(Item("Avisos à Comissão", warnings.replace(" | ", "; ") or "nenhum"))
    art11 = _art11(row)
    if art11:
        items.append(Item("Art. 11", art11))
    art12 = _art12(row)
    if art12:
        items.append(Item("Art. 12", art12))
    return items


def _pending_warning(row: dict[str, Any]) -> str:
    """Write the alert of a pending request: what proof is missing, its points and place."""
    missing = clean(row.get("pendencia_hipossuficiencia")) or (
        "falta comprovar a hipossuficiência financeira (Art. 4 §2)"
    )
    text = f"Pedido pendente de comprovação da hipossuficiência: {missing}."
    total = num(row.get("pontuacao_total"), 1)
    place = _would_be(row)
    if total != MISSING and place:
        text += f" Com {total} pontos, ficaria em {place} lugar na classificação."
    elif total != MISSING:
        text += f" Pontuação: {total} pontos."
    return text + " Sem participação do Município e fora do orçamento até a comprovação."


def _place_warning(row: dict[str, Any], limit: float) -> str:
    """Write the alert of a request pending confirmation of its place (Portuguese).

    Its uncertainty, that the sheet shows the worse case with the ranges over the
    candidate stretch, its points and would-be place, and how to confirm the place.
    """
    radius = row.get("incerteza_m")
    text = "Pedido pendente de confirmação do local: "
    if is_missing(radius):
        text += "localização incerta"
    else:
        text += f"localizado com incerteza de ± {num(radius, 0, 'm')}"
    text += f", acima do limite de {num(limit, 0, 'm')} das regras."
    positions = num(row.get("posicoes_avaliadas"), 0)
    among = f"entre as {positions} posições avaliadas" if positions != MISSING else "avaliado"
    ranges = "; ".join(place_ranges(row))
    text += f" A sugestão desta ficha é a do pior caso {among} ao longo do trecho candidato"
    text += f" ({ranges})." if ranges else "."
    total = num(row.get("pontuacao_total"), 1)
    place = _would_be(row)
    if total != MISSING and place:
        text += f" Com {total} pontos no pior caso, ficaria em {place} lugar na classificação."
    missing = clean(row.get("pendencia_hipossuficiencia"))
    if missing:
        text += f" Falta também comprovar a hipossuficiência: {missing}."
    return text + (
        " Sem participação do Município e fora do orçamento até a Comissão confirmar o "
        "local: veja no item II o que confirmar no local, e registre o local confirmado como "
        "decisão 'localizacao', com latitude e longitude."
    )


def _warning(row: dict[str, Any], limit: float) -> str:
    """Write the alert at the top of the sheet: not scored, or pending a proof or its place."""
    situation = clean(row.get("situacao"))
    if situation == "erro":
        errors = [
            item.strip()
            for item in clean(row.get("problemas")).split(" | ")
            if item.strip() and not item.startswith("aviso:")
        ]
        reason = "; ".join(errors) or clean(row.get("motivo_situacao"))
        return f"Pedido não pontuado: {br_dates(reason) or 'erro no pedido'}."
    if situation == "pendente_comprovacao":
        return _pending_warning(row)
    if pending_place(row):
        return _place_warning(row, limit)
    return ""


def findings(row: dict[str, Any], rules: Rules, labels: Labels) -> dict[str, Any]:
    """Write what the assessment concluded about one request, as its sheet shows it.

    Parameters
    ----------
    row : dict
        The request's row of :func:`geo_ip.requests.privacy.internal_view`.
    rules : Rules
        The municipality's rules (criteria, weights, the limit of uncertainty).
    labels : Labels
        Portuguese labels of situations, roads and grid types.

    Returns
    -------
    dict
        The fields of :class:`geo_ip.outputs.sheets.content.Sheet` on the outcome:
        ``aviso`` (the alert, or ``""``), ``criterios``, ``total_sugerido``,
        ``total_final``, ``pontuacao_final``, ``final``, ``fundamentacao``, ``custos``
        and ``elegibilidade``.
    """
    limit = rules.avaliacao.incerteza_maxima_m.valor
    return {
        "aviso": _warning(row, limit),
        "criterios": _criteria(row, rules),
        "total_sugerido": _suggested_total(row),
        "total_final": num(row.get("pontuacao_total"), 1),
        "pontuacao_final": _final_sentence(row, labels),
        "final": _final(row, labels),
        "fundamentacao": br_dates(_without_hardship_means(clean(row.get("motivo_situacao")))),
        "custos": _costs(row),
        "elegibilidade": _eligibility(row),
    }
