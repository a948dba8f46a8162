"""Context of each request: what is around it and what its road is like.

:class:`Context` reads the territory once (roads, facilities, lamps, buildings),
builds one spatial index per layer and the road network's edge betweenness once,
then :meth:`Context.for_requests` adds the "Columns from context" of
``docs/assessment.md`` to every request at once: one STRtree query per layer for
all requests, never a spatial search per request. Every radius and period is an
argument (the caller takes them from the rules file, section ``[avaliacao]``).

Alongside the table it returns, per request, the evidence behind the counts
(facilities and occurrences counted, with their distances) for the audit trail
(``evidencias.json``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.errors import TerritoryError
from geo_ip.evidence.facilities import (
    ACCESS_CATEGORIES,
    NAMED_COUNTS,
    PRODUCTION_GROUP,
    SAFETY_CATEGORIES,
    Facilities,
    counts,
    pairs,
    prepare_facilities,
)
from geo_ip.evidence.occurrences import (
    OCCURRENCE_TYPES,
    in_period,
    normalise_type,
    occurrences_report,
    period_start,
    read_occurrences,
)
from geo_ip.evidence.road import (
    SLOPE_STEP_M,
    UNPAVED_SURFACES,
    dem_cell_m,
    road_columns,
)
from geo_ip.network.betweenness import (
    METADATA_KEY,
    STORED_COLUMNS,
    edge_betweenness,
    stored_betweenness,
)
from geo_ip.schema import CONTEXT
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.territory.reader import METADATA_TABLE, Territory, TerritoryLike

__all__ = [
    "ACCESS_CATEGORIES",
    "CONTEXT_COLUMNS",
    "NAMED_COUNTS",
    "OCCURRENCE_TYPES",
    "PRODUCTION_GROUP",
    "SAFETY_CATEGORIES",
    "UNPAVED_SURFACES",
    "Context",
    "edge_betweenness",
    "in_period",
    "normalise_type",
    "occurrences_report",
    "period_start",
    "read_occurrences",
]

log = logging.getLogger(__name__)

CONTEXT_COLUMNS = tuple(CONTEXT)
"""Columns returned by :meth:`Context.for_requests`, in order (:data:`geo_ip.schema.CONTEXT`).

