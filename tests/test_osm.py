"""Road graph from OSM files (geo_ip.sources.osm)."""

from __future__ import annotations

import bz2
import gzip
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import osmium
import osmnx as ox
import pytest
import requests
import shapely
from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError
from pyproj import Geod

from geo_ip.errors import OsmError, PlaceNotFoundError
from geo_ip.sources.catalog import GraphFilter, RoadsLayer, load_catalog
from geo_ip.sources.osm import (
    _normalise_edge,
    _overpass_filter,
    check_osm_file,
    fetch_place,
    highway_rank,
    osm_timestamp,
    read_road_graph,
    tag_dict,
)
from tests.conftest import POA, require

ROADS: RoadsLayer = load_catalog().vias

# WGS84 semi-major axis and first eccentricity squared: on the equator a geodesic
# along the equator is a·Δλ, and a short meridian arc there is a(1-e²)·Δφ.
A = 6378137.0
E2 = 0.00669437999014
STEP = math.radians(0.001)
EQUATOR_M = A * STEP  # 0.001° of longitude on the equator: 111.3195 m
MERIDIAN_M = A * (1 - E2) * STEP  # 0.001° of latitude at the equator: 110.5743 m

# Nodes (id: lon, lat). Coordinates in thousandths of a degree near (0, 0).
NODES = {
    1: (0.000, 0.000),
    2: (0.001, 0.000),
    3: (0.002, 0.000),
    4: (0.003, 0.000),
    5: (0.003, 0.001),
    6: (0.004, 0.001),
    7: (0.000, 0.001),
    8: (0.001, 0.001),
    9: (0.001, 0.002),
    10: (0.002, 0.002),
    11: (0.000, 0.002),
    12: (-0.001, 0.000),
    20: (0.010, 0.010),
    21: (0.011, 0.010),
}
# Ways: id -> (node refs, tags).
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    # residential 1-2-3 and tertiary 3-4 of the same street meet at a degree-2 node:
    # merged into one edge (a change of name would keep node 3, see test_name_change_...)
    100: (
        [1, 2, 3],
        {"highway": "residential", "name": "Rua A", "surface": "asphalt", "maxspeed": "40"},
    ),
    101: (
        [3, 4],
        {"highway": "tertiary", "name": "Rua A", "surface": "paving_stones", "maxspeed": "40"},
    ),
    # one-way 4 -> 5, and oneway=-1: drawn 5 -> 6 but driven 6 -> 5
    102: ([4, 5], {"highway": "residential", "oneway": "yes", "lit": "yes"}),
    103: ([5, 6], {"highway": "residential", "oneway": "-1"}),
    # two-way street with an interstitial node (7) ending in a dead end (8)
    104: ([1, 7, 8], {"highway": "residential", "name": "Rua C", "lanes": "2"}),
    # excluded by the catalog filter
    105: ([8, 9], {"highway": "footway"}),
    106: ([8, 10], {"highway": "service", "service": "parking_aisle"}),
    107: ([8, 11], {"highway": "residential", "access": "private"}),
    # a dead end making node 1 an intersection
    109: ([1, 12], {"highway": "living_street"}),
    # a disconnected component
    108: ([20, 21], {"highway": "unclassified"}),
}
NODE_TAGS = {4: {"highway": "traffic_signals"}}
TIMESTAMPS = {1: "2019-03-04T05:06:07Z", 100: "2021-06-07T08:09:10Z"}


def osm_xml(
    nodes: dict[int, tuple[float, float]] = NODES,
    ways: dict[int, tuple[list[int], dict[str, str]]] = WAYS,
    *,
    timestamps: bool = True,
) -> str:
    def meta(oid: int) -> str:
        ts = TIMESTAMPS.get(oid) if timestamps else None
        return f' version="1" timestamp="{ts}"' if ts else ""

    def tags(items: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in items.items())

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in nodes.items():
        node_tags = tags(NODE_TAGS.get(nid, {}))
        lines.append(f'<node id="{nid}" lat="{lat}" lon="{lon}"{meta(nid)}>{node_tags}</node>')
    for wid, (refs, way_tags) in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{wid}"{meta(wid)}>{nds}{tags(way_tags)}</way>')
    lines.append("</osm>")
    return "\n".join(lines)


