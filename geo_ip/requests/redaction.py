"""Redaction of personal data in text: CPF-shaped numbers, applicants' names and their parts.

:func:`redact_text` redacts one text; :func:`geo_ip.requests.privacy.public_view` and
:func:`~geo_ip.requests.privacy.internal_view` apply the same steps to whole tables (the
rules are in :mod:`geo_ip.requests.privacy`). :func:`scan_for_personal_data` finds clear
CPFs and names in any text; tests run it over every output.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from geo_ip._util.parse import cell_text, cpf_digits
from geo_ip.requests.cpf import mask_cpf, valid_cpf_digits

__all__ = [
    "CPF_LIKE",
    "NAME_CONNECTORS",
    "REDACTED",
    "NamesIndex",
    "folded_words",
    "merged_index",
    "name_parts",
    "names_index",
    "redact_text",
    "redact_words",
    "scan_for_personal_data",
]

REDACTED = "[dado pessoal omitido]"
"""Replacement of redacted text."""
NAME_CONNECTORS = frozenset({"de", "da", "do", "dos", "das", "e", "d", "del", "di", "du"})
"""Words joining the parts of a name: never a name part themselves."""
CPF_LIKE = re.compile(r"\d(?<!\d\d)\d{2}[.\s]?\d{3}[.\s]?\d{3}[-.\s/]?\d{2}(?!\d)")
r"""A CPF's shape, whatever its check digits: formatted (123.456.789-09, 123 456 789 09) or
a bare run of 11 digits, not inside a longer number.

