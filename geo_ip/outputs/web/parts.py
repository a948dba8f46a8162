"""Pieces of the web maps: folium elements, layer specs, legend, title and footer.

The layers are drawn in the browser by ``geo_ip/mapa.js`` (vendored beside the
maps) from a *spec* made here from the catalog style (:class:`geo_ip.outputs.styles.LayerStyle`),
so Folium only carries the data and a one-line call per layer.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from branca.element import Element

from geo_ip.outputs.format import REFERENCE_FIELDS, br_dates, reference_words, value_labels
from geo_ip.outputs.maps import MapLayer
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import LayerStyle, layer_style
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION
from geo_ip.sources.catalog import Catalog, SymbolClass

__all__ = [
    "OSM_ATTRIBUTION_HTML",
    "Call",
    "Layer",
    "footer_html",
    "js_json",
    "legend_html",
    "palette_css",
    "spec_for",
    "stretch_entry",
]

OSM_ATTRIBUTION_HTML = OSM_ATTRIBUTION.replace(
    "OpenStreetMap", '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)
"""The attribution shown on every map, with the link OSM asks for."""


def js_json(value: Any) -> str:
    """JSON that can sit inside a ``<script>`` element (``<``, ``>``, ``&`` escaped).

    Parameters
    ----------
    value : object
        JSON-serialisable value.

    Returns
    -------
    str
        Compact JSON text, UTF-8 characters kept.
    """
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def script_safe(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` of JSON text for a ``<script>`` element.

    Parameters
    ----------
    text : str
        JSON text (the characters can only occur inside its strings).

    Returns
    -------
    str
        The same JSON value.
    """
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Raw(Element):
    """Text rendered as is (never read as a Jinja template)."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "GeoIpRaw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text."""
        return self.text


class _Script(Element):
    """An element whose script is built in Python.

    Branca renders the script of a ``MacroElement`` and then compiles the result as a
    Jinja template: slow for the layers' data, and text such as ``{{`` in a street name
    would be read as template syntax. These elements skip that step.
    """

    def __init__(self) -> None:
        super().__init__()
        self.default_js: list[tuple[str, str]] = []
        self.default_css: list[tuple[str, str]] = []

    def script(self) -> str:
        """JavaScript of the element (the parent exists at render time)."""
        raise NotImplementedError

    def render(self, **kwargs: Any) -> str:
        """Add the script to the page, then render the children."""
        figure = self.get_root()
        figure.script.add_child(_Raw(self.script()), name=self.get_name())  # type: ignore[attr-defined]
        for child in self._children.values():
            child.render(**kwargs)
        return ""


class Layer(_Script):
    """One map layer drawn by ``geoIp.camada`` from GeoJSON text and a spec.

    Parameters
    ----------
    data : str or None
        FeatureCollection JSON (already script-safe); None to reuse ``source``'s data.
    spec : dict
        Layer spec (:func:`spec_for`).
    source : Layer, optional
        Another layer whose data this one draws in a different style.
    """

    def __init__(self, data: str | None, spec: dict[str, Any], source: Layer | None = None):
        super().__init__()
        self._name = "GeoIpLayer"
        self.data = data
        self.spec = js_json(spec)
        self.source = source or self
        if spec.get("agrupar"):
            self.default_js = [("markerclusterjs", "")]
            self.default_css = [("markerclustercss", ""), ("markerclusterdefaultcss", "")]

    def script(self) -> str:
        """``var <name> = geoIp.camada(data, spec).addTo(parent);``."""
        name = self.get_name()
        lines = [f"var {name}_dados = {self.data};"] if self.data is not None else []
        parent = self._parent.get_name() if self._parent is not None else "null"
        lines.append(
            f"var {name} = geoIp.camada({self.source.get_name()}_dados, {self.spec})"
            f".addTo({parent});"
        )
        return "\n".join(lines) + "\n"


