"""Personal data (LGPD, Lei 13.709/2018): keyed CPF hash, public and internal views.

The requests spreadsheet carries personal data of the applicants: CPF, name, family
income, CadÚnico inscription, MEI status and previous benefits. geo_ip needs them
only to check eligibility (Art. 4 §2 and Art. 5 of Lei 5.442/2026); after that:

- the CPF is replaced by :func:`~geo_ip.requests.cpf.cpf_hash`, a keyed hash
  (HMAC-SHA256) that lets the five-year repeat check of Art. 5, II compare applicants
  across runs without the CPF in clear. The key (:func:`~geo_ip.requests.cpf.load_key`)
  belongs to the municipality: it is kept with the program's records and never
  published. Without it nobody can test whether a given CPF is behind a hash (a plain
  hash of the 11 digits would be reversed by trying the 10⁹ possible CPFs); with a
  different key the hashes of earlier runs no longer match;
- :func:`public_view` is what maps, transparency lists and the GeoPackage for QGIS may
  show: no personal column at all (nor the hash, which is still personal data under
  LGPD Art. 12 §3 for whoever holds the key), no free text written by or for the
  applicant (:data:`APPLICANT_TEXT_COLUMNS`), and CPFs, phone-like numbers and
  applicants' names redacted from the texts that remain;
- :func:`internal_view` is what the commission's internal outputs show: CPF masked
  (``***.456.789-**``, the layout of federal transparency portals), no names, no income
  figure, CadÚnico as ``sim``/``não`` (the commission needs it: Art. 4 §2, I).

Rules shared by both views (issue 17):

- **CPF-shaped values in every column.** Every formatted CPF layout and every run of
  exactly 11 digits is replaced by :data:`~geo_ip.requests.redaction.REDACTED` in
  *every* text column, whether or not its check digits match: a CPF typed into
  ``bairro``, ``cep``, ``numero`` or a column geo_ip does not know is as personal as one
  in ``cpf_solicitante``. Exceptions: ``cpf_solicitante`` (dropped or masked),
  ``cpf_hash`` (16 hex characters, which may hold 11 decimal digits in a row) and
  ``protocolo`` (the key that joins every output and the Commission's records: a
  municipality may number its protocols with 11 digits).
- **Free text carries no personal data.** Free-text columns
  (:data:`FREE_TEXT_COLUMNS`, :data:`FREE_TEXT_PREFIXES`) include every message derived
  from the input (``problemas``, ``geocodificacao_detalhe``, which repeat the address as
  typed). In them, besides every applicant's full name, every *part* of the row's own
  applicant's name is redacted: each given name and surname of two or more letters,
  accent- and case-insensitive, alone or in runs (``casa de Brigida Juazeirinho``,
  ``Dona Ambrosina``). The connectors (:data:`~geo_ip.requests.redaction.NAME_CONNECTORS`:
  de, da, do, dos, das, e) are never name parts.
- **Street names survive.** Many surnames are also street words (Santos, Silva, São,
  Padre): wiping each of them everywhere would wipe the addresses the law requires to
  identify (Art. 10, II). So (1) the parts are those of the row's own applicant, not of
  every applicant (a city has an applicant called Getúlio and one called Vargas); (2) in
  the address columns (:data:`ADDRESS_COLUMNS`) only runs of two or more name parts are
  redacted (``Rua Santos Dumont`` of an applicant surnamed Santos stays); (3) in free
  text, a single name part that is a word of a place the tool found for the row in the
  territory (``logradouro_encontrado``, ``logradouro_via``, ``bairro_encontrado``, the
  ``*_nomes`` of nearby facilities) stays, since it names that place, not the person.
  Runs of two or more parts are always redacted. A single first name left that way, or
  the name of someone who is not an applicant, can remain in the *internal* outputs'
  free text: public outputs do not carry the applicant's free text at all.

:func:`~geo_ip.requests.redaction.scan_for_personal_data` finds clear CPFs (formatted or
bare) and names in any text; tests run it over every output.

This module holds the views and the columns they treat;
:mod:`geo_ip.requests.cpf` the CPF (check digits, mask, keyed hash and its key) and
:mod:`geo_ip.requests.redaction` the redaction of a text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import partial

import numpy as np
import pandas as pd

from geo_ip._util.parse import cell_text, slug
from geo_ip._util.text import CELL_GAP, map_joined
from geo_ip.requests.cpf import mask_cpf
from geo_ip.requests.redaction import (
    CPF_LIKE,
    REDACTED,
    folded_words,
    merged_index,
    name_parts,
    names_index,
    redact_words,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "APPLICANT_TEXT_COLUMNS",
    "ELIGIBILITY_DETAIL",
    "FREE_TEXT_COLUMNS",
    "PERSONAL_COLUMNS",
    "PSEUDONYMOUS_COLUMNS",
    "cpf_masked",
    "internal_view",
    "public_view",
]

log = logging.getLogger(__name__)

PERSONAL_COLUMNS = (
    "cpf_solicitante",
    "nome_solicitante",
    "renda_familiar",
    "cadunico",
    "mei",
    "beneficio_anterior_data",
    "beneficio_anterior_justificativa",
)
"""Columns of the requests schema (``intake.OPTIONAL``) about the applicant as a person.

