"""The Commission's decisions file: reading and checking it (requests stage).

The Commission's decisions come in a spreadsheet (CSV or XLSX), one row per (protocol,
criterion):

=========== =========== ==========================================================
column      required    content
=========== =========== ==========================================================
protocolo   yes         protocol of an assessed request (case-insensitive)
criterio    yes         ``beneficiarios``, ``seguranca``, ``trafego``,
                        ``custo_beneficio``, ``viabilidade``; also the law's
                        numerals I–V and labels such as "Beneficiários",
                        "segurança pública", "Custo-benefício" (accents and case
                        ignored); or one of the acts of :data:`geo_ip.schema.ACTS`
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

For the four acts without points (:data:`geo_ip.schema.ACTS`) ``pontos`` stays blank
and ``membro`` and ``data`` are required (the audit trail says who decided and when; the
date orders the budget reservations of Art. 11 and 12); ``art12`` also needs
``procedimento`` and ``localizacao`` needs ``latitude`` and ``longitude`` (EPSG:4326,
inside the municipality). A request cannot be both ``art11`` and ``art12``: both rows are
refused. Coordinates on a row other than ``localizacao`` are refused too (only that act
moves a request).

:func:`read_decisions` never stops at a bad row: every rejected row is reported with
the reason, naming file, row and field. Two rows for the same (protocol, criterion)
are both rejected: an audit trail must not depend on row order, so the commission
keeps one of them. The valid decisions go to :mod:`geo_ip.law.decisions`, which applies
them and never reads a file.

The file is read by :func:`geo_ip.sources.tables.read_sheet`, the tolerant reader shared
with the requests, the history of benefits and the occurrences.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_ip._util.parse import (
    STOPWORDS,
    date_problems,
    format_points,
    parse_dates,
    quoted,
    slug,
    to_number,
)
from geo_ip.requests.intake_checks import fmt
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import ACTS
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import Schema, aliases_of

__all__ = ["REJECTED_COLUMNS", "criterion_from_label", "read_decisions"]

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ("arquivo", "linha", "protocolo", "criterio", "pontos", "motivacao", "motivo")
"""Columns of the rejected rows report (the row as written, then why it was refused)."""
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
    """Map a criterion label onto a name of :data:`geo_ip.rules.law_locks.CRITERIA` or :data:`ACTS`.

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
_SCHEMA = Schema(
    what="arquivo de decisões da Comissão",
    aliases=aliases_of(_SYNONYMS),
    required=("protocolo", "criterio", "pontos", "motivacao"),
)
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
        Valid decisions, columns :data:`geo_ip.schema.DECISION_COLUMNS` (``pontos``,
        ``latitude`` and ``longitude`` float, ``data`` ``datetime.date`` or ``None``,
        ``criterio`` canonical), in file order: the table :mod:`geo_ip.law.decisions` takes.
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
    table = read_sheet(path, _SCHEMA)
    n = len(table)
    if n == 0:
        log.warning("arquivo '%s': só o cabeçalho, nenhuma decisão da Comissão", path)
    typed, problems = _checked(table, rules, protocols, today or date.today(), boundary)
    ok = [not items for items in problems]
    decisions = typed.loc[np.array(ok, dtype=bool)].reset_index(drop=True)
    for column in ("protocolo", "criterio"):
        decisions[column] = decisions[column].astype(str)
    rejected = _rejected(path, table, problems)
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


def _text_columns(table: pd.DataFrame) -> dict[str, pd.Series]:
    """Every column of the file as text (empty when absent)."""
    empty = pd.Series([""] * len(table), dtype=str)
    return {c: table[c] if c in table.columns else empty for c in _SYNONYMS}


