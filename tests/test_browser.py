"""The web maps in a real browser: Debian's headless Chromium driven by Playwright.

Needs ``apt-get install -y chromium chromium-driver`` (``/usr/bin/chromium``) and
``pip install playwright``; never ``playwright install`` (no browser download: the
Debian build is used). Skipped, saying why, when either is missing. The maps are
opened from ``file://`` with the network cut: OpenStreetMap tiles get a blank image,
any other request outside the disk fails the test. Screenshots go to a temporary
folder; with ``GEO_IP_CAPTURAS=docs/img`` they refresh the README's pictures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo_ip.outputs.maps import MapLayer, load_map
from geo_ip.outputs.styles import LayerStyle, layer_style
from geo_ip.outputs.web.parts import situation_spec, spec_for
from geo_ip.sources.catalog import load_catalog
from tests.browsers import BLANK_PNG, playwright_or_skip
from tests.raw_codes import raw_codes
from tests.test_webmap import layers

CAPTURES = os.environ.get("GEO_IP_CAPTURAS", "")


def _capture(page: Any, name: str, tmp: Path) -> Path:
    """Screenshot into a temporary folder, or into GEO_IP_CAPTURAS (README pictures)."""
    folder = Path(CAPTURES) if CAPTURES else tmp
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000  # a real picture, not a blank page
    return path


sync_api = playwright_or_skip()


@pytest.fixture(scope="module")
def maps(demo_outputs: list[Path]) -> Path:
    """The demo's assessment folder (mapa.html, mapas/, assets/)."""
    return demo_outputs[0].parent


class Watched:
    """A page with its JavaScript errors and the requests that left the disk."""

    def __init__(self, page: Any):
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)
        page.on("request", self._request)
        page.route("**/tile.openstreetmap.org/**", self._tile)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "tile.openstreetmap.org" not in message.text:
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(("file://", "data:", "https://tile.openstreetmap.org/")):
            self.outside.append(url)

    @staticmethod
    def _tile(route: Any) -> None:
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    def open(self, path: Path, *, quick: bool = False) -> None:
        """Open a map; ``quick``: once its script has run, without waiting for the tiles."""
        self.page.goto(path.as_uri(), wait_until="domcontentloaded" if quick else "load")
        self.page.wait_for_selector(".leaflet-control-layers", state="attached")
        self.page.wait_for_timeout(100 if quick else 400)

    def check(self) -> None:
        assert self.errors == []
        assert self.outside == []


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield Watched(page)
    context.close()


def _labels(page: Any, kind: str) -> list[str]:
    return [
        t.strip() for t in page.locator(f".leaflet-control-layers-{kind} label").all_inner_texts()
    ]


def test_overview_opens_offline_with_every_layer_in_the_control(
    maps: Path, watched: Watched
) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    # the territory's own background comes first and is shown: no internet needed
    assert _labels(page, "base") == [
        "Mapa do território (offline)", "OpenStreetMap", "Sem mapa de fundo",
    ]  # fmt: skip
    titles = list(layers((maps / "mapa.html").read_text(encoding="utf-8")))
    assert _labels(page, "overlays") == titles
    assert page.locator(".gi-pedido").count() > 10  # markers drawn (some in clusters)
    page.wait_for_function(
        "document.querySelectorAll('img.leaflet-tile-loaded[src*=\"fundo/\"]').length > 0"
    )
    assert (maps / "fundo" / "fundo.json").is_file()
    assert page.locator(".gi-grupo").count() >= 1  # and clusters
    assert page.locator(".gi-legenda").is_visible()
    assert "dados fictícios" in page.locator(".gi-rodape").inner_text()
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    watched.check()


def test_clicking_a_request_opens_its_popup(maps: Path, watched: Watched) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    page.locator(".gi-pedido").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    text = popup.inner_text()
    for expected in (
        "Critério",
        "Sugerido",
        "Final",
        "de 100 pontos",
        "Abrir o mapa do pedido",
        "Custo estimado (R$)",
    ):
        assert expected in text, expected
    assert "I Beneficiários (40)" in text and "V Viabilidade técnica (15)" in text
    page.mouse.move(200, 800)  # no hover label over the popup
    page.wait_for_timeout(500)  # the popup's fade-in
    _capture(page, "mapa_panorama.png", maps.parent / "capturas")
    watched.check()


