"""The array kernels of issue 7 against their references.

- Grid distances on Porto Alegre: :class:`geo_ip.network.gridpath.GridNetwork` (one scipy
  Dijkstra from a super-source) against a networkx search per request
  (:mod:`tests.nx_reference`), within 1e-6 relative (1e-5 m absolute: zero-length
  edges and attachments weigh 1e-6 m in the kernel).
- ``ranking.rank``, ``eligibility.check``, the path assembly and ``scoring.format_number``
  against the row-by-row code they replaced (:mod:`tests.rowwise_oracle`): exactly.
- The points of a Porto Alegre assessment against the oracles fed with the networkx
  distances.
- The request maps, sheets and workbook drawn by :mod:`geo_ip._util.parallel`'s workers
  (the pool itself: ``tests/test_parallel.py``).
- :mod:`geo_ip.territory.synthetic` and :mod:`~geo_ip.territory.synthetic_requests`:
  deterministic, at the scale asked.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pypdf import PdfReader
from pyproj import Transformer

from geo_ip.evidence.materials import beneficiaries, bill_of_materials
from geo_ip.law import decisions, eligibility, ranking, scoring
from geo_ip.law.budget import RESERVED, budget_summary
from geo_ip.law.hardship import HARDSHIP_STATUSES
from geo_ip.network.gridpath import GridNetwork
from geo_ip.requests.cpf import cpf_hashes
from geo_ip.requests.history_file import read_history
from geo_ip.requests.locate import locate_requests
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import DECISION_COLUMNS
from geo_ip.territory.reader import read_layer
from tests import rowwise_oracle as oracle
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY, ROOT
from tests.nx_reference import LV, MT, NxReference, Reached, snap

REL, ABS = 1e-6, 1e-5
"""Tolerance of the distances against networkx (relative, absolute in metres)."""


# ------------------------------------------------------------------ Porto Alegre fixtures


@pytest.fixture(scope="module")
def poa(poa_territory: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The roads and the grid (OSM lamps and lit ways) of Porto Alegre."""
    path = poa_territory.path
    return read_layer(path, "vias"), read_layer(path, "rede_existente")


