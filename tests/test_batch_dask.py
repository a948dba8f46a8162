"""``geo-ip lote`` on a real Dask cluster of 2 local workers (issue 23).

A synthetic region of three municipalities (one with a boundary that cannot be assembled)
and a synthetic BDGD covering the three: the batch builds two territories, estimates
each CIP exactly as ``geo-ip cip --ibge`` alone does, audits the IP points, reports the
broken one with its error and finishes the others; a worker killed in the middle of the
run changes nothing in the result; a second run skips what did not change.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_ip.batch.model import MunicipalityResult
from geo_ip.batch.run import BatchConfig, close_client, open_client, run_batch
from geo_ip.batch.synthetic_bdgd import write_synthetic_bdgd
from geo_ip.cip.engine import compute_cip
from geo_ip.cli.app import app
from geo_ip.cli.batch import parse_codes
from geo_ip.errors import GeoIPError
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.territory.synthetic_region import write_synthetic_region
from geo_ip.territory.synthetic_requests import write_synthetic_requests
from tests.conftest import BDGD_ZIP

ALFA, BETA, GAMA = 3100104, 3100203, 3100302
TOWNS = [(ALFA, "Alfa do Sul"), (BETA, "Beta"), (GAMA, "Gama")]
UNITS = {ALFA: 120, BETA: 80, GAMA: 150}
CIP_RULES = "municipio_demo"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("regiao")
    osm = write_synthetic_region(folder / "estado.osm.pbf", TOWNS, edges=1200, broken=[BETA])
    bdgd = write_synthetic_bdgd(folder / "bdgd.gpkg", osm.bbox, units=UNITS)
    return {"osm": osm.path, "bdgd": bdgd, "folder": folder}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    client = open_client(workers=2, memory_limit="3GB", dashboard=None)
    yield client
    close_client(client)


def _config(region: dict[str, Any], out: Path, **extra: Any) -> BatchConfig:
    return BatchConfig(
        saida=out, osm=region["osm"], bdgds=(region["bdgd"],), regras_cip=CIP_RULES, **extra
    )


def _figures(result: MunicipalityResult) -> dict[str, Any]:
    """The row without what differs between runs (status, time, folder)."""
    row = asdict(result)
    for name in ("situacao", "segundos", "pasta"):
        row.pop(name)
    return row


@pytest.fixture(scope="module")
def first_run(region: dict[str, Any], client: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("lote")
    seen: list[tuple[int, int]] = []
    report = run_batch(_config(region, out), client, progress=lambda d, t, _r: seen.append((d, t)))
    return out, report, seen


def test_parse_codes() -> None:
    assert parse_codes(None) is None
    assert parse_codes("todos") is None
    assert parse_codes(" 4320909, 4309803;4320909 ") == (4320909, 4309803)
    with pytest.raises(GeoIPError, match="campo '--municipios': código IBGE inválido: '43209'"):
        parse_codes("43209")


def test_every_municipality_is_a_row_and_the_broken_one_says_why(first_run: Any) -> None:
    out, report, seen = first_run
    rows = {r.codigo_ibge: r for r in report.results}
    assert [r.codigo_ibge for r in report.results] == [ALFA, BETA, GAMA]
    assert seen[-1] == (3, 3) and len(seen) == 3  # the progress bar over municipalities
    assert rows[ALFA].situacao == rows[GAMA].situacao == "concluido"
    assert rows[BETA].situacao == "falhou"
    assert "não pôde ser montado" in rows[BETA].erro
    # without its boundary there is no territory, but its CIP is still estimated
    assert rows[BETA].vias_km is None
    assert rows[BETA].unidades_consumidoras == UNITS[BETA]
    assert rows[BETA].cip_rs_ano is not None and rows[BETA].cip_rs_ano > 0
    assert rows[ALFA].nome == "Alfa do Sul" and rows[ALFA].uf == "MG"
    assert report.reused == 0
    for code in (ALFA, GAMA):
        row = rows[code]
        assert row.erro == ""
        assert (out / "municipios" / str(code) / "territorio.gpkg").is_file()
        assert row.vias_km is not None and row.vias_km > 5
        assert row.area_km2 is not None and row.area_km2 > 1
        # three lines of 20 spans across 70 % of the box: the grid the BDGD drew
        assert row.rede_km is not None and row.rede_km > 1
        assert row.cobertura_rede_pct is not None and 0 < row.cobertura_rede_pct < 100
        assert row.unidades_consumidoras == UNITS[code]
        assert row.pontos_ip_bdgd == 32  # a lamp on poles 0, 2, ..., 62 of 3 x 21
    for name in ("lote.gpkg", "lote.xlsx", "mapa_lote.html"):
        assert (out / name).is_file(), name


def test_cip_equals_the_single_municipality_command(first_run: Any, region: dict[str, Any]) -> None:
    _out, report, _seen = first_run
    rows = {r.codigo_ibge: r for r in report.results}
    for code in (ALFA, GAMA):
        alone = compute_cip(CIP_RULES, region["bdgd"], "tarifas_exemplo", municipio_ibge=code)
        assert rows[code].cip_rs_ano == round(alone.total_rs, 2)
        assert rows[code].cip_rs_ano > 0


def test_the_workbook_has_one_row_per_municipality(first_run: Any) -> None:
    out, _report, _seen = first_run
    book = openpyxl.load_workbook(out / "lote.xlsx", read_only=True)
    values = list(book.worksheets[0].values)
    book.close()  # read-only: the file stays open until closed
    assert values[0][0] == "Código IBGE"
    assert [int(str(r[0])) for r in values[1:]] == [ALFA, BETA, GAMA]


def test_a_second_run_skips_what_did_not_change(
    first_run: Any, region: dict[str, Any], client: Any
) -> None:
    out, report, _seen = first_run
    before = {r.codigo_ibge: r for r in report.results}
    again = run_batch(_config(region, out), client)
    after = {r.codigo_ibge: r for r in again.results}
    assert again.reused == 2
    assert after[ALFA].situacao == after[GAMA].situacao == "reaproveitado"
    assert after[BETA].situacao == "falhou"  # a failure is tried again
    for code in (ALFA, GAMA):
        assert _figures(after[code]) == _figures(before[code])


def test_a_worker_killed_mid_run_changes_nothing(
    first_run: Any, region: dict[str, Any], client: Any, tmp_path: Path
) -> None:
    _out, report, _seen = first_run
    killed: list[str] = []

    def kill_one() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            for worker, keys in busy.items():
                if any(str(k).startswith("municipio-") for k in keys):
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    time.sleep(1.0)  # in the middle of the territory
                    os.kill(pid, signal.SIGKILL)
                    killed.append(worker)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one)
    killer.start()
    again = run_batch(_config(region, tmp_path / "lote"), client)
    killer.join()
    assert killed, "no worker was busy with a municipality"
    first = {r.codigo_ibge: _figures(r) for r in report.results}
    assert {r.codigo_ibge: _figures(r) for r in again.results} == first
    client.wait_for_workers(2, timeout=60)  # the nanny started a new one


def test_bad_inputs_are_refused_in_portuguese(tmp_path: Path, client: Any) -> None:
    with pytest.raises(GeoIPError, match="informe o extrato OSM"):
        run_batch(BatchConfig(saida=tmp_path / "x"), client)


def test_consolidated_table_keeps_the_failure(first_run: Any) -> None:
    out, _report, _seen = first_run
    table = pd.read_csv(out / "lote.csv", dtype=str, keep_default_na=False)
    beta = table[table["codigo_ibge"] == str(BETA)].iloc[0]
    assert beta["situacao"] == "falhou"
    assert "não pôde ser montado" in beta["erro"]


# --------------------------------------------------------------------------- real BDGD


@pytest.mark.skipif(not BDGD_ZIP.is_file(), reason=f"BDGD real ausente: {BDGD_ZIP}")
def test_real_bdgd_one_row_per_municipality_and_the_cip_of_each_alone(tmp_path: Path) -> None:
    """Mux Energia's BDGD covers Tapejara and Ibiaçá: ``geo-ip lote`` against ``geo-ip cip``."""
    out = tmp_path / "lote"
    runner = CliRunner()
    batch = runner.invoke(app, ["lote", "--bdgd", str(BDGD_ZIP), "--saida", str(out),
                                "--cip-regras", CIP_RULES, "--trabalhadores", "2",
                                "--painel", ":0"])  # fmt: skip
    assert batch.exit_code == 0, batch.output
    assert "Painel do Dask: http://" in batch.output
    assert "2 município(s): 2 concluído(s)" in batch.output
    table = pd.read_csv(out / "lote.csv", dtype=str, keep_default_na=False)
    assert table["codigo_ibge"].tolist() == ["4309803", "4320909"]
    assert table["uf"].tolist() == ["RS", "RS"]
    for code in (4309803, 4320909):
        alone = runner.invoke(app, ["cip", "--cip-regras", CIP_RULES, "--cip-consumidores",
                                    str(BDGD_ZIP), "--ibge", str(code),
                                    "--saida", str(tmp_path / f"cip_{code}")])  # fmt: skip
        assert alone.exit_code == 0, alone.output
        document = json.loads((tmp_path / f"cip_{code}" / "cip.json").read_text(encoding="utf-8"))
        row = table[table["codigo_ibge"] == str(code)].iloc[0]
        assert float(row["cip_rs_ano"]) == pytest.approx(document["cip_anual_rs"], abs=0.005)
        assert float(row["cip_rs_ano"]) > 0
        assert int(row["unidades_consumidoras"]) > 1000


