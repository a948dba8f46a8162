"""Personal data (LGPD) end to end: the demo, and made-up applicants with accents.

Two runs, on the demo territory:

- **demo**: the demo as ``geo-ip demo`` assesses it (the session's ``demo_outputs``: every
  optional input, maps and sheets), then ``requests check``, ``geocode`` and ``cadastre``
  through the command line; the 41 demo requests carry CPF, names and income;
- **inventados**: a few demo requests plus four made-up applicants with accented names,
  whose CPF, names and income also appear inside the free text (observations, strategic
  justification, previous-benefit justification, a decision's motivation, an occurrence's
  description) and in a column geo_ip does not know (``telefone``), through every command
  of the command line: ``requests check``, ``geocode``, ``assess`` (maps, sheets, CIP),
  ``cadastre``, ``cadastre audit`` and ``cip``.

Then every file written is read whole — CSV, XLSX (every sheet),
GeoPackage (every table, ``layer_styles`` and ``metadados`` included), HTML, JSON, PDF
text, DOCX text, the ``.qgs`` inside the ``.qgz`` — and scanned:

- public outputs: no name, no CPF (the applicants' nor any 11-digit number with valid
  check digits), no income, no masked CPF, no keyed hash;
- internal outputs: no name, no CPF in clear, no income; the CPF masked
  (``***.456.789-**``), and the keyed hash only in the commission's workbook.

:data:`AUDIENCE` is the one list of which output is public and which internal; it is
documented in ``docs/reliability.md`` and checked against the README's tables.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import sqlite3
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docx
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.outputs.files import HARDSHIP_LABELS
from geo_ip.outputs.tables import read_sheet
from geo_ip.requests.cpf import cpf_hash, valid_cpf_digits
from geo_ip.requests.redaction import scan_for_personal_data
from tests.conftest import DEMO, DEMO_KEY, ROOT

runner = CliRunner()

PUBLIC, INTERNAL, SECRET, VENDORED = "público", "interno", "secreto", "biblioteca"
AUDIENCE: dict[str, str] = {
    # geo-ip avaliar --out avaliacao/
    "avaliacao/ranking.csv": PUBLIC,
    "avaliacao/ranking_planilha.csv": PUBLIC,
    "avaliacao/avaliacao.gpkg": PUBLIC,
    "avaliacao/avaliacao.qgz": PUBLIC,
    "avaliacao/evidencias.json": PUBLIC,
    "avaliacao/proveniencia.json": PUBLIC,
    "avaliacao/cip_programa.json": PUBLIC,
    "avaliacao/mapa.html": PUBLIC,
    "avaliacao/mapas/*.html": PUBLIC,
    "avaliacao/fundo/*": PUBLIC,  # the offline background: the territory's roads and grid
    "avaliacao/assets/*": VENDORED,
    "avaliacao/ranking.xlsx": INTERNAL,
    "avaliacao/fichas/*": INTERNAL,
    "avaliacao/.chave_lgpd": SECRET,
    # geo-ip pedidos conferir / geocode
    "pedidos_conferidos.csv": INTERNAL,
    "geocodificados.csv": INTERNAL,
    # after the works, and the CIP: sent to the utility or published, no personal data
    "cadastro/*": PUBLIC,
    "auditoria/*": PUBLIC,
    "cip/*": PUBLIC,
    # geo-ip territorio (OSM and the grid: no requests in it)
    "territorio.gpkg": PUBLIC,
}
"""Audience of every file the tool writes (glob patterns, relative to the run's folder)."""


def _cpf(base9: str) -> str:
    """A made-up CPF with valid check digits (Receita Federal's algorithm)."""
    digits = [int(c) for c in base9]
    for n in (10, 11):
        rest = sum(d * w for d, w in zip(digits, range(n, 1, -1), strict=False)) * 10 % 11
        digits.append(0 if rest == 10 else rest)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


CPF_A, CPF_B, CPF_C, CPF_D, CPF_E = (
    _cpf(b) for b in ("318274659", "402918375", "563702194", "674120983", "785230416")
)
CPF_F, CPF_G, CPF_H, CPF_I, CPF_J, CPF_K = (
    _cpf(b) for b in ("529982247", "896341520", "907452631", "218563742", "329674853", "430785964")
)
PLANTED_CPFS = (CPF_C, CPF_F, CPF_H, CPF_I, "123.456.789-10")
"""CPFs that are not the applicants' (one with wrong check digits), typed into other columns."""
NAMES = (
    "Conceição Aparecida Fictícia dos Anjos",
    "João Gonçalves Inventado",
    "Maria Antônia Simulação",
    "Zé Ninguém Exemplo",
    "Brígida Conceição Juazeirinho",
    "Ambrosina Jovelino Arapiraca",
)
PARTIAL_NAMES = ("Brigida Juazeirinho", "Brígida", "Juazeirinho", "Jovelino", "Ambrosina")
"""Parts of the applicants' names written in the address and the observations (issue 17)."""
INCOMES = ("1.234,56", "2.345,67", "3.456,78", "4.567,89")
PHONES = ("35998761234", "35 99876-4321")
EXTRA_REQUESTS = [
    {"protocolo": "PED-2026-0201", "data_protocolo": "01/06/2026", "tipo": "extensao_rede",
     "latitude": "-22.912600", "longitude": "-46.395300", "residencias": "2", "moradores": "7",
     "cadunico": "não", "renda_familiar": INCOMES[0], "uso_imovel": "residencial",
     "cpf_solicitante": CPF_A, "nome_solicitante": NAMES[0],
     "observacoes": f"entregue por {NAMES[0]}, fone {PHONES[0]}", "telefone": PHONES[0]},
    {"protocolo": "PED-2026-0202", "data_protocolo": "2026-06-02", "tipo": "implantacao",
     "endereco": "R. Getulio Vargas", "numero": "480", "bairro": "Centro", "residencias": "1",
     "moradores": "3", "cadunico": "sim", "renda_familiar": INCOMES[1],
     "uso_imovel": "residencial", "cpf_solicitante": re.sub(r"\D", "", CPF_B),
     "nome_solicitante": NAMES[1],
     "observacoes": f"CPF do cônjuge {CPF_C}; vizinho de {NAMES[1].upper()}",
     "telefone": PHONES[1]},
    {"protocolo": "PED-2026-0203", "data_protocolo": "03.06.2026", "tipo": "melhoria",
     "latitude": "-22.906100", "longitude": "-46.389500", "residencias": "3", "moradores": "9",
     "cadunico": "sim", "renda_familiar": INCOMES[2], "uso_imovel": "residencial",
     "cpf_solicitante": CPF_D, "nome_solicitante": NAMES[2], "estrategico": "sim",
     "justificativa_estrategica": f"a pedido de {NAMES[2]} (CPF {CPF_D})"},
    {"protocolo": "PED-2026-0204", "data_protocolo": "2026-06-04", "tipo": "extensao_rede",
     "latitude": "-22.912400", "longitude": "-46.394900", "residencias": "1", "moradores": "2",
     "cadunico": "não", "renda_familiar": INCOMES[3], "uso_imovel": "residencial",
     "cpf_solicitante": CPF_E, "nome_solicitante": NAMES[3],
     "beneficio_anterior_data": "2023-01-10",
     "beneficio_anterior_justificativa": f"obra anterior destruída, segundo {NAMES[3]}"},
    # issue 17: an address that fails geocoding, with a CPF and part of the name (its detail
    # message quotes it), a CPF in the neighbourhood, a first name in the observations
    {"protocolo": "PED-2026-0205", "data_protocolo": "2026-06-05", "tipo": "implantacao",
     "endereco": f"Rua Inexistente dos Testes {CPF_F} casa de Brigida Juazeirinho",
     "numero": "12", "bairro": re.sub(r"\D", "", CPF_H), "residencias": "1", "moradores": "2",
     "cadunico": "sim", "uso_imovel": "residencial", "cpf_solicitante": CPF_G,
     "nome_solicitante": NAMES[4], "observacoes": "entregar em mãos à Dona BRÍGIDA"},
    # located by coordinates: the name parts in the address and the observations, CPFs in
    # the number, the CEP and the neighbourhood (with and without valid check digits)
    {"protocolo": "PED-2026-0206", "data_protocolo": "2026-06-06", "tipo": "extensao_rede",
     "latitude": "-22.912500", "longitude": "-46.395100", "endereco": "casa de Ambrosina Arapiraca",
     "numero": CPF_I, "bairro": "CPF 123.456.789-10", "cep": CPF_I, "residencias": "1",
     "moradores": "3", "cadunico": "sim", "uso_imovel": "residencial", "cpf_solicitante": CPF_J,
     "nome_solicitante": NAMES[5],
     "observacoes": "falar com Jovelino Arapiraca ou com Dona Ambrosina"},
]  # fmt: skip
TODAY = "2026-11-20"
MASKED = re.compile(r"\*\*\*\.\d{3}\.\d{3}-\*\*")
HASH = re.compile(r"\bh:[0-9a-f]{16}\b")
DECIMAL = re.compile(r"(?<![\d.])-?\d+\.\d+(?![\d.])")
"""Decimal numbers (coordinates, metres, reais): not CPFs, blanked before the scan."""
HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32,64}(?![0-9A-Za-z])")
"""Random element ids of the maps (folium: 32 hex digits), hashes: blanked too."""


