"""Road graph of an OSM file as arrays: pyosmium straight into numpy, no networkx.

:func:`read_road_arrays` reads the ways accepted by the catalog's graph filter and
their node locations into flat numpy arrays and reproduces, with vectorised array
operations, the topology :func:`geo_ip.sources.osm.read_road_graph` gets from osmnx
(``graph_from_xml(bidirectional=False, simplify=False, retain_all=True)`` then
``simplify_graph(remove_rings=False, edge_attrs_differ=["name"])``) and the normalised
edge attributes of
:func:`geo_ip.sources.osm._normalise_edge`:

* a way's node references without a location (outside the extract) are dropped and
  consecutive repeated nodes collapsed; ways left with fewer than two located nodes
  add no edge (their located node stays, isolated, as in osmnx);
* one-way ways (osmnx's ``oneway`` values and ``junction=roundabout``) give edges in
  one direction only, reversed for ``oneway=-1``; the others give both directions;
* a node is an *endpoint* by osmnx's strict rules: it has a self-loop, no incoming or
  no outgoing edge, or not exactly two neighbours with 2 or 4 incident edges; and by
  its ``edge_attrs_differ`` rule for ``name``: its incident ways carry different names;
* every path from an endpoint through non-endpoint nodes to the next endpoint becomes
  one edge (geometry through the merged nodes; the first of parallel segments is the
  one kept, as osmnx does); edges between two endpoints stay as they are (parallel
  edges and self-loops included), and components without any endpoint (isolated
  rings) stay unsimplified;
* ``street_count`` is osmnx's ``count_streets_per_node`` of the simplified graph.

The arrays then give the edge and node tables the territory writes
(:meth:`RoadArrays.edges_frame`, :meth:`RoadArrays.nodes_frame`) and the weakly
connected components (:meth:`RoadArrays.components`) with scipy. ``tests/
test_osm_arrays.py`` checks the equivalence with the osmnx path on hand-built files
and on the Porto Alegre extract.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import osmium
import osmium.filter
import osmnx as ox
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip.sources.catalog import RoadsLayer
from geo_ip.sources.osm import (
    _CRS,
    _GEOD,
    JOIN,
    USEFUL_TAGS_WAY,
    _highway_rank,
    _invalid,
    _no_roads,
    check_osm_file,
)

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

_UNDEFINED = 2147483647
"""libosmium's fixed-point coordinate of a node reference without a location."""
_PRECISION = 10_000_000
"""libosmium's fixed-point coordinates per degree."""
_ONEWAY = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
"""``oneway`` values osmnx reads as one-way (``osmnx.graph._add_paths``)."""
_REVERSED = frozenset({"-1", "reverse", "T"})
"""``oneway`` values osmnx reads as one-way against the node order."""
_TAGS = tuple(key for key in USEFUL_TAGS_WAY if key != "oneway")
"""Edge tag columns (``oneway`` becomes osmnx's boolean)."""


