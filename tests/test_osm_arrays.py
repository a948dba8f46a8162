"""Array-built road graph (geo_ip.sources.osm_arrays) against hand-checked values and osmnx."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import osmnx as ox
import pytest
import shapely

from geo_ip.errors import OsmError
from geo_ip.sources.catalog import RoadsLayer, load_catalog
from geo_ip.sources.osm import osm_timestamp, read_road_graph
from geo_ip.sources.osm_arrays import RoadArrays, read_road_arrays
from geo_ip.territory.synthetic_osm import OSM_TIMESTAMP, write_synthetic_osm
from tests.conftest import POA

ROADS: RoadsLayer = load_catalog().vias
POA_PBF = POA / "poa_osm.pbf"

# WGS84 on the equator: 0.001° of longitude is a·Δλ; 0.001° of latitude, a(1-e²)·Δφ
A, E2 = 6378137.0, 0.00669437999014
EQ = A * math.radians(0.001)  # 111.3195 m
MER = A * (1 - E2) * math.radians(0.001)  # 110.5743 m

Ways = dict[int, tuple[list[int], dict[str, str]]]


def write_osm(
    folder: Path, nodes: dict[int, tuple[float, float]], ways: Ways, name: str = "t.osm"
) -> Path:
    """Write an OSM XML file of nodes (id: lon, lat, in thousandths of a degree) and ways."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in nodes.items():
        lines.append(f'<node id="{nid}" lat="{lat / 1000:.3f}" lon="{lon / 1000:.3f}"/>')
    for wid, (refs, tags) in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{wid}">{nds}{tag_xml}</way>')
    lines.append("</osm>")
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _norm(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(int(v) for v in value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return value


_COLUMNS = (
    "osmid", "highway", "oneway", "reversed", "name", "surface", "lit", "lanes", "maxspeed",
    "ref", "service", "access", "bridge", "tunnel", "junction", "width",
)  # fmt: skip


def edge_records(edges: Any) -> list[tuple[Any, ...]]:
    """Sorted (u, v, attributes, coordinates, length) of an edge frame."""
    edges = edges.reset_index()
    n = len(edges)
    columns = [
        [_norm(v) for v in edges[c].tolist()] if c in edges.columns else [None] * n
        for c in _COLUMNS
    ]
    coords, index = shapely.get_coordinates(edges.geometry.values, return_index=True)
    split = np.split(coords, np.flatnonzero(np.diff(index)) + 1) if n else []
    out = [
        (int(u), int(v), attrs, tuple(map(tuple, xy.tolist())), float(length))
        for u, v, attrs, xy, length in zip(
            edges["u"], edges["v"], zip(*columns, strict=True), split, edges["length"],
            strict=True,
        )
    ]  # fmt: skip
    return sorted(out, key=lambda r: (r[0], r[1], repr(r[2]), r[3]))


def assert_same_as_osmnx(path: Path) -> RoadArrays:
    """The array graph has the osmnx graph's nodes, street counts and edges."""
    arrays = read_road_arrays(path, ROADS)
    graph = read_road_graph(path, ROADS)
    nodes, edges = ox.graph_to_gdfs(graph)
    assert sorted(arrays.node_id.tolist()) == sorted(nodes.index.tolist())
    counts = dict(zip(arrays.node_id.tolist(), arrays.street_count.tolist(), strict=True))
    assert counts == {int(k): int(v) for k, v in nodes["street_count"].items()}
    mine, theirs = edge_records(arrays.edges_frame()), edge_records(edges)
    assert len(mine) == len(theirs) == graph.number_of_edges()
    for a, b in zip(mine, theirs, strict=True):
        assert a[:4] == b[:4]
        assert a[4] == pytest.approx(b[4], rel=1e-6)
    # keys: 0, 1, ... per (u, v), as many as osmnx
    assert sorted(zip(arrays.u.tolist(), arrays.v.tolist(), arrays.key.tolist(), strict=True)) == (
        sorted((int(u), int(v), int(k)) for u, v, k in graph.edges(keys=True))
    )
    return arrays


def by_pair(arrays: RoadArrays) -> dict[tuple[int, int], list[float]]:
    out: dict[tuple[int, int], list[float]] = {}
    for u, v, length in zip(arrays.u.tolist(), arrays.v.tolist(), arrays.length, strict=True):
        out.setdefault((u, v), []).append(float(length))
    return out


# ------------------------------------------------------------------------ hand-checked


def test_t_junction(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (1, 1)}
    ways: Ways = {
        10: ([1, 2, 3], {"highway": "residential", "name": "Rua A"}),
        11: ([2, 4], {"highway": "tertiary", "name": "Rua B"}),
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    pairs = by_pair(arrays)
    assert set(pairs) == {(1, 2), (2, 1), (2, 3), (3, 2), (2, 4), (4, 2)}
    assert pairs[(1, 2)] == [pytest.approx(EQ, rel=1e-9)]
    assert pairs[(2, 4)] == [pytest.approx(MER, rel=1e-6)]
    counts = dict(zip(arrays.node_id.tolist(), arrays.street_count.tolist(), strict=True))
    assert counts == {1: 1, 2: 3, 3: 1, 4: 1}
    frame = arrays.edges_frame()
    assert set(frame.loc[(2, 4, 0), ["name", "highway"]]) == {"Rua B", "tertiary"}


def test_dead_end_merges_through_a_middle_node(tmp_path: Path) -> None:
    # 1-2-3: node 2 joins two segments of one street, so it is not an edge end
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0)}
    ways: Ways = {10: ([1, 2, 3], {"highway": "residential"})}
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    assert by_pair(arrays) == {(1, 3): [pytest.approx(2 * EQ)], (3, 1): [pytest.approx(2 * EQ)]}
    assert arrays.node_id.tolist() == [1, 3]
    assert [len(shapely.get_coordinates(g)) for g in arrays.geometry] == [3, 3]


def test_isolated_ring_is_kept_unsimplified(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (1, 0), 3: (1, 1), 4: (0, 1)}
    ways: Ways = {10: ([1, 2, 3, 4, 1], {"highway": "residential"})}
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    assert arrays.n_edges == 8  # four sides, both directions
    assert sorted(arrays.length) == pytest.approx([MER] * 4 + [EQ] * 4, rel=1e-5)
    node_comp, small = arrays.components(10)
    assert set(node_comp.tolist()) == {0}
    assert small == {0}


def test_crossing_without_a_shared_node_is_not_split(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (2, 0), 3: (1, -1), 4: (1, 1)}
    ways: Ways = {
        10: ([1, 2], {"highway": "primary"}),
        11: ([3, 4], {"highway": "primary", "bridge": "yes"}),
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    pairs = by_pair(arrays)
    assert set(pairs) == {(1, 2), (2, 1), (3, 4), (4, 3)}
    assert pairs[(1, 2)] == [pytest.approx(2 * EQ)]
    assert pairs[(3, 4)] == [pytest.approx(2 * MER, rel=1e-6)]
    node_comp, _ = arrays.components(10)
    assert len(set(node_comp.tolist())) == 2


def test_filtered_ways_are_left_out(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (1, 1), 5: (1, -1)}
    ways: Ways = {
        10: ([1, 2, 3], {"highway": "residential"}),
        11: ([2, 4], {"highway": "footway"}),
        12: ([2, 5], {"highway": "service", "service": "parking_aisle"}),
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    # without the filtered ways node 2 is a middle node again
    assert by_pair(arrays) == {(1, 3): [pytest.approx(2 * EQ)], (3, 1): [pytest.approx(2 * EQ)]}
    assert arrays.ways == 1


def test_missing_node_reference_is_skipped(tmp_path: Path, caplog: Any) -> None:
    # node 99 is not in the file: the way runs 1-2-3; way 11 keeps one located node (4)
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (5, 5)}
    ways: Ways = {
        10: ([1, 2, 99, 3], {"highway": "residential"}),
        11: ([4, 98], {"highway": "residential"}),
    }
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    assert "nós de vias sem coordenadas" in caplog.text
    assert by_pair(arrays) == {(1, 3): [pytest.approx(2 * EQ)], (3, 1): [pytest.approx(2 * EQ)]}
    assert 4 in arrays.node_id.tolist()  # isolated, as osmnx leaves it


def test_one_way_roundabout_parallel_and_loop_quirks(tmp_path: Path) -> None:
    nodes = {i: (i % 5, i // 5) for i in range(1, 16)}
    ways: Ways = {
        # oneway=-1: drawn 1->2->3 but driven 3->2->1; continues two-way from 3
        10: ([1, 2, 3], {"highway": "residential", "oneway": "-1", "name": "Rua A"}),
        11: ([3, 4], {"highway": "tertiary", "name": "Rua B"}),
        # roundabout 6-7-8-6, attached at 6 to 4
        12: ([6, 7, 8, 6], {"highway": "primary", "junction": "roundabout"}),
        13: ([4, 6], {"highway": "primary"}),
        # two ways between 8 and 9: parallel edges with keys 0 and 1
        14: ([8, 9], {"highway": "residential", "name": "Rua C"}),
        15: ([8, 10, 9], {"highway": "residential", "name": "Rua D"}),
        # a lollipop: 9-11-12-13-11
        16: ([9, 11, 12, 13, 11], {"highway": "service"}),
        # repeated node
        17: ([13, 13, 14], {"highway": "track", "surface": "unpaved"}),
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    keys = by_pair(arrays)
    assert len(keys[(8, 9)]) == 2
    assert not any(u == 1 for u, _ in keys)  # 1 is only reached against the drawing


def test_merged_ways_join_their_tags(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0)}
    ways: Ways = {
        20: ([1, 2], {"highway": "residential", "name": "Rua A", "surface": "asphalt"}),
        10: ([2, 3], {"highway": "secondary", "name": "Rua A", "surface": "paving_stones"}),
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    frame = arrays.edges_frame()
    row = frame.loc[(1, 3, 0)]
    assert row["osmid"] == [10, 20]
    assert row["name"] == "Rua A"
    assert row["surface"] == "asphalt / paving_stones"
    assert row["highway"] == "secondary"  # the most important class wins


def test_a_change_of_name_keeps_the_node(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (3, 0)}
    ways: Ways = {
        20: ([1, 2], {"highway": "residential", "name": "Rua A"}),
        10: ([2, 3], {"highway": "residential", "name": "Rua B"}),
        30: ([3, 4], {"highway": "residential"}),  # no name: a change too
    }
    arrays = assert_same_as_osmnx(write_osm(tmp_path, nodes, ways))
    frame = arrays.edges_frame()
    assert sorted(arrays.node_id.tolist()) == [1, 2, 3, 4]
    assert frame.loc[(1, 2, 0), "name"] == "Rua A"
    assert frame.loc[(2, 3, 0), "name"] == "Rua B"


def test_no_accepted_way_is_an_error(tmp_path: Path) -> None:
    path = write_osm(tmp_path, {1: (0, 0), 2: (1, 0)}, {10: ([1, 2], {"highway": "footway"})})
    with pytest.raises(OsmError, match="nenhuma via para veículos"):
        read_road_arrays(path, ROADS)


def test_synthetic_osm_file(tmp_path: Path) -> None:
    osm = write_synthetic_osm(tmp_path / "s.osm.pbf", edges=2_000, seed=1)
    again = write_synthetic_osm(tmp_path / "s2.osm.pbf", edges=2_000, seed=1)
    assert osm.counts == again.counts
    assert osm.path.read_bytes() == again.path.read_bytes()
    assert osm_timestamp(osm.path) == OSM_TIMESTAMP
    arrays = assert_same_as_osmnx(osm.path)
    # blocks whose cross street was removed merge: a little under two edges per segment
    assert 0.8 * 2 * osm.counts["trechos"] < arrays.n_edges <= 2 * osm.counts["trechos"]
    names = set(arrays.tags["name"].tolist())
    assert any(str(n).startswith("Avenida ") for n in names)


# ------------------------------------------------------------------------------ POA


@pytest.mark.skipif(not POA_PBF.exists(), reason=f"extrato de Porto Alegre ausente: {POA_PBF}")
def test_poa_equals_osmnx() -> None:
    arrays = assert_same_as_osmnx(POA_PBF)
    assert arrays.n_edges == 26_333
    assert len(arrays.node_id) == 11_287


def test_pickle_round_trip_keeps_the_geometries(tmp_path: Path) -> None:
    import pickle

    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 1)}
    arrays = read_road_arrays(
        write_osm(tmp_path, nodes, {10: ([1, 2, 3], {"highway": "residential"})}), ROADS
    )
    back = pickle.loads(pickle.dumps(arrays))
    assert back.geometry.dtype == object
    assert shapely.equals_exact(back.geometry, arrays.geometry, 0).all()
    assert shapely.get_coordinates(back.geometry[0]).tolist() == [
        [0, 0],
        [0.001, 0],
        [0.002, 0.001],
    ]
    assert back.u.tolist() == arrays.u.tolist() and back.osmid.tolist() == arrays.osmid.tolist()


def test_roads_read_in_a_helper_process_replay_their_log(
    tmp_path: Path, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.territory import roads as territory

    nodes = {1: (0, 0), 2: (1, 0), 3: (2, 0)}
    path = write_osm(tmp_path, nodes, {10: ([1, 2, 99, 3], {"highway": "residential"})})
    assert territory._start_road_helper(path, ROADS, 5) is None  # small file: no helper
    monkeypatch.setattr(territory, "PARALLEL_OSM_BYTES", 1)
    monkeypatch.setattr(territory._parallel, "cores", lambda: 2)
    helper = territory._start_road_helper(path, ROADS, 5)
    assert helper is not None
    helper.stop()
    reading = territory.RoadReading(path, ROADS, sample=5)
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        arrays = reading.arrays()
    reading.stop()
    assert by_pair(arrays) == {(1, 3): [pytest.approx(2 * EQ)], (3, 1): [pytest.approx(2 * EQ)]}
