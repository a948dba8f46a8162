"""The history of benefits granted by the program: reading and checking it (requests stage).

:func:`read_history` reads the history (CSV or XLSX, one row per benefit granted) for
Art. 5, II, checks every row (date, CPF or its keyed hash, request type) and keeps the
CPF's hash only, never the CPF. A bad row never stops the reading: it is reported with
the reason, naming file, row and field (CPFs masked). The valid rows, columns
:data:`geo_ip.schema.HISTORY_COLUMNS`, go to :func:`geo_ip.law.eligibility.check`,
which never reads a file.

The file is read by :func:`geo_ip.sources.tables.read_sheet`, the tolerant reader shared
with the requests, the Commission's decisions and the occurrences.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd

from geo_ip._util.parse import date_problems, parse_dates
from geo_ip.requests.cpf import HASH_PATTERN, cpf_hash, cpf_problem, valid_cpf_digits
from geo_ip.requests.intake_checks import TIPOS, request_type
from geo_ip.schema import HISTORY_COLUMNS
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import Schema, aliases_of

__all__ = ["read_history"]

log = logging.getLogger(__name__)

_HISTORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "protocolo": ("no_protocolo", "n_protocolo", "numero_protocolo"),
    "data": ("data_beneficio", "data_do_beneficio", "data_execucao", "data_da_execucao",
             "data_conclusao", "data_concessao"),
    "cpf": ("cpf_solicitante", "cpf_do_solicitante", "cpf_beneficiario", "cpf_do_beneficiario"),
    "cpf_hash": ("hash_cpf", "hash_do_cpf"),
    "tipo": ("tipo_beneficio", "tipo_de_beneficio", "tipo_obra", "tipo_de_obra", "tipo_pedido"),
}  # fmt: skip
_HISTORY = Schema(
    what="histórico de benefícios",
    aliases=aliases_of(_HISTORY_SYNONYMS),
    required=("data", ("cpf", "cpf_hash")),
)


def read_history(
    path: str | Path, key: bytes, *, today: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the history of benefits granted by the program (for Art. 5, II).

    Parameters
    ----------
    path : str or Path
        CSV or XLSX, one row per benefit granted: ``data`` (date of the benefit or of
        the works' execution; required), ``cpf`` (clear, any layout) or ``cpf_hash``
        (from an earlier run with the same key), optional ``protocolo`` and ``tipo``
        (extensao_rede, implantacao, melhoria; blank = presumed identical to any
        request). Headers such as ``data_execucao``, ``cpf_beneficiario``,
        ``tipo_obra`` are recognised. When both ``cpf`` and ``cpf_hash`` are filled,
        the CPF wins.
    key : bytes
        The LGPD key (:func:`geo_ip.requests.cpf.load_key`).
    today : datetime.date, optional
        Reference for two-digit years; default: today.

    Returns
    -------
    history : pandas.DataFrame
        Valid rows, columns :data:`geo_ip.schema.HISTORY_COLUMNS` (``data`` as
        ``datetime.date``, ``tipo`` canonical or ``""``); the CPF is not kept.
    rejected : pandas.DataFrame
        ``arquivo``, ``linha``, ``protocolo``, ``motivo`` (naming file, row and every
        faulty field; CPFs masked).

    Raises
    ------
    InputFileError
        Missing, empty or unreadable file; no ``data`` column, or neither ``cpf`` nor
        ``cpf_hash``.
    """
    path = Path(path)
    table = read_sheet(path, _HISTORY)
    n = len(table)
    if n == 0:
        log.warning("arquivo '%s': só o cabeçalho, histórico de benefícios vazio", path)
    blank = pd.Series([""] * n, dtype=str)
    text = {c: table[c].reset_index(drop=True) if c in table else blank for c in _HISTORY_SYNONYMS}
    dates, day_problems = _dates(text["data"], today or date.today())
    rows: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    mismatched = 0
    for i in range(n):
        problems = [day_problems.iloc[i]] if day_problems.iloc[i] else []
        hashed, mismatch = _hash(text["cpf"].iloc[i], text["cpf_hash"].iloc[i], key, problems)
        mismatched += mismatch
        tipo = _tipo(text["tipo"].iloc[i], problems)
        line, protocol = int(table["linha"].iloc[i]), text["protocolo"].iloc[i]
        if problems:
            motive = f"arquivo '{path}', linha {line}: " + " | ".join(problems)
            rejected.append(
                {"arquivo": str(path), "linha": line, "protocolo": protocol, "motivo": motive}
            )
            log.warning("histórico de benefícios, linha recusada: %s", motive)
            continue
        values = (line, protocol, dates.iloc[i], tipo, hashed)
        rows.append(dict(zip(HISTORY_COLUMNS, values, strict=True)))
    if mismatched:
        log.warning(
            "arquivo '%s': %d linha(s) com cpf_hash diferente do hash do CPF (chave LGPD "
            "diferente da usada antes?); valeu o CPF",
            path,
            mismatched,
        )
    history, report = _tables(rows, rejected)
    log.info(
        "histórico de benefícios '%s': %d linha(s) válida(s), %d recusada(s)",
        path,
        len(history),
        len(report),
    )
    return history, report


