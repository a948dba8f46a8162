"""Drawing the offline background's raster tiles, one zoom at a time.

Tiles are drawn a *metatile* at a time (:data:`META` × :data:`META` tiles on one Pillow
image), then cut into 256-pixel PNG files in the ``{z}/{x}/{y}.png`` layout of
``L.tileLayer``. Features are bucketed per metatile once per zoom (a sort, not a search
per metatile), so the cost grows with the features drawn, not with the tiles.

Once a zoom's features are sorted and its names placed (:class:`_Plan`), its metatiles
can be shared with forked helper processes (:func:`draw_zoom`'s ``workers``): they
inherit the plan without a copy (copy-on-write pages) and write their own tiles. A
metatile's pixels depend only on the plan, so the tiles are the same bytes whoever
draws them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from geo_ip.outputs.web.basemap_labels import (
    BUCKET_ROWS,
    DISTRICT_LABEL,
    WATER_LABEL,
    Chunk,
    _bucket_chunks,
    _bucket_points,
    _Buckets,
    _district_size,
    _Label,
    _label_image,
    _place_labels,
    _rgb,
    _street_size,
    _to_zoom,
)
from geo_ip.outputs.web.basemap_tiles import (
    I64,
    META,
    PNG_LEVEL,
    TILE,
    Features,
    Lines,
    Points,
    Style,
    release_memory,
)

__all__ = ["draw_zoom"]

LINE_CHUNK = 4096
"""Lines whose coordinates are made at a time by :func:`_draw_lines` (bounds its memory)."""
KEEP_LINES = 32768
"""Lines of a metatile whose coordinates are kept for the fills after the casings."""
_Stamps = tuple[npt.NDArray[np.float32], list[int]]
"""Points of a zoom grouped by metatile: ``(xy, start)`` (see ``_bucket_points``)."""


@cache
def _palette(style: Style) -> Image.Image:
    """Return a fixed palette: the style's colours and the blends labels leave.

    Every metatile is reduced to it (Pillow, no dithering) before its tiles are cut,
    so tiles are small palette PNGs and the same colour never differs from one
    metatile to the next (an adaptive palette would show seams).
    """
    base = [
        style.background, style.urban, style.facility, style.water, style.building,
        style.boundary, style.district, *style.casing, *style.fill, *style.low_fill,
        style.grid_mt, style.grid_bt, style.pole,
    ]  # fmt: skip
    colours: list[tuple[int, int, int]] = []
    for c in (_rgb(c) for c in base):
        if c not in colours:
            colours.append(c)
    halo = _rgb(style.halo)

    def blend(a: tuple[int, int, int], b: tuple[int, int, int], steps: int) -> None:
        for k in range(1, steps):
            t = k / steps
            c = tuple(round(a[i] * (1 - t) + b[i] * t) for i in range(3))
            # Pillow maps a pixel to a near colour, not always the nearest: keep blends
            # away from the style's own colours, so these come out exact
            far = all(sum(abs(c[i] - o[i]) for i in range(3)) >= 24 for o in colours)
            if far and len(colours) < 256:
                colours.append(c)  # type: ignore[arg-type]

    for ink in (style.label, style.district_label, style.water_label):
        colours.append(_rgb(ink))
        blend(_rgb(ink), halo, 12)
    if halo not in colours:
        colours.append(halo)
    for c in list(colours[:20]):
        blend(c, halo, 4)
        blend(c, _rgb(style.label), 3)
    flat = [v for c in colours[:256] for v in c]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image


def _uniform(tile: Image.Image) -> int | None:
    extrema: Any = tile.getextrema()
    return int(extrema[0]) if extrema[0] == extrema[1] else None


def draw_zoom(
    features: Features,
    zoom: int,
    tiles: tuple[int, int, int, int],
    out: Path,
    style: Style,
    workers: int = 1,
) -> tuple[int, int]:
    """Draw every tile of one zoom and write them as ``out/{zoom}/{x}/{y}.png``.

    Parameters
    ----------
    features : Features
        What to draw.
    zoom : int
        The zoom (at most ``features.zoom``).
    tiles : tuple of int
        ``(x0, y0, x1, y1)``: the tile range written (inclusive).
    out : Path
        Folder of the tile pyramid.
    style : Style
        Colours and widths.
    workers : int, default 1
        Processes drawing the zoom's metatiles: above 1 the process forks (on systems
        that can, and only while it runs a single thread) after placing the labels,
        so the helpers share the features without a copy. The tiles are the same
        bytes whatever the count.

    Returns
    -------
    tuple of int
        Tiles written and their total size in bytes.
    """
    return draw_zooms(features, {zoom: tiles}, out, style, workers)


def draw_zooms(
    features: Features,
    zooms: dict[int, tuple[int, int, int, int]],
    out: Path,
    style: Style,
    workers: int = 1,
    *,
    release_points: bool = False,
) -> tuple[int, int]:
    """Draw several zooms (see :func:`draw_zoom`), one after the other.

    The names of every zoom are placed first (placing them is the preparation's
    largest temporary memory, tens of MB at a million streets; what they keep is
    small). Then, for each zoom, this process sorts the features by metatile, forks
    the helpers for their share of the metatiles, draws its own share and waits for
    them: no preparation runs beside a helper, so the memory peak is one zoom's
    drawing, not a drawing plus the next zoom's temporaries.

    Parameters
    ----------
    features : Features
        What to draw.
    zooms : dict of int to tuple of int
        Each zoom and its tile range ``(x0, y0, x1, y1)`` (inclusive).
    out : Path
        Folder of the tile pyramid.
    style : Style
        Colours and widths.
    workers : int, default 1
        Processes drawing each zoom (see :func:`draw_zoom`).
    release_points : bool, default False
        Empty ``features.buildings`` and ``features.poles`` once the last zoom is
        prepared (its plan holds its own copy), so that its helpers, drawing the
        deepest and longest zoom, do not hold them too.

    Returns
    -------
    tuple of int
        Tiles written and their total size in bytes.
    """
    written = size = 0
    labels = {}
    for zoom, tiles in zooms.items():
        scale, shift, nx, ny = _frame(features, zoom, tiles)
        labels[zoom] = _place_labels(features, zoom, scale, shift, (nx, ny))
        release_memory()
    for zoom, tiles in zooms.items():
        plan = _Plan(features, zoom, tiles, style, labels.pop(zoom))
        if release_points and not labels:  # the last zoom
            features.buildings = features.poles = Points.empty()
        release_memory()  # the sorting's temporaries, before the helpers share the pages
        keys = list(range(plan.nx * plan.ny))
        n = max(1, min(workers, len(keys)))
        if n == 1 or not _can_fork():
            done = plan.draw(keys, out)
        else:
            helpers = [_Helper.start(plan, keys[k::n], out) for k in range(1, n)]
            try:
                done = plan.draw(keys[0::n], out)
            finally:  # helpers are always waited for, even when this process failed
                for helper in helpers:
                    helper.wait()
            more = _finish(helpers)
            done = (done[0] + more[0], done[1] + more[1])
        written, size = written + done[0], size + done[1]
        del plan
        release_memory()  # the drawing's freed images, before the next zoom's sorting
    return written, size


def _finish(helpers: list[_Helper]) -> tuple[int, int]:
    """Wait for ``helpers``; return the tiles and bytes they wrote (see :meth:`_Helper.finish`)."""
    written = size = 0
    for helper in helpers:
        more = helper.finish()
        written, size = written + more[0], size + more[1]
    return written, size


def _can_fork() -> bool:
    """Whether forking is safe: a POSIX system and this process's only thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


