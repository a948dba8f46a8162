"""Territory builds on the bundled demo and on the real Porto Alegre extract."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import pytest

from geo_ip.errors import OsmError
from geo_ip.network.betweenness import edge_betweenness
from geo_ip.rules.config import load_rules
from geo_ip.sources.catalog import load_catalog
from geo_ip.sources.osm import read_road_graph
from geo_ip.territory.build import GridSource, TerritoryReport, build_territory
from geo_ip.territory.reader import load_graph, read_layer, read_metadata
from geo_ip.territory.writer import territory_layers
from tests import parallel_jobs
from tests.conftest import DEMO

DEMO_OSM = DEMO / "municipio_demo.osm"
DEMO_GRID = DEMO / "rede_demo.gpkg"
DEMO_DEM = DEMO / "mdt_demo.tif"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> TerritoryReport:
    out = tmp_path_factory.mktemp("demo") / "territorio.gpkg"
    return build_territory(
        out,
        rules=load_rules("demo"),
        osm=DEMO_OSM,
        grids=[GridSource(DEMO_GRID)],
        dem=DEMO_DEM,
    )


def test_demo_layers_and_counts(demo: TerritoryReport) -> None:
    assert demo.crs == "EPSG:31983"
    names = {str(n) for n in pyogrio.list_layers(demo.path)[:, 0]}
    assert names == {*territory_layers(), "metadados", "rede_ligacao"}
    counts = demo.counts
    # Figures of the generated demo (data/demo/LEIAME.md and the generator's report).
    # (a node where the street name changes stays a node: 11 of them on the demo)
    assert counts["vias"] == 410
    assert counts["nos"] == 134
    assert (counts["vias_principal"], counts["vias_secundaria"], counts["vias_local"]) == (
        30,
        60,
        320,
    )
    assert counts["rede_bt"] == 386
    assert counts["rede_mt"] == 93
    assert counts["rede_poste"] == 364
    assert counts["rede_transformador"] == 6
    assert counts["pontos_ip"] == counts["rede_ponto_ip"] == 257
    assert counts["limite"] == 1
    # the four place=neighbourhood nodes of the demo, none mapped as an area
    assert counts["bairros"] == 4
    assert counts["bairros_area"] == 0
    bairros = read_layer(demo.path, "bairros")
    assert sorted(bairros["nome"]) == ["Bairro Alto", "Centro", "Jardim das Palmeiras", "Vila Nova"]
    assert set(bairros["tipo"]) == {"neighbourhood"}
    for name in territory_layers():
        assert len(read_layer(demo.path, name)) == counts[name]
        assert read_layer(demo.path, name).crs.to_epsg() == 31983


def test_demo_road_classification(demo: TerritoryReport) -> None:
    roads = read_layer(demo.path, "vias")
    by_name = roads.groupby("name")
    assert set(by_name.get_group("Avenida Brasil")["hierarquia"]) == {"principal"}
    assert not by_name.get_group("Avenida Brasil")["rural"].any()
    assert by_name.get_group("Estrada Municipal do Bairro Alto")["rural"].all()
    assert not by_name.get_group("Rua das Flores")["rural"].any()
    # The isolated loteamento street is kept and flagged; nothing else is.
    small = roads[roads["componente_pequena"]]
    assert set(small["name"]) == {"Rua Projetada Um"}
    assert len(small) == 2
    meta = read_metadata(demo.path)
    assert meta["regra_rural"].startswith("área urbana mapeada")


def test_demo_grid_and_lighting(demo: TerritoryReport) -> None:
    grid = read_layer(demo.path, "rede_existente")
    assert set(grid["fonte"]) == {"bdgd"}
    assert grid.geom_type.value_counts().to_dict() == {"Point": 627, "LineString": 479}
    lamps = read_layer(demo.path, "pontos_ip")
    poles = grid[grid["tipo"] == "poste"]
    # Every IP point stands on a pole of the grid (BDGD PIP.PN_CON = PONNOT.COD_ID).
    assert set(lamps["poste_id"]) <= set(poles["id_origem"])
    assert lamps.geometry.distance(poles.geometry.union_all()).max() < 1e-6
    assert lamps["potencia_w"].value_counts().to_dict() == {70.0: 181, 100.0: 49, 150.0: 27}


def test_demo_facilities_and_elevation(demo: TerritoryReport) -> None:
    facilities = read_layer(demo.path, "equipamentos")
    cats = facilities["categoria"].value_counts().to_dict()
    assert cats["escola"] == 3
    assert cats["ponto_onibus"] == 14
    assert cats["unidade_saude"] == 1
    assert "Escola Municipal Monteiro Lobato" in set(facilities["nome"])
    nodes = read_layer(demo.path, "nos")
    # DEM of the demo: valley ~900 m in the centre, hills to ~1,100 m.
    assert nodes["elevacao_m"].notna().all()
    assert 880 < nodes["elevacao_m"].min() < nodes["elevacao_m"].max() < 1120
    roads = read_layer(demo.path, "vias")
    u = roads.iloc[0]
    elev = nodes.set_index("osmid")["elevacao_m"]
    expected = round(100 * abs(elev[u["v"]] - elev[u["u"]]) / u["length"], 2)
    assert u["declividade_pct"] == pytest.approx(expected)


def test_demo_provenance(demo: TerritoryReport) -> None:
    meta = read_metadata(demo.path)
    assert meta["dados_ficticios"] is True
    assert meta["rotulo"] == "Município de Demonstração — dados fictícios"
    assert meta["atribuicao"] == "© OpenStreetMap contributors"
    assert meta["crs"] == "EPSG:31983"
    assert meta["osm_data"] == "2026-01-15T00:00:00Z"
    assert meta["regras_sha256"] == load_rules("demo").sha256
    by_kind = {s["tipo"]: s for s in meta["fontes"]}
    assert set(by_kind) == {"osm", "rede", "mde"}
    assert by_kind["osm"]["sha256"] == hashlib.sha256(DEMO_OSM.read_bytes()).hexdigest()
    assert meta["contagens"] == demo.counts
    info = pyogrio.read_info(demo.path, layer="vias")
    assert "dados fictícios" in info["layer_metadata"]["DESCRIPTION"]


def test_graph_rebuilt_from_geopackage_alone(demo: TerritoryReport, tmp_path: Path) -> None:
    copy = tmp_path / "so_o_gpkg.gpkg"
    shutil.copy(demo.path, copy)
    rebuilt = load_graph(copy)
    original = ox.project_graph(read_road_graph(DEMO_OSM, load_catalog().vias), to_crs="EPSG:31983")
    assert rebuilt.number_of_nodes() == original.number_of_nodes() == 134
    assert rebuilt.number_of_edges() == original.number_of_edges() == 410
    nodes = sorted(original.nodes)
    a, b = nodes[0], nodes[-1]
    d_rebuilt = nx.shortest_path_length(rebuilt.to_undirected(), a, b, weight="length")
    d_original = nx.shortest_path_length(original.to_undirected(), a, b, weight="length")
    assert d_rebuilt == pytest.approx(d_original)
    assert rebuilt.graph["crs"] == "EPSG:31983"


def test_cache_reused_and_invalidated(demo: TerritoryReport, tmp_path: Path) -> None:
    out = tmp_path / "t.gpkg"
    shutil.copy(demo.path, out)
    stamp = out.stat().st_mtime_ns
    again = build_territory(
        out, rules=load_rules("demo"), osm=DEMO_OSM, grids=[GridSource(DEMO_GRID)], dem=DEMO_DEM
    )
    assert again.reused is True
    assert out.stat().st_mtime_ns == stamp
    # Without the DEM the inputs changed: the file is rebuilt.
    changed = build_territory(
        out, rules=load_rules("demo"), osm=DEMO_OSM, grids=[GridSource(DEMO_GRID)]
    )
    assert changed.reused is False
    assert read_metadata(out)["mde"] is None
    assert np.isnan(read_layer(out, "nos")["elevacao_m"]).all()


def test_osm_grid_when_no_grid_given(tmp_path: Path) -> None:
    report = build_territory(tmp_path / "t.gpkg", rules=load_rules("demo"), osm=DEMO_OSM)
    grid = read_layer(report.path, "rede_existente")
    assert set(grid["fonte"]) == {"osm"}
    # Street lamps of the demo OSM become the lighting points.
    assert report.counts["pontos_ip"] == 28
    assert any("cobertura parcial" in w for w in report.warnings)


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def poa(poa_territory: TerritoryReport) -> TerritoryReport:
    return poa_territory


@pytest.mark.slow
def test_poa_territory(poa: TerritoryReport) -> None:
    assert poa.crs == "EPSG:31982"
    assert any("fora da área de uso do CRS" in w for w in poa.warnings)
    counts = poa.counts
    assert counts["pontos_ip"] == 263  # highway=street_lamp nodes in the extract
    assert counts["vias"] == 26333
    # By hand from the edge counts per highway (tests/test_osm.py):
    # principal = primary 674 + primary_link 39 + motorway 1 + motorway_link 1
    assert counts["vias_principal"] == 715
    # secundaria = secondary 2481 + secondary_link 119 + tertiary 4434 + tertiary_link 119
    assert counts["vias_secundaria"] == 7153
    # local = residential 9423 + service 4733 + living_street 3814 + track 306
    #         + unclassified 187 + road 2
    assert counts["vias_local"] == 18465
    assert counts["rede_via_iluminada"] == 734
    roads = read_layer(poa.path, "vias")
    assert roads.crs.to_epsg() == 31982
    # Only tracks and unclassified roads can be rural without a mapped urban area.
    assert set(roads.loc[roads["rural"], "highway"]) == {"track", "unclassified"}
    meta = read_metadata(poa.path)
    assert meta["osm_data"] == "2020-08-12T19:31:51Z"
    assert meta["dados_ficticios"] is False
    assert 0.8 < meta["mde"]["cobertura"] < 0.9


@pytest.mark.parametrize("arrow", [True, False])
def test_copy_layer_streams_the_rows_and_schema_in_batches(
    demo: TerritoryReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrow: bool
) -> None:
    from geo_ip.territory import writer as territory

    monkeypatch.setattr(territory, "_COPY_BATCH", 100)  # the demo's 410 roads: 5 batches
    monkeypatch.setattr(territory, "ARROW", arrow)
    target = tmp_path / "copia.gpkg"
    source = read_layer(demo.path, "vias")
    assert len(source) == 410
    territory.copy_layer(demo.path, "vias", target)
    territory.copy_layer(demo.path, "pontos_ip", target)  # added beside the first
    assert [str(n) for n in pyogrio.list_layers(target)[:, 0]] == ["vias", "pontos_ip"]
    before, after = (
        pyogrio.read_info(demo.path, layer="vias"),
        pyogrio.read_info(target, layer="vias"),
    )
    for key in ("crs", "geometry_type", "features"):
        assert after[key] == before[key], key
    assert list(zip(after["fields"], after["dtypes"], strict=True)) == list(
        zip(before["fields"], before["dtypes"], strict=True)
    )
    assert read_layer(target, "vias").equals(source)
    assert read_layer(target, "pontos_ip").equals(read_layer(demo.path, "pontos_ip"))


def test_arrow_ready_writes_mixed_columns_as_pyogrio_would() -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from geo_ip.territory.writer import _arrow_ready

    frame = gpd.GeoDataFrame(
        {
            "osmid": pd.Series([10, "11;12", None], dtype=object),
            "name": pd.Series(["a", None, "c"], dtype=object),
        },
        geometry=[shapely.Point(0, 0)] * 3,
        crs="EPSG:4326",
    )
    ready = _arrow_ready(frame)
    assert ready["osmid"].tolist() == ["10", "11;12", None]
    assert ready["name"].tolist() == ["a", None, "c"]
    assert frame["osmid"].tolist() == [10, "11;12", None]  # the input is left alone
    only_text = frame[["name", "geometry"]]
    assert _arrow_ready(only_text) is only_text  # nothing to convert: no copy


def test_roads_and_betweenness_in_the_helper_give_the_same_territory(
    demo: TerritoryReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.territory import roads as territory

    monkeypatch.setattr(territory, "PARALLEL_OSM_BYTES", 1)  # the demo's file is small
    monkeypatch.setattr(territory._parallel, "cores", lambda: 2)
    started: list[str] = []
    real_start = territory._parallel.start

    def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(f"{function.__module__}.{function.__qualname__}")
        return real_start(function, *args, **kwargs)

    monkeypatch.setattr(territory._parallel, "start", spy)
    helped = build_territory(
        tmp_path / "t.gpkg", rules=load_rules("demo"), osm=DEMO_OSM,
        grids=[GridSource(DEMO_GRID)], dem=DEMO_DEM,
    )  # fmt: skip
    assert started == ["geo_ip.territory.roads._road_job"]  # betweenness in the same helper
    assert helped.counts == demo.counts
    for layer in (*territory_layers(), "rede_ligacao"):
        a, b = read_layer(helped.path, layer), read_layer(demo.path, layer)
        assert a.equals(b), layer
    assert read_metadata(helped.path)["intermediacao"] == read_metadata(demo.path)["intermediacao"]
    assert read_layer(helped.path, "vias")["intermediacao"].max() > 0


def test_helper_betweenness_is_not_stored_on_other_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.territory import roads as territory

    monkeypatch.setattr(territory, "PARALLEL_OSM_BYTES", 1)
    monkeypatch.setattr(territory._parallel, "cores", lambda: 2)
    reading = territory.RoadReading(DEMO_OSM, load_catalog().vias, sample=20)
    try:
        arrays = reading.arrays()
        vias = pd.DataFrame({"u": arrays.u, "v": arrays.v, "length": arrays.length})
        shuffled = vias.iloc[::-1].reset_index(drop=True)
        assert reading.betweenness(shuffled) is None  # the caller computes it instead
        assert "intermediacao" not in shuffled.columns
        assert reading.betweenness(vias) is None  # collected once: nothing more to give
    finally:
        reading.stop()
    direct = territory.RoadReading(DEMO_OSM, load_catalog().vias, sample=20)
    try:
        arrays = direct.arrays()
        vias = pd.DataFrame({"u": arrays.u, "v": arrays.v, "length": arrays.length})
        record = direct.betweenness(vias)
    finally:
        direct.stop()
    assert record == {"amostra": 20, "semente": 0, "arestas": len(vias)}
    expected, percentile = edge_betweenness(vias, sample=20)
    np.testing.assert_array_equal(vias["intermediacao"], expected)
    np.testing.assert_array_equal(vias["intermediacao_percentil"], percentile)


def test_truncated_osm_read_beside_the_helper_gives_its_error_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    from geo_ip.territory import roads as territory

    monkeypatch.setattr(territory, "PARALLEL_OSM_BYTES", 1)
    monkeypatch.setattr(territory._parallel, "cores", lambda: 2)
    cut = tmp_path / "cortado.osm"
    data = DEMO_OSM.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "t.gpkg"
    with caplog.at_level(logging.WARNING, logger="geo_ip"), pytest.raises(OsmError) as info:
        build_territory(out, rules=load_rules("demo"), osm=cut, grids=[GridSource(DEMO_GRID)])
    assert str(cut) in str(info.value)
    assert "processo auxiliar" not in caplog.text  # the helper's failure is this error
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [cut]


@pytest.mark.parametrize(
    "job",
    [
        "fail_at_once",  # the build reads the roads itself
        "roads_then_fail",  # it computes the betweenness itself
    ],
)
def test_helper_dying_is_logged_once_and_the_build_does_its_work(
    demo: TerritoryReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any, job: str
) -> None:
    from geo_ip.territory import roads as territory

    monkeypatch.setattr(territory, "PARALLEL_OSM_BYTES", 1)
    monkeypatch.setattr(territory._parallel, "cores", lambda: 2)
    monkeypatch.setattr(territory, "_road_job", getattr(parallel_jobs, job))  # by reference
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        helped = build_territory(
            tmp_path / "t.gpkg", rules=load_rules("demo"), osm=DEMO_OSM,
            grids=[GridSource(DEMO_GRID)], dem=DEMO_DEM,
        )  # fmt: skip
    failure = (
        "vias do OSM e sua intermediação: processo auxiliar 1 falhou: "
        "o processo terminou de repente (EXIT(9))"
    )
    assert caplog.text.count(failure) == 1
    for layer in ("vias", "nos"):
        assert read_layer(helped.path, layer).equals(read_layer(demo.path, layer)), layer
