"""CIP rules engine: the seven ELETROCAR municipalities, input checks, outputs, BDGD."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from geo_ip.cip.engine import (
    CLASSES,
    NOT_INFORMED,
    CipRulesMissingError,
    cip_summary,
    compute_cip,
    load_cip_rules,
    load_tariffs,
    read_consumers,
    write_cip_outputs,
)
from geo_ip.cli.cip import cip_cmd
from geo_ip.errors import GeoIPError, InputFileError, RulesError
from tests.conftest import BDGD_ZIP, require

# --- what the ELETROCAR document says (../shared/seeds/003_6f9c3d0f3bcff159.txt) ------------

_USUAL = {
    "industrial": 10_000,
    "comercial": 7_000,
    "residencial": 3_000,
    "rural": 2_000,
    "servico_publico": 7_000,
    "poder_publico": 7_000,
    "consumo_proprio": 7_000,
}
_NO_RURAL = {k: v for k, v in _USUAL.items() if k != "rural"}
DOCUMENT = {
    # stem: (law, caps, exempt up to (inclusive), classes exempt with any consumption, rate %)
    "coqueiros_do_sul": ("Lei Municipal 1026/2002", _USUAL, {}, set(), None),
    "colorado": ("Lei Municipal 493/2002", _NO_RURAL, {"residencial": 50}, {"rural"}, None),
    "selbach": ("Lei Municipal 2365/2005", _NO_RURAL, {}, set(), None),
    "santo_antonio_do_planalto": (
        "Lei Complementar 006/2002",
        {**_USUAL, "industrial": 12_000, "comercial": 10_000},
        {"residencial": 70, "rural": 300},
        set(),
        7.0,
    ),
    "chapada": ("Lei Municipal 1750/2006", _USUAL, {}, set(), None),
    "carazinho": ("Lei Municipal 7009/2009", _NO_RURAL, {}, set(), None),
}
TARIFF = {
    "residencial": 1.0,
    "comercial": 2.0,
    "industrial": 3.0,
    "rural": 0.5,
    "poder_publico": 4.0,
    "servico_publico": 5.0,
    "consumo_proprio": 6.0,
}
"""Test tariffs (R$/kWh), different per class so that a class mix-up shows."""
TEST_RATE = 10.0
"""Rate the user files of the tests supply where the document gives none (%)."""


@pytest.fixture
def tariffs(tmp_path: Path) -> Path:
    lines = [
        'versao = "teste"',
        'distribuidora = "teste"',
        'resolucao_aneel = "tarifas de teste"',
        "[tarifas]",
        *(
            f'{c} = {{ valor = {v}, unidade = "R$/kWh", fonte = "teste" }}'
            for c, v in TARIFF.items()
        ),
        'iluminacao_publica = { valor = 0.5, unidade = "R$/kWh", fonte = "teste" }',
    ]
    path = tmp_path / "tarifas.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def user_rules(tmp_path: Path, stem: str, rate: float | None = TEST_RATE, extra: str = "") -> Path:
    """A user's file that inherits a bundled municipality and supplies the rate."""
    text = f'herda = "{stem}"\n'
    if rate is not None:
        text += f'aliquota = {{ valor = {rate}, unidade = "%", fonte = "lei de teste, art. 1" }}\n'
    path = tmp_path / f"{stem}_usuario.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def long_csv(tmp_path: Path, rows: list[tuple[str, str, object, object]], name: str = "uc") -> Path:
    path = tmp_path / f"{name}.csv"
    body = "\n".join(";".join(str(v) for v in row) for row in rows)
    path.write_text("unidade;classe;mes;kwh\n" + body + "\n", encoding="utf-8")
    return path


def annual(result: object) -> dict[str, float]:
    table = result.by_class  # type: ignore[attr-defined]
    return dict(zip(table["classe"], table["cip_rs"], strict=True))


# --- the rules files --------------------------------------------------------------------------


