"""Content of the technical sheets (fichas técnicas, Art. 10): text, already formatted.

:func:`build_sheets` turns an :class:`~geo_ip.pipeline.Assessment` into one
:class:`Sheet` per request, in ranking order, with every value already written the
Brazilian way (``1.234,5``, ``R$ 1.234,56``, ``dd/mm/aaaa``). The HTML template
(``data/templates/ficha.html``) and the PDF layout (:mod:`geo_ip.outputs.sheets.pdf`) only
place these texts, so both formats always say the same. Items I to IV are written
here; the outcome (criteria, final score, costs, eligibility, the alert at the top) by
:func:`geo_ip.outputs.sheets.findings.findings`.

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
    candidate_stretch,
    clean,
    element_reference,
    evidence_items,
    is_missing,
    num,
    or_missing,
    ordinal,
    pending_place,
    surface,
    timestamp,
    worst_case,
    yes_no,
)
from geo_ip.outputs.sheets.findings import CriterionRow, findings
from geo_ip.outputs.views import ALERTS, ordered_rows, request_alerts, request_file_stems
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.config import Rules

__all__ = [
    "MISSING",
    "SECTIONS",
    "SIGNATURES",
    "Item",
    "Sheet",
    "alert_items",
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
    alertas: list[Item] = field(default_factory=list)
    """The request's flags (``alertas`` of the lists), each with what to check: the box
    under the header (:func:`alert_items`)."""
    mapa_png: bytes = field(default=b"", repr=False)
    escala: float | None = None
    """Font scale that fits the sheet on one page (set by the PDF layout)."""

    @property
    def alertas_texto(self) -> str:
        """Return the text of the alerts box (``""`` without alerts)."""
        if not self.alertas:
            return ""
        return "Alertas: " + "; ".join(f"{i.rotulo} — {i.valor}" for i in self.alertas) + "."

    def heading(self, number: str) -> str:
        """Return the heading of an item of Art. 10 (``"I – Identificação ... (Art. 10, I)"``)."""
        title = dict(self.secoes)[number]
        return f"{number} – {title} (Art. 10, {number})"


# --- per section ----------------------------------------------------------------------------


def alert_items(alerts: str, rules: Rules) -> list[Item]:
    """Explain each flag of a request's ``alertas`` (:func:`geo_ip.outputs.views.request_alerts`).

    Parameters
    ----------
    alerts : str
        The ``"; "``-joined labels of :data:`geo_ip.outputs.views.ALERTS`.
    rules : Rules
        The municipality's rules (the limits the declaration exceeds).

    Returns
    -------
    list of Item
        One per flag, in the order given: the label and what to check.
    """
    limits = rules.validacao
    per_building = num(limits.residencias_por_edificacao_maxima.valor, 1)
    per_home = num(limits.moradores_por_residencia_maximo.valor, 1)
    hints = {
        ALERTS["declaracao"]: f"mais de {per_building} residências declaradas por edificação "
        f"mapeada perto do trecho, ou mais de {per_home} moradores por residência: confira a "
        "declaração na vistoria",
        ALERTS["localizacao"]: "o local exato do pedido não é conhecido: confirme-o na vistoria",
        ALERTS["comprovacao"]: "falta comprovar a hipossuficiência (Art. 4 §2)",
        ALERTS["malha"]: "o ponto está longe de toda via mapeada: confira o local e o acesso",
    }
    labels = [text.strip() for text in alerts.split(";") if text.strip()]
    return [Item(label, hints.get(label, "")) for label in labels]


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
    target_id = element_reference(row.get("rede_alvo_id"))
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
        extension = worst_case(extension, low, high, lambda a, b: f"{num(a, 1)} a {num(b, 1, 'm')}")
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
        Result of :func:`geo_ip.pipeline.assess` (its table, rules, ``items`` and
        provenance).

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
    alerts = request_alerts(ordered, rules).to_numpy()
    sheets = []
    for order, (label, record) in enumerate(zip(view.index, view.to_dict("records"), strict=True)):
        row: dict[str, Any] = {str(k): v for k, v in record.items()}
        index = int(positions[label])
        situation = clean(row.get("situacao"))
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
                rotulo_ficticio=fictional,
                identificacao=_identification(row),
                local=_location(row, labels, assessment.crs, limit),
                resumo=summary,
                solicitacao=request,
                levantamentos=_surveys(row, rules, labels),
                itens=evidence_items(
                    row, entries if isinstance(entries, dict) else {}, rules, labels
                ),
                proveniencia=provenance,
                atribuicao=str(assessment.provenance.get("atribuicao", "")),
                alertas=alert_items(str(alerts[order]), rules),
                **findings(row, rules, labels),
            )
        )
    return sheets
