"""Reading a territory for the offline background and drawing its raster tiles.

The territory GeoPackage is read with the standard library's ``sqlite3`` (a GeoPackage is
an SQLite file whose geometries are WKB behind a short header), one chunk of rows at a
time, and every geometry is kept as packed ``float32`` pixel coordinates at the deepest
zoom: a 1M-edge territory fits in a few tens of megabytes, and nothing heavier than
numpy, shapely, pyproj and Pillow is imported.

Tiles are drawn a *metatile* at a time (:data:`META` × :data:`META` tiles on one Pillow
image), then cut into 256-pixel PNG files in the ``{z}/{x}/{y}.png`` layout of
``L.tileLayer``. Features are bucketed per metatile once per zoom (a sort, not a search
per metatile), so the cost grows with the features drawn, not with the tiles.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pyproj import Transformer

__all__ = [
    "META",
    "TILE",
    "Features",
    "Lines",
    "Points",
    "Style",
    "draw_zoom",
    "read_features",
]

TILE = 256
"""Pixels per side of a tile."""
META = 4
"""Tiles per side of a metatile (one Pillow image of 1024 × 1024 pixels)."""
PNG_LEVEL = 3
"""zlib level of the tiles (palette PNG: level 3 is near level 9's size, 3× faster)."""
_CHUNK = 10_000
"""Rows read from SQLite at a time."""
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

    def bbox(self) -> F32:
        """Return ``(minx, miny, maxx, maxy)`` of each line, shape (n, 4)."""
        if not len(self):
            return np.empty((0, 4), np.float32)
        starts = self.offsets[:-1]
        out = np.empty((len(self), 4), np.float32)
        out[:, 0] = np.minimum.reduceat(self.xy[:, 0], starts)
        out[:, 1] = np.minimum.reduceat(self.xy[:, 1], starts)
        out[:, 2] = np.maximum.reduceat(self.xy[:, 0], starts)
        out[:, 3] = np.maximum.reduceat(self.xy[:, 1], starts)
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

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """Return ``(west, south, east, north)`` in degrees of everything read."""
        boxes = [
            b
            for b in (
                self.roads.xy,
                self.grid.xy,
                self.areas.xy,
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


# --- reading -----------------------------------------------------------------------------


class _Reader:
    """The territory's GeoPackage, read with sqlite3 into packed pixel coordinates."""

    def __init__(self, path: Path, zoom: int) -> None:
        self.con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.zoom = zoom
        tables = self.con.execute(
            "SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns"
        ).fetchall()
        self.geometry = {str(t): (str(c), int(s)) for t, c, s in tables}
        self.names: list[str] = []
        self._name_ids: dict[str, int] = {}
        self._transformers: dict[int, Transformer] = {}
        self.origin: tuple[int, int] | None = None

    def close(self) -> None:
        self.con.close()

    def columns(self, table: str) -> set[str]:
        if table not in self.geometry:
            return set()
        return {str(r[1]) for r in self.con.execute(f'PRAGMA table_info("{table}")')}

    def name_id(self, value: object) -> int:
        if not isinstance(value, str) or not value.strip():
            return -1
        text = " ".join(value.split())
        found = self._name_ids.get(text)
        if found is None:
            found = self._name_ids[text] = len(self.names)
            self.names.append(text)
        return found

    def _transformer(self, srs: int) -> Transformer:
        if srs not in self._transformers:
            row = self.con.execute(
                "SELECT organization, organization_coordsys_id, definition "
                "FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                (srs,),
            ).fetchone()
            if row is None or srs <= 0:
                source: Any = "EPSG:4326"
            elif str(row[0]).upper() == "EPSG":
                source = f"EPSG:{int(row[1])}"
            else:
                source = str(row[2])
            self._transformers[srs] = Transformer.from_crs(source, "EPSG:3857", always_xy=True)
        return self._transformers[srs]

    def rows(self, table: str, wanted: list[str]) -> Iterator[tuple[list[Any], Any]]:
        """Yield chunks: the attribute rows and their shapely geometries (no null)."""
        if table not in self.geometry:
            return
        geom_column, _ = self.geometry[table]
        present = self.columns(table)
        select = [f'"{c}"' if c in present else "NULL" for c in wanted]
        cursor = self.con.execute(
            f"SELECT {', '.join([*select, f'{chr(34)}{geom_column}{chr(34)}'])} "
            f'FROM "{table}" WHERE "{geom_column}" IS NOT NULL ORDER BY rowid'
        )
        while chunk := cursor.fetchmany(_CHUNK):
            wkb = np.array([_wkb(r[-1]) for r in chunk], dtype=object)
            yield [r[:-1] for r in chunk], shapely.from_wkb(wkb, on_invalid="ignore")

    def pixels(self, table: str, coords: F64) -> F32:
        """Project coordinates of ``table`` to pixels of the deepest zoom, packed."""
        x, y = self._transformer(self.geometry[table][1]).transform(coords[:, 0], coords[:, 1])
        world = TILE * 2.0**self.zoom
        px = (np.asarray(x) + _EARTH) / (2 * _EARTH) * world
        py = (_EARTH - np.asarray(y)) / (2 * _EARTH) * world
        if self.origin is None:
            finite = np.isfinite(px) & np.isfinite(py)
            if not finite.any():
                return np.empty((0, 2), np.float32)
            self.origin = (
                int(np.floor(px[finite].min() / TILE) - 64) * TILE,
                int(np.floor(py[finite].min() / TILE) - 64) * TILE,
            )
        out = np.empty((len(px), 2), np.float32)
        out[:, 0] = px - self.origin[0]
        out[:, 1] = py - self.origin[1]
        return out


def _wkb(blob: bytes | None) -> bytes | None:
    """Return the WKB of a GeoPackage geometry blob (its header stripped)."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    envelope = (blob[3] >> 1) & 7
    return bytes(blob[8 + (0, 32, 48, 48, 64, 0, 0, 0)[envelope] :])


def _collect_lines(
    reader: _Reader, table: str, geoms: Any, kinds: I32, names: I32, parts: list[Lines]
) -> I64:
    """Append the lines of ``geoms`` (rings of polygons as lines); return their rows."""
    flat, index = shapely.get_parts(geoms, return_index=True)
    rings_mask = shapely.get_type_id(flat) == 3
    if rings_mask.any():
        flat = flat.copy()
        flat[rings_mask] = shapely.get_exterior_ring(flat[rings_mask])
    keep = np.isin(shapely.get_type_id(flat), (1, 2))
    flat, index = flat[keep], index[keep]
    if not len(flat):
        return np.empty(0, np.int64)
    coords, owner = shapely.get_coordinates(flat, return_index=True)
    if not len(coords):
        return np.empty(0, np.int64)
    counts = np.bincount(owner, minlength=len(flat))
    good = counts >= 2
    offsets = np.zeros(int(good.sum()) + 1, np.int64)
    np.cumsum(counts[good], out=offsets[1:])
    xy = reader.pixels(table, coords[good[owner]])
    parts.append(Lines(xy, offsets, kinds[index[good]], names[index[good]]))
    return np.asarray(index[good], np.int64)


def _concat_lines(parts: list[Lines]) -> Lines:
    if not parts:
        return Lines.empty()
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for part in parts:
        offsets.append(part.offsets[1:] + base)
        base += int(part.offsets[-1])
    return Lines(
        np.concatenate([p.xy for p in parts]),
        np.concatenate(offsets),
        np.concatenate([p.kind for p in parts]).astype(np.int32),
        np.concatenate([p.name for p in parts]).astype(np.int32),
    )


def _concat_points(parts: list[Points]) -> Points:
    if not parts:
        return Points.empty()
    return Points(
        np.concatenate([p.xy for p in parts]),
        np.concatenate([p.kind for p in parts]).astype(np.int32),
        np.concatenate([p.name for p in parts]).astype(np.int32),
    )


def _points(reader: _Reader, table: str, geoms: Any, kinds: I32, names: I32) -> Points | None:
    flat, index = shapely.get_parts(geoms, return_index=True)
    is_point = shapely.get_type_id(flat) == 0
    if not is_point.any():
        return None
    coords = shapely.get_coordinates(flat[is_point])
    return Points(reader.pixels(table, coords), kinds[index[is_point]], names[index[is_point]])


def _roads(reader: _Reader, counts: dict[str, int]) -> Lines:
    """Read ``vias``: one line per street segment (the two directions drawn once).

    A two-way street is two rows (u→v and v→u): the one with u < v is drawn. A first
    pass reads the node ids only and marks the rows to draw (rows are keyed by a 64-bit
    mix of (u, v), so the 2n ids are never sorted); the second reads the geometries of
    those rows, kept per class so that the lines come out in drawing order (service
    roads first, principal roads last, on top) without a copy of the whole layer.
    """
    geom_column = reader.geometry["vias"][0]
    present = reader.columns("vias")
    keep = np.empty(0, bool)
    if {"u", "v"} <= present:
        cursor = reader.con.execute(
            f'SELECT u, v FROM vias WHERE "{geom_column}" IS NOT NULL ORDER BY rowid'
        )
        us: list[I64] = []
        vs: list[I64] = []
        while chunk := cursor.fetchmany(_CHUNK):
            us.append(np.fromiter((_int(r[0]) for r in chunk), np.int64, len(chunk)))
            vs.append(np.fromiter((_int(r[1]) for r in chunk), np.int64, len(chunk)))
        u, v = (
            np.concatenate(us or [np.empty(0, np.int64)]),
            np.concatenate(vs or [np.empty(0, np.int64)]),
        )
        del us, vs
        key = np.sort(_mix(u, v))
        reverse = _mix(v, u)
        at = np.searchsorted(key, reverse)
        at[at == len(key)] = 0
        twin = key[at] == reverse
        del key, reverse, at
        keep = (u < v) | ~twin | (u < 0) | (v < 0)
        del u, v, twin
    by_class: list[list[Lines]] = [[], [], [], []]
    n = 0
    for rows, geoms in reader.rows("vias", ["highway", "hierarquia", "name"]):
        wanted = keep[n : n + len(rows)] if len(keep) else np.ones(len(rows), bool)
        n += len(rows)
        kinds = np.fromiter((road_class(r[0], r[1]) for r in rows), np.int32, len(rows))
        names = np.fromiter((reader.name_id(r[2]) for r in rows), np.int32, len(rows))
        for cls in range(4):
            mine = wanted & (kinds == cls)
            if mine.any():
                _collect_lines(reader, "vias", geoms[mine], kinds[mine], names[mine],
                               by_class[cls])  # fmt: skip
    counts["vias"] = n
    return _concat_lines([part for cls in (3, 2, 1, 0) for part in by_class[cls]])


def _mix(a: I64, b: I64) -> I64:
    """Return a 64-bit hash of the ordered pair ``(a, b)`` (splitmix64-like mix)."""
    with np.errstate(over="ignore"):
        x = a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(31)
        y = b.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        y ^= y >> np.uint64(29)
        return (x * np.uint64(0x94D049BB133111EB) + y).view(np.int64)


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return -1


def read_features(path: Path, zoom: int) -> Features:
    """Read the layers of a territory GeoPackage that the background draws.

    Parameters
    ----------
    path : Path
        The territory GeoPackage.
    zoom : int
        The deepest zoom (coordinates are kept in its pixels).

    Returns
    -------
    Features
        Roads, grid, areas, buildings, poles and district names.

    Raises
    ------
    ValueError
        When the file has no road layer (``vias``) with lines.
    """
    reader = _Reader(path, zoom)
    counts: dict[str, int] = {}
    try:
        if "vias" not in reader.geometry:
            raise ValueError("o território não tem a camada 'vias'")
        roads = _roads(reader, counts)
        if not len(roads):
            raise ValueError("o território não tem vias para o mapa de fundo")
        areas: list[Lines] = []
        places: list[Points] = []
        area_tables = (
            ("area_urbana", 0, None),
            ("equipamentos_pegada", 1, None),
            ("agua", 2, None),
            ("bairros_area", 3, "nome"),
            ("limite", 4, None),
        )
        for table, kind, name_column in area_tables:
            counts[table] = 0
            for rows, geoms in reader.rows(table, [name_column or "rowid"]):
                counts[table] += len(rows)
                kinds = np.full(len(rows), kind, np.int32)
                names = np.fromiter(
                    (reader.name_id(r[0]) if name_column else -1 for r in rows),
                    np.int32,
                    len(rows),
                )
                _collect_lines(reader, table, geoms, kinds, names, areas)
                if name_column:
                    centres = shapely.point_on_surface(geoms)
                    found = _points(reader, table, centres, np.zeros(len(rows), np.int32), names)
                    if found is not None:
                        places.append(found)
        counts["bairros"] = 0
        for rows, geoms in reader.rows("bairros", ["nome"]):
            counts["bairros"] += len(rows)
            names = np.fromiter((reader.name_id(r[0]) for r in rows), np.int32, len(rows))
            centres = shapely.point_on_surface(geoms)
            found = _points(reader, "bairros", centres, np.zeros(len(rows), np.int32), names)
            if found is not None:
                places.append(found)
        buildings: list[Points] = []
        counts["edificacoes"] = 0
        for rows, geoms in reader.rows("edificacoes", ["rowid"]):
            counts["edificacoes"] += len(rows)
            centres = shapely.point_on_surface(geoms)
            nothing = np.full(len(rows), -1, np.int32)
            found = _points(reader, "edificacoes", centres, np.zeros(len(rows), np.int32), nothing)
            if found is not None:
                buildings.append(found)
        grid: list[Lines] = []
        poles: list[Points] = []
        counts["rede_existente"] = 0
        for rows, geoms in reader.rows("rede_existente", ["tipo", "tensao_v"]):
            counts["rede_existente"] += len(rows)
            kinds = np.fromiter((_grid_kind(r[0], r[1]) for r in rows), np.int32, len(rows))
            nothing = np.full(len(rows), -1, np.int32)
            _collect_lines(reader, "rede_existente", geoms, kinds, nothing, grid)
            found = _points(reader, "rede_existente", geoms, kinds, nothing)
            if found is not None:
                poles.append(found)
        assert reader.origin is not None  # set by the roads
        return Features(
            zoom=zoom,
            origin=reader.origin,
            roads=roads,
            grid=_concat_lines(grid),
            areas=_concat_lines(areas),
            buildings=_concat_points(buildings),
            poles=_concat_points(poles),
            places=_concat_points(places),
            names=reader.names,
            counts=counts,
        )
    finally:
        reader.close()


def _grid_kind(tipo: object, tensao: object) -> int:
    """0: medium voltage line or transformer, 1: low voltage line, pole or lighting point."""
    text = str(tipo or "").lower()
    if text in ("mt", "transformador"):
        return 0
    try:
        return 0 if float(tensao) >= 1000 else 1  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1


# --- drawing -----------------------------------------------------------------------------


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib's data (a dependency), else Pillow's own font."""
    spec = find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


@dataclass
class _Buckets:
    """Features of one zoom, sorted by metatile: ``order[start[k]:start[k + 1]]``."""

    order: I64
    keys: I64

    def get(self, key: int) -> I64:
        lo, hi = np.searchsorted(self.keys, [key, key + 1])
        return self.order[lo:hi]


def _bucket(box: F64, pad: float, nx: int, ny: int, size: int) -> _Buckets:
    """Sort boxes (in the zoom's pixels from the grid's corner) into metatiles.

    ``box`` is ``(minx, miny, maxx, maxy)`` per row, or ``(x, y)`` for points. The
    temporaries are 32-bit and freed as soon as used: at a million features this runs
    beside everything else in memory.
    """
    if not len(box):
        return _Buckets(np.empty(0, np.int64), np.empty(0, np.int64))
    right, bottom = (2, 3) if box.shape[1] == 4 else (0, 1)

    def cell(column: int, offset: float, n: int) -> npt.NDArray[np.int32]:
        return np.clip(np.floor((box[:, column] + offset) / size), 0, n - 1).astype(np.int32)

    x0, y0 = cell(0, -pad, nx), cell(1, -pad, ny)
    inside = (box[:, right] + pad >= 0) & (box[:, 0] - pad < nx * size)
    inside &= (box[:, bottom] + pad >= 0) & (box[:, 1] - pad < ny * size)
    w = np.where(inside, cell(right, pad, nx) - x0 + 1, 0).astype(np.int32)
    counts = w.astype(np.int64) * (cell(bottom, pad, ny) - y0 + 1)
    del inside
    if int(counts.max()) <= 1:  # the usual case: each feature in one metatile
        item = np.flatnonzero(counts)
        keys = y0[item].astype(np.int64) * nx + x0[item]
    else:
        item = np.repeat(np.arange(len(box), dtype=np.int64), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        k = np.arange(len(item), dtype=np.int64) - first
        del first
        keys = (y0[item] + k // w[item]) * np.int64(nx) + x0[item] + k % w[item]
        del k
    order = np.argsort(keys, kind="stable")
    return _Buckets(item[order], keys[order])


@dataclass
class _Label:
    """Labels placed at one zoom: centre, angle, name, style; sorted by metatile."""

    x: F64
    y: F64
    angle: F64
    name: I32
    district: npt.NDArray[np.bool_]
    buckets: _Buckets


def _place_labels(
    features: Features, zoom: int, scale: float, shift: tuple[float, float], grid: tuple[int, int]
) -> _Label:
    """Choose street and district labels at ``zoom`` without overlaps (greedy)."""
    xs: list[float] = []
    ys: list[float] = []
    angles: list[float] = []
    names: list[int] = []
    district: list[bool] = []
    boxes: list[tuple[float, float, float, float]] = []
    cell = 128.0
    taken: dict[tuple[int, int], list[int]] = {}

    def free(b: tuple[float, float, float, float]) -> bool:
        for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
            for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                for other in taken.get((gx, gy), ()):
                    o = boxes[other]
                    if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                        return False
        return True

    def take(b: tuple[float, float, float, float]) -> None:
        boxes.append(b)
        for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
            for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                taken.setdefault((gx, gy), []).append(len(boxes) - 1)

    # districts first (from zoom 12 to 15)
    if 12 <= zoom <= 15 and len(features.places.xy):
        font = _font(_district_size(zoom), bold=True)
        px = features.places.xy[:, 0] * scale + shift[0]
        py = features.places.xy[:, 1] * scale + shift[1]
        for x, y, name in zip(px.tolist(), py.tolist(), features.places.name.tolist(), strict=True):
            if name < 0:
                continue
            w = font.getlength(features.names[name].upper()) + 6
            h = _district_size(zoom) + 6
            b = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if free(b):
                take(b)
                xs.append(x)
                ys.append(y)
                angles.append(0.0)
                names.append(name)
                district.append(True)
    # streets: principal and secondary from zoom 15, every named street from 16
    roads = features.roads
    classes = (PRINCIPAL, SECUNDARIA) if zoom == 15 else (PRINCIPAL, SECUNDARIA, LOCAL, SERVICO)
    if zoom >= 15 and len(roads):
        named = np.flatnonzero((roads.name >= 0) & np.isin(roads.kind, classes))
        if len(named):
            named = named[np.argsort(roads.name[named], kind="stable")]
            font = _font(_street_size(zoom))
            widths = np.zeros(len(features.names))
            for n in np.unique(roads.name[named]).tolist():
                widths[n] = font.getlength(features.names[n]) + 8
            found = [
                _street_candidates(roads.take(part), widths, scale, shift)
                for part in _chunks_by_name(named, roads.name[named])
            ]
            head = np.concatenate([f[0] for f in found])
            tail = np.concatenate([f[1] for f in found])
            cand_width = np.concatenate([f[2] for f in found])
            cand_length = np.concatenate([f[3] for f in found])
            cand_kind = np.concatenate([f[4] for f in found])
            cand_name = np.concatenate([f[5] for f in found])
            chord = np.hypot(tail[:, 0] - head[:, 0], tail[:, 1] - head[:, 1])
            straight = chord >= 0.97 * cand_width
            priority = np.lexsort((-cand_length, cand_kind))
            priority = priority[straight[priority]]
            height = _street_size(zoom) + 6
            for i in priority.tolist():
                ax, ay, bx, by = head[i, 0], head[i, 1], tail[i, 0], tail[i, 1]
                angle = math.degrees(math.atan2(-(by - ay), bx - ax))
                if angle > 90:
                    angle -= 180
                elif angle <= -90:
                    angle += 180
                w = cand_width[i]
                rad = math.radians(angle)
                bw = abs(w * math.cos(rad)) + abs(height * math.sin(rad))
                bh = abs(w * math.sin(rad)) + abs(height * math.cos(rad))
                cx, cy = (ax + bx) / 2, (ay + by) / 2
                box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
                if free(box):
                    take(box)
                    xs.append(cx)
                    ys.append(cy)
                    angles.append(angle)
                    names.append(int(cand_name[i]))
                    district.append(False)
    box_array = np.array(boxes, np.float64).reshape(-1, 4)
    return _Label(
        np.array(xs, np.float64),
        np.array(ys, np.float64),
        np.array(angles, np.float64),
        np.array(names, np.int32),
        np.array(district, bool),
        _bucket(box_array, 2.0, grid[0], grid[1], META * TILE),
    )


def _chunks_by_name(lines: I64, names: I32, size: int = 40_000) -> Iterator[I64]:
    """Split ``lines`` (sorted by name) into runs of about ``size``, never inside a name."""
    start = 0
    while start < len(lines):
        stop = min(start + size, len(lines))
        if stop < len(lines):
            stop = int(np.searchsorted(names, names[stop - 1], side="right"))
        yield lines[start:stop]
        start = stop


def _street_candidates(
    sub: Lines, widths: F64, scale: float, shift: tuple[float, float]
) -> tuple[F64, F64, F64, F64, I64, I64]:
    """Label positions along the streets of ``sub``: ends of each label's chord and more.

    The segments of one name and class are merged into runs; each run long enough
    gets a label every few label lengths. Returns the chords' start and end points,
    the label width, the run's length, the road class and the name of each candidate.
    """
    xy = sub.xy.astype(np.float64) * scale + np.array(shift)
    counts = np.diff(sub.offsets)
    geoms = shapely.linestrings(xy, indices=np.repeat(np.arange(len(sub)), counts))
    group_key = sub.name.astype(np.int64) * 4 + sub.kind
    uniq, group = np.unique(group_key, return_inverse=True)
    by_group = np.argsort(group, kind="stable")
    multi = shapely.multilinestrings(geoms[by_group], indices=group[by_group])
    merged, owner = shapely.get_parts(shapely.line_merge(multi), return_index=True)
    length = shapely.length(merged)
    name_of = (uniq // 4)[owner]
    kind_of = (uniq % 4)[owner]
    width = widths[name_of]
    spacing = np.maximum(width * 4, 600.0)
    fits = length >= width + 12
    n_cand = np.where(fits, np.floor((length - width) / spacing).astype(np.int64) + 1, 0)
    line = np.repeat(np.arange(len(merged)), n_cand)
    first = np.repeat(np.cumsum(n_cand) - n_cand, n_cand)
    k = np.arange(len(line)) - first
    used = (length[line] - width[line]) - (n_cand[line] - 1) * spacing[line]
    centre = used / 2 + width[line] / 2 + k * spacing[line]
    a = shapely.get_coordinates(
        shapely.line_interpolate_point(merged[line], centre - width[line] / 2)
    ).reshape(-1, 2)
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(merged[line], centre + width[line] / 2)
    ).reshape(-1, 2)
    return a, b, width[line], length[line], kind_of[line], name_of[line]


def _street_size(zoom: int) -> int:
    return 11 if zoom <= 16 else 13


def _district_size(zoom: int) -> int:
    return {12: 11, 13: 12, 14: 13}.get(zoom, 14)


@lru_cache(maxsize=512)  # bounded: a large territory has tens of thousands of labels
def _label_image(text: str, size: int, colour: str, halo: str, bold: bool) -> Image.Image:
    font = _font(size, bold)
    w = math.ceil(font.getlength(text)) + 6
    box = (w, size + 8)
    mask = Image.new("L", box, 0)
    ImageDraw.Draw(mask).text((3, 2), text, font=font, fill=255)
    image = Image.new("RGBA", box, halo)
    image.putalpha(mask.filter(ImageFilter.MaxFilter(5)))  # a 2-pixel halo
    image.paste(Image.new("RGB", box, colour), (0, 0), mask)
    return image


def _rgb(colour: str) -> tuple[int, int, int]:
    value = Image.new("RGB", (1, 1), colour).getpixel((0, 0))
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1]), int(value[2])


@cache
def _palette(style: Style) -> Image.Image:
    """Return a fixed palette: the style's colours and the blends labels leave.

    Every metatile is reduced to it (Pillow, no dithering) before its tiles are cut,
    so tiles are small palette PNGs and the same colour never differs from one
    metatile to the next (an adaptive palette would show seams).
    """
    base = [
        style.background, style.urban, style.facility, style.water, style.building,
        style.boundary, style.district, *style.casing, *style.fill, *style.low_fill,
        style.grid_mt, style.grid_bt, style.pole,
    ]  # fmt: skip
    colours: list[tuple[int, int, int]] = []
    for c in (_rgb(c) for c in base):
        if c not in colours:
            colours.append(c)
    halo = _rgb(style.halo)

    def blend(a: tuple[int, int, int], b: tuple[int, int, int], steps: int) -> None:
        for k in range(1, steps):
            t = k / steps
            c = tuple(round(a[i] * (1 - t) + b[i] * t) for i in range(3))
            # Pillow maps a pixel to a near colour, not always the nearest: keep blends
            # away from the style's own colours, so these come out exact
            far = all(sum(abs(c[i] - o[i]) for i in range(3)) >= 24 for o in colours)
            if far and len(colours) < 256:
                colours.append(c)  # type: ignore[arg-type]

    for ink in (style.label, style.district_label):
        colours.append(_rgb(ink))
        blend(_rgb(ink), halo, 12)
    if halo not in colours:
        colours.append(halo)
    for c in list(colours[:20]):
        blend(c, halo, 4)
        blend(c, _rgb(style.label), 3)
    flat = [v for c in colours[:256] for v in c]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image


def _uniform(tile: Image.Image) -> int | None:
    extrema: Any = tile.getextrema()
    return int(extrema[0]) if extrema[0] == extrema[1] else None


def draw_zoom(
    features: Features, zoom: int, tiles: tuple[int, int, int, int], out: Path, style: Style
) -> tuple[int, int]:
    """Draw every tile of one zoom and write them as ``out/{zoom}/{x}/{y}.png``.

    Parameters
    ----------
    features : Features
        What to draw.
    zoom : int
        The zoom (at most ``features.zoom``).
    tiles : tuple of int
        ``(x0, y0, x1, y1)``: the tile range written (inclusive).
    out : Path
        Folder of the tile pyramid.
    style : Style
        Colours and widths.

    Returns
    -------
    tuple of int
        Tiles written and their total size in bytes.
    """
    scale = 2.0 ** (zoom - features.zoom)
    x0, y0, x1, y1 = tiles
    # pixel of the zoom from the tile grid's corner = features' pixel * scale + shift
    shift = (
        features.origin[0] * scale - x0 * TILE,
        features.origin[1] * scale - y0 * TILE,
    )
    size = META * TILE
    nx = (x1 - x0) // META + 1
    ny = (y1 - y0) // META + 1

    def scaled_box(lines: Lines) -> F64:
        box = lines.bbox().astype(np.float64) * scale
        box[:, [0, 2]] += shift[0]
        box[:, [1, 3]] += shift[1]
        return box

    widths = [style.road_width(zoom, c) for c in range(4)]
    roads = features.roads
    road_mask = np.array([w > 0 for w in widths])[roads.kind] if len(roads) else np.empty(0, bool)
    road_index = np.flatnonzero(road_mask)
    road_buckets = _bucket(scaled_box(roads)[road_index], max(widths) + 2, nx, ny, size)
    road_buckets.order = road_index[road_buckets.order]
    road_xy = roads.xy.astype(np.float64) * scale
    road_xy[:, 0] += shift[0]
    road_xy[:, 1] += shift[1]
    area_box = scaled_box(features.areas)
    area_buckets = _bucket(area_box, 2, nx, ny, size)
    lines_xy = features.areas.xy.astype(np.float64) * scale
    grid_buckets = None
    grid_widths = [2 if zoom < 16 else 3, 1 if zoom < 16 else 2]
    grid_xy = np.empty((0, 2))
    if zoom >= 12 and len(features.grid):
        # medium voltage from zoom 12, low voltage from 14
        shown = np.flatnonzero((features.grid.kind == 0) | (zoom >= 14))
        grid_buckets = _bucket(scaled_box(features.grid)[shown], 3, nx, ny, size)
        grid_buckets.order = shown[grid_buckets.order]
        grid_xy = features.grid.xy.astype(np.float64) * scale + np.array(shift)
    labels = _place_labels(features, zoom, scale, shift, (nx, ny))
    casing = zoom >= 14
    road_colour = style.fill if zoom >= 14 else style.low_fill
    area_fill = {0: style.urban, 1: style.facility, 2: style.water}
    blank: dict[int, bytes] = {}
    written = 0
    total = 0

    def points_of(pts: Points, which: int | None) -> F64:
        sel = pts.xy if which is None else pts.xy[pts.kind == which]
        xy = sel.astype(np.float64) * scale
        xy[:, 0] += shift[0]
        xy[:, 1] += shift[1]
        return xy

    def sorted_points(xy: F64 | None) -> tuple[F64, _Buckets] | None:
        """Return the points and their metatiles (each looked up only where it is)."""
        if xy is None or not len(xy):
            return None
        return xy, _bucket(xy, 6, nx, ny, size)

    building_xy = sorted_points(points_of(features.buildings, None) if zoom >= 15 else None)
    pole_xy = sorted_points(points_of(features.poles, 1) if zoom >= 16 else None)
    transformer_xy = sorted_points(points_of(features.poles, 0) if zoom >= 14 else None)

    for my in range(ny):
        for mx in range(nx):
            key = my * nx + mx
            ox, oy = mx * size, my * size
            image = Image.new("RGB", (size, size), style.background)
            draw = ImageDraw.Draw(image)
            areas = area_buckets.get(key)
            for i in areas.tolist():
                kind = int(features.areas.kind[i])
                lo, hi = features.areas.offsets[i], features.areas.offsets[i + 1]
                ring = lines_xy[lo:hi] + np.array((shift[0] - ox, shift[1] - oy))
                flat = ring.ravel().tolist()
                if kind in area_fill:
                    draw.polygon(flat, fill=area_fill[kind])
            if building_xy is not None:
                _stamp(image, building_xy, key, ox, oy, 2 if zoom == 15 else 4, style.building)
            for i in areas.tolist():
                kind = int(features.areas.kind[i])
                lo, hi = features.areas.offsets[i], features.areas.offsets[i + 1]
                ring = lines_xy[lo:hi] + np.array((shift[0] - ox, shift[1] - oy))
                flat = ring.ravel().tolist()
                if kind == 3 and zoom >= 12:
                    draw.line(flat, fill=style.district, width=1 if zoom < 15 else 2)
                elif kind == 4:
                    draw.line(flat, fill=style.boundary, width=2 if zoom < 14 else 3)
            chosen = road_buckets.get(key)
            if len(chosen):
                _draw_lines(
                    draw, roads, chosen, road_xy, (ox, oy), widths, road_colour, casing, style
                )
            if grid_buckets is not None:
                chosen = grid_buckets.get(key)
                if len(chosen):
                    colours = (style.grid_mt, style.grid_bt)
                    _draw_lines(draw, features.grid, chosen, grid_xy, (ox, oy), grid_widths,
                                colours, False, style)  # fmt: skip
            if pole_xy is not None:
                _stamp(image, pole_xy, key, ox, oy, 3, style.pole)
            if transformer_xy is not None:
                side = 5 if zoom >= 16 else 3
                _stamp(image, transformer_xy, key, ox, oy, side, style.grid_mt)
            for i in labels.buckets.get(key).tolist():
                is_district = bool(labels.district[i])
                text = features.names[int(labels.name[i])]
                if is_district:
                    label = _label_image(
                        text.upper(), _district_size(zoom), style.district_label, style.halo, True
                    )
                else:
                    label = _label_image(text, _street_size(zoom), style.label, style.halo, False)
                if labels.angle[i]:
                    label = label.rotate(
                        float(labels.angle[i]), resample=Image.Resampling.BILINEAR, expand=True
                    )
                px = round(labels.x[i] - ox - label.width / 2)
                py = round(labels.y[i] - oy - label.height / 2)
                image.paste(label, (px, py), label)
            image = image.quantize(palette=_palette(style), dither=Image.Dither.NONE)
            for ty in range(META):
                y = y0 + my * META + ty
                if y > y1:
                    break
                for tx in range(META):
                    x = x0 + mx * META + tx
                    if x > x1:
                        break
                    tile = image.crop((tx * TILE, ty * TILE, (tx + 1) * TILE, (ty + 1) * TILE))
                    colour = _uniform(tile)
                    if colour is not None and colour in blank:
                        data = blank[colour]
                    else:
                        buffer = BytesIO()
                        tile.save(buffer, "PNG", compress_level=PNG_LEVEL)
                        data = buffer.getvalue()
                        if colour is not None:
                            blank[colour] = data
                    folder = out / str(zoom) / str(x)
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{y}.png").write_bytes(data)
                    written += 1
                    total += len(data)
    return written, total


def _stamp(
    image: Image.Image,
    points: tuple[F64, _Buckets],
    key: int,
    ox: int,
    oy: int,
    side: int,
    colour: str,
) -> None:
    """Draw a square of ``side`` pixels at each point of metatile ``key`` (numpy)."""
    chosen = points[1].get(key)
    if not len(chosen):
        return
    xy = points[0][chosen]
    size = image.width
    px = np.floor(xy[:, 0] - ox - side / 2).astype(np.int64)
    py = np.floor(xy[:, 1] - oy - side / 2).astype(np.int64)
    inside = (px > -side) & (px < size) & (py > -side) & (py < size)
    if not inside.any():
        return
    px, py = px[inside], py[inside]
    array = np.array(image)
    rgb = np.array(Image.new("RGB", (1, 1), colour).getpixel((0, 0)), np.uint8)
    for dx in range(side):
        for dy in range(side):
            x, y = px + dx, py + dy
            ok = (x >= 0) & (x < size) & (y >= 0) & (y < size)
            array[y[ok], x[ok]] = rgb
    image.paste(Image.fromarray(array))


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    roads: Lines,
    chosen: I64,
    xy: F64,
    corner: tuple[int, int],
    widths: list[int],
    colours: tuple[str, ...],
    casing: bool,
    style: Style,
) -> None:
    """Draw the roads ``chosen`` (already in drawing order): casings, then fills."""
    offsets = roads.offsets
    starts, ends = offsets[chosen], offsets[chosen + 1]
    counts = ends - starts
    base = np.zeros(len(chosen) + 1, np.int64)
    np.cumsum(counts, out=base[1:])
    vertex = np.arange(base[-1], dtype=np.int64) + np.repeat(starts - base[:-1], counts)
    local = xy[vertex] - corner
    flat = local.ravel().tolist()
    kinds = roads.kind[chosen].tolist()
    bounds = (base * 2).tolist()
    core = draw.draw  # Pillow's C drawing: no per-call colour parsing
    passes = (True, False) if casing else (False,)
    for outline in passes:
        inks = [
            draw._getink(style.casing[k] if outline else colours[k])[0] for k in range(len(colours))
        ]
        extra = 2 if outline else 0
        for j, kind in enumerate(kinds):
            width = widths[kind] + extra
            core.draw_lines(flat[bounds[j] : bounds[j + 1]], inks[kind], width)
