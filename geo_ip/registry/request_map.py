"""The map of each request as JSON, for the registry's snapshots and the web app's page.

:func:`snapshot_maps` turns one assessment run into one small JSON document per request
(stored in ``instantaneos.mapa``), which ``geo_ip/webapp/static/pedido_mapa.js`` draws
with the vendored Leaflet: no Folium, no inline script. It is the request map of
``maps/pedido.toml`` (:func:`geo_ip.outputs.web.webmap.request_map`) read from the same
sources:

- the catalog layers (roads by hierarchy, grid, lighting, facilities, occurrences, the
  other requests, the extension, its new poles and the request itself) come from
  :class:`geo_ip.outputs.web.layers.MapSources` (public frames: requests through
  :func:`geo_ip.requests.privacy.public_view`), each with the spec
  :func:`geo_ip.outputs.web.layer_specs.catalog_spec` gives the Folium map (title,
  classes, colours, field labels, hover label);
- the map's own layers (the request's road, the connection to the grid, the rings of
  the rules' radii, the evidence counted) take their titles, classes and field labels
  from the elements :func:`geo_ip.outputs.web.request.request_layers` builds for the
  Folium map (read once per run), and their data from the assessment, for every
  request at once.

Every request is handled at once: each territory layer is read once (by
:class:`MapSources`), the features around every request are found with one spatial
index query per layer, and each feature is turned into GeoJSON once and shared by the
maps that show it. Around each request the map keeps what the request map is about, so
that a snapshot stays a few tens of kilobytes: roads (one feature per street),
facilities and occurrences within the largest ring or near the path, the nearest other
requests (:data:`OTHER_REQUESTS_MAX`), and the grid and lighting only near the path and
the request (:data:`NEAR_M`), plus the grid element the path starts from.

Popups are ready to show: Portuguese field labels of the catalog and values as text
(class labels, not codes; Brazilian numbers, ``R$``, dates ``dd/mm/aaaa``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import GEOCODING, SURFACES, TIPOS, br_date, candidate_stretch
from geo_ip.outputs.maps import SPECIAL_LAYERS, MapLayer, MapSpec, load_map, merged_rings
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.geojson import clean, to_wgs84
from geo_ip.outputs.web.layer_specs import STRETCH_TIP, catalog_spec
from geo_ip.outputs.web.layers import TO_CONFIRM, MapSources
from geo_ip.outputs.web.panel import fmt, path_methods
from geo_ip.outputs.web.request import request_layers
from geo_ip.pipeline import Assessment
from geo_ip.sources.catalog import Catalog

__all__ = [
    "CONTEXT_DECIMALS",
    "NEAR_M",
    "OTHER_REQUESTS_MAX",
    "OWN_DECIMALS",
    "snapshot_maps",
]

NEAR_M = 40.0
"""Distance (m) from the path and the request within which the existing grid and lighting
are shown (the grid element the path starts from always is); roads, facilities and
occurrences are shown this near the path and the candidate stretch, besides those in the
largest ring."""
OTHER_REQUESTS_MAX = 25
"""Most other requests a map shows around its request (the nearest): the overview shows all."""
OWN_DECIMALS = 7
"""Decimals of the request's own geometries (path, poles, connection, its point and
stretch, the centre of the rings): 1e-7 degree, about 1 cm."""
CONTEXT_DECIMALS = 5
"""Decimals of the territory's features (roads, grid, facilities, occurrences, the
evidence counted among them) and of the other requests: about 1 m, as the Folium maps."""

_GRID_SOURCES = {"bdgd": "BDGD (ANEEL)", "arquivo": "Arquivo do usuário", "osm": "OpenStreetMap"}
"""Labels of the grid's ``fonte`` codes (:mod:`geo_ip.sources.grid_common`)."""
_OSM_YES_NO = {"yes": "sim", "no": "não"}
_REQUEST_HEADER = ("protocolo", "posicao", "situacao", "pontuacao_total")
"""First fields of a request's popup, as in the Folium request popup."""
_NEAR_LAYERS = ("rede_existente", "pontos_ip")
"""Catalog layers shown only near the path and the request (:data:`NEAR_M`)."""
_MERGED = {"vias": ("length", "osmid", "highway")}
"""Layers drawn one feature per street (segments with the same popup merged), without
these fields: a city's streets are split at every crossing, and the length and OSM id
are the segment's; OSM's ``highway`` code is said by the road's class (``hierarquia``)."""
_RING_STYLE = ("weight", "opacity", "dashArray", "fill")
"""Options of the Folium rings kept for Leaflet (the colour is each ring's)."""
_TIP_EDGES = re.compile(r"^[\s—:·-]+|[\s—:·-]+$")


