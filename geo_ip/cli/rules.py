"""``geo-ip regras``: the municipality rules files (``regras criar``: a new municipality).

Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer(rules_app, name="rules")``; the
console and the error printer are shared with the other commands (:mod:`geo_ip.cli.console`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from geo_ip.cli.console import command_group, console
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError, InputFileError

__all__ = ["init_cmd", "rules_app"]

rules_app = command_group("Regras do município (arquivos TOML de data/municipios).")


@rules_app.command("criar")
def init_cmd(
    ibge: Annotated[
        str, typer.Option("--ibge", help="Código IBGE do município (7 dígitos, ex.: 4314902).")
    ],
    nome: Annotated[str, typer.Option("--nome", help='Nome do município (ex.: "Porto Alegre").')],
    uf: Annotated[str, typer.Option("--uf", help="Sigla do estado, em maiúsculas (ex.: RS).")],
    out: Annotated[
        Path, typer.Option("--saida", "-o", help="Arquivo de regras a gravar (.toml).")
    ] = Path("regras.toml"),
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            help="CRS projetado do município (ex.: EPSG:31982); sem ele, o território "
            "escolhe o SIRGAS 2000 / UTM da localização dos dados.",
        ),
    ] = None,
    forcar: Annotated[
        bool, typer.Option("--forcar", help="Substitui o arquivo se ele já existir.")
    ] = False,
) -> None:
    """Cria o arquivo de regras de outro município a partir das regras de Extrema/MG.

    Mantém o que a Lei 5.442/2026 fixa (critérios, pesos, níveis, desempate, 50 % a
    100 % e 5 anos) e marca "a definir em decreto" todo número que a lei deixa para o
    regulamento; a lei do município (número e data) fica "a informar".
    """
    from geo_ip.rules.init_rules import write_rules_template

    try:
        try:
            rules = write_rules_template(
                out, codigo_ibge=ibge, nome=nome, uf=uf, crs=crs, overwrite=forcar
            )
        except OSError as exc:
            message = f"não foi possível gravar as regras ({exc.strerror or exc})"
            raise InputFileError(message, path=out) from exc
    except GeoIPError as exc:
        raise _fail(exc) from exc
    where = rules.municipio
    crs_line = (
        f"CRS {where.crs}" if where.crs else "CRS escolhido pelo território (SIRGAS 2000 / UTM)"
    )
    console.print(
        f"Regras de {where.nome}/{where.uf} (IBGE {where.codigo_ibge}) gravadas em "
        f"[bold]{escape(str(out))}[/] — {crs_line}.",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "Antes de usar: informe em \\[lei] o número e a data da lei do município (hoje "
        "'a informar'), a distribuidora e o CNPJ em \\[cadastro], e substitua os números "
        "marcados 'a definir em decreto' pelos do decreto regulamentador.\n"
        f"Use com: geo-ip territorio ... --regras {escape(str(out))}  e  "
        f"geo-ip avaliar ... --regras {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )
