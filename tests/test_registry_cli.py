"""``geo-ip registro``, ``assess --db``, ``cadastre --db`` and the demo registry (issue 20).

Every command runs in-process through typer's runner against a real database: a SQLite
file and PostgreSQL/PostGIS (the ``registry_url`` fixture).
"""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.pipeline import Assessment
from geo_ip.registry import exchange, live, store
from geo_ip.registry.db import DEFAULT_URL, Registry, open_registry
from geo_ip.registry.models import (
    CadastreSubmission,
    Decision,
    Event,
    Request,
    Run,
    User,
    Work,
)
from geo_ip.requests.decision_file import read_decisions
from geo_ip.rules.config import load_rules
from tests.conftest import DEMO, DEMO_KEY, DEMO_TODAY

runner = CliRunner()


def _flat(output: str) -> str:
    return " ".join(output.split())


def _invoke(*args: str) -> Any:
    return runner.invoke(app, ["-q", *args])


def _imported(url: str, folder: Path) -> Any:
    return _invoke("registro", "importar", str(folder), "--db", url, "--ciclo", "demo",
                   "--regras", "demo")  # fmt: skip


def _hand_edit_event(registry: Registry, seq: int) -> None:
    """What someone with the database owner's rights can do: go around the trigger."""
    if registry.dialect == "sqlite":
        database = registry.engine.url.database
        assert database
        with sqlite3.connect(database) as conn:
            conn.execute("DROP TRIGGER eventos_somente_inclusao_UPDATE")
            conn.execute("UPDATE eventos SET usuario = 'intruso' WHERE seq = ?", (seq,))
        conn.close()
        return
    with registry.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER eventos_somente_inclusao ON eventos"))
        conn.execute(text("UPDATE eventos SET usuario = 'intruso' WHERE seq = :s"), {"s": seq})


# --------------------------------------------------------------------------- import, verify


def test_import_then_verify_then_a_hand_edit_is_caught(
    registry_url: str, demo_outputs: list[Path]
) -> None:
    result = _imported(registry_url, demo_outputs[0].parent)
    assert result.exit_code == 0, result.output
    assert "41 pedido(s) (41 novo(s)); 7 decisão(ões) vigente(s) da Comissão" in _flat(
        result.output
    )
    verified = _invoke("registro", "conferir", "--db", registry_url)
    assert verified.exit_code == 0, verified.output
    # rules, cycle, run and the 7 decisions
    assert "Trilha de auditoria íntegra: 10 evento(s) conferido(s)" in _flat(verified.output)
    _hand_edit_event(open_registry(registry_url), 3)
    broken = _invoke("registro", "conferir", "--db", registry_url)
    assert broken.exit_code == 1
    flat = _flat(broken.output)
    assert "Trilha de auditoria violada" in flat and "1 problema(s) em 10 evento(s)" in flat
    assert "evento nº 3 (avaliacao_registrada, avaliacao 1" in flat
    assert "conteúdo alterado depois de gravado" in flat


def test_an_anchor_catches_the_last_events_deleted_with_the_head_rewound(
    registry_url: str, demo_outputs: list[Path]
) -> None:
    assert _imported(registry_url, demo_outputs[0].parent).exit_code == 0
    verified = _invoke("registro", "conferir", "--db", registry_url)
    anchor = re.search(r"Âncora para anotar: (10:[0-9a-f]{64})", _flat(verified.output))
    assert anchor is not None, verified.output
    registry = open_registry(registry_url)
    with registry.session() as session:
        ninth = session.scalar(select(Event.hash).where(Event.seq == 9))
    # a DBA deletes the last event and rewinds the head: the chain alone looks intact
    with registry.engine.begin() as con:
        if registry.dialect == "sqlite":
            con.execute(text("DROP TRIGGER eventos_somente_inclusao_DELETE"))
        else:
            con.execute(text("ALTER TABLE eventos DISABLE TRIGGER eventos_somente_inclusao"))
        con.execute(text("DELETE FROM eventos WHERE seq = 10"))
        con.execute(
            text("UPDATE cadeia SET eventos = 9, ultimo_hash = :h WHERE id = 1"), {"h": ninth}
        )
    alone = _invoke("registro", "conferir", "--db", registry_url)
    assert alone.exit_code == 0
    anchored = _invoke("registro", "conferir", "--db", registry_url, "--ancora", anchor.group(1))
    assert anchored.exit_code == 1
    assert "evento nº 10, anotado fora do banco (âncora), não está na cadeia" in _flat(
        anchored.output
    )
    bad = _invoke("registro", "conferir", "--db", registry_url, "--ancora", "10:xyz")
    assert bad.exit_code != 0 and "âncora inválida" in _flat(bad.output)
    # the head itself deleted
    with registry.engine.begin() as con:
        con.execute(text("DELETE FROM cadeia"))
    headless = _invoke("registro", "conferir", "--db", registry_url)
    assert headless.exit_code == 1 and "cabeça da cadeia" in _flat(headless.output)


