"""Reading an XLSX workbook, within safety bounds (for :mod:`~.tables`).

A workbook whose contents would expand beyond :data:`XLSX_MAX_EXPANDED` bytes, or one
of whose members expands more than :data:`XLSX_MAX_RATIO` times, is refused before
openpyxl opens it. The sheet read is the first whose header is recognised; merged
header cells and group titles over sub-headers are read as one header.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geo_ip._util.parse import cell_text, format_number, slug
from geo_ip.sources.tables_schema import (
    Record,
    Schema,
    build_table,
    find_header,
    table_from_records,
)

__all__ = ["XLSX_MAX_EXPANDED", "XLSX_MAX_RATIO", "read_xlsx"]

XLSX_MAX_EXPANDED = 256 * 2**20
"""Largest total size, in bytes, of an XLSX's contents once decompressed (256 MiB).

About 400,000 rows of 20 columns of sheet XML: far beyond a municipality's requests,
and well below what would exhaust a workstation's memory. Larger tables go as CSV,
which has no such bound.
"""
XLSX_MAX_RATIO = 100
"""Largest expansion (decompressed / compressed) of one XLSX member above 1 MiB.

Spreadsheet XML compresses 5 to 30 times; a member that expands hundreds of times is
padding (a "zip bomb"), not data.
"""
_XLSX_RATIO_FLOOR = 2**20
"""Members smaller than this (1 MiB decompressed) are not checked for their ratio."""


def _mib(size: int) -> str:
    if size < 2**20:
        return f"{format_number(size / 2**10, 1)} KB"
    return f"{format_number(size / 2**20, 1)} MB"


def _check_expansion(path: Path, schema: Schema) -> None:
    """Refuse an XLSX whose members would expand beyond the bounds, before reading it.

    The sizes are the zip's own declarations, which also bound what :mod:`zipfile`
    decompresses (it stops at the declared size), so a lying header cannot get past.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl's own reading names the damage
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_EXPANDED:
        raise schema.fail(
            f"planilha XLSX{schema.of} grande demais: descompactada ocuparia {_mib(total)} "
            f"(limite {_mib(XLSX_MAX_EXPANDED)}); salve-a como CSV, que não tem esse limite, "
            "ou divida-a",
            path,
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO:
            sizes = f"{_mib(member.compress_size)} → {_mib(member.file_size)}"
            raise schema.fail(
                f"planilha XLSX{schema.of} inflada: a parte '{member.filename[:80]}' se expande "
                f"{format_number(ratio, 0)} vezes ({sizes}; "
                f"limite {XLSX_MAX_RATIO} vezes), o que indica preenchimento artificial e não "
                "dados; abra-a no Excel ou LibreOffice e salve-a de novo, ou salve como CSV",
                path,
            )


def read_xlsx(path: Path, schema: Schema) -> pd.DataFrame:
    """Read an XLSX file into the string table of :func:`~.tables.read_sheet`."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    _check_expansion(path, schema)
    try:
        # our own handle: openpyxl leaves its file open when the workbook is damaged
        with warnings.catch_warnings(), path.open("rb") as handle:
            # openpyxl warns about unsupported extensions (data validation, styles...).
            warnings.simplefilter("ignore", UserWarning)
            book = load_workbook(handle, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError,
            SyntaxError) as exc:  # fmt: skip
        # SyntaxError: the XML parsers' ParseError, for a damaged member of a valid zip
        raise schema.fail(
            f"planilha XLSX{schema.of} corrompida ou ilegível ({type(exc).__name__}: {exc})", path
        ) from exc
    chosen = None
    for sheet in book.worksheets:
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        records = [(i, [cell_text(v) for v in row]) for i, row in enumerate(rows, start=1)]
        if chosen is None:
            chosen = (sheet, records)
        if find_header(records, schema) is not None:
            chosen = (sheet, records)
            break
    if chosen is None or not any(any(cells) for _, cells in chosen[1]):
        raise schema.fail(f"planilha{schema.of} vazia", path)
    sheet, records = chosen
    at = find_header(records, schema)
    if at is None:
        return table_from_records(records, path, schema)
    first_row = records[at][0]
    last_row = _header_end(sheet, records, first_row, schema.aliases)
    width = max(len(cells) for _, cells in records)
    header = []
    for col in range(width):
        cells = [records[r - 1][1][col] for r in range(first_row, last_row + 1)]
        named = [c for c in cells if c]
        header.append(named[-1] if named else "")
    data = [(line, cells) for line, cells in records if line > last_row]
    frame = build_table(header, data, path, schema)
    # Unnamed columns are named by their sheet letter, as the clerk sees them.
    renames = {f"coluna_{i + 1}": f"coluna_{get_column_letter(i + 1)}" for i in range(width)}
    return frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})


def _header_end(
    sheet: Any, records: Sequence[Record], first_row: int, aliases: Mapping[str, str]
) -> int:
    """Last sheet row of a header that starts at ``first_row`` (merged header cells).

    The header extends over rows covered by cells merged vertically from the header
    row, and over the row below a cell merged horizontally (a group title such as
    "Localização") when that row holds known column names under it.
    """
    ranges = list(sheet.merged_cells.ranges)
    last = first_row
    changed = True
    while changed:
        changed = False
        for rng in ranges:
            if first_row <= rng.min_row <= last < rng.max_row:
                last, changed = rng.max_row, True
        below = last + 1
        if below > len(records):
            break
        for rng in ranges:
            if rng.min_row == rng.max_row == last and rng.min_col < rng.max_col:
                cells = records[below - 1][1][rng.min_col - 1 : rng.max_col]
                if any(slug(c) in aliases for c in cells):
                    last, changed = below, True
                    break
    return last
