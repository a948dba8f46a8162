"""Labels of the offline background: street and district names placed without overlap.

Also the bucketing of features into metatiles that the drawing and the labels share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from PIL import Image, ImageDraw, ImageFont

from geo_ip.outputs.web.basemap_tiles import (
    CANAL,
    F64,
    I32,
    I64,
    LOCAL,
    META,
    PRINCIPAL,
    RIVER,
    SECUNDARIA,
    SERVICO,
    STREAM,
    TILE,
    Features,
    Lines,
)


@cache
def _font(
    size: int, bold: bool = False, italic: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib's data (a dependency), else Pillow's own font."""
    spec = find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        variant = ("Bold" if bold else "") + ("Oblique" if italic else "")
        name = f"DejaVuSans-{variant}.ttf" if variant else "DejaVuSans.ttf"
        path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


@dataclass
class _Buckets:
    """Features of one zoom by metatile: metatile ``k`` holds ``order[start[k]:start[k + 1]]``."""

    order: npt.NDArray[Any]
    start: list[int]

    def get(self, key: int) -> npt.NDArray[Any]:
        if key + 1 >= len(self.start):
            return self.order[:0]
        return self.order[self.start[key] : self.start[key + 1]]


BUCKET_ROWS = 1 << 16
"""Rows of boxes sorted into metatiles at a time by :func:`_bucket` (bounds its memory)."""

Transform = tuple[float, tuple[float, float]]
"""``(scale, shift)``: the zoom's pixels from the grid's corner = pixels * scale + shift."""


def _to_zoom(part: npt.NDArray[Any], transform: Transform | None) -> F64:
    """Return boxes ``(minx, miny, maxx, maxy)`` or points ``(x, y)`` in the zoom's pixels."""
    out = part.astype(np.float64)
    if transform is not None:
        scale, shift = transform
        out *= scale
        out[:, 0::2] += shift[0]
        out[:, 1::2] += shift[1]
    return out


def _sort_keys(keys: list[I32], n: int) -> tuple[npt.NDArray[np.intp], list[int]]:
    """Return the stable order of the joined ``keys`` (metatiles below ``n``) and its starts."""
    joined = np.concatenate(keys) if keys else np.empty(0, np.int32)
    # a stable sort of 16-bit keys is numpy's radix sort: linear, no comparisons
    order = np.argsort(joined.astype(np.uint16) if n <= 1 << 16 else joined, kind="stable")
    start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(joined, minlength=n)[:n], out=start[1:])
    return order, start.tolist()


Chunk = tuple[F64, "I64 | None"]
"""Boxes (or points) in the zoom's pixels and their row numbers (None: counted on)."""


def _bucket(box: F64, pad: float, nx: int, ny: int, size: int) -> _Buckets:
    """Sort boxes (in the zoom's pixels from the grid's corner) into metatiles.

    ``box`` is ``(minx, miny, maxx, maxy)`` per row, or ``(x, y)`` for points; see
    :func:`_bucket_chunks`.
    """
    chunks = ((box[lo : lo + BUCKET_ROWS], None) for lo in range(0, len(box), BUCKET_ROWS))
    return _bucket_chunks(chunks, pad, nx, ny, size)


def _bucket_chunks(chunks: Iterable[Chunk], pad: float, nx: int, ny: int, size: int) -> _Buckets:
    """Sort boxes given a chunk at a time into metatiles; ``order`` holds row numbers.

    Each chunk is boxes (or points) in the zoom's pixels from the grid's corner, and
    their row numbers (None: the rows follow the previous chunk's). The rows are cut
    into metatiles a chunk (:data:`BUCKET_ROWS`) at a time, so the temporaries stay
    small: at a million features this runs beside everything else in memory. The
    result does not depend on the chunking (one stable sort of all the keys).
    """
    items, keys = [], []
    first = 0
    for box, rows in chunks:
        item, key = _bucket_rows(box, 0, pad, nx, ny, size)
        items.append(item + np.int32(first) if rows is None else rows[item].astype(np.int32))
        keys.append(key)
        first += len(box)
    order, start = _sort_keys(keys, nx * ny)
    del keys
    item = np.concatenate(items) if items else np.empty(0, np.int32)
    del items
    # 32-bit: at a million features the buckets of a zoom are half the size
    return _Buckets(item[order], start)