@pytest.fixture(scope="module")
def poa_requests(poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> pd.DataFrame:
    """240 seeded requests over Porto Alegre, then 5 hand-placed ones (last rows).

    200 a few metres off random road points, 40 anywhere in the roads' bounding box
    (some in the Guaíba, far from every road); then: exactly on a lone street lamp, on a
    road junction, on a lit way, in the middle of the lake, and one without location.
    """
    roads, grid = poa
    rng = np.random.default_rng(2026)
    lines = roads.geometry.to_numpy()[rng.integers(0, len(roads), 200)]
    on = shapely.line_interpolate_point(lines, rng.uniform(0, 1, 200), normalized=True)
    near = shapely.get_coordinates(on) + rng.normal(0, 10, (200, 2))
    lo, hi = roads.total_bounds[:2], roads.total_bounds[2:]
    anywhere = rng.uniform(lo, hi, (40, 2))
    lamps = grid[grid["tipo"] == "ponto_ip"].geometry
    lit_ways = grid[grid["tipo"] == "via_iluminada"].geometry.union_all()
    road_gap = shapely.STRtree(roads.geometry.to_numpy()).query_nearest(
        lamps.to_numpy(), return_distance=True, all_matches=False
    )[1]
    alone = (lamps.distance(lit_ways) > 100).to_numpy() & (road_gap < 30)
    lamp = lamps[alone].iloc[0]  # no lit way nearby, within 30 m of a road
    junction = shapely.get_coordinates(roads.geometry.iloc[100])[0]
    lit = grid[grid["tipo"] == "via_iluminada"].geometry.iloc[3].interpolate(0.37, normalized=True)
    # in the Guaíba, 2 km from the nearest road
    lake = Transformer.from_crs("EPSG:4326", roads.crs, always_xy=True).transform(-51.26, -30.05)
    hand = [(lamp.x, lamp.y), tuple(junction), (lit.x, lit.y), lake, (math.nan, math.nan)]
    return snap(roads, [tuple(p) for p in np.vstack([near, anywhere])] + hand)


@pytest.fixture(scope="module")
def poa_lv(poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> NxReference:
    roads, grid = poa
    return NxReference(roads, grid, LV)


def _on_road(requests: pd.DataFrame) -> np.ndarray:
    far = requests["fora_da_malha"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return (requests["aresta_u"].notna().to_numpy() & ~far).astype(bool)


def _straight(grid: gpd.GeoDataFrame, types: tuple[str, ...], points: np.ndarray) -> np.ndarray:
    """Brute force: distance from every point to its nearest grid element of ``types``."""
    elements = grid.geometry.to_numpy()[grid["tipo"].isin(types).to_numpy()]
    pts = np.asarray(shapely.points(points), dtype=object)
    return np.array([shapely.distance(p, elements).min() for p in pts])


def _expected(
    requests: pd.DataFrame,
    grid: gpd.GeoDataFrame,
    lv: list[Reached],
    mt: list[Reached] | None,
    *,
    reach: float,
    factor: float,
) -> pd.DataFrame:
    """The documented rules, row by row, on the reference distances (``mt`` None: no MT)."""
    on = _on_road(requests)
    located = requests[["x", "y"]].notna().all(axis=1).to_numpy()
    origin = np.where(
        (on & requests["x_via"].notna().to_numpy())[:, None],
        requests[["x_via", "y_via"]].to_numpy(dtype=float),
        requests[["x", "y"]].to_numpy(dtype=float),
    )
    rows: list[tuple[Any, ...]] = []
    lv_iter, mt_iter = iter(lv), iter(mt or [])
    straight_lv = _straight(grid, LV, np.nan_to_num(origin))
    straight_mt = _straight(grid, MT, np.nan_to_num(origin)) if mt is not None else None
    for i in range(len(requests)):
        a = next(lv_iter) if on[i] else Reached(math.inf, frozenset())
        b = next(mt_iter) if on[i] and mt is not None else Reached(math.inf, frozenset())
        if not located[i]:
            rows.append(("sem_localizacao", math.nan, math.nan, frozenset(), False))
            continue
        s_lv = straight_lv[i]
        s_mt = straight_mt[i] if straight_mt is not None else math.inf
        if math.isfinite(a.cost) or math.isfinite(b.cost):
            # LV within reach; else MT when shorter; else LV (with a transformer)
            use_mt = not math.isfinite(a.cost) or (a.cost > reach and b.cost < a.cost)
            best = b if use_mt else a
            rows.append(
                ("via", best.cost, s_mt if use_mt else s_lv, best.elements,
                 use_mt or best.cost > reach)
            )  # fmt: skip
            continue
        use_mt = s_lv * factor > reach and s_mt < s_lv
        d = (s_mt if use_mt else s_lv) * factor
        rows.append(("reta_fator_desvio", d, d / factor, frozenset(), use_mt or d > reach))
    return pd.DataFrame(
        rows, columns=["metodo", "distancia", "reta", "elementos", "transformador"],
        index=requests.index,
    )  # fmt: skip


def _check_against_reference(
    grid: gpd.GeoDataFrame,
    requests: pd.DataFrame,
    table: pd.DataFrame,
    paths: gpd.GeoSeries,
    expected: pd.DataFrame,
    ref_lv: NxReference,
    roads: gpd.GeoDataFrame,
) -> None:
    assert table["metodo_distancia"].tolist() == expected["metodo"].tolist()
    got = table["distancia_rede_m"].to_numpy(dtype=float)
    want = expected["distancia"].to_numpy(dtype=float)
    assert np.isnan(got).tolist() == np.isnan(want).tolist()
    ok = ~np.isnan(want)
    assert got[ok] == pytest.approx(want[ok], rel=REL, abs=ABS)
    reta = table["distancia_rede_reta_m"].to_numpy(dtype=float)
    assert reta[ok] == pytest.approx(expected["reta"].to_numpy(dtype=float)[ok], rel=REL, abs=ABS)
    assert table["transformador"].tolist() == expected["transformador"].tolist()
    ids = (grid["fonte"].astype(str) + ":" + grid["id_origem"].astype(str)).to_numpy()
    via = (table["metodo_distancia"] == "via").to_numpy()
    for i in np.flatnonzero(via):
        elements = expected["elementos"].iloc[i]
        if table["rede_alvo_id"].iloc[i] not in {ids[e] for e in elements}:
            # another element at the same cost (a lamp on a lit way): ask for every tie
            row = requests.iloc[i]
            road = roads[(roads["u"] == row.aresta_u) & (roads["v"] == row.aresta_v)
                         & (roads["key"] == row.aresta_key)].iloc[0]  # fmt: skip
            edge, t = ref_lv.locate(road, float(row.posicao_aresta_m))
            tied = ref_lv.reach(edge, t, ties=True).elements
            assert table["rede_alvo_id"].iloc[i] in {ids[e] for e in tied}, i
    # the extension: as long as the distance, from the element to the snapped point
    assert paths[via].length.to_numpy() == pytest.approx(got[via], rel=REL, abs=1e-4)
    by_id = dict(zip(ids, grid.geometry, strict=True))
    for i in np.flatnonzero(via):
        line = paths.iloc[i]
        start, end = shapely.points(line.coords[0]), shapely.points(line.coords[-1])
        assert shapely.distance(start, by_id[table["rede_alvo_id"].iloc[i]]) < 1e-6
        assert (end.x, end.y) == pytest.approx(
            (requests["x_via"].iloc[i], requests["y_via"].iloc[i]), abs=1e-6
        )


# ------------------------------------------------------------------ 1. networkx on POA


def test_poa_grid_distances_equal_networkx_per_request_search(
    poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    poa_requests: pd.DataFrame,
    poa_lv: NxReference,
) -> None:
    roads, grid = poa
    rules = load_rules("extrema").rede
    reach, factor = rules.alcance_bt.valor, rules.fator_desvio.valor
    assert (reach, factor, rules.usar_mt_com_transformador) == (300.0, 1.3, True)
    network = GridNetwork(roads, grid, max_attach_m=rules.distancia_maxima_rede_via.valor)
    table, paths = network.paths(
        poa_requests, lv_reach_m=reach, detour_factor=factor, allow_mt=True
    )
    on = _on_road(poa_requests)
    lv = poa_lv.distances(roads, poa_requests[on])
    expected = _expected(poa_requests, grid, lv, None, reach=reach, factor=factor)
    _check_against_reference(grid, poa_requests, table, paths, expected, poa_lv, roads)
    # not a vacuous comparison: both methods, long and short paths, transformers
    counts = table["metodo_distancia"].value_counts().to_dict()
    assert counts["via"] >= 200 and counts["reta_fator_desvio"] >= 10, counts
    assert table["distancia_rede_m"].max() > 2000 and table["transformador"].sum() > 50

    # the hand-placed requests, hand-checked
    lamp, junction, lit, lake, nowhere = (table.iloc[k] for k in range(-5, 0))
    lamp_request = poa_requests.iloc[-5]
    snapped = math.hypot(
        lamp_request.x - lamp_request.x_via, lamp_request.y - lamp_request.y_via
    )  # the request is the lamp: the path is the lamp's way down to the road
    assert lamp.metodo_distancia == "via" and lamp.rede_alvo_tipo == "ponto_ip"
    assert lamp.distancia_rede_m == pytest.approx(snapped, abs=1e-5)
    assert lamp.distancia_rede_reta_m == pytest.approx(snapped, abs=1e-6)
    assert not lamp.transformador
    assert junction.metodo_distancia == "via" and junction.distancia_rede_m > 0
    assert lit.metodo_distancia == "via" and lit.rede_alvo_tipo == "via_iluminada"
    assert lit.distancia_rede_m <= 5.0 + 1e-6  # samples every 10 m along the lit road
    assert poa_requests["fora_da_malha"].iloc[-2]
    assert lake.metodo_distancia == "reta_fator_desvio"
    assert lake.distancia_rede_m == pytest.approx(lake.distancia_rede_reta_m * 1.3)
    assert lake.distancia_rede_reta_m > 1900 and lake.transformador  # ~2 km of water
    assert paths.iloc[-2].coords[-1] == pytest.approx(tuple(poa_requests[["x", "y"]].iloc[-2]))
    assert nowhere.metodo_distancia == "sem_localizacao" and paths.iloc[-1] is None


def test_poa_medium_voltage_choice_equals_networkx(
    poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], poa_requests: pd.DataFrame
) -> None:
    """The lit ways relabelled as medium voltage: both trees, and the source choice."""
    roads, grid = poa
    grid = grid.assign(tipo=grid["tipo"].replace({"via_iluminada": "mt"}))
    requests = poa_requests.iloc[::2]
    network = GridNetwork(roads, grid)
    table, paths = network.paths(requests, lv_reach_m=300.0, detour_factor=1.3, allow_mt=True)
    on = _on_road(requests)
    ref_lv, ref_mt = NxReference(roads, grid, LV), NxReference(roads, grid, MT)
    lv, mt = ref_lv.distances(roads, requests[on]), ref_mt.distances(roads, requests[on])
    expected = _expected(requests, grid, lv, mt, reach=300.0, factor=1.3)
    assert table["metodo_distancia"].tolist() == expected["metodo"].tolist()
    got, want = table["distancia_rede_m"], expected["distancia"]
    assert got.isna().tolist() == want.isna().tolist()
    assert got.dropna().to_numpy() == pytest.approx(want.dropna().to_numpy(), rel=REL, abs=ABS)
    assert table["transformador"].tolist() == expected["transformador"].tolist()
    kinds = table["rede_alvo_tipo"].value_counts().to_dict()
    # both kinds of target occur (the sample follows the roads' rows: 120 and 2 today)
    assert kinds.get("mt", 0) >= 20 and kinds.get("ponto_ip", 0) + kinds.get("poste", 0) >= 2
    via = (table["metodo_distancia"] == "via").to_numpy()
    assert paths[via].length.to_numpy() == pytest.approx(got.to_numpy()[via], rel=REL, abs=1e-4)


# ------------------------------------------------------------------ 2. row-wise oracles

DEMO_RULES = load_rules("demo")


def _spy_paths(
    network: GridNetwork, requests: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, **rules: Any
) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """Run ``network.paths`` and record each call of its path assembly (inputs, output)."""
    calls: list[tuple[tuple[Any, ...], np.ndarray]] = []
    real = network._via_lines

    def spy(*args: Any) -> np.ndarray:
        out = real(*args)
        calls.append((args, out))
        return out

    monkeypatch.setattr(network, "_via_lines", spy)
    network.paths(requests, **rules)
    return calls


def _same_lines(got: np.ndarray, want: np.ndarray) -> None:
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(shapely.get_coordinates(g), shapely.get_coordinates(w))


def test_path_assembly_equals_rowwise_oracle_on_poa(
    poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    poa_requests: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roads, grid = poa
    mixed = grid.assign(tipo=grid["tipo"].replace({"via_iluminada": "mt"}))
    for g in (grid, mixed):
        network = GridNetwork(roads, g)
        calls = _spy_paths(
            network, poa_requests, monkeypatch, lv_reach_m=300.0, detour_factor=1.3,
            allow_mt=True,
        )  # fmt: skip
        ((args, got),) = calls
        # without MT one search; with it, the requests beyond the LV reach use the second
        assert set(args[1].tolist()) == ({False} if g is grid else {False, True})
        _same_lines(got, oracle.PathOracle(network)._via_lines(*args))


def test_path_assembly_equals_rowwise_oracle_on_the_demo(
    demo_territory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roads, grid = read_layer(demo_territory, "vias"), read_layer(demo_territory, "rede_existente")
    rng = np.random.default_rng(9)
    lo, hi = roads.total_bounds[:2], roads.total_bounds[2:]
    requests = snap(roads, [tuple(p) for p in rng.uniform(lo, hi, (300, 2))])
    network = GridNetwork(roads, grid)
    ((args, got),) = _spy_paths(
        network, requests, monkeypatch, lv_reach_m=50.0, detour_factor=1.3, allow_mt=True
    )
    second, mode = args[1], args[2]
    assert second.any() and not second.all()  # both trees
    assert {0, 1, 2} <= set(mode.tolist())  # same edge, via the start and via the end
    _same_lines(got, oracle.PathOracle(network)._via_lines(*args))


def _ranking_input(table: pd.DataFrame) -> pd.DataFrame:
    """The table as ``assess`` hands it to ``rank`` (before the unscored are blanked)."""
    return table.drop(columns=list(ranking.RANKING_COLUMNS))


@pytest.mark.parametrize("budget", [DEMO_BUDGET, None, 0.0, 41_000.0])
def test_rank_equals_rowwise_oracle_on_the_demo(demo_assessment: Any, budget: float | None) -> None:
    table = _ranking_input(demo_assessment.table)
    for strict in (False, True):
        rules = DEMO_RULES.model_copy(
            update={"orcamento": DEMO_RULES.orcamento.model_copy(update={"estrito": strict})}
        )
        got = ranking.rank(table, rules, budget)
        pd.testing.assert_frame_equal(got, oracle.rank(table, rules, budget))
        assert budget_summary(got, budget) == oracle.budget_summary(got, budget)
    if budget == DEMO_BUDGET:  # the demo's answer: every situation occurs
        assert set(got["situacao"]) == set(ranking.SITUACOES)


def _valid_cpf(rng: random.Random) -> str:
    digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(8)]
    for n in (10, 11):
        digits.append(
            sum(d * w for d, w in zip(digits, range(n, 1, -1), strict=False)) * 10 % 11 % 10
        )
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


HARDSHIP = ("cadunico", "declaracao", "aceita_comissao", "nao_exigida", "cadunico")
HARDSHIP += ("sem_comprovacao", "sem_comprovacao", " sem_comprovacao", None, "")
"""Values of ``hipossuficiencia`` in the random ranking tables (pending three times in ten)."""


def _random_ranking_table(seed: int, n: int = 80) -> pd.DataFrame:
    """Few distinct values (ties on every key), NaN/NA everywhere, every flag and situation.

    Art. 11/12 works with tied, missing and non-numeric decision orders, costs that do
    not fit the budgets of the tests, pending requests among the ranked ones.
    """
    rng = random.Random(seed)

    def pick(*values: Any) -> Any:
        return rng.choice(values)

    numbers = rng.sample(range(1, 5000), n)
    rows = []
    for k in numbers:
        points = {f"pont_{c}": pick(0.0, 5.0, 7.5, 15.0, math.nan) for c in CRITERIA}
        total = pick(55.0, 55.0, 62.5, 62.5000001, 80.0, 100.0, 0.0, math.nan)
        rows.append(
            {
                "protocolo": f"{pick('PED-2026-', 'PED-2025-', '2026/', 'X')}{k}",
                "data_protocolo": pick(
                    date(2026, 3, 1), date(2025, 12, 31), None, pd.NaT, "2026-02-03", "sem data"
                ),
                **points,
                "pontuacao_total": total,
                "moradores_estimados": pick(4.0, 4.0, 12.0, 0.0, math.nan),
                "custo_estimado_rs": pick(1000.0, 2500.5, 12_345.67, 40_000.0, 0.0, math.nan),
                "custo_por_beneficiario_rs": pick(100.0, 100.0, 833.33, math.nan),
                "erro": pick(False, False, False, False, True, pd.NA),
                "elegivel": pick(True, True, True, True, False, pd.NA),
                "art11_decidido": pick(False, False, False, True, True, pd.NA),
                "art12_decidido": pick(False, False, False, False, True, pd.NA),
                "hipossuficiencia": pick(*HARDSHIP),
                "ordem_ato": pick(1, 2, 2, 3, 3, 10, pd.NA, None, "x"),
                "indicio_art12": pick(False, False, True, pd.NA),
                "procedimento_art12": pick("", "PA-2026/0042", " PA-7 ", None),
                "problemas": pick("", "", "cpf_solicitante inválido", None),
                "motivos_inelegibilidade": pick("", "Art. 5, I: uso comercial", None),
                "fundamento_inelegibilidade": pick("", "Art. 5, I", None),
                "localizacao_pendente": pick(*[False] * 8, True, pd.NA),
                "incerteza_m": pick(0.0, 150.0, 349.6, math.nan),
            }
        )
    table = pd.DataFrame(rows)
    flags = ("erro", "elegivel", "art11_decidido", "art12_decidido", "indicio_art12")
    for flag in (*flags, "localizacao_pendente"):
        table[flag] = table[flag].astype(object)
    if seed % 2:  # as decisions.apply gives it: whole numbers, NA when undecided
        table["ordem_ato"] = pd.array(
            [v if isinstance(v, int) else pd.NA for v in table["ordem_ato"]], dtype="Int64"
        )
    return table.set_index(pd.Index(rng.sample(range(10_000), n)))  # an index that is not 0..n


ORDERS = [
    ("beneficiarios", "seguranca", "custo_beneficio", "antiguidade_protocolo"),
    ("antiguidade_protocolo", "custo_beneficio"),
    ("seguranca",),
    (),
]


@pytest.mark.parametrize("seed", range(6))
def test_rank_equals_rowwise_oracle_on_random_tables(seed: int) -> None:
    table = _random_ranking_table(seed)
    budget = [None, 0.0, 5_000.0, 30_000.0, 1e9, 7_777.77][seed]
    for k, strict in enumerate((False, True)):
        rules = DEMO_RULES.model_copy(
            update={
                "orcamento": DEMO_RULES.orcamento.model_copy(update={"estrito": strict}),
                "desempate": DEMO_RULES.desempate.model_copy(
                    update={"ordem": ORDERS[(seed + k) % len(ORDERS)]}
                ),
            }
        )
        got = ranking.rank(table, rules, budget)
        pd.testing.assert_frame_equal(got, oracle.rank(table, rules, budget))
        assert budget_summary(got, budget) == oracle.budget_summary(got, budget)
    texts = " ".join(got["motivo_situacao"])
    assert "empatado com o protocolo" in texts and "ficaria em" in texts
    assert got["posicao"].notna().sum() >= 10
    assert set(got["situacao"]) >= set(ranking.SITUACOES) - {"classificado", "aguardando_orcamento"}
    if budget in (5_000.0, 30_000.0, 7_777.77):
        # a work that does not fit is passed over, and a later one is still reserved
        reserved = got[got["situacao"].isin(RESERVED)]
        place = reserved["motivo_situacao"].str.extract(r"(\d+)ª reserva")[0].astype(float)
        walk = reserved.assign(place=place).dropna(subset="place").sort_values("place")
        fits = walk["selecionado_orcamento"].tolist()
        assert any(not a and b for a, b in itertools.pairwise(fits)), seed
        assert "não cabe no saldo" in " ".join(reserved["motivo_situacao"]), seed
        assert "seleção interrompida" in texts, seed


def test_rank_on_an_empty_table_equals_the_oracle() -> None:
    table = _random_ranking_table(0).iloc[:0]
    pd.testing.assert_frame_equal(
        ranking.rank(table, DEMO_RULES, 10.0), oracle.rank(table, DEMO_RULES, 10.0)
    )


# Two cases where the first vectorised code disagreed with its specification (issue 16),
# found by the row-wise oracles: these pin the specified result.


def test_a_work_selected_without_a_budget_is_not_said_unreserved() -> None:
    table = _random_ranking_table(0).iloc[:1]
    table = table.assign(
        erro=False, elegivel=True, art11_decidido=True, art12_decidido=False,
        hipossuficiencia="cadunico", custo_estimado_rs=math.nan,
    )  # fmt: skip
    row = ranking.rank(table, DEMO_RULES, None).iloc[0]
    assert row["situacao"] == "estrategico_art11" and row["selecionado_orcamento"]
    assert "não reservado" not in row["motivo_situacao"]


def test_every_article_of_the_basis_has_its_reason() -> None:
    request = pd.DataFrame(
        [{"protocolo": "P-1", "tipo": "melhoria", "uso_imovel": "Comercial", "mei": "sim",
          "cadunico": "não", "renda_familiar": 12_000, "moradores": 3, "residencias": 1}]
    )  # fmt: skip
    row = eligibility.check(request, DEMO_RULES, reference_date=DEMO_TODAY, key=DEMO_KEY).iloc[0]
    assert row["hipossuficiencia"] == "acima_do_limite" and not row["elegivel"]
    assert row["fundamento_inelegibilidade"] == "Art. 4, caput; Art. 2, IV; Art. 5, I"
    reasons = row["motivos_inelegibilidade"].split(" | ")
    assert [r.split(":")[0] for r in reasons] == ["Art. 4, caput e Art. 2, IV", "Art. 5, I"]


def _history(path: Path) -> pd.DataFrame:
    past, rejected = read_history(path, DEMO_KEY, today=DEMO_TODAY)
    assert rejected.empty or len(rejected) < len(past)
    return past


def test_check_equals_rowwise_oracle_on_the_demo(demo_territory: Path) -> None:
    located = locate_requests(DEMO / "pedidos.csv", demo_territory, DEMO_RULES, today=DEMO_TODAY)
    past = _history(DEMO / "beneficios_anteriores.csv")
    # the demo's Art. 4 §2, III decision (decisoes.csv), as assess hands it to check
    accepted = {"PED-2026-0122": "Comissão (relatora fictícia), 2026-11-12: documentos do CRAS"}
    for history in (past, None):
        for mask in (True, False):
            for decided in (accepted, None):
                options = {"reference_date": DEMO_TODAY, "key": DEMO_KEY, "mask": mask}
                got = eligibility.check(
                    located, DEMO_RULES, history=history, accepted=decided, **options
                )
                want = oracle.check(
                    located, DEMO_RULES, history=history, accepted=decided, **options
                )
                pd.testing.assert_frame_equal(got, want)
            if decided is None:
                assert (got["hipossuficiencia"] == "aceita_comissao").sum() == 0
    got = eligibility.check(located, DEMO_RULES, history=past, accepted=accepted, **options)
    assert (~got["elegivel"]).sum() >= 2 and got["pedido_estrategico"].sum() >= 1
    status = got.set_index("protocolo")["hipossuficiencia"]
    assert status["PED-2026-0122"] == "aceita_comissao"
    assert {"cadunico", "declaracao", "acima_do_limite", "sem_comprovacao"} <= set(status)


def _random_requests(seed: int, n: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Requests with every eligibility case, and a history of earlier benefits."""
    rng = random.Random(seed)

    def pick(*values: Any) -> Any:
        return rng.choice(values)

    pool = [_valid_cpf(rng) for _ in range(n // 3)] + ["123.456.789-00", "", None, "abc"]
    day = DEMO_TODAY
    rows = []
    for k in range(n):
        rows.append(
            {
                "protocolo": f"P-{k:03d}",
                "tipo": pick("extensao_rede", "implantacao", "melhoria", "", "Melhoria", "outro"),
                "uso_imovel": pick(
                    "residencial",
                    "residencial",
                    "Comercial",
                    "industrial",
                    "servicos",
                    "misto",
                    "",
                    None,
                    "galpão",
                ),
                "mei": pick("sim", "não", "", None),
                "cadunico": pick("sim", "não", "", None),
                "renda_familiar": pick(800, 1500.0, 6000, 12_000, "2.500,00", "", None, "abc"),
                "moradores": pick(1, 3, 5, 0, None),
                "residencias": pick(1, 2, 3, None),
                "cpf_solicitante": pick(*pool),
                "beneficio_anterior_data": pick(
                    None,
                    "",
                    day - timedelta(days=400),
                    (day - timedelta(days=2500)).isoformat(),
                    "não é data",
                ),
                "beneficio_anterior_justificativa": pick("", "", "Casa destruída por enchente"),
                "estrategico": pick("não", "não", "sim", "", None),
                "justificativa_estrategica": pick("", "", "Posto de saúde"),
            }
        )
    requests = pd.DataFrame(rows)
    events = []
    for k in range(n // 2):
        events.append(
            {
                "cpf": pick(*pool[: n // 6]),
                "data": pick(day - timedelta(days=rng.randrange(30, 3000)), None),
                "tipo": pick("extensao_rede", "implantacao", "", None),
                "protocolo": pick(f"H-{k}", ""),
            }
        )
    return requests, pd.DataFrame(events)


def _hardship_rules(seed: int) -> Any:
    """The demo rules, or with hardship required of one type only and one income limit."""
    hs = DEMO_RULES.hipossuficiencia
    none = hs.renda_familiar_maxima_sm.model_copy(update={"valor": None})
    update: dict[str, Any] = [
        {},
        {"tipos": ("extensao_rede", "implantacao")},
        {"renda_familiar_maxima_sm": none},  # per capita only
        {"renda_per_capita_maxima_sm": none, "tipos": ("melhoria",)},  # family income only
    ][seed % 4]
    return DEMO_RULES.model_copy(update={"hipossuficiencia": hs.model_copy(update=update)})


@pytest.mark.parametrize("seed", range(4))
def test_check_equals_rowwise_oracle_on_random_tables(seed: int) -> None:
    requests, history = _random_requests(seed)
    if seed % 2:  # the history as read_history gives it: keyed hashes, no CPF
        hashed = cpf_hashes(history["cpf"], DEMO_KEY)
        history = history.drop(columns="cpf").assign(cpf_hash=hashed)
    rules = _hardship_rules(seed)
    rng = random.Random(seed)
    accepted = {
        f"P-{k:03d}": f"Comissão, 2026-11-{k % 28 + 1:02d}" for k in rng.sample(range(120), 25)
    }
    accepted["P-999"] = "protocolo de outra planilha"
    options = {"reference_date": DEMO_TODAY, "key": DEMO_KEY, "accepted": accepted}
    got = eligibility.check(requests, rules, history=history, **options)
    pd.testing.assert_frame_equal(got, oracle.check(requests, rules, history=history, **options))
    notes = " ".join(got["avisos_elegibilidade"]) + " ".join(got["motivos_inelegibilidade"])
    for article in ("Art. 5, I", "Art. 5, II", "Art. 4 §2", "Art. 4, caput", "Art. 11"):
        assert article in notes
    assert 0 < got["elegivel"].sum() < len(got)
    every_type = rules.hipossuficiencia.tipos == DEMO_RULES.hipossuficiencia.tipos
    statuses = set(HARDSHIP_STATUSES) - ({"nao_exigida"} if every_type else set())
    assert set(got["hipossuficiencia"]) == statuses, seed


def test_check_of_a_table_without_optional_columns_equals_the_oracle() -> None:
    requests = _random_requests(7, 10)[0][["protocolo", "uso_imovel"]]
    options = {"reference_date": DEMO_TODAY, "key": DEMO_KEY}
    pd.testing.assert_frame_equal(
        eligibility.check(requests, DEMO_RULES, **options),
        oracle.check(requests, DEMO_RULES, **options),
    )


def test_format_number_equals_rowwise_oracle() -> None:
    assert scoring.format_number(1234.5) == "1.234,5"  # hand-checked
    assert scoring.format_number(-0.0) == "0" and scoring.format_number(-0.04) == "0"
    assert scoring.format_brl(1234567.891) == "R$ 1.234.567,89"
    assert scoring.format_number(120.0) == "120" and scoring.format_number(math.nan) == "?"
    rng = np.random.default_rng(4)
    values: list[Any] = [0.0, -0.0, 0.05, -0.05, 0.25, 1e15, -1e-12, math.inf, -math.inf]
    values += [None, math.nan, 7, True, np.float64(2.5), np.int64(-3)]
    values += rng.normal(0, 1e4, 300).tolist() + np.round(rng.uniform(-50, 50, 300), 2).tolist()
    for _repeat in range(2):  # the second time from the cache
        for v in values:
            for decimals in (0, 1, 2, 3):
                for trim in (True, False):
                    assert scoring.format_number(v, decimals, trim=trim) == oracle.format_number(
                        v, decimals, trim=trim
                    ), (v, decimals, trim)
    for v in values[:9]:
        assert scoring.format_brl(v) == oracle.format_brl(v)


# ------------------------------------------------------------------ 3. POA scores


def test_poa_scores_equal_the_oracles_on_networkx_distances(
    poa_territory: Any, poa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    """An assessment with the kernels, and the oracles on the networkx distances."""
    from geo_ip.pipeline import assess
    from geo_ip.territory.synthetic_requests import synthetic_requests

    roads, grid = poa
    rules = load_rules("extrema")
    csv = tmp_path / "pedidos.csv"
    synthetic_requests(poa_territory.path, 50, seed=11).to_csv(csv, index=False)
    run = assess(
        poa_territory.path, csv, rules, key=DEMO_KEY, today=DEMO_TODAY, budget=200_000.0
    ).table
    assert len(run) == 50 and (run["metodo_distancia"] == "via").sum() >= 40

    # the networkx distances in place of the kernel's, and the chain assess runs after it
    evidence = run.drop(columns=[*ranking.RANKING_COLUMNS, "situacao_pedido", "erro"])
    evidence["situacao"] = run["situacao_pedido"]
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("protocolo")
    evidence["cpf_solicitante"] = raw.loc[run["protocolo"], "cpf_solicitante"].to_numpy()
    via = (run["metodo_distancia"] == "via").to_numpy()
    ref = NxReference(roads, grid, LV, max_attach_m=rules.rede.distancia_maxima_rede_via.valor)
    reference = [r.cost for r in ref.distances(roads, run[via])]
    assert run.loc[via, "distancia_rede_m"].to_numpy() == pytest.approx(reference, rel=REL, abs=ABS)
    distance = run["distancia_rede_m"].astype(float).copy()
    distance[via] = np.asarray(reference)
    evidence["distancia_rede_m"] = distance
    evidence["transformador"] = (distance > rules.rede.alcance_bt.valor).to_numpy()
    bom = bill_of_materials(evidence, rules)
    evidence[bom.columns] = bom
    people = beneficiaries(
        evidence, evidence["edificacoes_trecho"], bom["custo_estimado_rs"], rules
    )
    evidence[people.columns] = people
    table = scoring.suggest(evidence, rules)
    table = oracle.check(table, rules, reference_date=DEMO_TODAY, key=DEMO_KEY)
    no_decisions = pd.DataFrame(columns=list(DECISION_COLUMNS))
    table = decisions.apply_acts(decisions.apply(table, no_decisions, rules), no_decisions)
    table["situacao_pedido"] = table["situacao"]
    table["erro"] = table["situacao"].eq("erro").to_numpy()
    table = oracle.rank(table, rules, 200_000.0)

    scored = ~run["situacao"].isin(["erro", *RESERVED])
    columns = [f"sugerido_{c}" for c in CRITERIA] + [f"nivel_{c}" for c in CRITERIA]
    columns += [f"pont_{c}" for c in CRITERIA] + ["pontuacao_total", "custo_estimado_rs"]
    pd.testing.assert_frame_equal(
        table.loc[scored, columns], run.loc[scored, columns], check_exact=False, rtol=1e-9
    )
    for name in ("situacao", "posicao", "percentual_municipio", "custo_municipio_rs",
                 "selecionado_orcamento", "motivo_situacao", "elegivel",
                 "motivos_inelegibilidade", "avisos_elegibilidade"):  # fmt: skip
        pd.testing.assert_series_equal(table[name], run[name], check_exact=False, rtol=1e-9)
    assert run["pontuacao_total"].nunique() >= 5 and run["posicao"].notna().sum() >= 30


# ------------------------------------------------------------------ 5. parallel outputs


def _map_text(path: Path) -> str:
    """A map's HTML without folium's random element ids."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_parallel_maps_and_sheets_equal_the_sequential_ones(
    demo_assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten request maps and six sheets, drawn here and then by two helper processes.

    ``write_maps`` and ``write_sheets`` hand every request to ``_request_maps`` and
    ``_sheet_files``: these are called on a subset (the demo's 41 maps and sheets cost
    ~30 s more). The threshold is read in this process only (the helpers are handed
    their shares), where the two modules imported it; two cores even on a one-core runner.
    """
    import geo_ip.outputs.sheets.sheets as sheets_mod
    import geo_ip.outputs.web.webmap as webmap_mod
    from geo_ip.outputs.sheets.content import build_sheets

    monkeypatch.chdir(ROOT)
    started: list[str] = []
    for module in (webmap_mod, sheets_mod):
        real_start = module.start

        def spy(function: Any, *args: Any, _real: Any = real_start, **kw: Any) -> Any:
            started.append(f"{function.__module__}.{function.__qualname__}")
            return _real(function, *args, **kw)

        monkeypatch.setattr(module, "cores", lambda: 2)
        monkeypatch.setattr(module, "start", spy)
    sources = webmap_mod.MapSources.from_assessment(demo_assessment)
    frame = sources.frames["pedidos"].sort_values("indice")
    work = [(int(i), str(n)) for i, n in zip(frame["indice"], frame["mapa"], strict=True)][:10]
    sheets = build_sheets(demo_assessment)[:6]  # a prefix: the helpers count from the first
    outputs: dict[str, tuple[list[tuple[str, str | None]], list[bytes]]] = {}
    for mode, threshold in (("seq", 10**9), ("par", 0)):
        for module in (webmap_mod, sheets_mod):
            monkeypatch.setattr(module, "PARALLEL_ABOVE", threshold)
        maps, fichas = tmp_path / mode / "mapas", tmp_path / mode / "fichas"
        maps.mkdir(parents=True)
        fichas.mkdir()
        done = webmap_mod._request_maps(demo_assessment, None, maps, work, sources)
        copies = build_sheets(demo_assessment)[:6]
        images = sheets_mod._sheet_files(demo_assessment, copies, fichas, lambda: None)
        outputs[mode] = (done, images)
    assert started == [
        "geo_ip.outputs.web.webmap._maps_chunk",
        "geo_ip.outputs.sheets.sheets._sheets_chunk",
    ]
    assert outputs["par"] == outputs["seq"]  # the same names, problems and map images
    assert [d[1] for d in outputs["seq"][0]] == [None] * 10
    files = sorted(p.relative_to(tmp_path / "seq") for p in (tmp_path / "seq").rglob("*.*"))
    assert files == sorted(p.relative_to(tmp_path / "par") for p in (tmp_path / "par").rglob("*.*"))
    assert [f.name for f in files if f.parent.name == "mapas"] == sorted(n for _i, n in work)
    assert sorted(f.name for f in files if f.parent.name == "fichas") == sorted(
        f"{s.arquivo}.{ext}" for s in sheets for ext in ("html", "pdf")
    )
    for name in files:
        a, b = tmp_path / "par" / name, tmp_path / "seq" / name
        if name.suffix == ".pdf":
            assert _pdf_text(a) == _pdf_text(b) and all(_pdf_text(a)), name
        elif name.parent.name == "fichas":
            assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8"), name
        else:
            assert _map_text(a) == _map_text(b), name


# ------------------------------------------------------------------ 6. _synthetic


def test_synthetic_territory_is_deterministic_and_at_scale(tmp_path: Path) -> None:
    from geo_ip.territory.synthetic import write_synthetic_territory
    from geo_ip.territory.synthetic_requests import synthetic_requests

    created = datetime(2026, 1, 1, tzinfo=UTC)
    one = write_synthetic_territory(tmp_path / "a.gpkg", edges=20_000, seed=0, created=created)
    two = write_synthetic_territory(tmp_path / "b.gpkg", edges=20_000, seed=0, created=created)
    other = write_synthetic_territory(tmp_path / "c.gpkg", edges=2_000, seed=1, created=created)
    assert one.counts == two.counts and one.tiles == two.tiles
    layers = [name for name, _kind in pyogrio.list_layers(one.path) if name != "layer_styles"]
    assert {"vias", "nos", "rede_existente", "pontos_ip", "limite"} <= set(layers)
    for layer in layers:
        a = pyogrio.read_dataframe(one.path, layer=layer)
        b = pyogrio.read_dataframe(two.path, layer=layer)
        if isinstance(a, gpd.GeoDataFrame):
            assert_geodataframe_equal(a, b, check_less_precise=False)
        else:
            pd.testing.assert_frame_equal(a, b)
    # the smallest benchmark scale: within 10 % of the edges asked (whole tiles of ~925)
    assert 18_000 <= one.counts["vias"] <= 22_000, one.counts["vias"]
    assert one.counts["vias"] == len(pyogrio.read_dataframe(one.path, layer="vias"))
    assert other.counts != one.counts
    # every grid method is met: some tiles served, some not, some rural
    assert one.counts["rede_bt"] > 0 and one.counts["rede_mt"] > 0 and one.counts["vias_rurais"] > 0

    requests = synthetic_requests(one.path, 300, seed=5)
    assert len(requests) == 300 and requests["protocolo"].is_unique
    pd.testing.assert_frame_equal(requests, synthetic_requests(one.path, 300, seed=5))
    assert not requests.equals(synthetic_requests(one.path, 300, seed=6))
    limit = read_layer(one.path, "limite").to_crs("EPSG:4326").union_all()
    points = shapely.points(requests["longitude"], requests["latitude"])
    assert shapely.contains(limit, points).all()
    roads = read_layer(one.path, "vias")
    xy = gpd.GeoSeries(points, crs="EPSG:4326").to_crs(roads.crs)
    gap = shapely.STRtree(roads.geometry.to_numpy()).query_nearest(
        xy.to_numpy(), return_distance=True
    )[1]
    assert gap.max() < 60.0  # a few metres off a road (normal, sigma 8 m)
    # the fields of the eligibility check, with valid (fictitious) CPFs
    assert set(eligibility._INPUT_COLUMNS) - set(requests.columns) <= {
        "beneficio_anterior_data",
        "beneficio_anterior_justificativa",
    }
    assert (cpf_hashes(requests["cpf_solicitante"], DEMO_KEY) != "").all()


def test_large_workbook_written_by_a_helper_equals_the_sequential_one(
    demo_assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above XLSX_PARALLEL_ABOVE, ranking.xlsx comes from the other core: the same cells."""
    from geo_ip.outputs import files as outputs

    started: list[str] = []
    real_start = outputs.start

    def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(f"{function.__module__}.{function.__qualname__}")
        return real_start(function, *args, **kwargs)

    sequential = outputs.write_outputs(demo_assessment, tmp_path / "um", maps=False, sheets=False)
    monkeypatch.setattr(outputs, "XLSX_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(outputs, "cores", lambda: 2)
    monkeypatch.setattr(outputs, "start", spy)
    parallel = outputs.write_outputs(demo_assessment, tmp_path / "dois", maps=False, sheets=False)
    assert started == ["geo_ip.outputs.workbook.xlsx_in_worker"]
    assert [p.name for p in parallel] == [p.name for p in sequential]
    assert parallel[1].name == "ranking.xlsx"
    first = pd.read_excel(tmp_path / "um" / "ranking.xlsx", sheet_name=None, dtype=str)
    second = pd.read_excel(tmp_path / "dois" / "ranking.xlsx", sheet_name=None, dtype=str)
    assert list(first) == list(second)
    for name in first:
        if name != "Proveniência":  # the run time differs
            pd.testing.assert_frame_equal(first[name], second[name], check_dtype=False)


def test_failed_workbook_helper_is_redone_here(
    demo_assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.outputs import files as outputs

    class Failed:
        def collect(self) -> list[None]:
            return [None]  # as _parallel reports a helper that died

    monkeypatch.setattr(outputs, "XLSX_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(outputs, "cores", lambda: 2)
    monkeypatch.setattr(outputs, "start", lambda *a, **k: Failed())
    outputs.write_outputs(demo_assessment, tmp_path, maps=False, sheets=False)
    book = pd.read_excel(tmp_path / "ranking.xlsx", sheet_name="Classificação", dtype=str)
    assert len(book) == len(demo_assessment.table)


def test_failure_beside_the_workbook_helper_waits_for_it_and_keeps_nothing(
    demo_assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer failing while the helper writes ranking.xlsx: it is waited for, no stage left."""
    from geo_ip.outputs import files as outputs

    collected: list[bool] = []
    real_start = outputs.start

    def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        running = real_start(function, *args, **kwargs)
        real_collect = running.collect

        def collect() -> list[Any]:
            collected.append(True)
            return real_collect()

        running.collect = collect  # type: ignore[method-assign]
        return running

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "XLSX_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(outputs, "cores", lambda: 2)
    monkeypatch.setattr(outputs, "start", spy)
    monkeypatch.setattr(outputs, "write_json", broken)
    with pytest.raises(outputs.InputFileError, match="No space left on device"):
        outputs.write_outputs(demo_assessment, tmp_path, maps=False, sheets=False)
    assert collected == [True]
    assert not any(p.name.startswith(".geo_ip-") for p in tmp_path.iterdir())
