"""Utility cadastre package (geo-ip cadastro) and cadastre audit (geo-ip cadastro auditar)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import typer
from scipy.spatial import cKDTree
from typer.testing import CliRunner

from geo_ip.cadastre.package import (
    audit_cadastre,
    build_cadastre,
    invoice_change,
    validate_cnpj,
    write_audit,
    write_cadastre,
)
from geo_ip.cli.cadastre import cadastre_app
from geo_ip.errors import GeoIPError, RulesError
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.rules.config import load_rules
from tests.conftest import BDGD_ZIP, DEMO, require

RULES = load_rules("demo")
HOURS = 11.8667  # iluminacao.horas_por_dia (11 h 52 min)
DAYS = 30.0  # cadastro.dias_por_mes
TARIFF = 0.45  # cadastro.tarifa_ip of the demo (fictional)
TODAY = date(2026, 12, 1)
UTM = "EPSG:31983"
X0, Y0 = 357_000.0, 7_465_000.0  # a corner of the demo town, SIRGAS 2000 / UTM 23S


def kwh(watts: float) -> float:
    """Monthly energy of a load, by hand: W × h/day × days / 1000."""
    return watts * HOURS * DAYS / 1000.0


def lonlat(x: float, y: float) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y)], crs=UTM).to_crs("EPSG:4674").iloc[0]
    return round(point.x, 7), round(point.y, 7)


def write_rows(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --- a small assessment folder made by the test -------------------------------------------------


def _gdf(data: dict[str, list[object]], points: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(points, crs=UTM), crs=UTM)


def _pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four requests, two proposed poles, four existing lamps (3 × 60 W, 1 × 100 W)."""
    out = tmp_path_factory.mktemp("avaliacao_mini")
    gpkg = out / "avaliacao.gpkg"
    requests = _gdf(
        {
            "protocolo": ["PED-A", "PED-B", "PED-C", "PED-D", "PED-D"],
            "situacao": ["classificado", "aguardando_orcamento", "erro", "erro", "erro"],
            "selecionado_orcamento": ["sim", "não", "não", "não", "não"],
            "logradouro": ["Rua Teste", "Rua Teste", None, "Rua Teste", "Rua Teste"],
            "bairro": ["Centro", "Vila", None, "Vila", "Vila"],
            "data_protocolo": [
                "2026-05-01",
                "2026-06-01",
                "2026-06-02",
                "2026-06-03",
                "2026-06-04",
            ],
            "postes_novos": [2, 0, None, 1, 1],
        },
        [_pt(1000, 0), _pt(2000, 0), None, _pt(3000, 0), _pt(3100, 0)],
    )
    poles = _gdf(
        {"protocolo": ["PED-A", "PED-A", "PED-D", "PED-D"], "numero": [2, 1, 1, 1]},
        [_pt(965, 0), _pt(930, 0), _pt(2990, 0), _pt(3090, 0)],
    )
    extensions = _gdf({"protocolo": ["PED-A"]}, [shapely.LineString([_pt(900, 0), _pt(1000, 0)])])
    lights = _gdf(
        {
            "fonte": ["bdgd"] * 4,
            "id_origem": ["A1", "A2", "A3", "B1"],
            "poste_id": ["P1", "P2", "P3", "P4"],
            "potencia_w": [60.0, 60.0, 60.0, 100.0],
            "tipo_lampada": ["9", "9", "9", "1"],
            "energia_kwh_ano": [250.0] * 4,
        },
        [_pt(0, 0), _pt(35, 0), _pt(70, 0), _pt(105, 0)],
    )
    roads = _gdf({"name": ["Rua Teste"]}, [shapely.LineString([_pt(-100, 5), _pt(3200, 5)])])
    layers = {"pedidos": requests, "postes_propostos": poles, "extensoes": extensions,
              "pontos_ip": lights, "vias": roads}  # fmt: skip
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    provenance = {"regras": {"sha256": RULES.sha256}, "carimbo": "avaliação de teste"}
    (out / "proveniencia.json").write_text(json.dumps(provenance), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def small(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """PED-A from the proposed poles, PED-B as-built (2 × 40 W); all four lamps removed."""
    base = tmp_path_factory.mktemp("cadastro_mini")
    b1, b2 = lonlat(1995, 4), lonlat(2005, 4)
    executed = write_rows(
        base / "executadas.csv",
        "protocolo;data_execucao;latitude;longitude;tipo_lampada;potencia_w;poste",
        ["PED-A;10/11/2026;;;;;",
         f"PED-B;2026-11-12;{b1[1]};{b1[0]};LED;40;PB-1",
         f"PED-B;2026-11-12;{b2[1]};{b2[0]};LED;40;PB-2"],
    )  # fmt: skip
    b1_lon, b1_lat = lonlat(105, 0)
    removed = write_rows(
        base / "removidos.csv",
        "id_ponto,latitude,longitude,potencia_w,data_remocao,motivo",
        ["A1,,,60,2026-11-12,troca por LED", "A2,,,60,,", "A3,,,,,",
         f",{b1_lat},{b1_lon},,2026-11-12,retirada"],
    )  # fmt: skip
    cadastre = build_cadastre(folder, executed, RULES, removed=removed, today=TODAY)
    out = base / "saida"
    write_cadastre(cadastre, out)
    return cadastre, out


# --- invoice -----------------------------------------------------------------------------------


def test_invoice_of_three_60w_and_one_100w_removed() -> None:
    table = invoice_change([], [60, 60, 60, 100], RULES).set_index("movimento")
    assert table.loc["exclusão", "pontos"] == -4
    assert table.loc["exclusão", "carga_kw"] == pytest.approx(-0.28)
    # 0.28 kW × 11.8667 h × 30 days = 99.68028 kWh; × R$ 0.45 = R$ 44.856126
    assert table.loc["exclusão", "energia_kwh_mes"] == pytest.approx(-99.68028)
    assert table.loc["exclusão", "custo_rs_mes"] == pytest.approx(-44.856126)
    assert table.loc["saldo", "energia_kwh_mes"] == pytest.approx(-99.68028)
    assert table.loc["inclusão", "carga_kw"] == 0.0
    assert "REN 414/2010" in table.loc["saldo", "fonte_horas"]
    assert "30 dias" in table.loc["saldo", "fonte_dias"]


def test_invoice_without_tariff_leaves_reais_blank() -> None:
    table = invoice_change([60, 60], [], load_rules("extrema")).set_index("movimento")
    assert table.loc["saldo", "energia_kwh_mes"] == pytest.approx(kwh(120))
    assert np.isnan(table.loc["saldo", "custo_rs_mes"])
    assert "a definir" in table.loc["saldo", "fonte_tarifa"]
    given = invoice_change([60, 60], [], load_rules("extrema"), tariff=0.8, tariff_source="x")
    assert given["custo_rs_mes"].iloc[-1] == pytest.approx(kwh(120) * 0.8)


# --- CNPJ and rules ----------------------------------------------------------------------------


def test_cnpj_is_validated_and_formatted() -> None:
    assert validate_cnpj("99999999000191") == "99.999.999/0001-91"
    assert validate_cnpj(" 11.222.333/0001-81 ") == "11.222.333/0001-81"
    with pytest.raises(GeoIPError, match=r"campo '--cnpj': CNPJ inválido .*dígitos verificadores"):
        validate_cnpj("99.999.999/0001-92")
    with pytest.raises(GeoIPError, match=r"deve ter 14 caracteres"):
        validate_cnpj("123.456")
    with pytest.raises(GeoIPError, match=r"CNPJ da Prefeitura não informado"):
        validate_cnpj("  ")


def test_extrema_demands_the_cnpj_and_has_no_invented_one(folder: Path, tmp_path: Path) -> None:
    rules = load_rules("extrema")
    assert rules.cadastro is not None
    assert rules.cadastro.cnpj == ""
    assert "a informar pela Prefeitura" in rules.cadastro.fonte_cnpj
    assert rules.cadastro.is_cemig
    assert rules.cadastro.tarifa_ip.valor is None
    assert rules.cadastro.tolerancia_auditoria_m.valor == 15
    executed = write_rows(tmp_path / "e.csv", "protocolo,data_execucao", ["PED-A,2026-11-10"])
    with pytest.raises(GeoIPError, match=r"CNPJ da Prefeitura não informado: use --cnpj"):
        build_cadastre(folder, executed, rules, today=TODAY)
    with pytest.raises(GeoIPError, match=r"dígitos verificadores não conferem"):
        build_cadastre(folder, executed, rules, cnpj="11.222.333/0001-80", today=TODAY)
    ok = build_cadastre(folder, executed, rules, cnpj="11222333000181", today=TODAY)
    assert ok.cnpj == "11.222.333/0001-81"
    assert any("não são as da avaliação" in n for n in ok.notes)  # folder made with demo rules


def test_demo_cnpj_is_fictional_and_valid() -> None:
    assert RULES.cadastro is not None
    assert validate_cnpj(RULES.cadastro.cnpj) == "99.999.999/0001-91"
    assert "FICTÍCIO" in RULES.cadastro.fonte_cnpj
    assert not RULES.cadastro.is_cemig


def test_rules_without_cadastre_section_are_refused(folder: Path, tmp_path: Path) -> None:
    source = (Path(RULES.arquivo).parent / "extrema.toml").read_text(encoding="utf-8")
    cut = source[: source.index("[cadastro]")]
    path = tmp_path / "sem_cadastro.toml"
    path.write_text(cut, encoding="utf-8")
    rules = load_rules(path)
    assert rules.cadastro is None
    executed = write_rows(tmp_path / "e.csv", "protocolo,data_execucao", ["PED-A,2026-11-10"])
    with pytest.raises(RulesError, match=r"campo 'cadastro': as regras não têm a seção"):
        build_cadastre(folder, executed, rules, cnpj="11222333000181", today=TODAY)


def test_bad_cadastre_rules_are_named(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        'herda = "demo"\n[cadastro]\ndias_por_mes = { valor = 40, unidade = "dias", '
        'fonte = "teste" }\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"campo 'cadastro\.dias_por_mes': um mês não tem 40"):
        load_rules(path)
    path.write_text(
        'herda = "demo"\n[cadastro]\ntarifa_ip = { valor = -1, unidade = "R$/kWh", '
        'fonte = "teste" }\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"campo 'cadastro\.tarifa_ip\.valor'"):
        load_rules(path)


# --- the package on a small folder, every number by hand --------------------------------------


def test_small_package_points_and_invoice(small: tuple[object, Path]) -> None:
    cadastre, _ = small
    include = cadastre.include  # type: ignore[attr-defined]
    # PED-A: 2 proposed poles + the request's point at 60 W; PED-B: 2 as-built at 40 W
    assert include["id_ponto"].tolist() == [
        "PED-A-IP01", "PED-A-IP02", "PED-A-IP03", "PED-B-IP01", "PED-B-IP02",
    ]  # fmt: skip
    assert include["potencia_w"].tolist() == [60.0, 60.0, 60.0, 40.0, 40.0]
    assert include["poste"].tolist()[:2] == ["PED-A-P01 (proposto)", "PED-A-P02 (proposto)"]
    assert include["origem"].tolist()[2:] == ["ponto do pedido (avaliação)", "as-built", "as-built"]
    assert include["data_energizacao"].tolist() == ["2026-11-10"] * 3 + ["2026-11-12"] * 2
    assert include["tipo_lampada"].tolist() == ["LED"] * 5
    assert include["endereco"].iloc[0] == "Rua Teste, Centro"
    assert include.crs.to_epsg() == 4674
    # pole 1 of PED-A stands 70 m before the request, in SIRGAS 2000 degrees
    lon, lat = lonlat(930, 0)
    assert include["longitude"].iloc[0] == pytest.approx(lon, abs=1e-7)
    assert include["latitude"].iloc[0] == pytest.approx(lat, abs=1e-7)
    exclude = cadastre.exclude  # type: ignore[attr-defined]
    assert exclude["id_ponto"].tolist() == ["A1", "A2", "A3", "B1"]
    assert exclude["potencia_w"].tolist() == [60.0, 60.0, 60.0, 100.0]
    inv = cadastre.invoice.set_index("movimento")  # type: ignore[attr-defined]
    assert inv.loc["inclusão", "carga_kw"] == pytest.approx(0.26)
    assert inv.loc["inclusão", "energia_kwh_mes"] == pytest.approx(92.56026)  # 0.26 × 11.8667 × 30
    assert inv.loc["exclusão", "energia_kwh_mes"] == pytest.approx(-99.68028)
    assert inv.loc["saldo", "pontos"] == 1
    assert inv.loc["saldo", "carga_kw"] == pytest.approx(-0.02)
    assert inv.loc["saldo", "energia_kwh_mes"] == pytest.approx(-7.12002)
    assert inv.loc["saldo", "custo_rs_mes"] == pytest.approx(-3.204009)


def test_small_package_reports_every_row(small: tuple[object, Path]) -> None:
    cadastre, _ = small
    executed = cadastre.executed_report  # type: ignore[attr-defined]
    assert executed["linha"].tolist() == [2, 3, 4]
    assert executed["pontos"].tolist() == [3, 1, 1]
    assert (
        "estimado(s) pela avaliação (2 poste(s) proposto(s) + o ponto do pedido)"
        in (executed["motivo"].iloc[0])
    )
    assert executed["situacao"].tolist() == ["aviso", "aviso", "aviso"]
    assert "não foi selecionado na avaliação" in executed["motivo"].iloc[1]
    removed = cadastre.removed_report  # type: ignore[attr-defined]
    assert removed["situacao"].tolist() == ["ok", "ok", "ok", "aviso"]
    assert "identificado como o ponto existente 'B1'" in removed["motivo"].iloc[3]


def test_small_package_files(small: tuple[object, Path]) -> None:
    _, out = small
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "pontos_incluir.csv", "pontos_excluir.csv", "cadastro_ip.gpkg", "resumo_fatura.csv",
        "conferencia_obras_executadas.csv", "conferencia_pontos_removidos.csv", "oficio.docx",
        "oficio.pdf", "checklist_medida060.md", "checklist_medida060.pdf", "proveniencia.json",
    ])  # fmt: skip
    csv = pd.read_csv(out / "pontos_incluir.csv", dtype=str)
    assert csv.columns[-1] == "proveniencia"
    assert csv["proveniencia"].str.contains("EPSG:4674").all()
    layers = {str(n): str(g) for n, g in pyogrio.list_layers(out / "cadastro_ip.gpkg")}
    assert layers["pontos_incluir"] == "Point" and layers["pontos_excluir"] == "Point"
    gpkg = pyogrio.read_dataframe(out / "cadastro_ip.gpkg", layer="pontos_excluir")
    assert gpkg.crs.to_epsg() == 4674 and len(gpkg) == 4
    meta = pyogrio.read_dataframe(out / "cadastro_ip.gpkg", layer="metadados")
    assert RULES.sha256 in meta.set_index("chave").loc["regras", "valor"]
    summary = pd.read_csv(out / "resumo_fatura.csv").set_index("movimento")
    assert summary.loc["saldo", "energia_kwh_mes"] == pytest.approx(-7.12)
    assert summary.loc["exclusão", "custo_rs_mes"] == pytest.approx(-44.86)
    provenance = json.loads((out / "proveniencia.json").read_text(encoding="utf-8"))
    assert provenance["crs"] == "EPSG:4674"
    assert {e["tipo"] for e in provenance["entradas"]} >= {"obras_executadas", "pontos_removidos"}
    assert provenance["parametros"]["horas_por_dia"]["valor"] == HOURS


def test_letter_docx_and_pdf_carry_count_and_load(small: tuple[object, Path]) -> None:
    from docx import Document
    from pypdf import PdfReader

    _, out = small
    document = Document(str(out / "oficio.docx"))
    body = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    expected = (
        "a inclusão de 5 ponto(s) de iluminação pública, com carga total de 0,260 kW, e a "
        "exclusão de 4 ponto(s), com carga total de 0,280 kW"
    )
    assert expected in body
    assert "CNPJ 99.999.999/0001-91" in body
    assert "MUNICÍPIO DE DEMONSTRAÇÃO — DADOS FICTÍCIOS" in body
    assert "-0,020 kW" in body and "-7,12 kWh por mês" in body and "R$ -3,20 por mês" in body
    # 7,12 kWh = 0,020 kW × 11,8667 h × 30 dias: said as hours and minutes (issue 21)
    assert "(11 h 52 min por dia e 30 dias por mês;" in body
    assert "Demonstração (dados fictícios)/MG, 1º de dezembro de 2026." in body
    assert "PED-A-IP01" in cells and "B1" in cells and "-0,280" in cells
    pdf = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(out / "oficio.pdf").pages
    )
    assert expected in pdf
    assert "PED-B-IP02" in pdf and "99.999.999/0001-91" in pdf


def test_checklist_has_the_communique_steps(small: tuple[object, Path], folder: Path,
                                            tmp_path: Path) -> None:  # fmt: skip
    from pypdf import PdfReader

    _, out = small
    text = (out / "checklist_medida060.md").read_text(encoding="utf-8")
    for step in ("LOGIN PROFISSIONAL no CEMIG ATENDE", '"Encerrar Sessão"', "Parceiro de Negócios",
                 "medida 060", "inclusão de pontos de IP em redes existentes", "anexo 13",
                 "27/09/2024", "Comunicado EM/PE 020/2024", "99.999.999/0001-91"):  # fmt: skip
        assert step in text, step
    # the demo's distributor is not CEMIG: the checklist says the steps are CEMIG's
    assert "estes passos são os da CEMIG" in text and "Distribuidora fictícia" in text
    pdf = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(out / "checklist_medida060.pdf").pages
    )
    assert "Encerrar Sessão" in pdf and "estes passos são os da CEMIG" in pdf
    executed = write_rows(tmp_path / "e.csv", "protocolo,data_execucao", ["PED-A,2026-11-10"])
    cemig = build_cadastre(
        folder, executed, load_rules("extrema"), cnpj="11222333000181", today=TODAY
    )
    write_cadastre(cemig, tmp_path / "cemig")
    text = (tmp_path / "cemig" / "checklist_medida060.md").read_text(encoding="utf-8")
    assert "estes passos são os da CEMIG" not in text and "11.222.333/0001-81" in text


