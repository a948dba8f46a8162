"""The map of one request: its road, grid connection, rings, evidence and side panel.

Layers of ``maps/pedido.toml`` that are not in the catalog
(:data:`geo_ip.outputs.maps.SPECIAL_LAYERS`) are built here from the request's row, its
path and ``Assessment.items`` (the facilities and occurrences counted for each criterion,
with ids and distances). Text comes from :func:`geo_ip.requests.privacy.public_view` of
the row: no personal data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import br_dates
from geo_ip.outputs.maps import MapLayer, MapSpec, merged_rings
from geo_ip.outputs.styles import NEUTRAL_COLOUR, layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.layers import (
    LayerData,
    MapSources,
    candidate_stretch,
    clean,
    place_to_confirm,
    to_wgs84,
    wgs84_bounds,
)
from geo_ip.rules.config import CRITERIA

__all__ = ["OwnLayer", "RequestLayers", "fmt", "request_layers"]

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
_METHODS = {
    "via": "pelas vias",
    "reta_fator_desvio": "linha reta × fator de desvio (sem via)",
    "sem_rede": "sem rede utilizável",
    "sem_localizacao": "sem localização",
}
WORST_CASE = "Pior caso avaliado no trecho candidato (pontuação, extensão e custo mostrados)"
"""Label of the position of a request pending location whose evidence the map shows."""


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


@dataclass
class OwnLayer:
    """Elements of one of the map's own layers and its legend rows."""

    elements: list[Element]
    legend: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RequestLayers:
    """What :func:`geo_ip.outputs.web.webmap.request_map` needs beyond the catalog layers.

    Attributes
    ----------
    bounds : list
        Initial view (largest ring and the path), WGS 84.
    area : shapely.Geometry
        Metric extent the territory layers are cut to.
    own : dict of str to OwnLayer
        The map's own layers, by name.
    panel : str
        HTML of the side panel.
    """

    bounds: list[list[float]]
    area: shapely.Geometry
    own: dict[str, OwnLayer]
    panel: str


def _own_spec(
    title: str,
    classes: Sequence[dict[str, Any]],
    fields: Sequence[tuple[str, str]],
    *,
    marker: str = "circulo",
    tip: str | None = None,
    campo: str | None = None,
) -> dict[str, Any]:
    return {
        "titulo": title,
        "tipo": "categorizado" if campo else "simples",
        "campo": campo,
        "classes": list(classes),
        "campos": [list(f) for f in fields],
        "dica": tip,
        "marcador": marker,
        "popup": "tabela",
        "agrupar": False,
    }


def _rings(spec: MapSpec, sources: MapSources) -> list[tuple[float, str, str]]:
    """(radius, label, colour) of the rings, equal radii merged into one ring."""
    rules = sources.assessment.rules.avaliacao
    return [
        (radius, "; ".join(r.rotulo for r in rings), rings[0].cor)
        for radius, rings in merged_rings(spec, rules)
    ]


def _colour(layer: MapLayer) -> str:
    """``cor`` of one of the map's own layers (:func:`geo_ip.outputs.maps.load_map` requires it)."""
    if layer.cor is None:
        raise GeoIPError(f"camada '{layer.camada}' do mapa sem cor")
    return layer.cor


def _ring_layer(
    point: shapely.Point, rings: Sequence[tuple[float, str, str]], crs: str
) -> OwnLayer:
    lon, lat = to_wgs84(crs).transform(point.x, point.y)
    elements: list[Element] = []
    legend = []
    for radius, label, colour in rings:
        text = f"{label}: {fmt('raio', radius)} m"
        elements.append(
            folium.Circle(
                location=[round(lat, 6), round(lon, 6)],
                radius=radius,
                color=colour,
                weight=2,
                fill=False,
                dash_array="8 6",
                tooltip=text,
                interactive=True,
            )
        )
        legend.append((parts.symbol("anel", colour), text))
    return OwnLayer(elements, legend)


