"""The Commission's decisions: recorded one by one, read as the decisions file reads.

:func:`add_decision` supersedes the previous decision on the same criterion (kept,
``vigente`` false) and ties the new one to the request's current snapshot;
:func:`current_decisions` gives them in the columns of
:func:`geo_ip.requests.decision_file.read_decisions`, so that the live ranking and
``geo-ip avaliar --decisoes`` apply them the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip.registry import audit
from geo_ip.registry.base import (
    MAX_TEXT,
    RegistryError,
    change_status,
    guard,
    now,
    refuse_cpf,
    touch,
    visible,
)
from geo_ip.registry.models import (
    Cycle,
    Decision,
    Request,
    Snapshot,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACTS, DECISION_COLUMNS

__all__ = [
    "DecisionInput",
    "add_decision",
    "current_decisions",
    "import_decisions",
    "refuse_cpf",
    "request_state",
]


def request_state(request: Request) -> dict[str, Any]:
    """Return what a change may move on a request besides its own table (for the event).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    dict
        ``situacao``, ``pendencias``, ``geom`` (WKT) and ``pontuacao_decidida``.
    """
    return {
        "situacao": request.situacao,
        "pendencias": list(request.pendencias or []),
        "geom": request.geom,
        "pontuacao_decidida": request.pontuacao_decidida,
    }


@dataclass
class DecisionInput:
    """One decision as the Commission writes it.

    Attributes
    ----------
    criterion : str
        A criterion of :data:`geo_ip.rules.law_locks.CRITERIA` or an act of
        :data:`geo_ip.schema.ACTS`.
    points : float or None
        Points (None for an act).
    motivation : str
        The written motivation (required).
    member : str
        The member's name as it goes to the documents.
    day : datetime.date, optional
        Date of the decision (default: today).
    procedure : str
        Administrative procedure (Art. 12).
    latitude, longitude : float, optional
        Confirmed place (``localizacao``).
    vote : str
        ``consenso`` or the votes (``3 a 1``), when taken in a meeting.
    """

    criterion: str
    points: float | None
    motivation: str
    member: str = ""
    day: date | None = None
    procedure: str = ""
    latitude: float | None = None
    longitude: float | None = None
    vote: str = ""


def _check_decision(decision: DecisionInput, rules: Rules) -> None:
    what = decision.criterion
    if what not in CRITERIA and what not in ACTS:
        raise RegistryError(f"critério desconhecido: {what!r}")
    motivation = visible(decision.motivation)
    if not motivation:
        raise RegistryError("a motivação é obrigatória (Art. 9 §1 e Art. 10, V)")
    if len(motivation) > MAX_TEXT:
        raise RegistryError(f"a motivação passa de {MAX_TEXT} caracteres")
    refuse_cpf(motivation, "a motivação")
    refuse_cpf(decision.procedure, "o número do procedimento")
    refuse_cpf(decision.vote, "a votação")
    if what in CRITERIA:
        weight = float(getattr(rules.criterios, what).peso.valor)
        points = decision.points
        if points is None or not math.isfinite(points) or points < 0 or points > weight:
            raise RegistryError(
                f"pontos do critério devem ficar entre 0 e {weight:g} (peso do critério, Art. 9)"
            )
    elif decision.points is not None:
        raise RegistryError("esta decisão não tem pontos: deixe o campo vazio")
    if what == "art12" and not visible(decision.procedure):
        raise RegistryError("a execução direta (Art. 12) exige o número do procedimento")
    if what == "localizacao":
        lat, lon = decision.latitude, decision.longitude
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RegistryError("a confirmação do local exige latitude e longitude válidas")
    elif decision.latitude is not None or decision.longitude is not None:
        raise RegistryError("só a confirmação do local leva coordenadas")


def _decision_state(row: Decision | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {
        "criterio": row.criterio, "pontos": row.pontos, "motivacao": row.motivacao,
        "membro": row.membro, "data": row.data, "procedimento": row.procedimento,
        "latitude": row.latitude, "longitude": row.longitude, "votacao": row.votacao,
        "instantaneo": row.instantaneo_id, "reuniao": row.reuniao_id,
    }  # fmt: skip


def _decided_total(session: Session, request: Request) -> float | None:
    snapshot = session.get(Snapshot, request.instantaneo_id) if request.instantaneo_id else None
    if snapshot is None:
        return request.pontuacao_decidida
    current = {
        d.criterio: d.pontos
        for d in session.scalars(
            select(Decision).where(Decision.pedido_id == request.id, Decision.vigente)
        )
    }
    values = []
    for c in CRITERIA:
        value = current.get(c, snapshot.linha.get(f"pont_{c}", snapshot.linha.get(f"sugerido_{c}")))
        if value is None:
            return None
        values.append(float(value))
    return round(sum(values), 6)


def add_decision(
    session: Session,
    request: Request,
    decision: DecisionInput,
    rules: Rules,
    *,
    actor: str,
    expected_version: int | None,
    meeting_id: int | None = None,
) -> Decision:
    """Record a decision of the Commission on a request, superseding the previous one.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    request : Request
        The request decided.
    decision : DecisionInput
        What was decided.
    rules : Rules
        The rules of the cycle (criterion weights).
    actor : str
        The user's login.
    expected_version : int or None
        The request's version the user saw (None: no check, for imports).
    meeting_id : int, optional
        The meeting the decision was taken in.

    Returns
    -------
    Decision
        The new decision, tied to the request's current snapshot.

    Raises
    ------
    ConflictError
        The request changed after the user opened it.
    RegistryError
        Points outside 0 to the weight, no motivation, an act without its data, a
        CPF-shaped number in the motivation, procedure or vote (:func:`refuse_cpf`).

    Notes
    -----
    The audit event has the decision before and after, and what it moved on the
    request (:func:`request_state`): status, pending items, position and decided total.
    """
    guard(request, expected_version)
    _check_decision(decision, rules)
    state_before = request_state(request)
    previous = session.scalars(
        select(Decision).where(
            Decision.pedido_id == request.id,
            Decision.criterio == decision.criterion,
            Decision.vigente,
        )
    ).first()
    row = Decision(
        pedido_id=request.id,
        instantaneo_id=request.instantaneo_id,
        reuniao_id=meeting_id,
        criterio=decision.criterion,
        pontos=decision.points,
        motivacao=visible(decision.motivation),
        membro=visible(decision.member) or actor,
        usuario=actor,
        data=decision.day or date.today(),
        decidido_em=now(),
        procedimento=visible(decision.procedure),
        latitude=decision.latitude,
        longitude=decision.longitude,
        votacao=visible(decision.vote),
        vigente=True,
    )
    session.add(row)
    session.flush()
    if previous is not None:
        previous.vigente = False
        previous.substituida_por = row.id
    if decision.criterion == "localizacao":
        request.pendencias = [p for p in request.pendencias if p != "localizacao"]
        request.geom = f"POINT ({decision.longitude:.7f} {decision.latitude:.7f})"
    if request.situacao in ("avaliado", "pendente_localizacao") and (
        decision.criterion != "localizacao" or request.situacao == "pendente_localizacao"
    ):
        change_status(session, request, "decidido", actor, f"decisão: {decision.criterion}")
    request.pontuacao_decidida = _decided_total(session, request)
    touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "decisao", "pedido", request.protocolo,
        before={**_decision_state(previous), **state_before},
        after={**_decision_state(row), **request_state(request)},
    )  # fmt: skip
    return row


def current_decisions(session: Session, cycle: Cycle) -> pd.DataFrame:
    """Return the cycle's current decisions as :func:`read_decisions` gives them.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`geo_ip.schema.DECISION_COLUMNS`; ``linha`` numbers the decisions
        in the order they were taken (the order Art. 11 and 12 reservations follow).
    """
    rows = session.execute(
        select(Request.protocolo, Decision)
        .join(Request, Request.id == Decision.pedido_id)
        .where(Request.ciclo_id == cycle.id, Decision.vigente)
        .order_by(Decision.data, Decision.decidido_em, Decision.id)
    ).all()
    records = [
        {
            "linha": i + 2,
            "protocolo": protocol,
            "criterio": d.criterio,
            "pontos": np.nan if d.pontos is None else float(d.pontos),
            "motivacao": d.motivacao,
            "membro": d.membro,
            "data": d.data,
            "procedimento": d.procedimento,
            "latitude": np.nan if d.latitude is None else float(d.latitude),
            "longitude": np.nan if d.longitude is None else float(d.longitude),
        }
        for i, (protocol, d) in enumerate(rows)
    ]
    frame = pd.DataFrame.from_records(records, columns=list(DECISION_COLUMNS))
    return frame.astype({"pontos": "float64", "latitude": "float64", "longitude": "float64"})


def import_decisions(
    session: Session, cycle: Cycle, decisions: pd.DataFrame, rules: Rules, *, actor: str
) -> int:
    """Record the valid decisions of a decisions file that differ from the current ones.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    cycle : Cycle
        The cycle.
    decisions : pandas.DataFrame
        Valid decisions (:func:`geo_ip.requests.decision_file.read_decisions`).
    rules : Rules
        The rules (weights).
    actor : str
        Who imports them.

    Returns
    -------
    int
        Decisions recorded (the ones equal to the current decision are skipped).
    """
    requests = {
        r.protocolo: r for r in session.scalars(select(Request).where(Request.ciclo_id == cycle.id))
    }
    current = {
        (p, d.criterio): d
        for p, d in session.execute(
            select(Request.protocolo, Decision)
            .join(Request, Request.id == Decision.pedido_id)
            .where(Request.ciclo_id == cycle.id, Decision.vigente)
        ).all()
    }
    added = 0
    for record in decisions.to_dict("records"):
        request = requests.get(str(record["protocolo"]))
        if request is None:
            continue
        given = DecisionInput(
            criterion=str(record["criterio"]),
            points=_number(record.get("pontos")),
            motivation=str(record.get("motivacao") or ""),
            member=_text(record.get("membro")),
            day=_day(record.get("data")),
            procedure=_text(record.get("procedimento")),
            latitude=_number(record.get("latitude")),
            longitude=_number(record.get("longitude")),
        )
        before = current.get((request.protocolo, given.criterion))
        if before is not None and _same(before, given):
            continue
        add_decision(session, request, given, rules, actor=actor, expected_version=None)
        added += 1
    return added


def _same(row: Decision, given: DecisionInput) -> bool:
    """Whether a decision file's row repeats the current decision."""
    return (
        row.pontos == given.points
        and row.motivacao == visible(given.motivation)
        and row.procedimento == visible(given.procedure)
        and row.latitude == given.latitude
        and row.longitude == given.longitude
        and (not given.member.strip() or row.membro == given.member.strip())
        and (given.day is None or row.data == given.day)
    )


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
