"""Cells of the law's tables read as arrays, each distinct value converted once (pure).

The suggestions (:class:`Evidence`, for :mod:`geo_ip.law.criteria` and
:mod:`geo_ip.law.art12`), the ranking (:mod:`geo_ip.law.ranking`,
:mod:`geo_ip.law.order`, :mod:`geo_ip.law.budget`) and the eligibility
(:mod:`geo_ip.law.eligibility`, :mod:`geo_ip.law.hardship`, :mod:`geo_ip.law.benefits`)
read numbers, flags and texts from columns that may hold NA, None, strings or numbers;
these readers never raise, and convert each distinct value once, whatever the number of
rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DECIMALS",
    "Evidence",
    "flags",
    "formatted",
    "number",
    "numbers",
    "per_text",
    "per_value",
    "texts",
]

DECIMALS = 6
"""Scores and amounts are compared after rounding to this many decimals (float noise)."""


def number(value: Any) -> float:
    """Return the float of a cell, rounded to :data:`DECIMALS`.

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    float
        The number; NaN for NA, None and non-numbers (infinities as they are).
    """
    try:
        result = float(value)
    except (TypeError, ValueError):
        return math.nan
    return round(result, DECIMALS) if math.isfinite(result) else result


def per_value(values: Any, convert: Callable[[Any], Any]) -> list[Any]:
    """Return ``[convert(v) for v in values]``, calling ``convert`` once per distinct value.

    Parameters
    ----------
    values : array-like
        The cells.
    convert : callable
        Conversion of one cell; called with ``None`` for a missing one.

    Returns
    -------
    list
        One converted value per cell, in order.
    """
    series = pd.Series(np.asarray(values, dtype=object), dtype=object)
    codes, uniques = pd.factorize(series)
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(v) for v in uniques]
    converted[-1] = convert(None)  # code -1: a missing value
    return list(converted[codes])


def per_text(values: pd.Series, convert: Callable[[Any], Any]) -> np.ndarray:
    """Return ``convert`` of every cell, once per distinct text when the column holds text only.

    Other columns (numbers, booleans, dates mixed in) are converted cell by cell: two
    cells equal for pandas (``1`` and ``True``) may read differently.

    Parameters
    ----------
    values : pandas.Series
        The cells.
    convert : callable
        Conversion of one cell; called with ``None`` for a missing one.

    Returns
    -------
    numpy.ndarray of object
        One converted value per cell, in order.
    """
    column = pd.Series(values, dtype=object).reset_index(drop=True)
    out = np.empty(len(column), dtype=object)
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(column)
        converted = np.empty(len(uniques) + 1, dtype=object)
        converted[:-1] = [convert(v) for v in uniques]
        converted[-1] = convert(None)  # code -1: a missing cell
        out[:] = converted[codes]
    else:
        out[:] = [convert(v) for v in column]
    return out


def numbers(values: Any) -> np.ndarray:
    """Return :func:`number` of every cell.

    Parameters
    ----------
    values : array-like
        The cells (a float column is read without converting each cell).

    Returns
    -------
    numpy.ndarray
        Float array, NaN where a cell is not a number.
    """
    if isinstance(values, pd.Series) and pd.api.types.is_float_dtype(values.dtype):
        raw = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(raw)
        out = raw.copy()
        if finite.any():
            distinct, inverse = np.unique(raw[finite], return_inverse=True)
            rounded = np.array([round(float(v), DECIMALS) for v in distinct], dtype=float)
            out[finite] = rounded[inverse.reshape(-1)]
        return out
    return np.array(per_value(values, number), dtype=float).reshape(len(values))


def flags(table: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    """Return a flag column as booleans.

    Parameters
    ----------
    table : pandas.DataFrame
        The table.
    name : str
        The column (it must exist).
    default : bool
        The value of an NA cell.

    Returns
    -------
    numpy.ndarray of bool
        One value per row.
    """
    column = table[name]
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.astype("boolean").fillna(default).to_numpy(dtype=bool).reshape(len(table))
    values = per_value(column, lambda v: default if v is None or pd.isna(v) else bool(v))
    return np.array(values, dtype=bool).reshape(len(table))


def texts(table: pd.DataFrame, name: str) -> np.ndarray:
    """Return the stripped strings of an optional column.

    Parameters
    ----------
    table : pandas.DataFrame
        The table.
    name : str
        The column.

    Returns
    -------
    numpy.ndarray of object
        One string per row; ``""`` where the cell is NA or the column is absent.
    """
    if name not in table:
        return np.full(len(table), "", dtype=object)
    values = per_value(table[name], lambda v: "" if v is None or pd.isna(v) else str(v).strip())
    return np.asarray(values, dtype=object).reshape(len(table))


def _cell_text(value: Any) -> str:
    """Return a cell of :meth:`Evidence.text` (``""`` when missing)."""
    return "" if value is None or pd.isna(value) else str(value).strip()


def formatted(values: np.ndarray, fmt: Callable[[float], str]) -> np.ndarray:
    """Return ``fmt`` of each value, computed once per distinct value (NaN included).

    Parameters
    ----------
    values : numpy.ndarray
        Numbers.
    fmt : callable
        Formats one number (NaN for a missing one).

    Returns
    -------
    numpy.ndarray of object
        The texts, in order.
    """
    return np.asarray(per_value(values, lambda v: fmt(math.nan if v is None else v)), object)


class Evidence:
    """Typed, NaN-safe access to the columns of the evidence table.

    Parameters
    ----------
    table : pandas.DataFrame
        The evidence table (one row per request); an absent column reads as unknown.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.n = len(table)

    def num(self, name: str) -> np.ndarray:
        """Float array of a column (NaN when absent or not a number)."""
        if name not in self.table:
            return np.full(self.n, np.nan)
        values = pd.to_numeric(self.table[name].astype("object"), errors="coerce")
        return np.asarray(values.astype("float64").to_numpy(), dtype=float)

    def flag(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(value, known)`` boolean arrays of a column (unknown when absent or NA)."""
        if name not in self.table:
            return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool)
        column = self.table[name].astype("object")
        known = column.notna().to_numpy(dtype=bool)
        value = np.array([bool(v) if k else False for v, k in zip(column, known, strict=True)])
        return value.astype(bool).reshape(self.n), known

    def text(self, name: str) -> list[str]:
        """List of strings of a column (``""`` when absent or NA)."""
        if name not in self.table:
            return [""] * self.n
        # once per distinct text (names, hierarchies and kinds repeat over the rows)
        column = self.table[name].astype("object")
        return per_text(column, _cell_text).tolist()
