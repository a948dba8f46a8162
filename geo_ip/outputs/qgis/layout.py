"""The print layout of the QGIS project (:func:`geo_ip.outputs.qgis.qgs.project_document`).

Private helper. One A4 landscape layout (297 × 210 mm), written as QGIS 3 writes a
``<Layout>`` in ``<Layouts>`` (``QgsLayoutManager::writeXml``): the page, the map of the
requests' extent in the project CRS, its legend and scale bar (linked to the map by its
uuid, ``map_uuid`` / ``mapUuid``), QGIS's own north arrow (``LayoutItemPicture`` of
``:/images/north_arrows/layout_default_north_arrow.svg``, grid north of the map), the
title and the provenance as ``LayoutItemLabel``. The map has no layer set of its own, so
it draws the layers ticked in the layer tree; the legend follows the project's tree and
lists only what the map shows. Item type numbers are ``QgsLayoutItemRegistry::ItemType``
(``QGraphicsItem::UserType + 100`` = 65636 for the base item, then group, page, map,
picture, label, legend, shape, polygon, polyline, scale bar).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import pyproj

from geo_ip.outputs.format import br_date
from geo_ip.outputs.qgis.qml import child
from geo_ip.rules.provenance import OSM_ATTRIBUTION

__all__ = [
    "ITEM_TYPES",
    "LAYOUT_NAME",
    "MAP_FRAME",
    "NORTH_ARROW_SVG",
    "PAGE_SIZE_MM",
    "layout_provenance",
    "layout_title",
    "layouts_element",
]

LAYOUT_NAME = "Mapa dos pedidos (A4 paisagem)"
"""Name of the layout in QGIS's layout manager."""
PAGE_SIZE_MM = (297.0, 210.0)
"""A4 landscape, width × height."""
NORTH_ARROW_SVG = ":/images/north_arrows/layout_default_north_arrow.svg"
"""QGIS's bundled default north arrow (a Qt resource, present in every QGIS 3)."""
ITEM_TYPES = {
    "page": "65638", "map": "65639", "picture": "65640", "label": "65641",
    "legend": "65642", "scalebar": "65646",
}  # fmt: skip
"""``QgsLayoutItemRegistry::ItemType`` of each item written."""
MAP_FRAME = (10.0, 27.0, 170.0, 158.0)
"""The map on the page: x, y, width, height (mm)."""
_LEGEND = (184.0, 27.0, 103.0, 158.0)
"""Two columns beside the map (a layer's classes may go on in the next column)."""
_NORTH = (165.0, 30.0, 12.0, 16.0)
"""Inside the map's top right corner."""
_SCALEBAR = (12.0, 172.0, 55.0, 11.0)
"""Inside the map's bottom left corner, on a white box."""
_TITLE = (10.0, 6.0, 277.0, 19.0)
_PROVENANCE = (10.0, 187.0, 277.0, 18.0)
_LEGEND_STYLES: tuple[tuple[str, float, bool, dict[str, str]], ...] = (
    ("title", 9.0, True, {"marginBottom": "1.5"}),
    ("group", 7.0, True, {"marginTop": "1.5"}),
    ("subgroup", 6.5, False, {"marginTop": "1"}),
    ("symbol", 6.0, False, {"marginTop": "0.6"}),
    ("symbolLabel", 6.0, False, {"marginTop": "0.6", "marginLeft": "1"}),
)
"""The legend's text: name, size (points), bold, margins (mm); small enough for 72 mm."""
_ALIGN = {"left": "1", "hcenter": "4", "top": "32", "vcenter": "128"}
"""``Qt::AlignmentFlag`` values."""
_SOURCE_NAMES = {
    "osm": "OpenStreetMap (arquivo)",
    "osm_online": "OpenStreetMap (baixado)",
    "rede": "rede elétrica existente",
    "mde": "modelo digital de elevação",
}
_MIN_HALF_SIDE_M = 150.0
"""Least half-width of the map around the requests (one request alone stays readable)."""


