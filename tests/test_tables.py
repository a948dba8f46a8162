"""The spreadsheet reader (geo_ip.sources.tables) and the value parsers (geo_ip._util.parse).

Every file is written here, small enough to check each value by hand.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from geo_ip._util.parse import (
    category,
    category_key,
    cell_text,
    cpf_digits,
    date_problems,
    parse_dates,
    quoted,
    slug,
    to_number,
    yes_no,
)
from geo_ip.errors import InputFileError, RequestsFileError
from geo_ip.sources import tables_xlsx
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import (
    GEOMETRY_PROBLEM,
    READ_PROBLEMS,
    Schema,
    aliases_of,
    normalise_headers,
)
from geo_ip.sources.tables_text import decode_text

SYNONYMS = {
    "codigo": ("cod", "no_codigo", "n_codigo"),
    "data": ("data_do_registro", "dt"),
    "valor": ("valor_r", "preco"),
    "descricao": ("obs", "observacao"),
}
SCHEMA = Schema(
    what="arquivo de teste",
    aliases=aliases_of(SYNONYMS),
    required=("codigo", ("valor", "descricao")),
    key=("codigo",),
)
NAMED = Schema(what="arquivo de registros", aliases=aliases_of(SYNONYMS), of=" de registros")


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _error(path: Path, schema: Schema = SCHEMA) -> str:
    with pytest.raises(InputFileError) as info:
        read_sheet(path, schema)
    return str(info.value)


# --- CSV ------------------------------------------------------------------------------------


def test_semicolon_latin1_csv_with_title_rows_and_decimal_commas(tmp_path: Path) -> None:
    text = (
        "Relatório de março;;;\r\n"
        "\r\n"
        "Nº Código;Data do registro;Valor (R$);Descrição\r\n"
        "A-1;10/03/2026;1.234,56;Poste apagado na praça\r\n"
        "A-2;11/03/2026;-0,5;Situação crítica\r\n"
    )
    path = _write(tmp_path / "registros.csv", text.encode("latin-1"))
    table = read_sheet(path, SCHEMA)
    assert list(table.columns) == ["linha", "codigo", "data", "valor", "descricao"]
    assert table["linha"].tolist() == [4, 5]  # rows as the clerk sees them, header = 3
    assert table["codigo"].tolist() == ["A-1", "A-2"]
    assert table["valor"].tolist() == ["1.234,56", "-0,5"]  # text, as written
    assert table["descricao"].tolist() == ["Poste apagado na praça", "Situação crítica"]
    assert to_number(table["valor"], thousands=True).tolist() == [1234.56, -0.5]
    assert table["linha"].dtype == "int64"
    assert all(pd.api.types.is_string_dtype(t) for t in table.drop(columns="linha").dtypes)


def test_comma_cp1252_csv_with_quoted_decimal_commas(tmp_path: Path) -> None:
    text = 'codigo,valor,descricao\nB-1,"2,5",Café\nB-2,"1.000",“aspas curvas”\n\nB-3,,\n'
    path = _write(tmp_path / "registros.csv", text.encode("cp1252"))
    table = read_sheet(path, SCHEMA)
    assert table["linha"].tolist() == [2, 3, 5]  # the blank line 4 is skipped, still counted
    assert table["valor"].tolist() == ["2,5", "1.000", ""]
    assert table["descricao"].tolist() == ["Café", "“aspas curvas”", ""]  # cp1252 quotes
    assert to_number(table["valor"], thousands=True).tolist()[:2] == [2.5, 1000.0]
    assert to_number(table["valor"], thousands=False).tolist()[:2] == [2.5, 1.0]
    assert math.isnan(to_number(table["valor"], thousands=True).iloc[2])


def test_tab_and_pipe_delimiters_and_utf8_bom(tmp_path: Path) -> None:
    tab = _write(tmp_path / "t.csv", "\ufeffcodigo\tvalor\nT-1\t3\n".encode())
    assert read_sheet(tab, SCHEMA)[["codigo", "valor"]].values.tolist() == [["T-1", "3"]]
    pipe = _write(tmp_path / "p.csv", b"cod|preco|obs\nP-1|4|a; b, c\n")
    table = read_sheet(pipe, SCHEMA)
    assert table[["codigo", "valor", "descricao"]].values.tolist() == [["P-1", "4", "a; b, c"]]


def test_header_names_exact_first_reserved_and_unknown(tmp_path: Path) -> None:
    schema = Schema(what="x", aliases=aliases_of(SYNONYMS), reserved=("situacao",))
    headers = ["Cód.", "Código", "Preço", "Valor", "Situação", "Linha", "", "Outra coluna", "Cod"]
    assert normalise_headers(headers, schema) == [
        "cod",  # "codigo" is taken by the exact name, this synonym keeps its slug
        "codigo",
        "preco",
        "valor",
        "situacao_arquivo",  # reserved by the schema
        "linha_arquivo",  # always reserved
        "coluna_7",
        "outra_coluna",
        "cod_arquivo",  # a name already taken gets "_arquivo" too (then _2, _3...)
    ]


def test_more_cells_than_header_and_blank_unnamed_column(tmp_path: Path) -> None:
    text = "codigo;valor;;descricao\nX-1;1;;a\nX-2;2;;b;sobra\n"
    table = read_sheet(_write(tmp_path / "r.csv", text.encode()), SCHEMA)
    assert list(table.columns) == ["linha", "codigo", "valor", "descricao", READ_PROBLEMS]
    assert table[READ_PROBLEMS].tolist() == [
        "",
        "linha com 5 células e cabeçalho com 4 colunas (vírgula ou ponto e vírgula sem aspas "
        "no texto?); valores deslocados",
    ]


def test_header_needs_the_key_and_two_known_columns(tmp_path: Path) -> None:
    # "Código" alone (one known column) is a title; "valor;obs" lacks the key "codigo".
    text = "Código\nvalor;obs\ncodigo;valor\nK-1;5\n"
    table = read_sheet(_write(tmp_path / "r.csv", text.encode()), SCHEMA)
    assert table["linha"].tolist() == [4]
    assert table[["codigo", "valor"]].values.tolist() == [["K-1", "5"]]


def test_header_only_gives_an_empty_table(tmp_path: Path) -> None:
    table = read_sheet(_write(tmp_path / "r.csv", b"codigo;valor\r\n"), SCHEMA)
    assert table.empty
    assert list(table.columns) == ["linha", "codigo", "valor"]
    assert table["linha"].dtype == "int64"
    assert pd.api.types.is_string_dtype(table["codigo"].dtype)


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_with_title_row_and_merged_header(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Prefeitura — registros de março"
    sheet.merge_cells("A1:E1")
    sheet["A2"], sheet["D2"], sheet["E2"] = "Nº Código", "Obs", None
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("D2:D3")
    sheet["B2"] = "Registro"  # a group title over two sub-headers
    sheet.merge_cells("B2:C2")
    sheet["B3"], sheet["C3"] = "Data", "Valor"
    sheet.append(["C-1", datetime(2026, 3, 10), 12.5, "ok", None])
    sheet.append([None] * 5)
    sheet.append([7, "11/03/2026", 3, None, "solta"])
    path = tmp_path / "registros.xlsx"
    book.save(path)
    table = read_sheet(path, SCHEMA)
    assert list(table.columns) == ["linha", "codigo", "data", "valor", "descricao", "coluna_E"]
    assert table["linha"].tolist() == [4, 6]  # sheet rows
    assert table["codigo"].tolist() == ["C-1", "7"]
    assert table["data"].tolist() == ["2026-03-10", "11/03/2026"]
    assert table["valor"].tolist() == ["12.5", "3"]
    assert table["descricao"].tolist() == ["ok", ""]
    assert table["coluna_E"].tolist() == ["", "solta"]  # unnamed column: its sheet letter


def test_xlsx_uses_the_first_sheet_with_a_header(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["Instruções: preencha a aba seguinte"])
    second = book.create_sheet("dados")
    second.append(["codigo", "valor"])
    second.append(["S-1", 10])
    path = tmp_path / "r.xlsx"
    book.save(path)
    table = read_sheet(path, SCHEMA)
    assert table[["linha", "codigo", "valor"]].values.tolist() == [[2, "S-1", "10"]]


# --- GeoJSON / GeoPackage -------------------------------------------------------------------


def _features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"codigo": ["G-1", "G-2", "G-3"], "valor": ["1", "2", "3"]},
        geometry=[
            shapely.Point(-46.38, -22.9),
            None,
            shapely.LineString([(-46.38, -22.9), (-46.37, -22.91)]),
        ],
        crs="EPSG:4674",
    )


def test_points_file_gives_latitude_longitude_and_geometry_problems(tmp_path: Path) -> None:
    schema = Schema(what="x", aliases=aliases_of(SYNONYMS), layer="registros")
    path = tmp_path / "r.geojson"
    _features().to_file(path)
    table = read_sheet(path, schema)
    assert table["linha"].tolist() == [1, 2, 3]  # feature numbers
    assert table["latitude"].tolist() == ["-22.9000000", "", ""]
    assert table["longitude"].tolist() == ["-46.3800000", "", ""]
    assert table[GEOMETRY_PROBLEM].tolist() == ["", "sem geometria", "não é um ponto"]
    strict = Schema(what="x", aliases=aliases_of(SYNONYMS), layer="r", points="devem ser pontos")
    assert _error(path, strict) == f"arquivo '{path}': devem ser pontos; a feição 3 é LineString"


def test_geopackage_rows_are_feature_ids_and_reprojected(tmp_path: Path) -> None:
    schema = Schema(what="x", aliases=aliases_of(SYNONYMS), layer="registros")
    path = tmp_path / "r.gpkg"
    _features().iloc[:1].to_crs("EPSG:31983").to_file(path, layer="outra")
    _features().iloc[:1].to_file(path, layer="registros")
    table = read_sheet(path, schema)
    assert table["linha"].tolist() == [1]
    assert table[["latitude", "longitude"]].values.tolist() == [["-22.9000000", "-46.3800000"]]
    # Without a layer, a point file is read as text and found wanting.
    assert "não é um texto CSV" in _error(path, SCHEMA)


# --- file errors: exact messages ------------------------------------------------------------


def test_missing_empty_and_wrong_format_files(tmp_path: Path) -> None:
    missing = tmp_path / "nao.csv"
    assert _error(missing) == f"arquivo '{missing}': arquivo de teste não encontrado"
    empty = _write(tmp_path / "vazio.csv", b" \r\n\r\n")
    assert _error(empty) == f"arquivo '{empty}': arquivo vazio"
    assert _error(empty, NAMED) == f"arquivo '{empty}': arquivo de registros vazio"
    blank = _write(tmp_path / "so_separadores.csv", b";;;\r\n;;\r\n")
    assert _error(blank) == f"arquivo '{blank}': arquivo vazio"
    xls = _write(tmp_path / "antiga.xls", b"\xd0\xcf\x11\xe0")
    assert _error(xls) == (
        f"arquivo '{xls}': formato .xls (Excel 97-2003) não suportado: salve a planilha como "
        ".xlsx ou CSV"
    )
    ods = _write(tmp_path / "livre.ods", b"PK\x03\x04")
    assert _error(ods) == (
        f"arquivo '{ods}': formato .ods não suportado: salve a planilha como .xlsx ou CSV"
    )
    corrupt = _write(tmp_path / "corrompida.xlsx", b"PK\x03\x04 isto nao e um zip")
    assert _error(corrupt) == (
        f"arquivo '{corrupt}': planilha XLSX corrompida ou ilegível (BadZipFile: File is not a "
        "zip file)"
    )
    assert _error(corrupt, NAMED).startswith(
        f"arquivo '{corrupt}': planilha XLSX de registros corrompida ou ilegível"
    )
    book = Workbook()
    book.save(tmp_path / "vazia.xlsx")
    assert _error(tmp_path / "vazia.xlsx") == f"arquivo '{tmp_path / 'vazia.xlsx'}': planilha vazia"


def test_text_that_is_not_a_csv(tmp_path: Path) -> None:
    utf16 = _write(tmp_path / "utf16.csv", "codigo;valor\n".encode("utf-16"))
    assert _error(utf16) == (
        f"arquivo '{utf16}': o arquivo não é um texto CSV (contém bytes nulos: UTF-16 ou "
        "planilha com a extensão errada?); salve como CSV UTF-8 ou .xlsx"
    )
    assert "o arquivo de registros não é um texto CSV" in _error(utf16, NAMED)
    # 0x81 and 0x8D are undefined in Windows-1252 (and invalid UTF-8).
    bad = _write(tmp_path / "ruim.csv", b"codigo;valor\n\x81\x8d;1\n")
    assert _error(bad) == (
        f"arquivo '{bad}': codificação de caracteres não reconhecida (byte 0x81 na linha 2); "
        "salve o CSV em UTF-8 ou Latin-1 (Windows-1252)"
    )
    assert _error(bad, NAMED) == (
        f"arquivo '{bad}': codificação de caracteres não reconhecida no arquivo de registros "
        "(byte 0x81 na linha 2); salve o CSV em UTF-8 ou Latin-1 (Windows-1252)"
    )
    # In a mixed file the offending byte is still found, with its line.
    mixed = _write(tmp_path / "misto_ruim.csv", "codigo;valor\nC-1;Conceição\n".encode()
                   + "C-2;São\n".encode("latin-1") + b"C-3;x\x9dy\n")  # fmt: skip
    assert "(byte 0x9D na linha 4)" in _error(mixed)


def test_csv_mixing_utf8_and_latin1_lines_reads_each_line_in_its_encoding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: the whole file was read as cp1252, "Rua SÃ£o JoÃ£o" and no word said.
    content = (
        b"codigo;valor;descricao\n"
        + "M-1;1;Rua São João\n".encode()
        + "M-2;2;Praça da Estação\n".encode("latin-1")
        + "M-3;3;Conceição nº 5\n".encode()
        # one line pasted from both: Latin-1 "ã" then UTF-8 "ç"
        + "M-4;4;São ".encode("latin-1")
        + "Conceição\n".encode()
        + b"M-5;5;sem acento\n"
    )
    path = _write(tmp_path / "misto.csv", content)
    with caplog.at_level("WARNING", logger="geo_ip"):
        table = read_sheet(path, SCHEMA)
    assert table["descricao"].tolist() == [
        "Rua São João",
        "Praça da Estação",
        "Conceição nº 5",
        "São Conceição",
        "sem acento",
    ]
    assert caplog.messages == [
        "arquivo 'misto.csv': codificação mista: 2 linha(s) em Latin-1 (Windows-1252) num "
        "arquivo UTF-8 (linhas 3, 5); cada linha foi lida na sua codificação: confira os "
        "acentos dessas linhas e salve o arquivo inteiro como CSV UTF-8"
    ]


def test_decode_text_lists_at_most_ten_lines_and_keeps_plain_files_quiet() -> None:
    latin = "Estação\n".encode("latin-1")
    text, warning = decode_text("Conceição\n".encode() + latin * 12)
    assert text == "Conceição\n" + "Estação\n" * 12
    assert warning is not None
    assert (
        "12 linha(s)" in warning and "(linhas 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 e mais 2)" in warning
    )
    assert decode_text(latin * 3) == ("Estação\n" * 3, None)  # plain Latin-1: no warning
    assert decode_text("\ufeffEstação\n".encode()) == ("Estação\n", None)  # BOM dropped


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", b"Data;Valor;Obs\n2026-01-01;1;a\n")
    assert _error(path) == (
        f"arquivo '{path}', campo 'codigo': coluna obrigatória 'codigo' não encontrada; colunas "
        "encontradas: 'Data', 'Valor', 'Obs'"
    )
    path = _write(tmp_path / "r.csv", b"Codigo;Data\nA;2026-01-01\n")
    assert _error(path) == (
        f"arquivo '{path}', campo 'valor': coluna obrigatória 'valor' (ou 'descricao') não "
        "encontrada; colunas encontradas: 'Codigo', 'Data'"
    )
    named = Schema(what="x", aliases=aliases_of(SYNONYMS), required=("valor",), of=" de registros")
    path = _write(tmp_path / "r.csv", b"codigo;data\nA;2026-01-01\n")
    assert _error(path, named) == (
        f"arquivo '{path}', campo 'valor': coluna obrigatória 'valor' não encontrada no arquivo "
        "de registros; colunas encontradas: 'codigo', 'data'"
    )


def test_extra_column_check_and_error_class(tmp_path: Path) -> None:
    def both_or_none(names: Collection[str]) -> tuple[str, str] | None:
        if ("data" in names) == ("valor" in names):
            return None
        return "informe 'data' e 'valor' juntos", "data"

    schema = Schema(
        what="x", aliases=aliases_of(SYNONYMS), check=both_or_none, error=RequestsFileError
    )
    path = _write(tmp_path / "r.csv", b"codigo;data\nA;2026-01-01\n")
    with pytest.raises(RequestsFileError) as info:
        read_sheet(path, schema)
    assert str(info.value) == (
        f"arquivo '{path}', campo 'data': informe 'data' e 'valor' juntos; colunas encontradas: "
        "'codigo', 'data'"
    )
    assert info.value.exit_code == 3


# --- value parsers --------------------------------------------------------------------------


def test_parse_dates_and_their_problems() -> None:
    text = pd.Series(
        ["2026-03-10", "10/03/2026", "10.03.26", "05-01-99", "31/02/2026", "março", "",
         "2026-03-12 09:30:00"]
    )  # fmt: skip
    dates, status = parse_dates(text, date(2026, 6, 1))
    assert dates.tolist() == [
        date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 10), date(1999, 1, 5), None, None,
        None, date(2026, 3, 12),
    ]  # fmt: skip
    assert status.tolist() == ["ok"] * 4 + ["inexistente", "formato", "vazio", "ok"]
    messages = date_problems(text, status, "data", blank="vazio", hint=" (dd/mm/aaaa)")
    assert messages.tolist()[4:7] == [
        "campo 'data': data inexistente ('31/02/2026') (dd/mm/aaaa)",
        "campo 'data': data em formato não reconhecido ('março'); use dd/mm/aaaa ou aaaa-mm-dd",
        "campo 'data': vazio",
    ]
    assert date_problems(text, status, "data").iloc[6] == ""  # a blank cell may be fine


def test_two_digit_years_pivot_ten_years_ahead() -> None:
    _, status = parse_dates(pd.Series(["01/01/36"]), date(2026, 6, 1))
    dates, _ = parse_dates(pd.Series(["01/01/36", "01/01/37"]), date(2026, 6, 1))
    assert status.tolist() == ["ok"]
    assert dates.tolist() == [date(2036, 1, 1), date(1937, 1, 1)]


def test_to_number_decimal_comma_thousands_and_currency() -> None:
    text = pd.Series(["1.518", "1.518,50", "1,518.50", "R$ 2.000,00", "\u22122,5", "12,5 ", "abc"])
    with_thousands = to_number(text, thousands=True).tolist()
    assert with_thousands[:6] == [1518.0, 1518.5, 1518.5, 2000.0, -2.5, 12.5]
    assert math.isnan(with_thousands[6])
    assert to_number(pd.Series(["1.518", "-22,9012"]), thousands=False).tolist() == [
        1.518,
        -22.9012,
    ]


def test_small_value_parsers() -> None:
    assert slug("Nº Protocolo") == "no_protocolo"
    assert slug(None) == ""
    assert cell_text(12.0) == "12" and cell_text(True) == "sim" and cell_text(None) == ""
    assert cell_text(datetime(2026, 3, 10)) == "2026-03-10"
    assert cpf_digits("529.982.247-25") == "52998224725"
    assert cpf_digits("1234567890") == "01234567890"  # leading zero lost by a spreadsheet
    assert cpf_digits("123.456") == "123456"
    assert [yes_no(v) for v in ("Sim", "NÃO", "x", "0", "talvez", "", None, True)] == [
        True, False, True, False, None, None, None, True,
    ]  # fmt: skip
    assert quoted("a" * 70) == "('" + "a" * 60 + "')"
    assert quoted(pd.Series(["ab"])).tolist() == ["('ab')"]
    assert category_key("Extensão da Rede") == "extensao_rede"
    allowed = ("extensao_rede", "implantacao", "melhoria")
    aliases = {"expansao_rede": "extensao_rede"}
    assert category("Expansão de rede", allowed, aliases) == "extensao_rede"
    assert category("Melhoria de iluminação", allowed, aliases) == "melhoria"  # first word
    assert category("", allowed, aliases) == ""
    assert category("poda", allowed, aliases) is None


def _bloated_xlsx(path: Path, padding: int) -> Path:
    """A valid two-row workbook whose sheet XML carries ``padding`` spaces of whitespace."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["codigo", "valor"])
    sheet.append(["X-1", 7])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * padding)
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    plain.unlink()
    return path


