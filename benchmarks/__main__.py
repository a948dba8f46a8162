"""Benchmarks of geo_ip: wall time and peak memory per stage, median of N runs.

Run ``python -m benchmarks`` (all scales available) or ``python -m benchmarks --smoke``
(the bundled demo only, one run: what CI does so the harness cannot rot). Each run
happens in a fresh subprocess so that peak memory (``ru_maxrss``) is that run's own.
Results are printed as a table and written to ``benchmarks/results/<date>.json``.
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

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DEMO = ROOT / "data" / "demo"

# Code run in the child process: build a territory and report time and peak RSS.
_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from geo_ip.config import load_rules
from geo_ip.territory import GridSource, build_territory
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
report = build_territory(
    Path(args["out"]), rules=load_rules(args["rules"]), osm=args["osm"],
    grids=[GridSource(Path(g)) for g in args["grids"]], dem=args["dem"], force=True,
)
elapsed = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024, "counts": report.counts}))
"""


def _scales(smoke: bool) -> list[dict[str, object]]:
    scales: list[dict[str, object]] = [
        {
            "scale": "demo",
            "osm": str(DEMO / "municipio_demo.osm"),
            "grids": [str(DEMO / "rede_demo.gpkg")],
            "dem": str(DEMO / "mdt_demo.tif"),
            "rules": "demo",
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
            }
        )
    elif not smoke:
        print(f"(Porto Alegre pulado: {poa} ausente)")
    return scales


def _run_once(spec: dict[str, object], out: Path) -> dict[str, object]:
    args = json.dumps({**spec, "out": str(out)})
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"falha no benchmark {spec['scale']}:\n{proc.stderr[-3000:]}")
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


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
            results = [_run_once(spec, Path(tmp) / f"{spec['scale']}.gpkg") for _ in range(runs)]
            counts = results[-1]["counts"]
            assert isinstance(counts, dict)
            rows.append(
                {
                    "stage": "territory",
                    "scale": spec["scale"],
                    "runs": runs,
                    "seconds_median": statistics.median(float(r["seconds"]) for r in results),  # type: ignore[arg-type]
                    "peak_mb_median": statistics.median(float(r["peak_mb"]) for r in results),  # type: ignore[arg-type]
                    "road_edges": counts.get("vias"),
                }
            )
    header = ("etapa", "escala", "exec.", "tempo (s)", "pico (MB)", "arestas")
    print("{:<10} {:<14} {:>5} {:>10} {:>10} {:>9}".format(*header))
    for r in rows:
        print(
            f"{r['stage']:<10} {r['scale']:<14} {r['runs']:>5} {r['seconds_median']:>10.2f} "
            f"{r['peak_mb_median']:>10.0f} {r['road_edges']:>9}"
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
