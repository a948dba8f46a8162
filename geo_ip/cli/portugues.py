"""The framework's own words in Brazilian Portuguese, and the old names as aliases.

Typer (and the Click it builds on) writes its help and its usage errors in English:
``Usage:``, ``Options``, ``Show this message and exit.``, ``No such option``, ``Invalid
value for ...: Input should be a valid number`` and type labels such as ``<bool>`` or
``<path>``. This module replaces them at the boundary, without touching the library:

* :func:`use_portuguese_texts` sets the titles Typer's rich help reads from
  :mod:`typer.rich_utils` (panels, ``[padrão: ...]``, the "try --help" line);
* :class:`PortugueseCommand` and :class:`PortugueseGroup` write the usage line
  (``Uso: geo-ip avaliar [OPÇÕES]``), the help option, the type labels, and rephrase
  every usage error raised while reading the command line (:func:`portuguese_error`);
* they also accept the option names (:data:`RENAMED`) and the command names
  (:data:`RENAMED_COMMANDS`: ``assess`` is now ``avaliar``) of earlier releases, hidden
  from the help, with a one-line note on standard error.

:class:`PortugueseTyper` is the :class:`typer.Typer` whose commands and groups use those
classes; every ``geo-ip`` command is registered on one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import typer
import typer.rich_utils as rich_utils
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

try:  # Typer >= 0.29 carries its own copy of Click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer on top of Click
    from click import exceptions as click_errors  # type: ignore[no-redef]

__all__ = [
    "HELP_TEXT",
    "OPTIONS_METAVAR",
    "RENAMED",
    "RENAMED_COMMANDS",
    "SUBCOMMAND_METAVAR",
    "PortugueseCommand",
    "PortugueseGroup",
    "PortugueseTyper",
    "portuguese_error",
    "use_portuguese_texts",
]

OPTIONS_METAVAR = "[OPÇÕES]"
"""What stands for the options in a usage line."""
SUBCOMMAND_METAVAR = "COMANDO [ARGUMENTOS]..."
"""What stands for the subcommand in a group's usage line."""
HELP_TEXT = "Mostra esta ajuda e sai."
"""Help of ``--help``."""
USAGE_PREFIX = "Uso: "
"""First word of a usage line."""

RENAMED: dict[str, str] = {
    "--verbose": "--detalhado",
    "--quiet": "--silencioso",
    "--version": "--versao",
    "--out": "--saida",
    "--territory": "--territorio",
    "--place": "--lugar",
    "--grid": "--rede",
    "--grid-tipo": "--rede-tipo",
    "--grid-coluna-tipo": "--rede-coluna-tipo",
    "--grid-crs": "--rede-crs",
    "--dem": "--relevo",
    "--rules": "--regras",
    "--requests": "--pedidos",
    "--input": "--pedidos",
    "--occurrences": "--ocorrencias",
    "--decisions": "--decisoes",
    "--history": "--historico",
    "--budget": "--orcamento",
    "--rules-cip": "--cip-regras",
    "--consumers": "--cip-consumidores",
    "--tarifas": "--cip-tarifas",
    "--municipio-ibge": "--ibge",
    "--assessment": "--avaliacao",
    "--executed": "--obras",
    "--removed": "--removidos",
    "--inventory": "--inventario",
    "--arquivo": "--obras",
    "--host": "--endereco",
}
"""Option names of earlier releases and their Portuguese names (old → new).

An old name still works, for one release, wherever its new name exists: it is left out
of the help, and using it prints a one-line note on standard error.
"""

_TYPE_LABELS = {
    "path": "caminho",
    "file": "arquivo",
    "directory": "pasta",
    "str": "texto",
    "float": "número",
    "int": "inteiro",
    "int range": "inteiro",
    "float range": "número",
    "bool": "sim/não",
    "list[Path]": "caminho",
    "list[str]": "texto",
}
"""Type labels of the help (``<path>``) in Portuguese (``<caminho>``)."""

_note_console = Console(stderr=True)


