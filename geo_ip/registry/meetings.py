"""The Commission's meetings: open, mark who is present, decide in them, close with the minutes.

A meeting is opened by whoever presides (:func:`open_meeting`), one at a time per cycle.
While it is open, the decisions a member present records on a request page are taken
in it: the page asks :func:`open_meeting_for` for the user's open meeting and passes its
id to :func:`geo_ip.registry.store.add_decision`. The vote or consensus of each decision
is written on the meeting's page (:func:`record_vote`). Closing the meeting
(:func:`close_meeting`) writes the minutes (:mod:`geo_ip.registry.minutes`), stores the
PDF and its SHA-256, and freezes the meeting: a closed meeting refuses every change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from geo_ip._util.version import __version__
from geo_ip.outputs.format import num
from geo_ip.registry import audit
from geo_ip.registry.minutes import Minutes, MinutesDecision, MinutesMember, minutes_pdf
from geo_ip.registry.models import (
    Cycle,
    Decision,
    Meeting,
    MeetingPresence,
    Request,
    RulesVersion,
    User,
)
from geo_ip.registry.store import RegistryError, applicants_of, refuse_cpf, visible
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA

__all__ = [
    "ACT_LABELS",
    "MEMBER_ROLES",
    "close_meeting",
    "current_meeting",
    "decision_label",
    "eligible_members",
    "meeting_decisions",
    "meetings_of",
    "minutes_of",
    "open_meeting",
    "open_meeting_for",
    "presences_of",
    "record_vote",
    "set_presence",
]

MEMBER_ROLES = ("administrador", "presidente", "membro")
"""Roles whose users may be marked present (``consulta`` users are not members)."""
ACT_LABELS = {
    "hipossuficiencia": "Hipossuficiência aceita (Art. 4 §2, III)",
    "art11": "Pedido estratégico (Art. 11)",
    "art12": "Execução direta (Art. 12)",
    "localizacao": "Local confirmado (Art. 7, II)",
}
"""Labels of the decisions without points."""
_ROMAN = ("I", "II", "III", "IV", "V")
_SHORT = {
    "beneficiarios": "Beneficiários",
    "seguranca": "Segurança",
    "trafego": "Tráfego",
    "custo_beneficio": "Custo-benefício",
    "viabilidade": "Viabilidade técnica",
}
_ROLE_LABELS = {"administrador": "Administrador", "presidente": "Presidente",
                "membro": "Membro", "consulta": "Consulta"}  # fmt: skip
_MAX_TITLE = 300
_MAX_TEXT = 5000


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("America/Sao_Paulo")
    except ZoneInfoNotFoundError:  # pragma: no cover - no time zone database
        return UTC


def _now() -> datetime:
    return datetime.now(UTC)


def decision_label(criterion: str, rules: Rules | None = None) -> str:
    """Return the Portuguese label of a criterion or act.

    Parameters
    ----------
    criterion : str
        A criterion (``beneficiarios``...) or act (``art11``...).
    rules : Rules, optional
        The cycle's rules (their criterion titles); short labels otherwise.

    Returns
    -------
    str
        E.g. ``Número de beneficiários diretos e indiretos (Art. 9, I)``.
    """
    if criterion in CRITERIA:
        roman = _ROMAN[CRITERIA.index(criterion)]
        title = getattr(rules.criterios, criterion).titulo if rules else _SHORT[criterion]
        return f"{title} (Art. 9, {roman})"
    return ACT_LABELS.get(criterion, criterion)


# --- reading ---------------------------------------------------------------------------------


def meetings_of(session: Session, cycle: Cycle) -> list[Meeting]:
    """Return the meetings of a cycle, latest first (the minutes' bytes not loaded).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    list of Meeting
        Its meetings.
    """
    return list(
        session.scalars(
            select(Meeting)
            .options(defer(Meeting.ata_pdf))
            .where(Meeting.ciclo_id == cycle.id)
            .order_by(Meeting.aberta_em.desc(), Meeting.id.desc())
        )
    )


def current_meeting(session: Session, cycle: Cycle) -> Meeting | None:
    """Return the open meeting of a cycle (None when there is none).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    Meeting or None
        The meeting not yet closed.
    """
    return session.scalars(
        select(Meeting)
        .where(Meeting.ciclo_id == cycle.id, Meeting.encerrada_em.is_(None))
        .order_by(Meeting.id.desc())
    ).first()


def open_meeting_for(session: Session, user_login: str) -> Meeting | None:
    """Return the open meeting where a user is marked present (None when there is none).

    The request page passes this meeting's id to
    :func:`geo_ip.registry.store.add_decision`, so a decision recorded by a member
    present while a meeting is open is taken in it.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    user_login : str
        The user's login.

    Returns
    -------
    Meeting or None
        The latest open meeting with the user present.
    """
    return session.scalars(
        select(Meeting)
        .join(MeetingPresence, MeetingPresence.reuniao_id == Meeting.id)
        .where(Meeting.encerrada_em.is_(None), MeetingPresence.usuario == user_login)
        .order_by(Meeting.id.desc())
    ).first()


def presences_of(session: Session, meeting: Meeting) -> list[MeetingPresence]:
    """Return the members present at a meeting, by name.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    meeting : Meeting
        The meeting.

    Returns
    -------
    list of MeetingPresence
        Who was present.
    """
    return list(
        session.scalars(
            select(MeetingPresence)
            .where(MeetingPresence.reuniao_id == meeting.id)
            .order_by(MeetingPresence.nome, MeetingPresence.id)
        )
    )


def eligible_members(session: Session) -> list[User]:
    """Return the active users who may be marked present (roles :data:`MEMBER_ROLES`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.

    Returns
    -------
    list of User
        By name.
    """
    return list(
        session.scalars(
            select(User)
            .where(User.ativo, User.papel.in_(MEMBER_ROLES))
            .order_by(User.nome, User.login)
        )
    )


def meeting_decisions(session: Session, meeting: Meeting) -> list[tuple[str, Decision]]:
    """Return the decisions taken in a meeting with their request's protocol, in order.

    Decisions later superseded are kept: the minutes record what was decided then.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    meeting : Meeting
        The meeting.

    Returns
    -------
    list of (str, Decision)
        Protocol and decision, in the order they were taken.
    """
    rows = session.execute(
        select(Request.protocolo, Decision)
        .join(Request, Request.id == Decision.pedido_id)
        .where(Decision.reuniao_id == meeting.id)
        .order_by(Decision.decidido_em, Decision.id)
    ).all()
    return [(str(p), d) for p, d in rows]


# --- changes ---------------------------------------------------------------------------------


def _open(meeting: Meeting) -> None:
    if meeting.encerrada_em is not None:
        raise RegistryError(
            f"a reunião nº {meeting.id} já foi encerrada e sua ata assinada: não pode mais "
            "ser alterada"
        )


def open_meeting(session: Session, cycle: Cycle, *, title: str, place: str, actor: str) -> Meeting:
    """Open a meeting of the Commission.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    cycle : Cycle
        The cycle.
    title : str
        The meeting's title (e.g. ``3ª reunião ordinária``).
    place : str
        Where it takes place.
    actor : str
        Who opens it (presides).

    Returns
    -------
    Meeting
        The meeting, open.

    Raises
    ------
    RegistryError
        No title, texts too long, or another meeting of the cycle still open (also when
        two are opened at the same time: the database keeps one open meeting per cycle;
        the session must then be rolled back).
    """
    name, where = " ".join(visible(title).split()), " ".join(visible(place).split())
    if not name:
        raise RegistryError("informe o título da reunião")
    refuse_cpf(name, "o título da reunião")
    refuse_cpf(where, "o local da reunião")
    if len(name) > _MAX_TITLE or len(where) > _MAX_TITLE:
        raise RegistryError(f"título e local da reunião: no máximo {_MAX_TITLE} caracteres")
    still = current_meeting(session, cycle)
    if still is not None:
        raise RegistryError(
            f"a reunião nº {still.id} ({still.titulo}) ainda está aberta: encerre-a antes"
        )
    meeting = Meeting(
        ciclo_id=cycle.id, titulo=name, local=where, aberta_em=_now(), aberta_por=actor
    )
    session.add(meeting)
    try:
        session.flush()
    except IntegrityError:
        # another meeting was opened at the same time (the unique index of open meetings
        # per cycle): the caller's transaction is rolled back with this error
        raise RegistryError("já há uma reunião aberta neste ciclo: encerre-a antes") from None
    audit.append(
        session, actor, "reuniao_aberta", "reuniao", meeting.id,
        after={"ciclo": cycle.nome, "titulo": name, "local": where},
    )  # fmt: skip
    return meeting


def set_presence(
    session: Session, meeting: Meeting, logins: Sequence[str], *, actor: str
) -> list[MeetingPresence]:
    """Mark who is present at an open meeting (replaces the previous list).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    meeting : Meeting
        The meeting (open).
    logins : sequence of str
        Logins of the members present: active users of roles :data:`MEMBER_ROLES`.
    actor : str
        Who marks them.

    Returns
    -------
    list of MeetingPresence
        The members present now.

    Raises
    ------
    RegistryError
        The meeting is closed, or a login is not an active member.
    """
    _open(meeting)
    members = {u.login: u for u in eligible_members(session)}
    wanted = list(dict.fromkeys(str(v) for v in logins))
    unknown = [v for v in wanted if v not in members]
    if unknown:
        raise RegistryError(
            f"{len(unknown)} usuário(s) marcado(s) não são membros ativos da Comissão"
        )
    before = sorted(p.usuario for p in presences_of(session, meeting))
    session.execute(delete(MeetingPresence).where(MeetingPresence.reuniao_id == meeting.id))
    for login in wanted:
        user = members[login]
        session.add(
            MeetingPresence(reuniao_id=meeting.id, usuario=login, nome=user.nome, papel=user.papel)
        )
    session.flush()
    audit.append(
        session, actor, "presencas", "reuniao", meeting.id,
        before={"presentes": before}, after={"presentes": sorted(wanted)},
    )  # fmt: skip
    return presences_of(session, meeting)


def record_vote(
    session: Session, meeting: Meeting, decision_id: int, vote: str, *, actor: str
) -> Decision:
    """Write the vote or consensus of a decision taken in an open meeting.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    meeting : Meeting
        The meeting (open).
    decision_id : int
        A decision taken in it.
    vote : str
        ``consenso`` or the votes (``3 a 1``, who voted against...).
    actor : str
        Who writes it.

    Returns
    -------
    Decision
        The decision.

    Raises
    ------
    RegistryError
        The meeting is closed, the decision was not taken in it, or the text is too long.
    """
    _open(meeting)
    decision = session.get(Decision, decision_id)
    if decision is None or decision.reuniao_id != meeting.id:
        raise RegistryError(f"a decisão nº {decision_id} não foi tomada nesta reunião")
    text = " ".join(visible(vote).split())
    refuse_cpf(text, "a votação")
    if len(text) > 200:
        raise RegistryError("a votação deve ter no máximo 200 caracteres")
    before = decision.votacao
    decision.votacao = text
    session.flush()
    request = session.get(Request, decision.pedido_id)
    audit.append(
        session, actor, "votacao", "pedido", request.protocolo if request else decision.pedido_id,
        before={"decisao": decision.id, "votacao": before},
        after={"decisao": decision.id, "votacao": text, "reuniao": meeting.id},
    )  # fmt: skip
    return decision


def _rules_record(session: Session, cycle: Cycle | None) -> RulesVersion | None:
    if cycle is None or cycle.versao_regras_id is None:
        return None
    return session.get(RulesVersion, cycle.versao_regras_id)


def minutes_of(
    session: Session, meeting: Meeting, *, rules: Rules | None = None, closed: datetime
) -> Minutes:
    """Gather what the minutes of a meeting say.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    meeting : Meeting
        The meeting.
    rules : Rules, optional
        The cycle's rules (criterion titles and the law's number).
    closed : datetime
        When the meeting is closed.

    Returns
    -------
    Minutes
        The minutes' content (times in Brasília time).
    """
    cycle = session.get(Cycle, meeting.ciclo_id)
    record = _rules_record(session, cycle)
    zone = _local_zone()
    members = [
        MinutesMember(p.nome, _ROLE_LABELS.get(p.papel, p.papel))
        for p in presences_of(session, meeting)
    ]
    decisions = [
        MinutesDecision(
            protocol=protocol,
            criterion=decision_label(d.criterio, rules),
            points="" if d.pontos is None else num(d.pontos, 2),
            motivation=d.motivacao,
            member=d.membro,
            vote=d.votacao,
        )
        for protocol, d in meeting_decisions(session, meeting)
    ]
    return Minutes(
        municipality=record.municipio if record else (rules.municipio.nome if rules else ""),
        law=rules.lei.numero if rules else "Lei nº 5.442/2026",
        cycle=cycle.nome if cycle else "",
        number=meeting.id,
        title=meeting.titulo,
        place=meeting.local,
        opened=meeting.aberta_em.astimezone(zone),
        closed=closed.astimezone(zone),
        opened_by=meeting.aberta_por,
        members=members,
        decisions=decisions,
        notes=meeting.observacoes,
        applicants=applicants_of(session, cycle) if cycle is not None else {},
        tool_version=__version__,
        rules_sha256=record.sha256 if record else (rules.sha256 if rules else ""),
    )


def close_meeting(
    session: Session,
    meeting: Meeting,
    *,
    actor: str,
    rules: Rules | None = None,
    notes: str = "",
) -> Meeting:
    """Close a meeting: write its minutes (PDF), store them with their SHA-256, freeze it.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    meeting : Meeting
        The meeting (open, with at least one member present).
    actor : str
        Who closes it.
    rules : Rules, optional
        The cycle's rules (criterion titles in the minutes).
    notes : str, optional
        Other remarks for the minutes.

    Returns
    -------
    Meeting
        The meeting, closed, with ``ata_pdf`` and ``ata_sha256``.

    Raises
    ------
    RegistryError
        The meeting is closed already, or nobody was marked present.
    """
    _open(meeting)
    if not presences_of(session, meeting):
        raise RegistryError("marque os membros presentes antes de encerrar a reunião")
    remarks = visible(notes)
    refuse_cpf(remarks, "as observações da reunião")
    if len(remarks) > _MAX_TEXT:
        raise RegistryError(f"as observações passam de {_MAX_TEXT} caracteres")
    closed = _now()
    meeting.observacoes = remarks
    content = minutes_of(session, meeting, rules=rules, closed=closed)
    pdf = minutes_pdf(content)
    meeting.encerrada_em = closed
    meeting.ata_pdf = pdf
    meeting.ata_sha256 = hashlib.sha256(pdf).hexdigest()
    session.flush()
    audit.append(
        session, actor, "reuniao_encerrada", "reuniao", meeting.id,
        before={"encerrada_em": None},
        after={
            "encerrada_em": closed, "ata_sha256": meeting.ata_sha256,
            "presentes": [m.name for m in content.members],
            "decisoes": len(content.decisions), "observacoes": remarks,
        },
    )  # fmt: skip
    return meeting
