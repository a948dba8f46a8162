"""The QGIS package of an assessment: the offline background and the territory's base map.

Issue 21, item 6: ``avaliacao.qgz`` shows the assessment's layers, the territory's
base-map layers (copied into ``avaliacao.gpkg``, so the folder travels alone) and the web
maps' offline background as a raster layer, ``fundo/fundo.mbtiles`` (MBTiles: the PNG
tiles of ``fundo/`` in one SQLite file GDAL and QGIS open by a relative path).

Hand-checked figures of the demo territory: 422 buildings (points), 4 district points,
no district areas, 1 boundary, 3 urban areas, 6 facility footprints, no water; its
background covers 194 tiles at zooms 10 to 16 within (-46.4060397, -22.9202914,
-46.3638169, -22.8894654).
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
from io import BytesIO
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import rasterio
import shapely
from PIL import Image
from rasterio.warp import transform_bounds

from geo_ip.errors import InputFileError
from geo_ip.outputs.files import CONTEXT_LAYERS, write_outputs
from geo_ip.outputs.qgis.mbtiles import APPLICATION_ID, read_mbtiles, write_mbtiles
from geo_ip.pipeline import Assessment, assess
from geo_ip.rules.config import load_rules
from tests.conftest import DEMO
from tests.test_qgis import SYSTEM_PYTHON, _has_pyqgis

TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
OSM = "© OpenStreetMap contributors"
DEMO_BOUNDS = (-46.4060397, -22.9202914, -46.3638169, -22.8894654)
DEMO_CONTEXT = {
    "limite": 1, "area_urbana": 3, "agua": 1, "cursos_agua": 2, "equipamentos_pegada": 6,
    "edificacoes": 422, "bairros": 4,
}  # fmt: skip
"""The demo territory's base-map layers with rows (``bairros_area`` is empty there, and so
left out of ``avaliacao.gpkg``)."""
BACKGROUND_TREE = [
    ("Vias (hierarquia viária)", "./avaliacao.gpkg|layername=vias"),
    ("Bairros e localidades", "./avaliacao.gpkg|layername=bairros"),
    ("Edificações", "./avaliacao.gpkg|layername=edificacoes"),
    ("Equipamentos (áreas)", "./avaliacao.gpkg|layername=equipamentos_pegada"),
    ("Cursos d'água", "./avaliacao.gpkg|layername=cursos_agua"),
    ("Água (lagos, rios, represas)", "./avaliacao.gpkg|layername=agua"),
    ("Área urbana", "./avaliacao.gpkg|layername=area_urbana"),
    ("Limite do município", "./avaliacao.gpkg|layername=limite"),
    ("Mapa do território (offline)", "./fundo/fundo.mbtiles"),
]
"""The group "Fundo (offline)" of the demo's project, top first: the raster at the bottom."""


def _qgs(qgz: Path) -> ET.Element:
    with zipfile.ZipFile(qgz) as archive:
        return ET.fromstring(archive.read(f"{qgz.stem}.qgs"))


def _groups(root: ET.Element) -> dict[str, list[tuple[str | None, str | None]]]:
    return {
        str(group.get("name")): [
            (x.get("name"), x.get("source")) for x in group.findall("layer-tree-layer")
        ]
        for group in root.findall("layer-tree-group/layer-tree-group")
    }


def _count(gpkg: Path, layer: str) -> int:
    return int(pyogrio.read_info(gpkg, layer=layer)["features"])


@pytest.fixture(scope="module")
def folder(demo_outputs: list[Path]) -> Path:
    return demo_outputs[0].parent


# --- the MBTiles file ---------------------------------------------------------------------


def test_the_background_is_an_mbtiles_file_gdal_opens(folder: Path) -> None:
    path = folder / "fundo" / "fundo.mbtiles"
    with rasterio.open(path) as raster:
        assert raster.driver == "MBTiles"
        assert raster.crs.to_epsg() == 3857
        assert raster.count == 4  # red, green, blue, alpha
        assert raster.overviews(1) == [2, 4, 8]
        west, south, east, north = transform_bounds(raster.crs, "EPSG:4326", *raster.bounds)
        tags = raster.tags()
    # GDAL snaps the bounds to whole pixels of zoom 16 (2.39 m, about 0.00003°)
    assert (west, south, east, north) == pytest.approx(DEMO_BOUNDS, abs=3e-5)
    assert tags["bounds"] == "-46.4060397,-22.9202914,-46.3638169,-22.8894654"
    assert (tags["minzoom"], tags["maxzoom"], tags["format"]) == ("10", "16", "png")
    assert tags["name"] == "Mapa do território (offline)"
    assert tags["attribution"] == f"{OSM} — dados fictícios"
    info = json.loads((folder / "fundo" / "fundo.json").read_text(encoding="utf-8"))
    assert info["atribuicao"] == tags["attribution"]
    assert info["limites_oeste_sul_leste_norte"] == list(DEMO_BOUNDS)


