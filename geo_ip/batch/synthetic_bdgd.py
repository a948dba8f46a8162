"""A small synthetic BDGD covering several municipalities, for tests and benchmarks.

:func:`write_synthetic_bdgd` writes a GeoPackage with the layers of an ANEEL BDGD that
geo_ip reads: ``SSDBT`` (low-voltage network), ``PONNOT`` (poles), ``PIP``
(public-lighting points joined to poles by ``PN_CON``) and ``UCBT_tab`` (consumer units with
``MUN``, ``CLAS_SUB`` and ``ENE_01`` … ``ENE_12``), every municipality inside its own
lon/lat box. Deterministic: the same arguments write the same rows. The data are fictitious.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.atomic import atomic_path

__all__ = ["SUBCLASSES", "write_synthetic_bdgd"]

SUBCLASSES = ("RE1", "RE1", "RE1", "CO1", "IN", "RU1", "PP3")
"""``CLAS_SUB`` of the consumer units, in turn (mostly residential, as in a real town)."""
_CRS = "EPSG:4674"
_MONTHS = [f"ENE_{m:02d}" for m in range(1, 13)]


def _grid(code: int, box: tuple[float, float, float, float]) -> tuple[gpd.GeoDataFrame, ...]:
    """Return three east-west low-voltage lines across the box and their 21 poles each."""
    west, south, east, north = box
    width, height = east - west, north - south
    lines, poles = [], []
    for row, share in enumerate((0.3, 0.5, 0.7)):
        y = south + share * height
        xs = np.linspace(west + 0.15 * width, east - 0.15 * width, 21)
        ids = [f"{code}-P{row}-{i:02d}" for i in range(len(xs))]
        poles += [(pid, x, y) for pid, x in zip(ids, xs, strict=True)]
        for i in range(len(xs) - 1):
            lines.append((f"{code}-B{row}-{i:02d}", ids[i], ids[i + 1], xs[i], xs[i + 1], y))
    ssdbt = gpd.GeoDataFrame(
        {"COD_ID": [r[0] for r in lines], "PN_CON_1": [r[1] for r in lines],
         "PN_CON_2": [r[2] for r in lines]},
        geometry=shapely.linestrings([[(r[3], r[5]), (r[4], r[5])] for r in lines]),
        crs=_CRS,
    )  # fmt: skip
    ponnot = gpd.GeoDataFrame(
        {"COD_ID": [p[0] for p in poles], "MUN": str(code)},
        geometry=shapely.points([(p[1], p[2]) for p in poles]),
        crs=_CRS,
    )
    return ssdbt, ponnot


def _pip(code: int, poles: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the lamps: on every other pole, 100 W or 150 W, 360 or 540 kWh a month."""
    chosen = poles["COD_ID"].to_numpy()[::2]
    power = np.where(np.arange(len(chosen)) % 3 == 0, 150.0, 100.0)
    table = pd.DataFrame(
        {"COD_ID": [f"{code}-IP{i:03d}" for i in range(len(chosen))], "PN_CON": chosen,
         "MUN": str(code), "CLAS_SUB": "IP", "GRU_TAR": "B4A", "TIPO_LAMP": "LED",
         "POT_LAMP": power},
    )  # fmt: skip
    for month in _MONTHS:
        table[month] = power * 3.6
    return table


def _consumers(code: int, units: int) -> pd.DataFrame:
    """Return ``units`` consumer units: subclasses in turn, 100 + (i mod 250) kWh a month."""
    i = np.arange(units)
    table = pd.DataFrame(
        {"COD_ID": [f"{code}-UC{k:06d}" for k in i],
         "CLAS_SUB": [SUBCLASSES[k % len(SUBCLASSES)] for k in i],
         "MUN": str(code), "SIT_ATIV": "AT", "DAT_CON": "01/01/2010"},
    )  # fmt: skip
    kwh = 100.0 + (i % 250)
    for month in _MONTHS:
        table[month] = kwh
    return table


def write_synthetic_bdgd(
    out: str | Path,
    boxes: Mapping[int, tuple[float, float, float, float]],
    *,
    units: int | Mapping[int, int] = 200,
) -> Path:
    """Write a fictitious BDGD (GeoPackage) covering the municipalities' boxes.

    Parameters
    ----------
    out : str or Path
        The GeoPackage to write (replaced).
    boxes : mapping of int to (west, south, east, north)
        Per IBGE code, the lon/lat box its network is drawn in.
    units : int or mapping of int to int, default 200
        Consumer units per municipality (one number for all, or per code).

    Returns
    -------
    Path
        ``out``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[pd.DataFrame]] = {"SSDBT": [], "PONNOT": [], "PIP": [], "UCBT_tab": []}
    for code, box in sorted(boxes.items()):
        ssdbt, ponnot = _grid(code, box)
        parts["SSDBT"].append(ssdbt)
        parts["PONNOT"].append(ponnot)
        parts["PIP"].append(_pip(code, ponnot))
        count = units if isinstance(units, int) else units.get(code, 0)
        parts["UCBT_tab"].append(_consumers(code, count))
    with atomic_path(out) as tmp:
        for layer in ("SSDBT", "PONNOT"):
            frame = gpd.GeoDataFrame(pd.concat(parts[layer], ignore_index=True), crs=_CRS)
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        for layer in ("PIP", "UCBT_tab"):
            table = pd.concat(parts[layer], ignore_index=True)
            pyogrio.write_dataframe(table, tmp, layer=layer, driver="GPKG")
    return out
