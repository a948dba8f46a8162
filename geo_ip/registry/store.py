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
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_ip.errors import GeoIPError
from geo_ip.registry import audit
from geo_ip.registry.models import (
    Cycle,
    Decision,
    DocumentRequest,
    PersonalData,
    Report,
    Request,
    RulesVersion,
    Run,
    Snapshot,
    StatusChange,
)
from geo_ip.requests.privacy import (
    APPLICANT_TEXT_COLUMNS,
    ELIGIBILITY_DETAIL,
    PERSONAL_COLUMNS,
    PSEUDONYMOUS_COLUMNS,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACTS, DECISION_COLUMNS

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

PERSONAL = (*PERSONAL_COLUMNS, *PSEUDONYMOUS_COLUMNS, *APPLICANT_TEXT_COLUMNS, *ELIGIBILITY_DETAIL)
"""Columns of the assessment table kept only in ``dados_pessoais`` (LGPD)."""
EXPORT_COLUMNS = tuple(c for c in DECISION_COLUMNS if c != "linha")
"""Columns of the decisions CSV that ``geo-ip assess --decisions`` reads, in its order."""
_GEOMETRY_COLUMNS = ("trecho_candidato",)
_MAX_TEXT = 5000


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


def _now() -> datetime:
    return datetime.now(UTC)


# --- rules, cycles ---------------------------------------------------------------------------


def ensure_rules(session: Session, rules: Rules, actor: str) -> RulesVersion:
    """Return the registry's record of a rules file, adding it the first time it is used.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    rules : Rules
        The municipality's rules.
    actor : str
        Who records it.

    Returns
    -------
    RulesVersion
        The record (matched by the rules' SHA-256).
    """
    found = session.scalar(select(RulesVersion).where(RulesVersion.sha256 == rules.sha256))
    if found is not None:
        return found
    path = Path(rules.arquivo) if rules.arquivo else None
    text = path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""
    record = RulesVersion(
        sha256=rules.sha256,
        versao=str(rules.versao),
        municipio=rules.municipio.nome,
        codigo_ibge=int(rules.municipio.codigo_ibge),
        arquivo=path.name if path is not None else "",
        conteudo=text,
        registrado_em=_now(),
    )
    session.add(record)
    session.flush()
    audit.append(
        session, actor, "regras_registradas", "versao_regras", record.sha256,
        after={"versao": record.versao, "municipio": record.municipio, "arquivo": record.arquivo},
    )  # fmt: skip
    return record


def find_cycle(session: Session, name: str | None = None) -> Cycle:
    """Return the cycle named ``name``, or the latest one opened.

    Raises
    ------
    RegistryError
        No such cycle (or no cycle at all).
    """
    query = select(Cycle).order_by(Cycle.aberto_em.desc(), Cycle.id.desc())
    if name:
        query = select(Cycle).where(Cycle.nome == name)
    cycle = session.scalars(query).first()
    if cycle is None:
        raise RegistryError(
            f"ciclo {name!r} não existe no registro" if name else "o registro ainda não tem ciclo"
        )
    return cycle


def ensure_cycle(
    session: Session,
    name: str,
    actor: str,
    *,
    budget: float | None = None,
    rules: RulesVersion | None = None,
) -> Cycle:
    """Return the cycle ``name``, opening it when it does not exist.

    A budget given for an existing cycle replaces its budget (an audited change).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    name : str
        The cycle's name (e.g. ``2026``).
    actor : str
        Who opens or changes it.
    budget : float, optional
        Amount available for the municipal part of the works (R$).
    rules : RulesVersion, optional
        The rules in force.

    Returns
    -------
    Cycle
        The cycle.
    """
    cycle = session.scalar(select(Cycle).where(Cycle.nome == name))
    if cycle is None:
        cycle = Cycle(
            nome=name,
            orcamento_rs=budget,
            versao_regras_id=rules.id if rules else None,
            aberto_em=_now(),
        )
        session.add(cycle)
        session.flush()
        audit.append(
            session, actor, "ciclo_aberto", "ciclo", name,
            after={"orcamento_rs": budget, "regras": rules.sha256 if rules else None},
        )  # fmt: skip
        return cycle
    changes: dict[str, Any] = {}
    if budget is not None and budget != cycle.orcamento_rs:
        changes["orcamento_rs"] = (cycle.orcamento_rs, budget)
        cycle.orcamento_rs = budget
    if rules is not None and rules.id != cycle.versao_regras_id:
        changes["versao_regras_id"] = (cycle.versao_regras_id, rules.id)
        cycle.versao_regras_id = rules.id
    if changes:
        audit.append(
            session, actor, "ciclo_alterado", "ciclo", name,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
        )  # fmt: skip
    return cycle


# --- runs and snapshots ----------------------------------------------------------------------


def table_to_parquet(table: pd.DataFrame) -> bytes:
    """Serialise an assessment table without personal data (geometries as WKB).

    Parameters
    ----------
    table : pandas.DataFrame
        The assessment table.

    Returns
    -------
    bytes
        Parquet bytes of the table without :data:`PERSONAL` columns.
    """
    out = table.drop(columns=[c for c in PERSONAL if c in table.columns])
    for column in _GEOMETRY_COLUMNS:
        if column in out.columns:
            out[column] = [
                shapely.to_wkb(g) if isinstance(g, shapely.Geometry) else None for g in out[column]
            ]
    buffer = io.BytesIO()
    out.reset_index(drop=True).to_parquet(buffer, index=False)
    return buffer.getvalue()


def run_table(run: Run) -> pd.DataFrame:
    """Read back the table of a run (:func:`table_to_parquet`), geometries as shapely.

    Parameters
    ----------
    run : Run
        The run.

    Returns
    -------
    pandas.DataFrame
        The run's table without personal data.
    """
    table = pd.read_parquet(io.BytesIO(run.tabela))
    for column in _GEOMETRY_COLUMNS:
        if column in table.columns:
            table[column] = pd.Series(
                [
                    shapely.from_wkb(g) if isinstance(g, bytes) and g else None
                    for g in table[column]
                ],
                index=table.index,
                dtype=object,
            )
    return table


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value, rounding_precision=7)
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _protocol(row: Mapping[str, Any]) -> str:
    protocol = str(row.get("protocolo") or "").strip()
    return protocol or f"(sem protocolo, linha {row.get('linha', '?')})"


