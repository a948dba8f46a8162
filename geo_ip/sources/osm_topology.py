"""osmnx's graph simplification on flat arrays: the kernels of :mod:`geo_ip.sources.osm_arrays`.

Each step takes and returns numpy arrays (node rows, way ranks, edge indices); the
rules they reproduce are listed in the docstring of :mod:`geo_ip.sources.osm_arrays`.
In order: :func:`located_nodes` and :func:`way_sequences` (the ways' located,
de-duplicated nodes), :func:`oneway_flags` and :func:`directed_edges` (the raw
edges in osmnx's insertion order), :func:`endpoints` (osmnx's strict rules) and
:func:`chains` (the paths merged into one edge). :mod:`geo_ip.sources.osm_edges`
then makes the final edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip.sources.osm import USEFUL_TAGS_WAY

__all__ = [
    "PRECISION",
    "TAGS",
    "UNDEFINED",
    "Chains",
    "RawWays",
    "WayEdges",
    "chains",
    "directed_edges",
    "endpoints",
    "located_nodes",
    "oneway_flags",
    "ranges",
    "unique",
    "way_sequences",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

UNDEFINED = 2147483647
"""libosmium's fixed-point coordinate of a node reference without a location."""
PRECISION = 10_000_000
"""libosmium's fixed-point coordinates per degree."""
_ONEWAY = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
"""``oneway`` values osmnx reads as one-way (``osmnx.graph._add_paths``)."""
_REVERSED = frozenset({"-1", "reverse", "T"})
"""``oneway`` values osmnx reads as one-way against the node order."""
TAGS = tuple(key for key in USEFUL_TAGS_WAY if key != "oneway")
"""Edge tag columns (``oneway`` becomes osmnx's boolean)."""


@dataclass
class RawWays:
    """The accepted ways of an OSM file and their node references, as read."""

    way_id: IntArray
    """(W,) accepted ways, file order."""
    way_tags: dict[str, list[str | None]]
    """Tag -> value per way."""
    way_ptr: IntArray
    """(W + 1,) into ``ref``."""
    ref: IntArray
    """(R,) node ids."""
    x: IntArray
    """(R,) fixed-point longitude (:data:`UNDEFINED` when unknown)."""
    y: IntArray
    """(R,) fixed-point latitude."""


@dataclass
class WayEdges:
    """The raw (unsimplified) directed edges, in osmnx's insertion order."""

    src: IntArray
    """Node row of each edge's start."""
    dst: IntArray
    """Node row of each edge's end."""
    way: IntArray
    """Rank (in id order) of the way of each edge."""
    rev: BoolArray
    """True for the backward edge of a two-way way."""


@dataclass
class Chains:
    """Paths from an endpoint through interior nodes to the next endpoint (see :func:`chains`)."""

    nodes: IntArray
    """Node rows of every chain, one after the other (``node_ptr`` delimits them)."""
    edges: IntArray
    """The raw edge of every step (``edge_ptr`` delimits the chains)."""
    node_ptr: IntArray
    edge_ptr: IntArray

    @property
    def src(self) -> IntArray:
        """First node of each chain."""
        return self.nodes[self.node_ptr[:-1]]

    @property
    def dst(self) -> IntArray:
        """Last node of each chain."""
        return self.nodes[self.node_ptr[1:] - 1]

    def removed(self, n: int) -> BoolArray:
        """Whether each of ``n`` nodes is inside a chain (it disappears from the graph).

        Parameters
        ----------
        n : int
            Number of nodes.

        Returns
        -------
        ndarray of bool
            True for the inner nodes of the chains.
        """
        removed = np.zeros(n, dtype=bool)
        inner = np.ones(len(self.nodes), dtype=bool)
        inner[self.node_ptr[:-1]] = False
        inner[self.node_ptr[1:] - 1] = False
        removed[self.nodes[inner]] = True
        return removed


