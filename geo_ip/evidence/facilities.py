"""Facilities around each request: counts by criterion, names, and the evidence items.

The territory's ``equipamentos`` (with their footprints where mapped) are classified by
the layer catalog (public facility, vulnerable users, night generators, rural
production) and indexed once (:class:`Facilities`); the counts of every request are
then taken at once from the pairs within each radius.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.evidence.road import text_array
from geo_ip.sources.catalog import Catalog

__all__ = [
    "ACCESS_CATEGORIES",
    "BUS_STOP",
    "NAMED_COUNTS",
    "PRODUCTION_GROUP",
    "SAFETY_CATEGORIES",
    "Facilities",
    "counts",
    "pairs",
    "prepare_facilities",
]

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


def counts(owner: np.ndarray, n: int, located: np.ndarray) -> pd.Series:
    """Return ``Int64`` counts of ``owner`` per request, NA where not ``located``."""
    counts = pd.array(np.bincount(owner, minlength=n), dtype="Int64")
    counts[~located] = pd.NA
    return pd.Series(counts)


def pairs(
    tree: shapely.STRtree, geoms: np.ndarray, queries: np.ndarray, rows: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (request row, tree index, distance) for every pair within ``radius``."""
    if len(geoms) == 0 or len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    src, idx = tree.query(queries, predicate="dwithin", distance=radius)
    dist = shapely.distance(queries[src], geoms[idx])
    return rows[src], idx, dist


