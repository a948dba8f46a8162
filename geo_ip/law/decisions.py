"""The commission's decisions on the suggested scores (Art. 7, IV; Art. 9 §1; Art. 10, V).

The commission reviews the five suggestions of each request and may change any of
them with a written motivation. Its decisions come as a table, one row per (protocol,
criterion), columns :data:`DECISION_COLUMNS`: the valid rows of the Commission's file,
read and checked by :func:`geo_ip.requests.decision_file.read_decisions`. This module receives
that table and never reads a file.

Besides the five criteria, four **acts** are decided in the same table, without points
(:data:`ACTS`), each with who decided and when (the date orders the budget reservations
of Art. 11 and 12):

- ``hipossuficiencia``: the Commission accepts other documents as proof of hardship
  (Art. 4 §2, III); ``motivacao`` names the documents;
- ``art11``: the Commission analyses a strategic request directly, without the points
  (Art. 11); ``motivacao`` is the circumstantial technical opinion (sole paragraph);
- ``art12``: the Executive executes the works directly on a high-flow rural road
  (Art. 12); ``procedimento`` is the number of its own administrative procedure and
  ``motivacao`` the technical report and the justification of public interest (§2);
- ``localizacao``: the Commission confirms where the request is (site inspection,
  Art. 7, II and §1); ``latitude`` and ``longitude`` (EPSG:4326, inside the
  municipality) replace the located point before the evidence is computed, and a request
  whose location was too uncertain (``pendente_localizacao``) is ranked again;
  ``motivacao`` says how the place was confirmed.

:func:`apply` turns suggestions + decisions into the final points; :func:`apply_acts`
adds the acts to the table and :func:`accepted_hardship` lists the hardship the
Commission accepted. The table's columns and the acts are declared in
:mod:`geo_ip.schema`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, format_points
from geo_ip.law.phrases import coordinates
from geo_ip.law.phrases import day as say_day
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACT_RESULTS, ACTS, DECISION_COLUMNS

__all__ = [
    "ACTS",
    "ACT_COLUMNS",
    "DECISION_COLUMNS",
    "accepted_hardship",
    "apply",
    "apply_acts",
]

log = logging.getLogger(__name__)

# --- applying decisions ---------------------------------------------------------------------


def _decision_text(suggested: float, points: float, member: str, day: object, why: str) -> str:
    if pd.isna(suggested):
        head = f"atribuído {format_points(points)} (sem pontuação sugerida)"
    elif abs(points - suggested) > 1e-9:
        head = f"alterado de {format_points(suggested)} para {format_points(points)}"
    else:
        head = f"mantido em {format_points(points)}"
    if member:
        head += f" por {member}"
    when = say_day(day) if isinstance(day, date) else say_day(cell_text(day))
    if when:
        head += f" ({when})"
    return f"{head}: {why}"


def apply(table: pd.DataFrame, decisions: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Compute the final points per criterion: the commission's decision where there is one.

    Parameters
    ----------
    table : pandas.DataFrame
        The evidence table with ``protocolo`` and ``sugerido_<c>`` for every criterion
        ``c`` of :data:`geo_ip.rules.law_locks.CRITERIA` (NaN when no suggestion was possible).
    decisions : pandas.DataFrame
        Valid decisions from :func:`geo_ip.requests.decision_file.read_decisions` (``protocolo``,
        ``criterio``, ``pontos``, ``motivacao``; optional ``membro``, ``data``). May be
        empty.
    rules : Rules
        Municipality rules (criterion weights).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with, per criterion, ``pont_<c>`` (decision, else the
        suggestion), ``decisao_<c>`` (``""`` when none; else e.g. ``"alterado de 10 para
        15 por Maria (20/11/2026): <motivação>"``, ``"mantido em 10 ..."``) and
        ``alterado_<c>`` (bool: a decision with points different from the suggestion),
        plus ``pontuacao_total`` (sum of the five; NaN when one of them is NaN).

    Raises
    ------
    ValueError
        Missing columns, a (protocol, criterion) decided twice, or points outside 0 to
        the criterion's weight (programming errors:
        :func:`geo_ip.requests.decision_file.read_decisions` rejects these).
    """
    missing = [f"sugerido_{c}" for c in CRITERIA if f"sugerido_{c}" not in table.columns]
    if "protocolo" not in table.columns or missing:
        raise ValueError(f"table lacks columns: {['protocolo', *missing]}")
    if decisions.duplicated(["protocolo", "criterio"]).any():
        raise ValueError("decisions: a (protocolo, criterio) pair appears more than once")
    unknown = set(decisions["protocolo"]) - set(table["protocolo"])
    if unknown:
        log.warning("%d decisão(ões) para protocolo(s) fora da tabela: ignorada(s)", len(unknown))
    out = table.copy()
    # only the decided cells are visited: a cycle of 10,000 requests and a few hundred
    # decisions costs a few hundred steps, not 50,000
    protocols = out["protocolo"].astype(str).to_numpy(dtype=object)
    records = decisions.to_dict("records")
    decided = {str(r["protocolo"]) for r in records}
    rows_of: dict[str, list[int]] = {}
    for i in np.flatnonzero(pd.Series(protocols).isin(decided).to_numpy()):
        rows_of.setdefault(str(protocols[i]), []).append(int(i))
    by_criterion: dict[str, list[tuple[int, dict[Hashable, Any]]]] = {c: [] for c in CRITERIA}
    for record in records:
        target = by_criterion.get(str(record["criterio"]))  # acts have no points
        if target is not None:
            target.extend((row, record) for row in rows_of.get(str(record["protocolo"]), []))
    for c in CRITERIA:
        weight = getattr(rules.criterios, c).peso.valor
        suggested = pd.to_numeric(out[f"sugerido_{c}"], errors="coerce").astype("float64")
        points = suggested.to_numpy(dtype="float64", copy=True)
        texts = np.full(len(out), "", dtype=object)
        changed = np.zeros(len(out), dtype=bool)
        for row, record in by_criterion[c]:
            sug = float(points[row])  # still the suggestion: one decision per cell
            value = float(record["pontos"])
            member, why = cell_text(record.get("membro")), cell_text(record["motivacao"])
            points[row] = value
            texts[row] = _decision_text(sug, value, member, record.get("data"), why)
            changed[row] = bool(pd.isna(sug) or abs(value - sug) > 1e-9)
        final = pd.Series(points, index=out.index, dtype="float64")
        outside = final.notna() & ((final < -1e-9) | (final > weight + 1e-9))
        if outside.any():
            raise ValueError(
                f"pont_{c}: {int(outside.sum())} value(s) outside 0..{weight:g}, e.g. "
                f"{final[outside].iloc[0]:g}"
            )
        out[f"pont_{c}"] = final.clip(0, weight)
        out[f"decisao_{c}"] = pd.Series(texts, index=out.index, dtype=str)
        out[f"alterado_{c}"] = pd.Series(changed, index=out.index, dtype=bool)
    total = out[[f"pont_{c}" for c in CRITERIA]].sum(axis=1, skipna=False)
    # each criterion is within its weight and the weights add up to 100 (Art. 9)
    out["pontuacao_total"] = total.round(6)
    n_changed = sum(int(out[f"alterado_{c}"].sum()) for c in CRITERIA)
    log.info("decisões da Comissão aplicadas: %d pontuação(ões) alterada(s)", n_changed)
    return out


