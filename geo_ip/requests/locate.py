"""Locate requests: intake → validation → offline geocoding → snapping, for all rows at once.

Every input row comes out, in order, with a final ``situacao`` (ok / aviso /
erro) and every problem found on the way: validation problems, geocoding
failures (not found, ambiguous street), low-precision locations and requests
beyond the road network.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv
from geo_ip.errors import InputFileError
from geo_ip.network.roads import SNAP_COLUMNS, RoadIndex
from geo_ip.requests import geocode as geocode_mod
from geo_ip.requests import intake, privacy
from geo_ip.requests.geocode_online import Geocoder, geocode_online
from geo_ip.rules.config import Rules
from geo_ip.schema import LOCATE_STATUS
from geo_ip.territory.reader import Territory, TerritoryLike

log = logging.getLogger(__name__)

LOCATED_COLUMNS = tuple(LOCATE_STATUS)
"""Status columns rewritten by :func:`locate_requests` (:data:`geo_ip.schema.LOCATE_STATUS`)."""

_PRECISION_WARNING = {
    "bairro": "aviso: localizado só pelo bairro (posição aproximada",
    "logradouro": "aviso: localizado só pelo logradouro, sem o número (posição aproximada",
}
"""Completed with the uncertainty: ``(posição aproximada, ± 350 m)``."""


def _append(problems: pd.Series, mask: pd.Series, text: pd.Series | str) -> pd.Series:
    """Append ``text`` to the problems of the rows in ``mask`` (``" | "``-joined)."""
    rows = np.flatnonzero(mask.to_numpy(dtype=bool))
    if not rows.size:
        return problems
    existing = problems.to_numpy(dtype=object)
    added = [text] * len(rows) if isinstance(text, str) else text.iloc[rows].tolist()
    joined = existing.copy()
    joined[rows] = [
        f"{old} | {new}" if old else new for old, new in zip(existing[rows], added, strict=True)
    ]
    return pd.Series(joined, index=problems.index, dtype=object)


def locate_requests(
    requests: str | Path,
    territory: TerritoryLike,
    rules: Rules,
    *,
    cnefe: str | Path | None = None,
    today: date | None = None,
    online: bool = False,
    geocoder: Geocoder | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Validate, geocode and snap every request of a spreadsheet.

    Parameters
    ----------
    requests : str or Path
        The requests file (CSV, XLSX, GeoJSON or GeoPackage).
    territory : Territory, str or Path
        The territory (``geo-ip territorio``), opened or as its GeoPackage.
    rules : Rules
        Municipality rules (snapping threshold, validation limits).
    cnefe : str or Path, optional
        IBGE CNEFE address file of the municipality (exact address points).
    today : date, optional
        Reference date for future-date checks (default: today).
    online : bool, default False
        Try OpenStreetMap Nominatim for the requests the offline geocoder could
        not place on a street (:mod:`geo_ip.requests.geocode_online`).
    geocoder : callable, optional
        The online geocoder to use (default: Nominatim through geopy); implies
        ``online``.
    roads : GeoDataFrame, optional
        The territory's ``vias`` layer when the caller has already read it (read
        once for the whole assessment).

    Returns
    -------
    DataFrame
        One row per input row, in order: the validated columns, the geocoding
        columns of :func:`geo_ip.requests.geocode.geocode`, the snapping columns of
        :data:`geo_ip.network.roads.SNAP_COLUMNS`, and the final ``situacao`` and
        ``problemas``. Points outside the municipality are not used: ``x``/``y``
        are NaN, the snapping columns empty and ``fora_da_malha`` NA (``latitude``
        and ``longitude`` keep the values of the file).
    """
    territory = Territory.open(territory)
    boundary = intake.territory_boundary(territory, rules.municipio.codigo_ibge)
    checked = intake.validate_requests(
        intake.read_requests(requests), rules, boundary=boundary, today=today
    )
    if roads is None:  # after the checks: a caller may be reading them in a thread
        roads = territory.layer("vias")
    has_xy = checked["latitude"].notna() & checked["longitude"].notna()
    gazetteer = geocode_mod.Gazetteer.from_territory(
        territory, cnefe=cnefe, streets=not bool(has_xy.all()), roads=roads
    )
    located = geocode_mod.geocode(checked, gazetteer)
    if online or geocoder is not None:
        located = geocode_online(
            located,
            municipio=rules.municipio.nome,
            uf=rules.municipio.uf,
            crs=gazetteer.crs,
            boundary=boundary,
            geocoder=geocoder,
        )
    located = located.reset_index(drop=True)
    out, lon, lat, inside = _snap_inside(located, boundary, roads, rules)
    out["situacao"], out["problemas"] = _status_and_problems(out, lon, lat, inside, rules)
    counts = out["situacao"].value_counts().to_dict()
    log.info(
        "%d pedidos: %d ok, %d com aviso, %d com erro",
        len(out),
        counts.get("ok", 0),
        counts.get("aviso", 0),
        counts.get("erro", 0),
    )
    return out