@pytest.mark.parametrize("stem", sorted(DOCUMENT))
def test_rules_files_say_what_the_document_says(stem: str) -> None:
    law, caps, upto, exempt_all, rate = DOCUMENT[stem]
    rules = load_cip_rules(stem)
    assert rules.lei.numero == law
    assert rules.municipio.uf == "RS"
    assert "ELETROCAR" in rules.documento_fonte
    for cls in CLASSES:
        rule = rules.rule(cls)
        assert (rule.limite_kwh.valor if rule.limite_kwh else None) == caps.get(cls)
        assert (rule.isencao_ate_kwh.valor if rule.isencao_ate_kwh else None) == upto.get(cls)
        assert (rule.isenta is not None) == (cls in exempt_all)
        for param in (rule.limite_kwh, rule.isencao_ate_kwh, rule.isenta):
            if param is not None:  # every number with its source
                assert law.split()[-1] in param.fonte or "LC 006/2002" in param.fonte
    if rate is None:
        assert rules.aliquota is None
        assert rules.missing() == ["aliquota"]
        assert NOT_INFORMED in Path(rules.arquivo).read_text(encoding="utf-8")
    else:
        assert rules.aliquota is not None
        assert rules.aliquota.valor == rate
        assert rules.aliquota.unidade == "%"
        assert rules.missing() == []


def test_almirante_tamandare_do_sul_has_no_rule() -> None:
    rules = load_cip_rules("almirante_tamandare_do_sul")
    assert rules.lei.numero == "Lei Municipal 300/2003"
    assert rules.missing() == ["aliquota", "classes"]


def test_example_tariffs_are_labelled() -> None:
    example = load_tariffs()
    assert example.exemplo is True
    assert "ilustrativ" in example.resolucao_aneel
    assert all(getattr(example.tarifas, c) is not None for c in CLASSES)


def test_bdgd_codes_and_class_names() -> None:
    from geo_ip.rules.cip_rules import classify

    cells = {
        "RE1": "residencial", "re2": "residencial", " CO9 ": "comercial", "CO6": "comercial",
        "IN": "industrial", "RU4": "rural", "RU5": "rural", "PP1": "poder_publico",
        "PP3": "poder_publico", "SP2": "servico_publico", "CPR": "consumo_proprio",
        "IP": "iluminacao_publica", "CSPS": "suprimento", "0": "", "": "",
        "Residencial": "residencial", "Poder Público Municipal": "poder_publico",
        "Serviço público": "servico_publico", "Consumo próprio": "consumo_proprio",
        "Comércio": "comercial", "Residencial rural": "rural", "Indústria": "industrial",
        "Iluminação Pública": "iluminacao_publica", "XYZ": "?", "Outros": "?",
    }  # fmt: skip
    assert classify(pd.Series(list(cells))).tolist() == list(cells.values())


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stem", ["coqueiros_do_sul", "colorado", "selbach", "chapada", "carazinho"]
)
def test_refuses_without_the_rate(tmp_path: Path, stem: str, tariffs: Path) -> None:
    consumers = long_csv(tmp_path, [("U1", "RE1", 1, 100)])
    with pytest.raises(CipRulesMissingError) as info:
        compute_cip(stem, consumers, tariffs)
    message = str(info.value)
    assert info.value.field == "aliquota"
    assert NOT_INFORMED in message
    assert f'herda = "{stem}"' in message
    assert DOCUMENT[stem][0] in message
    assert "não a inventa" in message


def test_almirante_refuses_until_everything_is_supplied(tmp_path: Path, tariffs: Path) -> None:
    consumers = long_csv(tmp_path, [("U1", "RE1", 1, 100)])
    with pytest.raises(CipRulesMissingError) as info:
        compute_cip("almirante_tamandare_do_sul", consumers, tariffs)
    assert info.value.field == "aliquota"
    assert "chave 'classes'" in str(info.value)
    only_rate = user_rules(tmp_path, "almirante_tamandare_do_sul")
    with pytest.raises(CipRulesMissingError) as info:
        compute_cip(only_rate, consumers, tariffs)
    assert info.value.field == "classes"
    assert "alíquota" not in str(info.value).split(":", 2)[-1].split("(")[0]
    classes = (
        '[classes.residencial]\nlimite_kwh = { valor = 80, unidade = "kWh/mês", '
        'fonte = "informado pelo usuário" }\n'
    )
    complete = user_rules(tmp_path, "almirante_tamandare_do_sul", extra=classes)
    result = compute_cip(complete, consumers, tariffs)
    assert result.total_rs == pytest.approx(80 * 1.0 * 0.10)  # capped at 80 kWh


