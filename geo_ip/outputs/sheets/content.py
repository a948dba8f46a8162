"""Content of the technical sheets (fichas técnicas, Art. 10): text, already formatted.

:func:`build_sheets` turns an :class:`~geo_ip.pipeline.Assessment` into one
:class:`Sheet` per request, in ranking order, with every value already written the
Brazilian way (``1.234,5``, ``R$ 1.234,56``, ``dd/mm/aaaa``). The HTML template
(``data/templates/ficha.html``) and the PDF layout (:mod:`geo_ip.outputs.sheets.pdf`) only
place these texts, so both formats always say the same.

The sheet is an internal document of the commission (Art. 7 to 10): it is built from
:func:`geo_ip.requests.privacy.internal_view` — CPF masked, no name, no income figure. Hardship
(Art. 4 §2) appears only as its public condition (comprovada, pendente, não
comprovada, não exigida) and, for a pending request, the proof that is missing: the
sheet never says how hardship was proven (the internal workbook does).

A request whose place is too uncertain (``pendente_localizacao``) says so at the top:
its uncertainty, the ranges over the candidate stretch, that what the sheet shows is the
worse case, and what to confirm on site and how (a ``localizacao`` decision with
latitude and longitude); a place confirmed by the Commission says who confirmed it and
when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_ip.outputs.format import (
    GEOCODING,
    METHODS,
    MISSING,
    TIPOS,
    USES,
    Item,
    Labels,
    as_float,
    br_date,
    br_dates,
    brl,
    candidate_stretch,
    clean,
    evidence_items,
    is_missing,
    num,
    or_missing,
    ordinal,
    pending_place,
    place_ranges,
    surface,
    timestamp,
    yes_no,
)
from geo_ip.outputs.views import ordered_rows, request_file_stems
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.config import CRITERIA, Rules

__all__ = [
    "MISSING",
    "SECTIONS",
    "SIGNATURES",
    "CriterionRow",
    "Item",
    "Sheet",
    "build_sheets",
]

SECTIONS = (
    ("I", "Identificação do protocolo"),
    ("II", "Identificação do local"),
    ("III", "Descrição resumida da solicitação"),
    ("IV", "Registro dos levantamentos realizados"),
    ("V", "Pontuação atribuída em cada critério, com a respectiva motivação"),
    ("VI", "Pontuação final"),
    ("VII", "Parecer técnico conclusivo"),
)
"""The seven items of Art. 10 of the law, in its order."""

SIGNATURES = ("Obras", "Iluminação pública", "Planejamento", "Assistência social")
"""Areas of the commission members who sign the sheet (Art. 6)."""

OPINION_LINES = 4
"""Blank lines left for the commission's conclusive opinion (Art. 10, VII)."""

_ROMAN = ("I", "II", "III", "IV", "V")
_SHORT = {
    "beneficiarios": "Beneficiários",
    "seguranca": "Segurança pública e viária",
    "trafego": "Tráfego e fluxo de pedestres",
    "custo_beneficio": "Custo-benefício social",
    "viabilidade": "Viabilidade técnica",
}


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


@dataclass
class Sheet:
    """Everything one sheet shows, formatted; see :func:`build_sheets`."""

    indice: int
    """Row of ``assessment.table`` (input order)."""
    ordem: int
    """1-based place of the sheet in ``todas.pdf`` (ranking order)."""
    protocolo: str
    arquivo: str
    """File stem of the sheet (``<protocolo>``, made unique and safe)."""
    municipio: str
    lei: str
    situacao: str
    posicao: str
    aviso: str
    """Why the request was not scored (errors), or ``""``."""
    rotulo_ficticio: str
    identificacao: list[Item]
    local: list[Item]
    resumo: str
    solicitacao: list[Item]
    levantamentos: list[Item]
    itens: list[Item]
    criterios: list[CriterionRow]
    total_sugerido: str
    total_final: str
    pontuacao_final: str
    """The sentence of Art. 10, VI (final score, or why there is none)."""
    final: list[Item]
    fundamentacao: str
    custos: list[Item]
    elegibilidade: list[Item]
    proveniencia: list[Item]
    atribuicao: str
    secoes: tuple[tuple[str, str], ...] = SECTIONS
    assinaturas: tuple[str, ...] = SIGNATURES
    linhas_parecer: int = OPINION_LINES
    mapa_png: bytes = field(default=b"", repr=False)
    escala: float | None = None
    """Font scale that fits the sheet on one page (set by the PDF layout)."""

    def heading(self, number: str) -> str:
        """Return the heading of an item of Art. 10 (``"I – Identificação ... (Art. 10, I)"``)."""
        title = dict(self.secoes)[number]
        return f"{number} – {title} (Art. 10, {number})"


