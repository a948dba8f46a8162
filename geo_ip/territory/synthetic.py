"""Synthetic territories, for benchmarks and scale tests (no OSM needed).

:func:`write_synthetic_territory` tiles one generated street pattern
(:mod:`~geo_ip.territory.synthetic_streets`: a block of ``TILE × TILE`` junctions
``SPACING_M`` apart, with a principal avenue on its first row and column, a secondary
street through its middle, local streets elsewhere, some local blocks removed and a
few cul-de-sacs) until the road network has about the number of edges asked for, and
writes a territory GeoPackage with the same layers and columns as
:func:`geo_ip.territory.build.build_territory` (``vias`` and ``nos`` from here;
``rede_existente`` with low-voltage lines, poles, lighting points, medium-voltage
lines and transformers, ``pontos_ip``, ``equipamentos``, ``edificacoes``,
``area_urbana``, ``limite``, ``bairros``, the water ``agua`` and ``cursos_agua`` from
:mod:`~geo_ip.territory.synthetic_layers`; and the ``metadados`` table), so that
:func:`geo_ip.pipeline.assess` runs on it unchanged. Each tile is rural, served by
the grid or not served (drawn per tile), so requests meet every method of
:mod:`geo_ip.network.gridpath`. Edges are counted as the territory counts them: rows of
``vias``, the two directions of a two-way street being two rows.

The same streets as an OSM file: :mod:`~geo_ip.territory.synthetic_osm`; requests
on them: :mod:`~geo_ip.territory.synthetic_requests`.

Everything is vectorised (numpy/shapely) and deterministic: the same arguments give
the same layers. The data is fictitious, and the territory says so (``dados_ficticios``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip._util.version import __version__
from geo_ip.network.betweenness import METADATA_KEY, add_betweenness
from geo_ip.network.gridgraph import ATTACHMENT_KEY, ATTACHMENT_TABLE
from geo_ip.rules.config import Rules, load_rules
from geo_ip.rules.params import HIERARCHIES
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION
from geo_ip.rules.road_rules import RoadHierarchy
from geo_ip.territory.build import grid_attachment
from geo_ip.territory.reader import LAYERS, NODE_COLUMNS, ROAD_COLUMNS
from geo_ip.territory.synthetic_layers import choose, feature_layers, grid_layers, label_column
from geo_ip.territory.synthetic_streets import (
    PRINCIPAL,
    RURAL,
    SPACING_M,
    TILE,
    BoolArray,
    FloatArray,
    IntArray,
    Roads,
    SyntheticLayout,
    street_names,
    street_tags,
    synthetic_layout,
)
from geo_ip.territory.writer import WATER_LAYERS, metadata_head, write_territory_file

__all__ = ["SyntheticTerritory", "write_synthetic_territory"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyntheticTerritory:
    """What :func:`write_synthetic_territory` wrote.

    Attributes
    ----------
    path : Path
        The GeoPackage.
    crs : str
        Its CRS.
    counts : dict of str to int
        Features per layer (as the territory's ``metadados.contagens``).
    tiles : tuple of int
        Tiles along x and y.
    seconds : dict of str to float
        Time spent generating the layers and writing the file.
    """

    path: Path
    crs: str
    counts: dict[str, int]
    tiles: tuple[int, int]
    seconds: dict[str, float]


# --------------------------------------------------------------------------- vias, nos


def _elevation(xy: FloatArray, origin: tuple[float, float]) -> FloatArray:
    """Return a smooth fictitious terrain height (m), for the slopes of the streets."""
    x, y = xy[:, 0] - origin[0], xy[:, 1] - origin[1]
    return np.round(880 + 25 * np.sin(x / 2500) + 18 * np.cos(y / 3100), 2)


def _components(roads: Roads) -> tuple[IntArray, BoolArray]:
    """Label each junction with its component (0 the largest) and whether that is small."""
    n_nodes, n_edges = len(roads.node_xy), len(roads.a)
    graph = coo_matrix((np.ones(n_edges), (roads.a, roads.b)), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    size = np.bincount(label[roads.a], minlength=label.max() + 1) * 2  # directed rows
    rank = np.lexsort((np.arange(len(size)), -size))  # largest first
    component = np.empty_like(rank)
    component[rank] = np.arange(len(rank))
    return component[label], size[label] <= 10


def _vias(
    layout: SyntheticLayout, crs: str, hierarchy: RoadHierarchy, node_comp: IntArray,
    small: BoolArray, elev: FloatArray,
) -> gpd.GeoDataFrame:  # fmt: skip
    """Build the ``vias`` layer: each street twice, a → b then b → a."""
    roads = layout.roads
    n_edges = len(roads.a)
    rural_edge = layout.kinds[roads.tile] == RURAL
    highway, surface, maxspeed = street_tags(roads, rural_edge)
    # the hierarchy of the rules' crosswalk, as build_territory gives it (Art. 9 §8)
    values, which = np.unique(highway.astype(str), return_inverse=True)
    hierarquia = np.array([hierarchy.hierarchy_of(h) for h in values], dtype=object)[which]
    avenue = roads.cls == PRINCIPAL
    seg = np.diff(roads.coords, axis=1)
    length = np.hypot(seg[..., 0], seg[..., 1]).sum(axis=1)
    slope = np.round(100 * np.abs(elev[roads.b] - elev[roads.a]) / np.maximum(length, 1e-9), 2)
    names = street_names(roads.street, roads.cls, roads.spur)
    osmid = label_column("", roads.street + 1)

    def twice(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.repeat(values, 2)  # each street: its row a → b, then b → a

    u = roads.node_id[np.column_stack([roads.a, roads.b]).ravel()]
    v = roads.node_id[np.column_stack([roads.b, roads.a]).ravel()]
    forward = np.asarray(shapely.linestrings(roads.coords), dtype=object)
    backward = np.asarray(shapely.linestrings(roads.coords[:, ::-1]), dtype=object)
    geometry = np.column_stack([forward, backward]).ravel()
    return gpd.GeoDataFrame(
        {
            "u": u, "v": v, "key": np.zeros(2 * n_edges, "int64"), "osmid": twice(osmid),
            "name": twice(names), "highway": twice(highway), "length": twice(length),
            "surface": twice(surface), "lit": twice(choose(avenue, "yes")),
            "lanes": twice(choose(avenue, "2")),
            "maxspeed": twice(maxspeed.astype(object)), "oneway": np.zeros(2 * n_edges, bool),
            "hierarquia": twice(hierarquia), "rural": twice(rural_edge),
            "componente": twice(node_comp[roads.a]).astype("int64"),
            "componente_pequena": twice(small[roads.a]), "declividade_pct": twice(slope),
        },
        geometry=geometry, crs=crs,
    ).loc[:, ROAD_COLUMNS]  # fmt: skip


def _vias_and_nodes(
    layout: SyntheticLayout, crs: str, hierarchy: RoadHierarchy
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the ``vias`` and ``nos`` layers."""
    roads = layout.roads
    node_comp, small = _components(roads)
    elev = _elevation(roads.node_xy, layout.origin)
    vias = _vias(layout, crs, hierarchy, node_comp, small, elev)
    degree = np.bincount(np.r_[roads.a, roads.b], minlength=len(roads.node_xy))
    nos = gpd.GeoDataFrame(
        {
            "osmid": roads.node_id, "x": roads.node_xy[:, 0], "y": roads.node_xy[:, 1],
            "street_count": degree.astype("int64"), "componente": node_comp.astype("int64"),
            "elevacao_m": elev,
        },
        geometry=shapely.points(roads.node_xy), crs=crs,
    ).loc[:, NODE_COLUMNS]  # fmt: skip
    return vias, nos


# --------------------------------------------------------------------------- the file


def _counts(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """``metadados.contagens``: features per layer, roads per hierarchy, grid per kind."""
    vias, grid = layers["vias"], layers["rede_existente"]
    counts = {name: len(layers[name]) for name in LAYERS}
    counts.update({name: len(layers[name]) for name in WATER_LAYERS})
    for h in HIERARCHIES:
        counts[f"vias_{h}"] = int((vias["hierarquia"] == h).sum())
    counts["vias_rurais"] = int(vias["rural"].sum())
    for tipo in ("bt", "mt", "poste", "transformador", "ponto_ip", "via_iluminada"):
        counts[f"rede_{tipo}"] = int((grid["tipo"] == tipo).sum())
    return counts


def _metadata(
    rules: Rules, crs: str, params: dict[str, Any], counts: dict[str, int], created: datetime | None
) -> dict[str, Any]:
    """Build the ``metadados`` of the territory, but the betweenness and grid attachment."""
    key = hashlib.sha256(
        json.dumps({**params, "versao": __version__}, sort_keys=True).encode()
    ).hexdigest()
    return {
        **metadata_head(rules, crs, created),
        "fontes": [{"tipo": "sintetico", **params}],
        "osm_data": "2026-01-01T00:00:00Z",
        "rede_fontes": ["rede sintética (geo_ip.territory.synthetic)"],
        "mde": None,
        "regra_rural": "território sintético: rurais as vias dos ladrilhos rurais",
        "contagens": counts,
        "avisos": ["território sintético: dados fictícios, para testes de escala"],
        "atribuicao": OSM_ATTRIBUTION,
        "dados_ficticios": True,
        "rotulo": FICTIONAL_LABEL,
        "chave_cache": key,
    }


def write_synthetic_territory(
    out: str | Path,
    *,
    edges: int,
    seed: int = 0,
    rules: Rules | None = None,
    created: datetime | None = None,
) -> SyntheticTerritory:
    """Generate a synthetic territory of about ``edges`` road edges and write it.

    Parameters
    ----------
    out : str or Path
        GeoPackage to write (atomically; replaced when it exists).
    edges : int
        Rows of the ``vias`` layer wanted (≥ 1); the result is within a tile of it.
    seed : int, default 0
        Seed of the pattern and of the tile kinds.
    rules : Rules, optional
        Rules whose municipality (CRS, IBGE code) and road hierarchy the territory
        takes; default the demo's fictitious municipality.
    created : datetime, optional
        ``criado_em`` of the metadata (default: now).

    Returns
    -------
    SyntheticTerritory
        Path, CRS, counts per layer, tiles and timings.

    Raises
    ------
    ValueError
        If ``edges`` < 1.
    """
    if edges < 1:
        raise ValueError(f"número de arestas inválido: {edges!r} (>= 1)")
    started = time.perf_counter()
    rules = rules or load_rules("demo")
    crs = rules.municipio.crs or "EPSG:31983"
    layout = synthetic_layout(edges, seed, crs)
    vias, nos = _vias_and_nodes(layout, crs, rules.hierarquia_viaria)
    grid, lamps = grid_layers(layout, crs, seed)
    layers: dict[str, gpd.GeoDataFrame] = {"vias": vias, "nos": nos}
    layers |= {"rede_existente": grid, "pontos_ip": lamps}
    layers |= feature_layers(layout, crs)
    generated = time.perf_counter()

    counts = _counts(layers)
    kx, ky = layout.tiles
    params = {"gerador": "geo_ip.territory.synthetic", "arestas_pedidas": edges, "semente": seed}
    params |= {"ladrilho": TILE, "espacamento_m": SPACING_M, "ladrilhos": [kx, ky]}
    metadata = _metadata(rules, crs, params, counts, created)
    sample = int(rules.avaliacao.amostra_intermediacao.valor)
    metadata[METADATA_KEY] = add_betweenness(vias, sample=sample)  # as build_territory stores it
    attachment = grid_attachment(vias, grid, rules)  # likewise
    metadata[ATTACHMENT_KEY] = attachment.record
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_territory_file(out, layers, metadata, rules, {ATTACHMENT_TABLE: attachment.table})
    written = time.perf_counter()
    log.info(
        "território sintético: %d vias, %d nós, %d elementos de rede em %s (%.1f s)",
        counts["vias"], counts["nos"], counts["rede_existente"], out, written - started,
    )  # fmt: skip
    return SyntheticTerritory(
        out, crs, counts, (kx, ky),
        {"gerar_s": generated - started, "gravar_s": written - generated},
    )  # fmt: skip
