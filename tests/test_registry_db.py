"""The registry's database on SQLite and on PostgreSQL/PostGIS: schema, geometry, audit trail.

Every test runs twice through the ``registry_url`` fixture (ids ``sqlite`` and ``postgis``):
a fresh SQLite file, and a fresh database on a real PostgreSQL server with PostGIS
(``GEO_IP_TEST_PG_URL`` or a throwaway cluster; skipped with the reason when none starts).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from geo_ip.registry import audit
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import (
    Base,
    ChainHead,
    Cycle,
    Event,
    Inspection,
    Request,
    Run,
    Snapshot,
    Work,
)

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

GEOMETRY_COLUMNS = {
    ("pedidos", "geom"): "POINT",
    ("instantaneos", "extensao"): "GEOMETRY",
    ("vistorias", "geom"): "POINT",
    ("obras", "geom"): "POINT",
}
"""The registry's geometry columns and their PostGIS geometry type (all EPSG:4326)."""

REGISTRY_TABLES = {
    "versoes_regras", "ciclos", "pedidos", "situacoes_pedido", "dados_pessoais",
    "avaliacoes", "instantaneos", "decisoes", "vistorias", "fotos",
    "solicitacoes_documentos", "pareceres", "reunioes", "presencas", "propostas", "obras",
    "envios_cadastro", "usuarios", "sessoes", "tentativas_login", "eventos", "cadeia",
}  # fmt: skip
"""The 22 tables of the registry, as listed in the docstring of ``geo_ip.registry.models``."""


def _tables(registry: Registry) -> set[str]:
    # PostGIS adds spatial_ref_sys to the public schema; Alembic adds its version table.
    names = set(inspect(registry.engine).get_table_names())
    return names - {"alembic_version", "spatial_ref_sys"}


def _columns(registry: Registry, table: str) -> set[str]:
    return {c["name"] for c in inspect(registry.engine).get_columns(table)}


def _drop_append_only(registry: Registry) -> None:
    """What a DBA with the owner's rights can do: remove the append-only triggers."""
    with registry.engine.begin() as conn:
        if registry.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER eventos_somente_inclusao ON eventos"))
        else:
            conn.execute(text("DROP TRIGGER eventos_somente_inclusao_UPDATE"))
            conn.execute(text("DROP TRIGGER eventos_somente_inclusao_DELETE"))


def _append_three(registry: Registry) -> None:
    with registry.session() as session:
        audit.append(session, "ana", "ciclo", "ciclo", 1, after={"nome": "2026"})
    with registry.session() as session:
        audit.append(
            session,
            "bruno",
            "decisao",
            "pedido",
            "P-0002",
            before={"pontos": None},
            after={"pontos": 7.5, "data": date(2026, 11, 20)},
        )
    with registry.session() as session:
        audit.append(session, "carla", "vistoria", "pedido", "P-0003", after={"residencias": 12})


# --------------------------------------------------------------------------- schema


def test_migration_creates_every_table_of_the_models(registry_url: str) -> None:
    registry = open_registry(registry_url)
    assert set(Base.metadata.tables) == REGISTRY_TABLES
    assert _tables(registry) == REGISTRY_TABLES
    for name, table in Base.metadata.tables.items():
        assert _columns(registry, name) == {c.name for c in table.columns}, name
    with registry.session() as session:
        head = session.get(ChainHead, 1)
        assert head is not None
        assert (head.eventos, head.ultimo_hash) == (0, "0" * 64)
        assert session.execute(select(Event)).first() is None


def test_geometry_columns_are_postgis_geometries_or_sqlite_text(registry_url: str) -> None:
    registry = open_registry(registry_url)
    with registry.engine.connect() as conn:
        if registry.dialect == "sqlite":
            for table, column in GEOMETRY_COLUMNS:
                info = conn.execute(text(f"PRAGMA table_info({table})")).all()
                assert {row[1]: row[2] for row in info}[column] == "TEXT"
            return
        rows = conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column, srid, type, coord_dimension "
                "FROM geometry_columns WHERE f_table_schema = 'public'"
            )
        ).all()
        assert {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows} == {
            key: (4326, kind, 2) for key, kind in GEOMETRY_COLUMNS.items()
        }
        udt = conn.execute(
            text(
                "SELECT table_name, column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND udt_name = 'geometry'"
            )
        ).all()
        assert {(r[0], r[1]) for r in udt} == set(GEOMETRY_COLUMNS)
        indexes = conn.execute(
            text(
                "SELECT t.relname, a.attname, am.amname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_am am ON am.oid = i.relam "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) "
                "WHERE am.amname = 'gist'"
            )
        ).all()
        assert {(r[0], r[1]) for r in indexes} == set(GEOMETRY_COLUMNS)


