"""Array kernels of :mod:`geo_ip.network.gridpath`: nearest geometry, path assembly, no loops.

Both give exactly what the straightforward code gives (same floats, same ties):

- :func:`nearest` is ``STRtree.query_nearest(all_matches=True)`` with the lowest tree
  index on ties, computed from ``dwithin`` queries and :func:`shapely.distance` in
  passes of growing radius: a pass of radius ``r`` finds every geometry within ``r``
  of a point, so it is exact for the points whose nearest geometry is within ``r``,
  and most points are settled by the first, small pass. GEOS's
  nearest search costs ~20 µs a point; this costs a few.
- :func:`assemble_paths` builds, for many requests at once, the coordinates of
  "grid element → attachment → along the shortest-path tree → the request", piece
  by piece as flat arrays (sub-lines of edges cut with the same interpolation as
  :func:`numpy.interp`), instead of one Python call per request.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FIRST_RADIUS_M = 16.0
"""Radius of the first pass of :func:`nearest` (most grid samples lie on a road)."""
_GROWTH = 8.0
"""Radius growth between passes when no maximum distance is given."""
_PASSES = 2
"""Box passes, without a maximum distance, before the remaining points fall back on GEOS's
nearest search (far points would meet too many boxes)."""
THREADED_ABOVE = 4096
"""Fewer points than this are searched in the calling thread (a thread's start costs more)."""


def _first_per_group(group: IntArray, *keys: npt.NDArray[np.generic]) -> IntArray:
    """Positions of the first row of each ``group`` value after sorting by ``keys``."""
    order = np.lexsort((*reversed(keys), group))
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    return order[first]


def _closest_per_group(group: IntArray, d: FloatArray, hit: IntArray) -> IntArray:
    """Row of the smallest ``d`` per run of ``group`` (sorted), lowest ``hit`` on ties."""
    if len(group) == 0:
        return np.zeros(0, "int64")
    if np.any(group[1:] < group[:-1]):
        return _first_per_group(group, d, hit)
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[start, len(group)])
    low = np.repeat(np.minimum.reduceat(d, start), size)
    best = np.where(d == low, hit, np.iinfo(np.int64).max)
    low_hit = np.repeat(np.minimum.reduceat(best, start), size)
    rows = np.flatnonzero((d == low) & (hit == low_hit))
    g = group[rows]  # a repeated (d, hit) pair of a group counts once
    return rows[np.r_[True, g[1:] != g[:-1]]]


