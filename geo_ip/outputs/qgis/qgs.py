"""The ``.qgs`` document of the QGIS project (:func:`geo_ip.outputs.qgis.project.write_project`).

Private helper. The layout follows what QGIS 3.22 writes (``QgsProject.write``):
project CRS as a full ``<spatialrefsys>``, the layer tree with one group per
catalog ``grupo``, one ``<maplayer>`` per layer carrying its whole style (QGIS does
not read the GeoPackage's ``layer_styles`` when it opens a project), the relative
data source, layer metadata (title, source, rights), the project metadata (title,
abstract with the provenance, history), the default view extent and the print layout
(:mod:`geo_ip.outputs.qgis.layout`). The offline background, when there is one, is a
raster layer at the bottom of the tree (:mod:`geo_ip.outputs.qgis.raster`).
"""

from __future__ import annotations

import re
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyproj

from geo_ip.outputs.qgis.layout import layouts_element
from geo_ip.outputs.qgis.qml import (
    QGIS_VERSION,
    SymbolKind,
    child,
    style_attributes,
    style_elements,
)
from geo_ip.outputs.qgis.raster import RASTER_CRS, RasterLayer, raster_maplayer, tree_properties
from geo_ip.outputs.styles import LayerStyle
from geo_ip.rules.provenance import OSM_ATTRIBUTION

__all__ = ["ProjectLayer", "RasterLayer", "project_document", "spatialrefsys"]

_GEOMETRY_NAME = {"marker": "Point", "line": "Line", "fill": "Polygon", None: "Unknown geometry"}
_URI_TYPE = {"marker": "Point", "line": "LineString", "fill": "Polygon"}
_PART_TITLE = {"marker": "pontos", "line": "linhas", "fill": "áreas"}
_TREE_LAYER = {
    "providerKey": "ogr", "checked": "Qt::Checked", "expanded": "1", "legend_exp": "",
    "patch_size": "-1,-1", "legend_split_behavior": "0",
}  # fmt: skip
"""Attributes of a layer in the layer tree after its id, name and source: shown, expanded."""
_WKB_NAME = {
    "POINT": "Point", "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon",
}  # fmt: skip


@dataclass(frozen=True)
class ProjectLayer:
    """One ``<maplayer>`` of the project.

    Attributes
    ----------
    table : str
        GeoPackage table.
    style : LayerStyle
        Its catalog style.
    geometry_type : str
        GeoPackage geometry type name of the table.
    family : str or None
        The geometry family drawn by this map layer; set (with a ``geometrytype``
        filter in the data source) for each part of a mixed table.
    split : bool
        Whether this is one part of a mixed table (``|geometrytype=`` in the source).
    fields : tuple of str
        Fields in QGIS order.
    extent : tuple of float or None
        Extent in the layer CRS.
    authid : str
        Layer CRS.
    alternatives : tuple of (str, LayerStyle)
        Other named styles (the style manager's list).
    gpkg : str or None
        GeoPackage of the table, relative to the project file, when it is not the
        project's own (a base-map layer of the territory).
    """

    table: str
    style: LayerStyle
    geometry_type: str
    family: SymbolKind | None
    split: bool
    fields: tuple[str, ...]
    extent: tuple[float, float, float, float] | None
    authid: str
    alternatives: tuple[tuple[str, LayerStyle], ...] = ()
    gpkg: str | None = None

    @property
    def layer_id(self) -> str:
        """A stable QGIS layer id (same inputs, same project)."""
        suffix = f"|{self.family}" if self.split else ""
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"geo_ip/qgis/{self.table}{suffix}")
        name = self.table + (
            f"_{_URI_TYPE[self.family].lower()}" if self.split and self.family else ""
        )
        return f"{name}_{str(key).replace('-', '_')}"

    @property
    def title(self) -> str:
        """Layer name in the layer tree (Portuguese)."""
        if self.split and self.family:
            return f"{self.style.titulo} ({_PART_TITLE[self.family]})"
        return self.style.titulo

    def source(self, gpkg: str) -> str:
        """Return the OGR data source, relative to the project file."""
        uri = f"{self.gpkg or gpkg}|layername={self.table}"
        if self.split and self.family:
            uri += f"|geometrytype={_URI_TYPE[self.family]}"
        return uri

    @property
    def drawn_geometry(self) -> str:
        """Geometry type handed to the QML builder for this map layer."""
        if self.split and self.family:
            return {"marker": "POINT", "line": "LINESTRING", "fill": "POLYGON"}[self.family]
        return self.geometry_type


def _proj4(crs: pyproj.CRS) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = crs.to_proj4() or ""
    return re.sub(r"\s*\+type=crs\b", "", text).strip()