# --- bad rows ----------------------------------------------------------------------------------


def test_every_bad_executed_row_is_reported(folder: Path, tmp_path: Path) -> None:
    far_lon, far_lat = lonlat(1000, 2000)
    near_lon, near_lat = lonlat(950, 3)
    rows = {
        2: (",2026-11-10,,,", "campo 'protocolo': obrigatório, está vazio"),
        3: ("PED-X,2026-11-10,,,", "o protocolo 'PED-X' não consta da avaliação"),
        4: ("PED-A,2099-01-01,,,", "campo 'data_execucao': data no futuro (01/01/2099)"),
        5: ("PED-A,2026-02-30,,,", "campo 'data_execucao': data inexistente ('2026-02-30')"),
        6: ("PED-A,ontem,,,", "campo 'data_execucao': data em formato não reconhecido ('ontem')"),
        7: ("PED-A,,,,", "campo 'data_execucao': obrigatória, está vazia"),
        8: (f"PED-A,2026-11-10,{near_lat},{near_lon},0",
            "campo 'potencia_w': a potência deve ser maior que zero (0 W)"),
        9: (f"PED-A,2026-11-10,{near_lat},{near_lon},abc",
            "campo 'potencia_w': não é um número ('abc')"),
        10: (f"PED-A,2026-11-10,{near_lat},,60",
             "campo 'longitude': vazio, mas a latitude foi informada"),
        11: ("PED-A,2026-11-10,7465000,357000,60", "parece coordenada projetada (UTM)"),
        12: ("PED-C,2026-11-10,,,", "o pedido 'PED-C' não tem localização na avaliação"),
        13: ("PED-D,2026-11-10,,,", "o protocolo 'PED-D' aparece 2 vezes na avaliação"),
        14: (f"PED-A,2026-11-10,{far_lat},{far_lon},60", "ponto a 2000 m do pedido"),
        15: (f"PED-A,2026-11-10,{near_lat},{near_lon},1200", "1200 W acima de 1000 W"),
        16: ("PED-A,2026-11-10,,,", "execução registrada; os pontos deste protocolo vêm"),
        17: ("PED-B,2026-11-10,,,", "o protocolo 'PED-B' não foi selecionado"),
        18: ("PED-B,2026-01-10,,,", "é anterior à data do protocolo (2026-06-01)"),
    }  # fmt: skip
    path = write_rows(
        tmp_path / "obras.csv",
        "protocolo,data_execucao,latitude,longitude,potencia_w",
        [line for line, _ in rows.values()],
    )
    result = build_cadastre(folder, path, RULES, today=TODAY)
    report = result.executed_report.set_index("linha")
    assert report.index.tolist() == list(rows)  # every row accounted for
    for line, (_, message) in rows.items():
        motivo = report.loc[line, "motivo"]
        assert motivo.startswith(f"arquivo '{path}', linha {line}: "), motivo
        assert message in motivo, (line, motivo)
    errors = [line for line in rows if report.loc[line, "situacao"] == "erro"]
    assert errors == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18]
    assert report.loc[[14, 15, 16, 17], "situacao"].tolist() == ["aviso"] * 4
    # line 18 repeats PED-B (the proposed points come from line 17 only)
    assert "já informado na linha 17" in report.loc[18, "motivo"]
    assert result.include["linha_arquivo"].tolist() == [14, 15, 17]