Location columns (``endereco``, ``numero``, ``bairro``, coordinates) are kept: they
describe the place of the public works, which the law requires to be identified
(Art. 10, II). ``observacoes`` and ``justificativa_estrategica`` are the applicant's
free text: redacted internally, never public (:data:`APPLICANT_TEXT_COLUMNS`).
"""
APPLICANT_TEXT_COLUMNS = ("observacoes", "justificativa_estrategica")
"""Free text written by or for the applicant in the requests spreadsheet: internal only.

Public outputs never carry it ("free text carries no personal data"): no redaction can
find every personal detail a clerk may write there (a neighbour's name, a nickname, an
illness). The Commission's own motivations (``motivacao_*``, ``decisao_*``) and the
tool's messages are public, redacted. ``beneficio_anterior_justificativa`` is in
:data:`PERSONAL_COLUMNS`.
"""
PSEUDONYMOUS_COLUMNS = ("cpf_hash",)
"""Pseudonymised personal data: kept internally, never published."""
ELIGIBILITY_DETAIL = (
    "avisos_elegibilidade",
    "motivos_inelegibilidade",
    "hipossuficiencia",
    "decisao_hipossuficiencia",
)
"""Eligibility columns that speak of the applicant's economic situation: internal only.

``hipossuficiencia`` says how hardship was proven (CadÚnico, income declaration,
documents accepted by the Commission) and ``decisao_hipossuficiencia`` names the
applicant's documents. Public outputs keep ``elegivel``,
``fundamento_inelegibilidade`` (the articles only), ``condicao_hipossuficiencia``
(proven, pending, not proven: never how) and ``pendencia_hipossuficiencia`` (the
generic list of proofs a pending request lacks).
"""
FREE_TEXT_COLUMNS = (
    "observacoes",
    "justificativa_estrategica",
    "problemas",
    "endereco",
    "numero",
    "bairro",
    "motivacao",
    "descricao",
    "procedimento_art12",
    "geocodificacao_detalhe",
    "observacao",
)
"""Free-text columns redacted by the views; also any column starting with a prefix below.

