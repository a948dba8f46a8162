"""Site inspections (vistorias): date, team, houses counted, findings, position and photos.

An inspection is recorded from the phone on site (:func:`record_inspection`). Each photo
is checked (:func:`read_photo`): at most :data:`MAX_PHOTO_BYTES`, a real JPEG, PNG or
WebP image that Pillow can decode; its EXIF position (GPS IFD) and time
(``DateTimeOriginal``) are read, and a thumbnail of at most :data:`THUMBNAIL_PX` pixels
is made, re-encoded as JPEG without any metadata. Decompression bombs are refused from
the image's header, before anything is decoded: more than :data:`MAX_PIXELS` pixels, or
a PNG or WebP of more than :data:`MAX_PIXELS_PER_BYTE` pixels per byte of file (a
photo never compresses that much). Photos are decoded one at a time in the process
(a JPEG only at the scale its thumbnail needs), so memory stays bounded even when
several inspections arrive together. The original is stored unchanged,
EXIF included: it is the evidence of the visit, shown only to users who inspect; the
thumbnail, without metadata, is what every other user sees.

When the team confirms the request's position, the inspection records a ``localizacao``
decision (:func:`geo_ip.registry.store.add_decision`) at the inspection's position, which
resolves a request pending location. The inspection's own position is kept in
``vistorias.geom`` (a POINT in EPSG:4326).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from geo_ip.registry import audit
from geo_ip.registry.models import Inspection, Photo, Request, StatusChange
from geo_ip.registry.store import (
    ConflictError,
    DecisionInput,
    RegistryError,
    add_decision,
    refuse_cpf,
    set_status,
    visible,
)
from geo_ip.rules.config import Rules

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_PHOTOS",
    "MAX_PHOTO_BYTES",
    "MAX_PIXELS",
    "MAX_PIXELS_PER_BYTE",
    "THUMBNAIL_PX",
    "InspectionInput",
    "PhotoInput",
    "PreparedPhoto",
    "exif_position",
    "exif_time",
    "inspections_of",
    "photo",
    "photos_of",
    "read_photo",
    "record_inspection",
]

MAX_PHOTO_BYTES = 15 * 1024 * 1024
"""Largest photo accepted (bytes)."""
MAX_PHOTOS = 12
"""Most photos in one inspection."""
MAX_PIXELS = 50_000_000
"""Largest photo accepted (pixels; a 50 MP camera): guards against decompression bombs."""
MAX_PIXELS_PER_BYTE = 400
"""Most pixels per byte of file of a PNG or WebP photo (a bomb compresses far more)."""
THUMBNAIL_PX = 320
"""Longest side of a thumbnail (pixels)."""
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""Image formats accepted (Pillow's name) and their content type."""
_MAX_TEXT = 5000
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_DATETIME_ORIGINAL, _DATETIME = 36867, 306
_RATIO_CHECKED = frozenset({"PNG", "WEBP"})
_DECODING = threading.Lock()
"""Held while a photo is decoded: one at a time in the process (bounded memory)."""


@dataclass
class PhotoInput:
    """A photo as uploaded.

    Attributes
    ----------
    name : str
        The file's name on the device (kept only as a label).
    content : bytes
        The file's bytes.
    """

    name: str
    content: bytes


@dataclass
class InspectionInput:
    """What the team records on site.

    Attributes
    ----------
    day : datetime.date
        Date of the visit.
    team : str
        Who went (names of the staff).
    houses : int or None
        Houses counted along the extension.
    findings : str
        What the team found.
    latitude, longitude : float or None
        Position of the device (EPSG:4326 degrees), or typed by hand.
    accuracy_m : float or None
        Accuracy of the device's position (metres).
    confirm_position : bool
        Whether the team confirms this position as the request's place.
    photos : sequence of PhotoInput
        Photos taken.
    """

    day: date
    team: str
    houses: int | None = None
    findings: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    confirm_position: bool = False
    photos: Sequence[PhotoInput] = field(default_factory=tuple)


@dataclass
class PreparedPhoto:
    """A photo checked by :func:`read_photo`, ready to be stored.

    Attributes
    ----------
    name : str
        A safe label of the file's name.
    mime : str
        Content type of the original (from its decoded format, not from the upload).
    content : bytes
        The original, unchanged.
    thumbnail : bytes
        JPEG of at most :data:`THUMBNAIL_PX` pixels, without metadata.
    sha256 : str
        SHA-256 of the original.
    width, height : int
        Size of the original (pixels).
    latitude, longitude : float or None
        EXIF position.
    taken : str
        EXIF ``DateTimeOriginal`` as ISO text (``2026-11-20T14:03:05``), or ``""``.
    """

    name: str
    mime: str
    content: bytes
    thumbnail: bytes
    sha256: str
    width: int
    height: int
    latitude: float | None
    longitude: float | None
    taken: str


