"""Executed works of ``geo-ip cadastro``: the points to include (private).

Private helper of :mod:`geo_ip.cadastre.package`; the file's schema and the shared checks are in
:mod:`geo_ip.cadastre.inputs`. A protocol with rows carrying coordinates takes its
points from them (as-built); one without takes them from the assessment, as its bill of
materials counts them (a luminaire on every proposed pole plus one at the request).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo_ip.cadastre.inputs import (
    EXECUTED_SCHEMA,
    SAME_PLACE_M,
    AssessmentFolder,
    Checked,
    FileRows,
    point_frame,
    request_lookup,
    to_crs,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.sections import CadastreRules

log = logging.getLogger(__name__)

__all__ = ["check_executed"]

_FIELDS = ("protocolo", "data_execucao", "latitude", "longitude", "tipo_lampada",
           "potencia_w", "poste", "endereco", "id_ponto")  # fmt: skip
"""Columns of the executed-works file read as text."""


def _selection_warning(folder: AssessmentFolder, row: int, protocol: str) -> str:
    request = folder.requests.iloc[row]
    status = str(request.get("situacao") or "")
    selected = str(request.get("selecionado_orcamento") or "").strip().lower()
    # a ranked work selected in the budget, or an Art. 11 / Art. 12 work reserved in it
    funded = ("classificado", "estrategico_art11", "execucao_direta_art12")
    if status in funded and selected == "sim":
        return ""
    return (
        f"campo 'protocolo': o protocolo '{protocol}' não foi selecionado na avaliação "
        f"(situação '{status or 'desconhecida'}', selecionado no orçamento: "
        f"{selected or 'não'}): confira se a obra é deste programa"
    )


def _work_area(folder: AssessmentFolder, rows: list[int], protocol: str) -> shapely.Geometry:
    """Return the request point(s) and the proposed extension(s) of one protocol."""
    parts = [g for g in folder.requests.geometry.iloc[rows] if g is not None and not g.is_empty]
    ext = folder.extensions
    if len(ext) and "protocolo" in ext:
        chosen = ext.loc[ext["protocolo"].astype(str).str.upper() == protocol.upper()]
        parts += [g for g in chosen.geometry if g is not None and not g.is_empty]
    return shapely.union_all(parts) if parts else shapely.Point()


def check_executed(
    path: str | Path, folder: AssessmentFolder, rules: Rules, cadastre: CadastreRules, today: date
) -> Checked:
    """Read the executed works and build the points to include (in the assessment CRS).

    A protocol with rows carrying coordinates takes its points from them (as-built);
    a protocol without takes them from the assessment, as its bill of materials counts
    them: a luminaire on every proposed pole (``postes_propostos``) plus one at the
    request's own point, at ``tipo_lampada``/``potencia_w`` of the row or else
    ``cadastro.tipo_lampada_padrao`` / ``iluminacao.potencia_padrao``.

    Parameters
    ----------
    path : str or Path
        The executed-works file (CSV, XLSX, GeoJSON, GeoPackage).
    folder : AssessmentFolder
        From :func:`load_assessment`.
    rules : Rules
        Municipality rules (``iluminacao.potencia_padrao``, ``rede.distancia_maxima_via``).
    cadastre : CadastreRules
        ``[cadastro]`` of the rules.
    today : datetime.date
        Reference date: later execution dates are refused.

    Returns
    -------
    Checked
        The points (:data:`POINT_COLUMNS`, ``data`` = energisation date) and one report
        row per file row.
    """
    path = Path(path)
    rows = FileRows.read(path, EXECUTED_SCHEMA, _FIELDS)
    n = len(rows)
    if n == 0:
        log.warning("arquivo '%s': só o cabeçalho, nenhuma obra executada", path)
    rows.refuse_bad_geometries()
    text, problems, warnings = rows.text, rows.problems, rows.warnings
    lookup = request_lookup(folder)
    protocols = _protocols(rows, folder, lookup)
    days = rows.dates("data_execucao", today, required=True)
    _before_protocol(rows, folder, lookup, protocols, days)
    lat, lon, given = rows.coordinates()
    power = rows.powers(cadastre.potencia_maxima_w.valor)
    counts = [0] * n
    records: list[dict[str, Any]] = []
    default_w = rules.iluminacao.potencia_padrao.valor
    as_built = {protocols[i].upper() for i in range(n) if given[i] and protocols[i]}
    first_row: dict[str, int] = {}
    placed = _Placed()
    for i in range(n):
        if problems[i]:
            continue
        key = protocols[i].upper()
        watts = float(power[i]) if np.isfinite(power[i]) else default_w
        lamp = text["tipo_lampada"][i] or cadastre.tipo_lampada_padrao
        base = {"protocolo": protocols[i], "tipo_lampada": lamp, "potencia_w": watts,
                "data": days[i], "linha_arquivo": rows.line(i), "observacao": ""}  # fmt: skip
        if key in as_built and not given[i]:
            warnings[i].append(
                "execução registrada; os pontos deste protocolo vêm das suas linhas com "
                "coordenadas (as-built)"
            )
            continue
        if given[i]:
            point = to_crs(float(lon[i]), float(lat[i]), folder.crs)
            area = _work_area(folder, lookup[key], protocols[i])
            record = _as_built(rows, i, point, area, base, cadastre, placed)
            if record is not None:
                records.append(record)
                counts[i] = 1
            continue
        built = _proposed_points(folder, lookup[key], base, problems[i], warnings[i], first_row)
        records += built
        counts[i] = len(built)
    _number_points(records)
    points = point_frame(records, folder.crs)
    report = rows.report(protocols, list(text["id_ponto"]), counts)
    return Checked(points, report, _estimated(points))


def _protocols(rows: FileRows, folder: AssessmentFolder, lookup: dict[str, list[int]]) -> list[str]:
    """Each row's protocol as the assessment writes it; refuse the blank and unknown ones."""
    protocols: list[str] = []
    for i, value in enumerate(rows.text["protocolo"]):
        found = lookup.get(value.upper(), []) if value else []
        if not value:
            rows.problems[i].append("campo 'protocolo': obrigatório, está vazio")
        elif not found:
            rows.problems[i].append(
                f"campo 'protocolo': o protocolo '{value}' não consta da avaliação ({folder.path})"
            )
        protocols.append(str(folder.requests["protocolo"].iloc[found[0]]) if found else value)
        if found:
            warning = _selection_warning(folder, found[0], protocols[-1])
            if warning:
                rows.warnings[i].append(warning)
    return protocols