def test_cli_refusal_and_exit_code(tmp_path: Path) -> None:
    consumers = long_csv(tmp_path, [("U1", "RE1", 1, 100)])
    result = CliRunner().invoke(
        _app(),
        [
            "cip",
            "--cip-regras",
            "colorado",
            "--cip-consumidores",
            str(consumers),
            "--saida",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    assert "não informado no documento-fonte" in result.output
    assert not (tmp_path / "out").exists()


# --- hand-computed cases ----------------------------------------------------------------------


def _around_thresholds(stem: str) -> tuple[list[tuple[str, str, object, object]], float]:
    """Consumers just below, at and above every cap and exemption; the expected CIP (R$)."""
    _, caps, upto, exempt_all, rate = DOCUMENT[stem]
    rate = (rate if rate is not None else TEST_RATE) / 100
    codes = {
        "residencial": "RE1",
        "comercial": "CO1",
        "industrial": "IN",
        "rural": "RU1",
        "poder_publico": "PP3",
        "servico_publico": "SP2",
        "consumo_proprio": "CPR",
    }
    rows, expected, n = [], 0.0, 0
    for cls in CLASSES:
        points = [10_001, 20_000]
        if cls in caps:
            points += [caps[cls] - 1, caps[cls], caps[cls] + 1]
        if cls in upto:
            points += [upto[cls] - 1, upto[cls], upto[cls] + 0.01, upto[cls] + 1]
        for kwh in points:
            n += 1
            rows.append((f"UC{n:04d}", codes[cls], 1, kwh))
            exempt = cls in exempt_all or kwh <= upto.get(cls, -1)
            base = 0 if exempt else min(kwh, caps.get(cls, float("inf")))
            expected += base * TARIFF[cls] * rate
    return rows, expected


@pytest.mark.parametrize("stem", sorted(DOCUMENT))
def test_every_cap_and_exemption_boundary(tmp_path: Path, stem: str, tariffs: Path) -> None:
    rows, expected = _around_thresholds(stem)
    rules = stem if DOCUMENT[stem][4] is not None else user_rules(tmp_path, stem)
    result = compute_cip(rules, long_csv(tmp_path, rows), tariffs)
    assert result.total_rs == pytest.approx(expected, rel=1e-12)
    month = result.by_class_month[result.by_class_month["mes"] == 1].set_index("classe")
    parts = month["kwh_isento"] + month["kwh_acima_limite"] + month["kwh_base"]
    assert np.allclose(parts, month["kwh_consumo"])


def test_santo_antonio_do_planalto_by_hand(tmp_path: Path, tariffs: Path) -> None:
    rows = [
        ("I1", "IN", 1, 15_000),  # 12.000 × 3,00 × 7 % = 2.520,00
        ("I2", "IN", 1, 12_000),  # 2.520,00 (at the cap)
        ("I3", "IN", 1, 11_999),  # 11.999 × 3 × 0,07 = 2.519,79
        ("C1", "CO1", 1, 10_001),  # 10.000 × 2 × 0,07 = 1.400,00
        ("C2", "CO1", 1, 10_000),  # 1.400,00
        ("C3", "CO9", 1, 9_999),  # 1.399,86
        ("R1", "RE1", 1, 70),  # exempt: "até 70 kW/h" includes 70
        ("R2", "RE2", 1, 71),  # 71 × 1 × 0,07 = 4,97
        ("R3", "RE1", 1, 3_500),  # 3.000 × 1 × 0,07 = 210,00
        ("U1", "RU1", 1, 300),  # exempt: "até 300 kW/h"
        ("U2", "RU4", 1, 301),  # 301 × 0,5 × 0,07 = 10,535
        ("U3", "RU5", 1, 2_500),  # 2.000 × 0,5 × 0,07 = 70,00
    ]
    result = compute_cip("santo_antonio_do_planalto", long_csv(tmp_path, rows), tariffs)
    by_class = annual(result)
    assert by_class["industrial"] == pytest.approx(2520 + 2520 + 2519.79)
    assert by_class["comercial"] == pytest.approx(1400 + 1400 + 1399.86)
    assert by_class["residencial"] == pytest.approx(4.97 + 210)
    assert by_class["rural"] == pytest.approx(10.535 + 70)
    assert result.total_rs == pytest.approx(7_559.79 + 4_199.86 + 214.97 + 80.535)  # 12.055,155
    year = result.by_class.set_index("classe")
    assert year.at["residencial", "faturas_isentas"] == 1
    assert year.at["rural", "faturas_isentas"] == 1
    assert year.at["industrial", "kwh_acima_limite"] == pytest.approx(3_000)
    assert year.at["total", "unidades_consumidoras"] == 12


def test_colorado_residential_and_rural_exemptions(tmp_path: Path, tariffs: Path) -> None:
    rows = [
        ("A", "RE1", 1, 50),  # exempt (até 50 kW/h)
        ("B", "RE1", 1, 50.01),  # 50,01 × 1 × 10 % = 5,001
        ("C", "RE2", 1, 51),  # 5,10
        ("D", "Residencial", 1, 3_500),  # cap 3.000 → 300,00
        ("E", "RU1", 1, 5_000),  # rural: exempt with any consumption
        ("F", "Rural", 1, 10),
    ]
    result = compute_cip(user_rules(tmp_path, "colorado"), long_csv(tmp_path, rows), tariffs)
    by_class = annual(result)
    assert by_class["residencial"] == pytest.approx(5.001 + 5.10 + 300)
    assert by_class["rural"] == 0
    year = result.by_class.set_index("classe")
    assert year.at["rural", "faturas_isentas"] == 2
    assert year.at["rural", "kwh_isento"] == pytest.approx(5_010)
    assert year.at["residencial", "faturas_isentas"] == 1


def test_uncapped_rural_class_is_said(tmp_path: Path, tariffs: Path) -> None:
    rows = [("A", "RU1", 1, 5_000), ("B", "RE1", 1, 10)]
    result = compute_cip(user_rules(tmp_path, "selbach"), long_csv(tmp_path, rows), tariffs)
    assert annual(result)["rural"] == pytest.approx(5_000 * 0.5 * 0.10)  # no cap in the list
    assert annual(result)["residencial"] == pytest.approx(1.0)  # no exemption in the document
    text = " ".join(result.warnings)
    assert "Classe rural sem limite no documento-fonte" in text
    assert "não transcreve isenções" in text
    assert "TARIFAS DE EXEMPLO" not in text


def test_class_without_tariff_is_refused(tmp_path: Path) -> None:
    partial = tmp_path / "tarifas.toml"
    partial.write_text(
        'versao = "t"\ndistribuidora = "t"\nresolucao_aneel = "REH teste"\n[tarifas]\n'
        'residencial = { valor = 1, unidade = "R$/kWh", fonte = "teste" }\n',
        encoding="utf-8",
    )
    colorado = user_rules(tmp_path, "colorado")
    ok = compute_cip(
        colorado, long_csv(tmp_path, [("A", "RE1", 1, 100), ("B", "RU1", 1, 900)]), partial
    )
    assert ok.total_rs == pytest.approx(10.0)  # rural is exempt: needs no tariff
    with pytest.raises(RulesError) as info:
        compute_cip(colorado, long_csv(tmp_path, [("A", "CO1", 1, 100)], "c"), partial)
    assert info.value.field == "tarifas.comercial"


# --- input ------------------------------------------------------------------------------------


def test_bad_rows_are_reported_and_every_row_counted(tmp_path: Path, tariffs: Path) -> None:
    path = tmp_path / "uc.csv"
    path.write_text(
        "Cadastro de unidades consumidoras\n"
        "Unidade Consumidora;Classe;Mês;Consumo (kWh)\n"
        "UC-0001;RE1;1;100\n"
        "UC-0002;XYZ;1;100\n"
        "UC-0003;RE1;1;-5\n"
        "UC-0004;;1;100\n"
        "UC-0005;CO1;13;100\n"
        "UC-0006;CO1;1;abc\n"
        "UC-0001;RE1;1;120\n"
        "UC-0007;IP;1;500\n"
        "UC-0008;Comercial;fev;1.518\n"
        "UC-0009;CO1;1;\n"
        "UC-0010;CO1;1;10;extra\n"
        "UC-0011;Poder Público Municipal;2024-03;200\n",
        encoding="utf-8",
    )
    table = read_consumers(path)
    assert len(table.records) == 12
    reasons = dict(zip(table.records["linha"], table.records["motivo"], strict=True))
    assert reasons[4] == "classe desconhecida ('XYZ')"
    assert reasons[5] == "consumo (kWh) negativo"
    assert reasons[6] == "classe não informada"
    assert reasons[7] == "mês inválido ou vazio"
    assert reasons[8] == "consumo (kWh) não numérico"
    assert reasons[9] == "unidade e mês repetidos (a primeira linha vale)"
    assert reasons[10].startswith("iluminação pública")
    assert reasons[12] == "consumo (kWh) vazio"
    assert reasons[13] == "linha malformada"
    assert table.ano == 2024
    result = compute_cip("santo_antonio_do_planalto", table, tariffs)
    counts = result.reading.groupby("situacao")["linhas"].sum()
    assert counts.sum() == 12
    assert counts.to_dict() == {"aproveitada": 3, "nao_contribuinte": 1, "rejeitada": 8}
    year = result.by_class.set_index("classe")
    assert year.at["comercial", "kwh_base"] == pytest.approx(1_518)  # 1.518 = mil quinhentos
    assert year.at["poder_publico", "kwh_base"] == pytest.approx(200)
    assert result.total_rs == pytest.approx((100 * 1 + 1_518 * 2 + 200 * 4) * 0.07)
    rejected = result.reading[result.reading["situacao"] == "rejeitada"]
    assert "UC-" not in rejected.to_csv()  # row numbers only, no identifier
    assert rejected.set_index("motivo").at["consumo (kWh) negativo", "exemplos_linhas"] == "5"


def test_wide_long_and_xlsx_agree(tmp_path: Path, tariffs: Path) -> None:
    rng = np.random.default_rng(7)
    codes = ["RE1", "RE2", "CO1", "IN", "RU1", "PP3", "SP2", "CPR"]
    units = [(f"UC{i:03d}", codes[i % len(codes)]) for i in range(40)]
    kwh = rng.choice([0, 49, 50, 70, 71, 300, 301, 2_999, 3_001, 7_001, 12_500], size=(40, 12))
    wide = pd.DataFrame({"COD_ID": [u for u, _ in units], "CLAS_SUB": [c for _, c in units]})
    for m in range(12):
        wide[f"ENE_{m + 1:02d}"] = kwh[:, m].astype(float) + 0.25
    wide.to_csv(tmp_path / "wide.csv", index=False)
    wide.to_excel(tmp_path / "wide.xlsx", index=False)
    rows = [
        (u, c, m + 1, f"{kwh[i, m] + 0.25:.2f}".replace(".", ","))
        for i, (u, c) in enumerate(units)
        for m in range(12)
    ]
    colorado = user_rules(tmp_path, "colorado")
    results = [
        compute_cip(colorado, p, tariffs)
        for p in (tmp_path / "wide.csv", tmp_path / "wide.xlsx", long_csv(tmp_path, rows))
    ]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0].by_class_month, other.by_class_month)
    assert results[0].months == 12
    assert results[0].by_class.set_index("classe").at["total", "faturas"] == 480


