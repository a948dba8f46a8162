"""The site inspection of a request (``/pedidos/{id}/vistoria``), made for a phone on site.

The form takes the date, the team, the houses counted, the findings, the device's
position (``vistoria.js`` fills it from ``navigator.geolocation``; it may be typed too),
whether the team confirms it as the request's place, and photos taken with the phone's
camera. The inspection is recorded by :func:`geo_ip.registry.inspections.record_inspection`
(photos checked, EXIF position and time read, thumbnails made; a confirmed position
resolves a request pending location).

Photos: ``/fotos/{id}/miniatura`` serves the thumbnail (re-encoded, no metadata) to
every user who may see requests; ``/fotos/{id}/original`` serves the original, EXIF
included, only to users who inspect (``vistoriar``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from geo_ip.errors import GeoIPError
from geo_ip.registry import inspections, live
from geo_ip.registry.db import Registry
from geo_ip.registry.models import STATUSES, Cycle, User
from geo_ip.registry.models import Request as RequestRow
from geo_ip.registry.store import ConflictError, RegistryError
from geo_ip.webapp.security import (
    parse_decimal,
    parse_whole,
    registry_of,
    require,
    visible_text,
)
from geo_ip.webapp.templating import render

__all__ = ["router"]

router = APIRouter()

_ID = Annotated[int, Path(ge=1, le=2**62)]
_POINT = re.compile(r"\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*", re.IGNORECASE)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_PENDING = {
    "documentos": "documentos",
    "vistoria": "vistoria",
    "localizacao": "confirmação do local",
}


class _FormError(RegistryError):
    """An invalid form value."""


def _request_or_404(session: Session, request_id: int) -> RequestRow:
    row = session.get(RequestRow, request_id)
    if row is None:
        raise HTTPException(status_code=404, detail="Pedido não encontrado.")
    return row


def _position(wkt: str | None) -> tuple[float, float] | None:
    match = _POINT.fullmatch(wkt or "")
    if not match:
        return None
    return float(match[2]), float(match[1])


def _float(text: str, what: str) -> float | None:
    try:
        return parse_decimal(text)
    except ValueError:
        raise _FormError(f"{what}: informe um número (ex.: -22,85)") from None


def _int(text: str, what: str) -> int | None:
    try:
        return parse_whole(text, digits=7)
    except ValueError:
        raise _FormError(f"{what}: informe um número inteiro ≥ 0") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise _FormError("informe a data da vistoria (aaaa-mm-dd)") from None


def _version(text: str) -> int:
    try:
        value = parse_whole(text)
    except ValueError:
        value = None
    if value is None:
        raise _FormError("versão do pedido ausente ou inválida: recarregue a página")
    return value


def _photos(files: list[UploadFile] | None) -> list[inspections.PhotoInput]:
    chosen = [f for f in files or [] if f.filename]
    if len(chosen) > inspections.MAX_PHOTOS:
        raise _FormError(f"no máximo {inspections.MAX_PHOTOS} fotos por vistoria")
    out = []
    for upload in chosen:
        content = upload.file.read(inspections.MAX_PHOTO_BYTES + 1)
        if not content:
            continue
        if len(content) > inspections.MAX_PHOTO_BYTES:
            mb = inspections.MAX_PHOTO_BYTES // (1024 * 1024)
            raise _FormError(f"cada foto pode ter no máximo {mb} MB")
        out.append(inspections.PhotoInput(upload.filename or "foto", content))
    return out


def _exif_time(text: str) -> str:
    """Write an EXIF time (the camera's own clock, ISO text) as ``dd/mm/aaaa hh:mm``."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}).*", text or "")
    return f"{match[3]}/{match[2]}/{match[1]} {match[4]}:{match[5]}" if match else ""


def _context(
    session: Session,
    row: RequestRow,
    *,
    error: str = "",
    conflict: str = "",
    values: dict[str, str] | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    cycle = session.get(Cycle, row.ciclo_id)
    found = inspections.inspections_of(session, row)
    photos = inspections.photos_of(session, [i.id for i in found])
    today = date.today().isoformat()
    return {
        "pedido": row,
        "ciclo": cycle,
        "situacao": STATUSES.get(row.situacao, row.situacao),
        "pendencias": [_PENDING.get(str(p), str(p)) for p in row.pendencias],
        "posicao_pedido": _position(row.geom),
        "vistorias": [
            {"v": v, "posicao": _position(v.geom), "fotos": photos.get(v.id, [])} for v in found
        ],
        "erro": error,
        "conflito": conflict,
        "valores": values or {"data": today},
        "hoje": today,
        "max_fotos": inspections.MAX_PHOTOS,
        "max_mb": inspections.MAX_PHOTO_BYTES // (1024 * 1024),
        "mensagem": "Vistoria registrada." if saved else "",
        "hora_exif": _exif_time,
    }


@router.get("/pedidos/{pedido_id}/vistoria")
def inspection_page(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("vistoriar"))],
    registry: Annotated[Registry, Depends(registry_of)],
    gravado: str = "",
) -> Response:
    """Show the inspection form and the request's inspections."""
    with registry.session() as session:
        row = _request_or_404(session, pedido_id)
        return render(request, "vistoria.html", _context(session, row, saved=gravado == "1"))


