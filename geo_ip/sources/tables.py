"""Tolerant reading of the spreadsheets a municipality sends (private, shared).

:func:`read_sheet` turns a CSV, an XLSX and, for point files, a GeoJSON or GeoPackage
into the same table: one row per data row of the file, every value a stripped string,
the headers mapped onto canonical column names, and ``linha`` = the row a clerk sees
in the spreadsheet. What a file must hold and how the messages name it is a
:class:`Schema`: the requests (:mod:`geo_ip.requests.intake_io`), the commission's decisions
(:mod:`geo_ip.requests.decision_file`), the history of benefits
(:mod:`geo_ip.requests.history_file`) and the occurrences
(:mod:`geo_ip.evidence.occurrences`) each have one.

Tolerated: ``,`` ``;`` tab or ``|`` delimiters; UTF-8 (with or without BOM) or
Windows-1252 (a superset of Latin-1 for text), and a CSV that mixes the two line by line
(each line is read in its own encoding, with a warning naming the Latin-1 lines); title
rows above the header (the header is searched among the top 30 rows); merged header
cells and group titles over sub-headers in XLSX; accents, case, separators and synonyms
in the headers. An XLSX whose contents would expand beyond :data:`XLSX_MAX_EXPANDED`
bytes, or expand more than :data:`XLSX_MAX_RATIO` times, is refused before it is read.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.parse import cell_text, format_number, slug
from geo_ip.errors import InputFileError

__all__ = [
    "GEOMETRY_PROBLEM",
    "HEADER_SEARCH_ROWS",
    "READ_PROBLEMS",
    "Schema",
    "aliases_of",
    "find_header",
    "normalise_headers",
    "read_sheet",
]

log = logging.getLogger(__name__)

READ_PROBLEMS = "problemas_leitura"
"""Column holding problems found while reading a row (e.g. more cells than the header)."""
GEOMETRY_PROBLEM = "problema_geometria"
"""Column of a point file's table: ``""``, ``"sem geometria"`` or ``"não é um ponto"``."""
HEADER_SEARCH_ROWS = 30
"""How many rows to search for the header (title rows above it are tolerated)."""
_DELIMITERS = (";", ",", "\t", "|")
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
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""A multi-byte UTF-8 character: a file that has none is plain Windows-1252."""
_UTF8_LATIN = re.compile(rb"[\xc2\xc3][\x80-\xbf]")
"""UTF-8 of U+0080-U+00FF (accented Latin letters, º, ª): inside a Latin-1 line, a mix."""
_SHOWN_LINES = 10
"""How many line numbers a mixed-encoding warning lists."""
_UNSUPPORTED = {
    ".xls": "formato .xls (Excel 97-2003) não suportado: salve a planilha como .xlsx ou CSV",
    ".ods": "formato .ods não suportado: salve a planilha como .xlsx ou CSV",
}
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
_ALWAYS_RESERVED = ("linha", READ_PROBLEMS, GEOMETRY_PROBLEM)

Record = tuple[int, list[str]]
"""A row of the file: (line number a clerk sees, cells as text)."""
ColumnCheck = Callable[[Collection[str]], tuple[str, str] | None]
"""Extra check on the canonical names found: ``None``, or (message, field) to refuse."""


def aliases_of(synonyms: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Header slug → canonical name, from canonical name → its synonyms.

    Parameters
    ----------
    synonyms : mapping of str to sequence of str
        ``{"protocolo": ("no_protocolo", ...), ...}`` (slugs, see :func:`geo_ip._util.parse.slug`).

    Returns
    -------
    dict of str to str
        Every synonym and every canonical name itself mapped onto the canonical name.
    """
    return {alias: name for name, names in synonyms.items() for alias in (name, *names)}


