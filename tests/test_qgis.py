"""QGIS deliverables: `layer_styles` in avaliacao.gpkg and the avaliacao.qgz project.

The expected renderers and class counts are read off ``layers/*.toml`` by hand:
vias 3 hierarchy classes, pedidos 8 situations (+ the graduated "pontuacao" style,
4 ranges), equipamentos 14 categories, extensoes 2 distance methods, trechos_candidatos
2 (place to be confirmed or not), ocorrencias 3 types, rede_existente 6 types (3 lines:
bt, mt, via_iluminada; 3 points: poste, transformador, ponto_ip), single symbols for
pontos_ip and postes_propostos.

When PyQGIS is installed for the system Python (Debian: ``apt-get install qgis
python3-qgis``), the project and the GeoPackage are also opened by QGIS itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_ip.errors import InputFileError
from geo_ip.outputs.files import write_outputs
from geo_ip.outputs.qgis.project import qml_for, style_geopackage, write_project
from geo_ip.outputs.styles import LAYER_NAMES, layer_style
from geo_ip.pipeline import Assessment
from geo_ip.requests.redaction import scan_for_personal_data
from tests.conftest import DEMO

TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
TITLE = "Avaliação de iluminação pública — demonstração"

DEFAULTS = {
    "pedidos": ("categorizedSymbol", "situacao", 8),
    "extensoes": ("categorizedSymbol", "metodo_distancia", 2),
    "postes_propostos": ("singleSymbol", None, 1),
    "trechos_candidatos": ("categorizedSymbol", "localizacao_pendente", 2),
    "vias": ("categorizedSymbol", "hierarquia", 3),
    "rede_existente": ("RuleRenderer", None, 6),
    "pontos_ip": ("singleSymbol", None, 1),
    "equipamentos": ("categorizedSymbol", "categoria", 18),
    "limite": ("singleSymbol", None, 1),
    "area_urbana": ("singleSymbol", None, 1),
    "agua": ("singleSymbol", None, 1),
    "cursos_agua": ("categorizedSymbol", "tipo", 3),
    "equipamentos_pegada": ("singleSymbol", None, 1),
    "edificacoes": ("singleSymbol", None, 1),
    "bairros": ("singleSymbol", None, 1),
    "ocorrencias": ("categorizedSymbol", "tipo", 3),
}
"""Default style of each layer of the demo GeoPackage: renderer, field, classes (the
territory's base map, ``limite`` to ``bairros`` with the demo's water, copied with rows:
issue 21)."""

PROJECT_LAYERS = {
    "./avaliacao.gpkg|layername=pedidos": ("categorizedSymbol", 8),
    "./avaliacao.gpkg|layername=postes_propostos": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=extensoes": ("categorizedSymbol", 2),
    "./avaliacao.gpkg|layername=trechos_candidatos": ("categorizedSymbol", 2),
    "./avaliacao.gpkg|layername=ocorrencias": ("categorizedSymbol", 3),
    "./avaliacao.gpkg|layername=equipamentos": ("categorizedSymbol", 18),
    "./avaliacao.gpkg|layername=pontos_ip": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=rede_existente|geometrytype=Point": ("categorizedSymbol", 3),
    "./avaliacao.gpkg|layername=rede_existente|geometrytype=LineString": ("categorizedSymbol", 3),
    "./avaliacao.gpkg|layername=vias": ("categorizedSymbol", 3),
    "./avaliacao.gpkg|layername=bairros": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=edificacoes": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=equipamentos_pegada": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=cursos_agua": ("categorizedSymbol", 3),
    "./avaliacao.gpkg|layername=agua": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=area_urbana": ("singleSymbol", 1),
    "./avaliacao.gpkg|layername=limite": ("singleSymbol", 1),
}
"""Map layers of the project, in layer-tree order (top first)."""

GROUPS = {
    "Pedidos": [
        "Pedidos avaliados",
        "Postes novos propostos",
        "Extensões propostas",
        "Trechos candidatos (localização incerta)",
    ],
    "Segurança": ["Ocorrências (acidentes, segurança, reclamações)"],
    "Equipamentos": ["Equipamentos públicos e comunitários"],
    "Rede": [
        "Pontos de iluminação pública existentes",
        "Rede elétrica e iluminação existentes (pontos)",
        "Rede elétrica e iluminação existentes (linhas)",
    ],
    "Fundo (offline)": [
        "Vias (hierarquia viária)",
        "Bairros e localidades",
        "Edificações",
        "Equipamentos (áreas)",
        "Cursos d'água",
        "Água (lagos, rios, represas)",
        "Área urbana",
        "Limite do município",
    ],
}
STYLE_COLUMNS = [
    "id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
    "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
    "update_time",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(demo_assessment: Assessment) -> Assessment:
    return demo_assessment


@pytest.fixture(scope="module")
def folder(demo: Assessment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # its own copy of the demo's GeoPackage: the project is rewritten with TITLE here
    out = tmp_path_factory.mktemp("avaliacao_qgis")
    write_outputs(demo, out, maps=False, sheets=False)
    style_geopackage(out / "avaliacao.gpkg")
    write_project(
        out / "avaliacao.gpkg",
        out / "avaliacao.qgz",
        crs=demo.crs,
        title=TITLE,
        provenance=demo.provenance,
    )
    return out


def _styles(gpkg: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(gpkg)) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")]


def _geometry_columns(gpkg: Path) -> dict[str, str]:
    with closing(sqlite3.connect(gpkg)) as con:
        return dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))


def _renderer(root: ET.Element) -> tuple[str, str | None, int]:
    renderer = root.find("renderer-v2")
    assert renderer is not None
    kind = renderer.get("type", "")
    count = {
        "categorizedSymbol": len(renderer.findall("categories/category")),
        "graduatedSymbol": len(renderer.findall("ranges/range")),
        "RuleRenderer": len(renderer.findall("rules/rule")),
        "singleSymbol": len(renderer.findall("symbols/symbol")),
    }[kind]
    return kind, renderer.get("attr"), count


def _qgs(folder: Path) -> ET.Element:
    with zipfile.ZipFile(folder / "avaliacao.qgz") as archive:
        assert archive.namelist() == ["avaliacao.qgs"]
        return ET.fromstring(archive.read("avaliacao.qgs"))


# --- layer_styles -----------------------------------------------------------------------


def test_layer_styles_table_is_the_one_qgis_creates(folder: Path) -> None:
    gpkg = folder / "avaliacao.gpkg"
    with closing(sqlite3.connect(gpkg)) as con:
        columns = [row[1] for row in con.execute("PRAGMA table_info(layer_styles)")]
        contents = con.execute(
            "SELECT data_type, identifier, srs_id FROM gpkg_contents "
            "WHERE table_name = 'layer_styles'"
        ).fetchall()
        count = con.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
        triggers = {
            row[0]
            for row in con.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'layer_styles'"
            )
        }
    assert columns == STYLE_COLUMNS
    assert contents == [("attributes", "layer_styles", 0)]
    assert count == (17,)  # 16 default styles + pedidos "pontuacao"
    assert triggers == {
        "trigger_insert_feature_count_layer_styles",
        "trigger_delete_feature_count_layer_styles",
    }
    # GDAL still sees every layer (the spatial ones and the two attribute tables)
    names = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert set(names) == {*DEFAULTS, "metadados", "layer_styles"}


def test_one_default_style_per_spatial_layer(folder: Path) -> None:
    gpkg = folder / "avaliacao.gpkg"
    styles = _styles(gpkg)
    geometry = _geometry_columns(gpkg)
    assert set(geometry) == set(DEFAULTS)
    for table, column in geometry.items():
        rows = [r for r in styles if r["f_table_name"] == table]
        defaults = [r for r in rows if r["useAsDefault"] == 1]
        assert len(defaults) == 1, table
        row = defaults[0]
        assert row["f_geometry_column"] == column == "geom"
        assert (row["f_table_catalog"], row["f_table_schema"], row["owner"]) == ("", "", "")
        assert row["styleName"] == table
        assert row["update_time"].endswith("Z")
        root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
        assert root.tag == "qgis"
        assert _renderer(root) == DEFAULTS[table], table
    assert [
        (r["f_table_name"], r["styleName"], r["useAsDefault"])
        for r in styles
        if r["useAsDefault"] == 0
    ] == [("pedidos", "pontuacao", 0)]


def test_graduated_score_style_matches_the_catalog_bounds(folder: Path) -> None:
    row = next(r for r in _styles(folder / "avaliacao.gpkg") if r["styleName"] == "pontuacao")
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    assert _renderer(root) == ("graduatedSymbol", "pontuacao_total", 4)
    ranges = root.findall("renderer-v2/ranges/range")
    lower = [float(r.get("lower", "nan")) for r in ranges]
    upper = [float(r.get("upper", "nan")) for r in ranges]
    assert lower == [0.0, 40.0, 60.0, 80.0]
    # catalog ranges are [min, max) and the last one [min, max]; QGIS's include max
    assert 39.9999 < upper[0] < 40.0 and upper[-1] == 100.0
    assert ranges[0].get("label") == "0 a 40 pontos"
    assert "Pontuação total" in row["description"]


def test_pedidos_style_has_aliases_and_protocol_labels(folder: Path) -> None:
    gpkg = folder / "avaliacao.gpkg"
    row = next(r for r in _styles(gpkg) if r["styleName"] == "pedidos")
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    aliases = {a.get("field"): (a.get("index"), a.get("name")) for a in root.iter("alias")}
    with closing(sqlite3.connect(gpkg)) as con:
        fields = [r[1] for r in con.execute("PRAGMA table_info(pedidos)") if r[1] != "geom"]
    assert fields[:2] == ["fid", "protocolo"]
    assert aliases["protocolo"] == ("1", "Protocolo")
    assert aliases["pontuacao_total"][1] == "Pontuação total"
    assert aliases["fid"] == ("0", "")
    assert set(aliases) == set(fields)
    catalog = layer_style("pedidos").campos
    assert all(aliases[f][1] == catalog[f] for f in fields if f in catalog)
    assert root.get("labelsEnabled") == "1"
    text = root.find("labeling/settings/text-style")
    assert text is not None and text.get("fieldName") == "protocolo"


def test_straight_extensions_are_dashed(folder: Path) -> None:
    row = next(r for r in _styles(folder / "avaliacao.gpkg") if r["styleName"] == "extensoes")
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    symbols = {s.get("name"): s for s in root.iter("symbol")}
    props = {}
    for category in root.iter("category"):
        layer = symbols[category.get("symbol")].find("layer")
        assert layer is not None and layer.get("class") == "SimpleLine"
        props[category.get("value")] = {p.get("k"): p.get("v") for p in layer.iter("prop")}
    assert props["via"]["use_custom_dash"] == "0"
    assert props["reta_fator_desvio"]["use_custom_dash"] == "1"
    assert props["via"]["line_color"] == props["reta_fator_desvio"]["line_color"] == "211,84,0,255"
    assert props["via"]["line_width"] == "1.06"  # 4 px at 96 dpi, in mm


def test_mixed_grid_layer_gets_one_rule_per_type_with_its_geometry(folder: Path) -> None:
    row = next(r for r in _styles(folder / "avaliacao.gpkg") if r["styleName"] == "rede_existente")
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    symbols = {s.get("name"): s.get("type") for s in root.iter("symbol")}
    rules = {r.get("filter"): symbols[r.get("symbol")] for r in root.iter("rule")}
    assert rules == {
        "\"tipo\" = 'bt'": "line", "\"tipo\" = 'mt'": "line", "\"tipo\" = 'poste'": "marker",
        "\"tipo\" = 'transformador'": "marker", "\"tipo\" = 'ponto_ip'": "marker",
        "\"tipo\" = 'via_iluminada'": "line",
    }  # fmt: skip
    assert root.findtext("layerGeometryType") == "3"


def test_styling_again_replaces_the_table(folder: Path, tmp_path: Path) -> None:
    gpkg = shutil.copy(folder / "avaliacao.gpkg", tmp_path / "avaliacao.gpkg")
    assert style_geopackage(gpkg) == list(DEFAULTS)
    assert len(_styles(gpkg)) == 17


def test_a_failure_leaves_the_geopackage_as_it_was(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpkg = Path(shutil.copy(folder / "avaliacao.gpkg", tmp_path / "avaliacao.gpkg"))
    before = _styles(gpkg)
    monkeypatch.setattr("geo_ip.outputs.qgis.project._TRIGGERS", ("CREATE TRIGGER inválido",))
    with pytest.raises(InputFileError, match="estilos do QGIS"):
        style_geopackage(gpkg)
    assert _styles(gpkg) == before
    with closing(sqlite3.connect(gpkg)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="não encontrado"):
        style_geopackage(tmp_path / "nada.gpkg")
    text = tmp_path / "texto.gpkg"
    text.write_text("isto não é um GeoPackage", encoding="utf-8")
    with pytest.raises(InputFileError, match="não é um GeoPackage"):
        style_geopackage(text)


def test_a_layer_outside_the_catalog_gets_a_single_symbol(tmp_path: Path) -> None:
    gpkg = tmp_path / "outros.gpkg"
    square = shapely.box(0, 0, 10, 10)
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"nome": ["a"]}, geometry=[square], crs="EPSG:31983"),
        gpkg,
        layer="quadras",
        driver="GPKG",
    )
    assert style_geopackage(gpkg) == ["quadras"]
    (row,) = _styles(gpkg)
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    assert _renderer(root) == ("singleSymbol", None, 1)
    symbol = root.find("renderer-v2/symbols/symbol")
    assert symbol is not None and symbol.get("type") == "fill"
    write_project(gpkg, tmp_path / "p.qgz", crs="EPSG:31983", title="t", provenance={})
    with zipfile.ZipFile(tmp_path / "p.qgz") as archive:
        project = ET.fromstring(archive.read("p.qgs"))
    assert [g.get("name") for g in project.findall("layer-tree-group/layer-tree-group")] == [
        "Outros"
    ]


# --- QML ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_every_catalog_style_is_valid_qml(name: str) -> None:
    style = layer_style(name)
    text = qml_for(style, style.geometria)
    assert text.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
    root = ET.fromstring(text.split("\n", 1)[1])
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases == style.campos
    kind, _, count = _renderer(root)
    assert count == len(style.classes)
    assert kind == (DEFAULTS[name][0] if name in DEFAULTS else kind)


def test_point_and_line_parts_of_the_grid_get_their_own_classes() -> None:
    style = layer_style("rede_existente")
    lines = ET.fromstring(qml_for(style, "LINESTRING").split("\n", 1)[1])
    points = ET.fromstring(qml_for(style, "MultiPoint").split("\n", 1)[1])
    assert [c.get("value") for c in lines.iter("category")] == ["bt", "mt", "via_iluminada"]
    assert [c.get("value") for c in points.iter("category")] == [
        "poste", "transformador", "ponto_ip"
    ]  # fmt: skip
    assert {s.get("type") for s in points.iter("symbol")} == {"marker"}
    with pytest.raises(ValueError, match="tipo de geometria"):
        qml_for(style, "triângulo")


# --- project ------------------------------------------------------------------------------


def test_project_refers_to_the_geopackage_by_relative_paths(folder: Path) -> None:
    root = _qgs(folder)
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert sources == list(PROJECT_LAYERS)
    tree = [layer.get("source") for layer in root.iter("layer-tree-layer")]
    assert tree == sources
    assert root.findtext("properties/Paths/Absolute") == "false"
    text = ET.tostring(root, encoding="unicode")
    assert str(folder) not in text and "/tmp" not in text


def test_project_crs_groups_and_title(folder: Path, demo: Assessment) -> None:
    root = _qgs(folder)
    srs = root.find("projectCrs/spatialrefsys")
    assert srs is not None
    assert srs.findtext("authid") == "EPSG:31983" == demo.crs
    assert srs.findtext("srid") == "31983"
    assert srs.findtext("description") == "SIRGAS 2000 / UTM zone 23S"
    assert "+proj=utm +zone=23 +south" in (srs.findtext("proj4") or "")
    assert (srs.findtext("wkt") or "").startswith('PROJCRS["SIRGAS 2000 / UTM zone 23S"')
    assert srs.findtext("ellipsoidacronym") == "EPSG:7019"
    groups = {
        g.get("name"): [layer.get("name") for layer in g.findall("layer-tree-layer")]
        for g in root.findall("layer-tree-group/layer-tree-group")
    }
    assert groups == GROUPS
    assert list(groups) == list(GROUPS)
    assert root.get("projectname") == root.findtext("title") == TITLE


def test_project_layers_carry_the_styles(folder: Path) -> None:
    root = _qgs(folder)
    found = {m.findtext("datasource"): _renderer(m)[::2] for m in root.iter("maplayer")}
    assert found == PROJECT_LAYERS
    pedidos = next(
        m for m in root.iter("maplayer") if m.findtext("layername") == "Pedidos avaliados"
    )
    assert pedidos.get("labelsEnabled") == "1"
    aliases = {a.get("field"): a.get("name") for a in pedidos.iter("alias")}
    assert aliases["custo_municipio_rs"] == "Custo do Município (R$)"
    manager = pedidos.find("map-layer-style-manager")
    assert manager is not None
    assert [s.get("name") for s in manager.findall("map-layer-style")] == ["default", "pontuacao"]
    alternative = manager.find("map-layer-style[@name='pontuacao']/qgis")
    assert alternative is not None
    assert _renderer(alternative) == ("graduatedSymbol", "pontuacao_total", 4)


def test_project_extents_are_those_of_the_geopackage(folder: Path) -> None:
    with closing(sqlite3.connect(folder / "avaliacao.gpkg")) as con:
        stored = {
            t: (x0, y0, x1, y1)
            for t, x0, y0, x1, y1 in con.execute(
                "SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents "
                "WHERE data_type = 'features'"
            )
        }
    for layer in _qgs(folder).iter("maplayer"):
        table = (layer.findtext("datasource") or "").split("layername=")[1].split("|")[0]
        box = tuple(
            float(layer.findtext(f"extent/{k}") or "nan") for k in ("xmin", "ymin", "xmax", "ymax")
        )
        assert box == pytest.approx(stored[table]), table
        wgs84 = float(layer.findtext("wgs84extent/xmin") or "nan")
        assert -47.0 < wgs84 < -46.0, table  # the demo municipality lies near 46.4° W


def test_project_metadata_has_attribution_and_provenance(folder: Path, demo: Assessment) -> None:
    root = _qgs(folder)
    meta = root.find("projectMetadata")
    assert meta is not None
    abstract = meta.findtext("abstract") or ""
    assert "© OpenStreetMap contributors" in abstract
    assert demo.provenance["carimbo"] in abstract
    history = [h.text for h in meta.findall("history")]
    assert f"Proveniência: {demo.provenance['carimbo']}" in history
    assert meta.findtext("language") == "pt-BR"
    assert root.findtext("properties/CopyrightLabel/Label") == "© OpenStreetMap contributors"
    osm_rights = {
        m.findtext("layername"): m.findtext("resourceMetadata/rights")
        for m in root.iter("maplayer")
    }
    assert osm_rights["Vias (hierarquia viária)"] == "© OpenStreetMap contributors"
    # the input files' paths (which may name a person's folder) stay out of the project
    assert "pedidos.csv" not in ET.tostring(root, encoding="unicode")


def test_no_personal_data_in_the_styles_nor_the_project(folder: Path) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    cpfs = [c for c in raw["cpf_solicitante"] if c]
    names = [n for n in raw["nome_solicitante"] if n]
    with zipfile.ZipFile(folder / "avaliacao.qgz") as archive:
        project = archive.read("avaliacao.qgs").decode("utf-8")
    styles = "\n".join(r["styleQML"] + r["description"] for r in _styles(folder / "avaliacao.gpkg"))
    for text in (project, styles):
        assert scan_for_personal_data(text, cpfs, names) == []
        assert "renda_familiar" not in text and "cpf" not in text.lower()


def test_same_inputs_same_project(folder: Path, demo: Assessment, tmp_path: Path) -> None:
    gpkg = shutil.copy(folder / "avaliacao.gpkg", tmp_path / "avaliacao.gpkg")
    again = write_project(
        gpkg, tmp_path / "avaliacao.qgz", crs=demo.crs, title=TITLE, provenance=demo.provenance
    )
    with zipfile.ZipFile(again) as a, zipfile.ZipFile(folder / "avaliacao.qgz") as b:
        assert a.read("avaliacao.qgs") == b.read("avaliacao.qgs")
        assert a.getinfo("avaliacao.qgs").date_time == b.getinfo("avaliacao.qgs").date_time
    elsewhere = write_project(
        folder / "avaliacao.gpkg",
        tmp_path / "sub" / "p.qgz",
        crs=demo.crs,
        title=TITLE,
        provenance=demo.provenance,
    )
    with zipfile.ZipFile(elsewhere) as archive:
        root = ET.fromstring(archive.read("p.qgs"))
    source = root.findtext("projectlayers/maplayer/datasource") or ""
    assert source == f"../../{folder.name}/avaliacao.gpkg|layername=pedidos"


def test_unknown_crs_is_refused(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="sistema de referência"):
        write_project(
            folder / "avaliacao.gpkg", tmp_path / "x.qgz", crs="EPSG:0", title="t", provenance={}
        )
    assert not (tmp_path / "x.qgz").exists()


# --- QGIS itself --------------------------------------------------------------------------

SYSTEM_PYTHON = Path("/usr/bin/python3")

_CHECK = r"""
import json, sys
from qgis.core import (
    QgsApplication, QgsLayoutItemLabel, QgsLayoutItemLegend, QgsLayoutItemMap,
    QgsLayoutItemPicture, QgsLayoutItemScaleBar, QgsProject, QgsRenderContext, QgsVectorLayer,
)

