"""Run a function on chunks of work in helper processes (both cores of a laptop), with loky.

:func:`start` gives every chunk its own :class:`loky.ProcessPoolExecutor` of one worker:
the data shared by every chunk is handed to each worker once, through the executor's
``initializer`` (pickled straight into the worker, which keeps only the object, not its
bytes); the chunk goes with the call. Callers pass
the function itself (a module-level function of an importable module, pickled by
reference). loky starts its workers as fresh interpreters that do not import the
caller's ``__main__`` again (``multiprocessing``'s ``spawn`` does, ``fork`` copies the
threads' locks), so this works from the command line, from a script without
``if __name__ == "__main__"``, from a notebook or ``python -c`` and under pytest
(xdist workers too) alike.

A chunk whose worker fails, by an exception or by dying, comes back as ``None`` with
the reason logged: the caller redoes it (or reports it) without losing the others,
which run in executors of their own. When the function is a generator, its worker
keeps it and :meth:`Running.parts` asks it for one value after the other, each
asked for as soon as the previous one arrives: the caller uses a value while the
worker makes the next.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from loky import BrokenProcessPool, ProcessPoolExecutor

log = logging.getLogger(__name__)

__all__ = ["PARALLEL_ABOVE", "Running", "cores", "limited_cores", "run_chunks", "start"]

PARALLEL_ABOVE = 50
"""Request maps and sheets are drawn on every core above this many requests; below,
starting the helper processes (a second or two each) costs more than it saves."""

_WORKER: dict[str, Any] = {}
"""In a worker: the shared data (``"shared"``) and the generator being read (``"parts"``)."""


_LIMIT: list[int] = []
"""Limits set by :func:`limited_cores` (innermost last)."""


def cores() -> int:
    """Return the number of cores this process may use (at most :func:`limited_cores`'s)."""
    try:
        found = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        found = os.cpu_count() or 1
    return max(1, min(found, _LIMIT[-1])) if _LIMIT else found


@contextmanager
def limited_cores(limit: int | None) -> Iterator[None]:
    """Use at most ``limit`` cores in the block (helper processes and threads).

    A Dask worker of one thread runs one municipality at a time: its work stays on one
    core, and the cluster's other workers use the others.

    Parameters
    ----------
    limit : int or None
        Cores allowed (None: no limit).

    Yields
    ------
    None
    """
    if limit is None:
        yield
        return
    _LIMIT.append(max(1, int(limit)))
    try:
        yield
    finally:
        _LIMIT.pop()


class _Parts:
    """What a worker answers when the function returned a generator (it keeps it)."""


def _initialize(shared: Any) -> None:
    """Worker start: keep the data every call receives (unpickled once, by loky).

    Also lifts loky's leak check in this worker. With psutil installed (Dask brings it),
    a loky worker whose memory grew by more than 300 MB since its first call takes
    itself for leaking and exits after the call. These workers hold memory between
    calls on purpose: a generator's state (:func:`_call`), e.g. the road graph of a
    territory's helper (a gigabyte at a million edges) between handing it over and
    computing its betweenness; the next call met a fresh worker without it.
    """
    _WORKER["shared"] = shared
    from loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = sys.maxsize


def _call(function: Callable[[Any, Any], Any], chunk: Any) -> Any:
    """Worker: ``function(shared, chunk)``; a generator is kept for :func:`_next_part`."""
    result = function(_WORKER["shared"], chunk)
    if inspect.isgenerator(result):
        _WORKER["parts"] = result
        return _Parts()
    return result


def _next_part() -> tuple[bool, Any]:
    """Worker: ``(True, value)``, the kept generator's next value; ``(False, None)`` at its end."""
    try:
        return True, next(_WORKER["parts"])
    except StopIteration:
        del _WORKER["parts"]
        return False, None


def _reason(exc: BaseException) -> str:
    """One line saying why a chunk failed, e.g. ``ValueError: message``."""
    if isinstance(exc, BrokenProcessPool):  # the worker died (killed, out of memory, ...)
        codes = re.search(r"exit codes of the workers are \{(.*)\}", str(exc))
        return "o processo terminou de repente" + (f" ({codes.group(1)})" if codes else "")
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__


class Running:
    """Chunks of work started by :func:`start`; :meth:`collect` waits for their results."""

    def __init__(
        self, function: Callable[[Any, Any], Any], shared: Any, chunks: Sequence[Any], what: str
    ) -> None:
        self.what = what
        self._executors: list[ProcessPoolExecutor] = []
        self._pending: list[Future[Any] | None] = []  # the call, or a generator's next value
        self._counts: list[int | None] = []  # values handed over, for a generator
        self._results: list[Any] = []
        self._failures: list[BaseException | None] = []
        # each worker is started and handed its call by a thread of its own: handing
        # over the shared data waits for the worker's interpreter to read it, imports
        # and all (seconds), while this process goes on with its own work
        self._launchers: list[threading.Thread] = []
        try:
            for index, chunk in enumerate(chunks):
                executor = ProcessPoolExecutor(
                    max_workers=1, initializer=_initialize, initargs=(shared,)
                )
                self._executors.append(executor)
                self._pending.append(None)
                self._counts.append(None)
                self._results.append(None)
                self._failures.append(None)
                launcher = threading.Thread(
                    target=self._launch,
                    args=(index, function, chunk),
                    name=f"geo_ip-start-{index + 1}",
                    daemon=True,
                )
                self._launchers.append(launcher)
                launcher.start()
        except BaseException:
            self.stop()
            raise

    def _launch(self, index: int, function: Callable[[Any, Any], Any], chunk: Any) -> None:
        """Thread: start worker ``index`` and hand it its call (a failure is kept)."""
        try:
            self._pending[index] = self._executors[index].submit(_call, function, chunk)
        except BaseException as exc:  # reported by collect(), as any failure of a worker
            self._failures[index] = exc

    def _launched(self) -> None:
        """Wait until every worker has its call (or failed to get it)."""
        for launcher in self._launchers:
            launcher.join()

    def _advance(self, index: int) -> tuple[bool, Any]:
        """Wait for chunk ``index``: ``(True, value)``, a generator's next value, or the end.

        At the end, ``(False, None)``: the chunk's result or failure is kept for
        :meth:`collect`.
        """
        self._launched()
        future = self._pending[index]
        if future is None:
            return False, None
        try:
            answer = future.result()
            if isinstance(answer, _Parts):  # a generator: ask for its first value
                self._counts[index] = 0
                self._pending[index] = self._executors[index].submit(_next_part)
                return self._advance(index)
            count = self._counts[index]
            if count is None:
                self._pending[index] = None
                self._results[index] = answer
                return False, None
            more, value = answer
            if not more:
                self._pending[index] = None
                self._results[index] = count
                return False, None
            self._counts[index] = count + 1
            # the worker makes the next value while the caller uses this one
            self._pending[index] = self._executors[index].submit(_next_part)
        except Exception as exc:  # raised in the worker, or the worker died
            self._pending[index] = None
            self._failures[index] = exc
            return False, None
        return True, value

    def collect(self) -> list[Any | None]:
        """Wait for every chunk: its result, or ``None`` (logged) when its worker failed.

        Call it once, after the :meth:`parts` wanted: a generator's values not taken
        yet are made and dropped. The workers end here.

        Returns
        -------
        list
            The result of each chunk, in order (a generator's: how many values it
            yielded); ``None`` for a chunk whose worker failed.
        """
        try:
            for index in range(len(self._executors)):
                while self._advance(index)[0]:
                    pass
        finally:
            for executor in self._executors:
                executor.shutdown(wait=True)
        results: list[Any | None] = []
        for index, failure in enumerate(self._failures):
            if failure is None:
                results.append(self._results[index])
                continue
            log.warning(
                "%s: processo auxiliar %d falhou: %s", self.what, index + 1, _reason(failure)
            )
            results.append(None)
        return results

    def parts(self, index: int = 0) -> Iterator[Any]:
        """Yield, as soon as each arrives, the values chunk ``index``'s generator yields.

        For a function that is a generator (see :func:`start`): the caller uses a
        value while the worker goes on to the next. It ends when the generator ends;
        if the worker failed, the values it did not reach are missing and
        :meth:`collect` (still to be called, for the cleanup) logs why.

        Parameters
        ----------
        index : int, default 0
            The chunk.

        Yields
        ------
        object
            Each value, in the order yielded.
        """
        while True:
            more, value = self._advance(index)
            if not more:
                return
            yield value

    def stop(self) -> None:
        """Kill every worker still running and drop the results (no longer wanted)."""
        self._launched()  # a worker still starting would be missed by the kill
        for executor in self._executors:
            executor.shutdown(wait=True, kill_workers=True)
        self._pending = [None] * len(self._pending)


def start(
    function: Callable[[Any, Any], Any], shared: Any, chunks: Sequence[Any], *, what: str
) -> Running:
    """Start ``function(shared, chunk)`` for every chunk, each in a worker process of its own.

    Parameters
    ----------
    function : callable
        A module-level function of an importable module (pickled by reference),
        e.g. :func:`geo_ip.outputs.web.webmap._maps_chunk`.
    shared : object
        Picklable data every call receives (sent once to each worker).
    chunks : sequence
        Picklable pieces of work; one worker each (give as many as there are cores).
    what : str
        Portuguese name of the work, for the log.

    Returns
    -------
    Running
        Call :meth:`Running.collect` for the results, in chunk order. When the
        function is a generator, :meth:`Running.parts` yields its values as they come
        and the chunk's result is how many there were.
    """
    return Running(function, shared, chunks, what)


def run_chunks(
    function: Callable[[Any, Any], Any], shared: Any, chunks: Sequence[Any], *, what: str
) -> list[Any | None]:
    """Run ``function(shared, chunk)`` for every chunk at once and wait (see :func:`start`).

    Parameters
    ----------
    function : callable
        A module-level function of an importable module.
    shared : object
        Picklable data every call receives.
    chunks : sequence
        Picklable pieces of work; one worker each.
    what : str
        Portuguese name of the work, for the log.

    Returns
    -------
    list
        The result of each chunk, in order; ``None`` for a chunk whose worker failed.
    """
    return start(function, shared, chunks, what=what).collect()
