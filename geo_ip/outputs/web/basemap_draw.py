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
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from geo_ip.outputs.web.basemap_labels import (
    DISTRICT_LABEL,
    WATER_LABEL,
    _bucket,
    _Buckets,
    _district_size,
    _Label,
    _label_image,
    _place_labels,
    _rgb,
    _street_size,
)
from geo_ip.outputs.web.basemap_tiles import (
    F64,
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
) -> tuple[int, int]:
    """Draw several zooms (see :func:`draw_zoom`), overlapping each zoom's preparation.

    With helpers, this process prepares a zoom, forks the helpers for their share of
    its metatiles, draws its own share, and prepares the next zoom while the helpers
    finish: they are waited for one zoom later.

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

    Returns
    -------
    tuple of int
        Tiles written and their total size in bytes.
    """
    written = size = 0
    waiting: list[_Helper] = []
    try:
        for zoom, tiles in zooms.items():
            plan = _Plan(features, zoom, tiles, style)
            release_memory()  # the sorting's temporaries, before the helpers share the pages
            keys = list(range(plan.nx * plan.ny))
            n = max(1, min(workers, len(keys)))
            if n == 1 or not _can_fork():
                done = plan.draw(keys, out)
            else:
                started = [_Helper.start(plan, keys[k::n], out) for k in range(1, n)]
                previous, waiting = len(waiting), waiting + started
                # the previous zoom's helpers are waited for before this process draws
                # (the new ones keep the cores busy meanwhile): their plan is freed first
                more = _finish(waiting[:previous])
                written, size = written + more[0], size + more[1]
                waiting = started
                release_memory()
                done = plan.draw(keys[0::n], out)
            written, size = written + done[0], size + done[1]
        more = _finish(waiting)
        written, size = written + more[0], size + more[1]
        waiting = []
    finally:  # helpers are always waited for, even when this process failed
        for helper in waiting:
            helper.wait()
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


