"""Run a function on chunks of work in fresh Python processes (both cores of a laptop).

:func:`run_chunks` starts one ``python -m geo_ip._util.parallel`` per chunk: the function
(named by its dotted path), the data shared by every chunk and the chunk itself go
through a pickle file, and the results come back the same way. A fresh interpreter
never re-runs the caller's script (``multiprocessing``'s ``spawn`` imports
``__main__`` again, ``fork`` copies the threads' locks), so this works from the
command line, from a script without ``if __name__ == "__main__"``, from a notebook
and under pytest alike. A chunk whose process fails comes back as ``None`` with the
reason logged: the caller redoes it (or reports it) without losing the others.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["PARALLEL_ABOVE", "Running", "cores", "run_chunks", "start"]

PARALLEL_ABOVE = 50
"""Request maps and sheets are drawn on every core above this many requests; below,
starting the helper processes (a second or two each) costs more than it saves."""
_POLL_S = 0.02
"""How often :meth:`Running.parts` looks for the next value of a worker's generator."""


def cores() -> int:
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _function(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


class Running:
    """Chunks of work started by :func:`start`; :meth:`collect` waits for their results."""

    def __init__(self, function: str, shared: Any, chunks: Sequence[Any], what: str) -> None:
        self.what = what
        self._tmp = tempfile.TemporaryDirectory(prefix="geo_ip_par_")
        folder = Path(self._tmp.name)
        common = folder / "shared.pkl"
        with common.open("wb") as fh:
            pickle.dump(shared, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._procs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
        for i, chunk in enumerate(chunks):
            task, out, err = (folder / f"{k}{i}.pkl" for k in ("task", "result", "stderr"))
            with task.open("wb") as fh:
                pickle.dump((function, chunk), fh, protocol=pickle.HIGHEST_PROTOCOL)
            cmd = [sys.executable, "-m", "geo_ip._util.parallel", str(common), str(task), str(out)]
            with err.open("wb") as fh:
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh)
            self._procs.append((proc, out, err))

    def collect(self) -> list[Any | None]:
        """Wait for every chunk: its result, or ``None`` (logged) when its process failed."""
        results: list[Any | None] = []
        try:
            for i, (proc, out, err) in enumerate(self._procs):
                code = proc.wait()
                if code == 0 and out.is_file():
                    with out.open("rb") as fh:
                        results.append(pickle.load(fh))
                    continue
                detail = err.read_text(errors="replace").strip() if err.is_file() else ""
                log.warning(
                    "%s: processo auxiliar %d falhou (código %s): %s",
                    self.what,
                    i + 1,
                    code,
                    detail.splitlines()[-1] if detail else "sem mensagem",
                )
                results.append(None)
        finally:
            for proc, _out, _err in self._procs:
                if proc.poll() is None:  # pragma: no cover - only on an error above
                    proc.kill()
                    proc.wait()
            self._tmp.cleanup()
        return results

    def parts(self, index: int = 0) -> Iterator[Any]:
        """Yield, as soon as each is written, the values chunk ``index``'s generator yields.

        For a function that is a generator (see :func:`start`): the caller uses the
        first values while the worker goes on to the next. It ends when the worker
        ends; if the worker failed, the values it did not reach are missing and
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
        proc, out, _err = self._procs[index]
        number = 0
        while True:
            part = _part_path(out, number)
            if part.is_file():
                with part.open("rb") as fh:
                    value = pickle.load(fh)
                part.unlink()
                number += 1
                yield value
            elif proc.poll() is not None and not part.is_file():
                return
            else:
                time.sleep(_POLL_S)

    def stop(self) -> None:
        """Stop every chunk still running and drop the results (no longer wanted)."""
        for proc, _out, _err in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._tmp.cleanup()


def start(function: str, shared: Any, chunks: Sequence[Any], *, what: str) -> Running:
    """Start ``function(shared, chunk)`` for every chunk, each in its own process.

    Parameters
    ----------
    function : str
        Dotted path of a module-level function, e.g. ``"geo_ip.outputs.web.webmap._map_chunk"``.
    shared : object
        Picklable data every call receives (written once).
    chunks : sequence
        Picklable pieces of work; one process each (give as many as there are cores).
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


def run_chunks(function: str, shared: Any, chunks: Sequence[Any], *, what: str) -> list[Any | None]:
    """Run ``function(shared, chunk)`` for every chunk at once and wait (see :func:`start`).

    Parameters
    ----------
    function : str
        Dotted path of a module-level function.
    shared : object
        Picklable data every call receives.
    chunks : sequence
        Picklable pieces of work; one process each.
    what : str
        Portuguese name of the work, for the log.

    Returns
    -------
    list
        The result of each chunk, in order; ``None`` for a chunk whose process failed.
    """
    return start(function, shared, chunks, what=what).collect()


def _part_path(out: Path, number: int) -> Path:
    """Where a worker writes the ``number``-th value its generator yields."""
    return out.with_name(f"{out.stem}.{number}.pkl")


def _dump(value: Any, path: Path) -> None:
    """Pickle ``value`` to ``path``, which appears only once complete."""
    partial = path.with_suffix(".part")
    with partial.open("wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)


def _main(argv: list[str]) -> int:
    """Worker: load the shared data and the task, call the function, write the result.

    When the function is a generator, each value it yields is written as it comes
    (:meth:`Running.parts` reads them meanwhile) and the result is their number.
    """
    common, task, out = (Path(a) for a in argv)
    with common.open("rb") as fh:
        shared = pickle.load(fh)
    with task.open("rb") as fh:
        function, chunk = pickle.load(fh)
    result = _function(function)(shared, chunk)
    if inspect.isgenerator(result):
        count = 0
        for value in result:
            _dump(value, _part_path(out, count))
            del value  # written: the generator may free it before the next one
            count += 1
        result = count
    _dump(result, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
