"""The overview map of a batch run (``mapa_lote.html``): the municipalities coloured by a column.

One layer per numeric column of the consolidated table (:data:`MAP_COLUMNS`), chosen with
the radio buttons of the layer control (Leaflet's base layers: one shown at a time); each
has its own legend section, and the legend follows the choice. The classes are quantiles
of the municipalities drawn, coloured with the sequential, colour-blind-safe scale of the
existing maps (the catalog's ``pedidos`` graduated style, ``[alternativos.pontuacao]``);
a municipality without the value is drawn light ("Sem dado"), a failed one in the
palette's neutral grey with its error as hover label ("Falhou: ...").

The page is written as the assessment maps are (:func:`geo_ip.outputs.web.webmap.save_map`):
Leaflet and ``geo_ip/mapa.js`` from the ``assets/`` folder beside it (no CDN), the same
Content-Security-Policy, ``mapa.css``'s title, legend and footer boxes. There is no base
map on opening, so it needs no internet; the OpenStreetMap tiles are an overlay the user
may turn on. Every text from the data (names, errors) is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from xyzservices import TileProvider

from geo_ip._util.version import __version__
from geo_ip.batch.model import COLUMNS, STATUS_LABELS
from geo_ip.outputs.format import brl, is_missing, num, timestamp
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.assets import copy_assets
from geo_ip.outputs.web.webmap import OSM_TILES, save_map
from geo_ip.sources.catalog import load_catalog

__all__ = [
    "COLUMN_KINDS",
    "MAP_COLUMNS",
    "MAP_TITLE",
    "colour_classes",
    "display_value",
    "sequential_colours",
    "write_overview_map",
]

MAP_TITLE = "Municípios do lote"
"""Title of ``mapa_lote.html``."""

MAP_COLUMNS = (
    "area_km2", "vias_km", "rede_km", "cobertura_rede_pct", "pontos_ip_bdgd",
    "pontos_ip_inventario", "pontos_ip_diferenca", "cip_rs_ano", "pedidos",
    "pedidos_financiados", "custo_rs",
)  # fmt: skip
"""Columns the map can be coloured by, in the order of the layer control."""

COLUMN_KINDS: dict[str, str] = {
    "codigo_ibge": "codigo",
    "area_km2": "km2",
    "vias_km": "km",
    "rede_km": "km",
    "cobertura_rede_pct": "pct",
    "pontos_ip_bdgd": "int",
    "pontos_ip_inventario": "int",
    "pontos_ip_diferenca": "int",
    "cip_rs_ano": "rs",
    "unidades_consumidoras": "int",
    "pedidos": "int",
    "pedidos_financiados": "int",
    "custo_rs": "rs",
    "custo_municipio_rs": "rs",
    "segundos": "s",
}
"""How each numeric column is shown: ``rs`` (R$, 2 decimals), ``km``/``km2``/``pct``/``s``
(1 decimal and the unit), ``int`` (thousands separator), ``codigo`` (as it is)."""

_UNITS = {"km2": "km²", "km": "km", "pct": "%", "s": "s"}
_SHOWN_DECIMALS = {"rs": 2, "km2": 1, "km": 1, "pct": 1, "s": 1, "int": 0}
"""Decimals each kind of column is shown with (:func:`display_value`)."""
_FILL_OPACITY = 0.85
_MAX_ZOOM = 14
_QUANTILE_CLASSES = 4


def display_value(column: str, value: Any) -> str:
    """Format a cell of the consolidated table the Brazilian way, with its unit.

    Parameters
    ----------
    column : str
        A key of :data:`geo_ip.batch.model.COLUMNS`.
    value : object
        The cell.

    Returns
    -------
    str
        ``"R$ 1.234,56"``, ``"12,5 %"``, ``"3,2 km"``, ``"1.234"``; a status by its label;
        ``""`` when missing.
    """
    if is_missing(value):
        return ""
    kind = COLUMN_KINDS.get(column)
    if kind == "rs":
        return brl(value)
    if kind in _UNITS:
        return num(value, 1, _UNITS[kind], trim=False)
    if kind == "int":
        return num(value, 0)
    if column == "situacao":
        return STATUS_LABELS.get(str(value), str(value))
    return str(value)


def sequential_colours() -> tuple[str, ...]:
    """Return the sequential, colour-blind-safe scale of the existing maps, light to dark.

    Returns
    -------
    tuple of str
        The colours of the catalog's ``pedidos`` graduated style (``pontuacao``, viridis).
    """
    classes = load_catalog().pedidos.alternativos["pontuacao"].classes
    return tuple(c.cor for c in classes)


def _shown(column: str, value: Any) -> float:
    """Return a value rounded as the map shows it (:data:`_SHOWN_DECIMALS`)."""
    return round(float(value), _SHOWN_DECIMALS.get(COLUMN_KINDS.get(column, ""), 6))


def _range_label(column: str, low: float, high: float) -> str:
    a, b = display_value(column, low), display_value(column, high)
    return a if a == b else f"{a} a {b}"


def colour_classes(column: str, values: Sequence[float]) -> list[dict[str, Any]]:
    """Quantile classes of a column's values, each with its colour and label.

    Parameters
    ----------
    column : str
        The column (formats the labels).
    values : sequence of float
        The values of the municipalities drawn (missing ones left out).

    Returns
    -------
    list of dict
        ``minimo``, ``maximo`` (``minimo <= x < maximo``, the last class including its
        ``maximo``), ``cor`` and ``rotulo`` (``"R$ 10,00 a R$ 20,00"``); at most four
        classes, fewer when the values are few; empty without values.
    """
    # values that read the same on the legend are one class (16,9 km² and 16,9 km²)
    data = np.asarray([_shown(column, v) for v in values if not is_missing(v)], dtype=float)
    if not len(data):
        return []
    k = min(_QUANTILE_CLASSES, len(np.unique(data)))
    edges = np.unique(np.quantile(data, np.linspace(0, 1, k + 1))) if k > 1 else data[:1]
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    scale = sequential_colours()
    count = len(edges) - 1
    picks = np.linspace(0, len(scale) - 1, count).round().astype(int) if count > 1 else [1]
    out = []
    for i in range(count):
        low, high = float(edges[i]), float(edges[i + 1])
        out.append(
            {
                "minimo": low,
                "maximo": high,
                "cor": scale[int(picks[i])],
                "rotulo": _range_label(column, low, high),
            }
        )
    return out


def _swatch(colour: str, edge: str) -> str:
    return (
        f'<span class="gi-s" style="width:16px;height:12px;background:{html.escape(colour)};'
        f'border:1px solid {html.escape(edge)}"></span>'
    )


def _popup(row: pd.Series) -> str:
    """Build the municipality's popup: every figure with its label, escaped (HTML)."""
    failed = row["situacao"] == "falhou"
    head = f"{row['nome']} ({row['uf']}) — {row['codigo_ibge']}"
    lines = [("Situação", display_value("situacao", row["situacao"]))]
    if failed:
        lines.append(("Erro", str(row["erro"])))
    for column in (*MAP_COLUMNS, "unidades_consumidoras", "custo_municipio_rs"):
        text = display_value(column, row[column])
        if text:
            lines.append((COLUMNS[column], text))
    if row.get("avisos"):
        lines.append((COLUMNS["avisos"], str(row["avisos"])))
    cells = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
        for label, text in lines
    )
    return (
        f'<div class="gi-popup"><div class="gi-popup-titulo">{html.escape(head)}</div>'
        f"<table>{cells}</table></div>"
    )


