"""``geo-ip cadastre`` and ``geo-ip cadastre audit``: the utility's lighting cadastre.

Registered on the main app by :mod:`geo_ip.cli.app` as a group whose callback is the
package command itself (``geo-ip cadastre --assessment ... --executed ... --out ...``)
and whose subcommand ``audit`` compares the municipality's inventory with the BDGD.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geo_ip.cli.console import console, err_console, output_listing
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import load_rules

__all__ = ["audit_cmd", "cadastre_app", "cadastre_cmd"]

cadastre_app = typer.Typer(
    no_args_is_help=False,
    rich_markup_mode="rich",
    add_completion=False,
)

_RULES_HELP = "Regras do município (nome em data/municipios ou caminho)."
_TARIFF_HELP = "Tarifa de iluminação pública B4a (R$/kWh), no lugar da do arquivo de regras."


def _reference_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise GeoIPError(
            f"data inválida ('{text}'): use AAAA-MM-DD", field="--data-referencia"
        ) from exc


def _number(value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def _money(value: float) -> str:
    return "a definir" if value != value else f"R$ {_number(value, 2)}"


@cadastre_app.callback(invoke_without_command=True)
def cadastre_cmd(
    ctx: typer.Context,
    assessment: Annotated[
        Path | None,
        typer.Option("--assessment", help="Pasta da avaliação (saída do geo-ip assess)."),
    ] = None,
    executed: Annotated[
        Path | None,
        typer.Option(
            "--executed",
            help="Obras executadas (CSV, XLSX, GeoJSON, GeoPackage): protocolo, data_execucao e, "
            "se houver, os pontos as-built (latitude, longitude, tipo_lampada, potencia_w, poste).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Pasta de saída do pacote de cadastro.")
    ] = None,
    removed: Annotated[
        Path | None,
        typer.Option(
            "--removed",
            help="Pontos de IP removidos: id_ponto ou latitude/longitude, potencia_w.",
        ),
    ] = None,
    cnpj: Annotated[
        str | None,
        typer.Option("--cnpj", help="CNPJ da Prefeitura (obrigatório se as regras não o trazem)."),
    ] = None,
    tariff: Annotated[float | None, typer.Option("--tarifa", help=_TARIFF_HELP)] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            "--data-referencia",
            help="Data do ofício e limite das datas de execução (AAAA-MM-DD; padrão: hoje).",
        ),
    ] = None,
    rules: Annotated[str, typer.Option("--rules", help=_RULES_HELP)] = "extrema",
) -> None:
    """Monta o pacote de cadastro de IP na distribuidora (medida 060); audit: auditoria do cadastro.

    Pontos a incluir e a excluir, variação da fatura, ofício e checklist. Grava em --out:
    pontos_incluir.csv, pontos_excluir.csv, cadastro_ip.gpkg (QGIS),
    resumo_fatura.csv, conferencia_obras_executadas.csv, conferencia_pontos_removidos.csv,
    oficio.docx e oficio.pdf (Ofício da Prefeitura assumindo a IP), checklist_medida060.md
    e .pdf (passo a passo da CEMIG) e proveniencia.json.
    """
    if ctx.invoked_subcommand is not None:
        return
    from geo_ip.cadastre.package import build_cadastre, write_cadastre

    missing = [
        name
        for name, value in (("--assessment", assessment), ("--executed", executed), ("--out", out))
        if value is None
    ]
    if missing:
        err_console.print(ctx.get_help())
        raise _fail(GeoIPError(f"informe {', '.join(missing)} (ou use: geo-ip cadastre audit)"))
    assert assessment is not None and executed is not None and out is not None
    try:
        result = build_cadastre(
            assessment,
            executed,
            load_rules(rules),
            removed=removed,
            cnpj=cnpj,
            tariff=tariff,
            today=_reference_date(reference),
        )
        files = write_cadastre(result, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    table = Table(title=f"Variação da fatura de IP — CNPJ {result.cnpj}")
    for name in ("Movimento", "Pontos", "Carga (kW)", "kWh/mês", "R$/mês"):
        table.add_column(name, justify="left" if name == "Movimento" else "right")
    for row in result.invoice.to_dict("records"):
        table.add_row(
            str(row["movimento"]),
            str(int(row["pontos"])),
            _number(float(row["carga_kw"]), 3),
            _number(float(row["energia_kwh_mes"]), 2),
            _money(float(row["custo_rs_mes"])),
        )
    console.print(table)
    for label, report in (
        ("obras executadas", result.executed_report),
        ("pontos removidos", result.removed_report),
    ):
        if len(report):
            counts = report["situacao"].value_counts()
            console.print(
                f"Arquivo de {label}: {len(report)} linha(s) — "
                + ", ".join(f"{k}: {int(v)}" for k, v in counts.items()),
                highlight=False,
            )
    for note in result.notes:
        console.print(f"[yellow]Aviso:[/] {escape(note)}", highlight=False, soft_wrap=True)
    console.print(f"{len(files)} arquivo(s) gravado(s) em [bold]{escape(str(out))}[/]:")
    for line in output_listing(out):
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@cadastre_app.command("audit")
def audit_cmd(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventory",
            help="Inventário do Município: território (GeoPackage do geo-ip territory, camada "
            "pontos_ip) ou arquivo de pontos (CSV/XLSX com latitude, longitude, potencia_w; "
            "GeoJSON; GeoPackage).",
        ),
    ],
    bdgd: Annotated[
        Path,
        typer.Option("--bdgd", help="BDGD da distribuidora (.gdb, .gdb.zip ou GeoPackage)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Pasta de saída da auditoria.")],
    ibge: Annotated[
        int | None,
        typer.Option(
            "--ibge",
            help="Código IBGE do município na BDGD (campo MUN do PIP); padrão: o das regras.",
        ),
    ] = None,
    tariff: Annotated[float | None, typer.Option("--tarifa", help=_TARIFF_HELP)] = None,
    rules: Annotated[str, typer.Option("--rules", help=_RULES_HELP)] = "extrema",
) -> None:
    """Compara o inventário de IP do Município com o cadastro da distribuidora (BDGD, PIP).

    Pontos faturados e não encontrados, encontrados e não faturados e com potência
    divergente, com os kWh/mês e os reais em jogo. Grava auditoria_pontos.csv,
    auditoria_resumo.csv, auditoria.gpkg (QGIS) e proveniencia.json.
    """
    from geo_ip.cadastre.package import audit_cadastre, write_audit

    try:
        rules_obj = load_rules(rules)
        code = ibge if ibge is not None else rules_obj.municipio.codigo_ibge
        result = audit_cadastre(inventory, bdgd, rules_obj, tariff=tariff, ibge=code)
        files = write_audit(result, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    table = Table(title="Auditoria do cadastro de IP (positivo: faturado a mais)")
    for name in ("Situação", "Pontos", "kWh/mês", "R$/mês"):
        table.add_column(name, justify="left" if name == "Situação" else "right")
    for row in result.summary.to_dict("records"):
        table.add_row(
            str(row["situacao"]),
            str(int(row["pontos"])),
            _number(float(row["diferenca_kwh_mes"]), 1),
            _money(float(row["diferenca_rs_mes"])),
        )
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]Aviso:[/] {escape(note)}", highlight=False, soft_wrap=True)
    console.print(f"{len(files)} arquivo(s) gravado(s) em [bold]{escape(str(out))}[/]")
