"""Occurrences file (accidents, police records, complaints): reading and checking.

Private helper of :mod:`geo_ip.evidence.context`, which re-exports :func:`read_occurrences`
and :func:`occurrences_report`. The file is a table of points (CSV with
``latitude``/``longitude``, XLSX, GeoJSON or GeoPackage) with a date (``data``) and a
type (``tipo``) per row. No row is dropped: a row whose date or coordinates cannot be
used stays in the returned table with ``situacao = "erro"`` and a Portuguese reason
naming its row and field, and is left out of every count.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_ip._util.parse import date_problems, parse_dates, quoted, slug, to_number
from geo_ip.errors import InputFileError
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import GEOMETRY_PROBLEM, Schema, aliases_of

log = logging.getLogger(__name__)

OCCURRENCE_TYPES = ("acidente", "ocorrencia_policial", "reclamacao")
"""Canonical occurrence types (Art. 9 §5, I and II). Other values are kept as their slug."""
UNKNOWN_TYPE = "nao_informado"
"""Type given to a row whose ``tipo`` is blank (the row still counts)."""
OCCURRENCE_COLUMNS = (
    "linha", "data", "tipo", "tipo_informado", "descricao", "latitude", "longitude",
    "situacao", "motivo", "geometry",
)  # fmt: skip
"""Columns of the table returned by :func:`read_occurrences`, in order."""

# Words (slug tokens) that identify a type; the first family with a match wins, in this
# order, so "ocorrência de acidente" is an accident and "denúncia de furto" a police record.
_TYPE_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "acidente",
        frozenset({
            "acidente", "acidentes", "sinistro", "sinistros", "colisao", "colisoes",
            "atropelamento", "atropelamentos", "abalroamento", "capotamento", "capotagem",
            "choque", "engavetamento", "transito", "queda",
        }),
    ),
    (
        "ocorrencia_policial",
        frozenset({
            "policial", "policia", "boletim", "bo", "reds", "furto", "furtos", "roubo",
            "roubos", "assalto", "assaltos", "crime", "crimes", "criminal", "violencia",
            "agressao", "lesao", "homicidio", "latrocinio", "trafico", "vandalismo",
            "depredacao", "arrombamento", "ameaca", "estupro", "importunacao",
        }),
    ),
    (
        "reclamacao",
        frozenset({
            "reclamacao", "reclamacoes", "relato", "relatos", "denuncia", "denuncias",
            "queixa", "queixas", "inseguranca", "manifestacao", "ouvidoria", "solicitacao",
            "sugestao", "escuro", "escuridao",
        }),
    ),
)  # fmt: skip
_WEAK_TYPE_WORDS = {"ocorrencia": "ocorrencia_policial", "ocorrencias": "ocorrencia_policial"}
"""Words that decide the type only when no word of :data:`_TYPE_WORDS` matched."""

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "data": (
        "data_ocorrencia", "data_da_ocorrencia", "data_do_fato", "data_fato", "dt",
        "dt_ocorrencia", "data_registro", "data_do_registro", "data_evento", "dia",
        "data_hora", "data_e_hora",
    ),
    "tipo": (
        "tipo_ocorrencia", "tipo_da_ocorrencia", "tipo_de_ocorrencia", "natureza",
        "natureza_ocorrencia", "natureza_da_ocorrencia", "categoria", "classificacao",
    ),
    "descricao": (
        "descricao_ocorrencia", "descricao_da_ocorrencia", "historico", "observacao",
        "observacoes", "obs", "detalhe", "detalhes", "relato",
    ),
    "latitude": ("lat", "latitude_y", "lat_y"),
    "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x"),
}  # fmt: skip
_SCHEMA = Schema(
    what="arquivo de ocorrências",
    aliases=aliases_of(_SYNONYMS),
    required=("data", "tipo", "latitude", "longitude"),
    key=("data", "tipo"),
    of=" de ocorrências",
    layer="ocorrencias",
)


def _coordinate_problems(text: pd.Series, values: pd.Series, field: str, limit: float) -> pd.Series:
    blank = text == ""
    bad = ~blank & values.isna()
    out_of_range = values.abs() > limit
    projected = np.where(
        values.abs() > 1000, "; parece coordenada projetada (UTM): informe graus decimais", ""
    )
    msg = pd.Series("", index=text.index, dtype=str)
    msg = msg.mask(blank, f"campo '{field}': vazio")
    msg = msg.mask(bad, f"campo '{field}': não é uma coordenada válida " + quoted(text))
    msg = msg.mask(
        out_of_range.to_numpy(dtype=bool),
        f"campo '{field}': fora do intervalo válido (-{limit:g} a {limit:g}) "
        + quoted(text)
        + pd.Series(projected, index=text.index, dtype=str),
    )
    return msg


def normalise_type(text: str) -> str:
    """Map a free-text occurrence type onto :data:`OCCURRENCE_TYPES` when possible.

    Parameters
    ----------
    text : str
        The ``tipo`` cell, e.g. ``"Acidente de trânsito"``, ``"BO - furto"``.

    Returns
    -------
    str
        ``"acidente"``, ``"ocorrencia_policial"`` or ``"reclamacao"`` when a known word
        occurs (accident words first, then police words, then complaint words); else
        the slug of the text; :data:`UNKNOWN_TYPE` when blank.
    """
    key = slug(text)
    if not key:
        return UNKNOWN_TYPE
    tokens = set(key.split("_"))
    if key in OCCURRENCE_TYPES:
        return key
    for name, words in _TYPE_WORDS:
        if tokens & words:
            return name
    for word, name in _WEAK_TYPE_WORDS.items():
        if word in tokens:
            return name
    return key


def read_occurrences(path: str | Path, crs: str, *, today: date | None = None) -> gpd.GeoDataFrame:
    """Read and check an occurrences file (accidents, police records, complaints).

    Parameters
    ----------
    path : str or Path
        CSV (``,`` ``;`` tab or ``|``; UTF-8 or Latin-1/Windows-1252; decimal comma or
        point; title rows above the header tolerated) or XLSX with columns ``data``,
        ``tipo``, ``latitude``, ``longitude`` and optionally ``descricao`` (accents,
        case and common synonyms of the headers accepted); or a GeoJSON / GeoPackage
        of points (any CRS) with ``data`` and ``tipo``.
    crs : str
        The territory's metric CRS; geometries are returned in it.
    today : date, optional
        Only for two-digit years (``dd/mm/aa``); default: today.

    Returns
    -------
    GeoDataFrame
        One row per data row of the file, in order, with :data:`OCCURRENCE_COLUMNS`:
        ``linha`` (row a clerk sees: header = 1 in a CSV; sheet row in XLSX; feature id
        in GeoPackage, feature number otherwise), ``data`` (``datetime.date`` or None;
        kept on an error row when only its coordinates are wrong),
        ``tipo`` (see :func:`normalise_type`), ``tipo_informado`` (as written),
        ``descricao``, ``latitude``/``longitude`` (EPSG:4326, as read), ``situacao``
        (``"ok"``, ``"aviso"`` — counted, e.g. blank type — or ``"erro"`` — bad date or
        coordinates, never counted), ``motivo`` (every problem of the row, each naming
        the row and the field, joined with ``" | "``) and the point geometry (None on
        error rows). Blank rows are skipped.

    Raises
    ------
    InputFileError
        Missing, empty, unreadable or header-only file; missing required column (the
        message names the file, the column and the columns found).
    """
    path = Path(path)
    today = today or date.today()
    table = read_sheet(path, _SCHEMA)
    if table.empty:
        raise InputFileError(
            "o arquivo de ocorrências não tem nenhuma linha de dados (só o cabeçalho)", path=path
        )

    lines = table["linha"]
    where = "linha " + lines.astype(str) + ", "
    date_text = _column(table, "data")
    dates, status = parse_dates(date_text, today)
    lat, lon, place_problems = _coordinates(table)
    error_text = _join([date_problems(date_text, status, "data", blank="vazio"), *place_problems])
    error = error_text != ""

    type_text = _column(table, "tipo")
    types, warn = _types(type_text)
    motivo = _join([error_text, warn])
    motivo = motivo.where(motivo == "", where + motivo)
    situacao = np.where(error, "erro", np.where(warn != "", "aviso", "ok"))
    out = gpd.GeoDataFrame(
        {
            "linha": lines,
            "data": pd.Series(dates.to_numpy(), dtype="object"),
            "tipo": types,
            "tipo_informado": type_text,
            "descricao": _column(table, "descricao"),
            "latitude": lat,
            "longitude": lon,
            "situacao": pd.Series(situacao, dtype=str),
            "motivo": motivo,
        },
        geometry=gpd.GeoSeries(_points(lat, lon, ~error.to_numpy(), crs), crs=crs),
    )
    _log_counts(path, out)
    return out


def _log_counts(path: Path, occurrences: gpd.GeoDataFrame) -> None:
    """Log how many rows of the file are ok, warned about and refused."""
    counts = occurrences["situacao"].value_counts()
    log.info(
        "arquivo '%s': %d ocorrência(s): %d ok, %d com aviso, %d com erro (fora das contagens)",
        path,
        len(occurrences),
        counts.get("ok", 0),
        counts.get("aviso", 0),
        counts.get("erro", 0),
    )


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of the file's table; blank text when the file has none."""
    return table[name] if name in table.columns else pd.Series([""] * len(table), dtype=str)


