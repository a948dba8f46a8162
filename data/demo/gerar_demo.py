"""Generate the bundled FICTIONAL demo data set of geo_ip.

Everything written here is invented: the municipality, its streets, buildings,
addresses, facilities, electric grid and terrain. Nothing is copied from a real
place or a real distributor. Run from the repository root::

    python data/demo/gerar_demo.py

Outputs (next to this script):

- ``municipio_demo.osm``: OpenStreetMap XML 0.6 of the fictional municipality.
- ``rede_demo.gpkg``: distributor grid in the ANEEL BDGD schema (SSDBT, SSDMT,
  PONNOT, UNTRMT, and the tables PIP and CTMT), EPSG:4674.
- ``mdt_demo.tif``: digital terrain model, EPSG:4326, 1 arc-second, float32.
- ``pedidos.csv``: fictional requests (protocols) in the intake format, good and
  deliberately bad rows; ``pedidos_gabarito.csv``: what validation and geocoding
  must make of each row (the answer key, checked here against the generated data).

The script is deterministic: the only random draws use a fixed seed, element ids
follow the design order, and timestamps are fixed, so re-running it rewrites
byte-identical files.

How it works: streets are designed as polylines in a local metric frame centred
on the municipality (x east, y north, metres). The polylines are noded with
shapely (every crossing becomes a shared OSM node), then a small smooth
rotation + warp is applied to the node positions so the town does not look like
graph paper. Buildings, bus stops, poles and lines are then laid out along the
final street geometry, and everything is projected from SIRGAS 2000 / UTM 23S to
geographic coordinates.
"""

from __future__ import annotations

import csv
import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import LineString, MultiLineString, Point, Polygon

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
OUT = Path(__file__).resolve().parent
OSM_PATH = OUT / "municipio_demo.osm"
GPKG_PATH = OUT / "rede_demo.gpkg"
DEM_PATH = OUT / "mdt_demo.tif"
PEDIDOS_PATH = OUT / "pedidos.csv"
GABARITO_PATH = OUT / "pedidos_gabarito.csv"

SEED = 20260115
CENTER_LON, CENTER_LAT = -46.385, -22.905
UTM_CRS = "EPSG:31983"  # SIRGAS 2000 / UTM zone 23S
TIMESTAMP = "2026-01-15T00:00:00Z"
MUNICIPIO = "Município de Demonstração (dados fictícios)"
CIDADE = "Demonstração"
CEP = "39999-000"
IBGE = "9999999"
GENERATOR = "geo_ip data/demo/gerar_demo.py - DADOS FICTÍCIOS (fictional data, not a real place)"

Xy = tuple[float, float]
Tags = dict[str, str]

# Centre box of the town (design coordinates): the only area served by the LV grid.
CENTRO_X, CENTRO_Y = 600.0, 360.0
ROTATION_DEG = 7.0
POLE_OFFSET = (3.0, 4.0)  # poles stand on the sidewalk, ~5 m from the centreline

# BDGD codes reused from a real BDGD (domain values of the ANEEL dictionary).
DIST = 9999  # fictional distributor code
CONJ = 99999
SUB = "DEMO"
CTMT = "1_DEMO_1"
DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# ---------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------
def warp(x: float, y: float) -> Xy:
    """Rotate the design a little and bend it smoothly (design -> final metres)."""
    a = math.radians(ROTATION_DEG)
    xr = x * math.cos(a) - y * math.sin(a)
    yr = x * math.sin(a) + y * math.cos(a)
    return (xr + 7.0 * math.sin(yr / 230.0 + 0.4), yr + 6.0 * math.sin(xr / 280.0 + 1.1))


def warp_ring(pts: Sequence[Xy], step: float = 50.0) -> list[Xy]:
    """Densify a closed design ring and warp it (first point repeated at the end)."""
    ring = shapely.segmentize(Polygon(pts).exterior, step)
    coords = [warp(x, y) for x, y in ring.coords[:-1]]
    return [*coords, coords[0]]


def rect(x0: float, y0: float, x1: float, y1: float) -> list[Xy]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


_TO_UTM = Transformer.from_crs("EPSG:4326", UTM_CRS, always_xy=True)
_CX, _CY = _TO_UTM.transform(CENTER_LON, CENTER_LAT)
_UTM_TO_WGS = Transformer.from_crs(UTM_CRS, "EPSG:4326", always_xy=True)
_UTM_TO_SIRGAS = Transformer.from_crs(UTM_CRS, "EPSG:4674", always_xy=True)


def to_lonlat(xy: np.ndarray, crs: str = "EPSG:4326") -> np.ndarray:
    """Final local metres (n x 2) -> lon/lat (n x 2) in EPSG:4326 or EPSG:4674."""
    tr = _UTM_TO_WGS if crs == "EPSG:4326" else _UTM_TO_SIRGAS
    lon, lat = tr.transform(xy[:, 0] + _CX, xy[:, 1] + _CY)
    return np.column_stack([lon, lat])


# ---------------------------------------------------------------------------
# Street design (design coordinates, metres)
# ---------------------------------------------------------------------------
@dataclass
class Street:
    key: str
    pts: list[Xy]
    tags: Tags
    bairro: str | None = None
    node_ids: list[int] = field(default_factory=list)


def design_streets() -> list[Street]:
    s: list[Street] = []

    def add(key: str, pts: Sequence[Xy], bairro: str | None = None, **tags: str) -> None:
        s.append(Street(key, list(pts), dict(tags), bairro))

    asphalt = {"surface": "asphalt"}
    # Principal road: rural highway in the west, Avenida Brasil in town, roundabout.
    add(
        "rodovia_oeste",
        [(-1950, 30), (-1500, 10), (-1100, 0)],
        highway="primary",
        name="Rodovia Municipal DEM-010",
        ref="DEM-010",
        lanes="2",
        maxspeed="80",
        lit="no",
        **asphalt,
    )
    add(
        "av_brasil",
        [(-1100, 0), (725, 0)],
        "Centro",
        highway="primary",
        name="Avenida Brasil",
        lanes="4",
        maxspeed="60",
        lit="yes",
        sidewalk="both",
        **asphalt,
    )
    ring = [
        (750 + 25 * math.cos(k * math.pi / 8), 25 * math.sin(k * math.pi / 8)) for k in range(16)
    ]
    add(
        "rotatoria",
        [*ring, ring[0]],
        highway="primary",
        junction="roundabout",
        lit="yes",
        **asphalt,
    )
    add(
        "rodovia_leste",
        [(775, 0), (1200, -20), (1600, 10), (1950, 40)],
        highway="primary",
        name="Rodovia Municipal DEM-010",
        ref="DEM-010",
        lanes="2",
        maxspeed="80",
        lit="no",
        **asphalt,
    )

    # Centro: orthogonal grid, x in [-600, 600], y in [-360, 360].
    ns = [
        (-600, "Rua Coronel Antônio Prado", "residential", {}),
        (-450, "Rua Dom Pedro II", "residential", {"lit": "yes"}),
        (-150, "Rua Professor João Batista", "residential", {}),
        (0, "Avenida Tiradentes", "secondary", {"lit": "yes", "maxspeed": "40", "lanes": "2"}),
        (150, "Rua Nossa Senhora Aparecida", "residential", {}),
        (300, "Rua Doutor Carlos Chagas", "residential", {"lit": "yes"}),
        (450, "Rua Santa Rita", "residential", {}),
        (600, "Rua Marechal Deodoro", "residential", {}),
    ]
    for x, name, hw, extra in ns:
        add(f"ns_{x}", [(x, -360), (x, 360)], "Centro", highway=hw, name=name, **asphalt, **extra)
    add(
        "sete_setembro",
        [(-300, 360), (-300, -360), (-520, -520), (-750, -600)],
        "Centro",
        highway="secondary",
        name="Rua Sete de Setembro",
        lit="yes",
        maxspeed="40",
        **asphalt,
    )
    ew = [
        (-360, "Rua Barão do Rio Branco", {}),
        (-240, "Rua das Flores", {"oneway": "yes"}),
        (120, "Rua Santos Dumont", {}),
        (240, "Rua Getúlio Vargas", {"lit": "yes"}),
        (360, "Rua Padre Anchieta", {}),
    ]
    for y, name, extra in ew:
        x1 = 750 if y == 120 else 600
        add(
            f"ew_{y}",
            [(-600, y), (x1, y)],
            "Centro",
            highway="residential",
            name=name,
            **asphalt,
            **extra,
        )
    add(
        "quinze_novembro",
        [(-1050, -360), (-900, -120), (-600, -120), (600, -120)],
        "Centro",
        highway="tertiary",
        name="Rua Quinze de Novembro",
        lit="yes",
        **asphalt,
    )
    add(
        "travessa",
        [(-150, 60), (0, 60)],
        "Centro",
        highway="residential",
        name="Travessa São José",
        surface="sett",
    )
    add(
        "rosario",
        [(150, 180), (300, 180)],
        "Centro",
        highway="living_street",
        name="Rua do Rosário",
        surface="sett",
    )
    add(
        "beco",
        [(-450, -180), (-300, -180)],
        "Centro",
        highway="service",
        service="alley",
        name="Beco dos Artistas",
        surface="concrete",
    )
    add("acesso_ubs", [(300, -180), (262, -180)], "Centro", highway="service", **asphalt)
    add(
        "estac_escola",
        [(-300, 300), (-340, 300)],
        "Centro",
        highway="service",
        service="parking_aisle",
        **asphalt,
    )

    # Vila Nova (south-west).
    for x, name in [
        (-1350, "Rua Minas Gerais"),
        (-1200, "Rua Paraná"),
        (-1050, "Rua Bahia"),
        (-900, "Rua Goiás"),
        (-750, "Rua Espírito Santo"),
    ]:
        y1 = 6.25 if x == -1350 else -360  # Rua Minas Gerais reaches the highway
        add(
            f"vn_ns_{x}",
            [(x, -720), (x, y1)],
            "Vila Nova",
            highway="residential",
            name=name,
            surface="paving_stones",
        )
    for y, name, surf in [
        (-360, "Rua São João", "paving_stones"),
        (-480, "Rua Santa Luzia", "paving_stones"),
        (-600, "Rua São Sebastião", "paving_stones"),
        (-720, "Rua Bela Vista", "unpaved"),
    ]:
        add(
            f"vn_ew_{y}",
            [(-1350, y), (-750, y)],
            "Vila Nova",
            highway="residential",
            name=name,
            surface=surf,
        )

    # Jardim das Palmeiras (north-east), reached from the roundabout.
    add(
        "av_palmeiras",
        [(750, 25), (750, 660)],
        "Jardim das Palmeiras",
        highway="tertiary",
        name="Avenida das Palmeiras",
        lit="yes",
        **asphalt,
    )
    for x, name in [
        (900, "Rua das Orquídeas"),
        (1050, "Rua das Margaridas"),
        (1200, "Rua dos Girassóis"),
    ]:
        add(
            f"jp_ns_{x}",
            [(x, 180), (x, 660)],
            "Jardim das Palmeiras",
            highway="residential",
            name=name,
            **asphalt,
        )
    for y, name in [
        (180, "Rua dos Jacarandás"),
        (300, "Alameda dos Ipês"),
        (420, "Rua São João"),
        (540, "Rua das Acácias"),
        (660, "Rua das Hortênsias"),
    ]:
        add(
            f"jp_ew_{y}",
            [(750, y), (1200, y)],
            "Jardim das Palmeiras",
            highway="residential",
            name=name,
            **asphalt,
        )

    # Isolated loteamento street (not connected to anything).
    add(
        "projetada",
        [(1620, -260), (1700, -300), (1790, -285)],
        highway="residential",
        name="Rua Projetada Um",
        surface="unpaved",
    )

    # Rural periphery.
    unpaved = {"surface": "unpaved", "lit": "no"}
    add(
        "estrada_bairro_alto",
        [
            (0, 360),
            (20, 520),
            (90, 700),
            (60, 880),
            (-30, 1040),
            (10, 1200),
            (120, 1330),
            (180, 1420),
        ],
        "Bairro Alto",
        highway="unclassified",
        name="Estrada Municipal do Bairro Alto",
        **unpaved,
    )
    add(
        "estrada_pinheiros",
        [
            (750, -25),
            (760, -200),
            (850, -420),
            (1000, -650),
            (1150, -900),
            (1350, -1150),
            (1500, -1380),
        ],
        highway="unclassified",
        name="Estrada Municipal dos Pinheiros",
        **unpaved,
    )
    track = {"highway": "track", "surface": "dirt"}
    add(
        "trilha_1",
        [(60, 880), (-200, 930), (-480, 900), (-700, 980)],
        "Bairro Alto",
        tracktype="grade3",
        **track,
    )
    add(
        "trilha_2",
        [(10, 1200), (260, 1230), (520, 1180), (760, 1260)],
        "Bairro Alto",
        tracktype="grade4",
        **track,
    )
    add(
        "trilha_3",
        [(-30, 1040), (-250, 1180), (-420, 1350)],
        "Bairro Alto",
        tracktype="grade3",
        **track,
    )
    add("trilha_4", [(1000, -650), (1250, -600), (1480, -700)], tracktype="grade3", **track)
    add("trilha_5", [(1150, -900), (900, -1000), (650, -1150)], tracktype="grade4", **track)
    add(
        "acesso_sitio",
        [(1350, -1150), (1450, -1080)],
        highway="service",
        access="private",
        name="Acesso ao Sítio Santa Clara",
        surface="dirt",
    )
    add(
        "garagem",
        [(900, -1000), (880, -1040)],
        highway="service",
        service="driveway",
        surface="dirt",
    )

    # Not part of the road graph: footways, crossings, cycleway, path.
    for x in (-225, -75, 75, 225, 375):
        add(
            f"faixa_{x}",
            [(x, -9), (x, 9)],
            highway="footway",
            footway="crossing",
            crossing="marked",
        )
    add(
        "faixa_tiradentes",
        [(-9, 300), (9, 300)],
        highway="footway",
        footway="crossing",
        crossing="marked",
    )
    add(
        "ciclovia",
        [(-600, -14), (600, -14)],
        highway="cycleway",
        name="Ciclovia da Avenida Brasil",
        **asphalt,
    )
    add("praca_diag_1", [(-142, 128), (-8, 232)], highway="footway", surface="paving_stones")
    add("praca_diag_2", [(-142, 232), (-8, 128)], highway="footway", surface="paving_stones")
    add(
        "trilha_cachoeira",
        [(760, 1260), (850, 1340), (950, 1400)],
        highway="path",
        name="Trilha da Cachoeira",
    )
    return s


