"""Sampled edge betweenness of the road network, computed with igraph.

The road network is taken as undirected and length-weighted; igraph's C core
(``Graph.edge_betweenness`` with ``sources``) does the shortest paths and the
Brandes accumulation from a random sample of source nodes, and this module only
builds the graph from the ``vias`` table, draws the sources and rescales the
result to networkx's normalisation.
"""

from __future__ import annotations

import logging

import igraph as ig
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo_ip._parallel import cores, start

__all__ = [
    "METADATA_KEY",
    "PARALLEL_ABOVE_EDGES",
    "STORED_COLUMNS",
    "add_betweenness",
    "betweenness_record",
    "edge_betweenness",
    "stored_betweenness",
]

log = logging.getLogger("geo_ip")

PARALLEL_ABOVE_EDGES = 50_000
"""Networks with more undirected edges than this (beyond a municipality's size) have the
sources split in two halves, counted on both cores and added (igraph holds the GIL)."""

STORED_COLUMNS = ("intermediacao", "intermediacao_percentil")
"""Columns of the territory's ``vias`` layer holding the betweenness computed at build
time (:func:`edge_betweenness` per row), so that every assessment reads it instead of
recomputing it: it depends on the road network only."""
METADATA_KEY = "intermediacao"
"""Key of the territory metadata recording how the stored betweenness was computed."""

_MIN_EDGE_LENGTH_M = 1e-3
"""Zero-length edges get this length: igraph needs positive weights, and shortest
paths stay strictly ordered."""


