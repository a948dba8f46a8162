"""Atomic outputs: an interrupted run leaves the previous results as they were.

Every output file is written under a temporary name and moved into place
(:func:`geo_ip._util.atomic.atomic_path`), and a command that writes a folder of files writes
them all into a staging folder beside it first and swaps the two folders whole
(:func:`geo_ip._util.atomic.staged_dir`), so an interruption never leaves a half-written file nor
a mix of files from two runs, and nothing internal is written inside the output folder.
Each test writes a first result, then makes a writer deep inside fail in the middle of a
second run (``pyogrio.write_dataframe``, the XLSX writer, the sheet and map writers,
the utility letter...) and checks that the folder holds the same bytes as before and no
temporary file. Other tests kill a process (``SIGKILL``) at each step of the final swap
and check that the folder is always wholly the old results or wholly the new, that the
LGPD key survives, and that the next run removes what the killed one left (issue 17).
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from geo_ip._util import atomic as _io
from geo_ip._util.atomic import (
    STAGING_PREFIX,
    atomic_path,
    release_freed_memory,
    repair_output_dir,
    staged_dir,
)
from geo_ip.cli.app import app
from geo_ip.errors import InputFileError
from geo_ip.pipeline import Assessment, assess
from geo_ip.rules.config import load_rules
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
    """Temporary files or staging folders left anywhere under ``folder`` or beside it."""
    inside = [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if ".tmp" in p.name or STAGING_PREFIX in p.name
    ]
    beside = [
        p.name for p in folder.parent.iterdir() if p.name.startswith(folder.name + STAGING_PREFIX)
    ]
    return inside + beside


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
        assert stage == tmp_path / f"saida{STAGING_PREFIX}novo-{os.getpid()}"  # beside, not in
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


def _dead_pid() -> int:
    """The id of a process that has ended (to name what a killed run left)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def test_folder_permissions_and_the_lgpd_key_survive_the_swap(tmp_path: Path) -> None:
    out = tmp_path / "saida"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    key = out / ".chave_lgpd"
    key.write_text("segredo\n", encoding="ascii")
    key.chmod(0o600)
    inode = key.stat().st_ino
    with staged_dir(out) as stage:
        (stage / "ranking.csv").write_text("novo", encoding="utf-8")
    assert snapshot(out) == {".chave_lgpd": b"segredo\n", "ranking.csv": b"novo"}
    assert (out.stat().st_mode & 0o777, key.stat().st_mode & 0o777) == (0o755, 0o600)
    assert key.stat().st_ino == inode  # hard-linked across the swap, never copied
    assert leftovers(out) == []


def test_a_linked_output_folder_is_swapped_where_it_lies(tmp_path: Path) -> None:
    real = tmp_path / "publicado" / "avaliacao"
    real.mkdir(parents=True)
    (real / "ranking.csv").write_text("velho", encoding="utf-8")
    link = tmp_path / "avaliacao"
    link.symlink_to(real)
    with staged_dir(link) as stage:
        (stage / "ranking.csv").write_text("novo", encoding="utf-8")
    assert link.is_symlink() and snapshot(real) == {"ranking.csv": b"novo"}
    assert leftovers(real) == []


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_a_run_removes_what_interrupted_runs_left(outcome: str, tmp_path: Path) -> None:
    out = tmp_path / "saida"
    (out / ".geo_ip-k3j2.tmp" / "mapas").mkdir(parents=True)  # staged inside (before issue 17)
    (out / ".geo_ip-k3j2.tmp" / "ranking.xlsx").write_text("interno", encoding="utf-8")
    (out / ".geo_ip-k3j2.tmp" / ".geo_ip-anteriores").mkdir()
    (out / ".geo_ip-anteriores" / "fichas").mkdir(parents=True)
    (out / ".geo_ip-anteriores" / "fichas" / "PED-1.html").write_text("CPF", encoding="utf-8")
    (out / "ranking.csv").write_text("velho", encoding="utf-8")
    dead = _dead_pid()
    for kind in ("novo", "anterior"):  # beside it, from a killed run
        (tmp_path / f"saida{STAGING_PREFIX}{kind}-{dead}").mkdir()
        (tmp_path / f"saida{STAGING_PREFIX}{kind}-{dead}" / "ranking.xlsx").write_text("x")
    running = tmp_path / f"saida{STAGING_PREFIX}novo-{os.getppid()}"  # a run still running
    running.mkdir()
    stale = out / f".ranking.csv{STAGING_PREFIX}{dead}-a8f3.tmp.csv"  # a killed atomic_path
    stale.write_text("meio arquivo", encoding="utf-8")
    _io._swept.clear()
    expected = pytest.raises(DiskFullError) if outcome == "failure" else nullcontext()
    with expected, staged_dir(out) as stage:
        with atomic_path(stage / "ranking.csv") as tmp:
            tmp.write_text("novo", encoding="utf-8")
        if outcome == "failure":
            raise DiskFullError(28, "disco cheio (simulado)")
    assert snapshot(out) == {"ranking.csv": b"velho" if outcome == "failure" else b"novo"}
    assert leftovers(out) == [running.name]
    with atomic_path(out / "ranking.csv") as tmp:  # a single file: its dead temporaries go
        tmp.write_text("outro", encoding="utf-8")
    assert not stale.exists()