def to_pbf(source: Path, target: Path, header: osmium.io.Header | None = None) -> Path:
    with osmium.SimpleWriter(str(target), header=header) as writer:
        for obj in osmium.FileProcessor(source):
            if isinstance(obj, osmium.osm.Node):
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                writer.add_way(obj)
    return target


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    return path


def edge(graph: nx.MultiDiGraph, u: int, v: int) -> dict[str, Any]:
    assert graph.number_of_edges(u, v) == 1, (u, v)
    return dict(graph.edges[u, v, 0])


def edge_table(graph: nx.MultiDiGraph) -> list[tuple[Any, ...]]:
    return sorted(
        (
            u,
            v,
            str(d["osmid"]),
            d["highway"],
            d["name"],
            d["oneway"],
            round(d["length"], 6),
            d["geometry"].wkt,
        )
        for u, v, d in graph.edges(data=True)
    )


# --------------------------------------------------------------------------- tiny file


def test_tiny_graph_structure(tiny: Path) -> None:
    graph = read_road_graph(tiny, ROADS)
    assert graph.graph["crs"] == "EPSG:4326"
    # interstitial nodes 2, 3, 7 simplified away; 9, 10, 11 only on excluded ways
    assert sorted(graph.nodes) == [1, 4, 5, 6, 8, 12, 20, 21]
    assert sorted(graph.edges()) == [
        (1, 4),
        (1, 8),
        (1, 12),
        (4, 1),
        (4, 5),
        (6, 5),
        (8, 1),
        (12, 1),
        (20, 21),
        (21, 20),
    ]
    # every component is kept, including the disconnected 20-21 street
    assert nx.number_weakly_connected_components(graph) == 2
    assert dict(graph.nodes(data="street_count")) == {
        1: 3,
        4: 2,
        5: 2,
        6: 1,
        8: 1,
        12: 1,
        20: 1,
        21: 1,
    }
    assert graph.nodes[4]["highway"] == "traffic_signals"
    assert (graph.nodes[6]["x"], graph.nodes[6]["y"]) == (0.004, 0.001)


def test_tiny_oneway_and_twoway(tiny: Path) -> None:
    graph = read_road_graph(tiny, ROADS)
    assert edge(graph, 4, 5)["oneway"] is True
    assert not graph.has_edge(5, 4)
    # oneway=-1 reverses the drawn direction 5 -> 6
    assert edge(graph, 6, 5)["oneway"] is True
    assert not graph.has_edge(5, 6)
    for u, v in [(1, 8), (8, 1), (20, 21), (21, 20)]:
        assert edge(graph, u, v)["oneway"] is False


def test_tiny_excluded_ways_absent(tiny: Path) -> None:
    graph = read_road_graph(tiny, ROADS)
    osmids = set()
    for _, _, osmid in graph.edges(data="osmid"):
        osmids.update(osmid if isinstance(osmid, list) else [osmid])
    assert osmids == {100, 101, 102, 103, 104, 108, 109}
    assert not {9, 10, 11} & set(graph.nodes)


def test_tiny_merged_edge_attributes(tiny: Path) -> None:
    graph = read_road_graph(tiny, ROADS)
    merged = edge(graph, 1, 4)
    assert merged["osmid"] == [100, 101]
    assert merged["highway"] == "tertiary"  # secundaria beats local
    assert merged["name"] == "Rua A"
    assert merged["surface"] == "asphalt / paving_stones"
    assert merged["maxspeed"] == "40"
    assert merged["lit"] is None
    assert merged["lanes"] is None
    assert merged["geometry"].equals(shapely.LineString([NODES[n] for n in (1, 2, 3, 4)]))
    back = edge(graph, 4, 1)
    assert back["geometry"].equals(shapely.LineString([NODES[n] for n in (4, 3, 2, 1)]))
    single = edge(graph, 20, 21)
    assert single["osmid"] == 108
    assert single["highway"] == "unclassified"
    assert single["name"] is None
    assert edge(graph, 4, 5)["lit"] == "yes"
    assert edge(graph, 1, 8)["lanes"] == "2"


