"""No raw code in the words people read: the assessment's prose, the sheets, the spreadsheets.

Issue 21, item 4 ("labels, not codes"). The demo is assessed and written once (the
session's ``demo_outputs``); every motivation, reason and decision, the technical sheets
(HTML and PDF), the headers and the label columns of ``ranking.xlsx`` and every cell of
``ranking_planilha.csv`` go through :func:`tests.raw_codes.raw_codes`. Machine outputs
(``ranking.csv``, ``evidencias.json``, the GeoPackage's attributes, the code columns of the
workbook that scripts read back) keep their codes by design and are not checked. Then
hand-made cases pin the exact words that replaced the codes.
"""

from __future__ import annotations

import csv
import html
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from geo_ip.law.criteria import occurrence_words, road_words
from geo_ip.law.decisions import apply_acts
from geo_ip.law.phrases import (
    HIGHWAYS,
    OCCURRENCES,
    REQUEST_TYPES,
    ROAD_CLASSES,
    SURFACES,
    coordinates,
    day,
    days_in,
    surface_word,
)
from geo_ip.outputs.format import TIPOS, value_labels
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.tables import people_view, read_workbook
from geo_ip.pipeline import Assessment
from geo_ip.sources.catalog import load_catalog
from tests.raw_codes import raw_codes
from tests.test_scoring import one

INPUT_VALUES = "use extensao_rede, implantacao ou melhoria"
"""The values a clerk types in the requests' spreadsheet, quoted by the error of a row
with an unknown type (a message of ``geo_ip.requests``): codes on purpose."""

PROSE = (
    "motivacao_beneficiarios", "motivacao_seguranca", "motivacao_trafego",
    "motivacao_custo_beneficio", "motivacao_viabilidade", "decisao_beneficiarios",
    "decisao_seguranca", "decisao_trafego", "decisao_custo_beneficio", "decisao_viabilidade",
    "motivo_situacao", "motivos_inelegibilidade", "avisos_elegibilidade",
    "fundamento_inelegibilidade", "pendencia_hipossuficiencia", "decisao_hipossuficiencia",
    "motivo_art12", "decisao_art11", "decisao_art12", "decisao_localizacao",
    "confirmar_no_local",
)  # fmt: skip
"""The assessment's prose: motivations, reasons, warnings and decisions."""

LABEL_COLUMNS = frozenset(
    {
        *PROSE, "alertas", "motivos", "hipossuficiencia_comprovacao", "ocorrencias_tipos",
        "fonte_beneficiarios", "equipamentos_nomes", "vulneraveis_nomes", "proveniencia",
        "item", "observacao", "motivacao", "motivo",
    }
)  # fmt: skip
"""Columns of ``ranking.xlsx`` whose cells are words (the others keep codes for scripts)."""


def _text(value: Any) -> str:
    return value.replace(INPUT_VALUES, "") if isinstance(value, str) else ""


@pytest.fixture(scope="module")
def folder(demo_outputs: list[Path]) -> Path:
    return demo_outputs[0].parent


def test_the_motivations_say_no_code(demo_assessment: Assessment) -> None:
    table = demo_assessment.table
    items = [
        {"where": f"{protocol} {column}", "text": _text(text), "cells": []}
        for column in PROSE
        if column in table.columns
        for protocol, text in zip(table["protocolo"], table[column], strict=True)
    ]
    assert len(items) > 500
    assert raw_codes(items) == set()
    prose = " ".join(i["text"] for i in items)
    # the words that replaced the codes seen before (issue 21)
    for words in (
        "(ocorrência policial: 2; acidente de trânsito: 1; reclamação / relato: 1)",
        "mantido em 15 por Comissão (relator fictício) (12/11/2026)",
        "decidido por Comissão (relator fictício) em 13/11/2026, local confirmado em "
        "(-22,894926; -46,384813)",
        "benefício idêntico concedido em 15/03/2023 (histórico, protocolo PED-2023-0042)",
        "data futura (12/08/2062)",
        "via pavimentada (asfalto)",
    ):
        assert words in prose, words