@dataclass(frozen=True)
class Schema:
    """What a spreadsheet must hold, and how the messages name it.

    Parameters
    ----------
    what : str
        The file, in Portuguese, for "not found": ``"arquivo de pedidos"``.
    aliases : mapping of str to str
        Header slug → canonical column name (:func:`aliases_of`).
    required : sequence of str or tuple of str
        Canonical columns the file must have, checked in order; a tuple is "one of
        them" (``("cpf", "cpf_hash")``).
    key : sequence of str
        Columns the header row must name (besides naming two known columns at least).
    of : str
        Inserted in the format messages to name the file: ``" de ocorrências"`` gives
        ``"arquivo de ocorrências vazio"``, ``"CSV de ocorrências malformado"``...;
        ``""`` gives ``"arquivo vazio"``, ``"CSV malformado"``.
    reserved : sequence of str
        Names geo_ip adds later; a file column with one of them gets ``_arquivo``
        (``linha``, :data:`READ_PROBLEMS` and :data:`GEOMETRY_PROBLEM` always do).
    error : type of InputFileError
        The exception raised.
    layer : str, optional
        Also read GeoJSON / GeoPackage / Shapefile / FlatGeobuf points, preferring the
        layer of this name; ``latitude`` and ``longitude`` (EPSG:4326) come from the
        geometry and :data:`GEOMETRY_PROBLEM` says why they are blank.
    points : str, optional
        With ``layer``: a feature that is not a point is refused with this message
        (``"os pedidos devem ser pontos"``) and the feature number; without it the row
        is kept with ``"não é um ponto"``.
    check : callable, optional
        Run on the canonical names after ``required``; returns ``None`` or
        ``(message, field)`` to refuse the file (the columns found are appended).
    """

    what: str
    aliases: Mapping[str, str]
    required: Sequence[str | tuple[str, ...]] = ()
    key: Sequence[str] = ()
    of: str = ""
    reserved: Sequence[str] = ()
    error: type[InputFileError] = InputFileError
    layer: str | None = None
    points: str | None = None
    check: ColumnCheck | None = None

    def fail(self, message: str, path: Path, field: str | None = None) -> InputFileError:
        """Build the error to raise for ``path``."""
        return self.error(message, path=path, field=field)


# --- header ---------------------------------------------------------------------------------


def _known(cells: Sequence[str], aliases: Mapping[str, str]) -> set[str]:
    return {aliases[s] for s in map(slug, cells) if s in aliases}


def find_header(records: Sequence[Record], schema: Schema) -> int | None:
    """Index in ``records`` of the header row, ``None`` when there is none.

    The header is the first of the top :data:`HEADER_SEARCH_ROWS` rows that names
    at least two known columns, every one of ``schema.key`` among them.

    Parameters
    ----------
    records : sequence of (int, list of str)
        Rows as read.
    schema : Schema
        Known columns (``aliases``) and the ``key`` ones.

    Returns
    -------
    int or None
    """
    for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        known = _known(cells, schema.aliases)
        if len(known) >= 2 and set(schema.key) <= known:
            return i
    return None


def normalise_headers(headers: Sequence[str], schema: Schema) -> list[str]:
    """Map file headers onto canonical column names.

    Exact canonical names win over synonyms; the first column wins when two map
    to the same name. Unknown headers keep their slug (``coluna_N`` when blank); one
    equal to a reserved name or to a name already taken gets ``_arquivo`` (then
    ``_2``, ``_3``... until unique).

    Parameters
    ----------
    headers : sequence of str
        Header cells as read.
    schema : Schema
        ``aliases`` and ``reserved`` names.

    Returns
    -------
    list of str
        One unique column name per header.
    """
    canonical = set(schema.aliases.values())
    slugs = [slug(h) for h in headers]
    names: list[str | None] = [None] * len(slugs)
    taken: set[str] = set()
    for exact in (True, False):
        for i, s in enumerate(slugs):
            target = s if exact else schema.aliases.get(s)
            if names[i] is None and target in canonical and target not in taken:
                names[i] = target
                taken.add(target)
    taken.update(_ALWAYS_RESERVED, schema.reserved)
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


def _check_columns(header: Sequence[str], names: Sequence[str], path: Path, schema: Schema) -> None:
    listing = ", ".join(f"'{h}'" for h in header if h) or "nenhuma"
    where = f" no arquivo{schema.of}" if schema.of else ""
    for need in schema.required:
        options = (need,) if isinstance(need, str) else need
        if not set(options) & set(names):
            label = f"'{options[0]}'"
            if len(options) > 1:
                label += " (ou " + " ou ".join(f"'{o}'" for o in options[1:]) + ")"
            raise schema.fail(
                f"coluna obrigatória {label} não encontrada{where}; colunas encontradas: {listing}",
                path,
                options[0],
            )
    refused = schema.check(names) if schema.check is not None else None
    if refused is not None:
        message, field = refused
        raise schema.fail(f"{message}; colunas encontradas: {listing}", path, field)


