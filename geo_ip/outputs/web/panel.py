"""The side panel of a request's map: its public row as HTML, in Brazilian Portuguese.

The panel says the request's situation and points, its place (to confirm, or confirmed
by the Commission), location, proposed extension, beneficiaries and cost, hardship and
the acts of Arts. 11 and 12, the five criteria of Art. 9 with suggested and final
points, motivation and decision, the evidence counted, and the rules' radii
(:func:`panel_html`). Text comes from :func:`geo_ip.requests.privacy.public_view` of the
row, every value escaped: no personal data, no markup from the data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from geo_ip.outputs.format import METHODS, br_dates, display, value_labels
from geo_ip.outputs.maps import MapSpec
from geo_ip.outputs.styles import LayerStyle, layer_style
from geo_ip.outputs.web.geojson import clean
from geo_ip.outputs.web.layers import MapSources, place_to_confirm
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.sources.catalog import Catalog

__all__ = ["alerts_html", "fmt", "panel_html", "path_methods"]

_LOCATION = (
    "logradouro_via",
    "bairro_encontrado",
    "hierarquia_via",
    "geocodificacao",
    "incerteza_m",
    "distancia_via_m",
)
_EXTENSION = (
    "metodo_distancia",
    "distancia_rede_m",
    "distancia_rede_reta_m",
    "rede_alvo_tipo",
    "rede_alvo_id",
    "transformador",
    "postes_novos",
    "bracos",
    "luminarias",
    "condutor_m",
    "transformadores",
    "declividade_max_pct",
    "superficie_via",
    "distancia_ip_m",
)
_COST = (
    "residencias_consideradas",
    "moradores_estimados",
    "fonte_beneficiarios",
    "custo_estimado_rs",
    "custo_por_beneficiario_rs",
    "percentual_municipio",
    "custo_municipio_rs",
    "selecionado_orcamento",
    "condicao_hipossuficiencia",
)


def path_methods(catalog: Catalog) -> dict[str, str]:
    """Return the labels of the path methods: the catalog's classes of ``extensoes``.

    As in the legend; the methods without an extension (``sem_rede``,
    ``sem_localizacao``) take the sheet's wording.
    """
    drawn = {c.valor: c.rotulo for c in layer_style("extensoes", catalog).classes}
    return {**METHODS, **{k: v for k, v in drawn.items() if k is not None}}


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt(column: str, value: Any) -> str:
    """Format a cell as Brazilian Portuguese text (``R$ 1.234,56``, ``80 %``, ``12,5``).

    Parameters
    ----------
    column : str
        Column name (its suffix decides the format).
    value : object
        Cell.

    Returns
    -------
    str
        ``""`` when empty.
    """
    v = clean(value)
    if v is None:
        return ""
    if isinstance(v, int | float):
        if column.endswith("_rs"):
            return f"R$ {_number(float(v), 2)}"
        if column == "percentual_municipio":
            return f"{_number(float(v), 0)} %"
        return _number(float(v), 0 if float(v).is_integer() else 1)
    return str(v)


def _table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows if v
    )
    return f"<table>{body}</table>"


def _yes(value: Any) -> bool:
    """Tell whether a flag cell is true (``bool``, NumPy bool or ``"sim"``)."""
    return clean(value) == "sim"


def _acts(public: pd.Series) -> list[str]:
    """Paragraphs on hardship still to prove and on Arts. 11 and 12 (public texts only)."""
    out = []
    missing = fmt("pendencia_hipossuficiencia", public.get("pendencia_hipossuficiencia"))
    if missing:
        out.append(f"Hipossuficiência pendente de comprovação: {missing}.")
    if _yes(public.get("art11_decidido")):
        opinion = br_dates(fmt("decisao_art11", public.get("decisao_art11")))
        out.append(
            "Estratégico (Art. 11): análise direta pela Comissão, sem a pontuação"
            + (f"; parecer: {opinion}" if opinion else "")
            + "."
        )
    elif _yes(public.get("pedido_estrategico")):
        out.append("Marcado como estratégico (Art. 11); aguarda parecer da Comissão.")
    if _yes(public.get("indicio_art12")):
        # the scoring's reason already opens with the indication (Art. 12 §1)
        reason = fmt("motivo_art12", public.get("motivo_art12")).rstrip(".")
        out.append((reason or "Indício de via rural de alto fluxo (Art. 12 §1)") + ".")
    if _yes(public.get("art12_decidido")):
        procedure = fmt("procedimento_art12", public.get("procedimento_art12")) or "não informado"
        out.append(
            "Execução direta decidida pelo Poder Executivo (Art. 12 §2), procedimento "
            f"administrativo {procedure}."
        )
    return out


def _place_section(public: pd.Series, stretch: bool) -> list[str]:
    """Panel paragraphs on a place to confirm (``stretch``) or confirmed by the Commission.

    Parameters
    ----------
    public : pandas.Series
        The request's public row.
    stretch : bool
        Whether the request is drawn as its candidate stretch (pending location).

    Returns
    -------
    list of str
        HTML (escaped), empty for a request located as usual.
    """
    if stretch:
        positions = fmt("posicoes_avaliadas", public.get("posicoes_avaliadas"))
        among = f"entre as {positions} posições avaliadas" if positions else "entre as posições"
        out = [
            "<h2>Local a confirmar</h2>",
            f'<div class="gi-local-confirmar"><b>{html.escape(place_to_confirm(public))}</b>',
        ]
        check = fmt("confirmar_no_local", public.get("confirmar_no_local"))
        if check:
            out.append(f"<p>{html.escape(check)}</p>")
        out.append("</div>")
        out.append(
            '<p class="gi-nota">'
            + html.escape(
                "O trecho candidato aparece tracejado no mapa. A pontuação, a extensão "
                f"proposta, os postes e o custo abaixo são os do pior caso {among} ao longo "
                "dele (ponto laranja); os raios e as evidências são os dessa posição."
            )
            + "</p>"
        )
        return out
    if clean(public.get("geocodificacao")) == "localizacao_confirmada":
        decision = br_dates(fmt("decisao_localizacao", public.get("decisao_localizacao")))
        text = "Local confirmado pela Comissão (decisão 'localizacao')"
        return [
            "<h2>Local confirmado</h2>",
            f"<p>{html.escape(text + (f': {decision}' if decision else '.'))}</p>",
        ]
    return []


def _field_rows(
    public: pd.Series, columns: Sequence[str], spec: MapSpec, catalog: Catalog
) -> list[tuple[str, str]]:
    """Label and text of each of ``columns``: methods, grid types and radii in words."""
    style = layer_style("pedidos", catalog)
    # field labels: the catalog's, then those of the composition (fields it lacks)
    aliases = {**layer_style("extensoes", catalog).campos, **style.campos, **spec.rotulos}
    kinds = catalog.rede_existente.tipos
    methods = path_methods(catalog)
    words = value_labels("pedidos", catalog)
    out = []
    for c in columns:
        value = public.get(c)
        if c == "metodo_distancia":
            text = methods.get(str(value), fmt(c, value))
        elif c == "rede_alvo_tipo":
            text = kinds[str(value)].rotulo if str(value) in kinds else fmt(c, value)
        elif c == "incerteza_m":
            radius = clean(value)
            text = "" if radius is None else f"± {_number(float(radius), 0)} m"
        elif isinstance(clean(value), str):  # a code in words, a date as dd/mm/aaaa
            text = display(c, clean(value), words)
        else:
            text = fmt(c, value)
        out.append((aliases.get(c, c), text))
    return out


def _head(public: pd.Series, style: LayerStyle, stretch: bool) -> list[str]:
    """Head the panel: the protocol, the situation's chip, the position and the points."""
    situation = style.symbol_for(public.get("situacao"))
    head = [
        f"<h1>Pedido {html.escape(fmt('protocolo', public.get('protocolo')))}</h1>",
        f'<div class="gi-situacao"><span class="gi-chip" style="background:{situation.cor}">'
        f"</span>{html.escape(situation.rotulo)}</div>",
    ]
    summary = []
    if fmt("posicao", public.get("posicao")):
        summary.append(f"{fmt('posicao', public.get('posicao'))}º na classificação")
    summary.append(
        f"<b>{html.escape(fmt('pontuacao_total', public.get('pontuacao_total')))}</b> de 100 pontos"
    )
    if stretch:
        summary[-1] += " no pior caso"
    head.append(f"<div>{' · '.join(summary)}</div>")
    alerts = alerts_html(public.get("alertas"))
    if alerts:
        head.append(alerts)
    return head