def test_search_by_protocol_opens_the_request(maps: Path, watched: Watched) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    box = page.locator(".leaflet-control-search input.search-input")
    box.press_sequentially("PED-2026-0140", delay=20)
    page.locator(".search-tooltip .search-tip").first.wait_for(state="visible")  # records loaded
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=10_000)
    text = popup.inner_text()
    assert "PED-2026-0140" in text
    assert "1º na classificação" in text and "85 de 100 pontos" in text
    watched.check()


_FEATURES_OF = """(protocolo) => {
  const out = [];
  for (const [name, layer] of Object.entries(window)) {
    if (!name.startsWith("geo_ip_layer_") || !layer || !layer.eachLayer) { continue; }
    layer.eachLayer((l) => {
      const p = l.feature && l.feature.properties;
      if (!p || p.protocolo !== protocolo || !("mapa" in p)) { return; }  /* requests only */
      const tip = l.getTooltip && l.getTooltip();
      out.push({
        layer: name,
        pin: l instanceof L.Marker || l instanceof L.CircleMarker,
        line: l instanceof L.Polyline,
        dash: l.options.dashArray || null,
        tip: tip ? tip.getContent() : null,
      });
    });
  }
  return out;
}"""
"""Every feature of a request in the page's request layers (clustered ones included)."""


def test_a_request_pending_location_is_a_dashed_line_not_a_pin(
    maps: Path, watched: Watched
) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    found = page.evaluate(_FEATURES_OF, "PED-2026-0130")
    assert len(found) == 2  # the layer by situation and the layer by score
    for feature in found:
        assert feature["line"] and not feature["pin"]
        assert feature["dash"] == "10 7"
        assert feature["tip"].startswith("PED-2026-0130 — Local a confirmar (± 360 m): extensão")
    other = page.evaluate(_FEATURES_OF, "PED-2026-0101")
    assert len(other) == 2 and all(f["pin"] and not f["line"] for f in other)
    assert "Local a confirmar: trecho candidato" in page.locator(".gi-legenda").inner_text()
    # the search finds the stretch and opens its popup (it is never in a cluster)
    box = page.locator(".leaflet-control-search input.search-input")
    box.press_sequentially("PED-2026-0130", delay=20)
    page.locator(".search-tooltip .search-tip").first.wait_for(state="visible")
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=10_000)
    text = popup.inner_text()
    assert "PED-2026-0130" in text and "de 100 pontos no pior caso" in text
    assert "Local a confirmar (± 360 m): extensão de 4 a 7 m; 1 poste novo" in text
    assert "Confirmar no local a posição do pedido ao longo de Rua Doutor Carlos Chagas" in text
    assert page.locator(".leaflet-popup-content .gi-local-confirmar").count() == 1
    # its own map: the stretch again, and the panel says what to confirm
    watched.open(maps / "mapas" / "PED-2026-0130.html")
    mine = page.evaluate(_FEATURES_OF, "PED-2026-0130")
    assert len(mine) == 1 and mine[0]["line"] and not mine[0]["pin"]
    panel = page.locator(".gi-painel").inner_text()
    assert "Local a confirmar" in panel and "O trecho candidato aparece tracejado" in panel
    watched.check()


def test_no_base_map_option_loads_no_tile(maps: Path, watched: Watched) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    page.get_by_text("Sem mapa de fundo").click()
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-tile-pane img").count() == 0
    watched.check()


def _js(style: LayerStyle) -> dict[str, Any]:
    return spec_for(style, MapLayer(camada="pedidos"), "t")


