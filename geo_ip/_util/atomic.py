"""Atomic output files: write to a temporary name beside the target, then move into place.

:func:`atomic_path` does it for one file; :func:`staged_dir` for a whole output folder
(``geo-ip avaliar``, ``cadastre``, ``cip``): the new folder is written whole as a
sibling of the output folder (``<saída>.geo_ip-novo-<pid>``, never inside it) and
swapped with it in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two
renames, repaired by the next run), so an interrupted run leaves either the previous
results or the new ones — never a mix of files from two runs — and nothing internal
is ever written under a folder the municipality may publish. :func:`repair_output_dir`
removes what earlier interrupted runs left. :func:`release_freed_memory` runs before
an assessment's outputs are written.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import re
import shutil
import sys
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
    "repair_output_dir",
    "staged_dir",
    "write_staged",
]

STAGING_PREFIX = ".geo_ip-"
"""Mark of every temporary name (files and sibling folders, removed on any failure).

A temporary file is ``.<arquivo>.geo_ip-<pid>-<aleatório>.tmp<sufixo>`` beside its
target; the staging folder of an output folder ``<saída>`` is its sibling
``<saída>.geo_ip-novo-<pid>`` and, while the old results are being swapped out without
``RENAME_EXCHANGE``, ``<saída>.geo_ip-anterior-<pid>``. Earlier versions staged inside
the output folder (``<saída>/.geo_ip-*.tmp/``, ``.geo_ip-anteriores/``): those are
removed too. The ``pid`` lets a run tell what a dead run left from what a running one
is writing.
"""

NEW = "novo"
"""Kind of the sibling that holds the new results being written."""

OLD = "anterior"
"""Kind of the sibling that holds the old results while they are swapped out."""

_RENAME_EXCHANGE = 2  # linux/fs.h
_TEMPORARY_FILE = re.compile(r"\..+" + re.escape(STAGING_PREFIX) + r"(\d+)-.+\.tmp.*")
"""Name of :func:`atomic_path`'s temporary files; the group is the writer's ``pid``."""
_swept: set[Path] = set()  # folders already cleaned of dead runs' temporary files


def release_freed_memory(*, collect: bool = True) -> None:
    """Give the memory Python has freed back to the operating system.

    glibc keeps freed heap memory for reuse: after assessing 100,000 requests on a
    state-sized territory the process still holds some 1.5 GB that the network and
    the surroundings used, while the output step (and the workbook's helper process
    beside it) needs memory of its own. ``malloc_trim`` returns it; where it does not
    exist (not glibc) nothing happens.

    Parameters
    ----------
    collect : bool, default True
        First free the objects only the garbage collector finds (reference cycles):
        a whole pass over a large heap takes a tenth of a second or more, so between
        the files of one step the trim alone is enough.
    """
    if collect:
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


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


def _remove(path: Path) -> None:
    """Remove a file or a folder tree (a symbolic link itself, not its target)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sweep_temporary_files(folder: Path) -> None:
    """Remove the temporary files that dead runs of :func:`atomic_path` left in ``folder``."""
    if folder in _swept:
        return
    _swept.add(folder)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = _TEMPORARY_FILE.fullmatch(entry.name)
        if found and not _alive(int(found.group(1))):
            _remove(Path(entry.path))


@contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success move it onto ``out``.

    The temporary file does not exist when yielded (drivers such as GDAL's want to
    create it). On any exception it is removed and ``out`` is left untouched, so an
    interrupted run never leaves a half-written file nor spoils the previous one.
    Temporary files that killed runs left beside ``out`` are removed first.

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
        _sweep_temporary_files(out.parent)
        fd, name = tempfile.mkstemp(
            prefix=f".{out.name}{STAGING_PREFIX}{os.getpid()}-",
            suffix=f".tmp{out.suffix}",
            dir=out.parent,
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


def _sibling(out_dir: Path, kind: str, pid: int | None = None) -> Path:
    """``<saída>.geo_ip-<kind>-<pid>``, beside ``out_dir`` (same file system)."""
    return out_dir.with_name(f"{out_dir.name}{STAGING_PREFIX}{kind}-{pid or os.getpid()}")


def _real(out_dir: Path) -> Path:
    """``out_dir`` with symbolic links resolved: a linked folder is swapped where it lies."""
    return Path(os.path.realpath(out_dir))


def repair_output_dir(out_dir: str | Path) -> None:
    """Undo what interrupted runs left around ``out_dir``, keeping whole results only.

    A run killed while its new results were being swapped in (without
    ``RENAME_EXCHANGE``) can leave the output folder missing and the previous results
    in ``<saída>.geo_ip-anterior-<pid>``: they are put back. Then every sibling of dead
    runs (``<saída>.geo_ip-novo-<pid>``, ``…-anterior-<pid>``) and the staging folders
    of earlier versions inside the output folder (``.geo_ip-*.tmp/``,
    ``.geo_ip-anteriores/``) are removed. Siblings of runs still running are left to
    them. Called by :func:`staged_dir`, and by ``geo-ip avaliar`` before it reads the
    LGPD key kept in the folder (so a key swapped out is never replaced by a new one).

    Parameters
    ----------
    out_dir : str or Path
        The output folder.

    Raises
    ------
    InputFileError
        When the previous results cannot be put back.
    """
    out_dir = _real(Path(out_dir))
    pattern = re.compile(re.escape(out_dir.name + STAGING_PREFIX) + f"({NEW}|{OLD})-" + r"(\d+)")
    try:
        siblings = sorted(out_dir.parent.iterdir())
    except OSError:
        return
    dead = []
    for entry in siblings:
        found = pattern.fullmatch(entry.name)
        if found and not _alive(int(found.group(2))):
            dead.append((found.group(1), entry))
    for kind, entry in dead:
        if kind == OLD and not os.path.lexists(out_dir):
            try:  # killed between the two renames: the old results are put back
                os.rename(entry, out_dir)
            except OSError as exc:
                message = (
                    f"não foi possível restaurar os resultados anteriores de '{entry}' "
                    f"({exc.strerror or exc})"
                )
                raise InputFileError(message, path=out_dir) from exc
    for _, entry in dead:
        if os.path.lexists(entry):
            _remove(entry)
    if out_dir.is_dir():
        _swept.discard(out_dir)
        _sweep_temporary_files(out_dir)
        for entry in out_dir.iterdir():
            if entry.name.startswith(STAGING_PREFIX):  # staged inside by earlier versions
                _remove(entry)


def _carry(src: str, dst: str) -> None:
    """Hard-link ``src`` at ``dst`` (same inode: the LGPD key is never copied), else copy."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _carry_over(out_dir: Path, stage: Path) -> None:
    """Put into ``stage`` what ``out_dir`` holds and the run did not write (``.chave_lgpd``)."""
    if not out_dir.is_dir():
        return
    for entry in sorted(out_dir.iterdir()):
        target = stage / entry.name
        temporary = entry.name.startswith(STAGING_PREFIX) or _TEMPORARY_FILE.fullmatch(entry.name)
        if temporary or os.path.lexists(target):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), target)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=_carry)
        else:
            _carry(str(entry), str(target))
    shutil.copystat(out_dir, stage)  # the folder's permissions, not the staging's 0700


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` in one step (Linux ``renameat2``); False where not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    sys.audit("geo_ip._util.atomic.exchange", str(a), str(b))
    at_cwd = -100  # AT_FDCWD
    done = renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # e.g. a file system without it
        return False
    raise OSError(code, os.strerror(code), str(b))


def _publish(stage: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``stage`` whole; the old results end up in ``stage``."""
    if not os.path.lexists(out_dir):
        os.rename(stage, out_dir)
        return
    if _exchange(stage, out_dir):
        return
    backup = _sibling(out_dir, OLD)  # a kill before the second rename: see repair_output_dir
    os.rename(out_dir, backup)
    try:
        os.rename(stage, out_dir)
    except BaseException:
        os.rename(backup, out_dir)
        raise
    os.rename(backup, stage)


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a staging folder beside ``out_dir``; on success swap it with ``out_dir`` whole.

    The staging folder is the sibling ``<saída>.geo_ip-novo-<pid>`` (same parent, so
    the swap is a rename on one file system), never a folder inside ``out_dir``. Files
    written into it replace those of the same name; a subfolder (``mapas/``,
    ``fichas/``...) replaces the subfolder of the same name as a whole. Entries of
    ``out_dir`` that the run does not write (the LGPD key ``.chave_lgpd``, a user's own
    files) are carried over by hard link before the swap. The swap exchanges the two
    folders in one step, so ``out_dir`` always holds either the old results or the new
    ones. On any exception the staging folder is removed and ``out_dir`` is left
    untouched; a run killed at any moment is repaired by the next one
    (:func:`repair_output_dir`).

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
        When the folder cannot be created, is a mount point (it cannot be renamed), or
        the results cannot be swapped in.
    """
    final = _real(out_dir)
    stage = _sibling(final, NEW)
    if os.path.ismount(final):  # cannot be renamed: refused before any work
        message = (
            "a pasta de saída é um ponto de montagem e não pode ser substituída de uma vez; "
            "use uma subpasta dela em --saida"
        )
        raise InputFileError(message, path=out_dir)
    try:
        if os.path.lexists(out_dir) and not out_dir.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        final.parent.mkdir(parents=True, exist_ok=True)
        repair_output_dir(final)
        _remove(stage)  # this process's own, from an attempt that could not clean up
        stage.mkdir(mode=0o700)
    except OSError as exc:
        message = f"não foi possível criar a pasta de saída ({exc.strerror or exc})"
        raise InputFileError(message, path=out_dir) from exc
    try:
        yield stage
        try:
            _carry_over(final, stage)
            _publish(stage, final)
        except OSError as exc:
            message = f"não foi possível substituir a pasta de saída ({exc.strerror or exc})"
            raise InputFileError(message, path=out_dir) from exc
    finally:
        _remove(stage)


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
