"""The Commission's web app in a real browser (issue 20): Debian's Chromium, Playwright.

A real uvicorn server (:func:`tests.webapp_server.running_server`, a child process on
a free localhost port; no TestClient) serves a SQLite registry holding the eight
hand-made requests of ``tests/small_assessment.py`` — points per criterion set to
``total × weight / 100`` so each stays within its weight, recorded without the
applicants' data, budget R$ 10.000,00 — and three users made with ``add_user``.

Hand-checked live ranking (demo rules: beneficiaries weigh 40; shares 100 % from 80
points, 80 % from 60, else 50 %). PED-3 and PED-8 wait for their hardship proof: scored,
never ranked nor selected. No Art. 11/12 act is decided in the registry, so nothing is
reserved: the R$ 10.000,00 go down the ranking.

========= ====================== ===================================== ================
protocolo before                 after PED-1's beneficiaries 32 → 0    municipal after
========= ====================== ===================================== ================
PED-1     1º 80 pts, selected    2º 48 (80 − 32), selected             2.000 (50 %)
PED-2     2º 50 pts, selected    1º 50, selected                       3.000 (50 %)
PED-3     — pending (70 pts)     — pending                             —
PED-8     — pending (90 pts)     — pending                             —
========= ====================== ===================================== ================

Before: PED-1 4.000 (100 % of 4.000) + PED-2 3.000 (50 % of 6.000) = 7.000 of 10.000.
After: 3.000 + 2.000 = 5.000. PED-1 ties with nobody (48 < 50).

The test logs in, reads the ranking, opens a meeting and marks who is present, opens
PED-1 from the queue, lowers its beneficiaries' points with a motivation, sees PED-1
fall from 1st to 2nd in the ranking, records an inspection with a photo (a JPEG with an
EXIF position made with Pillow) and sees its thumbnail, then closes the meeting and
downloads its minutes (PDF, read with pypdf). No page may log a console error or a
JavaScript error (the Content-Security-Policy forbids inline scripts and styles: a
violation is a console error), and no request may leave the local server
(OpenStreetMap tiles, allowed by the CSP, get a blank image).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader

from geo_ip.registry import store
from geo_ip.registry.db import open_registry, sqlite_url
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.webapp.users import add_user
from tests.browsers import playwright_or_skip
from tests.small_assessment import BUDGET, small_assessment
from tests.webapp_server import running_server

sync_api = playwright_or_skip()
expect = sync_api.expect

PASSWORD = "senha-do-navegador-1"
USERS = (
    ("ana", "Ana Presidente", "presidente"),
    ("bruno", "Bruno Membro", "membro"),
    ("carla", "Carla Consulta", "consulta"),
)
MEETING = "Reunião ordinária de novembro"
PLACE = "Sala da Comissão"
MOTIVATION = "Na vistoria, nenhuma casa habitada no trecho: beneficiários de 32 para 0 pontos."
TIMEOUT_MS = 30_000
# a 1×1 transparent PNG, served for every OpenStreetMap tile (there is no internet here)
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _table() -> pd.DataFrame:
    """The small assessment's table, each criterion's points within its weight."""
    assessment = small_assessment()
    table = assessment.table.copy()
    for c in CRITERIA:
        weight = float(getattr(assessment.rules.criterios, c).peso.valor)
        table[f"pont_{c}"] = table["pontuacao_total"] * weight / 100
        table[f"sugerido_{c}"] = table[f"pont_{c}"]
    table["confirmar_no_local"] = ""
    table["distancia_rede_m"] = 50.0
    table["transformador"] = False
    return table


def _jpeg(path: Path) -> Path:
    """A 640×480 JPEG taken at 22°51'12.3456"S 46°18'36"W on 2026-11-20 14:03:05."""
    image = Image.new("RGB", (640, 480), (40, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "S", 2: (22.0, 51.0, 12.3456), 3: "W", 4: (46.0, 18.0, 36.0)}
    exif[ExifTags.IFD.Exif] = {36867: "2026:11:20 14:03:05"}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("registro_navegador")
    url = sqlite_url(folder / "programa.sqlite")
    registry = open_registry(url)
    assessment = small_assessment()
    with registry.session() as session:
        version = store.ensure_rules(session, assessment.rules, "sistema:teste")
        cycle = store.ensure_cycle(session, "2026", "sistema:teste", budget=BUDGET, rules=version)
        store.record_run(
            session, _table(), cycle=cycle, rules=version, actor="sistema:teste", origin="teste",
            provenance={"versao_ferramenta": "teste", "data_referencia": "2026-11-01"},
            personal=False,
        )  # fmt: skip
    for login, name, role in USERS:
        add_user(registry, login, name, role, PASSWORD)
    registry.dispose()
    with running_server(url) as base:
        yield base


class Watched:
    """A page with its console errors, JavaScript errors and requests off the server."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.visited: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: pageerror: {e}"))
        page.on("console", self._console)
        page.on("request", self._request)
        page.on("framenavigated", self._navigated)
        page.route("**/tile.openstreetmap.org/**", self._tile)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: console: {message.text}")

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(
            (self.base + "/", "data:", "blob:", "https://tile.openstreetmap.org/")
        ):
            self.outside.append(url)

    @staticmethod
    def _tile(route: Any) -> None:
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url.removeprefix(self.base))


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR",
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield Watched(page, server)
    context.close()


def _positions(page: Any) -> dict[str, str]:
    """Position and selection of each ranked row of the ranking page."""
    rows = page.locator("#tabela-classificacao tbody tr")
    expect(rows.first).to_be_visible()
    out = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        protocol = row.get_attribute("data-protocolo")
        position = row.locator("td").first.inner_text().strip()
        selected = "selecionado" in (row.get_attribute("class") or "").split()
        out[protocol] = f"{position} {'sim' if selected else 'não'}"
    return out


def _pdf_text(path: Path) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", " ", text)


def test_the_commission_works_in_a_real_browser(
    watched: Watched, server: str, tmp_path: Path
) -> None:
    page, base = watched.page, server

    # log in
    page.goto(f"{base}/fila")
    expect(page).to_have_url(re.compile(r"/entrar\?proximo=%2Ffila$|/entrar\?proximo=/fila$"))
    page.get_by_label("Usuário").fill("ana")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(f"{base}/fila")
    expect(page.locator(".quem")).to_contain_text("Ana Presidente")

    # the ranking before any decision
    page.get_by_role("navigation").get_by_role("link", name="Classificação").click()
    expect(page).to_have_url(f"{base}/classificacao")
    before = _positions(page)
    assert {p: before[p] for p in ("PED-1", "PED-2", "PED-3", "PED-8")} == {
        "PED-1": "1º sim", "PED-2": "2º sim", "PED-3": "— não", "PED-8": "— não",
    }  # fmt: skip

    # the flags (issue 21, item 10): a text badge after the total, and a filter
    cell = page.locator('#tabela-classificacao tr[data-protocolo="PED-3"] td.alertas')
    expect(cell.locator(".etiqueta-alerta")).to_have_count(1)
    expect(cell.locator(".etiqueta-alerta")).to_contain_text("Comprovação pendente")
    ped1_cell = page.locator('#tabela-classificacao tr[data-protocolo="PED-1"] td.alertas')
    expect(ped1_cell.locator(".etiqueta-alerta")).to_have_count(0)
    page.locator("#so-alertas").check()
    expect(page.get_by_label("Só pedidos com alerta")).to_be_checked()
    page.get_by_role("button", name="Filtrar").click()
    expect(page).to_have_url(re.compile(r"/classificacao\?ciclo=2026&alertas=1"))
    assert list(_positions(page)) == ["PED-8", "PED-3"]  # pending proof, by points

    # open a meeting, mark who is present
    page.get_by_role("navigation").get_by_role("link", name="Reuniões").click()
    page.get_by_label("Título").fill(MEETING)
    page.get_by_label("Local").fill(PLACE)
    page.get_by_role("button", name="Abrir a reunião").click()
    expect(page).to_have_url(re.compile(r"/reunioes/\d+\?gravado="))
    meeting_url = page.url.split("?")[0]
    page.locator('input[name="presentes"][value="bruno"]').check()
    expect(page.locator('input[name="presentes"][value="ana"]')).to_be_checked()
    page.get_by_role("button", name="Gravar as presenças").click()
    expect(page).to_have_url(re.compile(r"\?gravado=presencas"))
    expect(page.locator('input[name="presentes"][value="bruno"]')).to_be_checked()
    expect(page.locator('input[name="presentes"][value="carla"]')).to_have_count(0)  # consulta

    # open PED-1 from the queue
    page.get_by_role("navigation").get_by_role("link", name="Fila").click()
    expect(page).to_have_url(f"{base}/fila")
    page.get_by_role("link", name="PED-1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/pedidos/\d+$"))
    request_url = page.url
    expect(page.locator("h1")).to_have_text("Pedido PED-1")
    expect(page.locator("#posicao")).to_contain_text("1º")

    # change a criterion with a motivation
    criterion = page.locator("#criterio-beneficiarios")
    expect(criterion.locator(".sugerido")).to_have_text(re.compile(r"^32(,0+)?$"))
    criterion.get_by_label(re.compile("^Pontos")).fill("0")
    criterion.get_by_label("Motivação").fill(MOTIVATION)
    criterion.get_by_role("button", name="Gravar decisão").click()
    expect(page).to_have_url(re.compile(r"/pedidos/\d+\?gravado=beneficiarios"))
    expect(page.locator("#vigente-beneficiarios")).to_contain_text(re.compile(r"\b0 ponto"))
    expect(page.locator("#vigente-beneficiarios")).to_contain_text("Ana Presidente")
    expect(page.locator("#total-decidido")).to_have_text(re.compile(r"^48(,0+)?$"))
    expect(page.locator("#posicao")).to_contain_text("2º")

    # the ranking moved: PED-1 from 1st to 2nd, PED-2 up to 1st
    page.get_by_role("navigation").get_by_role("link", name="Classificação").click()
    expect(page).to_have_url(f"{base}/classificacao")
    after = _positions(page)
    assert {p: after[p] for p in ("PED-1", "PED-2", "PED-3", "PED-8")} == {
        "PED-1": "2º sim", "PED-2": "1º sim", "PED-3": "— não", "PED-8": "— não",
    }  # fmt: skip
    ped1 = page.locator('#tabela-classificacao tr[data-protocolo="PED-1"]')
    expect(ped1).to_contain_text("R$ 2.000,00")

    # record an inspection with a photo, see its thumbnail
    page.goto(request_url)
    page.locator(f'a[href="{request_url.removeprefix(base)}/vistoria"]').first.click()
    expect(page).to_have_url(f"{request_url}/vistoria")
    page.get_by_label("Residências contadas").fill("3")
    page.get_by_label("Constatações").fill("Três casas habitadas; rua sem iluminação.")
    page.locator("#v-fotos").set_input_files(str(_jpeg(tmp_path / "IMG_0001.jpg")))
    page.get_by_role("button", name="Gravar a vistoria").click()
    expect(page).to_have_url(re.compile(r"/vistoria\?gravado=1"))
    thumbnail = page.locator("#vistorias img").first
    thumbnail.scroll_into_view_if_needed()
    expect(thumbnail).to_be_visible()
    size = thumbnail.evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])")
    assert size == [320, 240]
    caption = page.locator("#vistorias figcaption").first
    expect(caption).to_contain_text("IMG_0001.jpg")
    expect(caption).to_contain_text("-22.853429, -46.310000")

    # the decision was taken in the open meeting; close it and download the minutes
    page.goto(meeting_url)
    expect(page.locator("#tabela-decisoes")).to_contain_text("PED-1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Encerrar e gerar a ata").click()
    expect(page.locator("#situacao-reuniao")).to_contain_text("encerrada")
    with page.expect_download() as download:
        page.locator("#baixar-ata").click()
    pdf = tmp_path / "ata.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _pdf_text(pdf)
    for expected in (MEETING, PLACE, "Ana Presidente", "Bruno Membro", "PED-1"):
        assert expected in text
    assert "Carla Consulta" not in text  # not marked present

    assert watched.errors == []
    assert watched.outside == []
    for path in ("/fila", "/classificacao", "/reunioes", "/vistoria"):
        assert any(path in seen for seen in watched.visited), (path, watched.visited)