# --- text of the popups ---------------------------------------------------------------------


def _code_labels(sources: MapSources) -> dict[str, dict[str, str]]:
    """Portuguese label of each code, by field, from the catalog and the sheets' helpers."""
    catalog = sources.catalog

    def classes(name: str) -> dict[str, str]:
        return {str(c.valor): c.rotulo for c in layer_style(name, catalog).classes if c.valor}

    roads = classes("vias")
    grid = {k: t.rotulo for k, t in catalog.rede_existente.tipos.items()}
    return {
        "situacao": classes("pedidos"),
        "hierarquia": roads,
        "hierarquia_via": roads,
        "metodo_distancia": path_methods(catalog),
        "rede_alvo_tipo": grid,
        "geocodificacao": GEOCODING,
        "surface": SURFACES,
        "superficie_via": SURFACES,
        "lit": _OSM_YES_NO,
        "categoria": classes("equipamentos"),
        "fonte": _GRID_SOURCES,
        # "tipo" means something else in each layer: "<field>@<layer>" first
        "tipo@pedidos": {k: v[0] for k, v in TIPOS.items()},
        "tipo@rede_existente": grid,
        "tipo@ocorrencias": classes("ocorrencias"),
    }


@dataclass
class _Text:
    """Turn cells into popup text: class labels for codes, Brazilian numbers and dates."""

    codes: dict[str, dict[str, str]]
    _memo: dict[tuple[str, str, type, Any], str | None] = field(default_factory=dict)

    def __call__(self, layer: str, column: str, value: Any) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, str | int | float | bool):  # texts repeat: made once each
            key = (layer, column, type(value), value)
            found = self._memo.get(key, self)
            if found is self:
                found = self._memo[key] = self._text(layer, column, value)
            return found  # type: ignore[return-value]
        return self._text(layer, column, value)

    def _text(self, layer: str, column: str, value: Any) -> str | None:
        v = clean(value)
        if v is None:
            return None
        labels = self.codes.get(f"{column}@{layer}", self.codes.get(column))
        if labels is not None:
            return labels.get(str(v), str(v))
        if column.startswith("data"):
            return br_date(v)
        if isinstance(v, int | float):
            return fmt(column, v)
        return str(v)


def _tip(template: str | None, values: dict[str, str | None]) -> str | None:
    """Fill a ``{campo}`` hover label (as ``mapa.js`` does), None when nothing is left."""
    if not template:
        return None
    text = re.sub(r"\{([^{}]+)\}", lambda m: values.get(m.group(1)) or "", template)
    return text if _TIP_EDGES.sub("", text) else None


def _placeholders(template: Any) -> list[str]:
    return re.findall(r"\{(\w+)\}", str(template)) if template else []


def _label_tip(template: Any, labels: dict[str, str]) -> str | None:
    """Write a hover label on the popup labels, None when a field has no label.

    ``"{protocolo} — {pontuacao_total} pontos"`` becomes ``"{Protocolo} — {Pontuação
    total} pontos"``, which the page fills from the feature's properties.
    """
    if not template:
        return None
    names = _placeholders(template)
    if any(name not in labels for name in names):
        return None
    return re.sub(r"\{(\w+)\}", lambda m: "{" + labels[m.group(1)] + "}", str(template))


