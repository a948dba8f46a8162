"""Inputs of ``geo-ip cadastre``: the assessment folder, the executed works, the removals.

Private helper of :mod:`geo_ip.cadastre.package`. Three sources:

* the folder written by ``geo-ip assess`` (:func:`load_assessment`): ``avaliacao.gpkg``
  layers ``pedidos`` (protocol, situation, selection, street, neighbourhood, protocol
  date, the request's point), ``postes_propostos`` (protocol, number), ``extensoes``,
  ``pontos_ip`` (the existing lighting points of the territory) and ``vias`` (street
  names), plus ``proveniencia.json``;
* the executed works (:data:`EXECUTED_SCHEMA`, checked by
  :func:`geo_ip.cadastre.executed.check_executed`): one row per protocol executed, or
  one row per as-built point (with ``latitude``/``longitude``);
* the removals (:data:`REMOVED_SCHEMA`): one row per existing point taken out, by id
  (``id_ponto``, the utility's code as in the territory's ``pontos_ip``) or coordinates.

Both files are read by :func:`geo_ip.sources.tables.read_sheet`. No row is dropped: every row
comes back in a report with ``situacao`` (``ok``, ``aviso``, ``erro``) and a Portuguese
``motivo`` naming file, row and field. Coordinates in the files are decimal degrees
(SIRGAS 2000 or WGS 84; the difference is below a metre).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.parse import date_problems, parse_dates, quoted, to_number
from geo_ip.errors import InputFileError, RulesError
from geo_ip.requests.privacy import redact_text
from geo_ip.rules.config import CadastreRules, Rules
from geo_ip.sources.tables import Schema, aliases_of, read_sheet

log = logging.getLogger(__name__)

GEOGRAPHIC_CRS = "EPSG:4674"
"""SIRGAS 2000 geographic: the CRS of every coordinate the cadastre writes."""
ASSESSMENT_GPKG = "avaliacao.gpkg"
REPORT_COLUMNS = ("arquivo", "linha", "protocolo", "id_ponto", "situacao", "pontos", "motivo")
"""Columns of the row reports (one row per input row)."""
POINT_COLUMNS = (
    "id_ponto", "protocolo", "endereco", "poste", "tipo_lampada", "potencia_w", "data",
    "origem", "linha_arquivo", "observacao",
)  # fmt: skip
"""Columns of the point frames built here (besides ``geometry``, in the assessment CRS)."""
SAME_PLACE_M = 0.5
"""Two points closer than this are "the same position" (a repeated row?)."""

_COMMON: dict[str, tuple[str, ...]] = {
    "latitude": ("lat", "latitude_y", "lat_y", "y"),
    "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x", "x"),
    "tipo_lampada": ("tipo_lamp", "lampada", "tipo_de_lampada", "tipo_da_lampada",
                     "tecnologia", "tipo_luminaria"),
    "potencia_w": ("potencia", "pot_lamp", "potencia_lampada", "potencia_da_lampada",
                   "potencia_w_", "watts", "w", "potencia_watts"),
    "poste": ("poste_id", "id_poste", "codigo_poste", "cod_poste", "pn_con", "numero_poste",
              "n_poste"),
    "endereco": ("logradouro", "endereco_ponto", "local", "localizacao"),
}  # fmt: skip
_PROTOCOL = ("no_protocolo", "n_protocolo", "numero_protocolo", "nr_protocolo",
             "num_protocolo", "protocolo_pedido", "pedido")  # fmt: skip
EXECUTED_SCHEMA = Schema(
    what="arquivo de obras executadas",
    aliases=aliases_of(
        {
            "protocolo": _PROTOCOL,
            "data_execucao": (
                "data_energizacao", "data_de_energizacao", "data_ligacao", "data_conclusao",
                "data_da_execucao", "data_de_execucao", "data_execucao_obra", "data_obra",
                "energizacao", "executado_em", "data",
            ),
            "id_ponto": ("id", "codigo_ponto", "cod_ponto", "ponto", "id_ip", "codigo"),
            **_COMMON,
        }
    ),
    required=("protocolo", "data_execucao"),
    of=" de obras executadas",
    layer="obras_executadas",
)  # fmt: skip
"""Executed works: ``protocolo``, ``data_execucao`` (energisation) and, per as-built
point, ``latitude``, ``longitude``, ``tipo_lampada``, ``potencia_w``, ``poste``,
``endereco``, ``id_ponto`` (all optional)."""
REMOVED_SCHEMA = Schema(
    what="arquivo de pontos removidos",
    aliases=aliases_of(
        {
            "id_ponto": ("id", "cod_id", "codigo", "codigo_ponto", "cod_ponto", "id_origem",
                         "ponto", "id_ip"),
            "data_remocao": ("data", "data_retirada", "data_da_remocao", "data_exclusao"),
            "protocolo": _PROTOCOL,
            "motivo": ("motivo_remocao", "justificativa", "observacao", "observacoes", "obs"),
            **_COMMON,
        }
    ),
    required=(("id_ponto", "latitude"),),
    of=" de pontos removidos",
    layer="pontos_removidos",
)  # fmt: skip
"""Removals: ``id_ponto`` or ``latitude``/``longitude``, and ``potencia_w`` (unless the
id is found in the territory's ``pontos_ip``), ``tipo_lampada``, ``poste``,
``endereco``, ``data_remocao``, ``protocolo``, ``motivo`` (optional)."""


@dataclass(frozen=True)
class AssessmentFolder:
    """What the cadastre uses from a ``geo-ip assess`` folder (layers in its CRS)."""

    path: Path
    requests: gpd.GeoDataFrame
    poles: gpd.GeoDataFrame
    extensions: gpd.GeoDataFrame
    lights: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    provenance: dict[str, Any]
    crs: str

    @property
    def files(self) -> list[Path]:
        """The files read (for the provenance record)."""
        names = (ASSESSMENT_GPKG, "proveniencia.json", "ranking.csv")
        return [self.path / n for n in names if (self.path / n).is_file()]


@dataclass
class Checked:
    """Points built from one input file and the report of its rows."""

    points: gpd.GeoDataFrame
    report: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _layer(gpkg: Path, name: str, present: set[str], crs: Any) -> gpd.GeoDataFrame:
    if name not in present:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    frame = pyogrio.read_dataframe(gpkg, layer=name)
    return frame if frame.crs is not None else frame.set_crs(crs)


def load_assessment(folder: str | Path) -> AssessmentFolder:
    """Read the layers of an assessment folder that the cadastre needs.

    Parameters
    ----------
    folder : str or Path
        The ``--out`` folder of ``geo-ip assess``.

    Returns
    -------
    AssessmentFolder

    Raises
    ------
    InputFileError
        When the folder, its ``avaliacao.gpkg`` or the ``pedidos`` layer is missing.
    """
    path = Path(folder)
    gpkg = path / ASSESSMENT_GPKG
    if not path.is_dir():
        raise InputFileError("pasta da avaliação não encontrada (rode geo-ip assess)", path=path)
    if not gpkg.is_file():
        raise InputFileError(
            f"a pasta da avaliação não tem {ASSESSMENT_GPKG} (rode geo-ip assess --out nela)",
            path=path,
        )
    try:
        present = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(f"GeoPackage da avaliação ilegível ({exc})", path=gpkg) from exc
    if "pedidos" not in present:
        raise InputFileError("camada 'pedidos' ausente: não é uma avaliação do geo_ip", path=gpkg)
    requests = pyogrio.read_dataframe(gpkg, layer="pedidos")
    crs = requests.crs
    if crs is None:
        raise InputFileError("camada 'pedidos' sem sistema de coordenadas", path=gpkg)
    requests["protocolo"] = requests["protocolo"].fillna("").astype(str).str.strip()
    provenance: dict[str, Any] = {}
    prov_file = path / "proveniencia.json"
    if prov_file.is_file():
        try:
            provenance = json.loads(prov_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(f"proveniência ilegível ({exc})", path=prov_file) from exc
    return AssessmentFolder(
        path=path,
        requests=requests,
        poles=_layer(gpkg, "postes_propostos", present, crs),
        extensions=_layer(gpkg, "extensoes", present, crs),
        lights=_layer(gpkg, "pontos_ip", present, crs),
        roads=_layer(gpkg, "vias", present, crs),
        provenance=provenance,
        crs=str(crs),
    )


# --- shared checks --------------------------------------------------------------------------


def texts(table: pd.DataFrame, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Return the cells of each named column as text (``""`` for an absent column)."""
    empty = [""] * len(table)
    return {n: table[n].fillna("").astype(str).tolist() if n in table else empty for n in names}


def coordinates(
    lat_text: list[str], lon_text: list[str], problems: list[list[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the coordinates; return (lat, lon, given) and add the problems of each row.

    ``given`` is True where at least one of the two cells is filled (the row describes
    a point); a row with both blank describes none and has no problem here.
    """
    lat = to_number(pd.Series(lat_text, dtype=str), thousands=False).to_numpy()
    lon = to_number(pd.Series(lon_text, dtype=str), thousands=False).to_numpy()
    given = np.array([bool(a or b) for a, b in zip(lat_text, lon_text, strict=True)])
    for i in np.flatnonzero(given):
        for name, text, value, limit in (
            ("latitude", lat_text[i], lat[i], 90.0),
            ("longitude", lon_text[i], lon[i], 180.0),
        ):
            if not text:
                other = "longitude" if name == "latitude" else "latitude"
                problems[i].append(f"campo '{name}': vazio, mas a {other} foi informada")
            elif not np.isfinite(value):
                problems[i].append(f"campo '{name}': não é uma coordenada válida {quoted(text)}")
            elif abs(value) > limit:
                hint = (
                    "; parece coordenada projetada (UTM): informe graus decimais"
                    if abs(value) > 1000
                    else ""
                )
                problems[i].append(
                    f"campo '{name}': fora do intervalo válido (-{limit:g} a {limit:g}) "
                    f"{quoted(text)}{hint}"
                )
    return lat, lon, given


def power_values(text: list[str], problems: list[list[str]], warnings: list[list[str]],
           limit: float) -> np.ndarray:  # fmt: skip
    """Parse ``potencia_w`` (NaN where blank); refuse ≤ 0 and non-numbers, warn above ``limit``."""
    values = to_number(pd.Series(text, dtype=str), thousands=True).to_numpy()
    for i, (cell, value) in enumerate(zip(text, values, strict=True)):
        if not cell:
            continue
        if not np.isfinite(value):
            problems[i].append(f"campo 'potencia_w': não é um número {quoted(cell)}")
        elif value <= 0:
            problems[i].append(
                f"campo 'potencia_w': a potência deve ser maior que zero ({value:g} W)"
            )
        elif value > limit:
            warnings[i].append(
                f"campo 'potencia_w': {value:g} W acima de {limit:g} W "
                "(cadastro.potencia_maxima_w): confira"
            )
    return np.where(np.array([bool(c) for c in text]), values, np.nan)


def dates(
    text: list[str],
    name: str,
    today: date,
    problems: list[list[str]],
    *,
    required: bool,
) -> list[date | None]:
    """Parse a column of dates; each row's problem (a future date too) goes to ``problems``."""
    series = pd.Series(text, dtype=str)
    days, status = parse_dates(series, today)
    blank = "obrigatória, está vazia" if required else ""
    messages = date_problems(series, status, name, blank=blank, hint=" (use dd/mm/aaaa)")
    out: list[date | None] = []
    for i, (message, day) in enumerate(zip(messages, days, strict=True)):
        if message:
            problems[i].append(message)
        elif day is not None and day > today:
            problems[i].append(
                f"campo '{name}': data no futuro ({day:%d/%m/%Y}), depois da data de referência "
                f"{today:%d/%m/%Y}"
            )
        out.append(day if isinstance(day, date) else None)
    return out


def row_report(
    path: Path,
    table: pd.DataFrame,
    protocols: list[str],
    ids: list[str],
    problems: list[list[str]],
    warnings: list[list[str]],
    counts: list[int],
) -> pd.DataFrame:
    """Build one report row per file row (:data:`REPORT_COLUMNS`): status, points, reasons."""
    rows = []
    for i, line in enumerate(table["linha"].tolist()):
        status = "erro" if problems[i] else "aviso" if warnings[i] else "ok"
        items = problems[i] + warnings[i]
        motivo = f"arquivo '{path}', linha {line}: " + " | ".join(items) if items else ""
        rows.append((str(path), int(line), protocols[i], ids[i], status, counts[i], motivo))
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    for message in report.loc[report["situacao"] == "erro", "motivo"]:
        log.warning("linha recusada: %s", message)
    return report


def point_frame(records: list[dict[str, Any]], crs: str) -> gpd.GeoDataFrame:
    """Build a points frame (:data:`POINT_COLUMNS` + geometry) from records."""
    data = pd.DataFrame(records, columns=[*POINT_COLUMNS, "geometry"])
    geometry = gpd.GeoSeries(data.pop("geometry").tolist(), crs=crs)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


def to_crs(lon: float, lat: float, crs: str) -> shapely.Point:
    """Project one point given in decimal degrees (EPSG:4674) into ``crs``."""
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=GEOGRAPHIC_CRS).to_crs(crs)
    return point.iloc[0]


def request_lookup(folder: AssessmentFolder) -> dict[str, list[int]]:
    """Map each protocol (upper case) to its rows in the assessment's ``pedidos``."""
    lookup: dict[str, list[int]] = {}
    for i, protocol in enumerate(folder.requests["protocolo"]):
        if protocol:
            lookup.setdefault(protocol.upper(), []).append(i)
    return lookup


# --- removals -------------------------------------------------------------------------------


def _existing(folder: AssessmentFolder) -> tuple[dict[str, int], gpd.GeoDataFrame]:
    lights = folder.lights.reset_index(drop=True)
    if "id_origem" not in lights:
        return {}, lights
    ids: dict[str, int] = {}
    for i, value in enumerate(lights["id_origem"].fillna("").astype(str)):
        if value.strip():
            ids.setdefault(value.strip().upper(), i)
    return ids, lights


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
        From :func:`load_assessment`.
    cadastre : CadastreRules
        ``[cadastro]`` of the rules.
    today : datetime.date
        Reference date: later removal dates are refused.

    Returns
    -------
    Checked
        The points (:data:`POINT_COLUMNS`, ``data`` = removal date) and the row report.
    """
    path = Path(path)
    table = read_sheet(path, REMOVED_SCHEMA).reset_index(drop=True)
    n = len(table)
    names = ("id_ponto", "latitude", "longitude", "potencia_w", "tipo_lampada", "poste",
             "endereco", "data_remocao", "protocolo", "motivo")  # fmt: skip
    text = texts(table, names)
    problems: list[list[str]] = [[] for _ in range(n)]
    warnings: list[list[str]] = [[] for _ in range(n)]
    lat, lon, given = coordinates(text["latitude"], text["longitude"], problems)
    power = power_values(text["potencia_w"], problems, warnings, cadastre.potencia_maxima_w.valor)
    days = dates(text["data_remocao"], "data_remocao", today, problems, required=False)
    lookup = request_lookup(folder)
    for i, value in enumerate(text["protocolo"]):
        if value and value.upper() not in lookup:
            warnings[i].append(f"campo 'protocolo': o protocolo '{value}' não consta da avaliação")
    ids_by_key, lights = _existing(folder)
    tolerance = cadastre.tolerancia_auditoria_m.valor
    records: list[dict[str, Any]] = []
    counts = [0] * n
    out_ids = list(text["id_ponto"])
    seen: dict[str, int] = {}
    placed: list[tuple[shapely.Point, int]] = []
    for i in range(n):
        line = int(table["linha"].iloc[i])
        ident = text["id_ponto"][i]
        if not ident and not given[i]:
            problems[i].append(
                "campos 'id_ponto', 'latitude' e 'longitude': vazios; informe o código do ponto "
                "ou as suas coordenadas"
            )
        if problems[i]:
            continue
        point = to_crs(float(lon[i]), float(lat[i]), folder.crs) if given[i] else None
        found = ids_by_key.get(ident.upper()) if ident else None
        if ident and found is None:
            where = "na camada 'pontos_ip' da avaliação"
            if point is None:
                problems[i].append(
                    f"campo 'id_ponto': ponto '{ident}' não encontrado {where}; informe latitude "
                    "e longitude"
                )
                continue
            warnings[i].append(
                f"campo 'id_ponto': ponto '{ident}' não encontrado {where}; usadas as "
                "coordenadas informadas"
            )
        if found is None and point is not None and len(lights):
            distances = lights.geometry.distance(point)
            nearest = int(distances.to_numpy().argmin())
            if distances.iloc[nearest] <= tolerance and not ident:
                found = nearest
                ident = str(lights["id_origem"].iloc[nearest])
                warnings[i].append(
                    f"identificado como o ponto existente '{ident}' (a "
                    f"{distances.iloc[nearest]:.1f} m)"
                )
            elif not ident:
                warnings[i].append(
                    f"nenhum ponto de IP existente a menos de {tolerance:g} m "
                    "(cadastro.tolerancia_auditoria_m): confira as coordenadas"
                )
        existing = lights.iloc[found] if found is not None else None
        if existing is not None and point is not None:
            gap = float(existing.geometry.distance(point))
            if gap > tolerance:
                warnings[i].append(
                    f"campos 'latitude'/'longitude': a {gap:.0f} m do ponto '{ident}' da rede "
                    "existente; usadas as coordenadas informadas"
                )
        if point is None and existing is not None:
            point = existing.geometry
        watts = float(power[i]) if np.isfinite(power[i]) else np.nan
        known = float(existing["potencia_w"]) if existing is not None else np.nan
        if not np.isfinite(watts):
            if not np.isfinite(known):
                problems[i].append(
                    "campo 'potencia_w': vazio e a potência do ponto não consta da rede existente; "
                    "informe a potência (W)"
                )
                continue
            watts = known
        elif np.isfinite(known) and abs(known - watts) > 0.5:
            warnings[i].append(
                f"campo 'potencia_w': {watts:g} W no arquivo e {known:g} W na rede existente; "
                "usada a do arquivo"
            )
        key = ident.upper() if ident else ""
        if key and key in seen:
            problems[i].append(f"campo 'id_ponto': ponto '{ident}' repetido (linha {seen[key]})")
            continue
        assert point is not None
        duplicate = next((ln for p, ln in placed if point.distance(p) < SAME_PLACE_M), None)
        if duplicate is not None and not key:
            problems[i].append(
                f"campos 'latitude'/'longitude': mesma posição do ponto da linha {duplicate}"
            )
            continue
        if key:
            seen[key] = line
        placed.append((point, line))
        out_ids[i] = ident
        lamp = text["tipo_lampada"][i]
        pole = text["poste"][i]
        if existing is not None:
            lamp = lamp or str(existing.get("tipo_lampada") or "")
            pole = pole or str(existing.get("poste_id") or "")
        records.append(
            {
                "id_ponto": ident,
                "protocolo": text["protocolo"][i],
                "endereco": text["endereco"][i],
                "poste": pole,
                "tipo_lampada": lamp,
                "potencia_w": watts,
                "data": days[i],
                "origem": "rede existente" if existing is not None else "arquivo de remoções",
                "linha_arquivo": line,
                "observacao": redact_text(text["motivo"][i]),
                "geometry": point,
            }
        )
        counts[i] = 1
    report = row_report(path, table, list(text["protocolo"]), out_ids, problems, warnings, counts)
    return Checked(point_frame(records, folder.crs), report)


def cadastre_rules(rules: Rules) -> CadastreRules:
    """Return the ``[cadastro]`` section of the rules, refusing rules without it.

    Parameters
    ----------
    rules : Rules

    Returns
    -------
    CadastreRules

    Raises
    ------
    RulesError
        When the rules file has no ``[cadastro]`` section.
    """
    if rules.cadastro is None:
        raise RulesError(
            "as regras não têm a seção [cadastro] (CNPJ, distribuidora, tarifa, dias por mês, "
            "tolerâncias): copie-a de data/municipios/extrema.toml",
            path=rules.arquivo or None,
            field="cadastro",
        )
    return rules.cadastro