The first digit comes before the look-behind (no digit before it): the same matches as
``(?<!\d)\d{3}...``, but the engine skips to the next digit instead of trying the
look-behind at every character (three times faster on long texts)."""

_ACCENTS = {
    "a": "aáàâãäå", "e": "eéèêë", "i": "iíìîï", "o": "oóòôõöø", "u": "uúùûü", "c": "cç",
    "n": "nñ", "y": "yýÿ",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    """Lower case without accents (``"Brígida"`` → ``"brigida"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def folded_words(text: str) -> frozenset[str]:
    """Words of a text, folded as names are (lower case, no accents).

    Parameters
    ----------
    text : str
        Any text (``"Rua Brígida"``).

    Returns
    -------
    frozenset of str
        Its words (``{"rua", "brigida"}``).
    """
    return frozenset(_WORD.findall(_fold(text)))


def _word_regex(word: str) -> str:
    """Regex of a word matching any accent of its letters (with :data:`re.IGNORECASE`)."""
    return "".join(f"[{_ACCENTS[c]}]" if c in _ACCENTS else re.escape(c) for c in _fold(word))


def _name_pattern(names: Iterable[object]) -> re.Pattern[str] | None:
    """Pattern of whole names (case- and accent-insensitive, any spacing)."""
    unique = {unicodedata.normalize("NFC", cell_text(n)) for n in names}
    texts = sorted((n for n in unique if len(n) >= 3), key=len, reverse=True)
    if not texts:
        return None
    alternatives = "|".join(r"\s+".join(map(_word_regex, t.split())) for t in texts)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def name_parts(name: object) -> tuple[str, ...]:
    """Given names and surnames of a name, folded (no accents, lower case).

    Parameters
    ----------
    name : object
        A name as typed (``"Brígida Conceição de Juazeirinho"``).

    Returns
    -------
    tuple of str
        Each word of two or more letters that is not a connector
        (:data:`NAME_CONNECTORS`), e.g. ``("brigida", "conceicao", "juazeirinho")``.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", cell_text(name)))
    folded = (_fold(w) for w in words)
    return tuple(dict.fromkeys(w for w in folded if len(w) >= 2 and w not in NAME_CONNECTORS))


def _fold_table() -> dict[int, str]:
    """``str.translate`` table: accented Latin letters to their base letter, one for one."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base != char:
            table[code] = base
    table[0x130] = "I"  # "İ".lower() has two characters
    return table


_FOLD_TABLE = _fold_table()


def _fold_aligned(text: str) -> str:
    """Lower case without accents, character for character (positions kept)."""
    folded = text.translate(_FOLD_TABLE).lower()
    return (
        folded
        if len(folded) == len(text)
        else text.lower()
        if len(text.lower()) == len(text)
        else text
    )


NamesIndex = tuple[frozenset[str], frozenset[tuple[str, ...]], tuple[int, ...]]
"""First words, whole names (folded words) and their lengths, longest first."""


@functools.lru_cache(maxsize=65_536)
def _name_words(text: str) -> tuple[str, ...]:
    """Return the folded words of a name (empty when it is shorter than 3 characters).

    Cached: the web app redacts each page of a cycle with the names of all its
    applicants, the same names page after page.
    """
    name = unicodedata.normalize("NFC", text)
    return tuple(_WORD.findall(_fold_aligned(name))) if len(name) >= 3 else ()


def names_index(names: Iterable[object]) -> NamesIndex:
    """Index whole names to find them word by word (:func:`redact_words`).

    Parameters
    ----------
    names : iterable of str
        Names as typed; those shorter than 3 characters are left out.

    Returns
    -------
    NamesIndex
        The first words, the whole names (folded words) and their lengths.
    """
    if isinstance(names, tuple):
        try:
            return _tuple_index(names)
        except TypeError:  # an unhashable cell: not cached
            names = list(names)
    found = {words for words in map(_name_words, {cell_text(n) for n in names}) if words}
    lengths = tuple(sorted({len(w) for w in found}, reverse=True))
    return frozenset(w[0] for w in found), frozenset(found), lengths


@functools.lru_cache(maxsize=16)
def _tuple_index(names: tuple[object, ...]) -> NamesIndex:
    """Return :func:`names_index` of a tuple.

    Cached: the web app redacts every page of a cycle with the same tuple of all its
    applicants' names.
    """
    return names_index(list(names))


def merged_index(first: NamesIndex, second: NamesIndex) -> NamesIndex:
    """Return the index of the names of both indexes.

    Parameters
    ----------
    first, second : NamesIndex
        Two :func:`names_index`.

    Returns
    -------
    NamesIndex
        Their union.
    """
    if not second[1]:
        return first
    if not first[1]:
        return second
    lengths = tuple(sorted({*first[2], *second[2]}, reverse=True))
    return first[0] | second[0], first[1] | second[1], lengths


_NAME_GAP = re.compile(r"\s+")
_PART_GAP = re.compile(r"[\s.,'’-]+")  # between name parts: spaces, punctuation


def redact_words(
    text: str,
    index: NamesIndex,
    parts: tuple[str, ...],
    *,
    address: bool,
    keep: frozenset[str],
) -> str:
    """Redact the whole names of ``index`` and the runs of name ``parts`` in ``text``.

    Word by word on the folded text (no regular expression per name: a city's thousands
    of applicants would make one too slow). See :mod:`geo_ip.requests.privacy` for the
    rules.

    Parameters
    ----------
    text : str
        The text (CPF-shaped numbers already redacted).
    index : NamesIndex
        Whole names to redact (:func:`names_index`).
    parts : tuple of str
        Parts of the applicant's name (:func:`name_parts`), redacted alone or in runs.
    address : bool
        ``text`` is an address as typed: only runs of two or more ``parts`` are redacted.
    keep : frozenset of str
        Folded words of the places found for the row (:func:`folded_words`): a single
        part that is one of them stays.

    Returns
    -------
    str
        The text with each name or run replaced by :data:`REDACTED`.
    """
    if not text:
        return text
    folded = _fold_aligned(text)
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    words = [w for _, _, w in spans]
    wanted = set(parts)
    if wanted.isdisjoint(words) and index[0].isdisjoint(words):
        return text
    cuts = _cuts(folded, spans, index, wanted, address, keep)
    if not cuts:
        return text
    pieces, start = [], 0
    for begin, end in cuts:
        pieces += [text[start:begin], REDACTED]
        start = end
    pieces.append(text[start:])
    return "".join(pieces)


def _cuts(
    folded: str,
    spans: list[tuple[int, int, str]],
    index: NamesIndex,
    wanted: set[str],
    address: bool,
    keep: frozenset[str],
) -> list[tuple[int, int]]:
    """Spans (start, end) of ``folded`` to redact: whole names, then runs of name parts."""
    words = [w for _, _, w in spans]
    firsts, whole, lengths = index

    def gap(i: int, pattern: re.Pattern[str]) -> bool:  # between word i and word i + 1
        return pattern.fullmatch(folded, spans[i][1], spans[i + 1][0]) is not None

    cuts: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        found = 0
        if words[i] in firsts:
            found = next(
                (
                    k
                    for k in lengths
                    if i + k <= len(words)
                    and tuple(words[i : i + k]) in whole
                    and all(gap(j, _NAME_GAP) for j in range(i, i + k - 1))
                ),
                0,
            )
        if found:
            cuts.append((spans[i][0], spans[i + found - 1][1]))
            i += found
            continue
        if words[i] not in wanted:
            i += 1
            continue
        last, count, j = i, 1, i
        while j + 1 < len(words) and gap(j, _PART_GAP):
            nxt = words[j + 1]
            if nxt in wanted:
                last, count, j = j + 1, count + 1, j + 1
            elif nxt in NAME_CONNECTORS:
                j += 1
            else:
                break
        if count >= 2 or not (address or words[i] in keep):
            cuts.append((spans[i][0], spans[last][1]))
        i = last + 1
    return cuts


def redact_text(
    text: object, names: Iterable[object] = (), *, applicant: object = None, address: bool = False
) -> str:
    """Replace CPF-like numbers and the given names in a text by :data:`REDACTED`.

    Every formatted CPF layout and every run of exactly 11 digits is replaced, whether
    or not its check digits match (an 11-digit run is also what a mobile phone number
    with area code looks like: personal data as well).

    Parameters
    ----------
    text : object
        Any cell value.
    names : iterable of str, optional
        Whole names to remove (case- and accent-insensitive, any spacing).
    applicant : object, optional
        The applicant whose request the text is about: each part of the name
        (:func:`name_parts`) is removed too, alone or in runs.
    address : bool, default False
        ``text`` is an address as typed: only runs of two or more parts of
        ``applicant`` are removed (a street may share one word with a surname).

    Returns
    -------
    str
        The redacted text.
    """
    result = CPF_LIKE.sub(REDACTED, unicodedata.normalize("NFC", cell_text(text)))
    parts = name_parts(applicant) if applicant is not None else ()
    return redact_words(result, names_index(names), parts, address=address, keep=frozenset())


def _initials(name: str) -> str:
    return "".join(f"{w[0].upper()}." for w in name.split() if w)


def scan_for_personal_data(
    text: str, cpfs: Iterable[object] | None = None, names: Iterable[object] = ()
) -> list[str]:
    """Find clear CPFs and names in a text (e.g. the content of an output file).

    Parameters
    ----------
    text : str
        Text to search.
    cpfs : iterable, optional
        The CPFs to look for, in any layout; each is found formatted
        (``123.456.789-09``), bare (``12345678909``) or with spaces. Without it,
        any CPF-like number whose check digits match is reported.
    names : iterable of str, optional
        Names to look for (case-insensitive, any spacing).

    Returns
    -------
    list of str
        One entry per occurrence, in order, never the data itself: ``"CPF
        ***.456.789-**"`` or ``"nome A.C.F.S."`` (initials); empty when clean.
    """
    wanted: set[str] | None = None
    if cpfs is not None:
        wanted = {valid_cpf_digits(c) or cpf_digits(cell_text(c)) for c in cpfs} - {""}
    found: list[tuple[int, str]] = []
    for match in CPF_LIKE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        hit = digits in wanted if wanted is not None else bool(valid_cpf_digits(digits))
        if hit:
            found.append((match.start(), f"CPF {mask_cpf(digits)}"))
    pattern = _name_pattern(names)
    if pattern is not None:
        found.extend((m.start(), f"nome {_initials(m.group())}") for m in pattern.finditer(text))
    return [entry for _, entry in sorted(found)]
