"""Order of the ranked requests: Art. 13 and the tie-break of Art. 10 §1 (pure).

The ranked requests (and those pending, which are placed among them to say where they
would stand) are sorted by decreasing ``pontuacao_total``, then by the tie-break keys
in the order of ``rules.desempate.ordem`` (unknown values last), then by the protocol
number in natural order (``PED-99`` before ``PED-100``), the text itself closing the
key. It is a total order on the rows' contents, so it does not depend on the order of
the input rows, and adding a request never changes the relative order of the others.
:func:`ranked_texts` says, for each ranked request, its place and which key put it
behind the request just ahead when they tie on the total.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl, format_number
from geo_ip.law.cells import formatted, numbers, per_value

__all__ = ["Ordering", "ranked_texts", "sort_key", "sort_requests"]

_TIE_COLUMNS = {
    # Art. 10 §1: "maior número de beneficiários" — the estimated residents, not the points.
    "beneficiarios": ("moradores_estimados", True),
    # "maior pontuação em segurança pública e segurança viária".
    "seguranca": ("pont_seguranca", True),
    # "melhor relação de custo-benefício": the lower cost per beneficiary.
    "custo_beneficio": ("custo_por_beneficiario_rs", False),
    # "antiguidade do protocolo": the older protocol first.
    "antiguidade_protocolo": ("data_protocolo", False),
}
"""Tie-break keys of Art. 10 §1: the column and whether the larger value comes first."""


def _day_text(day: float) -> str:
    """``dd/mm/aaaa`` of an ordinal day, ``sem data`` for NaN."""
    return "sem data" if math.isnan(day) else date.fromordinal(int(day)).strftime("%d/%m/%Y")


_TIE_REASONS: dict[str, tuple[str, Callable[[float], str], str]] = {
    "beneficiarios": ("maior número de beneficiários", format_number, " moradores estimados"),
    "seguranca": ("maior pontuação em segurança", format_number, ""),
    "custo_beneficio": ("melhor relação de custo-benefício", format_brl, " por beneficiário"),
    "antiguidade_protocolo": ("protocolo mais antigo", _day_text, ""),
}
"""How each tie-break key is said: ``<lead> (<ahead> contra <behind><unit>)``."""


class Ordering(NamedTuple):
    """The ranked and pending requests in order, with the keys that ordered them."""

    ranked: np.ndarray
    """Rows ranked (neither apart nor pending), best first."""
    pending: np.ndarray
    """Pending rows, in the order they would have among the ranked ones."""
    would_be: np.ndarray
    """Place (1-based) each pending row would have among the ranked ones."""
    keys: list[tuple[np.ndarray, np.ndarray]]
    """Sort keys of every row: the total, then the tie-break keys (see :func:`sort_key`)."""
    values: dict[str, np.ndarray]
    """Value of every tie-break key (``antiguidade_protocolo``: ordinal days)."""
    natural: np.ndarray
    """Rank of every row's protocol in natural order."""
    protocol: np.ndarray
    """Protocol of every row, as text."""


def _day(value: Any) -> int | None:
    """Ordinal day of a protocol date (``None`` when unknown)."""
    if value is None:
        return None
    if isinstance(value, date):
        return None if pd.isna(value) else value.toordinal()
    try:
        if pd.isna(value):
            return None
        return pd.Timestamp(value).date().toordinal()
    except (TypeError, ValueError):
        return None


def _days(values: Any) -> np.ndarray:
    """Ordinal day of each protocol date, NaN when unknown (see :func:`_day`)."""
    days = per_value(values, _day)
    return np.array([np.nan if d is None else float(d) for d in days], dtype=float)


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of protocol numbers: ``PED-99`` before ``PED-100``.

    The text itself closes the key, so two distinct protocols never compare equal
    (``PED-01`` before ``PED-1``, ``ped-1`` after ``PED-1``): a complete tie never
    depends on the order of the input rows.
    """
    parts = tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.findall(r"\d+|\D+", text)
    )
    return (*parts, (2, text))


def sort_key(values: np.ndarray, larger_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return the sort key of numbers as two arrays, unknown values last.

    Parameters
    ----------
    values : numpy.ndarray
        Numbers (NaN: unknown).
    larger_first : bool
        Whether the larger value comes first.

    Returns
    -------
    tuple of numpy.ndarray
        ``(is NaN, value)``, to sort ascending on both (the value negated when the
        larger comes first, 0 where unknown).
    """
    nan = np.isnan(values)
    value = np.where(nan, 0.0, -values if larger_first else values)
    return nan, value