def test_opening_twice_is_idempotent(registry_url: str) -> None:
    first = open_registry(registry_url)
    assert open_registry(registry_url) is first  # cached per URL in the process
    with first.session() as session:
        session.add(Cycle(nome="Ciclo 2026", orcamento_rs=300_000.0, aberto_em=NOW))
    first.dispose()
    second = open_registry(registry_url)  # a new engine: Alembic runs again, changes nothing
    assert second is not first
    assert _tables(second) == REGISTRY_TABLES
    with second.session() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).all() == [("0001",)]
        assert session.execute(text("SELECT id, eventos FROM cadeia")).all() == [(1, 0)]
        assert session.scalars(select(Cycle.nome)).all() == ["Ciclo 2026"]


# --------------------------------------------------------------------------- geometry


def test_wkt_written_through_the_orm_reads_back_unchanged(registry_url: str) -> None:
    point = "POINT (-46.3181 -22.8547)"
    line = "LINESTRING (-46.3181 -22.8547, -46.3175 -22.8551, -46.317 -22.856)"
    registry = open_registry(registry_url)
    with registry.session() as session:
        cycle = Cycle(nome="Ciclo 2026", aberto_em=NOW)
        session.add(cycle)
        session.flush()
        request = Request(ciclo_id=cycle.id, protocolo="P-0001", geom=point, atualizado_em=NOW)
        run = Run(ciclo_id=cycle.id, executado_em=NOW, registrado_em=NOW, tabela=b"PAR1")
        session.add_all([request, run])
        session.flush()
        session.add_all(
            [
                Snapshot(avaliacao_id=run.id, pedido_id=request.id, extensao=line),
                Inspection(
                    pedido_id=request.id, data=date(2026, 11, 20), geom=point, registrado_em=NOW
                ),
                Work(pedido_id=request.id, data_execucao=date(2026, 12, 1), geom=point),
            ]
        )
    with registry.session() as session:
        assert session.scalars(select(Request.geom)).one() == point
        assert session.scalars(select(Snapshot.extensao)).one() == line
        assert session.scalars(select(Inspection.geom)).one() == point
        assert session.scalars(select(Work.geom)).one() == point
        if registry.dialect == "postgresql":  # stored as geometry, in EPSG:4326
            row = session.execute(
                text("SELECT ST_SRID(geom), ST_AsText(geom), ST_X(geom) FROM pedidos")
            ).one()
            assert tuple(row) == (4326, "POINT(-46.3181 -22.8547)", -46.3181)
            assert session.execute(
                text("SELECT GeometryType(extensao), ST_NPoints(extensao) FROM instantaneos")
            ).one() == ("LINESTRING", 3)
        else:
            assert session.execute(text("SELECT geom FROM pedidos")).scalar_one() == point


# --------------------------------------------------------------------------- audit trail


