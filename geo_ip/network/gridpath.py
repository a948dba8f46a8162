"""Path from every request to the existing grid, along the roads, in one pass.

The roads with the grid attached are a graph built once per territory
(:class:`geo_ip.network.gridgraph.GridGraph`: the two directions of a street merged,
every grid sample attached to its nearest road edge, a super-source joined to both
ends of every attachment's edge). One :func:`scipy.sparse.csgraph.dijkstra` call from
the super-source gives the distance from the grid to every node and the shortest-path
tree: one search from the low-voltage elements out to the LV reach, and, for the
requests beyond it when medium voltage may be used, one from both classes together
(MT attachments weigh :data:`~geo_ip.network.gridgraph.MT_TIE` more, so that a tie
goes to LV). A request at position ``t`` of edge ``(a, b)`` costs
``min(dist[a] + t, dist[b] + L - t, attach + |s - t|)``, the last term for elements
attached on its own edge at ``s``. Paths run from the grid element
(its own position, then the attachment segment) to the request's snapped point.
Requests no road connects to the grid (not snapped, ``fora_da_malha``, or in a
road component without grid) get the straight line to the nearest element times
the detour factor. Columns: ``docs/assessment.md``.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._util.parallel import cores
from geo_ip.network.gridgraph import (
    DEFAULT_MAX_ATTACH_M,
    DEFAULT_SAMPLE_STEP_M,
    MT_TIE,
    GridGraph,
    Tree,
    unique_points,
)
from geo_ip.network.kernels import _closest_per_group, assemble_paths, nearest
from geo_ip.schema import GRID_PATH

log = logging.getLogger(__name__)

GRIDPATH_COLUMNS = list(GRID_PATH)
"""Columns of the table returned by :func:`grid_paths` (:data:`geo_ip.schema.GRID_PATH`)."""

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
    trees: tuple[Tree | None, Tree | None]


class _Targets(NamedTuple):
    """The grid element each request's extension starts from, and how it is measured."""

    via: BoolArray  # along the roads
    fallback: BoolArray  # a straight line times the detour factor
    use_mt: BoolArray  # from the MT network (a new transformer)
    dist: FloatArray  # the extension, metres (NaN: none)
    straight: FloatArray  # straight line to the element chosen
    element: IntArray  # the grid element (-1: none)
    method: npt.NDArray[np.str_]  # metodo_distancia


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
    unique, inverse = unique_points(xy)
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


def _check_requests(requests: pd.DataFrame, lv_reach_m: float, detour_factor: float) -> None:
    """Raise ``ValueError`` on a missing column or a parameter out of range."""
    missing = [c for c in _REQUIRED if c not in requests.columns]
    if missing:
        raise ValueError(f"faltam colunas nos pedidos: {', '.join(missing)}")
    if lv_reach_m < 0 or detour_factor < 1:
        raise ValueError("alcance_bt deve ser >= 0 e fator_desvio >= 1")