class _Helper:
    """A forked process drawing some metatiles of a plan."""

    def __init__(self, pid: int, read: int, plan: _Plan, keys: list[int], out: Path) -> None:
        self.pid, self.read, self.plan, self.keys, self.out = pid, read, plan, keys, out
        self.answer: list[bytes] = []
        self.status = -1

    @classmethod
    def start(cls, plan: _Plan, keys: list[int], out: Path) -> _Helper:
        """Fork a helper drawing ``keys``: it says its counts through a pipe and leaves."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper
            code = 1
            try:
                os.close(read)
                written, size = plan.draw(keys, out)
                os.write(write, f"{written} {size}".encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read, plan, keys, out)

    def wait(self) -> None:
        """Wait for the helper to end and read its answer."""
        if self.status == -1:
            with os.fdopen(self.read, "rb") as fh:
                self.answer = fh.read().split()
            self.status = os.waitpid(self.pid, 0)[1]

    def finish(self) -> tuple[int, int]:
        """Return the helper's counts; its metatiles are drawn here if it failed."""
        self.wait()
        if self.status == 0 and len(self.answer) == 2:
            return int(self.answer[0]), int(self.answer[1])
        return self.plan.draw(self.keys, self.out)


def _frame(
    features: Features, zoom: int, tiles: tuple[int, int, int, int]
) -> tuple[float, tuple[float, float], int, int]:
    """Return a zoom's scale and shift from the features' pixels, and its metatile grid.

    A pixel of the zoom from the tile grid's corner = features' pixel * scale + shift.
    """
    scale = 2.0 ** (zoom - features.zoom)
    x0, y0, x1, y1 = tiles
    shift = (features.origin[0] * scale - x0 * TILE, features.origin[1] * scale - y0 * TILE)
    return scale, shift, (x1 - x0) // META + 1, (y1 - y0) // META + 1