@router.post("/pedidos/{pedido_id}/vistoria")
def record_inspection(
    request: Request,
    pedido_id: _ID,
    user: Annotated[User, Depends(require("vistoriar"))],
    registry: Annotated[Registry, Depends(registry_of)],
    data: Annotated[str, Form(max_length=20)] = "",
    equipe: Annotated[str, Form(max_length=1000)] = "",
    residencias: Annotated[str, Form(max_length=20)] = "",
    constatacoes: Annotated[str, Form(max_length=5000)] = "",
    latitude: Annotated[str, Form(max_length=40)] = "",
    longitude: Annotated[str, Form(max_length=40)] = "",
    precisao: Annotated[str, Form(max_length=40)] = "",
    confirmar: Annotated[str, Form(max_length=10)] = "",
    versao: Annotated[str, Form(max_length=20)] = "",
    fotos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Record an inspection; 303 back to the page, 409 on a conflict, 422 on invalid input."""
    values = {"data": data, "equipe": equipe, "residencias": residencias,
              "constatacoes": constatacoes, "latitude": latitude, "longitude": longitude,
              "precisao": precisao, "confirmar": confirmar}  # fmt: skip
    conflict = ""
    try:
        with registry.session() as session:
            row = _request_or_404(session, pedido_id)
            cycle = session.get(Cycle, row.ciclo_id)
            assert cycle is not None
            given = inspections.InspectionInput(
                day=_day(data),
                team=visible_text(equipe),
                houses=_int(residencias, "residências contadas"),
                findings=visible_text(constatacoes),
                latitude=_float(latitude, "latitude"),
                longitude=_float(longitude, "longitude"),
                accuracy_m=_float(precisao, "precisão"),
                confirm_position=confirmar in ("1", "on", "sim"),
                photos=_photos(fotos),
            )
            rules = live.rules_of(session, cycle, getattr(request.app.state, "rules", None))
            inspections.record_inspection(
                session, row, given, rules, actor=user.login, member=user.nome,
                expected_version=_version(versao),
            )  # fmt: skip
    except ConflictError as exc:
        status, message, conflict = 409, str(exc), str(exc)
    except GeoIPError as exc:
        status, message = 422, str(exc)
    else:
        return RedirectResponse(f"/pedidos/{pedido_id}/vistoria?gravado=1#vistorias", 303)
    with registry.session() as session:
        row = _request_or_404(session, pedido_id)
        context = _context(session, row, error=message, conflict=conflict, values=values)
        return render(request, "vistoria.html", context, status_code=status)


def _photo_or_404(session: Session, photo_id: int) -> Any:
    found = inspections.photo(session, photo_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Foto não encontrada.")
    return found[0]


@router.get("/fotos/{foto_id}/miniatura")
def thumbnail(
    foto_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Serve a photo's thumbnail (JPEG re-encoded without metadata)."""
    with registry.session() as session:
        content = bytes(_photo_or_404(session, foto_id).miniatura)
    return Response(
        content,
        media_type="image/jpeg",
        headers={
            "Content-Disposition": f'inline; filename="miniatura-{foto_id}.jpg"',
            # not kept by the browser: after logging out, nobody sees it from the cache
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/fotos/{foto_id}/original")
def original(
    foto_id: _ID,
    user: Annotated[User, Depends(require("vistoriar"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Serve a photo as taken (EXIF position and time included), as a download."""
    with registry.session() as session:
        photo = _photo_or_404(session, foto_id)
        content, kind = bytes(photo.conteudo), str(photo.tipo)
    extension = _EXTENSIONS.get(kind, "bin")
    return Response(
        content,
        media_type=kind if kind in _EXTENSIONS else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="foto-{foto_id}.{extension}"',
            "Cache-Control": "private, no-store",
        },
    )
