"""Colours that belong to no layer live in ``maps/cores.toml``: one definition, every writer."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import geo_ip.outputs.palette as palette_module
from geo_ip._util.paths import resource_dir
from geo_ip.errors import CatalogError
from geo_ip.outputs.palette import PALETTE_FILE, load_palette
from tests.conftest import DEMO

GREEN = "#00ff00"


def _near(png: bytes, colour: tuple[int, int, int]) -> int:
    """Pixels of a PNG within a small distance of ``colour`` (the PNG is quantised)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.int64)
    return int((np.abs(rgb - np.asarray(colour)).sum(axis=2) <= 40).sum())


@pytest.fixture
def maps_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of ``maps/`` that the palette is read from (edit its ``cores.toml``)."""
    folder = tmp_path / "maps"
    shutil.copytree(resource_dir("maps"), folder)

    def moved(name: str) -> Path:
        return folder if name == "maps" else resource_dir(name)

    monkeypatch.setattr(palette_module, "resource_dir", moved)
    palette_module._bundled.cache_clear()  # the bundled palette is read once
    yield folder
    palette_module._bundled.cache_clear()


def _recolour(folder: Path, old: str, new: str) -> None:
    path = folder / PALETTE_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    palette_module._bundled.cache_clear()


def test_the_bundled_palette_keeps_the_page_colours_of_the_sheets() -> None:
    palette = load_palette()
    assert palette.arquivo == resource_dir("maps") / PALETTE_FILE
    page = palette.pagina
    assert (page.tinta, page.faixa, page.texto_faixa) == ("#1b2631", "#1f4e78", "#ffffff")
    assert palette.workbook_header(border=1) == {
        "bold": True, "font_color": "#ffffff", "bg_color": "#1f4e78", "text_wrap": True,
        "border": 1,
    }  # fmt: skip
    assert set(palette.contornos) <= {"pontos_ip", "equipamentos", "ocorrencias",
                                      "postes_propostos", "pedidos"}  # fmt: skip


def test_the_ink_reaches_the_web_map_the_sheet_map_the_sheet_and_the_letter(
    demo_assessment: Any, maps_copy: Path
) -> None:
    """``[pagina] tinta`` changed once: the request's web map, its static map, the PDF pages."""
    from geo_ip.cadastre import letter
    from geo_ip.outputs.sheets import pdf
    from geo_ip.outputs.sheets.sheets import static_map
    from geo_ip.outputs.web.webmap import request_map

    table = demo_assessment.table
    i = int(np.flatnonzero(table["protocolo"] == "PED-2026-0103")[0])
    green = (0, 255, 0)
    assert _near(static_map(demo_assessment, i), green) == 0
    _recolour(maps_copy, 'tinta = "#1b2631"', f'tinta = "{GREEN}"')
    page = request_map(demo_assessment, i).get_root().render()
    assert re.search(r"<style>:root \{[^}]*--gi-tinta: #00ff00;", page)  # mapa.css reads it
    assert "#1b2631" not in page
    assert _near(static_map(demo_assessment, i), green) > 20  # the labels and the attribution
    for module in (pdf, letter):  # the sheet's page and the utility letter's, the same ink
        assert module._page().tinta == GREEN
    assert pdf._styles(1.0)["base"].textColor.hexval() == "0x00ff00"


def test_an_outline_reaches_the_web_map_and_the_sheet_map(
    demo_assessment: Any, maps_copy: Path
) -> None:
    """``[contornos]`` outlines the circles of the web map and the points of the sheet's map."""
    from geo_ip.outputs.sheets.staticmap import MapRenderer
    from geo_ip.outputs.web.webmap import request_map

    table = demo_assessment.table
    i = int(np.flatnonzero(table["protocolo"] == "PED-2026-0103")[0])
    _recolour(maps_copy, 'postes_propostos = "#ffffff"', f'postes_propostos = "{GREEN}"')
    page = request_map(demo_assessment, i).get_root().render()
    assert '"borda":"#00ff00"' in page  # the proposed poles' circles
    assert MapRenderer(demo_assessment)._outline("postes_propostos") == GREEN