def _bucket_points(
    xy: npt.NDArray[np.float32], pad: float, nx: int, ny: int, size: int, transform: Transform
) -> tuple[npt.NDArray[np.float32], list[int]]:
    """Sort points into metatiles: their ``float32`` zoom pixels, grouped by metatile.

    The points themselves are sorted (a point near a metatile's edge repeated in each
    metatile it touches), so no row numbers are kept: the returned ``(xy, start)`` give
    the points of metatile ``k`` as ``xy[start[k]:start[k + 1]]``, in their rows' order.
    """
    coords, keys = [], []
    for lo in range(0, len(xy), BUCKET_ROWS):
        part = _to_zoom(xy[lo : lo + BUCKET_ROWS], transform)
        item, key = _bucket_rows(part, 0, pad, nx, ny, size)
        coords.append(part[item].astype(np.float32))  # float32: exact enough for a pixel
        keys.append(key)
        del part
    order, start = _sort_keys(keys, nx * ny)
    del keys
    joined = np.concatenate(coords) if coords else np.empty((0, 2), np.float32)
    del coords
    return joined[order], start


def _bucket_rows(box: F64, first: int, pad: float, nx: int, ny: int, size: int) -> tuple[I32, I32]:
    """Return the rows (numbered from ``first``) and metatile of each box's piece."""
    right, bottom = (2, 3) if box.shape[1] == 4 else (0, 1)

    def cell(column: int, offset: float, n: int) -> npt.NDArray[np.int32]:
        return np.clip(np.floor((box[:, column] + offset) / size), 0, n - 1).astype(np.int32)

    x0, y0 = cell(0, -pad, nx), cell(1, -pad, ny)
    inside = (box[:, right] + pad >= 0) & (box[:, 0] - pad < nx * size)
    inside &= (box[:, bottom] + pad >= 0) & (box[:, 1] - pad < ny * size)
    w = np.where(inside, cell(right, pad, nx) - x0 + 1, 0).astype(np.int32)
    counts = w.astype(np.int64) * (cell(bottom, pad, ny) - y0 + 1)
    del inside
    if int(counts.max()) <= 1:  # the usual case: each feature in one metatile
        item = np.flatnonzero(counts)
        keys = y0[item].astype(np.int64) * nx + x0[item]
    else:
        item = np.repeat(np.arange(len(box), dtype=np.int64), counts)
        start = np.repeat(np.cumsum(counts) - counts, counts)
        k = np.arange(len(item), dtype=np.int64) - start
        del start
        keys = (y0[item] + k // w[item]) * np.int64(nx) + x0[item] + k % w[item]
        del k
    return (item + first).astype(np.int32), keys.astype(np.int32)


STREET_LABEL, DISTRICT_LABEL, WATER_LABEL = 0, 1, 2
"""Styles of the labels (:attr:`_Label.style`)."""


@dataclass
class _Label:
    """Labels placed at one zoom: centre, angle, name, style; sorted by metatile."""

    x: F64
    y: F64
    angle: F64
    name: I32
    style: I32
    buckets: _Buckets


def _place_labels(
    features: Features, zoom: int, scale: float, shift: tuple[float, float], grid: tuple[int, int]
) -> _Label:
    """Choose district, street and water labels at ``zoom`` without overlaps (greedy)."""
    xs: list[float] = []
    ys: list[float] = []
    angles: list[float] = []
    names: list[int] = []
    styles: list[int] = []
    boxes: list[tuple[float, float, float, float]] = []
    cell = 128.0
    taken: dict[tuple[int, int], list[int]] = {}

    def free(b: tuple[float, float, float, float]) -> bool:
        for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
            for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                for other in taken.get((gx, gy), ()):
                    o = boxes[other]
                    if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                        return False
        return True

    def take(b: tuple[float, float, float, float]) -> None:
        boxes.append(b)
        for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
            for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                taken.setdefault((gx, gy), []).append(len(boxes) - 1)

    # districts first (from zoom 12 to 15)
    if 12 <= zoom <= 15 and len(features.places.xy):
        px = features.places.xy[:, 0] * scale + shift[0]
        py = features.places.xy[:, 1] * scale + shift[1]
        for x, y, name in zip(px.tolist(), py.tolist(), features.places.name.tolist(), strict=True):
            if name < 0:
                continue
            w = _text_width(features.names[name].upper(), _district_size(zoom), True) + 6
            h = _district_size(zoom) + 6
            b = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if free(b):
                take(b)
                xs.append(x)
                ys.append(y)
                angles.append(0.0)
                names.append(name)
                styles.append(DISTRICT_LABEL)

    def along(lines: Lines, classes: tuple[int, ...], kind: int) -> None:
        """Place names along ``lines`` of ``classes`` (long runs first, by class)."""
        named = np.flatnonzero((lines.name >= 0) & np.isin(lines.kind, classes))
        if not len(named):
            return
        named = named[np.argsort(lines.name[named], kind="stable")]
        size, italic = _street_size(zoom), kind == WATER_LABEL
        widths = np.zeros(len(features.names))
        for n in np.unique(lines.name[named]).tolist():
            widths[n] = _text_width(features.names[n], size, False, italic) + 8
        found = []
        for group in _chunks_by_name(named, lines.name[named]):
            got = _street_candidates(lines.take(group), widths, scale, shift)
            # only labels on a straight enough stretch are kept (dropped here, chunk by
            # chunk: the order of those kept is the same as filtering them at the end)
            chord = np.hypot(got[1][:, 0] - got[0][:, 0], got[1][:, 1] - got[0][:, 1])
            straight = chord >= 0.97 * got[2]
            found.append(tuple(column[straight] for column in got))
            del got, chord, straight
        head = np.concatenate([f[0] for f in found])
        tail = np.concatenate([f[1] for f in found])
        cand_width = np.concatenate([f[2] for f in found])
        cand_length = np.concatenate([f[3] for f in found])
        cand_kind = np.concatenate([f[4] for f in found])
        cand_name = np.concatenate([f[5] for f in found])
        del found
        priority = np.lexsort((-cand_length, cand_kind))
        height = _street_size(zoom) + 6
        head, tail = head[priority], tail[priority]
        # whole degrees: the same name at the same angle is rendered once
        angle = np.round(
            np.degrees(np.arctan2(-(tail[:, 1] - head[:, 1]), tail[:, 0] - head[:, 0]))
        )
        angle = np.where(angle > 90, angle - 180, np.where(angle <= -90, angle + 180, angle))
        rad = np.radians(angle)
        w = cand_width[priority]
        bw = np.abs(w * np.cos(rad)) + np.abs(height * np.sin(rad))
        bh = np.abs(w * np.sin(rad)) + np.abs(height * np.cos(rad))
        cx, cy = (head[:, 0] + tail[:, 0]) / 2, (head[:, 1] + tail[:, 1]) / 2
        columns = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, cx, cy, angle,
                   cand_name[priority])  # fmt: skip
        del head, tail, cand_width, cand_length, cand_kind, cand_name
        # a slice at a time: Python numbers for every candidate would fill the heap
        for lo in range(0, len(cx), 8192):
            part = (c[lo : lo + 8192].tolist() for c in columns)
            for x0, y0, x1, y1, x, y, a, name in zip(*part, strict=True):
                box = (x0, y0, x1, y1)
                if free(box):
                    take(box)
                    xs.append(x)
                    ys.append(y)
                    angles.append(a)
                    names.append(name)
                    styles.append(kind)

    # streets: principal and secondary from zoom 15, every named street from 16
    if zoom >= 15 and len(features.roads):
        roads: tuple[int, ...] = (PRINCIPAL, SECUNDARIA, LOCAL, SERVICO)
        along(features.roads, roads[:2] if zoom == 15 else roads, STREET_LABEL)
    # water lines: rivers and canals from zoom 15, streams from 16 (after the streets)
    if zoom >= 15 and len(features.waterways):
        water: tuple[int, ...] = (RIVER, CANAL, STREAM)
        along(features.waterways, water[:2] if zoom == 15 else water, WATER_LABEL)
    box_array = np.array(boxes, np.float64).reshape(-1, 4)
    return _Label(
        np.array(xs, np.float64),
        np.array(ys, np.float64),
        np.array(angles, np.float64),
        np.array(names, np.int32),
        np.array(styles, np.int32),
        _bucket(box_array, 2.0, grid[0], grid[1], META * TILE),
    )