def test_symbols_in_the_browser_follow_the_python_styles(maps: Path, watched: Watched) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    situation = layer_style("pedidos")
    alternative = load_catalog().pedidos.alternativos["pontuacao"]
    score = LayerStyle(
        **{
            **situation.model_dump(),
            "tipo": alternative.tipo,
            "campo": alternative.campo,
            "classes": alternative.classes,
        }
    )
    for style, values in (
        (score, [0, 12.5, 39.9, 40, 59.99, 60, 80, 100, "x", None]),
        (situation, ["classificado", "erro", "inelegivel", "desconhecida", None]),
    ):
        spec = situation_spec(style) if style is situation else _js(style)
        for value in values:
            got = page.evaluate("([s, v]) => geoIp.classe(s, {[s.campo]: v}).rotulo", [spec, value])
            assert got == style.symbol_for(value).rotulo, value
    money = page.evaluate("geoIp.formata('custo_estimado_rs', 182646.92)")
    assert money.replace("\xa0", " ") == "R$ 182.646,92"
    assert page.evaluate("geoIp.formata('percentual_municipio', 80)") == "80 %"
    watched.check()


def test_request_map_opens_with_its_panel(maps: Path, watched: Watched) -> None:
    path = maps / "mapas" / "PED-2026-0103.html"
    watched.open(path)
    page = watched.page
    panel = page.locator(".gi-painel")
    assert panel.is_visible()
    text = panel.inner_text()
    assert "Pedido PED-2026-0103" in text and "Critérios do Art. 9" in text
    assert "Decisão da Comissão" in text and "Evidências contadas" in text
    page.locator(".leaflet-control-layers").hover()
    page.wait_for_timeout(200)
    composition = load_map("pedido")
    assert _labels(page, "overlays") == [composition.layer_title(la) for la in composition.camadas]
    page.mouse.move(300, 500)
    page.wait_for_timeout(200)
    # a marker of the request itself opens its popup
    page.locator(".gi-pedido").first.dispatch_event("click")  # under the evidence halos
    page.locator(".leaflet-popup-content").wait_for(state="visible")
    assert "PED-2026-0103" in page.locator(".leaflet-popup-content").inner_text()
    page.locator(".leaflet-popup-close-button").click()
    page.mouse.move(300, 800)
    page.wait_for_timeout(500)
    _capture(page, "mapa_pedido.png", maps.parent / "capturas")
    # the panel can be hidden, and the map takes the whole width
    width = page.evaluate("document.querySelector('.folium-map').offsetWidth")
    page.locator(".gi-painel-botao").click()
    assert not panel.is_visible()
    assert page.evaluate("document.querySelector('.folium-map').offsetWidth") > width
    watched.check()


def test_request_maps_open_without_errors(maps: Path, watched: Watched) -> None:
    pages = sorted((maps / "mapas").glob("*.html"))
    assert len(pages) == 37
    for path in pages[::4]:  # one in four (each takes about a second)
        watched.open(path, quick=True)
        assert watched.page.locator(".gi-pedido").count() >= 1, path.name
    watched.check()


def test_overview_of_a_thousand_requests_opens(
    demo_territory: Path, tmp_path: Path, watched: Watched
) -> None:
    from benchmarks.stages import synthetic_requests
    from geo_ip.outputs.web.assets import copy_assets
    from geo_ip.outputs.web.webmap import overview_map, save_map
    from geo_ip.pipeline import assess
    from geo_ip.rules.config import load_rules
    from tests.test_webmap import KEY, TODAY

    csv = synthetic_requests(str(demo_territory), 1000, tmp_path / "pedidos.csv")
    big = assess(demo_territory, csv, load_rules("demo"), key=KEY, today=TODAY)
    copy_assets(tmp_path)
    save_map(overview_map(big), tmp_path / "mapa.html", "assets/")
    start = time.perf_counter()
    watched.open(tmp_path / "mapa.html")
    seconds = time.perf_counter() - start
    assert watched.page.locator(".gi-grupo").count() > 5
    assert seconds < 30, seconds  # about 1-2 s on the CI machine
    watched.check()


# --- injection (issue 17, item 5) ----------------------------------------------------------

HOSTILE = "PED-2026-0999<img src=x onerror=alert(document.title)>"
"""A protocol number that was stored XSS in the overview's search suggestions."""


