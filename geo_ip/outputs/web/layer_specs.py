"""How a catalog layer is drawn on a web map: its fields, its ``geoIp.camada`` spec, its legend.

The compositions (``maps/*.toml``, :mod:`geo_ip.outputs.maps`) list catalog layers,
each maybe with an alternative style; this module turns one into what ``mapa.js``
draws: the style (:func:`map_style`), the fields the features must carry for the
popup, the hover label and the renderer (:func:`layer_fields`, :func:`map_fields`),
the layer's spec (:func:`catalog_spec`) and its legend section
(:func:`legend_section`).
"""

from __future__ import annotations

import re
from typing import Any

from geo_ip.outputs.maps import SPECIAL_LAYERS, MapLayer, MapSpec
from geo_ip.outputs.styles import LayerStyle, layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.layers import MapSources
from geo_ip.sources.catalog import Catalog

__all__ = [
    "STRETCH_TIP",
    "catalog_spec",
    "layer_fields",
    "legend_section",
    "map_fields",
    "map_style",
]

_MARKERS = {"pedidos": "pedido", "equipamentos": "icone", "ocorrencias": "icone"}
_REQUEST_HEADER = {"protocolo", "posicao", "situacao", "pontuacao_total", "alertas"}
"""Fields the request popup shows in its head (``alertas``: badges, when the column exists)."""
_PLACE_FIELDS = ("local_a_confirmar", "confirmar_no_local")
"""Fields of a request drawn as its candidate stretch: the popup's own block."""
STRETCH_TIP = "{protocolo} — {local_a_confirmar}"
"""Hover label of a request drawn as its candidate stretch (uncertainty and ranges)."""


def map_style(layer: MapLayer, catalog: Catalog) -> LayerStyle:
    """Return the style a composition's layer is drawn with: the catalog's, or its alternative.

    Parameters
    ----------
    layer : MapLayer
        Composition entry; ``estilo`` names one of the layer's ``alternativos``.
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    LayerStyle
        The layer's style, with the renderer (type, field, classes) of the alternative.
    """
    style = layer_style(layer.camada, catalog)
    if layer.estilo is None:
        return style
    alternative = getattr(catalog, layer.camada).alternativos[layer.estilo]
    return LayerStyle(
        **{
            **style.model_dump(),
            "tipo": alternative.tipo,
            "campo": alternative.campo,
            "classes": alternative.classes,
        }
    )


def layer_fields(layer: MapLayer, style: LayerStyle) -> list[str]:
    """Fields a layer's features must carry: popup, hover label and renderer.

    Parameters
    ----------
    layer : MapLayer
        Composition entry (its popup fields and hover label, ``campos`` and ``dica``).
    style : LayerStyle
        Its :func:`map_style` (the renderer's field).

    Returns
    -------
    list of str
        Field names, maybe repeated; a requests layer adds its popup's header, place
        and criteria fields and ``mapa``.
    """
    names = list(layer.campos or style.campos)
    if layer.dica:
        names += [n for n in _placeholders(layer.dica) if n not in names]
    if style.campo:
        names.append(style.campo)
    if layer.camada == "pedidos":
        names += [
            *_REQUEST_HEADER,
            *_PLACE_FIELDS,
            "mapa",
            *(f for r in parts.criteria_rows(style) for f in r[1:]),
        ]
    return names


def _placeholders(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


def map_fields(spec: MapSpec, catalog: Catalog) -> dict[str, list[str]]:
    """Union of the fields of every layer of a map, per catalog layer (shared data).

    Parameters
    ----------
    spec : MapSpec
        The map; its own layers (:data:`geo_ip.outputs.maps.SPECIAL_LAYERS`) are skipped.
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    dict of str to list of str
        :func:`layer_fields` of every entry of each catalog layer, so that two entries
        of one layer (two styles) share its serialised features.
    """
    out: dict[str, list[str]] = {}
    for layer in spec.camadas:
        if layer.camada in SPECIAL_LAYERS[spec.nome]:
            continue
        out.setdefault(layer.camada, []).extend(layer_fields(layer, map_style(layer, catalog)))
    return out


def catalog_spec(
    layer: MapLayer, spec: MapSpec, sources: MapSources, *, count: int, link: str | None
) -> tuple[dict[str, Any], LayerStyle]:
    """Build the ``geoIp.camada`` spec of a catalog layer of a map.

    Parameters
    ----------
    layer : MapLayer
        Composition entry.
    spec : MapSpec
        The map.
    sources : MapSources
        Catalog and data.
    count : int
        Features the layer shows (clustering only above ``spec.agrupar_acima_de``).
    link : str or None
        Prefix of the request maps' links in request popups (None: no link).

    Returns
    -------
    (dict, LayerStyle)
        The spec and the style used.
    """
    catalog = sources.catalog
    style = map_style(layer, catalog)
    title = spec.layer_title(layer, catalog)
    marker = _MARKERS.get(layer.camada, "circulo")
    cluster = layer.agrupar and count > spec.agrupar_acima_de
    popup: dict[str, Any] = {}  # a request's popup: header, criteria, place, link
    if layer.camada == "pedidos":
        rows = parts.criteria_rows(style)
        shown = _REQUEST_HEADER | set(_PLACE_FIELDS) | {f for r in rows for f in r[1:]}
        popup = {
            "popup": "pedido",
            "fields": [f for f in (layer.campos or style.campos) if f not in shown],
            "criterios": rows,
            "situacao": parts.situation_spec(layer_style("pedidos", catalog)),
            "link": link,
            "dica_trecho": STRETCH_TIP,
        }
    out = parts.spec_for(style, layer, title, marker=marker, cluster=cluster, **popup)
    return out, style


def _has_stretches(sources: MapSources) -> bool:
    """Tell whether some request is drawn as its candidate stretch."""
    requests = sources.frames["pedidos"]
    if "local_a_confirmar" not in requests.columns:
        return False
    return bool(requests["local_a_confirmar"].notna().any())


def legend_section(
    layer: MapLayer, js: dict[str, Any], style: LayerStyle, sources: MapSources
) -> parts.LegendEntry:
    """Legend section of a catalog layer of a map (with the candidate stretches' row).

    Parameters
    ----------
    layer : MapLayer
        Composition entry.
    js : dict
        Its spec (:func:`catalog_spec`).
    style : LayerStyle
        Its style.
    sources : MapSources
        Data of the run.

    Returns
    -------
    (str, list of (str, str), bool)
        The layer's title; its rows, symbol HTML and label (a requests layer of a run
        with a request pending confirmation of its place ends with the dashed line it
        is drawn as); whether the section is open on loading.
    """
    rows = parts.style_entries(style, js["marcador"])
    if layer.camada == "pedidos" and _has_stretches(sources):
        rows.append(parts.stretch_entry(layer_style("pedidos", sources.catalog), style))
    return js["titulo"], rows, _opened(layer)


def _opened(layer: MapLayer) -> bool:
    """Legend section open on loading: the visible request layers."""
    return layer.visivel and layer.camada in ("pedidos", "extensoes", "postes_propostos")
