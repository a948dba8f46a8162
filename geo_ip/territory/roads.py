"""The territory's road layer: read from OSM (in a helper process when large), classified.

:class:`RoadReading` reads the road graph of an OSM file as arrays, in a helper process
when the file is large, while the main process reads the other layers; it also gives the
betweenness the helper computed meanwhile. :func:`road_tables` turns either source (the
arrays of a file, or an osmnx graph fetched online) into node and edge tables with their
connected components, and :func:`classify_roads` adds the hierarchy (Art. 9 §8) and the
rural flag the municipality's rules define.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo_ip._util import parallel as _parallel
from geo_ip._util.atomic import release_freed_memory
from geo_ip.network.betweenness import STORED_COLUMNS, betweenness_record, edge_betweenness
from geo_ip.rules.config import Rules
from geo_ip.sources.catalog import RoadsLayer
from geo_ip.sources.osm_arrays import RoadArrays, read_job, read_road_arrays

# osmnx is imported in the functions that use it: with matplotlib it takes half a
# second, which every process reading a territory (each helper too) would pay

log = logging.getLogger(__name__)

__all__ = [
    "PARALLEL_OSM_BYTES",
    "RoadReading",
    "RoadTables",
    "classify_roads",
    "flatten_lists",
    "tables_from_arrays",
    "tables_from_graph",
]


def classify_roads(
    edges: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    rules: Rules,
    urban: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, str]:
    """Add ``hierarquia`` and ``rural`` to projected road edges.

    Both are rules of the municipality: the hierarchy is the crosswalk of
    ``[hierarquia_viaria]`` (Art. 9 §8), and the rural rule of ``[via_rural]``
    (:class:`geo_ip.rules.road_rules.RuralRoads`) is: outside the mapped urban area
    when the data maps it (a ``landuse=residential`` polygon exists); otherwise
    track/unclassified far from built-up areas (buildings, addresses or a dense mesh
    of junctions).

    Parameters
    ----------
    edges : GeoDataFrame
        Road edges in a metric CRS, with a ``highway`` column.
    nodes : GeoDataFrame
        Graph nodes, same CRS, with ``street_count``.
    rules : Rules
        Municipality rules (``hierarquia_viaria`` and ``via_rural``).
    urban : GeoDataFrame
        Urban landuse polygons with a ``landuse`` column, same CRS (may be empty).
    buildings : GeoDataFrame
        Building and address points, same CRS (may be empty).

    Returns
    -------
    edges : GeoDataFrame
        Copy with ``hierarquia`` (principal/secundaria/local) and ``rural`` (bool).
    rule : str
        Which branch of the rural rule was applied (Portuguese, for metadata).
    """
    edges = edges.copy(deep=False)  # the new columns only: the caller's frame is left alone
    highway = edges["highway"].astype(object).map(str)
    hierarchy = rules.hierarquia_viaria
    edges["hierarquia"] = highway.map({h: hierarchy.hierarchy_of(h) for h in highway.unique()})
    rule = rules.via_rural
    margin = rule.margem_area_urbana_m.valor
    mid = edges.geometry.interpolate(0.5, normalized=True).values
    if len(urban) and (urban["landuse"] == rule.landuse_que_define_area_urbana).any():
        area = shapely.union_all(urban.geometry.buffer(margin).values)
        shapely.prepare(area)
        edges["rural"] = ~shapely.contains(area, mid)
        return edges, (
            "área urbana mapeada no OSM: é rural a via cujo ponto médio fica fora dos "
            f"polígonos landuse urbanos ampliados de {margin:g} m"
        )
    near, radius = rule.distancia_edificacao_m.valor, rule.raio_cruzamentos_m.valor
    least = rule.cruzamentos_minimos.valor
    built = np.zeros(len(edges), dtype=bool)
    if len(buildings):
        tree = shapely.STRtree(buildings.geometry.values)
        hit, _ = tree.query(mid, predicate="dwithin", distance=near)
        built[hit] = True
    junctions = nodes.geometry.values[nodes["street_count"].to_numpy() >= 3]
    if len(junctions):
        tree = shapely.STRtree(junctions)
        hit, _ = tree.query(mid, predicate="dwithin", distance=radius)
        built |= np.bincount(hit, minlength=len(edges)) >= least
    candidate = edges["highway"].isin(rule.highway_candidatos).to_numpy()
    edges["rural"] = candidate & ~built
    return edges, (
        f"sem área urbana mapeada (landuse={rule.landuse_que_define_area_urbana}) no OSM: é "
        f"rural a via {'/'.join(rule.highway_candidatos)} sem edificação ou endereço a menos "
        f"de {near:g} m e com menos de {least:g} cruzamentos num raio de {radius:g} m"
    )


def _components(graph: nx.MultiDiGraph, max_edges: int) -> tuple[dict[Any, int], set[int]]:
    """Weakly connected components: node → component id (0 = largest), and the small ones."""
    comps = sorted(nx.weakly_connected_components(graph), key=lambda c: (-len(c), min(c)))
    node_comp = {n: i for i, comp in enumerate(comps) for n in comp}
    sizes = np.bincount(
        [node_comp[u] for u, _v, _k in graph.edges(keys=True)], minlength=len(comps)
    )
    small = {i for i, n in enumerate(sizes) if n <= max_edges}
    return node_comp, small


RoadTables = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray, set[int]]


def tables_from_graph(graph: nx.MultiDiGraph, max_edges: int) -> RoadTables:
    """Nodes, edges (EPSG:4326), component of each node and edge, small components."""
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph)
    node_comp, small = _components(graph, max_edges)
    node_c = nodes.index.map(node_comp).to_numpy(dtype="int64")
    edge_c = edges.index.get_level_values("u").map(node_comp).to_numpy(dtype="int64")
    return nodes, edges, node_c, edge_c, small


def tables_from_arrays(roads: RoadArrays, max_edges: int) -> RoadTables:
    """:func:`tables_from_graph` of the array-built road graph."""
    node_comp, small = roads.components(max_edges)
    edges = roads.edges_frame()
    merged = np.flatnonzero([isinstance(x, list) for x in roads.osmid])
    if len(merged):
        osmid = edges["osmid"].to_numpy(dtype=object).copy()
        osmid[merged] = [flatten_lists(x) for x in osmid[merged]]
        edges["osmid"] = osmid
    return roads.nodes_frame(), edges, node_comp, node_comp[roads.u_row], small


PARALLEL_OSM_BYTES = 3_000_000
"""OSM PBF files at least this large have their road graph read in a helper process
while the main one reads the other layers (both cores). Measured on the synthetic PBF
files of the benchmarks (denser than real extracts: a 3 MB one holds about 400k road
edges), reading the roads at this size takes some 8 s against about 2 s to start the
helper and pickle the arrays back; below, the helper would cost more than it saves."""


_XML_FACTOR = 10
"""An XML (or compressed XML) file holds about this many times fewer elements per
byte than a PBF: its threshold is :data:`PARALLEL_OSM_BYTES` times this."""


def _start_road_helper(path: Path, roads: RoadsLayer, sample: int) -> _parallel.Running | None:
    """Start :func:`_road_job` in a helper process, when the file is large.

    ``_road_job`` is looked up when called: a test puts a failing one in its place.
    """
    factor = 1 if path.name.lower().endswith(".pbf") else _XML_FACTOR
    if _parallel.cores() < 2 or path.stat().st_size < PARALLEL_OSM_BYTES * factor:
        return None
    return _parallel.start(
        _road_job, roads, [(path, sample)], what="vias do OSM e sua intermediação"
    )


_HelperRoads = tuple[RoadArrays, list[logging.LogRecord]]


def _road_job(roads: RoadsLayer, job: tuple[Path, int]) -> Iterator[Any]:
    """Read the road graph, yield it, then yield the betweenness of its network.

    Run in the road helper (:func:`_start_road_helper`): the caller takes the road
    graph the moment it is read and goes on with the other layers while the helper,
    still holding the graph, computes the betweenness on the second core.

    Parameters
    ----------
    roads : RoadsLayer
        The ``vias`` entry of the layer catalog.
    job : tuple of (Path, int)
        The OSM file and the number of betweenness sources.

    Yields
    ------
    tuple
        First ``(arrays, log records)`` as :func:`geo_ip.sources.osm_arrays.read_job` returns
        them, then ``(betweenness, percentile)`` per edge of ``arrays``, as
        :func:`geo_ip.network.betweenness.edge_betweenness` returns them (seed 0).
    """
    path, sample = job
    arrays, records = read_job(roads, path)
    edges = pd.DataFrame({"u": arrays.u, "v": arrays.v, "length": arrays.length})
    yield arrays, records
    # the caller has the graph: keep only what the betweenness needs, beside its memory
    del arrays, records
    release_freed_memory()
    yield edge_betweenness(edges, sample=sample, parallel=False)


class RoadReading:
    """The road graph of a large OSM file, read beside the other layers, and its betweenness.

    A helper process (:func:`_road_job`) reads the roads while the caller reads the
    other layers, hands the graph over and goes on to compute its betweenness on the
    second core, while the caller projects, classifies, attaches the grid and writes.
    Without a helper (small file, one core) or when it fails, the caller does the work
    itself: :meth:`arrays` reads the roads and :meth:`betweenness` returns ``None``.
    """

    def __init__(self, path: Path, roads: RoadsLayer, sample: int) -> None:
        self._path, self._roads, self._sample = path, roads, sample
        self._helper = _start_road_helper(path, roads, sample)
        self._parts = self._helper.parts() if self._helper is not None else iter(())
        self._ends: tuple[np.ndarray, np.ndarray] | None = None  # u, v of the helper's edges

    def arrays(self) -> RoadArrays:
        """Return the road graph (the helper's log replayed here), or read it here.

        Returns
        -------
        RoadArrays
            As :func:`geo_ip.sources.osm_arrays.read_road_arrays` returns it.
        """
        result: _HelperRoads | None = next(self._parts, None)
        if result is None:
            try:
                arrays = read_road_arrays(self._path, self._roads)
            except BaseException:
                self.stop()  # the same failure here: its error says it, once
                raise
            self._finish()  # the helper failed where this process did not: log why
            return arrays
        arrays, records = result
        for record in records:
            log.handle(record)
        self._ends = (arrays.u, arrays.v)
        return arrays

    def betweenness(self, vias: pd.DataFrame) -> dict[str, int] | None:
        """Store the helper's betweenness in ``vias``; ``None`` when there is none.

        Parameters
        ----------
        vias : pandas.DataFrame
            The ``vias`` layer, one row per edge of :meth:`arrays` in its order (checked
            on ``u`` and ``v``); :data:`geo_ip.network.betweenness.STORED_COLUMNS` are added.

        Returns
        -------
        dict or None
            The metadata record, as :func:`geo_ip.network.betweenness.add_betweenness`
            returns it; ``None`` when the caller must compute the betweenness (no
            helper, a failed one, or edges that do not match).
        """
        if self._ends is None:
            return None
        result = next(self._parts, None)
        self._finish()
        u, v = self._ends
        if result is None or not (np.array_equal(vias["u"], u) and np.array_equal(vias["v"], v)):
            return None
        vias[STORED_COLUMNS[0]], vias[STORED_COLUMNS[1]] = result
        return betweenness_record(vias, sample=self._sample)

    def _finish(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.collect()

    def stop(self) -> None:
        """Stop the helper if it still runs (the build failed); a no-op once collected."""
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.stop()


def flatten_lists(value: Any) -> Any:
    """Join a list value of osmnx (merged ways) with ``;``, as the array reader writes it."""
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    return value
