"""Drivable road graph from OpenStreetMap, from a local file or downloaded online.

Local files (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.pbf``) are read with pyosmium:
only the ways accepted by the layer catalog's graph filter (``layers/vias.toml``,
``[grafo]``) and their nodes are kept and handed to osmnx, which builds and
simplifies the graph exactly as it does for Overpass downloads. Both paths then go
through one normalisation, so every edge carries the same attributes with scalar
values (see :func:`read_road_graph`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmium.filter
import requests
import shapely
from osmium.osm import mutable
from pyproj import Geod
from shapely import MultiPolygon, Polygon

from geo_ip.errors import OsmError, PlaceNotFoundError
from geo_ip.sources.catalog import GraphFilter, RoadsLayer

# osmnx is imported in the functions that use it: with matplotlib it takes half a
# second, which every process reading a territory (each helper too) would pay

log = logging.getLogger(__name__)

USEFUL_TAGS_WAY: tuple[str, ...] = (
    "name",
    "highway",
    "surface",
    "lit",
    "lanes",
    "maxspeed",
    "oneway",
    "ref",
    "service",
    "access",
    "bridge",
    "tunnel",
    "junction",
    "width",
)
"""OSM way tags copied to the graph edges (``osmnx.settings.useful_tags_way``)."""

SUPPORTED_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".pbf")
"""File name endings accepted by :func:`check_osm_file` (``.pbf`` covers ``.osm.pbf``)."""

JOIN = " / "
"""Separator of several distinct tag values on one simplified edge."""

_GEOD = Geod(ellps="WGS84")
_CRS = "EPSG:4326"
_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")
_MAGIC = {".bz2": (b"BZh", "bzip2"), ".gz": (b"\x1f\x8b", "gzip")}


def tag_dict(tags: osmium.osm.TagList, keep: Container[str] | None = None) -> dict[str, str]:
    """Return an osmium object's tags as a dict, only those whose key is in ``keep``.

    The iteration is bounded by ``len(tags)``: ``zip`` asks ``range`` first, so
    pyosmium's tag iterator is never asked past its end, whose ``StopIteration`` is a
    C++ exception through pybind11 — once per object it cost more than reading the
    tags (17 s → 7 s over the 650k tagged elements of the synthetic ~1M-edge file).

    Parameters
    ----------
    tags : osmium.osm.TagList
        The object's tags (``obj.tags``).
    keep : container of str, optional
        Keys to keep; every tag when ``None``.

    Returns
    -------
    dict of str to str
        Key to value.
    """
    pairs = (tag for _, tag in zip(range(len(tags)), tags, strict=False))
    if keep is None:
        return {tag.k: tag.v for tag in pairs}
    return {tag.k: tag.v for tag in pairs if tag.k in keep}


# --------------------------------------------------------------------------- files


def check_osm_file(path: str | Path) -> Path:
    """Check that a path names a readable OpenStreetMap file.

    Parameters
    ----------
    path : str or Path
        ``.osm`` (XML), ``.osm.bz2``, ``.osm.gz`` or ``.pbf`` / ``.osm.pbf`` file.

    Returns
    -------
    Path
        The same path, as a :class:`~pathlib.Path`.

    Raises
    ------
    OsmError
        If the file is missing, empty, has an unsupported extension, is not
        compressed as its extension says, or its header cannot be read as OSM.
        Truncation further into the file is only detected when it is read.
    """
    path = Path(path)
    if not path.exists():
        raise OsmError("arquivo OSM não encontrado", path=path)
    if not path.is_file():
        raise OsmError("não é um arquivo (é uma pasta?)", path=path)
    name = path.name.lower()
    if not name.endswith(SUPPORTED_SUFFIXES):
        raise OsmError(
            "extensão de arquivo OSM não suportada; use .osm, .osm.bz2, .osm.gz ou .osm.pbf",
            path=path,
        )
    if path.stat().st_size == 0:
        raise OsmError("arquivo OSM vazio (0 bytes)", path=path)
    for suffix, (magic, kind) in _MAGIC.items():
        if name.endswith(suffix):
            with path.open("rb") as file:
                if file.read(len(magic)) != magic:
                    raise OsmError(
                        f"a extensão indica compressão {kind}, mas o conteúdo não é {kind}",
                        path=path,
                    )
    try:
        with osmium.io.Reader(str(path), osmium.osm.NOTHING) as reader:
            reader.header()
    except RuntimeError as exc:
        raise _invalid(path, exc) from exc
    return path


def _invalid(path: Path, exc: Exception) -> OsmError:
    return OsmError(f"não é um arquivo OSM válido ou está truncado (detalhe: {exc})", path=path)


def osm_timestamp(path: str | Path) -> str | None:
    """Return the date of the data in an OSM file.

    Parameters
    ----------
    path : str or Path
        OSM file (any format accepted by :func:`check_osm_file`).

    Returns
    -------
    str or None
        The header option ``osmosis_replication_timestamp`` when present, else the
        newest object timestamp in the file, as ISO 8601 UTC
        (``"2020-08-12T19:31:51Z"``); None when neither is known.

    Raises
    ------
    OsmError
        If the file is not a readable OSM file.
    """
    path = check_osm_file(path)
    try:
        processor = osmium.FileProcessor(
            path, osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION
        )
        header = processor.header.get("osmosis_replication_timestamp", "")
        if header:
            try:
                return _iso(datetime.fromisoformat(header))
            except ValueError:
                log.warning("%s: data do cabeçalho ilegível (%r); usando os objetos", path, header)
        newest = max(
            (obj.timestamp for obj in processor if isinstance(obj, osmium.osm.OSMObject)),
            default=None,
        )
    except RuntimeError as exc:
        raise _invalid(path, exc) from exc
    # osmium reports a missing timestamp as the epoch
    if newest is None or newest.timestamp() <= 0:
        return None
    return _iso(newest)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- graph


@contextmanager
def _osmnx_way_tags() -> Iterator[None]:
    """Temporarily make osmnx copy :data:`USEFUL_TAGS_WAY` to the edges."""
    import osmnx as ox

    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *USEFUL_TAGS_WAY]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def _accepted_text(grafo: GraphFilter) -> str:
    excluded = ", ".join(f"{key}={'|'.join(values)}" for key, values in grafo.excluir.items())
    return f"highway={'|'.join(grafo.highway)}" + (f"; exceto {excluded}" if excluded else "")


def _no_roads(grafo: GraphFilter, path: Path | None = None, where: str = "") -> OsmError:
    return OsmError(
        f"nenhuma via para veículos encontrada{where} ({_accepted_text(grafo)})", path=path
    )


_WayRecord = tuple[int, dict[str, str], list[int]]


def _extract_roads(
    path: Path, grafo: GraphFilter
) -> tuple[dict[int, tuple[float, float]], dict[int, dict[str, str]], list[_WayRecord]]:
    """Read the accepted ways, their node locations and the useful node tags."""
    import osmnx as ox

    node_keys = set(ox.settings.useful_tags_node)
    coords: dict[int, tuple[float, float]] = {}
    node_tags: dict[int, dict[str, str]] = {}
    ways: list[_WayRecord] = []
    missing = 0
    tagged_nodes = osmium.filter.EmptyTagFilter()
    tagged_nodes.enable_for(osmium.osm.NODE)
    highway_ways = osmium.filter.KeyFilter("highway")
    highway_ways.enable_for(osmium.osm.WAY)
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(tagged_nodes)
        .with_filter(highway_ways)
    )
    try:
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                useful = tag_dict(obj.tags, node_keys)
                if useful:
                    node_tags[obj.id] = useful
                continue
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = tag_dict(obj.tags)
            if not grafo.accepts(tags):
                continue
            refs = []
            for node in obj.nodes:
                if node.location.valid():
                    coords[node.ref] = (node.lon, node.lat)
                    refs.append(node.ref)
                else:
                    missing += 1
            if len(refs) >= 2:
                ways.append((obj.id, tags, refs))
    except RuntimeError as exc:
        raise _invalid(path, exc) from exc
    if missing:
        log.warning(
            "%s: %d nós de vias sem coordenadas (fora do recorte) foram ignorados", path, missing
        )
    return coords, node_tags, ways


def _write_xml(
    target: Path,
    coords: dict[int, tuple[float, float]],
    node_tags: dict[int, dict[str, str]],
    ways: list[_WayRecord],
) -> None:
    """Write the filtered ways and their nodes as OSM XML (nodes first, sorted)."""
    with osmium.SimpleWriter(str(target)) as writer:
        for node_id in sorted(coords):
            writer.add_node(
                mutable.Node(id=node_id, location=coords[node_id], tags=node_tags.get(node_id, {}))
            )
        for way_id, tags, refs in sorted(ways, key=lambda way: way[0]):
            kept = {key: tags[key] for key in USEFUL_TAGS_WAY if key in tags}
            writer.add_way(mutable.Way(id=way_id, nodes=refs, tags=kept))


def read_road_graph(path: str | Path, roads: RoadsLayer) -> nx.MultiDiGraph:
    """Build the drivable road graph of an OSM file.

    Only the ways accepted by ``roads.grafo`` enter the graph; osmnx then builds it
    (one-way streets in one direction only, ``oneway``/``junction=roundabout`` as
    osmnx reads them), simplifies it and keeps every connected component, isolated
    rings included (left unsimplified: osmnx would drop them).

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.pbf`` / ``.osm.pbf`` file.
    roads : RoadsLayer
        The ``vias`` entry of the layer catalog (``load_catalog().vias``).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-style graph in EPSG:4326 (``G.graph["crs"]``). Nodes have ``x``,
        ``y`` and ``street_count``. Every edge has ``geometry`` (LineString from
        ``u`` to ``v``), ``length`` (geodesic, metres, WGS84), ``osmid`` (int, or
        sorted list of ints when several ways were merged), ``highway`` (one
        value: the most important of the merged ways, :func:`most_important`),
        ``oneway`` and ``reversed`` (bool) and the tags of :data:`USEFUL_TAGS_WAY`
        as str or None (distinct values of merged ways joined with ``" / "``).

    Raises
    ------
    OsmError
        If the file is missing, empty, of an unsupported kind, not OSM, truncated,
        or holds no way accepted by the catalog filter.
    """
    import osmnx as ox

    path = check_osm_file(path)
    start = time.perf_counter()
    coords, node_tags, ways = _extract_roads(path, roads.grafo)
    if not ways:
        raise _no_roads(roads.grafo, path)
    with tempfile.TemporaryDirectory(prefix="geo_ip_osm_") as tmp:
        xml = Path(tmp) / "vias.osm"
        _write_xml(xml, coords, node_tags, ways)
        with _osmnx_way_tags():
            graph = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    graph = _normalise_graph(_simplify(graph), roads)
    log.info(
        "%s: grafo viário com %d nós e %d arestas (%d vias OSM) em %.1f s",
        path,
        graph.number_of_nodes(),
        graph.number_of_edges(),
        len(ways),
        time.perf_counter() - start,
    )
    return graph


# --------------------------------------------------------------------------- normalisation


def _simplify(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Simplify the topology as osmnx does, but keep isolated rings and street names apart.

    osmnx's default drops every component that is a single closed ring (a loop
    street or roundabout cut off by the extract border, a closed block in an
    isolated subdivision); those are real roads, so they stay, unsimplified.

    A node where the street name changes stays a node (``edge_attrs_differ``): an
    edge never merges "Viaduto Leste-Oeste" with the "Avenida Radial Leste-Oeste"
    it continues, so every edge carries one name and a point placed on a street's
    edges lies on that street (about 3 % more nodes on Porto Alegre's extract).
    """
    import osmnx as ox

    return ox.simplify_graph(graph, remove_rings=False, edge_attrs_differ=["name"])


