"""What every ``geo-ip`` command shares: the consoles, the progress bar, errors, listings.

The command modules (``cli_*``) import this module, never :mod:`geo_ip.cli.app`, which
imports them to register their commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geo_ip.errors import GeoIPError

__all__ = ["STATE", "console", "err_console", "fail", "output_listing", "steps"]

console = Console()
"""Results (standard output)."""
err_console = Console(stderr=True)
"""Progress, log messages and errors (standard error)."""
STATE = {"quiet": False}
"""Options of the whole command line (``--quiet``), set by :func:`geo_ip.cli.app.main`."""


@contextmanager
def steps(total: int) -> Iterator[Callable[[str], None]]:
    """Yield a function that advances a rich progress bar by step descriptions."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=STATE["quiet"],
        transient=False,
    ) as progress:
        task = progress.add_task("Iniciando", total=total)
        started = False

        def advance(description: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=description)

        yield advance
        progress.update(task, completed=total, description="Concluído")


def fail(exc: GeoIPError) -> typer.Exit:
    """Print a geo_ip error in Portuguese on standard error; return the exit to raise."""
    err_console.print(f"[bold red]Erro:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=exc.exit_code)


def output_listing(folder: Path) -> list[str]:
    """List a results folder for the terminal: its files, and each subfolder in one line.

    Parameters
    ----------
    folder : Path
        The ``--out`` folder.

    Returns
    -------
    list of str
        Files directly inside, then ``<subfolder>/ (N arquivos)`` lines; inside the
        assessment folder the same, one level down. Hidden files are left out.
    """
    lines: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file():
            lines.append(str(path))
        elif path.is_dir() and (path / "proveniencia.json").is_file():
            lines.extend(output_listing(path))
        elif path.is_dir():
            count = sum(1 for p in path.rglob("*") if p.is_file())
            lines.append(f"{path}/ ({count} arquivo(s))")
    return lines
