"""``geo-ip avaliar``: evidence, suggested scores, eligibility, ranking and budget.

Registered on the main app by :mod:`geo_ip.cli.app`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from geo_ip._util.parse import format_brl
from geo_ip.cli.console import (
    RulesOption,
    TerritoryOption,
    check_output_dir,
    console,
    counted,
    print_written,
    reference_date,
)
from geo_ip.cli.console import fail as _fail
from geo_ip.cli.console import steps as _steps
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.rules.config import load_rules

if TYPE_CHECKING:
    from geo_ip.pipeline import Assessment
    from geo_ip.registry.db import Registry

_STYLE = {
    "classificado": "green",
    "aguardando_orcamento": "yellow",
    "pendente_localizacao": "orange3",
    "pendente_comprovacao": "dark_orange",
    "estrategico_art11": "cyan",
    "execucao_direta_art12": "bright_cyan",
    "inelegivel": "magenta",
    "erro": "bold red",
}
"""Colour of each situation in the terminal."""
SITUATION_LABELS = {
    "classificado": "classificado",
    "aguardando_orcamento": "aguardando orçamento",
    "pendente_localizacao": "pendente de confirmação do local",
    "pendente_comprovacao": "pendente de comprovação",
    "estrategico_art11": "estratégico (Art. 11)",
    "execucao_direta_art12": "execução direta (Art. 12)",
    "inelegivel": "inelegível",
    "erro": "erro",
}
"""Short Portuguese label of each situation, for the terminal."""


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _money(value: object) -> str:
    number = _number(value)
    if number is None:
        return "-"
    return format_brl(number)


def summary_table(assessment: Assessment, limit: int = 20) -> Table:
    """Show the first rows of the ranking as a rich table (for the terminal).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    limit : int, default 20
        Rows shown.

    Returns
    -------
    rich.table.Table
        Position, protocol, situation, total, cost and municipal share.
    """
    from geo_ip.outputs.files import public_ranking

    ranking = public_ranking(assessment)
    table = Table(title=f"Classificação ({len(ranking)} pedido(s); primeiros {limit})")
    for name, justify, width in (
        ("Pos.", "right", 4),
        ("Protocolo", "left", 13),
        ("Situação", "left", 25),
        ("Total", "right", 5),
        ("Custo", "right", 14),
        ("% Mun.", "right", 6),
    ):
        table.add_column(name, justify=justify, no_wrap=True, min_width=width)  # type: ignore[arg-type]
    for row in ranking.head(limit).to_dict("records"):
        position, total = _number(row["posicao"]), _number(row["pontuacao_total"])
        share = _number(row["percentual_municipio"])
        table.add_row(
            "" if position is None else str(int(position)),
            Text(str(row["protocolo"])),
            Text(_situation(row["situacao"]), style=_STYLE.get(str(row["situacao"]), "")),
            "-" if total is None else f"{total:.1f}".replace(".", ","),
            _money(row["custo_estimado_rs"]),
            "-" if share is None else f"{share:g} %",
        )
    return table


def _situation(code: object) -> str:
    text = str(code)
    return SITUATION_LABELS.get(text, text)


def budget_lines(assessment: Assessment) -> str:
    """Format the budget walk and the pending requests as terminal lines (Portuguese).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (``provenance["orcamento"]``,
        :func:`geo_ip.law.budget.budget_summary`).

    Returns
    -------
    str
        ``"Orçamento: R$ X; reservado para obras dos Arts. 11 e 12: R$ Y (n obra(s));
        saldo para a classificação: R$ Z; selecionados: k, R$ W; saldo final: R$ V"``
        (``sem limite de orçamento`` without a budget), then the number of requests
        pending confirmation of their place (when any) and pending proof of hardship;
        ``""`` when the table has no ranking.
    """
    from geo_ip.outputs.tables import budget_of

    summary = budget_of(assessment)
    if summary is None:
        return ""
    works = int(summary.get("reservas") or 0)
    reserved = (
        f"reservado para obras dos Arts. 11 e 12: {_money(summary.get('reservado_rs'))} "
        f"({works} obra(s))"
    )
    left_out = int(summary.get("reservas_sem_saldo") or 0)
    if left_out:
        reserved += f"; {left_out} obra(s) dos Arts. 11 e 12 sem saldo, não reservada(s)"
    selected = (
        f"selecionados: {int(summary.get('selecionados') or 0)}, "
        f"{_money(summary.get('classificados_rs'))}"
    )
    if summary.get("orcamento_rs") is None:
        parts = ["Orçamento: sem limite de orçamento", reserved, selected]
    else:
        parts = [
            f"Orçamento: {_money(summary.get('orcamento_rs'))}",
            reserved,
            f"saldo para a classificação: {_money(summary.get('saldo_apos_reservas_rs'))}",
            selected,
            f"saldo final: {_money(summary.get('saldo_final_rs'))}",
        ]
    lines = ["; ".join(parts)]
    situation = assessment.table["situacao"].astype(str)
    place = int(situation.eq("pendente_localizacao").sum())
    if place:
        lines.append(
            f"Pendentes de confirmação do local: {place} pedido(s) (localização incerta; "
            "pontuados no pior caso, sem participação do Município até a Comissão confirmar o "
            "local — veja confirmar_no_local)"
        )
    pending = int(situation.eq("pendente_comprovacao").sum())
    lines.append(
        f"Pendentes de comprovação da hipossuficiência: {pending} pedido(s) (pontuados, sem "
        "participação do Município até a comprovação, Art. 4 §2)"
    )
    return "\n".join(lines)


def cip_lines(cip: dict[str, object]) -> str:
    """Format the CIP figures of an assessment as terminal lines (Portuguese).

    Parameters
    ----------
    cip : dict
        :attr:`geo_ip.pipeline.Assessment.cip`.

    Returns
    -------
    str
        Revenue, energy cost today and projected, headroom and budget.
    """
    from geo_ip.outputs.tables import CIP_ROWS

    lines = ["CIP e orçamento:"]
    for key, label in CIP_ROWS.items():  # "(R$)" of the sheet's labels: the value says it
        lines.append(f"  {label.replace(' (R$)', '')}: {_money(cip.get(key))}")
    lines += [f"  [yellow]Aviso:[/] {w}" for w in cip.get("avisos", [])]  # type: ignore[attr-defined]
    return "\n".join(lines)


# The signature is long: its options are the command's documentation (geo-ip avaliar --help);
# the work is in the helpers below it.
def assess_cmd(
    territory: TerritoryOption,
    requests: Annotated[
        Path,
        typer.Option("--pedidos", help="Planilha de pedidos (CSV, XLSX, GeoJSON, GeoPackage)."),
    ],
    out: Annotated[Path, typer.Option("--saida", "-o", help="Pasta de saída da avaliação.")],
    occurrences: Annotated[
        Path | None,
        typer.Option(
            "--ocorrencias",
            help="Ocorrências (acidentes, boletins, reclamações): pontos com data e tipo.",
        ),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisoes",
            help="Decisões da Comissão: protocolo, critério, pontos, motivação (e os atos "
            "sem pontos; 'localizacao' com latitude e longitude confirma o local).",
        ),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--historico", help="Benefícios anteriores (Art. 5, II): protocolo, data, CPF."
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option("--orcamento", help="Orçamento disponível para a parte do Município (R$)."),
    ] = None,
    cnefe: Annotated[
        Path | None, typer.Option("--cnefe", help="Endereços do CNEFE 2022 do IBGE (CSV ';').")
    ] = None,
    dem: Annotated[
        Path | None,
        typer.Option("--relevo", help="Modelo de elevação (padrão: o registrado no território)."),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--chave",
            help="Arquivo da chave LGPD dos códigos de CPF (padrão: GEO_IP_CHAVE_LGPD ou "
            "uma chave nova guardada na pasta de saída).",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            "--data-referencia",
            help="Data da análise (AAAA-MM-DD): datas futuras, período das ocorrências e os 5 "
            "anos do Art. 5, II contam a partir dela (padrão: hoje). Reproduz uma avaliação "
            "anterior.",
        ),
    ] = None,
    cip_rules: Annotated[
        str | None,
        typer.Option(
            "--cip-regras",
            help="Regras da CIP do município (nome em data/cip ou TOML): mostra a "
            "arrecadação, o custo da energia da iluminação e a folga ao lado do orçamento.",
        ),
    ] = None,
    cip_consumers: Annotated[
        Path | None,
        typer.Option(
            "--cip-consumidores",
            help="Unidades consumidoras para a CIP: CSV/XLSX ou a BDGD (tabela UCBT_tab).",
        ),
    ] = None,
    cip_tariffs: Annotated[
        str | None,
        typer.Option("--cip-tarifas", help="Tarifas por classe para a CIP (TOML)."),
    ] = None,
    no_maps: Annotated[
        bool, typer.Option("--sem-mapas", help="Não grava os mapas (mapa.html e mapas/).")
    ] = False,
    no_sheets: Annotated[
        bool, typer.Option("--sem-fichas", help="Não grava as fichas técnicas (fichas/).")
    ] = False,
    rules: RulesOption = "extrema",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Registro do programa (URL do banco: sqlite:///programa.sqlite ou "
            "postgresql+psycopg://usuario:senha@servidor/banco): grava a avaliação nele; "
            "sem --decisoes, a avaliação usa as decisões vigentes do registro.",
        ),
    ] = None,
    cycle: Annotated[
        str | None,
        typer.Option(
            "--ciclo",
            help="Ciclo do registro (com --db; padrão: o mais recente, ou o ano da data de "
            "referência no registro vazio).",
        ),
    ] = None,
) -> None:
    """Avalia os pedidos pelos cinco critérios do Art. 9 e monta a classificação.

    Grava em --saida: ranking.csv (lista pública), ranking.xlsx (planilha interna da
    Comissão), avaliacao.gpkg e avaliacao.qgz (QGIS), mapa.html e mapas/ (mapas web),
    fichas/ (ficha técnica de cada pedido, Art. 10), evidencias.json e proveniencia.json.
    Com --db, grava também a avaliação no registro do programa.
    """
    import tempfile

    from geo_ip._util.atomic import repair_output_dir
    from geo_ip.outputs.files import write_outputs
    from geo_ip.pipeline import assess

    try:
        today = reference_date(reference)
        rules_obj = load_rules(rules)
        check_output_dir(out)  # before any work; creates nothing
        registry = _registry_of(db)
        repair_output_dir(out)  # a key a killed run left swapped out is put back first
        secret, new_key_at = _lgpd_key(key, out)
        with tempfile.TemporaryDirectory(prefix="geo_ip_decisoes_") as scratch:
            if registry is not None:
                cycle = _cycle_name(registry, cycle, today)
                if decisions is None:
                    decisions = _registry_decisions(registry, cycle, Path(scratch))
            with _steps(6) as step:
                result = assess(
                    territory,
                    requests,
                    rules_obj,
                    occurrences=occurrences,
                    decisions=decisions,
                    history=history,
                    budget=budget,
                    cnefe=cnefe,
                    dem=dem,
                    key=secret,
                    today=today,
                    progress=step,
                )
            _program_cip(result, cip_rules, cip_consumers, cip_tariffs)
            if new_key_at is not None:  # the run went well: keep its new key
                _keep_new_key(secret, new_key_at)
            with counted() as report:  # maps and sheets: the slow part, one bar each
                files = write_outputs(
                    result, out, maps=not no_maps, sheets=not no_sheets, progress=report
                )
            recorded = None
            if registry is not None and cycle is not None:
                from geo_ip.registry.exchange import record_assessment

                recorded = record_assessment(
                    registry, result, cycle=cycle, actor="sistema:geo-ip avaliar"
                )
    except GeoIPError as exc:
        raise _fail(exc) from exc
    _print_assessment(result)
    print_written(files, out)
    if registry is not None and recorded is not None:
        console.print(
            f"Avaliação gravada no registro {escape(registry.label())}, ciclo "
            f"{escape(recorded.cycle)}: avaliação nº {recorded.run_id}, {recorded.requests} "
            f"pedido(s) ({recorded.new_requests} novo(s)).",
            highlight=False,
            soft_wrap=True,
        )


def _lgpd_key(key: Path | None, out: Path) -> tuple[bytes, Path | None]:
    """Return the LGPD key of the run and, for a new key, the file to keep it in.

    The key comes from ``GEO_IP_CHAVE_LGPD``, ``--chave`` or ``<saida>/.chave_lgpd``
    (:func:`geo_ip.requests.cpf.load_key`). Without any of them a new key is made in
    memory only: it is written (:func:`_keep_new_key`) once the requests are assessed,
    so that a failed run leaves neither a new folder nor a new key behind.
    """
    import os
    import secrets

    from geo_ip.requests.cpf import KEY_ENV, KEY_FILE_NAME, load_key

    target = out / KEY_FILE_NAME
    if key is not None or os.environ.get(KEY_ENV) or target.is_file():
        return load_key(key, create_at=target), None
    return secrets.token_hex(32).encode("ascii"), target


def _keep_new_key(secret: bytes, target: Path) -> None:
    """Write a new LGPD key (readable by its owner only) and say that it must be kept."""
    import logging
    import os

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret.decode("ascii") + "\n")
    except OSError as exc:
        raise InputFileError(
            f"não foi possível gravar a chave LGPD ({exc.strerror or exc})", path=target
        ) from exc
    logging.getLogger("geo_ip.requests.cpf").warning(
        "chave LGPD nova gerada em '%s': guarde-a com os registros do programa (sem ela os "
        "benefícios anteriores não são reconhecidos nas próximas análises) e não a publique",
        target,
    )


def _registry_of(db: str | None) -> Registry | None:
    """Open the registry of ``--db`` (None without it)."""
    if db is None:
        return None
    from geo_ip.cli.registry import open_db

    return open_db(db)


def _cycle_name(registry: Registry, given: str | None, today: date | None) -> str:
    """Return the cycle of ``--ciclo``, else the registry's latest, else the reference year."""
    if given:
        return given
    from geo_ip.registry.store import RegistryError, find_cycle

    with registry.session() as session:
        try:
            return find_cycle(session).nome
        except RegistryError:
            return str((today or date.today()).year)