# ---------------------------------------------------------------------------
# Road network: noding and warping
# ---------------------------------------------------------------------------
@dataclass
class Network:
    streets: list[Street]
    xy: dict[int, Xy]  # final local metres of every street node
    design: dict[int, Xy]  # design coordinates of every street node
    node_tags: dict[int, Tags]
    lines: dict[str, LineString]  # final geometry per street key

    def street(self, key: str) -> Street:
        return next(s for s in self.streets if s.key == key)

    def node_at(self, x: float, y: float) -> int:
        """Street node whose design position is (x, y)."""
        for nid, (dx, dy) in self.design.items():
            if abs(dx - x) < 0.01 and abs(dy - y) < 0.01:
                return nid
        raise KeyError((x, y))


def build_network(streets: list[Street]) -> Network:
    """Node the designed streets so that every crossing is a shared node."""
    lines = [shapely.segmentize(LineString(s.pts), 100.0) for s in streets]
    extra: list[list[Xy]] = [[] for _ in streets]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        inter = lines[i].intersection(lines[j])
        for part in shapely.get_parts(inter):
            if part.geom_type != "Point":
                raise ValueError(f"{streets[i].key} overlaps {streets[j].key}")
            extra[i].append((part.x, part.y))
            extra[j].append((part.x, part.y))

    node_of: dict[tuple[float, float], int] = {}
    design: dict[int, Xy] = {}
    for street, line, ex in zip(streets, lines, extra, strict=True):
        coords = [(float(x), float(y)) for x, y in line.coords]
        closed = coords[0] == coords[-1]
        base = coords[:-1] if closed else coords
        length = line.length
        cand = []
        for p in [*base, *ex]:
            d = line.project(Point(p))
            if closed and d > length - 1e-6:
                d = 0.0
            cand.append((d, p))
        cand.sort(key=lambda c: c[0])
        ids: list[int] = []
        for _, p in cand:
            key = (round(p[0], 2), round(p[1], 2))
            nid = node_of.setdefault(key, len(node_of) + 1)
            design.setdefault(nid, p)
            if not ids or ids[-1] != nid:
                ids.append(nid)
        if closed:
            ids.append(ids[0])
        street.node_ids = ids

    xy = {nid: warp(*p) for nid, p in design.items()}
    net = Network(streets, xy, design, {}, {})
    for street in streets:
        net.lines[street.key] = LineString([xy[n] for n in street.node_ids])

    # Node tags: marked crossings where footway=crossing meets a road, traffic signals.
    road_nodes = {
        n
        for st in streets
        if st.tags["highway"] not in ("footway", "cycleway", "path")
        for n in st.node_ids
    }
    for st in streets:
        if st.tags.get("footway") == "crossing":
            for n in st.node_ids[1:-1]:
                if n in road_nodes:
                    net.node_tags[n] = {
                        "highway": "crossing",
                        "crossing": "marked",
                        "crossing:markings": "zebra",
                    }
    net.node_tags[net.node_at(0, 0)] = {"highway": "traffic_signals"}
    net.node_tags[net.node_at(-300, 0)] = {"highway": "traffic_signals"}
    return net


# ---------------------------------------------------------------------------
# Points of interest and areas (design coordinates, warped on output)
# ---------------------------------------------------------------------------
POIS: list[tuple[Xy, Tags]] = [
    ((-75, 90), {"place": "neighbourhood", "name": "Centro"}),
    ((1000, 470), {"place": "neighbourhood", "name": "Jardim das Palmeiras"}),
    ((-1050, -540), {"place": "neighbourhood", "name": "Vila Nova"}),
    ((150, 1100), {"place": "neighbourhood", "name": "Bairro Alto"}),
    (
        (-375, 312),
        {"amenity": "school", "name": "Escola Estadual Padre Anchieta", "isced:level": "1;2"},
    ),
    ((8, 1115), {"amenity": "school", "name": "Escola Rural do Bairro Alto", "isced:level": "1"}),
    ((975, 360), {"amenity": "kindergarten", "name": "CMEI Pequeno Príncipe"}),
    ((240, -168), {"amenity": "clinic", "healthcare": "clinic", "name": "UBS Centro"}),
    ((520, 60), {"amenity": "police", "name": "Polícia Militar - 2ª Companhia"}),
    ((-975, -660), {"amenity": "community_centre", "name": "Centro Comunitário da Vila Nova"}),
    (
        (-975, -420),
        {"amenity": "social_facility", "social_facility": "outreach", "name": "CRAS Vila Nova"},
    ),
    (
        (-75, 140),
        {
            "amenity": "place_of_worship",
            "religion": "christian",
            "denomination": "catholic",
            "name": "Igreja Matriz Nossa Senhora Aparecida",
        },
    ),
    ((-520, -60), {"amenity": "townhall", "name": "Prefeitura Municipal de Demonstração"}),
]

AREAS: list[tuple[list[Xy], Tags]] = [
    (rect(-142, 128, -8, 232), {"leisure": "park", "name": "Praça da Matriz"}),
    (rect(-70, 210, -40, 228), {"leisure": "playground", "name": "Parquinho da Praça"}),
    (
        rect(-1190, -590, -1060, -490),
        {"amenity": "school", "name": "Escola Municipal Monteiro Lobato"},
    ),
    (
        rect(465, 255, 585, 345),
        {
            "amenity": "hospital",
            "name": "Hospital Municipal São Vicente de Paulo",
            "healthcare": "hospital",
        },
    ),
    (
        rect(1075, 560, 1175, 630),
        {"leisure": "pitch", "sport": "soccer", "name": "Campo do Jardim"},
    ),
    (rect(-1500, -1100, -1000, -850), {"landuse": "farmland"}),
]

LANDUSE: list[tuple[list[Xy], Tags]] = [
    (
        [
            (-640, -400),
            (640, -400),
            (640, 400),
            (-640, 400),
            (-640, 60),
            (-1120, 50),
            (-1120, -50),
            (-640, -160),
        ],
        {"landuse": "residential", "name": "Centro"},
    ),
    (rect(710, 140, 1240, 700), {"landuse": "residential", "name": "Jardim das Palmeiras"}),
    (rect(-1390, -760, -710, -320), {"landuse": "residential", "name": "Vila Nova"}),
]

# Water (the offline background draws it): a lake south-east of the town, the river
# along the south crossing the lake's outlet, and a stream into the lake. Away from the
# streets, so no request, road or building changes.
WATER_AREAS: list[tuple[list[Xy], Tags]] = [
    (
        [
            (1300 + 160 * math.cos(a), -1250 + 90 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)
        ],
        {"natural": "water", "water": "lake", "name": "Lagoa Azul"},
    ),
]
RIVER: list[Xy] = [
    (-2000, -1330), (-1200, -1380), (-400, -1300), (400, -1360), (1150, -1300), (1460, -1280),
    (2000, -1370),
]  # fmt: skip
WATERWAYS: list[tuple[list[Xy], Tags]] = [
    (
        RIVER,
        {"waterway": "river", "name": "Rio das Pedras"},
    ),
    (
        [(1700, -700), (1560, -900), (1400, -1080), (1320, -1165)],
        {"waterway": "stream", "name": "Córrego do Moinho"},
    ),
]

BOUNDARY = [
    (-1990, 0),
    (-2030, 700),
    (-2000, 1490),
    (-1000, 1530),
    (0, 1480),
    (1000, 1540),
    (1990, 1500),
    (2030, 800),
    (2000, 0),
    (2040, -700),
    (2010, -1500),
    (1000, -1540),
    (0, -1490),
    (-1000, -1530),
    (-2020, -1480),
    (-2040, -700),
]


# ---------------------------------------------------------------------------
# Buildings and addresses
# ---------------------------------------------------------------------------
@dataclass
class Building:
    ring: list[Xy]  # final metres, closed
    tags: Tags


@dataclass
class AddressNode:
    xy: Xy
    tags: Tags


