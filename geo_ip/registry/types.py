"""Column types of the registry that differ between SQLite and PostgreSQL/PostGIS.

:class:`Geom` is a real PostGIS geometry column (GeoAlchemy2, EPSG:4326, with a spatial
index) on PostgreSQL, so QGIS opens the live registry as layers, and WKT text on SQLite,
where nothing needs to be installed. Python always sees WKT text (or None).
"""

from __future__ import annotations

import string
from typing import Any

import shapely
from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["SRID", "Geom", "to_wkt"]

_HEX = frozenset(string.hexdigits)

SRID = 4326
"""Geometries of the registry are in WGS 84 longitude/latitude (what QGIS and GPS use)."""


def to_wkt(value: Any) -> str | None:
    """Turn what a driver returns for a geometry (WKB, hex EWKB, WKT, EWKT) into WKT.

    Parameters
    ----------
    value : Any
        A GeoAlchemy2 element, bytes, a hex string, a WKT or EWKT string, or None.

    Returns
    -------
    str or None
        The geometry as WKT (no SRID prefix), None for None or an empty value.
    """
    if value is None or value == "":
        return None
    if isinstance(value, WKBElement):
        value = value.data
    if isinstance(value, WKTElement):
        value = value.data
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return str(shapely.to_wkt(shapely.from_wkb(value), rounding_precision=-1))
    text = str(value)
    if text.upper().startswith("SRID="):
        text = text.split(";", 1)[1]
    if len(text) % 2 == 0 and text[:2] in ("00", "01") and set(text) <= _HEX:
        return str(shapely.to_wkt(shapely.from_wkb(bytes.fromhex(text)), rounding_precision=-1))
    return text


class Geom(TypeDecorator[str]):
    """A geometry column: PostGIS ``geometry(<kind>, 4326)`` or WKT text on SQLite.

    Parameters
    ----------
    kind : str
        ``POINT``, ``LINESTRING``, ``MULTILINESTRING`` or ``GEOMETRY``.
    """

    impl = Text
    cache_ok = True

    def __init__(self, kind: str = "GEOMETRY") -> None:
        super().__init__()
        self.kind = kind
        # the first migration makes the GIST indexes itself; GeoAlchemy2's table events
        # read these attributes of any geometry-like column
        self.spatial_index = False
        self.geometry_type = kind
        self.srid = SRID

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        """Return PostGIS geometry on PostgreSQL (and to GeoAlchemy2's events), else text."""
        geometry = Geometry(self.kind, srid=SRID, spatial_index=False)
        if dialect is None:
            return geometry
        if dialect.name == "postgresql":
            return dialect.type_descriptor(geometry)
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """WKT in; an EWKT element for PostGIS."""
        if value is None or value == "":
            return None
        wkt = to_wkt(value)
        if wkt is not None and dialect.name == "postgresql":
            return WKTElement(wkt, srid=SRID)
        return wkt

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Return WKT, whatever the driver gave."""
        return to_wkt(value)
