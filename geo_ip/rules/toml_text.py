"""Edits of a TOML text that keep its comments (for ``geo-ip regras criar``).

:func:`scan` finds the table headers and the ``key = value`` pairs of a rules
file's text; :func:`table_body`, :func:`replace_keys` and :func:`apply_edits` then
rewrite parts of it in place, so that the comments explaining every number stay
where they are. Enough of TOML for the bundled rules files (tables, dotted keys,
inline tables, arrays, strings, comments): :mod:`geo_ip.rules.init_rules` checks
the result of every rewrite by loading it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Header",
    "Scan",
    "Value",
    "apply_edits",
    "replace_keys",
    "scan",
    "table_body",
    "toml_string",
]

_KEY = re.compile(r"""[A-Za-z0-9_\-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'""")


@dataclass(frozen=True)
class Value:
    """A ``key = value`` of the TOML text: where it is and in which table."""

    table: str
    """Dotted path of the table or inline table holding the key (``[]``: a list element)."""
    key: str
    start: int
    """Where the key starts."""
    value_start: int
    end: int
    """Just after the value (for a top-level entry: the end of its last line)."""


@dataclass(frozen=True)
class Header:
    """A ``[table]`` header line: the table and where its line starts and ends."""

    table: str
    start: int
    end: int


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` found in a TOML text."""

    headers: list[Header]
    values: list[Value]
    """Every string or bare value with its key, at any depth."""
    entries: list[Value]
    """Every ``key = value`` written directly in a table (or before the first header)."""


def toml_string(value: str) -> str:
    """Write a TOML basic string (JSON escapes are valid TOML).

    Parameters
    ----------
    value : str
        Any text.

    Returns
    -------
    str
        The quoted, escaped literal.
    """
    return json.dumps(value, ensure_ascii=False)


def _string_end(text: str, i: int) -> int:
    """Index just after the TOML string starting at ``i``."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        j = i + 3
        while True:
            j = text.index(quote * 3, j)
            if quote == "'" or text[j - 1] != "\\":
                j += 3
                while j < len(text) and text[j] == quote:  # up to two quotes in the content
                    j += 1
                return j
            j += 1
    j = i + 1
    while text[j] != quote:
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


class _Scanner:
    """The state of :func:`scan` walking a TOML text, one token at a time."""

    def __init__(self, text: str) -> None:
        self.text, self.n = text, len(text)
        self.headers: list[Header] = []
        self.values: list[Value] = []
        self.entries: list[Value] = []
        self.table: list[str] = []
        self.stack: list[tuple[str, str]] = []  # ("{" or "[", path segment)
        self.expect_key, self.line_start = True, True
        self.key: str | None = None
        self.key_start = 0
        self.top: tuple[str, int, int] | None = None  # top-level key, its start, value start

    def run(self) -> Scan:
        text, i = self.text, 0
        while i < self.n:
            c = text[i]
            if c == "\n":
                self.line_start, i = True, i + 1
                self.expect_key = self.expect_key or not self.stack
            elif c in " \t\r":
                i += 1
            elif c == "#":
                i = _line_end(text, i)
            elif self.line_start and not self.stack and c == "[":
                i = self._header(i)
            else:
                self.line_start = False
                i = self._key(i) if self.expect_key else self._value(i, c)
        return Scan(self.headers, self.values, self.entries)

    def _where(self) -> str:
        return ".".join(p for p in [*self.table, *(seg for _, seg in self.stack)] if p)

    def _value_end(self, end: int, value_start: int) -> None:
        if self.key is not None:
            self.values.append(Value(self._where(), self.key, self.key_start, value_start, end))
        self.key = None
        if not self.stack and self.top is not None:
            key, start, value = self.top
            line_end = _line_end(self.text, end)
            self.entries.append(Value(".".join(self.table), key, start, value, line_end))
            self.top = None

    def _header(self, i: int) -> int:
        end = _line_end(self.text, i)
        header = self.text[i:end].split("#", 1)[0].strip()
        self.table = [p.strip().strip("\"'") for p in header.strip("[]").split(".")]
        if header.startswith("[["):
            self.table[-1] += "[]"
        self.headers.append(Header(".".join(self.table), i, end))
        self.expect_key, self.line_start = True, False
        return end

    def _key(self, i: int) -> int:
        text, n = self.text, self.n
        parts: list[str] = []
        j = i
        match = _KEY.match(text, j)
        while match is not None:
            parts.append(match.group().strip("\"'"))
            j = match.end()
            while j < n and text[j] in " \t":
                j += 1
            match = None
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j] in " \t":
                    j += 1
                match = _KEY.match(text, j)
        if not parts or j >= n or text[j] != "=":
            raise ValueError(f"chave TOML não reconhecida na posição {i}")
        self.key, self.key_start = ".".join(parts), i
        if not self.stack:
            self.top = (self.key, i, j + 1)
        self.expect_key = False
        return j + 1

    def _value(self, i: int, c: str) -> int:
        if c in "\"'":
            end = _string_end(self.text, i)
            self._value_end(end, i)
            return end
        if c in "{[":
            key = self.key or ""
            self.stack.append((c, key if c == "{" else f"{key}[]"))
            self.key, self.expect_key = None, c == "{"
            return i + 1
        if c in "}]":
            self.stack.pop()
            self._value_end(i + 1, i + 1)
            return i + 1
        if c == ",":
            self.expect_key = bool(self.stack) and self.stack[-1][0] == "{"
            return i + 1
        end = i
        while end < self.n and self.text[end] not in ",]}\n#":
            end += 1
        last = end
        while last > i and self.text[last - 1] in " \t\r":
            last -= 1
        self._value_end(last, i)
        return end


def scan(text: str) -> Scan:
    """Find the table headers and the ``key = value`` pairs of a TOML text.

    Parameters
    ----------
    text : str
        A TOML document (tables, dotted keys, inline tables, arrays, strings, comments).

    Returns
    -------
    Scan
        The headers, every value at any depth and every top-level entry of a table.

    Raises
    ------
    ValueError
        On a key the scanner does not recognise.
    """
    return _Scanner(text).run()


def apply_edits(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Replace spans of a text, from the last to the first (the spans do not overlap).

    Parameters
    ----------
    text : str
        The text.
    edits : iterable of (int, int, str)
        ``(start, end, replacement)`` of each span.

    Returns
    -------
    str
        The text edited.
    """
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def table_body(text: str, table: str) -> tuple[int, int]:
    """Return the span of the body of ``[table]`` (``""``: before the first header).

    The body goes from after the header line to the end of the last key's line:
    comments and blank lines after it belong to the next section.

    Parameters
    ----------
    text : str
        A TOML document.
    table : str
        Dotted name of the table.

    Returns
    -------
    tuple of (int, int)
        Start and end of the body.

    Raises
    ------
    KeyError
        When the table is not in the text.
    """
    found = scan(text)
    if table == "":
        start, limit = 0, found.headers[0].start if found.headers else len(text)
    else:
        index = next((k for k, h in enumerate(found.headers) if h.table == table), None)
        if index is None:
            raise KeyError(f"tabela [{table}] ausente")
        start = min(found.headers[index].end + 1, len(text))
        following = found.headers[index + 1 :]
        limit = following[0].start if following else len(text)
    ends = [e.end for e in found.entries if e.table == table and start <= e.start < limit]
    end = max(ends) + 1 if ends else start
    return start, min(end, limit, len(text))


def replace_keys(text: str, table: str, lines: dict[str, str]) -> str:
    """Replace keys of ``[table]``, each with the comment lines right above it.

    Parameters
    ----------
    text : str
        A TOML document.
    table : str
        Dotted name of the table (``""``: the keys before the first header).
    lines : dict of str to str
        The new text of each key (full lines, each ending in a newline); a key that
        is not in the table is added at the end of its body.

    Returns
    -------
    str
        The text edited.
    """
    _, body_end = table_body(text, table)
    entries = [e for e in scan(text).entries if e.table == table and e.key in lines]
    found = {e.key for e in entries}
    missing = "".join(lines[k] for k in lines if k not in found)
    edits: list[tuple[int, int, str]] = [(body_end, body_end, missing)] if missing else []
    for entry in entries:
        start = text.rfind("\n", 0, entry.start) + 1
        while start > 0:  # the comment block right above the key describes the old value
            previous = text.rfind("\n", 0, start - 1) + 1
            if not text[previous:start].lstrip().startswith("#"):
                break
            start = previous
        edits.append((start, min(entry.end + 1, len(text)), lines[entry.key]))
    return apply_edits(text, edits)
