"""Eligibility of each request (Lei 5.442/2026: Art. 2, IV; Art. 4 §2; Art. 5; Art. 11).

:func:`check` adds to the evidence table, for every row (errors included):

- ``elegivel`` (bool) and ``motivos_inelegibilidade`` (every reason, ``" | "``-joined,
  each citing its article) with ``fundamento_inelegibilidade`` (the articles only,
  ``"Art. 5, I; Art. 5, II"``: what public outputs may show);
- ``avisos_elegibilidade``: what the commission should look at, without excluding;
- ``estrategico_art11`` (bool): ``estrategico = sim`` with its justification;
- ``cpf_hash`` (:func:`geo_ip.privacy.cpf_hash`); ``cpf_solicitante`` comes back masked.

Decisions where the law is silent (documented here, applied in :func:`check`):

- **Hardship** (Art. 2, IV; Art. 4 §2) is proven by ``cadunico = sim`` (§2, I) or by a
  declared family income (§2, II) whose per-capita value is within
  ``elegibilidade.renda_per_capita_maxima``. Per capita = ``renda_familiar`` ÷ the
  applicant's family size, taken as ``moradores`` when the request serves one
  residence (or ``residencias`` is blank) and ``moradores ÷ residencias`` (the average
  household) when it serves several, since ``moradores`` then counts every residence
  served. Missing proof is a warning, not a reason: the commission may ask for
  documents (§2, III). The income figure never appears in the texts.
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
- **Art. 11**: Art. 5 still applies to strategic requests (they only skip the points).
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from geo_ip._parse import category, cell_text, date_problems, parse_dates, slug, to_number, yes_no
from geo_ip._tables import Schema, aliases_of, read_sheet
from geo_ip.config import Rules
from geo_ip.intake import TIPO_ALIASES, TIPOS, mask_cpf
from geo_ip.privacy import HASH_PATTERN, cpf_hash, cpf_hashes, cpf_problem, valid_cpf_digits

__all__ = ["HISTORY_COLUMNS", "RESULT_COLUMNS", "check", "read_history"]

log = logging.getLogger("geo_ip")

RESULT_COLUMNS = (
    "elegivel", "motivos_inelegibilidade", "fundamento_inelegibilidade", "avisos_elegibilidade",
    "estrategico_art11", "cpf_hash",
)  # fmt: skip
"""Columns added by :func:`check`."""
HISTORY_COLUMNS = ("linha", "protocolo", "data", "tipo", "cpf_hash")
"""Columns of the history table from :func:`read_history` (never the CPF)."""
_HISTORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "protocolo": ("no_protocolo", "n_protocolo", "numero_protocolo"),
    "data": ("data_beneficio", "data_do_beneficio", "data_execucao", "data_da_execucao",
             "data_conclusao", "data_concessao"),
    "cpf": ("cpf_solicitante", "cpf_do_solicitante", "cpf_beneficiario", "cpf_do_beneficiario"),
    "cpf_hash": ("hash_cpf", "hash_do_cpf"),
    "tipo": ("tipo_beneficio", "tipo_de_beneficio", "tipo_obra", "tipo_de_obra", "tipo_pedido"),
}  # fmt: skip
_HISTORY = Schema(
    what="histórico de benefícios",
    aliases=aliases_of(_HISTORY_SYNONYMS),
    required=("data", ("cpf", "cpf_hash")),
)
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


def _tipo(value: str) -> str | None:
    """Canonical request type of a history row, ``""`` when blank, ``None`` when unknown."""
    return category(value, TIPOS, TIPO_ALIASES)


def _column(df: pd.DataFrame, name: str) -> list[object]:
    return list(df[name]) if name in df.columns else [None] * len(df)


# --- history --------------------------------------------------------------------------------


def read_history(
    path: str | Path, key: bytes, *, today: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the history of benefits granted by the program (for Art. 5, II).

    Parameters
    ----------
    path : str or Path
        CSV or XLSX, one row per benefit granted: ``data`` (date of the benefit or of
        the works' execution; required), ``cpf`` (clear, any layout) or ``cpf_hash``
        (from an earlier run with the same key), optional ``protocolo`` and ``tipo``
        (extensao_rede, implantacao, melhoria; blank = presumed identical to any
        request). Headers such as ``data_execucao``, ``cpf_beneficiario``,
        ``tipo_obra`` are recognised. When both ``cpf`` and ``cpf_hash`` are filled,
        the CPF wins.
    key : bytes
        The LGPD key (:func:`geo_ip.privacy.load_key`).
    today : datetime.date, optional
        Reference for two-digit years; default: today.

    Returns
    -------
    history : pandas.DataFrame
        Valid rows, columns :data:`HISTORY_COLUMNS` (``data`` as ``datetime.date``,
        ``tipo`` canonical or ``""``); the CPF is not kept.
    rejected : pandas.DataFrame
        ``arquivo``, ``linha``, ``protocolo``, ``motivo`` (naming file, row and every
        faulty field; CPFs masked).

    Raises
    ------
    InputFileError
        Missing, empty or unreadable file; no ``data`` column, or neither ``cpf`` nor
        ``cpf_hash``.
    """
    path = Path(path)
    table = read_sheet(path, _HISTORY)
    n = len(table)
    if n == 0:
        log.warning("arquivo '%s': só o cabeçalho, histórico de benefícios vazio", path)
    blank = pd.Series([""] * n, dtype=str)
    text = {c: table[c].reset_index(drop=True) if c in table else blank for c in _HISTORY_SYNONYMS}
    reference = today or date.today()
    dates, status = parse_dates(text["data"], reference)
    day_problems = date_problems(text["data"], status, "data", blank="obrigatório, está vazio")
    future = [d is not None and not pd.isna(d) and d > reference for d in dates]
    day_problems = day_problems.mask(
        pd.Series(future, index=day_problems.index),
        [f"campo 'data': data futura ({d.isoformat()})" if f else "" for d, f in
         zip(dates, future, strict=True)],
    )  # fmt: skip
    rows: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    mismatched = 0
    for i in range(n):
        problems = [day_problems.iloc[i]] if day_problems.iloc[i] else []
        cpf, given_hash = text["cpf"].iloc[i], text["cpf_hash"].iloc[i].strip().lower()
        hashed = ""
        if cpf:
            if valid_cpf_digits(cpf):
                hashed = cpf_hash(cpf, key)
                mismatched += bool(given_hash) and given_hash != hashed
            else:
                problems.append(f"campo 'cpf': {cpf_problem(cpf)}")
        elif given_hash:
            if HASH_PATTERN.match(given_hash):
                hashed = given_hash
            else:
                problems.append(
                    f"campo 'cpf_hash': hash inválido ('{given_hash[:20]}'); esperado 'h:' e 16 "
                    "caracteres hexadecimais, gerado pelo geo_ip com a chave LGPD do Município"
                )
        else:
            problems.append("campos 'cpf' e 'cpf_hash': vazios; informe o CPF ou o seu hash")
        tipo = _tipo(text["tipo"].iloc[i])
        if tipo is None:
            problems.append(
                f"campo 'tipo': tipo desconhecido ('{text['tipo'].iloc[i][:60]}'); use "
                + ", ".join(TIPOS[:-1])
                + f" ou {TIPOS[-1]} (ou deixe em branco)"
            )
        line, protocol = int(table["linha"].iloc[i]), text["protocolo"].iloc[i]
        if problems:
            motive = f"arquivo '{path}', linha {line}: " + " | ".join(problems)
            rejected.append(
                {"arquivo": str(path), "linha": line, "protocolo": protocol, "motivo": motive}
            )
            log.warning("histórico de benefícios, linha recusada: %s", motive)
            continue
        values = (line, protocol, dates.iloc[i], tipo, hashed)
        rows.append(dict(zip(HISTORY_COLUMNS, values, strict=True)))
    if mismatched:
        log.warning(
            "arquivo '%s': %d linha(s) com cpf_hash diferente do hash do CPF (chave LGPD "
            "diferente da usada antes?); valeu o CPF",
            path,
            mismatched,
        )
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    history["linha"] = history["linha"].astype("int64")
    for column in ("protocolo", "tipo", "cpf_hash"):
        history[column] = history[column].astype(str)
    history["data"] = history["data"].astype(object)
    report = pd.DataFrame(rejected, columns=["arquivo", "linha", "protocolo", "motivo"])
    report["linha"] = report["linha"].astype("int64")
    log.info(
        "histórico de benefícios '%s': %d linha(s) válida(s), %d recusada(s)",
        path,
        len(history),
        len(report),
    )
    return history, report


