from __future__ import annotations

import copy
import json
import math
import re
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_ip.errors import RulesError
from geo_ip.rules.config import load_rules, rules_path
from geo_ip.rules.law_locks import (
    CRITERIA,
    LAW_REPEAT_YEARS,
    LAW_SHARE_BOUNDS,
    LAW_TOTAL,
    LAW_WEIGHTS,
)

EXTREMA = rules_path("extrema")


def test_extrema_rules_carry_the_law() -> None:
    rules = load_rules("extrema")
    assert rules.municipio.codigo_ibge == 3125101
    assert rules.municipio.crs == "EPSG:31983"
    weights = {name: getattr(rules.criterios, name).peso.valor for name in CRITERIA}
    assert weights == {
        "beneficiarios": 40,
        "seguranca": 15,
        "trafego": 15,
        "custo_beneficio": 15,
        "viabilidade": 15,
    }
    assert rules.criterios.seguranca.peso.fonte == "Art. 9, II"
    assert [lv.codigo for lv in rules.criterios.viabilidade.niveis] == ["I", "II", "III"]
    assert rules.desempate.ordem == (
        "beneficiarios",
        "seguranca",
        "custo_beneficio",
        "antiguidade_protocolo",
    )
    assert rules.rede.vao_postes.valor == 35
    assert rules.rede.vao_postes.unidade == "m"
    assert rules.iluminacao.horas_por_dia.valor == pytest.approx(11 + 52 / 60, abs=1e-3)
    assert len(rules.sha256) == 64


def test_every_decree_number_says_so() -> None:
    rules = load_rules("extrema")
    for level in rules.criterios.seguranca.niveis:
        assert level.pontos.to_be_decreed
    assert not rules.criterios.seguranca.peso.to_be_decreed  # fixed by the law itself


@pytest.mark.parametrize(
    ("score", "share"), [(0, 50), (59.99, 50), (60, 80), (79.5, 80), (80, 100), (100, 100)]
)
def test_cost_share_bands(score: float, share: float) -> None:
    assert load_rules("extrema").participacao.share_for(score) == share


def test_rules_are_frozen() -> None:
    rules = load_rules("extrema")
    with pytest.raises(Exception, match="frozen"):
        rules.versao = "x"  # type: ignore[misc]


def test_demo_inherits_extrema_and_is_fictional() -> None:
    demo = load_rules("demo")
    extrema = load_rules("extrema")
    assert demo.municipio.ficticio is True
    assert demo.municipio.codigo_ibge == 9999999
    assert demo.criterios == extrema.criterios
    assert demo.sha256 != extrema.sha256


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = EXTREMA.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "regras.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_missing_key_is_named(tmp_path: Path) -> None:
    path = _edited(tmp_path, 'uf = "MG"\n', "")
    with pytest.raises(RulesError, match=r"campo 'municipio\.uf': chave obrigatória ausente"):
        load_rules(path)


def test_weight_sum_must_be_100(tmp_path: Path) -> None:
    path = _edited(tmp_path, 'valor = 40, unidade = "pontos"', 'valor = 45, unidade = "pontos"')
    with pytest.raises(RulesError, match="soma dos pesos é 105") as info:
        load_rules(path)
    message = str(info.value)
    assert "fixa o total em 100 pontos (Art. 8)" in message
    assert "campo 'criterios.beneficiarios.peso'" in message
    assert "Art. 9, I)" in message


def test_level_above_weight_is_refused(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        'valor = 15, unidade = "pontos", fonte = "sugestão',
        'valor = 16, unidade = "pontos", fonte = "sugestão',
    )
    with pytest.raises(
        RulesError, match=r"criterios\.seguranca.*nível I: 16 pontos fora de 0 a 15"
    ):
        load_rules(path)


def test_band_outside_law_is_refused(tmp_path: Path) -> None:
    path = _edited(
        tmp_path, "pontuacao_minima = 0, percentual = 50", "pontuacao_minima = 0, percentual = 40"
    )
    with pytest.raises(RulesError, match="40 % fora do intervalo de 50 % a 100 %"):
        load_rules(path)


