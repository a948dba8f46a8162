"""Requests located end to end: check, offline geocoding, snapping, the CSV and the CLI."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.requests.locate import locate_requests, located_report
from geo_ip.rules.config import load_rules
from tests.conftest import DEMO

runner = CliRunner()
REFERENCE = date(2026, 11, 20)  # data_referencia of pedidos_gabarito.csv


@pytest.fixture(scope="module")
def located(demo_territory: Path) -> pd.DataFrame:
    return locate_requests(
        DEMO / "pedidos.csv", demo_territory, load_rules("demo"), today=REFERENCE
    )


@pytest.fixture(scope="module")
def key() -> pd.DataFrame:
    table = pd.read_csv(DEMO / "pedidos_gabarito.csv", dtype=str, keep_default_na=False)
    return table.astype({"linha": int})


def test_every_row_comes_out_in_order_with_a_status(located: pd.DataFrame) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str)
    assert len(located) == len(raw) == 41
    assert located["protocolo"].tolist() == raw["protocolo"].tolist()
    assert located["linha"].tolist() == list(range(2, 43))
    assert set(located["situacao"]) <= {"ok", "aviso", "erro"}
    assert located["situacao"].value_counts().to_dict() == {"ok": 25, "erro": 11, "aviso": 5}


def test_demo_matches_its_answer_key(located: pd.DataFrame, key: pd.DataFrame) -> None:
    merged = located.merge(key, on="linha", suffixes=("", "_gabarito"))
    assert len(merged) == 41
    for _, row in merged.iterrows():
        where = f"linha {row['linha']}"
        expected = row["geocodificacao_gabarito"]
        if expected == "ambiguo":
            assert row["geocodificacao"] == "falhou", where
            assert row["geocodificacao_detalhe"].startswith("logradouro ambíguo"), where
        else:
            assert row["geocodificacao"] == expected, where
        # Check-stage errors stay errors; ok rows become aviso only for low precision.
        if row["situacao_gabarito"] == "erro" or row["geocodificacao"] == "falhou":
            assert row["situacao"] == "erro", where
        elif row["geocodificacao"] in ("logradouro", "bairro") or row["fora_da_malha"] is True:
            assert row["situacao"] == "aviso", where
        else:
            assert row["situacao"] == row["situacao_gabarito"], where
        refused = row["situacao"] == "erro" and "fora do município" in row["problemas"]
        if row["logradouro"] and not refused and row["geocodificacao"] != "falhou":
            found = row["logradouro_encontrado"] or row["logradouro_via"]
            if row["geocodificacao"] == "coordenada_informada":
                found = row["logradouro_via"]
            assert found == row["logradouro"], where
        if row["fora_da_malha_gabarito"]:
            assert bool(row["fora_da_malha"]) is (row["fora_da_malha_gabarito"] == "sim"), where


def test_points_outside_the_municipality_are_not_snapped(located: pd.DataFrame) -> None:
    for linha in (24, 30):  # swapped coordinates; ~2.3 km east of the boundary
        row = located[located["linha"] == linha].iloc[0]
        assert row["situacao"] == "erro"
        assert pd.isna(row["aresta_u"])
        assert pd.isna(row["fora_da_malha"])
        assert pd.isna(row["x"]) and pd.isna(row["y"])
        assert pd.notna(row["latitude"])
    swapped = located[located["linha"] == 24].iloc[0]
    assert swapped["latitude_corrigida"] == pytest.approx(-22.9105)


def test_far_request_keeps_its_position_and_is_flagged(located: pd.DataFrame) -> None:
    row = located[located["linha"] == 35].iloc[0]
    assert row["fora_da_malha"] is True or row["fora_da_malha"] == True  # noqa: E712
    assert 770 < row["distancia_via_m"] < 790
    assert "fora_da_malha — a 780 m da via mais próxima (limite 150 m)" in row["problemas"]


def test_report_has_no_personal_data(located: pd.DataFrame) -> None:
    report = located_report(located)
    text = report.to_csv(index=False)
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    for name in raw["nome_solicitante"]:
        assert name not in text
    for cpf in raw["cpf_solicitante"][raw["cpf_solicitante"] != ""]:
        assert cpf not in text
        assert cpf.replace(".", "").replace("-", "") not in text
    assert "renda_familiar" not in report.columns
    assert report.loc[0, "cpf_solicitante"] == "***.456.701-**"
    assert report.loc[0, "data_protocolo"] == "2026-05-06"
    assert report.loc[0, "fora_da_malha"] == "não"
    assert report.loc[0, "cep"] == ""


class FakeLocation:
    def __init__(self, lat: float, lon: float, raw: dict[str, Any]) -> None:
        self.latitude, self.longitude, self.raw = lat, lon, raw


class FakeNominatim:
    """Stands in for geopy's Nominatim.geocode: answers from a table, records queries."""

    def __init__(self, answers: dict[str, FakeLocation | None]) -> None:
        self.answers = answers
        self.queries: list[dict[str, str]] = []

    def __call__(self, query: dict[str, str], **options: Any) -> FakeLocation | None:
        assert options["country_codes"] == "br"
        self.queries.append(query)
        return self.answers.get(re.sub(r"^\d+ ", "", query["street"]))


