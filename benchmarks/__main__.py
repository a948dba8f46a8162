"""Benchmarks of geo_ip: wall time and peak memory per stage, median of N runs.

``python -m benchmarks`` runs every scale available; ``python -m benchmarks --smoke``
only the smallest synthetic one, once (what CI does, so the harness cannot rot);
``--escalas sintetico_20k,poa`` picks scales, ``--runs N`` the runs per measure
(median; default 3). Each run is a fresh child process (:mod:`benchmarks.stages`), so
peak memory is that run's own. The table is printed and, except in smoke mode,
written with the machine and the versions to ``benchmarks/results/<time>.json``.

Scales
------
``poa``             Porto Alegre OSM extract (``../shared/data/poa``; skipped when absent):
                    the territory is built from OSM (``build_territory``), 10,000 requests
``sintetico_20k``   synthetic territory of ~20k road edges, 1,000 requests
``sintetico_200k``  ~200k edges, 10,000 requests
``sintetico_1m``    ~1M edges, 10,000 requests, and the whole assessment of 100,000
                    (the memory target); the naive baseline on a 50-request sample

At each synthetic scale the territory is also built from OSM: the same street pattern
written as an OSM PBF (:func:`geo_ip.territory.synthetic_osm.write_synthetic_osm`, setup, not
measured), then the real ``build_territory`` from it, GeoPackage write included
(stage ``territorio_osm``). ``--etapas territorio_osm`` measures only that (no
synthetic territory is written when no chosen measure needs it).

Synthetic territories are written by :func:`geo_ip.territory.synthetic.write_synthetic_territory`
(stage ``territorio``, reported as "escrita do território sintético": it is not the OSM
path). Requests come with coordinates
(:func:`geo_ip.territory.synthetic_requests.synthetic_requests`); geocoding is measured
apart, on addresses written from the street names.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
POA = SHARED / "poa"

_LABELS = {
    "territorio": "construção do território (OSM)",
    "territorio_sintetico": "escrita do território sintético",
    "territorio_osm": "construção do território a partir do OSM",
    "geocodificacao": "geocodificação (endereços)",
    "ligacao_malha": "ligação à malha viária (snap)",
    "rede": "ligação da rede elétrica às vias",
    "distancia_rede": "distância à rede (uma passada)",
    "ingenuo": "busca ingênua por pedido (networkx, extrapolada)",
    "assess": "assess completo, sem mapas",
    "preparo": "  preparo (regras e arquivos opcionais)",
    "localizacao": "  conferência, geocodificação e snap",
    "distancia_rede_assess": "  distância à rede",
    "evidencias": "  evidências (entorno)",
    "materiais": "  materiais e custos",
    "pontuacao": "  pontuação, elegibilidade, decisões",
    "classificacao": "  classificação",
    "trabalho": "TRABALHO COMPLETO: assess + gpkg + tabelas",
    "gpkg": "gravação do GeoPackage",
    "tabelas": "tabelas de saída (CSV, XLSX, QGIS, JSON)",
    "panorama": "mapa panorama (render + gravação)",
}


@dataclass
class Job:
    """One measure: a stage of ``benchmarks.stages`` with its arguments."""

    name: str
    stage: str
    args: dict[str, Any]
    needs_territory: bool = True


@dataclass
class Scale:
    """A territory and the measures made on it."""

    name: str
    build: Job
    jobs: list[Job] = field(default_factory=list)


def _jobs(base: dict[str, Any], n: int, sample: int, also: list[int]) -> list[Job]:
    """The measures of one territory: ``n`` requests, the naive search on ``sample``."""
    jobs = [
        Job("geocodificacao", "geocode", base | {"n": n}),
        Job("ligacao_malha", "snap", base | {"n": n}),
        Job("distancia_rede", "grid", base | {"n": n, "sample": sample}),
        # the overview of 1,000 requests: in the assessment run when it has 1,000
        Job("assess", "assess", base | {"n": n, "overview": n == 1000}),
    ]
    if n != 1000:
        jobs.append(Job("panorama", "overview", base | {"n": 1000}))
    jobs += [Job("assess", "assess", base | {"n": big}) for big in also]
    return jobs


def _scales(names: list[str], folder: Path, smoke: bool) -> list[Scale]:
    scales = []
    synthetic = {
        "sintetico_20k": (20_000, 1_000, 50 if smoke else 200, []),
        "sintetico_200k": (200_000, 10_000, 200, []),
        "sintetico_1m": (1_000_000, 10_000, 50, [100_000]),
    }
    for name in names:
        if name == "poa":
            pbf = POA / "poa_osm.pbf"
            if not pbf.exists():
                print(f"(Porto Alegre pulado: {pbf} ausente)")
                continue
            path = str(folder / "poa.gpkg")
            build = {"osm": str(pbf), "grids": [], "dem": str(POA / "poa_elevation.tif"),
                     "rules": "extrema", "out": path}  # fmt: skip
            jobs = _jobs({"territory": path, "rules": "extrema"}, 10_000, 200, [])
            scales.append(Scale("poa", Job("territorio", "territory", build), jobs))
        elif name in synthetic:
            edges, n, sample, also = synthetic[name]
            path = str(folder / f"{name}.gpkg")
            build = Job("territorio_sintetico", "synthetic", {"out": path, "edges": edges})
            from_osm = Job("territorio_osm", "osm_territory", {"edges": edges}, False)
            scales.append(Scale(name, build, [from_osm, *_jobs({"territory": path, "rules": "demo"},
                                                               n, sample, also)]))  # fmt: skip
        else:
            raise SystemExit(f"escala desconhecida: {name}")
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


def _median(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in results))


def _rows(scale: str, job: Job, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows of one measure: the stage, then its steps (``assess``)."""
    row: dict[str, Any] = {
        "escala": scale, "etapa": job.name, "pedidos": job.args.get("n"),
        "execucoes": len(results), "tempo_s": _median(results, "seconds"),
        "pico_mb": _median(results, "peak_mb"), "itens": results[-1].get("items"),
    }  # fmt: skip
    for extra in ("rede_s", "gerar_s", "gravar_s", "indice_s", "busca_s", "html_mb",
                  "por_pedido_s", "amostra", "encontrados", "com_distancia",
                  "soma_mb"):  # fmt: skip
        if extra in results[-1]:
            row[extra] = _median(results, extra)
    if "html_mb" in row and job.stage == "assess":
        del row["html_mb"]  # shown on the panorama step
    rows = [row]
    naive = [r for r in results if "ingenuo_s" in r]
    if naive:
        rows.append(
            {
                "escala": scale, "etapa": "ingenuo", "pedidos": job.args.get("n"),
                "execucoes": len(naive), "tempo_s": naive[0]["ingenuo_s"],
                "pico_mb": naive[0]["peak_mb"], "amostra": naive[0]["amostra"],
                "por_pedido_s": naive[0]["por_pedido_s"],
                "razao": naive[0]["ingenuo_s"] / row["tempo_s"],
            }
        )  # fmt: skip
    for step in results[-1].get("steps", {}):
        name = "distancia_rede_assess" if step == "distancia_rede" else step
        rows.append(
            {
                "escala": scale, "etapa": name, "pedidos": job.args.get("n"),
                "execucoes": len(results),
                "tempo_s": statistics.median(r["steps"][step]["seconds"] for r in results),
                "pico_mb": statistics.median(r["steps"][step]["peak_mb"] for r in results),
                **({"html_mb": _median(results, "html_mb")} if step == "panorama" else {}),
                **(
                    {"auxiliar_mb": max(r["steps"][step]["auxiliar_mb"] for r in results)}
                    if all("auxiliar_mb" in r["steps"][step] for r in results)
                    else {}
                ),
            }
        )  # fmt: skip
    if all("trabalho_s" in r for r in results):
        # the job a user waits for, with the memory of this process and its helpers summed
        rows.append(
            {
                "escala": scale, "etapa": "trabalho", "pedidos": job.args.get("n"),
                "execucoes": len(results), "tempo_s": _median(results, "trabalho_s"),
                "pico_mb": _median(results, "soma_mb"), "somado": True,
            }
        )  # fmt: skip
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    header = ("escala", "etapa", "pedidos", "exec.", "tempo (s)", "pico (MB)", "")
    print("{:<15} {:<48} {:>8} {:>5} {:>10} {:>10}  {}".format(*header))
    for r in rows:
        notes = []
        if "rede_s" in r:
            notes.append(f"+ rede {r['rede_s']:.2f} s")
        if "gravar_s" in r:
            notes.append(f"gerar {r['gerar_s']:.1f} s + gravar {r['gravar_s']:.1f} s")
        if "html_mb" in r:
            notes.append(f"{r['html_mb']:.2f} MB de HTML")
        if r.get("somado"):
            notes.append("pico somado dos processos")
        if "soma_mb" in r:
            notes.append(f"com o processo auxiliar: pico somado {r['soma_mb']:.0f} MB")
        if "auxiliar_mb" in r:
            notes.append(f"processo auxiliar (ranking.xlsx): pico {r['auxiliar_mb']:.0f} MB")
        if "por_pedido_s" in r:
            notes.append(f"amostra {int(r['amostra'])}, {r['por_pedido_s'] * 1000:.0f} ms/pedido")
        if "razao" in r:
            notes.append(f"{r['razao']:,.0f}× a uma passada".replace(",", "."))
        pedidos = "" if r.get("pedidos") is None else f"{int(r['pedidos']):,}".replace(",", ".")
        print(
            f"{r['escala']:<15} {_LABELS.get(r['etapa'], r['etapa']):<48} {pedidos:>8} "
            f"{r['execucoes']:>5} {r['tempo_s']:>10.2f} {r['pico_mb']:>10.0f}  {'; '.join(notes)}"
        )


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets met or missed, from the rows measured."""

    def find(scale: str, stage: str, n: int | None = None) -> dict[str, Any] | None:
        for r in rows:
            if r["escala"] == scale and r["etapa"] == stage and (n is None or r["pedidos"] == n):
                return r
        return None

    out = []
    s2, s1 = "sintetico_200k", "sintetico_1m"
    checks = [
        (s2, "trabalho", 10_000, "tempo_s", 10.0, "trabalho completo, 10.000 em ~200k", "s"),
        (s2, "assess", 10_000, "tempo_s", 4.0, "assess de 10.000 pedidos em ~200k arestas", "s"),
        (s2, "gpkg", 10_000, "tempo_s", 3.0, "GeoPackage, 10.000 em ~200k", "s"),
        (s2, "tabelas", 10_000, "tempo_s", 3.0, "tabelas, 10.000 em ~200k", "s"),
        (s1, "trabalho", 100_000, "tempo_s", 60.0, "trabalho completo, 100.000 em ~1M", "s"),
        (s1, "distancia_rede", 10_000, "tempo_s", 0.5, "distância à rede, 10.000 em ~1M", "s"),
        (
            s1,
            "assess",
            100_000,
            "soma_mb",
            4096,
            "100.000 pedidos em ~1M (pico somado, saídas incluídas)",
            "MB",
        ),
        (s1, "territorio_sintetico", None, "tempo_s", 60.0, "escrita do território ~1M", "s"),
        (s1, "territorio_sintetico", None, "pico_mb", 3072, "escrita do território ~1M", "MB"),
        (s1, "territorio_osm", None, "tempo_s", 30.0, "território do OSM, ~1M arestas", "s"),
        (s1, "territorio_osm", None, "soma_mb", 2048, "território do OSM, ~1M (pico somado)", "MB"),
    ]
    for scale, stage, n, key, limit, what, unit in checks:
        r = find(scale, stage, n)
        if r is not None:
            ok = "atingida" if r[key] <= limit else "NÃO atingida"
            out.append(f"{what}: {r[key]:.2f} {unit} (meta ≤ {limit:g} {unit}) — {ok}")
    for r in rows:
        if r["etapa"] == "panorama":
            ok = "atingida" if r["html_mb"] <= 5 else "NÃO atingida"
            out.append(f"panorama de 1.000 pedidos, {r['escala']}: {r['html_mb']:.2f} MB "
                       f"(meta ≤ 5 MB) — {ok}")  # fmt: skip
    return out


def _versions() -> dict[str, str]:
    found = {}
    for name in ("geo-ip", "numpy", "pandas", "shapely", "geopandas", "pyogrio", "scipy",
                 "networkx", "osmnx", "folium"):  # fmt: skip
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "?"
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true",
                        help="só a menor escala sintética, uma execução (CI)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="execuções por medida (mediana)")
    parser.add_argument("--escalas", default="poa,sintetico_20k,sintetico_200k,sintetico_1m",
                        help="escalas separadas por vírgula")  # fmt: skip
    parser.add_argument(
        "--etapas", default="", help="só estas medidas, separadas por vírgula (ex.: territorio_osm)"
    )
    parser.add_argument("--json", type=Path, help="arquivo JSON dos resultados")
    opts = parser.parse_args(argv)
    runs = 1 if opts.smoke else opts.runs
    names = ["sintetico_20k"] if opts.smoke else [s for s in opts.escalas.split(",") if s]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="geo_ip_bench_") as tmp:
        only = {s for s in opts.etapas.split(",") if s}
        for scale in _scales(names, Path(tmp), opts.smoke):
            jobs = [j for j in scale.jobs if not only or j.name in only]
            if not only or scale.build.name in only or any(j.needs_territory for j in jobs):
                built = [_run_once(scale.build.stage, scale.build.args) for _ in range(runs)]
                rows += _rows(scale.name, scale.build, built)
            for job in jobs:
                # the naive search (slow by design) runs once, in the first run
                results = [
                    _run_once(job.stage, job.args if k == 0 else job.args | {"sample": 0})
                    for k in range(runs)
                ]
                rows += _rows(scale.name, job, results)
    print(f"geo_ip {_versions()['geo-ip']} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — "
          f"{os.cpu_count()} núcleos")  # fmt: skip
    _print(rows)
    for line in _targets(rows):
        print(line)
    if not opts.smoke or opts.json:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        target = opts.json or ROOT / "benchmarks" / "results" / f"{stamp}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "quando": stamp,
            "python": platform.python_version(),
            "maquina": platform.machine(),
            "nucleos": os.cpu_count(),
            "versoes": _versions(),
            "linhas": rows,
            "metas": _targets(rows),
        }
        target.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
        print(f"resultados em {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
