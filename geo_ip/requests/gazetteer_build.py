"""Build steps of the geocoding gazetteer: streets, clusters and bairros.

The address points are read and indexed by :mod:`geo_ip.requests.gazetteer_addresses`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip.errors import TerritoryError
from geo_ip.requests.address import normalize_bairro, normalize_street, street_core
from geo_ip.sources.osm import JOIN
from geo_ip.territory.reader import TerritoryLike, read_layer

log = logging.getLogger(__name__)

SAME_STREET_GAP_M = 100.0
"""Disconnected pieces of a street name closer than this are always the same street."""
CLUSTER_GAP_M = 1000.0
"""Pieces closer than this are the same street when they share a bairro (or no bairro
data exists); farther pieces, or pieces in different bairros, are different streets."""
BAIRRO_POINTS_QUANTILE = 0.9
"""Share of a bairro's address points within its ``raio`` when it has no mapped area."""
_NAME_SPLIT = re.compile(r"\s*" + re.escape(JOIN.strip()) + r"\s*|;")


def safe_layer(path: TerritoryLike, layer: str) -> gpd.GeoDataFrame | None:
    """Read a territory layer, or ``None`` when it is missing or unreadable."""
    try:
        gdf = read_layer(path, layer)
    except TerritoryError:
        return None
    return gdf if len(gdf) else None


def most_common(values: pd.Series) -> str:
    """Return the most frequent value (``""`` for none)."""
    counts = values.value_counts()
    return str(counts.index[0]) if len(counts) else ""


_TRANSFORMERS: dict[tuple[str, str], Transformer] = {}


def transformer(src: str, dst: str) -> Transformer:
    """Return a cached always-xy :class:`pyproj.Transformer` from ``src`` to ``dst``."""
    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def build_bairros(path: TerritoryLike, crs: str) -> gpd.GeoDataFrame:
    """Bairro table: ``nome``, ``chave``, point geometry, ``area``, ``fonte`` and ``raio``.

    ``raio`` (metres) is the bairro's size for the geocoder's uncertainty: NaN here for
    bairros with an area (the gazetteer measures it against the road network), the
    distance from the median within which :data:`BAIRRO_POINTS_QUANTILE` of the
    address points lie for bairros known only from ``edificacoes``.

    Sources, in order: ``bairros_area`` polygons (points from ``bairros`` when
    inside, else a representative point) and, beside them, the bairros mapped only
    as ``bairros`` points, each with its Voronoi cell (nearest bairro point) less the
    polygons as area; without polygons, the ``bairros`` points with their Voronoi
    cells; without either, the ``bairro`` field of
    ``edificacoes`` (median of its address points, no area: streets then get
    their bairros from their own address points).
    """
    points = safe_layer(path, "bairros")
    areas = safe_layer(path, "bairros_area")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(nome: Any, geom: Any, area: Any, fonte: str, raio: float = np.nan) -> None:
        key = normalize_bairro(nome)
        if key and key not in seen and geom is not None and not geom.is_empty:
            seen.add(key)
            rows.append(
                {"nome": str(nome).strip(), "chave": key, "geometry": geom, "area": area}
                | {"fonte": fonte, "raio": raio}
            )

    if areas is not None:
        inside: dict[str | None, Any] = {}
        if points is not None:
            for nome, geom in zip(points["nome"], points.geometry, strict=True):
                inside.setdefault(normalize_bairro(nome), geom)
        for nome, area in zip(areas["nome"], areas.geometry, strict=True):
            if area is None or area.is_empty:
                continue
            point = inside.get(normalize_bairro(nome))
            if point is None or not area.contains(point):
                point = area.representative_point()
            add(nome, point, area, "bairros_area")
        mapped = len(rows)
        if points is not None:  # bairros mapped only as points, beside the areas
            for nome, geom in zip(points["nome"], points.geometry, strict=True):
                add(nome, geom, None, "bairros")
        if len(rows) > mapped:
            _voronoi_areas(rows, first=mapped)
    elif points is not None:
        for nome, geom in zip(points["nome"], points.geometry, strict=True):
            add(nome, geom, None, "bairros")
        _voronoi_areas(rows, first=0)
    else:
        edif = safe_layer(path, "edificacoes")
        if edif is not None and "bairro" in edif.columns:
            edif = edif[edif["bairro"].notna() & edif.geometry.notna()]
            edif = edif.assign(
                chave=edif["bairro"].map(normalize_bairro), x=edif.geometry.x, y=edif.geometry.y
            )
            for _key, g in edif[edif["chave"].notna()].groupby("chave"):
                cx, cy = g["x"].median(), g["y"].median()
                spread = np.hypot(g["x"].to_numpy() - cx, g["y"].to_numpy() - cy)
                add(
                    most_common(g["bairro"]),
                    shapely.Point(cx, cy),
                    None,
                    "edificacoes",
                    float(np.quantile(spread, BAIRRO_POINTS_QUANTILE)),
                )
    return gpd.GeoDataFrame(
        {
            "nome": [r["nome"] for r in rows],
            "chave": [r["chave"] for r in rows],
            "area": np.array([r["area"] for r in rows], dtype=object),
            "fonte": [r["fonte"] for r in rows],
            "raio": np.array([r["raio"] for r in rows], dtype=np.float64),
        },
        geometry=[r["geometry"] for r in rows],
        crs=crs,
    )