# --- styles ---------------------------------------------------------------------------------


def _line_style(c: dict[str, Any], marker: str) -> dict[str, Any]:
    """Leaflet options of a line of class ``c`` (as ``mapa.js`` ``estiloLinha``)."""
    if marker == "halo":
        return {"color": c["cor"], "weight": 2, "opacity": 0.9, "dashArray": "4 6"}
    if marker == "pedido":  # a place to confirm: the candidate stretch, dashed
        width = parts.STRETCH_WIDTH
        return {"color": c["cor"], "weight": _number(width), "opacity": 0.95, "dashArray": "10 7"}
    out = {
        "color": c["cor"],
        "weight": _number(c.get("largura", 2)),
        "opacity": c.get("opacidade", 0.9),
    }
    if c.get("tracejado"):
        out["dashArray"] = "8 6"
    return out


def _number(value: Any) -> int | float:
    """Write a width or radius as JSON writes it shortest (``4`` rather than ``4.0``)."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _point_style(c: dict[str, Any], marker: str, outline: str | None) -> dict[str, Any]:
    """Leaflet options of a circle marker of class ``c`` (as ``mapa.js`` ``estiloPonto``)."""
    if marker == "halo":
        return {"radius": 11, "color": c["cor"], "weight": 3, "opacity": 0.95, "fill": False}
    radius = float(c.get("largura", 4))
    if marker == "pedido":  # the request's pin: larger, with the layer's outline
        radius += 4
    return {
        "radius": _number(radius),
        "color": outline or "#ffffff",
        "weight": 2 if marker == "pedido" else 1,
        "fillColor": c["cor"],
        "fillOpacity": 0.95,
    }


def _class_styles(js: dict[str, Any], kinds: Sequence[set[str]]) -> list[dict[str, Any]]:
    """Leaflet options of each class of a layer spec, for the geometries it is drawn as."""
    marker = _marker(js)
    out = []
    for c, kind in zip(js["classes"], kinds, strict=True):
        entry: dict[str, Any] = {}
        if "linha" in kind:
            entry["linha"] = _line_style(c, marker)
        if "ponto" in kind:
            entry["ponto"] = _point_style(c, marker, js.get("borda"))
        out.append(entry)
    return out


def _marker(js: dict[str, Any]) -> str:
    return str(js.get("marcador") or "circulo")


def _class_index(js: dict[str, Any]) -> Callable[[Any], int]:
    """Class of a value (``LayerStyle.symbol_for``, ``mapa.js`` ``classe``): its position."""
    classes = js["classes"]
    if js.get("tipo") == "categorizado":
        positions = {str(c.get("valor")): i for i, c in enumerate(classes)}
        return lambda v: positions.get(str(clean(v)), 0)
    if js.get("tipo") == "graduado":

        def graduated(v: Any) -> int:
            x = clean(v)
            if not isinstance(x, int | float):
                return 0
            last = len(classes) - 1
            for i, c in enumerate(classes):
                if c["minimo"] <= x < c["maximo"] or (i == last and x == c["maximo"]):
                    return i
            return 0

        return graduated
    return lambda v: 0


@dataclass(frozen=True)
class _Look:
    """How a layer is shown, whatever its features.

    Attributes
    ----------
    ident, title : str
        ``id`` and ``rotulo`` of the layer.
    visible : bool
        Shown when the map opens.
    marker : str
        ``circulo``, ``pedido``, ``icone``, ``halo`` or ``anel``.
    styles : list of dict
        Leaflet options of each class (:func:`_class_styles`).
    legend : list of [str, str]
        Label and colour of each class.
    fields : list of str
        Popup labels in the order the popup lists them (a layer lists those its
        features have).
    tip : str or None
        Hover label on the popup labels (:func:`_label_tip`).
    """

    ident: str
    title: str
    visible: bool
    marker: str
    styles: Sequence[dict[str, Any]]
    legend: Sequence[list[str]]
    fields: Sequence[str]
    tip: str | None = None

    def layer(
        self, features: list[dict[str, Any]], rows: list[list[str]] | None = None
    ) -> dict[str, Any]:
        """Return the layer with these features: the classes they use, and their legend.

        Parameters
        ----------
        features : list of dict
            GeoJSON features.
        rows : list of [str, str], optional
            Legend rows to show instead of those of the classes used.

        Returns
        -------
        dict
            The layer's JSON.
        """
        used = sorted({int(f["properties"].get("_c", 0)) for f in features})
        present = {name for f in features for name in f["properties"]}
        out: dict[str, Any] = {
            "id": self.ident,
            "rotulo": self.title,
            "estilo": {
                "marcador": self.marker,
                "classes": {str(i): self.styles[i] for i in used},
            },
            "legenda": rows if rows is not None else [list(self.legend[i]) for i in used],
            "visivel": self.visible,
            "campos": [name for name in self.fields if name in present],
        }
        if self.tip:
            out["dica"] = self.tip
        out["geojson"] = {"type": "FeatureCollection", "features": features}
        return out


# --- geometry -------------------------------------------------------------------------------


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


# --- own layers -----------------------------------------------------------------------------


class _Own:
    """One of the map's own layers: its Folium spec, class styles, legend and hover label."""

    def __init__(
        self, ident: str, layer: MapLayer, title: str, js: dict[str, Any], kinds: Any
    ) -> None:
        self.ident, self.layer, self.title = ident, layer, title
        self.js = {**js, "classes": list(js["classes"])}
        self.kinds = kinds
        self.styles = _class_styles(self.js, [kinds(c) for c in self.js["classes"]])
        self.labels = {str(name): str(label) for name, label in js["campos"]}
        self.tip = _label_tip(js.get("dica"), self.labels)

    def add_class(self, c: dict[str, Any]) -> int:
        """Add a class (a group of evidence no map lists) and return its position."""
        self.js["classes"].append(c)
        self.styles += _class_styles({**self.js, "classes": [c]}, [self.kinds(c)])
        return len(self.js["classes"]) - 1

    def props(self, values: dict[str, str | None], c: int = 0) -> dict[str, Any]:
        """Popup properties: each spec field's label and its text, empty ones left out."""
        props: dict[str, Any] = {}
        for name, label in self.labels.items():
            text = values.get(name)
            if text:
                props[label] = text
        if c:
            props["_c"] = c
        if not self.tip:
            tip = _tip(self.js.get("dica"), values)
            if tip:
                props["_dica"] = tip
        return props

    def as_json(
        self, features: list[dict[str, Any]], rows: list[list[str]] | None = None
    ) -> dict[str, Any]:
        """Return the layer of one map (legend: one row per class used, or these rows)."""
        legend = [[str(c["rotulo"]), str(c["cor"])] for c in self.js["classes"]]
        look = _Look(
            self.ident,
            self.title,
            self.layer.visivel,
            _marker(self.js),
            self.styles,
            legend,
            list(self.labels.values()),
            self.tip,
        )
        return look.layer(features, rows)


