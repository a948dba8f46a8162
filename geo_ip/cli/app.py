"""Command line of geo_ip (``geo-ip``), in Brazilian Portuguese."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.logging import RichHandler
from rich.table import Table

from geo_ip._util.paths import resource_dir
from geo_ip._util.version import __version__
from geo_ip.cli.assess import assess_cmd, budget_lines, summary_table
from geo_ip.cli.batch import batch_cmd
from geo_ip.cli.cadastre import cadastre_app
from geo_ip.cli.cip import cip_cmd
from geo_ip.cli.console import (
    STATE,
    RulesOption,
    check_output_dir,
    console,
    counted,
    err_console,
    output_listing,
)
from geo_ip.cli.console import fail as _fail
from geo_ip.cli.console import steps as _steps
from geo_ip.cli.geocode import geocode_cmd
from geo_ip.cli.portugues import PortugueseTyper
from geo_ip.cli.publish import publish_cmd
from geo_ip.cli.registry import registry_app
from geo_ip.cli.requests import requests_app
from geo_ip.cli.rules import rules_app
from geo_ip.cli.serve import serve_cmd
from geo_ip.cli.users import users_app
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.rules.config import Rules, load_rules

if TYPE_CHECKING:
    import pandas as pd

    from geo_ip.pipeline import Assessment
    from geo_ip.territory import TerritoryReport

app = PortugueseTyper(
    name="geo-ip",
    help=(
        "geo_ip — planejamento geoespacial de extensão de rede elétrica e iluminação "
        "pública (Lei 5.442/2026 de Extrema/MG)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
log = logging.getLogger("geo_ip")


def _version(value: bool) -> None:
    if value:
        console.print(f"geo_ip {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--detalhado", "-v", help="Mostra mensagens detalhadas.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--silencioso", "-q", help="Mostra só avisos e erros.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--versao", callback=_version, is_eager=True, help="Mostra a versão e sai."),
    ] = False,
) -> None:
    """Configure logging for every command."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = RichHandler(console=err_console, show_time=False, show_path=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    log.setLevel(level)
    # GDAL/pyogrio report every layer written at INFO: keep them out of the user's way.
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))
    STATE["quiet"] = quiet


def _build_territory(out: Path, rules: Rules, steps: int, **inputs: Any) -> TerritoryReport:
    """Build the territory with a progress bar of ``steps`` steps (``inputs``: the sources)."""
    from geo_ip.outputs.qgis.project import style_geopackage
    from geo_ip.territory.build import build_territory

    with _steps(steps) as step:
        # each layer of territorio.gpkg opens styled in QGIS (its default style)
        return build_territory(out, rules=rules, progress=step, styler=style_geopackage, **inputs)


def _print_territory(title: str, counts: dict[str, int], warnings: Sequence[str]) -> None:
    """Print the count of features of each layer and class, then the warnings."""
    table = Table(title=title)
    table.add_column("Camada / classe")
    table.add_column("Quantidade", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}".replace(",", "."))
    console.print(table)
    for warning in warnings:
        console.print(f"[yellow]Aviso:[/] {warning}", highlight=False, soft_wrap=True)


@app.command("territorio")
def territory_cmd(
    out: Annotated[Path, typer.Option("--saida", "-o", help="GeoPackage do território a gravar.")],
    osm: Annotated[
        Path | None,
        typer.Option("--osm", help="Arquivo OpenStreetMap (.osm, .osm.bz2, .osm.gz ou .osm.pbf)."),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(
            "--lugar", help='Lugar a baixar do OSM (online), ex.: "Extrema, Minas Gerais, Brasil".'
        ),
    ] = None,
    grid: Annotated[
        list[Path] | None,
        typer.Option(
            "--rede",
            help=(
                "Rede existente: BDGD (.gdb, .gdb.zip) ou arquivo vetorial/CSV. "
                "Repetível, em ordem de confiança."
            ),
        ),
    ] = None,
    grid_tipo: Annotated[
        str | None,
        typer.Option(
            "--rede-tipo",
            help=(
                "Força o tipo de todos os elementos dos arquivos vetoriais "
                "(bt, mt, poste, transformador, ponto_ip)."
            ),
        ),
    ] = None,
    grid_coluna_tipo: Annotated[
        str | None,
        typer.Option(
            "--rede-coluna-tipo",
            help="Coluna dos arquivos vetoriais que diz o tipo de cada elemento.",
        ),
    ] = None,
    grid_crs: Annotated[
        str | None,
        typer.Option("--rede-crs", help="CRS dos arquivos vetoriais sem CRS (ex.: EPSG:31983)."),
    ] = None,
    dem: Annotated[
        Path | None,
        typer.Option("--relevo", help="Modelo digital de elevação (GeoTIFF, qualquer CRS)."),
    ] = None,
    rules: RulesOption = "extrema",
    force: Annotated[
        bool, typer.Option("--forcar", help="Reconstrói mesmo que o cache esteja atualizado.")
    ] = False,
) -> None:
    """Monta o território: vias classificadas, rede existente, equipamentos, edificações, relevo."""
    from geo_ip.territory.build import GridSource

    try:
        sources = [
            GridSource(p, tipo=grid_tipo, coluna_tipo=grid_coluna_tipo, crs=grid_crs)
            for p in grid or []
        ]
        inputs = {"osm": osm, "place": place, "grids": sources, "dem": dem, "force": force}
        report = _build_territory(out, load_rules(rules), 7 if osm or place else 1, **inputs)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    except OSError as exc:  # e.g. disk full while writing: the previous file is kept
        message = f"não foi possível gravar o território ({exc.strerror or exc})"
        raise _fail(InputFileError(message, path=out)) from exc
    status = "reaproveitado do cache" if report.reused else "gravado"
    if not STATE["quiet"]:
        title = f"Território {status}: {report.path} ({report.crs})"
        _print_territory(title, report.counts, report.warnings)


