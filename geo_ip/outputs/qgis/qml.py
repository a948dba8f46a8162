"""QGIS layer styles (QML) generated from the layer catalog's :class:`LayerStyle`.

Private helper of :mod:`geo_ip.outputs.qgis.project`. The same elements go into the
``layer_styles`` table of the GeoPackage (as a whole QML document) and into each
``<maplayer>`` of the QGIS project (QGIS ignores ``layer_styles`` when it loads a
project), so both always carry the catalog's symbology.

The element layout follows what QGIS 3.22 writes (``QgsVectorLayer.exportNamedStyle``):
symbol layer properties as an ``<Option type="Map">`` followed by the legacy
``<prop k v>`` list, which older and newer QGIS versions both read.

Sizes: the catalog gives widths and point radii in screen pixels (the web map's
unit); QGIS gets millimetres at 96 dpi (``px × 25.4 / 96``), a point's diameter
being twice its radius, so both maps look alike on screen and the QGIS one also
prints well.
"""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Literal

from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import LayerStyle, SymbolClass

__all__ = [
    "QGIS_VERSION",
    "SymbolKind",
    "child",
    "family_of",
    "qml_document",
    "style_attributes",
    "style_elements",
]

QGIS_VERSION = "3.22.16-Białowieża"
"""Version written in the documents: the QGIS LTR they were validated against."""

SymbolKind = Literal["marker", "line", "fill"]

_PX_MM = 25.4 / 96
_OUTLINE = "50,50,50,255"
"""Outline of the points of a layer without one in ``maps/cores.toml`` (QGIS's dark grey)."""
_LABELS = {"pedidos": "protocolo"}
"""Layers labelled by default, and the field of their label."""
_LABEL_MAX_SCALE_DENOMINATOR = 25000
"""Labels appear only when zoomed in beyond 1:25 000 (they would clutter a regional view)."""
_TEXT_STYLE = {
    "isExpression": "0", "fontFamily": "Sans Serif", "fontSize": "8", "fontSizeUnit": "Point",
    "fontWeight": "50", "textColor": "35,35,35,255", "textOpacity": "1",
    "namedStyle": "Regular", "multilineHeight": "1", "capitalization": "0", "allowHtml": "0",
    "fontItalic": "0", "fontUnderline": "0", "fontStrikeout": "0", "blendMode": "0",
}  # fmt: skip
"""The labels' font (after ``fieldName``), as QGIS writes ``<text-style>``."""
_TEXT_BUFFER = {
    "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
    "bufferColor": "255,255,255,255", "bufferOpacity": "0.9", "bufferNoFill": "1",
    "bufferJoinStyle": "128", "bufferBlendMode": "0",
}  # fmt: skip
"""The white halo around the labels' text."""
_TEXT_FORMAT = {
    "wrapChar": "", "multilineAlign": "3", "formatNumbers": "0", "decimals": "3", "plussign": "0",
}  # fmt: skip
_PLACEMENT = {
    "dist": "1", "distUnits": "MM", "predefinedPositionOrder": "TR,TL,BR,BL,R,L,TSR,BSR",
    "priority": "5", "offsetType": "0", "quadOffset": "4", "xOffset": "0", "yOffset": "0",
    "offsetUnits": "MM", "placementFlags": "10",
}  # fmt: skip
"""Where a label goes (after ``placement``: around a point, along a line, inside an area)."""
# QGIS reads "scaleMax" as the minimum (most zoomed-out) scale and "scaleMin" as the
# maximum one (names kept reversed for backward compatibility; checked on 3.22)
_RENDERING = {
    "drawLabels": "1", "scaleVisibility": "1", "scaleMax": str(_LABEL_MAX_SCALE_DENOMINATOR),
    "scaleMin": "0", "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1",
    "displayAll": "0", "upsidedownLabels": "0", "labelPerPart": "0", "mergeLines": "0",
    "minFeatureSize": "0", "limitNumLabels": "0", "maxNumLabels": "2000", "zIndex": "0",
    "fontLimitPixelSize": "0", "fontMinPixelSize": "0", "fontMaxPixelSize": "10000",
    "unplacedVisibility": "0",
}  # fmt: skip

