"""The commission's decisions on the suggested scores (Art. 7, IV; Art. 9 §1; Art. 10, V).

The commission reviews the five suggestions of each request and may change any of
them with a written motivation. Its decisions come in a spreadsheet (CSV or XLSX),
one row per (protocol, criterion):

=========== =========== ==========================================================
column      required    content
=========== =========== ==========================================================
protocolo   yes         protocol of an assessed request (case-insensitive)
criterio    yes         ``beneficiarios``, ``seguranca``, ``trafego``,
                        ``custo_beneficio``, ``viabilidade``; also the law's
                        numerals I–V and labels such as "Beneficiários",
                        "segurança pública", "Custo-benefício" (accents and case
                        ignored)
pontos      yes         points, 0 to the criterion's weight (decimal comma accepted)
motivacao   yes         the written motivation (Art. 9 §1, Art. 10, V)
membro      no          who decided (commission member acting in office)
data        no          date of the decision (dd/mm/aaaa or aaaa-mm-dd)
procedimento no         number of the administrative procedure (required for art12)
latitude    no          confirmed position (decimal degrees, ``lat``; required for
                        localizacao)
longitude   no          confirmed position (decimal degrees, ``lon``/``lng``; required
                        for localizacao)
=========== =========== ==========================================================

Besides the five criteria, four **acts** are decided in the same file, without points
(:data:`ACTS`); for them ``pontos`` stays blank and ``membro`` and ``data`` are
required (the audit trail says who decided and when; the date orders the budget
reservations of Art. 11 and 12):

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

A request cannot be both ``art11`` and ``art12``: both rows are refused. Coordinates on
a row other than ``localizacao`` are refused too (only that act moves a request).

:func:`read_decisions` never stops at a bad row: every rejected row is reported with
the reason, naming file, row and field. Two rows for the same (protocol, criterion)
are both rejected: an audit trail must not depend on row order, so the commission
keeps one of them. :func:`apply` turns suggestions + decisions into the final points.

The file is read by :func:`geo_ip._tables.read_sheet`, the tolerant reader shared
with the requests, the history of benefits and the occurrences.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_ip._intake_checks import fmt
from geo_ip._parse import STOPWORDS, cell_text, date_problems, parse_dates, quoted, slug, to_number
from geo_ip._tables import Schema, aliases_of, read_sheet
from geo_ip.config import CRITERIA, Rules

__all__ = [
    "ACTS",
    "ACT_COLUMNS",
    "DECISION_COLUMNS",
    "REJECTED_COLUMNS",
    "accepted_hardship",
    "apply",
    "apply_acts",
    "criterion_from_label",
    "read_decisions",
]

log = logging.getLogger("geo_ip")

DECISION_COLUMNS = (
    "linha", "protocolo", "criterio", "pontos", "motivacao", "membro", "data", "procedimento",
    "latitude", "longitude",
)  # fmt: skip
"""Columns of the valid decisions table (``latitude``/``longitude``: float, NaN unless
``localizacao``)."""
REJECTED_COLUMNS = ("arquivo", "linha", "protocolo", "criterio", "pontos", "motivacao", "motivo")
"""Columns of the rejected rows report (the row as written, then why it was refused)."""
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "protocolo": ("no_protocolo", "n_protocolo", "numero_protocolo", "nr_protocolo",
                  "num_protocolo", "numero_do_protocolo"),
    "criterio": ("criterios", "criterio_art_9", "item", "quesito"),
    "pontos": ("pontuacao", "pontos_atribuidos", "nota", "pontuacao_atribuida",
               "pontuacao_final"),
    "motivacao": ("motivo", "justificativa", "fundamentacao", "fundamento"),
    "membro": ("membro_comissao", "membro_da_comissao", "responsavel", "avaliador",
               "servidor"),
    "data": ("data_decisao", "data_da_decisao", "data_reuniao"),
    "procedimento": ("procedimento_administrativo", "processo", "processo_administrativo",
                     "numero_procedimento", "numero_do_procedimento", "n_procedimento"),
    "latitude": ("lat", "latitude_confirmada", "latitude_local", "latitude_do_local"),
    "longitude": ("lon", "lng", "long", "longitude_confirmada", "longitude_local",
                  "longitude_do_local"),
}  # fmt: skip
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
_SCHEMA = Schema(
    what="arquivo de decisões da Comissão",
    aliases=aliases_of(_SYNONYMS),
    required=("protocolo", "criterio", "pontos", "motivacao"),
)
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
_ACT_TEXT = {
    "hipossuficiencia": "aceita a comprovação da hipossuficiência, Art. 4 §2, III",
    "art11": "análise direta sem a pontuação, Art. 11",
    "art12": "execução direta pelo Poder Executivo, Art. 12",
    "localizacao": "confirma o local do pedido, Art. 7, II",
}
_ACT_MOTIVE = {
    "hipossuficiencia": "Art. 4 §2, III: diga quais documentos comprovam a hipossuficiência",
    "art11": "Art. 11, parágrafo único: parecer técnico circunstanciado com os fundamentos "
    "da dispensa da pontuação",
    "art12": "Art. 12 §2: relatório técnico e justificativa de interesse público",
    "localizacao": "Art. 7, II e §1º: diga como o local foi confirmado (vistoria, fotos, croqui)",
}
_COORDINATES = ("latitude", "longitude")
_RANGES = {"latitude": 90.0, "longitude": 180.0}


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


# --- reading decisions ----------------------------------------------------------------------


def _pts(value: float) -> str:
    """Points as written in Portuguese (``12,5``)."""
    return f"{value:g}".replace(".", ",")


def read_decisions(
    path: str | Path,
    rules: Rules,
    protocols: set[str],
    *,
    today: date | None = None,
    boundary: shapely.Geometry | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and check the commission's decisions file.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX with the columns of the module docstring.
    rules : Rules
        Municipality rules: the maximum of each criterion is ``criterios.<c>.peso``.
    protocols : set of str
        Protocols of the assessed requests; matched case-insensitively and returned
        with this spelling.
    today : datetime.date, optional
        Decisions dated after this are rejected; default: today.
    boundary : shapely.Geometry, optional
        Municipality polygon in EPSG:4326 (x = longitude): a ``localizacao`` decision
        outside it is rejected. Without it only the ranges (±90°, ±180°) are checked.

    Returns
    -------
    decisions : pandas.DataFrame
        Valid decisions, columns :data:`DECISION_COLUMNS` (``pontos``, ``latitude`` and
        ``longitude`` float, ``data`` ``datetime.date`` or ``None``, ``criterio``
        canonical), in file order.
    rejected : pandas.DataFrame
        One row per rejected file row, columns :data:`REJECTED_COLUMNS`; ``motivo``
        names file, row and every faulty field (``"arquivo 'd.csv', linha 4: campo
        'pontos': valor negativo (-3)"``).

    Raises
    ------
    InputFileError
        Missing, empty or unreadable file, or a required column missing.
    """
    path = Path(path)
    today = today or date.today()
    table = read_sheet(path, _SCHEMA)
    n = len(table)
    if n == 0:
        log.warning("arquivo '%s': só o cabeçalho, nenhuma decisão da Comissão", path)
    empty = pd.Series([""] * n, dtype=str)
    text = {c: table[c] if c in table.columns else empty for c in _SYNONYMS}
    problems: list[list[str]] = [[] for _ in range(n)]
    canon = {p.strip().upper(): p for p in protocols}

    protocol_out: list[str | None] = []
    for i, value in enumerate(text["protocolo"]):
        if not value:
            problems[i].append("campo 'protocolo': obrigatório, está vazio")
        elif value.upper() not in canon:
            problems[i].append(f"campo 'protocolo': protocolo '{value}' não consta da avaliação")
        protocol_out.append(canon.get(value.upper()) if value else None)

    criterion_out: list[str | None] = []
    options = (
        ", ".join(CRITERIA[:-1])
        + f" ou {CRITERIA[-1]} (ou I a V, na ordem do Art. 9); ou um ato sem pontos: "
        + ", ".join(ACTS[:-1])
        + f" ou {ACTS[-1]}"
    )
    for i, value in enumerate(text["criterio"]):
        name, found = criterion_from_label(value)
        if not value:
            problems[i].append("campo 'criterio': obrigatório, está vazio")
        elif len(found) > 1:
            problems[i].append(
                f"campo 'criterio': critério ambíguo {quoted(value)}: {' ou '.join(found)}"
            )
        elif name is None:
            problems[i].append(
                f"campo 'criterio': critério desconhecido {quoted(value)}; use {options}"
            )
        criterion_out.append(name)

    points = to_number(text["pontos"].reset_index(drop=True), thousands=False)
    for i, (value, number) in enumerate(zip(text["pontos"], points, strict=True)):
        name = criterion_out[i]
        if name in ACTS:
            if value:
                problems[i].append(
                    f"campo 'pontos': a decisão '{name}' não tem pontos ({_ACT_TEXT[name]}); "
                    "deixe o campo vazio"
                )
            continue
        if not value:
            problems[i].append("campo 'pontos': obrigatório, está vazio")
        elif not np.isfinite(number):
            problems[i].append(f"campo 'pontos': não é um número {quoted(value)}")
        elif number < 0:
            problems[i].append(f"campo 'pontos': valor negativo ({_pts(number)})")
        elif name is not None:
            weight = getattr(rules.criterios, name).peso
            if number > weight.valor + 1e-9:
                problems[i].append(
                    f"campo 'pontos': {_pts(number)} pontos acima do máximo de "
                    f"{_pts(weight.valor)} do critério '{name}' ({weight.fonte})"
                )

    for i, value in enumerate(text["motivacao"]):
        if not value:
            name = criterion_out[i]
            why = (
                _ACT_MOTIVE[name]
                if name in ACTS
                else "Art. 9 §1 e Art. 10, V: toda pontuação é motivada"
            )
            problems[i].append(f"campo 'motivacao': obrigatória, está vazia ({why})")
    for i, name in enumerate(criterion_out):
        if name not in ACTS:
            continue
        if not text["membro"].iloc[i]:
            problems[i].append(
                f"campo 'membro': obrigatório na decisão '{name}' (quem decidiu, para o "
                "registro da decisão)"
            )
        if not text["data"].iloc[i]:
            why = (
                "quando o local foi confirmado, para o registro da decisão"
                if name == "localizacao"
                else "quando foi decidida; ordena as reservas de orçamento dos Arts. 11 e 12"
            )
            problems[i].append(f"campo 'data': obrigatória na decisão '{name}' ({why})")
        if name == "art12" and not text["procedimento"].iloc[i]:
            problems[i].append(
                "campo 'procedimento': obrigatório na decisão 'art12' (número do procedimento "
                "administrativo próprio, Art. 12 §2)"
            )

    coordinates = _coordinates(text, criterion_out, problems, boundary)

    dates, status = parse_dates(text["data"].reset_index(drop=True), today)
    date_text = date_problems(text["data"].reset_index(drop=True), status, "data")
    for i, (problem, day) in enumerate(zip(date_text, dates, strict=True)):
        if problem:
            problems[i].append(problem)
        elif day is not None and day > today:
            problems[i].append(f"campo 'data': data futura ({day.isoformat()})")

    pairs: dict[tuple[str, str], list[int]] = {}
    for i, (p, c) in enumerate(zip(protocol_out, criterion_out, strict=True)):
        if p is not None and c is not None:
            pairs.setdefault((p, c), []).append(i)
    lines = table["linha"].tolist()
    for (p, c), rows in pairs.items():
        if len(rows) > 1:
            listed = ", ".join(str(lines[r]) for r in rows)
            for r in rows:
                problems[r].append(
                    f"campos 'protocolo' e 'criterio': decisão repetida para o protocolo '{p}' "
                    f"e o critério '{c}' (linhas {listed}); nenhuma foi aplicada, deixe uma só"
                )

    by_protocol: dict[str, dict[str, int]] = {}
    for (p, c), rows in pairs.items():
        if c in ("art11", "art12"):
            by_protocol.setdefault(p, {})[c] = rows[0]
    for p, kinds in by_protocol.items():
        if len(kinds) == 2:
            listed = ", ".join(str(lines[r]) for r in sorted(kinds.values()))
            for r in kinds.values():
                problems[r].append(
                    f"campo 'criterio': o protocolo '{p}' tem decisão 'art11' e 'art12' (linhas "
                    f"{listed}); um pedido é estratégico (Art. 11) ou de execução direta "
                    "(Art. 12), não os dois: nenhuma foi aplicada"
                )

    ok = [not items for items in problems]
    decisions = pd.DataFrame(
        {
            "linha": pd.Series(lines, dtype="int64"),
            "protocolo": pd.Series(protocol_out, dtype=object),
            "criterio": pd.Series(criterion_out, dtype=object),
            "pontos": points.astype("float64"),
            "motivacao": text["motivacao"].reset_index(drop=True),
            "membro": text["membro"].reset_index(drop=True),
            "data": pd.Series(dates.to_numpy(dtype=object), dtype=object),
            "procedimento": text["procedimento"].reset_index(drop=True),
            "latitude": coordinates["latitude"],
            "longitude": coordinates["longitude"],
        }
    )
    decisions = decisions.loc[np.array(ok, dtype=bool)].reset_index(drop=True)
    for column in ("protocolo", "criterio"):
        decisions[column] = decisions[column].astype(str)
    bad = [i for i, good in enumerate(ok) if not good]
    rejected = pd.DataFrame(
        {
            "arquivo": pd.Series([str(path)] * len(bad), dtype=str),
            "linha": pd.Series([lines[i] for i in bad], dtype="int64"),
            "protocolo": pd.Series([text["protocolo"].iloc[i] for i in bad], dtype=str),
            "criterio": pd.Series([text["criterio"].iloc[i] for i in bad], dtype=str),
            "pontos": pd.Series([text["pontos"].iloc[i] for i in bad], dtype=str),
            "motivacao": pd.Series([text["motivacao"].iloc[i] for i in bad], dtype=str),
            "motivo": pd.Series(
                [f"arquivo '{path}', linha {lines[i]}: " + " | ".join(problems[i]) for i in bad],
                dtype=str,
            ),
        }
    )
    if n:
        log.info(
            "arquivo '%s': %d decisão(ões) da Comissão válida(s), %d recusada(s)",
            path,
            len(decisions),
            len(rejected),
        )
    for message in rejected["motivo"]:
        log.warning("decisão recusada: %s", message)
    return decisions, rejected


