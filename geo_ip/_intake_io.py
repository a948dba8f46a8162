"""Reading of the requests spreadsheet (``pedidos``); private helper of :mod:`geo_ip.intake`.

Every supported format (CSV, XLSX, GeoJSON, GeoPackage) is turned into the same
table: one row per data row of the file, every value as a stripped string, the
headers mapped onto the canonical column names, and ``linha`` = the row number a
clerk sees in the spreadsheet.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time
from numbers import Integral
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import shapely

from geo_ip.errors import RequestsFileError

log = logging.getLogger("geo_ip")

REQUIRED = ("protocolo", "data_protocolo", "tipo")
"""Columns every requests file must have (plus a location, see :data:`LOCATION`)."""
LOCATION = ("latitude", "longitude", "endereco")
"""Location columns: ``latitude`` + ``longitude`` or ``endereco`` (or all three)."""
OPTIONAL = (
    "numero", "bairro", "cep", "residencias", "moradores", "cadunico", "renda_familiar",
    "uso_imovel", "mei", "cpf_solicitante", "nome_solicitante", "beneficio_anterior_data",
    "beneficio_anterior_justificativa", "estrategico", "justificativa_estrategica",
    "observacoes",
)  # fmt: skip
"""Optional columns of the requests file."""
CANONICAL = REQUIRED + LOCATION + OPTIONAL
READ_PROBLEMS = "problemas_leitura"
"""Column holding problems found while reading a row (e.g. more cells than the header)."""
RESERVED = ("linha", "situacao", "problemas", "latitude_corrigida", "longitude_corrigida")
"""Names produced by geo_ip; a file column with one of these names gets ``_arquivo`` appended."""

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "protocolo": (
        "no_protocolo", "n_protocolo", "nr_protocolo", "num_protocolo", "numero_protocolo",
        "numero_do_protocolo", "n_do_protocolo", "no_do_protocolo", "protocolo_no",
        "protocolo_n", "cod_protocolo", "codigo_protocolo",
    ),
    "data_protocolo": (
        "data", "data_do_protocolo", "data_de_protocolo", "dt_protocolo", "data_pedido",
        "data_do_pedido", "data_da_solicitacao", "data_solicitacao",
    ),
    "tipo": (
        "tipo_pedido", "tipo_do_pedido", "tipo_de_pedido", "tipo_solicitacao",
        "tipo_de_solicitacao", "tipo_da_solicitacao", "tipo_de_obra",
    ),
    "latitude": ("lat", "latitude_y", "lat_y"),
    "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x"),
    "endereco": ("logradouro", "rua", "endereco_completo", "endereco_do_imovel", "local"),
    "numero": ("no", "n", "num", "nr", "numero_imovel", "numero_do_imovel"),
    "bairro": ("bairro_localidade", "bairro_comunidade", "comunidade"),
    "cep": ("codigo_postal",),
    "residencias": (
        "n_residencias", "no_residencias", "numero_residencias", "numero_de_residencias",
        "qtd_residencias", "qtde_residencias", "quantidade_residencias",
        "quantidade_de_residencias", "domicilios", "n_domicilios", "numero_de_domicilios",
        "casas",
    ),
    "moradores": (
        "n_moradores", "no_moradores", "numero_moradores", "numero_de_moradores",
        "qtd_moradores", "qtde_moradores", "quantidade_moradores", "quantidade_de_moradores",
        "pessoas",
    ),
    "cadunico": ("cad_unico", "cadastro_unico", "inscrito_cadunico", "inscrito_no_cadunico"),
    "renda_familiar": ("renda", "renda_mensal", "renda_familiar_mensal", "renda_total"),
    "uso_imovel": ("uso", "uso_do_imovel", "finalidade", "finalidade_do_imovel"),
    "mei": ("e_mei", "microempreendedor_individual"),
    "cpf_solicitante": ("cpf", "cpf_do_solicitante", "cpf_requerente", "cpf_do_requerente"),
    "nome_solicitante": (
        "nome", "nome_do_solicitante", "solicitante", "requerente", "nome_requerente",
        "nome_do_requerente",
    ),
    "beneficio_anterior_data": ("data_beneficio_anterior", "data_do_beneficio_anterior"),
    "beneficio_anterior_justificativa": (
        "justificativa_beneficio_anterior", "justificativa_do_beneficio_anterior",
    ),
    "estrategico": ("interesse_estrategico", "pedido_estrategico", "e_estrategico"),
    "justificativa_estrategica": (
        "justificativa_estrategico", "justificativa_interesse_estrategico",
        "justificativa_do_interesse_estrategico",
    ),
    "observacoes": ("observacao", "obs", "observacoes_gerais"),
}  # fmt: skip
_ALIASES = {alias: name for name, aliases in _SYNONYMS.items() for alias in (name, *aliases)}
_HEADER_SEARCH_ROWS = 30
"""How many rows to search for the header (title rows above it are tolerated)."""
_DELIMITERS = (";", ",", "\t", "|")
_ENCODINGS = ("utf-8-sig", "cp1252")
"""UTF-8 (with or without BOM), then Windows-1252 (superset of Latin-1 for text)."""

Record = tuple[int, list[str]]
"""A row of the file: (line number seen by the clerk, cells as text)."""


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
        Stripped text; integral floats lose their ``.0``, dates are ISO, missing is ``""``.
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


def _is_header(cells: Sequence[str]) -> bool:
    return any(_ALIASES.get(slug(c)) == "protocolo" for c in cells)


def _find_header(records: Sequence[Record]) -> int | None:
    """Index in ``records`` of the header row (the first one naming ``protocolo``)."""
    for i, (_, cells) in enumerate(records[:_HEADER_SEARCH_ROWS]):
        if _is_header(cells):
            return i
    return None


def normalise_headers(headers: Sequence[str]) -> list[str]:
    """Map file headers onto canonical column names.

    Exact canonical names win over synonyms; the first column wins when two map
    to the same name. Unknown headers keep their slug (``coluna_N`` when blank),
    made unique; a header equal to a name produced by geo_ip gets ``_arquivo``.

    Parameters
    ----------
    headers : sequence of str
        Header cells as read.

    Returns
    -------
    list of str
        One unique column name per header.
    """
    slugs = [slug(h) for h in headers]
    names: list[str | None] = [None] * len(slugs)
    taken: set[str] = set()
    for exact in (True, False):
        for i, s in enumerate(slugs):
            target = s if exact else _ALIASES.get(s)
            if names[i] is None and target in CANONICAL and target not in taken:
                names[i] = target
                taken.add(target)
    taken.update(RESERVED)
    taken.add(READ_PROBLEMS)
    result = []
    for i, s in enumerate(slugs):
        name = names[i]
        if name is None:
            base = s or f"coluna_{i + 1}"
            if base in taken:
                base = f"{base}_arquivo"
            name, k = base, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
        result.append(name)
    return result


def _missing_columns(found: Sequence[str], names: Sequence[str], path: Path) -> None:
    listing = ", ".join(f"'{h}'" for h in found if h) or "nenhuma"
    for column in REQUIRED:
        if column not in names:
            raise RequestsFileError(
                f"coluna obrigatória '{column}' não encontrada; colunas encontradas: {listing}",
                path=path,
                field=column,
            )
    if not ({"latitude", "longitude"} <= set(names) or "endereco" in names):
        raise RequestsFileError(
            "faltam as colunas de localização: 'latitude' e 'longitude', ou 'endereco'; "
            f"colunas encontradas: {listing}",
            path=path,
            field="latitude",
        )


def _table(header: Sequence[str], rows: Sequence[Record], path: Path) -> pd.DataFrame:
    """Build the string table from a header and data records; skip blank rows."""
    names = normalise_headers(header)
    _missing_columns(header, names, path)
    width = len(names)
    lines, data, notes = [], [], []
    for line, cells in rows:
        if not any(cells):
            continue
        extra = [c for c in cells[width:] if c]
        note = ""
        if extra:
            n_cells = width + len(extra)
            note = (
                f"linha com {n_cells} células e cabeçalho com {width} colunas "
                "(vírgula ou ponto e vírgula sem aspas no texto?); valores deslocados"
            )
        lines.append(line)
        data.append((list(cells[:width]) + [""] * width)[:width])
        notes.append(note)
    frame = pd.DataFrame(data, columns=names, dtype=str) if data else None
    if frame is None:
        frame = pd.DataFrame({name: pd.Series([], dtype=str) for name in names})
    # Drop unnamed columns that hold no value at all.
    blank = [n for n, h in zip(names, header, strict=True) if not h and not frame[n].any()]
    frame = frame.drop(columns=blank)
    frame.insert(0, "linha", pd.Series(lines, dtype="int64"))
    if any(notes):
        frame[READ_PROBLEMS] = pd.Series(notes, dtype=str)
    return frame


# --- CSV ------------------------------------------------------------------------------------


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw:
        raise RequestsFileError(
            "o arquivo não é um texto CSV (contém bytes nulos: UTF-16 ou planilha com a "
            "extensão errada?); salve como CSV UTF-8 ou .xlsx",
            path=path,
        )
    for encoding in _ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        log.debug("arquivo '%s' lido como %s", path, encoding)
        return text
    raise RequestsFileError(
        "codificação de caracteres não reconhecida (bytes inválidos); salve o CSV em UTF-8 "
        "ou Latin-1 (Windows-1252)",
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


def _sniff(text: str) -> str:
    """Choose the delimiter that splits the header row into the most named cells."""

    def score(delimiter: str) -> tuple[int, int]:
        records = _parse_csv(text, delimiter, _HEADER_SEARCH_ROWS)
        at = _find_header(records)
        if at is None:
            return (0, len(records[0][1]) if records else 0)
        return (1, sum(1 for c in records[at][1] if c))

    return max(_DELIMITERS, key=score)


def _read_csv(path: Path, raw: bytes) -> pd.DataFrame:
    text = _decode(raw, path)
    delimiter = _sniff(text)
    try:
        records = _parse_csv(text, delimiter)
    except csv.Error as exc:
        raise RequestsFileError(f"CSV malformado ({exc})", path=path) from exc
    return _from_records(records, path)


def _from_records(records: list[Record], path: Path) -> pd.DataFrame:
    at = _find_header(records)
    if at is None:
        first = next((cells for _, cells in records if any(cells)), [])
        _missing_columns(first, normalise_headers(first), path)
        raise AssertionError("unreachable")  # pragma: no cover
    return _table(records[at][1], records[at + 1 :], path)


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> pd.DataFrame:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, styles...).
            warnings.simplefilter("ignore", UserWarning)
            book = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RequestsFileError(
            f"planilha XLSX corrompida ou ilegível ({type(exc).__name__}: {exc})", path=path
        ) from exc
    chosen = None
    for sheet in book.worksheets:
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        records = [(i, [cell_text(v) for v in row]) for i, row in enumerate(rows, start=1)]
        if chosen is None:
            chosen = (sheet, records)
        if _find_header(records) is not None:
            chosen = (sheet, records)
            break
    if chosen is None or not any(any(cells) for _, cells in chosen[1]):
        raise RequestsFileError("planilha vazia", path=path)
    sheet, records = chosen
    at = _find_header(records)
    if at is None:
        return _from_records(records, path)
    first_row = records[at][0]
    last_row = _header_end(sheet, records, first_row)
    width = max(len(cells) for _, cells in records)
    header = []
    for col in range(width):
        cells = [records[r - 1][1][col] for r in range(first_row, last_row + 1)]
        named = [c for c in cells if c]
        header.append(named[-1] if named else "")
    data = [(line, cells) for line, cells in records if line > last_row]
    frame = _table(header, data, path)
    # Unnamed columns are named by their sheet letter, as the clerk sees them.
    renames = {f"coluna_{i + 1}": f"coluna_{get_column_letter(i + 1)}" for i in range(width)}
    return frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})


def _header_end(sheet: Any, records: Sequence[Record], first_row: int) -> int:
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
                if any(slug(c) in _ALIASES for c in cells):
                    last, changed = below, True
                    break
    return last


# --- GeoJSON / GeoPackage -------------------------------------------------------------------


def _read_geo(path: Path) -> pd.DataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise RequestsFileError(f"arquivo geográfico ilegível ({exc})", path=path) from exc
    if len(layers) == 0:
        raise RequestsFileError("o arquivo não tem camadas", path=path)
    names = [str(n) for n in layers[:, 0]]
    points = [str(n) for n, g in layers if g is not None and "point" in str(g).lower()]
    layer = next((n for n in names if slug(n) == "pedidos"), points[0] if points else names[0])
    if len(names) > 1:
        log.info("arquivo '%s': usando a camada '%s' de %d", path, layer, len(names))
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise RequestsFileError(f"camada '{layer}' ilegível ({exc})", path=path) from exc
    if gdf.crs is None:
        raise RequestsFileError(
            "o arquivo não tem sistema de coordenadas (CRS); grave-o com o CRS definido "
            "(ex.: EPSG:4674, SIRGAS 2000)",
            path=path,
        )
    geoms = gdf.geometry.array
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    kinds = shapely.get_type_id(geoms)
    bad = ~missing & ~(((kinds == 0) | (kinds == 4)) & single)
    if bad.any():
        first = int(bad.argmax())
        raise RequestsFileError(
            f"os pedidos devem ser pontos; a feição {first + 1} é {geoms[first].geom_type}",
            path=path,
        )
    points_4326 = gdf.set_geometry(shapely.get_geometry(geoms, 0)).to_crs("EPSG:4326")
    xs = shapely.get_x(points_4326.geometry.array)
    ys = shapely.get_y(points_4326.geometry.array)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    header = [str(c) for c in attrs.columns]
    is_gpkg = path.suffix.lower() == ".gpkg"
    lines = [int(i) for i in gdf.index] if is_gpkg else list(range(1, len(gdf) + 1))
    records: list[Record] = [
        (line, [cell_text(v) for v in row])
        for line, row in zip(lines, attrs.itertuples(index=False, name=None), strict=True)
    ]
    names = normalise_headers(header)
    for column in ("latitude", "longitude"):
        if column not in names:
            header.append(column)
            names.append(column)
            records = [(line, [*cells, ""]) for line, cells in records]
    lat_at, lon_at = names.index("latitude"), names.index("longitude")
    for k, (_, cells) in enumerate(records):
        if not missing[k]:
            cells[lat_at], cells[lon_at] = f"{ys[k]:.7f}", f"{xs[k]:.7f}"
    return _table(header, records, path)


# --- entry point ----------------------------------------------------------------------------

_UNSUPPORTED = {
    ".xls": "formato .xls (Excel 97-2003) não suportado: salve a planilha como .xlsx ou CSV",
    ".ods": "formato .ods não suportado: salve a planilha como .xlsx ou CSV",
}


def read_table(path: Path) -> pd.DataFrame:
    """Read a requests file of any supported format into a string table.

    Parameters
    ----------
    path : Path
        CSV, XLSX, GeoJSON or GeoPackage file.

    Returns
    -------
    pandas.DataFrame
        ``linha`` plus one string column per file column (canonical names).

    Raises
    ------
    RequestsFileError
        Missing, empty, unreadable or undecodable file; missing required column.
    """
    if not path.is_file():
        raise RequestsFileError("arquivo de pedidos não encontrado", path=path)
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise RequestsFileError(_UNSUPPORTED[suffix], path=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise RequestsFileError("arquivo vazio", path=path)
    if raw.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb") or raw.startswith(
        (b"SQLite format 3\x00", b"{")
    ):
        return _read_geo(path)
    return _read_csv(path, raw)
