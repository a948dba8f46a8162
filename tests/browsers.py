"""The tests' real browser: Debian's Chromium, driven by Playwright (no downloaded browser).

``CHROMIUM`` and ``ARGS`` launch it offline and quiet; :func:`playwright_or_skip` skips a
whole module with a clear reason when Playwright or Chromium is missing; the ``browser``
fixture of ``tests/conftest.py`` launches it once per module.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = Path(os.environ.get("GEO_IP_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium (``apt-get install -y chromium``); ``GEO_IP_CHROMIUM`` overrides it."""
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Headless, as root, and without the background connections a closed network refuses."""
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
"""A 1×1 transparent PNG, served for every OpenStreetMap tile (there is no internet)."""


def playwright_or_skip() -> ModuleType:
    """Return ``playwright.sync_api``, or skip the calling module with the reason.

    Returns
    -------
    module
        ``playwright.sync_api``.
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright ausente: pip install playwright (sem 'playwright install': "
        "os testes usam o Chromium do Debian)",
    )
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Chromium não encontrado em {CHROMIUM}: apt-get install -y chromium chromium-driver",
            allow_module_level=True,
        )
    return sync_api
