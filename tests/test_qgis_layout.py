"""The QGIS project's print layout and its offline background, read as XML.

The project is written over small GeoPackages built here; the layout is checked item by
item as QGIS 3 reads it (types of ``QgsLayoutItemRegistry``, uuids linking the legend,
the scale bar and the north arrow to the map). tests/test_qgis.py opens the demo's
project in QGIS itself when PyQGIS is installed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pyproj
import pytest
import shapely

from geo_ip.outputs.qgis.layout import NORTH_ARROW_SVG, layout_provenance, layout_title
from geo_ip.outputs.qgis.project import style_geopackage, write_project

UTM = "EPSG:31983"
TITLE = "Avaliação dos pedidos de iluminação pública — Porto Alegre"
PROVENANCE: dict[str, Any] = {
    "ferramenta": "geo_ip",
    "versao_ferramenta": "1.2.3",
    "executado_em": "2026-11-20T10:30:00+00:00",
    "data_referencia": "2026-11-20",
    "ciclo": "2026/1",
    "regras": {
        "versao": "2026.1",
        "sha256": "0123456789abcdef" * 4,
        "lei": "Lei 5.442/2026",
        "municipio": "Extrema",
    },
    "territorio": {
        "osm_data": "2026-10-01T03:00:00Z",
        "criado_em": "2026-11-02T12:00:00+00:00",
        "fontes": [
            {"tipo": "osm", "arquivo": "/home/x/poa.osm.pbf", "modificado_em": "2026-10-02"},
            {"tipo": "rede", "arquivo": "/home/x/bdgd.gdb", "modificado_em": "2026-09-01"},
        ],
    },
    "crs": UTM,
    "atribuicao": "© OpenStreetMap contributors",
}
TYPES = {
    "65638": "página", "65639": "mapa", "65640": "figura", "65641": "texto",
    "65642": "legenda", "65646": "escala",
}  # fmt: skip


def _frame(data: dict[str, list[Any]], geometries: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometries, crs=UTM), crs=UTM)


def _assessment(path: Path, points: list[tuple[float, float]]) -> Path:
    """An ``avaliacao.gpkg`` with requests at ``points`` and one road across them."""
    requests = _frame(
        {
            "protocolo": [f"PED-{i}" for i in range(len(points))],
            "situacao": ["classificado"] * len(points),
        },
        [shapely.Point(x, y) for x, y in points],
    )
    pyogrio.write_dataframe(requests, path, layer="pedidos", driver="GPKG")
    road = _frame({"hierarquia": ["local"]}, [shapely.LineString([(0, 0), (3000, 3000)])])
    pyogrio.write_dataframe(road, path, layer="vias", driver="GPKG")
    style_geopackage(path)
    return path


def _territory(path: Path) -> Path:
    """The base-map layers of a territory (and its roads, which the assessment has too)."""
    # buildings are points in a real territory; polygons here: the QML follows the geometry
    layers = {
        "limite": _frame({"nome": ["Município"]}, [shapely.box(-500, -500, 3500, 3500)]),
        "area_urbana": _frame({"tipo": ["residential"]}, [shapely.box(0, 0, 2000, 2000)]),
        "bairros_area": _frame({"nome": ["Centro"]}, [shapely.box(800, 1800, 1600, 2600)]),
        "edificacoes": _frame(
            {"tipo": ["house", "house"]},
            [shapely.box(990, 1990, 1010, 2010), shapely.box(1390, 2290, 1410, 2310)],
        ),
        "bairros": _frame({"nome": ["Centro"], "tipo": ["suburb"]}, [shapely.Point(1200, 2200)]),
        "vias": _frame({"hierarquia": ["local"]}, [shapely.LineString([(0, 0), (10, 10)])]),
    }
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    return path


def _project(folder: Path, **options: Any) -> ET.Element:
    out = folder / "projeto" / "avaliacao.qgz"
    out.parent.mkdir(exist_ok=True)
    write_project(
        folder / "avaliacao.gpkg", out, crs=UTM, title=TITLE, provenance=PROVENANCE, **options
    )
    with zipfile.ZipFile(out) as archive:
        return ET.fromstring(archive.read("avaliacao.qgs"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout")
    _assessment(out / "avaliacao.gpkg", [(1000.0, 2000.0), (1400.0, 2300.0)])
    _territory(out / "territorio.gpkg")
    return out


@pytest.fixture(scope="module")
def project(folder: Path) -> ET.Element:
    return _project(folder, background=folder / "territorio.gpkg")


def _items(root: ET.Element) -> dict[str, ET.Element]:
    (layout,) = root.findall("Layouts/Layout")
    return {TYPES[i.get("type", "")] + (f":{i.get('id')}" if i.get("id") else ""): i
            for i in layout.iter("LayoutItem")}  # fmt: skip


def _box(item: ET.Element, key: str) -> tuple[float, float]:
    x, y, unit = item.get(key, "").split(",")
    assert unit == "mm"
    return float(x), float(y)


# --- the layout ---------------------------------------------------------------------------


def test_one_a4_landscape_layout_with_every_item(project: ET.Element) -> None:
    (layout,) = project.findall("Layouts/Layout")
    assert layout.get("name") == "Mapa dos pedidos (A4 paisagem)"
    assert layout.get("units") == "mm"
    assert layout.get("printResolution") == "300"
    items = _items(project)
    assert sorted(items) == [
        "escala:Escala", "figura:Norte", "legenda:Legenda", "mapa:Mapa", "página",
        "texto:Proveniência", "texto:Título",
    ]  # fmt: skip
    # the page is in the page collection, the items are the layout's own children
    (page,) = layout.findall("PageCollection/LayoutItem")
    assert page is items["página"]
    assert _box(page, "size") == (297.0, 210.0)
    assert len(layout.findall("LayoutItem")) == 6
    for name, item in items.items():  # every item on the page, none overlapping its edge
        (x, y), (w, h) = _box(item, "position"), _box(item, "size")
        assert x >= 0 and y >= 0 and x + w <= 297 and y + h <= 210, name
        assert item.get("uuid") == item.get("templateUuid"), name


def test_legend_scale_bar_and_north_arrow_follow_the_map(project: ET.Element) -> None:
    items = _items(project)
    (layout,) = project.findall("Layouts/Layout")
    map_uuid = items["mapa:Mapa"].get("uuid")
    assert map_uuid and map_uuid.startswith("{") and map_uuid.endswith("}")
    assert layout.get("worldFileMap") == map_uuid
    legend = items["legenda:Legenda"]
    assert legend.get("map_uuid") == map_uuid
    assert legend.get("legendFilterByMap") == "1"  # only what the map shows
    assert (legend.get("columnCount"), legend.get("splitLayer")) == ("2", "1")
    fonts = {s.get("name"): s.find("styleFont") for s in legend.findall("styles/style")}
    assert list(fonts) == ["title", "group", "subgroup", "symbol", "symbolLabel"]
    assert all(f is not None and f.get("description", "").startswith("Sans Serif,")
               for f in fonts.values())  # fmt: skip
    assert legend.find("layer-tree-group") is None  # follows the project's layer tree
    scale = items["escala:Escala"]
    assert scale.get("mapUuid") == map_uuid
    assert (scale.get("style"), scale.get("unitType"), scale.get("unitLabel")) == (
        "Single Box", "m", "m",
    )  # fmt: skip
    assert scale.get("segmentSizeMode") == "1"  # QGIS fits round segments to the map
    arrow = items["figura:Norte"]
    assert arrow.get("file") == NORTH_ARROW_SVG
    assert arrow.get("file") == ":/images/north_arrows/layout_default_north_arrow.svg"
    assert arrow.get("mapUuid") == map_uuid
    assert arrow.get("northMode") == "0"  # grid north of the map


def test_map_frames_the_requests_in_the_project_crs(project: ET.Element) -> None:
    item = _items(project)["mapa:Mapa"]
    assert _box(item, "size") == (170.0, 158.0)
    assert item.get("keepLayerSet") == "false"  # draws the layers ticked in the tree
    extent = item.find("Extent")
    assert extent is not None
    box = [float(extent.get(k, "nan")) for k in ("xmin", "ymin", "xmax", "ymax")]
    # requests 400 × 300 m around (1200, 2150): padded by a tenth to 440 m wide, then
    # 440 / (170 / 158) = 408.94 m high to fill the frame
    assert box == pytest.approx([980.0, 1945.5294, 1420.0, 2354.4706])
    assert (box[2] - box[0]) / (box[3] - box[1]) == pytest.approx(170 / 158)
    assert item.findtext("crs/spatialrefsys/authid") == UTM


def test_a_single_request_gets_a_street_scale_map(tmp_path: Path) -> None:
    _assessment(tmp_path / "avaliacao.gpkg", [(5000.0, 7000.0)])
    extent = _items(_project(tmp_path))["mapa:Mapa"].find("Extent")
    assert extent is not None
    box = [float(extent.get(k, "nan")) for k in ("xmin", "ymin", "xmax", "ymax")]
    # at least 300 m high, widened to the frame: 300 × 170 / 158 = 322.78 m
    assert box == pytest.approx([5000 - 161.392, 6850.0, 5000 + 161.392, 7150.0], abs=1e-3)


def test_title_names_the_municipality_the_cycle_and_the_date(project: ET.Element) -> None:
    title = _items(project)["texto:Título"]
    assert title.get("labelText") == f"{TITLE}\nCiclo 2026/1 — Situação em 20/11/2026"
    assert title.get("htmlState") == "0"
    font = title.find("LabelFont")  # QGIS 3.22
    assert font is not None and font.get("description", "").startswith("Sans Serif,15,")
    style = title.find("text-style")  # QGIS 3.24 and later
    assert style is not None and style.get("fontWeight") == "75"
    assert layout_title("T", {}) == "T"


def test_provenance_text(project: ET.Element) -> None:
    text = _items(project)["texto:Proveniência"].get("labelText")
    assert text == (
        "Gerado por geo_ip 1.2.3 em 20/11/2026 · Regras 2026.1 (Lei 5.442/2026), "
        "sha256 0123456789abcdef\n"
        "Dados: OpenStreetMap de 01/10/2026; rede elétrica existente (arquivo de "
        "01/09/2026); território montado em 02/11/2026\n"
        "SRC: SIRGAS 2000 / UTM zone 23S (EPSG:31983) · © OpenStreetMap contributors"
    )
    assert "/home/x" not in ET.tostring(project, encoding="unicode")


def test_provenance_of_a_bare_record_keeps_crs_and_attribution() -> None:
    text = layout_provenance({}, pyproj.CRS.from_user_input("EPSG:31982"))
    assert text == (
        "Gerado por geo_ip\nSRC: SIRGAS 2000 / UTM zone 22S (EPSG:31982) · "
        "© OpenStreetMap contributors"
    )


def test_same_inputs_same_layout(folder: Path, project: ET.Element) -> None:
    again = _project(folder, background=folder / "territorio.gpkg")
    assert ET.tostring(again.find("Layouts"), encoding="unicode") == ET.tostring(
        project.find("Layouts"), encoding="unicode"
    )


# --- the offline background ----------------------------------------------------------------


def test_offline_background_group_under_the_requests(project: ET.Element) -> None:
    groups = project.findall("layer-tree-group/layer-tree-group")
    assert [g.get("name") for g in groups] == ["Pedidos", "Fundo (offline)"]
    background = [(n.get("name"), n.get("source")) for n in groups[1].findall("layer-tree-layer")]
    assert background == [
        ("Vias (hierarquia viária)", "../avaliacao.gpkg|layername=vias"),
        ("Bairros e localidades", "../territorio.gpkg|layername=bairros"),
        ("Edificações", "../territorio.gpkg|layername=edificacoes"),
        ("Bairros (áreas)", "../territorio.gpkg|layername=bairros_area"),
        ("Área urbana", "../territorio.gpkg|layername=area_urbana"),
        ("Limite do município", "../territorio.gpkg|layername=limite"),
    ]
    # no online layer: every layer is read from a GeoPackage beside the project
    providers = {m.findtext("provider") for m in project.iter("maplayer")}
    assert providers == {"ogr"}
    assert not [m for m in project.iter("maplayer") if m.get("type") != "vector"]


def test_background_layers_carry_their_styles(project: ET.Element) -> None:
    layers = {m.findtext("layername"): m for m in project.iter("maplayer")}
    buildings = layers["Edificações"]
    renderer = buildings.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "singleSymbol"
    symbol = renderer.find("symbols/symbol")
    assert symbol is not None and symbol.get("type") == "fill"
    aliases = {a.get("field"): a.get("name") for a in buildings.iter("alias")}
    assert aliases["tipo"] == "Tipo"
    roads = layers["Vias (hierarquia viária)"].find("renderer-v2")
    assert roads is not None
    assert (roads.get("type"), roads.get("attr")) == ("categorizedSymbol", "hierarquia")
    assert layers["Limite do município"].findtext("resourceMetadata/rights") == (
        "© OpenStreetMap contributors"
    )


def test_without_a_territory_the_roads_alone_are_the_background(folder: Path) -> None:
    root = _project(folder)
    groups = {
        g.get("name"): [n.get("name") for n in g.findall("layer-tree-layer")]
        for g in root.findall("layer-tree-group/layer-tree-group")
    }
    assert groups == {
        "Pedidos": ["Pedidos avaliados"],
        "Fundo (offline)": ["Vias (hierarquia viária)"],
    }
