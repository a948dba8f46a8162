"""The executed works in the registry: recorded, and written for ``geo-ip cadastro``.

:func:`record_work` records one work (audited; the request becomes ``executado``),
:func:`import_works` every row of an executed-works file (``geo-ip registro obras``),
:func:`works_table` and :func:`write_works` give them back in the columns
:data:`WORK_COLUMNS` that ``geo-ip cadastro --obras`` reads. Everything public is also
importable from :mod:`geo_ip.registry.exchange`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv
from geo_ip.cadastre.inputs import EXECUTED_SCHEMA, FileRows, cadastre_rules
from geo_ip.registry import audit, store
from geo_ip.registry.db import Registry
from geo_ip.registry.live import rules_of
from geo_ip.registry.models import Request, Work

__all__ = [
    "WORK_COLUMNS",
    "WorkInput",
    "WorksImport",
    "import_works",
    "record_work",
    "works_table",
    "write_works",
]

WORK_COLUMNS = (
    "protocolo", "data_execucao", "latitude", "longitude", "tipo_lampada", "potencia_w",
    "poste", "observacao",
)  # fmt: skip
"""Columns of the executed-works file of ``geo-ip cadastro --obras`` (``obras_executadas``)."""


# --- the works of a cycle ---------------------------------------------------------------------


def works_table(registry: Registry, cycle: str | None) -> pd.DataFrame:
    """Return the works executed in a cycle, in the columns of ``geo-ip cadastro``.

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


# --- recording works --------------------------------------------------------------------------


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
    """Record the executed works of a file (the ``--obras`` file of ``geo-ip cadastro``).

    Every row is checked as ``geo-ip cadastro`` checks it (protocol of the cycle, date
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
    """Write :func:`works_table` as the CSV ``geo-ip cadastro --obras`` reads.

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
