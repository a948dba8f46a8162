"""The tables of ``geo-ip avaliar --saida DIR``: ``ranking.csv``, ``ranking.xlsx``, JSON files.

:func:`geo_ip.outputs.files.write_outputs` calls these writers, each writing one file
atomically:

- :func:`write_csv`: ``ranking.csv`` (public), the list of
  :func:`geo_ip.outputs.views.public_ranking` for scripts and other programs: UTF-8
  without BOM, ``,`` between cells, decimal point, the columns' codes as header;
- :func:`write_csv_br`: ``ranking_planilha.csv`` (public), the same list for people,
  the way a Brazilian Excel or LibreOffice opens it on a double click: UTF-8 with BOM,
  ``;`` between cells, decimal comma (``147354,46``, no thousands separator), the
  columns' Portuguese labels (:func:`column_labels`) as header;
- :func:`write_xlsx`: ``ranking.xlsx`` (internal), the commission's workbook: the
  internal list, the budget walk, the criteria with motivations and decisions, the
  evidence, what was not used from the optional inputs, the CIP figures, the rules and
  the provenance, one sheet each, headed by the columns' Portuguese labels;
- :func:`write_evidence`: ``evidencias.json`` (public), per protocol the evidence behind
  each motivation (:func:`evidence_records`);
- :func:`write_json`: ``proveniencia.json`` and ``cip_programa.json``.

Public tables go through :func:`geo_ip.requests.privacy.public_view`, internal ones
through :func:`geo_ip.requests.privacy.internal_view` (LGPD).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import XLSX_OPTIONS, to_csv, to_csv_br
from geo_ip.law.criteria import occurrence_words
from geo_ip.law.phrases import days_in
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.views import RESERVED_GROUPS, applicant_names
from geo_ip.outputs.views import export_table as _export
from geo_ip.outputs.views import internal_ranking as _internal
from geo_ip.outputs.views import ordered_rows as _ordered
from geo_ip.outputs.views import plain_cell as _cell
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.rules.law_locks import CRITERIA

__all__ = [
    "BUDGET_ROWS",
    "CIP_ROWS",
    "EVIDENCE_CHUNK_ROWS",
    "budget_of",
    "column_codes",
    "column_labels",
    "evidence_records",
    "json_default",
    "people_view",
    "provenance_rows",
    "read_sheet",
    "read_workbook",
    "write_csv",
    "write_csv_br",
    "write_evidence",
    "write_json",
    "write_xlsx",
]


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


_LABELLED_LAYERS = (
    "pedidos", "trechos_candidatos", "extensoes", "postes_propostos", "pontos_ip", "ocorrencias",
)  # fmt: skip
"""Output layers whose field aliases (``layers/*.toml``, ``[campos]``) label the tables' columns,
the first one naming a column winning."""

_CRITERION_NUMBER = {
    "beneficiarios": "I", "seguranca": "II", "trafego": "III", "custo_beneficio": "IV",
    "viabilidade": "V",
}  # fmt: skip

_MORE_LABELS = {
    "alertas": "Alertas",
    "elegivel": "Elegível",
    "motivos_inelegibilidade": "Motivos da inelegibilidade",
    "avisos_elegibilidade": "Avisos sobre a elegibilidade",
    "cadunico": "Inscrito no CadÚnico",
    "hipossuficiencia": "Hipossuficiência: como foi comprovada",
    "hipossuficiencia_comprovacao": "Comprovação da hipossuficiência",
    "decisao_hipossuficiencia": "Decisão sobre a hipossuficiência",
    "pendencia_hipossuficiencia": "Comprovação que falta",
    "pedido_estrategico": "Pedido estratégico (Art. 11)",
    "motivo_art12": "Sinais de via rural de alto fluxo (Art. 12 §1)",
    "sinais_art12": "Tipos de sinais (Art. 12 §1)",
    "ordem_ato": "Ordem do ato (Arts. 11 e 12)",
    "decisao_art11": "Decisão do Art. 11",
    "decisao_art12": "Decisão do Art. 12",
    "procedimento_art12": "Procedimento administrativo (Art. 12 §2)",
    "posicoes_avaliadas": "Posições avaliadas",
    "decisao_localizacao": "Confirmação do local",
    "cpf_solicitante": "CPF (mascarado)",
    "cpf_hash": "CPF (código protegido)",
    "confianca": "Confiança da localização",
    "logradouro_via": "Via mais próxima",
    "distancia_via_m": "Distância até a via (m)",
    "fora_da_malha": "Longe das vias",
    "residencias_declaradas": "Residências declaradas",
    "edificacoes_trecho": "Edificações no trecho",
    "residencias_consideradas": "Residências consideradas",
    "fonte_beneficiarios": "Origem dos beneficiários",
    "equipamentos_proximos": "Equipamentos próximos",
    "equipamentos_nomes": "Nomes dos equipamentos",
    "travessias": "Travessias",
    "paradas_onibus": "Paradas de ônibus",
    "paradas_onibus_via": "Paradas de ônibus na via",
    "escolas": "Escolas",
    "creches": "Creches",
    "unidades_saude": "Unidades de saúde",
    "pracas": "Praças",
    "usuarios_vulneraveis": "Usuários vulneráveis",
    "vulneraveis_nomes": "Nomes dos locais de usuários vulneráveis",
    "geradores_noturnos": "Geradores de fluxo noturno",
    "ocorrencias": "Ocorrências",
    "ocorrencias_tipos": "Ocorrências por tipo",
    "distancia_ip_m": "Distância à iluminação existente (m)",
    "intermediacao": "Intermediação da via",
    "intermediacao_percentil": "Percentil de intermediação da via",
    "via_de_passagem": "Via de passagem",
    "declividade_media_pct": "Declividade média (%)",
    "declividade_max_pct": "Declividade máxima (%)",
    "superficie_via": "Pavimento da via",
    "via_sem_pavimento": "Via sem pavimento",
    "via_rural": "Via rural",
    "item": "Item",
    "valor": "Valor",
    "observacao": "Observação",
    "parametro": "Parâmetro",
    "unidade": "Unidade",
    "chave": "Chave",
    "arquivo_de": "Arquivo",
    "motivo": "Motivo",
    "criterio": "Critério",
    "pontos": "Pontos",
    "motivacao": "Motivação",
    "membro": "Membro da Comissão",
    "procedimento": "Procedimento",
    **{f"nivel_{c}": f"{n} nível" for c, n in _CRITERION_NUMBER.items()},
    **{f"motivacao_{c}": f"{n} motivação" for c, n in _CRITERION_NUMBER.items()},
    **{f"decisao_{c}": f"{n} decisão da Comissão" for c, n in _CRITERION_NUMBER.items()},
}
"""Labels of the columns no output layer has (the internal list's, the evidence's, the
workbook's other sheets'); a column of a layer takes the layer's alias, never one of these."""


def column_labels() -> dict[str, str]:
    """Return the Portuguese label of every column a table people read may have.

    The aliases of the output layers (``layers/*.toml``, ``[campos]``: the same words
    QGIS and the web maps show), then the labels of the columns no layer has. A column
    absent from both is shown as its code with spaces (:func:`_label`).

    Returns
    -------
    dict of str to str
        Column code → label.
    """
    labels: dict[str, str] = {}
    for name in _LABELLED_LAYERS:
        for code, label in layer_style(name).campos.items():
            labels.setdefault(code, label)
    for code, label in _MORE_LABELS.items():
        labels.setdefault(code, label)
    return labels


def _label(column: str, labels: dict[str, str]) -> str:
    text = str(column)
    return labels.get(text) or text.replace("_", " ").strip().capitalize()


def column_codes(labels: list[str] | pd.Index) -> list[str]:
    """Return the column codes of a header written with :func:`column_labels` (either kind).

    Parameters
    ----------
    labels : list of str or pandas.Index
        A header of ``ranking.xlsx`` or ``ranking_planilha.csv`` (labels), or of a file
        written before the labels (codes: kept as they are).

    Returns
    -------
    list of str
        The code of each label, or the text itself when it is no label.
    """
    codes = {label: code for code, label in reversed(column_labels().items())}
    return [codes.get(str(text), str(text)) for text in labels]


def read_sheet(path: str | Path, sheet: str | int = 0, **options: Any) -> pd.DataFrame:
    """Read a sheet of ``ranking.xlsx`` with the columns' codes as header (for scripts).

    Parameters
    ----------
    path : str or Path
        The workbook (its header in labels, or in codes as written before issue 21).
    sheet : str or int, default 0
        The sheet's name or position.
    **options
        More arguments of :func:`pandas.read_excel` (``dtype=str``...).

    Returns
    -------
    pandas.DataFrame
        The sheet, its columns renamed to their codes (:func:`column_codes`).
    """
    frame = pd.read_excel(path, sheet_name=sheet, **options)
    return frame.set_axis(column_codes(frame.columns), axis=1)


def read_workbook(path: str | Path, **options: Any) -> dict[str, pd.DataFrame]:
    """Read every sheet of ``ranking.xlsx`` with the columns' codes as header (for scripts).

    Parameters
    ----------
    path : str or Path
        The workbook.
    **options
        More arguments of :func:`pandas.read_excel`.

    Returns
    -------
    dict of str to pandas.DataFrame
        Each sheet by name, as :func:`read_sheet` reads it.
    """
    sheets = pd.read_excel(path, sheet_name=None, **options)
    return {name: f.set_axis(column_codes(f.columns), axis=1) for name, f in sheets.items()}


def _value_labels() -> dict[str, dict[str, str]]:
    """Return the Portuguese words of the coded cells, as the maps show them."""
    from geo_ip.outputs.format import value_labels

    return value_labels("pedidos")


_ISO_DAY = r"^(\d{4})-(\d{2})-(\d{2})$"
_SENTENCES = frozenset({"problemas", "proveniencia", "motivo", "motivos"})
"""Columns of the workbook whose sentences quote dates (as dd/mm/aaaa there)."""


def people_view(table: pd.DataFrame) -> pd.DataFrame:
    """Return a list as people read it: labels for headers and codes, dates dd/mm/aaaa.

    Parameters
    ----------
    table : pandas.DataFrame
        A list with the columns' codes (:func:`geo_ip.outputs.views.public_ranking`).

    Returns
    -------
    pandas.DataFrame
        A copy: the header in :func:`column_labels`; the coded cells (situation, request
        type, road hierarchy, geocoding, distance method, hardship condition...) in the
        words of the maps (:func:`geo_ip.outputs.format.value_labels`; an unknown code
        stays as it is); ISO days of the ``data*`` columns, and inside the other texts
        (problems, provenance), as dd/mm/aaaa.
    """
    out = table.copy()
    for column, words in _value_labels().items():
        if column in out.columns:
            out[column] = out[column].map(
                lambda v, w=words: w.get(v, v) if isinstance(v, str) else v
            )
    for column in out.columns:
        if str(column).startswith("data") and not pd.api.types.is_numeric_dtype(out[column]):
            text = out[column].map(lambda v: v if isinstance(v, str) else None)
            days = text.str.replace(_ISO_DAY, r"\3/\2/\1", regex=True)
            out[column] = days.where(text.notna(), out[column])
        elif not pd.api.types.is_numeric_dtype(out[column]):  # dates inside sentences
            out[column] = out[column].map(lambda v: days_in(v) if isinstance(v, str) else v)
    labels = column_labels()
    return out.set_axis([_label(c, labels) for c in out.columns], axis=1)


def write_csv_br(table: pd.DataFrame, out: Path) -> None:
    """Write ``ranking_planilha.csv``: the CSV people open, the Brazilian way, atomically.

    The same rows as :func:`write_csv`, as :func:`people_view` shows them (labels, words
    for the codes, dd/mm/aaaa), written by :func:`geo_ip._util.safe_cells.to_csv_br`
    (UTF-8 with BOM, ``;``, decimal comma; no cell a formula).

    Parameters
    ----------
    table : pandas.DataFrame
        Usually :func:`geo_ip.outputs.views.public_ranking`.
    out : Path
        The CSV file.
    """
    with atomic_path(out) as tmp:
        to_csv_br(people_view(table), tmp)


def write_csv(table: pd.DataFrame, out: Path) -> None:
    """Write a table as ``ranking.csv`` is written: for scripts, atomically, no cell a formula.

    UTF-8 without BOM, ``,`` between cells, decimal point, the columns' codes as header:
    the machine-readable variant (the registry imports it; people open
    :func:`write_csv_br`'s).

    Parameters
    ----------
    table : pandas.DataFrame
        Usually :func:`geo_ip.outputs.views.public_ranking`.
    out : Path
        The CSV file.
    """
    with atomic_path(out) as tmp:
        to_csv(table, tmp)  # text cells never read as formulas (issue 17)


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


def _format_sheet(
    book: Any, sheet: Any, frame: pd.DataFrame, labels: dict[str, str] | None = None
) -> None:
    """Labelled header, frozen header and first column, filter, widths and number formats."""
    labels = column_labels() if labels is None else labels
    # the page's band colours, as the sheets' and the letter's (maps/cores.toml)
    header = book.add_format(load_palette().workbook_header(valign="top", border=1))
    formats = {
        "rs": book.add_format({"num_format": '"R$" #,##0.00'}),
        "m": book.add_format({"num_format": "#,##0.0"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    for i, column in enumerate(frame.columns):
        title = _label(column, labels)
        sheet.write_string(0, i, title, header)
        text = frame[column].head(200).map(str)
        longest = max([len(title), *(len(s) for s in text)], default=10)
        wide = any(k in column for k in ("motiv", "decisao", "nomes", "detalhe", "fonte"))
        width = min(60 if wide else 28, max(8, longest + 2))
        kind = None
        if column.endswith("_rs"):
            kind = "rs"
        elif column.endswith(("_m", "_pct")):
            kind = "m"
        elif wide:
            kind = "wrap"
        sheet.set_column(i, i, width, formats[kind] if kind else None)
    sheet.freeze_panes(1, 1)
    if len(frame):
        sheet.autofilter(0, 0, len(frame), max(len(frame.columns) - 1, 0))


def provenance_rows(assessment: Assessment) -> pd.DataFrame:
    """List the provenance record, one key a row, for the workbook and the GeoPackage.

    Parameters
    ----------
    assessment : Assessment
        Its ``provenance`` (tool, rules, inputs with hashes, time of run).

    Returns
    -------
    pandas.DataFrame
        ``chave`` and ``valor`` (the value as JSON text).
    """
    return pd.DataFrame(
        [
            {"chave": k, "valor": json.dumps(v, ensure_ascii=False, default=str)}
            for k, v in assessment.provenance.items()
        ]
    )


def write_xlsx(assessment: Assessment, out: Path) -> None:
    """Write ``ranking.xlsx``, the commission's workbook (internal: CPF masked, no names).

    Parameters
    ----------
    assessment : Assessment
        Its internal list (:func:`geo_ip.outputs.views.internal_ranking`), budget walk,
        criteria, evidence, rejected inputs, CIP figures, rules and provenance, one
        sheet each.
    out : Path
        The workbook, written row by row (``constant_memory``) and atomically.
    """
    import xlsxwriter

    cip = assessment.cip

    def evidence() -> pd.DataFrame:
        table = _ordered(assessment.table)
        frame = _export(table[[c for c in _EVIDENCE_SHEET if c in table.columns]])
        if "ocorrencias_tipos" in frame.columns:  # a label column: the types in words
            frame["ocorrencias_tipos"] = frame["ocorrencias_tipos"].map(
                lambda v: occurrence_words(v) if isinstance(v, str) else v
            )
        return frame

    # each sheet's table is built when its turn comes and dropped after it: at 100,000
    # requests a sheet is millions of cells of text, the workbook's whole memory
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
    with atomic_path(out) as tmp:
        # constant_memory streams each row to disk; rows must be written in order
        # strings stay text: a protocol "=cmd|' /C calc'!A0" is never a formula (issue 17)
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, **XLSX_OPTIONS})
        labels = column_labels()
        try:
            for name, build in sheets.items():
                frame = build()
                for column in _SENTENCES.intersection(frame.columns):
                    frame[column] = frame[column].map(
                        lambda v: days_in(v) if isinstance(v, str) else v
                    )
                sheet = book.add_worksheet(name)
                _format_sheet(book, sheet, frame, labels)
                for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
                    sheet.write_row(r, 0, [_cell(v) for v in row])
                del frame
        finally:
            book.close()


CIP_ROWS = {
    "arrecadacao_cip_anual_rs": "Arrecadação anual da CIP (R$)",
    "custo_iluminacao_atual_anual_rs": "Custo anual da energia da iluminação hoje (R$)",
    "custo_iluminacao_projetado_anual_rs": "Custo anual da energia com as obras selecionadas (R$)",
    "folga_anual_rs": "Folga anual: arrecadação menos energia projetada (R$)",
    "orcamento_rs": "Orçamento informado para as obras (R$)",
    "custo_municipio_selecionado_rs": "Parte do Município nas obras selecionadas (R$)",
}


BUDGET_ROWS = {
    "orcamento_rs": "Orçamento informado para a parte do Município (R$)",
    "reservado_rs": "Reservado para as obras dos Arts. 11 e 12 (R$)",
    "reservas": "Obras dos Arts. 11 e 12 reservadas",
    "reservas_sem_saldo": "Obras dos Arts. 11 e 12 que não couberam no saldo",
    "saldo_apos_reservas_rs": "Saldo para a classificação por pontuação (R$)",
    "selecionados": "Pedidos classificados selecionados",
    "classificados_rs": "Parte do Município nos classificados selecionados (R$)",
    "saldo_final_rs": "Saldo final (R$)",
}
"""Label of each figure of :func:`geo_ip.law.budget.budget_summary`, in the order shown."""


def budget_of(assessment: Assessment) -> dict[str, Any] | None:
    """Return the budget walk of an assessment (:func:`geo_ip.law.budget.budget_summary`).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its provenance, else its table).

    Returns
    -------
    dict or None
        ``provenance["orcamento"]``, or the summary computed from the table when the
        provenance lacks it; ``None`` when the table has no ranking columns.
    """
    stored = assessment.provenance.get("orcamento")
    if isinstance(stored, dict):
        return stored
    table = assessment.table
    if not {"situacao", "selecionado_orcamento", "custo_municipio_rs"} <= set(table.columns):
        return None
    from geo_ip.law.budget import budget_summary

    return budget_summary(table, assessment.provenance.get("orcamento_rs"))


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


def json_default(value: Any) -> Any:
    """Encode what :mod:`json` cannot: NaN as null, dates in ISO format, the rest as text.

    Parameters
    ----------
    value : object
        A value the JSON encoder met (the ``default`` of :func:`json.dumps`).

    Returns
    -------
    object
        :func:`geo_ip.outputs.views.plain_cell` of it, or its text.
    """
    cell = _cell(value)
    return cell if cell is not value else str(value)


_RECORD_GROUPS: dict[str, tuple[str, ...]] = {
    "localizacao": (
        "geocodificacao", "geocodificacao_detalhe", "confianca", "latitude", "longitude",
        "logradouro_via", "hierarquia_via", "aresta_u", "aresta_v", "aresta_key",
        "posicao_aresta_m", "distancia_via_m", "fora_da_malha", "incerteza_m",
        "localizacao_pendente", "posicoes_avaliadas", "extensao_min_m", "extensao_max_m",
        "postes_min", "postes_max", "custo_min_rs", "custo_max_rs", "pontuacao_sugerida_min",
        "pontuacao_sugerida_max", "confirmar_no_local", "decisao_localizacao",
    ),
    "rede": (
        "metodo_distancia", "distancia_rede_m", "distancia_rede_reta_m", "rede_alvo_tipo",
        "rede_alvo_id", "transformador",
    ),
    "materiais_e_custo": (
        "postes_novos", "bracos", "luminarias", "condutor_m", "transformadores",
        "custo_estimado_rs", "custo_por_beneficiario_rs",
    ),
    "beneficiarios": (
        "residencias_declaradas", "edificacoes_trecho", "residencias_consideradas",
        "moradores_estimados", "fonte_beneficiarios",
    ),
    "entorno": (
        "equipamentos_proximos", "equipamentos_nomes", "travessias", "paradas_onibus",
        "paradas_onibus_via", "escolas", "creches", "unidades_saude", "pracas",
        "usuarios_vulneraveis", "vulneraveis_nomes", "geradores_noturnos", "ocorrencias",
        "ocorrencias_tipos", "distancia_ip_m", "intermediacao", "intermediacao_percentil",
        "via_de_passagem", "declividade_media_pct", "declividade_max_pct", "declividade_fonte",
        "superficie_via", "via_sem_pavimento", "via_rural",
    ),
    "art11": ("pedido_estrategico", "art11_decidido", "decisao_art11"),
    "art12": (
        "indicio_art12", "motivo_art12", "sinais_art12", "art12_decidido", "procedimento_art12",
        "decisao_art12",
    ),
    "participacao": (
        "pontuacao_total", "condicao_hipossuficiencia", "pendencia_hipossuficiencia",
        "ordem_ato", "percentual_municipio", "custo_municipio_rs", "selecionado_orcamento",
        "motivo_situacao",
    ),
}  # fmt: skip
"""Sections of each record of ``evidencias.json`` and their columns."""


_CRITERION_FIELDS = ("sugerido_", "nivel_", "motivacao_", "pont_", "decisao_")


EVIDENCE_CHUNK_ROWS = 2_000
"""Requests whose ``evidencias.json`` records are built at a time (a city's 100,000
requests as one list of dicts took 4 GB)."""


def _evidence_chunk(
    assessment: Assessment,
    table: pd.DataFrame,
    lengths: npt.NDArray[np.float64],
    start: int,
    stretches: npt.NDArray[np.float64] | None = None,
) -> list[dict[str, Any]]:
    """Build the evidence records of the rows ``start`` to ``start + EVIDENCE_CHUNK_ROWS``."""
    present = set(table.columns)
    records = []
    rows = table.iloc[start : start + EVIDENCE_CHUNK_ROWS].to_dict("records")
    for i, row in enumerate(rows, start=start):
        record: dict[str, Any] = {
            k: _cell(row.get(k)) for k in ("protocolo", "linha", "situacao", "posicao")
        }
        for section, names in _RECORD_GROUPS.items():
            record[section] = {n: _cell(row.get(n)) for n in names if n in present}
        length = float(lengths[i])
        record["rede"]["comprimento_extensao_m"] = None if np.isnan(length) else round(length, 1)
        stretch = math.nan if stretches is None else float(stretches[i])
        record["localizacao"]["comprimento_trecho_candidato_m"] = (
            None if np.isnan(stretch) else round(stretch, 1)
        )
        record["itens"] = assessment.items[i] if i < len(assessment.items) else {}
        record["criterios"] = {
            c: {
                n: _cell(row.get(n))
                for n in (prefix + c for prefix in _CRITERION_FIELDS)
                if n in present
            }
            for c in CRITERIA
        }
        records.append(record)
    return records


def _evidence_iter(assessment: Assessment) -> Iterator[dict[str, Any]]:
    """Yield the evidence records in input order, a chunk of rows at a time."""
    table = privacy.public_view(assessment.table, free_text=("confirmar_no_local",))
    lengths = shapely.length(np.asarray(assessment.paths.array, dtype=object))
    stretches = np.full(len(table), np.nan)
    if "trecho_candidato" in table.columns:
        geoms = table["trecho_candidato"].to_numpy(dtype=object)
        has = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
        stretches[has] = shapely.length(geoms[has].astype(object))
    for first in range(0, len(table), EVIDENCE_CHUNK_ROWS):
        yield from _evidence_chunk(assessment, table, lengths, first, stretches)


def evidence_records(assessment: Assessment) -> list[dict[str, Any]]:
    """Build, per protocol, the record of the evidence behind each motivation.

    Public: no personal data (:func:`geo_ip.requests.privacy.public_view`).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table, paths and ``items``).

    Returns
    -------
    list of dict
        One record per request, in input order.
    """
    return list(_evidence_iter(assessment))


def write_evidence(assessment: Assessment, out: Path) -> None:
    """Write ``evidencias.json``: the provenance, then one request's record per line.

    The records are built and written a chunk at a time, each with the C encoder, so
    the file of a city's requests needs neither the whole list nor its text in memory.

    Parameters
    ----------
    assessment : Assessment
        Its provenance and :func:`evidence_records`.
    out : Path
        The JSON file (written atomically).
    """
    provenance = json.dumps(
        assessment.provenance, ensure_ascii=False, indent=1, default=json_default
    )
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write('{"proveniencia": ' + provenance + ',\n"pedidos": [')
        for k, record in enumerate(_evidence_iter(assessment)):
            fh.write(",\n" if k else "\n")
            fh.write(json.dumps(record, ensure_ascii=False, default=json_default))
        fh.write("\n]}\n")


def write_json(data: Any, out: Path) -> None:
    """Write ``proveniencia.json`` or ``cip_programa.json``: indented UTF-8, atomically.

    Parameters
    ----------
    data : object
        A JSON-able record (dates and NumPy values through :func:`json_default`).
    out : Path
        The file.
    """
    with atomic_path(out) as tmp:
        tmp.write_text(
            json.dumps(data, ensure_ascii=False, indent=1, default=json_default), encoding="utf-8"
        )
