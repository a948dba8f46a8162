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
  LGPD Art. 12 §3 for whoever holds the key), and CPFs, phone-like numbers and
  applicants' names redacted from free text;
- :func:`internal_view` is what the commission's internal outputs show: CPF masked
  (``***.456.789-**``, the layout of federal transparency portals), no names, no income
  figure, CadÚnico as ``sim``/``não`` (the commission needs it: Art. 4 §2, I).

:func:`scan_for_personal_data` finds clear CPFs (formatted or bare) and names in any
text; tests run it over every output.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from geo_ip._parse import cell_text, cpf_digits, slug
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.intake import cpf_check_digits_ok, mask_cpf

__all__ = [
    "ELIGIBILITY_DETAIL",
    "FREE_TEXT_COLUMNS",
    "KEY_ENV",
    "KEY_FILE_NAME",
    "PERSONAL_COLUMNS",
    "PSEUDONYMOUS_COLUMNS",
    "REDACTED",
    "cpf_hash",
    "cpf_hashes",
    "cpf_problem",
    "internal_view",
    "load_key",
    "public_view",
    "redact_text",
    "scan_for_personal_data",
    "valid_cpf_digits",
]

log = logging.getLogger("geo_ip")

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
(Art. 10, II). ``observacoes`` and ``justificativa_estrategica`` are free text: kept,
but redacted (:data:`FREE_TEXT_COLUMNS`).
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
    "motivacao",
    "descricao",
    "procedimento_art12",
)
"""Free-text columns redacted by the views; also any column starting with a prefix below."""
FREE_TEXT_PREFIXES = ("motivacao_", "decisao_", "justificativa", "motivo", "avisos", "parecer")
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


def _name_pattern(names: Iterable[object]) -> re.Pattern[str] | None:
    unique = {cell_text(n) for n in names}
    texts = sorted((n for n in unique if len(n) >= 3), key=len, reverse=True)
    if not texts:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, t.split())) for t in texts)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def redact_text(text: object, names: Iterable[object] = ()) -> str:
    """Replace CPF-like numbers and the given names in a text by :data:`REDACTED`.

    Every formatted CPF layout and every run of exactly 11 digits is replaced, whether
    or not its check digits match (an 11-digit run is also what a mobile phone number
    with area code looks like: personal data as well).

    Parameters
    ----------
    text : object
        Any cell value.
    names : iterable of str, optional
        Names to remove (case-insensitive, any spacing).

    Returns
    -------
    str
        The redacted text.
    """
    result = _CPF_LIKE.sub(REDACTED, cell_text(text))
    pattern = _name_pattern(names)
    return pattern.sub(REDACTED, result) if pattern else result


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


def _redacted_copy(
    df: pd.DataFrame,
    drop: Sequence[str],
    item_fields: Sequence[str],
    extra: Sequence[str],
    more_names: Iterable[object] = (),
) -> pd.DataFrame:
    names = [*(df["nome_solicitante"] if "nome_solicitante" in df.columns else ()), *more_names]
    pattern = _name_pattern(names)
    out = df.drop(columns=[c for c in drop if c in df.columns]).copy()
    for column in _free_text_columns(out, extra):
        values = out[column].astype(object)
        present = values.map(lambda v: isinstance(v, str) or not pd.isna(v))
        if not present.any():
            continue
        text = values[present].map(cell_text)
        text = text.str.replace(_CPF_LIKE, REDACTED, regex=True)
        if pattern is not None:
            text = text.str.replace(pattern, REDACTED, regex=True)
        quoted = "|".join(re.escape(f"'{f}'") for f in item_fields)
        if quoted:
            about = text.str.contains(quoted, regex=True)
            text[about] = text[about].map(lambda s: _redact_items(s, item_fields))
        values[present] = text
        out[column] = values
    return out


def public_view(
    df: pd.DataFrame, *, free_text: Sequence[str] = (), names: Iterable[object] = ()
) -> pd.DataFrame:
    """Return the table as public outputs may show it: no personal data (LGPD).

    Drops :data:`PERSONAL_COLUMNS`, :data:`PSEUDONYMOUS_COLUMNS` and
    :data:`ELIGIBILITY_DETAIL`; in free-text columns (:data:`FREE_TEXT_COLUMNS`,
    columns starting with ``motivacao_``, ``decisao_``, ``justificativa``, ``motivo``,
    ``avisos``, ``parecer``, and ``free_text``) replaces CPF-like numbers and the
    applicants' names by :data:`REDACTED`, and reduces problem items about a personal
    field (e.g. the income cell quoted by the intake check) to the field name.

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
    drop = (*PERSONAL_COLUMNS, *PSEUDONYMOUS_COLUMNS, *ELIGIBILITY_DETAIL)
    return _redacted_copy(df, drop, PERSONAL_COLUMNS, free_text, names)


def internal_view(
    df: pd.DataFrame, *, free_text: Sequence[str] = (), names: Iterable[object] = ()
) -> pd.DataFrame:
    """Return the table as the commission's internal outputs show it (LGPD).

    CPF masked (:func:`geo_ip.intake.mask_cpf`; an already masked value is kept);
    ``nome_solicitante`` and ``renda_familiar`` dropped (the eligibility texts say
    whether the income is within the limit, without the figure); ``cadunico`` as
    ``"sim"``/``"não"``/``""``, because the commission needs it to assess hardship
    (Art. 4 §2, I); ``cpf_hash`` and the eligibility texts kept. Free text is
    redacted as in :func:`public_view`.

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