class _Roads:
    """The request's road edge and its link to it (Folium ``via_pedido``)."""

    def __init__(self, run: _Run, own: _Own) -> None:
        roads = run.sources.roads
        self.run, self.own = run, own
        self.classes = {str(c.get("valor")): i for i, c in enumerate(own.js["classes"])}
        self.by_edge: dict[tuple[Any, ...], int] = {}
        if {"u", "v", "key"} <= set(roads.columns):
            edges = zip(
                roads["u"].tolist(), roads["v"].tolist(), roads["key"].tolist(), strict=True
            )
            for i, edge in enumerate(edges):
                self.by_edge.setdefault(tuple(clean(k) for k in edge), i)
        self.values = {
            k: roads[k].tolist() if k in roads.columns else [None] * len(roads)
            for k in ("name", "hierarquia", "highway")
        }
        self.geoms = roads.geometry.to_numpy()
        self._edges: dict[int, dict[str, Any]] = {}

    def _edge(self, i: int) -> dict[str, Any]:
        found = self._edges.get(i)
        if found is None:
            values = {k: self.run.text("vias", k, v[i]) for k, v in self.values.items()}
            geom = _wgs84(self.geoms[i : i + 1], self.run.crs, OWN_DECIMALS)[0]
            found = self._edges[i] = _feature(geom, self.own.props(values))
        return found

    def layer(self, index: int) -> dict[str, Any] | None:
        """Return the layer of request ``index``, None when it has no road."""
        run, own = self.run, self.own
        public = run.public[index]
        features = []
        edge = tuple(clean(public.get(k)) for k in ("aresta_u", "aresta_v", "aresta_key"))
        position = self.by_edge.get(edge) if None not in edge else None
        if position is not None:
            features.append(self._edge(position))
        if run.stretch[index] is not None:  # pending location: the worse position
            name = run.text("vias", "name", public.get("logradouro_via"))
            props = own.props({"name": name}, self.classes.get("pior_caso", 0))
            features.append(_feature(run.centre_wgs[index], props))
        else:
            x_road, y_road = clean(public.get("x_via")), clean(public.get("y_via"))
            if isinstance(x_road, int | float) and isinstance(y_road, int | float):
                centre = run.centre[index]
                link = shapely.LineString([(centre.x, centre.y), (float(x_road), float(y_road))])
                geom = _wgs84(np.asarray([link], dtype=object), run.crs, OWN_DECIMALS)[0]
                distance = run.text("via_pedido", "distancia_via_m", public.get("distancia_via_m"))
                props = own.props({"distancia_via_m": distance}, self.classes.get("ligacao", 0))
                features.append(_feature(geom, props))
        return own.as_json(features) if features else None


