"""Cut a regional OSM extract into one file per municipality, by its IBGE boundary.

:func:`find_municipalities` lists the municipal boundaries of a regional ``.osm.pbf``
(relations ``boundary=administrative``, ``admin_level=8`` with a 7-digit IBGE code),
assembled as polygons by osmium; a boundary that cannot be assembled is listed with its
error. :func:`cut_municipalities` then writes ``<codigo_ibge>.osm.pbf`` for every
assembled boundary in two passes over the regional file for up to
:data:`MAX_OPEN_FILES` municipalities (one more writing pass per further group): what
``osmium extract --strategy smart`` does, with pyosmium (osmium-tool is not installable
with pip):

* every node inside the boundary buffered by a margin;
* every way with at least one such node, with all its nodes;
* the municipality's own boundary relation, complete (so the territory built from the
  extract has its ``limite`` and :func:`geo_ip.territory.municipality.check_municipality`
  recognises it);
* multipolygon and other area relations (water, landuse, districts) with an included
  way, completed with all their member ways and nodes; other relations (routes,
  restrictions) with an included member, as they are. Administrative boundaries of
  level 8 or lower of other municipalities (neighbours, the state) are left out.

The point-in-polygon test runs on numpy arrays of all node coordinates, one vectorised
call per municipality (:func:`shapely.intersects_xy`), and the rest on index arrays.
"""

from __future__ import annotations

import logging
import time
from array import array
from contextlib import ExitStack
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmium.filter
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip.batch.osm_boundaries import (
    MUNICIPAL_LEVEL,
    NO_BOUNDARY,
    NOT_ASSEMBLED,
    find_municipalities,
    ibge_code,
    id_filter,
    is_municipal,
    unreadable,
)
from geo_ip.sources.osm import check_osm_file

__all__ = ["NOT_ASSEMBLED", "NO_BOUNDARY", "cut_municipalities", "find_municipalities"]

log = logging.getLogger(__name__)

_E7 = 1e7
_WRITER_BUFFER = 1 << 20
"""Bytes buffered per output file before osmium encodes them (a group's files are open)."""
MAX_OPEN_FILES = 256
"""Extracts written at once (one open file and one write buffer each): a state's
municipalities take ``ceil(n / MAX_OPEN_FILES)`` writing passes over the regional file."""

# relation kinds in a cut
_PLAIN, _AREA, _ADMIN = 0, 1, 2
_MEMBER_CODE = {"n": 0, "w": 1, "r": 2}

IntArray = np.ndarray


class _Everything(osmium.SimpleHandler):
    """The whole file as arrays: node locations, way refs, relation members."""

    def __init__(self) -> None:
        super().__init__()
        self.node_ids, self.node_x, self.node_y = array("q"), array("i"), array("i")
        self.way_ids, self.way_ptr, self.way_refs = array("q"), array("q", [0]), array("q")
        self.rel_ids, self.rel_kind, self.rel_code = array("q"), array("b"), array("q")
        self.rel_ptr, self.member_type, self.member_ref = array("q", [0]), array("b"), array("q")

    def node(self, node: osmium.osm.Node) -> None:
        location = node.location  # an undefined one (2**31 - 1) is outside every polygon
        self.node_ids.append(node.id)
        self.node_x.append(location.x)
        self.node_y.append(location.y)

    def way(self, way: osmium.osm.Way) -> None:
        self.way_ids.append(way.id)
        self.way_refs.extend([n.ref for n in way.nodes])
        self.way_ptr.append(len(self.way_refs))

    def relation(self, rel: osmium.osm.Relation) -> None:
        tags = rel.tags
        code = 0
        if tags.get("boundary") == "administrative" and _admin_level(tags) <= MUNICIPAL_LEVEL:
            kind = _ADMIN
            if is_municipal(tags):
                code = ibge_code(tags) or 0
        elif tags.get("type") in ("multipolygon", "boundary"):
            kind = _AREA
        else:
            kind = _PLAIN
        self.rel_ids.append(rel.id)
        self.rel_kind.append(kind)
        self.rel_code.append(code)
        for member in rel.members:
            self.member_type.append(_MEMBER_CODE.get(member.type, 2))
            self.member_ref.append(member.ref)
        self.rel_ptr.append(len(self.member_ref))


