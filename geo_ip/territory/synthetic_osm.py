"""The synthetic street pattern as an OSM file, to benchmark building a territory from OSM.

:func:`write_synthetic_osm` writes the streets of
:func:`geo_ip.territory.synthetic.write_synthetic_territory` (the same tiles, from
:mod:`geo_ip.territory.synthetic_streets`) with addresses, facilities, bus stops, poles,
urban areas and water (the lake, river and stream of
:mod:`~geo_ip.territory.synthetic_layers`), in lon/lat. Deterministic: the same arguments
write the same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import shapely
from osmium.osm import mutable
from pyproj import Transformer

from geo_ip.territory.synthetic_layers import lake, water_courses
from geo_ip.territory.synthetic_streets import (
    LAMP_SHARE,
    PRINCIPAL,
    RURAL,
    SERVED,
    SPACING_M,
    TILE,
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    Roads,
    SyntheticLayout,
    buildings,
    street_names,
    street_tags,
    synthetic_layout,
)

__all__ = ["OSM_TIMESTAMP", "SyntheticOsm", "write_synthetic_osm"]

log = logging.getLogger(__name__)

OSM_TIMESTAMP = "2026-01-01T00:00:00Z"
"""Replication timestamp written in the header of :func:`write_synthetic_osm` files."""
_CRS = "EPSG:31983"
"""CRS the streets are drawn in before being written in lon/lat."""

_Point = tuple[list[float], dict[str, str]]
"""A tagged OSM node: [lon, lat] and tags."""
_Way = tuple[list[int], dict[str, str]]
"""An OSM way: node ids and tags."""


@dataclass(frozen=True)
class SyntheticOsm:
    """What :func:`write_synthetic_osm` wrote.

    Attributes
    ----------
    path : Path
        The OSM file.
    counts : dict of str to int
        ``nos`` (OSM nodes), ``vias`` (OSM ways with ``highway``), ``trechos``
        (street segments between junctions: the territory has twice as many road
        edges) and ``enderecos``, ``equipamentos``, ``postes``, ``areas_urbanas``,
        ``agua`` (OSM ways of water: a lake, a river and a stream).
    tiles : tuple of int
        Tiles along x and y.
    """

    path: Path
    counts: dict[str, int]
    tiles: tuple[int, int]


class _LonLat:
    """Lon/lat of points of the synthetic CRS, rounded to OSM's 7 decimals."""

    def __init__(self, crs: str) -> None:
        self._transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def __call__(self, xy: FloatArray) -> FloatArray:
        lon, lat = self._transformer.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 7)


# --------------------------------------------------------------------------- streets


def _street_ways(roads: Roads) -> tuple[IntArray, IntArray]:
    """Chain the segments of each street run into ways: segment order and way starts."""
    a_xy = roads.node_xy[roads.a]
    order = np.lexsort((a_xy[:, 0] + a_xy[:, 1], roads.street))
    a, b, street = roads.a[order], roads.b[order], roads.street[order]
    joined = (street[1:] == street[:-1]) & (a[1:] == b[:-1])
    starts = np.r_[0, np.flatnonzero(~joined) + 1]
    return order, starts


def _highway_ways(roads: Roads, rural: BoolArray, names: ObjArray) -> list[_Way]:
    """One way per street run, through the junctions and the blocks' middle vertices.

    Node ids: the junctions ``1..N``, then each segment's middle vertex.
    """
    n_junctions, n_segments = len(roads.node_xy), len(roads.a)
    junction_id = np.arange(1, n_junctions + 1, dtype=np.int64)
    mid_id = n_junctions + 1 + np.arange(n_segments, dtype=np.int64)
    highway, surface, maxspeed = street_tags(roads, rural)
    order, starts = _street_ways(roads)
    bounds = np.r_[starts, len(order)]
    ways: list[_Way] = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        segs = order[lo:hi]
        refs = [int(junction_id[roads.a[segs[0]]])]
        for s_ in segs.tolist():
            refs += [int(mid_id[s_]), int(junction_id[roads.b[s_]])]
        s0 = int(segs[0])
        tags = {
            "highway": str(highway[s0]),
            "name": str(names[s0]),
            "surface": str(surface[s0]),
            "maxspeed": str(maxspeed[s0]),
        }
        if roads.cls[s0] == PRINCIPAL:
            tags |= {"lit": "yes", "lanes": "2"}
        ways.append((refs, tags))
    return ways


# --------------------------------------------------------------------------- other features


