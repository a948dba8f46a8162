"""Write the public transparency portal (Art. 8, publicity): static files, no personal data.

:func:`build_site` reads an assessment folder (:func:`geo_ip.portal.folder.read_folder`)
or the registry (:func:`geo_ip.portal.registry_source.read_registry`) into the public model
(:mod:`geo_ip.portal.model`) and writes, into ``out_dir``:

- ``index.html``: the program in plain words, the budget, the data's date;
- ``mapa.html``: the requests by status and the proposed extensions (Leaflet, vendored;
  the offline background ``fundo/`` when the source folder has one);
- ``classificacao.html``: the public ranking (sortable and searchable);
- ``dados/classificacao.csv`` (and ``.ods``) and ``dados/dicionario.csv``/``.html``: open data;
- ``dados/pedidos.js``: the map's data (a script, so the map works from ``file://``);
- ``pedidos/<protocolo>.html``: one page per request, at a stable address;
- ``regras.html``: the rules in force and their hash;
- ``atom.xml``: the feed of decisions and selections;
- ``assets/``: the CSS, the scripts and Leaflet.

No page loads anything from the internet except, on the map, the OpenStreetMap tiles
when the source has no offline background. Every page carries a Content-Security-Policy
with no inline script.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from geo_ip._util.safe_cells import neutralise_frame, to_csv
from geo_ip.errors import InputFileError
from geo_ip.outputs.format import br_date, brl, num
from geo_ip.portal.feed import atom_feed
from geo_ip.portal.folder import read_folder
from geo_ip.portal.model import CRITERIA_KEYS, STATUS_LABELS, Program, PublicRequest
from geo_ip.rules.config import Rules, load_rules

__all__ = ["CSV_COLUMNS", "build_site", "public_csv_rows"]

ASSETS = Path(__file__).resolve().parents[1] / "_assets" / "portal"
"""Templates, CSS and scripts of the portal (inside the package)."""
LEAFLET = Path(__file__).resolve().parents[1] / "_assets" / "web" / "leaflet"
"""The vendored Leaflet (shared with the web maps)."""
OSM = "© OpenStreetMap contributors"
"""Attribution wherever OpenStreetMap data is shown."""
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'; "
    "connect-src 'none'"
)
"""Content-Security-Policy of every page: no inline script, nothing sent anywhere."""

CSV_COLUMNS = {
    "protocolo": "Número do protocolo do pedido",
    "posicao": "Posição na classificação por pontuação (Art. 13); vazio se não classificado",
    "situacao": "Situação do pedido (código)",
    "situacao_descricao": "Situação do pedido em palavras",
    "tipo": "Tipo do pedido (Art. 2): extensao_rede, implantacao ou melhoria",
    "logradouro": "Logradouro do pedido (sem número do imóvel)",
    "bairro": "Bairro",
    "data_protocolo": "Data do protocolo (AAAA-MM-DD)",
    **{f"pontos_{c}": f"Pontos no critério {n} do Art. 9"
       for c, n in zip(CRITERIA_KEYS, ("I (beneficiários, até 40)", "II (segurança, até 15)",
                                      "III (tráfego, até 15)", "IV (custo-benefício, até 15)",
                                      "V (viabilidade técnica, até 15)"), strict=True)},
    "pontuacao_total": "Pontuação final (0 a 100)",
    "desempate": "Critério de desempate aplicado (Art. 10 §1), quando houve empate",
    "custo_estimado_rs": "Custo estimado da obra, em reais (ponto decimal)",
    "percentual_municipio": "Participação do Município no custo (Art. 4 §1), em %",
    "custo_municipio_rs": "Parte do Município no custo, em reais (ponto decimal)",
    "selecionado_orcamento": "Selecionado no orçamento do ciclo: sim ou não",
    "latitude": "Latitude aproximada do local (WGS 84), arredondada a 0,001° (cerca de 100 m): "
    "o trecho da rua, nunca a casa",
    "longitude": "Longitude aproximada do local (WGS 84), arredondada a 0,001° (cerca de "
    "100 m): o trecho da rua, nunca a casa",
    "versao_regras": "Versão do arquivo de regras que produziu a classificação",
    "sha256_regras": "Hash SHA-256 do arquivo de regras",
    "data_dados": "Data de referência dos dados (AAAA-MM-DD)",
}  # fmt: skip
"""Columns of ``dados/classificacao.csv`` and their meaning (the data dictionary)."""

_COLOURS = {
    "classificado": "#1a7f37", "selecionado": "#1a7f37", "executado": "#0550ae",
    "aguardando_orcamento": "#9a6700", "execucao_direta_art12": "#0969da",
    "estrategico_art11": "#8250df", "pendente_localizacao": "#bc4c00",
    "pendente_comprovacao": "#bc4c00", "inelegivel": "#6e7781", "erro": "#cf222e",
}  # fmt: skip
"""Colour of each status on the map (the legend repeats it in words)."""


def _points(value: Any) -> str:
    return num(value, 1)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data"] = br_date
    env.filters["reais"] = brl
    env.filters["pontos"] = _points
    env.filters["numero"] = num
    return env


def _rules_for(program: Program, source: Path | None, rules: Rules | None) -> Rules | None:
    """Return the rules in force: those given, else the file the provenance names (same hash)."""
    if rules is not None:
        return rules
    if source is None:
        return None
    record = json.loads((source / "proveniencia.json").read_text(encoding="utf-8")) if (
        source / "proveniencia.json"
    ).exists() else {}  # fmt: skip
    path = Path(str((record.get("regras") or {}).get("arquivo", "")))
    if not path.is_file():
        return None
    try:
        found = load_rules(path)
    except Exception:  # an unreadable rules file: the site says it is not available
        return None
    return found if found.sha256 == program.rules_sha256 else None


def public_csv_rows(program: Program) -> list[dict[str, str]]:
    """Return the rows of ``dados/classificacao.csv`` (the columns :data:`CSV_COLUMNS`).

    Parameters
    ----------
    program : Program
        The public model.

    Returns
    -------
    list of dict
        One row per request, in the ranking's order.
    """

    def plain(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")

    rows = []
    for r in program.requests:
        points = {c.key: c.points for c in r.criteria}
        rows.append(
            {
                "protocolo": r.protocol,
                "posicao": "" if r.position is None else str(r.position),
                "situacao": r.status,
                "situacao_descricao": r.status_label,
                "tipo": r.request_type,
                "logradouro": r.street,
                "bairro": r.district,
                "data_protocolo": r.filed.isoformat() if r.filed else "",
                **{f"pontos_{c}": plain(points.get(c)) for c in CRITERIA_KEYS},
                "pontuacao_total": plain(r.total),
                "desempate": r.tie_break,
                "custo_estimado_rs": plain(r.cost),
                "percentual_municipio": plain(r.share_pct),
                "custo_municipio_rs": plain(r.municipal_cost),
                "selecionado_orcamento": "sim" if r.selected else "não",
                "latitude": "" if r.latitude is None else f"{r.latitude:.3f}",
                "longitude": "" if r.longitude is None else f"{r.longitude:.3f}",
                "versao_regras": program.rules_version,
                "sha256_regras": program.rules_sha256,
                "data_dados": program.data_date.isoformat() if program.data_date else "",
            }
        )
    return rows


def _csv_text(rows: Iterable[dict[str, str]], columns: Iterable[str]) -> str:
    """Write the open-data CSV with geo_ip's one CSV writer (formulas neutralised)."""
    frame = pd.DataFrame(list(rows), columns=list(columns), dtype=object).fillna("")
    return to_csv(frame) or ""