# --- acts without points (Art. 4 §2, III; Art. 11; Art. 12) ---------------------------------

ACT_COLUMNS = tuple(ACT_RESULTS)
"""Columns added by :func:`apply_acts`, in order (:data:`geo_ip.schema.ACT_RESULTS`)."""


def _act_text(record: Mapping[Hashable, Any]) -> str:
    """Audit text of an act: who, when, procedure, confirmed place and motivation."""
    member = cell_text(record.get("membro"))
    day = record.get("data")
    when = say_day(day) if isinstance(day, date) else say_day(cell_text(day))
    head = f"decidido por {member}" if member else "decidido"
    if when:
        head += f" em {when}"
    procedure = cell_text(record.get("procedimento"))
    if procedure:
        head += f", procedimento administrativo {procedure}"
    if record.get("criterio") == "localizacao":
        lat, lon = record.get("latitude", math.nan), record.get("longitude", math.nan)
        lat, lon = (math.nan if pd.isna(v) else float(v) for v in (lat, lon))
        head += f", local confirmado em ({coordinates(lat, lon)})"
    return f"{head}: {cell_text(record.get('motivacao'))}"


def accepted_hardship(decisions: pd.DataFrame) -> dict[str, str]:
    """Protocols whose hardship the Commission accepted (``criterio = hipossuficiencia``).

    Parameters
    ----------
    decisions : pandas.DataFrame
        Valid decisions from :func:`geo_ip.requests.decision_file.read_decisions`.

    Returns
    -------
    dict of str to str
        Protocol → audit text (member, date, documents), for
        :func:`geo_ip.law.eligibility.check`.
    """
    if decisions.empty:
        return {}
    rows = decisions[decisions["criterio"] == "hipossuficiencia"]
    return {str(r["protocolo"]): _act_text(r) for r in rows.to_dict("records")}