def unique(values: IntArray) -> IntArray:
    """Return the sorted distinct values, by sorting.

    numpy 2.3+'s hash-based ``np.unique`` is several times slower on millions of
    int64 keys.

    Parameters
    ----------
    values : ndarray of int64
        Any values.

    Returns
    -------
    ndarray of int64
        Sorted, each once.
    """
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    fresh = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    return ordered[fresh]


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n``.

    Parameters
    ----------
    starts, lengths : ndarray of int64
        One start and one length per range.

    Returns
    -------
    ndarray of int64
        The ranges, one after the other.
    """
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _segments(ptr: IntArray) -> IntArray:
    """Segment number of each element of a CSR-like pointer array."""
    return np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))


def located_nodes(raw: RawWays) -> tuple[IntArray, IntArray, IntArray]:
    """Return every located node of an accepted way, even if its way adds no edge.

    Parameters
    ----------
    raw : RawWays
        The ways read.

    Returns
    -------
    node_id : ndarray of int64
        Sorted OSM node ids (the node rows of the other steps).
    x, y : ndarray of int64
        Their fixed-point coordinates.
    """
    located = raw.x != UNDEFINED
    node_id, first_ref = np.unique(raw.ref[located], return_index=True)
    return node_id, raw.x[located][first_ref], raw.y[located][first_ref]


def way_sequences(raw: RawWays, node_id: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Return the ways with an edge, in id order (osmnx's), and their located nodes.

    Parameters
    ----------
    raw : RawWays
        The ways read.
    node_id : ndarray of int64
        As :func:`located_nodes` returns it.

    Returns
    -------
    ways : ndarray of int64
        Index (into ``raw``) of each way with at least two located nodes, in id order;
        its position here is the way's *rank*.
    w : ndarray of int64
        Rank of the way of each node of the sequences.
    nodes : ndarray of int64
        Node row of each node of the sequences (consecutive repeats collapsed).
    """
    way_of_ref = _segments(raw.way_ptr)
    located = raw.x != UNDEFINED
    per_way = np.bincount(way_of_ref[located], minlength=len(raw.way_id))
    ways = np.flatnonzero(per_way >= 2)
    ways = ways[np.argsort(raw.way_id[ways], kind="stable")]
    rank_of_way = np.full(len(raw.way_id), -1, dtype=np.int64)
    rank_of_way[ways] = np.arange(len(ways))
    take = located & (rank_of_way[way_of_ref] >= 0)
    sel = np.flatnonzero(take)
    sel = sel[np.argsort(rank_of_way[way_of_ref[sel]], kind="stable")]
    w = rank_of_way[way_of_ref[sel]]
    nodes = np.searchsorted(node_id, raw.ref[sel])
    fresh = np.ones(len(sel), dtype=bool)
    fresh[1:] = (w[1:] != w[:-1]) | (nodes[1:] != nodes[:-1])
    return ways, w[fresh], nodes[fresh]


def oneway_flags(tag: dict[str, ObjArray]) -> tuple[BoolArray, BoolArray]:
    """Osmnx's one-way reading of each way (``oneway`` and ``junction=roundabout``).

    Parameters
    ----------
    tag : dict of str to ndarray of object
        The ways' ``oneway`` and ``junction`` values (None when absent).

    Returns
    -------
    is_oneway, is_reversed : ndarray of bool
        One-way; one-way against the node order (``oneway=-1``).
    """
    oneway_tag = tag["oneway"]
    count = len(oneway_tag)
    is_oneway = np.fromiter((v in _ONEWAY for v in oneway_tag), dtype=bool, count=count) | (
        tag["junction"] == "roundabout"
    )
    is_reversed = is_oneway & np.fromiter(
        (v in _REVERSED for v in oneway_tag), dtype=bool, count=count
    )
    return is_oneway, is_reversed


def directed_edges(
    w: IntArray, nodes: IntArray, is_oneway: BoolArray, is_reversed: BoolArray
) -> WayEdges:
    """Return the raw edges in osmnx's order: way by way, its forward edges, then back.

    Parameters
    ----------
    w, nodes : ndarray of int64
        As :func:`way_sequences` returns them.
    is_oneway, is_reversed : ndarray of bool
        As :func:`oneway_flags` returns them, per way rank.

    Returns
    -------
    WayEdges
        One edge per segment of a one-way way (along its reading), two for the others.
    """
    n_ways = len(is_oneway)
    # reverse the node order of one-way ways against their drawing
    ptr = np.zeros(n_ways + 1, dtype=np.int64)
    np.cumsum(np.bincount(w, minlength=n_ways), out=ptr[1:])
    pos = np.arange(len(w))
    flip = is_reversed[w]
    pos[flip] = ptr[w[flip]] + ptr[w[flip] + 1] - 1 - pos[flip]
    ordered = np.empty_like(nodes)
    ordered[pos] = nodes

    seg = np.flatnonzero(w[1:] == w[:-1])
    f_src, f_dst, f_way = ordered[seg], ordered[seg + 1], w[seg]
    back = ~is_oneway[f_way]
    src = np.concatenate([f_src, f_dst[back]])
    dst = np.concatenate([f_dst, f_src[back]])
    e_way = np.concatenate([f_way, f_way[back]])
    e_rev = np.concatenate([np.zeros(len(seg), bool), np.ones(int(back.sum()), bool)])
    e_seg = np.concatenate([seg, seg[back]])
    order = np.lexsort((e_seg, e_rev, e_way))
    return WayEdges(src[order], dst[order], e_way[order], e_rev[order])


