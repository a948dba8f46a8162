"""The grid and feature layers of a synthetic territory (see :mod:`~geo_ip.territory.synthetic`).

:func:`grid_layers` draws the existing grid of the served tiles (``rede_existente``:
low-voltage lines, poles, lighting points, medium-voltage lines and transformers; and
``pontos_ip``); :func:`feature_layers` the other layers of the territory
(``equipamentos``, ``edificacoes``, ``area_urbana``, ``limite``, ``bairros``, the
empty ``equipamentos_pegada`` and ``bairros_area``, and the water: a small lake in
``agua``, a river crossing the town and a stream into it in ``cursos_agua``), with the
columns of :func:`geo_ip.territory.build.build_territory`. Deterministic, like the roads
they are drawn along.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.territory.reader import GRID_COLUMNS, LIGHT_COLUMNS, OPTIONAL_LAYER_COLUMNS
from geo_ip.territory.synthetic_streets import (
    LAMP_SHARE,
    PRINCIPAL,
    RURAL,
    SERVED,
    SPACING_M,
    TILE,
    BoolArray,
    IntArray,
    ObjArray,
    SyntheticLayout,
    buildings,
    street_names,
)

__all__ = [
    "choose",
    "feature_layers",
    "grid_layers",
    "id_column",
    "label_column",
    "lake",
    "water_courses",
]


def choose(mask: BoolArray, value: ObjArray | str) -> ObjArray:
    """``value`` where ``mask``, None elsewhere (an object array)."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = value[mask] if isinstance(value, np.ndarray) else value
    return out


def id_column(prefix: str, n: int, start: int = 0) -> ObjArray:
    """``n`` identifiers ``prefix + str(i)``, ``i`` counting from ``start``."""
    return np.asarray([f"{prefix}{i}" for i in range(start, start + n)], dtype=object)


def label_column(prefix: str, values: IntArray) -> ObjArray:
    """``prefix + str(value)`` for each value, built once per distinct value."""
    unique, inverse = np.unique(values, return_inverse=True)
    return np.asarray([f"{prefix}{v}" for v in unique.tolist()], dtype=object)[inverse]


# --------------------------------------------------------------------------- water

_LAKE_RADIUS_M = 40.0
"""Largest radius of the synthetic lake (smaller when its block is narrower)."""
_RIVER_WAVE_M = (18.0, 700.0)
"""Amplitude and wavelength of the river's meanders."""


