"""Static map of one request for its technical sheet: vector layers drawn with matplotlib.

No tiles (no network, and the sheet must print the same every time): the territory
layers — roads coloured by hierarchy, the existing grid, the lighting points, the
facilities — the occurrences counted, the proposed extension with each new pole, the
request and its snapped point (a request pending confirmation of its place: its
candidate stretch, dashed, and the worse position assessed along it, instead of the
point), and the rings of the radii of the rules file. Colours
and widths come from the layer catalog (:func:`geo_ip.outputs.styles.layer_style`) and the
request map's composition (``maps/pedido.toml``, :func:`geo_ip.outputs.maps.load_map`: the rings,
the request's road, the strip of buildings and the outlines of the points), so the
sheet agrees with the web map and with QGIS. The page design (paper, frame, ink of the
text) and the outlines of the points come from ``maps/cores.toml``
(:func:`geo_ip.outputs.palette.load_palette`), shared with the sheet's page and the web map.

:class:`MapRenderer` reads the layers once, indexes the lines with a
:class:`shapely.STRtree` and keeps one matplotlib figure (Agg canvas, no pyplot) that
is cleared and redrawn for each request: a thousand maps cost a thousand redraws, not
a thousand reads of the territory.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from matplotlib.patches import Polygon as MplPolygon
from PIL import Image

from geo_ip.outputs.format import candidate_stretch
from geo_ip.outputs.maps import MapSpec, load_map, merged_rings
from geo_ip.outputs.palette import Palette, load_palette
from geo_ip.outputs.sheets.staticmap_layers import (
    LineLayer,
    PointLayer,
    draw_furniture,
    line_layer,
    metres,
    point_layer,
)
from geo_ip.outputs.sheets.staticmap_legend import LegendStrip
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.views import proposed_poles
from geo_ip.pipeline import Assessment
from geo_ip.sources.catalog import Catalog
from geo_ip.territory.build import OSM_ATTRIBUTION
from geo_ip.territory.reader import read_layer

__all__ = ["MAP_DPI", "MAP_SIZE_IN", "MAP_SIZE_PX", "MapRenderer"]

MAP_SIZE_IN = (4.5, 3.0)
"""Figure size (inches): a square map of 3 × 3 in and a legend strip of 1.5 in on its right."""
MAP_DPI = 240
"""Resolution of the PNG (print quality at the size the sheet uses)."""
MAP_SIZE_PX = (round(MAP_SIZE_IN[0] * MAP_DPI), round(MAP_SIZE_IN[1] * MAP_DPI))
"""Width and height of every map PNG, in pixels."""

_LINE_SCALE = 0.45
"""Catalog widths are web pixels; on a 3-inch print map they are thinner."""
_MARKER_SCALE = 0.9
_MARGIN = 0.06
_FONT = 6.0
_PALETTE = 128
"""Colours of the PNG palette: the maps are flat colours, 128 keep them and the file small."""
_HALO = [patheffects.withStroke(linewidth=1.4, foreground="white")]
_RING_STYLES = ((0, (4, 2)), (0, (1.5, 1.5)), (0, (6, 2, 1, 2)))
_GRID_POINT_MARKERS = {"poste": ("o", 0.5), "transformador": ("s", 1.0), "ponto_ip": ("o", 0.8)}
STRETCH_LABEL = "Local a confirmar: trecho candidato"
"""Legend of the candidate stretch a request pending confirmation of its place is drawn as."""
WORST_LABEL = "Pior caso avaliado no trecho (pontuação e custo da ficha)"
"""Legend of the worse position along the stretch, whose evidence the sheet shows."""


_STYLED = (
    "vias",
    "rede_existente",
    "pontos_ip",
    "equipamentos",
    "ocorrencias",
    "extensoes",
    "postes_propostos",
    "pedidos",
)
"""Catalog layers the map draws (their styles, read once)."""


def _poles_by_request(assessment: Assessment) -> dict[int, np.ndarray]:
    """Coordinates of the new poles of each request's extension, by row of the table."""
    poles = proposed_poles(
        assessment.paths, assessment.table["postes_novos"], assessment.rules.rede.vao_postes.valor
    )
    xy = shapely.get_coordinates(np.asarray(poles["geometry"], dtype=object)).reshape(-1, 2)
    order = poles["indice"].to_numpy()
    return {int(i): xy[order == i] for i in np.unique(order)}