def _status_of(situation: object) -> str:
    text = str(situation or "")
    if text in ("erro", "inelegivel", "pendente_localizacao"):
        return text
    return "avaliado"


def _point_wkt(row: Mapping[str, Any]) -> str | None:
    lat, lon = row.get("latitude"), row.get("longitude")
    try:
        lat_f, lon_f = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(lat_f) or math.isnan(lon_f):
        return None
    return f"POINT ({lon_f:.7f} {lat_f:.7f})"


def _sum_points(row: Mapping[str, Any], prefix: str) -> float | None:
    values = [row.get(f"{prefix}{c}") for c in CRITERIA]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return None
    return round(float(sum(values)), 6)  # type: ignore[arg-type]


@dataclass
class RunRecord:
    """What :func:`record_run` recorded.

    Attributes
    ----------
    run_id : int
        The run's id.
    cycle : str
        The cycle's name.
    requests : int
        Requests in the run.
    new_requests : int
        Requests the registry did not have before.
    """

    run_id: int
    cycle: str
    requests: int
    new_requests: int


def record_run(
    session: Session,
    table: pd.DataFrame,
    *,
    cycle: Cycle,
    rules: RulesVersion | None,
    actor: str,
    origin: str,
    provenance: Mapping[str, Any],
    personal: bool,
    extensions: Sequence[str | None] | None = None,
    evidence: Sequence[Mapping[str, Any]] | None = None,
    maps: Sequence[Mapping[str, Any]] | None = None,
    history: pd.DataFrame | None = None,
) -> RunRecord:
    """Record one assessment run: the run, one snapshot per request, their requests.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    table : pandas.DataFrame
        The assessment table, one row per request (``geo_ip.pipeline.Assessment.table``,
        or the table read back from an assessment folder).
    cycle : Cycle
        The cycle the requests belong to.
    rules : RulesVersion or None
        The rules of the run.
    actor : str
        Who records it.
    origin : str
        Where it came from (``geo-ip assess``, the folder imported).
    provenance : mapping
        The run's provenance (``proveniencia.json``).
    personal : bool
        Whether ``table`` holds the applicants' data (then kept in ``dados_pessoais``
        and used to check eligibility again in the live ranking).
    extensions : sequence of str or None, optional
        WKT (EPSG:4326) of each request's proposed extension, aligned with ``table``.
    evidence : sequence of mapping, optional
        The evidence items of each request (``Assessment.items``).
    maps : sequence of mapping, optional
        The map data of each request (:func:`geo_ip.registry.request_map.snapshot_maps`).
    history : pandas.DataFrame, optional
        Previous benefits read for the run (keyed hashes only), for the live ranking.

    Returns
    -------
    RunRecord
        The run's id and counts.
    """
    now = _now()
    executed = str(provenance.get("executado_em") or now.isoformat())
    run = Run(
        ciclo_id=cycle.id,
        versao_regras_id=rules.id if rules else None,
        regras_sha256=rules.sha256 if rules else "",
        executado_em=datetime.fromisoformat(executed),
        registrado_em=now,
        origem=origin,
        versao_ferramenta=str(provenance.get("versao_ferramenta", "")),
        orcamento_rs=provenance.get("orcamento_rs"),
        proveniencia=audit.canonical(provenance),
        com_dados_pessoais=personal,
        historico=_records(history.drop(columns=["cpf"], errors="ignore"))
        if history is not None
        else [],
        tabela=table_to_parquet(table),
    )
    session.add(run)
    session.flush()
    existing = {
        r.protocolo: r for r in session.scalars(select(Request).where(Request.ciclo_id == cycle.id))
    }
    public_columns = [c for c in table.columns if c not in PERSONAL]
    rows = _records(table[public_columns])
    private = _records(table[[c for c in PERSONAL if c in table.columns]]) if personal else []
    new = 0
    snapshots: list[Snapshot] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        protocol = _protocol(row)
        if protocol in seen:  # a repeated protocol (an error of the spreadsheet) keeps its row
            protocol = f"{protocol} (linha {row.get('linha', i + 2)})"
        seen.add(protocol)
        request = existing.get(protocol)
        status = _status_of(row.get("situacao"))
        if request is None:
            request = Request(
                ciclo_id=cycle.id, protocolo=protocol, situacao=status, pendencias=[],
                atualizado_em=now, atualizado_por=actor,
            )  # fmt: skip
            session.add(request)
            existing[protocol] = request
            new += 1
            session.flush()
            session.add(StatusChange(pedido_id=request.id, situacao=status, em=now, por=actor,
                                     motivo=f"avaliação nº {run.id}"))  # fmt: skip
        elif request.situacao in ("recebido", "avaliado", "erro", "inelegivel") and (
            request.situacao != status
        ):
            session.add(StatusChange(pedido_id=request.id, situacao=status, em=now, por=actor,
                                     motivo=f"avaliação nº {run.id}"))  # fmt: skip
            request.situacao = status
        request.tipo = str(row.get("tipo") or "")
        request.bairro = str(row.get("bairro") or row.get("bairro_encontrado") or "")
        request.logradouro = str(row.get("logradouro_via") or row.get("logradouro") or "")
        day = row.get("data_protocolo")
        request.data_protocolo = (
            date.fromisoformat(day[:10]) if isinstance(day, str) and day else None
        )
        request.geom = _point_wkt(row)
        request.pontuacao_sugerida = _sum_points(row, "sugerido_")
        request.pontuacao_decidida = _sum_points(row, "pont_")
        cost = row.get("custo_estimado_rs")
        request.custo_estimado_rs = float(cost) if isinstance(cost, int | float) else None
        request.atualizado_em, request.atualizado_por = now, actor
        snapshot = Snapshot(
            avaliacao_id=run.id,
            pedido_id=request.id,
            linha=row,
            evidencias=dict(evidence[i]) if evidence is not None else {},
            mapa=dict(maps[i]) if maps is not None else {},
            extensao=extensions[i] if extensions is not None else None,
        )
        snapshots.append(snapshot)
        if personal:
            data = session.get(PersonalData, request.id)
            if data is None:
                session.add(PersonalData(pedido_id=request.id, dados=private[i]))
            else:
                data.dados = private[i]
    session.add_all(snapshots)
    session.flush()
    for snapshot in snapshots:
        request = session.get(Request, snapshot.pedido_id)
        if request is not None:
            request.instantaneo_id = snapshot.id
    audit.append(
        session, actor, "avaliacao_registrada", "avaliacao", run.id,
        after={
            "ciclo": cycle.nome, "origem": origin, "pedidos": len(rows), "novos": new,
            "regras_sha256": run.regras_sha256, "executado_em": executed,
            "com_dados_pessoais": personal,
        },
    )  # fmt: skip
    return RunRecord(run.id, cycle.nome, len(rows), new)


