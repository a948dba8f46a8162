"""Changes to the registry: runs, requests, decisions, reports and document requests.

Every function that changes the registry takes the acting user (a login, or
``sistema:<command>`` for the command line) and appends an audit event
(:func:`geo_ip.registry.audit.append`) in the same transaction, with the state before
and after. Personal data (:data:`PERSONAL`) is kept apart, in ``dados_pessoais``:
:func:`personal_data` is the only reader, and it logs every view.

Concurrency: a request carries a version number (``pedidos.versao``). A decision,
report or status change states the version the user saw (``expected_version``); when
someone else changed the request meanwhile, :class:`ConflictError` is raised with who changed
it and when, and nothing is written. The ORM's version counter guards the same race
inside the database (two transactions that read the same version).


The changes live in :mod:`geo_ip.registry.runs` (rules, cycles, runs),
:mod:`geo_ip.registry.decisions` (the Commission's decisions) and here (statuses,
reports, documents, personal data); this module gathers their public names, so that
``from geo_ip.registry import store`` reaches every change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_ip.registry import audit
from geo_ip.registry.base import (
    EXPORT_COLUMNS,
    MAX_TEXT,
    PERSONAL,
    ConflictError,
    RegistryError,
    change_status,
    guard,
    now,
    touch,
)
from geo_ip.registry.decisions import (
    DecisionInput,
    add_decision,
    current_decisions,
    import_decisions,
)
from geo_ip.registry.models import (
    DocumentRequest,
    PersonalData,
    Report,
    Request,
)
from geo_ip.registry.runs import (
    RunRecord,
    ensure_cycle,
    ensure_rules,
    find_cycle,
    latest_run,
    personal_rows,
    record_run,
    run_table,
    table_to_parquet,
)

__all__ = [
    "EXPORT_COLUMNS",
    "PERSONAL",
    "ConflictError",
    "DecisionInput",
    "RegistryError",
    "RunRecord",
    "add_decision",
    "answer_documents",
    "current_decisions",
    "ensure_cycle",
    "ensure_rules",
    "find_cycle",
    "import_decisions",
    "latest_run",
    "personal_data",
    "personal_rows",
    "record_run",
    "request_documents",
    "run_table",
    "set_status",
    "table_to_parquet",
    "write_report",
]


# --- statuses, reports, documents, personal data ---------------------------------------------


def set_status(
    session: Session,
    request: Request,
    status: str,
    *,
    actor: str,
    reason: str,
    expected_version: int | None,
) -> None:
    """Change a request's status (audited, with the reason in the history).

    Raises
    ------
    ConflictError
        The request changed after the user opened it.
    """
    from geo_ip.registry.models import STATUSES

    guard(request, expected_version)
    if status not in STATUSES:
        raise RegistryError(f"situação desconhecida: {status!r}")
    before = request.situacao
    change_status(session, request, status, actor, reason.strip())
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "situacao", "pedido", request.protocolo,
        before={"situacao": before}, after={"situacao": status, "motivo": reason.strip()},
    )  # fmt: skip


def write_report(
    session: Session, request: Request, text: str, *, actor: str, expected_version: int | None
) -> Report:
    """Write or rewrite the conclusive report of a request (Art. 10, VII).

    Raises
    ------
    ConflictError
        The request changed after the user opened it.
    RegistryError
        An empty report.
    """
    guard(request, expected_version)
    body = text.strip()
    if not body:
        raise RegistryError("o parecer conclusivo não pode ficar vazio")
    if len(body) > 4 * MAX_TEXT:
        raise RegistryError(f"o parecer passa de {4 * MAX_TEXT} caracteres")
    report = session.get(Report, request.id)
    before = {"texto": report.texto, "autor": report.autor} if report is not None else {}
    if report is None:
        report = Report(pedido_id=request.id, texto=body, autor=actor, em=now())
        session.add(report)
    else:
        report.texto, report.autor, report.em = body, actor, now()
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "parecer", "pedido", request.protocolo,
        before=before, after={"texto": body, "autor": actor},
    )  # fmt: skip
    return report


def request_documents(
    session: Session,
    request: Request,
    description: str,
    *,
    actor: str,
    asked: date | None = None,
    deadline: date | None = None,
) -> DocumentRequest:
    """Record documents asked of the applicant; the request waits for them."""
    text = description.strip()
    if not text:
        raise RegistryError("descreva os documentos solicitados")
    row = DocumentRequest(
        pedido_id=request.id, descricao=text, solicitado_em=asked or date.today(),
        prazo=deadline, solicitado_por=actor,
    )  # fmt: skip
    session.add(row)
    if "documentos" not in request.pendencias:
        request.pendencias = [*request.pendencias, "documentos"]
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "documentos_solicitados", "pedido", request.protocolo,
        after={"descricao": text, "prazo": deadline, "solicitacao": row.id},
    )  # fmt: skip
    return row


def answer_documents(
    session: Session, row: DocumentRequest, answer: str, *, actor: str, day: date | None = None
) -> None:
    """Record the applicant's answer to a document request."""
    request = session.get(Request, row.pedido_id)
    before = {"respondido_em": row.respondido_em, "resposta": row.resposta}
    row.respondido_em, row.resposta = day or date.today(), answer.strip()
    if request is not None:
        pending = session.scalar(
            select(func.count())
            .select_from(DocumentRequest)
            .where(
                DocumentRequest.pedido_id == request.id,
                DocumentRequest.respondido_em.is_(None),
                DocumentRequest.id != row.id,
            )
        )
        if not pending:
            request.pendencias = [p for p in request.pendencias if p != "documentos"]
        touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "documentos_respondidos", "pedido",
        request.protocolo if request else row.pedido_id,
        before=before, after={"respondido_em": row.respondido_em, "resposta": row.resposta},
    )  # fmt: skip


def personal_data(
    session: Session, request: Request, *, actor: str, purpose: str
) -> dict[str, Any]:
    """Return the applicant's data of a request, logging the view (LGPD).

    The caller checks the user's permission first; this function records who saw the
    data, when and why, in the audit trail (the data itself is never in the event).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session (the view event commits with it).
    request : Request
        The request.
    actor : str
        Who sees the data.
    purpose : str
        Why (e.g. ``página do pedido``).

    Returns
    -------
    dict
        The personal columns of the latest run with the applicant's data (empty if none).
    """
    row = session.get(PersonalData, request.id)
    audit.append(
        session, actor, "dados_pessoais_vistos", "pedido", request.protocolo,
        after={"finalidade": purpose, "campos": sorted(row.dados) if row else []},
    )  # fmt: skip
    return dict(row.dados) if row is not None else {}