def _coordinates(
    text: Mapping[str, pd.Series],
    criteria: list[str | None],
    problems: list[list[str]],
    boundary: shapely.Geometry | None,
) -> dict[str, pd.Series]:
    """Read and check the coordinates of the ``localizacao`` rows (problems appended).

    Returns the latitude and longitude of every row (float, NaN where not a number).
    """
    values = {
        c: to_number(text[c].reset_index(drop=True), thousands=False).astype("float64")
        for c in _COORDINATES
    }
    usable = np.ones(len(criteria), dtype=bool)
    for column in _COORDINATES:
        cells, numbers = text[column], values[column]
        limit = _RANGES[column]
        for i, (value, number) in enumerate(zip(cells, numbers, strict=True)):
            if criteria[i] != "localizacao":
                if value and criteria[i] is not None:
                    problems[i].append(
                        f"campo '{column}': só a decisão 'localizacao' tem coordenadas (a "
                        f"decisão '{criteria[i]}' não muda o local do pedido); deixe o campo "
                        "vazio"
                    )
                continue
            if not value:
                problems[i].append(
                    f"campo '{column}': obrigatório na decisão 'localizacao' (o local "
                    "confirmado pela Comissão, em graus decimais, como -22,85412)"
                )
                usable[i] = False
            elif not np.isfinite(number):
                problems[i].append(f"campo '{column}': não é um número {quoted(value)}")
                usable[i] = False
            elif abs(number) > limit:
                problems[i].append(
                    f"campo '{column}': {fmt(number)} fora do intervalo de -{limit:g} a "
                    f"{limit:g} graus"
                )
                usable[i] = False
    if boundary is not None:
        rows = np.flatnonzero(usable & np.array([c == "localizacao" for c in criteria], dtype=bool))
        lat, lon = values["latitude"].to_numpy(), values["longitude"].to_numpy()
        inside = shapely.intersects_xy(boundary, lon[rows], lat[rows])
        for i in rows[~inside]:
            problems[i].append(
                f"campos 'latitude'/'longitude': ponto ({fmt(lat[i])}, {fmt(lon[i])}) fora do "
                "município"
            )
    return values


# --- applying decisions ---------------------------------------------------------------------


def _decision_text(suggested: float, points: float, member: str, day: object, why: str) -> str:
    if pd.isna(suggested):
        head = f"atribuído {_pts(points)} (sem pontuação sugerida)"
    elif abs(points - suggested) > 1e-9:
        head = f"alterado de {_pts(suggested)} para {_pts(points)}"
    else:
        head = f"mantido em {_pts(points)}"
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
        Valid decisions from :func:`read_decisions` (``protocolo``, ``criterio``,
        ``pontos``, ``motivacao``; optional ``membro``, ``data``). May be empty.
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
        the criterion's weight (programming errors: :func:`read_decisions` rejects these).
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
        Valid decisions from :func:`read_decisions`.

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
        Valid decisions from :func:`read_decisions` (acts and points together).

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
