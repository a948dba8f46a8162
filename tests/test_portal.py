"""The public transparency portal (issue 22): pages, open data, feed and privacy."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from geo_ip.portal import build_site
from geo_ip.portal.model import page_slug, public_text, street_only
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY

ATOM = "{http://www.w3.org/2005/Atom}"
SHA = "ab" * 32


def _text(html: str) -> str:
    """Visible text of a page, whitespace collapsed (tags removed, entities kept)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _small_folder(folder: Path, *, hostile: bool = False) -> Path:
    """A hand-made assessment folder: three ranked requests, one tie, one ineligible."""
    folder.mkdir(parents=True, exist_ok=True)
    evil = '<script>alert(1)</script>../../../etc/passwd"'
    rows: list[dict[str, Any]] = [
        {"protocolo": "P-1", "posicao": 1, "situacao": "classificado", "pontuacao_total": 70,
         "pont_beneficiarios": 30, "pont_seguranca": 15, "pont_trafego": 10,
         "pont_custo_beneficio": 10, "pont_viabilidade": 5, "logradouro": "Rua das Flores, 123",
         "bairro": "Centro", "tipo": "extensao_rede", "data_protocolo": "2026-05-02",
         "latitude": -22.900417, "longitude": -46.300291, "custo_estimado_rs": 10000.0,
         "percentual_municipio": 80.0, "custo_municipio_rs": 8000.0,
         "selecionado_orcamento": "sim",
         "motivos": "1º na classificação por pontuação (Art. 13), com 70 pontos"},
        {"protocolo": "P-3", "posicao": 2, "situacao": "classificado", "pontuacao_total": 55,
         "pont_beneficiarios": 20, "pont_seguranca": 10, "pont_trafego": 10,
         "pont_custo_beneficio": 10, "pont_viabilidade": 5, "logradouro": "Avenida Brasil 1500",
         "bairro": "Vila Nova", "tipo": "melhoria", "data_protocolo": "2026-05-01",
         "latitude": -22.91, "longitude": -46.31, "custo_estimado_rs": 4000.0,
         "percentual_municipio": 50.0, "custo_municipio_rs": 2000.0,
         "selecionado_orcamento": "sim",
         "motivos": "2º na classificação por pontuação (Art. 13), com 55 pontos"},
        {"protocolo": "P-2", "posicao": 3, "situacao": "aguardando_orcamento",
         "pontuacao_total": 55, "pont_beneficiarios": 15, "pont_seguranca": 15,
         "pont_trafego": 10, "pont_custo_beneficio": 10, "pont_viabilidade": 5,
         "logradouro": "Rua 7 de Setembro nº 45", "bairro": "Vila Nova", "tipo": "implantacao",
         "data_protocolo": "2026-04-01", "latitude": -22.92, "longitude": -46.32,
         "custo_estimado_rs": 90000.0, "percentual_municipio": 50.0,
         "custo_municipio_rs": 45000.0, "selecionado_orcamento": "não",
         "motivos": "3º na classificação por pontuação (Art. 13), com 55 pontos; empatado com o "
         "protocolo P-3, que fica à frente por maior número de beneficiários (9 contra 4 "
         "moradores estimados) (Art. 10 §1); aguarda orçamento"},
        {"protocolo": evil if hostile else "P-4", "posicao": None, "situacao": "inelegivel",
         "pontuacao_total": 40, "logradouro": f"Rua {evil}, 99" if hostile else "Rua Goiás",
         "bairro": evil if hostile else "Centro", "tipo": "melhoria",
         "data_protocolo": "2026-06-01", "latitude": -22.93, "longitude": -46.33,
         "selecionado_orcamento": "não", "fundamento_inelegibilidade": "Art. 5, I",
         "motivos": "inelegível (Art. 5, I)"},
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    # columns a real ranking may carry that the portal must never read
    table["nome_solicitante"] = "Zuleika Quixabeira"
    table["cpf_solicitante"] = "529.982.247-25"
    table["proveniencia"] = "geo_ip"
    table.to_csv(folder / "ranking.csv", index=False, encoding="utf-8")
    evidence = {
        "proveniencia": {},
        "pedidos": [
            {
                "protocolo": "P-1",
                "criterios": {
                    "seguranca": {
                        "nivel_seguranca": "I",
                        "motivacao_seguranca": "Nível I: 4 ocorrências em 24 meses.",
                        "decisao_seguranca": "mantido em 15 por Maria Relatora (12/11/2026): "
                        "vistoria noturna confirmou o risco",
                    },
                    "beneficiarios": {"motivacao_beneficiarios": "30 de 40 pontos: 12 casas."},
                },
                "localizacao": {"geocodificacao_detalhe": "número 123 encontrado"},
            }
        ],
    }
    (folder / "evidencias.json").write_text(json.dumps(evidence), encoding="utf-8")
    provenance = {
        "data_referencia": "2026-11-20",
        "regras": {"versao": "2026.1-teste", "sha256": SHA, "municipio": "Cidade Teste",
                   "lei": "Lei nº 5.442/2026", "arquivo": "/nao/existe.toml"},
        "orcamento": {"orcamento_rs": 60000.0, "reservado_rs": 0.0, "classificados_rs": 10000.0,
                      "saldo_final_rs": 50000.0},
        "territorio": {"osm_data": "2026-01-15T00:00:00Z"},
    }  # fmt: skip
    (folder / "proveniencia.json").write_text(json.dumps(provenance), encoding="utf-8")
    return folder


@pytest.fixture
def small_site(tmp_path: Path) -> Path:
    folder = _small_folder(tmp_path / "avaliacao")
    out = tmp_path / "site"
    build_site(folder, out)
    return out


def test_request_page_shows_points_status_and_street_without_number(small_site: Path) -> None:
    page = (small_site / "pedidos" / "P-1.html").read_text(encoding="utf-8")
    text = _text(page)
    assert "Rua das Flores, Centro" in text
    assert "123" not in text
    assert "Classificado e selecionado no orçamento" in text
    assert "Pontuação final 70 de 100 pontos" in text
    assert "Segurança pública e viária 15 de 15 (nível I) Nível I: 4 ocorrências em 24 meses." in (
        text
    )
    assert "Maria Relatora, 12/11/2026" in text
    assert "Custo estimado da obra R$ 10.000,00" in text
    assert "Participação do Município (Art. 4º) 80 %" in text
    assert "Parte do Município R$ 8.000,00" in text
    assert "2026.1-teste" in text and SHA in text and "Dados de 20/11/2026" in text
    assert "© OpenStreetMap contributors" in text
    assert "Zuleika" not in page and "529.982.247-25" not in page
    tie = _text((small_site / "pedidos" / "P-2.html").read_text(encoding="utf-8"))
    assert "Rua 7 de Setembro, Vila Nova" in tie and "nº 45" not in tie
    assert (
        "empatado com o protocolo P-3, que fica à frente por maior número de beneficiários" in tie
    )
    assert "Avenida Brasil, Vila Nova" in _text(
        (small_site / "pedidos" / "P-3.html").read_text(encoding="utf-8")
    )


def test_ranking_order_csv_and_dictionary(small_site: Path) -> None:
    page = (small_site / "classificacao.html").read_text(encoding="utf-8")
    first_table = page.split("</table>")[0]
    assert re.findall(r'href="pedidos/([^"]+)\.html"', first_table) == ["P-1", "P-3", "P-2"]
    with (small_site / "dados" / "classificacao.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["protocolo"] for r in rows] == ["P-1", "P-3", "P-2", "P-4"]
    assert rows[0]["pontos_seguranca"] == "15" and rows[0]["pontuacao_total"] == "70"
    assert rows[0]["logradouro"] == "Rua das Flores"
    # coordinates of a stretch of street (0.001°, about 100 m), never the applicant's point
    assert [(r["latitude"], r["longitude"]) for r in rows[:2]] == [
        ("-22.900", "-46.300"),
        ("-22.910", "-46.310"),
    ]
    assert rows[2]["desempate"].startswith("empatado com o protocolo P-3")
    assert rows[0]["sha256_regras"] == SHA and rows[0]["data_dados"] == "2026-11-20"
    assert "nome_solicitante" not in rows[0] and "cpf_solicitante" not in rows[0]
    # the same table as a spreadsheet, numbers as numbers
    sheet = pd.read_excel(small_site / "dados" / "classificacao.ods", engine="odf", dtype=object)
    assert list(sheet.columns) == list(rows[0])
    assert sheet["protocolo"].tolist() == ["P-1", "P-3", "P-2", "P-4"]
    assert sheet.loc[0, "pontuacao_total"] == 70 and sheet.loc[0, "latitude"] == -22.9
    assert sheet.loc[0, "logradouro"] == "Rua das Flores"
    with (small_site / "dados" / "dicionario.csv").open(encoding="utf-8") as fh:
        documented = {r["coluna"] for r in csv.DictReader(fh)}
    assert documented == set(rows[0])
    assert "desempate" in (small_site / "dados" / "dicionario.html").read_text(encoding="utf-8")


def test_home_page_budget_and_size(small_site: Path) -> None:
    index = small_site / "index.html"
    text = _text(index.read_text(encoding="utf-8"))
    assert "Orçamento R$ 60.000,00" in text
    assert "Selecionado pela classificação R$ 10.000,00" in text
    assert "Dados de 20/11/2026" in text
    assert "40 pontos" in text
    assert index.stat().st_size < 500_000
    regras = _text((small_site / "regras.html").read_text(encoding="utf-8"))
    assert SHA in regras and "2026.1-teste" in regras


def test_atom_feed_entries(small_site: Path) -> None:
    root = ET.parse(small_site / "atom.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{child}") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    # the decision of 12/11/2026 and the two selections dated with the data (20/11/2026)
    assert sorted(titles) == [
        "Decisão — protocolo P-1: II – Segurança pública e viária",
        "Seleção — protocolo P-1: Seleção no orçamento (Art. 13)",
        "Seleção — protocolo P-3: Seleção no orçamento (Art. 13)",
    ]
    decision = next(e for e in entries if e.findtext(f"{ATOM}title", "").startswith("Decisão"))
    assert decision.findtext(f"{ATOM}updated") == "2026-11-12T00:00:00Z"
    assert decision.findtext(f"{ATOM}author/{ATOM}name") == "Maria Relatora"
    assert decision.find(f"{ATOM}link").get("href") == "pedidos/P-1.html"  # type: ignore[union-attr]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)


def test_hostile_protocol_stays_inside_and_is_escaped(tmp_path: Path) -> None:
    folder = _small_folder(tmp_path / "avaliacao", hostile=True)
    out = tmp_path / "site"
    written = build_site(folder, out)
    for path in written:
        assert path.resolve().is_relative_to(out.resolve())
    assert not (tmp_path / "etc").exists()
    pages = sorted(p.name for p in (out / "pedidos").iterdir())
    assert pages == ["P-1.html", "P-2.html", "P-3.html", "script-alert-1-script-etc-passwd.html"]
    for path in out.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script>alert" not in html
    page = (out / "pedidos" / "script-alert-1-script-etc-passwd.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ", 99" not in page
    ET.parse(out / "atom.xml")  # still well-formed XML
    data = (out / "dados" / "pedidos.js").read_text(encoding="utf-8")
    assert "<" not in data and "\\u003cscript\\u003ealert(1)" in data


def test_slug_and_street_helpers() -> None:
    taken: set[str] = set()
    assert page_slug("PED-2026-0101", taken) == "PED-2026-0101"
    assert page_slug("PED-2026-0101", taken) == "PED-2026-0101-2"
    assert page_slug("../../x", taken) == "x"
    assert page_slug("...", taken).startswith("pedido-")
    assert street_only("Rua das Flores, 123") == "Rua das Flores"
    assert street_only("Rua das Flores, casa 3") == "Rua das Flores"
    assert street_only("Avenida Brasil nº 1500") == "Avenida Brasil"
    assert street_only("Rua Bela Vista s/n") == "Rua Bela Vista"
    assert street_only("Rua 25") == "Rua 25"
    assert street_only("Rodovia MG 290") == "Rodovia MG 290"
    assert public_text("ligar (35) 99876-5432 ou ana@example.com, CPF 52998224725") == (
        "ligar [dado pessoal omitido] ou [dado pessoal omitido], CPF [dado pessoal omitido]"
    )


# --- the privacy scan: the demo with planted personal data ------------------------------------


def _cpf(base: int) -> str:
    digits = [int(d) for d in f"{base:09d}"]
    for n in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(n, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


def _file_text(path: Path) -> str:
    """Every text of a published file (an ODS spreadsheet: its XML parts)."""
    if path.suffix == ".ods":
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
            )
    return path.read_text(encoding="utf-8")


def test_privacy_scan_of_the_demo_site(demo_territory: Path, tmp_path: Path) -> None:
    from sqlalchemy import select

    from geo_ip.outputs.files import write_outputs
    from geo_ip.pipeline import assess
    from geo_ip.registry.db import open_registry
    from geo_ip.registry.exchange import record_assessment
    from geo_ip.registry.models import PersonalData
    from geo_ip.rules.config import load_rules

    requests = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    planted: list[str] = []
    numbers: list[str] = []
    for i in range(len(requests)):
        cpf = _cpf(731_004_000 + 37 * i)
        name = f"Zuleika Quixabeira{chr(65 + i % 26)}{chr(65 + i // 26)} Tamandaré"
        income = f"{1_311 + 17 * i},73"
        number = str(8_301 + 7 * i)
        requests.loc[i, "cpf_solicitante"] = cpf
        requests.loc[i, "nome_solicitante"] = name
        requests.loc[i, "renda_familiar"] = income
        requests.loc[i, "numero"] = number
        requests.loc[i, "observacoes"] = (
            f"vizinha {name}, tel (35) 99876-{5400 + i}, x{i}@exemplo.org"
        )
        if requests.loc[i, "endereco"]:
            requests.loc[i, "endereco"] = f"{requests.loc[i, 'endereco']}, {number}"
        planted += [cpf, cpf.replace(".", "").replace("-", ""), name, "Quixabeira", income,
                    income.replace(",", "."), f"99876-{5400 + i}", f"x{i}@exemplo.org"]  # fmt: skip
        numbers.append(number)
        if requests.loc[i, "latitude"]:  # the applicant's own point locates the home
            planted += [requests.loc[i, "latitude"], requests.loc[i, "longitude"]]
    path = tmp_path / "pedidos.csv"
    requests.to_csv(path, index=False, encoding="utf-8")
    assessment = assess(
        demo_territory, path, load_rules("demo"), occurrences=DEMO / "ocorrencias.csv",
        decisions=DEMO / "decisoes.csv", history=DEMO / "beneficios_anteriores.csv",
        budget=DEMO_BUDGET, key=DEMO_KEY, today=DEMO_TODAY,
    )  # fmt: skip
    folder = tmp_path / "avaliacao"
    write_outputs(assessment, folder, maps=False, sheets=False)
    # the same run in the demo registry, with the applicants' personal data kept there
    registry = open_registry(f"sqlite:///{tmp_path / 'programa.sqlite'}")
    record_assessment(registry, assessment, cycle="demo", actor="sistema:teste")
    with registry.session() as session:
        stored = session.scalars(select(PersonalData)).all()
        assert len(stored) == len(requests)  # the registry does hold them
    number_hit = re.compile(r"(?<![\d.,])(" + "|".join(numbers) + r")(?![\d.,])")
    for source, out in ((folder, tmp_path / "site"), (registry, tmp_path / "site_registro")):
        written = build_site(source, out, key=DEMO_KEY)
        assert (out / "index.html").stat().st_size < 500_000
        assert len(list((out / "pedidos").glob("*.html"))) == len(requests)
        files = [p for p in out.rglob("*") if p.is_file() and "leaflet" not in p.parts]
        assert {p.suffix for p in files} >= {".html", ".csv", ".js", ".xml"}
        assert set(written) >= {out / "index.html", out / "atom.xml"}
        hits = []
        assert (out / "dados" / "classificacao.ods").is_file()
        for file in files:
            text = _file_text(file)
            hits += [f"{file.name}: {value}" for value in planted if value in text]
            hits += [f"{file.name}: número {m}" for m in number_hit.findall(text)]
            hits += [f"{file.name}: {m}" for m in re.findall(r"Zuleika|Tamandar", text)]
        assert hits == [], out.name
    registry.dispose()


# --- the registry as the source -----------------------------------------------------------------


def test_site_from_the_registry(registry_url: str, tmp_path: Path) -> None:
    from datetime import date

    from sqlalchemy import select

    from geo_ip.registry import store
    from geo_ip.registry.models import Request
    from geo_ip.registry.works import WorkInput, record_work
    from tests.small_assessment import NAMES
    from tests.test_registry_workflow import build_registry

    registry = build_registry(registry_url, personal=True)
    with registry.session() as session:
        first = session.scalar(select(Request).where(Request.protocolo == "PED-1"))
        assert first is not None
        store.write_report(
            session, first, f"Parecer favorável; visita com {NAMES[0]} em 20/11/2026.",
            actor="ana", expected_version=None,
        )  # fmt: skip
        record_work(
            session, first, WorkInput(date(2026, 12, 1), -22.85, -46.31, "LED", 60.0),
            actor="sistema:teste",
        )  # fmt: skip
    out = tmp_path / "site"
    build_site(registry, out)
    page = _text((out / "pedidos" / "PED-1.html").read_text(encoding="utf-8"))
    assert "Situação Executado" in page
    assert "01/12/2026 — Obra executada" in page
    assert "Parecer favorável; visita com [dado pessoal omitido] em 20/11/2026." in page
    assert "Rua Teste, Centro" in page
    strategic = _text((out / "pedidos" / "PED-5.html").read_text(encoding="utf-8"))
    assert "Art. 11 — Comissão (relator fictício)" in strategic
    data = (out / "dados" / "pedidos.js").read_text(encoding="utf-8")
    assert '"obras": {"features": [{"geometry": {"coordinates": [-46.31, -22.85]' in data
    index = _text((out / "index.html").read_text(encoding="utf-8"))
    assert "Executado R$" in index
    for file in out.rglob("*"):
        if file.is_file() and file.suffix in (".html", ".csv", ".js", ".xml"):
            text = file.read_text(encoding="utf-8")
            for secret in (*NAMES, "123.456.789-09", "12345678909", "1234.56", "1234,56"):
                assert secret not in text, (file.name, secret)
    root = ET.parse(out / "atom.xml").getroot()
    titles = {e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")}
    assert "Decisão — protocolo PED-5: Art. 11" in titles


def test_public_text_hides_coordinates_and_lines_stop_before_the_home() -> None:
    import shapely

    from geo_ip.portal.model import public_text, street_level_line

    text = "ponto (-22.902651, -46.343056) fora; R$ 91.323,46; 966,2 m; (-22,894926; -46,384813)"
    assert public_text(text) == (
        "ponto ([coordenada omitida], [coordenada omitida]) fora; R$ 91.323,46; 966,2 m; "
        "([coordenada omitida]; [coordenada omitida])"
    )
    # 300 m due north: the last 100 m are left out
    north = shapely.LineString([(-46.0, -22.0), (-46.0, -22.0 + 300 / 111_320)])
    assert street_level_line(north) == {
        "type": "LineString", "coordinates": ((-46.0, -22.0), (-46.0, -21.9982))
    }  # fmt: skip
    # 120 m: only its first half (60 m) is shown
    short = shapely.LineString([(-46.0, -22.0), (-46.0, -22.0 + 120 / 111_320)])
    shown = street_level_line(short)
    assert shown is not None and shown["coordinates"][-1] == (-46.0, -21.99946)
    assert street_level_line(None) is None
    assert street_level_line(shapely.Point(0, 0)) is None