def _chunks_by_name(lines: I64, names: I32, size: int = 10_000) -> Iterator[I64]:
    """Split ``lines`` (sorted by name) into runs of about ``size``, never inside a name."""
    start = 0
    while start < len(lines):
        stop = min(start + size, len(lines))
        if stop < len(lines):
            stop = int(np.searchsorted(names, names[stop - 1], side="right"))
        yield lines[start:stop]
        start = stop


def _street_candidates(
    sub: Lines, widths: F64, scale: float, shift: tuple[float, float]
) -> tuple[F64, F64, F64, F64, I64, I64]:
    """Label positions along the streets of ``sub``: ends of each label's chord and more.

    The segments of one name and class are merged into runs; each run long enough
    gets a label every few label lengths. Returns the chords' start and end points,
    the label width, the run's length, the road class and the name of each candidate.
    """
    xy = sub.xy.astype(np.float64) * scale + np.array(shift)
    counts = np.diff(sub.offsets)
    geoms = shapely.linestrings(xy, indices=np.repeat(np.arange(len(sub)), counts))
    group_key = sub.name.astype(np.int64) * 4 + sub.kind
    uniq, group = np.unique(group_key, return_inverse=True)
    by_group = np.argsort(group, kind="stable")
    multi = shapely.multilinestrings(geoms[by_group], indices=group[by_group])
    merged, owner = shapely.get_parts(shapely.line_merge(multi), return_index=True)
    length = shapely.length(merged)
    name_of = (uniq // 4)[owner]
    kind_of = (uniq % 4)[owner]
    width = widths[name_of]
    spacing = np.maximum(width * 4, 600.0)
    fits = length >= width + 12
    n_cand = np.where(fits, np.floor((length - width) / spacing).astype(np.int64) + 1, 0)
    line = np.repeat(np.arange(len(merged)), n_cand)
    first = np.repeat(np.cumsum(n_cand) - n_cand, n_cand)
    k = np.arange(len(line)) - first
    used = (length[line] - width[line]) - (n_cand[line] - 1) * spacing[line]
    centre = used / 2 + width[line] / 2 + k * spacing[line]
    a = shapely.get_coordinates(
        shapely.line_interpolate_point(merged[line], centre - width[line] / 2)
    ).reshape(-1, 2)
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(merged[line], centre + width[line] / 2)
    ).reshape(-1, 2)
    return a, b, width[line], length[line], kind_of[line], name_of[line]


