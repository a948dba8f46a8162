"""The raster layer of the QGIS project: the offline background (issue 21).

Private helper of :mod:`geo_ip.outputs.qgis.qgs`. The background's MBTiles file
(:mod:`geo_ip.outputs.qgis.mbtiles`) is a GDAL raster in Web Mercator with four bands
(red, green, blue, alpha) of bytes; the ``<maplayer type="raster">`` written here is what
QGIS 3.22 writes for such a layer (``QgsRasterLayer::writeXml``): the ``gdal`` provider,
the file by a path relative to the project, a multiband colour renderer taking the
bands as they are (no contrast stretch: the tiles are already the colours to show),
bilinear resampling, the OpenStreetMap attribution in the layer's rights. In the layer
tree the layer has no legend items (``legend/node-order`` = ``empty``): a picture of the
municipality needs none, and the print layout's legend shows only its name.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pyproj

from geo_ip.outputs.qgis.qml import child

__all__ = ["RASTER_CRS", "RasterLayer", "raster_maplayer", "tree_properties"]

RASTER_CRS = "EPSG:3857"
"""CRS of a tile pyramid (Web Mercator), as GDAL reports an MBTiles file's."""


@dataclass(frozen=True)
class RasterLayer:
    """One raster ``<maplayer>`` of the project (the offline background).

    Attributes
    ----------
    key : str
        Short stable name, for the layer id (``fundo``).
    source : str
        The raster file, relative to the project file (``./fundo/fundo.mbtiles``).
    title : str
        Layer name in the layer tree (Portuguese).
    group : str
        Layer-tree group (``Fundo (offline)``).
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees.
    attribution : str
        Rights of the data ("© OpenStreetMap contributors").
    abstract : str
        Where it comes from.
    """

    key: str
    source: str
    title: str
    group: str
    bounds: tuple[float, float, float, float]
    attribution: str
    abstract: str = ""

    @property
    def layer_id(self) -> str:
        """A stable QGIS layer id (same inputs, same project)."""
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"geo_ip/qgis/raster/{self.key}")
        return f"{self.key}_{str(key).replace('-', '_')}"

    def extent(self) -> tuple[float, float, float, float]:
        """Return the bounds in :data:`RASTER_CRS` (metres of Web Mercator)."""
        to_mercator = pyproj.Transformer.from_crs("EPSG:4326", RASTER_CRS, always_xy=True)
        x0, y0, x1, y1 = to_mercator.transform_bounds(*self.bounds)
        return (float(x0), float(y0), float(x1), float(y1))


def _extent(parent: ET.Element, tag: str, box: tuple[float, float, float, float]) -> None:
    extent = child(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
        child(extent, name, repr(float(value)))


def tree_properties(item: ET.Element) -> None:
    """Add the layer-tree custom properties of a raster layer: no legend items.

    Parameters
    ----------
    item : xml.etree.ElementTree.Element
        Its ``<layer-tree-layer>``.
    """
    options = child(child(item, "customproperties"), "Option", type="Map")
    child(options, "Option", type="QString", value="empty", name="legend/node-order")


def _pipe(element: ET.Element) -> None:
    pipe = child(element, "pipe")
    provider = child(pipe, "provider")
    child(
        provider,
        "resampling",
        enabled="true",
        maxOversampling="2",
        zoomedInResamplingMethod="bilinear",
        zoomedOutResamplingMethod="bilinear",
    )
    renderer = child(
        pipe,
        "rasterrenderer",
        type="multibandcolor",
        opacity="1",
        alphaBand="4",
        redBand="1",
        greenBand="2",
        blueBand="3",
        nodataColor="",
    )
    child(renderer, "rasterTransparency")
    origin = child(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Estimated"), ("cumulativeCutLower", "0.02"),
                      ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):  # fmt: skip
        child(origin, tag, text)
    child(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    child(
        pipe, "huesaturation", colorizeOn="0", colorizeRed="255", colorizeGreen="128",
        colorizeBlue="128", colorizeStrength="100", saturation="0", grayscaleMode="0",
        invertColors="0",
    )  # fmt: skip
    child(pipe, "rasterresampler", maxOversampling="2")
    child(pipe, "resamplingStage", "provider")


def raster_maplayer(layer: RasterLayer, srs: ET.Element, metadata_srs: ET.Element) -> ET.Element:
    """Build the ``<maplayer type="raster">`` of a background layer.

    Parameters
    ----------
    layer : RasterLayer
        The layer.
    srs, metadata_srs : xml.etree.ElementTree.Element
        Two ``<spatialrefsys>`` of :data:`RASTER_CRS` (one for the layer, one for its
        metadata).

    Returns
    -------
    xml.etree.ElementTree.Element
        The map layer, with the ``gdal`` provider and its relative source.
    """
    element = ET.Element(
        "maplayer",
        {
            "type": "raster",
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
            "legendPlaceholderImage": "",
            "hasScaleBasedVisibilityFlag": "0",
            "maxScale": "0",
            "minScale": "100000000",
            "styleCategories": "AllStyleCategories",
        },
    )
    _extent(element, "extent", layer.extent())
    _extent(element, "wgs84extent", layer.bounds)
    child(element, "id", layer.layer_id)
    child(element, "datasource", layer.source)
    child(child(element, "keywordList"), "value", "")
    child(element, "layername", layer.title)
    child(element, "srs").append(srs)
    meta = child(element, "resourceMetadata")
    child(meta, "identifier", layer.key)
    child(meta, "parentidentifier", "")
    child(meta, "language", "pt-BR")
    child(meta, "type", "dataset")
    child(meta, "title", layer.title)
    child(meta, "abstract", layer.abstract)
    child(meta, "links")
    child(meta, "fees", "")
    if layer.attribution:
        child(meta, "rights", layer.attribution)
    child(meta, "encoding", "")
    child(meta, "crs").append(metadata_srs)
    child(meta, "extent")
    child(element, "provider", "gdal")
    child(element, "noData")
    manager = child(element, "map-layer-style-manager", current="default")
    child(manager, "map-layer-style", name="default")
    flags = child(element, "flags")
    for tag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"),
                       ("Private", "0")):  # fmt: skip
        child(flags, tag, value)
    child(element, "customproperties")
    _pipe(element)
    child(element, "blendMode", "0")
    return element