Counts are ``Int64``, NA for requests without a location; edge attributes are NA when
not snapped. ``via_sem_pavimento`` is True when a ``surface`` value (``;`` or ``/``
separated) is in :data:`UNPAVED_SURFACES` or ``highway`` is ``track``; an unknown
surface counts as paved. ``declividade_fonte`` says where the slope came from: ``mde``
(sampled along the path every ``max(10 m, 2 DEM cells)``), ``aresta`` (the request
edge's ``declividade_pct``) or ``""``. ``<count>_nomes`` (for :data:`NAMED_COUNTS`) and
``equipamentos_nomes``, ``vulneraveis_nomes`` list the facilities counted, nearest
first, by name (the category's label when unnamed), joined by ``"; "``;
``producao_rural_nomes`` likewise, a label repeated ``n`` times given once as
``"label (n)"``."""
_ROAD_FIELDS = (
    "u",
    "v",
    "key",
    "length",
    "surface",
    "highway",
    "rural",
    "declividade_pct",
    *STORED_COLUMNS,
)
"""Columns of ``vias`` the context reads (the others are not used here)."""

# ------------------------------------------------------------------------------ helpers


def _check_radius(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} inválido: {value!r} (deve ser um número >= 0)")
    return value


class Context:
    """The territory's layers, indexed once, to describe the surroundings of requests.

    Parameters
    ----------
    roads : GeoDataFrame
        The ``vias`` layer (metric CRS): ``u``, ``v``, ``key``, ``length``, ``surface``,
        ``highway``, ``rural``, ``declividade_pct`` and LineStrings.
    facilities : GeoDataFrame, optional
        The ``equipamentos`` layer: ``osm_id``, ``categoria``, ``vulneravel``, ``nome``
        and points (``vulneravel`` is taken from the catalog when absent). Whether a
        category is a public or community facility (``equipamento_publico``), a
        night pedestrian generator (``gerador_noturno``) or rural production (group
        :data:`PRODUCTION_GROUP`) always comes from the catalog; a category not in it
        is none of these.
    footprints : GeoDataFrame, optional
        The ``equipamentos_pegada`` layer (``osm_id`` and polygons). A facility with a
        footprint is measured to its footprint (0 inside), not to its centre point, so
        that a request beside a large square or school sees it.
    lamps : GeoDataFrame, optional
        The ``pontos_ip`` layer (points).
    buildings : GeoDataFrame, optional
        The ``edificacoes`` layer (building and address points).
    betweenness_sample : int
        Source nodes of the sampled betweenness (rules: ``amostra_intermediacao``).
    seed : int, default 0
        Seed of that sampling.
    dem : str or Path, optional
        Elevation model for the slope along extension paths; without it the slope of
        the request's edge (``declividade_pct``) is used.
    catalog : Catalog, optional
        Layer catalog (facility flags, labels of unnamed facilities); the bundled one
        by default.
    betweenness : tuple of numpy.ndarray, optional
        ``(betweenness, percentile)`` per row of ``roads`` when already known (stored
        in the territory at build time); computed otherwise.
    """

    def __init__(
        self,
        roads: gpd.GeoDataFrame,
        *,
        facilities: gpd.GeoDataFrame | None = None,
        footprints: gpd.GeoDataFrame | None = None,
        lamps: gpd.GeoDataFrame | None = None,
        buildings: gpd.GeoDataFrame | None = None,
        betweenness_sample: int,
        seed: int = 0,
        dem: str | Path | None = None,
        catalog: Catalog | None = None,
        betweenness: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.catalog = catalog or load_catalog()
        self.crs = roads.crs
        self.roads = roads.reset_index(drop=True)
        self._road_geoms = np.asarray(self.roads.geometry.array, dtype=object)
        self._edge_index = pd.MultiIndex.from_arrays(
            [self.roads[c].to_numpy(dtype="int64") for c in ("u", "v", "key")]
        )
        if betweenness is None:
            betweenness = edge_betweenness(self.roads, sample=betweenness_sample, seed=seed)
        self.betweenness, self.betweenness_percentile = betweenness
        u = self.roads["u"].to_numpy(dtype="int64")
        v = self.roads["v"].to_numpy(dtype="int64")
        ends = pd.DataFrame({"a": np.concatenate([u, v]), "b": np.concatenate([v, u])})
        ends = ends[ends["a"] != ends["b"]].drop_duplicates()
        self._degree = ends.groupby("a").size()
        self.facilities = prepare_facilities(
            self._to_crs(facilities) if facilities is not None else None,
            self._to_crs(footprints) if footprints is not None else None,
            self.catalog,
            self.crs,
        )
        self._facilities = Facilities(self.facilities)
        self._lamps = self._points(lamps)
        self._lamp_tree = shapely.STRtree(self._lamps)
        self._buildings = self._points(buildings)
        self._building_tree = shapely.STRtree(self._buildings)
        self.dem = Path(dem) if dem is not None else None
        self._slope_step = SLOPE_STEP_M
        if self.dem is not None:
            self._slope_step = max(SLOPE_STEP_M, 2 * dem_cell_m(self.dem))
        sizes = (len(self.roads), len(self.facilities), len(self._lamps), len(self._buildings))
        log.info("contexto: %d vias, %d equipamentos, %d pontos de IP, %d edificações", *sizes)

    @classmethod
    def from_territory(
        cls,
        path: TerritoryLike,
        *,
        betweenness_sample: int,
        seed: int = 0,
        dem: str | Path | None = None,
        catalog: Catalog | None = None,
        roads: gpd.GeoDataFrame | None = None,
    ) -> Context:
        """Take the layers of a territory and index them.

        Parameters
        ----------
        path : Territory, str or Path
            The territory (``geo-ip territorio``), opened (its layers are shared with
            the other stages) or as its GeoPackage.
        betweenness_sample : int
            Rules: ``amostra_intermediacao``.
        seed : int, default 0
            Seed of the betweenness sampling.
        dem : str or Path, optional
            Elevation model (see :class:`Context`).
        catalog : Catalog, optional
            Layer catalog.
        roads : GeoDataFrame, optional
            The ``vias`` layer, when the caller has already read it.

        Returns
        -------
        Context
            Ready for :meth:`for_requests`.

        Raises
        ------
        TerritoryError
            If the file or the ``vias`` layer is missing.
        """
        territory = Territory.open(path)
        names = territory.names

        def layer(name: str, columns: Sequence[str]) -> gpd.GeoDataFrame | None:
            """Return the layer with only the columns used here (None when absent)."""
            if name not in names:
                return None
            return territory.columns(name, columns)

        if roads is None:
            roads = territory.layer("vias")
        roads = roads[[c for c in (*_ROAD_FIELDS, roads.geometry.name) if c in roads]]
        stored = None
        if METADATA_TABLE in names:
            try:
                record = territory.metadata.get(METADATA_KEY)
            except TerritoryError:
                record = None
            stored = stored_betweenness(roads, record, sample=betweenness_sample, seed=seed)
        if stored is not None:
            log.info("intermediação das vias lida do território (calculada na sua construção)")
        return cls(
            roads,
            facilities=layer("equipamentos", ("osm_id", "categoria", "vulneravel", "nome")),
            footprints=layer("equipamentos_pegada", ("osm_id",)),
            lamps=layer("pontos_ip", ()),
            buildings=layer("edificacoes", ()),
            betweenness_sample=betweenness_sample,
            seed=seed,
            dem=dem,
            catalog=catalog,
            betweenness=stored,
        )

    # ------------------------------------------------------------------------ setup

    def _to_crs(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if self.crs is not None and gdf.crs is not None and gdf.crs != self.crs:
            return gdf.to_crs(self.crs)
        return gdf

    def _points(self, gdf: gpd.GeoDataFrame | None) -> np.ndarray:
        if gdf is None or gdf.empty:
            return np.zeros(0, dtype=object)
        geoms = np.asarray(self._to_crs(gdf).geometry.array, dtype=object)
        return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]

    # ---------------------------------------------------------------------- queries

    def _edge_rows(self, requests: pd.DataFrame) -> np.ndarray:
        """Row of ``roads`` of each request's edge; -1 when not snapped or unknown."""
        n = len(requests)
        if not {"aresta_u", "aresta_v", "aresta_key"} <= set(requests.columns):
            return np.full(n, -1, dtype=np.int64)
        parts = [
            pd.Series(requests[c]).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            for c in ("aresta_u", "aresta_v", "aresta_key")
        ]
        known = np.logical_and.reduce([np.isfinite(p) for p in parts])
        rows = np.full(n, -1, dtype=np.int64)
        if known.any():
            keys = pd.MultiIndex.from_arrays([p[known].astype("int64") for p in parts])
            rows[known] = self._edge_index.get_indexer(keys)
        return rows

    def for_requests(
        self,
        requests: pd.DataFrame,
        paths: gpd.GeoSeries | Sequence[shapely.Geometry | None] | None = None,
        *,
        buildings_radius_m: float,
        facilities_radius_m: float,
        safety_radius_m: float,
        stop_distance_m: float,
        occurrences_radius_m: float,
        occurrences_months: float,
        reference_date: date,
        occurrences: pd.DataFrame | None = None,
        production_radius_m: float | None = None,
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """Describe the surroundings and the road of every request.

        Parameters
        ----------
        requests : pandas.DataFrame
            One row per request: ``x``, ``y`` (territory CRS; NaN when not located) and
            ``aresta_u``, ``aresta_v``, ``aresta_key`` (NA when not snapped).
        paths : GeoSeries or sequence of geometries, optional
            Extension path of each request (aligned with ``requests``; None when
            none), from :mod:`geo_ip.network.gridpath`.
        buildings_radius_m : float
            Rules ``raio_edificacoes_m``: buildings within it of the served stretch.
        facilities_radius_m : float
            Rules ``raio_equipamentos_m``: public/community facilities (catalog
            categories with ``equipamento_publico``).
        safety_radius_m : float
            Rules ``raio_seguranca_m``: crossings, bus stops, schools, health units,
            squares, community centres, vulnerable users and night generators (catalog
            categories with ``vulneravel`` and ``gerador_noturno``).
        stop_distance_m : float
            Rules ``distancia_parada_via_m``: bus stops along the request's edge.
        occurrences_radius_m : float
            Rules ``raio_ocorrencias_m``.
        occurrences_months : float
            Rules ``periodo_ocorrencias_meses`` (see :func:`period_start`).
        reference_date : date
            Last day of the occurrences period (usually the assessment date).
        occurrences : pandas.DataFrame, optional
            Table from :func:`read_occurrences` (rows in ``erro`` are ignored). Without
            it ``ocorrencias`` is NA (no data, not zero).
        production_radius_m : float, optional
            Rules ``art12.raio_producao_m``: rural production (catalog group
            :data:`PRODUCTION_GROUP`) counted in ``producao_rural``. Defaults to
            ``facilities_radius_m``.

        Returns
        -------
        table : pandas.DataFrame
            :data:`CONTEXT_COLUMNS` (their meaning and units there), index of
            ``requests``.
        evidence : list of dict
            Per request, in order: ``equipamentos`` (facilities counted in
            ``equipamentos_proximos``), ``seguranca`` (facilities counted in any
            safety-radius column), ``paradas_onibus_via`` (distance to the edge),
            ``producao_rural`` (rural production counted) — each item ``osm_id``,
            ``categoria``, ``nome``, ``distancia_m`` (0.1 m), nearest first — and
            ``ocorrencias`` (``linha`` of the occurrences file, ``data``,
            ``tipo``, ``distancia_m``).
        """
        r_build = _check_radius("raio_edificacoes_m", buildings_radius_m)
        r_fac = _check_radius("raio_equipamentos_m", facilities_radius_m)
        r_safe = _check_radius("raio_seguranca_m", safety_radius_m)
        r_stop = _check_radius("distancia_parada_via_m", stop_distance_m)
        r_occ = _check_radius("raio_ocorrencias_m", occurrences_radius_m)
        r_prod = _check_radius(
            "raio_producao_m",
            facilities_radius_m if production_radius_m is None else production_radius_m,
        )
        radii = (r_build, r_fac, r_safe, r_stop, r_occ, r_prod)
        return self._describe(
            requests, paths, radii, occurrences, occurrences_months, reference_date
        )

    def _describe(
        self,
        requests: pd.DataFrame,
        paths: gpd.GeoSeries | Sequence[shapely.Geometry | None] | None,
        radii: tuple[float, float, float, float, float, float],
        occurrences: pd.DataFrame | None,
        occurrences_months: float,
        reference_date: date,
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """Compute :meth:`for_requests` once its radii are checked."""
        n = len(requests)
        x = pd.to_numeric(requests["x"], errors="coerce").to_numpy(dtype="float64")
        y = pd.to_numeric(requests["y"], errors="coerce").to_numpy(dtype="float64")
        located = np.isfinite(x) & np.isfinite(y)
        rows = np.flatnonzero(located)
        points = np.asarray(shapely.points(x[rows], y[rows]), dtype=object)
        edge = self._edge_rows(requests)
        r_build, r_fac, r_safe, r_stop, r_occ, r_prod = radii
        out = pd.DataFrame(index=pd.RangeIndex(n))
        evidence: list[dict[str, Any]] = [
            {
                "equipamentos": [],
                "seguranca": [],
                "paradas_onibus_via": [],
                "producao_rural": [],
                "ocorrencias": [],
            }
            for _ in range(n)
        ]

        path_geoms = self._path_array(paths, n)
        out["edificacoes_trecho"] = self._buildings_near(
            points, rows, path_geoms, r_build, n, located
        )
        self._facilities.columns(out, evidence, points, rows, located, (r_fac, r_safe, r_prod))
        out["paradas_onibus_via"] = self._facilities.stops_along(
            evidence, edge, self._road_geoms, r_stop
        )
        self._occurrence_columns(
            out, evidence, points, rows, located, occurrences, r_occ, occurrences_months,
            reference_date,
        )  # fmt: skip
        out["distancia_ip_m"] = self._nearest_lamp(points, rows, n)
        road_columns(
            out, self.roads, edge, path_geoms,
            betweenness=(self.betweenness, self.betweenness_percentile),
            degree=self._degree, dem=self.dem, slope_step=self._slope_step, crs=str(self.crs),
        )  # fmt: skip
        table = out[list(CONTEXT_COLUMNS)]
        table.index = requests.index
        log.info(
            "contexto de %d pedido(s): %d localizado(s), %d com trecho de via",
            n,
            int(located.sum()),
            int((edge >= 0).sum()),
        )
        return table, evidence

    def _path_array(
        self, paths: gpd.GeoSeries | Sequence[shapely.Geometry | None] | None, n: int
    ) -> np.ndarray:
        if paths is None:
            return np.full(n, None, dtype=object)
        geoms: np.ndarray
        if isinstance(paths, gpd.GeoSeries):
            series = paths
            if self.crs is not None and paths.crs is not None and paths.crs != self.crs:
                series = paths.to_crs(self.crs)
            geoms = np.array(list(series.array), dtype=object)
        else:
            geoms = np.array(list(paths), dtype=object)
        if len(geoms) != n:
            raise ValueError(f"{len(geoms)} trajetos para {n} pedidos: devem estar alinhados")
        geoms = geoms.copy()
        geoms[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = None
        return geoms

    def _buildings_near(
        self,
        points: np.ndarray,
        rows: np.ndarray,
        paths: np.ndarray,
        radius: float,
        n: int,
        located: np.ndarray,
    ) -> pd.Series:
        has_path = np.flatnonzero(~shapely.is_missing(paths))
        owners, hits = [], []
        if len(self._buildings):
            for queries, who in ((points, rows), (paths[has_path], has_path)):
                if len(who):
                    src, idx = self._building_tree.query(
                        queries, predicate="dwithin", distance=radius
                    )
                    owners.append(who[src])
                    hits.append(idx)
        owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
        hit = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
        pair = np.unique(owner.astype(np.int64) * (len(self._buildings) + 1) + hit)
        return counts(pair // (len(self._buildings) + 1), n, located | ~shapely.is_missing(paths))

    def _occurrence_columns(
        self,
        out: pd.DataFrame,
        evidence: list[dict[str, Any]],
        points: np.ndarray,
        rows: np.ndarray,
        located: np.ndarray,
        occurrences: pd.DataFrame | None,
        radius: float,
        months: float,
        reference_date: date,
    ) -> None:
        n = len(out)
        if occurrences is None:
            out["ocorrencias"] = pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
            out["ocorrencias_tipos"] = pd.Series([""] * n, dtype=str)
            return
        occ = occurrences
        if isinstance(occ, gpd.GeoDataFrame):
            occ = self._to_crs(occ)
            geoms = np.asarray(occ.geometry.array, dtype=object)
        else:
            geoms = np.asarray(occ["geometry"], dtype=object)
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if "situacao" in occ:
            usable &= occ["situacao"].astype(str).to_numpy() != "erro"
        usable &= in_period(occ["data"], reference_date, months)
        keep = np.flatnonzero(usable)
        kept = geoms[keep]
        owner, hit, dist = pairs(shapely.STRtree(kept), kept, points, rows, radius)
        order = np.lexsort((hit, dist, owner))
        owner, hit, dist = owner[order], keep[hit[order]], dist[order]
        out["ocorrencias"] = counts(owner, n, located)
        tipos = occ["tipo"].astype(str).to_numpy(dtype=object)
        tally: dict[int, dict[str, int]] = {}
        for o, kind in zip(owner, tipos[hit], strict=True):
            per = tally.setdefault(int(o), {})
            per[str(kind)] = per.get(str(kind), 0) + 1
        kinds = [""] * n
        for o, per in tally.items():
            ranked = sorted(per.items(), key=lambda item: (-item[1], item[0]))
            kinds[o] = "; ".join(f"{kind}: {count}" for kind, count in ranked)
        out["ocorrencias_tipos"] = pd.Series(kinds, dtype=str)
        lines = occ["linha"].to_numpy() if "linha" in occ else np.arange(len(occ)) + 1
        dates = occ["data"].to_numpy(dtype=object)
        for o, i, d in zip(owner, hit, dist, strict=True):
            when = dates[i]
            evidence[o]["ocorrencias"].append(
                {
                    "linha": int(lines[i]),
                    "data": when.isoformat() if isinstance(when, date) else str(when),
                    "tipo": str(tipos[i]),
                    "distancia_m": round(float(d), 1),
                }
            )

    def _nearest_lamp(self, points: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
        out = np.full(n, np.nan)
        if len(self._lamps) and len(rows):
            (src, _idx), dist = self._lamp_tree.query_nearest(points, return_distance=True)
            out[rows[src]] = dist
        return out
