"""The offline background of the web maps, drawn from the territory itself (issue 21).

With no internet the OpenStreetMap tiles do not load, and a map of requests on grey is
of no use in a town hall. :func:`write_basemap` draws the municipality from its own
territory GeoPackage (every road by hierarchy, with the street names at street zoom;
buildings; water areas and water lines (rivers wider than streams, named at street
zoom) when the territory has them; urban areas and facility footprints;
districts and their names; the municipal boundary; the existing grid, medium and low
voltage, transformers and poles) as a pyramid of PNG tiles, ``fundo/{z}/{x}/{y}.png``
next to the maps. :func:`leaflet_layer_js` and :func:`folium_layer` show it in Leaflet
with ``L.tileLayer``: images from the disk, so it works from ``file://`` under the maps'
Content-Security-Policy (``img-src 'self'``), with no script to vendor and no
``fetch``.

Every tile inside the background's bounds is written (a plain one where nothing is
drawn), and the layer is limited to those bounds: the browser never asks for a tile
that is missing. Beyond the deepest zoom Leaflet enlarges the deepest tiles.

The territory is read by :mod:`geo_ip.outputs.web.basemap_read`, the names placed by
:mod:`geo_ip.outputs.web.basemap_labels` and the tiles drawn by
:mod:`geo_ip.outputs.web.basemap_draw` (on both cores of a laptop);
:mod:`geo_ip.outputs.web.basemap_tiles` holds the style and the geometry containers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo_ip._util.version import __version__
from geo_ip.outputs.web.basemap_draw import draw_zooms
from geo_ip.outputs.web.basemap_read import read_features
from geo_ip.outputs.web.basemap_tiles import TILE, Style, release_memory

if TYPE_CHECKING:
    import folium

__all__ = [
    "ATTRIBUTION",
    "BASEMAP_FOLDER",
    "BASEMAP_NAME",
    "BasemapInfo",
    "folium_layer",
    "leaflet_layer_js",
    "read_basemap_info",
    "tile_range",
    "write_basemap",
]

ATTRIBUTION = "© OpenStreetMap contributors"
"""The same text as :data:`geo_ip.rules.provenance.OSM_ATTRIBUTION` (not imported: the
background is drawn in a small process, and the rules bring pydantic)."""
BASEMAP_FOLDER = "fundo"
"""Folder of the tiles, next to ``mapa.html``."""
BASEMAP_NAME = "Mapa do território (offline)"
"""Name of the layer in the map's layer switch."""
INFO_FILE = "fundo.json"
"""The background's description, inside its folder."""
MIN_ZOOM = 10
"""The shallowest zoom drawn (a whole municipality)."""
MAX_ZOOM = 16
"""The deepest zoom drawn (street names); Leaflet enlarges it beyond."""


@dataclass(frozen=True)
class BasemapInfo:
    """What :func:`write_basemap` wrote.

    Attributes
    ----------
    folder : Path
        The tile pyramid (``{z}/{x}/{y}.png`` and :data:`INFO_FILE`).
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees (WGS 84).
    min_zoom, max_zoom : int
        The zooms drawn.
    tiles : int
        Tiles written.
    bytes : int
        Their total size.
    seconds : float
        Time taken.
    attribution : str
        "© OpenStreetMap contributors" (and the fictional-data notice when it applies).
    provenance : dict
        Tool, version, territory file, its build time, layers and row counts read.
    """

    folder: Path
    bounds: tuple[float, float, float, float]
    min_zoom: int
    max_zoom: int
    tiles: int
    bytes: int
    seconds: float
    attribution: str = ATTRIBUTION
    provenance: dict[str, Any] = field(default_factory=dict)

    def url(self, relative_to: Path | None = None) -> str:
        """Return the tile URL template, relative to a page's folder when given.

        Parameters
        ----------
        relative_to : Path, optional
            Folder of the HTML page (default: the folder holding :attr:`folder`).

        Returns
        -------
        str
            ``"fundo/{z}/{x}/{y}.png"``, ``"../fundo/{z}/{x}/{y}.png"``...
        """
        base = self.folder.parent if relative_to is None else relative_to
        rel = Path(os.path.relpath(self.folder, base)).as_posix()
        return f"{rel}/{{z}}/{{x}}/{{y}}.png"


