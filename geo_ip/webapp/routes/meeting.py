"""The Commission's meetings (``/reunioes``): open, mark who is present, vote, close, minutes.

Every user who may see requests reads the meetings and downloads their minutes; whoever
presides (``presidir``) opens a meeting, marks the members present, writes the vote or
consensus of each decision taken in it and closes it. The decisions themselves are
recorded on the request pages: while a meeting is open, a decision recorded by a member
present is taken in it (:func:`geo_ip.registry.meetings.open_meeting_for`). Closing
writes the minutes (:func:`geo_ip.registry.meetings.close_meeting`); a closed meeting
refuses every change.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from geo_ip.errors import GeoIPError
from geo_ip.registry import live, meetings
from geo_ip.registry.db import Registry
from geo_ip.registry.models import Cycle, Meeting, User
from geo_ip.registry.store import RegistryError, find_cycle
from geo_ip.rules.config import Rules
from geo_ip.webapp.security import parse_whole, registry_of, require, visible_text
from geo_ip.webapp.templating import render

__all__ = ["router"]

router = APIRouter()

_ID = Annotated[int, Path(ge=1, le=2**62)]
_SAVED = {
    "aberta": "Reunião aberta. Marque os membros presentes.",
    "presencas": "Presenças gravadas.",
    "votacao": "Votação gravada.",
    "encerrada": "Reunião encerrada; a ata foi gerada.",
}


def _meeting_or_404(session: Session, meeting_id: int) -> Meeting:
    found = session.get(Meeting, meeting_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Reunião não encontrada.")
    return found


def _rules(request: Request, session: Session, cycle: Cycle) -> Rules | None:
    try:
        return live.rules_of(session, cycle, getattr(request.app.state, "rules", None))
    except GeoIPError:
        return None


# --- the list ------------------------------------------------------------------------------------


def _list(
    request: Request,
    registry: Registry,
    name: str | None,
    *,
    message: str = "",
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with registry.session() as session:
        try:
            cycle = find_cycle(session, name or None)
        except RegistryError as exc:
            return render(request, "reunioes.html", {"indisponivel": str(exc)},
                          status_code=status_code)  # fmt: skip
        context = {
            "ciclo": cycle,
            "reunioes": meetings.meetings_of(session, cycle),
            "aberta": meetings.current_meeting(session, cycle),
            "mensagem": message,
            "erro": error,
            "valores": values or {},
        }
        return render(request, "reunioes.html", context, status_code=status_code)


@router.get("/reunioes")
def meetings_page(
    request: Request,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: str = "",
) -> Response:
    """List the meetings of a cycle (``?ciclo=`` or the latest)."""
    return _list(request, registry, ciclo[:200] or None)


@router.post("/reunioes")
def open_meeting(
    request: Request,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: Annotated[str, Form(max_length=200)] = "",
    titulo: Annotated[str, Form(max_length=300)] = "",
    local: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Open a meeting; the user who opens it is marked present."""
    try:
        with registry.session() as session:
            cycle = find_cycle(session, ciclo or None)
            meeting = meetings.open_meeting(session, cycle, title=visible_text(titulo),
                                            place=visible_text(local),
                                            actor=user.login)  # fmt: skip
            meetings.set_presence(session, meeting, [user.login], actor=user.login)
            meeting_id = meeting.id
    except RegistryError as exc:
        return _list(request, registry, ciclo or None, error=str(exc),
                     values={"titulo": titulo, "local": local}, status_code=422)  # fmt: skip
    return RedirectResponse(f"/reunioes/{meeting_id}?gravado=aberta", status_code=303)


# --- one meeting ---------------------------------------------------------------------------------