def _sheet_items(page: str, where: str) -> list[dict[str, Any]]:
    """A sheet's HTML as the checker reads it: its text, and each table cell's value."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    cells = [
        html.unescape(re.sub(r"<[^>]+>", " ", c)).strip()
        for c in re.findall(r"<td\b[^>]*>(.*?)</td>", body, flags=re.S)
    ]
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return [{"where": where, "text": _text(text), "cells": [_text(c) for c in cells]}]


def test_the_sheets_say_no_code(folder: Path) -> None:
    pages = sorted((folder / "fichas").glob("*.html"))
    assert len(pages) >= 41
    items = [i for p in pages for i in _sheet_items(p.read_text(encoding="utf-8"), p.name)]
    assert raw_codes(items) == set()
    reader = PdfReader(folder / "fichas" / "todas.pdf")
    texts = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    pdf = [{"where": f"todas.pdf p. {n}", "text": _text(t), "cells": []} for n, t in
           enumerate(texts, start=1)]  # fmt: skip
    assert raw_codes(pdf) == set()
    page = " ".join((folder / "fichas" / "PED-2026-0103.html").read_text("utf-8").split())
    assert "Rede de média tensão (Elemento 30009 da BDGD da distribuidora)" in page
    assert "(ocorrência policial: 2; acidente de trânsito: 1; reclamação / relato: 1)" in page
    assert any("Hipossuficiência (Art. 4 §2) Comprovada" in t for t in texts)


def test_the_workbook_headers_and_label_columns_say_no_code(folder: Path) -> None:
    path = folder / "ranking.xlsx"
    book = load_workbook(path, read_only=True)
    headers = {s.title: [c.value for c in next(s.iter_rows(max_row=1))] for s in book}
    book.close()
    items = [
        {"where": f"{name}: cabeçalho", "text": " ".join(map(str, header)), "cells": header}
        for name, header in headers.items()
    ]
    assert raw_codes(items) == set()
    for name, header in headers.items():
        assert not [h for h in header if "_" in str(h)], name
    cells = []
    for name, sheet in read_workbook(path, dtype=str).items():
        for column in LABEL_COLUMNS.intersection(sheet.columns):
            for value in sheet[column].dropna():
                cells.append({"where": f"{name}: {column}", "text": _text(value), "cells": [
                    _text(value)]})  # fmt: skip
    assert len(cells) > 300
    assert raw_codes(cells) == set()
    text = " ".join(c["text"] for c in cells)
    assert "ocorrência policial: 2; acidente de trânsito: 1; reclamação / relato: 1" in text
    assert "OSM de 15/01/2026" in text


def test_the_peoples_csv_says_no_code(folder: Path) -> None:
    with (folder / "ranking_planilha.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == 41
    assert raw_codes([{"where": "cabeçalho", "text": ";".join(header), "cells": header}]) == set()
    assert not [h for h in header if "_" in h]
    items = [
        {"where": f"{header[k]}", "text": _text(value), "cells": [_text(value)]}
        for row in body
        for k, value in enumerate(row)
    ]
    assert raw_codes(items) == set()
    situation = header.index("Situação")
    assert "Classificado, aguardando orçamento" in {row[situation] for row in body}


# --- hand-made cases ------------------------------------------------------------------------


def test_the_check_finds_the_codes_the_old_prose_had() -> None:
    old = [
        "4 ocorrências registradas em 24 meses a menos de 150 m (ocorrencia_policial: 2; "
        "acidente: 1; reclamacao: 1).",
        "decidido por Comissão (relator fictício) em 2026-11-13, local confirmado em "
        "(-22.894926, -46.384813): Vistoria",
        "Rede de baixa tensão (bdgd:20058)",
    ]
    found = raw_codes([{"where": str(n), "text": t, "cells": []} for n, t in enumerate(old)])
    assert found == {"0: ocorrencia_policial", "1: 2026-11-13", "2: bdgd:"}
    assert raw_codes([{"where": "ficha", "text": "comprovada", "cells": ["comprovada"]}]) == {
        "ficha: = comprovada"
    }


def test_a_criterions_motivation_in_words() -> None:
    row = one(
        hierarquia_via="secundaria", logradouro_via="Rua das Flores", superficie_via="asphalt",
        ocorrencias=3.0, ocorrencias_tipos="ocorrencia_policial: 2; acidente: 1",
        distancia_ip_m=80.0,
    )  # fmt: skip
    assert row["motivacao_trafego"] == (
        "Nível II (Art. 9 §8, II): via secundária (Rua das Flores); intermediação no percentil "
        "50 (via de ligação relevante a partir de 90) e nenhuma parada de ônibus na via."
    )
    assert row["motivacao_viabilidade"].endswith(
        "declividade máxima de 5 % (nível I até 12 %, nível II até 25 %); via pavimentada "
        "(asfalto)."
    )
    assert row["motivacao_seguranca"].endswith(
        "3 ocorrências registradas em 24 meses a menos de 150 m (ocorrência policial: 2; "
        "acidente de trânsito: 1)."
    )
    unpaved = one(superficie_via="dirt", via_sem_pavimento=True)["motivacao_viabilidade"]
    assert unpaved.endswith("; via sem pavimento (terra) limita ao nível II.")
    # a tag that already says it is not repeated
    assert one(superficie_via="paved")["motivacao_viabilidade"].endswith("; via pavimentada.")
    # an error's date in the spreadsheet, quoted as dd/mm/aaaa
    wrong = one(situacao="erro", problemas="campo 'data_protocolo': data futura (2062-08-12)")
    assert wrong["motivacao_trafego"] == (
        "Não pontuado: pedido com erro na planilha (campo 'data_protocolo': data futura "
        "(12/08/2062))."
    )


def test_an_acts_audit_text_in_words() -> None:
    table = pd.DataFrame({"protocolo": ["PED-1", "PED-2"]})
    decisions = pd.DataFrame(
        [
            {"linha": 2, "protocolo": "PED-1", "criterio": "localizacao", "pontos": float("nan"),
             "membro": "Maria", "data": date(2026, 5, 6), "motivacao": "vistoria",
             "latitude": -22.894926, "longitude": -46.3848130},
            {"linha": 3, "protocolo": "PED-2", "criterio": "art11", "pontos": float("nan"),
             "membro": "", "data": "2026-05-06", "motivacao": "parecer 1/2026"},
        ]
    )  # fmt: skip
    out = apply_acts(table, decisions)
    assert out["decisao_localizacao"].iloc[0] == (
        "decidido por Maria em 06/05/2026, local confirmado em (-22,894926; -46,384813): vistoria"
    )
    assert out["decisao_art11"].iloc[1] == "decidido em 06/05/2026: parecer 1/2026"


def test_the_phrases_of_dates_places_and_tags() -> None:
    assert day(date(2026, 5, 6)) == "06/05/2026"
    assert day("2026-05-06") == "06/05/2026" and day(None) == ""
    assert days_in("em 2026-01-31T10:00:00+00:00 e 2026-02-01") == "em 31/01/2026 e 01/02/2026"
    assert days_in("PED-2026-0101") == "PED-2026-0101"
    assert coordinates(-22.9005, -46.385100) == "-22,9005; -46,3851"
    assert coordinates(float("nan"), 1.0) == ""
    assert surface_word("paving_stones") == "bloquete"
    assert surface_word("wood_chips") == "wood chips"
    assert road_words("secundaria") == "via secundária"
    assert road_words("arterial_norte") == "via arterial norte"
    assert occurrence_words("ocorrencia_policial: 2; nao_informado: 1; furto_qualificado: 1") == (
        "ocorrência policial: 2; tipo não informado: 1; furto qualificado: 1"
    )


def test_the_laws_words_are_the_catalogs_labels() -> None:
    """The law cannot read the layer catalog: its copies of the labels must agree."""
    catalog = load_catalog()
    assert {k: f"via {c.rotulo.lower()}" for k, c in catalog.vias.classes.items()} == ROAD_CLASSES
    kinds = {str(c.valor): c.rotulo for c in layer_style("ocorrencias").classes if c.valor}
    assert {k: OCCURRENCES[k] for k in kinds} == {k: v[:1].lower() + v[1:] for k, v in
                                                  kinds.items()}  # fmt: skip
    assert {k: v[0][:1].lower() + v[0][1:] for k, v in TIPOS.items()} == REQUEST_TYPES
    words = value_labels("vias")
    assert words["surface"] == {k: v[:1].upper() + v[1:] for k, v in SURFACES.items()}
    assert words["highway"]["secondary"] == "Via secundária" == HIGHWAYS["secondary"].capitalize()


def test_the_peoples_view_rewrites_dates_inside_sentences() -> None:
    table = pd.DataFrame(
        {
            "protocolo": ["PED-2026-0101"],
            "data_protocolo": ["2026-05-06"],
            "situacao": ["aguardando_orcamento"],
            "proveniencia": ["regras 2026.1; OSM de 2026-01-15"],
            "pontuacao_total": [59.0],
        }
    )
    view = people_view(table)
    assert view.iloc[0].to_dict() == {
        "Protocolo": "PED-2026-0101",
        "Data do protocolo": "06/05/2026",
        "Situação": "Classificado, aguardando orçamento",
        "Proveniência": "regras 2026.1; OSM de 15/01/2026",
        "Pontuação total": 59.0,
    }