def _geometry(geom: shapely.Geometry, tolerance: float) -> dict[str, Any]:
    simple = shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance else geom
    rounded = shapely.set_precision(simple, 1e-5)
    if shapely.is_empty(rounded):
        rounded = geom
    return dict(json.loads(shapely.to_geojson(rounded)))


def _features(table: pd.DataFrame, geoms: Sequence[Any]) -> tuple[dict[str, Any], list[int]]:
    """Return the drawn municipalities as a FeatureCollection, and their rows."""
    drawn = [
        i
        for i, g in enumerate(geoms)
        if isinstance(g, shapely.Geometry) and not shapely.is_empty(g)
    ]
    if not drawn:
        return {"type": "FeatureCollection", "features": []}, drawn
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray([geoms[i] for i in drawn], dtype=object))
    tolerance = max(x1 - x0, y1 - y0) / 4000  # a state: about 250 m; a city: a few metres
    features = []
    for i in drawn:
        row = table.iloc[i]
        failed = row["situacao"] == "falhou"
        values = []
        for column in MAP_COLUMNS:
            value = row[column]
            # as shown, as the classes are (:func:`colour_classes`)
            values.append(None if failed or is_missing(value) else _shown(column, value))
        properties = {
            "n": str(row["nome"]),
            "f": 1 if failed else 0,
            "e": str(row["erro"]) if failed else "",
            "v": values,
            "t": [display_value(c, row[c]) for c in MAP_COLUMNS],
            "p": _popup(row),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": _geometry(geoms[i], tolerance),
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}, drawn