def test_number_without_source_is_refused(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        'vao_postes = { valor = 35, unidade = "m", fonte = "sugestão técnica',
        'vao_postes = { valor = 35, unidade = "m", fontes = "sugestão técnica',
    )
    with pytest.raises(RulesError, match=r"rede\.vao_postes\.fonte': chave obrigatória ausente"):
        load_rules(path)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    path = _edited(tmp_path, "valor = 35,", 'valor = "trinta e cinco",')
    with pytest.raises(RulesError, match=r"rede\.vao_postes\.valor': deve ser um número"):
        load_rules(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "ruim.toml"
    bad.write_text("versao = \n", encoding="utf-8")
    with pytest.raises(RulesError, match="não é um TOML válido"):
        load_rules(bad)
    with pytest.raises(RulesError, match="não encontrado"):
        load_rules(tmp_path / "nao_existe.toml")
    with pytest.raises(RulesError, match="não encontrado"):
        load_rules("cidade_que_nao_existe")


# ---------------------------------------------------------------------------
# Sections added for scoring and ranking: avaliacao, pontuacao, art12, orcamento
# ---------------------------------------------------------------------------
def test_assessment_and_scoring_defaults() -> None:
    rules = load_rules("extrema")
    av = rules.avaliacao
    assert (
        av.raio_edificacoes_m.valor,
        av.raio_equipamentos_m.valor,
        av.raio_seguranca_m.valor,
        av.distancia_parada_via_m.valor,
        av.raio_ocorrencias_m.valor,
        av.periodo_ocorrencias_meses.valor,
        av.distancia_escuro_m.valor,
        av.amostra_intermediacao.valor,
    ) == (40, 300, 150, 30, 150, 24, 50, 200)
    assert av.raio_seguranca_m.unidade == "m"
    assert av.distancia_escuro_m.to_be_decreed
    assert not av.amostra_intermediacao.to_be_decreed  # a method note, not a legal number
    # issue 18: the law leaves the precision of the location open
    assert (av.incerteza_maxima_m.valor, av.incerteza_maxima_m.unidade) == (100, "m")
    assert av.incerteza_maxima_m.to_be_decreed
    ben = rules.pontuacao.beneficiarios
    assert [(s.a_partir_de, s.pontos) for s in ben.residencias.degraus] == [
        (1, 5),
        (3, 10),
        (6, 15),
        (10, 20),
    ]
    assert [(s.a_partir_de, s.pontos) for s in ben.moradores.degraus] == [
        (1, 2),
        (5, 4),
        (15, 7),
        (30, 10),
    ]
    assert [(s.a_partir_de, s.pontos) for s in ben.equipamentos.degraus] == [(1, 3), (2, 5)]
    assert ben.maximo == 40
    assert ben.residencias.points_for(5) == 10
    assert ben.residencias.points_for(0) == 0
    assert rules.pontuacao.seguranca.ocorrencias_nivel_i.valor == 3
    assert rules.pontuacao.trafego.nivel_por_hierarquia.secundaria == "II"
    assert rules.pontuacao.custo_beneficio.nivel_ii_ate_rs.unidade == "R$/morador"
    assert rules.pontuacao.viabilidade.distancia_nivel_i_m.valor == 105
    assert rules.art12.edificacoes_minimas.valor == 10
    assert rules.orcamento.estrito is False
    assert rules.level_points("viabilidade") == {"I": 15, "II": 10, "III": 5}
    demo = load_rules("demo")
    assert demo.pontuacao == rules.pontuacao
    assert demo.avaliacao == rules.avaliacao


def test_every_new_threshold_is_a_decree_suggestion() -> None:
    rules = load_rules("extrema")
    for section in (
        rules.pontuacao.seguranca,
        rules.pontuacao.trafego,
        rules.pontuacao.custo_beneficio,
        rules.pontuacao.viabilidade,
        rules.art12,
        rules.pontuacao.beneficiarios.uso_coletivo,
    ):
        for name in type(section).model_fields:
            value = getattr(section, name)
            if hasattr(value, "fonte") and hasattr(value, "valor"):
                assert value.to_be_decreed, name
    for table in ("residencias", "moradores", "equipamentos"):
        assert "a definir em decreto" in getattr(rules.pontuacao.beneficiarios, table).fonte


@pytest.mark.parametrize(
    ("old", "key"),
    [
        ("distancia_escuro_m = {", "avaliacao.distancia_escuro_m"),
        ("incerteza_maxima_m = {", "avaliacao.incerteza_maxima_m"),
        ("ocorrencias_nivel_ii = {", "pontuacao.seguranca.ocorrencias_nivel_ii"),
        ("paradas_onibus_via_promocao = {", "pontuacao.trafego.paradas_onibus_via_promocao"),
        ("nivel_i_ate_rs = {", "pontuacao.custo_beneficio.nivel_i_ate_rs"),
        ("declividade_nivel_ii_pct = {", "pontuacao.viabilidade.declividade_nivel_ii_pct"),
        ("edificacoes_minimas = {", "art12.edificacoes_minimas"),
        ("parada_onibus_via = {", "pontuacao.beneficiarios.uso_coletivo.parada_onibus_via"),
    ],
)
def test_missing_key_in_new_sections_is_named(tmp_path: Path, old: str, key: str) -> None:
    path = _edited(tmp_path, old, "removido_" + old)
    with pytest.raises(RulesError, match=rf"campo '{re.escape(key)}': chave obrigatória"):
        load_rules(path)


def test_missing_section_is_named(tmp_path: Path) -> None:
    path = _edited(tmp_path, "[art12]\n", "[art_12]\n")
    with pytest.raises(RulesError, match=r"campo 'art12': chave obrigatória ausente"):
        load_rules(path)


def test_budget_section_is_optional_and_typed(tmp_path: Path) -> None:
    assert (
        load_rules(_edited(tmp_path, "[orcamento]\nestrito = false\n", "")).orcamento.estrito
        is False
    )
    path = _edited(tmp_path, "\nestrito = false\n", '\nestrito = "sim"\n')
    with pytest.raises(RulesError, match=r"campo 'orcamento\.estrito': deve ser true ou false"):
        load_rules(path)


def test_beneficiary_maxima_above_weight_are_refused(tmp_path: Path) -> None:
    path = _edited(
        tmp_path, "{ a_partir_de = 10, pontos = 20 }", "{ a_partir_de = 10, pontos = 25 }"
    )
    with pytest.raises(
        RulesError,
        match=r"campo 'pontuacao\.beneficiarios': a soma dos máximos dos subcritérios é 45 pontos, "
        r"acima do peso de 40",
    ):
        load_rules(path)


def test_steps_out_of_order_are_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, "{ a_partir_de = 6, pontos = 15 }", "{ a_partir_de = 2, pontos = 15 }")
    with pytest.raises(
        RulesError,
        match=r"campo 'pontuacao\.beneficiarios\.residencias': degraus fora de ordem: "
        r"a_partir_de 2 depois de 3",
    ):
        load_rules(path)
    path = _edited(tmp_path, "{ a_partir_de = 6, pontos = 15 }", "{ a_partir_de = 6, pontos = 8 }")
    with pytest.raises(RulesError, match=r"8 pontos a partir de 6, menos que os 10 pontos"):
        load_rules(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "nivel_i_ate_rs = { valor = 1500,",
            "nivel_i_ate_rs = { valor = 6000,",
            r"campo 'pontuacao\.custo_beneficio': limites fora de ordem: nivel_i_ate_rs \(6000\) "
            r"deve ser menor ou igual a nivel_ii_ate_rs \(5000\)",
        ),
        (
            "distancia_nivel_ii_m = { valor = 300,",
            "distancia_nivel_ii_m = { valor = 100,",
            r"campo 'pontuacao\.viabilidade': limites fora de ordem: distancia_nivel_i_m \(105\)",
        ),
        (
            "declividade_nivel_i_pct = { valor = 12,",
            "declividade_nivel_i_pct = { valor = 30,",
            r"campo 'pontuacao\.viabilidade': limites fora de ordem: declividade_nivel_i_pct",
        ),
        (
            "ocorrencias_nivel_ii = { valor = 1,",
            "ocorrencias_nivel_ii = { valor = 4,",
            r"campo 'pontuacao\.seguranca': limites fora de ordem: ocorrencias_nivel_ii \(4\)",
        ),
        (
            'nivel_por_hierarquia = { principal = "I", secundaria = "II", local = "III" }',
            'nivel_por_hierarquia = { principal = "III", secundaria = "II", local = "I" }',
            r"campo 'pontuacao\.trafego\.nivel_por_hierarquia': níveis fora de ordem",
        ),
        (
            "intermediacao_percentil_promocao = { valor = 90,",
            "intermediacao_percentil_promocao = { valor = 120,",
            r"campo 'pontuacao\.trafego\.intermediacao_percentil_promocao': percentil acima de 100",
        ),
        (
            "raio_seguranca_m = { valor = 150,",
            "raio_seguranca_m = { valor = 0,",
            r"campo 'avaliacao\.raio_seguranca_m': raio_seguranca_m deve ser maior que zero",
        ),
        (
            "via_de_passagem = { valor = 2,",
            "via_de_passagem = { valor = -2,",
            r"uso_coletivo\.via_de_passagem': via_de_passagem não pode ser negativo",
        ),
        (
            'pontos_de_atencao = ["travessias"',
            'pontos_de_atencao = ["semaforos"',
            r"campo 'pontuacao\.seguranca\.pontos_de_atencao\[0\]': valor não permitido",
        ),
        (
            'nivel_maximo_sem_pavimento = "II"',
            'nivel_maximo_sem_pavimento = "IV"',
            r"campo 'pontuacao\.viabilidade\.nivel_maximo_sem_pavimento': valor não permitido",
        ),
    ],
)
def test_inconsistent_thresholds_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(RulesError, match=message):
        load_rules(_edited(tmp_path, old, new))