def _voronoi_areas(rows: list[dict[str, Any]], first: int) -> None:
    """Give ``rows[first:]`` (bairros known by a point) their Voronoi cell as area.

    The cells are those of every bairro's point (nearest bairro point), less the areas
    of the bairros mapped as areas (``rows[:first]``); with a single point and no area
    the bairro has no cell.
    """
    if len(rows) < 2:
        return
    multi = shapely.multipoints([r["geometry"] for r in rows])
    extent = shapely.buffer(shapely.envelope(multi), 50_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(multi, extend_to=extent, ordered=True))
    taken = shapely.union_all([r["area"] for r in rows[:first]]) if first else None
    for r, cell in zip(rows[first:], cells[first:], strict=True):
        if taken is not None:
            cell = shapely.difference(cell, taken)
        r["area"] = None if cell.is_empty else cell


def bairro_tree(bairros: gpd.GeoDataFrame) -> shapely.STRtree | None:
    """Spatial index of the bairro areas (:func:`build_bairros`); ``None`` without any area."""
    areas = bairros["area"].to_numpy()
    if len(areas) and not shapely.is_missing(areas).all():
        return shapely.STRtree(areas)
    return None


def bairros_of(tree: shapely.STRtree | None, points: Any) -> np.ndarray:
    """Bairro index containing each point (nearest area when none does); -1 without data.

    Parameters
    ----------
    tree : shapely.STRtree or None
        The bairro areas (:func:`bairro_tree`).
    points : array-like of shapely.Point
        Points in the bairros' CRS.

    Returns
    -------
    numpy.ndarray
        One bairro row per point; -1 for every point when ``tree`` is None.
    """
    geoms = np.asarray(points)
    out = np.full(len(geoms), -1, dtype=np.int64)
    if tree is None or not len(geoms):
        return out
    inside = tree.query(geoms, predicate="within")
    out[inside[0]] = inside[1]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        near = tree.query_nearest(geoms[missing], return_distance=False)
        out[missing[near[0]]] = near[1]
    return out


