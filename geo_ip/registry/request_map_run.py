"""What the request maps of one run share (:mod:`geo_ip.registry.request_map`).

:class:`_Run` holds the run's sources, composition, popup text, the specs of the map's
own layers (:func:`_own_specs`, read from the Folium request map), and each request's
centre, candidate stretch, path and rings; :func:`_located` finds the centres and
:func:`_limits` the bounds of each map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely

from geo_ip.outputs.format import candidate_stretch
from geo_ip.outputs.maps import MapSpec
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.geojson import to_wgs84
from geo_ip.outputs.web.layers import MapSources
from geo_ip.outputs.web.request import request_layers
from geo_ip.registry.request_map_geometry import _valid
from geo_ip.registry.request_map_style import _Text

_RING_STYLE = ("weight", "opacity", "dashArray", "fill")
"""Options of the Folium rings kept for Leaflet (the colour is each ring's)."""


# --- the map's own layers, as the Folium request map draws them -----------------------------


@dataclass
class _OwnSpecs:
    """Titles, classes, field labels and ring style of the Folium request map's own layers."""

    specs: dict[str, dict[str, Any]]
    ring: dict[str, Any]


def _own_specs(sources: MapSources, spec: MapSpec, located: np.ndarray) -> _OwnSpecs:
    """Read the specs of the own layers from the Folium elements of one request's map.

    The labels and classes do not depend on the request; a request with a path is
    taken so that the connection's layer is built too.
    """
    paths = np.full(len(sources.assessment.table), None, dtype=object)
    given = np.asarray(sources.assessment.paths.array, dtype=object)[: len(paths)]
    paths[: len(given)] = given
    with_path = located[_valid(paths[located])]
    index = int(with_path[0]) if len(with_path) else int(located[0])
    built = request_layers(sources, index, spec)
    specs: dict[str, dict[str, Any]] = {}
    ring: dict[str, Any] = {"weight": 2, "dashArray": "8 6", "fill": False}
    for name, own in built.own.items():
        for element in own.elements:
            if isinstance(element, parts.Layer):
                specs[name] = json.loads(element.spec)
            elif isinstance(element, folium.Circle):
                ring = {k: element.options[k] for k in _RING_STYLE if k in element.options}
    return _OwnSpecs(specs, ring)


# --- the whole run --------------------------------------------------------------------------


_PUBLIC_COLUMNS = (
    "aresta_u", "aresta_v", "aresta_key", "x_via", "y_via", "logradouro_via",
    "distancia_via_m", "rede_alvo_tipo", "rede_alvo_id", "metodo_distancia",
)  # fmt: skip
"""Columns of the public view the own layers read."""


@dataclass
class _Run:
    """Everything the maps of one run share."""

    sources: MapSources
    spec: MapSpec
    text: _Text
    own: _OwnSpecs
    centre: np.ndarray  # metric points (None where not located)
    centre_wgs: np.ndarray  # the same, WGS 84, OWN_DECIMALS
    stretch: np.ndarray  # candidate stretches (None but for requests pending location)
    paths: np.ndarray  # extension paths (None where none)
    rings: list[tuple[float, str, str]]
    largest: float
    located: np.ndarray  # bool
    public: list[dict[str, Any]]  # _PUBLIC_COLUMNS of each row

    @property
    def crs(self) -> str:
        return self.sources.assessment.crs


def _located(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre of each request (its worse position when pending location) and its stretch."""
    n = len(table)

    def number(column: str) -> np.ndarray:
        if column not in table.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64).copy()

    x, y = number("x"), number("y")
    located = np.isfinite(x) & np.isfinite(y)
    stretch = np.full(n, None, dtype=object)
    if "trecho_candidato" in table.columns and "situacao" in table.columns:
        pending = located & table["situacao"].astype(str).eq("pendente_localizacao").to_numpy()
        x_road, y_road = number("x_via"), number("y_via")
        for i in np.flatnonzero(pending).tolist():
            found = candidate_stretch(table.iloc[i])
            if found is None:
                continue
            stretch[i] = found
            if np.isfinite(x_road[i]) and np.isfinite(y_road[i]):
                x[i], y[i] = x_road[i], y_road[i]  # the evidence is the worse position's
    centre = np.full(n, None, dtype=object)
    centre[located] = shapely.points(x[located], y[located])
    return centre, stretch, located


def _limits(run: _Run) -> np.ndarray:
    """``[s, w, n, e]`` of each map: the largest ring, the path and the stretch."""
    n = len(run.centre)
    box = np.full((n, 4), np.nan)
    where = run.located
    x = shapely.get_x(run.centre[where].astype(object))
    y = shapely.get_y(run.centre[where].astype(object))
    r = run.largest
    box[where] = np.column_stack([x - r, y - r, x + r, y + r])
    for extra in (run.paths, run.stretch):
        b = shapely.bounds(np.asarray(extra, dtype=object))
        box[:, :2] = np.fmin(box[:, :2], b[:, :2])
        box[:, 2:] = np.fmax(box[:, 2:], b[:, 2:])
    transformer = to_wgs84(run.crs)
    # the four corners: a metric box is not one in longitude and latitude
    lon, lat = transformer.transform(box[:, [0, 0, 2, 2]], box[:, [1, 3, 1, 3]])
    lon, lat = np.asarray(lon), np.asarray(lat)
    limits = np.column_stack([lat.min(1), lon.min(1), lat.max(1), lon.max(1)])
    # outwards to the 6th decimal (about 0.1 m), so the rounding loses nothing
    return np.column_stack([np.floor(limits[:, :2] * 1e6), np.ceil(limits[:, 2:] * 1e6)]) / 1e6
