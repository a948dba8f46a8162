"""Eligibility of each request (Lei 5.442/2026: Art. 1; Art. 2, IV; Art. 4; Art. 5; Art. 11).

:func:`check` adds to the evidence table, for every row (errors included):

- ``elegivel`` (bool) and ``motivos_inelegibilidade`` (every reason, ``" | "``-joined,
  each citing its article) with ``fundamento_inelegibilidade`` (the articles only,
  ``"Art. 4, caput; Art. 2, IV; Art. 5, I"``: what public outputs may show);
- ``avisos_elegibilidade``: what the commission should look at, without excluding;
- ``hipossuficiencia``: how financial hardship stands (:data:`HARDSHIP_STATUSES`),
  internal only; ``condicao_hipossuficiencia``: the public label (proven, pending, not
  proven), which never says how it was proven; ``pendencia_hipossuficiencia``: what
  proof is missing, for a pending request;
- ``pedido_estrategico`` (bool): ``estrategico = sim`` with its justification (an
  indication: Art. 11 is the Commission's act, :mod:`geo_ip.law.decisions`);
- ``cpf_hash`` (:func:`geo_ip.requests.cpf.cpf_hash`); ``cpf_solicitante`` comes back masked.

Decisions where the law is silent (documented here, applied in :func:`check`):

- **Hardship is the program's condition** (Art. 1, "para famílias em situação de
  hipossuficiência financeira"; Art. 4, caput) for the request types of
  ``hipossuficiencia.tipos`` (default: all three). It is proven (Art. 4 §2) by
  ``cadunico = sim`` (I, ``cadunico``), by a declared family income within the limit
  of the regulation (II, ``declaracao``) or by other documents the Commission accepted
  in a decision (III, ``aceita_comissao``). The limit (Art. 2, IV) is a per-capita
  and/or a family-income limit in minimum wages; a declaration within either proves
  hardship. Per capita = ``renda_familiar`` ÷ the applicant's family size, taken as
  ``moradores`` when the request serves one residence (or ``residencias`` is blank)
  and ``moradores ÷ residencias`` (the average household) when it serves several,
  since ``moradores`` then counts every residence served. A declaration above every
  limit that can be tested is ``acima_do_limite``: ineligible (Art. 4, caput; Art. 2,
  IV). Nothing to go on is ``sem_comprovacao``: the request is scored, but pending
  (no municipal share, never selected) until proven. An active CadÚnico inscription
  proves hardship even when the declared income is above the limit (§2, I), with a
  warning. The income figure never appears in the texts.
- **Art. 5, I**: a use listed in ``elegibilidade.usos_inelegiveis`` is ineligible
  unless ``mei = sim`` *and* hardship is proven (MEI blank counts as not MEI).
  ``misto`` (when not listed) is eligible with a warning: the property is also a home
  and the commission checks which part the works serve. A blank use is taken as
  residential, with a warning.
- **Art. 5, II**: "benefit identical ... to the same applicant" = same CPF (by hash) and
  same request type (``tipo``: extensao_rede, implantacao, melhoria). A previous
  benefit declared in the request (``beneficio_anterior_data``) or listed in the
  history without a type is presumed identical. "In the last N years" counts calendar
  years back from the reference date, the start day included (Código Civil, art. 132
  §3: a period of years ends on the day of the same number), so a benefit exactly N
  years before the reference date still counts. A filled
  ``beneficio_anterior_justificativa`` (supervening fact) turns the reason into a
  warning: the commission decides. Two requests of the same CPF in the spreadsheet
  are a warning only.
- **Art. 11**: Art. 4 and Art. 5 still apply to strategic requests (they only skip the
  points).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, slug, yes_no
from geo_ip.law.benefits import history_table, previous_benefit, same_applicant, years_before
from geo_ip.law.cells import per_text
from geo_ip.law.hardship import (
    HARDSHIP_WORDS,
    PUBLIC_HARDSHIP,
    Hardship,
    hardship_notes,
    hardship_status,
    limits_text,
    missing_proof_text,
)
from geo_ip.requests.cpf import cpf_hashes, mask_cpf
from geo_ip.rules.config import Rules
from geo_ip.schema import ELIGIBILITY

__all__ = ["RESULT_COLUMNS", "check"]

log = logging.getLogger(__name__)

RESULT_COLUMNS = tuple(ELIGIBILITY)
"""Columns added by :func:`check`, in order (:data:`geo_ip.schema.ELIGIBILITY`)."""
_USE_LABELS = {"servicos": "de prestação de serviços"}


# --- Art. 5, I and Art. 11 -----------------------------------------------------------------


def _joined(parts: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Join, row by row, the non-empty texts of ``parts`` with ``" | "``."""
    out = np.full(n, "", dtype=object)
    for part in parts:
        filled = part != ""
        both = filled & (out != "")
        out[both] = out[both] + " | " + part[both]
        only = filled & ~both
        out[only] = part[only]
    return out


