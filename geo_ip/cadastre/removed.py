"""Removals of ``geo-ip cadastro``: the points to exclude (private).

Private helper of :mod:`geo_ip.cadastre.package`; the file's schema
(:data:`~geo_ip.cadastre.inputs.REMOVED_SCHEMA`) and the shared checks are in
:mod:`geo_ip.cadastre.inputs`. Each row names an existing lighting point by its id or by
its coordinates; the territory's ``pontos_ip`` (copied into ``avaliacao.gpkg``) gives
the position, power and lamp of the points it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.cadastre.inputs import (
    REMOVED_SCHEMA,
    SAME_PLACE_M,
    AssessmentFolder,
    Checked,
    FileRows,
    point_frame,
    request_lookup,
    to_crs,
)
from geo_ip.requests.redaction import redact_text
from geo_ip.rules.sections import CadastreRules

__all__ = ["check_removed"]

_FIELDS = ("id_ponto", "latitude", "longitude", "potencia_w", "tipo_lampada", "poste",
           "endereco", "data_remocao", "protocolo", "motivo")  # fmt: skip
"""Columns of the removals file read as text."""
_POWER_TOLERANCE_W = 0.5
"""A power of the file this far from the existing point's is the same."""


@dataclass(frozen=True)
class _Existing:
    """The existing lighting points of the assessment, by id, and the matching distance."""

    lights: gpd.GeoDataFrame
    ids: dict[str, int]
    tolerance: float

    @classmethod
    def of(cls, folder: AssessmentFolder, tolerance: float) -> _Existing:
        """Index the points of ``folder.lights`` by ``id_origem`` (upper case, first wins)."""
        lights = folder.lights.reset_index(drop=True)
        ids: dict[str, int] = {}
        if "id_origem" in lights:
            for i, value in enumerate(lights["id_origem"].fillna("").astype(str)):
                if value.strip():
                    ids.setdefault(value.strip().upper(), i)
        return cls(lights, ids, tolerance)


@dataclass
class _Taken:
    """The points excluded so far: their ids and positions, with their file rows."""

    ids: dict[str, int] = field(default_factory=dict)
    points: list[tuple[shapely.Point, int]] = field(default_factory=list)


def check_removed(
    path: str | Path, folder: AssessmentFolder, cadastre: CadastreRules, today: date
) -> Checked:
    """Read the removals and build the points to exclude (in the assessment CRS).

    Each row names an existing point by ``id_ponto`` (looked up in the territory's
    ``pontos_ip`` copied into ``avaliacao.gpkg``, which gives its position, power and
    lamp) or by its coordinates (matched to the nearest existing point within
    ``cadastro.tolerancia_auditoria_m``). The power of the file wins over the one
    found, with a warning when they differ.

    Parameters
    ----------
    path : str or Path
        The removals file (CSV, XLSX, GeoJSON, GeoPackage).
    folder : AssessmentFolder
        From :func:`geo_ip.cadastre.inputs.load_assessment`.
    cadastre : CadastreRules
        ``[cadastro]`` of the rules.
    today : datetime.date
        Reference date: later removal dates are refused.

    Returns
    -------
    Checked
        The points (:data:`~geo_ip.cadastre.inputs.POINT_COLUMNS`, ``data`` = removal
        date) and the row report.
    """
    rows = FileRows.read(Path(path), REMOVED_SCHEMA, _FIELDS)
    text, problems, warnings = rows.text, rows.problems, rows.warnings
    lat, lon, given = rows.coordinates()
    power = rows.powers(cadastre.potencia_maxima_w.valor)
    days = rows.dates("data_remocao", today, required=False)
    lookup = request_lookup(folder)
    for i, value in enumerate(text["protocolo"]):
        if value and value.upper() not in lookup:
            warnings[i].append(f"campo 'protocolo': o protocolo '{value}' não consta da avaliação")
    existing = _Existing.of(folder, cadastre.tolerancia_auditoria_m.valor)
    records: list[dict[str, Any]] = []
    counts = [0] * len(rows)
    out_ids = list(text["id_ponto"])
    taken = _Taken()
    for i in range(len(rows)):
        if not text["id_ponto"][i] and not given[i]:
            problems[i].append(
                "campos 'id_ponto', 'latitude' e 'longitude': vazios; informe o código do ponto "
                "ou as suas coordenadas"
            )
        if problems[i]:
            continue
        point = to_crs(float(lon[i]), float(lat[i]), folder.crs) if given[i] else None
        found, ident = _identify(rows, i, point, existing)
        if problems[i]:
            continue
        known = existing.lights.iloc[found] if found is not None else None
        record = _removal(rows, i, ident, point, known, float(power[i]), existing.tolerance)
        if record is None or not _first_time(rows, i, ident, record["geometry"], taken):
            continue
        out_ids[i] = ident
        records.append({**record, "data": days[i]})
        counts[i] = 1
    report = rows.report(list(text["protocolo"]), out_ids, counts)
    return Checked(point_frame(records, folder.crs), report)


