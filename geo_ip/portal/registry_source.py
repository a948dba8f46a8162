"""Read the registry (the Commission's workspace) into the portal's public model.

The ranking is the live one (:func:`geo_ip.registry.live.live_ranking`: the latest run
and the Commission's current decisions through the law, as the web app shows it). The
table holds the applicants' data when the run recorded it, so it first goes through
:func:`geo_ip.requests.privacy.public_view` (personal columns dropped, names and CPFs
redacted from the free text, the conclusive report included) and then through the same
allow-list as an assessment folder (:func:`geo_ip.portal.folder.program_from`).

Added from the registry: each request's status history (status and date only: never
who changed it nor the reason typed), the conclusive report (Art. 10, VII), the works
executed (date and place) with the money executed, and the proposed extensions of the
latest run. Not published: decisions on the proof of hardship (they name the
applicant's documents), on the place (coordinates typed by the Commission), document
requests and inspections.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip.portal.folder import program_from
from geo_ip.portal.model import (
    CRITERIA_KEYS,
    STATUS_LABELS,
    Event,
    Program,
    PublicDecision,
    number_or_none,
    public_text,
    street_level_line,
)
from geo_ip.registry import store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.live import live_ranking, rules_of
from geo_ip.registry.models import Report, Request, RulesVersion, Snapshot, StatusChange, Work
from geo_ip.requests import privacy
from geo_ip.rules.config import Rules

__all__ = ["read_registry"]

_REPORT = "parecer_conclusivo"
"""Column the conclusive report is put in before the public view (a free-text column)."""


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _street(row: dict[str, Any]) -> str:
    for column in ("logradouro_via", "logradouro_encontrado"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _district(row: dict[str, Any]) -> str:
    for column in ("bairro_encontrado", "bairro"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _yes(value: Any) -> str:
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, float) and math.isnan(value):
        return "não"
    return "sim" if str(value).strip().lower() in ("sim", "true", "1") else "não"


def _law(number: str) -> str:
    text = number.strip()
    return text if not text or text.lower().startswith("lei") else f"Lei nº {text}"


def _table(session: Session, table: pd.DataFrame, ids: dict[str, int]) -> pd.DataFrame:
    """Add the conclusive reports, then return the public view of the table."""
    reports = {
        r.pedido_id: r.texto for r in session.scalars(select(Report).where(Report.pedido_id.in_(
            list(ids.values()))))
    }  # fmt: skip
    table = table.copy()
    table[_REPORT] = [reports.get(ids.get(str(p), -1), "") for p in table["protocolo"]]
    return privacy.public_view(table, free_text=(_REPORT,))


def _records(public: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in public.to_dict("records"):
        criteria = {
            c: {f"{p}{c}": row.get(f"{p}{c}") for p in ("nivel_", "motivacao_", "decisao_")}
            for c in CRITERIA_KEYS
        }
        out.setdefault(
            str(row.get("protocolo", "")),
            {
                "criterios": criteria,
                "art11": {"decisao_art11": row.get("decisao_art11")},
                "art12": {"decisao_art12": row.get("decisao_art12")},
            },
        )
    return out


def read_registry(
    source: str | Registry,
    *,
    cycle: str | None = None,
    rules: Rules | None = None,
    key: bytes = b"",
) -> Program:
    """Read a cycle of the registry into the public model.

    Parameters
    ----------
    source : str or Registry
        A database URL or an open registry.
    cycle : str, optional
        The cycle's name (default: the latest).
    rules : Rules, optional
        The cycle's rules, when given (their hash must be the cycle's).
    key : bytes, optional
        The LGPD key (the repeat check of eligibility); never published.

    Returns
    -------
    Program
        The public model, with history, reports, works and extensions.

    Raises
    ------
    RegistryError
        No such cycle, or no run recorded yet.
    """
    registry = source if isinstance(source, Registry) else open_registry(source, migrate=False)
    with registry.session() as session:
        found = store.find_cycle(session, cycle)
        in_force = rules_of(session, found, rules)
        live = live_ranking(session, found, rules=in_force, key=key)
        requests = list(session.scalars(select(Request).where(Request.ciclo_id == found.id)))
        ids = {r.protocolo: r.id for r in requests}
        public = _table(session, live.table, ids)
        rows = []
        for record in public.to_dict("records"):
            row = {str(k): v for k, v in record.items()}
            rows.append(
                {
                    **row,
                    "logradouro": _street(row),
                    "bairro": _district(row),
                    "motivos": row.get("motivo_situacao"),
                    "selecionado_orcamento": _yes(row.get("selecionado_orcamento")),
                }
            )
        run = live.run
        provenance = dict(run.proveniencia or {})
        version = (
            session.get(RulesVersion, found.versao_regras_id) if found.versao_regras_id else None
        )
        budget = dict(provenance.get("orcamento") or {})
        budget["orcamento_rs"] = found.orcamento_rs
        provenance["orcamento"] = budget
        provenance["regras"] = {
            **(provenance.get("regras") or {}),
            "versao": in_force.versao,
            "sha256": in_force.sha256,
            "municipio": in_force.municipio.nome,
            "lei": _law(in_force.lei.numero),
        }
        program = program_from(rows, _records(public), provenance, source="registro")
        program.rules = in_force
        program.rules_text = version.conteudo if version is not None else ""
        program.fictitious = bool(in_force.municipio.ficticio)
        by_id = {r.id: r for r in requests}
        slugs = {r.protocol: r.slug for r in program.requests}
        reports = dict(zip(public["protocolo"].astype(str), public[_REPORT], strict=True))
        history: dict[str, list[Event]] = {}
        for change in session.scalars(
            select(StatusChange)
            .join(Request, Request.id == StatusChange.pedido_id)
            .where(Request.ciclo_id == found.id)
            .order_by(StatusChange.em, StatusChange.id)
        ):
            owner = by_id.get(change.pedido_id)
            if owner is not None:
                label = STATUS_LABELS.get(change.situacao, change.situacao)
                history.setdefault(owner.protocolo, []).append(Event(label, _day(change.em)))
        works = []
        executed_rs = 0.0
        costs = {r.protocol: r.municipal_cost for r in program.requests}
        for work in session.scalars(
            select(Work)
            .join(Request, Request.id == Work.pedido_id)
            .where(Request.ciclo_id == found.id)
            .order_by(Work.id)
        ):
            owner = by_id.get(work.pedido_id)
            if owner is None:
                continue
            history.setdefault(owner.protocolo, []).append(
                Event("Obra executada", work.data_execucao)
            )
            executed_rs += costs.get(owner.protocolo) or 0.0
            if work.latitude is not None and work.longitude is not None:
                works.append(
                    {
                        "type": "Feature",
                        "properties": {"pagina": slugs.get(owner.protocolo, "")},
                        "geometry": {
                            "type": "Point",
                            "coordinates": [round(work.longitude, 6), round(work.latitude, 6)],
                        },
                    }
                )
        extensions = []
        for protocol, wkt in session.execute(
            select(Request.protocolo, Snapshot.extensao)
            .join(Request, Request.id == Snapshot.pedido_id)
            .where(Snapshot.avaliacao_id == run.id, Snapshot.extensao.is_not(None))
        ):
            geom = shapely.from_wkt(wkt) if isinstance(wkt, str) else None
            shown = street_level_line(geom)
            if shown is None or protocol not in slugs:
                continue
            extensions.append(
                {"type": "Feature", "properties": {"pagina": slugs[protocol]}, "geometry": shown}
            )
    for request in program.requests:
        request.report = public_text(reports.get(request.protocol, ""))
        own = history.get(request.protocol)
        if own:
            request.history = [request.history[0], *own] + [
                Event(f"Decisão: {d.subject}", d.day) for d in request.decisions
                if d.kind == "decisao"
            ]  # fmt: skip
            request.history.sort(key=lambda e: e.day or date.max)
        if any(e.label == "Obra executada" for e in own or []):
            request.status = "executado"
    selections = [
        PublicDecision(d.protocol, d.slug, d.subject, d.text, d.official, d.day, d.kind)
        for d in program.decisions
    ]
    program.decisions = selections
    program.works = {"type": "FeatureCollection", "features": works}
    program.extensions = {"type": "FeatureCollection", "features": extensions}
    # the live ranking's money (the run's provenance has the budget of the run, before
    # the decisions taken since)
    reserved = sum(
        r.municipal_cost or 0.0
        for r in program.requests
        if r.selected and r.status in ("estrategico_art11", "execucao_direta_art12")
    )
    ranked = sum(
        r.municipal_cost or 0.0
        for r in program.requests
        if r.selected and r.status not in ("estrategico_art11", "execucao_direta_art12")
    )
    total = program.budget.get("orcamento_rs")
    program.budget["reservado_rs"] = round(reserved, 2)
    program.budget["selecionado_rs"] = round(ranked, 2)
    program.budget["saldo_rs"] = None if total is None else round(total - reserved - ranked, 2)
    program.budget["executado_rs"] = round(executed_rs, 2)
    program.budget = {k: number_or_none(v) for k, v in program.budget.items()}
    return program
