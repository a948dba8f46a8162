"""``geo-ip lote``: many municipalities at once, on Dask (this machine or a cluster).

Registered on the main app by :mod:`geo_ip.cli.app`. The work is
:func:`geo_ip.batch.run.run_batch`; here: the options, the cluster, the progress bar over
municipalities and the summary.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from geo_ip._util.parse import format_brl, format_number
from geo_ip.cli.console import (
    check_output_dir,
    console,
    counted,
    figures_table,
    print_warnings,
)
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError, InputFileError

__all__ = ["batch_cmd", "parse_codes"]

_CODE = re.compile(r"\d{7}")


def parse_codes(text: str | None) -> tuple[int, ...] | None:
    """Read ``--municipios``: IBGE codes separated by commas or spaces, or ``todos``.

    Parameters
    ----------
    text : str or None
        What was typed.

    Returns
    -------
    tuple of int or None
        The codes in the order typed (repeated ones once); None for ``todos`` or nothing.

    Raises
    ------
    GeoIPError
        A code that is not 7 digits (named in the message).
    """
    if text is None or text.strip().casefold() in ("", "todos"):
        return None
    codes: list[int] = []
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        if not _CODE.fullmatch(part):
            raise GeoIPError(
                f"código IBGE inválido: {part[:20]!r} (use 7 dígitos, separados por vírgula, "
                "ou 'todos')",
                field="--municipios",
            )
        if int(part) not in codes:
            codes.append(int(part))
    return tuple(codes) or None


def batch_cmd(
    saida: Annotated[Path, typer.Option("--saida", "-o", help="Pasta de saída do lote.")],
    osm: Annotated[
        Path | None,
        typer.Option("--osm", help="Extrato OSM da região (ex.: o .osm.pbf do estado)."),
    ] = None,
    bdgd: Annotated[
        list[Path] | None,
        typer.Option(
            "--bdgd",
            help="BDGD da distribuidora (.gdb, .gdb.zip ou GeoPackage); repita para várias.",
        ),
    ] = None,
    municipios: Annotated[
        str | None,
        typer.Option(
            "--municipios",
            help="Códigos IBGE separados por vírgula, ou 'todos' (padrão): todos os que têm "
            "limite municipal no extrato OSM (sem extrato: todos os MUN da BDGD).",
        ),
    ] = None,
    por_municipio: Annotated[
        Path | None,
        typer.Option(
            "--por-municipio",
            help="Pasta com uma subpasta por código IBGE, com regras.toml, cip.toml, "
            "pedidos.csv|xlsx|geojson|gpkg, inventario.gpkg|geojson|csv|xlsx e orcamento.txt "
            "(o orçamento da parte do Município, em R$); todos opcionais.",
        ),
    ] = None,
    regras_cip: Annotated[
        str | None,
        typer.Option(
            "--cip-regras",
            help="Regras da CIP dos municípios sem cip.toml próprio (nome em data/cip ou TOML).",
        ),
    ] = None,
    tarifas: Annotated[
        str, typer.Option("--cip-tarifas", help="Tarifas por classe (R$/kWh) da CIP.")
    ] = "tarifas_exemplo",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Endereço de um agendador Dask já em execução (ex.: tcp://servidor:8786); "
            "sem ele, um cluster local com os núcleos desta máquina.",
        ),
    ] = None,
    trabalhadores: Annotated[
        int | None,
        typer.Option(
            "--trabalhadores", min=1, max=512, help="Trabalhadores locais (padrão: núcleos)."
        ),
    ] = None,
    memoria: Annotated[
        str,
        typer.Option("--memoria", help="Limite de memória por trabalhador local (ex.: 4GB)."),
    ] = "4GB",
    painel: Annotated[
        str,
        typer.Option(
            "--painel",
            help="Endereço do painel do Dask do cluster local (ex.: :8787; :0 para uma porta "
            "livre; 'nenhum' para não abrir).",
        ),
    ] = ":8787",
) -> None:
    """Roda vários municípios de uma vez (estado, área de uma distribuidora), no Dask.

    Para cada município: recorta o extrato OSM pelo limite municipal (admin_level=8 com o
    código IBGE), constrói o território, estima a CIP pelas unidades consumidoras da BDGD
    (UCBT_tab, campo MUN), audita o cadastro de IP contra o PIP e avalia os pedidos quando
    houver. Grava uma pasta por município, lote.gpkg, lote.xlsx, lote.csv e mapa_lote.html.
    Rodar de novo pula os municípios cujas entradas não mudaram.
    """
    from geo_ip.batch.model import STATUS_LABELS, MunicipalityResult
    from geo_ip.batch.run import BatchConfig, check_inputs, close_client, open_client, run_batch

    try:
        codes = parse_codes(municipios)
        if not re.fullmatch(r"\d+(\.\d+)?\s*(GB|MB|GiB|MiB)", memoria.strip()):
            raise GeoIPError(
                f"limite de memória inválido: {memoria[:20]!r} (ex.: 4GB)", field="--memoria"
            )
        config = BatchConfig(
            saida=saida,
            osm=osm,
            bdgds=tuple(bdgd or ()),
            municipios=codes,
            por_municipio=por_municipio,
            regras_cip=regras_cip,
            tarifas=tarifas,
        )
        check_output_dir(saida)
        check_inputs(config)  # before a cluster is started
        dashboard = None if painel.strip().casefold() == "nenhum" else painel.strip()
        if dashboard is not None and not re.fullmatch(r"[\w.-]*:\d{1,5}", dashboard):
            raise GeoIPError(
                f"endereço do painel inválido: {painel[:40]!r} (ex.: :8787 ou nenhum)",
                field="--painel",
            )
        client = open_client(
            scheduler, workers=trabalhadores, memory_limit=memoria.strip(), dashboard=dashboard
        )
    except GeoIPError as exc:
        raise _fail(exc) from exc
    except OSError as exc:
        raise _fail(InputFileError(f"não foi possível conectar ao agendador Dask ({exc})")) from exc
    try:
        console.print(
            f"Painel do Dask: {escape(client.dashboard_link)}"
            if client.dashboard_link
            else "Painel do Dask: indisponível",
            highlight=False,
        )
        with counted() as bar:  # one bar over the municipalities, with the time left

            def progress(done: int, total: int, _result: MunicipalityResult) -> None:
                bar("Municípios", done, total)

            report = run_batch(config, client, progress=progress)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    finally:
        close_client(client)
    table = figures_table(
        "Municípios do lote", ("IBGE", "Município", "Situação", "Vias (km)", "CIP (R$/ano)")
    )
    for row in report.results:
        table.add_row(
            str(row.codigo_ibge),
            escape(f"{row.nome}/{row.uf}" if row.uf else row.nome),
            STATUS_LABELS.get(row.situacao, row.situacao),
            "" if row.vias_km is None else format_number(row.vias_km, 1, trim=False),
            "" if row.cip_rs_ano is None else format_brl(row.cip_rs_ano),
        )
    console.print(table)
    failed = [r for r in report.results if r.situacao == "falhou"]
    print_warnings(report.notes + [f"{r.codigo_ibge} {r.nome}: {r.erro}" for r in failed])
    console.print(
        f"{len(report.results)} município(s): {len(report.results) - len(failed)} concluído(s) "
        f"({report.reused} reaproveitado(s) sem mudança nas entradas), {len(failed)} com falha. "
        f"Arquivos em [bold]{escape(str(saida))}[/].",
        highlight=False,
        soft_wrap=True,
    )
