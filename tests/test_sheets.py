"""Technical sheets (fichas técnicas, Art. 10): HTML and PDF of every demo request."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import struct
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from geo_ip.law.scoring import format_brl
from geo_ip.outputs.files import public_ranking, request_file_stems
from geo_ip.outputs.sheets.content import SECTIONS
from geo_ip.outputs.sheets.sheets import (
    ALL_SHEETS,
    MAP_SIZE_PX,
    SHEETS_DIR,
    static_map,
    write_sheets,
)
from geo_ip.pipeline import Assessment
from geo_ip.requests.redaction import scan_for_personal_data
from tests.conftest import DEMO
from tests.small_assessment import MISSING_PROOF, PROCEDURE, small_assessment

TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
BUDGET = 300_000.0
HEADINGS = [f"{n} – {title} (Art. 10, {n})" for n, title in SECTIONS]


@pytest.fixture(scope="module")
def demo(demo_assessment: Assessment) -> Assessment:
    return demo_assessment


@pytest.fixture(scope="module")
def written(demo_outputs: list[Path]) -> list[Path]:
    """The sheets of the demo, in the order write_sheets wrote them (todas.pdf last)."""
    return [p for p in demo_outputs if p.parent.name == "fichas"]


@pytest.fixture(scope="module")
def pages(written: list[Path]) -> list[str]:
    reader = PdfReader(written[-1])
    return [page.extract_text() for page in reader.pages]


def _html(written: list[Path], name: str) -> str:
    """The text of a sheet's HTML page, without tags, on one line."""
    path = next(p for p in written if p.name == f"{name}.html")
    text = re.sub(
        r"<(style|script)\b.*?</\1>|<[^>]+>", " ", path.read_text(encoding="utf-8"), flags=re.S
    )
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _page_of(pages: list[str], protocol: str) -> str:
    return _flat(next(p for p in pages if protocol in p))


def _repeated(demo: Assessment) -> tuple[str, list[int]]:
    """The demo's repeated protocol and its lines, in ranking order."""
    order = public_ranking(demo)
    repeated = order[order["protocolo"].duplicated(keep=False)]
    protocols = set(repeated["protocolo"])
    assert len(protocols) == 1
    return protocols.pop(), [int(n) for n in repeated["linha"]]


def test_files_for_every_request(demo: Assessment, written: list[Path]) -> None:
    folder = written[-1].parent
    assert folder.name == SHEETS_DIR
    assert written[-1].name == ALL_SHEETS
    # 41 requests → 41 HTML + 41 PDF + todas.pdf; the repeated protocol gets its own file
    assert len(written) == 2 * len(demo.table) + 1 == 83
    names = {p.name for p in written}
    assert len(names) == len(written)
    protocol, lines = _repeated(demo)
    stem_of = dict(zip(demo.table["linha"], request_file_stems(demo.table), strict=True))
    repeats = {f"{stem_of[n]}.html" for n in lines}
    assert repeats <= names and f"{protocol}.html" in repeats and len(repeats) == 2
    (other,) = repeats - {f"{protocol}.html"}
    assert re.fullmatch(rf"{re.escape(protocol)}-[0-9a-f]{{8}}\.html", other), repeats
    assert all(p.stat().st_size > 0 for p in written)


def test_todas_has_one_page_per_request_in_ranking_order(
    demo: Assessment, written: list[Path], pages: list[str]
) -> None:
    order = list(public_ranking(demo)["protocolo"])
    assert len(pages) == len(order) == 41
    for text, protocol in zip(pages, order, strict=True):
        assert protocol in text
    first = demo.table.loc[pd.to_numeric(demo.table["posicao"], errors="coerce") == 1]
    assert str(first["protocolo"].iloc[0]) in pages[0]  # 1st in the ranking
    assert "1º lugar" in pages[0]
    # the errors close the file, each saying it was not scored
    errors = int(demo.table["situacao"].eq("erro").sum())
    assert errors >= 10
    assert all("Pedido não pontuado" in text for text in pages[-errors:])
    assert not any("Pedido não pontuado" in text for text in pages[:-errors])
    for pdf in written[1:-1:2]:
        assert len(PdfReader(pdf).pages) == 1, pdf.name


