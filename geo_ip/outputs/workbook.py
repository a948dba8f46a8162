"""``ranking.xlsx``, the commission's workbook (internal: CPF masked, no names).

:func:`write_xlsx` writes one sheet each for the internal list, the budget walk, the
criteria with motivations and decisions, the evidence, what was not used from the
optional inputs, the CIP figures, the rules and the provenance, headed by the columns'
Portuguese labels (:func:`geo_ip.outputs.tables.column_labels`).

The cells are written by ``rustpy-xlsxwriter`` (``rust_xlsxwriter`` under Python). Each
sheet's header, widths and formats come from its first rows (:class:`_Sheet`); its
whole table is built when the writer reaches it, made plain a column at a time (no
Python call per cell for the columns of numbers) and handed over as a generator of rows,
which the writer streams to the file in its constant-memory mode. It writes a cell in a small
fraction of the time of the pure-Python ``xlsxwriter`` (issue 24: 1.6 million cells at
10,000 requests). Strings are always text cells, never formulas nor links: that writer
makes formulas and links only from the options for them, which are never given, so a
protocol ``=cmd|' /C calc'!A0`` stays that text (issue 17). A text longer than a cell
holds (:data:`EXCEL_TEXT_LIMIT`) is cut there, as ``xlsxwriter`` did. Each sheet has the
labelled header in the page's band colours, frozen header row and first column, a filter
over the rows, column widths from the first 200 cells, ``"R$" #,##0.00`` on the
``*_rs`` columns, ``#,##0.0`` on the ``*_m`` and ``*_pct`` ones, wrapped text on the long
sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rustpy_xlsxwriter import Format, write_worksheets

from geo_ip._util.atomic import atomic_path
from geo_ip.law.criteria import occurrence_words
from geo_ip.law.phrases import days_in_column
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.tables import (
    BUDGET_ROWS,
    CIP_ROWS,
    _label,
    budget_of,
    column_labels,
    provenance_rows,
)
from geo_ip.outputs.views import RESERVED_GROUPS, applicant_names, plain_column
from geo_ip.outputs.views import export_table as _export
from geo_ip.outputs.views import internal_ranking as _internal
from geo_ip.outputs.views import ordered_rows as _ordered
from geo_ip.outputs.views import plain_cell as _cell
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.law_locks import CRITERIA

__all__ = ["EXCEL_TEXT_LIMIT", "NUMBER_FORMATS", "sheet_tables", "write_xlsx", "xlsx_in_worker"]

NUMBER_FORMATS = {"rs": '"R$" #,##0.00', "m": "#,##0.0"}
"""Number format of the ``*_rs`` columns (reais) and of the ``*_m``/``*_pct`` ones."""

EXCEL_TEXT_LIMIT = 32_767
"""Characters an Excel cell holds: a longer text is cut there (as ``xlsxwriter`` did)."""

_WIDE = ("motiv", "decisao", "nomes", "detalhe", "fonte")
"""Parts of the names of the columns of long sentences: wider, their text wrapped."""

_EVIDENCE_SHEET = (
    "protocolo", "geocodificacao", "confianca", "incerteza_m", "localizacao_pendente",
    "posicoes_avaliadas", "extensao_min_m", "extensao_max_m", "postes_min", "postes_max",
    "custo_min_rs", "custo_max_rs", "pontuacao_sugerida_min", "pontuacao_sugerida_max",
    "confirmar_no_local", "logradouro_via", "hierarquia_via",
    "distancia_via_m", "fora_da_malha", "rede_alvo_tipo", "rede_alvo_id", "distancia_rede_m",
    "distancia_rede_reta_m", "metodo_distancia", "transformador", "postes_novos", "bracos",
    "luminarias", "condutor_m", "transformadores", "custo_estimado_rs",
    "residencias_declaradas", "edificacoes_trecho", "residencias_consideradas",
    "moradores_estimados", "fonte_beneficiarios", "equipamentos_proximos",
    "equipamentos_nomes", "travessias", "paradas_onibus", "paradas_onibus_via", "escolas",
    "creches", "unidades_saude", "pracas", "usuarios_vulneraveis", "vulneraveis_nomes",
    "geradores_noturnos", "ocorrencias", "ocorrencias_tipos", "distancia_ip_m",
    "intermediacao", "intermediacao_percentil", "via_de_passagem", "declividade_media_pct",
    "declividade_max_pct", "superficie_via", "via_sem_pavimento", "via_rural",
)  # fmt: skip


_SAMPLE_ROWS = 200
"""Rows of a sheet read for its columns' widths (and built before the others are written)."""

