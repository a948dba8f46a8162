"""Import of an existing ``geo-ip avaliar --saida`` folder into the registry.

:func:`import_folder` (``geo-ip registro importar``; also importable from
:mod:`geo_ip.registry.exchange`) records the folder's run without personal data.

An imported folder is read from its public files: ``evidencias.json`` (every evidence
figure, the suggestions with their levels and motivations, typed) and ``ranking.csv``
(the request's date, type and place), aligned by the row of the requests spreadsheet
(``linha``), plus the eligibility flag of the internal workbook (``ranking.xlsx``, only
that column is kept; its header in Portuguese labels, or in codes as written before
issue 21) and the extensions of ``avaliacao.gpkg``. The table recorded is the
one :func:`geo_ip.registry.live.live_ranking` ranks again, without checking eligibility.

The input files a run read are found again from its provenance here
(:func:`_input_file`, :func:`_reference_day`), for the folder's decisions and for
:func:`geo_ip.registry.exchange.record_assessment`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.safe_cells import FORMULA_START
from geo_ip.errors import InputFileError, RulesError
from geo_ip.outputs.tables import column_codes
from geo_ip.registry import store
from geo_ip.registry.db import Registry
from geo_ip.requests.decision_file import read_decisions
from geo_ip.requests.intake import territory_boundary
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import file_digest

__all__ = ["FOLDER_FILES", "import_folder"]

log = logging.getLogger(__name__)

FOLDER_FILES = ("ranking.csv", "proveniencia.json", "evidencias.json")
"""Files an assessment folder must have to be imported."""
_CSV_EXTRA = ("data_protocolo", "tipo", "bairro", "logradouro", "residencias", "motivos",
              "fundamento_inelegibilidade")  # fmt: skip
"""Columns of ``ranking.csv`` that ``evidencias.json`` lacks, taken from the CSV."""
_CSV_NUMBERS = ("residencias",)


# --- the input files a run read ---------------------------------------------------------------


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


# --- importing a folder -----------------------------------------------------------------------


def _missing(folder: Path, name: str) -> InputFileError:
    return InputFileError(
        f"não encontrado: a pasta '{folder}' não é uma pasta de avaliação do geo-ip avaliar "
        f"(--saida), que tem {', '.join(FOLDER_FILES)}",
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
            "não é a proveniência de uma avaliação do geo-ip avaliar (faltam as regras e seu hash)",
            path=path,
        )
    if given["sha256"] != rules.sha256:
        raise RulesError(
            f"a avaliação foi feita com outras regras (versão {given.get('versao')}, sha256 "
            f"{str(given['sha256'])[:12]}) que as informadas (versão {rules.versao}, sha256 "
            f"{rules.sha256[:12]}): informe com --regras o arquivo de regras da avaliação",
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
        raise InputFileError("não tem a lista 'pedidos' do geo-ip avaliar", path=path)
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


def _read_ranking(path: Path) -> pd.DataFrame:
    """Read a folder's ``ranking.csv``, the machine-readable list (every cell as text).

    Written with ``,`` and codes as header (before issue 21 and after); a copy saved
    again by a Brazilian spreadsheet (``;``, byte order mark, maybe the labels of
    ``ranking_planilha.csv``) is read as well.
    """
    try:
        ranking = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if "linha" not in ranking.columns and ";" in "".join(map(str, ranking.columns)):
            ranking = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=";"
            )
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(f"não foi possível ler o CSV ({exc})", path=path) from exc
    ranking.columns = column_codes(ranking.columns)
    return ranking


def _eligible(folder: Path, lines: pd.Series, situation: pd.Series) -> pd.Series:
    """``elegivel`` of each row: the workbook's column, else from the situation."""
    workbook = folder / "ranking.xlsx"
    if workbook.is_file():
        try:
            # opened here, closed here: given a path, pandas and openpyxl may leave the
            # file to the garbage collector (a ResourceWarning at some later collection)
            with workbook.open("rb") as handle:
                sheet = pd.read_excel(
                    handle,
                    sheet_name=0,
                    usecols=lambda c: column_codes([c])[0] in ("linha", "elegivel"),
                    dtype=str,
                )
        except (OSError, ValueError) as exc:
            log.warning("planilha interna ilegível (%s): elegibilidade pela situação", exc)
        else:
            # labels since issue 21 ("Linha da planilha", "Elegível"), codes before
            sheet.columns = column_codes(sheet.columns)
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
    ranking = _read_ranking(csv_path)
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
    """Import an existing ``geo-ip avaliar --saida`` folder into the registry.

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
            origin=f"geo-ip registro importar {folder.resolve()}",
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
