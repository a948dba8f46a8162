"""Suggested scores (geo_ip.law.scoring) on hand-built evidence rows."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geo_ip.errors import RulesError
from geo_ip.law.scoring import SUGGESTION_COLUMNS, format_brl, format_number, suggest
from geo_ip.rules.config import Rules, load_rules, rules_path
from geo_ip.rules.law_locks import CRITERIA

RULES = load_rules("extrema")
NAN = math.nan

BASE: dict[str, Any] = {
    "protocolo": "2026-0001",
    "situacao": "ok",
    "problemas": "",
    "x": 0.0,
    "y": 0.0,
    # criterion I
    "residencias_consideradas": 0.0,
    "residencias_declaradas": NAN,
    "edificacoes_trecho": 0.0,
    "moradores_estimados": 0.0,
    "equipamentos_proximos": 0.0,
    "equipamentos_nomes": "",
    "via_de_passagem": False,
    "paradas_onibus_via": 0.0,
    # criterion II
    "ocorrencias": 0.0,
    "ocorrencias_tipos": "",
    "distancia_ip_m": 10.0,
    "usuarios_vulneraveis": 0.0,
    "vulneraveis_nomes": "",
    "travessias": 0.0,
    "paradas_onibus": 0.0,
    "escolas": 0.0,
    "creches": 0.0,
    "unidades_saude": 0.0,
    "pracas": 0.0,
    "centros_comunitarios": 0.0,
    "producao_rural": 0.0,
    # criterion III
    "hierarquia_via": "local",
    "logradouro_via": "Rua das Flores",
    "intermediacao_percentil": 50.0,
    # criterion IV
    "custo_estimado_rs": 1000.0,
    "custo_por_beneficiario_rs": 1000.0,
    # criterion V
    "distancia_rede_m": 50.0,
    "metodo_distancia": "via",
    "transformador": False,
    "postes_novos": 2.0,
    "declividade_max_pct": 5.0,
    "via_sem_pavimento": False,
    "via_rural": False,
    "fora_da_malha": False,
}
DARK = RULES.avaliacao.distancia_escuro_m.valor + 70  # no lamp nearby


def one(rules: Rules = RULES, **changes: Any) -> pd.Series:
    """Suggestions for a single evidence row: BASE with ``changes``."""
    row = {**BASE, **changes}
    return suggest(pd.DataFrame([row]), rules).iloc[0]


def edited_rules(tmp_path: Path, old: str, new: str) -> Rules:
    text = rules_path("extrema").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "regras.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_rules(path)


def level_points(criterion: str) -> dict[str, float]:
    return RULES.level_points(criterion)


def boundaries(threshold: float, delta: float = 0.01) -> list[tuple[float, str]]:
    """``(value, side)`` just below, at and just above a threshold."""
    return [(threshold - delta, "below"), (threshold, "at"), (threshold + delta, "above")]


# ---------------------------------------------------------------------------
# Output shape, formatting
# ---------------------------------------------------------------------------
def test_output_columns_index_and_input_untouched() -> None:
    frame = pd.DataFrame([BASE, {**BASE, "protocolo": "2026-0002"}], index=[7, 3])
    before = frame.copy()
    out = suggest(frame, RULES)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == [7, 3]
    assert list(out.columns) == [*frame.columns, *SUGGESTION_COLUMNS]
    for c in CRITERIA:
        assert out[f"sugerido_{c}"].dtype == "float64"
    assert out["indicio_art12"].dtype == bool
    assert "candidato_art12" not in out  # an indication (Art. 12 §1), not a situation


def test_empty_table_and_missing_columns_never_crash() -> None:
    empty = suggest(pd.DataFrame({"protocolo": pd.Series([], dtype=object)}), RULES)
    assert len(empty) == 0
    assert set(SUGGESTION_COLUMNS) <= set(empty.columns)
    out = suggest(pd.DataFrame({"protocolo": ["A"]}), RULES).iloc[0]
    assert out["sugerido_beneficiarios"] == 0
    assert out["nivel_viabilidade"] == "III"
    assert out["nivel_custo_beneficio"] == "III"
    assert out["nivel_trafego"] == "III"
    assert "declividade desconhecida (sem modelo de elevação)" in out["motivacao_viabilidade"]
    assert "hierarquia da via desconhecida" in out["motivacao_trafego"]
    assert not out["indicio_art12"]
    assert out["sinais_art12"] == out["motivo_art12"] == ""


def test_multi_row_equals_row_by_row() -> None:
    rows = [
        {**BASE, "residencias_consideradas": 6.0, "moradores_estimados": 16.74},
        {**BASE, "distancia_ip_m": DARK, "travessias": 1.0, "hierarquia_via": "principal"},
        {**BASE, "ocorrencias": NAN, "declividade_max_pct": NAN, "via_rural": True},
        {**BASE, "x": NAN, "situacao": "erro"},
    ]
    together = suggest(pd.DataFrame(rows), RULES)
    for i, row in enumerate(rows):
        alone = suggest(pd.DataFrame([row]), RULES).iloc[0]
        for column in SUGGESTION_COLUMNS:
            assert together.iloc[i][column] == alone[column], column


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (1234.5, 1, "1.234,5"),
        (120.0, 1, "120"),
        (8.25, 2, "8,25"),
        (1234567.891, 2, "1.234.567,89"),
        (-0.0, 1, "0"),
        (0.04, 1, "0"),
        (NAN, 1, "?"),
    ],
)
def test_format_number(value: float, decimals: int, text: str) -> None:
    assert format_number(value, decimals) == text


def test_format_brl() -> None:
    assert format_brl(12345) == "R$ 12.345,00"
    assert format_brl(737.456) == "R$ 737,46"
    assert format_brl(0) == "R$ 0,00"


# ---------------------------------------------------------------------------
# Criterion I — beneficiaries (Art. 9 §3)
# ---------------------------------------------------------------------------
STEP_COLUMNS = {
    "residencias": "residencias_consideradas",
    "moradores": "moradores_estimados",
    "equipamentos": "equipamentos_proximos",
}


@pytest.mark.parametrize("table", list(STEP_COLUMNS))
def test_every_step_boundary_follows_the_file(table: str) -> None:
    steps = getattr(RULES.pontuacao.beneficiarios, table).degraus
    for k, step in enumerate(steps):
        previous = steps[k - 1].pontos if k else 0.0
        for value, side in boundaries(step.a_partir_de):
            expected = previous if side == "below" else step.pontos
            got = one(**{STEP_COLUMNS[table]: value})["sugerido_beneficiarios"]
            assert got == expected, (table, value)


@pytest.mark.parametrize(
    ("residences", "points"),
    [(0, 0), (1, 5), (2, 5), (3, 10), (5, 10), (6, 15), (9, 15), (10, 20), (100, 20)],
)
def test_residence_steps_default_numbers(residences: float, points: float) -> None:
    assert one(residencias_consideradas=residences)["sugerido_beneficiarios"] == points


@pytest.mark.parametrize(
    ("residents", "points"),
    [(0.9, 0), (1, 2), (4.99, 2), (5, 4), (14.9, 4), (15, 7), (29.9, 7), (30, 10), (300, 10)],
)
def test_resident_steps_default_numbers(residents: float, points: float) -> None:
    assert one(moradores_estimados=residents)["sugerido_beneficiarios"] == points


@pytest.mark.parametrize(("facilities", "points"), [(0, 0), (1, 3), (2, 5), (7, 5)])
def test_facility_steps_default_numbers(facilities: float, points: float) -> None:
    assert one(equipamentos_proximos=facilities)["sugerido_beneficiarios"] == points


def test_collective_use_points() -> None:
    use = RULES.pontuacao.beneficiarios.uso_coletivo
    assert (use.via_de_passagem.valor, use.parada_onibus_via.valor) == (2, 3)
    assert one(via_de_passagem=True)["sugerido_beneficiarios"] == 2
    assert one(paradas_onibus_via=1.0)["sugerido_beneficiarios"] == 3
    assert one(paradas_onibus_via=4.0)["sugerido_beneficiarios"] == 3
    assert one(via_de_passagem=True, paradas_onibus_via=2.0)["sugerido_beneficiarios"] == 5


def test_beneficiaries_sub_components_sum_and_motivation() -> None:
    assert RULES.pontuacao.beneficiarios.maximo == RULES.criterios.beneficiarios.peso.valor == 40
    full = one(
        residencias_consideradas=10.0,
        moradores_estimados=30.0,
        equipamentos_proximos=2.0,
        via_de_passagem=True,
        paradas_onibus_via=1.0,
    )
    assert full["sugerido_beneficiarios"] == 40
    assert full["nivel_beneficiarios"] == ""
    out = one(
        residencias_consideradas=6.0,
        residencias_declaradas=6.0,
        moradores_estimados=16.74,
        equipamentos_proximos=2.0,
        equipamentos_nomes="Escola Municipal Ana Neri; UBS Centro",
        via_de_passagem=True,
        paradas_onibus_via=1.0,
    )
    # 15 (6 residences) + 7 (16.7 residents) + 5 (2 facilities) + 2 + 3
    assert out["sugerido_beneficiarios"] == 32
    text = out["motivacao_beneficiarios"]
    assert text.startswith("32 de 40 pontos (Art. 9 §3): ")
    for piece in (
        "6 residências diretamente beneficiadas (declaradas no pedido; nenhuma edificação a "
        "menos de 40 m do trecho atendido): 15 pontos (Art. 9 §3, I)",
        "16,7 moradores estimados",
        "7 pontos (Art. 9 §3, II)",
        "2 equipamentos públicos ou comunitários a menos de 300 m",
        "Escola Municipal Ana Neri; UBS Centro: 5 pontos (Art. 9 §3, III)",
        "via de passagem (2 pontos) e 1 parada de ônibus na via (3 pontos): 5 pontos",
    ):
        assert piece in text


def test_residences_from_buildings_are_said_so() -> None:
    text = one(residencias_consideradas=2.0)["motivacao_beneficiarios"]
    assert "2 residências diretamente beneficiadas (edificações a menos de 40 m" in text
    assert (
        "1 residência diretamente beneficiada"
        in one(residencias_consideradas=1.0)["motivacao_beneficiarios"]
    )


def test_beneficiaries_unknown_evidence() -> None:
    out = one(
        residencias_consideradas=NAN,
        moradores_estimados=NAN,
        equipamentos_proximos=NAN,
        via_de_passagem=None,
        paradas_onibus_via=NAN,
    )
    assert out["sugerido_beneficiarios"] == 0
    text = out["motivacao_beneficiarios"]
    for piece in (
        "número de residências desconhecido",
        "número de moradores desconhecido",
        "equipamentos próximos desconhecidos",
        "via de passagem desconhecida",
        "paradas de ônibus na via desconhecidas",
    ):
        assert piece in text


# ---------------------------------------------------------------------------
# Criterion II — safety (Art. 9 §6)
# ---------------------------------------------------------------------------
def test_safety_level_points_default() -> None:
    assert level_points("seguranca") == {"I": 15, "II": 10, "III": 5}
    assert one()["sugerido_seguranca"] == 5
    assert one()["nivel_seguranca"] == "III"


def test_level_i_by_occurrences_boundary() -> None:
    n1 = RULES.pontuacao.seguranca.ocorrencias_nivel_i.valor
    assert n1 == 3
    assert one(ocorrencias=n1 - 1)["nivel_seguranca"] == "III"  # lit: not II either
    assert one(ocorrencias=n1)["nivel_seguranca"] == "I"
    assert one(ocorrencias=n1 + 1)["nivel_seguranca"] == "I"
    out = one(ocorrencias=3.0, ocorrencias_tipos="acidente: 2; furto: 1")
    assert out["sugerido_seguranca"] == 15
    assert "histórico relevante (a partir de 3 ocorrências)" in out["motivacao_seguranca"]
    assert (
        "3 ocorrências registradas em 24 meses a menos de 150 m (acidente de trânsito: 2; furto: 1)"
        in (out["motivacao_seguranca"])
    )


def test_level_ii_by_occurrences_in_the_dark() -> None:
    n2 = RULES.pontuacao.seguranca.ocorrencias_nivel_ii.valor
    assert n2 == 1
    assert one(distancia_ip_m=DARK, ocorrencias=n2 - 1)["nivel_seguranca"] == "III"
    assert one(distancia_ip_m=DARK, ocorrencias=n2)["nivel_seguranca"] == "II"
    assert one(distancia_ip_m=10.0, ocorrencias=n2)["nivel_seguranca"] == "III"


def test_dark_boundary_and_unknown_lamp() -> None:
    far = RULES.avaliacao.distancia_escuro_m.valor
    assert far == 50
    # dark = no lighting point LESS than 50 m away: a lamp at exactly 50 m leaves it dark
    expected = {"below": "III", "at": "II", "above": "II"}
    for value, side in boundaries(far):
        assert one(distancia_ip_m=value, travessias=1.0)["nivel_seguranca"] == expected[side]
    # no lighting points in the territory: unknown darkness never raises the level
    out = one(distancia_ip_m=NAN, travessias=1.0)
    assert out["nivel_seguranca"] == "III"
    assert "iluminação existente desconhecida" in out["motivacao_seguranca"]


def test_lamp_at_exactly_the_dark_distance_is_not_less_than_it() -> None:
    at = one(distancia_ip_m=50.0, travessias=1.0)
    # dark (lamp at 50.0 m, not less than 50 m) with a point of attention: level II
    assert (at["nivel_seguranca"], at["sugerido_seguranca"]) == ("II", 10)
    assert at["motivacao_seguranca"] == (
        "Nível II (Art. 9 §6, II): sem iluminação a menos de 50 m (ponto de IP mais próximo a "
        "50 m); 1 travessia a menos de 150 m; nenhuma ocorrência registrada em 24 meses."
    )
    lit = one(distancia_ip_m=49.9, travessias=1.0)
    assert (lit["nivel_seguranca"], lit["sugerido_seguranca"]) == ("III", 5)
    assert "ponto de IP existente a 49,9 m (menos de 50 m)" in lit["motivacao_seguranca"]
    # dark, but no point of attention and no occurrence: preventive level III
    assert one(distancia_ip_m=50.0)["nivel_seguranca"] == "III"


@pytest.mark.parametrize("column", RULES.pontuacao.seguranca.pontos_de_atencao)
def test_each_attention_point_gives_level_ii_in_the_dark(column: str) -> None:
    assert one(distancia_ip_m=DARK, **{column: 1.0})["nivel_seguranca"] == "II"
    assert one(distancia_ip_m=10.0, **{column: 1.0})["nivel_seguranca"] == "III"


def test_level_i_by_risk_needs_dark_vulnerable_and_principal_or_crossing() -> None:
    risky = {"distancia_ip_m": DARK, "usuarios_vulneraveis": 1.0, "escolas": 1.0}
    assert one(**risky, hierarquia_via="principal")["nivel_seguranca"] == "I"
    assert one(**risky, hierarquia_via="local", travessias=1.0)["nivel_seguranca"] == "I"
    assert one(**risky, hierarquia_via="secundaria")["nivel_seguranca"] == "II"
    assert (
        one(**{**risky, "distancia_ip_m": 10.0}, hierarquia_via="principal")["nivel_seguranca"]
        == "III"
    )
    no_vulnerable = {**risky, "usuarios_vulneraveis": 0.0}
    assert one(**no_vulnerable, hierarquia_via="principal")["nivel_seguranca"] == "II"
    out = one(**risky, hierarquia_via="principal", vulneraveis_nomes="EMEI Pequeno Príncipe")
    text = out["motivacao_seguranca"]
    assert text.startswith("Nível I (Art. 9 §6, I): risco elevado")
    assert "usuários vulneráveis: EMEI Pequeno Príncipe" in text
    assert "via principal" in text


def test_safety_motivation_cites_the_evidence() -> None:
    out = one(distancia_ip_m=120.0, travessias=1.0, escolas=1.0)
    assert out["motivacao_seguranca"] == (
        "Nível II (Art. 9 §6, II): sem iluminação a menos de 50 m (ponto de IP mais próximo a "
        "120 m); 1 travessia e 1 escola a menos de 150 m; nenhuma ocorrência registrada em "
        "24 meses."
    )
    lit = one(distancia_ip_m=12.5)["motivacao_seguranca"]
    assert lit == (
        "Nível III (Art. 9 §6, III): ponto de IP existente a 12,5 m (menos de 50 m); nenhuma "
        "travessia, parada de ônibus, escola, creche, unidade de saúde ou praça a menos de "
        "150 m; nenhuma ocorrência registrada em 24 meses."
    )


def test_unknown_occurrences_do_not_raise_the_level() -> None:
    out = one(ocorrencias=NAN, distancia_ip_m=DARK)
    assert out["nivel_seguranca"] == "III"
    assert "ocorrências desconhecidas (sem camada de ocorrências)" in out["motivacao_seguranca"]


def test_safety_thresholds_come_from_the_file(tmp_path: Path) -> None:
    rules = edited_rules(
        tmp_path,
        'ocorrencias_nivel_i = { valor = 3, unidade = "ocorrências"',
        'ocorrencias_nivel_i = { valor = 5, unidade = "ocorrências"',
    )
    assert one(rules, ocorrencias=3.0)["nivel_seguranca"] == "III"
    assert one(rules, ocorrencias=5.0)["nivel_seguranca"] == "I"


# ---------------------------------------------------------------------------
# Criterion III — traffic (Art. 9 §8)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hierarchy", "level", "points"),
    [("principal", "I", 15), ("secundaria", "II", 10), ("local", "III", 5), (None, "III", 5)],
)
def test_traffic_level_by_hierarchy(hierarchy: str | None, level: str, points: float) -> None:
    out = one(hierarquia_via=hierarchy, intermediacao_percentil=10.0)
    assert (out["nivel_trafego"], out["sugerido_trafego"]) == (level, points)


def test_relevant_link_is_level_i_boundary() -> None:
    # §8, I: "via principal, estrutural ou de ligação relevante" — level I by itself
    threshold = RULES.pontuacao.trafego.intermediacao_percentil_promocao.valor
    assert threshold == 90
    expected = {"below": "III", "at": "I", "above": "I"}
    for value, side in boundaries(threshold):
        assert one(intermediacao_percentil=value)["nivel_trafego"] == expected[side]
    assert one(hierarquia_via="secundaria", intermediacao_percentil=95.0)["nivel_trafego"] == "I"
    assert one(hierarquia_via="principal", intermediacao_percentil=95.0)["nivel_trafego"] == "I"
    assert one(hierarquia_via=None, intermediacao_percentil=95.0)["nivel_trafego"] == "I"


def test_local_road_that_is_a_relevant_link_gets_15_points() -> None:
    out = one(hierarquia_via="local", intermediacao_percentil=95.0)
    assert (out["nivel_trafego"], out["sugerido_trafego"]) == ("I", 15)
    assert out["motivacao_trafego"] == (
        "Nível I (Art. 9 §8, I): via local (Rua das Flores), nível I como via de ligação "
        "relevante (intermediação no percentil 95, a partir de 90 — §8, I)."
    )


def test_bus_stop_promotes_one_level_only() -> None:
    assert RULES.pontuacao.trafego.paradas_onibus_via_promocao.valor == 1
    assert one(paradas_onibus_via=0.0)["nivel_trafego"] == "III"
    alone = one(paradas_onibus_via=1.0, intermediacao_percentil=50.0)
    assert (alone["nivel_trafego"], alone["sugerido_trafego"]) == ("II", 10)
    assert alone["motivacao_trafego"] == (
        "Nível II (Art. 9 §8, II): via local (Rua das Flores), promovida do nível III por "
        "1 parada de ônibus na via (§7, III)."
    )
    assert one(paradas_onibus_via=4.0)["nivel_trafego"] == "II"
    assert one(hierarquia_via="secundaria", paradas_onibus_via=1.0)["nivel_trafego"] == "I"
    assert one(hierarquia_via=None, paradas_onibus_via=1.0)["nivel_trafego"] == "II"
    # with a relevant link the road is level I anyway
    both = one(paradas_onibus_via=2.0, intermediacao_percentil=99.0)
    assert (both["nivel_trafego"], both["sugerido_trafego"]) == ("I", 15)
    assert "também 2 paradas de ônibus na via (§7, III)" in both["motivacao_trafego"]


def test_traffic_motivation() -> None:
    out = one(hierarquia_via="secundaria", intermediacao_percentil=95.2, paradas_onibus_via=1.0)
    assert out["motivacao_trafego"] == (
        "Nível I (Art. 9 §8, I): via secundária (Rua das Flores), nível I como via de ligação "
        "relevante (intermediação no percentil 95, a partir de 90 — §8, I); também 1 parada "
        "de ônibus na via (§7, III)."
    )
    plain = one(intermediacao_percentil=40.0)["motivacao_trafego"]
    assert plain == (
        "Nível III (Art. 9 §8, III): via local (Rua das Flores); intermediação no percentil 40 "
        "(via de ligação relevante a partir de 90) e nenhuma parada de ônibus na via."
    )
    top = one(hierarquia_via="principal", paradas_onibus_via=1.0)["motivacao_trafego"]
    assert top == (
        "Nível I (Art. 9 §8, I): via principal (Rua das Flores), já no nível mais alto; "
        "também 1 parada de ônibus na via (§7, III)."
    )


def test_unknown_traffic_evidence() -> None:
    out = one(intermediacao_percentil=NAN, paradas_onibus_via=NAN, logradouro_via=None)
    assert out["nivel_trafego"] == "III"
    assert "intermediação desconhecida" in out["motivacao_trafego"]
    assert "paradas de ônibus na via desconhecidas" in out["motivacao_trafego"]


# ---------------------------------------------------------------------------
# Criterion IV — cost-benefit (Art. 9 §10)
# ---------------------------------------------------------------------------
def test_cost_benefit_boundaries() -> None:
    cfg = RULES.pontuacao.custo_beneficio
    assert (cfg.nivel_i_ate_rs.valor, cfg.nivel_ii_ate_rs.valor) == (1500, 5000)
    assert level_points("custo_beneficio") == {"I": 15, "II": 10, "III": 5}
    for threshold, level_at, level_above in (
        (cfg.nivel_i_ate_rs.valor, "I", "II"),
        (cfg.nivel_ii_ate_rs.valor, "II", "III"),
    ):
        for value, side in boundaries(threshold):
            expected = level_above if side == "above" else level_at
            got = one(custo_por_beneficiario_rs=value, moradores_estimados=3.0)
            assert got["nivel_custo_beneficio"] == expected, value
    assert one(custo_por_beneficiario_rs=1500.0)["sugerido_custo_beneficio"] == 15
    assert one(custo_por_beneficiario_rs=1500.01)["sugerido_custo_beneficio"] == 10
    assert one(custo_por_beneficiario_rs=5000.01)["sugerido_custo_beneficio"] == 5


def test_cost_benefit_motivation() -> None:
    out = one(
        custo_estimado_rs=12345.0, moradores_estimados=16.74, custo_por_beneficiario_rs=737.46
    )
    assert out["motivacao_custo_beneficio"] == (
        "Nível I (Art. 9 §10, I): custo estimado de R$ 12.345,00 para 16,7 moradores "
        "estimados, R$ 737,46 por beneficiário (até R$ 1.500,00)."
    )
    mid = one(custo_estimado_rs=9000.0, moradores_estimados=3.0, custo_por_beneficiario_rs=3000.0)
    assert "(acima de R$ 1.500,00 e até R$ 5.000,00)" in mid["motivacao_custo_beneficio"]


def test_cost_benefit_unknown_or_no_residents() -> None:
    unknown = one(custo_estimado_rs=NAN, custo_por_beneficiario_rs=NAN)
    assert unknown["nivel_custo_beneficio"] == "III"
    assert "custo estimado desconhecido" in unknown["motivacao_custo_beneficio"]
    nobody = one(
        custo_estimado_rs=5000.0, moradores_estimados=0.0, custo_por_beneficiario_rs=np.inf
    )
    assert nobody["nivel_custo_beneficio"] == "III"
    assert "R$ 5.000,00 sem morador estimado" in nobody["motivacao_custo_beneficio"]
    residents = one(moradores_estimados=NAN, custo_por_beneficiario_rs=NAN)
    assert "número de moradores desconhecido" in residents["motivacao_custo_beneficio"]


# ---------------------------------------------------------------------------
# Criterion V — technical viability (Art. 9 §12)
# ---------------------------------------------------------------------------
def test_viability_distance_boundaries() -> None:
    cfg = RULES.pontuacao.viabilidade
    assert (cfg.distancia_nivel_i_m.valor, cfg.distancia_nivel_ii_m.valor) == (105, 300)
    for threshold, level_at, level_above in (
        (cfg.distancia_nivel_i_m.valor, "I", "II"),
        (cfg.distancia_nivel_ii_m.valor, "II", "III"),
    ):
        for value, side in boundaries(threshold):
            expected = level_above if side == "above" else level_at
            assert one(distancia_rede_m=value)["nivel_viabilidade"] == expected, value
    assert one(distancia_rede_m=0.0)["sugerido_viabilidade"] == 15
    assert one(distancia_rede_m=105.0)["sugerido_viabilidade"] == 15
    assert one(distancia_rede_m=106.0)["sugerido_viabilidade"] == 10
    assert one(distancia_rede_m=301.0)["sugerido_viabilidade"] == 5


def test_viability_slope_boundaries() -> None:
    cfg = RULES.pontuacao.viabilidade
    assert (cfg.declividade_nivel_i_pct.valor, cfg.declividade_nivel_ii_pct.valor) == (12, 25)
    for threshold, level_at, level_above in (
        (cfg.declividade_nivel_i_pct.valor, "I", "II"),
        (cfg.declividade_nivel_ii_pct.valor, "II", "III"),
    ):
        for value, side in boundaries(threshold):
            expected = level_above if side == "above" else level_at
            assert one(declividade_max_pct=value)["nivel_viabilidade"] == expected, value


def test_transformer_blocks_level_i_only() -> None:
    assert one(transformador=True)["nivel_viabilidade"] == "II"
    assert one(transformador=True, distancia_rede_m=250.0)["nivel_viabilidade"] == "II"
    unknown = one(transformador=None)
    assert unknown["nivel_viabilidade"] == "II"
    assert "necessidade de transformador desconhecida" in unknown["motivacao_viabilidade"]


def test_viability_caps() -> None:
    unpaved = one(via_sem_pavimento=True)
    assert unpaved["nivel_viabilidade"] == "II"
    assert "via sem pavimento limita ao nível II" in unpaved["motivacao_viabilidade"]
    unknown = one(via_sem_pavimento=None)
    assert unknown["nivel_viabilidade"] == "II"
    assert "pavimento da via desconhecido" in unknown["motivacao_viabilidade"]
    straight = one(metodo_distancia="reta_fator_desvio", distancia_rede_m=40.0)
    assert straight["nivel_viabilidade"] == "III"
    assert "sem ligação pela via limita ao nível III" in straight["motivacao_viabilidade"]
    assert "linha reta × fator de desvio" in straight["motivacao_viabilidade"]
    off = one(fora_da_malha=True)
    assert off["nivel_viabilidade"] == "III"
    assert "fora da malha viária limita ao nível III" in off["motivacao_viabilidade"]
    # A cap never raises a level.
    assert one(via_sem_pavimento=True, distancia_rede_m=500.0)["nivel_viabilidade"] == "III"


def test_viability_unknown_evidence() -> None:
    slope = one(declividade_max_pct=NAN)
    # an unknown slope is not held against the request: same level as a flat road
    assert slope["nivel_viabilidade"] == one(declividade_max_pct=0.0)["nivel_viabilidade"] == "I"
    assert (
        "declividade desconhecida (sem modelo de elevação): não considerada"
        in slope["motivacao_viabilidade"]
    )
    no_grid = one(distancia_rede_m=NAN, metodo_distancia="sem_rede")
    assert no_grid["nivel_viabilidade"] == "III"
    assert "nenhuma rede elétrica utilizável encontrada" in no_grid["motivacao_viabilidade"]


def test_viability_motivation() -> None:
    out = one(distancia_rede_m=180.0, postes_novos=6.0, declividade_max_pct=8.5)
    assert out["motivacao_viabilidade"] == (
        "Nível II (Art. 9 §12, II): extensão de 180 m até a rede existente (pela via; nível I "
        "até 105 m, nível II até 300 m); 6 postes novos; sem transformador novo; declividade "
        "máxima de 8,5 % (nível I até 12 %, nível II até 25 %); via pavimentada."
    )
    assert "1 poste novo" in one(postes_novos=1.0)["motivacao_viabilidade"]
    assert "exige transformador novo" in one(transformador=True)["motivacao_viabilidade"]


# ---------------------------------------------------------------------------
# Art. 12 — indication of a high-flow rural road (§1 signs; §2: the Executive decides)
# ---------------------------------------------------------------------------
ART12_TAIL = (
    " Só o Poder Executivo, em procedimento administrativo próprio, pode decidir a execução "
    "direta (Art. 12 §2)."
)


def without_sign(tmp_path: Path, family: str) -> Rules:
    """The Extrema rules with one family of Art. 12 signs disabled."""
    signs = ", ".join(f'"{s}"' for s in RULES.art12.sinais if s != family)
    return edited_rules(
        tmp_path,
        'sinais = ["circulacao", "transporte", "acesso", "producao"]',
        f"sinais = [{signs}]",
    )


def test_art12_defaults() -> None:
    cfg = RULES.art12
    assert cfg.sinais == ("circulacao", "transporte", "acesso", "producao")
    assert cfg.equipamentos_sinal == (
        "escolas",
        "creches",
        "unidades_saude",
        "centros_comunitarios",
    )
    assert (cfg.intermediacao_percentil_minima.valor, cfg.edificacoes_minimas.valor) == (90, 10)
    assert (cfg.paradas_onibus_via_minimas.valor, cfg.equipamentos_minimos.valor) == (1, 1)
    assert (cfg.raio_producao_m.valor, cfg.producao_minima.valor) == (300, 1)
    for name in ("intermediacao_percentil_minima", "raio_producao_m", "producao_minima"):
        param = getattr(cfg, name)
        assert param.to_be_decreed and "Art. 12 §1" in param.fonte, name


def test_art12_needs_a_rural_road() -> None:
    signs = {
        "escolas": 1.0,
        "paradas_onibus_via": 1.0,
        "edificacoes_trecho": 50.0,
        "intermediacao_percentil": 99.0,
        "producao_rural": 3.0,
        "centros_comunitarios": 1.0,
    }
    out = one(**signs)
    assert not out["indicio_art12"]
    assert out["motivo_art12"] == out["sinais_art12"] == ""
    assert not one(via_rural=None, **signs)["indicio_art12"]  # unknown: not rural
    quiet = one(via_rural=True)
    assert not quiet["indicio_art12"]
    assert quiet["sinais_art12"] == ""
    assert quiet["motivo_art12"] == "Via rural sem sinal de alto fluxo (Art. 12 §1)."


def test_art12_circulation_by_betweenness_percentile() -> None:
    assert not one(via_rural=True, intermediacao_percentil=89.9)["indicio_art12"]
    out = one(via_rural=True, intermediacao_percentil=95.0)
    assert out["indicio_art12"]
    assert out["sinais_art12"] == "circulacao"
    assert out["motivo_art12"] == (
        "Indício de via rural de alto fluxo (Art. 12 §1): intensa circulação (via de ligação "
        "relevante, intermediação no percentil 95, a partir de 90)." + ART12_TAIL
    )


def test_art12_circulation_by_buildings_boundary() -> None:
    assert not one(via_rural=True, edificacoes_trecho=9.0)["indicio_art12"]
    out = one(via_rural=True, edificacoes_trecho=10.0)
    assert out["indicio_art12"] and out["sinais_art12"] == "circulacao"
    assert (
        "intensa circulação (10 edificações a menos de 40 m do trecho atendido, a partir de 10)"
        in out["motivo_art12"]
    )


def test_art12_transport_by_bus_stop() -> None:
    out = one(via_rural=True, paradas_onibus_via=1.0)
    assert out["indicio_art12"] and out["sinais_art12"] == "transporte"
    assert out["motivo_art12"] == (
        "Indício de via rural de alto fluxo (Art. 12 §1): utilização por transporte escolar ou "
        "coletivo (1 parada de ônibus na via)." + ART12_TAIL
    )


@pytest.mark.parametrize("column", RULES.art12.equipamentos_sinal)
def test_art12_access_sign_of_each_facility(column: str) -> None:
    out = one(via_rural=True, **{column: 1.0})
    assert out["indicio_art12"] and out["sinais_art12"] == "acesso"


def test_art12_access_to_a_community_centre() -> None:
    out = one(
        via_rural=True,
        centros_comunitarios=1.0,
        centros_comunitarios_nomes="Centro Comunitário do Bairro Alto",
    )
    assert out["indicio_art12"] and out["sinais_art12"] == "acesso"
    assert out["motivo_art12"] == (
        "Indício de via rural de alto fluxo (Art. 12 §1): acesso a 1 centro comunitário a menos "
        "de 150 m (Centro Comunitário do Bairro Alto)." + ART12_TAIL
    )
    # a community centre is not a point of attention of the safety criterion
    dark = one(distancia_ip_m=DARK, centros_comunitarios=1.0)
    assert dark["nivel_seguranca"] == "III"


def test_art12_production_on_a_farm_road() -> None:
    out = one(
        via_rural=True,
        producao_rural=2.0,
        producao_rural_nomes="Lavoura / pomar / estufa; Silo / armazém rural",
    )
    assert out["indicio_art12"] and out["sinais_art12"] == "producao"
    assert out["motivo_art12"] == (
        "Indício de via rural de alto fluxo (Art. 12 §1): relevância para o escoamento da "
        "produção rural (2 locais de produção rural a menos de 300 m: Lavoura / pomar / estufa; "
        "Silo / armazém rural)." + ART12_TAIL
    )
    assert not one(via_rural=True, producao_rural=0.0)["indicio_art12"]


def test_art12_every_sign_with_its_evidence() -> None:
    out = one(
        via_rural=True,
        intermediacao_percentil=95.0,
        paradas_onibus_via=2.0,
        escolas=1.0,
        escolas_nomes="Escola Municipal Rural",
        centros_comunitarios=1.0,
        centros_comunitarios_nomes="Centro Comunitário Y",
        producao_rural=1.0,
        producao_rural_nomes="Sítio Boa Vista",
    )
    assert out["sinais_art12"] == "circulacao;transporte;acesso;producao"
    assert out["motivo_art12"] == (
        "Indício de via rural de alto fluxo (Art. 12 §1): intensa circulação (via de ligação "
        "relevante, intermediação no percentil 95, a partir de 90); utilização por transporte "
        "escolar ou coletivo (2 paradas de ônibus na via); acesso a 1 escola e 1 centro "
        "comunitário a menos de 150 m (Escola Municipal Rural; Centro Comunitário Y); "
        "relevância para o escoamento da produção rural (1 local de produção rural a menos de "
        "300 m: Sítio Boa Vista)." + ART12_TAIL
    )


def test_art12_disabled_family_does_not_fire(tmp_path: Path) -> None:
    rules = without_sign(tmp_path, "producao")
    assert rules.art12.sinais == ("circulacao", "transporte", "acesso")
    farm = one(rules, via_rural=True, producao_rural=5.0)
    assert not farm["indicio_art12"]
    assert farm["sinais_art12"] == ""
    assert farm["motivo_art12"] == "Via rural sem sinal de alto fluxo (Art. 12 §1)."
    both = one(rules, via_rural=True, producao_rural=5.0, paradas_onibus_via=1.0)
    assert both["indicio_art12"] and both["sinais_art12"] == "transporte"
    assert "produção" not in both["motivo_art12"]


def test_art12_unknown_evidence_never_raises_a_sign() -> None:
    out = one(
        via_rural=True,
        intermediacao_percentil=NAN,
        edificacoes_trecho=NAN,
        paradas_onibus_via=NAN,
        escolas=NAN,
        creches=NAN,
        unidades_saude=NAN,
        centros_comunitarios=NAN,
        producao_rural=NAN,
    )
    assert not out["indicio_art12"]
    assert out["motivo_art12"] == "Via rural sem sinal de alto fluxo (Art. 12 §1)."
    # absent columns (an evidence table of before) are unknown too
    bare = suggest(pd.DataFrame([{"x": 0.0, "via_rural": True}]), RULES).iloc[0]
    assert not bare["indicio_art12"] and bare["sinais_art12"] == ""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'sinais = ["circulacao", "transporte", "acesso", "producao"]',
            'sinais = ["circulacao", "fluxo"]',
            "art12.sinais",
        ),
        (
            'sinais = ["circulacao", "transporte", "acesso", "producao"]',
            'sinais = ["acesso", "acesso"]',
            "valor repetido: acesso",
        ),
        (
            'equipamentos_sinal = ["escolas", "creches", "unidades_saude", "centros_comunitarios"]',
            'equipamentos_sinal = ["escolas", "pracas"]',
            "art12.equipamentos_sinal",
        ),
        (
            "intermediacao_percentil_minima = { valor = 90,",
            "intermediacao_percentil_minima = { valor = 101,",
            "percentil acima de 100",
        ),
        ("raio_producao_m = { valor = 300,", "raio_producao_m = { valor = 0,", "raio_producao_m"),
    ],
)
def test_art12_rules_are_checked(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(RulesError, match=re.escape(message)):
        edited_rules(tmp_path, old, new)


# ---------------------------------------------------------------------------
# Rows that cannot be scored
# ---------------------------------------------------------------------------
def test_not_located_row_gets_zero_and_a_reason() -> None:
    out = one(
        x=NAN,
        situacao="erro",
        problemas="não localizado: logradouro não encontrado",
        via_rural=True,
        escolas=1.0,
        residencias_consideradas=10.0,
    )
    for c in CRITERIA:
        assert out[f"sugerido_{c}"] == 0
        assert out[f"nivel_{c}"] == ""
        assert out[f"motivacao_{c}"] == (
            "Não pontuado: pedido não localizado (não localizado: logradouro não encontrado)."
        )
    assert not out["indicio_art12"]
    assert out["motivo_art12"] == out["sinais_art12"] == ""


def test_spreadsheet_error_row_is_not_scored() -> None:
    out = one(situacao="erro", problemas="CPF inválido")
    assert out["sugerido_seguranca"] == 0
    assert out["motivacao_trafego"] == "Não pontuado: pedido com erro na planilha (CPF inválido)."
    assert one(situacao="aviso")["sugerido_seguranca"] == 5


def test_nullable_dtypes_from_the_pipeline() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0],
            "residencias_consideradas": pd.array([3, pd.NA], dtype="Int64"),
            "residencias_declaradas": pd.array([pd.NA, pd.NA], dtype="Int64"),
            "moradores": pd.array([pd.NA, 4], dtype="Int64"),
            "moradores_estimados": [8.37, 4.0],
            "via_de_passagem": pd.array([True, pd.NA], dtype="boolean"),
            "via_sem_pavimento": pd.array([False, pd.NA], dtype="boolean"),
            "via_rural": pd.array([pd.NA, True], dtype="boolean"),
            "hierarquia_via": pd.Series(["local", None], dtype="str"),
            "paradas_onibus_via": pd.array([1, pd.NA], dtype="Int64"),
            "escolas": pd.array([0, 1], dtype="Int64"),
        }
    )
    out = suggest(frame, RULES)
    # 10 (3 residences) + 4 (8.4 residents) + 2 (through road) + 3 (bus stop)
    assert list(out["sugerido_beneficiarios"]) == [19, 2]
    assert "8,4 moradores estimados (2,79 por domicílio)" in out.iloc[0]["motivacao_beneficiarios"]
    assert "4 moradores estimados (declarados)" in out.iloc[1]["motivacao_beneficiarios"]
    assert list(out["nivel_trafego"]) == ["II", "III"]
    assert list(out["indicio_art12"]) == [False, True]
    assert list(out["sinais_art12"]) == ["", "acesso"]


def test_declared_residences_are_cross_checked_with_the_buildings() -> None:
    limit = RULES.validacao.residencias_por_edificacao_maxima.valor
    assert limit == 3
    fine = one(residencias_consideradas=6.0, residencias_declaradas=6.0, edificacoes_trecho=2.0)
    text = fine["motivacao_beneficiarios"]
    assert "(declaradas no pedido; 2 edificações mapeadas a menos de 40 m do trecho" in text
    assert "confira a declaração" not in text
    many = one(residencias_consideradas=7.0, residencias_declaradas=7.0, edificacoes_trecho=2.0)
    assert (
        "mais de 3 por edificação mapeada: confira a declaração" in many["motivacao_beneficiarios"]
    )
    assert many["sugerido_beneficiarios"] == fine["sugerido_beneficiarios"]  # points unchanged
