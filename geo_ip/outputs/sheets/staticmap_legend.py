"""The legend strip beside the static map of a technical sheet.

:class:`LegendStrip` draws each distinct legend row once per run, as a bitmap, on a
small matplotlib figure of its own; each map's legend is then stacked from these
bitmaps in a fixed order (the request's own symbols first), so a thousand maps do not
lay out a thousand legends. Private helper of :mod:`geo_ip.outputs.sheets.staticmap`.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["LegendStrip"]

_LEGEND_CHARS = 26
_LEGEND_FIRST = (
    "Pedido:",
    "Local a confirmar",
    "Pior caso",
    "Ponto do pedido",
    "Extensão proposta",
    "Poste novo",
    "Raio de",
    "Faixa de",
)


class LegendStrip:
    """The legend of the static maps: rows drawn once, stacked for each map.

    Parameters
    ----------
    size_in : (float, float)
        Width and height of the strip, in inches.
    dpi : int
        Its resolution (that of the map).
    font : float
        Font size of the map's text, in points.

    Attributes
    ----------
    rows : dict of str to numpy.ndarray
        The bitmap of every row drawn so far, by label.
    """

    def __init__(self, size_in: tuple[float, float], dpi: int, font: float) -> None:
        self._figure = Figure(figsize=size_in, dpi=dpi, facecolor="white")
        self._canvas = FigureCanvasAgg(self._figure)
        self._height = round(size_in[1] * dpi)
        self._font = font
        self.rows: dict[str, np.ndarray] = {}

    def _entry(self, label: str, handle: Any) -> np.ndarray:
        """Bitmap of one legend row (or of the title when ``handle`` is None), cached by label.

        Every distinct row is drawn once per run; each map's legend is then stacked
        from these bitmaps, so a thousand maps do not lay out a thousand legends.
        """
        image = self.rows.get(label)
        if image is not None:
            return image
        figure = self._figure
        for old in list(figure.legends) + list(figure.texts):
            old.remove()
        if handle is None:
            artist: Any = figure.text(
                0.03, 0.5, label, fontsize=self._font * 1.1, fontweight="bold", va="center"
            )
        else:
            artist = figure.legend(
                [handle],
                [textwrap.fill(label, _LEGEND_CHARS)],
                loc="center left",
                fontsize=self._font * 0.9,
                frameon=False,
                borderaxespad=0.0,
                borderpad=0.1,
                handlelength=1.8,
                handletextpad=0.6,
            )
        self._canvas.draw()
        box = artist.get_window_extent(self._canvas.get_renderer())
        pixels = np.asarray(self._canvas.buffer_rgba())[..., :3]
        height = pixels.shape[0]
        top = max(0, math.floor(height - box.y1) - 1)
        bottom = min(height, math.ceil(height - box.y0) + 1)
        image = np.array(pixels[top:bottom])
        self.rows[label] = image
        return image

    def stack(self, entries: dict[str, Any]) -> np.ndarray:
        """Stack the legend rows of one map into the strip on the right of the map.

        Parameters
        ----------
        entries : dict of str to matplotlib artist
            Label and legend handle of each symbol the map drew, in drawing order.

        Returns
        -------
        numpy.ndarray
            RGB image as tall as the map: the title, the request's own symbols, then
            the others; ``… e mais N`` when the rest does not fit.
        """
        rows = [self._entry("Legenda", None)]
        rank = {
            k: next((i for i, p in enumerate(_LEGEND_FIRST) if k.startswith(p)), 99)
            for k in entries
        }
        first = sorted((k for k in entries if rank[k] < 99), key=rank.__getitem__)
        order = first + [k for k in entries if k not in first]
        rows += [self._entry(label, entries[label]) for label in order]
        strip = np.full((self._height, rows[0].shape[1], 3), 255, dtype=np.uint8)
        y = round(0.02 * self._height)
        reserve = self._entry("… e mais 0", None).shape[0]
        for n, row in enumerate(rows):
            room = strip.shape[0] - y - (0 if n == len(rows) - 1 else reserve)
            if row.shape[0] > room:
                more = self._entry(f"… e mais {len(rows) - n}", None)
                height = min(more.shape[0], strip.shape[0] - y)
                strip[y : y + height] = more[:height]
                break
            strip[y : y + row.shape[0]] = row
            y += row.shape[0]
        return strip
