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
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmium.filter
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip.sources.catalog import RoadsLayer
from geo_ip.sources.osm import (
    _CRS,
    USEFUL_TAGS_WAY,
    _invalid,
    _no_roads,
    check_osm_file,
    highway_rank,
)
from geo_ip.sources.osm_edges import attributes, edge_keys, edge_lines, street_count
from geo_ip.sources.osm_topology import (
    PRECISION,
    UNDEFINED,
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    RawWays,
    chains,
    directed_edges,
    endpoints,
    located_nodes,
    oneway_flags,
    way_sequences,
)

# osmnx is imported in the functions that use it: with matplotlib it takes half a
# second, which every process reading a territory (each helper too) would pay

log = logging.getLogger(__name__)


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
        """Weakly connected components, numbered as :func:`geo_ip.territory.build._components`.

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
        import osmnx as ox

        return ox.graph_from_gdfs(self.nodes_frame(), self.edges_frame())


# --------------------------------------------------------------------------- reading


def _read(path: Path, roads: RoadsLayer) -> RawWays:
    """Read the accepted ways and their node references/locations."""
    grafo = roads.grafo
    keys = tuple(dict.fromkeys([*USEFUL_TAGS_WAY, *grafo.excluir]))
    way_ids: list[int] = []
    columns: dict[str, list[str | None]] = {key: [] for key in keys}
    ptr = [0]
    # typed arrays, not lists: 8 bytes a node reference, not an int object and a pointer
    refs, xs, ys = array("q"), array("q"), array("q")
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
    return RawWays(
        np.asarray(way_ids, dtype=np.int64),
        columns,
        np.asarray(ptr, dtype=np.int64),
        np.frombuffer(refs, dtype=np.int64),
        np.frombuffer(xs, dtype=np.int64),
        np.frombuffer(ys, dtype=np.int64),
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


def _build(raw: RawWays, roads: RoadsLayer, path: Path) -> RoadArrays:
    """Simplify the ways read into the road graph (:mod:`~geo_ip.sources.osm_topology` steps)."""
    if missing := int((raw.x == UNDEFINED).sum()):
        log.warning(
            "%s: %d nós de vias sem coordenadas (fora do recorte) foram ignorados", path, missing
        )
    node_id, node_x, node_y = located_nodes(raw)
    n = len(node_id)
    ways, w, nodes = way_sequences(raw, node_id)
    if not len(ways):
        raise _no_roads(roads.grafo, path)
    tag = {key: np.asarray(values, dtype=object)[ways] for key, values in raw.way_tags.items()}
    is_oneway, is_reversed = oneway_flags(tag)
    edges = directed_edges(w, nodes, is_oneway, is_reversed)
    endpoint, interior, pair_a, pair_b = endpoints(edges, tag["name"], n)
    found = chains(edges, endpoint, interior, pair_a, pair_b, n)
    keys, raw_keep, chain_keep, removed = edge_keys(edges, found, n)
    geometry, length = edge_lines(edges, found, raw_keep, chain_keep, (node_x, node_y))
    attrs = attributes(
        edges=edges,
        found=found,
        raw_keep=raw_keep,
        chain_keep=chain_keep,
        way_id=raw.way_id[ways],
        is_oneway=is_oneway,
        tag=tag,
        rank=highway_rank(roads.grafo),
    )
    final_src = np.concatenate([edges.src[raw_keep], found.src[chain_keep]])
    final_dst = np.concatenate([edges.dst[raw_keep], found.dst[chain_keep]])
    n_raw = len(edges.src)
    final_key = np.concatenate([keys[:n_raw][raw_keep], keys[n_raw:][chain_keep]])
    kept_nodes = np.flatnonzero(~removed)
    row = np.full(n, -1, dtype=np.int64)
    row[kept_nodes] = np.arange(len(kept_nodes))
    u_row, v_row = row[final_src], row[final_dst]
    return RoadArrays(
        node_id=node_id[kept_nodes],
        lon=node_x[kept_nodes] / PRECISION,
        lat=node_y[kept_nodes] / PRECISION,
        street_count=street_count(u_row, v_row, len(kept_nodes)),
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


__all__ = ["RoadArrays", "read_road_arrays"]
