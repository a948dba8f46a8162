"""The commission's decisions on the suggested scores (Art. 7, IV; Art. 9 §1; Art. 10, V).

The commission reviews the five suggestions of each request and may change any of
them with a written motivation. Its decisions come as a table, one row per (protocol,
criterion), columns :data:`DECISION_COLUMNS`: the valid rows of the Commission's file,
read and checked by :func:`geo_ip.decision_file.read_decisions`. This module receives
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
Commission accepted. :func:`criterion_from_label` (the criterion a label names) and
:func:`format_points` are shared with the reader.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._intake_checks import fmt
from geo_ip._parse import STOPWORDS, cell_text, slug
from geo_ip.config import CRITERIA, Rules

__all__ = [
    "ACTS",
    "ACT_COLUMNS",
    "DECISION_COLUMNS",
    "accepted_hardship",
    "apply",
    "apply_acts",
    "criterion_from_label",
    "format_points",
]

log = logging.getLogger(__name__)

DECISION_COLUMNS = (
    "linha", "protocolo", "criterio", "pontos", "motivacao", "membro", "data", "procedimento",
    "latitude", "longitude",
)  # fmt: skip
"""Columns of the valid decisions table (``latitude``/``longitude``: float, NaN unless
``localizacao``)."""
ACTS = ("hipossuficiencia", "art11", "art12", "localizacao")
"""Decisions without points: proof of hardship accepted (Art. 4 §2, III), strategic
request analysed directly (Art. 11), direct execution by the Executive (Art. 12), the
request's place confirmed by the Commission (Art. 7, II)."""
_ACT_LABELS = {
    "hipossuficiencia": "hipossuficiencia",
    "hipossuficiencia_financeira": "hipossuficiencia",
    "comprovacao_hipossuficiencia": "hipossuficiencia",
    "art_4_2_iii": "hipossuficiencia",
    "art_4_ss2_iii": "hipossuficiencia",
    "art11": "art11",
    "art_11": "art11",
    "artigo_11": "art11",
    "estrategico": "art11",
    "interesse_estrategico": "art11",
    "art12": "art12",
    "art_12": "art12",
    "artigo_12": "art12",
    "execucao_direta": "art12",
    "via_rural_alto_fluxo": "art12",
    "localizacao": "localizacao",
    "local": "localizacao",
    "localizacao_confirmada": "localizacao",
    "local_confirmado": "localizacao",
    "confirmacao_localizacao": "localizacao",
    "confirmacao_do_local": "localizacao",
    "posicao": "localizacao",
}
_ROMAN = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4}
_KEYWORDS = {
    "beneficiarios": "beneficiarios",
    "beneficiario": "beneficiarios",
    "seguranca": "seguranca",
    "trafego": "trafego",
    "fluxo": "trafego",
    "custo": "custo_beneficio",
    "viabilidade": "viabilidade",
}
_LEADING = frozenset({"art", "artigo", "9", "9o", "criterio", "inciso"})


# --- criteria labels ------------------------------------------------------------------------


def criterion_from_label(label: object) -> tuple[str | None, list[str]]:
    """Map a criterion label onto a name of :data:`geo_ip.config.CRITERIA` or :data:`ACTS`.

    Parameters
    ----------
    label : object
        ``"seguranca"``, ``"Segurança pública"``, ``"II"``, ``"Art. 9, IV"``,
        ``"custo-benefício"``... (accents, case and separators ignored).

    Returns
    -------
    tuple
        The criterion (``None`` when unknown or ambiguous) and the candidates found
        (several when ambiguous, e.g. ``"II - tráfego"``).
    """
    act = _ACT_LABELS.get(slug(label).strip("_"))
    if act is not None:
        return act, [act]
    tokens = [t for t in slug(label).split("_") if t and t not in STOPWORDS]
    while tokens and tokens[0] in _LEADING:
        tokens = tokens[1:]
    key = "_".join(tokens)
    if key in CRITERIA:
        return key, [key]
    found: list[str] = []
    if tokens and tokens[0] in _ROMAN:
        found.append(CRITERIA[_ROMAN[tokens[0]]])
    for token in tokens:
        name = _KEYWORDS.get(token)
        if name and name not in found:
            found.append(name)
    return (found[0] if len(found) == 1 else None), found


def format_points(value: float) -> str:
    """Write points as in Portuguese (``12,5``).

    Parameters
    ----------
    value : float
        Points.

    Returns
    -------
    str
        ``f"{value:g}"`` with a decimal comma.
    """
    return f"{value:g}".replace(".", ",")


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
    if isinstance(day, date):
        head += f" ({day.isoformat()})"
    elif cell_text(day):
        head += f" ({cell_text(day)})"
    return f"{head}: {why}"


