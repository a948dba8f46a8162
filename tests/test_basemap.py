"""The offline background of the web maps (issue 21, item 1): tiles drawn from the territory.

A tiny territory is written by hand (an avenue in both directions, a street crossing it,
a medium-voltage line, a building, a district, the boundary), the background is drawn
and single pixels of single tiles are checked where each feature must be. A browser
test opens a page with only the background, every request outside the disk refused.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from PIL import Image
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from geo_ip.outputs.web.assets import ASSETS_DIR, CONTENT_SECURITY_POLICY
from geo_ip.outputs.web.basemap import (
    ATTRIBUTION,
    BASEMAP_NAME,
    folium_layer,
    leaflet_layer_js,
    preview_html,
    read_basemap_info,
    tile_range,
    write_basemap,
)
from geo_ip.outputs.web.basemap_draw import draw_zoom
from geo_ip.outputs.web.basemap_read import _lines_of, _points_of, read_features
from geo_ip.outputs.web.basemap_tiles import Style, road_class
from geo_ip.rules.provenance import OSM_ATTRIBUTION
from geo_ip.territory.reader import Territory

CRS = "EPSG:31983"
X0, Y0 = 370_000.0, 7_470_000.0
STYLE = Style()
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def _write_territory(path: Path) -> Path:
    """An avenue (both directions), a street crossing it, grid, a building, a district."""
    avenue = LineString([(X0, Y0), (X0 + 800, Y0)])
    vias = gpd.GeoDataFrame(
        {
            "u": [1, 2, 3],
            "v": [2, 1, 4],
            "key": [0, 0, 0],
            "name": ["Avenida Brasil", "Avenida Brasil", "Rua das Flores"],
            "highway": ["primary", "primary", "residential"],
            "hierarquia": ["principal", "principal", "local"],
        },
        geometry=[
            avenue,
            LineString(avenue.coords[::-1]),
            LineString([(X0 + 200, Y0 - 200), (X0 + 200, Y0 + 200)]),
        ],
        crs=CRS,
    )
    rede = gpd.GeoDataFrame(
        {"fonte": ["teste"] * 2, "tipo": ["mt", "poste"], "id_origem": ["a", "b"],
         "tensao_v": [13_800.0, None]},
        geometry=[LineString([(X0, Y0 + 150), (X0 + 400, Y0 + 150)]), Point(X0 + 50, Y0 + 50)],
        crs=CRS,
    )  # fmt: skip
    edificacoes = gpd.GeoDataFrame(
        {"osm_id": ["e1"], "tipo": ["casa"]}, geometry=[Point(X0 + 300, Y0 - 100)], crs=CRS
    )
    bairros = gpd.GeoDataFrame(
        {"osm_id": ["b1"], "nome": ["Centro"], "tipo": ["bairro"]},
        geometry=[Point(X0 + 100, Y0 - 240)],
        crs=CRS,
    )
    limite = gpd.GeoDataFrame(
        {"osm_id": ["l1"], "nome": ["Teste"]},
        geometry=[
            Polygon(
                [
                    (X0 - 50, Y0 - 250),
                    (X0 + 850, Y0 - 250),
                    (X0 + 850, Y0 + 250),
                    (X0 - 50, Y0 + 250),
                ]
            )
        ],
        crs=CRS,
    )
    for name, frame in (("vias", vias), ("rede_existente", rede), ("edificacoes", edificacoes),
                        ("bairros", bairros), ("limite", limite)):  # fmt: skip
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    meta = pd.DataFrame(
        {"chave": ["dados_ficticios", "criado_em"], "valor": ["true", '"2026-12-01T10:00:00"']}
    )
    pyogrio.write_dataframe(meta, path, layer="metadados", driver="GPKG")
    return path


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_territory(tmp_path_factory.mktemp("fundo") / "territorio.gpkg")


@pytest.fixture(scope="module")
def background(territory: Path) -> Any:
    return write_basemap(territory, territory.parent / "saida", min_zoom=12, max_zoom=16)


def _pixel(info: Any, zoom: int, x: float, y: float) -> tuple[int, int, int]:
    """Colour of the background at a point of the territory's CRS."""
    lon, lat = TO_LONLAT.transform(x, y)
    n = 2**zoom
    px = (lon + 180) / 360 * n * 256
    py = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n * 256
    tile = info.folder / str(zoom) / str(int(px // 256)) / f"{int(py // 256)}.png"
    image = Image.open(tile).convert("RGB")
    value = image.getpixel((int(px % 256), int(py % 256)))
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1]), int(value[2])


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _count(info: Any, zoom: int, colour: str, tolerance: int = 40) -> int:
    """Pixels close to ``colour`` in every tile of a zoom."""
    target = np.array(_rgb(colour))
    total = 0
    for tile in (info.folder / str(zoom)).rglob("*.png"):
        pixels = np.asarray(Image.open(tile).convert("RGB")).reshape(-1, 3).astype(int)
        total += int((np.abs(pixels - target).sum(axis=1) <= tolerance).sum())
    return total


