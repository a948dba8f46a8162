"""Brazilian address normalisation (geo_ip.requests.address): hand-checked tables."""

from __future__ import annotations

import pytest

from geo_ip.requests.address import (
    normalize_bairro,
    normalize_cep,
    normalize_number,
    normalize_street,
    normalize_text,
    parse_address,
    street_core,
)

# (input, expected (tipo, nome)); every expectation written by hand.
STREETS = [
    # street types
    ("R. das Flores", ("RUA", "DAS FLORES")),
    ("R das Flores", ("RUA", "DAS FLORES")),
    ("rua das flores", ("RUA", "DAS FLORES")),
    ("Av. Brasil", ("AVENIDA", "BRASIL")),
    ("Av Brasil", ("AVENIDA", "BRASIL")),
    ("Avda Brasil", ("AVENIDA", "BRASIL")),
    ("Trav. São José", ("TRAVESSA", "SAO JOSE")),
    ("Tv. São José", ("TRAVESSA", "SAO JOSE")),
    ("Al. dos Ipês", ("ALAMEDA", "DOS IPES")),
    ("Est. do Lami", ("ESTRADA", "DO LAMI")),
    ("Estr. do Lami", ("ESTRADA", "DO LAMI")),
    ("Rod. Municipal", ("RODOVIA", "MUNICIPAL")),
    ("Pç. da Matriz", ("PRACA", "DA MATRIZ")),
    ("Pça. da Matriz", ("PRACA", "DA MATRIZ")),
    ("Pca da Matriz", ("PRACA", "DA MATRIZ")),
    ("Pr. da Matriz", ("PRACA", "DA MATRIZ")),
    ("Lgo. do Machado", ("LARGO", "DO MACHADO")),
    ("Bc. dos Artistas", ("BECO", "DOS ARTISTAS")),
    ("Vl. Esperança", ("VILA", "ESPERANCA")),
    ("Acesso A", ("ACESSO", "A")),
    ("Viela 3", ("VIELA", "TRES")),
    ("Lg. do Machado", ("LARGO", "DO MACHADO")),
    ("Lg do Machado", ("LARGO", "DO MACHADO")),
    ("Vla. Esperança", ("VILA", "ESPERANCA")),
    ("Vie. Santo André", ("VIELA", "SANTO ANDRE")),
    ("Ld. São João", ("LADEIRA", "SAO JOAO")),
    ("Vd. Obirici", ("VIADUTO", "OBIRICI")),
    ("Viad. Obirici", ("VIADUTO", "OBIRICI")),
    ("Elev. Costa e Silva", ("ELEVADO", "COSTA E SILVA")),
    ("Elevado Costa e Silva", ("ELEVADO", "COSTA E SILVA")),
    ("Passar. Um", ("PASSARELA", "UM")),
    ("Rot. do Trevo", ("ROTATORIA", "DO TREVO")),
    ("Rótula das Cuias", ("ROTULA", "DAS CUIAS")),
    ("Beco15", ("BECO", "QUINZE")),  # a type glued to its number (OSM in Porto Alegre)
    # titles
    ("Rua Dr. Carlos Chagas", ("RUA", "DOUTOR CARLOS CHAGAS")),
    ("R. Prof. João Batista", ("RUA", "PROFESSOR JOAO BATISTA")),
    ("Av. Profa. Paula Soares", ("AVENIDA", "PROFESSORA PAULA SOARES")),
    ("R. Cel. Antônio Prado", ("RUA", "CORONEL ANTONIO PRADO")),
    ("R. Sta. Luzia", ("RUA", "SANTA LUZIA")),
    ("R. Sto. Antônio", ("RUA", "SANTO ANTONIO")),
    ("R. S. Sebastião", ("RUA", "SAO SEBASTIAO")),
    ("R. N. Sra. Aparecida", ("RUA", "NOSSA SENHORA APARECIDA")),
    ("R. Nsa. Sra. de Fátima", ("RUA", "NOSSA SENHORA DE FATIMA")),
    ("R. Pe. Anchieta", ("RUA", "PADRE ANCHIETA")),
    ("R. Mal. Deodoro", ("RUA", "MARECHAL DEODORO")),
    ("R. Gen. Osório", ("RUA", "GENERAL OSORIO")),
    ("R. Cap. Montanha", ("RUA", "CAPITAO MONTANHA")),
    ("R. Ten. Ary Tarragô", ("RUA", "TENENTE ARY TARRAGO")),
    ("R. Sgt. Nicolau", ("RUA", "SARGENTO NICOLAU")),
    ("Av. Gov. Valadares", ("AVENIDA", "GOVERNADOR VALADARES")),
    ("Av. Pres. Vargas", ("AVENIDA", "PRESIDENTE VARGAS")),
    ("R. Dep. Ulisses", ("RUA", "DEPUTADO ULISSES")),
    ("R. Ver. Pedro", ("RUA", "VEREADOR PEDRO")),
    ("R. Eng. Rebouças", ("RUA", "ENGENHEIRO REBOUCAS")),
    ("R. Des. André da Rocha", ("RUA", "DESEMBARGADOR ANDRE DA ROCHA")),
    ("R. Min. Salgado", ("RUA", "MINISTRO SALGADO")),
    ("R. D. Pedro I", ("RUA", "DOM PEDRO UM")),
    ("R. Gal. Osório", ("RUA", "GENERAL OSORIO")),
    ("Av. Dra. Ruth Cardoso", ("AVENIDA", "DOUTORA RUTH CARDOSO")),
    ("R. Alm. Tamandaré", ("RUA", "ALMIRANTE TAMANDARE")),
    ("R. Cmte. Lara", ("RUA", "COMANDANTE LARA")),
    ("R. Cmt Lara", ("RUA", "COMANDANTE LARA")),
    ("R. Tte. Ary Tarragô", ("RUA", "TENENTE ARY TARRAGO")),
    ("R. Msr. Veras", ("RUA", "MONSENHOR VERAS")),
    ("R. Mons. Veras", ("RUA", "MONSENHOR VERAS")),
    ("R. Mto. Villa Lobos", ("RUA", "MAESTRO VILLA LOBOS")),
    ("R. Marq. do Herval", ("RUA", "MARQUES DO HERVAL")),
    ("R. Visc. do Rio Branco", ("RUA", "VISCONDE DO RIO BRANCO")),
    ("R. Dna. Laura", ("RUA", "DONA LAURA")),
    ("R. Sd. João", ("RUA", "SOLDADO JOAO")),
    ("R. Cb. Rocha", ("RUA", "CABO ROCHA")),
    ("R. Del. Pires", ("RUA", "DELEGADO PIRES")),
    ("R. Nsra. Aparecida", ("RUA", "NOSSA SENHORA APARECIDA")),
    ("R. N.S. Aparecida", ("RUA", "NOSSA SENHORA APARECIDA")),
    ("R. Sra. do Carmo", ("RUA", "SENHORA DO CARMO")),
    ("Rua Del Rey", ("RUA", "DEL REY")),  # without the dot: a word of the name
    ("Rua Cabo Rocha", ("RUA", "CABO ROCHA")),
    # accents, case, punctuation
    ("RUA GETÚLIO VARGAS", ("RUA", "GETULIO VARGAS")),
    ("rua getulio vargas", ("RUA", "GETULIO VARGAS")),
    ("Rua  Getúlio-Vargas.", ("RUA", "GETULIO VARGAS")),
    ("Rua D'Ávila", ("RUA", "DAVILA")),
    # numbers in names: one canonical form (words) for digits, words and Roman numerals
    ("Rua Sete de Setembro", ("RUA", "SETE DE SETEMBRO")),
    ("Rua 7 de Setembro", ("RUA", "SETE DE SETEMBRO")),
    ("Av. Quinze de Novembro", ("AVENIDA", "QUINZE DE NOVEMBRO")),
    ("Av 15 de Novembro", ("AVENIDA", "QUINZE DE NOVEMBRO")),
    ("Rua XV de Novembro", ("RUA", "QUINZE DE NOVEMBRO")),
    ("Rua Dom Pedro II", ("RUA", "DOM PEDRO DOIS")),
    ("Rua Dom Pedro 2", ("RUA", "DOM PEDRO DOIS")),
    ("Rua 1º de Maio", ("RUA", "UM DE MAIO")),
    ("Rua 1o de Maio", ("RUA", "UM DE MAIO")),
    ("Rua Primeiro de Maio", ("RUA", "UM DE MAIO")),
    ("Rua 10", ("RUA", "DEZ")),
    ("Rua Dez", ("RUA", "DEZ")),
    ("Beco 483A", ("BECO", "QUATROCENTOS E OITENTA E TRES A")),
    # single letters stay letters (loteamento streets), no type stays None
    ("Rua C", ("RUA", "C")),
    ("Rua R", ("RUA", "R")),
    ("Rua D", ("RUA", "D")),
    ("das Flores", (None, "DAS FLORES")),
]


