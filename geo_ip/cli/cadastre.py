"""``geo-ip cadastro`` and ``geo-ip cadastro auditar``: the utility's lighting cadastre.

Registered on the main app by :mod:`geo_ip.cli.app` as a group whose callback is the
package command itself (``geo-ip cadastro --avaliacao ... --obras ... --saida ...``)
and whose subcommand ``audit`` compares the municipality's inventory with the BDGD.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from geo_ip._util.parse import format_brl, format_number
from geo_ip.cli.console import (
    RulesOption,
    command_group,
    console,
    err_console,
    figures_table,
    print_warnings,
    print_written,
    reference_date,
)
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import load_rules

if TYPE_CHECKING:
    from geo_ip.cadastre.package import Cadastre

__all__ = ["audit_cmd", "cadastre_app", "cadastre_cmd"]

cadastre_app = command_group(no_args_is_help=False)

TariffOption = Annotated[
    float | None,
    typer.Option(
        "--tarifa",
        help="Tarifa de iluminação pública B4a (R$/kWh), no lugar da do arquivo de regras.",
    ),
]


def _money(value: float) -> str:
    return "a definir" if value != value else format_brl(value)


@cadastre_app.callback(invoke_without_command=True)
def cadastre_cmd(
    ctx: typer.Context,
    assessment: Annotated[
        Path | None,
        typer.Option("--avaliacao", help="Pasta da avaliação (saída do geo-ip avaliar)."),
    ] = None,
    executed: Annotated[
        Path | None,
        typer.Option(
            "--obras",
            help="Obras executadas (CSV, XLSX, GeoJSON, GeoPackage): protocolo, data_execucao e, "
            "se houver, os pontos as-built (latitude, longitude, tipo_lampada, potencia_w, poste).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--saida", "-o", help="Pasta de saída do pacote de cadastro.")
    ] = None,
    removed: Annotated[
        Path | None,
        typer.Option(
            "--removidos",
            help="Pontos de IP removidos: id_ponto ou latitude/longitude, potencia_w.",
        ),
    ] = None,
    cnpj: Annotated[
        str | None,
        typer.Option("--cnpj", help="CNPJ da Prefeitura (obrigatório se as regras não o trazem)."),
    ] = None,
    tariff: TariffOption = None,
    reference: Annotated[
        str | None,
        typer.Option(
            "--data-referencia",
            help="Data do ofício e limite das datas de execução (AAAA-MM-DD; padrão: hoje).",
        ),
    ] = None,
    rules: RulesOption = "extrema",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Registro do programa (URL do banco): sem --obras, as obras executadas "
            "vêm do registro (geo-ip registro obras).",
        ),
    ] = None,
    cycle: Annotated[
        str | None,
        typer.Option("--ciclo", help="Ciclo do registro (com --db; padrão: o mais recente)."),
    ] = None,
) -> None:
    """Monta o pacote de cadastro de IP na distribuidora (medida 060); auditar: confere o cadastro.

    Pontos a incluir e a excluir, variação da fatura, ofício e checklist. Grava em --saida:
    pontos_incluir.csv, pontos_excluir.csv, cadastro_ip.gpkg (QGIS),
    resumo_fatura.csv, conferencia_obras_executadas.csv, conferencia_pontos_removidos.csv,
    oficio.docx e oficio.pdf (Ofício da Prefeitura assumindo a IP), checklist_medida060.md
    e .pdf (passo a passo da CEMIG) e proveniencia.json.
    """
    if ctx.invoked_subcommand is not None:
        return
    from geo_ip.cadastre.package import build_cadastre, write_cadastre

    given = (("--avaliacao", assessment), ("--obras (ou --db)", executed or db), ("--saida", out))
    missing = [name for name, value in given if value is None]
    if missing:
        err_console.print(ctx.get_help())
        raise _fail(GeoIPError(f"informe {', '.join(missing)} (ou use: geo-ip cadastro auditar)"))
    assert assessment is not None and out is not None
    try:
        with tempfile.TemporaryDirectory(prefix="geo_ip_obras_") as scratch:
            executed_from_db = executed is None
            if executed is None:
                executed = _registry_works(db, cycle, Path(scratch))
            result = build_cadastre(
                assessment,
                executed,
                load_rules(rules),
                removed=removed,
                cnpj=cnpj,
                tariff=tariff,
                today=reference_date(reference),
            )
            files = write_cadastre(result, out)
            if db is not None and executed_from_db:
                number = _record_submission(db, cycle, out, result)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    _print_package(result)
    print_written(files, out)
    if db is not None and executed_from_db:
        console.print(
            f"Pacote registrado como envio nº {number} do cadastro (situação: preparado). "
            "Quando enviá-lo à distribuidora: geo-ip registro envio --db ... --envio "
            f"{number} --protocolo <protocolo da distribuidora>",
            highlight=False,
            soft_wrap=True,
        )


def _registry_works(db: str | None, cycle: str | None, folder: Path) -> Path:
    """Write the registry's executed works of a cycle as the ``--obras`` file."""
    from geo_ip.cli.registry import open_db
    from geo_ip.registry.exchange import works_table, write_works

    works = works_table(open_db(db), cycle)
    if not len(works):
        raise GeoIPError(
            "o registro não tem obras executadas neste ciclo: registre-as com geo-ip registro "
            "obras, ou informe --obras",
            field="--db",
        )
    return write_works(works, folder / "obras_do_registro.csv")


