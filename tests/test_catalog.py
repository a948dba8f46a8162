from __future__ import annotations

from pathlib import Path

import pytest

from geo_ip.catalog import load_catalog
from geo_ip.errors import CatalogError


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
def test_hierarchy_crosswalk(highway: str, expected: str | None) -> None:
    assert load_catalog().vias.hierarchy_of(highway) == expected


@pytest.mark.parametrize(
    ("tags", "accepted"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "track"}, True),
        ({"highway": "service"}, True),
        ({"highway": "service", "service": "parking_aisle"}, False),
        ({"highway": "residential", "access": "private"}, False),
        ({"highway": "footway"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_graph_filter(tags: dict[str, str], accepted: bool) -> None:
    assert load_catalog().vias.grafo.accepts(tags) is accepted


@pytest.mark.parametrize(
    ("tags", "category"),
    [
        ({"amenity": "school"}, "escola"),
        ({"amenity": "kindergarten"}, "creche"),
        ({"healthcare": "centre"}, "unidade_saude"),
        ({"highway": "bus_stop"}, "ponto_onibus"),
        ({"public_transport": "platform", "bus": "yes"}, "ponto_onibus"),
        ({"public_transport": "platform"}, None),
        ({"highway": "crossing"}, "travessia"),
        ({"leisure": "park"}, "praca"),
        ({"amenity": "police"}, "policia"),
        ({"amenity": "bench"}, None),
    ],
)
def test_facility_categories(tags: dict[str, str], category: str | None) -> None:
    assert load_catalog().equipamentos.category_of(tags) == category


def test_malformed_catalog_names_file_and_key(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "layers"
    for name in ("vias", "equipamentos", "rede_existente"):
        (tmp_path / f"{name}.toml").write_text(
            (src / f"{name}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    text = (tmp_path / "vias.toml").read_text(encoding="utf-8")
    (tmp_path / "vias.toml").write_text(text.replace("largura = 4.0", 'largura = "larga"'))
    with pytest.raises(CatalogError, match=r"vias\.toml.*campo 'classes\.principal\.largura'"):
        load_catalog(tmp_path)
    (tmp_path / "equipamentos.toml").unlink()
    (tmp_path / "vias.toml").write_text(text)
    with pytest.raises(CatalogError, match=r"equipamentos\.toml.*não encontrado"):
        load_catalog(tmp_path)
