"""The queue (``/fila``): a cycle's requests, filtered, ordered and paged in SQL."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from geo_ip.registry.db import Registry
from geo_ip.registry.models import STATUSES, User
from geo_ip.registry.store import RegistryError, find_cycle
from geo_ip.webapp.queries import (
    ACT_LABELS,
    SORT_LABELS,
    QueueFilters,
    criterion_short_labels,
    cycle_districts,
    list_cycles,
    parse_queue_filters,
    queue_page,
)
from geo_ip.webapp.security import registry_of, require
from geo_ip.webapp.templating import render

__all__ = ["router"]

router = APIRouter()


def _link(filters: QueueFilters, **changes: object) -> str:
    query = filters.query(**changes)
    return "/fila" + (f"?{urlencode(query)}" if query else "")


@router.get("/fila")
def queue(
    request: Request,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Show a page of the cycle's requests (``?ciclo=`` or the latest)."""
    filters, messages = parse_queue_filters(dict(request.query_params))
    with registry.session() as session:
        cycles = list_cycles(session)
        if not cycles:
            return render(request, "fila.html", {"ciclo": None, "avisos": messages})
        try:
            cycle = find_cycle(session, filters.ciclo)
        except RegistryError:
            messages.append("Ciclo não encontrado: mostrando o ciclo mais recente.")
            filters = QueueFilters(**{**filters.__dict__, "ciclo": None})
            cycle = cycles[0]
        page = queue_page(session, cycle, filters)
        context = {
            "ciclo": cycle,
            "ciclos": cycles,
            "filtros": filters,
            "pagina": page,
            "avisos": messages,
            "bairros": cycle_districts(session, cycle),
            "situacoes": STATUSES,
            "criterios": criterion_short_labels() | ACT_LABELS,
            "ordens": SORT_LABELS,
            "link": lambda **changes: _link(filters, **changes),
        }
        return render(request, "fila.html", context)
