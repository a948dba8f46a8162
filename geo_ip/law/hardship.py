"""Financial hardship of each request (Art. 1; Art. 2, IV; Art. 4, caput and §2) (pure).

Hardship is the program's condition for the request types of ``hipossuficiencia.tipos``.
It is proven by an active CadÚnico inscription (§2, I), by a declared family income
within a limit of the regulation (§2, II; Art. 2, IV: per capita and/or family income)
or by other documents the Commission accepted (§2, III). :func:`hardship_status` gives
each request one of :data:`HARDSHIP_STATUSES`; :func:`hardship_notes` says what it rests
on, never the income figure. The rules themselves are in :mod:`geo_ip.law.eligibility`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, to_number, yes_no
from geo_ip.law.cells import per_text
from geo_ip.requests.intake_checks import request_type
from geo_ip.rules.config import Rules

__all__ = [
    "HARDSHIP_STATUSES",
    "HARDSHIP_WORDS",
    "PROVEN",
    "PUBLIC_HARDSHIP",
    "Hardship",
    "hardship_notes",
    "hardship_status",
    "limits_text",
    "missing_proof_text",
]

HARDSHIP_STATUSES = (
    "cadunico", "declaracao", "aceita_comissao", "acima_do_limite", "sem_comprovacao",
    "nao_exigida",
)  # fmt: skip
"""Values of ``hipossuficiencia`` (Art. 4 §2, I, II, III; over the limit; no proof; the
request type is outside ``hipossuficiencia.tipos``)."""
PROVEN = frozenset({"cadunico", "declaracao", "aceita_comissao", "nao_exigida"})
"""Hardship statuses that let a request be funded."""
PUBLIC_HARDSHIP = {
    "cadunico": "comprovada",
    "declaracao": "comprovada",
    "aceita_comissao": "comprovada",
    "acima_do_limite": "não comprovada",
    "sem_comprovacao": "pendente",
    "nao_exigida": "não exigida",
}
"""What public outputs may say of each status: never how it was proven (LGPD)."""
HARDSHIP_WORDS = {
    "cadunico": "CadÚnico",
    "declaracao": "declaração de renda",
    "aceita_comissao": "aceita pela Comissão",
    "acima_do_limite": "renda acima do limite",
    "sem_comprovacao": "sem comprovação",
    "nao_exigida": "não exigida",
}
"""Each status in a few words, for the terminal's counts (internal: how it was proven)."""

_ASK = "a Comissão pode solicitar documentos (Art. 4 §2, III)"


class Hardship(NamedTuple):
    """How hardship stands for every request (arrays, one value per row)."""

    status: np.ndarray
    """One of :data:`HARDSHIP_STATUSES`."""
    how: np.ndarray
    """How it is proven, in Portuguese (``""`` when it is not)."""
    proven: np.ndarray
    """Proven by CadÚnico, by a declaration within the limit or by the Commission."""
    above: np.ndarray
    """The declared income is above every limit that can be tested."""
    has_income: np.ndarray
    """A family income was declared."""
    has_per_capita: np.ndarray
    """The per-capita income could be computed."""
    accepted: np.ndarray
    """The Commission accepted other documents (Art. 4 §2, III)."""


def _number(value: object) -> float:
    if isinstance(value, str):
        return float(to_number(pd.Series([value], dtype=str), thousands=True).iloc[0])
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def _money(value: float) -> str:
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def limits_text(rules: Rules) -> str:
    """Write the income limits of the rules in words.

    Parameters
    ----------
    rules : Rules
        Municipality rules (``[hipossuficiencia]``).

    Returns
    -------
    str
        E.g. ``"renda per capita até R$ 810,50 ou renda familiar até R$ 4.863,00"``.
    """
    hs = rules.hipossuficiencia
    parts = []
    if hs.per_capita_limit_rs is not None:
        parts.append(f"renda per capita até {_money(hs.per_capita_limit_rs)}")
    if hs.family_limit_rs is not None:
        parts.append(f"renda familiar até {_money(hs.family_limit_rs)}")
    return " ou ".join(parts)


def missing_proof_text(rules: Rules) -> str:
    """Say what a request without proof of hardship must present (Art. 4 §2), in Portuguese.

    Parameters
    ----------
    rules : Rules
        Municipality rules (the income limits of ``[hipossuficiencia]``).

    Returns
    -------
    str
        The three ways of proof, with the limits; no personal data.
    """
    return (
        "falta comprovar a hipossuficiência financeira (Art. 4 §2): inscrição ativa no "
        "CadÚnico (I), declaração de composição familiar e renda dentro do limite — "
        f"{limits_text(rules)} (II, Art. 2, IV) — ou outros documentos aceitos pela "
        "Comissão (III)"
    )


