"""The offline background's model: style, road classes and packed geometry containers.

The background is split in modules: this one (what is drawn and how it looks),
:mod:`~geo_ip.outputs.web.basemap_read` (reading the territory GeoPackage with
``sqlite3`` into packed ``float32`` pixel coordinates),
:mod:`~geo_ip.outputs.web.basemap_labels` (street, river and district names) and
:mod:`~geo_ip.outputs.web.basemap_draw` (drawing and writing the tiles of one zoom).
Nothing heavier than numpy, shapely, pyproj and Pillow is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "META",
    "TILE",
    "Features",
    "Lines",
    "Points",
    "Style",
    "release_memory",
    "road_class",
]

TILE = 256
"""Pixels per side of a tile."""
META = 4
"""Tiles per side of a metatile (one Pillow image of 1024 × 1024 pixels)."""
PNG_LEVEL = 3
"""zlib level of the tiles (palette PNG: level 3 is near level 9's size, 3× faster)."""
_EARTH = 6378137.0 * math.pi
"""Half the Web Mercator world width (metres)."""

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

# --- road classes ------------------------------------------------------------------------

PRINCIPAL, SECUNDARIA, LOCAL, SERVICO = 0, 1, 2, 3
_HIGHWAY_CLASS = {
    **dict.fromkeys(("motorway", "trunk", "primary"), PRINCIPAL),
    **dict.fromkeys(("secondary", "tertiary"), SECUNDARIA),
    **dict.fromkeys(("residential", "unclassified", "living_street", "road", "pedestrian"), LOCAL),
    **dict.fromkeys(("service", "track", "path", "footway", "cycleway", "steps"), SERVICO),
}
RIVER, CANAL, STREAM = 0, 1, 2
"""Classes of the water lines (``cursos_agua``: "Rio", "Canal", "Córrego")."""
_HIERARCHY_CLASS = {"principal": PRINCIPAL, "secundaria": SECUNDARIA, "local": LOCAL}


def road_class(highway: object, hierarquia: object) -> int:
    """Return the drawing class of a road from its OSM ``highway`` and its hierarchy.

    Parameters
    ----------
    highway : object
        The ``highway`` tag (``"primary_link"`` counts as ``"primary"``); may be null.
    hierarquia : object
        The territory's hierarchy (``principal``, ``secundaria``, ``local``), used
        when the tag is unknown.

    Returns
    -------
    int
        0 (principal) to 3 (service roads and tracks).
    """
    tag = str(highway).removesuffix("_link") if isinstance(highway, str) else ""
    if tag in _HIGHWAY_CLASS:
        return _HIGHWAY_CLASS[tag]
    return _HIERARCHY_CLASS.get(str(hierarquia), LOCAL)


@dataclass(frozen=True)
class Style:
    """Colours and widths of the background (Pillow colour strings, pixel widths).

    ``road_width[z][c]`` is the width of class ``c`` at zoom ``z`` (0: not drawn).
    """

    background: str = "#f3efe6"
    urban: str = "#e9e3d6"
    facility: str = "#ddd3c3"
    water: str = "#aad3df"
    building: str = "#cfc2b0"
    boundary: str = "#8c7aa8"
    district: str = "#b9a9cf"
    casing: tuple[str, ...] = ("#c07a2c", "#b59a47", "#bdb4a6", "#c9c1b5")
    fill: tuple[str, ...] = ("#f6b26b", "#fbe08f", "#ffffff", "#ffffff")
    low_fill: tuple[str, ...] = ("#e8a25a", "#e6cd7a", "#d2c9ba", "#dcd4c8")
    grid_mt: str = "#c0392b"
    grid_bt: str = "#e67e22"
    pole: str = "#5d4e3a"
    label: str = "#2f2a24"
    halo: str = "#ffffff"
    district_label: str = "#5e4b78"
    water_label: str = "#3b6e8c"

    def road_width(self, zoom: int, cls: int) -> int:
        """Width in pixels of road class ``cls`` at ``zoom`` (0: not drawn)."""
        table = {
            9: (1, 0, 0, 0),
            10: (2, 1, 0, 0),
            11: (2, 1, 0, 0),
            12: (3, 2, 1, 0),
            13: (4, 3, 1, 0),
            14: (6, 5, 3, 1),
            15: (9, 8, 6, 2),
            16: (13, 11, 9, 4),
            17: (20, 17, 14, 7),
        }
        row = table.get(zoom, table[9] if zoom < 9 else table[17])
        return row[cls]

    def water_width(self, zoom: int, cls: int) -> int:
        """Width in pixels of water line class ``cls`` (river, canal, stream) at ``zoom``."""
        table = {
            10: (1, 0, 0),
            11: (2, 1, 0),
            12: (2, 1, 0),
            13: (3, 2, 1),
            14: (4, 2, 1),
            15: (6, 3, 2),
            16: (8, 4, 3),
            17: (12, 6, 4),
        }
        row = table.get(zoom, (1, 0, 0) if zoom < 10 else table[17])
        return row[cls]


# --- geometry containers -----------------------------------------------------------------


@dataclass
class Lines:
    """Polylines (or polygon rings) as packed pixel coordinates at the deepest zoom.

    Attributes
    ----------
    xy : ndarray of float32, shape (n_vertices, 2)
        Pixel coordinates at the deepest zoom, relative to :attr:`Features.origin`.
    offsets : ndarray of int64, shape (n + 1,)
        Line ``i`` is ``xy[offsets[i]:offsets[i + 1]]``.
    kind : ndarray of int32
        Class of each line (road class, grid voltage, polygon style).
    name : ndarray of int32
        Index into :attr:`Features.names` (-1: no name).
    """

    xy: F32
    offsets: I64
    kind: I32
    name: I32

    @classmethod
    def empty(cls) -> Lines:
        """Return no lines."""
        return cls(
            np.empty((0, 2), np.float32),
            np.zeros(1, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.int32),
        )

    def __len__(self) -> int:
        return len(self.kind)

    def bbox(self, lo: int = 0, hi: int | None = None) -> F32:
        """Return ``(minx, miny, maxx, maxy)`` of each line (or of lines ``lo:hi``), (n, 4)."""
        hi = len(self) if hi is None else min(hi, len(self))
        if hi <= lo:
            return np.empty((0, 4), np.float32)
        first, last = int(self.offsets[lo]), int(self.offsets[hi])
        starts = self.offsets[lo:hi] - first
        x, y = self.xy[first:last, 0], self.xy[first:last, 1]
        out = np.empty((hi - lo, 4), np.float32)
        out[:, 0] = np.minimum.reduceat(x, starts)
        out[:, 1] = np.minimum.reduceat(y, starts)
        out[:, 2] = np.maximum.reduceat(x, starts)
        out[:, 3] = np.maximum.reduceat(y, starts)
        return out

    def take(self, index: I64) -> Lines:
        """Return the lines ``index`` (in that order)."""
        counts = np.diff(self.offsets)[index]
        offsets = np.zeros(len(index) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = np.repeat(self.offsets[:-1][index] - offsets[:-1], counts)
        vertex = np.arange(offsets[-1], dtype=np.int64) + starts
        return Lines(self.xy[vertex], offsets, self.kind[index], self.name[index])


@dataclass
class Points:
    """Points as pixel coordinates at the deepest zoom, with a class and a name."""

    xy: F32
    kind: I32
    name: I32

    @classmethod
    def empty(cls) -> Points:
        """Return no points."""
        return cls(np.empty((0, 2), np.float32), np.empty(0, np.int32), np.empty(0, np.int32))


@dataclass
class Features:
    """Everything the background draws, in pixels of zoom :attr:`zoom`.

    Attributes
    ----------
    zoom : int
        The deepest zoom (coordinates are its pixels).
    origin : tuple of int
        Pixel of that zoom at coordinate (0, 0): a multiple of the tile size.
    roads, grid, areas : Lines
        Roads (``kind``: road class), existing grid lines (0: medium, 1: low voltage),
        polygon rings (0: urban area, 1: facility footprint, 2: water, 3: district
        outline, 4: municipal boundary).
    buildings, poles, places : Points
        Buildings, grid points (0: pole or lighting point, 1: transformer), district
        names.
    names : list of str
        The names referenced by ``name``.
    counts : dict of str to int
        Rows read per layer.
    waterways : Lines
        Water lines (``kind``: :data:`RIVER`, :data:`CANAL`, :data:`STREAM`), named.
    """

    zoom: int
    origin: tuple[int, int]
    roads: Lines
    grid: Lines
    areas: Lines
    buildings: Points
    poles: Points
    places: Points
    names: list[str]
    counts: dict[str, int]
    waterways: Lines = field(default_factory=Lines.empty)

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """Return ``(west, south, east, north)`` in degrees of everything read."""
        boxes = [
            b
            for b in (
                self.roads.xy,
                self.grid.xy,
                self.areas.xy,
                self.waterways.xy,
                self.buildings.xy,
                self.poles.xy,
            )
            if len(b)
        ]
        if not boxes:
            raise ValueError("território sem feições para o mapa de fundo")
        lo = np.min([b.min(axis=0) for b in boxes], axis=0).astype(np.float64)
        hi = np.max([b.max(axis=0) for b in boxes], axis=0).astype(np.float64)
        west, north = self.to_lonlat(lo[0], lo[1])
        east, south = self.to_lonlat(hi[0], hi[1])
        return west, south, east, north

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Return the longitude and latitude of a pixel (relative to the origin)."""
        world = TILE * 2.0**self.zoom
        wx = (x + self.origin[0]) / world
        wy = (y + self.origin[1]) / world
        lon = wx * 360.0 - 180.0
        lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * wy))))
        return lon, lat


def release_memory() -> None:
    """Give the freed heap back to the system (glibc ``malloc_trim``; elsewhere nothing).

    Reading a large territory and sorting a zoom leave tens of megabytes of freed
    chunks in the heap; the helpers forked to draw would count them in their memory too.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
