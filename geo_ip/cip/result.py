"""The result of a CIP computation (:func:`geo_ip.cip.engine.compute_cip`), for its writers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo_ip.rules.cip_rules import CipRules, Tariffs

__all__ = ["CipResult"]


@dataclass(frozen=True)
class CipResult:
    """CIP revenue of a municipality by class and month (aggregates only).

    Parameters
    ----------
    rules, tariffs : CipRules, Tariffs
        What was applied.
    by_class_month : pandas.DataFrame
        One row per class of :data:`CLASSES` and month 1–12: ``consumidores`` (units
        with a reading that month), ``consumidores_isentos``, ``kwh_consumo`` (all of
        them), ``kwh_isento``, ``kwh_acima_limite``, ``kwh_base`` (so that consumo =
        isento + acima do limite + base), ``tarifa_rs_kwh``, ``base_rs``, ``cip_rs``.
    by_class : pandas.DataFrame
        The year per class plus a ``total`` row: ``unidades_consumidoras``, ``faturas``
        (unit-months), ``faturas_isentas`` and the sums above.
    applied : pandas.DataFrame
        The rule applied to each class (cap, exemption, tariff, rate), with sources.
    reading : pandas.DataFrame
        Every input row accounted for: ``situacao``, ``motivo``, ``linhas`` (count) and
        ``exemplos_linhas`` (the first row numbers; no identifier nor value).
    total_rs : float
        CIP of the year (R$).
    months : int
        Months with any consumption in the input.
    warnings : tuple of str
        In Portuguese.
    provenance : dict
        Tool, rules and tariffs (file, version, hash), input (file, hash), formula, time.
    """

    rules: CipRules
    tariffs: Tariffs
    by_class_month: pd.DataFrame
    by_class: pd.DataFrame
    applied: pd.DataFrame
    reading: pd.DataFrame
    total_rs: float
    months: int
    warnings: tuple[str, ...]
    provenance: dict[str, Any]
