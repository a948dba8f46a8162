"""Territory: one GeoPackage holding everything later steps need.

``build_territory`` reads OSM (file or place), the existing grid and an optional
DEM, classifies the road network (hierarchy, rural, small components), projects
everything to the municipality's SIRGAS 2000 / UTM CRS and writes one
GeoPackage atomically, with provenance metadata. Re-running with the same
inputs reuses the file; changed inputs rebuild it. ``load_graph`` rebuilds the
road graph from the GeoPackage alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from geo_ip._util import parallel as _parallel
from geo_ip._util.atomic import atomic_path, release_freed_memory
from geo_ip._util.paths import resource_dir
from geo_ip._util.version import __version__
from geo_ip.errors import DemError, GeoIPError, GridError, TerritoryError
from geo_ip.network.betweenness import (
    METADATA_KEY,
    STORED_COLUMNS,
    add_betweenness,
    betweenness_record,
    edge_betweenness,
)
from geo_ip.network.gridpath import ATTACHMENT_KEY, ATTACHMENT_TABLE, Attachment, GridNetwork
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION, file_record
from geo_ip.sources import dem as dem_mod
from geo_ip.sources import grid as grid_mod
from geo_ip.sources import osm as osm_mod
from geo_ip.sources import osm_features
from geo_ip.sources.catalog import Catalog, RoadsLayer, load_catalog
from geo_ip.sources.osm_arrays import RoadArrays, read_job, read_road_arrays

log = logging.getLogger(__name__)


ROAD_COLUMNS = [
    "u", "v", "key", "osmid", "name", "highway", "length", "surface", "lit", "lanes",
    "maxspeed", "oneway", "hierarquia", "rural", "componente", "componente_pequena",
    "declividade_pct", "geometry",
]  # fmt: skip
NODE_COLUMNS = ["osmid", "x", "y", "street_count", "componente", "elevacao_m", "geometry"]
GRID_COLUMNS = ["fonte", "tipo", "id_origem", "tensao_v", "geometry"]
LIGHT_COLUMNS = [
    "fonte", "id_origem", "poste_id", "potencia_w", "tipo_lampada", "energia_kwh_ano", "geometry",
]  # fmt: skip
LAYERS = (
    "vias", "nos", "rede_existente", "pontos_ip", "equipamentos", "equipamentos_pegada",
    "edificacoes", "area_urbana", "limite", "bairros", "bairros_area",
)  # fmt: skip
_FEATURE_LAYERS = (
    "equipamentos", "equipamentos_pegada", "edificacoes", "area_urbana", "limite", "bairros",
    "bairros_area",
)  # fmt: skip
"""Layers of :class:`geo_ip.sources.osm_features.OsmFeatures` copied (projected) here."""
METADATA_TABLE = "metadados"
EXTENT_MARGIN_M = 200.0
"""Margin around the road network that defines the territory's extent."""


@dataclass(frozen=True)
class GridSource:
    """One ``--grid`` input and its reading options."""

    path: Path
    tipo: str | None = None
    coluna_tipo: str | None = None
    crs: str | None = None


@dataclass
class TerritoryReport:
    """Summary of a territory build (or of the cached file reused)."""

    path: Path
    reused: bool
    crs: str
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- CRS