class Call(_Script):
    """A call ``geoIp.<function>(map, args...)`` after the map is built.

    Parameters
    ----------
    function : str
        Name in ``geo_ip/mapa.js`` (``titulo``, ``controle``, ``painel``, ``escala``...).
    *args : object
        JSON arguments, or :class:`RawJs` for variable names.
    """

    def __init__(self, function: str, *args: Any):
        super().__init__()
        self._name = "GeoIpCall"
        self.function = function
        self.args = [a.code if isinstance(a, RawJs) else js_json(a) for a in args]

    def script(self) -> str:
        """``geoIp.<function>(map, ...);``."""
        parent = self._parent.get_name() if self._parent is not None else "null"
        return f"geoIp.{self.function}({', '.join([parent, *self.args])});\n"


class RawJs:
    """A JavaScript expression passed as is to :class:`Call` (a variable name)."""

    def __init__(self, code: str):
        self.code = code


def _class_json(c: SymbolClass) -> dict[str, Any]:
    out: dict[str, Any] = {"rotulo": c.rotulo, "cor": c.cor, "largura": c.largura}
    if c.valor is not None:
        out["valor"] = c.valor
    if c.minimo is not None:
        out["minimo"], out["maximo"] = c.minimo, c.maximo
    if c.icone:
        out["icone"] = c.icone
    if c.tracejado:
        out["tracejado"] = True
    return out


