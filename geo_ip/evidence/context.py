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
import pyogrio
import rasterio
import rasterio.errors
import shapely
from pyproj import CRS

from geo_ip.errors import DemError, TerritoryError
from geo_ip.evidence.occurrences import (
    OCCURRENCE_TYPES,
    in_period,
    normalise_type,
    occurrences_report,
    period_start,
    read_occurrences,
)
from geo_ip.network.betweenness import (
    METADATA_KEY,
    STORED_COLUMNS,
    edge_betweenness,
    stored_betweenness,
)
from geo_ip.sources import dem as dem_mod
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.territory.store import METADATA_TABLE, read_dataframe, read_layer, read_metadata

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

SAFETY_CATEGORIES: dict[str, tuple[str, ...]] = {
    "travessias": ("travessia",),
    "paradas_onibus": ("ponto_onibus",),
    "escolas": ("escola",),
    "creches": ("creche",),
    "unidades_saude": ("hospital", "unidade_saude"),
    "pracas": ("praca",),
}
"""Count columns within the safety radius (Art. 9 §5, III) and the categories of each."""
ACCESS_CATEGORIES: dict[str, tuple[str, ...]] = {
    "centros_comunitarios": ("centro_comunitario", "assistencia_social"),
}
"""More count columns within the safety radius, not points of attention for road safety:
access to community centres, a sign of a high-flow rural road (Art. 12 §1)."""
NAMED_COUNTS: tuple[str, ...] = ("escolas", "creches", "unidades_saude", "centros_comunitarios")
"""Counts whose facilities are also named, in ``<column>_nomes`` (the access sign of
Art. 12 §1 cites them)."""
PRODUCTION_GROUP = "producao_rural"
"""Catalog group of rural production (farmland, farmyards, silos, agro-industry): counted
in ``producao_rural`` (Art. 12 §1: relevance for moving the rural production)."""
BUS_STOP = "ponto_onibus"
"""Category of bus stops (``paradas_onibus_via``, Art. 9 §7, III)."""
UNPAVED_SURFACES = frozenset({
    "unpaved", "dirt", "gravel", "ground", "earth", "grass", "sand", "compacted",
    "fine_gravel", "mud",
})  # fmt: skip
"""OSM ``surface`` values of an unpaved road (``highway=track`` is unpaved too)."""
SLOPE_STEP_M = 10.0
"""Spacing of the DEM samples along an extension path (at least two DEM cells)."""
CONTEXT_COLUMNS = (
    "edificacoes_trecho", "equipamentos_proximos", "equipamentos_nomes", "travessias",
    "paradas_onibus", "escolas", "creches", "unidades_saude", "pracas",
    "centros_comunitarios", *(f"{column}_nomes" for column in NAMED_COUNTS),
    "producao_rural", "producao_rural_nomes",
    "usuarios_vulneraveis", "vulneraveis_nomes", "paradas_onibus_via", "geradores_noturnos",
    "ocorrencias", "ocorrencias_tipos", "distancia_ip_m", "intermediacao",
    "intermediacao_percentil", "via_de_passagem", "declividade_media_pct",
    "declividade_max_pct", "declividade_fonte", "superficie_via", "via_sem_pavimento",
    "via_rural",
)  # fmt: skip
"""Columns returned by :meth:`Context.for_requests`, in order."""
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


def _text(values: pd.Series) -> np.ndarray:
    """Strings with missing values as ``""``."""
    return np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.replace("/", ";").split(";") if t.strip()}


def _dem_cell_m(path: Path) -> float:
    """Size of a DEM cell in metres (the larger side; degrees converted at the centre)."""
    if not path.is_file():
        raise DemError("arquivo do modelo de elevação não encontrado", path=path)
    try:
        with rasterio.open(path) as src:
            res_x, res_y = abs(src.res[0]), abs(src.res[1])
            crs = CRS.from_user_input(src.crs) if src.crs is not None else None
            centre_lat = (src.bounds.bottom + src.bounds.top) / 2
    except rasterio.errors.RasterioIOError as exc:
        raise DemError(f"não é um GeoTIFF legível ({exc})", path=path) from exc
    if crs is None:
        raise DemError("o modelo de elevação não tem sistema de coordenadas (CRS)", path=path)
    if crs.is_geographic:
        return max(res_x * 111_320 * math.cos(math.radians(centre_lat)), res_y * 110_574)
    return max(res_x, res_y)


