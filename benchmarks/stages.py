"""Benchmark stages, each run in a fresh child process by ``python -m benchmarks``.

``python -m benchmarks.stages <stage> '<json args>'`` runs one stage once and prints
one JSON line: ``seconds`` (wall time of the measured part only, setup excluded),
``peak_mb`` (peak resident memory of the process) and stage-specific figures.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def territory(args: dict[str, Any]) -> dict[str, Any]:
    """Build a territory GeoPackage (the measured part is the whole build)."""
    from geo_ip.config import load_rules
    from geo_ip.territory import GridSource, build_territory

    t0 = time.perf_counter()
    report = build_territory(
        Path(args["out"]),
        rules=load_rules(args["rules"]),
        osm=args["osm"],
        grids=[GridSource(Path(g)) for g in args["grids"]],
        dem=args["dem"],
        force=True,
    )
    return {"seconds": time.perf_counter() - t0, "items": report.counts.get("vias", 0)}


_ABBREVIATIONS = {"Rua ": "R. ", "Avenida ": "Av. ", "Travessa ": "Trav. ", "Doutor ": "Dr. "}


def synthetic_addresses(territory_path: str, n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` requests written like a clerk would, from the territory's real street names.

    Street names are drawn from the ``vias`` layer; a third are abbreviated, a
    third upper-cased without accents, the rest as they are; numbers 1–2000.
    """
    from geo_ip.address import normalize_text
    from geo_ip.territory import read_layer

    names = read_layer(territory_path, "vias")["name"].dropna().astype(str)
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


def geocode(args: dict[str, Any]) -> dict[str, Any]:
    """Offline geocoding of ``n`` synthetic addresses (gazetteer build + matching)."""
    from geo_ip.geocode import Gazetteer
    from geo_ip.geocode import geocode as run

    requests = synthetic_addresses(args["territory"], int(args["n"]))
    t0 = time.perf_counter()
    gazetteer = Gazetteer.from_territory(args["territory"])
    t1 = time.perf_counter()
    out = run(requests, gazetteer)
    t2 = time.perf_counter()
    found = int((out["geocodificacao"] != "falhou").sum())
    return {
        "seconds": t2 - t0,
        "items": len(requests),
        "build_s": t1 - t0,
        "match_s": t2 - t1,
        "found": found,
    }


def snap(args: dict[str, Any]) -> dict[str, Any]:
    """Snap ``n`` random points inside the territory's road extent (index build + query)."""
    from geo_ip.network import RoadIndex
    from geo_ip.territory import read_layer

    roads = read_layer(args["territory"], "vias")
    xmin, ymin, xmax, ymax = roads.total_bounds
    rng = np.random.default_rng(11)
    n = int(args["n"])
    x, y = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    t0 = time.perf_counter()
    index = RoadIndex(roads)
    t1 = time.perf_counter()
    out = index.snap(x, y, 150.0)
    t2 = time.perf_counter()
    return {
        "seconds": t2 - t0,
        "items": n,
        "build_s": t1 - t0,
        "match_s": t2 - t1,
        "found": int((~out["fora_da_malha"]).sum()),
    }


def synthetic_requests(territory_path: str, n: int, out: Path, seed: int = 3) -> Path:
    """Write ``n`` requests with coordinates a few metres off random road points."""
    import geopandas as gpd

    from geo_ip.territory import read_layer

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


def assess(args: dict[str, Any]) -> dict[str, Any]:
    """Whole assessment of ``n`` requests (intake to ranking), then its tables and GeoPackage.

    The per-request maps and sheets are left out: they scale with the number of
    requests (one file each) and are measured by their own tests.
    """
    import tempfile
    from datetime import date

    from geo_ip._assess_outputs import write_outputs
    from geo_ip.assess import assess as run
    from geo_ip.config import load_rules

    with tempfile.TemporaryDirectory() as tmp:
        requests = synthetic_requests(args["territory"], int(args["n"]), Path(tmp) / "p.csv")
        t0 = time.perf_counter()
        result = run(
            args["territory"], requests, load_rules(args["rules"]), key=b"b" * 32,
            today=date(2026, 11, 20),
        )  # fmt: skip
        t1 = time.perf_counter()
        write_outputs(result, Path(tmp) / "out", maps=False, sheets=False)
        t2 = time.perf_counter()
    return {
        "seconds": t1 - t0,
        "items": int(args["n"]),
        "build_s": t1 - t0,
        "match_s": t2 - t1,
        "found": int(result.table["distancia_rede_m"].notna().sum()),
    }


def grid_paths(args: dict[str, Any]) -> dict[str, Any]:
    """One-pass paths to the grid for ``n`` requests versus a naive per-request search.

    The naive search (networkx Dijkstra from each request's edge ends until the nearest
    attached grid node, node to node) runs on a sample of ``sample`` requests and is
    extrapolated to ``n``; ``ratio`` = naive extrapolated / one pass.
    """
    import networkx as nx

    from geo_ip.config import load_rules
    from geo_ip.gridpath import GridNetwork
    from geo_ip.network import RoadIndex
    from geo_ip.territory import read_layer

    rules = load_rules(args["rules"])
    roads = read_layer(args["territory"], "vias")
    grid = read_layer(args["territory"], "rede_existente")
    n, sample = int(args["n"]), int(args["sample"])
    rng = np.random.default_rng(3)
    picked = roads.geometry.iloc[rng.integers(0, len(roads), n)]
    points = picked.interpolate(rng.uniform(0, 1, n), normalized=True)
    snapped = RoadIndex(roads).snap(points.x.to_numpy(), points.y.to_numpy(), 150.0)
    snapped["x"], snapped["y"] = points.x.to_numpy(), points.y.to_numpy()
    net = rules.rede
    t0 = time.perf_counter()
    network = GridNetwork(roads, grid, max_attach_m=net.distancia_maxima_rede_via.valor)
    table, _ = network.paths(
        snapped, lv_reach_m=net.alcance_bt.valor, detour_factor=net.fator_desvio.valor,
        allow_mt=net.usar_mt_com_transformador,
    )  # fmt: skip
    one_pass = time.perf_counter() - t0

    graph = nx.Graph()
    for u, v, length in zip(roads["u"], roads["v"], roads["length"], strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["w"] > length:
            graph.add_edge(int(u), int(v), w=float(length))
    nodes = read_layer(args["territory"], "nos")
    tree = shapely.STRtree(nodes.geometry.values)
    lv = grid[grid["tipo"] != "mt"]
    near = tree.query_nearest(lv.geometry.values, max_distance=net.distancia_maxima_rede_via.valor)
    targets = set(nodes["osmid"].to_numpy()[near[1]].tolist())
    t1 = time.perf_counter()
    for i in range(min(sample, n)):
        source = int(snapped["aresta_u"].iloc[i])
        lengths = nx.single_source_dijkstra_path_length(graph, source, weight="w")
        min((d for node, d in lengths.items() if node in targets), default=float("inf"))
    naive = (time.perf_counter() - t1) * n / min(sample, n)
    return {
        "seconds": one_pass,
        "items": n,
        "build_s": one_pass,
        "match_s": naive,
        "found": int(table["distancia_rede_m"].notna().sum()),
        "ratio": naive / one_pass,
    }


STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "territory": territory,
    "geocode": geocode,
    "snap": snap,
    "assess": assess,
    "grid_paths": grid_paths,
}


def main() -> None:
    """Run the stage named in ``argv[1]`` with the JSON arguments of ``argv[2]``."""
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    result = STAGES[stage](args)
    result["peak_mb"] = _peak_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
