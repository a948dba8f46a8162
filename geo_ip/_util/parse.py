"""Parsing of the values typed in the municipality's spreadsheets (private, shared).

One place for what every reader of a clerk's spreadsheet needs: header and category
slugs, the text of a cell, dates, numbers with decimal comma and thousands dots, CPF
digits, yes/no answers and the quoting of a value in a Portuguese message. Used by
:mod:`geo_ip.sources.tables` (the generic reader), :mod:`geo_ip.requests.intake`,
:mod:`geo_ip.requests.decision_file`, :mod:`geo_ip.requests.history_file`,
:mod:`geo_ip.law.decisions`,
:mod:`geo_ip.law.eligibility` and :mod:`geo_ip.evidence.occurrences`.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from numbers import Integral
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "NO",
    "STOPWORDS",
    "YES",
    "category",
    "category_key",
    "cell_text",
    "cpf_digits",
    "date_problems",
    "format_brl",
    "format_number",
    "format_points",
    "number_column",
    "parse_dates",
    "quoted",
    "slug",
    "to_number",
    "yes_no",
]

STOPWORDS = frozenset({"de", "da", "do", "das", "dos", "e", "a", "o"})
"""Words left out when a category is matched (``"extensão de rede"`` → ``extensao_rede``)."""
YES = frozenset({"sim", "s", "yes", "y", "true", "verdadeiro", "v", "1", "x"})
"""Slugs read as yes."""
NO = frozenset({"nao", "n", "no", "false", "falso", "f", "0"})
"""Slugs read as no."""

_TIME_SUFFIX = r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
_TIME = r"[ T](?P<h>\d{1,2}):(?P<min>\d{2})(?::(?P<s>\d{2}))?"
"""Hours, minutes and seconds of :data:`_TIME_SUFFIX`, to refuse ``25:00`` (issue 17)."""
_ISO_DATE = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$"
_BR_DATE = r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4}|\d{2})$"
_TWO_DIGIT_YEAR_AHEAD = 10
"""dd/mm/aa: 20aa when at most this many years after today, else 19aa."""


def slug(text: object) -> str:
    """Normalise a header or a category: no accents, lower case, ``_`` between words.

    Parameters
    ----------
    text : object
        Any value; ``None`` gives ``""``.

    Returns
    -------
    str
        E.g. ``"Nº Protocolo"`` → ``"no_protocolo"``, ``"Extensão de Rede"`` →
        ``"extensao_de_rede"``.
    """
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def cell_text(value: Any) -> str:
    """Render one cell (of any reader) as the text a clerk would see.

    Parameters
    ----------
    value : Any
        A cell value: text, number, date, boolean or missing.

    Returns
    -------
    str
        Stripped text; integral floats lose their ``.0``, dates are ISO, booleans
        ``"sim"``/``"não"``, missing is ``""``.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, datetime):
        if pd.isna(value):
            return ""
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


@overload
def quoted(text: str) -> str: ...
@overload
def quoted(text: pd.Series) -> pd.Series: ...
def quoted(text: str | pd.Series) -> str | pd.Series:
    """Quote a cell for a message: ``('…')`` with at most its first 60 characters.

    Parameters
    ----------
    text : str or pandas.Series of str
        The cell(s) as read.

    Returns
    -------
    str or pandas.Series of str
        E.g. ``"abc"`` → ``"('abc')"``.
    """
    if isinstance(text, str):
        return f"('{text[:60]}')"
    return "('" + text.str.slice(0, 60) + "')"


def to_number(text: pd.Series, *, thousands: bool) -> pd.Series:
    """Parse numbers written with dot or comma decimals (and ``R$``, spaces, ``−``).

    Parameters
    ----------
    text : pandas.Series of str
        Cells as read.
    thousands : bool
        With it, ``1.518`` (a dot followed by groups of three digits) is 1518, as
        written in Brazil; without it (coordinates, points), a lone dot is always the
        decimal point. With both a dot and a comma, the last one is the decimal mark
        (``1.234,5`` and ``1,234.5`` are 1234.5).

    Returns
    -------
    pandas.Series of float64
        NaN where the text is blank or not a number.
    """
    s = text.str.replace("\u2212", "-", regex=False).str.replace(r"(?i)r\$|\s", "", regex=True)
    has_comma, has_dot = s.str.contains(",", regex=False), s.str.contains(".", regex=False)
    comma_last = s.str.rfind(",") > s.str.rfind(".")
    s = s.where(~(has_comma & has_dot & comma_last), s.str.replace(".", "", regex=False))
    s = s.where(~(has_comma & has_dot & ~comma_last), s.str.replace(",", "", regex=False))
    if thousands:
        grouped = s.str.fullmatch(r"[-+]?\d{1,3}(?:\.\d{3})+")
        s = s.where(~grouped, s.str.replace(".", "", regex=False))
    s = s.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(s.where(s.str.fullmatch(r"[-+]?(?:\d+\.?\d*|\.\d+)")), errors="coerce")
    return numbers.astype("float64")