def test_tiny_geometry_and_geodesic_length(tiny: Path) -> None:
    graph = read_road_graph(tiny, ROADS)
    for _, _, data in graph.edges(data=True):
        assert isinstance(data["geometry"], shapely.LineString)
    # straight edge: osmnx gives no geometry, we add the segment
    assert edge(graph, 4, 5)["geometry"].equals(shapely.LineString([NODES[4], NODES[5]]))
    assert edge(graph, 4, 5)["length"] == pytest.approx(MERIDIAN_M, abs=0.5)
    assert edge(graph, 1, 4)["length"] == pytest.approx(3 * EQUATOR_M, abs=0.5)
    # 1 -> 7 runs north along the meridian, 7 -> 8 east along latitude 0.001°
    assert edge(graph, 1, 8)["length"] == pytest.approx(MERIDIAN_M + EQUATOR_M, abs=0.5)
    # a great-circle length (osmnx's default, R = 6,371,009 m) would be ~0.6 m off here
    assert abs(edge(graph, 4, 5)["length"] - 6_371_009 * STEP) > 0.5


def test_compressed_and_pbf_give_same_graph(tiny: Path, tmp_path: Path) -> None:
    data = tiny.read_bytes()
    bz = tmp_path / "tiny.osm.bz2"
    bz.write_bytes(bz2.compress(data))
    gz = tmp_path / "tiny.osm.gz"
    gz.write_bytes(gzip.compress(data))
    pbf = to_pbf(tiny, tmp_path / "tiny.osm.pbf")
    expected = edge_table(read_road_graph(tiny, ROADS))
    assert len(expected) == 10
    for path in (bz, gz, pbf, str(pbf)):
        graph = read_road_graph(path, ROADS)
        assert edge_table(graph) == expected, path
        assert sorted(graph.nodes) == [1, 4, 5, 6, 8, 12, 20, 21]


def test_name_change_keeps_the_node(tmp_path: Path) -> None:
    # Rua A 1-2-3 continues as Avenida B 3-4 at a degree-2 node: two edges, each with
    # its own name and geometry, so a point placed on Avenida B's edges is on it.
    ways = {100: WAYS[100], 101: ([3, 4], {**WAYS[101][1], "name": "Avenida B"})}
    path = tmp_path / "nomes.osm"
    path.write_text(osm_xml(NODES, ways), encoding="utf-8")
    graph = read_road_graph(path, ROADS)
    assert sorted(graph.nodes) == [1, 3, 4]
    assert edge(graph, 1, 3)["name"] == "Rua A"
    assert edge(graph, 3, 4)["name"] == "Avenida B"
    assert edge(graph, 3, 4)["geometry"].equals(shapely.LineString([NODES[3], NODES[4]]))
    # a way without a name after a named one is a change of name too
    unnamed = {100: WAYS[100], 101: ([3, 4], {"highway": "tertiary"})}
    path.write_text(osm_xml(NODES, unnamed), encoding="utf-8")
    assert sorted(read_road_graph(path, ROADS).nodes) == [1, 3, 4]


def test_isolated_rings_kept(tmp_path: Path) -> None:
    nodes = {31: (0.0, 0.0), 32: (0.001, 0.0), 33: (0.001, 0.001), 34: (0.0, 0.001)}
    nodes |= {41: (0.01, 0.0), 42: (0.011, 0.0), 43: (0.011, 0.001)}
    ways = {
        # a closed block drawn as two ways, isolated from everything else
        200: ([31, 32, 33], {"highway": "primary", "name": "Avenida Brasil"}),
        201: ([33, 34, 31], {"highway": "residential", "name": "Avenida Brasil"}),
        # an isolated one-way roundabout drawn as one closed way
        202: ([41, 42, 43, 41], {"highway": "tertiary", "junction": "roundabout"}),
    }
    path = tmp_path / "aneis.osm"
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    graph = read_road_graph(path, ROADS)
    assert sorted(graph.nodes) == [31, 32, 33, 34, 41, 42, 43]
    assert graph.number_of_edges() == 8 + 3
    assert edge(graph, 32, 31)["highway"] == "primary"
    assert edge(graph, 34, 33)["highway"] == "residential"
    assert sorted(graph.edges(41)) == [(41, 42)]
    assert edge(graph, 43, 41)["oneway"] is True
    total = sum(d["length"] for u, _, d in graph.edges(data=True) if u in (41, 42, 43))
    # east, north, then back along the diagonal of the 0.001° square
    diagonal = math.hypot(EQUATOR_M, MERIDIAN_M)
    assert total == pytest.approx(EQUATOR_M + MERIDIAN_M + diagonal, abs=0.5)