def use_portuguese_texts() -> None:
    """Set the texts Typer's rich help and error panels take from :mod:`typer.rich_utils`.

    Idempotent; called by :class:`PortugueseTyper` (so by every ``geo-ip`` app).
    """
    rich_utils.OPTIONS_PANEL_TITLE = "Opções"
    rich_utils.ARGUMENTS_PANEL_TITLE = "Argumentos"
    rich_utils.COMMANDS_PANEL_TITLE = "Comandos"
    rich_utils.ERRORS_PANEL_TITLE = "Erro"
    rich_utils.ABORTED_TEXT = "Interrompido."
    rich_utils.RICH_HELP = "Veja [blue]'{command_path} {help_option}'[/] para ajuda."
    rich_utils.DEFAULT_STRING = "[padrão: {}]"
    rich_utils.ENVVAR_STRING = "[variável de ambiente: {}]"
    rich_utils.REQUIRED_LONG_STRING = "[obrigatório]"
    rich_utils.DEPRECATED_STRING = "(obsoleto) "


def _type_label(param: Any, display: Callable[..., Any]) -> Callable[..., str | None]:
    """Return ``param``'s type label for the help, in Portuguese (none for a flag)."""

    def label(ctx: Any) -> str | None:
        if getattr(param, "is_flag", False):
            return ""
        text = display(ctx=ctx)
        if not isinstance(text, str):
            return text
        match = re.fullmatch(r"<(.+?)>(\.\.\.)?", text)
        if match is None:
            return text
        name = _TYPE_LABELS.get(match.group(1), match.group(1))
        return f"<{name}>{match.group(2) or ''}"

    return label