def test_requests_of_one_municipality_are_assessed_and_no_personal_data_leaves(
    first_run: Any, region: dict[str, Any], client: Any, tmp_path: Path
) -> None:
    out = tmp_path / "lote"
    shutil.copytree(first_run[0], out)
    own = tmp_path / "por_municipio" / str(ALFA)
    own.mkdir(parents=True)
    requests = write_synthetic_requests(
        out / "municipios" / str(ALFA) / "territorio.gpkg", 30, own / "pedidos.csv"
    )
    report = run_batch(_config(region, out, por_municipio=own.parent), client)
    rows = {r.codigo_ibge: r for r in report.results}
    assert report.reused == 1  # Gama; Alfa has new inputs, Beta failed before
    assert rows[GAMA].situacao == "reaproveitado"
    assert rows[ALFA].situacao == "concluido", rows[ALFA].erro
    assert rows[ALFA].pedidos == 30
    unlimited = rows[ALFA]
    assert unlimited.pedidos_financiados is not None and unlimited.pedidos_financiados > 2
    assert unlimited.custo_rs is not None and unlimited.custo_municipio_rs is not None
    assert 0 < unlimited.custo_municipio_rs <= unlimited.custo_rs
    # a budget for the municipal part: fewer works, within it
    (own / "orcamento.txt").write_text("R$ 100.000,00\n", encoding="utf-8")
    limited = {r.codigo_ibge: r for r in run_batch(
        _config(region, out, por_municipio=own.parent), client).results}[ALFA]  # fmt: skip
    assert limited.situacao == "concluido", limited.erro
    assert limited.pedidos_financiados is not None and limited.custo_municipio_rs is not None
    assert limited.pedidos_financiados < unlimited.pedidos_financiados
    assert 0 < limited.custo_municipio_rs <= 100_000.0
    (own / "orcamento.txt").write_text("=1+1", encoding="utf-8")
    broken = run_batch(_config(region, out, por_municipio=own.parent), client).results[0]
    assert broken.situacao == "falhou"
    assert "orçamento inválido: escreva só o valor em reais (ex.: 300.000,00)" in broken.erro
    assessment = out / "municipios" / str(ALFA) / "avaliacao"
    assert (assessment / "ranking.csv").is_file()
    raw = pd.read_csv(requests, dtype=str, keep_default_na=False)
    cpfs = [c for c in raw["cpf_solicitante"] if c]
    names: list[str] = []  # the synthetic requests have no names
    for name in ("lote.csv", "lote_planilha.csv", "mapa_lote.html"):
        text = (out / name).read_text(encoding="utf-8-sig")
        assert scan_for_personal_data(text, cpfs, names) == [], name


