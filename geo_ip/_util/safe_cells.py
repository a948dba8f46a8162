"""Cells a spreadsheet program never runs: CSV and XLSX formula injection (issue 17).

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel and LibreOffice as a formula: a protocol number such as
``=cmd|' /C calc'!A0`` or ``=HYPERLINK("http://…", "clique")`` typed into the requests
spreadsheet would run, or leak data, on the computer of whoever opens ``ranking.csv``.
Following the OWASP guidance on CSV injection, every CSV that geo_ip writes goes
through :func:`to_csv`, which prefixes such text cells with a single quote (``'``):
the spreadsheet shows the text, quote included, and runs nothing.

Only text is touched, and only text that could form a formula:

- numbers stay numbers (a float ``-3.5`` in a numeric column is written ``-3.5``);
- text that is a plain decimal number (``-22.906017``, ``-1``, ``+3,5``) is left as
  it is: it can only be read as that number, never as a formula, and coordinates
  written as text keep reading back as numbers;
- a lone character (``-`` as "none") cannot form a formula and is left as it is;
- every other text starting with one of :data:`FORMULA_START` gains the quote. A
  protocol ``-1+1`` therefore reads back as ``'-1+1`` from the CSV (the XLSX keeps
  ``-1+1``, as a text cell).

Workbooks (``ranking.xlsx``, ``cip.xlsx``) are opened with :data:`XLSX_OPTIONS`:
xlsxwriter writes every string as a text cell, never as a formula nor as a link, so
the cell holds the literal text and needs no quote.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BR_CSV",
    "FORMULA_START",
    "XLSX_OPTIONS",
    "neutralise",
    "neutralise_frame",
    "to_csv",
    "to_csv_br",
]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""
XLSX_OPTIONS: dict[str, Any] = {"strings_to_formulas": False, "strings_to_urls": False}
"""xlsxwriter ``Workbook`` options: strings are written as text, never formulas or links."""
BR_CSV: dict[str, Any] = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}
"""How the CSVs people open are written (:func:`to_csv_br`): what a Brazilian Excel or
LibreOffice reads on a double click (``;`` between cells, decimal comma, UTF-8 with BOM)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def _dangerous(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) > 1
        and value.startswith(FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    )


_FORMULA_FIRST = frozenset(FORMULA_START)


def _dangerous_cells(cells: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Return :func:`_dangerous` of every cell; only those starting as a formula are parsed."""
    mask = np.zeros(len(cells), dtype=bool)
    for k, value in enumerate(cells):
        if isinstance(value, str) and value[:1] in _FORMULA_FIRST:
            mask[k] = _dangerous(value)
    return mask


def neutralise(value: Any) -> Any:
    """Return a cell value that a spreadsheet reads as text, never as a formula.

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    object
        ``"'" + value`` for a string of two or more characters starting with one of
        :data:`FORMULA_START` that is not a plain decimal number; ``value`` unchanged
        otherwise (numbers included).

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("-3.5"), neutralise(-3.5), neutralise("PED-1")
    ("'=1+1", '-3.5', -3.5, 'PED-1')
    """
    return "'" + value if _dangerous(value) else value


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    if pd.api.types.is_object_dtype(dtype):
        return True
    return isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`neutralise` to every text cell of a table (numeric columns untouched).

    Parameters
    ----------
    frame : pandas.DataFrame
        A table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when no cell needs the quote, otherwise a copy with the
        dangerous text cells quoted (their columns become ``object``).
    """
    out: pd.DataFrame | None = None
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if not _is_text(values):
            continue
        values = values.astype(object)
        mask = _dangerous_cells(values.to_numpy())
        if not mask.any():
            continue
        if out is None:
            out = frame.copy()
        out.isetitem(position, values.where(~mask, "'" + values[mask].astype(str)).to_numpy())
    return frame if out is None else out


def to_csv(frame: pd.DataFrame, path: str | Path | None = None) -> str | None:
    """Write a table as UTF-8 CSV (comma, no index) with its text cells neutralised.

    The one CSV writer of geo_ip's outputs (rankings, reports, geocoding, cadastre,
    CIP): callers keep their own atomic file handling and pass the temporary path.

    Parameters
    ----------
    frame : pandas.DataFrame
        What to write.
    path : str or Path, optional
        File to write; None returns the text instead.

    Returns
    -------
    str or None
        The CSV text when ``path`` is None.
    """
    safe = neutralise_frame(frame)
    if path is None:
        return safe.to_csv(index=False)
    safe.to_csv(path, index=False, encoding="utf-8")
    return None


def _comma_decimals(frame: pd.DataFrame) -> pd.DataFrame:
    """Write the floats of text columns with a decimal comma, as pandas does for float ones."""
    out: pd.DataFrame | None = None
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if not pd.api.types.is_object_dtype(values.dtype):
            continue
        floats = values.map(lambda v: isinstance(v, float)).astype(bool)
        if not floats.any():
            continue
        if out is None:
            out = frame.copy()
        text = values[floats].map(lambda v: "" if v != v else repr(v).replace(".", ","))
        out.isetitem(position, values.where(~floats, text).to_numpy())
    return frame if out is None else out


def to_csv_br(frame: pd.DataFrame, path: str | Path | None = None) -> str | None:
    """Write a table as the CSV a Brazilian spreadsheet opens: ``;``, decimal comma, BOM.

    Text cells are neutralised as in :func:`to_csv`; numbers keep every digit and no
    thousands separator (``147354,46``, ``-22,906017``), so that Excel and LibreOffice in
    Portuguese read them as numbers; cells holding ``;`` are quoted. The file starts with
    the UTF-8 byte order mark, which tells Excel the encoding (accents intact).

    Parameters
    ----------
    frame : pandas.DataFrame
        What to write (its header as it is: give it the labels people read).
    path : str or Path, optional
        File to write; None returns the text instead (without the byte order mark).

    Returns
    -------
    str or None
        The CSV text when ``path`` is None.
    """
    safe = _comma_decimals(neutralise_frame(frame))
    if path is None:
        return safe.to_csv(index=False, sep=BR_CSV["sep"], decimal=BR_CSV["decimal"])
    safe.to_csv(path, index=False, **BR_CSV)
    return None