def _map_axes(palette: Palette) -> tuple[Figure, FigureCanvasAgg, Axes]:
    """Create the map's figure and its square axes: paper colour, thin frame, no ticks."""
    width, height = MAP_SIZE_IN
    figure = Figure(figsize=MAP_SIZE_IN, dpi=MAP_DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0.004, 0.004 * width / height, height / width - 0.008, 0.992))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor(palette.mapa_ficha.papel)
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color(palette.neutra_escura)
    return figure, canvas, ax


class MapRenderer:
    """Draw the static map of any request of an assessment.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`; its territory layers are read once.
    spec : MapSpec, optional
        The request map's composition (rings, the request's road, what only the sheet
        draws); default ``maps/pedido.toml``, the same as the web map's.
    catalog : Catalog, optional
        The layer catalog (symbols); default the bundled one.

    Examples
    --------
    >>> renderer = MapRenderer(assessment)  # doctest: +SKIP
    >>> png = renderer.render(0)  # doctest: +SKIP
    """

    def __init__(
        self,
        assessment: Assessment,
        spec: MapSpec | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.assessment = assessment
        self.spec = spec = spec or load_map("pedido")
        av = assessment.rules.avaliacao
        self.styles = {name: layer_style(name, catalog) for name in _STYLED}
        self._read_territory(assessment.territory)
        self.occurrences = self._usable_occurrences(assessment.occurrences)
        self.paths = np.asarray(assessment.paths.array, dtype=object)
        self.poles = _poles_by_request(assessment)
        # (radius, legend label, colour) of each ring, largest first
        self.rings = [
            (radius, " e ".join(r.rotulo_ficha or r.rotulo for r in rings), rings[0].cor)
            for radius, rings in reversed(merged_rings(spec, av))
        ]
        strip = spec.ficha.faixa
        self.buildings_radius = float(getattr(av, strip.parametro).valor) if strip else 0.0
        self.dark_radius = float(av.distancia_escuro_m.valor)
        palette = load_palette()
        # outlines: maps/cores.toml (as on the web map), unless the composition's [ficha] says
        self.outlines = {**palette.contornos, **spec.ficha.contornos}
        self.ink, self.alert = palette.pagina.tinta, palette.mapa_ficha.alerta
        # colour of the request's link to its road (None: the map has no via_pedido layer)
        road = next((la for la in spec.camadas if la.camada == "via_pedido"), None)
        self.road_colour = road.cor if road is not None else None
        self.figure, self.canvas, self.ax = _map_axes(palette)
        width, height = MAP_SIZE_IN
        self._legend_x = round(MAP_SIZE_PX[0] * height / width)
        self.legend = LegendStrip((width - height, height), MAP_DPI, _FONT)
        self._legend_image: np.ndarray | None = None

    def _read_territory(self, territory: Any) -> None:
        """Read and index the territory's layers: roads, grid, lighting points, facilities."""
        roads = read_layer(territory, "vias")
        self.roads = line_layer(
            np.asarray(roads.geometry.array, dtype=object), roads["hierarquia"], self.styles["vias"]
        )
        grid = read_layer(territory, "rede_existente", missing_ok=True)
        grid_geoms = np.asarray(grid.geometry.array, dtype=object)
        self.grid_lines = line_layer(grid_geoms, grid["tipo"], self.styles["rede_existente"])
        self.grid_points = point_layer(grid_geoms, grid["tipo"], self.styles["rede_existente"])
        lamps = read_layer(territory, "pontos_ip", missing_ok=True)
        self.lamps = point_layer(
            np.asarray(lamps.geometry.array, dtype=object), None, self.styles["pontos_ip"]
        )
        facilities = read_layer(territory, "equipamentos", missing_ok=True)
        self.facilities = point_layer(
            np.asarray(facilities.geometry.array, dtype=object),
            facilities["categoria"],
            self.styles["equipamentos"],
            keys=facilities["osm_id"].astype(str).to_numpy(dtype=object),
        )
        self.facility_names = dict(
            zip(
                facilities["osm_id"].astype(str),
                facilities["nome"].fillna("").astype(str),
                strict=True,
            )
        )

    def _usable_occurrences(self, occ: Any) -> PointLayer | None:
        """Index the occurrences read without problems (None: the run had none)."""
        if occ is None or not len(occ):
            return None
        usable = occ[occ["situacao"].astype(str).eq("ok") & occ.geometry.notna()]
        return point_layer(
            np.asarray(usable.geometry.array, dtype=object),
            usable["tipo"],
            self.styles["ocorrencias"],
        )

    # --- drawing ------------------------------------------------------------------------

    def _window(
        self, i: int, x: float, y: float, stretch: shapely.Geometry | None = None
    ) -> tuple[float, float, float, float]:
        reach = max(r for r, _, _ in self.rings) if self.rings else 150.0
        x0, y0, x1, y1 = x - reach, y - reach, x + reach, y + reach
        path = self.paths[i] if i < len(self.paths) else None
        for line in (path, stretch):
            if line is not None and not shapely.is_missing(line) and not shapely.is_empty(line):
                px0, py0, px1, py1 = shapely.bounds(line)
                x0, y0, x1, y1 = min(x0, px0), min(y0, py0), max(x1, px1), max(y1, py1)
        side = max(x1 - x0, y1 - y0) * (1 + 2 * _MARGIN)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2

    def _draw_lines(
        self,
        layer: LineLayer,
        box: shapely.Polygon,
        zorder: float,
        legend: dict[str, Any],
        only: set[str] | None = None,
        prefix: str = "",
    ) -> None:
        idx = layer.window(box)
        if not len(idx):
            return
        classes = layer.classes[idx]
        for k in np.unique(classes):
            symbol = layer.symbols[int(k)]
            if symbol.geometria == "ponto" or (only is not None and symbol.valor not in only):
                continue
            chosen = idx[classes == k]
            width = symbol.largura * _LINE_SCALE
            self.ax.add_collection(
                LineCollection(
                    [layer.segments[j] for j in chosen],
                    colors=symbol.cor,
                    linewidths=width,
                    linestyles="--" if symbol.tracejado else "-",
                    capstyle="round",
                    zorder=zorder + width / 10,
                )
            )
            label = f"{prefix}{symbol.rotulo.lower()}" if prefix else symbol.rotulo
            legend.setdefault(label, Line2D([], [], color=symbol.cor, linewidth=max(width, 0.8)))

    def _draw_points(
        self,
        layer: PointLayer | None,
        bounds: tuple[float, float, float, float],
        zorder: float,
        legend: dict[str, Any],
        marker: str = "o",
        markers: dict[str, tuple[str, float]] | None = None,
        only: set[str] | None = None,
        scale: float = 1.0,
    ) -> None:
        if layer is None or not len(layer.xy):
            return
        idx = layer.window(bounds)
        if not len(idx):
            return
        edge = self._outline(layer.name)
        classes = layer.classes[idx]
        for k in np.unique(classes):
            symbol = layer.symbols[int(k)]
            if symbol.geometria == "linha" or (only is not None and symbol.valor not in only):
                continue
            mark, factor = marker, scale
            if markers is not None:
                mark, factor = markers.get(str(symbol.valor), (marker, scale))
            size = symbol.largura * _MARKER_SCALE * factor
            chosen = idx[classes == k]
            handle = self._markers(
                layer.xy[chosen, 0], layer.xy[chosen, 1], mark, size, symbol.cor, edge, 0.3, zorder
            )
            legend.setdefault(symbol.rotulo, handle)

    def _outline(self, layer: str) -> str:
        """Outline colour of a layer's points (``maps/cores.toml``, ``[contornos]``)."""
        return self.outlines.get(layer, "none")

    def _markers(
        self,
        xs: Any,
        ys: Any,
        marker: str,
        size: float,
        face: str,
        edge: str,
        edge_width: float,
        zorder: float,
    ) -> Line2D:
        """Draw point markers (a marker-only line: much cheaper than ``scatter``).

        Returns the legend handle of the symbol.
        """
        style: dict[str, Any] = {
            "linestyle": "",
            "marker": marker,
            "markerfacecolor": face,
            "markeredgecolor": edge,
            "markeredgewidth": edge_width,
        }
        self.ax.plot(xs, ys, zorder=zorder, markersize=size, **style)
        return Line2D([], [], markersize=max(size, 2.5), **style)

    @staticmethod
    def _centre(row: pd.Series) -> tuple[float, float, shapely.Geometry | None]:
        """Point the rings are drawn around, and the candidate stretch (or None).

        A request pending confirmation of its place is assessed at the worse position
        along its stretch (its snapped point, ``x_via``/``y_via``): the rings and the
        evidence are those of that position, not of the approximate point.
        """
        x, y = float(row["x"]), float(row["y"])
        stretch = candidate_stretch(row)
        if stretch is not None:
            xv, yv = row.get("x_via"), row.get("y_via")
            if xv is not None and yv is not None and np.isfinite([xv, yv]).all():
                x, y = float(xv), float(yv)
        return x, y, stretch

    def _draw_stretch(
        self, stretch: shapely.Geometry, x: float, y: float, legend: dict[str, Any]
    ) -> None:
        """Draw the candidate stretch (dashed) and the worse position assessed along it."""
        symbol = self.styles["pedidos"].symbol_for("pendente_localizacao")
        width = symbol.largura * _LINE_SCALE * 0.9
        lines = [np.asarray(part.coords) for part in getattr(stretch, "geoms", [stretch])]
        self.ax.add_collection(
            LineCollection(
                [c[:, :2] for c in lines if len(c) > 1],
                colors=symbol.cor,
                linewidths=width,
                linestyles=[(0, (3, 2))],
                capstyle="butt",
                zorder=9.6,
            )
        )
        legend.setdefault(
            STRETCH_LABEL,
            Line2D([], [], color=symbol.cor, linewidth=width, linestyle=(0, (1.5, 1))),
        )
        edge = self._outline("pedidos")
        handle = self._markers([x], [y], "o", 4.0, symbol.cor, edge, 0.5, 10)
        legend.setdefault(WORST_LABEL, handle)

    def _draw_strip(
        self, line: shapely.Geometry | None, face: str, edge: str, what: str, legend: dict[str, Any]
    ) -> None:
        """Draw the strip around the path and the request where buildings are counted."""
        zone = shapely.buffer(line, self.buildings_radius)
        for ring in getattr(zone, "geoms", [zone]):
            if ring.geom_type == "Polygon":
                self.ax.add_patch(
                    MplPolygon(
                        np.asarray(ring.exterior.coords),
                        closed=True,
                        facecolor=face,
                        edgecolor=edge,
                        alpha=0.35,
                        linewidth=0.4,
                        zorder=1.5,
                    )
                )
        legend.setdefault(
            f"Faixa de {metres(self.buildings_radius)} ({what})",
            Patch(facecolor=face, edgecolor=edge, alpha=0.6, linewidth=0.4),
        )

    def _draw_request(self, i: int, row: pd.Series, legend: dict[str, Any]) -> None:
        x, y, candidate = self._centre(row)
        path = self.paths[i] if i < len(self.paths) else None
        has_path = path is not None and not shapely.is_missing(path) and not path.is_empty
        stretch = shapely.union(path, shapely.Point(x, y)) if has_path else shapely.Point(x, y)
        strip = self.spec.ficha.faixa
        if strip is not None:
            self._draw_strip(stretch, strip.cor, strip.borda, strip.rotulo, legend)
        for n, (radius, what, colour) in enumerate(self.rings):
            dash = _RING_STYLES[n % len(_RING_STYLES)]
            self.ax.add_patch(
                Circle(
                    (x, y),
                    radius,
                    fill=False,
                    edgecolor=colour,
                    linewidth=0.6,
                    linestyle=dash,
                    zorder=7,
                )
            )
            self.ax.text(
                x,
                y + radius,
                metres(radius),
                fontsize=_FONT * 0.85,
                ha="center",
                va="bottom",
                color=colour,
                zorder=7,
                path_effects=_HALO,
            )
            legend.setdefault(
                f"Raio de {metres(radius)} ({what})",
                Line2D([], [], color=colour, linewidth=0.6, linestyle=dash),
            )
        if has_path:
            method = str(row.get("metodo_distancia", "via"))
            symbol = self.styles["extensoes"].symbol_for(method)
            width = symbol.largura * _LINE_SCALE * 1.4
            coords = shapely.get_coordinates(path)
            self.ax.plot(
                coords[:, 0],
                coords[:, 1],
                color=symbol.cor,
                linewidth=width,
                linestyle="--" if symbol.tracejado else "-",
                solid_capstyle="round",
                zorder=8,
            )
            legend.setdefault(
                f"Extensão proposta ({symbol.rotulo.lower()})",
                Line2D(
                    [],
                    [],
                    color=symbol.cor,
                    linewidth=width,
                    linestyle="--" if symbol.tracejado else "-",
                ),
            )
        poles = self.poles.get(i)
        if poles is not None and len(poles):
            symbol = self.styles["postes_propostos"].classes[0]
            size = symbol.largura * _MARKER_SCALE * 1.2
            edge = self._outline("postes_propostos")
            handle = self._markers(poles[:, 0], poles[:, 1], "o", size, symbol.cor, edge, 0.4, 9)
            legend.setdefault(symbol.rotulo, handle)
        if candidate is not None:  # no point: the place is somewhere along the stretch
            self._draw_stretch(candidate, x, y, legend)
            return
        xv, yv = row.get("x_via"), row.get("y_via")
        road = self.road_colour
        if road and xv is not None and yv is not None and np.isfinite([xv, yv]).all():
            self.ax.plot([x, xv], [y, yv], color=road, linewidth=0.5, linestyle=":", zorder=9)
            handle = self._markers([xv], [yv], "o", 2.5, "white", road, 0.5, 9.5)
            legend.setdefault("Ponto do pedido na via", handle)
        symbol = self.styles["pedidos"].symbol_for(str(row.get("situacao", "")))
        edge = self._outline("pedidos")
        handle = self._markers([x], [y], "*", 10.0, symbol.cor, edge, 0.5, 10)
        legend.setdefault(f"Pedido: {symbol.rotulo}", handle)

    def _label_facilities(self, i: int, bounds: tuple[float, float, float, float]) -> None:
        entries = self.assessment.items[i] if i < len(self.assessment.items) else {}
        counted: dict[str, float] = {}
        for key in ("equipamentos", "seguranca"):
            for e in (entries or {}).get(key) or []:
                name = str(e.get("nome") or "")
                if name and str(e.get("osm_id")) in self.facility_names:
                    counted[str(e.get("osm_id"))] = float(e.get("distancia_m") or 0.0)
        layer = self.facilities
        shown = 0
        for key in sorted(counted, key=counted.__getitem__):
            where = np.flatnonzero(layer.keys == key)
            if not len(where) or shown >= 6:
                continue
            fx, fy = layer.xy[where[0]]
            if not (bounds[0] <= fx <= bounds[2] and bounds[1] <= fy <= bounds[3]):
                continue
            right = fx > bounds[0] + 0.6 * (bounds[2] - bounds[0])
            self.ax.annotate(
                self.facility_names[key],
                (fx, fy),
                xytext=(-3 if right else 3, 2),
                textcoords="offset points",
                ha="right" if right else "left",
                fontsize=_FONT * 0.8,
                color=self.ink,
                zorder=9.8,
                path_effects=_HALO,
                annotation_clip=True,
                clip_on=True,
            )
            shown += 1

    def _reset(self) -> None:
        """Remove what the previous map drew (faster than clearing the axes)."""
        ax = self.ax
        for artist in [*ax.collections, *ax.patches, *ax.lines, *ax.texts, *ax.images]:
            artist.remove()
        self._legend_image = None

    def _png(self) -> bytes:
        self.canvas.draw()
        rgb = np.array(np.asarray(self.canvas.buffer_rgba())[..., :3])
        if self._legend_image is not None:
            legend = self._legend_image[:, : rgb.shape[1] - self._legend_x, :3]
            rgb[: legend.shape[0], self._legend_x : self._legend_x + legend.shape[1]] = legend
        image = Image.fromarray(rgb).quantize(_PALETTE, method=Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        image.save(buffer, format="png")
        return buffer.getvalue()

    def render(self, i: int) -> bytes:
        """Draw the map of the request in row ``i`` of ``assessment.table``.

        Parameters
        ----------
        i : int
            Row position (0-based, input order).

        Returns
        -------
        bytes
            A PNG of :data:`MAP_SIZE_PX`; for a request that was not located, the same
            size with a note instead of the map.
        """
        self._reset()
        row = self.assessment.table.iloc[i]
        x, y = row.get("x"), row.get("y")
        if x is None or y is None or not np.isfinite(np.asarray([x, y], dtype=float)).all():
            self.ax.text(
                0.5,
                0.5,
                "Pedido não localizado:\nsem mapa do local.",
                transform=self.ax.transAxes,
                ha="center",
                va="center",
                fontsize=_FONT * 1.6,
                color=self.alert,
            )
            self.ax.text(
                0.995,
                0.005,
                OSM_ATTRIBUTION,
                transform=self.ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=_FONT * 0.85,
                color=self.ink,
            )
            return self._png()
        cx, cy, stretch = self._centre(row)
        bounds = self._window(i, cx, cy, stretch)
        box = shapely.box(*bounds)
        legend: dict[str, Any] = {}
        self._draw_lines(self.grid_lines, box, 2.6, legend, only={"via_iluminada"})
        self._draw_lines(self.roads, box, 2.0, legend, prefix="Via ")
        self._draw_lines(self.grid_lines, box, 3.0, legend, only={"bt", "mt"})
        grid_points = {"poste", "transformador"} | (set() if len(self.lamps.xy) else {"ponto_ip"})
        self._draw_points(
            self.grid_points,
            bounds,
            4.0,
            legend,
            markers=_GRID_POINT_MARKERS,
            only=grid_points,
        )
        self._draw_points(self.lamps, bounds, 4.5, legend)
        self._draw_points(self.facilities, bounds, 6.0, legend, marker="D", scale=0.85)
        self._draw_points(self.occurrences, bounds, 6.5, legend, marker="X", scale=0.9)
        self._draw_request(i, row, legend)
        self._label_facilities(i, bounds)
        self.ax.set_xlim(bounds[0], bounds[2])
        self.ax.set_ylim(bounds[1], bounds[3])
        self.ax.set_aspect("equal", adjustable="box")
        draw_furniture(self.ax, bounds, _FONT, _HALO, self.ink)
        self._legend_image = self.legend.stack(legend)
        return self._png()
