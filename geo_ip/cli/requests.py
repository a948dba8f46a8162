"""``geo-ip requests``: commands on the municipality's requests spreadsheet (pedidos).

Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer(requests_app, name="requests")``.
The shared console and error printer of :mod:`geo_ip.cli.app` are imported inside the
command, so that importing this module never creates an import cycle; the intake
module (pandas, geopandas...) is imported there too, to keep ``geo-ip --help`` fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv
from geo_ip.cli.console import console
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.rules.config import load_rules

requests_app = typer.Typer(
    help="Pedidos (protocolos) do Município: conferência da planilha.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

TERMINAL_ROWS = 200
"""Rows of the problems table printed on the terminal; the report holds them all."""
_STYLE = {"ok": "green", "aviso": "yellow", "erro": "bold red"}


@requests_app.command("check")
def check_cmd(
    pedidos: Annotated[
        Path,
        typer.Argument(help="Planilha de pedidos: CSV, XLSX, GeoJSON ou GeoPackage de pontos."),
    ],
    territory: Annotated[
        Path | None,
        typer.Option(
            "--territory",
            help="Território (GeoPackage do geo-ip territory): confere se o ponto está "
            "no município.",
        ),
    ] = None,
    rules: Annotated[
        str,
        typer.Option("--rules", help="Regras do município (nome em data/municipios ou caminho)."),
    ] = "extrema",
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Relatório CSV a gravar (UTF-8, vírgula).")
    ] = Path("relatorio_pedidos.csv"),
    todas: Annotated[
        bool, typer.Option("--todas", help="Mostra também as linhas sem problema.")
    ] = False,
) -> None:
    """Confere a planilha de pedidos linha a linha e grava o relatório.

    Sai com código 1 se alguma linha tiver erro, 0 caso contrário.
    """
    from geo_ip.requests.intake import (
        read_requests,
        requests_report,
        territory_boundary,
        validate_requests,
    )

    try:
        rules_obj = load_rules(rules)
        boundary = (
            territory_boundary(territory, rules_obj.municipio.codigo_ibge) if territory else None
        )
        checked = validate_requests(read_requests(pedidos), rules_obj, boundary=boundary)
        report = requests_report(checked)
        try:
            with atomic_path(out) as tmp:  # never a half-written report
                to_csv(report, tmp)  # text cells never read as formulas (issue 17)
        except OSError as exc:
            raise InputFileError(
                f"não foi possível gravar o relatório ({exc.strerror})", path=out
            ) from exc
    except GeoIPError as exc:
        raise _fail(exc) from exc

    counts = {s: int((report["situacao"] == s).sum()) for s in ("ok", "aviso", "erro")}
    shown = report if todas else report[report["situacao"] != "ok"]
    if len(report) == 0:
        console.print(
            f"[yellow]Nenhum pedido em {escape(str(pedidos))} (só o cabeçalho).[/]", highlight=False
        )
    elif len(shown):
        title = f"Pedidos de {escape(pedidos.name)}: {len(shown)} de {len(report)} linha(s)"
        if len(shown) > TERMINAL_ROWS:
            # the report holds every row: a city's spreadsheet would print for minutes
            title += f" (as primeiras {TERMINAL_ROWS} aqui; todas no relatório)"
            shown = shown.head(TERMINAL_ROWS)
        table = Table(title=title)
        table.add_column("Linha", justify="right", no_wrap=True)
        table.add_column("Protocolo", no_wrap=True)
        table.add_column("Situação", no_wrap=True)
        table.add_column("Problemas", overflow="fold")
        for row in shown.itertuples(index=False):
            situacao = str(row.situacao)
            # Text, not markup: cell values may contain brackets. CPFs are already masked.
            table.add_row(
                str(row.linha),
                Text(str(row.protocolo)),
                Text(situacao, style=_STYLE[situacao]),
                Text(str(row.problemas).replace(" | ", "\n")),
            )
        console.print(table)
    else:
        console.print(f"[green]Todos os {len(report)} pedidos estão ok.[/]", highlight=False)
    console.print(
        f"Resumo: {counts['ok']} ok, {counts['aviso']} com aviso, {counts['erro']} com erro "
        f"({len(report)} linha(s)). Relatório: {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )
    if counts["erro"]:
        raise typer.Exit(code=1)
