"""A previous identical benefit to the same applicant (Art. 5, II) (pure).

"Benefit identical ... to the same applicant" is the same CPF (by hash) and the same
request type; a benefit declared in the request or listed in the history without a
type is presumed identical. "In the last N years" counts calendar years back from the
reference date, the start day included (:func:`years_before`). The rules are in
:mod:`geo_ip.law.eligibility`, which calls :func:`previous_benefit` and
:func:`same_applicant`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, parse_dates
from geo_ip.law.cells import per_text
from geo_ip.law.phrases import REQUEST_TYPES
from geo_ip.law.phrases import day as say_day
from geo_ip.requests.cpf import cpf_hashes
from geo_ip.requests.intake_checks import request_type

__all__ = ["history_table", "previous_benefit", "same_applicant", "years_before"]


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        return None
    dates, _ = parse_dates(pd.Series([text], dtype=str), date.today())
    found = dates.iloc[0]
    return found if isinstance(found, date) else None


def _column(df: pd.DataFrame, name: str) -> list[object]:
    return list(df[name]) if name in df.columns else [None] * len(df)


def years_before(day: date, years: float) -> date:
    """Return the same calendar day ``years`` before ``day`` (29 Feb → 28 Feb).

    Parameters
    ----------
    day : datetime.date
        Reference date.
    years : float
        Whole years (calendar); a fractional value is converted at 365.25 days/year.

    Returns
    -------
    datetime.date
        Start of the period.
    """
    if float(years).is_integer():
        year = day.year - int(years)
        try:
            return day.replace(year=year)
        except ValueError:
            return day.replace(year=year, day=28)
    return day - timedelta(days=round(years * 365.25))


def history_table(history: pd.DataFrame | None, key: bytes) -> pd.DataFrame | None:
    """List the benefits with a CPF hash and a date, in the history's order.

    Parameters
    ----------
    history : pandas.DataFrame or None
        Previous benefits (``cpf_hash`` or ``cpf``, ``data``, optional ``tipo``,
        ``protocolo``).
    key : bytes
        The LGPD key, to hash a ``cpf`` column.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``cpf_hash``, ``day``, ``tipo`` (canonical or ``""``), ``protocol`` and
        ``seq`` (position in the history); ``None`` without a history.

    Raises
    ------
    ValueError
        If the history has neither a ``cpf_hash`` nor a ``cpf`` column.
    """
    if history is None:
        return None
    if "cpf_hash" in history.columns:
        hashes = [cell_text(h).lower() for h in history["cpf_hash"]]
    elif "cpf" in history.columns:
        hashes = cpf_hashes(history["cpf"], key).tolist()
    else:
        raise ValueError("history needs a 'cpf_hash' or 'cpf' column")
    rows = []
    events = zip(
        hashes,
        _column(history, "data"),
        _column(history, "tipo"),
        _column(history, "protocolo"),
        strict=True,
    )
    for h, day_v, tipo_v, protocol_v in events:
        day = _as_date(day_v)
        if not h or day is None:
            continue
        rows.append((h, day, request_type(cell_text(tipo_v)) or "", cell_text(protocol_v)))
    table = pd.DataFrame(rows, columns=["cpf_hash", "day", "tipo", "protocol"])
    table = table.astype({"cpf_hash": object, "tipo": object, "protocol": object})
    table["day"] = table["day"].astype(object)
    table["seq"] = np.arange(len(table), dtype="int64")
    return table


def _other_type_notes(
    events: pd.DataFrame, where: np.ndarray, other: np.ndarray, n: int
) -> np.ndarray:
    """Note of the requests with a recent benefit of another type: not identical."""
    out = np.full(n, "", dtype=object)
    if not other.any():
        return out
    day = events["day"].to_numpy(dtype=object)
    iso = np.array([say_day(d) for d in day[other]], dtype=object)
    kinds = [REQUEST_TYPES.get(k, k) for k in events["tipo"].to_numpy(dtype=object)[other]]
    text = (
        "Art. 5, II: benefício de outro tipo ("
        + np.array(kinds, dtype=object)
        + ") em "
        + iso
        + " ("
        + where[other]
        + "): não é idêntico"
    )
    per_row = pd.Series(text).groupby(events["row"].to_numpy()[other], sort=False)
    joined = per_row.agg(" | ".join)
    out[joined.index.to_numpy(dtype="int64")] = joined.to_numpy(dtype=object)
    return out


def _history_benefits(
    kind: np.ndarray, hashes: np.ndarray, history: pd.DataFrame, start: date
) -> tuple[pd.DataFrame, np.ndarray]:
    """List the history's benefits of each request's CPF that count; note the others.

    A benefit counts when its type is the request's or unknown (presumed identical).
    """
    n = len(hashes)
    requests = pd.DataFrame({"row": np.arange(n), "cpf_hash": hashes, "kind": kind})
    events = requests[requests["cpf_hash"] != ""].merge(history, on="cpf_hash")
    events = events.sort_values(["row", "seq"], kind="stable")
    where = np.where(
        events["protocol"] != "", "histórico, protocolo " + events["protocol"], "histórico"
    ).astype(object)
    untyped = (events["tipo"] == "").to_numpy()
    same = ~untyped & (events["tipo"] == events["kind"]).to_numpy()
    day = events["day"].to_numpy(dtype=object)
    recent = np.array([d >= start for d in day], dtype=bool)
    counted = pd.DataFrame(
        {
            "row": events["row"].to_numpy(),
            "seq": events["seq"].to_numpy() + 1,
            "day": day,
            "source": np.where(untyped, where + "; tipo não informado, presumido idêntico", where),
        }
    )[untyped | same]
    return counted, _other_type_notes(events, where, ~untyped & ~same & recent, n)


def _identical_texts(
    benefits: pd.DataFrame, justification: np.ndarray, years: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reason (no justification) or note (justified) citing each request's latest benefit."""
    n = len(justification)
    reason = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    if len(benefits) == 0:
        return reason, note
    ordinal = np.array([d.toordinal() for d in benefits["day"]], dtype="int64")
    latest = benefits.iloc[np.lexsort((benefits["seq"].to_numpy(), -ordinal))]
    latest = latest.drop_duplicates("row")
    rows = latest["row"].to_numpy(dtype="int64")
    n_years = f"{years:g}".replace(".", ",")
    iso = np.array([say_day(d) for d in latest["day"]], dtype=object)
    when = "em " + iso + " (" + latest["source"].to_numpy(dtype=object) + ")"
    when = when + f", nos últimos {n_years} anos"
    justified = justification[rows] != ""
    note[rows[justified]] = (
        "Art. 5, II: benefício idêntico "
        + when[justified]
        + "; fato superveniente justificado — a Comissão decide"
    )
    reason[rows[~justified]] = (
        "Art. 5, II: benefício idêntico concedido "
        + when[~justified]
        + ", sem justificativa de fato superveniente (campo "
        "'beneficio_anterior_justificativa')"
    )
    return reason, note