_FAMILIES: dict[str, SymbolKind | None] = {
    "POINT": "marker", "MULTIPOINT": "marker",
    "LINESTRING": "line", "MULTILINESTRING": "line", "CIRCULARSTRING": "line",
    "COMPOUNDCURVE": "line", "MULTICURVE": "line", "CURVE": "line",
    "POLYGON": "fill", "MULTIPOLYGON": "fill", "CURVEPOLYGON": "fill",
    "MULTISURFACE": "fill", "SURFACE": "fill",
    "GEOMETRY": None, "GEOMETRYCOLLECTION": None, "UNKNOWN": None,
    "PONTO": "marker", "LINHA": "line", "POLIGONO": "fill", "MISTO": None,
}  # fmt: skip
_GEOMETRY_CODE = {"marker": "0", "line": "1", "fill": "2", None: "3"}
"""``<layerGeometryType>``: QgsWkbTypes::GeometryType (3 = unknown, i.e. mixed)."""
_CLASS_KIND: dict[str, SymbolKind] = {"ponto": "marker", "linha": "line", "poligono": "fill"}


def family_of(geometry_type: str) -> SymbolKind | None:
    """Return the symbol kind of a geometry type, None for a mixed layer.

    Parameters
    ----------
    geometry_type : str
        GeoPackage geometry type name (``gpkg_geometry_columns.geometry_type_name``:
        ``POINT``, ``MULTILINESTRING``, ``GEOMETRY``...), OGR's ``Point``/``LineString``/
        ``Unknown``, or the catalog's ``ponto``/``linha``/``poligono``/``misto``.
        Z/M suffixes are ignored.

    Returns
    -------
    {"marker", "line", "fill"} or None
        None when the layer may hold several geometry types.

    Raises
    ------
    ValueError
        For a name that is not a geometry type.
    """
    key = geometry_type.strip().upper().replace(" ", "")
    for suffix in ("ZM", "Z", "M", "25D"):
        if key not in _FAMILIES and key.endswith(suffix):
            key = key.removesuffix(suffix)
    if key not in _FAMILIES:
        raise ValueError(f"tipo de geometria desconhecido: {geometry_type!r}")
    return _FAMILIES[key]


def _rgba(color: str, alpha: int = 255) -> str:
    value = color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _mm(px: float) -> str:
    return f"{round(px * _PX_MM, 2):g}"


def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """Add an element to ``parent``, as QGIS writes it: attributes in order, maybe a text.

    Parameters
    ----------
    parent : xml.etree.ElementTree.Element
        The element to add to.
    tag : str
        The new element's tag.
    text : str, optional
        Its text (none by default: an empty element).
    **attrs : str
        Its attributes, in the order given.

    Returns
    -------
    xml.etree.ElementTree.Element
        The new element.
    """
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _empty_properties(parent: ET.Element) -> None:
    holder = child(parent, "data_defined_properties")
    options = child(holder, "Option", type="Map")
    child(options, "Option", type="QString", value="", name="name")
    child(options, "Option", name="properties")
    child(options, "Option", type="QString", value="collection", name="type")


def _symbol_layer(parent: ET.Element, layer_class: str, props: dict[str, str]) -> None:
    layer = ET.SubElement(
        parent, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"}
    )
    options = child(layer, "Option", type="Map")
    for key, value in sorted(props.items()):
        child(options, "Option", type="QString", value=value, name=key)
    for key, value in sorted(props.items()):
        child(layer, "prop", k=key, v=value)
    _empty_properties(layer)


def _symbol_props(
    cls: SymbolClass, kind: SymbolKind, outline: str = _OUTLINE
) -> tuple[str, dict[str, str]]:
    color = _rgba(cls.cor)
    if kind == "marker":
        return "SimpleMarker", {
            "name": "circle", "color": color, "size": _mm(2 * cls.largura), "size_unit": "MM",
            "outline_color": outline, "outline_style": "solid", "outline_width": "0.2",
            "outline_width_unit": "MM", "scale_method": "diameter", "angle": "0",
            "joinstyle": "bevel", "horizontal_anchor_point": "1", "vertical_anchor_point": "1",
            "offset": "0,0", "offset_unit": "MM",
        }  # fmt: skip
    if kind == "line":
        return "SimpleLine", {
            "line_color": color, "line_width": _mm(cls.largura), "line_width_unit": "MM",
            "line_style": "dash" if cls.tracejado else "solid", "capstyle": "round",
            "joinstyle": "round", "use_custom_dash": "1" if cls.tracejado else "0",
            "customdash": "3;2", "customdash_unit": "MM", "offset": "0", "offset_unit": "MM",
        }  # fmt: skip
    return "SimpleFill", {
        "color": _rgba(cls.cor, 96), "style": "solid", "outline_color": color,
        "outline_style": "dash" if cls.tracejado else "solid",
        "outline_width": _mm(cls.largura), "outline_width_unit": "MM", "joinstyle": "bevel",
        "offset": "0,0", "offset_unit": "MM",
    }  # fmt: skip


def _outline(style: LayerStyle) -> str:
    """Return the points' outline of a layer: ``maps/cores.toml``, as on the maps and sheets."""
    colour = load_palette().contornos.get(style.camada)
    return _rgba(colour) if colour else _OUTLINE


