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
- ``ranking.xlsx`` (internal), the commission's workbook, is written by
  :func:`geo_ip.outputs.workbook.write_xlsx` with the labels of :func:`column_labels`;
- :func:`write_evidence`: ``evidencias.json`` (public), per protocol the evidence behind
  each motivation (:func:`evidence_records`);
- :func:`write_json`: ``proveniencia.json`` and ``cip_programa.json``.

Public tables go through :func:`geo_ip.requests.privacy.public_view`, internal ones
through :func:`geo_ip.requests.privacy.internal_view` (LGPD).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv, to_csv_br
from geo_ip.law.phrases import days_in_column
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.views import plain_cell as _cell
from geo_ip.outputs.views import plain_column
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
]


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
    "arquivo_de": "Tipo de arquivo",
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
    with open(path, "rb") as handle:  # closed here, not by a later garbage collection
        frame = pd.read_excel(handle, sheet_name=sheet, **options)
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
    with open(path, "rb") as handle:
        sheets = pd.read_excel(handle, sheet_name=None, **options)
    return {name: f.set_axis(column_codes(f.columns), axis=1) for name, f in sheets.items()}


def _value_labels() -> dict[str, dict[str, str]]:
    """Return the Portuguese words of the coded cells, as the maps show them."""
    from geo_ip.outputs.format import value_labels

    return value_labels("pedidos")


_ISO_DAY = r"^(\d{4})-(\d{2})-(\d{2})$"


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
            out[column] = days_in_column(out[column])
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


_encode_text = json.encoder.encode_basestring  # as json.dumps(..., ensure_ascii=False)


def _json_value(value: Any) -> str:
    """Return ``json.dumps(value, ensure_ascii=False, default=json_default)``."""
    return json.dumps(value, ensure_ascii=False, default=json_default)


def _json_cells(cells: list[Any]) -> list[str]:
    """Encode a column's plain cells as :func:`json.dumps` does inside a record.

    Text, finite floats, integers, booleans and None by type (no encoder per cell); any
    other value through :func:`json.dumps` itself.
    """
    kinds = set(map(type, cells))
    if kinds <= {str, type(None)}:
        return ["null" if v is None else _encode_text(v) for v in cells]
    if kinds <= {float, type(None)}:
        return [
            "null" if v is None else float.__repr__(v) if math.isfinite(v) else _json_value(v)
            for v in cells
        ]
    if kinds <= {int, type(None)}:
        return ["null" if v is None else int.__repr__(v) for v in cells]
    if kinds <= {bool, type(None)}:
        return ["null" if v is None else "true" if v else "false" for v in cells]
    return [_json_value(v) for v in cells]


_LENGTH_LEAVES = {"rede": ("comprimento_extensao_m", "\x00extensao"),
                  "localizacao": ("comprimento_trecho_candidato_m", "\x00trecho")}  # fmt: skip
"""Key added at the end of a section of each record and the name of its cells."""
_ITEMS_LEAF = "\x00itens"

Layout = list[tuple[str, "str | Layout"]]
"""The keys of an evidence record, in order: each a column's name (its cells) or a section."""


def _json_column(values: pd.Series) -> list[str]:
    """Encode a column's cells as :func:`json.dumps` does their :func:`plain_cell` in a record.

    NumPy floats, integers and booleans and text columns without a cell per Python
    call; the others through :func:`geo_ip.outputs.views.plain_column` and
    :func:`_json_cells`.
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        numbers = values.to_numpy()
        texts = list(map(float.__repr__, numbers.tolist()))
        for k in np.flatnonzero(~np.isfinite(numbers)).tolist():
            texts[k] = "null"
        return texts
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return list(map(int.__repr__, values.to_numpy().tolist()))
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return list(np.where(values.to_numpy(), "true", "false").tolist())
    if isinstance(dtype, pd.StringDtype):
        texts = list(map(_encode_text, values.to_numpy(dtype=object, na_value="").tolist()))
        for k in np.flatnonzero(values.isna().to_numpy()).tolist():
            texts[k] = "null"
        return texts
    return _json_cells(plain_column(values))


def _evidence_layout(present: set[str]) -> Layout:
    """Return the keys of each record of ``evidencias.json`` for a table with these columns."""
    layout: Layout = [(k, k) for k in ("protocolo", "linha", "situacao", "posicao")]
    for section, names in _RECORD_GROUPS.items():
        fields: Layout = [(n, n) for n in names if n in present]
        if section in _LENGTH_LEAVES:
            fields.append(_LENGTH_LEAVES[section])
        layout.append((section, fields))
    layout.append(("itens", _ITEMS_LEAF))
    criteria: Layout = [
        (c, [(n, n) for n in (prefix + c for prefix in _CRITERION_FIELDS) if n in present])
        for c in CRITERIA
    ]
    layout.append(("criterios", criteria))
    return layout


class _EvidenceChunk:
    """The evidence of some rows, column-wise: the records' keys and each leaf's cells."""

    __slots__ = ("cells", "layout", "rows", "size")

    def __init__(
        self, layout: Layout, cells: dict[str, list[Any]], rows: pd.DataFrame, size: int
    ) -> None:
        self.layout = layout
        self.cells = cells  # the added leaves; the columns' cells when asked
        self.rows = rows
        self.size = size

    def plain(self, leaf: str) -> list[Any]:
        """Return a leaf's cells as :func:`plain_cell` gives them."""
        if leaf not in self.cells:
            present = leaf in self.rows.columns
            self.cells[leaf] = plain_column(self.rows[leaf]) if present else [None] * self.size
        return self.cells[leaf]

    def json(self, leaf: str) -> list[str]:
        """Return a leaf's cells encoded as in the record's JSON."""
        if leaf == _ITEMS_LEAF:
            return [_json_value(item) for item in self.cells[leaf]]
        if leaf not in self.cells and leaf in self.rows.columns:
            return _json_column(self.rows[leaf])
        return _json_cells(self.plain(leaf))