_REQUEST_SHEETS = frozenset({"Classificação", "Critérios", "Evidências"})
"""The sheets of one row per request, built only when written (the others are small)."""

_SENTENCES = frozenset({"problemas", "proveniencia", "motivo", "motivos"})
"""Columns of the workbook whose sentences quote dates (as dd/mm/aaaa there)."""


def _rules_rows(assessment: Assessment) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            if {"valor", "fonte"} <= set(value):
                rows.append(
                    {
                        "parametro": prefix,
                        "valor": value["valor"],
                        "unidade": value.get("unidade", ""),
                        "fonte": value["fonte"],
                    }
                )
                return
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(f"{prefix}[{i}]", item)
        elif prefix not in ("arquivo", "sha256"):
            rows.append({"parametro": prefix, "valor": value, "unidade": "", "fonte": ""})

    walk("", assessment.rules.model_dump())
    return pd.DataFrame(rows, columns=["parametro", "valor", "unidade", "fonte"])


def _with_applicant(frame: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """Add the applicant of each row's protocol, so the views redact the parts of the name.

    The column is dropped by :func:`geo_ip.requests.privacy.internal_view`; a protocol given to
    two requests gets both names.
    """
    table = assessment.table
    if "protocolo" not in frame.columns or "nome_solicitante" not in table.columns:
        return frame
    names: dict[str, str] = {}
    for protocol, name in zip(table["protocolo"], table["nome_solicitante"], strict=True):
        key, text = str(protocol), "" if pd.isna(name) else str(name)
        names[key] = f"{names[key]} {text}".strip() if key in names else text
    return frame.assign(nome_solicitante=frame["protocolo"].astype(str).map(names).fillna(""))


def _criteria_sheet(assessment: Assessment) -> pd.DataFrame:
    table = _ordered(assessment.table)
    columns = ["protocolo", "posicao", "situacao", "pontuacao_total"]
    for c in CRITERIA:
        columns += [f"sugerido_{c}", f"nivel_{c}", f"pont_{c}", f"motivacao_{c}", f"decisao_{c}"]
    # the applicant's name goes in so that its parts are redacted row by row (then dropped)
    columns += ["indicio_art12", "motivo_art12", "sinais_art12", "nome_solicitante"]
    view = privacy.internal_view(
        table[[c for c in columns if c in table.columns]], names=applicant_names(assessment)
    )
    return _export(view)


def _budget_sheet(assessment: Assessment) -> pd.DataFrame:
    """List the budget walk (Art. 11 sole paragraph, Art. 13): figures, then each reservation."""
    columns = ["item", "valor", "observacao"]
    summary = budget_of(assessment) or {}
    rows: list[dict[str, Any]] = []
    for key, label in BUDGET_ROWS.items():
        value = summary.get(key)
        note = ""
        if value is None and key in ("orcamento_rs", "saldo_apos_reservas_rs", "saldo_final_rs"):
            note = "sem limite de orçamento informado"
        rows.append({"item": label, "valor": value, "observacao": note})
    table = assessment.table
    if "situacao" in table.columns:
        situation = table["situacao"].astype(str)
        rows.append(
            {
                "item": "Pedidos pendentes de confirmação do local",
                "valor": int((situation == "pendente_localizacao").sum()),
                "observacao": "localização incerta além do limite das regras: pontuados no "
                "pior caso, sem participação do Município nem reserva até a Comissão "
                "confirmar o local (decisão 'localizacao')",
            }
        )
        rows.append(
            {
                "item": "Pedidos pendentes de comprovação da hipossuficiência",
                "valor": int((situation == "pendente_comprovacao").sum()),
                "observacao": "pontuados, sem participação do Município até a comprovação "
                "(Art. 4, caput e §2)",
            }
        )
        reserved = _ordered(table[situation.isin(RESERVED_GROUPS)])
        view = privacy.internal_view(reserved, names=applicant_names(assessment))
        for n, row in enumerate(view.to_dict("records"), start=1):
            art12 = row.get("situacao") == "execucao_direta_art12"
            act = "Art. 12, execução direta" if art12 else "Art. 11, estratégico"
            procedure = str(row.get("procedimento_art12") or "")
            if art12 and procedure:
                act += f", procedimento administrativo {procedure}"
            cost = _cell(row.get("custo_municipio_rs"))
            if _cell(row.get("selecionado_orcamento")) is True:
                note = "reservado"
            elif cost is None:
                note = "custo municipal desconhecido: não reservado"
            else:
                note = "não coube no saldo: não reservado"
            item = f"Reserva {n}: {row.get('protocolo')} ({act})"
            rows.append({"item": item, "valor": cost, "observacao": note})
    # object columns: counts stay whole numbers beside the amounts
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in columns})


