"""The final edges of the simplified road graph on arrays (for :mod:`geo_ip.sources.osm_arrays`).

After :mod:`geo_ip.sources.osm_topology` has found the raw edges and the chains that
merge them, :func:`edge_keys` numbers the parallel edges and drops those inside a
chain, :func:`edge_lines` draws and measures them, :func:`attributes` normalises
their tags as :func:`geo_ip.sources.osm._normalise_edge` does, and
:func:`street_count` counts the streets at each node, as osmnx does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from geo_ip.sources.osm import _GEOD, joined, most_important
from geo_ip.sources.osm_topology import (
    PRECISION,
    TAGS,
    BoolArray,
    Chains,
    FloatArray,
    IntArray,
    ObjArray,
    WayEdges,
    ranges,
    unique,
)

__all__ = ["attributes", "edge_keys", "edge_lines", "street_count"]


def edge_keys(
    edges: WayEdges, found: Chains, n: int
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Keys of the final edges: the raw edges first (their keys come first), then the chains.

    Parameters
    ----------
    edges : WayEdges
        The raw edges.
    found : Chains
        As :func:`chains` returns them.
    n : int
        Number of nodes.

    Returns
    -------
    keys : ndarray of int64
        Parallel-edge key of every raw edge, then of every chain.
    raw_keep, chain_keep : ndarray of int64
        The raw edges and the chains that stay (no end inside a chain).
    removed : ndarray of bool
        The nodes inside a chain.
    """
    removed = found.removed(n)
    all_src = np.concatenate([edges.src, found.src])
    all_dst = np.concatenate([edges.dst, found.dst])
    pair_key = all_src * n + all_dst
    by_pair = np.argsort(pair_key, kind="stable")
    sorted_key = pair_key[by_pair]
    group_start = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
    run = np.arange(len(sorted_key)) - np.repeat(
        group_start, np.diff(np.r_[group_start, len(sorted_key)])
    )
    keys = np.empty(len(pair_key), dtype=np.int64)
    keys[by_pair] = run
    keep = ~removed[all_src] & ~removed[all_dst]
    n_raw = len(edges.src)
    return keys, np.flatnonzero(keep[:n_raw]), np.flatnonzero(keep[n_raw:]), removed


def edge_lines(
    edges: WayEdges,
    found: Chains,
    raw_keep: IntArray,
    chain_keep: IntArray,
    node_xy: tuple[IntArray, IntArray],
) -> tuple[ObjArray, FloatArray]:
    """Geometry and geodesic length of the final edges.

    Parameters
    ----------
    edges : WayEdges
        The raw edges: those kept are straight.
    found : Chains
        The chains: those kept go through their nodes.
    raw_keep, chain_keep : ndarray of int64
        As :func:`edge_keys` returns them.
    node_xy : tuple of ndarray of int64
        Fixed-point longitude and latitude of every node row.

    Returns
    -------
    geometry : ndarray of shapely.LineString
        Lon/lat lines, the raw edges first.
    length : ndarray of float64
        WGS84 geodesic length (m).
    """
    c_len = np.diff(found.node_ptr)[chain_keep]
    point_nodes = np.concatenate(
        [np.column_stack([edges.src[raw_keep], edges.dst[raw_keep]]).ravel(),
         found.nodes[ranges(found.node_ptr[chain_keep], c_len)]]
    )  # fmt: skip
    counts = np.concatenate([np.full(len(raw_keep), 2), c_len])
    line_of_point = np.repeat(np.arange(len(counts)), counts)
    lon = node_xy[0][point_nodes] / PRECISION
    lat = node_xy[1][point_nodes] / PRECISION
    geometry = np.asarray(
        shapely.linestrings(np.column_stack([lon, lat]), indices=line_of_point), dtype=object
    )
    same = line_of_point[1:] == line_of_point[:-1]
    _, _, dist = _GEOD.inv(lon[:-1][same], lat[:-1][same], lon[1:][same], lat[1:][same])
    length = np.bincount(line_of_point[:-1][same], weights=dist, minlength=len(counts)).astype(
        np.float64
    )
    return geometry, length


