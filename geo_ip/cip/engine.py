"""CIP (Contribuição de Iluminação Pública): municipal rules as data, revenue by class and month.

The CIP funds public lighting; each municipality's law sets who pays and on what base
and the distributor bills it on the energy invoices. ``data/cip/<municipio>.toml``
holds one municipality's rules exactly as the source document gives them (the law
number and, per class, the kWh cap on the base and the exemptions, each with its
source); a rule the document does not give is written ``"não informado no
documento-fonte"`` and :func:`compute_cip` refuses to compute until the user supplies it
in a file that inherits (``herda = "colorado"``) — it never invents one.

Formula, per consumer unit and month (classes in :data:`CLASSES`)::

    isenta   = class exempt with any consumption, or kWh <= isencao_ate_kwh ("até 50 kWh")
    kWh_base = 0 if isenta else min(kWh, limite_kwh)          (no cap: all the kWh)
    CIP (R$) = aliquota (%) / 100 × kWh_base × tarifa da classe (R$/kWh)

The base is the *value* of the energy consumed (kWh × tariff): the laws exclude from the
base "os valores de consumo que superarem" the caps, i.e. the value of the kWh above the
cap. The document does not transcribe the article defining the base, so the tariff to
use (with or without taxes) is the one the tariffs file states (:func:`load_tariffs`).
Not modelled: the Tarifa Social discount of low-income subclasses (one tariff per class),
the minimum billable energy (custo de disponibilidade) and tariff flags; the measured kWh
of the BDGD is used as the billed one. Amounts are summed without rounding each invoice.

Public-lighting units (BDGD ``CLAS_SUB = IP``) pay no CIP: they are the service the
contribution funds and no law of the document names them; they are counted apart.
Outputs are aggregates by class and month only (LGPD: UCBT identifiers are personal data).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl
from geo_ip._util.version import __version__
from geo_ip.cip.consumers import ConsumerTable, read_consumers
from geo_ip.cip.outputs import write_cip_outputs
from geo_ip.cip.result import CipResult
from geo_ip.errors import GeoIPError, RulesError
from geo_ip.rules.cip_rules import (
    BDGD_SUBCLASSES,
    CLASS_LABELS,
    CLASSES,
    EXAMPLE_LABEL,
    MONTHS,
    NOT_INFORMED,
    STATUSES,
    CipRules,
    CipRulesMissingError,
    Tariffs,
    load_cip_rules,
    load_tariffs,
)

__all__ = [
    "BDGD_SUBCLASSES",
    "CLASSES",
    "CLASS_LABELS",
    "FORMULA",
    "NOT_INFORMED",
    "CipResult",
    "CipRules",
    "CipRulesMissingError",
    "ConsumerTable",
    "Tariffs",
    "cip_summary",
    "compute_cip",
    "load_cip_rules",
    "load_tariffs",
    "read_consumers",
    "write_cip_outputs",
]

log = logging.getLogger(__name__)

FORMULA = (
    "CIP = alíquota × kWh na base × tarifa da classe; kWh na base = 0 para o consumidor "
    "isento (classe isenta ou consumo até o limite de isenção, inclusive) e min(kWh do mês, "
    "limite da classe) para os demais (sem limite: todo o kWh)"
)
"""The formula, in Portuguese, for every output."""

# --- engine -----------------------------------------------------------------------------------


def _as_rules(rules: CipRules | str | Path) -> CipRules:
    return rules if isinstance(rules, CipRules) else load_cip_rules(rules)


def _as_tariffs(tariffs: Tariffs | str | Path | None) -> Tariffs:
    if isinstance(tariffs, Tariffs):
        return tariffs
    return load_tariffs(tariffs if tariffs is not None else "tarifas_exemplo")


def _reading(records: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (status, reason), group in records.groupby(["situacao", "motivo"], sort=False):
        lines = group["linha"].astype(int).tolist()
        shown = ", ".join(map(str, lines[:20])) + (" …" if len(lines) > 20 else "")
        if status in ("aproveitada", "outro_municipio"):
            shown = ""  # only the rows to look at
        rows.append(
            {"situacao": status, "motivo": reason, "linhas": len(lines), "exemplos_linhas": shown}
        )
    table = pd.DataFrame(rows, columns=["situacao", "motivo", "linhas", "exemplos_linhas"])
    order = {s: i for i, s in enumerate(STATUSES)}
    table = table.sort_values(
        ["situacao", "linhas"], key=lambda c: c.map(order) if c.name == "situacao" else -c
    )
    return table.reset_index(drop=True)


def _applied(rules: CipRules, tariffs: Tariffs) -> pd.DataFrame:
    assert rules.aliquota is not None
    rows = []
    for cls in CLASSES:
        rule, tariff = rules.rule(cls), getattr(tariffs.tarifas, cls)
        if rule.isenta is not None:
            exemption, exemption_src = "isenta com qualquer consumo", rule.isenta.fonte
        elif rule.isencao_ate_kwh is not None:
            exemption = f"isento até {rule.isencao_ate_kwh.valor:g} kWh/mês (inclusive)"
            exemption_src = rule.isencao_ate_kwh.fonte
        else:
            exemption, exemption_src = "nenhuma", NOT_INFORMED
        rows.append(
            {
                "classe": cls,
                "limite_kwh": rule.limite_kwh.valor if rule.limite_kwh else None,
                "fonte_limite": rule.limite_kwh.fonte
                if rule.limite_kwh
                else "sem limite no documento-fonte: todo o consumo entra na base",
                "isencao": exemption,
                "fonte_isencao": exemption_src,
                "aliquota_pct": rules.aliquota.valor,
                "fonte_aliquota": rules.aliquota.fonte,
                "tarifa_rs_kwh": tariff.valor if tariff else None,
                "fonte_tarifa": tariff.fonte if tariff else "não informada no arquivo de tarifas",
            }
        )
    return pd.DataFrame(rows)


def compute_cip(
    rules: CipRules | str | Path,
    consumers: ConsumerTable | str | Path,
    tariffs: Tariffs | str | Path | None = None,
    *,
    municipio_ibge: int | None = None,
) -> CipResult:
    """Compute the CIP of a municipality by class and month (see the module formula).

    Parameters
    ----------
    rules : CipRules, str or Path
        The municipality's CIP rules or a name / path for :func:`load_cip_rules`.
    consumers : ConsumerTable, str or Path
        Consumer units, or a file for :func:`read_consumers` (CSV, XLSX, BDGD).
    tariffs : Tariffs, str or Path, optional
        Tariffs per class; default the bundled example (outputs are then labelled).
    municipio_ibge : int, optional
        With a file: use only the units of this municipality (BDGD ``MUN``).

    Returns
    -------
    CipResult

    Raises
    ------
    CipRulesMissingError
        The rules lack what the source document does not give (the rate, the class
        rules): the message names the key and how to supply it.
    RulesError
        A class with consumption in the base has no tariff (``tarifas.<classe>``).
    InputFileError
        The consumers file cannot be used (see :func:`read_consumers`).
    """
    started = datetime.now().astimezone()
    rules, tariffs = _as_rules(rules), _as_tariffs(tariffs)
    rules.require_complete()
    assert rules.aliquota is not None
    table = (
        consumers
        if isinstance(consumers, ConsumerTable)
        else read_consumers(consumers, municipio_ibge=municipio_ibge)
    )
    frame, (used, code, has, exempt) = _class_months(rules, table)
    _price(frame, rules, tariffs)
    by_class = _by_class(frame, table, used, code, has, exempt)
    months = int((frame.groupby("mes")["consumidores"].sum() > 0).sum())
    warnings = _warnings(rules, tariffs, table, frame, months)
    reading = _reading(table.records)
    total_rs = float(frame["cip_rs"].sum())
    provenance = _provenance(rules, tariffs, table, reading, started, total_rs)
    log.info("CIP de %s: %s no ano", rules.municipio.nome, format_brl(total_rs))
    return CipResult(
        rules=rules,
        tariffs=tariffs,
        by_class_month=frame,
        by_class=by_class,
        applied=_applied(rules, tariffs),
        reading=reading,
        total_rs=total_rs,
        months=months,
        warnings=tuple(warnings),
        provenance=provenance,
    )


def _class_months(
    rules: CipRules, table: ConsumerTable
) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Sum the consumption of the units used by class and month, with the class rules.

    Returns the table (``classe``, ``mes``, consumers, exempt ones, kWh consumed, exempt,
    above the limit and in the base) and, for :func:`_by_class`, the units used, their
    class codes and, per unit and month, whether it consumed and whether it was exempt.
    """
    used = table.records["situacao"].eq("aproveitada").to_numpy()
    code = pd.Categorical(table.records["classe"].to_numpy()[used], categories=CLASSES).codes
    kwh = table.kwh[used]
    per_class = [rules.rule(c) for c in CLASSES]
    cap = np.array([r.limite_kwh.valor if r.limite_kwh else np.inf for r in per_class])[code]
    upto = np.array([r.isencao_ate_kwh.valor if r.isencao_ate_kwh else -np.inf for r in per_class])
    exempt_all = np.array([r.isenta is not None for r in per_class])[code]
    has = ~np.isnan(kwh)
    value = np.where(has, kwh, 0.0)
    exempt = has & (exempt_all[:, None] | (value <= upto[code][:, None]))
    pays = has & ~exempt
    capped = np.minimum(value, cap[:, None])
    cells = (code[:, None] * 12 + np.arange(12)[None, :]).ravel()
    size = len(CLASSES) * 12

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(cells, weights=weights.ravel().astype(float), minlength=size)

    frame = pd.DataFrame(
        {
            "classe": np.repeat(CLASSES, 12),
            "mes": np.tile(MONTHS, len(CLASSES)),
            "consumidores": total(has).astype(int),
            "consumidores_isentos": total(exempt).astype(int),
            "kwh_consumo": total(value),
            "kwh_isento": total(np.where(exempt, value, 0.0)),
            "kwh_acima_limite": total(np.where(pays, value - capped, 0.0)),
            "kwh_base": total(np.where(pays, capped, 0.0)),
        }
    )
    return frame, (used, code, has, exempt)