@dataclass
class RoadArrays:
    """The simplified drivable road graph of an OSM file, as arrays (EPSG:4326).

    Attributes
    ----------
    node_id : ndarray of int64
        OSM id of each node (sorted).
    lon, lat : ndarray of float64
        Node coordinates (degrees).
    street_count : ndarray of int64
        Physical streets meeting at each node (osmnx's ``street_count``).
    u, v, key : ndarray of int64
        Edge ends (OSM node ids) and parallel-edge key (0, 1, ... per ``(u, v)``).
    u_row, v_row : ndarray of int64
        Edge ends as rows of the node arrays.
    geometry : ndarray of shapely.LineString
        Edge geometry from ``u`` to ``v`` through the merged nodes.
    length : ndarray of float64
        Geodesic length (m, WGS84).
    oneway, reversed : ndarray of bool
        osmnx's flags (all merged segments one-way / against the way's node order).
    osmid : ndarray of object
        Way id (int), or the sorted list of ids when several ways were merged.
    tags : dict of str to ndarray of object
        ``highway`` (the most important merged value) and the other tags of
        :data:`geo_ip.sources.osm.USEFUL_TAGS_WAY` but ``oneway`` (str or None; distinct
        values of merged ways joined with ``" / "``).
    ways : int
        OSM ways that gave edges.
    """

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    street_count: IntArray
    u: IntArray
    v: IntArray
    key: IntArray
    u_row: IntArray
    v_row: IntArray
    geometry: ObjArray
    length: FloatArray
    oneway: BoolArray
    reversed: BoolArray
    osmid: ObjArray
    tags: dict[str, ObjArray]
    ways: int

    @property
    def n_edges(self) -> int:
        """Number of (directed) edges."""
        return len(self.u)

    def edges_frame(self) -> gpd.GeoDataFrame:
        """Edges as ``osmnx.graph_to_gdfs`` gives them (index ``u, v, key``).

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``osmid``, ``oneway``, ``reversed``, ``length``, the tag
            columns and ``geometry``, in EPSG:4326.
        """
        data: dict[str, Any] = {
            "osmid": self.osmid,
            "oneway": self.oneway,
            "reversed": self.reversed,
            "length": self.length,
            **self.tags,
        }
        index = pd.MultiIndex.from_arrays([self.u, self.v, self.key], names=["u", "v", "key"])
        return gpd.GeoDataFrame(data, geometry=self.geometry, crs=_CRS, index=index)

    def nodes_frame(self) -> gpd.GeoDataFrame:
        """Nodes as ``osmnx.graph_to_gdfs`` gives them (index ``osmid``).

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``y``, ``x``, ``street_count`` and point ``geometry``, EPSG:4326.
        """
        index = pd.Index(self.node_id, name="osmid")
        data = {"y": self.lat, "x": self.lon, "street_count": self.street_count}
        return gpd.GeoDataFrame(
            data, geometry=shapely.points(self.lon, self.lat), crs=_CRS, index=index
        )

    def components(self, max_edges: int) -> tuple[IntArray, set[int]]:
        """Weakly connected components, numbered as :func:`geo_ip.territory.store._components`.

        Parameters
        ----------
        max_edges : int
            Components with at most this many edges are *small*.

        Returns
        -------
        node_component : ndarray of int64
            Component of each node (0 = most nodes; ties by smallest node id).
        small : set of int
            The small components.
        """
        n = len(self.node_id)
        matrix = coo_matrix((np.ones(self.n_edges), (self.u_row, self.v_row)), shape=(n, n))
        count, label = connected_components(matrix, directed=False)
        nodes = np.bincount(label, minlength=count)
        first = np.full(count, n, dtype=np.int64)
        np.minimum.at(first, label, np.arange(n))  # node ids are sorted: row order = id order
        order = np.lexsort((first, -nodes))
        number = np.empty(count, dtype=np.int64)
        number[order] = np.arange(count)
        node_comp = number[label]
        sizes = np.bincount(node_comp[self.u_row], minlength=count)
        return node_comp, {int(i) for i in np.flatnonzero(sizes <= max_edges)}

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the edge geometries as one coordinate array (fast), not one WKB each."""
        state = dict(self.__dict__)
        if len(self.geometry):
            state["geometry"] = shapely.to_ragged_array(self.geometry)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the edge geometries pickled by :meth:`__getstate__`."""
        if isinstance(state["geometry"], tuple):
            state["geometry"] = np.asarray(
                shapely.from_ragged_array(*state["geometry"]), dtype=object
            )
        self.__dict__.update(state)

    def to_graph(self) -> nx.MultiDiGraph:
        """Convert to a networkx MultiDiGraph (osmnx conventions).

        Returns
        -------
        networkx.MultiDiGraph
            Nodes with ``x``, ``y``, ``street_count``; edges with every column of
            :meth:`edges_frame`; ``graph["crs"]`` EPSG:4326.
        """
        return ox.graph_from_gdfs(self.nodes_frame(), self.edges_frame())


# --------------------------------------------------------------------------- reading