def _evidence_chunk(
    assessment: Assessment,
    table: pd.DataFrame,
    lengths: npt.NDArray[np.float64],
    start: int,
    stretches: npt.NDArray[np.float64] | None = None,
) -> _EvidenceChunk:
    """Gather the evidence of the rows ``start`` to ``start + EVIDENCE_CHUNK_ROWS``.

    Column by column: each column's cells as :func:`plain_cell` gives them
    (:func:`geo_ip.outputs.views.plain_column`); :func:`_chunk_records` makes the records
    of them and :func:`_chunk_lines` their JSON.
    """
    rows = table.iloc[start : start + EVIDENCE_CHUNK_ROWS]
    size = len(rows)
    stop = start + size
    layout = _evidence_layout(set(table.columns))
    cells: dict[str, list[Any]] = {}
    extension = lengths[start:stop].tolist()
    stretch = [math.nan] * size if stretches is None else stretches[start:stop].tolist()
    cells[_LENGTH_LEAVES["rede"][1]] = [None if math.isnan(x) else round(x, 1) for x in extension]
    cells[_LENGTH_LEAVES["localizacao"][1]] = [
        None if math.isnan(x) else round(x, 1) for x in stretch
    ]
    items = assessment.items[start:stop]
    cells[_ITEMS_LEAF] = items + [{} for _ in range(size - len(items))]
    return _EvidenceChunk(layout, cells, rows, size)


def _chunk_records(chunk: _EvidenceChunk) -> list[dict[str, Any]]:
    """Build the records (dicts) of a chunk, column-wise."""

    def build(fields: Layout) -> list[dict[str, Any]]:
        if not fields:
            return [{} for _ in range(chunk.size)]
        keys = [key for key, _ in fields]
        columns = [
            chunk.plain(leaf) if isinstance(leaf, str) else build(leaf) for _, leaf in fields
        ]
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]

    return build(chunk.layout)


def _chunk_lines(chunk: _EvidenceChunk) -> list[str]:
    """Return :func:`json.dumps` of each record of a chunk, without building the records.

    One ``%`` template of a record's keys (as the encoder writes them: ``", "`` between
    items, ``": "`` after a key), filled with each leaf's cells encoded column-wise
    (:func:`_json_cells`): the same text as ``json.dumps(record, ensure_ascii=False,
    default=json_default)``.
    """
    leaves: list[str] = []

    def template(fields: Layout) -> str:
        parts = []
        for key, leaf in fields:
            if isinstance(leaf, str):
                leaves.append(leaf)
                value = "%s"
            else:
                value = template(leaf)
            parts.append(f"{_encode_text(key).replace('%', '%%')}: {value}")
        return "{" + ", ".join(parts) + "}"

    text = template(chunk.layout)
    encoded = [chunk.json(leaf) for leaf in leaves]
    return [text % values for values in zip(*encoded, strict=True)]


def _evidence_iter(
    assessment: Assessment, public: pd.DataFrame | None = None
) -> Iterator[_EvidenceChunk]:
    """Yield the evidence in input order, a chunk of rows at a time.

    ``public`` is :func:`geo_ip.outputs.views.public_table` of the assessment when the
    caller has it already (computed here otherwise).
    """
    table = (
        privacy.public_view(assessment.table, free_text=("confirmar_no_local",))
        if public is None
        else public
    )
    lengths = shapely.length(np.asarray(assessment.paths.array, dtype=object))
    stretches = np.full(len(table), np.nan)
    if "trecho_candidato" in table.columns:
        geoms = table["trecho_candidato"].to_numpy(dtype=object)
        has = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
        stretches[has] = shapely.length(geoms[has].astype(object))
    for first in range(0, len(table), EVIDENCE_CHUNK_ROWS):
        yield _evidence_chunk(assessment, table, lengths, first, stretches)


def evidence_records(
    assessment: Assessment, public: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Build, per protocol, the record of the evidence behind each motivation.

    Public: no personal data (:func:`geo_ip.requests.privacy.public_view`).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table, paths and ``items``).
    public : pandas.DataFrame, optional
        :func:`geo_ip.outputs.views.public_table` of ``assessment``, when computed
        already (the same rows; computed here otherwise).

    Returns
    -------
    list of dict
        One record per request, in input order.
    """
    return [r for chunk in _evidence_iter(assessment, public) for r in _chunk_records(chunk)]


def write_evidence(
    assessment: Assessment,
    out: Path,
    public: pd.DataFrame | None = None,
) -> None:
    """Write ``evidencias.json``: the provenance, then one request's record per line.

    The records are built and written a chunk at a time, each with the C encoder, so
    the file of a city's requests needs neither the whole list nor its text in memory.

    Parameters
    ----------
    assessment : Assessment
        Its provenance and :func:`evidence_records`.
    out : Path
        The JSON file (written atomically).
    public : pandas.DataFrame, optional
        :func:`geo_ip.outputs.views.public_table` of ``assessment``, when computed
        already (computed here otherwise).
    """
    provenance = json.dumps(
        assessment.provenance, ensure_ascii=False, indent=1, default=json_default
    )
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write('{"proveniencia": ' + provenance + ',\n"pedidos": [')
        gap = "\n"
        for chunk in _evidence_iter(assessment, public):
            fh.write(gap + ",\n".join(_chunk_lines(chunk)))
            gap = ",\n"
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