def _street_size(zoom: int) -> int:
    return 11 if zoom <= 16 else 13


def _district_size(zoom: int) -> int:
    return {12: 11, 13: 12, 14: 13}.get(zoom, 14)


@lru_cache(maxsize=16384)
def _text_width(text: str, size: int, bold: bool = False, italic: bool = False) -> float:
    """Return the width of ``text`` in pixels (cached: the layout is slow)."""
    return float(_font(size, bold, italic).getlength(text))


@lru_cache(maxsize=1024)  # bounded: ~6 kB each, a large territory has thousands of names
def _label_mask(text: str, size: int, bold: bool, italic: bool) -> Image.Image:
    """Return a name as an ``LA`` image: L the letters, A the letters and a 2-pixel halo.

    The halo is the letters' mask widened by 2 pixels (a 5 × 5 maximum, with numpy).
    """
    face = _font(size, bold, italic)
    box = (math.ceil(_text_width(text, size, bold, italic)) + 6, size + 8)
    mask = Image.new("L", box, 0)
    ImageDraw.Draw(mask).text((3, 2), text, font=face, fill=255)
    letters = np.asarray(mask)
    halo = letters.copy()
    for _ in range(2):
        wide = halo.copy()
        wide[:, 1:] = np.maximum(wide[:, 1:], halo[:, :-1])
        wide[:, :-1] = np.maximum(wide[:, :-1], halo[:, 1:])
        halo = wide.copy()
        halo[1:, :] = np.maximum(halo[1:, :], wide[:-1, :])
        halo[:-1, :] = np.maximum(halo[:-1, :], wide[1:, :])
    return Image.merge("LA", (mask, Image.fromarray(halo)))


@lru_cache(maxsize=64)  # turned names are rarely met again: ~40 kB each, kept few
def _label_image(
    text: str, size: int, font: tuple[bool, bool], angle: float
) -> tuple[Image.Image, Image.Image]:
    """Return :func:`_label_mask` turned by ``angle`` degrees, as (letters, halo) masks.

    ``font`` is ``(bold, italic)``.
    """
    image = _label_mask(text, size, *font)
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    letters, halo = image.split()
    return letters, halo


@cache
def _rgb(colour: str) -> tuple[int, int, int]:
    value = Image.new("RGB", (1, 1), colour).getpixel((0, 0))
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1]), int(value[2])
