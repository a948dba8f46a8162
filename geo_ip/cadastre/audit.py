"""Cadastre audit: the municipality's lighting inventory against the utility's BDGD.

Private helper of :mod:`geo_ip.cadastre.package` (which re-exports the public names).

* The utility's cadastre (:func:`geo_ip.cadastre.audit_inputs.read_utility_cadastre`) is
  the BDGD table ``PIP`` joined to the poles ``PONNOT``, with what is billed.
* The inventory (:func:`geo_ip.cadastre.audit_inputs.read_inventory`) is the territory's
  ``pontos_ip`` layer or a file of points with power.

:func:`audit_cadastre` matches them one to one by nearest neighbour within
``cadastro.tolerancia_auditoria_m`` (pairs in increasing distance, rounded to 0.1 m,
then increasing power difference, so two lamps on one pole pair by power) and
classifies every point:

===========================  ========================================================
``situacao``                 ``diferenca_kwh_mes`` (billed − inventory, kWh/month)
===========================  ========================================================
``conferido``                0
``potencia_divergente``      (W billed − W inventory) × hours/day × days / 1000
``faturado_nao_encontrado``  + the PIP's billed energy: mean of its months with
                             ``ENE_xx`` > 0; without any, W × hours × days / 1000
``encontrado_nao_faturado``  − W of the inventory × hours × days / 1000 (power unknown:
                             ``iluminacao.potencia_padrao``, said in ``metodo_energia``)
``erro``                     a row of the inventory file that cannot be used
===========================  ========================================================

Positive differences are energy the municipality pays for without the point (or
above its power); negative ones, points it has that the utility does not bill.
Reais = kWh × the tariff (blank while "a definir").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from scipy.spatial import cKDTree

from geo_ip._util.safe_cells import to_csv
from geo_ip._util.version import __version__
from geo_ip.cadastre.audit_inputs import read_inventory, read_utility_cadastre
from geo_ip.cadastre.inputs import GEOGRAPHIC_CRS, cadastre_rules
from geo_ip.cadastre.writing import metadata_table, provenance_json, write_atomically
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, file_record, stamp

log = logging.getLogger(__name__)

__all__ = [
    "AUDIT_COLUMNS",
    "STATUSES",
    "Audit",
    "audit_cadastre",
    "write_audit",
]

STATUSES = ("conferido", "potencia_divergente", "faturado_nao_encontrado",
            "encontrado_nao_faturado", "erro")  # fmt: skip
"""Values of ``situacao``, in the order of the summary."""
AUDIT_COLUMNS = (
    "situacao", "id_inventario", "id_distribuidora", "poste_distribuidora", "latitude",
    "longitude", "distancia_m", "potencia_inventario_w", "potencia_distribuidora_w",
    "tipo_lampada_inventario", "tipo_lampada_distribuidora", "energia_faturada_kwh_mes",
    "diferenca_kwh_mes", "diferenca_rs_mes", "metodo_energia", "linha_inventario", "observacao",
)  # fmt: skip
"""Columns of ``auditoria_pontos.csv`` (before ``proveniencia``)."""
POWER_TOLERANCE_W = 0.5
"""Powers closer than this are equal (they are whole watts in practice)."""


@dataclass
class Audit:
    """Result of :func:`audit_cadastre`.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        One row per inventory row and per unmatched utility point, EPSG:4674,
        :data:`AUDIT_COLUMNS`.
    summary : pandas.DataFrame
        Per ``situacao``: points, kW on each side, kWh/month and R$/month differences.
    provenance : dict
    notes : list of str
    """

    points: gpd.GeoDataFrame
    summary: pd.DataFrame
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)


# --- matching -------------------------------------------------------------------------------


def match_points(
    a: np.ndarray, b: np.ndarray, wa: np.ndarray, wb: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match two point sets one to one within ``tolerance`` (metric coordinates).

    Candidate pairs are taken in increasing distance (rounded to 0.1 m), then
    increasing power difference (unknown last), then index: each point is used once.

    Parameters
    ----------
    a, b : numpy.ndarray
        (n, 2) and (m, 2) coordinates.
    wa, wb : numpy.ndarray
        Powers (NaN when unknown).
    tolerance : float
        Largest distance of a match.

    Returns
    -------
    ia, ib, distance : numpy.ndarray
        Matched indices into ``a`` and ``b`` and their distances.
    """
    empty = np.array([], dtype=int)
    if len(a) == 0 or len(b) == 0:
        return empty, empty, np.array([], dtype=float)
    pairs = cKDTree(a).sparse_distance_matrix(cKDTree(b), tolerance, output_type="ndarray")
    if len(pairs) == 0:
        return empty, empty, np.array([], dtype=float)
    i, j, d = pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"].astype(float)
    gap = np.abs(wa[i] - wb[j])
    gap = np.where(np.isfinite(gap), gap, np.inf)
    order = np.lexsort((j, i, gap, np.round(d, 1)))
    used_a = np.zeros(len(a), dtype=bool)
    used_b = np.zeros(len(b), dtype=bool)
    keep = []
    for k in order:
        if not used_a[i[k]] and not used_b[j[k]]:
            used_a[i[k]] = used_b[j[k]] = True
            keep.append(k)
    chosen = np.array(keep, dtype=int)
    return i[chosen], j[chosen], d[chosen]


