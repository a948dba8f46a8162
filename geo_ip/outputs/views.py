"""The tables every writer of an assessment shares: public and internal views, file stems.

The CSV and workbook writers (:mod:`geo_ip.outputs.tables`), the web maps
(:mod:`geo_ip.outputs.web.webmap`), the QGIS package and the technical sheets
(:mod:`geo_ip.outputs.sheets.sheets`) all take the requests from here, in the same order
and with the same redaction, and name each request's files with the same
:func:`request_file_stems`. This module imports
no writer, so every writer can import it.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._util.parse import number_column
from geo_ip.law.criteria import implausible_declaration
from geo_ip.law.ranking import PENDING
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.config import Rules
from geo_ip.schema import RANKING_INTERNAL, RANKING_PUBLIC

__all__ = [
    "ALERTS",
    "GROUP_ORDER",
    "HARDSHIP_LABELS",
    "INTERNAL_COLUMNS",
    "LIST_BAIRRO",
    "PUBLIC_COLUMNS",
    "RESERVED_GROUPS",
    "STEM_LENGTH",
    "applicant_names",
    "export_table",
    "internal_ranking",
    "ordered_rows",
    "plain_cell",
    "plain_column",
    "proposed_poles",
    "public_ranking",
    "public_table",
    "request_alerts",
    "request_file_stems",
]


PUBLIC_COLUMNS = tuple(RANKING_PUBLIC)
"""Columns of ``ranking.csv``, in order (:data:`geo_ip.schema.RANKING_PUBLIC`), then
``proveniencia``; the first ones are those of issue 4.