def _context(session: Session, request: Request, meeting: Meeting) -> dict[str, Any]:
    cycle = session.get(Cycle, meeting.ciclo_id)
    assert cycle is not None
    rules = _rules(request, session, cycle)
    present = meetings.presences_of(session, meeting)
    decisions = [
        {
            "protocolo": protocol,
            "d": d,
            "rotulo": meetings.decision_label(d.criterio, rules),
        }
        for protocol, d in meetings.meeting_decisions(session, meeting)
    ]
    return {
        "reuniao": meeting,
        "ciclo": cycle,
        "aberta": meeting.encerrada_em is None,
        "presentes": present,
        "presentes_logins": {p.usuario for p in present},
        "membros": meetings.eligible_members(session) if meeting.encerrada_em is None else [],
        "decisoes": decisions,
    }


def _show(
    request: Request,
    registry: Registry,
    meeting_id: int,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    with registry.session() as session:
        meeting = _meeting_or_404(session, meeting_id)
        context = _context(session, request, meeting)
        context.update(mensagem=message, erro=error)
        return render(request, "reuniao.html", context, status_code=status_code)


@router.get("/reunioes/{reuniao_id}")
def meeting_page(
    request: Request,
    reuniao_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    gravado: str = "",
) -> Response:
    """Show a meeting: who is present, the decisions taken in it, its minutes."""
    return _show(request, registry, reuniao_id, message=_SAVED.get(gravado, ""))


def _change(
    request: Request, registry: Registry, meeting_id: int, saved: str, change: Any
) -> Response:
    try:
        with registry.session() as session:
            change(session, _meeting_or_404(session, meeting_id))
    except RegistryError as exc:
        return _show(request, registry, meeting_id, error=str(exc), status_code=422)
    return RedirectResponse(f"/reunioes/{meeting_id}?gravado={saved}", status_code=303)


@router.post("/reunioes/{reuniao_id}/presencas")
def presence(
    request: Request,
    reuniao_id: _ID,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    presentes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Mark the members present (the checked boxes)."""
    logins = [str(v)[:100] for v in (presentes or [])][:500]

    def change(session: Session, meeting: Meeting) -> None:
        meetings.set_presence(session, meeting, logins, actor=user.login)

    return _change(request, registry, reuniao_id, "presencas", change)


@router.post("/reunioes/{reuniao_id}/votacao")
def vote(
    request: Request,
    reuniao_id: _ID,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    decisao: Annotated[str, Form(max_length=20)] = "",
    votacao: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Write the vote or consensus of a decision taken in the meeting."""

    def change(session: Session, meeting: Meeting) -> None:
        try:
            decision = parse_whole(decisao)
        except ValueError:
            decision = None
        if decision is None:
            raise RegistryError("decisão não informada ou inválida: recarregue a página")
        meetings.record_vote(session, meeting, decision, visible_text(votacao), actor=user.login)

    return _change(request, registry, reuniao_id, "votacao", change)


@router.post("/reunioes/{reuniao_id}/encerrar")
def close(
    request: Request,
    reuniao_id: _ID,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    observacoes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Close the meeting and write its minutes (PDF)."""

    def change(session: Session, meeting: Meeting) -> None:
        cycle = session.get(Cycle, meeting.ciclo_id)
        rules = _rules(request, session, cycle) if cycle is not None else None
        meetings.close_meeting(session, meeting, actor=user.login, rules=rules,
                               notes=visible_text(observacoes))  # fmt: skip

    return _change(request, registry, reuniao_id, "encerrada", change)


@router.get("/reunioes/{reuniao_id}/ata.pdf")
def minutes(
    reuniao_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Download the minutes of a closed meeting."""
    with registry.session() as session:
        meeting = _meeting_or_404(session, reuniao_id)
        if meeting.ata_pdf is None:
            raise HTTPException(
                status_code=404, detail="A ata só existe depois de encerrada a reunião."
            )
        content, digest = bytes(meeting.ata_pdf), meeting.ata_sha256
    name = quote(f"ata-reuniao-{reuniao_id}.pdf")
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Ata-SHA256": digest,
        },
    )
