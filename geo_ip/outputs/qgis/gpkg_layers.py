"""What :mod:`geo_ip.outputs.qgis.project` needs to know about the spatial layers of a GeoPackage.

Read with :mod:`sqlite3` only (no GDAL): table, geometry column, geometry type,
fields in QGIS order, extent, CRS and, for a layer of mixed geometry (``GEOMETRY``),
which geometry families it actually holds, read from the GeoPackage binary header
of each geometry.
"""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from geo_ip.errors import InputFileError
from geo_ip.outputs.qgis.qml import SymbolKind, family_of

__all__ = ["GpkgLayer", "connect_readonly", "read_layers"]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WKB_FAMILY: dict[int, SymbolKind] = {
    1: "marker", 4: "marker",
    2: "line", 5: "line", 8: "line", 9: "line", 11: "line",
    3: "fill", 6: "fill", 10: "fill", 12: "fill", 15: "fill", 16: "fill", 17: "fill",
}  # fmt: skip
_FAMILY_ORDER: tuple[SymbolKind, ...] = ("fill", "line", "marker")
"""Drawing order of the parts of a mixed layer, bottom to top."""


@dataclass(frozen=True)
class GpkgLayer:
    """A spatial table of a GeoPackage.

    Attributes
    ----------
    table : str
        Table (layer) name.
    geometry_column : str
        ``gpkg_geometry_columns.column_name`` (``f_geometry_column`` of ``layer_styles``).
    geometry_type : str
        ``gpkg_geometry_columns.geometry_type_name`` (``POINT``, ``GEOMETRY``...).
    fields : tuple of str
        Attribute fields in QGIS order: the primary key (FID) first, no geometry.
    extent : tuple of float or None
        ``(xmin, ymin, xmax, ymax)``, None when empty or unknown.
    authid : str
        ``"EPSG:31983"``-like code of the layer's CRS ("" when undefined).
    families : tuple of str
        Geometry families present (``marker``, ``line``, ``fill``), bottom to top;
        for a single-type layer, just that one.
    """

    table: str
    geometry_column: str
    geometry_type: str
    fields: tuple[str, ...]
    extent: tuple[float, float, float, float] | None
    authid: str
    families: tuple[SymbolKind, ...]


def _wkb_family(blob: bytes | None) -> str | None:
    """Geometry family of a GeoPackage geometry blob (None when null, empty or unknown)."""
    if not blob or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    offset = 8 + _ENVELOPE_BYTES.get((flags >> 1) & 0x07, 0)
    if len(blob) < offset + 5:
        return None
    order = "<" if blob[offset] == 1 else ">"
    (code,) = struct.unpack(order + "I", blob[offset + 1 : offset + 5])
    return _WKB_FAMILY.get((code & 0x0FFFFFFF) % 1000)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a GeoPackage read-only, refusing anything that is not one.

    Parameters
    ----------
    path : Path
        The GeoPackage, opened with ``mode=ro`` (never written).

    Returns
    -------
    sqlite3.Connection
        Read-only connection.

    Raises
    ------
    InputFileError
        When the file is missing or not a GeoPackage.
    """
    if not path.is_file():
        raise InputFileError("GeoPackage não encontrado", path=path)
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        con.execute("SELECT count(*) FROM gpkg_geometry_columns").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputFileError(f"não é um GeoPackage válido ({exc})", path=path) from exc
    return con


def _fields(con: sqlite3.Connection, table: str, geometry: str) -> tuple[str, ...]:
    info = con.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    keys = [row[1] for row in info if row[5]]
    rest = [row[1] for row in info if not row[5] and row[1] != geometry]
    return (*keys, *rest)


def _extent(
    con: sqlite3.Connection, table: str, geometry: str, stored: tuple[float | None, ...]
) -> tuple[float, float, float, float] | None:
    x0, y0, x1, y1 = stored
    if x0 is not None and y0 is not None and x1 is not None and y1 is not None:
        return (float(x0), float(y0), float(x1), float(y1))
    rtree = _quote(f"rtree_{table}_{geometry}")
    try:
        row = con.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {rtree}"
        ).fetchone()
    except sqlite3.DatabaseError:
        return None
    if row is None or any(v is None for v in row):
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _families(
    con: sqlite3.Connection, table: str, geometry: str, geometry_type: str
) -> tuple[SymbolKind, ...]:
    kind = family_of(geometry_type)
    if kind is not None:
        return (kind,)
    # in SQLite, not a Python call per row: the distinct headers (magic, version, flags),
    # then per header the distinct byte order and type code after its envelope
    column, source = _quote(geometry), _quote(table)
    present = set()
    for (head,) in con.execute(f"SELECT DISTINCT substr({column}, 1, 4) FROM {source}"):
        if not isinstance(head, bytes) or len(head) < 4:
            continue
        start = 8 + _ENVELOPE_BYTES.get((head[3] >> 1) & 0x07, 0)
        query = (
            f"SELECT DISTINCT substr({column}, ?, 5) FROM {source} WHERE substr({column}, 1, 4) = ?"
        )
        rows = con.execute(query, (start + 1, head)).fetchall()
        for (code,) in rows:  # a blob rebuilt with just what _wkb_family reads
            present.add(_wkb_family(head + bytes(start - 4) + bytes(code or b"")))
    return tuple(f for f in _FAMILY_ORDER if f in present)


def read_layers(path: Path) -> list[GpkgLayer]:
    """Every spatial table of a GeoPackage, in ``gpkg_contents`` order.

    Parameters
    ----------
    path : Path
        The GeoPackage whose spatial tables the project draws.

    Returns
    -------
    list of GpkgLayer
        One per row of ``gpkg_geometry_columns`` registered as ``features``.

    Raises
    ------
    InputFileError
        When the file is missing or not a GeoPackage.
    """
    with closing(connect_readonly(path)) as con:
        try:
            rows = con.execute(
                "SELECT g.table_name, g.column_name, g.geometry_type_name, c.min_x, c.min_y, "
                "c.max_x, c.max_y, s.organization, s.organization_coordsys_id "
                "FROM gpkg_geometry_columns g "
                "JOIN gpkg_contents c ON lower(c.table_name) = lower(g.table_name) "
                "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id "
                "WHERE c.data_type = 'features' ORDER BY c.rowid"
            ).fetchall()
            layers = []
            for table, geometry, gtype, x0, y0, x1, y1, org, code in rows:
                authid = f"{org.upper()}:{code}" if org and str(org).upper() != "NONE" else ""
                layers.append(
                    GpkgLayer(
                        table=table,
                        geometry_column=geometry,
                        geometry_type=str(gtype).upper(),
                        fields=_fields(con, table, geometry),
                        extent=_extent(con, table, geometry, (x0, y0, x1, y1)),
                        authid=authid,
                        families=_families(con, table, geometry, str(gtype)),
                    )
                )
        except sqlite3.DatabaseError as exc:
            raise InputFileError(f"GeoPackage ilegível ({exc})", path=path) from exc
    return layers