def _ods_bytes(rows: Iterable[dict[str, str]], columns: Iterable[str]) -> bytes:
    """Write the open data as an OpenDocument spreadsheet (LibreOffice, Excel).

    The cells are those of the CSV, neutralised the same way; a column whose every
    filled cell is a number is written as numbers, so the spreadsheet can sum it.
    """
    frame = neutralise_frame(
        pd.DataFrame(list(rows), columns=list(columns), dtype=object).fillna("")
    )
    for name in frame.columns:
        filled = frame[name].astype(str) != ""
        numbers = pd.to_numeric(frame[name].where(filled), errors="coerce")
        if filled.any() and bool(numbers[filled].notna().all()):
            frame[name] = numbers.astype(object).where(filled, "")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="odf") as writer:
        frame.to_excel(writer, sheet_name="classificacao", index=False)
    return buffer.getvalue()


def _map_data(program: Program) -> dict[str, Any]:
    points = [
        {
            "p": r.protocol,
            "u": f"pedidos/{r.slug}.html",
            "s": r.status,
            "sl": r.status_label,
            "b": r.district,
            "r": r.street,
            "t": None if r.total is None else round(r.total, 1),
            "y": round(r.latitude, 6),
            "x": round(r.longitude, 6),
        }
        for r in program.requests
        if r.latitude is not None and r.longitude is not None
    ]
    return {
        "pontos": points,
        "extensoes": program.extensions,
        "obras": program.works,
        "cores": _COLOURS,
        "situacoes": {
            s: STATUS_LABELS.get(s, s) for s in sorted({r.status for r in program.requests})
        },
    }


def _background(source: Path | None, out: Path) -> dict[str, Any] | None:
    """Copy the source's offline background (``fundo/``) and describe it for the map."""
    if source is None or not (source / "fundo" / "fundo.json").is_file():
        return None
    from geo_ip.outputs.web.basemap import read_basemap_info

    info = read_basemap_info(source / "fundo")
    target = out / "fundo"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source / "fundo", target, ignore=shutil.ignore_patterns("*.mbtiles"))
    west, south, east, north = info.bounds
    return {
        "url": "fundo/{z}/{x}/{y}.png",
        "minNativeZoom": info.min_zoom,
        "maxNativeZoom": info.max_zoom,
        "bounds": [[south, west], [north, east]],
        "attribution": info.attribution,
    }