def lake(layout: SyntheticLayout) -> shapely.Polygon:
    """Draw a round lake in the block of the first tile farthest from its streets.

    Only the blocks of the tile's southern half are candidates (the river runs through
    the middle of the territory); the lake keeps 8 m from every street.

    Parameters
    ----------
    layout : SyntheticLayout
        The roads and tiles.

    Returns
    -------
    shapely.Polygon
        The lake, in the layout's CRS (radius at most 40 m).
    """
    roads, origin = layout.roads, layout.origin
    streets = shapely.STRtree(shapely.linestrings(roads.coords[roads.tile == 0]))
    ii, jj = np.meshgrid(np.arange(TILE), np.arange(TILE // 2 - 1), indexing="xy")
    centres = np.asarray(
        shapely.points(
            origin[0] + (ii.ravel() + 0.5) * SPACING_M, origin[1] + (jj.ravel() + 0.5) * SPACING_M
        ),
        dtype=object,
    )
    _, distance = streets.query_nearest(centres, return_distance=True, all_matches=False)
    best = int(np.argmax(distance))
    radius = min(_LAKE_RADIUS_M, float(distance[best]) - 8.0)
    return shapely.buffer(centres[best], radius, quad_segs=8)


def water_courses(layout: SyntheticLayout) -> tuple[shapely.LineString, shapely.LineString]:
    """Draw the river, west to east through the territory's middle, and a stream into it.

    The river meanders between two rows of streets (half a block from each) and reaches
    250 m beyond the town on both sides (inside the boundary, 300 m out); the stream
    comes down from the north, between two columns of streets, and ends on a vertex of
    the river.

    Parameters
    ----------
    layout : SyntheticLayout
        The roads and tiles.

    Returns
    -------
    river, stream : shapely.LineString
        In the layout's CRS, the river west to east, the stream north to south.
    """
    origin, (kx, ky) = layout.origin, layout.tiles
    amplitude, wavelength = _RIVER_WAVE_M
    side = TILE * SPACING_M
    y_mid = origin[1] + (ky * TILE // 2 + 0.5) * SPACING_M
    x = np.arange(origin[0] - 250.0, origin[0] + kx * side + 250.0 + 1e-6, 25.0)
    y = y_mid + amplitude * np.sin(2 * np.pi * (x - origin[0]) / wavelength)
    river = shapely.LineString(np.column_stack([x, y]))
    x_end = origin[0] + (kx * TILE // 2 + 0.5) * SPACING_M
    y_end = y_mid + amplitude * np.sin(2 * np.pi * (x_end - origin[0]) / wavelength)
    ys = np.r_[np.arange(origin[1] + ky * side + 250.0, y_end, -25.0), y_end]
    xs = x_end + 12.0 * np.sin((ys - y_end) / 150.0)
    return river, shapely.LineString(np.column_stack([xs, ys]))


def _water(layout: SyntheticLayout, crs: str) -> dict[str, gpd.GeoDataFrame]:
    """``agua`` (one lake) and ``cursos_agua`` (a river and a stream), with fictitious names.

    Not from OSM: ``osm_id`` is empty, as no OSM element stands behind them.
    """
    river, stream = water_courses(layout)
    agua = gpd.GeoDataFrame(
        {"osm_id": [None], "tipo": ["Lago ou lagoa"], "nome": ["Lagoa Sintética"]},
        geometry=[lake(layout)], crs=crs,
    )  # fmt: skip
    cursos = gpd.GeoDataFrame(
        {
            "osm_id": [None, None], "tipo": ["Rio", "Córrego"],
            "nome": ["Rio Sintético", "Córrego Sintético"],
        },
        geometry=[river, stream], crs=crs,
    )  # fmt: skip
    for layer in (agua, cursos):
        layer["osm_id"] = layer["osm_id"].astype(object)
    return {"agua": agua, "cursos_agua": cursos}


# --------------------------------------------------------------------------- grid


def grid_layers(
    layout: SyntheticLayout, crs: str, seed: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Low-voltage lines, poles, lamps, medium-voltage lines and transformers.

    Parameters
    ----------
    layout : SyntheticLayout
        The roads and tile kinds.
    crs : str
        CRS of the layers.
    seed : int
        Seed of the lamps drawn on poles.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``rede_existente`` and ``pontos_ip``.
    """
    roads = layout.roads
    rng = np.random.default_rng([seed, 3])
    kind = layout.kinds[roads.tile]
    bt = np.flatnonzero(roads.bt & (kind == SERVED) & ~roads.spur)
    mt = np.flatnonzero((roads.cls == PRINCIPAL) & (kind != RURAL))
    bt_lines = shapely.linestrings(roads.coords[bt])
    mt_lines = shapely.linestrings(roads.coords[mt])
    # poles at every junction a low-voltage line touches and at the middle of each line
    pole_nodes = np.unique(np.r_[roads.a[bt], roads.b[bt]])
    pole_xy = np.vstack([roads.node_xy[pole_nodes], roads.coords[bt, 1]])
    poles = shapely.points(pole_xy)
    lamp = rng.random(len(pole_xy)) < LAMP_SHARE
    # avenues are lit: a lamp at the middle of each block of avenue
    avenue = np.flatnonzero((roads.cls == PRINCIPAL) & (kind != RURAL))
    lamp_xy = np.vstack([pole_xy[lamp], roads.coords[avenue, 1] + [0.0, 12.0]])
    pole_ids = id_column("P", len(pole_xy))
    lamp_pole = np.r_[pole_ids[lamp], np.full(len(avenue), None, dtype=object)]
    # one transformer per served tile, at its first low-voltage junction
    tiles_bt = roads.tile[bt]
    _, first = np.unique(tiles_bt, return_index=True)
    trafo_xy = roads.node_xy[roads.a[bt[first]]] + [3.0, 3.0]
    n_bt, n_mt, n_p, n_l, n_t = len(bt), len(mt), len(pole_xy), len(lamp_xy), len(trafo_xy)
    lamp_ids = id_column("IP", n_l)
    grid = gpd.GeoDataFrame(
        {
            "fonte": "sintetico",
            "tipo": np.repeat(
                np.array(["bt", "mt", "poste", "transformador", "ponto_ip"], dtype=object),
                [n_bt, n_mt, n_p, n_t, n_l],
            ),
            "id_origem": np.concatenate(
                [id_column("BT", n_bt), id_column("MT", n_mt), pole_ids, id_column("T", n_t),
                 lamp_ids]
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


def _equipamentos(layout: SyntheticLayout, crs: str) -> gpd.GeoDataFrame:
    """Place the facilities of each urban tile, bus stops and avenue crossings."""
    roads, origin = layout.roads, layout.origin
    urban_tiles, tx, ty = layout.urban_tiles()
    rows: list[pd.DataFrame] = []
    for k, (categoria, grupo, vulneravel, prefix, (ox_, oy_)) in enumerate(_FACILITY_KINDS):
        x = origin[0] + (tx * TILE + ox_) * SPACING_M
        y = origin[1] + (ty * TILE + oy_) * SPACING_M
        n = len(urban_tiles)
        rows.append(
            pd.DataFrame(
                {
                    "osm_id": id_column(f"node/{k + 1}", n),
                    "categoria": categoria, "grupo": grupo, "vulneravel": vulneravel,
                    "nome": label_column(prefix + " ", urban_tiles + 1),
                    "x": x, "y": y,
                }
            )
        )  # fmt: skip
    kind = layout.kinds[roads.tile]
    stops = np.flatnonzero(roads.stop & (kind != RURAL))
    rows.append(
        pd.DataFrame(
            {
                "osm_id": id_column("node/9", len(stops)), "categoria": "ponto_onibus",
                "grupo": "transporte", "vulneravel": False, "nome": None,
                "x": roads.coords[stops, 1, 0] + 7.0, "y": roads.coords[stops, 1, 1] + 7.0,
            }
        )
    )  # fmt: skip
    crossing = np.flatnonzero((roads.cls == PRINCIPAL) & (kind != RURAL) & roads.stop)
    rows.append(
        pd.DataFrame(
            {
                "osm_id": id_column("node/8", len(crossing)), "categoria": "travessia",
                "grupo": "travessia", "vulneravel": False, "nome": None,
                "x": roads.coords[crossing, 1, 0], "y": roads.coords[crossing, 1, 1],
            }
        )
    )  # fmt: skip
    fac = pd.concat(rows, ignore_index=True)
    return gpd.GeoDataFrame(
        fac.drop(columns=["x", "y"]), geometry=shapely.points(fac["x"], fac["y"]), crs=crs
    ).loc[:, OPTIONAL_LAYER_COLUMNS["equipamentos"]]


def _edificacoes(layout: SyntheticLayout, crs: str) -> gpd.GeoDataFrame:
    """Place buildings along the streets, alternating sides, every third with an address."""
    roads = layout.roads
    homes = buildings(roads, layout.kinds[roads.tile] == RURAL)
    edge, address = homes.edge, homes.address
    names = street_names(roads.street[edge], roads.cls[edge], roads.spur[edge])
    bairro = label_column("Bairro ", roads.tile[edge] + 1)
    return gpd.GeoDataFrame(
        {
            "osm_id": id_column("node/7", len(edge)),
            "tipo": np.where(address, "endereco", "edificacao").astype(object),
            "logradouro": choose(address, names),
            "numero": choose(address, label_column("", homes.number)),
            "bairro": choose(address, bairro),
            "cep": choose(address, "39999-000"),
        },
        geometry=shapely.points(homes.xy), crs=crs,
    ).loc[:, OPTIONAL_LAYER_COLUMNS["edificacoes"]]  # fmt: skip


def _areas(layout: SyntheticLayout, crs: str) -> dict[str, gpd.GeoDataFrame]:
    """``area_urbana`` (one box per urban tile), ``limite`` and ``bairros`` (one per tile)."""
    origin, (kx, ky) = layout.origin, layout.tiles
    _, tx, ty = layout.urban_tiles()
    side_m = TILE * SPACING_M
    boxes = shapely.box(
        origin[0] + tx * side_m, origin[1] + ty * side_m,
        origin[0] + (tx + 1) * side_m, origin[1] + (ty + 1) * side_m,
    )  # fmt: skip
    area_urbana = gpd.GeoDataFrame(
        {"osm_id": id_column("way/", len(boxes), 1), "landuse": "residential"},
        geometry=boxes,
        crs=crs,
    )
    xmin, ymin = layout.roads.node_xy.min(axis=0) - 300
    xmax, ymax = layout.roads.node_xy.max(axis=0) + 300
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
            "osm_id": id_column("node/6", len(all_tiles)),
            "nome": label_column("Bairro ", all_tiles + 1),
            "tipo": "suburb",
        },
        geometry=shapely.points(centre), crs=crs,
    )  # fmt: skip
    return {"area_urbana": area_urbana, "limite": limite, "bairros": bairros}


def feature_layers(layout: SyntheticLayout, crs: str) -> dict[str, gpd.GeoDataFrame]:
    """Build the territory's layers besides roads and grid.

    Parameters
    ----------
    layout : SyntheticLayout
        The roads and tiles.
    crs : str
        CRS of the layers.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``equipamentos``, ``equipamentos_pegada`` (empty), ``edificacoes``,
        ``area_urbana``, ``limite``, ``bairros``, ``bairros_area`` (empty), ``agua``
        (a lake) and ``cursos_agua`` (a river and a stream).
    """
    empty = {c: pd.Series(dtype=object) for c in ("osm_id", "categoria", "nome")}
    pegada = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    bairros_area = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in ("osm_id", "nome", "tipo")},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    areas = _areas(layout, crs)
    return {
        "equipamentos": _equipamentos(layout, crs), "equipamentos_pegada": pegada,
        "edificacoes": _edificacoes(layout, crs), "area_urbana": areas["area_urbana"],
        "limite": areas["limite"], "bairros": areas["bairros"], "bairros_area": bairros_area,
        **_water(layout, crs),
    }  # fmt: skip
