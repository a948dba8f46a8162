"""``geo-ip servir``: the Commission's web app on uvicorn.

Registered on the main app by :mod:`geo_ip.cli.app`. The session cookies are signed
with a secret kept in a file (created with mode 0600 next to the SQLite registry, or in
the current folder for PostgreSQL, the first time).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from geo_ip.cli.console import console, err_console
from geo_ip.cli.console import fail as _fail
from geo_ip.cli.users import DbOption, quiet_migrations
from geo_ip.errors import GeoIPError, InputFileError

__all__ = ["SECRET_NAME", "default_secret_path", "read_secret", "serve_cmd"]

SECRET_NAME = ".geoip_segredo_sessoes"
"""Name of the secret file created next to the registry."""


def default_secret_path(db_url: str) -> Path:
    """Return where the secret lives by default: next to the SQLite file, or here.

    Parameters
    ----------
    db_url : str
        The registry's URL (or a SQLite file path).

    Returns
    -------
    Path
        ``<folder of the SQLite file>/.geoip_segredo_sessoes``, or the current folder's
        for a server database.
    """
    from sqlalchemy.engine import make_url

    if "://" not in db_url:
        return Path(db_url).resolve().parent / SECRET_NAME
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / SECRET_NAME
    return Path.cwd() / SECRET_NAME


def read_secret(path: Path) -> bytes:
    """Read the secret signing the session cookies, creating it (0600) when absent.

    Parameters
    ----------
    path : Path
        The secret file (64 hexadecimal characters: 32 random bytes).

    Returns
    -------
    bytes
        The secret.

    Raises
    ------
    InputFileError
        When the file cannot be created or read, or holds too short a secret.
    """
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
        except FileExistsError:
            pass  # created meanwhile by another process: read it
        except OSError as exc:
            message = f"não foi possível criar o segredo das sessões ({exc.strerror or exc})"
            raise InputFileError(message, path=path) from exc
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeError) as exc:
        raise InputFileError("não foi possível ler o segredo das sessões", path=path) from exc
    if len(text) < 32:
        raise InputFileError(
            "segredo das sessões curto demais: apague o arquivo para que um novo seja criado",
            path=path,
        )
    return text.encode("utf-8")


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


def serve_cmd(
    db: DbOption = "sqlite:///programa.sqlite",
    host: Annotated[
        str,
        typer.Option(
            "--endereco",
            help="Endereço onde ouvir (0.0.0.0 abre para a rede; prefira um proxy HTTPS).",
        ),
    ] = "127.0.0.1",
    porta: Annotated[int, typer.Option("--porta", help="Porta TCP.", min=1, max=65535)] = 8000,
    segredo_arquivo: Annotated[
        Path | None,
        typer.Option(
            "--segredo-arquivo",
            help="Arquivo do segredo que assina os cookies de sessão (criado, com permissão "
            "0600, se não existir; padrão: ao lado do arquivo SQLite).",
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--regras",
            help="Arquivo de regras do município, só quando as regras gravadas no registro "
            "herdam de outro arquivo (padrão: as regras de cada ciclo).",
        ),
    ] = None,
    chave: Annotated[
        Path | None,
        typer.Option(
            "--chave",
            help="Arquivo da chave LGPD das avaliações (o mesmo de geo-ip avaliar --chave).",
        ),
    ] = None,
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="A aplicação é servida por HTTPS (atrás de um proxy): cookies só por HTTPS "
            "e cabeçalho HSTS.",
        ),
    ] = False,
) -> None:
    """Abre a aplicação web da Comissão (fila, pedidos, vistorias, reuniões, classificação).

    Funciona sem internet. Os usuários são cadastrados com geo-ip usuarios adicionar.
    """
    quiet_migrations()
    import uvicorn
    from sqlalchemy import func, select

    from geo_ip.registry.db import open_registry
    from geo_ip.registry.models import User
    from geo_ip.requests.cpf import load_key
    from geo_ip.rules.config import load_rules
    from geo_ip.webapp.app import create_app
    from geo_ip.webapp.ranking_cache import warm_up

    try:
        secret_path = segredo_arquivo or default_secret_path(db)
        secret = read_secret(secret_path)
        registry = open_registry(db)
        app = create_app(
            registry,
            secret=secret,
            secure_cookies=https,
            rules=load_rules(rules) if rules else None,
            key=load_key(chave) if chave else None,
        )
        with registry.session() as session:
            users = session.scalar(select(func.count()).select_from(User)) or 0
    except GeoIPError as exc:
        raise _fail(exc) from exc
    mode = secret_path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        err_console.print(
            f"[yellow]Aviso:[/] o segredo das sessões ({escape(str(secret_path))}) pode ser "
            "lido por outros usuários do computador: use chmod 600.",
            highlight=False,
            soft_wrap=True,
        )
    if not _loopback(host) and not https:
        err_console.print(
            "[yellow]Aviso:[/] aberto para a rede sem HTTPS: senhas e cookies trafegam sem "
            "criptografia. Use um proxy HTTPS e a opção --https.",
            highlight=False,
            soft_wrap=True,
        )
    if users == 0:
        err_console.print(
            "[yellow]Aviso:[/] nenhum usuário cadastrado; crie o primeiro com: geo-ip usuarios "
            f"add --db {escape(registry.label())} --login ... --nome ... --papel administrador",
            highlight=False,
            soft_wrap=True,
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"Aplicação da Comissão em [bold]http://{shown}:{porta}/[/] — registro "
        f"{escape(registry.label())}. Ctrl+C encerra.",
        highlight=False,
        soft_wrap=True,
    )
    # the ranking of the latest cycle is computed while the server starts
    warm_up(registry, app.state.rules, app.state.key)
    uvicorn.run(
        app,
        host=host,
        port=porta,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )
