"""Path from every request to the existing grid, along the roads, in one pass.

The roads are an undirected graph (a power line ignores traffic direction): the
two directions of a street are merged, parallel edges with different geometry
are kept, lengths are geometry lengths in metres. Grid elements are attached to
their nearest road edge within ``max_attach_m`` (points as they are, lines
densified every ``sample_step_m``); the territory stores that attachment
(:data:`ATTACHMENT_TABLE`, computed at build time) and a network built on the same
roads, grid and parameters reads it instead of searching again. A super-source
joined to both ends of every attachment's edge gives, in one
:func:`scipy.sparse.csgraph.dijkstra` call, the distance from the grid to every
node and the shortest-path tree: one search from the low-voltage elements out to
the LV reach, and, for the requests beyond it when medium voltage may be used, one
from both classes together (MT attachments weigh :data:`_MT_TIE` more, so that a
tie goes to LV). A request at position ``t`` of edge ``(a, b)`` costs
``min(dist[a] + t, dist[b] + L - t, attach + |s - t|)``, the last term for elements
attached on its own edge at ``s``. Paths run from the grid element
(its own position, then the attachment segment) to the request's snapped point.
Requests no road connects to the grid (not snapped, ``fora_da_malha``, or in a
road component without grid) get the straight line to the nearest element times
the detour factor. Columns: ``docs/assessment.md``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_ip._util.parallel import cores
from geo_ip.network.kernels import (
    EdgeArrays,
    _closest_per_group,
    assemble_paths,
    nearest,
    twin_groups,
)

log = logging.getLogger(__name__)

GRIDPATH_COLUMNS = [
    "distancia_rede_m", "distancia_rede_reta_m", "metodo_distancia", "rede_alvo_tipo",
    "rede_alvo_id", "transformador",
]  # fmt: skip
"""Columns of the table returned by :func:`grid_paths`, in order."""

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
_MT_TIE = 1e-6
"""Extra weight (m) of the MT attachments in the search from both classes: a path to the
MT network exactly as long as one to the LV network loses (MT only when shorter)."""
_KINDS = ("bt", "bt+mt")
"""Source sets of the searches: the LV elements; the LV and MT elements together."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_REQUIRED = (
    "x", "y", "aresta_u", "aresta_v", "aresta_key", "posicao_aresta_m", "x_via", "y_via",
    "fora_da_malha",
)  # fmt: skip
_SAME_EDGE, _VIA_START, _VIA_END = 0, 1, 2


class _Routes(NamedTuple):
    """Along-road path of every request to the element the rule picks (inf / -1: none)."""

    cost: FloatArray  # metres along the roads
    mode: IntArray  # _SAME_EDGE, _VIA_START or _VIA_END
    start: IntArray  # attached sample where the path starts
    mt: BoolArray  # that sample is on the MT network
    second: BoolArray  # the path is in trees[1], the search from both classes
    trees: tuple[_Tree | None, _Tree | None]


@dataclass(frozen=True)
class _Tree:
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


def _choose(
    lv: FloatArray, mt: FloatArray, lv_reach_m: float, allow_mt: bool
) -> tuple[BoolArray, BoolArray]:
    """Pick the source class of each request from its LV and MT distances (inf: none).

    Returns ``(use_lv, use_mt)``; both False where neither is usable.
    """
    has_lv = np.isfinite(lv)
    has_mt = np.isfinite(mt) & allow_mt
    use_mt = has_mt & (~has_lv | ((lv > lv_reach_m) & (mt < lv)))
    return has_lv & ~use_mt, use_mt


def _numbers(values: pd.Series) -> FloatArray:
    """Float array of a column, NaN where missing or not a number."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _unique_points(xy: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct points of ``(n, 2)`` coordinates and the position of each among them."""
    as_complex = np.ascontiguousarray(xy, dtype="float64").view(np.complex128).reshape(-1)
    unique, inverse = np.unique(as_complex, return_inverse=True)
    return np.column_stack([unique.real, unique.imag]), inverse.reshape(-1).astype("int64")