def choose_crs(lon: float, lat: float, rules: Rules | None = None) -> tuple[str, str | None]:
    """Choose the SIRGAS 2000 / UTM CRS for data centred at ``(lon, lat)``.

    Parameters
    ----------
    lon, lat : float
        Centre of the data in degrees (EPSG:4326).
    rules : Rules, optional
        Municipality rules; their ``municipio.crs`` wins when the data lies in
        that CRS's area of use.

    Returns
    -------
    crs : str
        ``"EPSG:<code>"``.
    warning : str or None
        A Portuguese warning when the rules' CRS had to be set aside.
    """
    warning = None
    if rules is not None and rules.municipio.crs:
        fixed = CRS.from_user_input(rules.municipio.crs)
        area = fixed.area_of_use
        if area is None or (area.west <= lon <= area.east and area.south <= lat <= area.north):
            return f"EPSG:{fixed.to_epsg()}", None
        warning = (
            f"os dados (centro {lat:.4f}, {lon:.4f}) estão fora da área de uso do CRS do "
            f"arquivo de regras ({rules.municipio.crs}, {rules.municipio.nome}); usando o fuso "
            "UTM SIRGAS 2000 da localização dos dados"
        )
    infos = query_utm_crs_info(
        datum_name="SIRGAS 2000",
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    zone = [i for i in infos if i.name.endswith("S" if lat < 0 else "N")] or infos
    if not zone:
        raise TerritoryError(
            f"não há fuso UTM SIRGAS 2000 para a posição ({lat:.4f}, {lon:.4f}): "
            "os dados estão fora da América do Sul?"
        )
    return f"EPSG:{zone[0].code}", warning


# ------------------------------------------------------------------ classification


def classify_roads(
    edges: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    roads: RoadsLayer,
    urban: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, str]:
    """Add ``hierarquia`` and ``rural`` to projected road edges.

    The rural rule is documented in ``layers/vias.toml``: outside the mapped
    urban area when the data maps it (a ``landuse=residential`` polygon
    exists); otherwise track/unclassified far from built-up areas (buildings,
    addresses or a dense mesh of junctions).

    Parameters
    ----------
    edges : GeoDataFrame
        Road edges in a metric CRS, with a ``highway`` column.
    nodes : GeoDataFrame
        Graph nodes, same CRS, with ``street_count``.
    roads : RoadsLayer
        Catalog entry of the roads layer (crosswalk and rural rule).
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
    edges = edges.copy()
    highway = edges["highway"].astype(object).map(str)
    edges["hierarquia"] = highway.map({h: roads.hierarchy_of(h) for h in highway.unique()})
    rule = roads.rural
    mid = edges.geometry.interpolate(0.5, normalized=True).values
    if len(urban) and (urban["landuse"] == rule.landuse_que_define_area_urbana).any():
        area = shapely.union_all(urban.geometry.buffer(rule.margem_area_urbana_m).values)
        shapely.prepare(area)
        edges["rural"] = ~shapely.contains(area, mid)
        return edges, (
            "área urbana mapeada no OSM: é rural a via cujo ponto médio fica fora dos "
            f"polígonos landuse urbanos ampliados de {rule.margem_area_urbana_m:g} m"
        )
    built = np.zeros(len(edges), dtype=bool)
    if len(buildings):
        tree = shapely.STRtree(buildings.geometry.values)
        hit, _ = tree.query(mid, predicate="dwithin", distance=rule.distancia_edificacao_m)
        built[hit] = True
    junctions = nodes.geometry.values[nodes["street_count"].to_numpy() >= 3]
    if len(junctions):
        tree = shapely.STRtree(junctions)
        hit, _ = tree.query(mid, predicate="dwithin", distance=rule.raio_cruzamentos_m)
        built |= np.bincount(hit, minlength=len(edges)) >= rule.cruzamentos_minimos
    candidate = edges["highway"].isin(rule.highway_candidatos).to_numpy()
    edges["rural"] = candidate & ~built
    return edges, (
        f"sem área urbana mapeada (landuse={rule.landuse_que_define_area_urbana}) no OSM: é "
        f"rural a via {'/'.join(rule.highway_candidatos)} sem edificação ou endereço a menos "
        f"de {rule.distancia_edificacao_m:g} m e com menos de {rule.cruzamentos_minimos} "
        f"cruzamentos num raio de {rule.raio_cruzamentos_m:g} m"
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


_RoadTables = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray, set[int]]


def _tables_from_graph(graph: nx.MultiDiGraph, max_edges: int) -> _RoadTables:
    """Nodes, edges (EPSG:4326), component of each node and edge, small components."""
    nodes, edges = ox.graph_to_gdfs(graph)
    node_comp, small = _components(graph, max_edges)
    node_c = nodes.index.map(node_comp).to_numpy(dtype="int64")
    edge_c = edges.index.get_level_values("u").map(node_comp).to_numpy(dtype="int64")
    return nodes, edges, node_c, edge_c, small


def _tables_from_arrays(roads: RoadArrays, max_edges: int) -> _RoadTables:
    """:func:`_tables_from_graph` of the array-built road graph."""
    node_comp, small = roads.components(max_edges)
    edges = roads.edges_frame()
    merged = np.flatnonzero([isinstance(x, list) for x in roads.osmid])
    if len(merged):
        osmid = edges["osmid"].to_numpy(dtype=object).copy()
        osmid[merged] = [_flatten(x) for x in osmid[merged]]
        edges["osmid"] = osmid
    return roads.nodes_frame(), edges, node_comp, node_comp[roads.u_row], small


# ------------------------------------------------------------------------ helpers

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
    """Start :func:`_road_job` in a helper process, when the file is large."""
    factor = 1 if path.name.lower().endswith(".pbf") else _XML_FACTOR
    if _parallel.cores() < 2 or path.stat().st_size < PARALLEL_OSM_BYTES * factor:
        return None
    return _parallel.start(
        _ROAD_JOB, roads, [(path, sample)], what="vias do OSM e sua intermediação"
    )


_HelperRoads = tuple[RoadArrays, list[logging.LogRecord]]
_ROAD_JOB = "geo_ip.territory.store._road_job"
"""Dotted path of the road helper's function (a test puts a failing one in its place)."""


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


class _RoadReading:
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


def _catalog_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(resource_dir("layers").glob("*.toml")):
        h.update(p.read_bytes())
    return h.hexdigest()


def _source_record(kind: str, path: Path, **extra: Any) -> dict[str, Any]:
    return file_record(kind, path, resolve=True, **extra)


def _ensure(gdf: gpd.GeoDataFrame, columns: Sequence[str], crs: str) -> gpd.GeoDataFrame:
    """Select ``columns`` (adding missing ones as empty) and set the CRS."""
    gdf = gdf.copy()
    for col in columns:
        if col not in gdf.columns:
            gdf[col] = None
    return gpd.GeoDataFrame(gdf[list(columns)], geometry="geometry", crs=gdf.crs).to_crs(crs)


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    return value


def _read_metadata(path: Path) -> dict[str, Any]:
    df = pyogrio.read_dataframe(path, layer=METADATA_TABLE, read_geometry=False)
    return {row.chave: json.loads(row.valor) for row in df.itertuples()}


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read the provenance metadata of a territory GeoPackage.

    Parameters
    ----------
    path : str or Path
        Territory GeoPackage.

    Returns
    -------
    dict
        Keys such as ``versao_ferramenta``, ``crs``, ``fontes``, ``contagens``.

    Raises
    ------
    TerritoryError
        If the file is missing or has no metadata table.
    """
    path = Path(path)
    if not path.is_file():
        raise TerritoryError("território não encontrado", path=path)
    try:
        return _read_metadata(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise TerritoryError(
            f"não é um território do geo_ip (falta a tabela '{METADATA_TABLE}')", path=path
        ) from exc


OPTIONAL_LAYER_COLUMNS: dict[str, list[str]] = {
    "rede_existente": GRID_COLUMNS,
    "pontos_ip": LIGHT_COLUMNS,
    "equipamentos": ["osm_id", "categoria", "grupo", "vulneravel", "nome", "geometry"],
    "equipamentos_pegada": ["osm_id", "categoria", "nome", "geometry"],
    "edificacoes": ["osm_id", "tipo", "logradouro", "numero", "bairro", "cep", "geometry"],
}
"""Layers later steps can do without, and their columns when absent (see :func:`read_layer`)."""


def layer_names(path: str | Path) -> set[str]:
    """Return the names of the layers of a territory GeoPackage.

    Parameters
    ----------
    path : str or Path
        Territory GeoPackage.

    Returns
    -------
    set of str
        Its layers and tables.

    Raises
    ------
    TerritoryError
        If the file is missing or is not a GeoPackage.
    """
    path = Path(path)
    if not path.is_file():
        raise TerritoryError("território não encontrado", path=path)
    try:
        return {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except pyogrio.errors.DataSourceError as exc:
        raise TerritoryError(f"território ilegível ({exc})", path=path) from exc


def read_layer(path: str | Path, layer: str, *, missing_ok: bool = False) -> gpd.GeoDataFrame:
    """Read one layer of a territory GeoPackage.

    Parameters
    ----------
    path : str or Path
        Territory GeoPackage.
    layer : str
        One of :data:`LAYERS`.
    missing_ok : bool, default False
        For a layer of :data:`OPTIONAL_LAYER_COLUMNS`: when it is absent, log a
        warning and return it empty (its columns, the territory's CRS) instead of
        raising, so one missing layer never stops an assessment.

    Returns
    -------
    GeoDataFrame
        The layer in the territory's CRS.

    Raises
    ------
    TerritoryError
        If the file or the layer is missing, or the file is not a GeoPackage.
    """
    path = Path(path)
    names = layer_names(path)
    if layer not in names and missing_ok and layer in OPTIONAL_LAYER_COLUMNS:
        log.warning(
            "arquivo '%s': a camada '%s' não existe no território; seguindo sem ela", path, layer
        )
        crs = pyogrio.read_info(path, layer="vias")["crs"] if "vias" in names else None
        columns = [c for c in OPTIONAL_LAYER_COLUMNS[layer] if c != "geometry"]
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=crs)
    if layer not in names:
        raise TerritoryError(
            f"a camada '{layer}' não existe no território (camadas: {', '.join(sorted(names))})",
            path=path,
            field=layer,
        )
    return read_dataframe(path, layer)


def read_dataframe(path: str | Path, layer: str, **options: Any) -> gpd.GeoDataFrame:
    """Read a layer with pyogrio, through Arrow when it is large and pyarrow is there.

    Arrow reads a large layer 3-4× faster and gives the same table (same dtypes and
    values, checked on the synthetic 200k-edge territory); small layers are read as
    before, so nothing changes at the scale where it would not matter.

    Parameters
    ----------
    path : str or Path
        A GeoPackage (or any file pyogrio reads).
    layer : str
        The layer.
    **options
        More keywords of :func:`pyogrio.read_dataframe` (``columns``...).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer (a DataFrame for a table without geometry).
    """
    arrow = _ARROW and int(pyogrio.read_info(path, layer=layer)["features"]) >= _ARROW_MIN_ROWS
    frame: gpd.GeoDataFrame = pyogrio.read_dataframe(path, layer=layer, use_arrow=arrow, **options)
    return frame


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Rebuild the projected road graph from a territory GeoPackage.

    Parameters
    ----------
    path : str or Path
        Territory GeoPackage written by :func:`build_territory`.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible graph in the territory's metric CRS.
    """
    nodes = read_layer(path, "nos").set_index("osmid")
    edges = read_layer(path, "vias").set_index(["u", "v", "key"])
    return ox.graph_from_gdfs(nodes, edges)


# -------------------------------------------------------------------------- build


def _cache_key(
    osm: Path | None, place: str | None, grids: Sequence[GridSource], dem: Path | None, rules: Rules
) -> tuple[str, list[dict[str, Any]]]:
    sources: list[dict[str, Any]] = []
    if osm is not None:
        sources.append(_source_record("osm", osm))
    if place is not None:
        sources.append({"tipo": "osm_online", "lugar": place})
    for g in grids:
        extra = {"tipo_forcado": g.tipo, "coluna_tipo": g.coluna_tipo, "crs_informado": g.crs}
        sources.append(_source_record("rede", g.path, **extra))
    if dem is not None:
        sources.append(_source_record("mde", dem))
    ident = [{k: v for k, v in s.items() if k not in ("modificado_em", "arquivo")} for s in sources]
    payload = {
        "versao": __version__,
        "regras": rules.sha256,
        "catalogo": _catalog_digest(),
        "fontes": ident,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(), sources


def _reusable(out: Path, key: str) -> dict[str, Any] | None:
    if not out.is_file():
        return None
    try:
        meta = _read_metadata(out)
    except Exception:
        return None
    return meta if meta.get("chave_cache") == key else None


def build_territory(
    out: str | Path,
    *,
    rules: Rules,
    osm: str | Path | None = None,
    place: str | None = None,
    grids: Sequence[GridSource] = (),
    dem: str | Path | None = None,
    catalog: Catalog | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TerritoryReport:
    """Build the territory GeoPackage (or reuse it when the inputs did not change).

    Parameters
    ----------
    out : str or Path
        GeoPackage to write. Written to a temporary file and moved into place,
        so a failure never leaves a half-written file.
    rules : Rules
        Municipality rules (CRS, fictional flag).
    osm : str or Path, optional
        OSM file (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``).
    place : str, optional
        Place name fetched online with osmnx (instead of ``osm``).
    grids : sequence of GridSource
        Existing-grid files, in order of trust. With none, the grid comes from
        OSM power tags, street lamps and lit roads, with a warning.
    dem : str or Path, optional
        Elevation model (any CRS).
    catalog : Catalog, optional
        Layer catalog; the bundled one by default.
    force : bool, default False
        Rebuild even when the cached file matches the inputs.
    progress : callable, optional
        Called with a Portuguese description at the start of each step.

    Returns
    -------
    TerritoryReport
        Path, whether the cache was reused, CRS, counts per layer and warnings.
    """
    if (osm is None) == (place is None):
        raise TerritoryError("informe exatamente uma fonte OSM: --osm ARQUIVO ou --place NOME")
    catalog = catalog or load_catalog()
    out = Path(out)
    osm_path = Path(osm) if osm is not None else None
    dem_path = Path(dem) if dem is not None else None
    step = progress or (lambda _msg: None)

    if osm_path is not None:
        osm_mod.check_osm_file(osm_path)
    for g in grids:
        if not g.path.exists():
            raise GridError("arquivo da rede existente não encontrado", path=g.path)
    if dem_path is not None and not dem_path.is_file():
        raise DemError("arquivo do modelo de elevação não encontrado", path=dem_path)

    key, sources = _cache_key(osm_path, place, grids, dem_path, rules)
    if not force and (meta := _reusable(out, key)) is not None:
        log.info("território reaproveitado do cache: %s", out)
        return TerritoryReport(out, True, meta["crs"], meta["contagens"], meta.get("avisos", []))

    sample = int(rules.avaliacao.amostra_intermediacao.valor)
    step("Lendo vias do OpenStreetMap")
    # arrays, not osmnx: the same graph (tests/test_osm_arrays.py) at any scale
    reading = None if osm_path is None else _RoadReading(osm_path, catalog.vias, sample)
    try:
        return _assemble(
            out, key, sources, rules=rules, catalog=catalog, osm_path=osm_path, place=place,
            grids=grids, dem_path=dem_path, sample=sample, step=step, reading=reading,
        )  # fmt: skip
    finally:
        if reading is not None:
            reading.stop()


def _assemble(
    out: Path,
    key: str,
    sources: list[dict[str, Any]],
    *,
    rules: Rules,
    catalog: Catalog,
    osm_path: Path | None,
    place: str | None,
    grids: Sequence[GridSource],
    dem_path: Path | None,
    sample: int,
    step: Callable[[str], None],
    reading: _RoadReading | None,
) -> TerritoryReport:
    """Build the territory of :func:`build_territory` (inputs checked, cache missed)."""
    warnings: list[str] = []

    # 1. OSM: road graph and the other layers, in EPSG:4326.
    max_small = catalog.vias.grafo.componente_pequena_max_arestas
    if osm_path is not None:
        assert reading is not None
        step("Lendo equipamentos, edificações e rede do OpenStreetMap")
        try:
            features = osm_features.read_osm_features(osm_path, catalog)
        except GeoIPError:
            reading.arrays()  # its error comes first, as in series
            raise
        road_tables = _tables_from_arrays(reading.arrays(), max_small)
        osm_time = osm_mod.osm_timestamp(osm_path)
    else:
        assert place is not None
        graph, raw, _poly = osm_mod.fetch_place(
            place, catalog.vias, osm_features.feature_tags(catalog)
        )
        road_tables = _tables_from_graph(graph, max_small)
        step("Classificando equipamentos, edificações e rede do OpenStreetMap")
        features = osm_features.features_from_osmnx(raw, catalog)
        osm_time = datetime.now(UTC).isoformat(timespec="seconds")

    nodes, edges, node_comp, edge_comp, small = road_tables
    del road_tables  # the EPSG:4326 tables go once projected (memory at state scale)
    lon, lat = nodes["x"].median(), nodes["y"].median()
    crs, crs_warning = choose_crs(float(lon), float(lat), rules)
    if crs_warning:
        warnings.append(crs_warning)
        log.warning(crs_warning)

    # 2. Project and classify roads.
    step("Projetando e classificando as vias")
    nodes = nodes.to_crs(crs)
    nodes["x"], nodes["y"] = (
        shapely.get_x(nodes.geometry.values),
        shapely.get_y(nodes.geometry.values),
    )
    nodes["osmid"] = nodes.index
    nodes["componente"] = node_comp
    edges = edges.reset_index().to_crs(crs)
    edges["componente"] = edge_comp
    edges["componente_pequena"] = np.isin(edge_comp, np.fromiter(small, dtype=np.int64))
    if place is not None:  # osmnx may leave lists; the array path gives scalars
        for col in ("osmid", "name", "highway", "maxspeed", "lanes", "surface", "lit"):
            if col in edges.columns:
                edges[col] = edges[col].map(_flatten)
    if small:
        n_small = int(edges["componente_pequena"].sum())
        msg = (
            f"{len(small)} componente(s) conexo(s) pequeno(s) da malha viária "
            f"({n_small} trechos) mantido(s) e marcado(s) em componente_pequena"
        )
        warnings.append(msg)

    extent = shapely.concave_hull(shapely.multipoints(nodes.geometry.values), ratio=0.3)
    extent = extent.buffer(EXTENT_MARGIN_M)
    extent_wgs84 = gpd.GeoSeries([extent], crs=crs).to_crs("EPSG:4326").iloc[0]

    layers: dict[str, gpd.GeoDataFrame] = {
        name: getattr(features, name).to_crs(crs) for name in _FEATURE_LAYERS
    }
    edges, rural_rule = classify_roads(
        edges, nodes, catalog.vias, layers["area_urbana"], layers["edificacoes"]
    )
    if rural_rule.startswith("sem área urbana"):
        warnings.append(f"regra de via rural: {rural_rule}")

    # 3. Existing grid.
    step("Lendo a rede elétrica existente")
    if grids:
        elements, lights, grid_desc = [], [], []
        for g in grids:
            data = grid_mod.read_grid(
                g.path,
                catalog.rede_existente,
                mask=extent_wgs84,
                tipo=g.tipo,
                coluna_tipo=g.coluna_tipo,
                crs=g.crs,
            )
            warnings.extend(data.avisos)
            grid_desc.append(data.descricao)
            elements.append(_ensure(data.elementos, GRID_COLUMNS, crs).clip(extent))
            lights.append(_ensure(data.pontos_ip, LIGHT_COLUMNS, crs).clip(extent))
        grid = pd.concat(elements, ignore_index=True)
        lamps = pd.concat(lights, ignore_index=True)
    else:
        warnings.append(catalog.rede_existente.osm.aviso)
        log.warning(catalog.rede_existente.osm.aviso)
        grid = _ensure(features.rede_osm, GRID_COLUMNS, crs)
        lamps = _ensure(features.pontos_ip_osm, LIGHT_COLUMNS, crs)
        grid_desc = ["OpenStreetMap (power=*, highway=street_lamp, lit=*)"]
    del features  # projected into ``layers``
    if grid.empty:
        warnings.append(
            "nenhum elemento de rede existente no território: as distâncias à rede ficarão "
            "indefinidas até que uma rede seja informada (--grid)"
        )
    layers["rede_existente"] = gpd.GeoDataFrame(grid, geometry="geometry", crs=crs)
    layers["pontos_ip"] = gpd.GeoDataFrame(lamps, geometry="geometry", crs=crs)

    # 4. Elevation.
    dem_meta: dict[str, Any] | None = None
    nodes["elevacao_m"] = np.nan
    edges["declividade_pct"] = np.nan
    if dem_path is not None:
        step("Amostrando o modelo de elevação")
        info = dem_mod.inspect_dem(dem_path, extent_wgs84)
        warnings.extend(info.warnings)
        nodes["elevacao_m"] = dem_mod.sample_elevation(
            dem_path, nodes["x"].to_numpy(), nodes["y"].to_numpy(), crs
        )
        elev = nodes["elevacao_m"]
        rise = (edges["v"].map(elev) - edges["u"].map(elev)).abs()
        edges["declividade_pct"] = (100 * rise / edges["length"].where(edges["length"] > 0)).round(
            2
        )
        dem_meta = {
            "arquivo": str(dem_path.resolve()),
            "crs": info.crs,
            "resolucao": info.resolution,
            "cobertura": info.coverage,
            "nodata": info.nodata,
        }

    layers["vias"] = _ensure(edges, ROAD_COLUMNS, crs)
    layers["nos"] = _ensure(nodes, NODE_COLUMNS, crs)
    del edges, nodes
    step("Ligando a rede existente às vias")
    attachment = grid_attachment(layers["vias"], layers["rede_existente"], rules)

    # after the attachment: meanwhile the road helper computes it, on the other core
    step("Calculando a intermediação das vias (tráfego)")
    betweenness = reading.betweenness(layers["vias"]) if reading is not None else None
    if betweenness is None:
        betweenness = add_betweenness(layers["vias"], sample=sample)

    counts = {name: len(layers[name]) for name in LAYERS}
    counts.update(
        {f"vias_{h}": int((layers["vias"]["hierarquia"] == h).sum()) for h in catalog.vias.classes}
    )
    counts["vias_rurais"] = int(layers["vias"]["rural"].sum())
    for tipo in catalog.rede_existente.tipos:
        counts[f"rede_{tipo}"] = int((layers["rede_existente"]["tipo"] == tipo).sum())

    metadata: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "criado_em": datetime.now(UTC).isoformat(timespec="seconds"),
        "crs": crs,
        "municipio": rules.municipio.nome,
        "codigo_ibge": rules.municipio.codigo_ibge,
        "regras_arquivo": rules.arquivo,
        "regras_versao": rules.versao,
        "regras_sha256": rules.sha256,
        "fontes": sources,
        "osm_data": osm_time,
        "rede_fontes": grid_desc,
        "mde": dem_meta,
        "regra_rural": rural_rule,
        "contagens": counts,
        "avisos": warnings,
        "atribuicao": OSM_ATTRIBUTION,
        "dados_ficticios": rules.municipio.ficticio,
        "rotulo": FICTIONAL_LABEL if rules.municipio.ficticio else None,
        "chave_cache": key,
        METADATA_KEY: betweenness,
        ATTACHMENT_KEY: attachment.record,
    }
    step("Gravando o GeoPackage")
    _write_atomic(out, layers, metadata, rules, {ATTACHMENT_TABLE: attachment.table})
    return TerritoryReport(out, False, crs, counts, warnings)


_ARROW = importlib.util.find_spec("pyarrow") is not None
"""Whether pyogrio can write through Arrow (about 2.5× faster on large layers)."""
_ARROW_MIN_ROWS = 10_000
"""Layers at least this long are written through Arrow when it is available."""


def _description(name: str, rules: Rules) -> str:
    label = f" — {FICTIONAL_LABEL}" if rules.municipio.ficticio else ""
    return f"geo_ip {__version__}: camada '{name}'. {OSM_ATTRIBUTION}{label}"


def _arrow_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn object columns of mixed types into text, as pyogrio does without Arrow.

    Without Arrow pyogrio writes every non-null value of an object column as
    ``str(value)``; Arrow refuses mixed columns (``osmid``: way ids and the
    ``;``-joined ids of merged ways), so they get the same text first.
    """
    geometry = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    mixed = [
        name
        for name, dtype in gdf.dtypes.items()
        if pd.api.types.is_object_dtype(dtype)
        and name != geometry
        and pd.api.types.infer_dtype(gdf[name], skipna=True) not in ("string", "empty")
    ]
    if not mixed:
        return gdf
    gdf = gdf.copy()
    for name in mixed:
        values = gdf[name].to_numpy(dtype=object)
        text = [None if v is None or v is pd.NA or v != v else str(v) for v in values]
        gdf[name] = pd.Series(text, index=gdf.index, dtype=object)
    return gdf


def write_dataframe(frame: pd.DataFrame, path: Path, layer: str, **options: Any) -> None:
    """Write a layer into a GeoPackage, through Arrow when it is large and pyarrow is there.

    Parameters
    ----------
    frame : pandas.DataFrame
        The layer (a GeoDataFrame, or a table without geometry).
    path : Path
        The GeoPackage (created or added to).
    layer : str
        The layer name.
    **options
        More keywords of :func:`pyogrio.write_dataframe` (``geometry_type``...).
    """
    arrow = _ARROW and len(frame) >= _ARROW_MIN_ROWS
    pyogrio.write_dataframe(
        _arrow_ready(frame) if arrow else frame,
        path,
        layer=layer,
        driver="GPKG",
        use_arrow=arrow,
        **options,
    )


_COPY_BATCH = 65_536
"""Rows per Arrow batch when :func:`copy_layer` streams a layer."""


def copy_layer(source: Path, layer: str, target: Path) -> None:
    """Copy a layer of one GeoPackage into another, streamed through Arrow.

    The rows go from GDAL to GDAL a batch at a time, schema and all, never as a
    GeoDataFrame: a state's roads are a gigabyte in memory that way (and 2.5× slower),
    while the batches take a few megabytes. Without pyarrow the layer is read and
    written whole.

    Parameters
    ----------
    source : Path
        The GeoPackage holding ``layer``.
    layer : str
        The layer, written under the same name.
    target : Path
        The GeoPackage (created or added to).
    """
    if not _ARROW:
        write_dataframe(read_dataframe(source, layer), target, layer)
        return
    with pyogrio.open_arrow(source, layer=layer, use_pyarrow=True, batch_size=_COPY_BATCH) as (
        meta,
        reader,
    ):
        pyogrio.write_arrow(
            reader,
            target,
            layer=layer,
            driver="GPKG",
            geometry_name=meta["geometry_name"] or None,
            geometry_type=meta["geometry_type"],
            crs=meta["crs"],
        )


def grid_attachment(roads: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, rules: Rules) -> Attachment:
    """Attach the existing grid to the roads once, for every assessment to read.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        The territory's ``vias`` layer, as it is written.
    grid : geopandas.GeoDataFrame
        The territory's ``rede_existente`` layer, as it is written.
    rules : Rules
        Municipality rules (``rede.distancia_maxima_rede_via``).

    Returns
    -------
    Attachment
        What :class:`geo_ip.network.gridpath.GridNetwork` accepts as ``stored`` on the same
        layers read back from the territory.
    """
    max_attach_m = rules.rede.distancia_maxima_rede_via.valor
    return GridNetwork(roads, grid, max_attach_m=max_attach_m).attachment()


def read_grid_attachment(path: str | Path) -> Attachment | None:
    """Return the grid attachment stored in a territory, or ``None`` when it has none.

    Parameters
    ----------
    path : str or Path
        Territory GeoPackage.

    Returns
    -------
    Attachment or None
        Record and table as :func:`grid_attachment` computed them (territories
        built before the table existed have none: the network computes it).
    """
    try:
        names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
        if ATTACHMENT_TABLE not in names or METADATA_TABLE not in names:
            return None
        record = _read_metadata(Path(path)).get(ATTACHMENT_KEY)
        if not isinstance(record, dict):
            return None
        return Attachment(record, read_dataframe(path, ATTACHMENT_TABLE))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError):
        return None


_TABLE_DESCRIPTIONS = {
    ATTACHMENT_TABLE: "ligação de cada amostra da rede existente à via mais próxima "
    "(aresta, posição e distância), calculada na montagem do território",
}


def _write_atomic(
    out: Path,
    layers: dict[str, gpd.GeoDataFrame],
    metadata: dict[str, Any],
    rules: Rules,
    tables: dict[str, pd.DataFrame],
) -> None:
    with atomic_path(out) as tmp:
        for name in LAYERS:
            geometry_type = "Unknown" if name == "rede_existente" else None
            write_dataframe(
                layers[name],
                tmp,
                name,
                geometry_type=geometry_type,
                layer_options={"DESCRIPTION": _description(name, rules)},
            )
        for name, table in tables.items():
            description = f"geo_ip {__version__}: {_TABLE_DESCRIPTIONS[name]}"
            write_dataframe(table, tmp, name, layer_options={"DESCRIPTION": description})
        table = pd.DataFrame(
            {
                "chave": list(metadata),
                "valor": [
                    json.dumps(v, ensure_ascii=False, default=str) for v in metadata.values()
                ],
            }
        )
        pyogrio.write_dataframe(table, tmp, layer=METADATA_TABLE, driver="GPKG")


__all__ = [
    "LAYERS",
    "OSM_ATTRIBUTION",
    "GeoIPError",
    "GridSource",
    "TerritoryReport",
    "build_territory",
    "choose_crs",
    "classify_roads",
    "copy_layer",
    "grid_attachment",
    "layer_names",
    "load_graph",
    "read_dataframe",
    "read_grid_attachment",
    "read_layer",
    "read_metadata",
    "write_dataframe",
]
