"""A regional OSM file of several synthetic towns side by side, each with its boundary.

:func:`write_synthetic_region` places copies of :func:`~geo_ip.territory.synthetic_osm.
write_synthetic_osm` towns west to east, each inside a municipal boundary (a closed way
and a ``type=boundary``, ``admin_level=8`` relation with the town's name and IBGE code),
and optionally a state boundary (``admin_level=4``) around all of them: a small
stand-in for a state's ``.osm.pbf`` to test and benchmark batch runs (``geo-ip lote``).
Deterministic: the same arguments write the same bytes.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
from osmium.osm import mutable

from geo_ip._util.atomic import atomic_path
from geo_ip.territory.synthetic_osm import OSM_TIMESTAMP, write_synthetic_osm

__all__ = ["BOUNDARY_PAD_DEG", "GAP_DEG", "SyntheticRegion", "write_synthetic_region"]

log = logging.getLogger(__name__)

BOUNDARY_PAD_DEG = 0.01
"""Distance (degrees, about 1 km) between a town's outermost node and its boundary."""
GAP_DEG = 0.02
"""Distance (degrees, about 2 km) between the boundaries of two neighbouring towns."""
_STATE_PAD_DEG = 0.05
"""Distance (degrees) between the towns' boundaries and the state boundary."""
_SIDE_NODES = 4
"""Boundary vertices per side of a town's rectangle (corners included once)."""
_E7 = 10_000_000
"""OSM fixed-point units per degree."""

_BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class SyntheticRegion:
    """What :func:`write_synthetic_region` wrote.

    Attributes
    ----------
    path : Path
        The regional OSM file.
    codes : tuple of int
        The municipalities' IBGE codes, west to east.
    names : dict of int to str
        Name of each municipality, by code.
    bbox : dict of int to tuple of float
        Bounding box of each municipal boundary, by code: (lon min, lat min, lon max,
        lat max) in degrees.
    highway_ways : dict of int to int
        OSM ways with ``highway`` of each town, by code.
    id_stride : int
        Object ids of the ``i``-th town (0-based, west to east) lie in
        ``(i * id_stride, (i + 1) * id_stride)``; the boundaries' ids come after all towns.
    broken : frozenset of int
        Codes whose boundary cannot be assembled (its ring is not closed).
    """

    path: Path
    codes: tuple[int, ...]
    names: dict[int, str]
    bbox: dict[int, _BBox]
    highway_ways: dict[int, int]
    id_stride: int
    broken: frozenset[int]


@dataclass(frozen=True)
class _Town:
    """A town file read back: its extent, largest id and highway ways."""

    path: Path
    x_min: int
    x_max: int
    y_min: int
    y_max: int
    max_id: int
    highway_ways: int


def _scan(path: Path) -> _Town:
    """Read a town file's extent (OSM units), largest object id and highway ways."""
    xs: list[int] = []
    ys: list[int] = []
    max_id = 0
    highways = 0
    for obj in osmium.FileProcessor(path):
        max_id = max(max_id, obj.id)
        if isinstance(obj, osmium.osm.Node):
            xs.append(obj.location.x)
            ys.append(obj.location.y)
        elif isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
            highways += 1
    x, y = np.asarray(xs), np.asarray(ys)
    return _Town(path, int(x.min()), int(x.max()), int(y.min()), int(y.max()), max_id, highways)


def _ring(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Vertices (OSM units) of a rectangle, counter-clockwise, without closing it."""
    steps = np.linspace(0.0, 1.0, _SIDE_NODES + 1)[:-1]
    sides = (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0)))
    ring: list[tuple[int, int]] = []
    for (ax, ay), (bx, by) in sides:
        for t in steps.tolist():
            ring.append((round(ax + (bx - ax) * t), round(ay + (by - ay) * t)))
    return ring


def _location(x: int, y: int) -> osmium.osm.Location:
    return osmium.osm.Location(x / _E7, y / _E7)


def _stride(towns: Sequence[_Town]) -> int:
    """Return the smallest power of ten above every town's largest id."""
    return int(10 ** len(str(max(t.max_id for t in towns))))


def write_synthetic_region(
    out: str | Path,
    municipalities: Sequence[tuple[int, str]],
    *,
    edges: int,
    broken: Collection[int] = (),
    seed: int = 0,
    state: bool = True,
) -> SyntheticRegion:
    """Write a regional OSM file: synthetic towns side by side, each in its boundary.

    The ``i``-th town is :func:`~geo_ip.territory.synthetic_osm.write_synthetic_osm`
    with ``edges`` and seed ``seed + i``, moved east so that the boundaries lie
    :data:`GAP_DEG` apart, and its object ids offset by ``i * id_stride``. Around each
    town, :data:`BOUNDARY_PAD_DEG` away from its outermost node, a rectangular ring
    (one way) is the outer member of a relation ``type=boundary``,
    ``boundary=administrative``, ``admin_level=8``, ``name``, ``IBGE:GEOCODIGO``. A
    code of ``broken`` gets a ring that is not closed (its boundary cannot be
    assembled as a polygon) and keeps its streets. With ``state``, a relation
    ``admin_level=4`` (``name=Estado Sintético``) surrounds all the towns. Objects are
    written sorted (nodes, ways, relations, by id); the header carries
    :data:`~geo_ip.territory.synthetic_osm.OSM_TIMESTAMP`.

    Parameters
    ----------
    out : str or Path
        File to write (``.osm.pbf``; replaced when it exists, written atomically).
    municipalities : sequence of (int, str)
        IBGE code and name of each town, west to east.
    edges : int
        Road edges of each town (see :func:`~geo_ip.territory.synthetic_osm.
        write_synthetic_osm`).
    broken : collection of int, default ()
        Codes whose boundary ring is left open.
    seed : int, default 0
        Seed of the first town (the next ones use ``seed + 1``, ``seed + 2`` ...).
    state : bool, default True
        Write the state boundary around all the towns.

    Returns
    -------
    SyntheticRegion
        Path, codes, names, boundary boxes, highway ways per town and the id stride.

    Raises
    ------
    ValueError
        If there is no municipality, a code repeats or is not 7 digits, a code of
        ``broken`` is not among them, or ``edges`` < 1.
    """
    codes = tuple(int(code) for code, _ in municipalities)
    if not codes:
        raise ValueError("nenhum município informado para a região sintética")
    if len(set(codes)) != len(codes) or any(not 10**6 <= c < 10**7 for c in codes):
        raise ValueError(f"códigos IBGE repetidos ou sem 7 dígitos: {codes!r}")
    if unknown := set(broken) - set(codes):
        raise ValueError(f"códigos de limite quebrado fora da lista: {sorted(unknown)!r}")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="geo_ip-regiao-") as tmp:
        towns = [
            _scan(write_synthetic_osm(Path(tmp) / f"{i}.osm.pbf", edges=edges, seed=seed + i).path)
            for i in range(len(codes))
        ]
        with atomic_path(out) as target:
            region = _write(target, towns, municipalities, frozenset(broken), state)
    log.info("região OSM sintética: %d municípios em %s", len(codes), out)
    return SyntheticRegion(out, codes, *region, frozenset(broken))