# --- check ----------------------------------------------------------------------------------

_ASK = "a Comissão pode solicitar documentos (Art. 4 §2, III)"


def _use_and_hardship(row: dict[str, object], rules: Rules) -> tuple[list[str], list[str]]:
    """Reasons and warnings of Art. 5, I and Art. 4 §2 for one request."""
    el = rules.elegibilidade
    limit = el.renda_per_capita_maxima.valor
    limit_text = _money(limit)
    use, mei, cad = slug(cell_text(row["uso_imovel"])), yes_no(row["mei"]), yes_no(row["cadunico"])
    income, people = _number(row["renda_familiar"]), _number(row["moradores"])
    homes = _number(row["residencias"])
    family = people / homes if homes > 1 else people
    per_capita = income / family if family > 0 else math.nan
    income_ok = per_capita <= limit + 1e-9
    how = "inscrição no CadÚnico" if cad is True else "renda per capita declarada"
    reasons: list[str] = []
    notes: list[str] = []
    if use in {slug(u) for u in el.usos_inelegiveis}:
        label = _USE_LABELS.get(use, use)
        if mei is True and (cad is True or income_ok):
            notes.append(
                f"Art. 5, I: imóvel de uso {label} de MEI em hipossuficiência comprovada "
                f"({how}): elegível pela exceção; a Comissão confere"
            )
        elif mei is True:
            reasons.append(
                f"Art. 5, I: imóvel de uso {label}; o solicitante é MEI, mas sem "
                "hipossuficiência comprovada (nem inscrição no CadÚnico nem renda per capita "
                f"declarada até {limit_text})"
            )
            return reasons, notes  # the reason already says what Art. 4 §2 would
        else:
            who = "não é MEI" if mei is False else "não informou se é MEI"
            reasons.append(f"Art. 5, I: imóvel de uso {label} e o solicitante {who}")
    elif use == "misto":
        notes.append(
            "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
            "verifica o uso"
        )
    elif not use:
        notes.append("Art. 5, I: uso do imóvel não informado; considerado residencial")
    elif use != "residencial":
        shown = cell_text(row["uso_imovel"])[:40]
        notes.append(f"Art. 5, I: uso do imóvel não reconhecido ('{shown}'); a Comissão verifica")

    # Art. 4 §2 — proof of hardship: warnings only (§2, III lets the commission ask).
    if cad is True:
        if per_capita > limit + 1e-9:
            notes.append(
                "Art. 4 §2: inscrito no CadÚnico, mas a renda per capita declarada passa do "
                f"limite de {limit_text} (Art. 2, IV); a Comissão confere"
            )
    elif income_ok:
        pass
    elif not math.isnan(per_capita):
        notes.append(
            "Art. 4 §2: sem inscrição no CadÚnico e com renda per capita declarada acima do "
            f"limite de {limit_text} (Art. 2, IV): hipossuficiência não comprovada; {_ASK}"
        )
    elif not math.isnan(income):
        notes.append(
            "Art. 4 §2: renda familiar declarada sem o número de moradores, renda per capita "
            f"não calculada: hipossuficiência não comprovada; {_ASK}"
        )
    else:
        notes.append(
            "Art. 4 §2: hipossuficiência não comprovada (sem inscrição no CadÚnico nem "
            f"declaração de renda); {_ASK}"
        )
    return reasons, notes