# --- per section ----------------------------------------------------------------------------


def _address(row: dict[str, Any]) -> str:
    street = clean(row.get("endereco"))
    number = clean(row.get("numero"))
    parts = [f"{street}, {number}" if street and number else street or number]
    parts += [clean(row.get("bairro")), clean(row.get("cep"))]
    text = " — ".join(p for p in parts if p)
    return text or "sem endereço (pedido por coordenadas)"


def _identification(row: dict[str, Any]) -> list[Item]:
    tipo = clean(row.get("tipo"))
    kind = TIPOS.get(tipo)
    problems = "; ".join(
        item.removeprefix("aviso: ").strip()
        for item in br_dates(clean(row.get("problemas"))).split(" | ")
        if item.strip()
    )
    checked = clean(row.get("situacao_pedido"))
    status = {"ok": "sem pendências", "aviso": "com aviso", "erro": "com erro"}.get(
        checked, checked
    )
    items = [
        Item("Protocolo", or_missing(clean(row.get("protocolo")))),
        Item("Data do protocolo", br_date(row.get("data_protocolo"))),
        Item(
            "Tipo de pedido",
            f"{kind[0]} ({kind[1]})"
            if kind
            else f"{tipo or MISSING} (tipo não previsto no Art. 2)",
        ),
        Item("Linha da planilha", num(row.get("linha"), 0)),
        Item("CPF (mascarado)", or_missing(clean(row.get("cpf_solicitante")))),
        Item("Conferência", f"{status}: {problems}" if problems else status or MISSING),
    ]
    return items


CONFIRMED = "localizacao_confirmada"
"""``geocodificacao`` of a request whose place the Commission confirmed."""


def _uncertainty(row: dict[str, Any], limit: float) -> str:
    """How sure the place is: ``"± 360 m — acima do limite de 100 m das regras..."``."""
    radius = row.get("incerteza_m")
    if clean(row.get("geocodificacao")) == CONFIRMED:
        return "0 m — local confirmado pela Comissão"
    if is_missing(radius):
        return MISSING
    text = f"± {num(radius, 0, 'm')}"
    if as_float(radius) > limit:
        text += f" — acima do limite de {num(limit, 0, 'm')} das regras: local a confirmar"
    return text


def _place_items(row: dict[str, Any]) -> list[Item]:
    """Items of a place to confirm (candidate stretch, what to check) or confirmed.

    The ranges are in the alert at the top (:func:`_place_warning`) and in what to check.
    """
    if pending_place(row):
        stretch = candidate_stretch(row)
        street = clean(row.get("logradouro_encontrado"))
        bairro = clean(row.get("bairro_encontrado"))
        size = ""
        if stretch is not None:
            size = num(shapely.length(stretch), 0, "m")
            if clean(row.get("geocodificacao")) == "bairro" and bairro:
                size += f" de vias do bairro {bairro}"
            elif street:
                size += f" ao longo de {street}"
        positions = num(row.get("posicoes_avaliadas"), 0)
        if positions != MISSING:
            size += ("; " if size else "") + f"{positions} posições avaliadas"
        items = [Item("Trecho candidato", size or MISSING)]
        check = clean(row.get("confirmar_no_local")) or (
            "a posição do pedido; registre o local confirmado como decisão 'localizacao', com "
            "latitude e longitude."
        )
        items.append(Item("O que confirmar no local", check))
        return items
    decision = br_dates(clean(row.get("decisao_localizacao")))
    if clean(row.get("geocodificacao")) == CONFIRMED or decision:
        return [Item("Local confirmado (decisão 'localizacao')", or_missing(decision))]
    return []


