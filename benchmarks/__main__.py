"""Benchmarks of geo_ip: wall time and peak memory per stage, median of N runs.

Run ``python -m benchmarks`` (all scales available) or ``python -m benchmarks --smoke``
(the bundled demo only, one run: what CI does so the harness cannot rot). Each run
happens in a fresh subprocess (:mod:`benchmarks.stages`) so that peak memory
(``ru_maxrss``) is that run's own. Results are printed as a table and, except in
smoke mode, written to ``benchmarks/results/<date>.json``.

Stages: ``territory`` (build the GeoPackage), ``geocode`` (offline geocoding of
synthetic addresses written from the territory's real street names: gazetteer
build + matching), ``snap`` (vectorised snapping of random points: index build
+ query), ``assess`` (the whole assessment of synthetic requests with coordinates,
intake to ranking, then the output folder) and ``grid_paths`` (the one-pass path
to the grid against a naive per-request networkx Dijkstra on a 200-request sample,
extrapolated: the ratio is printed). Throughput is items per second of the
measured part.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DEMO = ROOT / "data" / "demo"


def _scales(smoke: bool) -> list[dict[str, Any]]:
    scales: list[dict[str, Any]] = [
        {
            "scale": "demo",
            "osm": str(DEMO / "municipio_demo.osm"),
            "grids": [str(DEMO / "rede_demo.gpkg")],
            "dem": str(DEMO / "mdt_demo.tif"),
            "rules": "demo",
            "requests": 200 if smoke else 1_000,
        }
    ]
    poa = SHARED / "poa" / "poa_osm.pbf"
    if not smoke and poa.exists():
        scales.append(
            {
                "scale": "porto_alegre",
                "osm": str(poa),
                "grids": [],
                "dem": str(SHARED / "poa" / "poa_elevation.tif"),
                "rules": "extrema",
                "requests": 10_000,
            }
        )
    elif not smoke:
        print(f"(Porto Alegre pulado: {poa} ausente)")
    return scales


def _run_once(stage: str, args: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", stage, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"falha no benchmark {stage}:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _row(stage: str, scale: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(float(r["seconds"]) for r in results)
    items = int(results[-1].get("items", 0))
    row = {
        "stage": stage,
        "scale": scale,
        "runs": len(results),
        "seconds_median": seconds,
        "peak_mb_median": statistics.median(float(r["peak_mb"]) for r in results),
        "items": items,
        "items_per_s": items / seconds if seconds > 0 else None,
    }
    for extra in ("build_s", "match_s", "found", "ratio"):
        if extra in results[-1]:
            row[extra] = statistics.median(float(r[extra]) for r in results)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="só o demo, uma execução (CI)")
    parser.add_argument("--runs", type=int, default=3, help="execuções por medida (mediana)")
    opts = parser.parse_args(argv)
    runs = 1 if opts.smoke else opts.runs
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in _scales(opts.smoke):
            out = str(Path(tmp) / f"{spec['scale']}.gpkg")
            build = {k: spec[k] for k in ("osm", "grids", "dem", "rules")} | {"out": out}
            built = [_run_once("territory", build) for _ in range(runs)]
            rows.append(_row("territory", spec["scale"], built))
            for stage in ("geocode", "snap", "assess", "grid_paths"):
                args = {"territory": out, "n": spec["requests"], "rules": spec["rules"]}
                args["sample"] = 200
                results = [_run_once(stage, args) for _ in range(runs)]
                rows.append(_row(stage, spec["scale"], results))
    header = ("etapa", "escala", "exec.", "tempo (s)", "pico (MB)", "itens", "itens/s")
    print("{:<10} {:<14} {:>5} {:>10} {:>10} {:>9} {:>11}".format(*header))
    for r in rows:
        rate = f"{r['items_per_s']:,.0f}".replace(",", ".") if r["items_per_s"] else "-"
        print(
            f"{r['stage']:<10} {r['scale']:<14} {r['runs']:>5} {r['seconds_median']:>10.2f} "
            f"{r['peak_mb_median']:>10.0f} {r['items']:>9} {rate:>11}"
        )
    for r in rows:
        if r["stage"] == "assess":
            print(
                f"assess {r['scale']}: avaliação {r['build_s']:.2f} s + arquivos de saída "
                f"{r['match_s']:.2f} s para {r['items']} pedidos"
            )
        if r["stage"] == "grid_paths":
            print(
                f"caminho até a rede {r['scale']}: uma passada {r['build_s']:.2f} s; busca "
                f"ingênua por pedido (amostra de 200, extrapolada) {r['match_s']:.1f} s; "
                f"razão {r['ratio']:.0f}×"
            )
    if not opts.smoke:
        results_dir = ROOT / "benchmarks" / "results"
        results_dir.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        payload = {
            "when": stamp,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "rows": rows,
        }
        (results_dir / f"{stamp}.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
