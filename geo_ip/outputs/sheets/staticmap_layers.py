"""Territory layers prepared for the static maps: parts, spatial index, style per feature.

Read once per run by :class:`geo_ip.outputs.sheets.staticmap.MapRenderer`; each map then only
queries the window it shows (an :class:`shapely.STRtree` for lines, a coordinate
mask for points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from matplotlib.patches import Rectangle

from geo_ip.law.scoring import format_number
from geo_ip.outputs.styles import LayerStyle, SymbolClass
from geo_ip.rules.provenance import OSM_ATTRIBUTION

__all__ = [
    "LineLayer",
    "PointLayer",
    "class_index",
    "draw_furniture",
    "line_layer",
    "metres",
    "nice_length",
    "point_layer",
]


@dataclass
class LineLayer:
    """Line features exploded into parts, with a spatial index and a style per part."""

    segments: list[np.ndarray]
    tree: shapely.STRtree
    classes: np.ndarray
    symbols: list[SymbolClass]

    def window(self, box: shapely.Polygon) -> np.ndarray:
        """Return the indices of the parts that meet ``box``."""
        return np.asarray(self.tree.query(box), dtype=np.int64)


@dataclass
class PointLayer:
    """Point features of a catalog layer (``name``) with a style class each."""

    name: str
    xy: np.ndarray
    classes: np.ndarray
    symbols: list[SymbolClass]
    keys: np.ndarray

    def window(self, bounds: tuple[float, float, float, float]) -> np.ndarray:
        """Return the indices of the points inside ``bounds`` (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = bounds
        x, y = self.xy[:, 0], self.xy[:, 1]
        return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def class_index(style: LayerStyle, values: Any, n: int) -> tuple[np.ndarray, list[SymbolClass]]:
    """Index of each feature's class in ``symbols`` (unknown values: the first class)."""
    symbols = list(style.classes)
    if style.tipo != "categorizado" or values is None:
        return np.zeros(n, dtype=np.int64), symbols
    lookup = {c.valor: i for i, c in enumerate(symbols) if c.valor is not None}
    return np.array([lookup.get(str(v), 0) for v in values], dtype=np.int64), symbols


def line_layer(geoms: np.ndarray, values: Any, style: LayerStyle) -> LineLayer:
    """Explode line features into parts with a spatial index and a style class each."""
    classes, symbols = class_index(style, values, len(geoms))
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 1  # LineString
    parts, owner = parts[keep], owner[keep]
    coords, which = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(np.diff(which)) + 1
    segments = np.split(coords, cuts) if len(coords) else []
    return LineLayer(
        segments=segments,
        tree=shapely.STRtree(parts),
        classes=classes[owner],
        symbols=symbols,
    )


def point_layer(geoms: np.ndarray, values: Any, style: LayerStyle, keys: Any = None) -> PointLayer:
    """Keep the point features with their style class and key."""
    classes, symbols = class_index(style, values, len(geoms))
    point = shapely.get_type_id(geoms) == 0
    xy = shapely.get_coordinates(geoms[point]).reshape(-1, 2)
    key_array = np.asarray(keys if keys is not None else np.full(len(geoms), ""), dtype=object)
    return PointLayer(
        name=style.camada,
        xy=xy,
        classes=classes[point],
        symbols=symbols,
        keys=key_array[point],
    )


def nice_length(span: float) -> float:
    """Return a round length (1, 2 or 5 × 10ⁿ metres) of about a quarter of ``span``."""
    target = max(span / 4.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def metres(value: float) -> str:
    """Write a length in metres, or in km from 1 km up, Brazilian style."""
    if value >= 1000:
        return f"{format_number(value / 1000, 1)} km"
    return f"{format_number(value, 0)} m"


def draw_furniture(
    ax: Any, bounds: tuple[float, float, float, float], font: float, halo: list[Any], ink: str
) -> None:
    """Scale bar, north arrow and attribution (in ``ink``, the page's, ``maps/cores.toml``)."""
    x0, y0, x1, _ = bounds
    side = x1 - x0
    length = nice_length(side)
    bx, by, h = x0 + 0.04 * side, y0 + 0.045 * side, 0.012 * side
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 4, by),
                length / 4,
                h,
                facecolor="black" if k % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.4,
                zorder=12,
            )
        )
    for value, at in ((0.0, bx), (length, bx + length)):
        ax.text(
            at,
            by + h * 1.4,
            metres(value) if value else "0",
            fontsize=font,
            ha="center",
            va="bottom",
            zorder=12,
            path_effects=halo,
        )
    ax.annotate(
        "",
        xy=(0.93, 0.95),
        xytext=(0.93, 0.82),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>",
            "color": "black",
            "linewidth": 1.0,
            "mutation_scale": 8,
        },
        zorder=12,
    )
    ax.text(
        0.93,
        0.955,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=font * 1.3,
        fontweight="bold",
        zorder=12,
        path_effects=halo,
    )
    ax.text(
        0.995,
        0.005,
        OSM_ATTRIBUTION,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=font * 0.85,
        color=ink,
        zorder=12,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1.0},
    )