def test_missing_way_nodes_are_skipped(tmp_path: Path) -> None:
    # way 100 references node 3 absent from the file (cut by the extract border)
    nodes = {k: v for k, v in NODES.items() if k != 3}
    path = tmp_path / "cut.osm"
    path.write_text(osm_xml(nodes, {100: WAYS[100]}), encoding="utf-8")
    graph = read_road_graph(path, ROADS)
    assert sorted(graph.edges()) == [(1, 2), (2, 1)]


# --------------------------------------------------------------------------- normaliser


def test_highway_rank_follows_the_graph_filter() -> None:
    rank = highway_rank(ROADS.grafo)
    ordered = sorted(
        ["track", "primary_link", "residential", "trunk", "secondary", "primary"],
        key=rank.__getitem__,
    )
    assert ordered == ["trunk", "primary", "primary_link", "secondary", "residential", "track"]


def test_normalise_edge_dict() -> None:
    data: dict[str, Any] = {
        "osmid": [7, 3, 5],
        "highway": ["service", "primary_link", "secondary"],
        "name": ["Rua X", "Avenida Y", "Rua X"],
        "maxspeed": ["60", "40"],
        "oneway": [False, False],
        "reversed": [True, False],
        "lanes": "2",
    }
    _normalise_edge(data, highway_rank(ROADS.grafo))
    assert data["osmid"] == [3, 5, 7]
    assert data["highway"] == "primary_link"  # first of the three in the graph filter
    assert data["name"] == "Avenida Y / Rua X"
    assert data["maxspeed"] == "40 / 60"
    assert data["oneway"] is False
    assert data["reversed"] is False
    assert data["lanes"] == "2"
    assert data["surface"] is None
    assert data["lit"] is None


def test_overpass_filter_from_catalog() -> None:
    grafo = GraphFilter(
        highway=("primary", "residential"),
        excluir={"access": ("private", "no"), "service": ("drive-through",)},
        componente_pequena_max_arestas=10,
    )
    assert _overpass_filter(grafo) == (
        '["highway"~"^(primary|residential)$"]'
        '["access"!~"^(private|no)$"]'
        '["service"!~"^(drive-through)$"]'
    )
    # the real catalog: every accepted highway value and every exclusion appears
    real = _overpass_filter(ROADS.grafo)
    assert real.count("[") == 1 + len(ROADS.grafo.excluir)
    assert "|track)$" in real


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("vazio.osm", b"", "vazio (0 bytes)"),
        ("texto.osm", b"isto nao e OSM\n", "não é um arquivo OSM válido ou está truncado"),
        ("pagina.osm", b"<html><body>x</body></html>", "não é um arquivo OSM válido"),
        ("lixo.osm.pbf", bytes(range(256)) * 4, "não é um arquivo OSM válido"),
        ("dados.osm.bz2", b"<osm></osm>", "compressão bzip2, mas o conteúdo não é bzip2"),
        ("dados.osm.gz", b"<osm></osm>", "compressão gzip, mas o conteúdo não é gzip"),
        ("dados.shp", b"qualquer coisa", "extensão de arquivo OSM não suportada"),
        ("dados.xml", b"<osm></osm>", "extensão de arquivo OSM não suportada"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OsmError, match=re.escape(fragment)) as info:
        read_road_graph(path, ROADS)
    assert str(path) in str(info.value)
    assert info.value.path == path


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nao_existe.osm.pbf"
    with pytest.raises(OsmError, match="arquivo OSM não encontrado") as info:
        check_osm_file(path)
    assert str(path) in str(info.value)