def test_criteria_need_the_three_levels_in_order(tmp_path: Path) -> None:
    text = EXTREMA.read_text(encoding="utf-8")
    level_iii = next(
        line + "\n"
        for line in text.splitlines()
        if 'codigo = "III", descricao = "Via local ou predominantemente residencial"' in line
    )
    with pytest.raises(
        RulesError,
        match=r"campo 'criterios\.trafego\.niveis': o critério deve ter exatamente os níveis I, "
        r"II e III .*encontrados: I, II",
    ):
        load_rules(_edited(tmp_path, level_iii, ""))
    path = _edited(
        tmp_path,
        'valor = 5, unidade = "pontos", fonte = "sugestão',
        'valor = 12, unidade = "pontos", fonte = "sugestão',
    )
    with pytest.raises(RulesError, match=r"criterios\.seguranca.*pontos dos níveis fora de ordem"):
        load_rules(path)


def test_tie_break_order_is_the_laws(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        'herda = "extrema"\n[desempate]\nordem = ["seguranca", "beneficiarios", '
        '"custo_beneficio", "antiguidade_protocolo"]\nfonte = "Art. 10 §1"\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert "campo 'desempate.ordem'" in message
    assert "Art. 10 §1" in message
    assert "não pode alterá-la" in message


def test_cost_share_never_falls_as_the_score_rises(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        'herda = "extrema"\n[participacao]\nfaixas = [{ pontuacao_minima = 80, percentual = 60 },'
        " { pontuacao_minima = 0, percentual = 70 }]\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"a faixa a partir de 80 pontos paga 60 %, menos que"):
        load_rules(path)


# ---------------------------------------------------------------------------
# Numbers fixed by the law itself cannot be changed by a rules file
# ---------------------------------------------------------------------------
def _inheriting(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "regras_alteradas.toml"
    path.write_text('herda = "extrema"\n' + body, encoding="utf-8")
    return path


def _peso(value: float) -> str:
    return f'peso = {{ valor = {value}, unidade = "pontos", fonte = "decreto municipal" }}\n'


def test_law_constants_are_the_laws() -> None:
    assert LAW_WEIGHTS == {
        "beneficiarios": 40,
        "seguranca": 15,
        "trafego": 15,
        "custo_beneficio": 15,
        "viabilidade": 15,
    }
    assert sum(LAW_WEIGHTS.values()) == LAW_TOTAL == 100
    assert LAW_SHARE_BOUNDS == (50, 100)
    assert LAW_REPEAT_YEARS == 5
    rules = load_rules("extrema")
    assert {name: getattr(rules.criterios, name).peso.valor for name in CRITERIA} == LAW_WEIGHTS
    assert rules.elegibilidade.anos_beneficio_identico.valor == LAW_REPEAT_YEARS


def test_law_weights_cannot_be_changed(tmp_path: Path) -> None:
    # 20/35/15/15/15 still sums to 100: only the per-criterion lock refuses it
    path = _inheriting(
        tmp_path,
        "[criterios.beneficiarios]\n" + _peso(20) + "[criterios.seguranca]\n" + _peso(35),
    )
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert "campo 'criterios.beneficiarios.peso'" in message
    assert (
        "o peso do critério 'beneficiarios' é fixado em 40 pontos pela Lei 5.442/2026 "
        "(Art. 9, I); o arquivo de regras não pode alterá-lo (encontrado 20)"
    ) in message
    assert "'seguranca' (35 em vez de 15, Art. 9, II)" in message
    assert "soma dos pesos" not in message


def test_one_law_weight_changed_is_named(tmp_path: Path) -> None:
    path = _inheriting(tmp_path, "[criterios.viabilidade]\n" + _peso(10))
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert "campo 'criterios.viabilidade.peso'" in message
    assert "fixado em 15 pontos pela Lei 5.442/2026 (Art. 9, V)" in message
    assert "(Art. 8)" in message  # the total is no longer 100 either


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "percentual_minimo",
            10,
            "o percentual mínimo de participação do Município é fixado em 50 % pela "
            "Lei 5.442/2026 (Art. 4, caput); o arquivo de regras não pode alterá-lo "
            "(encontrado 10)",
        ),
        (
            "percentual_maximo",
            90,
            "o percentual máximo de participação do Município é fixado em 100 % pela "
            "Lei 5.442/2026 (Art. 4, caput); o arquivo de regras não pode alterá-lo "
            "(encontrado 90)",
        ),
    ],
)
def test_law_share_bounds_cannot_be_changed(
    tmp_path: Path, key: str, value: float, expected: str
) -> None:
    path = _inheriting(
        tmp_path,
        f'[participacao]\n{key} = {{ valor = {value}, unidade = "%", fonte = "decreto" }}\n',
    )
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert f"campo 'participacao.{key}'" in message
    assert expected in message


