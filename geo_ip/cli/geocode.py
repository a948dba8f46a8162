"""``geo-ip geocodificar``: validate, geocode (offline) and snap the requests spreadsheet.

Registered on the main app by :mod:`geo_ip.cli.app`. Heavy modules are imported
inside the command so that ``geo-ip --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geo_ip.cli.console import (
    RulesOption,
    TerritoryOption,
    console,
    row_problems_table,
)
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import load_rules

if TYPE_CHECKING:
    import pandas as pd

_STYLE = {"ok": "green", "aviso": "yellow", "erro": "bold red"}
_KINDS = (
    "coordenada_informada",
    "numero_exato",
    "interpolado",
    "logradouro",
    "bairro",
    "falhou",
)


def geocode_cmd(
    territory: TerritoryOption,
    pedidos: Annotated[
        Path,
        typer.Option(
            "--pedidos",
            "-i",
            help="Planilha de pedidos: CSV, XLSX, GeoJSON ou GeoPackage de pontos.",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--saida", "-o", help="CSV de saída (UTF-8, vírgula).")
    ] = Path("geocodificados.csv"),
    cnefe: Annotated[
        Path | None,
        typer.Option(
            "--cnefe", help="Endereços do CNEFE 2022 do IBGE (CSV ';') para números exatos."
        ),
    ] = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Tenta o Nominatim (OpenStreetMap, internet) para os pedidos não "
            "localizados na via.",
        ),
    ] = False,
    rules: RulesOption = "extrema",
) -> None:
    """Confere, geocodifica (sem internet) e liga à malha viária cada pedido.

    Cada linha da planilha sai no CSV com a situação final (ok, aviso, erro), a
    forma de localização, a confiança e a via mais próxima. Sai com código 0
    sempre que o CSV é gravado, mesmo com linhas em erro (elas estão no CSV).
    """
    from geo_ip.requests.locate import locate_requests, located_report, write_csv
    from geo_ip.rules.provenance import stamp
    from geo_ip.territory.reader import read_metadata

    try:
        rules_obj = load_rules(rules)
        located = locate_requests(pedidos, territory, rules_obj, cnefe=cnefe, online=online)
        report = located_report(located, stamp(rules_obj, read_metadata(territory)))
        write_csv(report, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    _print_report(report, pedidos, out)


def _print_report(report: pd.DataFrame, pedidos: Path, out: Path) -> None:
    """Print the count of each way of locating, the rows with a problem and the summary."""
    kinds = Table(title=f"Geocodificação de {escape(pedidos.name)}")
    kinds.add_column("Forma de localização")
    kinds.add_column("Pedidos", justify="right")
    counts = report["geocodificacao"].value_counts()
    for kind in _KINDS:
        kinds.add_row(kind, str(int(counts.get(kind, 0))))
    console.print(kinds)
    flagged = report[report["situacao"] != "ok"]
    if len(flagged):
        title = f"Pedidos com aviso ou erro: {len(flagged)} de {len(report)}"
        console.print(row_problems_table(title, flagged.itertuples(index=False), _STYLE))
    status = report["situacao"].value_counts()
    console.print(
        f"Resumo: {int(status.get('ok', 0))} ok, {int(status.get('aviso', 0))} com aviso, "
        f"{int(status.get('erro', 0))} com erro ({len(report)} linha(s)). "
        f"Arquivo: {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )
