"""The consolidated outputs of a batch run (``geo-ip lote``): GPKG, XLSX, CSV and the map.

Three hand-made results (one finished, one failed, one whose boundary the extract lacks)
and two square boundaries; every value checked by hand.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely

from geo_ip.batch.consolidate import consolidated_table, write_consolidated
from geo_ip.batch.model import COLUMNS, MunicipalityResult
from geo_ip.batch.overview_map import (
    MAP_COLUMNS,
    colour_classes,
    display_value,
    sequential_colours,
)
from geo_ip.outputs.web.assets import CONTENT_SECURITY_POLICY, remote_links

HOSTILE = '=HYPERLINK("http://x.example/?a=1","<img src=x onerror=alert(1)>")'
ERROR = "sem vias <script>alert(1)</script>"
PROVENANCE = {
    "ferramenta": "geo_ip",
    "versao": "9.8.7",
    "executado_em": "2026-12-07T18:30:00+00:00",
    "entradas": [{"tipo": "osm", "arquivo": "rs.osm.pbf"}],
}


def _results() -> list[MunicipalityResult]:
    return [
        MunicipalityResult(
            codigo_ibge=4320909,
            nome=HOSTILE,
            uf="RS",
            situacao="concluido",
            pasta="municipios/4320909",
            hash_entradas="abc123",
            area_km2=1234.56,
            vias_km=10.25,
            rede_km=8.0,
            cobertura_rede_pct=12.5,
            pontos_ip_bdgd=1234,
            pontos_ip_inventario=1200,
            pontos_ip_diferenca=34,
            cip_rs_ano=1234.56,
            unidades_consumidoras=5000,
            pedidos=None,
            custo_rs=98765.4,
            segundos=3.25,
            avisos=["sem pedidos", "inventário da BDGD"],
        ),
        MunicipalityResult(
            codigo_ibge=4309803, nome="Falhópolis", uf="RS", situacao="falhou", erro=ERROR
        ),
        MunicipalityResult(
            codigo_ibge=4300001,
            nome="Sem Limite",
            uf="RS",
            situacao="reaproveitado",
            area_km2=50.0,
            pedidos=3,
            pedidos_financiados=2,
        ),
    ]


def _boundaries() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"codigo_ibge": [4309803, 4320909], "nome": ["b", "a"]},
        geometry=[shapely.box(-51.9, -30.0, -51.8, -29.9), shapely.box(-52.0, -30.0, -51.9, -29.9)],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("lote")
    return write_consolidated(_results(), _boundaries(), out, PROVENANCE)


def test_files_written(written: list[Path]) -> None:
    assert [p.name for p in written] == [
        "lote.gpkg", "lote.xlsx", "lote.csv", "lote_planilha.csv", "mapa_lote.html",
    ]  # fmt: skip
    assert all(p.is_file() for p in written)
    folder = written[0].parent
    assert (folder / "assets" / "geo_ip" / "mapa.js").is_file()
    assert not [p.name for p in folder.iterdir() if ".geo_ip-" in p.name]  # no temporary left


def test_table_types_and_order() -> None:
    table = consolidated_table(_results())
    assert list(table.columns) == list(COLUMNS)
    assert table["codigo_ibge"].tolist() == [4320909, 4309803, 4300001]
    assert str(table["pedidos"].dtype) == "Int64"
    assert table["pedidos"].isna().tolist() == [True, True, False]
    assert table["avisos"].tolist() == ["sem pedidos; inventário da BDGD", "", ""]


def test_geopackage_rows_fields_values(written: list[Path]) -> None:
    gpkg = written[0]
    frame = pyogrio.read_dataframe(gpkg, layer="municipios")
    expected = list(COLUMNS)
    expected.insert(expected.index("situacao") + 1, "situacao_rotulo")
    assert list(frame.columns) == [*expected, "geometry"]
    assert frame["codigo_ibge"].tolist() == [4320909, 4309803, 4300001]  # order of the results
    assert frame["nome"].tolist() == [HOSTILE, "Falhópolis", "Sem Limite"]
    assert frame["situacao"].tolist() == ["concluido", "falhou", "reaproveitado"]
    assert frame["situacao_rotulo"].tolist() == [
        "Concluído", "Falhou", "Reaproveitado (entradas sem mudança)",
    ]  # fmt: skip
    assert frame["erro"].tolist() == ["", ERROR, ""]
    assert frame.loc[0, "area_km2"] == 1234.56 and frame.loc[2, "area_km2"] == 50.0
    assert frame.loc[0, "pontos_ip_bdgd"] == 1234
    assert frame.loc[2, "pedidos_financiados"] == 2
    assert frame.loc[0, "avisos"] == "sem pedidos; inventário da BDGD"
    assert frame.crs.to_epsg() == 4326
    geoms = frame.geometry.tolist()
    assert geoms[0].equals(shapely.box(-52.0, -30.0, -51.9, -29.9))  # joined by code
    assert geoms[1].equals(shapely.box(-51.9, -30.0, -51.8, -29.9))
    assert geoms[2] is None  # no boundary: a row without geometry
    with sqlite3.connect(gpkg) as con:
        types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(municipios)")}
        assert types["geom"] == "MULTIPOLYGON"
        assert types["codigo_ibge"] == "INTEGER" and types["pedidos"] == "INTEGER"
        assert types["cip_rs_ano"] == "REAL" and types["nome"] == "TEXT"
        pedidos = [r[0] for r in con.execute("SELECT pedidos FROM municipios ORDER BY fid")]
        assert pedidos == [None, None, 3]
        meta = dict(con.execute("SELECT chave, valor FROM metadados"))
        assert json.loads(meta["versao"]) == "9.8.7"
        assert json.loads(meta["entradas"]) == [{"tipo": "osm", "arquivo": "rs.osm.pbf"}]
        qml = con.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'municipios'"
        ).fetchone()[0]
    assert '<alias field="codigo_ibge" index="1" name="Código IBGE" />' in qml
    assert 'name="Diferença de pontos (BDGD − inventário)"' in qml
    assert '<alias field="situacao_rotulo" index="5" name="Situação (por extenso)" />' in qml
    assert 'type="categorizedSymbol" attr="situacao"' in qml


def test_workbook_headers_values_and_formats(written: list[Path]) -> None:
    book = openpyxl.load_workbook(written[1])
    assert book.sheetnames == ["Municípios", "Falhas", "Proveniência"]
    sheet = book["Municípios"]
    headers = [c.value for c in sheet[1]]
    assert headers == list(COLUMNS.values())
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == "A1:V4"
    row = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    name = row["Município"]
    assert name.value == HOSTILE and name.data_type == "s"  # text, never a formula
    assert row["Situação"].value == "Concluído"
    assert row["Código IBGE"].value == 4320909 and row["Código IBGE"].number_format == "0"
    checks = {
        "CIP estimada (R$/ano)": (1234.56, '"R$" #,##0.00'),
        "Custo das obras financiadas (R$)": (98765.4, '"R$" #,##0.00'),
        "Área (km²)": (1234.56, "#,##0.0"),
        "Vias (km)": (10.25, "#,##0.0"),
        "Vias atendidas pela rede (%)": (12.5, '#,##0.0" %"'),
        "Pontos de IP na BDGD": (1234, "#,##0"),
        "Unidades consumidoras": (5000, "#,##0"),
    }
    for header, (value, fmt) in checks.items():
        cell = row[header]
        assert (cell.value, cell.data_type, cell.number_format) == (value, "n", fmt), header
    assert row["Pedidos"].value is None  # not run: blank, not zero
    assert row["Avisos"].value == "sem pedidos; inventário da BDGD"
    failed = {h: c.value for h, c in zip(headers, sheet[3], strict=True)}
    assert failed["Situação"] == "Falhou" and failed["Erro"] == ERROR
    assert sheet["D4"].value == "Reaproveitado (entradas sem mudança)"
    failures = book["Falhas"]
    assert [[c.value for c in r] for r in failures.iter_rows()] == [
        ["Código IBGE", "Município", "Erro"],
        [4309803, "Falhópolis", ERROR],
    ]
    provenance = {r[0].value: r[1].value for r in book["Proveniência"].iter_rows(min_row=2)}
    assert json.loads(provenance["executado_em"]) == "2026-12-07T18:30:00+00:00"


def test_no_failures_sheet_when_none_failed(tmp_path: Path) -> None:
    results = [r for r in _results() if r.situacao != "falhou"]
    paths = write_consolidated(results, _boundaries(), tmp_path, PROVENANCE)
    assert openpyxl.load_workbook(paths[1]).sheetnames == ["Municípios", "Proveniência"]


def test_csv_for_scripts_and_for_people(written: list[Path]) -> None:
    machine = written[2].read_bytes()
    assert not machine.startswith(b"\xef\xbb\xbf")
    lines = machine.decode("utf-8").splitlines()
    assert lines[0] == ",".join([*COLUMNS, "proveniencia"])
    assert lines[1].startswith("4320909,\"'=HYPERLINK(")  # quoted: never a formula
    assert ",concluido,,municipios/4320909,abc123,1234.56,10.25,8.0,12.5,1234,1200,34," in lines[1]
    assert lines[1].endswith(",geo_ip 9.8.7; lote de 07/12/2026; © OpenStreetMap contributors")
    people = written[3].read_bytes()
    assert people.startswith(b"\xef\xbb\xbf")
    rows = people.decode("utf-8-sig").splitlines()
    assert rows[0].split(";")[:4] == ["Código IBGE", "Município", "UF", "Situação"]
    assert rows[0].endswith(";Avisos;Proveniência")
    assert ";Concluído;;municipios/4320909;abc123;1234,56;10,25;8,0;12,5;1234;1200;34;" in rows[1]
    assert '"sem pedidos; inventário da BDGD"' in rows[1]  # a cell with ";" is quoted
    assert rows[2].startswith("4309803;Falhópolis;RS;Falhou;sem vias <script>")
    assert rows[3].startswith("4300001;Sem Limite;RS;Reaproveitado (entradas sem mudança);")
    assert ";50,0;" in rows[3] and ";3;2;" in rows[3]


def test_display_values_are_brazilian() -> None:
    assert display_value("cip_rs_ano", 1234.56) == "R$ 1.234,56"
    assert display_value("cobertura_rede_pct", 12.5) == "12,5 %"
    assert display_value("vias_km", 3) == "3,0 km"
    assert display_value("area_km2", 1234.56) == "1.234,6 km²"
    assert display_value("pontos_ip_bdgd", 12345) == "12.345"
    assert display_value("pedidos", None) == ""
    assert display_value("situacao", "falhou") == "Falhou"


def test_colour_classes() -> None:
    scale = sequential_colours()
    assert len(scale) == 4
    classes = colour_classes("pedidos", [1, 2, 3, 4, 5])
    assert [(c["minimo"], c["maximo"]) for c in classes] == [(1, 2), (2, 3), (3, 4), (4, 5)]
    assert [c["cor"] for c in classes] == list(scale)
    assert [c["rotulo"] for c in classes] == ["1 a 2", "2 a 3", "3 a 4", "4 a 5"]
    one = colour_classes("cip_rs_ano", [1234.56])
    assert [(c["minimo"], c["maximo"], c["rotulo"]) for c in one] == [
        (1234.56, 1234.56, "R$ 1.234,56")
    ]
    assert colour_classes("pedidos", []) == []


def test_map_page_is_escaped_and_offline(written: list[Path]) -> None:
    page = written[4].read_text(encoding="utf-8")
    assert remote_links(page) == []
    assert CONTENT_SECURITY_POLICY in page
    assert "Municípios do lote" in page
    assert "<img src=x" not in page and "<script>alert" not in page  # the data is escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" not in page  # in JSON, as \\u003c
    assert "\\u003cimg src=x" in page


# --- in a browser ---------------------------------------------------------------------------

_FILLS = """() => Array.from(document.querySelectorAll(
  '.leaflet-overlay-pane path.leaflet-interactive')).map((p) => p.getAttribute('fill'))"""


def _visible_legend(page: Any) -> list[str]:
    return [
        t.strip()
        for t in page.locator(
            ".gi-legenda details[data-camada]:not([hidden]) > summary"
        ).all_inner_texts()
    ]


def test_map_in_browser_switches_column_and_legend(written: list[Path], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(written[4].as_uri(), wait_until="load")
        page.wait_for_selector(".leaflet-control-layers", state="attached")
        page.wait_for_timeout(300)
        assert page.locator(".gi-titulo").inner_text() == "Municípios do lote"
        bases = [
            t.strip() for t in page.locator(".leaflet-control-layers-base label").all_inner_texts()
        ]
        assert bases == [COLUMNS[c] for c in MAP_COLUMNS]
        assert _visible_legend(page) == ["Área (km²)"]
        fills = page.evaluate(_FILLS)
        assert len(fills) == 2  # the two municipalities with a boundary
        scale = sequential_colours()
        grey = "#7f8c8d"  # maps/cores.toml "neutra": the failed municipality
        light = "#eaf2f8"  # pagina.suave: no value
        assert sorted(fills) == sorted([scale[1], grey])
        footer = page.locator(".gi-rodape").inner_text()
        assert "geo_ip 9.8.7" in footer and "07/12/2026" in footer
        assert "1 sem limite no mapa" in footer
        assert "OpenStreetMap contributors" in footer
        # choose "Pedidos": the finished municipality has no requests -> light "Sem dado"
        page.locator(".leaflet-control-layers-base label", has_text="Pedidos").first.click()
        page.wait_for_timeout(200)
        assert _visible_legend(page) == ["Pedidos"]
        assert sorted(page.evaluate(_FILLS)) == sorted([light, grey])
        # and back to the CIP: coloured again
        page.locator(".leaflet-control-layers-base label", has_text="CIP estimada").click()
        assert _visible_legend(page) == ["CIP estimada (R$/ano)"]
        assert sorted(page.evaluate(_FILLS)) == sorted([scale[1], grey])
        legend = page.locator(".gi-legenda details[data-camada]:not([hidden])").inner_text()
        assert "R$ 1.234,56" in legend and "Falhou" in legend
        # hover labels: the failed one says why, the other its value
        box = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
        texts = []
        for i in range(2):
            box.nth(i).hover(force=True)
            page.wait_for_timeout(150)
            texts.append(page.locator(".leaflet-tooltip").last.inner_text())
        assert any(t.endswith(f"Falhou: {ERROR}") for t in texts), texts
        assert any(t == f"{HOSTILE}\nCIP estimada (R$/ano): R$ 1.234,56" for t in texts), texts
        box.nth(next(i for i, t in enumerate(texts) if HOSTILE in t)).click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        text = popup.inner_text()
        assert HOSTILE in text and "12,5 %" in text and "R$ 98.765,40" in text
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert errors == [] and outside == []
    finally:
        context.close()
