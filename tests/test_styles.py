"""One symbology model for every layer, read from the layer catalog."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from PIL import Image

from geo_ip.cadastre.package import build_cadastre, write_cadastre
from geo_ip.errors import CatalogError
from geo_ip.outputs.qgis.project import style_geopackage
from geo_ip.outputs.styles import (
    BACKGROUND_GROUP,
    BACKGROUND_LAYERS,
    EXTRA_LAYER_NAMES,
    LAYER_NAMES,
    extra_style,
    layer_style,
)
from geo_ip.rules.config import load_rules
from geo_ip.sources.catalog import load_catalog
from geo_ip.territory.build import build_territory
from geo_ip.territory.writer import territory_layers
from tests.conftest import DEMO


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


# --- default styles of the territory and of the cadastre package ------------------------------


def _layer_styles(gpkg: Path) -> dict[str, list[tuple[str, int, ET.Element]]]:
    """Per table: (style name, default flag, parsed QML) of the GeoPackage's layer_styles."""
    out: dict[str, list[tuple[str, int, ET.Element]]] = {}
    with closing(sqlite3.connect(gpkg)) as con:
        rows = con.execute(
            "SELECT f_table_name, styleName, useAsDefault, styleQML, f_geometry_column "
            "FROM layer_styles ORDER BY id"
        ).fetchall()
        columns = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    for table, name, default, qml, column in rows:
        assert column == columns[table]
        assert qml.startswith("<!DOCTYPE qgis")
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis"
        out.setdefault(table, []).append((name, default, root))
    return out


def _renderer(root: ET.Element) -> tuple[str | None, str | None]:
    renderer = root.find("renderer-v2")
    assert renderer is not None
    return renderer.get("type"), renderer.get("attr")


def test_every_layer_outside_the_catalog_has_a_style_of_its_own() -> None:
    assert set(BACKGROUND_LAYERS) - {"vias"} <= set(EXTRA_LAYER_NAMES)
    assert not set(EXTRA_LAYER_NAMES) & set(LAYER_NAMES)
    for name in EXTRA_LAYER_NAMES:
        style = extra_style(name)
        assert style is not None and style.camada == name and style.campos, name
        if name == "cursos_agua":  # rivers wider than canals, canals than streams
            assert style.tipo == "categorizado" and style.campo == "tipo", name
            widths = {c.valor: c.largura for c in style.classes}
            assert widths["Rio"] > widths["Canal"] > widths["Córrego"], widths
            continue
        assert style.tipo == "simples" and len(style.classes) == 1, name
    assert extra_style("edificacoes").grupo == BACKGROUND_GROUP  # type: ignore[union-attr]
    assert extra_style("pontos_incluir").classes[0].cor == "#1a9850"  # type: ignore[union-attr]
    assert extra_style("nao_existe") is None


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("territorio_estilos") / "territorio.gpkg"
    build_territory(
        out, rules=load_rules("demo"), osm=DEMO / "municipio_demo.osm", styler=style_geopackage
    )
    return out


def test_territory_opens_styled_in_qgis(territory: Path) -> None:
    styles = _layer_styles(territory)
    assert set(styles) == set(territory_layers())
    for table, rows in styles.items():  # one default style per layer, named after it
        assert (rows[0][0], rows[0][1]) == (table, 1), table
        assert sum(default for _, default, _ in rows) == 1, table
    assert _renderer(styles["vias"][0][2]) == ("categorizedSymbol", "hierarquia")
    assert _renderer(styles["equipamentos"][0][2]) == ("categorizedSymbol", "categoria")
    assert _renderer(styles["rede_existente"][0][2]) == ("RuleRenderer", None)
    kinds = {"edificacoes": "marker", "bairros": "marker", "nos": "marker",
             "limite": "fill", "area_urbana": "fill", "equipamentos_pegada": "fill"}  # fmt: skip
    for table, kind in kinds.items():
        root = styles[table][0][2]
        assert _renderer(root) == ("singleSymbol", None), table
        symbol = root.find("renderer-v2/symbols/symbol")
        assert symbol is not None and symbol.get("type") == kind, table
    buildings = styles["edificacoes"][0][2]
    aliases = {a.get("field"): a.get("name") for a in buildings.iter("alias")}
    assert aliases["logradouro"] == "Logradouro"
    # still a territory: the layers read as before
    assert len(pyogrio.read_dataframe(territory, layer="vias")) > 0


