"""Catalogue of bad inputs across every entry point (issue 8), one row per kind.

Each :class:`Case` builds its input in ``tmp_path`` (small files), runs the command line
through ``CliRunner`` on ``geo_ip.cli.app.app`` in that folder (so the messages quote the
file names as given) and checks the exit code and the exact Portuguese message. The rule
for each row: exit code ≠ 0 only when nothing useful can be produced (then no output
file is left behind); otherwise the message names the row and field in the output file,
and that file holds every input row. ``requests check`` is the exception by design: it
is a check, and exits 1 when a row has an error, with the report written.

``docs/reliability.md`` lists the catalogue in words; keep both in step.
"""

from __future__ import annotations

import bz2
import re
import shutil
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import rasterio
from openpyxl import Workbook
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.outputs.tables import read_sheet
from tests.conftest import DEMO, ROOT

runner = CliRunner()

TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="geo_ip tests">
  <node id="1" lat="-22.9000" lon="-46.3900" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="2" lat="-22.9000" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="3" lat="-22.9009" lon="-46.3890" version="1" timestamp="2026-01-01T00:00:00Z"/>
  <node id="4" lat="-22.9009" lon="-46.3900" version="1" timestamp="2026-01-01T00:00:00Z">
    <tag k="highway" v="street_lamp"/>
  </node>
  <way id="10" version="1" timestamp="2026-01-01T00:00:00Z">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="name" v="Avenida Brasil"/>
  </way>
  <way id="11" version="1" timestamp="2026-01-01T00:00:00Z">
    <nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="name" v="Rua das Flores"/>
  </way>
</osm>
"""
NO_WAYS_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6"><node id="1" lat="-22.9" lon="-46.39" version="1"/></osm>
"""
REQUESTS_HEADER = (
    "protocolo,data_protocolo,tipo,latitude,longitude,residencias,cpf_solicitante,"
    "estrategico,justificativa_estrategica"
)
# Three requests inside the demo municipality (the first near PED-2026-0101 of the demo).
GOOD_ROWS = [
    "P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,,,",
    "P-2,2026-05-07,extensao_rede,-22.912493,-46.395050,3,,,",
    "P-3,2026-05-08,extensao_rede,-22.9,-46.38,1,,,",
]
DECISIONS_HEADER = "protocolo,criterio,pontos,motivacao,membro,data,procedimento"
EXECUTED_HEADER = "protocolo,data_execucao,latitude,longitude,tipo_lampada,potencia_w,poste"
UTM_GRID = "tipo,x,y\nposte,300000,7465000\n"
TODAY = "2026-11-20"
AFTER_WORKS = "2026-11-30"


@dataclass(frozen=True)
class Env:
    """What the builders may use: the folder (also the working directory) and fixtures."""

    tmp: Path
    territory: Path
    assessment: Path


Builder = Callable[[Env], list[str]]


@dataclass(frozen=True)
class Case:
    """One kind of bad input.

    ``report`` names the output holding the row-level message (``"file.csv"`` or
    ``"file.xlsx:Sheet"``); ``line`` is the row (``linha``) the message is about;
    ``rows`` how many rows that output must hold (the input's). Without ``report`` the
    message is in the terminal output.
    """

    kind: str
    command: str
    build: Builder
    code: int
    message: str
    report: str | None = None
    line: int | None = None
    rows: int | None = None
    check: Callable[[Path], None] | None = None


# --- small input builders --------------------------------------------------------------------