@app.command("demo")
def demo_cmd(
    out: Annotated[
        Path, typer.Option("--saida", "-o", help="Pasta de saída da demonstração.")
    ] = Path("saida-demo"),
) -> None:
    """Roda todas as etapas no conjunto de demonstração (município fictício)."""
    from geo_ip.territory.build import FICTIONAL_LABEL, GridSource

    demo = resource_dir("data") / "demo"
    try:  # a folder that cannot be written fails now, not after the territory is built
        check_output_dir(out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(f"[bold]{FICTIONAL_LABEL}[/]")
    try:
        rules_obj = load_rules("demo")
        report = _build_territory(
            out / "territorio.gpkg",
            rules_obj,
            7,
            osm=demo / "municipio_demo.osm",
            grids=[GridSource(demo / "rede_demo.gpkg")],
            dem=demo / "mdt_demo.tif",
        )
    except GeoIPError as exc:
        raise _fail(exc) from exc
    _print_territory(f"Território: {report.path} ({report.crs})", report.counts, report.warnings)
    try:
        located = _demo_requests(out, report.path, rules_obj)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    status = located["situacao"].value_counts()
    console.print(
        f"Pedidos: {len(located)} linha(s) — {int(status.get('ok', 0))} ok, "
        f"{int(status.get('aviso', 0))} com aviso, {int(status.get('erro', 0))} com erro "
        "(os erros de propósito estão descritos em data/demo/LEIAME.md)",
        highlight=False,
    )
    try:
        assessment = _demo_assessment(out, report.path, rules_obj)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    from rich.markup import escape

    console.print(
        "(as linhas recusadas acima — benefícios anteriores, decisões, obras executadas e "
        "pontos removidos — também são erros de propósito, descritos em data/demo/LEIAME.md)",
        highlight=False,
    )
    console.print(summary_table(assessment, limit=10))
    budget_text = budget_lines(assessment)
    if budget_text:
        console.print(escape(budget_text), highlight=False, soft_wrap=True)
    if assessment.cip:
        from geo_ip.cli.assess import cip_lines

        console.print(cip_lines(assessment.cip), highlight=False, soft_wrap=True)
    try:
        registry_file, user_file = _demo_registry(out, assessment)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        "(as decisões recusadas ao gravar o registro são as mesmas, de propósito; "
        "veja data/demo/LEIAME.md)",
        highlight=False,
    )
    try:
        portal = _demo_portal(out, registry_file)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(f"\nArquivos gerados em [bold]{out}[/]:")
    for line in output_listing(out):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print(
        f"\nRegistro da Comissão (demonstração): [bold]{escape(str(registry_file))}[/]. "
        "Para abrir a aplicação web:\n"
        f"  geo-ip servir --db sqlite:///{escape(str(registry_file.resolve()))} "
        f"--chave {escape(str((out / '.chave_lgpd').resolve()))}\n"
        f"Usuário de demonstração: {DEMO_LOGIN} (presidente); a senha está em "
        f"{escape(str(user_file))}.\n"
        f"Portal público de transparência (sem dados pessoais): "
        f"{escape(str(portal / 'index.html'))}; para gerar de novo a partir do registro:\n"
        f"  geo-ip publicar --db sqlite:///{escape(str(registry_file.resolve()))} "
        f"--fundo {escape(str((out / 'avaliacao').resolve()))} --saida {escape(str(portal))}",
        highlight=False,
        soft_wrap=True,
    )


def _demo_requests(out: Path, territory: Path, rules: Rules) -> pd.DataFrame:
    """Check, geocode and snap the demo requests; write both reports into ``out``."""
    from geo_ip.requests.intake import (
        read_requests,
        requests_report,
        territory_boundary,
        validate_requests,
    )
    from geo_ip.requests.locate import locate_requests, located_report, write_csv
    from geo_ip.rules.provenance import stamp
    from geo_ip.territory.reader import read_metadata

    pedidos = resource_dir("data") / "demo" / "pedidos.csv"
    boundary = territory_boundary(territory, rules.municipio.codigo_ibge)
    checked = validate_requests(read_requests(pedidos), rules, boundary=boundary)
    write_csv(
        requests_report(checked).assign(proveniencia=stamp(rules)), out / "pedidos_conferidos.csv"
    )
    located = locate_requests(pedidos, territory, rules)
    provenance = stamp(rules, read_metadata(territory))
    write_csv(located_report(located, provenance), out / "pedidos_geocodificados.csv")
    return located