def highway_rank(grafo: GraphFilter) -> dict[str, int]:
    """Return the importance of each accepted ``highway`` value: its place in the filter.

    The filter lists the values from the most important to the least
    (``layers/vias.toml``, ``[grafo]``). The importance is a fact about the OSM
    data, apart from the legal hierarchy the territory gives every edge afterwards
    (:class:`geo_ip.rules.road_rules.RoadHierarchy`).

    Parameters
    ----------
    grafo : GraphFilter
        The graph filter of the ``vias`` layer.

    Returns
    -------
    dict of str to int
        0 for the most important value; see :func:`most_important`.
    """
    rank: dict[str, int] = {}
    for position, value in enumerate(grafo.highway):
        rank.setdefault(value, position)
    return rank


def most_important(highways: Iterable[str], rank: dict[str, int]) -> str | None:
    """Return the ``highway`` a simplified edge keeps of the ways it merges.

    Parameters
    ----------
    highways : iterable of str
        The values of the merged ways.
    rank : dict of str to int
        As :func:`highway_rank` returns it; a value not in it comes after all.

    Returns
    -------
    str or None
        The most important value (ties, which only unknown values have, by name);
        None when there is none.
    """
    values = set(highways)
    return min(values, key=lambda h: (rank.get(h, len(rank)), h)) if values else None