@pytest.mark.parametrize(("text", "expected"), STREETS)
def test_normalize_street_table(text: str, expected: tuple[str | None, str]) -> None:
    assert normalize_street(text) == expected


def test_table_is_large_enough() -> None:
    assert len(STREETS) >= 25


def test_same_street_written_differently_gives_the_same_key() -> None:
    variants = [
        "Rua 7 de Setembro",
        "R. Sete de Setembro",
        "RUA SETE DE SETEMBRO",
        "r 7 de setembro",
    ]
    assert {normalize_street(v) for v in variants} == {("RUA", "SETE DE SETEMBRO")}
    assert normalize_street("Avenida João XXIII") == normalize_street("av joao 23")


def test_normalize_street_is_idempotent_on_its_output() -> None:
    for text, (tipo, nome) in STREETS:
        key = f"{tipo} {nome}" if tipo else nome
        assert normalize_street(key) == (tipo, nome), text


def test_normalize_text() -> None:
    assert normalize_text("  Rua  São-João, nº 12 ") == "RUA SAO JOAO NO 12"
    assert normalize_text("Conceição/Açaí") == "CONCEICAO ACAI"
    assert normalize_text(None) == ""  # type: ignore[arg-type]


def test_street_core_drops_titles_and_prepositions() -> None:
    assert street_core("DOUTOR JOAO PESSOA") == "JOAO PESSOA"
    assert street_core("DAS FLORES") == "FLORES"
    assert street_core("NOSSA SENHORA DE FATIMA") == "NOSSA SENHORA FATIMA"
    assert street_core("DOS") == "DOS"  # nothing left: the name itself


