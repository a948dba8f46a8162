"""Opening the registry: the engine for a database URL and its Alembic migrations.

``--db`` takes a SQLAlchemy URL. The default, :data:`DEFAULT_URL`, is a SQLite file in
the current folder, with nothing to install; ``postgresql+psycopg://user:pw@host/db``
uses PostgreSQL with PostGIS (the extension is created by the first migration).
:func:`open_registry` brings the schema to the latest migration every time it opens a
database, so a registry made by an older geo_ip is upgraded in place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from geo_ip.errors import InputFileError

__all__ = ["DEFAULT_URL", "Registry", "open_registry", "sqlite_url"]

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///programa.sqlite"
"""The registry used when ``--db`` is not given: a SQLite file in the current folder."""

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_OPEN: dict[str, Registry] = {}
_LOCK = threading.Lock()


def sqlite_url(path: str | Path) -> str:
    """Return the URL of a SQLite registry file.

    Parameters
    ----------
    path : str or Path
        The database file.

    Returns
    -------
    str
        ``sqlite:///<absolute path>``.
    """
    return f"sqlite:///{Path(path).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    raise InputFileError(
        f"banco de dados não suportado: {parsed.get_backend_name()!r}; use "
        "sqlite:///arquivo.sqlite ou postgresql+psycopg://usuario:senha@servidor/banco"
    )


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@dataclass
class Registry:
    """An open registry: its engine and a session factory.

    Attributes
    ----------
    url : str
        The database URL (password hidden in :meth:`label`).
    engine : sqlalchemy.engine.Engine
        The engine.
    sessions : sqlalchemy.orm.sessionmaker
        The session factory (``expire_on_commit=False``).
    """

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def label(self) -> str:
        """Return the URL with its password hidden, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session in one transaction: committed at the end, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every connection and forget this registry."""
        with _LOCK:
            _OPEN.pop(self.url, None)
        self.engine.dispose()


def open_registry(url: str | None = None, *, migrate: bool = True) -> Registry:
    """Open (and create or upgrade) the registry at ``url``.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default :data:`DEFAULT_URL`. A plain path is taken as a SQLite file.
    migrate : bool, default True
        Bring the schema to the latest Alembic migration.

    Returns
    -------
    Registry
        The registry, shared by every caller in this process for the same URL.
    """
    url = url or DEFAULT_URL
    if "://" not in url:
        url = sqlite_url(url)
    with _LOCK:
        if url in _OPEN:
            return _OPEN[url]
        engine = _engine(url)
        if migrate:
            try:
                with engine.begin() as connection:
                    config = _alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            except BaseException:
                engine.dispose()
                raise
        registry = Registry(url, engine, sessionmaker(engine, expire_on_commit=False))
        _OPEN[url] = registry
        return registry