Hardship appears only as its public condition (``condicao_hipossuficiencia``:
comprovada, pendente, não comprovada, não exigida), never how it was proven. The
location's uncertainty and the ranges over the candidate stretch are public (they
describe the place of the works, not the applicant); the stretch itself is a layer of
the GeoPackage, never text.
"""


GROUP_ORDER = {
    "classificado": 0,
    "aguardando_orcamento": 0,
    "execucao_direta_art12": 1,
    "estrategico_art11": 2,
    "pendente_localizacao": 3,
    "pendente_comprovacao": 4,
    "inelegivel": 5,
    "erro": 6,
}
"""Groups of the lists, in order: the ranked requests (by position), the Art. 12
executions and the Art. 11 strategic works (each by the order of its act), the
requests pending confirmation of their place, then those pending proof of hardship
(both by points), the ineligible ones and the errors."""


RESERVED_GROUPS = ("execucao_direta_art12", "estrategico_art11")


HARDSHIP_LABELS = {
    "cadunico": "Inscrição no CadÚnico (Art. 4 §2, I)",
    "declaracao": "Declaração de renda dentro do limite (Art. 4 §2, II)",
    "aceita_comissao": "Aceita pela Comissão (Art. 4 §2, III)",
    "acima_do_limite": "Renda acima do limite (Art. 2, IV)",
    "sem_comprovacao": "Sem comprovação",
    "nao_exigida": "Não exigida",
}
"""Portuguese label of each ``hipossuficiencia`` status (internal workbook only)."""


INTERNAL_COLUMNS = tuple(RANKING_INTERNAL)
"""Columns of the internal list (``ranking.xlsx``), in order
(:data:`geo_ip.schema.RANKING_INTERNAL`: the public ones, then the internal ones), then
``proveniencia``."""


def _motivos(view: pd.DataFrame, public: bool) -> pd.Series:
    """Reason of each row's situation, then its problems (from an already redacted view).

    Publicly an ineligible request shows only the articles it fails
    (``fundamento_inelegibilidade``): the detailed reasons describe the applicant's
    situation (MEI, CadÚnico, income) and stay in the internal files.
    """
    empty = pd.Series("", index=view.index)
    reason = view.get("motivo_situacao", empty).fillna("").astype(str)
    if public:
        basis = view.get("fundamento_inelegibilidade", empty).fillna("").astype(str)
        ineligible = view["situacao"].astype(str) == "inelegivel"
        reason = reason.where(
            ~ineligible,
            "Inelegível ao custeio municipal (" + basis.where(basis != "", "Art. 5") + ").",
        )
    problems = view.get("problemas", empty).fillna("").astype(str)
    return pd.Series(
        [" | ".join(x for x in pair if x.strip()) for pair in zip(reason, problems, strict=True)],
        index=view.index,
    )


ALERTS = {
    "declaracao": "Declaração implausível",
    "localizacao": "Localização aproximada",
    "comprovacao": "Comprovação pendente",
    "malha": "Sem ligação com as vias",
}
"""Portuguese label of each flag of :func:`request_alerts`, in the order written."""


def _flags(table: pd.DataFrame, column: str) -> npt.NDArray[np.bool_]:
    """Read a yes/no column as booleans (``True`` or ``"sim"``); absent or blank is False."""
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    values = table[column].astype(object).to_numpy()
    return np.array([v is True or v is np.True_ or (isinstance(v, str) and v == "sim")
                     for v in values], dtype=bool)  # fmt: skip


def _texts(table: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    if column not in table.columns:
        return np.full(len(table), "", dtype=object)
    return table[column].fillna("").astype(str).to_numpy(dtype=object)


def request_alerts(table: pd.DataFrame, rules: Rules) -> pd.Series:
    """Write the short flags of each request (``alertas``), Portuguese labels ``"; "``-joined.

    The flags that matter to whoever reads the lists, taken out of the long ``motivos``
    (:data:`ALERTS`, in that order):

    - *Declaração implausível*: more residences declared than the rules allow per
      building mapped near the stretch, or more residents per residence
      (:func:`geo_ip.law.criteria.implausible_declaration`, the check the motivation of
      criterion I calls "confira a declaração");
    - *Localização aproximada*: the place is too uncertain (``localizacao_pendente``,
      unless the request is in error, or the situation ``pendente_localizacao``);
    - *Comprovação pendente*: the proof of hardship is missing (the public condition
      ``pendente``, unless the request is in error or ineligible, or the situation
      ``pendente_comprovacao``);
    - *Sem ligação com as vias*: located, but farther than the rules allow from every
      road (``fora_da_malha``) or not snapped to any road edge.

    Only public facts: the column goes into every public list.

    Parameters
    ----------
    table : pandas.DataFrame
        The assessment table (or a folder's, or the registry's): absent columns never flag.
    rules : Rules
        The municipality's rules (the limits of the declaration).

    Returns
    -------
    pandas.Series
        One text per row, ``""`` when nothing is flagged; same index as ``table``.
    """
    situation = _texts(table, "situacao")
    flags = {
        "declaracao": implausible_declaration(
            number_column(table, "residencias_declaradas"),
            number_column(table, "edificacoes_trecho"),
            rules,
            number_column(table, "moradores_declarados"),
        ),
        "localizacao": (_flags(table, "localizacao_pendente") & (situation != "erro"))
        | (situation == "pendente_localizacao"),
        # an error or an ineligible request is not held up by the proof: not flagged
        "comprovacao": (
            (_texts(table, "condicao_hipossuficiencia") == "pendente")
            & ~np.isin(situation, ("erro", "inelegivel"))
        )
        | (situation == "pendente_comprovacao"),
    }
    located = np.isfinite(number_column(table, "latitude")) & np.isfinite(
        number_column(table, "longitude")
    )
    unlinked = _flags(table, "fora_da_malha")
    if "aresta_u" in table.columns:
        unlinked |= table["aresta_u"].isna().to_numpy(dtype=bool)
    flags["malha"] = located & unlinked & (situation != "erro")
    # each row's combination of flags as a number, then one lookup of the joined texts
    keys = list(flags)
    code = np.zeros(len(table), dtype=np.intp)
    for bit, key in enumerate(keys):
        code |= np.asarray(flags[key], dtype=bool).astype(np.intp) << bit
    texts = np.array(
        [
            "; ".join(ALERTS[k] for b, k in enumerate(keys) if combo >> b & 1)
            for combo in range(1 << len(keys))
        ],
        dtype=object,
    )
    return pd.Series(texts[code], index=table.index, dtype=object)


_BAD_NAME = re.compile(r"[^A-Za-z0-9._-]+")


STEM_LENGTH = 80
"""Longest cleaned protocol kept in a file name (the hash suffix comes on top)."""


_RESERVED_STEMS = frozenset(
    {"todas", "con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
)
"""Stems taken by other files (``fichas/todas.pdf``) or refused by Windows."""


def request_file_stems(table: pd.DataFrame) -> list[str]:
    """File name (without extension) of each request's map and sheet, aligned with ``table``.

    One rule for the maps (``mapas/``) and the sheets (``fichas/``), so a request's map
    and sheet always share the name, whatever the ranking:

    1. the protocol, with every run of characters other than ASCII letters, digits,
       ``.``, ``_`` and ``-`` turned into ``_`` and leading or trailing ``.``, ``_`` and
       ``-`` removed (a name never starts with ``-`` or ``.``): ``PED-2026-0101`` stays
       ``PED-2026-0101``, ``a/b c`` gives ``a_b_c``;
    2. that form (``linha_<n>`` for a blank protocol, ``<n>`` its line) is the stem when
       it is at most :data:`STEM_LENGTH` characters long, not a reserved name (``todas``,
       taken by ``fichas/todas.pdf``, and the Windows device names ``CON``, ``NUL``,
       ``COM1``..., also before a dot) and not already used by an earlier row (rows in
       input order, letters compared case-insensitively);
    3. otherwise the stem is that form cut to :data:`STEM_LENGTH` characters, then ``-``
       and 8 hexadecimal digits of the SHA-256 of the line number and the protocol as
       typed (dots turned into ``_`` in a reserved name), lengthened (and, should every
       length be taken, numbered) until no earlier row has it: a duplicated ``A`` on line
       12 gives ``A-<8 hex digits>``.

    Every stem is therefore distinct (case-insensitively) by construction, made of
    ``[A-Za-z0-9._-]`` only, starts with a letter or a digit and, in practice, has at
    most 89 characters (80 + ``-`` + 8).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`Assessment.table` (``protocolo`` and ``linha``).

    Returns
    -------
    list of str
        One stem per row.
    """
    used: set[str] = set()
    stems = []
    for protocol, line in zip(table["protocolo"], table["linha"], strict=True):
        text = "" if protocol is None or pd.isna(protocol) else str(protocol).strip()
        stem = _BAD_NAME.sub("_", text).strip("._-") or f"linha_{line}"
        key = stem.lower()
        if len(stem) > STEM_LENGTH or key in used or key.split(".")[0] in _RESERVED_STEMS:
            base = stem[:STEM_LENGTH].rstrip("._-")
            if key.split(".")[0] in _RESERVED_STEMS:  # CON.x would still be CON
                base = base.replace(".", "_")
            digest = hashlib.sha256(f"{line}\x1f{text}".encode()).hexdigest()
            for size in range(8, len(digest) + 1):
                stem = f"{base}-{digest[:size]}"
                if stem.lower() not in used:
                    break
            else:  # every prefix taken by earlier rows: number it
                number = 2
                while f"{stem}-{number}".lower() in used:
                    number += 1
                stem = f"{stem}-{number}"
        used.add(stem.lower())
        stems.append(stem)
    return stems


def ordered_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of the lists (:data:`GROUP_ORDER`), then by input line."""
    return table.iloc[list_order(table)]


