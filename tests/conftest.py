"""Shared fixtures: paths to the real data in ../shared/data and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
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


# ---------------------------------------------------------------------------------------
# The registry on both backends: a SQLite file and PostgreSQL/PostGIS (tests/pg_server.py)
# ---------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``postgis`` marker (pyproject.toml lists the others)."""
    config.addinivalue_line(
        "markers",
        "postgis: runs on PostgreSQL/PostGIS: the server of GEO_IP_TEST_PG_URL or a throwaway "
        "cluster (skipped, with the reason, when none can start; deselect with -m 'not postgis')",
    )


@pytest.fixture(scope="session")
def postgres_admin_url() -> Any:
    """URL of a superuser's database on a PostgreSQL/PostGIS server, for the whole session.

    The server of ``GEO_IP_TEST_PG_URL`` when set (it must answer: a failure otherwise);
    else a throwaway cluster started here (each xdist worker its own, on a free port) and
    stopped at the end; skips with the reason when none can start.
    """
    import os

    from tests import pg_server

    url = os.environ.get(pg_server.ENV)
    if url:
        try:
            pg_server.check(url)
        except pg_server.UnavailableError as exc:
            pytest.fail(f"{pg_server.ENV} aponta para um servidor inutilizável: {exc}")
        yield url
        return
    try:
        cluster = pg_server.start_cluster()
    except pg_server.UnavailableError as exc:
        pytest.skip(f"PostgreSQL/PostGIS indisponível: {exc}")
    try:
        pg_server.check(cluster.url)
    except pg_server.UnavailableError as exc:
        cluster.stop()
        pytest.skip(f"PostgreSQL/PostGIS indisponível: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _dispose_registry(url: str) -> None:
    from geo_ip.registry import db

    registry = db._OPEN.get(url)
    if registry is not None:
        registry.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgis", marks=pytest.mark.postgis),
    ]
)
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty registry database URL per test, on SQLite and on PostgreSQL/PostGIS.

    SQLite: a file in the test's tmp folder. PostgreSQL: a new database on the session's
    server (:func:`postgres_admin_url`), dropped afterwards. The registry opened at the
    URL (``open_registry(url)``) is disposed after the test.
    """
    from geo_ip.registry.db import sqlite_url

    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "registro.sqlite")
        yield url
        _dispose_registry(url)
        return
    from tests import pg_server

    admin = request.getfixturevalue("postgres_admin_url")
    url = pg_server.create_database(admin)
    try:
        yield url
    finally:
        _dispose_registry(url)
        pg_server.drop_database(admin, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, launched once per module (skipped without Playwright or it)."""
    from tests.browsers import ARGS, CHROMIUM, playwright_or_skip

    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