class _Plan:
    """One zoom made ready to draw: features sorted by metatile, labels placed."""

    def __init__(
        self,
        features: Features,
        zoom: int,
        tiles: tuple[int, int, int, int],
        style: Style,
        labels: _Label | None = None,
    ) -> None:
        self.features, self.zoom, self.tiles, self.style = features, zoom, tiles, style
        self.scale, self.shift, self.nx, self.ny = scale, shift, nx, ny = _frame(
            features, zoom, tiles
        )
        self.size = META * TILE
        self.widths = widths = [style.road_width(zoom, c) for c in range(4)]
        roads = features.roads
        road_index = np.flatnonzero(np.array([w > 0 for w in widths])[roads.kind])
        self.roads = self._lines(roads, road_index, max(widths) + 2)
        del road_index
        self.areas = self._lines(features.areas, None, 2)
        water = features.waterways
        self.water_widths = [style.water_width(zoom, c) for c in range(3)]
        water_index = np.flatnonzero(np.array([w > 0 for w in self.water_widths])[water.kind])
        self.water = self._lines(water, water_index, 8)
        self.grid: _Buckets | None = None
        self.grid_widths = [2 if zoom < 16 else 3, 1 if zoom < 16 else 2]
        if zoom >= 12 and len(features.grid):
            # medium voltage from zoom 12, low voltage from 14
            shown = np.flatnonzero((features.grid.kind == 0) | (zoom >= 14))
            self.grid = self._lines(features.grid, shown, 3)
        if labels is None:
            labels = _place_labels(features, zoom, scale, shift, (nx, ny))
            release_memory()
        self.labels: _Label = labels
        self.buildings = self._points(features.buildings, None, zoom >= 15)
        self.poles = self._points(features.poles, 1, zoom >= 16)
        self.transformers = self._points(features.poles, 0, zoom >= 14)
        self.folders: set[Path] = set()

    def _lines(self, lines: Lines, index: I64 | None, pad: float) -> _Buckets:
        """Return the lines (or the lines ``index``, ascending) sorted by metatile."""
        buckets = _bucket_chunks(self._line_boxes(lines, index), pad, self.nx, self.ny, self.size)
        # the sorting's temporaries, freed but kept by malloc: given back at each step, or
        # they add up over the steps of a zoom (tens of MB beside a helper still drawing)
        release_memory()
        return buckets

    def _line_boxes(self, lines: Lines, index: I64 | None) -> Iterator[Chunk]:
        """Yield the boxes of the lines (or of the lines ``index``) in the zoom's pixels.

        A chunk of :data:`BUCKET_ROWS` lines at a time: no box of every line is made.
        """
        transform = (self.scale, self.shift)
        for lo in range(0, len(lines), BUCKET_ROWS):
            box = lines.bbox(lo, lo + BUCKET_ROWS)
            if index is None:
                yield _to_zoom(box, transform), None
                continue
            a, b = np.searchsorted(index, [lo, lo + BUCKET_ROWS])
            if b > a:
                rows = index[a:b]
                yield _to_zoom(box[rows - lo], transform), rows

    def _points(self, pts: Points, which: int | None, shown: bool) -> _Stamps | None:
        """Return the points in the zoom's pixels, grouped by metatile (see :func:`_stamp`)."""
        if not shown:
            return None
        sel = pts.xy if which is None else pts.xy[pts.kind == which]
        if not len(sel):
            return None
        points = _bucket_points(sel, 6, self.nx, self.ny, self.size, (self.scale, self.shift))
        del sel
        release_memory()
        return points

    def local(self, lines: Lines, chosen: I64, corner: tuple[int, int]) -> tuple[list[float], I64]:
        """Return the flat coordinates of ``chosen`` lines in a metatile, and their bounds."""
        starts, ends = lines.offsets[chosen], lines.offsets[chosen + 1]
        counts = ends - starts
        base = np.zeros(len(chosen) + 1, np.int64)
        np.cumsum(counts, out=base[1:])
        vertex = np.arange(base[-1], dtype=np.int64) + np.repeat(starts - base[:-1], counts)
        xy = lines.xy[vertex].astype(np.float64)
        del vertex
        xy *= self.scale
        xy += (self.shift[0] - corner[0], self.shift[1] - corner[1])
        return xy.ravel().tolist(), base * 2

    def draw(self, keys: list[int], out: Path) -> tuple[int, int]:
        """Draw the metatiles ``keys`` and write their tiles; return count and bytes."""
        written = total = 0
        blank: dict[int, bytes] = {}
        for key in keys:
            image = self.metatile(key)
            n, b = self.write(key, image, out, blank)
            written += n
            total += b
        return written, total

    def metatile(self, key: int) -> Image.Image:
        """Draw metatile ``key`` (a palette image of :data:`META` × :data:`META` tiles)."""
        f, style, zoom = self.features, self.style, self.zoom
        my, mx = divmod(key, self.nx)
        corner = (mx * self.size, my * self.size)
        image = Image.new("RGB", (self.size, self.size), style.background)
        draw = ImageDraw.Draw(image)
        areas = self.areas.get(key)
        fills = {0: style.urban, 1: style.facility, 2: style.water}
        outlines = []
        if len(areas):
            flat, bounds = self.local(f.areas, areas, corner)
            for j, kind in enumerate(f.areas.kind[areas].tolist()):
                ring = flat[bounds[j] : bounds[j + 1]]
                if kind in fills:
                    draw.polygon(ring, fill=fills[kind])
                elif kind == 3 and zoom >= 12:
                    outlines.append((ring, style.district, 1 if zoom < 15 else 2))
                elif kind == 4:
                    outlines.append((ring, style.boundary, 2 if zoom < 14 else 3))
        if self.buildings is not None:
            _stamp(draw, [(self.buildings, 2 if zoom == 15 else 4, style.building)], key, corner)
        for ring, colour, width in outlines:
            draw.line(ring, fill=colour, width=width)
        chosen = self.water.get(key)
        if len(chosen):
            colours: tuple[str, ...] = (style.water,) * 3
            _draw_lines(draw, self, f.waterways, chosen, corner, self.water_widths, colours,
                        None)  # fmt: skip
        chosen = self.roads.get(key)
        if len(chosen):
            fill = style.fill if zoom >= 14 else style.low_fill
            casing = style.casing if zoom >= 14 else None
            _draw_lines(draw, self, f.roads, chosen, corner, self.widths, fill, casing)
        if self.grid is not None:
            chosen = self.grid.get(key)
            if len(chosen):
                colours = (style.grid_mt, style.grid_bt, style.grid_bt)
                _draw_lines(draw, self, f.grid, chosen, corner, self.grid_widths, colours, None)
        stamps = []
        if self.poles is not None:
            stamps.append((self.poles, 3, style.pole))
        if self.transformers is not None:
            stamps.append((self.transformers, 5 if zoom >= 16 else 3, style.grid_mt))
        if stamps:
            _stamp(draw, stamps, key, corner)
        self.paste_labels(image, key, corner)
        return image.quantize(palette=_palette(style), dither=Image.Dither.NONE)

    def paste_labels(self, image: Image.Image, key: int, corner: tuple[int, int]) -> None:
        """Paste the names placed over metatile ``key``."""
        labels, style, f, zoom = self.labels, self.style, self.features, self.zoom
        inks = (_rgb(style.label), _rgb(style.district_label), _rgb(style.water_label))
        chosen = labels.buckets.get(key)
        if not len(chosen):
            return
        halo_ink = _rgb(style.halo)
        rows = zip(labels.x[chosen].tolist(), labels.y[chosen].tolist(),
                   labels.angle[chosen].tolist(), labels.name[chosen].tolist(),
                   labels.style[chosen].tolist(), strict=True)  # fmt: skip
        for x, y, angle, name, kind in rows:
            text = f.names[name]
            if kind == DISTRICT_LABEL:
                text, size, font = text.upper(), _district_size(zoom), (True, False)
            else:
                size, font = _street_size(zoom), (False, kind == WATER_LABEL)
            letters, halo = _label_image(text, size, font, angle)
            px = round(x - corner[0] - halo.width / 2)
            py = round(y - corner[1] - halo.height / 2)
            box = (px, py, px + halo.width, py + halo.height)
            image.paste(halo_ink, box, halo)
            image.paste(inks[kind], box, letters)

    def write(
        self, key: int, image: Image.Image, out: Path, blank: dict[int, bytes]
    ) -> tuple[int, int]:
        """Cut metatile ``key`` into tiles and write them; return count and bytes."""
        x0, y0, x1, y1 = self.tiles
        my, mx = divmod(key, self.nx)
        written = total = 0
        for tx in range(META):
            x = x0 + mx * META + tx
            if x > x1:
                break
            folder = out / str(self.zoom) / str(x)
            if folder not in self.folders:
                folder.mkdir(parents=True, exist_ok=True)
                self.folders.add(folder)
            for ty in range(META):
                y = y0 + my * META + ty
                if y > y1:
                    break
                tile = image.crop((tx * TILE, ty * TILE, (tx + 1) * TILE, (ty + 1) * TILE))
                colour = _uniform(tile)
                if colour is not None and colour in blank:
                    data = blank[colour]
                else:
                    buffer = BytesIO()
                    tile.save(buffer, "PNG", compress_level=PNG_LEVEL)
                    data = buffer.getvalue()
                    if colour is not None:
                        blank[colour] = data
                with open(folder / f"{y}.png", "wb") as fh:
                    fh.write(data)
                written += 1
                total += len(data)
        return written, total


