"""Screenshots of the offline background for the documentation (issue 21, item 1).

The demo's overview and one of its request maps, and the overview of Porto Alegre (when
``../shared/data/poa`` is present), are opened in Debian's headless Chromium (launched as
in ``tests/test_browser.py``) with the network cut: every request that is not
``file://``, ``data:`` or localhost is refused and fails the test. The maps open on
their default background, "Mapa do território (offline)"; the test waits for its tiles,
checks that they are drawn (loaded tiles counted, the screenshot's pixels are the
background's colours, not the empty map's grey) and writes the pictures into a temporary
folder; with ``GEO_IP_CAPTURAS=docs/img`` (as tests/test_browser.py) they refresh the
pictures the README shows (1280×800 PNG, about 200 kB each). A picture whose pixels
barely changed is not rewritten.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from geo_ip.outputs.web.basemap import BASEMAP_FOLDER, BASEMAP_NAME
from geo_ip.outputs.web.basemap_tiles import Style
from tests.browsers import playwright_or_skip
from tests.conftest import DEMO_KEY, DEMO_TODAY

playwright_or_skip()  # the whole module needs Playwright and Debian's Chromium
CAPTURES = os.environ.get("GEO_IP_CAPTURAS", "")
DOCS_IMG = Path(CAPTURES) if CAPTURES else None
"""Where the README's pictures are refreshed (``GEO_IP_CAPTURAS``); None: only checked."""
WIDTH, HEIGHT = 1280, 800
MAX_BYTES = 600_000
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
TILES_LOADED = (
    "(n) => document.querySelectorAll('img.leaflet-tile-loaded[src*=\"fundo/\"]').length >= n"
    " && document.querySelectorAll('.leaflet-tile-pane img:not(.leaflet-tile-loaded)')"
    ".length === 0"
    # Leaflet fades a tile in over 200 ms: a screenshot before the end blends it with grey
    " && [...document.querySelectorAll('.leaflet-tile-pane img')]"
    ".every((t) => getComputedStyle(t).opacity === '1')"
)
TILES = "document.querySelectorAll('img.leaflet-tile-loaded[src*=\"fundo/\"]').length"
EMPTY_GREY = """() => getComputedStyle(document.querySelector('.leaflet-container'))
  .backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"""


BACKGROUND_BOX = """() => {
  for (const v of Object.values(window)) {
    if (v instanceof L.TileLayer && v._map && v.options.className === 'geo-ip-fundo') {
      const m = v._map;
      const b = L.latLngBounds(v.options.bounds);
      const box = m.getContainer().getBoundingClientRect();
      const nw = m.latLngToContainerPoint(b.getNorthWest());
      const se = m.latLngToContainerPoint(b.getSouthEast());
      return [Math.max(box.left, box.left + nw.x), Math.max(box.top, box.top + nw.y),
              Math.min(box.right, box.left + se.x), Math.min(box.bottom, box.top + se.y)]
        .map(Math.round);
    }
  }
  return null;
}"""
"""The screen box ``[left, top, right, bottom]`` of the background's bounds, in the map."""


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


PAPER = _rgb(Style().background)
"""The background's own colour where nothing is drawn."""


