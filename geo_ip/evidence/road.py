"""The road each request is on: betweenness, through traffic, surface, rural, slope.

Columns of :data:`geo_ip.evidence.context.CONTEXT_COLUMNS` about the request's own
road, filled by :func:`road_columns` for every request at once (arrays, no row loop),
with the DEM sampled along each extension path by :func:`path_slopes`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import shapely
from pyproj import CRS

from geo_ip.errors import DemError
from geo_ip.sources import dem as dem_mod

__all__ = [
    "SLOPE_STEP_M",
    "UNPAVED_SURFACES",
    "dem_cell_m",
    "path_slopes",
    "road_columns",
    "text_array",
    "tokens",
]

UNPAVED_SURFACES = frozenset({
    "unpaved", "dirt", "gravel", "ground", "earth", "grass", "sand", "compacted",
    "fine_gravel", "mud",
})  # fmt: skip
"""OSM ``surface`` values of an unpaved road (``highway=track`` is unpaved too)."""
SLOPE_STEP_M = 10.0
"""Spacing of the DEM samples along an extension path (at least two DEM cells)."""


def text_array(values: pd.Series) -> np.ndarray:
    """Return the values as strings, missing ones as ``""``."""
    if isinstance(values.dtype, pd.StringDtype):
        # text only (or missing): each distinct text once, a missing one (code -1) as ""
        codes, uniques = pd.factorize(values)
        texts = np.array([*(str(u) for u in uniques), ""], dtype=object)
        return np.asarray(texts[codes], dtype=object)
    return np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)


def tokens(value: str) -> set[str]:
    """Return the lower-case values of an OSM tag separated by ``;`` or ``/``."""
    return {t.strip().lower() for t in value.replace("/", ";").split(";") if t.strip()}


def dem_cell_m(path: Path) -> float:
    """Return the size of a DEM cell in metres (the larger side; degrees at the centre)."""
    if not path.is_file():
        raise DemError("arquivo do modelo de elevação não encontrado", path=path)
    try:
        with rasterio.open(path) as src:
            res_x, res_y = abs(src.res[0]), abs(src.res[1])
            crs = CRS.from_user_input(src.crs) if src.crs is not None else None
            centre_lat = (src.bounds.bottom + src.bounds.top) / 2
    except rasterio.errors.RasterioIOError as exc:
        raise DemError(f"não é um GeoTIFF legível ({exc})", path=path) from exc
    if crs is None:
        raise DemError("o modelo de elevação não tem sistema de coordenadas (CRS)", path=path)
    if crs.is_geographic:
        return max(res_x * 111_320 * math.cos(math.radians(centre_lat)), res_y * 110_574)
    return max(res_x, res_y)


def road_columns(
    out: pd.DataFrame,
    roads: gpd.GeoDataFrame,
    edge: np.ndarray,
    paths: np.ndarray,
    *,
    betweenness: tuple[np.ndarray, np.ndarray],
    degree: pd.Series,
    dem: Path | None,
    slope_step: float,
    crs: str,
) -> None:
    """Add the request's road columns to ``out``: betweenness, access, surface, slope.

    Parameters
    ----------
    out : pandas.DataFrame
        The context table being filled (one row per request).
    roads : geopandas.GeoDataFrame
        The territory's ``vias`` (the columns the context reads).
    edge : numpy.ndarray
        Row of ``roads`` of each request's edge (-1 when not snapped).
    paths : numpy.ndarray
        Extension path of each request (missing when none).
    betweenness : tuple of numpy.ndarray
        Betweenness of each road and its percentile.
    degree : pandas.Series
        Number of roads at each node (index: node id).
    dem : Path or None
        Elevation model sampled along the paths.
    slope_step : float
        Spacing of the DEM samples (metres).
    crs : str
        CRS of the paths.
    """
    n = len(out)
    snapped = edge >= 0
    at = edge[snapped]

    def column(values: np.ndarray, dtype: Any, fill: Any) -> pd.Series:
        series = pd.Series(pd.array([fill] * n, dtype=dtype))
        series[snapped] = values
        return series

    out["intermediacao"] = column(betweenness[0][at], "float64", np.nan)
    out["intermediacao_percentil"] = column(betweenness[1][at], "float64", np.nan)
    u, v = roads["u"].to_numpy()[at], roads["v"].to_numpy()[at]
    deg_u = degree.reindex(u, fill_value=0).to_numpy()
    deg_v = degree.reindex(v, fill_value=0).to_numpy()
    out["via_de_passagem"] = column((deg_u >= 2) & (deg_v >= 2), "boolean", pd.NA)
    surface, unpaved = _surface(roads, at)
    out["superficie_via"] = column(surface.astype(str), "str", "")
    out["via_sem_pavimento"] = column(unpaved, "boolean", pd.NA)
    rural = (
        roads["rural"].astype("boolean").fillna(False).to_numpy(dtype=bool)[at]
        if "rural" in roads
        else np.zeros(len(at), dtype=bool)
    )
    out["via_rural"] = column(rural, "boolean", pd.NA)

    mean, peak = path_slopes(paths, dem, slope_step, crs)
    source = np.where(np.isfinite(mean), "mde", "")
    if "declividade_pct" in roads:
        edge_slope = np.full(n, np.nan)
        edge_slope[snapped] = pd.to_numeric(roads["declividade_pct"], errors="coerce").to_numpy(
            dtype="float64"
        )[at]
        fallback = ~np.isfinite(mean) & np.isfinite(edge_slope)
        mean = np.where(fallback, edge_slope, mean)
        peak = np.where(fallback, edge_slope, peak)
        source = np.where(fallback, "aresta", source)
    out["declividade_media_pct"] = np.round(mean, 2)
    out["declividade_max_pct"] = np.round(peak, 2)
    out["declividade_fonte"] = pd.Series(source, dtype=str)


def _surface(roads: gpd.GeoDataFrame, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``surface`` of the roads at rows ``at`` and whether each is unpaved."""
    blank = pd.Series([""] * len(at), dtype=object)
    surface = text_array(roads["surface"].iloc[at]) if "surface" in roads else text_array(blank)
    highway = text_array(roads["highway"].iloc[at]) if "highway" in roads else text_array(blank)
    # a few distinct values: each one's tokens are looked at once
    surfaces, surface_at = np.unique(surface.astype(str), return_inverse=True)
    highways, highway_at = np.unique(highway.astype(str), return_inverse=True)
    unpaved_surface = np.array([bool(tokens(v) & UNPAVED_SURFACES) for v in surfaces], bool)
    track = np.array(["track" in tokens(v) for v in highways], bool)
    unpaved = unpaved_surface[surface_at] | track[highway_at] if len(at) else np.zeros(0, bool)
    return surface, unpaved


