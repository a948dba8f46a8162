"""Row problems, date and location checks of the requests (:mod:`geo_ip.requests.intake`).

:class:`Problems` collects every problem of every row in the order the checks find
them; :func:`location_checks` reads the coordinates (decimal comma or point, or
degrees, minutes and seconds) and detects points outside the municipality or Brazil,
swapped latitude/longitude and missing minus signs, with a suggested fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_ip._util.parse import category, date_problems, parse_dates, quoted, to_number

__all__ = [
    "BRAZIL_LAT",
    "BRAZIL_LON",
    "TIPOS",
    "TIPO_ALIASES",
    "Problems",
    "by_unique",
    "date_checks",
    "fmt",
    "iso",
    "location_checks",
    "numbers",
    "quoted_cells",
    "request_type",
    "smap",
]

BRAZIL_LAT = (-35.0, 6.0)
"""Latitude range of Brazil, used to detect swapped coordinates without a boundary."""
BRAZIL_LON = (-75.0, -28.0)
TIPOS = ("extensao_rede", "implantacao", "melhoria")
"""Request types of Art. 2 (here, without I/O, for :mod:`geo_ip.law.eligibility` too)."""
TIPO_ALIASES = {"extensao": "extensao_rede", "expansao_rede": "extensao_rede"}
"""Other spellings of :data:`TIPOS` (keys: :func:`geo_ip._util.parse.category_key`)."""

# ASCII digits only: Python's \d also takes Arabic-Indic digits ('١٢'), and float() reads them
_DMS = re.compile(
    r"^\s*(?P<h1>[NSEWLO])?\s*(?P<sign>[-+\u2212])?\s*(?P<deg>[0-9]{1,3}(?:[.,][0-9]+)?)"
    r"(?:(?:\s*[°º˚]\s*|\s+)(?:(?P<min>[0-9]{1,2}(?:[.,][0-9]+)?)"
    r"(?:(?:\s*['′’]\s*|\s+)(?:(?P<sec>[0-9]{1,2}(?:[.,][0-9]+)?)\s*(?:\"|″|”|''|′′)?)?)?)?)?"
    r"\s*(?P<h2>[NSEWLO])?\s*$",
    re.IGNORECASE,
)


class Problems:
    """Every problem of every row, in the order the checks find them.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n: int) -> None:
        self.items: list[list[tuple[str, str]]] = [[] for _ in range(n)]

    def add(
        self,
        mask: object,
        level: str,
        *message: str | Sequence[str] | pd.Series | np.ndarray | Callable[[np.ndarray], Any],
    ) -> None:
        """Add a message at ``level`` to the rows in ``mask``.

        The message is the concatenation of the parts in ``message``: a text (the same
        for every row), a column (one text per row: a sequence, array or Series read by
        position) or a function of the masked rows' positions returning their texts.
        Only the masked rows' texts are built: most rows have no problem at all.
        """
        if isinstance(mask, pd.Series):
            mask = mask.to_numpy(dtype=bool, na_value=False)
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not rows.size:
            return
        texts = [_part_texts(part, rows) for part in message]
        positions: list[int] = rows.tolist()
        if len(texts) == 1 and isinstance(texts[0], str):
            for i in positions:
                self.items[i].append((level, texts[0]))
            return
        columns = [[part] * len(rows) if isinstance(part, str) else part for part in texts]
        for i, pieces in zip(positions, zip(*columns, strict=True), strict=True):
            self.items[i].append((level, "".join(str(p) for p in pieces)))

    def situacao(self) -> list[str]:
        """Return ``"erro"``, ``"aviso"`` or ``"ok"`` per row."""
        levels = [{lv for lv, _ in row} for row in self.items]
        return ["erro" if "erro" in s else "aviso" if s else "ok" for s in levels]

    def text(self) -> list[str]:
        """Return the problems of each row, ``" | "``-joined, warnings as ``"aviso: ..."``."""
        return [
            " | ".join(msg if lv == "erro" else f"aviso: {msg}" for lv, msg in row)
            for row in self.items
        ]


def _part_texts(part: object, rows: np.ndarray) -> str | list[Any]:
    """Return the texts of one message part (see :meth:`Problems.add`) at positions ``rows``."""
    if isinstance(part, str):
        return part
    if callable(part):
        return list(part(rows))
    if isinstance(part, pd.Series):
        # a numpy copy of the masked rows only: iterating Arrow-backed strings is slow
        return part.iloc[rows].to_numpy(dtype=object).tolist()
    return np.asarray(part, dtype=object)[rows].tolist()


def fmt(value: float) -> str:
    """Format a coordinate for a message: up to 6 decimals, no trailing zeros; NaN → ``""``."""
    if pd.isna(value):
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def iso(value: object) -> str:
    """Return a date as ISO text, anything else as ``""``."""
    return value.isoformat() if isinstance(value, date) else ""