def _now() -> datetime:
    return datetime.now(UTC)


# --- photos ----------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|*?:')
    return base.strip()[:200] or "foto"


def _degrees(value: Any) -> float | None:
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if len(parts) != 3 or not all(math.isfinite(p) for p in parts):
        return None
    return parts[0] + parts[1] / 60.0 + parts[2] / 3600.0


def exif_position(image: Image.Image) -> tuple[float, float] | None:
    """Return the EXIF GPS position of an image (latitude, longitude), or None.

    Parameters
    ----------
    image : PIL.Image.Image
        An opened image.

    Returns
    -------
    tuple of float or None
        Degrees (EPSG:4326), south and west negative; None when the image has no
        complete, valid GPS position.
    """
    gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return None
    lat, lon = _degrees(gps.get(_GPS_LATITUDE)), _degrees(gps.get(_GPS_LONGITUDE))
    if lat is None or lon is None:
        return None
    if str(gps.get(_GPS_LATITUDE_REF, "N")).strip().upper().startswith("S"):
        lat = -lat
    if str(gps.get(_GPS_LONGITUDE_REF, "E")).strip().upper().startswith("W"):
        lon = -lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


def exif_time(image: Image.Image) -> str:
    """Return the EXIF time the photo was taken as ISO text, or ``""``.

    Parameters
    ----------
    image : PIL.Image.Image
        An opened image.

    Returns
    -------
    str
        ``DateTimeOriginal`` (else ``DateTime``) as ``YYYY-MM-DDTHH:MM:SS``; ``""``
        when absent or malformed.
    """
    exif = image.getexif()
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw or "")
    match = re.fullmatch(r"\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*\x00?", text)
    if not match:
        return ""
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}"


@contextmanager
def _decoding() -> Iterator[None]:
    """Decode one photo at a time, with Pillow's own bomb guard set to :data:`MAX_PIXELS`.

    Pillow warns above ``Image.MAX_IMAGE_PIXELS`` and fails above twice as many; here
    both refuse (the warning is an error), and the previous limit is restored after.
    """
    with _DECODING, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _check_size(label: str, kind: str, size: tuple[int, int], length: int) -> None:
    """Refuse a decompression bomb from its header (nothing decoded yet)."""
    width, height = size
    pixels = width * height
    if width <= 0 or height <= 0 or pixels > MAX_PIXELS:
        raise RegistryError(
            f"a foto {label!r} tem pixels demais ({width} × {height}); o máximo é "
            f"{MAX_PIXELS // 1_000_000} megapixels: reduza a resolução da câmera"
        )
    if kind in _RATIO_CHECKED and pixels > MAX_PIXELS_PER_BYTE * length:
        raise RegistryError(
            f"a imagem {label!r} tem {width} × {height} pixels num arquivo de só "
            f"{length} bytes: não parece uma foto e foi recusada"
        )


def _thumbnail(image: Image.Image) -> bytes:
    # reduce first (a JPEG decoded at 1/2 to 1/8 of its size), then turn and convert
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    small = ImageOps.exif_transpose(image)
    if small.mode not in ("RGB", "L"):
        background = Image.new("RGB", small.size, (255, 255, 255))
        rgba = small.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        small = background
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=82, optimize=True)  # no exif= : no metadata
    return out.getvalue()


def read_photo(name: str, content: bytes) -> PreparedPhoto:
    """Check an uploaded photo, read its EXIF position and time, make its thumbnail.

    Parameters
    ----------
    name : str
        The file's name on the device.
    content : bytes
        The file's bytes.

    Returns
    -------
    PreparedPhoto
        The photo ready to be stored.

    Raises
    ------
    RegistryError
        Empty, larger than :data:`MAX_PHOTO_BYTES` or :data:`MAX_PIXELS`, not an image,
        a damaged one, or not JPEG, PNG or WebP (message in Portuguese).
    """
    label = _safe_name(name)
    if not content:
        raise RegistryError(f"a foto {label!r} está vazia")
    if len(content) > MAX_PHOTO_BYTES:
        raise RegistryError(
            f"a foto {label!r} passa de {MAX_PHOTO_BYTES // (1024 * 1024)} MB; "
            "reduza a resolução da câmera"
        )
    try:
        with _decoding():
            with Image.open(io.BytesIO(content)) as probe:  # the header only
                kind = probe.format or ""
                if kind not in ACCEPTED_FORMATS:
                    raise RegistryError(f"a foto {label!r} não é JPEG, PNG nem WebP")
                _check_size(label, kind, probe.size, len(content))
                probe.verify()
            with Image.open(io.BytesIO(content), formats=[kind]) as image:
                width, height = image.size
                position = exif_position(image)
                taken = exif_time(image)
                thumbnail = _thumbnail(image)
    except RegistryError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RegistryError(
            f"a foto {label!r} tem pixels demais; o máximo é {MAX_PIXELS // 1_000_000} "
            "megapixels: reduza a resolução da câmera"
        ) from None
    except UnidentifiedImageError:
        raise RegistryError(f"o arquivo {label!r} não é uma imagem válida") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise RegistryError(f"a imagem {label!r} está danificada") from None
    return PreparedPhoto(
        name=label,
        mime=ACCEPTED_FORMATS[kind],
        content=content,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(content).hexdigest(),
        width=width,
        height=height,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        taken=taken,
    )


