"""One symbology model for every layer, read from the layer catalog."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from geo_ip.errors import CatalogError
from geo_ip.outputs.styles import LAYER_NAMES, layer_style
from geo_ip.sources.catalog import load_catalog


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
    from geo_ip.outputs.styles import LayerStyle

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


def _near(png: bytes, colour: tuple[int, int, int]) -> int:
    """Pixels of a PNG within a small distance of ``colour`` (the PNG is quantised)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.int64)
    return int((np.abs(rgb - np.asarray(colour)).sum(axis=2) <= 40).sum())


def test_a_ring_colour_in_maps_reaches_the_web_map_and_the_sheet(
    demo_assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One colour changed in ``maps/pedido.toml`` shows on the request's web map and sheet."""
    import geo_ip.outputs.maps as maps_module
    from geo_ip._util.paths import resource_dir
    from geo_ip.outputs.sheets.sheets import static_map
    from geo_ip.outputs.web.webmap import request_map

    table = demo_assessment.table
    i = int(np.flatnonzero(table["protocolo"] == "PED-2026-0103")[0])
    assert demo_assessment.rules.avaliacao.raio_equipamentos_m.valor == 300  # a ring of its own
    green = (0, 255, 0)
    assert _near(static_map(demo_assessment, i), green) == 0
    text = (resource_dir("maps") / "pedido.toml").read_text(encoding="utf-8")
    old = 'rotulo_ficha = "equipamentos"\ncor = "#2874a6"'
    assert text.count(old) == 1
    new = text.replace(old, 'rotulo_ficha = "equipamentos"\ncor = "#00ff00"')
    (tmp_path / "pedido.toml").write_text(new, encoding="utf-8")
    monkeypatch.setattr(
        maps_module, "resource_dir", lambda name: tmp_path if name == "maps" else resource_dir(name)
    )
    maps_module._bundled.cache_clear()  # the bundled compositions are read once
    try:
        page = request_map(demo_assessment, i).get_root().render()
        png = static_map(demo_assessment, i)
    finally:
        maps_module._bundled.cache_clear()
    circles = re.findall(r'\{[^{}]*"color": "(#\w+)"[^{}]*"radius": ([\d.]+)', page)
    assert ("#00ff00", "300.0") in circles
    assert "border-color:#00ff00" in page  # the legend
    assert _near(png, green) > 200  # the ring and its legend line, in the same colour