def apply(table: pd.DataFrame, decisions: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Compute the final points per criterion: the commission's decision where there is one.

    Parameters
    ----------
    table : pandas.DataFrame
        The evidence table with ``protocolo`` and ``sugerido_<c>`` for every criterion
        ``c`` of :data:`geo_ip.config.CRITERIA` (NaN when no suggestion was possible).
    decisions : pandas.DataFrame
        Valid decisions from :func:`geo_ip.decision_file.read_decisions` (``protocolo``,
        ``criterio``, ``pontos``, ``motivacao``; optional ``membro``, ``data``). May be
        empty.
    rules : Rules
        Municipality rules (criterion weights).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with, per criterion, ``pont_<c>`` (decision, else the
        suggestion), ``decisao_<c>`` (``""`` when none; else e.g. ``"alterado de 10 para
        15 por Maria (2026-11-20): <motivação>"``, ``"mantido em 10 ..."``) and
        ``alterado_<c>`` (bool: a decision with points different from the suggestion),
        plus ``pontuacao_total`` (sum of the five; NaN when one of them is NaN).

    Raises
    ------
    ValueError
        Missing columns, a (protocol, criterion) decided twice, or points outside 0 to
        the criterion's weight (programming errors:
        :func:`geo_ip.decision_file.read_decisions` rejects these).
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
    protocols = out["protocolo"].astype(str)
    chosen = {(str(r["protocolo"]), str(r["criterio"])): r for r in decisions.to_dict("records")}
    for c in CRITERIA:
        weight = getattr(rules.criterios, c).peso.valor
        suggested = pd.to_numeric(out[f"sugerido_{c}"], errors="coerce").astype("float64")
        points, texts, changed = [], [], []
        for protocol, sug in zip(protocols, suggested, strict=True):
            record = chosen.get((protocol, c))
            if record is None:
                points.append(sug)
                texts.append("")
                changed.append(False)
                continue
            value = float(record["pontos"])
            member, why = cell_text(record.get("membro")), cell_text(record["motivacao"])
            points.append(value)
            texts.append(_decision_text(sug, value, member, record.get("data"), why))
            changed.append(bool(pd.isna(sug) or abs(value - sug) > 1e-9))
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

ACT_COLUMNS = (
    "art11_decidido", "art12_decidido", "ordem_ato", "decisao_art11", "decisao_art12",
    "procedimento_art12", "decisao_hipossuficiencia", "decisao_localizacao",
)  # fmt: skip
"""Columns added by :func:`apply_acts`."""


def _act_text(record: Mapping[Hashable, Any]) -> str:
    """Audit text of an act: who, when, procedure, confirmed place and motivation."""
    member = cell_text(record.get("membro"))
    day = record.get("data")
    when = day.isoformat() if isinstance(day, date) else cell_text(day)
    head = f"decidido por {member}" if member else "decidido"
    if when:
        head += f" em {when}"
    procedure = cell_text(record.get("procedimento"))
    if procedure:
        head += f", procedimento administrativo {procedure}"
    if record.get("criterio") == "localizacao":
        lat, lon = record.get("latitude", math.nan), record.get("longitude", math.nan)
        head += f", local confirmado em ({fmt(lat)}, {fmt(lon)})"
    return f"{head}: {cell_text(record.get('motivacao'))}"


def accepted_hardship(decisions: pd.DataFrame) -> dict[str, str]:
    """Protocols whose hardship the Commission accepted (``criterio = hipossuficiencia``).

    Parameters
    ----------
    decisions : pandas.DataFrame
        Valid decisions from :func:`geo_ip.decision_file.read_decisions`.

    Returns
    -------
    dict of str to str
        Protocol → audit text (member, date, documents), for
        :func:`geo_ip.eligibility.check`.
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
        Valid decisions from :func:`geo_ip.decision_file.read_decisions` (acts and points together).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with :data:`ACT_COLUMNS`: ``art11_decidido`` and
        ``art12_decidido`` (bool), ``ordem_ato`` (Int64: the order of the Art. 11/12
        decisions, by date and then by the row of the file, which is the order the
        budget reserves them in; NA for the others), the audit texts
        ``decisao_art11``, ``decisao_art12``, ``decisao_hipossuficiencia`` and
        ``decisao_localizacao`` (who confirmed the place, when, where and how; the place
        itself is applied before the evidence, by :func:`geo_ip._uncertainty.confirm_places`),
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