def test_every_bad_removal_row_is_reported(folder: Path, tmp_path: Path) -> None:
    far_lon, far_lat = lonlat(5000, 5000)
    a3_lon, a3_lat = lonlat(70, 300)
    rows = {
        2: ("99999,,,100,", "ponto '99999' não encontrado na camada 'pontos_ip'"),
        3: (",,,,,só o motivo", "campos 'id_ponto', 'latitude' e 'longitude': vazios"),
        4: ("A1,,,-5,", "campo 'potencia_w': a potência deve ser maior que zero (-5 W)"),
        5: (f",{far_lat},{far_lon},,", "vazio e a potência do ponto não consta da rede existente"),
        6: ("A2,,,75,2099-05-01", "campo 'data_remocao': data no futuro (01/05/2099)"),
        7: ("A2,,,75,", "75 W no arquivo e 60 W na rede existente; usada a do arquivo"),
        8: ("A2,,,60,", "ponto 'A2' repetido (linha 7)"),
        9: (f"A3,{a3_lat},{a3_lon},,", "a 300 m do ponto 'A3' da rede existente"),
        10: (f"ZZ,{far_lat},{far_lon},80,",
             "ponto 'ZZ' não encontrado na camada 'pontos_ip' da avaliação; usadas as coordenadas"),
    }  # fmt: skip
    path = write_rows(
        tmp_path / "removidos.csv",
        "id_ponto,latitude,longitude,potencia_w,data_remocao,motivo",
        [line for line, _ in rows.values()],
    )
    executed = write_rows(tmp_path / "e.csv", "protocolo,data_execucao", ["PED-A,2026-11-10"])
    result = build_cadastre(folder, executed, RULES, removed=path, today=TODAY)
    report = result.removed_report.set_index("linha")
    assert report.index.tolist() == list(rows)
    for line, (_, message) in rows.items():
        motivo = report.loc[line, "motivo"]
        assert motivo.startswith(f"arquivo '{path}', linha {line}: "), motivo
        assert message in motivo, (line, motivo)
    assert report["situacao"].tolist() == ["erro"] * 5 + ["aviso", "erro", "aviso", "aviso"]
    assert result.exclude["id_ponto"].tolist() == ["A2", "A3", "ZZ"]
    assert result.exclude["potencia_w"].tolist() == [75.0, 60.0, 80.0]


