"""Cadastre audit: the municipality's lighting inventory against the utility's BDGD.

Private helper of :mod:`geo_ip.cadastre.package` (which re-exports the public names).

* The utility's cadastre (:func:`read_utility_cadastre`) is the BDGD table ``PIP``
  joined to the poles ``PONNOT`` (``PIP.PN_CON = PONNOT.COD_ID``), the same join as
  :func:`geo_ip.sources.grid.read_bdgd`, keeping what is billed: power ``POT_LAMP``, lamp
  ``TIPO_LAMP``, municipality ``MUN`` and the monthly energy ``ENE_01..ENE_12``.
* The inventory (:func:`read_inventory`) is the territory's ``pontos_ip`` layer or a
  file of points (CSV/XLSX with latitude/longitude, GeoJSON, GeoPackage) with power.

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

import json
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

from geo_ip._util.atomic import atomic_path, write_staged
from geo_ip._util.safe_cells import to_csv
from geo_ip._util.version import __version__
from geo_ip.cadastre.inputs import (
    GEOGRAPHIC_CRS,
    cadastre_rules,
    coordinates,
    power_values,
    texts,
)
from geo_ip.errors import GeoIPError, GridError
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, file_record, stamp
from geo_ip.sources.catalog import load_catalog
from geo_ip.sources.grid_common import as_text, gdal_errors, layer_names, require_exists
from geo_ip.sources.tables import GEOMETRY_PROBLEM, Schema, aliases_of, read_sheet

log = logging.getLogger(__name__)

__all__ = [
    "AUDIT_COLUMNS",
    "STATUSES",
    "Audit",
    "audit_cadastre",
    "read_inventory",
    "read_utility_cadastre",
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
_ENERGY = tuple(f"ENE_{m:02d}" for m in range(1, 13))
_INVENTORY_SCHEMA = Schema(
    what="inventário de pontos de iluminação pública",
    aliases=aliases_of(
        {
            "id_ponto": ("id", "codigo", "cod_id", "codigo_ponto", "cod_ponto", "id_origem",
                         "ponto", "id_ip", "numero"),
            "latitude": ("lat", "latitude_y", "lat_y", "y"),
            "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x", "x"),
            "potencia_w": ("potencia", "pot_lamp", "potencia_lampada", "watts", "w"),
            "tipo_lampada": ("tipo_lamp", "lampada", "tipo_de_lampada", "tecnologia"),
            "poste": ("poste_id", "id_poste", "pn_con", "codigo_poste"),
        }
    ),
    required=("latitude", "longitude"),
    of=" do inventário",
    layer="pontos_ip",
)  # fmt: skip


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


# --- reading --------------------------------------------------------------------------------


def read_utility_cadastre(
    path: str | Path, *, ibge: int | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read the utility's lighting points from a BDGD: ``PIP`` joined to ``PONNOT``.

    Parameters
    ----------
    path : str or Path
        ``.gdb`` folder, ``.gdb.zip`` or GeoPackage with BDGD layer names.
    ibge : int, optional
        Keep only the points of this municipality (``PIP.MUN``); when no point has it,
        all are kept with a warning.

    Returns
    -------
    points : geopandas.GeoDataFrame
        ``id_distribuidora`` (``PIP.COD_ID``), ``poste`` (``PN_CON``), ``potencia_w``,
        ``tipo_lampada``, ``municipio``, ``energia_kwh_mes`` (mean of the months with
        energy > 0; NaN when none) and the pole's point (None when ``PN_CON`` has no
        pole), in the BDGD's CRS.
    notes : list of str
        Warnings (orphan points, municipality filter).

    Raises
    ------
    GridError
        When the file is not a BDGD or lacks ``PIP``/``PONNOT`` or a key field.
    """
    from geo_ip.sources.grid import _bdgd_dataset

    source = Path(path)
    require_exists(source)
    catalog = load_catalog().rede_existente
    mapping = catalog.bdgd
    dataset = _bdgd_dataset(source, catalog)
    if dataset is None:
        raise GridError(
            "não é uma BDGD (.gdb, .gdb.zip ou GeoPackage com PIP e PONNOT)", path=source
        )
    src = dataset[0]
    layers = layer_names(src, source)
    for name in (mapping.tabela_ip, mapping.camada_postes):
        if name.upper() not in layers:
            raise GridError(f"camada '{name}' da BDGD ausente", path=source)
    key, link = mapping.chave_postes, mapping.chave_ip
    wanted = [key, link, "POT_LAMP", "TIPO_LAMP", "MUN", *_ENERGY]
    with gdal_errors(source, f"não foi possível ler a tabela '{mapping.tabela_ip}'"):
        pip = pyogrio.read_dataframe(
            src, layer=layers[mapping.tabela_ip.upper()], columns=wanted, read_geometry=False
        )
    with gdal_errors(source, f"não foi possível ler a camada '{mapping.camada_postes}'"):
        poles = pyogrio.read_dataframe(
            src, layer=layers[mapping.camada_postes.upper()], columns=[key]
        )
    for column in (key, link):
        if column not in pip:
            raise GridError(
                f"tabela '{mapping.tabela_ip}' sem o campo {column}", path=source, field=column
            )
    for column in wanted:
        if column not in pip:
            pip[column] = None
    notes: list[str] = []
    pip["MUN"] = as_text(pip["MUN"])
    if ibge is not None:
        mine = pip["MUN"] == str(ibge)
        if mine.any():
            pip = pip.loc[mine]
        else:
            codes = ", ".join(sorted({str(c) for c in pip["MUN"].dropna()})) or "nenhum"
            notes.append(
                f"nenhum ponto da BDGD tem MUN = {ibge} (códigos presentes: {codes}): "
                "comparados todos os pontos"
            )
    located = poles.assign(**{key: as_text(poles[key])}).drop_duplicates(subset=key)
    by_pole = pd.Series(located.geometry.to_numpy(), index=located[key].to_numpy())
    pole_id = as_text(pip[link]).reset_index(drop=True)
    geometry = pole_id.map(by_pole)
    orphans = int(geometry.isna().sum())
    if orphans:
        notes.append(
            f"{orphans} ponto(s) da tabela {mapping.tabela_ip} sem poste em "
            f"{mapping.camada_postes}: faturados sem localização"
        )
    energy = pip[list(_ENERGY)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    billed = np.where(energy > 0, energy, np.nan)
    months = np.isfinite(billed).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.where(months > 0, np.nansum(billed, axis=1) / np.maximum(months, 1), np.nan)
    out = gpd.GeoDataFrame(
        {
            "id_distribuidora": as_text(pip[key]).to_numpy(),
            "poste": pole_id.to_numpy(),
            "potencia_w": pd.to_numeric(pip["POT_LAMP"], errors="coerce").astype(float).to_numpy(),
            "tipo_lampada": as_text(pip["TIPO_LAMP"]).fillna("").to_numpy(),
            "municipio": pip["MUN"].fillna("").to_numpy(),
            "energia_kwh_mes": mean,
        },
        geometry=gpd.GeoSeries(list(geometry.where(geometry.notna(), None)), crs=poles.crs),
        crs=poles.crs,
    )
    return out, notes


def _is_territory(path: Path) -> bool:
    if path.suffix.lower() != ".gpkg":
        return False
    try:
        names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except pyogrio.errors.DataSourceError:
        return False
    return {"metadados", "pontos_ip", "vias"} <= names


def read_inventory(path: str | Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """Read the municipality's inventory of lighting points.

    Parameters
    ----------
    path : str or Path
        A territory GeoPackage (its ``pontos_ip`` layer) or a points file: CSV/XLSX
        with ``latitude``, ``longitude`` (decimal degrees), ``potencia_w`` and optional
        ``id_ponto``, ``tipo_lampada``, ``poste``; or GeoJSON/GeoPackage points.

    Returns
    -------
    points : geopandas.GeoDataFrame
        ``id_inventario``, ``potencia_w`` (NaN when unknown), ``tipo_lampada``,
        ``linha`` and the point (any CRS).
    errors : pandas.DataFrame
        Rows that cannot be used: ``linha``, ``id_inventario``, ``motivo``.
    notes : list of str
    """
    path = Path(path)
    notes: list[str] = []
    if _is_territory(path):
        from geo_ip.territory.store import read_layer

        lights = read_layer(path, "pontos_ip").reset_index(drop=True)
        if len(lights) and (lights["fonte"].astype(str) == "bdgd").all():
            notes.append(
                "os pontos de IP do território vieram da própria BDGD: a auditoria compara a "
                "BDGD com ela mesma; use o inventário próprio do Município"
            )
        points = gpd.GeoDataFrame(
            {
                "id_inventario": lights["id_origem"].fillna("").astype(str).to_numpy(),
                "potencia_w": pd.to_numeric(lights["potencia_w"], errors="coerce").to_numpy(),
                "tipo_lampada": lights["tipo_lampada"].fillna("").astype(str).to_numpy(),
                "linha": np.arange(1, len(lights) + 1),
            },
            geometry=lights.geometry.to_numpy(),
            crs=lights.crs,
        )
        return points, pd.DataFrame(columns=["linha", "id_inventario", "motivo"]), notes
    table = read_sheet(path, _INVENTORY_SCHEMA).reset_index(drop=True)
    n = len(table)
    text = texts(table, ("id_ponto", "latitude", "longitude", "potencia_w", "tipo_lampada"))
    problems: list[list[str]] = [[] for _ in range(n)]
    warnings: list[list[str]] = [[] for _ in range(n)]
    lat, lon, given = coordinates(text["latitude"], text["longitude"], problems)
    power = power_values(text["potencia_w"], problems, warnings, float("inf"))
    if GEOMETRY_PROBLEM in table:
        for i, problem in enumerate(table[GEOMETRY_PROBLEM].fillna("")):
            if problem:
                problems[i].append(f"geometria: {problem}")
    for k in np.flatnonzero(~given):
        if not problems[k]:
            problems[k].append("campos 'latitude' e 'longitude': vazios (ponto sem localização)")
    ok = np.array([not p for p in problems], dtype=bool)
    lines = table["linha"].astype(int).to_numpy()
    errors = pd.DataFrame(
        {
            "linha": lines[~ok],
            "id_inventario": np.asarray(text["id_ponto"], dtype=object)[~ok],
            "motivo": [f"arquivo '{path}', linha {lines[i]}: " + " | ".join(problems[i])
                       for i in np.flatnonzero(~ok)],
        }
    )  # fmt: skip
    points = gpd.GeoDataFrame(
        {
            "id_inventario": np.asarray(text["id_ponto"], dtype=object)[ok],
            "potencia_w": power[ok],
            "tipo_lampada": np.asarray(text["tipo_lampada"], dtype=object)[ok],
            "linha": lines[ok],
        },
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=GEOGRAPHIC_CRS,
    )
    return points, errors, notes


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
        Territory GeoPackage or points file (:func:`read_inventory`).
    bdgd : str or Path
        The utility's BDGD (:func:`read_utility_cadastre`).
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
    hours, days = rules.iluminacao.horas_por_dia.valor, cad.dias_por_mes.valor
    rate = tariff if tariff is not None else cad.tarifa_ip.valor
    tolerance = cad.tolerancia_auditoria_m.valor
    inv_m = inv.to_crs(metric)
    has_pole = util.geometry.notna().to_numpy()
    util_m = util.to_crs(metric)
    xy_inv = (
        np.column_stack([inv_m.geometry.x, inv_m.geometry.y]) if len(inv_m) else np.empty((0, 2))
    )
    located = util_m.loc[has_pole]
    xy_util = (
        np.column_stack([located.geometry.x, located.geometry.y])
        if len(located)
        else np.empty((0, 2))
    )
    wi = inv["potencia_w"].to_numpy(dtype=float)
    wu_all = util["potencia_w"].to_numpy(dtype=float)
    where = np.flatnonzero(has_pole)
    ia, ib_local, dist = match_points(xy_inv, xy_util, wi, wu_all[where], tolerance)
    ib = where[ib_local]

    def kwh(watts: np.ndarray) -> np.ndarray:
        return watts * hours * days / 1000.0

    default_w = rules.iluminacao.potencia_padrao.valor
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    inv_geo = inv.to_crs(GEOGRAPHIC_CRS)
    util_geo = util.to_crs(GEOGRAPHIC_CRS)
    matched_inv = dict(zip(ia.tolist(), zip(ib.tolist(), dist.tolist(), strict=True), strict=True))
    for k in range(len(inv)):
        base = {
            "id_inventario": inv["id_inventario"].iloc[k],
            "potencia_inventario_w": wi[k],
            "tipo_lampada_inventario": inv["tipo_lampada"].iloc[k],
            "linha_inventario": int(inv["linha"].iloc[k]),
        }
        if k in matched_inv:
            j, d = matched_inv[k]
            wu = wu_all[j]
            comparable = np.isfinite(wi[k]) and np.isfinite(wu)
            differs = comparable and abs(wi[k] - wu) > POWER_TOLERANCE_W
            note = "" if comparable else "potência desconhecida em um dos lados: não comparada"
            rows.append({
                **base, **_util_fields(util, j),
                "situacao": "potencia_divergente" if differs else "conferido",
                "distancia_m": round(float(d), 2),
                "diferenca_kwh_mes": float(kwh(np.array([wu - wi[k]]))[0]) if differs else 0.0,
                "metodo_energia": "diferença de potência × horas × dias" if differs else "",
                "observacao": note,
            })  # fmt: skip
        else:
            watts = wi[k] if np.isfinite(wi[k]) else default_w
            method = "potência do inventário × horas × dias"
            if not np.isfinite(wi[k]):
                method = (
                    f"potência padrão {default_w:g} W (iluminacao.potencia_padrao) × horas × dias"
                )
            rows.append({
                **base, "situacao": "encontrado_nao_faturado", "distancia_m": np.nan,
                "diferenca_kwh_mes": -float(kwh(np.array([watts]))[0]), "metodo_energia": method,
                "observacao": f"nenhum ponto da BDGD a menos de {tolerance:g} m",
            })  # fmt: skip
        geoms.append(inv_geo.geometry.iloc[k])
    matched_util = set(ib.tolist())
    for j in range(len(util)):
        if j in matched_util:
            continue
        energy = float(util["energia_kwh_mes"].iloc[j])
        if np.isfinite(energy):
            value, method = energy, "ENE_01..ENE_12 da BDGD (média dos meses faturados)"
        else:
            value = float(kwh(np.array([wu_all[j]]))[0])
            method = "potência da BDGD × horas × dias (sem ENE faturada)"
        rows.append({
            **_util_fields(util, j), "situacao": "faturado_nao_encontrado",
            "distancia_m": np.nan, "diferenca_kwh_mes": value, "metodo_energia": method,
            "observacao": "" if has_pole[j] else "sem poste na BDGD (PN_CON sem PONNOT)",
            "linha_inventario": np.nan,
        })  # fmt: skip
        geoms.append(util_geo.geometry.iloc[j] if has_pole[j] else None)
    for row in errors.itertuples(index=False):
        rows.append({"situacao": "erro", "id_inventario": row.id_inventario,
                     "linha_inventario": row.linha, "observacao": row.motivo})  # fmt: skip
        geoms.append(None)
    table = pd.DataFrame(rows).reindex(columns=list(AUDIT_COLUMNS))
    table["diferenca_rs_mes"] = table["diferenca_kwh_mes"] * (rate if rate is not None else np.nan)
    points = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=GEOGRAPHIC_CRS))
    points["latitude"] = points.geometry.y.round(7)
    points["longitude"] = points.geometry.x.round(7)
    order = points["situacao"].map({s: n for n, s in enumerate(STATUSES)})
    points = points.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    summary = _summary(points, rate)
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
        "parametros": {
            "tolerancia_auditoria_m": cad.tolerancia_auditoria_m.model_dump(),
            "horas_por_dia": rules.iluminacao.horas_por_dia.model_dump(),
            "dias_por_mes": cad.dias_por_mes.model_dump(),
            "tarifa_ip": {"valor": rate, "unidade": "R$/kWh", "fonte": source},
            "municipio_ibge": ibge,
        },
        "contagens": {s: int((points["situacao"] == s).sum()) for s in STATUSES},
        "avisos": notes,
        "carimbo": stamp(rules, {"crs": GEOGRAPHIC_CRS}),
    }  # fmt: skip
    if rules.municipio.ficticio:
        provenance["rotulo"] = FICTIONAL_LABEL
    log.info("auditoria do cadastro: %s", provenance["contagens"])
    return Audit(points, summary, provenance, notes)


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
    meta = pd.DataFrame(
        [{"chave": k, "valor": json.dumps(v, ensure_ascii=False, default=str)}
         for k, v in audit.provenance.items()]
    )  # fmt: skip

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
        "proveniencia.json": lambda tmp: tmp.write_text(
            json.dumps(audit.provenance, ensure_ascii=False, indent=1, default=str),
            encoding="utf-8",
        ),
    }

    def atomic(write: Callable[[Path], object]) -> Callable[[Path], None]:
        def to(path: Path) -> None:
            with atomic_path(path) as tmp:
                write(tmp)

        return to

    # all files or none: never a mix of two runs
    return write_staged(out, {name: atomic(write) for name, write in files.items()})
