"""``geo-ip registro``: the program registry's exchange with files (import, export, verify, obras).

Mounted by :mod:`geo_ip.cli.app` with ``app.add_typer(registry_app, name="registry")``.
The work is in :mod:`geo_ip.registry.exchange` and :mod:`geo_ip.registry.audit`,
imported inside the commands to keep ``geo-ip --help`` fast. :data:`DbOption` and
:func:`open_db` are shared with ``geo-ip avaliar --db`` and ``geo-ip cadastro --db``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from geo_ip.cli.console import RulesOption, command_group, console, print_warnings, reference_date
from geo_ip.cli.console import fail as _fail
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import load_rules

if TYPE_CHECKING:
    from geo_ip.registry.db import Registry

__all__ = [
    "CycleOption",
    "DbOption",
    "export_cmd",
    "import_cmd",
    "open_db",
    "registry_app",
    "verify_cmd",
    "works_cmd",
]

registry_app = command_group(
    "Registro do programa (banco de dados da Comissão): importar avaliações, exportar "
    "decisões, conferir a trilha de auditoria e registrar obras executadas."
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Registro do programa: URL do banco (padrão: sqlite:///programa.sqlite, um "
        "arquivo na pasta atual; ou postgresql+psycopg://usuario:senha@servidor/banco) ou "
        "caminho de um arquivo SQLite.",
    ),
]
"""``--db`` of the registry commands (None: :data:`geo_ip.registry.db.DEFAULT_URL`)."""
CycleOption = Annotated[
    str | None,
    typer.Option("--ciclo", help="Ciclo do registro (chamamento com seu orçamento; padrão: o "
                 "mais recente)."),
]  # fmt: skip
"""``--ciclo`` of the commands that read a cycle (None: the latest one)."""


def open_db(url: str | None) -> Registry:
    """Open the registry of ``--db`` (created or upgraded), errors in Portuguese.

    Parameters
    ----------
    url : str or None
        SQLAlchemy URL or SQLite file; None: :data:`geo_ip.registry.db.DEFAULT_URL`.

    Returns
    -------
    Registry
        The open registry.

    Raises
    ------
    GeoIPError
        When the database cannot be opened (the password of the URL is never shown).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from geo_ip.registry.db import DEFAULT_URL, open_registry

    target = url or DEFAULT_URL
    try:
        label = make_url(target).render_as_string(hide_password=True) if "://" in target else target
    except ArgumentError as exc:
        raise GeoIPError("URL de banco de dados inválida", field="--db") from exc
    try:
        return open_registry(target)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()
        detail = f" ({reason[0]})" if reason and reason[0] else ""
        raise GeoIPError(
            f"não foi possível abrir o registro {label}{detail}", field="--db"
        ) from exc


@registry_app.command("importar")
def import_cmd(
    pasta: Annotated[
        Path, typer.Argument(help="Pasta de uma avaliação (saída do geo-ip avaliar --saida).")
    ],
    ciclo: Annotated[
        str, typer.Option("--ciclo", help="Ciclo do registro em que a avaliação entra (ex.: 2026).")
    ],
    db: DbOption = None,
    rules: RulesOption = "extrema",
    decisoes: Annotated[
        Path | None,
        typer.Option(
            "--decisoes",
            help="Arquivo de decisões da Comissão usado na avaliação (padrão: o registrado "
            "em proveniencia.json, se ainda estiver no lugar e sem alteração).",
        ),
    ] = None,
) -> None:
    """Importa uma pasta de avaliação existente para o registro (sem dados pessoais).

    As regras informadas precisam ser as da avaliação (mesmo hash); as decisões que a
    avaliação aplicou passam a ser as decisões vigentes do registro.
    """
    from geo_ip.registry.exchange import import_folder
    from geo_ip.registry.store import current_decisions, find_cycle

    try:
        rules_obj = load_rules(rules)
        registry = open_db(db)
        record = import_folder(
            registry,
            pasta,
            cycle=ciclo,
            actor="sistema:geo-ip registro importar",
            rules=rules_obj,
            decisions_file=decisoes,
        )
        with registry.session() as session:
            decisions = len(current_decisions(session, find_cycle(session, ciclo)))
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        f"Avaliação de [bold]{escape(str(pasta))}[/] importada no registro "
        f"{escape(registry.label())}, ciclo {escape(record.cycle)}: avaliação nº "
        f"{record.run_id}, {record.requests} pedido(s) ({record.new_requests} novo(s)); "
        f"{decisions} decisão(ões) vigente(s) da Comissão.",
        highlight=False,
        soft_wrap=True,
    )


@registry_app.command("exportar")
def export_cmd(
    db: DbOption = None,
    ciclo: CycleOption = None,
    out: Annotated[
        Path, typer.Option("--saida", "-o", help="Arquivo CSV de decisões a gravar.")
    ] = Path("decisoes.csv"),
) -> None:
    """Grava as decisões vigentes da Comissão no formato de geo-ip avaliar --decisoes.

    CSV UTF-8 com protocolo, criterio, pontos, motivacao, membro, data, procedimento,
    latitude e longitude; datas AAAA-MM-DD e decimais com ponto.
    """
    from geo_ip.registry.exchange import export_decisions

    try:
        registry = open_db(db)
        written = export_decisions(registry, ciclo, out)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{written} decisão(ões) gravada(s) em [bold]{escape(str(out))}[/] (use com "
        "geo-ip avaliar --decisoes).",
        highlight=False,
        soft_wrap=True,
    )


