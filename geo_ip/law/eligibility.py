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
- ``cpf_hash`` (:func:`geo_ip.requests.privacy.cpf_hash`); ``cpf_solicitante`` comes back masked.

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
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, parse_dates, slug, to_number, yes_no
from geo_ip.requests.intake_checks import request_type
from geo_ip.requests.privacy import cpf_hashes, mask_cpf
from geo_ip.rules.config import Rules

__all__ = [
    "HARDSHIP_STATUSES",
    "PROVEN",
    "PUBLIC_HARDSHIP",
    "RESULT_COLUMNS",
    "check",
    "missing_proof_text",
]

log = logging.getLogger(__name__)

RESULT_COLUMNS = (
    "elegivel", "motivos_inelegibilidade", "fundamento_inelegibilidade", "avisos_elegibilidade",
    "hipossuficiencia", "condicao_hipossuficiencia", "pendencia_hipossuficiencia",
    "pedido_estrategico", "cpf_hash",
)  # fmt: skip
"""Columns added by :func:`check`."""
_USE_LABELS = {"servicos": "de prestação de serviços"}


# --- small helpers --------------------------------------------------------------------------


def _number(value: object) -> float:
    if isinstance(value, str):
        return float(to_number(pd.Series([value], dtype=str), thousands=True).iloc[0])
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


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


def _money(value: float) -> str:
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def _column(df: pd.DataFrame, name: str) -> list[object]:
    return list(df[name]) if name in df.columns else [None] * len(df)


# --- check ----------------------------------------------------------------------------------

_ASK = "a Comissão pode solicitar documentos (Art. 4 §2, III)"


def _map(values: pd.Series, convert: Callable[[Any], Any]) -> np.ndarray:
    """``convert`` of every cell, once per distinct text when the column holds text only.

    Other columns (numbers, booleans, dates mixed in) are converted cell by cell: two
    cells equal for pandas (``1`` and ``True``) may read differently.
    """
    column = pd.Series(values, dtype=object).reset_index(drop=True)
    out = np.empty(len(column), dtype=object)
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(column)
        converted = np.empty(len(uniques) + 1, dtype=object)
        converted[:-1] = [convert(v) for v in uniques]
        converted[-1] = convert(None)  # code -1: a missing cell
        out[:] = converted[codes]
    else:
        out[:] = [convert(v) for v in column]
    return out


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


def _limits_text(rules: Rules) -> str:
    """Write the income limits of the rules in words (``"renda per capita até R$ 810,50 ..."``)."""
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
        f"{_limits_text(rules)} (II, Art. 2, IV) — ou outros documentos aceitos pela "
        "Comissão (III)"
    )


