"""Synthetic territories and requests, for benchmarks and scale tests (no OSM needed).

:func:`write_synthetic_territory` tiles one generated street pattern — a block of
``TILE × TILE`` junctions ``SPACING_M`` apart, with a principal avenue on its first
row and column, a secondary street through its middle, local streets elsewhere, some
local blocks removed and a few cul-de-sacs (dead ends) — until the road network has
about the number of edges asked for, and writes a territory GeoPackage with the same
layers and columns as :func:`geo_ip.territory.store.build_territory` (``vias``, ``nos``,
``rede_existente`` with low-voltage lines, poles, lighting points, medium-voltage
lines and transformers, ``pontos_ip``, ``equipamentos``, ``edificacoes``,
``area_urbana``, ``limite``, ``bairros`` and the ``metadados`` table), so that
:func:`geo_ip.pipeline.assess` runs on it unchanged. Each tile is rural, served by
the grid or not served (drawn per tile), so requests meet every method of
:mod:`geo_ip.network.gridpath`. Edges are counted as the territory counts them: rows of
``vias``, the two directions of a two-way street being two rows.

:func:`synthetic_requests` draws requests with coordinates a few metres off random
road points, with the eligibility fields filled (valid, fictitious CPFs).

Everything is vectorised (numpy/shapely) and deterministic: the same arguments give
the same layers. The data is fictitious, and the territory says so (``dados_ficticios``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip._util.version import __version__
from geo_ip.network.betweenness import METADATA_KEY, add_betweenness
from geo_ip.network.gridpath import ATTACHMENT_KEY, ATTACHMENT_TABLE
from geo_ip.rules.config import Rules, load_rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION
from geo_ip.territory.store import (
    GRID_COLUMNS,
    LAYERS,
    LIGHT_COLUMNS,
    NODE_COLUMNS,
    OPTIONAL_LAYER_COLUMNS,
    ROAD_COLUMNS,
    _write_atomic,
    grid_attachment,
)

__all__ = [
    "SPACING_M",
    "TILE",
    "SyntheticOsm",
    "SyntheticTerritory",
    "synthetic_requests",
    "write_synthetic_osm",
    "write_synthetic_requests",
    "write_synthetic_territory",
]

log = logging.getLogger(__name__)

TILE = 16
"""Junctions per side of the tiled street pattern (one principal avenue per tile side)."""
SPACING_M = 100.0
"""Distance between neighbouring junctions (m)."""
CENTRE_LONLAT = (-46.39, -22.90)
"""Where the synthetic municipality is centred (the demo's fictitious one)."""
_REMOVED_LOCAL = 0.10
"""Share of local blocks missing from the pattern (irregular blocks, some dead ends)."""
_CUL_DE_SACS = 4
"""Dead-end spurs per tile."""
_BT_SHARE = 0.7
"""Share of local and secondary streets of a served tile with a low-voltage line."""
_LAMP_SHARE = 0.6
"""Share of poles carrying a public-lighting point."""
_FIRST_NAMES = (
    "Ana", "Antônio", "Benedito", "Carlos", "Cecília", "Clara", "Cláudio", "Dalva", "Domingos",
    "Elisa", "Expedito", "Fátima", "Francisco", "Geraldo", "Helena", "Inácio", "Irene",
    "Joaquim", "José", "Júlia", "Lourdes", "Luís", "Manoel", "Margarida", "Maria", "Nair",
    "Olavo", "Paulo", "Raimundo", "Rita", "Rosa", "Sebastião", "Teresa", "Vicente", "Zélia",
)  # fmt: skip
_SURNAMES = (
    "Almeida", "Alves", "Barbosa", "Batista", "Campos", "Cardoso", "Carvalho", "Costa",
    "Dias", "Ferreira", "Freitas", "Gomes", "Lima", "Lopes", "Machado", "Martins", "Melo",
    "Mendes", "Moreira", "Nogueira", "Oliveira", "Pereira", "Pinto", "Ramos", "Ribeiro",
    "Rocha", "Santos", "Silva", "Souza", "Teixeira", "Vieira",
)  # fmt: skip
_TREES = (
    "Acácias", "Araucárias", "Cedros", "Flamboyants", "Goiabeiras", "Ipês", "Jabuticabeiras",
    "Jacarandás", "Jequitibás", "Mangueiras", "Palmeiras", "Paineiras", "Pitangueiras",
    "Quaresmeiras", "Sibipirunas",
)  # fmt: skip
_PRINCIPAL, _SECONDARY, _LOCAL = 0, 1, 2
_HIERARCHY = np.array(["principal", "secundaria", "local"], dtype=object)
_HIGHWAY = np.array(["primary", "secondary", "residential"], dtype=object)
_RURAL, _SERVED, _UNSERVED = 0, 1, 2

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]


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


# --------------------------------------------------------------------------- pattern


@dataclass(frozen=True)
class _Pattern:
    """One tile of the street pattern, in tile-local junction indices."""

    keep_h: npt.NDArray[np.bool_]  # (TILE, TILE): edge (i, j)-(i+1, j) exists
    keep_v: npt.NDArray[np.bool_]  # (TILE, TILE): edge (i, j)-(i, j+1) exists
    bend_h: FloatArray  # sideways offset (m) of the middle vertex
    bend_v: FloatArray
    bt_h: npt.NDArray[np.bool_]  # low-voltage line along the edge (served tiles)
    bt_v: npt.NDArray[np.bool_]
    homes_h: IntArray  # buildings along the edge
    homes_v: IntArray
    spurs: IntArray  # (k, 4): i, j, sx, sy of each cul-de-sac
    stops_h: npt.NDArray[np.bool_]  # bus stop beside the edge
    stops_v: npt.NDArray[np.bool_]


