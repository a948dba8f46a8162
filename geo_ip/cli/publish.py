"""``geo-ip publicar``: the program's public transparency portal (Art. 8, publicity).

Registered on the main app by :mod:`geo_ip.cli.app`. Writes the static site of
:func:`geo_ip.portal.build_site` from an assessment folder or from the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from geo_ip.cli.console import console, print_written
from geo_ip.cli.console import fail as _fail
from geo_ip.cli.users import quiet_migrations
from geo_ip.errors import GeoIPError

__all__ = ["publish_cmd"]


def publish_cmd(
    origem: Annotated[
        Path | None,
        typer.Argument(
            help="Pasta de uma avaliação (a --saida de geo-ip avaliar). Sem ela, use --db.",
            show_default=False,
        ),
    ] = None,
    saida: Annotated[
        Path,
        typer.Option("--saida", "-o", help="Pasta do portal (pode ser publicada como está)."),
    ] = Path("portal"),
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Registro do programa (sqlite:///programa.sqlite ou postgresql://...), "
            "em vez de uma pasta de avaliação.",
            show_default=False,
        ),
    ] = None,
    ciclo: Annotated[
        str | None,
        typer.Option(
            "--ciclo", help="Ciclo do registro (padrão: o mais recente).", show_default=False
        ),
    ] = None,
    regras: Annotated[
        str | None,
        typer.Option(
            "--regras",
            help="Regras em vigor (nome ou arquivo TOML); padrão: as da avaliação ou do ciclo.",
            show_default=False,
        ),
    ] = None,
    chave: Annotated[
        Path | None,
        typer.Option(
            "--chave",
            help="Arquivo da chave LGPD (o mesmo de geo-ip avaliar --chave); nunca publicado.",
            show_default=False,
        ),
    ] = None,
    fundo: Annotated[
        Path | None,
        typer.Option(
            "--fundo",
            help="Com --db: pasta de uma avaliação cujo mapa de fundo offline (fundo/) o "
            "mapa do portal usa.",
            show_default=False,
        ),
    ] = None,
    url_base: Annotated[
        str,
        typer.Option(
            "--url-base",
            help="Endereço onde o portal será publicado (links absolutos do feed Atom).",
        ),
    ] = "",
) -> None:
    """Gera o portal público de transparência do programa, sem dados pessoais (Art. 8).

    Páginas estáticas: o programa em palavras simples, o mapa, a classificação com dados
    abertos (CSV), uma página por pedido, as regras em vigor e um feed Atom das decisões.
    Funciona sem internet e em qualquer servidor web.
    """
    from geo_ip.portal import build_site
    from geo_ip.requests.cpf import load_key
    from geo_ip.rules.config import load_rules

    if (origem is None) == (db is None):
        raise _fail(GeoIPError("informe a pasta de uma avaliação ou --db (um dos dois)."))
    try:
        rules = load_rules(regras) if regras else None
        key = load_key(chave) if chave else b""
        if db is not None:
            quiet_migrations()
            files = build_site(
                db, saida, rules=rules, cycle=ciclo, key=key, base_url=url_base, background=fundo
            )
        else:
            files = build_site(origem, saida, rules=rules, base_url=url_base)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    print_written(files, saida)
    console.print(
        f"Portal gravado em {escape(str(saida))}: abra {escape(str(saida / 'index.html'))} "
        "ou publique a pasta inteira no site da Prefeitura.",
        highlight=False,
        soft_wrap=True,
    )