def test_road_classes_follow_the_osm_tag_then_the_hierarchy() -> None:
    assert road_class("primary_link", "local") == 0
    assert road_class("tertiary", None) == 1
    assert road_class("residential", "principal") == 2
    assert road_class("track", None) == 3
    assert road_class(None, "secundaria") == 1
    assert road_class("unknown", None) == 2


def test_tile_range_by_hand() -> None:
    assert tile_range((0.0, 0.0, 0.0, 0.0), 1, margin=0) == (1, 1, 1, 1)
    assert tile_range((-180.0, -85.0, 179.9, 85.0), 0, margin=0) == (0, 0, 0, 0)
    assert tile_range((-0.1, -0.1, 0.1, 0.1), 2, margin=1) == (0, 0, 3, 3)


def test_two_directions_of_a_street_are_one_line(territory: Path) -> None:
    features = read_features(territory, 16)
    assert len(features.roads) == 2
    assert sorted(features.names) == ["Avenida Brasil", "Centro", "Rua das Flores"]
    # drawn last: the avenue, on top of the street
    assert features.roads.kind.tolist() == [2, 0]
    assert features.counts["vias"] == 3
    assert len(features.buildings.xy) == 1
    assert features.poles.kind.tolist() == [1]  # the pole
    assert features.grid.kind.tolist() == [0]  # the medium-voltage line


def test_every_tile_in_the_bounds_is_written_and_small(background: Any) -> None:
    expected = 0
    for zoom in range(12, 17):
        x0, y0, x1, y1 = tile_range(background.bounds, zoom)
        expected += (x1 - x0 + 1) * (y1 - y0 + 1)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                assert (background.folder / str(zoom) / str(x) / f"{y}.png").is_file()
    assert background.tiles == expected
    files = list(background.folder.rglob("*.png"))
    assert len(files) == expected
    assert max(f.stat().st_size for f in files) < 40_000
    assert sum(f.stat().st_size for f in files) == background.bytes < 1_000_000
    west, south, east, north = background.bounds
    assert west < TO_LONLAT.transform(X0, Y0)[0] < east
    assert south < TO_LONLAT.transform(X0, Y0)[1] < north


def test_roads_by_hierarchy_buildings_and_grid_where_they_are(background: Any) -> None:
    # the avenue's fill, the street's fill (white), the background between them
    assert _pixel(background, 16, X0 + 60, Y0) == _rgb(STYLE.fill[0])
    assert _pixel(background, 16, X0 + 200, Y0 - 170) == _rgb(STYLE.fill[2])
    assert _pixel(background, 16, X0 + 120, Y0 - 60) == _rgb(STYLE.background)
    # a building (z15 and deeper) and the medium-voltage line
    assert _pixel(background, 16, X0 + 300, Y0 - 100) == _rgb(STYLE.building)
    assert _pixel(background, 14, X0 + 300, Y0 - 100) != _rgb(STYLE.building)
    assert _pixel(background, 16, X0 + 100, Y0 + 150) == _rgb(STYLE.grid_mt)
    # at zoom 13 roads are thin lines in their low-zoom colours
    assert _count(background, 13, STYLE.fill[0], tolerance=0) == 0
    assert _count(background, 13, STYLE.low_fill[0], tolerance=0) > 0
    assert _count(background, 13, STYLE.low_fill[2], tolerance=0) > 0


def test_street_names_only_at_street_zoom(background: Any) -> None:
    label = STYLE.label
    assert _count(background, 16, label) > 40  # the avenue's and the street's names
    assert _count(background, 15, label) > 20  # the avenue's (principal) only
    assert _count(background, 14, label) == 0
    # the district's name from zoom 12 to 15, not at 16
    assert _count(background, 13, STYLE.district_label) > 20
    assert _count(background, 16, STYLE.district_label) == 0


