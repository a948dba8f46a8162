"""Decoding a text file and reading it as CSV (for :mod:`~.tables`).

:func:`decode_text` reads UTF-8 (with or without BOM), Windows-1252 (a superset of
Latin-1 for text), or a file that mixes the two line by line; :func:`read_csv` refuses
what is no text, picks the delimiter (``,`` ``;`` tab or ``|``) whose header row names
the most known columns, and builds the table.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo_ip.sources.tables_schema import (
    HEADER_SEARCH_ROWS,
    Record,
    Schema,
    find_header,
    known_columns,
    table_from_records,
)

__all__ = ["decode_text", "read_csv"]

log = logging.getLogger(__name__)

_DELIMITERS = (";", ",", "\t", "|")
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""A multi-byte UTF-8 character: a file that has none is plain Windows-1252."""
_UTF8_LATIN = re.compile(rb"[\xc2\xc3][\x80-\xbf]")
"""UTF-8 of U+0080-U+00FF (accented Latin letters, º, ª): inside a Latin-1 line, a mix."""
_SHOWN_LINES = 10
"""How many line numbers a mixed-encoding warning lists."""


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
        return (1, len(known_columns(cells, schema.aliases)), sum(1 for c in cells if c))

    return max(_DELIMITERS, key=score)


def read_csv(path: Path, raw: bytes, schema: Schema) -> pd.DataFrame:
    """Read the bytes of a CSV file into the string table of :func:`~.tables.read_sheet`."""
    text = _decode(raw, path, schema)
    try:
        records = _parse_csv(text, _sniff(text, schema))
    except csv.Error as exc:
        raise schema.fail(f"CSV{schema.of} malformado ({exc})", path) from exc
    return table_from_records(records, path, schema)