@dataclass(frozen=True)
class Run:
    """The files of a run (relative name → path), its terminal output and its personal data."""

    name: str
    files: dict[str, Path]
    terminal: str
    cpfs: list[str]
    names: list[str]
    incomes: list[str]
    key: bytes
    requests: int


KEPT_DEMO_ROWS = 3
"""Demo requests kept beside the made-up ones in the second run (a ficha costs ~0.5 s)."""


def _inputs(folder: Path) -> dict[str, Path]:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame(EXTRA_REQUESTS)
    requests = pd.concat([raw.head(KEPT_DEMO_ROWS), extra], ignore_index=True).fillna("")
    paths = {"pedidos": folder / "pedidos.csv"}
    requests.to_csv(paths["pedidos"], index=False)
    history = pd.read_csv(DEMO / "beneficios_anteriores.csv", dtype=str)
    # the applicant of PED-2026-0201 had the same benefit in 2024 (Art. 5, II)
    previous = {"protocolo": "PED-2024-0099", "data": "2024-01-10", "cpf": CPF_A,
                "tipo": "extensao_rede"}  # fmt: skip
    paths["historico"] = folder / "beneficios.csv"
    pd.concat([history, pd.DataFrame([previous])]).to_csv(paths["historico"], index=False)
    decided = [
        {"protocolo": "PED-2026-0201", "criterio": "seguranca", "pontos": "15",
         "motivacao": f"vistoria na casa de {NAMES[0]}, CPF {CPF_A}",
         "membro": "Comissão (relator fictício)", "data": "2026-11-12"},
        # refused (above the weight): its motivation reaches the sheet "Não aproveitado"
        {"protocolo": "PED-2026-0202", "criterio": "trafego", "pontos": "20",
         "motivacao": f"pedido de {NAMES[1]}", "membro": "Comissão", "data": "2026-11-12"},
    ]  # fmt: skip
    paths["decisoes"] = folder / "decisoes.csv"
    pd.DataFrame(decided).to_csv(paths["decisoes"], index=False)
    occurrences = pd.read_csv(DEMO / "ocorrencias.csv", dtype=str, keep_default_na=False)
    occurrences.loc[0, "descricao"] = f"roubo a {NAMES[1]}, CPF {CPF_B}"
    occurrences.loc[len(occurrences) - 1, "descricao"] = f"furto na casa de {NAMES[2]}"
    paths["ocorrencias"] = folder / "ocorrencias.csv"
    occurrences.to_csv(paths["ocorrencias"], index=False)
    return paths


