"""Placing one matched address on the gazetteer: point, uncertainty, confidence, messages.

:class:`Locator` takes a parsed address with its street and bairro matches
(:class:`geo_ip.requests.gazetteer_match.NameIndex`) and places it: at an address point,
interpolated between numbers, at the mid-point of the street's stretch, or at the
bairro; or fails, saying why. See :mod:`geo_ip.requests.geocode` for the order and the
confidence scale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from geo_ip.requests.address import ParsedAddress
from geo_ip.requests.gazetteer_addresses import NumberLine, number_position
from geo_ip.requests.gazetteer_build import transformer
from geo_ip.requests.gazetteer_match import StreetMatch

EXACT_UNCERTAINTY_M = 10.0
"""Uncertainty of an address point (``numero_exato``): a house within a lot's width."""
MIN_INTERPOLATED_M = 10.0
"""Least uncertainty of an interpolated number (a lot's width)."""
CONFIDENCE_SCALE_M = 100.0
"""Uncertainty at which the confidence halves: ``confianca = s · 100 / (100 + incerteza_m)``."""
NEAR_BAIRRO_MARGIN_M = 100.0
"""A street that does not reach the bairro given is narrowed to its stretch within this
distance beyond its nearest approach to the bairro."""
BAIRRO_MISMATCH_FACTOR = 0.9

_AMBIGUOUS_SHOWN = 6
"""Places listed in an ambiguity message (the others are counted)."""


def confidence(uncertainty_m: float, score: float = 1.0) -> float:
    """Confidence (0–1) of a location from its uncertainty and its match score.

    Parameters
    ----------
    uncertainty_m : float
        Radius (m) within which the real place lies (``incerteza_m``).
    score : float, default 1.0
        Street or bairro match score, 0–1 (1 for an exact name).

    Returns
    -------
    float
        ``score · S / (S + uncertainty_m)`` with ``S`` = :data:`CONFIDENCE_SCALE_M`:
        1 for given coordinates, 0.91 · score at 10 m, 0.5 · score at 100 m, 0.09 ·
        score at 1 km; 0 for NaN.
    """
    if not np.isfinite(uncertainty_m):
        return 0.0
    return float(score * CONFIDENCE_SCALE_M / (CONFIDENCE_SCALE_M + max(uncertainty_m, 0.0)))


@dataclass
class Located:
    """Where one address was placed, how, and how sure (see :func:`confidence`)."""

    kind: str
    xy: tuple[float, float] | None = None
    along: tuple[int, float] | None = None  # (part index, position along it)
    logradouro: str | None = None
    bairro: str | None = None
    confianca: float = 0.0
    detalhe: str = ""
    incerteza: float = float("nan")
    """Radius (m) within which the real place lies; NaN when not located."""
    trecho: Any = None
    """The network lines where the real place may be (territory CRS), or None."""