def test_law_repeat_window_cannot_be_changed(tmp_path: Path) -> None:
    path = _inheriting(
        tmp_path,
        "[elegibilidade]\nanos_beneficio_identico = "
        '{ valor = 3, unidade = "anos", fonte = "decreto" }\n',
    )
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert "campo 'elegibilidade.anos_beneficio_identico'" in message
    assert "fixado em 5 anos pela Lei 5.442/2026 (Art. 5, II)" in message
    assert "(encontrado 3)" in message


def test_numbers_left_to_regulation_stay_editable(tmp_path: Path) -> None:
    path = _inheriting(
        tmp_path,
        "[participacao]\nfaixas = [{ pontuacao_minima = 70, percentual = 100 }, "
        "{ pontuacao_minima = 0, percentual = 60 }]\n"
        "[rede]\n"
        'vao_postes = { valor = 40, unidade = "m", fonte = "Decreto municipal nº 1/2026" }\n'
        "[pontuacao.custo_beneficio]\n"
        'nivel_i_ate_rs = { valor = 2000, unidade = "R$/morador", fonte = "Decreto nº 1" }\n',
    )
    rules = load_rules(path)
    assert rules.participacao.share_for(75) == 100
    assert rules.participacao.share_for(10) == 60
    assert rules.rede.vao_postes.valor == 40
    assert rules.pontuacao.custo_beneficio.nivel_i_ate_rs.valor == 2000
    # a level's points (Art. 9 §6) are left to the decree as well
    text = EXTREMA.read_text(encoding="utf-8")
    level = 'descricao = "Melhoria de caráter preventivo, sem histórico expressivo", '
    assert level in text
    edited = _edited(
        tmp_path,
        level + 'fonte_descricao = "Art. 9 §6, III", pontos = { valor = 5,',
        level + 'fonte_descricao = "Art. 9 §6, III", pontos = { valor = 3,',
    )
    assert load_rules(edited).level_points("seguranca")["III"] == 3


