"""The money behind the program: CIP revenue next to the assessment's budget.

``geo-ip avaliar --cip-regras ... --cip-consumidores ...`` computes, with
:func:`geo_ip.cip.engine.cip_summary`, the municipality's annual CIP revenue, today's public
lighting energy cost, the cost once the selected works are lit, and the headroom
left. Today's lighting energy comes from the territory's lighting points (the BDGD's
yearly energy when known, else power × hours per day × days per month); the added
energy from the luminaires of the requests selected within the budget, at the rules'
standard power. Hours per day, days per month, standard power and the lighting tariff
come from the rules file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl
from geo_ip.cip.engine import cip_summary
from geo_ip.errors import RulesError
from geo_ip.pipeline import Assessment
from geo_ip.territory.reader import read_layer

log = logging.getLogger(__name__)

__all__ = ["added_lighting_kwh_month", "lighting_kwh_month", "program_cip"]


def _month(assessment: Assessment) -> tuple[float, float]:
    """Hours of lighting per day and billing days per month, from the rules."""
    rules = assessment.rules
    if rules.cadastro is None:
        raise RulesError(
            "a projeção da CIP precisa de [cadastro] dias_por_mes no arquivo de regras",
            path=rules.arquivo or None,
            field="cadastro.dias_por_mes",
        )
    return rules.iluminacao.horas_por_dia.valor, rules.cadastro.dias_por_mes.valor


def lighting_kwh_month(assessment: Assessment) -> float:
    """Energy of the public lighting that exists today, in kWh per month.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its territory's ``pontos_ip``).

    Returns
    -------
    float
        Sum over the lighting points: the yearly energy of the utility's cadastre / 12
        where known (BDGD ``PIP``), else power (W; the rules' standard power when
        unknown) × hours per day × days per month / 1000.
    """
    hours, days = _month(assessment)
    lamps = read_layer(assessment.territory, "pontos_ip", missing_ok=True)
    if not len(lamps):
        return 0.0
    standard = assessment.rules.iluminacao.potencia_padrao.valor
    yearly = pd.to_numeric(lamps.get("energia_kwh_ano"), errors="coerce").to_numpy(float)
    watts = pd.to_numeric(lamps.get("potencia_w"), errors="coerce").to_numpy(float)
    watts = np.where(np.isfinite(watts) & (watts > 0), watts, standard)
    estimated = watts * hours * days / 1000.0
    known = np.isfinite(yearly) & (yearly > 0)
    return float(np.where(known, yearly / 12.0, estimated).sum())


def added_lighting_kwh_month(assessment: Assessment) -> float:
    """Energy the selected works add, in kWh per month.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.

    Returns
    -------
    float
        Luminaires of the requests selected within the budget × the rules' standard
        power × hours per day × days per month / 1000.
    """
    hours, days = _month(assessment)
    table = assessment.table
    chosen = table["selecionado_orcamento"].fillna(False).astype(bool)
    lights = pd.to_numeric(table.loc[chosen, "luminarias"], errors="coerce").fillna(0).sum()
    watts = assessment.rules.iluminacao.potencia_padrao.valor
    return float(lights) * watts * hours * days / 1000.0


def program_cip(
    assessment: Assessment,
    rules_cip: str | Path,
    consumers: str | Path,
    tariffs: str | Path | None = None,
    *,
    municipio_ibge: int | None = None,
) -> dict[str, Any]:
    """CIP revenue, lighting energy cost before and after the works, and the headroom.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    rules_cip : str or Path
        The municipality's CIP rules (``data/cip/<nome>.toml`` or a file).
    consumers : str or Path
        Consumer units (CSV/XLSX or the BDGD with ``UCBT_tab``).
    tariffs : str or Path, optional
        Tariffs per class; default: the bundled example (labelled as such).
    municipio_ibge : int, optional
        Use only this municipality's consumers.

    Returns
    -------
    dict
        :func:`geo_ip.cip.engine.cip_summary` plus ``orcamento_rs`` (the assessment's budget)
        and ``custo_municipio_selecionado_rs`` (the municipal part of the selected
        works). No per-consumer line (LGPD).
    """
    rules = assessment.rules
    tariff = None
    if rules.cadastro is not None and rules.cadastro.tarifa_ip.valor is not None:
        tariff = rules.cadastro.tarifa_ip.valor
    summary = cip_summary(
        rules_cip,
        consumers,
        tariffs,
        lighting_energy_kwh_month=lighting_kwh_month(assessment),
        lighting_tariff=tariff,
        added_lighting_kwh_month=added_lighting_kwh_month(assessment),
        municipio_ibge=municipio_ibge,
    )
    table = assessment.table
    chosen = table["selecionado_orcamento"].fillna(False).astype(bool)
    selected = pd.to_numeric(table.loc[chosen, "custo_municipio_rs"], errors="coerce").sum()
    summary["orcamento_rs"] = assessment.provenance.get("orcamento_rs")
    summary["custo_municipio_selecionado_rs"] = round(float(selected), 2)
    log.info(
        "CIP: arrecadação anual %s; folga anual %s",
        format_brl(summary.get("arrecadacao_cip_anual_rs", float("nan"))),
        format_brl(summary.get("folga_anual_rs", float("nan"))),
    )
    return summary