def alerts_html(value: Any) -> str:
    """Badges of a request's alerts (column ``alertas``, labels separated by ``"; "``).

    Parameters
    ----------
    value : object
        The cell; missing, blank or absent: no badge.

    Returns
    -------
    str
        ``<div class="gi-alertas">`` with one escaped ``<span class="gi-alerta">`` per
        alert (as ``geoIp.alertas`` draws them in the popups), or ``""``.
    """
    text = fmt("alertas", value)
    items = [t.strip() for t in text.split(";") if t.strip()]
    if not items:
        return ""
    badges = "".join(
        '<span class="gi-alerta"><i class="fa-solid fa-triangle-exclamation"></i> '
        f"{html.escape(t)}</span>"
        for t in items
    )
    return f'<div class="gi-alertas">{badges}</div>'


def _criterion(public: pd.Series, style: LayerStyle, c: str) -> str:
    """One criterion of Art. 9: suggested and final points, level, motivation, decision."""
    suggested, final = fmt("p", public.get(f"sugerido_{c}")), fmt("p", public.get(f"pont_{c}"))
    level = fmt("n", public.get(f"nivel_{c}"))
    points = f"sugerido {suggested} · final {final}"
    block = [
        '<div class="gi-criterio"><div class="gi-criterio-cab">',
        f"<span>{html.escape(style.campos.get(f'pont_{c}', c))}</span>",
        f'<span class="gi-criterio-pontos">{html.escape(points)}</span></div>',
    ]
    if level:
        block.append(f"<div>Nível {html.escape(level)}</div>")
    motivation = br_dates(fmt("m", public.get(f"motivacao_{c}")))
    block.append(f'<p class="gi-livre">{html.escape(motivation)}</p>')
    decision = br_dates(fmt("d", public.get(f"decisao_{c}")))
    if decision:
        block.append(f'<div class="gi-decisao">Decisão da Comissão: {html.escape(decision)}</div>')
    block.append("</div>")
    return "".join(block)