def _unlisted_use_notes(uses: pd.Series, use: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """Note of each use not listed as ineligible: mixed, blank (residential) or unknown."""
    note = np.full(len(use), "", dtype=object)
    mixed = ~listed & (use == "misto")
    note[mixed] = (
        "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
        "verifica o uso"
    )
    blank = ~listed & (use == "")
    note[blank] = "Art. 5, I: uso do imóvel não informado; considerado residencial"
    unknown = ~listed & ~mixed & ~blank & (use != "residencial")
    if unknown.any():
        shown = per_text(uses[unknown], lambda v: cell_text(v)[:40])
        note[unknown] = (
            "Art. 5, I: uso do imóvel não reconhecido ('" + shown + "'); a Comissão verifica"
        )
    return note


def _use_reasons(
    data: dict[str, pd.Series], rules: Rules, hardship: Hardship
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Art. 5, I for every request: (reason, use note, MEI without proof of hardship).

    A use listed in ``elegibilidade.usos_inelegiveis`` is ineligible unless the applicant
    is MEI and hardship is proven.
    """
    n = len(data["protocolo"])
    use = per_text(data["uso_imovel"], lambda v: slug(cell_text(v)))
    mei = per_text(data["mei"], yes_no)
    is_mei, not_mei = mei == True, mei == False  # noqa: E712 (None: not informed)
    reason = np.full(n, "", dtype=object)
    listed = np.isin(use, [slug(u) for u in rules.elegibilidade.usos_inelegiveis])
    label = np.array([_USE_LABELS.get(u, u) for u in use], dtype=object) if n else use
    use_note = _unlisted_use_notes(data["uso_imovel"], use, listed)
    exception = listed & is_mei & hardship.proven
    use_note[exception] = (
        "Art. 5, I: imóvel de uso " + label[exception] + " de MEI em hipossuficiência "
        "comprovada (" + hardship.how[exception] + "): elegível pela exceção; a Comissão confere"
    )
    mei_without_proof = listed & is_mei & ~exception
    reason[mei_without_proof] = (
        "Art. 5, I: imóvel de uso " + label[mei_without_proof] + "; o solicitante é MEI, mas "
        "sem hipossuficiência comprovada (nem inscrição no CadÚnico nem renda declarada "
        f"dentro do limite: {limits_text(rules)})"
    )
    other = listed & ~is_mei
    who = np.where(not_mei, "não é MEI", "não informou se é MEI").astype(object)
    reason[other] = "Art. 5, I: imóvel de uso " + label[other] + " e o solicitante " + who[other]
    return reason, use_note, mei_without_proof


def _strategic(data: dict[str, pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Art. 11 marking: (marked strategic with its justification, note)."""
    flagged = per_text(data["estrategico"], yes_no) == True  # noqa: E712
    justified = per_text(data["justificativa_estrategica"], cell_text) != ""
    note = np.full(len(flagged), "", dtype=object)
    note[flagged & ~justified] = (
        "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
        "expressa; não é tratado como Art. 11"
    )
    note[flagged & justified] = (
        "Art. 11: marcado como estratégico, com justificativa; a dispensa da pontuação "
        "depende de parecer técnico circunstanciado da Comissão (decisão com "
        "criterio = art11, Art. 11, parágrafo único)"
    )
    return flagged & justified, note


# --- check ----------------------------------------------------------------------------------


class _Findings(NamedTuple):
    """What :func:`check` found, one value per row."""

    reasons: np.ndarray
    """Why the request is ineligible, ``" | "``-joined (``""``: eligible)."""
    articles: np.ndarray
    """The articles of the reasons, ``"; "``-joined."""
    notes: np.ndarray
    """What the Commission should look at, ``" | "``-joined."""
    status: np.ndarray
    """How hardship stands (:data:`geo_ip.law.hardship.HARDSHIP_STATUSES`)."""
    strategic: np.ndarray
    """Marked strategic, with its justification (Art. 11)."""


def _articles(above: np.ndarray, use_reason: np.ndarray, benefit_reason: np.ndarray) -> np.ndarray:
    """Name the articles of each row's reasons, ``"; "``-joined (for public outputs)."""
    articles = _joined(
        [
            np.where(above, "Art. 4, caput; Art. 2, IV", "").astype(object),
            np.where(use_reason != "", "Art. 5, I", "").astype(object),
            np.where(benefit_reason != "", "Art. 5, II", "").astype(object),
        ],
        len(above),
    )
    return np.array([a.replace(" | ", "; ") for a in articles], dtype=object)


def _hardship_texts(
    data: dict[str, pd.Series], rules: Rules, protocols: np.ndarray, decided: dict[str, str]
) -> tuple[Hardship, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Art. 4 §2 and Art. 5, I: (hardship, hardship reason, use reason, use note, hardship notes).

    An income above the limit is a reason (Art. 4, caput; Art. 2, IV); the other hardship
    texts are notes, with the audit of the Commission's acceptance (§2, III).
    """
    accepted = np.array([p in decided for p in protocols], dtype=bool)
    hardship = hardship_status(data, rules, accepted)
    use_reason, use_note, mei_without_proof = _use_reasons(data, rules, hardship)
    above = hardship.status == "acima_do_limite"
    text = hardship_notes(hardship, rules)
    # the Art. 5, I reason already says the proof is missing; an income above the limit
    # stays, as a reason of its own (Art. 4, caput; Art. 2, IV)
    text[mei_without_proof & ~above] = ""
    audit = np.full(len(protocols), "", dtype=object)
    audit[accepted] = [
        "Art. 4 §2, III: decisão da Comissão — " + decided[p] for p in protocols[accepted]
    ]
    notes = [np.where(above, "", text).astype(object), audit]
    reason = np.where(above, text, "").astype(object)
    return hardship, reason, use_reason, use_note, _joined(notes, len(protocols))


def _findings(
    data: dict[str, pd.Series],
    rules: Rules,
    hashes: np.ndarray,
    past: pd.DataFrame | None,
    start: date,
    decided: dict[str, str],
) -> _Findings:
    """Apply every rule to all rows; reasons and notes come in the order of the rules."""
    n = len(hashes)
    protocols = per_text(data["protocolo"], cell_text)
    hardship, hardship_reason, use_reason, use_note, hardship_note = _hardship_texts(
        data, rules, protocols, decided
    )
    years = rules.elegibilidade.anos_beneficio_identico.valor
    benefit_reason, other_benefits, identical = previous_benefit(data, hashes, past, start, years)
    unchecked = np.full(n, "", dtype=object)
    if past is not None:
        unchecked[hashes == ""] = (
            "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no histórico"
        )
    strategic, art11 = _strategic(data)
    notes = [use_note, hardship_note, other_benefits, identical, unchecked]
    notes += [same_applicant(hashes, protocols), art11]
    above = hardship.status == "acima_do_limite"
    return _Findings(
        _joined([hardship_reason, use_reason, benefit_reason], n),
        _articles(above, use_reason, benefit_reason),
        _joined(notes, n),
        hardship.status,
        strategic,
    )


_INPUT_COLUMNS = (
    "protocolo", "tipo", "uso_imovel", "mei", "cadunico", "renda_familiar", "moradores",
    "residencias", "cpf_solicitante", "beneficio_anterior_data",
    "beneficio_anterior_justificativa", "estrategico", "justificativa_estrategica",
)  # fmt: skip


def check(
    requests: pd.DataFrame,
    rules: Rules,
    *,
    history: pd.DataFrame | None = None,
    reference_date: date,
    key: bytes,
    mask: bool = True,
    accepted: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check hardship (Art. 4), Art. 5 eligibility and the Art. 11 marking.

    Parameters
    ----------
    requests : pandas.DataFrame
        The evidence table (or the validated requests) with the columns of
        :data:`_INPUT_COLUMNS` (``protocolo``, ``tipo``, ``uso_imovel``, ``mei``,
        ``cadunico``, ``renda_familiar``, ``moradores``, ``residencias``,
        ``cpf_solicitante``, ``beneficio_anterior_data``,
        ``beneficio_anterior_justificativa``, ``estrategico``,
        ``justificativa_estrategica``); a missing column counts as blank.
    rules : Rules
        ``rules.elegibilidade`` gives the ineligible uses and the years of Art. 5, II;
        ``rules.hipossuficiencia`` the income limits and the request types they
        apply to.
    history : pandas.DataFrame, optional
        Previous benefits from :func:`geo_ip.requests.history_file.read_history` (``cpf_hash`` or
        ``cpf``, ``data``, optional ``tipo``, ``protocolo``).
    reference_date : datetime.date
        Date the years of Art. 5, II are counted back from.
    key : bytes
        The LGPD key (:func:`geo_ip.requests.cpf.load_key`), the same as the history's hashes.
    mask : bool, default True
        Return ``cpf_solicitante`` masked (the hash serves every later comparison).
    accepted : mapping of str to str, optional
        Protocols whose hardship the Commission accepted on other documents (Art. 4
        §2, III: a decision with ``criterio = hipossuficiencia``), each with the
        decision's audit text (member, date, documents).

    Returns
    -------
    pandas.DataFrame
        A copy of ``requests`` with :data:`RESULT_COLUMNS` added (rules in the module
        docstring). No text contains a CPF, a name or an income figure.

    Notes
    -----
    Every rule is applied to all rows at once (each cell is read once per distinct
    text); the reasons and warnings of a row come in the order of the rules above.
    """
    out = requests.copy()
    start = years_before(reference_date, rules.elegibilidade.anos_beneficio_identico.valor)
    data = _inputs(out)
    cpfs = pd.Series(list(data["cpf_solicitante"]), dtype=object)
    if "cpf_hash" in out.columns:
        # a table checked before (the registry's live ranking) has its CPFs masked and
        # keeps the keyed hashes computed then: only the others are hashed
        kept = out["cpf_hash"].fillna("").astype(str).to_numpy(dtype=object)
        reuse = cpfs.astype(str).str.startswith("***").to_numpy(dtype=bool) & (kept != "")
        hashes = kept.copy()
        if not reuse.all():
            hashes[~reuse] = cpf_hashes(cpfs[~reuse], key).to_numpy(dtype=object)
    else:
        hashes = cpf_hashes(cpfs, key).to_numpy(dtype=object)
    past = history_table(history, key)
    if past is None:
        log.info("elegibilidade sem histórico de benefícios: Art. 5, II só pelo pedido")
    found = _findings(data, rules, hashes, past, start, dict(accepted or {}))
    for name, (values, dtype) in _result_columns(found, hashes, rules).items():
        out[name] = pd.Series(list(values), index=out.index, dtype=dtype)
    if mask and "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = list(per_text(out["cpf_solicitante"], _masked_cpf))
    _log_counts(out["elegivel"], found.status)
    return out


def _inputs(requests: pd.DataFrame) -> dict[str, pd.Series]:
    """Take the columns of :data:`_INPUT_COLUMNS`, index ``0..n-1`` (missing: blank)."""
    n = len(requests)
    return {
        c: requests[c].reset_index(drop=True)
        if c in requests.columns
        else pd.Series([None] * n, dtype=object)
        for c in _INPUT_COLUMNS
    }


def _masked_cpf(value: object) -> str:
    """Mask a CPF (a cell already masked stays as it is)."""
    text = cell_text(value)
    return text if text.startswith("***") else mask_cpf(value)


def _log_counts(eligible: pd.Series, status: np.ndarray) -> None:
    """Log how many requests are eligible and how hardship stands."""
    counts = pd.Series(status).value_counts()
    log.info(
        "elegibilidade: %d pedido(s) elegível(is), %d inelegível(is); hipossuficiência: %s",
        int(eligible.sum()),
        int((~eligible).sum()),
        ", ".join(f"{HARDSHIP_WORDS.get(str(k), str(k))}: {int(v)}" for k, v in counts.items())
        or "nenhum pedido",
    )


def _result_columns(
    found: _Findings, hashes: np.ndarray, rules: Rules
) -> dict[str, tuple[np.ndarray, type]]:
    """Values and type of each of :data:`RESULT_COLUMNS`."""
    status = found.status
    pending = np.where(status == "sem_comprovacao", missing_proof_text(rules), "").astype(object)
    return {
        "elegivel": (found.reasons == "", bool),
        "motivos_inelegibilidade": (found.reasons, str),
        "fundamento_inelegibilidade": (found.articles, str),
        "avisos_elegibilidade": (found.notes, str),
        "hipossuficiencia": (status, str),
        "condicao_hipossuficiencia": (np.array([PUBLIC_HARDSHIP[s] for s in status]), str),
        "pendencia_hipossuficiencia": (pending, str),
        "pedido_estrategico": (found.strategic, bool),
        "cpf_hash": (hashes, str),
    }
