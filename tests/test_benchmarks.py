"""The benchmark harness's own measures (benchmarks/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks.stages import _tree_rss_mb, _TreePeak


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lê /proc (Linux)")
def test_tree_memory_adds_the_helpers() -> None:
    alone = _tree_rss_mb(os.getpid())
    # a child holding 300 MB of touched memory, then waiting
    code = "b = bytearray(300 * 2**20); import sys; sys.stdout.write('ok\\n'); sys.stdout.flush()"
    code += "; import time; time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "ok\n"
            with _TreePeak() as tree:
                time.sleep(0.5)
            together = _tree_rss_mb(os.getpid())
        finally:
            child.kill()
    assert together - alone > 290  # the child's 300 MB counted with this process
    assert tree.peak > alone + 290
    assert _tree_rss_mb(2**22 + 12345) == 0.0  # no such process


def test_memory_targets_are_checked_on_the_summed_peak() -> None:
    from benchmarks.__main__ import _targets

    rows = [
        {"escala": "sintetico_1m", "etapa": "assess", "pedidos": 100_000, "tempo_s": 20.0,
         "pico_mb": 3000.0, "soma_mb": 4200.0},
        {"escala": "sintetico_1m", "etapa": "trabalho", "pedidos": 100_000, "tempo_s": 58.5,
         "pico_mb": 4200.0},
        {"escala": "sintetico_1m", "etapa": "territorio_osm", "pedidos": None, "tempo_s": 31.0,
         "pico_mb": 1500.0, "soma_mb": 2000.0},
    ]  # fmt: skip
    assert _targets(rows) == [
        "trabalho completo, 100.000 em ~1M: 58.50 s (meta ≤ 60 s) — atingida",
        "100.000 pedidos em ~1M (pico somado, saídas incluídas): 4200.00 MB (meta ≤ 4096 MB)"
        " — NÃO atingida",
        "território do OSM, ~1M arestas: 31.00 s (meta ≤ 30 s) — NÃO atingida",
        "território do OSM, ~1M (pico somado): 2000.00 MB (meta ≤ 2048 MB) — atingida",
    ]


def test_whole_job_row_sums_assess_and_writing() -> None:
    from benchmarks.__main__ import Job, _rows

    def run(assess: float, job: float, peak: float) -> dict[str, object]:
        steps = {"gpkg": {"seconds": 1.0, "peak_mb": 900.0},
                 "tabelas": {"seconds": 2.0, "peak_mb": 950.0}}  # fmt: skip
        return {"seconds": assess, "peak_mb": 800.0, "soma_mb": peak, "trabalho_s": job,
                "steps": steps}  # fmt: skip

    job = Job("assess", "assess", {"n": 10_000})
    rows = _rows("sintetico_200k", job, [run(3.0, 6.0, 1200.0), run(4.0, 9.0, 1000.0),
                                         run(3.5, 7.0, 1100.0)])  # fmt: skip

    assert [r["etapa"] for r in rows] == ["assess", "gpkg", "tabelas", "trabalho"]
    whole = rows[-1]
    assert (whole["tempo_s"], whole["pico_mb"], whole["pedidos"]) == (7.0, 1100.0, 10_000)
    assert rows[0]["tempo_s"] == 3.5