def _road_layer(
    layer: MapLayer,
    row: pd.Series,
    point: shapely.Point,
    sources: MapSources,
    worst: shapely.Point | None = None,
) -> OwnLayer:
    """Draw the request's road edge and its link to it.

    For a request pending location, the worse case's edge and position (``worst``)
    instead of the link.
    """
    roads = sources.roads
    colour = _colour(layer)
    width = layer.largura or 10.0
    geoms: list[Any] = []
    props: list[dict[str, Any]] = []
    if {"u", "v", "key"} <= set(roads.columns) and pd.notna(row.get("aresta_u")):
        match = roads[
            (roads["u"] == row["aresta_u"])
            & (roads["v"] == row["aresta_v"])
            & (roads["key"] == row["aresta_key"])
        ]
        if len(match):
            edge = match.iloc[0]
            geoms.append(edge.geometry)
            props.append({k: clean(edge.get(k)) for k in ("name", "hierarquia", "highway")})
            props[-1]["parte"] = "trecho"
    x_road, y_road = row.get("x_via"), row.get("y_via")
    if worst is not None:
        geoms.append(worst)
        props.append({"parte": "pior_caso", "name": clean(row.get("logradouro_via"))})
    elif pd.notna(x_road) and pd.notna(y_road):
        geoms.append(shapely.LineString([(point.x, point.y), (float(x_road), float(y_road))]))
        props.append({"parte": "ligacao", "distancia_via_m": clean(row.get("distancia_via_m"))})
    worse = layer_style("pedidos", sources.catalog).symbol_for("pendente_localizacao")
    classes = [
        {
            "valor": "trecho",
            "rotulo": "Trecho de via ligado ao pedido",
            "cor": colour,
            "largura": width,
            "opacidade": 0.45,
        },
        {
            "valor": "ligacao",
            "rotulo": "Do pedido ao ponto mais próximo da via",
            "cor": colour,
            "largura": 2.5,
            "tracejado": True,
        },
        {"valor": "pior_caso", "rotulo": WORST_CASE, "cor": worse.cor, "largura": worse.largura},
    ]
    fields = [
        ("name", "Logradouro"),
        ("hierarquia", "Hierarquia"),
        ("highway", "Tipo OSM"),
        ("distancia_via_m", "Distância à via (m)"),
    ]
    data = LayerData.build(
        geoms,
        [{k: v for k, v in p.items() if v is not None} for p in props],
        sources.assessment.crs,
    )
    js = _own_spec(layer.titulo or "", classes, fields, tip="{name}", campo="parte")
    legend = [(parts.symbol("linha", colour, 8), str(classes[0]["rotulo"]))]
    if worst is None:
        legend.append((parts.symbol("linha", colour, 2.5, dashed=True), str(classes[1]["rotulo"])))
    else:
        legend.append((parts.symbol("ponto", str(classes[2]["cor"])), WORST_CASE))
    return OwnLayer([parts.Layer(data.json(), js)], legend)


def _connection_layer(
    layer: MapLayer, row: pd.Series, path: Any, sources: MapSources
) -> OwnLayer | None:
    if path is None or shapely.is_missing(path) or shapely.is_empty(path):
        return None
    start = shapely.get_point(path, 0)
    kinds = sources.catalog.rede_existente.tipos
    kind = str(row.get("rede_alvo_tipo") or "")
    props = {
        "rede": kinds[kind].rotulo if kind in kinds else kind,
        "elemento": clean(row.get("rede_alvo_id")),
        "metodo": _METHODS.get(str(row.get("metodo_distancia"))),
    }
    colour = _colour(layer)
    classes = [{"rotulo": layer.titulo or "", "cor": colour, "largura": 7}]
    fields = [("rede", "Rede existente"), ("elemento", "Elemento"), ("metodo", "Traçado")]
    data = LayerData.build([start], [{k: v for k, v in props.items() if v}], sources.assessment.crs)
    js = _own_spec(layer.titulo or "", classes, fields, tip="Conexão: {rede} {elemento}")
    return OwnLayer([parts.Layer(data.json(), js)], [(parts.symbol("ponto", colour), "Conexão")])