def test_street_core_keeps_a_title_word_after_the_name() -> None:
    # after a name, Marques, Bispo, Conde are surnames: "Rua Azevedo Marques" is not
    # "Rua Tenente Azevedo"
    assert street_core("AZEVEDO MARQUES") == "AZEVEDO MARQUES"
    assert street_core("JOSE BISPO") == "JOSE BISPO"
    assert street_core("TENENTE CORONEL DOUTOR ARY DA SILVA") == "ARY SILVA"
    assert street_core("MARQUES DE SAO VICENTE") == "SAO VICENTE"


@pytest.mark.parametrize(
    "tipo",
    ["VILA", "VIELA", "BECO", "LARGO", "TRAVESSA", "ELEVADO", "VIADUTO", "PASSARELA", "ESCADARIA"],
)
def test_street_types_are_recognised(tipo: str) -> None:
    assert normalize_street(f"{tipo.title()} Santa Rita") == (tipo, "SANTA RITA")
    assert parse_address(f"{tipo.lower()} santa rita, 12").chave == f"{tipo} SANTA RITA"


# (endereco, numero field, expected chave, numero, sem_numero, complemento)
NUMBERS = [
    ("Rua das Flores, 123", None, "RUA DAS FLORES", 123, False, None),
    ("R. das Flores nº 123", None, "RUA DAS FLORES", 123, False, None),
    ("R. das Flores n° 123", None, "RUA DAS FLORES", 123, False, None),
    ("R. das Flores, nº123", None, "RUA DAS FLORES", 123, False, None),
    ("Rua das Flores 123 casa 2", None, "RUA DAS FLORES", 123, False, "CASA 2"),
    (
        "Av. Assis Brasil, 3.000 - apto 201",
        None,
        "AVENIDA ASSIS BRASIL",
        3000,
        False,
        "APARTAMENTO 201",
    ),
    ("Rua das Flores, 12A", None, "RUA DAS FLORES", 12, False, "A"),
    ("Rua R, 45", None, "RUA R", 45, False, None),  # not "Rua 45" (enderecobr drops the R)
    ("R. R nº 45", None, "RUA R", 45, False, None),
    ("Rua 10, 45", None, "RUA DEZ", 45, False, None),
    ("Rua 10 45", None, "RUA DEZ", 45, False, None),
    ("Rua 10", None, "RUA DEZ", None, False, None),
    ("Rua 7 de Setembro 100", None, "RUA SETE DE SETEMBRO", 100, False, None),
    ("Rua 7 de Setembro", None, "RUA SETE DE SETEMBRO", None, False, None),
    ("Travessa 2 casa 3", None, "TRAVESSA DOIS", None, False, "CASA 3"),
    ("Rua da Casa 5", None, "RUA DA CASA", 5, False, None),
    ("Rua X, s/n", None, "RUA X", None, True, None),
    ("Estrada do Lami S/N", None, "ESTRADA DO LAMI", None, True, None),
    ("Estrada do Lami sem número", None, "ESTRADA DO LAMI", None, True, None),
    ("Estrada do Lami", "sn", "ESTRADA DO LAMI", None, True, None),
    ("Estrada do Lami", "S/N", "ESTRADA DO LAMI", None, True, None),
    ("Rua das Flores", "0045", "RUA DAS FLORES", 45, False, None),
    ("Rua das Flores, 99", "45", "RUA DAS FLORES", 45, False, None),  # the field wins
    ("Rua das Flores 45", "45", "RUA DAS FLORES", 45, False, None),  # repeated number
    ("Rua Projetada 3", "45", "RUA PROJETADA TRES", 45, False, None),  # 3 is the name's
]