def _text(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = Path(name)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def _requests(name: str, *rows: str, header: str = REQUESTS_HEADER) -> str:
    _text(name, "\n".join([header, *rows]) + "\n")
    return name


def _tiny_osm() -> str:
    _text("pequeno.osm", TINY_OSM)
    return "pequeno.osm"


def _pbf(name: str) -> Path:
    """The tiny OSM as a PBF file (written by osmium)."""
    source = _tiny_osm()
    writer = osmium.SimpleWriter(name, overwrite=True)

    class Copy(osmium.SimpleHandler):
        def node(self, n: object) -> None:
            writer.add_node(n)

        def way(self, w: object) -> None:
            writer.add_way(w)

    Copy().apply_file(source)
    writer.close()
    return Path(name)


def _truncated_pbf(env: Env) -> list[str]:
    full = _pbf("completo.osm.pbf").read_bytes()
    _text("cortado.osm.pbf", full[: len(full) // 2])
    return _territory("cortado.osm.pbf")


def _territory(osm: str, *extra: str) -> list[str]:
    return ["territorio", "--osm", osm, "--rules", "demo", "--out", "territorio.gpkg", *extra]


def _grid_territory(grid: str, *extra: str) -> list[str]:
    return _territory(_tiny_osm(), "--grid", grid, *extra)


def _shapefile_without_crs(env: Env) -> list[str]:
    frame = gpd.GeoDataFrame({"tipo": ["bt"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 'crs' was not provided
        pyogrio.write_dataframe(frame, "rede_sem_prj.shp", driver="ESRI Shapefile")
    return _grid_territory("rede_sem_prj.shp")


def _bdgd_gpkg_without_low_voltage(env: Env) -> list[str]:
    poles = gpd.GeoDataFrame({"COD_ID": ["P1"]}, geometry=[Point(-46.39, -22.9)], crs="EPSG:4674")
    pyogrio.write_dataframe(poles, "bdgd_sem_bt.gpkg", layer="PONNOT")
    return _grid_territory("bdgd_sem_bt.gpkg")


def _bdgd_zip(name: str) -> str:
    """A BDGD ``.gdb.zip`` with poles and low voltage network only: no PIP, no UCBT_tab."""
    gdb = Path(name.removesuffix(".zip"))
    poles = gpd.GeoDataFrame(
        {"COD_ID": ["P1", "P2"]},
        geometry=[Point(-46.3900, -22.9000), Point(-46.3890, -22.9000)],
        crs="EPSG:4674",
    )
    pyogrio.write_dataframe(poles, gdb, layer="PONNOT", driver="OpenFileGDB")
    line = LineString([(-46.3900, -22.9000), (-46.3890, -22.9000)])
    network = gpd.GeoDataFrame(
        {"COD_ID": ["B1"], "PN_CON_1": ["P1"], "PN_CON_2": ["P2"]}, geometry=[line], crs="EPSG:4674"
    )
    pyogrio.write_dataframe(network, gdb, layer="SSDBT", driver="OpenFileGDB")
    with zipfile.ZipFile(name, "w") as archive:
        for part in sorted(gdb.rglob("*")):
            archive.write(part, part.as_posix())
    shutil.rmtree(gdb)
    return name


def _dem(name: str, west: float, north: float) -> str:
    with rasterio.open(
        name, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
        crs="EPSG:4326", transform=from_origin(west, north, 0.001, 0.001),
    ) as dst:  # fmt: skip
        dst.write(np.ones((10, 10), dtype="float32"), 1)
    return name


def _rules(name: str, old: str, new: str) -> str:
    text = (ROOT / "data" / "municipios" / "extrema.toml").read_text(encoding="utf-8")
    assert old in text
    _text(name, text.replace(old, new, 1))
    return name


def _without_key(name: str, key: str) -> str:
    text = (ROOT / "data" / "municipios" / "extrema.toml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{key} = ")]
    assert len(kept) == len(lines) - 1
    _text(name, "".join(kept))
    return name


def _merged_header_xlsx(env: Env) -> list[str]:
    book = Workbook()
    sheet = book.active
    sheet.append(["Prefeitura Municipal — pedidos de iluminação pública"])
    sheet.merge_cells("A1:F1")
    sheet.append(["Nº do protocolo", "Data do pedido", "Tipo de pedido", "Localização", None,
                  "Residências"])  # fmt: skip
    sheet.append([None, None, None, "Latitude", "Longitude", None])
    for cells in ("D2:E2", "A2:A3", "B2:B3", "C2:C3", "F2:F3"):
        sheet.merge_cells(cells)
    sheet.append(["P-1", datetime(2026, 5, 6), "Melhoria", -22.906017, -46.389418, 3])
    sheet.append(["P-2", "10/05/2026", "extensão de rede", "-22,912493", "-46,395050", "2"])
    book.save("pedidos.xlsx")
    return _check("pedidos.xlsx", env)


def _mixed_encoding_csv(env: Env) -> list[str]:
    header = "protocolo,data_protocolo,tipo,latitude,longitude,residencias,endereco\n"
    utf8 = "P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,Rua São João\n"
    latin1 = "P-2,2026-05-07,melhoria,-22.912493,-46.395050,3,Praça da Estação\n"
    _text("pedidos.csv", header.encode() + utf8.encode() + latin1.encode("latin-1"))
    return _check("pedidos.csv", env)


def _mixed_values(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["endereco"].tolist() == ["Rua São João", "Praça da Estação"]


def _bloated_xlsx(env: Env) -> list[str]:
    """A valid one-request workbook whose sheet XML is padded with 8 MiB of spaces."""
    book = Workbook()
    sheet = book.active
    sheet.append(REQUESTS_HEADER.split(","))
    sheet.append(GOOD_ROWS[0].split(","))
    book.save("normal.xlsx")
    with zipfile.ZipFile("normal.xlsx") as source, zipfile.ZipFile("pedidos.xlsx", "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 8 * 2**20)
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    Path("normal.xlsx").unlink()
    return _check("pedidos.xlsx", env)


def _check(requests: str, env: Env, *extra: str) -> list[str]:
    return ["pedidos", "conferir", requests, "--territory", str(env.territory), "--rules", "demo",
            "--out", "relatorio.csv", *extra]  # fmt: skip


def _requests_case(*rows: str, header: str = REQUESTS_HEADER) -> Builder:
    return lambda env: _check(_requests("pedidos.csv", *rows, header=header), env)


def _geocode(requests: str, env: Env, *extra: str) -> list[str]:
    return ["geocodificar", "--territory", str(env.territory), "--input", requests,
            "--rules", "demo", "--out", "geocodificados.csv", *extra]  # fmt: skip


def _assess(
    env: Env,
    *extra: str,
    territory: str = "",
    requests: str = "",
    out: str = "avaliacao",
    reference: str = TODAY,
) -> list[str]:
    requests = requests or _requests("pedidos.csv", *GOOD_ROWS)
    return ["avaliar", "--territory", territory or str(env.territory), "--requests", requests,
            "--rules", "demo", "--out", out, "--sem-mapas", "--sem-fichas",
            "--data-referencia", reference, *extra]  # fmt: skip


def _decisions(*rows: str) -> Builder:
    def build(env: Env) -> list[str]:
        _text("decisoes.csv", "\n".join([DECISIONS_HEADER, *rows]) + "\n")
        return _assess(env, "--decisions", "decisoes.csv")

    return build


def _place_decisions(*rows: str, header: str = DECISIONS_HEADER + ",latitude,longitude") -> Builder:
    """Decisions with the confirmed place of a request (``localizacao``, issue 18)."""

    def build(env: Env) -> list[str]:
        _text("decisoes.csv", "\n".join([header, *rows]) + "\n")
        return _assess(env, "--decisions", "decisoes.csv")

    return build


def _cadastre(*rows: str, extra: tuple[str, ...] = ()) -> Builder:
    def build(env: Env) -> list[str]:
        _text("obras.csv", "\n".join([EXECUTED_HEADER, *rows]) + "\n")
        return ["cadastro", "--assessment", str(env.assessment), "--executed", "obras.csv",
                "--rules", "demo", "--out", "cadastro", "--data-referencia", AFTER_WORKS,
                *extra]  # fmt: skip

    return build


def _without_layers(name: str) -> str:
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    pyogrio.write_dataframe(frame, name, layer="outra")
    return name


def _audit(bdgd: str, *extra: str, inventory: str = "", out: str = "auditoria") -> list[str]:
    if not inventory:
        inventory = "inventario.csv"
        _text(inventory, "id,latitude,longitude,potencia_w\nI1,-22.9,-46.39,100\n")
    return ["cadastro", "auditar", "--inventory", inventory, "--bdgd", bdgd, "--rules", "demo",
            "--out", out, *extra]  # fmt: skip


def _cip(rules: str, consumers: str) -> list[str]:
    return ["cip", "--rules-cip", rules, "--consumers", consumers, "--out", "cip"]


def _batch(*extra: str) -> list[str]:
    return ["lote", "--bdgd", str(DEMO / "rede_demo.gpkg"), *extra, "--saida", "lote"]


def _a_file() -> str:
    _text("um_arquivo", "não é uma pasta")
    return "um_arquivo"


LONG_PROTOCOL = "PED-2026-" + "7" * 291
"""300 characters: as a file name it aborted the run ("File name too long", issue 17)."""


def _long_and_colliding_protocols(env: Env) -> list[str]:
    requests = _requests(
        "pedidos.csv", GOOD_ROWS[0], GOOD_ROWS[1].replace("P-2", LONG_PROTOCOL),
        GOOD_ROWS[2].replace("P-3", "A"), GOOD_ROWS[2].replace("P-3", "A_linha6"),
        GOOD_ROWS[2].replace("P-3", "A"),
    )  # fmt: skip
    argv = _assess(env, requests=requests)
    return [a for a in argv if a not in ("--sem-mapas", "--sem-fichas")]


# --- extra checks ------------------------------------------------------------------------------


def _three_date_formats(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["data_protocolo"].tolist() == ["2026-05-06"] * 3 + [""]
    assert report["situacao"].tolist() == ["ok", "ok", "ok", "erro"]


def _latin1_values(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    row = report.iloc[0]
    assert (row["situacao"], row["tipo"]) == ("ok", "implantacao")
    assert (float(row["latitude"]), float(row["longitude"])) == (-22.906017, -46.389418)


def _merged_values(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["linha"].tolist() == ["4", "5"]  # the sheet rows, below the merged header
    assert report["tipo"].tolist() == ["melhoria", "extensao_rede"]
    assert report["situacao"].tolist() == ["ok", "ok"]


def _suggested_fix(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    row = report.iloc[0]
    assert (row["latitude_corrigida"], row["longitude_corrigida"]) == ("-22.906017", "-46.389418")


def _every_request_ranked_as_error(folder: Path) -> None:
    ranking = pd.read_csv(folder / "avaliacao" / "ranking.csv", dtype=str, keep_default_na=False)
    # P-1 is well formed but brings no proof of hardship (Art. 4 §2): pending, not ranked
    assert ranking.set_index("protocolo")["situacao"].to_dict() == {
        "P-1": "pendente_comprovacao", "P-2": "erro", "P-3": "erro", "P-4": "erro"}  # fmt: skip


def _no_ranking_rows(folder: Path) -> None:
    ranking = pd.read_csv(folder / "avaliacao" / "ranking.csv", dtype=str)
    assert len(ranking) == 0 and "pontuacao_total" in ranking.columns


def _every_consumer_row_counted(folder: Path) -> None:
    reading = pd.read_csv(folder / "cip" / "cip_leitura.csv")
    assert int(reading["linhas"].sum()) == 5
    assert reading.set_index("motivo", drop=False)["situacao"].to_dict() == {
        np.nan: "aproveitada", "consumo (kWh) negativo": "rejeitada",
        "classe desconhecida ('xpto')": "rejeitada", "mês inválido ou vazio": "rejeitada",
        "consumo (kWh) não numérico": "rejeitada",
    }  # fmt: skip


def _one_map_and_one_sheet_per_request(folder: Path) -> None:
    out = folder / "avaliacao"
    maps = sorted(p.name for p in (out / "mapas").glob("*.html"))
    sheets = sorted(p.name for p in (out / "fichas").glob("*.html"))
    assert len(maps) == 5 and maps == sheets, (maps, sheets)
    assert len(list((out / "fichas").glob("*.pdf"))) == 6  # and todas.pdf
    assert all(len(name) <= 94 and name[0].isalnum() for name in maps), maps
    title = re.compile(r"<title>Ficha técnica (.*?) — ")
    titles = {name: title.findall((out / "fichas" / name).read_text(encoding="utf-8"))
              for name in sheets}  # fmt: skip
    assert titles["A_linha6.html"] == ["A_linha6"] and titles["A.html"] == ["A"]
    assert sorted(t for (t,) in titles.values()) == sorted(
        ["P-1", LONG_PROTOCOL, "A", "A_linha6", "A"]
    )


def _huge_coordinates(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["situacao"].tolist() == ["erro"] * 3
    problems = report["problemas"].tolist()
    assert problems[0].startswith("campo 'latitude': não é uma coordenada válida ('999")
    assert "campo 'latitude': não é uma coordenada válida ('inf')" in problems[1]
    assert "campo 'longitude': não é uma coordenada válida ('nan')" in problems[1]


def _impossible_time(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["data_protocolo"].tolist() == ["", ""]
    assert "data inexistente ('2026-05-06T25:00') (formato aaaa-mm-dd)" in report["problemas"][0]


def _first_non_empty(folder: Path) -> None:
    report = pd.read_csv(folder / "relatorio.csv", dtype=str, keep_default_na=False)
    assert report["latitude"].tolist() == ["-22.906017", "-22.912493"]
    assert report["situacao"].tolist() == ["ok", "ok"]


def _pip_warning_only(folder: Path) -> None:
    assert (folder / "territorio.gpkg").is_file()


# --- the catalogue -----------------------------------------------------------------------------

OSM_INVALID = "não é um arquivo OSM válido ou está truncado"
CASES: list[Case] = [
    # geo-ip territorio ------------------------------------------------------------------------
    Case("PBF truncado", "territorio", _truncated_pbf, 3,
         f"arquivo 'cortado.osm.pbf': {OSM_INVALID} (detalhe: PBF error"),
    Case("OSM XML sem vias", "territorio",
         lambda env: _territory(str(_text("sem_vias.osm", NO_WAYS_OSM))), 3,
         "arquivo 'sem_vias.osm': nenhuma via para veículos encontrada (highway="),
    Case(".osm.bz2 que não é bzip2", "territorio",
         lambda env: _territory(str(_text("falso.osm.bz2", b"nao e bzip2"))), 3,
         "arquivo 'falso.osm.bz2': a extensão indica compressão bzip2, mas o conteúdo não é bzip2"),
    Case(".osm.bz2 truncado", "territorio",
         lambda env: _territory(str(_text("cortado.osm.bz2",
                                          bz2.compress(TINY_OSM.encode())[:100]))), 3,
         f"arquivo 'cortado.osm.bz2': {OSM_INVALID} (detalhe: bzip2 error"),
    Case("arquivo OSM vazio", "territorio", lambda env: _territory(str(_text("vazio.osm", b""))),
         3, "arquivo 'vazio.osm': arquivo OSM vazio (0 bytes)"),
    Case("rede em CRS desconhecido (Shapefile sem .prj)", "territorio", _shapefile_without_crs, 3,
         "arquivo 'rede_sem_prj.shp': sistema de coordenadas desconhecido: informe --rede-crs"),
    Case("rede CSV em UTM sem --rede-crs", "territorio",
         lambda env: _grid_territory(str(_text("rede_utm.csv", UTM_GRID))),
         3, "arquivo 'rede_utm.csv', linha 1, campo 'y': valor 7.465e+06 fora do intervalo de "
            "latitude (±90°); se as coordenadas forem projetadas (UTM), informe --rede-crs"),
    Case("--rede-crs inexistente", "territorio",
         lambda env: _grid_territory(str(_text("rede.csv", UTM_GRID)),
                                     "--grid-crs", "EPSG:99999"), 3,
         "arquivo 'rede.csv': sistema de coordenadas 'EPSG:99999' inválido"),
    Case("GeoPackage da BDGD sem a camada SSDBT", "territorio", _bdgd_gpkg_without_low_voltage, 3,
         "arquivo 'bdgd_sem_bt.gpkg': camada 'SSDBT' da BDGD ausente"),
    Case("BDGD .gdb.zip sem PIP (funciona, com aviso)", "territorio",
         lambda env: _grid_territory(_bdgd_zip("Dist_2024-12-31.gdb.zip")), 0,
         "Aviso: Tabela 'PIP' ausente na BDGD: pontos de iluminação pública não carregados.",
         check=_pip_warning_only),
    Case("MDE fora do território", "territorio",
         lambda env: _territory(_tiny_osm(), "--dem", _dem("longe.tif", -40.0, -10.0)), 3,
         "arquivo 'longe.tif': o modelo de elevação cobre só 0% do território (mínimo 50%)"),
    Case("MDE corrompido", "territorio",
         lambda env: _territory(_tiny_osm(), "--dem", str(_text("corrompido.tif", b"II*\x00xx"))),
         3, "arquivo 'corrompido.tif': não é um GeoTIFF legível ou está corrompido"),
    Case("regras sem uma chave", "territorio",
         lambda env: _territory(_tiny_osm(), "--rules", _without_key("regras.toml", "vao_postes")),
         2, "arquivo 'regras.toml', campo 'rede.vao_postes': chave obrigatória ausente"),
    Case("saída dentro de um arquivo", "territorio",
         lambda env: ["territorio", "--osm", _tiny_osm(), "--rules", "demo", "--out",
                      f"{_a_file()}/territorio.gpkg"], 3,
         "arquivo 'um_arquivo/territorio.gpkg': não foi possível gravar o arquivo"),
    # geo-ip pedidos conferir -------------------------------------------------------------------
    Case("planilha vazia (0 bytes)", "pedidos conferir",
         lambda env: _check(str(_text("pedidos.csv", b"")), env), 3,
         "arquivo 'pedidos.csv': arquivo vazio"),
    Case("só o cabeçalho", "pedidos conferir", _requests_case(), 0,
         "Nenhum pedido em pedidos.csv (só o cabeçalho).", report="relatorio.csv", rows=0),
    Case("CSV Latin-1 com ';' e vírgula decimal (funciona)", "pedidos conferir",
         lambda env: _check(str(_text(
             "pedidos.csv",
             "protocolo;data_protocolo;tipo;latitude;longitude;renda_familiar;observações\n"
             "P-1;06/05/2026;implantação;-22,906017;-46,389418;1.850,50;Família São João\n",
             encoding="latin-1")), env), 0,
         "Todos os 1 pedidos estão ok.", report="relatorio.csv", rows=1, check=_latin1_values),
    Case("CSV que mistura linhas UTF-8 e Latin-1 (funciona, com aviso)", "pedidos conferir",
         _mixed_encoding_csv, 0,
         "arquivo 'pedidos.csv': codificação mista: 1 linha(s) em Latin-1 (Windows-1252) num "
         "arquivo UTF-8 (linhas 3); cada linha foi lida na sua codificação",
         report="relatorio.csv", rows=2, check=_mixed_values),
    Case("XLSX inflado (megabytes de espaços comprimidos em kilobytes)", "pedidos conferir",
         _bloated_xlsx, 3,
         "arquivo 'pedidos.xlsx': planilha XLSX inflada: a parte "
         "'xl/worksheets/sheet1.xml' se expande"),
    Case("XLSX com título e cabeçalho mesclado (funciona)", "pedidos conferir",
         _merged_header_xlsx, 0, "Todos os 2 pedidos estão ok.", report="relatorio.csv", rows=2,
         check=_merged_values),
    Case("protocolo duplicado", "pedidos conferir",
         _requests_case(GOOD_ROWS[0], GOOD_ROWS[0].replace("2026-05-06", "2026-05-07")), 1,
         "campo 'protocolo': protocolo 'P-1' repetido (linhas 2, 3)",
         report="relatorio.csv", line=3, rows=2),
    Case("latitude e longitude trocadas", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-46.389418,-22.906017,2,,,"), 1,
         "campos 'latitude'/'longitude': latitude e longitude trocadas? o ponto (-46.389418, "
         "-22.906017) fica fora do município e, invertido, dentro",
         report="relatorio.csv", line=2, rows=1, check=_suggested_fix),
    Case("coordenadas em graus, minutos e segundos (convertidas, aviso)", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,\"22°54'21.7\"\"S\",\"46°23'21.9\"\"W\",2,,,"), 0,
         "aviso: campo 'latitude': coordenada em graus, minutos e segundos (22°54'21.7\"S) "
         "convertida para -22.906028", report="relatorio.csv", line=2, rows=1),
    Case("coordenadas fora do município", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-23.5,-46.6,2,,,"), 1,
         "campos 'latitude'/'longitude': ponto (-23.5, -46.6) fora do município",
         report="relatorio.csv", line=2, rows=1),
    Case("datas em três formatos e uma impossível", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,,,",
                        "P-2,06/05/2026,melhoria,-22.906017,-46.389418,2,,,",
                        "P-3,06.05.26,melhoria,-22.906017,-46.389418,2,,,",
                        "P-4,31/02/2026,melhoria,-22.906017,-46.389418,2,,,"), 1,
         "campo 'data_protocolo': data inexistente ('31/02/2026') (formato dd/mm/aaaa)",
         report="relatorio.csv", line=5, rows=4, check=_three_date_formats),
    Case("data ISO com hora impossível e 29/02 de ano não bissexto", "pedidos conferir",
         _requests_case("P-1,2026-05-06T25:00,melhoria,-22.906017,-46.389418,2,,,",
                        "P-2,2026-02-29,melhoria,-22.906017,-46.389418,2,,,"), 1,
         "campo 'data_protocolo': data inexistente ('2026-02-29') (formato aaaa-mm-dd)",
         report="relatorio.csv", line=3, rows=2, check=_impossible_time),
    Case("latitude em algarismos arábicos ('١٢')", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,١٢,-46.389418,2,,,"), 1,
         "campo 'latitude': não é uma coordenada válida ('١٢')", report="relatorio.csv", line=2,
         rows=1),
    Case("colunas repetidas (funciona, com aviso: o primeiro valor não vazio)", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,,-46.389418,2,,,,-22.906017",
                        "P-2,2026-05-06,melhoria,-22.912493,-46.395050,3,,,,-10",
                        header=REQUESTS_HEADER + ",Latitude"), 0,
         "arquivo 'pedidos.csv': colunas repetidas para 'latitude': 'latitude' (coluna 4), "
         "'Latitude' (coluna 10); usado, em cada linha, o primeiro valor não vazio",
         report="relatorio.csv", rows=2, check=_first_non_empty),
    Case("tipo desconhecido", "pedidos conferir",
         _requests_case("P-1,2026-05-06,poda de arvore,-22.906017,-46.389418,2,,,"), 1,
         "campo 'tipo': tipo desconhecido ('poda de arvore'); use extensao_rede, implantacao ou "
         "melhoria", report="relatorio.csv", line=2, rows=1),
    Case("residências negativas", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,-3,,,"), 1,
         "campo 'residencias': valor negativo (-3)", report="relatorio.csv", line=2, rows=1),
    Case("residências absurdas (20 dígitos)", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,99999999999999999999,,,"),
         1, "campo 'residencias': valor fora do intervalo plausível ('99999999999999999999'): "
            "informe um número inteiro de 0 a 50 residências/pedido (até 1.000.000 é aceito com "
            "aviso, para conferência)", report="relatorio.csv", line=2, rows=1),
    Case("coordenadas e renda enormes ou infinitas", "pedidos conferir",
         _requests_case(f"P-1,2026-05-06,melhoria,{'9' * 400},-46.389418,2,,,",
                        "P-2,2026-05-06,melhoria,inf,nan,2,,,",
                        f"P-3,2026-05-06,melhoria,-22.906017,-46.389418,2,,,,{'9' * 400}",
                        header=REQUESTS_HEADER + ",renda_familiar"), 1,
         "campo 'renda_familiar'", report="relatorio.csv", line=4, rows=3,
         check=_huge_coordinates),
    Case("CPF com dígitos verificadores errados", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,123.456.789-00,,"), 1,
         "campo 'cpf_solicitante': CPF inválido, dígitos verificadores não conferem "
         "(***.456.789-**)", report="relatorio.csv", line=2, rows=1),
    Case("estratégico sem justificativa (Art. 11)", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,,sim,"), 1,
         "campo 'justificativa_estrategica': obrigatória quando estrategico = sim (Art. 11)",
         report="relatorio.csv", line=2, rows=1),
    Case("linha com mais células que o cabeçalho", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria,-22.906017,-46.389418,2,,,,rua escura, perigosa"),
         1, "linha com 11 células e cabeçalho com 9 colunas (vírgula ou ponto e vírgula sem aspas "
            "no texto?); valores deslocados", report="relatorio.csv", line=2, rows=1),
    Case("coluna obrigatória ausente", "pedidos conferir",
         _requests_case("P-1,melhoria,-22.9,-46.39", header="protocolo,tipo,latitude,longitude"),
         3, "arquivo 'pedidos.csv', campo 'data_protocolo': coluna obrigatória 'data_protocolo' "
            "não encontrada; colunas encontradas: 'protocolo', 'tipo', 'latitude', 'longitude'"),
    Case("sem colunas de localização", "pedidos conferir",
         _requests_case("P-1,2026-05-06,melhoria", header="protocolo,data_protocolo,tipo"), 3,
         "arquivo 'pedidos.csv', campo 'latitude': faltam as colunas de localização: 'latitude' "
         "e 'longitude', ou 'endereco'"),
    Case("planilha .xls (Excel 97-2003)", "pedidos conferir",
         lambda env: _check(str(_text("pedidos.xls", b"\xd0\xcf\x11\xe0")), env), 3,
         "arquivo 'pedidos.xls': formato .xls (Excel 97-2003) não suportado: salve a planilha "
         "como .xlsx ou CSV"),
    Case("CSV em UTF-16", "pedidos conferir",
         lambda env: _check(str(_text("pedidos.csv", "protocolo,tipo\nP-1,melhoria\n",
                                      encoding="utf-16")), env), 3,
         "arquivo 'pedidos.csv': o arquivo não é um texto CSV (contém bytes nulos: UTF-16"),
    Case("XLSX corrompido", "pedidos conferir",
         lambda env: _check(str(_text("pedidos.xlsx", b"PK\x03\x04lixo")), env), 3,
         "arquivo 'pedidos.xlsx': planilha XLSX corrompida ou ilegível (BadZipFile"),
    Case("GeoJSON de linhas em vez de pontos", "pedidos conferir",
         lambda env: _check(_lines_geojson(), env), 3,
         "arquivo 'pedidos.geojson': os pedidos devem ser pontos; a feição 1 é LineString"),
    Case("GeoPackage de pedidos sem geometria", "pedidos conferir",
         lambda env: _check(_attributes_gpkg(), env), 3,
         "arquivo 'pedidos.gpkg': a camada 'pedidos' do arquivo não tem geometria"),
    Case("CSV que começa com '{' (lido como CSV)", "pedidos conferir",
         lambda env: _check(str(_text("pedidos.csv", '{"protocolo": "P-1"}\n')), env), 3,
         "arquivo 'pedidos.csv', campo 'protocolo': coluna obrigatória 'protocolo' não encontrada"),
    Case("regras: TOML inválido", "pedidos conferir",
         lambda env: _check(_requests("pedidos.csv", *GOOD_ROWS), env, "--rules",
                            str(_text("regras.toml", "versao = [\n"))), 2,
         "arquivo 'regras.toml': o arquivo de regras não é um TOML válido"),
    # geo-ip geocodificar --------------------------------------------------------------------------
    Case("território (GeoPackage) sem as camadas esperadas", "geocodificar",
         lambda env: ["geocodificar", "--territory", _without_layers("sem_camadas.gpkg"), "--input",
                      _requests("pedidos.csv", *GOOD_ROWS), "--rules", "demo"], 4,
         "arquivo 'sem_camadas.gpkg', campo 'nos': o território não tem as camadas 'limite' nem "
         "'nos' (camadas: outra)"),
    Case("logradouro ambíguo sem bairro", "geocodificar",
         lambda env: _geocode(_requests("pedidos.csv", "P-1,2026-05-06,melhoria,Rua São João,345,",
                                        "P-2,2026-05-06,melhoria,R. Getulio Vargas,475,Centro",
                                        header="protocolo,data_protocolo,tipo,endereco,numero,"
                                        "bairro"), env), 0,
         "não localizado: logradouro ambíguo: 'Rua São João' existe nos bairros Jardim das "
         "Palmeiras e Vila Nova; informe o bairro",
         report="geocodificados.csv", line=2, rows=2),
    Case("logradouro inexistente", "geocodificar",
         lambda env: _geocode(_requests("pedidos.csv",
                                        "P-1,2026-05-06,melhoria,Rua Inexistente dos Testes,10,",
                                        header="protocolo,data_protocolo,tipo,endereco,numero,"
                                        "bairro"), env), 0,
         "não localizado: logradouro 'Rua Inexistente dos Testes' não encontrado",
         report="geocodificados.csv", line=2, rows=1),
    Case("CNEFE que não é do IBGE", "geocodificar",
         lambda env: _geocode(_requests("pedidos.csv", "P-1,2026-05-06,melhoria,Rua Bahia,10,",
                                        header="protocolo,data_protocolo,tipo,endereco,numero,"
                                        "bairro"), env, "--cnefe",
                              str(_text("cnefe.csv", "a,b\n1,2\n"))), 3,
         "arquivo 'cnefe.csv': não parece um arquivo do CNEFE 2022 do IBGE (separado por ';'): "
         "faltam as colunas LATITUDE, LONGITUDE, NOM_SEGLOGR, NUM_ENDERECO"),
    # geo-ip avaliar ---------------------------------------------------------------------------
    Case("território que não é GeoPackage", "avaliar",
         lambda env: _assess(env, territory=str(_text("territorio.gpkg", b"lixo"))), 4,
         "arquivo 'territorio.gpkg': território ilegível"),
    Case("território sem a camada 'vias'", "avaliar",
         lambda env: _assess(env, territory=_without_layers("sem_camadas.gpkg")), 4,
         "arquivo 'sem_camadas.gpkg', campo 'vias': a camada 'vias' não existe no território "
         "(camadas: outra)"),
    Case("pedidos só com o cabeçalho", "avaliar",
         lambda env: _assess(env, requests=_requests("pedidos.csv")), 0,
         "Classificação (0 pedido(s); primeiros 20)", check=_no_ranking_rows),
    Case("pedidos com erro ficam na classificação como 'erro'", "avaliar",
         lambda env: _assess(env, requests=_requests(
             "pedidos.csv", GOOD_ROWS[0], "P-2,2026-05-06,poda,-22.906017,-46.389418,2,,,",
             "P-3,31/02/2026,melhoria,-22.906017,-46.389418,2,,,",
             "P-4,2026-05-06,melhoria,-23.5,-46.6,2,,,")), 0,
         "Pedido com erro, não classificado (ver problemas).", report="avaliacao/ranking.csv",
         rows=4, check=_every_request_ranked_as_error),
    Case("protocolo de 300 caracteres e nomes de arquivo que colidem", "avaliar",
         _long_and_colliding_protocols, 0, LONG_PROTOCOL, report="avaliacao/ranking.csv",
         line=3, rows=5, check=_one_map_and_one_sheet_per_request),
    Case("moradores absurdos (20 dígitos): o pedido é 'erro', a avaliação sai", "avaliar",
         lambda env: _assess(env, requests=_requests(
             "pedidos.csv", *GOOD_ROWS[:2], "P-3,2026-05-08,extensao_rede,-22.9,-46.38,1,,,,"
             "99999999999999999999", header=REQUESTS_HEADER + ",moradores")), 0,
         "campo 'moradores': valor fora do intervalo plausível ('99999999999999999999'): "
         "informe um número inteiro de 0 a 200 pessoas/pedido", report="avaliacao/ranking.csv",
         line=4, rows=3),
    Case("decisão de protocolo desconhecido", "avaliar",
         _decisions("P-9,seguranca,5,vistoria,Comissão,2026-11-12"), 0,
         "arquivo 'decisoes.csv', linha 2: campo 'protocolo': protocolo 'P-9' não consta da "
         "avaliação", report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão de critério desconhecido", "avaliar",
         _decisions("P-1,criterio_x,5,vistoria,Comissão,2026-11-12"), 0,
         "campo 'criterio': critério desconhecido ('criterio_x'); use beneficiarios, seguranca, "
         "trafego, custo_beneficio ou viabilidade",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão acima do máximo do critério", "avaliar",
         _decisions("P-1,trafego,20,vistoria,Comissão,2026-11-12"), 0,
         "campo 'pontos': 20 pontos acima do máximo de 15 do critério 'trafego' (Art. 9, III)",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão sem motivação", "avaliar", _decisions("P-1,seguranca,10,,Comissão,2026-11-12"),
         0, "campo 'motivacao': obrigatória, está vazia",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão art12 sem procedimento administrativo", "avaliar",
         _decisions("P-1,art12,,relatório técnico e interesse público,Secretário,2026-11-12,"), 0,
         "campo 'procedimento': obrigatório na decisão 'art12' (número do procedimento "
         "administrativo próprio, Art. 12 §2)",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão de hipossuficiência com pontos", "avaliar",
         _decisions("P-1,hipossuficiencia,10,declaração do CRAS,Comissão,2026-11-12,"), 0,
         "campo 'pontos': a decisão 'hipossuficiencia' não tem pontos (aceita a comprovação da "
         "hipossuficiência, Art. 4 §2, III); deixe o campo vazio",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisões art11 e art12 para o mesmo pedido", "avaliar",
         _decisions("P-1,art11,,parecer 1/2026,Comissão,2026-11-12,",
                    "P-1,art12,,relatório 2/2026,Secretário,2026-11-13,PA-7"), 0,
         "campo 'criterio': o protocolo 'P-1' tem decisão 'art11' e 'art12' (linhas 2, 3); um "
         "pedido é estratégico (Art. 11) ou de execução direta (Art. 12), não os dois: nenhuma "
         "foi aplicada",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=2),
    Case("decisão de localização sem latitude", "avaliar",
         _place_decisions("P-1,localizacao,,vistoria,Comissão,2026-11-12,,,-46.3894"), 0,
         "campo 'latitude': obrigatório na decisão 'localizacao' (o local confirmado pela "
         "Comissão, em graus decimais, como -22,85412)",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão de localização fora do município", "avaliar",
         _place_decisions("P-1,localizacao,,vistoria,Comissão,2026-11-12,,-23.5,-46.6",
                          header=DECISIONS_HEADER + ",lat,lon"), 0,
         "campos 'latitude'/'longitude': ponto (-23.5, -46.6) fora do município",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão de localização com pontos", "avaliar",
         _place_decisions("P-1,localizacao,10,vistoria,Comissão,2026-11-12,,-22.906,-46.3894"),
         0, "campo 'pontos': a decisão 'localizacao' não tem pontos (confirma o local do pedido, "
         "Art. 7, II); deixe o campo vazio",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("decisão de localização com coordenada que não é número", "avaliar",
         _place_decisions("P-1,localizacao,,vistoria,Comissão,2026-11-12,,-22.906,oeste"), 0,
         "campo 'longitude': não é um número ('oeste')",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("coordenadas numa decisão que não é de localização", "avaliar",
         _place_decisions("P-1,seguranca,10,vistoria,Comissão,2026-11-12,,-22.906,-46.3894"), 0,
         "campo 'latitude': só a decisão 'localizacao' tem coordenadas (a decisão 'seguranca' "
         "não muda o local do pedido); deixe o campo vazio",
         report="avaliacao/ranking.xlsx:Não aproveitado", line=2, rows=1),
    Case("orçamento negativo", "avaliar", lambda env: _assess(env, "--budget", "-10"), 2,
         "campo 'orcamento': orçamento negativo (R$ -10,00): informe um valor ≥ 0"),
    Case("regras com soma dos pesos ≠ 100", "avaliar",
         lambda env: _assess(env, "--rules", _rules("regras.toml", "peso = { valor = 40,",
                                                    "peso = { valor = 45,")), 2,
         "arquivo 'regras.toml', campo 'criterios.beneficiarios.peso': a soma dos pesos é 105, "
         "mas a Lei 5.442/2026 fixa o total em 100 pontos (Art. 8)"),
    Case("regras com um número nan", "avaliar",
         lambda env: _assess(env, "--rules", _rules("regras.toml", "vao_postes = { valor = 35,",
                                                    "vao_postes = { valor = nan,")), 2,
         "arquivo 'regras.toml', campo 'rede.vao_postes.valor': deve ser um número finito (nan e "
         "inf não são aceitos)"),
    Case("regras com distância negativa", "avaliar",
         lambda env: _assess(env, "--rules", _rules("regras.toml",
                                                    "distancia_maxima_via = { valor = 150,",
                                                    "distancia_maxima_via = { valor = -150,")), 2,
         "arquivo 'regras.toml', campo 'rede.distancia_maxima_via': distancia_maxima_via deve ser "
         "maior que zero (valor -150)"),
    Case("regras com faixa de participação de 150 %", "avaliar",
         lambda env: _assess(env, "--rules", _rules(
             "regras.toml", "pontuacao_minima = 80, percentual = 100",
             "pontuacao_minima = 80, percentual = 150")), 2,
         "arquivo 'regras.toml', campo 'participacao.faixas[0].percentual': faixa a partir de 80 "
         "pontos: 150 % fora do intervalo de 50 % a 100 % do Art. 4"),
    Case("data de referência em outro formato", "avaliar",
         lambda env: _assess(env, reference="20/11/2026"), 1,
         "campo '--data-referencia': data inválida ('20/11/2026'): use AAAA-MM-DD"),
    Case("chave LGPD curta demais", "avaliar",
         lambda env: _assess(env, "--chave", str(_text("chave.txt", "curta\n"))), 3,
         "arquivo 'chave.txt': arquivo da chave: chave LGPD vazia ou curta demais (mínimo 16 "
         "caracteres)"),
    Case("saída que é um arquivo", "avaliar",
         lambda env: _assess(env, out=_a_file()), 3,
         "arquivo 'um_arquivo', campo '--saida': a saída precisa ser uma pasta, e este caminho "
         "é um arquivo existente"),
    # geo-ip cadastro -------------------------------------------------------------------------
    Case("obra de protocolo que não consta da avaliação", "cadastro",
         _cadastre("P-1,2026-11-23,,,,,", "P-9,2026-11-23,,,,,"), 0,
         "arquivo 'obras.csv', linha 3: campo 'protocolo': o protocolo 'P-9' não consta da "
         "avaliação", report="cadastro/conferencia_obras_executadas.csv", line=3, rows=2),
    Case("data de execução impossível", "cadastro", _cadastre("P-1,31/02/2026,,,,,"), 0,
         "campo 'data_execucao': data inexistente ('31/02/2026') (use dd/mm/aaaa)",
         report="cadastro/conferencia_obras_executadas.csv", line=2, rows=1),
    Case("data de execução no futuro", "cadastro", _cadastre("P-1,2030-01-01,,,,,"), 0,
         "campo 'data_execucao': data no futuro (01/01/2030), depois da data de referência "
         "30/11/2026", report="cadastro/conferencia_obras_executadas.csv", line=2, rows=1),
    Case("potência negativa no as-built", "cadastro",
         _cadastre("P-1,2026-11-24,-22.9061,-46.3895,LED,-100,"), 0,
         "campo 'potencia_w': a potência deve ser maior que zero (-100 W)",
         report="cadastro/conferencia_obras_executadas.csv", line=2, rows=1),
    Case("ponto removido que não existe", "cadastro",
         lambda env: _cadastre("P-1,2026-11-23,,,,,", extra=(
             "--removed", str(_text("removidos.csv", "id_ponto,potencia_w\nNAO-EXISTE,100\n"))))(
             env), 0,
         "campo 'id_ponto': ponto 'NAO-EXISTE' não encontrado na camada 'pontos_ip' da "
         "avaliação", report="cadastro/conferencia_pontos_removidos.csv", line=2, rows=1),
    Case("pasta da avaliação inexistente", "cadastro",
         lambda env: ["cadastro", "--assessment", "nao_existe", "--executed",
                      str(_text("obras.csv", f"{EXECUTED_HEADER}\nP-1,2026-11-23,,,,,\n")),
                      "--rules", "demo", "--out", "cadastro"], 3,
         "arquivo 'nao_existe': pasta da avaliação não encontrada (rode geo-ip avaliar)"),
    Case("CNPJ com dígitos errados", "cadastro",
         _cadastre("P-1,2026-11-23,,,,,", extra=("--cnpj", "11.111.111/1111-11")), 1,
         "campo '--cnpj': CNPJ inválido ('11.111.111/1111-11'): os dígitos verificadores não "
         "conferem"),
    Case("BDGD .gdb.zip sem PIP", "cadastro auditar",
         lambda env: _audit(_bdgd_zip("Dist_2024-12-31.gdb.zip")), 3,
         "arquivo 'Dist_2024-12-31.gdb.zip': camada 'PIP' da BDGD ausente"),
    Case("--bdgd que não é uma BDGD", "cadastro auditar",
         lambda env: _audit(_tiny_osm()), 3,
         "arquivo 'pequeno.osm': não é uma BDGD (.gdb, .gdb.zip ou GeoPackage com PIP e PONNOT)"),
    Case("saída que é um arquivo", "cadastro auditar",
         lambda env: _audit(str(DEMO / "rede_demo.gpkg"), inventory=str(env.territory),
                            out=_a_file()), 3,
         "arquivo 'um_arquivo': não foi possível criar a pasta de saída"),
    Case("tarifa negativa", "cadastro auditar",
         lambda env: _audit(str(DEMO / "rede_demo.gpkg"), "--tarifa", "-1"), 1,
         "campo '--tarifa': tarifa inválida (-1.0): informe R$/kWh > 0"),
    # geo-ip cip ------------------------------------------------------------------------------
    Case("regras da CIP sem a alíquota", "cip",
         lambda env: _cip(str(_text("cip_regras.toml", 'herda = "colorado"\n')),
                          str(DEMO / "consumidores.csv")), 2,
         "arquivo 'cip_regras.toml', campo 'aliquota': falta a alíquota da CIP (chave "
         "'aliquota')"),
    Case("BDGD .gdb.zip sem UCBT_tab", "cip",
         lambda env: _cip("municipio_demo", _bdgd_zip("Dist_2024-12-31.gdb.zip")), 3,
         "arquivo 'Dist_2024-12-31.gdb.zip': a BDGD não tem a tabela UCBT_tab (unidades "
         "consumidoras de baixa tensão)"),
    Case("unidades consumidoras com linhas ruins (todas contadas)", "cip",
         lambda env: _cip("municipio_demo", str(_text(
             "uc.csv", "unidade,classe,mes,kwh\nU1,residencial,2026-01,100\n"
             "U2,residencial,2026-01,-5\nU3,xpto,2026-01,100\nU4,comercial,13/2026,100\n"
             "U5,comercial,2026-02,abc\n"))), 0,
         "Linhas do arquivo: aproveitada: 1, rejeitada: 4 (motivos em cip_leitura.csv)",
         check=_every_consumer_row_counted),
    Case("saída que é um arquivo", "cip",
         lambda env: [*_cip("municipio_demo", str(DEMO / "consumidores.csv"))[:-1], _a_file()], 3,
         "arquivo 'um_arquivo': não foi possível criar a pasta de saída"),
    # geo-ip lote (all refused before a Dask cluster is started) -------------------------------
    Case("sem extrato OSM nem BDGD", "lote", lambda env: ["lote", "--saida", "lote"], 1,
         "informe o extrato OSM (--osm) ou ao menos uma BDGD (--bdgd)"),
    Case("código IBGE com menos de 7 dígitos", "lote",
         lambda env: _batch("--municipios", "4320909,43209"), 1,
         "campo '--municipios': código IBGE inválido: '43209' (use 7 dígitos, separados por "
         "vírgula, ou 'todos')"),
    Case("BDGD inexistente", "lote", lambda env: ["lote", "--bdgd", "nao_existe.gdb.zip",
                                                  "--saida", "lote"], 3,
         "arquivo 'nao_existe.gdb.zip', campo '--bdgd': BDGD não encontrada"),
    Case("extrato OSM inexistente", "lote", lambda env: _batch("--osm", "estado.osm.pbf"), 3,
         "arquivo 'estado.osm.pbf': arquivo OSM não encontrado"),
    Case("saída que é um arquivo", "lote",
         lambda env: [*_batch()[:-1], _a_file()], 3,
         "arquivo 'um_arquivo', campo '--saida': a saída precisa ser uma pasta, e este caminho é "
         "um arquivo existente"),
    Case("limite de memória que não é um tamanho", "lote",
         lambda env: _batch("--memoria", "muita"), 1,
         "campo '--memoria': limite de memória inválido: 'muita' (ex.: 4GB)"),
    Case("endereço do painel com marcação", "lote",
         lambda env: _batch("--painel", "<b>:80"), 1,
         "campo '--painel': endereço do painel inválido: '<b>:80' (ex.: :8787 ou nenhum)"),
]  # fmt: skip


def _lines_geojson() -> str:
    frame = gpd.GeoDataFrame(
        {"protocolo": ["P-1"], "data_protocolo": ["2026-05-06"], "tipo": ["melhoria"]},
        geometry=[LineString([(-46.39, -22.9), (-46.38, -22.9)])],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, "pedidos.geojson", driver="GeoJSON")
    return "pedidos.geojson"


def _attributes_gpkg() -> str:
    table = pd.DataFrame(
        {"protocolo": ["P-1"], "data_protocolo": ["2026-05-06"], "tipo": ["melhoria"]}
    )
    pyogrio.write_dataframe(table, "pedidos.gpkg", layer="pedidos", driver="GPKG")
    return "pedidos.gpkg"


# --- running ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assessment(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An assessment of the three good requests, for the cadastre rows."""
    folder = tmp_path_factory.mktemp("catalogo")
    requests = folder / "pedidos.csv"
    requests.write_text("\n".join([REQUESTS_HEADER, *GOOD_ROWS]) + "\n", encoding="utf-8")
    out = folder / "avaliacao"
    result = runner.invoke(
        app,
        ["-q", "avaliar", "--territory", str(demo_territory), "--requests", str(requests),
         "--rules", "demo", "--out", str(out), "--sem-mapas", "--sem-fichas",
         "--data-referencia", TODAY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _flat(text: str) -> str:
    """Collapse the terminal's line wrapping."""
    return " ".join(text.split())


def _read(folder: Path, report: str) -> pd.DataFrame:
    name, _, sheet = report.partition(":")
    path = folder / name
    if sheet:
        return read_sheet(path, sheet, dtype=str).fillna("")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _outputs(folder: Path, before: set[Path]) -> list[str]:
    """Files written by the command (relative paths)."""
    found = (p for p in folder.rglob("*") if p not in before and p.is_file())
    return sorted(str(p.relative_to(folder)) for p in found)


def test_the_catalogue_is_large_and_covers_every_entry_point() -> None:
    assert len(CASES) >= 30
    kinds = [case.kind + case.command for case in CASES]
    assert len(set(kinds)) == len(kinds)
    assert {case.command for case in CASES} == {
        "territorio", "pedidos conferir", "geocodificar", "avaliar", "cadastro", "cadastro auditar",
        "cip", "lote",
    }  # fmt: skip


def test_the_developer_doc_lists_every_kind() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"| `{case.command}` | {case.kind} |" in doc, case.kind


@pytest.mark.parametrize("case", CASES, ids=[f"{c.command}: {c.kind}" for c in CASES])
def test_bad_input(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_territory: Path,
    assessment: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = case.build(Env(tmp_path, demo_territory, assessment))
    inputs = set(tmp_path.rglob("*"))
    result = runner.invoke(app, argv)
    output = _flat(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in result.output
    assert result.exit_code == case.code, output
    written = _outputs(tmp_path, inputs)
    assert not [w for w in written if ".tmp" in w or ".geo_ip-" in w], written
    if case.code != 0 and case.report is None:
        assert output.count("Erro:") == 1, output
        # nothing useful could be produced: nothing is left behind (the assessment's
        # LGPD key is created first, to be kept with the program's records)
        assert [w for w in written if not w.endswith(".chave_lgpd")] == [], written
    if case.report is None:
        assert _flat(case.message) in output
        return _extra(case, tmp_path)
    table = _read(tmp_path, case.report)
    assert len(table) == case.rows, f"{case.report}: {len(table)} linha(s), não {case.rows}"
    if case.line is None:
        assert case.message in table.to_csv(index=False) or _flat(case.message) in output
    else:
        rows = table[table["linha"].astype(str) == str(case.line)]
        assert len(rows) == 1, table.to_string()
        cells = " | ".join(rows.iloc[0].astype(str))
        assert case.message in cells, cells
    _extra(case, tmp_path)


def _extra(case: Case, folder: Path) -> None:
    if case.check is not None:
        case.check(folder)