def _checked(
    table: pd.DataFrame,
    rules: Rules,
    protocols: set[str],
    today: date,
    boundary: shapely.Geometry | None,
) -> tuple[pd.DataFrame, list[list[str]]]:
    """Check every row of the file: every row typed, and the problems of each."""
    text = _text_columns(table)
    problems: list[list[str]] = [[] for _ in range(len(table))]
    protocol_out = _protocols(text["protocolo"], protocols, problems)
    criterion_out = _criteria(text["criterio"], problems)
    points = _points(text["pontos"], criterion_out, rules, problems)
    _motives_and_acts(text, criterion_out, problems)
    coordinates = _coordinates(text, criterion_out, problems, boundary)
    dates = _dates(text["data"], today, problems)
    lines = table["linha"].tolist()
    _repeated(protocol_out, criterion_out, lines, problems)
    typed = pd.DataFrame(
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
    return typed, problems


def _rejected(path: Path, table: pd.DataFrame, problems: list[list[str]]) -> pd.DataFrame:
    """Report the rejected rows as written, each with every reason (:data:`REJECTED_COLUMNS`)."""
    text = _text_columns(table)
    lines = table["linha"].tolist()
    bad = [i for i, items in enumerate(problems) if items]
    return pd.DataFrame(
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


def _protocols(
    values: pd.Series, protocols: set[str], problems: list[list[str]]
) -> list[str | None]:
    """Each row's protocol as the assessment spells it (None when blank)."""
    canon = {p.strip().upper(): p for p in protocols}
    protocol_out: list[str | None] = []
    for i, value in enumerate(values):
        if not value:
            problems[i].append("campo 'protocolo': obrigatório, está vazio")
        elif value.upper() not in canon:
            problems[i].append(f"campo 'protocolo': protocolo '{value}' não consta da avaliação")
        protocol_out.append(canon.get(value.upper()) if value else None)
    return protocol_out


def _criteria(values: pd.Series, problems: list[list[str]]) -> list[str | None]:
    """Each row's criterion or act (None when blank, unknown or ambiguous)."""
    criterion_out: list[str | None] = []
    options = (
        ", ".join(CRITERIA[:-1])
        + f" ou {CRITERIA[-1]} (ou I a V, na ordem do Art. 9); ou um ato sem pontos: "
        + ", ".join(ACTS[:-1])
        + f" ou {ACTS[-1]}"
    )
    for i, value in enumerate(values):
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
    return criterion_out


def _points(
    values: pd.Series, criteria: list[str | None], rules: Rules, problems: list[list[str]]
) -> pd.Series:
    """Each row's points: required for a criterion, up to its weight; none for an act."""
    points = to_number(values.reset_index(drop=True), thousands=False)
    for i, (value, number) in enumerate(zip(values, points, strict=True)):
        name = criteria[i]
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
            problems[i].append(f"campo 'pontos': valor negativo ({format_points(number)})")
        elif name is not None:
            weight = getattr(rules.criterios, name).peso
            if number > weight.valor + 1e-9:
                problems[i].append(
                    f"campo 'pontos': {format_points(number)} pontos acima do máximo de "
                    f"{format_points(weight.valor)} do critério '{name}' ({weight.fonte})"
                )
    return points


def _motives_and_acts(
    text: Mapping[str, pd.Series], criteria: list[str | None], problems: list[list[str]]
) -> None:
    """Check the motivation of every row, and the member, date and procedure of the acts."""
    for i, value in enumerate(text["motivacao"]):
        if not value:
            name = criteria[i]
            why = (
                _ACT_MOTIVE[name]
                if name in ACTS
                else "Art. 9 §1 e Art. 10, V: toda pontuação é motivada"
            )
            problems[i].append(f"campo 'motivacao': obrigatória, está vazia ({why})")
    for i, name in enumerate(criteria):
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


def _dates(values: pd.Series, today: date, problems: list[list[str]]) -> pd.Series:
    """Each row's date (``datetime.date`` or None); not in the future."""
    dates, status = parse_dates(values.reset_index(drop=True), today)
    date_text = date_problems(values.reset_index(drop=True), status, "data")
    for i, (problem, day) in enumerate(zip(date_text, dates, strict=True)):
        if problem:
            problems[i].append(problem)
        elif day is not None and day > today:
            problems[i].append(f"campo 'data': data futura ({day.isoformat()})")
    return dates


def _repeated(
    protocol_out: list[str | None],
    criterion_out: list[str | None],
    lines: list[int],
    problems: list[list[str]],
) -> None:
    """Refuse every row of a repeated (protocol, criterion), and both art11 and art12."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for i, (p, c) in enumerate(zip(protocol_out, criterion_out, strict=True)):
        if p is not None and c is not None:
            pairs.setdefault((p, c), []).append(i)
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
