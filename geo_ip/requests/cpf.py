"""The applicant's CPF under LGPD: check digits, masking, and the keyed hash.

The CPF is replaced by :func:`cpf_hash`, a keyed hash (HMAC-SHA256) that lets the
five-year repeat check of Art. 5, II compare applicants across runs without the CPF in
clear. The key (:func:`load_key`) belongs to the municipality: it is kept with the
program's records and never published. Reports show a CPF through :func:`mask_cpf`.
See :mod:`geo_ip.requests.privacy` for what each output may show.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
from validate_docbr import CPF

from geo_ip._util.parse import cell_text, cpf_digits
from geo_ip.errors import GeoIPError, InputFileError

__all__ = [
    "HASH_PATTERN",
    "KEY_ENV",
    "KEY_FILE_NAME",
    "cpf_check_digits_ok",
    "cpf_hash",
    "cpf_hashes",
    "cpf_problem",
    "load_key",
    "mask_cpf",
    "valid_cpf_digits",
    "valid_cpf_digits_array",
]

log = logging.getLogger(__name__)

KEY_ENV = "GEO_IP_CHAVE_LGPD"
"""Environment variable holding the LGPD key; overrides any key file."""
KEY_FILE_NAME = ".chave_lgpd"
"""Conventional name of the key file inside the output folder."""
KEY_MIN_CHARS = 16
HASH_PREFIX = "h:"
HASH_HEX_CHARS = 16
"""Hex characters kept from the HMAC (64 bits: no collision among a municipality's CPFs)."""
HASH_PATTERN = re.compile(rf"^{HASH_PREFIX}[0-9a-f]{{{HASH_HEX_CHARS}}}$")


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
    if value.__class__ is str and _FORMATTED_CPF.fullmatch(value):  # 000.000.000-00
        return f"***.{value[4:7]}.{value[8:11]}-**"
    text = cell_text(value)
    if not text:
        return ""
    digits = cpf_digits(text)
    return f"***.{digits[3:6]}.{digits[6:9]}-**" if len(digits) == 11 else "***"


_FORMATTED_CPF = re.compile(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}")
"""A CPF as :func:`geo_ip.requests.intake.validate_requests` writes it (ASCII digits)."""


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


_FORMATTED_DIGITS = np.array([0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13])
"""Positions of the digits in ``000.000.000-00``."""
_FIRST_WEIGHTS = np.arange(10, 1, -1)
_SECOND_WEIGHTS = np.arange(11, 1, -1)


def _check_digit(weighted: np.ndarray) -> np.ndarray:
    """CPF check digit of weighted sums (``validate_docbr``: ×10 mod 11, 10 → 0)."""
    digit = (weighted * 10) % 11
    return np.where(digit == 10, 0, digit)


def _valid_rows(cells: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits (as text) and validity of same-width ASCII cells: 11 bare digits or 14 formatted.

    A cell whose layout is not exactly ``00000000000`` or ``000.000.000-00`` is not valid
    here (``False``): the caller reads it one by one.
    """
    raw = np.frombuffer("".join(cells).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    if width == 14:
        layout = (raw[:, 3] == ord(".")) & (raw[:, 7] == ord(".")) & (raw[:, 11] == ord("-"))
        raw = raw[:, _FORMATTED_DIGITS]
    else:
        layout = np.ones(len(raw), dtype=bool)
    digits = raw.astype(np.int64) - ord("0")
    layout &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    repeated = (digits == digits[:, :1]).all(axis=1)
    first = _check_digit(digits[:, :9] @ _FIRST_WEIGHTS) == digits[:, 9]
    second = _check_digit(digits[:, :10] @ _SECOND_WEIGHTS) == digits[:, 10]
    text = raw.tobytes().decode("ascii")
    as_text = np.array([text[i : i + 11] for i in range(0, len(text), 11)], dtype=object)
    return as_text, layout & ~repeated & first & second


def valid_cpf_digits_array(texts: np.ndarray | list[str]) -> np.ndarray:
    """:func:`valid_cpf_digits` of many stripped texts at once (check digits as arrays).

    Parameters
    ----------
    texts : numpy.ndarray or list of str
        CPF cells as text (:func:`geo_ip._util.parse.cell_text`).

    Returns
    -------
    numpy.ndarray of object
        The 11 digits of each valid CPF, ``""`` elsewhere: the same as
        :func:`valid_cpf_digits` cell by cell. ``00000000000`` and ``000.000.000-00``
        written in ASCII are checked as arrays; any other layout one by one.
    """
    cells = np.asarray(texts, dtype=object)
    out = np.full(len(cells), "", dtype=object)
    done = np.zeros(len(cells), dtype=bool)
    width = np.fromiter(
        (len(v) if isinstance(v, str) and v.isascii() else 0 for v in cells),
        dtype=np.int64,
        count=len(cells),
    )
    for size in (11, 14):
        rows = np.flatnonzero(width == size)
        if rows.size:
            digits, valid = _valid_rows(cells[rows].tolist(), size)
            out[rows[valid]] = digits[valid]
            done[rows[valid]] = True
    # blank cells are invalid; the rest (other layouts, and those failing the array check,
    # to keep the one-by-one rules in one place) are read one by one
    rest = np.flatnonzero(~done & (cells != ""))
    out[rest] = [valid_cpf_digits(v) for v in cells[rest]]
    return out


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
    return _digits_hash(digits, key)


def _digits_hash(digits: str, key: bytes) -> str:
    """``"h:"`` + the first 16 hex characters of HMAC-SHA256(key, the 11 digits)."""
    digest = hmac.digest(key, digits.encode("ascii"), "sha256").hex()
    return HASH_PREFIX + digest[:HASH_HEX_CHARS]


def cpf_hashes(values: pd.Series, key: bytes) -> pd.Series:
    """Apply :func:`cpf_hash` to a column (same index, string dtype)."""
    texts = [
        v.strip() if v.__class__ is str else cell_text(v) for v in values.to_numpy(dtype=object)
    ]
    digits = valid_cpf_digits_array(texts)
    cache: dict[str, str] = {"": ""}
    out = []
    for one in digits:
        if one not in cache:
            cache[one] = _digits_hash(one, key)
        out.append(cache[one])
    return pd.Series(out, index=values.index, dtype=str)
