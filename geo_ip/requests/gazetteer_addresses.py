"""Address points of the geocoding gazetteer: reading, indexing, interpolating numbers.

Address points come from the territory's OSM buildings (``addr:*``) and, when given, an
IBGE CNEFE file. :func:`index_addresses` attaches them to the streets and clusters of
:func:`geo_ip.requests.gazetteer_build.build_streets` and indexes them by ``(cluster,
number)`` and by position along the street; :func:`number_position` finds a number's
position between the known ones.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.requests.address import (
    normalize_bairro,
    normalize_cep,
    normalize_number,
    normalize_street,
    street_core,
)
from geo_ip.requests.gazetteer_build import (
    bairro_tree,
    bairros_of,
    most_common,
    safe_layer,
    transformer,
)
from geo_ip.requests.gazetteer_match import NameIndex
from geo_ip.territory.reader import TerritoryLike

log = logging.getLogger(__name__)

CNEFE_MAX_NV_GEO = 3
"""CNEFE coordinates used: ``NV_GEO_COORD`` 1–3 (address level); 4–6 (block face,
locality, tract) are too coarse for an address."""
ADDRESS_MAX_DIST_M = 150.0
"""Address points farther than this from every piece of their street are not used."""
EXTRAPOLATION_MAX_FRACTION = 0.25
"""A number outside the known range of its street (same parity when possible) is
extrapolated, with the slope of that whole range, only when its distance (in numbers)
to the nearest known one is at most this fraction of the range, and the position stays
on the street; otherwise the street's mid-point is used."""

NumberLine = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Known numbers of one cluster, sorted: (numbers, part of each, position along the part)."""


# --- reading ---------------------------------------------------------------------------------


def _address_frame(
    logradouro: pd.Series,
    numero: pd.Series,
    cep: pd.Series,
    bairro: pd.Series,
    xy: tuple[np.ndarray, np.ndarray],
    fonte: str,
) -> pd.DataFrame:
    """Normalised address points: logradouro, chave, numero, cep, bairro, x, y, fonte."""
    keys: dict[Any, str] = {}
    for raw in logradouro.dropna().unique():
        t, n = normalize_street(str(raw))
        keys[raw] = f"{t} {n}" if t and n else n
    nums = {raw: normalize_number(raw)[0] for raw in numero.dropna().unique()}
    ceps = {raw: normalize_cep(raw) for raw in cep.dropna().unique()}
    bairros = {raw: normalize_bairro(raw) for raw in bairro.dropna().unique()}
    return pd.DataFrame(
        {
            "logradouro": logradouro.to_numpy(),
            "chave": logradouro.map(keys).fillna("").to_numpy(),
            "numero": numero.map(nums).astype("Float64").to_numpy(),
            "cep": cep.map(ceps).to_numpy(),
            "bairro": bairro.map(bairros).to_numpy(),
            "x": xy[0],
            "y": xy[1],
            "fonte": fonte,
        }
    )


def osm_address_points(path: TerritoryLike) -> pd.DataFrame:
    """Address points (street, number, x, y) of the territory's OSM buildings."""
    edif = safe_layer(path, "edificacoes")
    if edif is None or "logradouro" not in edif.columns:
        return pd.DataFrame()
    edif = edif[edif["logradouro"].notna() & edif.geometry.notna()]
    if not len(edif):
        return pd.DataFrame()

    def col(name: str) -> pd.Series:
        return edif[name] if name in edif.columns else pd.Series(None, index=edif.index)

    xy = (edif.geometry.x.to_numpy(), edif.geometry.y.to_numpy())
    return _address_frame(edif["logradouro"], col("numero"), col("cep"), col("bairro"), xy, "osm")


