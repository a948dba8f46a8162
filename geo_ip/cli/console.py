"""What every ``geo-ip`` command shares: the consoles, the progress bar, errors, listings.

The command modules (``cli_*``) import this module, never :mod:`geo_ip.cli.app`, which
imports them to register their commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from geo_ip.cli.portugues import PortugueseTyper
from geo_ip.errors import GeoIPError, InputFileError

__all__ = [
    "STATE",
    "RulesOption",
    "TerritoryOption",
    "check_output_dir",
    "command_group",
    "console",
    "counted",
    "err_console",
    "fail",
    "figures_table",
    "output_listing",
    "print_warnings",
    "print_written",
    "reference_date",
    "row_problems_table",
    "steps",
]

console = Console()
"""Results (standard output)."""
err_console = Console(stderr=True)
"""Progress, log messages and errors (standard error)."""
STATE = {"quiet": False}
"""Options of the whole command line (``--silencioso``), set by :func:`geo_ip.cli.app.main`."""

RulesOption = Annotated[
    str,
    typer.Option("--regras", help="Regras do município (nome em data/municipios ou caminho)."),
]
"""``--regras`` of every command that reads the municipality's rules (default ``extrema``)."""
TerritoryOption = Annotated[
    Path, typer.Option("--territorio", help="Território (GeoPackage do geo-ip territorio).")
]
"""``--territorio`` of the commands that need the territory built by ``geo-ip territorio``."""


def command_group(help_text: str | None = None, *, no_args_is_help: bool = True) -> PortugueseTyper:
    """Return a group of subcommands (``geo-ip pedidos``, ``rules``, ``cadastre``).

    Parameters
    ----------
    help_text : str, optional
        Help of the group (none: the callback's docstring).
    no_args_is_help : bool, default True
        Print the help when the group is called without a subcommand.

    Returns
    -------
    PortugueseTyper
        Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer``.
    """
    # without a help of its own, the group takes its callback's docstring (geo-ip cadastro)
    options: dict[str, Any] = {} if help_text is None else {"help": help_text}
    return PortugueseTyper(
        no_args_is_help=no_args_is_help,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        add_completion=False,
        **options,
    )


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


@contextmanager
def counted() -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``report(what, done, total)``: one progress bar per kind of file being written.

    The slow writers (the maps, the technical sheets) call it after each file, as
    :func:`geo_ip.outputs.files.write_outputs` does with its ``progress`` argument; each
    new ``what`` ("Mapas", "Fichas técnicas") opens its own bar with the time left.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("faltam"),
        TimeRemainingColumn(),
        console=err_console,
        disable=STATE["quiet"],
        transient=False,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(what: str, done: int, total: int) -> None:
            task = tasks.get(what)
            if task is None:
                task = tasks[what] = progress.add_task(what, total=total)
            progress.update(task, completed=done, total=total)

        yield report


def fail(exc: GeoIPError) -> typer.Exit:
    """Print a geo_ip error in Portuguese on standard error; return the exit to raise."""
    err_console.print(f"[bold red]Erro:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=exc.exit_code)


def check_output_dir(folder: Path) -> None:
    """Check, before any work, that an output folder can be written; create nothing.

    Parameters
    ----------
    folder : Path
        The ``--saida`` folder: an existing folder, or a new one whose nearest existing
        parent is a folder this user can write into.

    Raises
    ------
    InputFileError
        When ``folder`` is a file (e.g. ``--saida /etc/passwd``), or it or its nearest
        existing parent cannot be written.
    """
    import os
    import tempfile

    if folder.exists() and not folder.is_dir():
        raise InputFileError(
            "a saída precisa ser uma pasta, e este caminho é um arquivo existente",
            field="--saida",
            path=folder,
        )
    target = folder.absolute()
    while not target.exists() and target.parent != target:
        target = target.parent
    if not target.is_dir():
        raise InputFileError(
            "não é possível criar a pasta de saída: um caminho acima dela é um arquivo",
            field="--saida",
            path=folder,
        )
    try:  # a probe file, removed at once: permissions, read-only disks, /proc...
        fd, probe = tempfile.mkstemp(prefix=".geo_ip-teste-", dir=target)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        what = "na pasta de saída" if target == folder.absolute() else f"na pasta '{target}'"
        raise InputFileError(
            f"não é possível gravar {what} ({exc.strerror or exc})",
            field="--saida",
            path=folder,
        ) from exc


def reference_date(text: str | None) -> date | None:
    """Read ``--data-referencia`` (``AAAA-MM-DD``); None when not given.

    Parameters
    ----------
    text : str, optional
        The option's value.

    Returns
    -------
    datetime.date or None
        The date.

    Raises
    ------
    GeoIPError
        When the text is not an ISO date (the message names the option).
    """
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise GeoIPError(
            f"data inválida ('{text}'): use AAAA-MM-DD", field="--data-referencia"
        ) from exc


def print_warnings(notes: Iterable[str]) -> None:
    """Print each warning of a command as ``Aviso: ...`` (text, never read as markup)."""
    for note in notes:
        console.print(f"[yellow]Aviso:[/] {escape(note)}", highlight=False, soft_wrap=True)


def print_written(files: Sized, out: Path) -> None:
    """Print how many files a command wrote into ``out``, then the folder's listing."""
    console.print(f"{len(files)} arquivo(s) gravado(s) em [bold]{escape(str(out))}[/]:")
    for line in output_listing(out):
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


def figures_table(title: str, columns: Iterable[str]) -> Table:
    """Empty table of figures: the first column (the label) left, the numbers right.

    Parameters
    ----------
    title : str
        Table title.
    columns : iterable of str
        Column headers, the label's first.

    Returns
    -------
    rich.table.Table
        Without rows.
    """
    table = Table(title=title)
    for i, name in enumerate(columns):
        table.add_column(name, justify="right" if i else "left")
    return table


def row_problems_table(title: str, rows: Iterable[Any], styles: Mapping[str, str]) -> Table:
    """Table of a spreadsheet's rows with their situation and problems (for the terminal).

    Parameters
    ----------
    title : str
        Table title (markup already escaped).
    rows : iterable
        Named tuples with ``linha``, ``protocolo``, ``situacao`` and ``problemas``
        (problems separated by ``" | "``, one per line in the table).
    styles : mapping of str to str
        Style of each situation (none for a situation it lacks).

    Returns
    -------
    rich.table.Table
        Cell values as text, never read as markup (they may hold brackets).
    """
    table = Table(title=title)
    table.add_column("Linha", justify="right", no_wrap=True)
    table.add_column("Protocolo", no_wrap=True)
    table.add_column("Situação", no_wrap=True)
    table.add_column("Problemas", overflow="fold")
    for row in rows:
        situation = str(row.situacao)
        table.add_row(
            str(row.linha),
            Text(str(row.protocolo)),
            Text(situation, style=styles.get(situation, "")),
            Text(str(row.problemas).replace(" | ", "\n")),
        )
    return table


def output_listing(folder: Path) -> list[str]:
    """List a results folder for the terminal: its files, and each subfolder in one line.

    Parameters
    ----------
    folder : Path
        The ``--saida`` folder.

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
