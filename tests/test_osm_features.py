"""Tests of geo_ip.sources.osm_features: non-road OSM layers from a file and from osmnx."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import osmium
import osmium.filter
import osmnx as ox
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo_ip.errors import OsmError
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.sources.osm_classify import SCHEMAS, _watts
from geo_ip.sources.osm_features import (
    OsmFeatures,
    feature_tags,
    features_from_osmnx,
    read_osm_features,
)
from tests.conftest import POA, require

LAYERS = list(SCHEMAS)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --------------------------------------------------------------------------- tiny file

Tags = dict[str, str]

# fmt: off
# lon, lat of the nodes (a small area in Extrema/MG), with tags for the tagged ones
NODES: dict[int, tuple[float, float, Tags]] = {
    1: (-46.300, -22.850, {"amenity": "school", "name": "Escola A"}),
    2: (-46.301, -22.850, {"highway": "bus_stop", "name": "Parada 1"}),
    3: (-46.302, -22.850, {"highway": "crossing", "crossing": "zebra"}),
    4: (-46.303, -22.850, {"public_transport": "platform", "bus": "yes"}),
    5: (-46.304, -22.850, {"addr:street": "Rua A", "addr:housenumber": "12",
                           "addr:neighbourhood": "Vila Nova"}),
    6: (-46.305, -22.850, {"power": "pole"}),
    7: (-46.306, -22.850, {"highway": "street_lamp", "lamp_type": "sodium",
                           "lamp_power": "150 W"}),
    8: (-46.307, -22.850, {"amenity": "bench"}),  # not used by any layer
    # school area (square 0.002 x 0.002)
    10: (-46.310, -22.860, {}), 11: (-46.308, -22.860, {}),
    12: (-46.308, -22.858, {}), 13: (-46.310, -22.858, {}),
    # park
    20: (-46.320, -22.860, {}), 21: (-46.318, -22.860, {}),
    22: (-46.318, -22.858, {}), 23: (-46.320, -22.858, {}),
    # building
    30: (-46.330, -22.860, {}), 31: (-46.3295, -22.860, {}),
    32: (-46.3295, -22.8595, {}), 33: (-46.330, -22.8595, {}),
    # power lines (two nodes each)
    40: (-46.340, -22.860, {}), 41: (-46.341, -22.860, {}),
    42: (-46.340, -22.861, {}), 43: (-46.341, -22.861, {}),
    44: (-46.340, -22.862, {}), 45: (-46.341, -22.862, {}),
    46: (-46.340, -22.863, {}), 47: (-46.341, -22.863, {}),
    # lit residential road, unlit road, lit roundabout (closed way)
    50: (-46.350, -22.860, {}), 51: (-46.351, -22.860, {}), 52: (-46.352, -22.860, {}),
    53: (-46.350, -22.861, {}), 54: (-46.351, -22.861, {}),
    55: (-46.355, -22.865, {}), 56: (-46.354, -22.865, {}), 57: (-46.354, -22.864, {}),
    # landuse residential / farmland
    60: (-46.360, -22.870, {}), 61: (-46.350, -22.870, {}),
    62: (-46.350, -22.865, {}), 63: (-46.360, -22.865, {}),
    64: (-46.370, -22.870, {}), 65: (-46.365, -22.870, {}),
    66: (-46.365, -22.865, {}), 67: (-46.370, -22.865, {}),
    # municipal boundary: a 0.1 x 0.1 square made of two ways
    80: (-46.40, -22.90, {}), 81: (-46.30, -22.90, {}),
    82: (-46.30, -22.80, {}), 83: (-46.40, -22.80, {}),
    # footway=crossing way
    90: (-46.3000, -22.8400, {}), 91: (-46.3000, -22.8410, {}),
    # bairros: a neighbourhood node; an isolated dwelling and an unnamed hamlet (both
    # left out); a suburb area; a level-10 boundary relation around an untagged ring
    9: (-46.375, -22.875, {"place": "neighbourhood", "name": "Vila Nova"}),
    70: (-46.376, -22.875, {"place": "isolated_dwelling", "name": "Sítio Boa Vista"}),
    71: (-46.377, -22.875, {"place": "hamlet"}),
    72: (-46.380, -22.880, {}), 73: (-46.378, -22.880, {}),
    74: (-46.378, -22.878, {}), 75: (-46.380, -22.878, {}),
    76: (-46.390, -22.890, {}), 77: (-46.386, -22.890, {}),
    78: (-46.386, -22.886, {}), 79: (-46.390, -22.886, {}),
}

WAYS: dict[int, tuple[list[int], Tags]] = {
    100: ([10, 11, 12, 13, 10], {"amenity": "school", "name": "Escola B"}),
    101: ([20, 21, 22, 23, 20], {"leisure": "park", "name": "Praça Central"}),
    102: ([30, 31, 32, 33, 30], {"building": "house", "addr:street": "Rua A",
                                 "addr:housenumber": "10", "addr:suburb": "Centro",
                                 "addr:postcode": "37640-000"}),
    103: ([40, 41], {"power": "minor_line", "voltage": "220"}),
    104: ([42, 43], {"power": "line", "voltage": "13800"}),
    105: ([44, 45], {"power": "line", "voltage": "138000"}),  # transmission: dropped
    106: ([46, 47], {"power": "cable"}),  # no voltage: catalog default (bt)
    107: ([50, 51, 52], {"highway": "residential", "lit": "yes", "name": "Rua A"}),
    108: ([53, 54], {"highway": "residential", "lit": "no"}),
    109: ([55, 56, 57, 55], {"highway": "residential", "junction": "roundabout",
                             "lit": "24/7"}),
    110: ([60, 61, 62, 63, 60], {"landuse": "residential"}),
    111: ([64, 65, 66, 67, 64], {"landuse": "farmland"}),
    120: ([80, 81, 82], {"boundary": "administrative", "admin_level": "8"}),
    121: ([82, 83, 80], {"boundary": "administrative", "admin_level": "8"}),
    130: ([90, 91], {"highway": "footway", "footway": "crossing"}),
    140: ([72, 73, 74, 75, 72], {"place": "suburb", "name": "Centro"}),
    141: ([76, 77, 78, 79, 76], {}),
}
# fmt: on

RELATIONS: dict[int, tuple[list[tuple[str, int, str]], Tags]] = {
    200: (
        [("way", 120, "outer"), ("way", 121, "outer")],
        {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": "8",
            "name": "Extrema",
            "IBGE:GEOCODIGO": "3125101",
        },
    ),
    201: (
        [("way", 141, "outer")],
        {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": "10",
            "name": "Bairro Dez",
        },
    ),
}


def _tags_xml(tags: Tags) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())


def write_osm(
    path: Path,
    nodes: dict[int, tuple[float, float, Tags]] = NODES,
    ways: dict[int, tuple[list[int], Tags]] = WAYS,
    relations: dict[int, tuple[list[tuple[str, int, str]], Tags]] = RELATIONS,
) -> Path:
    """Write nodes, ways and relations (by default the whole tiny data set) as OSM XML."""
    common = 'version="1" timestamp="2024-01-01T00:00:00Z"'
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat, tags) in nodes.items():
        lines.append(f'<node id="{nid}" {common} lat="{lat}" lon="{lon}">{_tags_xml(tags)}</node>')
    for wid, (refs, tags) in ways.items():
        nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
        lines.append(f'<way id="{wid}" {common}>{nds}{_tags_xml(tags)}</way>')
    for rid, (members, tags) in relations.items():
        mem = "".join(f'<member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members)
        lines.append(f'<relation id="{rid}" {common}>{mem}{_tags_xml(tags)}</relation>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path, catalog: Catalog) -> OsmFeatures:
    return read_osm_features(write_osm(tmp_path / "tiny.osm"), catalog)


def by_id(gdf: gpd.GeoDataFrame, column: str = "osm_id") -> gpd.GeoDataFrame:
    return gdf.set_index(column)


def test_tiny_counts(tiny: OsmFeatures) -> None:
    assert tiny.counts() == {
        "equipamentos": 8,
        "equipamentos_pegada": 3,
        "edificacoes": 2,
        "rede_osm": 7,
        "pontos_ip_osm": 1,
        "area_urbana": 1,
        "limite": 2,
        "bairros": 3,
        "bairros_area": 2,
    }


def test_tiny_schema_and_crs(tiny: OsmFeatures) -> None:
    for name in LAYERS:
        layer = getattr(tiny, name)
        assert list(layer.columns) == [*SCHEMAS[name], "geometry"], name
        assert layer.crs == "EPSG:4326", name
        assert [str(t) for t in layer.dtypes.drop("geometry")] == list(SCHEMAS[name].values())


def test_tiny_equipamentos(tiny: OsmFeatures) -> None:
    eq = by_id(tiny.equipamentos)
    assert eq["categoria"].to_dict() == {
        "node/1": "escola",
        "node/2": "ponto_onibus",
        "node/3": "travessia",
        "node/4": "ponto_onibus",
        "way/100": "escola",
        "way/101": "praca",
        "way/111": "lavoura",  # farmland: rural production (Art. 12 §1)
        "way/130": "travessia",
    }
    assert eq.loc["way/100", "grupo"] == "educacao"
    assert bool(eq.loc["way/100", "vulneravel"]) is True
    assert bool(eq.loc["node/2", "vulneravel"]) is False
    assert eq.loc["way/101", "nome"] == "Praça Central"
    assert eq.loc["node/3", "nome"] is None
    assert set(eq.geometry.geom_type) == {"Point"}
    assert eq.loc["node/1"].geometry.equals(Point(-46.300, -22.850))
    # the crossing way (two nodes) is represented by its middle point
    mid = eq.loc["way/130"].geometry
    assert (mid.x, mid.y) == pytest.approx((-46.3000, -22.8405), abs=1e-12)
    # the school area: a point inside its footprint, which is kept as a polygon
    school = Polygon(
        [(-46.310, -22.860), (-46.308, -22.860), (-46.308, -22.858), (-46.310, -22.858)]
    )
    assert school.contains(eq.loc["way/100"].geometry)
    foot = by_id(tiny.equipamentos_pegada)
    assert sorted(foot.index) == ["way/100", "way/101", "way/111"]
    assert foot.loc["way/100", "categoria"] == "escola"
    assert foot.loc["way/100", "nome"] == "Escola B"
    assert foot.loc["way/100"].geometry.geom_type == "Polygon"
    assert foot.loc["way/100"].geometry.equals(school)
    assert foot.loc["way/100"].geometry.area == pytest.approx(0.002 * 0.002)


def test_tiny_edificacoes(tiny: OsmFeatures) -> None:
    ed = by_id(tiny.edificacoes)
    assert ed.loc["way/102"][["tipo", "logradouro", "numero", "bairro", "cep"]].tolist() == [
        "edificacao",
        "Rua A",
        "10",
        "Centro",
        "37640-000",
    ]
    assert ed.loc["node/5"][["tipo", "logradouro", "numero", "bairro", "cep"]].tolist() == [
        "endereco",
        "Rua A",
        "12",
        "Vila Nova",
        None,
    ]
    house = Polygon(
        [(-46.330, -22.860), (-46.3295, -22.860), (-46.3295, -22.8595), (-46.330, -22.8595)]
    )
    assert ed.loc["way/102"].geometry.geom_type == "Point"
    assert house.contains(ed.loc["way/102"].geometry)


def test_tiny_rede_osm(tiny: OsmFeatures) -> None:
    rede = tiny.rede_osm
    assert (rede["fonte"] == "osm").all()
    got = {
        (row.id_origem, row.tipo): (None if np.isnan(row.tensao_v) else row.tensao_v)
        for row in rede.itertuples()
    }
    assert got == {
        ("way/103", "bt"): 220.0,
        ("way/104", "mt"): 13800.0,
        ("way/106", "bt"): None,
        ("node/6", "poste"): None,
        ("node/7", "ponto_ip"): None,
        ("way/107", "via_iluminada"): None,
        ("way/109", "via_iluminada"): None,
    }
    geom = by_id(rede, "id_origem").geometry
    assert geom["way/107"].equals(
        LineString([(-46.350, -22.860), (-46.351, -22.860), (-46.352, -22.860)])
    )
    # the lit roundabout is a closed way kept as a line, not an area
    assert geom["way/109"].geom_type == "LineString"
    assert geom["way/109"].is_ring
    assert geom["node/6"].equals(Point(-46.305, -22.850))


def test_tiny_pontos_ip(tiny: OsmFeatures) -> None:
    row = tiny.pontos_ip_osm.iloc[0]
    assert (row["fonte"], row["id_origem"], row["potencia_w"], row["tipo_lampada"]) == (
        "osm",
        "node/7",
        150.0,
        "sodium",
    )
    assert row.geometry.equals(Point(-46.306, -22.850))


def test_tiny_area_urbana_and_limite(tiny: OsmFeatures) -> None:
    assert tiny.area_urbana[["osm_id", "landuse"]].values.tolist() == [["way/110", "residential"]]
    assert tiny.area_urbana.geometry.iloc[0].area == pytest.approx(0.010 * 0.005)
    limite = by_id(tiny.limite)
    assert sorted(limite.index) == ["relation/200", "relation/201"]
    lim = limite.loc["relation/200"]
    assert (lim["nome"], lim["admin_level"], lim["codigo_ibge"]) == ("Extrema", 8, "3125101")
    assert lim.geometry.geom_type == "Polygon"
    assert lim.geometry.area == pytest.approx(0.1 * 0.1)
    assert limite.loc["relation/201", "admin_level"] == 10


def test_tiny_bairros(tiny: OsmFeatures) -> None:
    bairros = by_id(tiny.bairros)
    assert bairros[["nome", "tipo"]].to_dict("index") == {
        "node/9": {"nome": "Vila Nova", "tipo": "neighbourhood"},
        "way/140": {"nome": "Centro", "tipo": "suburb"},
        "relation/201": {"nome": "Bairro Dez", "tipo": "limite_admin"},
    }
    assert set(bairros.geometry.geom_type) == {"Point"}
    assert bairros.loc["node/9"].geometry.equals(Point(-46.375, -22.875))
    suburb = Polygon(
        [(-46.380, -22.880), (-46.378, -22.880), (-46.378, -22.878), (-46.380, -22.878)]
    )
    assert suburb.contains(bairros.loc["way/140"].geometry)
    areas = by_id(tiny.bairros_area)
    assert areas[["nome", "tipo"]].to_dict("index") == {
        "way/140": {"nome": "Centro", "tipo": "suburb"},
        "relation/201": {"nome": "Bairro Dez", "tipo": "limite_admin"},
    }
    assert areas.loc["way/140"].geometry.equals(suburb)
    assert areas.loc["relation/201"].geometry.geom_type == "Polygon"
    assert areas.loc["relation/201"].geometry.area == pytest.approx(0.004 * 0.004)
    assert areas.loc["relation/201"].geometry.contains(bairros.loc["relation/201"].geometry)


@pytest.mark.parametrize(
    ("text", "watts"),
    [
        ("150", 150.0),
        ("150 W", 150.0),
        ("70W", 70.0),
        ("0,25 kW", 250.0),
        ("pole", np.nan),
        (None, np.nan),
        ("2x150", np.nan),
    ],
)
def test_watts(text: str | None, watts: float) -> None:
    got = _watts(pd.Series([text], dtype=object)).iloc[0]
    assert got == pytest.approx(watts, nan_ok=True)


def test_voltage_list_takes_max(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "v.osm"
    path.write_text(
        '<osm version="0.6">'
        '<node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="0.001"/>'
        '<node id="3" lat="0" lon="0.002"><tag k="power" v="transformer"/>'
        '<tag k="voltage" v="13800;220"/></node>'
        '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="power" v="line"/>'
        '<tag k="voltage" v="220;13800"/></way></osm>',
        encoding="utf-8",
    )
    rede = read_osm_features(path, catalog).rede_osm
    assert sorted(zip(rede["id_origem"], rede["tipo"], rede["tensao_v"], strict=True)) == [
        ("node/3", "transformador", 13800.0),
        ("way/9", "mt", 13800.0),
    ]


# a self-crossing school ring and a boundary relation with a member missing from the file
BROKEN_NODES: dict[int, tuple[float, float, Tags]] = {
    1: (0.0, 0.0, {}), 2: (0.001, 0.0, {}), 3: (0.0, 0.001, {}), 4: (0.001, 0.001, {}),
    5: (0.0, 0.01, {}),
}  # fmt: skip
BROKEN_WAYS: dict[int, tuple[list[int], Tags]] = {
    9: ([1, 2, 3, 4, 1], {"amenity": "school"}),  # bow tie: the diagonals cross
    10: ([1, 5], {"boundary": "administrative"}),
}
BROKEN_RELATIONS: dict[int, tuple[list[tuple[str, int, str]], Tags]] = {
    20: (
        [("way", 10, "outer"), ("way", 99, "outer")],  # way 99 is not in the file
        {"type": "boundary", "boundary": "administrative", "admin_level": "8"},
    )
}


def write_broken(path: Path) -> Path:
    return write_osm(path, BROKEN_NODES, BROKEN_WAYS, BROKEN_RELATIONS)


def test_broken_ring_and_incomplete_relation(
    tmp_path: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    """A self-crossing school ring is repaired; a boundary missing a member is reported."""
    path = write_broken(tmp_path / "broken.osm")
    with caplog.at_level("WARNING", logger="geo_ip"):
        features = read_osm_features(path, catalog)
    foot = features.equipamentos_pegada
    assert foot["osm_id"].tolist() == ["way/9"]
    # two triangles of base 0.001 and height 0.0005 meeting where the diagonals cross
    assert foot.geometry.iloc[0].geom_type == "MultiPolygon"
    assert foot.geometry.iloc[0].area == pytest.approx(2 * 0.001 * 0.0005 / 2)
    assert foot.geometry.iloc[0].contains(features.equipamentos.geometry.iloc[0])
    assert len(features.limite) == 0
    assert "1 relações OSM" in caplog.text
    assert "sem geometria válida" not in caplog.text


def test_missing_and_bad_files(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(OsmError, match="não encontrado"):
        read_osm_features(tmp_path / "nada.osm.pbf", catalog)
    bad = tmp_path / "ruim.osm"
    bad.write_text('<osm version="0.6"><node id="1" lat="0" lon="0">', encoding="utf-8")
    with pytest.raises(OsmError):
        read_osm_features(bad, catalog)


def test_empty_file_gives_empty_layers(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "vazio.osm"
    path.write_text('<osm version="0.6"><node id="1" lat="0" lon="0"/></osm>', encoding="utf-8")
    features = read_osm_features(path, catalog)
    assert features.counts() == dict.fromkeys(LAYERS, 0)
    for name in LAYERS:
        assert list(getattr(features, name).columns) == [*SCHEMAS[name], "geometry"]


# --------------------------------------------------------------------------- osmnx


def test_feature_tags(catalog: Catalog) -> None:
    tags = feature_tags(catalog)
    assert tags["building"] is True
    assert tags["addr:housenumber"] is True
    assert tags["highway"] == ["bus_stop", "crossing", "street_lamp", "traffic_signals"]
    assert tags["public_transport"] == ["platform"]  # bus=yes is checked by the classifier
    assert "bus" not in tags
    assert tags["power"] == sorted(
        [*catalog.rede_existente.osm.linhas, *catalog.rede_existente.osm.pontos]
    )
    assert tags["landuse"] == sorted(
        {
            *catalog.vias.area_urbana.landuse,
            *("farmland", "farmyard", "greenhouse_horticulture", "orchard", "plant_nursery"),
            "vineyard",
        }
    )
    assert tags["boundary"] == ["administrative"]
    assert "yes" in tags["lit"]
    # place=square comes from the facilities, the others from layers/bairros.toml
    assert tags["place"] == ["hamlet", "neighbourhood", "quarter", "square", "suburb", "village"]


def assert_same(a: OsmFeatures, b: OsmFeatures) -> None:
    """Same rows, values and geometries (up to ring orientation) in every layer."""
    for name in LAYERS:
        left, right = getattr(a, name), getattr(b, name)
        keys = [c for c in ("osm_id", "id_origem", "tipo") if c in left.columns]
        left = left.sort_values(keys).reset_index(drop=True)
        right = right.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(
            pd.DataFrame(left.drop(columns="geometry")),
            pd.DataFrame(right.drop(columns="geometry")),
            obj=name,
        )
        same = left.geometry.normalize().geom_equals_exact(right.geometry.normalize(), 1e-9)
        assert same.all(), name


@pytest.mark.parametrize("writer", [write_osm, write_broken])
def test_osmnx_xml_same_as_file(tmp_path: Path, catalog: Catalog, writer: Any) -> None:
    path = writer(tmp_path / "data.osm")
    raw = ox.features_from_xml(path, tags=feature_tags(catalog))
    assert raw.index.names == ["element", "id"]
    assert_same(features_from_osmnx(raw, catalog), read_osm_features(path, catalog))


def test_osmnx_hand_built_frame(tmp_path: Path, catalog: Catalog) -> None:
    """A frame shaped as osmnx returns it gives the same layers as the equivalent file."""
    school = Polygon(
        [(-46.310, -22.860), (-46.308, -22.860), (-46.308, -22.858), (-46.310, -22.858)]
    )
    gdf = gpd.GeoDataFrame(
        {
            "amenity": ["school", "school", np.nan, np.nan, np.nan],
            "name": ["Escola A", "Escola B", np.nan, np.nan, np.nan],
            "highway": [np.nan, np.nan, "street_lamp", np.nan, np.nan],
            "lamp_power": [np.nan, np.nan, "150 W", np.nan, np.nan],
            "lamp_type": [np.nan, np.nan, "sodium", np.nan, np.nan],
            "power": [np.nan, np.nan, np.nan, "line", np.nan],
            "voltage": [np.nan, np.nan, np.nan, "13800", np.nan],
            "landuse": [np.nan, np.nan, np.nan, np.nan, "residential"],
        },
        geometry=[
            Point(-46.300, -22.850),
            school,
            Point(-46.306, -22.850),
            LineString([(-46.340, -22.861), (-46.341, -22.861)]),
            Polygon(
                [(-46.360, -22.870), (-46.350, -22.870), (-46.350, -22.865), (-46.360, -22.865)]
            ),
        ],
        index=pd.MultiIndex.from_tuples(
            [("node", 1), ("way", 100), ("node", 7), ("way", 104), ("way", 110)],
            names=["element", "id"],
        ),
        crs="EPSG:4326",
    )
    from_osmnx = features_from_osmnx(gdf, catalog)
    assert from_osmnx.counts() == {
        "equipamentos": 2,
        "equipamentos_pegada": 1,
        "edificacoes": 0,
        "rede_osm": 2,
        "pontos_ip_osm": 1,
        "area_urbana": 1,
        "limite": 0,
        "bairros": 0,
        "bairros_area": 0,
    }
    # the same elements written as a file
    keep_nodes = {1, 7, 10, 11, 12, 13, 42, 43, 60, 61, 62, 63}
    path = write_osm(
        tmp_path / "same.osm",
        {k: v for k, v in NODES.items() if k in keep_nodes},
        {k: v for k, v in WAYS.items() if k in (100, 104, 110)},
        {},
    )
    from_file = read_osm_features(path, catalog)
    assert_same(from_osmnx, from_file)


def test_osmnx_empty_frame(catalog: Catalog) -> None:
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")  # what fetch_place gives on no match
    assert features_from_osmnx(empty, catalog).counts() == dict.fromkeys(LAYERS, 0)


def test_osmnx_frame_without_index(catalog: Catalog) -> None:
    gdf = gpd.GeoDataFrame({"amenity": ["school"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(OsmError, match="element, id"):
        features_from_osmnx(gdf, catalog)


# --------------------------------------------------------------------------- real data


def test_poa_counts(catalog: Catalog) -> None:
    path = require(POA / "poa_osm.pbf")
    features = read_osm_features(path, catalog)
    assert features.counts() == {
        "equipamentos": 3928,
        "equipamentos_pegada": 23,
        "edificacoes": 35,
        "rede_osm": 1000,
        "pontos_ip_osm": 263,
        "area_urbana": 16,
        "limite": 0,
        "bairros": 0,
        "bairros_area": 0,
    }
    assert features.equipamentos["categoria"].value_counts().to_dict() == {
        "travessia": 2846,
        "ponto_onibus": 1080,
        "quadra": 1,
        "praca": 1,
    }
    assert features.rede_osm["tipo"].value_counts().to_dict() == {
        "via_iluminada": 734,
        "ponto_ip": 263,
        "poste": 3,
    }
    assert features.edificacoes["tipo"].value_counts().to_dict() == {
        "edificacao": 19,
        "endereco": 16,
    }

    # independent count with plain osmium: street lamps and bus-stop / crossing nodes
    counts: Counter[str] = Counter()
    for node in osmium.FileProcessor(path, osmium.osm.NODE).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        counts[node.tags["highway"]] += 1
        if node.tags["highway"] == "traffic_signals" and "crossing" in node.tags:
            counts["signalised_crossing"] += 1
    assert counts["street_lamp"] == 263
    eq = features.equipamentos
    nodes = eq[eq["osm_id"].str.startswith("node/")]
    assert counts["crossing"] == 1034
    assert counts["signalised_crossing"] == 1438
    assert (nodes["categoria"] == "travessia").sum() == 1034 + 1438
    assert (eq["osm_id"].isin(features.pontos_ip_osm["id_origem"])).sum() == 0
    lamp_ids = set(features.pontos_ip_osm["id_origem"])
    assert lamp_ids == set(
        features.rede_osm.loc[features.rede_osm["tipo"] == "ponto_ip", "id_origem"]
    )
    # every street lamp inside the extract's bbox
    assert shapely.box(-51.266, -30.113, -51.132, -29.988).contains(
        features.pontos_ip_osm.geometry.union_all()
    )


def test_way_prefilter_keeps_only_ways_with_a_used_tag() -> None:
    from geo_ip.sources.osm_elements import _wanted_way

    any_value = ["building", "lit"]
    some_values = {"highway": frozenset({"street_lamp"}), "power": frozenset({"line"})}
    assert not _wanted_way({"highway": "residential"}, any_value, some_values)  # type: ignore[arg-type]
    assert _wanted_way({"highway": "residential", "lit": "Yes "}, any_value, some_values)  # type: ignore[arg-type]
    assert _wanted_way({"power": "line"}, any_value, some_values)  # type: ignore[arg-type]
    assert _wanted_way({"building": "no"}, any_value, some_values)  # type: ignore[arg-type]
    assert not _wanted_way({"power": "cable_distribution"}, any_value, some_values)  # type: ignore[arg-type]