def _addresses(roads: Roads, rural: BoolArray, names: ObjArray, lonlat: _LonLat) -> list[_Point]:
    """Tag an address node for every third building of the territory."""
    homes = buildings(roads, rural)
    address = homes.address
    address_ll = lonlat(homes.xy[address])
    address_street = names[homes.edge[address]]
    address_number = homes.number[address]
    return [
        (ll, {"addr:street": street, "addr:housenumber": str(number), "building": "yes"})
        for ll, street, number in zip(
            address_ll.tolist(), address_street.tolist(), address_number.tolist(), strict=True
        )
    ]


def _facilities(layout: SyntheticLayout, lonlat: _LonLat) -> list[_Point]:
    """Tag the facilities of each urban tile (``amenity``, ``name``)."""
    urban_tiles, tx, ty = layout.urban_tiles()
    origin = layout.origin
    facilities: list[_Point] = []
    for amenity, prefix, (ox_, oy_) in (
        ("school", "Escola Municipal", (4.4, 4.6)),
        ("kindergarten", "Creche Municipal", (11.5, 4.4)),
        ("clinic", "Unidade Básica de Saúde", (4.5, 11.6)),
        ("community_centre", "Centro Comunitário", (8.5, 2.6)),
    ):
        xy = np.column_stack(
            [origin[0] + (tx * TILE + ox_) * SPACING_M, origin[1] + (ty * TILE + oy_) * SPACING_M]
        )
        for t, ll in zip(urban_tiles.tolist(), lonlat(xy).tolist(), strict=True):
            facilities.append((ll, {"amenity": amenity, "name": f"{prefix} {t + 1}"}))
    return facilities


def _stops_and_poles(
    layout: SyntheticLayout, lonlat: _LonLat, seed: int
) -> tuple[list[_Point], list[_Point]]:
    """Bus stops of urban tiles; poles of served tiles' low-voltage lines, some with lamps."""
    roads = layout.roads
    kind = layout.kinds[roads.tile]
    stops = np.flatnonzero(roads.stop & (kind != RURAL))
    stop_ll = lonlat(roads.coords[stops, 1] + 7.0)
    served = np.flatnonzero(roads.bt & (kind == SERVED) & ~roads.spur)
    pole_ll = lonlat(roads.coords[served, 1] + [0.0, 9.0])
    lamp = np.random.default_rng([seed, 3]).random(len(served)) < LAMP_SHARE
    poles: list[_Point] = []
    for ll, lit in zip(pole_ll.tolist(), lamp.tolist(), strict=True):
        poles.append((ll, {"power": "pole"} | ({"highway": "street_lamp"} if lit else {})))
    return [(ll, {"highway": "bus_stop"}) for ll in stop_ll.tolist()], poles


def _urban_boxes(layout: SyntheticLayout, lonlat: _LonLat) -> list[list[list[float]]]:
    """Return the four corners (lon/lat) of each urban tile."""
    _, tx, ty = layout.urban_tiles()
    origin, side = layout.origin, TILE * SPACING_M
    box_xy = np.stack(
        [
            np.column_stack([origin[0] + (tx + dx) * side, origin[1] + (ty + dy) * side])
            for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1))
        ],
        axis=1,
    )
    boxes: list[list[list[float]]] = lonlat(box_xy.reshape(-1, 2)).reshape(-1, 4, 2).tolist()
    return boxes


_Line = tuple[FloatArray, dict[str, str]]
"""A line to write as an OSM way: lon/lat of its vertices (closed: first = last) and tags."""


def _water_lines(layout: SyntheticLayout, lonlat: _LonLat) -> list[_Line]:
    """Return the lake (a closed ring), the river and the stream: lon/lat and OSM tags."""
    river, stream = water_courses(layout)
    ring = shapely.get_coordinates(lake(layout).exterior)
    return [
        (lonlat(ring), {"natural": "water", "water": "lake", "name": "Lagoa Sintética"}),
        (lonlat(shapely.get_coordinates(river)), {"waterway": "river", "name": "Rio Sintético"}),
        (
            lonlat(shapely.get_coordinates(stream)),
            {"waterway": "stream", "name": "Córrego Sintético"},
        ),
    ]


# --------------------------------------------------------------------------- file


