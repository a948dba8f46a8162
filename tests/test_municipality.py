"""The rules belong to a municipality: a territory of another one is refused."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.errors import RulesError
from geo_ip.pipeline import assess
from geo_ip.rules.config import Rules, load_rules
from geo_ip.territory.municipality import check_municipality, territory_municipalities
from tests.conftest import DEMO_KEY

runner = CliRunner()
CRS = "EPSG:31982"
EXTREMA = load_rules("extrema")
POA_CODE = 4314902


def _territory(
    path: Path, limits: list[dict[str, object]] | None, *, boxes: list[float] | None = None
) -> Path:
    """A tiny territory GeoPackage: one road and, when given, the ``limite`` polygons."""
    road = gpd.GeoDataFrame(
        {"u": [1], "v": [2], "key": [0], "hierarquia": ["local"]},
        geometry=[shapely.LineString([(480_000, 6_670_000), (480_100, 6_670_000)])],
        crs=CRS,
    )
    road.to_file(path, layer="vias", driver="GPKG")
    if limits is not None:
        sizes = boxes or [1000.0 * (len(limits) - i) for i in range(len(limits))]
        geoms = [shapely.box(479_000, 6_669_000, 479_000 + s, 6_669_000 + s) for s in sizes]
        frame = gpd.GeoDataFrame(
            {
                "osm_id": [f"relation/{i}" for i in range(len(limits))],
                "nome": [row.get("nome") for row in limits],
                "admin_level": [row.get("admin_level", 8) for row in limits],
                "codigo_ibge": [row.get("codigo_ibge") for row in limits],
            },
            geometry=geoms,
            crs=CRS,
        )
        frame.to_file(path, layer="limite", driver="GPKG")
    return path


def _poa(tmp_path: Path) -> Path:
    return _territory(
        tmp_path / "poa.gpkg", [{"nome": "Porto Alegre", "codigo_ibge": str(POA_CODE)}]
    )


def test_other_municipality_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as info:
        check_municipality(_poa(tmp_path), EXTREMA)
    message = str(info.value)
    assert info.value.exit_code == 2
    assert "o território é de Porto Alegre (IBGE 4314902)" in message
    assert f"o arquivo de regras '{EXTREMA.arquivo}' é de Extrema/MG (IBGE 3125101)" in message
    assert "Use --regras com as regras do município" in message
    assert (
        "geo-ip regras criar --ibge 4314902 --nome 'Porto Alegre' --uf RS --saida regras.toml"
        in message
    )


def test_same_municipality_passes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    territory = _territory(
        tmp_path / "extrema.gpkg", [{"nome": "Extrema", "codigo_ibge": "3125101"}]
    )
    with caplog.at_level(logging.INFO, logger="geo_ip"):
        check_municipality(territory, EXTREMA)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_rules_made_by_rules_init_pass(tmp_path: Path) -> None:
    from geo_ip.rules.init_rules import write_rules_template

    rules = write_rules_template(
        tmp_path / "regras_poa.toml", codigo_ibge=POA_CODE, nome="Porto Alegre", uf="RS"
    )
    check_municipality(_poa(tmp_path), rules)


def test_no_boundary_warns_with_the_rules_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for territory in (
        _territory(tmp_path / "sem_limite.gpkg", None),
        _territory(tmp_path / "limite_vazio.gpkg", []),
        # a state boundary (admin_level 4, 2-digit code) is no municipality
        _territory(
            tmp_path / "estado.gpkg", [{"nome": "RS", "admin_level": 4, "codigo_ibge": "43"}]
        ),
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="geo_ip"):
            check_municipality(territory, EXTREMA)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            "território sem limite municipal: não foi possível conferir o município; usando "
            f"as regras de 'Extrema' ('{EXTREMA.arquivo}')"
        ], territory


def test_boundaries_without_code_compare_names(tmp_path: Path) -> None:
    same = _territory(tmp_path / "nome.gpkg", [{"nome": "EXTREMA "}])
    check_municipality(same, EXTREMA)
    accents = EXTREMA.model_copy(
        update={"municipio": EXTREMA.municipio.model_copy(update={"nome": "São João del-Rei"})}
    )
    check_municipality(_territory(tmp_path / "sjdr.gpkg", [{"nome": "Sao Joao Del-Rei"}]), accents)
    other = _territory(tmp_path / "outro.gpkg", [{"nome": "Camanducaia"}])
    with pytest.raises(RulesError) as info:
        check_municipality(other, EXTREMA)
    message = str(info.value)
    assert "o território é de Camanducaia (sem código IBGE)" in message
    assert (
        "geo-ip regras criar --ibge <código IBGE> --nome Camanducaia --uf <UF> --saida regras.toml"
        in message
    )


def test_several_municipalities_one_matching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    territory = _territory(
        tmp_path / "dois.gpkg",
        [
            {"nome": "Itapeva", "codigo_ibge": "3133600"},
            {"nome": "Extrema", "codigo_ibge": "3125101"},
        ],
    )
    assert [m.codigo_ibge for m in territory_municipalities(territory)] == [3133600, 3125101]
    with caplog.at_level(logging.INFO, logger="geo_ip"):
        check_municipality(territory, EXTREMA)
    assert any("abrange 2 municípios" in r.getMessage() for r in caplog.records)
    # none matching: the largest is the one named, the others listed
    poa_rules: Rules = EXTREMA.model_copy(
        update={
            "municipio": EXTREMA.municipio.model_copy(
                update={"nome": "Porto Alegre", "uf": "RS", "codigo_ibge": POA_CODE}
            )
        }
    )
    with pytest.raises(RulesError) as info:
        check_municipality(territory, poa_rules)
    message = str(info.value)
    assert "de Itapeva (IBGE 3133600) (e também Extrema (IBGE 3125101))" in message
    assert "--ibge 3133600 --nome Itapeva --uf MG" in message


def test_assess_refuses_rules_of_another_municipality(tmp_path: Path) -> None:
    requests = tmp_path / "pedidos.csv"
    requests.write_text(
        "protocolo,data_protocolo,tipo,latitude,longitude\n"
        "P-1,2026-06-01,implantacao,-30.03,-51.20\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match="geo-ip regras criar --ibge 4314902"):
        assess(_poa(tmp_path), requests, EXTREMA, key=DEMO_KEY)


def test_cli_assess_refuses_rules_of_another_municipality(tmp_path: Path) -> None:
    requests = tmp_path / "pedidos.csv"
    requests.write_text(
        "protocolo,data_protocolo,tipo,latitude,longitude\n"
        "P-1,2026-06-01,implantacao,-30.03,-51.20\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["avaliar", "--territory", str(_poa(tmp_path)), "--requests", str(requests),
         "--rules", "extrema", "--out", str(tmp_path / "avaliacao")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "campo '--regras': o território é de Porto Alegre (IBGE 4314902)" in output
    assert "geo-ip regras criar --ibge 4314902 --nome 'Porto Alegre' --uf RS" in output