def test_truncated_files(tiny: Path, tmp_path: Path) -> None:
    pbf = to_pbf(tiny, tmp_path / "full.osm.pbf")
    data = pbf.read_bytes()
    cut = tmp_path / "cortado.osm.pbf"
    cut.write_bytes(data[: len(data) - 40])
    # the header is intact: check_osm_file passes, reading the body fails
    assert check_osm_file(cut) == cut
    with pytest.raises(OsmError, match="não é um arquivo OSM válido ou está truncado"):
        read_road_graph(cut, ROADS)
    xml = tmp_path / "cortado.osm"
    xml.write_bytes(tiny.read_bytes()[:700])
    with pytest.raises(OsmError, match="truncado"):
        read_road_graph(xml, ROADS)
    packed = bz2.compress(tiny.read_bytes())
    cut_bz = tmp_path / "cortado.osm.bz2"
    cut_bz.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(OsmError, match="truncado"):
        read_road_graph(cut_bz, ROADS)


def test_no_accepted_way(tmp_path: Path) -> None:
    path = tmp_path / "pedestres.osm"
    path.write_text(osm_xml(ways={105: WAYS[105], 107: WAYS[107]}), encoding="utf-8")
    with pytest.raises(OsmError, match=r"nenhuma via para veículos encontrada \(highway=") as info:
        read_road_graph(path, ROADS)
    message = str(info.value)
    assert str(path) in message
    assert "|".join(ROADS.grafo.highway) in message
    assert "access=private|no" in message


# --------------------------------------------------------------------------- timestamp


def test_osm_timestamp_newest_object(tiny: Path) -> None:
    assert osm_timestamp(tiny) == "2021-06-07T08:09:10Z"


def test_osm_timestamp_header(tiny: Path, tmp_path: Path) -> None:
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2024-05-06T07:08:09Z")
    pbf = to_pbf(tiny, tmp_path / "com_cabecalho.osm.pbf", header)
    assert osm_timestamp(pbf) == "2024-05-06T07:08:09Z"


def test_osm_timestamp_unknown(tmp_path: Path) -> None:
    path = tmp_path / "sem_data.osm"
    path.write_text(osm_xml(timestamps=False), encoding="utf-8")
    assert osm_timestamp(path) is None


def test_osm_timestamp_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "vazio.osm.pbf"
    path.touch()
    with pytest.raises(OsmError, match="vazio"):
        osm_timestamp(path)


# --------------------------------------------------------------------------- real data


POA_PBF = POA / "poa_osm.pbf"


@pytest.fixture(scope="module")
def poa_graph() -> nx.MultiDiGraph:
    require(POA_PBF)
    return read_road_graph(POA_PBF, ROADS)


@pytest.fixture(scope="module")
def poa_accepted_ways() -> dict[int, tuple[str, float]]:
    """Accepted ways counted directly with osmium: id -> (highway, geodesic length)."""
    require(POA_PBF)
    geod = Geod(ellps="WGS84")
    ways = {}
    processor = osmium.FileProcessor(POA_PBF).with_locations()
    for way in processor.with_filter(osmium.filter.KeyFilter("highway")):
        if isinstance(way, osmium.osm.Way) and ROADS.grafo.accepts(dict(way.tags)):
            line = shapely.LineString([(n.lon, n.lat) for n in way.nodes])
            ways[way.id] = (way.tags["highway"], geod.geometry_length(line))
    return ways


@pytest.mark.slow
def test_poa_counts(poa_graph: nx.MultiDiGraph) -> None:
    graph = poa_graph
    # measured on poa_osm.pbf (osmnx 2.1.1); 11k nodes rather than pyrosm's 7.7k
    # because the catalog keeps public service roads (7,929 nodes without them) and a
    # node where the street name changes stays a node (330 of them, street_count 2)
    assert graph.number_of_nodes() == 11287
    assert graph.number_of_edges() == 26333
    assert nx.number_weakly_connected_components(graph) == 31
    assert Counter(h for _, _, h in graph.edges(data="highway")) == {
        "residential": 9423,
        "service": 4733,
        "tertiary": 4434,
        "living_street": 3814,
        "secondary": 2481,
        "primary": 674,
        "track": 306,
        "unclassified": 187,
        "tertiary_link": 119,
        "secondary_link": 119,
        "primary_link": 39,
        "road": 2,
        "motorway": 1,
        "motorway_link": 1,
    }
    assert Counter(c for _, c in graph.nodes(data="street_count")) == {
        1: 2009,
        2: 361,
        3: 6506,
        4: 2345,
        5: 63,
        6: 3,
    }


