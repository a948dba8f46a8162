"""Download of the QGIS package of the cycle's current state (``/pacote_qgis.zip``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from geo_ip.errors import GeoIPError
from geo_ip.registry.db import Registry
from geo_ip.registry.models import Run, User
from geo_ip.registry.qgis_package import write_qgis_package
from geo_ip.webapp.routes.ranking import app_key, cached_ranking, cycle_rules
from geo_ip.webapp.security import registry_of, require

__all__ = ["router"]

router = APIRouter()


@router.get("/pacote_qgis.zip")
def qgis_package(
    request: Request,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: str = "",
) -> Response:
    """Download the GeoPackage and QGIS project of the cycle as it stands now."""
    with registry.session() as session:
        try:
            cycle, rules = cycle_rules(request, session, ciclo[:200] or None)
            state = cached_ranking(session, registry.url, cycle, rules, app_key(request))
        except GeoIPError as exc:
            raise HTTPException(status_code=404, detail=f"Pacote indisponível: {exc}") from exc
        run = session.get(Run, state.run_id)
        if run is None:
            raise HTTPException(status_code=404, detail="Avaliação não encontrada.")
        with tempfile.TemporaryDirectory(prefix="geoip-qgis-") as folder:
            path = write_qgis_package(session, cycle, state.table, run, Path(folder) / "p.zip")
            content = path.read_bytes()
        name = f"registro-{cycle.nome}.zip"
    disposition = f"attachment; filename=\"registro.zip\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content, media_type="application/zip", headers={"Content-Disposition": disposition}
    )