def frame_at(line: LineString, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point, unit tangent and left unit normal of ``line`` at distance ``s``."""
    s = min(max(s, 0.0), line.length)
    a = np.array(line.interpolate(max(s - 1.0, 0.0)).coords[0])
    b = np.array(line.interpolate(min(s + 1.0, line.length)).coords[0])
    t = (b - a) / np.linalg.norm(b - a)
    n = np.array([-t[1], t[0]])
    return np.array(line.interpolate(s).coords[0]), t, n


def house_number(s: float, side: int) -> int:
    """Brazilian numbering: metres from the street start, odd on the left, even on the right."""
    n = max(round(s), 1)
    if (side == 1) != (n % 2 == 1):
        n += 1
    return n


def address(street: Street, number: str, bairro: str | None) -> Tags:
    tags = {"addr:street": street.tags["name"], "addr:housenumber": number}
    if bairro:
        tags["addr:suburb"] = bairro
    tags["addr:city"] = CIDADE
    tags["addr:postcode"] = CEP
    return tags


# street key -> (first position, spacing, sides, share with address, building tags)
BUILDING_PLAN: dict[str, tuple[float, float, tuple[int, ...], float, Tags]] = {
    "ew_-360": (25, 75, (1, -1), 0.7, {"building": "house"}),
    "ew_-240": (25, 75, (1, -1), 0.7, {"building": "house"}),
    "ew_120": (25, 75, (1, -1), 0.7, {"building": "house"}),
    "ew_240": (25, 75, (1, -1), 0.7, {"building": "house"}),
    "ew_360": (25, 75, (1, -1), 0.7, {"building": "house"}),
    "ns_-600": (40, 60, (1,), 0.6, {"building": "house"}),
    "ns_600": (40, 60, (-1,), 0.6, {"building": "house"}),
    "av_brasil": (520, 75, (1, -1), 1.0, {"building": "commercial"}),
    "quinze_novembro": (420, 75, (1, -1), 0.8, {"building": "residential", "building:levels": "3"}),
    "vn_ew_-360": (25, 40, (1, -1), 0.6, {"building": "house"}),
    "vn_ew_-480": (25, 40, (1, -1), 0.6, {"building": "house"}),
    "vn_ew_-600": (25, 40, (1, -1), 0.6, {"building": "house"}),
    "vn_ew_-720": (25, 50, (1,), 0.5, {"building": "house"}),
    "jp_ew_180": (30, 45, (1, -1), 0.8, {"building": "house"}),
    "jp_ew_300": (30, 45, (1, -1), 0.8, {"building": "house"}),
    "jp_ew_420": (30, 45, (1, -1), 0.8, {"building": "house"}),
    "projetada": (30, 45, (1, -1), 1.0, {"building": "house"}),
}

# Isolated rural houses: (street key, distance along, side, setback, with address, s/n).
RURAL_HOUSES: list[tuple[str, float, int, float, bool, bool]] = [
    ("estrada_bairro_alto", 260, 1, 18, True, False),
    ("estrada_bairro_alto", 420, -1, 22, True, False),
    ("estrada_bairro_alto", 610, 1, 25, False, False),
    ("estrada_bairro_alto", 900, -1, 20, True, False),
    ("estrada_bairro_alto", 1310, 1, 30, True, True),
    ("estrada_bairro_alto", 1420, -1, 18, False, False),
    ("trilha_1", 330, 1, 20, False, False),
    ("trilha_1", 820, -1, 16, True, True),
    ("trilha_1", 1e9, 1, 14, False, False),
    ("trilha_2", 400, -1, 20, False, False),
    ("trilha_2", 1e9, -1, 15, True, True),
    ("trilha_3", 1e9, 1, 15, False, False),
    ("estrada_pinheiros", 520, -1, 20, True, False),
    ("estrada_pinheiros", 1200, 1, 25, True, True),
    ("trilha_4", 1e9, 1, 15, False, False),
    ("trilha_5", 1e9, -1, 15, True, True),
    ("acesso_sitio", 1e9, 1, 12, False, False),
    ("garagem", 1e9, 1, 10, False, False),
    ("rodovia_oeste", 250, -1, 30, False, False),
    ("rodovia_leste", 800, 1, 35, False, False),
]

# Houses on unnamed tracks take the address of the road the track leaves from.
RURAL_PARENT = {
    "trilha_1": "estrada_bairro_alto",
    "trilha_2": "estrada_bairro_alto",
    "trilha_3": "estrada_bairro_alto",
    "trilha_4": "estrada_pinheiros",
    "trilha_5": "estrada_pinheiros",
}

SHOPS = [
    {"shop": "bakery", "name": "Padaria Pão Quente"},
    {"shop": "supermarket", "name": "Mercado São José"},
    {"amenity": "pharmacy", "name": "Farmácia Popular da Avenida"},
    {"shop": "hardware", "name": "Casa de Materiais Construir"},
    {"amenity": "restaurant", "name": "Restaurante Sabor de Minas"},
    {"amenity": "bank", "name": "Banco Fictício"},
]


def square(center: np.ndarray, t: np.ndarray, n: np.ndarray, w: float, d: float) -> list[Xy]:
    corners = [
        center + t * sx * w / 2 + n * sy * d / 2 for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    ring = [(round(float(c[0]), 2), round(float(c[1]), 2)) for c in corners]
    return [*ring, ring[0]]


def make_buildings(
    net: Network, rng: np.random.Generator
) -> tuple[list[Building], list[AddressNode]]:
    cands: list[tuple[list[Xy], Tags]] = []
    shop_i = 0
    for key, (start, spacing, sides, share, btags) in BUILDING_PLAN.items():
        street = net.street(key)
        line = net.lines[key]
        s = start
        while s <= line.length - 15:
            for side in sides:
                p, t, n = frame_at(line, s)
                w, d = (
                    (14.0, 16.0)
                    if btags["building"] in ("residential", "commercial")
                    else (9.0, 11.0)
                )
                centre = p + n * side * (7.0 + d / 2)
                tags = dict(btags)
                if rng.random() < share:
                    tags.update(address(street, str(house_number(s, side)), street.bairro))
                if btags["building"] == "commercial":
                    tags.update(SHOPS[shop_i % len(SHOPS)])
                    shop_i += 1
                cands.append((square(centre, t, n, w, d), tags))
            s += spacing
    for key, s, side, setback, with_addr, sn in RURAL_HOUSES:
        street = net.street(key)
        line = net.lines[key]
        s_eff = min(s, line.length - 6.0)
        p, t, n = frame_at(line, s_eff)
        centre = p + n * side * (setback + 5.5)
        tags = {"building": "house"}
        if with_addr:
            named = net.street(RURAL_PARENT.get(key, key))
            number = "s/n" if sn or named is not street else str(house_number(s_eff, side))
            tags.update(address(named, number, named.bairro))
        cands.append((square(centre, t, n, 9.0, 11.0), tags))

    # Drop candidates that touch a road, an area or an earlier building.
    polys = [Polygon(r) for r, _ in cands]
    obstacles = [line.buffer(6.0) for line in net.lines.values()]
    obstacles += [
        Polygon([warp(*p) for p in pts]).buffer(2.0) for pts, tags in AREAS if "landuse" not in tags
    ]
    tree = shapely.STRtree(obstacles)
    bad = set(tree.query(polys, predicate="intersects")[0].tolist())
    kept: list[Building] = []
    kept_polys: list[Polygon] = []
    for i, (ring, tags) in enumerate(cands):
        if i in bad:
            continue
        poly = polys[i]
        if any(poly.distance(q) < 1.0 for q in kept_polys):
            continue
        kept.append(Building(ring, tags))
        kept_polys.append(poly)

    # Address-only nodes (lots with a number but no mapped building).
    addr_nodes: list[AddressNode] = []
    for key, sides in (
        ("jp_ew_540", (1, -1)),
        ("jp_ew_660", (1,)),
        ("vn_ns_-1200", (-1,)),
        ("ns_-150", (1,)),
    ):
        street = net.street(key)
        line = net.lines[key]
        for s in np.arange(40.0, line.length - 20, 70.0):
            for side in sides:
                p, _, n = frame_at(line, float(s))
                q = p + n * side * 12.0
                if any(Point(q).distance(o) < 6.0 for o in kept_polys):
                    continue
                xy = (round(float(q[0]), 2), round(float(q[1]), 2))
                addr_nodes.append(
                    AddressNode(
                        xy, address(street, str(house_number(float(s), side)), street.bairro)
                    )
                )
    return kept, addr_nodes


# ---------------------------------------------------------------------------
# Distributor grid (BDGD schema)
# ---------------------------------------------------------------------------
@dataclass
class Pole:
    cod: str
    xy: Xy
    kind: str = "bt"  # bt, mt or trafo
    rural: bool = False
    classes: set[str] = field(default_factory=set)


@dataclass
class Grid:
    poles: dict[str, Pole] = field(default_factory=dict)
    node_pole: dict[int, str] = field(default_factory=dict)
    edge_poles: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    bt_spans: list[tuple[str, str]] = field(default_factory=list)
    mt_spans: list[tuple[str, str, bool]] = field(default_factory=list)
    trafos: list[tuple[str, str, float]] = field(default_factory=list)  # (cod, pole, kVA)
    osm_lv_street: list[str] = field(default_factory=list)  # poles along Rua Dom Pedro II
    osm_mv: list[str] = field(default_factory=list)  # MV poles mirrored in OSM

    def new_pole(self, xy: Xy, rural: bool) -> str:
        cod = str(10001 + len(self.poles))
        self.poles[cod] = Pole(cod, (xy[0] + POLE_OFFSET[0], xy[1] + POLE_OFFSET[1]), rural=rural)
        return cod


def in_centro(p: Xy) -> bool:
    return abs(p[0]) <= CENTRO_X + 0.01 and abs(p[1]) <= CENTRO_Y + 0.01


def pole_path(
    grid: Grid,
    net: Network,
    nodes: list[int],
    breaks: set[int],
    spacing: float,
    rural: bool = False,
) -> list[str]:
    """Poles along a run of street nodes: one at every break node, evenly spaced between."""
    out: list[str] = []
    stops = [i for i, n in enumerate(nodes) if n in breaks or i in (0, len(nodes) - 1)]
    for a, b in itertools.pairwise(stops):
        na, nb = nodes[a], nodes[b]
        for n in (na, nb):
            if n not in grid.node_pole:
                grid.node_pole[n] = grid.new_pole(net.xy[n], rural)
        key = (min(na, nb), max(na, nb))
        if key not in grid.edge_poles:
            line = LineString([net.xy[n] for n in nodes[a : b + 1]])
            k = max(1, round(line.length / spacing))
            inner = []
            for j in range(1, k):
                q = line.interpolate(line.length * j / k)
                inner.append(grid.new_pole((q.x, q.y), rural))
            grid.edge_poles[key] = inner if na < nb else inner[::-1]
        inner = grid.edge_poles[key] if na < nb else grid.edge_poles[key][::-1]
        seq = [grid.node_pole[na], *inner, grid.node_pole[nb]]
        out.extend(seq if not out else seq[1:])
    return out


LV_STREETS = [
    "av_brasil",
    "ns_-600",
    "ns_-450",
    "sete_setembro",
    "ns_-150",
    "ns_0",
    "ns_150",
    "ns_300",
    "ns_450",
    "ns_600",
    "ew_-360",
    "ew_-240",
    "quinze_novembro",
    "ew_120",
    "ew_240",
    "ew_360",
]


def road_class(hw: str) -> str:
    return {"primary": "principal", "secondary": "secundaria", "tertiary": "secundaria"}.get(
        hw, "local"
    )


def build_grid(net: Network) -> Grid:
    grid = Grid()
    runs: dict[str, list[int]] = {}
    for key in LV_STREETS:
        ids = [n for n in net.street(key).node_ids if in_centro(net.design[n])]
        runs[key] = ids
    counts: dict[int, int] = {}
    for ids in runs.values():
        for n in ids:
            counts[n] = counts.get(n, 0) + 1
    breaks = {n for n, c in counts.items() if c > 1}

    for key, ids in runs.items():
        cls = road_class(net.street(key).tags["highway"])
        path = pole_path(grid, net, ids, breaks, 35.0)
        for p in path:
            grid.poles[p].classes.add(cls)
        grid.bt_spans.extend(itertools.pairwise(path))
        if key == "ns_-450":
            grid.osm_lv_street = path

    # MV feeder: enters from the west along the highway, runs along Avenida Brasil to
    # Rua Marechal Deodoro, with two branches (Rua Sete de Setembro, Rua Dr. Carlos Chagas).
    rod = net.street("rodovia_oeste").node_ids
    av = net.street("av_brasil").node_ids
    x_of = {n: net.design[n][0] for n in av}
    av_west = [n for n in av if x_of[n] <= -600 + 0.01]
    av_centre = [n for n in av if -600 - 0.01 <= x_of[n] <= 600 + 0.01]
    mv_rural = pole_path(grid, net, rod, set(), 70.0, rural=True)
    mv_west = pole_path(grid, net, av_west, set(), 40.0)
    mv_centre = pole_path(grid, net, av_centre, breaks, 35.0)
    branch_w = pole_path(grid, net, runs["sete_setembro"], breaks, 35.0)
    branch_e = pole_path(grid, net, runs["ns_300"], breaks, 35.0)
    for path in (mv_rural, mv_west, mv_centre, branch_w, branch_e):
        for a, b in itertools.pairwise(path):
            grid.mt_spans.append((a, b, path is mv_rural))
            for p in (a, b):
                if grid.poles[p].kind == "bt":
                    grid.poles[p].kind = "mt"
    # The OSM file maps the MV line only from the highway junction to the first transformer.
    stop = mv_centre.index(grid.node_pole[net.node_at(-450, 0)])
    grid.osm_mv = mv_west + mv_centre[1 : stop + 1]

    for i, (x, y, kva) in enumerate(
        [
            (-450, 0, 75.0),
            (150, 0, 112.5),
            (-300, 240, 45.0),
            (-300, -240, 75.0),
            (300, 240, 75.0),
            (300, -240, 45.0),
        ]
    ):
        pole = grid.node_pole[net.node_at(x, y)]
        grid.poles[pole].kind = "trafo"
        grid.trafos.append((f"1_{i + 1}", pole, kva))
    return grid


def hours_of_dark(month: int) -> float:
    """Approximate lamp-on hours per night at 23 degrees south (longest in June/July)."""
    return 11.6 + 1.25 * math.cos(2 * math.pi * (month - 6.5) / 12)


def write_grid(grid: Grid, path: Path) -> dict[str, int]:
    poles = list(grid.poles.values())
    pole_xy = np.array([p.xy for p in poles])
    pole_ll = dict(
        zip([p.cod for p in poles], to_lonlat(pole_xy, "EPSG:4674").tolist(), strict=True)
    )
    trafo_xy = np.array([grid.poles[p].xy for _, p, _ in grid.trafos])

    def i32(v: int, n: int) -> np.ndarray:
        return np.full(n, v, dtype="int32")

    # PONNOT
    n = len(poles)
    spec = {  # kind -> ESTR, ESF, ALT, A2, A4, A5
        "bt": ("CI", "6", "10", "01", "10", "14"),
        "mt": ("DT", "8", "12", "02", "11", "18"),
        "trafo": ("DT", "11", "12", "02", "11", "20"),
    }
    cols = list(zip(*(spec[p.kind] for p in poles), strict=True))
    ponnot = pd.DataFrame(
        {
            "COD_ID": [p.cod for p in poles],
            "DIST": i32(DIST, n),
            "TIP_PN": "POS",
            "TIP_INST": ["RD_AER_RUR" if p.rural else "RD_AER_URB" for p in poles],
            "POS": "PD",
            "ESTR": cols[0],
            "MAT": "CO",
            "ESF": cols[1],
            "ALT": cols[2],
            "ARE_LOC": ["NU" if p.rural else "UB" for p in poles],
            "CONJ": i32(CONJ, n),
            "MUN": IBGE,
            "ODI": "6",
            "TI": "40",
            "CM": "999",
            "TUC": "255",
            "A1": "01",
            "A2": cols[3],
            "A3": "01",
            "A4": cols[4],
            "A5": cols[5],
            "A6": "00",
            "UAR": "255-01",
            "SITCONT": "AT1",
            "DESCR": "",
        }
    )
    pts = [Point(xy) for xy in to_lonlat(pole_xy, "EPSG:4674").tolist()]

    # UNTRMT
    loss = {45.0: (215.0, 1049.0, "3H"), 75.0: (334.0, 1661.0, "5H"), 112.5: (430.0, 2541.0, "6K")}
    m = len(grid.trafos)
    untrmt = pd.DataFrame(
        {
            "COD_ID": [c for c, _, _ in grid.trafos],
            "DIST": i32(DIST, m),
            "PAC_1": [f"{p}1" for _, p, _ in grid.trafos],
            "PAC_2": [f"ET{c}" for c, _, _ in grid.trafos],
            "PAC_3": "0",
            "FAS_CON_P": "ABC",
            "FAS_CON_S": "ABCN",
            "FAS_CON_T": "0",
            "SIT_ATIV": "AT",
            "TIP_UNID": "38",
            "POS": "PD",
            "ATRB_PER": i32(1, m),
            "TEN_LIN_SE": 0.22,
            "CAP_ELO": [loss[k][2] for _, _, k in grid.trafos],
            "CAP_CHA": "12",
            "TAP": 1.0,
            "ARE_LOC": "UB",
            "CONF": "RA",
            "POSTO": "PT",
            "POT_NOM": [k for _, _, k in grid.trafos],
            "PER_FER": [loss[k][0] for _, _, k in grid.trafos],
            "PER_TOT": [loss[k][1] for _, _, k in grid.trafos],
            "DAT_CON": [f"{10 + i:02d}/0{1 + i}/20{10 + 2 * i}" for i in range(m)],
            "CTMT": CTMT,
            "UNI_TR_AT": "",
            "SUB": SUB,
            "CONJ": i32(CONJ, m),
            "MUN": IBGE,
            "BANC": i32(0, m),
            "TIP_TRAFO": "T",
            "MRT": i32(0, m),
            "DESCR": "",
        }
    )

    def nearest_trafo(a: str, b: str) -> str:
        mid = (np.array(grid.poles[a].xy) + np.array(grid.poles[b].xy)) / 2
        return grid.trafos[int(np.argmin(np.hypot(*(trafo_xy - mid).T)))][0]

    def span_geoms(
        spans: Sequence[tuple[str, str]],
    ) -> tuple[list[MultiLineString], list[float], list[float]]:
        geoms, comp, shape_len = [], [], []
        for a, b in spans:
            g = MultiLineString([[pole_ll[a], pole_ll[b]]])
            geoms.append(g)
            comp.append(round(math.dist(grid.poles[a].xy, grid.poles[b].xy), 2))
            shape_len.append(g.length)
        return geoms, comp, shape_len

    # SSDBT
    bt_trafo = [nearest_trafo(a, b) for a, b in grid.bt_spans]
    trafo_pole = {c: p for c, p, _ in grid.trafos}

    def pac_bt(p: str, trafo: str) -> str:
        return f"ET{trafo}" if trafo_pole[trafo] == p else f"BT{p}1"

    bt_geoms, bt_comp, bt_len = span_geoms(grid.bt_spans)
    k = len(grid.bt_spans)
    ssdbt = pd.DataFrame(
        {
            "COD_ID": [str(20001 + i) for i in range(k)],
            "PN_CON_1": [a for a, _ in grid.bt_spans],
            "PN_CON_2": [b for _, b in grid.bt_spans],
            "UNI_TR_MT": bt_trafo,
            "CTMT": CTMT,
            "CT_COD_OP": CTMT,
            "UNI_TR_AT": "",
            "SUB": SUB,
            "CONJ": i32(CONJ, k),
            "ARE_LOC": "UB",
            "FAS_CON": "ABCN",
            "DIST": i32(DIST, k),
            "PAC_1": [pac_bt(a, t) for (a, _), t in zip(grid.bt_spans, bt_trafo, strict=True)],
            "PAC_2": [pac_bt(b, t) for (_, b), t in zip(grid.bt_spans, bt_trafo, strict=True)],
            "TIP_INST": "RD_AER_URB",
            "TIP_CND": [
                "101" if "principal" in grid.poles[a].classes else "44" for a, _ in grid.bt_spans
            ],
            "POS": "PD",
            "ODI": "6",
            "TI": "40",
            "CM": "999",
            "SITCONT": "AT1",
            "COMP": bt_comp,
            "DESCR": "",
            "Shape_Length": bt_len,
        }
    )

    # SSDMT
    mt_pairs = [(a, b) for a, b, _ in grid.mt_spans]
    mt_geoms, mt_comp, mt_len = span_geoms(mt_pairs)
    k2 = len(mt_pairs)
    ssdmt = pd.DataFrame(
        {
            "COD_ID": [str(30001 + i) for i in range(k2)],
            "PN_CON_1": [a for a, _ in mt_pairs],
            "PN_CON_2": [b for _, b in mt_pairs],
            "CTMT": CTMT,
            "CT_COD_OP": CTMT,
            "UNI_TR_AT": "",
            "SUB": SUB,
            "CONJ": i32(CONJ, k2),
            "ARE_LOC": ["NU" if r else "UB" for _, _, r in grid.mt_spans],
            "DIST": i32(DIST, k2),
            "PAC_1": [f"{a}1" for a, _ in mt_pairs],
            "PAC_2": [f"{b}1" for _, b in mt_pairs],
            "FAS_CON": "ABC",
            "TIP_INST": ["RD_AER_RUR" if r else "RD_AER_URB" for _, _, r in grid.mt_spans],
            "TIP_CND": "63",
            "POS": "PD",
            "ODI": "6",
            "TI": "40",
            "CM": "999",
            "SITCONT": "AT1",
            "COMP": mt_comp,
            "DESCR": "",
            "Shape_Length": mt_len,
        }
    )

    # PIP: lighting points on three of every four LV poles (two luminaires on the
    # transformer poles of Avenida Brasil), lamp by road class.
    lv_poles = sorted({p for span in grid.bt_spans for p in span}, key=int)
    lamp = {"principal": ("1", 150.0), "secundaria": ("1", 100.0), "local": ("9", 70.0)}
    rows = []
    for i, p in enumerate(lv_poles):
        if i % 4 == 3:
            continue
        cls = min(grid.poles[p].classes, key=["principal", "secundaria", "local"].index)
        rows.append((p, *lamp[cls]))
        if grid.poles[p].kind == "trafo" and cls == "principal":
            rows.append((p, *lamp[cls]))
    lv_trafo: dict[str, str] = {}
    for (a, b), t in zip(grid.bt_spans, bt_trafo, strict=True):
        lv_trafo.setdefault(a, t)
        lv_trafo.setdefault(b, t)
    q = len(rows)
    pot = np.array([r[2] for r in rows])
    car = pot / 1000.0
    pip = pd.DataFrame(
        {
            "COD_ID": [str(40001 + i) for i in range(q)],
            "UC_ID": "1001",
            "DIST": i32(DIST, q),
            "MUN": IBGE,
            "CONJ": i32(CONJ, q),
            "SUB": SUB,
            "UNI_TR_AT": "",
            "CTMT": CTMT,
            "UNI_TR_MT": [lv_trafo[r[0]] for r in rows],
            "PN_CON": [r[0] for r in rows],
            "CLAS_SUB": "IP",
            "FAS_CON": [("AN", "BN", "CN")[i % 3] for i in range(q)],
            "GRU_TEN": "BT",
            "TEN_FORN": "15",
            "GRU_TAR": "B4A",
            "SIT_ATIV": "AT",
            "ARE_LOC": "UB",
            "PAC": [f"BT{r[0]}1" for r in rows],
            "TIP_CC": "IP_1",
            "CAR_INST": car,
            "TIPO_LAMP": [r[1] for r in rows],
            "POT_LAMP": pot,
            "PERDA_REAT": 0.0,
            "PERDA_RELE": 0.0,
            "PERDA_OUTR": 0.0,
            "CONTROLE": i32(1, q),
            "TIP_SIST": "RD_INTERLIG",
        }
    )
    for mth in range(1, 13):
        pip[f"ENE_{mth:02d}"] = np.round(car * hours_of_dark(mth) * DAYS[mth - 1], 4)
    pip["DIC"] = 0.0
    pip["FIC"] = 0.0
    pip["LIV"] = i32(0, q)
    pip["SEMRED"] = i32(0, q)
    pip["DAT_CON"] = [("01/01/2023", "15/06/2021", "20/09/2019")[i % 3] for i in range(q)]
    pip["DESCR"] = ""

    # CTMT: the feeder (TEN_NOM 49 = 13.8 kV in the ANEEL dictionary).
    month_mwh = [
        1180.0,
        1105.0,
        1210.0,
        1150.0,
        1190.0,
        1230.0,
        1260.0,
        1240.0,
        1170.0,
        1160.0,
        1140.0,
        1200.0,
    ]
    ctmt: dict[str, object] = {
        "COD_ID": [CTMT],
        "NOME": ["DEM01"],
        "BARR": [""],
        "SUB": [SUB],
        "PAC_INI": [CTMT],
        "TEN_NOM": ["49"],
        "TEN_OPE": [1.0],
        "ATIP": np.array([0], dtype="int32"),
        "RECONFIG": np.array([0], dtype="int32"),
        "DIST": np.array([DIST], dtype="int32"),
        "UNI_TR_AT": [""],
    }
    for mth in range(1, 13):
        ctmt[f"ENE_{mth:02d}"] = [month_mwh[mth - 1] * 1000.0]
    ctmt.update(
        {"PERD_A3a": [0.0], "PERD_A4": [610000.0], "PERD_B": [72000.0], "PERD_MED": [18500.0]}
    )
    for col in ("PERD_A3aA4", "PERD_A3a_B", "PERD_A4A3a", "PERD_A4_B", "PERD_B_A3a", "PERD_B_A4"):
        ctmt[col] = [0.0]
    for part in ("PNTMT", "PNTBT"):
        for mth in range(1, 13):
            ctmt[f"{part}_{mth:02d}"] = [0.0]
    ctmt["DESCR"] = [""]

    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": TIMESTAMP})
    opts = {"promote_to_multi": False}
    pyogrio.write_dataframe(
        _gdf(ssdbt, bt_geoms), path, layer="SSDBT", geometry_type="MultiLineString", **opts
    )
    pyogrio.write_dataframe(
        _gdf(ssdmt, mt_geoms), path, layer="SSDMT", geometry_type="MultiLineString", **opts
    )
    pyogrio.write_dataframe(_gdf(ponnot, pts), path, layer="PONNOT", geometry_type="Point", **opts)
    trafo_pts = [Point(xy) for xy in to_lonlat(trafo_xy, "EPSG:4674").tolist()]
    pyogrio.write_dataframe(
        _gdf(untrmt, trafo_pts), path, layer="UNTRMT", geometry_type="Point", **opts
    )
    pyogrio.write_dataframe(pip, path, layer="PIP")
    pyogrio.write_dataframe(pd.DataFrame(ctmt), path, layer="CTMT")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return {"SSDBT": len(ssdbt), "SSDMT": len(ssdmt), "PONNOT": n, "UNTRMT": m, "PIP": q, "CTMT": 1}


def _gdf(df: pd.DataFrame, geoms: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs="EPSG:4674")


# ---------------------------------------------------------------------------
# OSM XML
# ---------------------------------------------------------------------------
class OsmWriter:
    """Collects OSM elements with stable ids and writes OSM XML 0.6."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple[Xy, Tags]] = {}
        self.ways: dict[int, tuple[list[int], Tags]] = {}
        self.relations: dict[int, tuple[list[tuple[str, int, str]], Tags]] = {}
        self._next_node: dict[str, int] = {}
        self._next_way: dict[str, int] = {}

    def node(self, series: str, base: int, xy: Xy, tags: Tags | None = None) -> int:
        nid = self._next_node.get(series, base)
        self._next_node[series] = nid + 1
        self.nodes[nid] = (xy, tags or {})
        return nid

    def way(self, series: str, base: int, nodes: list[int], tags: Tags) -> int:
        wid = self._next_way.get(series, base)
        self._next_way[series] = wid + 1
        self.ways[wid] = (nodes, tags)
        return wid

    def closed_way(
        self, series: str, way_base: int, node_base: int, ring: list[Xy], tags: Tags
    ) -> int:
        ids = [self.node(series, node_base, p) for p in ring[:-1]]
        return self.way(series, way_base, [*ids, ids[0]], tags)

    def write(self, path: Path) -> tuple[float, float, float, float]:
        ids = sorted(self.nodes)
        ll = to_lonlat(np.array([self.nodes[i][0] for i in ids]))
        minlon, minlat = ll.min(axis=0) - 0.0005
        maxlon, maxlat = ll.max(axis=0) + 0.0005
        root = ET.Element("osm", {"version": "0.6", "generator": GENERATOR})
        ET.SubElement(
            root,
            "bounds",
            {
                "minlat": f"{minlat:.7f}",
                "minlon": f"{minlon:.7f}",
                "maxlat": f"{maxlat:.7f}",
                "maxlon": f"{maxlon:.7f}",
            },
        )
        meta = {"version": "1", "timestamp": TIMESTAMP}
        for nid, (lon, lat) in zip(ids, ll.tolist(), strict=True):
            el = ET.SubElement(
                root, "node", {"id": str(nid), **meta, "lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}
            )
            _tags(el, self.nodes[nid][1])
        for wid in sorted(self.ways):
            nds, tags = self.ways[wid]
            el = ET.SubElement(root, "way", {"id": str(wid), **meta})
            for n in nds:
                ET.SubElement(el, "nd", {"ref": str(n)})
            _tags(el, tags)
        for rid in sorted(self.relations):
            members, tags = self.relations[rid]
            el = ET.SubElement(root, "relation", {"id": str(rid), **meta})
            for typ, ref, role in members:
                ET.SubElement(el, "member", {"type": typ, "ref": str(ref), "role": role})
            _tags(el, tags)
        ET.indent(root, space=" ")
        ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n")
        return float(minlon), float(minlat), float(maxlon), float(maxlat)


def _tags(el: ET.Element, tags: Tags) -> None:
    for k in sorted(tags):
        ET.SubElement(el, "tag", {"k": k, "v": tags[k]})


def along(net: Network, key: str, s: float, side: int, off: float) -> Xy:
    p, _, n = frame_at(net.lines[key], s)
    q = p + n * side * off
    return (round(float(q[0]), 2), round(float(q[1]), 2))


BUS_STOPS: list[tuple[str, float, int, str]] = [
    ("av_brasil", 300, 1, "Avenida Brasil - Vila Nova"),
    ("av_brasil", 560, -1, "Avenida Brasil - Rua Coronel Antônio Prado"),
    ("av_brasil", 860, 1, "Avenida Brasil - Prefeitura"),
    ("av_brasil", 1040, -1, "Avenida Brasil - Praça da Matriz"),
    ("av_brasil", 1180, 1, "Avenida Brasil - Centro"),
    ("av_brasil", 1420, -1, "Avenida Brasil - Hospital"),
    ("av_brasil", 1640, 1, "Avenida Brasil - Rotatória"),
    ("ns_0", 520, 1, "Avenida Tiradentes - Escola"),
    ("ns_0", 200, -1, "Avenida Tiradentes - UBS"),
    ("sete_setembro", 250, -1, "Rua Sete de Setembro"),
    ("sete_setembro", 850, 1, "Rua Sete de Setembro - Vila Nova"),
    ("quinze_novembro", 700, 1, "Rua Quinze de Novembro"),
    ("av_palmeiras", 320, -1, "Avenida das Palmeiras"),
    ("estrada_bairro_alto", 790, 1, "Estrada do Bairro Alto - Escola Rural"),
]


def build_osm(
    net: Network, grid: Grid, buildings: list[Building], addrs: list[AddressNode]
) -> OsmWriter:
    osm = OsmWriter()
    # Street nodes keep their network ids (1..N).
    for nid in sorted(net.xy):
        osm.nodes[nid] = (net.xy[nid], net.node_tags.get(nid, {}))
    for i, st in enumerate(net.streets):
        osm.ways[1 + i] = (st.node_ids, st.tags)

    # POIs and bus stops (series "poi": nodes 100001+).
    for xy, tags in POIS:
        osm.node("poi", 100001, warp(*xy), tags)
    for key, s, side, name in BUS_STOPS:
        tags = {"highway": "bus_stop", "public_transport": "platform", "bus": "yes", "name": name}
        if s > 1000:
            tags["shelter"] = "yes"
        osm.node("poi", 100001, along(net, key, s, side, 9.0), tags)
    for a in addrs:
        osm.node("poi", 100001, a.xy, a.tags)

    # Street lamps on the lighting poles around Praça da Matriz and on the central avenue.
    praca = shapely.centroid(Polygon([warp(*p) for p in AREAS[0][0]]))
    for cod in sorted(grid.poles, key=int):
        pole = grid.poles[cod]
        near_praca = Point(pole.xy).distance(praca) < 130
        central_av = "principal" in pole.classes and abs(pole.xy[0]) < 320
        if (near_praca or central_av) and int(cod) % 4 != 3:
            osm.node(
                "poi", 100001, pole.xy, {"highway": "street_lamp", "lamp_mount": "straight_mast"}
            )

    # Areas: facilities, landuse (ways 10001+, nodes 200001+ via series "area").
    for pts, tags in AREAS:
        osm.closed_way("area", 10001, 200001, warp_ring(pts, 40.0), tags)
    for pts, tags in LANDUSE:
        osm.closed_way("area", 10001, 200001, warp_ring(pts, 60.0), tags)

    # Buildings (ways 20001+, nodes 300001+).
    for b in buildings:
        osm.closed_way("building", 20001, 300001, b.ring, b.tags)

    # Power: partial mirror of the distributor grid (ways 30001+, nodes 400001+).
    pole_node = {}
    for cod in dict.fromkeys(grid.osm_mv + grid.osm_lv_street):
        pole_node[cod] = osm.node(
            "power", 400001, grid.poles[cod].xy, {"power": "pole", "ref": cod}
        )
    osm.way(
        "power",
        30001,
        [pole_node[c] for c in grid.osm_mv],
        {"power": "line", "voltage": "13800", "cables": "3", "operator": "Distribuidora Fictícia"},
    )
    osm.way(
        "power",
        30001,
        [pole_node[c] for c in grid.osm_lv_street],
        {"power": "minor_line", "voltage": "220", "operator": "Distribuidora Fictícia"},
    )
    tr_pole = grid.poles[grid.trafos[0][1]].xy
    osm.node(
        "power",
        400001,
        (tr_pole[0] + 1.5, tr_pole[1]),
        {
            "power": "transformer",
            "voltage": "13800;220",
            "transformer": "distribution",
            "ref": grid.trafos[0][0],
        },
    )

    # Water (ways 50001+, nodes 600001+).
    for pts, tags in WATER_AREAS:
        osm.closed_way("water", 50001, 600001, warp_ring(pts, 40.0), tags)
    for pts, tags in WATERWAYS:
        line = shapely.segmentize(LineString(pts), 60.0).coords
        osm.way("water", 50001, [osm.node("water", 600001, warp(x, y)) for x, y in line], tags)

    # Administrative boundary: two ways (north and south) in one relation.
    ring = warp_ring(BOUNDARY, 200.0)[:-1]
    bids = [osm.node("boundary", 500001, p) for p in ring]
    east = warp(2000, 0)
    half = next(i for i, p in enumerate(ring) if math.dist(p, east) < 1e-6)
    north = bids[: half + 1]
    south = [*bids[half:], bids[0]]
    btags = {"boundary": "administrative", "admin_level": "8"}
    w1 = osm.way("boundary", 40001, north, btags)
    w2 = osm.way("boundary", 40001, south, btags)
    osm.relations[1] = (
        [("way", w1, "outer"), ("way", w2, "outer")],
        {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": "8",
            "name": MUNICIPIO,
            "IBGE:GEOCODIGO": IBGE,
            "note": "dados fictícios",
        },
    )
    return osm


# ---------------------------------------------------------------------------
# DEM
# ---------------------------------------------------------------------------
def write_dem(
    net: Network, bounds: tuple[float, float, float, float], path: Path
) -> tuple[int, int, float, float]:
    res = 1.0 / 3600.0
    margin = 0.003
    west = math.floor((bounds[0] - margin) / res) * res
    east = math.ceil((bounds[2] + margin) / res) * res
    south = math.floor((bounds[1] - margin) / res) * res
    north = math.ceil((bounds[3] + margin) / res) * res
    width, height = round((east - west) / res), round((north - south) / res)
    lon = west + (np.arange(width) + 0.5) * res
    lat = north - (np.arange(height) + 0.5) * res
    glon, glat = np.meshgrid(lon, lat)
    ux, uy = _TO_UTM.transform(glon.ravel(), glat.ravel())
    x = np.asarray(ux) - _CX
    y = np.asarray(uy) - _CY
    axis = LineString([warp(float(v), 0.0) for v in np.arange(-3000.0, 3001.0, 20.0)])
    d = shapely.distance(shapely.points(x, y), axis)
    z = (
        900.0
        + 195.0 * (1.0 - np.exp(-((d / 850.0) ** 2)))
        + 16.0 * np.sin(x / 520.0) * np.cos(y / 610.0) * np.clip(d / 400.0, 0.0, 1.0)
        - 0.008 * x
    )
    z = np.round(z, 2).astype("float32").reshape(height, width)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(west, north, res, res),
        "nodata": -9999.0,
        "compress": "deflate",
        "predictor": 3,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
        dst.update_tags(
            DESCRICAO="MDT FICTICIO do Municipio de Demonstracao (geo_ip): nao e terreno real",
            UNIDADE="metros",
        )
    return width, height, float(z.min()), float(z.max())


# ---------------------------------------------------------------------------
# Requests (pedidos) and their answer key
# ---------------------------------------------------------------------------
PEDIDOS_HEADER = (
    "protocolo", "data_protocolo", "tipo", "latitude", "longitude", "endereco", "numero",
    "bairro", "cep", "residencias", "moradores", "cadunico", "renda_familiar", "uso_imovel",
    "mei", "cpf_solicitante", "nome_solicitante", "beneficio_anterior_data",
    "beneficio_anterior_justificativa", "estrategico", "justificativa_estrategica",
    "observacoes",
)  # fmt: skip
GABARITO_HEADER = (
    "linha", "protocolo", "situacao", "campos_com_problema", "geocodificacao", "logradouro",
    "bairro", "fora_da_malha", "data_referencia", "observacao",
)  # fmt: skip
DATA_REFERENCIA = "2026-11-20"
"""Reference date ("today") the answer key's ``situacao`` assumes."""
FIRST_DATE = "2026-05-06"  # Lei 5.442/2026 in force; protocols run to 2026-11-01
LAST_DATE = "2026-11-01"
MAX_ROAD_DISTANCE_M = 150.0  # rules: distancia_maxima_via (fora_da_malha beyond it)

FIRST_NAMES = [
    "Ana Cláudia", "Benedito", "Cleusa", "Dirceu", "Edileuza", "Florisvaldo", "Genésio",
    "Hermínia", "Ivanildo", "Jurema", "Lindalva", "Marinalva", "Nivaldo", "Odete", "Penha",
    "Quitéria", "Rosimeire", "Sebastiana", "Tarcísio", "Valdomiro", "Zenaide", "Aparecido",
    "Berenice", "Custódio", "Dalva", "Expedito", "Filomena", "Geraldina", "Hildebrando",
    "Iracema", "Joaquina", "Laudelino", "Mercedes", "Nazaré", "Orlandina", "Palmira",
    "Raimundo", "Silvério", "Terezinha", "Ubaldo", "Vicentina", "Wanderlei", "Zulmira",
]  # fmt: skip
SURNAMES = [
    "Ficticia da Silva", "Exemplo dos Santos", "Demonstração Pereira", "Teste de Oliveira",
    "Modelo Rodrigues", "Amostra Ferreira", "Simulada Alves", "Inventada Lima",
]  # fmt: skip


def cpf_check_digits(base9: str) -> str:
    """The two check digits of a CPF (Receita Federal mod-11 rule)."""
    digits = [int(c) for c in base9]
    for weight0 in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight0, 1, -1), strict=False))
        rest = total % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return f"{digits[9]}{digits[10]}"