def test_import_refusals_exit_with_the_file_named(
    registry_url: str, demo_outputs: list[Path], tmp_path: Path
) -> None:
    empty = tmp_path / "vazia"
    empty.mkdir()
    result = _invoke("registro", "importar", str(empty), "--db", registry_url, "--ciclo", "x",
                     "--regras", "demo")  # fmt: skip
    assert result.exit_code == 3
    assert f"arquivo '{empty / 'ranking.csv'}'" in _flat(result.output)
    other = _invoke("registro", "importar", str(demo_outputs[0].parent), "--db", registry_url,
                    "--ciclo", "x", "--regras", "extrema")  # fmt: skip
    assert other.exit_code == 2
    assert "proveniencia.json" in other.output and "outras regras" in _flat(other.output)


def test_export_writes_the_current_decisions(
    registry_url: str, demo_outputs: list[Path], tmp_path: Path
) -> None:
    assert _imported(registry_url, demo_outputs[0].parent).exit_code == 0
    out = tmp_path / "decisoes.csv"
    result = _invoke("registro", "exportar", "--db", registry_url, "--saida", str(out))
    assert result.exit_code == 0, result.output
    assert "7 decisão(ões) gravada(s)" in _flat(result.output)
    registry = open_registry(registry_url)
    with registry.session() as session:
        current = store.current_decisions(session, store.find_cycle(session, "demo"))
        protocols = set(session.scalars(select(Request.protocolo)))
    back, rejected = read_decisions(out, load_rules("demo"), protocols, today=DEMO_TODAY)
    assert rejected.empty
    columns = ["protocolo", "criterio", "pontos", "motivacao", "membro", "data",
               "procedimento", "latitude", "longitude"]  # fmt: skip
    assert back[columns].fillna(-1).values.tolist() == current[columns].fillna(-1).values.tolist()
    unknown = _invoke("registro", "exportar", "--db", registry_url, "--ciclo", "1999",
                      "--saida", str(tmp_path / "x.csv"))  # fmt: skip
    assert unknown.exit_code == 1 and "ciclo '1999' não existe no registro" in unknown.output


def test_default_db_is_programa_sqlite_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEFAULT_URL == "sqlite:///programa.sqlite"
    monkeypatch.chdir(tmp_path)
    result = _invoke("registro", "conferir")
    assert result.exit_code == 0, result.output
    assert "0 evento(s) conferido(s) no registro sqlite:///programa.sqlite" in _flat(result.output)
    assert (tmp_path / "programa.sqlite").is_file()
    open_registry(DEFAULT_URL).dispose()


def test_bad_db_url_is_a_portuguese_error() -> None:
    result = _invoke("registro", "conferir", "--db", "mysql://u:segredo@localhost/x")
    assert result.exit_code == 3
    assert "banco de dados não suportado" in result.output and "segredo" not in result.output


# --------------------------------------------------------------------------- assess --db