def test_page_has_the_five_scores_suggested_and_final(demo: Assessment, pages: list[str]) -> None:
    text = _page_of(pages, "PED-2026-0111")
    # criterion, maximum, level, suggested, final — hand-checked from the demo ranking
    for row in (
        "I – Beneficiários 40 — 19 19",
        "II – Segurança pública e viária 15 II 10 10",
        "III – Tráfego e fluxo de pedestres 15 III 5 5",
        "IV – Custo-benefício social 15 III 5 5",
        "V – Viabilidade técnica 15 III 5 10 alterada",
    ):
        assert row in text, row
    assert "Total 100 44 49" in text
    assert "Pontuação final: 49 de 100 pontos (sugerida pelo geo_ip: 44)" in text
    row = demo.table[demo.table["protocolo"] == "PED-2026-0111"].iloc[0]
    assert row["situacao"] == "aguardando_orcamento"
    assert f"{int(row['posicao'])}º" in text and "Classificado, aguardando orçamento" in text
    assert format_brl(row["custo_estimado_rs"]) == "R$ 171.781,03"
    assert format_brl(row["custo_estimado_rs"]) in text
    assert format_brl(row["custo_municipio_rs"]) in text and "50 %" in text


def test_html_has_the_seven_items_of_art_10(written: list[Path]) -> None:
    for path in written:
        if path.suffix != ".html":
            continue
        text = html.unescape(path.read_text(encoding="utf-8"))
        positions = [text.find(h) for h in HEADINGS]
        assert -1 not in positions, path.name
        assert positions == sorted(positions), path.name
        assert 'src="data:image/png;base64,' in text


def test_decision_of_the_commission_is_shown(written: list[Path], pages: list[str]) -> None:
    changed = _html(written, "PED-2026-0111")
    assert (
        "Decisão da Comissão: alterado de 5 para 10 por Comissão (relator fictício) "
        "(12/11/2026): Acesso pavimentado até o fim do trecho, constatado em vistoria"
    ) in changed
    kept = _html(written, "PED-2026-0103")
    assert "Decisão da Comissão: mantido em 15 por Comissão (relator fictício)" in kept
    assert "Vistoria noturna de 12/11/2026 confirmou trecho sem iluminação" in kept
    assert "alterado de 5 para 10" in _page_of(pages, "PED-2026-0111")
    assert "mantido em 15" in _page_of(pages, "PED-2026-0103")
    # without a decision, no decision text
    assert "Decisão da Comissão" not in _html(written, "PED-2026-0101")


def test_error_sheet_says_why_it_was_not_scored(demo: Assessment, written: list[Path]) -> None:
    ambiguous = _html(written, "PED-2026-0113")
    assert (
        "Pedido não pontuado: não localizado: logradouro ambíguo: 'Rua São João' existe nos "
        "bairros Jardim das Palmeiras e Vila Nova; informe o bairro."
    ) in ambiguous
    assert "Coordenadas —" in ambiguous  # not located: no coordinates
    negative = _html(written, "PED-2026-0107")
    assert "Pedido não pontuado: campo 'residencias': valor negativo (-2)." in negative
    protocol, lines = _repeated(demo)
    stem_of = dict(zip(demo.table["linha"], request_file_stems(demo.table), strict=True))
    for name in (stem_of[n] for n in lines):
        assert f"Pedido não pontuado: campo 'protocolo': protocolo '{protocol}' repetido" in (
            _html(written, name)
        )
    assert "Pedido não pontuado" not in _html(written, "PED-2026-0101")


