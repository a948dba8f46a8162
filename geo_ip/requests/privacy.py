"""Personal data (LGPD, Lei 13.709/2018): keyed CPF hash, public and internal views.

The requests spreadsheet carries personal data of the applicants: CPF, name, family
income, CadÚnico inscription, MEI status and previous benefits. geo_ip needs them
only to check eligibility (Art. 4 §2 and Art. 5 of Lei 5.442/2026); after that:

- the CPF is replaced by :func:`cpf_hash`, a keyed hash (HMAC-SHA256) that lets the
  five-year repeat check of Art. 5, II compare applicants across runs without the CPF
  in clear. The key (:func:`load_key`) belongs to the municipality: it is kept with
  the program's records and never published. Without it nobody can test whether a
  given CPF is behind a hash (a plain hash of the 11 digits would be reversed by trying
  the 10⁹ possible CPFs); with a different key the hashes of earlier runs no longer
  match;
- :func:`public_view` is what maps, transparency lists and the GeoPackage for QGIS may
  show: no personal column at all (nor the hash, which is still personal data under
  LGPD Art. 12 §3 for whoever holds the key), no free text written by or for the
  applicant (:data:`APPLICANT_TEXT_COLUMNS`), and CPFs, phone-like numbers and
  applicants' names redacted from the texts that remain;
- :func:`internal_view` is what the commission's internal outputs show: CPF masked
  (``***.456.789-**``, the layout of federal transparency portals), no names, no income
  figure, CadÚnico as ``sim``/``não`` (the commission needs it: Art. 4 §2, I).

Rules shared by both views (issue 17):

- **CPF-shaped values in every column.** Every formatted CPF layout and every run of
  exactly 11 digits is replaced by :data:`REDACTED` in *every* text column, whether or
  not its check digits match: a CPF typed into ``bairro``, ``cep``, ``numero`` or a
  column geo_ip does not know is as personal as one in ``cpf_solicitante``. Exceptions:
  ``cpf_solicitante`` (dropped or masked), ``cpf_hash`` (16 hex characters, which may
  hold 11 decimal digits in a row) and ``protocolo`` (the key that joins every output
  and the Commission's records: a municipality may number its protocols with 11 digits).
- **Free text carries no personal data.** Free-text columns
  (:data:`FREE_TEXT_COLUMNS`, :data:`FREE_TEXT_PREFIXES`) include every message derived
  from the input (``problemas``, ``geocodificacao_detalhe``, which repeat the address as
  typed). In them, besides every applicant's full name, every *part* of the row's own
  applicant's name is redacted: each given name and surname of two or more letters,
  accent- and case-insensitive, alone or in runs (``casa de Brigida Juazeirinho``,
  ``Dona Ambrosina``). The connectors (:data:`NAME_CONNECTORS`: de, da, do, dos, das,
  e) are never name parts.
- **Street names survive.** Many surnames are also street words (Santos, Silva, São,
  Padre): wiping each of them everywhere would wipe the addresses the law requires to
  identify (Art. 10, II). So (1) the parts are those of the row's own applicant, not of
  every applicant (a city has an applicant called Getúlio and one called Vargas); (2) in
  the address columns (:data:`ADDRESS_COLUMNS`) only runs of two or more name parts are
  redacted (``Rua Santos Dumont`` of an applicant surnamed Santos stays); (3) in free
  text, a single name part that is a word of a place the tool found for the row in the
  territory (``logradouro_encontrado``, ``logradouro_via``, ``bairro_encontrado``, the
  ``*_nomes`` of nearby facilities) stays, since it names that place, not the person.
  Runs of two or more parts are always redacted. A single first name left that way, or
  the name of someone who is not an applicant, can remain in the *internal* outputs'
  free text: public outputs do not carry the applicant's free text at all.

:func:`scan_for_personal_data` finds clear CPFs (formatted or bare) and names in any
text; tests run it over every output.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from validate_docbr import CPF

from geo_ip._util.parse import cell_text, cpf_digits, slug
from geo_ip.errors import GeoIPError, InputFileError

__all__ = [
    "ADDRESS_COLUMNS",
    "APPLICANT_TEXT_COLUMNS",
    "ELIGIBILITY_DETAIL",
    "FREE_TEXT_COLUMNS",
    "KEY_ENV",
    "KEY_FILE_NAME",
    "NAME_CONNECTORS",
    "PERSONAL_COLUMNS",
    "PSEUDONYMOUS_COLUMNS",
    "REDACTED",
    "cpf_check_digits_ok",
    "cpf_hash",
    "cpf_hashes",
    "cpf_problem",
    "internal_view",
    "load_key",
    "mask_cpf",
    "name_parts",
    "public_view",
    "redact_text",
    "scan_for_personal_data",
    "valid_cpf_digits",
]

log = logging.getLogger(__name__)

PERSONAL_COLUMNS = (
    "cpf_solicitante",
    "nome_solicitante",
    "renda_familiar",
    "cadunico",
    "mei",
    "beneficio_anterior_data",
    "beneficio_anterior_justificativa",
)
"""Columns of the requests schema (``intake.OPTIONAL``) about the applicant as a person.

