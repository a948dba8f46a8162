"""Spreadsheets for people in Brazil and flags that are not buried (issue 21, items 9 and 10).

``ranking.csv`` stays the file for scripts (UTF-8 without BOM, ``,``, decimal point, the
columns' codes); ``ranking_planilha.csv`` is the same list the way a Brazilian Excel or
LibreOffice opens it (UTF-8 with BOM, ``;``, decimal comma without thousands separator,
the Portuguese labels of the QGIS aliases). The workbook's headers are those labels.
Every list has ``alertas``: implausible declaration, approximate location, missing proof,
no road link; the technical sheet shows them in a box. The registry imports a folder of
either version.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from geo_ip.outputs import tables
from geo_ip.outputs.sheets.content import build_sheets
from geo_ip.outputs.sheets.sheets import render_html
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.tables import (
    column_codes,
    column_labels,
    read_sheet,
    write_csv,
    write_csv_br,
)
from geo_ip.outputs.views import ALERTS, public_ranking, request_alerts
from geo_ip.outputs.workbook import write_xlsx
from geo_ip.registry import exchange, folder_import, live, store
from geo_ip.registry.db import open_registry, sqlite_url
from geo_ip.rules.config import load_rules
from tests.conftest import DEMO_KEY
from tests.small_assessment import small_assessment

BOM = b"\xef\xbb\xbf"


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "protocolo": ["PED-1", "=2+3"],
            "posicao": pd.array([1, None], dtype="Int64"),
            "situacao": ["classificado", "erro"],
            "custo_estimado_rs": [147354.46, np.nan],
            "alertas": ["Declaração implausível; Localização aproximada", ""],
            "latitude": [-22.85, np.nan],
            "selecionado_orcamento": ["sim", "não"],
            "data_protocolo": pd.Series(["2026-05-06", None], dtype=object),
        }
    )


# --- the two CSVs, byte for byte ------------------------------------------------------------


def test_people_csv_is_brazilian_excel_csv(tmp_path: Path) -> None:
    path = tmp_path / "ranking_planilha.csv"
    write_csv_br(_tiny(), path)
    # the situation in the words of the map's legend (the layer catalog)
    words = {c.valor: c.rotulo for c in layer_style("pedidos").classes}
    assert words["classificado"] == "Classificado (dentro do orçamento)"
    assert (
        path.read_bytes()
        == BOM
        + (
            "Protocolo;Posição;Situação;Custo estimado (R$);Alertas;Latitude;"
            "Selecionado no orçamento;Data do protocolo\n"
            f"PED-1;1;{words['classificado']};147354,46;"
            '"Declaração implausível; Localização aproximada";-22,85;sim;06/05/2026\n'
            f"'=2+3;;{words['erro']};;;;não;\n"
        ).encode()
    )


def test_script_csv_keeps_codes_comma_and_decimal_point(tmp_path: Path) -> None:
    path = tmp_path / "ranking.csv"
    write_csv(_tiny(), path)
    assert (
        path.read_bytes()
        == (
            "protocolo,posicao,situacao,custo_estimado_rs,alertas,latitude,selecionado_orcamento,"
            "data_protocolo\n"
            "PED-1,1,classificado,147354.46,Declaração implausível; Localização aproximada,"
            "-22.85,sim,2026-05-06\n"
            "'=2+3,,erro,,,,não,\n"
        ).encode()
    )


def test_people_csv_reads_back_as_numbers_in_a_brazilian_reader(tmp_path: Path) -> None:
    path = tmp_path / "ranking_planilha.csv"
    write_csv_br(_tiny(), path)
    back = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert back["Custo estimado (R$)"].iloc[0] == 147354.46
    assert back["Latitude"].iloc[0] == -22.85
    assert column_codes(back.columns) == list(_tiny().columns)


# --- labels: the QGIS aliases, not a second table ----------------------------------------------


def test_labels_are_the_qgis_aliases_and_the_rest_only_fills_gaps() -> None:
    labels = column_labels()
    aliases = layer_style("pedidos").campos
    for code, alias in aliases.items():
        assert labels[code] == alias
    assert labels["posicao"] == "Posição" and labels["situacao"] == "Situação"
    others = set()
    for name in ("trechos_candidatos", "extensoes", "postes_propostos", "pontos_ip",
                 "ocorrencias"):  # fmt: skip
        others |= set(layer_style(name).campos)
    overlap = set(tables._MORE_LABELS) & (set(aliases) | others)
    assert overlap <= {"alertas"}  # "alertas" until the layer catalog has its alias
    if "alertas" in aliases:
        assert labels["alertas"] == aliases["alertas"]


def test_workbook_headers_are_labels(tmp_path: Path) -> None:
    path = tmp_path / "ranking.xlsx"
    write_xlsx(small_assessment(), path)
    book = load_workbook(path, read_only=True)
    headers = {sheet.title: [c.value for c in next(sheet.iter_rows(max_row=1))] for sheet in book}
    book.close()
    first = headers["Classificação"]
    assert first[:6] == [
        "Protocolo", "Posição", "Situação", "Pontuação total", "Alertas", "I Beneficiários (40)",
    ]  # fmt: skip
    share = layer_style("pedidos").campos["percentual_municipio"]
    assert share in first and share.endswith("do Município (%)")
    assert "Elegível" in first and "CPF (mascarado)" in first
    assert headers["Orçamento"] == ["Item", "Valor", "Observação"]
    assert headers["Critérios"][4:6] == ["I sugerido", "I Beneficiários (40)"]
    labels = column_labels()
    assert [labels[f"{p}_trafego"] for p in ("nivel", "motivacao", "decisao")] == [
        "III nível", "III motivação", "III decisão da Comissão",
    ]  # fmt: skip
    assert headers["Regras"] == ["Parâmetro", "Valor", "Unidade", "Fonte"]
    for name, header in headers.items():
        assert len(set(header)) == len(header), name
        assert not [h for h in header if "_" in str(h)], name  # no raw code
    # scripts read it back with the codes
    table = read_sheet(path, "Classificação", dtype=str)
    assert list(table.columns[:5]) == ["protocolo", "posicao", "situacao", "pontuacao_total",
                                       "alertas"]  # fmt: skip


# --- alertas ------------------------------------------------------------------------------


def test_alertas_of_hand_made_rows() -> None:
    rules = load_rules("demo")
    assert rules.validacao.residencias_por_edificacao_maxima.valor == 3
    assert rules.validacao.moradores_por_residencia_maximo.valor == 15
    nan = math.nan
    rows = pd.DataFrame(
        {
            # 80 > 3 × 11; 30 ≤ 33; no building mapped; 40 residents in 2 homes > 15 each
            "residencias_declaradas": [80, 30, 5, 2, nan, nan, nan, nan, 80],
            "edificacoes_trecho": [11, 11, 0, nan, nan, nan, nan, nan, 11],
            "moradores_declarados": [nan, nan, nan, 40, nan, nan, nan, nan, nan],
            "localizacao_pendente": [
                False,
                False,
                False,
                False,
                True,
                False,
                False,
                "sim",
                True,
            ],
            "situacao": [
                "classificado",
                "classificado",
                "classificado",
                "classificado",
                "pendente_localizacao",
                "erro",
                "classificado",
                "inelegivel",
                "pendente_localizacao",
            ],
            "condicao_hipossuficiencia": [
                "comprovada",
                "comprovada",
                "comprovada",
                "comprovada",
                "pendente",
                "pendente",
                "comprovada",
                "pendente",
                "pendente",
            ],
            "latitude": [-22.8, -22.8, -22.8, -22.8, -22.8, nan, -22.8, -22.8, -22.8],
            "longitude": [-46.3, -46.3, -46.3, -46.3, -46.3, nan, -46.3, -46.3, -46.3],
            "fora_da_malha": pd.array(
                [False, False, False, False, False, None, True, False, True], dtype="boolean"
            ),
            "aresta_u": pd.array([1, 1, 1, 1, 1, None, 1, None, 1], dtype="Int64"),
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17, 18],
    )
    alerts = request_alerts(rows, rules)
    assert list(alerts.index) == list(rows.index)
    assert alerts.tolist() == [
        "Declaração implausível",
        "",
        "",
        "Declaração implausível",
        "Localização aproximada; Comprovação pendente",
        "",  # an error: not located, its proof not what holds it up
        "Sem ligação com as vias",
        "Localização aproximada; Sem ligação com as vias",  # ineligible: proof not asked
        "Declaração implausível; Localização aproximada; Comprovação pendente; "
        "Sem ligação com as vias",
    ]  # fmt: skip
    assert list(ALERTS.values()) == [
        "Declaração implausível", "Localização aproximada", "Comprovação pendente",
        "Sem ligação com as vias",
    ]  # fmt: skip


def test_absent_columns_never_flag() -> None:
    alerts = request_alerts(pd.DataFrame({"protocolo": ["A", "B"]}), load_rules("demo"))
    assert alerts.tolist() == ["", ""]


def test_public_ranking_has_alertas_beside_the_total() -> None:
    ranking = public_ranking(small_assessment())
    assert list(ranking.columns[3:5]) == ["pontuacao_total", "alertas"]
    flagged = ranking.set_index("protocolo")["alertas"]
    assert flagged.to_dict() == {
        "PED-1": "", "PED-2": "", "PED-4": "", "PED-5": "", "PED-8": "Comprovação pendente",
        "PED-3": "Comprovação pendente", "PED-6": "", "PED-7": "",
    }  # fmt: skip


def test_sheet_shows_the_alerts_in_a_box() -> None:
    sheets = {s.protocolo: s for s in build_sheets(small_assessment())}
    text = "Alertas: Comprovação pendente — falta comprovar a hipossuficiência (Art. 4 §2)."
    assert sheets["PED-8"].alertas_texto == text
    assert sheets["PED-1"].alertas == [] and sheets["PED-1"].alertas_texto == ""
    page = render_html(sheets["PED-8"])
    assert page.count('class="aviso alertas"') == 1
    assert (
        '<p class="aviso alertas"><strong>Alertas:</strong> <strong>Comprovação pendente'
        "</strong> — falta comprovar a hipossuficiência (Art. 4 §2).</p>"
    ) in page
    assert page.index("</header>") < page.index('class="aviso alertas"')
    assert 'class="aviso alertas"' not in render_html(sheets["PED-1"])


# --- the demo: every list has the same flags ---------------------------------------------


@pytest.fixture(scope="module")
def folder(demo_outputs: list[Path]) -> Path:
    return demo_outputs[0].parent


def test_demo_top_request_is_flagged_everywhere(folder: Path) -> None:
    ranking = pd.read_csv(folder / "ranking.csv", dtype=str, keep_default_na=False)
    flagged = ranking[ranking["alertas"] != ""].set_index("protocolo")["alertas"].to_dict()
    # hand-checked in the demo's evidence: PED-2026-0136, 3rd, declares 5 residences where
    # 1 building is mapped (more than 3 per building); 0134 is far from every road
    assert flagged == {
        "PED-2026-0136": "Declaração implausível",
        "PED-2026-0134": "Sem ligação com as vias",
        "PED-2026-0130": "Localização aproximada",
        "PED-2026-0140": "Declaração implausível; Comprovação pendente",
        "PED-2026-0138": "Comprovação pendente",
    }
    top = ranking.set_index("protocolo").loc["PED-2026-0136"]
    assert top["posicao"] == "3"
    people = pd.read_csv(
        folder / "ranking_planilha.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype=str,
        keep_default_na=False,
    )  # fmt: skip
    assert (folder / "ranking_planilha.csv").read_bytes().startswith(BOM)
    assert people["Alertas"].tolist() == ranking["alertas"].tolist()
    assert people["Protocolo"].tolist() == ranking["protocolo"].tolist()
    costs = pd.to_numeric(people["Custo estimado (R$)"].str.replace(",", "."))
    assert costs.tolist() == pytest.approx(pd.to_numeric(ranking["custo_estimado_rs"]).tolist(),
                                           nan_ok=True)  # fmt: skip
    layer = pyogrio.read_dataframe(folder / "avaliacao.gpkg", layer="pedidos")
    assert layer["alertas"].fillna("").tolist() == ranking["alertas"].tolist()
    internal = read_sheet(folder / "ranking.xlsx", "Classificação", dtype=str)
    assert internal["alertas"].fillna("").tolist() == ranking["alertas"].tolist()
    stem = "PED-2026-0136"
    page = (folder / "fichas" / f"{stem}.html").read_text(encoding="utf-8")
    assert "<strong>Declaração implausível</strong> — mais de 3 residências declaradas" in page
    pdf = " ".join(
        (p.extract_text() or "") for p in PdfReader(folder / "fichas" / f"{stem}.pdf").pages
    )
    assert "Alertas:" in pdf and "Declaração implausível" in pdf


# --- the registry imports a folder of either version -----------------------------------------


def _old_version(new: Path, old: Path) -> Path:
    """The folder as the version before issue 21 wrote it: codes, no alertas, no planilha."""
    shutil.copytree(new, old, ignore=shutil.ignore_patterns("mapas", "fichas", "*.html"))
    (old / "ranking_planilha.csv").unlink()
    ranking = pd.read_csv(old / "ranking.csv", dtype=str, keep_default_na=False)
    (old / "ranking.csv").write_text(
        ranking.drop(columns="alertas").to_csv(index=False), encoding="utf-8"
    )
    book = load_workbook(old / "ranking.xlsx")
    for sheet in book:
        row = next(sheet.iter_rows(max_row=1))
        for cell, code in zip(row, column_codes([c.value for c in row]), strict=True):
            cell.value = code
    book.save(old / "ranking.xlsx")
    return old


def _imported_ranking(folder: Path, database: Path) -> list[tuple[Any, ...]]:
    url = sqlite_url(database)
    registry = open_registry(url)
    try:
        exchange.import_folder(
            registry, folder, cycle="demo", actor="sistema:teste", rules=load_rules("demo")
        )
        with registry.session() as session:
            cycle = store.find_cycle(session, "demo")
            rules = live.rules_of(session, cycle)
            table = live.live_ranking(session, cycle, rules=rules, key=DEMO_KEY).table
        return [
            (str(p), str(s)) for p, s in zip(table["protocolo"], table["situacao"], strict=True)
        ]
    finally:
        registry.dispose()


def test_registry_imports_new_and_old_folders_alike(folder: Path, tmp_path: Path) -> None:
    old = _old_version(folder, tmp_path / "antiga")
    assert not (old / "ranking_planilha.csv").exists()
    book = load_workbook(old / "ranking.xlsx", read_only=True)
    first = book["Classificação"]
    assert [c.value for c in next(first.iter_rows(max_row=1))][:2] == ["protocolo", "posicao"]
    book.close()  # read-only: the file stays open until closed
    new_table, _ = folder_import._folder_table(folder)
    old_table, _ = folder_import._folder_table(old)
    pd.testing.assert_frame_equal(new_table, old_table)
    # eligibility comes from the workbook, in labels and in codes: the situation says
    # nothing of it here, yet the ineligible requests are found
    lines = new_table["linha"].astype("Int64")
    none = pd.Series(["classificado"] * len(lines))
    expected = new_table["situacao"].astype(str).ne("inelegivel").tolist()
    assert not all(expected)
    assert folder_import._eligible(folder, lines, none).tolist() == expected
    assert folder_import._eligible(old, lines, none).tolist() == expected
    assert _imported_ranking(folder, tmp_path / "nova.sqlite") == _imported_ranking(
        old, tmp_path / "antiga.sqlite"
    )
