"""Atomic output files: write to a temporary name beside the target, then move into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".tmp{out.suffix}", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
