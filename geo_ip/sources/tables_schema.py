"""What a spreadsheet must hold, and how its rows become a table (for :mod:`~.tables`).

:class:`Schema` describes a file (its known columns and synonyms, the required ones, the
names of its messages); :func:`find_header` finds the header row among title rows,
:func:`normalise_headers` maps the headers onto canonical names, and :func:`build_table`
checks the required columns and turns the rows into the string table
:func:`geo_ip.sources.tables.read_sheet` returns, whatever the file format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo_ip._util.parse import slug
from geo_ip.errors import InputFileError

__all__ = [
    "GEOMETRY_PROBLEM",
    "HEADER_SEARCH_ROWS",
    "READ_PROBLEMS",
    "Schema",
    "aliases_of",
    "find_header",
    "normalise_headers",
]

log = logging.getLogger(__name__)

READ_PROBLEMS = "problemas_leitura"
"""Column holding problems found while reading a row (e.g. more cells than the header)."""
GEOMETRY_PROBLEM = "problema_geometria"
"""Column of a point file's table: ``""``, ``"sem geometria"`` or ``"não é um ponto"``."""
HEADER_SEARCH_ROWS = 30
"""How many rows to search for the header (title rows above it are tolerated)."""
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


def known_columns(cells: Sequence[str], aliases: Mapping[str, str]) -> set[str]:
    """Canonical names of the known columns among header ``cells``."""
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
        known = known_columns(cells, schema.aliases)
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


# --- table ----------------------------------------------------------------------------------


def build_table(
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


def table_from_records(records: Sequence[Record], path: Path, schema: Schema) -> pd.DataFrame:
    """Build the table of rows read; without a recognised header, the first row is one."""
    at = find_header(records, schema)
    if at is None:
        at = next((i for i, (_, cells) in enumerate(records) if any(cells)), None)
        if at is None:
            raise schema.fail(f"arquivo{schema.of} vazio", path)
    return build_table(records[at][1], records[at + 1 :], path, schema)