def _metric_crs(frames: list[gpd.GeoDataFrame], crs: str | None) -> str:
    if crs:
        return crs
    located = [f.to_crs(GEOGRAPHIC_CRS) for f in frames if len(f.geometry.dropna())]
    if not located:
        return "EPSG:31983"
    both = pd.concat([f[f.geometry.notna()][["geometry"]] for f in located], ignore_index=True)
    estimated = gpd.GeoDataFrame(both, geometry="geometry", crs=GEOGRAPHIC_CRS).estimate_utm_crs(
        datum_name="SIRGAS 2000"
    )
    return str(estimated.to_string())


def audit_cadastre(
    inventory: str | Path,
    bdgd: str | Path,
    rules: Rules,
    *,
    tariff: float | None = None,
    ibge: int | None = None,
    crs: str | None = None,
) -> Audit:
    """Compare the municipality's inventory with the utility's cadastre (BDGD ``PIP``).

    Parameters
    ----------
    inventory : str or Path
        Territory GeoPackage or points file
        (:func:`geo_ip.cadastre.audit_inputs.read_inventory`).
    bdgd : str or Path
        The utility's BDGD (:func:`geo_ip.cadastre.audit_inputs.read_utility_cadastre`).
    rules : Rules
        ``[cadastro]`` (tolerance, days, tariff) and ``iluminacao`` (hours, default power).
    tariff : float, optional
        R$/kWh overriding ``cadastro.tarifa_ip``.
    ibge : int, optional
        Only the BDGD points of this municipality (``PIP.MUN``).
    crs : str, optional
        Metric CRS of the matching; default: the SIRGAS 2000 / UTM zone of the data.

    Returns
    -------
    Audit

    Raises
    ------
    GeoIPError
        A tariff that is not a positive number; unreadable inputs (its subclasses).
    """
    if tariff is not None and not (math.isfinite(tariff) and tariff > 0):  # as build_cadastre
        raise GeoIPError(f"tarifa inválida ({tariff}): informe R$/kWh > 0", field="--tarifa")
    started = datetime.now(UTC)
    cad = cadastre_rules(rules)
    inv, errors, notes = read_inventory(inventory)
    util, util_notes = read_utility_cadastre(bdgd, ibge=ibge)
    notes += util_notes
    metric = _metric_crs([inv, util], crs)
    rate = tariff if tariff is not None else cad.tarifa_ip.valor
    energy = _Energy(
        rules.iluminacao.horas_por_dia.valor,
        cad.dias_por_mes.valor,
        rules.iluminacao.potencia_padrao.valor,
        cad.tolerancia_auditoria_m.valor,
    )
    points = _points(*_rows(inv, util, errors, metric, energy), rate)
    if rate is None:
        notes.append("tarifa de iluminação pública a definir: diferenças em reais não estimadas")
    source = "informada em --tarifa" if tariff is not None else cad.tarifa_ip.fonte
    provenance: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "executado_em": started.isoformat(timespec="seconds"),
        "regras": {"arquivo": rules.arquivo, "versao": rules.versao, "sha256": rules.sha256},
        "entradas": [file_record("inventario", Path(inventory)), file_record("bdgd", Path(bdgd))],
        "crs": GEOGRAPHIC_CRS,
        "crs_metrico": metric,
        "parametros": _parameters(rules, {"valor": rate, "unidade": "R$/kWh", "fonte": source}),
        "contagens": {s: int((points["situacao"] == s).sum()) for s in STATUSES},
        "avisos": notes,
        "carimbo": stamp(rules, {"crs": GEOGRAPHIC_CRS}),
    }  # fmt: skip
    provenance["parametros"]["municipio_ibge"] = ibge
    if rules.municipio.ficticio:
        provenance["rotulo"] = FICTIONAL_LABEL
    log.info("auditoria do cadastro: %s", provenance["contagens"])
    return Audit(points, _summary(points, rate), provenance, notes)


def _parameters(rules: Rules, tariff: dict[str, Any]) -> dict[str, Any]:
    """Return the rules' parameters of the audit, each with its source, and the tariff."""
    cad = cadastre_rules(rules)
    return {
        "tolerancia_auditoria_m": cad.tolerancia_auditoria_m.model_dump(),
        "horas_por_dia": rules.iluminacao.horas_por_dia.model_dump(),
        "dias_por_mes": cad.dias_por_mes.model_dump(),
        "tarifa_ip": tariff,
    }