def _protocols(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Protocol of every row as text, and its rank in natural order."""
    protocols = np.asarray(rows["protocolo"].astype(object), dtype=object)
    text = np.array([str(p) for p in protocols], dtype=object) if len(rows) else protocols
    places = _natural_places(tuple(text))
    return text, places.copy()


@functools.lru_cache(maxsize=8)
def _natural_places(protocols: tuple[str, ...]) -> np.ndarray:
    """Return the rank of every protocol in natural order.

    Cached: the web app ranks the same cycle again after each decision, and its
    protocols do not change.
    """
    natural = per_value(
        np.asarray(protocols, dtype=object), lambda t: _natural("None" if t is None else t)
    )
    place_of = {key: i for i, key in enumerate(sorted(set(natural)))}
    places = np.array([place_of[k] for k in natural], dtype="int64")
    places.flags.writeable = False
    return places


def sort_requests(
    rows: pd.DataFrame,
    total: np.ndarray,
    ranked: np.ndarray,
    pending: np.ndarray,
    tie_order: tuple[str, ...],
) -> Ordering:
    """Sort the ranked and the pending requests together (Art. 13, Art. 10 §1).

    Parameters
    ----------
    rows : pandas.DataFrame
        The requests, index ``0..n-1``, with ``protocolo`` and the tie-break columns.
    total : numpy.ndarray
        ``pontuacao_total`` of every row (NaN: unknown, last).
    ranked, pending : numpy.ndarray of bool
        The rows to rank; the rows pending (placed among them, but not ranked).
    tie_order : tuple of str
        ``rules.desempate.ordem``.

    Returns
    -------
    Ordering
        The order and the keys; a pending row's would-be place is the number of ranked
        rows ahead of it, plus one.
    """
    values = {
        name: _days(rows[column]) if name == "antiguidade_protocolo" else numbers(rows[column])
        for name, (column, _larger) in _TIE_COLUMNS.items()
    }
    keys = [sort_key(total, True)] + [sort_key(values[k], _TIE_COLUMNS[k][1]) for k in tie_order]
    protocol, natural = _protocols(rows)
    candidates = np.flatnonzero(ranked | pending)
    flat = [a for pair in keys for a in pair]  # (nan, value) of each key, most significant first
    sort_keys = [natural[candidates]] + [k[candidates] for k in reversed(flat)]
    in_order = candidates[np.lexsort(sort_keys)]
    is_pending = pending[in_order]
    would_be = np.cumsum(~is_pending)[is_pending] + 1
    return Ordering(
        in_order[~is_pending], in_order[is_pending], would_be, keys, values, natural, protocol
    )


def _decided_by(
    keys: list[tuple[np.ndarray, np.ndarray]], row: np.ndarray, ahead: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each row ties with the one ahead on the total, and the tie-break key deciding.

    The key is the index in ``keys[1:]`` of the first that differs (-1: none does).
    """

    def differs(key: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        nan, value = key
        return (nan[row] != nan[ahead]) | (value[row] != value[ahead])

    tied = ~differs(keys[0])
    decided = np.full(len(row), -1, dtype="int64")
    for i, key in enumerate(keys[1:]):
        decided = np.where((decided < 0) & tied & differs(key), i, decided)
    return tied, decided


def _tie_texts(ordering: Ordering, tie_order: tuple[str, ...]) -> np.ndarray:
    """Tie-break part of the reason of every ranked row but the first (``""``: no tie)."""
    row, ahead = ordering.ranked[1:], ordering.ranked[:-1]
    tied, decided = _decided_by(ordering.keys, row, ahead)
    protocol = ordering.protocol
    tail = np.full(len(row), "", dtype=object)
    all_tied = tied & (decided < 0)
    tail[all_tied] = (
        "; empatado com o protocolo "
        + protocol[ahead[all_tied]]
        + " em todos os critérios de desempate do Art. 10 §1, fica atrás pelo número do "
        "protocolo (regra técnica)"
    )
    for i, name in enumerate(tie_order):
        hit = np.flatnonzero(tied & (decided == i))
        if hit.size == 0:
            continue
        lead, fmt, unit = _TIE_REASONS[name]
        a, b = ordering.values[name][ahead[hit]], ordering.values[name][row[hit]]
        why = lead + " (" + formatted(a, fmt) + " contra " + formatted(b, fmt) + unit + ")"
        tail[hit] = (
            "; empatado com o protocolo "
            + protocol[ahead[hit]]
            + ", que fica à frente por "
            + why
            + " (Art. 10 §1)"
        )
    return tail


def ranked_texts(
    ordering: Ordering, total: np.ndarray, share: np.ndarray, tie_order: tuple[str, ...]
) -> np.ndarray:
    """Write the reason of each ranked row: place, points, share and any tie-break decided.

    Parameters
    ----------
    ordering : Ordering
        :func:`sort_requests`.
    total, share : numpy.ndarray
        Total points and municipal share (%) of every row.
    tie_order : tuple of str
        ``rules.desempate.ordem``.

    Returns
    -------
    numpy.ndarray of object
        One text per ranked row, in order (the budget part is added by the caller).
    """
    ranked = ordering.ranked
    k = len(ranked)
    if k == 0:
        return np.zeros(0, dtype=object)
    places = np.arange(1, k + 1).astype(str).astype(object)
    text = (
        places
        + "º na classificação por pontuação (Art. 13), com "
        + formatted(total[ranked], format_number)
        + " pontos; participação do Município de "
        + formatted(share[ranked], format_number)
        + " % (Art. 4 §1)"
    )
    if k > 1:
        text[1:] = text[1:] + _tie_texts(ordering, tie_order)
    return text
