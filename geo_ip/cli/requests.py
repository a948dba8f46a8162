"""``geo-ip pedidos``: commands on the municipality's requests spreadsheet (pedidos).

Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer(requests_app, name="requests")``.
The console, the error printer and the problems table are shared with the other commands
(:mod:`geo_ip.cli.console`); the intake module (pandas, geopandas...) is imported inside
the command, to keep ``geo-ip --help`` fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import to_csv
from geo_ip.cli.console import RulesOption, command_group, console, row_problems_table
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.rules.config import load_rules

if TYPE_CHECKING:
    import pandas as pd

requests_app = command_group("Pedidos (protocolos) do Município: conferência da planilha.")

TERMINAL_ROWS = 200
"""Rows of the problems table printed on the terminal; the report holds them all."""
_STYLE = {"ok": "green", "aviso": "yellow", "erro": "bold red"}


@requests_app.command("conferir")
def check_cmd(
    pedidos: Annotated[
        Path,
        typer.Argument(help="Planilha de pedidos: CSV, XLSX, GeoJSON ou GeoPackage de pontos."),
    ],
    territory: Annotated[
        Path | None,
        typer.Option(
            "--territorio",
            help="Território (GeoPackage do geo-ip territorio): confere se o ponto está "
            "no município.",
        ),
    ] = None,
    rules: RulesOption = "extrema",
    out: Annotated[
        Path, typer.Option("--saida", "-o", help="Relatório CSV a gravar (UTF-8, vírgula).")
    ] = Path("relatorio_pedidos.csv"),
    todas: Annotated[
        bool, typer.Option("--todas", help="Mostra também as linhas sem problema.")
    ] = False,
) -> None:
    """Confere a planilha de pedidos linha a linha e grava o relatório.

    Sai com código 1 se alguma linha tiver erro, 0 caso contrário.
    """
    try:
        report = _check(pedidos, territory, rules, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    _print_report(report, pedidos, out, todas)
    if (report["situacao"] == "erro").any():
        raise typer.Exit(code=1)


def _check(pedidos: Path, territory: Path | None, rules: str, out: Path) -> pd.DataFrame:
    """Check the spreadsheet and write its report to ``out``; return the report."""
    from geo_ip.requests.intake import (
        read_requests,
        requests_report,
        territory_boundary,
        validate_requests,
    )

    rules_obj = load_rules(rules)
    boundary = territory_boundary(territory, rules_obj.municipio.codigo_ibge) if territory else None
    checked = validate_requests(read_requests(pedidos), rules_obj, boundary=boundary)
    report = requests_report(checked)
    try:
        with atomic_path(out) as tmp:  # never a half-written report
            to_csv(report, tmp)  # text cells never read as formulas (issue 17)
    except OSError as exc:
        raise InputFileError(
            f"não foi possível gravar o relatório ({exc.strerror})", path=out
        ) from exc
    return report


def _print_report(report: pd.DataFrame, pedidos: Path, out: Path, todas: bool) -> None:
    """Print the rows with a problem (or every row, ``todas``) and the summary."""
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
        # CPFs are already masked in the report
        console.print(row_problems_table(title, shown.itertuples(index=False), _STYLE))
    else:
        console.print(f"[green]Todos os {len(report)} pedidos estão ok.[/]", highlight=False)
    console.print(
        f"Resumo: {counts['ok']} ok, {counts['aviso']} com aviso, {counts['erro']} com erro "
        f"({len(report)} linha(s)). Relatório: {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )
