from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo_ip.errors import DemError
from geo_ip.sources.dem import inspect_dem, sample_elevation

from .conftest import POA, require


def _dem(path: Path, crs: str = "EPSG:31983") -> Path:
    """A 4x3 DEM in UTM 23S: cell (r, c) = 100*r + c, 10 m cells, origin (300000, 7470000)."""
    data = (100 * np.arange(3)[:, None] + np.arange(4)[None, :]).astype("float32")
    data[2, 3] = -9999
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32", crs=crs,
        transform=from_origin(300000, 7470000, 10, 10), nodata=-9999,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def test_sample_elevation_hand_checked(tmp_path: Path) -> None:
    path = _dem(tmp_path / "d.tif")
    x = np.array([300005.0, 300035.0, 300015.0, 300035.0, 299990.0])
    y = np.array([7469995.0, 7469995.0, 7469975.0, 7469975.0, 7469995.0])
    got = sample_elevation(path, x, y, "EPSG:31983")
    np.testing.assert_array_equal(got[:3], [0.0, 3.0, 201.0])
    assert np.isnan(got[3])  # nodata cell
    assert np.isnan(got[4])  # outside the raster


def test_sample_in_another_crs(tmp_path: Path) -> None:
    path = _dem(tmp_path / "d.tif")
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(31983, 4326, always_xy=True).transform(300015.0, 7469985.0)
    got = sample_elevation(path, np.array([lon]), np.array([lat]), "EPSG:4326")
    assert got.tolist() == [101.0]


def test_inspect_coverage_and_errors(tmp_path: Path) -> None:
    path = _dem(tmp_path / "d.tif")
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(31983, 4326, always_xy=True)
    inside = shapely.box(*to_wgs.transform_bounds(300005, 7469975, 300035, 7469995))
    info = inspect_dem(path, inside)
    assert info.crs == "EPSG:31983"
    assert info.resolution == (10.0, 10.0)
    assert info.coverage == pytest.approx(1.0, abs=1e-3)
    far = shapely.box(*to_wgs.transform_bounds(400000, 7400000, 401000, 7401000))
    with pytest.raises(DemError, match="cobre só 0% do território"):
        inspect_dem(path, far)
    with pytest.raises(DemError, match="não encontrado"):
        inspect_dem(tmp_path / "nada.tif", inside)
    (tmp_path / "vazio.tif").write_bytes(b"")
    with pytest.raises(DemError, match="vazio"):
        inspect_dem(tmp_path / "vazio.tif", inside)
    (tmp_path / "lixo.tif").write_bytes(b"isto nao e um tiff" * 10)
    with pytest.raises(DemError, match="não é um GeoTIFF legível"):
        inspect_dem(tmp_path / "lixo.tif", inside)


def test_dem_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "semcrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8",
        transform=from_origin(0, 2, 1, 1),
    ) as dst:  # fmt: skip
        dst.write(np.zeros((2, 2), dtype="uint8"), 1)
    with pytest.raises(DemError, match="não tem sistema de coordenadas"):
        inspect_dem(path, shapely.box(0, 0, 1, 1))


def test_poa_dem_real() -> None:
    path = require(POA / "poa_elevation.tif")
    got = sample_elevation(path, np.array([-51.2, -51.15]), np.array([-30.05, -30.0]), "EPSG:4326")
    with rasterio.open(path) as src:
        expected = [float(v[0]) for v in src.sample([(-51.2, -30.05), (-51.15, -30.0)])]
    assert got.tolist() == expected == [11.0, 15.0]