def _copy(
    writer: osmium.SimpleWriter,
    path: Path,
    entity: osmium.osm.osm_entity_bits,
    offset: int,
    shift: int,
) -> None:
    """Copy a town's nodes or ways, ids offset by ``offset``, shifted ``shift`` east."""
    for obj in osmium.FileProcessor(path, entity):
        tags = dict(obj.tags)
        if isinstance(obj, osmium.osm.Node):
            loc = obj.location
            location = _location(loc.x + shift, loc.y)
            writer.add_node(mutable.Node(id=obj.id + offset, location=location, tags=tags))
        elif isinstance(obj, osmium.osm.Way):
            refs = [n.ref + offset for n in obj.nodes]
            writer.add_way(mutable.Way(id=obj.id + offset, nodes=refs, tags=tags))


def _write(
    target: Path,
    towns: Sequence[_Town],
    municipalities: Sequence[tuple[int, str]],
    broken: frozenset[int],
    state: bool,
) -> tuple[dict[int, str], dict[int, _BBox], dict[int, int], int]:
    """Write the region; return names, boxes, highway ways by code and the id stride."""
    pad, gap = round(BOUNDARY_PAD_DEG * _E7), round(GAP_DEG * _E7)
    stride = _stride(towns)
    base = len(towns) * stride
    shifts: list[int] = []
    rings: list[list[tuple[int, int]]] = []
    cursor = towns[0].x_min - pad
    for town in towns:
        shift = cursor + pad - town.x_min
        shifts.append(shift)
        x0, x1 = town.x_min + shift - pad, town.x_max + shift + pad
        rings.append(_ring(x0, town.y_min - pad, x1, town.y_max + pad))
        cursor = x1 + gap
    if state:
        s_pad = round(_STATE_PAD_DEG * _E7)
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        rings.append(_ring(min(xs) - s_pad, min(ys) - s_pad, max(xs) + s_pad, max(ys) + s_pad))
    header = osmium.io.Header()
    header.set("generator", "geo_ip.territory.synthetic_region")
    header.set("osmosis_replication_timestamp", OSM_TIMESTAMP)
    names: dict[int, str] = {}
    boxes: dict[int, _BBox] = {}
    highways: dict[int, int] = {}
    file = osmium.io.File(str(target), "pbf")
    with osmium.SimpleWriter(file, header=header) as writer:
        for i, town in enumerate(towns):
            _copy(writer, town.path, osmium.osm.NODE, i * stride, shifts[i])
        ring_nodes: list[list[int]] = []
        next_id = base + 1
        for ring in rings:
            ring_nodes.append(list(range(next_id, next_id + len(ring))))
            for x, y in ring:
                writer.add_node(mutable.Node(id=next_id, location=_location(x, y)))
                next_id += 1
        for i, town in enumerate(towns):
            _copy(writer, town.path, osmium.osm.WAY, i * stride, shifts[i])
        for k, nodes in enumerate(ring_nodes):
            code = municipalities[k][0] if k < len(towns) else None
            refs = nodes if code in broken else [*nodes, nodes[0]]
            writer.add_way(mutable.Way(id=base + 1 + k, nodes=refs))
        for k, ring in enumerate(rings):
            outer = [("w", base + 1 + k, "outer")]
            if k < len(towns):
                code, name = int(municipalities[k][0]), str(municipalities[k][1])
                tags = {"admin_level": "8", "IBGE:GEOCODIGO": str(code), "name": name}
                names[code] = name
                highways[code] = towns[k].highway_ways
                lons = [p[0] / _E7 for p in ring]
                lats = [p[1] / _E7 for p in ring]
                boxes[code] = (min(lons), min(lats), max(lons), max(lats))
            else:
                uf = str(municipalities[0][0])[:2]
                tags = {"admin_level": "4", "IBGE:GEOCODIGO": uf, "name": "Estado Sintético"}
            tags |= {"type": "boundary", "boundary": "administrative"}
            writer.add_relation(mutable.Relation(id=base + 1 + k, members=outer, tags=tags))
    return names, boxes, highways, stride