def spec_for(
    style: LayerStyle,
    layer: MapLayer,
    title: str,
    *,
    marker: str = "circulo",
    popup: str | None = "tabela",
    fields: Sequence[str] | None = None,
    cluster: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Build the spec ``geoIp.camada`` draws a layer with.

    Parameters
    ----------
    style : LayerStyle
        Renderer and classes (catalog style or alternative).
    layer : MapLayer
        The composition entry (popup fields, hover label).
    title : str
        Layer title (popup heading).
    marker : str
        ``circulo``, ``icone`` (Font Awesome in a coloured disc), ``pedido`` or ``halo``.
    popup : str or None
        ``tabela`` (field: value), ``pedido`` (request popup) or None.
    fields : sequence of str, optional
        Popup fields; default ``layer.campos`` or every catalog field.
    cluster : bool
        Cluster the points.
    **extra : object
        More keys of the spec (``criterios``, ``situacao``, ``link``...).

    Returns
    -------
    dict
        The spec; ``borda``, the outline of the layer's circles, where ``maps/cores.toml``
        gives one (``[contornos]``, the same as on the sheet's static map); ``valores``,
        the words of the coded values of the popup's and hover label's fields
        (:func:`geo_ip.outputs.format.value_labels`: ``extensao_rede`` → "Extensão de
        rede elétrica"), which ``mapa.js`` shows instead of the codes.
    """
    names = list(fields if fields is not None else (layer.campos or style.campos))
    shown = {*names, *extra.get("fields", ()), *_placeholders(layer.dica or "")}
    words = {k: v for k, v in value_labels(style.camada).items() if k in shown}
    out = {
        "titulo": title,
        "tipo": style.tipo,
        "campo": style.campo,
        "classes": [_class_json(c) for c in style.classes],
        "campos": [[n, style.campos.get(n, n)] for n in names],
        "dica": layer.dica,
        "marcador": marker,
        "popup": popup,
        "agrupar": cluster,
        "valores": words,
    }
    if shown & set(REFERENCE_FIELDS):
        out["referencias"] = reference_words()
    outline = load_palette().contornos.get(style.camada)
    if outline is not None:  # the circles' outline, as on the sheet (maps/cores.toml)
        out["borda"] = outline
    return {**out, **extra}


def _placeholders(template: str) -> list[str]:
    """Field names of a hover label's template (``{protocolo} — {situacao}``)."""
    return re.findall(r"\{(\w+)\}", template)


def situation_spec(style: LayerStyle) -> dict[str, Any]:
    """Return the part of the requests' style the popup uses for the situation chip."""
    return {
        "tipo": style.tipo,
        "campo": style.campo,
        "classes": [_class_json(c) for c in style.classes],
    }


def criteria_rows(style: LayerStyle) -> list[list[str]]:
    """``[label, suggested field, final field]`` of the five criteria, from the aliases."""
    return [[style.campos.get(f"pont_{c}", c), f"sugerido_{c}", f"pont_{c}"] for c in CRITERIA]


# --- legend ---------------------------------------------------------------------------------


def _symbol(
    kind: str,
    colour: str,
    width: float = 2.0,
    icon: str = "",
    dashed: bool = False,
    outline: str | None = None,
) -> str:
    c = html.escape(colour)
    if kind == "linha":
        line = "dashed" if dashed else "solid"
        px = max(1.5, min(width, 8.0))
        return f'<span class="gi-s gi-s-linha" style="border-top:{px:g}px {line} {c}"></span>'
    if kind == "icone" and icon:
        name = html.escape(icon)
        return (
            f'<span class="gi-s gi-s-icone" style="background:{c}">'
            f'<i class="fa-solid fa-{name}"></i></span>'
        )
    if kind in ("anel", "halo"):
        return f'<span class="gi-s gi-s-{kind}" style="border-color:{c}"></span>'
    if kind == "pedido":
        return f'<span class="gi-s gi-s-pedido" style="background:{c}"></span>'
    edge = f";border-color:{html.escape(outline)}" if outline else ""
    return f'<span class="gi-s gi-s-ponto" style="background:{c}{edge}"></span>'


LegendEntry = tuple[str, list[tuple[str, str]], bool]
"""(layer title, [(symbol HTML, label)], open)."""


def style_entries(style: LayerStyle, marker: str) -> list[tuple[str, str]]:
    """Legend rows of a catalog style: one per class, in the catalog's order.

    Parameters
    ----------
    style : LayerStyle
        The layer style.
    marker : str
        How points are drawn (``circulo``, ``icone``, ``pedido``).

    Returns
    -------
    list of (str, str)
        Symbol HTML and label.
    """
    rows = []
    outline = load_palette().contornos.get(style.camada)  # the circles' (see spec_for)
    for c in style.classes:
        geometry = c.geometria or style.geometria
        if geometry == "linha":
            kind = "linha"
        elif marker == "icone" and c.icone:
            kind = "icone"
        else:
            kind = "pedido" if marker == "pedido" else "ponto"
        rows.append((_symbol(kind, c.cor, c.largura, c.icone, c.tracejado, outline), c.rotulo))
    return rows


STRETCH_LABEL = "Local a confirmar: trecho candidato (pendente de confirmação do local)"
"""Legend label of a request drawn as its candidate stretch instead of a pin."""
STRETCH_WIDTH = 5.0
"""Line width (px) of a candidate stretch, as ``mapa.js`` draws it."""


def stretch_entry(requests: LayerStyle, style: LayerStyle) -> tuple[str, str]:
    """Legend row of a request drawn as its candidate stretch (a dashed line).

    Parameters
    ----------
    requests : LayerStyle
        The catalog style of ``pedidos`` (its ``pendente_localizacao`` colour).
    style : LayerStyle
        The style the layer is drawn with: by situation, the line has the colour of
        ``pendente_localizacao``; by another field (the score), that field's colour.

    Returns
    -------
    (str, str)
        Symbol HTML and label.
    """
    if style.campo == requests.campo:
        colour = requests.symbol_for("pendente_localizacao").cor
        return _symbol("linha", colour, STRETCH_WIDTH, dashed=True), STRETCH_LABEL
    label = f"{STRETCH_LABEL}, na cor da pontuação no pior caso"
    # a dark neutral grey line stands for the score classes' colours
    grey = load_palette().neutra_escura
    return _symbol("linha", grey, STRETCH_WIDTH, dashed=True), label


def symbol(kind: str, colour: str, width: float = 2.0, dashed: bool = False) -> str:
    """Legend symbol of a map's own layer (``linha``, ``ponto``, ``anel``, ``halo``)."""
    return _symbol(kind, colour, width, dashed=dashed)


def legend_html(
    entries: Sequence[LegendEntry], opened: bool = True, hidden: Sequence[str] = ()
) -> str:
    """Build the legend: one collapsible section per layer, top layer first.

    Each section carries its layer's title (``data-camada``), so that ``geoIp.legenda``
    (``mapa.js``) hides it while the layer is off in the layer control.

    Parameters
    ----------
    entries : sequence of (str, list of (str, str), bool)
        Layer title, its rows (symbol HTML, label) and whether the section opens.
    opened : bool
        Whether the whole legend opens expanded.
    hidden : sequence of str
        Titles of the layers off when the map opens (their sections start hidden).

    Returns
    -------
    str
        HTML of the legend control.
    """
    state = " open" if opened else ""
    parts = [f'<details class="gi-legenda-caixa"{state}><summary>Legenda</summary>']
    for title, rows, opened in entries:
        items = "".join(f"<li>{sym}<span>{html.escape(label)}</span></li>" for sym, label in rows)
        attr = " open" if opened else ""
        attr += " hidden" if title in hidden else ""
        name = html.escape(title, quote=True)
        parts.append(
            f'<details data-camada="{name}"{attr}><summary>{html.escape(title)}</summary>'
            f"<ul>{items}</ul></details>"
        )
    parts.append("</details>")
    return "".join(parts)


# --- colours of the style sheet -------------------------------------------------------------


def palette_css(catalog: Catalog | None = None) -> Element:
    """Return the colours ``mapa.css`` paints with, as CSS variables (``--gi-faixa``...).

    They come from ``maps/cores.toml`` (the page's ink and band, shared with the sheets,
    the letter and the workbooks; the web maps' own colours) and from the catalog (the
    box of a place to confirm, in the colour its candidate stretch is drawn in).

    Parameters
    ----------
    catalog : Catalog, optional
        The layer catalog; default the bundled one.

    Returns
    -------
    branca.element.Element
        A ``<style>`` block for the page's ``<head>``.
    """
    palette = load_palette()
    page, web = palette.pagina, palette.mapa_web
    band = tuple(int(page.faixa[i : i + 2], 16) for i in (1, 3, 5))
    place = layer_style("pedidos", catalog).symbol_for("pendente_localizacao").cor
    variables = {
        "tinta": page.tinta,
        "faixa": page.faixa,
        "faixa-halo": "rgba({}, {}, {}, 0.25)".format(*band),
        "texto-faixa": page.texto_faixa,
        "fundo": web.fundo,
        "ficticio": web.ficticio,
        "alterado": web.alterado,
        "destaque": web.destaque,
        "decisao": web.decisao,
        "alerta": page.alerta,
        "local-confirmar": place,
    }
    rules = "; ".join(f"--gi-{name}: {value}" for name, value in variables.items())
    return _Raw(f"<style>:root {{ {rules}; }}</style>")


# --- title and footer -----------------------------------------------------------------------


def fictional_badge(fictional: bool) -> str:
    """Return the red "fictional data" label of the demo (empty for real data)."""
    if not fictional:
        return ""
    return f'<span class="gi-ficticio">{html.escape(FICTIONAL_LABEL)}</span>'


def footer_html(provenance: dict[str, Any], fictional: bool) -> str:
    """Provenance line: tool, rules and hash, OSM date, CRS, time of run, attribution.

    Parameters
    ----------
    provenance : dict
        :attr:`Assessment.provenance`.
    fictional : bool
        Demo data (``rules.municipio.ficticio``).

    Returns
    -------
    str
        HTML of the footer control.
    """
    stamp = str(provenance.get("carimbo", ""))
    label = FICTIONAL_LABEL.upper() + "; "
    if stamp.startswith(label):
        stamp = stamp[len(label) :]
    stamp = br_dates(stamp.replace("; ", " · "))  # "OSM de 15/01/2026"
    ran = str(provenance.get("executado_em") or "")
    with contextlib.suppress(ValueError):
        ran = datetime.fromisoformat(ran).strftime("%d/%m/%Y %H:%M %Z").strip()
    rules = provenance.get("regras") or {}
    parts = [
        fictional_badge(fictional),
        html.escape(stamp).replace(html.escape(OSM_ATTRIBUTION), OSM_ATTRIBUTION_HTML),
        f"<br>Avaliação de {html.escape(ran)}",
    ]
    if provenance.get("data_referencia"):
        reference = br_dates(str(provenance["data_referencia"]))
        parts.append(f" · data de referência {html.escape(reference)}")
    if rules.get("lei"):
        parts.append(
            f" · {html.escape(str(rules['lei']))} ({html.escape(str(rules.get('municipio', '')))})"
        )
    return "".join(parts)