# --- inspections -----------------------------------------------------------------------------


def _check(given: InspectionInput) -> None:
    if not visible(given.team):
        raise RegistryError("informe a equipe da vistoria")
    refuse_cpf(given.team, "a equipe da vistoria")
    refuse_cpf(given.findings, "as constatações da vistoria")
    if len(given.team) > 1000 or len(given.findings) > _MAX_TEXT:
        raise RegistryError(f"o texto da vistoria passa de {_MAX_TEXT} caracteres")
    if given.day > date.today():
        raise RegistryError("a data da vistoria não pode ser futura")
    if given.houses is not None and not 0 <= given.houses <= 100_000:
        raise RegistryError("o número de residências contadas deve ficar entre 0 e 100.000")
    lat, lon = given.latitude, given.longitude
    if (lat is None) != (lon is None):
        raise RegistryError("informe a latitude e a longitude, ou nenhuma das duas")
    if (
        lat is not None
        and lon is not None
        and not (
            math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
        )
    ):
        raise RegistryError("latitude ou longitude fora do intervalo válido")
    accuracy = given.accuracy_m
    if accuracy is not None and not (math.isfinite(accuracy) and accuracy >= 0):
        raise RegistryError("a precisão da posição deve ser um número de metros ≥ 0")
    if len(given.photos) > MAX_PHOTOS:
        raise RegistryError(f"no máximo {MAX_PHOTOS} fotos por vistoria")


def _previous_status(session: Session, request: Request, leaving: str) -> str:
    """Return the status a request had before it entered ``leaving`` (``avaliado`` if unknown)."""
    history = session.scalars(
        select(StatusChange.situacao)
        .where(StatusChange.pedido_id == request.id)
        .order_by(StatusChange.id.desc())
    ).all()
    return next((s for s in history if s != leaving), "avaliado")


def _photo_state(row: Photo) -> dict[str, Any]:
    return {
        "nome": row.nome, "tipo": row.tipo, "sha256": row.sha256,
        "exif_latitude": row.exif_latitude, "exif_longitude": row.exif_longitude,
        "exif_data_hora": row.exif_data_hora,
    }  # fmt: skip


