"""Context of requests: facilities, occurrences, lamps, buildings, traffic and terrain.

Unit tests run on a tiny territory built here, with values checked by hand; the
integration test runs on the bundled demo territory.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

from geo_ip.errors import InputFileError
from geo_ip.evidence.context import (
    CONTEXT_COLUMNS,
    Context,
    edge_betweenness,
    normalise_type,
    occurrences_report,
    period_start,
    read_occurrences,
)
from geo_ip.network.roads import RoadIndex
from geo_ip.rules.config import load_rules
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.territory.build import GridSource, build_territory
from geo_ip.territory.reader import read_layer
from tests.conftest import DEMO

CRS = "EPSG:31983"
X0, Y0 = 350_000.0, 7_460_000.0
"""Local origin (somewhere in zone 23S); the tiny territory is drawn around it."""
REF = date(2026, 6, 1)
RADII = {
    "buildings_radius_m": 40.0,
    "facilities_radius_m": 300.0,
    "safety_radius_m": 150.0,
    "stop_distance_m": 30.0,
    "occurrences_radius_m": 100.0,
    "occurrences_months": 24.0,
}


def xy(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


# ---------------------------------------------------------------------------- the territory
#
#   4 ──── 3          8 ──── 7        Two square blocks joined by a 200 m bridge 2–5;
#   │      │          │      │        a dead-end spur 4–9 (9 is 100 m north of 4).
#   1 ──── 2 ──────── 5 ──── 6        Node 1 is the origin; squares are 100 m wide.

NODES = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 9: (0, 200)}
NODES |= {5: (300, 0), 6: (400, 0), 7: (400, 100), 8: (300, 100)}
# (u, v, surface, highway, rural, declividade_pct); both directions are stored, as osmnx does.
EDGES = [
    (1, 2, "asphalt", "residential", False, 7.5),
    (2, 3, "asphalt", "residential", False, 1.0),
    (3, 4, "asphalt", "residential", False, 1.0),
    (4, 1, "asphalt", "residential", False, 1.0),
    (2, 5, "paving_stones / unpaved", "unclassified", True, 3.0),
    (5, 6, "asphalt", "residential", False, 1.0),
    (6, 7, "asphalt", "residential", False, 1.0),
    (7, 8, "asphalt", "residential", False, 1.0),
    (8, 5, "asphalt", "residential", False, 1.0),
    (4, 9, None, "track", False, 2.0),
]


def tiny_roads() -> gpd.GeoDataFrame:
    rows = []
    for u, v, surface, highway, rural, slope in EDGES:
        for a, b in ((u, v), (v, u)):
            line = LineString([xy(*NODES[a]), xy(*NODES[b])])
            rows.append(
                {
                    "u": a,
                    "v": b,
                    "key": 0,
                    "length": line.length,
                    "surface": surface,
                    "highway": highway,
                    "rural": rural,
                    "declividade_pct": slope,
                    "geometry": line,
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


# Facilities seen from request R0 at (50, 0), on edge 1–2 (distances in the comments).
FACILITIES = [
    ("node/1", "escola", "educacao", True, "Escola A", (50, 150)),  # 150: at safety radius
    ("node/2", "creche", "educacao", True, "Creche B", (50, -151)),  # 151: just outside
    ("node/3", "hospital", "saude", True, "Hospital H", (350, 0)),  # 300: at facilities radius
    ("node/4", "unidade_saude", "saude", True, "UBS Longe", (50, -301)),  # 301: outside all
    ("way/5", "praca", "lazer", False, "Praça P", (250, 30)),  # footprint at 100
    ("node/6", "travessia", "travessia", False, None, (60, 5)),  # 11.2, unnamed
    ("node/7", "ponto_onibus", "transporte", False, "Parada X", (80, 10)),  # 31.6; 10 from edge
    ("node/8", "ponto_onibus", "transporte", False, "Parada Y", (80, 40)),  # 50; 40 from edge
    ("node/9", "policia", "seguranca", False, "Polícia", (50, 290)),  # 290
]


def tiny_facilities() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    facilities = gpd.GeoDataFrame(
        [
            {"osm_id": o, "categoria": c, "grupo": g, "vulneravel": vul, "nome": name}
            for o, c, g, vul, name, _ in FACILITIES
        ],
        geometry=[xy(*p) for *_, p in FACILITIES],
        crs=CRS,
    )
    # The square's point is 202 m away, its footprint (x 150–350, y -10–50) 100 m away.
    footprints = gpd.GeoDataFrame(
        {"osm_id": ["way/5"], "categoria": ["praca"], "nome": ["Praça P"]},
        geometry=[box(X0 + 150, Y0 - 10, X0 + 350, Y0 + 50)],
        crs=CRS,
    )
    return facilities, footprints


LAMPS = [(50, 30), (900, 900)]
# Buildings around R0's path (50,0)→(50,-200): 35 m from it, 45 m, 40 m past its end,
# 36 m from the point (and the path start: counted once), 44.7 m from everything.
BUILDINGS = [(85, -100), (95, -100), (50, -240), (70, 30), (10, 20)]


def write_dem(path: Path) -> Path:
    """1 m cells, elevation rising 10 % northwards (y), covering the tiny territory."""
    west, north, width, height = X0 - 100, Y0 + 400, 700, 800
    rows = np.arange(height)[:, None] + 0.5
    elevation = 100.0 + 0.1 * (400 - rows) + np.zeros((height, width))
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=height,
        width=width,
        count=1,
        dtype="float64",
        crs=CRS,
        transform=from_origin(west, north, 1.0, 1.0),
        nodata=-9999.0,
    ) as dst:
        dst.write(elevation, 1)
    return path


@pytest.fixture(scope="module")
def dem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dem(tmp_path_factory.mktemp("dem") / "mdt.tif")


def make_context(dem: Path | None, sample: int = 1000, catalog: Catalog | None = None) -> Context:
    facilities, footprints = tiny_facilities()
    return Context(
        tiny_roads(),
        facilities=facilities,
        footprints=footprints,
        lamps=gpd.GeoDataFrame(geometry=[xy(*p) for p in LAMPS], crs=CRS),
        buildings=gpd.GeoDataFrame(geometry=[xy(*p) for p in BUILDINGS], crs=CRS),
        betweenness_sample=sample,
        dem=dem,
        catalog=catalog,
    )


@pytest.fixture(scope="module")
def ctx(dem: Path) -> Context:
    return make_context(dem)


def requests_table() -> pd.DataFrame:
    # R0 on 1–2 with a path; R1 same point, reverse edge, no path; R2 on the bridge;
    # R3 on the dead-end spur; R4 not located; R5 located but not snapped.
    points = [(50, 0), (50, 0), (200, 0), (0, 150), (np.nan, np.nan), (1000, 1000)]
    edges = [(1, 2, 0), (2, 1, 0), (2, 5, 0), (4, 9, 0), None, None]
    return pd.DataFrame(
        {
            "x": [X0 + p[0] for p in points],
            "y": [Y0 + p[1] for p in points],
            "aresta_u": pd.array([e[0] if e else pd.NA for e in edges], dtype="Int64"),
            "aresta_v": pd.array([e[1] if e else pd.NA for e in edges], dtype="Int64"),
            "aresta_key": pd.array([e[2] if e else pd.NA for e in edges], dtype="Int64"),
        }
    )


def paths_series() -> gpd.GeoSeries:
    path = LineString([xy(50, 0), xy(50, -200)])
    return gpd.GeoSeries([path, None, None, None, None, None], crs=CRS)


# ----------------------------------------------------------------------------- facilities


def test_facility_counts_at_and_around_each_radius(ctx: Context) -> None:
    table, evidence = ctx.for_requests(
        requests_table(), paths_series(), reference_date=REF, **RADII
    )
    assert list(table.columns) == list(CONTEXT_COLUMNS)
    r0 = table.iloc[0]
    # escola 150, creche 151, hospital 300 (at the radius), praça footprint 100, polícia
    # 290; not the UBS at 301, nor crossings and bus stops (not public facilities).
    assert r0["equipamentos_proximos"] == 5
    assert r0["equipamentos_nomes"] == "Praça P; Escola A; Creche B; Polícia; Hospital H"
    assert r0["travessias"] == 1
    assert r0["paradas_onibus"] == 2
    assert r0["escolas"] == 1  # at exactly 150 m: within
    assert r0["creches"] == 0  # 151 m
    assert r0["unidades_saude"] == 0  # hospital at 300, UBS at 301
    assert r0["pracas"] == 1  # by its footprint (its point is 202 m away)
    assert r0["usuarios_vulneraveis"] == 1
    assert r0["vulneraveis_nomes"] == "Escola A"
    assert r0["geradores_noturnos"] == 4  # escola, praça, two bus stops
    assert r0["paradas_onibus_via"] == 1  # Parada X 10 m from the edge; Y at 40 m
    assert evidence[0]["paradas_onibus_via"] == [
        {"osm_id": "node/7", "categoria": "ponto_onibus", "nome": "Parada X", "distancia_m": 10.0}
    ]
    near = evidence[0]["equipamentos"]
    assert [(e["osm_id"], e["distancia_m"]) for e in near] == [
        ("way/5", 100.0),
        ("node/1", 150.0),
        ("node/2", 151.0),
        ("node/9", 290.0),
        ("node/3", 300.0),
    ]
    safety = [(e["categoria"], e["nome"], e["distancia_m"]) for e in evidence[0]["seguranca"]]
    assert safety == [
        ("travessia", "", 11.2),
        ("ponto_onibus", "Parada X", 31.6),
        ("ponto_onibus", "Parada Y", 50.0),
        ("praca", "Praça P", 100.0),
        ("escola", "Escola A", 150.0),
    ]
    json.dumps(evidence)  # the audit trail is plain JSON


def test_unnamed_facility_gets_its_category_label(ctx: Context) -> None:
    table, _ = ctx.for_requests(
        requests_table(),
        reference_date=REF,
        **{**RADII, "facilities_radius_m": 20.0, "safety_radius_m": 20.0},
    )
    assert table.loc[0, "travessias"] == 1
    assert table.loc[0, "equipamentos_proximos"] == 0
    assert table.loc[0, "equipamentos_nomes"] == ""
    crossings_count = make_context(None, 10, catalog_with(travessia={"equipamento_publico": True}))
    table, _ = crossings_count.for_requests(
        requests_table(), reference_date=REF, **{**RADII, "facilities_radius_m": 20.0}
    )
    assert table.loc[0, "equipamentos_proximos"] == 1
    assert table.loc[0, "equipamentos_nomes"] == "Travessia de pedestres"


def catalog_with(**changes: dict[str, bool]) -> Catalog:
    """The bundled catalog with some categories' flags changed."""
    base = load_catalog()
    cats = dict(base.equipamentos.categorias)
    for name, flags in changes.items():
        cats[name] = cats[name].model_copy(update=flags)
    layer = base.equipamentos.model_copy(update={"categorias": cats})
    return base.model_copy(update={"equipamentos": layer})


