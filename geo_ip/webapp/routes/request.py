"""One request (``/pedidos/{id}``): map, evidence, criteria, acts, report, documents, history.

Near the top, a box lists the request's flags in the live ranking (``alertas``:
implausible declaration, approximate location, missing proof, no road link), each with
what to check, in the words of the technical sheet.

The page reads through :mod:`geo_ip.webapp.queries`; every form posts to a route here
that changes the registry only through :mod:`geo_ip.registry.store`, stating the
request's version the user saw (``versao``). A save over a newer version answers 409
with the page re-rendered: who changed it, when, and the new state. An invalid value
answers 422 with the message beside its form. A save that went through answers 303
back to the page, at the form's section.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from geo_ip.errors import GeoIPError
from geo_ip.registry import live, store
from geo_ip.registry.db import Registry
from geo_ip.registry.meetings import open_meeting_for
from geo_ip.registry.models import (
    STATUSES,
    Cycle,
    DocumentRequest,
    Meeting,
    Report,
    Snapshot,
    User,
)
from geo_ip.registry.models import Request as RequestRow
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACTS
from geo_ip.webapp import queries
from geo_ip.webapp.ranking_cache import refresh, stale_notice
from geo_ip.webapp.routes.ranking import alert_badges
from geo_ip.webapp.security import allowed, parse_decimal, parse_whole, registry_of, require
from geo_ip.webapp.templating import render

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter()

_ID = Annotated[int, Path(ge=1, le=2**62)]
_TEXT = 20_000
_PURPOSE = "página do pedido"
_EVENT_LABELS = {
    "decisao": "Decisão",
    "situacao": "Mudança de situação",
    "parecer": "Parecer conclusivo",
    "documentos_solicitados": "Documentos solicitados",
    "documentos_respondidos": "Documentos respondidos",
    "dados_pessoais_vistos": "Dados pessoais consultados",
    "vistoria": "Vistoria",
}


def _rules(request: Request, session: Session, cycle: Cycle) -> tuple[Rules | None, str]:
    """Return the cycle's rules (``serve --regras`` when they match), or why they are missing."""
    try:
        return live.rules_of(session, cycle, getattr(request.app.state, "rules", None)), ""
    except GeoIPError as exc:
        return None, str(exc)


def _key(request: Request) -> bytes:
    key = getattr(request.app.state, "key", None)
    return key if isinstance(key, bytes) else b""


def _request_or_404(session: Session, request_id: int) -> RequestRow:
    row = session.get(RequestRow, request_id)
    if row is None:
        raise HTTPException(status_code=404, detail="Pedido não encontrado.")
    return row


def _ranking(
    request: Request,
    session: Session,
    cycle: Cycle,
    row: RequestRow,
    rules: Rules | None,
    *,
    fresh: bool,
) -> tuple[queries.RankingEntry | None, str]:
    if rules is None:
        return None, "Classificação indisponível: as regras do ciclo não puderam ser lidas."
    registry: Registry = request.app.state.registry
    try:
        entry, state = queries.ranking_entry(
            session, registry, cycle, row, rules, _key(request), fresh=fresh
        )
    except GeoIPError as exc:
        return None, f"Classificação indisponível: {exc}"
    except (ValueError, KeyError, TypeError) as exc:  # a run table the law cannot rank
        log.warning("classificação ao vivo falhou (%s)", type(exc).__name__)
        return None, "Classificação indisponível: a avaliação registrada não pôde ser classificada."
    return entry, stale_notice(state)


def _meeting(session: Session, row: RequestRow, user: User) -> Meeting | None:
    """Return the open meeting of the request's cycle where the user is present, if any."""
    meeting = open_meeting_for(session, user.login)
    return meeting if meeting is not None and meeting.ciclo_id == row.ciclo_id else None


def _event_lines(data: dict[str, Any]) -> list[str]:
    out = []
    for name, value in data.items():
        if value is None or value in ("", [], {}):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        out.append(f"{name}: {text}")
    return out