class _Plan:
    """One zoom made ready to draw: features sorted by metatile, labels placed."""

    def __init__(
        self, features: Features, zoom: int, tiles: tuple[int, int, int, int], style: Style
    ) -> None:
        self.features, self.zoom, self.tiles, self.style = features, zoom, tiles, style
        self.scale = scale = 2.0 ** (zoom - features.zoom)
        x0, y0, x1, y1 = tiles
        # pixel of the zoom from the tile grid's corner = features' pixel * scale + shift
        self.shift = shift = (
            features.origin[0] * scale - x0 * TILE,
            features.origin[1] * scale - y0 * TILE,
        )
        self.size = size = META * TILE
        self.nx = nx = (x1 - x0) // META + 1
        self.ny = ny = (y1 - y0) // META + 1
        self.widths = widths = [style.road_width(zoom, c) for c in range(4)]
        roads = features.roads
        road_index = np.flatnonzero(np.array([w > 0 for w in widths])[roads.kind])
        self.roads = _bucket(self._box(roads, road_index), max(widths) + 2, nx, ny, size)
        self.roads.order = road_index[self.roads.order].astype(np.int32)
        self.areas = _bucket(self._box(features.areas), 2, nx, ny, size)
        water = features.waterways
        self.water_widths = [style.water_width(zoom, c) for c in range(3)]
        water_index = np.flatnonzero(np.array([w > 0 for w in self.water_widths])[water.kind])
        self.water = _bucket(self._box(water, water_index), 8, nx, ny, size)
        self.water.order = water_index[self.water.order].astype(np.int32)
        self.grid: _Buckets | None = None
        self.grid_widths = [2 if zoom < 16 else 3, 1 if zoom < 16 else 2]
        if zoom >= 12 and len(features.grid):
            # medium voltage from zoom 12, low voltage from 14
            shown = np.flatnonzero((features.grid.kind == 0) | (zoom >= 14))
            self.grid = _bucket(self._box(features.grid, shown), 3, nx, ny, size)
            self.grid.order = shown[self.grid.order].astype(np.int32)
        self.labels: _Label = _place_labels(features, zoom, scale, shift, (nx, ny))
        self.buildings = self._points(features.buildings, None, zoom >= 15)
        self.poles = self._points(features.poles, 1, zoom >= 16)
        self.transformers = self._points(features.poles, 0, zoom >= 14)
        self.folders: set[Path] = set()

    def _box(self, lines: Lines, index: I64 | None = None) -> F64:
        """Return the boxes of ``lines`` (or of the lines ``index``) in the zoom's pixels."""
        box32 = lines.bbox()
        box = (box32 if index is None else box32[index]).astype(np.float64)
        del box32
        box *= self.scale
        box[:, [0, 2]] += self.shift[0]
        box[:, [1, 3]] += self.shift[1]
        return box

    def _points(self, pts: Points, which: int | None, shown: bool) -> tuple[F64, _Buckets] | None:
        """Return the points and their metatiles (each looked up only where it is)."""
        if not shown:
            return None
        sel = pts.xy if which is None else pts.xy[pts.kind == which]
        if not len(sel):
            return None
        xy = sel.astype(np.float64)
        xy *= self.scale
        xy += np.array(self.shift)
        buckets = _bucket(xy, 6, self.nx, self.ny, self.size)
        return xy.astype(np.float32), buckets  # float32: exact enough for a pixel

    def local(self, lines: Lines, chosen: I64, corner: tuple[int, int]) -> tuple[list[float], I64]:
        """Return the flat coordinates of ``chosen`` lines in a metatile, and their bounds."""
        starts, ends = lines.offsets[chosen], lines.offsets[chosen + 1]
        counts = ends - starts
        base = np.zeros(len(chosen) + 1, np.int64)
        np.cumsum(counts, out=base[1:])
        vertex = np.arange(base[-1], dtype=np.int64) + np.repeat(starts - base[:-1], counts)
        xy = lines.xy[vertex].astype(np.float64) * self.scale
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
            image = _stamp(image, [(self.buildings, 2 if zoom == 15 else 4, style.building)],
                           key, corner)  # fmt: skip
            draw = ImageDraw.Draw(image)
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
            image = _stamp(image, stamps, key, corner)
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
    image: Image.Image,
    layers: list[tuple[tuple[F64, _Buckets], int, str]],
    key: int,
    corner: tuple[int, int],
) -> Image.Image:
    """Draw a square of ``side`` pixels at each point of each layer in metatile ``key``.

    ``layers`` holds ``(points, side, colour)``, drawn in order on one array.
    """
    array: npt.NDArray[np.uint8] | None = None
    size = image.width
    for (xy_all, buckets), side, colour in layers:
        chosen = buckets.get(key)
        if not len(chosen):
            continue
        xy = xy_all[chosen]
        px = np.floor(xy[:, 0] - corner[0] - side / 2).astype(np.int64)
        py = np.floor(xy[:, 1] - corner[1] - side / 2).astype(np.int64)
        inside = (px > -side) & (px < size) & (py > -side) & (py < size)
        if not inside.any():
            continue
        if array is None:
            array = np.array(image)
        px, py = px[inside], py[inside]
        dx, dy = np.meshgrid(np.arange(side), np.arange(side))
        x = (px[:, None] + dx.ravel()).ravel()
        y = (py[:, None] + dy.ravel()).ravel()
        ok = (x >= 0) & (x < size) & (y >= 0) & (y < size)
        array[y[ok], x[ok]] = _rgb(colour)
    return image if array is None else Image.fromarray(array)


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
    """Draw the lines ``chosen`` (already in drawing order): casings, then fills."""
    flat, bounds = plan.local(lines, chosen, corner)
    kinds = lines.kind[chosen].tolist()
    edges = bounds.tolist()
    core = draw.draw  # Pillow's C drawing: no per-call colour parsing
    passes = [(casing, 2)] if casing is not None else []
    passes.append((colours, 0))
    for palette, extra in passes:
        inks = [draw._getink(c)[0] for c in palette]
        for j, kind in enumerate(kinds):
            core.draw_lines(flat[edges[j] : edges[j + 1]], inks[kind], widths[kind] + extra)
