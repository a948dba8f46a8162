"""Atomic outputs: an interrupted run leaves the previous results as they were.

Every output file is written under a temporary name and moved into place
(:func:`geo_ip._io.atomic_path`), and a command that writes a folder of files writes
them all into a hidden staging folder first (:func:`geo_ip._io.staged_dir`), so an
interruption never leaves a half-written file nor a mix of files from two runs. Each
test writes a first result, then makes a writer deep inside fail in the middle of a
second run (``pyogrio.write_dataframe``, the XLSX writer, the sheet and map writers,
the utility letter...) and checks that the folder holds the same bytes as before and no
temporary file.
"""

from __future__ import annotations

import ctypes
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from geo_ip._io import STAGING_PREFIX, atomic_path, release_freed_memory, staged_dir
from geo_ip.assess import Assessment, assess
from geo_ip.cli import app
from geo_ip.config import load_rules
from geo_ip.errors import InputFileError
from tests.conftest import DEMO, DEMO_KEY, DEMO_TODAY

runner = CliRunner()
RULES = load_rules("demo")

TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="geo_ip tests">
  <node id="1" lat="-22.9000" lon="-46.3900" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="2" lat="-22.9000" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="3" lat="-22.9009" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <way id="10" version="1" timestamp="2026-01-01T00:00:00Z">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="name" v="Rua das Flores"/>
  </way>
</osm>
"""


class DiskFullError(OSError):
    """The simulated failure (e.g. the disk filled up)."""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Temporary files or staging folders left anywhere under ``folder``."""
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if ".tmp" in p.name or p.name.startswith(STAGING_PREFIX)
    ]


def fail_on_call(target: Callable[..., Any], n: int) -> Callable[..., Any]:
    """Wrap ``target`` so that its ``n``-th call raises :class:`DiskFullError`."""
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == n:
            raise DiskFullError(28, "disco cheio (simulado)")
        return target(*args, **kwargs)

    return flaky


# --- the staging folder -------------------------------------------------------------------------


def test_staged_dir_moves_files_and_replaces_subfolders_whole(tmp_path: Path) -> None:
    out = tmp_path / "saida"
    (out / "mapas").mkdir(parents=True)
    (out / "mapas" / "antigo.html").write_text("de um pedido que saiu", encoding="utf-8")
    (out / "ranking.csv").write_text("velho", encoding="utf-8")
    (out / "outro.txt").write_text("não é desta execução", encoding="utf-8")
    with staged_dir(out) as stage:
        assert stage.parent == out and stage.name.startswith(STAGING_PREFIX)
        (stage / "ranking.csv").write_text("novo", encoding="utf-8")
        (stage / "mapas").mkdir()
        (stage / "mapas" / "PED-1.html").write_text("mapa", encoding="utf-8")
        assert (out / "ranking.csv").read_text(encoding="utf-8") == "velho"  # not yet
    assert snapshot(out) == {
        "mapas/PED-1.html": b"mapa", "outro.txt": "não é desta execução".encode(),
        "ranking.csv": b"novo",
    }  # fmt: skip


def test_staged_dir_failure_leaves_the_folder_untouched(tmp_path: Path) -> None:
    out = tmp_path / "saida"
    out.mkdir()
    (out / "ranking.csv").write_text("velho", encoding="utf-8")
    before = snapshot(out)
    with pytest.raises(DiskFullError), staged_dir(out) as stage:
        (stage / "ranking.csv").write_text("novo", encoding="utf-8")
        raise DiskFullError(28, "disco cheio (simulado)")
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "um_arquivo"
    blocker.write_text("x", encoding="utf-8")
    cannot_create = pytest.raises(InputFileError, match="não foi possível criar a pasta de saída")
    with cannot_create, staged_dir(blocker):
        pass
    cannot_write = pytest.raises(
        InputFileError, match=r"um_arquivo/r\.csv'.*não foi possível gravar"
    )
    with cannot_write, atomic_path(blocker / "r.csv"):
        pass


# --- geo-ip assess ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """Two assessments of four demo requests that differ (budget): a first and a second run."""
    folder = tmp_path_factory.mktemp("quatro")
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    requests = folder / "pedidos.csv"
    raw.head(4).to_csv(requests, index=False)
    options: dict[str, Any] = {"key": DEMO_KEY, "today": DEMO_TODAY}
    first = assess(demo_territory, requests, RULES, **options)
    second = assess(demo_territory, requests, RULES, budget=3000.0, **options)
    return first, second


