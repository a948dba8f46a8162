"""One symbology model for every layer, read from the layer catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_ip.catalog import load_catalog
from geo_ip.errors import CatalogError
from geo_ip.styles import LAYER_NAMES, layer_style


def test_every_layer_has_a_style_with_aliases() -> None:
    for name in LAYER_NAMES:
        style = layer_style(name)
        assert style.camada == name
        assert style.classes, name
        assert style.campos, name
        assert style.grupo in {"Pedidos", "Rede", "Vias", "Equipamentos", "Segurança"}


def test_roads_follow_the_hierarchy_classes() -> None:
    style = layer_style("vias")
    assert (style.tipo, style.campo) == ("categorizado", "hierarquia")
    assert [c.valor for c in style.classes] == ["principal", "secundaria", "local"]
    assert style.symbol_for("principal").cor == load_catalog().vias.classes["principal"].cor


def test_requests_by_situation_and_by_score() -> None:
    style = layer_style("pedidos")
    assert style.symbol_for("erro").cor == "#c0392b"
    assert style.symbol_for("desconhecida").valor == "classificado"  # first class
    score = load_catalog().pedidos.alternativos["pontuacao"]
    assert (score.tipo, score.campo) == ("graduado", "pontuacao_total")
    from geo_ip.styles import LayerStyle

    graded = LayerStyle(**{**style.model_dump(), "tipo": "graduado", "campo": "pontuacao_total",
                           "classes": score.classes})  # fmt: skip
    assert graded.symbol_for(39.9).rotulo == "0 a 40 pontos"
    assert graded.symbol_for(40).rotulo == "40 a 60 pontos"
    assert graded.symbol_for(100).rotulo == "80 a 100 pontos"
    assert graded.symbol_for("x").rotulo == "0 a 40 pontos"


def test_grid_points_and_lines() -> None:
    style = layer_style("rede_existente")
    assert style.symbol_for("bt").geometria == "linha"
    assert style.symbol_for("poste").geometria == "ponto"


def _copy_catalog(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "layers"
    for toml in src.glob("*.toml"):
        (tmp_path / toml.name).write_text(toml.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('campo = "situacao"\n', "", "precisa de 'campo'"),
        ('cor = "#1e8449"', 'cor = "verde"', "estilo.classes.0.cor"),
        ("minimo = 40, maximo = 60", "minimo = 60, maximo = 40", "informe minimo < maximo"),
    ],
)
def test_bad_styles_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    _copy_catalog(tmp_path)
    path = tmp_path / "pedidos.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(tmp_path)