@pytest.mark.parametrize(("endereco", "numero", "chave", "num", "sn", "comp"), NUMBERS)
def test_number_extraction(
    endereco: str, numero: str | None, chave: str, num: int | None, sn: bool, comp: str | None
) -> None:
    parsed = parse_address(endereco, numero)
    assert (parsed.chave, parsed.numero, parsed.sem_numero, parsed.complemento) == (
        chave,
        num,
        sn,
        comp,
    )


@pytest.mark.parametrize(
    ("cep", "expected"),
    [
        ("37640-000", "37640000"),
        ("37.640-000", "37640000"),
        ("37640000", "37640000"),
        (" 37640 000 ", "37640000"),
        ("37640000.0", "37640000"),  # read as a number by a spreadsheet
        ("3764000", None),  # 7 digits
        ("37640-0000", None),  # 9 digits
        ("3764O-000", None),  # letter O
        ("", None),
        (None, None),
    ],
)
def test_cep(cep: str | None, expected: str | None) -> None:
    assert normalize_cep(cep) == expected


def test_parse_address_fills_bairro_and_cep() -> None:
    parsed = parse_address("R. das Flores, 10", bairro="Jd. das Palmeiras", cep="37.640-000")
    assert parsed.bairro == "JARDIM DAS PALMEIRAS"
    assert parsed.cep == "37640000"
    assert parsed.tipo == "RUA" and parsed.nome == "DAS FLORES"


def test_a_cpf_typed_as_a_neighbourhood_is_not_spelled_out() -> None:
    """Issue 17: an 11-digit bairro (a CPF) crashed the geocoder with an OverflowError."""
    assert normalize_bairro("52998224725") == "52998224725"
    assert normalize_bairro("Bairro 15") == "BAIRRO QUINZE"


def test_normalize_bairro() -> None:
    assert normalize_bairro("Jd. das Palmeiras") == "JARDIM DAS PALMEIRAS"
    assert normalize_bairro("Vl. Nova") == "VILA NOVA"
    assert normalize_bairro("Pq. dos Maias") == "PARQUE DOS MAIAS"
    assert normalize_bairro("  ") is None


def test_normalize_number() -> None:
    assert normalize_number("0210") == (210, False, None)
    assert normalize_number("123A") == (123, False, "A")
    assert normalize_number(45.0) == (45, False, None)
    assert normalize_number("s/n") == (None, True, None)
    assert normalize_number("0") == (None, True, None)
    assert normalize_number(None) == (None, False, None)


def test_blank_address() -> None:
    parsed = parse_address("", None, "Centro", None)
    assert parsed.chave == "" and parsed.numero is None and parsed.bairro == "CENTRO"
