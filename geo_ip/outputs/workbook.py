"""``ranking.xlsx``, the commission's workbook (internal: CPF masked, no names).

:func:`write_xlsx` writes one sheet each for the internal list, the budget walk, the
criteria with motivations and decisions, the evidence, what was not used from the
optional inputs, the CIP figures, the rules and the provenance, headed by the columns'
Portuguese labels (:func:`geo_ip.outputs.tables.column_labels`).

The cells are written with ``xlsxwriter`` in its constant-memory mode: each sheet's
table is built when its turn comes, made plain a column at a time (no Python call per
cell for the columns of numbers) and streamed to the file a row at a time, as that mode
requires (``write_column`` there would drop every row but the last one written). Strings
are always text cells, never formulas nor links (:data:`geo_ip._util.safe_cells.XLSX_OPTIONS`):
a protocol ``=cmd|' /C calc'!A0`` stays that text (issue 17). Each sheet has the
labelled header in the page's band colours, frozen header row and first column, a filter
over the rows, column widths from the first 200 cells, ``"R$" #,##0.00`` on the
``*_rs`` columns, ``#,##0.0`` on the ``*_m`` and ``*_pct`` ones, wrapped text on the long
sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import XLSX_OPTIONS
from geo_ip.law.criteria import occurrence_words
from geo_ip.law.phrases import days_in
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.tables import (
    BUDGET_ROWS,
    CIP_ROWS,
    _label,
    budget_of,
    column_labels,
    provenance_rows,
)
from geo_ip.outputs.views import RESERVED_GROUPS, applicant_names
from geo_ip.outputs.views import export_table as _export
from geo_ip.outputs.views import internal_ranking as _internal
from geo_ip.outputs.views import ordered_rows as _ordered
from geo_ip.outputs.views import plain_cell as _cell
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.law_locks import CRITERIA

__all__ = ["NUMBER_FORMATS", "sheet_tables", "write_xlsx"]

NUMBER_FORMATS = {"rs": '"R$" #,##0.00', "m": "#,##0.0"}
"""Number format of the ``*_rs`` columns (reais) and of the ``*_m``/``*_pct`` ones."""

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
    text = values.head(200).map(str)
    longest = max([len(title), *(len(s) for s in text)], default=10)
    wide = any(k in column for k in _WIDE)
    return float(min(60 if wide else 28, max(8, longest + 2)))


def _plain_cells(values: pd.Series) -> list[Any]:
    """Return a column's cells as plain Python values, the whole column at once.

    What :func:`geo_ip.outputs.views.plain_cell` gives for each cell (None for NaN, NA
    and infinities, NumPy scalars as Python ones, dates in ISO), without a Python call
    per cell for the columns of floats, integers and booleans.
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        floats = values.to_numpy(dtype=np.float64)
        cells: list[Any] = floats.tolist()
        if not np.isfinite(floats).all():
            for k in np.flatnonzero(~np.isfinite(floats)).tolist():
                cells[k] = None
        return cells
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        ints: list[Any] = values.to_numpy().tolist()
        return ints
    return [_cell(v) for v in values.tolist()]


def _format_sheet(book: Any, sheet: Any, frame: pd.DataFrame, labels: dict[str, str]) -> None:
    """Labelled header, frozen header and first column, filter, widths and number formats."""
    # the page's band colours, as the sheets' and the letter's (maps/cores.toml)
    header = book.add_format(load_palette().workbook_header(valign="top", border=1))
    formats = {
        "rs": book.add_format({"num_format": NUMBER_FORMATS["rs"]}),
        "m": book.add_format({"num_format": NUMBER_FORMATS["m"]}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    for i, column in enumerate(frame.columns):
        title = _label(column, labels)
        sheet.write_string(0, i, title, header)
        kind = _column_kind(str(column))
        width = _column_width(str(column), title, frame.iloc[:, i])
        sheet.set_column(i, i, width, formats[kind] if kind else None)
    sheet.freeze_panes(1, 1)
    if len(frame):
        sheet.autofilter(0, 0, len(frame), max(len(frame.columns) - 1, 0))


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
                frame[column] = frame[column].map(lambda v: days_in(v) if isinstance(v, str) else v)
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


def _write_sheet(book: Any, name: str, frame: pd.DataFrame, labels: dict[str, str]) -> None:
    """Add a sheet to a constant-memory workbook: its formatted header, then its rows."""
    sheet = book.add_worksheet(name)
    _format_sheet(book, sheet, frame, labels)
    # the cells made plain a column at a time, then streamed a row at a time
    columns = [_plain_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        sheet.write_row(r, 0, row)


def write_xlsx(assessment: Assessment, out: Path) -> None:
    """Write ``ranking.xlsx``, the commission's workbook (internal: CPF masked, no names).

    Parameters
    ----------
    assessment : Assessment
        Its internal list (:func:`geo_ip.outputs.views.internal_ranking`), budget walk,
        criteria, evidence, rejected inputs, CIP figures, rules and provenance, one
        sheet each (:func:`sheet_tables`).
    out : Path
        The workbook, written atomically and row by row (``constant_memory``): strings
        always as text, never formulas nor links.
    """
    import xlsxwriter

    labels = column_labels()
    with atomic_path(out) as tmp:
        # constant_memory streams each row to disk; rows must be written in order
        # strings stay text: a protocol "=cmd|' /C calc'!A0" is never a formula (issue 17)
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, **XLSX_OPTIONS})
        try:
            # each sheet's table is built when its turn comes and dropped after it: at
            # 100,000 requests a sheet is millions of cells of text
            for name, build in sheet_tables(assessment).items():
                _write_sheet(book, name, build(), labels)
        finally:
            book.close()
