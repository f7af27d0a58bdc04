"""Alembic environment for grantflow's migrations (run by :mod:`grantflow.store.schema`).

The connection, the table prefix and the schema come in ``config.attributes``; without a
connection (the ``alembic`` command with ``-x url=…``), an engine is made from the URL.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from grantflow.store.engine import create_engine
from grantflow.store.migrations import layout
from grantflow.store.models import models_for

config = context.config
where = layout()
models = models_for(where.prefix, where.schema)
target_metadata = models.metadata
ours = set(models.table_names())

MIGRATION_LOCK = 0x6772_616E_7466  # "grantf": serialises concurrent upgrades on PostgreSQL


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Compare only grantflow's own tables: a host's tables in the same database are not ours."""
    if type_ == "schema":
        return name == where.schema
    if type_ == "table":
        return name in ours
    return True


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=models.version_table,
        version_table_schema=where.schema,
        include_schemas=where.schema is not None,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(
        as_dictionary=True
    ).get("url")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
