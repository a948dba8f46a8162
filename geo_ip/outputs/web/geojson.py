"""Compact GeoJSON of the web-map layers: WGS 84, rounded, public fields only.

Every layer is one GeoJSON FeatureCollection, serialised once: coordinates rounded to
5 decimals (about 1 m), only the fields a popup, a hover label or the renderer needs,
empty values left out. Features are kept as JSON strings with a spatial index
(:class:`LayerData`), so the map of each request takes the features around it without
serialising them again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

__all__ = [
    "DECIMALS",
    "LayerData",
    "clean",
    "collection",
    "expand",
    "layer_data",
    "to_wgs84",
    "wgs84_bounds",
]

DECIMALS = 5
"""Decimals of longitude and latitude (1e-5 degree ≈ 1.1 m)."""


def clean(value: Any) -> Any:
    """Return a value as JSON for a popup, or None when empty.

    Parameters
    ----------
    value : object
        A table cell: text, a number, a NumPy scalar, NA, a date or a list.

    Returns
    -------
    object
        ``str``, ``int`` or ``float`` (2 decimals; whole numbers as ``int``); booleans
        as ``"sim"``/``"não"``, dates in ISO format, lists joined by ``"; "``; None for
        NaN, NA, None and blanks.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else round(value, 2)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | np.ndarray):
        return "; ".join(str(v) for v in value) or None
    text = str(value).strip()
    return text or None


class _Records(Sequence[dict[str, Any]]):
    """The :func:`clean` properties of each row of a frame, made when first asked for.

    A city's roads are many and a map shows a few of them: cleaning every cell up front
    would cost more than the map.
    """

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        self.columns = [c for c in columns if c in frame.columns]
        self._values = [frame[c].tolist() for c in self.columns]
        self._n = len(frame)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        out: dict[str, Any] = {}
        for column, values in zip(self.columns, self._values, strict=True):
            v = clean(values[i])
            if v is not None:
                out[column] = v
        return out

    def fields(self, rows: np.ndarray) -> tuple[str, ...]:
        """Columns with a value in at least one of ``rows`` (sorted)."""
        found = []
        for column, values in zip(self.columns, self._values, strict=True):
            if any(clean(values[i]) is not None for i in rows.tolist()):
                found.append(column)
        return tuple(sorted(found))


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> _Records:
    return _Records(frame, columns)


