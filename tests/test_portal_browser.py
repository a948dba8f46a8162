"""The public portal in a real browser: accessibility (axe-core), the map, a phone's screen.

Needs Chromium (``/usr/bin/chromium``, as tests/test_browser.py) and axe-core from npm:
``npm install --no-save axe-core`` at the repository root (``node_modules/axe-core``),
or ``GEO_IP_AXE=/path/to/axe.min.js``. Skips with the reason when either is absent.
``GEO_IP_CAPTURAS=docs/img`` writes the screenshots of the home page and of a request page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from geo_ip.portal import build_site
from tests.browsers import BLANK_PNG, playwright_or_skip
from tests.test_portal import _small_folder

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("GEO_IP_AXE", ROOT / "node_modules" / "axe-core" / "axe.min.js"))
CAPTURES = os.environ.get("GEO_IP_CAPTURAS", "")
PAGES = (
    "index.html",
    "mapa.html",
    "classificacao.html",
    "regras.html",
    "dados/dicionario.html",
    "pedidos/P-1.html",
)
"""One page of every template."""

sync_api = playwright_or_skip()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("portal")
    out = base / "site"
    build_site(_small_folder(base / "avaliacao"), out)
    return out


def _tile(route: Any) -> None:
    route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)


def _page(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "openstreetmap" not in m.text
        else None,
    )  # fmt: skip
    page.route("**/tile.openstreetmap.org/**", _tile)
    return context, page, errors


@pytest.mark.parametrize("name", PAGES)
def test_axe_core_wcag_21_aa(site: Path, browser: Any, name: str) -> None:
    if not AXE.is_file():
        pytest.skip(f"axe-core ausente ({AXE}): npm install --no-save axe-core")
    # axe is injected from outside the page: its Content-Security-Policy would refuse it
    context, page, errors = _page(browser, bypass_csp=True)
    try:
        page.goto((site / name).as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        page.evaluate(AXE.read_text(encoding="utf-8"))  # (axe's own reads of the CSS fail
        # on file:// and are logged: not the page's errors)
        result = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        )
    finally:
        context.close()
    problems = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]
    assert problems == []


def test_map_runs_under_its_policy_and_filters(site: Path, browser: Any) -> None:
    context, page, errors = _page(browser)
    try:
        page.goto((site / "mapa.html").as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("#contagem").inner_text() == "4 pedido(s) no mapa"
        page.select_option("#filtro-bairro", "Vila Nova")
        assert page.locator("#contagem").inner_text() == "2 pedido(s) no mapa"
        page.select_option("#filtro-situacao", "aguardando_orcamento")
        assert page.locator("#contagem").inner_text() == "1 pedido(s) no mapa"
        assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    finally:
        context.close()
    assert errors == []


def test_ranking_sorts_and_searches(site: Path, browser: Any) -> None:
    context, page, errors = _page(browser)
    try:
        page.goto((site / "classificacao.html").as_uri())
        rows = "#tabela-classificacao tbody tr"
        first = f"{rows} td:nth-child(2)"
        assert page.locator(first).all_inner_texts() == ["P-1", "P-3", "P-2"]
        page.click("#tabela-classificacao th:nth-child(2) button")  # by protocol
        assert page.locator(first).all_inner_texts() == ["P-1", "P-2", "P-3"]
        page.fill("#busca", "P-3")
        visible = page.locator(f"{rows}:not([hidden]) td:nth-child(2)").all_inner_texts()
        assert visible == ["P-3"]
    finally:
        context.close()
    assert errors == []


def test_usable_on_a_phone(site: Path, browser: Any, tmp_path: Path) -> None:
    context, page, errors = _page(
        browser, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True
    )
    folder = Path(CAPTURES) if CAPTURES else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for name, shot in (("index.html", "portal_inicio.png"),
                           ("pedidos/P-1.html", "portal_pedido.png")):  # fmt: skip
            page.goto((site / name).as_uri())
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= 360, name
            page.screenshot(path=str(folder / shot), full_page=True)
            assert (folder / shot).stat().st_size > 10_000
    finally:
        context.close()
    assert errors == []
