"""Synthetic requests, for benchmarks and scale tests (see :mod:`~geo_ip.territory.synthetic`).

:func:`synthetic_requests` draws requests with coordinates a few metres off random
road points of a territory (synthetic or real), with the eligibility fields filled
(valid, fictitious CPFs); :func:`write_synthetic_requests` writes them as a CSV
spreadsheet. Deterministic: the same arguments give the same requests.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

__all__ = ["synthetic_requests", "write_synthetic_requests"]


def _cpfs(rng: np.random.Generator, n: int) -> npt.NDArray[np.object_]:
    """``n`` valid, fictitious CPFs, formatted ``123.456.789-09``."""
    digits = rng.integers(0, 10, (n, 9))
    digits[:, 0] = rng.integers(1, 10, n)  # never all equal
    digits[:, 1] = (digits[:, 0] + 1 + rng.integers(0, 8, n)) % 10
    first = (digits * np.arange(10, 1, -1)).sum(axis=1) * 10 % 11 % 10
    with_first = np.column_stack([digits, first])
    second = (with_first * np.arange(11, 1, -1)).sum(axis=1) * 10 % 11 % 10
    full = np.column_stack([with_first, second]).astype(str)
    text = pd.Series(["".join(row) for row in full])
    formatted = text.str[:3] + "." + text.str[3:6] + "." + text.str[6:9] + "-" + text.str[9:]
    return formatted.to_numpy(dtype=object)


def synthetic_requests(territory: str | Path, n: int, *, seed: int = 3) -> pd.DataFrame:
    """Draw ``n`` requests with coordinates a few metres off random road points.

    Parameters
    ----------
    territory : str or Path
        A territory GeoPackage (synthetic or real).
    n : int
        Number of requests.
    seed : int, default 3
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        The columns of the requests spreadsheet (``protocolo``, ``data_protocolo``,
        ``tipo``, ``latitude``, ``longitude``, ``residencias``, ``moradores``,
        ``cadunico``, ``renda_familiar``, ``uso_imovel``, ``mei``,
        ``cpf_solicitante``, ``estrategico``, ``justificativa_estrategica``), about
        2 % of applicants with two requests, a few commercial uses and strategic
        requests.
    """
    roads = pyogrio.read_dataframe(territory, layer="vias", columns=[])
    rng = np.random.default_rng(seed)
    lines = np.asarray(roads.geometry.array, dtype=object)[rng.integers(0, len(roads), n)]
    on_road = shapely.line_interpolate_point(lines, rng.uniform(0, 1, n), normalized=True)
    x = shapely.get_x(on_road) + rng.normal(0, 8, n)
    y = shapely.get_y(on_road) + rng.normal(0, 8, n)
    lon, lat = Transformer.from_crs(roads.crs, "EPSG:4326", always_xy=True).transform(x, y)
    day0 = date(2026, 1, 2)
    days = rng.integers(0, 180, n)
    homes = rng.integers(1, 7, n)
    use = rng.choice(
        np.array(["residencial", "misto", "comercial", ""], dtype=object), n,
        p=[0.86, 0.05, 0.05, 0.04],
    )  # fmt: skip
    cpf = _cpfs(rng, n)
    again = rng.random(n) < 0.02
    cpf[again] = cpf[rng.integers(0, n, int(again.sum()))]
    strategic = rng.random(n) < 0.01
    return pd.DataFrame(
        {
            "protocolo": [f"S-{i:07d}" for i in range(n)],
            "data_protocolo": [(day0 + timedelta(days=int(d))).isoformat() for d in days],
            "tipo": rng.choice(
                np.array(["extensao_rede", "implantacao", "melhoria"], dtype=object), n,
                p=[0.7, 0.2, 0.1],
            ),
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "residencias": homes,
            "moradores": homes * rng.integers(2, 5, n),
            "cadunico": rng.choice(np.array(["sim", "não", ""], dtype=object), n),
            "renda_familiar": rng.integers(8, 60, n) * 100,
            "uso_imovel": use,
            "mei": np.where((use == "comercial") & (rng.random(n) < 0.4), "sim", ""),
            "cpf_solicitante": cpf,
            "estrategico": np.where(strategic, "sim", "não"),
            "justificativa_estrategica": np.where(
                strategic, "Ligação de equipamento público (parecer técnico fictício)", ""
            ),
        }
    )  # fmt: skip


def write_synthetic_requests(territory: str | Path, n: int, out: str | Path, seed: int = 3) -> Path:
    """Write :func:`synthetic_requests` as a CSV spreadsheet.

    Parameters
    ----------
    territory : str or Path
        A territory GeoPackage.
    n : int
        Number of requests.
    out : str or Path
        CSV to write.
    seed : int, default 3
        Seed of the draw.

    Returns
    -------
    Path
        ``out``.
    """
    out = Path(out)
    synthetic_requests(territory, n, seed=seed).to_csv(out, index=False)
    return out
