"""Read-side helpers of the queue (``/fila``) and request (``/pedidos/{id}``) pages.

Nothing here writes to the registry: every change goes through
:mod:`geo_ip.registry.store`. The queue is one SQL query on ``pedidos`` (filters, order
and a page of :data:`PAGE_SIZE` rows, plus a count), so it stays fast with 10,000
requests; it never ranks. The request page reads one request, its snapshot, its
decisions, reports, documents, inspections and audit events, and its position in the
live ranking (:func:`ranking_entry`), which is cached per state of the cycle.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from geo_ip.outputs.format import GEOCODING, METHODS, TIPOS, Labels, brl, evidence_items, num
from geo_ip.outputs.format import Item as Item
from geo_ip.outputs.styles import layer_style
from geo_ip.registry.db import Registry
from geo_ip.registry.models import (
    STATUSES,
    Cycle,
    Decision,
    DocumentRequest,
    Event,
    Inspection,
    Report,
    Request,
    Run,
    Snapshot,
    StatusChange,
)
from geo_ip.requests.cpf import mask_cpf
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACTS
from geo_ip.webapp.ranking_cache import (
    RankingEntry,
    RankingState,
    cached_ranking,
    last_decision_on,
)
from geo_ip.webapp.security import parse_decimal, parse_whole

__all__ = [
    "ACT_LABELS",
    "PAGE_SIZE",
    "PENDING_LABELS",
    "SORT_LABELS",
    "TYPE_LABELS",
    "ActView",
    "CriterionView",
    "HistoryEntry",
    "Item",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "RankingEntry",
    "act_views",
    "criterion_short_labels",
    "criterion_views",
    "current_decisions_of",
    "cycle_districts",
    "events_of",
    "evidence_panel",
    "history_of",
    "list_cycles",
    "parse_queue_filters",
    "personal_items",
    "queue_page",
    "ranking_entry",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 50
"""Requests per page of the queue."""
TYPE_LABELS = {code: text[0] for code, text in TIPOS.items()}
"""Request types of Art. 2 and their labels."""
PENDING_LABELS = {
    "documentos": "Documentos",
    "vistoria": "Vistoria",
    "localizacao": "Confirmação do local",
}
"""Pending items of a request and their labels."""
_PENDING_STATUS = {
    "pendente_documentos": "documentos",
    "pendente_vistoria": "vistoria",
    "pendente_localizacao": "localizacao",
}
SORT_LABELS = {
    "protocolo": "Protocolo",
    "total": "Pontuação decidida",
    "data": "Data do protocolo",
    "custo": "Custo estimado",
}
"""Orders of the queue and their labels."""
_SORT_COLUMNS = {
    "protocolo": Request.protocolo,
    "total": Request.pontuacao_decidida,
    "data": Request.data_protocolo,
    "custo": Request.custo_estimado_rs,
}
ACT_LABELS = {
    "hipossuficiencia": "Hipossuficiência comprovada por outros documentos (Art. 4 §2, III)",
    "art11": "Pedido estratégico: análise direta, sem pontuação (Art. 11)",
    "art12": "Execução direta pelo Poder Executivo (Art. 12)",
    "localizacao": "Local do pedido confirmado pela Comissão (Art. 7, II)",
}
"""The acts without points (:data:`geo_ip.schema.ACTS`) and their labels."""
_ACT_HINTS = {
    "hipossuficiencia": "Diga quais documentos comprovam a hipossuficiência.",
    "art11": "Parecer técnico circunstanciado com os fundamentos da dispensa da pontuação.",
    "art12": "Relatório técnico e justificativa de interesse público; informe o procedimento.",
    "localizacao": "Diga como o local foi confirmado (vistoria, fotos, croqui).",
}
_MAX_FILTER_TEXT = 200
_CACHE_SIZE = 8
_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


@functools.cache
def criterion_short_labels() -> dict[str, str]:
    """Return the short label of each criterion (the layer catalogue's, ``I Beneficiários (40)``).

    Returns
    -------
    dict of str to str
        Criterion → label, in the order of :data:`geo_ip.rules.law_locks.CRITERIA`.
    """
    aliases = layer_style("pedidos").campos
    return {c: aliases.get(f"pont_{c}", c) for c in CRITERIA}


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: filters, order and page.

    Attributes
    ----------
    ciclo : str or None
        The cycle's name (None: the latest).
    situacao : str or None
        A status of :data:`geo_ip.registry.models.STATUSES`.
    bairro : str or None
        A district, exactly as recorded.
    criterio : str or None
        A criterion or act whose decision is filtered by ``decidido``.
    decidido : bool or None
        True: with a current decision (on ``criterio``, or on any criterion); False:
        without it.
    pontos_min, pontos_max : float or None
        Range of the decided total (inclusive).
    ordem : str
        A key of :data:`SORT_LABELS`.
    sentido : str
        ``asc`` or ``desc``.
    pagina : int
        Page number, from 1.
    """

    ciclo: str | None = None
    situacao: str | None = None
    bairro: str | None = None
    criterio: str | None = None
    decidido: bool | None = None
    pontos_min: float | None = None
    pontos_max: float | None = None
    ordem: str = "protocolo"
    sentido: str = "asc"
    pagina: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        """Return the URL parameters of these filters, with ``changes`` applied.

        Parameters
        ----------
        **changes
            Fields to replace (e.g. ``pagina=2``).

        Returns
        -------
        dict of str to str
            Only the parameters that differ from the defaults.
        """
        values = {**self.__dict__, **changes}
        out: dict[str, str] = {}
        for name, value in values.items():
            if value is None or value == getattr(_DEFAULT, name):
                continue
            if isinstance(value, bool):
                out[name] = "sim" if value else "nao"
            elif isinstance(value, float):
                out[name] = f"{value:g}"
            else:
                out[name] = str(value)
        return out


_DEFAULT = QueueFilters()


def _text_param(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value or None


def _number_param(
    params: Mapping[str, str], name: str, label: str, messages: list[str]
) -> float | None:
    text = _text_param(params, name)
    if text is None:
        return None
    try:
        value = parse_decimal(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 100:
        messages.append(f"{label} inválida (use um número de 0 a 100): filtro ignorado.")
        return None
    return value


def parse_queue_filters(params: Mapping[str, str]) -> tuple[QueueFilters, list[str]]:
    """Read the queue's URL parameters; an invalid value is ignored, with a message.

    Parameters
    ----------
    params : mapping of str to str
        The query string (``situacao``, ``bairro``, ``criterio``, ``decidido``,
        ``pontos_min``, ``pontos_max``, ``ordem``, ``sentido``, ``pagina``, ``ciclo``).

    Returns
    -------
    QueueFilters
        The valid filters.
    list of str
        Portuguese messages about the values ignored.
    """
    messages: list[str] = []
    cycle = _text_param(params, "ciclo")
    if cycle is not None and len(cycle) > _MAX_FILTER_TEXT:
        messages.append("Nome de ciclo longo demais: mostrando o ciclo mais recente.")
        cycle = None
    status = _text_param(params, "situacao")
    if status is not None and status not in STATUSES:
        messages.append("Situação desconhecida: filtro ignorado.")
        status = None
    district = _text_param(params, "bairro")
    if district is not None and len(district) > _MAX_FILTER_TEXT:
        messages.append("Bairro longo demais: filtro ignorado.")
        district = None
    criterion = _text_param(params, "criterio")
    if criterion is not None and criterion not in CRITERIA and criterion not in ACTS:
        messages.append("Critério desconhecido: filtro ignorado.")
        criterion = None
    decided_text = _text_param(params, "decidido")
    decided: bool | None = None
    if decided_text in ("sim", "nao"):
        decided = decided_text == "sim"
    elif decided_text is not None:
        messages.append("Filtro de decisão inválido (use sim ou não): ignorado.")
    if criterion is not None and decided is None:
        decided = True
    low = _number_param(params, "pontos_min", "Pontuação mínima", messages)
    high = _number_param(params, "pontos_max", "Pontuação máxima", messages)
    if low is not None and high is not None and low > high:
        messages.append("Pontuação mínima maior que a máxima: os dois valores foram trocados.")
        low, high = high, low
    order = _text_param(params, "ordem") or "protocolo"
    if order not in SORT_LABELS:
        messages.append("Ordenação desconhecida: por protocolo.")
        order = "protocolo"
    direction = _text_param(params, "sentido") or "asc"
    if direction not in ("asc", "desc"):
        messages.append("Sentido da ordenação desconhecido: crescente.")
        direction = "asc"
    try:
        page = parse_whole(_text_param(params, "pagina") or "1", digits=6) or 0
    except ValueError:
        page = 0
    if page < 1:
        messages.append("Página inválida: mostrando a primeira.")
        page = 1
    filters = QueueFilters(
        cycle, status, district, criterion, decided, low, high, order, direction, page
    )
    return filters, messages


@dataclass
class QueueRow:
    """One request of the queue, as shown.

    Attributes
    ----------
    id : int
        The request's id (its page is ``/pedidos/{id}``).
    protocolo, tipo, bairro, logradouro, situacao : str
        Protocol, type label, district, street and status label.
    sugerida, decidida, custo : float or None
        Suggested and decided totals; estimated cost (R$).
    data : datetime.date or None
        Date of the protocol.
    pendencias : list of str
        Labels of the pending items.
    """

    id: int
    protocolo: str
    tipo: str
    bairro: str
    logradouro: str
    situacao: str
    sugerida: float | None
    decidida: float | None
    custo: float | None
    data: date | None
    pendencias: list[str]


@dataclass
class QueuePage:
    """A page of the queue.

    Attributes
    ----------
    rows : list of QueueRow
        The requests of the page.
    total : int
        Requests matching the filters (all pages).
    page, pages : int
        This page and the number of pages (at least 1).
    first : int
        Ordinal of the page's first row (1-based; 0 when empty).
    """

    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    first: int


def pending_labels(status: str, pending: list[Any] | None) -> list[str]:
    """Return the labels of a request's pending items (its list and its status).

    Parameters
    ----------
    status : str
        The request's status.
    pending : list or None
        ``pedidos.pendencias``.

    Returns
    -------
    list of str
        Labels, in the order of :data:`PENDING_LABELS`.
    """
    codes = {str(p) for p in pending or []}
    if status in _PENDING_STATUS:
        codes.add(_PENDING_STATUS[status])
    ordered = [c for c in PENDING_LABELS if c in codes] + sorted(codes - set(PENDING_LABELS))
    return [PENDING_LABELS.get(c, c) for c in ordered]


def _decided_clause(criterion: str | None, decided: bool) -> Any:
    """Select requests with (or without) a current decision: one uncorrelated subquery."""
    names = [criterion] if criterion else list(CRITERIA)
    ids = select(Decision.pedido_id).where(Decision.vigente, Decision.criterio.in_(names))
    return Request.id.in_(ids) if decided else Request.id.not_in(ids)


def _filtered(query: _Query, cycle: Cycle, filters: QueueFilters) -> _Query:
    conditions = [Request.ciclo_id == cycle.id]
    if filters.situacao:
        conditions.append(Request.situacao == filters.situacao)
    if filters.bairro:
        conditions.append(Request.bairro == filters.bairro)
    if filters.decidido is not None:
        conditions.append(_decided_clause(filters.criterio, filters.decidido))
    if filters.pontos_min is not None:
        conditions.append(Request.pontuacao_decidida >= filters.pontos_min)
    if filters.pontos_max is not None:
        conditions.append(Request.pontuacao_decidida <= filters.pontos_max)
    return query.where(and_(*conditions))


def queue_page(
    session: Session, cycle: Cycle, filters: QueueFilters, per_page: int = PAGE_SIZE
) -> QueuePage:
    """Return one page of a cycle's requests, filtered and ordered in SQL.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.
    filters : QueueFilters
        Filters, order and page (a page past the last shows the last).
    per_page : int, default :data:`PAGE_SIZE`
        Rows per page.

    Returns
    -------
    QueuePage
        The rows and the count. Requests without a value of the sort column come last.
    """
    total = int(session.scalar(_filtered(select(func.count(Request.id)), cycle, filters)) or 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(filters.pagina, pages)
    column = _SORT_COLUMNS[filters.ordem]
    order = column.desc() if filters.sentido == "desc" else column.asc()
    tie = Request.id.desc() if filters.sentido == "desc" else Request.id.asc()
    query = _filtered(
        select(
            Request.id, Request.protocolo, Request.tipo, Request.bairro, Request.logradouro,
            Request.situacao, Request.pontuacao_sugerida, Request.pontuacao_decidida,
            Request.custo_estimado_rs, Request.data_protocolo, Request.pendencias,
        ),
        cycle,
        filters,
    )  # fmt: skip
    query = query.order_by(order.nulls_last(), tie).limit(per_page).offset((page - 1) * per_page)
    rows = [
        QueueRow(
            id=r.id,
            protocolo=r.protocolo,
            tipo=TYPE_LABELS.get(r.tipo, r.tipo),
            bairro=r.bairro,
            logradouro=r.logradouro,
            situacao=STATUSES.get(r.situacao, r.situacao),
            sugerida=r.pontuacao_sugerida,
            decidida=r.pontuacao_decidida,
            custo=r.custo_estimado_rs,
            data=r.data_protocolo,
            pendencias=pending_labels(r.situacao, r.pendencias),
        )
        for r in session.execute(query)
    ]
    first = (page - 1) * per_page + 1 if rows else 0
    return QueuePage(rows, total, page, pages, first)


_DISTRICTS: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
_DISTRICTS_LOCK = threading.Lock()


def cycle_districts(session: Session, cycle: Cycle) -> list[str]:
    """Return the districts of a cycle's requests, sorted (for the filter's list).

    Districts change only when a run is recorded: the list is kept in this process per
    database, cycle and latest run.
    """
    run = session.scalar(select(func.max(Run.id)).where(Run.ciclo_id == cycle.id))
    state = (str(session.get_bind().engine.url), cycle.id, run)
    with _DISTRICTS_LOCK:
        if state in _DISTRICTS:
            return list(_DISTRICTS[state])
    query = (
        select(Request.bairro)
        .where(Request.ciclo_id == cycle.id, Request.bairro != "")
        .group_by(Request.bairro)
        .order_by(Request.bairro)
    )
    found = [str(b) for b in session.scalars(query)]
    with _DISTRICTS_LOCK:
        _DISTRICTS[state] = found
        while len(_DISTRICTS) > _CACHE_SIZE:
            _DISTRICTS.popitem(last=False)
    return list(found)


def list_cycles(session: Session) -> list[Cycle]:
    """Return every cycle, the latest first."""
    return list(session.scalars(select(Cycle).order_by(Cycle.aberto_em.desc(), Cycle.id.desc())))


# --- one request: criteria, acts, evidence, personal data --------------------------------------


def current_decisions_of(session: Session, request: Request) -> dict[str, Decision]:
    """Return the request's current decision of each criterion and act decided."""
    query = select(Decision).where(Decision.pedido_id == request.id, Decision.vigente)
    return {d.criterio: d for d in session.scalars(query)}


def _cell(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass
class CriterionView:
    """One criterion of Art. 9 on the request page.

    Attributes
    ----------
    code, label, article : str
        The criterion, its title and its article (``Art. 9, I``).
    weight : float
        The criterion's weight (the most points it may get).
    level : str
        The suggested level (``I``, ``II``, ``III`` or empty).
    suggested : float or None
        Suggested points.
    motivation : str
        The suggestion's motivation.
    decision : Decision or None
        The Commission's current decision.
    points : float or None
        The points the form starts with (the decision's, else the suggestion's).
    text : str
        The motivation the form starts with (the decision's, else the suggestion's).
    """

    code: str
    label: str
    article: str
    weight: float
    level: str
    suggested: float | None
    motivation: str
    decision: Decision | None
    points: float | None
    text: str


def criterion_views(
    row: Mapping[str, Any], current: Mapping[str, Decision], rules: Rules
) -> list[CriterionView]:
    """Describe the five criteria of a request: suggestion and current decision.

    Parameters
    ----------
    row : mapping
        The snapshot's row (``instantaneos.linha``).
    current : mapping of str to Decision
        The current decisions (:func:`current_decisions_of`).
    rules : Rules
        The cycle's rules (titles and weights).

    Returns
    -------
    list of CriterionView
        In the order of :data:`geo_ip.rules.law_locks.CRITERIA`.
    """
    out = []
    for c in CRITERIA:
        spec = getattr(rules.criterios, c)
        decision = current.get(c)
        suggested = _cell(row, f"sugerido_{c}")
        motivation = str(_cell(row, f"motivacao_{c}") or "")
        out.append(
            CriterionView(
                code=c,
                label=str(spec.titulo),
                article=str(spec.peso.fonte or ""),
                weight=float(spec.peso.valor),
                level=str(_cell(row, f"nivel_{c}") or ""),
                suggested=None if suggested is None else float(suggested),
                motivation=motivation,
                decision=decision,
                points=decision.pontos if decision is not None else suggested,
                text=decision.motivacao if decision is not None else motivation,
            )
        )
    return out


@dataclass
class ActView:
    """One act without points (hardship, Art. 11, Art. 12, place) on the request page.

    Attributes
    ----------
    code, label, hint : str
        The act, its label and what the motivation should say.
    decision : Decision or None
        The Commission's current decision.
    recorded : str
        What the assessment run recorded about it (``decisao_<act>``), if anything.
    text : str
        The motivation the form starts with.
    """

    code: str
    label: str
    hint: str
    decision: Decision | None
    recorded: str
    text: str


def act_views(row: Mapping[str, Any], current: Mapping[str, Decision]) -> list[ActView]:
    """Describe the acts of a request (:data:`geo_ip.schema.ACTS`)."""
    out = []
    for act in ACTS:
        decision = current.get(act)
        recorded = str(_cell(row, f"decisao_{act}") or "")
        out.append(
            ActView(
                code=act,
                label=ACT_LABELS[act],
                hint=_ACT_HINTS[act],
                decision=decision,
                recorded=recorded,
                text=decision.motivacao if decision is not None else "",
            )
        )
    return out


_UNIT = re.compile(r"\s*\((m|R\$|%)\)$")


def _label(aliases: Mapping[str, str], column: str, default: str) -> str:
    return _UNIT.sub("", aliases.get(column, default))


def _evidence_value(column: str, value: Any, labels: Labels) -> str:
    """Format one evidence cell in Portuguese (units, labels of codes)."""
    if value is None or value == "":
        return ""
    formats: dict[str, Any] = {
        "hierarquia_via": lambda v: labels.road(v).capitalize(),
        "metodo_distancia": lambda v: METHODS.get(str(v), str(v)),
        "geocodificacao": lambda v: GEOCODING.get(str(v), str(v)),
        "rede_alvo_tipo": labels.grid_type,
        "transformador": lambda v: "sim" if v is True else "não" if v is False else str(v),
        "incerteza_m": lambda v: f"± {num(v, 0, 'm')}",
        "confianca": lambda v: num(float(v) * 100, 0, "%"),
        "declividade_max_pct": lambda v: num(v, 1, "%"),
        "postes_novos": lambda v: num(v, 0),
        "residencias_consideradas": lambda v: num(v, 0),
        "moradores_estimados": lambda v: num(v, 0),
    }
    if column in formats:
        return str(formats[column](value))
    if column.endswith("_rs"):
        return brl(value)
    if column.endswith("_m"):
        return num(value, 1, "m")
    return str(value)


_EVIDENCE = (
    ("logradouro_via", "Logradouro"),
    ("bairro_encontrado", "Bairro"),
    ("hierarquia_via", "Hierarquia da via"),
    ("geocodificacao", "Localização"),
    ("confianca", "Confiança da localização"),
    ("incerteza_m", "Incerteza da localização"),
    ("metodo_distancia", "Método da distância"),
    ("distancia_rede_m", "Extensão até a rede"),
    ("distancia_rede_reta_m", "Distância em linha reta até a rede"),
    ("rede_alvo_tipo", "Rede de origem"),
    ("postes_novos", "Postes novos"),
    ("transformador", "Transformador"),
    ("declividade_max_pct", "Declividade máxima"),
    ("custo_estimado_rs", "Custo estimado"),
    ("custo_por_beneficiario_rs", "Custo por beneficiário"),
    ("residencias_consideradas", "Residências consideradas"),
    ("moradores_estimados", "Moradores estimados"),
)


def evidence_panel(
    row: Mapping[str, Any], evidence: Mapping[str, Any], rules: Rules | None
) -> list[Item]:
    """Describe the request's evidence: place, extension, cost, beneficiaries, counts.

    Labels are the layer catalogue's aliases (``pedidos``, ``extensoes``) where it has
    them; facilities and occurrences with their names and distances come from
    :func:`geo_ip.outputs.format.evidence_items` when the rules are known.

    Parameters
    ----------
    row : mapping
        The snapshot's row.
    evidence : mapping
        The snapshot's evidence items (``instantaneos.evidencias``).
    rules : Rules or None
        The cycle's rules (radii of the counts).

    Returns
    -------
    list of Item
        Label and text of each value present.
    """
    labels = Labels()
    aliases = {**layer_style("extensoes").campos, **labels.requests.campos}
    out = []
    for column, default in _EVIDENCE:
        text = _evidence_value(column, _cell(row, column), labels)
        if text and text != "—":
            out.append(Item(_label(aliases, column, default), text))
    if rules is not None:
        out += evidence_items(dict(row), dict(evidence), rules, labels)
    else:
        for column, title in (("equipamentos_proximos", "Equipamentos públicos próximos"),
                              ("ocorrencias", "Ocorrências")):  # fmt: skip
            if _cell(row, column) is not None:
                out.append(Item(title, num(_cell(row, column), 0)))
    return out


_PERSONAL_LABELS = {
    "nome_solicitante": "Nome do requerente",
    "cpf_solicitante": "CPF",
    "renda_familiar": "Renda familiar declarada",
    "cadunico": "Inscrito no CadÚnico",
    "mei": "Microempreendedor individual (MEI)",
    "beneficio_anterior_data": "Data de benefício anterior",
    "beneficio_anterior_justificativa": "Justificativa de benefício anterior",
    "observacoes": "Observações",
    "justificativa_estrategica": "Justificativa estratégica",
    "hipossuficiencia": "Comprovação da hipossuficiência",
    "decisao_hipossuficiencia": "Decisão sobre a hipossuficiência",
    "motivos_inelegibilidade": "Motivos de inelegibilidade",
    "avisos_elegibilidade": "Avisos de elegibilidade",
}


def personal_items(data: Mapping[str, Any]) -> list[Item]:
    """Format the applicant's data for a user allowed to see it; the CPF stays masked.

    Parameters
    ----------
    data : mapping
        :func:`geo_ip.registry.store.personal_data` of the request.

    Returns
    -------
    list of Item
        The fields present, labelled; the CPF is masked unless it is already
        (``***.456.789-**``); the keyed hash is never shown.
    """
    out = []
    for column, label in _PERSONAL_LABELS.items():
        value = _cell(data, column)
        if value is None or str(value).strip() == "":
            continue
        if column == "cpf_solicitante":
            text = str(value) if str(value).startswith("***") else mask_cpf(value)
        elif column == "renda_familiar":
            text = brl(value)
        elif isinstance(value, bool):
            text = "sim" if value else "não"
        else:
            text = str(value)
        out.append(Item(label, text))
    return out


# --- history -----------------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    """One line of a request's history.

    Attributes
    ----------
    em : datetime
        When (UTC).
    tipo : str
        What kind of change (Portuguese).
    por : str
        Who.
    texto : str
        What changed.
    detalhe : list of str
        Further lines (motivation, superseded, snapshot...).
    """

    em: datetime
    tipo: str
    por: str
    texto: str
    detalhe: list[str] = field(default_factory=list)


def _aware(moment: datetime | date | None) -> datetime:
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _decision_entries(session: Session, request: Request) -> list[HistoryEntry]:
    rows = session.execute(
        select(Decision, Snapshot.avaliacao_id)
        .outerjoin(Snapshot, Snapshot.id == Decision.instantaneo_id)
        .where(Decision.pedido_id == request.id)
    ).all()
    out = []
    for d, run_id in rows:
        what = ACT_LABELS.get(d.criterio) or f"critério {d.criterio}"
        if d.criterio in CRITERIA:
            points = "—" if d.pontos is None else f"{d.pontos:g}".replace(".", ",")
            what = f"{d.criterio}: {points} ponto(s)"
        detail = [f"Motivação: {d.motivacao}"]
        if d.membro and d.membro != d.usuario:
            detail.append(f"Membro: {d.membro}")
        if d.procedimento:
            detail.append(f"Procedimento: {d.procedimento}")
        if d.latitude is not None and d.longitude is not None:
            detail.append(f"Local: {d.latitude:.6f}, {d.longitude:.6f}")
        if run_id is not None:
            detail.append(f"Sobre a avaliação nº {run_id}")
        if d.reuniao_id is not None:
            detail.append(f"Tomada na reunião nº {d.reuniao_id}")
        if d.votacao:
            detail.append(f"Votação: {d.votacao}")
        kind = "Decisão" if d.vigente else "Decisão substituída"
        out.append(HistoryEntry(_aware(d.decidido_em), kind, d.usuario, what, detail))
    return out


def history_of(session: Session, request: Request) -> list[HistoryEntry]:
    """Return the request's history from the registry's tables, newest first.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    request : Request
        The request.

    Returns
    -------
    list of HistoryEntry
        Status changes, decisions (current and superseded), the report, document
        requests and answers, inspections.
    """
    out = _decision_entries(session, request)
    for s in session.scalars(select(StatusChange).where(StatusChange.pedido_id == request.id)):
        text = STATUSES.get(s.situacao, s.situacao)
        out.append(
            HistoryEntry(_aware(s.em), "Situação", s.por, text, [s.motivo] if s.motivo else [])
        )
    report = session.get(Report, request.id)
    if report is not None:
        out.append(HistoryEntry(_aware(report.em), "Parecer conclusivo", report.autor,
                                f"versão {report.versao}"))  # fmt: skip
    for doc in session.scalars(
        select(DocumentRequest).where(DocumentRequest.pedido_id == request.id)
    ):
        out.append(HistoryEntry(_aware(doc.solicitado_em), "Documentos solicitados",
                                doc.solicitado_por, doc.descricao))  # fmt: skip
        if doc.respondido_em is not None:
            out.append(HistoryEntry(_aware(doc.respondido_em), "Documentos respondidos", "",
                                    doc.resposta or doc.descricao))  # fmt: skip
    for v in session.scalars(select(Inspection).where(Inspection.pedido_id == request.id)):
        detail = [v.constatacoes] if v.constatacoes else []
        text = f"equipe: {v.equipe}" if v.equipe else "vistoria registrada"
        out.append(
            HistoryEntry(_aware(v.registrado_em), "Vistoria", v.registrado_por, text, detail)
        )
    out.sort(key=lambda e: e.em, reverse=True)
    return out


def events_of(session: Session, request: Request, limit: int = 500) -> list[Event]:
    """Return the audit events of a request, newest first.

    Events name the request by its protocol (``entidade = 'pedido'``); a protocol
    repeated in another cycle shares its events.
    """
    query = (
        select(Event)
        .where(Event.entidade == "pedido", Event.entidade_id == request.protocolo)
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def documents_of(session: Session, request: Request) -> list[DocumentRequest]:
    """Return the documents asked of the applicant, the newest first."""
    query = (
        select(DocumentRequest)
        .where(DocumentRequest.pedido_id == request.id)
        .order_by(DocumentRequest.solicitado_em.desc(), DocumentRequest.id.desc())
    )
    return list(session.scalars(query))


def inspections_of(session: Session, request: Request) -> list[Inspection]:
    """Return the request's inspections, the newest first."""
    query = (
        select(Inspection)
        .where(Inspection.pedido_id == request.id)
        .order_by(Inspection.data.desc(), Inspection.id.desc())
    )
    return list(session.scalars(query))


# --- the live ranking, cached ------------------------------------------------------------------


def ranking_entry(
    session: Session,
    registry: Registry,
    cycle: Cycle,
    request: Request,
    rules: Rules,
    key: bytes,
    *,
    fresh: bool = False,
) -> tuple[RankingEntry | None, RankingState]:
    """Return a request's place in the live ranking (:mod:`geo_ip.webapp.ranking_cache`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    registry : Registry
        The registry (for the background computation).
    cycle : Cycle
        The request's cycle.
    request : Request
        The request.
    rules : Rules
        The cycle's rules.
    key : bytes
        The LGPD key.
    fresh : bool, default False
        Wait for the current ranking. By default, while the cycle's ranking is being
        computed, the last one computed is accepted when it holds every decision on
        this request (the page says so).

    Returns
    -------
    tuple of (RankingEntry or None, RankingState)
        The request's place (None when the run does not have the request) and the
        ranking it comes from (its ``current`` and ``computed_at``).

    Raises
    ------
    geo_ip.registry.store.RegistryError
        The cycle has no run.
    """
    state = cached_ranking(
        session,
        registry.url,
        cycle,
        rules,
        key,
        registry=registry,
        must_hold=None if fresh else last_decision_on(session, request.id),
    )
    return state.entries.get(request.protocolo), state