def _coordinates(table: pd.DataFrame) -> tuple[pd.Series, pd.Series, list[pd.Series]]:
    """Latitude, longitude and the problems of each row's place (as numbers, NaN if not)."""
    lat_text, lon_text = _column(table, "latitude"), _column(table, "longitude")
    lat, lon = to_number(lat_text, thousands=False), to_number(lon_text, thousands=False)
    if GEOMETRY_PROBLEM in table.columns:  # a point file: the coordinates are the geometry's
        geometry_problem = table[GEOMETRY_PROBLEM]
        problems = [("campo 'geometria': " + geometry_problem).where(geometry_problem != "", "")]
    else:
        problems = [
            _coordinate_problems(lat_text, lat, "latitude", 90),
            _coordinate_problems(lon_text, lon, "longitude", 180),
        ]
    return lat, lon, problems


def _types(type_text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each row's type (:func:`normalise_type`) and its warning (blank or unknown type)."""
    types = pd.Series([normalise_type(t) for t in type_text], dtype=str)
    warn = pd.Series("", index=type_text.index, dtype=str)
    warn = warn.mask(type_text == "", f"aviso: campo 'tipo': vazio; contada como '{UNKNOWN_TYPE}'")
    unknown = (type_text != "") & ~types.isin(OCCURRENCE_TYPES)
    warn = warn.mask(
        unknown,
        "aviso: campo 'tipo': tipo não reconhecido "
        + quoted(type_text)
        + "; mantido como '"
        + types
        + "' (tipos conhecidos: "
        + ", ".join(OCCURRENCE_TYPES)
        + ")",
    )
    return types, warn


def _points(lat: pd.Series, lon: pd.Series, valid: np.ndarray, crs: str) -> np.ndarray:
    """Points in ``crs`` of the ``valid`` rows (``lat``/``lon`` in EPSG:4326), None elsewhere."""
    n = len(valid)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if valid.any():
        to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x[valid], y[valid] = to_crs.transform(lon.to_numpy()[valid], lat.to_numpy()[valid])
    geometry = np.full(n, None, dtype=object)
    geometry[valid] = shapely.points(x[valid], y[valid])
    return geometry


def _join(parts: Sequence[pd.Series]) -> pd.Series:
    frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    return pd.Series(
        [" | ".join(v for v in row if v) for row in frame.itertuples(index=False, name=None)],
        dtype=str,
    )


# --- reference period ----------------------------------------------------------------------


def period_start(reference_date: date, months: float) -> date:
    """First day of the period of ``months`` months that ends on ``reference_date``.

    Parameters
    ----------
    reference_date : date
        Last day of the period (included).
    months : float
        Length of the period. Whole months are calendar months (``2026-03-31`` minus one
        month is ``2026-02-28``); a fractional value counts 365.25 / 12 days a month.

    Returns
    -------
    date
        The first day (included).
    """
    if months < 0 or not math.isfinite(months):
        raise ValueError(f"período de ocorrências inválido: {months!r} meses")
    if float(months).is_integer():
        start = pd.Timestamp(reference_date) - pd.DateOffset(months=int(months))
        return start.date()
    return reference_date - timedelta(days=round(months * 365.25 / 12))


def in_period(dates: pd.Series, reference_date: date, months: float) -> np.ndarray:
    """Whether each date lies in the period ending on ``reference_date`` (both ends included).

    Parameters
    ----------
    dates : pandas.Series
        ``datetime.date`` (or ``datetime``) values; anything else counts as missing.
    reference_date : date
        Last day of the period.
    months : float
        Length of the period (see :func:`period_start`).

    Returns
    -------
    numpy.ndarray of bool
        False for missing dates.
    """
    start = period_start(reference_date, months)
    days = [d.date() if isinstance(d, datetime) else d for d in dates]
    return np.array(
        [isinstance(d, date) and start <= d <= reference_date for d in days], dtype=bool
    )


def occurrences_report(
    occurrences: pd.DataFrame, *, reference_date: date, months: float
) -> pd.DataFrame:
    """Account for every row of an occurrences file against the reference period.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Table from :func:`read_occurrences`.
    reference_date : date
        Last day of the period considered.
    months : float
        Length of the period (rules: ``periodo_ocorrencias_meses``).

    Returns
    -------
    pandas.DataFrame
        ``linha``, ``data`` (ISO text), ``tipo``, ``situacao`` (``ok``, ``aviso``,
        ``erro`` or ``fora_do_periodo``) and ``motivo``; rows in ``ok``/``aviso`` are the
        ones that can be counted near a request.
    """
    start = period_start(reference_date, months)
    report = pd.DataFrame(
        {
            "linha": occurrences["linha"].to_numpy(),
            "data": [d.isoformat() if isinstance(d, date) else "" for d in occurrences["data"]],
            "tipo": occurrences["tipo"].astype(str).to_numpy(),
            "situacao": occurrences["situacao"].astype(str).to_numpy(),
            "motivo": occurrences["motivo"].astype(str).to_numpy(),
        }
    )
    usable = report["situacao"] != "erro"
    outside = usable & ~in_period(occurrences["data"], reference_date, months)
    text = (
        "linha "
        + report["linha"].astype(str)
        + f", campo 'data': fora do período considerado ({start.strftime('%d/%m/%Y')} a "
        f"{reference_date.strftime('%d/%m/%Y')})"
    )
    report.loc[outside, "motivo"] = np.where(
        report.loc[outside, "motivo"] == "",
        text[outside],
        text[outside] + " | " + report.loc[outside, "motivo"],
    )
    report.loc[outside, "situacao"] = "fora_do_periodo"
    return report


__all__: list[str] = [
    "OCCURRENCE_COLUMNS",
    "OCCURRENCE_TYPES",
    "UNKNOWN_TYPE",
    "in_period",
    "normalise_type",
    "occurrences_report",
    "period_start",
    "read_occurrences",
]