@pytest.fixture(scope="module")
def hostile_maps(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo assessed with the protocol of its first request replaced by :data:`HOSTILE`."""
    import pandas as pd

    from geo_ip.outputs.web.webmap import write_maps
    from geo_ip.pipeline import assess
    from geo_ip.rules.config import load_rules
    from tests.conftest import DEMO
    from tests.test_webmap import KEY, TODAY

    folder = tmp_path_factory.mktemp("mapa_hostil")
    requests = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    requests.loc[0, "protocolo"] = HOSTILE
    requests.to_csv(folder / "pedidos.csv", index=False)
    assessment = assess(
        demo_territory, folder / "pedidos.csv", load_rules("demo"), key=KEY, today=TODAY
    )
    write_maps(assessment, folder)
    return folder


def _dialogs(page: Any) -> list[str]:
    """Every alert/confirm/prompt the page opens (dismissed), in order."""
    opened: list[str] = []

    def dismiss(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def test_search_suggestion_shows_a_hostile_protocol_as_text(
    hostile_maps: Path, watched: Watched
) -> None:
    page = watched.page
    opened = _dialogs(page)
    watched.open(hostile_maps / "mapa.html")
    box = page.locator(".leaflet-control-search input.search-input")
    box.press_sequentially("PED", delay=20)
    tips = page.locator(".search-tooltip .search-tip")
    tips.first.wait_for(state="visible")
    page.wait_for_timeout(300)
    assert HOSTILE in tips.all_inner_texts()  # the literal text, markup and all
    assert page.locator(".search-tooltip img").count() == 0
    assert opened == []
    # the OpenStreetMap tiles still load under the Content-Security-Policy
    assert page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").count() > 0
    watched.check()


def test_maps_forbid_inline_event_handlers(hostile_maps: Path, watched: Watched) -> None:
    page = watched.page
    opened = _dialogs(page)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    hostile_map = [p for p in (hostile_maps / "mapas").glob("*.html") if "0999" in p.name]
    assert len(hostile_map) == 1
    for path in (hostile_maps / "mapa.html", hostile_map[0]):
        watched.open(path)
        watched.check()  # the map itself runs under the policy without any error
        # any markup that reaches the page through innerHTML cannot run a handler
        page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', "
            '\'<img class="gi-teste" src="x" onerror="alert(1)">\')'
        )
        page.wait_for_timeout(300)
        assert opened == [], path.name
        watched.errors.clear()  # the refused handler and the missing image "x"
    assert HOSTILE in page.locator(".gi-painel").inner_text()  # the request map's panel
    assert any("inline event handler" in v for v in violations), violations


# --- every layer under every background, the legend, the search box (issue 21) ---------------

_MARKERS = "() => document.querySelectorAll('.leaflet-marker-icon').length"
"""Markers in the page: requests, clusters, facility and occurrence icons."""
_LEGEND_SHOWN = """() => Object.fromEntries(
  Array.from(document.querySelectorAll('.gi-legenda details[data-camada]'))
    .map((d) => [d.getAttribute('data-camada'), !d.hidden]))"""
"""Whether each layer's legend section is shown, by layer title."""


def _box(page: Any, kind: str, title: str) -> Any:
    labels = page.locator(f".leaflet-control-layers-{kind} label")
    texts = [t.strip() for t in labels.all_inner_texts()]
    return labels.nth(texts.index(title)).locator("input")


@pytest.mark.parametrize("name", ["mapa.html", "mapas/PED-2026-0103.html"])
def test_every_layer_toggled_under_every_background(
    maps: Path, watched: Watched, name: str
) -> None:
    watched.open(maps / name)
    page = watched.page
    page.locator(".leaflet-control-layers").hover()  # a collapsed control opens
    page.wait_for_timeout(200)
    before = page.evaluate(_MARKERS)
    assert before > 0
    bases, overlays = _labels(page, "base"), _labels(page, "overlays")
    assert {"OpenStreetMap", "Sem mapa de fundo"} <= set(bases)  # and any other base layer
    shown = page.evaluate(_LEGEND_SHOWN)
    for title in overlays:  # the legend opens with the layers that are on
        if title in shown:
            assert shown[title] == _box(page, "overlays", title).is_checked(), title
    for base in [*bases[1:], bases[0]]:  # the one open on loading last
        _box(page, "base", base).check()
        page.wait_for_timeout(150)
        assert page.evaluate(_MARKERS) == before, base
        for title in overlays:
            box = _box(page, "overlays", title)
            was = box.is_checked()
            box.click()
            page.wait_for_timeout(150)
            assert box.is_checked() is not was
            if title in shown:  # the legend follows the layer control
                assert page.evaluate(_LEGEND_SHOWN)[title] is not was, (base, title)
            box.click()
            page.wait_for_timeout(150)
            assert box.is_checked() is was
            assert page.evaluate(_MARKERS) == before, (base, title)
        if base == "Sem mapa de fundo":
            assert page.locator(".leaflet-tile-pane img").count() == 0
    # a layer off on loading draws its own markers when ticked, under no background
    _box(page, "base", "Sem mapa de fundo").check()
    if "Pedidos pela pontuação total" in overlays:
        score = _box(page, "overlays", "Pedidos pela pontuação total")
        score.check()
        page.wait_for_timeout(150)
        assert page.evaluate(_MARKERS) > before
        assert page.evaluate(_LEGEND_SHOWN)["Pedidos pela pontuação total"] is True
        score.uncheck()
        page.wait_for_timeout(150)
        assert page.evaluate(_MARKERS) == before
    watched.check()  # no "Map has no maxZoom specified", nothing else


_OVERLAP = """() => {
  const legend = document.querySelector('.gi-legenda').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.leaflet-marker-icon')).filter((m) => {
    const r = m.getBoundingClientRect();
    return r.left < legend.right && legend.left < r.right && r.top < legend.bottom
      && legend.top < r.bottom;
  }).length;
}"""


@pytest.mark.parametrize("name", ["mapa.html", "mapas/PED-2026-0103.html"])
def test_the_legend_covers_no_marker_at_the_default_zoom(
    maps: Path, watched: Watched, name: str
) -> None:
    watched.open(maps / name)
    page = watched.page
    assert page.locator(".gi-legenda").is_visible()
    assert page.evaluate(_MARKERS) > 0
    assert page.evaluate(_OVERLAP) == 0
    watched.check()


def test_search_box_after_switching_background_and_layers(maps: Path, watched: Watched) -> None:
    watched.open(maps / "mapa.html")
    page = watched.page
    box = page.locator(".leaflet-control-search input.search-input")
    assert box.get_attribute("placeholder") == "Buscar protocolo"
    # an unknown protocol: a Portuguese message, no popup
    box.press_sequentially("PED-2099", delay=20)
    page.wait_for_timeout(600)
    box.press("Enter")
    alert = page.locator(".leaflet-control-search .search-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "Protocolo não encontrado"
    assert page.locator(".leaflet-popup-content").count() == 0
    box.fill("")
    # no background, the requests layer off and on again: a clustered request still opens
    _box(page, "base", "Sem mapa de fundo").check()
    requests = _box(page, "overlays", "Pedidos avaliados")
    requests.click()
    requests.click()
    page.wait_for_timeout(200)
    box.press_sequentially("PED-2026-0140", delay=20)
    page.locator(".search-tooltip .search-tip").first.wait_for(state="visible")
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=10_000)
    assert "PED-2026-0140" in popup.inner_text()
    watched.check()


_VISIBLE_TEXTS = """() => {
  const out = [];
  const read = (where, html) => {
    const d = document.createElement('div');
    d.innerHTML = html;
    d.querySelectorAll('.gi-livre').forEach((e) => e.remove());  /* the assessment's prose */
    out.push({where, text: d.textContent,
      cells: Array.from(d.querySelectorAll('td')).map((t) => t.textContent.trim())});
  };
  const content = (l, c) => (typeof c === 'function' ? c(l) : c);
  const walk = (l) => {
    if (l.getPopup && l.getPopup()) { read('balão', content(l, l.getPopup().getContent())); }
    if (l.getTooltip && l.getTooltip()) { read('dica', content(l, l.getTooltip().getContent())); }
  };
  for (const [name, layer] of Object.entries(window)) {
    if (name.startsWith('geo_ip_layer_') && layer && layer.eachLayer) { layer.eachLayer(walk); }
  }
  for (const sel of ['.gi-legenda', '.gi-painel', '.gi-titulo', '.gi-rodape']) {
    document.querySelectorAll(sel).forEach((e) => read(sel, e.innerHTML));
  }
  return out;
}"""
"""Every text a person can read on a map: each feature's popup and hover label (drawn by
mapa.js as when clicked), legend, panel, title and footer; the assessment's prose (the
motivations, reasons and problems, ``.gi-livre``) left out."""


def test_no_raw_code_in_the_text_of_the_web_maps(maps: Path, watched: Watched) -> None:
    page = watched.page
    pages = ["mapa.html", "mapas/PED-2026-0103.html", "mapas/PED-2026-0130.html",
             "mapas/PED-2026-0133.html"]  # fmt: skip
    texts = []
    for name in pages:
        watched.open(maps / name, quick=True)
        items = page.evaluate(_VISIBLE_TEXTS)
        assert len(items) > 100, name
        assert raw_codes(items) == set(), name
        texts += [i["text"] for i in items]
    # the words that replaced them
    text = " ".join(texts)
    for words in (
        "Tipo de pedidoExtensão de rede elétrica",
        "HierarquiaSecundária",
        "PavimentoAsfalto",
        "Tipo OSM (highway)Rua residencial",
        "Elemento 30009 da BDGD da distribuidora",
        "Rede de baixa tensão",
        "Data do protocolo06/05/2026",
        "LocalizaçãoCoordenadas informadas no pedido",
    ):
        assert words in text, words
    # the check itself finds what issue 21 saw
    seen = [
        {"where": "balão", "text": "Tipo de pedidoextensao_rede", "cells": ["extensao_rede"]},
        {"where": "balão", "text": "Localizaçãologradouro", "cells": ["logradouro"]},
        {"where": "balão", "text": "Pavimentoasphalt", "cells": ["asphalt"]},
        {"where": "balão", "text": "Elementobdgd:20188 em 2026-01-31", "cells": []},
        {"where": "dica", "text": "secundaria", "cells": []},
    ]
    assert raw_codes(seen) == {
        "balão: extensao_rede", "balão: = extensao_rede", "balão: = logradouro",
        "balão: asphalt", "balão: = asphalt", "balão: bdgd:", "balão: 2026-01-31",
        "dica: secundaria", "dica: = secundaria",
    }  # fmt: skip
    watched.check()


def test_the_script_formats_values_as_the_python_does(maps: Path, watched: Watched) -> None:
    from geo_ip.outputs.format import display, reference_words, value_labels

    watched.open(maps / "mapa.html", quick=True)
    page = watched.page
    words = value_labels("pedidos")
    spec = {"valores": words, "referencias": reference_words()}
    for field, value in (
        ("tipo", "extensao_rede"),
        ("superficie_via", "asphalt"),
        ("geocodificacao", "logradouro"),
        ("hierarquia_via", "secundaria"),
        ("rede_alvo_id", "bdgd:20188"),
        ("id", "node/100005"),
        ("data_protocolo", "2026-01-31"),
        ("decisao", "em 2026-01-31T10:00:00+00:00 confirmado"),
        ("tipo", "troca de lâmpada"),
        ("rede_alvo_id", "xyz:1"),
    ):
        got = page.evaluate("([c, v, s]) => geoIp.formata(c, v, s)", [field, value, spec])
        assert got == display(field, value, words), (field, value)
    assert page.evaluate("geoIp.formata('tipo', 'extensao_rede')") == "extensao_rede"  # no spec
    badges = page.evaluate("geoIp.alertas('declaração implausível;  local aproximado; ')")
    assert badges.count('class="gi-alerta"') == 2 and "local aproximado</span>" in badges
    assert page.evaluate("geoIp.alertas('')") == ""
    assert page.evaluate("geoIp.alertas('<img src=x>')").count("&lt;img src=x&gt;") == 1
    watched.check()