def parse_dates(text: pd.Series, today: date) -> tuple[pd.Series, pd.Series]:
    """Parse ISO, dd/mm/aaaa, dd-mm-aaaa, dd.mm.aaaa and dd/mm/aa dates.

    Parameters
    ----------
    text : pandas.Series of str
        Cells as read; a valid time after the date (``2026-03-12 09:30:00``) is ignored,
        an impossible one (``2026-05-06T25:00``) makes the date ``"inexistente"``.
    today : datetime.date
        Decides the century of two-digit years: ``20aa`` when at most 10 years after
        ``today``, else ``19aa``.

    Returns
    -------
    dates : pandas.Series
        ``datetime.date`` or ``None``, same index as ``text``.
    status : pandas.Series of str
        ``"vazio"``, ``"formato"`` (not a date), ``"inexistente"`` (e.g. 31/02) or
        ``"ok"``.
    """
    suffix = text.str.extract("(" + _TIME_SUFFIX[:-1] + ")$")[0]
    clock = suffix.str.extract(_TIME)
    bad_time = (
        (pd.to_numeric(clock["h"], errors="coerce") > 23)
        | (pd.to_numeric(clock["min"], errors="coerce") > 59)
        | (pd.to_numeric(clock["s"], errors="coerce") > 59)
    ).to_numpy(dtype=bool)
    s = text.str.replace(_TIME_SUFFIX, "", regex=True).str.strip()
    iso, br = s.str.extract(_ISO_DATE), s.str.extract(_BR_DATE)
    year_text = iso["y"].fillna(br["y"])
    year = pd.to_numeric(year_text, errors="coerce")
    short = year_text.str.len() == 2
    pivot = np.where(2000 + year <= today.year + _TWO_DIGIT_YEAR_AHEAD, 2000, 1900)
    year = year.where(~short, year + pivot)
    parts = pd.DataFrame(
        {
            "year": year,
            "month": pd.to_numeric(iso["m"].fillna(br["m"]), errors="coerce"),
            "day": pd.to_numeric(iso["d"].fillna(br["d"]), errors="coerce"),
        }
    )
    stamps = pd.to_datetime(parts, errors="coerce")
    matched = year_text.notna()
    status = np.select(
        [s == "", ~matched, stamps.isna() | bad_time],
        ["vazio", "formato", "inexistente"],
        default="ok",
    )
    status_col = pd.Series(status, index=text.index, dtype=str)
    valid = pd.Series(stamps.dt.date.to_numpy(dtype=object), index=text.index, dtype="object")
    return valid.where(status_col == "ok", None), status_col


def date_problems(
    text: pd.Series, status: pd.Series, field: str, *, blank: str = "", hint: str = ""
) -> pd.Series:
    """Explain every date cell :func:`parse_dates` did not accept.

    Parameters
    ----------
    text : pandas.Series of str
        The cells as read.
    status : pandas.Series of str
        Their status from :func:`parse_dates`.
    field : str
        Column name, for the messages.
    blank : str, optional
        What to say of an empty cell (``"obrigatório, está vazio"``); ``""``: an empty
        cell is fine.
    hint : str, optional
        Added after the ``data inexistente`` message (``" (formato dd/mm/aaaa)"``); for a
        cell written as an ISO date, ``dd/mm/aaaa`` in it reads ``aaaa-mm-dd``.

    Returns
    -------
    pandas.Series of str
        ``"campo '<field>': ..."`` per row, ``""`` where the cell is fine.
    """
    out = pd.Series("", index=text.index, dtype=str)
    if blank:
        out = out.mask(status == "vazio", f"campo '{field}': {blank}")
    out = out.mask(
        status == "formato",
        f"campo '{field}': data em formato não reconhecido "
        + quoted(text)
        + "; use dd/mm/aaaa ou aaaa-mm-dd",
    )
    # the format the cell was written in: an ISO date is not told to use dd/mm/aaaa
    iso_shaped = text.str.strip().str.match(_ISO_DATE[:-1]).fillna(False).astype(bool)
    iso_hint = hint.replace("dd/mm/aaaa", "aaaa-mm-dd")
    missing = f"campo '{field}': data inexistente " + quoted(text)
    out = out.mask((status == "inexistente") & ~iso_shaped, missing + hint)
    return out.mask((status == "inexistente") & iso_shaped, missing + iso_hint)