def _cip_sheet(cip: dict[str, Any]) -> pd.DataFrame:
    """List the main CIP figures beside the budget, then the warnings (no consumer line)."""
    rows = [{"item": label, "valor": cip.get(key)} for key, label in CIP_ROWS.items()]
    rows += [{"item": "Aviso", "valor": text} for text in cip.get("avisos", [])]
    return pd.DataFrame(rows, columns=["item", "valor"])


def _not_used(assessment: Assessment) -> pd.DataFrame:
    frames = []
    for label, frame in (
        ("decisões", assessment.rejected_decisions),
        ("histórico de benefícios", assessment.rejected_history),
        ("ocorrências", assessment.occurrences_report),
    ):
        if frame is not None and "situacao" in frame.columns:
            frame = frame[frame["situacao"].astype(str) != "ok"]
        if frame is not None and len(frame):
            view = privacy.internal_view(
                _with_applicant(frame, assessment), names=applicant_names(assessment)
            )
            frames.append(view.assign(arquivo_de=label))
    if not frames:
        return pd.DataFrame({"arquivo_de": [], "motivo": []})
    return _export(pd.concat(frames, ignore_index=True))


def _column_kind(column: str) -> str | None:
    """Return the format of a column's cells: ``rs``, ``m``, ``wrap`` or None (general)."""
    if column.endswith("_rs"):
        return "rs"
    if column.endswith(("_m", "_pct")):
        return "m"
    if any(k in column for k in _WIDE):
        return "wrap"
    return None


def _column_width(column: str, title: str, values: pd.Series) -> float:
    """Return a column's width: its header or longest of its first 200 cells, capped."""
    text = values.head(_SAMPLE_ROWS).map(str)
    longest = max([len(title), *(len(s) for s in text)], default=10)
    wide = any(k in column for k in _WIDE)
    return float(min(60 if wide else 28, max(8, longest + 2)))


def _cells(values: pd.Series) -> list[Any]:
    """Return a column's cells as plain Python values, texts cut at :data:`EXCEL_TEXT_LIMIT`."""
    cells = plain_column(values)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return cells
    # the longest text first (a quarter of the time of a pass that also tracks positions)
    if max((len(v) for v in cells if type(v) is str), default=0) > EXCEL_TEXT_LIMIT:
        for k, v in enumerate(cells):
            if type(v) is str and len(v) > EXCEL_TEXT_LIMIT:
                cells[k] = v[:EXCEL_TEXT_LIMIT]
    return cells