@dataclass
class _Raw:
    way_id: IntArray  # (W,) accepted ways, file order
    way_tags: dict[str, list[str | None]]  # tag -> value per way
    way_ptr: IntArray  # (W + 1,) into refs
    ref: IntArray  # (R,) node ids
    x: IntArray  # (R,) fixed-point lon (_UNDEFINED when unknown)
    y: IntArray


def _read(path: Path, roads: RoadsLayer) -> _Raw:
    """Read the accepted ways and their node references/locations."""
    grafo = roads.grafo
    keys = tuple(dict.fromkeys([*USEFUL_TAGS_WAY, *grafo.excluir]))
    way_ids: list[int] = []
    columns: dict[str, list[str | None]] = {key: [] for key in keys}
    ptr = [0]
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    ways = osmium.filter.TagFilter(*(("highway", value) for value in grafo.highway))
    ways.enable_for(osmium.osm.WAY)
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(ways)
    )
    try:
        for way in processor:
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = way.tags
            found = {key: tags.get(key) for key in keys}
            if any(found[key] in values for key, values in grafo.excluir.items()):
                continue
            way_ids.append(way.id)
            for key in keys:
                columns[key].append(found[key])
            for node in way.nodes:
                refs.append(node.ref)
                xs.append(node.x)
                ys.append(node.y)
            ptr.append(len(refs))
    except RuntimeError as exc:
        raise _invalid(path, exc) from exc
    return _Raw(
        np.asarray(way_ids, dtype=np.int64),
        columns,
        np.asarray(ptr, dtype=np.int64),
        np.asarray(refs, dtype=np.int64),
        np.asarray(xs, dtype=np.int64),
        np.asarray(ys, dtype=np.int64),
    )


def read_road_arrays(path: str | Path, roads: RoadsLayer) -> RoadArrays:
    """Build the drivable road graph of an OSM file as arrays.

    The same graph as :func:`geo_ip.sources.osm.read_road_graph` (same edges, ends,
    geometries, lengths and attributes; see the module docstring), in a fraction
    of its time and memory: a whole state's network fits the territory build.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.pbf`` / ``.osm.pbf`` file.
    roads : RoadsLayer
        The ``vias`` entry of the layer catalog (``load_catalog().vias``).

    Returns
    -------
    RoadArrays
        Nodes and edges in EPSG:4326.

    Raises
    ------
    OsmError
        If the file is missing, empty, of an unsupported kind, not OSM, truncated,
        or holds no way accepted by the catalog filter.
    """
    path = check_osm_file(path)
    start = time.perf_counter()
    raw = _read(path, roads)
    arrays = _build(raw, roads, path)
    log.info(
        "%s: grafo viário (arrays) com %d nós e %d arestas (%d vias OSM) em %.1f s",
        path,
        len(arrays.node_id),
        arrays.n_edges,
        arrays.ways,
        time.perf_counter() - start,
    )
    return arrays


