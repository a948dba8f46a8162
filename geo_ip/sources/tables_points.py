"""Reading a point file as a table (for :mod:`~.tables`).

GeoJSON, GeoPackage, Shapefile or FlatGeobuf, in any CRS: the layer named by
:attr:`~.tables_schema.Schema.layer` is read, else the first point layer (else the first).

Its attributes become string columns as in a spreadsheet; ``latitude`` and
``longitude`` (EPSG:4326) come from each point's geometry, and
:data:`~.tables_schema.GEOMETRY_PROBLEM` says why they are blank.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.parse import cell_text, slug
from geo_ip.sources.tables_schema import (
    GEOMETRY_PROBLEM,
    Record,
    Schema,
    build_table,
    normalise_headers,
)

__all__ = ["GEO_SUFFIXES", "read_points"]

log = logging.getLogger(__name__)

GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
"""Suffixes of the point files GDAL reads; other files are point files only by content."""


@contextlib.contextmanager
def _gdal_warnings_ignored(ignored: bool) -> Iterator[None]:
    """Silence GDAL's warnings (RuntimeWarning through pyogrio) when ``ignored``."""
    with warnings.catch_warnings():
        if ignored:
            warnings.simplefilter("ignore", RuntimeWarning)
        yield


def read_points(path: Path, raw: bytes, schema: Schema) -> pd.DataFrame | None:
    """Read a point file; ``None`` when a file recognised only by its content is no such file.

    A file recognised by its content (a ``.csv`` that starts like JSON or SQLite) is handed
    to GDAL as bytes, so that only the content drivers see it (under its own name the CSV
    driver would claim it), and GDAL's warnings about it (the in-memory name has no
    ``.gpkg`` extension) are silenced: they concern a guess, not the user's file.
    """
    of = schema.of
    sniffed = path.suffix.lower() not in GEO_SUFFIXES
    src: Path | bytes = raw if sniffed else path
    try:
        with _gdal_warnings_ignored(sniffed):
            layers = pyogrio.list_layers(src)
    except pyogrio.errors.DataSourceError as exc:
        if sniffed:
            return None
        raise schema.fail(f"arquivo geográfico{of} ilegível ({exc})", path) from exc
    if len(layers) == 0:
        raise schema.fail(f"o arquivo{of} não tem camadas", path)
    names = [str(n) for n in layers[:, 0]]
    points = [str(n) for n, g in layers if g is not None and "point" in str(g).lower()]
    layer = next((n for n in names if slug(n) == schema.layer), points[0] if points else names[0])
    if len(names) > 1:
        log.info("arquivo '%s': usando a camada '%s' de %d", path, layer, len(names))
    try:
        with _gdal_warnings_ignored(sniffed):
            # by index: bytes get a fresh in-memory name, and so a fresh layer name, per call
            gdf = pyogrio.read_dataframe(src, layer=names.index(layer), fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeError) as exc:
        if sniffed:
            return None
        raise schema.fail(f"camada '{layer}' ilegível ({exc})", path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        if sniffed:
            return None  # a text table that merely starts like JSON: read it as CSV
        raise schema.fail(
            f"a camada '{layer}' do arquivo{of} não tem geometria; grave os pontos com "
            "geometria ou use um CSV/XLSX com latitude e longitude",
            path,
        )
    if gdf.crs is None:
        raise schema.fail(
            f"o arquivo{of} não tem sistema de coordenadas (CRS); grave-o com o CRS definido "
            "(ex.: EPSG:4674, SIRGAS 2000)",
            path,
        )
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    is_point = ~missing & ((kinds == 0) | ((kinds == 4) & single))
    if schema.points is not None and (~missing & ~is_point).any():
        first = int((~missing & ~is_point).argmax())
        raise schema.fail(f"{schema.points}; a feição {first + 1} é {geoms[first].geom_type}", path)
    problem = np.where(missing, "sem geometria", np.where(is_point, "", "não é um ponto"))
    first_parts = shapely.get_geometry(geoms, 0)
    first_parts[~is_point] = None
    lonlat = gpd.GeoSeries(first_parts, crs=gdf.crs).to_crs("EPSG:4326").array
    xs, ys = shapely.get_x(lonlat), shapely.get_y(lonlat)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    header = [str(c) for c in attrs.columns]
    is_gpkg = path.suffix.lower() == ".gpkg"
    lines = [int(i) for i in gdf.index] if is_gpkg else list(range(1, len(gdf) + 1))
    records: list[Record] = [
        (line, [cell_text(v) for v in row])
        for line, row in zip(lines, attrs.itertuples(index=False, name=None), strict=True)
    ]
    names = normalise_headers(header, schema)
    for column in ("latitude", "longitude"):
        if column not in names:
            header.append(column)
            names.append(column)
            records = [(line, [*cells, ""]) for line, cells in records]
    lat_at, lon_at = names.index("latitude"), names.index("longitude")
    for k, (_, cells) in enumerate(records):
        if is_point[k]:
            cells[lat_at], cells[lon_at] = f"{ys[k]:.7f}", f"{xs[k]:.7f}"
    return build_table(header, records, path, schema, {GEOMETRY_PROBLEM: [str(p) for p in problem]})