def _assess(url: str, territory: Path, out: Path, key: Path, *extra: str) -> Any:
    return _invoke(
        "avaliar", "--territorio", str(territory), "--pedidos", str(DEMO / "pedidos.csv"),
        "--saida", str(out), "--ocorrencias", str(DEMO / "ocorrencias.csv"),
        "--historico", str(DEMO / "beneficios_anteriores.csv"), "--orcamento", "300000",
        "--regras", "demo", "--data-referencia", DEMO_TODAY.isoformat(), "--chave", str(key),
        "--sem-mapas", "--sem-fichas", "--db", url, *extra,
    )  # fmt: skip


def test_assess_db_twice_reuses_requests_and_the_registry_decisions(
    registry_url: str, demo_territory: Path, tmp_path: Path
) -> None:
    key = tmp_path / "chave"
    key.write_text(DEMO_KEY.decode() + "\n", encoding="utf-8")
    first = _assess(registry_url, demo_territory, tmp_path / "a1", key,
                    "--decisoes", str(DEMO / "decisoes.csv"))  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "ciclo 2026: avaliação nº 1, 41 pedido(s) (41 novo(s))" in _flat(first.output)
    registry = open_registry(registry_url)
    rules = load_rules("demo")
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == "PED-2026-0116"))
        assert request is not None
        store.add_decision(
            session, request,
            store.DecisionInput("beneficiarios", 40.0, "Vistoria: 60 casas", "Ana Souza",
                                DEMO_TODAY),
            rules, actor="ana", expected_version=request.versao,
        )  # fmt: skip
    # no --decisoes: the run takes the registry's 8 current decisions
    second = _assess(registry_url, demo_territory, tmp_path / "a2", key)
    assert second.exit_code == 0, second.output
    assert "ciclo 2026: avaliação nº 2, 41 pedido(s) (0 novo(s))" in _flat(second.output)
    ranking = pd.read_csv(tmp_path / "a2" / "ranking.csv").set_index("protocolo")
    assert (
        ranking.loc["PED-2026-0116", "posicao"],
        ranking.loc["PED-2026-0116", "pontuacao_total"],
    ) == (5, 60.0)
    provenance = json.loads((tmp_path / "a2" / "proveniencia.json").read_text(encoding="utf-8"))
    used = [e["arquivo"] for e in provenance["entradas"] if e["tipo"] == "decisoes"]
    assert len(used) == 1 and used[0].endswith("decisoes_do_registro.csv")
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 2
        assert session.scalar(select(func.count()).select_from(Request)) == 41
        # nothing decided twice: the registry's own decisions came back unchanged
        assert session.scalar(select(func.count()).select_from(Decision)) == 8
        cycle = store.find_cycle(session)
        assert cycle.nome == "2026" and cycle.orcamento_rs == 300000.0
        latest = store.latest_run(session, cycle)
        assert latest is not None and latest.id == 2
        table = live.live_ranking(session, cycle, rules=rules, key=DEMO_KEY).table
    live_rows = table.set_index("protocolo")
    ranked = ranking["posicao"].notna()
    assert ranking.loc[ranked, "posicao"].astype(int).to_dict() == (
        live_rows.loc[live_rows["posicao"].notna(), "posicao"].astype(int).to_dict()
    )


# --------------------------------------------------------------------------- works, cadastre