def test_a_task_on_a_one_thread_worker_uses_one_core(client: Any) -> None:
    from geo_ip._util.parallel import cores
    from geo_ip.batch.task import _worker_threads

    def inside() -> tuple[int | None, int]:
        from geo_ip._util.parallel import limited_cores

        with limited_cores(_worker_threads()):
            return _worker_threads(), cores()

    assert client.submit(inside, pure=False).result() == (1, 1)
    assert _worker_threads() is None  # not on a worker: the machine's cores
    assert cores() >= 1


def test_the_command_runs_on_an_existing_scheduler(
    region: dict[str, Any], client: Any, tmp_path: Path
) -> None:
    """``--scheduler tcp://...``: the running cluster is used, and left running."""
    address = client.scheduler.address
    out = tmp_path / "lote"
    result = CliRunner().invoke(app, ["lote", "--bdgd", str(region["bdgd"]), "--municipios",
                                      f"{ALFA},{GAMA}", "--cip-regras", CIP_RULES,
                                      "--scheduler", address, "--saida", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 município(s): 2 concluído(s)" in " ".join(result.output.split())
    table = pd.read_csv(out / "lote.csv", dtype=str, keep_default_na=False)
    assert table["codigo_ibge"].tolist() == [str(ALFA), str(GAMA)]
    assert table["unidades_consumidoras"].tolist() == [str(UNITS[ALFA]), str(UNITS[GAMA])]
    assert client.submit(sum, [1, 2]).result() == 3  # the cluster is still up