def _line_class(index: IntArray) -> IntArray:
    """Class of the street on row/column ``index`` (tile-local)."""
    local = index % TILE
    return np.where(local == 0, _PRINCIPAL, np.where(local == TILE // 2, _SECONDARY, _LOCAL))


def _pattern(seed: int) -> _Pattern:
    rng = np.random.default_rng([seed, 1])
    shape = (TILE, TILE)
    j_row = np.broadcast_to(np.arange(TILE)[None, :], shape).astype("int64")  # [i, j] -> j
    i_col = np.broadcast_to(np.arange(TILE)[:, None], shape).astype("int64")  # [i, j] -> i
    local_h, local_v = _line_class(j_row) == _LOCAL, _line_class(i_col) == _LOCAL
    keep_h = ~(local_h & (rng.random(shape) < _REMOVED_LOCAL))
    keep_v = ~(local_v & (rng.random(shape) < _REMOVED_LOCAL))
    bend_h = np.where(local_h, rng.uniform(-9, 9, shape), 0.0)
    bend_v = np.where(local_v, rng.uniform(-9, 9, shape), 0.0)
    not_avenue_h, not_avenue_v = _line_class(j_row) != _PRINCIPAL, _line_class(i_col) != _PRINCIPAL
    bt_h = not_avenue_h & (rng.random(shape) < _BT_SHARE)
    bt_v = not_avenue_v & (rng.random(shape) < _BT_SHARE)
    homes_h = np.where(local_h, rng.integers(0, 4, shape), rng.integers(0, 2, shape))
    homes_v = np.where(local_v, rng.integers(0, 4, shape), rng.integers(0, 2, shape))
    inner = np.flatnonzero(_line_class(np.arange(TILE)) == _LOCAL)
    spur_ij = rng.choice(inner, size=(_CUL_DE_SACS, 2))
    spur_dir = rng.choice(np.array([-1, 1]), size=(_CUL_DE_SACS, 2))
    stops_h = ~local_h & (rng.random(shape) < 0.3)
    stops_v = ~local_v & (rng.random(shape) < 0.3)
    return _Pattern(
        keep_h, keep_v, bend_h, bend_v, bt_h, bt_v, homes_h.astype("int64"),
        homes_v.astype("int64"), np.column_stack([spur_ij, spur_dir]).astype("int64"),
        stops_h, stops_v,
    )  # fmt: skip


def _tiles_for(edges: int, pattern: _Pattern) -> tuple[int, int]:
    """Tiles along x and y for about ``edges`` directed edges."""
    per_tile = 2 * (int(pattern.keep_h.sum()) + int(pattern.keep_v.sum()) + len(pattern.spurs))
    tiles = max(1.0, edges / per_tile)
    kx = max(1, round(float(np.sqrt(tiles))))
    ky = max(1, round(tiles / kx))
    return kx, ky


# --------------------------------------------------------------------------- roads


@dataclass
class _Roads:
    """Undirected street segments and junctions of the whole territory."""

    node_xy: FloatArray  # (N, 2)
    node_id: IntArray
    a: IntArray  # (E,) node rows
    b: IntArray
    coords: FloatArray  # (E, 3, 2) a → middle → b
    cls: IntArray  # street class
    tile: IntArray  # tile number (ty * kx + tx)
    street: IntArray  # street run number (for names)
    bt: npt.NDArray[np.bool_]
    homes: IntArray
    stop: npt.NDArray[np.bool_]
    spur: npt.NDArray[np.bool_]


def _roads(pattern: _Pattern, kx: int, ky: int, origin: tuple[float, float], seed: int) -> _Roads:
    width, height = kx * TILE + 1, ky * TILE + 1  # the last avenue closes the territory
    rng = np.random.default_rng([seed, 2])
    mesh_i, mesh_j = np.meshgrid(np.arange(width), np.arange(height), indexing="xy")
    gi, gj = mesh_i.ravel().astype("int64"), mesh_j.ravel().astype("int64")
    jitter = rng.uniform(-6, 6, (len(gi), 2))
    xy = np.column_stack([origin[0] + gi * SPACING_M, origin[1] + gj * SPACING_M]) + jitter
    node = gj * width + gi

    parts: list[dict[str, Any]] = []
    for horizontal in (True, False):
        di, dj = (1, 0) if horizontal else (0, 1)
        ok = (gi + di < width) & (gj + dj < height)
        i, j = gi[ok], gj[ok]
        li, lj = i % TILE, j % TILE
        keep = (pattern.keep_h if horizontal else pattern.keep_v)[li, lj]
        # the closing avenues (last row/column) are principal, whatever the pattern says
        edge_line = j if horizontal else i
        closing = edge_line == (height - 1 if horizontal else width - 1)
        keep = keep | closing
        i, j, li, lj, closing = i[keep], j[keep], li[keep], lj[keep], closing[keep]
        line = j if horizontal else i
        cls = np.where(closing, _PRINCIPAL, _line_class(line))
        tile = np.minimum(j // TILE, ky - 1) * kx + np.minimum(i // TILE, kx - 1)
        # one street name per line and tile (an avenue per line across the territory)
        along = (i if horizontal else j) // TILE
        run = np.where(cls == _PRINCIPAL, line, line * (kx + ky + 2) + along)
        street = run * 2 + (0 if horizontal else 1)
        a = j * width + i
        b = (j + dj) * width + (i + di)
        bend = (pattern.bend_h if horizontal else pattern.bend_v)[li, lj]
        bend = np.where(closing, 0.0, bend)
        parts.append(
            {
                "a": a, "b": b, "bend": bend, "cls": cls, "tile": tile, "street": street,
                "bt": (pattern.bt_h if horizontal else pattern.bt_v)[li, lj] & ~closing,
                "homes": (pattern.homes_h if horizontal else pattern.homes_v)[li, lj],
                "stop": (pattern.stops_h if horizontal else pattern.stops_v)[li, lj],
                "spur": np.zeros(len(a), bool),
            }
        )  # fmt: skip
    # cul-de-sacs: a short street from a junction into the block, ending nowhere
    tx, ty = np.meshgrid(np.arange(kx), np.arange(ky), indexing="xy")
    tiles = (ty * kx + tx).ravel().astype("int64")
    si = (tx.ravel()[:, None] * TILE + pattern.spurs[None, :, 0]).ravel()
    sj = (ty.ravel()[:, None] * TILE + pattern.spurs[None, :, 1]).ravel()
    sdir = np.tile(pattern.spurs[:, 2:], (len(tiles), 1)).astype("float64")
    start = sj * width + si
    ends = xy[start] + sdir * SPACING_M * np.array([0.38, 0.31])
    end_rows = len(xy) + np.arange(len(start))
    xy = np.vstack([xy, ends])
    node = np.r_[node, width * height + np.arange(len(start))]
    n_spur = len(start)
    parts.append(
        {
            "a": start, "b": end_rows, "bend": np.zeros(n_spur), "cls": np.full(n_spur, _LOCAL),
            "tile": np.repeat(tiles, len(pattern.spurs)),
            "street": 10 * (width + height) ** 2 + np.arange(n_spur),
            "bt": np.zeros(n_spur, bool), "homes": np.full(n_spur, 2),
            "stop": np.zeros(n_spur, bool), "spur": np.ones(n_spur, bool),
        }
    )  # fmt: skip
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    a, b = cat["a"].astype("int64"), cat["b"].astype("int64")
    pa, pb = xy[a], xy[b]
    d = pb - pa
    normal = (
        np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )
    mid = (pa + pb) / 2 + normal * cat["bend"][:, None]
    coords = np.stack([pa, mid, pb], axis=1)
    # junctions without any street (all their blocks removed) are not in the network
    used = np.zeros(len(xy), bool)
    used[a] = used[b] = True
    new_row = np.cumsum(used) - 1
    return _Roads(
        node_xy=xy[used], node_id=(node[used] + 1).astype("int64"), a=new_row[a], b=new_row[b],
        coords=coords, cls=cat["cls"].astype("int64"), tile=cat["tile"].astype("int64"),
        street=cat["street"].astype("int64"), bt=cat["bt"].astype(bool),
        homes=cat["homes"].astype("int64"), stop=cat["stop"].astype(bool),
        spur=cat["spur"].astype(bool),
    )  # fmt: skip


def _names(street: IntArray, cls: IntArray, spur: npt.NDArray[np.bool_]) -> ObjArray:
    """Street names (Brazilian-like, fictitious), one per street run."""
    runs, inverse = np.unique(street * 4 + cls * 2 + spur, return_inverse=True)
    run_street, run_cls, run_spur = runs // 4, (runs % 4) // 2, runs % 2 == 1
    h = (run_street * 2654435761) % (2**31)
    names = []
    for code, kind, dead_end in zip(h.tolist(), run_cls.tolist(), run_spur.tolist(), strict=True):
        person = (
            f"{_FIRST_NAMES[code % len(_FIRST_NAMES)]} "
            f"{_SURNAMES[(code // len(_FIRST_NAMES)) % len(_SURNAMES)]}"
        )
        if dead_end:
            names.append(f"Travessa {person}")
        elif kind == _PRINCIPAL:
            names.append(f"Avenida {person}")
        elif kind == _LOCAL and code % 3 == 0:
            names.append(f"Rua das {_TREES[code % len(_TREES)]}")
        else:
            names.append(f"Rua {person}")
    return np.asarray(names, dtype=object)[inverse]


def _elevation(xy: FloatArray, origin: tuple[float, float]) -> FloatArray:
    x, y = xy[:, 0] - origin[0], xy[:, 1] - origin[1]
    return np.round(880 + 25 * np.sin(x / 2500) + 18 * np.cos(y / 3100), 2)


def _vias_and_nodes(
    roads: _Roads, kinds: IntArray, origin: tuple[float, float], crs: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    n_nodes, n_edges = len(roads.node_xy), len(roads.a)
    graph = coo_matrix((np.ones(n_edges), (roads.a, roads.b)), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    size = np.bincount(label[roads.a], minlength=label.max() + 1) * 2  # directed rows
    rank = np.lexsort((np.arange(len(size)), -size))  # largest first
    component = np.empty_like(rank)
    component[rank] = np.arange(len(rank))
    node_comp = component[label]
    small = size[label] <= 10

    rural_edge = kinds[roads.tile] == _RURAL
    highway = _HIGHWAY[roads.cls].copy()
    highway[rural_edge & (roads.cls == _LOCAL)] = "unclassified"
    highway[rural_edge & roads.spur] = "track"
    surface = np.where(rural_edge & (roads.cls != _PRINCIPAL), "unpaved", "asphalt").astype(object)
    avenue = roads.cls == _PRINCIPAL
    lit = _choose(avenue, "yes")
    lanes = _choose(avenue, "2")
    maxspeed = np.where(roads.cls == _PRINCIPAL, "60", np.where(rural_edge, "40", "30"))
    seg = np.diff(roads.coords, axis=1)
    length = np.hypot(seg[..., 0], seg[..., 1]).sum(axis=1)
    elev = _elevation(roads.node_xy, origin)
    slope = np.round(100 * np.abs(elev[roads.b] - elev[roads.a]) / np.maximum(length, 1e-9), 2)
    names = _names(roads.street, roads.cls, roads.spur)
    osmid = _labels("", roads.street + 1)

    def twice(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.repeat(values, 2)  # each street: its row a → b, then b → a

    u = roads.node_id[np.column_stack([roads.a, roads.b]).ravel()]
    v = roads.node_id[np.column_stack([roads.b, roads.a]).ravel()]
    forward = np.asarray(shapely.linestrings(roads.coords), dtype=object)
    backward = np.asarray(shapely.linestrings(roads.coords[:, ::-1]), dtype=object)
    geometry = np.column_stack([forward, backward]).ravel()
    vias = gpd.GeoDataFrame(
        {
            "u": u, "v": v, "key": np.zeros(2 * n_edges, "int64"), "osmid": twice(osmid),
            "name": twice(names), "highway": twice(highway), "length": twice(length),
            "surface": twice(surface), "lit": twice(lit), "lanes": twice(lanes),
            "maxspeed": twice(maxspeed.astype(object)), "oneway": np.zeros(2 * n_edges, bool),
            "hierarquia": twice(_HIERARCHY[roads.cls]), "rural": twice(rural_edge),
            "componente": twice(node_comp[roads.a]).astype("int64"),
            "componente_pequena": twice(small[roads.a]), "declividade_pct": twice(slope),
        },
        geometry=geometry, crs=crs,
    ).loc[:, ROAD_COLUMNS]  # fmt: skip
    degree = np.bincount(np.r_[roads.a, roads.b], minlength=n_nodes)
    nos = gpd.GeoDataFrame(
        {
            "osmid": roads.node_id, "x": roads.node_xy[:, 0], "y": roads.node_xy[:, 1],
            "street_count": degree.astype("int64"), "componente": node_comp.astype("int64"),
            "elevacao_m": elev,
        },
        geometry=shapely.points(roads.node_xy), crs=crs,
    ).loc[:, NODE_COLUMNS]  # fmt: skip
    return vias, nos


# --------------------------------------------------------------------------- grid


def _choose(mask: npt.NDArray[np.bool_], value: ObjArray | str) -> ObjArray:
    """``value`` where ``mask``, None elsewhere (an object array)."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = value[mask] if isinstance(value, np.ndarray) else value
    return out


def _ids(prefix: str, n: int, start: int = 0) -> ObjArray:
    return np.asarray([f"{prefix}{i}" for i in range(start, start + n)], dtype=object)


def _labels(prefix: str, values: IntArray) -> ObjArray:
    """``prefix + str(value)`` for each value, built once per distinct value."""
    unique, inverse = np.unique(values, return_inverse=True)
    return np.asarray([f"{prefix}{v}" for v in unique.tolist()], dtype=object)[inverse]


def _grid(
    roads: _Roads, kinds: IntArray, crs: str, seed: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Low-voltage lines, poles, lamps, medium-voltage lines and transformers."""
    rng = np.random.default_rng([seed, 3])
    kind = kinds[roads.tile]
    bt = np.flatnonzero(roads.bt & (kind == _SERVED) & ~roads.spur)
    mt = np.flatnonzero((roads.cls == _PRINCIPAL) & (kind != _RURAL))
    bt_lines = shapely.linestrings(roads.coords[bt])
    mt_lines = shapely.linestrings(roads.coords[mt])
    # poles at every junction a low-voltage line touches and at the middle of each line
    pole_nodes = np.unique(np.r_[roads.a[bt], roads.b[bt]])
    pole_xy = np.vstack([roads.node_xy[pole_nodes], roads.coords[bt, 1]])
    poles = shapely.points(pole_xy)
    lamp = rng.random(len(pole_xy)) < _LAMP_SHARE
    # avenues are lit: a lamp at the middle of each block of avenue
    avenue = np.flatnonzero((roads.cls == _PRINCIPAL) & (kind != _RURAL))
    lamp_xy = np.vstack([pole_xy[lamp], roads.coords[avenue, 1] + [0.0, 12.0]])
    pole_ids = _ids("P", len(pole_xy))
    lamp_pole = np.r_[pole_ids[lamp], np.full(len(avenue), None, dtype=object)]
    # one transformer per served tile, at its first low-voltage junction
    tiles_bt = roads.tile[bt]
    _, first = np.unique(tiles_bt, return_index=True)
    trafo_xy = roads.node_xy[roads.a[bt[first]]] + [3.0, 3.0]
    n_bt, n_mt, n_p, n_l, n_t = len(bt), len(mt), len(pole_xy), len(lamp_xy), len(trafo_xy)
    lamp_ids = _ids("IP", n_l)
    grid = gpd.GeoDataFrame(
        {
            "fonte": "sintetico",
            "tipo": np.repeat(
                np.array(["bt", "mt", "poste", "transformador", "ponto_ip"], dtype=object),
                [n_bt, n_mt, n_p, n_t, n_l],
            ),
            "id_origem": np.concatenate(
                [_ids("BT", n_bt), _ids("MT", n_mt), pole_ids, _ids("T", n_t), lamp_ids]
            ),
            "tensao_v": np.repeat([220.0, 13800.0, np.nan, 13800.0, np.nan],
                                  [n_bt, n_mt, n_p, n_t, n_l]),
        },
        geometry=np.concatenate(
            [bt_lines, mt_lines, poles, shapely.points(trafo_xy), shapely.points(lamp_xy)]
        ),
        crs=crs,
    ).loc[:, GRID_COLUMNS]  # fmt: skip
    power = np.where(np.arange(n_l) < int(lamp.sum()), 70.0, 150.0)
    lamps = gpd.GeoDataFrame(
        {
            "fonte": "sintetico", "id_origem": lamp_ids, "poste_id": lamp_pole,
            "potencia_w": power, "tipo_lampada": "LED",
            "energia_kwh_ano": np.round(power * 4380 / 1000, 4),
        },
        geometry=shapely.points(lamp_xy), crs=crs,
    ).loc[:, LIGHT_COLUMNS]  # fmt: skip
    return grid, lamps


# --------------------------------------------------------------------------- features

_FACILITY_KINDS = (
    # categoria, grupo, vulneravel, name prefix, offset in the block (x, y as share of spacing)
    ("escola", "educacao", True, "Escola Municipal", (4.4, 4.6)),
    ("creche", "educacao", True, "Creche Municipal", (11.5, 4.4)),
    ("unidade_saude", "saude", True, "Unidade Básica de Saúde", (4.5, 11.6)),
    ("praca", "lazer", False, "Praça", (11.4, 11.5)),
    ("centro_comunitario", "comunitario", False, "Centro Comunitário", (8.5, 2.6)),
)


def _features(
    roads: _Roads, kinds: IntArray, kx: int, ky: int, origin: tuple[float, float], crs: str
) -> dict[str, gpd.GeoDataFrame]:
    urban_tiles = np.flatnonzero(kinds != _RURAL)
    tx, ty = urban_tiles % kx, urban_tiles // kx
    rows: list[pd.DataFrame] = []
    for k, (categoria, grupo, vulneravel, prefix, (ox_, oy_)) in enumerate(_FACILITY_KINDS):
        x = origin[0] + (tx * TILE + ox_) * SPACING_M
        y = origin[1] + (ty * TILE + oy_) * SPACING_M
        n = len(urban_tiles)
        rows.append(
            pd.DataFrame(
                {
                    "osm_id": _ids(f"node/{k + 1}", n),
                    "categoria": categoria, "grupo": grupo, "vulneravel": vulneravel,
                    "nome": _labels(prefix + " ", urban_tiles + 1),
                    "x": x, "y": y,
                }
            )
        )  # fmt: skip
    kind = kinds[roads.tile]
    stops = np.flatnonzero(roads.stop & (kind != _RURAL))
    rows.append(
        pd.DataFrame(
            {
                "osm_id": _ids("node/9", len(stops)), "categoria": "ponto_onibus",
                "grupo": "transporte", "vulneravel": False, "nome": None,
                "x": roads.coords[stops, 1, 0] + 7.0, "y": roads.coords[stops, 1, 1] + 7.0,
            }
        )
    )  # fmt: skip
    crossing = np.flatnonzero((roads.cls == _PRINCIPAL) & (kind != _RURAL) & roads.stop)
    rows.append(
        pd.DataFrame(
            {
                "osm_id": _ids("node/8", len(crossing)), "categoria": "travessia",
                "grupo": "travessia", "vulneravel": False, "nome": None,
                "x": roads.coords[crossing, 1, 0], "y": roads.coords[crossing, 1, 1],
            }
        )
    )  # fmt: skip
    fac = pd.concat(rows, ignore_index=True)
    equipamentos = gpd.GeoDataFrame(
        fac.drop(columns=["x", "y"]), geometry=shapely.points(fac["x"], fac["y"]), crs=crs
    ).loc[:, OPTIONAL_LAYER_COLUMNS["equipamentos"]]

    # buildings along the streets, alternating sides, every third one with an address
    homes = np.where(kind == _RURAL, roads.homes // 2, roads.homes)
    edge = np.repeat(np.arange(len(homes)), homes)
    first = np.cumsum(homes) - homes
    k = np.arange(len(edge)) - first[edge]
    share = (k + 0.5) / homes[edge]
    a, b = roads.coords[edge, 0], roads.coords[edge, 2]
    d = b - a
    side = np.where(k % 2 == 0, 1.0, -1.0) * 14.0
    normal = (
        np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )
    xy = a + d * share[:, None] + normal * side[:, None]
    address = k % 3 == 0
    names = _names(roads.street[edge], roads.cls[edge], roads.spur[edge])
    number = (2 * np.round(share * 50) + (k % 2) + 1).astype("int64")
    bairro = _labels("Bairro ", roads.tile[edge] + 1)
    edificacoes = gpd.GeoDataFrame(
        {
            "osm_id": _ids("node/7", len(edge)),
            "tipo": np.where(address, "endereco", "edificacao").astype(object),
            "logradouro": _choose(address, names),
            "numero": _choose(address, _labels("", number)),
            "bairro": _choose(address, bairro),
            "cep": _choose(address, "39999-000"),
        },
        geometry=shapely.points(xy), crs=crs,
    ).loc[:, OPTIONAL_LAYER_COLUMNS["edificacoes"]]  # fmt: skip

    side_m = TILE * SPACING_M
    boxes = shapely.box(
        origin[0] + tx * side_m, origin[1] + ty * side_m,
        origin[0] + (tx + 1) * side_m, origin[1] + (ty + 1) * side_m,
    )  # fmt: skip
    area_urbana = gpd.GeoDataFrame(
        {"osm_id": _ids("way/", len(boxes), 1), "landuse": "residential"},
        geometry=boxes,
        crs=crs,
    )
    xmin, ymin = roads.node_xy.min(axis=0) - 300
    xmax, ymax = roads.node_xy.max(axis=0) + 300
    limite = gpd.GeoDataFrame(
        {
            "osm_id": ["relation/1"], "nome": ["Município Sintético (dados fictícios)"],
            "admin_level": np.array([8], dtype="int64"), "codigo_ibge": ["9999999"],
        },
        geometry=[shapely.box(xmin, ymin, xmax, ymax)], crs=crs,
    )  # fmt: skip
    all_tiles = np.arange(kx * ky)
    centre = origin + (np.column_stack([all_tiles % kx, all_tiles // kx]) * side_m + side_m / 2)
    bairros = gpd.GeoDataFrame(
        {
            "osm_id": _ids("node/6", len(all_tiles)),
            "nome": _labels("Bairro ", all_tiles + 1),
            "tipo": "suburb",
        },
        geometry=shapely.points(centre), crs=crs,
    )  # fmt: skip
    empty = {c: pd.Series(dtype=object) for c in ("osm_id", "categoria", "nome")}
    pegada = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    bairros_area = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in ("osm_id", "nome", "tipo")},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    return {
        "equipamentos": equipamentos, "equipamentos_pegada": pegada, "edificacoes": edificacoes,
        "area_urbana": area_urbana, "limite": limite, "bairros": bairros,
        "bairros_area": bairros_area,
    }  # fmt: skip


# --------------------------------------------------------------------------- entry points


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
        Rules whose municipality (CRS, IBGE code) the territory takes; default the
        demo's fictitious municipality.
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
    import time

    if edges < 1:
        raise ValueError(f"número de arestas inválido: {edges!r} (>= 1)")
    started = time.perf_counter()
    rules = rules or load_rules("demo")
    crs = rules.municipio.crs or "EPSG:31983"
    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*CENTRE_LONLAT)
    pattern = _pattern(seed)
    kx, ky = _tiles_for(edges, pattern)
    side = TILE * SPACING_M
    origin = (round(x0 - kx * side / 2, 0), round(y0 - ky * side / 2, 0))
    kinds_rng = np.random.default_rng([seed, 4])
    draw = kinds_rng.random(kx * ky)
    kinds = np.where(draw < 0.1, _RURAL, np.where(draw < 0.75, _SERVED, _UNSERVED)).astype("int64")
    if kx * ky == 1:
        kinds[:] = _SERVED
    roads = _roads(pattern, kx, ky, origin, seed)
    vias, nos = _vias_and_nodes(roads, kinds, origin, crs)
    grid, lamps = _grid(roads, kinds, crs, seed)
    layers: dict[str, gpd.GeoDataFrame] = {"vias": vias, "nos": nos}
    layers |= {"rede_existente": grid, "pontos_ip": lamps}
    layers |= _features(roads, kinds, kx, ky, origin, crs)
    generated = time.perf_counter()

    counts = {name: len(layers[name]) for name in LAYERS}
    for h in _HIERARCHY:
        counts[f"vias_{h}"] = int((vias["hierarquia"] == h).sum())
    counts["vias_rurais"] = int(vias["rural"].sum())
    for tipo in ("bt", "mt", "poste", "transformador", "ponto_ip", "via_iluminada"):
        counts[f"rede_{tipo}"] = int((grid["tipo"] == tipo).sum())
    params = {"gerador": "geo_ip.territory.synthetic", "arestas_pedidas": edges, "semente": seed}
    params |= {"ladrilho": TILE, "espacamento_m": SPACING_M, "ladrilhos": [kx, ky]}
    key = hashlib.sha256(
        json.dumps({**params, "versao": __version__}, sort_keys=True).encode()
    ).hexdigest()
    sample = int(rules.avaliacao.amostra_intermediacao.valor)
    betweenness = add_betweenness(vias, sample=sample)  # as build_territory stores it
    attachment = grid_attachment(vias, grid, rules)  # likewise
    when = (created or datetime.now(UTC)).isoformat(timespec="seconds")
    metadata: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "criado_em": when,
        "crs": crs,
        "municipio": rules.municipio.nome,
        "codigo_ibge": rules.municipio.codigo_ibge,
        "regras_arquivo": rules.arquivo,
        "regras_versao": rules.versao,
        "regras_sha256": rules.sha256,
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
        METADATA_KEY: betweenness,
        ATTACHMENT_KEY: attachment.record,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, layers, metadata, rules, {ATTACHMENT_TABLE: attachment.table})
    written = time.perf_counter()
    log.info(
        "território sintético: %d vias, %d nós, %d elementos de rede em %s (%.1f s)",
        counts["vias"], counts["nos"], counts["rede_existente"], out, written - started,
    )  # fmt: skip
    return SyntheticTerritory(
        out, crs, counts, (kx, ky),
        {"gerar_s": generated - started, "gravar_s": written - generated},
    )  # fmt: skip


# --------------------------------------------------------------------------- OSM file

OSM_TIMESTAMP = "2026-01-01T00:00:00Z"
"""Replication timestamp written in the header of :func:`write_synthetic_osm` files."""


@dataclass(frozen=True)
class SyntheticOsm:
    """What :func:`write_synthetic_osm` wrote.

    Attributes
    ----------
    path : Path
        The OSM file.
    counts : dict of str to int
        ``nos`` (OSM nodes), ``vias`` (OSM ways with ``highway``), ``trechos``
        (street segments between junctions: the territory has twice as many road
        edges) and ``enderecos``, ``equipamentos``, ``postes``, ``areas_urbanas``.
    tiles : tuple of int
        Tiles along x and y.
    """

    path: Path
    counts: dict[str, int]
    tiles: tuple[int, int]


def _street_ways(roads: _Roads) -> tuple[IntArray, IntArray]:
    """Chain the segments of each street run into ways: segment order and way starts."""
    a_xy = roads.node_xy[roads.a]
    order = np.lexsort((a_xy[:, 0] + a_xy[:, 1], roads.street))
    a, b, street = roads.a[order], roads.b[order], roads.street[order]
    joined = (street[1:] == street[:-1]) & (a[1:] == b[:-1])
    starts = np.r_[0, np.flatnonzero(~joined) + 1]
    return order, starts


def write_synthetic_osm(out: str | Path, *, edges: int, seed: int = 0) -> SyntheticOsm:
    """Write the street pattern of :func:`write_synthetic_territory` as an OSM file.

    The same tiles and streets, in lon/lat around :data:`CENTRE_LONLAT`: one way per
    street run (``highway``, ``name``, ``surface``, ``maxspeed``, avenues with
    ``lit=yes`` and ``lanes=2``), each block drawn through its bent middle vertex;
    rural tiles' local streets are ``unclassified`` and their cul-de-sacs
    ``track``. Besides the streets: an address node (``addr:street``,
    ``addr:housenumber``) for every third building of
    :func:`write_synthetic_territory`, the facilities of urban tiles (``amenity``),
    bus stops, poles with lamps (``power=pole``, ``highway=street_lamp``) and one
    ``landuse=residential`` area per urban tile. Deterministic: the same arguments
    write the same objects, and the header carries :data:`OSM_TIMESTAMP`.

    Parameters
    ----------
    out : str or Path
        File to write (``.osm.pbf``, ``.osm`` ...; replaced when it exists).
    edges : int
        Road edges wanted in the territory built from the file (rows of ``vias``,
        both directions of a street counted); the result is within a tile of it.
    seed : int, default 0
        Seed of the pattern and of the tile kinds.

    Returns
    -------
    SyntheticOsm
        Path, counts and tiles.

    Raises
    ------
    ValueError
        If ``edges`` < 1.
    """
    import osmium
    from osmium.osm import mutable

    if edges < 1:
        raise ValueError(f"número de arestas inválido: {edges!r} (>= 1)")
    crs = "EPSG:31983"
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = to_crs.transform(*CENTRE_LONLAT)
    pattern = _pattern(seed)
    kx, ky = _tiles_for(edges, pattern)
    side = TILE * SPACING_M
    origin = (round(x0 - kx * side / 2, 0), round(y0 - ky * side / 2, 0))
    draw = np.random.default_rng([seed, 4]).random(kx * ky)
    kinds = np.where(draw < 0.1, _RURAL, np.where(draw < 0.75, _SERVED, _UNSERVED)).astype("int64")
    if kx * ky == 1:
        kinds[:] = _SERVED
    roads = _roads(pattern, kx, ky, origin, seed)
    n_junctions, n_segments = len(roads.node_xy), len(roads.a)

    def lonlat(xy: FloatArray) -> FloatArray:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 7)

    # nodes: junctions (ids 1..N), then each block's middle vertex
    node_ll = lonlat(np.vstack([roads.node_xy, roads.coords[:, 1]]))
    junction_id = np.arange(1, n_junctions + 1, dtype=np.int64)
    mid_id = n_junctions + 1 + np.arange(n_segments, dtype=np.int64)
    kind = kinds[roads.tile]
    rural = kind == _RURAL
    highway = _HIGHWAY[roads.cls].copy()
    highway[rural & (roads.cls == _LOCAL)] = "unclassified"
    highway[rural & roads.spur] = "track"
    surface = np.where(rural & (roads.cls != _PRINCIPAL), "unpaved", "asphalt")
    maxspeed = np.where(roads.cls == _PRINCIPAL, "60", np.where(rural, "40", "30"))
    names = _names(roads.street, roads.cls, roads.spur)
    order, starts = _street_ways(roads)
    bounds = np.r_[starts, len(order)]

    # other features: addresses, facilities, bus stops, poles with lamps, urban areas
    homes = np.where(rural, roads.homes // 2, roads.homes)
    edge = np.repeat(np.arange(n_segments), homes)
    k = np.arange(len(edge)) - (np.cumsum(homes) - homes)[edge]
    share = (k + 0.5) / np.maximum(homes[edge], 1)
    pa, pb = roads.coords[edge, 0], roads.coords[edge, 2]
    d = pb - pa
    normal = (
        np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )
    side_m = np.where(k % 2 == 0, 1.0, -1.0) * 14.0
    home_xy = pa + d * share[:, None] + normal * side_m[:, None]
    address = k % 3 == 0
    address_ll = lonlat(home_xy[address])
    address_street = names[edge[address]]
    address_number = (2 * np.round(share[address] * 50) + (k[address] % 2) + 1).astype("int64")
    urban_tiles = np.flatnonzero(kinds != _RURAL)
    tx, ty = urban_tiles % kx, urban_tiles // kx
    facilities = []
    for amenity, prefix, (ox_, oy_) in (
        ("school", "Escola Municipal", (4.4, 4.6)),
        ("kindergarten", "Creche Municipal", (11.5, 4.4)),
        ("clinic", "Unidade Básica de Saúde", (4.5, 11.6)),
        ("community_centre", "Centro Comunitário", (8.5, 2.6)),
    ):
        xy = np.column_stack(
            [origin[0] + (tx * TILE + ox_) * SPACING_M, origin[1] + (ty * TILE + oy_) * SPACING_M]
        )
        for t, ll in zip(urban_tiles.tolist(), lonlat(xy).tolist(), strict=True):
            facilities.append((ll, {"amenity": amenity, "name": f"{prefix} {t + 1}"}))
    stops = np.flatnonzero(roads.stop & ~rural)
    stop_ll = lonlat(roads.coords[stops, 1] + 7.0)
    served = np.flatnonzero(roads.bt & (kind == _SERVED) & ~roads.spur)
    pole_ll = lonlat(roads.coords[served, 1] + [0.0, 9.0])
    lamp = np.random.default_rng([seed, 3]).random(len(served)) < _LAMP_SHARE
    box_xy = np.stack(
        [
            np.column_stack([origin[0] + (tx + dx) * side, origin[1] + (ty + dy) * side])
            for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1))
        ],
        axis=1,
    )
    box_ll = lonlat(box_xy.reshape(-1, 2)).reshape(-1, 4, 2)

    header = osmium.io.Header()
    header.set("generator", "geo_ip.territory.synthetic")
    header.set("osmosis_replication_timestamp", OSM_TIMESTAMP)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    next_id = int(mid_id[-1]) + 1 if n_segments else n_junctions + 1
    with osmium.SimpleWriter(str(out), header=header) as writer:
        ids = np.r_[junction_id, mid_id].tolist()
        for node_id, ll in zip(ids, node_ll.tolist(), strict=True):
            writer.add_node(mutable.Node(id=node_id, location=(ll[0], ll[1])))
        point_tags: list[tuple[list[float], dict[str, str]]] = []
        for ll, street, number in zip(
            address_ll.tolist(), address_street.tolist(), address_number.tolist(), strict=True
        ):
            point_tags.append(
                (ll, {"addr:street": street, "addr:housenumber": str(number), "building": "yes"})
            )
        point_tags += facilities
        point_tags += [(ll, {"highway": "bus_stop"}) for ll in stop_ll.tolist()]
        for ll, lit in zip(pole_ll.tolist(), lamp.tolist(), strict=True):
            tags = {"power": "pole"} | ({"highway": "street_lamp"} if lit else {})
            point_tags.append((ll, tags))
        for ll, tags in point_tags:
            writer.add_node(mutable.Node(id=next_id, location=(ll[0], ll[1]), tags=tags))
            next_id += 1
        box_ids = []
        for corners in box_ll.tolist():
            first = next_id
            for ll in corners:
                writer.add_node(mutable.Node(id=next_id, location=(ll[0], ll[1])))
                next_id += 1
            box_ids.append([first, first + 1, first + 2, first + 3, first])
        way_id = 1
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            segs = order[lo:hi]
            refs = [int(junction_id[roads.a[segs[0]]])]
            for s_ in segs.tolist():
                refs += [int(mid_id[s_]), int(junction_id[roads.b[s_]])]
            s0 = int(segs[0])
            tags = {
                "highway": str(highway[s0]),
                "name": str(names[s0]),
                "surface": str(surface[s0]),
                "maxspeed": str(maxspeed[s0]),
            }
            if roads.cls[s0] == _PRINCIPAL:
                tags |= {"lit": "yes", "lanes": "2"}
            writer.add_way(mutable.Way(id=way_id, nodes=refs, tags=tags))
            way_id += 1
        for refs in box_ids:
            writer.add_way(mutable.Way(id=way_id, nodes=refs, tags={"landuse": "residential"}))
            way_id += 1
    counts = {
        "nos": next_id - 1,
        "vias": len(starts),
        "trechos": n_segments,
        "enderecos": int(address.sum()),
        "equipamentos": len(facilities) + len(stops),
        "postes": len(served),
        "areas_urbanas": len(box_ids),
    }
    log.info("arquivo OSM sintético: %s em %s", counts, out)
    return SyntheticOsm(out, counts, (kx, ky))


def _cpfs(rng: np.random.Generator, n: int) -> ObjArray:
    """``n`` valid, fictitious CPFs, formatted ``123.456.789-09``."""
    digits = rng.integers(0, 10, (n, 9))
    digits[:, 0] = rng.integers(1, 10, n)  # never all equal
    digits[:, 1] = (digits[:, 0] + 1 + rng.integers(0, 8, n)) % 10
    first = (digits * np.arange(10, 1, -1)).sum(axis=1) * 10 % 11 % 10
    with_first = np.column_stack([digits, first])
    second = (with_first * np.arange(11, 1, -1)).sum(axis=1) * 10 % 11 % 10
    full = np.column_stack([with_first, second]).astype(str)
    text = pd.Series(["".join(row) for row in full])
    formatted = text.str[:3] + "." + text.str[3:6] + "." + text.str[6:9] + "-" + text.str[9:]
    return formatted.to_numpy(dtype=object)


def synthetic_requests(territory: str | Path, n: int, *, seed: int = 3) -> pd.DataFrame:
    """Draw ``n`` requests with coordinates a few metres off random road points.

    Parameters
    ----------
    territory : str or Path
        A territory GeoPackage (synthetic or real).
    n : int
        Number of requests.
    seed : int, default 3
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        The columns of the requests spreadsheet (``protocolo``, ``data_protocolo``,
        ``tipo``, ``latitude``, ``longitude``, ``residencias``, ``moradores``,
        ``cadunico``, ``renda_familiar``, ``uso_imovel``, ``mei``,
        ``cpf_solicitante``, ``estrategico``, ``justificativa_estrategica``), about
        2 % of applicants with two requests, a few commercial uses and strategic
        requests.
    """
    roads = pyogrio.read_dataframe(territory, layer="vias", columns=[])
    rng = np.random.default_rng(seed)
    lines = np.asarray(roads.geometry.array, dtype=object)[rng.integers(0, len(roads), n)]
    on_road = shapely.line_interpolate_point(lines, rng.uniform(0, 1, n), normalized=True)
    x = shapely.get_x(on_road) + rng.normal(0, 8, n)
    y = shapely.get_y(on_road) + rng.normal(0, 8, n)
    lon, lat = Transformer.from_crs(roads.crs, "EPSG:4326", always_xy=True).transform(x, y)
    day0 = date(2026, 1, 2)
    days = rng.integers(0, 180, n)
    homes = rng.integers(1, 7, n)
    use = rng.choice(
        np.array(["residencial", "misto", "comercial", ""], dtype=object), n,
        p=[0.86, 0.05, 0.05, 0.04],
    )  # fmt: skip
    cpf = _cpfs(rng, n)
    again = rng.random(n) < 0.02
    cpf[again] = cpf[rng.integers(0, n, int(again.sum()))]
    strategic = rng.random(n) < 0.01
    return pd.DataFrame(
        {
            "protocolo": [f"S-{i:07d}" for i in range(n)],
            "data_protocolo": [(day0 + timedelta(days=int(d))).isoformat() for d in days],
            "tipo": rng.choice(
                np.array(["extensao_rede", "implantacao", "melhoria"], dtype=object), n,
                p=[0.7, 0.2, 0.1],
            ),
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "residencias": homes,
            "moradores": homes * rng.integers(2, 5, n),
            "cadunico": rng.choice(np.array(["sim", "não", ""], dtype=object), n),
            "renda_familiar": rng.integers(8, 60, n) * 100,
            "uso_imovel": use,
            "mei": np.where((use == "comercial") & (rng.random(n) < 0.4), "sim", ""),
            "cpf_solicitante": cpf,
            "estrategico": np.where(strategic, "sim", "não"),
            "justificativa_estrategica": np.where(
                strategic, "Ligação de equipamento público (parecer técnico fictício)", ""
            ),
        }
    )  # fmt: skip


def write_synthetic_requests(territory: str | Path, n: int, out: str | Path, seed: int = 3) -> Path:
    """Write :func:`synthetic_requests` as a CSV spreadsheet.

    Parameters
    ----------
    territory : str or Path
        A territory GeoPackage.
    n : int
        Number of requests.
    out : str or Path
        CSV to write.
    seed : int, default 3
        Seed of the draw.

    Returns
    -------
    Path
        ``out``.
    """
    out = Path(out)
    synthetic_requests(territory, n, seed=seed).to_csv(out, index=False)
    return out