# the final swap, killed at each step (SIGKILL at the k-th change to the file system)
KILLER = r"""
import os, signal, sys
from pathlib import Path
from geo_ip._util import atomic as _io

out, kill_at, exchange = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
if not exchange:
    _io._exchange = lambda a, b: False  # a system without RENAME_EXCHANGE
CHANGES = {"os.rename", "os.link", "os.remove", "os.rmdir", "os.mkdir", "os.symlink",
           "geo_ip._util.atomic.exchange"}
steps = {"armed": False, "n": 0}

def hook(event, args):
    if steps["armed"] and event in CHANGES:
        steps["n"] += 1
        if steps["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(hook)
with _io.staged_dir(out) as stage:
    (stage / "ranking.csv").write_text("novo", encoding="utf-8")
    if kill_at == 0:  # while writing
        os.kill(os.getpid(), signal.SIGKILL)
    (stage / "avaliacao.gpkg").write_text("novo", encoding="utf-8")
    (stage / "mapas").mkdir()
    (stage / "mapas" / "PED-1.html").write_text("novo", encoding="utf-8")
    steps["armed"] = True
print(steps["n"])
"""

OLD_RESULTS = {
    ".chave_lgpd": b"segredo\n", "avaliacao.gpkg": b"velho", "mapas/antigo.html": b"velho",
    "outro.txt": b"do usuario", "ranking.csv": b"velho",
}  # fmt: skip
NEW_RESULTS = {
    ".chave_lgpd": b"segredo\n", "avaliacao.gpkg": b"novo", "mapas/PED-1.html": b"novo",
    "outro.txt": b"do usuario", "ranking.csv": b"novo",
}  # fmt: skip


def _old_folder(out: Path) -> None:
    for name, data in OLD_RESULTS.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


def _run_killer(out: Path, kill_at: int, exchange: bool) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", KILLER, str(out), str(kill_at), "1" if exchange else "0"]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two_renames"])
def test_a_kill_at_each_step_of_the_swap_leaves_old_or_new_results(
    exchange: bool, tmp_path: Path
) -> None:
    out = tmp_path / "saida"
    _old_folder(out)
    whole = _run_killer(out, -1, exchange)  # never killed: counts the steps
    assert whole.returncode == 0, whole.stderr
    assert snapshot(out) == NEW_RESULTS and leftovers(out) == []
    steps = int(whole.stdout)
    assert steps >= 4, steps
    seen = set()
    for kill_at in range(steps + 1):
        shutil.rmtree(out)
        _old_folder(out)
        killed = _run_killer(out, kill_at, exchange)
        assert killed.returncode == -9, (kill_at, killed.stderr)
        if out.exists():
            state = snapshot(out)
            assert state in (OLD_RESULTS, NEW_RESULTS), (kill_at, state)
            seen.add("old" if state == OLD_RESULTS else "new")
        else:  # between the two renames: the old results, whole, beside it
            assert not exchange, kill_at
            (backup,) = tmp_path.glob(f"saida{STAGING_PREFIX}anterior-*")
            assert snapshot(backup) == OLD_RESULTS
            seen.add("missing")
        assert not any(STAGING_PREFIX in p.name for p in out.rglob("*"))  # nothing inside
        repair_output_dir(out)  # what the next run does first
        assert snapshot(out) in (OLD_RESULTS, NEW_RESULTS), kill_at
        assert leftovers(out) == [], kill_at
        with staged_dir(out) as stage:  # and the next run publishes whole
            (stage / "ranking.csv").write_text("novo", encoding="utf-8")
            (stage / "avaliacao.gpkg").write_text("novo", encoding="utf-8")
            (stage / "mapas").mkdir()
            (stage / "mapas" / "PED-1.html").write_text("novo", encoding="utf-8")
        assert snapshot(out) == NEW_RESULTS and leftovers(out) == [], kill_at
    assert seen == ({"old", "new"} if exchange else {"old", "new", "missing"}), seen


