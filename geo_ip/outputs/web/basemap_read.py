"""Reading a territory GeoPackage for the offline background.

The file is read with the standard library's ``sqlite3`` (a GeoPackage is an SQLite
file whose geometries are WKB behind a short header), one chunk of rows at a time, and
every geometry is kept as packed ``float32`` pixel coordinates at the deepest zoom: a
1M-edge territory fits in a few tens of megabytes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from geo_ip.outputs.web.basemap_tiles import (
    _EARTH,
    CANAL,
    F32,
    F64,
    I32,
    I64,
    RIVER,
    STREAM,
    TILE,
    Features,
    Lines,
    Points,
    road_class,
)

__all__ = ["read_features"]

_CHUNK = 10_000
"""Rows read from SQLite at a time."""

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

    def rows(self, table: str, wanted: list[str]) -> Iterator[tuple[list[list[Any]], list[bytes]]]:
        """Yield chunks: one list per wanted column and the geometry blobs (no null)."""
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
            columns = [list(c) for c in zip(*chunk, strict=True)]
            yield columns[:-1], columns[-1]

    def mapped(self, values: list[Any], function: Callable[..., int]) -> I32:
        """Return ``function(value)`` of each value, computed once per distinct value.

        The distinct values are taken in their first-seen order (not a set's): the
        names get the same ids on every run.
        """
        table = {v: function(v) for v in dict.fromkeys(values)}
        return np.fromiter(map(table.__getitem__, values), np.int32, len(values))

    def names_of(self, values: list[Any]) -> I32:
        """Return the name id of each value (-1: no name)."""
        return self.mapped(values, self.name_id)

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


_ENVELOPE = np.array([0, 32, 48, 48, 64, 0, 0, 0], np.int64)


def _decode(blobs: list[bytes]) -> tuple[F64, I64, I64, I64, npt.NDArray[np.bool_]]:
    """Decode the 2D little-endian points and linestrings of GeoPackage blobs with numpy.

    The usual rows of a territory (one ``LINESTRING`` or ``POINT`` each) are read
    without a shapely object per row: the blobs are joined into one buffer and the
    coordinates gathered from it. Returns the coordinates, the count of each decoded
    geometry (1 for a point), its row, its WKB type (1 or 2), and which rows are left
    for shapely (anything else: multi-parts, polygons, 3D, big-endian, empty...).
    """
    n = len(blobs)
    lens = np.fromiter(map(len, blobs), np.int64, n)
    data = b"".join(blobs)
    buf = np.frombuffer(data, np.uint8)
    starts = np.zeros(n, np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    last = max(len(buf) - 1, 0)

    def byte(at: I64) -> I64:
        return buf[np.minimum(at, last)].astype(np.int64) if len(buf) else np.zeros(n, np.int64)

    flags = byte(starts + 3)
    header = 8 + _ENVELOPE[(flags >> 1) & 7]
    wkb = starts + header
    ok = (lens >= header + 21) & (byte(starts) == 0x47) & (byte(starts + 1) == 0x50)
    ok &= (((flags >> 1) & 7) <= 4) & ((flags & 16) == 0) & (byte(wkb) == 1)
    kind = byte(wkb + 1) | byte(wkb + 2) << 8 | byte(wkb + 3) << 16 | byte(wkb + 4) << 24
    count = byte(wkb + 5) | byte(wkb + 6) << 8 | byte(wkb + 7) << 16 | byte(wkb + 8) << 24
    point = ok & (kind == 1) & (lens == header + 21)
    line = ok & (kind == 2) & (lens == header + 9 + 16 * count)
    fast = point | line
    rows = np.flatnonzero(fast)
    counts = np.where(point, 1, count)[rows]
    first = np.where(point, wkb + 5, wkb + 9)[rows]
    total = int(counts.sum())
    begin = np.repeat(np.cumsum(counts) - counts, counts)
    at = np.repeat(first, counts) + 16 * (np.arange(total, dtype=np.int64) - begin)
    coords = np.empty((total, 2), np.float64)
    residue = at % 8
    for r in range(8):
        sel = np.flatnonzero(residue == r)
        if len(sel):
            view = np.frombuffer(data, "<f8", count=(len(data) - r) // 8, offset=r)
            q = (at[sel] - r) // 8
            coords[sel, 0] = view[q]
            coords[sel, 1] = view[q + 1]
    return coords, counts, rows, kind[rows], ~fast


def _slow(blobs: list[bytes], rest: npt.NDArray[np.bool_]) -> tuple[I64, Any]:
    """Return the rows left by :func:`_decode` and their shapely geometries."""
    index = np.flatnonzero(rest)
    wkb = np.array([_wkb(blobs[i]) for i in index.tolist()], dtype=object)
    return index, shapely.from_wkb(wkb, on_invalid="ignore")


def _lines_of(blobs: list[bytes]) -> tuple[F64, I64, I64]:
    """Return the lines of the blobs (polygons: their outer rings), in row order.

    Coordinates, vertices per line (at least 2) and the row of each line.
    """
    coords, counts, rows, kind, rest = _decode(blobs)
    keep = np.repeat(kind == 2, counts)
    coords, good = coords[keep], kind == 2
    counts, rows = counts[good], rows[good]
    if rest.any():
        index, geoms = _slow(blobs, rest)
        flat, owner = shapely.get_parts(geoms, return_index=True)
        rings = shapely.get_type_id(flat) == 3
        if rings.any():
            flat = flat.copy()
            flat[rings] = shapely.get_exterior_ring(flat[rings])
        lines = np.isin(shapely.get_type_id(flat), (1, 2))
        flat, owner = flat[lines], owner[lines]
        more, which = shapely.get_coordinates(flat, return_index=True)
        if len(more):
            more_counts = np.bincount(which, minlength=len(flat))
            coords = np.concatenate([coords, more])
            counts = np.concatenate([counts, more_counts])
            rows = np.concatenate([rows, index[owner]])
            order = np.argsort(rows, kind="stable")
            coords = _reorder(coords, counts, order)
            counts, rows = counts[order], rows[order]
    good = counts >= 2
    if not good.all():
        coords = coords[np.repeat(good, counts)]
        counts, rows = counts[good], rows[good]
    return coords, counts, rows


def _offsets(counts: I64) -> I64:
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _reorder(coords: F64, counts: I64, order: I64) -> F64:
    """Return the coordinates of the lines in ``order``."""
    offsets = _offsets(counts)
    new = _offsets(counts[order])
    starts = np.repeat(offsets[:-1][order] - new[:-1], counts[order])
    return coords[np.arange(new[-1], dtype=np.int64) + starts]


def _points_of(blobs: list[bytes], surface: bool) -> tuple[F64, I64]:
    """Return the points of the blobs and their rows, in row order.

    With ``surface`` every geometry gives a point on it (a building's footprint, a
    district's area); without, only points (and the parts of multipoints) count.
    """
    coords, _counts, rows, kind, rest = _decode(blobs)
    if surface and (kind == 2).any():  # a point on each line too
        rest[rows[kind == 2]] = True
    keep = kind == 1
    coords = coords[np.repeat(keep, _counts)]
    rows = rows[keep]
    if rest.any():
        index, geoms = _slow(blobs, rest)
        if surface:
            centres = shapely.point_on_surface(geoms)
            more, which = shapely.get_coordinates(centres, return_index=True)
        else:
            flat, owner = shapely.get_parts(geoms, return_index=True)
            is_point = shapely.get_type_id(flat) == 0
            more, which = shapely.get_coordinates(flat[is_point], return_index=True)
            which = owner[is_point][which]
        if len(more):
            coords = np.concatenate([coords, more])
            rows = np.concatenate([rows, index[which]])
            order = np.argsort(rows, kind="stable")
            coords, rows = coords[order], rows[order]
    return coords, rows


def _collect_lines(
    reader: _Reader, table: str, blobs: list[bytes], kinds: I32, names: I32, parts: list[Lines]
) -> None:
    """Append the lines of ``blobs`` (rings of polygons as lines)."""
    coords, counts, rows = _lines_of(blobs)
    if len(counts):
        xy = reader.pixels(table, coords)
        parts.append(Lines(xy, _offsets(counts), kinds[rows], names[rows]))


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


def _points(
    reader: _Reader, table: str, blobs: list[bytes], kinds: I32, names: I32, surface: bool
) -> Points | None:
    """Return the points of ``blobs`` (see :func:`_points_of`), or None."""
    coords, rows = _points_of(blobs, surface)
    if not len(rows):
        return None
    return Points(reader.pixels(table, coords), kinds[rows], names[rows])


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
        ids = [
            f"CASE WHEN typeof({c}) IN ('integer', 'real') THEN CAST({c} AS INTEGER) ELSE -1 END"
            for c in ("u", "v")
        ]
        cursor = reader.con.execute(
            f'SELECT {", ".join(ids)} FROM vias WHERE "{geom_column}" IS NOT NULL ORDER BY rowid'
        )
        pairs = [np.empty((0, 2), np.int64)]
        while chunk := cursor.fetchmany(_CHUNK * 10):
            pairs.append(np.array(chunk, np.int64).reshape(-1, 2))
        uv = np.concatenate(pairs)
        del pairs
        u, v = uv[:, 0], uv[:, 1]
        key = _mix(u, v)
        key.sort()  # in place: no second copy at a million rows
        reverse = _mix(v, u)
        at = np.searchsorted(key, reverse)
        at[at == len(key)] = 0
        twin = key[at] == reverse
        del key, reverse, at
        keep = (u < v) | ~twin | (u < 0) | (v < 0)
        del u, v, uv, twin
    by_class: list[list[Lines]] = [[], [], [], []]
    n = 0
    for (highway, hierarquia, name), blobs in reader.rows(
        "vias", ["highway", "hierarquia", "name"]
    ):
        wanted = keep[n : n + len(blobs)] if len(keep) else np.ones(len(blobs), bool)
        n += len(blobs)
        pairs_of = list(zip(highway, hierarquia, strict=True))
        kinds = reader.mapped(pairs_of, lambda pair: road_class(*pair))
        names = reader.names_of(name)
        coords, vertex_counts, rows = _lines_of(blobs)
        if not len(rows):
            continue
        row_kind = kinds[rows]
        mine_rows = wanted[rows]
        xy = reader.pixels("vias", coords)
        for cls in range(4):
            mine = mine_rows & (row_kind == cls)
            if mine.any():
                part = Lines(xy, _offsets(vertex_counts), row_kind, names[rows])
                by_class[cls].append(part.take(np.flatnonzero(mine)))
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
        Roads, grid, areas, water lines, buildings, poles and district names.

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
            for (column,), blobs in reader.rows(table, [name_column or "rowid"]):
                counts[table] += len(blobs)
                kinds = np.full(len(blobs), kind, np.int32)
                names = (
                    reader.names_of(column) if name_column else np.full(len(blobs), -1, np.int32)
                )
                _collect_lines(reader, table, blobs, kinds, names, areas)
                if name_column:
                    found = _points(reader, table, blobs, kinds * 0, names, surface=True)
                    if found is not None:
                        places.append(found)
        counts["bairros"] = 0
        for (column,), blobs in reader.rows("bairros", ["nome"]):
            counts["bairros"] += len(blobs)
            zeros = np.zeros(len(blobs), np.int32)
            found = _points(reader, "bairros", blobs, zeros, reader.names_of(column), surface=True)
            if found is not None:
                places.append(found)
        water: list[Lines] = []
        counts["cursos_agua"] = 0
        for (tipo, nome), blobs in reader.rows("cursos_agua", ["tipo", "nome"]):
            counts["cursos_agua"] += len(blobs)
            kinds = reader.mapped(tipo, _water_kind)
            _collect_lines(reader, "cursos_agua", blobs, kinds, reader.names_of(nome), water)
        buildings: list[Points] = []
        counts["edificacoes"] = 0
        for _column, blobs in reader.rows("edificacoes", ["rowid"]):
            counts["edificacoes"] += len(blobs)
            nothing = np.full(len(blobs), -1, np.int32)
            found = _points(reader, "edificacoes", blobs, nothing + 1, nothing, surface=True)
            if found is not None:
                buildings.append(found)
        grid: list[Lines] = []
        poles: list[Points] = []
        counts["rede_existente"] = 0
        for (tipo, tensao), blobs in reader.rows("rede_existente", ["tipo", "tensao_v"]):
            counts["rede_existente"] += len(blobs)
            pairs = list(zip(tipo, tensao, strict=True))
            kinds = reader.mapped(pairs, lambda pair: _grid_kind(*pair))
            nothing = np.full(len(blobs), -1, np.int32)
            _collect_lines(reader, "rede_existente", blobs, kinds, nothing, grid)
            found = _points(reader, "rede_existente", blobs, kinds, nothing, surface=False)
            if found is not None:
                poles.append(found)
        assert reader.origin is not None  # set by the roads
        grid_lines, grid_points = _concat_lines(grid), _concat_points(poles)
        grid_lines.name = _constant(grid_lines.name)
        grid_points.name = _constant(grid_points.name)
        building_points = _concat_points(buildings)
        building_points.kind = _constant(building_points.kind)
        building_points.name = _constant(building_points.name)
        return Features(
            zoom=zoom,
            origin=reader.origin,
            roads=roads,
            grid=grid_lines,
            areas=_concat_lines(areas),
            buildings=building_points,
            poles=grid_points,
            places=_concat_points(places),
            names=reader.names,
            counts=counts,
            waterways=_concat_lines(water),
        )
    finally:
        reader.close()


def _constant(column: I32) -> I32:
    """Return a column of one value as a read-only view taking no memory (else itself).

    Buildings have no class or name, grid lines and poles no name: at a million rows
    these columns would take megabytes in every drawing process.
    """
    if len(column) and int(column.min()) == int(column.max()):
        return np.broadcast_to(column[:1].copy(), column.shape)  # a copy: the rest is freed
    return column


def _water_kind(tipo: object) -> int:
    """0: river, 1: canal, 2: stream (and any other water line)."""
    text = str(tipo or "").strip().lower()
    if text in ("rio", "river"):
        return RIVER
    if text == "canal":
        return CANAL
    return STREAM


def _grid_kind(tipo: object, tensao: object) -> int:
    """0: medium voltage line or transformer, 1: low voltage line, pole or lighting point."""
    text = str(tipo or "").lower()
    if text in ("mt", "transformador"):
        return 0
    try:
        return 0 if float(tensao) >= 1000 else 1  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
