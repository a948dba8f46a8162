"""Ranking, tie-break, cost share and budget selection (geo_ip.ranking) on small tables."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_ip.config import CRITERIA, Rules, load_rules, rules_path
from geo_ip.errors import GeoIPError
from geo_ip.ranking import RANKING_COLUMNS, BudgetError, rank

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
        "estrategico_art11": False,
        "candidato_art12": False,
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
        ({"erro": True, "elegivel": False, "estrategico_art11": True}, "erro"),
        ({"elegivel": False, "estrategico_art11": True, "candidato_art12": True}, "inelegivel"),
        ({"estrategico_art11": True, "candidato_art12": True}, "estrategico_art11"),
        ({"candidato_art12": True}, "candidato_art12"),
        ({"elegivel": pd.NA}, "inelegivel"),
        ({"erro": None}, "classificado"),
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
    # only ranked requests have a share (Art. 4 §1 ties it to the score); Art. 11 and
    # Art. 12 requests skip the points, so theirs is the commission's to set
    assert math.isnan(a["percentual_municipio"])
    assert math.isnan(a["custo_municipio_rs"])


def test_apart_rows_quote_their_reasons() -> None:
    rows = (
        request("E", erro=True, problemas="não localizado: endereço não encontrado"),
        request("I", elegivel=False, motivos_inelegibilidade="imóvel comercial (Art. 5, I)"),
        request("S", estrategico_art11=True, justificativa_estrategica="acesso ao Parque"),
        request("R", candidato_art12=True, motivo_art12="Via rural de alto fluxo: 1 escola."),
    )
    out = rank(table(*rows), RULES, 100.0).set_index("protocolo")["motivo_situacao"]
    # the problems stay in their own column (not repeated in the reason)
    assert out["E"] == "Pedido com erro, não classificado (ver problemas)."
    assert out["I"] == "Inelegível ao custeio municipal (Art. 5): imóvel comercial (Art. 5, I)."
    assert out["S"].startswith("Interesse estratégico (Art. 11)")
    assert out["S"].endswith(": acesso ao Parque.")
    assert out["R"].startswith("Via rural de alto fluxo (Art. 12)")
    assert out["R"].endswith("1 escola.")


def test_apart_rows_do_not_consume_the_budget() -> None:
    rows = (request("S", estrategico_art11=True, pontuacao_total=99.0), request("A"))
    out = rank(table(*rows), RULES, 500.0)
    assert by_protocol(out, "A")["situacao"] == "classificado"
    assert by_protocol(out, "A")["posicao"] == 1


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
                candidato_art12=draw(st.sampled_from([False, False, False, True])),
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