def _stamp(
    draw: ImageDraw.ImageDraw,
    layers: list[tuple[_Stamps, int, str]],
    key: int,
    corner: tuple[int, int],
) -> None:
    """Draw a square of ``side`` pixels at each point of each layer in metatile ``key``.

    ``layers`` holds ``(points, side, colour)``, drawn in order. The squares' pixels
    are given to Pillow's C point drawing as one ``float32`` array (whole numbers, so
    exact): no copy of the metatile, no Python number per pixel.
    """
    size = draw.im.size[0]
    core = draw.draw
    for (xy_all, start), side, colour in layers:
        if key + 1 >= len(start) or start[key] == start[key + 1]:
            continue
        xy = xy_all[start[key] : start[key + 1]]
        px = np.floor(xy[:, 0] - corner[0] - side / 2).astype(np.int64)
        py = np.floor(xy[:, 1] - corner[1] - side / 2).astype(np.int64)
        inside = (px > -side) & (px < size) & (py > -side) & (py < size)
        if not inside.any():
            continue
        px, py = px[inside], py[inside]
        dx, dy = np.meshgrid(np.arange(side), np.arange(side))
        x = (px[:, None] + dx.ravel()).ravel()
        y = (py[:, None] + dy.ravel()).ravel()
        ok = (x >= 0) & (x < size) & (y >= 0) & (y < size)
        pixels = np.empty((int(ok.sum()), 2), np.float32)
        pixels[:, 0], pixels[:, 1] = x[ok], y[ok]
        core.draw_points(pixels, draw._getink(colour)[0])


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    plan: _Plan,
    lines: Lines,
    chosen: I64,
    corner: tuple[int, int],
    widths: list[int],
    colours: tuple[str, ...],
    casing: tuple[str, ...] | None,
) -> None:
    """Draw the lines ``chosen`` (already in drawing order): casings, then fills.

    The coordinates are made :data:`LINE_CHUNK` lines at a time (Python floats for
    Pillow take 64 bytes a vertex: a metatile of a whole city would take tens of MB).
    """
    core = draw.draw  # Pillow's C drawing: no per-call colour parsing
    passes = [(casing, 2)] if casing is not None else []
    passes.append((colours, 0))
    chunks = [chosen[lo : lo + LINE_CHUNK] for lo in range(0, len(chosen), LINE_CHUNK)]
    # with two passes the coordinates are kept for the second, unless there are many
    keep = len(passes) > 1 and len(chosen) <= KEEP_LINES
    ready: list[tuple[list[float], list[int], list[int]]] = []
    for palette, extra in passes:
        inks = [draw._getink(c)[0] for c in palette]
        for k, part in enumerate(chunks):
            if k < len(ready):
                flat, edges, kinds = ready[k]
            else:
                flat, bounds = plan.local(lines, part, corner)
                edges, kinds = bounds.tolist(), lines.kind[part].tolist()
                if keep:
                    ready.append((flat, edges, kinds))
            for j, kind in enumerate(kinds):
                core.draw_lines(flat[edges[j] : edges[j + 1]], inks[kind], widths[kind] + extra)
