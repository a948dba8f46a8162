"""Alembic environment of the registry: runs on the connection geo_ip hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from geo_ip.registry.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # ``alembic`` on the command line, for developers: -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///programa.sqlite")
    with create_engine(url).begin() as conn:
        _run(conn)
