"""The registry's service layer and live ranking (issue 20), on SQLite and PostGIS.

The demo assessment is recorded with the applicants' data; the live ranking built from
the registry must be the ranking ``assess`` wrote, to the cent, and the Commission's
decisions made in the registry move it exactly as the law says.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from geo_ip.pipeline import Assessment, assess
from geo_ip.registry import audit, live, store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import Decision, Event, PersonalData, Request, Snapshot
from geo_ip.requests.decision_file import read_decisions
from geo_ip.rules.config import load_rules
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY

RANK_COLUMNS = (
    "protocolo", "posicao", "situacao", "pontuacao_total", "custo_municipio_rs",
    "selecionado_orcamento", "percentual_municipio", "elegivel",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo_run(demo_territory: Path) -> tuple[Assessment, pd.DataFrame]:
    """The demo assessed with its decisions, and the valid decisions it used."""
    rules = load_rules("demo")
    assessment = assess(
        demo_territory,
        DEMO / "pedidos.csv",
        rules,
        occurrences=DEMO / "ocorrencias.csv",
        decisions=DEMO / "decisoes.csv",
        history=DEMO / "beneficios_anteriores.csv",
        budget=DEMO_BUDGET,
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )
    protocols = {str(p) for p in assessment.table["protocolo"]}
    decisions, _ = read_decisions(DEMO / "decisoes.csv", rules, protocols, today=DEMO_TODAY)
    return assessment, decisions


def _recorded(url: str, demo_run: tuple[Assessment, pd.DataFrame]) -> Registry:
    assessment, decisions = demo_run
    registry = open_registry(url)
    with registry.session() as session:
        rules = store.ensure_rules(session, assessment.rules, "sistema:teste")
        cycle = store.ensure_cycle(
            session, "2026", "sistema:teste", budget=DEMO_BUDGET, rules=rules
        )
        store.record_run(
            session, assessment.table, cycle=cycle, rules=rules, actor="sistema:teste",
            origin="teste", provenance=assessment.provenance, personal=True,
            history=assessment.history,
        )  # fmt: skip
        store.import_decisions(session, cycle, decisions, assessment.rules, actor="sistema:teste")
    return registry


def _live(registry: Registry) -> pd.DataFrame:
    with registry.session() as session:
        cycle = store.find_cycle(session)
        rules = live.rules_of(session, cycle)
        return live.live_ranking(session, cycle, rules=rules, key=DEMO_KEY, today=DEMO_TODAY).table


def _ranked(table: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [
        tuple(None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v for v in row)
        for row in table[list(RANK_COLUMNS)].itertuples(index=False)
    ]


def _request(registry: Registry, protocol: str) -> Request:
    with registry.session() as session:
        found = session.scalar(select(Request).where(Request.protocolo == protocol))
        assert found is not None
        return found


def test_live_ranking_is_the_assessment_ranking(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    assessment, decisions = demo_run
    assert _ranked(_live(registry)) == _ranked(assessment.table)
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == len(assessment.table)
        assert session.scalar(select(func.count()).select_from(Snapshot)) == len(assessment.table)
        assert session.scalar(select(func.count()).select_from(Decision)) == len(decisions)
        # the same file again adds nothing
        cycle = store.find_cycle(session)
        assert store.import_decisions(session, cycle, decisions, assessment.rules, actor="x") == 0
        check = audit.verify(session)
    assert check.ok, check.problems
    # events: rules, cycle, run, one per decision
    assert check.events == 3 + len(decisions)


def test_no_personal_data_outside_its_table(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    assessment, _ = demo_run
    names = [str(n) for n in assessment.table["nome_solicitante"] if str(n).strip()]
    assert names
    with registry.session() as session:
        linhas = [s.linha for s in session.scalars(select(Snapshot))]
        events = [(e.antes, e.depois) for e in session.scalars(select(Event))]
        personal = [p.dados for p in session.scalars(select(PersonalData))]
    text = repr((linhas, events))
    assert not any(name in text for name in names)
    assert "renda_familiar" not in text and "nome_solicitante" not in text
    assert any(p.get("nome_solicitante") in names for p in personal)


def test_decision_moves_the_ranking_and_is_audited(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    before = _live(registry).set_index("protocolo")
    weight = load_rules("demo").criterios.beneficiarios.peso.valor
    ranked = before[
        (before["situacao"] == "classificado") & (before["pont_beneficiarios"] <= weight - 10)
    ].sort_values("posicao")
    last = str(ranked.index[-1])
    old_points = float(before.loc[last, "pont_beneficiarios"])
    request = _request(registry, last)
    with registry.session() as session:
        request = session.get(Request, request.id)
        assert request is not None
        store.add_decision(
            session, request,
            store.DecisionInput("beneficiarios", float(weight), "Vistoria contou 30 casas.", "Ana"),
            load_rules("demo"), actor="ana", expected_version=request.versao,
        )  # fmt: skip
    after = _live(registry).set_index("protocolo")
    total = float(before.loc[last, "pontuacao_total"]) - old_points + weight
    assert float(after.loc[last, "pontuacao_total"]) == pytest.approx(total)
    classified = after[after["situacao"] == "classificado"]
    assert int(after.loc[last, "posicao"]) < int(before.loc[last, "posicao"])
    assert int(after.loc[last, "posicao"]) <= 1 + int((classified["pontuacao_total"] > total).sum())
    assert "alterado de" in str(after.loc[last, "decisao_beneficiarios"])
    with registry.session() as session:
        stored = session.scalar(select(Request).where(Request.protocolo == last))
        assert stored is not None and stored.pontuacao_decidida == pytest.approx(total)
        event = session.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert event is not None and event.acao == "decisao" and event.usuario == "ana"
        assert event.depois["pontos"] == weight and event.entidade_id == last


def test_stale_version_is_refused_and_nothing_written(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    protocol = str(demo_run[0].table["protocolo"].iloc[0])
    seen = _request(registry, protocol).versao
    rules = load_rules("demo")
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == protocol))
        assert request is not None
        store.add_decision(
            session, request, store.DecisionInput("trafego", 5.0, "Contagem de veículos."),
            rules, actor="ana", expected_version=seen,
        )  # fmt: skip
    with registry.session() as session:
        count = session.scalar(select(func.count()).select_from(Decision))
    refused = pytest.raises(store.ConflictError, match="alterado por ana em")
    with refused, registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == protocol))
        assert request is not None
        store.add_decision(
            session, request, store.DecisionInput("trafego", 10.0, "Outra contagem."),
            rules, actor="bruno", expected_version=seen,
        )  # fmt: skip
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == count
        current = store.current_decisions(session, store.find_cycle(session))
    row = current[(current["protocolo"] == protocol) & (current["criterio"] == "trafego")]
    assert row["pontos"].tolist() == [5.0]


def test_invalid_decisions_are_refused(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    protocol = str(demo_run[0].table["protocolo"].iloc[0])
    rules = load_rules("demo")
    cases = [
        (store.DecisionInput("trafego", 15.5, "x"), "entre 0 e 15"),
        (store.DecisionInput("trafego", 5.0, "   "), "motivação é obrigatória"),
        (store.DecisionInput("art12", None, "obra"), "procedimento"),
        (store.DecisionInput("localizacao", None, "ok", latitude=95.0, longitude=1.0), "latitude"),
        (store.DecisionInput("art11", 3.0, "ok"), "não tem pontos"),
        (store.DecisionInput("inventado", 3.0, "ok"), "critério desconhecido"),
    ]
    for decision, message in cases:
        with pytest.raises(store.RegistryError, match=message), registry.session() as session:
            request = session.scalar(select(Request).where(Request.protocolo == protocol))
            assert request is not None
            store.add_decision(session, request, decision, rules, actor="a", expected_version=None)


def test_hardship_accepted_in_the_registry_checks_eligibility_again(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    before = _live(registry).set_index("protocolo")
    pending = before.index[before["situacao"] == "pendente_comprovacao"]
    assert len(pending) > 0
    protocol = str(pending[0])
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == protocol))
        assert request is not None
        store.add_decision(
            session, request,
            store.DecisionInput(
                "hipossuficiencia", None, "Declaração do CRAS aceita.", "Ana", date(2026, 11, 19)
            ),
            load_rules("demo"), actor="ana", expected_version=request.versao,
        )  # fmt: skip
    after = _live(registry).set_index("protocolo")
    assert after.loc[protocol, "situacao"] in ("classificado", "aguardando_orcamento")
    assert after.loc[protocol, "condicao_hipossuficiencia"] == "comprovada"
    assert "Declaração do CRAS aceita." in str(after.loc[protocol, "decisao_hipossuficiencia"])


def test_personal_data_view_is_logged_without_the_data(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame]
) -> None:
    registry = _recorded(registry_url, demo_run)
    table = demo_run[0].table
    row = table[table["nome_solicitante"].astype(str).str.strip() != ""].iloc[0]
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == row["protocolo"]))
        assert request is not None
        data = store.personal_data(session, request, actor="presidente", purpose="teste")
    assert data["nome_solicitante"] == row["nome_solicitante"]
    assert str(data["cpf_solicitante"]).startswith("***")
    with registry.session() as session:
        event = session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert event is not None and event.acao == "dados_pessoais_vistos"
    assert event.usuario == "presidente" and row["nome_solicitante"] not in repr(event.depois)


def test_conflict_message_names_who_and_when() -> None:
    from datetime import UTC, datetime

    error = store.ConflictError("maria", datetime(2026, 11, 20, 14, 5, tzinfo=UTC))
    assert "alterado por maria em 20/11/2026 14:05 UTC" in str(error)


def test_qgis_package_of_the_current_state(
    registry_url: str, demo_run: tuple[Assessment, pd.DataFrame], tmp_path: Path
) -> None:
    import sqlite3
    import zipfile

    import pyogrio

    from geo_ip.registry.qgis_package import write_qgis_package

    registry = _recorded(registry_url, demo_run)
    assessment, _ = demo_run
    with registry.session() as session:
        cycle = store.find_cycle(session)
        ranking = live.live_ranking(
            session, cycle, rules=live.rules_of(session, cycle), key=DEMO_KEY, today=DEMO_TODAY
        )
        out = write_qgis_package(
            session, cycle, ranking.table, ranking.run, tmp_path / "pacote.zip"
        )
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["registro.gpkg", "registro.qgz"]
        archive.extractall(tmp_path)
    layers = dict(pyogrio.list_layers(tmp_path / "registro.gpkg"))
    assert layers["pedidos"] == "Point" and layers["extensoes"] == "MultiLineString"
    located = assessment.table["latitude"].notna().sum()
    info = pyogrio.read_info(tmp_path / "registro.gpkg", layer="pedidos")
    assert info["features"] == located and info["crs"] == assessment.crs
    with sqlite3.connect(tmp_path / "registro.gpkg") as con:
        styled = {r[0] for r in con.execute("select f_table_name from layer_styles")}
    assert {"pedidos", "extensoes", "vistorias"} <= styled
    blob = (tmp_path / "registro.gpkg").read_bytes()
    names = {str(n) for n in assessment.table["nome_solicitante"] if str(n).strip()}
    assert not any(name.encode() in blob for name in names)
