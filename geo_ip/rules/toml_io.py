"""Reading a rules TOML into a model: errors in Portuguese naming the key, and the hash.

Shared by the municipality rules (:func:`geo_ip.rules.config.load_rules`) and the CIP
rules and tariffs (:mod:`geo_ip.rules.cip_rules`): :func:`merge_tables` resolves
``herda`` (a file that inherits another's keys), :func:`validate` turns the first
pydantic error into a :class:`~geo_ip.errors.RulesError` that names the file and the
key, and :func:`stamped` records which file, with which bytes, the model came from.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from geo_ip.errors import RulesError
from geo_ip.rules.params import KeyedRuleError

__all__ = ["PT_ERRORS", "merge_tables", "read_toml", "stamped", "toml_key", "validate"]

_M = TypeVar("_M", bound=BaseModel)

PT_ERRORS = {
    "missing": "chave obrigatória ausente",
    "extra_forbidden": "chave desconhecida",
    "float_parsing": "deve ser um número",
    "float_type": "deve ser um número",
    "int_parsing": "deve ser um número inteiro",
    "int_type": "deve ser um número inteiro",
    "string_type": "deve ser um texto",
    "bool_type": "deve ser true ou false",
    "bool_parsing": "deve ser true ou false",
    "literal_error": "valor não permitido",
    "string_pattern_mismatch": "formato inválido",
    "string_too_short": "texto curto demais (informe a fonte)",
    "greater_than_equal": "valor abaixo do mínimo",
    "greater_than": "valor abaixo do mínimo",
    "less_than_equal": "valor acima do máximo",
    "less_than": "valor acima do máximo",
    "finite_number": "deve ser um número finito (nan e inf não são aceitos)",
    "too_short": "lista vazia",
    "model_type": "deve ser uma tabela",
    "tuple_type": "deve ser uma lista",
}
"""Portuguese reason of each pydantic error type (others keep pydantic's message)."""


def toml_key(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a TOML-like key.

    Parameters
    ----------
    loc : tuple of int or str
        The error's ``loc``.

    Returns
    -------
    str
        ``a.b[0].c``.
    """
    return "".join(f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc).lstrip(".")


def read_toml(path: Path, missing: str, invalid: str) -> tuple[dict[str, Any], bytes]:
    """Read one TOML file (``herda`` left in the tables for the caller to resolve).

    Parameters
    ----------
    path : Path
        The file.
    missing : str
        The error's message when the file does not exist.
    invalid : str
        The error's message when it is not UTF-8 TOML (the parser's reason follows).

    Returns
    -------
    data : dict
        The tables.
    raw : bytes
        The bytes read (for the hash).

    Raises
    ------
    RulesError
        Naming ``path``.
    """
    if not path.is_file():
        raise RulesError(missing, path=path)
    raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{invalid} ({exc})", path=path) from exc


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with the keys of ``override``, tables merged key by key.

    Parameters
    ----------
    base : dict
        The inherited file's tables (``herda``).
    override : dict
        The inheriting file's tables: a value that is not a table replaces the
        inherited one whole (a list is not merged).

    Returns
    -------
    dict
        A new dict; neither argument is changed.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(model: type[_M], data: dict[str, Any], path: Path) -> _M:
    """Validate the tables of a rules file with a model.

    Parameters
    ----------
    model : type
        The pydantic model of the whole file.
    data : dict
        The file's tables (inheritance resolved).
    path : Path
        The file, for the error.

    Returns
    -------
    pydantic.BaseModel
        The validated ``model``.

    Raises
    ------
    RulesError
        With the first problem in Portuguese (and how many more there are), naming
        ``path`` and the key at fault (below the key a :class:`KeyedRuleError` names).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = toml_key(tuple(first["loc"]))
        reason = PT_ERRORS.get(first["type"], first["msg"])
        if first["type"] == "value_error":
            error = first.get("ctx", {}).get("error", first["msg"])
            reason = str(error)
            if isinstance(error, KeyedRuleError):
                key = ".".join(part for part in (key, error.key) if part)
        more = len(exc.errors()) - 1
        extra = f" (e mais {more} problema(s))" if more else ""
        raise RulesError(f"{reason}{extra}", path=path, field=key or None) from exc


def stamped(rules: _M, path: Path, raw: bytes) -> _M:
    """Return a copy of loaded rules with ``arquivo`` and ``sha256`` filled in.

    Parameters
    ----------
    rules : pydantic.BaseModel
        Validated rules with the fields ``arquivo`` and ``sha256``.
    path : Path
        The file read.
    raw : bytes
        The bytes read (the inherited files' first), hashed with SHA-256.

    Returns
    -------
    pydantic.BaseModel
        The copy.
    """
    return rules.model_copy(
        update={"arquivo": str(path), "sha256": hashlib.sha256(raw).hexdigest()}
    )
