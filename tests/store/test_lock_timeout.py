"""Waiting for another writer is bounded, on SQLite and PostgreSQL alike.

Another connection holds the grant (PostgreSQL: its row ``FOR UPDATE``; SQLite: the write
lock). A step on that grant waits at most the lock timeout, then ends in ConcurrentUpdate (CLI
exit 4, one sentence) and the database is as it was. The timeout is the ``lock_timeout``
keyword of :func:`grantflow.store.create_engine` or ``GRANTFLOW_LOCK_TIMEOUT`` (seconds).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from grantflow.errors import BadInput, ConcurrentUpdate
from grantflow.services import Grantflow
from grantflow.services.app import os_login
from grantflow.store import create_engine
from grantflow.store.engine import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_TIMEOUT_ENV_VAR,
    lock_timeout_ms,
    sqlite_file,
)
from grantflow_cli.main import cli
from tests.services.helpers import approve, dmr_proposal, set_up, start, table_contents

BOUND = 10.0
"""Seconds a step may take at most here: its tries (1 + retries) times a short timeout, plus
the back-off between them, with room for a slow machine."""


@pytest.fixture
def approved(app: Grantflow) -> str:
    """An approved DMR grant; the app's tables hold the people and the program."""
    set_up(app)
    g = app.propose(dmr_proposal(), actor="clara")
    return app.act(g.id, approve(), actor="anton").id


@contextmanager
def holding(db_url: str, grant_id: str) -> Iterator[None]:
    """Another connection holds ``grant_id`` until the block ends: PostgreSQL its row
    ``FOR UPDATE``, SQLite the database's write lock (SQLite locks no single rows)."""
    url = sa.make_url(db_url)
    path = sqlite_file(url)
    if path is not None:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            yield
            con.execute("ROLLBACK")
        finally:
            con.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            locked = conn.execute(
                sa.text("SELECT id FROM grants WHERE id = :id FOR UPDATE"), {"id": grant_id}
            ).scalar_one()
            assert locked == grant_id
            yield
            conn.rollback()
    finally:
        engine.dispose()


def test_a_step_waits_at_most_the_lock_timeout(db_url: str, app: Grantflow, approved: str) -> None:
    before = table_contents(app)
    gf = Grantflow(create_engine(db_url, lock_timeout=0.3), retries=1)
    try:
        with holding(db_url, approved):
            began = time.monotonic()
            with pytest.raises(ConcurrentUpdate) as caught:
                gf.act(approved, start(), actor="clara")
            waited = time.monotonic() - began
    finally:
        gf.close()
    assert 0.3 <= waited < BOUND
    assert "retrying the step is safe" in str(caught.value)
    assert table_contents(app) == before


def test_the_cli_ends_in_exit_4_with_a_sentence(
    db_url: str, app: Grantflow, approved: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI acts as the login that runs it: map clara to it (PostgreSQL's session user, the
    # OS login on SQLite)
    assert app.engine is not None
    with app.engine.connect() as conn:
        login = (
            conn.exec_driver_sql("SELECT session_user").scalar_one()
            if conn.dialect.name == "postgresql"
            else os_login()
        )
    app.set_login("clara", login, by="ada")
    before = table_contents(app)
    monkeypatch.setenv(LOCK_TIMEOUT_ENV_VAR, "0.25")
    monkeypatch.setenv("NO_COLOR", "1")
    argv = ["--db", db_url, "--actor", "clara", "start", approved, "--date", "2019-04-01"]
    with holding(db_url, approved):
        began = time.monotonic()
        r = CliRunner().invoke(cli, argv, catch_exceptions=False)
        waited = time.monotonic() - began
    assert r.exit_code == 4, r.output
    assert waited < BOUND
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "retrying the step is safe" in lines[0]
    if app.engine is not None and app.engine.dialect.name == "postgresql":
        assert "longer than the lock timeout" in lines[0] and LOCK_TIMEOUT_ENV_VAR in lines[0]
    assert "SELECT" not in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert table_contents(app) == before
    # once the other writer is done, the same step goes through
    r = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert r.exit_code == 0, r.output


def test_engines_get_the_lock_timeout(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def setting(engine: sa.Engine) -> int:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
            row = conn.exec_driver_sql(
                "SELECT setting, unit FROM pg_settings WHERE name = 'lock_timeout'"
            ).one()
            assert row.unit == "ms", row
            return int(row.setting)

    monkeypatch.delenv(LOCK_TIMEOUT_ENV_VAR, raising=False)
    cases = [({}, round(DEFAULT_LOCK_TIMEOUT * 1000)), ({"lock_timeout": 2.5}, 2500)]
    for kw, expected in cases:
        engine = create_engine(db_url, **kw)
        try:
            assert setting(engine) == expected
            with engine.begin() as conn:  # still set after a transaction ended
                conn.exec_driver_sql("SELECT 1")
            assert setting(engine) == expected
        finally:
            engine.dispose()
    monkeypatch.setenv(LOCK_TIMEOUT_ENV_VAR, "0.5")
    engine = create_engine(db_url)
    try:
        assert setting(engine) == 500
    finally:
        engine.dispose()
    engine = create_engine(db_url, lock_timeout=1)  # the keyword wins over the variable
    try:
        assert setting(engine) == 1000
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("raw", "ms"),
    [("10", 10_000), ("2.5", 2500), (" 0.001 ", 1), (".5", 500), ("3600", 3_600_000), ("", 10_000)],
)
def test_the_variable(raw: str, ms: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV_VAR, raw)
    assert lock_timeout_ms() == ms


@pytest.mark.parametrize(
    "raw", ["0", "-1", "abc", "1e3", "inf", "nan", "10s", "3601", "١٠", "1,5", "0.0001"]
)
def test_a_bad_variable_is_bad_input(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV_VAR, raw)
    with pytest.raises(BadInput, match=LOCK_TIMEOUT_ENV_VAR) as caught:
        lock_timeout_ms()
    assert "seconds" in str(caught.value)


@pytest.mark.parametrize("value", [0, -1, 3601, float("inf"), float("nan"), True, "10"])
def test_a_bad_keyword_is_bad_input(value: object, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="lock timeout must be a number of seconds"):
        create_engine(tmp_path / "x.sqlite", lock_timeout=value)  # type: ignore[arg-type]


def test_the_cli_says_what_a_bad_variable_should_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV_VAR, "forever")
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.sqlite"), "init"])
    assert r.exit_code == 2
    assert LOCK_TIMEOUT_ENV_VAR in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.sqlite").exists()
