"""grantflow's Alembic migrations, shipped inside the package.

Nothing here needs an ``alembic.ini``: :mod:`grantflow.store.schema` builds the Alembic
configuration in code (``script_location = "grantflow.store:migrations"``) and hands ``env.py``
the connection, the table prefix and the schema through ``Config.attributes``.

Migration scripts name their tables through :func:`layout`, never literally, because the same
script creates ``grants`` for a stand-alone database and ``gf_grants`` (or
``agency.grants``) for a host application that embeds grantflow.

To write a new migration, change the models in :mod:`grantflow.store.models`, then let Alembic
compare them with a database at head::

    from alembic import command
    from grantflow.store.schema import alembic_config
    command.revision(alembic_config(url="sqlite:////tmp/head.sqlite"), "what changed",
                     autogenerate=True)

and replace the literal table names in the generated script by ``t("grants")`` (see
``versions/0001_initial_schema.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from grantflow.store.repository import Store


@attrs.frozen
class Layout:
    """Where a migration puts grantflow's tables."""

    prefix: str = ""
    schema: str | None = None

    def __call__(self, table: str) -> str:
        """The full name of ``table`` (with the prefix, without the schema)."""
        return f"{self.prefix}{table}"


def layout() -> Layout:
    """The table prefix and schema of the migration that is running (from ``Config.attributes``
    or, when run by the ``alembic`` command, ``-x table_prefix=… -x schema=…``)."""
    from alembic import context

    attributes = context.config.attributes
    x = context.get_x_argument(as_dictionary=True)
    prefix = attributes.get("table_prefix", x.get("table_prefix", ""))
    schema = attributes.get("schema", x.get("schema"))
    return Layout(prefix=prefix or "", schema=schema or None)


def backfill_store() -> Store:
    """A :class:`~grantflow.store.repository.Store` on the running migration's connection and
    layout, for a migration that fills derived data by replaying the log. On PostgreSQL the log
    (``transitions``) is locked against new records (``SHARE`` mode) until the upgrade's
    transaction ends, so no step can slip in between the replay and the new columns or tables.
    It runs this grantflow's domain and store code: a later migration must keep it working."""
    import sqlalchemy as sa
    from alembic import op

    from grantflow.store.models import models_for
    from grantflow.store.repository import Store

    t = layout()
    connection = op.get_bind()
    models = models_for(t.prefix, t.schema)
    if connection.dialect.name == "postgresql":
        log = connection.dialect.identifier_preparer.format_table(
            models.Transition.__table__  # type: ignore[attr-defined]
        )
        connection.execute(sa.text(f"LOCK TABLE {log} IN SHARE MODE"))
    return Store(connection, models)