def _dates(text: pd.Series, reference: date) -> tuple[pd.Series, pd.Series]:
    """Each row's date and the problem with it (required, valid, not in the future)."""
    dates, status = parse_dates(text, reference)
    day_problems = date_problems(text, status, "data", blank="obrigatório, está vazio")
    future = [d is not None and not pd.isna(d) and d > reference for d in dates]
    day_problems = day_problems.mask(
        pd.Series(future, index=day_problems.index),
        [f"campo 'data': data futura ({d.isoformat()})" if f else "" for d, f in
         zip(dates, future, strict=True)],
    )  # fmt: skip
    return dates, day_problems


def _hash(cpf: str, given: str, key: bytes, problems: list[str]) -> tuple[str, bool]:
    """Hash the row's CPF (it wins over a given hash): (hash, whether it differs from the given)."""
    given_hash = given.strip().lower()
    if cpf:
        if valid_cpf_digits(cpf):
            hashed = cpf_hash(cpf, key)
            return hashed, bool(given_hash) and given_hash != hashed
        problems.append(f"campo 'cpf': {cpf_problem(cpf)}")
    elif given_hash:
        if HASH_PATTERN.match(given_hash):
            return given_hash, False
        problems.append(
            f"campo 'cpf_hash': hash inválido ('{given_hash[:20]}'); esperado 'h:' e 16 "
            "caracteres hexadecimais, gerado pelo geo_ip com a chave LGPD do Município"
        )
    else:
        problems.append("campos 'cpf' e 'cpf_hash': vazios; informe o CPF ou o seu hash")
    return "", False


def _tipo(value: str, problems: list[str]) -> str | None:
    """Return the canonical request type of the row (``""`` when blank; None when unknown)."""
    tipo = request_type(value)
    if tipo is None:
        problems.append(
            f"campo 'tipo': tipo desconhecido ('{value[:60]}'); use "
            + ", ".join(TIPOS[:-1])
            + f" ou {TIPOS[-1]} (ou deixe em branco)"
        )
    return tipo


def _tables(
    rows: list[dict[str, object]], rejected: list[dict[str, object]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type the tables of the valid rows and of the rejected ones."""
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    history["linha"] = history["linha"].astype("int64")
    for column in ("protocolo", "tipo", "cpf_hash"):
        history[column] = history[column].astype(str)
    history["data"] = history["data"].astype(object)
    report = pd.DataFrame(rejected, columns=["arquivo", "linha", "protocolo", "motivo"])
    report["linha"] = report["linha"].astype("int64")
    return history, report
