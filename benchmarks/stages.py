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


STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "territory": territory,
    "geocode": geocode,
    "snap": snap,
}


def main() -> None:
    """Run the stage named in ``argv[1]`` with the JSON arguments of ``argv[2]``."""
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    result = STAGES[stage](args)
    result["peak_mb"] = _peak_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