def test_sheet_contents(written: list[Path]) -> None:
    text = _html(written, "PED-2026-0103")
    # II: location, geocoding, road
    assert "coordenadas informadas no pedido; confiança 1" in text
    assert "Rua Bela Vista — via local" in text and "Vila Nova" in text
    # IV: evidence, with items and distances
    assert "966,2 m — pelas vias" in text
    assert "28 postes novos (vão de 35 m), 29 braços, 29 luminárias" in text
    assert "Escola Municipal Monteiro Lobato (escola, 115,7 m)" in text
    assert "acidente de trânsito em 10/12/2025 a 14,1 m" in text
    assert "620,6 m — trecho escuro (mais de 50 m)" in text
    # VI and VII: cost, share, eligibility, blank opinion, signatures
    assert "R$ 182.646,92" in text and "R$ 91.323,46" in text
    assert "Elegível (Art. 4 §2 e Art. 5) sim" in text
    assert "Parecer técnico conclusivo da Comissão A preencher pela Comissão" in text
    for area in ("Obras", "Iluminação pública", "Planejamento", "Assistência social"):
        assert f"{area} (Art. 6)" in text
    ineligible = _html(written, "PED-2026-0124")
    assert "Art. 5, I: imóvel de uso comercial e o solicitante não é MEI" in ineligible


def test_provenance_and_fictional_label(demo: Assessment, written: list[Path]) -> None:
    text = _html(written, "PED-2026-0101")
    assert "Município de Demonstração — dados fictícios" in text
    assert demo.rules.sha256 in text
    assert "versão 2026.1-demo" in text
    assert "OSM de 15/01/2026" in text and "EPSG:31983" in text
    assert "© OpenStreetMap contributors" in text


def test_pdf_text_keeps_portuguese_characters(pages: list[str]) -> None:
    text = "".join(pages)
    for char in "çãõéíóúâêôº§—":
        assert char in text, char
    assert "Identificação do protocolo" in text and "Descrição resumida" in text


def test_static_map_is_a_png_of_the_expected_size(demo: Assessment) -> None:
    table = demo.table
    located = int(table.index[table["protocolo"] == "PED-2026-0103"][0])
    lost = int(table.index[table["protocolo"] == "PED-2026-0113"][0])
    for i in (located, lost):
        png = static_map(demo, i)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == MAP_SIZE_PX == (1080, 720)
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == MAP_SIZE_PX
    with Image.open(io.BytesIO(static_map(demo, located))) as image:
        colours = image.convert("RGB").getcolors(4096)
    assert colours is not None and len(colours) > 20  # a drawn map, not a blank image
    with pytest.raises(IndexError):
        static_map(demo, len(table))