def test_description_keeps_attribution_and_provenance(background: Any) -> None:
    assert ATTRIBUTION == OSM_ATTRIBUTION
    record = json.loads((background.folder / "fundo.json").read_text(encoding="utf-8"))
    assert record["atribuicao"] == "© OpenStreetMap contributors — dados fictícios"
    assert record["proveniencia"]["territorio"] == "territorio.gpkg"
    assert record["proveniencia"]["territorio_criado_em"] == "2026-12-01T10:00:00"
    assert record["proveniencia"]["camadas"]["vias"] == 3
    assert (record["zoom_minimo"], record["zoom_maximo"]) == (12, 16)
    again = read_basemap_info(background.folder)
    assert again.bounds == background.bounds
    assert again.tiles == background.tiles


def test_same_territory_same_tiles(territory: Path, background: Any, tmp_path: Path) -> None:
    # the opened Territory of a run works as well as its path
    other = write_basemap(Territory(territory), tmp_path, min_zoom=12, max_zoom=16)
    for tile in background.folder.rglob("*.png"):
        rel = tile.relative_to(background.folder)
        assert (other.folder / rel).read_bytes() == tile.read_bytes()


def test_leaflet_and_folium_layers(background: Any) -> None:
    js = leaflet_layer_js(background)
    assert js.startswith('L.tileLayer("fundo/{z}/{x}/{y}.png", ')
    options = json.loads(js[js.index(", ") + 2 : -1])
    assert options["maxNativeZoom"] == 16
    assert options["minNativeZoom"] == 12
    west, south, east, north = background.bounds
    assert options["bounds"] == [[south, west], [north, east]]
    assert "OpenStreetMap" in options["attribution"]
    page_folder = background.folder.parent / "mapas"
    assert '"../fundo/{z}/{x}/{y}.png"' in leaflet_layer_js(background, page_folder)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None)
    folium_layer(background).add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert "fundo/{z}/{x}/{y}.png" in html
    assert '"maxNativeZoom": 16' in html
    assert json.dumps(BASEMAP_NAME) in html  # in the layer switch


def test_bad_zooms_and_no_roads(territory: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="zooms"):
        write_basemap(territory, tmp_path, min_zoom=17, max_zoom=16)
    empty = tmp_path / "vazio.gpkg"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"name": []}, geometry=[], crs=CRS), empty, layer="limite"
    )
    with pytest.raises(ValueError, match="vias"):
        write_basemap(empty, tmp_path)


def _blob(geometry: Any, envelope: bool = False) -> bytes:
    """A GeoPackage geometry blob: header (with an xy envelope if asked), then WKB."""
    flags = 0b00000001 | (0b010 if envelope else 0)
    head = b"GP\x00" + bytes([flags]) + (31983).to_bytes(4, "little")
    if envelope:
        head += np.array(shapely.bounds(geometry)[[0, 2, 1, 3]], "<f8").tobytes()
    return head + shapely.to_wkb(geometry, byte_order=1)


def test_geometries_decoded_without_shapely_match_shapely() -> None:
    blobs = [
        _blob(LineString([(0, 0), (1, 2), (3, 4)])),
        _blob(Point(5, 6), envelope=True),
        _blob(MultiLineString([[(7, 7), (8, 8)], [(9, 9), (10, 10)]])),
        _blob(LineString([(11, 11), (12, 12)]), envelope=True),
        _blob(Polygon([(0, 0), (2, 0), (2, 2)])),
        _blob(LineString([(1, 1, 1), (2, 2, 2)])),  # 3D: through shapely
    ]
    coords, counts, rows = _lines_of(blobs)
    assert rows.tolist() == [0, 2, 2, 3, 4, 5]
    assert counts.tolist() == [3, 2, 2, 2, 4, 2]
    assert coords[:3].tolist() == [[0, 0], [1, 2], [3, 4]]
    assert coords[3:7].tolist() == [[7, 7], [8, 8], [9, 9], [10, 10]]
    assert coords[7:9].tolist() == [[11, 11], [12, 12]]
    assert coords[9:13].tolist() == [[0, 0], [2, 0], [2, 2], [0, 0]]  # the outer ring
    assert coords[13:].tolist() == [[1, 1], [2, 2]]
    xy, where = _points_of(blobs, surface=False)
    assert (xy.tolist(), where.tolist()) == ([[5, 6]], [1])
    xy, where = _points_of(blobs, surface=True)
    assert where.tolist() == [0, 1, 2, 3, 4, 5]  # a point on each geometry
    assert xy[1].tolist() == [5, 6]