def cpf_digits(text: str) -> str:
    """Digits of a CPF written in any layout; 9 or 10 bare digits get their leading zeros.

    Parameters
    ----------
    text : str
        ``"123.456.789-09"``, ``"12345678909"``, ``"1234567890"`` (a spreadsheet
        dropped the leading zero)...

    Returns
    -------
    str
        The digits (11 when the CPF is complete), e.g. ``"01234567890"``.
    """
    digits = re.sub(r"\D", "", text)
    if text.isdigit() and 9 <= len(digits) < 11:  # leading zeros lost by a spreadsheet
        digits = digits.zfill(11)
    return digits


def yes_no(value: object) -> bool | None:
    """Read a yes/no answer: a boolean or a text such as ``sim``, ``Não``, ``X``, ``0``.

    Parameters
    ----------
    value : object
        The cell (text, boolean, number or missing).

    Returns
    -------
    bool or None
        ``None`` when blank or not a yes/no text (see :data:`YES` and :data:`NO`).
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        key = slug(value)
        return True if key in YES else False if key in NO else None
    if isinstance(value, float) and math.isnan(value):
        return None
    return bool(value)


def category_key(value: object) -> str:
    """Slug a category, leaving out :data:`STOPWORDS` (``"Extensão da rede"`` → ``extensao_rede``).

    Parameters
    ----------
    value : object
        The cell.

    Returns
    -------
    str
        ``""`` when blank.
    """
    return "_".join(t for t in slug(value).split("_") if t and t not in STOPWORDS)


def category(value: object, allowed: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    """Map accent, case and wording variants of a category onto one of ``allowed``.

    Parameters
    ----------
    value : object
        The cell, e.g. ``"Extensão de rede"``, ``"Comércio"``.
    allowed : sequence of str
        The canonical values.
    aliases : mapping of str to str
        Other keys (:func:`category_key`) → canonical value.

    Returns
    -------
    str or None
        The canonical value (found whole, by alias, or by its first word); ``""`` when
        blank; ``None`` when unknown.
    """
    key = category_key(value)
    if not key:
        return ""
    canon = aliases.get(key) or (key if key in allowed else None)
    if canon is None:
        first = key.split("_")[0]
        canon = aliases.get(first) or next((a for a in allowed if a.split("_")[0] == first), None)
    return canon


def format_number(value: float, decimals: int = 1, *, trim: bool = True) -> str:
    """Format a number the Brazilian way (``1.234,5``).

    Parameters
    ----------
    value : float
        The number.
    decimals : int, default 1
        Decimal places.
    trim : bool, default True
        Drop trailing zeros of the decimal part (``120,0`` → ``120``).

    Returns
    -------
    str
        The formatted number; ``"?"`` for NaN.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    number = float(value)
    if number == 0.0 and math.copysign(1.0, number) < 0:  # -0.0 == 0.0 for the cache
        return _format(number, decimals, trim)
    return _format_cached(number, decimals, trim)


_SWAP_SEPARATORS = str.maketrans({",": ".", ".": ","})


def _format(number: float, decimals: int, trim: bool) -> str:
    text = f"{number:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.translate(_SWAP_SEPARATORS)


_format_cached = functools.lru_cache(maxsize=1 << 16)(_format)
"""Counts, points and levels repeat across thousands of motivations: format them once."""


def format_brl(value: float) -> str:
    """Format an amount in reais (``R$ 12.345,00``).

    Parameters
    ----------
    value : float
        Amount in R$.

    Returns
    -------
    str
        ``"R$ 1.234,56"``; ``"R$ ?"`` for NaN.
    """
    return f"R$ {format_number(value, 2, trim=False)}"


def number_column(table: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """Return a column as floats (NaN where missing, not a number, or absent).

    Parameters
    ----------
    table : pandas.DataFrame
        Any table.
    column : str
        Column name; an absent column gives all NaN.

    Returns
    -------
    numpy.ndarray
        A writable float64 array, one value per row.
    """
    if column not in table.columns:
        return np.full(len(table), np.nan)
    values = pd.to_numeric(table[column], errors="coerce").astype("float64")
    return np.array(values, dtype=np.float64)


def format_points(value: float) -> str:
    """Write points as in Portuguese (``12,5``).

    Parameters
    ----------
    value : float
        Points.

    Returns
    -------
    str
        ``f"{value:g}"`` with a decimal comma.
    """
    return f"{value:g}".replace(".", ",")