def test_works_from_the_registry_make_the_same_cadastre(
    registry_url: str, demo_assessment: Assessment, demo_outputs: list[Path], tmp_path: Path
) -> None:
    registry = open_registry(registry_url)
    exchange.record_assessment(registry, demo_assessment, cycle="2026", actor="sistema:teste")
    works = _invoke(
        "registro", "obras", "--db", registry_url, "--obras", str(DEMO / "obras_executadas.csv"),
        "--data-referencia", "2026-12-01",
    )  # fmt: skip
    assert works.exit_code == 0, works.output
    flat = _flat(works.output)
    assert "6 obra(s) registrada(s), 1 já registrada(s), 6 linha(s) recusada(s)" in flat
    assert "protocolo 'PED-2026-9999' não consta do ciclo '2026'" in flat
    folder = str(demo_outputs[0].parent)
    common = ["--avaliacao", folder, "--regras", "demo", "--data-referencia", "2026-12-01"]
    from_file = _invoke("cadastro", *common, "--obras", str(DEMO / "obras_executadas.csv"),
                        "--saida", str(tmp_path / "arquivo"))  # fmt: skip
    assert from_file.exit_code == 0, from_file.output
    from_db = _invoke("cadastro", *common, "--db", registry_url, "--saida", str(tmp_path / "db"))
    assert from_db.exit_code == 0, from_db.output
    columns = ["protocolo", "latitude", "longitude", "tipo_lampada", "potencia_w"]

    def points(name: str) -> list[list[Any]]:
        table = pd.read_csv(tmp_path / name / "pontos_incluir.csv")
        return table[columns].sort_values(columns).values.tolist()

    # 0101: its 3 as-built points; 0105, 0106, 0139: the assessment's proposed poles
    assert len(points("db")) == 23
    assert points("db") == points("arquivo")
    # the package made from the registry is recorded as a submission, then sent
    assert "Pacote registrado como envio nº 1 do cadastro" in _flat(from_db.output)
    excluded = len(pd.read_csv(tmp_path / "db" / "pontos_excluir.csv"))
    with registry.session() as session:
        (sub,) = session.scalars(select(CadastreSubmission)).all()
        assert (sub.situacao, sub.pontos_incluidos, sub.pontos_excluidos) == (
            "preparado", 23, excluded,
        )  # fmt: skip
    sent = _invoke("registro", "envio", "--db", registry_url, "--envio", "1",
                   "--protocolo", "CEMIG-2026-0042")  # fmt: skip
    assert sent.exit_code == 0, sent.output
    again = _invoke("registro", "envio", "--db", registry_url, "--envio", "1",
                    "--protocolo", "CEMIG-2026-0043")  # fmt: skip
    assert again.exit_code == 1 and "já foi enviado (protocolo CEMIG-2026-0042)" in again.output
    with registry.session() as session:
        events = [e.acao for e in session.scalars(select(Event).order_by(Event.seq))]
    assert events[-2:] == ["cadastro_preparado", "cadastro_enviado"]
    missing = _invoke("cadastro", "--avaliacao", folder, "--saida", str(tmp_path / "x"))
    assert missing.exit_code == 1 and "--obras (ou --db)" in missing.output


# --------------------------------------------------------------------------- demo registry


DEMO_WORKS = 6
"""Valid rows of data/demo/obras_executadas.csv: PED-2026-0106, 0139, 0105 and three
as-built points of 0101 (seven rows are wrong on purpose, one repeats 0106)."""


def test_demo_registry_has_the_run_and_a_user_who_can_log_in(
    demo_assessment: Assessment, tmp_path: Path
) -> None:
    from geo_ip.cli.app import DEMO_LOGIN, _demo_registry
    from geo_ip.webapp.users import authenticate

    path, user_file = _demo_registry(tmp_path, demo_assessment)
    assert path == tmp_path / "programa.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o600
    lines = user_file.read_text(encoding="utf-8").splitlines()
    assert lines[1] == f"login: {DEMO_LOGIN}" and lines[2].startswith("senha: ")
    password = lines[2].removeprefix("senha: ")
    registry = open_registry(str(path))
    try:
        user = authenticate(registry, DEMO_LOGIN, password)
        assert (user.login, user.papel) == ("comissao", "presidente")
        with registry.session() as session:
            assert session.scalar(select(func.count()).select_from(Run)) == 1
            assert store.find_cycle(session).nome == "demo"
            assert session.scalar(select(func.count()).select_from(User)) == 1
            # the valid rows of data/demo/obras_executadas.csv (the bad ones refused)
            assert session.scalar(select(func.count()).select_from(Work)) == DEMO_WORKS
    finally:
        registry.dispose()
    # again: a new registry, a new password
    _demo_registry(tmp_path, demo_assessment)
    assert user_file.read_text(encoding="utf-8").splitlines()[2] != lines[2]
    registry = open_registry(str(path))
    try:
        with registry.session() as session:
            assert session.scalar(select(func.count()).select_from(Run)) == 1
    finally:
        registry.dispose()
