"""What every change of the registry shares: its errors, the clock and the request's version.

:class:`ConflictError` is the optimistic lock of :mod:`geo_ip.registry.store`: a change
states the request's version the user saw, and :func:`guard` refuses it when someone
else changed the request meanwhile.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from geo_ip.errors import GeoIPError
from geo_ip.registry.models import (
    Request,
    StatusChange,
)
from geo_ip.requests.privacy import (
    APPLICANT_TEXT_COLUMNS,
    ELIGIBILITY_DETAIL,
    PERSONAL_COLUMNS,
    PSEUDONYMOUS_COLUMNS,
)
from geo_ip.requests.redaction import CPF_LIKE
from geo_ip.schema import DECISION_COLUMNS

__all__ = [
    "EXPORT_COLUMNS",
    "MAX_TEXT",
    "PERSONAL",
    "ConflictError",
    "RegistryError",
    "change_status",
    "guard",
    "now",
    "refuse_cpf",
    "touch",
    "visible",
]

PERSONAL = (*PERSONAL_COLUMNS, *PSEUDONYMOUS_COLUMNS, *APPLICANT_TEXT_COLUMNS, *ELIGIBILITY_DETAIL)
"""Columns of the assessment table kept only in ``dados_pessoais`` (LGPD)."""
EXPORT_COLUMNS = tuple(c for c in DECISION_COLUMNS if c != "linha")
"""Columns of the decisions CSV that ``geo-ip avaliar --decisoes`` reads, in its order."""
MAX_TEXT = 5000
"""Longest motivation or answer accepted (characters)."""


class RegistryError(GeoIPError):
    """A change the registry refuses (message in Portuguese, for the user)."""


class ConflictError(RegistryError):
    """Someone else changed the request after the user opened it.

    Attributes
    ----------
    who : str
        Who made the later change.
    when : datetime
        When.
    """

    def __init__(self, who: str, when: datetime) -> None:
        self.who, self.when = who, when
        stamp = when.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC") if when else "agora"
        super().__init__(
            f"este pedido foi alterado por {who or 'outro usuário'} em {stamp}, depois que "
            "você o abriu: nada foi gravado; confira o estado atual e salve de novo"
        )


def now() -> datetime:
    """Return the time of a change (UTC)."""
    return datetime.now(UTC)


def guard(request: Request, expected_version: int | None) -> None:
    """Refuse a change made on an older version of the request (:class:`ConflictError`)."""
    if expected_version is not None and request.versao != expected_version:
        raise ConflictError(request.atualizado_por, request.atualizado_em)


def touch(request: Request, actor: str) -> None:
    """Record who changed the request last, and when."""
    request.atualizado_em, request.atualizado_por = now(), actor


def change_status(session: Session, request: Request, status: str, actor: str, why: str) -> None:
    """Move the request to a status, adding the step to its history (no-op if unchanged)."""
    if request.situacao == status:
        return
    session.add(StatusChange(pedido_id=request.id, situacao=status, em=now(), por=actor,
                             motivo=why))  # fmt: skip
    request.situacao = status


_SPACES = frozenset({"Zs", "Zl", "Zp"})
_KEPT_CONTROLS = frozenset("\t\n\r")


def visible(text: str) -> str:
    """Return a typed text without invisible characters, stripped.

    Format characters (Unicode category Cf: zero-width space, joiners, bidirectional
    controls, BOM...) and control characters other than tab and line breaks are dropped;
    Unicode spaces become plain spaces and line or paragraph separators line breaks. A
    text made only of such characters is thus empty (a required field stays required).

    Parameters
    ----------
    text : str
        The text typed.

    Returns
    -------
    str
        The visible text, without spaces around it.
    """
    out = []
    for char in text or "":
        category = unicodedata.category(char)
        if category == "Cf" or (category == "Cc" and char not in _KEPT_CONTROLS):
            continue
        if category in _SPACES:
            out.append("\n" if category != "Zs" else " ")
        else:
            out.append(char)
    return "".join(out).strip()


def refuse_cpf(text: str, what: str) -> None:
    """Refuse a text typed by a user that holds a CPF-shaped number (LGPD).

    The registry's events are append-only and hash-chained: a CPF written in a
    motivation, a report or a reason could never be erased. Every formatted CPF layout
    and every run of exactly 11 digits is refused
    (:data:`geo_ip.requests.redaction.CPF_LIKE`), whatever its check digits.

    Parameters
    ----------
    text : str
        The text as typed.
    what : str
        What the text is, in Portuguese (``a motivação``), for the message.

    Raises
    ------
    RegistryError
        The text holds a CPF-shaped number; the message never repeats it.
    """
    if CPF_LIKE.search(text or ""):
        raise RegistryError(
            f"não escreva CPF no texto: {what} traz um número com a forma de um CPF "
            "(11 dígitos); o registro é permanente e não pode ser apagado. Retire o número "
            "e grave de novo"
        )