# --- every number of a rules file: finite, with its sign and range (issue 17, item 10) --------


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        # NaN made every total and share NaN
        ("peso = { valor = 40,", "peso = { valor = nan,", "criterios.beneficiarios.peso",
         "fixado em 40 pontos"),
        ("peso = { valor = 15,", "peso = { valor = inf,", "criterios.seguranca.peso",
         "fixado em 15 pontos"),
        # a share band or maximum of 150 %
        ("pontuacao_minima = 80, percentual = 100", "pontuacao_minima = 80, percentual = 150",
         "participacao.faixas[0].percentual", "150 % fora do intervalo de 50 % a 100 %"),
        ('percentual_maximo = { valor = 100,', 'percentual_maximo = { valor = 150,',
         "participacao.percentual_maximo", "fixado em 100 %"),
        # -5 years turned Art. 5, II off
        ("anos_beneficio_identico = { valor = 5,", "anos_beneficio_identico = { valor = -5,",
         "elegibilidade.anos_beneficio_identico", "(encontrado -5)"),
        ("distancia_maxima_via = { valor = 150,", "distancia_maxima_via = { valor = -150,",
         "rede.distancia_maxima_via", "deve ser maior que zero (valor -150)"),
        ("vao_postes = { valor = 35,", "vao_postes = { valor = nan,", "rede.vao_postes.valor",
         "deve ser um número finito (nan e inf não são aceitos)"),
        ("vao_postes = { valor = 35,", "vao_postes = { valor = 0,", "rede.vao_postes",
         "deve ser maior que zero"),
        ("alcance_bt = { valor = 300,", "alcance_bt = { valor = -inf,", "rede.alcance_bt.valor",
         "número finito"),
        ("fator_desvio = { valor = 1.3,", "fator_desvio = { valor = 0.5,", "rede.fator_desvio",
         "deve ser ao menos 1"),
        ("poste = { valor = 2800.0,", "poste = { valor = -2800.0,", "custos_unitarios.poste",
         "não pode ser negativo"),
        ("horas_por_dia = { valor = 11.8667,", "horas_por_dia = { valor = 25,",
         "iluminacao.horas_por_dia", "no máximo 24"),
        ("potencia_padrao = { valor = 60,", "potencia_padrao = { valor = -60,",
         "iluminacao.potencia_padrao", "maior que zero"),
        ("moradores_por_domicilio = { valor = 2.79,", "moradores_por_domicilio = { valor = 0,",
         "beneficiarios.moradores_por_domicilio", "maior que zero"),
        ("residencias_maximas = { valor = 50,", "residencias_maximas = { valor = -50,",
         "validacao.residencias_maximas", "maior que zero"),
        ("moradores_maximos = { valor = 200,", "moradores_maximos = { valor = 1e7,",
         "validacao.moradores_maximos", "no máximo 1e+06"),
        ("idade_maxima_protocolo = { valor = 10,", "idade_maxima_protocolo = { valor = -10,",
         "validacao.idade_maxima_protocolo", "maior que zero"),
        ("pontuacao_minima = 80, percentual = 100", "pontuacao_minima = nan, percentual = 100",
         "participacao.faixas[0].pontuacao_minima", "número finito"),
        ('vao_postes = { valor = 35,', 'vao_postes = { valor = 1' + "0" * 400 + ",",
         "rede.vao_postes.valor", "deve ser um número"),
        # issue 18: the largest location uncertainty ranked without a confirmed place
        ("incerteza_maxima_m = { valor = 100,", "incerteza_maxima_m = { valor = 0,",
         "avaliacao.incerteza_maxima_m", "deve ser maior que zero (valor 0)"),
        ("incerteza_maxima_m = { valor = 100,", "incerteza_maxima_m = { valor = inf,",
         "avaliacao.incerteza_maxima_m.valor", "número finito"),
    ],
)  # fmt: skip
def test_numbers_out_of_range_are_refused_naming_the_key(
    tmp_path: Path, old: str, new: str, key: str, fragment: str
) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(_edited(tmp_path, old, new))
    message = str(info.value)
    assert f"campo '{key}'" in message, message
    assert fragment in message, message