def test_territory_without_a_styler_has_no_style_table(tmp_path: Path) -> None:
    out = tmp_path / "t.gpkg"
    build_territory(out, rules=load_rules("demo"), osm=DEMO / "municipio_demo.osm")
    with closing(sqlite3.connect(out)) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "layer_styles" not in tables


def test_cadastre_package_opens_styled_in_qgis(tmp_path: Path) -> None:
    rules = load_rules("demo")
    x0, y0, utm = 357_000.0, 7_465_000.0, "EPSG:31983"

    def frame(data: dict[str, list[object]], points: list[object]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(points, crs=utm), crs=utm)

    folder = tmp_path / "avaliacao"
    folder.mkdir()
    gpkg = folder / "avaliacao.gpkg"
    layers = {
        "pedidos": frame(
            {"protocolo": ["PED-A"], "situacao": ["classificado"],
             "selecionado_orcamento": ["sim"], "logradouro": ["Rua Teste"],
             "bairro": ["Centro"], "data_protocolo": ["2026-05-01"], "postes_novos": [1]},
            [shapely.Point(x0 + 1000, y0)],
        ),
        "postes_propostos": frame(
            {"protocolo": ["PED-A"], "numero": [1]}, [shapely.Point(x0 + 965, y0)]
        ),
        "pontos_ip": frame(
            {"fonte": ["bdgd"], "id_origem": ["A1"], "poste_id": ["P1"], "potencia_w": [60.0],
             "tipo_lampada": ["9"], "energia_kwh_ano": [250.0]},
            [shapely.Point(x0, y0)],
        ),
        "vias": frame(
            {"name": ["Rua Teste"]},
            [shapely.LineString([(x0 - 100, y0 + 5), (x0 + 1200, y0 + 5)])],
        ),
    }  # fmt: skip
    for name, layer in layers.items():
        pyogrio.write_dataframe(layer, gpkg, layer=name, driver="GPKG")
    provenance = {"regras": {"sha256": rules.sha256}, "carimbo": "avaliação de teste"}
    (folder / "proveniencia.json").write_text(json.dumps(provenance), encoding="utf-8")
    executed = tmp_path / "executadas.csv"
    executed.write_text(
        "protocolo;data_execucao;latitude;longitude;tipo_lampada;potencia_w;poste\n"
        "PED-A;10/11/2026;;;;;\n",
        encoding="utf-8",
    )
    removed = tmp_path / "removidos.csv"
    removed.write_text(
        "id_ponto,latitude,longitude,potencia_w,data_remocao,motivo\n"
        "A1,,,60,2026-11-12,troca por LED\n",
        encoding="utf-8",
    )
    cadastre = build_cadastre(folder, executed, rules, removed=removed, today=date(2026, 12, 1))
    out = tmp_path / "cadastro"
    write_cadastre(cadastre, out)
    styles = _layer_styles(out / "cadastro_ip.gpkg")
    assert {t: [(n, d) for n, d, _ in rows] for t, rows in styles.items()} == {
        "pontos_incluir": [("pontos_incluir", 1)],
        "pontos_excluir": [("pontos_excluir", 1)],
    }
    colours = {}
    for table, ((_, _, root),) in styles.items():
        assert _renderer(root) == ("singleSymbol", None), table
        prop = root.find("renderer-v2/symbols/symbol/layer/prop[@k='color']")
        colours[table] = prop.get("v") if prop is not None else None
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases["potencia_w"] == "Potência (W)", table
    assert colours == {"pontos_incluir": "26,152,80,255", "pontos_excluir": "215,48,39,255"}
    assert pyogrio.read_info(out / "cadastro_ip.gpkg", layer="pontos_incluir")["features"] > 0