def _evidence_lists(evidence: Sequence[tuple[str, str, list[str]]]) -> list[str]:
    """Each group of evidence with its halo's colour and the items counted."""
    out = []
    for label, colour, lines in evidence:
        items = "".join(f"<li>{html.escape(t)}</li>" for t in lines) or "<li>nenhuma</li>"
        out.append(
            f'<div><span class="gi-s gi-s-halo" style="border-color:{colour}"></span> '
            f'{html.escape(label)}<ul class="gi-evidencias">{items}</ul></div>'
        )
    return out


def _closing(public: pd.Series, rings: Sequence[tuple[float, str, str]]) -> list[str]:
    """Close the panel: the situation's reason and problems, the radii, the LGPD note."""
    out = []
    reason = br_dates(fmt("motivo_situacao", public.get("motivo_situacao")))
    problems = br_dates(fmt("problemas", public.get("problemas")))
    if reason or problems:
        out.append("<h2>Situação</h2>")
        out += [f'<p class="gi-livre">{html.escape(t)}</p>' for t in (reason, problems) if t]
    radii = "; ".join(f"{label}: {fmt('r', r)} m" for r, label, _ in rings)
    if radii:
        out.append(f'<p class="gi-nota">Raios das regras do município: {html.escape(radii)}.</p>')
    out.append('<p class="gi-nota">Dados públicos: sem dados pessoais do solicitante (LGPD).</p>')
    return out


def panel_html(
    public: pd.Series,
    sources: MapSources,
    spec: MapSpec,
    rings: Sequence[tuple[float, str, str]],
    evidence: Sequence[tuple[str, str, list[str]]],
    stretch: bool = False,
) -> str:
    """Write the side panel of a request's map.

    Parameters
    ----------
    public : pandas.Series
        The request's row of :func:`geo_ip.requests.privacy.public_view`.
    sources : MapSources
        The run's layers (the catalog's labels and symbols).
    spec : MapSpec
        The request map's composition (its field labels, ``rotulos``).
    rings : sequence of (float, str, str)
        Radius, label and colour of each ring drawn.
    evidence : sequence of (str, str, list of str)
        Label, colour and items of each group of evidence counted.
    stretch : bool
        Whether the request is drawn as its candidate stretch (pending location).

    Returns
    -------
    str
        HTML, every value escaped.
    """
    catalog = sources.catalog
    style = layer_style("pedidos", catalog)
    body = [*_head(public, style, stretch), *_place_section(public, stretch)]
    for title, columns in (
        ("Localização", _LOCATION),
        ("Extensão proposta", _EXTENSION),
        ("Beneficiários, custo e participação", _COST),
    ):
        body += [f"<h2>{title}</h2>", _table(_field_rows(public, columns, spec, catalog))]
    acts = _acts(public)
    if acts:
        body.append("<h2>Hipossuficiência e Arts. 11 e 12</h2>")
        body += [f"<p>{html.escape(t)}</p>" for t in acts]
    body.append("<h2>Critérios do Art. 9</h2>")
    body += [_criterion(public, style, c) for c in CRITERIA]
    body.append("<h2>Evidências contadas</h2>")
    body += _evidence_lists(evidence)
    body += _closing(public, rings)
    return "".join(body)
