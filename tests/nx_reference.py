"""Reference for :class:`geo_ip.network.gridpath.GridNetwork`: networkx, one search a request.

The roads become an undirected networkx graph in which every road edge is split at the
attachment of every grid sample (grid points as they are, lines densified every
``step`` metres, each sample attached to its nearest road edge within ``max_attach_m``,
lowest edge on ties, as the territory's edge order gives them); each split point is
joined to a sink ``"G"`` by its attachment distance. The grid distance of a request at
position ``t`` of an edge is then the shortest path from a node ``"R"`` placed at ``t``
to the sink: one networkx Dijkstra per request, no super-source, no shortest-path
forest, no path assembly — nothing shared with the array kernels but shapely.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from geo_ip.network.roads import RoadIndex

LV = ("bt", "poste", "ponto_ip", "transformador", "via_iluminada")
"""Grid types a low-voltage extension starts from (docs/assessment.md)."""
MT = ("mt",)
"""Medium-voltage grid types."""


def snap(
    roads: gpd.GeoDataFrame, points: list[tuple[float, float]], snap_max: float = 150.0
) -> pd.DataFrame:
    """Requests at ``points`` (x, y) snapped to ``roads`` as ``assess`` does."""
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    snapped = RoadIndex(roads).snap(x, y, snap_max)
    return pd.concat([pd.DataFrame({"x": x, "y": y}), snapped], axis=1)


def _key(geom: LineString) -> bytes:
    return bytes(shapely.to_wkb(shapely.set_precision(geom, 0.001, mode="pointwise")))


@dataclass(frozen=True)
class Reached:
    """Reference result of one request: grid distance, and the elements at that distance."""

    cost: float  # inf: no road leads to the grid
    elements: frozenset[int]  # rows of ``grid`` whose samples are reached at ``cost``


class NxReference:
    """Split-edge networkx graph of ``roads`` with the ``grid`` elements of ``types``.

    Parameters
    ----------
    roads, grid : GeoDataFrame
        The territory's ``vias`` and ``rede_existente`` layers.
    types : tuple of str
        Grid types used (``LV`` or ``MT``).
    max_attach_m, step : float
        Attachment limit and densification step (the defaults of ``GridNetwork``).
    """

    def __init__(
        self,
        roads: gpd.GeoDataFrame,
        grid: gpd.GeoDataFrame,
        types: tuple[str, ...],
        *,
        max_attach_m: float = 60.0,
        step: float = 10.0,
    ) -> None:
        self.grid = grid.reset_index(drop=True)
        # undirected edges, oriented from the lower node, reverse twins merged (first wins)
        self._edge_of: dict[tuple[int, int, bytes], int] = {}
        ends: list[tuple[int, int]] = []
        lines: list[LineString] = []
        for u, v, geom in zip(roads["u"], roads["v"], roads.geometry, strict=True):
            u, v = int(u), int(v)
            oriented = geom if u <= v else geom.reverse()
            a, b = min(u, v), max(u, v)
            for g in (oriented, oriented.reverse()) if a == b else (oriented,):
                if (a, b, _key(g)) in self._edge_of:
                    break
            else:
                self._edge_of[(a, b, _key(oriented))] = len(lines)
                ends.append((a, b))
                lines.append(oriented)
        self.lines = np.array(lines, dtype=object)
        tree = shapely.STRtree(self.lines)
        # attach every sample of the chosen elements to its nearest edge
        chosen = np.flatnonzero(self.grid["tipo"].isin(types).to_numpy())
        dense = shapely.segmentize(self.grid.geometry.to_numpy()[chosen], step)
        sxy, owner = shapely.get_coordinates(dense, return_index=True)
        points = np.asarray(shapely.points(sxy), dtype=object)
        (src, hit), dist = tree.query_nearest(
            points, max_distance=max_attach_m, return_distance=True, all_matches=True
        )
        first = pd.DataFrame({"p": src, "e": hit, "d": dist}).sort_values(["p", "e"])
        first = first.drop_duplicates("p")
        splits: dict[int, list[tuple[float, Any]]] = {}
        for p, e, _d in first.itertuples(index=False):
            s = float(shapely.line_locate_point(self.lines[e], points[p]))
            splits.setdefault(int(e), []).append((s, ("s", int(p))))
        self.sample_element = chosen[owner]
        self.graph = nx.Graph()
        self.chains: list[list[tuple[float, Any]]] = []
        for i, (a, b) in enumerate(ends):
            chain = [(0.0, a), *sorted(splits.get(i, []), key=lambda c: c[0])]
            chain.append((float(self.lines[i].length), b))
            self.chains.append(chain)
            for (s0, n0), (s1, n1) in itertools.pairwise(chain):
                if n0 == n1:
                    continue
                w = s1 - s0
                if self.graph.has_edge(n0, n1):
                    w = min(w, self.graph[n0][n1]["weight"])
                self.graph.add_edge(n0, n1, weight=w)
        for p, d in zip(first["p"], first["d"], strict=True):
            self.graph.add_edge(("s", int(p)), "G", weight=float(d))

    def locate(self, row: Any, pos: float) -> tuple[int, float]:
        """Undirected edge and position along it of a request ``pos`` m along road ``row``."""
        u, v, geom = int(row.u), int(row.v), row.geometry
        a, b = min(u, v), max(u, v)
        for g, forward in ((geom, True), (geom.reverse(), False)):
            edge = self._edge_of.get((a, b, _key(g)))
            if edge is not None:
                length = float(self.lines[edge].length)
                return edge, min(max(pos if forward else length - pos, 0.0), length)
        raise KeyError((u, v))

    def reach(self, edge: int, t: float, *, ties: bool = False) -> Reached:
        """Shortest road path from position ``t`` of ``edge`` to any attached sample.

        ``elements`` holds the element of the path found; with ``ties``, every element
        reached at the same cost (within 1e-9 relative).
        """
        chain = self.chains[edge]
        k = max(j for j, c in enumerate(chain) if c[0] <= t)
        k = min(k, len(chain) - 2)
        for node, w in ((chain[k][1], t - chain[k][0]), (chain[k + 1][1], chain[k + 1][0] - t)):
            if not self.graph.has_edge("R", node) or self.graph["R"][node]["weight"] > w:
                self.graph.add_edge("R", node, weight=max(w, 0.0))
        try:
            try:
                cost, path = nx.single_source_dijkstra(self.graph, "R", "G")
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                return Reached(math.inf, frozenset())
            found = {int(self.sample_element[path[-2][1]])}
            if ties:  # every sample whose path ties with the best (a lamp on a pole...)
                limit = cost * (1 + 1e-9) + 1e-9
                ball = nx.single_source_dijkstra_path_length(self.graph, "R", cutoff=limit)
                found |= {
                    int(self.sample_element[n[1]])
                    for n, d in ball.items()
                    if isinstance(n, tuple) and d + self.graph[n]["G"]["weight"] <= limit
                }
            return Reached(float(cost), frozenset(found))
        finally:
            self.graph.remove_node("R")

    def distances(
        self, roads: gpd.GeoDataFrame, requests: pd.DataFrame, *, ties: bool = False
    ) -> list[Reached]:
        """:meth:`reach` of every snapped request (``aresta_*``, ``posicao_aresta_m``)."""
        by_key = {
            (int(u), int(v), int(k)): i
            for i, (u, v, k) in enumerate(zip(roads["u"], roads["v"], roads["key"], strict=True))
        }
        out = []
        r: Any
        for r in requests.itertuples():
            row = roads.iloc[by_key[(int(r.aresta_u), int(r.aresta_v), int(r.aresta_key))]]
            edge, t = self.locate(row, float(r.posicao_aresta_m))
            out.append(self.reach(edge, t, ties=ties))
        return out
