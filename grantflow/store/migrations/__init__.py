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

import attrs


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
