"""Progress of the slow steps of ``write_outputs`` (issue 21, item 11): maps and sheets.

The demo has 41 requests, 37 of them located: the maps' step counts the offline
background, the overview and 37 request maps (39), the sheets' step one sheet per
request (41). Every call is made in the calling process, in order, whichever process
drew the piece: the helpers' shares are counted as their results arrive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_ip.outputs.files import MAPS_STEP, SHEETS_STEP, write_outputs
from geo_ip.outputs.sheets import sheets as sheets_mod
from geo_ip.outputs.web import webmap as webmap_mod
from geo_ip.pipeline import Assessment

MAPS = [("Mapas", done, 39) for done in range(1, 40)]
SHEETS = [("Fichas técnicas", done, 41) for done in range(1, 42)]


def test_step_names_are_portuguese() -> None:
    assert (MAPS_STEP, SHEETS_STEP) == ("Mapas", "Fichas técnicas")


def test_maps_then_sheets_counted_across_helper_processes(
    demo_assessment: Assessment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every map and sheet beyond the first share drawn by a helper process
    for module in (webmap_mod, sheets_mod):
        monkeypatch.setattr(module, "PARALLEL_ABOVE", 0)
        monkeypatch.setattr(module, "cores", lambda: 2)
    calls: list[tuple[str, int, int]] = []
    out = tmp_path / "avaliacao"
    files = write_outputs(
        demo_assessment, out, progress=lambda step, done, total: calls.append((step, done, total))
    )
    assert calls == MAPS + SHEETS
    assert len(list((out / "mapas").glob("*.html"))) == 37 == 39 - 2
    assert len(list((out / "fichas").glob("*.pdf"))) == 41 + 1  # and todas.pdf
    assert out / "mapa.html" in files


def test_maps_alone_in_this_process(demo_assessment: Assessment, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    written = webmap_mod.write_maps(
        demo_assessment, tmp_path, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(done, total) for _step, done, total in MAPS]
    assert len(written) == 1 + 37  # the overview and the request maps


def test_no_step_no_report(demo_assessment: Assessment, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    write_outputs(
        demo_assessment,
        tmp_path / "avaliacao",
        maps=False,
        sheets=False,
        progress=lambda step, done, total: calls.append((step, done, total)),
    )
    assert calls == []
