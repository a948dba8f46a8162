"""The road network with the existing grid attached, as a graph built once per territory.

The roads are an undirected graph (a power line ignores traffic direction): the
two directions of a street are merged, parallel edges with different geometry
are kept, lengths are geometry lengths in metres. Grid elements are attached to
their nearest road edge within ``max_attach_m`` (points as they are, lines
densified every ``sample_step_m``); the territory stores that attachment
(:data:`ATTACHMENT_TABLE`, computed at build time) and a network built on the same
roads, grid and parameters reads it instead of searching again. A super-source
joined to both ends of every attachment's edge gives, in one
:func:`scipy.sparse.csgraph.dijkstra` call, the distance from the grid to every
node and the shortest-path tree (:class:`Tree`): one search from the low-voltage
elements, one from both classes together (MT attachments weigh :data:`MT_TIE` more,
so that a tie goes to LV). The paths of the requests on it are
:mod:`geo_ip.network.gridpath`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_ip._util.parallel import cores
from geo_ip.network.kernels import EdgeArrays, _closest_per_group, nearest, twin_groups

__all__ = [
    "ATTACHMENT_COLUMNS",
    "ATTACHMENT_KEY",
    "ATTACHMENT_TABLE",
    "DEFAULT_MAX_ATTACH_M",
    "DEFAULT_SAMPLE_STEP_M",
    "LV_TYPES",
    "MT_TIE",
    "MT_TYPES",
    "Attachment",
    "GridGraph",
    "Tree",
    "unique_points",
]

log = logging.getLogger(__name__)

LV_TYPES = ("bt", "poste", "ponto_ip", "transformador", "via_iluminada")
"""Grid ``tipo`` values a low-voltage extension can start from."""
MT_TYPES = ("mt",)
"""Grid ``tipo`` values of the medium-voltage network (a new transformer is needed)."""
DEFAULT_MAX_ATTACH_M = 60.0
"""Default farthest distance (m) from a grid element to a road for it to be attached."""
DEFAULT_SAMPLE_STEP_M = 10.0
"""Default densification step (m) of grid lines."""

ATTACHMENT_TABLE = "rede_ligacao"
"""Table of the territory with every grid sample's road attachment (one row per sample,
:data:`ATTACHMENT_COLUMNS`), computed when the territory is built: it depends on the
roads, the grid and two parameters only, and is the slow part of building the network."""
ATTACHMENT_KEY = "rede_ligacao"
"""Key of the territory metadata recording how the stored attachment was computed."""
ATTACHMENT_COLUMNS = ("aresta", "posicao_m", "distancia_m")
"""Undirected edge (-1: none within reach), position along it and attachment distance."""

_ATTACH_BLOCK = 250_000
"""Grid samples attached to the roads at a time (memory: their shapely points)."""
_EPS = 1e-6
"""Weight (m) of zero-length edges: some scipy versions drop explicit zeros from graphs."""
MT_TIE = 1e-6
"""Extra weight (m) of the MT attachments in the search from both classes: a path to the
MT network exactly as long as one to the LV network loses (MT only when shorter)."""
_KINDS = ("bt", "bt+mt")
"""Source sets of the searches: the LV elements; the LV and MT elements together."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Tree:
    """Shortest-path forest from a set of grid elements over the road nodes."""

    dist: FloatArray  # (N,) distance from the nearest element to each node (inf: none)
    pred: IntArray  # (N,) predecessor node; -1 at roots and unreachable nodes
    pred_edge: IntArray  # (N,) edge from pred to the node; -1 where pred is -1
    root_sample: IntArray  # (N,) attached sample that starts the path (-1: unreachable)
    # attached samples of the class, sorted by edge (stable): sample, edge, s, attach
    sample: IntArray
    sample_edge: IntArray
    sample_s: FloatArray
    sample_attach: FloatArray
    sample_first: IntArray  # (E + 1,) the samples of edge e are [first[e], first[e + 1])


@dataclass(frozen=True)
class _Sources:
    """Attached grid samples of one source set (:data:`_KINDS`), with their weights."""

    # sorted by edge (stable): sample, edge, position s, attachment weight
    sample: IntArray
    sample_edge: IntArray
    sample_s: FloatArray
    sample_attach: FloatArray
    sample_first: IntArray  # (E + 1,) the samples of edge e are [first[e], first[e + 1])
    # the cheapest attachment of each road node an attached edge ends at
    node: IntArray
    weight: FloatArray  # attach + s (or attach + L - s)
    node_sample: IntArray