def _nearest(
    tree: shapely.STRtree,
    xy: FloatArray,
    max_distance: float | None,
    bound: FloatArray | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Nearest tree geometry of each point: (point, geometry, distance), lowest index on ties.

    Identical points are searched once (grid lines share their vertices with poles), on
    every core; ``bound`` is :func:`~geo_ip.network.kernels.nearest`'s hint.
    """
    if len(xy) == 0:
        empty = np.zeros(0, "int64")
        return empty, empty.copy(), np.zeros(0)
    unique, inverse = _unique_points(xy)
    hint = None
    if bound is not None:  # the smallest bound of the identical points
        hint = np.full(len(unique), np.inf)
        np.minimum.at(hint, inverse, bound)
    src, hit, d = nearest(
        tree, unique[:, 0], unique[:, 1], max_distance, bound=hint, threads=cores()
    )
    found = np.full(len(unique), -1, "int64")
    found[src] = np.arange(len(src))
    at = found[inverse]
    points = np.flatnonzero(at >= 0)
    return points.astype("int64"), hit[at[points]], d[at[points]]


class GridNetwork:
    """Undirected road network with the existing grid attached, built once per territory.

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
        self._trees: dict[tuple[str, float], _Tree | None] = {}

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
        grid, tipo = grid[keep].reset_index(drop=True), tipo[keep].reset_index(drop=True)
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
        n_s = len(sxy)
        self._s_elem = sel.astype("int64")
        self._s_xy = sxy
        self._s_edge = np.full(n_s, -1, "int64")
        self._s_pos = np.full(n_s, np.nan)
        self._s_attach = np.full(n_s, np.inf)
        self._record: dict[str, Any] = {
            "distancia_maxima_m": float(max_attach_m),
            "passo_m": float(step),
            "vias": self._roads_digest,
            "amostras": _digest(sxy, self._s_elem),
        }
        if self._use_stored(stored):
            assert stored is not None
            table = stored.table
            self._s_edge = table["aresta"].to_numpy(dtype="int64", copy=True)
            self._s_pos = table["posicao_m"].to_numpy(dtype="float64", copy=True)
            self._s_attach = table["distancia_m"].to_numpy(dtype="float64", copy=True)
            self._s_attach[self._s_edge < 0] = np.inf
            log.info("ligação da rede existente às vias lida do território")
        elif n_s and len(self._geom):
            # identical samples (a line's vertex, its pole, the lamp on it) are located once
            unique, inverse = _unique_points(sxy)
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
            self._s_edge[si] = e
            self._s_attach[si] = dist[inverse[si]]
            self._s_pos[si] = np.clip(along[inverse[si]], 0.0, self._len[e])
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
        :data:`_MT_TIE` more.
        """
        mt = self._el_mt[self._s_elem]
        q = np.flatnonzero((self._s_edge >= 0) & ~(mt & (kind == "bt")))
        if q.size == 0:
            return None
        e, s = self._s_edge[q], self._s_pos[q]
        attach = self._s_attach[q] + np.where(mt[q], _MT_TIE, 0.0)
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

    def _tree(self, kind: str, limit: float = np.inf) -> _Tree | None:
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
        self._trees[key] = _Tree(
            dist, pred, pred_edge, root_sample, sources.sample, sources.sample_edge,
            sources.sample_s, sources.sample_attach, sources.sample_first,
        )  # fmt: skip
        return self._trees[key]

    # ------------------------------------------------------------------ requests

    def _edges_of(self, requests: pd.DataFrame) -> tuple[IntArray, FloatArray]:
        """Undirected edge of each request and its position along it (-1 / NaN: none)."""
        m = len(requests)
        edge, t = np.full(m, -1, "int64"), np.full(m, np.nan)
        cols = [requests[c] for c in ("aresta_u", "aresta_v", "aresta_key")]
        pos = _numbers(requests["posicao_aresta_m"])
        rows = np.flatnonzero(np.isfinite(pos) & np.logical_and.reduce([c.notna() for c in cols]))
        if rows.size == 0 or self._directed.empty:
            return edge, t
        index = pd.MultiIndex.from_arrays([c.to_numpy()[rows].astype("int64") for c in cols])
        hit = self._directed.index.get_indexer(index)
        if (hit < 0).any():
            log.warning(
                "%d pedidos apontam para trechos que não existem na malha viária: "
                "usado o método da linha reta",
                int((hit < 0).sum()),
            )
        rows, hit = rows[hit >= 0], hit[hit >= 0]
        e = self._directed["edge"].to_numpy(dtype="int64")[hit]
        rev = self._directed["rev"].to_numpy(dtype=bool)[hit]
        length = self._len[e]
        edge[rows] = e
        t[rows] = np.clip(np.where(rev, length - pos[rows], pos[rows]), 0.0, length)
        return edge, t

    def _along(
        self, tree: _Tree | None, edge: IntArray, t: FloatArray
    ) -> tuple[FloatArray, IntArray, IntArray]:
        """Along-road cost of requests on ``edge`` at ``t``: cost, mode and starting sample."""
        k = len(edge)
        if tree is None or k == 0:
            return np.full(k, np.inf), np.full(k, -1, "int64"), np.full(k, -1, "int64")
        length = self._len[edge]
        cand = np.column_stack(
            [
                np.full(k, np.inf),
                tree.dist[self._a[edge]] + t,
                tree.dist[self._b[edge]] + (length - t),
            ]
        )
        sample = np.full(k, -1, "int64")
        # every attached sample on the request's own edge: the cheapest, lowest on ties
        lo = tree.sample_first[edge]
        count = tree.sample_first[edge + 1] - lo
        row = np.repeat(np.arange(k, dtype="int64"), count)
        at = lo[row] + (np.arange(len(row)) - (np.cumsum(count) - count)[row])
        if len(row):
            c = tree.sample_attach[at] + np.abs(tree.sample_s[at] - t[row])
            best = _closest_per_group(row, c, tree.sample[at])
            hit = row[best]
            cand[hit, _SAME_EDGE] = c[best]
            sample[hit] = tree.sample[at][best]
        mode = np.argmin(cand, axis=1).astype("int64")  # ties: same edge, then start, then end
        cost = cand[np.arange(k), mode]
        node = np.where(mode == _VIA_START, self._a[edge], self._b[edge])
        sample = np.where(mode == _SAME_EDGE, sample, tree.root_sample[node])
        mode[~np.isfinite(cost)] = -1
        return cost, mode, sample

    def _routes(
        self, on_road: IntArray, edge: IntArray, t: FloatArray, lv_reach_m: float, allow_mt: bool
    ) -> _Routes:
        """Along-road path of every request to the grid element the rule picks.

        Low voltage within ``lv_reach_m`` (a search that stops there); beyond it, when
        MT may be used, the nearer of the two classes (one search from both, LV on a
        tie); otherwise LV at any distance. MT costs are given without the tie weight.
        """
        m = len(edge)
        cost, mode = np.full(m, np.inf), np.full(m, -1, "int64")
        start, second = np.full(m, -1, "int64"), np.zeros(m, bool)
        split = allow_mt and self._mt_attached
        # the search stops a hair beyond the reach: every cost up to the reach is exact
        near = self._tree("bt", lv_reach_m * (1 + 1e-9) + 1e-6 if split else np.inf)
        none = np.zeros(m, bool)
        if on_road.size == 0:
            return _Routes(cost, mode, start, none, second, (near, None))
        cost[on_road], mode[on_road], start[on_road] = self._along(near, edge[on_road], t[on_road])
        beyond = on_road[~(cost[on_road] <= lv_reach_m)] if split else on_road[:0]
        if beyond.size == 0:
            return _Routes(cost, mode, start, none, second, (near, None))
        both = self._tree("bt+mt")
        cost[beyond], mode[beyond], start[beyond] = self._along(both, edge[beyond], t[beyond])
        second[beyond] = True
        via_mt = second & (start >= 0) & self._el_mt[self._s_elem[np.maximum(start, 0)]]
        cost[via_mt] = np.maximum(cost[via_mt] - _MT_TIE, 0.0)
        return _Routes(cost, mode, start, via_mt, second, (near, both))

    def _straight(
        self, mt: bool, origin: npt.NDArray[np.object_], wanted: BoolArray, cost: FloatArray
    ) -> tuple[FloatArray, IntArray]:
        """Straight line to the nearest element of the class, for ``wanted`` rows.

        Returns the distance (inf elsewhere) and the element (-1). The along-road
        ``cost`` to an element of the class bounds it (the path is a line from the
        request to that element): the search looks no farther, on every core.
        """
        m = len(origin)
        straight, near = np.full(m, np.inf), np.full(m, -1, "int64")
        members = self._el_of_class[mt]
        if members.size and wanted.any():
            xy = shapely.get_coordinates(origin[wanted])
            src, hit, d = _nearest(self._el_index[mt], xy, None, bound=cost[wanted])
            rows = np.flatnonzero(wanted)[src]
            straight[rows], near[rows] = d, members[hit]
        return straight, near

    def paths(
        self,
        requests: pd.DataFrame,
        *,
        lv_reach_m: float,
        detour_factor: float,
        allow_mt: bool,
    ) -> tuple[pd.DataFrame, gpd.GeoSeries]:
        """Proposed grid extension of every request.

        Parameters
        ----------
        requests : DataFrame
            Located and snapped requests (``x, y, aresta_u, aresta_v,
            aresta_key, posicao_aresta_m, x_via, y_via, fora_da_malha``, as
            :meth:`geo_ip.network.roads.RoadIndex.snap` writes them).
        lv_reach_m : float
            ``rede.alcance_bt``: longest low-voltage extension without a new
            transformer.
        detour_factor : float
            ``rede.fator_desvio`` (>= 1): along-road / straight ratio used when
            no road connects the request to the grid.
        allow_mt : bool
            ``rede.usar_mt_com_transformador``: whether the medium-voltage
            network (with a new transformer) may be the extension's source.

        Returns
        -------
        table : DataFrame
            :data:`GRIDPATH_COLUMNS`, indexed like ``requests``.
        paths : GeoSeries
            The extension, from the grid element to the request's snapped
            point (for ``reta_fator_desvio``: the straight segment from the
            element to the request); None where nothing was computed.

        Notes
        -----
        Source choice: low voltage when its path is within ``lv_reach_m``;
        otherwise medium voltage (with a transformer) when allowed and
        shorter (by more than :data:`_MT_TIE`, 1 µm: a tie goes to LV); otherwise low
        voltage with a transformer. A request flagged
        ``fora_da_malha`` is measured from its own point, not from the road.
        """
        missing = [c for c in _REQUIRED if c not in requests.columns]
        if missing:
            raise ValueError(f"faltam colunas nos pedidos: {', '.join(missing)}")
        if lv_reach_m < 0 or detour_factor < 1:
            raise ValueError("alcance_bt deve ser >= 0 e fator_desvio >= 1")
        m = len(requests)
        x, y, xv, yv = (_numbers(requests[c]) for c in ("x", "y", "x_via", "y_via"))
        located = np.isfinite(x) & np.isfinite(y)
        far = requests["fora_da_malha"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        snapped = located & ~far & np.isfinite(xv) & np.isfinite(yv)
        origin = np.full(m, None, dtype=object)
        origin[located] = shapely.points(
            np.where(snapped, xv, x)[located], np.where(snapped, yv, y)[located]
        )
        edge, t = self._edges_of(requests)
        on_road = np.flatnonzero(located & ~far & (edge >= 0))
        route = self._routes(on_road, edge, t, lv_reach_m, allow_mt)
        cost, start = route.cost, route.start
        via = np.isfinite(cost)
        via_mt, via_lv = route.mt, via & ~route.mt
        # the straight line: to the chosen class, or to both where none is along the roads
        rest = located & ~via
        lv_straight, lv_near = self._straight(
            False, origin, via_lv | rest, np.where(via_lv, cost, np.inf)
        )
        mt_straight, mt_near = self._straight(
            True, origin, via_mt | (rest & allow_mt), np.where(via_mt, cost, np.inf)
        )
        fb_lv, fb_mt = _choose(
            lv_straight * detour_factor, mt_straight * detour_factor, lv_reach_m, allow_mt
        )
        fallback = (fb_lv | fb_mt) & located & ~via
        use_mt = via_mt | (fb_mt & fallback)
        straight = np.where(use_mt, mt_straight, lv_straight)
        found = via | fallback
        dist = np.select([via, fallback], [cost, straight * detour_factor], np.nan)
        element = np.where(fallback, np.where(use_mt, mt_near, lv_near), -1)
        element[via] = self._s_elem[start[via]]
        method = np.select(
            [via, fallback, located], ["via", "reta_fator_desvio", "sem_rede"], "sem_localizacao"
        )
        geometry = np.full(m, None, dtype=object)
        vr, fr = np.flatnonzero(via), np.flatnonzero(fallback)
        geometry[vr] = self._via_lines(
            route.trees, route.second[vr], route.mode[vr], edge[vr], t[vr], start[vr]
        )
        if fr.size:
            geometry[fr] = shapely.shortest_line(self._el_geom[element[fr]], origin[fr])
        hit = element >= 0
        tipo, ident = np.full(m, None, dtype=object), np.full(m, None, dtype=object)
        tipo[hit], ident[hit] = self._el_tipo[element[hit]], self._el_id[element[hit]]
        table = pd.DataFrame(
            {
                "distancia_rede_m": dist,
                "distancia_rede_reta_m": np.where(found, straight, np.nan),
                "metodo_distancia": method,
                "rede_alvo_tipo": tipo,
                "rede_alvo_id": ident,
                "transformador": use_mt | (found & (dist > lv_reach_m)),
            },
            index=requests.index,
        )
        counts = pd.Series(method).value_counts().to_dict()
        log.info(
            "caminho até a rede de %d pedidos: %d pela via, %d em linha reta × fator de desvio, "
            "%d sem rede, %d sem localização; %d precisam de transformador",
            m,
            counts.get("via", 0),
            counts.get("reta_fator_desvio", 0),
            counts.get("sem_rede", 0),
            counts.get("sem_localizacao", 0),
            int(table["transformador"].sum()),
        )
        return table, gpd.GeoSeries(geometry, index=requests.index, crs=self.crs)

    def _via_lines(
        self,
        trees: tuple[_Tree | None, _Tree | None],
        second: BoolArray,
        mode: IntArray,
        edge: IntArray,
        t: FloatArray,
        sample: IntArray,
    ) -> npt.NDArray[np.object_]:
        """Path geometries of requests reached along the roads (element → snapped point).

        ``second``: the row's path is in ``trees[1]`` (else ``trees[0]``).
        """
        owners: list[IntArray] = []
        blocks: list[FloatArray] = []
        for which in (False, True):
            rows = np.flatnonzero(second == which)
            if rows.size == 0:
                continue
            tree = trees[which]
            assert tree is not None
            e, md = edge[rows], mode[rows]
            start = md == _VIA_START
            owner, xy = assemble_paths(
                self._edges, self._s_xy, self._s_edge, self._s_pos, tree.pred, tree.pred_edge,
                via=md != _SAME_EDGE, node=np.where(start, self._a[e], self._b[e]), edge=e,
                t=t[rows], end=np.where(start, 0.0, self._len[e]), sample=sample[rows],
            )  # fmt: skip
            owners.append(rows[owner])
            blocks.append(xy)
        if not owners:
            return np.empty(0, dtype=object)
        idx = np.concatenate(owners)
        order = np.argsort(idx, kind="stable")
        idx, coords = idx[order], np.vstack(blocks)[order]
        n_paths = len(edge)
        step = np.diff(idx) != 0
        keep = np.r_[True, step | np.any(np.diff(coords, axis=0) != 0, axis=1)]
        coords, idx = coords[keep], idx[keep]
        # A request exactly at an element on the road: zero-length, two-point path.
        single = np.flatnonzero(np.bincount(idx, minlength=n_paths) == 1)
        first = np.searchsorted(idx, single)
        coords, idx = np.vstack([coords, coords[first]]), np.r_[idx, single]
        order = np.argsort(idx, kind="stable")
        return np.asarray(shapely.linestrings(coords[order], indices=idx[order]), dtype=object)


def grid_paths(
    roads: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    requests: pd.DataFrame,
    *,
    lv_reach_m: float,
    detour_factor: float,
    allow_mt: bool,
    max_attach_m: float = DEFAULT_MAX_ATTACH_M,
    sample_step_m: float = DEFAULT_SAMPLE_STEP_M,
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Proposed grid extension of every request, in one pass.

    Builds a :class:`GridNetwork` and calls :meth:`GridNetwork.paths`; build
    the network once yourself to evaluate several request sets.

    Parameters
    ----------
    roads : GeoDataFrame
        The territory's ``vias`` layer.
    grid : GeoDataFrame
        The territory's ``rede_existente`` layer.
    requests : DataFrame
        Located and snapped requests (see :meth:`GridNetwork.paths`).
    lv_reach_m : float
        ``rede.alcance_bt``.
    detour_factor : float
        ``rede.fator_desvio``.
    allow_mt : bool
        ``rede.usar_mt_com_transformador``.
    max_attach_m : float, optional
        Farthest distance from a grid element to a road for it to be attached.
    sample_step_m : float, optional
        Densification step of grid lines.

    Returns
    -------
    table : DataFrame
        :data:`GRIDPATH_COLUMNS`, indexed like ``requests``.
    paths : GeoSeries
        The extension paths (None where none), indexed like ``requests``.
    """
    network = GridNetwork(roads, grid, max_attach_m=max_attach_m, sample_step_m=sample_step_m)
    return network.paths(
        requests, lv_reach_m=lv_reach_m, detour_factor=detour_factor, allow_mt=allow_mt
    )