def _every_number(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _every_number(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _every_number(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield float(value)


def _numeric_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numeric_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numeric_paths(item, (*path, index))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path


def _toml_value(value: Any) -> str:
    """A TOML value on one line (inline tables): enough to write a rules file back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"


EXTREMA_DATA = tomllib.loads(EXTREMA.read_text(encoding="utf-8"))
NUMERIC_PATHS = sorted(_numeric_paths(EXTREMA_DATA), key=str)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1, 0.5, 24, 25, 31, 32, 50, 100, 101, 150, -5, -150, 10**400]),
)


@settings(max_examples=150, deadline=None, database=None)
@given(
    overrides=st.lists(st.tuples(st.sampled_from(NUMERIC_PATHS), NUMBERS), min_size=1, max_size=3)
)
def test_any_numeric_override_loads_finite_or_names_a_key(
    overrides: list[tuple[tuple[Any, ...], float]],
) -> None:
    data = copy.deepcopy(EXTREMA_DATA)
    for path, value in overrides:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    text = "\n".join(f"{key} = {_toml_value(value)}" for key, value in data.items()) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "regras.toml"
        rules_file.write_text(text, encoding="utf-8")
        try:
            rules = load_rules(rules_file)
        except RulesError as exc:
            assert exc.field, str(exc)  # the message names the key
            assert f"campo '{exc.field}'" in str(exc)
            return
    assert all(math.isfinite(x) for x in _every_number(rules.model_dump()))


def test_the_rules_writer_of_the_fuzz_test_round_trips(tmp_path: Path) -> None:
    text = "\n".join(f"{k} = {_toml_value(v)}" for k, v in EXTREMA_DATA.items()) + "\n"
    path = tmp_path / "regras.toml"
    path.write_text(text, encoding="utf-8")
    assert load_rules(path).model_dump(exclude={"arquivo", "sha256"}) == load_rules(
        EXTREMA
    ).model_dump(exclude={"arquivo", "sha256"})