def _page(
    request: Request,
    session: Session,
    row: RequestRow,
    user: User,
    *,
    personal: bool = False,
    errors: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    conflict: str = "",
    saved: str = "",
) -> dict[str, Any]:
    """Everything the request page shows."""
    cycle = session.get(Cycle, row.ciclo_id)
    assert cycle is not None
    snapshot = session.get(Snapshot, row.instantaneo_id) if row.instantaneo_id else None
    line = dict(snapshot.linha) if snapshot is not None else {}
    rules, rules_error = _rules(request, session, cycle)
    current = queries.current_decisions_of(session, row)
    entry, ranking_error = _ranking(
        # after a conflict, the state that refused the save; else the last ranking
        # computed, as long as it holds every decision on this request
        request,
        session,
        cycle,
        row,
        rules,
        fresh=bool(conflict),
    )
    people = None
    if personal and allowed(user, "dados_pessoais"):
        people = queries.personal_items(
            store.personal_data(session, row, actor=user.login, purpose=_PURPOSE)
        )
    events = [
        {
            "e": e,
            "rotulo": _EVENT_LABELS.get(e.acao, e.acao),
            "antes": _event_lines(e.antes),
            "depois": _event_lines(e.depois),
        }
        for e in queries.events_of(session, row)
    ]
    return {
        "pedido": row,
        "ciclo": cycle,
        "tipo": queries.TYPE_LABELS.get(row.tipo, row.tipo),
        "situacao": STATUSES.get(row.situacao, row.situacao),
        "situacoes": STATUSES,
        "pendencias": queries.pending_labels(row.situacao, row.pendencias),
        "snapshot": snapshot,
        "mapa": snapshot.mapa if snapshot is not None and snapshot.mapa else {},
        "linha": line,
        "regras_erro": rules_error,
        "criterios": queries.criterion_views(line, current, rules) if rules else [],
        "atos": queries.act_views(line, current),
        "evidencias": queries.evidence_panel(
            line, snapshot.evidencias if snapshot is not None else {}, rules
        ),
        "classificacao": entry,
        "classificacao_erro": ranking_error,
        "alertas": alert_badges(entry.alertas, rules) if entry and rules else [],
        "parecer": session.get(Report, row.id),
        "documentos": queries.documents_of(session, row),
        "vistorias": queries.inspections_of(session, row),
        "historico": queries.history_of(session, row),
        "eventos": events,
        "dados_pessoais": people,
        "pediu_dados": personal,
        "erros": errors or {},
        "valores": values or {},
        "conflito": conflict,
        "mensagem": saved,
        "reuniao": _meeting(session, row, user),
        "hoje": date.today().isoformat(),
    }


_SAVED = {
    **{c: "Decisão gravada." for c in (*CRITERIA, *ACTS)},
    "parecer": "Parecer conclusivo gravado.",
    "documentos": "Solicitação de documentos gravada.",
    "resposta": "Resposta aos documentos gravada.",
    "situacao": "Situação alterada.",
}


@router.get("/pedidos/{pedido_id}")
def request_page(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    dados: str = "",
    gravado: str = "",
) -> Response:
    """Show a request; ``?dados=1`` shows (and logs) the applicant's data to roles allowed."""
    with registry.session() as session:
        row = _request_or_404(session, pedido_id)
        context = _page(
            request, session, row, user,
            personal=dados == "1", saved=_SAVED.get(gravado, ""),
        )  # fmt: skip
        return render(request, "pedido.html", context)


# --- writes ------------------------------------------------------------------------------------


class _FormError(Exception):
    """An invalid form value (answered 422 beside its form)."""


def _version(text: str) -> int:
    try:
        value = parse_whole(text)
    except ValueError:
        value = None
    if value is None:
        raise _FormError("versão do pedido ausente ou inválida: recarregue a página")
    return value


def _float(text: str, what: str) -> float | None:
    try:
        return parse_decimal(text)
    except ValueError:
        raise _FormError(f"{what}: informe um número (ex.: 7,5)") from None


def _date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise _FormError(f"{what}: informe uma data válida (aaaa-mm-dd)") from exc


def _save(
    request: Request,
    registry: Registry,
    request_id: int,
    user: User,
    form: str,
    values: dict[str, str],
    change: Callable[[Session, RequestRow], None],
    anchor: str,
) -> Response:
    """Run one change; answer 303 to the page, 409 on a conflict, 422 on invalid input.

    The change runs in its own transaction: when it fails, nothing of it is kept and the
    page is read again, in a new transaction, to show the current state.
    """
    conflict = ""
    try:
        with registry.session() as session:
            change(session, _request_or_404(session, request_id))
    except store.ConflictError as exc:
        status, message, conflict = 409, str(exc), str(exc)
    except (_FormError, store.RegistryError) as exc:
        status, message = 422, str(exc)
    else:
        saved = form.split("-")[0]
        return RedirectResponse(f"/pedidos/{request_id}?gravado={saved}#{anchor}", status_code=303)
    with registry.session() as session:
        row = _request_or_404(session, request_id)
        context = _page(request, session, row, user, conflict=conflict,
                        errors={form: message}, values={form: values})  # fmt: skip
        return render(request, "pedido.html", context, status_code=status)


def _cycle_rules(request: Request, session: Session, row: RequestRow) -> Rules:
    cycle = session.get(Cycle, row.ciclo_id)
    assert cycle is not None
    rules, error = _rules(request, session, cycle)
    if rules is None:
        raise _FormError(error or "as regras do ciclo não puderam ser lidas")
    return rules