def _declared_income(
    data: dict[str, pd.Series], rules: Rules
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Test the declared income against the limits of Art. 2, IV.

    Returns (within a limit, above every testable limit, income declared, per capita
    computed). Per capita = income ÷ the applicant's family: ``moradores`` for one
    residence (or ``residencias`` blank), ``moradores ÷ residencias`` for several.
    """
    n = len(data["protocolo"])
    hs = rules.hipossuficiencia
    pc_limit, fam_limit = hs.per_capita_limit_rs, hs.family_limit_rs
    income = per_text(data["renda_familiar"], _number).astype(float)
    people = per_text(data["moradores"], _number).astype(float)
    homes = per_text(data["residencias"], _number).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        family = np.where(homes > 1, people / homes, people)
        per_capita = np.where(family > 0, income / family, np.nan)
    has_per_capita, has_income = ~np.isnan(per_capita), ~np.isnan(income)
    # §2, II: a declared income within either limit of the regulation (Art. 2, IV)
    within_pc = has_per_capita & (per_capita <= pc_limit + 1e-9) if pc_limit else np.zeros(n, bool)
    within_fam = has_income & (income <= fam_limit + 1e-9) if fam_limit else np.zeros(n, bool)
    within = within_pc | within_fam
    # over the limit: every limit that can be tested with the declaration is exceeded
    testable_pc = has_per_capita if pc_limit else np.zeros(n, bool)
    testable_fam = has_income if fam_limit else np.zeros(n, bool)
    above = ~within & (testable_pc | testable_fam)
    return within, above, has_income, has_per_capita


def hardship_status(data: dict[str, pd.Series], rules: Rules, accepted: np.ndarray) -> Hardship:
    """Decide how hardship stands for every request (Art. 4 §2).

    Parameters
    ----------
    data : dict of str to pandas.Series
        The request columns (``protocolo``, ``tipo``, ``cadunico``, ``renda_familiar``,
        ``moradores``, ``residencias``), index ``0..n-1``.
    rules : Rules
        ``rules.hipossuficiencia``: the income limits and the request types they apply to.
    accepted : numpy.ndarray of bool
        The Commission accepted other documents (Art. 4 §2, III).

    Returns
    -------
    Hardship
        The status by precedence: not required for the request type; CadÚnico;
        declaration within the limit; accepted by the Commission; above the limit;
        otherwise no proof (``sem_comprovacao``).
    """
    hs = rules.hipossuficiencia
    cad = per_text(data["cadunico"], yes_no)
    kind = per_text(data["tipo"], lambda v: request_type(cell_text(v)) or "")
    within, above, has_income, has_per_capita = _declared_income(data, rules)
    on_cad = cad == True  # noqa: E712 (None: not informed)
    required = np.isin(kind, list(hs.tipos)) | (kind == "")
    status = np.select(
        [~required, on_cad, within, accepted, above],
        ["nao_exigida", "cadunico", "declaracao", "aceita_comissao", "acima_do_limite"],
        default="sem_comprovacao",
    ).astype(object)
    how = np.select(
        [on_cad, within, accepted],
        [
            "inscrição no CadÚnico",
            "renda declarada dentro do limite",
            "documentos aceitos pela Comissão",
        ],
        default="",
    ).astype(object)
    proven = on_cad | within | accepted
    return Hardship(status, how, proven, above, has_income, has_per_capita, accepted)


def hardship_notes(hardship: Hardship, rules: Rules) -> np.ndarray:
    """Say what each status rests on (Art. 4 §2), never the income figure.

    Parameters
    ----------
    hardship : Hardship
        :func:`hardship_status`.
    rules : Rules
        The income limits, quoted.

    Returns
    -------
    numpy.ndarray of object
        One text per row (``""``: nothing to say): a CadÚnico inscription with an income
        above the limit, an income above the limit, a missing proof, documents accepted
        by the Commission.
    """
    limits = limits_text(rules)
    status = hardship.status
    n = len(status)
    out = np.full(n, "", dtype=object)
    cad_over = (status == "cadunico") & hardship.above
    out[cad_over] = (
        "Art. 4 §2, I: inscrito no CadÚnico (comprova a hipossuficiência), mas a renda "
        f"declarada passa do limite ({limits}, Art. 2, IV); a Comissão confere"
    )
    out[status == "acima_do_limite"] = (
        f"Art. 4, caput e Art. 2, IV: renda declarada acima do limite ({limits}), sem "
        "inscrição no CadÚnico nem documentos aceitos pela Comissão"
    )
    pending = status == "sem_comprovacao"
    detail = np.full(n, "", dtype=object)
    detail[pending & hardship.has_income & ~hardship.has_per_capita] = (
        " (renda familiar declarada sem o número de moradores: renda per capita não calculada)"
    )
    detail[pending & ~hardship.has_income] = " (sem inscrição no CadÚnico nem declaração de renda)"
    out[pending] = (
        "Art. 4 §2: hipossuficiência não comprovada" + detail[pending] + "; pedido pendente "
        f"de comprovação, sem participação do Município até lá; {_ASK}"
    )
    out[hardship.accepted & (status == "aceita_comissao")] = (
        "Art. 4 §2, III: hipossuficiência aceita pela Comissão com outros documentos"
    )
    return out