@pytest.fixture(scope="module")
def first_folder(two_runs: tuple[Assessment, Assessment], tmp_path_factory: Any) -> Path:
    """The outputs of the first run, maps and sheets included (copied by each test)."""
    from geo_ip._assess_outputs import write_outputs

    out = tmp_path_factory.mktemp("primeira") / "avaliacao"
    write_outputs(two_runs[0], out)
    return out


def _patch_nth(monkeypatch: pytest.MonkeyPatch, where: str, n: int) -> None:
    module_name, _, name = where.rpartition(".")
    module = __import__(module_name, fromlist=[name])
    monkeypatch.setattr(module, name, fail_on_call(getattr(module, name), n))


# (where to fail, on which call): in the middle of every kind of file of the folder
ASSESS_FAILURES = [
    ("pyogrio.write_dataframe", 2),  # avaliacao.gpkg, after ranking.csv and ranking.xlsx
    ("geo_ip._assess_outputs._write_xlsx", 1),  # ranking.xlsx, after ranking.csv
    ("geo_ip._assess_outputs.write_project", 1),  # avaliacao.qgz
    ("geo_ip._assess_outputs._evidence_chunk", 1),  # evidencias.json, after its header
    ("geo_ip.webmap.atomic_path", 3),  # mapas/, after mapa.html
    ("geo_ip.sheets.write_pdf", 3),  # fichas/, after the first sheets
]


