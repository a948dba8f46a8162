"""The catalog layers of the request maps (:mod:`geo_ip.registry.request_map`).

:class:`_CatalogLayer` turns each feature of a catalog layer (roads, grid, lighting,
facilities, occurrences, requests...) into GeoJSON once, shared by every map that shows
it; :func:`_catalog_layers` prepares them from the composition, and :func:`_positions`
chooses the features around each request (:data:`NEAR_M`, :data:`OTHER_REQUESTS_MAX`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_ip.outputs.maps import SPECIAL_LAYERS, MapLayer
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.geojson import clean
from geo_ip.outputs.web.layer_specs import STRETCH_TIP, catalog_spec
from geo_ip.outputs.web.layers import TO_CONFIRM
from geo_ip.registry.request_map_geometry import (
    CONTEXT_DECIMALS,
    OWN_DECIMALS,
    _feature,
    _groups,
    _kind,
    _near,
    _wgs84,
)
from geo_ip.registry.request_map_run import _Run
from geo_ip.registry.request_map_style import (
    _class_index,
    _class_styles,
    _label_tip,
    _Look,
    _marker,
    _placeholders,
    _Text,
    _tip,
)
from geo_ip.sources.catalog import Catalog

NEAR_M = 40.0
"""Distance (m) from the path and the request within which the existing grid and lighting
are shown (the grid element the path starts from always is); roads, facilities and
occurrences are shown this near the path and the candidate stretch, besides those in the
largest ring."""
OTHER_REQUESTS_MAX = 25
"""Most other requests a map shows around its request (the nearest): the overview shows all."""
_REQUEST_HEADER = ("protocolo", "posicao", "situacao", "pontuacao_total")
"""First fields of a request's popup, as in the Folium request popup."""
_NEAR_LAYERS = ("rede_existente", "pontos_ip")
"""Catalog layers shown only near the path and the request (:data:`NEAR_M`)."""
_MERGED = {"vias": ("length", "osmid", "highway")}
"""Layers drawn one feature per street (segments with the same popup merged), without
these fields: a city's streets are split at every crossing, and the length and OSM id
are the segment's; OSM's ``highway`` code is said by the road's class (``hierarquia``)."""


# --- the catalog layers ---------------------------------------------------------------------


