"""Where the database is (URL, path, GRANTFLOW_DB, the default file) and how SQLite is opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import platformdirs
import pytest
import sqlalchemy as sa

from grantflow.errors import BadInput, NotFound
from grantflow.services import Grantflow, SchemaMissing
from grantflow.store.engine import create_engine, default_path, read_only, resolve_url


def test_a_bare_path_is_a_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = resolve_url("grants.sqlite")
    assert url.drivername == "sqlite"
    assert url.database == str(tmp_path / "grants.sqlite")
    assert resolve_url(tmp_path / "x.db").database == str(tmp_path / "x.db")


def test_urls_are_taken_as_they_are_but_postgres_gets_psycopg() -> None:
    assert resolve_url("sqlite:////tmp/a.sqlite").database == "/tmp/a.sqlite"
    for plain in ("postgresql://u:pw@h:5433/db", "postgres://u:pw@h:5433/db"):
        url = resolve_url(plain)
        assert url.drivername == "postgresql+psycopg"
        assert (url.username, url.password, url.host, url.port, url.database) == (
            "u",
            "pw",
            "h",
            5433,
            "db",
        )
    assert resolve_url("postgresql+psycopg://h/db").drivername == "postgresql+psycopg"
    with pytest.raises(BadInput, match="psycopg"):
        resolve_url("postgresql+psycopg2://h/db")
    with pytest.raises(BadInput):
        resolve_url("   ")


def test_the_environment_and_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTFLOW_DB", str(tmp_path / "env.sqlite"))
    assert resolve_url().database == str(tmp_path / "env.sqlite")
    assert resolve_url("other.sqlite").database != str(tmp_path / "env.sqlite")  # caller wins
    monkeypatch.delenv("GRANTFLOW_DB")
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    assert default_path() == tmp_path / "grantflow" / "grantflow.sqlite"
    assert resolve_url().database == str(tmp_path / "grantflow" / "grantflow.sqlite")


def test_open_creates_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRANTFLOW_DB", raising=False)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    with pytest.raises(SchemaMissing, match="grantflow init") as missing:
        Grantflow.open()
    assert isinstance(missing.value, NotFound)
    assert not (tmp_path / "grantflow").exists()  # refusing did not create a file
    with Grantflow.open(create=True) as gf:
        gf.init("ada")
        assert gf.url == f"sqlite:///{tmp_path / 'grantflow' / 'grantflow.sqlite'}"
    with Grantflow.open() as gf:
        assert [a.name for a in gf.actors()] == ["ada"]


def test_an_empty_database_without_create_is_refused(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaMissing, match="run `grantflow init`"):
        Grantflow.open(empty_db_url)


def test_sqlite_is_opened_with_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(tmp_path / "a.sqlite")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "lock.sqlite"
    engine = create_engine(path)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))  # a read only; BEGIN IMMEDIATE holds the lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again after the commit
        other.execute("ROLLBACK")
        with read_only(engine).begin() as conn:
            conn.execute(sa.text("SELECT 1"))  # deferred: no write lock
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_in_memory_sqlite_works_for_quick_experiments() -> None:
    with Grantflow.open("sqlite://", create=True) as gf:
        gf.init("ada")
        assert gf.actor("ada").name == "ada"
