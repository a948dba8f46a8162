"""Tolerant reading of the spreadsheets a municipality sends (private, shared).

:func:`read_sheet` turns a CSV, an XLSX and, for point files, a GeoJSON or GeoPackage
into the same table: one row per data row of the file, every value a stripped string,
the headers mapped onto canonical column names, and ``linha`` = the row a clerk sees
in the spreadsheet. What a file must hold and how the messages name it is a
:class:`~.tables_schema.Schema`: the requests (:mod:`geo_ip.requests.intake_io`), the
commission's decisions (:mod:`geo_ip.requests.decision_file`), the history of benefits
(:mod:`geo_ip.requests.history_file`) and the occurrences
(:mod:`geo_ip.evidence.occurrences`) each have one.

Tolerated: ``,`` ``;`` tab or ``|`` delimiters; UTF-8 (with or without BOM) or
Windows-1252 (a superset of Latin-1 for text), and a CSV that mixes the two line by line
(each line is read in its own encoding, with a warning naming the Latin-1 lines); title
rows above the header (the header is searched among the top 30 rows); merged header
cells and group titles over sub-headers in XLSX; accents, case, separators and synonyms
in the headers. An XLSX whose contents would expand beyond
:data:`~.tables_xlsx.XLSX_MAX_EXPANDED` bytes, or expand more than
:data:`~.tables_xlsx.XLSX_MAX_RATIO` times, is refused before it is read.

This module picks the reader; the work is done by:

* :mod:`~.tables_schema`: the :class:`~.tables_schema.Schema`, finding the header,
  naming the columns, checking the required ones and building the table (all formats);
* :mod:`~.tables_text`: decoding (UTF-8, Windows-1252, mixed) and CSV delimiters;
* :mod:`~.tables_xlsx`: XLSX safety bounds, sheet choice and merged header cells;
* :mod:`~.tables_points`: point files, their layer, CRS and geometry problems.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_ip.sources.tables_points import GEO_SUFFIXES, read_points
from geo_ip.sources.tables_schema import Schema
from geo_ip.sources.tables_text import read_csv
from geo_ip.sources.tables_xlsx import read_xlsx

__all__ = ["read_sheet"]

_UNSUPPORTED = {
    ".xls": "formato .xls (Excel 97-2003) não suportado: salve a planilha como .xlsx ou CSV",
    ".ods": "formato .ods não suportado: salve a planilha como .xlsx ou CSV",
}


def read_sheet(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read a spreadsheet (or, with ``schema.layer``, a point file) into a string table.

    Parameters
    ----------
    path : str or Path
        CSV, XLSX (``.xlsm`` too) or, with ``schema.layer``, GeoJSON / GeoPackage /
        Shapefile / FlatGeobuf points (any CRS).
    schema : Schema
        Columns, header detection and messages.

    Returns
    -------
    pandas.DataFrame
        ``linha`` (the row a clerk sees: header = 1 in a CSV, the sheet row in XLSX,
        the feature id in GeoPackage and the feature number otherwise) plus one string
        column per file column, canonical names where known (see
        :func:`normalise_headers`); :data:`READ_PROBLEMS` when a row has more cells
        than the header; :data:`GEOMETRY_PROBLEM` for point files. Blank rows are
        skipped; a header-only file gives an empty table.

    Raises
    ------
    InputFileError
        (``schema.error``) Missing, empty, unsupported, undecodable or corrupt file;
        a required column missing (the message names it and lists the columns found);
        a point file without CRS.
    """
    path = Path(path)
    if not path.is_file():
        raise schema.fail(f"{schema.what} não encontrado", path)
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise schema.fail(_UNSUPPORTED[suffix], path)
    raw = path.read_bytes()
    if not raw.strip():
        raise schema.fail(f"arquivo{schema.of} vazio", path)
    if raw.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, schema)
    if schema.layer is not None and (
        suffix in GEO_SUFFIXES or raw.startswith((b"SQLite format 3\x00", b"{"))
    ):
        table = read_points(path, raw, schema)
        if table is not None:
            return table
    return read_csv(path, raw, schema)
