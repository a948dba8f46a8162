"""Building a territory: one GeoPackage holding everything later steps need.

``build_territory`` reads OSM (file or place), the existing grid and an optional
DEM, classifies the road network (hierarchy, rural, small components), projects
everything to the municipality's SIRGAS 2000 / UTM CRS and writes one
GeoPackage atomically, with provenance metadata. Re-running with the same
inputs reuses the file; changed inputs rebuild it. ``load_graph`` rebuilds the
road graph from the GeoPackage alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from shapely.geometry.base import BaseGeometry

from geo_ip._util.atomic import release_freed_memory
from geo_ip._util.paths import resource_dir
from geo_ip._util.version import __version__
from geo_ip.errors import DemError, GeoIPError, GridError, TerritoryError
from geo_ip.network.betweenness import (
    METADATA_KEY,
    add_betweenness,
)
from geo_ip.network.gridgraph import ATTACHMENT_KEY, ATTACHMENT_TABLE, Attachment
from geo_ip.network.gridpath import GridNetwork
from geo_ip.rules.config import Rules
from geo_ip.rules.params import HIERARCHIES
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION, file_record
from geo_ip.sources import dem as dem_mod
from geo_ip.sources import grid as grid_mod
from geo_ip.sources import osm as osm_mod
from geo_ip.sources import osm_features
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.territory.reader import (
    GRID_COLUMNS,
    LAYERS,
    LIGHT_COLUMNS,
    NODE_COLUMNS,
    ROAD_COLUMNS,
    read_metadata,
)
from geo_ip.territory.roads import (
    RoadReading,
    RoadTables,
    classify_roads,
    flatten_lists,
    tables_from_arrays,
    tables_from_graph,
)
from geo_ip.territory.writer import (
    WATER_LAYERS,
    metadata_head,
    territory_layers,
    write_territory_file,
)

log = logging.getLogger(__name__)

__all__ = [
    "EXTENT_MARGIN_M",
    "GridSource",
    "TerritoryReport",
    "build_territory",
    "choose_crs",
    "grid_attachment",
]

_FEATURE_LAYERS = (
    "equipamentos", "equipamentos_pegada", "edificacoes", "area_urbana", "limite", "bairros",
    "bairros_area",
)  # fmt: skip
"""Layers of :class:`geo_ip.sources.osm_features.OsmFeatures` copied (projected) here."""
EXTENT_MARGIN_M = 200.0
"""Margin around the road network that defines the territory's extent."""


@dataclass(frozen=True)
class GridSource:
    """One ``--rede`` input and its reading options."""

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


# ------------------------------------------------------------------------ helpers


def _check_urban_landuse(rules: Rules, catalog: Catalog) -> None:
    """Refuse a rural rule whose urban land use the ``area_urbana`` layer never holds."""
    urban_landuse = rules.via_rural.landuse_que_define_area_urbana
    if urban_landuse not in catalog.vias.area_urbana.landuse:
        raise TerritoryError(
            f"via_rural.landuse_que_define_area_urbana = '{urban_landuse}' (arquivo de regras "
            f"{rules.arquivo}) não é um dos usos do solo da camada area_urbana "
            f"({', '.join(catalog.vias.area_urbana.landuse)}, layers/vias.toml)"
        )


def _road_rules(rules: Rules) -> dict[str, Any]:
    """Return the rules the roads are classified with (a changed value rebuilds the territory)."""
    return {
        "hierarquia_viaria": rules.hierarquia_viaria.model_dump(mode="json"),
        "via_rural": rules.via_rural.model_dump(mode="json"),
    }


def _catalog_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(resource_dir("layers").glob("*.toml")):
        h.update(p.read_bytes())
    return h.hexdigest()


def _source_record(kind: str, path: Path, **extra: Any) -> dict[str, Any]:
    return file_record(kind, path, resolve=True, **extra)


