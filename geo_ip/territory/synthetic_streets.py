"""The street pattern of the synthetic territories, tiled into a road network.

One generated street pattern — a block of ``TILE × TILE`` junctions ``SPACING_M``
apart, with a principal avenue on its first row and column, a secondary street through
its middle, local streets elsewhere, some local blocks removed and a few cul-de-sacs
(dead ends) — is tiled (:func:`synthetic_layout`) until the road network has about the
number of edges asked for. Each tile is rural, served by the grid or not served (drawn
per tile). :mod:`geo_ip.territory.synthetic` writes it as a territory,
:mod:`geo_ip.territory.synthetic_osm` as an OSM file; both draw the same streets,
names and buildings from here.

Everything is vectorised (numpy) and deterministic: the same arguments give the same
network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

__all__ = [
    "CENTRE_LONLAT",
    "HIGHWAY",
    "LAMP_SHARE",
    "LOCAL",
    "PRINCIPAL",
    "RURAL",
    "SECONDARY",
    "SERVED",
    "SPACING_M",
    "TILE",
    "UNSERVED",
    "Buildings",
    "Roads",
    "SyntheticLayout",
    "buildings",
    "street_names",
    "street_tags",
    "synthetic_layout",
]

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
LAMP_SHARE = 0.6
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
PRINCIPAL, SECONDARY, LOCAL = 0, 1, 2
"""Street classes: principal avenue, secondary street, local street."""
HIGHWAY = np.array(["primary", "secondary", "residential"], dtype=object)
"""OSM ``highway`` of each street class (in urban tiles)."""
RURAL, SERVED, UNSERVED = 0, 1, 2
"""Tile kinds: rural, served by the grid, not served."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- pattern


@dataclass(frozen=True)
class _Pattern:
    """One tile of the street pattern, in tile-local junction indices."""

    keep_h: BoolArray  # (TILE, TILE): edge (i, j)-(i+1, j) exists
    keep_v: BoolArray  # (TILE, TILE): edge (i, j)-(i, j+1) exists
    bend_h: FloatArray  # sideways offset (m) of the middle vertex
    bend_v: FloatArray
    bt_h: BoolArray  # low-voltage line along the edge (served tiles)
    bt_v: BoolArray
    homes_h: IntArray  # buildings along the edge
    homes_v: IntArray
    spurs: IntArray  # (k, 4): i, j, sx, sy of each cul-de-sac
    stops_h: BoolArray  # bus stop beside the edge
    stops_v: BoolArray


