"""Unit tests of the territory builder's pure parts, on hand-built inputs."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo_ip.rules.config import load_rules
from geo_ip.territory.build import choose_crs
from geo_ip.territory.roads import _components, classify_roads

CRS = "EPSG:31983"


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (-51.2, -30.05, "EPSG:31982"),  # Porto Alegre, zone 22S
        (-46.32, -22.85, "EPSG:31983"),  # Extrema, zone 23S
        (-46.63, -23.55, "EPSG:31983"),  # São Paulo, zone 23S
        (-60.02, -3.10, "EPSG:31980"),  # Manaus, zone 20S
        (-60.67, 2.82, "EPSG:31974"),  # Boa Vista, zone 20N
    ],
)
def test_choose_crs_from_location(lon: float, lat: float, epsg: str) -> None:
    assert choose_crs(lon, lat) == (epsg, None)


def test_rules_crs_wins_only_inside_its_area() -> None:
    rules = load_rules("extrema")
    assert choose_crs(-46.32, -22.85, rules) == ("EPSG:31983", None)
    crs, warning = choose_crs(-51.2, -30.05, rules)
    assert crs == "EPSG:31982"
    assert warning is not None and "fora da área de uso do CRS do arquivo de regras" in warning


def _edges() -> gpd.GeoDataFrame:
    # Four 100 m roads: two inside the urban box (0..500, 0..500), two outside.
    return gpd.GeoDataFrame(
        {
            "highway": ["primary_link", "residential", "track", "unclassified"],
            "geometry": [
                LineString([(100, 100), (200, 100)]),
                LineString([(100, 300), (200, 300)]),
                LineString([(2000, 100), (2100, 100)]),
                LineString([(600, 100), (700, 100)]),  # mid-point at 650: 150 m from the box
            ],
        },
        crs=CRS,
    )


EMPTY = gpd.GeoDataFrame({"landuse": [], "geometry": []}, crs=CRS)
NO_NODES = gpd.GeoDataFrame({"street_count": [], "geometry": []}, crs=CRS)


def test_hierarchy_and_rural_from_urban_area() -> None:
    rules = load_rules("extrema")
    urban = gpd.GeoDataFrame(
        {"landuse": ["residential"], "geometry": [box(0, 0, 500, 500)]}, crs=CRS
    )
    out, rule = classify_roads(_edges(), NO_NODES, rules, urban, EMPTY)
    assert out["hierarquia"].tolist() == ["principal", "local", "local", "local"]
    # Margin 100 m: x=650 is 150 m away from the box → rural; x=150 inside → urban.
    assert out["rural"].tolist() == [False, False, True, True]
    assert rule.startswith("área urbana mapeada")


def test_commercial_landuse_alone_does_not_map_the_urban_area() -> None:
    # Porto Alegre's extract has only a few commercial polygons: they must not make
    # every other street rural. The fallback rule applies (tracks/unclassified only).
    rules = load_rules("extrema")
    urban = gpd.GeoDataFrame({"landuse": ["commercial"], "geometry": [box(0, 0, 50, 50)]}, crs=CRS)
    out, rule = classify_roads(_edges(), NO_NODES, rules, urban, EMPTY)
    assert out["rural"].tolist() == [False, False, True, True]
    assert rule.startswith("sem área urbana mapeada")


def test_rural_from_buildings_when_no_urban_area() -> None:
    rules = load_rules("extrema")
    # A house 250 m from the unclassified road's mid-point; nothing within 300 m of the track.
    houses = gpd.GeoDataFrame({"geometry": [Point(650, 350)]}, crs=CRS)
    out, rule = classify_roads(_edges(), NO_NODES, rules, EMPTY, houses)
    assert out["rural"].tolist() == [False, False, True, False]
    assert "300 m" in rule


def test_dense_junctions_mark_built_up_area() -> None:
    rules = load_rules("extrema")
    # Six junctions within 300 m of the track's mid-point (2050, 100), five near the other.
    pts = [Point(2050 + 40 * i, 150) for i in range(6)] + [
        Point(650, 150 + 40 * i) for i in range(5)
    ]
    nodes = gpd.GeoDataFrame({"street_count": [3] * 11, "geometry": pts}, crs=CRS)
    out, _ = classify_roads(_edges(), nodes, rules, EMPTY, EMPTY)
    assert out["rural"].tolist() == [False, False, False, True]
    # Dead ends (street_count 1) do not count as junctions.
    nodes["street_count"] = 1
    out, _ = classify_roads(_edges(), nodes, rules, EMPTY, EMPTY)
    assert out["rural"].tolist() == [False, False, True, True]


def test_components_flag_small_ones() -> None:
    g = nx.MultiDiGraph()
    # Main component: a 4-edge two-way chain 1-2-3 (4 directed edges) plus 3->4 (5 edges).
    g.add_edges_from([(1, 2), (2, 1), (2, 3), (3, 2), (3, 4)])
    # Small component: one two-way street 10-11 (2 edges).
    g.add_edges_from([(10, 11), (11, 10)])
    node_comp, small = _components(g, max_edges=2)
    assert node_comp[1] == node_comp[4] == 0
    assert node_comp[10] == node_comp[11] == 1
    assert small == {1}
    _, none_small = _components(g, max_edges=1)
    assert none_small == set()


def test_classify_roads_leaves_the_callers_frame_alone() -> None:
    edges = _edges()
    before = list(edges.columns)
    out, _rule = classify_roads(edges, NO_NODES, load_rules("extrema"), EMPTY, EMPTY)
    assert list(edges.columns) == before  # the new columns are on the copy only
    assert {"hierarquia", "rural"} <= set(out.columns)


@pytest.mark.parametrize("block", [1, 2, 3, 1000])
def test_twin_groups_in_blocks_of_rows(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    from geo_ip.network import kernels

    monkeypatch.setattr(kernels, "_TWIN_BLOCK", block)
    a = LineString([(0, 0), (1, 0)])
    bent = LineString([(0, 0), (0.5, 0.5), (1, 0)])
    near = LineString([(0, 0), (1.0004, 0)])  # the same to the mm
    far = LineString([(0, 0), (1.002, 0)])
    lo = np.array([1, 1, 1, 1, 2, 1, 1])
    hi = np.array([5, 5, 5, 5, 5, 5, 5])
    geoms = np.array([a, bent, near, far, a, bent, a], dtype=object)
    assert kernels.twin_groups(lo, hi, geoms).tolist() == [0, 1, 0, 2, 3, 1, 0]


def test_twin_groups_hash_collision_falls_back_to_the_geometry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geo_ip.network import kernels

    real = kernels._row_digests
    monkeypatch.setattr(  # every row of a length gets the same hash
        kernels, "_row_digests", lambda g: (real(g)[0], np.zeros(len(g), np.uint64))
    )
    monkeypatch.setattr(kernels, "_TWIN_BLOCK", 2)
    a, b = LineString([(0, 0), (1, 0)]), LineString([(0, 0), (2, 0)])
    geoms = np.array([a, b, a, b, b], dtype=object)
    lo, hi = np.zeros(5, "int64"), np.ones(5, "int64")
    assert kernels.twin_groups(lo, hi, geoms).tolist() == [0, 1, 0, 1, 1]