def _check_radius(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} inválido: {value!r} (deve ser um número >= 0)")
    return value


def _counts(owner: np.ndarray, n: int, located: np.ndarray) -> pd.Series:
    counts = pd.array(np.bincount(owner, minlength=n), dtype="Int64")
    counts[~located] = pd.NA
    return pd.Series(counts)


def _pairs(
    tree: shapely.STRtree, geoms: np.ndarray, queries: np.ndarray, rows: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(request row, tree index, distance) for every pair within ``radius``."""
    if len(geoms) == 0 or len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    src, idx = tree.query(queries, predicate="dwithin", distance=radius)
    dist = shapely.distance(queries[src], geoms[idx])
    return rows[src], idx, dist


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
        self.facilities = self._prepare_facilities(facilities, footprints)
        self._fac_geoms = np.asarray(self.facilities.geometry.array, dtype=object)
        self._fac_tree = shapely.STRtree(self._fac_geoms)
        records = self.facilities[["osm_id", "categoria", "nome"]].astype(str)
        self._fac_records: list[dict[str, Any]] = records.to_dict("records")
        self._lamps = self._points(lamps)
        self._lamp_tree = shapely.STRtree(self._lamps)
        self._buildings = self._points(buildings)
        self._building_tree = shapely.STRtree(self._buildings)
        self.dem = Path(dem) if dem is not None else None
        self._slope_step = SLOPE_STEP_M
        if self.dem is not None:
            self._slope_step = max(SLOPE_STEP_M, 2 * _dem_cell_m(self.dem))
        sizes = (len(self.roads), len(self.facilities), len(self._lamps), len(self._buildings))
        log.info("contexto: %d vias, %d equipamentos, %d pontos de IP, %d edificações", *sizes)

    @classmethod
    def from_territory(
        cls,
        path: str | Path,
        *,
        betweenness_sample: int,
        seed: int = 0,
        dem: str | Path | None = None,
        catalog: Catalog | None = None,
        roads: gpd.GeoDataFrame | None = None,
    ) -> Context:
        """Read the layers of a territory GeoPackage once and index them.

        Parameters
        ----------
        path : str or Path
            Territory GeoPackage written by ``geo-ip territory``.
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
        names = {str(n) for n in pyogrio.list_layers(path)[:, 0]} if Path(path).is_file() else {}

        def layer(name: str, columns: Sequence[str]) -> gpd.GeoDataFrame | None:
            """Read the layer with only the columns used here (None when absent)."""
            if name not in names:
                return None
            fields = {str(f) for f in pyogrio.read_info(path, layer=name)["fields"]}
            return read_dataframe(path, name, columns=[c for c in columns if c in fields])

        if roads is not None:
            roads = roads[[c for c in (*_ROAD_FIELDS, roads.geometry.name) if c in roads]]
        elif "vias" in names:
            roads = layer("vias", _ROAD_FIELDS)
        else:
            roads = read_layer(path, "vias")
        assert roads is not None  # "vias" is in names
        stored = None
        if METADATA_TABLE in names:
            try:
                record = read_metadata(path).get(METADATA_KEY)
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

    def _prepare_facilities(
        self, facilities: gpd.GeoDataFrame | None, footprints: gpd.GeoDataFrame | None
    ) -> gpd.GeoDataFrame:
        columns = ["osm_id", "categoria", "vulneravel", "equipamento_publico", "gerador_noturno"]
        columns += ["producao", "nome", "rotulo"]
        if facilities is None or facilities.empty:
            return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=self.crs)
        fac = self._to_crs(facilities).reset_index(drop=True)
        geoms = np.asarray(fac.geometry.array, dtype=object)
        fac = fac[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))].reset_index(drop=True)
        cats = self.catalog.equipamentos.categorias
        categoria = _text(fac["categoria"])
        out = pd.DataFrame(
            {
                "osm_id": _text(fac["osm_id"]) if "osm_id" in fac else np.full(len(fac), ""),
                "categoria": categoria,
            }
        )
        if "vulneravel" in fac:
            flags = fac["vulneravel"].astype("boolean").fillna(False)
            out["vulneravel"] = flags.to_numpy(dtype=bool)
        else:
            out["vulneravel"] = [c in cats and cats[c].vulneravel for c in categoria]
        for flag in ("equipamento_publico", "gerador_noturno"):
            out[flag] = np.array([c in cats and getattr(cats[c], flag) for c in categoria], bool)
        out["producao"] = np.array(
            [c in cats and cats[c].grupo == PRODUCTION_GROUP for c in categoria], bool
        )
        names = _text(fac["nome"]) if "nome" in fac else np.full(len(fac), "")
        out["nome"] = names
        labels = [cats[c].rotulo if c in cats else c for c in categoria]
        out["rotulo"] = [n.strip() or lab for n, lab in zip(names, labels, strict=True)]
        geometry = np.asarray(fac.geometry.array, dtype=object).copy()
        if footprints is not None and not footprints.empty and "osm_id" in footprints:
            foot = self._to_crs(footprints)
            shapes = pd.Series(
                np.asarray(foot.geometry.array, dtype=object), index=_text(foot["osm_id"])
            )
            shapes = shapes[~shapes.index.duplicated()]
            at = shapes.index.get_indexer(pd.Index(out["osm_id"]))
            usable = at >= 0
            shape = np.asarray(shapes.to_numpy(), dtype=object)
            valid = np.zeros(len(out), dtype=bool)
            valid[usable] = ~shapely.is_missing(shape[at[usable]]) & ~shapely.is_empty(
                shape[at[usable]]
            )
            geometry[valid] = shape[at[valid]]
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=self.crs))

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
            :data:`CONTEXT_COLUMNS`, index of ``requests``. Counts are ``Int64``, NA for
            requests without a location; edge attributes are NA when not snapped.
            ``via_sem_pavimento`` is True when a ``surface`` value (``;`` or ``/``
            separated) is in :data:`UNPAVED_SURFACES` or ``highway`` is ``track``; an
            unknown surface counts as paved.
            ``declividade_fonte`` says where the slope came from: ``mde`` (sampled
            along the path every ``max(10 m, 2 DEM cells)``), ``aresta`` (the request
            edge's ``declividade_pct``) or ``""``.
            ``<count>_nomes`` (for :data:`NAMED_COUNTS`) and ``equipamentos_nomes``,
            ``vulneraveis_nomes`` list the facilities counted, nearest first, by name
            (the category's label when unnamed), joined by ``"; "``;
            ``producao_rural_nomes`` likewise, a label repeated ``n`` times given once
            as ``"label (n)"``.
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
        n = len(requests)
        x = pd.to_numeric(requests["x"], errors="coerce").to_numpy(dtype="float64")
        y = pd.to_numeric(requests["y"], errors="coerce").to_numpy(dtype="float64")
        located = np.isfinite(x) & np.isfinite(y)
        rows = np.flatnonzero(located)
        points = np.asarray(shapely.points(x[rows], y[rows]), dtype=object)
        edge = self._edge_rows(requests)
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
        self._facility_columns(out, evidence, points, rows, located, (r_fac, r_safe, r_prod))
        out["paradas_onibus_via"] = self._stops_along(evidence, edge, r_stop, n)
        self._occurrence_columns(
            out, evidence, points, rows, located, occurrences, r_occ, occurrences_months,
            reference_date,
        )  # fmt: skip
        out["distancia_ip_m"] = self._nearest_lamp(points, rows, n)
        self._road_columns(out, edge, path_geoms)
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
        return _counts(pair // (len(self._buildings) + 1), n, located | ~shapely.is_missing(paths))

    def _facility_columns(
        self,
        out: pd.DataFrame,
        evidence: list[dict[str, Any]],
        points: np.ndarray,
        rows: np.ndarray,
        located: np.ndarray,
        radii: tuple[float, float, float],
    ) -> None:
        """Facility counts and names; ``radii`` are those of facilities, safety, production."""
        n = len(out)
        r_fac, r_safe, r_prod = radii
        owner, idx, dist = _pairs(self._fac_tree, self._fac_geoms, points, rows, max(radii))
        order = np.lexsort((idx, dist, owner))
        owner, idx, dist = owner[order], idx[order], dist[order]
        fac = self.facilities
        categoria = fac["categoria"].to_numpy(dtype=object)[idx]
        vulneravel = fac["vulneravel"].to_numpy(dtype=bool)[idx]
        in_fac, in_safe = dist <= r_fac, dist <= r_safe

        public = in_fac & fac["equipamento_publico"].to_numpy(dtype=bool)[idx]
        out["equipamentos_proximos"] = _counts(owner[public], n, located)
        out["equipamentos_nomes"] = self._names(owner[public], idx[public], n)
        safety_any = np.zeros(len(idx), dtype=bool)
        for column, cats in {**SAFETY_CATEGORIES, **ACCESS_CATEGORIES}.items():
            mask = in_safe & np.isin(categoria, cats)
            out[column] = _counts(owner[mask], n, located)
            if column in NAMED_COUNTS:
                out[f"{column}_nomes"] = self._names(owner[mask], idx[mask], n)
            safety_any |= mask
        production = (dist <= r_prod) & fac["producao"].to_numpy(dtype=bool)[idx]
        out["producao_rural"] = _counts(owner[production], n, located)
        out["producao_rural_nomes"] = self._names(owner[production], idx[production], n, tally=True)
        vulnerable = in_safe & vulneravel
        out["usuarios_vulneraveis"] = _counts(owner[vulnerable], n, located)
        out["vulneraveis_nomes"] = self._names(owner[vulnerable], idx[vulnerable], n)
        night = in_safe & fac["gerador_noturno"].to_numpy(dtype=bool)[idx]
        out["geradores_noturnos"] = _counts(owner[night], n, located)
        safety_any |= vulnerable | night
        for key, mask in (
            ("equipamentos", public),
            ("seguranca", safety_any),
            ("producao_rural", production),
        ):
            for o, i, d in zip(owner[mask], idx[mask], dist[mask], strict=True):
                evidence[o][key].append(self._facility_item(i, d))

    def _facility_item(self, i: int, distance: float) -> dict[str, Any]:
        return {**self._fac_records[int(i)], "distancia_m": round(float(distance), 1)}

    def _names(
        self, owner: np.ndarray, idx: np.ndarray, n: int, *, tally: bool = False
    ) -> pd.Series:
        """Labels joined with "; " per request, in the (distance) order of the pairs.

        With ``tally`` a label is given once, at its first (nearest) place, followed by
        `` (n)`` when it occurs ``n > 1`` times (unnamed farmland: "Lavoura (3)").
        """
        labels = self.facilities["rotulo"].to_numpy(dtype=object)[idx]
        if not tally:
            names = [""] * n
            for o, label in zip(owner, labels, strict=True):
                names[o] = f"{names[o]}; {label}" if names[o] else str(label)
            return pd.Series(names, dtype=str)
        seen: list[dict[str, int]] = [{} for _ in range(n)]
        for o, label in zip(owner, labels, strict=True):
            per = seen[o]
            per[str(label)] = per.get(str(label), 0) + 1
        return pd.Series(
            [
                "; ".join(f"{label} ({k})" if k > 1 else label for label, k in per.items())
                for per in seen
            ],
            dtype=str,
        )

    def _stops_along(
        self, evidence: list[dict[str, Any]], edge: np.ndarray, radius: float, n: int
    ) -> pd.Series:
        counts = pd.array(np.zeros(n, dtype=np.int64), dtype="Int64")
        counts[edge < 0] = pd.NA
        stops = np.flatnonzero(self.facilities["categoria"].to_numpy(dtype=object) == BUS_STOP)
        snapped = np.flatnonzero(edge >= 0)
        if len(stops) and len(snapped):
            stop_geoms = self._fac_geoms[stops]
            tree = shapely.STRtree(stop_geoms)
            lines = self._road_geoms[edge[snapped]]
            owner, hit, dist = _pairs(tree, stop_geoms, lines, snapped, radius)
            order = np.lexsort((hit, dist, owner))
            owner, hit, dist = owner[order], hit[order], dist[order]
            counts[snapped] = np.bincount(owner, minlength=n)[snapped]
            for o, i, d in zip(owner, stops[hit], dist, strict=True):
                evidence[o]["paradas_onibus_via"].append(self._facility_item(i, d))
        return pd.Series(counts)

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
        owner, hit, dist = _pairs(shapely.STRtree(kept), kept, points, rows, radius)
        order = np.lexsort((hit, dist, owner))
        owner, hit, dist = owner[order], keep[hit[order]], dist[order]
        out["ocorrencias"] = _counts(owner, n, located)
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

    def _road_columns(self, out: pd.DataFrame, edge: np.ndarray, paths: np.ndarray) -> None:
        n = len(out)
        snapped = edge >= 0
        at = edge[snapped]
        roads = self.roads

        def column(values: np.ndarray, dtype: Any, fill: Any) -> pd.Series:
            series = pd.Series(pd.array([fill] * n, dtype=dtype))
            series[snapped] = values
            return series

        out["intermediacao"] = column(self.betweenness[at], "float64", np.nan)
        out["intermediacao_percentil"] = column(self.betweenness_percentile[at], "float64", np.nan)
        u, v = roads["u"].to_numpy()[at], roads["v"].to_numpy()[at]
        deg_u = self._degree.reindex(u, fill_value=0).to_numpy()
        deg_v = self._degree.reindex(v, fill_value=0).to_numpy()
        out["via_de_passagem"] = column((deg_u >= 2) & (deg_v >= 2), "boolean", pd.NA)
        blank = pd.Series([""] * len(at), dtype=object)
        surface = _text(roads["surface"].iloc[at]) if "surface" in roads else _text(blank)
        highway = _text(roads["highway"].iloc[at]) if "highway" in roads else _text(blank)
        # a few distinct values: each one's tokens are looked at once
        surfaces, surface_at = np.unique(surface.astype(str), return_inverse=True)
        highways, highway_at = np.unique(highway.astype(str), return_inverse=True)
        unpaved_surface = np.array([bool(_tokens(v) & UNPAVED_SURFACES) for v in surfaces], bool)
        track = np.array(["track" in _tokens(v) for v in highways], bool)
        unpaved = unpaved_surface[surface_at] | track[highway_at] if len(at) else np.zeros(0, bool)
        out["superficie_via"] = column(surface.astype(str), "str", "")
        out["via_sem_pavimento"] = column(unpaved, "boolean", pd.NA)
        rural = (
            roads["rural"].astype("boolean").fillna(False).to_numpy(dtype=bool)[at]
            if "rural" in roads
            else np.zeros(len(at), dtype=bool)
        )
        out["via_rural"] = column(rural, "boolean", pd.NA)

        mean, peak = self._path_slopes(paths)
        source = np.where(np.isfinite(mean), "mde", "")
        if "declividade_pct" in roads:
            edge_slope = np.full(n, np.nan)
            edge_slope[snapped] = pd.to_numeric(roads["declividade_pct"], errors="coerce").to_numpy(
                dtype="float64"
            )[at]
            fallback = ~np.isfinite(mean) & np.isfinite(edge_slope)
            mean = np.where(fallback, edge_slope, mean)
            peak = np.where(fallback, edge_slope, peak)
            source = np.where(fallback, "aresta", source)
        out["declividade_media_pct"] = np.round(mean, 2)
        out["declividade_max_pct"] = np.round(peak, 2)
        out["declividade_fonte"] = pd.Series(source, dtype=str)

    def _path_slopes(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Length-weighted mean and maximum slope (%) along each path, from the DEM."""
        n = len(paths)
        mean, peak = np.full(n, np.nan), np.full(n, np.nan)
        has = np.flatnonzero(~shapely.is_missing(paths))
        if self.dem is None or len(has) == 0:
            return mean, peak
        parts, which = shapely.get_parts(paths[has], return_index=True)
        owner = has[which]
        lines = np.isin(shapely.get_type_id(parts), (1, 2)) & (shapely.length(parts) > 0)
        parts, owner = parts[lines], owner[lines]
        if len(parts) == 0:
            return mean, peak
        length = shapely.length(parts)
        segments = np.maximum(1, np.ceil(length / self._slope_step)).astype(np.int64)
        part_of = np.repeat(np.arange(len(parts)), segments + 1)
        first = np.cumsum(segments + 1) - (segments + 1)
        step_no = np.arange(len(part_of)) - first[part_of]
        along = step_no * (length / segments)[part_of]
        samples = shapely.line_interpolate_point(parts[part_of], along)
        elev = dem_mod.sample_elevation(
            self.dem, shapely.get_x(samples), shapely.get_y(samples), str(self.crs)
        )
        same = part_of[1:] == part_of[:-1]
        rise = np.abs(np.diff(elev))[same]
        run = np.diff(along)[same]
        who = owner[part_of[1:][same]]
        ok = np.isfinite(rise) & (run > 0)
        rise, run, who = rise[ok], run[ok], who[ok]
        total_run = np.bincount(who, weights=run, minlength=n)
        total_rise = np.bincount(who, weights=rise, minlength=n)
        covered = total_run > 0
        mean[covered] = 100 * total_rise[covered] / total_run[covered]
        np.fmax.at(peak, who, 100 * rise / run)
        return mean, peak
