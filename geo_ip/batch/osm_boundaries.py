"""Municipal boundaries of a regional OSM extract, by IBGE code (for :mod:`.osm_cut`).

:func:`find_municipalities` lists the relations ``boundary=administrative``,
``admin_level=8`` with a 7-digit IBGE code (:data:`~geo_ip.sources.osm_classify.IBGE_KEYS`)
of a regional ``.osm.pbf``, assembled as polygons by osmium; a boundary that cannot be
assembled is listed with its error.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Iterable
from pathlib import Path

import geopandas as gpd
import osmium
import osmium.filter
import pandas as pd
import shapely

from geo_ip.errors import OsmError
from geo_ip.sources.osm import check_osm_file
from geo_ip.sources.osm_classify import IBGE_KEYS

__all__ = [
    "MUNICIPAL_LEVEL", "NOT_ASSEMBLED", "NO_BOUNDARY", "find_municipalities", "ibge_code",
    "id_filter", "is_municipal", "unreadable",
]  # fmt: skip

log = logging.getLogger(__name__)

NO_BOUNDARY = "sem limite municipal com este código IBGE no arquivo OSM"
"""Error of a requested municipality without a boundary in the regional file."""
NOT_ASSEMBLED = (
    "limite municipal (relação OSM {id}) não pôde ser montado como polígono "
    "(anel aberto ou membros ausentes do arquivo)"
)
"""Error of a boundary relation that osmium cannot assemble (``{id}``: relation id)."""
MUNICIPAL_LEVEL = 8
"""OSM ``admin_level`` of a Brazilian municipality."""
_IBGE_CODE = re.compile(r"\d{7}")
_COLUMNS = ["codigo_ibge", "nome", "relacao_osm", "erro"]


def ibge_code(tags: osmium.osm.TagList) -> int | None:
    """Return the 7-digit IBGE code of a boundary's tags (:data:`IBGE_KEYS`), if any."""
    for key in IBGE_KEYS:
        value = tags.get(key)
        if value is not None and _IBGE_CODE.fullmatch(value.strip()):
            return int(value.strip())
    return None


def is_municipal(tags: osmium.osm.TagList) -> bool:
    """Tell whether tags are those of a municipal boundary (administrative, level 8)."""
    return tags.get("boundary") == "administrative" and tags.get("admin_level") == str(
        MUNICIPAL_LEVEL
    )


def id_filter(ids: Iterable[int], entity: osmium.osm.osm_entity_bits) -> osmium.filter.IdFilter:
    """Return a filter letting through only these ids of one kind (the others pass)."""
    filter_ = osmium.filter.IdFilter(ids)
    filter_.enable_for(entity)
    return filter_


def unreadable(path: Path, exc: Exception) -> OsmError:
    """Return the error of an OSM file that osmium cannot read (truncated, not OSM)."""
    return OsmError(f"não é um arquivo OSM válido ou está truncado (detalhe: {exc})", path=path)


# --------------------------------------------------------------------------- boundaries


class _Boundaries(osmium.SimpleHandler):
    """First pass: the municipal boundary relations and their member ways."""

    def __init__(self, codes: Collection[int] | None) -> None:
        super().__init__()
        self.codes = None if codes is None else frozenset(codes)
        self.found: dict[int, tuple[int, str]] = {}  # relation id -> (code, name)
        self.ways: set[int] = set()

    def relation(self, rel: osmium.osm.Relation) -> None:
        tags = rel.tags
        if not is_municipal(tags):
            return
        code = ibge_code(tags)
        if code is None or (self.codes is not None and code not in self.codes):
            return
        self.found[rel.id] = (code, (tags.get("name") or "").strip())
        self.ways.update(m.ref for m in rel.members if m.type == "w")