class _Evidence:
    """A halo on every item counted and a line to the request (Folium ``evidencias``)."""

    def __init__(self, run: _Run, own: _Own) -> None:
        sources = run.sources
        catalog = sources.catalog
        self.run, self.own = run, own
        self.group_class = {str(c["valor"]): i for i, c in enumerate(own.js["classes"])}
        facilities = sources.frames["equipamentos"]
        self.facilities: dict[str, list[float] | None] = {}
        if "osm_id" in facilities.columns:
            ids = facilities["osm_id"].astype(str).tolist()
            self.facilities = dict(zip(ids, self._points(facilities.geometry), strict=True))
        occurrences = sources.frames.get("ocorrencias")
        self.occurrences: dict[Any, list[float] | None] = {}
        if occurrences is not None:
            lines = occurrences["linha"].tolist()
            self.occurrences = dict(zip(lines, self._points(occurrences.geometry), strict=True))
        self.categories = {k: c.rotulo for k, c in catalog.equipamentos.categorias.items()}
        self.kinds = {str(c.valor): c.rotulo for c in layer_style("ocorrencias", catalog).classes}

    def _points(self, geometry: Any) -> list[list[float] | None]:
        """``[lon, lat]`` of each item (a point on an area), None when it has no geometry."""
        geoms = np.asarray(geometry.to_numpy(), dtype=object)
        out: list[list[float] | None] = [None] * len(geoms)
        has = _valid(geoms)
        points = shapely.point_on_surface(geoms[has].astype(object))
        wgs = _wgs84(points, self.run.crs, CONTEXT_DECIMALS)  # on the layer's own marker
        for i, p in zip(np.flatnonzero(has).tolist(), wgs, strict=True):
            out[i] = [p.x, p.y]
        return out

    def _class_of(self, group: str) -> int:
        found = self.group_class.get(group)
        if found is None:  # a group no map lists: neutral grey, as on the Folium map
            c = {"valor": group, "rotulo": group, "cor": load_palette().neutra, "largura": 8}
            found = self.group_class[group] = self.own.add_class(c)
        return found

    def _item(self, item: dict[str, Any]) -> tuple[list[float] | None, dict[str, str | None]]:
        """``[lon, lat]`` and popup values of one item counted."""
        distance = clean(item.get("distancia_m"))
        if "osm_id" in item:
            ident = str(item["osm_id"])
            where = self.facilities.get(ident)
            code = str(item.get("categoria", ""))
            kind = self.categories.get(code, code)
            name = clean(item.get("nome")) or kind
        else:
            ident = f"ocorrência (linha {item.get('linha')})"
            where = self.occurrences.get(item.get("linha"))
            code = str(item.get("tipo", ""))
            kind = self.kinds.get(code, code)
            when = clean(item.get("data"))
            name = f"{kind} em {br_date(when)}" if when else kind
        values = {
            "categoria": kind,
            "nome": str(name),
            "distancia_m": None if distance is None else fmt("distancia_m", distance),
            "id": ident,
        }
        return where, values

    def layer(self, index: int) -> dict[str, Any] | None:
        """Return the layer of request ``index``, None when nothing was counted."""
        run, own = self.run, self.own
        items = run.sources.assessment.items
        found = items[index] if index < len(items) else {}
        centre = run.centre_wgs[index]
        start = [centre.x, centre.y]
        features: list[dict[str, Any]] = []
        counts: dict[int, int] = {}
        stacked: dict[str, int] = {}
        listed = list(self.group_class)
        for group in [*listed, *(str(k) for k in found if str(k) not in listed)]:
            entries = found.get(group) or []
            if not entries:
                continue
            c = self._class_of(group)
            counts[c] = len(entries)
            for item in entries:
                where, values = self._item(item)
                if where is None:
                    continue
                values["criterio"] = str(own.js["classes"][c]["rotulo"])
                halo = own.props(values, c)
                k = stacked.get(str(values["id"]), 0)
                stacked[str(values["id"])] = k + 1
                if k:  # an item counted in several groups: one ring around the other
                    halo["_raio_px"] = 11 + 5 * k
                line = {"_c": c} if c else {}  # the halo has the popup
                features += [
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": where},
                     "properties": halo},
                    {"type": "Feature",
                     "geometry": {"type": "LineString", "coordinates": [start, where]},
                     "properties": line},
                ]  # fmt: skip
        if not features:
            return None
        classes = own.js["classes"]
        legend = [
            [f"{classes[c]['rotulo']} ({k})", str(classes[c]["cor"])] for c, k in counts.items()
        ]
        return own.as_json(features, legend)


