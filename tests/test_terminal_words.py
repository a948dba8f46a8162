"""What the terminal says, in the words a clerk reads (issue 21, item 11)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo_ip.cip.engine import compute_cip
from geo_ip.requests.intake import territory_boundary
from tests.test_cip import long_csv, tariffs

__all__ = ["tariffs"]  # the fixture, shared with tests/test_cip.py


def test_the_cip_total_is_logged_as_money_in_reais(
    tmp_path: Path, tariffs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 15.000 kWh of an industrial unit capped at 12.000 × R$ 3,00 × 7 % = R$ 2.520,00,
    # 4 such units: R$ 10.080,00 (see test_santo_antonio_do_planalto_by_hand)
    rows = [(f"I{k}", "IN", 1, 15_000) for k in range(4)]
    with caplog.at_level(logging.INFO, logger="geo_ip.cip.engine"):
        result = compute_cip("santo_antonio_do_planalto", long_csv(tmp_path, rows), tariffs)
    assert result.total_rs == pytest.approx(10_080.0)
    said = [r.getMessage() for r in caplog.records if r.name == "geo_ip.cip.engine"]
    assert any(m.endswith(": R$ 10.080,00 no ano") for m in said), said
    assert not any("10080.00" in m for m in said)


def _territory(tmp_path: Path, codes: list[object]) -> Path:
    square = shapely.box(-46.4, -22.9, -46.3, -22.8)
    limits = gpd.GeoDataFrame(
        {"nome": ["Município"] * len(codes), "codigo_ibge": codes, "admin_level": [8] * len(codes)},
        geometry=[square] * len(codes),
        crs="EPSG:4326",
    )
    path = tmp_path / "territorio.gpkg"
    limits.to_file(path, layer="limite", engine="pyogrio")
    return path


def test_a_territory_without_ibge_codes_does_not_warn_about_them_at_every_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "sem").mkdir()
    (tmp_path / "outro").mkdir()
    quiet = _territory(tmp_path / "sem", [None])
    with caplog.at_level(logging.INFO, logger="geo_ip.requests.intake"):
        boundary = territory_boundary(quiet, codigo_ibge=3125101)
    assert boundary.bounds == pytest.approx((-46.4, -22.9, -46.3, -22.8))
    assert not [r for r in caplog.records if "código IBGE" in r.getMessage()]
    # a real mismatch (the territory is of another municipality) is still said
    caplog.clear()
    other = _territory(tmp_path / "outro", [3106200])
    with caplog.at_level(logging.INFO, logger="geo_ip.requests.intake"):
        territory_boundary(other, codigo_ibge=3125101)
    said = [r.getMessage() for r in caplog.records if "código IBGE" in r.getMessage()]
    assert said == ["nenhum limite com código IBGE 3125101; usando os limites municipais"]
