"""`geo-ip territorio` from the command line: bad inputs, messages, exit codes, atomicity."""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from typer.testing import CliRunner

from geo_ip.cli.app import app
from tests.conftest import POA, require

runner = CliRunner()

TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="geo_ip tests">
  <node id="1" lat="-22.9000" lon="-46.3900" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="2" lat="-22.9000" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="3" lat="-22.9009" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="4" lat="-22.9009" lon="-46.3900" version="1" timestamp="2026-01-01T00:00:00Z">
    <tag k="highway" v="street_lamp"/>
  </node>
  <node id="5" lat="-22.9004" lon="-46.3895" version="1" timestamp="2026-01-01T00:00:00Z">
    <tag k="amenity" v="school"/><tag k="name" v="Escola Municipal Teste"/>
  </node>
  <way id="10" version="1" timestamp="2026-01-01T00:00:00Z">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="name" v="Avenida Brasil"/>
  </way>
  <way id="11" version="1" timestamp="2026-01-01T00:00:00Z">
    <nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="name" v="Rua das Flores"/>
  </way>
</osm>
"""

FOOTWAYS_ONLY = TINY_OSM.replace('v="primary"', 'v="footway"').replace(
    'v="residential"', 'v="footway"'
)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["territorio", *args])
    return result.exit_code, result.output


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    return path


def test_tiny_territory_ok(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.gpkg"
    code, output = _run("--osm", str(tiny), "--saida", str(out), "--regras", "demo")
    assert code == 0, output
    assert out.is_file()
    assert "EPSG:31983" in output
    # Nothing but the final file in the folder: no temporary left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gpkg", "tiny.osm"]
    code, output = _run("--osm", str(tiny), "--saida", str(out), "--regras", "demo")
    assert code == 0 and "reaproveitado do cache" in output


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (None, "nao_existe.osm", "não encontrado"),
        (b"", "vazio.osm", "vazio"),
        (b"isto nao e xml de OSM", "texto.osm", "não é um arquivo OSM válido"),
        (b"<osm version='0.6'><node id='1' lat='-22.9' lon=", "truncado.osm", "truncado"),
        (b"nao e bzip2", "falso.osm.bz2", "bzip2"),
        (FOOTWAYS_ONLY.encode(), "calcadas.osm", "nenhuma via para veículos"),
        (b"qualquer", "dados.txt", "extensão"),
    ],
)
def test_bad_osm_inputs(tmp_path: Path, content: bytes | None, name: str, fragment: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "t.gpkg"
    code, output = _run("--osm", str(path), "--saida", str(out))
    assert code == 3, output
    assert "Erro:" in output and fragment in output
    assert str(path.name) in output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".gpkg" or "tmp" in p.name] == []


def test_truncated_real_pbf(tmp_path: Path) -> None:
    pbf = require(POA / "poa_osm.pbf")
    cut = tmp_path / "cortado.osm.pbf"
    cut.write_bytes(pbf.read_bytes()[:200_000])
    code, output = _run("--osm", str(cut), "--saida", str(tmp_path / "t.gpkg"))
    assert code == 3, output
    assert "truncado" in output
    assert not (tmp_path / "t.gpkg").exists()


def test_bz2_osm_is_read(tiny: Path, tmp_path: Path) -> None:
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(tiny.read_bytes()))
    code, output = _run(
        "--osm", str(packed), "--saida", str(tmp_path / "t.gpkg"), "--regras", "demo"
    )
    assert code == 0, output


def test_grid_without_geometry(tiny: Path, tmp_path: Path) -> None:
    grid = tmp_path / "rede.csv"
    grid.write_text("codigo;descricao\n1;poste\n", encoding="utf-8")
    code, output = _run(
        "--osm", str(tiny), "--rede", str(grid), "--saida", str(tmp_path / "t.gpkg")
    )
    assert code == 3, output
    assert "rede.csv" in output
    assert not (tmp_path / "t.gpkg").exists()


def test_grid_in_unknown_crs(tiny: Path, tmp_path: Path) -> None:
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import LineString

    shp = tmp_path / "rede.shp"
    frame = gpd.GeoDataFrame({"tipo": ["bt"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=None)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile")
    assert not shp.with_suffix(".prj").exists()
    code, output = _run("--osm", str(tiny), "--rede", str(shp), "--saida", str(tmp_path / "t.gpkg"))
    assert code == 3, output
    assert "sistema de coordenadas desconhecido" in output


def test_dem_not_covering(tiny: Path, tmp_path: Path) -> None:
    dem = tmp_path / "longe.tif"
    with rasterio.open(
        dem, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
        crs="EPSG:4326", transform=from_origin(-40.0, -10.0, 0.001, 0.001),
    ) as dst:  # fmt: skip
        dst.write(np.ones((10, 10), dtype="float32"), 1)
    code, output = _run(
        "--osm",
        str(tiny),
        "--relevo",
        str(dem),
        "--saida",
        str(tmp_path / "t.gpkg"),
        "--regras",
        "demo",
    )
    assert code == 3, output
    assert "cobre só 0% do território" in output
    assert not (tmp_path / "t.gpkg").exists()


def test_needs_exactly_one_osm_source(tmp_path: Path) -> None:
    code, output = _run("--saida", str(tmp_path / "t.gpkg"))
    assert code == 4
    assert "informe exatamente uma fonte OSM" in output


def test_bad_rules_file(tiny: Path, tmp_path: Path) -> None:
    rules = tmp_path / "regras.toml"
    rules.write_text("versao = 1\n", encoding="utf-8")
    code, output = _run(
        "--osm", str(tiny), "--regras", str(rules), "--saida", str(tmp_path / "t.gpkg")
    )
    assert code == 2
    assert "regras.toml" in output


def test_failure_while_writing_keeps_previous_file(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "t.gpkg"
    code, _ = _run("--osm", str(tiny), "--saida", str(out), "--regras", "demo")
    assert code == 0
    before = out.read_bytes()

    import pyogrio

    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disco cheio (simulado)")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)
    with pytest.raises(OSError, match="simulado"):
        from geo_ip.rules.config import load_rules
        from geo_ip.territory.build import build_territory

        build_territory(out, rules=load_rules("demo"), osm=tiny, force=True)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gpkg", "tiny.osm"]


@pytest.mark.web
def test_place_not_found(tmp_path: Path) -> None:
    code, output = _run(
        "--lugar", "Lugar Que Não Existe Xyzzy 12345", "--saida", str(tmp_path / "t.gpkg")
    )
    assert code == 3
    assert "não encontrado" in output


def test_version_and_help_in_portuguese() -> None:
    import geo_ip

    result = runner.invoke(app, ["--versao"])
    assert result.exit_code == 0
    assert result.output.strip() == f"geo_ip {geo_ip.__version__}"
    result = runner.invoke(app, ["territorio", "--help"])
    assert "Monta o território" in result.output


def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "saida"
    result = runner.invoke(app, ["-q", "demo", "--saida", str(out)])
    assert result.exit_code == 0, result.output
    assert "Município de Demonstração — dados fictícios" in result.output
    # the Art. 11/12 reservations and the remainder, as geo-ip avaliar prints them
    flat = " ".join(result.output.split())
    assert "reservado para obras dos Arts. 11 e 12" in flat and "saldo final" in flat
    assert (out / "territorio.gpkg").is_file()
    assert str(out / "territorio.gpkg") in result.output
    # the public portal, from the demo registry (its executed works included)
    home = " ".join((out / "portal" / "index.html").read_text(encoding="utf-8").split())
    assert "4 obra(s) executada(s)" in home
    assert (out / "portal" / "pedidos" / "PED-2026-0101.html").is_file()
    assert "geo-ip publicar --db sqlite:///" in flat
    import pandas as pd

    for name in ("pedidos_conferidos.csv", "pedidos_geocodificados.csv"):
        table = pd.read_csv(out / name, dtype=str)
        assert len(table) == 41, name
        assert str(out / name) in result.output