def _write(path: Path, text: str | bytes, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    written.append(path)


def _safe_inside(out: Path, path: Path) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(out.resolve()):
        raise InputFileError("nome de arquivo fora da pasta do portal", path=path)
    return path


def build_site(
    source: Any,
    out_dir: str | Path,
    *,
    rules: Rules | None = None,
    cycle: str | None = None,
    key: bytes = b"",
    base_url: str = "",
    background: str | Path | None = None,
) -> list[Path]:
    """Write the public portal of the program.

    Parameters
    ----------
    source : str, Path or Registry
        An assessment folder (written by ``geo-ip avaliar``), a registry database URL
        (``sqlite:///...``, ``postgresql://...``) or an open
        :class:`geo_ip.registry.db.Registry`.
    out_dir : str or Path
        Folder of the site (created; files of an earlier build are overwritten, the
        request pages of requests no longer present are removed).
    rules : Rules, optional
        The rules in force; default: the file the assessment names (when its hash matches)
        or the cycle's rules recorded in the registry.
    cycle : str, optional
        Registry only: the cycle's name (default: the latest).
    key : bytes, optional
        Registry only: the LGPD key (eligibility's repeat check); never published.
    base_url : str, optional
        Address where the site will be published, ending in ``/`` (absolute links in
        the Atom feed).
    background : str or Path, optional
        An assessment folder whose offline background (``fundo/``) the map shows; default:
        the source folder's. A registry has none of its own: without it, the map uses
        OpenStreetMap's online tiles.

    Returns
    -------
    list of Path
        The files written (the background's tiles are not listed, only their folder).

    Raises
    ------
    InputFileError
        The source is not an assessment folder, or a file cannot be written.
    RegistryError
        The registry has no cycle or no assessment run yet.
    """
    out = Path(out_dir)
    folder: Path | None = None
    if isinstance(source, str | Path) and "://" not in str(source):
        folder = Path(source)
        program = read_folder(folder)
        program.rules = _rules_for(program, folder, rules)
        if program.rules is not None and program.rules.arquivo:
            try:
                program.rules_text = Path(program.rules.arquivo).read_text(encoding="utf-8")
            except OSError:
                program.rules_text = ""
    else:
        from geo_ip.portal.registry_source import read_registry

        program = read_registry(source, cycle=cycle, rules=rules, key=key)
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    return _render(program, out, Path(background) if background else folder, base_url)


def _render(program: Program, out: Path, folder: Path | None, base_url: str) -> list[Path]:
    env = _environment()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    assets = out / "assets"
    for name in ("portal.css", "portal.js", "mapa.js"):
        _write(assets / name, (ASSETS / name).read_text(encoding="utf-8"), written)
    if (assets / "leaflet").exists():
        shutil.rmtree(assets / "leaflet")
    shutil.copytree(LEAFLET, assets / "leaflet")
    written.append(assets / "leaflet")
    background = _background(folder, out)
    counts = Counter(r.status for r in program.requests)
    districts = sorted({r.district for r in program.requests if r.district})
    ranked = sorted(
        (r for r in program.requests if r.position is not None), key=lambda r: r.position or 0
    )
    others = [r for r in program.requests if r.position is None]
    common = {
        "p": program,
        "politica": POLICY,
        "osm": OSM,
        "rules": program.rules,
        "criterios": CRITERIA_KEYS,
        "rotulos": STATUS_LABELS,
    }

    def page(template: str, path: Path, root: str, **context: Any) -> None:
        html = env.get_template(template).render(raiz=root, **common, **context)
        _write(_safe_inside(out, path), html, written)

    executed = sum(1 for r in program.requests if r.status == "executado")
    page("index.html", out / "index.html", "", contagens=counts, executados=executed,
         pedidos_total=len(program.requests))  # fmt: skip
    page("classificacao.html", out / "classificacao.html", "", classificados=ranked,
         outros=others)  # fmt: skip
    page("mapa.html", out / "mapa.html", "", bairros=districts, fundo=background is not None)
    page("regras.html", out / "regras.html", "")
    page("dicionario.html", out / "dados" / "dicionario.html", "../", colunas=CSV_COLUMNS)
    pages = out / "pedidos"
    if pages.exists():
        for old in pages.glob("*.html"):
            old.unlink()
    request: PublicRequest
    for request in program.requests:
        page("pedido.html", pages / f"{request.slug}.html", "../", r=request)
    rows = list(public_csv_rows(program))
    _write(out / "dados" / "classificacao.csv", _csv_text(rows, CSV_COLUMNS), written)
    _write(out / "dados" / "classificacao.ods", _ods_bytes(rows, CSV_COLUMNS), written)
    _write(out / "dados" / "dicionario.csv",
           _csv_text(({"coluna": k, "descricao": v} for k, v in CSV_COLUMNS.items()),
                     ("coluna", "descricao")), written)  # fmt: skip
    data = _map_data(program)
    data["fundo"] = background
    text = json.dumps(data, ensure_ascii=True, sort_keys=True)
    # no markup in the script, even where a browser would never parse it as HTML
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    script = "window.PORTAL_DADOS = " + text + ";\n"
    _write(out / "dados" / "pedidos.js", script, written)
    _write(out / "atom.xml", atom_feed(program, base_url), written)
    return written
