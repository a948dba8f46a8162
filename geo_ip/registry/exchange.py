"""The registry's exchange with files: assessment runs in, decisions out, works in and out.

=============================  ==============================================================
function                       what it does
=============================  ==============================================================
:func:`record_assessment`      records a run of :func:`geo_ip.pipeline.assess` (``geo-ip
                               assess --db``) with the applicants' data, the decisions the
                               run used and the benefits history it read
:func:`import_folder`          imports an existing ``geo-ip assess --out`` folder (``geo-ip
                               registry import``), without personal data
:func:`export_decisions`       writes the current decisions in the exact ``--decisions``
                               CSV format (``geo-ip registry export``)
:func:`works_table`            the executed works in the columns ``geo-ip cadastre`` reads
:func:`import_works`,          records executed works (``geo-ip registry obras``)
:func:`record_work`
=============================  ==============================================================

An imported folder is read from its public files: ``evidencias.json`` (every evidence
figure, the suggestions with their levels and motivations, typed) and ``ranking.csv``
(the request's date, type and place), aligned by the row of the requests spreadsheet
(``linha``), plus the eligibility flag of the internal workbook (``ranking.xlsx``, only
that column is kept) and the extensions of ``avaliacao.gpkg``. The table recorded is the
one :func:`geo_ip.registry.live.live_ranking` ranks again, without checking eligibility.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import FORMULA_START, to_csv
from geo_ip.cadastre.inputs import EXECUTED_SCHEMA, FileRows, cadastre_rules
from geo_ip.errors import InputFileError, RulesError
from geo_ip.pipeline import Assessment
from geo_ip.registry import audit, store
from geo_ip.registry.db import Registry
from geo_ip.registry.live import rules_of
from geo_ip.registry.models import Cycle, Request, Work
from geo_ip.registry.request_map import snapshot_maps
from geo_ip.requests.decision_file import read_decisions
from geo_ip.requests.intake import territory_boundary
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import file_digest
from geo_ip.territory.reader import TerritoryLike

__all__ = [
    "FOLDER_FILES",
    "WORK_COLUMNS",
    "WorkInput",
    "WorksImport",
    "decisions_frame",
    "export_decisions",
    "import_folder",
    "import_works",
    "record_assessment",
    "record_work",
    "works_table",
    "write_works",
]

log = logging.getLogger(__name__)

FOLDER_FILES = ("ranking.csv", "proveniencia.json", "evidencias.json")
"""Files an assessment folder must have to be imported."""
WORK_COLUMNS = (
    "protocolo", "data_execucao", "latitude", "longitude", "tipo_lampada", "potencia_w",
    "poste", "observacao",
)  # fmt: skip
"""Columns of the executed-works file of ``geo-ip cadastre --executed`` (``obras_executadas``)."""
_CSV_EXTRA = ("data_protocolo", "tipo", "bairro", "logradouro", "residencias", "motivos",
              "fundamento_inelegibilidade")  # fmt: skip
"""Columns of ``ranking.csv`` that ``evidencias.json`` lacks, taken from the CSV."""
_CSV_NUMBERS = ("residencias",)


# --- recording a run --------------------------------------------------------------------------


def _input_file(provenance: Mapping[str, Any], kind: str) -> Path | None:
    """Return the input file of ``kind`` a run read, when it is still there unchanged."""
    for entry in provenance.get("entradas") or []:
        if entry.get("tipo") != kind or not entry.get("arquivo"):
            continue
        path = Path(str(entry["arquivo"]))
        if not path.is_file():
            log.warning("arquivo de %s da avaliação não encontrado: %s", kind, path)
            return None
        if entry.get("sha256") and file_digest(path) != entry["sha256"]:
            log.warning("o arquivo de %s mudou depois da avaliação (%s): não foi usado", kind, path)
            return None
        return path
    return None


def _reference_day(provenance: Mapping[str, Any]) -> date | None:
    text = str(provenance.get("data_referencia") or "")
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _run_decisions(
    provenance: Mapping[str, Any],
    protocols: set[str],
    rules: Rules,
    territory: TerritoryLike | None,
) -> pd.DataFrame | None:
    """Read again the valid decisions of the file a run read (None when it read none)."""
    path = _input_file(provenance, "decisoes")
    if path is None:
        return None
    boundary = None
    if territory is not None:
        boundary = territory_boundary(territory, rules.municipio.codigo_ibge)
    decisions, _rejected = read_decisions(
        path, rules, protocols, today=_reference_day(provenance), boundary=boundary
    )
    return decisions


def _extensions(paths: gpd.GeoSeries, crs: str) -> list[str | None]:
    """WKT in EPSG:4326 of each proposed extension (None where there is none)."""
    series = gpd.GeoSeries(np.asarray(paths.array, dtype=object), crs=paths.crs or crs)
    wgs84 = series.to_crs(4326)
    return [
        None
        if not isinstance(g, shapely.Geometry) or shapely.is_empty(g)
        else shapely.to_wkt(g, rounding_precision=7)
        for g in wgs84
    ]


def record_assessment(
    registry: Registry,
    assessment: Assessment,
    *,
    cycle: str,
    actor: str,
    decisions: pd.DataFrame | None = None,
    maps: list[dict[str, Any]] | None = None,
) -> store.RunRecord:
    """Record a run of ``geo-ip assess`` in the registry (``--db``), in one transaction.

    The rules and the cycle are added when new (the cycle's budget becomes the run's);
    the run keeps the applicants' data (:data:`geo_ip.registry.store.PERSONAL`, apart)
    and the benefits history it read (keyed hashes only), so that the live ranking checks
    eligibility as the run did; then the decisions the run used are recorded as the
    Commission's current decisions (the ones already current are not repeated).

    Parameters
    ----------
    registry : Registry
        The registry (:func:`geo_ip.registry.db.open_registry`).
    assessment : Assessment
        The result of :func:`geo_ip.pipeline.assess`.
    cycle : str
        The cycle's name (e.g. ``2026``).
    actor : str
        Who records it (``sistema:geo-ip assess``).
    decisions : pandas.DataFrame, optional
        The valid decisions the run used (:func:`geo_ip.requests.decision_file.read_decisions`);
        default: read again from the decisions file of the run's provenance, when it is
        still there unchanged.
    maps : list of dict, optional
        The map data of each request; default
        :func:`geo_ip.registry.request_map.snapshot_maps` of the assessment.

    Returns
    -------
    geo_ip.registry.store.RunRecord
        The run's id and counts.
    """
    provenance = assessment.provenance
    table = assessment.table
    protocols = {str(p) for p in table["protocolo"] if str(p)}
    if decisions is None:
        decisions = _run_decisions(provenance, protocols, assessment.rules, assessment.territory)
    if maps is None:
        maps = snapshot_maps(assessment)
    extensions = _extensions(assessment.paths, assessment.crs)
    with registry.session() as session:
        rules = store.ensure_rules(session, assessment.rules, actor)
        cycle_row = store.ensure_cycle(
            session, cycle, actor, budget=provenance.get("orcamento_rs"), rules=rules
        )
        record = store.record_run(
            session,
            table,
            cycle=cycle_row,
            rules=rules,
            actor=actor,
            origin="geo-ip assess",
            provenance=provenance,
            personal=True,
            extensions=extensions,
            evidence=assessment.items,
            maps=maps,
            history=assessment.history,
        )
        if decisions is not None and len(decisions):
            store.import_decisions(session, cycle_row, decisions, assessment.rules, actor=actor)
    return record


# --- importing a folder -----------------------------------------------------------------------


def _missing(folder: Path, name: str) -> InputFileError:
    return InputFileError(
        f"não encontrado: a pasta '{folder}' não é uma pasta de avaliação do geo-ip assess "
        f"(--out), que tem {', '.join(FOLDER_FILES)}",
        path=folder / name,
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"não foi possível ler o JSON ({exc})", path=path) from exc


def _folder_provenance(folder: Path, rules: Rules) -> dict[str, Any]:
    if not folder.is_dir():
        raise InputFileError("pasta de avaliação não encontrada", path=folder)
    for name in FOLDER_FILES:
        if not (folder / name).is_file():
            raise _missing(folder, name)
    path = folder / "proveniencia.json"
    provenance = _read_json(path)
    given = provenance.get("regras") if isinstance(provenance, dict) else None
    if not isinstance(given, dict) or not given.get("sha256"):
        raise InputFileError(
            "não é a proveniência de uma avaliação do geo-ip assess (faltam as regras e seu hash)",
            path=path,
        )
    if given["sha256"] != rules.sha256:
        raise RulesError(
            f"a avaliação foi feita com outras regras (versão {given.get('versao')}, sha256 "
            f"{str(given['sha256'])[:12]}) que as informadas (versão {rules.versao}, sha256 "
            f"{rules.sha256[:12]}): informe com --rules o arquivo de regras da avaliação",
            path=path,
        )
    return provenance


def _typed(values: list[Any]) -> pd.Series:
    """Make a column of JSON values with its own type: boolean, Int64, float64 or text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present):
            return pd.Series(values, dtype="Int64")
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)


