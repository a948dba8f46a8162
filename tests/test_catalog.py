from __future__ import annotations

from pathlib import Path

import pytest

from geo_ip.errors import CatalogError
from geo_ip.sources.catalog import load_catalog


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
    for toml in src.glob("*.toml"):
        (tmp_path / toml.name).write_text(toml.read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "vias.toml").read_text(encoding="utf-8")
    (tmp_path / "vias.toml").write_text(text.replace("largura = 4.0", 'largura = "larga"'))
    with pytest.raises(CatalogError, match=r"vias\.toml.*campo 'classes\.principal\.largura'"):
        load_catalog(tmp_path)
    (tmp_path / "equipamentos.toml").unlink()
    (tmp_path / "vias.toml").write_text(text)
    with pytest.raises(CatalogError, match=r"equipamentos\.toml.*não encontrado"):
        load_catalog(tmp_path)


def test_facility_flags() -> None:
    cats = load_catalog().equipamentos.categorias
    public = {name for name, c in cats.items() if c.equipamento_publico}
    night = {name for name, c in cats.items() if c.gerador_noturno}
    # Art. 9 §3, III: every category but crossings, bus stops and private doctors'
    # offices is a public or community facility.
    assert set(cats) - public == {
        "travessia",
        "ponto_onibus",
        "consultorio",
        "lavoura",
        "terreiro",
        "silo",
        "agroindustria",
    }
    # Art. 9 §7, IV: places with pedestrians at night (bus stops among them).
    assert night == {
        "escola", "universidade", "hospital", "unidade_saude", "praca", "quadra",
        "centro_comunitario", "ponto_onibus",
    }  # fmt: skip
    assert not cats["creche"].gerador_noturno  # closed at night
    assert cats["ponto_onibus"].gerador_noturno and not cats["ponto_onibus"].equipamento_publico


@pytest.mark.parametrize("flag", ["equipamento_publico", "gerador_noturno"])
def test_facility_flag_is_required(tmp_path: Path, flag: str) -> None:
    src = Path(__file__).resolve().parent.parent / "layers"
    for toml in src.glob("*.toml"):
        (tmp_path / toml.name).write_text(toml.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_catalog(tmp_path).equipamentos.categorias["creche"].equipamento_publico
    text = (tmp_path / "equipamentos.toml").read_text(encoding="utf-8")
    head, creche, tail = text.partition("[categorias.creche]")
    body, nxt, rest = tail.partition("\n[")
    body = "\n".join(line for line in body.split("\n") if not line.startswith(f"{flag} ="))
    (tmp_path / "equipamentos.toml").write_text(head + creche + body + nxt + rest, encoding="utf-8")
    with pytest.raises(
        CatalogError,
        match=rf"equipamentos\.toml.*campo 'categorias\.creche\.{flag}': chave obrigatória ausente",
    ):
        load_catalog(tmp_path)