def attributes(
    *,
    edges: WayEdges,
    found: Chains,
    raw_keep: IntArray,
    chain_keep: IntArray,
    way_id: IntArray,
    is_oneway: BoolArray,
    tag: dict[str, ObjArray],
    rank: dict[str, int],
) -> dict[str, Any]:
    """Edge attributes normalised as :func:`geo_ip.sources.osm._normalise_edge` does.

    Parameters
    ----------
    edges : WayEdges
        The raw edges.
    found : Chains
        The chains.
    raw_keep, chain_keep : ndarray of int64
        As :func:`edge_keys` returns them.
    way_id : ndarray of int64
        OSM id of each way (by rank).
    is_oneway : ndarray of bool
        As :func:`oneway_flags` returns it.
    tag : dict of str to ndarray of object
        The tags of each way (by rank).
    rank : dict of str to int
        :func:`geo_ip.sources.osm.highway_rank` of the graph filter.

    Returns
    -------
    dict
        ``oneway``, ``reversed``, ``osmid`` and the tag columns of :data:`TAGS`, one
        value per final edge (the raw edges first).
    """
    raw_way = edges.way[raw_keep]
    n_chain = len(chain_keep)
    c_start, c_stop = found.edge_ptr[:-1][chain_keep], found.edge_ptr[1:][chain_keep]
    c_len = c_stop - c_start
    step_edge = found.edges[ranges(c_start, c_len)]
    step_chain = np.repeat(np.arange(n_chain), c_len)
    step_way = edges.way[step_edge]
    # all() over the merged segments
    oneway_c = np.ones(n_chain, dtype=bool)
    np.logical_and.at(oneway_c, step_chain, is_oneway[step_way])
    rev_c = np.ones(n_chain, dtype=bool)
    np.logical_and.at(rev_c, step_chain, edges.rev[step_edge])

    # the distinct ways of each chain; most chains follow a single way
    pairs = unique(step_chain * (len(way_id) + 1) + step_way)
    p_chain, p_way = pairs // (len(way_id) + 1), pairs % (len(way_id) + 1)
    single = np.bincount(p_chain, minlength=n_chain) == 1
    chain_way = np.zeros(n_chain, dtype=np.int64)
    first_of = np.searchsorted(p_chain, np.arange(n_chain))
    chain_way[single] = p_way[first_of[single]]

    edge_way = np.concatenate([raw_way, chain_way])
    out: dict[str, Any] = {
        "oneway": np.concatenate([is_oneway[raw_way], oneway_c]),
        "reversed": np.concatenate([edges.rev[raw_keep], rev_c]),
    }
    osmid = np.asarray(way_id[edge_way], dtype=object)
    columns = {key: tag[key][edge_way] for key in TAGS}
    multi = np.flatnonzero(~single)
    bounds = np.searchsorted(p_chain, np.r_[multi, multi + 1].reshape(2, -1))
    for chain, lo, hi in zip(multi.tolist(), bounds[0].tolist(), bounds[1].tolist(), strict=True):
        members = p_way[lo:hi]
        i = len(raw_way) + chain
        osmid[i] = sorted(int(x) for x in way_id[members])
        highways = (h for h in tag["highway"][members] if h is not None)
        columns["highway"][i] = most_important(highways, rank)
        for key in TAGS:
            if key != "highway":
                columns[key][i] = joined(v for v in tag[key][members] if v is not None)
    out["osmid"] = osmid
    out.update(columns)
    return out


def street_count(u_row: IntArray, v_row: IntArray, n: int) -> IntArray:
    """Streets per node as osmnx counts them: undirected segments, self-loops once.

    Parameters
    ----------
    u_row, v_row : ndarray of int64
        Ends of the final edges, as node rows.
    n : int
        Number of nodes.

    Returns
    -------
    ndarray of int64
        osmnx's ``count_streets_per_node`` of each node.
    """
    loop = u_row == v_row
    counts = np.zeros(n, dtype=np.int64)
    # a self-looping node: +2, however many loops
    counts[unique(u_row[loop])] += 2
    a, b = u_row[~loop], v_row[~loop]
    # per unordered pair: keys of u->v and v->u merge, so max of the two counts
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    forward = a == lo
    key = lo * n + hi
    pairs, inverse = np.unique(key, return_inverse=True)
    k_fwd = np.bincount(inverse[forward], minlength=len(pairs))
    k_back = np.bincount(inverse[~forward], minlength=len(pairs))
    streets = np.maximum(k_fwd, k_back)
    np.add.at(counts, pairs // n, streets)
    np.add.at(counts, pairs % n, streets)
    return counts
