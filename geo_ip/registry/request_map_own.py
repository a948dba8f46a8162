"""The request maps' own layers (:mod:`geo_ip.registry.request_map`).

As the Folium request map draws them, with its titles, classes and field labels: the
request's road and its link to it (:class:`_Roads`), the evidence counted
(:class:`_Evidence`), the connection to the grid (:class:`_Connection`) and the rings of
the rules' radii (:class:`_Rings`); :func:`_own_layers` prepares the builders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from geo_ip.outputs.format import br_date
from geo_ip.outputs.maps import MapLayer
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web.geojson import clean
from geo_ip.outputs.web.panel import fmt
from geo_ip.registry.request_map_geometry import (
    CONTEXT_DECIMALS,
    OWN_DECIMALS,
    _feature,
    _valid,
    _wgs84,
)
from geo_ip.registry.request_map_run import _Run
from geo_ip.registry.request_map_style import _class_styles, _label_tip, _Look, _marker, _tip


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
