"""Optional online geocoding backend: OpenStreetMap Nominatim through geopy.

Used only with ``geo-ip geocodificar --online``, after the offline geocoder, for the
requests it could not place on a street (``falhou``, except ambiguous streets,
which are never resolved silently) or placed only at a bairro. Nominatim's usage
policy is respected: one request per second (geopy's ``RateLimiter``), an
identifying user agent, results restricted to Brazil.

Every answer is checked before it is used: it must lie inside the municipality
and be at least street-precise, and the street it names must resemble the street
asked for (:data:`MIN_STREET_SIMILARITY`). The kind of location follows
Nominatim's own classification: a house number → ``numero_exato``, a road →
``logradouro``, a suburb or neighbourhood → ``bairro``; coarser answers (the
city itself) are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from rapidfuzz.distance import OSA

from geo_ip._util.version import __version__
from geo_ip.requests.address import (
    ParsedAddress,
    normalize_street,
    parse_address,
    street_core,
)
from geo_ip.requests.gazetteer_build import transformer
from geo_ip.requests.gazetteer_locate import EXACT_UNCERTAINTY_M, confidence

log = logging.getLogger(__name__)

MIN_STREET_SIMILARITY = 0.6
"""A Nominatim answer whose road name is less similar than this (normalised OSA,
0–1, on the street cores) to the street asked for is refused."""
ONLINE_FACTOR = 0.9
"""Confidence of an online answer: the confidence of its uncertainty (the farthest
corner of Nominatim's bounding box, at least 10 m for a house number) × this (the
answer's street match was checked only on its name)."""
MIN_DELAY_S = 1.0
"""Seconds between two Nominatim requests (its usage policy: at most 1 per second)."""

_BAIRRO_TYPES = frozenset({"suburb", "neighbourhood", "quarter", "city_district", "hamlet"})
_ROAD_TYPES = frozenset({"road"})

Geocoder = Callable[..., Any]
"""A callable like geopy's ``Nominatim.geocode`` (query, **options) → Location or None."""


def nominatim_geocoder(timeout_s: float = 10.0) -> Geocoder:
    """Return geopy's Nominatim geocoder, rate limited to one request per second.

    Parameters
    ----------
    timeout_s : float, default 10
        Timeout of each HTTP request, in seconds.

    Returns
    -------
    callable
        ``geocode(query, **options)`` as in geopy.
    """
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    client = Nominatim(user_agent=f"geo_ip/{__version__}", timeout=timeout_s)
    limited: Geocoder = RateLimiter(client.geocode, min_delay_seconds=MIN_DELAY_S, max_retries=1)
    return limited


def _kind(raw: dict[str, Any], has_number: bool) -> str | None:
    address = raw.get("address") or {}
    addresstype = str(raw.get("addresstype") or raw.get("type") or "")
    if has_number and address.get("house_number"):
        return "numero_exato"
    if raw.get("class") == "highway" or addresstype in _ROAD_TYPES:
        return "logradouro"
    if addresstype in _BAIRRO_TYPES or (
        raw.get("class") == "place" and raw.get("type") in (_BAIRRO_TYPES)
    ):
        return "bairro"
    return None


def _box_radius(raw: dict[str, Any], to_crs: Any, x: float, y: float) -> float:
    """Farthest corner (m) of Nominatim's bounding box from the answer (NaN without one)."""
    box = raw.get("boundingbox")
    try:
        south, north, west, east = (float(v) for v in box)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return float("nan")
    xs, ys = to_crs.transform([west, east, west, east], [south, south, north, north])
    return float(np.max(np.hypot(np.asarray(xs) - x, np.asarray(ys) - y)))


def _similarity(asked: str, road: str) -> float:
    a = street_core(normalize_street(asked)[1])
    b = street_core(normalize_street(road)[1])
    if not a or not b:
        return 0.0
    return float(OSA.normalized_similarity(a, b))


def _query(row: pd.Series, municipio: str, uf: str) -> tuple[ParsedAddress, str, dict[str, str]]:
    """Parse a request's address and write its Nominatim query: (parsed, street, query)."""
    parsed = parse_address(
        str(row.get("endereco") or ""), str(row.get("numero") or "") or None, None, None
    )
    street = str(row.get("endereco") or "").split(",")[0].strip()
    number = f"{parsed.numero} " if parsed.numero is not None else ""
    query = {"street": f"{number}{street}", "city": municipio, "state": uf, "country": "Brasil"}
    if str(row.get("cep") or "").strip():
        query["postalcode"] = str(row["cep"]).strip()
    return parsed, street, query


def _refusal(
    kind: str | None,
    lonlat: tuple[float, float],
    boundary: shapely.Geometry | None,
    streets: tuple[str, str],
    offline: str,
) -> str | None:
    """Why a Nominatim answer is refused (the street asked, the road found); None: accepted."""
    street, road = streets
    if kind is None:
        return "resposta imprecisa (só o município)"
    if boundary is not None and not shapely.contains_xy(boundary, *lonlat):
        return "resposta fora do limite municipal"
    if kind != "bairro" and _similarity(street, road) < MIN_STREET_SIMILARITY:
        return f"a via encontrada ('{road}') não corresponde a '{street}'"
    if kind == "bairro" and offline == "bairro":
        return "resposta no nível de bairro, como a offline"
    return None


def _accept(
    out: pd.DataFrame,
    i: Any,
    found: tuple[str, str],
    raw: dict[str, Any],
    lonlat: tuple[float, float],
    to_crs: Any,
    offline: str,
) -> None:
    """Write an accepted answer (its kind and road, ``found``) over row ``i`` of ``out``."""
    kind, road = found
    lon, lat = lonlat
    x, y = to_crs.transform(lon, lat)
    out.loc[i, ["x", "y", "latitude", "longitude"]] = [x, y, lat, lon]
    out.loc[i, "geocodificacao"] = kind
    out.loc[i, "logradouro_encontrado"] = road or None
    radius = _box_radius(raw, to_crs, x, y)
    if kind == "numero_exato":
        radius = max(radius if np.isfinite(radius) else 0.0, EXACT_UNCERTAINTY_M)
    out.loc[i, "incerteza_m"] = round(radius, 1)  # NaN: unknown, never "precise"
    out.loc[i, "trecho_candidato"] = None
    out.loc[i, "confianca"] = round(confidence(radius) * ONLINE_FACTOR, 3)
    place = raw.get("display_name", "")
    out.loc[i, "geocodificacao_detalhe"] = (
        f"localizado online pelo Nominatim (OpenStreetMap): {place} [offline: {offline}]"
    )


def geocode_online(
    located: pd.DataFrame,
    *,
    municipio: str,
    uf: str,
    crs: str,
    boundary: shapely.Geometry | None,
    geocoder: Geocoder | None = None,
) -> pd.DataFrame:
    """Try Nominatim for the requests the offline geocoder could not place on a street.

    Parameters
    ----------
    located : pandas.DataFrame
        Output of :func:`geo_ip.requests.geocode.geocode`.
    municipio, uf : str
        Municipality name and state, added to every query.
    crs : str
        Territory CRS, for the ``x``/``y`` columns.
    boundary : shapely.Geometry or None
        Municipality polygon in EPSG:4326; answers outside are refused.
    geocoder : callable, optional
        ``geocode(query, **options)``; default :func:`nominatim_geocoder` (online).

    Returns
    -------
    pandas.DataFrame
        A copy of ``located`` where accepted answers replace ``x``, ``y``,
        ``latitude``, ``longitude``, ``geocodificacao``, ``logradouro_encontrado``,
        ``confianca`` and ``geocodificacao_detalhe`` (which says "Nominatim").
        Refused answers leave the row as it was, with the reason appended to
        ``geocodificacao_detalhe``.
    """
    out = located.copy()
    detail = out["geocodificacao_detalhe"].astype(str)
    todo = out.index[
        out["geocodificacao"].isin(["falhou", "bairro"])
        & ~detail.str.startswith("logradouro ambíguo")
        & out.get("endereco", pd.Series("", index=out.index)).fillna("").astype(str).ne("")
    ]
    if not len(todo):
        return out
    geocode = geocoder or nominatim_geocoder()
    to_crs = transformer("EPSG:4326", crs)
    accepted = 0
    for i in todo:
        row = out.loc[i]
        parsed, street, query = _query(row, municipio, uf)
        try:
            answer = geocode(query, addressdetails=True, country_codes="br", exactly_one=True)
        except Exception as exc:  # network errors: keep the offline result
            log.warning("Nominatim indisponível (%s); mantido o resultado offline", exc)
            break
        if answer is None:
            out.loc[i, "geocodificacao_detalhe"] = detail[i] + "; Nominatim: não encontrado"
            continue
        raw = dict(getattr(answer, "raw", {}) or {})
        lat, lon = float(answer.latitude), float(answer.longitude)
        kind = _kind(raw, parsed.numero is not None)
        road = str((raw.get("address") or {}).get("road") or "")
        why = _refusal(kind, (lon, lat), boundary, (street, road), row["geocodificacao"])
        if why is not None:
            out.loc[i, "geocodificacao_detalhe"] = detail[i] + f"; Nominatim: {why}"
            continue
        assert kind is not None
        _accept(out, i, (kind, road), raw, (lon, lat), to_crs, detail[i])
        accepted += 1
    log.info("Nominatim: %d de %d pedido(s) localizados online", accepted, len(todo))
    out["confianca"] = out["confianca"].astype(np.float64)
    return out