def spatialrefsys(crs: pyproj.CRS) -> ET.Element:
    """Build the ``<spatialrefsys>`` QGIS writes for a CRS (WKT2 2019, PROJ string, EPSG id).

    QGIS's internal ``srsid`` (its own ``srs.db`` row number) is left out: without
    it QGIS builds the CRS from the WKT, whose ``ID["EPSG", ...]`` gives the authid.

    Parameters
    ----------
    crs : pyproj.CRS
        The CRS.

    Returns
    -------
    xml.etree.ElementTree.Element
        ``<spatialrefsys nativeFormat="Wkt">``.
    """
    element = ET.Element("spatialrefsys", nativeFormat="Wkt")
    authority = crs.to_authority() or ("", "")
    child(element, "wkt", crs.to_wkt("WKT2_2019"))
    proj4 = _proj4(crs)
    child(element, "proj4", proj4)
    child(element, "srid", str(authority[1]) if authority[0] == "EPSG" else "0")
    child(element, "authid", f"{authority[0]}:{authority[1]}" if authority[0] else "")
    child(element, "description", crs.name)
    match = re.search(r"\+proj=(\w+)", proj4)
    child(element, "projectionacronym", match.group(1) if match else "")
    ellipsoid = (crs.ellipsoid.to_json_dict().get("id") or {}) if crs.ellipsoid else {}
    acronym = f"{ellipsoid['authority']}:{ellipsoid['code']}" if ellipsoid else ""
    child(element, "ellipsoidacronym", acronym)
    child(element, "geographicflag", "true" if crs.is_geographic else "false")
    return element