def _location(row: dict[str, Any], labels: Labels, crs: str, limit: float) -> list[Item]:
    method = clean(row.get("geocodificacao"))
    detail = clean(row.get("geocodificacao_detalhe"))
    confidence = row.get("confianca")
    geocoding = GEOCODING.get(method, method or MISSING)
    if detail.startswith(geocoding):  # the detail repeats the label: said once
        geocoding = detail
    elif detail and detail != geocoding:
        geocoding += f" ({detail})"
    if not is_missing(confidence):
        geocoding += f"; confiança {num(confidence, 2)}"
    road = clean(row.get("logradouro_via")) or clean(row.get("logradouro_encontrado"))
    hierarchy = labels.road(row.get("hierarquia_via"))
    located = not (is_missing(row.get("x")) or is_missing(row.get("y")))
    coords = MISSING
    if located:
        coords = (
            f"{num(row.get('latitude'), 6, trim=False)}; "
            f"{num(row.get('longitude'), 6, trim=False)} (lat.; long.) — "
            f"E {num(row.get('x'), 1)} m, N {num(row.get('y'), 1)} m ({crs})"
        )
    snapped = MISSING
    if not is_missing(row.get("x_via")):
        snapped = f"E {num(row.get('x_via'), 1)} m, N {num(row.get('y_via'), 1)} m"
        if row.get("fora_da_malha") is True:
            snapped += " — pedido fora da malha viária"
    pending = pending_place(row)
    if pending and located:
        coords += " — ponto aproximado"
    return [
        Item("Endereço informado", _address(row)),
        Item("Geocodificação", geocoding),
        Item("Incerteza da localização", _uncertainty(row, limit)),
        Item(
            "Logradouro",
            f"{road} — via {hierarchy}" if road and hierarchy else road or MISSING,
        ),
        Item("Bairro", or_missing(clean(row.get("bairro_encontrado")))),
        Item("Coordenadas", coords),
        Item("Ponto na via (pior caso)" if pending else "Ponto na via", snapped),
        Item("Distância à via", num(row.get("distancia_via_m"), 1, "m")),
        *_place_items(row),
    ]


def _request(row: dict[str, Any]) -> tuple[str, list[Item]]:
    tipo = clean(row.get("tipo"))
    kind = TIPOS.get(tipo)
    use = clean(row.get("uso_imovel"))
    mei = yes_no(row.get("mei"))
    strategic = row.get("estrategico")
    justification = clean(row.get("justificativa_estrategica"))
    houses = num(row.get("residencias_declaradas", row.get("residencias")), 0)
    people = num(row.get("moradores_declarados", row.get("moradores")), 0)
    items = [
        Item("Residências declaradas", houses),
        Item("Moradores declarados", people),
        Item(
            "Uso do imóvel",
            USES.get(use, use or MISSING) + (f"; MEI: {mei}" if mei != MISSING else ""),
        ),
        Item(
            "Estratégico (Art. 11)",
            (f"sim — {justification}" if justification else "sim, sem justificativa")
            if strategic is True
            else yes_no(strategic),
        ),
    ]
    notes = clean(row.get("observacoes"))
    if notes:
        items.append(Item("Observações do pedido", notes))
    place = clean(row.get("logradouro_via")) or clean(row.get("logradouro_encontrado"))
    bairro = clean(row.get("bairro_encontrado"))
    summary = (
        f"Pedido de {kind[0].lower()} ({kind[1]}: {kind[2]})"
        if kind
        else f"Pedido de tipo não previsto no Art. 2 ({tipo or 'em branco'})"
    )
    if houses != MISSING:
        summary += f" para {houses} residência{'s' if houses != '1' else ''}"
        if people != MISSING:
            plural = people != "1"
            summary += (
                f" ({people} morador{'es' if plural else ''} declarado{'s' if plural else ''})"
            )
    if use:
        summary += f", imóvel de uso {USES.get(use, use)}"
    if place:
        summary += f", em {place}"
    if bairro:
        summary += f", bairro {bairro}"
    return summary + ".", items