def list_order(table: pd.DataFrame) -> np.ndarray:
    """Return the positions of the rows in the order of the lists (see :func:`ordered_rows`).

    Parameters
    ----------
    table : pandas.DataFrame
        The assessment table with ``situacao``, ``linha`` and the ranking columns.

    Returns
    -------
    numpy.ndarray
        Row positions (for ``table.iloc``).
    """
    situation = table["situacao"].astype(str)
    group = situation.map(GROUP_ORDER).fillna(9).to_numpy()
    # within a group: the position (ranked), the act's order (Art. 11 and 12, the order
    # the budget reserves them in) or the points, highest first (pending requests)
    key = number_column(table, "posicao")
    reserved = situation.isin(RESERVED_GROUPS).to_numpy()
    key[reserved] = number_column(table, "ordem_ato")[reserved]
    pending = situation.isin(PENDING).to_numpy()
    key[pending] = -number_column(table, "pontuacao_total")[pending]
    key = np.where(np.isnan(key), np.inf, key)
    return np.lexsort((table["linha"].to_numpy(), key, group))


def _base(
    table: pd.DataFrame, coordinates: pd.DataFrame | None = None, bairro: str = "bairro_encontrado"
) -> pd.DataFrame:
    """Add the columns of the lists to a table (input order): residences, street, bairro.

    ``coordinates``: the table whose ``latitude``/``longitude`` are rounded (``table``
    itself by default); ``bairro``: the column shown as the bairro.
    """
    out = table.copy()
    out["residencias"] = out.get("residencias_consideradas")
    via = out.get("logradouro_via", pd.Series(None, index=out.index))
    found = out.get("logradouro_encontrado", pd.Series(None, index=out.index))
    out["logradouro"] = via.where(via.notna() & (via.astype(str) != ""), found)
    out["bairro"] = out.get(bairro)
    source = table if coordinates is None else coordinates
    for column in ("latitude", "longitude"):
        out[column] = pd.to_numeric(source[column], errors="coerce").round(6)
    return out