def fictional_cpf(n: int, formatted: bool = True) -> str:
    """A CPF with valid check digits on the fixed test pattern 123.456.7NN-DV."""
    base = f"1234567{n:02d}"
    cpf = base + cpf_check_digits(base)
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}" if formatted else cpf


@dataclass
class Pedido:
    """One request row (as a clerk typed it) and what the answer key expects of it."""

    tipo: str
    # location: coordinates from (street key, s, side, offset) or final metres, or an address
    at: tuple[str, float, int, float] | Xy | None = None
    endereco: str = ""
    numero: str = ""
    bairro: str = ""
    cep: str = ""
    residencias: str = "1"
    moradores: str = "3"
    cadunico: str = "não"
    renda: str = ""
    uso: str = "residencial"
    mei: str = ""
    estrategico: str = "não"
    justificativa: str = ""
    beneficio: str = ""
    beneficio_just: str = ""
    obs: str = ""
    # coordinates: "dot" (default), "comma" (decimal comma), "swap" (lat/lon inverted)
    coords: str = "dot"
    cpf: str = "ok"  # ok, digits (unformatted), empty, invalid
    data: str = ""  # a fixed date instead of the sequence (the future-date row)
    protocolo: str = ""  # a fixed protocol (the duplicated one)
    # answer key
    situacao: str = "ok"
    campos: str = ""
    geo: str = ""  # geocoding class; "" = derived (coordenada_informada for coordinates)
    rua: str = ""  # expected street (name as in the OSM data)
    rua_bairro: str = ""  # bairro of the expected street
    numero_osm: str = ""  # number that must exist (numero_exato) / be interpolated
    nota: str = ""


