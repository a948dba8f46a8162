"""The legal classification of the roads lives in the rules file (issue 19).

The crosswalk OSM ``highway`` → hierarchy (Art. 9 §8) and the rural-road rule
(Art. 12) are rules of the municipality (``[hierarquia_viaria]``, ``[via_rural]``),
validated with the rest of the rules and applied by the territory build; the layer
catalog (``layers/vias.toml``) keeps only the OSM graph filter and the styles.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from geo_ip.errors import CatalogError, RulesError
from geo_ip.rules.config import Rules, load_rules
from geo_ip.sources.catalog import load_catalog
from geo_ip.territory.build import build_territory
from geo_ip.territory.reader import read_layer
from tests.conftest import ROOT

# A tiny town near Extrema (EPSG:31983): a primary road, a tertiary one and a
# residential street, all connected (node id: lon, lat).
_NODES = {
    1: (-46.3200, -22.8500),
    2: (-46.3190, -22.8500),
    3: (-46.3180, -22.8500),
    4: (-46.3180, -22.8490),
    5: (-46.3180, -22.8480),
    6: (-46.3170, -22.8480),
    7: (-46.3160, -22.8480),
}
_WAYS = {
    10: ([1, 2, 3], {"highway": "primary", "name": "Avenida Principal"}),
    11: ([3, 4, 5], {"highway": "tertiary", "name": "Rua Terciária"}),
    12: ([5, 6, 7], {"highway": "residential", "name": "Rua Residencial"}),
}
_MOVED = """herda = "extrema"

[hierarquia_viaria]
secundaria = ["secondary"]
local = ["tertiary", "residential", "living_street", "unclassified", "road", "service", "track"]
"""


def _osm(folder: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in _NODES.items():
        lines.append(f'<node id="{nid}" lat="{lat}" lon="{lon}"/>')
    for wid, (refs, tags) in _WAYS.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{wid}">{nds}{tag_xml}</way>')
    lines.append("</osm>")
    path = folder / "cidade.osm"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _hierarchy(path: Path) -> dict[str, set[str]]:
    roads = read_layer(path, "vias")
    return {name: set(group["hierarquia"]) for name, group in roads.groupby("name")}


@pytest.mark.parametrize(
    ("highway", "expected"),
    [
        ("motorway", "principal"),
        ("trunk_link", "principal"),
        ("primary", "principal"),
        ("secondary", "secundaria"),
        ("tertiary_link", "secundaria"),
        ("residential", "local"),
        ("living_street", "local"),
        ("unclassified", "local"),
        ("service", "local"),
        ("track", "local"),
        ("footway", None),
    ],
)
def test_hierarchy_crosswalk_of_the_rules(highway: str, expected: str | None) -> None:
    assert load_rules("extrema").hierarquia_viaria.hierarchy_of(highway) == expected


def test_the_rural_rule_is_in_the_rules_with_its_sources() -> None:
    rules = load_rules("extrema")
    assert "Art. 9 §8" in rules.hierarquia_viaria.fonte
    rural = rules.via_rural
    assert rural.highway_candidatos == ("track", "unclassified")
    assert (rural.margem_area_urbana_m.valor, rural.margem_area_urbana_m.unidade) == (100, "m")
    for param in (
        rural.margem_area_urbana_m,
        rural.distancia_edificacao_m,
        rural.raio_cruzamentos_m,
        rural.cruzamentos_minimos,
    ):
        assert param.to_be_decreed
    assert load_rules("demo").via_rural == rural  # inherited


def test_moving_tertiary_to_local_rebuilds_the_territory(tmp_path: Path) -> None:
    osm = _osm(tmp_path)
    out = tmp_path / "territorio.gpkg"
    extrema = load_rules("extrema")
    first = build_territory(out, rules=extrema, osm=osm)
    assert _hierarchy(out) == {
        "Avenida Principal": {"principal"},
        "Rua Terciária": {"secundaria"},
        "Rua Residencial": {"local"},
    }
    assert first.counts["vias_secundaria"] > 0
    moved_file = tmp_path / "regras.toml"
    moved_file.write_text(_MOVED, encoding="utf-8")
    moved = load_rules(moved_file)
    assert moved.hierarquia_viaria.hierarchy_of("tertiary") == "local"
    # the same file hash: only the crosswalk in the cache key can tell the change
    same_hash: Rules = extrema.model_copy(update={"hierarquia_viaria": moved.hierarquia_viaria})
    again = build_territory(out, rules=same_hash, osm=osm)
    assert again.reused is False
    assert _hierarchy(out)["Rua Terciária"] == {"local"}
    assert again.counts["vias_secundaria"] == 0
    assert build_territory(out, rules=same_hash, osm=osm).reused is True


def test_a_highway_in_two_classes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "regras.toml"
    path.write_text(
        'herda = "extrema"\n[hierarquia_viaria]\nlocal = ["residential", "tertiary"]\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert caught.value.field == "hierarquia_viaria.local"
    message = str(caught.value)
    assert str(path) in message
    assert "'tertiary' está em duas classes (secundaria e local)" in message


@pytest.mark.parametrize(
    ("table", "text", "field", "words"),
    [
        ("hierarquia_viaria", 'principal = ["primary_link"]', "hierarquia_viaria.principal",
         "tem a classe da via-mãe"),
        ("hierarquia_viaria", "local = []", "hierarquia_viaria.local", "lista vazia"),
        ("via_rural", 'highway_candidatos = ["path"]', "via_rural.highway_candidatos",
         "sem classe em hierarquia_viaria"),
        ("via_rural", 'cruzamentos_minimos = { valor = 2.5, unidade = "cruzamentos", '
         'fonte = "teste" }', "via_rural.cruzamentos_minimos", "número inteiro"),
        ("via_rural", 'raio_cruzamentos_m = { valor = 0, unidade = "m", fonte = "teste" }',
         "via_rural.raio_cruzamentos_m", "maior que zero"),
        ("via_rural", 'margem_area_urbana_m = { valor = 9000, unidade = "m", fonte = "teste" }',
         "via_rural.margem_area_urbana_m", "no máximo 5000"),
    ],
)  # fmt: skip
def test_road_rules_out_of_bounds_are_refused(
    tmp_path: Path, table: str, text: str, field: str, words: str
) -> None:
    path = tmp_path / "regras.toml"
    path.write_text(f'herda = "extrema"\n[{table}]\n{text}\n', encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_the_catalog_holds_no_highway_lists_under_classes(tmp_path: Path) -> None:
    raw = tomllib.loads((ROOT / "layers" / "vias.toml").read_text(encoding="utf-8"))
    assert set(raw["classes"]) == {"principal", "secundaria", "local"}
    for style in raw["classes"].values():
        assert "highway" not in style
        assert {"rotulo", "cor", "largura"} <= set(style)
    assert "rural" not in raw
    assert "highway" in raw["grafo"]  # which ways are drivable stays: data about OSM
    # a catalog that still crosswalks in a class is refused
    folder = tmp_path / "layers"
    folder.mkdir()
    for source in (ROOT / "layers").glob("*.toml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    vias = folder / "vias.toml"
    text = vias.read_text(encoding="utf-8")
    vias.write_text(
        text.replace('rotulo = "Local"', 'rotulo = "Local"\nhighway = ["residential"]'),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError):
        load_catalog(folder)