_TOOL_TEXT = ("motivo_situacao", "confirmar_no_local")
"""Texts of the tool that quote the request (redacted by the views as free text)."""

LIST_BAIRRO = "bairro_lista"
"""Column of :func:`public_table`: the bairro found (``bairro_encontrado``) redacted as
an address typed, the ``bairro`` of the public list (:func:`public_ranking`)."""


def public_table(assessment: Assessment) -> pd.DataFrame:
    """Redact the assessment's table once for every public output of a run.

    :func:`geo_ip.requests.privacy.public_view` of :attr:`Assessment.table` (input
    order), the tool's texts that quote the request (``motivo_situacao``,
    ``confirmar_no_local``) redacted as free text, plus :data:`LIST_BAIRRO`. The names
    of every applicant and each row's own name parts are those of the whole table, as
    when each output redacted it on its own: :func:`public_ranking`,
    :func:`geo_ip.outputs.tables.write_evidence`,
    :func:`geo_ip.outputs.features.extension_frame` and the web maps take it instead of
    redacting the table again.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.

    Returns
    -------
    pandas.DataFrame
        The public view, same rows and index as the table.
    """
    table = assessment.table
    if "bairro_encontrado" in table.columns:
        table = table.assign(**{LIST_BAIRRO: table["bairro_encontrado"]})
    return privacy.public_view(table, free_text=_TOOL_TEXT, addresses=(LIST_BAIRRO,))


def public_ranking(assessment: Assessment, public: pd.DataFrame | None = None) -> pd.DataFrame:
    """Build the transparency list: one row per request, ranked first, no personal data.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table, redacted for the public).
    public : pandas.DataFrame, optional
        :func:`public_table` of ``assessment``, when computed already (the writers of
        one run share it: :func:`geo_ip.outputs.files.write_outputs`).

    Returns
    -------
    pandas.DataFrame
        :data:`PUBLIC_COLUMNS`; rows in ranking order, then the requests listed
        apart (Art. 12 executions, Art. 11 strategic works, requests pending proof of
        hardship), the ineligible ones and the errors.
    """
    table = assessment.table
    shared = public_table(assessment) if public is None else public
    order = list_order(table)
    # the flags from the table itself (only public facts: nothing to redact in them)
    alerts = request_alerts(table, assessment.rules)
    # the columns of _base, from the redacted table (the coordinates from the table)
    base = _base(shared, table, bairro=LIST_BAIRRO).drop(columns=[LIST_BAIRRO], errors="ignore")
    base = base.iloc[order]
    base["alertas"] = alerts.iloc[order]
    base["motivos"] = _motivos(base, public=True)
    out = export_table(base[[c for c in PUBLIC_COLUMNS if c in base.columns]])
    return out.assign(proveniencia=assessment.provenance["carimbo"])


def internal_ranking(assessment: Assessment) -> pd.DataFrame:
    """Build the internal list (``ranking.xlsx``): the public columns and the internal ones.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table, CPF masked).

    Returns
    -------
    pandas.DataFrame
        :data:`INTERNAL_COLUMNS` (the public columns, then the internal ones), rows in the
        order of the lists;
        CPF masked, names redacted from free text (:func:`geo_ip.requests.privacy.internal_view`).
    """
    base = ordered_rows(_base(assessment.table))
    base["alertas"] = request_alerts(base, assessment.rules)
    base = privacy.internal_view(base, free_text=_TOOL_TEXT)
    base["motivos"] = _motivos(base, public=False)
    if "hipossuficiencia" in base.columns:
        status = base["hipossuficiencia"].fillna("").astype(str)
        base["hipossuficiencia_comprovacao"] = status.map(HARDSHIP_LABELS).fillna(status)
    columns = [c for c in INTERNAL_COLUMNS if c in base.columns]
    return export_table(base[columns]).assign(proveniencia=assessment.provenance["carimbo"])