DEMO_BUDGET_RS = 300_000.0
"""Fictional budget of the demo (R$) for the municipal part of the works."""


def _demo_assessment(out: Path, territory: Path, rules: Rules) -> Assessment:
    """Assess the demo requests (occurrences, decisions, history, CIP) and its cadastre."""
    from geo_ip.outputs.files import write_outputs
    from geo_ip.pipeline import assess
    from geo_ip.requests.cpf import load_key

    demo = resource_dir("data") / "demo"
    with _steps(6) as step:
        assessment = assess(
            territory,
            demo / "pedidos.csv",
            rules,
            occurrences=demo / "ocorrencias.csv",
            decisions=demo / "decisoes.csv",
            history=demo / "beneficios_anteriores.csv",
            budget=DEMO_BUDGET_RS,
            key=load_key(None, create_at=out / ".chave_lgpd"),
            progress=step,
        )
    from geo_ip.cadastre.package import build_cadastre, write_cadastre
    from geo_ip.cip.budget import program_cip

    assessment.cip = program_cip(assessment, "municipio_demo", demo / "consumidores.csv")
    with counted() as report:  # maps and sheets: the slow part, one bar each
        write_outputs(assessment, out / "avaliacao", progress=report)
    # after the works: the utility's cadastre package for the executed ones
    cadastre = build_cadastre(
        out / "avaliacao",
        demo / "obras_executadas.csv",
        rules,
        removed=demo / "pontos_removidos.csv",
    )
    write_cadastre(cadastre, out / "cadastro")
    return assessment


def _demo_portal(out: Path, registry_file: Path) -> Path:
    """Write the demo's public portal from its registry, on the assessment's background."""
    from geo_ip.portal import build_site
    from geo_ip.requests.cpf import load_key

    portal = out / "portal"
    build_site(
        f"sqlite:///{registry_file.resolve()}",
        portal,
        key=load_key(out / ".chave_lgpd"),
        background=out / "avaliacao",
    )
    return portal


DEMO_LOGIN = "comissao"
"""Login of the demo registry's user (role presidente)."""


def _demo_registry(out: Path, assessment: Assessment) -> tuple[Path, Path]:
    """Fill ``<out>/programa.sqlite`` with the demo run, its works and a demo user.

    The registry is made anew on every run of the demo, readable by its owner only (it
    holds the fictional applicants' data); the demo user's random password is written to
    ``<out>/usuario_demo.txt``, readable by its owner only too. Returns the registry's
    file and the user's.
    """
    import os
    import secrets

    from geo_ip.registry.db import open_registry, sqlite_url
    from geo_ip.registry.exchange import record_assessment
    from geo_ip.registry.works import import_works
    from geo_ip.webapp.users import add_user

    path = out / "programa.sqlite"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    try:  # the registry holds the applicants' data: readable by its owner only
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        message = f"não foi possível criar o registro ({exc.strerror or exc})"
        raise InputFileError(message, path=path) from exc
    registry = open_registry(sqlite_url(path))
    try:
        record_assessment(registry, assessment, cycle="demo", actor="sistema:geo-ip demo")
        # the works executed after the assessment, as 'geo-ip registro obras' records them
        # (the file's deliberate bad rows are refused, as the cadastre step reports)
        import_works(
            registry, resource_dir("data") / "demo" / "obras_executadas.csv", cycle="demo",
            actor="sistema:geo-ip demo",
        )  # fmt: skip
        password = secrets.token_urlsafe(12)
        add_user(
            registry, DEMO_LOGIN, "Comissão (demonstração)", "presidente", password,
            actor="sistema:geo-ip demo",
        )  # fmt: skip
    finally:
        registry.dispose()
    user_file = out / "usuario_demo.txt"
    user_file.unlink(missing_ok=True)
    try:
        fd = os.open(user_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(
                "Usuário de demonstração da aplicação da Comissão (geo-ip servir)\n"
                f"login: {DEMO_LOGIN}\nsenha: {password}\n"
            )
    except OSError as exc:
        message = f"não foi possível gravar o usuário de demonstração ({exc.strerror or exc})"
        raise InputFileError(message, path=user_file) from exc
    return path, user_file


# the subcommands, each in its module; they share geo_ip.cli.console, never this module
app.add_typer(requests_app, name="pedidos")
app.command("geocodificar")(geocode_cmd)
app.command("avaliar")(assess_cmd)
app.command("cip")(cip_cmd)
app.add_typer(cadastre_app, name="cadastro")
app.add_typer(rules_app, name="regras")
app.add_typer(registry_app, name="registro")
app.add_typer(users_app, name="usuarios")
app.command("servir")(serve_cmd)
app.command("publicar")(publish_cmd)
app.command("lote")(batch_cmd)

if __name__ == "__main__":  # pragma: no cover
    app()
