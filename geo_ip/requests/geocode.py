"""Offline geocoding of requests against a territory (and an optional IBGE CNEFE file).

A :class:`Gazetteer` is built once per territory: street names of the ``vias``
layer are normalised (:mod:`geo_ip.requests.address`), edges sharing a normalised name
are grouped into *clusters* (one physical street each), address points (OSM
``addr:*`` in ``edificacoes`` and, when given, IBGE CNEFE) are attached to the
nearest cluster of their street and indexed by ``(cluster, number)`` and, for
interpolation, by position along the street. Bairros come from the ``bairros``
(points) and ``bairros_area`` (polygons) layers; without polygons each bairro
point gets its Voronoi cell ("nearest bairro point"); without either layer the
``bairro`` field of ``edificacoes`` gives the bairro points.

:func:`geocode` then locates every request, in this order:

1. ``coordenada_informada``: the request has latitude/longitude;
2. ``numero_exato``: an address point with the same street and number (CNEFE
   first, being official, then OSM);
3. ``interpolado``: linear interpolation between the nearest known lower and
   higher numbers of the same street (same parity side when possible), or a
   short extrapolation beyond the known range (:data:`EXTRAPOLATION_MAX_FRACTION`);
4. ``logradouro``: the mid-point (along its length) of the street, restricted to
   the bairro given when the street crosses several;
5. ``bairro``: the bairro's point;
6. ``falhou``: nothing found, or the street is ambiguous (same name in two or
   more places) and neither the bairro nor the CEP tells which — never picked
   silently.

Street names are matched (:meth:`NameIndex.match_streets
<geo_ip.requests.gazetteer_match.NameIndex.match_streets>`) exactly on the normalised
key (type + name: abbreviations, accents, case and numbers are normalised first), then
on the name under another type or none ("Marquês de São Vicente" finds "Avenida Marquês
de São Vicente"; "Vila Canadá" finds "Estrada Vila Canadá") or on its core (without
type, leading titles and prepositions: "Flores" finds "Rua das Flores"), keeping the
candidates that hold every word written ("Azevedo Marques" is "Rua Azevedo Marques",
not "Rua Tenente Azevedo"), then of the type written, then of the same name; then
fuzzily with ``rapidfuzz`` in vectorised ``cdist`` calls over the unique keys, with
typos scaled to the name's length (one edit from :data:`FUZZY_ONE_EDIT_MIN` letters, two
from :data:`FUZZY_TWO_EDITS_MIN`; numbers never: "Rua Dez" is not "Rua Doze"). Candidates
left equally good are all reported: the request fails as ambiguous, naming them and
what would decide (the full name, the bairro, the CEP only where the data has
postcodes, or the coordinates).

Every location has an honest size, ``incerteza_m``: the radius within which the real
place lies, and ``trecho_candidato``, the network lines where it may be:

=======================  =============================================  ==================
kind                     ``incerteza_m``                                ``trecho_candidato``
=======================  =============================================  ==================
coordenada_informada     0                                              —
numero_exato             10 m (a lot's width)                           —
interpolado              distance to the farther of the two numbers     the part between
                         around it (extrapolated: from the nearest      them
                         known number, plus 10 m); at least 10 m
logradouro               half the length of the stretch: the whole      the stretch
                         street, its stretch inside the bairro given,
                         or its stretch nearest to the bairro when it
                         does not reach it
bairro                   the bairro's radius (its farthest part from    its streets
                         its point, within the road network)
falhou                   NaN                                            —
=======================  =============================================  ==================

A street-level point is the mid-point of its stretch, on edges that carry the street's
own name (the road graph keeps a node wherever the name changes, see
:func:`geo_ip.sources.osm.read_road_graph`). When the bairro given cannot narrow the street (not
found, or the territory has no bairro limits), ``geocodificacao_detalhe`` says so.

Confidence (``confianca``, 0–1) follows from the uncertainty
(:func:`geo_ip.requests.gazetteer_locate.confidence`): ``s · 100 / (100 + incerteza_m)``, with
``s`` the street match score / 100 (1.0 for an exact key, 0.95 for a core match, 0.90 for a core
match with another street type, the fuzzy OSA similarity otherwise; the bairro's match
score for a bairro location), times 0.9 when the bairro given does not contain the
street found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_ip.requests.address import ParsedAddress, parse_address
from geo_ip.requests.cnefe import CNEFE_ESPECIES, read_cnefe
from geo_ip.requests.gazetteer import Gazetteer
from geo_ip.requests.gazetteer_addresses import (
    ADDRESS_MAX_DIST_M,
    CNEFE_MAX_NV_GEO,
    EXTRAPOLATION_MAX_FRACTION,
)
from geo_ip.requests.gazetteer_build import CLUSTER_GAP_M, SAME_STREET_GAP_M, transformer
from geo_ip.requests.gazetteer_locate import (
    CONFIDENCE_SCALE_M,
    EXACT_UNCERTAINTY_M,
    Located,
)
from geo_ip.requests.gazetteer_match import (
    FUZZY_CORE_MIN,
    FUZZY_CUTOFF,
    FUZZY_ONE_EDIT_MIN,
    FUZZY_TWO_EDITS_MIN,
    StreetMatch,
)

__all__ = [
    "ADDRESS_MAX_DIST_M",
    "CLUSTER_GAP_M",
    "CNEFE_ESPECIES",
    "CNEFE_MAX_NV_GEO",
    "CONFIDENCE_SCALE_M",
    "EXACT_UNCERTAINTY_M",
    "EXTRAPOLATION_MAX_FRACTION",
    "FUZZY_CORE_MIN",
    "FUZZY_CUTOFF",
    "FUZZY_ONE_EDIT_MIN",
    "FUZZY_TWO_EDITS_MIN",
    "GEOCODE_COLUMNS",
    "SAME_STREET_GAP_M",
    "Gazetteer",
    "geocode",
    "read_cnefe",
]

log = logging.getLogger(__name__)

GEOCODE_COLUMNS = (
    "x", "y", "latitude", "longitude", "geocodificacao", "logradouro_encontrado",
    "bairro_encontrado", "confianca", "geocodificacao_detalhe", "incerteza_m", "trecho_candidato",
)  # fmt: skip
"""Columns added (or overwritten) by :func:`geocode`."""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def geocode(requests: pd.DataFrame, gazetteer: Gazetteer) -> pd.DataFrame:
    """Locate every request: given coordinates, address point, interpolation, street, bairro.

    Parameters
    ----------
    requests : pandas.DataFrame
        Validated requests with at least ``protocolo``, ``latitude``,
        ``longitude`` (float or NaN), ``endereco``, ``numero``, ``bairro``,
        ``cep``; missing columns are treated as empty. Rows with
        ``situacao = "erro"`` are geocoded too when they have something to use.
    gazetteer : Gazetteer
        Index of the territory (:meth:`Gazetteer.from_territory`).

    Returns
    -------
    pandas.DataFrame
        The same rows in the same order, plus :data:`GEOCODE_COLUMNS`: ``x``,
        ``y`` (territory CRS), ``latitude``, ``longitude`` (EPSG:4326, filled
        when found from the address), ``geocodificacao`` (coordenada_informada,
        numero_exato, interpolado, logradouro, bairro or falhou),
        ``logradouro_encontrado`` (street name as written in the source),
        ``bairro_encontrado``, ``confianca`` (0–1, scale in the module
        docstring), ``geocodificacao_detalhe`` (Portuguese explanation),
        ``incerteza_m`` (radius in metres within which the real place lies; NaN
        when not located) and ``trecho_candidato`` (shapely lines in the territory
        CRS where the place may be, or None; see the module docstring).
    """
    out = requests.copy()
    lat = pd.to_numeric(out.get("latitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    lon = pd.to_numeric(out.get("longitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    lat_a, lon_a = lat.to_numpy(np.float64), lon.to_numpy(np.float64)
    given = np.isfinite(lat_a) & np.isfinite(lon_a)
    cols = _Columns.empty(len(out))
    if given.any():
        gx, gy = transformer("EPSG:4326", gazetteer.crs).transform(lon_a[given], lat_a[given])
        cols.x[given], cols.y[given] = gx, gy
        cols.kind[given] = "coordenada_informada"
        cols.conf[given] = 1.0
        cols.uncertainty[given] = 0.0
        cols.detail[given] = "coordenadas informadas no pedido"
    _locate_addresses(out, np.flatnonzero(~given), gazetteer, cols)

    x, y = cols.x, cols.y
    found = np.isfinite(x) & ~given
    if found.any():
        flon, flat = transformer(gazetteer.crs, "EPSG:4326").transform(x[found], y[found])
        lon_a, lat_a = lon_a.copy(), lat_a.copy()
        lon_a[found], lat_a[found] = flon, flat
    located = np.flatnonzero(np.isfinite(x))
    if len(located) and len(gazetteer.bairros):
        ids = gazetteer.bairro_of(shapely.points(x[located], y[located]))
        names = gazetteer.bairros["nome"].to_numpy()
        for i, b in zip(located, ids, strict=True):
            if cols.bairro_found[i] is None and b >= 0:
                cols.bairro_found[i] = str(names[b])

    out["x"], out["y"] = x, y
    out["latitude"], out["longitude"] = lat_a, lon_a
    cols.write(out)
    counts = out["geocodificacao"].value_counts()
    log.info(
        "geocodificação: %s",
        ", ".join(f"{k}: {v}" for k, v in counts.items()),
    )
    return out


@dataclass
class _Columns:
    """The geocoding columns being filled, one entry per request."""

    kind: np.ndarray
    x: np.ndarray
    y: np.ndarray
    conf: np.ndarray
    uncertainty: np.ndarray
    stretch: np.ndarray
    street_found: list[str | None]
    bairro_found: list[str | None]
    detail: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Columns:
        """Columns of ``n`` requests not located yet."""
        return cls(
            kind=np.full(n, "falhou", dtype=object),
            x=np.full(n, np.nan),
            y=np.full(n, np.nan),
            conf=np.zeros(n),
            uncertainty=np.full(n, np.nan),
            stretch=np.full(n, None, dtype=object),
            street_found=[None] * n,
            bairro_found=[None] * n,
            detail=np.full(n, "", dtype=object),
        )

    def put(self, i: int, res: Located) -> None:
        """Record where request ``i`` was placed (its x, y when known already)."""
        self.kind[i] = res.kind
        self.conf[i] = round(res.confianca, 3)
        self.detail[i] = res.detalhe
        self.uncertainty[i] = round(res.incerteza, 1) if res.kind != "falhou" else np.nan
        self.stretch[i] = res.trecho
        self.street_found[i] = res.logradouro
        self.bairro_found[i] = res.bairro
        if res.xy is not None:
            self.x[i], self.y[i] = res.xy

    def write(self, out: pd.DataFrame) -> None:
        """Write the columns but x, y, latitude and longitude into ``out``."""
        out["geocodificacao"] = self.kind.astype(str)
        out["logradouro_encontrado"] = pd.Series(self.street_found, index=out.index, dtype=object)
        out["bairro_encontrado"] = pd.Series(self.bairro_found, index=out.index, dtype=object)
        out["confianca"] = self.conf
        out["geocodificacao_detalhe"] = self.detail.astype(str)
        out["incerteza_m"] = self.uncertainty
        out["trecho_candidato"] = pd.Series(self.stretch, index=out.index, dtype=object)


def _locate_addresses(
    out: pd.DataFrame, todo: np.ndarray, gazetteer: Gazetteer, cols: _Columns
) -> None:
    """Locate the requests ``todo`` (without coordinates) by their address."""
    n = len(out)

    def column(name: str) -> np.ndarray:
        # only the rows to locate are read (the others are never looked at)
        texts = np.full(n, "", dtype=object)
        if name in out.columns and len(todo):
            cells = out[name].to_numpy(dtype=object)
            texts[todo] = [_text(v) for v in cells[todo]]
        return texts

    endereco, numero, bairro, cep = (column(c) for c in ("endereco", "numero", "bairro", "cep"))
    parsed = [parse_address(endereco[i], numero[i] or None, bairro[i], cep[i]) for i in todo]
    parsed = [
        gazetteer.names.prefer_known_name(p, endereco[i]) for i, p in zip(todo, parsed, strict=True)
    ]
    matches, bmatch = _match(parsed, gazetteer)
    along_rows: list[int] = []
    along_part: list[int] = []
    along_s: list[float] = []
    for i, p in zip(todo, parsed, strict=True):
        if not p.chave and not p.bairro:
            cols.detail[i] = "sem coordenadas nem endereço"
            continue
        match = matches.get((p.chave, p.tipo, p.nome), StreetMatch())
        street_text = endereco[i].split(",")[0].strip() or p.chave
        res = gazetteer.locator.locate(
            p, match, bmatch.get(p.bairro or "", (-1, 0.0)), street_text, bairro[i]
        )
        cols.put(i, res)
        if res.xy is None and res.along is not None:
            along_rows.append(int(i))
            along_part.append(res.along[0])
            along_s.append(res.along[1])
    if along_rows:
        pts = shapely.line_interpolate_point(gazetteer.part_geoms[along_part], np.array(along_s))
        cols.x[along_rows], cols.y[along_rows] = shapely.get_x(pts), shapely.get_y(pts)


def _match(
    parsed: list[ParsedAddress], gazetteer: Gazetteer
) -> tuple[dict[tuple[str, str | None, str], StreetMatch], dict[str, tuple[int, float]]]:
    """Street match of each distinct street, bairro match of each distinct bairro."""
    qkeys = sorted({(p.chave, p.tipo, p.nome) for p in parsed if p.chave}, key=str)
    matches = dict(zip(qkeys, gazetteer.names.match_streets(list(qkeys)), strict=True))
    bkeys = sorted({p.bairro for p in parsed if p.bairro})
    bmatch = dict(zip(bkeys, gazetteer.names.match_bairros(list(bkeys)), strict=True))
    return matches, bmatch