def _ensure(gdf: gpd.GeoDataFrame, columns: Sequence[str], crs: str) -> gpd.GeoDataFrame:
    """Select ``columns`` (adding missing ones as empty) and set the CRS."""
    gdf = gdf.copy(deep=False)  # columns are added to the copy, never changed in place
    for col in columns:
        if col not in gdf.columns:
            gdf[col] = None
    return gpd.GeoDataFrame(gdf[list(columns)], geometry="geometry", crs=gdf.crs).to_crs(crs)


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
        "classificacao_vias": _road_rules(rules),
        "fontes": ident,
        "camadas": list(territory_layers()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(), sources


def _reusable(out: Path, key: str) -> dict[str, Any] | None:
    if not out.is_file():
        return None
    try:
        meta = read_metadata(out)
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
    styler: Callable[[Path], object] | None = None,
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
    styler : callable, optional
        Writes the QGIS default styles into the new GeoPackage before it is moved into
        place (:func:`geo_ip.territory.writer.write_territory_file`); a reused file is
        left as it is.

    Returns
    -------
    TerritoryReport
        Path, whether the cache was reused, CRS, counts per layer and warnings.
    """
    if (osm is None) == (place is None):
        raise TerritoryError("informe exatamente uma fonte OSM: --osm ARQUIVO ou --lugar NOME")
    catalog = catalog or load_catalog()
    _check_urban_landuse(rules, catalog)
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
    reading = None if osm_path is None else RoadReading(osm_path, catalog.vias, sample)
    try:
        return _assemble(
            out, key, sources, rules=rules, catalog=catalog, osm_path=osm_path, place=place,
            grids=grids, dem_path=dem_path, sample=sample, step=step, reading=reading,
            styler=styler,
        )  # fmt: skip
    finally:
        if reading is not None:
            reading.stop()


def _read_osm(
    osm_path: Path | None,
    place: str | None,
    catalog: Catalog,
    reading: RoadReading | None,
    step: Callable[[str], None],
) -> tuple[RoadTables, osm_features.OsmFeatures, osm_features.OsmWater, str | None]:
    """Read the road graph, the other OSM layers and the water (EPSG:4326), and the date."""
    max_small = catalog.vias.grafo.componente_pequena_max_arestas
    if osm_path is not None:
        assert reading is not None
        step("Lendo equipamentos, edificações, água e rede do OpenStreetMap")
        try:
            features, water = osm_features.read_osm_layers(osm_path, catalog)
        except GeoIPError:
            reading.arrays()  # its error comes first, as in series
            raise
        release_freed_memory()  # the elements' frame is gone: room for the road graph
        roads = tables_from_arrays(reading.arrays(), max_small)
        return roads, features, water, osm_mod.osm_timestamp(osm_path)
    assert place is not None
    tags = osm_features.territory_tags(catalog)
    graph, raw, _poly = osm_mod.fetch_place(place, catalog.vias, tags)
    roads = tables_from_graph(graph, max_small)
    step("Classificando equipamentos, edificações, água e rede do OpenStreetMap")
    features = osm_features.features_from_osmnx(raw, catalog)
    water = osm_features.water_from_osmnx(raw, catalog)
    return roads, features, water, datetime.now(UTC).isoformat(timespec="seconds")


def _project_roads(
    roads: RoadTables, crs: str, *, online: bool, warnings: list[str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Project the node and edge tables and mark their connected components."""
    nodes, edges, node_comp, edge_comp, small = roads
    # only what the ``vias`` layer keeps (and the ends in the index) is projected and copied
    kept = [col for col in ROAD_COLUMNS if col in edges.columns]
    edges = edges[kept] if len(kept) < len(edges.columns) else edges
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
    if online:  # osmnx may leave lists; the array path gives scalars
        for col in ("osmid", "name", "highway", "maxspeed", "lanes", "surface", "lit"):
            if col in edges.columns:
                edges[col] = edges[col].map(flatten_lists)
    if small:
        n_small = int(edges["componente_pequena"].sum())
        warnings.append(
            f"{len(small)} componente(s) conexo(s) pequeno(s) da malha viária "
            f"({n_small} trechos) mantido(s) e marcado(s) em componente_pequena"
        )
    return nodes, edges


def _extents(nodes: gpd.GeoDataFrame, crs: str) -> tuple[BaseGeometry, BaseGeometry]:
    """Return the territory's extent around the road nodes, in ``crs`` and in EPSG:4326."""
    extent = shapely.concave_hull(shapely.multipoints(nodes.geometry.values), ratio=0.3)
    extent = extent.buffer(EXTENT_MARGIN_M)
    return extent, gpd.GeoSeries([extent], crs=crs).to_crs("EPSG:4326").iloc[0]


def _existing_grid(
    grids: Sequence[GridSource],
    catalog: Catalog,
    features: osm_features.OsmFeatures,
    extents: tuple[BaseGeometry, BaseGeometry] | None,
    crs: str,
    warnings: list[str],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[str]]:
    """Read the existing grid and its lamps from the files, or take OSM's with a warning.

    ``extents`` is the territory's extent in ``crs`` and in EPSG:4326 (:func:`_extents`;
    only needed with grid files).
    """
    if grids:
        assert extents is not None
        extent, extent_wgs84 = extents
        elements, lights, described = [], [], []
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
            described.append(data.descricao)
            elements.append(_ensure(data.elementos, GRID_COLUMNS, crs).clip(extent))
            lights.append(_ensure(data.pontos_ip, LIGHT_COLUMNS, crs).clip(extent))
        grid = pd.concat(elements, ignore_index=True)
        lamps = pd.concat(lights, ignore_index=True)
    else:
        warnings.append(catalog.rede_existente.osm.aviso)
        log.warning(catalog.rede_existente.osm.aviso)
        grid = _ensure(features.rede_osm, GRID_COLUMNS, crs)
        lamps = _ensure(features.pontos_ip_osm, LIGHT_COLUMNS, crs)
        described = ["OpenStreetMap (power=*, highway=street_lamp, lit=*)"]
    if grid.empty:
        warnings.append(
            "nenhum elemento de rede existente no território: as distâncias à rede ficarão "
            "indefinidas até que uma rede seja informada (--rede)"
        )
    return (
        gpd.GeoDataFrame(grid, geometry="geometry", crs=crs),
        gpd.GeoDataFrame(lamps, geometry="geometry", crs=crs),
        described,
    )


def _elevation(
    dem_path: Path | None,
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    extents: tuple[BaseGeometry, BaseGeometry] | None,
    crs: str,
    warnings: list[str],
) -> dict[str, Any] | None:
    """Sample the DEM at the nodes and give each edge its slope (NaN without a DEM)."""
    nodes["elevacao_m"] = np.nan
    edges["declividade_pct"] = np.nan
    if dem_path is None:
        return None
    assert extents is not None
    extent_wgs84 = extents[1]
    info = dem_mod.inspect_dem(dem_path, extent_wgs84)
    warnings.extend(info.warnings)
    nodes["elevacao_m"] = dem_mod.sample_elevation(
        dem_path, nodes["x"].to_numpy(), nodes["y"].to_numpy(), crs
    )
    elev = nodes["elevacao_m"]
    rise = (edges["v"].map(elev) - edges["u"].map(elev)).abs()
    edges["declividade_pct"] = (100 * rise / edges["length"].where(edges["length"] > 0)).round(2)
    return {
        "arquivo": str(dem_path.resolve()),
        "crs": info.crs,
        "resolucao": info.resolution,
        "cobertura": info.coverage,
        "nodata": info.nodata,
    }


def _counts(layers: dict[str, gpd.GeoDataFrame], catalog: Catalog) -> dict[str, int]:
    counts = {name: len(layers[name]) for name in LAYERS}
    counts.update({name: len(layers[name]) for name in WATER_LAYERS if name in layers})
    roads = layers["vias"]
    counts.update({f"vias_{h}": int((roads["hierarquia"] == h).sum()) for h in HIERARCHIES})
    counts["vias_rurais"] = int(roads["rural"].sum())
    for tipo in catalog.rede_existente.tipos:
        counts[f"rede_{tipo}"] = int((layers["rede_existente"]["tipo"] == tipo).sum())
    return counts


def _metadata(rules: Rules, crs: str, **values: Any) -> dict[str, Any]:
    """Return the ``metadados`` table of a territory, in its documented order."""
    return {
        **metadata_head(rules, crs),
        "fontes": values["sources"],
        "osm_data": values["osm_time"],
        "rede_fontes": values["grid_sources"],
        "mde": values["dem"],
        "regra_rural": values["rural_rule"],
        "contagens": values["counts"],
        "avisos": values["warnings"],
        "atribuicao": OSM_ATTRIBUTION,
        "dados_ficticios": rules.municipio.ficticio,
        "rotulo": FICTIONAL_LABEL if rules.municipio.ficticio else None,
        "chave_cache": values["key"],
        METADATA_KEY: values["betweenness"],
        ATTACHMENT_KEY: values["attachment"].record,
    }


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
    reading: RoadReading | None,
    styler: Callable[[Path], object] | None = None,
) -> TerritoryReport:
    """Build the territory of :func:`build_territory` (inputs checked, cache missed)."""
    warnings: list[str] = []
    roads, features, water, osm_time = _read_osm(osm_path, place, catalog, reading, step)
    lon, lat = roads[0]["x"].median(), roads[0]["y"].median()
    crs, crs_warning = choose_crs(float(lon), float(lat), rules)
    if crs_warning:
        warnings.append(crs_warning)
        log.warning(crs_warning)

    step("Projetando e classificando as vias")
    nodes, edges = _project_roads(roads, crs, online=place is not None, warnings=warnings)
    del roads  # the EPSG:4326 tables go once projected (memory at state scale)
    layers = {name: getattr(features, name).to_crs(crs) for name in _FEATURE_LAYERS}
    layers |= {name: getattr(water, name).to_crs(crs) for name in WATER_LAYERS}
    del water
    edges, rural_rule = classify_roads(
        edges, nodes, rules, layers["area_urbana"], layers["edificacoes"]
    )
    if rural_rule.startswith("sem área urbana"):
        warnings.append(f"regra de via rural: {rural_rule}")

    step("Lendo a rede elétrica existente")
    # only grid files and a DEM are read within the extent (seconds and memory at 1M edges)
    extents = _extents(nodes, crs) if grids or dem_path is not None else None
    grid, lamps, grid_sources = _existing_grid(grids, catalog, features, extents, crs, warnings)
    del features  # projected into ``layers``
    layers["rede_existente"], layers["pontos_ip"] = grid, lamps
    if dem_path is not None:
        step("Amostrando o modelo de elevação")
    dem_meta = _elevation(dem_path, nodes, edges, extents, crs, warnings)
    layers["vias"] = _ensure(edges, ROAD_COLUMNS, crs)
    layers["nos"] = _ensure(nodes, NODE_COLUMNS, crs)
    del edges, nodes
    release_freed_memory()  # before the attachment's own peak
    step("Ligando a rede existente às vias")
    attachment = grid_attachment(layers["vias"], layers["rede_existente"], rules)
    release_freed_memory()  # the attachment's network, before the write
    # after the attachment: meanwhile the road helper computes it, on the other core
    step("Calculando a intermediação das vias (tráfego)")
    betweenness = reading.betweenness(layers["vias"]) if reading is not None else None
    if betweenness is None:
        betweenness = add_betweenness(layers["vias"], sample=sample)
    counts = _counts(layers, catalog)
    metadata = _metadata(
        rules, crs, sources=sources, osm_time=osm_time, grid_sources=grid_sources,
        dem=dem_meta, rural_rule=rural_rule, counts=counts, warnings=warnings, key=key,
        betweenness=betweenness, attachment=attachment,
    )  # fmt: skip
    step("Gravando o GeoPackage")
    write_territory_file(
        out, layers, metadata, rules, {ATTACHMENT_TABLE: attachment.table}, styler=styler
    )
    return TerritoryReport(out, False, crs, counts, warnings)


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