@dataclass(frozen=True)
class Attachment:
    """Road attachment of every grid sample, as stored in a territory.

    Attributes
    ----------
    record : dict
        Parameters (``distancia_maxima_m``, ``passo_m``) and fingerprints of the
        roads and grid samples it was computed on (``vias``, ``amostras``).
    table : DataFrame
        One row per grid sample, in the network's sample order, columns
        :data:`ATTACHMENT_COLUMNS`.
    """

    record: dict[str, Any]
    table: pd.DataFrame


def _digest(*arrays: npt.NDArray[Any]) -> str:
    """Fingerprint of arrays (their bytes and lengths, in order)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        c = np.ascontiguousarray(a)
        h.update(str((c.dtype.str, c.shape)).encode())
        h.update(c.data)
    return h.hexdigest()


def unique_points(xy: FloatArray) -> tuple[FloatArray, IntArray]:
    """Return the distinct points of ``(n, 2)`` coordinates.

    Parameters
    ----------
    xy : numpy.ndarray
        Coordinates, one point a row.

    Returns
    -------
    tuple of numpy.ndarray
        The distinct points (sorted) and the position of each input point among them.
    """
    as_complex = np.ascontiguousarray(xy, dtype="float64").view(np.complex128).reshape(-1)
    unique, inverse = np.unique(as_complex, return_inverse=True)
    return np.column_stack([unique.real, unique.imag]), inverse.reshape(-1).astype("int64")


def _usable(grid: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Grid elements of a known ``tipo`` with a geometry, and their ``tipo``.

    The elements of an unknown ``tipo`` are logged and left out.
    """
    grid = grid.reset_index(drop=True)
    tipo = grid["tipo"].astype("object").where(grid["tipo"].notna(), "").astype(str)
    known = tipo.isin(LV_TYPES + MT_TYPES).to_numpy()
    if (~known).any():
        log.warning(
            "%d elementos da rede com tipo desconhecido ignorados: %s",
            int((~known).sum()),
            ", ".join(sorted(set(tipo[~known]))),
        )
    keep = known & (grid.geometry.notna() & ~grid.geometry.is_empty).to_numpy()
    return grid[keep].reset_index(drop=True), tipo[keep].reset_index(drop=True)


def _stored_attachment(stored: Attachment) -> tuple[IntArray, FloatArray, FloatArray]:
    """Edge, position and attachment distance (inf where none) of a stored attachment."""
    table = stored.table
    edge = table["aresta"].to_numpy(dtype="int64", copy=True)
    pos = table["posicao_m"].to_numpy(dtype="float64", copy=True)
    attach = table["distancia_m"].to_numpy(dtype="float64", copy=True)
    attach[edge < 0] = np.inf
    return edge, pos, attach


