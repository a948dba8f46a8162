"""Eligibility: Art. 5, I and II, Art. 4 §2 warnings, Art. 11 flag, history file."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from geo_ip.errors import InputFileError
from geo_ip.law.eligibility import RESULT_COLUMNS, check
from geo_ip.requests.cpf import cpf_hash
from geo_ip.requests.history_file import read_history
from geo_ip.requests.intake import validate_requests
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.rules.config import Rules, load_rules
from geo_ip.rules.params import Param
from geo_ip.schema import HISTORY_COLUMNS

RULES = load_rules("extrema")
REF = date(2026, 11, 20)
KEY = b"chave-de-teste-0123456789"
# Hand-checked CPFs (see tests/test_privacy.py for the check digits).
CPF = "123.456.789-09"
CPF2 = "111.444.777-35"
YEARS = int(RULES.elegibilidade.anos_beneficio_identico.valor)
START = REF.replace(year=REF.year - YEARS)  # 2021-11-20 with the 5 years of the rules
PER_CAPITA = RULES.hipossuficiencia.per_capita_limit_rs
FAMILY = RULES.hipossuficiencia.family_limit_rs
BASE = {
    "protocolo": "P-1",
    "data_protocolo": "2026-06-01",
    "tipo": "extensao_rede",
    "latitude": "-22.90",
    "longitude": "-46.38",
    "residencias": "1",
    "moradores": "3",
    "cadunico": "sim",
    "uso_imovel": "residencial",
    "cpf_solicitante": CPF,
}
ASK = "a Comissão pode solicitar documentos (Art. 4 §2, III)"


def _check(
    rows: list[dict[str, str]],
    history: pd.DataFrame | None = None,
    rules: Rules = RULES,
) -> pd.DataFrame:
    table = validate_requests(pd.DataFrame([{**BASE, **r} for r in rows]), rules, today=REF)
    return check(table, rules, history=history, reference_date=REF, key=KEY)


def _one(history: pd.DataFrame | None = None, **fields: str) -> pd.Series:
    return _check([fields], history).iloc[0]


def test_the_rules_values_these_tests_rely_on() -> None:
    assert YEARS == 5
    assert date(2021, 11, 20) == START
    assert (PER_CAPITA, FAMILY) == (810.5, 4863.0)  # ½ and 3 minimum wages of R$ 1.621,00
    assert set(RULES.elegibilidade.usos_inelegiveis) == {"comercial", "industrial", "servicos"}


def test_residential_with_cadunico_is_eligible_without_notes() -> None:
    row = _one()
    assert row["elegivel"]
    assert row["motivos_inelegibilidade"] == ""
    assert row["fundamento_inelegibilidade"] == ""
    assert row["avisos_elegibilidade"] == ""
    assert not row["pedido_estrategico"]
    assert row["cpf_hash"] == cpf_hash(CPF, KEY)
    assert row["cpf_solicitante"] == "***.456.789-**"


def test_result_columns_and_types() -> None:
    out = _check([{}, {"protocolo": "P-2"}])
    assert set(RESULT_COLUMNS) <= set(out.columns)
    assert out["elegivel"].dtype == bool and out["pedido_estrategico"].dtype == bool


# --- Art. 5, I ------------------------------------------------------------------------------


def test_commercial_without_mei_is_ineligible() -> None:
    row = _one(uso_imovel="comercial", mei="não")
    assert not row["elegivel"]
    assert row["motivos_inelegibilidade"] == (
        "Art. 5, I: imóvel de uso comercial e o solicitante não é MEI"
    )
    assert row["fundamento_inelegibilidade"] == "Art. 5, I"


def test_commercial_with_mei_blank_is_ineligible() -> None:
    row = _one(uso_imovel="Comércio")
    assert row["motivos_inelegibilidade"] == (
        "Art. 5, I: imóvel de uso comercial e o solicitante não informou se é MEI"
    )


def test_commercial_mei_with_cadunico_is_eligible_with_a_warning() -> None:
    row = _one(uso_imovel="comercial", mei="sim", cadunico="sim")
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, I: imóvel de uso comercial de MEI em hipossuficiência comprovada (inscrição no "
        "CadÚnico): elegível pela exceção; a Comissão confere"
    )


def test_service_mei_with_declared_income_within_the_limit_is_eligible() -> None:
    # 2000 / 3 people = 666,67 <= 810,50.
    row = _one(uso_imovel="servicos", mei="sim", cadunico="não", renda_familiar="2.000,00")
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, I: imóvel de uso de prestação de serviços de MEI em hipossuficiência "
        "comprovada (renda declarada dentro do limite): elegível pela exceção; a Comissão confere"
    )


def test_mei_without_hardship_is_ineligible() -> None:
    # 6000 / 3 people = 2000 > 810,50 and 6000 > 4863, no CadÚnico.
    row = _one(uso_imovel="industrial", mei="sim", cadunico="não", renda_familiar="6000")
    assert not row["elegivel"]
    # both reasons, each with its article: the income (Art. 4) and the use (Art. 5, I)
    assert row["motivos_inelegibilidade"] == (
        f"Art. 4, caput e Art. 2, IV: renda declarada acima do limite ({LIMITS}), sem inscrição "
        "no CadÚnico nem documentos aceitos pela Comissão | Art. 5, I: imóvel de uso "
        "industrial; o solicitante é MEI, mas sem hipossuficiência comprovada (nem inscrição no "
        f"CadÚnico nem renda declarada dentro do limite: {LIMITS})"
    )
    assert row["fundamento_inelegibilidade"] == "Art. 4, caput; Art. 2, IV; Art. 5, I"
    assert row["avisos_elegibilidade"] == ""  # no Art. 4 §2 repetition


def test_mei_without_any_proof_is_ineligible() -> None:
    row = _one(uso_imovel="comercial", mei="sim", cadunico="")
    assert not row["elegivel"]
    assert row["fundamento_inelegibilidade"] == "Art. 5, I"


def test_mixed_use_is_eligible_with_a_warning() -> None:
    row = _one(uso_imovel="misto")
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, I: imóvel de uso misto; elegível se a obra atende a moradia, a Comissão "
        "verifica o uso"
    )


def test_mixed_use_listed_in_the_rules_is_ineligible() -> None:
    el = RULES.elegibilidade.model_copy(update={"usos_inelegiveis": ("comercial", "misto")})
    rules = RULES.model_copy(update={"elegibilidade": el})
    row = _check([{"uso_imovel": "misto", "mei": "não"}], rules=rules).iloc[0]
    assert row["motivos_inelegibilidade"] == (
        "Art. 5, I: imóvel de uso misto e o solicitante não é MEI"
    )


def test_blank_use_is_taken_as_residential_with_a_warning() -> None:
    row = _one(uso_imovel="")
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, I: uso do imóvel não informado; considerado residencial"
    )


# --- Art. 4 §2: hardship, the program's condition ------------------------------------------

PENDING_NOTE = (
    "Art. 4 §2: hipossuficiência não comprovada{detail}; pedido pendente de comprovação, sem "
    f"participação do Município até lá; {ASK}"
)
LIMITS = "renda per capita até R$ 810,50 ou renda familiar até R$ 4.863,00"


def _per_capita_only() -> Rules:
    """The rules with only the per-capita limit (the family-income limit omitted)."""
    hs = RULES.hipossuficiencia
    family = hs.renda_familiar_maxima_sm.model_copy(update={"valor": None})
    return RULES.model_copy(
        update={"hipossuficiencia": hs.model_copy(update={"renda_familiar_maxima_sm": family})}
    )


def test_cadunico_proves_hardship() -> None:
    row = _one(cadunico="sim")
    assert (row["hipossuficiencia"], row["condicao_hipossuficiencia"]) == ("cadunico", "comprovada")
    assert row["pendencia_hipossuficiencia"] == ""


def test_income_exactly_at_the_per_capita_limit_proves_hardship() -> None:
    # 7 people × R$ 810,50 = R$ 5.673,50 (above the family limit of R$ 4.863,00).
    row = _one(cadunico="não", renda_familiar="5.673,50", moradores="7")
    assert row["hipossuficiencia"] == "declaracao"
    assert row["elegivel"] and row["avisos_elegibilidade"] == ""


def test_income_a_cent_above_both_limits_is_ineligible() -> None:
    row = _one(cadunico="não", renda_familiar="5.673,51", moradores="7")
    assert row["hipossuficiencia"] == "acima_do_limite"
    assert row["condicao_hipossuficiencia"] == "não comprovada"
    assert not row["elegivel"]
    assert row["fundamento_inelegibilidade"] == "Art. 4, caput; Art. 2, IV"
    assert row["motivos_inelegibilidade"] == (
        f"Art. 4, caput e Art. 2, IV: renda declarada acima do limite ({LIMITS}), sem inscrição "
        "no CadÚnico nem documentos aceitos pela Comissão"
    )
    texts = row["motivos_inelegibilidade"] + row["avisos_elegibilidade"]
    assert "5.673" not in texts and "5673" not in texts


def test_a_family_income_within_three_minimum_wages_proves_hardship() -> None:
    # one person, R$ 4.863,00 = 3 × R$ 1.621,00: per capita far above, family at the limit.
    assert _one(cadunico="não", renda_familiar="4.863,00", moradores="1")["hipossuficiencia"] == (
        "declaracao"
    )
    assert _one(cadunico="não", renda_familiar="4.863,01", moradores="1")["hipossuficiencia"] == (
        "acima_do_limite"
    )


def test_thirty_thousand_a_month_without_cadunico_is_ineligible() -> None:
    row = _one(cadunico="não", renda_familiar="30.000,00", moradores="4")
    assert not row["elegivel"] and row["hipossuficiencia"] == "acima_do_limite"


def test_family_size_is_the_average_household_when_several_residences() -> None:
    # per-capita limit only: 2 residences, 6 people → family of 3; 2400 / 3 = 800 <= 810,50,
    # 2500 / 3 = 833,33 > 810,50 (2500 / 6 would be 416,67, within).
    rules = _per_capita_only()
    rows = _check(
        [
            {"cadunico": "não", "renda_familiar": "2400", "residencias": "2", "moradores": "6"},
            {"cadunico": "não", "renda_familiar": "2500", "residencias": "2", "moradores": "6"},
        ],
        rules=rules,
    )
    assert rows["hipossuficiencia"].tolist() == ["declaracao", "acima_do_limite"]


def test_no_proof_of_hardship_is_pending_not_ineligible() -> None:
    row = _one(cadunico="", renda_familiar="")
    assert row["elegivel"]
    assert (row["hipossuficiencia"], row["condicao_hipossuficiencia"]) == (
        "sem_comprovacao",
        "pendente",
    )
    assert row["avisos_elegibilidade"] == PENDING_NOTE.format(
        detail=" (sem inscrição no CadÚnico nem declaração de renda)"
    )
    assert row["pendencia_hipossuficiencia"] == (
        "falta comprovar a hipossuficiência financeira (Art. 4 §2): inscrição ativa no CadÚnico "
        f"(I), declaração de composição familiar e renda dentro do limite — {LIMITS} (II, Art. "
        "2, IV) — ou outros documentos aceitos pela Comissão (III)"
    )


def test_income_without_residents_is_checked_against_the_family_limit() -> None:
    assert _one(cadunico="não", renda_familiar="900", moradores="")["hipossuficiencia"] == (
        "declaracao"
    )
    row = _check(
        [{"cadunico": "não", "renda_familiar": "900", "moradores": ""}], rules=_per_capita_only()
    ).iloc[0]
    assert row["hipossuficiencia"] == "sem_comprovacao"
    assert row["avisos_elegibilidade"] == PENDING_NOTE.format(
        detail=" (renda familiar declarada sem o número de moradores: renda per capita não "
        "calculada)"
    )


def test_cadunico_with_income_above_the_limit_is_proven_with_a_warning() -> None:
    row = _one(cadunico="sim", renda_familiar="9000", moradores="1")
    assert row["elegivel"] and row["hipossuficiencia"] == "cadunico"
    assert row["avisos_elegibilidade"] == (
        "Art. 4 §2, I: inscrito no CadÚnico (comprova a hipossuficiência), mas a renda declarada "
        f"passa do limite ({LIMITS}, Art. 2, IV); a Comissão confere"
    )


def test_the_commission_accepts_other_documents() -> None:
    table = validate_requests(
        pd.DataFrame(
            [
                {**BASE, "protocolo": "P-1", "cadunico": "não"},
                {
                    **BASE,
                    "protocolo": "P-2",
                    "cadunico": "não",
                    "renda_familiar": "30000",
                    "cpf_solicitante": CPF2,
                },
                {**BASE, "protocolo": "P-3", "cadunico": "não", "cpf_solicitante": ""},
            ]
        ),
        RULES,
        today=REF,
    )
    audit = "decidido por Maria em 12/11/2026: contracheque e declaração do CRAS"
    out = check(table, RULES, reference_date=REF, key=KEY, accepted={"P-1": audit, "P-2": audit})
    assert out["hipossuficiencia"].tolist() == [
        "aceita_comissao",
        "aceita_comissao",
        "sem_comprovacao",
    ]
    assert out["elegivel"].tolist() == [True, True, True]
    assert out["condicao_hipossuficiencia"].tolist() == ["comprovada", "comprovada", "pendente"]
    assert out["avisos_elegibilidade"].iloc[0] == (
        "Art. 4 §2, III: hipossuficiência aceita pela Comissão com outros documentos | Art. 4 §2, "
        f"III: decisão da Comissão — {audit}"
    )


def test_types_outside_the_rules_do_not_need_hardship() -> None:
    hs = RULES.hipossuficiencia.model_copy(update={"tipos": ("extensao_rede",)})
    rules = RULES.model_copy(update={"hipossuficiencia": hs})
    rows = _check(
        [
            {"protocolo": "P-1", "tipo": "melhoria", "cadunico": "não"},
            {"protocolo": "P-2", "tipo": "extensao_rede", "cadunico": "não"},
        ],
        rules=rules,
    )
    assert rows["hipossuficiencia"].tolist() == ["nao_exigida", "sem_comprovacao"]
    assert rows["condicao_hipossuficiencia"].tolist() == ["não exigida", "pendente"]


# --- Art. 5, II from the request ------------------------------------------------------------


def test_benefit_four_years_eleven_months_ago_is_ineligible() -> None:
    day = START + timedelta(days=30)  # 2021-12-20
    row = _one(beneficio_anterior_data=day.isoformat())
    assert not row["elegivel"]
    assert row["motivos_inelegibilidade"] == (
        "Art. 5, II: benefício idêntico concedido em 20/12/2021 (declarado no pedido; tipo "
        "presumido idêntico), nos últimos 5 anos, sem justificativa de fato superveniente "
        "(campo 'beneficio_anterior_justificativa')"
    )
    assert row["fundamento_inelegibilidade"] == "Art. 5, II"


def test_benefit_five_years_and_one_day_ago_is_eligible() -> None:
    row = _one(beneficio_anterior_data=(START - timedelta(days=1)).strftime("%d/%m/%Y"))
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == ""


def test_benefit_exactly_five_years_ago_still_counts() -> None:
    # Código Civil art. 132 §3: the period of years ends on the day of the same number.
    assert not _one(beneficio_anterior_data=START.isoformat())["elegivel"]


def test_boundary_follows_the_rules_value() -> None:
    el = RULES.elegibilidade.model_copy(
        update={"anos_beneficio_identico": Param(valor=3, unidade="anos", fonte="teste")}
    )
    rules = RULES.model_copy(update={"elegibilidade": el})
    day = date(2023, 11, 19).isoformat()  # 3 years and 1 day before REF
    assert _check([{"beneficio_anterior_data": day}], rules=rules)["elegivel"].iloc[0]
    assert not _check([{"beneficio_anterior_data": day}])["elegivel"].iloc[0]


def test_justified_previous_benefit_is_eligible_with_a_warning() -> None:
    row = _one(
        beneficio_anterior_data="2021-12-20",
        beneficio_anterior_justificativa="rede destruída por temporal em 2025",
    )
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, II: benefício idêntico em 20/12/2021 (declarado no pedido; tipo presumido "
        "idêntico), nos últimos 5 anos; fato superveniente justificado — a Comissão decide"
    )


def test_both_reasons_are_listed() -> None:
    row = _one(uso_imovel="comercial", mei="não", beneficio_anterior_data="2024-01-01")
    assert row["fundamento_inelegibilidade"] == "Art. 5, I; Art. 5, II"
    assert row["motivos_inelegibilidade"].count(" | ") == 1


# --- Art. 5, II from the history file -------------------------------------------------------


def _history_csv(tmp_path: Path, text: str, name: str = "historico.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_history_match_by_clear_cpf(tmp_path: Path) -> None:
    path = _history_csv(tmp_path, f"protocolo,data,cpf,tipo\nH-1,10/03/2023,{CPF},extensao_rede\n")
    history, rejected = read_history(path, KEY, today=REF)
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history.iloc[0].to_dict() == {
        "linha": 2,
        "protocolo": "H-1",
        "data": date(2023, 3, 10),
        "tipo": "extensao_rede",
        "cpf_hash": cpf_hash(CPF, KEY),
    }
    assert rejected.empty
    row = _one(history)
    assert not row["elegivel"]
    assert row["motivos_inelegibilidade"] == (
        "Art. 5, II: benefício idêntico concedido em 10/03/2023 (histórico, protocolo H-1), nos "
        "últimos 5 anos, sem justificativa de fato superveniente (campo "
        "'beneficio_anterior_justificativa')"
    )


def test_history_match_by_hash(tmp_path: Path) -> None:
    digest = cpf_hash("12345678909", KEY)
    path = _history_csv(tmp_path, f"protocolo;data;cpf_hash;tipo\nH-7;2022-01-15;{digest};\n")
    history, _ = read_history(path, KEY, today=REF)
    row = _one(history)
    assert row["motivos_inelegibilidade"].startswith(
        "Art. 5, II: benefício idêntico concedido em 15/01/2022 (histórico, protocolo H-7; tipo "
        "não informado, presumido idêntico)"
    )


def test_history_of_another_type_is_not_identical(tmp_path: Path) -> None:
    path = _history_csv(tmp_path, f"protocolo,data,cpf,tipo\nH-1,2023-03-10,{CPF},melhoria\n")
    history, _ = read_history(path, KEY, today=REF)
    row = _one(history)
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, II: benefício de outro tipo (melhoria de iluminação pública) em 10/03/2023 "
        "(histórico, protocolo H-1): não é idêntico"
    )


def test_history_of_another_applicant_or_too_old_does_not_count(tmp_path: Path) -> None:
    text = f"data,cpf,tipo\n2023-03-10,{CPF2},extensao_rede\n2021-11-19,{CPF},extensao_rede\n"
    history, _ = read_history(_history_csv(tmp_path, text), KEY, today=REF)
    row = _one(history)
    assert row["elegivel"] and row["avisos_elegibilidade"] == ""


def test_history_hashed_with_another_key_does_not_match(tmp_path: Path) -> None:
    digest = cpf_hash(CPF, b"chave-de-outro-municipio-000")
    history, _ = read_history(_history_csv(tmp_path, f"data,cpf_hash\n2023-03-10,{digest}\n"), KEY)
    assert _one(history)["elegivel"]


def test_invalid_cpf_with_history_is_a_warning(tmp_path: Path) -> None:
    history, _ = read_history(_history_csv(tmp_path, f"data,cpf\n2023-03-10,{CPF}\n"), KEY)
    row = _one(history, cpf_solicitante="")
    assert row["elegivel"]
    assert row["avisos_elegibilidade"] == (
        "Art. 5, II: CPF ausente ou inválido; benefício anterior não verificado no histórico"
    )


def test_history_rejected_rows_name_file_row_and_field(tmp_path: Path) -> None:
    text = (
        "protocolo,data,cpf,cpf_hash,tipo\n"
        f"H-1,2023-03-10,{CPF},,extensao_rede\n"
        "H-2,2023-03-10,123.456.789-00,,\n"
        f"H-3,,{CPF2},,\n"
        f"H-4,31/02/2023,{CPF2},,\n"
        f"H-5,março,{CPF2},,\n"
        "H-6,2023-03-10,,xyz,\n"
        "H-7,2023-03-10,,,\n"
        f"H-8,2023-03-10,{CPF2},,poda\n"
    )
    path = _history_csv(tmp_path, text)
    history, rejected = read_history(path, KEY, today=REF)
    assert history["protocolo"].tolist() == ["H-1"]
    where = f"arquivo '{path}', linha"
    assert rejected["linha"].tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert rejected["motivo"].tolist() == [
        f"{where} 3: campo 'cpf': CPF inválido, dígitos verificadores não conferem "
        "(***.456.789-**)",
        f"{where} 4: campo 'data': obrigatório, está vazio",
        f"{where} 5: campo 'data': data inexistente ('31/02/2023')",
        f"{where} 6: campo 'data': data em formato não reconhecido ('março'); use dd/mm/aaaa ou "
        "aaaa-mm-dd",
        f"{where} 7: campo 'cpf_hash': hash inválido ('xyz'); esperado 'h:' e 16 caracteres "
        "hexadecimais, gerado pelo geo_ip com a chave LGPD do Município",
        f"{where} 8: campos 'cpf' e 'cpf_hash': vazios; informe o CPF ou o seu hash",
        f"{where} 9: campo 'tipo': tipo desconhecido ('poda'); use extensao_rede, implantacao ou "
        "melhoria (ou deixe em branco)",
    ]
    report = rejected.to_csv() + history.to_csv()
    assert scan_for_personal_data(report, [CPF, CPF2, "123.456.789-00"]) == []


def test_history_xlsx_with_title_row_and_tolerant_headers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Benefícios concedidos — Programa de Iluminação"])
    sheet.append(["Nº Protocolo", "Data da Execução", "CPF do Beneficiário", "Tipo de Obra"])
    sheet.append(["H-1", datetime(2024, 5, 2), 12345678909, "Extensão de rede"])
    sheet.append(["H-2", "02/05/2024", 1234567890, "Melhoria"])  # leading zero lost
    path = tmp_path / "historico.xlsx"
    book.save(path)
    history, rejected = read_history(path, KEY, today=REF)
    assert rejected.empty
    assert history["linha"].tolist() == [3, 4]
    assert history["data"].tolist() == [date(2024, 5, 2), date(2024, 5, 2)]
    assert history["tipo"].tolist() == ["extensao_rede", "melhoria"]
    assert history["cpf_hash"].tolist() == [cpf_hash(CPF, KEY), cpf_hash("012.345.678-90", KEY)]


def test_history_empty_file_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="arquivo vazio"):
        read_history(_history_csv(tmp_path, "\n\n"), KEY)
    with pytest.raises(InputFileError, match="histórico de benefícios não encontrado"):
        read_history(tmp_path / "nao_existe.csv", KEY)
    with pytest.raises(InputFileError, match=r"campo 'cpf': coluna obrigatória 'cpf' \(ou"):
        read_history(_history_csv(tmp_path, "protocolo,data,tipo\nH-1,2023-01-01,\n"), KEY)


def test_history_header_only_is_empty_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        history, rejected = read_history(_history_csv(tmp_path, "data,cpf\n"), KEY)
    assert history.empty and rejected.empty
    assert "histórico de benefícios vazio" in caplog.text
    assert _one(history)["elegivel"]


# --- same applicant twice, Art. 11, LGPD ----------------------------------------------------


def test_two_requests_of_the_same_cpf_are_a_warning() -> None:
    out = _check(
        [
            {"protocolo": "P-1", "cpf_solicitante": CPF},
            {"protocolo": "P-2", "cpf_solicitante": "12345678909"},
            {"protocolo": "P-3", "cpf_solicitante": CPF2},
        ]
    )
    assert out["elegivel"].tolist() == [True, True, True]
    assert out["avisos_elegibilidade"].tolist() == [
        "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: P-2; a "
        "Comissão verifica",
        "Art. 5, II: o mesmo solicitante (CPF) tem outro(s) pedido(s) nesta planilha: P-1; a "
        "Comissão verifica",
        "",
    ]


def test_strategic_flag_needs_the_justification() -> None:
    out = _check(
        [
            {"protocolo": "P-1", "estrategico": "sim", "justificativa_estrategica": "turismo"},
            {"protocolo": "P-2", "estrategico": "sim"},
            {"protocolo": "P-3", "estrategico": "não"},
        ]
    )  # the three share a CPF: the Art. 11 note comes after the Art. 5, II one
    assert out["pedido_estrategico"].tolist() == [True, False, False]
    assert out["situacao"].tolist() == ["ok", "erro", "ok"]  # intake's error, still reported
    assert out["avisos_elegibilidade"].iloc[1].split(" | ")[-1] == (
        "Art. 11: marcado como estratégico sem a justificativa técnica e administrativa "
        "expressa; não é tratado como Art. 11"
    )
    assert out["elegivel"].tolist() == [True, True, True]


def test_output_has_no_cpf_in_clear() -> None:
    out = _check(
        [
            {"protocolo": "P-1", "nome_solicitante": "Ana Teste"},
            {"protocolo": "P-2", "cpf_solicitante": CPF2, "uso_imovel": "comercial"},
        ]
    )
    assert out["cpf_solicitante"].tolist() == ["***.456.789-**", "***.444.777-**"]
    assert scan_for_personal_data(out.to_csv(), [CPF, CPF2]) == []
    texts = " ".join(out["motivos_inelegibilidade"]) + " ".join(out["avisos_elegibilidade"])
    assert scan_for_personal_data(texts, [CPF, CPF2], ["Ana Teste"]) == []


def test_missing_columns_count_as_blank() -> None:
    table = pd.DataFrame({"protocolo": ["P-1"], "tipo": ["melhoria"]})
    row = check(table, RULES, reference_date=REF, key=KEY).iloc[0]
    assert row["elegivel"] and row["cpf_hash"] == ""
    assert row["avisos_elegibilidade"] == (
        "Art. 5, I: uso do imóvel não informado; considerado residencial | "
        + PENDING_NOTE.format(detail=" (sem inscrição no CadÚnico nem declaração de renda)")
    )
    assert row["hipossuficiencia"] == "sem_comprovacao"


def test_history_rows_dated_in_the_future_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "historico.csv"
    path.write_text(
        "protocolo,data,cpf,tipo\nP-1,2099-01-01,123.456.789-09,extensao_rede\n", encoding="utf-8"
    )
    history, rejected = read_history(path, b"k" * 32, today=date(2026, 11, 20))
    assert len(history) == 0
    assert rejected["motivo"].iloc[0].endswith("campo 'data': data futura (2099-01-01)")
