"""Rules versions, cycles and assessment runs: what ``geo-ip avaliar --db`` records.

:func:`record_run` keeps one run per assessment: its table without personal data
(Parquet), one snapshot per request (the public row, the evidence, the map and the
proposed extension) and the requests themselves, created the first time a protocol is
seen. The applicants' data goes to ``dados_pessoais`` only.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip.registry import audit
from geo_ip.registry.base import PERSONAL, RegistryError, now
from geo_ip.registry.models import (
    Cycle,
    Decision,
    PersonalData,
    Request,
    RulesVersion,
    Run,
    Snapshot,
    StatusChange,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA

__all__ = [
    "RunRecord",
    "ensure_cycle",
    "ensure_rules",
    "find_cycle",
    "latest_run",
    "personal_rows",
    "record_run",
    "run_table",
    "table_to_parquet",
]

_GEOMETRY_COLUMNS = ("trecho_candidato",)


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
        registrado_em=now(),
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
            aberto_em=now(),
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


def _pending(
    request: Request, row: Mapping[str, Any], status: str, confirmed: set[int]
) -> list[str]:
    """List the request's pending items after a run: its place, a site visit.

    ``localizacao`` while the run could not place the request and the Commission has not
    confirmed its place; ``vistoria`` when the run asks for a check on site
    (``confirmar_no_local``). Other items (documents) are kept.
    """
    pending = [p for p in (request.pendencias or []) if p not in ("localizacao", "vistoria")]
    if status == "pendente_localizacao" and request.id not in confirmed:
        pending.append("localizacao")
    if str(row.get("confirmar_no_local") or "").strip():
        pending.append("vistoria")
    return pending


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
        Where it came from (``geo-ip avaliar``, the folder imported).
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
    moment = now()
    executed = str(provenance.get("executado_em") or moment.isoformat())
    run = Run(
        ciclo_id=cycle.id,
        versao_regras_id=rules.id if rules else None,
        regras_sha256=rules.sha256 if rules else "",
        executado_em=datetime.fromisoformat(executed),
        registrado_em=moment,
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
    confirmed = set(
        session.scalars(
            select(Decision.pedido_id).where(Decision.criterio == "localizacao", Decision.vigente)
        )
    )
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
                atualizado_em=moment, atualizado_por=actor,
            )  # fmt: skip
            session.add(request)
            existing[protocol] = request
            new += 1
            session.flush()
            session.add(StatusChange(pedido_id=request.id, situacao=status, em=moment, por=actor,
                                     motivo=f"avaliação nº {run.id}"))  # fmt: skip
        elif request.situacao in ("recebido", "avaliado", "erro", "inelegivel") and (
            request.situacao != status
        ):
            session.add(StatusChange(pedido_id=request.id, situacao=status, em=moment, por=actor,
                                     motivo=f"avaliação nº {run.id}"))  # fmt: skip
            request.situacao = status
        request.pendencias = _pending(request, row, status, confirmed)
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
        request.atualizado_em, request.atualizado_por = moment, actor
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