def joined(values: Iterable[Any]) -> str | None:
    """Return the distinct values of a tag on a simplified edge, sorted and joined.

    Parameters
    ----------
    values : iterable
        The values of the merged ways (no None).

    Returns
    -------
    str or None
        The distinct values as text, joined with :data:`JOIN`; None when there is none.
    """
    distinct = sorted({str(v) for v in values})
    return JOIN.join(distinct) if distinct else None


def _distinct(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]


def _normalise_edge(data: dict[str, Any], rank: dict[str, int]) -> None:
    """Make one edge's attributes scalar, in place (see :func:`read_road_graph`)."""
    osmids = sorted({int(v) for v in _distinct(data.get("osmid"))})
    data["osmid"] = osmids[0] if len(osmids) == 1 else osmids
    data["highway"] = most_important((str(v) for v in _distinct(data.get("highway"))), rank)
    for flag in ("oneway", "reversed"):
        if flag in data:
            data[flag] = all(bool(v) for v in _distinct(data[flag]))
    for key in USEFUL_TAGS_WAY:
        if key in ("highway", "oneway"):
            continue
        data[key] = joined(_distinct(data.get(key)))


def _normalise_graph(graph: nx.MultiDiGraph, roads: RoadsLayer) -> nx.MultiDiGraph:
    """Give every edge a geometry, a geodesic length and scalar attributes, in place."""
    import osmnx as ox

    graph.graph["crs"] = _CRS
    rank = highway_rank(roads.grafo)
    edges = list(graph.edges(keys=True, data=True))
    for _, _, _, data in edges:
        _normalise_edge(data, rank)

    # straight edges: osmnx leaves them without geometry
    straight = [(u, v, data) for u, v, _, data in edges if data.get("geometry") is None]
    if straight:
        xy = np.array(
            [
                [
                    (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                    (graph.nodes[v]["x"], graph.nodes[v]["y"]),
                ]
                for u, v, _ in straight
            ]
        )
        lines = np.asarray(shapely.linestrings(xy), dtype=object)
        for (_, _, data), line in zip(straight, lines, strict=True):
            data["geometry"] = line

    if edges:
        lengths = _geodesic_lengths([data["geometry"] for _, _, _, data in edges])
        for (_, _, _, data), length in zip(edges, lengths, strict=True):
            data["length"] = float(length)

    missing = [n for n, count in graph.nodes(data="street_count") if count is None]
    if missing:
        counts = ox.stats.count_streets_per_node(graph, nodes=missing)
        nx.set_node_attributes(graph, counts, name="street_count")
    return graph


def _geodesic_lengths(geometries: Iterable[shapely.LineString]) -> np.ndarray:
    """WGS84 geodesic length (m) of lon/lat linestrings, vectorised over all segments."""
    geoms = np.asarray(list(geometries), dtype=object)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    same = index[1:] == index[:-1]
    _, _, dist = _GEOD.inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    return np.bincount(index[:-1][same], weights=dist, minlength=len(geoms))


# --------------------------------------------------------------------------- online


def _overpass_filter(grafo: GraphFilter) -> str:
    """Overpass QL way filter equivalent to :meth:`GraphFilter.accepts`."""

    def alternatives(values: Iterable[str]) -> str:
        escaped = ("".join(f"\\\\{c}" if c in _REGEX_SPECIAL else c for c in v) for v in values)
        return "^(" + "|".join(escaped) + ")$"

    parts = [f'["highway"~"{alternatives(grafo.highway)}"]']
    parts += [f'["{key}"!~"{alternatives(values)}"]' for key, values in grafo.excluir.items()]
    return "".join(parts)


def _osmnx_error(exc: BaseException, name: str) -> bool:
    """Tell osmnx's error ``name`` by class name: osmnx._errors is private, with no alias."""
    return any(c.__name__ == name and c.__module__.startswith("osmnx") for c in type(exc).__mro__)


def fetch_place(
    place: str,
    roads: RoadsLayer,
    feature_tags: dict[str, bool | str | list[str]],
) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame, Polygon | MultiPolygon]:
    """Download a place's boundary, road graph and features from OpenStreetMap.

    Uses Nominatim and Overpass through osmnx, with osmnx's response cache.

    Parameters
    ----------
    place : str
        Place name understood by Nominatim, e.g. ``"Extrema, Minas Gerais, Brasil"``.
    roads : RoadsLayer
        The ``vias`` entry of the layer catalog; its graph filter becomes the
        Overpass query.
    feature_tags : dict
        osmnx ``tags`` of the other features to download (facilities, power...).

    Returns
    -------
    graph : networkx.MultiDiGraph
        The road graph, normalised exactly as by :func:`read_road_graph`.
    features : geopandas.GeoDataFrame
        osmnx features matching ``feature_tags`` (EPSG:4326), as returned by
        osmnx; empty when there are none.
    boundary : shapely Polygon or MultiPolygon
        The place's boundary (EPSG:4326).

    Raises
    ------
    PlaceNotFoundError
        If Nominatim does not find the place as an area.
    OsmError
        If the place has no drivable road or the OSM services cannot be reached.
    """
    import osmnx as ox

    try:
        area = ox.geocode_to_gdf(place)
    except requests.RequestException as exc:
        raise _offline(exc) from exc
    except (TypeError, ValueError) as exc:
        if _osmnx_error(exc, "ResponseStatusCodeError"):
            raise _offline(exc) from exc
        raise PlaceNotFoundError(
            f"local '{place}' não encontrado como área (polígono) no OpenStreetMap; "
            "confira a grafia, inclua o estado e o país (ex.: 'Extrema, Minas Gerais, Brasil') "
            "ou use um arquivo OSM local"
        ) from exc
    boundary = area.to_crs(_CRS).geometry.iloc[0]
    if not isinstance(boundary, Polygon | MultiPolygon):
        raise PlaceNotFoundError(f"local '{place}' não tem limite (polígono) no OpenStreetMap")
    try:
        with _osmnx_way_tags():
            graph = ox.graph_from_polygon(
                boundary,
                custom_filter=_overpass_filter(roads.grafo),
                retain_all=True,
                simplify=False,
            )
    except requests.RequestException as exc:
        raise _offline(exc) from exc
    except ValueError as exc:
        if _osmnx_error(exc, "InsufficientResponseError"):
            raise _no_roads(roads.grafo, where=f" em '{place}'") from exc
        if _osmnx_error(exc, "ResponseStatusCodeError"):
            raise _offline(exc) from exc
        raise
    graph = _normalise_graph(_simplify(graph), roads)
    try:
        features = ox.features_from_polygon(boundary, tags=feature_tags)
    except requests.RequestException as exc:
        raise _offline(exc) from exc
    except ValueError as exc:
        if _osmnx_error(exc, "ResponseStatusCodeError"):
            raise _offline(exc) from exc
        if not _osmnx_error(exc, "InsufficientResponseError"):
            raise
        log.warning("nenhuma feição OSM com as etiquetas pedidas em '%s'", place)
        features = gpd.GeoDataFrame(geometry=[], crs=_CRS)
    return graph, features, boundary


def _offline(exc: Exception) -> OsmError:
    return OsmError(
        f"falha ao consultar os serviços do OpenStreetMap (detalhe: {exc}); "
        "verifique a conexão ou use um arquivo OSM local"
    )