def test_facility_flags_come_from_the_catalog(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table.loc[0, "geradores_noturnos"] == 4  # escola, praça, two bus stops
    assert table.loc[0, "equipamentos_proximos"] == 5
    changed = catalog_with(
        travessia={"gerador_noturno": True},  # the crossing at 11.2 m
        ponto_onibus={"gerador_noturno": False},  # the two bus stops
        policia={"equipamento_publico": False},  # at 290 m
    )
    table, evidence = make_context(None, 10, changed).for_requests(
        requests_table(), reference_date=REF, **RADII
    )
    assert table.loc[0, "geradores_noturnos"] == 3  # travessia, escola, praça
    assert table.loc[0, "equipamentos_proximos"] == 4
    assert "Polícia" not in table.loc[0, "equipamentos_nomes"]
    # Crossings and bus stops stay in the safety evidence through their own columns.
    assert [e["categoria"] for e in evidence[0]["seguranca"]][:3] == [
        "travessia",
        "ponto_onibus",
        "ponto_onibus",
    ]


def test_missing_location_or_edge_gives_na(ctx: Context) -> None:
    table, evidence = ctx.for_requests(
        requests_table(), paths_series(), reference_date=REF, **RADII
    )
    r4, r5 = table.iloc[4], table.iloc[5]
    for column in ("equipamentos_proximos", "travessias", "edificacoes_trecho", "ocorrencias"):
        assert pd.isna(r4[column])
    assert np.isnan(r4["distancia_ip_m"])
    assert r5["equipamentos_proximos"] == 0
    assert r5["edificacoes_trecho"] == 0
    assert r5["distancia_ip_m"] == pytest.approx(np.hypot(100, 100))  # lamp at (900, 900)
    for column in ("paradas_onibus_via", "via_de_passagem", "via_sem_pavimento", "via_rural"):
        assert pd.isna(r5[column])
    assert np.isnan(r5["intermediacao"]) and np.isnan(r5["declividade_media_pct"])
    assert r5["superficie_via"] == "" and r5["declividade_fonte"] == ""
    assert evidence[4] == {
        "equipamentos": [],
        "seguranca": [],
        "paradas_onibus_via": [],
        "producao_rural": [],
        "ocorrencias": [],
    }
    for column in ("centros_comunitarios", "producao_rural"):
        assert pd.isna(r4[column]) and r5[column] == 0
    assert r4["producao_rural_nomes"] == r5["centros_comunitarios_nomes"] == ""


def test_index_is_kept_and_inputs_checked(ctx: Context) -> None:
    requests = requests_table()
    requests.index = pd.Index([10, 11, 12, 13, 14, 15])
    table, evidence = ctx.for_requests(requests, reference_date=REF, **RADII)
    assert list(table.index) == [10, 11, 12, 13, 14, 15]
    assert len(evidence) == 6
    with pytest.raises(ValueError, match="raio_seguranca_m"):
        ctx.for_requests(requests, reference_date=REF, **{**RADII, "safety_radius_m": -1})
    with pytest.raises(ValueError, match="alinhados"):
        ctx.for_requests(requests, [None], reference_date=REF, **RADII)


# ----------------------------------------------- Art. 12 §1: community centres, production

# Seen from request R2 at (200, 0), on the rural bridge 2–5 (distances in the comments).
ART12_FACILITIES = [
    ("node/20", "centro_comunitario", "Centro Comunitário do Bairro Alto", (200, 100)),  # 100
    ("node/21", "assistencia_social", "CRAS Rural", (200, -160)),  # 160: outside 150
    ("node/22", "escola", "Escola Rural", (200, 50)),  # 50
    ("way/23", "lavoura", None, (200, 600)),  # point 600, footprint 250
    ("way/24", "lavoura", None, (50, -150)),  # footprint 141.4
    ("node/25", "silo", "Silo da Cooperativa", (400, -250)),  # 320.2
]
ART12_FOOTPRINTS = {
    "way/23": box(X0 + 150, Y0 + 250, X0 + 250, Y0 + 700),
    "way/24": box(X0 + 0, Y0 - 200, X0 + 100, Y0 - 100),
}


def art12_context() -> Context:
    facilities = gpd.GeoDataFrame(
        [{"osm_id": o, "categoria": c, "nome": name} for o, c, name, _ in ART12_FACILITIES],
        geometry=[xy(*p) for *_, p in ART12_FACILITIES],
        crs=CRS,
    )
    footprints = gpd.GeoDataFrame(
        {"osm_id": list(ART12_FOOTPRINTS)}, geometry=list(ART12_FOOTPRINTS.values()), crs=CRS
    )
    return Context(
        tiny_roads(), facilities=facilities, footprints=footprints, betweenness_sample=10
    )


def bridge_request() -> pd.DataFrame:
    return requests_table().iloc[[2]].reset_index(drop=True)


def test_community_centres_and_rural_production_are_counted() -> None:
    table, evidence = art12_context().for_requests(bridge_request(), reference_date=REF, **RADII)
    row = table.iloc[0]
    assert bool(row["via_rural"])
    # the community centre at 100 m; the CRAS (assistência social) at 160 m is outside
    assert row["centros_comunitarios"] == 1
    assert row["centros_comunitarios_nomes"] == "Centro Comunitário do Bairro Alto"
    assert row["escolas"] == 1 and row["escolas_nomes"] == "Escola Rural"
    assert row["creches_nomes"] == row["unidades_saude_nomes"] == ""
    # two farmland polygons, by their footprints (141.4 m and 250 m); the silo at 320 m is
    # beyond the production radius (facilities_radius_m, 300 m, by default)
    assert row["producao_rural"] == 2
    assert row["producao_rural_nomes"] == "Lavoura / pomar / estufa (2)"
    assert [(e["osm_id"], e["distancia_m"]) for e in evidence[0]["producao_rural"]] == [
        ("way/24", 141.4),
        ("way/23", 250.0),
    ]
    # production is not a public facility (Art. 9 §3, III), nor a point of attention
    assert row["equipamentos_proximos"] == 3  # escola, centro comunitário, CRAS
    assert "Lavoura" not in row["equipamentos_nomes"]
    assert row["geradores_noturnos"] == 2  # escola, centro comunitário
    assert row["usuarios_vulneraveis"] == 1  # the school (the CRAS is outside)
    json.dumps(evidence)


def test_production_radius_is_its_own() -> None:
    ctx = art12_context()
    wider, evidence = ctx.for_requests(
        bridge_request(), reference_date=REF, production_radius_m=350.0, **RADII
    )
    assert wider.loc[0, "producao_rural"] == 3
    assert wider.loc[0, "producao_rural_nomes"] == (
        "Lavoura / pomar / estufa (2); Silo da Cooperativa"
    )
    assert evidence[0]["producao_rural"][-1]["distancia_m"] == 320.2
    assert wider.loc[0, "equipamentos_proximos"] == 3  # the other radii are unchanged
    narrow, _ = ctx.for_requests(
        bridge_request(), reference_date=REF, production_radius_m=200.0, **RADII
    )
    assert narrow.loc[0, "producao_rural"] == 1
    assert narrow.loc[0, "producao_rural_nomes"] == "Lavoura / pomar / estufa"
    with pytest.raises(ValueError, match="raio_producao_m"):
        ctx.for_requests(bridge_request(), reference_date=REF, production_radius_m=-1.0, **RADII)


def test_osm_farmland_and_community_centre_reach_the_context() -> None:
    """From OSM tags (as osmnx returns them) to the counts: polygons by their footprint."""
    from geo_ip.sources.osm_features import features_from_osmnx

    def ring(x0: float, y0: float, x1: float, y1: float) -> Polygon:
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return Polygon([_TO_WGS84.transform(X0 + x, Y0 + y) for x, y in corners])

    lon, lat = _TO_WGS84.transform(X0 + 200, Y0 + 100)
    osm = gpd.GeoDataFrame(
        {
            "amenity": ["community_centre", None, None, None],
            "landuse": [None, "farmland", None, None],
            "man_made": [None, None, "silo", None],
            "building": [None, None, None, "barn"],
            "name": ["Centro Comunitário", None, None, None],
        },
        geometry=[
            Point(lon, lat),  # 100 m
            ring(150, -10, 250, -200),  # the request (200, 0) is 10 m from it
            Point(*_TO_WGS84.transform(X0 + 200, Y0 - 280)),  # 280 m
            ring(190, 290, 210, 310),  # a barn 290 m away
        ],
        crs="EPSG:4326",
        index=pd.MultiIndex.from_tuples(
            [("node", 1), ("way", 2), ("node", 3), ("way", 4)], names=["element", "id"]
        ),
    )
    features = features_from_osmnx(osm, load_catalog())
    facilities = features.equipamentos.to_crs(CRS)
    assert dict(zip(facilities["osm_id"], facilities["categoria"], strict=True)) == {
        "node/1": "centro_comunitario",
        "way/2": "lavoura",
        "node/3": "silo",
        "way/4": "terreiro",
    }
    ctx = Context(
        tiny_roads(),
        facilities=facilities,
        footprints=features.equipamentos_pegada.to_crs(CRS),
        betweenness_sample=10,
    )
    table, evidence = ctx.for_requests(bridge_request(), reference_date=REF, **RADII)
    assert table.loc[0, "centros_comunitarios"] == 1
    assert table.loc[0, "centros_comunitarios_nomes"] == "Centro Comunitário"
    assert table.loc[0, "producao_rural"] == 3
    assert table.loc[0, "producao_rural_nomes"] == (
        "Lavoura / pomar / estufa; Silo / armazém rural; Terreiro / galpão rural"
    )
    farm = evidence[0]["producao_rural"][0]
    assert (farm["osm_id"], farm["distancia_m"]) == ("way/2", 10.0)


# ------------------------------------------------------------------------ lamps, buildings


def test_distance_to_nearest_lamp(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table.loc[0, "distancia_ip_m"] == pytest.approx(30.0)
    assert table.loc[2, "distancia_ip_m"] == pytest.approx(np.hypot(150, 30))


def test_no_lamps_gives_nan() -> None:
    bare = Context(tiny_roads(), betweenness_sample=10)
    table, _ = bare.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table["distancia_ip_m"].isna().all()
    assert (table["equipamentos_proximos"].iloc[:4] == 0).all()
    assert (table["edificacoes_trecho"].iloc[:4] == 0).all()


def test_buildings_along_the_path_and_around_the_point(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), paths_series(), reference_date=REF, **RADII)
    # Path: 35 m and 40 m (past its end) in, 45 m out; point: 36 m in (counted once).
    assert table.loc[0, "edificacoes_trecho"] == 3
    assert table.loc[1, "edificacoes_trecho"] == 1  # same point, no path
    paths = [LineString([xy(50, 0), xy(50, -200)])] + [None] * 5
    as_list, _ = ctx.for_requests(requests_table(), paths, reference_date=REF, **RADII)
    assert as_list.loc[0, "edificacoes_trecho"] == 3


# -------------------------------------------------------------------------------- traffic


def test_bridge_has_the_highest_betweenness(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    # Exact betweenness (sample >= 9 nodes), normalised by n(n-1) = 72 ordered pairs.
    # The bridge carries the 5 × 4 pairs between the blocks, both ways: 40 / 72.
    assert table.loc[2, "intermediacao"] == pytest.approx(40 / 72)
    assert table.loc[2, "intermediacao_percentil"] == 100.0
    # The spur carries the 8 pairs that start or end at its tip, both ways: 16 / 72.
    assert table.loc[3, "intermediacao"] == pytest.approx(16 / 72)
    # Both directions of a street share one value.
    assert table.loc[0, "intermediacao"] == table.loc[1, "intermediacao"]
    assert table.loc[0, "intermediacao"] < table.loc[2, "intermediacao"]
    assert table["intermediacao_percentil"].iloc[:4].between(0, 100).all()


def test_through_road_and_dead_end(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table["via_de_passagem"].iloc[:4].tolist() == [True, True, True, False]


def nx_betweenness(graph: nx.Graph, sample: int, seed: int) -> dict[frozenset[int], float]:
    """networkx's edge betweenness from the sources that ``edge_betweenness`` draws.

    Its documented rule: nodes in ascending id order, ``default_rng(seed).choice``
    of ``sample`` of them; the subset value × n / k is networkx's sampled
    normalisation (1 / (k (n - 1))), the exact betweenness when every node is a source.
    """
    nodes = sorted(graph)
    n = len(nodes)
    if sample >= n:
        values = nx.edge_betweenness_centrality(graph, normalized=True, weight="length")
    else:
        picked = np.random.default_rng(seed).choice(n, size=sample, replace=False)
        sources = [nodes[i] for i in picked]
        subset = nx.edge_betweenness_centrality_subset(
            graph, sources, nodes, normalized=True, weight="length"
        )
        values = {e: b * n / sample for e, b in subset.items()}
    return {frozenset(e): b for e, b in values.items()}


@pytest.mark.parametrize("sample", [3, 7, 100])
def test_betweenness_equals_networkx(sample: int) -> None:
    roads = tiny_roads()
    values, percentile = edge_betweenness(roads, sample=sample, seed=11)
    graph = nx.Graph()
    graph.add_nodes_from(sorted(NODES))
    graph.add_weighted_edges_from(
        zip(roads["u"], roads["v"], roads["length"], strict=True), weight="length"
    )
    lookup = nx_betweenness(graph, sample, seed=11)
    want = [lookup[frozenset((u, v))] for u, v in zip(roads["u"], roads["v"], strict=True)]
    np.testing.assert_allclose(values, want, atol=1e-12)
    assert percentile.max() == 100.0


def test_sampled_betweenness_by_hand() -> None:
    # default_rng(0) draws index 7 of the 9 nodes in id order (1-9): node 8 alone, so
    # each value is (shortest paths from 8 that use the edge) / (k (n - 1)) = x / 8.
    # From 8, the paths to 6 (via 5 or via 7) and to 4 (2-1-4 or 2-3-4) tie, half each;
    # 9 is reached through 4.
    roads = tiny_roads()
    values, _ = edge_betweenness(roads, sample=1, seed=0)
    got = {frozenset((u, v)): b for u, v, b in zip(roads["u"], roads["v"], values, strict=True)}
    expected = {
        (2, 5): 5,  # the bridge: to 2, 1, 3, 4, 9
        (8, 5): 6.5,  # to 5, half of 6, and the 5 across the bridge
        (7, 8): 1.5,  # to 7, half of 6
        (5, 6): 0.5,  # half of 6
        (6, 7): 0.5,  # half of 6
        (1, 2): 2,  # to 1, half of 4, half of 9
        (2, 3): 2,  # to 3, half of 4, half of 9
        (4, 1): 1,  # half of 4, half of 9
        (3, 4): 1,  # half of 4, half of 9
        (4, 9): 1,  # to 9
    }
    for (a, b), paths in expected.items():
        assert got[frozenset((a, b))] == pytest.approx(paths / 8), (a, b)


def test_betweenness_with_ties_equals_networkx() -> None:
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(6, 6))
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 3, grid.number_of_edges()).astype(float)  # many equal paths
    edges = list(grid.edges())
    roads = pd.DataFrame(
        {"u": [a for a, _ in edges], "v": [b for _, b in edges], "length": lengths}
    )
    values, _ = edge_betweenness(roads, sample=10, seed=2)
    for (a, b), w in zip(edges, lengths, strict=True):
        grid[a][b]["length"] = w
    expected = nx_betweenness(grid, 10, seed=2)
    np.testing.assert_allclose(values, [expected[frozenset(e)] for e in edges], atol=1e-12)


# -------------------------------------------------------------------------------- terrain


def test_slope_along_path_from_dem(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), paths_series(), reference_date=REF, **RADII)
    assert table.loc[0, "declividade_media_pct"] == pytest.approx(10.0, abs=0.01)
    assert table.loc[0, "declividade_max_pct"] == pytest.approx(10.0, abs=0.01)
    assert table.loc[0, "declividade_fonte"] == "mde"
    # Without a path: the request edge's declividade_pct.
    assert table.loc[1, "declividade_media_pct"] == 7.5
    assert table.loc[1, "declividade_max_pct"] == 7.5
    assert table.loc[1, "declividade_fonte"] == "aresta"


