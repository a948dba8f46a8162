"""Shared fixtures: paths to the real data in ../shared/data and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
POA = SHARED_DATA / "poa"
BDGD_ZIP = SHARED_DATA / "bdgd" / "Mux_Energia_401_2024-12-31_V11_20250806-1857.gdb.zip"
DEMO = ROOT / "data" / "demo"


def require(path: Path) -> Path:
    """Skip the calling test when a real-data file is absent."""
    if not path.exists():
        pytest.skip(f"dados reais ausentes: {path} (veja ../shared/data/README.md)")
    return path
