"""Occurrences file (accidents, police records, complaints): reading and checking.

Private helper of :mod:`geo_ip.context`, which re-exports :func:`read_occurrences`
and :func:`occurrences_report`. The file is a table of points (CSV with
``latitude``/``longitude``, XLSX, GeoJSON or GeoPackage) with a date (``data``) and a
type (``tipo``) per row. No row is dropped: a row whose date or coordinates cannot be
used stays in the returned table with ``situacao = "erro"`` and a Portuguese reason
naming its row and field, and is left out of every count.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import warnings
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from geo_ip._intake_io import cell_text, slug
from geo_ip.errors import InputFileError
from geo_ip.intake import _parse_dates

log = logging.getLogger("geo_ip")

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
_ALIASES = {alias: name for name, aliases in _SYNONYMS.items() for alias in (name, *aliases)}
_HEADER_SEARCH_ROWS = 30
_DELIMITERS = (";", ",", "\t", "|")
_ENCODINGS = ("utf-8-sig", "cp1252")
_UNSUPPORTED = {
    ".xls": "formato .xls (Excel 97-2003) não suportado: salve a planilha como .xlsx ou CSV",
    ".ods": "formato .ods não suportado: salve a planilha como .xlsx ou CSV",
}
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")

Record = tuple[int, list[str]]
"""A row of the file: (line number a clerk sees, cells as text)."""


# --- raw reading ---------------------------------------------------------------------------


def _names(cells: Sequence[str]) -> list[str | None]:
    """Canonical name of each header cell (None when not one of ours); first one wins."""
    out: list[str | None] = []
    taken: set[str] = set()
    for cell in cells:
        name = _ALIASES.get(slug(cell))
        if name in taken:
            name = None
        if name is not None:
            taken.add(name)
        out.append(name)
    return out


def _header_score(cells: Sequence[str]) -> int:
    names = {n for n in _names(cells) if n}
    return 10 * len(names & {"data", "tipo"}) + len(names)


def _find_header(records: Sequence[Record]) -> int | None:
    """Index of the first row naming both ``data`` and ``tipo`` (title rows tolerated)."""
    for i, (_, cells) in enumerate(records[:_HEADER_SEARCH_ROWS]):
        if _header_score(cells) >= 20:
            return i
    return None


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw:
        raise InputFileError(
            "o arquivo de ocorrências não é um texto CSV (contém bytes nulos: UTF-16 ou "
            "planilha com a extensão errada?); salve como CSV UTF-8 ou .xlsx",
            path=path,
        )
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(  # pragma: no cover - cp1252 decodes almost anything
        "codificação de caracteres não reconhecida no arquivo de ocorrências; salve o CSV "
        "em UTF-8 ou Latin-1 (Windows-1252)",
        path=path,
    )


def _parse_csv(text: str, delimiter: str, limit: int | None = None) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    for line, cells in enumerate(reader, start=1):
        records.append((line, [c.strip() for c in cells]))
        if limit is not None and line >= limit:
            break
    return records


def _read_csv(path: Path, raw: bytes) -> list[Record]:
    text = _decode(raw, path)

    def score(delimiter: str) -> tuple[int, int]:
        records = _parse_csv(text, delimiter, _HEADER_SEARCH_ROWS)
        at = _find_header(records)
        if at is None:
            first = next((cells for _, cells in records if any(cells)), [])
            return (0, len(first))
        return (1, _header_score(records[at][1]))

    delimiter = max(_DELIMITERS, key=score)
    try:
        return _parse_csv(text, delimiter)
    except csv.Error as exc:
        raise InputFileError(f"CSV de ocorrências malformado ({exc})", path=path) from exc


def _read_xlsx(path: Path) -> list[Record]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            book = load_workbook(path, data_only=True, read_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputFileError(
            f"planilha XLSX de ocorrências corrompida ou ilegível ({type(exc).__name__}: {exc})",
            path=path,
        ) from exc
    try:
        chosen: list[Record] | None = None
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            records = [(i, [cell_text(v) for v in row]) for i, row in enumerate(rows, start=1)]
            if chosen is None:
                chosen = records
            if _find_header(records) is not None:
                return records
        return chosen or []
    finally:
        book.close()


def _read_geo(path: Path) -> tuple[list[str], list[Record], np.ndarray, np.ndarray, np.ndarray]:
    """Attributes as records plus longitude, latitude (EPSG:4326) and a geometry problem."""
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(
            f"arquivo geográfico de ocorrências ilegível ({exc})", path=path
        ) from exc
    if len(layers) == 0:
        raise InputFileError("o arquivo de ocorrências não tem camadas", path=path)
    names = [str(n) for n in layers[:, 0]]
    points = [str(n) for n, g in layers if g is not None and "point" in str(g).lower()]
    layer = next((n for n in names if slug(n) == "ocorrencias"), points[0] if points else names[0])
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFileError(f"camada '{layer}' ilegível ({exc})", path=path) from exc
    if gdf.crs is None:
        raise InputFileError(
            "o arquivo de ocorrências não tem sistema de coordenadas (CRS); grave-o com o CRS "
            "definido (ex.: EPSG:4674, SIRGAS 2000)",
            path=path,
        )
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    is_point = ~missing & ((kinds == 0) | ((kinds == 4) & single))
    problem = np.where(missing, "sem geometria", np.where(is_point, "", "não é um ponto"))
    first = shapely.get_geometry(geoms, 0)
    first[~is_point] = None
    lonlat = gpd.GeoSeries(first, crs=gdf.crs).to_crs("EPSG:4326").array
    lon = np.where(is_point, shapely.get_x(lonlat), np.nan)
    lat = np.where(is_point, shapely.get_y(lonlat), np.nan)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    header = [str(c) for c in attrs.columns]
    lines = (
        [int(i) for i in gdf.index]
        if path.suffix.lower() == ".gpkg"
        else list(range(1, len(gdf) + 1))
    )
    records = [
        (line, [cell_text(v) for v in row])
        for line, row in zip(lines, attrs.itertuples(index=False, name=None), strict=True)
    ]
    return header, records, lon, lat, problem


# --- checking ------------------------------------------------------------------------------


def _column(header: Sequence[str], records: Sequence[Record], name: str) -> pd.Series:
    names = _names(header)
    if name not in names:
        return pd.Series([""] * len(records), dtype=str)
    at = names.index(name)
    return pd.Series([cells[at] if at < len(cells) else "" for _, cells in records], dtype=str)


def _missing(header: Sequence[str], needed: Sequence[str], path: Path) -> None:
    names = _names(header)
    listing = ", ".join(f"'{h}'" for h in header if h) or "nenhuma"
    for column in needed:
        if column not in names:
            raise InputFileError(
                f"coluna obrigatória '{column}' não encontrada no arquivo de ocorrências; "
                f"colunas encontradas: {listing}",
                path=path,
                field=column,
            )


def _number(text: pd.Series) -> pd.Series:
    """Coordinates written with a decimal comma or point (no thousands separator)."""
    s = text.str.replace("\u2212", "-", regex=False).str.replace(r"\s", "", regex=True)
    s = s.str.replace(",", ".", regex=False)
    ok = s.str.fullmatch(r"[-+]?(?:\d+\.?\d*|\.\d+)")
    return pd.to_numeric(s.where(ok), errors="coerce").astype("float64")


def _quoted(text: pd.Series) -> pd.Series:
    return "('" + text.str.slice(0, 60) + "')"


def _coordinate_problems(text: pd.Series, values: pd.Series, field: str, limit: float) -> pd.Series:
    blank = text == ""
    bad = ~blank & values.isna()
    out_of_range = values.abs() > limit
    projected = np.where(
        values.abs() > 1000, "; parece coordenada projetada (UTM): informe graus decimais", ""
    )
    msg = pd.Series("", index=text.index, dtype=str)
    msg = msg.mask(blank, f"campo '{field}': vazio")
    msg = msg.mask(bad, f"campo '{field}': não é uma coordenada válida " + _quoted(text))
    msg = msg.mask(
        out_of_range.to_numpy(dtype=bool),
        f"campo '{field}': fora do intervalo válido (-{limit:g} a {limit:g}) "
        + _quoted(text)
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
    if not path.is_file():
        raise InputFileError("arquivo de ocorrências não encontrado", path=path)
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise InputFileError(_UNSUPPORTED[suffix], path=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError("arquivo de ocorrências vazio", path=path)

    geo_problem: np.ndarray | None = None
    if suffix in _GEO_SUFFIXES or raw.startswith((b"SQLite format 3\x00", b"{")):
        header, records, lon_geo, lat_geo, geo_problem = _read_geo(path)
        _missing(header, ("data", "tipo"), path)
    else:
        is_xlsx = raw.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm")
        rows = _read_xlsx(path) if is_xlsx else _read_csv(path, raw)
        at = _find_header(rows)
        if at is None:
            first = next((cells for _, cells in rows if any(cells)), [])
            _missing(first, ("data", "tipo", "latitude", "longitude"), path)
            raise AssertionError("unreachable")  # pragma: no cover
        header = rows[at][1]
        _missing(header, ("data", "tipo", "latitude", "longitude"), path)
        records = [(line, cells) for line, cells in rows[at + 1 :] if any(cells)]
    if not records:
        raise InputFileError(
            "o arquivo de ocorrências não tem nenhuma linha de dados (só o cabeçalho)", path=path
        )

    n = len(records)
    lines = pd.Series([line for line, _ in records], dtype="int64")
    where = "linha " + lines.astype(str) + ", "
    problems: list[pd.Series] = []

    date_text = _column(header, records, "data")
    dates, status = _parse_dates(date_text, today)
    date_msg = pd.Series("", index=date_text.index, dtype=str)
    date_msg = date_msg.mask(status == "vazio", "campo 'data': vazio")
    date_msg = date_msg.mask(
        status == "formato",
        "campo 'data': data em formato não reconhecido "
        + _quoted(date_text)
        + "; use dd/mm/aaaa ou aaaa-mm-dd",
    )
    date_msg = date_msg.mask(
        status == "inexistente", "campo 'data': data inexistente " + _quoted(date_text)
    )
    problems.append(date_msg)

    if geo_problem is None:
        lat_text = _column(header, records, "latitude")
        lon_text = _column(header, records, "longitude")
        lat, lon = _number(lat_text), _number(lon_text)
        problems.append(_coordinate_problems(lat_text, lat, "latitude", 90))
        problems.append(_coordinate_problems(lon_text, lon, "longitude", 180))
    else:
        lat, lon = pd.Series(lat_geo, dtype="float64"), pd.Series(lon_geo, dtype="float64")
        problems.append(
            pd.Series([f"campo 'geometria': {p}" if p else "" for p in geo_problem], dtype=str)
        )
    error_text = _join(problems)
    error = error_text != ""

    type_text = _column(header, records, "tipo")
    types = pd.Series([normalise_type(t) for t in type_text], dtype=str)
    warn = pd.Series("", index=type_text.index, dtype=str)
    warn = warn.mask(type_text == "", f"aviso: campo 'tipo': vazio; contada como '{UNKNOWN_TYPE}'")
    unknown = (type_text != "") & ~types.isin(OCCURRENCE_TYPES)
    warn = warn.mask(
        unknown,
        "aviso: campo 'tipo': tipo não reconhecido "
        + _quoted(type_text)
        + "; mantido como '"
        + types
        + "' (tipos conhecidos: "
        + ", ".join(OCCURRENCE_TYPES)
        + ")",
    )
    motivo = _join([error_text, warn])
    motivo = motivo.where(motivo == "", where + motivo)
    situacao = np.where(error, "erro", np.where(warn != "", "aviso", "ok"))

    valid = ~error.to_numpy()
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if valid.any():
        to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x[valid], y[valid] = to_crs.transform(lon.to_numpy()[valid], lat.to_numpy()[valid])
    geometry = np.full(n, None, dtype=object)
    geometry[valid] = shapely.points(x[valid], y[valid])
    table = gpd.GeoDataFrame(
        {
            "linha": lines,
            "data": pd.Series(dates.to_numpy(), dtype="object"),
            "tipo": types,
            "tipo_informado": type_text,
            "descricao": _column(header, records, "descricao"),
            "latitude": lat,
            "longitude": lon,
            "situacao": pd.Series(situacao, dtype=str),
            "motivo": motivo,
        },
        geometry=gpd.GeoSeries(geometry, crs=crs),
    )
    counts = table["situacao"].value_counts()
    log.info(
        "arquivo '%s': %d ocorrência(s): %d ok, %d com aviso, %d com erro (fora das contagens)",
        path,
        n,
        counts.get("ok", 0),
        counts.get("aviso", 0),
        counts.get("erro", 0),
    )
    return table


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
        + f", campo 'data': fora do período considerado ({start.isoformat()} a "
        f"{reference_date.isoformat()})"
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