def test_slope_without_dem_falls_back_to_edge() -> None:
    plain = make_context(None, sample=10)
    table, _ = plain.for_requests(requests_table(), paths_series(), reference_date=REF, **RADII)
    assert table.loc[0, "declividade_media_pct"] == 7.5
    assert table.loc[0, "declividade_fonte"] == "aresta"
    assert table.loc[3, "declividade_max_pct"] == 2.0


def test_surface_and_rural(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table["superficie_via"].iloc[:4].tolist() == [
        "asphalt",
        "asphalt",
        "paving_stones / unpaved",
        "",
    ]
    # Mixed surface with an unpaved part; highway=track without surface.
    assert table["via_sem_pavimento"].iloc[:4].tolist() == [False, False, True, True]
    assert table["via_rural"].iloc[:4].tolist() == [False, False, True, False]


# ---------------------------------------------------------------------------- occurrences

_TO_WGS84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def latlon(x: float, y: float) -> tuple[str, str]:
    lon, lat = _TO_WGS84.transform(X0 + x, Y0 + y)
    return f"{lat:.7f}".replace(".", ","), f"{lon:.7f}".replace(".", ",")


def occurrences_csv(path: Path) -> Path:
    """Latin-1, ';', decimal commas, both date formats, a title row above the header."""
    rows = [
        ("15/03/2026", "Acidente de trânsito", (50, 20), "Colisão entre carro e moto"),  # 20 m
        ("2026-01-10", "Furto", (50, 50), "Furto de celular"),  # 50 m
        ("01/12/2025", "ACIDENTE", (149, 0), ""),  # 99 m
        ("31/02/2026", "acidente", (50, 10), "data inexistente"),
        ("10/03/2026", "Relato de insegurança", None, "coordenada ruim"),
        ("01/01/2023", "acidente", (60, 0), "antiga"),  # 10 m, outside the period
        ("01/05/2026", "Reclamação", (50, 150), "longe"),  # 150 m, outside the radius
        ("20/05/2026", "", (55, 0), "sem tipo"),  # 5 m, blank type
    ]
    lines = ["Ocorrências registradas - Guarda Municipal", ""]
    lines.append("Data da ocorrência;Tipo;Latitude;Longitude;Descrição")
    for when, kind, where, text in rows:
        lat, lon = latlon(*where) if where else ("abc", "-46,3")
        lines.append(f"{when};{kind};{lat};{lon};{text}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path


def test_read_occurrences_accounts_for_every_row(tmp_path: Path) -> None:
    occ = read_occurrences(occurrences_csv(tmp_path / "ocorrencias.csv"), CRS)
    assert list(occ["linha"]) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert list(occ["situacao"]) == ["ok", "ok", "ok", "erro", "erro", "ok", "ok", "aviso"]
    assert list(occ["tipo"]) == [
        "acidente",
        "ocorrencia_policial",
        "acidente",
        "acidente",
        "reclamacao",
        "acidente",
        "reclamacao",
        "nao_informado",
    ]
    assert occ.loc[0, "data"] == date(2026, 3, 15)
    assert occ.loc[1, "data"] == date(2026, 1, 10)
    assert occ.loc[0, "descricao"] == "Colisão entre carro e moto"  # Latin-1 decoded
    bad_date, bad_coord = occ.loc[3, "motivo"], occ.loc[4, "motivo"]
    assert bad_date.startswith("linha 7, campo 'data': data inexistente ('31/02/2026')")
    assert bad_coord.startswith("linha 8, campo 'latitude': não é uma coordenada válida ('abc')")
    assert occ.loc[3, "geometry"] is None and occ.loc[4, "geometry"] is None
    assert occ.loc[3, "data"] is None
    assert occ.loc[4, "data"] == date(2026, 3, 10)  # only its coordinates are wrong
    assert "campo 'tipo': vazio" in occ.loc[7, "motivo"]
    assert occ.loc[0, "geometry"].distance(xy(50, 20)) < 0.05


def test_occurrence_counts_within_radius_and_period(ctx: Context, tmp_path: Path) -> None:
    occ = read_occurrences(occurrences_csv(tmp_path / "ocorrencias.csv"), CRS)
    table, evidence = ctx.for_requests(
        requests_table(), reference_date=REF, occurrences=occ, **RADII
    )
    assert table.loc[0, "ocorrencias"] == 4
    assert table.loc[0, "ocorrencias_tipos"] == (
        "acidente: 2; nao_informado: 1; ocorrencia_policial: 1"
    )
    assert [(o["linha"], o["tipo"], o["distancia_m"]) for o in evidence[0]["ocorrencias"]] == [
        (11, "nao_informado", 5.0),
        (4, "acidente", 20.0),
        (5, "ocorrencia_policial", 50.0),
        (6, "acidente", 99.0),
    ]
    assert evidence[0]["ocorrencias"][1]["data"] == "2026-03-15"
    assert table.loc[5, "ocorrencias"] == 0
    assert pd.isna(table.loc[4, "ocorrencias"])
    # A longer period brings in the 2023 accident.
    longer, _ = ctx.for_requests(
        requests_table(),
        reference_date=REF,
        occurrences=occ,
        **{**RADII, "occurrences_months": 48.0},
    )
    assert longer.loc[0, "ocorrencias"] == 5
    report = occurrences_report(occ, reference_date=REF, months=24)
    assert list(report["situacao"]) == [
        "ok",
        "ok",
        "ok",
        "erro",
        "erro",
        "fora_do_periodo",
        "ok",
        "aviso",
    ]
    assert report.loc[5, "motivo"] == (
        "linha 9, campo 'data': fora do período considerado (01/06/2024 a 01/06/2026)"
    )


def test_no_occurrences_file_gives_na(ctx: Context) -> None:
    table, _ = ctx.for_requests(requests_table(), reference_date=REF, **RADII)
    assert table["ocorrencias"].isna().all()
    assert (table["ocorrencias_tipos"] == "").all()


def test_occurrences_from_comma_csv_xlsx_and_geojson(tmp_path: Path) -> None:
    lat, lon = (v.replace(",", ".") for v in latlon(50, 20))
    csv_path = tmp_path / "virgula.csv"
    csv_path.write_text(f"data,tipo,lat,lon\n2026-03-01,colisão,{lat},{lon}\n", encoding="utf-8")
    occ = read_occurrences(csv_path, CRS)
    assert occ.loc[0, "tipo"] == "acidente" and occ.loc[0, "linha"] == 2

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Data", "Natureza", "Latitude", "Longitude"])
    sheet.append([datetime(2026, 2, 3, 22, 15), "Roubo", float(lat), float(lon)])
    sheet.append(["05/02/2026", "Denúncia", float(lat), 500.0])
    xlsx = tmp_path / "ocorrencias.xlsx"
    book.save(xlsx)
    occ = read_occurrences(xlsx, CRS)
    assert list(occ["linha"]) == [2, 3]
    assert occ.loc[0, "data"] == date(2026, 2, 3)
    assert occ.loc[0, "tipo"] == "ocorrencia_policial"
    assert occ.loc[1, "situacao"] == "erro"
    assert "linha 3, campo 'longitude': fora do intervalo válido" in occ.loc[1, "motivo"]

    geo = gpd.GeoDataFrame(
        {"data": ["2026-04-01"], "tipo": ["atropelamento"]},
        geometry=[xy(50, 20)],
        crs=CRS,
    ).to_crs("EPSG:4674")
    geojson = tmp_path / "ocorrencias.geojson"
    geo.to_file(geojson, driver="GeoJSON")
    occ = read_occurrences(geojson, CRS)
    assert occ.loc[0, "tipo"] == "acidente"
    assert occ.loc[0, "geometry"].distance(xy(50, 20)) < 0.01

    layer = gpd.GeoDataFrame(
        {"Data": ["2026-01-01", "02/02/2026"], "Tipo": ["assalto", "acidente"]},
        geometry=[xy(50, 20), None],
        crs=CRS,
    )
    gpkg = tmp_path / "ocorrencias.gpkg"
    layer.to_file(gpkg, layer="ocorrencias", driver="GPKG")
    occ = read_occurrences(gpkg, CRS)
    assert list(occ["situacao"]) == ["ok", "erro"]
    assert occ.loc[1, "motivo"] == "linha 2, campo 'geometria': sem geometria"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "arquivo de ocorrências vazio"),
        (b"  \r\n", "arquivo de ocorrências vazio"),
        (b"data;tipo;latitude;longitude\r\n", "só o cabeçalho"),
        (b"data;tipo;latitude\r\n2026-01-01;acidente;-22,8\r\n", "coluna obrigatória 'longitude'"),
        (b"quando;o que\r\n2026-01-01;acidente\r\n", "coluna obrigatória 'data'"),
    ],
)
def test_unusable_occurrences_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "ocorrencias.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        read_occurrences(path, CRS)
    assert str(path) in str(info.value)