def _write_file(
    out: Path,
    street_ll: FloatArray,
    points: list[_Point],
    boxes: list[list[list[float]]],
    ways: list[_Way],
    water: list[_Line],
) -> int:
    """Write the nodes (street nodes ``1..N``, points, box corners, water), then the ways.

    A closed water line (the lake) ends on its first node.

    Returns the number of nodes written.
    """
    header = osmium.io.Header()
    header.set("generator", "geo_ip.territory.synthetic")
    header.set("osmosis_replication_timestamp", OSM_TIMESTAMP)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(out), header=header) as writer:
        for node_id, ll in enumerate(street_ll.tolist(), start=1):
            writer.add_node(mutable.Node(id=node_id, location=(ll[0], ll[1])))
        next_id = len(street_ll) + 1
        for ll, tags in points:
            writer.add_node(mutable.Node(id=next_id, location=(ll[0], ll[1]), tags=tags))
            next_id += 1
        areas: list[_Way] = []
        for corners in boxes:
            first = next_id
            for ll in corners:
                writer.add_node(mutable.Node(id=next_id, location=(ll[0], ll[1])))
                next_id += 1
            areas.append(
                ([first, first + 1, first + 2, first + 3, first], {"landuse": "residential"})
            )
        for line, tags in water:
            closed = bool((line[0] == line[-1]).all())
            vertices = line[:-1] if closed else line
            first = next_id
            for ll in vertices.tolist():
                writer.add_node(mutable.Node(id=next_id, location=(ll[0], ll[1])))
                next_id += 1
            refs = list(range(first, next_id)) + ([first] if closed else [])
            areas.append((refs, tags))
        for way_id, (refs, tags) in enumerate(ways + areas, start=1):
            writer.add_way(mutable.Way(id=way_id, nodes=refs, tags=tags))
    return next_id - 1


def write_synthetic_osm(out: str | Path, *, edges: int, seed: int = 0) -> SyntheticOsm:
    """Write the synthetic street pattern (of the synthetic territories) as an OSM file.

    The same tiles and streets, in lon/lat around
    :data:`~geo_ip.territory.synthetic_streets.CENTRE_LONLAT`: one way per
    street run (``highway``, ``name``, ``surface``, ``maxspeed``, avenues with
    ``lit=yes`` and ``lanes=2``), each block drawn through its bent middle vertex;
    rural tiles' local streets are ``unclassified`` and their cul-de-sacs
    ``track``. Besides the streets: an address node (``addr:street``,
    ``addr:housenumber``) for every third building of
    :func:`~geo_ip.territory.synthetic.write_synthetic_territory`, the facilities of urban
    tiles (``amenity``), bus stops, poles with lamps (``power=pole``,
    ``highway=street_lamp``), one ``landuse=residential`` area per urban tile, and
    the water: a lake (``natural=water``, ``water=lake``), a river (``waterway=river``)
    crossing the town and a stream (``waterway=stream``) into it.
    Deterministic: the same arguments write the same objects, and the header carries
    :data:`OSM_TIMESTAMP`.

    Parameters
    ----------
    out : str or Path
        File to write (``.osm.pbf``, ``.osm`` ...; replaced when it exists).
    edges : int
        Road edges wanted in the territory built from the file (rows of ``vias``,
        both directions of a street counted); the result is within a tile of it.
    seed : int, default 0
        Seed of the pattern and of the tile kinds.

    Returns
    -------
    SyntheticOsm
        Path, counts and tiles.

    Raises
    ------
    ValueError
        If ``edges`` < 1.
    """
    if edges < 1:
        raise ValueError(f"número de arestas inválido: {edges!r} (>= 1)")
    layout = synthetic_layout(edges, seed, _CRS)
    roads, lonlat = layout.roads, _LonLat(_CRS)
    rural = layout.kinds[roads.tile] == RURAL
    names = street_names(roads.street, roads.cls, roads.spur)
    addresses = _addresses(roads, rural, names, lonlat)
    facilities = _facilities(layout, lonlat)
    stops, poles = _stops_and_poles(layout, lonlat, seed)
    boxes = _urban_boxes(layout, lonlat)
    ways = _highway_ways(roads, rural, names)
    water = _water_lines(layout, lonlat)
    street_ll = lonlat(np.vstack([roads.node_xy, roads.coords[:, 1]]))
    out = Path(out)
    points = addresses + facilities + stops + poles
    nodes = _write_file(out, street_ll, points, boxes, ways, water)
    counts = {
        "nos": nodes,
        "vias": len(ways),
        "trechos": len(roads.a),
        "enderecos": len(addresses),
        "equipamentos": len(facilities) + len(stops),
        "postes": len(poles),
        "areas_urbanas": len(boxes),
        "agua": len(water),
    }
    log.info("arquivo OSM sintético: %s em %s", counts, out)
    return SyntheticOsm(out, counts, layout.tiles)