class _Connection:
    """The point where each path leaves the grid (Folium ``conexao``)."""

    def __init__(self, run: _Run, own: _Own) -> None:
        self.run, self.own = run, own
        starts = np.full(len(run.paths), None, dtype=object)
        has = _valid(run.paths)
        starts[has] = shapely.get_point(run.paths[has].astype(object), 0)
        self.starts = _wgs84(starts, run.crs, OWN_DECIMALS)

    def layer(self, index: int) -> dict[str, Any] | None:
        """Return the layer of request ``index``, None when it has no path."""
        start = self.starts[index]
        if start is None:
            return None
        public, text = self.run.public[index], self.run.text
        values = {
            "rede": text("conexao", "rede_alvo_tipo", public.get("rede_alvo_tipo")),
            "elemento": text("conexao", "rede_alvo_id", public.get("rede_alvo_id")),
            "metodo": text("conexao", "metodo_distancia", public.get("metodo_distancia")),
        }
        return self.own.as_json([_feature(start, self.own.props(values))])


class _Rings:
    """The rings of the rules' radii: the request's centre with ``_raio_m``."""

    def __init__(self, run: _Run, layer: MapLayer, title: str) -> None:
        self.run = run
        texts = [f"{label}: {fmt('raio', radius)} m" for radius, label, _colour in run.rings]
        self.styles = [{"anel": {**run.own.ring, "color": colour}} for _r, _l, colour in run.rings]
        self.legend = [
            [text, colour] for text, (_r, _l, colour) in zip(texts, run.rings, strict=True)
        ]
        self.props = []
        for k, (radius, label, _colour) in enumerate(run.rings):
            props: dict[str, Any] = {"Critérios": label, "Raio": f"{fmt('raio', radius)} m"}
            props["_raio_m"] = radius
            if k:
                props["_c"] = k
            self.props.append(props)
        self.layer_of = layer
        self.title = title

    def layer(self, index: int) -> dict[str, Any] | None:
        """Return the layer of request ``index`` (None when the composition has no ring)."""
        if not self.props:
            return None
        centre = self.run.centre_wgs[index]
        features = [_feature(centre, props) for props in self.props]
        look = _Look(
            "aneis",
            self.title,
            self.layer_of.visivel,
            "anel",
            self.styles,
            self.legend,
            ["Critérios", "Raio"],
            "{Critérios}: {Raio}",
        )
        return look.layer(features)