def test_missing_occurrences_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="não encontrado"):
        read_occurrences(tmp_path / "nada.csv", CRS)


def test_type_normalisation_and_period() -> None:
    assert normalise_type("Acidente de Trânsito") == "acidente"
    assert normalise_type("Ocorrência de acidente") == "acidente"
    assert normalise_type("BO - roubo a transeunte") == "ocorrencia_policial"
    assert normalise_type("ocorrência") == "ocorrencia_policial"
    assert normalise_type("Reclamação - falta de iluminação") == "reclamacao"
    assert normalise_type("ocorrencia_policial") == "ocorrencia_policial"
    assert normalise_type("Incêndio em lote") == "incendio_em_lote"
    assert normalise_type("  ") == "nao_informado"
    assert period_start(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert period_start(date(2026, 6, 1), 24) == date(2024, 6, 1)
    assert period_start(date(2026, 6, 1), 0.5) == date(2026, 5, 17)  # 15 days


# --------------------------------------------------------------------------- demo territory


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_ctx") / "territorio.gpkg"
    build_territory(
        out,
        rules=load_rules("demo"),
        osm=DEMO / "municipio_demo.osm",
        grids=[GridSource(DEMO / "rede_demo.gpkg")],
        dem=DEMO / "mdt_demo.tif",
    )
    return out


def test_demo_territory_facts(demo: Path) -> None:
    rules = load_rules("demo")
    av = rules.avaliacao
    ctx = Context.from_territory(
        demo, betweenness_sample=int(av.amostra_intermediacao.valor), dem=DEMO / "mdt_demo.tif"
    )
    facilities = read_layer(demo, "equipamentos").set_index("nome")
    square = facilities.loc["Praça da Matriz"].geometry
    school = facilities.loc["Escola Rural do Bairro Alto"].geometry
    x = np.array([square.x + 20, school.x + 20])
    y = np.array([square.y, school.y])
    snapped = RoadIndex(read_layer(demo, "vias")).snap(x, y, rules.rede.distancia_maxima_via.valor)
    requests = pd.concat([pd.DataFrame({"x": x, "y": y}), snapped], axis=1)
    table, evidence = ctx.for_requests(
        requests,
        reference_date=REF,
        buildings_radius_m=av.raio_edificacoes_m.valor,
        facilities_radius_m=av.raio_equipamentos_m.valor,
        safety_radius_m=av.raio_seguranca_m.valor,
        stop_distance_m=av.distancia_parada_via_m.valor,
        occurrences_radius_m=av.raio_ocorrencias_m.valor,
        occurrences_months=av.periodo_ocorrencias_meses.valor,
    )
    centre, rural = table.iloc[0], table.iloc[1]
    assert centre["pracas"] >= 1
    assert "Praça da Matriz" in centre["equipamentos_nomes"].split("; ")
    assert rural["usuarios_vulneraveis"] >= 1
    assert "Escola Rural do Bairro Alto" in rural["vulneraveis_nomes"].split("; ")
    assert rural["escolas"] >= 1
    assert any(e["nome"] == "Escola Rural do Bairro Alto" for e in evidence[1]["seguranca"])
    # The rural school sits on the unpaved Estrada do Bairro Alto.
    assert bool(rural["via_sem_pavimento"]) and bool(rural["via_rural"])
    assert not bool(centre["via_sem_pavimento"])
    assert table["intermediacao_percentil"].between(0, 100).all()
    assert table["distancia_ip_m"].notna().all()
    assert table["declividade_media_pct"].between(0, 50).all()


def test_demo_betweenness_equals_networkx(demo: Path) -> None:
    roads = read_layer(demo, "vias")
    values, _ = edge_betweenness(roads, sample=25, seed=4)
    lo = np.minimum(roads["u"], roads["v"]).to_numpy()
    hi = np.maximum(roads["u"], roads["v"]).to_numpy()
    pairs = pd.DataFrame({"lo": lo, "hi": hi, "length": roads["length"].to_numpy()})
    pairs = pairs[pairs["lo"] != pairs["hi"]].groupby(["lo", "hi"], as_index=False).min()
    graph = nx.Graph()
    graph.add_nodes_from(np.unique(np.r_[roads["u"], roads["v"]]).tolist())
    graph.add_weighted_edges_from(pairs.itertuples(index=False, name=None), weight="length")
    lookup = nx_betweenness(graph, 25, seed=4)
    want = [lookup.get(frozenset((a, b)), 0.0) for a, b in zip(lo, hi, strict=True)]
    np.testing.assert_allclose(values, want, atol=1e-12)


def test_betweenness_sample_must_be_a_positive_integer() -> None:
    with pytest.raises(ValueError, match="amostra de intermediação"):
        edge_betweenness(tiny_roads(), sample=0)
    with pytest.raises(ValueError, match="amostra de intermediação"):
        edge_betweenness(tiny_roads(), sample=2.5)  # type: ignore[arg-type]
    values, _ = edge_betweenness(tiny_roads(), sample=200.0)  # type: ignore[arg-type]
    assert values.max() == pytest.approx(40 / 72)


def test_betweenness_of_two_components_and_a_zero_length_edge() -> None:
    # 1-2-3 and 4-5-6 apart (no path between them), 2-3 of length 0 (taken as 1 mm):
    # exact betweenness, n = 6, normalised by n (n - 1) = 30 ordered pairs. 1-2 carries
    # 1-2, 1-3 both ways (4 / 30); 2-3 carries 1-3, 2-3 both ways (4 / 30); alike 4-5, 5-6.
    roads = pd.DataFrame({"u": [1, 2, 4, 5], "v": [2, 3, 5, 6], "length": [10.0, 0.0, 7, 7]})
    values, percentile = edge_betweenness(roads, sample=6)
    np.testing.assert_allclose(values, [4 / 30] * 4, rtol=1e-12)
    assert percentile.tolist() == [100.0] * 4


def test_unit_lower_matrix_of_a_tree_and_of_a_dag() -> None:
    from geo_ip.network.betweenness import _unit_lower

    # a tree of 4 nodes, root 3 (last): 0 and 1 under 2, 2 under 3 (values 0.5, 2, 4)
    tree = _unit_lower(
        np.array([2, 2, 3]), np.array([1, 0, 2]), np.array([2.0, 0.5, 4.0]), 4, tree=True
    )
    expected = [[1, 0, 0, 0], [0, 1, 0, 0], [-0.5, -2, 1, 0], [0, 0, -4, 1]]
    np.testing.assert_array_equal(tree.toarray(), expected)
    assert tree.nnz == 7 and tree.has_canonical_format
    # two parents for node 0 (a tie): the general layout, the same rule
    dag = _unit_lower(
        np.array([1, 2, 3]), np.array([0, 0, 1]), np.array([1.0, 1.0, 3.0]), 4, tree=False
    )
    expected = [[1, 0, 0, 0], [-1, 1, 0, 0], [-1, 0, 1, 0], [0, -3, 0, 1]]
    np.testing.assert_array_equal(dag.toarray(), expected)


def test_betweenness_counted_on_two_cores_equals_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import geo_ip.network.betweenness as betweenness

    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(8, 8))
    lengths = np.random.default_rng(5).integers(1, 4, grid.number_of_edges()).astype(float)
    roads = pd.DataFrame(
        {"u": [a for a, _ in grid.edges()], "v": [b for _, b in grid.edges()], "length": lengths}
    )
    one_pass, _ = edge_betweenness(roads, sample=20, seed=1, parallel=False)
    monkeypatch.setattr(betweenness, "PARALLEL_ABOVE_EDGES", 10)
    monkeypatch.setattr(betweenness, "cores", lambda: 2)
    started: list[str] = []
    real_start = betweenness.start

    def spy(function: Any, *args: Any, **kwargs: Any) -> object:
        started.append(f"{function.__module__}.{function.__qualname__}")
        return real_start(function, *args, **kwargs)

    monkeypatch.setattr(betweenness, "start", spy)
    halves, _ = edge_betweenness(roads, sample=20, seed=1)
    assert started == ["geo_ip.network.betweenness._source_counts"]  # the second half elsewhere
    np.testing.assert_allclose(halves, one_pass, rtol=1e-12)
    assert halves.max() > 0