def endpoints(
    edges: WayEdges, names: ObjArray, n: int
) -> tuple[BoolArray, BoolArray, IntArray, IntArray]:
    """Osmnx's strict endpoint rules, and its ``edge_attrs_differ=["name"]``.

    A node is an endpoint when it has a self-loop, no incoming or no outgoing edge,
    or not exactly two neighbours with 2 or 4 incident edges, or when the street
    name changes there (a missing name counts as a value of its own).

    Parameters
    ----------
    edges : WayEdges
        The raw edges.
    names : ndarray of object
        The ``name`` of each way (by rank).
    n : int
        Number of nodes.

    Returns
    -------
    endpoint : ndarray of bool
        Endpoint nodes.
    interior : ndarray of bool
        Nodes merged into a chain: not endpoints, in a component that has one
        (components without any endpoint, isolated rings, stay unsimplified).
    pair_a, pair_b : ndarray of int64
        The distinct neighbour pairs ``(a, b)``, sorted by ``a`` then ``b``.
    """
    src, dst = edges.src, edges.dst
    out_deg = np.bincount(src, minlength=n)
    in_deg = np.bincount(dst, minlength=n)
    pair = unique(np.concatenate([src, dst]) * n + np.concatenate([dst, src]))
    pair_a, pair_b = pair // n, pair % n
    neighbours = np.bincount(pair_a, minlength=n)
    self_loop = np.zeros(n, dtype=bool)
    self_loop[src[src == dst]] = True
    degree = in_deg + out_deg
    name_code = pd.factorize(pd.Series(names, dtype=object), use_na_sentinel=False)[0]
    at = np.concatenate([src, dst])
    code = np.tile(name_code[edges.way], 2)
    low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n, -1, dtype=np.int64)
    np.minimum.at(low, at, code)
    np.maximum.at(high, at, code)
    renamed = (high >= 0) & (low != high)
    endpoint = (
        self_loop
        | (out_deg == 0)
        | (in_deg == 0)
        | ~((neighbours == 2) & ((degree == 2) | (degree == 4)))
        | renamed
    )
    matrix = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    count, label = connected_components(matrix, directed=False)
    has_end = np.bincount(label[endpoint], minlength=count) > 0
    return endpoint, ~endpoint & has_end[label], pair_a, pair_b


def chains(
    edges: WayEdges,
    endpoint: BoolArray,
    interior: BoolArray,
    pair_a: IntArray,
    pair_b: IntArray,
    n: int,
) -> Chains:
    """Paths from an endpoint through interior nodes to the next endpoint (osmnx's).

    Parameters
    ----------
    edges : WayEdges
        The raw edges.
    endpoint, interior : ndarray of bool
        As :func:`endpoints` returns them.
    pair_a, pair_b : ndarray of int64
        As :func:`endpoints` returns them.
    n : int
        Number of nodes.

    Returns
    -------
    Chains
        Each chain's node sequence and the raw edge used for each step (of parallel
        segments, the first, as osmnx keeps it).
    """
    src, dst = edges.src, edges.dst
    # the first raw edge of each (u, v) pair touching an interior node: osmnx keeps one
    touches = interior[src] | interior[dst]
    cand = np.flatnonzero(touches)
    cand_key = src[cand] * n + dst[cand]
    uniq_key, first = np.unique(cand_key, return_index=True)
    prim = cand[first]  # raw edge index of each unique pair, by pair key
    # interior nodes have exactly two neighbours: the next step goes to the other one
    first_pair = np.searchsorted(pair_a, np.arange(n))
    padded = np.r_[pair_b, -1, -1]
    nb0, nb1 = padded[first_pair], padded[first_pair + 1]
    p_src, p_dst = src[prim], dst[prim]
    into = interior[p_dst]
    other = np.where(nb0[p_dst] == p_src, nb1[p_dst], nb0[p_dst])
    want = p_dst * n + other
    at = np.minimum(np.searchsorted(uniq_key, want), len(uniq_key) - 1)
    nxt = np.where(into & (uniq_key[at] == want) & (len(uniq_key) > 0), at, -1)

    starts = np.flatnonzero(endpoint[p_src] & into)
    c, e = _walk(starts, nxt, endpoint[p_dst], len(prim))
    edge_ptr = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(c, minlength=len(starts)), out=edge_ptr[1:])
    # nodes: each chain's first source, then every step's destination
    node_ptr = edge_ptr + np.arange(len(starts) + 1)
    chain_nodes = np.empty(node_ptr[-1], dtype=np.int64)
    first_node = np.zeros(node_ptr[-1], dtype=bool)
    first_node[node_ptr[:-1]] = True
    chain_nodes[first_node] = p_src[e[edge_ptr[:-1]]] if len(starts) else []
    chain_nodes[~first_node] = p_dst[e]
    return Chains(chain_nodes, prim[e], node_ptr, edge_ptr)


def _walk(
    starts: IntArray, nxt: IntArray, stops: BoolArray, n_pairs: int
) -> tuple[IntArray, IntArray]:
    """Follow every chain from its first pair to an endpoint, all chains at once.

    Returns the chain and the pair of every step, sorted by chain then step.
    """
    cur, chain = starts, np.arange(len(starts))
    steps_chain: list[IntArray] = []
    steps_edge: list[IntArray] = []
    steps_no: list[IntArray] = []
    step = 0
    while len(cur):
        steps_chain.append(chain)
        steps_edge.append(cur)
        steps_no.append(np.full(len(cur), step))
        go = ~stops[cur] & (nxt[cur] >= 0)
        cur, chain = nxt[cur[go]], chain[go]
        step += 1
        if step > n_pairs + 1:  # pragma: no cover - a chain cannot revisit an interior node
            raise RuntimeError("falha interna ao simplificar o grafo viário")
    if not steps_chain:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    c = np.concatenate(steps_chain)
    e = np.concatenate(steps_edge)
    s = np.concatenate(steps_no)
    order = np.lexsort((s, c))
    return c[order], e[order]