def nearest(
    tree: shapely.STRtree,
    x: FloatArray,
    y: FloatArray,
    max_distance: float | None,
    *,
    first_radius: float = FIRST_RADIUS_M,
    points: npt.NDArray[np.object_] | None = None,
    bound: FloatArray | None = None,
    threads: int = 1,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Nearest tree geometry of each point ``(x, y)``, lowest tree index on ties.

    Parameters
    ----------
    tree : shapely.STRtree
        Index of the geometries.
    x, y : numpy.ndarray
        Point coordinates (finite).
    max_distance : float or None
        Points with no geometry within it (inclusive) are left out; None: no limit.
    first_radius : float, optional
        Radius of the first pass.
    points : numpy.ndarray of shapely.Point, optional
        The points themselves, when the caller has them already.
    bound : numpy.ndarray, optional
        Per point, a distance within which a geometry probably lies (inf: unknown),
        such as the length of a path from the point to one of them. Passes search no
        farther than it, and a last pass searches exactly that far. Only a hint:
        a point with nothing found within it goes on to the next pass, so a wrong
        bound costs time, never exactness.
    threads : int, optional
        Split the points among this many threads (GEOS runs without the GIL); each
        point's answer is the same whichever thread computes it.

    Returns
    -------
    point, geometry, distance : numpy.ndarray
        One row per point that has a nearest geometry, in point order: its
        position in ``x``, the tree index and the distance — the values of
        ``tree.query_nearest(points, max_distance=..., return_distance=True,
        all_matches=True)`` reduced to the lowest tree index per point.
    """
    n = len(x)
    if threads > 1 and n >= THREADED_ABOVE:
        cuts = np.linspace(0, n, min(threads, n // (THREADED_ABOVE // 2)) + 1).astype("int64")
        spans = list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))

        def part(span: tuple[int, int]) -> tuple[IntArray, IntArray, FloatArray]:
            lo, hi = span
            got = _nearest_points(
                tree, x[lo:hi], y[lo:hi], max_distance, first_radius,
                None if points is None else points[lo:hi],
                None if bound is None else bound[lo:hi],
            )  # fmt: skip
            return got[0] + lo, got[1], got[2]

        with ThreadPoolExecutor(len(spans), thread_name_prefix="geo_ip_proximo") as pool:
            parts = list(pool.map(part, spans))
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
    return _nearest_points(tree, x, y, max_distance, first_radius, points, bound)


def _nearest_points(
    tree: shapely.STRtree,
    x: FloatArray,
    y: FloatArray,
    max_distance: float | None,
    first_radius: float,
    points: npt.NDArray[np.object_] | None,
    bound: FloatArray | None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """:func:`nearest` in the calling thread."""
    geoms = np.asarray(tree.geometries, dtype=object)
    n = len(x)
    empty = np.zeros(0, "int64")
    if n == 0 or len(geoms) == 0:
        return empty, empty.copy(), np.zeros(0)
    if max_distance is None:
        radii = [first_radius * _GROWTH**k for k in range(_PASSES)]
    else:
        radii = [r for r in (first_radius, first_radius * _GROWTH) if r < max_distance]
        radii.append(float(max_distance))
    limit = np.full(n, np.inf) if bound is None else np.array(bound, dtype=float)
    if np.isfinite(limit).any():
        radii.append(math.inf)  # a last pass out to each point's bound
    searched = np.full(n, -1.0)  # radius of the point's last search (found nothing)
    pts: npt.NDArray[np.object_] = np.asarray(
        shapely.points(x, y) if points is None else points, dtype=object
    )
    pending = np.arange(n, dtype="int64")
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    for r in radii:
        radius = np.minimum(limit[pending], r)
        if max_distance is not None:
            radius = np.minimum(radius, max_distance)
        ask = np.isfinite(radius) & (radius > searched[pending])
        if not ask.any():
            continue
        rows, radius = pending[ask], radius[ask]
        # dwithin on a slightly larger radius: a superset, then the exact test on distance
        q, hit = tree.query(pts[rows], predicate="dwithin", distance=radius * (1 + 1e-9) + 1e-6)
        d = np.asarray(shapely.distance(pts[rows[q]], geoms[hit]), dtype=float)
        ok = d <= radius[q]
        q, hit, d = q[ok].astype("int64"), hit[ok].astype("int64"), d[ok]
        first = _closest_per_group(q, d, hit)
        found.append((rows[q[first]], hit[first], d[first]))
        settled = np.zeros(n, bool)
        settled[rows[q[first]]] = True
        missed = rows[~settled[rows]]
        searched[missed] = radius[~settled[rows]]
        limit[missed[limit[missed] <= searched[missed]]] = np.inf  # the hint was wrong
        pending = pending[~settled[pending]]
    if max_distance is None and pending.size:
        (src, hit), d = tree.query_nearest(pts[pending], return_distance=True, all_matches=True)
        src, hit = src.astype("int64"), hit.astype("int64")
        first = _first_per_group(src, hit)
        found.append((pending[src[first]], hit[first], d[first]))
    point = np.concatenate([f[0] for f in found]) if found else empty
    hit = np.concatenate([f[1] for f in found]) if found else empty.copy()
    dist = np.concatenate([f[2] for f in found]) if found else np.zeros(0)
    order = np.argsort(point, kind="stable")
    return point[order], hit[order], dist[order]


_TWIN_BLOCK = 131_072
"""Rows whose coordinates :func:`twin_groups` takes at a time (memory at state scale)."""


def _rounded_bits(geoms: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.uint64], IntArray]:
    """Coordinates rounded to the mm as 64-bit patterns, and the row of each."""
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    return np.round(xy, 3).view(np.uint64), owner


def _row_digests(geoms: npt.NDArray[np.object_]) -> tuple[IntArray, npt.NDArray[np.uint64]]:
    """Return the number of coordinates and the 64-bit hash of the rounded ones, per row.

    Taken :data:`_TWIN_BLOCK` rows at a time: each row's hash depends on its own
    coordinates only.
    """
    n = len(geoms)
    count = np.zeros(n, "int64")
    digest = np.zeros(n, np.uint64)
    for lo in range(0, n, _TWIN_BLOCK):
        part = geoms[lo : lo + _TWIN_BLOCK]
        bits, owner = _rounded_bits(part)
        c = np.bincount(owner, minlength=len(part))
        start = np.cumsum(c) - c
        k = (np.arange(len(owner)) - start[owner]).astype(np.uint64)
        with np.errstate(over="ignore"):
            mix = (bits[:, 0] * np.uint64(0x9E3779B97F4A7C15)) ^ (
                bits[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F)
            )
            mix = mix * (k * np.uint64(2) + np.uint64(0x165667B19E3779F9))
            np.add.at(digest[lo : lo + len(part)], owner, mix)
        count[lo : lo + len(part)] = c
    return count, digest


def twin_groups(lo: IntArray, hi: IntArray, geoms: npt.NDArray[np.object_]) -> IntArray:
    """Group the rows by (lo, hi, geometry rounded to the mm), in order of first appearance.

    The same numbers as ``groupby([lo, hi, to_wkb(transform(g, round 3))], sort=False)
    .ngroup()``, without writing every geometry out: rows are grouped on a 64-bit hash
    of their rounded coordinates, and every group is checked coordinate by coordinate
    (on a collision, the WKB grouping is used). Coordinates are taken a block of rows
    at a time.

    Parameters
    ----------
    lo, hi : numpy.ndarray
        End nodes of each row, lower first.
    geoms : numpy.ndarray of shapely geometries
        Oriented from ``lo`` to ``hi``.

    Returns
    -------
    numpy.ndarray
        Group number of each row.
    """
    n = len(lo)
    if n == 0:
        return np.zeros(0, "int64")
    count, digest = _row_digests(geoms)
    kind = shapely.get_type_id(geoms)
    keys = pd.DataFrame({"lo": lo, "hi": hi, "t": kind, "n": count, "h": digest})
    group = keys.groupby(["lo", "hi", "t", "n", "h"], sort=False).ngroup().to_numpy("int64")
    del keys
    # check: every row has exactly the coordinates of its group's first row
    _, first = np.unique(group, return_index=True)
    lead = first[group]
    other = np.flatnonzero(lead != np.arange(n))  # rows that are not their group's first
    same = bool((count[other] == count[lead[other]]).all())
    for at in range(0, len(other), _TWIN_BLOCK) if same else ():
        rows = other[at : at + _TWIN_BLOCK]
        if not np.array_equal(_rounded_bits(geoms[rows])[0], _rounded_bits(geoms[lead[rows]])[0]):
            same = False
            break
    if not same:
        rounded = shapely.to_wkb(shapely.transform(geoms, lambda c: np.round(c, 3)))
        wkb = pd.DataFrame({"lo": lo, "hi": hi, "g": rounded})
        group = wkb.groupby(["lo", "hi", "g"], sort=False).ngroup().to_numpy("int64")
    return np.asarray(group, dtype="int64")


@dataclass(frozen=True)
class EdgeArrays:
    """Vertices of the undirected edges as flat arrays (see :class:`GridNetwork`)."""

    xy: FloatArray  # (V, 2) vertices of every edge, edge after edge
    off: IntArray  # (E + 1,) first vertex of each edge
    cum: FloatArray  # (V,) distance from the edge's first vertex
    length: FloatArray  # (E,)
    a: IntArray  # (E,) first node
    b: IntArray  # (E,) last node


@dataclass(frozen=True)
class _Pieces:
    """Pieces of paths: ``owner`` request, ``rank`` in its path, sub-line of ``edge``."""

    owner: IntArray
    rank: IntArray
    edge: IntArray
    start: FloatArray
    end: FloatArray


def _expand(edges: EdgeArrays, edge: IntArray) -> tuple[IntArray, IntArray]:
    """(piece, vertex) for every vertex of each piece's edge, pieces in order."""
    count = edges.off[edge + 1] - edges.off[edge]
    piece = np.repeat(np.arange(len(edge), dtype="int64"), count)
    first = np.cumsum(count) - count
    vertex = edges.off[edge][piece] + (np.arange(len(piece), dtype="int64") - first[piece])
    return piece, vertex


def _interp(edges: EdgeArrays, edge: IntArray, at: FloatArray) -> FloatArray:
    """``np.interp(at, cum, xy)`` on each edge, bit for bit (see numpy's ``arr_interp``)."""
    piece, vertex = _expand(edges, edge)
    below = edges.cum[vertex] <= at[piece]
    j = np.bincount(piece, weights=below, minlength=len(edge)).astype("int64") - 1
    lo = edges.off[edge]
    last = edges.off[edge + 1] - 1
    out = np.empty((len(edge), 2))
    before = j < 0
    out[before] = edges.xy[lo[before]]
    k = lo + np.maximum(j, 0)
    at_last = ~before & (k >= last)
    out[at_last] = edges.xy[last[at_last]]
    exact = ~before & ~at_last & (edges.cum[k] == at)
    out[exact] = edges.xy[k[exact]]
    rest = ~before & ~at_last & ~exact
    kr = k[rest]
    dx = edges.cum[kr + 1] - edges.cum[kr]
    slope = (edges.xy[kr + 1] - edges.xy[kr]) / dx[:, None]
    out[rest] = slope * (at[rest] - edges.cum[kr])[:, None] + edges.xy[kr]
    return out


def _piece_vertices(edges: EdgeArrays, p: _Pieces) -> tuple[IntArray, FloatArray]:
    """Vertices of every piece, in path order: (piece, coordinates).

    A piece is the part of its edge between positions ``start`` and ``end``: the
    interpolated ends and the inner vertices strictly between, reversed when
    ``end < start`` (as :meth:`GridNetwork._partial`).
    """
    lo, hi = np.minimum(p.start, p.end), np.maximum(p.start, p.end)
    ends_lo, ends_hi = _interp(edges, p.edge, lo), _interp(edges, p.edge, hi)
    piece, vertex = _expand(edges, p.edge)
    cum = edges.cum[vertex]
    inner = (cum > lo[piece]) & (cum < hi[piece])
    piece, vertex = piece[inner], vertex[inner]
    k = len(p.edge)
    # position inside the piece: 0 = low end, 1.. inner vertices, last = high end
    inner_count = np.bincount(piece, minlength=k)
    first_inner = np.cumsum(inner_count) - inner_count
    pos_inner = 1 + np.arange(len(piece), dtype="int64") - first_inner[piece]
    size = inner_count + 2
    which = np.r_[np.arange(k), piece, np.arange(k)]
    pos = np.r_[np.zeros(k, "int64"), pos_inner, size - 1]
    xy = np.vstack([ends_lo, edges.xy[vertex], ends_hi])
    backwards = p.end < p.start
    pos = np.where(backwards[which], size[which] - 1 - pos, pos)
    order = np.lexsort((pos, which))
    return which[order], xy[order]


def assemble_paths(
    edges: EdgeArrays,
    sample_xy: FloatArray,
    sample_edge: IntArray,
    sample_pos: FloatArray,
    pred: IntArray,
    pred_edge: IntArray,
    *,
    via: BoolArray,
    node: IntArray,
    edge: IntArray,
    t: FloatArray,
    end: FloatArray,
    sample: IntArray,
) -> tuple[IntArray, FloatArray]:
    """Vertices of the paths of many requests on one shortest-path forest.

    Parameters
    ----------
    edges : EdgeArrays
        The road edges.
    sample_xy, sample_edge, sample_pos : numpy.ndarray
        Attached grid samples: position, edge and position along it.
    pred, pred_edge : numpy.ndarray
        The forest: predecessor node and edge of each node (-1 at roots).
    via : numpy.ndarray of bool
        Per request: reached through a node of its edge (else on its own edge).
    node : numpy.ndarray
        That node (ignored where ``via`` is False).
    edge, t : numpy.ndarray
        The request's edge and position along it.
    end : numpy.ndarray
        Position of ``node`` on the request's edge (0 or its length).
    sample : numpy.ndarray
        The grid sample the path starts from.

    Returns
    -------
    owner, xy : numpy.ndarray
        Request number (0..k-1) and coordinates of every vertex, in path order
        (consecutive repeats not removed).
    """
    k = len(edge)
    requests = np.arange(k, dtype="int64")
    owner_chain, step_chain, child, root = _walk_up(pred, via, node)
    # leaving the element: towards the request (same edge) or the end of the edge that is
    # the root (the 'a' end when it is both ends and the element is in its first half)
    q = sample
    e0 = sample_edge[q]
    s0 = sample_pos[q]
    r = np.maximum(root, 0)
    via_a = (edges.a[e0] == r) & ((edges.b[e0] != r) | (s0 <= edges.length[e0] / 2))
    to0 = np.where(via, np.where(via_a, 0.0, edges.length[e0]), t)
    n_chain = np.bincount(owner_chain, minlength=k)
    chain_rank = 2 + (n_chain[owner_chain] - 1 - step_chain)
    cp, cv, cpos = _chain_vertices(edges, pred_edge[child] if child.size else child, child)
    # cut pieces: from the attachment along its edge, and the last stretch to the request
    vr = requests[via]
    cut = _Pieces(
        owner=np.r_[requests, vr],
        rank=np.r_[np.ones(k, "int64"), 2 + n_chain[via]],
        edge=np.r_[e0, edge[via]],
        start=np.r_[s0, end[via]],
        end=np.r_[to0, t[via]],
    )
    which, xy = _piece_vertices(edges, cut)
    owner = np.r_[requests, cut.owner[which], owner_chain[cp]]
    rank = np.r_[np.zeros(k, "int64"), cut.rank[which], chain_rank[cp]]
    pos = np.r_[np.zeros(k, "int64"), _rank_within(which), cpos]
    coords = np.vstack([sample_xy[q], xy, edges.xy[cv]])
    order = np.lexsort((pos, rank, owner))
    return owner[order], coords[order]


def _walk_up(
    pred: IntArray, via: BoolArray, node: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Walk up the forest from the node of every request reached through one, all at once.

    Returns, for every step of every walk, the request, the step (0 at the request's
    node) and the node left (the child of its predecessor); and the root each request's
    walk ends at (-1 for the requests not reached through a node).
    """
    walkers = np.arange(len(via), dtype="int64")[via]
    cur = node[via].astype("int64")
    steps: list[tuple[IntArray, IntArray, IntArray]] = []
    depth = 0
    root = np.where(via, node, -1).astype("int64")
    while walkers.size:
        up = pred[cur]
        going = up >= 0
        steps.append((walkers[going], np.full(int(going.sum()), depth, "int64"), cur[going]))
        root[walkers[~going]] = cur[~going]
        walkers, cur = walkers[going], up[going]
        depth += 1
    owner_chain = np.concatenate([s[0] for s in steps]) if steps else np.zeros(0, "int64")
    step_chain = np.concatenate([s[1] for s in steps]) if steps else np.zeros(0, "int64")
    child = np.concatenate([s[2] for s in steps]) if steps else np.zeros(0, "int64")
    return owner_chain, step_chain, child, root


def _chain_vertices(
    edges: EdgeArrays, chain_edge: IntArray, child: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Vertices of the chain edges, each as stored, in the order that ends at its child.

    Returns the chain step of each vertex, the vertex (index in ``edges.xy``) and its
    position along the way from the predecessor to the child.
    """
    forward = edges.b[chain_edge] == child
    cp, cv = _expand(edges, chain_edge)
    cpos = cv - edges.off[chain_edge][cp]
    csize = (edges.off[chain_edge + 1] - edges.off[chain_edge])[cp]
    return cp, cv, np.where(forward[cp], cpos, csize - 1 - cpos)


def _rank_within(group: IntArray) -> IntArray:
    """0, 1, 2, ... within runs of equal values of a sorted ``group``."""
    if not len(group):
        return np.zeros(0, "int64")
    start = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(group)), 0))
    return (np.arange(len(group)) - first).astype("int64")