def test_online_backend_fills_only_what_offline_missed(demo_territory: Path) -> None:
    road = {"class": "highway", "addresstype": "road", "display_name": "Rua X, Demo",
            "boundingbox": ["-22.9050", "-22.9030", "-46.3880", "-46.3860"]}  # fmt: skip
    fake = FakeNominatim(
        {
            # accepted: inside the municipality, a road named like the one asked for
            "Rua Inexistente dos Testes": FakeLocation(
                -22.9040, -46.3870, road | {"address": {"road": "Rua Inexistente dos Testes"}}
            ),
        }
    )
    out = locate_requests(
        DEMO / "pedidos.csv", demo_territory, load_rules("demo"), today=REFERENCE, geocoder=fake
    )
    asked = [q["street"] for q in fake.queries]
    # the unknown street and the bairro-only row are asked; the ambiguous one never is
    assert asked == ["100 Rua Inexistente dos Testes", "Zona rural"]
    row = out[out["linha"] == 29].iloc[0]
    assert row["geocodificacao"] == "logradouro"
    # the box's corners lie 0.001° of latitude (110.7 m) and of longitude (102.5 m at
    # 22.9° S) from its centre, the answer: hypot = 150.9 m; 0.9 × 100 / 250.9 = 0.359
    assert row["incerteza_m"] == pytest.approx(150.9, abs=0.5)
    assert row["confianca"] == pytest.approx(0.359)
    assert row["geocodificacao_detalhe"].startswith("localizado online pelo Nominatim")
    assert row["situacao"] == "aviso"
    assert row["logradouro_via"] is not None
    assert all(q["city"] == "Município de Demonstração (dados fictícios)" for q in fake.queries)
    bairro = out[out["linha"] == 34].iloc[0]
    assert bairro["geocodificacao"] == "bairro"
    assert bairro["geocodificacao_detalhe"].endswith("Nominatim: não encontrado")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (FakeLocation(-22.90, -46.30, {"class": "highway", "addresstype": "road",
                                       "address": {"road": "Rua Inexistente dos Testes"}}),
         "resposta fora do limite municipal"),
        (FakeLocation(-22.9040, -46.3870, {"class": "boundary", "addresstype": "city"}),
         "resposta imprecisa (só o município)"),
        (FakeLocation(-22.9040, -46.3870, {"class": "highway", "addresstype": "road",
                                           "address": {"road": "Avenida Brasil"}}),
         "a via encontrada ('Avenida Brasil') não corresponde a 'Rua Inexistente dos Testes'"),
    ],
)  # fmt: skip
def test_online_answers_are_checked(
    demo_territory: Path, answer: FakeLocation, reason: str
) -> None:
    fake = FakeNominatim({"Rua Inexistente dos Testes": answer})
    out = locate_requests(
        DEMO / "pedidos.csv", demo_territory, load_rules("demo"), today=REFERENCE, geocoder=fake
    )
    row = out[out["linha"] == 29].iloc[0]
    assert row["geocodificacao"] == "falhou"
    assert row["geocodificacao_detalhe"].endswith(f"Nominatim: {reason}")
    assert row["situacao"] == "erro"


def test_geocode_cli(demo_territory: Path, tmp_path: Path) -> None:
    out = tmp_path / "geo.csv"
    result = runner.invoke(
        app,
        ["geocodificar", "--territory", str(demo_territory), "--input", str(DEMO / "pedidos.csv"),
         "--rules", "demo", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Resumo:" in result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(table) == 41
    assert list(table.columns[:4]) == ["linha", "protocolo", "situacao", "problemas"]
    assert "nome_solicitante" not in table.columns


def test_geocode_cli_missing_territory(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["geocodificar", "--territory", str(tmp_path / "nao_existe.gpkg"), "--input",
         str(DEMO / "pedidos.csv"), "--out", str(tmp_path / "x.csv")],
    )  # fmt: skip
    assert result.exit_code == 4
    assert "território não encontrado" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_geocode_cli_territory_without_roads(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    bad = tmp_path / "sem_vias.gpkg"
    gpd.GeoDataFrame({"osmid": [1]}, geometry=[Point(0, 0)], crs="EPSG:31983").to_file(
        bad, layer="nos"
    )
    result = runner.invoke(
        app,
        ["geocodificar", "--territory", str(bad), "--input", str(DEMO / "pedidos.csv"),
         "--out", str(tmp_path / "x.csv")],
    )  # fmt: skip
    assert result.exit_code == 4
    assert "a camada 'vias' não existe no território" in result.output


@pytest.mark.web
def test_online_nominatim_real_answer() -> None:
    """Real Nominatim (internet): a well-known Porto Alegre address is found at street level."""
    from geo_ip.requests.geocode_online import geocode_online

    located = pd.DataFrame(
        {
            "endereco": ["Avenida Ipiranga"],
            "numero": ["6681"],
            "cep": [""],
            "x": [float("nan")],
            "y": [float("nan")],
            "latitude": [float("nan")],
            "longitude": [float("nan")],
            "geocodificacao": ["falhou"],
            "logradouro_encontrado": [None],
            "confianca": [0.0],
            "geocodificacao_detalhe": ["logradouro 'Avenida Ipiranga' não encontrado"],
        }
    )
    out = geocode_online(
        located, municipio="Porto Alegre", uf="RS", crs="EPSG:31982", boundary=None
    )
    row = out.iloc[0]
    assert row["geocodificacao"] in ("numero_exato", "logradouro")
    assert -30.07 < row["latitude"] < -30.04
    assert -51.19 < row["longitude"] < -51.16
    assert "Ipiranga" in row["logradouro_encontrado"]


def test_coordinates_only_skip_the_street_index(
    demo_territory: Path, located: pd.DataFrame, tmp_path: Path
) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    with_xy = raw[raw["latitude"] != ""]
    path = tmp_path / "so_coordenadas.csv"
    with_xy.to_csv(path, index=False)
    fast = locate_requests(path, demo_territory, load_rules("demo"), today=REFERENCE)
    full = located[located["protocolo"].isin(with_xy["protocolo"])].reset_index(drop=True)
    assert len(fast) == 17
    for column in ("bairro_encontrado", "logradouro_via", "situacao", "fora_da_malha"):
        assert fast[column].tolist() == full[column].tolist(), column
