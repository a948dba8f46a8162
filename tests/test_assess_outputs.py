"""The assessment's tables and terminal summary for every situation (issue 16).

On the hand-built assessment of :mod:`tests.small_assessment` (eight requests, one of
every situation, a budget of R$ 10.000,00): the public list shows hardship only as its
condition, the commission's workbook shows how it was proven and the budget walk, the
lists keep the order of the situations, and the terminal prints the reservations.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from geo_ip.cli.assess import budget_lines, summary_table
from geo_ip.outputs.tables import evidence_records, read_sheet, read_workbook, write_csv
from geo_ip.outputs.views import public_ranking
from geo_ip.outputs.workbook import write_xlsx
from geo_ip.requests.redaction import scan_for_personal_data
from tests.small_assessment import MISSING_PROOF, NAMES, PROCEDURE, small_assessment

ORDER = ["PED-1", "PED-2", "PED-4", "PED-5", "PED-8", "PED-3", "PED-6", "PED-7"]
"""Ranked (1st, 2nd), Art. 12, Art. 11, pending (90 then 70 points), ineligible, error."""


@pytest.fixture(scope="module")
def csv_rows(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("ranking") / "ranking.csv"
    write_csv(public_ranking(small_assessment()), path)
    return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("protocolo")


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    path = tmp_path_factory.mktemp("ranking") / "ranking.xlsx"
    write_xlsx(small_assessment(), path)
    # the header in labels since issue 21: read back as the columns' codes
    return read_workbook(path, dtype=str, keep_default_na=False)


def test_lists_keep_the_order_of_the_situations() -> None:
    ranking = public_ranking(small_assessment())
    assert ranking["protocolo"].tolist() == ORDER
    assert ranking["situacao"].tolist() == [
        "classificado", "aguardando_orcamento", "execucao_direta_art12", "estrategico_art11",
        "pendente_comprovacao", "pendente_comprovacao", "inelegivel", "erro",
    ]  # fmt: skip


def test_public_ranking_shows_the_condition_never_how_hardship_was_proven(
    csv_rows: pd.DataFrame,
) -> None:
    columns = set(csv_rows.columns)
    assert {"condicao_hipossuficiencia", "indicio_art12"} <= columns
    for internal in ("hipossuficiencia", "hipossuficiencia_comprovacao",
                     "decisao_hipossuficiencia", "cadunico", "cpf_hash", "cpf_solicitante",
                     "nome_solicitante", "renda_familiar", "motivos_inelegibilidade",
                     "avisos_elegibilidade"):  # fmt: skip
        assert internal not in columns, internal
    condition = csv_rows["condicao_hipossuficiencia"].to_dict()
    assert condition == {
        "PED-1": "comprovada", "PED-2": "comprovada", "PED-4": "comprovada",
        "PED-5": "comprovada", "PED-8": "pendente", "PED-3": "pendente",
        "PED-6": "não comprovada", "PED-7": "pendente",
    }  # fmt: skip
    # booleans as the other ones of the list
    assert csv_rows["indicio_art12"].to_dict() == {
        "PED-1": "não", "PED-2": "sim", "PED-4": "sim", "PED-5": "não", "PED-8": "não",
        "PED-3": "não", "PED-6": "não", "PED-7": "não",
    }  # fmt: skip
    assert csv_rows.loc["PED-1", "selecionado_orcamento"] == "sim"
    # the pending request: its points and would-be place, no share, out of the budget
    pending = csv_rows.loc["PED-3"]
    assert (pending["posicao"], pending["pontuacao_total"]) == ("", "70.0")
    assert (pending["percentual_municipio"], pending["custo_municipio_rs"]) == ("", "")
    assert pending["selecionado_orcamento"] == "não"
    assert "com 70 pontos, ficaria em 2º na classificação" in pending["motivos"]
    # the ineligible one: the articles only, not the income above the limit
    assert csv_rows.loc["PED-6", "motivos"] == (
        "Inelegível ao custeio municipal (Art. 4, caput; Art. 2, IV)."
    )
    text = csv_rows.to_csv()
    assert "renda declarada" not in text and "inscrito no CadÚnico" not in text
    assert "Inscrição no CadÚnico (Art. 4 §2, I)" not in text
    assert scan_for_personal_data(text, ["123.456.789-09"], NAMES) == []


def test_public_ranking_has_the_reservations_of_art_11_and_12(csv_rows: pd.DataFrame) -> None:
    art12, art11 = csv_rows.loc["PED-4"], csv_rows.loc["PED-5"]
    assert (art12["percentual_municipio"], art12["custo_municipio_rs"]) == ("100.0", "3000.0")
    assert (art11["percentual_municipio"], art11["custo_municipio_rs"]) == ("100.0", "2000.0")
    assert art12["selecionado_orcamento"] == art11["selecionado_orcamento"] == "sim"
    assert f"procedimento administrativo {PROCEDURE}" in art12["motivos"]
    assert "1ª reserva no orçamento" in art12["motivos"]
    assert "saldo restante R$ 7.000,00" in art12["motivos"]
    assert "2ª reserva no orçamento" in art11["motivos"]


def test_internal_workbook_says_how_hardship_was_proven(
    workbook: dict[str, pd.DataFrame],
) -> None:
    assert list(workbook)[:3] == ["Classificação", "Orçamento", "Critérios"]
    main = workbook["Classificação"].set_index("protocolo")
    assert main.index.tolist() == ORDER
    assert main["hipossuficiencia"].to_dict() == {
        "PED-1": "cadunico", "PED-2": "declaracao", "PED-4": "cadunico",
        "PED-5": "declaracao", "PED-8": "sem_comprovacao", "PED-3": "sem_comprovacao",
        "PED-6": "acima_do_limite", "PED-7": "sem_comprovacao",
    }  # fmt: skip
    labels = main["hipossuficiencia_comprovacao"]
    assert labels["PED-1"] == "Inscrição no CadÚnico (Art. 4 §2, I)"
    assert labels["PED-2"] == "Declaração de renda dentro do limite (Art. 4 §2, II)"
    assert labels["PED-6"] == "Renda acima do limite (Art. 2, IV)"
    assert labels["PED-3"] == "Sem comprovação"
    assert main.loc["PED-3", "pendencia_hipossuficiencia"] == MISSING_PROOF
    for column in ("decisao_hipossuficiencia", "indicio_art12", "motivo_art12",
                   "decisao_art11", "decisao_art12", "procedimento_art12", "ordem_ato",
                   "condicao_hipossuficiencia"):  # fmt: skip
        assert column in main.columns, column
    assert main.loc["PED-4", "procedimento_art12"] == PROCEDURE
    assert (main.loc["PED-4", "ordem_ato"], main.loc["PED-5", "ordem_ato"]) == ("1", "2")
    assert main.loc["PED-5", "decisao_art11"].startswith("decidido por Comissão")
    assert main.loc["PED-2", "indicio_art12"] == "sim"
    assert main.loc["PED-2", "motivo_art12"].startswith("Indício de via rural de alto fluxo")
    assert main["cpf_solicitante"].eq("***.456.789-**").all()
    criteria = workbook["Critérios"]
    assert {"indicio_art12", "motivo_art12", "sinais_art12"} <= set(criteria.columns)
    assert "candidato_art12" not in criteria.columns
    text = "\n".join(sheet.to_csv() for sheet in workbook.values())
    assert scan_for_personal_data(text, ["123.456.789-09"], NAMES) == []
    assert "1234.56" not in text and "1.234,56" not in text


def test_internal_workbook_has_the_budget_walk(workbook: dict[str, pd.DataFrame]) -> None:
    budget = workbook["Orçamento"]
    rows = dict(zip(budget["item"], budget["valor"], strict=True))
    assert rows["Orçamento informado para a parte do Município (R$)"] == "10000"
    assert rows["Reservado para as obras dos Arts. 11 e 12 (R$)"] == "5000"
    assert rows["Obras dos Arts. 11 e 12 reservadas"] == "2"
    assert rows["Obras dos Arts. 11 e 12 que não couberam no saldo"] == "0"
    assert rows["Saldo para a classificação por pontuação (R$)"] == "5000"
    assert rows["Pedidos classificados selecionados"] == "1"
    assert rows["Parte do Município nos classificados selecionados (R$)"] == "4000"
    assert rows["Saldo final (R$)"] == "1000"
    assert rows["Pedidos pendentes de comprovação da hipossuficiência"] == "2"
    reservations = budget[budget["item"].str.startswith("Reserva ")]
    assert reservations["item"].tolist() == [
        f"Reserva 1: PED-4 (Art. 12, execução direta, procedimento administrativo {PROCEDURE})",
        "Reserva 2: PED-5 (Art. 11, estratégico)",
    ]
    assert reservations["valor"].tolist() == ["3000", "2000"]
    assert reservations["observacao"].tolist() == ["reservado", "reservado"]


def test_evidence_records_have_the_public_hardship_and_the_acts() -> None:
    records = {r["protocolo"]: r for r in evidence_records(small_assessment())}
    pending = records["PED-3"]["participacao"]
    assert pending["condicao_hipossuficiencia"] == "pendente"
    assert pending["pendencia_hipossuficiencia"] == MISSING_PROOF
    assert pending["percentual_municipio"] is None and pending["selecionado_orcamento"] is False
    art12 = records["PED-4"]
    assert art12["art12"]["art12_decidido"] is True
    assert art12["art12"]["procedimento_art12"] == PROCEDURE
    assert art12["participacao"]["ordem_ato"] == 1
    assert records["PED-5"]["art11"]["art11_decidido"] is True
    assert records["PED-2"]["art12"]["indicio_art12"] is True
    assert records["PED-2"]["art12"]["sinais_art12"] == "acesso"
    text = json.dumps(list(records.values()), ensure_ascii=False, default=str)
    assert '"hipossuficiencia"' not in text and "decisao_hipossuficiencia" not in text
    assert "cadunico" not in text and "candidato_art12" not in text


def test_terminal_prints_the_reservations_and_the_balance() -> None:
    assessment = small_assessment()
    assert budget_lines(assessment) == (
        "Orçamento: R$ 10.000,00; reservado para obras dos Arts. 11 e 12: R$ 5.000,00 "
        "(2 obra(s)); saldo para a classificação: R$ 5.000,00; selecionados: 1, R$ 4.000,00; "
        "saldo final: R$ 1.000,00\n"
        "Pendentes de comprovação da hipossuficiência: 2 pedido(s) (pontuados, sem "
        "participação do Município até a comprovação, Art. 4 §2)"
    )
    console = Console(record=True, width=200)
    console.print(summary_table(assessment))
    console.print(budget_lines(assessment), highlight=False, soft_wrap=True)
    text = console.export_text()
    labels = ("classificado", "aguardando orçamento", "execução direta (Art. 12)",
              "estratégico (Art. 11)", "pendente de comprovação", "inelegível", "erro")  # fmt: skip
    for label in labels:
        assert label in text, label
    assert "Orçamento: R$ 10.000,00; reservado para obras dos Arts. 11 e 12" in text
    assert "candidato_art12" not in text and "pendente_comprovacao" not in text


def test_terminal_without_a_budget_and_with_a_work_that_does_not_fit() -> None:
    unlimited = budget_lines(small_assessment(None)).splitlines()[0]
    assert unlimited == (
        "Orçamento: sem limite de orçamento; reservado para obras dos Arts. 11 e 12: "
        "R$ 5.000,00 (2 obra(s)); selecionados: 2, R$ 7.000,00"
    )
    # R$ 4.000,00: PED-4 (3.000) is reserved, PED-5 (2.000) no longer fits the 1.000 left
    short = budget_lines(small_assessment(4_000.0)).splitlines()[0]
    assert short == (
        "Orçamento: R$ 4.000,00; reservado para obras dos Arts. 11 e 12: R$ 3.000,00 "
        "(1 obra(s)); 1 obra(s) dos Arts. 11 e 12 sem saldo, não reservada(s); saldo para a "
        "classificação: R$ 1.000,00; selecionados: 0, R$ 0,00; saldo final: R$ 1.000,00"
    )


def test_budget_sheet_names_a_work_that_does_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "ranking.xlsx"
    write_xlsx(small_assessment(4_000.0), path)
    budget = read_sheet(path, "Orçamento", dtype=str, keep_default_na=False)
    reservations = budget[budget["item"].str.startswith("Reserva ")]
    assert reservations["observacao"].tolist() == [
        "reservado",
        "não coube no saldo: não reservado",
    ]