def _extent(parent: ET.Element, tag: str, box: tuple[float, float, float, float]) -> None:
    extent = child(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
        child(extent, name, repr(float(value)))


def _wgs84(
    box: tuple[float, float, float, float], crs: pyproj.CRS
) -> tuple[float, float, float, float] | None:
    try:
        to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        x0, y0, x1, y1 = to_wgs84.transform_bounds(*box)
        return (float(x0), float(y0), float(x1), float(y1))
    except pyproj.exceptions.ProjError:
        return None


def _layer_crs(layer: ProjectLayer, project: pyproj.CRS) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(layer.authid) if layer.authid else project
    except pyproj.exceptions.CRSError:
        return project


def _resource_metadata(layer: ProjectLayer, crs: ET.Element) -> ET.Element:
    meta = ET.Element("resourceMetadata")
    child(meta, "identifier", layer.table)
    child(meta, "parentidentifier", "")
    child(meta, "language", "pt-BR")
    child(meta, "type", "dataset")
    child(meta, "title", layer.title)
    child(meta, "abstract", f"Fonte: {layer.style.fonte}" if layer.style.fonte else "")
    child(meta, "links")
    child(meta, "fees", "")
    if "OpenStreetMap" in layer.style.fonte:
        child(meta, "rights", OSM_ATTRIBUTION)
    child(meta, "encoding", "UTF-8")
    holder = child(meta, "crs")
    holder.append(crs)
    child(meta, "extent")
    return meta


def _maplayer(layer: ProjectLayer, gpkg: str, project_crs: pyproj.CRS) -> ET.Element:
    crs = _layer_crs(layer, project_crs)
    wkb = _WKB_NAME.get(layer.geometry_type, "Unknown")
    if layer.split and layer.family:
        wkb = _URI_TYPE[layer.family]
    element = ET.Element(
        "maplayer",
        {
            "type": "vector",
            "geometry": _GEOMETRY_NAME[layer.family],
            "wkbType": wkb,
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
            "legendPlaceholderImage": "",
            **style_attributes(layer.style),
        },
    )
    if layer.extent:
        _extent(element, "extent", layer.extent)
        wgs84 = _wgs84(layer.extent, crs)
        if wgs84:
            _extent(element, "wgs84extent", wgs84)
    child(element, "id", layer.layer_id)
    child(element, "datasource", layer.source(gpkg))
    keywords = child(element, "keywordList")
    child(keywords, "value", "")
    child(element, "layername", layer.title)
    srs = child(element, "srs")
    srs.append(spatialrefsys(crs))
    element.append(_resource_metadata(layer, spatialrefsys(crs)))
    child(element, "provider", "ogr", encoding="UTF-8")
    for tag in ("vectorjoins", "layerDependencies", "dataDependencies", "expressionfields"):
        child(element, tag)
    manager = child(element, "map-layer-style-manager", current="default")
    child(manager, "map-layer-style", name="default")
    for name, alternative in layer.alternatives:
        holder = child(manager, "map-layer-style", name=name)
        qgis = child(holder, "qgis", version=QGIS_VERSION, **style_attributes(alternative))
        qgis.extend(style_elements(alternative, layer.drawn_geometry, layer.fields))
    element.extend(style_elements(layer.style, layer.drawn_geometry, layer.fields))
    child(element, "blendMode", "0")
    child(element, "featureBlendMode", "0")
    child(element, "layerOpacity", "1")
    return element


def _abstract(
    provenance: Mapping[str, Any], rasters: Sequence[RasterLayer] = ()
) -> tuple[str, list[str]]:
    rules = provenance.get("regras") or {}
    territory = provenance.get("territorio") or {}
    parts = [
        "Avaliação dos pedidos de extensão de rede elétrica e iluminação pública"
        + (f" ({rules['lei']})" if rules.get("lei") else "")
        + (f" — {rules['municipio']}" if rules.get("municipio") else "")
        + ".",
        "Camadas no GeoPackage avaliacao.gpkg, ao lado deste projeto; os estilos também "
        "estão na tabela layer_styles do GeoPackage.",
    ]
    for raster in rasters:
        where = raster.source.removeprefix("./")
        parts.append(f"{raster.title}: arquivo {where}, a partir da pasta deste projeto.")
    p, tool = provenance, provenance.get("ferramenta", "geo_ip")
    version, osm = rules.get("versao"), territory.get("osm_data")
    facts = (  # (value, line): the lines of the values the record has, in this order
        (p.get("carimbo"), f"Proveniência: {p.get('carimbo')}"),
        (p.get("versao_ferramenta"), f"Gerado por {tool} {p.get('versao_ferramenta')}"),
        (p.get("executado_em"), f"Executado em {p.get('executado_em')}"),
        (p.get("data_referencia"), f"Data de referência: {p.get('data_referencia')}"),
        (version, f"Regras {version} (sha256 {rules.get('sha256', '')})"),
        (osm, f"Dados OpenStreetMap de {osm}"),
        (p.get("crs"), f"SRC: {p.get('crs')}"),
    )
    history = [line for value, line in facts if value]
    attribution = provenance.get("atribuicao") or OSM_ATTRIBUTION
    parts.append(f"Dados do OpenStreetMap: {attribution} (ODbL).")
    parts.extend(history)
    return "\n".join(parts), history


def _tree(
    root: ET.Element, layers: Sequence[ProjectLayer], gpkg: str, rasters: Sequence[RasterLayer]
) -> None:
    """Add the layer tree: one group per ``grupo``, the raster layers last (at the bottom)."""
    tree = child(root, "layer-tree-group")
    child(child(tree, "customproperties"), "Option")
    groups: dict[str, ET.Element] = {}

    def group_of(name: str) -> ET.Element:
        group = groups.get(name)
        if group is None:
            group = child(tree, "layer-tree-group", name=name, checked="Qt::Checked", expanded="1")
            child(child(group, "customproperties"), "Option")
            groups[name] = group
        return group

    for layer in layers:
        item = child(
            group_of(layer.style.grupo),
            "layer-tree-layer",
            id=layer.layer_id,
            name=layer.title,
            source=layer.source(gpkg),
            **_TREE_LAYER,
        )
        child(child(item, "customproperties"), "Option")
    for raster in rasters:
        item = child(
            group_of(raster.group),
            "layer-tree-layer",
            id=raster.layer_id,
            name=raster.title,
            source=raster.source,
            **{**_TREE_LAYER, "providerKey": "gdal", "expanded": "0"},
        )
        tree_properties(item)
    order = child(tree, "custom-order", enabled="0")
    for raster in reversed(rasters):
        child(order, "item", raster.layer_id)
    for layer in reversed(layers):
        child(order, "item", layer.layer_id)


def _entry(parent: ET.Element, name: str, kind: str, value: str) -> None:
    child(parent, name, value, type=kind)


def _properties(root: ET.Element, crs: pyproj.CRS, attribution: str) -> None:
    props = child(root, "properties")
    copyright_label = child(props, "CopyrightLabel")
    _entry(copyright_label, "Enabled", "int", "1")
    _entry(copyright_label, "Label", "QString", attribution)
    ellipsoid = (crs.ellipsoid.to_json_dict().get("id") or {}) if crs.ellipsoid else {}
    if ellipsoid:
        _entry(
            child(props, "Measure"),
            "Ellipsoid",
            "QString",
            f"{ellipsoid['authority']}:{ellipsoid['code']}",
        )
    measurement = child(props, "Measurement")
    _entry(measurement, "AreaUnits", "QString", "m2")
    _entry(measurement, "DistanceUnits", "QString", "meters")
    _entry(child(props, "Paths"), "Absolute", "bool", "false")
    _entry(child(props, "SpatialRefSys"), "ProjectionsEnabled", "int", "1")


def _union(layers: Sequence[ProjectLayer]) -> tuple[float, float, float, float] | None:
    boxes = [layer.extent for layer in layers if layer.extent]
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(x1 - x0, y1 - y0, 100.0) * 0.05
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _canvas(
    root: ET.Element, crs: pyproj.CRS, view: tuple[float, float, float, float] | None
) -> None:
    """Add the map canvas: units, the extent of every layer (padded), the CRS."""
    canvas = child(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    child(canvas, "units", "meters" if not crs.is_geographic else "degrees")
    if view:
        _extent(canvas, "extent", view)
    child(canvas, "rotation", "0")
    child(canvas, "destinationsrs").append(spatialrefsys(crs))


def _metadata(
    root: ET.Element,
    title: str,
    provenance: Mapping[str, Any],
    created: str,
    rasters: Sequence[RasterLayer],
) -> None:
    """Add the project metadata: title, abstract with the provenance, keywords, history."""
    abstract, history = _abstract(provenance, rasters)
    meta = child(root, "projectMetadata")
    for tag, text in (("identifier", ""), ("parentidentifier", ""), ("language", "pt-BR"),
                      ("type", "dataset"), ("title", title), ("abstract", abstract)):  # fmt: skip
        child(meta, tag, text)
    keywords = child(meta, "keywords", vocabulary="geo_ip")
    for word in ("iluminação pública", "extensão de rede elétrica", "avaliação de pedidos"):
        child(keywords, "keyword", word)
    child(meta, "links")
    for line in history:
        child(meta, "history", line)
    version = provenance.get("versao_ferramenta")
    child(meta, "author", f"geo_ip {version}" if version else "geo_ip")
    child(meta, "creation", created)


def _view_settings(
    root: ET.Element, crs: pyproj.CRS, view: tuple[float, float, float, float] | None
) -> None:
    """Add the view settings: no project scales, the default extent the project opens on."""
    settings = child(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    child(settings, "Scales")
    if view:
        default = child(
            settings,
            "DefaultViewExtent",
            xmin=repr(view[0]),
            ymin=repr(view[1]),
            xmax=repr(view[2]),
            ymax=repr(view[3]),
        )
        default.append(spatialrefsys(crs))


def project_document(
    layers: Sequence[ProjectLayer],
    *,
    gpkg: str,
    crs: pyproj.CRS,
    title: str,
    provenance: Mapping[str, Any],
    rasters: Sequence[RasterLayer] = (),
) -> str:
    """Build the ``.qgs`` XML of the project.

    Parameters
    ----------
    layers : sequence of ProjectLayer
        Map layers, top of the drawing order first.
    gpkg : str
        GeoPackage path relative to the project file (``./avaliacao.gpkg``).
    crs : pyproj.CRS
        Project CRS.
    title : str
        Project title.
    provenance : mapping
        The assessment's provenance record (tool, rules, OSM date, CRS, time of run).
    rasters : sequence of RasterLayer, default ()
        Raster layers (the offline background), drawn under every vector layer.

    Returns
    -------
    str
        The document, with its DOCTYPE line.
    """
    attribution = str(provenance.get("atribuicao") or OSM_ATTRIBUTION)
    created = str(provenance.get("executado_em") or "")[:19]
    root = ET.Element(
        "qgis",
        projectname=title,
        version=QGIS_VERSION,
        saveUser="geo_ip",
        saveUserFull="geo_ip",
        saveDateTime=created,
    )
    child(root, "homePath", path="")
    child(root, "title", title)
    child(root, "autotransaction", active="0")
    child(root, "evaluateDefaultValues", active="0")
    child(root, "trust", active="0")
    child(root, "projectCrs").append(spatialrefsys(crs))
    _tree(root, layers, gpkg, rasters)
    child(root, "relations")
    view = _union(layers)
    _canvas(root, crs, view)
    projectlayers = child(root, "projectlayers")
    for layer in layers:
        projectlayers.append(_maplayer(layer, gpkg, crs))
    mercator = pyproj.CRS.from_user_input(RASTER_CRS)
    for raster in rasters:
        projectlayers.append(
            raster_maplayer(raster, spatialrefsys(mercator), spatialrefsys(mercator))
        )
    order = child(root, "layerorder")
    for layer in layers:
        child(order, "layer", id=layer.layer_id)
    for raster in rasters:
        child(order, "layer", id=raster.layer_id)
    _properties(root, crs, attribution)
    _metadata(root, title, provenance, created, rasters)
    _view_settings(root, crs, view)
    requests = next((layer.extent for layer in layers if layer.table == "pedidos"), None)
    root.append(
        layouts_element(
            title=title,
            provenance=provenance,
            crs=crs,
            srs=spatialrefsys(crs),
            requests=requests or view,
        )
    )
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
