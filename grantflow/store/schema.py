"""Create, upgrade and check grantflow's schema with Alembic, configured in code.

:func:`upgrade` creates the schema in an empty database or brings an older one to the newest
revision this grantflow knows; running it again changes nothing. :func:`status` reads which
revision a database is at and raises :class:`~grantflow.errors.SchemaTooNew` when a newer
grantflow wrote it. No ``alembic.ini`` is needed: :func:`alembic_config` points Alembic at the
migrations inside the package.

Checking the schema (every :meth:`Grantflow.open <grantflow.services.Grantflow.open>`, so every
command) does not import Alembic: it reads the version table with one query and compares it
with :data:`REVISIONS`, which a test keeps equal to the migration scripts. Alembic is imported
only to upgrade.
"""

from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import Column as SAColumn
from sqlalchemy import Engine, MetaData, String, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateSchema

from grantflow.errors import SchemaMissing, SchemaOutdated, SchemaTooNew
from grantflow.store.models import Models

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

SCRIPT_LOCATION = "grantflow.store:migrations"

REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006")
"""Every migration this grantflow ships, oldest first (the last is the head). A test checks
this against the scripts in ``migrations/versions``."""
MIGRATION_LOCK = 0x6772_616E_7466
"""PostgreSQL advisory lock key held while migrating (two ``init`` at once run one by one)."""


class State(enum.StrEnum):
    """Where a database's schema stands relative to this grantflow."""

    MISSING = "missing"
    OUTDATED = "outdated"
    CURRENT = "current"


@attrs.frozen
class Status:
    """The revisions a database is at, the newest this grantflow knows, and what that means."""

    state: State
    current: tuple[str, ...]
    head: str


def alembic_config(
    *,
    connection: Connection | None = None,
    url: str | None = None,
    table_prefix: str = "",
    schema: str | None = None,
) -> Config:
    """An Alembic :class:`~alembic.config.Config` for grantflow's migrations, without an ini
    file. Pass an open ``connection`` (used as it is, inside its transaction) or a ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["table_prefix"] = table_prefix
    config.attributes["schema"] = schema
    return config


@functools.cache
def scripts() -> ScriptDirectory:
    """Alembic's view of the shipped migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this grantflow knows."""
    return REVISIONS[-1]


def known(revision: str) -> bool:
    """Whether ``revision`` is one of this grantflow's migrations."""
    return revision in REVISIONS


def current_revisions(connection: Connection, models: Models) -> tuple[str, ...]:
    """The revisions in the database's version table (empty if there is none)."""
    if not inspect(connection).has_table(models.version_table, schema=models.schema):
        return ()
    table = Table(
        models.version_table,
        MetaData(schema=models.schema),
        SAColumn("version_num", String(32), primary_key=True),
    )
    return tuple(connection.execute(select(table.c.version_num)).scalars())


def status(connection: Connection, models: Models) -> Status:
    """Where the database on ``connection`` stands. Raises SchemaTooNew for an unknown revision."""
    current = current_revisions(connection, models)
    newest = head()
    unknown = [r for r in current if not known(r)]
    if unknown:
        raise SchemaTooNew(
            f"the database schema is at revision {', '.join(unknown)}, which this grantflow "
            f"does not know (its newest is {newest}): a newer grantflow wrote it. Upgrade "
            f"grantflow; never open a database with an older version."
        )
    if not current:
        return Status(State.MISSING, current, newest)
    return Status(State.CURRENT if newest in current else State.OUTDATED, current, newest)


def require_current(connection: Connection, models: Models, where: str = "the database") -> None:
    """Raise unless the schema is at this grantflow's revision.

    Raises SchemaMissing, SchemaOutdated (both ``NotFound``: run ``grantflow init``) or
    SchemaTooNew.
    """
    st = status(connection, models)
    if st.state is State.MISSING:
        raise SchemaMissing(
            f"{where} has no grantflow tables yet; run `grantflow init` to create them"
        )
    if st.state is State.OUTDATED:
        raise SchemaOutdated(
            f"{where} has an older grantflow schema (revision {', '.join(st.current)}, this "
            f"grantflow needs {st.head}); run `grantflow init` to upgrade it"
        )


def upgrade(bind: Engine | Connection, models: Models) -> Status:
    """Create or upgrade grantflow's schema to the newest revision, in one transaction.

    Harmless to run again. On PostgreSQL a missing ``models.schema`` is created and an advisory
    lock serialises concurrent upgrades. Raises SchemaTooNew if a newer grantflow wrote the
    database. A ``Connection`` is used inside its current transaction (the caller commits).
    """
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            return upgrade(connection, models)
    connection = bind
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        if models.schema:
            connection.execute(CreateSchema(models.schema, if_not_exists=True))
    before = status(connection, models)
    if before.state is not State.CURRENT:
        from alembic import command

        config = alembic_config(
            connection=connection, table_prefix=models.prefix, schema=models.schema
        )
        command.upgrade(config, "head")
    return status(connection, models)


__all__ = [
    "SCRIPT_LOCATION",
    "SchemaMissing",
    "SchemaOutdated",
    "State",
    "Status",
    "alembic_config",
    "head",
    "known",
    "require_current",
    "status",
    "upgrade",
]