def _plain_list(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " e " + items[-1]


def bairro_sizes(bairros: gpd.GeoDataFrame, clusters: gpd.GeoDataFrame) -> np.ndarray:
    """Radius (m) of each bairro: its farthest part from its point, within the roads.

    An area is cut to the extent of the street network first (the Voronoi cells of
    bairro points reach 50 km beyond them); a bairro without an area keeps the
    ``raio`` of its address points (:func:`geo_ip.requests.gazetteer_build.build_bairros`).

    Parameters
    ----------
    bairros : GeoDataFrame
        Bairro table (point geometry, ``area``, ``raio``).
    clusters : GeoDataFrame
        Cluster table (the street network).

    Returns
    -------
    numpy.ndarray
        One radius per bairro; NaN when unknown.
    """
    n = len(bairros)
    raio = (
        bairros["raio"].to_numpy(np.float64).copy()
        if "raio" in bairros.columns
        else np.full(n, np.nan)
    )
    areas = bairros["area"].to_numpy() if n else np.array([], dtype=object)
    todo = np.flatnonzero(np.isnan(raio) & ~shapely.is_missing(areas))
    if not len(todo):
        return raio
    area = areas[todo]
    geoms = clusters.geometry.to_numpy()
    if len(geoms):
        area = shapely.intersection(area, shapely.box(*shapely.total_bounds(geoms)))
    points = bairros.geometry.to_numpy()[todo]
    far = shapely.hausdorff_distance(points, area)
    whole = np.sqrt(shapely.area(areas[todo]) / np.pi)
    raio[todo] = np.where(np.isfinite(far) & (far > 0), far, whole)
    return raio


class Locator:
    """Places parsed and matched addresses on the tables of one gazetteer.

    Parameters
    ----------
    crs : str
        CRS of the tables.
    streets : pandas.DataFrame
        Street table (``nome_exibicao``).
    clusters : GeoDataFrame
        Cluster table (``rua``, ``bairros``, ``linha``, ``mx``, ``my``,
        ``comprimento``, geometry).
    part_geoms : numpy.ndarray
        The continuous lines of the clusters.
    bairros : GeoDataFrame
        Bairro table (``nome``, ``area``, ``raio``, point geometry).
    exact, interp, cluster_ceps : dict
        The address points' indexes
        (:class:`geo_ip.requests.gazetteer_addresses.AddressIndex`).
    has_areas : bool
        Whether some bairro has an area (limits).
    """

    def __init__(
        self,
        crs: str,
        streets: pd.DataFrame,
        clusters: gpd.GeoDataFrame,
        part_geoms: np.ndarray,
        bairros: gpd.GeoDataFrame,
        exact: dict[tuple[int, int], tuple[float, float, str]],
        interp: dict[int, NumberLine],
        cluster_ceps: dict[int, frozenset[str]],
        has_areas: bool,
    ) -> None:
        self.crs = crs
        self.part_geoms = part_geoms
        self.exact = exact
        self.interp = interp
        self.cluster_ceps = cluster_ceps
        self._has_areas = has_areas
        sc: dict[int, list[int]] = defaultdict(list)
        for cid, sid in enumerate(clusters["rua"].to_numpy()):
            sc[int(sid)].append(cid)
        self._street_clusters = dict(sc)
        self._c_street = clusters["rua"].to_numpy(np.int64)
        self._c_bairros: list[tuple[int, ...]] = list(clusters["bairros"])
        self._c_line = clusters["linha"].to_numpy(bool)
        self._mx = clusters["mx"].to_numpy(np.float64)
        self._my = clusters["my"].to_numpy(np.float64)
        self._c_geom = clusters.geometry.to_numpy()
        self._c_length = clusters["comprimento"].to_numpy(np.float64)
        self._display = streets["nome_exibicao"].astype(str).to_numpy()
        self._b_name = bairros["nome"].astype(str).to_numpy()
        self._b_area = bairros["area"].to_numpy()
        self._b_x = shapely.get_x(bairros.geometry.to_numpy())
        self._b_y = shapely.get_y(bairros.geometry.to_numpy())
        self._b_raio = bairro_sizes(bairros, clusters)
        self._cluster_tree: shapely.STRtree | None = None
        self._roads_cache: dict[int, Any] = {}
        self._clip_cache: dict[tuple[int, int], tuple[Any, tuple[float, float]] | None] = {}

    def locate(
        self,
        parsed: ParsedAddress,
        street: StreetMatch,
        bairro: tuple[int, float],
        street_text: str,
        bairro_text: str = "",
    ) -> Located:
        """Locate one parsed address (see :mod:`geo_ip.requests.geocode` for the order).

        Parameters
        ----------
        parsed : ParsedAddress
            The address, parsed (:func:`geo_ip.requests.address.parse_address`).
        street : StreetMatch
            Its street match (:meth:`NameIndex.match_streets
            <geo_ip.requests.gazetteer_match.NameIndex.match_streets>`).
        bairro : tuple of (int, float)
            Its bairro match: bairro index (-1: none) and score 0–100.
        street_text, bairro_text : str
            The street and bairro as the request wrote them, for the messages.

        Returns
        -------
        Located
            The place, or ``kind = "falhou"`` with the reason in ``detalhe``.
        """
        b_id = bairro[0]
        typed_bairro = bairro_text.strip() or parsed.bairro
        if not parsed.chave:
            return self._at_bairro(bairro, parsed, typed_bairro, "endereço sem logradouro")
        if not street.ids:
            reason = f"logradouro '{street_text}' não encontrado"
            if street.suggestion is not None:
                name, score = street.suggestion
                reason += f"; mais parecido: '{name}' ({score:.0f}%)"
            return self._at_bairro(bairro, parsed, typed_bairro, reason)

        cands = [c for sid in street.ids for c in self._street_clusters.get(sid, [])]
        cands, notes, mismatch = self._narrow(cands, b_id, parsed, typed_bairro)
        if len(cands) > 1:
            return self._ambiguous(cands, street_text)
        if not cands:
            reason = f"logradouro '{street_text}' sem trecho utilizável"
            return self._at_bairro(bairro, parsed, typed_bairro, reason)

        cid = cands[0]
        name = str(self._display[self._c_street[cid]])
        s = street.score / 100
        if street.how != "exato":
            notes.insert(0, f"'{street_text}' interpretado como '{name}' ({street.score:.0f}%)")
        found = self._at_number(cid, parsed.numero, s) if parsed.numero is not None else None
        if found is None:
            found = self._at_street(cid, b_id, parsed, s, mismatch, notes)
        factor = BAIRRO_MISMATCH_FACTOR if mismatch else 1.0
        detail = "; ".join([found.detalhe, *notes])
        return replace(found, logradouro=name, confianca=found.confianca * factor, detalhe=detail)

    def _at_bairro(
        self,
        bairro: tuple[int, float],
        parsed: ParsedAddress,
        typed_bairro: str | None,
        reason: str,
    ) -> Located:
        """Place at the bairro's point when the street cannot place the address; else fail."""
        b_id, b_score = bairro
        if b_id < 0:
            if parsed.bairro:
                reason += f"; bairro '{typed_bairro}' não encontrado"
            return Located("falhou", detalhe=reason)
        b_name = str(self._b_name[b_id])
        radius = float(self._b_raio[b_id])
        known = np.isfinite(radius)
        size = f" (raio de {radius:.0f} m)" if known else " (tamanho desconhecido)"
        return Located(
            "bairro",
            xy=(float(self._b_x[b_id]), float(self._b_y[b_id])),
            bairro=b_name,
            confianca=confidence(radius, b_score / 100),
            detalhe=f"{reason}; usada a posição do bairro '{b_name}'{size}",
            incerteza=radius,
            trecho=self._bairro_roads(b_id),
        )

    def _narrow(
        self, cands: list[int], b_id: int, parsed: ParsedAddress, typed_bairro: str | None
    ) -> tuple[list[int], list[str], bool]:
        """Keep the street's clusters in the bairro, else by CEP: (clusters, notes, mismatch)."""
        notes: list[str] = []
        mismatch = False
        if b_id < 0 and parsed.bairro:
            notes.append(
                f"bairro '{typed_bairro}' não encontrado no território: posição não "
                "restringida ao bairro"
            )
        if b_id >= 0 and cands:
            b_name = str(self._b_name[b_id])
            inside = [c for c in cands if b_id in self._c_bairros[c]]
            if inside:
                cands = inside
            elif self._has_areas:
                mismatch = True
                if len(cands) > 1:
                    here = shapely.Point(self._b_x[b_id], self._b_y[b_id])
                    dist = shapely.distance(self._c_geom[cands], here)
                    cands = [cands[int(np.argmin(dist))]]
                    notes.append(
                        f"nenhum trecho do logradouro no bairro '{b_name}'; escolhido o "
                        "trecho mais próximo do bairro"
                    )
                else:
                    notes.append(f"o logradouro não passa pelo bairro informado '{b_name}'")
        if len(cands) > 1 and parsed.cep:
            with_cep = [c for c in cands if parsed.cep in self.cluster_ceps.get(c, ())]
            if len(with_cep) == 1:
                cands = with_cep
                notes.append(f"trecho escolhido pelo CEP {parsed.cep}")
        return cands, notes, mismatch

    def _at_number(self, cid: int, numero: int, s: float) -> Located | None:
        """Place at the number's address point, else interpolate it; None without either."""
        hit = self.exact.get((cid, numero))
        if hit is not None:
            fonte = "no CNEFE (IBGE)" if hit[2] == "cnefe" else "no OpenStreetMap (addr:*)"
            return Located(
                "numero_exato",
                xy=(hit[0], hit[1]),
                confianca=confidence(EXACT_UNCERTAINTY_M, s),
                detalhe=f"número {numero} encontrado {fonte}",
                incerteza=EXACT_UNCERTAINTY_M,
            )
        line = self.interp.get(cid)
        found = number_position(line, self.part_geoms, numero) if self._c_line[cid] else None
        if found is None:
            return None
        part, pos, text, (lo, hi) = found
        if text.startswith("extra"):
            radius = hi - lo + MIN_INTERPOLATED_M
        else:
            radius = max(pos - lo, hi - pos, MIN_INTERPOLATED_M)
        return Located(
            "interpolado",
            along=(part, pos),
            confianca=confidence(radius, s),
            detalhe=f"número {numero} {text} (± {radius:.0f} m)",
            incerteza=radius,
            trecho=substring(self.part_geoms[part], lo, hi) if hi > lo else None,
        )

    def _at_street(
        self,
        cid: int,
        b_id: int,
        parsed: ParsedAddress,
        s: float,
        mismatch: bool,
        notes: list[str],
    ) -> Located:
        """Place at the mid-point of the street's stretch (a note if the bairro cannot narrow)."""
        if parsed.numero is not None:
            why = f"número {parsed.numero} sem referência de numeração no logradouro"
        elif parsed.sem_numero:
            why = "endereço sem número (s/n)"
        else:
            why = "número não informado"
        stretch, xy = self._stretch(cid, b_id, near=mismatch)
        length = float(shapely.length(stretch)) if stretch is not None else self._c_length[cid]
        radius = max(length / 2, MIN_INTERPOLATED_M)
        b_name = str(self._b_name[b_id]) if b_id >= 0 else None
        if mismatch:
            where = f" no trecho mais próximo do bairro '{b_name}'"
        elif b_id >= 0 and b_id in self._c_bairros[cid]:
            where = f" no bairro '{b_name}'"
        elif b_id >= 0:
            where = ""
            notes.append(
                f"o território não tem os limites dos bairros: posição não restringida ao "
                f"bairro '{b_name}'"
            )
        else:
            unknown_bairro = bool(parsed.bairro)
            where = "" if unknown_bairro else " (bairro não informado)"
        return Located(
            "logradouro",
            xy=xy,
            confianca=confidence(radius, s),
            detalhe=f"{why}; ponto médio do logradouro{where}, num trecho de {length:.0f} m "
            f"(± {radius:.0f} m)",
            incerteza=radius,
            trecho=stretch,
        )

    def _stretch(self, cid: int, bairro: int, near: bool) -> tuple[Any, tuple[float, float]]:
        """Return the stretch of a cluster where the place may be, and its mid-point.

        The whole cluster, or its stretch inside ``bairro`` when it crosses several;
        with ``near`` (the street does not reach the bairro), its stretch within
        :data:`NEAR_BAIRRO_MARGIN_M` beyond its nearest approach to the bairro. A
        point-only cluster (a street known from address points alone) has no stretch.
        """
        whole = self._c_geom[cid] if self._c_line[cid] else None
        default = (whole, (float(self._mx[cid]), float(self._my[cid])))
        if bairro < 0 or whole is None or self._b_area[bairro] is None:
            return default
        inside = self._c_bairros[cid]
        if not near and (len(inside) < 2 or bairro not in inside):
            return default
        key = (cid, bairro)
        if key not in self._clip_cache:
            area = self._b_area[bairro]
            if near:
                area = shapely.buffer(area, shapely.distance(whole, area) + NEAR_BAIRRO_MARGIN_M)
            self._clip_cache[key] = _lines_mid(shapely.intersection(whole, area))
        return self._clip_cache[key] or default

    def _bairro_roads(self, bairro: int) -> Any:
        """Return the streets inside a bairro (within its radius without an area), or None."""
        if bairro not in self._roads_cache:
            area = self._b_area[bairro]
            if area is None:
                radius = float(self._b_raio[bairro])
                if not np.isfinite(radius):
                    self._roads_cache[bairro] = None
                    return None
                area = shapely.buffer(shapely.Point(self._b_x[bairro], self._b_y[bairro]), radius)
            geoms = self._c_geom[self._c_line]
            if self._cluster_tree is None:
                self._cluster_tree = shapely.STRtree(geoms)
            hit = self._cluster_tree.query(area, predicate="intersects")
            found = _lines_mid(shapely.intersection(shapely.union_all(geoms[hit]), area))
            self._roads_cache[bairro] = None if found is None else found[0]
        return self._roads_cache[bairro]

    def _candidate_label(self, cid: int) -> str:
        """Where a candidate stretch is: its bairros, else its coordinates."""
        names = sorted(str(self._b_name[b]) for b in self._c_bairros[cid])
        if names:
            return _plain_list(names)
        lon, lat = transformer(self.crs, "EPSG:4326").transform(self._mx[cid], self._my[cid])
        return f"perto de {lat:.5f}, {lon:.5f}"

    def _ambiguous(self, cands: list[int], street_text: str) -> Located:
        """Failure for a street found in several places: name them and what would decide.

        The full name decides between different streets; the bairro, when the
        candidates lie in known bairros; the CEP only when the gazetteer knows
        postcodes of the candidates (:attr:`cluster_ceps`); otherwise the coordinates
        of the place (or a reference point to find them). Never a silent pick.
        """
        sids = sorted({int(self._c_street[c]) for c in cands})
        in_bairros = any(self._c_bairros[c] for c in cands)
        cep = " ou o CEP" if any(self.cluster_ceps.get(c) for c in cands) else ""
        shown = cands[:_AMBIGUOUS_SHOWN]
        more = len(cands) - len(shown)
        if len(sids) > 1:
            labels = [
                f"'{self._display[self._c_street[c]]}' ({self._candidate_label(c)})" for c in shown
            ]
            if more:
                labels.append(f"mais {more} trecho(s)")
            ask = "o nome completo e o bairro" if in_bairros else "o nome completo"
            return Located(
                "falhou",
                detalhe=(
                    f"logradouro ambíguo: '{street_text}' corresponde a {_plain_list(labels)}; "
                    f"informe {ask}{cep}"
                ),
            )
        bairros = sorted({str(self._b_name[b]) for c in cands for b in self._c_bairros[c]})
        if bairros:
            where = f"nos bairros {_plain_list(bairros)}"
            ask = "informe o bairro"
        else:
            to_geo = transformer(self.crs, "EPSG:4326")
            labels = []
            for c in shown:
                lon, lat = to_geo.transform(self._mx[c], self._my[c])
                labels.append(f"({lat:.5f}, {lon:.5f})")
            if more:
                labels.append(f"mais {more}")
            where = f"em {len(cands)} trechos desconectados e distantes, perto de " + _plain_list(
                labels
            )
            ask = (
                "informe o CEP ou as coordenadas do local (latitude e longitude)"
                if cep
                else "informe as coordenadas do local (latitude e longitude) ou um ponto de "
                "referência"
            )
        return Located(
            "falhou",
            detalhe=f"logradouro ambíguo: '{self._display[sids[0]]}' existe {where}; {ask}",
        )


def _lines_mid(geometry: Any) -> tuple[Any, tuple[float, float]] | None:
    """Merge the line parts of a geometry; return them and their mid-point (None: no lines).

    Collections (an intersection with an area) are flattened to their lines; points
    where a street only touches the area are dropped.
    """
    parts = shapely.get_parts(shapely.get_parts(geometry))
    lines = [g for g in parts if g.geom_type == "LineString" and g.length > 0]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    mid = shapely.line_interpolate_point(merged, 0.5, normalized=True)
    return merged, (float(shapely.get_x(mid)), float(shapely.get_y(mid)))