def record_inspection(
    session: Session,
    request: Request,
    given: InspectionInput,
    rules: Rules,
    *,
    actor: str,
    member: str = "",
    expected_version: int | None,
) -> Inspection:
    """Record a site inspection with its photos; confirm the request's place if asked.

    The position recorded is the device's (or typed) position; when none was given, the
    EXIF position of the first photo that has one. Confirming the position records a
    ``localizacao`` decision (motivation ``Posição confirmada em vistoria de dd/mm/aaaa
    por <equipe>``), which resolves a request pending location. A pending inspection
    (``vistoria`` among the request's pending items, status ``pendente_vistoria``) is
    resolved too.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    request : Request
        The request inspected.
    given : InspectionInput
        What the team recorded.
    rules : Rules
        The cycle's rules (for the ``localizacao`` decision).
    actor : str
        The user's login.
    member : str, optional
        The user's name, as the decision goes to the documents (default: ``actor``).
    expected_version : int or None
        The request's version the user saw (None: no check).

    Returns
    -------
    Inspection
        The inspection recorded.

    Raises
    ------
    ConflictError
        The request changed after the user opened the page.
    RegistryError
        Invalid input, an invalid photo, or a confirmation without a position.
    """
    if expected_version is not None and request.versao != expected_version:
        raise ConflictError(request.atualizado_por, request.atualizado_em)
    _check(given)
    photos = [read_photo(p.name, p.content) for p in given.photos]
    lat, lon, accuracy = given.latitude, given.longitude, given.accuracy_m
    source = "dispositivo" if lat is not None else ""
    if lat is None:
        located = next((p for p in photos if p.latitude is not None), None)
        if located is not None:
            lat, lon, accuracy, source = located.latitude, located.longitude, None, "exif"
    if given.confirm_position and (lat is None or lon is None):
        raise RegistryError(
            "para confirmar a posição do pedido, obtenha a posição do aparelho, digite a "
            "latitude e a longitude ou envie uma foto com posição"
        )
    team = " ".join(given.team.split())
    inspection = Inspection(
        pedido_id=request.id,
        data=given.day,
        equipe=team,
        residencias_contadas=given.houses,
        constatacoes=given.findings.strip(),
        precisao_m=accuracy,
        posicao_confirmada=given.confirm_position,
        geom=f"POINT ({lon:.7f} {lat:.7f})" if lat is not None and lon is not None else None,
        registrado_por=actor,
        registrado_em=_now(),
    )
    session.add(inspection)
    session.flush()
    rows = [
        Photo(
            vistoria_id=inspection.id, nome=p.name, tipo=p.mime, conteudo=p.content,
            miniatura=p.thumbnail, sha256=p.sha256, exif_latitude=p.latitude,
            exif_longitude=p.longitude, exif_data_hora=p.taken,
        )
        for p in photos
    ]  # fmt: skip
    session.add_all(rows)
    if given.confirm_position and lat is not None and lon is not None:
        motivation = (
            f"Posição confirmada em vistoria de {given.day.strftime('%d/%m/%Y')} por {team}"
        )
        add_decision(
            session,
            request,
            DecisionInput(
                criterion="localizacao", points=None, motivation=motivation,
                member=member or actor, day=given.day, latitude=lat, longitude=lon,
            ),
            rules,
            actor=actor,
            expected_version=None,
        )  # fmt: skip
    if "vistoria" in request.pendencias:
        request.pendencias = [p for p in request.pendencias if p != "vistoria"]
    if request.situacao == "pendente_vistoria":
        set_status(
            session, request, _previous_status(session, request, "pendente_vistoria"),
            actor=actor, reason=f"vistoria de {given.day.strftime('%d/%m/%Y')}",
            expected_version=None,
        )  # fmt: skip
    request.atualizado_em, request.atualizado_por = _now(), actor
    session.flush()
    audit.append(
        session, actor, "vistoria", "pedido", request.protocolo,
        after={
            "vistoria": inspection.id, "data": given.day, "equipe": team,
            "residencias_contadas": given.houses, "constatacoes": inspection.constatacoes,
            "latitude": lat, "longitude": lon, "precisao_m": accuracy, "fonte_posicao": source,
            "posicao_confirmada": given.confirm_position,
            "fotos": [_photo_state(r) for r in rows],
        },
    )  # fmt: skip
    return inspection


def inspections_of(session: Session, request: Request) -> list[Inspection]:
    """Return the inspections of a request, latest first.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    request : Request
        The request.

    Returns
    -------
    list of Inspection
        Its inspections.
    """
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.pedido_id == request.id)
            .order_by(Inspection.data.desc(), Inspection.id.desc())
        )
    )


def photos_of(session: Session, inspection_ids: Sequence[int]) -> dict[int, list[Photo]]:
    """Return the photos of some inspections, without loading the originals' bytes.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    inspection_ids : sequence of int
        The inspections.

    Returns
    -------
    dict
        Inspection id to its photos (in the order taken). ``conteudo`` and
        ``miniatura`` are deferred: read them with :func:`photo`.
    """
    out: dict[int, list[Photo]] = {i: [] for i in inspection_ids}
    if not inspection_ids:
        return out
    rows = session.scalars(
        select(Photo)
        .options(defer(Photo.conteudo), defer(Photo.miniatura))
        .where(Photo.vistoria_id.in_(list(inspection_ids)))
        .order_by(Photo.id)
    )
    for row in rows:
        out.setdefault(row.vistoria_id, []).append(row)
    return out


def photo(session: Session, photo_id: int) -> tuple[Photo, Request] | None:
    """Return a photo and the request it belongs to (None when there is no such photo).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    photo_id : int
        The photo's id.

    Returns
    -------
    tuple of (Photo, Request) or None
        The photo (bytes included) and its request.
    """
    found = session.execute(
        select(Photo, Request)
        .join(Inspection, Inspection.id == Photo.vistoria_id)
        .join(Request, Request.id == Inspection.pedido_id)
        .where(Photo.id == photo_id)
    ).first()
    return None if found is None else (found[0], found[1])