def request_specs() -> list[Pedido]:
    """The demo requests, in the order of the spreadsheet."""
    ext, imp, mel = "extensao_rede", "implantacao", "melhoria"
    return [
        Pedido(mel, ("ns_-450", 300, 1, 12), residencias="4", moradores="11", cadunico="sim",
               renda="1.850,00", rua="Rua Dom Pedro II", rua_bairro="Centro"),
        Pedido(ext, endereco="R. Getulio Vargas", numero="475", bairro="Centro", cep="39999-000",
               residencias="2", moradores="6", renda="2400", beneficio="10/05/2024",
               geo="numero_exato", rua="Rua Getúlio Vargas", rua_bairro="Centro",
               nota="benefício idêntico há 2 anos sem justificativa (Art. 5, II): inelegível na "
               "análise de elegibilidade, não na conferência"),
        Pedido(ext, ("vn_ew_-720", 230, 1, 15), residencias="6", moradores="19", cadunico="sim",
               renda="980,50", rua="Rua Bela Vista", rua_bairro="Vila Nova"),
        Pedido(imp, endereco="AV. BRASIL", numero="1345", cep="39999000", uso="comercial",
               mei="sim", cadunico="sim", renda="1.200,00", residencias="1", moradores="2",
               geo="numero_exato", rua="Avenida Brasil", rua_bairro="Centro",
               nota="uso comercial de MEI (Art. 5, I): exceção a conferir na elegibilidade"),
        Pedido(mel, ("ns_0", 540, -1, 15), residencias="8", moradores="25", estrategico="sim",
               renda="2.100,00",
               justificativa="Acesso noturno à Escola Estadual Padre Anchieta e à UBS Centro",
               nota="estratégico com parecer da Comissão (decisão art11): reservado no orçamento",
               rua="Avenida Tiradentes", rua_bairro="Centro"),
        Pedido("Extensão de Rede", endereco="Al. dos Ipes", numero="165",
               bairro="Jardim das Palmeiras", residencias="3", moradores="9", renda="1.900,00",
               geo="numero_exato", rua="Alameda dos Ipês", rua_bairro="Jardim das Palmeiras"),
        Pedido(imp, ("vn_ns_-900", 150, -1, 12), residencias="-2", moradores="7",
               obs="[teste] residencias negativo", situacao="erro", campos="residencias",
               rua="Rua Goiás", rua_bairro="Vila Nova"),
        Pedido(ext, endereco="R. Santos Dumond", numero="776", bairro="centro",
               residencias="2", moradores="5", cpf="digits", cadunico="sim",
               obs="nome da rua digitado com erro (Dumond)", geo="numero_exato",
               rua="Rua Santos Dumont", rua_bairro="Centro"),
        Pedido(ext, ("vn_ns_-1350", 500, 1, 14), residencias="5", moradores="14",
               cadunico="Sim", rua="Rua Minas Gerais", rua_bairro="Vila Nova"),
        Pedido(mel, endereco="R. Padre Anchieta, 1001", residencias="1", moradores="4",
               renda="7.200,00", geo="numero_exato", rua="Rua Padre Anchieta",
               rua_bairro="Centro", numero_osm="1001",
               nota="número dentro do campo endereco; renda declarada acima do limite "
               "(Art. 2, IV): inelegível na análise de elegibilidade"),
        Pedido(imp, ("jp_ew_660", 200, 1, 12), residencias="3", moradores="8", renda="2.300,00",
               rua="Rua das Hortênsias", rua_bairro="Jardim das Palmeiras"),
        Pedido(ext, endereco="R. Sao Joao", numero="345", bairro="vila nova", residencias="2",
               moradores="6", cadunico="sim", geo="numero_exato", rua="Rua São João",
               rua_bairro="Vila Nova"),
        Pedido(ext, endereco="Rua São João", numero="345", residencias="1", moradores="3",
               obs="[teste] endereço ambíguo: há Rua São João na Vila Nova e no Jardim das "
               "Palmeiras, ambas com o número 345, e o bairro não foi informado",
               geo="ambiguo", rua="Rua São João"),
        Pedido(ext, ("jp_ns_1200", 300, -1, 12), residencias="4", moradores="10",
               estrategico="sim", obs="[teste] estratégico sem justificativa (Art. 11)",
               situacao="erro", campos="justificativa_estrategica",
               rua="Rua dos Girassóis", rua_bairro="Jardim das Palmeiras"),
        Pedido("implantação", endereco="rua parana", numero="180", bairro="Vila Nova",
               residencias="2", moradores="7", cadunico="sim", geo="numero_exato",
               rua="Rua Paraná", rua_bairro="Vila Nova"),
        Pedido(ext, ("projetada", 90, 1, 15), residencias="7", moradores="20", cadunico="sim",
               obs="loteamento novo, rua ainda sem ligação com a malha",
               rua="Rua Projetada Um"),
        Pedido(ext, endereco="Rua das Acacias", numero="251", bairro="Jardim das Palmeiras",
               residencias="1", moradores="2", cpf="invalid",
               obs="[teste] CPF inválido (dígitos verificadores errados)", situacao="erro",
               campos="cpf_solicitante", geo="numero_exato", rua="Rua das Acácias",
               rua_bairro="Jardim das Palmeiras"),
        Pedido(ext, ("trilha_1", 820, -1, 21.5), residencias="1", moradores="4",
               cadunico="sim", renda="600", obs="casa rural na estrada de terra",
               geo="coordenada_informada", rua="", rua_bairro="Bairro Alto"),
        Pedido(ext, endereco="Est. Municipal do Bairro Alto", numero="420",
               bairro="Bairro Alto", residencias="1", moradores="5", cadunico="sim",
               estrategico="sim",
               justificativa="Caminho dos alunos até a Escola Rural do Bairro Alto",
               geo="numero_exato", rua="Estrada Municipal do Bairro Alto",
               rua_bairro="Bairro Alto"),
        Pedido(mel, endereco="R. das Flores", numero="500", bairro="Centro", residencias="3",
               moradores="8", renda="1.500,00", geo="interpolado", rua="Rua das Flores",
               rua_bairro="Centro"),
        Pedido(ext, ("trilha_2", -6.0, -1, 20.5), residencias="1", moradores="2",
               cadunico="sim", obs="sítio no fim da trilha", rua="", rua_bairro="Bairro Alto"),
        Pedido(ext, endereco="Rua Santa Luzia", numero="305", bairro="Vila Nova",
               residencias="2", moradores="5", geo="interpolado", rua="Rua Santa Luzia",
               rua_bairro="Vila Nova",
               nota="sem comprovação na planilha; a Comissão aceita outros documentos "
               "(decisão hipossuficiencia, Art. 4 §2, III)"),
        Pedido(imp, ("vn_ns_-750", 200, 1, 12), coords="swap", residencias="3", moradores="9",
               obs="[teste] latitude e longitude trocadas", situacao="erro",
               campos="latitude;longitude", rua="Rua Espírito Santo", rua_bairro="Vila Nova",
               nota="invertidas, as coordenadas caem na Rua Espírito Santo"),
        Pedido(mel, endereco="Av Brasil", numero="1101", uso="comercial", mei="não",
               residencias="1", moradores="2", geo="interpolado", rua="Avenida Brasil",
               rua_bairro="Centro", nota="uso comercial sem MEI: inelegível (Art. 5, I)"),
        Pedido(ext, endereco="Trav. São José", bairro="Centro", residencias="2",
               moradores="5", cadunico="sim", geo="logradouro", rua="Travessa São José",
               rua_bairro="Centro"),
        Pedido(ext, ("estrada_pinheiros", 1200, 1, 30), residencias="1", moradores="3",
               cadunico="sim", renda="750", rua="Estrada Municipal dos Pinheiros"),
        Pedido(ext, endereco="Rua Bahia", numero="s/n", bairro="Vila Nova", residencias="4",
               moradores="12", cadunico="sim", geo="logradouro", rua="Rua Bahia",
               rua_bairro="Vila Nova"),
        Pedido(ext, endereco="Rua Inexistente dos Testes", numero="100", residencias="1",
               moradores="3", obs="[teste] logradouro inexistente", geo="falhou"),
        Pedido(ext, (4300.0, 300.0), residencias="2", moradores="6",
               obs="[teste] ponto fora do município (cerca de 2,3 km a leste do limite)",
               situacao="erro", campos="latitude;longitude"),
        Pedido(mel, endereco="R. Dr. Carlos Chagas", bairro="Centro", residencias="6",
               moradores="15", renda="3.000,00", geo="logradouro", rua="Rua Doutor Carlos Chagas",
               rua_bairro="Centro", nota="rua sem número no OSM, pedido sem número"),
        Pedido(imp, ("estrada_bairro_alto", 330, 1, 25), residencias="1", moradores="2",
               cadunico="sim", rua="Estrada Municipal do Bairro Alto", rua_bairro="Bairro Alto"),
        Pedido(ext, endereco="R. Prof. Joao Batista", numero="321", bairro="Centro",
               residencias="1", moradores="3", cadunico="sim", geo="numero_exato",
               rua="Rua Professor João Batista", rua_bairro="Centro"),
        Pedido(ext, endereco="Zona rural", bairro="Bairro Alto", residencias="1",
               moradores="4", cadunico="sim", obs="perto da cachoeira, sem nome de rua",
               geo="bairro", rua_bairro="Bairro Alto",
               nota="via rural de alto fluxo: execução direta decidida pelo Executivo "
               "(decisão art12, Art. 12)"),
        Pedido(ext, (-1600.0, 900.0), residencias="1", moradores="3", cadunico="sim",
               obs="casa isolada, sem estrada mapeada"),
        Pedido(ext, endereco="R. Cel. Antonio Prado", numero="401", bairro="Centro",
               data="12/08/2062", residencias="1", moradores="2",
               obs="[teste] data futura (2062 em vez de 2026)", situacao="erro",
               campos="data_protocolo", geo="numero_exato", rua="Rua Coronel Antônio Prado",
               rua_bairro="Centro"),
        Pedido(mel, ("ns_450", 200, 1, 10), coords="comma", residencias="5", moradores="13",
               renda="2.000,00", cpf="empty", obs="coordenadas com vírgula decimal",
               rua="Rua Santa Rita", rua_bairro="Centro"),
        Pedido("troca de lampada", endereco="Rua São Sebastião", numero="425",
               bairro="Vila Nova", residencias="1", moradores="2",
               obs="[teste] tipo desconhecido", situacao="erro", campos="tipo",
               geo="numero_exato", rua="Rua São Sebastião", rua_bairro="Vila Nova"),
        Pedido(ext, ("ns_150", 300, 1, 10), endereco="R. N. Sra. Aparecida", numero="s/n",
               bairro="Centro", residencias="2", moradores="4",
               rua="Rua Nossa Senhora Aparecida", rua_bairro="Centro",
               nota="casa s/n com as coordenadas do local: localizada pelas coordenadas, não "
               "pelo logradouro (incerteza dentro do limite); sem comprovação de "
               "hipossuficiência: pendente_comprovacao na avaliação"),
        Pedido(ext, endereco="Rua 15 de Novembro", numero="1000", residencias="3",
               moradores="7", renda="1.700,00", uso="misto", geo="interpolado",
               rua="Rua Quinze de Novembro", rua_bairro="Centro",
               nota="número da rua escrito em algarismos"),
        Pedido(ext, endereco="Av. das Palmeiras", bairro="Jardim das Palmeiras",
               residencias="80", moradores="210",
               obs="abaixo-assinado do condomínio; contagens acima dos limites de conferência",
               nota="sem comprovação de hipossuficiência: pendente_comprovacao na avaliação",
               situacao="aviso", campos="residencias;moradores", geo="logradouro",
               rua="Avenida das Palmeiras", rua_bairro="Jardim das Palmeiras"),
        Pedido(ext, endereco="R. Barão do Rio Branco", numero="850", bairro="Centro",
               protocolo="DUP", residencias="2", moradores="6",
               obs="[teste] protocolo duplicado", situacao="erro", campos="protocolo",
               geo="numero_exato", rua="Rua Barão do Rio Branco", rua_bairro="Centro"),
    ]  # fmt: skip