def smap(values: pd.Series, func: Callable[[Any], Any], dtype: Any = str) -> pd.Series:
    """Apply ``func`` (a pure function) to each value; the result keeps ``dtype`` even when empty.

    Each distinct value is computed once: a column of a clerk's spreadsheet repeats a
    few values (``sim``, a type, a neighbourhood) over thousands of rows.
    """
    cells = values.to_numpy(dtype=object)  # iterating Arrow-backed strings is slow
    try:  # keyed by type too: 1, 1.0 and True are equal keys but different cells
        done: dict[tuple[type, Any], Any] = {}
        out = [
            done[k] if (k := (v.__class__, v)) in done else done.setdefault(k, func(v))
            for v in cells
        ]
    except TypeError:  # an unhashable cell
        out = [func(v) for v in cells]
    return pd.Series(out, index=values.index, dtype=dtype)


def by_unique(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return the distinct values of a text column (same dtype) and each row's code.

    A check written for a whole column that treats each cell on its own (every parser
    and message of :mod:`geo_ip._util.parse` does) gives, on the distinct values taken
    back with ``codes``, the same result as on the column: a clerk's spreadsheet repeats
    dates, counts and incomes over thousands of rows.
    """
    codes, uniques = pd.factorize(text.to_numpy(dtype=object), use_na_sentinel=False)
    return pd.Series(uniques, dtype=text.dtype), np.asarray(codes, dtype=np.intp)


def date_checks(
    problems: Problems, text: pd.Series, field: str, today: date, *, required: bool
) -> pd.Series:
    """Parse a date column; add its format, non-existent and future-date errors to ``problems``.

    Parameters
    ----------
    problems : Problems
        Where the errors go.
    text : pandas.Series of str
        The column as read.
    field : str
        Its name, for the messages.
    today : datetime.date
        Reference for future dates and two-digit years.
    required : bool
        Whether an empty cell is an error.

    Returns
    -------
    pandas.Series
        ``datetime.date`` or ``None`` per row.
    """
    # parsed once per distinct text, then taken back to the rows
    uniques, codes = by_unique(text)
    if not (uniques != "").any():  # a blank (or absent) column
        if required:
            problems.add(codes >= 0, "erro", f"campo '{field}': obrigatório, está vazio")
        return pd.Series([None] * len(text), index=text.index, dtype=object)
    unique_dates, status = parse_dates(uniques, today)
    blank = "obrigatório, está vazio" if required else ""
    unique_messages = date_problems(
        uniques, status, field, blank=blank, hint=" (formato dd/mm/aaaa)"
    )
    messages = unique_messages.to_numpy(dtype=object)[codes]
    problems.add(messages != "", "erro", messages)
    day = unique_dates.to_numpy(dtype=object)
    unique_future = np.array([d is not None and d > today for d in day], dtype=bool)
    future = unique_future[codes]
    shown = np.array([iso(d) for d in day], dtype=object)
    problems.add(future, "erro", f"campo '{field}': data futura (", shown[codes], ")")
    return pd.Series(day[codes], index=text.index, dtype=object)


def _parse_dms(value: str) -> float | None:
    """Parse degrees/minutes/seconds text (``22°54'10"S``); ``None`` if it is not one."""
    match = _DMS.match(value)
    if match is None or (match["h1"] and match["h2"]):
        return None
    deg, minutes, seconds = (
        float((match[k] or "0").replace(",", ".")) for k in ("deg", "min", "sec")
    )
    if minutes >= 60 or seconds >= 60:
        return None
    result = deg + minutes / 60 + seconds / 3600
    hemisphere = (match["h1"] or match["h2"] or "").upper()
    negative = hemisphere in ("S", "W", "O") or match["sign"] in ("-", "\u2212")
    return -result if negative else result


_PLAIN_NUMBER = r"[-+]?(?:[0-9]{1,15}\.[0-9]*|\.[0-9]+)"
"""A decimal :func:`geo_ip._util.parse.to_number` reads as it is (ASCII, one dot)."""


def numbers(text: pd.Series, *, thousands: bool) -> np.ndarray:
    """:func:`geo_ip._util.parse.to_number` of a column, as an array, computed faster.

    Plain numbers (:data:`_PLAIN_NUMBER`; without ``thousands`` only, where a lone dot is
    always the decimal point) go straight to :func:`pandas.to_numeric`, as in
    ``to_number``; every other cell is read by ``to_number`` itself, once per distinct text.
    """
    values = np.full(len(text), np.nan)
    rest = np.ones(len(text), dtype=bool)
    if not thousands and len(text):
        plain = text.str.fullmatch(_PLAIN_NUMBER).to_numpy(dtype=bool, na_value=False)
        if plain.any():
            values[plain] = pd.to_numeric(text[plain], errors="coerce").astype("float64")
            rest = ~plain
    if rest.any():
        uniques, codes = by_unique(text[rest])
        values[rest] = to_number(uniques, thousands=thousands).to_numpy(dtype="float64")[codes]
    return values


def _cells(text: pd.Series) -> np.ndarray:
    """Return the cells of a text column as a numpy array of ``str``."""
    return text.to_numpy(dtype=object)


def quoted_cells(cells: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """Message part: the cells at the masked rows, quoted (:func:`geo_ip._util.parse.quoted`)."""
    return lambda rows: [quoted(str(v)) for v in cells[rows]]


def _fmt(values: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """Message part: the numbers at the masked rows, as :func:`fmt` shows them.

    A zero is shown with the sign of the column's first zero, as when the column was
    formatted through :func:`smap` (``0.0`` and ``-0.0`` are one key there).
    """
    zeros = np.flatnonzero(values == 0)
    zero = fmt(values[zeros[0]]) if zeros.size else "0"
    return lambda rows: [zero if v == 0 else fmt(v) for v in values[rows]]


def _coordinate(problems: Problems, text: pd.Series, field: str) -> pd.Series:
    values = numbers(text, thousands=False)
    values[~np.isfinite(values)] = np.nan
    cells = _cells(text)
    pending = (cells != "") & np.isnan(values)
    dms = np.full(len(values), np.nan)
    if pending.any():
        dms[pending] = smap(text[pending], _parse_dms, "float64").to_numpy()
    converted = pending & ~np.isnan(dms)
    problems.add(
        pending & ~converted,
        "erro",
        f"campo '{field}': não é uma coordenada válida ",
        quoted_cells(cells),
    )
    problems.add(
        converted,
        "aviso",
        f"campo '{field}': coordenada em graus, minutos e segundos (",
        cells,
        ") convertida para ",
        _fmt(dms),
    )
    return pd.Series(np.where(np.isnan(values), dms, values), index=text.index)


def location_checks(
    problems: Problems,
    cols: dict[str, pd.Series],
    boundary: shapely.Geometry | None,
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Read the coordinates and check the location of every request.

    Parameters
    ----------
    problems : Problems
        Where the errors and warnings go.
    cols : dict of str to pandas.Series
        The ``latitude``, ``longitude`` and ``endereco`` columns as text.
    boundary : shapely.Geometry, optional
        Municipality polygon in EPSG:4326; without it, Brazil's ranges are used.

    Returns
    -------
    tuple of pandas.Series
        Latitude, longitude (float, NaN when unusable) and the suggested corrected
        latitude and longitude (NaN when there is no suggestion).
    """
    lat = _coordinate(problems, cols["latitude"], "latitude")
    lon = _coordinate(problems, cols["longitude"], "longitude")
    _presence_checks(problems, cols)
    la, lo = lat.to_numpy(), lon.to_numpy()
    has = ~np.isnan(la) & ~np.isnan(lo)
    out_of_range = has & ((np.abs(la) > 90) | (np.abs(lo) > 180))
    fix = (np.full(len(la), np.nan), np.full(len(la), np.nan))
    if boundary is not None:
        _municipality_checks(problems, (la, lo), has, out_of_range, boundary, fix)
    else:
        _brazil_checks(problems, (la, lo), has, out_of_range, fix)
    return lat, lon, pd.Series(fix[0]), pd.Series(fix[1])


_WHERE = "campos 'latitude'/'longitude': "
_SUGGESTION = "; sugestão em latitude_corrigida/longitude_corrigida"


def _pair(la: np.ndarray, lo: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """Message part: ``(lat, lon)`` of the masked rows."""
    lat, lon = _fmt(la), _fmt(lo)
    return lambda rows: [f"({a}, {b})" for a, b in zip(lat(rows), lon(rows), strict=True)]


def _presence_checks(problems: Problems, cols: dict[str, pd.Series]) -> None:
    """Add the errors (warnings with an address) of a missing coordinate."""
    lat_given, lon_given = cols["latitude"] != "", cols["longitude"] != ""
    address = cols["endereco"] != ""
    problems.add(
        ~lat_given & ~lon_given & ~address,
        "erro",
        "campos 'latitude', 'longitude' e 'endereco': sem localização; informe latitude e "
        "longitude ou o endereço",
    )
    pairs = (("latitude", lat_given, lon_given), ("longitude", lon_given, lat_given))
    for field, given, other in pairs:
        partial = ~given & other
        message = f"campo '{field}': vazio, só a outra coordenada foi informada"
        problems.add(partial & ~address, "erro", message)
        problems.add(partial & address, "aviso", message + "; será usado o endereço")


def _municipality_checks(
    problems: Problems,
    points: tuple[np.ndarray, np.ndarray],
    has: np.ndarray,
    out_of_range: np.ndarray,
    boundary: shapely.Geometry,
    fix: tuple[np.ndarray, np.ndarray],
) -> None:
    """Points outside the municipality; swapped or unsigned ones get a ``fix`` (lat, lon)."""
    la, lo = points
    fix_lat, fix_lon = fix
    shapely.prepare(boundary)
    inside = has & shapely.intersects_xy(boundary, lo, la)
    swapped = has & ~inside & shapely.intersects_xy(boundary, la, lo)
    fix_lat[swapped], fix_lon[swapped] = lo[swapped], la[swapped]
    unsigned = np.zeros(len(la), dtype=bool)
    for s_lat, s_lon in ((1, -1), (-1, 1), (-1, -1)):
        hit = has & ~inside & ~swapped & ~unsigned
        hit &= shapely.intersects_xy(boundary, s_lon * lo, s_lat * la)
        fix_lat[hit], fix_lon[hit] = s_lat * la[hit], s_lon * lo[hit]
        unsigned |= hit
    outside = has & ~inside & ~swapped & ~unsigned
    pair = _pair(la, lo)
    problems.add(
        swapped,
        "erro",
        _WHERE + "latitude e longitude trocadas? o ponto ",
        pair,
        " fica fora do município e, invertido, dentro" + _SUGGESTION,
    )
    problems.add(
        unsigned,
        "erro",
        _WHERE + "sinal negativo ausente? o ponto ",
        pair,
        " fica fora do município e, com o sinal corrigido, dentro" + _SUGGESTION,
    )
    problems.add(outside & out_of_range, "erro", _range_message(la, lo))
    problems.add(outside & ~out_of_range, "erro", _WHERE + "ponto ", pair, " fora do município")


def _brazil_checks(
    problems: Problems,
    points: tuple[np.ndarray, np.ndarray],
    has: np.ndarray,
    out_of_range: np.ndarray,
    fix: tuple[np.ndarray, np.ndarray],
) -> None:
    """Points out of range or outside Brazil; swapped ones get a ``fix`` (lat, lon)."""
    la, lo = points
    fix_lat, fix_lon = fix
    lat_br = (la >= BRAZIL_LAT[0]) & (la <= BRAZIL_LAT[1])
    lon_as_lat = (lo >= BRAZIL_LAT[0]) & (lo <= BRAZIL_LAT[1])
    swapped = has & ~lat_br & lon_as_lat & (np.abs(la) <= 180)
    fix_lat[swapped], fix_lon[swapped] = lo[swapped], la[swapped]
    problems.add(
        swapped,
        "erro",
        _WHERE + "latitude e longitude trocadas? a latitude ",
        _fmt(la),
        " está fora do Brasil e a longitude ",
        _fmt(lo),
        " parece uma latitude" + _SUGGESTION,
    )
    problems.add(out_of_range & ~swapped, "erro", _range_message(la, lo))
    lon_br = (lo >= BRAZIL_LON[0]) & (lo <= BRAZIL_LON[1])
    abroad = has & ~swapped & ~out_of_range & ~(lat_br & lon_br)
    problems.add(abroad, "aviso", _WHERE + "ponto ", _pair(la, lo), " fora do Brasil")


def _range_message(la: np.ndarray, lo: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    """Message part: the out-of-range coordinate of the masked rows, and the valid range."""

    def texts(rows: np.ndarray) -> list[str]:
        lat, lon = la[rows], lo[rows]
        bad_lat = np.abs(lat) > 90
        projected = np.maximum(np.abs(lat), np.abs(lon)) > 1000
        out = []
        for a, b, bad, far in zip(lat, lon, bad_lat, projected, strict=True):
            field, value, limit = (
                ("latitude", a, "-90 a 90") if bad else ("longitude", b, "-180 a 180")
            )
            out.append(
                f"campo '{field}': fora do intervalo válido ({limit}): {fmt(value)}"
                + (
                    "; parece coordenada projetada em metros (UTM): informe graus decimais"
                    if far
                    else ""
                )
            )
        return out

    return texts


def request_type(value: str) -> str | None:
    """Return the canonical request type (Art. 2) of a ``tipo`` cell.

    Parameters
    ----------
    value : str
        The ``tipo`` of a request or of a benefit in the history
        (:data:`TIPOS` or one of their other spellings).

    Returns
    -------
    str or None
        The type, ``""`` when blank, ``None`` when unknown.
    """
    return category(value, TIPOS, TIPO_ALIASES)