def _evidence(
    spec: MapSpec, items: dict[str, Any], point: shapely.Point, sources: MapSources
) -> tuple[OwnLayer, list[tuple[str, str, list[str]]]]:
    """Halo on every item counted and a line to the request; also the panel's lists."""
    catalog = sources.catalog
    groups = {g.grupo: g for g in spec.evidencias}
    facilities = sources.frames["equipamentos"]
    by_osm = dict(zip(facilities["osm_id"].astype(str), facilities.geometry, strict=True))
    occurrences = sources.frames.get("ocorrencias")
    by_line = (
        dict(zip(occurrences["linha"].tolist(), occurrences.geometry, strict=True))
        if occurrences is not None
        else {}
    )
    categories = {k: c.rotulo for k, c in catalog.equipamentos.categorias.items()}
    occ_kinds = {c.valor: c.rotulo for c in layer_style("ocorrencias", catalog).classes}
    geoms: list[Any] = []
    props: list[dict[str, Any]] = []
    drawn: dict[str, int] = {}
    panel: list[tuple[str, str, list[str]]] = []
    order = [*groups, *(k for k in items if k not in groups)]
    for key in order:
        entries = items.get(key) or []
        label = groups[key].rotulo if key in groups else key
        colour = groups[key].cor if key in groups else NEUTRAL_COLOUR
        lines = []
        for item in entries:
            if "osm_id" in item:
                ident = str(item["osm_id"])
                geom = by_osm.get(ident)
                kind = categories.get(str(item.get("categoria")), str(item.get("categoria", "")))
                name = clean(item.get("nome")) or kind
            else:
                ident = f"ocorrência (linha {item.get('linha')})"
                geom = by_line.get(item.get("linha"))
                kind = occ_kinds.get(str(item.get("tipo")), str(item.get("tipo", "")))
                name = f"{kind} em {item.get('data')}" if item.get("data") else kind
            distance = clean(item.get("distancia_m"))
            lines.append(f"{name} — {fmt('distancia_m', distance)} m" if distance else name)
            if geom is None:
                continue
            common = {
                "grupo": key,
                "criterio": label,
                "categoria": kind,
                "nome": name,
                "distancia_m": distance,
                "id": ident,
            }
            geoms.append(geom)
            props.append({**common, "_k": drawn.get(ident, 0)})
            drawn[ident] = drawn.get(ident, 0) + 1
            geoms.append(shapely.LineString([(point.x, point.y), (geom.x, geom.y)]))
            props.append(common)
        panel.append((label, colour, lines))
    classes = [
        {"valor": k, "rotulo": g.rotulo, "cor": g.cor, "largura": 8} for k, g in groups.items()
    ]
    classes += [
        {"valor": k, "rotulo": k, "cor": NEUTRAL_COLOUR, "largura": 8}
        for k in items
        if k not in groups
    ]
    fields = [
        ("criterio", "Conta em"),
        ("categoria", "Categoria"),
        ("nome", "Nome"),
        ("distancia_m", "Distância ao pedido (m)"),
        ("id", "Identificador"),
    ]
    data = LayerData.build(
        geoms,
        [{k: v for k, v in p.items() if v is not None} for p in props],
        sources.assessment.crs,
    )
    title = next((la.titulo for la in spec.camadas if la.camada == "evidencias"), "") or ""
    js = _own_spec(title, classes, fields, marker="halo", tip="{nome}", campo="grupo")
    legend = [(parts.symbol("halo", c), f"{label} ({len(lines)})") for label, c, lines in panel]
    return OwnLayer([parts.Layer(data.json(), js)], legend), panel


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