def _line_class(index: IntArray) -> IntArray:
    """Class of the street on row/column ``index`` (tile-local)."""
    local = index % TILE
    return np.where(local == 0, PRINCIPAL, np.where(local == TILE // 2, SECONDARY, LOCAL))


def _pattern(seed: int) -> _Pattern:
    """Draw the street pattern of one tile."""
    rng = np.random.default_rng([seed, 1])
    shape = (TILE, TILE)
    j_row = np.broadcast_to(np.arange(TILE)[None, :], shape).astype("int64")  # [i, j] -> j
    i_col = np.broadcast_to(np.arange(TILE)[:, None], shape).astype("int64")  # [i, j] -> i
    local_h, local_v = _line_class(j_row) == LOCAL, _line_class(i_col) == LOCAL
    keep_h = ~(local_h & (rng.random(shape) < _REMOVED_LOCAL))
    keep_v = ~(local_v & (rng.random(shape) < _REMOVED_LOCAL))
    bend_h = np.where(local_h, rng.uniform(-9, 9, shape), 0.0)
    bend_v = np.where(local_v, rng.uniform(-9, 9, shape), 0.0)
    not_avenue_h, not_avenue_v = _line_class(j_row) != PRINCIPAL, _line_class(i_col) != PRINCIPAL
    bt_h = not_avenue_h & (rng.random(shape) < _BT_SHARE)
    bt_v = not_avenue_v & (rng.random(shape) < _BT_SHARE)
    homes_h = np.where(local_h, rng.integers(0, 4, shape), rng.integers(0, 2, shape))
    homes_v = np.where(local_v, rng.integers(0, 4, shape), rng.integers(0, 2, shape))
    inner = np.flatnonzero(_line_class(np.arange(TILE)) == LOCAL)
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


def _tile_kinds(seed: int, n_tiles: int) -> IntArray:
    """Kind of each tile: about 10 % rural, 65 % served, 25 % not served (one tile: served)."""
    draw = np.random.default_rng([seed, 4]).random(n_tiles)
    kinds = np.where(draw < 0.1, RURAL, np.where(draw < 0.75, SERVED, UNSERVED)).astype("int64")
    if n_tiles == 1:
        kinds[:] = SERVED
    return kinds


# --------------------------------------------------------------------------- roads


@dataclass
class Roads:
    """Undirected street segments and junctions of the whole territory."""

    node_xy: FloatArray  # (N, 2)
    node_id: IntArray
    a: IntArray  # (E,) node rows
    b: IntArray
    coords: FloatArray  # (E, 3, 2) a → middle → b
    cls: IntArray  # street class
    tile: IntArray  # tile number (ty * kx + tx)
    street: IntArray  # street run number (for names)
    bt: BoolArray
    homes: IntArray
    stop: BoolArray
    spur: BoolArray


def _unit_normal(d: FloatArray) -> FloatArray:
    """Return the unit normals (to the left) of the vectors ``d`` (rows)."""
    return (
        np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )


def _junctions(
    width: int, height: int, origin: tuple[float, float], seed: int
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Jittered junctions of the ``width × height`` lattice: xy, node number, i, j."""
    rng = np.random.default_rng([seed, 2])
    mesh_i, mesh_j = np.meshgrid(np.arange(width), np.arange(height), indexing="xy")
    gi, gj = mesh_i.ravel().astype("int64"), mesh_j.ravel().astype("int64")
    jitter = rng.uniform(-6, 6, (len(gi), 2))
    xy = np.column_stack([origin[0] + gi * SPACING_M, origin[1] + gj * SPACING_M]) + jitter
    return xy, gj * width + gi, gi, gj


def _blocks(
    pattern: _Pattern,
    lattice: tuple[IntArray, IntArray],
    size: tuple[int, int],
    tiles: tuple[int, int],
    horizontal: bool,
) -> dict[str, Any]:
    """Lay the horizontal (or vertical) street segments of the lattice, as columns."""
    gi, gj = lattice
    width, height = size
    kx, ky = tiles
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
    cls = np.where(closing, PRINCIPAL, _line_class(line))
    tile = np.minimum(j // TILE, ky - 1) * kx + np.minimum(i // TILE, kx - 1)
    # one street name per line and tile (an avenue per line across the territory)
    along = (i if horizontal else j) // TILE
    run = np.where(cls == PRINCIPAL, line, line * (kx + ky + 2) + along)
    street = run * 2 + (0 if horizontal else 1)
    a = j * width + i
    b = (j + dj) * width + (i + di)
    bend = (pattern.bend_h if horizontal else pattern.bend_v)[li, lj]
    bend = np.where(closing, 0.0, bend)
    return {
        "a": a, "b": b, "bend": bend, "cls": cls, "tile": tile, "street": street,
        "bt": (pattern.bt_h if horizontal else pattern.bt_v)[li, lj] & ~closing,
        "homes": (pattern.homes_h if horizontal else pattern.homes_v)[li, lj],
        "stop": (pattern.stops_h if horizontal else pattern.stops_v)[li, lj],
        "spur": np.zeros(len(a), bool),
    }  # fmt: skip


def _cul_de_sacs(
    pattern: _Pattern, xy: FloatArray, size: tuple[int, int], tiles: tuple[int, int]
) -> tuple[dict[str, Any], FloatArray]:
    """Cul-de-sacs: a short street from a junction into the block, ending nowhere.

    Returns the segments (as columns; their ends are numbered after the junctions of
    ``xy``) and the xy of their ends.
    """
    width, height = size
    kx, ky = tiles
    tx, ty = np.meshgrid(np.arange(kx), np.arange(ky), indexing="xy")
    tile_numbers = (ty * kx + tx).ravel().astype("int64")
    si = (tx.ravel()[:, None] * TILE + pattern.spurs[None, :, 0]).ravel()
    sj = (ty.ravel()[:, None] * TILE + pattern.spurs[None, :, 1]).ravel()
    sdir = np.tile(pattern.spurs[:, 2:], (len(tile_numbers), 1)).astype("float64")
    start = sj * width + si
    ends = xy[start] + sdir * SPACING_M * np.array([0.38, 0.31])
    n_spur = len(start)
    segments = {
        "a": start, "b": len(xy) + np.arange(n_spur), "bend": np.zeros(n_spur),
        "cls": np.full(n_spur, LOCAL), "tile": np.repeat(tile_numbers, len(pattern.spurs)),
        "street": 10 * (width + height) ** 2 + np.arange(n_spur),
        "bt": np.zeros(n_spur, bool), "homes": np.full(n_spur, 2),
        "stop": np.zeros(n_spur, bool), "spur": np.ones(n_spur, bool),
    }  # fmt: skip
    return segments, ends


def _assemble(columns: dict[str, Any], xy: FloatArray, node: IntArray) -> Roads:
    """Bend the segment ``columns`` and keep only the junctions they use."""
    a, b = columns["a"].astype("int64"), columns["b"].astype("int64")
    pa, pb = xy[a], xy[b]
    mid = (pa + pb) / 2 + _unit_normal(pb - pa) * columns["bend"][:, None]
    coords = np.stack([pa, mid, pb], axis=1)
    # junctions without any street (all their blocks removed) are not in the network
    used = np.zeros(len(xy), bool)
    used[a] = used[b] = True
    new_row = np.cumsum(used) - 1
    return Roads(
        node_xy=xy[used], node_id=(node[used] + 1).astype("int64"), a=new_row[a], b=new_row[b],
        coords=coords, cls=columns["cls"].astype("int64"), tile=columns["tile"].astype("int64"),
        street=columns["street"].astype("int64"), bt=columns["bt"].astype(bool),
        homes=columns["homes"].astype("int64"), stop=columns["stop"].astype(bool),
        spur=columns["spur"].astype(bool),
    )  # fmt: skip


def _roads(pattern: _Pattern, kx: int, ky: int, origin: tuple[float, float], seed: int) -> Roads:
    """Tile ``pattern`` ``kx × ky`` times from ``origin`` (the south-west corner)."""
    size = (kx * TILE + 1, ky * TILE + 1)  # the last avenue closes the territory
    xy, node, gi, gj = _junctions(*size, origin, seed)
    parts = [_blocks(pattern, (gi, gj), size, (kx, ky), horizontal) for horizontal in (True, False)]
    spurs, ends = _cul_de_sacs(pattern, xy, size, (kx, ky))
    parts.append(spurs)
    xy = np.vstack([xy, ends])
    node = np.r_[node, size[0] * size[1] + np.arange(len(ends))]
    columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return _assemble(columns, xy, node)


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class SyntheticLayout:
    """The tiles of a synthetic territory and its road network."""

    roads: Roads
    kinds: IntArray  # per tile: RURAL, SERVED or UNSERVED
    tiles: tuple[int, int]  # along x and y
    origin: tuple[float, float]  # south-west corner (m, in the CRS)

    def urban_tiles(self) -> tuple[IntArray, IntArray, IntArray]:
        """Return the tiles that are not rural: their numbers, x and y indices."""
        urban = np.flatnonzero(self.kinds != RURAL)
        return urban, urban % self.tiles[0], urban // self.tiles[0]


def synthetic_layout(edges: int, seed: int, crs: str) -> SyntheticLayout:
    """Tile the street pattern of ``seed`` for about ``edges`` road edges, centred in ``crs``.

    Parameters
    ----------
    edges : int
        Road edges wanted (both directions of a street counted).
    seed : int
        Seed of the pattern and of the tile kinds.
    crs : str
        Projected CRS (metres) the network is drawn in, around :data:`CENTRE_LONLAT`.

    Returns
    -------
    SyntheticLayout
        The roads, tile kinds, tiles along x and y and the origin.
    """
    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*CENTRE_LONLAT)
    pattern = _pattern(seed)
    kx, ky = _tiles_for(edges, pattern)
    side = TILE * SPACING_M
    origin = (round(x0 - kx * side / 2, 0), round(y0 - ky * side / 2, 0))
    kinds = _tile_kinds(seed, kx * ky)
    return SyntheticLayout(_roads(pattern, kx, ky, origin, seed), kinds, (kx, ky), origin)


# --------------------------------------------------------------------------- streets


def street_names(street: IntArray, cls: IntArray, spur: BoolArray) -> ObjArray:
    """Street names (Brazilian-like, fictitious), one per street run.

    Parameters
    ----------
    street : numpy.ndarray of int
        Street run of each segment.
    cls : numpy.ndarray of int
        Street class of each segment.
    spur : numpy.ndarray of bool
        Whether each segment is a cul-de-sac.

    Returns
    -------
    numpy.ndarray of object
        The name of each segment.
    """
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
        elif kind == PRINCIPAL:
            names.append(f"Avenida {person}")
        elif kind == LOCAL and code % 3 == 0:
            names.append(f"Rua das {_TREES[code % len(_TREES)]}")
        else:
            names.append(f"Rua {person}")
    return np.asarray(names, dtype=object)[inverse]


def street_tags(roads: Roads, rural: BoolArray) -> tuple[ObjArray, ObjArray, npt.NDArray[np.str_]]:
    """OSM ``highway``, ``surface`` and ``maxspeed`` of each segment.

    Parameters
    ----------
    roads : Roads
        The road network.
    rural : numpy.ndarray of bool
        Whether each segment lies in a rural tile.

    Returns
    -------
    tuple of numpy.ndarray
        ``highway`` (rural local streets ``unclassified``, rural cul-de-sacs
        ``track``), ``surface`` (rural streets but avenues ``unpaved``) and
        ``maxspeed``.
    """
    highway = HIGHWAY[roads.cls].copy()
    highway[rural & (roads.cls == LOCAL)] = "unclassified"
    highway[rural & roads.spur] = "track"
    surface = np.where(rural & (roads.cls != PRINCIPAL), "unpaved", "asphalt").astype(object)
    maxspeed = np.where(roads.cls == PRINCIPAL, "60", np.where(rural, "40", "30"))
    return highway, surface, maxspeed


@dataclass(frozen=True)
class Buildings:
    """Buildings along the streets, alternating sides."""

    edge: IntArray  # the street segment of each building
    rank: IntArray  # its rank along the segment
    share: FloatArray  # where along the segment it stands (0..1)
    xy: FloatArray  # (n, 2)

    @property
    def address(self) -> BoolArray:
        """Whether each building has an address (every third one)."""
        return self.rank % 3 == 0

    @property
    def number(self) -> IntArray:
        """The house number of each building (odd on one side, even on the other)."""
        return (2 * np.round(self.share * 50) + (self.rank % 2) + 1).astype("int64")


def buildings(roads: Roads, rural: BoolArray) -> Buildings:
    """Place the buildings along the streets (half as many in rural tiles).

    Parameters
    ----------
    roads : Roads
        The road network.
    rural : numpy.ndarray of bool
        Whether each segment lies in a rural tile.

    Returns
    -------
    Buildings
        Segment, rank, position along it and xy of each building, 14 m off the street.
    """
    homes = np.where(rural, roads.homes // 2, roads.homes)
    edge = np.repeat(np.arange(len(homes)), homes)
    first = np.cumsum(homes) - homes
    rank = np.arange(len(edge)) - first[edge]
    share = (rank + 0.5) / homes[edge]
    a, b = roads.coords[edge, 0], roads.coords[edge, 2]
    d = b - a
    side = np.where(rank % 2 == 0, 1.0, -1.0) * 14.0
    xy = a + d * share[:, None] + _unit_normal(d) * side[:, None]
    return Buildings(edge, rank, share, xy)
