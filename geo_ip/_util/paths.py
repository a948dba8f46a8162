"""Locate the data folders shipped with geo_ip (``layers/``, ``maps/``, ``data/``).

In a source checkout (``pip install -e``) they live at the repository root; in a
wheel they are copied into ``geo_ip/_resources/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def resource_dir(name: str) -> Path:
    """Return the folder ``name`` (``"layers"``, ``"maps"`` or ``"data"``).

    Parameters
    ----------
    name : str
        Top-level resource folder name.

    Returns
    -------
    Path
        The existing folder, looked up first inside the installed package and
        then at the repository root.
    """
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pasta de recursos '{name}' não encontrada junto ao geo_ip")