def _symbol(
    parent: ET.Element, cls: SymbolClass, kind: SymbolKind, name: str, outline: str = _OUTLINE
) -> ET.Element:
    symbol = child(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    _empty_properties(symbol)
    layer_class, props = _symbol_props(cls, kind, outline)
    _symbol_layer(symbol, layer_class, props)
    return symbol


def _class_kind(cls: SymbolClass, layer_kind: SymbolKind | None, style: LayerStyle) -> SymbolKind:
    if cls.geometria in _CLASS_KIND:
        return _CLASS_KIND[cls.geometria]
    if layer_kind is not None:
        return layer_kind
    return _CLASS_KIND.get(style.geometria, "marker")


def _classes_for(style: LayerStyle, kind: SymbolKind | None) -> list[SymbolClass]:
    """Return the classes drawn on a layer of this geometry (all of them if mixed)."""
    if kind is None:
        return list(style.classes)
    return [c for c in style.classes if c.geometria is None or _CLASS_KIND[c.geometria] == kind]


def _quoted(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _upper(cls: SymbolClass, last: bool) -> float:
    """QGIS ranges include their upper bound; the catalog's do not, except the last one."""
    assert cls.maximo is not None
    return cls.maximo if last else math.nextafter(cls.maximo, -math.inf)


def _number(value: float) -> str:
    return repr(float(value))


def _rule_filter(style: LayerStyle, cls: SymbolClass, last: bool) -> str | None:
    if style.tipo == "categorizado" and style.campo:
        return f"{_quoted(style.campo)} = {_literal(str(cls.valor))}"
    if style.tipo == "graduado" and style.campo:
        assert cls.minimo is not None and cls.maximo is not None
        top = "<=" if last else "<"
        field = _quoted(style.campo)
        return f"{field} >= {_number(cls.minimo)} AND {field} {top} {_number(cls.maximo)}"
    return None


def _key(style: LayerStyle, *parts: str) -> str:
    return (
        "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(("geo_ip", style.camada, *parts)))) + "}"
    )


def _fallback(style: LayerStyle) -> SymbolClass:
    return SymbolClass(rotulo=style.titulo, cor=load_palette().neutra, largura=2.0)


def _renderer(style: LayerStyle, kind: SymbolKind | None) -> ET.Element:
    classes = _classes_for(style, kind)
    single = style.tipo == "simples" or not style.campo or not classes
    classes = classes or [_fallback(style)]
    kinds = [_class_kind(c, kind, style) for c in classes]
    base = {"symbollevels": "0", "enableorderby": "0", "forceraster": "0", "referencescale": "-1"}
    if len(set(kinds)) > 1:
        return _rule_renderer(style, classes, kinds, base)
    field = style.campo
    if single or field is None:
        renderer = ET.Element("renderer-v2", {"type": "singleSymbol", **base})
        _symbol(child(renderer, "symbols"), classes[0], kinds[0], "0", _outline(style))
    elif style.tipo == "categorizado":
        renderer = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": field, **base})
        categories = child(renderer, "categories")
        symbols = child(renderer, "symbols")
        for i, cls in enumerate(classes):
            child(
                categories,
                "category",
                value=str(cls.valor),
                symbol=str(i),
                label=cls.rotulo,
                render="true",
            )
            _symbol(symbols, cls, kinds[i], str(i), _outline(style))
    else:
        renderer = ET.Element(
            "renderer-v2",
            {
                "type": "graduatedSymbol",
                "attr": field,
                "graduatedMethod": "GraduatedColor",
                **base,
            },
        )
        ranges = child(renderer, "ranges")
        symbols = child(renderer, "symbols")
        for i, cls in enumerate(classes):
            assert cls.minimo is not None
            child(
                ranges,
                "range",
                lower=_number(cls.minimo),
                upper=_number(_upper(cls, i == len(classes) - 1)),
                symbol=str(i),
                label=cls.rotulo,
                render="true",
            )
            _symbol(symbols, cls, kinds[i], str(i), _outline(style))
        method = child(renderer, "classificationMethod", id="Custom")
        child(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
        child(method, "labelFormat", format="%1 - %2", labelprecision="1", trimtrailingzeroes="1")
        child(method, "parameters")
        child(method, "extraInformation")
    child(renderer, "rotation")
    child(renderer, "sizescale")
    return renderer


def _rule_renderer(
    style: LayerStyle, classes: list[SymbolClass], kinds: list[SymbolKind], base: dict[str, str]
) -> ET.Element:
    renderer = ET.Element("renderer-v2", {"type": "RuleRenderer", **base})
    rules = child(renderer, "rules", key=_key(style, "regras"))
    symbols = child(renderer, "symbols")
    for i, cls in enumerate(classes):
        rule = child(
            rules, "rule", key=_key(style, "regra", str(i)), symbol=str(i), label=cls.rotulo
        )
        expression = _rule_filter(style, cls, i == len(classes) - 1)
        if expression:
            rule.set("filter", expression)
        _symbol(symbols, cls, kinds[i], str(i), _outline(style))
    return renderer


def _labeling(field: str, kind: SymbolKind | None) -> ET.Element:
    """Label the features with ``field``, small and haloed, only when zoomed in."""
    labeling = ET.Element("labeling", type="simple")
    settings = child(labeling, "settings", calloutType="simple")
    text = child(settings, "text-style", fieldName=field, **_TEXT_STYLE)
    child(text, "text-buffer", **_TEXT_BUFFER)
    child(settings, "text-format", **_TEXT_FORMAT)
    placement = "6" if kind in ("marker", None) else ("2" if kind == "line" else "1")
    child(settings, "placement", placement=placement, **_PLACEMENT)
    child(settings, "rendering", **_RENDERING)
    child(settings, "callout", type="simple")
    return labeling


def _aliases(style: LayerStyle, fields: Sequence[str] | None) -> ET.Element:
    aliases = ET.Element("aliases")
    if fields is None:
        for name, alias in style.campos.items():
            child(aliases, "alias", field=name, name=alias)
        return aliases
    for i, name in enumerate(fields):
        child(aliases, "alias", field=name, index=str(i), name=style.campos.get(name, ""))
    return aliases


def style_attributes(style: LayerStyle, labelled: bool | None = None) -> dict[str, str]:
    """Attributes of the QML root (and of a project's ``<maplayer>``) for this style.

    Parameters
    ----------
    style : LayerStyle
        The catalog style.
    labelled : bool, optional
        Whether labels are on; default: the layers of ``_LABELS``.

    Returns
    -------
    dict of str to str
        ``labelsEnabled``, scale visibility and simplification settings.
    """
    on = style.camada in _LABELS if labelled is None else labelled
    return {
        "labelsEnabled": "1" if on else "0",
        "hasScaleBasedVisibilityFlag": "0", "maxScale": "0", "minScale": "100000000",
        "readOnly": "0", "simplifyAlgorithm": "0", "simplifyDrawingHints": "1",
        "simplifyDrawingTol": "1", "simplifyLocal": "1", "simplifyMaxScale": "1",
        "symbologyReferenceScale": "-1", "styleCategories": "AllStyleCategories",
    }  # fmt: skip


def style_elements(
    style: LayerStyle, geometry_type: str, fields: Sequence[str] | None = None
) -> list[ET.Element]:
    """Build the style elements of a layer: renderer, labels, aliases, geometry.

    Parameters
    ----------
    style : LayerStyle
        The catalog style (:func:`geo_ip.outputs.styles.layer_style`).
    geometry_type : str
        Geometry of the layer (see :func:`family_of`); on a mixed layer whose classes
        name their geometry the renderer is rule-based, one rule per class; on a
        point or line layer only the classes of that geometry are drawn.
    fields : sequence of str, optional
        The layer's fields in QGIS order (the FID first), to write every alias with
        its index; default: the catalog's aliases only.

    Returns
    -------
    list of xml.etree.ElementTree.Element
        In the order QGIS writes them.
    """
    kind = family_of(geometry_type)
    elements = [_renderer(style, kind)]
    label = _LABELS.get(style.camada)
    if label and (fields is None or label in fields):
        elements.append(_labeling(label, kind))
    elements.append(_aliases(style, fields))
    display = next(iter(style.campos), "")
    preview = ET.Element("previewExpression")
    preview.text = _quoted(display) if display and (fields is None or display in fields) else ""
    elements.append(preview)
    geometry = ET.Element("layerGeometryType")
    geometry.text = _GEOMETRY_CODE[kind]
    elements.append(geometry)
    return elements


def qml_document(style: LayerStyle, geometry_type: str, fields: Sequence[str] | None = None) -> str:
    """Build a whole QML document (a ``.qml`` file, or the ``styleQML`` of a row).

    Parameters
    ----------
    style : LayerStyle
        The catalog style.
    geometry_type : str
        Geometry of the layer (see :func:`family_of`).
    fields : sequence of str, optional
        The layer's fields in QGIS order (see :func:`style_elements`).

    Returns
    -------
    str
        ``<!DOCTYPE qgis ...><qgis ...>...</qgis>``.
    """
    root = ET.Element("qgis", {"version": QGIS_VERSION, **style_attributes(style)})
    root.extend(style_elements(style, geometry_type, fields))
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