def _option_names(command: Any) -> set[str]:
    """Every long and short name of ``command``'s options (``--help`` left out)."""
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, TyperOption):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def _rewrite(args: list[str], names: set[str], stop: Iterable[str] = ()) -> list[str]:
    """Replace old option names in ``args`` by their new ones (``names``: the command's).

    Stops at ``--`` and at the first token in ``stop`` (a group's subcommand). Prints a
    one-line note on standard error for each old name used.
    """
    stop_at = set(stop)
    out: list[str] = []
    done = False
    for token in args:
        if done or token == "--" or token in stop_at:
            done = True
            out.append(token)
            continue
        name, equals, value = token.partition("=")
        new = RENAMED.get(name)
        if new is None or new not in names or name in names:
            out.append(token)
            continue
        _note_console.print(
            f"Nota: a opção {name} agora se chama {new}; o nome antigo deixa de valer na "
            "próxima versão.",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        out.append(f"{new}{equals}{value}")
    return out


RENAMED_COMMANDS: dict[str, dict[str, str]] = {
    "geo-ip": {
        "territory": "territorio",
        "geocode": "geocodificar",
        "assess": "avaliar",
        "serve": "servir",
        "requests": "pedidos",
        "cadastre": "cadastro",
        "rules": "regras",
        "registry": "registro",
        "users": "usuarios",
    },
    "pedidos": {"check": "conferir"},
    "cadastro": {"audit": "auditar"},
    "regras": {"init": "criar"},
    "registro": {"import": "importar", "export": "exportar", "verify": "conferir"},
    "usuarios": {"add": "adicionar"},
}
"""Per group (by today's name), command names of earlier releases → today's (accepted,
hidden from the help)."""


def _renamed_command(group: Any, name: str) -> str | None:
    """Today's name of ``group``'s command called ``name`` in an earlier release."""
    new = RENAMED_COMMANDS.get(group.name, {}).get(name)
    if new is None or name in group.commands or new not in group.commands:
        return None
    _note_console.print(
        f"Nota: o comando {name} agora se chama {new}; o nome antigo deixa de valer na "
        "próxima versão.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return new


_NUMBER_TYPES = {
    "float_parsing": "não é um número",
    "float_type": "não é um número",
    "int_parsing": "não é um número inteiro",
    "int_type": "não é um número inteiro",
    "int_from_float": "não é um número inteiro",
    "bool_parsing": "não é sim ou não",
    "bool_type": "não é sim ou não",
    "finite_number": "não é um número finito",
}
_LIMITS = {
    "greater_than_equal": ("ge", "precisa ser no mínimo {}"),
    "greater_than": ("gt", "precisa ser maior que {}"),
    "less_than_equal": ("le", "precisa ser no máximo {}"),
    "less_than": ("lt", "precisa ser menor que {}"),
}


def _reason(exc: BaseException) -> str:
    """Say in Portuguese why a value was refused (from the pydantic error behind it)."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
        except (IndexError, TypeError, ValueError):
            first = None
        if isinstance(first, dict):
            kind = str(first.get("type", ""))
            shown = repr(first.get("input"))
            if kind in _NUMBER_TYPES:
                return f"{shown} {_NUMBER_TYPES[kind]}."
            if kind in _LIMITS:
                key, text = _LIMITS[kind]
                limit = (first.get("ctx") or {}).get(key)
                return f"{shown} {text.format(limit)}."
            if kind.startswith(("string", "path", "str")):
                return f"{shown} não é um texto ou caminho aceito."
            return f"{shown} não é aceito."
    message = str(getattr(exc, "message", "") or "")
    match = re.fullmatch(r"(.+?) is not one of (.+)\.", message)
    if match:
        return f"{match.group(1)} não é uma das opções: {match.group(2)}."
    match = re.fullmatch(r"(.+?) does not match the formats? (.+)\.", message)
    if match:
        return f"{match.group(1)} não está no formato {match.group(2)}."
    return "valor não aceito."


def _hint(exc: Any) -> str:
    """Name the parameter an error is about, as ``'--saida' / '-o'`` or ``PEDIDOS``."""
    param = getattr(exc, "param", None)
    if isinstance(param, TyperArgument):
        return (param.name or "").upper()
    if param is not None:
        return " / ".join(f"'{name}'" for name in param.opts)
    hint = getattr(exc, "param_hint", None)
    if isinstance(hint, str):
        return hint
    if hint:
        return " / ".join(f"'{name}'" for name in hint)
    return ""


_FIXED = (
    (
        re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", re.S),
        "Argumento(s) a mais, não esperado(s): {0}.",
    ),
    (re.compile(r"Missing command\.?"), "Falta o comando."),
    (
        re.compile(r"No such command '(.*?)'\.(?: Did you mean (.*)\?)?", re.S),
        "Comando desconhecido: '{0}'.",
    ),
    (re.compile(r"Option '(.*?)' requires an argument\.?"), "A opção {0} precisa de um valor."),
    (
        re.compile(r"Option '(.*?)' requires (\d+) arguments\.?"),
        "A opção {0} precisa de {1} valores.",
    ),
    (re.compile(r"Option '(.*?)' does not take a value\.?"), "A opção {0} não aceita valor."),
    (
        re.compile(r"Argument '(.*?)' takes (\d+) values\.?"),
        "O argumento {0} precisa de {1} valores.",
    ),
    (re.compile(r"Value must be an iterable\.?"), "Valor não aceito."),
)


def portuguese_error(exc: Exception) -> str | None:
    """Rephrase a usage error of Typer/Click in Portuguese.

    Parameters
    ----------
    exc : Exception
        A usage error (``UsageError`` and its subclasses) raised while reading the
        command line.

    Returns
    -------
    str or None
        The message in Portuguese; None for an error that is not a usage error or that
        needs no rephrasing (the help printed when no argument is given, a message
        already in Portuguese).
    """
    if not isinstance(exc, click_errors.UsageError):
        return None
    if isinstance(exc, click_errors.NoArgsIsHelpError):
        return None
    if isinstance(exc, click_errors.NoSuchOption):
        text = f"Opção desconhecida: {exc.option_name}."
        if exc.possibilities:
            text += f" Você quis dizer {', '.join(sorted(exc.possibilities))}?"
        return text
    if isinstance(exc, click_errors.MissingParameter):
        param = getattr(exc, "param", None)
        if isinstance(param, TyperArgument):
            return f"Falta o argumento obrigatório {_hint(exc)}."
        return f"Falta a opção obrigatória {_hint(exc)}."
    if isinstance(exc, click_errors.BadParameter):
        hint = _hint(exc)
        where = f" para {hint}" if hint else ""
        return f"Valor inválido{where}: {_reason(exc)}"
    message = str(exc.message)
    for pattern, text in _FIXED:
        match = pattern.fullmatch(message)
        if match is None:
            continue
        result = text.format(*match.groups())
        if pattern.pattern.startswith("No such command") and match.group(2):
            result += f" Você quis dizer {match.group(2)}?"
        return result
    return None


def _translated(exc: Exception) -> Exception:
    """Return a usage error with the Portuguese message (``exc`` itself when none)."""
    text = portuguese_error(exc)
    if text is None:
        return exc
    return click_errors.UsageError(text, ctx=getattr(exc, "ctx", None))


class _Portuguese:
    """What :class:`PortugueseCommand` and :class:`PortugueseGroup` share.

    Placed before Typer's class in their bases: its methods wrap Typer's (``super()``).
    """

    params: list[Any]
    options_metavar: str | None

    def _portuguese_setup(self) -> None:
        """Portuguese usage placeholders and type labels for every parameter."""
        if self.options_metavar:
            self.options_metavar = OPTIONS_METAVAR
        for param in self.params:
            # an instance attribute: the library's method stays as it is for other apps
            param.display_type_rich = _type_label(param, param.display_type_rich)

    def _usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.params:
            if isinstance(param, TyperArgument) and not param.hidden:
                name = (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces

    def _portuguese_help(self, option: Any) -> Any:
        if option is not None:
            option.help = HELP_TEXT
            option.display_type_rich = lambda ctx: ""
        return option

    def _rewrite_stop(self) -> Iterable[str]:
        """Where the rewriting of old option names stops (a group: its subcommands)."""
        return ()

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """Return the usage line's pieces: ``[OPÇÕES]`` and the arguments in capitals."""
        return self._usage_pieces(ctx)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        """Write the usage line as ``Uso: geo-ip comando [OPÇÕES] ...``."""
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: Any) -> Any:
        """Return ``--help`` with its help in Portuguese."""
        return self._portuguese_help(super().get_help_option(ctx))  # type: ignore[misc]

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """Read the command line (old option names accepted); usage errors in Portuguese."""
        args = _rewrite(list(args), _option_names(self), stop=self._rewrite_stop())
        with _in_portuguese():
            return super().make_context(  # type: ignore[misc]
                info_name, args, parent=parent, **extra
            )


@contextlib.contextmanager
def _in_portuguese() -> Iterator[None]:
    """Raise a usage error of the block again in Portuguese (:func:`_translated`)."""
    try:
        yield
    except click_errors.UsageError as exc:
        new = _translated(exc)
        if new is exc:
            raise
        raise new from exc


class PortugueseCommand(_Portuguese, TyperCommand):
    """A ``geo-ip`` command: help, usage and errors in Portuguese, old option names kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._portuguese_setup()


class PortugueseGroup(_Portuguese, TyperGroup):
    """A ``geo-ip`` group of commands: help, usage and errors in Portuguese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcommand_metavar = SUBCOMMAND_METAVAR
        self._portuguese_setup()

    def _rewrite_stop(self) -> Iterable[str]:
        return [*self.commands, *RENAMED_COMMANDS.get(self.name or "", {})]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Find the subcommand; its usage line shows today's name even for an old one."""
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command is not None else name), command, rest

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Return the subcommand ``cmd_name``; an earlier release's name is accepted."""
        command = super().get_command(ctx, cmd_name)
        if command is None:
            new = _renamed_command(self, cmd_name)
            if new is not None:
                command = super().get_command(ctx, new)
        return command

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """Return the usage line's pieces: ``[OPÇÕES]`` and ``COMANDO [ARGUMENTOS]...``."""
        return [*self._usage_pieces(ctx), self.subcommand_metavar]

    def invoke(self, ctx: Any) -> Any:
        """Run the subcommand; a missing or unknown subcommand is reported in Portuguese."""
        with _in_portuguese():
            return super().invoke(ctx)


class PortugueseTyper(typer.Typer):
    """A :class:`typer.Typer` whose group and commands speak Portuguese."""

    def __init__(self, **kwargs: Any) -> None:
        use_portuguese_texts()
        kwargs.setdefault("cls", PortugueseGroup)
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Register a command (a :class:`PortugueseCommand` unless ``cls`` says otherwise)."""
        kwargs.setdefault("cls", PortugueseCommand)
        return super().command(*args, **kwargs)

    def callback(self, *args: Any, **kwargs: Any) -> Any:
        """Register the group's callback (the group a :class:`PortugueseGroup`)."""
        kwargs.setdefault("cls", PortugueseGroup)
        return super().callback(*args, **kwargs)
