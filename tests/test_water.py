"""Water of the territory: ``agua`` (polygons) and ``cursos_agua`` (lines) from OSM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import osmnx as ox
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_ip.outputs.styles import BACKGROUND_LAYERS, extra_style
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.sources.osm_features import (
    OsmWater,
    read_osm_features,
    read_osm_layers,
    territory_tags,
    water_from_osmnx,
)
from tests.conftest import POA, require
from tests.test_osm_features import _tags_xml
from tests.test_osm_features import write_osm as write_tiny_osm

Tags = dict[str, str]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# fmt: off
# a square of 0.01° around (-46.30, -22.85) with everything the water layers read
NODES: dict[int, tuple[float, float]] = {
    # lake: a closed way (natural=water + water=lake)
    1: (-46.300, -22.850), 2: (-46.298, -22.850), 3: (-46.298, -22.848), 4: (-46.300, -22.848),
    # big lake: a multipolygon relation, outer ring of two ways, one island
    10: (-46.290, -22.860), 11: (-46.270, -22.860), 12: (-46.270, -22.840),
    13: (-46.290, -22.840),
    14: (-46.282, -22.852), 15: (-46.278, -22.852), 16: (-46.278, -22.848),
    17: (-46.282, -22.848),
    # river, stream, canal, ditch (not read)
    20: (-46.310, -22.870), 21: (-46.300, -22.869), 22: (-46.290, -22.871),
    23: (-46.305, -22.880), 24: (-46.300, -22.870),
    25: (-46.310, -22.890), 26: (-46.300, -22.890),
    27: (-46.310, -22.895), 28: (-46.300, -22.895),
    # reservoir (landuse) and a pond without water=* nor name
    30: (-46.320, -22.850), 31: (-46.318, -22.850), 32: (-46.318, -22.848),
    33: (-46.320, -22.848),
    34: (-46.330, -22.850), 35: (-46.329, -22.850), 36: (-46.329, -22.849),
}
WAYS: dict[int, tuple[list[int], Tags]] = {
    100: ([1, 2, 3, 4, 1], {"natural": "water", "water": "lake", "name": "Lagoa Azul"}),
    101: ([10, 11, 12], {}),
    102: ([12, 13, 10], {}),
    103: ([14, 15, 16, 17, 14], {}),
    110: ([20, 21, 22], {"waterway": "river", "name": "Rio Jaguari"}),
    111: ([23, 24, 21], {"waterway": "stream", "name": "Córrego do Juncal"}),
    112: ([25, 26], {"waterway": "canal"}),
    113: ([27, 28], {"waterway": "ditch", "name": "Vala"}),
    120: ([30, 31, 32, 33, 30], {"landuse": "reservoir", "name": "Represa do Salto"}),
    121: ([34, 35, 36, 34], {"natural": "water"}),
}
RELATIONS: dict[int, tuple[list[tuple[str, int, str]], Tags]] = {
    200: (
        [("way", 101, "outer"), ("way", 102, "outer"), ("way", 103, "inner")],
        {"type": "multipolygon", "natural": "water", "name": "Lago Guaíba"},
    ),
}
# fmt: on


def write_osm(path: Path) -> Path:
    """The water data set as OSM XML (the writer of ``tests/test_osm_features.py``)."""
    nodes: dict[int, tuple[float, float, Tags]] = {n: (x, y, {}) for n, (x, y) in NODES.items()}
    return write_tiny_osm(path, nodes, WAYS, RELATIONS)


@pytest.fixture
def water(tmp_path: Path, catalog: Catalog) -> OsmWater:
    return read_osm_layers(write_osm(tmp_path / "agua.osm"), catalog)[1]


def rows(gdf: gpd.GeoDataFrame) -> list[tuple[str, str, str | None]]:
    frame = gdf.sort_values("osm_id")
    return list(zip(frame["osm_id"], frame["tipo"], frame["nome"], strict=True))


def test_water_areas(water: OsmWater) -> None:
    agua = water.agua
    assert list(agua.columns) == ["osm_id", "tipo", "nome", "geometry"]
    assert agua.crs == "EPSG:4326"
    assert rows(agua) == [
        ("relation/200", "Corpo d'água", "Lago Guaíba"),
        ("way/100", "Lago ou lagoa", "Lagoa Azul"),
        ("way/120", "Represa", "Represa do Salto"),
        ("way/121", "Corpo d'água", None),
    ]
    by_id = agua.set_index("osm_id").geometry
    # the multipolygon relation is one polygon: outer ring of two ways, the island a hole
    big = by_id["relation/200"]
    assert big.geom_type == "Polygon"
    assert len(big.interiors) == 1
    assert big.area == pytest.approx(0.02 * 0.02 - 0.004 * 0.004)
    assert big.contains(shapely.Point(-46.288, -22.858))
    assert not big.contains(shapely.Point(-46.280, -22.850))  # on the island
    lake = by_id["way/100"]
    assert lake.geom_type == "Polygon" and lake.area == pytest.approx(0.002 * 0.002)


def test_watercourses(water: OsmWater) -> None:
    lines = water.cursos_agua
    assert list(lines.columns) == ["osm_id", "tipo", "nome", "geometry"]
    assert rows(lines) == [
        ("way/110", "Rio", "Rio Jaguari"),
        ("way/111", "Córrego", "Córrego do Juncal"),
        ("way/112", "Canal", None),
    ]  # the ditch is not a watercourse of the base map
    river = lines.set_index("osm_id").geometry["way/110"]
    assert river.geom_type == "LineString"
    assert shapely.get_coordinates(river).tolist() == [
        [-46.31, -22.87],
        [-46.3, -22.869],
        [-46.29, -22.871],
    ]


def test_water_is_not_in_the_other_layers(tmp_path: Path, catalog: Catalog) -> None:
    path = write_osm(tmp_path / "agua.osm")
    features, _ = read_osm_layers(path, catalog)
    assert sum(features.counts().values()) == 0
    # the features alone read the same as before the water came
    alone = read_osm_features(path, catalog)
    assert alone.counts() == features.counts()


def test_water_kind_wins_and_riverbank(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "margem.osm"
    common = 'version="1" timestamp="2024-01-01T00:00:00Z"'
    square = [(-46.30, -22.85), (-46.29, -22.85), (-46.29, -22.84), (-46.30, -22.84)]
    nodes = "".join(
        f'<node id="{i}" {common} lat="{lat}" lon="{lon}"/>'
        for i, (lon, lat) in enumerate(square + [(x + 0.1, y) for x, y in square], start=1)
    )
    tags = [
        {"waterway": "riverbank", "name": "Rio Grande"},
        {"natural": "water", "water": "reservoir", "name": "Açude"},
    ]
    ways = "".join(
        f'<way id="{10 + k}" {common}>'
        + "".join(f'<nd ref="{4 * k + i}"/>' for i in (1, 2, 3, 4, 1))
        + _tags_xml(t)
        + "</way>"
        for k, t in enumerate(tags)
    )
    path.write_text(f'<osm version="0.6">{nodes}{ways}</osm>', encoding="utf-8")
    water = read_osm_layers(path, catalog)[1]
    assert rows(water.agua) == [("way/10", "Rio", "Rio Grande"), ("way/11", "Represa", "Açude")]
    assert water.cursos_agua.empty


def test_osmnx_gives_the_same_water(tmp_path: Path, catalog: Catalog) -> None:
    path = write_osm(tmp_path / "agua.osm")
    raw = ox.features_from_xml(path, tags=territory_tags(catalog))
    from_osmnx = water_from_osmnx(raw, catalog)
    from_file = read_osm_layers(path, catalog)[1]
    for name in ("agua", "cursos_agua"):
        left = getattr(from_osmnx, name).sort_values("osm_id").reset_index(drop=True)
        right = getattr(from_file, name).sort_values("osm_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(
            pd.DataFrame(left.drop(columns="geometry")),
            pd.DataFrame(right.drop(columns="geometry")),
            obj=name,
        )
        same = left.geometry.normalize().geom_equals_exact(right.geometry.normalize(), 1e-9)
        assert same.all(), name
    empty = water_from_osmnx(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), catalog)
    assert empty.counts() == {"agua": 0, "cursos_agua": 0}


def test_territory_tags(catalog: Catalog) -> None:
    tags = territory_tags(catalog)
    assert tags["natural"] == ["water"]
    assert tags["waterway"] == ["canal", "river", "riverbank", "stream"]
    assert {"basin", "reservoir", "residential"} <= set(tags["landuse"])  # type: ignore[arg-type]


def test_water_styles() -> None:
    agua, cursos = extra_style("agua"), extra_style("cursos_agua")
    assert agua is not None and cursos is not None
    assert agua.tipo == "simples" and agua.geometria == "poligono"
    assert agua.classes[0].cor == "#aad3df"
    assert cursos.tipo == "categorizado" and cursos.campo == "tipo"
    widths = {c.valor: c.largura for c in cursos.classes}
    assert set(widths) == {"Rio", "Canal", "Córrego"}
    assert widths["Rio"] > widths["Canal"] > widths["Córrego"]
    assert {c.cor for c in cursos.classes} == {"#6fa8dc"}
    assert "© OpenStreetMap contributors" in agua.fonte
    assert "© OpenStreetMap contributors" in cursos.fonte
    # drawn over the urban area, under the buildings and roads
    order = list(BACKGROUND_LAYERS)
    assert order.index("area_urbana") < order.index("agua") < order.index("cursos_agua")
    assert order.index("cursos_agua") < order.index("edificacoes") < order.index("vias")


# --------------------------------------------------------------------------- territory


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datetime import UTC, datetime

    from geo_ip.territory.synthetic import write_synthetic_territory

    out = tmp_path_factory.mktemp("sintetico") / "territorio.gpkg"
    write_synthetic_territory(out, edges=2_000, created=datetime(2026, 1, 1, tzinfo=UTC))
    return out


def test_synthetic_territory_has_water(synthetic: Path) -> None:
    from geo_ip.territory.reader import read_layer, read_metadata

    names = set(pyogrio.list_layers(synthetic)[:, 0])
    assert {"agua", "cursos_agua"} <= names
    agua = read_layer(synthetic, "agua")
    cursos = read_layer(synthetic, "cursos_agua")
    # fictitious, not from OSM: no osm_id
    assert agua[["tipo", "nome"]].to_numpy().tolist() == [["Lago ou lagoa", "Lagoa Sintética"]]
    assert cursos[["tipo", "nome"]].to_numpy().tolist() == [
        ["Rio", "Rio Sintético"],
        ["Córrego", "Córrego Sintético"],
    ]
    assert agua["osm_id"].isna().all() and cursos["osm_id"].isna().all()
    assert agua.crs == cursos.crs == read_layer(synthetic, "vias").crs
    roads = read_layer(synthetic, "vias").geometry.union_all()
    river = cursos.geometry.iloc[0]
    # the river crosses the whole town, west to east; the lake is off the streets
    assert river.crosses(roads)
    west, _, east, _ = roads.bounds
    x0, _, x1, _ = river.bounds
    assert x0 <= west and x1 >= east
    assert not agua.geometry.iloc[0].intersects(roads)
    limite = read_layer(synthetic, "limite").geometry.iloc[0]
    assert limite.contains(cursos.geometry.union_all())
    # the stream flows into the river
    stream_end = shapely.Point(shapely.get_coordinates(cursos.geometry.iloc[1])[-1])
    assert river.distance(stream_end) < 1e-6
    assert 1_000 < agua.geometry.iloc[0].area < 20_000
    counts = read_metadata(synthetic)["contagens"]
    assert (counts["agua"], counts["cursos_agua"]) == (1, 2)


def test_demo_osm_territory_water(tmp_path: Path) -> None:
    """A territory built from OSM writes both layers, empty when the data has no water."""
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.build import build_territory
    from geo_ip.territory.reader import read_layer
    from tests.conftest import DEMO

    report = build_territory(
        tmp_path / "t.gpkg", rules=load_rules("demo"), osm=DEMO / "municipio_demo.osm"
    )
    names = set(pyogrio.list_layers(report.path)[:, 0])
    assert {"agua", "cursos_agua"} <= names
    for name in ("agua", "cursos_agua"):
        layer = read_layer(report.path, name)
        assert list(layer.columns) == ["osm_id", "tipo", "nome", "geometry"]
        assert len(layer) == report.counts[name]
        assert layer.crs.to_epsg() == 31983


@pytest.mark.slow
def test_poa_water(poa_territory: Any) -> None:
    """Porto Alegre's extract (roads and transit only) holds two small water areas.

    The r5r sample is cut to roads: the Guaíba is not in it (its 23 relations are squares
    and pedestrian areas, none water), so the large multipolygon is checked on the
    hand-written file above instead.
    """
    from geo_ip.territory.reader import read_layer

    agua = read_layer(poa_territory.path, "agua")
    assert agua.crs.to_epsg() == 31982
    assert rows(agua) == [
        ("way/215504907", "Corpo d'água", "Espelho d'Água"),
        ("way/33880310", "Corpo d'água", "Fonte Luminosa"),
    ]
    assert (agua.geometry.area > 100).all()  # m²
    assert read_layer(poa_territory.path, "cursos_agua").empty
    assert (poa_territory.counts["agua"], poa_territory.counts["cursos_agua"]) == (2, 0)


def test_water_styled_in_qgis(synthetic: Path, tmp_path: Path) -> None:
    import shutil
    import sqlite3
    import xml.etree.ElementTree as ET
    import zipfile
    from contextlib import closing

    from geo_ip.outputs.qgis.project import style_geopackage, write_project

    gpkg = tmp_path / "territorio.gpkg"
    shutil.copy(synthetic, gpkg)
    style_geopackage(gpkg)
    with closing(sqlite3.connect(gpkg)) as con:
        qml = dict(
            con.execute(
                "SELECT f_table_name, styleQML FROM layer_styles "
                "WHERE f_table_name IN ('agua', 'cursos_agua') AND useAsDefault"
            ).fetchall()
        )
    agua = ET.fromstring(qml["agua"].split("\n", 1)[1]).find("renderer-v2")
    assert agua is not None and agua.get("type") == "singleSymbol"
    symbol = agua.find("symbols/symbol")
    assert symbol is not None and symbol.get("type") == "fill"
    props = {o.get("name"): o.get("value") for o in symbol.iter("Option") if o.get("name")}
    assert props["color"].startswith("170,211,223,")  # #aad3df
    cursos = ET.fromstring(qml["cursos_agua"].split("\n", 1)[1]).find("renderer-v2")
    assert cursos is not None
    assert (cursos.get("type"), cursos.get("attr")) == ("categorizedSymbol", "tipo")
    values = [c.get("value") for c in cursos.iter("category")]
    assert values == ["Rio", "Córrego", "Canal"]
    widths = {}
    for category in cursos.iter("category"):
        line = cursos.find(f"symbols/symbol[@name='{category.get('symbol')}']")
        assert line is not None and line.get("type") == "line"
        opts = {o.get("name"): o.get("value") for o in line.iter("Option") if o.get("name")}
        assert opts["line_color"].startswith("111,168,220,")  # #6fa8dc
        widths[category.get("value")] = float(opts["line_width"])
    assert widths["Rio"] > widths["Canal"] > widths["Córrego"]

    # the QGIS project draws both in the offline background, water above the urban area
    project = write_project(
        gpkg, tmp_path / "p.qgz", crs="EPSG:31983", title="Teste", provenance={}
    )
    with zipfile.ZipFile(project) as archive:
        document = archive.read("p.qgs").decode()
    root = ET.fromstring(document)
    group = next(g for g in root.iter("layer-tree-group") if g.get("name") == "Fundo (offline)")
    names = [layer.get("name") for layer in group.iter("layer-tree-layer")]
    assert "Água (lagos, rios, represas)" in names and "Cursos d'água" in names
    assert names.index("Cursos d'água") < names.index("Área urbana")  # top first
    assert "© OpenStreetMap contributors" in document


def test_synthetic_osm_file_has_water(tmp_path: Path, catalog: Catalog) -> None:
    from geo_ip.territory.synthetic_osm import write_synthetic_osm

    osm = write_synthetic_osm(tmp_path / "s.osm.pbf", edges=600, seed=1)
    assert osm.counts["agua"] == 3
    water = read_osm_layers(osm.path, catalog)[1]
    assert water.agua[["tipo", "nome"]].to_numpy().tolist() == [
        ["Lago ou lagoa", "Lagoa Sintética"]
    ]
    assert water.agua.geometry.iloc[0].geom_type == "Polygon"
    assert water.cursos_agua[["tipo", "nome"]].to_numpy().tolist() == [
        ["Rio", "Rio Sintético"],
        ["Córrego", "Córrego Sintético"],
    ]
    # the stream ends on the river
    river, stream = water.cursos_agua.geometry
    assert shapely.get_coordinates(stream)[-1].tolist() in shapely.get_coordinates(river).tolist()


def test_poa_file_water(catalog: Catalog) -> None:
    """The same two areas straight from the file (no territory build, not slow)."""
    water = read_osm_layers(require(POA / "poa_osm.pbf"), catalog)[1]
    assert water.counts() == {"agua": 2, "cursos_agua": 0}
    assert sorted(water.agua["nome"]) == ["Espelho d'Água", "Fonte Luminosa"]
    assert set(water.agua.geom_type) == {"Polygon"}