def path_slopes(
    paths: np.ndarray, dem: Path | None, slope_step: float, crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return the length-weighted mean and maximum slope (%) along each path, from the DEM."""
    n = len(paths)
    mean, peak = np.full(n, np.nan), np.full(n, np.nan)
    has = np.flatnonzero(~shapely.is_missing(paths))
    if dem is None or len(has) == 0:
        return mean, peak
    parts, which = shapely.get_parts(paths[has], return_index=True)
    owner = has[which]
    lines = np.isin(shapely.get_type_id(parts), (1, 2)) & (shapely.length(parts) > 0)
    parts, owner = parts[lines], owner[lines]
    if len(parts) == 0:
        return mean, peak
    length = shapely.length(parts)
    segments = np.maximum(1, np.ceil(length / slope_step)).astype(np.int64)
    part_of = np.repeat(np.arange(len(parts)), segments + 1)
    first = np.cumsum(segments + 1) - (segments + 1)
    step_no = np.arange(len(part_of)) - first[part_of]
    along = step_no * (length / segments)[part_of]
    samples = shapely.line_interpolate_point(parts[part_of], along)
    elev = dem_mod.sample_elevation(dem, shapely.get_x(samples), shapely.get_y(samples), crs)
    same = part_of[1:] == part_of[:-1]
    rise = np.abs(np.diff(elev))[same]
    run = np.diff(along)[same]
    who = owner[part_of[1:][same]]
    ok = np.isfinite(rise) & (run > 0)
    rise, run, who = rise[ok], run[ok], who[ok]
    total_run = np.bincount(who, weights=run, minlength=n)
    total_rise = np.bincount(who, weights=rise, minlength=n)
    covered = total_run > 0
    mean[covered] = 100 * total_rise[covered] / total_run[covered]
    np.fmax.at(peak, who, 100 * rise / run)
    return mean, peak