def _admin_level(tags: osmium.osm.TagList) -> int:
    value = tags.get("admin_level") or ""
    return int(value) if value.isdigit() else 99


class _Lookup:
    """Position of ids in an id array (in file order, not necessarily sorted)."""

    def __init__(self, ids: IntArray) -> None:
        self.order = np.argsort(ids, kind="stable")
        self.sorted = ids[self.order]

    def __call__(self, query: IntArray) -> IntArray:
        """Return the position of each id of ``query`` in the array, -1 when absent."""
        if len(self.sorted) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted, query), len(self.sorted) - 1)
        return np.where(self.sorted[at] == query, self.order[at], -1).astype(np.int64)


def _expand(rows: IntArray, ptr: IntArray, values: IntArray) -> tuple[IntArray, IntArray]:
    """Expand CSR rows: for each ``rows[i]``, every value of its row, with ``i``."""
    starts = ptr[rows]
    counts = ptr[rows + 1] - starts
    which = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    within = np.arange(len(which), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, values[starts[which] + within]


def _csr(keys: IntArray, values: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Group ``values`` by ``keys`` (0 <= key < n): the CSR pointer and values."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, values[order]


def _unique_pairs(objects: IntArray, munis: IntArray, m: int) -> tuple[IntArray, IntArray]:
    """Distinct (object, municipality) pairs, sorted by object then municipality."""
    keys = np.unique(objects.astype(np.int64) * m + munis)
    return keys // m, keys % m


# --------------------------------------------------------------------------- selection


def _inside(
    x: IntArray, y: IntArray, polygons: list[shapely.Geometry]
) -> tuple[IntArray, IntArray]:
    """(node, municipality) pairs of the nodes inside each polygon (lon/lat, 1e-7°)."""
    order = np.argsort(x, kind="stable")
    x_sorted = x[order]
    nodes: list[IntArray] = []
    munis: list[IntArray] = []
    for m, polygon in enumerate(polygons):
        shapely.prepare(polygon)
        x0, y0, x1, y1 = shapely.bounds(polygon).tolist()
        lo = int(np.searchsorted(x_sorted, x0 * _E7, side="left"))
        hi = int(np.searchsorted(x_sorted, x1 * _E7, side="right"))
        candidates = order[lo:hi]
        yc = y[candidates]
        candidates = candidates[(yc >= y0 * _E7) & (yc <= y1 * _E7)]
        hit = shapely.intersects_xy(polygon, x[candidates] / _E7, y[candidates] / _E7)
        nodes.append(candidates[hit])
        munis.append(np.full(int(hit.sum()), m, dtype=np.int64))
    return np.concatenate(nodes), np.concatenate(munis)


class _Selection:
    """Which objects go into which municipality's extract (pairs of indices).

    ``codes`` are sorted; municipality ``m`` is ``codes[m]`` with ``polygons[m]``.
    """

    def __init__(self, data: _Everything, polygons: list[shapely.Geometry], codes: IntArray):
        m = len(polygons)
        node_ids = np.frombuffer(data.node_ids, dtype=np.int64)
        x = np.frombuffer(data.node_x, dtype=np.int32).astype(np.int64)
        y = np.frombuffer(data.node_y, dtype=np.int32).astype(np.int64)
        way_ptr = np.frombuffer(data.way_ptr, dtype=np.int64)
        node_lookup = _Lookup(node_ids)
        way_refs = node_lookup(np.frombuffer(data.way_refs, dtype=np.int64))
        way_lookup = _Lookup(np.frombuffer(data.way_ids, dtype=np.int64))
        n_ways = len(data.way_ids)
        rel_kind = np.frombuffer(data.rel_kind, dtype=np.int8)
        rel_code = np.frombuffer(data.rel_code, dtype=np.int64)
        rel_ptr = np.frombuffer(data.rel_ptr, dtype=np.int64)
        member_type = np.frombuffer(data.member_type, dtype=np.int8)
        member_ref = np.frombuffer(data.member_ref, dtype=np.int64)
        member_rel = np.repeat(np.arange(len(rel_kind), dtype=np.int64), np.diff(rel_ptr))
        member_way = np.where(member_type == 1, way_lookup(member_ref), -1)

        # nodes inside, then the ways through them
        inside_node, inside_m = _inside(x, y, polygons)
        node_ptr, node_munis = _csr(inside_node, inside_m, len(node_ids))
        ref_way = np.repeat(np.arange(n_ways, dtype=np.int64), np.diff(way_ptr))
        located = np.flatnonzero(way_refs >= 0)
        which, munis = _expand(way_refs[located], node_ptr, node_munis)
        way_parts = [ref_way[located][which]]
        muni_parts = [munis]

        # each municipality's own boundary relation, and its member ways
        at = np.minimum(np.searchsorted(codes, rel_code), m - 1)
        own_rel = np.flatnonzero((rel_kind == _ADMIN) & (codes[at] == rel_code))
        own_m = at[own_rel]
        which, ways = _expand(own_rel, rel_ptr, member_way)
        keep = ways >= 0
        way_parts.append(ways[keep])
        muni_parts.append(own_m[which][keep])
        way_sel, way_m = _unique_pairs(np.concatenate(way_parts), np.concatenate(muni_parts), m)

        # area relations with an included way, completed with all their member ways
        is_area = (member_way >= 0) & (rel_kind[member_rel] == _AREA)
        way_rel_ptr, way_rels = _csr(member_way[is_area], member_rel[is_area], n_ways)
        which, area_rel = _expand(way_sel, way_rel_ptr, way_rels)
        area_rel, area_m = _unique_pairs(area_rel, way_m[which], m)
        which, ways = _expand(area_rel, rel_ptr, member_way)
        keep = ways >= 0
        way_sel, way_m = _unique_pairs(
            np.concatenate([way_sel, ways[keep]]), np.concatenate([way_m, area_m[which][keep]]), m
        )

        # every node of the included ways
        which, nodes = _expand(way_sel, way_ptr, way_refs)
        keep = nodes >= 0
        node_sel, node_m = _unique_pairs(
            np.concatenate([inside_node, nodes[keep]]),
            np.concatenate([inside_m, way_m[which][keep]]),
            m,
        )

        # plain relations with an included node or way member
        is_plain = rel_kind[member_rel] == _PLAIN
        member_node = np.where(member_type == 0, node_lookup(member_ref), -1)
        rel_parts: list[IntArray] = [own_rel, area_rel]
        rel_munis: list[IntArray] = [own_m, area_m]
        for member, selected, sel_m, n in (
            (member_node, node_sel, node_m, len(node_ids)),
            (member_way, way_sel, way_m, n_ways),
        ):
            use = is_plain & (member >= 0)
            ptr, rels = _csr(member[use], member_rel[use], n)
            which, found = _expand(selected, ptr, rels)
            rel_parts.append(found)
            rel_munis.append(sel_m[which])
        rel_sel, rel_m = _unique_pairs(np.concatenate(rel_parts), np.concatenate(rel_munis), m)

        self.nodes = (node_sel, node_m)
        self.ways = (way_sel, way_m)
        self.relations = (rel_sel, rel_m)


# --------------------------------------------------------------------------- writing


def _int_array(values: IntArray) -> array[int]:
    result = array("q")
    result.frombytes(values.astype(np.int64).tobytes())
    return result


_Combos = dict[tuple[int, ...], int]
"""Groups of several municipalities (an object in several extracts) -> their number."""


class _Kind:
    """The selected objects of one kind, by file position, and where each one goes.

    ``group[k]`` is the index in the writer groups of the ``k``-th selected object: a
    municipality's own group (an object in one extract), or a group of several.
    """

    def __init__(
        self, ids: array[int], selection: tuple[IntArray, IntArray], combos: _Combos, m: int
    ) -> None:
        objects, munis = selection
        positions, first, counts = np.unique(objects, return_index=True, return_counts=True)
        self.ids = np.frombuffer(ids, dtype=np.int64)[positions]
        group = munis[first].astype(np.int64)
        for i in np.flatnonzero(counts > 1).tolist():
            combo = tuple(munis[first[i] : first[i] + counts[i]].tolist())
            group[i] = m + combos.setdefault(combo, len(combos))
        self.fast_ids = _int_array(self.ids)  # faster to index than numpy
        self.group = _int_array(group)
        self.next = 0

    def find(self, osm_id: int) -> int:
        """Return the selection index of the next object, whose id is ``osm_id``."""
        k = self.next
        if k >= len(self.fast_ids) or self.fast_ids[k] != osm_id:
            k = int(np.flatnonzero(self.ids == osm_id)[0])  # a repeated id
        self.next = k + 1
        group: int = self.group[k]
        return group


class _Dispatch(osmium.SimpleHandler):
    """Write each selected object into its municipalities' files.

    The objects come in file order and the selection is sorted by file position, so
    the k-th selected object of a kind is the k-th one osmium's id filter lets through
    (checked by id: a repeated id is looked up).
    """

    def __init__(self, writers: list[osmium.SimpleWriter], data: _Everything, sel: _Selection):
        super().__init__()
        m, combos = len(writers), _Combos()
        self.nodes = _Kind(data.node_ids, sel.nodes, combos, m)
        self.ways = _Kind(data.way_ids, sel.ways, combos, m)
        self.relations = _Kind(data.rel_ids, sel.relations, combos, m)
        self.groups = [[writer] for writer in writers]
        self.groups += [[writers[i] for i in combo] for combo in combos]  # in insertion order

    def node(self, node: osmium.osm.Node) -> None:
        for writer in self.groups[self.nodes.find(node.id)]:
            writer.add_node(node)

    def way(self, way: osmium.osm.Way) -> None:
        for writer in self.groups[self.ways.find(way.id)]:
            writer.add_way(way)

    def relation(self, rel: osmium.osm.Relation) -> None:
        for writer in self.groups[self.relations.find(rel.id)]:
            writer.add_relation(rel)


def _header(
    source: osmium.io.Header, bounds: tuple[float, float, float, float]
) -> osmium.io.Header:
    """Header of an extract: the regional file's replication data and the cut's box."""
    header = osmium.io.Header()
    header.set("generator", "geo_ip.batch.osm_cut")
    for key in ("timestamp", "sequence_number", "base_url"):
        if value := source.get(f"osmosis_replication_{key}"):
            header.set(f"osmosis_replication_{key}", value)
    header.add_box(osmium.osm.Box(*bounds))
    return header


def _buffered(boundaries: gpd.GeoDataFrame, margin_m: float) -> tuple[list[int], gpd.GeoSeries]:
    """Codes and polygons (EPSG:4326) of the usable boundaries, buffered by the margin."""
    usable = boundaries[
        (boundaries["erro"].fillna("").astype(str) == "")
        & boundaries.geometry.notna()
        & ~boundaries.geometry.is_empty
    ]
    merged = usable.dissolve(by="codigo_ibge", sort=True).geometry.to_crs("EPSG:4326")
    if margin_m > 0 and len(merged):
        x0, y0, x1, y1 = merged.total_bounds.tolist()  # the UTM zone of the middle
        zone = min(int(((x0 + x1) / 2 + 180) // 6) + 1, 60)
        utm = f"EPSG:{(32700 if y0 + y1 < 0 else 32600) + zone}"
        merged = merged.to_crs(utm).buffer(margin_m).to_crs("EPSG:4326")
    return [int(code) for code in merged.index], merged


def cut_municipalities(
    pbf: str | Path,
    boundaries: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    margin_m: float = 500.0,
) -> dict[int, Path]:
    """Write one OSM extract per municipality, in few passes over the regional file.

    The extract of a municipality (``<out_dir>/<codigo_ibge>.osm.pbf``) holds the nodes
    inside its boundary buffered by ``margin_m``, the ways through them with all their
    nodes, its own boundary relation complete, area relations (multipolygons, districts)
    with an included way, completed, and other relations with an included member (see
    the module's notes). The first pass reads every node's location, way's node list and
    relation's members into arrays; the second writes the files, :data:`MAX_OPEN_FILES`
    at a time (one pass per group: a state of 853 municipalities takes 4). Objects
    keep the regional file's order (sorted, when it is); each file is written to a
    temporary name and moved into place; the header keeps the regional file's
    replication timestamp.

    Parameters
    ----------
    pbf : str or Path
        The regional OSM file.
    boundaries : geopandas.GeoDataFrame
        :func:`find_municipalities`'s result (``codigo_ibge``, ``erro``, geometry); rows
        with an error or without geometry are skipped.
    out_dir : str or Path
        Folder of the extracts (created when missing).
    margin_m : float, default 500.0
        Buffer of each boundary, in metres (a UTM projection), so that streets along the
        boundary and their surroundings stay in the extract.

    Returns
    -------
    dict of int to Path
        The extract of each municipality written, by IBGE code.

    Raises
    ------
    InputFileError
        (:class:`~geo_ip.errors.OsmError`) If the file is missing, empty or not OSM;
        :class:`~geo_ip.errors.InputFileError` when ``out_dir`` cannot be written.
    """
    path = check_osm_file(pbf)
    out_dir = Path(out_dir)
    codes, polygons = _buffered(boundaries, margin_m)
    if not codes:
        log.info("%s: nenhum limite municipal utilizável; nenhum recorte escrito", path)
        return {}
    started = time.perf_counter()
    data = _Everything()
    try:
        data.apply_file(str(path))
    except RuntimeError as exc:
        raise unreadable(path, exc) from exc
    read = time.perf_counter()
    targets = {code: out_dir / f"{code}.osm.pbf" for code in codes}
    with osmium.io.Reader(str(path), osmium.osm.NOTHING) as reader:
        source = reader.header()
    shapes = list(polygons)
    # a state has hundreds of municipalities: at most MAX_OPEN_FILES extracts are
    # written per pass (open files and their buffers), one more pass per group
    for start in range(0, len(codes), MAX_OPEN_FILES):
        group = slice(start, start + MAX_OPEN_FILES)
        selection = _Selection(data, shapes[group], np.asarray(codes[group], dtype=np.int64))
        _write_group(path, source, data, selection, [targets[c] for c in codes[group]],
                     shapes[group])  # fmt: skip
    log.info(
        "%s: %d recortes municipais em %s (leitura %.1f s, seleção e escrita %.1f s)",
        path,
        len(targets),
        out_dir,
        read - started,
        time.perf_counter() - read,
    )
    return targets


def _write_group(
    path: Path,
    source: osmium.io.Header,
    data: _Everything,
    selection: _Selection,
    targets: list[Path],
    polygons: list[shapely.Geometry],
) -> None:
    """Write the extracts of one group of municipalities in one pass over the file."""
    with ExitStack() as stack:
        writers = []
        for target, polygon in zip(targets, polygons, strict=True):
            tmp = stack.enter_context(atomic_path(target))
            file = osmium.io.File(str(tmp), "pbf")
            header = _header(source, tuple(shapely.bounds(polygon).tolist()))
            writers.append(stack.enter_context(osmium.SimpleWriter(file, _WRITER_BUFFER, header)))
        dispatch = _Dispatch(writers, data, selection)
        filters = [
            id_filter(dispatch.nodes.ids.tolist(), osmium.osm.NODE),
            id_filter(dispatch.ways.ids.tolist(), osmium.osm.WAY),
            id_filter(dispatch.relations.ids.tolist(), osmium.osm.RELATION),
        ]
        try:
            with osmium.io.Reader(str(path)) as reader:
                osmium.apply(reader, *filters, dispatch)
        except RuntimeError as exc:
            raise unreadable(path, exc) from exc