def test_an_outline_reaches_the_qgis_style_too(maps_copy: Path) -> None:
    """QGIS draws the points with the same outline as the web map and the sheet."""
    from geo_ip.outputs.qgis.qml import qml_document
    from geo_ip.outputs.styles import layer_style

    lamps = qml_document(layer_style("pontos_ip"), "Point")
    assert 'k="outline_color" v="125,102,8,255"' in lamps  # #7d6608 of cores.toml
    _recolour(maps_copy, 'pontos_ip = "#7d6608"', f'pontos_ip = "{GREEN}"')
    lamps = qml_document(layer_style("pontos_ip"), "Point")
    assert 'k="outline_color" v="0,255,0,255"' in lamps
    assert "125,102,8,255" not in lamps
    # a layer without an outline in cores.toml keeps QGIS's dark grey
    grid = qml_document(layer_style("rede_existente"), "Point")
    assert 'k="outline_color" v="50,50,50,255"' in grid


def test_the_workbook_header_comes_from_the_palette(maps_copy: Path, tmp_path: Path) -> None:
    from geo_ip.cip.engine import compute_cip, write_cip_outputs

    _recolour(maps_copy, 'faixa = "#1f4e78"', f'faixa = "{GREEN}"')
    _recolour(maps_copy, 'texto_faixa = "#ffffff"', 'texto_faixa = "#0000ff"')
    result = compute_cip("municipio_demo", DEMO / "consumidores.csv")
    write_cip_outputs(result, tmp_path / "cip")
    with zipfile.ZipFile(tmp_path / "cip" / "cip.xlsx") as book:
        styles = book.read("xl/styles.xml").decode("utf-8")
    assert '<fgColor rgb="FF00FF00"/>' in styles and '<color rgb="FF0000FF"/>' in styles
    assert "1F4E78" not in styles.upper()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('faixa = "#1f4e78"', 'faixa = "azul"', "pagina.faixa"),
        ('pedidos = "#000000"', 'estradas = "#000000"', "contornos.estradas"),
        ('papel = "#fbfcfc"', "", "mapa_ficha.papel"),
    ],
)
def test_a_bad_palette_is_refused_with_the_file_and_key(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    path = tmp_path / PALETTE_FILE
    text = (resource_dir("maps") / PALETTE_FILE).read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(key)) as info:
        load_palette(path)
    assert str(path) in str(info.value)


# --- the score scale and the bus stops (issue 21, item 3) ------------------------------------

PROPOSED_SCORE_SCALE = ("#1e9c89", "#2c738e", "#414487", "#440154")
"""viridis at 0.55, 0.38, 0.20 and 0.0, lowest band first: the scale proposed for
``alternativos.pontuacao`` of ``layers/pedidos.toml`` (issue 21)."""


def test_contrast_ratio_follows_wcag() -> None:
    from geo_ip.outputs.palette import contrast_ratio, relative_luminance

    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#fdebd0", "#ffffff") == pytest.approx(1.17, abs=0.01)  # the old one


def _sequential_and_readable(colours: tuple[str, ...]) -> None:
    from geo_ip.outputs.palette import contrast_ratio, relative_luminance

    background = load_palette().mapa_web.fundo
    # the lowest band stands out from white and from the map without a base map (3:1)
    assert contrast_ratio(colours[0], "#ffffff") >= 3.0
    assert contrast_ratio(colours[0], background) >= 3.0
    # darker with every band, each step visible in grey (so for any colour blindness)
    lights = [relative_luminance(c) for c in colours]
    assert lights == sorted(lights, reverse=True)
    for a, b in itertools.pairwise(colours):
        assert contrast_ratio(a, b) >= 1.5, (a, b)


def test_the_proposed_score_scale_is_sequential_and_readable() -> None:
    _sequential_and_readable(PROPOSED_SCORE_SCALE)


def test_the_catalog_score_scale_is_sequential_and_readable() -> None:
    from geo_ip.sources.catalog import load_catalog

    classes = load_catalog().pedidos.alternativos["pontuacao"].classes
    _sequential_and_readable(tuple(c.cor for c in classes))