def _evidence_rows(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Flatten ``evidencias.json``: one row of every figure per request, and its items."""
    data = _read_json(path)
    records = data.get("pedidos") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise InputFileError("não tem a lista 'pedidos' do geo-ip assess", path=path)
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for record in records:
        row = {k: record.get(k) for k in ("protocolo", "linha", "situacao", "posicao")}
        for section, values in record.items():
            if section not in ("itens", "criterios") and isinstance(values, dict):
                row.update(values)
        for values in (record.get("criterios") or {}).values():
            row.update(values)
        rows.append(row)
        items.append(record.get("itens") or {})
    return rows, items


def _unquoted(text: str) -> str:
    """Undo :func:`geo_ip._util.safe_cells.neutralise` on a text cell of a CSV written by geo_ip."""
    if len(text) > 2 and text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def _eligible(folder: Path, lines: pd.Series, situation: pd.Series) -> pd.Series:
    """``elegivel`` of each row: the workbook's column, else from the situation."""
    workbook = folder / "ranking.xlsx"
    if workbook.is_file():
        try:
            sheet = pd.read_excel(
                workbook, sheet_name=0, usecols=lambda c: c in ("linha", "elegivel"), dtype=str
            )
        except (OSError, ValueError) as exc:
            log.warning("planilha interna ilegível (%s): elegibilidade pela situação", exc)
        else:
            if {"linha", "elegivel"} <= set(sheet.columns):
                flags = dict(
                    zip(
                        pd.to_numeric(sheet["linha"], errors="coerce"),
                        sheet["elegivel"].fillna("").str.strip().str.lower().eq("sim"),
                        strict=True,
                    )
                )
                if all(line in flags for line in lines):
                    return pd.Series([bool(flags[line]) for line in lines], dtype=bool)
    return situation.astype(str).ne("inelegivel").astype(bool)


def _folder_table(folder: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Read a folder's assessment table (no personal data, input order) and its items."""
    rows, items = _evidence_rows(folder / "evidencias.json")
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    table = pd.DataFrame({c: _typed([row.get(c) for row in rows]) for c in columns})
    table["protocolo"] = table["protocolo"].fillna("").astype(str)
    csv_path = folder / "ranking.csv"
    try:
        ranking = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(f"não foi possível ler o CSV ({exc})", path=csv_path) from exc
    if "linha" not in ranking.columns or "linha" not in table.columns:
        raise InputFileError("falta a coluna 'linha' (linha da planilha de pedidos)", path=csv_path)
    ranking["linha"] = pd.to_numeric(ranking["linha"], errors="coerce")
    by_line = ranking.drop_duplicates("linha").set_index("linha")
    lines = table["linha"].astype("Int64")
    if len(ranking) != len(table) or not lines.isin(by_line.index).all():
        raise InputFileError(
            "ranking.csv e evidencias.json não são da mesma avaliação (pedidos diferentes)",
            path=csv_path,
        )
    for name in _CSV_EXTRA:
        if name in by_line.columns and name not in table.columns:
            cells = [_unquoted(str(by_line.at[line, name])) for line in lines]
            if name in _CSV_NUMBERS:
                table[name] = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
            elif name == "data_protocolo":
                days = pd.to_datetime(pd.Series(cells, dtype=object), errors="coerce")
                table[name] = pd.Series(
                    [d.date() if not pd.isna(d) else None for d in days], dtype=object
                )
            else:
                table[name] = pd.Series(cells, dtype=object)
    table["elegivel"] = _eligible(folder, lines, table["situacao"])
    # the request's own check status, that geo_ip.pipeline.decide starts from
    table["situacao_pedido"] = np.where(table["situacao"].astype(str) == "erro", "erro", "ok")
    table = table.drop(columns=[c for c in store.PERSONAL if c in table.columns])
    return table.reset_index(drop=True), items


def _folder_extensions(folder: Path, table: pd.DataFrame) -> list[str | None] | None:
    """WKT (EPSG:4326) of each row's extension from ``avaliacao.gpkg`` (None: no layer)."""
    gpkg = folder / "avaliacao.gpkg"
    if not gpkg.is_file():
        return None
    try:
        layers = {str(name) for name, _kind in pyogrio.list_layers(gpkg)}
        if "extensoes" not in layers:
            return None
        frame = gpd.read_file(gpkg, layer="extensoes", columns=["protocolo"])
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFileError(
            f"não foi possível ler a camada 'extensoes' ({exc})", path=gpkg
        ) from exc
    if frame.crs is None or not len(frame):
        return [None] * len(table)
    wgs84 = frame.to_crs(4326)
    protocols = table["protocolo"].astype(str)
    unique = set(protocols[~protocols.duplicated(keep=False)])
    paths: dict[str, str] = {}
    for protocol, geom in zip(wgs84["protocolo"].astype(str), wgs84.geometry, strict=True):
        if protocol in unique and isinstance(geom, shapely.Geometry) and not shapely.is_empty(geom):
            paths[protocol] = shapely.to_wkt(geom, rounding_precision=7)
    return [paths.get(p) for p in protocols]


def _folder_decisions(
    provenance: Mapping[str, Any],
    decisions_file: str | Path | None,
    protocols: set[str],
    rules: Rules,
    folder: Path,
) -> pd.DataFrame | None:
    """Read the decisions of an imported run: the file given, else the run's own file."""
    if decisions_file is None:
        used = any(e.get("tipo") == "decisoes" for e in provenance.get("entradas") or [])
        if not used:
            return None
        path = _input_file(provenance, "decisoes")
        if path is None:
            raise InputFileError(
                "a avaliação usou um arquivo de decisões da Comissão que não está mais no "
                "lugar ou mudou: informe-o com --decisoes, para o registro ter as decisões "
                "que a classificação da pasta aplicou",
                path=folder / "proveniencia.json",
            )
    else:
        path = Path(decisions_file)
    territory = _input_file(provenance, "territorio")
    boundary = territory_boundary(territory, rules.municipio.codigo_ibge) if territory else None
    decisions, _rejected = read_decisions(
        path, rules, protocols, today=_reference_day(provenance), boundary=boundary
    )
    return decisions


def import_folder(
    registry: Registry,
    folder: str | Path,
    *,
    cycle: str,
    actor: str,
    rules: Rules,
    decisions_file: str | Path | None = None,
) -> store.RunRecord:
    """Import an existing ``geo-ip assess --out`` folder into the registry.

    The folder's public files hold no personal data: the run is recorded without it
    (eligibility is not checked again by the live ranking, the folder's is kept).
    The decisions the run applied are recorded as the Commission's current decisions,
    so that :func:`geo_ip.registry.live.live_ranking` gives the folder's ranking.

    Parameters
    ----------
    registry : Registry
        The registry.
    folder : str or Path
        The assessment folder (``ranking.csv``, ``proveniencia.json``,
        ``evidencias.json``; ``ranking.xlsx`` and ``avaliacao.gpkg`` when present).
    cycle : str
        The cycle's name.
    actor : str
        Who imports it.
    rules : Rules
        The rules of the assessment (their hash must be the folder's).
    decisions_file : str or Path, optional
        The decisions file of the run; default: the one named in ``proveniencia.json``
        (required when the run used one that is no longer there unchanged).

    Returns
    -------
    geo_ip.registry.store.RunRecord
        The run's id and counts.

    Raises
    ------
    InputFileError
        Not an assessment folder, an unreadable file, or the run's decisions missing.
    RulesError
        The folder was assessed with other rules.
    """
    folder = Path(folder)
    provenance = _folder_provenance(folder, rules)
    table, items = _folder_table(folder)
    extensions = _folder_extensions(folder, table)
    protocols = {p for p in table["protocolo"].astype(str) if p}
    decisions = _folder_decisions(provenance, decisions_file, protocols, rules, folder)
    with registry.session() as session:
        version = store.ensure_rules(session, rules, actor)
        cycle_row = store.ensure_cycle(
            session, cycle, actor, budget=provenance.get("orcamento_rs"), rules=version
        )
        record = store.record_run(
            session,
            table,
            cycle=cycle_row,
            rules=version,
            actor=actor,
            origin=f"geo-ip registry import {folder.resolve()}",
            provenance=provenance,
            personal=False,
            extensions=extensions,
            evidence=items,
            maps=None,
            history=None,
        )
        if decisions is not None and len(decisions):
            store.import_decisions(session, cycle_row, decisions, rules, actor=actor)
    return record


# --- exporting the decisions ------------------------------------------------------------------


def _number_text(value: Any) -> str:
    """Write a number as the decisions file takes it: a dot, exact; blank for none."""
    if value is None or value is pd.NA:
        return ""
    number = float(value)
    if math.isnan(number):
        return ""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _plain_text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def decisions_frame(session: Session, cycle: Cycle) -> pd.DataFrame:
    """Return the current decisions of a cycle as the cells of the decisions CSV (text).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`geo_ip.registry.store.EXPORT_COLUMNS`, in the order the
        decisions were taken; dates ISO, numbers with a dot.
    """
    current = store.current_decisions(session, cycle)
    out = pd.DataFrame(index=current.index)
    for column in store.EXPORT_COLUMNS:
        convert = _number_text if column in ("pontos", "latitude", "longitude") else _plain_text
        out[column] = pd.Series(
            [convert(v) for v in current[column]], index=current.index, dtype=object
        )
    return out.reset_index(drop=True)


def export_decisions(registry: Registry, cycle: str | None, path: str | Path) -> int:
    """Write the current decisions of a cycle in the ``--decisions`` CSV format.

    UTF-8, comma-separated, columns :data:`geo_ip.registry.store.EXPORT_COLUMNS`, dates
    ``AAAA-MM-DD``, decimal points; written through :func:`geo_ip._util.safe_cells.to_csv`
    (no cell starts a formula) and atomically. ``geo-ip assess --decisions`` reads it
    back to the same decisions.

    Parameters
    ----------
    registry : Registry
        The registry.
    cycle : str or None
        The cycle's name; None: the latest cycle.
    path : str or Path
        The CSV to write.

    Returns
    -------
    int
        Decisions written.

    Raises
    ------
    geo_ip.registry.store.RegistryError
        No such cycle.
    InputFileError
        The file cannot be written.
    """
    with registry.session() as session:
        frame = decisions_frame(session, store.find_cycle(session, cycle))
    out = Path(path)
    try:
        if out.parent != Path():
            out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            to_csv(frame, tmp)
    except OSError as exc:
        raise InputFileError(f"não foi possível gravar ({exc.strerror or exc})", path=out) from exc
    return len(frame)


# --- works ------------------------------------------------------------------------------------


def works_table(registry: Registry, cycle: str | None) -> pd.DataFrame:
    """Return the works executed in a cycle, in the columns of ``geo-ip cadastre``.

    Parameters
    ----------
    registry : Registry
        The registry.
    cycle : str or None
        The cycle's name; None: the latest cycle.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WORK_COLUMNS` (``data_execucao`` ISO text), in the order recorded.
    """
    with registry.session() as session:
        found = store.find_cycle(session, cycle)
        rows = session.execute(
            select(Request.protocolo, Work)
            .join(Request, Request.id == Work.pedido_id)
            .where(Request.ciclo_id == found.id)
            .order_by(Work.id)
        ).all()
    records = [
        {
            "protocolo": protocol,
            "data_execucao": work.data_execucao.isoformat(),
            "latitude": work.latitude,
            "longitude": work.longitude,
            "tipo_lampada": work.tipo_lampada,
            "potencia_w": work.potencia_w,
            "poste": work.poste,
            "observacao": work.observacao,
        }
        for protocol, work in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(WORK_COLUMNS))
    return frame.astype({"latitude": "float64", "longitude": "float64", "potencia_w": "float64"})


@dataclass
class WorkInput:
    """One executed work (a row of the executed-works file).

    Attributes
    ----------
    day : datetime.date
        Date of execution (energisation).
    latitude, longitude : float, optional
        As-built position of a lighting point (EPSG:4326).
    lamp : str
        Lamp type (``LED``).
    power_w : float, optional
        Lamp power (W).
    pole : str
        Pole id.
    note : str
        Remarks.
    """

    day: date
    latitude: float | None = None
    longitude: float | None = None
    lamp: str = ""
    power_w: float | None = None
    pole: str = ""
    note: str = ""


def _same_work(row: Work, work: WorkInput) -> bool:
    return (
        row.data_execucao == work.day
        and row.latitude == work.latitude
        and row.longitude == work.longitude
        and row.tipo_lampada == work.lamp
        and row.potencia_w == work.power_w
        and row.poste == work.pole
    )


def record_work(session: Session, request: Request, work: WorkInput, *, actor: str) -> Work | None:
    """Record a work executed for a request (audited); the request becomes ``executado``.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    request : Request
        The request.
    work : WorkInput
        What was executed.
    actor : str
        Who records it.

    Returns
    -------
    Work or None
        The work recorded; None when the same work was already recorded.
    """
    for row in session.scalars(select(Work).where(Work.pedido_id == request.id)):
        if _same_work(row, work):
            return None
    geom = None
    if work.latitude is not None and work.longitude is not None:
        geom = f"POINT ({work.longitude:.7f} {work.latitude:.7f})"
    row = Work(
        pedido_id=request.id, data_execucao=work.day, latitude=work.latitude,
        longitude=work.longitude, tipo_lampada=work.lamp.strip(), potencia_w=work.power_w,
        poste=work.pole.strip(), observacao=work.note.strip(), geom=geom, registrado_por=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.append(
        session, actor, "obra_executada", "pedido", request.protocolo,
        after={
            "obra": row.id, "data_execucao": work.day, "latitude": work.latitude,
            "longitude": work.longitude, "tipo_lampada": row.tipo_lampada,
            "potencia_w": work.power_w, "poste": row.poste, "observacao": row.observacao,
        },
    )  # fmt: skip
    if request.situacao != "executado":
        store.set_status(
            session, request, "executado", actor=actor,
            reason=f"obra executada em {work.day.isoformat()}", expected_version=None,
        )  # fmt: skip
    return row


@dataclass
class WorksImport:
    """What :func:`import_works` did.

    Attributes
    ----------
    recorded : int
        Works recorded.
    repeated : int
        Rows already in the registry (skipped).
    rejected : list of str
        One Portuguese sentence per row refused (file, row, fields).
    """

    recorded: int = 0
    repeated: int = 0
    rejected: list[str] = field(default_factory=list)


_WORK_FIELDS = ("protocolo", "data_execucao", "latitude", "longitude", "tipo_lampada",
                "potencia_w", "poste", "observacao")  # fmt: skip


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def import_works(
    registry: Registry,
    path: str | Path,
    *,
    cycle: str | None,
    actor: str,
    today: date | None = None,
) -> WorksImport:
    """Record the executed works of a file (the ``--executed`` file of ``geo-ip cadastre``).

    Every row is checked as ``geo-ip cadastre`` checks it (protocol of the cycle, date
    not in the future, both coordinates or none, power); rows with a problem are not
    recorded and are reported. All valid rows are recorded in one transaction.

    Parameters
    ----------
    registry : Registry
        The registry.
    path : str or Path
        CSV, XLSX, GeoJSON or GeoPackage with :data:`WORK_COLUMNS`.
    cycle : str or None
        The cycle's name; None: the latest cycle.
    actor : str
        Who records them.
    today : datetime.date, optional
        Reference date (later execution dates are refused); default: today.

    Returns
    -------
    WorksImport
        Counts and the rows refused.
    """
    path = Path(path)
    rows = FileRows.read(path, EXECUTED_SCHEMA, _WORK_FIELDS)
    rows.refuse_bad_geometries()
    result = WorksImport()
    with registry.session() as session:
        found = store.find_cycle(session, cycle)
        rules = rules_of(session, found)
        limit = cadastre_rules(rules).potencia_maxima_w.valor
        days = rows.dates("data_execucao", today or date.today(), required=True)
        lat, lon, _given = rows.coordinates()
        power = rows.powers(limit)
        requests = {
            r.protocolo.upper(): r
            for r in session.scalars(select(Request).where(Request.ciclo_id == found.id))
        }
        text = rows.text
        for i in range(len(rows)):
            protocol = text["protocolo"][i].strip()
            request = requests.get(protocol.upper())
            if not protocol:
                rows.problems[i].append("campo 'protocolo': obrigatório, está vazio")
            elif request is None:
                rows.problems[i].append(
                    f"campo 'protocolo': protocolo '{protocol}' não consta do ciclo {found.nome!r}"
                )
            day = days[i]
            if rows.problems[i] or request is None or day is None:
                result.rejected.append(
                    f"arquivo '{path}', linha {rows.line(i)}: " + " | ".join(rows.problems[i])
                )
                continue
            work = WorkInput(
                day=day, latitude=_finite(lat[i]), longitude=_finite(lon[i]),
                lamp=text["tipo_lampada"][i], power_w=_finite(power[i]),
                pole=text["poste"][i], note=text["observacao"][i],
            )  # fmt: skip
            if record_work(session, request, work, actor=actor) is None:
                result.repeated += 1
            else:
                result.recorded += 1
    return result


def write_works(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`works_table` as the CSV ``geo-ip cadastre --executed`` reads.

    Parameters
    ----------
    frame : pandas.DataFrame
        The works (:data:`WORK_COLUMNS`).
    path : str or Path
        The CSV.

    Returns
    -------
    Path
        The file written (UTF-8, safe cells).
    """
    out = Path(path)
    with atomic_path(out) as tmp:
        to_csv(frame, tmp)
    return out