def _price(frame: pd.DataFrame, rules: CipRules, tariffs: Tariffs) -> None:
    """Add the tariff, the base in reais and the CIP (rate × base) to each class and month.

    Raises :class:`RulesError` when a class with consumption in the base has no tariff.
    """
    assert rules.aliquota is not None
    tariff_of = {c: getattr(tariffs.tarifas, c) for c in CLASSES}
    needing = sorted(set(frame.loc[frame["kwh_base"] > 0, "classe"]), key=CLASSES.index)
    lacking = [c for c in needing if tariff_of[c] is None]
    if lacking:
        raise RulesError(
            "sem tarifa para a(s) classe(s) com consumo na base: "
            + ", ".join(CLASS_LABELS[c] for c in lacking)
            + " (informe-as em R$/kWh, com a Resolução Homologatória ANEEL de origem)",
            path=tariffs.arquivo or None,
            field=f"tarifas.{lacking[0]}",
        )
    frame["tarifa_rs_kwh"] = frame["classe"].map(
        {c: (t.valor if t is not None else np.nan) for c, t in tariff_of.items()}
    )
    frame["base_rs"] = (frame["kwh_base"] * frame["tarifa_rs_kwh"]).where(
        frame["kwh_base"] > 0, 0.0
    )
    frame["cip_rs"] = frame["base_rs"] * rules.aliquota.valor / 100.0