@router.post("/pedidos/{pedido_id}/decisao")
def decide(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("decidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    criterio: Annotated[str, Form(max_length=40)] = "",
    pontos: Annotated[str, Form(max_length=40)] = "",
    motivacao: Annotated[str, Form(max_length=_TEXT)] = "",
    procedimento: Annotated[str, Form(max_length=100)] = "",
    latitude: Annotated[str, Form(max_length=40)] = "",
    longitude: Annotated[str, Form(max_length=40)] = "",
    versao: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record a decision on a criterion (points) or an act (no points)."""
    if criterio not in CRITERIA and criterio not in ACTS:
        raise HTTPException(status_code=422, detail="Critério desconhecido.")
    values = {"pontos": pontos, "motivacao": motivacao, "procedimento": procedimento,
              "latitude": latitude, "longitude": longitude}  # fmt: skip

    def change(session: Session, row: RequestRow) -> None:
        expected = _version(versao)
        rules = _cycle_rules(request, session, row)
        points = _float(pontos, "pontos")
        if criterio in CRITERIA and points is None:
            raise _FormError("informe os pontos do critério")
        given = store.DecisionInput(
            criterion=criterio,
            points=points if criterio in CRITERIA else None,
            motivation=motivacao,
            member=user.nome,
            procedure=procedimento,
            latitude=_float(latitude, "latitude") if criterio == "localizacao" else None,
            longitude=_float(longitude, "longitude") if criterio == "localizacao" else None,
        )
        meeting = _meeting(session, row, user)
        store.add_decision(
            session, row, given, rules, actor=user.login, expected_version=expected,
            meeting_id=meeting.id if meeting is not None else None,
        )  # fmt: skip
        changed.append((row.ciclo_id, rules))

    changed: list[tuple[int, Rules]] = []
    anchor = f"criterio-{criterio}" if criterio in CRITERIA else f"ato-{criterio}"
    answer = _save(request, registry, pedido_id, user, criterio, values, change, anchor)
    if answer.status_code == 303 and changed:
        # the ranking with this decision is computed now, not at the next page view
        refresh(registry, changed[0][0], changed[0][1], _key(request))
    return answer


@router.post("/pedidos/{pedido_id}/parecer")
def report(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("decidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    texto: Annotated[str, Form(max_length=5 * _TEXT)] = "",
    versao: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Write the conclusive report (Art. 10, VII)."""

    def change(session: Session, row: RequestRow) -> None:
        store.write_report(session, row, texto, actor=user.login, expected_version=_version(versao))

    return _save(request, registry, pedido_id, user, "parecer", {"texto": texto}, change, "parecer")


@router.post("/pedidos/{pedido_id}/documentos")
def ask_documents(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("decidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    descricao: Annotated[str, Form(max_length=_TEXT)] = "",
    prazo: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Ask the applicant for documents (the request waits for them)."""
    values = {"descricao": descricao, "prazo": prazo}

    def change(session: Session, row: RequestRow) -> None:
        deadline = _date(prazo, "prazo")
        if deadline is not None and deadline < date.today():
            raise _FormError("o prazo não pode ser anterior a hoje")
        store.request_documents(session, row, descricao, actor=user.login, deadline=deadline)

    return _save(request, registry, pedido_id, user, "documentos", values, change, "documentos")


@router.post("/documentos/{doc_id}/resposta")
def answer_documents(
    request: Request,
    doc_id: _ID,
    user: Annotated[User, Depends(require("decidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    resposta: Annotated[str, Form(max_length=_TEXT)] = "",
    data: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record the applicant's answer to a document request."""
    with registry.session() as session:
        found = session.get(DocumentRequest, doc_id)
        if found is None:
            raise HTTPException(status_code=404, detail="Solicitação de documentos não encontrada.")
        request_id = found.pedido_id

    def change(session: Session, row: RequestRow) -> None:
        doc = session.get(DocumentRequest, doc_id)
        assert doc is not None
        if not resposta.strip():
            raise _FormError("descreva o que foi entregue")
        day = _date(data, "data da resposta")
        if day is not None and day > date.today():
            raise _FormError("a data da resposta não pode ser futura")
        store.answer_documents(session, doc, resposta, actor=user.login, day=day)

    values = {"resposta": resposta, "data": data}
    return _save(request, registry, request_id, user, f"resposta-{doc_id}", values, change,
                 "documentos")  # fmt: skip


@router.post("/pedidos/{pedido_id}/situacao")
def change_status(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    situacao: Annotated[str, Form(max_length=40)] = "",
    motivo: Annotated[str, Form(max_length=_TEXT)] = "",
    versao: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Change the request's status (the Commission's president or an administrator)."""

    def change(session: Session, row: RequestRow) -> None:
        expected = _version(versao)
        if situacao not in STATUSES:
            raise _FormError("escolha uma situação da lista")
        if not motivo.strip():
            raise _FormError("informe o motivo da mudança de situação")
        store.set_status(session, row, situacao, actor=user.login, reason=motivo,
                         expected_version=expected)  # fmt: skip

    values = {"situacao": situacao, "motivo": motivo}
    return _save(request, registry, pedido_id, user, "situacao", values, change, "situacao")