class _Script(Element):
    """Script text added to the page as it is (never read as a Jinja template)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "GeoIpLote"
        self.code = code

    def render(self, **kwargs: Any) -> str:
        """Add the code to the page's scripts."""
        figure: Any = self.get_root()
        figure.script.add_child(_Text(self.code), name=self.get_name())
        return ""


class _Text(Element):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


_DRAW = """
(function (mapa, dados, cfg, grupos) {
  "use strict";
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(v) { return String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function cor(col, p) {
    if (p.f) { return cfg.falhou; }
    var x = p.v[col.i], cs = col.classes;
    if (x === null || x === undefined) { return cfg.sem_dado; }
    for (var i = 0; i < cs.length; i++) {
      var ultima = i === cs.length - 1;
      if ((cs[i].minimo <= x && x < cs[i].maximo) || (ultima && x === cs[i].maximo)) {
        return cs[i].cor;
      }
    }
    return cfg.sem_dado;
  }
  cfg.colunas.forEach(function (col, k) {
    L.geoJSON(dados, {
      style: function (f) {
        return { color: cfg.borda, weight: 1, opacity: 1, fillColor: cor(col, f.properties),
          fillOpacity: cfg.opacidade };
      },
      onEachFeature: function (f, camada) {
        var p = f.properties, t = p.t[col.i];
        var dica = "<b>" + esc(p.n) + "</b><br>" + (p.f ? "Falhou: " + esc(p.e) :
          esc(col.titulo) + ": " + (t ? esc(t) : "sem dado"));
        camada.bindTooltip(dica, { sticky: true, direction: "top" });
        camada.bindPopup(p.p, { maxWidth: 380, minWidth: 240, maxHeight: 420 });
      }
    }).addTo(grupos[k]);
  });
  /* a legenda mostra só a seção da coluna escolhida (botões de opção do controle) */
  mapa.on("baselayerchange", function (e) {
    var caixa = mapa.getContainer().querySelector(".gi-legenda");
    if (!caixa) { return; }
    caixa.querySelectorAll("details[data-camada]").forEach(function (d) {
      d.hidden = d.getAttribute("data-camada") !== e.name;
    });
  });
}(%(map)s, %(data)s, %(config)s, [%(groups)s]));
"""


def _footer(provenance: dict[str, Any], counts: dict[str, int]) -> str:
    """Provenance line: tool and version, date of the run, what the map leaves out, OSM."""
    tool = str(provenance.get("ferramenta") or "geo_ip")
    version = str(provenance.get("versao") or provenance.get("versao_geo_ip") or __version__)
    when = provenance.get("executado_em")
    text = f"{tool} {version}"
    if when:
        text += f" · lote de {timestamp(when)}"
    text += f" · {counts['total']} municípios"
    if counts["failed"]:
        text += f", {counts['failed']} com falha"
    if counts["missing"]:
        text += f", {counts['missing']} sem limite no mapa"
    return f"{html.escape(text)}<br>Limites: {parts.OSM_ATTRIBUTION_HTML}"


