"""Downloads of the current state: ranking workbook, technical sheets, decisions CSV.

- ``/classificacao.xlsx``: the Commission's workbook of the live ranking, written by
  :func:`geo_ip.outputs.tables.write_xlsx` (the ``ranking.xlsx`` of ``geo-ip assess``:
  strings are never formulas);
- ``/pedidos/{id}/ficha.html`` and ``/pedidos/{id}/ficha.pdf``: the technical sheet of
  one request (Art. 10) with the Commission's current decisions, by the renderer of
  ``geo-ip assess`` (:mod:`geo_ip.outputs.sheets`); the registry has no territory, so
  the sheet has no static map;
- ``/decisoes.csv``: the current decisions in the exact ``--decisions`` format
  (:func:`geo_ip.registry.exchange.decisions_frame`, the cells of ``geo-ip registry
  export``).

The ranking comes from the cache of the ranking page (:func:`cached_ranking`). Users
whose role may not see personal data get the tables without the applicant's columns
(the workbook and the sheet otherwise show the CPF masked, as ``geo-ip assess`` does).
"""

from __future__ import annotations

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
from geo_ip.outputs.tables import write_xlsx
from geo_ip.pipeline import Assessment
from geo_ip.registry.db import Registry
from geo_ip.registry.exchange import decisions_frame
from geo_ip.registry.models import Cycle, Snapshot, User
from geo_ip.registry.models import Request as RequestRow
from geo_ip.registry.store import PERSONAL, RegistryError, find_cycle
from geo_ip.rules.config import Rules
from geo_ip.webapp.routes.ranking import RankingState, app_key, cached_ranking, cycle_rules
from geo_ip.webapp.security import allowed, registry_of, require

__all__ = ["live_assessment", "router"]

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
        Keep the applicant's columns (the writers mask the CPF); False drops them.
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
        assessment = live_assessment(state, cycle, rules, personal=allowed(user, "dados_pessoais"))
        name = f"classificacao-{cycle.nome}.xlsx"
    with tempfile.TemporaryDirectory(prefix="geoip-xlsx-") as folder:
        path = FilePath(folder) / "classificacao.xlsx"
        write_xlsx(assessment, path)
        content = path.read_bytes()
    return Response(content, media_type=_XLSX, headers=_attachment(name))


def _sheet(request: Request, session: Session, user: User, request_id: int) -> tuple[Any, str]:
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
    assessment = live_assessment(state, cycle, rules, personal=allowed(user, "dados_pessoais"),
                                 rows=chosen, items=[evidence])  # fmt: skip
    sheets = build_sheets(assessment)
    return sheets[0], row.protocolo


@router.get("/pedidos/{pedido_id}/ficha.html")
def sheet_html(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Show the technical sheet of a request (Art. 10) with the current decisions."""
    with registry.session() as session:
        sheet, protocol = _sheet(request, session, user, pedido_id)
    headers = _attachment(f"ficha-{protocol}.html")
    headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment", "inline")
    return HTMLResponse(render_html(sheet), headers=headers)


@router.get("/pedidos/{pedido_id}/ficha.pdf")
def sheet_pdf(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Download the technical sheet of a request as a one-page PDF."""
    with registry.session() as session:
        sheet, protocol = _sheet(request, session, user, pedido_id)
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
    """Download the cycle's current decisions in the ``--decisions`` CSV format."""
    with registry.session() as session:
        try:
            cycle = find_cycle(session, ciclo[:200] or None)
        except RegistryError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        text = to_csv(decisions_frame(session, cycle)) or ""
        name = f"decisoes-{cycle.nome}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=_attachment(name))  # fmt: skip
