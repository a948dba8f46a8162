"""The registry's exchange with files (issue 20), on SQLite and PostgreSQL/PostGIS.

An assessment recorded with ``record_assessment`` ranks live exactly as ``assess`` did;
the decisions exported from the registry are the ``--decisions`` file ``assess`` reads
back to the same decisions and the same ranking; an existing assessment folder imported
reproduces its ``ranking.csv``; executed works go in and come out as ``geo-ip cadastro``
reads them.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from geo_ip.errors import InputFileError, RulesError
from geo_ip.pipeline import Assessment, assess
from geo_ip.registry import audit, exchange, live, store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import Event, PersonalData, Request, Run, Snapshot, Work
from geo_ip.requests.decision_file import read_decisions
from geo_ip.rules.config import load_rules
from geo_ip.schema import DECISION_COLUMNS
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY

RANK_COLUMNS = (
    "protocolo", "posicao", "situacao", "pontuacao_total", "percentual_municipio",
    "custo_municipio_rs", "selecionado_orcamento",
)  # fmt: skip
COMPARED = ("protocolo", "criterio", "pontos", "motivacao", "membro", "data", "procedimento",
            "latitude", "longitude")  # fmt: skip
ACTOR = "sistema:teste"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _ranked(table: pd.DataFrame) -> list[tuple[Any, ...]]:
    rows = table.sort_values("linha")[list(RANK_COLUMNS)].itertuples(index=False)
    return [tuple(_plain(v) for v in row) for row in rows]


def _recorded(url: str, assessment: Assessment, **options: Any) -> Registry:
    registry = open_registry(url)
    exchange.record_assessment(registry, assessment, cycle="2026", actor=ACTOR, **options)
    return registry


def _live(registry: Registry, cycle: str | None = None) -> live.LiveRanking:
    with registry.session() as session:
        found = store.find_cycle(session, cycle)
        rules = live.rules_of(session, found)
        return live.live_ranking(session, found, rules=rules, key=DEMO_KEY)


def _decisions(path: Path, protocols: set[str]) -> pd.DataFrame:
    decisions, rejected = read_decisions(path, load_rules("demo"), protocols, today=DEMO_TODAY)
    assert rejected.empty, list(rejected["motivo"])
    return decisions


def _decisions_of_demo(protocols: set[str]) -> pd.DataFrame:
    decisions, _rejected = read_decisions(
        DEMO / "decisoes.csv", load_rules("demo"), protocols, today=DEMO_TODAY
    )
    return decisions


def _records(decisions: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [
        tuple(_plain(v) for v in row) for row in decisions[list(COMPARED)].itertuples(index=False)
    ]


# --------------------------------------------------------------------------- record_assessment


def test_recorded_assessment_ranks_live_as_assess(
    registry_url: str, demo_assessment: Assessment
) -> None:
    registry = _recorded(registry_url, demo_assessment)
    ranking = _live(registry)
    assert ranking.eligibility_checked is True
    assert _ranked(ranking.table) == _ranked(demo_assessment.table)
    # the 7 valid rows of data/demo/decisoes.csv became the current decisions
    assert len(ranking.decisions) == 7
    assert sorted(
        zip(ranking.decisions["protocolo"], ranking.decisions["criterio"], strict=True)
    ) == [
        ("PED-2026-0103", "seguranca"), ("PED-2026-0105", "art11"),
        ("PED-2026-0111", "viabilidade"), ("PED-2026-0122", "hipossuficiencia"),
        ("PED-2026-0133", "art12"), ("PED-2026-0133", "localizacao"),
        ("PED-2026-0140", "localizacao"),
    ]  # fmt: skip
    table = ranking.table.set_index("protocolo")
    # hand-checked in ranking.csv of the demo: the first and an Art. 5, II (history) case
    assert (table.loc["PED-2026-0139", "posicao"], table.loc["PED-2026-0139", "situacao"]) == (
        1,
        "classificado",
    )
    assert table.loc["PED-2026-0102", "situacao"] == "inelegivel"
    with registry.session() as session:
        run = session.scalars(select(Run)).one()
        assert run.com_dados_pessoais is True and run.origem == "geo-ip avaliar"
        assert run.orcamento_rs == DEMO_BUDGET and len(run.historico) == len(
            demo_assessment.history
        )
        assert session.scalar(select(func.count()).select_from(Request)) == 41
        assert session.scalar(select(func.count()).select_from(PersonalData)) == 41
        check = audit.verify(session)
    assert check.ok, check.problems


def test_extensions_are_recorded_in_wgs84(registry_url: str, demo_assessment: Assessment) -> None:
    registry = _recorded(registry_url, demo_assessment)
    with registry.session() as session:
        rows = dict(
            session.execute(
                select(Request.protocolo, Snapshot.extensao).join(
                    Snapshot, Snapshot.id == Request.instantaneo_id
                )
            ).all()
        )
        maps = dict(
            session.execute(
                select(Request.protocolo, Snapshot.mapa).join(
                    Snapshot, Snapshot.id == Request.instantaneo_id
                )
            ).all()
        )
    # the request's map (geo_ip.registry.request_map), centred on the request
    lat, lon = maps["PED-2026-0101"]["centro"]
    assert (round(lat, 3), round(lon, 3)) == (-22.906, -46.389)
    assert maps["PED-2026-0101"]["camadas"]
    table = demo_assessment.table.reset_index(drop=True)
    paths = demo_assessment.paths.reset_index(drop=True)
    first = int(np.flatnonzero(table["protocolo"] == "PED-2026-0101")[0])
    expected = paths.set_crs(demo_assessment.crs, allow_override=True).to_crs(4326).iloc[first]
    got = shapely.from_wkt(rows["PED-2026-0101"])
    assert got.geom_type == "LineString"
    # EPSG:4326, x = longitude, in the demo municipality
    x, y = got.coords[0]
    assert -46.5 < x < -46.3 and -23.0 < y < -22.8
    assert shapely.hausdorff_distance(got, expected) < 1e-6
    # a request without an extension has none in the registry
    unique = ~table["protocolo"].duplicated(keep=False)
    for protocol, path in zip(table.loc[unique, "protocolo"], paths[unique], strict=True):
        assert (rows[protocol] is None) == (path is None or path.is_empty), protocol
    assert sum(rows[p] is None for p in table.loc[unique, "protocolo"]) == 4


# --------------------------------------------------------------------------- decisions


DECISIONS_CSV = """protocolo,criterio,pontos,motivacao,membro,data,procedimento,latitude,longitude
PED-2026-0101,beneficiarios,22.5,"Vistoria: 9 casas, não 4; ""beco"" sem saída
com duas linhas",Ana Souza,2026-11-18,,,
PED-2026-0104,Segurança pública,0,Sem ocorrências no trecho (0 ponto),Bruno,2026-11-19,,,
PED-2026-0106,art11,,Parecer técnico 02/2026: acesso à creche,Carla Dias,2026-11-17,,,
PED-2026-0108,art12,,Relatório técnico 09/2026,Secretaria,2026-11-16,PA-2026/0099,,
PED-2026-0130,localizacao,,Vistoria com GPS,Ana Souza,2026-11-15,,-22.9012345,-46.3801234
PED-2026-0138,hipossuficiencia,,Declaração do CRAS conferida,Bruno,2026-11-14,,,
PED-2026-0139,custo_beneficio,7.25,Custo revisto pela Secretaria de Obras,Dora,2026-11-13,,,
"""


def test_decisions_round_trip_csv_registry_csv(
    registry_url: str, demo_assessment: Assessment, tmp_path: Path
) -> None:
    empty = pd.DataFrame(columns=list(DECISION_COLUMNS))
    registry = _recorded(registry_url, demo_assessment, decisions=empty)
    protocols = {str(p) for p in demo_assessment.table["protocolo"]}
    source = tmp_path / "decisoes.csv"
    source.write_text(DECISIONS_CSV, encoding="utf-8")
    original = _decisions(source, protocols)
    assert len(original) == 7
    with registry.session() as session:
        cycle = store.find_cycle(session, "2026")
        assert (
            store.import_decisions(session, cycle, original, load_rules("demo"), actor=ACTOR) == 7
        )
    out = tmp_path / "exportadas" / "decisoes.csv"
    assert exchange.export_decisions(registry, None, out) == 7
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == store.EXPORT_COLUMNS
    by_protocol = {r[0]: r for r in rows[1:]}
    # points and coordinates with a dot, exact; dates ISO; the act without points
    assert by_protocol["PED-2026-0101"][2] == "22.5"
    assert by_protocol["PED-2026-0104"][1:3] == ["seguranca", "0"]
    assert by_protocol["PED-2026-0130"][7:9] == ["-22.9012345", "-46.3801234"]
    assert by_protocol["PED-2026-0108"][2:7] == [
        "", "Relatório técnico 09/2026", "Secretaria", "2026-11-16", "PA-2026/0099",
    ]  # fmt: skip
    assert (
        by_protocol["PED-2026-0101"][3]
        == 'Vistoria: 9 casas, não 4; "beco" sem saída\ncom duas linhas'
    )
    back = _decisions(out, protocols)
    key = ["protocolo", "criterio"]
    assert _records(back.sort_values(key)) == _records(original.sort_values(key))


def test_export_never_writes_a_formula(
    registry_url: str, demo_assessment: Assessment, tmp_path: Path
) -> None:
    empty = pd.DataFrame(columns=list(DECISION_COLUMNS))
    registry = _recorded(registry_url, demo_assessment, decisions=empty)
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == "PED-2026-0101"))
        assert request is not None
        store.add_decision(
            session, request,
            store.DecisionInput("seguranca", 5.0, '=HYPERLINK("http://x.invalid","clique")',
                                "@membro"),
            load_rules("demo"), actor="ana", expected_version=None,
        )  # fmt: skip
    out = tmp_path / "decisoes.csv"
    exchange.export_decisions(registry, "2026", out)
    with out.open(encoding="utf-8", newline="") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert not [c for c in cells if len(c) > 1 and c[0] in "=+-@" and c[1:2] not in "0123456789"]
    assert '\'=HYPERLINK("http://x.invalid","clique")' in cells
    assert "'@membro" in cells


def test_export_of_an_unknown_cycle_is_refused(
    registry_url: str, demo_assessment: Assessment, tmp_path: Path
) -> None:
    registry = _recorded(registry_url, demo_assessment)
    with pytest.raises(store.RegistryError, match="ciclo '1999' não existe"):
        exchange.export_decisions(registry, "1999", tmp_path / "d.csv")
    assert not (tmp_path / "d.csv").exists()


def test_assess_with_the_export_ranks_as_the_live_ranking(
    registry_url: str, demo_assessment: Assessment, demo_territory: Path, tmp_path: Path
) -> None:
    registry = _recorded(registry_url, demo_assessment)
    rules = load_rules("demo")
    with registry.session() as session:
        request = session.scalar(select(Request).where(Request.protocolo == "PED-2026-0116"))
        assert request is not None
        # 12th with 42 points (22 in beneficiarios), waiting for budget
        store.add_decision(
            session, request,
            store.DecisionInput("beneficiarios", 40.0, "Vistoria: loteamento ocupado, 60 casas",
                                "Ana Souza", date(2026, 11, 19)),
            rules, actor="ana", expected_version=request.versao,
        )  # fmt: skip
    ranking = _live(registry)
    moved = ranking.table.set_index("protocolo").loc["PED-2026-0116"]
    # 60 points: 5th, municipal share 80 % of R$ 254.261,12, beyond the balance
    assert (moved["pontuacao_total"], moved["posicao"], moved["situacao"]) == (
        60.0,
        5,
        "aguardando_orcamento",
    )
    assert moved["custo_municipio_rs"] == pytest.approx(203408.90)
    export = tmp_path / "decisoes.csv"
    assert exchange.export_decisions(registry, "2026", export) == 8
    again = assess(
        demo_territory,
        DEMO / "pedidos.csv",
        rules,
        occurrences=DEMO / "ocorrencias.csv",
        decisions=export,
        history=DEMO / "beneficios_anteriores.csv",
        budget=DEMO_BUDGET,
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )
    assert again.rejected_decisions.empty
    assert _ranked(again.table) == _ranked(ranking.table)
    for c in ("beneficiarios", "seguranca", "viabilidade"):
        assert [_plain(v) for v in again.table[f"pont_{c}"]] == [
            _plain(v) for v in ranking.table[f"pont_{c}"]
        ]


# --------------------------------------------------------------------------- import_folder


def _folder_ranking(folder: Path) -> list[tuple[Any, ...]]:
    frame = pd.read_csv(folder / "ranking.csv")
    frame["posicao"] = frame["posicao"].astype("Int64")
    frame["selecionado_orcamento"] = frame["selecionado_orcamento"].eq("sim")
    return _ranked(frame)


def _imported(url: str, folder: Path) -> Registry:
    registry = open_registry(url)
    record = exchange.import_folder(
        registry, folder, cycle="demo", actor=ACTOR, rules=load_rules("demo")
    )
    assert (record.cycle, record.requests, record.new_requests) == ("demo", 41, 41)
    return registry


def test_imported_folder_is_recorded_without_personal_data(
    registry_url: str, demo_outputs: list[Path]
) -> None:
    registry = _imported(registry_url, demo_outputs[0].parent)
    ranking = _live(registry, "demo")
    assert ranking.eligibility_checked is False
    assert len(ranking.decisions) == 7
    with registry.session() as session:
        run = session.scalars(select(Run)).one()
        assert run.com_dados_pessoais is False and run.orcamento_rs == DEMO_BUDGET
        assert run.origem.startswith("geo-ip registro importar ")
        assert session.scalar(select(func.count()).select_from(PersonalData)) == 0
        snapshot = session.scalar(
            select(Snapshot)
            .join(Request, Request.instantaneo_id == Snapshot.id)
            .where(Request.protocolo == "PED-2026-0101")
        )
        assert snapshot is not None
        assert snapshot.linha["nivel_seguranca"] == "III"
        assert snapshot.linha["motivacao_seguranca"].startswith("Nível III (Art. 9 §6, III)")
        assert snapshot.linha["data_protocolo"] == "2026-05-06"
        assert snapshot.evidencias["seguranca"][0]["osm_id"] == "node/100025"
        assert shapely.from_wkt(snapshot.extensao).geom_type == "LineString"
        assert "cpf_solicitante" not in snapshot.linha and "hipossuficiencia" not in snapshot.linha
        check = audit.verify(session)
    assert check.ok and check.events == 3 + 7


def test_imported_folder_reproduces_its_ranking(
    registry_url: str, demo_outputs: list[Path]
) -> None:
    folder = demo_outputs[0].parent
    registry = _imported(registry_url, folder)
    assert _ranked(_live(registry, "demo").table) == _folder_ranking(folder)


def test_import_refuses_what_is_not_an_assessment_folder(
    registry_url: str, demo_outputs: list[Path], tmp_path: Path
) -> None:
    folder = demo_outputs[0].parent
    registry = open_registry(registry_url)
    partial = tmp_path / "parcial"
    partial.mkdir()
    shutil.copy(folder / "proveniencia.json", partial / "proveniencia.json")
    with pytest.raises(InputFileError, match=r"parcial/ranking\.csv'.*não é uma pasta de aval"):
        exchange.import_folder(registry, partial, cycle="x", actor=ACTOR, rules=load_rules("demo"))
    with pytest.raises(RulesError, match=r"proveniencia\.json'.*outras regras") as refused:
        exchange.import_folder(
            registry, folder, cycle="x", actor=ACTOR, rules=load_rules("extrema")
        )
    assert "--regras" in str(refused.value)
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_import_asks_for_a_decisions_file_that_moved(
    registry_url: str, demo_outputs: list[Path], tmp_path: Path
) -> None:
    folder = tmp_path / "avaliacao"
    shutil.copytree(demo_outputs[0].parent, folder)
    provenance = json.loads((folder / "proveniencia.json").read_text(encoding="utf-8"))
    for entry in provenance["entradas"]:
        if entry["tipo"] == "decisoes":
            entry["arquivo"] = str(tmp_path / "sumiu.csv")
    (folder / "proveniencia.json").write_text(json.dumps(provenance), encoding="utf-8")
    registry = open_registry(registry_url)
    with pytest.raises(InputFileError, match="informe-o com --decisoes"):
        exchange.import_folder(
            registry, folder, cycle="demo", actor=ACTOR, rules=load_rules("demo")
        )
    exchange.import_folder(
        registry, folder, cycle="demo", actor=ACTOR, rules=load_rules("demo"),
        decisions_file=DEMO / "decisoes.csv",
    )  # fmt: skip
    with registry.session() as session:
        current = store.current_decisions(session, store.find_cycle(session, "demo"))
        protocols = set(session.scalars(select(Request.protocolo)))
    key = ["protocolo", "criterio"]
    expected = _decisions_of_demo(protocols).sort_values(key)
    assert _records(current.sort_values(key)) == _records(expected)


# --------------------------------------------------------------------------- works


def test_works_in_and_out(registry_url: str, demo_assessment: Assessment) -> None:
    registry = _recorded(registry_url, demo_assessment)
    result = exchange.import_works(
        registry, DEMO / "obras_executadas.csv", cycle=None, actor="ana", today=date(2026, 12, 1)
    )
    assert (result.recorded, result.repeated) == (6, 1)
    assert [r.split(":")[0] for r in result.rejected] == [
        f"arquivo '{DEMO / 'obras_executadas.csv'}', linha {n}" for n in (8, 9, 10, 11, 12, 13)
    ]
    assert "não consta do ciclo '2026'" in result.rejected[0]
    table = exchange.works_table(registry, "2026")
    assert tuple(table.columns) == exchange.WORK_COLUMNS
    assert list(table["protocolo"]) == [
        "PED-2026-0106", "PED-2026-0139", "PED-2026-0105",
        "PED-2026-0101", "PED-2026-0101", "PED-2026-0101",
    ]  # fmt: skip
    assert list(table["data_execucao"])[:4] == ["2026-11-23", "2026-11-25", "2026-11-26",
                                                 "2026-11-24"]  # fmt: skip
    first = table.iloc[3]
    assert (first["latitude"], first["longitude"], first["potencia_w"], first["poste"]) == (
        -22.9061633,
        -46.3892543,
        40.0,
        "10059",
    )
    again = exchange.import_works(
        registry, DEMO / "obras_executadas.csv", cycle="2026", actor="ana", today=date(2026, 12, 1)
    )
    assert (again.recorded, again.repeated, len(again.rejected)) == (0, 7, 6)
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(Work)) == 6
        status = dict(session.execute(select(Request.protocolo, Request.situacao)).all())
        events = [e.acao for e in session.scalars(select(Event).where(Event.usuario == "ana"))]
        point = session.scalar(select(Work.geom).where(Work.poste == "10059"))
    assert status["PED-2026-0101"] == status["PED-2026-0106"] == "executado"
    assert status["PED-2026-0116"] != "executado"
    assert events.count("obra_executada") == 6 and events.count("situacao") == 4
    assert shapely.from_wkt(point).equals_exact(shapely.Point(-46.3892543, -22.9061633), 1e-7)
