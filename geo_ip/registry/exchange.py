"""The registry's exchange with files: assessment runs in, decisions out, works in and out.

This module is the face of the exchange: every name below is importable from here.

=============================  ==============================================================
function                       what it does
=============================  ==============================================================
:func:`record_assessment`      records a run of :func:`geo_ip.pipeline.assess` (``geo-ip
                               assess --db``) with the applicants' data, the decisions the
                               run used and the benefits history it read (here)
:func:`import_folder`          imports an existing ``geo-ip avaliar --saida`` folder (``geo-ip
                               registry import``), without personal data
                               (:mod:`geo_ip.registry.folder_import`)
:func:`export_decisions`       writes the current decisions in the exact ``--decisoes``
                               CSV format (``geo-ip registro exportar``); cells by
                               :func:`decisions_frame` (here)
:func:`works_table`            the executed works in the columns ``geo-ip cadastro`` reads
                               (:mod:`geo_ip.registry.works`)
:func:`import_works`,          records executed works (``geo-ip registro obras``)
:func:`record_work`            (:mod:`geo_ip.registry.works`)
=============================  ==============================================================

How a folder is read (its public files, aligned by the row of the requests spreadsheet)
is told in :mod:`geo_ip.registry.folder_import`, which also holds the helpers that find
again the input files a run read (used by :func:`record_assessment` too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv
from geo_ip.errors import InputFileError
from geo_ip.pipeline import Assessment
from geo_ip.registry import store
from geo_ip.registry.db import Registry
from geo_ip.registry.folder_import import FOLDER_FILES, _input_file, _reference_day, import_folder
from geo_ip.registry.models import Cycle
from geo_ip.registry.request_map import snapshot_maps
from geo_ip.registry.works import (
    WORK_COLUMNS,
    WorkInput,
    WorksImport,
    import_works,
    record_work,
    works_table,
    write_works,
)
from geo_ip.requests.decision_file import read_decisions
from geo_ip.requests.intake import territory_boundary
from geo_ip.rules.config import Rules
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


# --- recording a run --------------------------------------------------------------------------


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
    """Record a run of ``geo-ip avaliar`` in the registry (``--db``), in one transaction.

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
        Who records it (``sistema:geo-ip avaliar``).
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
            origin="geo-ip avaliar",
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
    """Write the current decisions of a cycle in the ``--decisoes`` CSV format.

    UTF-8, comma-separated, columns :data:`geo_ip.registry.store.EXPORT_COLUMNS`, dates
    ``AAAA-MM-DD``, decimal points; written through :func:`geo_ip._util.safe_cells.to_csv`
    (no cell starts a formula) and atomically. ``geo-ip avaliar --decisoes`` reads it
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
