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
