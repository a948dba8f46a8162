"""The map of one request: its road, grid connection, rings, evidence and side panel.

The panel's HTML is written by :mod:`geo_ip.outputs.web.panel`.

Layers of ``maps/pedido.toml`` that are not in the catalog
(:data:`geo_ip.outputs.maps.SPECIAL_LAYERS`) are built here from the request's row, its
path and ``Assessment.items`` (the facilities and occurrences counted for each criterion,
with ids and distances). Text comes from :func:`geo_ip.requests.privacy.public_view` of
the row: no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import (
    REFERENCE_FIELDS,
    br_date,
    candidate_stretch,
    reference_words,
    value_labels,
)
from geo_ip.outputs.maps import MapLayer, MapSpec, merged_rings
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.geojson import LayerData, clean, to_wgs84, wgs84_bounds
from geo_ip.outputs.web.layers import MapSources
from geo_ip.outputs.web.panel import fmt, panel_html, path_methods

__all__ = ["OwnLayer", "RequestLayers", "request_layers"]

WORST_CASE = "Pior caso avaliado no trecho candidato (pontuação, extensão e custo mostrados)"
"""Label of the position of a request pending location whose evidence the map shows."""


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
    names = {f[0] for f in fields}
    out = {
        "titulo": title,
        "tipo": "categorizado" if campo else "simples",
        "campo": campo,
        "classes": list(classes),
        "campos": [list(f) for f in fields],
        "dica": tip,
        "marcador": marker,
        "popup": "tabela",
        "agrupar": False,
        # words for the codes (road hierarchy, OSM highway...) and references
        "valores": {k: v for k, v in value_labels("vias").items() if k in names},
    }
    if names & set(REFERENCE_FIELDS):
        out["referencias"] = reference_words()
    return out


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
    roads_fields = layer_style("vias", sources.catalog).campos
    fields = [
        ("name", layer_style("pedidos", sources.catalog).campos["logradouro"]),
        ("hierarquia", roads_fields["hierarquia"]),
        ("highway", roads_fields["highway"]),
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
        "metodo": path_methods(sources.catalog).get(str(row.get("metodo_distancia"))),
    }
    colour = _colour(layer)
    classes = [{"rotulo": layer.titulo or "", "cor": colour, "largura": 7}]
    labels = layer_style("extensoes", sources.catalog).campos  # as in the extension's popup
    columns = {"rede": "rede_alvo_tipo", "elemento": "rede_alvo_id", "metodo": "metodo_distancia"}
    fields = [(name, labels[column]) for name, column in columns.items()]
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
        colour = groups[key].cor if key in groups else load_palette().neutra
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
                when = br_date(item.get("data")) if item.get("data") else ""
                name = f"{kind} em {when}" if when else kind
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
        {"valor": k, "rotulo": k, "cor": load_palette().neutra, "largura": 8}
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


def _with_alerts(public: pd.Series, sources: MapSources, index: int) -> pd.Series:
    """Add the request's ``alertas`` of the public ranking to its public row, if any."""
    requests = sources.frames["pedidos"]
    if "alertas" in public.index or "alertas" not in requests.columns:
        return public
    mine = requests.loc[requests["indice"].to_numpy() == index, "alertas"]
    if not len(mine):
        return public
    out = public.copy()
    out["alertas"] = mine.iloc[0]
    return out


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
    public = _with_alerts(sources.public.iloc[index], sources, index)
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
        panel=panel_html(public, sources, spec, rings, lists, stretch is not None),
    )
