"""Ranking, tie-break, cost share and budget selection (geo_ip.law.ranking) on small tables."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_ip.errors import GeoIPError
from geo_ip.law.budget import budget_summary
from geo_ip.law.ranking import RANKING_COLUMNS, BudgetError, rank
from geo_ip.rules.config import Rules, load_rules, rules_path
from geo_ip.rules.law_locks import CRITERIA

RULES = load_rules("extrema")
NAN = math.nan


def request(protocolo: str, **changes: Any) -> dict[str, Any]:
    """A ranked-able request row: 50 points, 10 residents, R$ 1.000 of cost."""
    row: dict[str, Any] = {
        "protocolo": protocolo,
        "data_protocolo": date(2026, 5, 10),
        "pont_beneficiarios": 20.0,
        "pont_seguranca": 10.0,
        "pont_trafego": 10.0,
        "pont_custo_beneficio": 5.0,
        "pont_viabilidade": 5.0,
        "pontuacao_total": 50.0,
        "moradores_estimados": 10.0,
        "custo_estimado_rs": 1000.0,
        "custo_por_beneficiario_rs": 100.0,
        "erro": False,
        "elegivel": True,
        "art11_decidido": False,
        "art12_decidido": False,
    }
    row.update(changes)
    return row


def table(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def order(out: pd.DataFrame) -> list[str]:
    """Protocols of the ranked rows by position."""
    ranked = out[out["posicao"].notna()].sort_values("posicao")
    return list(ranked["protocolo"])


def edited_rules(tmp_path: Path, old: str, new: str) -> Rules:
    text = rules_path("extrema").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "regras.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_rules(path)


def by_protocol(out: pd.DataFrame, protocolo: str) -> pd.Series:
    return out.set_index("protocolo").loc[protocolo]


# ---------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------
def test_columns_index_and_input_untouched() -> None:
    frame = table(request("B"), request("A", pontuacao_total=60.0))
    frame.index = [10, 20]
    before = frame.copy()
    out = rank(frame, RULES, None)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == [10, 20]
    assert list(out.columns) == [*frame.columns, *RANKING_COLUMNS]
    assert list(out["posicao"]) == [2, 1]
    assert out["posicao"].dtype == "Int64"
    assert out["selecionado_orcamento"].dtype == bool


def test_empty_table() -> None:
    empty = table(request("A")).iloc[0:0]
    out = rank(empty, RULES, 1000.0)
    assert len(out) == 0
    assert set(RANKING_COLUMNS) <= set(out.columns)


def test_missing_column_is_named() -> None:
    frame = table(request("A")).drop(columns="moradores_estimados")
    with pytest.raises(GeoIPError, match="moradores_estimados"):
        rank(frame, RULES, None)


# ---------------------------------------------------------------------------
# Order and tie-break (Art. 13, Art. 10 §1)
# ---------------------------------------------------------------------------
def test_decreasing_total_decides_first() -> None:
    out = rank(
        table(
            request("A", pontuacao_total=40.0, moradores_estimados=99.0),
            request("B", pontuacao_total=70.0),
            request("C", pontuacao_total=55.5),
        ),
        RULES,
        None,
    )
    assert order(out) == ["B", "C", "A"]
    assert by_protocol(out, "B")["motivo_situacao"].startswith(
        "1º na classificação por pontuação (Art. 13), com 70 pontos"
    )


def test_tie_by_number_of_beneficiaries_not_points() -> None:
    # B has more points in criterion I but fewer residents: the law says "número".
    a = request("B", moradores_estimados=12.0, pont_beneficiarios=15.0, pont_trafego=15.0)
    b = request("A", moradores_estimados=20.5, pont_beneficiarios=10.0, pont_trafego=20.0)
    out = rank(table(a, b), RULES, None)
    assert order(out) == ["A", "B"]
    assert (
        "empatado com o protocolo A, que fica à frente por maior número de beneficiários "
        in (by_protocol(out, "B")["motivo_situacao"])
    )
    assert (
        "(20,5 contra 12 moradores estimados) (Art. 10 §1)"
        in by_protocol(out, "B")["motivo_situacao"]
    )


def test_tie_by_safety_points() -> None:
    a = request("A", pont_seguranca=10.0, pont_trafego=10.0)
    b = request("B", pont_seguranca=15.0, pont_trafego=5.0)
    out = rank(table(a, b), RULES, None)
    assert order(out) == ["B", "A"]
    assert "maior pontuação em segurança (15 contra 10)" in by_protocol(out, "A")["motivo_situacao"]


def test_tie_by_cost_per_beneficiary_lower_first_unknown_last() -> None:
    rows = (
        request("A", custo_por_beneficiario_rs=800.0),
        request("B", custo_por_beneficiario_rs=NAN),
        request("C", custo_por_beneficiario_rs=500.0),
    )
    out = rank(table(*rows), RULES, None)
    assert order(out) == ["C", "A", "B"]
    assert (
        "melhor relação de custo-benefício (R$ 500,00 contra R$ 800,00 por beneficiário)"
        in (by_protocol(out, "A")["motivo_situacao"])
    )


def test_tie_by_protocol_age_unknown_date_last() -> None:
    rows = (
        request("A", data_protocolo=date(2026, 3, 1)),
        request("B", data_protocolo=None),
        request("C", data_protocolo=date(2026, 1, 15)),
    )
    out = rank(table(*rows), RULES, None)
    assert order(out) == ["C", "A", "B"]
    assert (
        "protocolo mais antigo (15/01/2026 contra 01/03/2026)"
        in by_protocol(out, "A")["motivo_situacao"]
    )
    assert (
        "protocolo mais antigo (01/03/2026 contra sem data)"
        in by_protocol(out, "B")["motivo_situacao"]
    )


def test_full_tie_falls_back_to_protocol_number() -> None:
    out = rank(table(request("2026-0010"), request("2026-0002")), RULES, None)
    assert order(out) == ["2026-0002", "2026-0010"]
    assert "fica atrás pelo número do protocolo" in by_protocol(out, "2026-0010")["motivo_situacao"]


def test_tie_break_keys_in_the_order_of_the_rules() -> None:
    # The law fixes the order (the rules file is refused otherwise, see test_config); the
    # ranking code still follows rules.desempate.ordem, checked here on an unvalidated copy.
    tie = RULES.desempate.model_copy(update={"ordem": ("antiguidade_protocolo", "beneficiarios")})
    rules = RULES.model_copy(update={"desempate": tie})
    old_few = request("A", data_protocolo=date(2025, 1, 1), moradores_estimados=3.0)
    new_many = request("B", data_protocolo=date(2026, 1, 1), moradores_estimados=30.0)
    assert order(rank(table(old_few, new_many), RULES, None)) == ["B", "A"]
    assert order(rank(table(old_few, new_many), rules, None)) == ["A", "B"]


def test_float_noise_in_totals_is_a_tie() -> None:
    a = request("A", pontuacao_total=0.1 + 0.2, moradores_estimados=5.0)
    b = request("B", pontuacao_total=0.3, moradores_estimados=6.0)
    assert order(rank(table(a, b), RULES, None)) == ["B", "A"]


def test_unknown_total_ranks_last() -> None:
    out = rank(
        table(request("A", pontuacao_total=NAN), request("B", pontuacao_total=0.0)), RULES, None
    )
    assert order(out) == ["B", "A"]
    assert math.isnan(by_protocol(out, "A")["percentual_municipio"])


# ---------------------------------------------------------------------------
# Cost share (Art. 4 §1)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("total", "share"), [(59.9, 50), (60, 80), (79.9, 80), (80, 100)])
def test_cost_share_bands(total: float, share: float) -> None:
    bands = {band.pontuacao_minima: band.percentual for band in RULES.participacao.faixas}
    assert bands == {80: 100, 60: 80, 0: 50}
    out = rank(table(request("A", pontuacao_total=total, custo_estimado_rs=20000.0)), RULES, None)
    row = out.iloc[0]
    assert row["percentual_municipio"] == share == RULES.participacao.share_for(total)
    assert row["custo_municipio_rs"] == pytest.approx(20000.0 * share / 100)


# ---------------------------------------------------------------------------
# Budget (Art. 13)
# ---------------------------------------------------------------------------
def test_no_budget_selects_every_ranked_request() -> None:
    out = rank(table(request("A"), request("B", custo_estimado_rs=NAN)), RULES, None)
    assert list(out["selecionado_orcamento"]) == [True, True]
    assert list(out["situacao"]) == ["classificado", "classificado"]
    assert "sem limite de orçamento informado" in out.iloc[0]["motivo_situacao"]


def test_budget_fits_exactly_then_does_not_fit() -> None:
    # 50 points → 50 % of R$ 1.000 = R$ 500 each.
    rows = (request("A", pontuacao_total=51.0), request("B"))
    out = rank(table(*rows), RULES, 500.0)
    a, b = by_protocol(out, "A"), by_protocol(out, "B")
    assert (a["situacao"], a["selecionado_orcamento"]) == ("classificado", True)
    assert a["motivo_situacao"].endswith(
        "selecionado no orçamento: custo municipal R$ 500,00, saldo restante R$ 0,00."
    )
    assert (b["situacao"], b["selecionado_orcamento"]) == ("aguardando_orcamento", False)
    assert b["posicao"] == 2
    assert b["motivo_situacao"].endswith(
        "aguarda orçamento: custo municipal R$ 500,00 excede o saldo de R$ 0,00."
    )


def test_budget_skip_and_continue() -> None:
    rows = (
        request("A", pontuacao_total=90.0, custo_estimado_rs=10000.0),  # 100 % → R$ 10.000
        request("B", pontuacao_total=70.0, custo_estimado_rs=5000.0),  # 80 % → R$ 4.000
        request("C", pontuacao_total=40.0, custo_estimado_rs=3000.0),  # 50 % → R$ 1.500
        request("D", pontuacao_total=30.0, custo_estimado_rs=2000.0),  # 50 % → R$ 1.000
    )
    out = rank(table(*rows), RULES, 5600.0)
    assert not RULES.orcamento.estrito
    assert list(out["situacao"]) == [
        "aguardando_orcamento",
        "classificado",
        "classificado",
        "aguardando_orcamento",
    ]
    assert list(out["custo_municipio_rs"]) == [10000.0, 4000.0, 1500.0, 1000.0]
    assert "saldo restante R$ 100,00" in by_protocol(out, "C")["motivo_situacao"]


def test_strict_budget_stops_at_the_first_that_does_not_fit(tmp_path: Path) -> None:
    rules = edited_rules(tmp_path, "\nestrito = false\n", "\nestrito = true\n")
    assert rules.orcamento.estrito
    rows = (
        request("A", pontuacao_total=70.0, custo_estimado_rs=5000.0),  # R$ 4.000
        request("B", pontuacao_total=60.0, custo_estimado_rs=10000.0),  # R$ 8.000
        request("C", pontuacao_total=40.0, custo_estimado_rs=100.0),  # R$ 50
    )
    out = rank(table(*rows), rules, 5000.0)
    assert list(out["situacao"]) == ["classificado", "aguardando_orcamento", "aguardando_orcamento"]
    assert (
        "seleção interrompida no protocolo B (orçamento estrito, Art. 13)"
        in (by_protocol(out, "C")["motivo_situacao"])
    )
    relaxed = rank(table(*rows), RULES, 5000.0)
    assert list(relaxed["situacao"]) == ["classificado", "aguardando_orcamento", "classificado"]


def test_unknown_cost_waits_and_the_next_are_considered(tmp_path: Path) -> None:
    rows = (request("A", pontuacao_total=60.0, custo_estimado_rs=NAN), request("B"))
    out = rank(table(*rows), RULES, 1000.0)
    a = by_protocol(out, "A")
    assert a["situacao"] == "aguardando_orcamento"
    assert "custo municipal desconhecido" in a["motivo_situacao"]
    assert math.isnan(a["custo_municipio_rs"])
    assert a["percentual_municipio"] == 80
    assert by_protocol(out, "B")["situacao"] == "classificado"
    strict = edited_rules(tmp_path, "\nestrito = false\n", "\nestrito = true\n")
    stopped = rank(table(*rows), strict, 1000.0)
    assert by_protocol(stopped, "B")["situacao"] == "aguardando_orcamento"


def test_zero_budget_selects_only_free_works() -> None:
    rows = (request("A"), request("B", custo_estimado_rs=0.0))
    out = rank(table(*rows), RULES, 0.0)
    assert by_protocol(out, "A")["situacao"] == "aguardando_orcamento"
    assert by_protocol(out, "B")["situacao"] == "classificado"


@pytest.mark.parametrize("budget", [-0.01, -1000.0, NAN])
def test_negative_or_invalid_budget_is_refused(budget: float) -> None:
    with pytest.raises(BudgetError, match=r"orçamento (negativo|inválido)") as caught:
        rank(table(request("A")), RULES, budget)
    assert isinstance(caught.value, GeoIPError)
    assert not isinstance(caught.value, ValueError)


# ---------------------------------------------------------------------------
# Situation precedence
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flags", "situation"),
    [
        ({"erro": True, "elegivel": False, "art12_decidido": True}, "erro"),
        ({"elegivel": False, "art11_decidido": True}, "inelegivel"),
        ({"hipossuficiencia": "sem_comprovacao", "art11_decidido": True}, "pendente_comprovacao"),
        ({"elegivel": pd.NA}, "inelegivel"),
        ({"erro": None}, "classificado"),
        # an uncertain place: after erro, before the works reserved in the budget and the
        # pending proof of hardship; an ineligible request stays ineligible
        ({"erro": True, "localizacao_pendente": True}, "erro"),
        ({"localizacao_pendente": True, "art12_decidido": True}, "pendente_localizacao"),
        ({"localizacao_pendente": True, "art11_decidido": True}, "pendente_localizacao"),
        (
            {"localizacao_pendente": True, "hipossuficiencia": "sem_comprovacao"},
            "pendente_localizacao",
        ),
        ({"localizacao_pendente": True, "elegivel": False}, "inelegivel"),
        (
            {"localizacao_pendente": True, "elegivel": False, "art12_decidido": True},
            "pendente_localizacao",
        ),
        ({"localizacao_pendente": pd.NA}, "classificado"),
    ],
)
def test_situation_precedence(flags: dict[str, Any], situation: str) -> None:
    out = rank(table(request("A", **flags), request("Z")), RULES, None)
    a = by_protocol(out, "A")
    assert a["situacao"] == situation
    if situation == "classificado":
        assert a["posicao"] == 1
        return
    assert pd.isna(a["posicao"])
    assert not a["selecionado_orcamento"]
    assert by_protocol(out, "Z")["posicao"] == 1
    # excluded and pending requests have no municipal share
    assert math.isnan(a["percentual_municipio"])
    assert math.isnan(a["custo_municipio_rs"])


def test_art12_is_the_executives_act_and_comes_before_eligibility() -> None:
    out = rank(table(request("A", elegivel=False, art12_decidido=True)), RULES, None)
    assert by_protocol(out, "A")["situacao"] == "execucao_direta_art12"


def test_apart_rows_quote_their_reasons() -> None:
    rows = (
        request("E", erro=True, problemas="não localizado: endereço não encontrado"),
        request("I", elegivel=False, motivos_inelegibilidade="Art. 5, I: imóvel comercial"),
    )
    out = rank(table(*rows), RULES, 100.0).set_index("protocolo")["motivo_situacao"]
    # the problems stay in their own column (not repeated in the reason)
    assert out["E"] == "Pedido com erro, não classificado (ver problemas)."
    assert out["I"] == "Inelegível ao custeio municipal: Art. 5, I: imóvel comercial."


# ---------------------------------------------------------------------------
# Hardship pending proof (Art. 4, caput and §2)
# ---------------------------------------------------------------------------
def test_pending_request_is_scored_placed_but_never_funded() -> None:
    rows = (
        request("A", pontuacao_total=70.0),
        request("P", pontuacao_total=90.0, hipossuficiencia="sem_comprovacao"),
        request("B", pontuacao_total=60.0),
        request("Q", pontuacao_total=65.0, hipossuficiencia="sem_comprovacao"),
    )
    out = rank(table(*rows), RULES, 1e9)
    assert order(out) == ["A", "B"]
    p = by_protocol(out, "P")
    assert p["situacao"] == "pendente_comprovacao"
    assert pd.isna(p["posicao"]) and not p["selecionado_orcamento"]
    assert math.isnan(p["percentual_municipio"]) and math.isnan(p["custo_municipio_rs"])
    assert p["motivo_situacao"] == (
        "Pendente de comprovação da hipossuficiência (Art. 4, caput e §2): com 90 pontos, "
        "ficaria em 1º na classificação; sem participação do Município e fora do orçamento até "
        "a comprovação (CadÚnico, declaração de renda ou documentos aceitos pela Comissão)."
    )
    # Q (65) would come after A (70) and before B (60): 2nd
    assert "ficaria em 2º na classificação" in by_protocol(out, "Q")["motivo_situacao"]
    # proven statuses and a missing column rank normally
    for status in ("cadunico", "declaracao", "aceita_comissao", "nao_exigida"):
        one = rank(table(request("A", hipossuficiencia=status)), RULES, None)
        assert one["situacao"].tolist() == ["classificado"]


# ---------------------------------------------------------------------------
# Place too uncertain (issue 18): scored, placed, never funded until confirmed
# ---------------------------------------------------------------------------
def test_request_pending_location_is_placed_but_never_funded() -> None:
    rows = (
        request("A", pontuacao_total=70.0),
        request("L", pontuacao_total=90.0, localizacao_pendente=True, incerteza_m=349.6),
        request("B", pontuacao_total=60.0),
        request("H", pontuacao_total=65.0, localizacao_pendente=True, incerteza_m=120.0,
                hipossuficiencia="sem_comprovacao"),
        request("X", pontuacao_total=95.0, localizacao_pendente=True, incerteza_m=500.0,
                art12_decidido=True, ordem_ato=1),
        request("C", pontuacao_total=80.0, localizacao_pendente=False, incerteza_m=60.0),
    )  # fmt: skip
    out = rank(table(*rows), RULES, 1e9)
    assert order(out) == ["C", "A", "B"]
    assert out["selecionado_orcamento"].tolist() == [True, False, True, False, False, True]
    for protocol in ("L", "H", "X"):
        row = by_protocol(out, protocol)
        assert row["situacao"] == "pendente_localizacao"
        assert pd.isna(row["posicao"]) and not row["selecionado_orcamento"]
        assert math.isnan(row["percentual_municipio"]) and math.isnan(row["custo_municipio_rs"])
    assert by_protocol(out, "L")["motivo_situacao"] == (
        "Pendente de confirmação do local (posição aproximada: incerteza de 350 m, acima do "
        "limite de 100 m das regras): com 90 pontos no pior caso entre as posições possíveis, "
        "ficaria em 1º na classificação; sem participação do Município e fora do orçamento até "
        "a Comissão confirmar o local (decisão 'localizacao', com latitude e longitude)."
    )
    # H (65) would come after C (80) and A (70); its missing proof of hardship is said too
    h = by_protocol(out, "H")["motivo_situacao"]
    assert "incerteza de 120 m" in h and "ficaria em 3º na classificação" in h
    assert h.endswith("; falta também comprovar a hipossuficiência (Art. 4, caput e §2).")
    # the Executive's work is not reserved at a place nobody confirmed
    assert by_protocol(out, "X")["motivo_situacao"].endswith(
        "; a execução direta decidida pelo Poder Executivo (Art. 12) só é reservada no "
        "orçamento com o local confirmado."
    )
    # the budget summary counts only the ranked works selected: R$ 1.000,00 each, C at
    # 100 % (80 points), A and B at 80 % (70 and 60 points)
    summary = budget_summary(out, 1e9)
    assert (summary["reservas"], summary["reservas_sem_saldo"], summary["selecionados"]) == (
        0,
        0,
        3,
    )
    assert summary["classificados_rs"] == out["custo_municipio_rs"].sum() == 1000.0 + 2 * 800.0


# ---------------------------------------------------------------------------
# Art. 11 and 12 works are reserved in the budget first (Art. 11 sole §, Art. 13)
# ---------------------------------------------------------------------------
def test_reservations_come_first_in_the_order_of_the_decisions() -> None:
    rows = (
        # ranked: 50 % of R$ 1.000 each = R$ 500
        request("A", pontuacao_total=59.0),
        request("B", pontuacao_total=58.0),
        # reserved at 100 % (rules' percentual_art11/art12): R$ 2.000 and R$ 1.500
        request("S", art11_decidido=True, ordem_ato=2, custo_estimado_rs=2000.0),
        request(
            "R",
            art12_decidido=True,
            ordem_ato=1,
            custo_estimado_rs=1500.0,
            procedimento_art12="PA-42/2026",
        ),
    )
    out = rank(table(*rows), RULES, 4000.0)
    s, r = by_protocol(out, "S"), by_protocol(out, "R")
    assert (s["situacao"], r["situacao"]) == ("estrategico_art11", "execucao_direta_art12")
    assert (s["percentual_municipio"], r["percentual_municipio"]) == (100.0, 100.0)
    assert (s["custo_municipio_rs"], r["custo_municipio_rs"]) == (2000.0, 1500.0)
    assert s["selecionado_orcamento"] and r["selecionado_orcamento"]
    assert pd.isna(s["posicao"]) and pd.isna(r["posicao"])
    # R (1st decision) leaves 2.500, S leaves 500: A fits exactly, B waits
    assert r["motivo_situacao"] == (
        "Execução direta pelo Poder Executivo em via rural de alto fluxo (Art. 12), "
        "procedimento administrativo PA-42/2026; listado à parte da classificação; 1ª reserva "
        "no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal R$ 1.500,00 "
        "(100 %), reservado; saldo restante R$ 2.500,00."
    )
    assert s["motivo_situacao"].endswith(
        "2ª reserva no orçamento (Art. 11, parágrafo único, e Art. 13): custo municipal "
        "R$ 2.000,00 (100 %), reservado; saldo restante R$ 500,00."
    )
    assert by_protocol(out, "A")["situacao"] == "classificado"
    assert by_protocol(out, "B")["situacao"] == "aguardando_orcamento"
    assert budget_summary(out, 4000.0) == {
        "orcamento_rs": 4000.0,
        "reservado_rs": 3500.0,
        "reservas": 2,
        "reservas_sem_saldo": 0,
        "saldo_apos_reservas_rs": 500.0,
        "classificados_rs": 500.0,
        "selecionados": 1,
        "saldo_final_rs": 0.0,
    }


def test_a_reservation_that_no_longer_fits_says_so() -> None:
    rows = (
        request("S1", art11_decidido=True, ordem_ato=1, custo_estimado_rs=3000.0),
        request("S2", art11_decidido=True, ordem_ato=2, custo_estimado_rs=3000.0),
        request("S3", art11_decidido=True, ordem_ato=3, custo_estimado_rs=500.0),
        request("A"),
    )
    out = rank(table(*rows), RULES, 4000.0)
    assert out["selecionado_orcamento"].tolist() == [True, False, True, True]
    assert by_protocol(out, "S2")["motivo_situacao"].endswith(
        "custo municipal R$ 3.000,00 (100 %), não cabe no saldo de R$ 1.000,00: não reservado."
    )
    # S3 takes 500 of the 1.000 left, A takes the other 500 (50 % of R$ 1.000)
    assert by_protocol(out, "A")["situacao"] == "classificado"
    summary = budget_summary(out, 4000.0)
    assert (summary["reservas"], summary["reservas_sem_saldo"]) == (2, 1)
    assert summary["saldo_final_rs"] == 0.0


def test_art11_and_art12_shares_come_from_the_rules(tmp_path: Path) -> None:
    rules = edited_rules(
        tmp_path, "percentual_art12 = { valor = 100", "percentual_art12 = { valor = 70"
    )
    out = rank(table(request("R", art12_decidido=True, ordem_ato=1)), rules, None)
    assert by_protocol(out, "R")["percentual_municipio"] == 70.0
    assert by_protocol(out, "R")["custo_municipio_rs"] == 700.0
    assert by_protocol(out, "R")["motivo_situacao"].endswith(
        "custo municipal R$ 700,00 (70 %) (sem limite de orçamento informado)."
    )


def test_an_art12_indication_keeps_the_request_in_the_ranking() -> None:
    out = rank(
        table(request("A", indicio_art12=True), request("B", pontuacao_total=40.0)), RULES, None
    )
    a = by_protocol(out, "A")
    assert (a["situacao"], a["posicao"]) == ("classificado", 1)
    assert a["motivo_situacao"].endswith(
        "; indício de via rural de alto fluxo (Art. 12 §1): a execução direta depende de decisão "
        "do Poder Executivo em procedimento administrativo próprio (Art. 12 §2)."
    )


# ---------------------------------------------------------------------------
# Determinism (hypothesis)
# ---------------------------------------------------------------------------
_DATES = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), None]


@st.composite
def tables(draw: st.DrawFn, min_size: int = 1) -> pd.DataFrame:
    n = draw(st.integers(min_value=min_size, max_value=8))
    protocols = draw(
        st.lists(st.integers(0, 999), min_size=n, max_size=n, unique=True).map(
            lambda xs: [f"2026-{x:04d}" for x in xs]
        )
    )
    rows = []
    for protocolo in protocols:
        rows.append(
            request(
                protocolo,
                pontuacao_total=draw(st.sampled_from([30.0, 60.0, 60.0, 85.0, NAN])),
                moradores_estimados=draw(st.sampled_from([3.0, 10.0, NAN])),
                pont_seguranca=draw(st.sampled_from([5.0, 15.0])),
                custo_por_beneficiario_rs=draw(st.sampled_from([100.0, 900.0, NAN])),
                custo_estimado_rs=draw(st.sampled_from([500.0, 2000.0, NAN])),
                data_protocolo=draw(st.sampled_from(_DATES)),
                elegivel=draw(st.booleans()) or draw(st.booleans()),
                art12_decidido=draw(st.sampled_from([False, False, False, True])),
                art11_decidido=draw(st.sampled_from([False, False, False, True])),
                ordem_ato=draw(st.sampled_from([1, 2, 2, pd.NA])),
                hipossuficiencia=draw(st.sampled_from(["cadunico", "cadunico", "sem_comprovacao"])),
                localizacao_pendente=draw(st.sampled_from([False, False, False, True])),
                incerteza_m=draw(st.sampled_from([0.0, 250.0])),
            )
        )
    return table(*rows)


def _comparable(out: pd.DataFrame) -> pd.DataFrame:
    return out.sort_values("protocolo").reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(
    frame=tables(),
    seed=st.randoms(use_true_random=False),
    budget=st.sampled_from([None, 0.0, 1500.0, 4000.0]),
)
def test_permuting_rows_never_changes_the_result(
    frame: pd.DataFrame, seed: Any, budget: float | None
) -> None:
    permutation = list(range(len(frame)))
    seed.shuffle(permutation)
    shuffled = frame.iloc[permutation].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        _comparable(rank(frame, RULES, budget)), _comparable(rank(shuffled, RULES, budget))
    )


@settings(max_examples=60, deadline=None)
@given(frame=tables(min_size=2))
def test_adding_a_request_never_changes_the_others_relative_order(frame: pd.DataFrame) -> None:
    new, rest = frame.iloc[[0]], frame.iloc[1:]
    before = order(rank(rest, RULES, None))
    after = [
        p for p in order(rank(pd.concat([rest, new]), RULES, None)) if p != new.iloc[0]["protocolo"]
    ]
    assert after == before


def test_every_criterion_column_is_accepted() -> None:
    row = request("A")
    assert all(f"pont_{c}" in row for c in CRITERIA)


def test_municipal_cost_is_rounded_to_centavos_half_up() -> None:
    # 50 % of R$ 171.781,03 = 85.890,515 -> R$ 85.890,52 (as the text shows)
    out = rank(table(request("A", custo_estimado_rs=171_781.03)), RULES, None)
    assert by_protocol(out, "A")["custo_municipio_rs"] == 85_890.52
    assert "R$ 85.890,52" in by_protocol(out, "A")["motivo_situacao"]


def test_protocol_numbers_in_natural_order() -> None:
    # equal on every Art. 10 §1 key: the protocol number decides, 99 before 100
    rows = (request("PED-100"), request("PED-99"), request("PED-0098"))
    out = rank(table(*rows), RULES, None)
    assert by_protocol(out, "PED-0098")["posicao"] == 1
    assert by_protocol(out, "PED-99")["posicao"] == 2
    assert by_protocol(out, "PED-100")["posicao"] == 3
