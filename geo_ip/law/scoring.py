"""Suggested scores of the five criteria of Art. 9, from the evidence table (pure, no I/O).

:func:`suggest` turns the evidence of each request (see ``docs/assessment.md``) into a
suggested number of points per criterion, its reference level (Art. 9 §6, §8, §10,
§12) and a one-sentence motivation in Portuguese that cites the evidence (Art. 9
§1 and Art. 10, V). Every threshold comes from ``rules.pontuacao`` and
``rules.avaliacao``; the points of each level from ``rules.criterios``. It also flags
the indication of a high-flow rural road (Art. 12 §1, thresholds in ``rules.art12``),
with the signs found and their evidence: an indication for the Executive, who alone
decides the direct execution (Art. 12 §2), not a scoring situation.

Unknown evidence (NaN, NA, a missing column) never raises: the condition that needs
it counts as not met, so the level is the conservative one, and the motivation says
which datum is unknown. Rows that cannot be scored (not located, or with an error in
the requests spreadsheet) get 0 points and a motivation saying why.

Each criterion is a function of :mod:`geo_ip.law.criteria`; the indication of Art. 12 is
:mod:`geo_ip.law.art12`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl, format_number
from geo_ip.law.art12 import art12_indication
from geo_ip.law.cells import Evidence
from geo_ip.law.criteria import beneficiaries, cost_benefit, safety, traffic, viability
from geo_ip.law.phrases import days_in
from geo_ip.rules.config import Rules
from geo_ip.schema import SUGGESTIONS

__all__ = ["SUGGESTION_COLUMNS", "format_brl", "format_number", "suggest"]

SUGGESTION_COLUMNS: tuple[str, ...] = tuple(SUGGESTIONS)
"""Columns added by :func:`suggest`, in order (:data:`geo_ip.schema.SUGGESTIONS`)."""


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------
def _unscored(ev: Evidence) -> tuple[np.ndarray, list[str]]:
    """Rows that cannot be scored and why (not located, or an error in the spreadsheet)."""
    problems = ev.text("problemas")
    located = ~np.isnan(ev.num("x")) if "x" in ev.table else np.ones(ev.n, dtype=bool)
    mask = np.array([s == "erro" for s in ev.text("situacao")], dtype=bool) | ~located
    reasons = [""] * ev.n
    for i in np.flatnonzero(mask):
        what = "pedido não localizado" if not located[i] else "pedido com erro na planilha"
        why = f" ({days_in(problems[i])})" if problems[i] else ""
        reasons[i] = f"Não pontuado: {what}{why}."
    return mask, reasons


def suggest(evidence: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Suggest the points of the five criteria of Art. 9 for every request.

    Parameters
    ----------
    evidence : DataFrame
        The evidence table (one row per request; columns in ``docs/assessment.md``).
        Absent columns and NaN/NA values are treated as unknown evidence.
    rules : Rules
        Municipality rules: weights and level points (``criterios``), thresholds
        (``pontuacao``, ``art12``) and radii (``avaliacao``).

    Returns
    -------
    DataFrame
        A copy of ``evidence`` (same index and order) with the columns of
        :data:`SUGGESTION_COLUMNS`: for each criterion ``c``, ``sugerido_<c>``
        (float points), ``nivel_<c>`` (``"I"``/``"II"``/``"III"``, ``""`` for
        beneficiarios and for unscored rows) and ``motivacao_<c>`` (Portuguese
        sentence citing the evidence); then the indication of a high-flow rural road
        (Art. 12 §1): ``indicio_art12`` (bool), ``sinais_art12`` (the families of signs
        found, ``;``-separated, e.g. ``"circulacao;acesso"``) and ``motivo_art12``
        (each sign with its evidence; ``""`` off rural roads). It is an indication
        for the Executive, not a decision (Art. 12 §2). Unscored rows (not located,
        or ``situacao == "erro"``) get 0 points, no level, a motivation saying why and
        no Art. 12 indication.
    """
    ev = Evidence(evidence)
    unscored, reasons = _unscored(ev)
    out = evidence.copy()
    columns: dict[str, object] = {}

    points, texts = beneficiaries(ev, rules)
    columns["sugerido_beneficiarios"] = np.where(unscored, 0.0, points)
    columns["nivel_beneficiarios"] = [""] * ev.n
    columns["motivacao_beneficiarios"] = [r or t for r, t in zip(reasons, texts, strict=True)]
    for criterion, build in (
        ("seguranca", safety),
        ("trafego", traffic),
        ("custo_beneficio", cost_benefit),
        ("viabilidade", viability),
    ):
        levels, texts = build(ev, rules)
        by_level = rules.level_points(criterion)
        level_points = np.array([by_level[code] for code in levels], dtype=float)
        columns[f"sugerido_{criterion}"] = np.where(unscored, 0.0, level_points)
        columns[f"nivel_{criterion}"] = [
            "" if skip else str(code) for skip, code in zip(unscored, levels, strict=True)
        ]
        columns[f"motivacao_{criterion}"] = [r or t for r, t in zip(reasons, texts, strict=True)]
    indication, signs, texts = art12_indication(ev, rules)
    columns["indicio_art12"] = indication & ~unscored
    columns["sinais_art12"] = ["" if skip else t for skip, t in zip(unscored, signs, strict=True)]
    columns["motivo_art12"] = ["" if skip else t for skip, t in zip(unscored, texts, strict=True)]

    for name in SUGGESTION_COLUMNS:
        dtype = "float64" if name.startswith("sugerido_") else "object"
        dtype = "bool" if name == "indicio_art12" else dtype
        out[name] = pd.Series(columns[name], index=evidence.index, dtype=dtype)
    return out
