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

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_ip._util.parse import cell_text
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
    refuse_cpf,
    touch,
    visible,
)
from geo_ip.registry.decisions import (
    DecisionInput,
    add_decision,
    current_decisions,
    import_decisions,
)
from geo_ip.registry.models import (
    Cycle,
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
from geo_ip.requests.redaction import (
    CPF_LIKE,
    REDACTED,
    NamesIndex,
    name_parts,
    names_index,
    redact_words,
)

__all__ = [
    "EXPORT_COLUMNS",
    "PERSONAL",
    "ApplicantNames",
    "ConflictError",
    "DecisionInput",
    "RegistryError",
    "RunRecord",
    "add_decision",
    "answer_documents",
    "applicants_of",
    "current_decisions",
    "ensure_cycle",
    "ensure_rules",
    "find_cycle",
    "import_decisions",
    "latest_run",
    "log_personal_view",
    "personal_data",
    "personal_rows",
    "record_run",
    "refuse_cpf",
    "request_documents",
    "run_table",
    "set_status",
    "table_to_parquet",
    "visible",
    "write_report",
]


# --- statuses, reports, documents, personal data ---------------------------------------------

_LONG_TEXT = 4 * MAX_TEXT
"""Longest report, reason, document request or answer accepted (characters)."""


def _long_text(text: str, what: str, empty: str) -> str:
    """Strip a long text typed by a user; refuse it empty, too long or with a CPF."""
    body = visible(text)
    if not body:
        raise RegistryError(empty)
    if len(body) > _LONG_TEXT:
        raise RegistryError(f"{what} passa de {_LONG_TEXT} caracteres")
    refuse_cpf(body, what)
    return body


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
    RegistryError
        An unknown status, a reason too long or with a CPF-shaped number
        (:func:`refuse_cpf`).
    """
    from geo_ip.registry.models import STATUSES

    guard(request, expected_version)
    if status not in STATUSES:
        raise RegistryError(f"situação desconhecida: {status!r}")
    why = visible(reason)
    if len(why) > _LONG_TEXT:
        raise RegistryError(f"o motivo passa de {_LONG_TEXT} caracteres")
    refuse_cpf(why, "o motivo")
    before = request.situacao
    change_status(session, request, status, actor, why)
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "situacao", "pedido", request.protocolo,
        before={"situacao": before}, after={"situacao": status, "motivo": why},
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
        An empty report, one too long or with a CPF-shaped number (:func:`refuse_cpf`).
    """
    guard(request, expected_version)
    body = _long_text(text, "o parecer", "o parecer conclusivo não pode ficar vazio")
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
    """Record documents asked of the applicant; the request waits for them.

    Raises
    ------
    RegistryError
        An empty description, one too long or with a CPF-shaped number
        (:func:`refuse_cpf`), a deadline before the day the documents were asked.
    """
    text = _long_text(description, "a descrição dos documentos",
                      "descreva os documentos solicitados")  # fmt: skip
    day = asked or date.today()
    if deadline is not None and deadline < day:
        raise RegistryError("o prazo não pode ser anterior à data da solicitação")
    pending_before = list(request.pendencias or [])
    row = DocumentRequest(
        pedido_id=request.id, descricao=text, solicitado_em=day,
        prazo=deadline, solicitado_por=actor,
    )  # fmt: skip
    session.add(row)
    if "documentos" not in request.pendencias:
        request.pendencias = [*request.pendencias, "documentos"]
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "documentos_solicitados", "pedido", request.protocolo,
        before={"pendencias": pending_before},
        after={"descricao": text, "prazo": deadline, "solicitacao": row.id,
               "pendencias": list(request.pendencias)},
    )  # fmt: skip
    return row


