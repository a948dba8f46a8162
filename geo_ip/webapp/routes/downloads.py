"""Downloads of the current state: ranking workbook, technical sheets, decisions CSV.

- ``/classificacao.xlsx``: the Commission's workbook of the live ranking, written by
  :func:`geo_ip.outputs.workbook.write_xlsx` (the ``ranking.xlsx`` of ``geo-ip avaliar``:
  strings are never formulas);
- ``/pedidos/{id}/ficha.html`` and ``/pedidos/{id}/ficha.pdf``: the technical sheet of
  one request (Art. 10) with the Commission's current decisions, by the renderer of
  ``geo-ip avaliar`` (:mod:`geo_ip.outputs.sheets`); the registry has no territory, so
  the sheet has no static map;
- ``/decisoes.csv``: the current decisions in the exact ``--decisoes`` format
  (:func:`geo_ip.registry.exchange.decisions_frame`, the cells of ``geo-ip registro
  export``).

The ranking comes from the cache of the ranking page (:func:`cached_ranking`). Personal
data (LGPD):

- users whose role may not see personal data get the tables of
  :func:`geo_ip.requests.privacy.public_view` (no applicant's column, no eligibility
  detail) and the decisions CSV with the applicants' names and CPF-shaped numbers
  redacted from the motivations (:mod:`geo_ip.webapp.redact`);
- the others get the workbook and the sheet of :func:`geo_ip.requests.privacy.internal_view`
  (CPF masked, CadÚnico, proof of hardship; no name, no income), and each such download
  is recorded in the audit trail (``dados_pessoais_vistos``:
  :func:`geo_ip.registry.store.log_personal_view`);
- in both, every applicant's name is redacted from the free text (motivations, reasons).

The HTML sheet is a standalone page with its own inline ``<style>``: it is served with
its own Content-Security-Policy (:func:`sheet_policy`), which allows that style by its
hash and nothing else (no script, no request to any server).
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, cast
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from geo_ip._util.safe_cells import to_csv
from geo_ip.errors import GeoIPError
from geo_ip.outputs.sheets.content import build_sheets
from geo_ip.outputs.sheets.pdf import write_pdf
from geo_ip.outputs.sheets.sheets import render_html
from geo_ip.outputs.views import request_alerts
from geo_ip.outputs.workbook import write_xlsx
from geo_ip.pipeline import Assessment
from geo_ip.registry.db import Registry
from geo_ip.registry.exchange import decisions_frame
from geo_ip.registry.models import Cycle, Snapshot, User
from geo_ip.registry.models import Request as RequestRow
from geo_ip.registry.store import PERSONAL, RegistryError, find_cycle, log_personal_view
from geo_ip.requests.privacy import internal_view, public_view
from geo_ip.rules.config import Rules
from geo_ip.webapp.redact import cycle_names
from geo_ip.webapp.routes.ranking import RankingState, app_key, cached_ranking, cycle_rules
from geo_ip.webapp.security import allowed, registry_of, require

__all__ = ["live_assessment", "router", "sheet_policy"]

router = APIRouter()

_ID = Annotated[int, Path(ge=1, le=2**62)]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120] or "arquivo"
    return {
        "Content-Disposition": f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store",
    }


def live_assessment(
    state: RankingState,
    cycle: Cycle,
    rules: Rules,
    *,
    personal: bool,
    rows: pd.Series | None = None,
    items: list[dict[str, Any]] | None = None,
) -> Assessment:
    """Wrap the live ranking as an :class:`~geo_ip.pipeline.Assessment` for the writers.

    Parameters
    ----------
    state : RankingState
        The live ranking (:func:`geo_ip.webapp.routes.ranking.cached_ranking`).
    cycle : Cycle
        The cycle (its budget).
    rules : Rules
        The cycle's rules.
    personal : bool
        The table of :func:`~geo_ip.requests.privacy.internal_view` (CPF masked,
        CadÚnico, proof of hardship); False: that of
        :func:`~geo_ip.requests.privacy.public_view` (no applicant's column). In both,
        the cycle's applicants' names are redacted from the free text.
    rows : pandas.Series of bool, optional
        The rows to keep (default: every row).
    items : list of dict, optional
        The evidence items of the rows kept (default: none).

    Returns
    -------
    Assessment
        Without territory, extension paths or rejected inputs: only what the workbook
        and the sheets read.
    """
    table = state.table if rows is None else state.table[rows]
    if "alertas" not in table.columns:
        table = table.assign(alertas=request_alerts(table, rules))
    view = internal_view if personal else public_view
    table = view(table, names=state.names)
    if not personal:
        table = table.drop(columns=[c for c in PERSONAL if c in table.columns])
    table = table.reset_index(drop=True)
    n = len(table)
    provenance = dict(state.provenance)
    moment = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    provenance["carimbo"] = (
        f"{provenance.get('carimbo') or 'avaliação'} + registro: avaliação nº {state.run_id} e "
        f"{state.decisions} decisão(ões) vigente(s) em {moment}"
    )
    provenance["orcamento_rs"] = cycle.orcamento_rs
    provenance["orcamento"] = state.summary
    crs = str(provenance.get("crs") or "EPSG:4326")
    return Assessment(
        table=table,
        paths=gpd.GeoSeries([None] * n, crs=crs),
        items=items if items is not None else [{} for _ in range(n)],
        rejected_decisions=pd.DataFrame(),
        rejected_history=pd.DataFrame(),
        occurrences_report=pd.DataFrame(),
        provenance=provenance,
        crs=crs,
        rules=rules,
        territory=cast(Any, None),  # the writers used here never read the territory
    )


def _state(
    request: Request, session: Session, name: str | None
) -> tuple[Cycle, Rules, RankingState]:
    registry: Registry = request.app.state.registry
    cycle, rules = cycle_rules(request, session, name)
    return cycle, rules, cached_ranking(session, registry.url, cycle, rules, app_key(request))


@router.get("/classificacao.xlsx")
def ranking_workbook(
    request: Request,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: str = "",
) -> Response:
    """Download the Commission's workbook of the live ranking (XLSX)."""
    with registry.session() as session:
        try:
            cycle, rules, state = _state(request, session, ciclo[:200] or None)
        except GeoIPError as exc:
            raise HTTPException(
                status_code=404, detail=f"Classificação indisponível: {exc}"
            ) from exc
        personal = allowed(user, "dados_pessoais")
        assessment = live_assessment(state, cycle, rules, personal=personal)
        if personal:
            _log_view(session, user, "planilha da classificação (XLSX)", "ciclo", cycle.nome,
                      assessment.table)  # fmt: skip
        name = f"classificacao-{cycle.nome}.xlsx"
    with tempfile.TemporaryDirectory(prefix="geoip-xlsx-") as folder:
        path = FilePath(folder) / "classificacao.xlsx"
        write_xlsx(assessment, path)
        content = path.read_bytes()
    return Response(content, media_type=_XLSX, headers=_attachment(name))


def _log_view(
    session: Session, user: User, what: str, entity: str, entity_id: str, table: pd.DataFrame
) -> None:
    """Record a download with personal data in the audit trail (fields, never values)."""
    fields = [c for c in PERSONAL if c in table.columns]
    if fields:
        log_personal_view(session, user.login, what, entity_id, entity=entity, fields=fields)


def _sheet(
    request: Request, session: Session, user: User, request_id: int, what: str
) -> tuple[Any, str]:
    row = session.get(RequestRow, request_id)
    if row is None:
        raise HTTPException(status_code=404, detail="Pedido não encontrado.")
    cycle = session.get(Cycle, row.ciclo_id)
    assert cycle is not None
    try:
        cycle, rules, state = _state(request, session, cycle.nome)
    except GeoIPError as exc:
        raise HTTPException(status_code=404, detail=f"Ficha indisponível: {exc}") from exc
    chosen = state.table["protocolo"].astype(str) == row.protocolo
    if not chosen.any():
        raise HTTPException(
            status_code=404, detail="Este pedido não está na última avaliação registrada."
        )
    snapshot = session.get(Snapshot, row.instantaneo_id) if row.instantaneo_id else None
    evidence = dict(snapshot.evidencias) if snapshot is not None else {}
    personal = allowed(user, "dados_pessoais")
    assessment = live_assessment(state, cycle, rules, personal=personal, rows=chosen,
                                 items=[evidence])  # fmt: skip
    if personal:
        _log_view(session, user, what, "pedido", row.protocolo, assessment.table)
    sheets = build_sheets(assessment)
    return sheets[0], row.protocolo


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def sheet_policy(html: str) -> str:
    """Return the Content-Security-Policy of a standalone sheet page.

    The sheet is the page ``geo-ip avaliar`` writes, with its style inline: the app's
    policy (``style-src 'self'``) would block it. This one allows exactly the page's
    ``<style>`` blocks, by their SHA-256, and images inline (``data:``, the map);
    nothing else: no script, no connection, no form, no frame.

    Parameters
    ----------
    html : str
        The page.

    Returns
    -------
    str
        The policy.
    """
    hashes = sorted(
        {
            "'sha256-"
            + base64.b64encode(hashlib.sha256(m.group(1).encode("utf-8")).digest()).decode()
            + "'"
            for m in _STYLE.finditer(html)
        }
    )
    style = " ".join(hashes) or "'none'"
    return (
        f"default-src 'none'; style-src {style}; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


@router.get("/pedidos/{pedido_id}/ficha.html")
def sheet_html(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Show the technical sheet of a request (Art. 10) with the current decisions."""
    with registry.session() as session:
        sheet, protocol = _sheet(request, session, user, pedido_id, "ficha técnica (HTML)")
    html = render_html(sheet)
    headers = _attachment(f"ficha-{protocol}.html")
    headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment", "inline")
    headers["Content-Security-Policy"] = sheet_policy(html)
    return HTMLResponse(html, headers=headers)


@router.get("/pedidos/{pedido_id}/ficha.pdf")
def sheet_pdf(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Download the technical sheet of a request as a one-page PDF."""
    with registry.session() as session:
        sheet, protocol = _sheet(request, session, user, pedido_id, "ficha técnica (PDF)")
    with tempfile.TemporaryDirectory(prefix="geoip-ficha-") as folder:
        path = FilePath(folder) / "ficha.pdf"
        write_pdf([sheet], path, title=f"Ficha técnica {protocol} (Art. 10)")
        content = path.read_bytes()
    return Response(content, media_type="application/pdf",
                    headers=_attachment(f"ficha-{protocol}.pdf"))  # fmt: skip


@router.get("/decisoes.csv")
def decisions_csv(
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: str = "",
) -> Response:
    """Download the cycle's current decisions in the ``--decisoes`` CSV format.

    Users who may not see personal data get the motivations and procedures with the
    applicants' names and CPF-shaped numbers redacted.
    """
    with registry.session() as session:
        try:
            cycle = find_cycle(session, ciclo[:200] or None)
        except RegistryError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        frame = decisions_frame(session, cycle)
        if not allowed(user, "dados_pessoais"):
            names = cycle_names(session, cycle)
            for column in ("motivacao", "procedimento"):
                frame[column] = [
                    names.redact(text, protocol)
                    for text, protocol in zip(frame[column], frame["protocolo"], strict=True)
                ]
        text = to_csv(frame) or ""
        name = f"decisoes-{cycle.nome}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=_attachment(name))  # fmt: skip