def _previous_benefit(
    row: dict[str, object],
    events: list[tuple[date, str, str]] | None,
    start: date,
    years: float,
) -> tuple[list[str], list[str]]:
    """Reasons and warnings of Art. 5, II for one request (``events``: its CPF's history)."""
    reasons: list[str] = []
    notes: list[str] = []
    found: list[tuple[date, str]] = []
    own = _as_date(row["beneficio_anterior_data"])
    if own is not None:
        found.append((own, "declarado no pedido; tipo presumido idêntico"))
    kind = cell_text(row["tipo"])
    for day, tipo, protocol in events or []:
        where = f"histórico, protocolo {protocol}" if protocol else "histórico"
        if not tipo:
            found.append((day, f"{where}; tipo não informado, presumido idêntico"))
        elif tipo == kind:
            found.append((day, where))
        elif day >= start:
            notes.append(
                f"Art. 5, II: benefício de outro tipo ({tipo}) em {day.isoformat()} ({where}): "
                "não é idêntico"
            )
    recent = [e for e in found if e[0] >= start]
    if recent:
        day, source = max(recent, key=lambda e: e[0])
        n_years = f"{years:g}".replace(".", ",")
        when = f"em {day.isoformat()} ({source}), nos últimos {n_years} anos"
        if cell_text(row["beneficio_anterior_justificativa"]):
            notes.append(
                f"Art. 5, II: benefício idêntico {when}; fato superveniente justificado — a "
                "Comissão decide"
            )
        else:
            reasons.append(
                f"Art. 5, II: benefício idêntico concedido {when}, sem justificativa de fato "
                "superveniente (campo 'beneficio_anterior_justificativa')"
            )
    return reasons, notes


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
) -> pd.DataFrame:
    """Check Art. 5 eligibility, Art. 4 §2 hardship proof and the Art. 11 flag.

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
        ``rules.elegibilidade`` gives the ineligible uses, the years of Art. 5, II and
        the per-capita income limit.
    history : pandas.DataFrame, optional
        Previous benefits from :func:`read_history` (``cpf_hash`` or ``cpf``, ``data``,
        optional ``tipo``, ``protocolo``).
    reference_date : datetime.date
        Date the years of Art. 5, II are counted back from.
    key : bytes
        The LGPD key (:func:`geo_ip.privacy.load_key`), the same as the history's hashes.
    mask : bool, default True
        Return ``cpf_solicitante`` masked (the hash serves every later comparison).

    Returns
    -------
    pandas.DataFrame
        A copy of ``requests`` with :data:`RESULT_COLUMNS` added (rules in the module
        docstring). No text contains a CPF, a name or an income figure.
    """
    out = requests.copy()
    n = len(out)
    years = rules.elegibilidade.anos_beneficio_identico.valor
    start = years_before(reference_date, years)
    data = {c: _column(out, c) for c in _INPUT_COLUMNS}
    hashes = cpf_hashes(pd.Series(data["cpf_solicitante"], dtype=object), key).tolist()
    past = _history_events(history, key)
    if past is None:
        log.info("elegibilidade sem histórico de benefícios: Art. 5, II só pelo pedido")
    same_cpf: dict[str, list[str]] = {}
    for h, protocol in zip(hashes, data["protocolo"], strict=True):
        if h:
            same_cpf.setdefault(h, []).append(cell_text(protocol))

    reasons: list[list[str]] = []
    notes: list[list[str]] = []
    strategic: list[bool] = []
    for i in range(n):
        row = {c: values[i] for c, values in data.items()}
        why, note = _use_and_hardship(row, rules)
        events = past.get(hashes[i], []) if past is not None and hashes[i] else None
        why2, note2 = _previous_benefit(row, events, start, years)
        why, note = why + why2, note + note2
        if past is not None and not hashes[i]:
            note.append(
                "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no "
                "histórico"
            )
        others = list(same_cpf.get(hashes[i], []))
        if others:
            others.remove(cell_text(row["protocolo"]))
        if others:
            note.append(
                "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: "
                f"{', '.join(others)}; a Comissão verifica"
            )
        flagged = yes_no(row["estrategico"]) is True
        justified = bool(cell_text(row["justificativa_estrategica"]))
        if flagged and not justified:
            note.append(
                "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
                "expressa; não é tratado como Art. 11"
            )
        reasons.append(why)
        notes.append(note)
        strategic.append(flagged and justified)

    def column(values: list[object], dtype: type) -> pd.Series:
        return pd.Series(values, index=out.index, dtype=dtype)

    out["elegivel"] = column([not r for r in reasons], bool)
    out["motivos_inelegibilidade"] = column([" | ".join(r) for r in reasons], str)
    articles = ["; ".join(dict.fromkeys(x.split(":")[0] for x in r)) for r in reasons]
    out["fundamento_inelegibilidade"] = column(list(articles), str)
    out["avisos_elegibilidade"] = column([" | ".join(x) for x in notes], str)
    out["estrategico_art11"] = column(list(strategic), bool)
    out["cpf_hash"] = column(list(hashes), str)
    if mask and "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = [
            cell_text(v) if cell_text(v).startswith("***") else mask_cpf(v)
            for v in out["cpf_solicitante"]
        ]
    log.info(
        "elegibilidade: %d pedido(s) elegível(is), %d inelegível(is), %d estratégico(s) (Art. 11)",
        int(out["elegivel"].sum()),
        int((~out["elegivel"]).sum()),
        int(out["estrategico_art11"].sum()),
    )
    return out


def _history_events(
    history: pd.DataFrame | None, key: bytes
) -> dict[str, list[tuple[date, str, str]]] | None:
    """Benefits by CPF hash: (date, canonical type or "", protocol)."""
    if history is None:
        return None
    if "cpf_hash" in history.columns:
        hashes = [cell_text(h).lower() for h in history["cpf_hash"]]
    elif "cpf" in history.columns:
        hashes = cpf_hashes(history["cpf"], key).tolist()
    else:
        raise ValueError("history needs a 'cpf_hash' or 'cpf' column")
    events: dict[str, list[tuple[date, str, str]]] = {}
    rows = zip(
        hashes,
        _column(history, "data"),
        _column(history, "tipo"),
        _column(history, "protocolo"),
        strict=True,
    )
    for h, day_v, tipo_v, protocol_v in rows:
        day = _as_date(day_v)
        if not h or day is None:
            continue
        tipo = _tipo(cell_text(tipo_v)) or ""
        events.setdefault(h, []).append((day, tipo, cell_text(protocol_v)))
    return events
