"""Module-level functions for the tests of :mod:`geo_ip._util.parallel` (run in its workers).

The workers are fresh ``python -m geo_ip._util.parallel`` processes started in the caller's
working directory, which ``-m`` puts first on ``sys.path``: with the project root as the
working directory (as pytest runs it) they import ``tests.parallel_jobs``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any


def power(shared: dict[str, Any], chunk: tuple[int, float, str]) -> dict[str, Any]:
    """``chunk = (value, seconds, action)``: sleep, then square, raise or die."""
    value, seconds, action = chunk
    time.sleep(seconds)
    if action == "raise":
        raise ValueError(f"pedaço {value} falhou de propósito")
    if action == "exit":
        os._exit(3)  # the process dies without a traceback
    return {
        "value": value ** shared["exponent"],
        "label": shared["label"],
        "pid": os.getpid(),
        "path0": sys.path[0],
    }


def countdown(shared: int, chunk: tuple[int, str]) -> Iterator[dict[str, int]]:
    """Yield ``{"left": k}`` for k = start … 1, ``shared`` s apart; ``"raise"`` after one."""
    start, action = chunk
    for left in range(start, 0, -1):
        yield {"left": left, "pid": os.getpid()}
        if action == "raise":
            raise ValueError("contagem interrompida de propósito")
        time.sleep(shared)


def roads_then_fail(roads: Any, job: tuple[Any, int]) -> Iterator[Any]:
    """The territory's road helper that dies after handing over the roads."""
    from geo_ip.sources.osm_arrays import read_job

    path, _sample = job
    yield read_job(roads, path)
    os._exit(9)  # killed before the betweenness (out of memory, say)


def fail_at_once(roads: Any, job: tuple[Any, int]) -> Iterator[Any]:
    """The territory's road helper that dies before it reads anything."""
    os._exit(9)
    yield  # a generator, as the real job is