def _bounds(geoms: Sequence[Any], drawn: list[int]) -> list[list[float]]:
    if not drawn:
        return [[-33.8, -73.99], [5.3, -34.8]]  # Brazil
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray([geoms[i] for i in drawn], dtype=object))
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def write_overview_map(
    table: pd.DataFrame, geoms: Sequence[Any], out: Path, provenance: dict[str, Any]
) -> Path:
    """Write ``mapa_lote.html`` and the ``assets/`` folder beside it.

    Parameters
    ----------
    table : pandas.DataFrame
        The consolidated table, one row per municipality, the columns' codes
        (:data:`geo_ip.batch.model.COLUMNS`).
    geoms : sequence of shapely.Geometry or None
        Each row's boundary in WGS 84 (None: not drawn).
    out : Path
        The HTML file (written atomically).
    provenance : dict
        The run's provenance (``ferramenta``, ``versao``, ``executado_em``).

    Returns
    -------
    Path
        ``out``.
    """
    palette = load_palette()
    data, drawn = _features(table, geoms)
    bounds = _bounds(geoms, drawn)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=centre, zoom_start=7, tiles=None, control_scale=False)
    m.options["min_zoom"] = 3
    m.options["max_zoom"] = _MAX_ZOOM
    page: Any = m.get_root()
    page.header.add_child(parts.palette_css(), name="geo_ip_cores")
    ok = [i for i in drawn if table.iloc[i]["situacao"] != "falhou"]
    has_failed = len(ok) < len(drawn)
    columns, legend, groups = [], [], []
    first = next(
        (c for c in MAP_COLUMNS if any(not is_missing(table.iloc[i][c]) for i in ok)),
        MAP_COLUMNS[0],
    )
    for i, column in enumerate(MAP_COLUMNS):
        title = COLUMNS[column]
        values = [table.iloc[r][column] for r in ok]
        classes = colour_classes(column, values)
        group = folium.FeatureGroup(name=title, overlay=False, show=column == first)
        m.add_child(group)
        groups.append(group.get_name())
        columns.append({"i": i, "titulo": title, "classes": classes})
        rows = [(_swatch(c["cor"], palette.neutra_escura), c["rotulo"]) for c in classes]
        if any(is_missing(v) for v in values):
            rows.append((_swatch(palette.pagina.suave, palette.neutra_escura), "Sem dado"))
        if has_failed:
            rows.append((_swatch(palette.neutra, palette.neutra_escura), STATUS_LABELS["falhou"]))
        legend.append((title, rows, True))
    tiles = TileProvider(
        name="OpenStreetMap", url=OSM_TILES, attribution=parts.OSM_ATTRIBUTION_HTML, max_zoom=19
    )
    folium.TileLayer(
        tiles=tiles, name="OpenStreetMap (requer internet)", overlay=True, show=False
    ).add_to(m)
    config = {
        "colunas": columns,
        "falhou": palette.neutra,
        "sem_dado": palette.pagina.suave,
        "borda": palette.neutra_escura,
        "opacidade": _FILL_OPACITY,
    }
    m.add_child(
        _Script(
            _DRAW
            % {
                "map": m.get_name(),
                "data": parts.js_json(data),
                "config": parts.js_json(config),
                "groups": ", ".join(groups),
            }
        )
    )
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    m.add_child(parts.Call("escala"))
    m.add_child(parts.Call("atribuicao", parts.OSM_ATTRIBUTION_HTML))
    m.add_child(parts.Call("titulo", f"<b>{html.escape(MAP_TITLE)}</b>"))
    hidden = [COLUMNS[c] for c in MAP_COLUMNS if c != first]
    m.add_child(
        parts.Call("controle", "bottomright", "gi-legenda", parts.legend_html(legend, True, hidden))
    )
    counts = {
        "total": len(table),
        "failed": int((table["situacao"] == "falhou").sum()),
        "missing": len(table) - len(drawn),
    }
    m.add_child(parts.Call("controle", "bottomleft", "gi-rodape", _footer(provenance, counts)))
    m.add_child(parts.Call("enquadra", bounds, _MAX_ZOOM))
    copy_assets(out.parent)
    return save_map(m, out)