qgz, gpkg, tables = sys.argv[1], sys.argv[2], sys.argv[3:]
app = QgsApplication([], False)
app.initQgis()


def classes(renderer):
    kind = renderer.type()
    if kind == "categorizedSymbol":
        return len(renderer.categories())
    if kind == "graduatedSymbol":
        return len(renderer.ranges())
    if kind == "RuleRenderer":
        return len(renderer.rootRule().children())
    return 1


def describe(layer):
    renderer = layer.renderer().clone()
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    missing = mismatched = 0
    for feature in layer.getFeatures():
        if not feature.hasGeometry():
            continue
        context.expressionContext().setFeature(feature)
        symbols = renderer.symbolsForFeature(feature, context)
        if not symbols:
            missing += 1
        elif int(symbols[0].type()) != int(feature.geometry().type()):
            mismatched += 1
    renderer.stopRender(context)
    fields = layer.fields()
    return {
        "name": layer.name(), "valid": layer.isValid(), "source": layer.source(),
        "renderer": layer.renderer().type(), "classes": classes(layer.renderer()),
        "features": layer.featureCount(), "missing": missing, "mismatched": mismatched,
        "labels": layer.labelsEnabled(), "crs": layer.crs().authid(),
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(fields)},
        "styles": layer.styleManager().styles(),
    }


