"""An assessment that knows how sure the location is (issue 18, part 2).

A tiny territory built by the test: ``Rua Comprida``, a straight street 1000 m long going
east from node W, crossed at W by ``Rua Curta``; one pole of the existing grid 5 m west of
W. A request anywhere on Rua Comprida at ``s`` metres from W is ``5 + s`` metres from the
grid along the roads. Demo rules: a pole every 35 m, a transformer beyond 300 m, poste
R$ 2.800, braço R$ 180, luminária R$ 950, condutor R$ 45/m, transformador R$ 28.000, and
``avaliacao.incerteza_maxima_m = 100``.

Until the geocoder gives ``incerteza_m`` and ``trecho_candidato`` itself, the test puts
them on the located table (:func:`_locate_with`), as the geocoder does for a street
matched without its number: the whole street, 500 m of uncertainty, the point in the
middle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

import geo_ip.pipeline as assess_mod
from geo_ip.cli.assess import SITUATION_LABELS, budget_lines
from geo_ip.law import uncertainty
from geo_ip.law.scoring import format_brl
from geo_ip.network.roads import RoadIndex
from geo_ip.outputs.files import public_ranking, write_outputs
from geo_ip.pipeline import Assessment, assess
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.territory.build import GridSource, build_territory

RULES = load_rules("demo")
TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:31983", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:31983", "EPSG:4326", always_xy=True)
X0, Y0 = TO_UTM.transform(-46.39, -22.9)  # node W, the west end of Rua Comprida
LONG_STREET = shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])
HEADER = "protocolo,data_protocolo,tipo,latitude,longitude,residencias,cadunico"


def _lat_lon(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(x, y)
    return lat, lon


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rua_comprida")
    points = {1: (X0, Y0), 2: (X0 + 500, Y0), 3: (X0 + 1000, Y0), 4: (X0, Y0 + 200),
              5: (X0, Y0 - 200)}  # fmt: skip
    where = {k: _lat_lon(x, y) for k, (x, y) in points.items()}
    nodes = "\n".join(
        f'<node id="{k}" lat="{lat:.9f}" lon="{lon:.9f}" version="1"/>'
        for k, (lat, lon) in where.items()
    )
    (folder / "t.osm").write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + nodes + "\n"
        '<way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="residential"/><tag k="name" v="Rua Comprida"/></way>\n'
        '<way id="11" version="1"><nd ref="4"/><nd ref="1"/><nd ref="5"/>'
        '<tag k="highway" v="residential"/><tag k="name" v="Rua Curta"/></way>\n</osm>\n',
        encoding="utf-8",
    )
    (folder / "rede.csv").write_text(f"tipo,x,y\nposte,{X0 - 5:.3f},{Y0:.3f}\n", encoding="utf-8")
    out = folder / "territorio.gpkg"
    build_territory(
        out,
        rules=RULES,
        osm=folder / "t.osm",
        grids=[GridSource(folder / "rede.csv", crs="EPSG:31983")],
    )
    return out


def _requests(folder: Path, rows: list[tuple[str, float, float]]) -> Path:
    lines = [HEADER]
    for protocol, x, y in rows:
        lat, lon = _lat_lon(x, y)
        lines.append(f"{protocol},2026-05-06,extensao_rede,{lat:.9f},{lon:.9f},2,sim")
    path = folder / "pedidos.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _locate_with(
    monkeypatch: pytest.MonkeyPatch, uncertain: dict[str, tuple[float, shapely.Geometry]]
) -> None:
    """Give the listed protocols the uncertainty of a street matched without its number."""
    original = assess_mod.locate_requests

    def locate(*args: Any, **kwargs: Any) -> pd.DataFrame:
        out = uncertainty.with_uncertainty(original(*args, **kwargs))
        out["incerteza_m"] = 0.0
        stretches = np.full(len(out), None, dtype=object)
        for protocol, (radius, stretch) in uncertain.items():
            i = int(np.flatnonzero(out["protocolo"] == protocol)[0])
            out.loc[i, ["incerteza_m", "geocodificacao", "logradouro_encontrado"]] = [
                radius, "logradouro", "Rua Comprida"
            ]  # fmt: skip
            stretches[i] = stretch
        out["trecho_candidato"] = pd.Series(stretches, index=out.index, dtype=object)
        return out

    monkeypatch.setattr(assess_mod, "locate_requests", locate)


def _run(territory: Path, requests: Path, **options: Any) -> Assessment:
    return assess(territory, requests, RULES, key=KEY, today=TODAY, **options)


def _row(a: Assessment, protocol: str) -> pd.Series:
    return a.table.set_index("protocolo").loc[protocol]


# Along Rua Comprida: P-1 in the middle, located only by the street (uncertain); P-2 at
# 100 m from W, by its coordinates; P-3 in the middle too, uncertain, unless confirmed.
ROWS = [("P-1", X0 + 500, Y0), ("P-2", X0 + 100, Y0 + 3), ("P-3", X0 + 500, Y0 + 2)]
UNCERTAIN = {"P-1": (500.0, LONG_STREET), "P-3": (500.0, LONG_STREET)}


@pytest.fixture(scope="module")
def pending(territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    folder = tmp_path_factory.mktemp("pendente")
    with pytest.MonkeyPatch.context() as patch:
        _locate_with(patch, UNCERTAIN)
        return _run(territory, _requests(folder, ROWS), budget=1_000_000.0)


def test_a_long_street_without_the_number_is_pending_location(pending: Assessment) -> None:
    t = pending.table
    assert t["protocolo"].tolist() == ["P-1", "P-2", "P-3"]  # every row once, in order
    assert len(pending.paths) == len(pending.items) == 3
    p1 = _row(pending, "P-1")
    assert p1["situacao"] == "pendente_localizacao"
    assert p1["localizacao_pendente"] and p1["posicoes_avaliadas"] == 10  # 9 + its own point
    # the west end of the street is 5 m from the pole, the east end 1005 m: 1 to 29 poles
    # (ceil(1005 / 35)); R$ 2.800 + 2 × (180 + 950) + 5 × 45 = R$ 5.285,00 at the west end,
    # 29 × 2.800 + 30 × 1.130 + 1.005 × 45 + 28.000 (transformer) = R$ 188.325,00 at the east
    assert p1["extensao_min_m"] == pytest.approx(5.0, abs=0.1)
    assert p1["extensao_max_m"] == pytest.approx(1005.0, abs=0.1)
    assert (p1["postes_min"], p1["postes_max"]) == (1, 29)
    assert p1["custo_min_rs"] == pytest.approx(5_285.0, abs=0.5)
    assert p1["custo_max_rs"] == pytest.approx(188_325.0, abs=0.5)
    # cost-benefit and technical viability go from level I (15 + 15) at the west end to level
    # III (5 + 5) at the east end; the other criteria do not change along the street
    assert (p1["pontuacao_sugerida_min"], p1["pontuacao_sugerida_max"]) == (39.0, 59.0)
    # the request's own row holds the worse case: the east end, with its path and cost
    assert p1["distancia_rede_m"] == pytest.approx(1005.0, abs=0.1)
    assert p1["custo_estimado_rs"] == p1["custo_max_rs"]
    assert (p1["sugerido_custo_beneficio"], p1["sugerido_viabilidade"]) == (5.0, 5.0)
    assert p1["pontuacao_total"] == 39.0
    assert shapely.length(pending.paths.iloc[0]) == pytest.approx(1005.0, abs=0.1)
    assert p1["x_via"] == pytest.approx(X0 + 1000, abs=0.1)  # the path ends at the east end
    assert p1["x"] == pytest.approx(X0 + 500, abs=0.01)  # the request stays where it was
    # scored, placed (behind P-2 with 49 points and P-3, tied at 39 with a lower cost per
    # resident), never funded however large the budget
    assert pd.isna(p1["posicao"]) and not p1["selecionado_orcamento"]
    assert math.isnan(p1["percentual_municipio"]) and math.isnan(p1["custo_municipio_rs"])
    assert "ficaria em 2º na classificação" in p1["motivo_situacao"]
    assert p1["confirmar_no_local"] == (
        "Confirmar no local a posição do pedido ao longo de Rua Comprida (trecho candidato de "
        "1.000 m; incerteza de 500 m, acima do limite de 100 m): a extensão até a rede varia "
        "de 5 m a 1.005 m, o número de postes novos varia de 1 a 29 e o custo varia de "
        f"{format_brl(p1['custo_min_rs'])} a {format_brl(p1['custo_max_rs'])}; registre o "
        "local confirmado como decisão 'localizacao', com latitude e longitude."
    )  # the street read from OSM is a few millimetres off 1000 m: the centavos vary
    # a request whose place is sure: one position, the range is its own value
    p2 = _row(pending, "P-2")
    assert p2["situacao"] == "classificado" and p2["posicao"] == 1
    assert p2["posicoes_avaliadas"] == 1 and p2["confirmar_no_local"] == ""
    assert p2["extensao_min_m"] == p2["extensao_max_m"] == pytest.approx(105.0, abs=0.1)


def test_the_budget_never_goes_to_a_request_pending_location(pending: Assessment) -> None:
    t = pending.table
    assert set(t["situacao"]) == {"classificado", "pendente_localizacao"}
    assert t.loc[t["situacao"] == "pendente_localizacao", "protocolo"].tolist() == ["P-1", "P-3"]
    assert t["selecionado_orcamento"].tolist() == [False, True, False]
    summary = pending.provenance["orcamento"]
    assert summary["selecionados"] == 1
    assert summary["classificados_rs"] == _row(pending, "P-2")["custo_municipio_rs"]
    assert pending.provenance["contagens"]["situacao_pendente_localizacao"] == 2


def test_a_localizacao_decision_confirms_the_place(territory: Path, tmp_path: Path) -> None:
    # the Commission found P-3 at 710 m from W (1 m off the axis): 715 m from the pole,
    # 21 poles (ceil(715 / 35)), 21 × 2.800 + 22 × 1.130 + 715 × 45 + 28.000 = R$ 143.835,00
    lat, lon = _lat_lon(X0 + 710, Y0 + 1)
    decisions = tmp_path / "decisoes.csv"
    decisions.write_text(
        "protocolo,criterio,pontos,motivacao,membro,data,latitude,longitude\n"
        f'P-3,localizacao,,vistoria com fotos,Maria,2026-11-10,"{lat:.9f}",{lon:.9f}\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        _locate_with(patch, UNCERTAIN)
        a = _run(territory, _requests(tmp_path, ROWS), decisions=decisions, budget=1_000_000.0)
    assert a.rejected_decisions.empty
    p3 = _row(a, "P-3")
    assert p3["geocodificacao"] == "localizacao_confirmada"
    assert (p3["incerteza_m"], p3["trecho_candidato"], p3["confianca"]) == (0.0, None, 1.0)
    assert not p3["localizacao_pendente"] and p3["posicoes_avaliadas"] == 1
    assert (p3["latitude"], p3["longitude"]) == (pytest.approx(lat), pytest.approx(lon))
    assert p3["x_via"] == pytest.approx(X0 + 710, abs=0.1)  # snapped again
    assert p3["distancia_rede_m"] == pytest.approx(715.0, abs=0.1)
    assert p3["postes_novos"] == 21
    assert p3["custo_estimado_rs"] == pytest.approx(143_835.0, abs=0.5)
    assert p3["situacao"] == "classificado" and p3["posicao"] == 2
    assert p3["selecionado_orcamento"]
    assert p3["decisao_localizacao"].startswith("decidido por Maria em 10/11/2026, local ")
    assert p3["confirmar_no_local"] == ""
    assert p3["problemas"] == ""
    # P-1, not confirmed, still waits
    assert _row(a, "P-1")["situacao"] == "pendente_localizacao"
    assert a.table["protocolo"].tolist() == ["P-1", "P-2", "P-3"]


def test_a_confirmed_place_rescues_a_request_that_was_not_found(
    territory: Path, tmp_path: Path
) -> None:
    requests = tmp_path / "pedidos.csv"
    requests.write_text(
        "protocolo,data_protocolo,tipo,endereco,residencias,cadunico\n"
        "P-9,2026-05-06,extensao_rede,Travessa Inexistente,2,sim\n",
        encoding="utf-8",
    )
    lat, lon = _lat_lon(X0 + 200, Y0)
    decisions = tmp_path / "decisoes.csv"
    decisions.write_text(
        "protocolo,criterio,pontos,motivacao,membro,data,lat,lon\n"
        f"P-9,localizacao,,vistoria,Maria,2026-11-10,{lat:.9f},{lon:.9f}\n",
        encoding="utf-8",
    )
    before = _run(territory, requests)
    assert _row(before, "P-9")["situacao"] == "erro"
    after = _run(territory, requests, decisions=decisions)
    p9 = _row(after, "P-9")
    assert p9["geocodificacao"] == "localizacao_confirmada"
    assert p9["situacao_pedido"] == "ok" and p9["situacao"] == "classificado"
    assert p9["distancia_rede_m"] == pytest.approx(205.0, abs=0.1)
    assert "não localizado" not in p9["problemas"]


def test_outputs_show_the_range_and_the_stretch(pending: Assessment, tmp_path: Path) -> None:
    write_outputs(pending, tmp_path, maps=False, sheets=False)
    ranking = pd.read_csv(tmp_path / "ranking.csv", dtype=str, keep_default_na=False)
    assert ranking["protocolo"].tolist() == ["P-2", "P-1", "P-3"]  # pending after the ranked
    p1 = ranking.set_index("protocolo").loc["P-1"]
    assert (p1["situacao"], p1["incerteza_m"], p1["postes_min"], p1["postes_max"]) == (
        "pendente_localizacao", "500.0", "1", "29"
    )  # fmt: skip
    assert p1["confirmar_no_local"].startswith("Confirmar no local a posição do pedido")
    assert "trecho_candidato" not in ranking.columns  # geometry, never text
    assert "LINESTRING" not in (tmp_path / "ranking.csv").read_text(encoding="utf-8")
    layers = dict(pyogrio.list_layers(tmp_path / "avaliacao.gpkg"))
    assert layers["trechos_candidatos"] == "LineString"
    stretches = gpd.read_file(tmp_path / "avaliacao.gpkg", layer="trechos_candidatos")
    assert stretches["protocolo"].tolist() == ["P-1", "P-3"]
    assert stretches["comprimento_m"].tolist() == [1000.0, 1000.0]
    assert stretches["localizacao_pendente"].tolist() == ["sim", "sim"]
    record = json.loads((tmp_path / "evidencias.json").read_text(encoding="utf-8"))["pedidos"][0]
    assert record["localizacao"]["posicoes_avaliadas"] == 10
    assert record["localizacao"]["comprimento_trecho_candidato_m"] == 1000.0
    budget = pd.read_excel(tmp_path / "ranking.xlsx", sheet_name="Orçamento", dtype=object)
    assert budget.columns.tolist() == ["Item", "Valor", "Observação"]
    row = budget[budget["Item"] == "Pedidos pendentes de confirmação do local"]
    assert row["Valor"].tolist() == [2]
    assert public_ranking(pending)["situacao"].tolist() == ranking["situacao"].tolist()
    assert "Pendentes de confirmação do local: 2 pedido(s)" in budget_lines(pending)
    assert SITUATION_LABELS["pendente_localizacao"] == "pendente de confirmação do local"


# --- the folding of the positions, on hand-made tables --------------------------------------


def _suggested(totals: list[float]) -> dict[str, list[float]]:
    return {f"sugerido_{c}": [t / len(CRITERIA) for t in totals] for c in CRITERIA}


def test_collapse_keeps_the_worse_case_and_breaks_ties_by_the_higher_cost() -> None:
    # request 0 has its own row and three positions; request 1 none
    owner = np.array([0, 1, 0, 0, 0])
    table = pd.DataFrame(
        {
            "x": [10.0, 20.0, 11.0, 12.0, 13.0],
            "y": [0.0, 0.0, 1.0, 2.0, 3.0],
            "distancia_rede_m": [50.0, 70.0, 90.0, 30.0, 95.0],
            "postes_novos": pd.array([2, 2, 3, 1, 3], dtype="Int64"),
            "custo_estimado_rs": [100.0, 140.0, 180.0, 60.0, 190.0],
            **_suggested([60.0, 55.0, 40.0, 70.0, 40.0]),
            "marca": ["own", "other", "a", "b", "c"],
        }
    )
    paths = gpd.GeoSeries([shapely.Point(i, 0) for i in range(5)], crs="EPSG:31983")
    items: list[dict[str, object]] = [{"i": i} for i in range(5)]
    out, out_paths, out_items = uncertainty.collapse(table, paths, items, owner, 2)
    # rows 2 and 4 tie on the lowest total (40): the higher cost (190) wins
    assert out["marca"].tolist() == ["c", "other"]
    assert out_items == [{"i": 4}, {"i": 1}]
    assert out_paths.tolist() == [shapely.Point(4, 0), shapely.Point(1, 0)]
    assert out[["x", "y"]].to_numpy().tolist() == [[10.0, 0.0], [20.0, 0.0]]
    assert out["posicoes_avaliadas"].tolist() == [4, 1]
    assert out["extensao_min_m"].tolist() == [30.0, 70.0]
    assert out["extensao_max_m"].tolist() == [95.0, 70.0]
    assert out["postes_min"].tolist() == [1, 2] and out["postes_max"].tolist() == [3, 2]
    assert out["custo_min_rs"].tolist() == [60.0, 140.0]
    assert out["custo_max_rs"].tolist() == [190.0, 140.0]
    assert out["pontuacao_sugerida_min"].tolist() == [40.0, 55.0]
    assert out["pontuacao_sugerida_max"].tolist() == [70.0, 55.0]


def _located(stretches: list[object], radius: list[float], status: list[str]) -> pd.DataFrame:
    n = len(stretches)
    return pd.DataFrame(
        {
            "protocolo": [f"P-{i}" for i in range(n)],
            "situacao": status,
            "x": np.full(n, 5.0),
            "y": np.full(n, 0.0),
            "incerteza_m": radius,
            "trecho_candidato": pd.Series(stretches, dtype=object),
        }
    )


def test_positions_are_spread_along_the_stretch_both_ends_included() -> None:
    roads = gpd.GeoDataFrame(
        {"u": [1, 2], "v": [2, 3], "key": [0, 0], "name": ["A", "B"],
         "hierarquia": ["local", "local"]},
        geometry=[shapely.LineString([(0, 0), (80, 0)]), shapely.LineString([(0, 50), (0, 90)])],
        crs="EPSG:31983",
    )  # fmt: skip
    index: Callable[[], RoadIndex] = lambda: RoadIndex(roads)  # noqa: E731
    bairro = shapely.MultiLineString([[(0, 0), (80, 0)], [(0, 50), (0, 90)]])  # 120 m of roads
    located = _located(
        [bairro, shapely.box(0, 0, 80, 40), None, bairro, shapely.LineString([(0, 0), (80, 0)])],
        [300.0, 150.0, 500.0, 300.0, 50.0],
        ["ok", "aviso", "ok", "erro", "ok"],
    )
    pending = uncertainty.pending_places(located, 100.0)
    assert pending.tolist() == [True, True, True, True, False]
    # an unknown size is not a precise place
    unknown = located.assign(incerteza_m=[np.nan, 0.0, 100.0, 100.1, np.nan])
    assert uncertainty.pending_places(unknown, 100.0).tolist() == [True, False, False, True, True]
    table, owner = uncertainty.expand(located, pending, index, max_distance_m=10.0, samples=5)
    # no stretch (row 2), an error (row 3) and a sure place (row 4) get no positions
    assert owner.tolist() == [0, 1, 2, 3, 4, *[0] * 5, *[1] * 5]
    extra = table.iloc[5:]
    # every 30 m along the 120 m of the bairro's roads (the first line, then the second)
    assert extra[["x", "y"]].to_numpy()[:5].tolist() == [
        [0.0, 0.0], [30.0, 0.0], [60.0, 0.0], [0.0, 60.0], [0.0, 90.0]
    ]  # fmt: skip
    assert extra["logradouro_via"].tolist()[:5] == ["A", "A", "A", "B", "B"]
    # a polygon by its boundary: 240 m, every 60 m from (80, 0), counter-clockwise
    assert extra[["x", "y"]].to_numpy()[5:].tolist() == [
        [80.0, 0.0], [60.0, 40.0], [0.0, 40.0], [20.0, 0.0], [80.0, 0.0]
    ]  # fmt: skip
    assert (extra["protocolo"] == ["P-0"] * 5 + ["P-1"] * 5).all()