def test_bloated_xlsx_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # Before: openpyxl decompressed and parsed every byte (1.5 GB of whitespace took
    # 1.8 GB of memory). 8 MiB of spaces compress to a few KB: a ratio in the thousands.
    path = _bloated_xlsx(tmp_path / "inflada.xlsx", 8 * 2**20)
    message = _error(path)
    assert message.startswith(
        f"arquivo '{path}': planilha XLSX inflada: a parte 'xl/worksheets/sheet1.xml' se expande "
    )
    assert "→ 8 MB; limite 100 vezes), o que indica preenchimento artificial" in message
    # A little padding (below 1 MiB) is only whitespace: read as usual.
    fine = _bloated_xlsx(tmp_path / "normal.xlsx", 2**19)
    assert read_sheet(fine, SCHEMA)[["codigo", "valor"]].values.tolist() == [["X-1", "7"]]


def test_xlsx_larger_than_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grande.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["codigo", "valor"])
    for i in range(2000):
        sheet.append([f"G-{i}", i])
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        total = sum(m.file_size for m in archive.infolist())
    assert len(read_sheet(path, SCHEMA)) == 2000
    monkeypatch.setattr(tables_xlsx, "XLSX_MAX_EXPANDED", total - 1)
    message = _error(path)
    assert message.startswith(f"arquivo '{path}': planilha XLSX grande demais: descompactada ")
    assert message.endswith("; salve-a como CSV, que não tem esse limite, ou divida-a")
