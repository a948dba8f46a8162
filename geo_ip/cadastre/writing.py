"""What the cadastre package and the cadastre audit write alike (private).

Both write a whole folder through :func:`geo_ip._util.atomic.write_staged` (all files or
none), each file through :func:`geo_ip._util.atomic.atomic_path`, with the provenance
as ``proveniencia.json`` and as the ``metadados`` table of their GeoPackage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geo_ip._util.atomic import atomic_path, write_staged

__all__ = ["metadata_table", "provenance_json", "write_atomically"]


def metadata_table(provenance: Mapping[str, Any]) -> pd.DataFrame:
    """Return the provenance as a ``metadados`` table: ``chave`` and ``valor`` (JSON text).

    Parameters
    ----------
    provenance : mapping
        The provenance record.

    Returns
    -------
    pandas.DataFrame
        One row per key, in the record's order.
    """
    return pd.DataFrame(
        [
            {"chave": k, "valor": json.dumps(v, ensure_ascii=False, default=str)}
            for k, v in provenance.items()
        ]
    )


def provenance_json(provenance: Mapping[str, Any]) -> Callable[[Path], object]:
    """Return the writer of ``proveniencia.json`` (indented, accents kept) of a record."""
    text = json.dumps(provenance, ensure_ascii=False, indent=1, default=str)
    return lambda path: path.write_text(text, encoding="utf-8")


def write_atomically(out_dir: Path, files: Mapping[str, Callable[[Path], object]]) -> list[Path]:
    """Write a whole output folder, all files or none, each file through a temporary path.

    Parameters
    ----------
    out_dir : Path
        The output folder (created when missing).
    files : mapping of str to callable
        File name → function writing the file at the (temporary) path it is given.

    Returns
    -------
    list of Path
        The files written, in the order of ``files``.

    Raises
    ------
    InputFileError
        When a file cannot be written.
    """

    def atomic(write: Callable[[Path], object]) -> Callable[[Path], None]:
        def to(path: Path) -> None:
            with atomic_path(path) as tmp:
                write(tmp)

        return to

    # all files or none: never a mix of two runs
    return write_staged(out_dir, {name: atomic(write) for name, write in files.items()})