@dataclass(frozen=True)
class _Energy:
    """What turns a power into monthly energy, and the matching distance (the rules')."""

    hours: float
    days: float
    default_w: float
    tolerance: float

    def kwh(self, watts: float) -> float:
        """Monthly energy of ``watts`` (W × hours/day × days / 1000)."""
        return float((np.array([watts]) * self.hours * self.days / 1000.0)[0])


def _rows(
    inv: gpd.GeoDataFrame,
    util: gpd.GeoDataFrame,
    errors: pd.DataFrame,
    metric: str,
    energy: _Energy,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Rows of the audit and their points: the inventory's, the utility's left, the errors."""
    ia, ib, dist = _match(inv, util, metric, energy.tolerance)
    pairs = dict(zip(ia.tolist(), zip(ib.tolist(), dist.tolist(), strict=True), strict=True))
    rows, geoms = _inventory_rows(inv, util, pairs, energy)
    more, more_geoms = _utility_rows(util, set(ib.tolist()), energy)
    rows += more
    geoms += more_geoms
    for row in errors.itertuples(index=False):
        rows.append({"situacao": "erro", "id_inventario": row.id_inventario,
                     "linha_inventario": row.linha, "observacao": row.motivo})  # fmt: skip
        geoms.append(None)
    return rows, geoms


def _xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) coordinates of a frame of points (an empty (0, 2) array for no rows)."""
    if not len(frame):
        return np.empty((0, 2))
    return np.column_stack([frame.geometry.x, frame.geometry.y])


def _match(
    inv: gpd.GeoDataFrame, util: gpd.GeoDataFrame, metric: str, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match the inventory to the utility's located points (:func:`match_points`).

    Returns the matched rows of ``inv`` and ``util`` and their distances (m).
    """
    has_pole = util.geometry.notna().to_numpy()
    where = np.flatnonzero(has_pole)
    xy_inv = _xy(inv.to_crs(metric))
    xy_util = _xy(util.to_crs(metric).loc[has_pole])
    wi = inv["potencia_w"].to_numpy(dtype=float)
    wu = util["potencia_w"].to_numpy(dtype=float)[where]
    ia, ib_local, dist = match_points(xy_inv, xy_util, wi, wu, tolerance)
    return ia, where[ib_local], dist


def _inventory_rows(
    inv: gpd.GeoDataFrame,
    util: gpd.GeoDataFrame,
    matched: dict[int, tuple[int, float]],
    energy: _Energy,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Rows of the inventory's points: checked, power differing, or not billed."""
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    wi = inv["potencia_w"].to_numpy(dtype=float)
    wu_all = util["potencia_w"].to_numpy(dtype=float)
    inv_geo = inv.to_crs(GEOGRAPHIC_CRS)
    for k in range(len(inv)):
        base = {
            "id_inventario": inv["id_inventario"].iloc[k],
            "potencia_inventario_w": wi[k],
            "tipo_lampada_inventario": inv["tipo_lampada"].iloc[k],
            "linha_inventario": int(inv["linha"].iloc[k]),
        }
        if k in matched:
            j, d = matched[k]
            wu = wu_all[j]
            comparable = np.isfinite(wi[k]) and np.isfinite(wu)
            differs = comparable and abs(wi[k] - wu) > POWER_TOLERANCE_W
            note = "" if comparable else "potência desconhecida em um dos lados: não comparada"
            rows.append({
                **base, **_util_fields(util, j),
                "situacao": "potencia_divergente" if differs else "conferido",
                "distancia_m": round(float(d), 2),
                "diferenca_kwh_mes": energy.kwh(wu - wi[k]) if differs else 0.0,
                "metodo_energia": "diferença de potência × horas × dias" if differs else "",
                "observacao": note,
            })  # fmt: skip
        else:
            watts = wi[k] if np.isfinite(wi[k]) else energy.default_w
            method = "potência do inventário × horas × dias"
            if not np.isfinite(wi[k]):
                method = (
                    f"potência padrão {energy.default_w:g} W (iluminacao.potencia_padrao) "
                    "× horas × dias"
                )
            rows.append({
                **base, "situacao": "encontrado_nao_faturado", "distancia_m": np.nan,
                "diferenca_kwh_mes": -energy.kwh(watts), "metodo_energia": method,
                "observacao": f"nenhum ponto da BDGD a menos de {energy.tolerance:g} m",
            })  # fmt: skip
        geoms.append(inv_geo.geometry.iloc[k])
    return rows, geoms


def _utility_rows(
    util: gpd.GeoDataFrame, matched: set[int], energy: _Energy
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Rows of the utility's points that no inventory point matched: billed, not found."""
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    has_pole = util.geometry.notna().to_numpy()
    util_geo = util.to_crs(GEOGRAPHIC_CRS)
    for j in range(len(util)):
        if j in matched:
            continue
        billed = float(util["energia_kwh_mes"].iloc[j])
        if np.isfinite(billed):
            value, method = billed, "ENE_01..ENE_12 da BDGD (média dos meses faturados)"
        else:
            value = energy.kwh(float(util["potencia_w"].iloc[j]))
            method = "potência da BDGD × horas × dias (sem ENE faturada)"
        rows.append({
            **_util_fields(util, j), "situacao": "faturado_nao_encontrado",
            "distancia_m": np.nan, "diferenca_kwh_mes": value, "metodo_energia": method,
            "observacao": "" if has_pole[j] else "sem poste na BDGD (PN_CON sem PONNOT)",
            "linha_inventario": np.nan,
        })  # fmt: skip
        geoms.append(util_geo.geometry.iloc[j] if has_pole[j] else None)
    return rows, geoms


def _points(rows: list[dict[str, Any]], geoms: list[Any], rate: float | None) -> gpd.GeoDataFrame:
    """Return the audit's points in :data:`AUDIT_COLUMNS`, in the order of :data:`STATUSES`."""
    table = pd.DataFrame(rows).reindex(columns=list(AUDIT_COLUMNS))
    table["diferenca_rs_mes"] = table["diferenca_kwh_mes"] * (rate if rate is not None else np.nan)
    points = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=GEOGRAPHIC_CRS))
    points["latitude"] = points.geometry.y.round(7)
    points["longitude"] = points.geometry.x.round(7)
    order = points["situacao"].map({s: n for n, s in enumerate(STATUSES)})
    return points.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _util_fields(util: gpd.GeoDataFrame, j: int) -> dict[str, Any]:
    return {
        "id_distribuidora": util["id_distribuidora"].iloc[j],
        "poste_distribuidora": util["poste"].iloc[j],
        "potencia_distribuidora_w": float(util["potencia_w"].iloc[j]),
        "tipo_lampada_distribuidora": util["tipo_lampada"].iloc[j],
        "energia_faturada_kwh_mes": float(util["energia_kwh_mes"].iloc[j]),
    }


def _summary(points: pd.DataFrame, rate: float | None) -> pd.DataFrame:
    rows = []
    for status in STATUSES:
        part = points.loc[points["situacao"] == status]
        rows.append(
            {
                "situacao": status,
                "pontos": len(part),
                "carga_inventario_kw": part["potencia_inventario_w"].sum() / 1000.0,
                "carga_distribuidora_kw": part["potencia_distribuidora_w"].sum() / 1000.0,
                "diferenca_kwh_mes": part["diferenca_kwh_mes"].sum(),
            }
        )
    out = pd.DataFrame(rows)
    total = out[out["situacao"] != "erro"].sum(numeric_only=True)
    out.loc[len(out)] = {"situacao": "total", **total.to_dict()}
    out["pontos"] = out["pontos"].astype(int)
    out["diferenca_rs_mes"] = out["diferenca_kwh_mes"] * (rate if rate is not None else np.nan)
    return out


def write_audit(audit: Audit, out_dir: str | Path) -> list[Path]:
    """Write the audit files.

    ``auditoria_pontos.csv``, ``auditoria_resumo.csv``, ``auditoria.gpkg`` (one layer
    per situation, EPSG:4674) and ``proveniencia.json``.

    Parameters
    ----------
    audit : Audit
    out_dir : str or Path

    Returns
    -------
    list of Path
    """
    out = Path(out_dir)
    stamp_text = str(audit.provenance["carimbo"])
    points = audit.points
    csv_rounding = {"diferenca_kwh_mes": 3, "diferenca_rs_mes": 2, "energia_faturada_kwh_mes": 3}
    meta = metadata_table(audit.provenance)

    def gpkg(tmp: Path) -> None:
        for status in STATUSES[:-1]:
            layer = points.loc[(points["situacao"] == status) & points.geometry.notna()]
            pyogrio.write_dataframe(
                layer.assign(proveniencia=stamp_text), tmp, layer=status, driver="GPKG",
                geometry_type="Point",
            )  # fmt: skip
        pyogrio.write_dataframe(meta, tmp, layer="metadados", driver="GPKG")

    files: dict[str, Callable[[Path], object]] = {
        "auditoria_pontos.csv": lambda tmp: to_csv(
            pd.DataFrame(points.drop(columns="geometry"))
            .round(csv_rounding)
            .assign(proveniencia=stamp_text),
            tmp,
        ),
        "auditoria_resumo.csv": lambda tmp: to_csv(
            audit.summary.round(3).assign(proveniencia=stamp_text), tmp
        ),
        "auditoria.gpkg": gpkg,
        "proveniencia.json": provenance_json(audit.provenance),
    }
    return write_atomically(out, files)
