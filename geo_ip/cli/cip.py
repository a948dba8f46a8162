"""``geo-ip cip``: CIP revenue by class and month from the municipal law's rules.

The lead registers :func:`cip_cmd` on the main app (``app.command("cip")(cip_cmd)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geo_ip._util.parse import format_number
from geo_ip.cli.console import console, figures_table, print_warnings, print_written
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError


def annual_table(by_class: object, title: str) -> Table:
    """Show the year per class as a rich table (for the terminal).

    Parameters
    ----------
    by_class : pandas.DataFrame
        :attr:`geo_ip.cip.engine.CipResult.by_class`.
    title : str
        Table title.

    Returns
    -------
    rich.table.Table
    """
    import pandas as pd

    from geo_ip.cip.engine import CLASS_LABELS

    assert isinstance(by_class, pd.DataFrame)
    columns = ("Classe", "Unidades", "Faturas", "Isentas", "kWh na base", "CIP (R$)")
    table = figures_table(title, columns)
    for row in by_class.to_dict("records"):
        label = CLASS_LABELS.get(str(row["classe"]), "Total")
        table.add_row(
            f"[bold]{label}[/]" if label == "Total" else label,
            format_number(float(row["unidades_consumidoras"]), 0, trim=False),
            format_number(float(row["faturas"]), 0, trim=False),
            format_number(float(row["faturas_isentas"]), 0, trim=False),
            format_number(float(row["kwh_base"]), 0, trim=False),
            format_number(float(row["cip_rs"]), 2, trim=False),
        )
    return table


def cip_cmd(
    rules_cip: Annotated[
        str,
        typer.Option(
            "--cip-regras",
            help="Regras da CIP do município: nome em data/cip (ex.: santo_antonio_do_planalto) "
            "ou caminho de um TOML (que pode herdar um deles e informar a alíquota).",
        ),
    ],
    consumers: Annotated[
        Path,
        typer.Option(
            "--cip-consumidores",
            help="Unidades consumidoras: CSV/XLSX (unidade, classe, mes e kwh, ou ENE_01 … "
            "ENE_12) ou a BDGD da distribuidora (.gdb.zip, .gdb, .gpkg) com a tabela UCBT_tab.",
        ),
    ],
    out: Annotated[Path, typer.Option("--saida", "-o", help="Pasta de saída.")],
    municipio_ibge: Annotated[
        int | None,
        typer.Option(
            "--ibge",
            help="Código IBGE (7 dígitos): usa só as unidades desse município (coluna MUN da "
            "BDGD ou 'municipio' da planilha).",
        ),
    ] = None,
    tariffs: Annotated[
        str,
        typer.Option(
            "--cip-tarifas",
            help="Tarifas por classe (R$/kWh): TOML com a tarifa homologada da distribuidora "
            "(Resolução Homologatória ANEEL). Padrão: tarifas_exemplo, valores ilustrativos.",
        ),
    ] = "tarifas_exemplo",
) -> None:
    """Calcula a CIP por classe e mês pelas regras da lei municipal (isenções e limites).

    Grava em --saida: cip_anual.csv, cip_classe_mes.csv, cip_leitura.csv (todas as linhas
    do arquivo contadas por situação e motivo), cip.xlsx e cip.json (com a proveniência).
    Só totais por classe e mês: nenhuma linha por unidade consumidora (LGPD).
    """
    from geo_ip.cip.engine import compute_cip, load_cip_rules, load_tariffs, write_cip_outputs

    try:
        rules = load_cip_rules(rules_cip)
        rules.require_complete()  # before reading a large consumer base
        result = compute_cip(rules, consumers, load_tariffs(tariffs), municipio_ibge=municipio_ibge)
        files = write_cip_outputs(result, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    title = (
        f"CIP de {result.rules.municipio.nome}/{result.rules.municipio.uf} "
        f"({result.rules.lei.numero}; alíquota {result.rules.aliquota.valor:g} %)"
        if result.rules.aliquota is not None
        else "CIP"
    )
    console.print(annual_table(result.by_class, title))
    total = format_number(result.total_rs, 2, trim=False)
    console.print(f"[bold]CIP no ano: R$ {total}[/]", highlight=False)
    counts = result.reading.groupby("situacao")["linhas"].sum()
    console.print(
        "Linhas do arquivo: "
        + ", ".join(f"{k}: {format_number(float(v), 0, trim=False)}" for k, v in counts.items())
        + " (motivos em cip_leitura.csv)",
        highlight=False,
        soft_wrap=True,
    )
    print_warnings(result.warnings)
    print_written(files, out)