def _before_protocol(
    rows: FileRows,
    folder: AssessmentFolder,
    lookup: dict[str, list[int]],
    protocols: list[str],
    days: list[date | None],
) -> None:
    """Warn of the executions dated before their request was filed."""
    for i, day in enumerate(days):
        found = lookup.get(protocols[i].upper(), [])
        asked = str(folder.requests["data_protocolo"].iloc[found[0]]) if found else ""
        if day is not None and asked[:10] and day.isoformat() < asked[:10]:
            rows.warnings[i].append(
                f"campo 'data_execucao': {day:%d/%m/%Y} é anterior à data do protocolo "
                f"({asked[:10]}): confira"
            )


@dataclass
class _Placed:
    """The as-built points taken so far: their positions and ids, with their file rows."""

    points: list[tuple[shapely.Point, int]] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)


def _as_built(
    rows: FileRows,
    i: int,
    point: shapely.Point,
    area: shapely.Geometry,
    base: dict[str, Any],
    cadastre: CadastreRules,
    placed: _Placed,
) -> dict[str, Any] | None:
    """Check an as-built point (row ``i``) and return its record; None when refused."""
    warnings, line = rows.warnings[i], rows.line(i)
    far = point.distance(area)
    limit = cadastre.distancia_maxima_obra_m.valor
    if np.isfinite(far) and far > limit:
        warnings.append(
            f"campos 'latitude'/'longitude': ponto a {far:.0f} m do pedido e da "
            f"extensão proposta (mais que {limit:g} m, cadastro.distancia_maxima_obra_m): "
            "coordenadas trocadas ou ponto de outra obra?"
        )
    for other, other_line in placed.points:
        if point.distance(other) < SAME_PLACE_M:
            warnings.append(
                f"campos 'latitude'/'longitude': mesma posição do ponto da linha {other_line} "
                "(dois pontos no mesmo poste?)"
            )
            break
    placed.points.append((point, line))
    if not rows.text["potencia_w"][i]:
        warnings.append(
            f"campo 'potencia_w': vazio; usada a potência padrão de {base['potencia_w']:g} W "
            "(iluminacao.potencia_padrao)"
        )
    ident = rows.text["id_ponto"][i]
    if ident:
        if ident.upper() in placed.ids:
            rows.problems[i].append(
                f"campo 'id_ponto': '{ident}' repetido (linha {placed.ids[ident.upper()]})"
            )
            return None
        placed.ids[ident.upper()] = line
    return {
        **base,
        "id_ponto": ident,
        "endereco": rows.text["endereco"][i],
        "poste": rows.text["poste"][i],
        "origem": "as-built",
        "geometry": point,
    }