def _water_territory(path: Path) -> Path:
    """A road, a river (named) and a stream, far from each other."""
    vias = gpd.GeoDataFrame(
        {"u": [1], "v": [2], "name": ["Rua Um"], "highway": ["residential"],
         "hierarquia": ["local"]},
        geometry=[LineString([(X0, Y0 + 300), (X0 + 600, Y0 + 300)])],
        crs=CRS,
    )  # fmt: skip
    water = gpd.GeoDataFrame(
        {"tipo": ["Rio", "Córrego"], "nome": ["Rio Jaguari", "Córrego Seco"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 600, Y0)]),
            LineString([(X0, Y0 - 200), (X0 + 600, Y0 - 200)]),
        ],
        crs=CRS,
    )
    pyogrio.write_dataframe(vias, path, layer="vias", driver="GPKG")
    pyogrio.write_dataframe(water, path, layer="cursos_agua", driver="GPKG")
    return path


def test_water_lines_rivers_wider_than_streams_and_named(tmp_path: Path) -> None:
    territory = _water_territory(tmp_path / "agua.gpkg")
    features = read_features(territory, 16)
    assert features.waterways.kind.tolist() == [0, 2]  # river, stream
    assert features.counts["cursos_agua"] == 2
    info = write_basemap(territory, tmp_path, min_zoom=14, max_zoom=16)
    water = _rgb(STYLE.water)
    assert _pixel(info, 16, X0 + 100, Y0) == water
    assert _pixel(info, 16, X0 + 100, Y0 - 200) == water
    assert _pixel(info, 16, X0 + 100, Y0 + 40) == _rgb(STYLE.background)
    # 5 m (~2.3 pixels at zoom 16) beside the centre: still the river (8 px), not the
    # stream (3 px)
    assert _pixel(info, 16, X0 + 100, Y0 - 5) == water
    assert _pixel(info, 16, X0 + 100, Y0 - 200 - 5) != water
    # at zoom 14 the river is drawn and the stream too (1 px)
    assert _count(info, 14, STYLE.water, tolerance=0) > 0
    # names along them at street zoom, in the water labels' colour
    assert _count(info, 16, STYLE.water_label, tolerance=30) > 40
    assert _count(info, 14, STYLE.water_label, tolerance=30) == 0


def test_older_territory_without_water_lines(territory: Path) -> None:
    features = read_features(territory, 16)
    assert len(features.waterways) == 0
    assert features.counts["cursos_agua"] == 0


def test_two_processes_draw_the_same_tiles(territory: Path, tmp_path: Path) -> None:
    features = read_features(territory, 16)
    bounds = features.lonlat_bounds()
    zoom = 15
    tiles = tile_range(bounds, zoom, margin=5)  # more than one metatile
    one = draw_zoom(features, zoom, tiles, tmp_path / "um", STYLE, workers=1)
    two = draw_zoom(features, zoom, tiles, tmp_path / "dois", STYLE, workers=2)
    assert one == two
    assert one[0] == (tiles[2] - tiles[0] + 1) * (tiles[3] - tiles[1] + 1)
    for tile in (tmp_path / "um").rglob("*.png"):
        assert (tmp_path / "dois" / tile.relative_to(tmp_path / "um")).read_bytes() == (
            tile.read_bytes()
        )


# --- in a browser, with no network -------------------------------------------------------

CHROMIUM = Path(os.environ.get("GEO_IP_CHROMIUM", "/usr/bin/chromium"))


def test_background_shows_in_leaflet_with_the_network_cut(background: Any) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright ausente")
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium não encontrado em {CHROMIUM}")
    folder = background.folder.parent
    shutil.copytree(ASSETS_DIR / "leaflet", folder / "leaflet", dirs_exist_ok=True)
    page_path = folder / "fundo.html"
    # under the maps' own Content-Security-Policy (img-src 'self': the tiles on the disk)
    html = preview_html(background, page_path, policy=CONTENT_SECURITY_POLICY)
    page_path.write_text(html, encoding="utf-8")
    errors: list[str] = []
    refused: list[str] = []
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 600, "height": 400})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.geo-ip-fundo img.leaflet-tile-loaded').length >= 4"
                " && document.querySelectorAll('.geo-ip-fundo img:not(.leaflet-tile-loaded)')"
                ".length === 0",
                timeout=20_000,
            )
            page.evaluate("mapa.setZoom(16, {animate: false})")
            page.wait_for_function(
                "document.querySelectorAll('.geo-ip-fundo img:not(.leaflet-tile-loaded)')"
                ".length === 0",
                timeout=20_000,
            )
            shot = folder / "fundo.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert errors == []
    assert refused == []
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    colours = {tuple(c) for c in pixels[::7].tolist()}
    assert _rgb(STYLE.background) in colours
    assert _rgb(STYLE.fill[0]) in colours  # the avenue
    assert len(colours) > 10  # roads, labels: not a blank page