def _record_submission(db: str | None, cycle: str | None, out: Path, result: Cadastre) -> int:
    """Record the package prepared from the registry's works as a submission."""
    from geo_ip.cli.registry import open_db
    from geo_ip.registry.store import find_cycle
    from geo_ip.registry.submissions import record_submission

    registry = open_db(db)
    with registry.session() as session:
        row = record_submission(
            session,
            find_cycle(session, cycle),
            folder=str(out.resolve()),
            included=len(result.include),
            excluded=len(result.exclude),
            actor="sistema:cadastre",
        )
        return row.id


def _print_package(result: Cadastre) -> None:
    """Print the change of the lighting bill, the checks of the input files and the notes."""
    columns = ("Movimento", "Pontos", "Carga (kW)", "kWh/mês", "R$/mês")
    table = figures_table(f"Variação da fatura de IP — CNPJ {result.cnpj}", columns)
    for row in result.invoice.to_dict("records"):
        table.add_row(
            str(row["movimento"]),
            str(int(row["pontos"])),
            format_number(float(row["carga_kw"]), 3, trim=False),
            format_number(float(row["energia_kwh_mes"]), 2, trim=False),
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
    print_warnings(result.notes)


@cadastre_app.command("auditar")
def audit_cmd(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventario",
            help="Inventário do Município: território (GeoPackage do geo-ip territorio, camada "
            "pontos_ip) ou arquivo de pontos (CSV/XLSX com latitude, longitude, potencia_w; "
            "GeoJSON; GeoPackage).",
        ),
    ],
    bdgd: Annotated[
        Path,
        typer.Option("--bdgd", help="BDGD da distribuidora (.gdb, .gdb.zip ou GeoPackage)."),
    ],
    out: Annotated[Path, typer.Option("--saida", "-o", help="Pasta de saída da auditoria.")],
    ibge: Annotated[
        int | None,
        typer.Option(
            "--ibge",
            help="Código IBGE do município na BDGD (campo MUN do PIP); padrão: o das regras.",
        ),
    ] = None,
    tariff: TariffOption = None,
    rules: RulesOption = "extrema",
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
    columns = ("Situação", "Pontos", "kWh/mês", "R$/mês")
    table = figures_table("Auditoria do cadastro de IP (positivo: faturado a mais)", columns)
    for row in result.summary.to_dict("records"):
        table.add_row(
            str(row["situacao"]),
            str(int(row["pontos"])),
            format_number(float(row["diferenca_kwh_mes"]), 1, trim=False),
            _money(float(row["diferenca_rs_mes"])),
        )
    console.print(table)
    print_warnings(result.notes)
    console.print(f"{len(files)} arquivo(s) gravado(s) em [bold]{escape(str(out))}[/]")
