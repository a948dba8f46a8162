"""`geo-ip regras criar`: a rules file for another municipality, from Extrema's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import load_rules
from geo_ip.rules.init_rules import (
    _iter_params,
    render_rules_template,
    unmarked_regulation_params,
    write_rules_template,
)
from geo_ip.rules.law_locks import LAW_FIXED_PARAMS, LAW_TIE_BREAK, LAW_WEIGHTS
from geo_ip.rules.params import Param
from geo_ip.rules.toml_text import scan

runner = CliRunner()

POA = ("--ibge", "4314902", "--nome", "Porto Alegre", "--uf", "RS")


def _init(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["regras", "criar", *args])
    return result.exit_code, result.output


def _params(value: object) -> dict[str, Param]:
    """Every Param of a rules object, by key (independent of the module's own walker)."""
    found: dict[str, Param] = {}

    def walk(item: object, key: str) -> None:
        if isinstance(item, Param):
            found[key] = item
        elif hasattr(type(item), "model_fields"):
            for name in type(item).model_fields:  # type: ignore[attr-defined]
                walk(getattr(item, name), f"{key}.{name}".lstrip("."))
        elif isinstance(item, tuple):
            for i, element in enumerate(item):
                walk(element, f"{key}[{i}]")

    walk(value, "")
    return found


def test_init_writes_rules_that_load(tmp_path: Path) -> None:
    out = tmp_path / "regras_poa.toml"
    code, output = _init(*POA, "--out", str(out), "--crs", "EPSG:31982")
    assert code == 0, output
    assert "Porto Alegre/RS" in output and "gravadas em" in output
    rules = load_rules(out)
    assert rules.municipio.codigo_ibge == 4314902
    assert rules.municipio.nome == "Porto Alegre"
    assert rules.municipio.uf == "RS"
    assert rules.municipio.crs == "EPSG:31982"
    assert not rules.municipio.distribuidora
    assert not rules.municipio.ficticio
    # self-contained: no inheritance, and nothing of Extrema's identification is left
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert "herda" not in data
    assert data["municipio"]["codigo_ibge"] == 4314902
    assert "a informar" in rules.lei.numero and "5.442/2026" in rules.lei.numero
    assert rules.lei.data == "a informar"
    assert rules.cadastro is not None
    assert rules.cadastro.cnpj == ""
    assert "CEMIG" not in rules.cadastro.distribuidora
    assert "Extrema" not in rules.cadastro.fonte_cnpj
    assert "3125101" not in out.read_text(encoding="utf-8")


def test_init_keeps_what_the_law_fixes(tmp_path: Path) -> None:
    out = tmp_path / "regras.toml"
    rules = write_rules_template(out, codigo_ibge=4314902, nome="Porto Alegre", uf="RS")
    extrema = load_rules("extrema")
    assert {n: getattr(rules.criterios, n).peso.valor for n in LAW_WEIGHTS} == LAW_WEIGHTS
    for name in LAW_WEIGHTS:
        ours, theirs = getattr(rules.criterios, name), getattr(extrema.criterios, name)
        assert ours.titulo == theirs.titulo
        assert ours.peso == theirs.peso  # the article, unchanged
        assert [lv.descricao for lv in ours.niveis] == [lv.descricao for lv in theirs.niveis]
        assert [lv.fonte_descricao for lv in ours.niveis] == [
            lv.fonte_descricao for lv in theirs.niveis
        ]
    assert rules.desempate == extrema.desempate
    assert rules.desempate.ordem == LAW_TIE_BREAK
    assert rules.participacao.percentual_minimo == extrema.participacao.percentual_minimo
    assert rules.participacao.percentual_maximo == extrema.participacao.percentual_maximo
    assert rules.elegibilidade.anos_beneficio_identico.valor == 5
    # the numbers keep the geo_ip suggestion as the starting value
    # the numbers keep the geo_ip suggestion as the starting value
    ours = _params(rules)
    for key, param in _params(extrema).items():
        assert ours[key].valor == param.valor, key
    assert rules.participacao.faixas == extrema.participacao.faixas


def test_every_regulation_number_is_to_be_decreed(tmp_path: Path) -> None:
    out = tmp_path / "regras.toml"
    write_rules_template(out, codigo_ibge="4314902", nome="Porto Alegre", uf="RS")
    rules = load_rules(out)
    params = _params(rules)
    assert len(params) > 50
    for key, param in params.items():
        if key in LAW_FIXED_PARAMS:
            assert param.fonte.startswith("Art."), key  # the law's own article
            assert not param.to_be_decreed, key
        else:
            assert "a definir" in param.fonte, key
            assert param.to_be_decreed or "a definir em regulamento" in param.fonte, key
            assert "CEMIG" not in param.fonte and "SETOP-MG" not in param.fonte, key
    for table in (
        rules.pontuacao.beneficiarios.residencias,
        rules.pontuacao.beneficiarios.moradores,
        rules.pontuacao.beneficiarios.equipamentos,
    ):
        assert "a definir em decreto" in table.fonte
    assert "a definir em decreto" in rules.participacao.fonte_faixas
    # the road classification is the model's, marked for the municipality's decree
    extrema = load_rules("extrema")
    assert rules.hierarquia_viaria.classes == extrema.hierarquia_viaria.classes
    assert rules.via_rural.highway_candidatos == extrema.via_rural.highway_candidatos
    for source in (rules.hierarquia_viaria.fonte, rules.via_rural.fonte):
        assert "a definir em decreto" in source
    assert "Art. 9 §8" in rules.hierarquia_viaria.fonte
    assert unmarked_regulation_params(rules) == []
    assert dict(_iter_params(rules)).keys() == params.keys()
    # Extrema's own file does have numbers not marked (its sources are CEMIG's, IBGE's...)
    assert unmarked_regulation_params(load_rules("extrema"))


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (("--ibge", "431490"), "--ibge", "informe os 7 dígitos"),
        (("--ibge", "43149O2"), "--ibge", "informe os 7 dígitos"),
        (("--ibge", "3125101"), "--ibge", "não é de um município de RS"),
        (("--uf", "rs"), "--uf", "duas letras maiúsculas"),
        (("--uf", "XX"), "--uf", "UF inválida"),
        (("--crs", "EPSG:4674"), "--crs", "não é projetado"),
        (("--nome", "  "), "--nome", "informe o nome"),
    ],
)
def test_init_refuses_bad_options(
    tmp_path: Path, args: tuple[str, str], field: str, message: str
) -> None:
    options = dict(zip(POA[::2], POA[1::2], strict=True))
    options[args[0]] = args[1]
    out = tmp_path / "regras.toml"
    code, output = _init(*[x for pair in options.items() for x in pair], "--out", str(out))
    assert code == GeoIPError.exit_code, output
    assert f"campo '{field}'" in output
    assert message in " ".join(output.split())
    assert not out.exists()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "regras.toml"
    out.write_text("# regras editadas à mão\n", encoding="utf-8")
    code, output = _init(*POA, "--out", str(out))
    assert code == 1, output
    assert "já existe" in output and "--forcar" in output
    assert out.read_text(encoding="utf-8") == "# regras editadas à mão\n"
    code, output = _init(*POA, "--out", str(out), "--forcar")
    assert code == 0, output
    assert load_rules(out).municipio.codigo_ibge == 4314902


