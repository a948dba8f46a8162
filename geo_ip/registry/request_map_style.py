"""Text and style of the request maps' layers (:mod:`geo_ip.registry.request_map`).

What a layer looks like, whatever its features: the Portuguese text of its popups
(class labels for codes, Brazilian numbers and dates, hover labels written on the
popup labels), the Leaflet options of its classes (as ``mapa.js`` draws them), and
:class:`_Look`, which writes a layer's JSON for one map.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geo_ip.outputs.format import GEOCODING, SURFACES, TIPOS, br_date
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.geojson import clean
from geo_ip.outputs.web.layers import MapSources
from geo_ip.outputs.web.panel import fmt, path_methods

_GRID_SOURCES = {"bdgd": "BDGD (ANEEL)", "arquivo": "Arquivo do usuário", "osm": "OpenStreetMap"}
"""Labels of the grid's ``fonte`` codes (:mod:`geo_ip.sources.grid_common`)."""
_OSM_YES_NO = {"yes": "sim", "no": "não"}
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