@pytest.mark.slow
def test_poa_matches_osmium(
    poa_graph: nx.MultiDiGraph, poa_accepted_ways: dict[int, tuple[str, float]]
) -> None:
    graph = poa_graph
    in_graph: set[int] = set()
    on_primary_edges: set[int] = set()
    for _, _, data in graph.edges(data=True):
        ids = data["osmid"] if isinstance(data["osmid"], list) else [data["osmid"]]
        in_graph.update(ids)
        if data["highway"] == "primary":
            on_primary_edges.update(ids)
    # every accepted way, and nothing else, is in the graph
    assert len(poa_accepted_ways) == 9982
    assert in_graph == set(poa_accepted_ways)
    # every primary way counted by osmium lies on an edge classified primary;
    # 1 more way was merged into a primary edge (same name, another class)
    primary = {w for w, (h, _) in poa_accepted_ways.items() if h == "primary"}
    assert len(primary) == 529
    assert primary <= on_primary_edges
    assert len(on_primary_edges) == 530
    # total street length: two-way edges are stored in both directions
    total = sum(d["length"] / (1 if d["oneway"] else 2) for _, _, d in graph.edges(data=True))
    assert total == pytest.approx(sum(length for _, length in poa_accepted_ways.values()), rel=1e-6)
    for _, _, data in graph.edges(data=True):
        assert isinstance(data["geometry"], shapely.LineString)
        assert data["length"] > 0
        assert isinstance(data["highway"], str)
        assert isinstance(data["oneway"], bool)
        for key in ("name", "surface", "lit", "lanes", "maxspeed"):
            assert data[key] is None or isinstance(data[key], str)


# --------------------------------------------------------------------------- fetch_place


@pytest.fixture
def fake_osmnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace osmnx's network calls by the tiny file (what Overpass would return)."""
    accepted = {w: way for w, way in WAYS.items() if w not in (105, 106, 107)}
    overpass = tmp_path / "overpass.osm"
    overpass.write_text(osm_xml(ways=accepted), encoding="utf-8")
    boundary = shapely.box(-0.01, -0.01, 0.02, 0.02)
    calls: dict[str, Any] = {}

    def geocode_to_gdf(query: str) -> gpd.GeoDataFrame:
        calls["place"] = query
        return gpd.GeoDataFrame({"display_name": [query]}, geometry=[boundary], crs="EPSG:4326")

    def graph_from_polygon(polygon: Any, **kwargs: Any) -> nx.MultiDiGraph:
        calls["graph"] = (polygon, kwargs, list(ox.settings.useful_tags_way))
        return ox.graph_from_xml(overpass, retain_all=True, simplify=kwargs["simplify"])

    def features_from_polygon(polygon: Any, tags: dict[str, Any]) -> gpd.GeoDataFrame:
        calls["features"] = (polygon, tags)
        return gpd.GeoDataFrame({"amenity": ["school"]}, geometry=[shapely.Point(0, 0)], crs=4326)

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    monkeypatch.setattr(ox, "graph_from_polygon", graph_from_polygon)
    monkeypatch.setattr(ox, "features_from_polygon", features_from_polygon)
    return calls