def _by_class(
    frame: pd.DataFrame,
    table: ConsumerTable,
    used: np.ndarray,
    code: np.ndarray,
    has: np.ndarray,
    exempt: np.ndarray,
) -> pd.DataFrame:
    sums = ["kwh_consumo", "kwh_isento", "kwh_acima_limite", "kwh_base", "base_rs", "cip_rs"]
    year = frame.groupby("classe", sort=False)[sums].sum().reindex(list(CLASSES))
    units = pd.Series(table.records["unidade"].to_numpy()[used], dtype=str)
    # a row without unit id is a unit of its own
    units = units.where(units != "", "#linha" + pd.Series(np.arange(len(units))).astype(str))
    keys = pd.DataFrame({"c": code, "u": units}).iloc[np.flatnonzero(has.any(axis=1))]
    distinct = keys.drop_duplicates().groupby("c").size()
    year.insert(0, "unidades_consumidoras", [int(distinct.get(i, 0)) for i in range(len(CLASSES))])
    year.insert(
        1, "faturas", np.bincount(code, weights=has.sum(axis=1), minlength=len(CLASSES)).astype(int)
    )
    year.insert(
        2,
        "faturas_isentas",
        np.bincount(code, weights=exempt.sum(axis=1), minlength=len(CLASSES)).astype(int),
    )
    year = year.reset_index()
    total = {"classe": "total", **{c: year[c].sum() for c in year.columns if c != "classe"}}
    total["unidades_consumidoras"] = int(keys["u"].nunique())  # a unit in two classes once
    return pd.concat([year, pd.DataFrame([total])], ignore_index=True)