def previous_benefit(
    data: dict[str, pd.Series],
    hashes: np.ndarray,
    history: pd.DataFrame | None,
    start: date,
    years: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply Art. 5, II to every request.

    A benefit counts when declared in the request (``beneficio_anterior_data``) or in
    the history under the same CPF hash with the same or no type; among those since
    ``start`` the latest one is cited (the first of equals, the request's own first).

    Parameters
    ----------
    data : dict of str to pandas.Series
        The request columns (``tipo``, ``beneficio_anterior_data``,
        ``beneficio_anterior_justificativa``), index ``0..n-1``.
    hashes : numpy.ndarray
        CPF hash of every request (``""``: none).
    history : pandas.DataFrame or None
        :func:`history_table`.
    start : datetime.date
        First day of the period (:func:`years_before`).
    years : float
        The period, quoted.

    Returns
    -------
    tuple of numpy.ndarray
        Reason (ineligible), notes on benefits of other types, and the note of an
        identical benefit with a justified supervening fact; ``""`` where none.
    """
    n = len(hashes)
    own = pd.DataFrame(
        {
            "row": np.arange(n),
            "seq": 0,
            "day": per_text(data["beneficio_anterior_data"], _as_date),
            "source": "declarado no pedido; tipo presumido idêntico",
        }
    )
    found, other_notes = [own], np.full(n, "", dtype=object)
    if history is not None and len(history):
        kind = per_text(data["tipo"], cell_text)
        counted, other_notes = _history_benefits(kind, hashes, history, start)
        found.append(counted)
    benefits = pd.concat(found, ignore_index=True)
    benefits = benefits[benefits["day"].notna()]
    benefits = benefits[np.array([d >= start for d in benefits["day"]], dtype=bool)]
    justification = per_text(data["beneficio_anterior_justificativa"], cell_text)
    reason, note = _identical_texts(benefits, justification, years)
    return reason, other_notes, note


def same_applicant(hashes: np.ndarray, protocols: np.ndarray) -> np.ndarray:
    """Note the requests whose CPF appears in other rows (their protocols, in order).

    Parameters
    ----------
    hashes : numpy.ndarray
        CPF hash of every request (``""``: none).
    protocols : numpy.ndarray
        Protocol of every request.

    Returns
    -------
    numpy.ndarray of object
        One note per row (``""``: the CPF is in no other row).
    """
    n = len(hashes)
    out = np.full(n, "", dtype=object)
    # the rows of each CPF hash, in order (a dict keeps the first-seen order)
    rows_of: dict[str, list[int]] = {}
    for row, h in enumerate(hashes.tolist()):
        if h != "":
            rows_of.setdefault(h, []).append(row)
    cells = list(protocols)
    # one pass per applicant with several requests: each lists the protocols of the
    # applicant but the first one equal to its own (its own, unless a protocol repeats)
    for rows in rows_of.values():
        if len(rows) < 2:
            continue
        listed = [cells[row] for row in rows]
        first: dict[str, int] = {}
        for i, p in enumerate(listed):
            first.setdefault(p, i)
        texts: dict[int, str] = {}
        for row, p in zip(rows, listed, strict=True):
            f = first[p]
            if f not in texts:
                texts[f] = ", ".join(listed[:f] + listed[f + 1 :])
            out[row] = (
                "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: "
                f"{texts[f]}; a Comissão verifica"
            )
    return out
