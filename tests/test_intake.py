"""Requests intake: reading every format, per-row validation, the `requests check` command."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import typer
from openpyxl import Workbook
from pyproj import Transformer
from typer.testing import CliRunner

from geo_ip.cli.requests import requests_app
from geo_ip.errors import InputFileError, RequestsFileError, TerritoryError
from geo_ip.requests.intake import (
    LOCATION,
    OPTIONAL,
    REPORT_COLUMNS,
    REQUIRED,
    mask_cpf,
    read_requests,
    requests_report,
    territory_boundary,
    validate_requests,
)
from geo_ip.rules.config import load_rules
from tests.conftest import POA, require

RULES = load_rules("extrema")
TODAY = date(2026, 6, 1)
# A box around Extrema's centre (lat -22.90, lon -46.38), x = longitude.
BOX = shapely.box(-46.45, -22.97, -46.30, -22.83)
BASE = {
    "protocolo": "2026-001",
    "data_protocolo": "2026-03-10",
    "tipo": "extensao_rede",
    "latitude": "-22.90",
    "longitude": "-46.38",
}
# CPF check digits, by hand, for 529.982.247-?? :
#   d1: 5·10+2·9+9·8+9·7+8·6+2·5+2·4+4·3+7·2 = 295; 295 mod 11 = 9 -> 11-9 = 2
#   d2: 5·11+2·10+9·9+9·8+8·7+2·6+2·5+4·4+7·3+2·2 = 347; 347 mod 11 = 6 -> 11-6 = 5
VALID_CPF = "529.982.247-25"
# 012.345.678-?? : d1 = 156 mod 11 = 2 -> 9; d2 = 210 mod 11 = 1 (< 2) -> 0.
VALID_CPF_ZERO = "012.345.678-90"


def _one(**fields: str) -> pd.Series:
    out = validate_requests(pd.DataFrame([{**BASE, **fields}]), RULES, today=TODAY)
    assert len(out) == 1
    return out.iloc[0]


# --- reading ---------------------------------------------------------------------------------


def test_semicolon_latin1_csv_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "pedidos.csv"
    text = (
        "Nº Protocolo;Data do protocolo;Tipo;Lat;Long;Endereço;Nº;Bairro;Nome;CPF;Observações\r\n"
        f"2026/001;10/03/2026;Extensão de rede;-22,9012;-46,3811;;;;José Conceição;{VALID_CPF};"
        "Poste caído\r\n"
        "2026/002;11/03/2026;Melhoria;;;Rua São João;120;Centro;Maria;;\r\n"
    )
    path.write_bytes(text.encode("latin-1"))
    table = read_requests(path)
    assert list(table.columns) == [
        "linha", "protocolo", "data_protocolo", "tipo", "latitude", "longitude", "endereco",
        "numero", "bairro", "nome_solicitante", "cpf_solicitante", "observacoes",
    ]  # fmt: skip
    assert table["linha"].tolist() == [2, 3]
    assert table["latitude"].tolist() == ["-22,9012", ""]
    assert table["endereco"].tolist() == ["", "Rua São João"]
    checked = validate_requests(table, RULES, boundary=BOX, today=TODAY)
    assert checked["situacao"].tolist() == ["ok", "ok"]
    assert checked["latitude"].iloc[0] == pytest.approx(-22.9012)
    assert checked["longitude"].iloc[0] == pytest.approx(-46.3811)
    assert checked["tipo"].tolist() == ["extensao_rede", "melhoria"]
    assert checked["data_protocolo"].tolist() == [date(2026, 3, 10), date(2026, 3, 11)]


def test_comma_utf8_bom_csv_blank_line_and_quoted_comma(tmp_path: Path) -> None:
    path = tmp_path / "pedidos.csv"
    text = (
        "protocolo,data_protocolo,tipo,latitude,longitude,endereco\n"
        "A1,2026-03-10,implantacao,-22.9,-46.38,\n"
        "\n"
        'A2,2026-03-11,melhoria,,,"Rua das Flores, 10"\n'
        "A3,2026-03-12,melhoria,,,Rua das Flores, 12\n"
    )
    path.write_bytes(text.encode("utf-8-sig"))
    table = read_requests(path)
    assert table.columns[1] == "protocolo"  # the BOM is not part of the header
    assert table["linha"].tolist() == [2, 4, 5]  # the blank line 3 still counts
    assert table["endereco"].tolist() == ["", "Rua das Flores, 10", "Rua das Flores"]
    checked = validate_requests(table, RULES, today=TODAY)
    assert checked["situacao"].tolist() == ["ok", "ok", "erro"]
    assert "linha com 7 células e cabeçalho com 6 colunas" in checked["problemas"].iloc[2]


def test_header_synonyms_and_reserved_names(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "N° protocolo;DATA;Tipo-Pedido;LAT;lng;Logradouro;Endereço;nº;Situação;;Renda\n"
        "1;2026-01-02;melhoria;-22.9;-46.38;R. A;Rua A;10;deferido;;1.518\n",
        encoding="utf-8",
    )
    table = read_requests(path)
    assert list(table.columns) == [
        "linha", "protocolo", "data_protocolo", "tipo", "latitude", "longitude", "logradouro",
        "endereco", "numero", "situacao_arquivo", "renda_familiar",
    ]  # fmt: skip
    checked = validate_requests(table, RULES, today=TODAY)
    assert checked["situacao_arquivo"].iloc[0] == "deferido"
    assert checked["situacao"].iloc[0] == "ok"
    assert checked["renda_familiar"].iloc[0] == 1518.0


def test_xlsx_with_title_row_and_merged_header(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "Prefeitura Municipal de Extrema — pedidos de iluminação"
    sheet.merge_cells("A1:F1")
    for col, name in zip("ABCF", ("Nº Protocolo", "Data", "Tipo", "Endereço"), strict=True):
        sheet[f"{col}2"] = name
        sheet.merge_cells(f"{col}2:{col}3")
    sheet["D2"] = "Localização"
    sheet.merge_cells("D2:E2")
    sheet["D3"], sheet["E3"] = "Lat", "Long"
    sheet.append([2026001, datetime(2026, 3, 10), "Melhoria", -22.9, -46.38, None])
    sheet.append(["2026002", "11/03/2026", "implantação", None, None, "Rua A, 10"])
    sheet.append([None] * 6)
    sheet.append([2026003, datetime(2026, 3, 12, 9, 30), "melhoria", -22.91, -46.37, ""])
    path = tmp_path / "pedidos.xlsx"
    book.save(path)
    table = read_requests(path)
    assert table["linha"].tolist() == [4, 5, 7]  # real sheet rows
    assert list(table.columns) == [
        "linha", "protocolo", "data_protocolo", "tipo", "latitude", "longitude", "endereco",
    ]  # fmt: skip
    assert table["protocolo"].tolist() == ["2026001", "2026002", "2026003"]
    assert table["data_protocolo"].tolist() == ["2026-03-10", "11/03/2026", "2026-03-12 09:30:00"]
    assert table["latitude"].tolist() == ["-22.9", "", "-22.91"]
    checked = validate_requests(table, RULES, boundary=BOX, today=TODAY)
    assert checked["situacao"].tolist() == ["ok", "ok", "ok"]
    assert checked["data_protocolo"].iloc[2] == date(2026, 3, 12)


def test_xlsx_group_title_over_sub_headers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Protocolo", "Data", "Tipo", "Coordenadas", None])
    sheet.merge_cells("D1:E1")
    sheet.append([None, None, None, "Latitude", "Longitude"])
    sheet.append(["P1", "10/03/2026", "melhoria", "-22,9", "-46,38"])
    path = tmp_path / "pedidos.xlsx"
    book.save(path)
    table = read_requests(path)
    assert table["linha"].tolist() == [3]
    assert table[["latitude", "longitude"]].iloc[0].tolist() == ["-22,9", "-46,38"]


def _points(crs: str) -> gpd.GeoDataFrame:
    lon, lat = np.array([-46.38, -46.37]), np.array([-22.90, -22.91])
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return gpd.GeoDataFrame(
        {
            "Protocolo": ["G1", "G2"],
            "data": ["2026-03-10", "2026-03-11"],
            "tipo": ["melhoria", "implantacao"],
            "moradores": [4, 6],
        },
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    )


@pytest.mark.parametrize(("suffix", "crs"), [(".geojson", "EPSG:4674"), (".gpkg", "EPSG:31983")])
def test_vector_points_reprojected(tmp_path: Path, suffix: str, crs: str) -> None:
    path = tmp_path / f"pedidos{suffix}"
    _points(crs).to_file(path)
    table = read_requests(path)
    assert table["linha"].tolist() == [1, 2]
    assert table["protocolo"].tolist() == ["G1", "G2"]
    assert table["moradores"].tolist() == ["4", "6"]
    checked = validate_requests(table, RULES, boundary=BOX, today=TODAY)
    np.testing.assert_allclose(checked["latitude"], [-22.90, -22.91], atol=1e-6)
    np.testing.assert_allclose(checked["longitude"], [-46.38, -46.37], atol=1e-6)
    assert checked["situacao"].tolist() == ["ok", "ok"]


def test_vector_null_geometry_keeps_row(tmp_path: Path) -> None:
    gdf = _points("EPSG:4674")
    gdf["endereco"] = ["", "Rua das Flores, 10"]
    gdf.loc[1, "geometry"] = None
    path = tmp_path / "p.gpkg"
    gdf.to_file(path)
    table = read_requests(path)
    assert table["latitude"].tolist() == ["-22.9000000", ""]
    assert validate_requests(table, RULES, today=TODAY)["situacao"].tolist() == ["ok", "ok"]


def test_vector_without_crs_or_not_points_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sem_crs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        _points("EPSG:4674").set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(RequestsFileError, match="não tem sistema de coordenadas"):
        read_requests(path)
    lines = _points("EPSG:4674")
    lines["geometry"] = [shapely.LineString([(0, 0), (1, 1)]), shapely.Point(0, 0)]
    path = tmp_path / "linhas.geojson"
    lines.to_file(path)
    with pytest.raises(RequestsFileError, match="devem ser pontos; a feição 1 é LineString"):
        read_requests(path)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RequestsFileError, match="arquivo de pedidos não encontrado") as info:
        read_requests(tmp_path / "nao_existe.csv")
    assert isinstance(info.value, InputFileError) and info.value.exit_code == 3
    assert "nao_existe.csv" in str(info.value)
    empty = tmp_path / "vazio.csv"
    empty.write_text("  \n\n", encoding="utf-8")
    with pytest.raises(RequestsFileError, match="arquivo vazio"):
        read_requests(empty)
    bad = tmp_path / "ruim.csv"
    bad.write_bytes(b"protocolo;data_protocolo;tipo;endereco\n\x81\x8d;x;y;z\n")
    with pytest.raises(RequestsFileError, match="codificação de caracteres não reconhecida"):
        read_requests(bad)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("protocolo;data_protocolo\n".encode("utf-16"))
    with pytest.raises(RequestsFileError, match="bytes nulos"):
        read_requests(utf16)
    corrupt = tmp_path / "corrompida.xlsx"
    corrupt.write_bytes(b"PK\x03\x04isto nao e uma planilha")
    with pytest.raises(RequestsFileError, match="planilha XLSX corrompida"):
        read_requests(corrupt)
    old = tmp_path / "antiga.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(RequestsFileError, match=r"\.xls \(Excel 97-2003\) não suportado"):
        read_requests(old)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("protocolo;tipo;latitude;longitude\n1;melhoria;-22.9;-46.38\n", "utf-8")
    with pytest.raises(
        RequestsFileError,
        match=r"campo 'data_protocolo': coluna obrigatória 'data_protocolo' não encontrada; "
        r"colunas encontradas: 'protocolo', 'tipo', 'latitude', 'longitude'",
    ):
        read_requests(path)
    path.write_text("id,lat,lon\na,-22.9,-46.38\n", "utf-8")
    with pytest.raises(
        RequestsFileError,
        match=r"coluna obrigatória 'protocolo' não encontrada; colunas encontradas: "
        r"'id', 'lat', 'lon'",
    ):
        read_requests(path)
    path.write_text("protocolo;data;tipo;latitude;bairro\n1;2026-01-01;melhoria;-22.9;C\n", "utf-8")
    with pytest.raises(RequestsFileError, match="faltam as colunas de localização"):
        read_requests(path)


def test_header_only_is_an_empty_table_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("protocolo;data_protocolo;tipo;endereco\n", "utf-8")
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        table = read_requests(path)
    assert table.empty and "protocolo" in table.columns
    assert "só o cabeçalho, nenhum pedido" in caplog.text
    checked = validate_requests(table, RULES, today=TODAY)
    assert checked.empty and {"situacao", "problemas", *REQUIRED, *OPTIONAL} <= set(checked)


# --- validation ------------------------------------------------------------------------------

CASES = [
    ({}, "ok", ""),
    ({"protocolo": ""}, "erro", "campo 'protocolo': obrigatório, está vazio"),
    ({"data_protocolo": "2027-01-05"}, "erro", "campo 'data_protocolo': data futura (2027-01-05)"),
    ({"data_protocolo": "05/01/27"}, "erro", "campo 'data_protocolo': data futura (2027-01-05)"),
    (
        {"data_protocolo": "31/02/2026"},
        "erro",
        "campo 'data_protocolo': data inexistente ('31/02/2026')",
    ),
    (
        {"data_protocolo": "03/25/2026"},
        "erro",
        "data inexistente ('03/25/2026') (formato dd/mm/aaaa)",
    ),
    (
        {"data_protocolo": "ontem"},
        "erro",
        "campo 'data_protocolo': data em formato não reconhecido ('ontem')",
    ),
    ({"data_protocolo": ""}, "erro", "campo 'data_protocolo': obrigatório, está vazio"),
    (
        {"data_protocolo": "01/01/2010"},
        "aviso",
        "aviso: campo 'data_protocolo': data antiga (2010-01-01), mais de 10 anos",
    ),
    ({"tipo": ""}, "erro", "campo 'tipo': obrigatório, está vazio"),
    (
        {"tipo": "melhora"},
        "erro",
        "campo 'tipo': tipo desconhecido ('melhora'); você quis dizer 'melhoria'?",
    ),
    (
        {"tipo": "poda de árvore"},
        "erro",
        "campo 'tipo': tipo desconhecido ('poda de árvore'); "
        "use extensao_rede, implantacao ou melhoria",
    ),
    (
        {"latitude": "", "longitude": ""},
        "erro",
        "campos 'latitude', 'longitude' e 'endereco': sem localização",
    ),
    ({"latitude": "", "longitude": "", "endereco": "Rua das Flores, 10"}, "ok", ""),
    ({"longitude": ""}, "erro", "campo 'longitude': vazio, só a outra coordenada foi informada"),
    ({"longitude": "", "endereco": "Rua A"}, "aviso", "será usado o endereço"),
    ({"latitude": "abc"}, "erro", "campo 'latitude': não é uma coordenada válida ('abc')"),
    (
        {"latitude": "22°54'0\"S"},
        "aviso",
        "aviso: campo 'latitude': coordenada em graus, minutos e segundos (22°54'0\"S) "
        "convertida para -22.9",
    ),
    (
        {"longitude": "46 22 48 O"},
        "aviso",
        "campo 'longitude': coordenada em graus, minutos e segundos (46 22 48 O) "
        "convertida para -46.38",
    ),
    ({"latitude": "22°75'S"}, "erro", "campo 'latitude': não é uma coordenada válida"),
    ({"latitude": "95"}, "erro", "campo 'latitude': fora do intervalo válido (-90 a 90): 95"),
    (
        {"longitude": "-200"},
        "erro",
        "campo 'longitude': fora do intervalo válido (-180 a 180): -200",
    ),
    (
        {"latitude": "7465000", "longitude": "330000"},
        "erro",
        "parece coordenada projetada em metros (UTM)",
    ),
    (
        {"latitude": "-46.38", "longitude": "-22.90"},
        "erro",
        "campos 'latitude'/'longitude': latitude e longitude trocadas?",
    ),
    ({"latitude": "52.5", "longitude": "13.4"}, "aviso", "ponto (52.5, 13.4) fora do Brasil"),
    ({"cpf_solicitante": VALID_CPF}, "ok", ""),
    ({"cpf_solicitante": "1234567890"}, "ok", ""),
    (
        {"cpf_solicitante": "529.982.247-26"},
        "erro",
        "campo 'cpf_solicitante': CPF inválido, dígitos verificadores não conferem "
        "(***.982.247-**)",
    ),
    (
        {"cpf_solicitante": "111.111.111-11"},
        "erro",
        "CPF inválido, todos os dígitos iguais (***.111.111-**)",
    ),
    (
        {"cpf_solicitante": "1234"},
        "erro",
        "campo 'cpf_solicitante': CPF deve ter 11 dígitos (tem 4)",
    ),
    ({"residencias": "-2"}, "erro", "campo 'residencias': valor negativo (-2)"),
    ({"residencias": "2,5"}, "erro", "campo 'residencias': não é um número inteiro ('2,5')"),
    (
        {"residencias": "120"},
        "aviso",
        "campo 'residencias': valor improvável (120 > 50 residências/pedido); confira",
    ),
    ({"moradores": "-1"}, "erro", "campo 'moradores': valor negativo (-1)"),
    (
        {"moradores": "250"},
        "aviso",
        "campo 'moradores': valor improvável (250 > 200 pessoas/pedido)",
    ),
    (
        {"residencias": "2", "moradores": "40"},
        "aviso",
        "campo 'moradores': 40 moradores em 2 residência(s), mais de 15 pessoas/residência",
    ),
    ({"residencias": "3.0", "moradores": "9"}, "ok", ""),
    ({"cadunico": "talvez"}, "erro", "campo 'cadunico': use sim ou não ('talvez')"),
    ({"mei": "X"}, "ok", ""),
    ({"renda_familiar": "R$ 1.518,00"}, "ok", ""),
    ({"renda_familiar": "abc"}, "erro", "campo 'renda_familiar': não é um valor em reais ('abc')"),
    ({"renda_familiar": "-10"}, "erro", "campo 'renda_familiar': valor negativo (-10)"),
    ({"uso_imovel": "Serviços"}, "ok", ""),
    ({"uso_imovel": "comercial", "mei": "sim"}, "ok", ""),
    (
        {"uso_imovel": "fazenda"},
        "erro",
        "campo 'uso_imovel': uso desconhecido ('fazenda'); "
        "use residencial, comercial, industrial, servicos ou misto",
    ),
    (
        {"estrategico": "sim"},
        "erro",
        "campo 'justificativa_estrategica': obrigatória quando estrategico = sim (Art. 11)",
    ),
    ({"estrategico": "Sim", "justificativa_estrategica": "acesso à escola"}, "ok", ""),
    ({"estrategico": "não"}, "ok", ""),
    (
        {"beneficio_anterior_data": "32/13/2020"},
        "erro",
        "campo 'beneficio_anterior_data': data inexistente ('32/13/2020')",
    ),
    (
        {"beneficio_anterior_data": "ano passado"},
        "erro",
        "campo 'beneficio_anterior_data': data em formato não reconhecido",
    ),
    ({"beneficio_anterior_data": "2020-05-01"}, "ok", ""),
    # issue 17, item 9: a number too large for an integer crashed the whole run
    (
        {"residencias": "99999999999999999999"},
        "erro",
        "campo 'residencias': valor fora do intervalo plausível ('99999999999999999999'): "
        "informe um número inteiro de 0 a 50 residências/pedido",
    ),
    (
        {"moradores": "-" + "9" * 400},
        "erro",
        "campo 'moradores': valor fora do intervalo plausível ('-999",
    ),
    ({"moradores": "1.000.001"}, "erro", "campo 'moradores': valor fora do intervalo"),
    ({"moradores": "1.000.000"}, "aviso", "campo 'moradores': valor improvável (1000000"),
    ({"residencias": "inf"}, "erro", "campo 'residencias': não é um número inteiro ('inf')"),
    ({"renda_familiar": "9" * 400}, "erro", "campo 'renda_familiar': valor fora do intervalo"),
    ({"renda_familiar": "20.000.000,00"}, "erro", "campo 'renda_familiar': valor fora do"),
    ({"renda_familiar": "nan"}, "erro", "campo 'renda_familiar': não é um valor em reais"),
    ({"latitude": "9" * 400}, "erro", "campo 'latitude': não é uma coordenada válida"),
    ({"longitude": "-inf"}, "erro", "campo 'longitude': não é uma coordenada válida"),
    # issue 17, item 12: an impossible time, the format of an ISO date, Arabic digits
    (
        {"data_protocolo": "2026-05-06T25:00"},
        "erro",
        "campo 'data_protocolo': data inexistente ('2026-05-06T25:00') (formato aaaa-mm-dd)",
    ),
    (
        {"data_protocolo": "06/05/2026 09:60"},
        "erro",
        "campo 'data_protocolo': data inexistente ('06/05/2026 09:60') (formato dd/mm/aaaa)",
    ),
    ({"data_protocolo": "2026-05-06T23:59:59"}, "ok", ""),
    (
        {"data_protocolo": "2026-02-29"},
        "erro",
        "campo 'data_protocolo': data inexistente ('2026-02-29') (formato aaaa-mm-dd)",
    ),
    ({"latitude": "١٢"}, "erro", "campo 'latitude': não é uma coordenada válida ('١٢')"),
    ({"cep": "37640-000"}, "ok", ""),
    ({"cep": "3764"}, "aviso", "campo 'cep': CEP deve ter 8 dígitos ('3764')"),
]


@pytest.mark.parametrize(("fields", "situacao", "fragment"), CASES)
def test_row_checks(fields: dict[str, str], situacao: str, fragment: str) -> None:
    row = _one(**fields)
    assert row["situacao"] == situacao
    if fragment:
        assert fragment in row["problemas"]
    else:
        assert row["problemas"] == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-10", date(2026, 3, 10)),
        ("10/03/2026", date(2026, 3, 10)),
        ("10-03-2026", date(2026, 3, 10)),
        ("10.03.2026", date(2026, 3, 10)),
        ("10/3/26", date(2026, 3, 10)),
        ("01/03/85", date(1985, 3, 1)),
        ("2026-03-10 14:30:00", date(2026, 3, 10)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_date_formats(text: str, expected: date) -> None:
    assert _one(data_protocolo=text)["data_protocolo"] == expected


def test_typed_values() -> None:
    row = _one(
        tipo="Extensão de Rede Elétrica",
        latitude="−22,905",
        residencias="3",
        cadunico="S",
        mei="0",
        estrategico="",
        renda_familiar="1.518,50",
        uso_imovel="Comércio",
        cpf_solicitante="1234567890",
        cep="3764000",
    )
    assert row["tipo"] == "extensao_rede"
    assert row["latitude"] == pytest.approx(-22.905)
    assert row["residencias"] == 3
    assert row["cadunico"] is True or row["cadunico"] == True  # noqa: E712 (pandas boolean)
    assert row["mei"] == False  # noqa: E712
    assert pd.isna(row["estrategico"])
    assert row["renda_familiar"] == pytest.approx(1518.5)
    assert row["uso_imovel"] == "comercial"
    assert row["cpf_solicitante"] == VALID_CPF_ZERO  # leading zero restored
    assert row["cep"] == "03764-000"
    assert pd.isna(row["latitude_corrigida"])


def test_blank_cep_stays_blank() -> None:
    assert _one(cep="")["cep"] == ""
    assert _one(cep="  ")["cep"] == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [("sim", True), ("Não", False), ("s", True), ("N", False), ("yes", True), ("no", False),
     ("TRUE", True), ("false", False), ("1", True), ("0", False), ("x", True), ("", None)],
)  # fmt: skip
def test_yes_no_values(text: str, expected: bool | None) -> None:
    value = _one(cadunico=text)["cadunico"]
    assert pd.isna(value) if expected is None else bool(value) is expected


def test_every_problem_of_a_row_is_listed() -> None:
    row = _one(
        protocolo="",
        data_protocolo="31/02/2026",
        tipo="poda",
        latitude="abc",
        cpf_solicitante="529.982.247-26",
        residencias="-1",
    )
    assert row["situacao"] == "erro"
    parts = row["problemas"].split(" | ")
    assert [p.split("'")[1] for p in parts] == [
        "protocolo", "data_protocolo", "tipo", "latitude", "residencias", "cpf_solicitante",
    ]  # fmt: skip


def test_duplicated_protocols_are_errors_on_every_line() -> None:
    df = pd.DataFrame([{**BASE, "protocolo": p} for p in ("A", "B", "A", "a", "A")])
    df.insert(0, "linha", [2, 3, 5, 6, 7])
    out = validate_requests(df, RULES, today=TODAY)
    assert out["situacao"].tolist() == ["erro", "ok", "erro", "erro", "erro"]
    assert out["problemas"].iloc[0] == (
        "campo 'protocolo': protocolo 'A' repetido (linhas 2, 5, 6, 7)"
    )
    assert "protocolo 'a' repetido (linhas 2, 5, 6, 7)" in out["problemas"].iloc[3]
    # the order of the rows never decides which one is kept
    shuffled = validate_requests(df.iloc[::-1].reset_index(drop=True), RULES, today=TODAY)
    assert shuffled["situacao"].tolist()[::-1] == out["situacao"].tolist()


def test_coordinates_against_the_boundary() -> None:
    rows = [
        {"latitude": "-22.90", "longitude": "-46.38"},  # inside
        {"latitude": "-46.38", "longitude": "-22.90"},  # swapped
        {"latitude": "-23.55", "longitude": "-46.63"},  # São Paulo: outside
        {"latitude": "22.90", "longitude": "-46.38"},  # minus sign lost
        {"latitude": "-122.9", "longitude": "-46.38"},  # out of range
    ]
    df = pd.DataFrame([{**BASE, **r, "protocolo": str(i)} for i, r in enumerate(rows)])
    out = validate_requests(df, RULES, boundary=BOX, today=TODAY)
    assert out["situacao"].tolist() == ["ok", "erro", "erro", "erro", "erro"]
    assert out["problemas"].iloc[1] == (
        "campos 'latitude'/'longitude': latitude e longitude trocadas? o ponto (-46.38, -22.9) "
        "fica fora do município e, invertido, dentro; sugestão em "
        "latitude_corrigida/longitude_corrigida"
    )
    assert out["latitude_corrigida"].iloc[1] == pytest.approx(-22.90)
    assert out["longitude_corrigida"].iloc[1] == pytest.approx(-46.38)
    assert out["latitude"].iloc[1] == pytest.approx(-46.38)  # the value read is kept
    assert out["problemas"].iloc[2] == (
        "campos 'latitude'/'longitude': ponto (-23.55, -46.63) fora do município"
    )
    assert "sinal negativo ausente?" in out["problemas"].iloc[3]
    assert out["latitude_corrigida"].iloc[3] == pytest.approx(-22.90)
    assert out["problemas"].iloc[4] == (
        "campo 'latitude': fora do intervalo válido (-90 a 90): -122.9"
    )
    assert out["latitude_corrigida"].isna().tolist() == [True, False, True, False, True]


def test_swap_without_boundary_fills_the_suggestion() -> None:
    row = _one(latitude="-46.38", longitude="-22.90")
    expected = "a latitude -46.38 está fora do Brasil e a longitude -22.9 parece uma latitude"
    assert expected in row["problemas"]
    assert (row["latitude_corrigida"], row["longitude_corrigida"]) == (-22.90, -46.38)


def test_no_row_is_lost_and_order_is_kept() -> None:
    texts = ["", "x", "-22.9", "abc", "95", "-46.38", "22°54'S", "1e400", "NaN", "inf"]
    df = pd.DataFrame([{**BASE, "protocolo": str(i), "latitude": t} for i, t in enumerate(texts)])
    out = validate_requests(df, RULES, boundary=BOX, today=TODAY)
    assert len(out) == len(df)
    assert out["protocolo"].tolist() == [str(i) for i in range(len(texts))]
    assert out["linha"].tolist() == list(range(2, len(texts) + 2))
    assert set(out["situacao"]) <= {"ok", "aviso", "erro"}
    assert out["situacao"].iloc[2] == "ok"
    assert out.loc[[7, 8, 9], "situacao"].tolist() == ["erro"] * 3  # not numbers for us


def test_output_schema() -> None:
    out = validate_requests(pd.DataFrame([BASE]), RULES, today=TODAY)
    assert out.columns[0] == "linha"
    assert {*REQUIRED, *LOCATION, *OPTIONAL} <= set(out.columns)
    assert list(out.columns[-4:]) == [
        "latitude_corrigida", "longitude_corrigida", "situacao", "problemas",
    ]  # fmt: skip
    assert str(out["residencias"].dtype) == "Int64"
    assert str(out["cadunico"].dtype) == "boolean"
    assert out["latitude"].dtype == np.float64


def test_mask_cpf() -> None:
    assert mask_cpf("123.456.789-09") == "***.456.789-**"
    assert mask_cpf("12345678909") == "***.456.789-**"
    assert mask_cpf(1234567890) == "***.345.678-**"
    assert mask_cpf("") == "" and mask_cpf(None) == ""
    assert mask_cpf("não tem") == "***"


def test_report_masks_cpf_and_drops_names() -> None:
    df = pd.DataFrame([{**BASE, "cpf_solicitante": VALID_CPF, "nome_solicitante": "José"}])
    report = requests_report(validate_requests(df, RULES, today=TODAY))
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["cpf_solicitante"].iloc[0] == "***.982.247-**"
    assert report["data_protocolo"].iloc[0] == "2026-03-10"


def test_logs_never_show_cpf_or_names(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "protocolo;data;tipo;lat;lon;cpf;nome\n"
        f"1;2026-03-10;melhoria;-22.9;-46.38;{VALID_CPF};José Conceição\n"
        "1;2026-03-10;melhoria;-22.9;-46.38;529.982.247-26;Maria Aparecida\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.DEBUG, logger="geo_ip"):
        out = validate_requests(read_requests(path), RULES, today=TODAY)
    assert out["situacao"].tolist() == ["erro", "erro"]  # protocol 1 repeated
    for secret in (VALID_CPF, "529.982.247-26", "52998224726", "José", "Maria"):
        assert secret not in caplog.text
        assert secret not in " ".join(out["problemas"])


# --- territory boundary and the command line -------------------------------------------------


def _territory(path: Path, *, limite: bool = True, nos: bool = True) -> Path:
    utm = "EPSG:31983"
    if limite:
        polys = gpd.GeoDataFrame(
            {"nome": ["Extrema", "Vizinho"], "codigo_ibge": ["3125101", "3100000"]},
            geometry=[BOX, shapely.box(-46.30, -22.97, -46.10, -22.83)],
            crs="EPSG:4326",
        ).to_crs(utm)
        polys.to_file(path, layer="limite")
    if nos:
        nodes = gpd.GeoDataFrame(
            {"osmid": [1, 2, 3]},
            geometry=gpd.points_from_xy([-46.39, -46.37, -46.38], [-22.91, -22.91, -22.89]),
            crs="EPSG:4326",
        ).to_crs(utm)
        nodes.to_file(path, layer="nos")
    return path


def test_territory_boundary_choices(tmp_path: Path) -> None:
    both = _territory(tmp_path / "t.gpkg")
    exact = territory_boundary(both, 3125101)
    assert shapely.contains(exact, shapely.Point(-46.38, -22.90))
    assert not shapely.contains(exact, shapely.Point(-46.20, -22.90))  # the neighbour is left out
    assert shapely.contains(territory_boundary(both, 9999999), shapely.Point(-46.20, -22.90))
    nodes_only = _territory(tmp_path / "n.gpkg", limite=False)
    empty_limit = gpd.GeoDataFrame(
        {"codigo_ibge": pd.Series([], dtype=str)}, geometry=[], crs="EPSG:31983"
    )
    empty_limit.to_file(nodes_only, layer="limite")  # a territory built without a boundary
    hull = territory_boundary(nodes_only, 3125101)
    # The nodes' hull spans lat -22.91..-22.89; 500 m ≈ 0.0045° of latitude.
    assert shapely.contains(hull, shapely.Point(-46.38, -22.9135))
    assert not shapely.contains(hull, shapely.Point(-46.38, -22.92))
    empty = tmp_path / "e.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(
        empty, layer="vias"
    )
    with pytest.raises(TerritoryError, match="não tem as camadas 'limite' nem 'nos'"):
        territory_boundary(empty)
    with pytest.raises(TerritoryError, match="território não encontrado"):
        territory_boundary(tmp_path / "nada.gpkg")


def test_boundary_prefers_municipal_level(tmp_path: Path) -> None:
    # No IBGE code matches: the municipal boundary (admin_level 8) is taken, not the
    # state (4) around it nor a bairro (10) inside it.
    path = tmp_path / "t.gpkg"
    gpd.GeoDataFrame(
        {
            "nome": ["MG", "Município", "Bairro"],
            "admin_level": [4, 8, 10],
            "codigo_ibge": [None] * 3,
        },
        geometry=[
            shapely.box(-51.0, -23.0, -40.0, -14.0),
            BOX,
            shapely.box(-46.39, -22.91, -46.38, -22.90),
        ],
        crs="EPSG:4326",
    ).to_file(path, layer="limite")
    got = territory_boundary(path, 3125101)
    assert got.equals(BOX)


_cli = typer.Typer()
_cli.add_typer(requests_app, name="pedidos")
runner = CliRunner()


def _write(path: Path, rows: list[str]) -> Path:
    header = "protocolo;data_protocolo;tipo;latitude;longitude;endereco;cpf_solicitante;nome"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_cli_check_ok(tmp_path: Path) -> None:
    pedidos = _write(
        tmp_path / "p.csv",
        [
            f"1;2026-03-10;melhoria;-22.9;-46.38;;{VALID_CPF};José Conceição",
            "2;2026-03-11;implantacao;;;Rua A, 10;;",
        ],
    )
    out = tmp_path / "saida" / "relatorio.csv"
    result = runner.invoke(_cli, ["pedidos", "conferir", str(pedidos), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Todos os 2 pedidos estão ok" in result.output
    assert "Resumo: 2 ok, 0 com aviso, 0 com erro" in result.output
    report = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["cpf_solicitante"].tolist() == ["***.982.247-**", ""]
    assert "José" not in out.read_text(encoding="utf-8")
    args = ["pedidos", "conferir", str(pedidos), "--out", str(out), "--todas"]
    result = runner.invoke(_cli, args)
    assert result.exit_code == 0
    assert "Pedidos de p.csv: 2 de 2 linha(s)" in result.output


def test_cli_check_prints_at_most_200_problem_rows_the_report_has_all(tmp_path: Path) -> None:
    # 250 rows with an unknown type: the terminal shows 200 and says so, the report 250
    rows = [f"P-{i};2026-03-10;poda;-22.9;-46.38;;;" for i in range(1, 251)]
    pedidos = _write(tmp_path / "p.csv", rows)
    out = tmp_path / "relatorio.csv"
    result = runner.invoke(_cli, ["pedidos", "conferir", str(pedidos), "--out", str(out)])
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "250 de 250 linha(s) (as primeiras 200 aqui; todas no relatório)" in flat
    assert "P-200" in result.output and "P-201" not in result.output
    assert "Resumo: 0 ok, 0 com aviso, 250 com erro (250 linha(s))" in flat
    assert len(pd.read_csv(out, dtype=str)) == 250


def test_cli_check_errors_exit_1_and_hide_cpf(tmp_path: Path) -> None:
    pedidos = _write(
        tmp_path / "p.csv",
        [
            f"1;2026-03-10;melhoria;-22.9;-46.38;;{VALID_CPF};José Conceição",
            f"2;2026-03-10;melhoria;-46.38;-22.9;;{VALID_CPF};José Conceição",
            "3;2026-03-10;poda;-22.9;-46.38;;529.982.247-26;Maria Aparecida",
            "4;01/01/2010;melhoria;-22.9;-46.38;;;",
        ],
    )
    out = tmp_path / "relatorio.csv"
    result = runner.invoke(_cli, ["pedidos", "conferir", str(pedidos), "--out", str(out)])
    assert result.exit_code == 1
    assert "Resumo: 1 ok, 1 com aviso, 2 com erro (4 linha(s))" in result.output
    assert "Pedidos de p.csv: 3 de 4 linha(s)" in result.output  # only rows with problems
    report = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert report["situacao"].tolist() == ["ok", "erro", "erro", "aviso"]
    assert "latitude e longitude trocadas?" in report["problemas"].iloc[1]
    assert report["latitude_corrigida"].iloc[1] == "-22.9"
    csv_text = out.read_text(encoding="utf-8")
    flat_output = "".join(result.output.split())
    for secret in (VALID_CPF, "52998224725", "529.982.247-26", "52998224726", "José", "Maria"):
        assert secret not in csv_text
        assert secret not in flat_output
    assert "***.982.247-**" in csv_text


def test_cli_check_with_territory(tmp_path: Path) -> None:
    territory = _territory(tmp_path / "t.gpkg")
    pedidos = _write(
        tmp_path / "p.csv",
        ["1;2026-03-10;melhoria;-22.9;-46.38;;;", "2;2026-03-10;melhoria;-22.9;-46.2;;;"],
    )
    out = tmp_path / "r.csv"
    args = ["pedidos", "conferir", str(pedidos), "--territory", str(territory), "--out", str(out)]
    result = runner.invoke(_cli, args)
    assert result.exit_code == 1
    report = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert report["problemas"].tolist() == [
        "",
        "campos 'latitude'/'longitude': ponto (-22.9, -46.2) fora do município",
    ]
    no_layers = tmp_path / "vazio.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(
        no_layers, layer="vias"
    )
    args[4] = str(no_layers)
    result = runner.invoke(_cli, args)
    assert result.exit_code == TerritoryError.exit_code == 4
    assert "não tem as camadas 'limite' nem 'nos'" in result.output


def test_cli_file_errors_use_the_error_exit_code(tmp_path: Path) -> None:
    result = runner.invoke(_cli, ["pedidos", "conferir", str(tmp_path / "nada.csv")])
    assert result.exit_code == 3
    assert "arquivo de pedidos não encontrado" in result.output
    header_only = tmp_path / "h.csv"
    header_only.write_text("protocolo;data_protocolo;tipo;endereco\n", encoding="utf-8")
    out = tmp_path / "r.csv"
    result = runner.invoke(_cli, ["pedidos", "conferir", str(header_only), "--out", str(out)])
    assert result.exit_code == 0
    assert "Nenhum pedido" in result.output
    assert pd.read_csv(out).empty
    result = runner.invoke(
        _cli, ["pedidos", "conferir", str(header_only), "--rules", str(tmp_path / "x.toml")]
    )
    assert result.exit_code == 2


# --- real data -------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_points_of_interest_of_porto_alegre(tmp_path: Path) -> None:
    """The 15 real landmarks of Porto Alegre as requests, two with lat/lon swapped."""
    poi = pd.read_csv(require(POA / "poa_points_of_interest.csv"))
    with pytest.raises(RequestsFileError, match="colunas encontradas: 'id', 'lat', 'lon'"):
        read_requests(POA / "poa_points_of_interest.csv")
    hexes = pd.read_csv(require(POA / "poa_hexgrid.csv"))
    cells = gpd.GeoSeries(gpd.points_from_xy(hexes["lon"], hexes["lat"]), crs=4326)
    utm = cells.estimate_utm_crs()
    hull = shapely.convex_hull(shapely.union_all(cells.to_crs(utm).array)).buffer(300)
    boundary = gpd.GeoSeries([hull], crs=utm).to_crs(4326).iloc[0]
    lat = poi["lat"].map(lambda v: f"{v}".replace(".", ","))
    lon = poi["lon"].map(lambda v: f"{v}".replace(".", ","))
    lat[[3, 7]], lon[[3, 7]] = lon[[3, 7]], lat[[3, 7]]
    lines = [
        f"{name};10/03/2026;melhoria;{la};{lo}"
        for name, la, lo in zip(poi["id"], lat, lon, strict=True)
    ]
    path = tmp_path / "pedidos.csv"
    path.write_bytes(
        ("Protocolo;Data;Tipo;Latitude;Longitude\n" + "\n".join(lines) + "\n").encode("cp1252")
    )
    out = validate_requests(read_requests(path), RULES, boundary=boundary, today=TODAY)
    assert len(out) == len(poi) == 15
    swapped = out["problemas"].str.contains("latitude e longitude trocadas?", regex=False)
    assert swapped.tolist() == [i in (3, 7) for i in range(15)]
    assert out["situacao"].tolist() == ["erro" if i in (3, 7) else "ok" for i in range(15)]
    np.testing.assert_allclose(out.loc[[3, 7], "latitude_corrigida"], poi.loc[[3, 7], "lat"])


def test_smap_computes_each_distinct_cell_once_and_keeps_types_apart() -> None:
    from geo_ip.requests.intake_checks import smap

    calls: list[object] = []

    def show(value: object) -> str:
        calls.append(value)
        return f"{type(value).__name__}:{value}"

    cells = pd.Series(["sim", 1, "sim", 1.0, True, 1, None, None, "sim"], dtype=object)
    out = smap(cells, show)
    assert out.tolist() == [
        "str:sim", "int:1", "str:sim", "float:1.0", "bool:True", "int:1", "NoneType:None",
        "NoneType:None", "str:sim",
    ]  # fmt: skip
    assert calls == ["sim", 1, 1.0, True, None]
    # an unhashable cell: every cell computed, same result
    assert smap(pd.Series([[1], "a", "a"], dtype=object), show).tolist() == [
        "list:[1]", "str:a", "str:a",
    ]  # fmt: skip