# ------------------------------------------------------------- betweenness of the territory


def _tiny_roads() -> gpd.GeoDataFrame:
    """A path a-b-c-d plus a spur b-e, 100 m edges (node ids 1..5)."""
    pairs = [(1, 2), (2, 3), (3, 4), (2, 5)]
    xy = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (100, 100)}
    return gpd.GeoDataFrame(
        {"u": [a for a, _ in pairs], "v": [b for _, b in pairs], "key": 0,
         "length": 100.0, "highway": "residential"},
        geometry=[LineString([xy[a], xy[b]]) for a, b in pairs],
        crs="EPSG:31983",
    )  # fmt: skip


def test_stored_betweenness_is_used_only_when_computed_the_same_way() -> None:
    from geo_ip.network.betweenness import add_betweenness, stored_betweenness

    roads = _tiny_roads()
    record = add_betweenness(roads, sample=5)
    assert record == {"amostra": 5, "semente": 0, "arestas": 4}
    # every node a source (exact): b-c lies on the paths a-c, a-d, e-c, e-d, b-c, b-d
    # = 6 of the C(5,2) = 10 pairs; a-b on a-b, a-c, a-d, a-e = 4; c-d on 4; b-e on 4
    np.testing.assert_allclose(roads["intermediacao"], [0.4, 0.6, 0.4, 0.4])
    np.testing.assert_allclose(roads["intermediacao_percentil"], [75.0, 100.0, 75.0, 75.0])
    values, pct = stored_betweenness(roads, record, sample=5)  # type: ignore[misc]
    np.testing.assert_array_equal(values, roads["intermediacao"])
    np.testing.assert_array_equal(pct, roads["intermediacao_percentil"])
    assert stored_betweenness(roads, record, sample=4) is None  # other rules
    assert stored_betweenness(roads, record, sample=5, seed=1) is None
    assert stored_betweenness(roads.iloc[:3], record, sample=5) is None  # other layer
    assert stored_betweenness(roads, None, sample=5) is None  # territory of before
    holed = roads.copy()
    holed.loc[1, "intermediacao"] = np.nan
    assert stored_betweenness(holed, record, sample=5) is None