project = QgsProject.instance()
report = {"read": project.read(qgz), "crs": project.crs().authid(), "title": project.title()}
root = project.layerTreeRoot()
report["groups"] = [g.name() for g in root.children()]
report["layers"] = [describe(n.layer()) for n in root.findLayers()]


def layout_item(item):
    info = {"kind": type(item).__name__, "uuid": item.uuid()}
    if isinstance(item, (QgsLayoutItemLegend, QgsLayoutItemScaleBar, QgsLayoutItemPicture)):
        linked = item.linkedMap()
        info["map"] = linked.uuid() if linked else None
    if isinstance(item, QgsLayoutItemLabel):
        info["text"] = item.text()
    if isinstance(item, QgsLayoutItemPicture):
        info["picture"] = item.picturePath()
    if isinstance(item, QgsLayoutItemMap):
        extent = item.extent()
        info["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                          extent.yMaximum()]
    return info


layouts = {}
for layout in project.layoutManager().printLayouts():
    page = layout.pageCollection().page(0).pageSize()
    layouts[layout.name()] = {
        "pages": layout.pageCollection().pageCount(),
        "page_mm": [page.width(), page.height()],
        "items": [layout_item(i) for i in layout.items() if hasattr(i, "uuid")
                  and type(i).__name__ != "QgsLayoutItemPage"],
    }
report["layouts"] = layouts
project.clear()
alone = {}
for table in tables:
    layer = QgsVectorLayer(f"{gpkg}|layername={table}", table, "ogr")
    info = describe(layer)
    count, ids, names, descriptions, error = layer.listStylesInDatabase()
    info["database_styles"] = list(names)[:count]
    alone[table] = info
report["alone"] = alone
print("RELATORIO" + json.dumps(report, ensure_ascii=False))
"""


def _has_pyqgis() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def qgis_report(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not _has_pyqgis():
        pytest.skip(
            "PyQGIS ausente no Python do sistema (/usr/bin/python3): instale com "
            "'apt-get install -y qgis python3-qgis' para abrir o projeto no próprio QGIS"
        )
    # the project is opened from another folder: only relative paths can work there
    moved = tmp_path_factory.mktemp("movido") / "avaliacao"
    shutil.copytree(folder, moved)
    script = moved.parent / "verificar_qgis.py"
    script.write_text(_CHECK, encoding="utf-8")
    home = moved.parent / "perfil"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(home),
        HOME=str(home),
        QGIS_CUSTOM_CONFIG_PATH=str(home),
    )
    home.mkdir(mode=0o700)
    result = subprocess.run(
        [
            str(SYSTEM_PYTHON),
            str(script),
            str(moved / "avaliacao.qgz"),
            str(moved / "avaliacao.gpkg"),
            *DEFAULTS,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("RELATORIO")), None)
    assert line is not None, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(line.removeprefix("RELATORIO"))
    report["folder"] = str(moved)
    return report


def test_qgis_opens_the_project(qgis_report: dict[str, Any]) -> None:
    assert qgis_report["read"] is True
    assert qgis_report["crs"] == "EPSG:31983"
    assert qgis_report["title"] == TITLE
    assert qgis_report["groups"] == list(GROUPS)
    layers = qgis_report["layers"]
    assert len(layers) == len(PROJECT_LAYERS) == 15
    folder = qgis_report["folder"]
    expected = list(PROJECT_LAYERS.values())
    for layer, (renderer, count) in zip(layers, expected, strict=True):
        assert layer["valid"], layer["name"]
        assert layer["source"].startswith(f"{folder}/avaliacao.gpkg|layername="), layer["source"]
        assert (layer["renderer"], layer["classes"]) == (renderer, count), layer["name"]
        assert layer["crs"] == "EPSG:31983"
        # every feature is drawn, with a symbol of its own geometry
        assert (layer["missing"], layer["mismatched"]) == (0, 0), layer["name"]
    by_name = {layer["name"]: layer for layer in layers}
    assert by_name["Rede elétrica e iluminação existentes (linhas)"]["features"] == 479
    assert by_name["Rede elétrica e iluminação existentes (pontos)"]["features"] == 627
    pedidos = by_name["Pedidos avaliados"]
    assert pedidos["labels"] is True
    assert pedidos["aliases"]["protocolo"] == "Protocolo"
    assert pedidos["styles"] == ["default", "pontuacao"]


def test_qgis_reads_the_print_layout(qgis_report: dict[str, Any]) -> None:
    (name,) = qgis_report["layouts"]
    assert name == "Mapa dos pedidos (A4 paisagem)"
    layout = qgis_report["layouts"][name]
    assert layout["pages"] == 1
    assert layout["page_mm"] == [297.0, 210.0]
    kinds = sorted(item["kind"] for item in layout["items"])
    assert kinds == [
        "QgsLayoutItemLabel", "QgsLayoutItemLabel", "QgsLayoutItemLegend",
        "QgsLayoutItemMap", "QgsLayoutItemPicture", "QgsLayoutItemScaleBar",
    ]  # fmt: skip
    (map_item,) = [i for i in layout["items"] if i["kind"] == "QgsLayoutItemMap"]
    linked = [i for i in layout["items"] if "map" in i]
    assert len(linked) == 3 and {i["map"] for i in linked} == {map_item["uuid"]}
    (arrow,) = [i for i in layout["items"] if i["kind"] == "QgsLayoutItemPicture"]
    assert arrow["picture"] == ":/images/north_arrows/layout_default_north_arrow.svg"
    texts = [i["text"] for i in layout["items"] if i["kind"] == "QgsLayoutItemLabel"]
    assert any(t.startswith(TITLE) for t in texts)
    assert any("© OpenStreetMap contributors" in t for t in texts)


def test_qgis_loads_the_default_style_from_the_geopackage(qgis_report: dict[str, Any]) -> None:
    alone = qgis_report["alone"]
    assert set(alone) == set(DEFAULTS)
    for table, (renderer, _, count) in DEFAULTS.items():
        layer = alone[table]
        assert layer["valid"], table
        assert (layer["renderer"], layer["classes"]) == (renderer, count), table
        assert (layer["missing"], layer["mismatched"]) == (0, 0), table
    assert alone["vias"]["aliases"]["hierarquia"] == "Hierarquia"
    assert alone["pedidos"]["database_styles"] == ["pedidos", "pontuacao"]
    assert alone["pedidos"]["labels"] is True
    # the mixed table opened whole: 1106 elements, lines and points each with its symbol
    assert alone["rede_existente"]["features"] == 1106
