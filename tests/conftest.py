"""Shared fixtures: real databases for every test folder.

``db_url`` and ``app`` are parametrized over **sqlite** (a file in the test's temporary
directory, WAL) and **postgres** (marked ``postgres``). Both give a database whose grantflow
schema is at head and whose grantflow tables are empty; ``app`` is a
:class:`~grantflow.services.Grantflow` opened on it (and closed afterwards). ``empty_db_url``
gives a database without any tables.

PostgreSQL comes from ``GRANTFLOW_TEST_PG`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``): the session creates a fresh database on
that server and drops it at the end. Without a reachable server the postgres cases skip, saying
why; with ``CI=true`` they fail instead, so CI never passes without having run them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from grantflow.services import Grantflow
from grantflow.store import create_engine, models_for, upgrade
from grantflow.store.schema import head as schema_head

PG_ENV = "GRANTFLOW_TEST_PG"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _pg_server_url() -> URL:
    url = make_url(os.environ.get(PG_ENV, PG_DEFAULT))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def pg_server() -> URL:
    """The PostgreSQL server to test on (its maintenance database's URL); skips without one
    (fails under ``CI=true``)."""
    url = _pg_server_url()
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:
        reason = (
            f"no PostgreSQL server at {url.render_as_string(hide_password=True)} "
            f"(set {PG_ENV}): {type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        )
        if _in_ci():
            pytest.fail(f"CI=true, so PostgreSQL is required: {reason}", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def pg_admin(pg_server: URL) -> Iterator[sa.Engine]:
    """An autocommit engine on the server's maintenance database (CREATE/DROP DATABASE)."""
    engine = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def make_pg_database(pg_server: URL, pg_admin: sa.Engine) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty databases on the test server; drops them all at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"grantflow_test_{os.getpid()}_{secrets.token_hex(4)}"
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return pg_server.set(database=name).render_as_string(hide_password=False)

    yield make
    with pg_admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database(make_pg_database: Callable[[], str]) -> str:
    """The session's PostgreSQL database, with grantflow's schema at head."""
    url = make_pg_database()
    engine = create_engine(url)
    try:
        upgrade(engine, models_for())
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with grantflow's schema at head, copied for every test."""
    path = tmp_path_factory.mktemp("template") / "grantflow.sqlite"
    engine = create_engine(path)
    try:
        upgrade(engine, models_for())
    finally:
        engine.dispose()  # the last connection to close checkpoints and removes the WAL
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def _pg_cleaner(pg_database: str) -> Iterator[Callable[[], None]]:
    engine = create_engine(pg_database)
    models = models_for()
    names = ", ".join(f'"{t}"' for t in models.table_names())
    admin = models.AdminEvent.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:  # what the migrations wrote: the trust record (0006)
        first_records = [dict(r) for r in conn.execute(sa.select(admin)).mappings()]

    def clear() -> None:
        with engine.begin() as conn:
            # the log tables are append-only (triggers refuse TRUNCATE too); the test server's
            # superuser switches user triggers off for this one transaction
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(sa.text(f"DELETE FROM {models.version_table}"))
            conn.execute(
                sa.text(f"INSERT INTO {models.version_table} VALUES (:head)"),
                {"head": schema_head()},
            )
            conn.execute(sa.insert(admin), first_records)

    yield clear
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL (SQLite file or PostgreSQL) at head with empty grantflow tables."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "grantflow.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    request.getfixturevalue("_pg_cleaner")()
    return url


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL without any tables (a fresh SQLite file or PostgreSQL database)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    make: Callable[[], str] = request.getfixturevalue("make_pg_database")
    return make()


@pytest.fixture
def app(db_url: str) -> Iterator[Grantflow]:
    """grantflow on ``db_url`` (schema at head, no actors, no programs)."""
    gf = Grantflow.open(db_url)
    yield gf
    gf.close()