def _table(
    header: Sequence[str],
    rows: Sequence[Record],
    path: Path,
    schema: Schema,
    extra: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Build the string table from a header and data records; skip blank rows.

    ``extra`` holds columns of one value per record, added after the file's columns.
    """
    names = normalise_headers(header, schema)
    _check_columns(header, names, path, schema)
    width = len(names)
    lines, data, notes, kept = [], [], [], []
    for k, (line, cells) in enumerate(rows):
        if not any(cells):
            continue
        extra_cells = [c for c in cells[width:] if c]
        note = ""
        if extra_cells:
            n_cells = width + len(extra_cells)
            note = (
                f"linha com {n_cells} células e cabeçalho com {width} colunas "
                "(vírgula ou ponto e vírgula sem aspas no texto?); valores deslocados"
            )
        lines.append(line)
        data.append((list(cells[:width]) + [""] * width)[:width])
        notes.append(note)
        kept.append(k)
    frame = pd.DataFrame(data, columns=names, dtype=str) if data else None
    if frame is None:
        frame = pd.DataFrame({name: pd.Series([], dtype=str) for name in names})
    # Drop unnamed columns that hold no value at all.
    blank = [n for n, h in zip(names, header, strict=True) if not h and not frame[n].any()]
    frame = frame.drop(columns=blank)
    frame = _merge_repeated(frame, header, names, path, schema)
    frame.insert(0, "linha", pd.Series(lines, dtype="int64"))
    if any(notes):
        frame[READ_PROBLEMS] = pd.Series(notes, dtype=str)
    for column, values in (extra or {}).items():
        frame[column] = pd.Series([values[k] for k in kept], dtype=str)
    return frame


def _merge_repeated(
    frame: pd.DataFrame, header: Sequence[str], names: Sequence[str], path: Path, schema: Schema
) -> pd.DataFrame:
    """Merge repeated headers of a known column into it, with a warning.

    ``latitude`` twice (``Latitude`` and ``LATITUDE`` too; ``lat`` twice): the canonical
    column takes, in each row, the first non-empty value of those columns (in the file's
    order), and the repeats are dropped; the warning names them (issue 17: they were
    silently ignored). A synonym beside the exact name (``Logradouro`` and ``Endereço``)
    is not a repeat: the exact name wins and the synonym stays a column of its own.
    """
    canonical = set(schema.aliases.values())
    groups: dict[str, list[int]] = {}
    for i, cell in enumerate(header):
        key = slug(cell)
        if key and names[i] in frame.columns:
            groups.setdefault(key, []).append(i)
    for key, columns in groups.items():
        target = key if key in canonical else schema.aliases.get(key)
        if len(columns) < 2 or target is None or target not in {names[i] for i in columns}:
            continue
        merged = frame[names[columns[0]]]
        for i in columns[1:]:
            merged = merged.where(merged != "", frame[names[i]])
        frame[target] = merged
        frame = frame.drop(columns=[names[i] for i in columns if names[i] != target])
        listed = ", ".join(f"'{header[i]}' (coluna {i + 1})" for i in columns)
        log.warning(
            "arquivo '%s': colunas repetidas para '%s': %s; usado, em cada linha, o primeiro "
            "valor não vazio",
            path.name,
            target,
            listed,
        )
    return frame


def _from_records(records: Sequence[Record], path: Path, schema: Schema) -> pd.DataFrame:
    """Build the table of rows read; without a recognised header, the first row is one."""
    at = find_header(records, schema)
    if at is None:
        at = next((i for i, (_, cells) in enumerate(records) if any(cells)), None)
        if at is None:
            raise schema.fail(f"arquivo{schema.of} vazio", path)
    return _table(records[at][1], records[at + 1 :], path, schema)


# --- CSV ------------------------------------------------------------------------------------


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as Windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("cp1252"), exc.end


codecs.register_error("geo_ip_cp1252", _cp1252_fallback)


def _line_list(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_SHOWN_LINES])
    more = len(lines) - _SHOWN_LINES
    return shown + (f" e mais {more}" if more > 0 else "")


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode a text file that is UTF-8, Windows-1252, or a mix of both line by line.

    Parameters
    ----------
    raw : bytes
        The file's contents.

    Returns
    -------
    text : str
        The text, every line in its own encoding: a line that is valid UTF-8 is read as
        UTF-8, any other as Windows-1252 (a superset of Latin-1 for text); inside a
        Latin-1 line, the UTF-8 sequences of accented letters are read as UTF-8 too.
    warning : str or None
        ``None`` for a file in one encoding; for a mixed file, a Portuguese sentence
        naming the lines read as Latin-1 (numbered as physical lines, from 1).

    Raises
    ------
    UnicodeDecodeError
        A byte that is neither UTF-8 nor Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D
        outside a UTF-8 sequence); ``start`` is its offset in ``raw``.
    """
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE.search(raw) is None:
        return raw.decode("cp1252"), None
    parts: list[str] = []
    utf8: list[int] = []
    latin: list[int] = []
    offset = 0
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        try:
            if line.isascii():
                parts.append(line.decode("ascii"))
            else:
                try:
                    parts.append(line.decode("utf-8-sig" if number == 1 else "utf-8"))
                    utf8.append(number)
                except UnicodeDecodeError:
                    latin.append(number)
                    if _UTF8_LATIN.search(line) is None:
                        parts.append(line.decode("cp1252"))
                    else:  # both encodings inside the line
                        parts.append(line.decode("utf-8", "geo_ip_cp1252"))
                        utf8.append(number)
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError(
                "cp1252", raw, offset + exc.start, offset + exc.end, exc.reason
            ) from exc
        offset += len(line)
    if not utf8:
        return "".join(parts), None
    return "".join(parts), (
        f"codificação mista: {len(latin)} linha(s) em Latin-1 (Windows-1252) num arquivo "
        f"UTF-8 (linhas {_line_list(latin)}); cada linha foi lida na sua codificação: confira "
        "os acentos dessas linhas e salve o arquivo inteiro como CSV UTF-8"
    )


def _decode(raw: bytes, path: Path, schema: Schema) -> str:
    if b"\x00" in raw:
        raise schema.fail(
            f"o arquivo{schema.of} não é um texto CSV (contém bytes nulos: UTF-16 ou planilha "
            "com a extensão errada?); salve como CSV UTF-8 ou .xlsx",
            path,
        )
    try:
        text, warning = decode_text(raw)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        where = f" no arquivo{schema.of}" if schema.of else ""
        raise schema.fail(
            f"codificação de caracteres não reconhecida{where} (byte 0x{raw[exc.start]:02X} "
            f"na linha {line}); salve o CSV em UTF-8 ou Latin-1 (Windows-1252)",
            path,
        ) from exc
    if warning is not None:
        log.warning("arquivo '%s': %s", path.name, warning)
    return text


def _parse_csv(text: str, delimiter: str, limit: int | None = None) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    for line, cells in enumerate(reader, start=1):
        records.append((line, [c.strip() for c in cells]))
        if limit is not None and line >= limit:
            break
    return records


def _sniff(text: str, schema: Schema) -> str:
    """Choose the delimiter whose header row names the most columns (then the most cells)."""

    def score(delimiter: str) -> tuple[int, int, int]:
        records = _parse_csv(text, delimiter, HEADER_SEARCH_ROWS)
        at = find_header(records, schema)
        if at is None:
            return (0, 0, len(records[0][1]) if records else 0)
        cells = records[at][1]
        return (1, len(_known(cells, schema.aliases)), sum(1 for c in cells if c))

    return max(_DELIMITERS, key=score)


def _read_csv(path: Path, raw: bytes, schema: Schema) -> pd.DataFrame:
    text = _decode(raw, path, schema)
    try:
        records = _parse_csv(text, _sniff(text, schema))
    except csv.Error as exc:
        raise schema.fail(f"CSV{schema.of} malformado ({exc})", path) from exc
    return _from_records(records, path, schema)


# --- XLSX -----------------------------------------------------------------------------------


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


def _read_xlsx(path: Path, schema: Schema) -> pd.DataFrame:
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
        return _from_records(records, path, schema)
    first_row = records[at][0]
    last_row = _header_end(sheet, records, first_row, schema.aliases)
    width = max(len(cells) for _, cells in records)
    header = []
    for col in range(width):
        cells = [records[r - 1][1][col] for r in range(first_row, last_row + 1)]
        named = [c for c in cells if c]
        header.append(named[-1] if named else "")
    data = [(line, cells) for line, cells in records if line > last_row]
    frame = _table(header, data, path, schema)
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


# --- GeoJSON / GeoPackage -------------------------------------------------------------------


@contextlib.contextmanager
def _gdal_warnings_ignored(ignored: bool) -> Iterator[None]:
    """Silence GDAL's warnings (RuntimeWarning through pyogrio) when ``ignored``."""
    with warnings.catch_warnings():
        if ignored:
            warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _read_geo(path: Path, raw: bytes, schema: Schema) -> pd.DataFrame | None:
    """Read a point file; ``None`` when a file recognised only by its content is no such file.

    A file recognised by its content (a ``.csv`` that starts like JSON or SQLite) is handed
    to GDAL as bytes, so that only the content drivers see it (under its own name the CSV
    driver would claim it), and GDAL's warnings about it (the in-memory name has no
    ``.gpkg`` extension) are silenced: they concern a guess, not the user's file.
    """
    of = schema.of
    sniffed = path.suffix.lower() not in _GEO_SUFFIXES
    src: Path | bytes = raw if sniffed else path
    try:
        with _gdal_warnings_ignored(sniffed):
            layers = pyogrio.list_layers(src)
    except pyogrio.errors.DataSourceError as exc:
        if sniffed:
            return None
        raise schema.fail(f"arquivo geográfico{of} ilegível ({exc})", path) from exc
    if len(layers) == 0:
        raise schema.fail(f"o arquivo{of} não tem camadas", path)
    names = [str(n) for n in layers[:, 0]]
    points = [str(n) for n, g in layers if g is not None and "point" in str(g).lower()]
    layer = next((n for n in names if slug(n) == schema.layer), points[0] if points else names[0])
    if len(names) > 1:
        log.info("arquivo '%s': usando a camada '%s' de %d", path, layer, len(names))
    try:
        with _gdal_warnings_ignored(sniffed):
            # by index: bytes get a fresh in-memory name, and so a fresh layer name, per call
            gdf = pyogrio.read_dataframe(src, layer=names.index(layer), fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeError) as exc:
        if sniffed:
            return None
        raise schema.fail(f"camada '{layer}' ilegível ({exc})", path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        if sniffed:
            return None  # a text table that merely starts like JSON: read it as CSV
        raise schema.fail(
            f"a camada '{layer}' do arquivo{of} não tem geometria; grave os pontos com "
            "geometria ou use um CSV/XLSX com latitude e longitude",
            path,
        )
    if gdf.crs is None:
        raise schema.fail(
            f"o arquivo{of} não tem sistema de coordenadas (CRS); grave-o com o CRS definido "
            "(ex.: EPSG:4674, SIRGAS 2000)",
            path,
        )
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    is_point = ~missing & ((kinds == 0) | ((kinds == 4) & single))
    if schema.points is not None and (~missing & ~is_point).any():
        first = int((~missing & ~is_point).argmax())
        raise schema.fail(f"{schema.points}; a feição {first + 1} é {geoms[first].geom_type}", path)
    problem = np.where(missing, "sem geometria", np.where(is_point, "", "não é um ponto"))
    first_parts = shapely.get_geometry(geoms, 0)
    first_parts[~is_point] = None
    lonlat = gpd.GeoSeries(first_parts, crs=gdf.crs).to_crs("EPSG:4326").array
    xs, ys = shapely.get_x(lonlat), shapely.get_y(lonlat)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    header = [str(c) for c in attrs.columns]
    is_gpkg = path.suffix.lower() == ".gpkg"
    lines = [int(i) for i in gdf.index] if is_gpkg else list(range(1, len(gdf) + 1))
    records: list[Record] = [
        (line, [cell_text(v) for v in row])
        for line, row in zip(lines, attrs.itertuples(index=False, name=None), strict=True)
    ]
    names = normalise_headers(header, schema)
    for column in ("latitude", "longitude"):
        if column not in names:
            header.append(column)
            names.append(column)
            records = [(line, [*cells, ""]) for line, cells in records]
    lat_at, lon_at = names.index("latitude"), names.index("longitude")
    for k, (_, cells) in enumerate(records):
        if is_point[k]:
            cells[lat_at], cells[lon_at] = f"{ys[k]:.7f}", f"{xs[k]:.7f}"
    return _table(header, records, path, schema, {GEOMETRY_PROBLEM: [str(p) for p in problem]})


# --- entry point ----------------------------------------------------------------------------


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
        return _read_xlsx(path, schema)
    if schema.layer is not None and (
        suffix in _GEO_SUFFIXES or raw.startswith((b"SQLite format 3\x00", b"{"))
    ):
        table = _read_geo(path, raw, schema)
        if table is not None:
            return table
    return _read_csv(path, raw, schema)