class GridGraph:
    """Undirected road network with the existing grid attached, built once per territory.

    The roads become a CSR graph (reverse twins merged), the grid elements samples
    attached to their nearest road edge, and each source set a super-source; the
    shortest-path forests from them are computed when first asked (:meth:`_tree`).
    :class:`geo_ip.network.gridpath.GridNetwork` answers the requests on it.

    Parameters
    ----------
    roads : GeoDataFrame
        The territory's ``vias`` layer: ``u``, ``v``, ``key`` and LineString
        geometries in a metric CRS (a MultiDiGraph edge list; reverse twins are
        merged).
    grid : GeoDataFrame
        The territory's ``rede_existente`` layer: ``fonte``, ``tipo``,
        ``id_origem`` and Point or (Multi)LineString geometries, same CRS.
        Elements of an unknown ``tipo`` are ignored.
    max_attach_m : float, optional
        Elements (or line samples) farther than this from every road are not
        attached to the network; they still count for the straight-line method.
    sample_step_m : float, optional
        Densification step of grid lines.
    stored : Attachment, optional
        The attachment stored in the territory (:meth:`attachment` at build
        time). Used only when it was computed with the same parameters on the
        same roads and grid samples (fingerprints); otherwise computed again.

    Raises
    ------
    ValueError
        If the two layers have different CRSs or a parameter is out of range.
    """

    def __init__(
        self,
        roads: gpd.GeoDataFrame,
        grid: gpd.GeoDataFrame,
        *,
        max_attach_m: float = DEFAULT_MAX_ATTACH_M,
        sample_step_m: float = DEFAULT_SAMPLE_STEP_M,
        stored: Attachment | None = None,
    ) -> None:
        if max_attach_m < 0 or not sample_step_m > 0:
            raise ValueError("max_attach_m deve ser >= 0 e sample_step_m > 0")
        if roads.crs is not None and grid.crs is not None and CRS(roads.crs) != CRS(grid.crs):
            raise ValueError(f"vias ({roads.crs}) e rede ({grid.crs}) em CRSs diferentes")
        self.crs = roads.crs
        self._build_roads(roads)
        self._build_grid(grid, max_attach_m, sample_step_m, stored)
        self._sources = {kind: self._class_sources(kind) for kind in _KINDS}
        self._mt_attached = bool((self._el_mt[self._s_elem[self._s_edge >= 0]]).any())
        self._graph = self._build_graph()
        self._trees: dict[tuple[str, float], Tree | None] = {}

    # ------------------------------------------------------------------ building

    def _build_roads(self, roads: gpd.GeoDataFrame) -> None:
        """Merge reverse twins, orient edges from low to high node, build the CSR."""
        roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
        u = roads["u"].to_numpy(dtype="int64")
        v = roads["v"].to_numpy(dtype="int64")
        geoms = np.asarray(roads.geometry.values, dtype=object)
        rev = u > v
        for i in np.flatnonzero(u == v):  # loops: orient by their inner vertices
            c = shapely.get_coordinates(geoms[i])
            rev[i] = len(c) > 2 and tuple(c[-2]) < tuple(c[1])
        oriented = geoms.copy()
        if rev.any():
            oriented[rev] = shapely.reverse(geoms[rev])
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        group = twin_groups(lo, hi, oriented)
        _, first = np.unique(group, return_index=True)
        self._directed = pd.DataFrame(
            {"edge": group, "rev": rev},
            index=pd.MultiIndex.from_arrays(
                [u, v, roads["key"].to_numpy(dtype="int64")], names=["u", "v", "key"]
            ),
        )
        self._directed = self._directed[~self._directed.index.duplicated()]
        # build the (u, v, key) hash lookup now, with the network, not at the first request
        self._directed.index.get_indexer(self._directed.index[:1])
        self.nodes, ends = np.unique(np.r_[lo[first], hi[first]], return_inverse=True)
        n_edges = len(first)
        self._a = ends[:n_edges].astype("int64")
        self._b = ends[n_edges:].astype("int64")
        self._geom = oriented[first]
        del geoms, oriented  # the twins' geometries (a reversed copy of half the network)
        xy, idx = shapely.get_coordinates(self._geom, return_index=True)
        self._xy = xy
        self._off = np.r_[0, np.cumsum(np.bincount(idx, minlength=n_edges))].astype("int64")
        cs = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
        self._cum = cs - cs[self._off[idx]] if len(xy) else cs[:0]
        self._len = self._cum[self._off[1:] - 1] if n_edges else np.zeros(0)
        self._edge_tree = shapely.STRtree(self._geom)
        self._roads_digest = _digest(u, v, roads["key"].to_numpy(dtype="int64"), xy, self._off)
        self._edges = EdgeArrays(self._xy, self._off, self._cum, self._len, self._a, self._b)
        # One weight per node pair (the shortest parallel edge), both directions.
        n = len(self.nodes)
        proper = np.flatnonzero(self._a != self._b)
        pairs = pd.DataFrame(
            {"pair": self._a[proper] * n + self._b[proper], "w": self._len[proper], "edge": proper}
        )
        pairs = pairs.sort_values(["pair", "w", "edge"], kind="stable").drop_duplicates("pair")
        self._pair_key = pairs["pair"].to_numpy(dtype="int64")
        self._pair_edge = pairs["edge"].to_numpy(dtype="int64")
        pa, pb = self._pair_key // max(n, 1), self._pair_key % max(n, 1)
        w = np.maximum(pairs["w"].to_numpy(dtype="float64"), _EPS)
        self._road_coo = (np.r_[pa, pb], np.r_[pb, pa], np.r_[w, w])

    def _build_grid(
        self,
        grid: gpd.GeoDataFrame,
        max_attach_m: float,
        step: float,
        stored: Attachment | None,
    ) -> None:
        """Keep usable elements, densify lines, attach every sample to its nearest edge."""
        grid, tipo = _usable(grid)
        self._el_geom = np.asarray(grid.geometry.values, dtype=object)
        self._el_tipo = tipo.to_numpy(dtype=object)
        self._el_id = (
            grid["fonte"].astype("object").astype(str)
            + ":"
            + grid["id_origem"].astype("object").astype(str)
        ).to_numpy(dtype=object)
        self._el_mt = np.isin(self._el_tipo, MT_TYPES)
        self._el_index = {
            mt: shapely.STRtree(self._el_geom[self._el_mt == mt]) for mt in (False, True)
        }
        self._el_of_class = {mt: np.flatnonzero(self._el_mt == mt) for mt in (False, True)}
        # Lines become their vertices at most `step` apart; points stay as they are.
        dense = shapely.segmentize(self._el_geom, step)
        sxy, sel = shapely.get_coordinates(dense, return_index=True)
        self._s_elem = sel.astype("int64")
        self._s_xy = sxy
        self._record: dict[str, Any] = {
            "distancia_maxima_m": float(max_attach_m),
            "passo_m": float(step),
            "vias": self._roads_digest,
            "amostras": _digest(sxy, self._s_elem),
        }
        if self._use_stored(stored):
            assert stored is not None
            self._s_edge, self._s_pos, self._s_attach = _stored_attachment(stored)
            log.info("ligação da rede existente às vias lida do território")
        else:
            self._s_edge, self._s_pos, self._s_attach = self._attach(sxy, max_attach_m)
        self._log_unattached(max_attach_m)

    def _attach(
        self, sxy: FloatArray, max_attach_m: float
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest road edge of every grid sample within ``max_attach_m``.

        Returns the edge (-1: none within reach), the position along it and the
        attachment distance (inf where none).
        """
        n_s = len(sxy)
        s_edge = np.full(n_s, -1, "int64")
        s_pos = np.full(n_s, np.nan)
        s_attach = np.full(n_s, np.inf)
        if not (n_s and len(self._geom)):
            return s_edge, s_pos, s_attach
        # identical samples (a line's vertex, its pole, the lamp on it) are located once
        unique, inverse = unique_points(sxy)
        edge = np.full(len(unique), -1, "int64")
        dist, along = np.full(len(unique), np.inf), np.full(len(unique), np.nan)
        # in blocks: a state's millions of samples as shapely points at once cost GBs
        for lo in range(0, len(unique), _ATTACH_BLOCK):
            block = unique[lo : lo + _ATTACH_BLOCK]
            points = np.asarray(shapely.points(block), dtype=object)
            ui, ei, d = nearest(
                self._edge_tree, block[:, 0], block[:, 1], max_attach_m, points=points,
                threads=cores(),
            )  # fmt: skip
            edge[lo + ui], dist[lo + ui] = ei, d
            along[lo + ui] = shapely.line_locate_point(self._geom[ei], points[ui])
        si = np.flatnonzero(edge[inverse] >= 0)
        e = edge[inverse[si]]
        s_edge[si] = e
        s_attach[si] = dist[inverse[si]]
        s_pos[si] = np.clip(along[inverse[si]], 0.0, self._len[e])
        return s_edge, s_pos, s_attach

    def _log_unattached(self, max_attach_m: float) -> None:
        """Log the grid elements no road is near enough to (straight line only)."""
        attached = np.zeros(len(self._el_geom), bool)
        attached[self._s_elem[self._s_edge >= 0]] = True
        if (~attached).any():
            log.info(
                "%d de %d elementos da rede a mais de %g m de qualquer via: "
                "usados só pelo método da linha reta",
                int((~attached).sum()),
                len(attached),
                max_attach_m,
            )

    def _use_stored(self, stored: Attachment | None) -> bool:
        """Whether ``stored`` is what this network would compute (logs why not)."""
        if stored is None:
            return False
        table = stored.table
        if (
            stored.record == self._record
            and len(table) == len(self._s_xy)
            and all(c in table.columns for c in ATTACHMENT_COLUMNS)
        ):
            edge = pd.to_numeric(table["aresta"], errors="coerce").to_numpy(dtype="float64")
            if np.isfinite(edge).all() and ((edge >= -1) & (edge < len(self._geom))).all():
                return True
        log.info(
            "ligação da rede às vias gravada no território não corresponde às vias, à rede "
            "ou às regras atuais: recalculada"
        )
        return False

    def attachment(self) -> Attachment:
        """Return the road attachment of every grid sample, to be stored in the territory.

        Returns
        -------
        Attachment
            Its record (parameters and fingerprints) and table, which a later
            network built on the same roads and grid accepts as ``stored``.
        """
        table = pd.DataFrame(
            {
                "aresta": self._s_edge,
                "posicao_m": self._s_pos,
                "distancia_m": np.where(self._s_edge >= 0, self._s_attach, np.nan),
            }
        )
        return Attachment(dict(self._record), table)

    def _class_sources(self, kind: str) -> _Sources | None:
        """Attached samples of a source set, sorted by edge; cheapest attachment per node.

        Request-independent, so part of building the network (the shortest-path
        forest, :meth:`_tree`, starts from it). In ``"bt+mt"`` the MT samples weigh
        :data:`MT_TIE` more.
        """
        mt = self._el_mt[self._s_elem]
        q = np.flatnonzero((self._s_edge >= 0) & ~(mt & (kind == "bt")))
        if q.size == 0:
            return None
        e, s = self._s_edge[q], self._s_pos[q]
        attach = self._s_attach[q] + np.where(mt[q], MT_TIE, 0.0)
        # Keep the cheapest attachment per node (lowest sample on ties): no summed duplicates.
        node = np.r_[self._a[e], self._b[e]]
        weight = np.r_[attach + s, attach + self._len[e] - s]
        sample = np.r_[q, q]
        order = np.argsort(node, kind="stable")
        node, weight, sample = node[order], weight[order], sample[order]
        first = _closest_per_group(node, weight, sample)
        by_edge = np.argsort(e, kind="stable")
        offsets = np.r_[0, np.cumsum(np.bincount(e, minlength=len(self._len)))].astype("int64")
        return _Sources(
            q[by_edge], e[by_edge], s[by_edge], attach[by_edge], offsets, node[first],
            weight[first], sample[first],
        )  # fmt: skip

    def _build_graph(self) -> csr_matrix:
        """Return the CSR graph of the roads (both ways) and of the super-sources.

        Node ``n + k`` is joined to the attachments of ``_KINDS[k]``.
        """
        n = len(self.nodes)
        rows, cols, w = self._road_coo
        for k, kind in enumerate(_KINDS):
            sources = self._sources[kind]
            if sources is not None:
                rows = np.r_[rows, np.full(len(sources.node), n + k)]
                cols = np.r_[cols, sources.node]
                w = np.r_[w, np.maximum(sources.weight, _EPS)]
        return csr_matrix((w, (rows, cols)), shape=(n + len(_KINDS), n + len(_KINDS)))

    def _tree(self, kind: str, limit: float = np.inf) -> Tree | None:
        """Dijkstra from the super-source of ``kind``, out to ``limit`` metres, cached.

        Nodes farther than ``limit`` are unreached (inf), as if no element were there.
        """
        key = (kind, float(limit))
        if key in self._trees:
            return self._trees[key]
        sources = self._sources[kind]
        if sources is None:
            self._trees[key] = None
            return None
        n = len(self.nodes)
        snode, ssample = sources.node, sources.node_sample
        source = n + _KINDS.index(kind)
        dist, pred = dijkstra(
            self._graph, directed=True, indices=source, return_predecessors=True, limit=limit
        )
        dist, pred = dist[:n], pred[:n].astype("int64")
        nodes = np.arange(n, dtype="int64")
        reach = np.isfinite(dist)
        pred = np.where((pred == source) | ~reach, -1, pred)
        root = np.where(pred >= 0, pred, nodes)
        while True:  # pointer jumping up the shortest-path tree
            nxt = root[root]
            if np.array_equal(nxt, root):
                break
            root = nxt
        best = np.full(n, -1, "int64")
        best[snode] = ssample
        root_sample = np.where(reach, best[root], -1)
        pred_edge = np.full(n, -1, "int64")
        child = np.flatnonzero(pred >= 0)
        key_pair = np.minimum(pred[child], child) * n + np.maximum(pred[child], child)
        pred_edge[child] = self._pair_edge[np.searchsorted(self._pair_key, key_pair)]
        self._trees[key] = Tree(
            dist, pred, pred_edge, root_sample, sources.sample, sources.sample_edge,
            sources.sample_s, sources.sample_attach, sources.sample_first,
        )  # fmt: skip
        return self._trees[key]