def _source_counts(
    graph: ig.Graph, weights: npt.NDArray[np.float64], sources: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Count, per edge, the shortest paths from ``sources`` (igraph; ties split evenly)."""
    counts = graph.edge_betweenness(
        directed=False, weights=weights.tolist(), sources=sources.tolist(), targets=None
    )
    return np.asarray(counts, dtype="float64")


def _counts_in_worker(
    shared: tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64]],
    sources: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """:func:`_source_counts` on the graph rebuilt in a worker process."""
    n, edges, weights = shared
    return _source_counts(ig.Graph(n=n, edges=edges, directed=False), weights, sources)


def _halves(
    n: int,
    edges: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    graph: ig.Graph,
) -> npt.NDArray[np.float64]:
    """Add the counts of the first half of ``sources`` to those of the second half.

    The second half runs in a worker process when there are two cores; the sum is the
    same either way (a failed worker's half is counted here).
    """
    first, second = sources[: len(sources) // 2], sources[len(sources) // 2 :]
    if cores() < 2:
        return _source_counts(graph, weights, first) + _source_counts(graph, weights, second)
    running = start(
        "geo_ip._betweenness._counts_in_worker", (n, edges, weights), [second],
        what="intermediação",
    )  # fmt: skip
    mine = _source_counts(graph, weights, first)
    (theirs,) = running.collect()
    if theirs is None:
        theirs = _source_counts(graph, weights, second)
    return mine + np.asarray(theirs, dtype="float64")


def edge_betweenness(
    roads: pd.DataFrame, *, sample: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Compute the sampled edge betweenness of the road network and its percentile rank.

    The network is taken as undirected and length-weighted: one edge per pair of
    nodes (the shortest of parallel ways; the two directions of a two-way street are
    one edge), self-loops and edges without a finite length left out (they lie on no
    shortest path, value 0). Nodes are numbered in ascending id order and ``sample``
    of them are drawn as sources with ``numpy.random.default_rng(seed).choice(n,
    sample, replace=False)`` (every node when ``sample`` ≥ the number of nodes ``n``:
    the exact betweenness). igraph's ``Graph.edge_betweenness(directed=False,
    weights=length, sources=...)`` gives, per edge, the number of shortest paths from
    the sources to every node that use it (ties split evenly), each unordered pair
    counted once; the value returned is that count × 2 / (k × (n − 1)) for k sources,
    which is networkx's normalisation: equal to
    ``edge_betweenness_centrality_subset(G, sources, G.nodes, normalized=True,
    weight="length") × n / k``, hence to ``edge_betweenness_centrality(G,
    normalized=True, weight="length")`` when every node is a source: the share of the
    shortest paths from the sources that use the edge. Sampling makes it an estimate
    whose ranking of the busy edges is stable, which is what the percentile uses.
    Beyond :data:`PARALLEL_ABOVE_EDGES` undirected edges the counts are those of the
    first half of the sources plus those of the second half, counted on the two cores:
    the same numbers on any machine (and, sums of path counts being integers but for
    ties, the same as one pass in practice).

    Parameters
    ----------
    roads : pandas.DataFrame
        The ``vias`` layer: ``u``, ``v`` (node ids) and ``length`` (metres).
    sample : int
        Number of source nodes (rules: ``amostra_intermediacao``; an integral float
        such as ``200.0`` is accepted).
    seed : int, default 0
        Seed of the source sampling (fixed: the same territory gives the same values).

    Returns
    -------
    betweenness : numpy.ndarray
        One value per row of ``roads`` (both rows of a two-way street share it).
    percentile : numpy.ndarray
        Percentage (0–100) of the network's edges whose betweenness is at most this
        row's.

    Raises
    ------
    ValueError
        If ``sample`` is not an integer ≥ 1.
    """
    if not float(sample).is_integer() or sample < 1:
        raise ValueError(f"amostra de intermediação inválida: {sample!r} (inteiro >= 1)")
    sample = int(sample)
    u = roads["u"].to_numpy(dtype="int64")
    v = roads["v"].to_numpy(dtype="int64")
    length = pd.to_numeric(roads["length"], errors="coerce").to_numpy(dtype="float64")
    length = np.where(np.isfinite(length), np.maximum(length, _MIN_EDGE_LENGTH_M), np.inf)
    nodes = np.unique(np.concatenate([u, v]))
    n = len(nodes)
    if n < 2:
        return np.zeros(len(roads)), np.full(len(roads), 100.0)
    lo = np.searchsorted(nodes, np.minimum(u, v))
    hi = np.searchsorted(nodes, np.maximum(u, v))
    pairs = pd.DataFrame({"lo": lo, "hi": hi, "length": length})
    unique = pairs[(lo != hi) & np.isfinite(length)]
    unique = unique.groupby(["lo", "hi"], as_index=False, sort=True)["length"].min()
    graph = ig.Graph(n=n, edges=unique[["lo", "hi"]].to_numpy(), directed=False)
    if sample >= n:
        sources = np.arange(n)
    else:
        sources = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    edges = unique[["lo", "hi"]].to_numpy(dtype="int64")
    weights = unique["length"].to_numpy(dtype="float64")
    if len(unique) <= PARALLEL_ABOVE_EDGES or len(sources) < 2:
        counts = _source_counts(graph, weights, sources)
    else:
        counts = _halves(n, edges, weights, sources, graph)
    values = 2.0 * counts / (len(sources) * (n - 1))
    lookup = pd.MultiIndex.from_frame(unique[["lo", "hi"]])
    at = lookup.get_indexer(pd.MultiIndex.from_frame(pairs[["lo", "hi"]]))
    per_row = np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else 0.0, 0.0)
    ranked = np.sort(values)
    percentile = 100.0 * np.searchsorted(ranked, per_row, side="right") / max(len(ranked), 1)
    return per_row, percentile


def betweenness_record(roads: pd.DataFrame, *, sample: int, seed: int = 0) -> dict[str, int]:
    """Describe how the betweenness stored in a territory was computed (its metadata).

    Parameters
    ----------
    roads : pandas.DataFrame
        The ``vias`` layer the values belong to.
    sample : int
        Number of source nodes used.
    seed : int, default 0
        Seed of the sampling.

    Returns
    -------
    dict
        ``{"amostra": sample, "semente": seed, "arestas": len(roads)}``.
    """
    return {"amostra": int(sample), "semente": int(seed), "arestas": len(roads)}


def stored_betweenness(
    roads: pd.DataFrame, record: object, *, sample: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the betweenness stored in the territory, if it is what would be computed.

    The values are used only when the territory's record says they were computed
    with the same ``sample`` and ``seed`` on a layer of as many rows, and every row
    has them; otherwise ``None`` (the caller computes them with
    :func:`edge_betweenness`).

    Parameters
    ----------
    roads : pandas.DataFrame
        The ``vias`` layer as read from the territory.
    record : object
        The territory metadata under :data:`METADATA_KEY` (``None`` when absent).
    sample : int
        Number of source nodes the rules ask for.
    seed : int, default 0
        Seed of the sampling.

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(betweenness, percentile)`` per row, as :func:`edge_betweenness` returns.
    """
    expected = betweenness_record(roads, sample=sample, seed=seed)
    if record != expected or not all(c in roads.columns for c in STORED_COLUMNS):
        return None
    values, percentile = (
        pd.to_numeric(roads[c], errors="coerce").to_numpy(dtype="float64") for c in STORED_COLUMNS
    )
    if not (np.isfinite(values).all() and np.isfinite(percentile).all()):
        return None
    return values, percentile


def add_betweenness(roads: pd.DataFrame, *, sample: int, seed: int = 0) -> dict[str, int]:
    """Compute the betweenness of a territory's roads and store it in the table.

    Called when the territory is built: the values depend on the road network only,
    so every later assessment reads them (:func:`stored_betweenness`) instead of
    computing them again.

    Parameters
    ----------
    roads : pandas.DataFrame
        The ``vias`` layer; :data:`STORED_COLUMNS` are added (or replaced) in place.
    sample : int
        Number of source nodes (rules: ``amostra_intermediacao``).
    seed : int, default 0
        Seed of the sampling.

    Returns
    -------
    dict
        The metadata record to store under :data:`METADATA_KEY`.
    """
    values, percentile = edge_betweenness(roads, sample=sample, seed=seed)
    roads[STORED_COLUMNS[0]] = values
    roads[STORED_COLUMNS[1]] = percentile
    return betweenness_record(roads, sample=sample, seed=seed)