def _invoke(args: list[str], ok: tuple[int, ...] = (0,)) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code in ok, result.output
    return result.output


def _written(folder: Path, prefix: str = "") -> dict[str, Path]:
    return {prefix + str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()}


def _personal(requests: Path) -> tuple[list[str], list[str]]:
    given = pd.read_csv(requests, dtype=str, keep_default_na=False)
    cpfs = [c for c in given["cpf_solicitante"] if c]
    return cpfs, [n for n in given["nome_solicitante"] if n]


DEMO_INCOMES = ("1.850,00", "980,50", "1.200,00")
"""The demo's distinctive incomes (the others, 600 or 750, are everywhere as numbers)."""


@pytest.fixture(scope="module")
def demo_run(
    demo_outputs: list[Path], demo_territory: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """The demo's assessment folder, plus its check, geocoding and cadastre package."""
    out = tmp_path_factory.mktemp("lgpd_demo")
    territory, requests = str(demo_territory), str(DEMO / "pedidos.csv")
    common = ["--rules", "demo"]
    check = ["pedidos", "conferir", requests, "--territory", territory, *common,
             "--out", str(out / "pedidos_conferidos.csv")]  # fmt: skip
    geocode = ["geocodificar", "--territory", territory, "--input", requests, *common,
               "--out", str(out / "geocodificados.csv")]  # fmt: skip
    cadastre = ["cadastro", "--assessment", str(demo_outputs[0].parent),
                "--executed", str(DEMO / "obras_executadas.csv"),
                "--removed", str(DEMO / "pontos_removidos.csv"), *common,
                "--out", str(out / "cadastro"), "--data-referencia", "2026-11-30"]  # fmt: skip
    # the demo has rows with errors on purpose: the check exits 1, the report is written
    terminal = [_invoke(check, ok=(1,)), _invoke(geocode), _invoke(cadastre)]
    files = {**_written(out), **_written(demo_outputs[0].parent, "avaliacao/")}
    files["territorio.gpkg"] = demo_territory
    cpfs, names = _personal(DEMO / "pedidos.csv")
    return Run("demo", files, "\n".join(terminal), cpfs, names, list(DEMO_INCOMES), DEMO_KEY, 41)


@pytest.fixture(scope="module")
def invented_run(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every command of the command line on requests with made-up applicants."""
    inputs = _inputs(tmp_path_factory.mktemp("entradas"))
    out = tmp_path_factory.mktemp("lgpd")
    territory, requests = str(demo_territory), str(inputs["pedidos"])
    shutil.copyfile(demo_territory, out / "territorio.gpkg")
    common = ["--rules", "demo"]
    check = [
        "pedidos", "conferir", requests, "--territory", territory, *common,
        "--out", str(out / "pedidos_conferidos.csv"),
    ]  # fmt: skip
    geocode = [
        "geocodificar", "--territory", territory, "--input", requests, *common,
        "--out", str(out / "geocodificados.csv"),
    ]  # fmt: skip
    assess = [
        "avaliar", "--territory", territory, "--requests", requests, *common,
        "--out", str(out / "avaliacao"), "--occurrences", str(inputs["ocorrencias"]),
        "--decisions", str(inputs["decisoes"]), "--history", str(inputs["historico"]),
        "--budget", "300000", "--data-referencia", TODAY, "--cip-regras", "municipio_demo",
        "--cip-consumidores", str(DEMO / "consumidores.csv"),
    ]  # fmt: skip
    executed = out.parent / "obras.csv"
    executed.write_text("protocolo,data_execucao\nPED-2026-0202,2026-11-23\n", encoding="utf-8")
    cadastre = [
        "cadastro", "--assessment", str(out / "avaliacao"), "--executed", str(executed),
        "--removed", str(DEMO / "pontos_removidos.csv"), *common,
        "--out", str(out / "cadastro"), "--data-referencia", "2026-11-30",
    ]  # fmt: skip
    audit = [
        "cadastro", "auditar", "--inventory", territory, "--bdgd", str(DEMO / "rede_demo.gpkg"),
        *common, "--out", str(out / "auditoria"),
    ]  # fmt: skip
    cip = [
        "cip", "--rules-cip", "municipio_demo", "--consumers", str(DEMO / "consumidores.csv"),
        "--out", str(out / "cip"),
    ]  # fmt: skip
    # the CPF typed into the CEP is a row error: the check exits 1, the report is written
    terminal = [_invoke(check, ok=(0, 1))]
    terminal += [_invoke(a) for a in (geocode, assess, cadastre, audit, cip)]
    cpfs, names = _personal(inputs["pedidos"])
    key = (out / "avaliacao" / ".chave_lgpd").read_text(encoding="ascii").strip().encode()
    demo_incomes = [i for i in DEMO_INCOMES if i in inputs["pedidos"].read_text()]
    requests_n = KEPT_DEMO_ROWS + len(EXTRA_REQUESTS)
    return Run("inventados", _written(out), "\n".join(terminal), [*cpfs, *PLANTED_CPFS],
               [*names, *PARTIAL_NAMES], [*demo_incomes, *INCOMES], key, requests_n)  # fmt: skip


@pytest.fixture(scope="module", params=["demo", "inventados"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue("demo_run" if request.param == "demo" else "invented_run")


# --- reading every output whole ----------------------------------------------------------------


def _gpkg_text(path: Path) -> str:
    """Every table of a GeoPackage but the spatial indexes (bounding boxes), without blobs."""
    return _sqlite_text(path, "layer_styles", "metadados")


def _sqlite_text(path: Path, *expected: str) -> str:
    """Every table of a SQLite file (one of ``expected`` among them) but spatial indexes,
    without blobs (an MBTiles' tiles are PNG images drawn from the territory alone)."""
    parts = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert any(name in tables for name in expected), tables
        for table in tables:
            if table.startswith(("rtree_", "sqlite_")):
                continue
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            cells = (str(c) for row in rows for c in row if not isinstance(c, bytes))
            parts.append(f"## {table}\n" + "\n".join(cells))
    return "\n".join(parts)


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        texts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    return "\n".join(texts)


def _xlsx_text(path: Path) -> str:
    sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
    return "\n".join(f"## {name}\n" + frame.to_csv(index=False) for name, frame in sheets.items())


def _qgz_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert any(n.endswith(".qgs") for n in names), names
        return "\n".join(archive.read(n).decode("utf-8") for n in names)


def text_of(path: Path) -> str:
    """The whole content of an output as text, by its format."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json", ".html", ".md"):
        return path.read_text(encoding="utf-8")
    if suffix == ".xlsx":
        return _xlsx_text(path)
    if suffix == ".gpkg":
        return _gpkg_text(path)
    if suffix == ".mbtiles":
        return _sqlite_text(path, "metadata")
    if suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    if suffix == ".docx":
        return _docx_text(path)
    if suffix == ".qgz":
        return _qgz_text(path)
    if suffix == ".png":
        # a tile of the offline background, drawn from territorio.gpkg alone (no request
        # is read to draw it): the only text a PNG can carry is in its metadata chunks
        with Image.open(path) as image:
            return "\n".join(f"{k}: {v}" for k, v in image.info.items() if isinstance(v, str))
    raise AssertionError(f"saída de formato não examinado: {path}")


def _audience(relative: str) -> str:
    found = {a for pattern, a in AUDIENCE.items() if fnmatch.fnmatch(relative, pattern)}
    assert len(found) == 1, (relative, found)
    return found.pop()


@pytest.fixture(scope="module")
def texts(run: Run) -> dict[str, str]:
    return {
        name: text_of(path)
        for name, path in sorted(run.files.items())
        if _audience(name) in (PUBLIC, INTERNAL)
    }


def _scan(run: Run, text: str) -> list[str]:
    """Names, the applicants' CPFs and any valid CPF-like number (decimals, ids blanked)."""
    plain = HEX_ID.sub("id", DECIMAL.sub("0", text))
    found = scan_for_personal_data(plain, run.cpfs, run.names) + scan_for_personal_data(plain)
    found += [f"renda {i}" for i in run.incomes if re.search(rf"(?<![\d.,]){re.escape(i)}", text)]
    for value in ("1234.56", "2345.67", "3456.78", "4567.89", "1850.0", "980.5"):  # as numbers
        if re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", text):
            found.append(f"renda {value}")
    return found


def _masked(cpf: str) -> str:
    digits = re.sub(r"\D", "", cpf)
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


# --- the tests -----------------------------------------------------------------------------------


def test_every_output_has_an_audience(run: Run) -> None:
    audiences = {name: _audience(name) for name in run.files}
    expected = {PUBLIC, INTERNAL, VENDORED} | ({SECRET} if run.name == "inventados" else set())
    assert set(audiences.values()) == expected
    # the demo's assessment is written by the library (no key file, no CIP), no audit
    skipped = ("auditoria/", "cip/", "avaliacao/cip_", "avaliacao/.") if run.name == "demo" else ()
    for pattern in AUDIENCE:
        if skipped and pattern.startswith(skipped):
            continue
        assert any(fnmatch.fnmatch(name, pattern) for name in audiences), f"nada em {pattern}"
    sheets = [n for n in audiences if n.startswith("avaliacao/fichas/")]
    assert "avaliacao/fichas/todas.pdf" in sheets and len(sheets) == 2 * run.requests + 1


def test_vendored_assets_are_unchanged_copies(run: Run) -> None:
    """``assets/`` holds only the bundled Leaflet files, never anything from the requests."""
    from geo_ip.outputs.web.assets import ASSETS_DIR

    assets = {n: p for n, p in run.files.items() if n.startswith("avaliacao/assets/")}
    assert assets
    for name, path in assets.items():
        assert (
            path.read_bytes() == (ASSETS_DIR / name.removeprefix("avaliacao/assets/")).read_bytes()
        )


def test_public_outputs_hold_no_personal_data(run: Run, texts: dict[str, str]) -> None:
    public = {n: t for n, t in texts.items() if _audience(n) == PUBLIC}
    assert len(public) > 10
    for name, text in public.items():
        assert _scan(run, text) == [], name
        assert not MASKED.search(text), (name, "CPF mascarado")
        assert not HASH.search(text), (name, "código HMAC do CPF")
        for phone in PHONES:
            assert phone not in text, (name, "telefone")


def test_internal_outputs_show_only_masked_cpfs(run: Run, texts: dict[str, str]) -> None:
    internal = {n: t for n, t in texts.items() if _audience(n) == INTERNAL}
    where = {"pedidos_conferidos.csv", "geocodificados.csv", "avaliacao/ranking.xlsx",
             "avaliacao/fichas/todas.pdf"}  # fmt: skip
    assert where <= set(internal)
    for name, text in internal.items():
        assert _scan(run, text) == [], name
        assert PHONES[0] not in text, (name, "telefone de 11 dígitos")
    valid = [c for c in run.cpfs if c not in PLANTED_CPFS and valid_cpf_digits(c)]
    assert len(valid) >= 4
    for name in where:
        for cpf in valid:
            assert _masked(cpf) in internal[name], (name, _masked(cpf))


def test_the_keyed_hash_only_in_the_commissions_workbook(run: Run, texts: dict[str, str]) -> None:
    table = read_sheet(run.files["avaliacao/ranking.xlsx"], sheet="Classificação",
                          dtype=str).fillna("")  # fmt: skip
    assert table["cpf_hash"].str.fullmatch(r"(h:[0-9a-f]{16})?").all()
    assert table["cpf_solicitante"].str.fullmatch(r"(\*\*\*\.\d{3}\.\d{3}-\*\*|\*\*\*)?").all()
    masked_to_hash = {_masked(c): cpf_hash(c, run.key) for c in run.cpfs if valid_cpf_digits(c)}
    hashed = table[table["cpf_hash"] != ""]
    assert len(hashed) >= 4
    for masked, value in zip(hashed["cpf_solicitante"], hashed["cpf_hash"], strict=True):
        assert masked_to_hash[masked] == value
    with_hash = [n for n, t in texts.items() if HASH.search(t)]
    assert with_hash == ["avaliacao/ranking.xlsx"]


def test_how_hardship_was_proven_only_in_the_commissions_workbook(
    run: Run, texts: dict[str, str]
) -> None:
    proven = [HARDSHIP_LABELS[s] for s in ("cadunico", "declaracao", "acima_do_limite")]
    where = sorted(n for n, t in texts.items() if any(label in t for label in proven))
    assert where == ["avaliacao/ranking.xlsx"]
    table = read_sheet(run.files["avaliacao/ranking.xlsx"], sheet="Classificação",
                          dtype=str).fillna("")  # fmt: skip
    assert set(table["hipossuficiencia"]) <= set(HARDSHIP_LABELS)
    public = pd.read_csv(run.files["avaliacao/ranking.csv"], dtype=str, keep_default_na=False)
    assert set(public["condicao_hipossuficiencia"]) <= {
        "comprovada", "pendente", "não comprovada", "não exigida",
    }  # fmt: skip
    column = re.compile(r"(?<![\w])(?:decisao_)?hipossuficiencia(?![\w])")
    for name, text in texts.items():
        if _audience(name) == PUBLIC:
            assert not column.search(text), name


def test_the_previous_benefit_is_found_without_the_cpf(invented_run: Run) -> None:
    table = read_sheet(invented_run.files["avaliacao/ranking.xlsx"],
                          sheet="Classificação", dtype=str).fillna("")  # fmt: skip
    row = table.set_index("protocolo")
    # Art. 5, II: the benefit in the history is recognised (by the CPF's hash) ...
    assert row.loc["PED-2026-0201", "situacao"] == "inelegivel"
    assert "10/01/2024" in row.loc["PED-2026-0201", "motivos_inelegibilidade"]
    # ... and the one declared in the request, justified, is left to the commission
    assert "fato superveniente justificado" in row.loc["PED-2026-0204", "avisos_elegibilidade"]


def test_free_text_is_redacted_not_dropped(invented_run: Run) -> None:
    """The observations stay useful to the clerk: only the personal data goes."""
    report = pd.read_csv(invented_run.files["geocodificados.csv"], dtype=str,
                         keep_default_na=False)  # fmt: skip
    row = report.set_index("protocolo").loc["PED-2026-0202"]
    assert row["observacoes"] == (
        "CPF do cônjuge [dado pessoal omitido]; vizinho de [dado pessoal omitido]"
    )
    assert row["cpf_solicitante"] == "***.918.375-**"
    refused = read_sheet(invented_run.files["avaliacao/ranking.xlsx"],
                            sheet="Não aproveitado", dtype=str).fillna("")  # fmt: skip
    assert "pedido de [dado pessoal omitido]" in refused.to_csv()


def test_detail_messages_are_redacted_not_dropped(invented_run: Run) -> None:
    """Issue 17: the geocoding detail quotes the address as typed, CPF and name redacted."""
    report = pd.read_csv(invented_run.files["geocodificados.csv"], dtype=str,
                         keep_default_na=False).set_index("protocolo")  # fmt: skip
    row = report.loc["PED-2026-0205"]
    assert (
        "Rua Inexistente dos Testes [dado pessoal omitido] casa de [dado pessoal omitido]"
        in (row["geocodificacao_detalhe"])
    )
    assert row["bairro"] == "[dado pessoal omitido]"
    assert row["observacoes"] == "entregar em mãos à Dona [dado pessoal omitido]"
    other = report.loc["PED-2026-0206"]
    assert other["endereco"] == "casa de [dado pessoal omitido]"
    assert other["bairro"] == "CPF [dado pessoal omitido]"
    assert other["numero"] == "[dado pessoal omitido]"
    # the request's sheet (internal) keeps the observations, redacted; no public file has them
    sheets = [t for n, t in _sheets_html(invented_run) if "PED-2026-0206" in n]
    assert any("com Dona [dado pessoal omitido]" in t for t in sheets)
    public = pd.read_csv(invented_run.files["avaliacao/ranking.csv"], dtype=str)
    assert "observacoes" not in public.columns
    evidence = invented_run.files["avaliacao/evidencias.json"].read_text(encoding="utf-8")
    assert "observacoes" not in evidence and "justificativa_estrategica" not in evidence


def _sheets_html(run: Run) -> list[tuple[str, str]]:
    return [
        (n, p.read_text(encoding="utf-8"))
        for n, p in run.files.items()
        if n.startswith("avaliacao/fichas/") and n.endswith(".html")
    ]


def test_file_names_hold_no_personal_data(run: Run) -> None:
    names = "\n".join(run.files)
    assert _scan(run, names) == []


def test_secret_key_is_private(invented_run: Run) -> None:
    key = invented_run.files["avaliacao/.chave_lgpd"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(invented_run.key) >= 16


def test_terminal_output_holds_no_personal_data(run: Run) -> None:
    flat = " ".join(run.terminal.split())  # rich wraps long lines
    assert _scan(run, flat) == []
    assert not HASH.search(flat)


def _readme_audiences() -> dict[str, str]:
    """``| `file` | público/**interno**/**secreto** | ...`` rows of the README's output tables."""
    found = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or cells[2].strip("*") not in (PUBLIC, INTERNAL, SECRET):
            continue
        for name in re.findall(r"`([^`]+)`", cells[1]):
            if name.startswith(".") and name != ".chave_lgpd":
                continue  # ".pdf" in "`fichas/<protocolo>.html` e `.pdf`"
            found["avaliacao/" + name.replace("<protocolo>", "*")] = cells[2].strip("*")
    return found


def test_readme_agrees_with_the_audiences() -> None:
    readme = _readme_audiences()
    assert len(readme) >= 10
    for name, audience in readme.items():
        matched = {a for pattern, a in AUDIENCE.items() if fnmatch.fnmatch(name, pattern)}
        assert matched == {audience}, (name, audience, matched)
