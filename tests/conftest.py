"""Shared fixtures: paths to the real data in ../shared/data and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
POA = SHARED_DATA / "poa"
BDGD_ZIP = SHARED_DATA / "bdgd" / "Mux_Energia_401_2024-12-31_V11_20250806-1857.gdb.zip"
DEMO = ROOT / "data" / "demo"


def require(path: Path) -> Path:
    """Skip the calling test when a real-data file is absent."""
    if not path.exists():
        pytest.skip(f"dados reais ausentes: {path} (veja ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def demo_territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo territory, built once per test session (read-only for tests)."""
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.build import GridSource, build_territory

    out = tmp_path_factory.mktemp("demo_territory") / "territorio.gpkg"
    build_territory(
        out,
        rules=load_rules("demo"),
        osm=DEMO / "municipio_demo.osm",
        grids=[GridSource(DEMO / "rede_demo.gpkg")],
        dem=DEMO / "mdt_demo.tif",
    )
    return out


@pytest.fixture(scope="session")
def poa_territory(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The Porto Alegre territory (OSM + DEM, no grid file), built once per session.

    Skips when the real data is absent. Returns the :class:`TerritoryReport`.
    """
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.build import build_territory

    pbf = require(POA / "poa_osm.pbf")
    out = tmp_path_factory.mktemp("poa_territory") / "poa.gpkg"
    return build_territory(out, rules=load_rules("extrema"), osm=pbf, dem=POA / "poa_elevation.tif")


DEMO_TODAY = __import__("datetime").date(2026, 11, 20)
"""Reference date of the demo's answer key (``pedidos_gabarito.csv``)."""
DEMO_KEY = b"chave-de-teste-do-geo-ip-0123456789"
"""LGPD key used by the tests (never a real one)."""
DEMO_BUDGET = 300_000.0
"""The demo's fictional budget (as ``geo-ip demo``)."""


@pytest.fixture(scope="session")
def demo_assessment(demo_territory: Path) -> Any:
    """The demo assessed with every optional input, as ``geo-ip demo`` does (once)."""
    from geo_ip.pipeline import assess
    from geo_ip.rules.config import load_rules

    return assess(
        demo_territory,
        DEMO / "pedidos.csv",
        load_rules("demo"),
        occurrences=DEMO / "ocorrencias.csv",
        decisions=DEMO / "decisoes.csv",
        history=DEMO / "beneficios_anteriores.csv",
        budget=DEMO_BUDGET,
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )


@pytest.fixture(scope="session")
def demo_outputs(demo_assessment: Any, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every file ``write_outputs`` writes for the demo (maps and sheets included), once.

    Read-only for the tests: the folder is ``demo_outputs[0].parent``.
    """
    from geo_ip.outputs.files import write_outputs

    return write_outputs(demo_assessment, tmp_path_factory.mktemp("avaliacao_demo"))
