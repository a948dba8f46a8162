"""Path to the grid: hand-checked values on a tiny street grid, the demo, and a naive oracle."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo_ip.network.gridgraph import ATTACHMENT_KEY, ATTACHMENT_TABLE, Attachment
from geo_ip.network.gridpath import GRIDPATH_COLUMNS, GridNetwork, grid_paths
from geo_ip.network.kernels import nearest
from geo_ip.network.roads import RoadIndex
from geo_ip.rules.config import load_rules
from geo_ip.territory.build import GridSource, build_territory
from geo_ip.territory.reader import read_grid_attachment, read_layer, read_metadata
from tests.conftest import DEMO
from tests.nx_reference import LV, MT, NxReference

CRS = "EPSG:31983"
RULES = {"lv_reach_m": 300.0, "detour_factor": 1.3, "allow_mt": True}
SNAP_MAX = 150.0


def node_id(col: int, row: int) -> int:
    return 10 * row + col + 1


def xy(node: int) -> tuple[float, float]:
    extra = {100: (1000.0, 0.0), 101: (1100.0, 0.0), 31: (300.0, 0.0), 41: (400.0, 0.0)}
    if node in extra:  # the isolated street and the zero-length link
        return extra[node]
    row, col = divmod(node - 1, 10)
    return 100.0 * col, 100.0 * row


def make_roads() -> gpd.GeoDataFrame:
    """Streets every 100 m, nodes (0..300) x (0..200): 3 x 2 blocks, ids 10*row + col + 1.

    Plus a zero-length link 4-31 at (300, 0), a street 31-41 to (400, 0), and an isolated
    street 100-101 from (1000, 0) to (1100, 0). Every street is two-way (both directions
    stored, geometry reversed) except 1-2, stored only as 2 -> 1.
    """
    pairs = [(node_id(c, r), node_id(c + 1, r)) for r in range(3) for c in range(3)]
    pairs += [(node_id(c, r), node_id(c, r + 1)) for r in range(2) for c in range(4)]
    pairs += [(4, 31), (31, 41), (100, 101)]
    rows = []
    for u, v in pairs:
        line = LineString([xy(u), xy(v)])
        if (u, v) == (1, 2):
            rows.append((v, u, line.reverse()))
            continue
        rows += [(u, v, line), (v, u, line.reverse())]
    return gpd.GeoDataFrame(
        {
            "u": [r[0] for r in rows],
            "v": [r[1] for r in rows],
            "key": 0,
            "length": [r[2].length for r in rows],
            "name": "Rua",
            "hierarquia": "local",
            "geometry": [r[2] for r in rows],
        },
        crs=CRS,
    )


ROADS = make_roads()


def make_grid(*elements: tuple[str, str, object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "fonte": ["bdgd"] * len(elements),
            "tipo": [e[0] for e in elements],
            "id_origem": [e[1] for e in elements],
            "tensao_v": np.nan,
            "geometry": [e[2] for e in elements],
        },
        geometry="geometry",
        crs=CRS,
    )


def snap(points: list[tuple[float, float]], roads: gpd.GeoDataFrame = ROADS) -> pd.DataFrame:
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    snapped = RoadIndex(roads).snap(x, y, SNAP_MAX)
    return pd.concat([pd.DataFrame({"x": x, "y": y}), snapped], axis=1)


def check_invariants(table: pd.DataFrame, paths: gpd.GeoSeries) -> None:
    assert list(table.columns) == GRIDPATH_COLUMNS
    found = table["distancia_rede_m"].notna()
    assert (
        table.loc[found, "distancia_rede_reta_m"] <= table.loc[found, "distancia_rede_m"] + 1e-6
    ).all()
    via = table["metodo_distancia"] == "via"
    assert paths[via].length.to_numpy() == pytest.approx(
        table.loc[via, "distancia_rede_m"].to_numpy(), abs=1e-4
    )
    assert paths[~found].isna().all() and paths[found].notna().all()


POLE = ("poste", "P1", Point(150, 5))  # 5 m north of street 2-3, 50 m from node 2


def test_pole_mid_edge_to_request_mid_other_edge() -> None:
    requests = snap([(50, 103)])  # on street 11-12, 50 m from node 11
    table, paths = grid_paths(ROADS, make_grid(POLE), requests, **RULES)
    check_invariants(table, paths)
    row = table.iloc[0]
    # pole -> (150, 0): 5; -> node 2 (100, 0): 50; -> node 12 (100, 100): 100; -> (50, 100): 50
    assert row.distancia_rede_m == pytest.approx(205)
    assert row.metodo_distancia == "via"
    assert (row.rede_alvo_tipo, row.rede_alvo_id) == ("poste", "bdgd:P1")
    assert not row.transformador
    assert row.distancia_rede_reta_m == pytest.approx(math.hypot(100, 95))
    coords = np.asarray(paths.iloc[0].coords)
    assert coords == pytest.approx(np.array([[150, 5], [150, 0], [100, 0], [100, 100], [50, 100]]))


def test_request_on_the_same_edge_as_the_pole() -> None:
    # Both directions of street 2-3 and the one-way-stored street: |s - t| + attach, not via a node.
    requests = pd.DataFrame(
        {
            "x": [180.0, 180.0, 120.0],
            "y": [0.0, 0.0, 0.0],
            "aresta_u": pd.array([2, 3, 2], dtype="Int64"),
            "aresta_v": pd.array([3, 2, 3], dtype="Int64"),
            "aresta_key": pd.array([0, 0, 0], dtype="Int64"),
            "posicao_aresta_m": [80.0, 20.0, 20.0],
            "x_via": [180.0, 180.0, 120.0],
            "y_via": [0.0, 0.0, 0.0],
            "fora_da_malha": False,
        },
        index=[10, 20, 30],
    )
    table, paths = grid_paths(ROADS, make_grid(POLE), requests, **RULES)
    check_invariants(table, paths)
    assert list(table.index) == [10, 20, 30] and list(paths.index) == [10, 20, 30]
    assert table["distancia_rede_m"].tolist() == pytest.approx([35, 35, 35])
    assert np.asarray(paths[10].coords) == pytest.approx(np.array([[150, 5], [150, 0], [180, 0]]))
    assert np.asarray(paths[30].coords) == pytest.approx(np.array([[150, 5], [150, 0], [120, 0]]))
    # on the one-way street 1-2 (stored 2 -> 1): via node 2 (55 m) plus 30 m
    table, paths = grid_paths(ROADS, make_grid(POLE), snap([(70, 0)]), **RULES)
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(85)
    assert np.asarray(paths.iloc[0].coords)[-1].tolist() == pytest.approx([70, 0])


def test_bt_line_along_a_street() -> None:
    bt = ("bt", "B1", LineString([(0, 205), (300, 205)]))  # 5 m north of the top street
    requests = snap([(3, 150), (120, 203), (250, 0)])
    table, paths = grid_paths(ROADS, make_grid(bt), requests, **RULES)
    check_invariants(table, paths)
    assert set(table["rede_alvo_id"]) == {"bdgd:B1"}
    assert set(table["rede_alvo_tipo"]) == {"bt"}
    # (0, 150): up to node 21 then 5 m to the line
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(55)
    # under the line: the sample right above it, 5 m
    assert table["distancia_rede_m"].iloc[1] == pytest.approx(5)
    assert table["distancia_rede_reta_m"].iloc[1] == pytest.approx(5)
    # (250, 0): 50 m to node 3 or 4, 200 m up, 5 m to the line
    assert table["distancia_rede_m"].iloc[2] == pytest.approx(255)
    assert paths.iloc[2].coords[-1] == pytest.approx((250, 0))
    assert paths.iloc[2].coords[0][1] == pytest.approx(205)


@pytest.mark.parametrize(
    ("allow_mt", "reach", "expected"),
    [
        (True, 300.0, (5.0, "mt", "bdgd:M1", True)),  # LV 305 > 300 and MT shorter
        (False, 300.0, (305.0, "poste", "bdgd:P1", True)),  # MT not allowed: LV + transformer
        (True, 310.0, (305.0, "poste", "bdgd:P1", False)),  # LV within reach wins
    ],
)
def test_mt_and_the_transformer_rule(
    allow_mt: bool, reach: float, expected: tuple[float, str, str, bool]
) -> None:
    mt = ("mt", "M1", LineString([(0, 205), (300, 205)]))
    requests = snap([(250, 200)])  # street 23-24; LV: 255 to node 23 + 50
    table, paths = grid_paths(
        ROADS,
        make_grid(POLE, mt),
        requests,
        lv_reach_m=reach,
        detour_factor=1.3,
        allow_mt=allow_mt,
    )
    check_invariants(table, paths)
    row = table.iloc[0]
    got = (row.distancia_rede_m, row.rede_alvo_tipo, row.rede_alvo_id, row.transformador)
    assert got == pytest.approx(expected)
    assert row.metodo_distancia == "via"


@pytest.mark.parametrize(
    ("mt_start", "expected"),
    [
        # the MT line's sample at (150, 5) is the pole: a tie at 305 m goes to LV
        (150.0, (305.0, "poste", "bdgd:P1")),
        # a millimetre nearer, MT is shorter and wins (the tie weight is 1 µm)
        (150.001, (304.999, "mt", "bdgd:M1")),
    ],
)
def test_lv_wins_a_tie_with_mt_beyond_the_reach(
    mt_start: float, expected: tuple[float, str, str]
) -> None:
    mt = ("mt", "M1", LineString([(mt_start, 5), (140, 5)]))
    # the MT line first: its samples come before the pole's, so ties are not won by order
    table, paths = grid_paths(ROADS, make_grid(mt, POLE), snap([(250, 200)]), **RULES)
    check_invariants(table, paths)
    row = table.iloc[0]
    assert (row.distancia_rede_m, row.rede_alvo_tipo, row.rede_alvo_id) == (
        pytest.approx(expected[0], abs=1e-9),
        *expected[1:],
    )
    assert row.transformador and row.metodo_distancia == "via"
    assert paths.iloc[0].coords[0] == pytest.approx((mt_start, 5))


def test_only_mt_reachable() -> None:
    mt = ("mt", "M1", LineString([(0, 205), (300, 205)]))
    table, _ = grid_paths(ROADS, make_grid(mt), snap([(0, 50)]), **RULES)
    row = table.iloc[0]
    assert (row.distancia_rede_m, row.rede_alvo_tipo, row.transformador) == pytest.approx(
        (155, "mt", True)
    )
    table, _ = grid_paths(ROADS, make_grid(mt), snap([(0, 50)]), **{**RULES, "allow_mt": False})
    assert table["metodo_distancia"].iloc[0] == "sem_rede"
    assert np.isnan(table["distancia_rede_m"].iloc[0])


def test_disconnected_component_far_request_and_no_location() -> None:
    # (1050, 0) on the isolated street; (600, 600) beyond the network; no location.
    requests = snap([(1050, 2), (600, 600), (np.nan, np.nan)])
    assert requests["fora_da_malha"].tolist() == [False, True, False]
    table, paths = grid_paths(ROADS, make_grid(POLE), requests, **RULES)
    check_invariants(table, paths)
    straight = math.hypot(900, 5)
    assert table["metodo_distancia"].tolist() == ["reta_fator_desvio"] * 2 + ["sem_localizacao"]
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(straight * 1.3)
    assert table["distancia_rede_reta_m"].iloc[0] == pytest.approx(straight)
    assert table["rede_alvo_id"].iloc[0] == "bdgd:P1"
    assert table["transformador"].iloc[0]  # 1170 m > 300 m of low voltage
    assert paths.iloc[0].length == pytest.approx(straight)
    assert paths.iloc[0].coords[0] == pytest.approx((150, 5))
    assert paths.iloc[0].coords[-1] == pytest.approx((1050, 0))  # the snapped point
    # fora_da_malha: measured from the request's own point, not from the road
    far = math.hypot(450, 595)
    assert table["distancia_rede_reta_m"].iloc[1] == pytest.approx(far)
    assert table["distancia_rede_m"].iloc[1] == pytest.approx(far * 1.3)
    assert paths.iloc[1].coords[-1] == pytest.approx((600, 600))
    last = table.iloc[2]
    assert np.isnan(last.distancia_rede_m) and np.isnan(last.distancia_rede_reta_m)
    assert pd.isna(last.rede_alvo_id) and not last.transformador and paths.iloc[2] is None


def test_empty_grid() -> None:
    requests = snap([(50, 0), (np.nan, 1.0)])
    table, paths = grid_paths(ROADS, make_grid(), requests, **RULES)
    assert table["metodo_distancia"].tolist() == ["sem_rede", "sem_localizacao"]
    assert table["distancia_rede_m"].isna().all() and paths.isna().all()
    assert not table["transformador"].any()


def test_zero_length_edge_and_element_on_a_node() -> None:
    # The pole sits exactly on node 4 (300, 0); the link 4-31 has length 0.
    pole = ("poste", "P4", Point(300, 0))
    requests = snap([(350, 1), (300, 0), (300, 40)])
    table, paths = grid_paths(ROADS, make_grid(pole), requests, **RULES)
    check_invariants(table, paths)
    assert table["metodo_distancia"].tolist() == ["via"] * 3
    assert table["distancia_rede_m"].tolist() == pytest.approx([50, 0, 40], abs=1e-4)
    assert paths.iloc[0].coords[0] == pytest.approx((300, 0))
    assert paths.iloc[0].coords[-1] == pytest.approx((350, 0))
    assert paths.iloc[1].length == pytest.approx(0, abs=1e-4)
    # a pole at the far end of 31-41: the path crosses the zero-length link 31-4
    table, _ = grid_paths(
        ROADS, make_grid(("poste", "P5", Point(400, 0))), snap([(250, 0)]), **RULES
    )
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(150, abs=1e-4)


def test_element_far_from_roads_is_only_used_in_straight_line() -> None:
    lost = ("transformador", "T9", Point(150, 400))  # 200 m from the top street
    table, _ = grid_paths(ROADS, make_grid(lost), snap([(150, 190)]), **RULES)
    assert table["metodo_distancia"].iloc[0] == "reta_fator_desvio"
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(200 * 1.3)
    table, _ = grid_paths(ROADS, make_grid(lost), snap([(150, 190)]), **RULES, max_attach_m=250.0)
    assert table["metodo_distancia"].iloc[0] == "via"
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(200)


def with_streets(*streets: tuple[int, int, int, LineString]) -> gpd.GeoDataFrame:
    """ROADS plus two-way streets (u, v, key, geometry from u to v)."""
    rows = []
    for u, v, key, line in streets:
        rows += [(u, v, key, line), (v, u, key, line.reverse())]
    extra = gpd.GeoDataFrame(
        {
            "u": [r[0] for r in rows],
            "v": [r[1] for r in rows],
            "key": [r[2] for r in rows],
            "length": [r[3].length for r in rows],
            "name": "Rua",
            "hierarquia": "local",
            "geometry": [r[3] for r in rows],
        },
        crs=CRS,
    )
    return gpd.GeoDataFrame(pd.concat([ROADS, extra], ignore_index=True), crs=CRS)


def test_parallel_edge_and_loop() -> None:
    curve = LineString([(0, 0), (-50, 50), (0, 100)])  # a second street between nodes 1 and 11
    loop = LineString([(300, 200), (350, 200), (350, 250), (300, 250), (300, 200)])  # at 24
    roads = with_streets((1, 11, 1, curve), (24, 24, 1, loop))
    requests = snap([(-52, 50), (352, 225)], roads)
    assert requests["aresta_key"].tolist() == [1, 1]
    table, paths = grid_paths(roads, make_grid(POLE), requests, **RULES)
    check_invariants(table, paths)
    # node 1 at 155 m from the pole, then 50 * sqrt(2) along the curve
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(155 + 50 * math.sqrt(2))
    # node 24 at 355 m, then the shorter way round the loop: 50 + 25
    assert table["distancia_rede_m"].iloc[1] == pytest.approx(430)
    assert table["transformador"].iloc[1]
    # a pole on the loop's far side: same edge for the loop request, via node 24 for the others
    on_loop = ("poste", "P9", Point(325, 255))
    requests = snap([(352, 225), (250, 198)], roads)
    table, paths = grid_paths(roads, make_grid(on_loop), requests, **RULES)
    check_invariants(table, paths)
    assert table["distancia_rede_m"].tolist() == pytest.approx([55, 130])
    assert np.asarray(paths.iloc[1].coords) == pytest.approx(
        np.array([[325, 255], [325, 250], [300, 250], [300, 200], [250, 200]])
    )


def test_no_roads_at_all() -> None:
    requests = snap([(1050, 2)])
    # the request still names an edge of ROADS: unknown to this network, straight line
    table, paths = grid_paths(ROADS.iloc[:0], make_grid(POLE), requests, **RULES)
    assert table["metodo_distancia"].iloc[0] == "reta_fator_desvio"
    assert table["distancia_rede_m"].iloc[0] == pytest.approx(math.hypot(900, 5) * 1.3)
    assert paths.iloc[0].length == pytest.approx(math.hypot(900, 5))


def test_crs_mismatch() -> None:
    with pytest.raises(ValueError, match="CRS"):
        GridNetwork(ROADS, make_grid(POLE).set_crs("EPSG:4326", allow_override=True))


def test_network_distance_is_never_below_the_straight_distance() -> None:
    rng = np.random.default_rng(7)
    grid = make_grid(
        POLE,
        ("ponto_ip", "I1", Point(12, 96)),
        ("bt", "B1", LineString([(200, 105), (200, 195), (290, 195)])),
        ("mt", "M1", LineString([(-5, 0), (-5, 200)])),
    )
    network = GridNetwork(ROADS, grid)
    points = rng.uniform([-20, -20], [420, 220], size=(400, 2))
    requests = snap([tuple(p) for p in points])
    for allow in (True, False):
        table, paths = network.paths(requests, lv_reach_m=120, detour_factor=1.3, allow_mt=allow)
        check_invariants(table, paths)
        via = table["metodo_distancia"] == "via"
        assert via.sum() > 300
        ends = np.array([p.coords[-1] for p in paths[via]])
        assert ends == pytest.approx(requests.loc[via, ["x_via", "y_via"]].to_numpy())
        starts = shapely.points(np.array([p.coords[0] for p in paths[via]]))
        assert (shapely.distance(starts, grid.union_all()) < 1e-6).all()


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="fator_desvio"):
        grid_paths(ROADS, make_grid(POLE), snap([(0, 0)]), **{**RULES, "detour_factor": 0.9})
    with pytest.raises(ValueError, match="posicao_aresta_m"):
        grid_paths(ROADS, make_grid(POLE), snap([(0, 0)]).drop(columns="posicao_aresta_m"), **RULES)


# ---------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    out = tmp_path_factory.mktemp("demo") / "territorio.gpkg"
    report = build_territory(
        out,
        rules=load_rules("demo"),
        osm=DEMO / "municipio_demo.osm",
        grids=[GridSource(DEMO / "rede_demo.gpkg")],
        dem=DEMO / "mdt_demo.tif",
    )
    return read_layer(report.path, "vias"), read_layer(report.path, "rede_existente")


def demo_rules() -> dict[str, float | bool]:
    rede = load_rules("demo").rede
    return {
        "lv_reach_m": rede.alcance_bt.valor,
        "detour_factor": rede.fator_desvio.valor,
        "allow_mt": rede.usar_mt_com_transformador,
    }


def test_demo_centro_and_vila_nova(demo: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    roads, grid = demo
    by_name = roads.dissolve("name").geometry
    centro = by_name["Rua Getúlio Vargas"].interpolate(0.5, normalized=True)
    vila_nova = by_name["Rua Bela Vista"].interpolate(0.5, normalized=True)
    projetada = by_name["Rua Projetada Um"].interpolate(0.5, normalized=True)
    requests = snap([(p.x, p.y + 8) for p in (centro, vila_nova, projetada)], roads)
    table, paths = grid_paths(roads, grid, requests, **demo_rules())
    check_invariants(table, paths)
    assert table["metodo_distancia"].tolist() == ["via", "via", "reta_fator_desvio"]
    assert table["distancia_rede_m"].iloc[0] < 50
    assert not table["transformador"].iloc[0]
    assert table["rede_alvo_tipo"].iloc[0] in {"bt", "poste", "ponto_ip", "transformador"}
    assert table["distancia_rede_m"].iloc[1] > 200
    assert table["distancia_rede_m"].iloc[1] > table["distancia_rede_reta_m"].iloc[1]
    assert table["distancia_rede_m"].iloc[2] == pytest.approx(
        table["distancia_rede_reta_m"].iloc[2] * 1.3
    )


def naive_distances(
    roads: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    requests: pd.DataFrame,
    *,
    mt: bool,
    max_attach_m: float = 60.0,
    step: float = 10.0,
) -> list[float]:
    """Oracle: split the roads at every attachment, one networkx Dijkstra per request."""
    ref = NxReference(roads, grid, MT if mt else LV, max_attach_m=max_attach_m, step=step)
    return [r.cost for r in ref.distances(roads, requests)]


def test_demo_one_pass_equals_naive_search(
    demo: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    roads, grid = demo
    rng = np.random.default_rng(2026)
    lo, hi = roads.total_bounds[:2], roads.total_bounds[2:]
    anywhere = rng.uniform(lo, hi, size=(40, 2))
    # and around grid elements, where the request often shares an edge with the grid
    elements = shapely.get_coordinates(grid.geometry.centroid.sample(10, random_state=3))
    near = elements + rng.uniform(-40, 40, size=elements.shape)
    requests = snap([tuple(p) for p in np.vstack([near, anywhere])], roads)
    requests = requests[requests["aresta_u"].notna() & ~requests["fora_da_malha"]].head(20)
    assert len(requests) == 20
    network = GridNetwork(roads, grid)
    lv, _ = network.paths(requests, lv_reach_m=1e9, detour_factor=1.3, allow_mt=False)
    mt_network = GridNetwork(roads, grid[grid["tipo"] == "mt"])
    mt, _ = mt_network.paths(requests, lv_reach_m=0, detour_factor=1.3, allow_mt=True)
    for table, is_mt in ((lv, False), (mt, True)):
        expected = naive_distances(roads, grid, requests, mt=is_mt)
        via = table["metodo_distancia"] == "via"
        assert via.to_numpy().tolist() == [math.isfinite(e) for e in expected]
        got = table["distancia_rede_m"].to_numpy()[via.to_numpy()]
        want = np.array(expected)[via.to_numpy()]
        assert got == pytest.approx(want, abs=1e-3)


def test_demo_straight_never_exceeds_network(
    demo: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    roads, grid = demo
    rng = np.random.default_rng(1)
    lo, hi = roads.total_bounds[:2], roads.total_bounds[2:]
    requests = snap([tuple(p) for p in rng.uniform(lo, hi, size=(500, 2))], roads)
    table, paths = grid_paths(roads, grid, requests, **demo_rules())
    check_invariants(table, paths)
    far = requests["fora_da_malha"]
    assert (table.loc[far, "metodo_distancia"] == "reta_fator_desvio").all()
    assert (table.loc[~far, "metodo_distancia"] == "via").mean() > 0.9
    # the only snapped requests without a road to the grid are on the isolated components
    isolated = roads.loc[roads["componente"] != 0, "u"]
    reta = table["metodo_distancia"].eq("reta_fator_desvio") & ~far
    assert requests.loc[reta, "aresta_u"].isin(isolated).all()


# --- attachment stored in the territory ---------------------------------------------------

BT_LINE = ("bt", "L1", LineString([(10, 205), (30, 205)]))  # 5 m north of street 21-22


def test_attachment_table_holds_each_sample_on_its_edge() -> None:
    network = GridNetwork(ROADS, make_grid(POLE, BT_LINE))
    stored = network.attachment()
    table = stored.table
    assert list(table.columns) == ["aresta", "posicao_m", "distancia_m"]
    # the pole, then the line's two vertices and its sample at 10 m (step 10 m)
    assert len(table) == 4
    ends = [
        (int(network.nodes[network._a[e]]), int(network.nodes[network._b[e]]))
        for e in table["aresta"]
    ]
    assert ends == [(2, 3), (21, 22), (21, 22), (21, 22)]
    assert table["posicao_m"].tolist() == pytest.approx([50, 10, 20, 30])
    assert table["distancia_m"].tolist() == pytest.approx([5, 5, 5, 5])
    assert set(stored.record) == {"distancia_maxima_m", "passo_m", "vias", "amostras"}
    assert (stored.record["distancia_maxima_m"], stored.record["passo_m"]) == (60.0, 10.0)


def test_attachment_in_blocks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import geo_ip.network.gridgraph

    grid = make_grid(POLE, BT_LINE, ("poste", "P2", Point(250, 104)))
    whole = GridNetwork(ROADS, grid).attachment()
    monkeypatch.setattr(geo_ip.network.gridgraph, "_ATTACH_BLOCK", 2)  # 5 samples: 3 blocks
    blocks = GridNetwork(ROADS, grid).attachment()
    assert blocks.record == whole.record
    pd.testing.assert_frame_equal(blocks.table, whole.table)
    assert blocks.table["distancia_m"].tolist() == pytest.approx([5, 5, 5, 5, 4])


def test_stored_attachment_is_used_and_gives_the_same_paths(
    caplog: pytest.LogCaptureFixture,
) -> None:
    grid = make_grid(POLE, BT_LINE)
    requests = snap([(50, 103), (250, 195), (1050, 4)])
    fresh = GridNetwork(ROADS, grid)
    want, want_paths = fresh.paths(requests, **RULES)
    stored = fresh.attachment()
    stored = Attachment(dict(stored.record), stored.table.copy())
    with caplog.at_level("INFO", logger="geo_ip"):
        network = GridNetwork(ROADS, grid, stored=stored)
    assert "ligação da rede existente às vias lida do território" in caplog.text
    got, got_paths = network.paths(requests, **RULES)
    pd.testing.assert_frame_equal(got, want)
    assert got["metodo_distancia"].tolist() == ["via", "via", "reta_fator_desvio"]
    assert got_paths.geom_equals_exact(want_paths, 0).all()


@pytest.mark.parametrize(
    "change",
    ["pole moved", "road removed", "reach", "step", "edge out of range", "rows missing"],
)
def test_stale_stored_attachment_is_recomputed(
    change: str, caplog: pytest.LogCaptureFixture
) -> None:
    grid, roads = make_grid(POLE, BT_LINE), ROADS
    stored = GridNetwork(roads, grid).attachment()
    table = stored.table.copy()
    options: dict[str, float] = {}
    if change == "pole moved":
        grid = make_grid(("poste", "P1", Point(150, 195)), BT_LINE)  # now on street 22-23
    elif change == "road removed":
        roads = ROADS[~((ROADS["u"] == 100) & (ROADS["v"] == 101))]
    elif change == "reach":
        options = {"max_attach_m": 4.0}  # every element is 5 m away: none attached
    elif change == "step":
        options = {"sample_step_m": 5.0}
    elif change == "edge out of range":
        table.loc[0, "aresta"] = 10_000
    else:
        table = table.iloc[:-1]
    with caplog.at_level("INFO", logger="geo_ip"):
        network = GridNetwork(roads, grid, stored=Attachment(stored.record, table), **options)
    assert "não corresponde às vias, à rede ou às regras atuais: recalculada" in caplog.text
    requests = snap([(50, 103), (250, 195)], roads)
    got, _ = network.paths(requests, **RULES)
    want, _ = GridNetwork(roads, grid, **options).paths(requests, **RULES)
    pd.testing.assert_frame_equal(got, want)
    if change == "pole moved":  # along street 22-23 from (150, 200) to (250, 200): 5 + 100
        assert got["distancia_rede_m"].iloc[1] == pytest.approx(105)
    if change == "reach":
        assert got["metodo_distancia"].tolist() == ["reta_fator_desvio"] * 2


def test_territory_stores_the_attachment_the_assessment_reads(
    demo_territory: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored = read_grid_attachment(demo_territory)
    assert stored is not None
    assert read_metadata(demo_territory)[ATTACHMENT_KEY] == stored.record
    assert (
        stored.record["distancia_maxima_m"]
        == load_rules("demo").rede.distancia_maxima_rede_via.valor
    )
    roads, grid = read_layer(demo_territory, "vias"), read_layer(demo_territory, "rede_existente")
    fresh = GridNetwork(roads, grid).attachment()
    assert stored.record == fresh.record
    pd.testing.assert_frame_equal(stored.table, fresh.table, check_dtype=False)
    assert (stored.table["aresta"] >= 0).sum() > 100
    with caplog.at_level("INFO", logger="geo_ip"):
        GridNetwork(roads, grid, stored=stored)
    assert "lida do território" in caplog.text
    info = pyogrio.read_info(demo_territory, layer=ATTACHMENT_TABLE)
    assert info["geometry_type"] is None and info["features"] == len(fresh.table)


# ------------------------------------------------------------------ nearest-geometry kernel


def _lowest_nearest(tree: shapely.STRtree, pts: np.ndarray, max_distance: float | None) -> dict:
    """GEOS's nearest search, reduced to the lowest tree index per point (the reference)."""
    (src, hit), d = tree.query_nearest(
        pts, max_distance=max_distance, return_distance=True, all_matches=True
    )
    out: dict[int, tuple[int, float]] = {}
    for p, h, dist in zip(src.tolist(), hit.tolist(), d.tolist(), strict=True):
        if p not in out or h < out[p][0]:
            out[p] = (h, dist)
    return out