def _graph_streets(net: Network) -> list[Street]:
    """Streets that enter the road graph (as layers/vias.toml filters them)."""
    out = []
    for st in net.streets:
        t = st.tags
        if t["highway"] in ("footway", "cycleway", "path"):
            continue
        if t.get("access") in ("private", "no") or t.get("service") in (
            "parking_aisle",
            "driveway",
        ):
            continue
        out.append(st)
    return out


def make_requests(
    net: Network, buildings: list[Building], addrs: list[AddressNode]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows of ``pedidos.csv`` and of its answer key, checked against the generated data."""
    specs = request_specs()
    numbers: dict[tuple[str, str | None], set[str]] = {}
    located: dict[tuple[str, str, str], Point] = {}  # (street, bairro, number) -> point
    features = [(b.tags, Polygon(b.ring).centroid) for b in buildings]
    features += [(a.tags, Point(a.xy)) for a in addrs]
    for tags, point in features:
        if "addr:street" in tags:
            key = (tags["addr:street"], tags.get("addr:suburb"))
            numbers.setdefault(key, set()).add(tags["addr:housenumber"])
            located[(key[0], key[1] or "", tags["addr:housenumber"])] = point
    names = {st.tags.get("name") for st in net.streets}
    bairros = {tags["name"] for _, tags in POIS if tags.get("place") == "neighbourhood"}
    roads = _graph_streets(net)
    road_lines = [net.lines[st.key] for st in roads]
    boundary = Polygon(warp_ring(BOUNDARY, 200.0))

    first = np.datetime64(FIRST_DATE)
    span = int((np.datetime64(LAST_DATE) - first).astype(int))
    rows: list[dict[str, str]] = []
    key_rows: list[dict[str, str]] = []
    protocols: list[str] = []
    for i, p in enumerate(specs):
        day = str(first + np.timedelta64(round(i * span / (len(specs) - 1)), "D"))
        data = p.data or (day if i % 3 != 1 else f"{day[8:]}/{day[5:7]}/{day[:4]}")
        # the duplicated protocol repeats PED-2026-0127 (Rua Bahia, s/n); both rows are errors
        protocolo = protocols[26] if p.protocolo == "DUP" else f"PED-2026-{101 + i:04d}"
        protocols.append(protocolo)
        lat = lon = ""
        fora = ""
        geo = p.geo
        if p.at is not None:
            if len(p.at) == 4:
                key, s, side, off = p.at
                length = net.lines[key].length
                xy = along(net, key, s if s >= 0 else length + s, side, off)  # s < 0: from the end
            else:
                xy = p.at
            lo, la = to_lonlat(np.array([xy]))[0]
            lat, lon = f"{la:.6f}", f"{lo:.6f}"
            if p.coords == "swap":
                lat, lon = lon, lat
            elif p.coords == "comma":
                lat, lon = lat.replace(".", ","), lon.replace(".", ",")
            geo = geo or "coordenada_informada"
            point = Point(xy)
            inside = boundary.contains(point)
            assert inside == ("fora do município" not in p.obs), (i, p)
            dist = [line.distance(point) for line in road_lines]
            j = int(np.argmin(dist))
            if inside and p.coords != "swap":
                fora = "sim" if dist[j] > MAX_ROAD_DISTANCE_M else "não"
            if dist[j] <= MAX_ROAD_DISTANCE_M:
                assert roads[j].tags.get("name", "") == p.rua, (i, p.rua, roads[j].key)
                assert (roads[j].bairro or "") == p.rua_bairro, (i, roads[j].key)
            else:
                assert not p.rua and fora in ("sim", ""), (i, dist[j])
        else:
            number = p.numero_osm or p.numero
            if geo in ("numero_exato", "interpolado"):
                have = numbers[(p.rua, p.rua_bairro)]
                if geo == "numero_exato":
                    assert number in have, (i, p.rua, number)
                    where = located[(p.rua, p.rua_bairro, number)]
                    near = min(line.distance(where) for line in road_lines)
                    assert near <= MAX_ROAD_DISTANCE_M, (i, near)
                else:  # same-side numbers exist below and above, the number itself not
                    n = int(number)
                    side = {int(h) for h in have if h.isdigit() and int(h) % 2 == n % 2}
                    assert number not in have and min(side) < n < max(side), (i, p.rua)
            elif geo == "ambiguo":
                places = [b for (s, b), have in numbers.items() if s == p.rua and number in have]
                assert len(places) >= 2, (i, places)
            elif geo == "logradouro":
                assert p.rua in names and p.numero in ("", "s/n"), i
            elif geo == "bairro":
                assert p.rua_bairro in bairros and p.bairro == p.rua_bairro, i
            elif geo == "falhou":
                assert p.endereco not in names and not p.bairro, i
            else:
                raise ValueError(f"pedido {i}: geocodificação {geo!r}")
            if geo in ("numero_exato", "interpolado", "logradouro"):
                fora = "não"  # an address point by its street, or a point on the street
        if p.cpf == "empty":
            cpf = ""
        else:
            cpf = fictional_cpf(i + 1, formatted=p.cpf != "digits")
            if p.cpf == "invalid":
                cpf = cpf[:-1] + str((int(cpf[-1]) + 5) % 10)
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {SURNAMES[(i * 3) % len(SURNAMES)]}"
        rows.append(
            dict(
                zip(
                    PEDIDOS_HEADER,
                    [
                        protocolo, data, p.tipo, lat, lon, p.endereco, p.numero, p.bairro,
                        p.cep, p.residencias, p.moradores, p.cadunico, p.renda, p.uso, p.mei,
                        cpf, name, p.beneficio, p.beneficio_just, p.estrategico,
                        p.justificativa, p.obs,
                    ],
                    strict=True,
                )
            )
        )  # fmt: skip
        key_rows.append(
            dict(
                zip(
                    GABARITO_HEADER,
                    [
                        str(i + 2), protocolo, p.situacao, p.campos, geo, p.rua,
                        p.rua_bairro, fora, DATA_REFERENCIA, p.nota,
                    ],
                    strict=True,
                )
            )
        )  # fmt: skip
    counts = pd.Series(protocols).value_counts()
    for row in key_rows:
        if counts[row["protocolo"]] > 1 and "protocolo" not in row["campos_com_problema"]:
            row["situacao"] = "erro"
            fields = (row["campos_com_problema"], "protocolo")
            row["campos_com_problema"] = ";".join(c for c in fields if c)
            row["observacao"] = "protocolo repetido mais adiante: todas as ocorrências dão erro"
    return rows, key_rows


# ---------------------------------------------------------------------------
# Assessment inputs: occurrences, the commission's decisions, previous benefits
# ---------------------------------------------------------------------------
OCORRENCIAS_PATH = OUT / "ocorrencias.csv"
DECISOES_PATH = OUT / "decisoes.csv"
BENEFICIOS_PATH = OUT / "beneficios_anteriores.csv"
OCORRENCIAS_HEADER = ("data", "tipo", "latitude", "longitude", "descricao")
DECISOES_HEADER = (
    "protocolo", "criterio", "pontos", "motivacao", "membro", "data", "procedimento", "latitude",
    "longitude",
)  # fmt: skip
BENEFICIOS_HEADER = ("protocolo", "data", "cpf", "tipo")

# (street key, s, side, offset) of each occurrence, its date and type, and a description.
OCCURRENCES: list[tuple[tuple[str, float, int, float], str, str, str]] = [
    # Rua Bela Vista (Vila Nova, PED-2026-0103): repeated insecurity at night -> level I
    (("vn_ew_-720", 200, 1, 8), "2026-03-14", "ocorrência policial", "roubo a pedestre à noite"),
    (("vn_ew_-720", 260, -1, 8), "2026-06-02", "ocorrência policial", "furto, rua escura"),
    (("vn_ew_-720", 300, 1, 6), "2026-08-21", "reclamação", "moradores relatam falta de luz"),
    (("vn_ew_-720", 240, 1, 5), "2025-12-10", "acidente de trânsito", "atropelamento à noite"),
    # Avenida Brasil at the Vila Nova bus stop: accidents
    (("av_brasil", 290, 1, 4), "2026-02-03", "acidente de trânsito", "colisão com moto"),
    (("av_brasil", 310, -1, 4), "2025-09-30", "acidente", "atropelamento na travessia"),
    # Jardim das Palmeiras: one complaint
    (("jp_ew_660", 180, 1, 6), "2026-07-19", "reclamação", "pedido de iluminação da praça"),
    # outside the 24-month period of the rules: not counted
    (("vn_ew_-720", 220, -1, 6), "2023-05-05", "ocorrência policial", "registro antigo"),
]  # fmt: skip
OCCURRENCE_BAD_ROWS = [
    {"data": "31/02/2026", "tipo": "acidente", "latitude": "-22.9", "longitude": "-46.39",
     "descricao": "[teste] data impossível"},
    {"data": "2026-04-01", "tipo": "reclamação", "latitude": "", "longitude": "",
     "descricao": "[teste] sem coordenadas"},
]  # fmt: skip


def make_occurrences(net: Network) -> list[dict[str, str]]:
    """Occurrence points (accidents, police reports, complaints) near some requests."""
    rows = []
    for (key, s, side, off), day, kind, text in OCCURRENCES:
        lo, la = to_lonlat(np.array([along(net, key, s, side, off)]))[0]
        rows.append(
            {"data": day, "tipo": kind, "latitude": f"{la:.6f}", "longitude": f"{lo:.6f}",
             "descricao": text}
        )  # fmt: skip
    return rows + OCCURRENCE_BAD_ROWS


def make_decisions() -> list[dict[str, str]]:
    """The commission's decisions: points, the four acts, and three rejected on purpose."""
    commission = "Comissão (relator fictício)"
    return [
        {"protocolo": "PED-2026-0103", "criterio": "Segurança pública", "pontos": "15",
         "motivacao": "Vistoria noturna de 12/11/2026 confirmou trecho sem iluminação e "
         "relatos de roubo a pedestres", "membro": commission, "data": "2026-11-12"},
        {"protocolo": "PED-2026-0111", "criterio": "V", "pontos": "10",
         "motivacao": "Acesso pavimentado até o fim do trecho, constatado em vistoria",
         "membro": commission, "data": "2026-11-12"},
        {"protocolo": "PED-2026-0112", "criterio": "tráfego", "pontos": "20",
         "motivacao": "[teste] acima do máximo do critério (15)", "membro": "", "data": ""},
        {"protocolo": "PED-2026-9999", "criterio": "beneficiários", "pontos": "30",
         "motivacao": "[teste] protocolo inexistente", "membro": "", "data": ""},
        # Art. 4 §2, III: other documents accepted as proof of hardship
        {"protocolo": "PED-2026-0122", "criterio": "hipossuficiencia", "pontos": "",
         "motivacao": "Documentos aceitos: comprovante de recebimento de benefício "
         "assistencial municipal e declaração do CRAS, conferidos na vistoria de 12/11/2026",
         "membro": "Comissão (relatora fictícia)", "data": "2026-11-12"},
        # Art. 11: the Commission's circumstantial opinion (sole paragraph)
        {"protocolo": "PED-2026-0105", "criterio": "art11", "pontos": "",
         "motivacao": "Parecer técnico circunstanciado 01/2026: o trecho é o acesso noturno à "
         "Escola Estadual Padre Anchieta e à UBS Centro; dispensa da planilha de pontuação por "
         "relevante interesse público (Art. 11)", "membro": commission, "data": "2026-11-13"},
        # Art. 12: the Executive's direct execution, in its own procedure (§2)
        {"protocolo": "PED-2026-0133", "criterio": "art12", "pontos": "",
         "motivacao": "Relatório técnico 07/2026: estrada rural usada pelo transporte escolar "
         "e de acesso à Escola Rural do Bairro Alto; justificativa de interesse público: "
         "segurança dos alunos no trajeto noturno (Art. 12 §2)",
         "membro": "Secretaria de Obras (fictício)", "data": "2026-11-14",
         "procedimento": "PA-2026/0042"},
        # Art. 7, II: the place of a request located only by its bairro (the Art. 12 work
        # above) and of one located only by its street, confirmed on site: without them
        # both would wait as pendente_localizacao
        {"protocolo": "PED-2026-0133", "criterio": "localizacao", "pontos": "",
         "motivacao": "Vistoria de 13/11/2026: casa na Estrada Municipal do Bairro Alto, "
         "perto da cachoeira; posição marcada com GPS", "membro": commission,
         "data": "2026-11-13", "latitude": "-22.894926", "longitude": "-46.384813"},
        {"protocolo": "PED-2026-0140", "criterio": "localizacao", "pontos": "",
         "motivacao": "Vistoria de 13/11/2026: portaria do condomínio na Avenida das "
         "Palmeiras; posição marcada com GPS", "membro": commission, "data": "2026-11-13",
         "latitude": "-22.901184", "longitude": "-46.378061"},
        {"protocolo": "PED-2026-0110", "criterio": "hipossuficiencia", "pontos": "5",
         "motivacao": "[teste] decisão de hipossuficiência com pontos", "membro": commission,
         "data": "2026-11-12"},
    ]  # fmt: skip


def make_history() -> list[dict[str, str]]:
    """Previous benefits of the program (Art. 5, II), identified by CPF."""
    return [
        # the applicant of PED-2026-0109 (data row 9) got an extension in 2023: ineligible
        {"protocolo": "PED-2023-0042", "data": "2023-03-15", "cpf": fictional_cpf(9),
         "tipo": "extensao_rede"},
        # the applicant of PED-2026-0111 (data row 11) got one 6 years ago: outside the 5 years
        {"protocolo": "PED-2020-0007", "data": "2020-06-01", "cpf": fictional_cpf(11),
         "tipo": "extensao_rede"},
        {"protocolo": "PED-2024-0100", "data": "2024-08-01", "cpf": "123.456.789-00",
         "tipo": "melhoria"},
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# Cadastre inputs (geo-ip cadastro): works executed after the assessment, points removed
# ---------------------------------------------------------------------------
OBRAS_PATH = OUT / "obras_executadas.csv"
REMOVIDOS_PATH = OUT / "pontos_removidos.csv"
OBRAS_HEADER = (
    "protocolo", "data_execucao", "latitude", "longitude", "tipo_lampada", "potencia_w", "poste",
    "observacao",
)  # fmt: skip
REMOVIDOS_HEADER = (
    "id_ponto", "latitude", "longitude", "potencia_w", "tipo_lampada", "data_remocao",
    "protocolo", "motivo",
)  # fmt: skip
IMPROVEMENT = "PED-2026-0101"  # melhoria on Rua Dom Pedro II: old 70 W lamps become LED 40 W


def _old_lamps(gpkg: Path, pedidos: Path) -> list[tuple[str, str, float, float]]:
    """The 70 W lighting points nearest to the improvement request (one per pole).

    Returns (PIP COD_ID, pole COD_ID, lat, lon) in increasing distance, from the
    generated grid and requests, so the cadastre files follow them.
    """
    pip = pyogrio.read_dataframe(gpkg, layer="PIP", read_geometry=False)
    poles = pyogrio.read_dataframe(gpkg, layer="PONNOT", columns=["COD_ID"])
    with pedidos.open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["protocolo"] == IMPROVEMENT)
    to_utm = Transformer.from_crs("EPSG:4674", UTM_CRS, always_xy=True)
    rx, ry = to_utm.transform(float(row["longitude"]), float(row["latitude"]))
    lamps = pip.loc[pip["POT_LAMP"] == 70.0].drop_duplicates("PN_CON", keep=False)
    merged = lamps.merge(poles, left_on="PN_CON", right_on="COD_ID", suffixes=("", "_poste"))
    joined = gpd.GeoDataFrame(merged, geometry="geometry", crs=poles.crs)
    xs, ys = to_utm.transform(joined.geometry.x.to_numpy(), joined.geometry.y.to_numpy())
    joined["dist"] = np.hypot(np.asarray(xs) - rx, np.asarray(ys) - ry)
    joined = joined.sort_values(["dist", "COD_ID"], kind="stable")
    return [
        (str(r.COD_ID), str(r.PN_CON), round(r.geometry.y, 7), round(r.geometry.x, 7))
        for r in joined.head(4).itertuples()
    ]


def make_cadastre_files(
    gpkg: Path = GPKG_PATH, pedidos: Path = PEDIDOS_PATH
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Executed works and removed points of the demo, good and deliberately bad rows.

    The improvement request replaces three old 70 W lamps (removed) by LED 40 W on the
    same poles (as-built); three other protocols have no as-built points, so the
    cadastre takes them from the assessment's proposed poles. Reads the generated
    grid and requests only: every other generated file stays byte for byte the same.
    """
    old = _old_lamps(gpkg, pedidos)

    def obra(protocolo: str, data: str, **extra: str) -> dict[str, str]:
        return {"protocolo": protocolo, "data_execucao": data, **extra}

    obras = [
        obra("PED-2026-0106", "2026-11-23", observacao="sem as-built: postes da avaliação"),
        obra("PED-2026-0139", "25/11/2026", tipo_lampada="LED", potencia_w="100"),
        obra("PED-2026-0105", "2026-11-26",
             observacao="estratégico (Art. 11): reservado no orçamento"),
        *(
            obra(IMPROVEMENT, "2026-11-24", latitude=f"{lat:.7f}", longitude=f"{lon:.7f}",
                 tipo_lampada="LED", potencia_w="40", poste=pole)
            for _, pole, lat, lon in old[:3]
        ),
        obra("PED-2026-9999", "2026-11-24", observacao="[teste] protocolo inexistente"),
        obra("PED-2026-0136", "2099-01-15", observacao="[teste] data no futuro"),
        obra("PED-2026-0138", "2026-11-25", latitude=f"{old[3][2]:.7f}",
             longitude=f"{old[3][3]:.7f}", tipo_lampada="LED", potencia_w="0",
             observacao="[teste] potência zero"),
        obra("PED-2026-0120", "2026-11-25", latitude="-22.9072", tipo_lampada="LED",
             potencia_w="60", observacao="[teste] latitude sem longitude"),
        obra("", "2026-11-25", observacao="[teste] sem protocolo"),
        obra("PED-2026-0132", "31/02/2026", observacao="[teste] data inexistente"),
        obra("PED-2026-0106", "2026-11-23", observacao="[teste] protocolo repetido"),
    ]  # fmt: skip
    (a, _, _, _), (b, _, _, _), (_, _, lat_c, lon_c), (d, _, _, _) = old
    removidos = [
        {"id_ponto": a, "potencia_w": "70", "data_remocao": "2026-11-24",
         "protocolo": IMPROVEMENT, "motivo": "substituída por LED 40 W"},
        {"id_ponto": b, "potencia_w": "70", "tipo_lampada": "9", "data_remocao": "2026-11-24",
         "protocolo": IMPROVEMENT, "motivo": "substituída por LED 40 W"},
        {"latitude": f"{lat_c:.7f}", "longitude": f"{lon_c:.7f}", "potencia_w": "70",
         "data_remocao": "2026-11-24", "protocolo": IMPROVEMENT,
         "motivo": "substituída por LED 40 W (identificada pelas coordenadas)"},
        {"id_ponto": "99999", "potencia_w": "100", "motivo": "[teste] ponto inexistente"},
        {"id_ponto": d, "potencia_w": "-70", "motivo": "[teste] potência negativa"},
        {"id_ponto": a, "potencia_w": "70", "motivo": "[teste] ponto repetido"},
        {"motivo": "[teste] sem código nem coordenadas"},
    ]  # fmt: skip
    return obras, removidos


# ---------------------------------------------------------------------------
# Consumer units for the CIP (data/cip/municipio_demo.toml)
# ---------------------------------------------------------------------------
CONSUMIDORES_PATH = OUT / "consumidores.csv"
CONSUMIDORES_HEADER = ("unidade", "classe", *(f"ENE_{m:02d}" for m in range(1, 13)))
# class: (units, median kWh/month, spread of the lognormal)
CONSUMER_CLASSES = {
    "residencial": (640, 140.0, 0.7),
    "comercial": (80, 450.0, 0.9),
    "industrial": (8, 6000.0, 0.8),
    "rural": (45, 250.0, 0.8),
    "poder_publico": (12, 900.0, 0.6),
    "servico_publico": (4, 2500.0, 0.5),
    "consumo_proprio": (2, 300.0, 0.3),
}


def make_consumers() -> list[dict[str, str]]:
    """Fictional consumer units with twelve months of consumption (kWh), seeded."""
    rng = np.random.default_rng(SEED + 7)
    rows = []
    n = 0
    for kind, (units, median, spread) in CONSUMER_CLASSES.items():
        base = median * np.exp(rng.normal(0.0, spread, units))
        season = 1.0 + 0.12 * np.cos(2 * np.pi * (np.arange(12) - 1) / 12)  # hotter summer
        months = np.rint(base[:, None] * season[None, :] * rng.uniform(0.85, 1.15, (units, 12)))
        for values in months.astype(int):
            n += 1
            row = {"unidade": f"UC-DEMO-{n:05d}", "classe": kind}
            row |= {f"ENE_{m:02d}": str(v) for m, v in enumerate(values, start=1)}
            rows.append(row)
    return rows


def write_csv(path: Path, header: Sequence[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(log: Callable[[str], None] = print) -> None:
    rng = np.random.default_rng(SEED)
    net = build_network(design_streets())
    grid = build_grid(net)
    buildings, addrs = make_buildings(net, rng)
    osm = build_osm(net, grid, buildings, addrs)
    bounds = osm.write(OSM_PATH)
    counts = write_grid(grid, GPKG_PATH)
    w, h, zmin, zmax = write_dem(net, bounds, DEM_PATH)
    pedidos, gabarito = make_requests(net, buildings, addrs)
    write_csv(PEDIDOS_PATH, PEDIDOS_HEADER, pedidos)
    write_csv(GABARITO_PATH, GABARITO_HEADER, gabarito)
    write_csv(OCORRENCIAS_PATH, OCORRENCIAS_HEADER, make_occurrences(net))
    write_csv(DECISOES_PATH, DECISOES_HEADER, make_decisions())
    write_csv(BENEFICIOS_PATH, BENEFICIOS_HEADER, make_history())
    write_csv(CONSUMIDORES_PATH, CONSUMIDORES_HEADER, make_consumers())
    obras, removidos = make_cadastre_files()
    write_csv(OBRAS_PATH, OBRAS_HEADER, obras)
    write_csv(REMOVIDOS_PATH, REMOVIDOS_HEADER, removidos)
    log(
        f"{OSM_PATH.name}: {len(osm.nodes)} nós, {len(osm.ways)} vias, {len(osm.relations)} relação"
    )
    log(f"  edificações: {len(buildings)}, endereços soltos: {len(addrs)}")
    log(f"  bounds (lon/lat): {', '.join(f'{v:.5f}' for v in bounds)}")
    log(f"{GPKG_PATH.name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    log(f"{DEM_PATH.name}: {w} x {h} células, altitude {zmin:.1f} a {zmax:.1f} m")
    by_geo = pd.Series([g["geocodificacao"] for g in gabarito]).value_counts()
    by_status = pd.Series([g["situacao"] for g in gabarito]).value_counts()
    log(
        f"{PEDIDOS_PATH.name}: {len(pedidos)} pedidos ("
        + ", ".join(f"{k} {v}" for k, v in by_status.items())
        + "; "
        + ", ".join(f"{k} {v}" for k, v in by_geo.items())
        + f"); gabarito em {GABARITO_PATH.name}"
    )
    log(f"{OBRAS_PATH.name}: {len(obras)} linhas; {REMOVIDOS_PATH.name}: {len(removidos)} linhas")


if __name__ == "__main__":
    main()