def apply_acts(table: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Add the Art. 11 and Art. 12 acts (and the hardship and location texts) to the table.

    Parameters
    ----------
    table : pandas.DataFrame
        The assessment table (``protocolo``).
    decisions : pandas.DataFrame
        Valid decisions from :func:`geo_ip.requests.decision_file.read_decisions` (acts
        and points together).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with :data:`ACT_COLUMNS`: ``art11_decidido`` and
        ``art12_decidido`` (bool), ``ordem_ato`` (Int64: the order of the Art. 11/12
        decisions, by date and then by the row of the file, which is the order the
        budget reserves them in; NA for the others), the audit texts
        ``decisao_art11``, ``decisao_art12``, ``decisao_hipossuficiencia`` and
        ``decisao_localizacao`` (who confirmed the place, when, where and how; the place
        itself is applied before the evidence, by :func:`geo_ip.law.uncertainty.confirm_places`),
        and ``procedimento_art12`` (the administrative procedure's number).
    """
    out = table.copy()
    n = len(out)
    protocols = out["protocolo"].astype(str).to_numpy(dtype=object)
    columns: dict[str, np.ndarray] = {
        "art11_decidido": np.zeros(n, dtype=bool),
        "art12_decidido": np.zeros(n, dtype=bool),
        "decisao_art11": np.full(n, "", dtype=object),
        "decisao_art12": np.full(n, "", dtype=object),
        "procedimento_art12": np.full(n, "", dtype=object),
        "decisao_hipossuficiencia": np.full(n, "", dtype=object),
        "decisao_localizacao": np.full(n, "", dtype=object),
    }
    order = pd.array([pd.NA] * n, dtype="Int64")
    acts = decisions[decisions["criterio"].isin(ACTS)] if len(decisions) else decisions
    if len(acts):
        where: dict[str, list[int]] = {}
        for i, p in enumerate(protocols):
            where.setdefault(p, []).append(i)
        records = acts.to_dict("records")
        budgeted = [r for r in records if r["criterio"] in ("art11", "art12")]
        budgeted.sort(
            key=lambda r: (
                r["data"].toordinal() if isinstance(r["data"], date) else math.inf,
                int(r["linha"]),
            )
        )
        place = {(str(r["protocolo"]), str(r["criterio"])): k + 1 for k, r in enumerate(budgeted)}
        for record in records:
            kind, protocol = str(record["criterio"]), str(record["protocolo"])
            text = _act_text(record)
            for i in where.get(protocol, []):
                if kind in ("hipossuficiencia", "localizacao"):
                    columns[f"decisao_{kind}"][i] = text
                    continue
                columns[f"{kind}_decidido"][i] = True
                columns[f"decisao_{kind}"][i] = text
                order[i] = place[(protocol, kind)]
                if kind == "art12":
                    columns["procedimento_art12"][i] = cell_text(record.get("procedimento"))
    for name in ACT_COLUMNS:
        if name == "ordem_ato":
            out[name] = pd.Series(order, index=out.index)
        else:
            dtype = bool if name.endswith("_decidido") else str
            out[name] = pd.Series(list(columns[name]), index=out.index, dtype=dtype)
    log.info(
        "atos da Comissão e do Executivo: %d Art. 11, %d Art. 12, %d hipossuficiência aceita, "
        "%d local confirmado",
        int(out["art11_decidido"].sum()),
        int(out["art12_decidido"].sum()),
        int((out["decisao_hipossuficiencia"] != "").sum()),
        int((out["decisao_localizacao"] != "").sum()),
    )
    return out