def test_every_png_tile_is_in_the_file_with_its_tms_row(folder: Path) -> None:
    tiles = folder / "fundo"
    pngs = sorted(tiles.glob("*/*/*.png"))
    assert len(pngs) == 194
    with closing(sqlite3.connect(tiles / "fundo.mbtiles")) as con:
        assert con.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        stored = {
            (z, x, row): data
            for z, x, row, data in con.execute(
                "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
            )
        }
        images = con.execute("SELECT count(*) FROM images").fetchone()[0]
    assert len(stored) == 194
    for png in pngs:
        z, x, y = int(png.parent.parent.name), int(png.parent.name), int(png.stem)
        assert stored[(z, x, 2**z - 1 - y)] == png.read_bytes(), png
    # each distinct image once: the plain tiles around the municipality repeat
    assert images == len({p.read_bytes() for p in pngs}) < 194


def test_a_hand_made_pyramid_keeps_north_up(tmp_path: Path) -> None:
    """Zoom 1 over the whole world: the XYZ tile (0, 0) is the north-west one."""
    folder = tmp_path / "fundo"
    colours = {(0, 0): (255, 0, 0), (1, 0): (0, 255, 0), (0, 1): (0, 0, 255), (1, 1): (9, 9, 9)}
    for (x, y), colour in colours.items():
        (folder / "1" / str(x)).mkdir(parents=True, exist_ok=True)
        Image.new("RGBA", (256, 256), (*colour, 255)).save(folder / "1" / str(x) / f"{y}.png")
    record = {
        "nome": "Fundo de teste", "formato": "png", "limites_oeste_sul_leste_norte":
        [-180.0, -85.0511287, 180.0, 85.0511287], "zoom_minimo": 1, "zoom_maximo": 1,
        "blocos": 4, "atribuicao": OSM, "proveniencia": {"territorio": "t.gpkg"},
    }  # fmt: skip
    (folder / "fundo.json").write_text(json.dumps(record), encoding="utf-8")
    path = write_mbtiles(folder)
    assert path == folder / "fundo.mbtiles"
    with closing(sqlite3.connect(path)) as con:
        rows = dict(
            ((x, r), data)
            for x, r, data in con.execute("SELECT tile_column, tile_row, tile_data FROM tiles")
        )
    assert Image.open(BytesIO(rows[(0, 1)])).getpixel((0, 0)) == (255, 0, 0, 255)  # north-west
    assert Image.open(BytesIO(rows[(0, 0)])).getpixel((0, 0)) == (0, 0, 255, 255)  # south-west
    with rasterio.open(path) as raster:
        assert (raster.width, raster.height) == (512, 512)
        pixels = raster.read()
    assert tuple(pixels[:, 10, 10]) == (255, 0, 0, 255)  # top left: red
    assert tuple(pixels[:, 10, 500]) == (0, 255, 0, 255)  # top right: XYZ (1, 0), green
    assert tuple(pixels[:, 500, 10]) == (0, 0, 255, 255)  # bottom left: blue
    tileset = read_mbtiles(path)
    assert tileset.name == "Mapa do território (offline)"
    assert (tileset.min_zoom, tileset.max_zoom, tileset.attribution) == (1, 1, OSM)
    assert tileset.bounds == (-180.0, -85.0511287, 180.0, 85.0511287)
    assert "(t.gpkg)" in tileset.description
    again = write_mbtiles(folder, tmp_path / "de_novo.mbtiles")
    assert again.read_bytes() == path.read_bytes()  # the same tiles, the same file


def test_unreadable_backgrounds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="sem descrição"):
        write_mbtiles(tmp_path)
    with pytest.raises(InputFileError, match="não encontrado"):
        read_mbtiles(tmp_path / "nada.mbtiles")
    text = tmp_path / "texto.mbtiles"
    text.write_text("não é SQLite", encoding="utf-8")
    with pytest.raises(InputFileError, match="ilegível"):
        read_mbtiles(text)


# --- the project --------------------------------------------------------------------------