def test_template_follows_the_model_and_names_are_escaped(tmp_path: Path) -> None:
    # a name with quotes and accents is written as a valid TOML string
    text = render_rules_template(codigo_ibge=3550308, nome='São "Paulo"', uf="SP")
    assert tomllib.loads(text)["municipio"]["nome"] == 'São "Paulo"'
    # the transformation runs on whatever the model holds: another model file works
    model = tmp_path / "modelo.toml"
    extrema = (Path(load_rules("extrema").arquivo)).read_text(encoding="utf-8")
    model.write_text(
        extrema.replace("potencia_padrao = { valor = 60,", "potencia_padrao = { valor = 70,"),
        encoding="utf-8",
    )
    rules = write_rules_template(
        tmp_path / "r.toml", codigo_ibge=3550308, nome="São Paulo", uf="SP", model=model
    )
    assert rules.iluminacao.potencia_padrao.valor == 70
    assert rules.iluminacao.potencia_padrao.to_be_decreed


def test_scanner_finds_nested_sources() -> None:
    text = (
        '# c\nx = 1\n[a.b]\nk = { valor = 1, fonte = "s" } # c\n'
        'l = [\n  { codigo = "I", pontos = { valor = 2, fonte = "t" } },\n]\n'
    )
    found = scan(text)
    assert [h.table for h in found.headers] == ["a.b"]
    assert {(v.table, v.key) for v in found.values} >= {
        ("", "x"),
        ("a.b.k", "fonte"),
        ("a.b.l[].pontos", "fonte"),
        ("a.b.l[]", "codigo"),
    }
    entries = {(e.table, e.key): text[e.start : e.end] for e in found.entries}
    assert entries[("a.b", "k")] == 'k = { valor = 1, fonte = "s" } # c'
    assert entries[("a.b", "l")].endswith("},\n]")