Every message derived from the input is one: ``problemas`` and ``geocodificacao_detalhe``
quote the cells as typed (``logradouro 'Rua X, casa de Fulano' não encontrado``).
"""
FREE_TEXT_PREFIXES = (
    "motivacao_", "decisao_", "justificativa", "motivo", "avisos", "parecer", "problema",
    "detalhe", "observac", "pendencia",
)  # fmt: skip
ADDRESS_COLUMNS = ("endereco", "numero", "bairro")
"""Address cells as typed: only runs of two or more name parts are redacted in them."""
PLACE_COLUMNS = ("logradouro_encontrado", "logradouro_via", "logradouro", "bairro_encontrado")
"""Places the tool found for the row in the territory (also the ``*_nomes`` columns)."""
_KEEP_CPF_LIKE = ("protocolo", "cpf_solicitante", "cpf_hash")


# --- redaction and views --------------------------------------------------------------------


def _redact_items(text: str, fields: Sequence[str]) -> str:
    """Blank the details of ``" | "``-joined problem items about personal ``fields``."""
    if not text:
        return text
    items = text.split(" | ")
    for i, item in enumerate(items):
        field = next((f for f in fields if f"'{f}'" in item), None)
        if field is not None:
            prefix = "aviso: " if item.startswith("aviso: ") else ""
            items[i] = f"{prefix}campo '{field}': {REDACTED}"
    return " | ".join(items)


def _free_text_columns(df: pd.DataFrame, extra: Sequence[str]) -> list[str]:
    return [
        c
        for c in df.columns
        if isinstance(c, str)
        and (c in FREE_TEXT_COLUMNS or c in extra or c.startswith(FREE_TEXT_PREFIXES))
    ]


def cpf_masked(texts: list[str]) -> list[str] | None:
    """Replace the CPF-shaped runs of many texts by :data:`REDACTED`, in one search.

    Equivalent to ``[CPF_LIKE.sub(REDACTED, t) for t in texts]``, but the texts are
    joined by :data:`~geo_ip._util.text.CELL_GAP` and searched once (neither a digit nor
    a space, so :data:`~geo_ip.requests.redaction.CPF_LIKE` never matches across it and
    sees each cell's ends as a text's ends): most columns hold no CPF-shaped run
    at all.

    Parameters
    ----------
    texts : list of str
        The texts (a column's cells).

    Returns
    -------
    list of str or None
        The texts with every CPF-shaped run replaced, in the same order; None when no
        text has one.
    """
    if CPF_LIKE.search(CELL_GAP.join(texts)) is None:
        return None
    return map_joined(partial(CPF_LIKE.sub, REDACTED), texts)


def _mask_cpf_like(out: pd.DataFrame, done: Iterable[str] = ()) -> None:
    """Replace CPF-shaped runs by :data:`REDACTED` in every text cell of ``out`` (in place).

    Every column but :data:`_KEEP_CPF_LIKE` and ``done`` (the free-text columns, whose
    cells are CPF-free already: redacting names or problem items never makes a new
    CPF-shaped run); numbers, dates and geometries are not text. A column with a
    replacement becomes of object dtype; the others are left as they are.
    """
    skip = {*_KEEP_CPF_LIKE, *done}
    for column in out.columns:
        values = out[column]
        if column in skip or not (
            values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
        ):
            continue
        cells = values.to_numpy(dtype=object)
        texts = [v if isinstance(v, str) else "" for v in cells]
        masked = cpf_masked(texts)
        if masked is None:
            continue
        changed = values.astype(object).to_numpy(copy=True)
        for k, (before, after) in enumerate(zip(texts, masked, strict=True)):
            if after != before:
                changed[k] = after
        out[column] = pd.Series(changed, index=out.index, dtype=object)


def _place_words(df: pd.DataFrame) -> list[frozenset[str]]:
    """Per row, the folded words of the places found for it in the territory."""
    columns = [
        c for c in df.columns if isinstance(c, str) and (c in PLACE_COLUMNS or c.endswith("_nomes"))
    ]
    if not columns:
        return [frozenset()] * len(df)
    joined = df[columns].astype(object).map(lambda v: v if isinstance(v, str) else "")
    return [folded_words(" ".join(row)) for row in joined.itertuples(index=False, name=None)]


def _redacted_copy(
    df: pd.DataFrame,
    drop: Sequence[str],
    item_fields: Sequence[str],
    extra: Sequence[str],
    more_names: Iterable[object] = (),
    addresses: Sequence[str] = (),
) -> pd.DataFrame:
    applicants = (
        [cell_text(n) for n in df["nome_solicitante"]]
        if "nome_solicitante" in df.columns
        else [""] * len(df)
    )
    more = more_names if isinstance(more_names, tuple) else list(more_names)
    index = merged_index(names_index(applicants), names_index(more))
    parts = [name_parts(n) for n in applicants]
    places = _place_words(df) if any(parts) else [frozenset()] * len(df)
    out = df.drop(columns=[c for c in drop if c in df.columns]).copy()
    names = bool(index[1] or any(parts))
    quoted = "|".join(re.escape(f"'{f}'") for f in item_fields)
    about = re.compile(quoted) if quoted else None
    free = _free_text_columns(out, (*extra, *addresses))
    for column in free:
        values = out[column].astype(object)
        cells = values.to_numpy()
        rows = np.flatnonzero(values.notna().to_numpy())
        if not len(rows):
            continue
        texts = [v.strip() if type(v) is str else cell_text(v) for v in cells[rows]]
        if not unicodedata.is_normalized("NFC", CELL_GAP.join(texts)):
            texts = [unicodedata.normalize("NFC", t) for t in texts]
        texts = cpf_masked(texts) or texts
        if names:
            address = column in ADDRESS_COLUMNS or column in addresses
            texts = [
                redact_words(t, index, parts[r], address=address, keep=places[r])
                for t, r in zip(texts, rows.tolist(), strict=True)
            ]
        if about is not None and about.search(CELL_GAP.join(texts)) is not None:
            texts = [_redact_items(t, item_fields) if about.search(t) else t for t in texts]
        changed = cells.copy()
        changed[rows] = np.array(texts, dtype=object)
        out[column] = pd.Series(changed, index=out.index, dtype=object)
    _mask_cpf_like(out, done=free)
    return out


def public_view(
    df: pd.DataFrame,
    *,
    free_text: Sequence[str] = (),
    names: Iterable[object] = (),
    addresses: Sequence[str] = (),
) -> pd.DataFrame:
    """Return the table as public outputs may show it: no personal data (LGPD).

    Drops :data:`PERSONAL_COLUMNS`, :data:`PSEUDONYMOUS_COLUMNS`,
    :data:`ELIGIBILITY_DETAIL` and the applicant's free text
    (:data:`APPLICANT_TEXT_COLUMNS`); replaces CPF-shaped values by :data:`REDACTED`
    in every text column (``protocolo`` excepted); in free-text columns
    (:data:`FREE_TEXT_COLUMNS`, columns starting with one of
    :data:`FREE_TEXT_PREFIXES`, and ``free_text``) replaces the applicants' names and
    the parts of each row's applicant's name (see the module docstring) by
    :data:`REDACTED`, and reduces problem items about a personal field (e.g. the income
    cell quoted by the intake check) to the field name.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table of the pipeline (a GeoDataFrame stays one).
    free_text : sequence of str, optional
        More columns to redact.
    names : iterable of str, optional
        More names to redact, besides those of ``df["nome_solicitante"]`` (for a
        table without that column: a subset of the columns, a file of decisions).
    addresses : sequence of str, optional
        More columns to redact as free text that is an address, as
        :data:`ADDRESS_COLUMNS` are (only runs of two or more name parts).

    Returns
    -------
    pandas.DataFrame
        A new table; ``df`` is not modified.
    """
    drop = (*PERSONAL_COLUMNS, *PSEUDONYMOUS_COLUMNS, *ELIGIBILITY_DETAIL, *APPLICANT_TEXT_COLUMNS)
    return _redacted_copy(df, drop, PERSONAL_COLUMNS, free_text, names, addresses)


def internal_view(
    df: pd.DataFrame, *, free_text: Sequence[str] = (), names: Iterable[object] = ()
) -> pd.DataFrame:
    """Return the table as the commission's internal outputs show it (LGPD).

    CPF masked (:func:`mask_cpf`; an already masked value is kept);
    ``nome_solicitante`` and ``renda_familiar`` dropped (the eligibility texts say
    whether the income is within the limit, without the figure); ``cadunico`` as
    ``"sim"``/``"não"``/``""``, because the commission needs it to assess hardship
    (Art. 4 §2, I); ``cpf_hash``, the eligibility texts and the applicant's free text
    kept. CPF-shaped values in every text column and names in free text are redacted
    as in :func:`public_view`.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table of the pipeline.
    free_text : sequence of str, optional
        More columns to redact.
    names : iterable of str, optional
        More names to redact, as in :func:`public_view`.

    Returns
    -------
    pandas.DataFrame
        A new table; ``df`` is not modified.
    """
    out = _redacted_copy(
        df,
        ("nome_solicitante", "renda_familiar"),
        ("nome_solicitante", "renda_familiar"),
        free_text,
        names,
    )
    if "cpf_solicitante" in out.columns:
        out["cpf_solicitante"] = [
            v if str(v).startswith("***") else mask_cpf(v) for v in out["cpf_solicitante"]
        ]
    if "cadunico" in out.columns:
        out["cadunico"] = [_yes_no(v) for v in out["cadunico"]]
    return out


def _yes_no(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        key = slug(value)
        return "sim" if key in ("sim", "s", "true", "1") else "não" if key else ""
    return "sim" if bool(value) else "não"
