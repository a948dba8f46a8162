"""Geometry of the request maps (:mod:`geo_ip.registry.request_map`).

Projection to WGS 84 with the rounding of :data:`OWN_DECIMALS` and
:data:`CONTEXT_DECIMALS`, GeoJSON geometries and features, and the spatial grouping of
features by request (one index query for every request at once).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely

from geo_ip.outputs.web.geojson import to_wgs84

OWN_DECIMALS = 7
"""Decimals of the request's own geometries (path, poles, connection, its point and
stretch, the centre of the rings): 1e-7 degree, about 1 cm."""
CONTEXT_DECIMALS = 5
"""Decimals of the territory's features (roads, grid, facilities, occurrences, the
evidence counted among them) and of the other requests: about 1 m, as the Folium maps."""


def _wgs84(geoms: np.ndarray, crs: str, decimals: int) -> np.ndarray:
    """Project metric geometries to longitude/latitude, rounded (None stays None)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    transformer = to_wgs84(crs)

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), decimals)

    return np.asarray(shapely.transform(geoms, project), dtype=object)


def _geometry(geom: Any) -> dict[str, Any]:
    """GeoJSON geometry of a shapely one (already in WGS 84)."""
    kind = geom.geom_type
    if kind == "Point":
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": shapely.get_coordinates(geom).tolist()}
    out: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return out


def _feature(geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _geometry(geom), "properties": props}


def _kind(geom: Any) -> str:
    return "ponto" if shapely.get_type_id(geom) in (0, 4) else "linha"


def _valid(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def _groups(rows: np.ndarray, positions: np.ndarray, n: int) -> list[np.ndarray]:
    """Positions of each of ``n`` requests from (request, position) pairs, unique and sorted."""
    rows, positions = np.asarray(rows, np.int64), np.asarray(positions, np.int64)
    order = np.lexsort((positions, rows))
    rows, positions = rows[order], positions[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (positions[1:] != positions[:-1])
    rows, positions = rows[keep], positions[keep]
    bounds = np.searchsorted(rows, np.arange(n + 1))
    return [positions[bounds[i] : bounds[i + 1]] for i in range(n)]


def _near(
    tree: shapely.STRtree, geoms: np.ndarray, owners: np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """(request, position) pairs of the features within ``distance`` of each geometry."""
    keep = _valid(geoms)
    if not keep.any() or not len(tree.geometries):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    hit_input, hit_tree = tree.query(geoms[keep], predicate="dwithin", distance=distance)
    return owners[keep][hit_input], hit_tree