def test_unreadable_inputs_are_named(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(GeoIPError, match=r"arquivo de obras executadas não encontrado"):
        build_cadastre(folder, tmp_path / "nada.csv", RULES, today=TODAY)
    missing = write_rows(tmp_path / "e.csv", "protocolo,latitude", ["PED-A,1"])
    with pytest.raises(GeoIPError, match=r"coluna obrigatória 'data_execucao' não encontrada"):
        build_cadastre(folder, missing, RULES, today=TODAY)
    executed = write_rows(tmp_path / "ok.csv", "protocolo,data_execucao", ["PED-A,2026-11-10"])
    with pytest.raises(GeoIPError, match=r"não tem avaliacao.gpkg"):
        build_cadastre(tmp_path, executed, RULES, today=TODAY)
    with pytest.raises(GeoIPError, match=r"campo '--tarifa': tarifa inválida"):
        build_cadastre(folder, executed, RULES, tariff=-1.0, today=TODAY)


# --- the demo, end to end ----------------------------------------------------------------------


def test_demo_end_to_end(demo_outputs: list[Path], tmp_path: Path) -> None:
    assessment = demo_outputs[0].parent
    runner = CliRunner()
    root = typer.Typer()
    root.add_typer(cadastre_app, name="cadastro")
    out = tmp_path / "cadastro"
    result = runner.invoke(
        root,
        ["cadastro", "--avaliacao", str(assessment), "--obras",
         str(DEMO / "obras_executadas.csv"), "--removidos", str(DEMO / "pontos_removidos.csv"),
         "--regras", "demo", "--data-referencia", "2026-12-01", "--saida", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Variação da fatura de IP" in result.output
    ranking = pd.read_csv(assessment / "ranking.csv").drop_duplicates("protocolo")
    poles = ranking.set_index("protocolo")["postes_novos"]
    proposed = {p: int(poles[p]) + 1 for p in ("PED-2026-0106", "PED-2026-0139", "PED-2026-0105")}
    include = pd.read_csv(out / "pontos_incluir.csv", dtype={"poste": str})
    counts = include["protocolo"].value_counts().to_dict()
    assert counts == {**proposed, "PED-2026-0101": 3}
    watts = (proposed["PED-2026-0106"] + proposed["PED-2026-0105"]) * 60.0
    watts += proposed["PED-2026-0139"] * 100.0 + 3 * 40.0
    exclude = pd.read_csv(out / "pontos_excluir.csv", dtype={"id_ponto": str})
    assert exclude["id_ponto"].tolist() == ["40047", "40046", "40049"]
    assert exclude["potencia_w"].tolist() == [70.0, 70.0, 70.0]
    # the LED points of the improvement stand on the poles of the lamps removed
    assert include.loc[include["protocolo"] == "PED-2026-0101", "poste"].tolist() == [
        "10059", "10058", "10062",
    ]  # fmt: skip
    summary = pd.read_csv(out / "resumo_fatura.csv").set_index("movimento")
    assert summary.loc["inclusão", "carga_kw"] == pytest.approx(watts / 1000, abs=5e-4)
    net = watts - 210.0
    assert summary.loc["saldo", "energia_kwh_mes"] == pytest.approx(kwh(net), abs=0.005)
    assert summary.loc["saldo", "custo_rs_mes"] == pytest.approx(kwh(net) * TARIFF, abs=0.005)
    executed = pd.read_csv(out / "conferencia_obras_executadas.csv")
    assert len(executed) == 13
    # works funded by the program: ranked and selected, or an Art. 11 work reserved first
    motives = executed.drop_duplicates("protocolo").set_index("protocolo")["motivo"]
    for funded in ("PED-2026-0106", "PED-2026-0105"):
        assert "não foi selecionado" not in motives[funded], funded
    assert "não foi selecionado" in motives["PED-2026-0138"]  # pending proof of hardship
    assert executed["situacao"].value_counts().to_dict() == {"erro": 7, "aviso": 3, "ok": 3}
    removed = pd.read_csv(out / "conferencia_pontos_removidos.csv")
    assert removed["situacao"].tolist() == ["ok", "ok", "aviso", "erro", "erro", "erro", "erro"]
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    cpfs = [c for c in raw["cpf_solicitante"] if c]
    names = [n for n in raw["nome_solicitante"] if n]
    for path in out.iterdir():
        if path.suffix in (".csv", ".md", ".json"):
            text = path.read_text(encoding="utf-8")
            assert scan_for_personal_data(text, cpfs, names) == [], path.name


def test_cli_asks_for_the_missing_options(tmp_path: Path) -> None:
    root = typer.Typer()
    root.add_typer(cadastre_app, name="cadastro")
    result = CliRunner().invoke(root, ["cadastro", "--saida", str(tmp_path)])
    assert result.exit_code == 1
    assert "informe --avaliacao, --obras" in result.output


# --- audit -------------------------------------------------------------------------------------


def _bdgd(path: Path, poles: dict[str, tuple[float, float]], pip: list[dict[str, object]],
          crs: str = UTM) -> Path:  # fmt: skip
    ponnot = gpd.GeoDataFrame(
        {"COD_ID": list(poles)},
        geometry=[_pt(x, y) for x, y in poles.values()],
        crs=crs,
    ).to_crs("EPSG:4674")
    pyogrio.write_dataframe(ponnot, path, layer="PONNOT", driver="GPKG")
    table = pd.DataFrame(pip)
    for month in range(1, 13):
        column = f"ENE_{month:02d}"
        table[column] = [row.get(column, 0.0) for row in pip]
    pyogrio.write_dataframe(table, path, layer="PIP", driver="GPKG")
    return path


def test_audit_small_by_hand(tmp_path: Path) -> None:
    poles = {"P1": (0, 0), "P2": (35, 0), "P3": (1000, 0), "P4": (1500, 0), "P6": (2000, 0),
             "P8": (3000, 0), "P9": (4000, 0)}  # fmt: skip
    pip = [
        {"COD_ID": "U1", "PN_CON": "P1", "POT_LAMP": 60.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "U2", "PN_CON": "P2", "POT_LAMP": 100.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "U3", "PN_CON": "P3", "POT_LAMP": 70.0, "TIPO_LAMP": "9", "MUN": "9999999",
         "ENE_11": 21.0, "ENE_12": 21.0},
        {"COD_ID": "U4", "PN_CON": "P4", "POT_LAMP": 250.0, "TIPO_LAMP": "9", "MUN": "9999999"},
        {"COD_ID": "U5", "PN_CON": "P404", "POT_LAMP": 40.0, "TIPO_LAMP": "1", "MUN": "9999999",
         "ENE_01": 14.0},
        {"COD_ID": "U6", "PN_CON": "P6", "POT_LAMP": 96.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "U7", "PN_CON": "P6", "POT_LAMP": 40.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "U8", "PN_CON": "P8", "POT_LAMP": 60.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "U9", "PN_CON": "P9", "POT_LAMP": 60.0, "TIPO_LAMP": "1", "MUN": "9999999"},
        {"COD_ID": "X1", "PN_CON": "P1", "POT_LAMP": 60.0, "TIPO_LAMP": "1", "MUN": "1111111"},
    ]  # fmt: skip
    bdgd = _bdgd(tmp_path / "bdgd.gpkg", poles, pip)
    points = {"I1": (0, 0, "60"), "I2": (35, 3, "60"), "I3": (500, 0, "150"),
              "I5": (2000, 0, "40"), "I6": (2000, 0, "96"), "I7": (3000, 14, "60"),
              "I8": (4000, 15.5, "60")}  # fmt: skip
    lines = []
    for name, (x, y, w) in points.items():
        lon, lat = lonlat(x, y)
        lines.append(f"{name};{lat};{lon};{w}")
    lines.insert(3, "I4;abc;-46.38;60")
    inventory = write_rows(tmp_path / "inventario.csv", "id;lat;lon;potencia", lines)
    audit = audit_cadastre(inventory, bdgd, RULES, ibge=9999999)
    table = audit.points
    status = dict(zip(table["id_inventario"].fillna(table["id_distribuidora"]),
                      table["situacao"], strict=True))  # fmt: skip
    assert status == {
        "I1": "conferido", "I5": "conferido", "I6": "conferido", "I7": "conferido",
        "I2": "potencia_divergente", "U3": "faturado_nao_encontrado",
        "U4": "faturado_nao_encontrado", "U5": "faturado_nao_encontrado",
        "U9": "faturado_nao_encontrado", "I3": "encontrado_nao_faturado",
        "I8": "encontrado_nao_faturado", "I4": "erro",
    }  # fmt: skip
    by = table.set_index(table["id_inventario"].fillna(table["id_distribuidora"]))
    assert by.loc["I5", "id_distribuidora"] == "U7" and by.loc["I6", "id_distribuidora"] == "U6"
    assert by.loc["I7", "distancia_m"] == pytest.approx(14.0, abs=0.01)
    assert by.loc["I2", "diferenca_kwh_mes"] == pytest.approx(14.24004)  # 40 W × 11.8667 × 30
    assert by.loc["I2", "diferenca_rs_mes"] == pytest.approx(14.24004 * TARIFF)
    assert by.loc["U3", "diferenca_kwh_mes"] == pytest.approx(21.0)  # ENE of its billed months
    assert by.loc["U4", "diferenca_kwh_mes"] == pytest.approx(89.00025)  # 250 W, no ENE
    assert by.loc["U5", "diferenca_kwh_mes"] == pytest.approx(14.0)
    assert "sem poste na BDGD" in by.loc["U5", "observacao"]
    assert by.loc["I3", "diferenca_kwh_mes"] == pytest.approx(-53.40015)  # 150 W
    assert by.loc["I8", "diferenca_kwh_mes"] == pytest.approx(-21.36006)
    assert "linha 5" in by.loc["I4", "observacao"] and "latitude" in by.loc["I4", "observacao"]
    summary = audit.summary.set_index("situacao")
    assert summary.loc["faturado_nao_encontrado", "diferenca_kwh_mes"] == pytest.approx(
        21.0 + 89.00025 + 14.0 + 21.36006
    )
    assert summary.loc["total", "diferenca_kwh_mes"] == pytest.approx(84.84014)
    assert summary.loc["total", "pontos"] == 11
    files = write_audit(audit, tmp_path / "auditoria")
    assert [p.name for p in files] == [
        "auditoria_pontos.csv", "auditoria_resumo.csv", "auditoria.gpkg", "proveniencia.json",
    ]  # fmt: skip
    layer = pyogrio.read_dataframe(tmp_path / "auditoria" / "auditoria.gpkg",
                                   layer="faturado_nao_encontrado")  # fmt: skip
    assert sorted(layer["id_distribuidora"]) == ["U3", "U4", "U9"]  # U5 has no position


def test_audit_cli_and_municipality_filter(tmp_path: Path) -> None:
    bdgd = _bdgd(
        tmp_path / "b.gpkg",
        {"P1": (0, 0)},
        [{"COD_ID": "U1", "PN_CON": "P1", "POT_LAMP": 60.0, "TIPO_LAMP": "1", "MUN": "4320909"}],
    )
    lon, lat = lonlat(0, 0)
    inventory = write_rows(tmp_path / "i.csv", "id,latitude,longitude,potencia_w",
                           [f"I1,{lat},{lon},100"])  # fmt: skip
    root = typer.Typer()
    root.add_typer(cadastre_app, name="cadastro")
    result = CliRunner().invoke(
        root,
        ["cadastro", "auditar", "--inventario", str(inventory), "--bdgd", str(bdgd), "--regras",
         "extrema", "--saida", str(tmp_path / "a"), "--tarifa", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # Extrema's IBGE code is not in this BDGD: every point is compared, with a warning
    assert "nenhum ponto da BDGD tem MUN = 3125101" in result.output
    table = pd.read_csv(tmp_path / "a" / "auditoria_pontos.csv")
    assert table["situacao"].tolist() == ["potencia_divergente"]
    assert table["diferenca_kwh_mes"].iloc[0] == pytest.approx(-kwh(40), abs=5e-4)
    assert table["diferenca_rs_mes"].iloc[0] == pytest.approx(-kwh(40) * 0.5, abs=0.005)


@pytest.mark.slow
def test_audit_on_a_perturbed_copy_of_the_real_bdgd(tmp_path: Path) -> None:
    zipped = require(BDGD_ZIP)
    gdb = f"/vsizip/{zipped.resolve().as_posix()}/{zipped.name.removesuffix('.zip')}"
    energy = [f"ENE_{m:02d}" for m in range(1, 13)]
    pip = pyogrio.read_dataframe(gdb, layer="PIP", read_geometry=False,
                                 columns=["COD_ID", "PN_CON", "POT_LAMP", "TIPO_LAMP", "MUN",
                                          *energy])  # fmt: skip
    poles = pyogrio.read_dataframe(gdb, layer="PONNOT", columns=["COD_ID"])
    joined = pip.merge(poles, left_on="PN_CON", right_on="COD_ID", suffixes=("", "_poste"))
    assert len(joined) == len(pip) == 3481
    points = gpd.GeoDataFrame(joined, geometry="geometry", crs=poles.crs)
    # the municipality's inventory: every point of the real cadastre, as a GeoPackage
    inventory = points[["COD_ID", "POT_LAMP", "TIPO_LAMP", "geometry"]].rename(
        columns={"COD_ID": "id_ponto", "POT_LAMP": "potencia_w", "TIPO_LAMP": "tipo_lampada"}
    )
    pyogrio.write_dataframe(inventory, tmp_path / "inventario.gpkg", layer="pontos_ip")
    # perturb the utility's side: only points with no other lamp within 30 m
    metric = points.to_crs("EPSG:31982")
    xy = np.column_stack([metric.geometry.x, metric.geometry.y])
    nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]
    lone = points.loc[nearest > 30].sort_values("COD_ID", key=lambda s: s.astype(int))
    dropped = lone.iloc[[0, 100, 200, 300, 400, 500, 600]]
    changed = lone.iloc[[50, 150, 250]]
    new_power = {cod: (250.0 if w != 250.0 else 40.0) for cod, w in
                 zip(changed["COD_ID"], changed["POT_LAMP"], strict=True)}  # fmt: skip
    perturbed = pip.loc[~pip["COD_ID"].isin(dropped["COD_ID"])].copy()
    pairs = zip(perturbed["COD_ID"], perturbed["POT_LAMP"], strict=True)
    perturbed["POT_LAMP"] = [new_power.get(c, w) for c, w in pairs]
    west, south = points.total_bounds[:2]
    fake_at = [shapely.Point(west + 0.002 * k, south - 0.02) for k in range(5)]  # ~2 km south
    fake_xy = gpd.GeoSeries(fake_at, crs=poles.crs).to_crs("EPSG:31982")
    assert (cKDTree(xy).query(np.column_stack([fake_xy.x, fake_xy.y]))[0] > 1000).all()
    fake_poles = gpd.GeoDataFrame(
        {"COD_ID": [f"FAKE_P{k}" for k in range(5)]}, geometry=list(fake_at), crs=poles.crs
    )
    fake_pip = pd.DataFrame({
        "COD_ID": [f"FAKE_{k}" for k in range(5)], "PN_CON": fake_poles["COD_ID"],
        "POT_LAMP": 100.0, "TIPO_LAMP": "1", "MUN": "4320909", **{c: 30.0 for c in energy},
    })  # fmt: skip
    copy = tmp_path / "bdgd_perturbada.gpkg"
    pyogrio.write_dataframe(pd.concat([poles, fake_poles], ignore_index=True), copy,
                            layer="PONNOT", driver="GPKG")  # fmt: skip
    pyogrio.write_dataframe(pd.concat([perturbed, fake_pip], ignore_index=True), copy,
                            layer="PIP", driver="GPKG")  # fmt: skip

    audit = audit_cadastre(tmp_path / "inventario.gpkg", copy, RULES)
    table = audit.points
    counts = table["situacao"].value_counts().to_dict()
    assert counts == {"conferido": 3481 - 7 - 3, "encontrado_nao_faturado": 7,
                      "potencia_divergente": 3, "faturado_nao_encontrado": 5}  # fmt: skip
    assert audit.provenance["crs_metrico"] == "EPSG:31982"  # SIRGAS 2000 / UTM 22S, Tapejara
    lost = table.loc[table["situacao"] == "encontrado_nao_faturado"].set_index("id_inventario")
    assert sorted(lost.index) == sorted(dropped["COD_ID"])
    for cod, watts in zip(dropped["COD_ID"], dropped["POT_LAMP"], strict=True):
        assert lost.loc[cod, "diferenca_kwh_mes"] == pytest.approx(-kwh(watts))
    diverge = table.loc[table["situacao"] == "potencia_divergente"].set_index("id_inventario")
    assert sorted(diverge.index) == sorted(changed["COD_ID"])
    for cod, watts in zip(changed["COD_ID"], changed["POT_LAMP"], strict=True):
        assert diverge.loc[cod, "id_distribuidora"] == cod
        assert diverge.loc[cod, "potencia_distribuidora_w"] == new_power[cod]
        assert diverge.loc[cod, "diferenca_kwh_mes"] == pytest.approx(kwh(new_power[cod] - watts))
        assert diverge.loc[cod, "diferenca_rs_mes"] == pytest.approx(
            kwh(new_power[cod] - watts) * TARIFF
        )
    ghosts = table.loc[table["situacao"] == "faturado_nao_encontrado"]
    assert sorted(ghosts["id_distribuidora"]) == [f"FAKE_{k}" for k in range(5)]
    assert ghosts["diferenca_kwh_mes"].tolist() == pytest.approx([30.0] * 5)  # ENE = 30 kWh
    summary = audit.summary.set_index("situacao")
    expected = (
        150.0
        - sum(kwh(w) for w in dropped["POT_LAMP"])
        + sum(
            kwh(new_power[c] - w)
            for c, w in zip(changed["COD_ID"], changed["POT_LAMP"], strict=True)
        )
    )
    assert summary.loc["total", "diferenca_kwh_mes"] == pytest.approx(expected)
    # the real BDGD against its own points: everything matches, two lamps per pole included
    same = audit_cadastre(tmp_path / "inventario.gpkg", zipped, RULES, ibge=4320909)
    same_counts = same.points["situacao"].value_counts().to_dict()
    tapejara = int((pip["MUN"] == "4320909").sum())
    assert same_counts == {"conferido": tapejara, "encontrado_nao_faturado": 3481 - tapejara}