class _Records(logging.Handler):
    """Keep the log records of a helper process, to replay them in the caller."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # picklable whatever the args
        record.exc_info = record.exc_text = None
        self.records.append(record)


def read_job(roads: RoadsLayer, path: Path) -> tuple[RoadArrays, list[logging.LogRecord]]:
    """Run :func:`read_road_arrays` in a helper process (:func:`geo_ip._util.parallel.start`).

    Parameters
    ----------
    roads : RoadsLayer
        The ``vias`` entry of the layer catalog.
    path : Path
        The OSM file.

    Returns
    -------
    arrays : RoadArrays
        As :func:`read_road_arrays` returns them.
    records : list of logging.LogRecord
        What the reading logged (INFO and above), for the caller to replay with
        the caller's logger's ``handle``.
    """
    handler = _Records()
    package = logging.getLogger("geo_ip")  # every geo_ip module logs under it
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    try:
        return read_road_arrays(path, roads), handler.records
    finally:
        package.removeHandler(handler)
        package.setLevel(level)


# --------------------------------------------------------------------------- topology


def _segments(ptr: IntArray) -> IntArray:
    """Segment number of each element of a CSR-like pointer array."""
    return np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))


def _build(raw: _Raw, roads: RoadsLayer, path: Path) -> RoadArrays:
    way_of_ref = _segments(raw.way_ptr)
    located = raw.x != _UNDEFINED
    if missing := int((~located).sum()):
        log.warning(
            "%s: %d nós de vias sem coordenadas (fora do recorte) foram ignorados", path, missing
        )
    # every located node of an accepted way is a graph node, even if its way adds no edge
    node_id, first_ref = np.unique(raw.ref[located], return_index=True)
    node_x = raw.x[located][first_ref]
    node_y = raw.y[located][first_ref]
    n_nodes = len(node_id)

    per_way = np.bincount(way_of_ref[located], minlength=len(raw.way_id))
    kept_way = per_way >= 2
    if not kept_way.any():
        raise _no_roads(roads.grafo, path)
    # the ways in id order (the order osmnx adds them), their located, de-duplicated nodes
    ways = np.flatnonzero(kept_way)
    ways = ways[np.argsort(raw.way_id[ways], kind="stable")]
    rank_of_way = np.full(len(raw.way_id), -1, dtype=np.int64)
    rank_of_way[ways] = np.arange(len(ways))
    take = located & (rank_of_way[way_of_ref] >= 0)
    sel = np.flatnonzero(take)
    sel = sel[np.argsort(rank_of_way[way_of_ref[sel]], kind="stable")]
    w = rank_of_way[way_of_ref[sel]]
    nodes = np.searchsorted(node_id, raw.ref[sel])
    fresh = np.ones(len(sel), dtype=bool)
    fresh[1:] = (w[1:] != w[:-1]) | (nodes[1:] != nodes[:-1])
    w, nodes = w[fresh], nodes[fresh]

    tag = {key: np.asarray(values, dtype=object)[ways] for key, values in raw.way_tags.items()}
    oneway_tag = tag["oneway"]
    is_oneway = np.fromiter((v in _ONEWAY for v in oneway_tag), dtype=bool, count=len(ways)) | (
        tag["junction"] == "roundabout"
    )
    is_reversed = is_oneway & np.fromiter(
        (v in _REVERSED for v in oneway_tag), dtype=bool, count=len(ways)
    )
    # reverse the node order of one-way ways against their drawing
    ptr = np.zeros(len(ways) + 1, dtype=np.int64)
    np.cumsum(np.bincount(w, minlength=len(ways)), out=ptr[1:])
    pos = np.arange(len(w))
    flip = is_reversed[w]
    pos[flip] = ptr[w[flip]] + ptr[w[flip] + 1] - 1 - pos[flip]
    ordered = np.empty_like(nodes)
    ordered[pos] = nodes
    nodes = ordered

    # raw edges in osmnx's insertion order: way by way, its forward edges, then back
    seg = np.flatnonzero(w[1:] == w[:-1])
    f_src, f_dst, f_way = nodes[seg], nodes[seg + 1], w[seg]
    back = ~is_oneway[f_way]
    src = np.concatenate([f_src, f_dst[back]])
    dst = np.concatenate([f_dst, f_src[back]])
    e_way = np.concatenate([f_way, f_way[back]])
    e_rev = np.concatenate([np.zeros(len(seg), bool), np.ones(int(back.sum()), bool)])
    e_seg = np.concatenate([seg, seg[back]])
    order = np.lexsort((e_seg, e_rev, e_way))
    src, dst, e_way, e_rev = src[order], dst[order], e_way[order], e_rev[order]

    # osmnx's strict endpoint rules
    n = n_nodes
    out_deg = np.bincount(src, minlength=n)
    in_deg = np.bincount(dst, minlength=n)
    pair = _unique(np.concatenate([src, dst]) * n + np.concatenate([dst, src]))
    pair_a, pair_b = pair // n, pair % n
    neighbours = np.bincount(pair_a, minlength=n)
    self_loop = np.zeros(n, dtype=bool)
    self_loop[src[src == dst]] = True
    degree = in_deg + out_deg
    # osmnx's edge_attrs_differ=["name"]: a node where the street name changes (a
    # missing name counts as a value of its own) stays an endpoint
    name_code = pd.factorize(pd.Series(tag["name"], dtype=object), use_na_sentinel=False)[0]
    at = np.concatenate([src, dst])
    code = np.tile(name_code[e_way], 2)
    low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n, -1, dtype=np.int64)
    np.minimum.at(low, at, code)
    np.maximum.at(high, at, code)
    renamed = (high >= 0) & (low != high)
    endpoint = (
        self_loop
        | (out_deg == 0)
        | (in_deg == 0)
        | ~((neighbours == 2) & ((degree == 2) | (degree == 4)))
        | renamed
    )
    # components without any endpoint (isolated rings) stay unsimplified
    matrix = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    count, label = connected_components(matrix, directed=False)
    has_end = np.bincount(label[endpoint], minlength=count) > 0
    interior = ~endpoint & has_end[label]

    chains_nodes, chains_edges, chain_ptr, chain_edge_ptr = _chains(
        src, dst, endpoint, interior, pair_a, pair_b, n
    )
    removed = np.zeros(n, dtype=bool)
    inner = np.ones(len(chains_nodes), dtype=bool)
    inner[chain_ptr[:-1]] = False
    inner[chain_ptr[1:] - 1] = False
    removed[chains_nodes[inner]] = True

    # final edges: raw edges first (their keys come first), then one per chain
    c_src = chains_nodes[chain_ptr[:-1]]
    c_dst = chains_nodes[chain_ptr[1:] - 1]
    all_src = np.concatenate([src, c_src])
    all_dst = np.concatenate([dst, c_dst])
    pair_key = all_src * n + all_dst
    by_pair = np.argsort(pair_key, kind="stable")
    sorted_key = pair_key[by_pair]
    group_start = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
    run = np.arange(len(sorted_key)) - np.repeat(
        group_start, np.diff(np.r_[group_start, len(sorted_key)])
    )
    keys = np.empty(len(pair_key), dtype=np.int64)
    keys[by_pair] = run
    keep = ~removed[all_src] & ~removed[all_dst]
    raw_keep = np.flatnonzero(keep[: len(src)])
    chain_keep = np.flatnonzero(keep[len(src) :])

    # geometry and lengths: raw edges are straight; chains go through their nodes
    c_len = np.diff(chain_ptr)[chain_keep]
    point_nodes = np.concatenate(
        [np.column_stack([src[raw_keep], dst[raw_keep]]).ravel(),
         chains_nodes[_ranges(chain_ptr[chain_keep], c_len)]]
    )  # fmt: skip
    counts = np.concatenate([np.full(len(raw_keep), 2), c_len])
    line_of_point = np.repeat(np.arange(len(counts)), counts)
    lon = node_x[point_nodes] / _PRECISION
    lat = node_y[point_nodes] / _PRECISION
    geometry = np.asarray(
        shapely.linestrings(np.column_stack([lon, lat]), indices=line_of_point), dtype=object
    )
    same = line_of_point[1:] == line_of_point[:-1]
    _, _, dist = _GEOD.inv(lon[:-1][same], lat[:-1][same], lon[1:][same], lat[1:][same])
    length = np.bincount(line_of_point[:-1][same], weights=dist, minlength=len(counts)).astype(
        np.float64
    )

    attrs = _attributes(
        raw_way=e_way[raw_keep],
        raw_rev=e_rev[raw_keep],
        chain_edges=chains_edges,
        chain_edge_ptr=chain_edge_ptr,
        chain_keep=chain_keep,
        e_way=e_way,
        e_rev=e_rev,
        way_id=raw.way_id[ways],
        is_oneway=is_oneway,
        tag=tag,
        roads=roads,
    )

    final_src = np.concatenate([src[raw_keep], c_src[chain_keep]])
    final_dst = np.concatenate([dst[raw_keep], c_dst[chain_keep]])
    final_key = np.concatenate([keys[: len(src)][raw_keep], keys[len(src) :][chain_keep]])
    kept_nodes = np.flatnonzero(~removed)
    row = np.full(n, -1, dtype=np.int64)
    row[kept_nodes] = np.arange(len(kept_nodes))
    u_row, v_row = row[final_src], row[final_dst]
    return RoadArrays(
        node_id=node_id[kept_nodes],
        lon=node_x[kept_nodes] / _PRECISION,
        lat=node_y[kept_nodes] / _PRECISION,
        street_count=_street_count(u_row, v_row, len(kept_nodes)),
        u=node_id[final_src],
        v=node_id[final_dst],
        key=final_key,
        u_row=u_row,
        v_row=v_row,
        geometry=geometry,
        length=length,
        oneway=attrs.pop("oneway"),
        reversed=attrs.pop("reversed"),
        osmid=attrs.pop("osmid"),
        tags=attrs,
        ways=len(ways),
    )


def _unique(values: IntArray) -> IntArray:
    """Return the sorted distinct values, by sorting.

    numpy 2.3+'s hash-based ``np.unique`` is several times slower on millions of
    int64 keys.
    """
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    fresh = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    return ordered[fresh]


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _chains(
    src: IntArray,
    dst: IntArray,
    endpoint: BoolArray,
    interior: BoolArray,
    pair_a: IntArray,
    pair_b: IntArray,
    n: int,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Paths from an endpoint through interior nodes to the next endpoint (osmnx's).

    Returns the chains' node sequences (flat, with ``chain_ptr``) and the raw edge
    used for each step (flat, with ``chain_edge_ptr``).
    """
    # the first raw edge of each (u, v) pair touching an interior node: osmnx keeps one
    touches = interior[src] | interior[dst]
    cand = np.flatnonzero(touches)
    cand_key = src[cand] * n + dst[cand]
    uniq_key, first = np.unique(cand_key, return_index=True)
    prim = cand[first]  # raw edge index of each unique pair, by pair key
    # interior nodes have exactly two neighbours: the next step goes to the other one
    first_pair = np.searchsorted(pair_a, np.arange(n))
    padded = np.r_[pair_b, -1, -1]
    nb0, nb1 = padded[first_pair], padded[first_pair + 1]
    p_src, p_dst = src[prim], dst[prim]
    into = interior[p_dst]
    other = np.where(nb0[p_dst] == p_src, nb1[p_dst], nb0[p_dst])
    want = p_dst * n + other
    at = np.minimum(np.searchsorted(uniq_key, want), len(uniq_key) - 1)
    nxt = np.where(into & (uniq_key[at] == want) & (len(uniq_key) > 0), at, -1)

    starts = np.flatnonzero(endpoint[p_src] & into)
    cur, chain = starts, np.arange(len(starts))
    steps_chain: list[IntArray] = []
    steps_edge: list[IntArray] = []
    steps_no: list[IntArray] = []
    step = 0
    while len(cur):
        steps_chain.append(chain)
        steps_edge.append(cur)
        steps_no.append(np.full(len(cur), step))
        go = ~endpoint[p_dst[cur]] & (nxt[cur] >= 0)
        cur, chain = nxt[cur[go]], chain[go]
        step += 1
        if step > len(prim) + 1:  # pragma: no cover - a chain cannot revisit an interior node
            raise RuntimeError("falha interna ao simplificar o grafo viário")
    if steps_chain:
        c = np.concatenate(steps_chain)
        e = np.concatenate(steps_edge)
        s = np.concatenate(steps_no)
        order = np.lexsort((s, c))
        c, e = c[order], e[order]
    else:
        c = e = np.zeros(0, dtype=np.int64)
    edge_ptr = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(c, minlength=len(starts)), out=edge_ptr[1:])
    # nodes: each chain's first source, then every step's destination
    node_ptr = edge_ptr + np.arange(len(starts) + 1)
    chain_nodes = np.empty(node_ptr[-1], dtype=np.int64)
    first_node = np.zeros(node_ptr[-1], dtype=bool)
    first_node[node_ptr[:-1]] = True
    chain_nodes[first_node] = p_src[e[edge_ptr[:-1]]] if len(starts) else []
    chain_nodes[~first_node] = p_dst[e]
    return chain_nodes, prim[e], node_ptr, edge_ptr