def cnefe_address_points(cnefe: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """Address points of a CNEFE table with precise coordinates, in ``crs``."""
    good = cnefe[cnefe["nv_geo_coord"].fillna(99) <= CNEFE_MAX_NV_GEO]
    if not len(good):
        return pd.DataFrame()
    lon, lat = good.geometry.x.to_numpy(), good.geometry.y.to_numpy()
    x, y = transformer("EPSG:4674", crs).transform(lon, lat)
    numero = good["numero"].astype("float64")
    xy = (np.asarray(x), np.asarray(y))
    return _address_frame(good["logradouro"], numero, good["cep"], good["localidade"], xy, "cnefe")


# --- indexing --------------------------------------------------------------------------------


@dataclass
class AddressIndex:
    """Streets and clusters completed by the address points, and the number indexes."""

    streets: pd.DataFrame
    clusters: gpd.GeoDataFrame
    exact: dict[tuple[int, int], tuple[float, float, str]] = field(default_factory=dict)
    """Position (x, y) and source of each (cluster, number) with an address point."""
    interp: dict[int, NumberLine] = field(default_factory=dict)
    """Known numbers along each line cluster, for :func:`number_position`."""
    cluster_ceps: dict[int, frozenset[str]] = field(default_factory=dict)
    """CEPs of the address points of each cluster."""


def index_addresses(
    points: pd.DataFrame,
    streets: pd.DataFrame,
    clusters: gpd.GeoDataFrame,
    bairros: gpd.GeoDataFrame,
    parts: tuple[np.ndarray, np.ndarray],
    crs: str,
) -> AddressIndex:
    """Attach address points to streets and clusters; build the number indexes.

    Parameters
    ----------
    points : pandas.DataFrame
        Address points (:func:`osm_address_points`, :func:`cnefe_address_points`).
    streets : pandas.DataFrame
        Street table (:func:`geo_ip.requests.gazetteer_build.build_streets`).
    clusters : GeoDataFrame
        Cluster table (:func:`geo_ip.requests.gazetteer_build.build_streets`).
    bairros : GeoDataFrame
        Bairro table (:func:`geo_ip.requests.gazetteer_build.build_bairros`).
    parts : tuple of numpy.ndarray
        The clusters' parts (continuous lines) and the cluster of each part.
    crs : str
        CRS of the tables.

    Returns
    -------
    AddressIndex
        The tables with the streets absent from the road network (one point-only
        cluster each, at the median of its points) added, and the indexes of the
        points: exact (OSM first, then CNEFE overwrites: the official source wins),
        by position along the street, and CEPs. Points farther than
        :data:`ADDRESS_MAX_DIST_M` from their street are not used.
    """
    pts = points[points["chave"] != ""].reset_index(drop=True)
    names = NameIndex(streets, bairros)
    streets, link = _link_streets(pts, streets, names)
    pts["rua"] = pts["chave"].map(link).astype("int64")
    _nearest_clusters(pts, clusters)
    far = (pts["cluster"] >= 0) & (pts["d"] > ADDRESS_MAX_DIST_M)
    if far.any():
        log.info(
            "geocodificador: %d endereço(s) a mais de %.0f m do seu logradouro ignorados",
            int(far.sum()),
            ADDRESS_MAX_DIST_M,
        )
    tree = bairro_tree(bairros)
    if (pts["cluster"] < 0).any():
        clusters = _point_clusters(pts, clusters, tree, crs)
    pts = pts[~far].reset_index(drop=True)
    if tree is None and len(bairros):
        # no bairro areas: a street is in the bairros its address points declare
        clusters["bairros"] = _declared_bairros(pts, names.bairro_index, clusters["bairros"])
    numbered = pts[pts["numero"].notna()].copy()
    numbered["numero"] = numbered["numero"].astype("int64")
    line_pts = numbered[numbered["cluster"].map(clusters["linha"]).astype(bool)]
    return AddressIndex(
        streets,
        clusters,
        exact=_exact_index(numbered),
        interp=_interpolation_index(line_pts, *parts) if len(line_pts) else {},
        cluster_ceps=_cep_index(pts),
    )


def _link_streets(
    pts: pd.DataFrame, streets: pd.DataFrame, names: NameIndex
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Street id of each key of the points; streets absent from the network are added."""
    keys = pd.Series(pts["chave"].unique())
    link = {k: names.key_index[k] for k in keys if k in names.key_index}
    rest = [k for k in keys if k not in link]
    if rest:
        tipos = [normalize_street(k) for k in rest]
        matches = names.match_streets([(k, t, n) for k, (t, n) in zip(rest, tipos, strict=True)])
        for k, m in zip(rest, matches, strict=True):
            if len(m.ids) == 1:
                link[k] = m.ids[0]
    # addresses of streets absent from the road network: their own "streets"
    orphans = [k for k in keys if k not in link]
    if orphans:
        first = len(streets)
        shown = pts[pts["chave"].isin(orphans)].groupby("chave")["logradouro"].agg(most_common)
        extra = pd.DataFrame({"chave": orphans, "nome_exibicao": shown[orphans].to_numpy()})
        tn = [normalize_street(k) for k in orphans]
        extra["tipo"] = [t for t, _ in tn]
        extra["nome"] = [n for _, n in tn]
        extra["nucleo"] = [street_core(n) for _, n in tn]
        streets = pd.concat([streets, extra], ignore_index=True)
        for i, k in enumerate(orphans):
            link[k] = first + i
    return streets, link


def _nearest_clusters(pts: pd.DataFrame, clusters: gpd.GeoDataFrame) -> None:
    """Set ``cluster`` (-1: none) and ``d`` of each point: nearest cluster of its street."""
    geom = np.asarray(shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy()))
    cl = clusters[["rua"]].reset_index(names="cluster")
    pairs = pts[["rua"]].reset_index(names="ponto").merge(cl, on="rua")
    pairs["d"] = shapely.distance(
        geom[pairs["ponto"].to_numpy()],
        clusters.geometry.to_numpy()[pairs["cluster"].to_numpy()],
    )
    best = pairs.sort_values("d").drop_duplicates("ponto").set_index("ponto")
    pts["cluster"] = best["cluster"].reindex(pts.index).fillna(-1).astype("int64")
    pts["d"] = best["d"].reindex(pts.index)


def _point_clusters(
    pts: pd.DataFrame, clusters: gpd.GeoDataFrame, tree: shapely.STRtree | None, crs: str
) -> gpd.GeoDataFrame:
    """Add one point-only cluster per street without any (``pts["cluster"]`` set in place)."""
    orphan_pts = pts[pts["cluster"] < 0]
    grouped = orphan_pts.groupby("rua")[["x", "y"]].median()
    spread = np.hypot(
        orphan_pts["x"].to_numpy() - grouped["x"].reindex(orphan_pts["rua"]).to_numpy(),
        orphan_pts["y"].to_numpy() - grouped["y"].reindex(orphan_pts["rua"]).to_numpy(),
    )
    # a street known by its address points alone: as long as they spread
    extent = 2 * pd.Series(spread).groupby(orphan_pts["rua"].to_numpy()).max()
    first = len(clusters)
    new = gpd.GeoDataFrame(
        {
            "rua": grouped.index.to_numpy(),
            "comprimento": extent.reindex(grouped.index).to_numpy(np.float64),
            "mx": grouped["x"].to_numpy(),
            "my": grouped["y"].to_numpy(),
            "linha": False,
        },
        geometry=shapely.points(grouped["x"].to_numpy(), grouped["y"].to_numpy()),
        crs=crs,
    )
    new["bairros"] = [(b,) if b >= 0 else () for b in bairros_of(tree, new.geometry)]
    clusters = pd.concat([clusters, new], ignore_index=True)
    remap = dict(zip(grouped.index, range(first, first + len(grouped)), strict=True))
    pts.loc[pts["cluster"] < 0, "cluster"] = orphan_pts["rua"].map(remap)
    return clusters


def _declared_bairros(
    pts: pd.DataFrame, bairro_index: dict[str, int], old: pd.Series
) -> list[tuple[int, ...]]:
    """Bairros of each cluster, with those its address points declare."""
    bid = pts["bairro"].map(bairro_index)
    known = pts.assign(b=bid)[bid.notna()]
    declared: dict[int, set[int]] = defaultdict(set)
    for c, b in zip(known["cluster"], known["b"], strict=True):
        declared[int(c)].add(int(b))
    return [tuple(sorted(set(bs) | declared.get(c, set()))) for c, bs in enumerate(old)]


def _exact_index(numbered: pd.DataFrame) -> dict[tuple[int, int], tuple[float, float, str]]:
    """Median position of each (cluster, number): OSM first, then CNEFE overwrites."""
    exact: dict[tuple[int, int], tuple[float, float, str]] = {}
    for fonte in ("osm", "cnefe"):
        sub = numbered[numbered["fonte"] == fonte]
        if not len(sub):
            continue
        med = sub.groupby(["cluster", "numero"])[["x", "y"]].median()
        med = med.reset_index()
        for c, n, x, y in zip(med["cluster"], med["numero"], med["x"], med["y"], strict=True):
            exact[(int(c), int(n))] = (float(x), float(y), fonte)
    return exact


def _cep_index(pts: pd.DataFrame) -> dict[int, frozenset[str]]:
    """CEPs of the address points of each cluster."""
    ceps: dict[int, set[str]] = defaultdict(set)
    with_cep = pts.dropna(subset=["cep"])
    for c, cep in zip(with_cep["cluster"], with_cep["cep"], strict=True):
        ceps[int(c)].add(str(cep))
    return {c: frozenset(v) for c, v in ceps.items()}


def _interpolation_index(
    line_pts: pd.DataFrame, part_geoms: np.ndarray, part_cluster: np.ndarray
) -> dict[int, NumberLine]:
    """Position of each number along the nearest part of its (line) cluster."""
    parts = pd.DataFrame({"cluster": part_cluster}).reset_index(names="parte")
    pp = line_pts[["cluster"]].reset_index(names="ponto").merge(parts, on="cluster")
    pgeom = np.asarray(shapely.points(line_pts["x"].to_numpy(), line_pts["y"].to_numpy()))
    row_of = pd.Series(np.arange(len(line_pts)), index=line_pts.index)
    prow = row_of[pp["ponto"].to_numpy()].to_numpy()
    pp["d"] = shapely.distance(pgeom[prow], part_geoms[pp["parte"].to_numpy()])
    best = pp.sort_values("d").drop_duplicates("ponto").set_index("ponto")
    line_pts = line_pts.assign(parte=best["parte"].reindex(line_pts.index).to_numpy())
    line_pts["s"] = shapely.line_locate_point(
        part_geoms[line_pts["parte"].to_numpy()],
        shapely.points(line_pts["x"].to_numpy(), line_pts["y"].to_numpy()),
    )
    agg = line_pts.groupby(["cluster", "parte", "numero"])["s"].median().reset_index()
    agg = agg.sort_values(["cluster", "numero"])
    interp: dict[int, NumberLine] = {}
    for c in agg["cluster"].unique():
        g = agg[agg["cluster"] == c]
        interp[int(c)] = (
            g["numero"].to_numpy(np.int64),
            g["parte"].to_numpy(np.int64),
            g["s"].to_numpy(np.float64),
        )
    return interp


# --- interpolating ---------------------------------------------------------------------------


def number_position(
    known: NumberLine | None, part_geoms: np.ndarray, numero: int
) -> tuple[int, float, str, tuple[float, float]] | None:
    """Position of ``numero`` along a cluster, from the numbers known on it.

    On each part (continuous line) of the street, the nearest known lower and
    higher numbers of the same parity are used (any parity when the same
    side has no bracket); beyond the known range the range's slope
    extrapolates, when close enough (:data:`EXTRAPOLATION_MAX_FRACTION`) and
    the position stays on the line. The narrowest bracket wins.

    Parameters
    ----------
    known : tuple of numpy.ndarray or None
        The cluster's entry of :attr:`AddressIndex.interp` (None: no known number).
    part_geoms : numpy.ndarray
        The lines of every part of the gazetteer.
    numero : int
        The house number.

    Returns
    -------
    tuple or None
        (part, position along it, description, span), or None when the number
        cannot be placed. ``span`` is the stretch of the part (positions from, to)
        where the number may be: between the two known numbers that bracket it, or
        from the nearest known one to the extrapolated position.
    """
    if known is None:
        return None
    nums, parts, pos = known
    best: tuple[float, int, float, str, tuple[float, float]] | None = None
    for part in np.unique(parts):
        sel = parts == part
        pn, ps = nums[sel], pos[sel]
        same = pn % 2 == numero % 2
        for mask in (same, np.ones_like(same)):
            found = _bracket(pn[mask], ps[mask], numero)
            if found is None:
                continue
            n1, n2, s1, s2, between = found
            s = s1 + (numero - n1) / (n2 - n1) * (s2 - s1)
            if not 0.0 <= s <= float(shapely.length(part_geoms[part])):
                continue
            cost = abs(n2 - n1) + (0.0 if between else 1e9)
            if best is None or cost < best[0]:
                text = (
                    f"interpolado entre os números {n1} e {n2}"
                    if between
                    else f"extrapolado a partir dos números {n1} e {n2}"
                )
                if between:
                    span = (min(s1, s2), max(s1, s2))
                else:
                    nearest = s1 if abs(numero - n1) < abs(numero - n2) else s2
                    span = (min(nearest, s), max(nearest, s))
                best = (cost, int(part), s, text, span)
            break
    return None if best is None else (best[1], best[2], best[3], best[4])


def _bracket(
    nums: np.ndarray, pos: np.ndarray, numero: int
) -> tuple[int, int, float, float, bool] | None:
    """Known numbers around ``numero`` (sorted ``nums``): (n1, n2, s1, s2, between) or None."""
    if len(nums) < 2:
        return None
    lo, hi = np.flatnonzero(nums < numero), np.flatnonzero(nums > numero)
    if len(lo) and len(hi):
        a, b, between = lo[-1], hi[0], True
    elif len(lo) >= 2:  # above the known range: slope over the whole range
        a, b, between = lo[0], lo[-1], False
    elif len(hi) >= 2:  # below it
        a, b, between = hi[0], hi[-1], False
    else:
        return None
    n1, n2, s1, s2 = int(nums[a]), int(nums[b]), float(pos[a]), float(pos[b])
    if n1 == n2 or s1 == s2:
        return None
    if not between and min(abs(numero - n1), abs(numero - n2)) > (
        EXTRAPOLATION_MAX_FRACTION * abs(n2 - n1)
    ):
        return None
    return n1, n2, s1, s2, between
