"""``geo-ip usuarios``: the people who use the Commission's web app (``usuarios adicionar``).

Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer(users_app, name="users")``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from geo_ip.cli.console import command_group, console
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError, InputFileError

__all__ = ["PASSWORD_ENV", "DbOption", "quiet_migrations", "read_password", "users_app"]

users_app = command_group("Usuários da aplicação web da Comissão (geo-ip servir).")

PASSWORD_ENV = "GEO_IP_SENHA"
"""Environment variable read for the password when no file is given (scripts, CI)."""

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Registro do programa: URL do banco (sqlite:///programa.sqlite ou "
        "postgresql+psycopg://usuario:senha@servidor/banco) ou caminho de um arquivo SQLite.",
    ),
]


def quiet_migrations() -> None:
    """Keep Alembic's start-up messages out of the terminal (unless ``--detalhado``)."""
    if logging.getLogger("geo_ip").getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def read_password(path: Path | None) -> str:
    """Return the new user's password: from a file, ``GEO_IP_SENHA`` or typed twice.

    Parameters
    ----------
    path : Path, optional
        A file holding the password (its first line; the line break is not part of it).

    Returns
    -------
    str
        The password.

    Raises
    ------
    InputFileError
        When the file cannot be read.
    GeoIPError
        When the password typed twice differs.
    """
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise InputFileError("não foi possível ler a senha do arquivo", path=path) from exc
        lines = text.splitlines()
        return lines[0] if lines else ""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    # asked twice here, not with typer's confirmation, whose message is in English
    password: str = typer.prompt("Senha (não aparece ao digitar)", hide_input=True)
    again: str = typer.prompt("Repita a senha", hide_input=True)
    if password != again:
        raise GeoIPError("as duas senhas digitadas são diferentes; nada foi cadastrado")
    return password


@users_app.command("adicionar")
def add_cmd(
    login: Annotated[
        str, typer.Option("--login", help="Login (letras minúsculas, números, . _ -).")
    ],
    nome: Annotated[str, typer.Option("--nome", help="Nome da pessoa, como aparece nas atas.")],
    papel: Annotated[
        str,
        typer.Option(
            "--papel",
            help="Papel: administrador, presidente, membro (decide e vistoria) ou consulta "
            "(só consulta).",
        ),
    ],
    db: DbOption = "sqlite:///programa.sqlite",
    senha_arquivo: Annotated[
        Path | None,
        typer.Option(
            "--senha-arquivo",
            help="Arquivo com a senha (primeira linha). Sem ele, usa a variável "
            f"{PASSWORD_ENV} ou pede a senha duas vezes, sem mostrá-la.",
        ),
    ] = None,
) -> None:
    """Cadastra uma pessoa que usa a aplicação web da Comissão.

    A senha (pelo menos 10 caracteres) é guardada só como hash argon2; o cadastro fica
    registrado na trilha de auditoria do registro.
    """
    quiet_migrations()
    from geo_ip.registry.db import open_registry
    from geo_ip.webapp.users import ROLE_LABELS, add_user

    try:
        password = read_password(senha_arquivo)
        registry = open_registry(db)
        user = add_user(registry, login, nome, papel, password)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        f"Usuário [bold]{escape(user.login)}[/] ({escape(ROLE_LABELS[user.papel])}) "
        f"cadastrado no registro {escape(registry.label())}.",
        highlight=False,
        soft_wrap=True,
    )