def answer_documents(
    session: Session,
    row: DocumentRequest,
    answer: str,
    *,
    actor: str,
    day: date | None = None,
    expected_version: int | None = None,
) -> None:
    """Record the applicant's answer to a document request, once.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    row : DocumentRequest
        The document request answered.
    answer : str
        What the applicant delivered.
    actor : str
        Who records it.
    day : datetime.date, optional
        When the documents were delivered (default: today): neither before the day they
        were asked (nor the request's protocol date) nor in the future.
    expected_version : int, optional
        The request's version the user saw.

    Raises
    ------
    ConflictError
        The request changed after the user opened it.
    RegistryError
        The request was answered already (an answer is never overwritten), an empty
        answer, one with a CPF-shaped number (:func:`refuse_cpf`), a date out of range.
    """
    request = session.get(Request, row.pedido_id)
    if request is not None:
        guard(request, expected_version)
    if row.respondido_em is not None:
        raise RegistryError(
            f"esta solicitação de documentos já foi respondida em "
            f"{row.respondido_em.strftime('%d/%m/%Y')}: a resposta não pode ser substituída; "
            "registre uma nova solicitação se faltar algo"
        )
    text = _long_text(answer, "a resposta", "descreva o que foi entregue")
    when = day or date.today()
    if when > date.today():
        raise RegistryError("a data da resposta não pode ser futura")
    bounds = [row.solicitado_em, request.data_protocolo if request is not None else None]
    earliest = max((d for d in bounds if d is not None), default=None)
    if earliest is not None and when < earliest:
        raise RegistryError(
            f"a data da resposta ({when.strftime('%d/%m/%Y')}) não pode ser anterior a "
            f"{earliest.strftime('%d/%m/%Y')}, "
            + (
                "quando os documentos foram solicitados"
                if earliest == row.solicitado_em
                else "data do protocolo do pedido"
            )
        )
    pending_before = list(request.pendencias or []) if request is not None else []
    before = {"respondido_em": row.respondido_em, "resposta": row.resposta,
              "pendencias": pending_before}  # fmt: skip
    row.respondido_em, row.resposta = when, text
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
        before=before,
        after={"respondido_em": row.respondido_em, "resposta": row.resposta,
               "solicitacao": row.id,
               "pendencias": list(request.pendencias) if request is not None else []},
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
    log_personal_view(session, actor, purpose, request.protocolo,
                      fields=sorted(row.dados) if row else [])  # fmt: skip
    return dict(row.dados) if row is not None else {}


def log_personal_view(
    session: Session,
    actor: str,
    what: str,
    entity_id: object,
    *,
    entity: str = "pedido",
    fields: Iterable[str] = (),
) -> None:
    """Record that a user saw applicants' personal data (LGPD): who, what, which record.

    The event (``dados_pessoais_vistos``) has the purpose or download and the names of
    the fields seen, never their values.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session (the event commits with it).
    actor : str
        Who saw the data.
    what : str
        What was seen, in Portuguese (``página do pedido``, ``planilha da classificação``).
    entity_id : object
        The request's protocol, or the cycle's name for a whole cycle.
    entity : str, default ``"pedido"``
        ``pedido`` or ``ciclo``.
    fields : iterable of str, optional
        The personal fields seen.
    """
    audit.append(
        session, actor, "dados_pessoais_vistos", entity, entity_id,
        after={"finalidade": what, "campos": sorted(set(fields))},
    )  # fmt: skip


def applicants_of(session: Session, cycle: Cycle) -> dict[str, str]:
    """Return the applicants' names of a cycle by protocol, to redact them (not logged).

    A computational use of the personal data (:func:`personal_rows`): the names are
    never shown, only removed from free text (:class:`ApplicantNames`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    dict of str to str
        ``nome_solicitante`` of each request with personal data (empty names left out).
    """
    out: dict[str, str] = {}
    for protocol, data in personal_rows(session, cycle):
        name = cell_text((data or {}).get("nome_solicitante")).strip()
        if name:
            out[str(protocol)] = name
    return out


class ApplicantNames:
    """Redactor of the applicants' names and CPF-shaped numbers in free text (LGPD).

    Every applicant's whole name is redacted, and so is every part of the name of the
    request the text is about (a given name alone, ``Dona Ambrosina``), as
    :func:`geo_ip.requests.privacy.internal_view` does in the tables.

    Parameters
    ----------
    applicants : mapping of str to str
        Protocol to applicant's name (:func:`applicants_of`).
    """

    def __init__(self, applicants: Mapping[str, str]) -> None:
        self.applicants = dict(applicants)
        self.index: NamesIndex = names_index(self.applicants.values())
        self.parts = {p: name_parts(n) for p, n in self.applicants.items()}

    def redact(self, text: object, protocol: object = None) -> str:
        """Return ``text`` with CPF-shaped numbers and applicants' names redacted.

        Parameters
        ----------
        text : object
            A text (None gives ``""``).
        protocol : object, optional
            The request the text is about: the parts of its applicant's name go too.

        Returns
        -------
        str
            The text, each name or number replaced by
            :data:`geo_ip.requests.redaction.REDACTED`.
        """
        if text is None:
            return ""
        result = CPF_LIKE.sub(REDACTED, unicodedata.normalize("NFC", cell_text(text)))
        parts = self.parts.get(str(protocol), ()) if protocol is not None else ()
        return redact_words(result, self.index, parts, address=False, keep=frozenset())