def tile_range(
    bounds: tuple[float, float, float, float], zoom: int, margin: int = 1
) -> tuple[int, int, int, int]:
    """Return the tiles ``(x0, y0, x1, y1)`` (inclusive) covering ``bounds`` at ``zoom``.

    Parameters
    ----------
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees.
    zoom : int
        The zoom.
    margin : int, default 1
        Tiles added on each side (Leaflet asks for the tiles touching the bounds).

    Returns
    -------
    tuple of int
        The first and last tile column and row.
    """
    west, south, east, north = bounds
    n = 2**zoom

    def column(lon: float) -> int:
        return math.floor((lon + 180.0) / 360.0 * n)

    def row(lat: float) -> int:
        lat = max(min(lat, 85.05112878), -85.05112878)
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
        return math.floor(y)

    x0, x1 = column(west) - margin, column(east) + margin
    y0, y1 = row(north) - margin, row(south) + margin
    return max(x0, 0), max(y0, 0), min(x1, n - 1), min(y1, n - 1)


def _territory_metadata(path: Path) -> dict[str, Any]:
    """Return the territory's ``metadados`` (empty when it has none), read with sqlite3."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT chave, valor FROM metadados").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    out: dict[str, Any] = {}
    for key, value in rows:
        try:
            out[str(key)] = json.loads(value)
        except (TypeError, ValueError):
            out[str(key)] = value
    return out


def write_basemap(
    territory: str | os.PathLike[str],
    out_dir: Path,
    *,
    min_zoom: int = MIN_ZOOM,
    max_zoom: int = MAX_ZOOM,
    folder: str = BASEMAP_FOLDER,
    style: Style | None = None,
    workers: int | None = None,
) -> BasemapInfo:
    """Draw the territory's offline background as PNG tiles next to the maps.

    Parameters
    ----------
    territory : str or path-like
        The territory GeoPackage, or the opened :class:`geo_ip.territory.reader.Territory`
        (only its path is used: the layers are read here, a chunk at a time).
    out_dir : Path
        Folder of the maps; the tiles go to ``out_dir / folder`` (replaced).
    min_zoom, max_zoom : int
        The zooms drawn (default 10, a whole municipality, to 16, street names).
    folder : str, default "fundo"
        Name of the tile folder.
    style : Style, optional
        Colours and widths (default :class:`~geo_ip.outputs.web.basemap_tiles.Style`).
    workers : int, optional
        Processes drawing the tiles (default: the cores this process may use, at most
        2). Helpers are forked after the territory is read, only from a process running
        a single thread; otherwise everything is drawn here. The tiles are the same
        bytes whatever the count.

    Returns
    -------
    BasemapInfo
        Folder, bounds, zooms, counts, attribution and provenance (also written to
        ``fundo.json`` in the folder).

    Raises
    ------
    ValueError
        When the zooms are out of order or the territory has no roads.
    """
    if not 0 <= min_zoom <= max_zoom <= 18:
        raise ValueError(f"zooms do mapa de fundo inválidos: {min_zoom} a {max_zoom}")
    start = time.perf_counter()
    path = Path(os.fspath(territory))
    style = style or Style()
    if workers is None:
        workers = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    features = read_features(path, max_zoom)
    release_memory()
    bounds = features.lonlat_bounds()
    target = Path(out_dir) / folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    zooms = {z: tile_range(bounds, z) for z in range(min_zoom, max_zoom + 1)}
    tiles, size = draw_zooms(features, zooms, target, style, workers, release_points=True)
    release_memory()
    metadata = _territory_metadata(path)
    fictional = bool(metadata.get("dados_ficticios"))
    attribution = ATTRIBUTION + (" — dados fictícios" if fictional else "")
    provenance: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "territorio": path.name,
        "territorio_criado_em": metadata.get("criado_em"),
        "municipio": metadata.get("municipio"),
        "camadas": features.counts,
        "dados_ficticios": fictional,
    }
    info = BasemapInfo(
        folder=target,
        bounds=tuple(round(v, 7) for v in bounds),  # type: ignore[arg-type]
        min_zoom=min_zoom,
        max_zoom=max_zoom,
        tiles=tiles,
        bytes=size,
        seconds=time.perf_counter() - start,
        attribution=attribution,
        provenance=provenance,
    )
    record = {
        "nome": BASEMAP_NAME,
        "formato": "png",
        "modelo_url": f"{{z}}/{{x}}/{{y}}.png (relativo a '{folder}/')",
        "limites_oeste_sul_leste_norte": list(info.bounds),
        "zoom_minimo": min_zoom,
        "zoom_maximo": max_zoom,
        "blocos": tiles,
        "atribuicao": attribution,
        "proveniencia": provenance,
    }
    (target / INFO_FILE).write_text(
        json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return info


def read_basemap_info(folder: Path) -> BasemapInfo:
    """Read back the description of a background written by :func:`write_basemap`.

    Parameters
    ----------
    folder : Path
        The tile folder (holding ``fundo.json``).

    Returns
    -------
    BasemapInfo
        As written (``seconds`` and ``bytes`` are 0).
    """
    record = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    west, south, east, north = (float(v) for v in record["limites_oeste_sul_leste_norte"])
    return BasemapInfo(
        folder=folder,
        bounds=(west, south, east, north),
        min_zoom=int(record["zoom_minimo"]),
        max_zoom=int(record["zoom_maximo"]),
        tiles=int(record["blocos"]),
        bytes=0,
        seconds=0.0,
        attribution=str(record["atribuicao"]),
        provenance=dict(record["proveniencia"]),
    )


def _options(info: BasemapInfo) -> dict[str, Any]:
    west, south, east, north = info.bounds
    return {
        "minZoom": 0,
        "maxZoom": 20,
        "minNativeZoom": info.min_zoom,
        "maxNativeZoom": info.max_zoom,
        "bounds": [[south, west], [north, east]],
        "attribution": escape(info.attribution),
        "className": "geo-ip-fundo",
    }


def leaflet_layer_js(info: BasemapInfo, relative_to: Path | None = None) -> str:
    """Return a JavaScript expression creating the background's ``L.tileLayer``.

    Parameters
    ----------
    info : BasemapInfo
        The background.
    relative_to : Path, optional
        Folder of the page (default: the folder holding the tiles' folder).

    Returns
    -------
    str
        ``L.tileLayer("fundo/{z}/{x}/{y}.png", {...})``: add it to a map with
        ``.addTo(map)`` or give it to ``L.control.layers``.
    """
    url = json.dumps(info.url(relative_to))
    return f"L.tileLayer({url}, {json.dumps(_options(info), ensure_ascii=False)})"


def folium_layer(
    info: BasemapInfo, relative_to: Path | None = None, *, show: bool = True
) -> folium.TileLayer:
    """Return the background as a Folium base layer (a ``TileLayer`` to add to a map).

    Parameters
    ----------
    info : BasemapInfo
        The background.
    relative_to : Path, optional
        Folder of the page (default: the folder holding the tiles' folder).
    show : bool, default True
        Whether it is the base layer shown when the page opens.

    Returns
    -------
    folium.TileLayer
        Named :data:`BASEMAP_NAME`, limited to the background's bounds.
    """
    import folium

    options = _options(info)
    return folium.TileLayer(
        tiles=info.url(relative_to),
        attr=options["attribution"],
        name=BASEMAP_NAME,
        min_zoom=options["minZoom"],
        max_zoom=options["maxZoom"],
        max_native_zoom=options["maxNativeZoom"],
        min_native_zoom=options["minNativeZoom"],
        bounds=options["bounds"],
        class_name=options["className"],
        overlay=False,
        control=True,
        show=show,
    )


def preview_html(
    info: BasemapInfo, page: Path, leaflet: str = "leaflet", policy: str | None = None
) -> str:
    """Return a minimal page showing only the background (used by the tests).

    Parameters
    ----------
    info : BasemapInfo
        The background.
    page : Path
        Where the page will be written (the tile URL is relative to its folder).
    leaflet : str, default "leaflet"
        Relative URL of a folder holding ``leaflet.js`` and ``leaflet.css``.
    policy : str, optional
        A Content-Security-Policy for the page's ``<meta>`` (the maps' own, to check
        that the tiles load under it).

    Returns
    -------
    str
        The HTML.
    """
    west, south, east, north = info.bounds
    layer = leaflet_layer_js(info, page.parent)
    bounds = json.dumps([[south, west], [north, east]])
    meta = (
        ""
        if policy is None
        else f'\n<meta http-equiv="Content-Security-Policy" content="{escape(policy)}"/>'
    )
    return f"""<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"/>{meta}
<title>{escape(BASEMAP_NAME)}</title>
<link rel="stylesheet" href="{escape(leaflet)}/leaflet.css"/>
<script src="{escape(leaflet)}/leaflet.js"></script>
<style>html, body, #mapa {{ height: 100%; margin: 0; }}</style>
</head><body><div id="mapa"></div>
<script>
// no fade or zoom animation: a screenshot right after the tiles load shows their
// true colours, not a blend with the grey behind them
var mapa = L.map("mapa", {{fadeAnimation: false, zoomAnimation: false}});
var fundo = {layer}.addTo(mapa);
mapa.fitBounds({bounds});
</script></body></html>
"""


_ = TILE  # the tile size (256) Leaflet assumes