def test_a_mount_point_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "saida"
    _old_folder(out)
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    refused = pytest.raises(InputFileError, match=r"ponto de montagem.*use uma subpasta")
    with refused, staged_dir(out):
        raise AssertionError("nothing is written")
    assert snapshot(out) == OLD_RESULTS and leftovers(out) == []


def test_a_failed_rename_during_the_swap_restores_the_old_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "saida"
    _old_folder(out)
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    monkeypatch.setattr(os, "rename", fail_on_call(os.rename, 2))  # stage → out
    cannot_swap = pytest.raises(InputFileError, match="não foi possível substituir a pasta")
    with cannot_swap, staged_dir(out) as stage:
        (stage / "ranking.csv").write_text("novo", encoding="utf-8")
    assert snapshot(out) == OLD_RESULTS
    assert leftovers(out) == []


def test_nothing_is_written_inside_the_assessment_folder(
    two_runs: tuple[Assessment, Assessment], first_folder: Path, tmp_path: Path
) -> None:
    from geo_ip.outputs.files import write_outputs

    out = tmp_path / "avaliacao"
    shutil.copytree(first_folder, out)
    (out / ".chave_lgpd").write_text("segredo\n", encoding="ascii")
    inside: list[tuple[str, str]] = []
    watching = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not watching or event not in ("open", "os.mkdir", "os.rename", "os.link"):
            return
        paths = args[:1] if event in ("open", "os.mkdir") else args[1:2]
        if event == "open":
            mode, flags = args[1], args[2]
            writes = any(c in (mode or "") for c in "wax+") or flags & (
                os.O_WRONLY | os.O_RDWR | os.O_CREAT
            )
            if not writes:
                return
        for path in paths:
            if isinstance(path, (str, Path)) and Path(path).resolve().is_relative_to(out):
                inside.append((event, str(path)))

    sys.addaudithook(hook)  # cannot be removed: switched off below
    try:
        write_outputs(two_runs[1], out)
    finally:
        watching.clear()
    assert inside == []
    assert (out / ".chave_lgpd").read_text(encoding="ascii") == "segredo\n"
    assert leftovers(out) == []


