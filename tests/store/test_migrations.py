"""The shipped migrations build exactly the schema the ORM models describe, on SQLite and
PostgreSQL, for every table layout; upgrading twice is harmless; a newer schema is refused."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from grantflow.errors import SchemaTooNew
from grantflow.services import Grantflow
from grantflow.store import create_engine, models_for, schema
from grantflow.store.models import Models

LAYOUTS = [
    ("", None),
    ("gf_", None),
    ("p_", "grantflow_test"),
    ("an_agency_with_a_rather_long_table_prefix_", None),  # names beyond 63 characters
]


def _differences(engine: sa.Engine, models: Models, metadata: sa.MetaData | None = None) -> Any:
    ours = set(models.table_names())

    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "schema":
            return name == models.schema
        return name in ours if type_ == "table" else True

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "version_table": models.version_table,
                "version_table_schema": models.schema,
                "include_schemas": models.schema is not None,
                "include_name": include_name,
                "compare_type": True,
            },
        )
        return compare_metadata(context, metadata if metadata is not None else models.metadata)


@pytest.mark.parametrize(("prefix", "pg_schema"), LAYOUTS)
def test_migrations_and_models_agree(
    empty_db_url: str, backend: str, prefix: str, pg_schema: str | None
) -> None:
    if pg_schema and backend == "sqlite":
        pytest.skip("schemas are PostgreSQL's")
    models = models_for(prefix, pg_schema)
    engine = create_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert schema.status(conn, models).state is schema.State.MISSING
        status = schema.upgrade(engine, models)
        assert status.state is schema.State.CURRENT and status.current == (schema.head(),)
        assert _differences(engine, models) == []
        names = set(sa.inspect(engine).get_table_names(schema=pg_schema))
        assert names == {*models.table_names(), models.version_table}
        # and the comparison can fail: a model the migrations do not create is reported
        changed = sa.MetaData(schema=pg_schema)
        for table in models.metadata.sorted_tables:
            table.to_metadata(changed)
        sa.Table(f"{prefix}extra", changed, sa.Column("id", sa.Integer, primary_key=True))
        changed.tables[f"{pg_schema + '.' if pg_schema else ''}{prefix}grants"].append_column(
            sa.Column("colour", sa.String(10))
        )
        diff = _differences(engine, models_for(prefix, pg_schema), changed)
        kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in diff}
        assert kinds == {"add_table", "add_column"}
    finally:
        engine.dispose()


def test_upgrading_twice_is_harmless(empty_db_url: str) -> None:
    with Grantflow.open(empty_db_url, create=True) as gf:
        gf.init("ada")
    with Grantflow.open(empty_db_url, create=True) as gf:
        gf.init("ada")
        assert [a.name for a in gf.actors()] == ["ada"]
    with Grantflow.open(empty_db_url) as gf:
        gf.require_schema()


def test_a_schema_from_a_newer_grantflow_is_refused(db_url: str) -> None:
    models = models_for()
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE {models.version_table} SET version_num = 'ffff9999'"))
        with pytest.raises(SchemaTooNew, match="newer grantflow"):
            Grantflow.open(db_url)
        with pytest.raises(SchemaTooNew):
            Grantflow.open(db_url, create=True)  # and upgrading does not touch it
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text(f"SELECT version_num FROM {models.version_table}")).scalar()
                == "ffff9999"
            )
    finally:
        engine.dispose()


def test_the_migrations_run_without_an_ini_file() -> None:
    config = schema.alembic_config()
    assert config.config_file_name is None
    assert config.get_main_option("script_location") == "grantflow.store:migrations"
    assert schema.known(schema.head())


def test_the_known_revisions_are_the_shipped_scripts() -> None:
    scripts = schema.scripts()
    shipped = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert shipped == list(schema.REVISIONS)
    assert scripts.get_current_head() == schema.head()


def test_opening_a_database_does_not_import_alembic(db_url: str) -> None:
    """Every command opens the database; only ``init`` needs Alembic (startup time)."""
    code = (
        "import sys\n"
        "from grantflow.services import Grantflow\n"
        f"Grantflow.open({db_url!r}).close()\n"
        "assert not any(m.startswith('alembic') for m in sys.modules), 'alembic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