def _warnings(
    rules: CipRules, tariffs: Tariffs, table: ConsumerTable, frame: pd.DataFrame, months: int
) -> list[str]:
    warnings = [EXAMPLE_LABEL + "."] if tariffs.exemplo else []
    warnings += list(rules.avisos)
    present = frame.groupby("classe")["consumidores"].sum()
    for cls in CLASSES:
        rule = rules.rule(cls)
        if present.get(cls, 0) and rule.limite_kwh is None and rule.isenta is None:
            warnings.append(
                f"Classe {CLASS_LABELS[cls].lower()} sem limite no documento-fonte "
                f"({rules.lei.numero}): todo o consumo do mês entra na base."
            )
    if months < 12:
        warnings.append(
            f"O arquivo tem consumo de só {months} mês(es): o total do ano soma apenas esses meses."
        )
    warnings += list(table.avisos)
    return warnings


def _provenance(
    rules: CipRules,
    tariffs: Tariffs,
    table: ConsumerTable,
    reading: pd.DataFrame,
    started: datetime,
    total_rs: float,
) -> dict[str, Any]:
    counts = reading.groupby("situacao")["linhas"].sum()
    stamp = (
        f"geo_ip {__version__}; regras CIP {Path(rules.arquivo).stem} {rules.versao} "
        f"(sha256 {rules.sha256[:12]}); tarifas {tariffs.versao} (sha256 {tariffs.sha256[:12]}); "
        f"{table.descricao}"
    )
    provenance: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "executado_em": started.isoformat(timespec="seconds"),
        "regras_cip": {
            "arquivo": rules.arquivo,
            "versao": rules.versao,
            "sha256": rules.sha256,
            "municipio": f"{rules.municipio.nome}/{rules.municipio.uf}",
            "lei": rules.lei.numero,
            "alteracoes": list(rules.lei.alteracoes),
            "documento_fonte": rules.documento_fonte,
            "url_fonte": rules.url_fonte,
        },
        "tarifas": {
            "arquivo": tariffs.arquivo,
            "versao": tariffs.versao,
            "sha256": tariffs.sha256,
            "exemplo": tariffs.exemplo,
            "distribuidora": tariffs.distribuidora,
            "resolucao_aneel": tariffs.resolucao_aneel,
            "vigencia": tariffs.vigencia,
            "tributos": tariffs.tributos,
        },
        "entrada": {
            "arquivo": table.arquivo,
            "sha256": table.sha256,
            "tipo": table.tipo,
            "descricao": table.descricao,
            "ano_referencia": table.ano,
            "municipio_ibge": table.municipio_ibge,
        },
        "formula": FORMULA,
        "contagens": {
            "linhas_lidas": int(counts.sum()),
            **{f"linhas_{s}": int(counts.get(s, 0)) for s in STATUSES},
        },
        "cip_anual_rs": round(total_rs, 2),
        "lgpd": "só agregados por classe e mês; nenhuma linha por unidade consumidora",
        "carimbo": (EXAMPLE_LABEL.upper() + "; " + stamp) if tariffs.exemplo else stamp,
    }
    if tariffs.exemplo:
        provenance["rotulo"] = EXAMPLE_LABEL
    return provenance


# --- the program's budget ------------------------------------------------------------------


def _lighting_tariff(given: float | None, tariffs: Tariffs) -> float:
    """Return the public-lighting tariff (B4a): the one given, else the tariffs file's."""
    if given is None:
        fallback = tariffs.tarifas.iluminacao_publica
        if fallback is None:
            raise RulesError(
                "sem tarifa de iluminação pública (B4a): informe-a no arquivo de tarifas ou "
                "como argumento",
                path=tariffs.arquivo or None,
                field="tarifas.iluminacao_publica",
            )
        return fallback.valor
    if not np.isfinite(given) or given <= 0:
        raise GeoIPError(
            f"tarifa de iluminação inválida ({given}): use R$/kWh > 0", field="lighting_tariff"
        )
    return given