def test_nearest_kernel_by_hand_with_a_wrong_bound() -> None:
    # two points at the origin (a pole and its lamp) and a line at x = 10
    geoms = [Point(0, 0), Point(0, 0), LineString([(10, -5), (10, 5)])]
    tree = shapely.STRtree(geoms)
    x, y = np.array([4.0, 8.0, 300.0]), np.array([0.0, 0.0, 0.0])
    want = ([0, 1, 2], [0, 2, 2], [4.0, 2.0, 290.0])
    for bound in (None, np.array([4.0, 2.0, 290.0]), np.array([1.0, 0.0, 3.0])):
        point, hit, d = nearest(tree, x, y, None, bound=bound)
        assert (point.tolist(), hit.tolist(), d.tolist()) == want
    # a wrong bound does not hide what lies within max_distance; beyond it, nothing
    point, hit, d = nearest(tree, x, y, 5.0, bound=np.array([1.0, 0.0, 3.0]))
    assert (point.tolist(), hit.tolist(), d.tolist()) == ([0, 1], [0, 2], [4.0, 2.0])


@pytest.mark.parametrize("max_distance", [None, 40.0])
def test_nearest_kernel_equals_geos_with_bounds_and_threads(
    max_distance: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo_ip.network.kernels as kernels

    rng = np.random.default_rng(11)
    poles = rng.uniform(0, 1000, (300, 2))
    points = [Point(p) for p in poles] + [Point(p) for p in poles[:50]]  # lamps on poles
    starts = rng.uniform(0, 1000, (80, 2))
    lines = [LineString([a, a + rng.normal(0, 30, 2)]) for a in starts]
    tree = shapely.STRtree(points + lines)
    xy_ = np.vstack([rng.uniform(-200, 1200, (400, 2)), poles[:20]])
    pts = shapely.points(xy_)
    want = _lowest_nearest(tree, pts, max_distance)
    true_d = np.array([want[i][1] if i in want else np.inf for i in range(len(xy_))])
    bounds = {
        "none": None,
        "loose": true_d * 1.5 + 1.0,
        "wrong": true_d / 3,
        "mixed": np.where(rng.uniform(size=len(xy_)) < 0.5, true_d / 3, np.inf),
    }
    monkeypatch.setattr(kernels, "THREADED_ABOVE", 50)  # 420 points: 2 threads
    for bound in bounds.values():
        for threads in (1, 2):
            point, hit, d = nearest(
                tree, xy_[:, 0], xy_[:, 1], max_distance, bound=bound, threads=threads
            )
            assert point.tolist() == sorted(want)
            assert [(h, dd) for h, dd in zip(hit.tolist(), d.tolist(), strict=True)] == [
                want[p] for p in point.tolist()
            ]