def test_audit_chain_of_three_events_verifies(registry_url: str) -> None:
    registry = open_registry(registry_url)
    with registry.session() as session:
        empty = audit.verify(session)
    assert (empty.ok, empty.events, empty.problems) == (True, 0, [])
    _append_three(registry)
    with registry.session() as session:
        result = audit.verify(session)
        events = session.scalars(select(Event).order_by(Event.seq)).all()
        head = session.get(ChainHead, 1)
    assert (result.ok, result.events, result.problems) == (True, 3, [])
    assert [(e.seq, e.usuario, e.acao, e.entidade_id) for e in events] == [
        (1, "ana", "ciclo", "1"),
        (2, "bruno", "decisao", "P-0002"),
        (3, "carla", "vistoria", "P-0003"),
    ]
    assert events[1].depois == {"pontos": 7.5, "data": "2026-11-20"}
    assert events[1].antes == {"pontos": None}
    assert [e.hash_anterior for e in events] == [audit.GENESIS, events[0].hash, events[1].hash]
    assert head is not None
    assert (head.eventos, head.ultimo_hash) == (3, events[2].hash)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE eventos SET usuario = 'intruso' WHERE seq = 2", "DELETE FROM eventos WHERE seq = 3"],
    ids=["update", "delete"],
)
def test_database_refuses_update_and_delete_of_events(registry_url: str, statement: str) -> None:
    registry = open_registry(registry_url)
    _append_three(registry)
    refused = pytest.raises(DBAPIError, match="eventos de auditoria são somente de inclusão")
    with refused, registry.engine.begin() as conn:
        conn.execute(text(statement))
    with registry.session() as session:
        result = audit.verify(session)
        users = session.scalars(select(Event.usuario).order_by(Event.seq)).all()
    assert (result.ok, result.events) == (True, 3)
    assert users == ["ana", "bruno", "carla"]


def test_verify_names_the_event_edited_around_the_trigger(registry_url: str) -> None:
    registry = open_registry(registry_url)
    _append_three(registry)
    _drop_append_only(registry)
    with registry.engine.begin() as conn:
        assert (
            conn.execute(text("UPDATE eventos SET usuario = 'intruso' WHERE seq = 2")).rowcount == 1
        )
    with registry.session() as session:
        result = audit.verify(session)
        em = session.scalars(select(Event.em).where(Event.seq == 2)).one()
    assert (result.ok, result.events) == (False, 3)
    assert result.problems == [
        f"evento nº 2 (decisao, pedido P-0002, {em}): conteúdo alterado depois de gravado"
    ]


def test_verify_detects_the_last_event_deleted(registry_url: str) -> None:
    registry = open_registry(registry_url)
    _append_three(registry)
    _drop_append_only(registry)
    with registry.engine.begin() as conn:
        assert conn.execute(text("DELETE FROM eventos WHERE seq = 3")).rowcount == 1
    with registry.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.events) == (False, 2)
    assert result.problems == [
        "a cabeça da cadeia registra 3 evento(s), mas a cadeia termina no nº 2: "
        "evento(s) final(is) apagado(s)"
    ]


def test_verify_detects_an_event_deleted_in_the_middle(registry_url: str) -> None:
    registry = open_registry(registry_url)
    _append_three(registry)
    _drop_append_only(registry)
    with registry.engine.begin() as conn:
        assert conn.execute(text("DELETE FROM eventos WHERE seq = 2")).rowcount == 1
    with registry.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.events) == (False, 2)
    assert result.problems == [
        "evento nº 2 a 2 ausente(s): a cadeia salta para o nº 3 (evento apagado)",
        "evento nº 3: o hash anterior não confere com o do evento que o precede "
        "(evento apagado ou inserido)",
    ]


def test_concurrent_appends_make_one_unbroken_chain(registry_url: str) -> None:
    threads_n, per_thread = 4, 25
    registry = open_registry(registry_url)
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                with registry.session() as session:  # one transaction per event
                    audit.append(session, f"usuario{worker}", "teste", "pedido", f"{worker}-{i}")
        except BaseException as exc:  # reported below, with the backend's message
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    with registry.session() as session:
        result = audit.verify(session)
        events = session.scalars(select(Event).order_by(Event.seq)).all()
        head = session.get(ChainHead, 1)
    assert (result.ok, result.events, result.problems) == (True, 100, [])
    assert [e.seq for e in events] == list(range(1, 101))
    assert Counter(e.usuario for e in events) == {f"usuario{n}": 25 for n in range(4)}
    # each worker's own events are in the order it appended them
    for n in range(threads_n):
        mine = [e.entidade_id for e in events if e.usuario == f"usuario{n}"]
        assert mine == [f"{n}-{i}" for i in range(per_thread)]
    assert head is not None
    assert (head.eventos, head.ultimo_hash) == (100, events[-1].hash)