def cip_summary(
    rules_cip: CipRules | str | Path,
    consumers: ConsumerTable | str | Path,
    tariffs: Tariffs | str | Path | None,
    *,
    lighting_energy_kwh_month: float,
    lighting_tariff: float | None = None,
    added_lighting_kwh_month: float = 0.0,
    municipio_ibge: int | None = None,
) -> dict[str, Any]:
    """CIP revenue against the lighting energy bill, before and after the program's works.

    Parameters
    ----------
    rules_cip : CipRules, str or Path
        The municipality's CIP rules (see :func:`compute_cip`).
    consumers : ConsumerTable, str or Path
        Consumer units (CSV, XLSX, BDGD).
    tariffs : Tariffs, str or Path, optional
        Tariffs per class; ``None``: the bundled example (labelled).
    lighting_energy_kwh_month : float
        Energy of today's public lighting, kWh per month (e.g. the BDGD ``PIP`` energy
        of the year / 12, or points × W × hours per day × days / 1000).
    lighting_tariff : float, optional
        Public-lighting tariff (B4a), R$/kWh; default ``tarifas.iluminacao_publica``.
    added_lighting_kwh_month : float, default 0
        Energy of the lighting points the program's selected works add, kWh per month.
    municipio_ibge : int, optional
        With a BDGD or a file with several municipalities: use only this one.

    Returns
    -------
    dict
        ``arrecadacao_cip_anual_rs``, ``custo_iluminacao_atual_anual_rs``,
        ``custo_iluminacao_projetado_anual_rs``, ``folga_anual_rs`` (revenue minus the
        projected energy cost: what is left for works, maintenance and the rest),
        the inputs, ``por_classe``, ``avisos``, ``formula`` and ``proveniencia``.

    Raises
    ------
    GeoIPError
        A negative energy or tariff; no lighting tariff given nor in the tariffs file;
        and every error of :func:`compute_cip`.
    """
    for name, number in (
        ("lighting_energy_kwh_month", lighting_energy_kwh_month),
        ("added_lighting_kwh_month", added_lighting_kwh_month),
    ):
        if not np.isfinite(number) or number < 0:
            raise GeoIPError(
                f"energia da iluminação inválida ({number}): use kWh/mês ≥ 0", field=name
            )
    result = compute_cip(rules_cip, consumers, tariffs, municipio_ibge=municipio_ibge)
    warnings = list(result.warnings)
    lighting_tariff = _lighting_tariff(lighting_tariff, result.tariffs)
    current = lighting_energy_kwh_month * 12 * lighting_tariff
    projected = (lighting_energy_kwh_month + added_lighting_kwh_month) * 12 * lighting_tariff
    warnings.append(
        "A folga não desconta manutenção, contratos nem a taxa de arrecadação da distribuidora."
    )
    annual = dict(zip(result.by_class["classe"], result.by_class["cip_rs"], strict=True))
    return {
        "municipio": f"{result.rules.municipio.nome}/{result.rules.municipio.uf}",
        "lei": result.rules.lei.numero,
        "tarifas_exemplo": result.tariffs.exemplo,
        "meses_com_consumo": result.months,
        "arrecadacao_cip_anual_rs": round(result.total_rs, 2),
        "energia_iluminacao_atual_kwh_mes": float(lighting_energy_kwh_month),
        "energia_iluminacao_acrescida_kwh_mes": float(added_lighting_kwh_month),
        "tarifa_iluminacao_rs_kwh": float(lighting_tariff),
        "custo_iluminacao_atual_anual_rs": round(current, 2),
        "custo_iluminacao_projetado_anual_rs": round(projected, 2),
        "folga_atual_anual_rs": round(result.total_rs - current, 2),
        "folga_anual_rs": round(result.total_rs - projected, 2),
        "por_classe": {c: round(float(annual[c]), 2) for c in CLASSES},
        "avisos": warnings,
        "formula": FORMULA,
        "proveniencia": result.provenance,
    }
