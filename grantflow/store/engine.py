"""Where the database is and how grantflow connects to it.

:func:`resolve_url` turns what a caller gives into a SQLAlchemy URL:

* a URL (``postgresql+psycopg://…``, ``sqlite:///…``): used as it is, except that a plain
  ``postgresql://`` (or ``postgres://``) URL is given the psycopg 3 driver;
* anything else is a path to a SQLite file;
* nothing: the ``GRANTFLOW_DB`` environment variable, and without it the file
  ``grantflow.sqlite`` in the user's data directory
  (``platformdirs.user_data_dir("grantflow")``, for example
  ``~/.local/share/grantflow/grantflow.sqlite`` on Linux).

:func:`create_engine` opens SQLite with WAL, foreign keys on, a busy timeout and
``BEGIN IMMEDIATE`` for write transactions (the documented pysqlite recipe: pysqlite's own
transaction handling is switched off and SQLAlchemy's ``begin`` event emits the ``BEGIN``), so a
write transaction holds the database's write lock from its first statement. Read-only work runs
on :func:`read_only` engines, which begin with a plain (deferred) ``BEGIN``.

Waiting for another writer is bounded on both databases by one *lock timeout*: SQLite's busy
timeout, PostgreSQL's ``lock_timeout`` (set on every connection, :func:`configure_postgresql`).
It is the ``lock_timeout`` keyword of :func:`create_engine` in seconds, else the
``GRANTFLOW_LOCK_TIMEOUT`` environment variable, else :data:`DEFAULT_LOCK_TIMEOUT` (10 s). A
statement that waits longer fails (SQLite ``database is locked``, PostgreSQL ``55P03``
lock_not_available), which :mod:`grantflow.store.conflicts` turns into ConcurrentUpdate: nothing
was written and trying again is safe.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import URL, Engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from grantflow.errors import BadInput

ENV_VAR = "GRANTFLOW_DB"
"""Environment variable naming the database when the caller names none."""

DEFAULT_FILENAME = "grantflow.sqlite"

LOCK_TIMEOUT_ENV_VAR = "GRANTFLOW_LOCK_TIMEOUT"
"""Environment variable: how many seconds a statement waits for another writer's lock."""

DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a statement waits for another writer's lock when nothing else is said."""

MAX_LOCK_TIMEOUT = 3600.0
"""The longest lock timeout grantflow accepts (an hour): waiting is meant to be bounded."""

MIN_LOCK_TIMEOUT = 0.001
"""The shortest lock timeout (a millisecond, what both databases count in)."""

SQLITE_BUSY_TIMEOUT_MS = round(DEFAULT_LOCK_TIMEOUT * 1000)
"""How long a SQLite writer waits for the write lock before giving up (``database is locked``),
unless the lock timeout is set otherwise."""

_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")

BEGIN_OPTION = "grantflow_begin"
"""Execution option read by the SQLite ``begin`` hook: ``IMMEDIATE`` (default) or ``DEFERRED``."""


def default_path() -> Path:
    """The database file used when nothing names one:
    ``platformdirs.user_data_dir("grantflow") / "grantflow.sqlite"``."""
    return Path(platformdirs.user_data_dir("grantflow")) / DEFAULT_FILENAME


def resolve_url(db: str | os.PathLike[str] | URL | None = None) -> URL:
    """The database URL for ``db``, ``$GRANTFLOW_DB`` or the default file (module docstring)."""
    if isinstance(db, URL):
        return _with_driver(db)
    value = os.fspath(db) if db is not None else os.environ.get(ENV_VAR) or None
    if value is None:
        return sqlite_url(default_path())
    value = value.strip()
    if not value:
        raise BadInput("the database must not be empty: give a URL or a file path")
    if "://" in value or value.startswith("sqlite:"):
        try:
            return _with_driver(make_url(value))
        except ArgumentError as exc:
            raise BadInput(f"{value!r} is not a database URL: {exc}") from None
    return sqlite_url(Path(value))


def sqlite_url(path: Path) -> URL:
    """``sqlite:///<absolute path>``."""
    return URL.create("sqlite", database=str(path.expanduser().resolve()))


def _with_driver(url: URL) -> URL:
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql") or (
        backend == "sqlite" and url.get_driver_name() != "pysqlite"
    ):
        raise BadInput(
            f"grantflow works with SQLite (a file path or sqlite:///PATH) and PostgreSQL "
            f"(postgresql+psycopg://USER@HOST/DATABASE); a {url.drivername[:40]}:// URL is neither"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        raise BadInput(
            f"grantflow talks to PostgreSQL through psycopg 3; use a postgresql+psycopg:// URL "
            f"(got {url.drivername})"
        )
    return url


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; ``None`` for in-memory databases and other databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database)