Location columns (``endereco``, ``numero``, ``bairro``, coordinates) are kept: they
describe the place of the public works, which the law requires to be identified
(Art. 10, II). ``observacoes`` and ``justificativa_estrategica`` are the applicant's
free text: redacted internally, never public (:data:`APPLICANT_TEXT_COLUMNS`).
"""
APPLICANT_TEXT_COLUMNS = ("observacoes", "justificativa_estrategica")
"""Free text written by or for the applicant in the requests spreadsheet: internal only.

Public outputs never carry it ("free text carries no personal data"): no redaction can
find every personal detail a clerk may write there (a neighbour's name, a nickname, an
illness). The Commission's own motivations (``motivacao_*``, ``decisao_*``) and the
tool's messages are public, redacted. ``beneficio_anterior_justificativa`` is in
:data:`PERSONAL_COLUMNS`.
"""
PSEUDONYMOUS_COLUMNS = ("cpf_hash",)
"""Pseudonymised personal data: kept internally, never published."""
ELIGIBILITY_DETAIL = (
    "avisos_elegibilidade",
    "motivos_inelegibilidade",
    "hipossuficiencia",
    "decisao_hipossuficiencia",
)
"""Eligibility columns that speak of the applicant's economic situation: internal only.

``hipossuficiencia`` says how hardship was proven (CadÚnico, income declaration,
documents accepted by the Commission) and ``decisao_hipossuficiencia`` names the
applicant's documents. Public outputs keep ``elegivel``,
``fundamento_inelegibilidade`` (the articles only), ``condicao_hipossuficiencia``
(proven, pending, not proven: never how) and ``pendencia_hipossuficiencia`` (the
generic list of proofs a pending request lacks).
"""
FREE_TEXT_COLUMNS = (
    "observacoes",
    "justificativa_estrategica",
    "problemas",
    "endereco",
    "numero",
    "bairro",
    "motivacao",
    "descricao",
    "procedimento_art12",
    "geocodificacao_detalhe",
    "observacao",
)
"""Free-text columns redacted by the views; also any column starting with a prefix below.