def _snap_inside(
    located: pd.DataFrame, boundary: shapely.Geometry, roads: gpd.GeoDataFrame, rules: Rules
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Snap the requests located inside the municipality to the nearest road."""
    lon = located["longitude"].to_numpy(np.float64)
    lat = located["latitude"].to_numpy(np.float64)
    inside = np.isfinite(lon) & np.isfinite(lat) & shapely.contains_xy(boundary, lon, lat)
    x = np.where(inside, located["x"].to_numpy(np.float64), np.nan)
    y = np.where(inside, located["y"].to_numpy(np.float64), np.nan)
    located["x"], located["y"] = x, y  # latitude/longitude keep what the file says
    snapped = RoadIndex(roads).snap(x, y, rules.rede.distancia_maxima_via.valor)
    snapped["fora_da_malha"] = snapped["fora_da_malha"].astype("boolean")
    snapped.loc[~inside, "fora_da_malha"] = pd.NA
    out = pd.concat([located, snapped], axis=1)

    return out, lon, lat, inside


def _status_and_problems(
    out: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, inside: np.ndarray, rules: Rules
) -> tuple[pd.Series, pd.Series]:
    """Add the location's warnings to each row's problems and settle its ``situacao``."""
    problems = out["problemas"].astype("object").fillna("")
    failed = out["geocodificacao"] == "falhou"
    problems = _append(
        problems, failed, "não localizado: " + out["geocodificacao_detalhe"].fillna("").astype(str)
    )
    size = pd.to_numeric(out["incerteza_m"], errors="coerce")
    radius = (", ± " + size.round(0).astype("Int64").astype(str) + " m)").where(
        size.notna(), ", tamanho desconhecido)"
    )
    for kind, text in _PRECISION_WARNING.items():
        problems = _append(problems, out["geocodificacao"] == kind, text + radius)
    outside = np.isfinite(lon) & np.isfinite(lat) & ~inside
    already = problems.str.contains("fora do município", regex=False)
    problems = _append(
        problems,
        pd.Series(outside, index=out.index) & ~already,
        "aviso: localizado fora do limite municipal; não ligado à malha viária",
    )
    far = out["fora_da_malha"].fillna(False).astype(bool)
    distance = out["distancia_via_m"].round(0).astype("Int64").astype(str)
    limit = f"{rules.rede.distancia_maxima_via.valor:g}"
    problems = _append(
        problems,
        far,
        "aviso: fora_da_malha — a " + distance + f" m da via mais próxima (limite {limit} m)",
    )
    status = out["situacao"].copy()
    status[(status == "ok") & problems.str.contains("aviso:", regex=False)] = "aviso"
    status[failed] = "erro"
    return status, problems


REPORT_DROPPED = ("nome_solicitante", "renda_familiar", "cadunico", "x", "y", "trecho_candidato")
"""Columns left out of :func:`located_report` (LGPD: names, income, CadÚnico; the
internal projected coordinates of the request, which ``latitude``/``longitude`` give;
the candidate stretch, a geometry, which the assessment's GeoPackage and maps carry)."""
_FIRST = (
    "linha", "protocolo", "situacao", "problemas", "data_protocolo", "tipo", "endereco",
    "numero", "bairro", "cep", "latitude", "longitude", "geocodificacao",
    "logradouro_encontrado", "bairro_encontrado", "confianca", "incerteza_m",
    "geocodificacao_detalhe", "distancia_via_m", "logradouro_via", "hierarquia_via",
    "fora_da_malha",
)  # fmt: skip


def _yes_no(value: object) -> str:
    if value is pd.NA or value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return "sim" if bool(value) else "não"


def located_report(located: pd.DataFrame, provenance: str | None = None) -> pd.DataFrame:
    """Rows of :func:`locate_requests` as written to ``geocodificados.csv``.

    Every row is kept, in order. Personal data stays out (LGPD): names, income
    and CadÚnico are dropped, the CPF is masked (``***.456.789-**``), and CPF-like
    numbers and the applicants' names are redacted from free text (observations,
    justifications, address, problems and any column of the spreadsheet that geo_ip
    does not know, see :func:`geo_ip.requests.privacy.internal_view`). Dates are ISO text,
    yes/no fields     ``sim``/``não``, distances rounded to 0.1 m and coordinates to 7 decimals.

    Parameters
    ----------
    located : pandas.DataFrame
        Output of :func:`locate_requests`.
    provenance : str, optional
        :func:`geo_ip.rules.provenance.stamp`, written in a last ``proveniencia`` column.

    Returns
    -------
    pandas.DataFrame
        The report, the main columns first.
    """
    # LGPD: CPF masked; the applicants' names and CPF-like numbers (CPF, mobile phone)
    # redacted from every free-text column, the spreadsheet's own extra columns included.
    known = {"linha", "latitude_corrigida", "longitude_corrigida", *intake.CANONICAL,
             *geocode_mod.GEOCODE_COLUMNS, *SNAP_COLUMNS, *LOCATED_COLUMNS}  # fmt: skip
    extra = [c for c in located.columns if c not in known]
    view = privacy.internal_view(located, free_text=("beneficio_anterior_justificativa", *extra))
    report = view.drop(columns=[c for c in REPORT_DROPPED if c in view.columns])
    for column in report.columns:
        values = report[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, date)).any():
            report[column] = values.map(lambda v: v.isoformat() if isinstance(v, date) else "")
        elif str(values.dtype) == "boolean" or values.dtype == bool:
            report[column] = values.map(_yes_no)
    for column in ("distancia_via_m", "posicao_aresta_m", "x_via", "y_via"):
        if column in report:
            report[column] = report[column].round(1)
    for column in ("latitude", "longitude", "latitude_corrigida", "longitude_corrigida"):
        if column in report:
            report[column] = pd.to_numeric(report[column], errors="coerce").round(7)
    first = [c for c in _FIRST if c in report.columns]
    report = report[first + [c for c in report.columns if c not in first]]
    if provenance is not None:
        report = report.assign(proveniencia=provenance)
    return report


def write_csv(table: pd.DataFrame, out: str | Path) -> Path:
    """Write a table as UTF-8 CSV (comma) atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        What to write.
    out : str or Path
        Destination; its folder is created.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    InputFileError
        When the file cannot be written (message names it).
    """
    out = Path(out)
    try:
        with atomic_path(out) as tmp:
            to_csv(table, tmp)  # text cells never read as formulas (issue 17)
    except OSError as exc:
        reason = f"não foi possível gravar o arquivo ({exc.strerror})"
        raise InputFileError(reason, path=out) from exc
    return out