def _anchor(text: str) -> tuple[int, str]:
    """Parse an anchor ``NÚMERO:HASH`` (``geo-ip registro conferir --ancora``)."""
    number, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if (
        not number.strip().isascii()
        or not number.strip().isdigit()
        or len(digest) != 64
        or (set(digest) - set("0123456789abcdef"))
    ):
        raise GeoIPError(
            f"âncora inválida {text[:80]!r}: use NÚMERO:HASH, como a impressa por "
            "geo-ip registro conferir (64 dígitos hexadecimais)"
        )
    return int(number), digest


@registry_app.command("conferir")
def verify_cmd(
    db: DbOption = None,
    ancora: Annotated[
        list[str] | None,
        typer.Option(
            "--ancora",
            help="Evento anotado fora do banco (NÚMERO:HASH, como impresso por este comando, "
            "em uma ata ou processo): precisa continuar na cadeia. Pode repetir.",
        ),
    ] = None,
) -> None:
    """Confere a trilha de auditoria: detecta eventos alterados, apagados ou inseridos.

    Sai com código 1 e a lista dos problemas quando a cadeia de hashes está quebrada. No
    fim, imprime o número e o hash do último evento: anote-os fora do banco (ata,
    processo administrativo) e confira depois com --ancora, o que revela também eventos
    finais apagados.
    """
    from geo_ip.registry.audit import head, verify

    try:
        anchors = [_anchor(a) for a in ancora or []]
        registry = open_db(db)
        with registry.session() as session:
            result = verify(session, anchors)
            last, digest = head(session)
    except GeoIPError as exc:
        raise _fail(exc) from exc
    if result.ok:
        console.print(
            f"Trilha de auditoria íntegra: {result.events} evento(s) conferido(s) no registro "
            f"{escape(registry.label())}.",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"Âncora para anotar: {last}:{digest}", highlight=False, soft_wrap=True)
        return
    console.print(
        f"[bold red]Trilha de auditoria violada[/] no registro {escape(registry.label())}: "
        f"{len(result.problems)} problema(s) em {result.events} evento(s).",
        highlight=False,
        soft_wrap=True,
    )
    for problem in result.problems:
        console.print(f"  - {escape(problem)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


@registry_app.command("obras")
def works_cmd(
    arquivo: Annotated[
        Path,
        typer.Option(
            "--obras",
            help="Obras executadas (CSV, XLSX, GeoJSON, GeoPackage): protocolo, data_execucao e, "
            "se houver, os pontos as-built (latitude, longitude, tipo_lampada, potencia_w, "
            "poste), como em geo-ip cadastro --obras.",
        ),
    ],
    db: DbOption = None,
    ciclo: CycleOption = None,
    reference: Annotated[
        str | None,
        typer.Option(
            "--data-referencia",
            help="Limite das datas de execução (AAAA-MM-DD; padrão: hoje).",
        ),
    ] = None,
) -> None:
    """Registra as obras executadas; geo-ip cadastro --db as lê do registro.

    Linhas com problema (protocolo fora do ciclo, data inválida ou futura, coordenada
    incompleta) não são registradas e são listadas; obras já registradas não se repetem.
    """
    from geo_ip.registry.exchange import import_works

    try:
        registry = open_db(db)
        result = import_works(
            registry,
            arquivo,
            cycle=ciclo,
            actor="sistema:geo-ip registro obras",
            today=reference_date(reference),
        )
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{result.recorded} obra(s) registrada(s), {result.repeated} já registrada(s), "
        f"{len(result.rejected)} linha(s) recusada(s) — registro {escape(registry.label())}.",
        highlight=False,
        soft_wrap=True,
    )
    print_warnings(result.rejected)


@registry_app.command("envio")
def sent_cmd(
    envio: Annotated[
        int,
        typer.Option("--envio", help="Número do envio (impresso por geo-ip cadastro --db).", min=1),
    ],
    protocolo: Annotated[str, typer.Option("--protocolo", help="Protocolo da distribuidora.")],
    db: DbOption = None,
) -> None:
    """Registra que o pacote do cadastro (medida 060) foi enviado à distribuidora."""
    from geo_ip.registry.models import CadastreSubmission
    from geo_ip.registry.submissions import mark_sent

    try:
        registry = open_db(db)
        with registry.session() as session:
            row = session.get(CadastreSubmission, envio)
            if row is None:
                raise GeoIPError(f"envio nº {envio} não existe no registro")
            mark_sent(session, row, protocolo, actor="sistema:registry")
    except GeoIPError as exc:
        raise _fail(exc) from exc
    console.print(
        f"Envio nº {envio} registrado como enviado à distribuidora (protocolo "
        f"{escape(protocolo.strip())}).",
        highlight=False,
        soft_wrap=True,
    )
