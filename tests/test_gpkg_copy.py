"""Copying GeoPackage layers in SQLite (geo_ip.territory.gpkg_copy) and the geometry
families of a mixed layer read in SQLite (geo_ip.outputs.qgis.gpkg_layers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo_ip.outputs.qgis.gpkg_layers import read_layers
from geo_ip.territory.gpkg_copy import copy_layers

CRS = "EPSG:31983"


def _source(path: Path) -> Path:
    roads = gpd.GeoDataFrame(
        {"nome": ["Rua A", "Rua B", "Avenida C"], "hierarquia": ["local", "local", "principal"]},
        geometry=[
            LineString([(0, 0), (100, 0)]),
            LineString([(0, 50), (0, 150)]),
            LineString([(500, 500), (600, 700)]),
        ],
        crs=CRS,
    )
    pyogrio.write_dataframe(roads, path, layer="vias", driver="GPKG")
    mixed = gpd.GeoDataFrame(
        {"codigo": ["p1", "l1", "f1"]},
        geometry=[Point(10, 10), LineString([(0, 0), (1, 1)]), Polygon([(0, 0), (1, 0), (0, 1)])],
        crs=CRS,
    )
    pyogrio.write_dataframe(mixed, path, layer="rede", driver="GPKG", geometry_type="Unknown")
    return path


def _target(path: Path) -> Path:
    requests = gpd.GeoDataFrame({"protocolo": ["PED-1"]}, geometry=[Point(5, 5)], crs=CRS)
    pyogrio.write_dataframe(requests, path, layer="pedidos", driver="GPKG")
    return path


def test_layers_copied_with_rows_index_and_registration(tmp_path: Path) -> None:
    source = _source(tmp_path / "territorio.gpkg")
    target = _target(tmp_path / "avaliacao.gpkg")

    declined = copy_layers(source, target, ["vias", "rede", "nao_existe", "pedidos"])

    # absent in the source; "pedidos" is absent there too
    assert declined == ["nao_existe", "pedidos"]
    assert [name for name, _ in pyogrio.list_layers(target)] == ["pedidos", "vias", "rede"]
    copied = pyogrio.read_dataframe(target, layer="vias")
    original = pyogrio.read_dataframe(source, layer="vias")
    pd.testing.assert_frame_equal(
        copied.drop(columns="geometry"), original.drop(columns="geometry")
    )
    assert shapely.equals(copied.geometry.values, original.geometry.values).all()
    assert pyogrio.read_info(target, layer="vias")["crs"] == CRS
    # the spatial index is there and sound: a box around "Avenida C" finds only it
    found = pyogrio.read_dataframe(target, layer="vias", bbox=(450, 450, 650, 750))
    assert list(found["nome"]) == ["Avenida C"]
    with sqlite3.connect(target) as con:
        assert con.execute("SELECT rtreecheck('rtree_vias_geom')").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM rtree_vias_geom").fetchone() == (3,)
        counts = dict(con.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents"))
        extent = con.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='vias'"
        ).fetchone()
    assert counts == {"pedidos": 1, "vias": 3, "rede": 3}
    assert extent == (0.0, 0.0, 600.0, 700.0)


def test_copied_layer_keeps_its_triggers(tmp_path: Path) -> None:
    source = _source(tmp_path / "territorio.gpkg")
    target = _target(tmp_path / "avaliacao.gpkg")
    copy_layers(source, target, ["vias"])

    more = gpd.GeoDataFrame(
        {"nome": ["Rua D"], "hierarquia": ["local"]},
        geometry=[LineString([(2000, 2000), (2100, 2000)])],
        crs=CRS,
    )
    pyogrio.write_dataframe(more, target, layer="vias", driver="GPKG", append=True)

    found = pyogrio.read_dataframe(target, layer="vias", bbox=(1900, 1900, 2200, 2100))
    assert list(found["nome"]) == ["Rua D"]
    with sqlite3.connect(target) as con:
        assert con.execute("SELECT count(*) FROM rtree_vias_geom").fetchone() == (4,)
        assert con.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name='vias'"
        ).fetchone() == (4,)


def test_coordinate_system_defined_otherwise_is_declined(tmp_path: Path) -> None:
    source = _source(tmp_path / "territorio.gpkg")
    target = _target(tmp_path / "avaliacao.gpkg")
    with sqlite3.connect(target) as con:  # the same id, another definition
        con.execute("UPDATE gpkg_spatial_ref_sys SET definition='outro' WHERE srs_id=31983")

    assert copy_layers(source, target, ["vias"]) == ["vias"]
    assert [name for name, _ in pyogrio.list_layers(target)] == ["pedidos"]


def test_families_of_a_mixed_layer_read_in_sqlite(tmp_path: Path) -> None:
    source = _source(tmp_path / "territorio.gpkg")

    layers = {layer.table: layer for layer in read_layers(source)}

    assert layers["vias"].families == ("line",)
    # bottom to top: the polygon, the line, the point
    assert layers["rede"].families == ("fill", "line", "marker")
    with sqlite3.connect(source) as con:
        con.execute("DELETE FROM rede WHERE codigo = 'f1'")
    assert {layer.table: layer for layer in read_layers(source)}["rede"].families == (
        "line",
        "marker",
    )
