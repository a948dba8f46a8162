"""Road-network operations shared by the request and assessment steps.

Snapping puts every located request on its nearest road edge with vectorised
STRtree queries over the territory's cached edge geometries
(:func:`geo_ip.network.kernels.nearest`, on every core; never a per-request
search, never ``osmnx.nearest_edges``, which rebuilds the edge table on every call).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip._util.parallel import cores
from geo_ip.network.kernels import nearest
from geo_ip.schema import SNAPPED

SNAP_COLUMNS = list(SNAPPED)
"""Columns added by :meth:`RoadIndex.snap`, in order (:data:`geo_ip.schema.SNAPPED`)."""


class RoadIndex:
    """Spatial index over the road edges of a territory, built once.

    Parameters
    ----------
    roads : GeoDataFrame
        The territory's ``vias`` layer (metric CRS) with ``u``, ``v``, ``key``,
        ``name``, ``hierarquia`` and LineString geometries.
    """

    def __init__(self, roads: gpd.GeoDataFrame) -> None:
        self.roads = roads.reset_index(drop=True)
        self.geoms = self.roads.geometry.values
        self.tree = shapely.STRtree(self.geoms)

    def snap(self, x: np.ndarray, y: np.ndarray, max_distance: float) -> pd.DataFrame:
        """Snap points to their nearest edge.

        Parameters
        ----------
        x, y : numpy.ndarray
            Coordinates in the roads' CRS; NaN for points that have no location
            (they get empty snap columns).
        max_distance : float
            Points farther than this from every road are flagged
            ``fora_da_malha`` (they keep their nearest edge and distance, and
            later steps use their straight-line position).

        Returns
        -------
        DataFrame
            One row per point with :data:`SNAP_COLUMNS`. Among edges at the same
            distance (the two directions of a two-way street) the first edge of
            the layer is taken, so the result is deterministic.
        """
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        n = len(x)
        out = pd.DataFrame(
            {
                "aresta_u": pd.array([pd.NA] * n, dtype="Int64"),
                "aresta_v": pd.array([pd.NA] * n, dtype="Int64"),
                "aresta_key": pd.array([pd.NA] * n, dtype="Int64"),
                "posicao_aresta_m": np.full(n, np.nan),
                "x_via": np.full(n, np.nan),
                "y_via": np.full(n, np.nan),
                "logradouro_via": pd.array([None] * n, dtype="object"),
                "hierarquia_via": pd.array([None] * n, dtype="object"),
                "distancia_via_m": np.full(n, np.nan),
                "fora_da_malha": np.zeros(n, dtype=bool),
            }
        )
        located = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if located.size == 0 or len(self.roads) == 0:
            return out
        points = np.asarray(shapely.points(x[located], y[located]))
        # the nearest edge, the lowest edge index among equidistant ones, on every core
        src, edge, dist = nearest(
            self.tree, x[located], y[located], None, points=points, threads=cores()
        )
        rows = located[src]
        lines = self.geoms[edge]
        along = shapely.line_locate_point(lines, points[src])
        on_road = shapely.line_interpolate_point(lines, along)
        columns = ("u", "v", "key", "name", "hierarquia")
        chosen = {c: self.roads[c].iloc[edge].to_numpy() for c in columns}
        out.loc[rows, "aresta_u"] = chosen["u"]
        out.loc[rows, "aresta_v"] = chosen["v"]
        out.loc[rows, "aresta_key"] = chosen["key"]
        out.loc[rows, "posicao_aresta_m"] = along
        out.loc[rows, "x_via"] = shapely.get_x(on_road)
        out.loc[rows, "y_via"] = shapely.get_y(on_road)
        out.loc[rows, "logradouro_via"] = chosen["name"]
        out.loc[rows, "hierarquia_via"] = chosen["hierarquia"]
        out.loc[rows, "distancia_via_m"] = dist
        out.loc[rows, "fora_da_malha"] = dist > max_distance
        return out