def _identify(
    rows: FileRows, i: int, point: shapely.Point | None, existing: _Existing
) -> tuple[int | None, str]:
    """Find the existing point a row names: by its id, else the nearest to its coordinates.

    Returns the point's row in ``existing.lights`` (None when not found) and the id the
    row is written with (the nearest point's id for a row given by coordinates only).
    """
    ident = rows.text["id_ponto"][i]
    found = existing.ids.get(ident.upper()) if ident else None
    if ident and found is None:
        where = "na camada 'pontos_ip' da avaliação"
        if point is None:
            rows.problems[i].append(
                f"campo 'id_ponto': ponto '{ident}' não encontrado {where}; informe latitude "
                "e longitude"
            )
            return None, ident
        rows.warnings[i].append(
            f"campo 'id_ponto': ponto '{ident}' não encontrado {where}; usadas as "
            "coordenadas informadas"
        )
    lights, tolerance = existing.lights, existing.tolerance
    if found is None and point is not None and len(lights):
        distances = lights.geometry.distance(point)
        nearest = int(distances.to_numpy().argmin())
        if distances.iloc[nearest] <= tolerance and not ident:
            found = nearest
            ident = str(lights["id_origem"].iloc[nearest])
            rows.warnings[i].append(
                f"identificado como o ponto existente '{ident}' (a {distances.iloc[nearest]:.1f} m)"
            )
        elif not ident:
            rows.warnings[i].append(
                f"nenhum ponto de IP existente a menos de {tolerance:g} m "
                "(cadastro.tolerancia_auditoria_m): confira as coordenadas"
            )
    return found, ident


def _removal(
    rows: FileRows,
    i: int,
    ident: str,
    point: shapely.Point | None,
    known: pd.Series | None,
    watts: float,
    tolerance: float,
) -> dict[str, Any] | None:
    """Build the record of a removed point; None when its power is known nowhere.

    The file's position, power, lamp and pole win over those of the existing point
    ``known`` (with a warning where they disagree); the existing point fills the blanks.
    """
    warnings = rows.warnings[i]
    if known is not None and point is not None:
        gap = float(known.geometry.distance(point))
        if gap > tolerance:
            warnings.append(
                f"campos 'latitude'/'longitude': a {gap:.0f} m do ponto '{ident}' da rede "
                "existente; usadas as coordenadas informadas"
            )
    if point is None and known is not None:
        point = known.geometry
    found_w = float(known["potencia_w"]) if known is not None else np.nan
    if not np.isfinite(watts):
        if not np.isfinite(found_w):
            rows.problems[i].append(
                "campo 'potencia_w': vazio e a potência do ponto não consta da rede existente; "
                "informe a potência (W)"
            )
            return None
        watts = found_w
    elif np.isfinite(found_w) and abs(found_w - watts) > _POWER_TOLERANCE_W:
        warnings.append(
            f"campo 'potencia_w': {watts:g} W no arquivo e {found_w:g} W na rede existente; "
            "usada a do arquivo"
        )
    text = rows.text
    lamp, pole = text["tipo_lampada"][i], text["poste"][i]
    if known is not None:
        lamp = lamp or str(known.get("tipo_lampada") or "")
        pole = pole or str(known.get("poste_id") or "")
    return {
        "id_ponto": ident,
        "protocolo": text["protocolo"][i],
        "endereco": text["endereco"][i],
        "poste": pole,
        "tipo_lampada": lamp,
        "potencia_w": watts,
        "origem": "rede existente" if known is not None else "arquivo de remoções",
        "linha_arquivo": rows.line(i),
        "observacao": redact_text(text["motivo"][i]),
        "geometry": point,
    }


def _first_time(rows: FileRows, i: int, ident: str, point: shapely.Point, taken: _Taken) -> bool:
    """Refuse a point already removed by another row (same id, or same place without id)."""
    line = rows.line(i)
    key = ident.upper() if ident else ""
    if key and key in taken.ids:
        rows.problems[i].append(
            f"campo 'id_ponto': ponto '{ident}' repetido (linha {taken.ids[key]})"
        )
        return False
    duplicate = next((ln for p, ln in taken.points if point.distance(p) < SAME_PLACE_M), None)
    if duplicate is not None and not key:
        rows.problems[i].append(
            f"campos 'latitude'/'longitude': mesma posição do ponto da linha {duplicate}"
        )
        return False
    if key:
        taken.ids[key] = line
    taken.points.append((point, line))
    return True