def _panel(
    public: pd.Series,
    sources: MapSources,
    spec: MapSpec,
    rings: Sequence[tuple[float, str, str]],
    evidence: Sequence[tuple[str, str, list[str]]],
    stretch: bool = False,
) -> str:
    catalog = sources.catalog
    style = layer_style("pedidos", catalog)
    # field labels: the catalog's, then those of the composition (fields it lacks)
    aliases = {**layer_style("extensoes", catalog).campos, **style.campos, **spec.rotulos}
    kinds = catalog.rede_existente.tipos

    def rows(columns: Sequence[str]) -> list[tuple[str, str]]:
        out = []
        for c in columns:
            value = public.get(c)
            if c == "metodo_distancia":
                text = _METHODS.get(str(value), fmt(c, value))
            elif c == "rede_alvo_tipo":
                text = kinds[str(value)].rotulo if str(value) in kinds else fmt(c, value)
            elif c == "incerteza_m":
                radius = clean(value)
                text = "" if radius is None else f"± {_number(float(radius), 0)} m"
            else:
                text = fmt(c, value)
            out.append((aliases.get(c, c), text))
        return out

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
    body = [*head, *_place_section(public, stretch)]
    body += [
        "<h2>Localização</h2>",
        _table(rows(_LOCATION)),
        "<h2>Extensão proposta</h2>",
        _table(rows(_EXTENSION)),
        "<h2>Beneficiários, custo e participação</h2>",
        _table(rows(_COST)),
    ]
    acts = _acts(public)
    if acts:
        body.append("<h2>Hipossuficiência e Arts. 11 e 12</h2>")
        body += [f"<p>{html.escape(t)}</p>" for t in acts]
    body.append("<h2>Critérios do Art. 9</h2>")
    for c in CRITERIA:
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
        block.append(f"<p>{html.escape(fmt('m', public.get(f'motivacao_{c}')))}</p>")
        decision = fmt("d", public.get(f"decisao_{c}"))
        if decision:
            block.append(
                f'<div class="gi-decisao">Decisão da Comissão: {html.escape(decision)}</div>'
            )
        block.append("</div>")
        body.append("".join(block))
    body.append("<h2>Evidências contadas</h2>")
    for label, colour, lines in evidence:
        items = "".join(f"<li>{html.escape(t)}</li>" for t in lines) or "<li>nenhuma</li>"
        body.append(
            f'<div><span class="gi-s gi-s-halo" style="border-color:{colour}"></span> '
            f'{html.escape(label)}<ul class="gi-evidencias">{items}</ul></div>'
        )
    reason = fmt("motivo_situacao", public.get("motivo_situacao"))
    problems = fmt("problemas", public.get("problemas"))
    if reason or problems:
        body.append("<h2>Situação</h2>")
        body += [f"<p>{html.escape(t)}</p>" for t in (reason, problems) if t]
    radii = "; ".join(f"{label}: {fmt('r', r)} m" for r, label, _ in rings)
    if radii:
        body.append(f'<p class="gi-nota">Raios das regras do município: {html.escape(radii)}.</p>')
    body.append('<p class="gi-nota">Dados públicos: sem dados pessoais do solicitante (LGPD).</p>')
    return "".join(body)


def request_layers(sources: MapSources, index: int, spec: MapSpec) -> RequestLayers:
    """Build the own layers, extent and panel of the map of request ``index``.

    Parameters
    ----------
    sources : MapSources
        Layers of the run.
    index : int
        Row of ``Assessment.table``.
    spec : MapSpec
        The request map's composition.

    Returns
    -------
    RequestLayers
        The pieces.

    Raises
    ------
    GeoIPError
        When the request has no location.
    """
    assessment = sources.assessment
    row = assessment.table.iloc[index]
    x, y = pd.to_numeric(pd.Series([row.get("x"), row.get("y")]), errors="coerce").to_numpy()
    if not (np.isfinite(x) and np.isfinite(y)):
        raise GeoIPError(f"pedido '{row.get('protocolo')}' sem localização: não há mapa")
    point = shapely.Point(float(x), float(y))
    path = assessment.paths.iloc[index] if index < len(assessment.paths) else None
    rings = _rings(spec, sources)
    largest = max((r for r, _, _ in rings), default=100.0)
    stretch = candidate_stretch(row)
    worst = None
    if stretch is not None:
        # pending location: the evidence is that of the worse position along the stretch
        xv, yv = pd.to_numeric(pd.Series([row.get("x_via"), row.get("y_via")]), errors="coerce")
        if np.isfinite(xv) and np.isfinite(yv):
            worst = point = shapely.Point(float(xv), float(yv))
    extent: list[shapely.Geometry] = [point.buffer(largest)]
    if stretch is not None:
        extent.append(stretch)
    if path is not None and not shapely.is_missing(path):
        extent.append(path)
    area = shapely.box(*shapely.total_bounds(np.asarray(extent, dtype=object))).buffer(
        spec.margem_m, join_style="mitre"
    )
    public = sources.public.iloc[index]
    items = assessment.items[index] if index < len(assessment.items) else {}
    evidence, lists = _evidence(spec, items, point, sources)
    own: dict[str, OwnLayer] = {
        "aneis": _ring_layer(point, rings, assessment.crs),
        "evidencias": evidence,
    }
    for layer in spec.camadas:
        if layer.camada == "via_pedido":
            own["via_pedido"] = _road_layer(layer, row, point, sources, worst)
        elif layer.camada == "conexao":
            connection = _connection_layer(layer, row, path, sources)
            if connection is not None:
                own["conexao"] = connection
    return RequestLayers(
        bounds=wgs84_bounds(extent, assessment.crs),
        area=area,
        own=own,
        panel=_panel(public, sources, spec, rings, lists, stretch is not None),
    )