def _own_layers(run: _Run) -> dict[int, Callable[[int], dict[str, Any] | None]]:
    """Prepare the builders of the map's own layers, by position in the composition."""
    spec, specs = run.spec, run.own.specs
    out: dict[int, Callable[[int], dict[str, Any] | None]] = {}
    for k, layer in enumerate(spec.camadas):
        title = spec.layer_title(layer, run.sources.catalog)
        name = layer.camada
        if name == "aneis":
            out[k] = _Rings(run, layer, title).layer
        elif name not in specs:
            continue
        elif name == "via_pedido":

            def road_kind(c: dict[str, Any]) -> set[str]:
                return {"ponto"} if c.get("valor") == "pior_caso" else {"linha"}

            out[k] = _Roads(run, _Own(name, layer, title, specs[name], road_kind)).layer
        elif name == "evidencias":
            own = _Own(name, layer, title, specs[name], lambda c: {"linha", "ponto"})
            out[k] = _Evidence(run, own).layer
        elif name == "conexao":
            own = _Own(name, layer, title, specs[name], lambda c: {"ponto"})
            out[k] = _Connection(run, own).layer
    return out


# --- public ---------------------------------------------------------------------------------


def snapshot_maps(
    assessment: Assessment,
    spec: MapSpec | None = None,
    *,
    sources: MapSources | None = None,
) -> list[dict[str, Any]]:
    """Build the map of every request of a run as JSON, for ``instantaneos.mapa``.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    spec : MapSpec, optional
        The request map's composition; default ``maps/pedido.toml``.
    sources : MapSources, optional
        The run's layers, when already read (shared with the Folium maps).

    Returns
    -------
    list of dict
        One per row of ``assessment.table``, in its order; ``{}`` for a request without
        a location. Otherwise, in WGS 84::

            {"centro": [lat, lon],
             "limites": [[south, west], [north, east]],
             "fundo": "#rrggbb",
             "camadas": [{"id": "vias",
                          "rotulo": "Vias (hierarquia viária)",
                          "estilo": {"marcador": "circulo",
                                     "classes": {"0": {"linha": {...}}, "2": {...}}},
                          "legenda": [["Local", "#7f8c8d"], ...],
                          "visivel": true,
                          "campos": ["Nome", "Hierarquia", ...],
                          "dica": "{Nome}",
                          "geojson": {"type": "FeatureCollection", "features": [...]}},
                         ...]}

        Layers bottom to top, as in the composition (``id``: the catalog layer,
        ``pedidos_outros`` for the other requests, or the map's own ``via_pedido``,
        ``aneis``, ``evidencias``, ``conexao``); a layer with nothing around the request
        is left out; ``legenda`` lists the classes its features use.

        ``estilo.classes`` holds, for each class the features use (by its position in
        the catalog), the Leaflet path options of its lines (``linha``) and circle
        markers (``ponto``), or, for the rings (``marcador`` ``anel``), of a circle of
        ``_raio_m`` metres (``anel``).

        In a feature's properties, ``_c`` is its class (0 when absent), ``_dica`` its
        hover label (when the layer's ``dica`` cannot say it), ``_raio_m`` a ring's
        radius in metres, ``_raio_px`` the radius of a stacked halo; every other
        property is a line of its popup, Portuguese label and text, in the order of the
        layer's ``campos`` (stored JSON may not keep the keys' order). The layer's
        ``dica`` is the hover label, ``{Rótulo}`` standing for a property. ``fundo`` is
        the background without a base map.

        Features of the catalog layers are shared by the maps that show them:
        serialise, do not modify.

    Raises
    ------
    GeoIPError
        When the composition is not a request map.
    """
    spec = spec or load_map("pedido")
    if spec.nome != "pedido":
        raise GeoIPError(f"composição '{spec.nome}' não é a de um mapa de pedido")
    sources = sources or MapSources.from_assessment(assessment)
    with _no_cycle_collection():
        return _snapshot_maps(assessment, spec, sources)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while the maps are built.

    They are millions of small dicts and lists without cycles: the collector would walk
    them again and again as they grow (about 40 % of the time for 10,000 requests).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _snapshot_maps(
    assessment: Assessment, spec: MapSpec, sources: MapSources
) -> list[dict[str, Any]]:
    """Build the maps (:func:`snapshot_maps`, its arguments checked)."""
    table = assessment.table
    n = len(table)
    centre, stretch, located = _located(table)
    if not located.any():
        return [{} for _ in range(n)]
    paths = np.full(n, None, dtype=object)
    given = np.asarray(assessment.paths.array, dtype=object)[:n]
    paths[: len(given)] = given
    paths[~_valid(paths)] = None
    rings = [
        (radius, "; ".join(r.rotulo for r in group), group[0].cor)
        for radius, group in merged_rings(spec, assessment.rules.avaliacao)
    ]
    columns = [c for c in _PUBLIC_COLUMNS if c in sources.public.columns]
    run = _Run(
        sources=sources,
        spec=spec,
        text=_Text(_code_labels(sources)),
        own=_own_specs(sources, spec, np.flatnonzero(located)),
        centre=centre,
        centre_wgs=_wgs84(centre, assessment.crs, OWN_DECIMALS),
        stretch=stretch,
        paths=paths,
        rings=rings,
        largest=max((r for r, _, _ in rings), default=100.0),
        located=located,
        public=[
            {str(k): v for k, v in r.items()} for r in sources.public[columns].to_dict("records")
        ],
    )
    limits = _limits(run)
    catalog = _catalog_layers(run)
    chosen = {k: _positions(run, entry) for k, entry in catalog.items()}
    own = _own_layers(run)
    background = load_palette().mapa_web.fundo
    out: list[dict[str, Any]] = []
    for i in range(n):
        if not located[i]:
            out.append({})
            continue
        layers: list[dict[str, Any]] = []
        for k in range(len(spec.camadas)):
            made: dict[str, Any] | None = None
            if k in catalog:
                features = catalog[k].features(chosen[k][i])
                made = catalog[k].as_json(features) if features else None
            elif k in own:
                made = own[k](i)
            if made is not None:
                layers.append(made)
        point = run.centre_wgs[i]
        out.append(
            {
                "centro": [point.y, point.x],
                "limites": [limits[i, :2].tolist(), limits[i, 2:].tolist()],
                "fundo": background,
                "camadas": layers,
            }
        )
    return out