# --- geo-ip avaliar ---------------------------------------------------------------------------


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
    from geo_ip.outputs.files import write_outputs

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
    ("geo_ip.outputs.files.write_xlsx", 1),  # ranking.xlsx, after ranking.csv
    ("geo_ip.outputs.files.write_project", 1),  # avaliacao.qgz
    ("geo_ip.outputs.tables._evidence_chunk", 1),  # evidencias.json, after its header
    ("geo_ip.outputs.web.webmap.atomic_path", 3),  # mapas/, after mapa.html
    ("geo_ip.outputs.sheets.sheets.write_pdf", 3),  # fichas/, after the first sheets
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
    from geo_ip.outputs.files import write_outputs

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
    from geo_ip.outputs.files import write_outputs

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
    args = ["-q", "avaliar", "--territory", str(demo_territory), "--requests", str(requests),
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


KILL_ASSESS = r"""
import os, signal, sys
from geo_ip._util import atomic as _io
from geo_ip.cli.app import app

kill_at, exchange, args = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3:]
if not exchange:
    _io._exchange = lambda a, b: False
CHANGES = {"os.rename", "os.link", "os.remove", "os.rmdir", "os.mkdir", "os.symlink",
           "geo_ip._util.atomic.exchange"}
steps = {"armed": False, "n": 0}
carry_over = _io._carry_over

def armed(out, stage):  # every file written: the final moves begin
    steps["armed"] = True
    carry_over(out, stage)

def hook(event, args):
    if steps["armed"] and event in CHANGES:
        steps["n"] += 1
        if steps["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

_io._carry_over = armed
sys.addaudithook(hook)
app(args)
"""

# (RENAME_EXCHANGE?, killed before step, what the folder then holds): step 1 hard-links the
# key, 2 is the exchange (or the first of two renames), then the old results are removed
ASSESS_KILLS = [
    (True, 2, "old"), (True, 3, "new"), (False, 3, "missing"), (False, 5, "new"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exchange", "kill_at", "state"), ASSESS_KILLS,
    ids=[f"{'renameat2' if e else 'two_renames'}-{k}" for e, k, _ in ASSESS_KILLS],
)  # fmt: skip
def test_assess_command_killed_during_the_final_moves(
    exchange: bool, kill_at: int, state: str, demo_territory: Path, tmp_path: Path
) -> None:
    requests = tmp_path / "pedidos.csv"
    pd.read_csv(DEMO / "pedidos.csv", dtype=str).head(3).to_csv(requests, index=False)
    out = tmp_path / "avaliacao"
    args = ["-q", "avaliar", "--territory", str(demo_territory), "--requests", str(requests),
            "--rules", "demo", "--out", str(out), "--sem-mapas", "--sem-fichas",
            "--data-referencia", "2026-11-20"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    old = snapshot(out)
    key = old[".chave_lgpd"]
    old_inodes = {p.stat().st_ino for p in out.rglob("*") if p.name != ".chave_lgpd"}
    argv = [sys.executable, "-c", KILL_ASSESS, str(kill_at), "1" if exchange else "0"]
    killed = subprocess.run([*argv, *args, "--budget", "1000"], capture_output=True,
                            text=True, check=False, timeout=300)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    if state == "missing":  # between the two renames: repaired by the next run
        assert not out.exists()
        (backup,) = tmp_path.glob(f"avaliacao{STAGING_PREFIX}anterior-*")
        assert snapshot(backup) == old
    else:  # wholly the old results or wholly the new ones (no file of the old run)
        inodes = {p.stat().st_ino for p in out.rglob("*") if p.name != ".chave_lgpd"}
        assert set(snapshot(out)) == set(old)
        assert snapshot(out) == old if state == "old" else not inodes & old_inodes
        assert snapshot(out)[".chave_lgpd"] == key
    result = runner.invoke(app, [*args, "--budget", "1000"])  # the next run repairs first
    assert result.exit_code == 0, result.output
    assert "chave LGPD nova" not in result.output
    assert snapshot(out)[".chave_lgpd"] == key  # never lost, never replaced
    assert set(snapshot(out)) == set(old)
    assert leftovers(out) == []


# --- geo-ip territorio --------------------------------------------------------------------------


def test_territory_command_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    osm = tmp_path / "pequeno.osm"
    osm.write_text(TINY_OSM, encoding="utf-8")
    out = tmp_path / "territorio.gpkg"
    args = ["-q", "territorio", "--osm", str(osm), "--rules", "demo", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    before = snapshot(tmp_path)
    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_call(pyogrio.write_dataframe, 3))
    result = runner.invoke(app, [*args, "--forcar"])
    assert result.exit_code == 3, result.output  # a clear message, not a traceback
    assert "não foi possível gravar o território (disco cheio (simulado))" in result.output
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


# --- geo-ip cadastro, cadastre audit, cip ------------------------------------------------------


@pytest.fixture(scope="module")
def plain_assessment(two_runs: tuple[Assessment, Assessment], tmp_path_factory: Any) -> Path:
    from geo_ip.outputs.files import write_outputs

    out = tmp_path_factory.mktemp("sem_mapas") / "avaliacao"
    write_outputs(two_runs[0], out, maps=False, sheets=False)
    return out


CADASTRE_FAILURES = [
    ("geo_ip.cadastre.letter.write_letter_pdf", 1),  # after the CSVs, the GeoPackage and the DOCX
    ("pyogrio.write_dataframe", 2),  # cadastro_ip.gpkg, after pontos_incluir/excluir.csv
    ("geo_ip.cadastre.letter.write_checklist_pdf", 1),  # the last but one file
]


@pytest.mark.parametrize(("where", "n"), CADASTRE_FAILURES, ids=[w for w, _ in CADASTRE_FAILURES])
def test_cadastre_command_interrupted(
    where: str, n: int, plain_assessment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed = tmp_path / "obras.csv"
    executed.write_text("protocolo,data_execucao\nPED-2026-0101,2026-11-23\n", encoding="utf-8")
    out = tmp_path / "cadastro"
    args = ["-q", "cadastro", "--assessment", str(plain_assessment), "--executed", str(executed),
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
    args = ["-q", "cadastro", "auditar", "--inventory", str(demo_territory), "--bdgd",
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
    _patch_nth(monkeypatch, "geo_ip.cip.outputs._write_xlsx", 1)  # after three CSVs
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


@pytest.mark.parametrize("command", ["pedidos conferir", "geocodificar"])
def test_half_written_report_never_replaces_the_previous_one(
    command: str, demo_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = tmp_path / "pedidos.csv"
    pd.read_csv(DEMO / "pedidos.csv", dtype=str).head(6).to_csv(requests, index=False)
    out = tmp_path / "relatorio.csv"
    if command == "geocodificar":
        args = ["-q", "geocodificar", "--input", str(requests)]
    else:
        args = ["-q", "pedidos", "conferir", str(requests)]
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
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    release_freed_memory()
    assert (asked, trims, collected) == (["libc.so.6"], [0], [1])
    release_freed_memory(collect=False)  # between two files: the trim alone
    assert (asked, trims, collected) == (["libc.so.6"] * 2, [0, 0], [1])

    def no_glibc(name: str) -> Libc:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    release_freed_memory()  # musl, macOS, Windows: nothing to do, no error
    assert trims == [0, 0]