def test_the_project_shows_the_background_as_a_raster_by_a_relative_path(folder: Path) -> None:
    root = _qgs(folder / "avaliacao.qgz")
    groups = _groups(root)
    assert list(groups)[-1] == "Fundo (offline)"
    assert groups["Fundo (offline)"] == BACKGROUND_TREE
    (layer,) = [m for m in root.iter("maplayer") if m.get("type") == "raster"]
    assert layer.findtext("datasource") == "./fundo/fundo.mbtiles"
    assert layer.findtext("provider") == "gdal"
    assert layer.findtext("layername") == "Mapa do território (offline)"
    assert layer.findtext("srs/spatialrefsys/authid") == "EPSG:3857"
    assert layer.findtext("resourceMetadata/rights") == f"{OSM} — dados fictícios"
    renderer = layer.find("pipe/rasterrenderer")
    assert renderer is not None
    assert [renderer.get(k) for k in ("type", "redBand", "greenBand", "blueBand", "alphaBand")] == [
        "multibandcolor", "1", "2", "3", "4",
    ]  # fmt: skip
    wgs84 = tuple(float(layer.findtext(f"wgs84extent/{k}") or "nan") for k in
                  ("xmin", "ymin", "xmax", "ymax"))  # fmt: skip
    assert wgs84 == DEMO_BOUNDS
    # drawn last (under everything), with no band items in the legend
    order = [x.get("id") for x in root.findall("layerorder/layer")]
    assert order[-1] == layer.findtext("id")
    (item,) = [x for x in root.iter("layer-tree-layer") if x.get("providerKey") == "gdal"]
    option = item.find("customproperties/Option/Option[@name='legend/node-order']")
    assert option is not None and option.get("value") == "empty"
    abstract = root.findtext("projectMetadata/abstract") or ""
    assert "Mapa do território (offline): arquivo fundo/fundo.mbtiles" in abstract
    assert OSM in abstract
    # moved to another computer: nothing in the project names this one's folders
    text = ET.tostring(root, encoding="unicode")
    assert str(folder) not in text and "/tmp" not in text and "file:" not in text


def test_the_geopackage_carries_the_territory_base_map(folder: Path) -> None:
    gpkg = folder / "avaliacao.gpkg"
    names = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert {name: _count(gpkg, name) for name in DEMO_CONTEXT} == DEMO_CONTEXT
    assert "bairros_area" not in names
    with closing(sqlite3.connect(gpkg)) as con:
        styled = {
            row[0]: row[1]
            for row in con.execute(
                "SELECT f_table_name, description FROM layer_styles WHERE useAsDefault = 1"
            )
        }
    assert styled["edificacoes"] == "geo_ip: Edificações — símbolo único (estilo padrão)"
    assert styled["limite"] == "geo_ip: Limite do município — símbolo único (estilo padrão)"
    assert set(DEMO_CONTEXT) <= set(styled)


def test_the_moved_folder_still_holds_every_source(folder: Path, tmp_path: Path) -> None:
    moved = tmp_path / "outro_computador" / "avaliacao"
    shutil.copytree(folder, moved, ignore=shutil.ignore_patterns("fichas", "mapas", "assets"))
    root = _qgs(moved / "avaliacao.qgz")
    for layer in root.iter("maplayer"):
        source = (layer.findtext("datasource") or "").split("|")[0]
        assert (moved / source).is_file(), source
    with rasterio.open(moved / "fundo" / "fundo.mbtiles") as raster:
        assert raster.count == 4


# --- without maps, and with water ---------------------------------------------------------