def _uuid(name: str) -> str:
    """Return a stable item uuid in QGIS's braces (same inputs, same project)."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"geo_ip/qgis/layout/{name}")) + "}"


def _color(parent: ET.Element, tag: str, rgba: tuple[int, int, int, int]) -> None:
    red, green, blue, alpha = (str(v) for v in rgba)
    child(parent, tag, red=red, green=green, blue=blue, alpha=alpha)


def _data_defined(parent: ET.Element, tag: str) -> None:
    holder = child(parent, tag)
    options = child(holder, "Option", type="Map")
    child(options, "Option", type="QString", value="", name="name")
    child(options, "Option", name="properties")
    child(options, "Option", type="QString", value="collection", name="type")


def _mm(value: float) -> str:
    return f"{round(value, 3):g}"


def _item(
    parent: ET.Element,
    kind: str,
    name: str,
    box: tuple[float, float, float, float],
    z: int,
    *,
    frame: bool = False,
    background: bool = False,
    **attrs: str,
) -> ET.Element:
    """Add a ``<LayoutItem>`` with the attributes every item has (``QgsLayoutItem::writeXml``)."""
    x, y, width, height = box
    item = child(
        parent,
        "LayoutItem",
        type=ITEM_TYPES[kind],
        uuid=_uuid(name),
        templateUuid=_uuid(name),
        id=name if kind != "page" else "",
        position=f"{_mm(x)},{_mm(y)},mm",
        positionOnPage=f"{_mm(x)},{_mm(y)},mm",
        size=f"{_mm(width)},{_mm(height)},mm",
        referencePoint="0",
        itemRotation="0",
        zValue=str(z),
        visibility="1",
        positionLock="false",
        opacity="1",
        frame="true" if frame else "false",
        frameJoinStyle="miter",
        outlineWidthM="0.3,mm",
        background="true" if background else "false",
        blendMode="0",
        excludeFromExports="0",
        groupUuid="",
        **attrs,
    )
    _color(item, "FrameColor", (0, 0, 0, 255))
    _color(item, "BackgroundColor", (255, 255, 255, 255))
    layout_object = child(item, "LayoutObject")
    _data_defined(layout_object, "dataDefinedProperties")
    child(layout_object, "customproperties")
    return item


def _text_style(parent: ET.Element, size: float, *, bold: bool = False) -> None:
    """Add the ``<text-style>`` QGIS ≥ 3.24 reads (``QgsTextFormat::writeXml``)."""
    style = child(
        parent,
        "text-style",
        fontFamily="Sans Serif",
        namedStyle="Bold" if bold else "Regular",
        fontSize=_mm(size),
        fontSizeUnit="Point",
        fontWeight="75" if bold else "50",
        fontItalic="0",
        fontUnderline="0",
        fontStrikeout="0",
        fontLetterSpacing="0",
        fontWordSpacing="0",
        textColor="0,0,0,255",
        textOpacity="1",
        multilineHeight="1",
        blendMode="0",
        capitalization="0",
        allowHtml="0",
        previewBkgrdColor="255,255,255,255",
    )
    child(style, "text-buffer", bufferDraw="0")
    child(style, "text-mask", maskEnabled="0")
    child(style, "background", shapeDraw="0")
    child(style, "shadow", shadowDraw="0")


def _label(
    parent: ET.Element,
    name: str,
    text: str,
    box: tuple[float, float, float, float],
    z: int,
    *,
    size: float,
    bold: bool = False,
    align: str = "left",
) -> None:
    """Add a ``LayoutItemLabel``: plain text, the 3.22 font and the 3.24+ one."""
    item = _item(
        parent,
        "label",
        name,
        box,
        z,
        htmlState="0",
        labelText=text,
        marginX="1",
        marginY="1",
        halign=_ALIGN[align],
        valign=_ALIGN["top"],
    )
    _font(item, "LabelFont", size, bold=bold)
    _color(item, "FontColor", (0, 0, 0, 255))
    _text_style(item, size, bold=bold)


def _font(parent: ET.Element, tag: str, size: float, *, bold: bool = False) -> None:
    """Add a font as QGIS 3.22 writes it (``QgsFontUtils::toXmlElement``, ``QFont::toString``)."""
    weight = "75" if bold else "50"
    child(
        parent,
        tag,
        description=f"Sans Serif,{_mm(size)},-1,5,{weight},0,0,0,0,0",
        style="Bold" if bold else "",
    )


def _fit(
    box: tuple[float, float, float, float], width_mm: float, height_mm: float
) -> tuple[float, float, float, float]:
    """Pad the requests' extent by a tenth and widen it to the frame's proportions."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = max((x1 - x0) / 2 * 1.1, _MIN_HALF_SIDE_M)
    half_h = max((y1 - y0) / 2 * 1.1, _MIN_HALF_SIDE_M)
    ratio = width_mm / height_mm
    if half_w / half_h < ratio:
        half_w = half_h * ratio
    else:
        half_h = half_w / ratio
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _page_symbol(parent: ET.Element) -> None:
    symbol = child(
        parent, "symbol", type="fill", name="", alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer = child(symbol, "layer", **{"class": "SimpleFill", "enabled": "1", "locked": "0"})
    layer.set("pass", "0")
    options = child(layer, "Option", type="Map")
    for key, value in (("color", "255,255,255,255"), ("style", "solid"),
                       ("outline_style", "no"), ("outline_color", "35,35,35,255"),
                       ("outline_width", "0.26"), ("outline_width_unit", "MM"),
                       ("joinstyle", "miter")):  # fmt: skip
        child(options, "Option", type="QString", value=value, name=key)
    _data_defined(layer, "data_defined_properties")


def layout_title(title: str, provenance: Mapping[str, Any]) -> str:
    """Return the layout's title: the project title, then the cycle and the reference date.

    Parameters
    ----------
    title : str
        The project title (it names the municipality of the data).
    provenance : mapping
        The assessment's provenance record (``ciclo``, ``data_referencia``).

    Returns
    -------
    str
        One or two lines.

    Examples
    --------
    >>> print(layout_title("Pedidos — Extrema", {"data_referencia": "2026-11-20"}))
    Pedidos — Extrema
    Situação em 20/11/2026
    """
    parts = []
    cycle = provenance.get("ciclo")
    if cycle:
        parts.append(f"Ciclo {cycle}")
    if provenance.get("data_referencia"):
        parts.append(f"Situação em {br_date(provenance['data_referencia'])}")
    return title + ("\n" + " — ".join(parts) if parts else "")


def _sources(territory: Mapping[str, Any]) -> list[str]:
    out = []
    for source in territory.get("fontes") or []:
        if not isinstance(source, Mapping):
            continue
        name = _SOURCE_NAMES.get(str(source.get("tipo")), str(source.get("tipo", "")))
        when = source.get("modificado_em")
        out.append(f"{name} (arquivo de {br_date(when)})" if when else name)
    return out


def layout_provenance(provenance: Mapping[str, Any], crs: pyproj.CRS) -> str:
    """Return the provenance printed under the map (Portuguese, dates ``dd/mm/aaaa``).

    Parameters
    ----------
    provenance : mapping
        The assessment's provenance record (tool, rules, territory, time of run).
    crs : pyproj.CRS
        The project CRS.

    Returns
    -------
    str
        Tool and rules; data sources and their dates; the fictional-data label, if any;
        CRS and attribution. Never a file path.
    """
    rules = provenance.get("regras") or {}
    territory = provenance.get("territorio") or {}
    tool = f"Gerado por {provenance.get('ferramenta', 'geo_ip')}"
    if provenance.get("versao_ferramenta"):
        tool += f" {provenance['versao_ferramenta']}"
    if provenance.get("executado_em"):
        tool += f" em {br_date(provenance['executado_em'])}"
    first = [tool]
    if rules.get("versao") or rules.get("sha256"):
        rule = "Regras"
        rule += f" {rules['versao']}" if rules.get("versao") else ""
        rule += f" ({rules['lei']})" if rules.get("lei") else ""
        rule += f", sha256 {str(rules['sha256'])[:16]}" if rules.get("sha256") else ""
        first.append(rule)
    data = []
    if territory.get("osm_data"):
        data.append(f"OpenStreetMap de {br_date(territory['osm_data'])}")
    data.extend(s for s in _sources(territory) if not s.startswith("OpenStreetMap"))
    if territory.get("criado_em"):
        data.append(f"território montado em {br_date(territory['criado_em'])}")
    authority = crs.to_authority()
    code = f"{authority[0]}:{authority[1]}" if authority else ""
    attribution = str(provenance.get("atribuicao") or OSM_ATTRIBUTION)
    last = f"SRC: {crs.name}" + (f" ({code})" if code else "") + f" · {attribution}"
    lines = [" · ".join(first)]
    if data:
        lines.append("Dados: " + "; ".join(data))
    if provenance.get("rotulo"):
        lines.append(str(provenance["rotulo"]))
    lines.append(last)
    return "\n".join(lines)


def _map_item(
    layout: ET.Element, extent: tuple[float, float, float, float], srs: ET.Element
) -> None:
    item = _item(
        layout,
        "map",
        "Mapa",
        MAP_FRAME,
        1,
        frame=True,
        background=True,
        keepLayerSet="false",
        drawCanvasItems="true",
        labelMargin="0,mm",
        followPreset="false",
        followPresetName="",
        mapFlags="1",
        mapRotation="0",
        isTemporal="0",
    )
    x0, y0, x1, y1 = extent
    child(item, "Extent", xmin=repr(x0), ymin=repr(y0), xmax=repr(x1), ymax=repr(y1))
    child(item, "crs").append(srs)
    child(item, "LayerSet")
    child(item, "AtlasMap", atlasDriven="0", scalingMode="2", margin="0.1")
    child(item, "labelBlockingItems")


def _legend(layout: ET.Element, map_uuid: str) -> None:
    item = _item(
        layout,
        "legend",
        "Legenda",
        _LEGEND,
        2,
        frame=True,
        background=True,
        title="Legenda",
        titleAlignment=_ALIGN["left"],
        columnCount="2",
        splitLayer="1",
        equalColumnWidth="0",
        boxSpace="2",
        columnSpace="2",
        symbolWidth="6",
        symbolHeight="3.5",
        maxSymbolSize="0",
        minSymbolSize="0",
        symbolAlignment=_ALIGN["left"],
        lineSpacing="1",
        rasterBorder="1",
        rasterBorderColor="0,0,0,255",
        rasterBorderWidth="0",
        wmsLegendWidth="50",
        wmsLegendHeight="25",
        wrapChar="",
        fontColor="#000000",
        resizeToContents="0",
        map_uuid=map_uuid,
        legendFilterByMap="1",
        legendFilterByAtlas="0",
    )
    styles = child(item, "styles")
    for name, size, bold, margins in _LEGEND_STYLES:
        style = child(styles, "style", name=name, **margins, alignment=_ALIGN["left"])
        _font(style, "styleFont", size, bold=bold)  # QGIS 3.22
        _text_style(style, size, bold=bold)  # QGIS 3.28 and later


def _scalebar(layout: ET.Element, map_uuid: str, extent: tuple[float, float, float, float]) -> None:
    kilometres = extent[2] - extent[0] > 5000
    item = _item(
        layout,
        "scalebar",
        "Escala",
        _SCALEBAR,
        3,
        background=True,
        height="3",
        labelBarSpace="2",
        boxContentSpace="1",
        numSegments="2",
        numSegmentsLeft="0",
        numUnitsPerSegment="1" if kilometres else "100",
        segmentSizeMode="1",
        minBarWidth="20",
        maxBarWidth="55",
        segmentMillimeters="0",
        numMapUnitsPerScaleBarUnit="1",
        outlineWidth="0.3",
        unitLabel="km" if kilometres else "m",
        unitType="km" if kilometres else "m",
        lineJoinStyle="miter",
        lineCapStyle="square",
        style="Single Box",
        mapUuid=map_uuid,
        labelVerticalPlacement="0",
        labelHorizontalPlacement="0",
        alignment="0",
    )
    _text_style(item, 8)
    _color(item, "fillColor", (0, 0, 0, 255))
    _color(item, "fillColor2", (255, 255, 255, 255))
    _color(item, "strokeColor", (0, 0, 0, 255))


def _north_arrow(layout: ET.Element, map_uuid: str) -> None:
    _item(
        layout,
        "picture",
        "Norte",
        _NORTH,
        4,
        background=True,
        file=NORTH_ARROW_SVG,
        pictureWidth="12",
        pictureHeight="16",
        resizeMode="0",
        anchorPoint="4",
        svgFillColor="0,0,0,255",
        svgBorderColor="0,0,0,255",
        svgBorderWidth="0.2",
        mode="0",
        pictureRotation="0",
        mapUuid=map_uuid,
        northMode="0",
        northOffset="0",
    )


def layouts_element(
    *,
    title: str,
    provenance: Mapping[str, Any],
    crs: pyproj.CRS,
    srs: ET.Element,
    requests: tuple[float, float, float, float] | None,
) -> ET.Element:
    """Build the project's ``<Layouts>``: one A4 landscape layout ready to export.

    Parameters
    ----------
    title : str
        The project title (first line of the layout's title).
    provenance : mapping
        The assessment's provenance record.
    crs : pyproj.CRS
        The project CRS (the map's).
    srs : xml.etree.ElementTree.Element
        Its ``<spatialrefsys>`` (:func:`geo_ip.outputs.qgis.qgs.spatialrefsys`).
    requests : tuple of float or None
        Extent of the requests in the project CRS (the map's extent, padded and fitted
        to the frame); None when there is none (a 300 m square around the origin).

    Returns
    -------
    xml.etree.ElementTree.Element
        ``<Layouts>`` with its ``<Layout>``.
    """
    layouts = ET.Element("Layouts")
    map_uuid = _uuid("Mapa")
    layout = child(
        layouts,
        "Layout",
        name=LAYOUT_NAME,
        units="mm",
        printResolution="300",
        worldFileMap=map_uuid,
    )
    child(layout, "Snapper", tolerance="5", snapToItems="1", snapToGrid="0", snapToGuides="1")
    child(
        layout,
        "Grid",
        resolution="10",
        resUnits="mm",
        offsetX="0",
        offsetY="0",
        offsetUnits="mm",
    )
    pages = child(layout, "PageCollection")
    _page_symbol(pages)
    _item(pages, "page", "Página", (0.0, 0.0, *PAGE_SIZE_MM), 0, background=True)
    child(pages, "GuideCollection", visible="1")
    _label(layout, "Título", layout_title(title, provenance), _TITLE, 5, size=15, bold=True)
    extent = _fit(requests or (0.0, 0.0, 0.0, 0.0), MAP_FRAME[2], MAP_FRAME[3])
    _map_item(layout, extent, srs)
    _legend(layout, map_uuid)
    _scalebar(layout, map_uuid, extent)
    _north_arrow(layout, map_uuid)
    _label(layout, "Proveniência", layout_provenance(provenance, crs), _PROVENANCE, 6, size=7)
    child(child(layout, "customproperties"), "Option")
    child(
        layout,
        "Atlas",
        enabled="0",
        coverageLayer="",
        hideCoverage="0",
        filenamePattern="'output_'||@atlas_featurenumber",
        pageNameExpression="",
        sortFeatures="0",
        filterFeatures="0",
    )
    return layouts