def _estimated(points: gpd.GeoDataFrame) -> list[str]:
    """Note on the points estimated from the assessment rather than surveyed as built."""
    proposed = int((points["origem"] != "as-built").sum()) if len(points) else 0
    if not proposed:
        return []
    return [
        f"{proposed} ponto(s) a incluir estimado(s) pela avaliação (um por poste proposto "
        "mais o ponto do pedido, como na lista de materiais), não por levantamento as-built: "
        "confira as posições em campo antes de enviar à distribuidora"
    ]


def _proposed_points(
    folder: AssessmentFolder,
    rows: list[int],
    base: dict[str, Any],
    problems: list[str],
    warnings: list[str],
    first_row: dict[str, int],
) -> list[dict[str, Any]]:
    """Build the points of a protocol without as-built rows: proposed poles + its point.

    ``rows`` are the protocol's rows in the assessment, ``base`` the fields of the file's
    row, ``first_row`` the file's row of each protocol already built (a repeated protocol
    is refused, so that its points are not counted twice).
    """
    protocol = base["protocolo"]
    if protocol.upper() in first_row:
        problems.append(
            f"campo 'protocolo': protocolo '{protocol}' já informado na linha "
            f"{first_row[protocol.upper()]}: linha ignorada para não duplicar os pontos"
        )
        return []
    first_row[protocol.upper()] = base["linha_arquivo"]
    if len(rows) > 1:
        problems.append(
            f"campo 'protocolo': o protocolo '{protocol}' aparece {len(rows)} vezes na avaliação "
            "e os postes propostos não se distinguem: informe os pontos as-built (latitude, "
            "longitude) desta obra"
        )
        return []
    request = folder.requests.geometry.iloc[rows[0]]
    if request is None or request.is_empty:
        problems.append(
            f"campo 'protocolo': o pedido '{protocol}' não tem localização na avaliação: "
            "informe os pontos as-built (latitude, longitude) desta obra"
        )
        return []
    poles = folder.poles
    if len(poles) and "protocolo" in poles:
        poles = poles.loc[poles["protocolo"].astype(str).str.upper() == protocol.upper()]
        poles = poles.sort_values("numero", kind="stable")
    out = [
        {
            **base,
            "id_ponto": "",
            "endereco": "",
            "poste": f"{protocol}-P{int(number):02d} (proposto)",
            "origem": "poste proposto (avaliação)",
            "geometry": geom,
        }
        for number, geom in zip(poles.get("numero", []), poles.geometry, strict=False)
    ]
    note = "poste a informar no as-built"
    if out and request.distance(out[-1]["geometry"]) < SAME_PLACE_M:
        note = (
            f"no lugar do último poste proposto, {out[-1]['poste'].split(' ')[0]}: a lista de "
            "materiais conta uma luminária no ponto do pedido além da de cada poste novo; "
            "confira no as-built"
        )
    out.append(
        {
            **base,
            "id_ponto": "",
            "endereco": "",
            "poste": "",
            "origem": "ponto do pedido (avaliação)",
            "observacao": note,
            "geometry": request,
        }
    )
    warnings.append(
        f"sem pontos as-built: {len(out)} ponto(s) estimado(s) pela avaliação "
        f"({len(out) - 1} poste(s) proposto(s) + o ponto do pedido) a "
        f"{base['potencia_w']:g} W; confira com o levantamento da obra"
    )
    return out


def _number_points(records: list[dict[str, Any]]) -> None:
    """Give every point without ``id_ponto`` the id ``<protocolo>-IPnn`` (in file order)."""
    taken = {str(r["id_ponto"]).upper() for r in records if r["id_ponto"]}
    per_protocol: dict[str, int] = {}
    for record in records:
        if record["id_ponto"]:
            continue
        k = per_protocol.get(record["protocolo"], 0)
        while True:
            k += 1
            candidate = f"{record['protocolo']}-IP{k:02d}"
            if candidate.upper() not in taken:
                break
        per_protocol[record["protocolo"]] = k
        taken.add(candidate.upper())
        record["id_ponto"] = candidate