def test_fetch_place_offline(fake_osmnx: dict[str, Any], tiny: Path) -> None:
    tags_before = list(ox.settings.useful_tags_way)
    graph, features, boundary = fetch_place("Lugar, MG", ROADS, {"amenity": ["school"]})
    assert fake_osmnx["place"] == "Lugar, MG"
    assert boundary.equals(shapely.box(-0.01, -0.01, 0.02, 0.02))
    polygon, kwargs, useful_tags = fake_osmnx["graph"]
    assert polygon is boundary
    assert kwargs == {
        "custom_filter": _overpass_filter(ROADS.grafo),
        "retain_all": True,
        "simplify": False,  # simplified afterwards, keeping isolated rings
    }
    assert {"name", "surface", "lit", "maxspeed", "lanes", "highway"} <= set(useful_tags)
    assert list(ox.settings.useful_tags_way) == tags_before  # restored afterwards
    # same normalised graph as from the file
    assert edge_table(graph) == edge_table(read_road_graph(tiny, ROADS))
    assert graph.graph["crs"] == "EPSG:4326"
    assert dict(graph.nodes(data="street_count"))[1] == 3
    assert fake_osmnx["features"] == (boundary, {"amenity": ["school"]})
    assert list(features["amenity"]) == ["school"]


def test_fetch_place_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def geocode_to_gdf(query: str) -> gpd.GeoDataFrame:
        raise InsufficientResponseError("Nominatim could not geocode query")

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    with pytest.raises(PlaceNotFoundError, match="local 'Xyzzy' não encontrado"):
        fetch_place("Xyzzy", ROADS, {})


def test_fetch_place_offline_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def geocode_to_gdf(query: str) -> gpd.GeoDataFrame:
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    with pytest.raises(OsmError, match="falha ao consultar os serviços do OpenStreetMap"):
        fetch_place("Extrema, MG", ROADS, {})


def test_fetch_place_overpass_refusal_is_an_offline_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # osmnx's own error classes (private module; geo_ip matches them by name)
    def geocode_to_gdf(query: str) -> gpd.GeoDataFrame:
        raise ResponseStatusCodeError("429 Too Many Requests")

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode_to_gdf)
    with pytest.raises(OsmError, match="falha ao consultar os serviços do OpenStreetMap"):
        fetch_place("Extrema, MG", ROADS, {})


def test_fetch_place_without_roads_and_a_plain_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    square = shapely.Polygon([(0, 0), (0, 0.01), (0.01, 0.01), (0.01, 0)])
    area = gpd.GeoDataFrame(geometry=[square], crs="EPSG:4326")
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda query: area)

    def no_roads(*args: Any, **kwargs: Any) -> None:
        raise InsufficientResponseError("No data elements in server response")

    monkeypatch.setattr(ox, "graph_from_polygon", no_roads)
    with pytest.raises(OsmError, match="Lugar Nenhum"):
        fetch_place("Lugar Nenhum", ROADS, {})

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("not an osmnx error")

    monkeypatch.setattr(ox, "graph_from_polygon", broken)
    with pytest.raises(ValueError, match="not an osmnx error"):  # a bug is not hidden
        fetch_place("Lugar Nenhum", ROADS, {})


@pytest.mark.web
def test_fetch_place_online() -> None:
    graph, features, boundary = fetch_place(
        "Extrema, Minas Gerais, Brasil", ROADS, {"amenity": ["school", "hospital"]}
    )
    assert boundary.geom_type in {"Polygon", "MultiPolygon"}
    assert graph.graph["crs"] == "EPSG:4326"
    assert graph.number_of_nodes() > 500
    for _, _, data in graph.edges(data=True):
        assert isinstance(data["highway"], str)
        assert isinstance(data["geometry"], shapely.LineString)
    assert str(features.crs) == "EPSG:4326"


def test_tag_dict_reads_every_tag_or_the_kept_keys(tmp_path: Path) -> None:
    path = tmp_path / "tags.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="0" lon="0" version="1">'
        '<tag k="amenity" v="school"/><tag k="name" v="Escola A"/>'
        '<tag k="addr:street" v="Rua B"/></node>\n'
        '<node id="2" lat="0" lon="0.001" version="1"/>\n</osm>\n',
        encoding="utf-8",
    )
    seen = [
        (tag_dict(node.tags), tag_dict(node.tags, {"name", "highway"}))
        for node in osmium.FileProcessor(path, osmium.osm.NODE)
    ]
    assert seen == [
        ({"amenity": "school", "name": "Escola A", "addr:street": "Rua B"}, {"name": "Escola A"}),
        ({}, {}),
    ]
