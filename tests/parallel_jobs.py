"""Module-level functions for the tests of :mod:`geo_ip._util.parallel` (run in its workers).

The tests pass them to :func:`geo_ip._util.parallel.start` as functions: loky pickles them
by reference and its workers, which get the caller's ``sys.path``, import
``tests.parallel_jobs`` as pytest did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_WAIT_S = 120.0
"""How long :func:`countdown` waits for its go-ahead before giving up (a test gone wrong)."""


def power(shared: dict[str, Any], chunk: tuple[int, str]) -> dict[str, Any]:
    """``chunk = (value, action)``: the value to the shared exponent, or raise, or die."""
    value, action = chunk
    if action == "raise":
        raise ValueError(f"pedaço {value} falhou de propósito")
    if action == "exit":
        os._exit(3)  # the process dies without a traceback
    return {"value": value ** shared["exponent"], "label": shared["label"], "pid": os.getpid()}


def countdown(folder: str, chunk: tuple[int, str]) -> Iterator[dict[str, int]]:
    """Yield ``{"left": k}`` for k = start … 1; after the first, wait for ``folder/go``.

    ``"raise"`` raises after the first value. The wait (for a file the test writes once it
    holds the first value) shows that values arrive while the generator still runs.
    """
    start, action = chunk
    for left in range(start, 0, -1):
        yield {"left": left, "pid": os.getpid()}
        if action == "raise":
            raise ValueError("contagem interrompida de propósito")
        began = time.monotonic()
        while not (Path(folder) / "go").exists():
            if time.monotonic() - began > _WAIT_S:
                raise TimeoutError("o teste não deu a partida")
            time.sleep(0.01)


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


def hold(megabytes: int, chunk: int) -> Iterator[int]:
    """Yield ``chunk``, then, still holding ``megabytes`` of memory, ``chunk + 1``."""
    held = bytearray(megabytes * 1024 * 1024)
    held[::4096] = b"x" * len(held[::4096])  # touched: resident, not only reserved
    time.sleep(1.2)  # loky looks at a worker's memory at most once a second
    yield chunk
    yield chunk + len(held) // (megabytes * 1024 * 1024)