def _numbers(value: Any) -> list[float]:
    """Every number inside a nested dump of the rules."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []


def test_no_personal_data_in_any_sheet(
    demo: Assessment, written: list[Path], pages: list[str]
) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    cpfs, names = raw["cpf_solicitante"], raw["nome_solicitante"]
    texts = {p.name: p.read_text(encoding="utf-8") for p in written if p.suffix == ".html"}
    texts[ALL_SHEETS] = "\n".join(pages)
    for pdf in written[1:-1:2]:
        texts[pdf.name] = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    # an income equal to an amount of the rules (e.g. R$ 1.500,00 per beneficiary, Art. 9
    # §10) is quoted by the motivations as that amount: not checked
    rules = {format_brl(v) for v in _numbers(demo.rules.model_dump())}
    incomes = [
        format_brl(float(v.replace(".", "").replace(",", ".")))
        for v in raw["renda_familiar"]
        if v.strip()
    ]
    incomes = [i for i in incomes if i not in rules]
    assert len(incomes) >= 10
    for name, text in texts.items():
        assert scan_for_personal_data(text, cpfs, names) == [], name
        assert not any(income in text for income in incomes), name
        assert "renda_familiar" not in text and "nome_solicitante" not in text
    # the CPF is there, masked
    assert "***.456.701-**" in _html(written, "PED-2026-0101")


def test_file_stems_are_safe_and_unique() -> None:
    table = pd.DataFrame(
        {"protocolo": ["PED-1", "PED-1", "", "a/b c", "ped-1"], "linha": [2, 3, 4, 5, 6]}
    )
    stems = request_file_stems(table)
    assert stems[0] == "PED-1" and stems[2] == "linha_4" and stems[3] == "a_b_c"
    assert re.fullmatch(r"PED-1-[0-9a-f]{8}", stems[1])
    assert re.fullmatch(r"ped-1-[0-9a-f]{8}", stems[4])  # case-insensitive file systems
    assert len({s.lower() for s in stems}) == 5


def test_a_protocol_named_like_another_rows_suffix_does_not_collide() -> None:
    # issue 17, item 8: A (row 10), A_linha12 (row 11), A again (row 12) gave 2 names
    table = pd.DataFrame({"protocolo": ["A", "A_linha12", "A"], "linha": [10, 11, 12]})
    stems = request_file_stems(table)
    assert stems[:2] == ["A", "A_linha12"]
    assert re.fullmatch(r"A-[0-9a-f]{8}", stems[2])


def test_a_300_character_protocol_gets_a_short_hashed_name() -> None:
    # issue 17, item 7: the full name aborted the run ("File name too long")
    long = "PED-" + "9" * 296
    table = pd.DataFrame({"protocolo": [long, long[:-1] + "8"], "linha": [2, 3]})
    stems = request_file_stems(table)
    assert all(len(s) <= 89 for s in stems)
    assert stems[0].startswith("PED-" + "9" * 76 + "-") and stems[0] != stems[1]


def test_stems_never_start_with_a_dash_or_a_dot_nor_take_reserved_names() -> None:
    table = pd.DataFrame(
        {"protocolo": ["-rf", "..", "--", ".bashrc", "todas", "CON", "nul.txt"], "linha": range(7)}
    )
    stems = request_file_stems(table)
    assert stems[:4] == ["rf", "linha_1", "linha_2", "bashrc"]
    assert [s.split("-")[0] for s in stems[4:]] == ["todas", "CON", "nul_txt"]
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}", s) for s in stems[4:])


def test_sheet_page_to_png(written: list[Path], tmp_path: Path) -> None:
    pytest.importorskip("pypdfium2")
    from geo_ip.outputs.sheets.sheets import sheet_png

    out = sheet_png(written[1], tmp_path / "ficha.png", scale=1.0)
    with Image.open(out) as image:
        assert image.size in ((595, 842), (596, 842))  # A4 in points, rounded


def test_no_requests_still_writes_todas(demo: Assessment, tmp_path: Path) -> None:
    empty = dataclasses.replace(
        demo, table=demo.table.iloc[0:0], paths=demo.paths.iloc[0:0], items=[]
    )
    calls: list[tuple[int, int]] = []
    files = write_sheets(empty, tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert [p.name for p in files] == [ALL_SHEETS]
    assert "Nenhum pedido" in PdfReader(files[0]).pages[0].extract_text()
    assert calls == []


# --- every situation, on a hand-built assessment (issue 16) -----------------------------------


@pytest.fixture(scope="module")
def small_sheets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """HTML text and PDF text of each sheet of :mod:`tests.small_assessment`, by protocol."""
    from geo_ip.outputs.sheets.content import build_sheets
    from geo_ip.outputs.sheets.pdf import write_pdf
    from geo_ip.outputs.sheets.sheets import render_html

    folder = tmp_path_factory.mktemp("fichas_pequenas")
    out = {}
    for sheet in build_sheets(small_assessment()):
        page = render_html(sheet)
        text = re.sub(r"<(style|script)\b.*?</\1>|<[^>]+>", " ", page, flags=re.S)
        pdf = folder / f"{sheet.arquivo}.pdf"
        write_pdf([sheet], pdf, title=sheet.protocolo)
        pdf_text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
        out[sheet.protocolo] = (_flat(html.unescape(text)).strip(), _flat(pdf_text))
    return out


def test_sheets_of_every_situation_in_the_order_of_the_lists() -> None:
    from geo_ip.outputs.sheets.content import build_sheets

    sheets = build_sheets(small_assessment())
    assert [s.protocolo for s in sheets] == [
        "PED-1", "PED-2", "PED-4", "PED-5", "PED-8", "PED-3", "PED-6", "PED-7",
    ]  # fmt: skip
    assert [s.situacao for s in sheets[2:6]] == [
        "Execução direta (Art. 12)",
        "Estratégico (Art. 11)",
        "Pendente de comprovação da hipossuficiência",
        "Pendente de comprovação da hipossuficiência",
    ]


def test_pending_sheet_says_what_proof_is_missing(small_sheets: dict[str, tuple[str, str]]) -> None:
    page, pdf = small_sheets["PED-3"]
    alert = (
        f"Pedido pendente de comprovação da hipossuficiência: {MISSING_PROOF}. Com 70 pontos, "
        "ficaria em 2º lugar na classificação. Sem participação do Município e fora do "
        "orçamento até a comprovação."
    )
    assert alert in page and alert in pdf
    for text in (page, pdf):
        assert f"Hipossuficiência (Art. 4 §2) Pendente de comprovação — {MISSING_PROOF}" in text
        assert "— (ficaria em 2º; pendente de comprovação da hipossuficiência)" in text
        assert "fora do orçamento até a comprovação da hipossuficiência (Art. 4 §2)" in text
        assert "Pontuação final: 70 de 100 pontos" in text
    assert "ficaria em 1º lugar" in small_sheets["PED-8"][0]  # 90 points, ahead of every one


def test_proven_hardship_never_says_how(small_sheets: dict[str, tuple[str, str]]) -> None:
    # PED-1 was proven by its CadÚnico inscription, PED-2 by an income declaration
    for protocol in ("PED-1", "PED-2", "PED-4", "PED-5"):
        for text in small_sheets[protocol]:
            assert "Hipossuficiência (Art. 4 §2) Comprovada" in text, protocol
            assert "CadÚnico" not in text, protocol
            assert "renda declarada" not in text and "declaração de renda" not in text
            assert "1.234,56" not in text and "Joana" not in text and "Benedito" not in text
    # declared income above the limit: not proven, without the income
    page, pdf = small_sheets["PED-6"]
    for text in (page, pdf):
        assert "Hipossuficiência (Art. 4 §2) Não comprovada" in text
        assert "Art. 4, caput e Art. 2, IV: hipossuficiência não comprovada" in text
        assert "renda declarada acima" not in text


def test_art12_sheet_shows_the_procedure_and_the_reservation(
    small_sheets: dict[str, tuple[str, str]],
) -> None:
    for text in small_sheets["PED-4"]:
        assert (
            "Execução direta decidida pelo Poder Executivo (Art. 12 §2), procedimento "
            f"administrativo {PROCEDURE} — decidido por Secretaria de Obras em 14/11/2026: "
            "Relatório técnico 07/2026"
        ) in text
        assert "Indício de via rural de alto fluxo (Art. 12 §1): acesso a 1 escola" in text
        assert "Participação (Art. 12) 100 %" in text
        assert "Custo do Município R$ 3.000,00" in text
        assert (
            "reservado antes da classificação (Art. 11, parágrafo único, e Art. 13): custo "
            "municipal R$ 3.000,00 (100 %); saldo restante R$ 7.000,00"
        ) in text
        assert "não se aplica" not in text
    # an indication only: the request stays in the ranking, no execution decided
    ranked = small_sheets["PED-2"][0]
    assert "Indício de via rural de alto fluxo (Art. 12 §1)" in ranked
    assert "Execução direta decidida" not in ranked


def test_art11_sheet_shows_the_commissions_opinion(
    small_sheets: dict[str, tuple[str, str]],
) -> None:
    page = small_sheets["PED-5"][0]
    assert (
        "Art. 11 estratégico por decisão da Comissão: análise direta, sem a pontuação (Art. 11); "
        "parecer técnico circunstanciado: decidido por Comissão (relator fictício) em "
        "13/11/2026: Parecer técnico circunstanciado 01/2026"
    ) in page
    assert "Participação (Art. 11) 100 %" in page
    marked = small_sheets["PED-2"][0]
    assert "Art. 11 marcado como estratégico; aguarda parecer da Comissão" in marked
    assert "custo municipal R$ 2.000,00 (100 %); saldo restante R$ 5.000,00" in page


def test_sheet_of_a_work_that_no_longer_fits_the_budget() -> None:
    from geo_ip.outputs.sheets.content import build_sheets

    # R$ 4.000,00: the Art. 12 work (R$ 3.000,00) is reserved first; R$ 1.000,00 is left
    sheets = {s.protocolo: s for s in build_sheets(small_assessment(4_000.0))}
    budget = {i.rotulo: i.valor for i in sheets["PED-5"].custos}["Orçamento (Art. 13)"]
    assert budget == (
        "não coube no saldo de R$ 1.000,00: custo municipal R$ 2.000,00 (100 %), não reservado"
    )
    marked = {i.rotulo: i.valor for i in sheets["PED-4"].elegibilidade}
    assert "Art. 11" not in marked


# --- a place to confirm, a place confirmed (issue 18) -------------------------------------------


def test_sheet_of_a_request_pending_location(
    demo: Assessment, written: list[Path], pages: list[str]
) -> None:
    row = demo.table.set_index("protocolo").loc["PED-2026-0130"]
    assert row["situacao"] == "pendente_localizacao"
    low, high = format_brl(row["custo_min_rs"]), format_brl(row["custo_max_rs"])
    alert = (
        "Pedido pendente de confirmação do local: localizado com incerteza de ± 360 m, acima "
        "do limite de 100 m das regras. A sugestão desta ficha é a do pior caso entre as 10 "
        "posições avaliadas ao longo do trecho candidato (extensão de 4 a 7 m; 1 poste novo; "
        f"custo de {low} a {high}; pontuação sugerida de 57 a 77). Com 57 pontos no pior "
        "caso, ficaria em 6º lugar na classificação. Sem participação do Município e fora do "
        "orçamento até a Comissão confirmar o local: veja no item II o que confirmar no local, "
        "e registre o local confirmado como decisão 'localizacao', com latitude e longitude."
    )
    text, pdf = _html(written, "PED-2026-0130"), _page_of(pages, "PED-2026-0130")
    for page in (text, pdf):
        assert alert in page
        assert "Incerteza da localização ± 360 m — acima do limite de 100 m das regras" in page
        assert "720 m ao longo de Rua Doutor Carlos Chagas; 10 posições avaliadas" in page
        assert "O que confirmar no local Confirmar no local a posição do pedido ao longo de" in page
        assert "— (ficaria em 6º; pendente de confirmação do local)" in page
        assert f"(pior caso; de {low} a {high} no trecho candidato)" in page
        assert "fora do orçamento até a Comissão confirmar o local (decisão 'localizacao')" in page
        assert (
            "Pontuação final: 57 de 100 pontos no pior caso do trecho candidato (sugerida pelo "
            "geo_ip: 57, de 57 a 77 conforme a posição); provisória até a Comissão confirmar o "
            "local."
        ) in page


def test_sheet_of_a_place_confirmed_by_the_commission(written: list[Path]) -> None:
    text = _html(written, "PED-2026-0133")
    assert (
        "Geocodificação local confirmado pela Comissão (decisão 'localizacao', linha 9 do "
        "arquivo de decisões); confiança 1"
    ) in text
    assert "Incerteza da localização 0 m — local confirmado pela Comissão" in text
    # who confirmed it and when, from the decision
    assert (
        "Local confirmado (decisão 'localizacao') decidido por Comissão (relator fictício) em "
        "13/11/2026, local confirmado em (-22,894926; -46,384813): Vistoria de 13/11/2026: casa "
        "na Estrada Municipal do Bairro Alto"
    ) in text
    assert "pendente de confirmação do local" not in text


def test_place_warning_and_location_items_hand_checked() -> None:
    import shapely

    from geo_ip.outputs.format import Labels
    from geo_ip.outputs.sheets.content import _location
    from geo_ip.outputs.sheets.findings import _place_warning

    # Rua Comprida, 1000 m without the number: ± 500 m; 5 to 1.005 m from the pole, 1 to 29
    # poles (ceil(1005 / 35)), R$ 5.285,00 to R$ 188.325,00 (see test_location_uncertainty)
    row = {
        "situacao": "pendente_localizacao", "geocodificacao": "logradouro",
        "logradouro_encontrado": "Rua Comprida", "incerteza_m": 500.0,
        "trecho_candidato": shapely.LineString([(0, 0), (1000, 0)]), "posicoes_avaliadas": 10,
        "extensao_min_m": 5.0, "extensao_max_m": 1005.0, "postes_min": 1, "postes_max": 29,
        "custo_min_rs": 5285.0, "custo_max_rs": 188325.0, "pontuacao_sugerida_min": 39.0,
        "pontuacao_sugerida_max": 59.0, "pontuacao_total": 39.0,
        "motivo_situacao": "Pendente de confirmação do local (...): com 39 pontos no pior caso "
        "entre as posições possíveis, ficaria em 2º na classificação; ...",
        "confirmar_no_local": "Confirmar no local a posição do pedido ao longo de Rua Comprida.",
        "x": 500.0, "y": 0.0, "latitude": -22.9, "longitude": -46.39,
    }  # fmt: skip
    assert _place_warning(row, 100.0) == (
        "Pedido pendente de confirmação do local: localizado com incerteza de ± 500 m, acima do "
        "limite de 100 m das regras. A sugestão desta ficha é a do pior caso entre as 10 "
        "posições avaliadas ao longo do trecho candidato (extensão de 5 a 1.005 m; de 1 a 29 "
        "postes novos; custo de R$ 5.285,00 a R$ 188.325,00; pontuação sugerida de 39 a 59). "
        "Com 39 pontos no pior caso, ficaria em 2º lugar na classificação. Sem participação do "
        "Município e fora do orçamento até a Comissão confirmar o local: veja no item II o que "
        "confirmar no local, e registre o local confirmado como decisão 'localizacao', com "
        "latitude e longitude."
    )
    items = {i.rotulo: i.valor for i in _location(row, Labels(), "EPSG:31983", 100.0)}
    assert items["Incerteza da localização"] == (
        "± 500 m — acima do limite de 100 m das regras: local a confirmar"
    )
    assert items["Trecho candidato"] == "1.000 m ao longo de Rua Comprida; 10 posições avaliadas"
    assert items["O que confirmar no local"] == row["confirmar_no_local"]
    assert items["Coordenadas"].endswith("— ponto aproximado")
    bairro = {**row, "geocodificacao": "bairro", "bairro_encontrado": "Bairro Alto"}
    items = {i.rotulo: i.valor for i in _location(bairro, Labels(), "EPSG:31983", 100.0)}
    assert items["Trecho candidato"] == (
        "1.000 m de vias do bairro Bairro Alto; 10 posições avaliadas"
    )
    assert "Ponto na via (pior caso)" in items
    # within the limit: the uncertainty only
    near = {**row, "situacao": "classificado", "incerteza_m": 54.7}
    items = {i.rotulo: i.valor for i in _location(near, Labels(), "EPSG:31983", 100.0)}
    assert items["Incerteza da localização"] == "± 55 m"
    assert "Trecho candidato" not in items
    assert "Local confirmado (decisão 'localizacao')" not in items


def test_static_map_of_a_place_to_confirm_draws_the_stretch_not_the_point(
    demo: Assessment,
) -> None:
    import numpy as np
    import shapely
    from matplotlib.collections import LineCollection

    from geo_ip.outputs.sheets.staticmap import STRETCH_LABEL, WORST_LABEL, MapRenderer

    table = demo.table
    renderer = MapRenderer(demo)
    i = int(np.flatnonzero(table["protocolo"] == "PED-2026-0130")[0])
    row = table.iloc[i]
    png = renderer.render(i)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = [c for c in renderer.ax.collections if isinstance(c, LineCollection)]
    stretch = [c for c in drawn if c.get_zorder() == 9.6]
    assert len(stretch) == 1
    (segment,) = stretch[0].get_segments()
    assert segment.tolist() == shapely.get_coordinates(row["trecho_candidato"]).tolist()
    markers = [line.get_marker() for line in renderer.ax.lines]
    assert "*" not in markers  # no star: the request is somewhere along the stretch
    assert {STRETCH_LABEL, WORST_LABEL} <= set(renderer.legend.rows)
    # the rings are around the worse position, whose evidence the sheet shows
    centres = {p.center for p in renderer.ax.patches if hasattr(p, "center")}
    assert centres == {(row["x_via"], row["y_via"])}
    # any other request keeps its star
    renderer.render(int(np.flatnonzero(table["protocolo"] == "PED-2026-0101")[0]))
    assert "*" in [line.get_marker() for line in renderer.ax.lines]