def test_territory_stores_the_betweenness_the_assessment_would_compute(
    demo_territory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.evidence import context as context_mod
    from geo_ip.network.betweenness import edge_betweenness
    from geo_ip.territory.reader import read_metadata

    sample = int(load_rules("demo").avaliacao.amostra_intermediacao.valor)
    vias = read_layer(demo_territory, "vias")
    assert read_metadata(demo_territory)["intermediacao"] == {
        "amostra": sample, "semente": 0, "arestas": len(vias)
    }  # fmt: skip
    values, pct = edge_betweenness(vias, sample=sample)
    np.testing.assert_array_equal(vias["intermediacao"], values)
    np.testing.assert_array_equal(vias["intermediacao_percentil"], pct)

    calls: list[int] = []

    def counted(roads: pd.DataFrame, *, sample: int, seed: int = 0) -> tuple[np.ndarray, ...]:
        calls.append(sample)
        return edge_betweenness(roads, sample=sample, seed=seed)

    monkeypatch.setattr(context_mod, "edge_betweenness", counted)
    stored = context_mod.Context.from_territory(demo_territory, betweenness_sample=sample)
    assert calls == []  # read from the territory
    np.testing.assert_array_equal(stored.betweenness, values)
    other = context_mod.Context.from_territory(demo_territory, betweenness_sample=7)
    assert calls == [7]  # other rules: computed
    assert not np.array_equal(other.betweenness, values)
