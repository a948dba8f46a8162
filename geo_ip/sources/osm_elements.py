"""Reading the OSM elements of a local file for the classifier (for :mod:`~.osm_features`).

:func:`read_elements` makes one pass over an ``.osm`` / ``.pbf`` file with pyosmium
and returns the frame :func:`~.osm_classify.classify` takes: one row per tagged
element the layers may use, its ``osm_id``, its tags and its geometry.

Closed ways are polygons or lines by the rule osmnx applies to Overpass data
(``_POLYGON_FEATURES`` in ``osmnx.features``, itself from the OSM wiki page
"Overpass turbo/Polygon Features"), so a file and an osmnx download agree on the
geometry of every element.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmium.filter
import pandas as pd
import shapely
from osmium.osm.types import OSMEntity

from geo_ip.sources.osm import tag_dict
from geo_ip.sources.osm_classify import CRS, OSM_ID

__all__ = ["read_elements"]

log = logging.getLogger(__name__)

# Closed ways are polygons when one of these tags says so (osmnx 2.x rule, see the
# module docstring): "all" values, only the "passlist" values, or all but "blocklist".
_POLYGON_FEATURES: dict[str, tuple[str, frozenset[str]]] = {
    "aeroway": ("blocklist", frozenset({"taxiway"})),
    "amenity": ("all", frozenset()),
    "area": ("all", frozenset()),
    "area:highway": ("all", frozenset()),
    "barrier": (
        "passlist",
        frozenset({"city_wall", "ditch", "hedge", "retaining_wall", "spikes"}),
    ),
    "boundary": ("all", frozenset()),
    "building": ("all", frozenset()),
    "building:part": ("all", frozenset()),
    "craft": ("all", frozenset()),
    "golf": ("all", frozenset()),
    "highway": ("passlist", frozenset({"elevator", "escape", "rest_area", "services"})),
    "historic": ("all", frozenset()),
    "indoor": ("all", frozenset()),
    "landuse": ("all", frozenset()),
    "leisure": ("all", frozenset()),
    "man_made": ("blocklist", frozenset({"cutline", "embankment", "pipeline"})),
    "military": ("all", frozenset()),
    "natural": ("blocklist", frozenset({"arete", "cliff", "coastline", "ridge", "tree_row"})),
    "office": ("all", frozenset()),
    "place": ("all", frozenset()),
    "power": ("passlist", frozenset({"generator", "plant", "substation", "transformer"})),
    "public_transport": ("all", frozenset()),
    "railway": ("passlist", frozenset({"platform", "roundhouse", "station", "turntable"})),
    "ruins": ("all", frozenset()),
    "shop": ("all", frozenset()),
    "tourism": ("all", frozenset()),
    "waterway": ("passlist", frozenset({"boatyard", "dam", "dock", "riverbank"})),
}


def _is_polygon(tags: Mapping[str, str] | osmium.osm.TagList) -> bool:
    """Whether a closed way with these tags is an area (osmnx rule)."""
    if tags.get("area") == "no":
        return False
    for key, (rule, values) in _POLYGON_FEATURES.items():
        value = tags.get(key)
        if value is None:
            continue
        if rule == "all" or (rule == "passlist") == (value in values):
            return True
    return False


def _wanted_way(
    tags: osmium.osm.TagList, any_value: list[str], some_values: Mapping[str, frozenset[str]]
) -> bool:
    """Whether a way (or node) has a key of ``any_value`` or a tag of ``some_values``."""
    for key in any_value:
        if key in tags:
            return True
    return any(tags.get(key) in values for key, values in some_values.items())


def read_elements(
    path: Path, keep: Collection[str], wanted: Mapping[str, bool | str | list[str]]
) -> gpd.GeoDataFrame:
    """Read the tagged elements the classifier may use, one row per element.

    Closed ways that are areas (:func:`_is_polygon`) and multipolygon / boundary
    relations come from osmium's area assembly; other ways are linestrings.

    Parameters
    ----------
    path : Path
        A checked OSM file (:func:`geo_ip.sources.osm.check_osm_file`).
    keep : collection of str
        The tag keys stored (one column each, sorted); the others are not read.
    wanted : mapping
        The tags the layers use (:func:`~.osm_features.feature_tags`): tag key →
        ``True`` (any value) or the list of wanted values.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_id``, one column per key of ``keep`` (None when absent) and the
        element's geometry in EPSG:4326.

    Raises
    ------
    RuntimeError
        From osmium, when the file is not OSM or is truncated.
    """
    found = _Pass(keep, wanted)
    found.run(path)
    geometries = found.geometries()
    repaired = found.repair()
    if repaired is not None:
        geometries = np.concatenate([geometries, repaired])
    if found.skipped:
        log.warning(
            "%s: %d elementos OSM sem geometria válida foram ignorados", path, found.skipped
        )
    if missing := len(found.area_relations - found.assembled):
        log.warning(
            "%s: %d relações OSM (multipolígonos ou limites) não puderam ser montadas como "
            "áreas, em geral por membros fora do recorte do arquivo",
            path,
            missing,
        )
    frame = pd.DataFrame.from_records(found.tags, columns=sorted(keep))
    frame.insert(0, OSM_ID, found.ids)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=CRS))


class _Pass:
    """One pass over an OSM file: the elements kept, and the areas still to settle."""

    def __init__(self, keep: Collection[str], wanted: Mapping[str, bool | str | list[str]]):
        self.keep = keep
        self.prefilter = list(wanted)
        # a node or way passes when one of these keys is present, or one of these tags
        # (the C++ key filter lets every road through for ``highway=street_lamp``, every
        # tree through for ``natural=water``)
        self.any_value = [key for key, values in wanted.items() if values is True or key == "lit"]
        self.some_values = {
            key: frozenset(values)
            for key, values in wanted.items()
            if key not in self.any_value and isinstance(values, list)
        }
        self.factory = osmium.geom.WKBFactory()
        self.ids: list[str] = []
        self.tags: list[dict[str, str]] = []
        self.wkbs: list[str | None] = []  # None: a node, its point built from lon / lat
        self.node_rows: list[int] = []
        self.lons: list[float] = []
        self.lats: list[float] = []
        # closed area-ways waiting for their osmium area: way id -> (tags, linestring wkb)
        self.pending: dict[int, tuple[dict[str, str], str]] = {}
        self.area_relations: set[int] = set()  # multipolygon / boundary relations read
        self.assembled: set[int] = set()  # relations osmium assembled as areas
        self.area_ways: set[int] = set()  # closed ways osmium assembled as areas
        self.skipped = 0

    def run(self, path: Path) -> None:
        """Read the file, keeping the id, tags and WKB of every element taken."""
        processor = (
            osmium.FileProcessor(path)
            .with_locations()
            .with_areas(osmium.filter.KeyFilter(*self.prefilter))
            .with_filter(osmium.filter.KeyFilter(*self.prefilter))
        )
        for obj in processor:
            try:
                taken = self._take(obj)
            except (osmium.InvalidLocationError, RuntimeError):
                # an area that fails is repaired from its way's ring (below) or counted
                # among the relations that could not be assembled
                self.skipped += not isinstance(obj, osmium.osm.Area)
                continue
            if taken is None:
                continue
            osm_id, wkb = taken
            self.ids.append(osm_id)
            self.tags.append(tag_dict(obj.tags, self.keep))
            self.wkbs.append(wkb)

    def _take(self, obj: OSMEntity) -> tuple[str, str | None] | None:
        """Return the id and WKB of an element to keep (no WKB for a node), or None."""
        if isinstance(obj, osmium.osm.Node):
            if not _wanted_way(obj.tags, self.any_value, self.some_values):
                return None  # e.g. natural=tree: the key is read for natural=water areas
            location = obj.location
            if not location.valid():
                raise osmium.InvalidLocationError("invalid location")
            self.node_rows.append(len(self.ids))
            self.lons.append(location.lon)
            self.lats.append(location.lat)
            return f"node/{obj.id}", None
        if isinstance(obj, osmium.osm.Way):
            if not _wanted_way(obj.tags, self.any_value, self.some_values):
                return None  # a road without any tag the layers use
            osm_id, wkb = f"way/{obj.id}", self.factory.create_linestring(obj)
            if obj.is_closed() and _is_polygon(obj.tags):
                self.pending[obj.id] = (tag_dict(obj.tags, self.keep), wkb)
                return None  # taken as the area osmium assembles from it
            return osm_id, wkb
        if isinstance(obj, osmium.osm.Area):
            from_way = obj.from_way()
            if from_way and not _is_polygon(obj.tags):
                return None  # a closed way that is a line: taken as the way
            wkb = self.factory.create_multipolygon(obj)
            (self.area_ways if from_way else self.assembled).add(obj.orig_id())
            return f"{'way' if from_way else 'relation'}/{obj.orig_id()}", wkb
        if isinstance(obj, osmium.osm.Relation) and obj.tags.get("type") in (
            "multipolygon",
            "boundary",
        ):
            self.area_relations.add(obj.id)
        return None

    def geometries(self) -> np.ndarray:
        """Geometries of the elements kept: nodes from their coordinates, others from WKB."""
        geometries = np.empty(len(self.wkbs), dtype=object)
        is_node = np.zeros(len(self.wkbs), dtype=bool)
        if self.node_rows:
            is_node[self.node_rows] = True
            geometries[is_node] = shapely.points(
                np.asarray(self.lons, dtype=np.float64), np.asarray(self.lats, dtype=np.float64)
            )
        if not is_node.all():
            geometries[~is_node] = shapely.from_wkb([w for w in self.wkbs if w is not None])
        return geometries

    def repair(self) -> np.ndarray | None:
        """Areas of the closed ways osmium could not assemble, repaired (None if no such way).

        Rings with self-intersections and the like are noded and rebuilt; their ids and
        tags are appended to the elements kept, and those beyond repair are skipped.
        """
        for way_id in self.area_ways:
            self.pending.pop(way_id, None)
        if not self.pending:
            return None
        rings = shapely.from_wkb([wkb for _, wkb in self.pending.values()])
        repaired = shapely.make_valid(shapely.build_area(shapely.node(rings)))
        good = ~shapely.is_empty(repaired)
        self.ids += [f"way/{way_id}" for way_id, ok in zip(self.pending, good, strict=True) if ok]
        self.tags += [t for (t, _), ok in zip(self.pending.values(), good, strict=True) if ok]
        self.skipped += int((~good).sum())
        return repaired[good]