def _titles(frame: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """Return the header of a sheet: the columns' labels, each told apart from the others.

    The writer takes each row as a mapping from header to cell, so two columns of one
    label would become one: a repeated label gets its column's code after it.
    """
    titles: list[str] = []
    for column in frame.columns:
        title = _label(column, labels)
        titles.append(f"{title} ({column})" if title in titles else title)
    return titles


@dataclass(frozen=True)
class _Sheet:
    """A sheet to write: its first rows, then its whole table when the writer reaches it.

    The first rows (:data:`_SAMPLE_ROWS`) give the header, the columns' widths and
    formats and whether there is a filter, which go to the writer before any row; the
    whole table is built only when its turn comes and dropped after it (at 100,000
    requests each of the three sheets of one row per request is hundreds of megabytes).
    """

    name: str
    head: pd.DataFrame
    table: Callable[[], pd.DataFrame]

    @classmethod
    def of(cls, name: str, frame: pd.DataFrame) -> _Sheet:
        """Return the sheet of a table already built."""
        return cls(name, frame.head(_SAMPLE_ROWS), lambda: frame)


def _rows(sheet: _Sheet, titles: list[str]) -> Iterator[dict[str, Any]]:
    """Yield a sheet's rows, header to cell: its table built and made plain when asked for."""
    frame = sheet.table()
    if list(frame.columns) != list(sheet.head.columns):  # the header is already given
        raise RuntimeError(f"aba {sheet.name!r}: as colunas da tabela não são as da amostra")
    columns = [_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    del frame  # the plain cells are all that is left to write
    for row in zip(*columns, strict=True):
        yield dict(zip(titles, row, strict=True))


def sheet_tables(assessment: Assessment) -> dict[str, Callable[[], pd.DataFrame]]:
    """Return, per sheet of ``ranking.xlsx`` in order, the function that builds its table.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.

    Returns
    -------
    dict of str to callable
        Sheet name → a function returning the sheet's table with the columns' codes
        (dates inside sentences already as dd/mm/aaaa), built only when called.
    """
    cip = assessment.cip

    def evidence() -> pd.DataFrame:
        table = _ordered(assessment.table)
        frame = _export(table[[c for c in _EVIDENCE_SHEET if c in table.columns]])
        if "ocorrencias_tipos" in frame.columns:  # a label column: the types in words
            frame["ocorrencias_tipos"] = frame["ocorrencias_tipos"].map(
                lambda v: occurrence_words(v) if isinstance(v, str) else v
            )
        return frame

    def dated(build: Callable[[], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
        def table() -> pd.DataFrame:
            frame = build()
            for column in _SENTENCES.intersection(frame.columns):
                frame[column] = days_in_column(frame[column])
            return frame

        return table

    sheets: dict[str, Callable[[], pd.DataFrame]] = {
        "Classificação": lambda: _internal(assessment),
        "Orçamento": lambda: _budget_sheet(assessment),
        "Critérios": lambda: _criteria_sheet(assessment),
        "Evidências": evidence,
        "Não aproveitado": lambda: _not_used(assessment),
        **({"CIP e orçamento": lambda: _cip_sheet(cip)} if cip else {}),
        "Regras": lambda: _rules_rows(assessment),
        "Proveniência": lambda: provenance_rows(assessment),
    }
    return {name: dated(build) for name, build in sheets.items()}


_FORMAT_SETTERS: dict[str, Callable[[Format, Any], Format]] = {
    "bold": lambda f, on: f.set_bold() if on else f,
    "text_wrap": lambda f, on: f.set_text_wrap() if on else f,
    "font_color": lambda f, colour: f.set_font_color(colour),
    "bg_color": lambda f, colour: f.set_background_color(colour),
    "valign": lambda f, where: f.set_align(where),
    "border": lambda f, style: f.set_border({1: "thin"}[style]),
    "num_format": lambda f, pattern: f.set_num_format(pattern),
}
"""xlsxwriter's format properties used by the workbooks, as rust_xlsxwriter setters."""


def _format(properties: dict[str, Any]) -> Format:
    """Return the rust_xlsxwriter format of xlsxwriter format properties.

    The header comes from the palette as xlsxwriter properties
    (:meth:`geo_ip.outputs.palette.Palette.workbook_header`), as for ``cip.xlsx`` and the
    batch's workbook: one spelling of it for every workbook. A property without a
    setter here raises (``KeyError``) rather than being left out.
    """
    fmt = Format()
    for key, value in properties.items():
        fmt = _FORMAT_SETTERS[key](fmt, value)
    return fmt


def _write_sheets(path: Path, sheets: Iterable[_Sheet], labels: dict[str, str]) -> None:
    """Write the sheets, in order, into the workbook at ``path``.

    Each with its labelled header (:func:`_titles`), frozen header and first column,
    filter over its rows, columns' widths (:func:`_column_width`) and formats
    (:func:`_column_kind`), all from its first rows; then its rows (:func:`_rows`),
    streamed to the file.
    """
    formats = {
        "rs": _format({"num_format": NUMBER_FORMATS["rs"]}),
        "m": _format({"num_format": NUMBER_FORMATS["m"]}),
        "wrap": _format({"text_wrap": True, "valign": "top"}),
    }
    entries: list[tuple[str, Any]] = []
    widths: dict[str, dict[str, float] | list[float]] = {}
    kinds: dict[str, dict[str, Format] | list[Format]] = {}
    filters: dict[str, bool] = {}
    for sheet in sheets:
        name, head = sheet.name, sheet.head
        titles = _titles(head, labels)
        columns = [str(c) for c in head.columns]
        widths[name] = [
            _column_width(c, t, head.iloc[:, i])
            for i, (c, t) in enumerate(zip(columns, titles, strict=True))
        ]
        kinds[name] = {
            t: formats[kind]
            for c, t in zip(columns, titles, strict=True)
            if (kind := _column_kind(c)) is not None
        }
        filters[name] = len(head) > 0
        # a sheet without rows still has its header, which only a table gives the writer
        rows = _rows(sheet, titles) if len(head) else pd.DataFrame(columns=titles)
        entries.append((name, rows))
    # the page's band colours, as the sheets' and the letter's (maps/cores.toml)
    header = _format(load_palette().workbook_header(valign="top", border=1))
    write_worksheets(
        entries,
        str(path),
        freeze_panes={"general": {"row": 1, "col": 1}},
        column_widths=widths,
        column_formats=kinds,
        header_format=dict.fromkeys(widths, header),
        autofilter=filters,
    )


def write_xlsx(assessment: Assessment, out: Path) -> None:
    """Write ``ranking.xlsx``, the commission's workbook (internal: CPF masked, no names).

    Parameters
    ----------
    assessment : Assessment
        Its internal list (:func:`geo_ip.outputs.views.internal_ranking`), budget walk,
        criteria, evidence, rejected inputs, CIP figures, rules and provenance, one
        sheet each (:func:`sheet_tables`).
    out : Path
        The workbook, written atomically, its rows streamed (constant memory): strings
        always as text, never formulas nor links.
    """
    labels = column_labels()
    # the sheets of one row per request are sampled on the first rows of the lists
    # (their order is the lists' order), and built whole only when written
    first = replace(assessment, table=_ordered(assessment.table).head(_SAMPLE_ROWS))
    samples = sheet_tables(first)
    sheets = [
        _Sheet(name, samples[name](), build)
        if name in _REQUEST_SHEETS
        else _Sheet.of(name, build())
        for name, build in sheet_tables(assessment).items()
    ]
    with atomic_path(out) as tmp:
        _write_sheets(tmp, sheets, labels)


def xlsx_in_worker(assessment: Assessment, path: str) -> bool:
    """Write ``ranking.xlsx`` in a helper process (:mod:`geo_ip._util.parallel`).

    Here rather than beside its caller (:mod:`geo_ip.outputs.files`): the helper imports
    the module of the function it runs, and this one needs none of the other writers.

    Parameters
    ----------
    assessment : Assessment
        As for :func:`write_xlsx`.
    path : str
        The workbook.

    Returns
    -------
    bool
        True, once written.
    """
    write_xlsx(assessment, Path(path))
    return True