def _registry_decisions(registry: Registry, cycle: str, folder: Path) -> Path | None:
    """Export the cycle's current decisions for the run (None when it has none)."""
    from geo_ip.registry.exchange import export_decisions
    from geo_ip.registry.store import RegistryError

    path = folder / "decisoes_do_registro.csv"
    try:
        written = export_decisions(registry, cycle, path)
    except RegistryError:  # a new cycle: no decisions yet
        return None
    return path if written else None


def _program_cip(
    result: Assessment, rules: str | None, consumers: Path | None, tariffs: str | None
) -> None:
    """Put the CIP figures (``--cip-regras`` and ``--cip-consumidores``) in ``result.cip``."""
    if (rules is None) != (consumers is None):
        raise GeoIPError("informe --cip-regras e --cip-consumidores juntos", field="--cip-regras")
    if rules is not None and consumers is not None:
        from geo_ip.cip.budget import program_cip

        result.cip = program_cip(result, rules, consumers, tariffs)


def _print_assessment(result: Assessment) -> None:
    """Print the ranking, the situations, the budget, the unused rows and the CIP."""
    console.print(summary_table(result))
    counts = result.table["situacao"].value_counts()
    console.print(
        "Situação: " + ", ".join(f"{_situation(k)}: {int(v)}" for k, v in counts.items()),
        highlight=False,
        soft_wrap=True,
    )
    budget_text = budget_lines(result)
    if budget_text:
        console.print(escape(budget_text), highlight=False, soft_wrap=True)
    for label, frame in (
        ("decisões", result.rejected_decisions),
        ("histórico", result.rejected_history),
    ):
        if len(frame):
            console.print(
                f"[yellow]Aviso:[/] {len(frame)} linha(s) do arquivo de {label} não usada(s) "
                "(motivos na aba 'Não aproveitado' de ranking.xlsx)",
                highlight=False,
            )
    if result.cip:
        console.print(cip_lines(result.cip), highlight=False, soft_wrap=True)