def _surveys(row: dict[str, Any], rules: Rules, labels: Labels) -> list[Item]:
    av = rules.avaliacao
    method = clean(row.get("metodo_distancia"))
    target = labels.grid_type(row.get("rede_alvo_tipo"))
    target_id = clean(row.get("rede_alvo_id"))
    slope = MISSING
    if not is_missing(row.get("declividade_max_pct")):
        source = {"mde": "modelo de elevação", "aresta": "declividade da via"}.get(
            clean(row.get("declividade_fonte")), ""
        )
        slope = (
            f"média {num(row.get('declividade_media_pct'), 1, '%')}, "
            f"máxima {num(row.get('declividade_max_pct'), 1, '%')}"
            + (f" ({source})" if source else "")
        )
    dark = row.get("distancia_ip_m")
    darkness = MISSING
    if not is_missing(dark):
        darkness = num(dark, 1, "m")
        if as_float(dark) > av.distancia_escuro_m.valor:
            darkness += f" — trecho escuro (mais de {num(av.distancia_escuro_m.valor, 0, 'm')})"
    elif not is_missing(row.get("x")):
        darkness = "nenhum ponto de IP no território"
    percentile = row.get("intermediacao_percentil")
    betweenness = MISSING
    if not is_missing(percentile):
        betweenness = f"percentil {num(percentile, 0)} entre as vias do município"
        passage = yes_no(row.get("via_de_passagem"))
        if passage != MISSING:
            betweenness += f"; via de passagem: {passage}"
    materials = MISSING
    if not is_missing(row.get("postes_novos")):
        transformers = row.get("transformadores")
        materials = (
            f"{num(row.get('postes_novos'), 0)} "
            f"{'poste novo' if num(row.get('postes_novos'), 0) == '1' else 'postes novos'} (vão de "
            f"{num(rules.rede.vao_postes.valor, 0, 'm')}), {num(row.get('bracos'), 0)} braços, "
            f"{num(row.get('luminarias'), 0)} luminárias, {num(row.get('condutor_m'), 1, 'm')} "
            "de condutor, "
            + (
                "sem transformador novo"
                if is_missing(transformers) or as_float(transformers) == 0
                else "1 transformador novo"
                if as_float(transformers) == 1
                else f"{num(transformers, 0)} transformadores novos"
            )
        )
    source = clean(row.get("fonte_beneficiarios"))
    extension = f"{num(row.get('distancia_rede_m'), 1, 'm')} — " + METHODS.get(
        method, method or MISSING
    )
    if pending_place(row):
        low, high = row.get("extensao_min_m"), row.get("extensao_max_m")
        extension += " (pior caso"
        if not (is_missing(low) or is_missing(high)):
            extension += f"; de {num(low, 1)} a {num(high, 1, 'm')} no trecho candidato"
        extension += ")"
    return [
        Item("Extensão até a rede", extension),
        Item("Distância em linha reta", num(row.get("distancia_rede_reta_m"), 1, "m")),
        Item(
            "Rede alcançada",
            f"{target} ({target_id})" if target and target_id else target or MISSING,
        ),
        Item("Materiais (Art. 9 §9)", materials),
        Item("Declividade do trecho", slope),
        Item("Pavimento / acesso", f"{surface(row)}; via rural: {yes_no(row.get('via_rural'))}"),
        Item(
            f"Edificações no trecho (até {num(av.raio_edificacoes_m.valor, 0, 'm')})",
            num(row.get("edificacoes_trecho"), 0),
        ),
        Item(
            "Residências / moradores",
            f"{num(row.get('residencias_consideradas'), 0)} / "
            f"{num(row.get('moradores_estimados'), 0)}" + (f" ({source})" if source else ""),
        ),
        Item("Ponto de IP mais próximo", darkness),
        Item("Intermediação (tráfego)", betweenness),
    ]


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
        estimate += " (pior caso"
        if not (is_missing(low) or is_missing(high)):
            estimate += f"; de {brl(low)} a {brl(high)} no trecho candidato"
        estimate += ")"
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
    "comprovada": "comprovada",
    "pendente": "pendente de comprovação",
    "não comprovada": "não comprovada",
    "não exigida": "não exigida para este tipo de pedido",
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


