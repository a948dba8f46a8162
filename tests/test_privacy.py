"""LGPD: keyed CPF hash, key file, public and internal views, scan for personal data."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.requests.cpf import KEY_ENV, cpf_hash, cpf_problem, load_key
from geo_ip.requests.privacy import PERSONAL_COLUMNS, internal_view, public_view
from geo_ip.requests.redaction import REDACTED, name_parts, redact_text, scan_for_personal_data

KEY = b"chave-de-teste-0123456789"
OTHER_KEY = b"outra-chave-de-teste-9876543210"
# 123.456.789-?? : d1 = 210 mod 11 = 1 (< 2) -> 0; d2 = 255 mod 11 = 2 -> 11-2 = 9.
CPF = "123.456.789-09"
# 111.444.777-?? : d1 = 162 mod 11 = 8 -> 3; d2 = 204 mod 11 = 6 -> 5.
CPF2 = "111.444.777-35"
# 012.345.678-?? : d1 = 156 mod 11 = 2 -> 9; d2 = 210 mod 11 = 1 (< 2) -> 0.
CPF_ZERO = "012.345.678-90"


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def _expected(digits: str, key: bytes) -> str:
    return "h:" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:16]


# --- hash -----------------------------------------------------------------------------------


def test_hash_is_the_truncated_hmac_of_the_eleven_digits() -> None:
    assert cpf_hash(CPF, KEY) == _expected("12345678909", KEY)
    assert len(cpf_hash(CPF, KEY)) == 18


def test_hash_stable_for_the_same_key_and_different_for_another() -> None:
    assert cpf_hash(CPF, KEY) == cpf_hash(CPF, KEY)
    assert cpf_hash(CPF, KEY) != cpf_hash(CPF, OTHER_KEY)
    assert cpf_hash(CPF, KEY) != cpf_hash(CPF2, KEY)


@pytest.mark.parametrize("layout", ["12345678909", " 123.456.789-09 ", "123456789-09", 12345678909])
def test_formatted_and_bare_cpf_give_the_same_hash(layout: object) -> None:
    assert cpf_hash(layout, KEY) == cpf_hash(CPF, KEY)


def test_cpf_that_lost_its_leading_zero_in_a_spreadsheet() -> None:
    assert cpf_hash(1234567890, KEY) == cpf_hash(CPF_ZERO, KEY) == _expected("01234567890", KEY)


@pytest.mark.parametrize(
    "bad", ["", None, float("nan"), "123", "111.111.111-11", "123.456.789-00", "123.456.789-0a"]
)
def test_empty_or_invalid_cpf_gives_empty_hash(bad: object) -> None:
    assert cpf_hash(bad, KEY) == ""


def test_cpf_problem_messages_are_masked() -> None:
    assert cpf_problem(CPF) == ""
    assert cpf_problem("") == ""
    assert cpf_problem("123") == "CPF deve ter 11 dígitos (tem 3)"
    assert cpf_problem("111.111.111-11") == "CPF inválido, todos os dígitos iguais (***.111.111-**)"
    assert cpf_problem("123.456.789-00") == (
        "CPF inválido, dígitos verificadores não conferem (***.456.789-**)"
    )


# --- key ------------------------------------------------------------------------------------


def test_key_created_once_then_reused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    target = tmp_path / "saida" / ".chave_lgpd"
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        key = load_key(create_at=target)
    assert target.is_file()
    text = target.read_text().strip()
    assert key == text.encode() and len(text) == 64 and int(text, 16) >= 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "não a publique" in caplog.text
    assert text not in caplog.text
    assert load_key(create_at=target) == key
    assert load_key(target) == key


def test_explicit_key_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="arquivo da chave LGPD não encontrado"):
        load_key(tmp_path / "nao_existe", create_at=tmp_path / ".chave_lgpd")
    assert not (tmp_path / ".chave_lgpd").exists()


def test_short_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chave"
    path.write_text("curta\n")
    with pytest.raises(InputFileError, match=r"curta demais \(mínimo 16 caracteres\)"):
        load_key(path)


def test_environment_variable_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chave"
    path.write_text("chave-do-arquivo-123456\n")
    monkeypatch.setenv(KEY_ENV, "chave-do-ambiente-123456")
    assert load_key(path) == b"chave-do-ambiente-123456"
    monkeypatch.setenv(KEY_ENV, "curta")
    with pytest.raises(GeoIPError, match=KEY_ENV):
        load_key(path)


def test_without_any_key_a_run_only_key_is_used(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        first, second = load_key(), load_key()
    assert first != second and len(first) == 64
    assert "chave só desta execução" in caplog.text


# --- views ----------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "protocolo": ["12345678909", "P-2"],  # an 11-digit protocol is not redacted
            "endereco": ["Rua A, 10", "Rua B"],
            "cpf_solicitante": [CPF, "11144477735"],
            "nome_solicitante": ["Ana Cláudia Ficticia", "Benedito Teste"],
            "renda_familiar": [1850.0, float("nan")],
            "cadunico": pd.array([True, pd.NA], dtype="boolean"),
            "mei": pd.array([pd.NA, False], dtype="boolean"),
            "beneficio_anterior_data": [None, None],
            "beneficio_anterior_justificativa": ["", "doença na família"],
            "observacoes": [f"falar com ana cláudia  ficticia, CPF {CPF}", "tel 35999998888"],
            "problemas": [
                "aviso: campo 'cep': CEP deve ter 8 dígitos ('123') | campo 'renda_familiar': "
                "não é um valor em reais ('R$ 1.850 por mês')",
                "",
            ],
            "cpf_hash": [cpf_hash(CPF, KEY), cpf_hash(CPF2, KEY)],
            "avisos_elegibilidade": ["Art. 4 §2: ...", ""],
            "motivos_inelegibilidade": ["", "Art. 5, I: ..."],
            "elegivel": [True, False],
        }
    )


def test_public_view_drops_every_personal_column_and_redacts_free_text() -> None:
    table = _table()
    view = public_view(table)
    # the applicant's free text (observacoes) never reaches a public output (issue 17)
    assert list(view.columns) == ["protocolo", "endereco", "problemas", "elegivel"]
    assert set(PERSONAL_COLUMNS).isdisjoint(view.columns)
    assert view["protocolo"].tolist() == ["12345678909", "P-2"]
    assert internal_view(table)["observacoes"].tolist() == [
        f"falar com {REDACTED}, CPF {REDACTED}",
        f"tel {REDACTED}",
    ]
    assert view["problemas"].iloc[0] == (
        f"aviso: campo 'cep': CEP deve ter 8 dígitos ('123') | campo 'renda_familiar': {REDACTED}"
    )
    text = view.drop(columns="protocolo").to_csv()
    assert scan_for_personal_data(text, table["cpf_solicitante"], table["nome_solicitante"]) == []
    assert "1850" not in text and "1.850" not in text
    assert table["observacoes"].iloc[1] == "tel 35999998888"  # input untouched


def test_public_view_keeps_a_geodataframe() -> None:
    gdf = gpd.GeoDataFrame(_table(), geometry=[shapely.Point(0, 0), shapely.Point(1, 1)])
    view = public_view(gdf)
    assert isinstance(view, gpd.GeoDataFrame)
    assert "cpf_solicitante" not in view.columns


def test_internal_view_masks_cpf_and_drops_name_and_income() -> None:
    view = internal_view(_table())
    assert view["cpf_solicitante"].tolist() == ["***.456.789-**", "***.444.777-**"]
    assert "nome_solicitante" not in view.columns and "renda_familiar" not in view.columns
    assert view["cadunico"].tolist() == ["sim", ""]
    assert view["cpf_hash"].tolist() == [cpf_hash(CPF, KEY), cpf_hash(CPF2, KEY)]
    assert view["beneficio_anterior_justificativa"].tolist() == ["", "doença na família"]
    assert view["problemas"].iloc[0].endswith(f"campo 'renda_familiar': {REDACTED}")
    again = internal_view(view)  # already masked values stay masked
    assert again["cpf_solicitante"].tolist() == ["***.456.789-**", "***.444.777-**"]


def test_how_hardship_was_proven_is_internal_only() -> None:
    table = _table().assign(
        hipossuficiencia=["cadunico", "sem_comprovacao"],
        condicao_hipossuficiencia=["comprovada", "pendente"],
        pendencia_hipossuficiencia=["", "falta comprovar a hipossuficiência financeira"],
        decisao_hipossuficiencia=[
            "",
            "decidido por Comissão em 2026-11-12: laudo social de Benedito Teste",
        ],
    )
    public = public_view(table)
    assert "hipossuficiencia" not in public.columns
    assert "decisao_hipossuficiencia" not in public.columns
    assert public["condicao_hipossuficiencia"].tolist() == ["comprovada", "pendente"]
    assert public["pendencia_hipossuficiencia"].tolist() == [
        "",
        "falta comprovar a hipossuficiência financeira",
    ]
    assert "cadunico" not in public.to_csv()
    internal = internal_view(table)
    assert internal["hipossuficiencia"].tolist() == ["cadunico", "sem_comprovacao"]
    # kept for the commission, the applicant's name redacted as in any decision text
    assert internal["decisao_hipossuficiencia"].iloc[1] == (
        f"decidido por Comissão em 2026-11-12: laudo social de {REDACTED}"
    )


def test_the_art12_procedure_number_is_redacted_as_free_text() -> None:
    # a hostile or careless procedure "number" carrying a CPF and the applicant's name
    table = _table().assign(procedimento_art12=[f"PA-7/2026 ({CPF})", "PA-8/2026 Benedito Teste"])
    public = public_view(table)
    assert public["procedimento_art12"].tolist() == [
        f"PA-7/2026 ({REDACTED})",
        f"PA-8/2026 {REDACTED}",
    ]


# --- scan and redact ------------------------------------------------------------------------


def test_scan_finds_formatted_and_bare_cpf() -> None:
    text = "linha 1: 123.456.789-09; linha 2: 12345678909; outro: 111.444.777-35"
    assert scan_for_personal_data(text, [CPF]) == ["CPF ***.456.789-**", "CPF ***.456.789-**"]
    assert scan_for_personal_data("protocolo 1234567890912", [CPF]) == []
    assert scan_for_personal_data("masked ***.456.789-**", [CPF]) == []


def test_scan_without_a_list_reports_valid_cpfs_only() -> None:
    text = "12345678909 e 12345678900 e 111.444.777-35"
    assert scan_for_personal_data(text) == ["CPF ***.456.789-**", "CPF ***.444.777-**"]


def test_scan_finds_names_case_insensitively() -> None:
    text = "Solicitante: ANA CLÁUDIA  Ficticia."
    assert scan_for_personal_data(text, [], ["Ana Cláudia Ficticia"]) == ["nome A.C.F."]
    assert scan_for_personal_data("Anastácia", [], ["Ana"]) == []


def test_redact_text() -> None:
    assert redact_text("CPF 123 456 789 09 de Ana", ["Ana"]) == f"CPF {REDACTED} de {REDACTED}"
    assert redact_text(None) == ""


# --- issue 17: detail messages, partial names, CPFs in every column ----------------------------


def _attack() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "protocolo": ["P-1", "P-2", "P-3"],
            "nome_solicitante": [
                "Brígida Conceição de Juazeirinho",
                "Ambrosina Jovelino Arapiraca",
                "Hermínia dos Santos",
            ],
            "cpf_solicitante": ["529.982.247-25", "", "123.456.789-09"],
            "endereco": [
                "Rua Inexistente dos Testes 529.982.247-25, casa de Brigida Juazeirinho",
                "Rua Arapiraca, 10",
                "R. Santos Dumont",
            ],
            "bairro": ["52998224725", "Centro", "Centro"],
            "telefone": ["", "cpf 111.444.777-35", ""],
            "observacoes": [
                "",
                "falar com JOVELINO arapiraca ou com Dona Ambrosina",
                "casa da Herminia dos Santos, na Santos Dumont",
            ],
            "justificativa_estrategica": ["pedido da Brígida", "", ""],
            "geocodificacao_detalhe": [
                "logradouro 'Rua Inexistente dos Testes 529.982.247-25, casa de Brigida "
                "Juazeirinho' não encontrado",
                "",
                "número encontrado",
            ],
            "logradouro_encontrado": [None, None, "Rua Santos Dumont"],
            "motivacao_trafego": [
                "vistoria: Brígida mora no fim da rua",
                "",
                "via local (Rua Santos Dumont)",
            ],
            "cpf_hash": [cpf_hash("529.982.247-25", KEY), "", cpf_hash(CPF, KEY)],
        }
    )


@pytest.mark.parametrize("view", [public_view, internal_view])
def test_detail_messages_are_redacted_as_free_text(view: object) -> None:
    """``geocodificacao_detalhe`` repeats the address as typed: CPF and name go (item 1)."""
    out = view(_attack())  # type: ignore[operator]
    assert out["geocodificacao_detalhe"].iloc[0] == (
        f"logradouro 'Rua Inexistente dos Testes {REDACTED}, casa de {REDACTED}' não encontrado"
    )


@pytest.mark.parametrize("view", [public_view, internal_view])
def test_parts_of_the_applicants_name_are_redacted(view: object) -> None:
    """Item 2: first name + one surname, accents and case aside; street names survive."""
    out = view(_attack())  # type: ignore[operator]
    # address: runs of two or more parts go, a single street word shared with a name stays
    assert out["endereco"].tolist() == [
        f"Rua Inexistente dos Testes {REDACTED}, casa de {REDACTED}",
        "Rua Arapiraca, 10",
        "R. Santos Dumont",
    ]
    # the Commission's motivation: a single part goes, unless it names the row's street
    assert out["motivacao_trafego"].tolist() == [
        f"vistoria: {REDACTED} mora no fim da rua",
        "",
        "via local (Rua Santos Dumont)",
    ]
    text = out.to_csv()
    for part in ("Brígida", "Brigida", "Juazeirinho", "Jovelino", "Ambrosina", "Herminia"):
        assert part.lower() not in text.lower(), part


def test_the_applicants_free_text_is_internal_only() -> None:
    """Item 2: observations and the strategic justification never reach a public output."""
    table = _attack()
    assert "observacoes" not in public_view(table).columns
    assert "justificativa_estrategica" not in public_view(table).columns
    internal = internal_view(table)
    assert internal["observacoes"].tolist() == [
        "",
        f"falar com {REDACTED} ou com Dona {REDACTED}",
        f"casa da {REDACTED}, na Santos Dumont",
    ]
    assert internal["justificativa_estrategica"].iloc[0] == f"pedido da {REDACTED}"


@pytest.mark.parametrize("view", [public_view, internal_view])
def test_cpf_shaped_values_are_masked_in_every_column(view: object) -> None:
    """Item 3: a CPF typed in bairro or in a column geo_ip does not know."""
    out = view(_attack())  # type: ignore[operator]
    assert out["bairro"].tolist() == [REDACTED, "Centro", "Centro"]
    assert out["telefone"].tolist() == ["", f"cpf {REDACTED}", ""]
    assert scan_for_personal_data(out.to_csv(), ["529.982.247-25", CPF, CPF2]) == []
    assert out["protocolo"].tolist() == ["P-1", "P-2", "P-3"]
    if "cpf_hash" in out.columns:  # the keyed hash is kept as it is (internal)
        assert out["cpf_hash"].tolist() == _attack()["cpf_hash"].tolist()
        assert out["cpf_solicitante"].tolist() == ["***.982.247-**", "", "***.456.789-**"]


def test_name_parts() -> None:
    assert name_parts("Brígida Conceição de Juazeirinho") == ("brigida", "conceicao", "juazeirinho")
    assert name_parts("Zé da Silva e Souza") == ("ze", "silva", "souza")
    assert name_parts("J. R. R. Tolkien") == ("tolkien",)
    assert name_parts(None) == ()


def test_redact_text_with_the_applicant() -> None:
    applicant = "Brígida Juazeirinho"
    assert redact_text("casa da BRIGIDA", applicant=applicant) == f"casa da {REDACTED}"
    assert redact_text("Rua Juazeirinho", applicant=applicant, address=True) == "Rua Juazeirinho"
    assert redact_text("Brigidas e Juazeirinhos", applicant=applicant) == "Brigidas e Juazeirinhos"
    assert redact_text("Brígida de Juazeirinho", applicant=applicant, address=True) == REDACTED
    # accents in the text, not in the name, and decomposed (NFD) accents
    assert redact_text("Bri\u0301gida", applicant="Brigida Souza") == REDACTED


def test_scan_finds_names_whatever_the_accents() -> None:
    assert scan_for_personal_data("brigida JUAZEIRINHO", [], ["Brígida Juazeirinho"]) == [
        "nome B.J."
    ]