def _safe(text: str) -> str:
    """JSON that can sit inside a ``<script>`` element."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _geometry_json(geom: Any) -> str:
    """Serialise a point as ``[lon,lat]``, a line as ``[[lon,lat],...]``, else as GeoJSON."""
    if geom.geom_type == "Point":
        return json.dumps([geom.x, geom.y], separators=(",", ":"))
    if geom.geom_type == "LineString":  # most of a map: roads, grid lines, extensions
        return json.dumps(shapely.get_coordinates(geom).tolist(), separators=(",", ":"))
    return json.dumps(shapely.geometry.mapping(geom), separators=(",", ":"))


@dataclass
class LayerData:
    """One layer's features as JSON strings, with their metric geometries and an index.

    The layer's JSON is compact (``geoIp.expande`` in ``mapa.js`` turns it into a
    GeoJSON FeatureCollection): ``{"campos": [field, ...], "feicoes": [[geometry,
    [value, ...]], ...]}``, field names written once, a point as ``[lon, lat]``, a
    line as its coordinates ``[[lon, lat], ...]`` (other geometries as GeoJSON), a
    missing value as ``null`` and trailing ones left out.

    Attributes
    ----------
    fields : tuple of str
        Property names, in the order of each feature's values.
    features : numpy.ndarray of str
        One ``[geometry,[values]]`` per feature (WGS 84, rounded), each serialised the
        first time a map takes it (a city's roads are many; a map takes a few).
    geometry : numpy.ndarray of shapely.Geometry
        The same features in the territory's metric CRS.
    owner : numpy.ndarray of int
        Row of ``Assessment.table`` each feature belongs to (-1: none).
    tree : shapely.STRtree
        Index on :attr:`geometry`.
    """

    fields: tuple[str, ...]
    geometry: np.ndarray
    owner: np.ndarray
    tree: shapely.STRtree
    _crs: str
    _props: Sequence[dict[str, Any]]  # one per input row
    _rows: np.ndarray  # input row of each feature
    _json: np.ndarray  # serialised features, filled as they are first asked for
    _done: np.ndarray  # which of them are

    @property
    def features(self) -> np.ndarray:
        """One ``[geometry,[values]]`` string per feature (every feature serialised)."""
        return self._features(np.arange(len(self.geometry)))

    def _features(self, positions: np.ndarray) -> np.ndarray:
        """Return the features at ``positions``, each serialised once for all maps."""
        todo = np.unique(positions[~self._done[positions]])
        if len(todo):
            wgs = _to_wgs84(self.geometry[todo], self._crs)
            for i, g in zip(todo.tolist(), wgs, strict=True):
                props = self._props[int(self._rows[i])]
                self._json[i] = f"[{_geometry_json(g)},{_values(props, self.fields)}]"
            self._done[todo] = True
        return self._json[positions]

    @classmethod
    def build(
        cls,
        geometry: Iterable[Any],
        properties: Sequence[dict[str, Any]],
        crs: str,
        owner: Sequence[int] | np.ndarray | None = None,
    ) -> LayerData:
        """Prepare features to be serialised once, when a map first needs them.

        Parameters
        ----------
        geometry : iterable of shapely.Geometry
            In ``crs`` (None or empty geometries are dropped with their row).
        properties : sequence of dict
            One per geometry, already :func:`clean` (None values are left out).
        crs : str
            CRS of ``geometry``.
        owner : sequence of int, optional
            Row of ``Assessment.table`` each feature belongs to (-1: none).

        Returns
        -------
        LayerData
            The layer.
        """
        geoms = np.asarray(list(geometry), dtype=object).reshape(-1)
        keys = np.full(len(geoms), -1, dtype=np.int64) if owner is None else np.asarray(owner)
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        geoms, keys = geoms[keep], keys[keep]
        if len(properties) != len(keep):
            raise ValueError(f"{len(properties)} propriedades para {len(keep)} geometrias")
        rows = np.flatnonzero(keep)
        if isinstance(properties, _Records):
            fields = properties.fields(rows)
        else:
            kept = [properties[i] for i in rows.tolist()]
            fields = tuple(sorted({k for p in kept for k, v in p.items() if v is not None}))
        tree = shapely.STRtree(geoms)
        pending = np.full(len(geoms), None, dtype=object)
        done = np.zeros(len(geoms), bool)
        return cls(fields, geoms, keys, tree, crs, properties, rows, pending, done)

    def select(
        self, area: shapely.Geometry | None = None, owner: int | None = None, *, other: bool = False
    ) -> np.ndarray:
        """Return the positions of the features in ``area`` and of request ``owner``.

        In order; all features when ``area`` is None; with ``other``, those of every
        request but ``owner``.

        Parameters
        ----------
        area : shapely.Geometry, optional
            In the metric CRS.
        owner : int, optional
            Row of ``Assessment.table``.
        other : bool
            Keep the features *not* of ``owner``.

        Returns
        -------
        numpy.ndarray of int
            Positions in :attr:`features`.
        """
        if area is None:
            found = np.arange(len(self.geometry))
        else:
            found = np.sort(self.tree.query(area, predicate="intersects"))
        if owner is not None:
            mine = self.owner[found] == owner
            found = found[~mine] if other else found[mine]
        return found

    def json(self, positions: np.ndarray | None = None) -> str:
        """Compact JSON of the features at ``positions`` (all when None), script-safe."""
        parts = self.features if positions is None else self._features(np.asarray(positions))
        return collection(self.fields, parts.tolist())

    def near(self, geometries: np.ndarray, distance: float) -> np.ndarray:
        """Return the positions of the features within ``distance`` of any of ``geometries``.

        Parameters
        ----------
        geometries : numpy.ndarray of shapely.Geometry
            In the metric CRS (None entries are ignored).
        distance : float
            Metres.

        Returns
        -------
        numpy.ndarray of int
            Positions in :attr:`features`, in order.
        """
        geoms = np.asarray(geometries, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if not len(geoms) or not len(self.geometry):
            return np.zeros(0, dtype=np.int64)
        _, hit = self.tree.query(geoms, predicate="dwithin", distance=distance)
        return np.unique(hit).astype(np.int64)

    def __len__(self) -> int:
        return len(self.geometry)


@cache
def to_wgs84(crs: str) -> Transformer:
    """Return the transformer from a metric CRS to longitude/latitude (cached)."""
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _to_wgs84(geoms: np.ndarray, crs: str) -> np.ndarray:
    if not len(geoms):
        return geoms
    transformer = to_wgs84(crs)

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), DECIMALS)

    out = shapely.transform(geoms, project)
    return shapely.remove_repeated_points(out)


def _values(props: dict[str, Any], fields: Sequence[str]) -> str:
    values = [props.get(f) for f in fields]
    while values and values[-1] is None:
        values.pop()
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def collection(fields: Sequence[str], parts: Iterable[str]) -> str:
    """Join serialised features into the compact layer JSON, safe inside ``<script>``.

    Parameters
    ----------
    fields : sequence of str
        Property names (:attr:`LayerData.fields`).
    parts : iterable of str
        Features from :attr:`LayerData.features`.

    Returns
    -------
    str
        JSON text ``{"campos": [...], "feicoes": [...]}``.
    """
    head = json.dumps(list(fields), separators=(",", ":"), ensure_ascii=False)
    return _safe('{"campos":' + head + ',"feicoes":[' + ",".join(parts) + "]}")


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """Turn a layer's compact JSON back into a GeoJSON FeatureCollection (as mapa.js does).

    Parameters
    ----------
    data : dict
        Parsed :func:`collection` output.

    Returns
    -------
    dict
        FeatureCollection.
    """
    features = []
    for geometry, values in data["feicoes"]:
        if isinstance(geometry, list):
            kind = "LineString" if geometry and isinstance(geometry[0], list) else "Point"
            geometry = {"type": kind, "coordinates": geometry}
        props = {k: v for k, v in zip(data["campos"], values, strict=False) if v is not None}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def wgs84_bounds(geoms: Iterable[Any], crs: str, pad_m: float = 0.0) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of metric geometries, padded by ``pad_m``.

    Parameters
    ----------
    geoms : iterable of shapely.Geometry
        In ``crs``.
    crs : str
        Metric CRS.
    pad_m : float
        Margin in metres.

    Returns
    -------
    list of list of float
        Bounds in WGS 84 (a default box in Minas Gerais when there is no geometry).
    """
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(list(geoms), dtype=object))
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return [[-23.0, -46.5], [-22.5, -46.0]]
    t = to_wgs84(crs)
    w, s = t.transform(xmin - pad_m, ymin - pad_m)
    e, n = t.transform(xmax + pad_m, ymax + pad_m)
    return [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


def layer_data(
    frame: gpd.GeoDataFrame, columns: Sequence[str], crs: str, owner: str | None = None
) -> LayerData:
    """Serialise a frame's features with only ``columns`` (those present).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in ``crs``.
    columns : sequence of str
        Properties to keep.
    crs : str
        CRS of ``frame``.
    owner : str, optional
        Column holding the row of ``Assessment.table`` of each feature.

    Returns
    -------
    LayerData
        The layer.
    """
    frame = frame.to_crs(crs) if frame.crs is not None and str(frame.crs) != crs else frame
    keys = frame[owner].to_numpy() if owner is not None else None
    return LayerData.build(frame.geometry.to_numpy(), _records(frame, columns), crs, keys)