class _CatalogLayer:
    """One catalog layer of the composition, each feature made once for every map.

    Parameters
    ----------
    layer : MapLayer
        The composition's entry.
    ident : str
        ``id`` of the layer in the JSON.
    js : dict
        Its Folium spec (:func:`catalog_spec`): title, classes, field labels, hover label.
    geometry : list of str
        The catalog geometry of each class (``ponto``, ``linha``, ``misto``).
    frame : geopandas.GeoDataFrame
        Public features in the metric CRS.
    text : _Text
        Popup text.
    decimals : int
        Decimals of the coordinates.
    crs : str
        Metric CRS.
    catalog : Catalog
        The layer catalog.
    """

    def __init__(
        self,
        layer: MapLayer,
        ident: str,
        js: dict[str, Any],
        geometry: list[str],
        frame: Any,
        text: _Text,
        decimals: int,
        crs: str,
        catalog: Catalog,
    ) -> None:
        self.layer, self.ident, self.text = layer, ident, text
        self.decimals, self.crs, self.frame = decimals, crs, frame
        classes = list(js["classes"])
        kinds = [{"linha", "ponto"} if g == "misto" else {g} for g in geometry]
        self.legend = [[str(c["rotulo"]), str(c["cor"])] for c in classes]
        self.stretch_class: int | None = None
        if layer.camada == "pedidos":  # a request pending location: its candidate stretch
            stretch = {
                k: v for k, v in classes[0].items() if k not in ("valor", "minimo", "maximo")
            }
            classes.append({**stretch, "cor": _pending_colour(js)})  # matches no value
            kinds.append({"linha"})
            self.legend.append([parts.STRETCH_LABEL, _pending_colour(js)])
            self.stretch_class = len(classes) - 1
        self.js = {**js, "classes": classes}
        self.styles = _class_styles(self.js, kinds)
        merged = _MERGED.get(layer.camada)
        self.merged = merged is not None
        columns = _popup_columns(layer, js, catalog)
        self.columns = [(c, la) for c, la in columns if c not in (merged or ())]
        labels = dict(self.columns)
        self.criteria = {
            final: suggested
            for _label, suggested, final in js.get("criterios", [])
            if final in labels
        }
        self.tip = js.get("dica")
        self.label_tip = _label_tip(self.tip, labels)
        self.campo = js.get("campo")
        self.class_of = _class_index(self.js)
        wanted = {c for c, _ in self.columns} | set(self.criteria.values())
        wanted |= set(_placeholders(self.tip)) | set(_placeholders(STRETCH_TIP))
        if self.campo:
            wanted.add(str(self.campo))
        self.values = {c: frame[c].tolist() for c in wanted if c in frame.columns}
        self.geoms = frame.geometry.to_numpy()
        self._wgs: np.ndarray | None = None
        self._cache: dict[int, dict[str, Any]] = {}
        self._keys: dict[int, str] = {}  # of a merged layer: its popup, as text
        self.look = _Look(
            ident,
            str(js["titulo"]),
            layer.visivel,
            _marker(js),
            self.styles,
            self.legend,
            list(dict.fromkeys(label for _column, label in self.columns)),
            self.label_tip,
        )

    def features(self, positions: np.ndarray) -> list[dict[str, Any]]:
        """Return the GeoJSON features at ``positions`` (each made once, then shared)."""
        if not len(positions):
            return []
        if self._wgs is None:  # the whole layer at once, the first time a map needs it
            self._wgs = _wgs84(self.geoms, self.crs, self.decimals)
        out = []
        for i in positions.tolist():
            found = self._cache.get(i)
            if found is None:
                found = self._cache[i] = self._make(i)
            out.append(found)
        if not self.merged:
            return out
        for i in positions.tolist():
            if i not in self._keys:
                feature = self._cache[i]
                if feature["geometry"]["type"] == "LineString":
                    key = json.dumps(feature["properties"], sort_keys=True, ensure_ascii=False)
                else:  # drawn alone
                    key = f"#{i}"
                self._keys[i] = key
        return _merge(out, [self._keys[i] for i in positions.tolist()])

    def _value(self, column: str, i: int) -> str | None:
        values = self.values.get(column)
        if values is None:
            return None
        if column in self.criteria:  # a criterion of Art. 9: suggested and final points
            final = self.text(self.layer.camada, column, values[i])
            suggested = self._value(self.criteria[column], i)
            if final is None and suggested is None:
                return None
            return f"sugerido {suggested or '—'} · final {final or '—'}"
        return self.text(self.layer.camada, column, values[i])

    def _make(self, i: int) -> dict[str, Any]:
        assert self._wgs is not None
        geom = self._wgs[i]
        stretch = self.stretch_class is not None and _kind(geom) == "linha"
        props: dict[str, Any] = {}
        for column, label in self.columns:
            text = self._value(column, i)
            if text is not None and label not in props:
                props[label] = text
        if stretch:
            index = self.stretch_class or 0
        else:
            values = self.values.get(str(self.campo)) if self.campo else None
            index = self.class_of(values[i]) if values is not None else 0
        if index:
            props["_c"] = index
        template = STRETCH_TIP if stretch else self.tip
        if stretch or (self.tip and not self.label_tip):  # a hover label of its own
            tip = _tip(template, {c: self._value(c, i) for c in _placeholders(template)})
            if tip:
                props["_dica"] = tip
        return _feature(geom, props)

    def as_json(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        """Return the layer of one map, with these features."""
        return self.look.layer(features)


def _merge(features: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Join the lines with the same properties (``keys``) into one feature each, in order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f, key in zip(features, keys, strict=True):
        groups.setdefault(key, []).append(f)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out += group
            continue
        lines = [f["geometry"]["coordinates"] for f in group]
        geometry = {"type": "MultiLineString", "coordinates": lines}
        out.append({"type": "Feature", "geometry": geometry, "properties": group[0]["properties"]})
    return out


def _pending_colour(js: dict[str, Any]) -> str:
    """Colour of a request drawn as its candidate stretch (pending location)."""
    for c in js.get("situacao", js)["classes"]:
        if c.get("valor") == "pendente_localizacao":
            return str(c["cor"])
    return str(js["classes"][0]["cor"])


def _popup_columns(layer: MapLayer, js: dict[str, Any], catalog: Catalog) -> list[tuple[str, str]]:
    """(field, label) of a catalog layer's popup: the Folium popup's fields, in order.

    A request's popup opens, as on the Folium maps, with its protocol, position,
    situation and points, its place to confirm and, where the composition lists
    them, the five criteria (suggested and final points in one line).
    """
    fields = [(str(f), str(label)) for f, label in js["campos"]]
    if layer.camada != "pedidos":
        return fields
    labels = {**layer_style("pedidos", catalog).campos, **dict(fields)}
    head = [(c, labels.get(c, c)) for c in _REQUEST_HEADER]
    place = [
        ("local_a_confirmar", TO_CONFIRM),
        ("confirmar_no_local", labels["confirmar_no_local"]),
    ]
    listed = set(layer.campos) if layer.campos is not None else None
    criteria = [
        (str(final), str(label))
        for label, _suggested, final in js.get("criterios", [])
        if listed is None or final in listed
    ]
    known = {c for c, _ in head + place + criteria}
    return head + place + criteria + [(c, lab) for c, lab in fields if c not in known]


# --- the features around each request -------------------------------------------------------


def _catalog_layers(run: _Run) -> dict[int, _CatalogLayer]:
    """Prepare the catalog layers of the composition the run has, by position in it."""
    sources, spec = run.sources, run.spec
    out: dict[int, _CatalogLayer] = {}
    taken: set[str] = set()
    for k, layer in enumerate(spec.camadas):
        if layer.camada in SPECIAL_LAYERS[spec.nome] or layer.camada not in sources.frames:
            continue
        js, style = catalog_spec(layer, spec, sources, count=0, link=None)
        ident = layer.camada if layer.filtro != "outros" else f"{layer.camada}_outros"
        while ident in taken:
            ident += "_2"
        taken.add(ident)
        out[k] = _CatalogLayer(
            layer,
            ident,
            js,
            [str(c.geometria or style.geometria) for c in style.classes],
            sources.frames[layer.camada],
            run.text,
            OWN_DECIMALS if layer.filtro == "pedido" else CONTEXT_DECIMALS,
            run.crs,
            sources.catalog,
        )
    return out


def _positions(run: _Run, entry: _CatalogLayer) -> list[np.ndarray]:
    """Features of a catalog layer on each request's map (one index query for all)."""
    n = len(run.centre)
    frame = entry.frame
    layer = entry.layer
    owner = frame["indice"].to_numpy(np.int64) if "indice" in frame.columns else None
    if layer.filtro == "pedido" and owner is not None:
        return _groups(owner, np.arange(len(frame)), n)
    if layer.camada == "pedidos" and owner is not None:
        return _nearest_requests(run, frame, owner, exclude=layer.filtro == "outros")
    tree = shapely.STRtree(frame.geometry.to_numpy())
    rows = np.arange(n, dtype=np.int64)
    pairs = [_near(tree, run.paths, rows, NEAR_M)]
    if layer.camada in _NEAR_LAYERS:  # the grid near the path and the (worse) position
        pairs.append(_near(tree, run.centre, rows, NEAR_M))
        if layer.camada == "rede_existente":
            pairs.append(_grid_targets(run, frame))
    else:  # within the largest ring, or along the path and the candidate stretch
        pairs += [
            _near(tree, run.centre, rows, run.largest),
            _near(tree, run.stretch, rows, NEAR_M),
        ]
    found = _groups(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]), n)
    if layer.filtro == "outros" and owner is not None:
        found = [f[owner[f] != i] for i, f in enumerate(found)]
    return found