def plain_cell(value: Any) -> Any:
    """Return a cell as a plain Python value for JSON: None for NaN, NA and infinities.

    Parameters
    ----------
    value : object
        A table cell (NumPy scalars, NA and dates included).

    Returns
    -------
    object
        None, an ISO date, or the value (numpy scalars as Python ones).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain_object(value: Any) -> Any:
    """:func:`plain_cell` of an object column's cell, NumPy dates boxed as pandas ones."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    return plain_cell(value)


def plain_column(values: pd.Series) -> list[Any]:
    """Return a column's cells as :func:`plain_cell` gives them, column-wise where possible.

    Parameters
    ----------
    values : pandas.Series
        A column of a table.

    Returns
    -------
    list
        The values of :meth:`pandas.DataFrame.to_dict`, then :func:`plain_cell`: floats
        with None for NaN and infinities, integers and booleans as Python ones, the
        missing cells of nullable and text columns as None (no Python call per cell for
        those); the cells of other columns one by one.
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        numbers = values.to_numpy()
        plain: list[Any] = numbers.tolist()
        for k in np.flatnonzero(~np.isfinite(numbers)).tolist():
            plain[k] = None
        return plain
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return list(values.to_numpy().tolist())
    if isinstance(dtype, pd.StringDtype) or isinstance(
        values.array, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)
    ):
        return list(values.to_numpy(dtype=object, na_value=None).tolist())  # type: ignore[call-overload]
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return [v if type(v) is str else _plain_object(v) for v in values]
    return [plain_cell(v) for v in values]


_ROUNDING = (("_rs", 2), ("_m", 1), ("_pct", 1), ("percentil", 1))


def export_table(table: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, booleans as sim/não, metres and reais rounded, for every file."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        digits = next((d for suffix, d in _ROUNDING if column.endswith(suffix)), None)
        if digits is not None and pd.api.types.is_float_dtype(values):
            out[column] = values.round(digits)
            continue
        if str(values.dtype) in ("bool", "boolean"):
            out[column] = values.map(
                lambda v: "" if plain_cell(v) is None else ("sim" if v else "não")
            )
        elif values.dtype == object:
            out[column] = values.map(lambda v: v.isoformat() if isinstance(v, date) else v).astype(
                object
            )
    return out


def proposed_poles(paths: gpd.GeoSeries, poles: pd.Series, span: float) -> pd.DataFrame:
    """Positions of the new poles along each extension (one every ``span`` metres).

    The k-th pole stands at ``min(k × span, length)`` from the grid end of the
    path, so the last one is at the request.

    Parameters
    ----------
    paths : geopandas.GeoSeries
        Extension paths (None where none).
    poles : pandas.Series
        Number of new poles per request (``postes_novos``), same index.
    span : float
        ``rede.vao_postes``.

    Returns
    -------
    pandas.DataFrame
        ``indice`` (row of ``paths``), ``numero`` (1..n) and ``geometry`` (points).
    """
    counts = pd.to_numeric(poles, errors="coerce").fillna(0).astype(int).to_numpy()
    geoms = np.asarray(paths.array, dtype=object)
    valid = ~shapely.is_missing(geoms) & (counts > 0)
    rows = np.repeat(np.flatnonzero(valid), counts[valid])
    number = np.concatenate([np.arange(1, k + 1) for k in counts[valid]]) if rows.size else rows
    lines = geoms[rows]
    along = np.minimum(number * span, shapely.length(lines))
    points = shapely.line_interpolate_point(lines, along)
    return pd.DataFrame({"indice": rows, "numero": number, "geometry": points})


def applicant_names(assessment: Assessment) -> list[object]:
    """Return the applicants' names, to redact from tables without them (LGPD).

    Parameters
    ----------
    assessment : Assessment
        Its table's ``nome_solicitante`` column.

    Returns
    -------
    list
        One name per row of ``assessment.table``; empty without the column.
    """
    table = assessment.table
    return list(table["nome_solicitante"]) if "nome_solicitante" in table.columns else []
