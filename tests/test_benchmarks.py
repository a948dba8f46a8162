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
        {"escala": "sintetico_1m", "etapa": "territorio_osm", "pedidos": None, "tempo_s": 59.0,
         "pico_mb": 2000.0, "soma_mb": 3000.0},
    ]  # fmt: skip
    assert _targets(rows) == [
        "100.000 pedidos em ~1M (pico somado, saídas incluídas): 4200.00 MB (meta ≤ 4096 MB)"
        " — NÃO atingida",
        "território do OSM, ~1M arestas: 59.00 s (meta ≤ 60 s) — atingida",
        "território do OSM, ~1M (pico somado): 3000.00 MB (meta ≤ 3072 MB) — atingida",
    ]