def test_municipality_filter_and_years(tmp_path: Path, tariffs: Path) -> None:
    path = tmp_path / "mun.csv"
    path.write_text(
        "uc,classe,mun,mes,kwh\nA,RE1,4320909,1,100\nB,RE1,4309803,1,100\nC,RE1,,1,100\n",
        encoding="utf-8",
    )
    result = compute_cip("santo_antonio_do_planalto", path, tariffs, municipio_ibge=4320909)
    counts = result.reading.groupby("situacao")["linhas"].sum().to_dict()
    assert counts == {"aproveitada": 1, "outro_municipio": 1, "rejeitada": 1}
    assert result.total_rs == pytest.approx(7.0)
    everything = compute_cip("santo_antonio_do_planalto", path, tariffs)
    assert any("2 municípios" in w for w in everything.warnings)
    no_column = long_csv(tmp_path, [("A", "RE1", 1, 100)])
    with pytest.raises(InputFileError, match="não tem coluna de município"):
        read_consumers(no_column, municipio_ibge=4320909)
    two_years = long_csv(tmp_path, [("A", "RE1", "2023-12", 1), ("A", "RE1", "2024-01", 1)], "y")
    with pytest.raises(InputFileError, match="mais de um ano"):
        read_consumers(two_years)


def test_input_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="não encontrado"):
        read_consumers(tmp_path / "nada.csv")
    no_energy = tmp_path / "x.csv"
    no_energy.write_text("unidade;classe;observacao\nA;RE1;x\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="'kwh'"):
        read_consumers(no_energy)
    both = tmp_path / "y.csv"
    both.write_text("unidade;classe;mes;kwh;ENE_01\nA;RE1;1;2;3\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="um formato só"):
        read_consumers(both)
    archive = tmp_path / "z.zip"
    pd.DataFrame({"a": [1]}).to_csv(archive, index=False, compression="zip")
    with pytest.raises(InputFileError, match="não contém uma BDGD"):
        read_consumers(archive)


def test_rules_file_errors_name_the_key(tmp_path: Path) -> None:
    cases = {
        'aliquota = { valor = 7, unidade = "R$", fonte = "x lei" }\n': "aliquota",
        'aliquota = { valor = 170, unidade = "%", fonte = "x lei" }\n': "aliquota",
        'aliquota = "a definir"\n': "aliquota",
        '[classes.residencia]\nisenta = { fonte = "lei x" }\n': "classes.residencia",
        '[classes.residencial]\nlimite_kwh = { valor = -1, fonte = "lei" }\n': (
            "classes.residencial.limite_kwh"
        ),
    }
    for i, (text, key) in enumerate(cases.items()):
        path = tmp_path / f"r{i}.toml"
        path.write_text('herda = "colorado"\n' + text, encoding="utf-8")
        with pytest.raises(RulesError) as info:
            load_cip_rules(path)
        assert info.value.field == key, text
    loop = tmp_path / "loop.toml"
    loop.write_text('herda = "loop"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="circular"):
        load_cip_rules(loop)


# --- outputs, program summary, CLI --------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    app.command("cip")(cip_cmd)
    return app


def test_outputs_and_cli(tmp_path: Path) -> None:
    rows = [("SEGREDO-1", "RE1", 1, 100), ("SEGREDO-2", "IN", 2, 15_000)]
    consumers = long_csv(tmp_path, rows)
    out = tmp_path / "saida"
    run = CliRunner().invoke(
        _app(),
        [
            "cip",
            "--cip-regras",
            "santo_antonio_do_planalto",
            "--cip-consumidores",
            str(consumers),
            "--saida",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "TARIFAS DE EXEMPLO" in run.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "cip.json",
        "cip.xlsx",
        "cip_anual.csv",
        "cip_classe_mes.csv",
        "cip_leitura.csv",
    ]
    anual = pd.read_csv(out / "cip_anual.csv")
    # example tariffs 0,80 R$/kWh: (100 + 12.000) × 0,80 × 7 %
    assert anual.set_index("classe").at["total", "cip_rs"] == pytest.approx(677.60)
    assert anual["proveniencia"].str.startswith("TARIFAS DE EXEMPLO").all()
    data = json.loads((out / "cip.json").read_text(encoding="utf-8"))
    assert data["cip_anual_rs"] == pytest.approx(677.60)
    assert data["proveniencia"]["regras_cip"]["lei"] == "Lei Complementar 006/2002"
    assert data["proveniencia"]["tarifas"]["exemplo"] is True
    assert len(data["classe_mes"]) == len(CLASSES) * 12
    from openpyxl import load_workbook

    book = load_workbook(out / "cip.xlsx", read_only=True)
    assert book.sheetnames[:4] == [
        "Anual",
        "Por classe e mês",
        "Regras aplicadas",
        "Leitura do arquivo",
    ]
    cells = " ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row)
    book.close()
    for text in (cells, *(p.read_text(encoding="utf-8") for p in out.glob("*.[cj]s*"))):
        assert "SEGREDO" not in text  # LGPD: no unit identifier in any output


def test_cip_summary(tmp_path: Path, tariffs: Path) -> None:
    consumers = long_csv(tmp_path, [("A", "RE1", 1, 1_000), ("B", "CO1", 1, 500)])
    summary = cip_summary(
        "santo_antonio_do_planalto",
        consumers,
        tariffs,
        lighting_energy_kwh_month=1_000,
        added_lighting_kwh_month=200,
    )
    revenue = (1_000 * 1.0 + 500 * 2.0) * 0.07  # 140,00
    assert summary["arrecadacao_cip_anual_rs"] == pytest.approx(revenue)
    assert summary["tarifa_iluminacao_rs_kwh"] == 0.5
    assert summary["custo_iluminacao_atual_anual_rs"] == pytest.approx(1_000 * 12 * 0.5)
    assert summary["custo_iluminacao_projetado_anual_rs"] == pytest.approx(1_200 * 12 * 0.5)
    assert summary["folga_anual_rs"] == pytest.approx(revenue - 7_200)
    assert summary["por_classe"]["comercial"] == pytest.approx(70.0)
    json.dumps(summary)  # serialisable, for the assessment's provenance
    own = cip_summary(
        "santo_antonio_do_planalto",
        consumers,
        tariffs,
        lighting_energy_kwh_month=100,
        lighting_tariff=1.0,
    )
    assert own["custo_iluminacao_projetado_anual_rs"] == pytest.approx(1_200)
    with pytest.raises(GeoIPError):
        cip_summary("santo_antonio_do_planalto", consumers, tariffs, lighting_energy_kwh_month=-1)


# --- the real BDGD ----------------------------------------------------------------------------

_PREFIXES = {
    "RE": "residencial",
    "CO": "comercial",
    "IN": "industrial",
    "RU": "rural",
    "PP": "poder_publico",
    "SP": "servico_publico",
    "CP": "consumo_proprio",
}


def _independent_cip(zip_path: Path, mun: str, rate: float) -> pd.DataFrame:
    """Colorado's rules on UCBT_tab with plain pandas: CIP and kWh per class."""
    import pyogrio

    src = f"/vsizip/{zip_path.as_posix()}/{zip_path.name.removesuffix('.zip')}"
    energy = [f"ENE_{m:02d}" for m in range(1, 13)]
    raw = pyogrio.read_dataframe(
        src,
        layer="UCBT_tab",
        columns=["COD_ID", "CLAS_SUB", "MUN", "DAT_CON", *energy],
        read_geometry=False,
    )
    raw = raw[raw["MUN"].astype(str) == mun]
    raw = raw[raw["CLAS_SUB"] != "IP"].reset_index(drop=True)
    raw["classe"] = raw["CLAS_SUB"].str[:2].map(_PREFIXES)
    long = raw.melt(
        id_vars=["COD_ID", "classe", "DAT_CON"],
        value_vars=energy,
        var_name="m",
        value_name="kwh",
        ignore_index=False,
    ).reset_index()
    long["mes"] = long["m"].str[-2:].astype(int)
    connected = pd.to_datetime(long["DAT_CON"], format="%d/%m/%Y")
    before = (connected.dt.year > 2024) | (
        (connected.dt.year == 2024) & (long["mes"] < connected.dt.month)
    )
    long = long[~(before & (long["kwh"] <= 0))].sort_values(["index", "mes"])
    # a unit split in two records: a zero month is no invoice when the other has consumption
    positive = long["kwh"] > 0
    any_positive = positive.groupby([long["COD_ID"], long["mes"]]).transform("max")
    first = ~long.duplicated(["COD_ID", "mes"])
    long = long[(long["kwh"] > 0) | (~any_positive & first)]
    cap = long["classe"].map({**_NO_RURAL}).fillna(np.inf)
    exempt = (long["classe"] == "rural") | ((long["classe"] == "residencial") & (long["kwh"] <= 50))
    long["base"] = np.where(exempt, 0.0, np.minimum(long["kwh"], cap))
    long["cip"] = long["base"] * long["classe"].map(TARIFF) * rate / 100
    return long.groupby("classe")[["kwh", "base", "cip"]].sum()


@pytest.mark.slow
def test_real_bdgd_against_plain_pandas(tmp_path: Path, tariffs: Path) -> None:
    zip_path = require(BDGD_ZIP)
    rules = user_rules(tmp_path, "colorado", rate=5.0)
    result = compute_cip(rules, zip_path, tariffs, municipio_ibge=4320909)  # Tapejara
    expected = _independent_cip(zip_path, "4320909", 5.0)
    year = result.by_class.set_index("classe")
    for cls in CLASSES:
        want = (
            expected.loc[cls] if cls in expected.index else pd.Series(0.0, ["kwh", "base", "cip"])
        )
        assert year.at[cls, "cip_rs"] == pytest.approx(want["cip"], rel=1e-9), cls
        assert year.at[cls, "kwh_base"] == pytest.approx(want["base"], rel=1e-9), cls
        assert year.at[cls, "kwh_consumo"] == pytest.approx(want["kwh"], rel=1e-9), cls
    assert result.total_rs == pytest.approx(expected["cip"].sum(), rel=1e-9)
    assert year.at["rural", "cip_rs"] == 0  # Colorado: rural exempt
    counts = result.reading.groupby("situacao")["linhas"].sum().to_dict()
    assert counts == {"aproveitada": 11_498, "nao_contribuinte": 3, "outro_municipio": 1_799}
    assert result.provenance["entrada"]["ano_referencia"] == 2024

    files = write_cip_outputs(result, tmp_path / "saida")
    import pyogrio

    src = f"/vsizip/{zip_path.as_posix()}/{zip_path.name.removesuffix('.zip')}"
    ids = pyogrio.read_dataframe(
        src, layer="UCBT_tab", columns=["COD_ID", "PAC"], read_geometry=False
    )
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "saida" / "cip.xlsx", read_only=True)
    texts = [" ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row)]
    book.close()
    texts += [p.read_text(encoding="utf-8") for p in files if p.suffix in (".csv", ".json")]
    personal = set(ids["COD_ID"]) | set(ids["PAC"])
    for text in texts:
        tokens = set(re.split(r"[^0-9A-Za-z_]+", text))
        assert not tokens & personal, "a consumer-unit identifier in an output"


def test_xlsx_numbers_are_numbers(tmp_path: Path, tariffs: Path) -> None:
    frame = pd.DataFrame({"uc": ["A", "B"], "classe": ["CO1", "CO1"], "mes": [1, 1]})
    frame["kwh"] = [1.518, 2000]  # numeric cells: 1,518 kWh and 2.000 kWh
    frame.to_excel(tmp_path / "n.xlsx", index=False)
    result = compute_cip("santo_antonio_do_planalto", tmp_path / "n.xlsx", tariffs)
    assert result.by_class.set_index("classe").at["comercial", "kwh_base"] == pytest.approx(
        2001.518
    )


@pytest.mark.slow
def test_real_bdgd_whole_file_is_accounted_for(tmp_path: Path, tariffs: Path) -> None:
    zip_path = require(BDGD_ZIP)
    result = compute_cip("santo_antonio_do_planalto", zip_path, tariffs)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path)
    folder = next(tmp_path.glob("*.gdb"))
    unzipped = compute_cip("santo_antonio_do_planalto", folder, tariffs)
    pd.testing.assert_frame_equal(unzipped.by_class, result.by_class)
    counts = result.reading.groupby("situacao")["linhas"].sum()
    assert counts.sum() == 13_300
    assert counts["nao_contribuinte"] == 3  # CLAS_SUB = IP
    year = result.by_class.set_index("classe")
    assert year.at["total", "unidades_consumidoras"] == 12_960  # distinct COD_ID, IP excluded
    assert any("2 municípios" in w for w in result.warnings)
    assert any("mais de um registro" in w for w in result.warnings)