@pytest.fixture(scope="module")
def watery(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    """The demo territory with a lake and three streams (which the demo's OSM lacks)."""
    territory = tmp_path_factory.mktemp("agua") / "territorio.gpkg"
    shutil.copy(demo_territory, territory)
    crs = "EPSG:31983"
    lakes = gpd.GeoDataFrame(
        {"tipo": ["Lago ou lagoa", "Represa"], "nome": ["Lagoa Azul", ""]},
        geometry=[shapely.box(356500, 7465500, 356700, 7465650),
                  shapely.box(358000, 7466000, 358150, 7466100)],
        crs=crs,
    )  # fmt: skip
    streams = gpd.GeoDataFrame(
        {"tipo": ["Rio", "Córrego", "Córrego"], "nome": ["Rio Claro", "Córrego Fundo", ""]},
        geometry=[shapely.LineString([(356000, 7465000), (359000, 7467000)]),
                  shapely.LineString([(357000, 7465200), (357500, 7466000)]),
                  shapely.LineString([(358500, 7465100), (358600, 7465900)])],
        crs=crs,
    )  # fmt: skip
    pyogrio.write_dataframe(lakes, territory, layer="agua", driver="GPKG")
    pyogrio.write_dataframe(streams, territory, layer="cursos_agua", driver="GPKG")
    return assess(territory, DEMO / "pedidos.csv", load_rules("demo"), key=KEY, today=TODAY)


def test_without_maps_the_project_has_no_background_and_says_none(
    watery: Assessment, tmp_path: Path
) -> None:
    out = tmp_path / "avaliacao"
    files = write_outputs(watery, out, maps=False, sheets=False)
    assert not (out / "fundo").exists()
    assert not any("fundo" in str(f) for f in files)
    assert files.index(out / "avaliacao.qgz") == files.index(out / "avaliacao.gpkg") + 1
    root = _qgs(out / "avaliacao.qgz")
    # 4 of the requests, vias, the grid's lines and points, lamps, facilities (no
    # occurrences here) and the 7 base-map layers with rows
    assert [m.get("type") for m in root.iter("maplayer")] == ["vector"] * 16
    text = ET.tostring(root, encoding="unicode")
    assert "mbtiles" not in text and "Mapa do território" not in text
    assert 'providerKey="gdal"' not in text
    # the water joins the base map, in the GeoPackage and in the project
    gpkg = out / "avaliacao.gpkg"
    assert (_count(gpkg, "agua"), _count(gpkg, "cursos_agua")) == (2, 3)
    water = pyogrio.read_dataframe(gpkg, layer="cursos_agua")
    assert water["tipo"].tolist() == ["Rio", "Córrego", "Córrego"]
    assert water["nome"].tolist() == ["Rio Claro", "Córrego Fundo", ""]
    names = [name for name, _ in _groups(root)["Fundo (offline)"]]
    assert names == [
        "Vias (hierarquia viária)", "Bairros e localidades", "Edificações",
        "Equipamentos (áreas)", "Cursos d'água", "Água (lagos, rios, represas)", "Área urbana",
        "Limite do município",
    ]  # fmt: skip
    assert CONTEXT_LAYERS == (
        "limite", "area_urbana", "agua", "cursos_agua", "bairros_area", "equipamentos_pegada",
        "edificacoes", "bairros",
    )  # fmt: skip


# --- QGIS itself (when PyQGIS is installed for the system Python) -------------------------

_OPEN = r"""
import json, sys
from qgis.core import QgsApplication, QgsLayerTreeModel, QgsProject, QgsRasterLayer

app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
read = project.read(sys.argv[1])
model = QgsLayerTreeModel(project.layerTreeRoot())  # the legend as the layers panel shows it
rasters = [
    {"name": layer.name(), "valid": layer.isValid(), "bands": layer.bandCount(),
     "crs": layer.crs().authid(), "source": layer.source(),
     "legend": len(model.layerLegendNodes(project.layerTreeRoot().findLayer(layer.id()), True))}
    for layer in project.mapLayers().values() if isinstance(layer, QgsRasterLayer)
]
invalid = [layer.name() for layer in project.mapLayers().values() if not layer.isValid()]
print("RELATORIO" + json.dumps({"read": read, "rasters": rasters, "invalid": invalid}))
"""


def test_qgis_opens_the_background_from_the_moved_folder(folder: Path, tmp_path: Path) -> None:
    if not _has_pyqgis():
        pytest.skip(
            "PyQGIS ausente no Python do sistema (/usr/bin/python3): instale com "
            "'apt-get install -y qgis python3-qgis' para abrir o projeto no próprio QGIS"
        )
    moved = tmp_path / "movido" / "avaliacao"
    shutil.copytree(folder, moved, ignore=shutil.ignore_patterns("fichas", "mapas", "assets"))
    script = tmp_path / "abrir.py"
    script.write_text(_OPEN, encoding="utf-8")
    home = tmp_path / "perfil"
    home.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(home), HOME=str(home),
               QGIS_CUSTOM_CONFIG_PATH=str(home))  # fmt: skip
    result = subprocess.run(
        [str(SYSTEM_PYTHON), str(script), str(moved / "avaliacao.qgz")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    line = next((x for x in result.stdout.splitlines() if x.startswith("RELATORIO")), None)
    assert line is not None, result.stdout + result.stderr
    report = json.loads(line.removeprefix("RELATORIO"))
    assert report["read"] is True and report["invalid"] == []
    (raster,) = report["rasters"]
    assert raster["name"] == "Mapa do território (offline)"
    assert (raster["valid"], raster["bands"], raster["crs"]) == (True, 4, "EPSG:3857")
    assert raster["source"] == str(moved / "fundo" / "fundo.mbtiles")
    assert raster["legend"] == 0  # no "Band 1, 2, 3" items