def _origins(requests: pd.DataFrame) -> tuple[BoolArray, BoolArray, npt.NDArray[np.object_]]:
    """Where each request is measured from: (located, located and not ``fora_da_malha``, point).

    The point is the snapped one on the road, or the request's own point when it is not
    snapped or is ``fora_da_malha``; None where not located.
    """
    x, y, xv, yv = (_numbers(requests[c]) for c in ("x", "y", "x_via", "y_via"))
    located = np.isfinite(x) & np.isfinite(y)
    far = requests["fora_da_malha"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    snapped = located & ~far & np.isfinite(xv) & np.isfinite(yv)
    origin = np.full(len(requests), None, dtype=object)
    origin[located] = shapely.points(
        np.where(snapped, xv, x)[located], np.where(snapped, yv, y)[located]
    )
    return located, located & ~far, origin


def _log_paths(table: pd.DataFrame) -> None:
    """Log how the requests' extensions were measured, and how many need a transformer."""
    counts = table["metodo_distancia"].value_counts().to_dict()
    log.info(
        "caminho até a rede de %d pedidos: %d pela via, %d em linha reta × fator de desvio, "
        "%d sem rede, %d sem localização; %d precisam de transformador",
        len(table),
        counts.get("via", 0),
        counts.get("reta_fator_desvio", 0),
        counts.get("sem_rede", 0),
        counts.get("sem_localizacao", 0),
        int(table["transformador"].sum()),
    )


class GridNetwork(GridGraph):
    """Paths from the requests to the existing grid, on the road network built once.

    Built as :class:`~geo_ip.network.gridgraph.GridGraph`, with the same parameters
    (the ``vias`` and ``rede_existente`` layers, ``max_attach_m``, ``sample_step_m``
    and the ``stored`` attachment); :meth:`paths` gives the extension of every request.
    """

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
        self, tree: Tree | None, edge: IntArray, t: FloatArray
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
        cost[via_mt] = np.maximum(cost[via_mt] - MT_TIE, 0.0)
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
        shorter (by more than :data:`~geo_ip.network.gridgraph.MT_TIE`, 1 µm: a tie goes
        to LV); otherwise low
        voltage with a transformer. A request flagged
        ``fora_da_malha`` is measured from its own point, not from the road.
        """
        _check_requests(requests, lv_reach_m, detour_factor)
        located, reachable, origin = _origins(requests)
        edge, t = self._edges_of(requests)
        on_road = np.flatnonzero(reachable & (edge >= 0))
        route = self._routes(on_road, edge, t, lv_reach_m, allow_mt)
        target = self._targets(route, origin, located, lv_reach_m, detour_factor, allow_mt)
        geometry = np.full(len(requests), None, dtype=object)
        vr, fr = np.flatnonzero(target.via), np.flatnonzero(target.fallback)
        geometry[vr] = self._via_lines(
            route.trees, route.second[vr], route.mode[vr], edge[vr], t[vr], route.start[vr]
        )
        if fr.size:
            geometry[fr] = shapely.shortest_line(self._el_geom[target.element[fr]], origin[fr])
        table = self._table(target, lv_reach_m, requests.index)
        _log_paths(table)
        return table, gpd.GeoSeries(geometry, index=requests.index, crs=self.crs)

    def _targets(
        self,
        route: _Routes,
        origin: npt.NDArray[np.object_],
        located: BoolArray,
        lv_reach_m: float,
        detour_factor: float,
        allow_mt: bool,
    ) -> _Targets:
        """Choose each request's grid element: along the roads, else a straight line × detour."""
        cost = route.cost
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
        dist = np.select([via, fallback], [cost, straight * detour_factor], np.nan)
        element = np.where(fallback, np.where(use_mt, mt_near, lv_near), -1)
        element[via] = self._s_elem[route.start[via]]
        method = np.select(
            [via, fallback, located], ["via", "reta_fator_desvio", "sem_rede"], "sem_localizacao"
        )
        return _Targets(via, fallback, use_mt, dist, straight, element, method)

    def _table(self, target: _Targets, lv_reach_m: float, index: pd.Index) -> pd.DataFrame:
        """Write :data:`GRIDPATH_COLUMNS` of the requests (``index``)."""
        m = len(index)
        element = target.element
        hit = element >= 0
        tipo, ident = np.full(m, None, dtype=object), np.full(m, None, dtype=object)
        tipo[hit], ident[hit] = self._el_tipo[element[hit]], self._el_id[element[hit]]
        found = target.via | target.fallback
        return pd.DataFrame(
            {
                "distancia_rede_m": target.dist,
                "distancia_rede_reta_m": np.where(found, target.straight, np.nan),
                "metodo_distancia": target.method,
                "rede_alvo_tipo": tipo,
                "rede_alvo_id": ident,
                "transformador": target.use_mt | (found & (target.dist > lv_reach_m)),
            },
            index=index,
        )

    def _via_lines(
        self,
        trees: tuple[Tree | None, Tree | None],
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
