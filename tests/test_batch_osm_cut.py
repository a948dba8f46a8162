"""Cutting a regional OSM file by municipal boundary (geo_ip.batch.osm_cut)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
from osmium.osm import mutable

from geo_ip.batch import osm_cut
from geo_ip.batch.osm_cut import (
    NO_BOUNDARY,
    NOT_ASSEMBLED,
    cut_municipalities,
    find_municipalities,
)
from geo_ip.errors import InputFileError
from geo_ip.rules.init_rules import write_rules_template
from geo_ip.territory.build import build_territory
from geo_ip.territory.municipality import check_municipality, territory_municipalities
from geo_ip.territory.synthetic_region import SyntheticRegion, write_synthetic_region

TOWNS = [(3100104, "Abadia dos Dourados"), (3100203, "Abaeté"), (3100302, "Abre Campo")]
BROKEN = 3100203
EDGES = 300


@dataclass
class Cut:
    region: SyntheticRegion
    boundaries: gpd.GeoDataFrame
    extracts: dict[int, Path]


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Cut:
    tmp = tmp_path_factory.mktemp("osm_cut")
    region = write_synthetic_region(
        tmp / "estado.osm.pbf", TOWNS, edges=EDGES, broken=[BROKEN], seed=0
    )
    boundaries = find_municipalities(region.path)
    extracts = cut_municipalities(region.path, boundaries, tmp / "recortes")
    return Cut(region, boundaries, extracts)


@dataclass(frozen=True)
class Obj:
    id: int
    tags: dict[str, str]
    nodes: list[int]


def _objects(path: Path) -> dict[str, list[Obj]]:
    """The objects of a file, by kind (``n``, ``w``, ``r``), in file order."""
    found: dict[str, list[Obj]] = {"n": [], "w": [], "r": []}
    for obj in osmium.FileProcessor(path):
        refs = [n.ref for n in obj.nodes] if isinstance(obj, osmium.osm.Way) else []
        found[obj.type_str()].append(Obj(obj.id, dict(obj.tags), refs))
    return found


def _ids(path: Path) -> dict[str, list[int]]:
    return {kind: [o.id for o in objs] for kind, objs in _objects(path).items()}


def test_region_is_deterministic(tmp_path: Path, cut: Cut) -> None:
    again = write_synthetic_region(
        tmp_path / "de_novo.osm.pbf", TOWNS, edges=EDGES, broken=[BROKEN], seed=0
    )
    digest = hashlib.sha256(again.path.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(cut.region.path.read_bytes()).hexdigest()
    assert again.codes == (3100104, 3100203, 3100302)
    assert again.id_stride == 10_000
    # the three towns (seeds 0, 1, 2) differ; the first one is write_synthetic_osm's
    assert again.highway_ways == {3100104: 93, 3100203: 85, 3100302: 79}
    west, middle, east = (again.bbox[code] for code in again.codes)
    assert west[2] < middle[0] < middle[2] < east[0]
    assert middle[0] - west[2] == pytest.approx(0.02, abs=1e-6)
    header = osmium.io.Reader(str(again.path), osmium.osm.NOTHING).header()
    assert header.get("osmosis_replication_timestamp") == "2026-01-01T00:00:00Z"


def test_region_is_sorted_with_boundaries(cut: Cut) -> None:
    objects = _objects(cut.region.path)
    for kind in "nwr":
        ids = [o.id for o in objects[kind]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    relations = {o.id: o.tags for o in objects["r"]}
    assert relations[30_001] == {
        "admin_level": "8",
        "IBGE:GEOCODIGO": "3100104",
        "name": "Abadia dos Dourados",
        "type": "boundary",
        "boundary": "administrative",
    }
    assert relations[30_004]["admin_level"] == "4"
    rings = {o.id: o.nodes for o in objects["w"] if o.id > 30_000}
    assert rings[30_001][0] == rings[30_001][-1]
    assert rings[30_002][0] != rings[30_002][-1]  # the broken one is open


def test_find_municipalities(cut: Cut) -> None:
    found = cut.boundaries
    assert found["codigo_ibge"].tolist() == [3100104, 3100203, 3100302]
    assert found["nome"].tolist() == ["Abadia dos Dourados", "Abaeté", "Abre Campo"]
    assert found["relacao_osm"].tolist() == [30_001, 30_002, 30_003]
    assert found["erro"].tolist() == ["", NOT_ASSEMBLED.format(id=30_002), ""]
    assert "relação OSM 30002" in found["erro"][1]
    assert found.crs == "EPSG:4326"
    assert found.geometry[1] is None
    for row, code in ((0, 3100104), (2, 3100302)):
        geometry = found.geometry[row]
        assert geometry.geom_type == "MultiPolygon"
        assert geometry.bounds == pytest.approx(cut.region.bbox[code], abs=1e-7)


def test_find_requested_codes(cut: Cut) -> None:
    found = find_municipalities(cut.region.path, codes=[3100302, 3199999])
    assert found["codigo_ibge"].tolist() == [3100302, 3199999]
    assert found["erro"].tolist() == ["", NO_BOUNDARY]
    assert found["nome"].tolist() == ["Abre Campo", ""]
    assert found.geometry[1] is None


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nao_existe.osm.pbf"
    with pytest.raises(InputFileError, match="arquivo OSM não encontrado") as info:
        find_municipalities(missing)
    assert info.value.path == missing
    with pytest.raises(InputFileError, match="não encontrado"):
        cut_municipalities(missing, gpd.GeoDataFrame(), tmp_path / "saida")


def test_cut_one_file_per_assembled_boundary(cut: Cut) -> None:
    out = cut.region.path.parent / "recortes"
    assert cut.extracts == {
        3100104: out / "3100104.osm.pbf",
        3100302: out / "3100302.osm.pbf",
    }
    assert sorted(p.name for p in out.iterdir()) == ["3100104.osm.pbf", "3100302.osm.pbf"]


@pytest.mark.parametrize(("code", "town"), [(3100104, 0), (3100302, 2)])
def test_extract_holds_its_town_only(cut: Cut, code: int, town: int) -> None:
    stride = cut.region.id_stride
    objects = _objects(cut.extracts[code])
    for kind in "nwr":
        ids = [o.id for o in objects[kind]]
        assert ids == sorted(ids)
    highways = [w for w in objects["w"] if "highway" in w.tags]
    assert len(highways) == cut.region.highway_ways[code]
    assert {w.id // stride for w in highways} == {town}
    assert {n.id // stride for n in objects["n"]} == {town, 3}  # + its boundary ring
    assert [w.id for w in objects["w"] if w.id > 3 * stride] == [3 * stride + 1 + town]
    # its own boundary only: not the neighbours', not the state's
    assert [(r.id, r.tags["IBGE:GEOCODIGO"]) for r in objects["r"]] == [
        (3 * stride + 1 + town, str(code))
    ]
    header = osmium.io.Reader(str(cut.extracts[code]), osmium.osm.NOTHING).header()
    assert header.get("osmosis_replication_timestamp") == "2026-01-01T00:00:00Z"


def test_territory_from_extract(tmp_path: Path, cut: Cut) -> None:
    rules = write_rules_template(
        tmp_path / "regras.toml",
        codigo_ibge=3100302,
        nome="Abre Campo",
        uf="MG",
        crs=None,
        overwrite=True,
    )
    report = build_territory(tmp_path / "t.gpkg", rules=rules, osm=cut.extracts[3100302])
    assert report.counts["limite"] == 1
    found = territory_municipalities(report.path)
    assert [(m.codigo_ibge, m.nome) for m in found] == [(3100302, "Abre Campo")]
    check_municipality(report.path, rules)


# --------------------------------------------------------------------------- relations


def _node(node_id: int, lon: float, lat: float = -22.95) -> mutable.Node:
    return mutable.Node(id=node_id, location=(lon, lat))


def _hand_built(path: Path) -> None:
    """A municipality [-46.0, -45.9] x [-23.0, -22.9] and what surrounds it."""
    nodes = [
        mutable.Node(id=1, location=(-46.0, -23.0)),
        mutable.Node(id=2, location=(-45.9, -23.0)),
        mutable.Node(id=3, location=(-45.9, -22.9)),
        mutable.Node(id=4, location=(-46.0, -22.9)),
        _node(5, -45.95),  # inside
        _node(6, -45.5),  # outside, on way 20 from node 5
        _node(7, -45.6),
        _node(8, -45.55),  # way 21: outside
        _node(9, -45.94),  # inside: the lake's shore
        _node(10, -45.7),
        _node(11, -45.7, -22.8),
        _node(12, -45.6, -22.8),  # the lake's far shore (way 23)
    ]
    ways = [
        mutable.Way(id=10, nodes=[1, 2, 3, 4, 1]),
        mutable.Way(id=20, nodes=[5, 6], tags={"highway": "residential"}),
        mutable.Way(id=21, nodes=[7, 8], tags={"highway": "residential"}),
        mutable.Way(id=22, nodes=[9, 10]),
        mutable.Way(id=23, nodes=[10, 11, 12]),
        mutable.Way(id=24, nodes=[12, 9]),
    ]
    boundary = {"type": "boundary", "boundary": "administrative", "admin_level": "8"}
    relations = [
        mutable.Relation(
            id=100,
            members=[("w", 10, "outer")],
            tags=boundary | {"name": "Abadia dos Dourados", "ref:IBGE": "3100104"},
        ),
        mutable.Relation(
            id=200,
            members=[("w", 22, "outer"), ("w", 23, "outer"), ("w", 24, "outer")],
            tags={"type": "multipolygon", "natural": "water"},
        ),
        mutable.Relation(id=300, members=[("w", 20, ""), ("w", 21, "")], tags={"type": "route"}),
        mutable.Relation(
            id=400,
            members=[("w", 10, "outer")],
            tags=boundary | {"name": "Vizinho", "IBGE:GEOCODIGO": "3100203"},
        ),
        mutable.Relation(id=500, members=[("w", 21, "outer")], tags={"type": "multipolygon"}),
    ]
    with osmium.SimpleWriter(str(path)) as writer:
        for node in nodes:
            writer.add_node(node)
        for way in ways:
            writer.add_way(way)
        for relation in relations:
            writer.add_relation(relation)


def test_cut_completes_ways_and_area_relations(tmp_path: Path) -> None:
    path = tmp_path / "mao.osm.pbf"
    _hand_built(path)
    found = find_municipalities(path)
    # relation 400 (a neighbour) shares the ring: it assembles too, but stays out of the cut
    assert found["codigo_ibge"].tolist() == [3100104, 3100203]
    assert found["erro"].tolist() == ["", ""]
    extracts = cut_municipalities(path, found[found["codigo_ibge"] == 3100104], tmp_path / "out")
    assert list(extracts) == [3100104]
    assert _ids(extracts[3100104]) == {
        "n": [1, 2, 3, 4, 5, 6, 9, 10, 11, 12],
        "w": [10, 20, 22, 23, 24],
        "r": [100, 200, 300],
    }


def test_cut_object_in_two_extracts(tmp_path: Path) -> None:
    path = tmp_path / "mao.osm.pbf"
    _hand_built(path)
    # both boundaries are the same ring: every object goes to both files
    extracts = cut_municipalities(path, find_municipalities(path), tmp_path / "out")
    assert list(extracts) == [3100104, 3100203]
    first, second = (_ids(extracts[code]) for code in extracts)
    assert first["n"] == second["n"] == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]
    assert first["w"] == second["w"] == [10, 20, 22, 23, 24]
    assert (first["r"], second["r"]) == ([100, 200, 300], [200, 300, 400])


def test_cut_in_groups_writes_the_same_bytes(
    tmp_path: Path, cut: Cut, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one open file at a time (one writing pass per municipality): the same files."""
    monkeypatch.setattr(osm_cut, "MAX_OPEN_FILES", 1)
    grouped = cut_municipalities(cut.region.path, cut.boundaries, tmp_path / "um_a_um")
    assert sorted(grouped) == sorted(cut.extracts)
    for code, path in grouped.items():
        assert path.read_bytes() == cut.extracts[code].read_bytes(), code