def prepare_facilities(
    facilities: gpd.GeoDataFrame | None,
    footprints: gpd.GeoDataFrame | None,
    catalog: Catalog,
    crs: Any,
) -> gpd.GeoDataFrame:
    """Return the facilities with their catalogue flags, label and footprint as geometry.

    Parameters
    ----------
    facilities, footprints : geopandas.GeoDataFrame or None
        The territory's ``equipamentos`` and ``equipamentos_pegada``, in ``crs``.
    catalog : Catalog
        Layer catalog (categories' flags and labels).
    crs : Any
        The territory's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_id``, ``categoria``, ``vulneravel``, ``equipamento_publico``,
        ``gerador_noturno``, ``producao``, ``nome``, ``rotulo`` and the geometry (the
        footprint when the facility has one).
    """
    columns = ["osm_id", "categoria", "vulneravel", "equipamento_publico", "gerador_noturno"]
    columns += ["producao", "nome", "rotulo"]
    if facilities is None or facilities.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)
    fac = facilities.reset_index(drop=True)
    geoms = np.asarray(fac.geometry.array, dtype=object)
    fac = fac[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))].reset_index(drop=True)
    cats = catalog.equipamentos.categorias
    categoria = text_array(fac["categoria"])
    out = pd.DataFrame(
        {
            "osm_id": text_array(fac["osm_id"]) if "osm_id" in fac else np.full(len(fac), ""),
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
    names = text_array(fac["nome"]) if "nome" in fac else np.full(len(fac), "")
    out["nome"] = names
    labels = [cats[c].rotulo if c in cats else c for c in categoria]
    out["rotulo"] = [n.strip() or lab for n, lab in zip(names, labels, strict=True)]
    geometry = np.asarray(fac.geometry.array, dtype=object).copy()
    if footprints is not None and not footprints.empty and "osm_id" in footprints:
        foot = footprints
        shapes = pd.Series(
            np.asarray(foot.geometry.array, dtype=object), index=text_array(foot["osm_id"])
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
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=crs))


class Facilities:
    """The facilities indexed once: geometries, spatial index and evidence records.

    Parameters
    ----------
    table : geopandas.GeoDataFrame
        From :func:`prepare_facilities`.
    """

    def __init__(self, table: gpd.GeoDataFrame) -> None:
        self.table = table
        self.geoms = np.asarray(table.geometry.array, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        records = table[["osm_id", "categoria", "nome"]].astype(str)
        self.records: list[dict[str, Any]] = records.to_dict("records")

    def columns(
        self,
        out: pd.DataFrame,
        evidence: list[dict[str, Any]],
        points: np.ndarray,
        rows: np.ndarray,
        located: np.ndarray,
        radii: tuple[float, float, float],
    ) -> None:
        """Add the facility counts and names; ``radii``: facilities, safety, production."""
        n = len(out)
        r_fac, r_safe, r_prod = radii
        owner, idx, dist = pairs(self.tree, self.geoms, points, rows, max(radii))
        order = np.lexsort((idx, dist, owner))
        owner, idx, dist = owner[order], idx[order], dist[order]
        fac = self.table
        categoria = fac["categoria"].to_numpy(dtype=object)[idx]
        vulneravel = fac["vulneravel"].to_numpy(dtype=bool)[idx]
        in_fac, in_safe = dist <= r_fac, dist <= r_safe

        public = in_fac & fac["equipamento_publico"].to_numpy(dtype=bool)[idx]
        out["equipamentos_proximos"] = counts(owner[public], n, located)
        out["equipamentos_nomes"] = self.names(owner[public], idx[public], n)
        safety_any = np.zeros(len(idx), dtype=bool)
        for column, cats in {**SAFETY_CATEGORIES, **ACCESS_CATEGORIES}.items():
            mask = in_safe & np.isin(categoria, cats)
            out[column] = counts(owner[mask], n, located)
            if column in NAMED_COUNTS:
                out[f"{column}_nomes"] = self.names(owner[mask], idx[mask], n)
            safety_any |= mask
        production = (dist <= r_prod) & fac["producao"].to_numpy(dtype=bool)[idx]
        out["producao_rural"] = counts(owner[production], n, located)
        out["producao_rural_nomes"] = self.names(owner[production], idx[production], n, tally=True)
        vulnerable = in_safe & vulneravel
        out["usuarios_vulneraveis"] = counts(owner[vulnerable], n, located)
        out["vulneraveis_nomes"] = self.names(owner[vulnerable], idx[vulnerable], n)
        night = in_safe & fac["gerador_noturno"].to_numpy(dtype=bool)[idx]
        out["geradores_noturnos"] = counts(owner[night], n, located)
        safety_any |= vulnerable | night
        for key, mask in (
            ("equipamentos", public),
            ("seguranca", safety_any),
            ("producao_rural", production),
        ):
            for o, i, d in zip(owner[mask], idx[mask], dist[mask], strict=True):
                evidence[o][key].append(self.item(i, d))

    def item(self, i: int, distance: float) -> dict[str, Any]:
        """Return the evidence item of facility ``i`` at ``distance`` metres."""
        return {**self.records[int(i)], "distancia_m": round(float(distance), 1)}

    def names(
        self, owner: np.ndarray, idx: np.ndarray, n: int, *, tally: bool = False
    ) -> pd.Series:
        """Return the labels joined with "; " per request, in the (distance) order of the pairs.

        With ``tally`` a label is given once, at its first (nearest) place, followed by
        `` (n)`` when it occurs ``n > 1`` times (unnamed farmland: "Lavoura (3)").
        """
        labels = self.table["rotulo"].to_numpy(dtype=object)[idx]
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

    def stops_along(
        self,
        evidence: list[dict[str, Any]],
        edge: np.ndarray,
        road_geoms: np.ndarray,
        radius: float,
    ) -> pd.Series:
        """Count the bus stops along each request's edge (Art. 9 §7, III), nearest first.

        Parameters
        ----------
        evidence : list of dict
            Per request, its evidence items (``paradas_onibus_via`` is appended to).
        edge : numpy.ndarray
            Row of the roads of each request's edge (-1 when not snapped).
        road_geoms : numpy.ndarray
            The roads' geometries.
        radius : float
            Rules ``distancia_parada_via_m``.

        Returns
        -------
        pandas.Series
            ``Int64`` counts, NA for requests not snapped.
        """
        n = len(edge)
        counts = pd.array(np.zeros(n, dtype=np.int64), dtype="Int64")
        counts[edge < 0] = pd.NA
        stops = np.flatnonzero(self.table["categoria"].to_numpy(dtype=object) == BUS_STOP)
        snapped = np.flatnonzero(edge >= 0)
        if len(stops) and len(snapped):
            stop_geoms = self.geoms[stops]
            tree = shapely.STRtree(stop_geoms)
            lines = road_geoms[edge[snapped]]
            owner, hit, dist = pairs(tree, stop_geoms, lines, snapped, radius)
            order = np.lexsort((hit, dist, owner))
            owner, hit, dist = owner[order], hit[order], dist[order]
            counts[snapped] = np.bincount(owner, minlength=n)[snapped]
            for o, i, d in zip(owner, stops[hit], dist, strict=True):
                evidence[o]["paradas_onibus_via"].append(self.item(i, d))
        return pd.Series(counts)
