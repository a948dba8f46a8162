"""The offline background's memory-bounded steps (issue 21): chunked sorting, packed
columns, point stamps and the release of the points before the deepest zoom."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from geo_ip.outputs.web.basemap_draw import _stamp, draw_zooms
from geo_ip.outputs.web.basemap_labels import _bucket, _bucket_chunks, _bucket_points
from geo_ip.outputs.web.basemap_read import _constant
from geo_ip.outputs.web.basemap_tiles import Features, Lines, Points, Style


def _lines() -> Lines:
    # three lines: 2, 3 and 2 vertices
    xy = np.array([[0, 0], [10, 5], [3, 3], [1, 8], [7, 2], [-4, 6], [2, -1]], np.float32)
    return Lines(xy, np.array([0, 2, 5, 7]), np.array([0, 1, 2], np.int32), np.full(3, -1))


def test_bbox_of_a_range_of_lines_by_hand() -> None:
    lines = _lines()
    assert lines.bbox().tolist() == [[0, 0, 10, 5], [1, 2, 7, 8], [-4, -1, 2, 6]]
    assert lines.bbox(1, 3).tolist() == [[1, 2, 7, 8], [-4, -1, 2, 6]]
    assert lines.bbox(2, 9).tolist() == [[-4, -1, 2, 6]]
    assert lines.bbox(3).shape == (0, 4)


def test_boxes_sorted_into_metatiles_by_hand() -> None:
    # a 2 × 2 grid of 100-pixel metatiles; box 1 spans the two upper ones
    box = np.array([[150, 150, 160, 160], [20, 20, 120, 30], [10, 110, 20, 120], [500, 5, 510, 9]])
    buckets = _bucket(box.astype(np.float64), 0.0, 2, 2, 100)
    assert buckets.start == [0, 1, 2, 3, 4]
    assert [buckets.get(k).tolist() for k in range(4)] == [[1], [1], [2], [0]]
    assert buckets.get(4).tolist() == []  # outside the grid: nothing, not an error
    # the same rows given in two chunks, and only some rows (``rows``): same sorting
    chunks = [(box[:2].astype(np.float64), None), (box[2:].astype(np.float64), None)]
    assert _bucket_chunks(chunks, 0.0, 2, 2, 100).order.tolist() == buckets.order.tolist()
    some = np.array([0, 2])
    picked = _bucket_chunks([(box[some].astype(np.float64), some)], 0.0, 2, 2, 100)
    assert picked.order.tolist() == [2, 0] and picked.start == [0, 0, 0, 1, 2]


def test_points_sorted_into_metatiles_with_their_pixels() -> None:
    # scale 2, shift (10, 0): (45, 10) -> (100, 20), on the edge: in both upper metatiles
    xy = np.array([[45, 10], [5, 60], [80, 80]], np.float32)
    points, start = _bucket_points(xy, 1.0, 2, 2, 100, (2.0, (10.0, 0.0)))
    assert start == [0, 1, 2, 3, 4]
    assert points.dtype == np.float32
    assert points.tolist() == [[100, 20], [100, 20], [20, 120], [170, 160]]


def test_a_column_of_one_value_takes_no_memory() -> None:
    column = _constant(np.full(1000, -1, np.int32))
    assert column.tolist() == [-1] * 1000 and column.dtype == np.int32
    assert column.strides == (0,) and column.base is not None and column.base.size == 1
    varied = np.array([1, 0, 1], np.int32)
    assert _constant(varied) is varied


def test_stamps_are_whole_squares_clipped_at_the_edge() -> None:
    image = Image.new("RGB", (16, 16), "#000000")
    draw = ImageDraw.Draw(image)
    # side 4 at (5.5, 5.5): pixels 3 to 6; at (15, 1) from metatile corner (0, 0): 13 to 15
    points = (np.array([[5.5, 5.5], [15.0, 1.0]], np.float32), [0, 2])
    _stamp(draw, [(points, 4, "#ff0000")], 0, (0, 0))
    red = np.asarray(image)[:, :, 0] == 255
    assert red[3:7, 3:7].all() and red[0:3, 13:16].all()
    assert int(red.sum()) == 16 + 9


def _features() -> Features:
    roads = Lines(
        np.array([[300, 300], [700, 320], [500, 100], [520, 600]], np.float32),
        np.array([0, 2, 4]),
        np.array([0, 2], np.int32),
        np.array([0, 1], np.int32),
    )
    buildings = Points(np.array([[400, 400], [600, 200]], np.float32), np.ones(2, np.int32),
                       np.full(2, -1, np.int32))  # fmt: skip
    poles = Points(np.array([[350, 310], [650, 318]], np.float32), np.array([1, 0], np.int32),
                   np.full(2, -1, np.int32))  # fmt: skip
    return Features(16, (256 * 1000, 256 * 1000), roads, Lines.empty(), Lines.empty(),
                    buildings, poles, Points.empty(), ["Avenida Um", "Rua Dois"], {})  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.png"))
    }


def test_points_released_before_the_deepest_zoom_same_tiles(tmp_path: Path) -> None:
    zooms = {15: (500, 500, 503, 501), 16: (1000, 1000, 1007, 1003)}  # 2 metatiles at 16
    kept = _features()
    one = draw_zooms(kept, zooms, tmp_path / "um", Style(), workers=1)
    assert len(kept.buildings.xy) == 2  # not asked: the caller's features are untouched
    released = _features()
    two = draw_zooms(released, zooms, tmp_path / "dois", Style(), workers=2, release_points=True)
    assert len(released.buildings.xy) == 0 and len(released.poles.xy) == 0
    assert one == two and one[0] == 8 + 32
    assert _digest(tmp_path / "um") == _digest(tmp_path / "dois")
    # the buildings are drawn at zoom 16 (4-pixel squares) although released before it
    tile = np.asarray(Image.open(tmp_path / "dois" / "16" / "1001" / "1001.png").convert("RGB"))
    building = np.array([int(Style().building[i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(tile.reshape(-1, 3).astype(int) - building).sum(axis=1) == 0).sum() >= 16
