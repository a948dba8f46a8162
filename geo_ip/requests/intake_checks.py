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
    "date_checks",
    "fmt",
    "iso",
    "location_checks",
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

    def add(self, mask: object, level: str, message: str | Sequence[str] | pd.Series) -> None:
        """Add ``message`` (one text, or one per row) at ``level`` to the rows in ``mask``."""
        if isinstance(mask, pd.Series):
            mask = mask.to_numpy(dtype=bool, na_value=False)
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if isinstance(message, str):
            for i in rows:
                self.items[i].append((level, message))
        else:
            # a numpy copy: iterating Arrow-backed strings one by one is slow
            texts = np.asarray(
                message.to_numpy(dtype=object) if isinstance(message, pd.Series) else message,
                dtype=object,
            )
            for i in rows:
                self.items[i].append((level, str(texts[i])))

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
    dates, status = parse_dates(text, today)
    blank = "obrigatório, está vazio" if required else ""
    messages = date_problems(text, status, field, blank=blank, hint=" (formato dd/mm/aaaa)")
    problems.add(messages != "", "erro", messages)
    shown = smap(dates, iso)
    future = smap(dates, lambda d: d is not None and d > today, bool)
    problems.add(future, "erro", f"campo '{field}': data futura (" + shown + ")")
    return dates


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


def _coordinate(problems: Problems, text: pd.Series, field: str) -> pd.Series:
    values = to_number(text, thousands=False)
    values = values.where(np.isfinite(values))
    pending = (text != "") & values.isna()
    dms = pd.Series(np.nan, index=text.index)
    if pending.any():
        dms[pending] = smap(text[pending], _parse_dms, "float64")
    converted = pending & dms.notna()
    problems.add(
        pending & ~converted,
        "erro",
        f"campo '{field}': não é uma coordenada válida " + quoted(text),
    )
    shown = smap(dms, fmt)
    problems.add(
        converted,
        "aviso",
        f"campo '{field}': coordenada em graus, minutos e segundos ("
        + text
        + ") convertida para "
        + shown,
    )
    return values.fillna(dms)


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
    has = (lat.notna() & lon.notna()).to_numpy()
    la, lo = lat.to_numpy(), lon.to_numpy()
    out_of_range = has & ((np.abs(la) > 90) | (np.abs(lo) > 180))
    fix = (np.full(len(la), np.nan), np.full(len(la), np.nan))
    pair = "(" + smap(lat, fmt) + ", " + smap(lon, fmt) + ")"
    if boundary is not None:
        _municipality_checks(problems, (lat, lon, pair), has, out_of_range, boundary, fix)
    else:
        _brazil_checks(problems, (lat, lon, pair), has, out_of_range, fix)
    return lat, lon, pd.Series(fix[0]), pd.Series(fix[1])


_WHERE = "campos 'latitude'/'longitude': "
_SUGGESTION = "; sugestão em latitude_corrigida/longitude_corrigida"


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
    points: tuple[pd.Series, pd.Series, pd.Series],
    has: np.ndarray,
    out_of_range: np.ndarray,
    boundary: shapely.Geometry,
    fix: tuple[np.ndarray, np.ndarray],
) -> None:
    """Points outside the municipality; swapped or unsigned ones get a ``fix`` (lat, lon)."""
    lat, lon, pair = points
    la, lo = lat.to_numpy(), lon.to_numpy()
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
    problems.add(
        swapped,
        "erro",
        _WHERE + "latitude e longitude trocadas? o ponto " + pair + " fica fora do "
        "município e, invertido, dentro" + _SUGGESTION,
    )
    problems.add(
        unsigned,
        "erro",
        _WHERE + "sinal negativo ausente? o ponto " + pair + " fica fora do município e, "
        "com o sinal corrigido, dentro" + _SUGGESTION,
    )
    problems.add(outside & out_of_range, "erro", _range_message(lat, lon))
    problems.add(outside & ~out_of_range, "erro", _WHERE + "ponto " + pair + " fora do município")


def _brazil_checks(
    problems: Problems,
    points: tuple[pd.Series, pd.Series, pd.Series],
    has: np.ndarray,
    out_of_range: np.ndarray,
    fix: tuple[np.ndarray, np.ndarray],
) -> None:
    """Points out of range or outside Brazil; swapped ones get a ``fix`` (lat, lon)."""
    lat, lon, pair = points
    la, lo = lat.to_numpy(), lon.to_numpy()
    fix_lat, fix_lon = fix
    lat_br = (la >= BRAZIL_LAT[0]) & (la <= BRAZIL_LAT[1])
    lon_as_lat = (lo >= BRAZIL_LAT[0]) & (lo <= BRAZIL_LAT[1])
    swapped = has & ~lat_br & lon_as_lat & (np.abs(la) <= 180)
    fix_lat[swapped], fix_lon[swapped] = lo[swapped], la[swapped]
    problems.add(
        swapped,
        "erro",
        _WHERE
        + "latitude e longitude trocadas? a latitude "
        + smap(lat, fmt)
        + " está fora do Brasil e a longitude "
        + smap(lon, fmt)
        + " parece uma latitude"
        + _SUGGESTION,
    )
    problems.add(out_of_range & ~swapped, "erro", _range_message(lat, lon))
    lon_br = (lo >= BRAZIL_LON[0]) & (lo <= BRAZIL_LON[1])
    abroad = has & ~swapped & ~out_of_range & ~(lat_br & lon_br)
    problems.add(abroad, "aviso", _WHERE + "ponto " + pair + " fora do Brasil")


def _range_message(lat: pd.Series, lon: pd.Series) -> pd.Series:
    bad_lat = lat.abs() > 90
    field = np.where(bad_lat, "latitude", "longitude")
    value = np.where(bad_lat, smap(lat, fmt), smap(lon, fmt))
    limit = np.where(bad_lat, "-90 a 90", "-180 a 180")
    projected = np.where(
        np.maximum(lat.abs(), lon.abs()) > 1000,
        "; parece coordenada projetada em metros (UTM): informe graus decimais",
        "",
    )
    parts = [pd.Series(a, index=lat.index, dtype=str) for a in (field, limit, value, projected)]
    return (
        "campo '"
        + parts[0]
        + "': fora do intervalo válido ("
        + parts[1]
        + "): "
        + parts[2]
        + parts[3]
    )


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