class _Areas(osmium.SimpleHandler):
    """Second pass: the polygons osmium assembled, by relation id."""

    def __init__(self, wanted: Collection[int]) -> None:
        super().__init__()
        self.wanted = wanted
        self.factory = osmium.geom.WKBFactory()
        self.polygons: dict[int, shapely.MultiPolygon] = {}

    def area(self, area: osmium.osm.Area) -> None:
        if area.from_way() or area.orig_id() not in self.wanted:
            return
        try:
            geometry = shapely.from_wkb(self.factory.create_multipolygon(area))
        except RuntimeError:  # assembly failed: osmium passes an empty area
            return
        if isinstance(geometry, shapely.MultiPolygon) and not geometry.is_empty:
            self.polygons[area.orig_id()] = geometry


def find_municipalities(pbf: str | Path, codes: Collection[int] | None = None) -> gpd.GeoDataFrame:
    """List the municipal boundaries of a regional OSM file, as polygons.

    A municipal boundary is a relation ``boundary=administrative``, ``admin_level=8``
    with a 7-digit IBGE code in one of
    :data:`~geo_ip.sources.osm_classify.IBGE_KEYS`; osmium assembles it as a polygon
    (two passes over the file: relations, then the member ways' nodes and ways).

    Parameters
    ----------
    pbf : str or Path
        The regional OSM file (``.osm.pbf``, ``.osm``...).
    codes : collection of int, optional
        Only these IBGE codes; a code without a boundary in the file gets a row with
        :data:`NO_BOUNDARY`. None: every municipal boundary of the file.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per municipality, by code: ``codigo_ibge`` (int), ``nome`` (str, the
        relation's ``name``), ``relacao_osm`` (Int64, the relation's id, missing when
        there is none), ``erro`` (str: ``""``, or why the municipality has no polygon:
        :data:`NOT_ASSEMBLED`, :data:`NO_BOUNDARY`) and the geometry (MultiPolygon in
        EPSG:4326; None with an error). When two relations carry the same code, the
        first one assembled is used.

    Raises
    ------
    InputFileError
        (:class:`~geo_ip.errors.OsmError`) If the file is missing, empty or not OSM.
    """
    path = check_osm_file(pbf)
    started = time.perf_counter()
    found = _Boundaries(codes)
    manager = osmium.area.AreaManager()
    level = osmium.filter.TagFilter(("admin_level", str(MUNICIPAL_LEVEL)))
    try:
        with osmium.io.Reader(str(path), osmium.osm.RELATION) as reader:
            osmium.apply(reader, found, level, manager.first_pass_handler())
        areas = _Areas(found.found)
        locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
        locations.ignore_errors()
        ways = id_filter(found.ways, osmium.osm.WAY)
        with osmium.io.Reader(str(path), osmium.osm.NODE | osmium.osm.WAY) as reader:
            osmium.apply(reader, locations, ways, manager.second_pass_handler(areas))
    except RuntimeError as exc:
        raise unreadable(path, exc) from exc
    rows: dict[int, tuple[int, str, int | None, str, shapely.MultiPolygon | None]] = {}
    for rel_id in sorted(found.found):
        code, name = found.found[rel_id]
        polygon = areas.polygons.get(rel_id)
        if code in rows and (rows[code][4] is not None or polygon is None):
            continue  # the same code twice: the first assembled boundary
        erro = "" if polygon is not None else NOT_ASSEMBLED.format(id=rel_id)
        rows[code] = (code, name, rel_id, erro, polygon)
    for code in set(codes or ()) - set(rows):
        rows[code] = (int(code), "", None, NO_BOUNDARY, None)
    frame = pd.DataFrame([rows[code] for code in sorted(rows)], columns=[*_COLUMNS, "geometry"])
    frame = frame.astype({"codigo_ibge": "int64", "nome": str, "relacao_osm": "Int64"})
    frame["erro"] = frame["erro"].astype(str)
    result = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    failed, seconds = int((result["erro"] != "").sum()), time.perf_counter() - started
    log.info(
        "%s: %d limites municipais (%d sem polígono) em %.1f s", path, len(result), failed, seconds
    )
    return result


# --------------------------------------------------------------------------- reading
