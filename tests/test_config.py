from __future__ import annotations

from pathlib import Path

import pytest

from geo_ip.config import CRITERIA, load_rules, rules_path
from geo_ip.errors import RulesError

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
    with pytest.raises(RulesError, match="soma dos pesos é 105"):
        load_rules(path)


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