class Offline:
    """A page with no network: what it asked for, what was refused and its JS errors."""

    def __init__(self, page: Any):
        self.page = page
        self.requested: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requested.append(url)
        if url.startswith(("file://", "data:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def open(self, path: Path, tiles: int) -> None:
        """Open a map and wait until at least ``tiles`` background tiles are shown."""
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_selector(".leaflet-control-layers", state="attached")
        self.page.wait_for_function(TILES_LOADED, arg=tiles, timeout=30_000)
        self.page.mouse.move(WIDTH - 5, HEIGHT // 2)  # no hover label on a marker
        self.page.wait_for_timeout(600)  # the clusters' fade-in

    def check(self) -> None:
        """Nothing left the disk, every tile came from the offline background."""
        assert self.refused == []
        assert self.errors == []
        assert not [u for u in self.requested if "openstreetmap.org" in u]
        tiles = [u for u in self.requested if u.endswith(".png") and "/assets/" not in u]
        assert tiles and all(f"/{BASEMAP_FOLDER}/" in u for u in tiles)


@pytest.fixture
def offline(browser: Any) -> Iterator[Offline]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    yield Offline(context.new_page())
    context.close()


def _shot(offline: Offline) -> np.ndarray:
    """The page's RGB pixels."""
    with Image.open(io.BytesIO(offline.page.screenshot())) as shot:
        image = shot.convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    return np.asarray(image)


def _encode(pixels: np.ndarray) -> bytes:
    """PNG in true colour (a 256-colour palette merged the legend's greens and blues)."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _pixels(source: Path | bytes) -> np.ndarray | None:
    """The RGB pixels of a PNG file or of its bytes (None when it cannot be read)."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
        return None


def _barely_changed(old: Path, data: bytes) -> bool:
    """Whether the picture on disk has the same size and < 0.5 % of its pixels differ."""
    before, after = _pixels(old), _pixels(data)
    if before is None or after is None or before.shape != after.shape:
        return False
    differ = (np.abs(before.astype(int) - after.astype(int)).sum(axis=2) > 24).mean()
    return bool(differ < 0.005)


def _publish(pixels: np.ndarray, name: str, tmp_path: Path, folder: Path | None = DOCS_IMG) -> Path:
    """Write the picture into ``folder`` (tmp_path when None or read-only); return where.

    A picture whose pixels barely changed (the time of the assessment in the footer) is
    left as it is, so that running the tests does not touch the repository for nothing.
    """
    data = _encode(pixels)
    assert len(data) < MAX_BYTES, len(data)
    folder = tmp_path if folder is None else folder
    target = folder / name
    if not (target.is_file() and _barely_changed(target, data)):
        try:
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".png", delete=False) as fh:
                fh.write(data)
            os.chmod(fh.name, 0o644)  # as a checked-out file, not a private temporary one
            os.replace(fh.name, target)
        except OSError:  # a read-only checkout: the picture is still taken and checked
            target = tmp_path / name
            target.write_bytes(data)
    assert target.stat().st_size < MAX_BYTES
    shown = _pixels(target)
    assert shown is not None and shown.shape == (HEIGHT, WIDTH, 3)
    return target


def _assert_background_drawn(offline: Offline, pixels: np.ndarray) -> None:
    """Inside its bounds the screenshot shows the background, not an empty map's grey."""
    grey = np.array(offline.page.evaluate(EMPTY_GREY))
    assert grey.tolist() != list(PAPER)
    rect = offline.page.evaluate(BACKGROUND_BOX)
    assert rect is not None  # the offline background is the layer on the map
    left, top, right, bottom = rect[0] + 3, rect[1] + 3, rect[2] - 3, rect[3] - 3
    assert (right - left) * (bottom - top) > 0.15 * WIDTH * HEIGHT  # demo: 18 %
    inside = pixels[top:bottom, left:right].reshape(-1, 3).astype(int)
    empty = (np.abs(inside - grey).sum(axis=1) <= 6).mean()
    paper = (np.abs(inside - np.array(PAPER)).sum(axis=1) <= 6).mean()
    assert empty < 0.01, empty  # every tile drawn: no hole of grey
    assert paper > 0.10, paper
    centre = pixels[(top + bottom) // 2, (left + right) // 2].astype(int)
    assert np.abs(centre - grey).sum() > 6, centre.tolist()
    assert len(np.unique(inside[::11], axis=0)) > 50  # roads, names, markers: a real map


def test_pictures_are_kept_when_barely_changed_and_taken_on_a_read_only_checkout(
    tmp_path: Path,
) -> None:
    pixels = np.full((HEIGHT, WIDTH, 3), PAPER, dtype=np.uint8)
    pixels[100:140, 200:600] = (200, 40, 40)  # a red band: 16,000 pixels, 1.6 %
    folder = tmp_path / "img"
    folder.mkdir()
    first = _publish(pixels, "a.png", tmp_path, folder)
    assert first == folder / "a.png"
    assert first.stat().st_mode & 0o777 == 0o644
    written = first.stat().st_mtime_ns
    pixels[300:310, 200:600] = (0, 0, 0)  # 4,000 pixels, 0.39 %: not rewritten
    assert _publish(pixels, "a.png", tmp_path, folder).stat().st_mtime_ns == written
    kept = _pixels(first)
    assert kept is not None and kept[305, 300].tolist() == list(PAPER)
    pixels[300:320, 200:600] = (0, 0, 0)  # 8,000 pixels, 0.78 %: rewritten
    _publish(pixels, "a.png", tmp_path, folder)
    changed = _pixels(first)
    assert changed is not None and changed[305, 300].tolist() == [0, 0, 0]
    # a folder that cannot be written (a file stands in its place): the temporary folder
    blocked = tmp_path / "somente_leitura"
    blocked.write_text("", encoding="utf-8")
    assert _publish(pixels, "b.png", tmp_path, blocked) == tmp_path / "b.png"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".png"] == ["b.png"]


# --- the demo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_maps(demo_outputs: list[Path]) -> Path:
    """The demo's assessment folder (``mapa.html``, ``mapas/``, ``fundo/``), built once."""
    return demo_outputs[0].parent


def test_demo_overview_offline(demo_maps: Path, offline: Offline, tmp_path: Path) -> None:
    assert (demo_maps / BASEMAP_FOLDER / "fundo.json").is_file()
    offline.open(demo_maps / "mapa.html", tiles=6)
    page = offline.page
    checked = page.locator(".leaflet-control-layers-base input:checked + span")
    assert checked.inner_text().strip() == BASEMAP_NAME
    assert page.evaluate(TILES) >= 6
    assert page.locator(".gi-pedido").count() > 10
    pixels = _shot(offline)
    _assert_background_drawn(offline, pixels)
    _publish(pixels, "mapa_offline_demo.png", tmp_path)
    offline.check()


def test_demo_request_map_offline(demo_maps: Path, offline: Offline, tmp_path: Path) -> None:
    offline.open(demo_maps / "mapas" / "PED-2026-0103.html", tiles=6)
    page = offline.page
    assert "Pedido PED-2026-0103" in page.locator(".gi-painel").inner_text()
    pixels = _shot(offline)
    _assert_background_drawn(offline, pixels)
    _publish(pixels, "mapa_pedido_demo.png", tmp_path)
    offline.check()


# --- Porto Alegre -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def poa_maps(poa_territory: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Porto Alegre's overview: 12 requests at road midpoints, assessed, maps written.

    About 15 s beyond the session's territory (the background is most of it).
    """
    from geo_ip.outputs.web.webmap import write_maps
    from geo_ip.pipeline import assess
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.reader import read_layer

    folder = tmp_path_factory.mktemp("poa_mapas")
    roads = read_layer(poa_territory.path, "vias")
    picked = roads.iloc[np.random.default_rng(21).choice(len(roads), 12, replace=False)]
    points = picked.geometry.interpolate(0.5, normalized=True).to_crs("EPSG:4326")
    requests = pd.DataFrame(
        {
            "protocolo": [f"POA-{i:03d}" for i in range(12)],
            "data_protocolo": "2026-06-01",
            "tipo": "extensao_rede",
            "latitude": points.y.round(6).to_numpy(),
            "longitude": points.x.round(6).to_numpy(),
            "residencias": "2",
        }
    )
    requests.to_csv(folder / "pedidos.csv", index=False)
    result = assess(
        poa_territory.path,
        folder / "pedidos.csv",
        load_rules("extrema"),
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )
    write_maps(result, folder / "saida")
    return folder / "saida"


@pytest.mark.slow
def test_porto_alegre_overview_offline(poa_maps: Path, offline: Offline, tmp_path: Path) -> None:
    offline.open(poa_maps / "mapa.html", tiles=12)
    assert offline.page.evaluate(TILES) >= 12
    assert offline.page.locator(".gi-pedido, .gi-grupo").count() >= 1
    pixels = _shot(offline)
    _assert_background_drawn(offline, pixels)
    _publish(pixels, "mapa_offline_poa.png", tmp_path)
    offline.check()
