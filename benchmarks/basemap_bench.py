"""Benchmark of the offline background (issue 21): time and peak memory per territory.

``python -m benchmarks.basemap_bench`` draws the background of Porto Alegre (the
territory built from ``../shared/data/poa``; skipped when absent) and of a synthetic
territory of ~1M road edges, each in a fresh child process, and prints the wall time,
the CPU time (the drawing process and its forked helpers), the peak memory, the tiles
and their size. The drawing forks helpers that share its pages, so the peak memory is
the largest sum of the processes' proportional set sizes (Linux ``Pss``, shared pages
split between the processes sharing them), sampled every 100 ms from outside; the main
process's own peak resident memory (``VmHWM``, reset when the drawing starts: the
imports are included, the territory's build is not) is printed beside it.

Options: ``--escalas poa,sintetico_1m`` (also ``sintetico_20k``, ``sintetico_200k``),
``--pasta DIR`` keeps the territories there and reuses them on the next run (they
take minutes to build at 1M edges), ``--runs N`` (median, default 1).

Targets (issue 21): ~1M edges in ≤ 60 s and ≤ 200 MB; Porto Alegre in ≤ 5 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POA = ROOT.parent / "shared" / "data" / "poa"
SYNTHETIC = {"sintetico_20k": 20_000, "sintetico_200k": 200_000, "sintetico_1m": 1_000_000}
TARGETS = {"poa": (5.0, None), "sintetico_1m": (60.0, 200.0)}
"""Scale → (seconds, MB) of the issue (None: no target)."""


def _stage(stage: str, args: dict[str, Any]) -> None:
    """Build a territory with the main harness's stage (setup: not measured here)."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", stage, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"falha ao montar o território ({stage}):\n{proc.stderr[-3000:]}")


def _territory(scale: str, folder: Path) -> Path | None:
    path = folder / f"{scale}.gpkg"
    if path.is_file():
        return path
    if scale == "poa":
        if not (POA / "poa_osm.pbf").is_file():
            print(f"(Porto Alegre pulado: {POA / 'poa_osm.pbf'} ausente)")
            return None
        _stage("territory", {"osm": str(POA / "poa_osm.pbf"), "grids": [],
                             "dem": str(POA / "poa_elevation.tif"), "rules": "extrema",
                             "out": str(path)})  # fmt: skip
    elif scale in SYNTHETIC:
        _stage("synthetic", {"out": str(path), "edges": SYNTHETIC[scale]})
    else:
        raise SystemExit(f"escala desconhecida: {scale}")
    return path


def _peak_mb() -> float:
    """Peak RSS since :func:`_reset_peak` (as in ``benchmarks.stages``, which imports pandas:
    the child must not, or pandas would count in the background's memory)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Linux ``/proc``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _pss_mb(pid: int) -> float:
    """Sum of the proportional set sizes of a process tree, in MB.

    0 when the tree changed while it was read: a helper forked between two readings
    would count the pages it shares twice (its parent's before the fork, its own after).
    """
    tree = _tree(pid)
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024 if _tree(pid) == tree else 0.0


def _child(territory: str, out: str) -> None:
    """Draw one background (the measured part) and print one JSON line."""
    from geo_ip.outputs.web.basemap import write_basemap

    _reset_peak()
    t0, c0, h0 = time.perf_counter(), time.process_time(), _children_cpu()
    info = write_basemap(territory, Path(out))
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0 + _children_cpu() - h0
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "main_mb": _peak_mb(),
                      "tiles": info.tiles, "mb": info.bytes / 2**20,
                      "vias": info.provenance["camadas"].get("vias", 0)}))  # fmt: skip


def _measure(territory: Path, runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        with (
            tempfile.TemporaryDirectory(prefix="geo_ip_fundo_") as out,
            tempfile.TemporaryFile("w+") as stdout,
            tempfile.TemporaryFile("w+") as stderr,
        ):
            proc = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.basemap_bench", "--filho", str(territory), out],
                stdout=stdout, stderr=stderr, text=True, cwd=ROOT,
            )  # fmt: skip
            peak = 0.0
            while proc.poll() is None:
                peak = max(peak, _pss_mb(proc.pid))
                time.sleep(0.1)
            stdout.seek(0)
            stderr.seek(0)
            if proc.returncode != 0:
                raise SystemExit(f"falha no mapa de fundo:\n{stderr.read()[-3000:]}")
            result = json.loads(stdout.read().strip().splitlines()[-1])
        result["peak_mb"] = peak
        results.append(result)
    row = {k: statistics.median(float(r[k]) for r in results) for k in results[0]}
    row["execucoes"] = runs
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalas", default="poa,sintetico_1m")
    parser.add_argument("--pasta", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--filho", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.filho:
        _child(*args.filho)
        return
    with tempfile.TemporaryDirectory(prefix="geo_ip_fundo_bench_") as tmp:
        folder = args.pasta or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'escala':<16} {'vias':>9} {'tempo (s)':>10} {'CPU (s)':>8} {'pico (MB)':>10} "
              f"{'princ. (MB)':>11} {'blocos':>8} {'MB':>7}  meta")  # fmt: skip
        for scale in args.escalas.split(","):
            territory = _territory(scale, folder)
            if territory is None:
                continue
            r = _measure(territory, args.runs)
            seconds, mb = TARGETS.get(scale, (None, None))
            notes = []
            if seconds is not None:
                notes.append(f"≤ {seconds:.0f} s: {'ok' if r['seconds'] <= seconds else 'NÃO'}")
            if mb is not None:
                notes.append(f"≤ {mb:.0f} MB: {'ok' if r['peak_mb'] <= mb else 'NÃO'}")
            print(f"{scale:<16} {int(r['vias']):>9} {r['seconds']:>10.2f} {r['cpu_s']:>8.2f} "
                  f"{r['peak_mb']:>10.0f} {r['main_mb']:>11.0f} {int(r['tiles']):>8} "
                  f"{r['mb']:>7.1f}  "
                  f"{'; '.join(notes)}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