def _nearest_requests(
    run: _Run, frame: Any, owner: np.ndarray, *, exclude: bool
) -> list[np.ndarray]:
    """Find the :data:`OTHER_REQUESTS_MAX` requests nearest each one, in the largest ring.

    A k-d tree on the pins (its cost does not grow with the density of requests) and a
    spatial index on the candidate stretches (a few), nearest first, then in order.
    """
    n = len(run.centre)
    out = [np.zeros(0, np.int64) for _ in range(n)]
    where = np.flatnonzero(run.located)
    if not len(where) or not len(frame):
        return out
    geoms = frame.geometry.to_numpy()
    pins = np.flatnonzero(shapely.get_type_id(geoms) == 0)
    lines = np.setdiff1d(np.arange(len(geoms)), pins)
    centres = run.centre[where].astype(object)
    xy = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    k = min(OTHER_REQUESTS_MAX + 1, len(pins))
    found_d = np.full((len(where), 0), np.inf)
    found_i = np.zeros((len(where), 0), np.int64)
    if k:
        tree = cKDTree(shapely.get_coordinates(geoms[pins]))
        distance, index = tree.query(xy, k=k, distance_upper_bound=run.largest)
        distance, index = distance.reshape(len(where), k), index.reshape(len(where), k)
        hit = index < len(pins)
        found_d = np.where(hit, distance, np.inf)
        found_i = np.where(hit, pins[np.minimum(index, len(pins) - 1)], -1)
    line_pairs: dict[int, list[tuple[float, int]]] = {}
    if len(lines):
        stretches = shapely.STRtree(geoms[lines])
        rows, hits = stretches.query(centres, predicate="dwithin", distance=run.largest)
        gaps = shapely.distance(centres[rows], geoms[lines][hits])
        for r, h, d in zip(rows.tolist(), hits.tolist(), gaps.tolist(), strict=True):
            line_pairs.setdefault(r, []).append((d, int(lines[h])))
    for r, i in enumerate(where.tolist()):
        pairs = [
            (d, p) for d, p in zip(found_d[r].tolist(), found_i[r].tolist(), strict=True) if p >= 0
        ] + line_pairs.get(r, [])
        if exclude:
            pairs = [(d, p) for d, p in pairs if owner[p] != i]
        pairs.sort()
        out[i] = np.sort(np.asarray([p for _d, p in pairs[:OTHER_REQUESTS_MAX]], np.int64))
    return out


def _grid_targets(run: _Run, grid: Any) -> tuple[np.ndarray, np.ndarray]:
    """(request, position) of the grid element each path starts from (``rede_alvo_id``)."""
    if not {"fonte", "id_origem"} <= set(grid.columns):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = (grid["fonte"].astype(str) + ":" + grid["id_origem"].astype(str)).tolist()
    where: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        where.setdefault(key, []).append(position)
    rows: list[int] = []
    found: list[int] = []
    for i, public in enumerate(run.public):
        key = clean(public.get("rede_alvo_id"))
        hit = where.get(str(key)) if run.located[i] and key is not None else None
        if hit:
            rows += [i] * len(hit)
            found += hit
    return np.asarray(rows, np.int64), np.asarray(found, np.int64)
