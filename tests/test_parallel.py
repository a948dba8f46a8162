"""The process pool of :mod:`geo_ip._util.parallel` (loky executors).

Chunks come back in order, a failing one as ``None`` (logged) beside the others; a
generator's values arrive while it runs; stopped workers are gone. It works from a script
without ``if __name__ == "__main__"``, from ``python -c`` and from code piped to
``python -`` (run here in fresh interpreters), whose top-level code runs once: the workers
do not import the caller's ``__main__`` again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geo_ip._util import parallel
from geo_ip._util.parallel import run_chunks, start
from tests import parallel_jobs

SCRIPT = textwrap.dedent(
    """\
    import logging

    import numpy as np

    from geo_ip._util.parallel import run_chunks
    from geo_ip.network.betweenness import _source_counts

    logging.basicConfig(format="%(levelname)s %(message)s")
    print("top-level code ran")
    # the path 0 - 1 - 2 (lengths 1 and 2); the sources of each chunk; node 7 does not exist
    shared = (3, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 2.0]))
    chunks = [np.array([0]), np.array([7]), np.array([0, 1, 2])]
    for counts in run_chunks(_source_counts, shared, chunks, what="intermediação de teste"):
        print(None if counts is None else counts.tolist())
    """
)
EXPECTED = "top-level code ran\n[2.0, 1.0]\nNone\n[4.0, 4.0]\n"
"""The script's output: the top-level line once, then each chunk's counts, in order."""


def _check(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stderr
    assert run.stdout == EXPECTED
    warnings = [line for line in run.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, run.stderr
    assert warnings[0].startswith(
        "WARNING intermediação de teste: processo auxiliar 2 falhou: ValueError"
    )


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    script = tmp_path / "sem_guarda.py"
    script.write_text(SCRIPT, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    _check(run)


def test_code_given_to_python_c_runs_once(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    _check(run)


def test_code_piped_to_python_runs_once(tmp_path: Path) -> None:
    """As a notebook-like session: the code comes on the standard input."""
    run = subprocess.run(
        [sys.executable, "-"],
        input=SCRIPT, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    _check(run)


def test_run_chunks_keeps_order_and_survives_failures(caplog: pytest.LogCaptureFixture) -> None:
    shared = {"exponent": 3, "label": "comum"}
    # the second chunk raises, the fourth dies without a word
    chunks = [(2, ""), (3, "raise"), (4, ""), (5, "exit"), (6, "")]
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        results = run_chunks(parallel_jobs.power, shared, chunks, what="teste de pedaços")
    assert [r and r["value"] for r in results] == [8, None, 64, None, 216]
    done = [r for r in results if r is not None]
    assert {r["label"] for r in done} == {"comum"}
    pids = {r["pid"] for r in done}
    assert len(pids) == 3 and os.getpid() not in pids  # a worker of its own per chunk
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "teste de pedaços: processo auxiliar 2 falhou: ValueError: pedaço 3 falhou de propósito",
        "teste de pedaços: processo auxiliar 4 falhou: o processo terminou de repente (EXIT(3))",
    ]


def test_run_chunks_of_no_chunks() -> None:
    assert run_chunks(parallel_jobs.power, {}, [], what="nada") == []


def test_parts_of_a_generator_arrive_before_it_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker waits, after its first value, for a file written once that value is here."""
    running = start(
        parallel_jobs.countdown, str(tmp_path), [(3, ""), (3, "raise")], what="contagem"
    )
    parts = running.parts(0)
    first = next(parts)  # the generator cannot have ended: it waits for "go"
    assert first["left"] == 3 and first["pid"] != os.getpid()
    (tmp_path / "go").touch()
    assert [p["left"] for p in parts] == [2, 1]
    assert [p["left"] for p in running.parts(1)] == [3]  # it failed after the first
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        assert running.collect() == [3, None]  # a generator's result: how many values
    assert "contagem: processo auxiliar 2 falhou: ValueError: contagem interrompida" in caplog.text


def test_collect_makes_the_values_not_taken(tmp_path: Path) -> None:
    (tmp_path / "go").touch()
    running = start(parallel_jobs.countdown, str(tmp_path), [(2, ""), (4, "")], what="contagem")
    assert next(running.parts(1))["left"] == 4
    assert running.collect() == [2, 4]


def test_stopped_workers_are_gone(tmp_path: Path) -> None:
    running = start(parallel_jobs.countdown, str(tmp_path), [(2, "")], what="contagem")
    pid = next(running.parts())["pid"]  # the worker now waits for a "go" that never comes
    running.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert list(running.parts()) == []
    running.stop()  # twice: nothing more to do


def test_the_worker_finds_the_tests_package_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """loky hands the workers this process's ``sys.path``, not its working directory's."""
    monkeypatch.chdir(tmp_path)
    results = run_chunks(parallel_jobs.power, {"exponent": 2, "label": "x"}, [(5, "")], what="x")
    assert results[0] is not None and results[0]["value"] == 25


def test_limited_cores_caps_what_the_helpers_see() -> None:
    found = parallel.cores()
    with parallel.limited_cores(1):
        assert parallel.cores() == 1
        with parallel.limited_cores(None):  # no new limit: the outer one holds
            assert parallel.cores() == 1
        with parallel.limited_cores(found + 5):  # never more than the machine has
            assert parallel.cores() == found
        assert parallel.cores() == 1
    assert parallel.cores() == found


def test_a_worker_holding_memory_between_parts_is_not_recycled() -> None:
    """loky (with psutil) recycles a worker grown by 300 MB after a call: not ours."""
    pytest.importorskip("psutil", reason="sem psutil o loky não confere vazamentos")
    running = start(parallel_jobs.hold, 400, [10], what="teste")
    assert list(running.parts(0)) == [10, 11]