# --- decisions -------------------------------------------------------------------------------


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
    motivation = decision.motivation.strip()
    if not motivation:
        raise RegistryError("a motivação é obrigatória (Art. 9 §1 e Art. 10, V)")
    if len(motivation) > _MAX_TEXT:
        raise RegistryError(f"a motivação passa de {_MAX_TEXT} caracteres")
    if what in CRITERIA:
        weight = float(getattr(rules.criterios, what).peso.valor)
        points = decision.points
        if points is None or not math.isfinite(points) or points < 0 or points > weight:
            raise RegistryError(
                f"pontos do critério devem ficar entre 0 e {weight:g} (peso do critério, Art. 9)"
            )
    elif decision.points is not None:
        raise RegistryError("esta decisão não tem pontos: deixe o campo vazio")
    if what == "art12" and not decision.procedure.strip():
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


def _guard(request: Request, expected_version: int | None) -> None:
    if expected_version is not None and request.versao != expected_version:
        raise ConflictError(request.atualizado_por, request.atualizado_em)


def _touch(request: Request, actor: str) -> None:
    request.atualizado_em, request.atualizado_por = _now(), actor


def _change_status(session: Session, request: Request, status: str, actor: str, why: str) -> None:
    if request.situacao == status:
        return
    session.add(StatusChange(pedido_id=request.id, situacao=status, em=_now(), por=actor,
                             motivo=why))  # fmt: skip
    request.situacao = status


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
        Points outside 0 to the weight, no motivation, an act without its data.
    """
    _guard(request, expected_version)
    _check_decision(decision, rules)
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
        motivacao=decision.motivation.strip(),
        membro=decision.member.strip() or actor,
        usuario=actor,
        data=decision.day or date.today(),
        decidido_em=_now(),
        procedimento=decision.procedure.strip(),
        latitude=decision.latitude,
        longitude=decision.longitude,
        votacao=decision.vote.strip(),
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
        _change_status(session, request, "decidido", actor, f"decisão: {decision.criterion}")
    request.pontuacao_decidida = _decided_total(session, request)
    _touch(request, actor)
    session.flush()
    audit.append(
        session, actor, "decisao", "pedido", request.protocolo,
        before=_decision_state(previous), after=_decision_state(row),
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
        and row.motivacao == given.motivation.strip()
        and row.procedimento == given.procedure.strip()
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

    _guard(request, expected_version)
    if status not in STATUSES:
        raise RegistryError(f"situação desconhecida: {status!r}")
    before = request.situacao
    _change_status(session, request, status, actor, reason.strip())
    _touch(request, actor)
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
    _guard(request, expected_version)
    body = text.strip()
    if not body:
        raise RegistryError("o parecer conclusivo não pode ficar vazio")
    if len(body) > 4 * _MAX_TEXT:
        raise RegistryError(f"o parecer passa de {4 * _MAX_TEXT} caracteres")
    report = session.get(Report, request.id)
    before = {"texto": report.texto, "autor": report.autor} if report is not None else {}
    if report is None:
        report = Report(pedido_id=request.id, texto=body, autor=actor, em=_now())
        session.add(report)
    else:
        report.texto, report.autor, report.em = body, actor, _now()
    _touch(request, actor)
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
    _touch(request, actor)
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
        _touch(request, actor)
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


def latest_run(session: Session, cycle: Cycle) -> Run | None:
    """Return the latest run recorded for a cycle (None when none)."""
    return session.scalars(
        select(Run).where(Run.ciclo_id == cycle.id).order_by(Run.id.desc()).limit(1)
    ).first()


def personal_rows(session: Session, cycle: Cycle) -> Iterable[tuple[str, dict[str, Any]]]:
    """Yield (protocol, personal data) of a cycle, for computations only (not for display)."""
    yield from session.execute(
        select(Request.protocolo, PersonalData.dados)
        .join(PersonalData, PersonalData.pedido_id == Request.id)
        .where(Request.ciclo_id == cycle.id)
    )
