"""The audit trail: every change of the registry is an append-only, hash-chained event.

Each event records who, when, what (action, entity and its id), the state before and
after, the hash of the previous event and its own hash: SHA-256 over the canonical JSON
of all these fields. The head of the chain (table ``cadeia``: number of events and last
hash) is updated in the same transaction, under a row lock, so two concurrent changes
never fork the chain. The database refuses ``UPDATE`` and ``DELETE`` on ``eventos``
(a trigger created by the first migration); :func:`verify` recomputes the chain and
names every event that was edited, deleted or inserted out of place, for the day
someone with the database's owner rights goes around the trigger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo_ip.registry.models import ChainHead, Event

__all__ = ["GENESIS", "Verification", "append", "canonical", "event_hash", "head", "verify"]

GENESIS = "0" * 64
"""The ``hash_anterior`` of the first event."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` as plain JSON values (dates as ISO text, NaN as null).

    Parameters
    ----------
    data : mapping
        The before or after state of a change.

    Returns
    -------
    dict
        A copy made only of JSON types, so that it reads back from the database unchanged.
    """
    return dict(_plain(dict(data)))


def event_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 of an event's fields (canonical JSON, keys sorted).

    Parameters
    ----------
    fields : mapping
        ``seq``, ``em``, ``usuario``, ``acao``, ``entidade``, ``entidade_id``, ``antes``,
        ``depois`` and ``hash_anterior``.

    Returns
    -------
    str
        64 hex characters.
    """
    text = json.dumps(
        {k: fields[k] for k in _HASHED}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_HASHED = (
    "seq", "em", "usuario", "acao", "entidade", "entidade_id", "antes", "depois", "hash_anterior",
)  # fmt: skip


def append(
    session: Session,
    user: str,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event to the chain, in the session's transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The session of the change (the event commits or rolls back with it).
    user : str
        Who made the change (login, or ``sistema:<command>``).
    action : str
        What was done, e.g. ``decisao``, ``vistoria``, ``login``.
    entity : str
        The table or kind of thing changed, e.g. ``pedido``.
    entity_id : object
        Its id (protocol, number).
    before, after : mapping, optional
        The state before and after the change.

    Returns
    -------
    Event
        The event added.
    """
    head = session.execute(
        update(ChainHead)
        .where(ChainHead.id == 1)
        .values(eventos=ChainHead.eventos + 1)
        .returning(ChainHead.eventos, ChainHead.ultimo_hash)
    ).one()
    fields: dict[str, Any] = {
        "seq": int(head.eventos),
        "em": datetime.now(UTC).isoformat(timespec="microseconds"),
        "usuario": str(user),
        "acao": str(action),
        "entidade": str(entity),
        "entidade_id": str(entity_id),
        "antes": canonical(before or {}),
        "depois": canonical(after or {}),
        "hash_anterior": str(head.ultimo_hash),
    }
    fields["hash"] = event_hash(fields)
    event = Event(**fields)
    session.add(event)
    session.execute(update(ChainHead).where(ChainHead.id == 1).values(ultimo_hash=fields["hash"]))
    return event


def head(session: Session) -> tuple[int, str]:
    """Return the number and hash of the last event, to be written down as an anchor.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session on the registry.

    Returns
    -------
    tuple of (int, str)
        ``(0, GENESIS)`` for an empty chain.
    """
    row = session.get(ChainHead, 1)
    return (int(row.eventos), str(row.ultimo_hash)) if row is not None else (0, GENESIS)


@dataclass
class Verification:
    """Result of :func:`verify`.

    Attributes
    ----------
    events : int
        Events read.
    problems : list of str
        One Portuguese sentence per break in the chain (empty when intact).
    """

    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the chain is intact."""
        return not self.problems


def verify(session: Session, anchors: Sequence[tuple[int, str]] = ()) -> Verification:
    """Recompute the chain and report every edited, deleted or misplaced event.

    The chain alone cannot show that its last events were deleted by someone who also
    rewrote its head. An *anchor* closes that gap: the number and hash of an event
    written outside the database (in the minutes of a meeting, the proposal to the
    Secretary, an administrative procedure) must still be in the chain.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session on the registry.
    anchors : sequence of (int, str)
        Event numbers and hashes recorded elsewhere (:func:`head`).

    Returns
    -------
    Verification
        The number of events and the problems found.
    """
    result = Verification()
    wanted = {int(seq): str(value).lower() for seq, value in anchors}
    previous, expected_seq = GENESIS, 1
    rows = session.execute(select(Event).order_by(Event.seq).execution_options(yield_per=2000))
    for event in rows.scalars():
        result.events += 1
        fields = {k: getattr(event, k) for k in _HASHED}
        if event.seq != expected_seq:
            result.problems.append(
                f"evento nº {expected_seq} a {event.seq - 1} ausente(s): a cadeia salta para o "
                f"nº {event.seq} (evento apagado)"
                if event.seq > expected_seq
                else f"evento nº {event.seq} fora de ordem ou repetido"
            )
        if event.hash_anterior != previous:
            result.problems.append(
                f"evento nº {event.seq}: o hash anterior não confere com o do evento que o "
                "precede (evento apagado ou inserido)"
            )
        if event_hash(fields) != event.hash:
            result.problems.append(
                f"evento nº {event.seq} ({event.acao}, {event.entidade} {event.entidade_id}, "
                f"{event.em}): conteúdo alterado depois de gravado"
            )
        if event.seq in wanted and wanted.pop(event.seq) != event.hash:
            result.problems.append(
                f"evento nº {event.seq}: o hash não é o anotado fora do banco (âncora)"
            )
        previous, expected_seq = event.hash, event.seq + 1
    for seq in sorted(wanted):
        result.problems.append(
            f"evento nº {seq}, anotado fora do banco (âncora), não está na cadeia: eventos apagados"
        )
    head = session.get(ChainHead, 1)
    if head is None:
        result.problems.append(
            "a cabeça da cadeia (tabela cadeia) foi apagada: não há como saber se eventos "
            "finais foram apagados"
        )
    elif head.eventos != expected_seq - 1 or head.ultimo_hash != previous:
        result.problems.append(
            f"a cabeça da cadeia registra {head.eventos} evento(s), mas a cadeia termina no "
            f"nº {expected_seq - 1}: evento(s) final(is) apagado(s)"
        )
    return result