def build_streets(
    vias: gpd.GeoDataFrame, bairros: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Normalise edge names and group edges into streets and clusters.

    Parameters
    ----------
    vias : GeoDataFrame
        The territory's ``vias`` layer (``u``, ``v``, ``name``, line geometry).
    bairros : GeoDataFrame
        Bairro table (:func:`build_bairros`).

    Returns
    -------
    streets : pandas.DataFrame
        One row per normalised name: ``chave``, ``tipo``, ``nome``, ``nucleo``,
        ``nome_exibicao`` (the most common spelling).
    clusters : GeoDataFrame
        One row per physical street (connected pieces of one name, merged when close,
        see :data:`SAME_STREET_GAP_M` and :data:`CLUSTER_GAP_M`): ``rua``,
        ``comprimento``, mid-point ``mx``/``my``, ``linha``, ``bairros``.
    part_geoms, part_cluster : numpy.ndarray
        The continuous lines of the clusters and the cluster of each.
    """
    edges = _named_edges(vias)
    edges["rua"], chaves = pd.factorize(edges["chave"])
    first = edges.drop_duplicates("rua").set_index("rua").sort_index()
    streets = pd.DataFrame(
        {
            "chave": list(chaves),
            "tipo": first["tipo"].to_numpy(),
            "nome": first["nome"].to_numpy(),
            "nucleo": [street_core(n) for n in first["nome"]],
            "nome_exibicao": edges.groupby("rua")["raw"].agg(most_common).sort_index().to_numpy(),
        }
    )
    streets["tipo"] = streets["tipo"].where(streets["tipo"].notna(), None)
    if not len(edges):
        empty = gpd.GeoDataFrame(
            {"rua": [], "comprimento": [], "mx": [], "my": [], "linha": [], "bairros": []},
            geometry=[],
            crs=vias.crs,
        )
        return streets, empty, np.array([], dtype=object), np.array([], dtype=np.int64)
    piece_geom, piece_street = _pieces(edges)
    clusters, part_geoms, part_cluster = _clusters(
        piece_geom, piece_street, _piece_bairros(piece_geom, bairros), vias.crs
    )
    return streets, clusters, part_geoms, part_cluster


def _named_edges(vias: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per edge and name it carries (``raw``, ``tipo``, ``nome``, ``chave``)."""
    named = vias[vias["name"].notna()][["u", "v", "name", "geometry"]]
    names = named["name"].astype(str).str.split(_NAME_SPLIT)
    edges = named.assign(raw=names).explode("raw")
    edges["raw"] = edges["raw"].str.strip()
    edges = edges[edges["raw"] != ""]
    unique = pd.Series(edges["raw"].unique())
    parts = {n: normalize_street(n) for n in unique}
    edges["tipo"] = edges["raw"].map(lambda n: parts[n][0])
    edges["nome"] = edges["raw"].map(lambda n: parts[n][1])
    edges = edges[edges["nome"] != ""]
    # A territory built before names split the edges (geo_ip.sources.osm._simplify) may hold
    # edges merged across a change of name ("Rua A / Avenida B"): such an edge is left
    # out of a street that continues it with an edge of its own name alone (its point
    # then lies on that street), and kept where it is all there is of the street there.
    edges = edges.reset_index(drop=False, names="_aresta")
    shared = edges["_aresta"].duplicated(keep=False).to_numpy()
    edges["chave"] = [
        f"{t} {n}" if isinstance(t, str) else n
        for t, n in zip(edges["tipo"], edges["nome"], strict=True)
    ]
    own = edges[~shared]
    own_ends = pd.MultiIndex.from_arrays(
        [np.r_[own["chave"], own["chave"]], np.r_[own["u"], own["v"]]]
    )
    continued = pd.MultiIndex.from_arrays([edges["chave"], edges["u"]]).isin(
        own_ends
    ) | pd.MultiIndex.from_arrays([edges["chave"], edges["v"]]).isin(own_ends)
    edges = edges[~(shared & continued)].drop(columns="_aresta")
    # both directions of a two-way street are two edges: keep one
    lo = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    hi = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    length = np.round(shapely.length(edges.geometry.to_numpy()), 1)
    edges = edges.assign(_lo=lo, _hi=hi, _len=length)
    return edges.drop_duplicates(["chave", "_lo", "_hi", "_len"]).reset_index(drop=True)


def _pieces(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the connected pieces of each street (edges sharing a node) and their street."""
    n = len(edges)
    nodes = pd.MultiIndex.from_arrays(
        [np.r_[edges["rua"], edges["rua"]], np.r_[edges["u"], edges["v"]]]
    )
    codes, uniq = pd.factorize(nodes)
    graph = coo_matrix((np.ones(n), (codes[:n], codes[n:])), shape=(len(uniq), len(uniq)))
    _, node_label = connected_components(graph, directed=False)
    edges["peca"] = node_label[codes[:n]]
    edges["peca"] = pd.factorize(edges["peca"])[0]
    order = np.argsort(edges["peca"].to_numpy(), kind="stable")
    piece_geom = np.asarray(
        shapely.line_merge(
            shapely.multilinestrings(
                edges.geometry.to_numpy()[order], indices=edges["peca"].to_numpy()[order]
            )
        )
    )
    piece_street = edges.groupby("peca")["rua"].first().sort_index().to_numpy()
    return piece_geom, piece_street


def _piece_bairros(piece_geom: np.ndarray, bairros: gpd.GeoDataFrame) -> list[set[int]]:
    """Bairros each piece crosses (every piece in the only bairro when there is one)."""
    n_pieces = len(piece_geom)
    area_list = bairros["area"].to_numpy() if len(bairros) else np.array([], dtype=object)
    has_areas = len(area_list) and not shapely.is_missing(area_list).all()
    piece_bairros: list[set[int]] = [set() for _ in range(n_pieces)]
    if has_areas:
        tree = shapely.STRtree(area_list)
        hit = tree.query(piece_geom, predicate="intersects")
        for p, b in zip(hit[0], hit[1], strict=True):
            piece_bairros[p].add(int(b))
    elif len(bairros) == 1:
        piece_bairros = [{0} for _ in range(n_pieces)]
    return piece_bairros


def _clusters(
    piece_geom: np.ndarray, piece_street: np.ndarray, piece_bairros: list[set[int]], crs: Any
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Merge pieces of one street into clusters (same physical street); split them in parts."""
    n_pieces = len(piece_geom)
    tree = shapely.STRtree(piece_geom)
    a, b = tree.query(piece_geom, predicate="dwithin", distance=CLUSTER_GAP_M)
    keep = (a < b) & (piece_street[a] == piece_street[b])
    a, b = a[keep], b[keep]
    dist = shapely.distance(piece_geom[a], piece_geom[b])
    share = np.array(
        [
            not piece_bairros[i]
            or not piece_bairros[j]
            or bool(piece_bairros[i] & piece_bairros[j])
            for i, j in zip(a, b, strict=True)
        ],
        dtype=bool,
    )
    merge = (dist <= SAME_STREET_GAP_M) | share
    link = coo_matrix((np.ones(int(merge.sum())), (a[merge], b[merge])), shape=(n_pieces, n_pieces))
    _, piece_cluster = connected_components(link, directed=False)
    piece_cluster = pd.factorize(piece_cluster)[0]
    order = np.argsort(piece_cluster, kind="stable")
    cluster_geom = np.asarray(
        shapely.line_merge(
            shapely.multilinestrings(
                shapely.get_parts(piece_geom[order]),
                indices=np.repeat(
                    piece_cluster[order], shapely.get_num_geometries(piece_geom[order])
                ),
            )
        )
    )
    n_clusters = len(cluster_geom)
    cluster_street = np.zeros(n_clusters, dtype=np.int64)
    cluster_street[piece_cluster] = piece_street
    cluster_bairros: list[set[int]] = [set() for _ in range(n_clusters)]
    for p, c in enumerate(piece_cluster):
        cluster_bairros[c] |= piece_bairros[p]
    mid = shapely.line_interpolate_point(cluster_geom, 0.5, normalized=True)
    clusters = gpd.GeoDataFrame(
        {
            "rua": cluster_street,
            "comprimento": shapely.length(cluster_geom),
            "mx": shapely.get_x(mid),
            "my": shapely.get_y(mid),
            "linha": True,
            "bairros": [tuple(sorted(s)) for s in cluster_bairros],
        },
        geometry=cluster_geom,
        crs=crs,
    )
    part_geoms, part_cluster = shapely.get_parts(cluster_geom, return_index=True)
    return clusters, part_geoms, part_cluster.astype(np.int64)
