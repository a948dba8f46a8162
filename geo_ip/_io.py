"""Atomic output files: write to a temporary name beside the target, then move into place.

:func:`atomic_path` does it for one file; :func:`staged_dir` for a whole output folder
(``geo-ip assess``, ``cadastre``, ``cip``): every file is first written into a hidden
folder inside the output folder and moved into place only when all of them were
written, so an interrupted run leaves the previous results as they were — never a
mix of files from two runs. :func:`release_freed_memory` runs before an assessment's
outputs are written.
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from geo_ip.errors import InputFileError

__all__ = [
    "STAGING_PREFIX",
    "atomic_path",
    "cannot_write",
    "release_freed_memory",
    "staged_dir",
    "write_staged",
]

STAGING_PREFIX = ".geo_ip-"
"""Prefix of the temporary names (hidden files and folders, removed on any failure)."""


def release_freed_memory() -> None:
    """Give the memory Python has freed back to the operating system.

    glibc keeps freed heap memory for reuse: after assessing 100,000 requests on a
    state-sized territory the process still holds some 1.5 GB that the network and
    the surroundings used, while the output step (and the workbook's helper process
    beside it) needs memory of its own. ``malloc_trim`` returns it; where it does not
    exist (not glibc) nothing happens.
    """
    gc.collect()
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def cannot_write(exc: OSError, path: Path) -> InputFileError:
    """Return the error naming ``path`` for an ``OSError`` raised while writing it.

    Parameters
    ----------
    exc : OSError
        The error of the writer.
    path : Path
        The file as the user knows it (not its temporary name).

    Returns
    -------
    InputFileError
        To raise ``from exc``.
    """
    return InputFileError(f"não foi possível gravar o arquivo ({exc.strerror or exc})", path=path)


@contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success move it onto ``out``.

    The temporary file does not exist when yielded (drivers such as GDAL's want to
    create it). On any exception it is removed and ``out`` is left untouched, so an
    interrupted run never leaves a half-written file nor spoils the previous one.

    Parameters
    ----------
    out : Path
        Final path; its folder is created if needed.

    Yields
    ------
    Path
        Where to write.

    Raises
    ------
    InputFileError
        When the folder cannot be created or written (e.g. ``out`` lies under a file).
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{out.name}.", suffix=f".tmp{out.suffix}", dir=out.parent
        )
    except OSError as exc:
        raise cannot_write(exc, out) from exc
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a hidden staging folder inside ``out_dir``; on success move its content there.

    Files written into the staging folder replace those of the same name in
    ``out_dir``; a subfolder (``mapas/``, ``fichas/``...) replaces the subfolder of the
    same name as a whole. Files of ``out_dir`` that the run does not write are kept.
    On any exception the staging folder is removed and ``out_dir`` is left untouched.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if needed.

    Yields
    ------
    Path
        The folder to write into (same layout as ``out_dir``).

    Raises
    ------
    InputFileError
        When the folder cannot be created or the files cannot be moved into place.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=".tmp", dir=out_dir))
    except OSError as exc:
        message = f"não foi possível criar a pasta de saída ({exc.strerror or exc})"
        raise InputFileError(message, path=out_dir) from exc
    try:
        yield stage
        old = stage / f"{STAGING_PREFIX}anteriores"
        for entry in sorted(stage.iterdir()):
            if entry == old:
                continue
            target = out_dir / entry.name
            try:
                if entry.is_dir() and target.is_dir():
                    old.mkdir(exist_ok=True)
                    os.replace(target, old / entry.name)  # removed with the staging folder
                os.replace(entry, target)
            except OSError as exc:
                raise cannot_write(exc, target) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_staged(out_dir: Path, files: Mapping[str, Callable[[Path], object]]) -> list[Path]:
    """Write a whole output folder through :func:`staged_dir`: all files or none.

    Parameters
    ----------
    out_dir : Path
        The output folder.
    files : mapping of str to callable
        File name → function writing that file at the path it is given (inside the
        staging folder), in writing order.

    Returns
    -------
    list of Path
        The files written, under ``out_dir``, in the order of ``files``.

    Raises
    ------
    InputFileError
        When a file cannot be written (naming it as it would be in ``out_dir``).
    """
    written = []
    with staged_dir(out_dir) as stage:
        for name, write in files.items():
            try:
                write(stage / name)
            except OSError as exc:
                raise cannot_write(exc, out_dir / name) from exc
            written.append(out_dir / name)
    return written