def _provenance(assessment: Assessment) -> list[Item]:
    p = assessment.provenance
    rules = p.get("regras") or {}
    territory = p.get("territorio") or {}
    inputs = "; ".join(
        f"{e.get('tipo')}: {str(e.get('arquivo', '')).rsplit('/', 1)[-1]} "
        f"(sha256 {str(e.get('sha256', ''))[:12]})"
        for e in p.get("entradas") or []
    )
    items = [
        Item("Ferramenta", f"geo_ip {p.get('versao_ferramenta', MISSING)}"),
        Item(
            "Regras",
            f"{rules.get('municipio', '')} — versão {rules.get('versao', MISSING)}, "
            f"{rules.get('lei', '')}; sha256 {rules.get('sha256', MISSING)}",
        ),
        Item(
            "Dados",
            f"OSM de {br_date(territory.get('osm_data'))}; território gerado em "
            f"{timestamp(territory.get('criado_em'))}; {inputs}",
        ),
        Item(
            "Execução",
            f"{timestamp(p.get('executado_em'))}; data de referência "
            f"{br_date(p.get('data_referencia'))}; SRC {p.get('crs', assessment.crs)}",
        ),
    ]
    return items


def build_sheets(assessment: Assessment) -> list[Sheet]:
    """Build the content of every sheet, in ranking order.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.

    Returns
    -------
    list of Sheet
        Ranked requests first (by position), then the Art. 12 executions, the Art. 11
        strategic works, the requests pending proof of hardship, the ineligible and
        the error rows (the order of ``ranking.csv``); the map is not drawn here
        (``mapa_png`` empty).
    """
    rules = assessment.rules
    labels = Labels()
    table = assessment.table
    positions = pd.Series(np.arange(len(table)), index=table.index)
    ordered = ordered_rows(table)
    view = privacy.internal_view(ordered)
    stem_of = dict(zip(table.index, request_file_stems(table), strict=True))
    stems = [stem_of[label] for label in view.index]
    provenance = _provenance(assessment)
    fictional = str(assessment.provenance.get("rotulo", "")) if rules.municipio.ficticio else ""
    limit = rules.avaliacao.incerteza_maxima_m.valor
    sheets = []
    for order, (label, record) in enumerate(zip(view.index, view.to_dict("records"), strict=True)):
        row: dict[str, Any] = {str(k): v for k, v in record.items()}
        index = int(positions[label])
        situation = clean(row.get("situacao"))
        warning = ""
        if situation == "erro":
            errors = [
                item.strip()
                for item in clean(row.get("problemas")).split(" | ")
                if item.strip() and not item.startswith("aviso:")
            ]
            reason = "; ".join(errors) or clean(row.get("motivo_situacao"))
            warning = f"Pedido não pontuado: {br_dates(reason) or 'erro no pedido'}."
        elif situation == "pendente_comprovacao":
            warning = _pending_warning(row)
        elif pending_place(row):
            warning = _place_warning(row, limit)
        summary, request = _request(row)
        entries = assessment.items[index] if index < len(assessment.items) else {}
        sheets.append(
            Sheet(
                indice=index,
                ordem=order + 1,
                protocolo=clean(row.get("protocolo")) or f"linha {row.get('linha')}",
                arquivo=stems[order],
                municipio=rules.municipio.nome,
                lei=rules.lei.numero,
                situacao=labels.situation(situation) or MISSING,
                posicao=ordinal(row.get("posicao")),
                aviso=warning,
                rotulo_ficticio=fictional,
                identificacao=_identification(row),
                local=_location(row, labels, assessment.crs, limit),
                resumo=summary,
                solicitacao=request,
                levantamentos=_surveys(row, rules, labels),
                itens=evidence_items(
                    row, entries if isinstance(entries, dict) else {}, rules, labels
                ),
                criterios=_criteria(row, rules),
                total_sugerido=_suggested_total(row),
                total_final=num(row.get("pontuacao_total"), 1),
                pontuacao_final=_final_sentence(row, labels),
                final=_final(row, labels),
                fundamentacao=br_dates(_without_hardship_means(clean(row.get("motivo_situacao")))),
                custos=_costs(row),
                elegibilidade=_eligibility(row),
                proveniencia=provenance,
                atribuicao=str(assessment.provenance.get("atribuicao", "")),
            )
        )
    return sheets
