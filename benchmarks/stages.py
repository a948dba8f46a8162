"""Benchmark stages, each run in a fresh child process by ``python -m benchmarks``.

``python -m benchmarks.stages <stage> '<json args>'`` runs one stage once and prints
one JSON line: ``seconds`` (wall time of the measured part only, setup excluded),
``peak_mb`` (the process's peak resident memory during the measured part: the kernel's
high-water mark is reset when it starts, Linux ``/proc/self/clear_refs``) and
stage-specific figures. A stage that measures several steps (``assess``) gives each
its own ``steps`` entry with ``seconds`` and ``peak_mb``.

Stages
------
``territory``        build the territory GeoPackage from OSM (``build_territory``)
``synthetic``        write a synthetic territory (:mod:`geo_ip.territory.synthetic`)
``osm_territory``    write a synthetic OSM file (setup), then build the territory from it
                     (``build_territory``, the GeoPackage write included)
``geocode``          offline geocoding of addresses written from the street names
``snap``             vectorised snapping of points (index build + query)
``assess``           :func:`geo_ip.pipeline.assess` of synthetic requests, step by step,
                     then the GeoPackage and the other output tables
``grid``             the grid network (attachments), the one-pass path to the grid and,
                     in the same run, per-request networkx Dijkstra on a sample
``overview``         the overview web map of the requests (HTML size)
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

_KEY = b"b" * 32
_TODAY = date(2026, 11, 20)


def _peak_mb() -> float:
    """Peak RSS since the last :func:`_reset_peak` (whole process when unsupported)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start a new peak-memory measure (Linux: reset VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _tree_rss_mb(root: int) -> float:
    """Resident memory of process ``root`` and all its descendants, summed (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
        stack += children.get(pid, [])
    return total / 1024


class _TreePeak:
    """Peak of the memory of this process and its helpers together, sampled every 0.2 s.

    The territory build keeps a helper process beside the main one (roads, then the
    betweenness), and the outputs of a large assessment write the internal workbook in
    one: the main process's own peak (``peak_mb``) leaves them out.
    """

    def __init__(self) -> None:
        self.peak = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, _tree_rss_mb(os.getpid()))
            if self._done.wait(0.2):
                return

    def __enter__(self) -> _TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


class _Clock:
    """Wall time and peak memory of consecutive steps."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, float]] = {}
        self._name: str | None = None
        self._t = 0.0

    def start(self, name: str) -> None:
        self.stop()
        _reset_peak()
        self._name, self._t = name, time.perf_counter()

    def stop(self) -> None:
        if self._name is not None:
            seconds = time.perf_counter() - self._t
            self.steps[self._name] = {"seconds": seconds, "peak_mb": _peak_mb()}
        self._name = None


# --------------------------------------------------------------------------- inputs

_ABBREVIATIONS = {"Rua ": "R. ", "Avenida ": "Av. ", "Travessa ": "Trav. ", "Doutor ": "Dr. "}


def synthetic_addresses(territory_path: str, n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` requests written like a clerk would, from the territory's real street names.

    Street names are drawn from the ``vias`` layer; a third are abbreviated, a
    third upper-cased without accents, the rest as they are; numbers 1–2000.
    """
    import pyogrio

    from geo_ip.requests.address import normalize_text

    names = pyogrio.read_dataframe(territory_path, layer="vias", columns=["name"],
                                   read_geometry=False)["name"].dropna().astype(str)  # fmt: skip
    names = names[~names.str.contains("/")].drop_duplicates().sort_values().to_numpy()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(names, size=n)
    style = rng.integers(0, 3, size=n)
    written = []
    for name, s in zip(chosen, style, strict=True):
        if s == 0:
            for full, short in _ABBREVIATIONS.items():
                name = name.replace(full, short)
        elif s == 1:
            name = normalize_text(name)
        written.append(name)
    return pd.DataFrame(
        {
            "protocolo": [f"B-{i:06d}" for i in range(n)],
            "data_protocolo": "2026-06-01",
            "tipo": "extensao_rede",
            "endereco": written,
            "numero": rng.integers(1, 2000, size=n).astype(str),
        }
    )


def synthetic_requests(territory_path: str, n: int, out: Path, seed: int = 3) -> Path:
    """Write ``n`` requests with coordinates a few metres off random road points.

    (The requests of the territory-agnostic tests; the benchmark's own requests come
    from :func:`geo_ip.territory.synthetic_requests.synthetic_requests`, with the eligibility
    fields.)
    """
    import geopandas as gpd

    from geo_ip.territory.reader import read_layer

    roads = read_layer(territory_path, "vias")
    rng = np.random.default_rng(seed)
    lines = roads.geometry.to_numpy()[rng.integers(0, len(roads), n)]
    on_road = shapely.line_interpolate_point(lines, rng.uniform(0, 1, n), normalized=True)
    dx, dy = rng.normal(0, 8, n), rng.normal(0, 8, n)
    moved = shapely.points(shapely.get_x(on_road) + dx, shapely.get_y(on_road) + dy)
    lonlat = gpd.GeoSeries(moved, crs=roads.crs).to_crs("EPSG:4326")
    table = pd.DataFrame(
        {
            "protocolo": [f"B-{i:06d}" for i in range(n)],
            "data_protocolo": "2026-06-01",
            "tipo": "extensao_rede",
            "latitude": lonlat.y.round(6),
            "longitude": lonlat.x.round(6),
            "residencias": rng.integers(1, 8, n),
        }
    )
    table.to_csv(out, index=False)
    return out


def _snapped_points(args: dict[str, Any]) -> tuple[Any, Any, pd.DataFrame]:
    """Roads, grid and ``n`` points on random roads, snapped (setup of ``grid``/``naive``)."""
    from geo_ip.network.roads import RoadIndex
    from geo_ip.territory.reader import read_layer

    roads = read_layer(args["territory"], "vias")
    grid = read_layer(args["territory"], "rede_existente", missing_ok=True)
    n = int(args["n"])
    rng = np.random.default_rng(3)
    picked = roads.geometry.iloc[rng.integers(0, len(roads), n)]
    points = picked.interpolate(rng.uniform(0, 1, n), normalized=True)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    snapped = RoadIndex(roads).snap(x, y, 150.0)
    snapped["x"], snapped["y"] = x, y
    return roads, grid, snapped


# --------------------------------------------------------------------------- stages


def territory(args: dict[str, Any]) -> dict[str, Any]:
    """Build a territory GeoPackage from OSM (the measured part is the whole build)."""
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.build import GridSource, build_territory

    _reset_peak()
    t0 = time.perf_counter()
    with _TreePeak() as tree:
        report = build_territory(
            Path(args["out"]),
            rules=load_rules(args["rules"]),
            osm=args["osm"],
            grids=[GridSource(Path(g)) for g in args["grids"]],
            dem=args["dem"],
            force=True,
        )
    return {"seconds": time.perf_counter() - t0, "items": report.counts.get("vias", 0),
            "soma_mb": tree.peak}  # fmt: skip


def synthetic(args: dict[str, Any]) -> dict[str, Any]:
    """Write a synthetic territory of about ``edges`` road edges."""
    from geo_ip.territory.synthetic import write_synthetic_territory

    _reset_peak()
    t0 = time.perf_counter()
    report = write_synthetic_territory(args["out"], edges=int(args["edges"]), seed=0)
    return {
        "seconds": time.perf_counter() - t0,
        "items": report.counts["vias"],
        "gerar_s": report.seconds["gerar_s"],
        "gravar_s": report.seconds["gravar_s"],
    }


def osm_territory(args: dict[str, Any]) -> dict[str, Any]:
    """Build a territory from a synthetic OSM file of about ``edges`` road edges.

    The file (:func:`geo_ip.territory.synthetic_osm.write_synthetic_osm`) is written first, in
    the setup; the measured part is the whole :func:`geo_ip.territory.build.build_territory`
    from it, GeoPackage write included, without grid files or DEM.
    """
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.build import build_territory
    from geo_ip.territory.synthetic_osm import write_synthetic_osm

    with tempfile.TemporaryDirectory(prefix="geo_ip_osm_") as tmp:
        osm = write_synthetic_osm(Path(tmp) / "sintetico.osm.pbf", edges=int(args["edges"]))
        _reset_peak()
        t0 = time.perf_counter()
        with _TreePeak() as tree:
            report = build_territory(
                Path(tmp) / "territorio.gpkg", rules=load_rules("demo"), osm=osm.path, force=True
            )
        seconds = time.perf_counter() - t0
        peak = _peak_mb()
    return {"seconds": seconds, "peak_mb": peak, "items": report.counts["vias"],
            "vias_osm": osm.counts["vias"], "soma_mb": tree.peak}  # fmt: skip


def geocode(args: dict[str, Any]) -> dict[str, Any]:
    """Offline geocoding of ``n`` addresses (gazetteer build + matching)."""
    from geo_ip.requests.geocode import Gazetteer
    from geo_ip.requests.geocode import geocode as run

    requests = synthetic_addresses(args["territory"], int(args["n"]))
    _reset_peak()
    t0 = time.perf_counter()
    gazetteer = Gazetteer.from_territory(args["territory"])
    t1 = time.perf_counter()
    out = run(requests, gazetteer)
    t2 = time.perf_counter()
    found = int((out["geocodificacao"] != "falhou").sum())
    return {"seconds": t2 - t0, "items": len(requests), "indice_s": t1 - t0, "busca_s": t2 - t1,
            "encontrados": found}  # fmt: skip


def snap(args: dict[str, Any]) -> dict[str, Any]:
    """Snap ``n`` random points inside the territory's road extent (index build + query)."""
    from geo_ip.network.roads import RoadIndex
    from geo_ip.territory.reader import read_layer

    roads = read_layer(args["territory"], "vias")
    xmin, ymin, xmax, ymax = roads.total_bounds
    rng = np.random.default_rng(11)
    n = int(args["n"])
    x, y = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    _reset_peak()
    t0 = time.perf_counter()
    index = RoadIndex(roads)
    t1 = time.perf_counter()
    out = index.snap(x, y, 150.0)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "items": n, "indice_s": t1 - t0, "busca_s": t2 - t1,
            "encontrados": int((~out["fora_da_malha"]).sum())}  # fmt: skip


_ASSESS_STEPS = {
    "Conferindo, geocodificando e ligando os pedidos à malha": "localizacao",
    "Traçando as extensões até a rede existente": "distancia_rede",
    "Reunindo as evidências do entorno": "evidencias",
    "Materiais, custos e beneficiários": "materiais",
    "Pontuação sugerida, elegibilidade e decisões da Comissão": "pontuacao",
    "Classificação, participação do Município e orçamento": "classificacao",
}
"""The progress texts of :func:`geo_ip.pipeline.assess` and the step each one starts."""


class _FileTimes(logging.Handler):
    """The seconds of each file of ``write_outputs``, from its debug log (``FILE_TIME``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}
        self._logger = logging.getLogger("geo_ip.outputs.files")

    def emit(self, record: logging.LogRecord) -> None:
        from geo_ip.outputs.files import FILE_TIME

        if record.msg == FILE_TIME and isinstance(record.args, tuple):
            name, seconds = record.args
            if isinstance(seconds, float):
                self.seconds[str(name)] = self.seconds.get(str(name), 0.0) + seconds

    def __enter__(self) -> _FileTimes:
        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


def assess(args: dict[str, Any]) -> dict[str, Any]:
    """Whole assessment of ``n`` requests, step by step, then its GeoPackage and tables.

    The steps are timed through ``assess``'s own progress callback, so the figures are
    those of the real pipeline: ``preparo`` (rules, optional files), ``localizacao``
    (intake, geocoding, snapping; the roads are read meanwhile in the grid network's
    thread, which it waits for), ``distancia_rede``, ``evidencias``, ``materiais``,
    ``pontuacao`` (suggestions, eligibility, decisions) and ``classificacao``; then
    ``write_outputs`` without maps and sheets, split by its per-file debug log into
    ``gpkg`` (``avaliacao.gpkg``) and ``tabelas`` (the rest: CSV, XLSX, QGIS project,
    JSON) and, with ``overview``, ``panorama`` (the overview web map). ``trabalho_s`` is
    the whole job a user waits for (assess + GeoPackage + tables) and ``soma_mb`` its
    peak memory, this process and its helpers summed.
    """
    from geo_ip.outputs.files import write_outputs
    from geo_ip.pipeline import assess as run
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.synthetic_requests import write_synthetic_requests

    rules = load_rules(args["rules"])
    with tempfile.TemporaryDirectory() as tmp, _TreePeak() as tree:
        requests = write_synthetic_requests(args["territory"], int(args["n"]), Path(tmp) / "p.csv")
        clock = _Clock()
        clock.start("preparo")
        t0 = time.perf_counter()
        result = run(
            args["territory"], requests, rules, key=_KEY, today=_TODAY,
            progress=lambda text: clock.start(_ASSESS_STEPS.get(text, text)),
        )  # fmt: skip
        clock.stop()
        total = time.perf_counter() - t0
        out = Path(tmp) / "out"
        out.mkdir()
        clock.start("tabelas")
        with _FileTimes() as files:
            write_outputs(result, out, maps=False, sheets=False)
        clock.stop()
        tables = clock.steps.pop("tabelas")
        job = total + tables["seconds"]
        # the GeoPackage is written inside write_outputs: its own row, out of the tables'
        # (both with the peak of the whole writing)
        gpkg = files.seconds.get("avaliacao.gpkg", 0.0)
        clock.steps["gpkg"] = {"seconds": gpkg, "peak_mb": tables["peak_mb"]}
        clock.steps["tabelas"] = tables | {"seconds": tables["seconds"] - gpkg}
        # the internal workbook's helper process (above XLSX_PARALLEL_ABOVE requests)
        helper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if helper_mb:
            clock.steps["tabelas"]["auxiliar_mb"] = helper_mb
        size = None
        if args.get("overview"):
            clock.start("panorama")
            size = _overview(result, out).stat().st_size
            clock.stop()
    steps = clock.steps
    return {
        "seconds": total,
        "peak_mb": max(s["peak_mb"] for k, s in steps.items() if k not in ("gpkg", "tabelas")),
        "items": int(args["n"]),
        "steps": steps,
        "com_distancia": int(result.table["distancia_rede_m"].notna().sum()),
        "soma_mb": tree.peak,  # the whole job, outputs and their helper included
        "trabalho_s": job,  # assess + GeoPackage + tables
        "arquivos_s": files.seconds,
        **({"html_mb": size / 1e6} if size is not None else {}),
    }


def _overview(result: Any, folder: Path) -> Path:
    from geo_ip.outputs.web.webmap import MapSources, overview_map, save_map

    sources = MapSources.from_assessment(result)
    return save_map(overview_map(result, sources=sources), folder / "mapa.html")


def grid(args: dict[str, Any]) -> dict[str, Any]:
    """The grid network, the one-pass path to the grid and (``sample`` > 0) the naive search.

    ``seconds`` is the path search for ``n`` requests with the network ready (shortest-
    path forest from the grid, per-request costs, path geometries); ``rede_s`` the
    network build (road arrays; the grid samples' attachment to their nearest edge,
    read from the territory where it was computed at build time). With
    ``sample`` > 0, the same requests' naive search follows in the same run: from each
    request's edge end, a full networkx single-source Dijkstra, then the nearest node a
    low-voltage element is attached to (what one would write without the one-pass
    method), on ``sample`` requests, extrapolated to ``n`` (``ingenuo_s``).
    """
    from geo_ip.network.gridpath import GridNetwork
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.reader import read_grid_attachment

    net = load_rules(args["rules"]).rede
    roads, grid_layer, snapped = _snapped_points(args)
    _reset_peak()
    t0 = time.perf_counter()
    network = GridNetwork(
        roads, grid_layer, max_attach_m=net.distancia_maxima_rede_via.valor,
        stored=read_grid_attachment(args["territory"]),
    )  # fmt: skip
    t1 = time.perf_counter()
    table, _paths = network.paths(
        snapped, lv_reach_m=net.alcance_bt.valor, detour_factor=net.fator_desvio.valor,
        allow_mt=net.usar_mt_com_transformador,
    )  # fmt: skip
    t2 = time.perf_counter()
    out = {"seconds": t2 - t1, "items": int(args["n"]), "rede_s": t1 - t0, "peak_mb": _peak_mb(),
           "com_distancia": int(table["distancia_rede_m"].notna().sum())}  # fmt: skip
    if int(args.get("sample", 0)) > 0:
        out |= _naive(args, roads, grid_layer, snapped)
    return out


def _naive(args: dict[str, Any], roads: Any, grid_layer: Any, snapped: Any) -> dict[str, Any]:
    """Per-request networkx Dijkstra on ``sample`` requests, extrapolated to ``n``."""
    import networkx as nx

    from geo_ip.rules.config import load_rules
    from geo_ip.territory.reader import read_layer

    net = load_rules(args["rules"]).rede
    graph = nx.Graph()
    for u, v, length in zip(roads["u"], roads["v"], roads["length"], strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["w"] > length:
            graph.add_edge(int(u), int(v), w=float(length))
    nodes = read_layer(args["territory"], "nos")
    tree = shapely.STRtree(nodes.geometry.values)
    lv = grid_layer[grid_layer["tipo"] != "mt"]
    near = tree.query_nearest(lv.geometry.values, max_distance=net.distancia_maxima_rede_via.valor)
    targets = set(nodes["osmid"].to_numpy()[near[1]].tolist())
    n, sample = int(args["n"]), min(int(args["sample"]), int(args["n"]))
    t0 = time.perf_counter()
    for i in range(sample):
        source = int(snapped["aresta_u"].iloc[i])
        lengths = nx.single_source_dijkstra_path_length(graph, source, weight="w")
        min((d for node, d in lengths.items() if node in targets), default=float("inf"))
    per_request = (time.perf_counter() - t0) / sample
    return {"ingenuo_s": per_request * n, "amostra": sample, "por_pedido_s": per_request}


def overview(args: dict[str, Any]) -> dict[str, Any]:
    """The overview web map of ``n`` assessed requests (build + write), and its size."""
    from geo_ip.pipeline import assess as run
    from geo_ip.rules.config import load_rules
    from geo_ip.territory.synthetic_requests import write_synthetic_requests

    with tempfile.TemporaryDirectory() as tmp:
        requests = write_synthetic_requests(args["territory"], int(args["n"]), Path(tmp) / "p.csv")
        result = run(args["territory"], requests, load_rules(args["rules"]), key=_KEY,
                     today=_TODAY)  # fmt: skip
        _reset_peak()
        t0 = time.perf_counter()
        size = _overview(result, Path(tmp)).stat().st_size
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "items": int(args["n"]), "html_mb": size / 1e6}


STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "territory": territory,
    "synthetic": synthetic,
    "osm_territory": osm_territory,
    "geocode": geocode,
    "snap": snap,
    "assess": assess,
    "grid": grid,
    "overview": overview,
}


def main() -> None:
    """Run the stage named in ``argv[1]`` with the JSON arguments of ``argv[2]``."""
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    result = STAGES[stage](args)
    result.setdefault("peak_mb", _peak_mb())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
