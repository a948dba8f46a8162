"""The territory is opened once per run and each of its layers is read once (issue 19)."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from geo_ip.errors import TerritoryError
from geo_ip.pipeline import assess
from geo_ip.rules.config import load_rules
from geo_ip.territory import reader
from geo_ip.territory.reader import Territory, load_graph, read_layer, read_metadata
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the layers read from a GeoPackage by the territory's readers."""
    counted: Counter[str] = Counter()
    original = reader.read_dataframe

    def counting(path: Any, layer: str, **options: Any) -> Any:
        columns = options.get("columns")
        counted[layer if columns is None else f"{layer}{sorted(columns)}"] += 1
        return original(path, layer, **options)

    monkeypatch.setattr(reader, "read_dataframe", counting)
    return counted


def test_an_opened_territory_reads_a_layer_once(demo_territory: Path, reads: Counter[str]) -> None:
    territory = Territory(demo_territory)
    first = territory.layer("vias")
    assert read_layer(territory, "vias") is first  # the same table, not read again
    assert reads == Counter({"vias": 1})
    graph = load_graph(territory)
    assert load_graph(territory) is graph
    assert reads == Counter({"vias": 1, "nos": 1})
    assert graph.number_of_edges() == len(first) == 410  # the demo's 410 road edges
    assert read_metadata(territory) is territory.metadata
    assert territory.crs == "EPSG:31983"  # SIRGAS 2000 / UTM 23S, Extrema's zone


def test_some_columns_come_from_the_whole_layer_once_it_is_read(
    demo_territory: Path, reads: Counter[str]
) -> None:
    territory = Territory(demo_territory)
    lamps = territory.columns("pontos_ip", ["potencia_w", "nao_existe"])
    assert list(lamps.columns) == ["potencia_w", "geometry"]
    assert territory.columns("pontos_ip", ["potencia_w", "nao_existe"]) is lamps
    assert reads == Counter({"pontos_ip['potencia_w']": 1})
    whole = territory.layer("pontos_ip")
    assert list(territory.columns("pontos_ip", ["fonte"]).columns) == ["fonte", "geometry"]
    assert reads == Counter({"pontos_ip['potencia_w']": 1, "pontos_ip": 1})
    assert len(whole) == len(lamps)


def test_a_path_is_read_every_time(demo_territory: Path, reads: Counter[str]) -> None:
    read_layer(demo_territory, "vias")
    read_layer(demo_territory, "vias")
    assert reads == Counter({"vias": 2})


def test_a_whole_assessment_reads_each_layer_at_most_once(
    demo_territory: Path, reads: Counter[str]
) -> None:
    result = assess(
        demo_territory,
        DEMO / "pedidos.csv",
        load_rules("demo"),
        occurrences=DEMO / "ocorrencias.csv",
        decisions=DEMO / "decisoes.csv",
        history=DEMO / "beneficios_anteriores.csv",
        budget=DEMO_BUDGET,
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )
    assert isinstance(result.territory, Territory)
    # the whole layers the stages share; the context takes only the geometry of the
    # lamps and buildings (read apart when no stage has read the whole layer yet)
    assert {"vias", "rede_existente", "limite", "edificacoes"} <= set(reads)
    assert max(reads.values()) == 1, reads
    # the writers read from the same territory: nothing more from the file
    read_layer(result.territory, "vias")
    read_layer(result.territory, "pontos_ip", missing_ok=True)
    read_layer(result.territory, "pontos_ip", missing_ok=True)
    assert reads["vias"] == 1 and reads["pontos_ip"] == 1


def test_layer_crs_is_the_tables_without_reading_it(
    demo_territory: Path, reads: Counter[str]
) -> None:
    territory = Territory(demo_territory)
    assert territory.layer_crs("vias") == "EPSG:31983"
    assert reads == Counter()  # no feature read
    assert territory.layer_crs("vias") == str(territory.layer("vias").crs)
    with pytest.raises(TerritoryError):
        territory.layer_crs("nao_existe")


def test_forgotten_layers_are_read_again_when_asked(
    demo_territory: Path, reads: Counter[str]
) -> None:
    territory = Territory(demo_territory)
    roads = territory.layer("vias")
    lamps = territory.columns("pontos_ip", ["potencia_w"])
    graph = load_graph(territory)
    territory.forget_layers()
    assert territory.layer("vias") is not roads
    assert territory.layer("vias").equals(roads)
    assert territory.columns("pontos_ip", ["potencia_w"]).equals(lamps)
    assert load_graph(territory) is not graph
    assert reads == Counter({"vias": 2, "pontos_ip['potencia_w']": 2, "nos": 2})


def test_outputs_without_maps_free_the_territory_layers(
    demo_territory: Path, reads: Counter[str], tmp_path: Path
) -> None:
    """Without maps nor sheets no writer draws the layers: their memory goes to the outputs."""
    from geo_ip.outputs.files import write_outputs

    result = assess(demo_territory, DEMO / "pedidos.csv", load_rules("demo"), key=DEMO_KEY)
    territory = result.territory
    assert isinstance(territory, Territory)
    roads = territory.layer("vias")
    write_outputs(result, tmp_path / "com_mapas", maps=True, sheets=False)
    assert territory.layer("vias") is roads  # the maps drew from the same table
    write_outputs(result, tmp_path / "sem_mapas", maps=False, sheets=False)
    assert territory.layer("vias") is not roads
    assert reads["vias"] == 2


def test_a_territory_pickles_as_its_path(demo_territory: Path) -> None:
    territory = Territory(demo_territory)
    territory.layer("vias")
    copy = pickle.loads(pickle.dumps(territory))
    assert copy.path == territory.path
    assert copy._layers == {}  # a worker process reads only what it needs
    assert len(pickle.dumps(territory)) < 1_000


def test_open_keeps_an_opened_territory_and_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TerritoryError, match="território não encontrado"):
        Territory(tmp_path / "nada.gpkg")
    with pytest.raises(TerritoryError, match="território não encontrado"):
        Territory.open(str(tmp_path / "nada.gpkg"))