def _attributes(
    *,
    raw_way: IntArray,
    raw_rev: BoolArray,
    chain_edges: IntArray,
    chain_edge_ptr: IntArray,
    chain_keep: IntArray,
    e_way: IntArray,
    e_rev: BoolArray,
    way_id: IntArray,
    is_oneway: BoolArray,
    tag: dict[str, ObjArray],
    roads: RoadsLayer,
) -> dict[str, Any]:
    """Edge attributes normalised as :func:`geo_ip.sources.osm._normalise_edge` does."""
    n_raw, n_chain = len(raw_way), len(chain_keep)
    c_start, c_stop = chain_edge_ptr[:-1][chain_keep], chain_edge_ptr[1:][chain_keep]
    c_len = c_stop - c_start
    flat = _ranges(c_start, c_len)
    step_edge = chain_edges[flat]
    step_chain = np.repeat(np.arange(n_chain), c_len)
    step_way = e_way[step_edge]
    # all() over the merged segments
    oneway_c = np.ones(n_chain, dtype=bool)
    np.logical_and.at(oneway_c, step_chain, is_oneway[step_way])
    rev_c = np.ones(n_chain, dtype=bool)
    np.logical_and.at(rev_c, step_chain, e_rev[step_edge])

    # the distinct ways of each chain; most chains follow a single way
    pairs = _unique(step_chain * (len(way_id) + 1) + step_way)
    p_chain, p_way = pairs // (len(way_id) + 1), pairs % (len(way_id) + 1)
    n_ways = np.bincount(p_chain, minlength=n_chain)
    single = n_ways == 1
    chain_way = np.zeros(n_chain, dtype=np.int64)
    first_of = np.searchsorted(p_chain, np.arange(n_chain))
    chain_way[single] = p_way[first_of[single]]

    edge_way = np.concatenate([raw_way, chain_way])
    out: dict[str, Any] = {
        "oneway": np.concatenate([is_oneway[raw_way], oneway_c]),
        "reversed": np.concatenate([raw_rev, rev_c]),
    }
    osmid = np.asarray(way_id[edge_way], dtype=object)
    columns = {key: tag[key][edge_way] for key in _TAGS}
    multi = np.flatnonzero(~single)
    if len(multi):
        rank = _highway_rank(roads)
        fallback = (len(rank) + 1, 0)
        bounds = np.searchsorted(p_chain, np.r_[multi, multi + 1].reshape(2, -1))
        for chain, lo, hi in zip(
            multi.tolist(), bounds[0].tolist(), bounds[1].tolist(), strict=True
        ):
            members = p_way[lo:hi]
            i = n_raw + chain
            osmid[i] = sorted(int(x) for x in way_id[members])
            highways = {h for h in tag["highway"][members] if h is not None}
            columns["highway"][i] = (
                min(highways, key=lambda h: (rank.get(h, fallback), h)) if highways else None
            )
            for key in _TAGS:
                if key == "highway":
                    continue
                values = sorted({v for v in tag[key][members] if v is not None})
                columns[key][i] = JOIN.join(values) if values else None
    out["osmid"] = osmid
    out.update(columns)
    return out


def _street_count(u_row: IntArray, v_row: IntArray, n: int) -> IntArray:
    """Streets per node as osmnx counts them: undirected segments, self-loops once."""
    loop = u_row == v_row
    counts = np.zeros(n, dtype=np.int64)
    # a self-looping node: +2, however many loops
    counts[_unique(u_row[loop])] += 2
    a, b = u_row[~loop], v_row[~loop]
    # per unordered pair: keys of u->v and v->u merge, so max of the two counts
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    forward = a == lo
    key = lo * n + hi
    pairs, inverse = np.unique(key, return_inverse=True)
    k_fwd = np.bincount(inverse[forward], minlength=len(pairs))
    k_back = np.bincount(inverse[~forward], minlength=len(pairs))
    streets = np.maximum(k_fwd, k_back)
    np.add.at(counts, pairs // n, streets)
    np.add.at(counts, pairs % n, streets)
    return counts


__all__ = ["RoadArrays", "read_road_arrays"]
