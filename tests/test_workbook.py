"""``ranking.xlsx`` (geo_ip.outputs.workbook): the demo's cells as before issue 24, the formats.

``tests/data/workbook_demo_cells.json`` holds every cell of every sheet of the demo's
workbook as the code before issue 24 wrote it (``write_xlsx`` then in
``geo_ip/outputs/tables.py``), read back with openpyxl: text as JSON strings, numbers
as JSON numbers, booleans, blanks as null. Left out, because they change with the run:
the values of the provenance keys in :data:`_RUN_KEYS` (time of the run, the rules
file's path, the inputs' paths and hashes, the territory's build time). The paths of the
demo's inputs inside the texts are written relative to the repository (``{raiz}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd

from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.workbook import _Sheet, _write_sheets, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).parent / "data" / "workbook_demo_cells.json"
_RUN_KEYS = frozenset({"executado_em", "regras", "entradas", "territorio"})


def workbook_cells(path: Path, root: Path) -> dict[str, list[list[Any]]]:
    """Every cell of every sheet, by sheet, row by row; run-dependent values as ``"*"``."""
    book = openpyxl.load_workbook(path, read_only=True)
    sheets: dict[str, list[list[Any]]] = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            cells = [c.replace(str(root), "{raiz}") if isinstance(c, str) else c for c in row]
            if sheet.title == "Proveniência" and cells and cells[0] in _RUN_KEYS:
                cells[1:] = ["*"] * (len(cells) - 1)
            rows.append(cells)
        sheets[sheet.title] = rows
    book.close()
    return sheets


def _kind(value: Any) -> str:
    if value is None or isinstance(value, str | bool):
        return type(value).__name__
    return "number"


def _same(old: Any, new: Any) -> bool:
    """Whether a cell reads back as before: the same kind and value.

    Numbers up to the 16th significant digit: ``xlsxwriter`` wrote them with
    ``%.16G``, ``rust_xlsxwriter`` writes the shortest text that reads back as the
    same double (0.015486477387498598 for what was 0.0154864773874986).
    """
    if _kind(old) != _kind(new):
        return False
    if _kind(old) == "number":
        return bool(float(f"{new:.16G}") == old)
    return bool(old == new)


def test_demo_workbook_has_the_cells_of_before(demo_assessment: Any, tmp_path: Path) -> None:
    out = tmp_path / "ranking.xlsx"
    write_xlsx(demo_assessment, out)
    got = workbook_cells(out, ROOT)
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert list(got) == list(expected)
    assert [len(rows) for rows in got.values()] == [len(rows) for rows in expected.values()]
    assert len(expected["Classificação"]) == 42  # the 41 requests under the header
    wrong = [
        (name, r, c, old, new)
        for name, rows in expected.items()
        for r, (old_row, new_row) in enumerate(zip(rows, got[name], strict=True))
        for c, (old, new) in enumerate(zip(old_row, new_row, strict=True))
        if not _same(old, new)
    ]
    assert [len(row) for rows in got.values() for row in rows] == [
        len(row) for rows in expected.values() for row in rows
    ]
    assert wrong == []


def _small_sheet(path: Path) -> None:
    frame = pd.DataFrame(
        {
            "protocolo": ["=cmd|' /C calc'!A0", "http://exemplo.org/x", "-1+1"],
            "custo_estimado_rs": [1234.5, np.nan, np.inf],
            "distancia_rede_m": [12.25, 3.0, 0.0],
            "declividade_media_pct": [4.5, None, 1.0],
            "motivacao_beneficiarios": ["uma frase longa " * 8, "", None],
            "postes_novos": pd.array([2, None, 0], dtype="Int64"),
            "elegivel": [True, False, True],
        }
    )
    labels = {"protocolo": "Protocolo", "custo_estimado_rs": "Custo (R$)"}
    _write_sheets(path, [_Sheet.of("Folha", frame), _Sheet.of("Vazia", frame.iloc[:0, :2])], labels)


def test_sheet_keeps_header_formats_freeze_filter_and_widths(tmp_path: Path) -> None:
    path = tmp_path / "pequena.xlsx"
    _small_sheet(path)
    sheet = openpyxl.load_workbook(path)["Folha"]
    assert [c.value for c in sheet[1]] == [
        "Protocolo", "Custo (R$)", "Distancia rede m", "Declividade media pct",
        "Motivacao beneficiarios", "Postes novos", "Elegivel",
    ]  # fmt: skip
    band = load_palette().pagina
    for cell in sheet[1]:
        assert cell.font.b
        assert cell.font.color.rgb[-6:].upper() == band.texto_faixa.lstrip("#").upper()
        assert cell.fill.fgColor.rgb[-6:].upper() == band.faixa.lstrip("#").upper()
        assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
        assert cell.border.left.style == "thin"
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:G4"
    # text stays text: no formula, no link
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [
        ("=cmd|' /C calc'!A0", "s"), ("http://exemplo.org/x", "s"), ("-1+1", "s"),
    ]  # fmt: skip
    assert all(c.hyperlink is None for c in sheet["A"])
    # NaN, infinities, NA and empty text are blank cells; booleans stay booleans
    assert [c.value for c in sheet["B"][1:]] == [1234.5, None, None]
    assert [c.value for c in sheet["F"][1:]] == [2, None, 0]
    assert [c.value for c in sheet["E"][2:]] == [None, None]
    assert [c.value for c in sheet["G"][1:]] == [True, False, True]
    assert sheet["B2"].number_format == '"R$" #,##0.00'
    assert sheet["C2"].number_format == "#,##0.0"
    assert sheet["D2"].number_format == "#,##0.0"
    assert sheet["E2"].alignment.wrap_text and sheet["E2"].alignment.vertical == "top"
    assert sheet["F2"].number_format == "General"
    widths = {k: sheet.column_dimensions[k].width for k in "ABCDEFG"}
    # header or longest of the first 200 cells + 2, between 8 and 28 (60 for sentences);
    # openpyxl reads the width xlsxwriter stored (+0.7109375 of padding)
    padding = 0.7109375
    assert widths == {
        "A": 22 + padding,  # "http://exemplo.org/x" (20) + 2
        "B": 12 + padding,  # "Custo (R$)" (10) + 2
        "C": 18 + padding,  # "Distancia rede m" (16) + 2
        "D": 23 + padding,  # "Declividade media pct" (21) + 2
        "E": 60 + padding,  # 128 characters, capped at 60
        "F": 14 + padding,  # "Postes novos" (12) + 2
        "G": 10 + padding,  # "Elegivel" (8) + 2
    }
    empty = openpyxl.load_workbook(path)["Vazia"]
    assert [c.value for c in empty[1]] == ["Protocolo", "Custo (R$)"]
    assert empty.max_row == 1 and empty.auto_filter.ref is None and empty.freeze_panes == "B2"


def test_text_longer_than_a_cell_holds_is_cut_there(tmp_path: Path) -> None:
    from geo_ip.outputs.workbook import EXCEL_TEXT_LIMIT

    path = tmp_path / "longa.xlsx"
    frame = pd.DataFrame({"motivos": ["a" * 40_000, "b" * EXCEL_TEXT_LIMIT, "curta"]})
    _write_sheets(path, [_Sheet.of("Folha", frame)], {})
    cells = [c.value for c in openpyxl.load_workbook(path)["Folha"]["A"][1:]]
    assert cells == ["a" * 32_767, "b" * 32_767, "curta"]


def test_every_column_label_reads_back_as_one_code() -> None:
    from collections import Counter

    from geo_ip.outputs.tables import column_codes, column_labels

    labels = column_labels()
    assert [label for label, n in Counter(labels.values()).items() if n > 1] == []
    # "Não aproveitado": the file's path and the kind of file were both "Arquivo"
    assert labels["arquivo_de"] == "Tipo de arquivo"
    assert column_codes(["Tipo de arquivo", "Motivo"]) == ["arquivo_de", "motivo"]


def test_sheets_of_requests_built_when_written_keep_widths_of_their_first_rows(
    demo_assessment: Any, tmp_path: Path
) -> None:
    """Above 200 requests a sheet's widths come from its first 200 rows, sampled before."""
    from dataclasses import replace

    from geo_ip.outputs.tables import column_labels
    from geo_ip.outputs.workbook import _REQUEST_SHEETS, _column_width, _titles, sheet_tables

    table = demo_assessment.table
    big = pd.concat([table] * 6, ignore_index=True)  # 246 rows: the sample is not all
    # the copies last in the lists, with longer streets than any of the first 200 rows
    big.loc[len(table) * 5 :, "logradouro"] = "Rua " + "muito longa " * 3
    big.loc[len(table) * 5 :, "posicao"] = big["posicao"].max() + 1
    assessment = replace(demo_assessment, table=big)
    out = tmp_path / "ranking.xlsx"
    write_xlsx(assessment, out)
    book = openpyxl.load_workbook(out, read_only=False)
    labels = column_labels()
    for name, build in sheet_tables(assessment).items():
        if name not in _REQUEST_SHEETS:
            continue
        frame = build()
        sheet = book[name]
        assert sheet.max_row == len(frame) + 1 > 201
        titles = _titles(frame, labels)
        expected = [
            _column_width(str(c), t, frame.iloc[:, i])
            for i, (c, t) in enumerate(zip(frame.columns, titles, strict=True))
        ]
        stored = {  # a run of columns of one width is stored once, for the run
            i: dim.width - 0.7109375
            for dim in sheet.column_dimensions.values()
            for i in range(dim.min, dim.max + 1)
        }
        assert [stored[i + 1] for i in range(len(titles))] == expected, name
        # the whole table is there, in the lists' order
        first_column = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert first_column == frame.iloc[:, 0].tolist()
    book.close()
