"""Digital elevation model: check coverage and sample elevations.

Any GeoTIFF in any CRS is accepted; points are transformed into the raster's CRS
and sampled from one windowed read (vectorised, no per-point Python loop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import shapely
from pyproj import Transformer
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from geo_ip.errors import DemError

log = logging.getLogger(__name__)

MIN_COVERAGE = 0.5
"""Below this fraction of the territory covered, the DEM is refused."""


@dataclass(frozen=True)
class DemInfo:
    """What we know of a DEM file after checking it against the territory."""

    path: Path
    crs: str
    resolution: tuple[float, float]
    bounds: tuple[float, float, float, float]
    nodata: float | None
    coverage: float
    warnings: tuple[str, ...] = ()


def _open(path: Path) -> rasterio.DatasetReader:
    if not path.is_file():
        raise DemError("arquivo do modelo de elevação não encontrado", path=path)
    if path.stat().st_size == 0:
        raise DemError("arquivo do modelo de elevação vazio", path=path)
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DemError(
            f"não é um GeoTIFF legível ou está corrompido (detalhe: {exc})", path=path
        ) from exc


def inspect_dem(path: str | Path, extent_wgs84: BaseGeometry) -> DemInfo:
    """Check that a DEM is readable, georeferenced and covers the territory.

    Parameters
    ----------
    path : str or Path
        GeoTIFF (or any raster GDAL reads) with elevations in metres.
    extent_wgs84 : shapely geometry
        The territory's extent in EPSG:4326.

    Returns
    -------
    DemInfo
        CRS, resolution, bounds, nodata and the covered fraction of the extent.

    Raises
    ------
    DemError
        If the file is missing, unreadable, has no CRS, or covers less than
        half of the territory.
    """
    path = Path(path)
    with _open(path) as src:
        if src.crs is None:
            raise DemError("o modelo de elevação não tem sistema de coordenadas (CRS)", path=path)
        to_dem = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        extent = shapely.transform(
            extent_wgs84, lambda xy: np.column_stack(to_dem.transform(xy[:, 0], xy[:, 1]))
        )
        dem_box = shapely.box(*src.bounds)
        coverage = 0.0 if extent.area == 0 else extent.intersection(dem_box).area / extent.area
        info = DemInfo(
            path=path,
            crs=src.crs.to_string(),
            resolution=(abs(src.res[0]), abs(src.res[1])),
            bounds=tuple(src.bounds),
            nodata=src.nodata,
            coverage=round(coverage, 4),
        )
    if coverage < MIN_COVERAGE:
        raise DemError(
            f"o modelo de elevação cobre só {coverage:.0%} do território "
            f"(mínimo {MIN_COVERAGE:.0%}); use um recorte que inclua a área de estudo",
            path=path,
        )
    if coverage < 0.99:
        msg = (
            f"o modelo de elevação cobre {coverage:.0%} do território: fora dele a "
            "declividade fica desconhecida"
        )
        log.warning(msg)
        info = DemInfo(**{**info.__dict__, "warnings": (msg,)})
    return info


def sample_elevation(path: str | Path, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
    """Sample elevations (nearest cell) at points.

    Parameters
    ----------
    path : str or Path
        The DEM.
    x, y : numpy.ndarray
        Point coordinates in ``crs``.
    crs : str
        CRS of the coordinates.

    Returns
    -------
    numpy.ndarray
        Elevation in metres per point (float64), NaN outside the raster or on
        nodata cells.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    out = np.full(x.shape, np.nan)
    if x.size == 0:
        return out
    with _open(Path(path)) as src:
        tx, ty = Transformer.from_crs(crs, src.crs, always_xy=True).transform(x, y)
        rows, cols = rasterio.transform.rowcol(src.transform, np.asarray(tx), np.asarray(ty))
        rows, cols = np.asarray(rows, dtype="int64"), np.asarray(cols, dtype="int64")
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        if not inside.any():
            return out
        r0, c0 = int(rows[inside].min()), int(cols[inside].min())
        window = Window(c0, r0, int(cols[inside].max()) - c0 + 1, int(rows[inside].max()) - r0 + 1)
        band = src.read(1, window=window, masked=True).astype("float64").filled(np.nan)
        out[inside] = band[rows[inside] - r0, cols[inside] - c0]
    return out