def _use_and_hardship(
    data: dict[str, pd.Series], rules: Rules, accepted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Art. 5, I and Art. 4 §2 for every request.

    Returns (Art. 5, I reason, use note, hardship note, hardship status); the status is
    one of :data:`HARDSHIP_STATUSES`.
    """
    n = len(data["protocolo"])
    el = rules.elegibilidade
    hs = rules.hipossuficiencia
    limits = _limits_text(rules)
    pc_limit = hs.per_capita_limit_rs
    fam_limit = hs.family_limit_rs
    use = _map(data["uso_imovel"], lambda v: slug(cell_text(v)))
    mei = _map(data["mei"], yes_no)
    cad = _map(data["cadunico"], yes_no)
    income = _map(data["renda_familiar"], _number).astype(float)
    people = _map(data["moradores"], _number).astype(float)
    homes = _map(data["residencias"], _number).astype(float)
    kind = _map(data["tipo"], lambda v: request_type(cell_text(v)) or "")
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
    is_mei, not_mei = mei == True, mei == False  # noqa: E712 (None: not informed)
    on_cad = cad == True  # noqa: E712
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

    reason = np.full(n, "", dtype=object)
    use_note = np.full(n, "", dtype=object)
    listed = np.isin(use, [slug(u) for u in el.usos_inelegiveis])
    label = np.array([_USE_LABELS.get(u, u) for u in use], dtype=object) if n else use
    exception = listed & is_mei & (on_cad | within | accepted)
    use_note[exception] = (
        "Art. 5, I: imóvel de uso " + label[exception] + " de MEI em hipossuficiência "
        "comprovada (" + how[exception] + "): elegível pela exceção; a Comissão confere"
    )
    mei_without_proof = listed & is_mei & ~exception
    reason[mei_without_proof] = (
        "Art. 5, I: imóvel de uso " + label[mei_without_proof] + "; o solicitante é MEI, mas "
        "sem hipossuficiência comprovada (nem inscrição no CadÚnico nem renda declarada "
        f"dentro do limite: {limits})"
    )
    other = listed & ~is_mei
    who = np.where(not_mei, "não é MEI", "não informou se é MEI").astype(object)
    reason[other] = "Art. 5, I: imóvel de uso " + label[other] + " e o solicitante " + who[other]
    mixed = ~listed & (use == "misto")
    use_note[mixed] = (
        "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
        "verifica o uso"
    )
    blank = ~listed & (use == "")
    use_note[blank] = "Art. 5, I: uso do imóvel não informado; considerado residencial"
    unknown = ~listed & ~mixed & ~blank & (use != "residencial")
    if unknown.any():
        shown = _map(data["uso_imovel"][unknown], lambda v: cell_text(v)[:40])
        use_note[unknown] = (
            "Art. 5, I: uso do imóvel não reconhecido ('" + shown + "'); a Comissão verifica"
        )

    # Art. 4 §2 — the notes say what the status rests on, never the income figure.
    hardship = np.full(n, "", dtype=object)
    cad_over = (status == "cadunico") & above
    hardship[cad_over] = (
        "Art. 4 §2, I: inscrito no CadÚnico (comprova a hipossuficiência), mas a renda "
        f"declarada passa do limite ({limits}, Art. 2, IV); a Comissão confere"
    )
    hardship[status == "acima_do_limite"] = (
        f"Art. 4, caput e Art. 2, IV: renda declarada acima do limite ({limits}), sem "
        "inscrição no CadÚnico nem documentos aceitos pela Comissão"
    )
    pending = status == "sem_comprovacao"
    detail = np.full(n, "", dtype=object)
    detail[pending & has_income & ~has_per_capita] = (
        " (renda familiar declarada sem o número de moradores: renda per capita não calculada)"
    )
    detail[pending & ~has_income] = " (sem inscrição no CadÚnico nem declaração de renda)"
    hardship[pending] = (
        "Art. 4 §2: hipossuficiência não comprovada" + detail[pending] + "; pedido pendente "
        f"de comprovação, sem participação do Município até lá; {_ASK}"
    )
    hardship[accepted & (status == "aceita_comissao")] = (
        "Art. 4 §2, III: hipossuficiência aceita pela Comissão com outros documentos"
    )
    # the Art. 5, I reason already says the proof is missing; an income above the limit
    # stays, as a reason of its own (Art. 4, caput; Art. 2, IV)
    hardship[mei_without_proof & (status != "acima_do_limite")] = ""
    return reason, use_note, hardship, status


def _previous_benefit(
    data: dict[str, pd.Series],
    hashes: np.ndarray,
    history: pd.DataFrame | None,
    start: date,
    years: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Art. 5, II for every request: (reason, notes on other benefits, identical note).

    A benefit counts when declared in the request (``beneficio_anterior_data``) or in
    the history under the same CPF hash with the same or no type; among those since
    ``start`` the latest one is cited (the first of equals, the request's own first).
    """
    n = len(hashes)
    own = _map(data["beneficio_anterior_data"], _as_date)
    kind = _map(data["tipo"], cell_text)
    found = [
        pd.DataFrame(
            {
                "row": np.arange(n),
                "seq": 0,
                "day": own,
                "source": "declarado no pedido; tipo presumido idêntico",
            }
        )
    ]
    other_notes = np.full(n, "", dtype=object)
    if history is not None and len(history):
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
        found.append(
            pd.DataFrame(
                {
                    "row": events["row"].to_numpy(),
                    "seq": events["seq"].to_numpy() + 1,
                    "day": day,
                    "source": np.where(
                        untyped, where + "; tipo não informado, presumido idêntico", where
                    ),
                }
            )[untyped | same]
        )
        other = ~untyped & ~same & recent
        if other.any():
            iso = np.array([d.isoformat() for d in day[other]], dtype=object)
            text = (
                "Art. 5, II: benefício de outro tipo ("
                + events["tipo"].to_numpy(dtype=object)[other]
                + ") em "
                + iso
                + " ("
                + where[other]
                + "): não é idêntico"
            )
            per_row = pd.Series(text).groupby(events["row"].to_numpy()[other], sort=False)
            joined = per_row.agg(" | ".join)
            other_notes[joined.index.to_numpy(dtype="int64")] = joined.to_numpy(dtype=object)
    benefits = pd.concat(found, ignore_index=True)
    benefits = benefits[benefits["day"].notna()]
    benefits = benefits[np.array([d >= start for d in benefits["day"]], dtype=bool)]
    reason = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    if len(benefits):
        ordinal = np.array([d.toordinal() for d in benefits["day"]], dtype="int64")
        latest = benefits.iloc[np.lexsort((benefits["seq"].to_numpy(), -ordinal))]
        latest = latest.drop_duplicates("row")
        rows = latest["row"].to_numpy(dtype="int64")
        n_years = f"{years:g}".replace(".", ",")
        iso = np.array([d.isoformat() for d in latest["day"]], dtype=object)
        when = "em " + iso + " (" + latest["source"].to_numpy(dtype=object) + ")"
        when = when + f", nos últimos {n_years} anos"
        justified = _map(data["beneficio_anterior_justificativa"], cell_text)[rows] != ""
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
    return reason, other_notes, note


def _same_applicant(hashes: np.ndarray, protocols: np.ndarray) -> np.ndarray:
    """Note of the requests whose CPF appears in other rows (their protocols, in order)."""
    n = len(hashes)
    out = np.full(n, "", dtype=object)
    frame = pd.DataFrame({"h": hashes, "p": protocols, "row": np.arange(n)})
    frame = frame[frame["h"] != ""]
    shared = frame[frame.duplicated("h", keep=False)]
    # one pass per applicant with several requests: each lists the protocols of the
    # applicant but the first one equal to its own (its own, unless a protocol repeats)
    for _h, group in shared.groupby("h", sort=False):
        listed = group["p"].tolist()
        first: dict[str, int] = {}
        for i, p in enumerate(listed):
            first.setdefault(p, i)
        texts: dict[int, str] = {}
        for row, p in zip(group["row"].tolist(), listed, strict=True):
            f = first[p]
            if f not in texts:
                texts[f] = ", ".join(listed[:f] + listed[f + 1 :])
            out[row] = (
                "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: "
                f"{texts[f]}; a Comissão verifica"
            )
    return out


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
        The LGPD key (:func:`geo_ip.requests.privacy.load_key`), the same as the history's hashes.
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
    n = len(out)
    years = rules.elegibilidade.anos_beneficio_identico.valor
    start = years_before(reference_date, years)
    data = {
        c: out[c].reset_index(drop=True)
        if c in out.columns
        else pd.Series([None] * n, dtype=object)
        for c in _INPUT_COLUMNS
    }
    hashes = cpf_hashes(pd.Series(list(data["cpf_solicitante"]), dtype=object), key).to_numpy(
        dtype=object
    )
    past = _history_table(history, key)
    if past is None:
        log.info("elegibilidade sem histórico de benefícios: Art. 5, II só pelo pedido")
    protocols = _map(data["protocolo"], cell_text)
    decided = dict(accepted or {})
    by_commission = np.array([p in decided for p in protocols], dtype=bool)
    use_reason, use_note, hardship, status = _use_and_hardship(data, rules, by_commission)
    above = status == "acima_do_limite"
    hardship_reason = np.where(above, hardship, "").astype(object)
    hardship_note = np.where(above, "", hardship).astype(object)
    audit = np.full(n, "", dtype=object)
    audit[by_commission] = [
        "Art. 4 §2, III: decisão da Comissão — " + decided[p] for p in protocols[by_commission]
    ]
    benefit_reason, other_benefits, identical = _previous_benefit(data, hashes, past, start, years)
    unchecked = np.full(n, "", dtype=object)
    if past is not None:
        unchecked[hashes == ""] = (
            "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no histórico"
        )
    same = _same_applicant(hashes, protocols)
    flagged = _map(data["estrategico"], yes_no) == True  # noqa: E712
    justified = _map(data["justificativa_estrategica"], cell_text) != ""
    art11 = np.full(n, "", dtype=object)
    art11[flagged & ~justified] = (
        "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
        "expressa; não é tratado como Art. 11"
    )
    art11[flagged & justified] = (
        "Art. 11: marcado como estratégico, com justificativa; a dispensa da pontuação "
        "depende de parecer técnico circunstanciado da Comissão (decisão com "
        "criterio = art11, Art. 11, parágrafo único)"
    )
    reasons = _joined([hardship_reason, use_reason, benefit_reason], n)
    notes = _joined(
        [use_note, hardship_note, audit, other_benefits, identical, unchecked, same, art11], n
    )
    articles = _joined(
        [
            np.where(above, "Art. 4, caput; Art. 2, IV", "").astype(object),
            np.where(use_reason != "", "Art. 5, I", "").astype(object),
            np.where(benefit_reason != "", "Art. 5, II", "").astype(object),
        ],
        n,
    )
    articles = np.array([a.replace(" | ", "; ") for a in articles], dtype=object)
    pending = np.where(status == "sem_comprovacao", missing_proof_text(rules), "").astype(object)

    def column(values: np.ndarray, dtype: type) -> pd.Series:
        return pd.Series(list(values), index=out.index, dtype=dtype)

    out["elegivel"] = column(reasons == "", bool)
    out["motivos_inelegibilidade"] = column(reasons, str)
    out["fundamento_inelegibilidade"] = column(articles, str)
    out["avisos_elegibilidade"] = column(notes, str)
    out["hipossuficiencia"] = column(status, str)
    out["condicao_hipossuficiencia"] = column(
        np.array([PUBLIC_HARDSHIP[s] for s in status], dtype=object), str
    )
    out["pendencia_hipossuficiencia"] = column(pending, str)
    out["pedido_estrategico"] = column(flagged & justified, bool)
    out["cpf_hash"] = column(hashes, str)
    if mask and "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = list(
            _map(
                out["cpf_solicitante"],
                lambda v: cell_text(v) if cell_text(v).startswith("***") else mask_cpf(v),
            )
        )
    counts = pd.Series(status).value_counts()
    log.info(
        "elegibilidade: %d pedido(s) elegível(is), %d inelegível(is); hipossuficiência: %s",
        int(out["elegivel"].sum()),
        int((~out["elegivel"]).sum()),
        ", ".join(f"{k}: {int(v)}" for k, v in counts.items()) or "nenhum pedido",
    )
    return out


def _history_table(history: pd.DataFrame | None, key: bytes) -> pd.DataFrame | None:
    """List the benefits with a CPF hash and a date, in the history's order.

    Columns ``cpf_hash``, ``day``, ``tipo`` (canonical or ``""``), ``protocol`` and
    ``seq`` (position in the history).
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