Every message derived from the input is one: ``problemas`` and ``geocodificacao_detalhe``
quote the cells as typed (``logradouro 'Rua X, casa de Fulano' não encontrado``).
"""
FREE_TEXT_PREFIXES = (
    "motivacao_", "decisao_", "justificativa", "motivo", "avisos", "parecer", "problema",
    "detalhe", "observac", "pendencia",
)  # fmt: skip
ADDRESS_COLUMNS = ("endereco", "numero", "bairro")
"""Address cells as typed: only runs of two or more name parts are redacted in them."""
NAME_CONNECTORS = frozenset({"de", "da", "do", "dos", "das", "e", "d", "del", "di", "du"})
"""Words joining the parts of a name: never a name part themselves."""
PLACE_COLUMNS = ("logradouro_encontrado", "logradouro_via", "logradouro", "bairro_encontrado")
"""Places the tool found for the row in the territory (also the ``*_nomes`` columns)."""
_KEEP_CPF_LIKE = ("protocolo", "cpf_solicitante", "cpf_hash")
REDACTED = "[dado pessoal omitido]"
"""Replacement of redacted text."""
KEY_ENV = "GEO_IP_CHAVE_LGPD"
"""Environment variable holding the LGPD key; overrides any key file."""
KEY_FILE_NAME = ".chave_lgpd"
"""Conventional name of the key file inside the output folder."""
KEY_MIN_CHARS = 16
HASH_PREFIX = "h:"
HASH_HEX_CHARS = 16
"""Hex characters kept from the HMAC (64 bits: no collision among a municipality's CPFs)."""
HASH_PATTERN = re.compile(rf"^{HASH_PREFIX}[0-9a-f]{{{HASH_HEX_CHARS}}}$")

# Formatted (123.456.789-09, 123 456 789 09) or bare 11-digit runs, not inside a longer number.
_CPF_LIKE = re.compile(r"(?<!\d)\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s/]?\d{2}(?!\d)")


# --- key and hash ---------------------------------------------------------------------------


def _key_from_text(text: str, where: str, path: Path | None) -> bytes:
    key = text.strip()
    if len(key) < KEY_MIN_CHARS:
        message = f"{where}: chave LGPD vazia ou curta demais (mínimo {KEY_MIN_CHARS} caracteres)"
        raise InputFileError(message, path=path) if path else GeoIPError(message)
    return key.encode("utf-8")


def load_key(path: str | Path | None = None, *, create_at: str | Path | None = None) -> bytes:
    """Load the municipality's secret key for :func:`cpf_hash`.

    Order: the environment variable :data:`KEY_ENV` (``GEO_IP_CHAVE_LGPD``) when set;
    else the file ``path``; else the file ``create_at`` (typically
    ``<saída>/.chave_lgpd``), created with a new random key when absent; else a key
    for this run only (hashes then cannot be compared with other runs; logged).

    The key file is text (the key on one line, at least 16 characters; a new one holds
    64 hex characters from :mod:`secrets`), created readable by its owner only. It must
    be kept by the municipality with the program's records (the same key every year,
    so that the five-year check of Art. 5, II works) and never published nor sent
    with the outputs.

    Parameters
    ----------
    path : str or Path, optional
        An existing key file (e.g. from ``--chave``). It is never created: a missing
        file is an error, since a new key would silently break the comparison with
        earlier runs.
    create_at : str or Path, optional
        Where to read the key from, or to create it when absent, if ``path`` is not given.

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    InputFileError
        ``path`` missing or unreadable, a key file with a key that is too short, or a
        new key that cannot be written at ``create_at``.
    GeoIPError
        :data:`KEY_ENV` set to a key that is too short.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return _key_from_text(env, f"variável de ambiente {KEY_ENV}", None)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputFileError(
                "arquivo da chave LGPD não encontrado; use o mesmo arquivo das análises "
                "anteriores (com outra chave os benefícios anteriores não são reconhecidos)",
                path=path,
            )
        return _key_from_text(_read_key_file(path), "arquivo da chave", path)
    if create_at is None:
        log.warning(
            "sem chave LGPD (%s ou arquivo): usando uma chave só desta execução; os hashes "
            "de CPF não poderão ser comparados com os de outras execuções",
            KEY_ENV,
        )
        return secrets.token_hex(32).encode("ascii")
    target = Path(create_at)
    if target.is_file():
        return _key_from_text(_read_key_file(target), "arquivo da chave", target)
    key = secrets.token_hex(32)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
    except OSError as exc:
        raise InputFileError(
            f"não foi possível gravar a chave LGPD ({exc.strerror or exc})", path=target
        ) from exc
    log.warning(
        "chave LGPD nova gerada em '%s': guarde-a com os registros do programa (sem ela os "
        "benefícios anteriores não são reconhecidos nas próximas análises) e não a publique",
        target,
    )
    return key.encode("ascii")


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"arquivo da chave LGPD ilegível ({exc})", path=path) from exc


_CPF = CPF()


@functools.lru_cache(maxsize=1 << 17)
def cpf_check_digits_ok(digits: str) -> bool:
    """Whether 11 digits have matching CPF check digits (``validate_docbr``), memoised.

    The intake check and the eligibility hash both ask for the same CPFs: the second
    time it is a lookup.
    """
    return bool(_CPF.validate(digits))


def mask_cpf(value: object) -> str:
    """Mask a CPF for reports (LGPD): only the six middle digits stay visible.

    Parameters
    ----------
    value : object
        A CPF in any layout (``"123.456.789-09"``, ``"12345678909"``, a number).

    Returns
    -------
    str
        ``"***.456.789-**"``; ``""`` when empty; ``"***"`` when not 11 digits.
    """
    text = cell_text(value)
    if not text:
        return ""
    digits = cpf_digits(text)
    return f"***.{digits[3:6]}.{digits[6:9]}-**" if len(digits) == 11 else "***"


def valid_cpf_digits(value: object) -> str:
    """Return the 11 digits of a valid CPF, or ``""``.

    Parameters
    ----------
    value : object
        A CPF in any layout (``"123.456.789-09"``, ``"12345678909"``, a number that
        lost its leading zeros in a spreadsheet).

    Returns
    -------
    str
        The digits when the CPF has 11 digits, not all equal, with matching check
        digits; else ``""``.
    """
    text = cell_text(value)
    if not text or re.search(r"[A-Za-z]", text):
        return ""
    digits = cpf_digits(text)
    if len(digits) != 11 or len(set(digits)) == 1 or not cpf_check_digits_ok(digits):
        return ""
    return digits


def cpf_problem(value: object) -> str:
    """Explain why a CPF is invalid (masked, for reports); ``""`` when valid or blank."""
    text = cell_text(value)
    digits = cpf_digits(text)
    if not text or valid_cpf_digits(text):
        return ""
    if re.search(r"[A-Za-z]", text) or len(digits) != 11:
        return f"CPF deve ter 11 dígitos (tem {len(digits)})"
    if len(set(digits)) == 1:
        return f"CPF inválido, todos os dígitos iguais ({mask_cpf(text)})"
    return f"CPF inválido, dígitos verificadores não conferem ({mask_cpf(text)})"


def cpf_hash(cpf: object, key: bytes) -> str:
    """Keyed hash of a CPF, to compare applicants without keeping the CPF.

    Parameters
    ----------
    cpf : object
        A CPF in any layout; formatted and bare forms of the same CPF give the same hash.
    key : bytes
        The municipality's secret key (:func:`load_key`).

    Returns
    -------
    str
        ``"h:"`` + the first 16 hex characters of HMAC-SHA256(key, 11 digits);
        ``""`` for an empty or invalid CPF.
    """
    digits = valid_cpf_digits(cpf)
    if not digits:
        return ""
    digest = hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest[:HASH_HEX_CHARS]


def cpf_hashes(values: pd.Series, key: bytes) -> pd.Series:
    """Apply :func:`cpf_hash` to a column (same index, string dtype)."""
    cache: dict[str, str] = {}
    out = []
    for value in values:
        text = cell_text(value)
        if text not in cache:
            cache[text] = cpf_hash(text, key)
        out.append(cache[text])
    return pd.Series(out, index=values.index, dtype=str)


# --- redaction and views --------------------------------------------------------------------


_ACCENTS = {
    "a": "aáàâãäå", "e": "eéèêë", "i": "iíìîï", "o": "oóòôõöø", "u": "uúùûü", "c": "cç",
    "n": "nñ", "y": "yýÿ",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    """Lower case without accents (``"Brígida"`` → ``"brigida"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


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


_NamesIndex = tuple[frozenset[str], frozenset[tuple[str, ...]], tuple[int, ...]]
"""First words, whole names (folded words) and their lengths, longest first."""


def _names_index(names: Iterable[object]) -> _NamesIndex:
    """Index of whole names (3+ characters), to find them word by word."""
    found = set()
    for name in {unicodedata.normalize("NFC", cell_text(n)) for n in names}:
        words = tuple(_WORD.findall(_fold_aligned(name)))
        if len(name) >= 3 and words:
            found.add(words)
    lengths = tuple(sorted({len(w) for w in found}, reverse=True))
    return frozenset(w[0] for w in found), frozenset(found), lengths


_NAME_GAP = re.compile(r"\s+")
_PART_GAP = re.compile(r"[\s.,'’-]+")  # between name parts: spaces, punctuation


def _redact_words(
    text: str,
    index: _NamesIndex,
    parts: tuple[str, ...],
    *,
    address: bool,
    keep: frozenset[str],
) -> str:
    """Redact the whole names of ``index`` and the runs of name ``parts`` in ``text``.

    Word by word on the folded text (no regular expression per name: a city's thousands
    of applicants would make one too slow). See the module docstring for the rules.
    """
    if not text:
        return text
    folded = _fold_aligned(text)
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    words = [w for _, _, w in spans]
    wanted = set(parts)
    firsts, whole, lengths = index
    if wanted.isdisjoint(words) and firsts.isdisjoint(words):
        return text

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
    if not cuts:
        return text
    pieces, start = [], 0
    for begin, end in cuts:
        pieces += [text[start:begin], REDACTED]
        start = end
    pieces.append(text[start:])
    return "".join(pieces)


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
    result = _CPF_LIKE.sub(REDACTED, unicodedata.normalize("NFC", cell_text(text)))
    parts = name_parts(applicant) if applicant is not None else ()
    return _redact_words(result, _names_index(names), parts, address=address, keep=frozenset())


def _redact_items(text: str, fields: Sequence[str]) -> str:
    """Blank the details of ``" | "``-joined problem items about personal ``fields``."""
    if not text:
        return text
    items = text.split(" | ")
    for i, item in enumerate(items):
        field = next((f for f in fields if f"'{f}'" in item), None)
        if field is not None:
            prefix = "aviso: " if item.startswith("aviso: ") else ""
            items[i] = f"{prefix}campo '{field}': {REDACTED}"
    return " | ".join(items)


def _free_text_columns(df: pd.DataFrame, extra: Sequence[str]) -> list[str]:
    return [
        c
        for c in df.columns
        if isinstance(c, str)
        and (c in FREE_TEXT_COLUMNS or c in extra or c.startswith(FREE_TEXT_PREFIXES))
    ]


def _present(values: pd.Series) -> pd.Series:
    return values.map(lambda v: isinstance(v, str) or not pd.isna(v))


def _mask_cpf_like(out: pd.DataFrame) -> None:
    """Replace CPF-shaped runs by :data:`REDACTED` in every text cell of ``out`` (in place).

    Every column but :data:`_KEEP_CPF_LIKE`; numbers, dates and geometries are not text.
    """
    for column in out.columns:
        values = out[column]
        if column in _KEEP_CPF_LIKE or not (
            values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
        ):
            continue
        texts = values.map(lambda v: v if isinstance(v, str) else "")
        hit = texts.str.contains(_CPF_LIKE, regex=True)
        if hit.any():
            changed = values.astype(object).copy()
            changed[hit] = texts[hit].str.replace(_CPF_LIKE, REDACTED, regex=True)
            out[column] = changed


def _place_words(df: pd.DataFrame) -> list[frozenset[str]]:
    """Per row, the folded words of the places found for it in the territory."""
    columns = [
        c for c in df.columns if isinstance(c, str) and (c in PLACE_COLUMNS or c.endswith("_nomes"))
    ]
    if not columns:
        return [frozenset()] * len(df)
    joined = df[columns].astype(object).map(lambda v: v if isinstance(v, str) else "")
    return [
        frozenset(_WORD.findall(_fold(" ".join(row))))
        for row in joined.itertuples(index=False, name=None)
    ]


def _redacted_copy(
    df: pd.DataFrame,
    drop: Sequence[str],
    item_fields: Sequence[str],
    extra: Sequence[str],
    more_names: Iterable[object] = (),
) -> pd.DataFrame:
    applicants = (
        [cell_text(n) for n in df["nome_solicitante"]]
        if "nome_solicitante" in df.columns
        else [""] * len(df)
    )
    index = _names_index([*applicants, *more_names])
    parts = [name_parts(n) for n in applicants]
    places = _place_words(df) if any(parts) else [frozenset()] * len(df)
    out = df.drop(columns=[c for c in drop if c in df.columns]).copy()
    for column in _free_text_columns(out, extra):
        values = out[column].astype(object)
        present = _present(values)
        if not present.any():
            continue
        text = values[present].map(lambda v: unicodedata.normalize("NFC", cell_text(v)))
        text = text.str.replace(_CPF_LIKE, REDACTED, regex=True)
        if index[1] or any(parts):
            address = column in ADDRESS_COLUMNS
            rows = np.flatnonzero(present.to_numpy())
            text = pd.Series(
                [
                    _redact_words(t, index, parts[r], address=address, keep=places[r])
                    for t, r in zip(text, rows, strict=True)
                ],
                index=text.index,
                dtype=object,
            )
        quoted = "|".join(re.escape(f"'{f}'") for f in item_fields)
        if quoted:
            about = text.str.contains(quoted, regex=True)
            text[about] = text[about].map(lambda s: _redact_items(s, item_fields))
        values[present] = text
        out[column] = values
    _mask_cpf_like(out)
    return out


def public_view(
    df: pd.DataFrame, *, free_text: Sequence[str] = (), names: Iterable[object] = ()
) -> pd.DataFrame:
    """Return the table as public outputs may show it: no personal data (LGPD).

    Drops :data:`PERSONAL_COLUMNS`, :data:`PSEUDONYMOUS_COLUMNS`,
    :data:`ELIGIBILITY_DETAIL` and the applicant's free text
    (:data:`APPLICANT_TEXT_COLUMNS`); replaces CPF-shaped values by :data:`REDACTED`
    in every text column (``protocolo`` excepted); in free-text columns
    (:data:`FREE_TEXT_COLUMNS`, columns starting with one of
    :data:`FREE_TEXT_PREFIXES`, and ``free_text``) replaces the applicants' names and
    the parts of each row's applicant's name (see the module docstring) by
    :data:`REDACTED`, and reduces problem items about a personal field (e.g. the income
    cell quoted by the intake check) to the field name.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table of the pipeline (a GeoDataFrame stays one).
    free_text : sequence of str, optional
        More columns to redact.
    names : iterable of str, optional
        More names to redact, besides those of ``df["nome_solicitante"]`` (for a
        table without that column: a subset of the columns, a file of decisions).

    Returns
    -------
    pandas.DataFrame
        A new table; ``df`` is not modified.
    """
    drop = (*PERSONAL_COLUMNS, *PSEUDONYMOUS_COLUMNS, *ELIGIBILITY_DETAIL, *APPLICANT_TEXT_COLUMNS)
    return _redacted_copy(df, drop, PERSONAL_COLUMNS, free_text, names)


def internal_view(
    df: pd.DataFrame, *, free_text: Sequence[str] = (), names: Iterable[object] = ()
) -> pd.DataFrame:
    """Return the table as the commission's internal outputs show it (LGPD).

    CPF masked (:func:`mask_cpf`; an already masked value is kept);
    ``nome_solicitante`` and ``renda_familiar`` dropped (the eligibility texts say
    whether the income is within the limit, without the figure); ``cadunico`` as
    ``"sim"``/``"não"``/``""``, because the commission needs it to assess hardship
    (Art. 4 §2, I); ``cpf_hash``, the eligibility texts and the applicant's free text
    kept. CPF-shaped values in every text column and names in free text are redacted
    as in :func:`public_view`.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table of the pipeline.
    free_text : sequence of str, optional
        More columns to redact.
    names : iterable of str, optional
        More names to redact, as in :func:`public_view`.

    Returns
    -------
    pandas.DataFrame
        A new table; ``df`` is not modified.
    """
    out = _redacted_copy(
        df,
        ("nome_solicitante", "renda_familiar"),
        ("nome_solicitante", "renda_familiar"),
        free_text,
        names,
    )
    if "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = [
            v if str(v).startswith("***") else mask_cpf(v) for v in out["cpf_solicitante"]
        ]
    if "cadunico" in out.columns:
        out["cadunico"] = [_yes_no(v) for v in out["cadunico"]]
    return out


def _yes_no(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        key = slug(value)
        return "sim" if key in ("sim", "s", "true", "1") else "não" if key else ""
    return "sim" if bool(value) else "não"


# --- scan -----------------------------------------------------------------------------------


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
    for match in _CPF_LIKE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        hit = digits in wanted if wanted is not None else bool(valid_cpf_digits(digits))
        if hit:
            found.append((match.start(), f"CPF {mask_cpf(digits)}"))
    pattern = _name_pattern(names)
    if pattern is not None:
        found.extend((m.start(), f"nome {_initials(m.group())}") for m in pattern.finditer(text))
    return [entry for _, entry in sorted(found)]
