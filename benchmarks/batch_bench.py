"""Benchmark of ``geo-ip lote`` (issue 23): the same batch on 1 and on 2 Dask workers.

``python -m benchmarks.batch_bench`` writes a synthetic region of ``--municipios`` towns
(default 20) of ``--arestas`` road edges each (default 3000) and a synthetic BDGD covering
them, then runs the whole batch (cut by municipality, consumer partitions, territory, CIP
and audit of every municipality, consolidated files) on a local cluster of 1 worker and on
one of 2 workers, each in a fresh output folder, and prints the wall times, their ratio and
the cost of one municipality (the sum of the tasks' times over the municipalities). From that
cost it prints a paper estimate of a whole state (``--estado 853``, Minas Gerais's
municipalities) on this machine and on a cluster of N workers.

Options: ``--municipios N``, ``--arestas N``, ``--trabalhadores 1,2``, ``--pasta DIR``
(keeps the inputs), ``--estado N``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from geo_ip.batch.run import BatchConfig, close_client, open_client, run_batch
from geo_ip.batch.synthetic_bdgd import write_synthetic_bdgd
from geo_ip.territory.synthetic_region import write_synthetic_region

FIRST_CODE = 3100104
"""IBGE code of the first synthetic town (the next ones count up by 99: all in MG)."""


def _inputs(folder: Path, towns: int, edges: int) -> tuple[Path, Path]:
    osm, bdgd = folder / f"regiao_{towns}x{edges}.osm.pbf", folder / f"bdgd_{towns}x{edges}.gpkg"
    if osm.is_file() and bdgd.is_file():
        return osm, bdgd
    names = [(FIRST_CODE + 99 * i, f"Município Sintético {i + 1}") for i in range(towns)]
    region = write_synthetic_region(osm, names, edges=edges)
    write_synthetic_bdgd(bdgd, region.bbox, units=2000)
    return osm, bdgd


def _run(osm: Path, bdgd: Path, out: Path, workers: int) -> tuple[float, list[float], int]:
    """Run the batch on ``workers`` local workers: (wall s, seconds per municipality, failed)."""
    client = open_client(workers=workers, memory_limit="4GB", dashboard=None)
    try:
        client.wait_for_workers(workers)
        started = time.perf_counter()
        config = BatchConfig(saida=out, osm=osm, bdgds=(bdgd,), regras_cip="municipio_demo")
        report = run_batch(config, client)
        wall = time.perf_counter() - started
    finally:
        close_client(client)
    seconds = [r.segundos or 0.0 for r in report.results]
    return wall, seconds, sum(r.situacao == "falhou" for r in report.results)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> None:
    """Run the benchmark and print its table (Portuguese, as the other benchmarks)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--municipios", type=int, default=20)
    parser.add_argument("--arestas", type=int, default=3000)
    parser.add_argument("--trabalhadores", default="1,2")
    parser.add_argument("--pasta", type=Path, default=None)
    parser.add_argument("--estado", type=int, default=853)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="geo_ip_lote_") as scratch:
        folder = args.pasta or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        osm, bdgd = _inputs(folder, args.municipios, args.arestas)
        times: dict[int, float] = {}
        costs: list[float] = []
        for workers in [int(w) for w in args.trabalhadores.split(",")]:
            out = Path(tempfile.mkdtemp(prefix=f"saida_{workers}_", dir=scratch))
            wall, seconds, failed = _run(osm, bdgd, out, workers)
            times[workers] = wall
            costs += seconds
            print(
                f"{args.municipios} municípios de ~{args.arestas} arestas, {workers} "
                f"trabalhador(es): {wall:.1f} s ({failed} com falha)"
            )
    if 1 in times and 2 in times:
        print(f"razão 1 ÷ 2 trabalhadores: {times[1] / times[2]:.2f}×")
    per = statistics.median(costs)
    print(f"custo de um município (mediana das tarefas): {per:.2f} s")
    total = per * args.estado
    print(
        f"estimativa no papel, {args.estado} municípios deste tamanho: "
        f"{_duration(total / 2)} nesta máquina (2 trabalhadores); "
        + "; ".join(f"{_duration(total / n)} em {n} trabalhadores" for n in (16, 64, 256))
    )


if __name__ == "__main__":
    main()
