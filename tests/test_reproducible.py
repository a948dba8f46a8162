"""Reproducible results: the same inputs give the same outputs (GUIDE §4.10).

The demo is run twice through the command line — ``territory``, ``assess`` (occurrences,
decisions, history, budget, CIP), ``cadastre`` and ``cip`` — once in this process and once
in a fresh interpreter with another ``PYTHONHASHSEED`` (so any order that depends on
string hashing, set or dict iteration would show). Then:

The territory and the assessment are built from the same files in both runs; the
cadastre reads the first run's assessment folder in both (its input is that folder).

- ``ranking.csv`` and every other CSV are identical byte for byte (they carry no run time:
  the ``proveniencia`` stamp names the tool, the rules and the data, not the clock);
- ``evidencias.json``, ``proveniencia.json``, ``cip_programa.json`` and ``cip.json`` are
  identical apart from ``executado_em``;
- the GeoPackages (assessment, territory, cadastre) hold the same tables, compared with
  geopandas: apart from the run time in ``metadados`` and ``layer_styles.update_time``;
- every sheet of ``ranking.xlsx`` and ``cip.xlsx`` holds the same cells, apart from the
  run time in the provenance sheet.

Maps and technical sheets are left out: their HTML carries element ids that folium
draws at random, and they are read by people, not compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from typer.testing import CliRunner

from geo_ip.cli.app import app
from tests.conftest import DEMO, DEMO_KEY, ROOT

RUN_TIME = ("executado_em", "criado_em")
"""Keys that hold the time of the run (the territory's is ``criado_em``)."""

DRIVER = """
import json, sys
from typer.testing import CliRunner
from geo_ip.cli.app import app
runner = CliRunner()
for args in json.loads(sys.argv[1]):
    result = runner.invoke(app, args)
    if result.exit_code != 0:
        print(result.output)
        sys.exit(result.exit_code or 1)
"""
"""Runs a list of command lines in one interpreter (as the tests do with CliRunner)."""


def _commands(out: Path, territory: Path, key: Path, assessment: Path) -> list[list[str]]:
    demo = str(DEMO)
    return [
        ["-q", "territorio", "--osm", f"{demo}/municipio_demo.osm", "--grid",
         f"{demo}/rede_demo.gpkg", "--dem", f"{demo}/mdt_demo.tif", "--rules", "demo",
         "--out", str(out / "territorio.gpkg")],
        # on the session's territory, so that both runs read the same file
        ["-q", "avaliar", "--territory", str(territory), "--requests", f"{demo}/pedidos.csv",
         "--rules", "demo", "--out", str(out / "avaliacao"), "--occurrences",
         f"{demo}/ocorrencias.csv", "--decisions", f"{demo}/decisoes.csv", "--history",
         f"{demo}/beneficios_anteriores.csv", "--budget", "300000", "--chave", str(key),
         "--data-referencia", "2026-11-20", "--cip-regras", "municipio_demo",
         "--cip-consumidores", f"{demo}/consumidores.csv", "--sem-mapas", "--sem-fichas"],
        # on the first run's assessment: the cadastre's input is that folder, by content
        ["-q", "cadastro", "--assessment", str(assessment), "--executed",
         f"{demo}/obras_executadas.csv", "--removed", f"{demo}/pontos_removidos.csv",
         "--rules", "demo", "--out", str(out / "cadastro"), "--data-referencia", "2026-11-30"],
        ["-q", "cip", "--rules-cip", "municipio_demo", "--consumers", f"{demo}/consumidores.csv",
         "--out", str(out / "cip")],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def runs(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = tmp_path_factory.mktemp("chave") / "chave.txt"
    key.write_bytes(DEMO_KEY + b"\n")
    first, second = tmp_path_factory.mktemp("execucao_1"), tmp_path_factory.mktemp("execucao_2")
    runner = CliRunner()
    for args in _commands(first, demo_territory, key, first / "avaliacao"):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    seed = "1" if os.environ.get("PYTHONHASHSEED") == "0" else "0"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    env.pop("GEO_IP_CHAVE_LGPD", None)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER,
         json.dumps(_commands(second, demo_territory, key, first / "avaliacao"))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return first, second


def _files(folder: Path, suffix: str) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(f"*{suffix}"))


def test_both_runs_wrote_the_same_files(runs: tuple[Path, Path]) -> None:
    first, second = runs
    assert _files(first, "") == _files(second, "")
    assert "avaliacao/ranking.csv" in _files(first, ".csv")


def test_csv_files_are_identical_byte_for_byte(runs: tuple[Path, Path]) -> None:
    first, second = runs
    names = _files(first, ".csv")
    # the ranking for scripts and for people, the five of the cadastre, the three of the CIP
    assert len(names) == 10
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    ranking = pd.read_csv(first / "avaliacao" / "ranking.csv", dtype=str)
    assert len(ranking) == 41 and ranking["posicao"].notna().sum() > 20
    people = pd.read_csv(
        first / "avaliacao" / "ranking_planilha.csv", dtype=str, sep=";", encoding="utf-8-sig"
    )
    assert len(people) == 41 and people["Posição"].notna().sum() > 20


def _without_run_time(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_time(v) for k, v in value.items() if k not in RUN_TIME}
    if isinstance(value, list):
        return [_without_run_time(v) for v in value]
    return value


def test_json_files_differ_only_in_the_run_time(runs: tuple[Path, Path]) -> None:
    first, second = runs
    names = _files(first, ".json")
    assert {"avaliacao/evidencias.json", "avaliacao/proveniencia.json",
            "avaliacao/cip_programa.json", "cip/cip.json"} <= set(names)  # fmt: skip
    for name in names:
        a = json.loads((first / name).read_text(encoding="utf-8"))
        b = json.loads((second / name).read_text(encoding="utf-8"))
        assert _without_run_time(a) == _without_run_time(b), name
    evidence = json.loads((first / "avaliacao" / "evidencias.json").read_text(encoding="utf-8"))
    assert evidence["proveniencia"]["executado_em"]  # the run time is there, and only it differs


def _layer(path: Path, name: str) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, layer=name)
    if name == "metadados":
        frame = frame[~frame["chave"].isin(RUN_TIME)].reset_index(drop=True)
        frame["valor"] = [json.dumps(_without_run_time(json.loads(v))) for v in frame["valor"]]
    if name == "layer_styles":
        frame = frame.drop(columns=["update_time"])
    return frame


def test_geopackages_hold_the_same_tables(runs: tuple[Path, Path]) -> None:
    first, second = runs
    names = _files(first, ".gpkg")
    assert {"territorio.gpkg", "avaliacao/avaliacao.gpkg", "cadastro/cadastro_ip.gpkg"} <= set(
        names
    )
    for name in names:
        layers = [str(n) for n in pyogrio.list_layers(first / name)[:, 0]]
        assert layers == [str(n) for n in pyogrio.list_layers(second / name)[:, 0]], name
        for layer in layers:
            a, b = _layer(first / name, layer), _layer(second / name, layer)
            if isinstance(a, gpd.GeoDataFrame):
                assert_geodataframe_equal(a, b)
            else:
                pd.testing.assert_frame_equal(a, b, obj=f"{name}:{layer}")


def test_workbooks_hold_the_same_cells(runs: tuple[Path, Path]) -> None:
    first, second = runs
    for name in ("avaliacao/ranking.xlsx", "cip/cip.xlsx"):
        a = pd.read_excel(first / name, sheet_name=None, dtype=str)
        b = pd.read_excel(second / name, sheet_name=None, dtype=str)
        assert list(a) == list(b), name
        for sheet in a:
            left, right = a[sheet], b[sheet]
            key = "Chave" if "Chave" in left.columns else "chave"  # labels in ranking.xlsx
            if key in left.columns:  # the provenance sheet: one row per key
                left = left[~left[key].isin(RUN_TIME)].reset_index(drop=True)
                right = right[~right[key].isin(RUN_TIME)].reset_index(drop=True)
            pd.testing.assert_frame_equal(left, right, obj=f"{name}:{sheet}")