@pytest.mark.parametrize(("where", "n"), ASSESS_FAILURES, ids=[w for w, _ in ASSESS_FAILURES])
def test_interrupted_assessment_keeps_the_previous_results(
    where: str,
    n: int,
    two_runs: tuple[Assessment, Assessment],
    first_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geo_ip._assess_outputs import write_outputs

    out = tmp_path / "avaliacao"
    shutil.copytree(first_folder, out)
    before = snapshot(out)
    _patch_nth(monkeypatch, where, n)
    with pytest.raises((InputFileError, DiskFullError)) as info:
        write_outputs(two_runs[1], out)
    if isinstance(info.value, InputFileError):  # named as the user knows it
        assert "disco cheio (simulado)" in str(info.value)
        assert STAGING_PREFIX not in str(info.value), str(info.value)
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_the_next_run_replaces_everything(
    two_runs: tuple[Assessment, Assessment], first_folder: Path, tmp_path: Path
) -> None:
    from geo_ip._assess_outputs import write_outputs

    out = tmp_path / "avaliacao"
    shutil.copytree(first_folder, out)
    before = snapshot(out)
    files = write_outputs(two_runs[1], out)
    after = snapshot(out)
    assert all(p.is_file() and p.is_relative_to(out) for p in files)
    assert after["ranking.csv"] != before["ranking.csv"]  # the budget changed the selection
    assert set(after) == set(before)
    assert leftovers(out) == []


def test_assess_command_interrupted(
    demo_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = tmp_path / "pedidos.csv"
    pd.read_csv(DEMO / "pedidos.csv", dtype=str).head(3).to_csv(requests, index=False)
    out = tmp_path / "avaliacao"
    args = ["-q", "assess", "--territory", str(demo_territory), "--requests", str(requests),
            "--rules", "demo", "--out", str(out), "--sem-mapas", "--sem-fichas",
            "--data-referencia", "2026-11-20"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_call(pyogrio.write_dataframe, 2))
    result = runner.invoke(app, [*args, "--budget", "1000"])
    assert result.exit_code == 3, result.output
    assert (
        f"arquivo '{out / 'avaliacao.gpkg'}': não foi possível gravar o arquivo (disco cheio"
        in (" ".join(result.output.split()))
    )
    assert snapshot(out) == before
    assert leftovers(out) == []


# --- geo-ip territory --------------------------------------------------------------------------


def test_territory_command_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    osm = tmp_path / "pequeno.osm"
    osm.write_text(TINY_OSM, encoding="utf-8")
    out = tmp_path / "territorio.gpkg"
    args = ["-q", "territory", "--osm", str(osm), "--rules", "demo", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(tmp_path)
    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_call(pyogrio.write_dataframe, 3))
    result = runner.invoke(app, [*args, "--forcar"])
    assert result.exit_code == 3, result.output  # a clear message, not a traceback
    assert "não foi possível gravar o território (disco cheio (simulado))" in result.output
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


# --- geo-ip cadastre, cadastre audit, cip ------------------------------------------------------


@pytest.fixture(scope="module")
def plain_assessment(two_runs: tuple[Assessment, Assessment], tmp_path_factory: Any) -> Path:
    from geo_ip._assess_outputs import write_outputs

    out = tmp_path_factory.mktemp("sem_mapas") / "avaliacao"
    write_outputs(two_runs[0], out, maps=False, sheets=False)
    return out


CADASTRE_FAILURES = [
    ("geo_ip._oficio.write_letter_pdf", 1),  # after the CSVs, the GeoPackage and the DOCX
    ("pyogrio.write_dataframe", 2),  # cadastro_ip.gpkg, after pontos_incluir/excluir.csv
    ("geo_ip._oficio.write_checklist_pdf", 1),  # the last but one file
]


@pytest.mark.parametrize(("where", "n"), CADASTRE_FAILURES, ids=[w for w, _ in CADASTRE_FAILURES])
def test_cadastre_command_interrupted(
    where: str, n: int, plain_assessment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed = tmp_path / "obras.csv"
    executed.write_text("protocolo,data_execucao\nPED-2026-0101,2026-11-23\n", encoding="utf-8")
    out = tmp_path / "cadastro"
    args = ["-q", "cadastre", "--assessment", str(plain_assessment), "--executed", str(executed),
            "--rules", "demo", "--out", str(out), "--data-referencia", "2026-11-30"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(out)
    _patch_nth(monkeypatch, where, n)
    executed.write_text("protocolo,data_execucao\nPED-2026-0103,2026-11-24\n", encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "não foi possível gravar o arquivo (disco cheio (simulado))" in result.output
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_audit_command_interrupted(
    demo_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "auditoria"
    args = ["-q", "cadastre", "audit", "--inventory", str(demo_territory), "--bdgd",
            str(DEMO / "rede_demo.gpkg"), "--rules", "demo", "--out", str(out)]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_call(pyogrio.write_dataframe, 2))
    result = runner.invoke(app, [*args, "--tarifa", "0.9"])
    assert result.exit_code == 3, result.output  # before issue 8: a traceback
    assert "auditoria.gpkg': não foi possível gravar o arquivo (disco cheio" in result.output
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_cip_command_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cip"
    args = ["-q", "cip", "--rules-cip", "municipio_demo", "--consumers",
            str(DEMO / "consumidores.csv"), "--out", str(out)]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(out)
    _patch_nth(monkeypatch, "geo_ip._cip_outputs._write_xlsx", 1)  # after three CSVs
    result = runner.invoke(app, [*args, "--municipio-ibge", "9999999"])
    assert result.exit_code == 3, result.output
    assert snapshot(out) == before
    assert leftovers(out) == []


# --- single-file reports: requests check, geocode ------------------------------------------------


def _half_then_fail(real: Callable[..., Any]) -> Callable[..., Any]:
    """``DataFrame.to_csv`` that writes half the table, then fails (e.g. disk full)."""

    def to_csv(self: pd.DataFrame, path: Any = None, *args: Any, **kwargs: Any) -> Any:
        if path is None:
            return real(self, path, *args, **kwargs)
        real(self.iloc[: len(self) // 2], path, *args, **kwargs)
        raise DiskFullError(28, "disco cheio (simulado)")

    return to_csv


@pytest.mark.parametrize("command", ["requests check", "geocode"])
def test_half_written_report_never_replaces_the_previous_one(
    command: str, demo_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = tmp_path / "pedidos.csv"
    pd.read_csv(DEMO / "pedidos.csv", dtype=str).head(6).to_csv(requests, index=False)
    out = tmp_path / "relatorio.csv"
    if command == "geocode":
        args = ["-q", "geocode", "--input", str(requests)]
    else:
        args = ["-q", "requests", "check", str(requests)]
    args += ["--territory", str(demo_territory), "--rules", "demo", "--out", str(out)]
    assert runner.invoke(app, args).exit_code in (0, 1)
    before = snapshot(tmp_path)
    monkeypatch.setattr(pd.DataFrame, "to_csv", _half_then_fail(pd.DataFrame.to_csv))
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "disco cheio (simulado)" in result.output
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_freed_memory_is_returned_through_glibc_and_skipped_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []

    class Libc:
        def malloc_trim(self, pad: int) -> int:
            trims.append(pad)
            return 1

    asked: list[str] = []

    def glibc(name: str) -> Libc:
        asked.append(name)
        return Libc()

    monkeypatch.setattr(ctypes, "CDLL", glibc)
    release_freed_memory()
    assert (asked, trims) == (["libc.so.6"], [0])

    def no_glibc(name: str) -> Libc:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    release_freed_memory()  # musl, macOS, Windows: nothing to do, no error
    assert trims == [0]