def lock_timeout_ms(seconds: float | None = None) -> int:
    """The lock timeout in milliseconds: ``seconds``, else ``$GRANTFLOW_LOCK_TIMEOUT``, else
    :data:`DEFAULT_LOCK_TIMEOUT`.

    Raises BadInput unless it is a number of seconds from :data:`MIN_LOCK_TIMEOUT` to
    :data:`MAX_LOCK_TIMEOUT` (the variable: plain ASCII digits with an optional decimal point,
    ``2.5``).
    """
    if seconds is None:
        raw = os.environ.get(LOCK_TIMEOUT_ENV_VAR, "").strip()
        if not raw:
            seconds = DEFAULT_LOCK_TIMEOUT
        elif not _SECONDS.fullmatch(raw):
            raise BadInput(
                f"{LOCK_TIMEOUT_ENV_VAR} must be a number of seconds such as 10 or 2.5, "
                f"from {MIN_LOCK_TIMEOUT:g} to {MAX_LOCK_TIMEOUT:g} (got {raw[:40]!r})"
            )
        else:
            seconds = float(raw)
        where = LOCK_TIMEOUT_ENV_VAR
    else:
        where = "the lock timeout"
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not MIN_LOCK_TIMEOUT <= seconds <= MAX_LOCK_TIMEOUT
    ):
        raise BadInput(
            f"{where} must be a number of seconds from {MIN_LOCK_TIMEOUT:g} to "
            f"{MAX_LOCK_TIMEOUT:g} (got {seconds!r})"
        )
    return max(1, round(seconds * 1000))


def create_engine(
    db: str | os.PathLike[str] | URL | None = None,
    *,
    lock_timeout: float | None = None,
    **kw: Any,
) -> Engine:
    """An engine for ``db`` (see :func:`resolve_url`), configured as grantflow needs it.

    ``lock_timeout`` is how many seconds a statement waits for another writer's lock before it
    fails (and the step ends in ConcurrentUpdate); without it ``$GRANTFLOW_LOCK_TIMEOUT``, else
    10 seconds (:func:`lock_timeout_ms`). Other keyword arguments go to
    :func:`sqlalchemy.create_engine`.
    """
    url = resolve_url(db)
    timeout_ms = lock_timeout_ms(lock_timeout)
    if url.get_backend_name() == "sqlite":
        if sqlite_file(url) is None:
            kw.setdefault("poolclass", StaticPool)
            kw.setdefault("connect_args", {"check_same_thread": False})
        engine = sa.create_engine(url, **kw)
        configure_sqlite(engine, busy_timeout_ms=timeout_ms)
        return engine
    if url.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the installation
            raise BadInput(
                "PostgreSQL needs psycopg 3: pip install 'grantflow[postgres]'"
            ) from None
        engine = sa.create_engine(url, **kw)
        configure_postgresql(engine, lock_timeout_ms=timeout_ms)
        return engine
    return sa.create_engine(url, **kw)


def configure_postgresql(engine: Engine, *, lock_timeout_ms: int) -> None:
    """Apply grantflow's PostgreSQL set-up to ``engine`` (before it opens its first
    connection): every connection gets ``SET lock_timeout``, so a statement waiting longer than
    ``lock_timeout_ms`` for a lock fails with ``55P03`` (lock_not_available) instead of waiting
    as long as the other transaction runs."""
    timeout = int(lock_timeout_ms)

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # outside a transaction, or the rollback at the end of the first one would undo it
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"SET lock_timeout = {timeout}")
            finally:
                cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", on_connect, insert=True)


def configure_sqlite(engine: Engine, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Apply grantflow's SQLite set-up to ``engine`` (before it opens its first connection).

    WAL journal, foreign keys, a busy timeout, pysqlite's own transaction handling off, and a
    ``begin`` hook emitting ``BEGIN IMMEDIATE`` (``BEGIN DEFERRED`` on :func:`read_only`
    engines). This changes how every transaction on ``engine`` begins, so apply it only to an
    engine whose users expect that.
    """

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def read_only(engine: Engine) -> Engine:
    """``engine`` for read-only transactions: on SQLite they begin ``DEFERRED`` and so do not
    take the write lock. Other databases are not affected."""
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


__all__ = [
    "DEFAULT_FILENAME",
    "DEFAULT_LOCK_TIMEOUT",
    "ENV_VAR",
    "LOCK_TIMEOUT_ENV_VAR",
    "MAX_LOCK_TIMEOUT",
    "MIN_LOCK_TIMEOUT",
    "SQLITE_BUSY_TIMEOUT_MS",
    "configure_postgresql",
    "configure_sqlite",
    "create_engine",
    "default_path",
    "lock_timeout_ms",
    "read_only",
    "resolve_url",
    "sqlite_file",
    "sqlite_url",
]
