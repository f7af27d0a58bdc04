"""A database with a known history, built once per backend and copied for every test that
tampers with it (a SQLite file copy; on PostgreSQL ``CREATE DATABASE … TEMPLATE``)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from grantflow.domain.commands import Withdraw
from grantflow.errors import Refused
from grantflow.services import Grantflow
from grantflow.store import models_for
from grantflow.testing import FixedClock
from tests.services.helpers import (
    approve,
    day,
    disburse,
    running_dmr_grant,
    set_up,
    small_proposal,
    start,
)


@attrs.frozen
class Scenario:
    """What the scenario database holds.

    * grant ``a`` (DMR): propose, approve, start, 4 payouts (records 1..7);
    * grant ``b`` (small program): propose, withdraw (no money rows: its rows can be swapped);
    * grant ``c`` (small program): propose, approve, start;
    * two refused attempts;
    * checkpoint 1 (``digest1``) after a's record 5, checkpoint 2 (``digest2``) at the end.
    """

    url: str
    a: str
    b: str
    c: str
    digest1: str
    digest2: str


def build(url: str, directory: Path) -> Scenario:
    clock = FixedClock("2026-03-02T09:00:00Z", step=dt.timedelta(seconds=7, microseconds=1))
    gf = Grantflow.open(url, create=True, clock=clock)
    try:
        set_up(gf, directory)
        a = running_dmr_grant(gf).id
        gf.act(a, disburse("1000.00", "2019-05-02"), actor="finn")
        gf.act(a, disburse("1000.00", "2019-06-03"), actor="finn")
        b = gf.propose(small_proposal("20000.00"), actor="clara").id
        with pytest.raises(Refused):
            gf.act(b, start("2021-03-01"), actor="clara")  # not approved yet: refused
        gf.act(b, Withdraw(date=day("2021-01-20"), reason="zurückgezogen"), actor="clara")
        c = gf.propose(small_proposal("30000.00", region="south"), actor="clara").id
        gf.act(c, approve("2021-02-01", "N-C"), actor="anton")
        gf.act(c, start("2021-03-01"), actor="clara")
        digest1 = gf.digest(by="audrey").digest
        with pytest.raises(Refused):
            gf.act(a, disburse("900000.00", "2019-07-01"), actor="finn")  # over the ceiling
        gf.act(a, disburse("1000.00", "2019-07-01"), actor="finn")
        gf.act(a, disburse("1000.00", "2019-08-01"), actor="finn")
        digest2 = gf.digest(by="ada").digest
        assert gf.verify(digest1).intact and gf.verify(digest2).intact
    finally:
        gf.close()
    return Scenario(url, a, b, c, digest1, digest2)


@pytest.fixture(scope="session")
def sqlite_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    directory = tmp_path_factory.mktemp("scenario")
    path = directory / "scenario.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    engine.dispose()
    return build(f"sqlite:///{path}", directory)


@pytest.fixture(scope="session")
def pg_scenario(
    make_pg_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Scenario:
    url = make_pg_database()
    return build(url, tmp_path_factory.mktemp("pg-scenario"))


@pytest.fixture(scope="session")
def pg_copies(pg_server: URL, pg_admin: sa.Engine) -> Iterator[Callable[[str], str]]:
    """``copy(url)``: a new database on the test server made from the one at ``url``."""
    made: list[str] = []

    def copy(url: str) -> str:
        source = sa.make_url(url).database
        name = f"grantflow_tamper_{os.getpid()}_{secrets.token_hex(4)}"
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        made.append(name)
        return pg_server.set(database=name).render_as_string(hide_password=False)

    yield copy
    with pg_admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def scenario(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Scenario:
    """A private copy of the scenario database on ``backend``."""
    if backend == "sqlite":
        original: Scenario = request.getfixturevalue("sqlite_scenario")
        source = Path(sa.make_url(original.url).database or "")
        path = tmp_path / "scenario.sqlite"
        shutil.copyfile(source, path)
        return attrs.evolve(original, url=f"sqlite:///{path}")
    original = request.getfixturevalue("pg_scenario")
    copy: Callable[[str], str] = request.getfixturevalue("pg_copies")
    return attrs.evolve(original, url=copy(original.url))


def attacker(url: str) -> sa.Engine:
    """A plain engine, as someone with table access would use (no grantflow set-up)."""
    return sa.create_engine(
        sa.make_url(url).set(
            drivername="postgresql+psycopg" if url.startswith("postgresql") else "sqlite"
        )
    )


def drop_triggers(conn: sa.Connection) -> None:
    """What an attacker with the owner's rights does first."""
    if conn.dialect.name == "sqlite":
        names = conn.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
        for name in list(names):
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        return
    triggers = conn.execute(
        sa.text(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE 'grantflow%'"
        )
    ).all()
    for name, table in triggers:
        conn.execute(sa.text(f'DROP TRIGGER "{name}" ON "{table}"'))


def record_id(conn: sa.Connection, grant_id: str, seq: int) -> int:
    found: Any = conn.execute(
        sa.text("SELECT id FROM transitions WHERE grant_id = :g AND seq = :s"),
        {"g": grant_id, "s": seq},
    ).scalar_one()
    return int(found)


def rewrite_grant_row(conn: sa.Connection, grant_id: str) -> None:
    """What a careful attacker does after cutting records: write the grant's row as the replay
    of the records that are left (with grantflow's own code), so the row agrees with the log."""
    from grantflow.domain import lifecycle
    from grantflow.store import mapping
    from grantflow.store.repository import Store

    models = models_for()
    grant = lifecycle.replay(Store(conn, models).records(grant_id))
    assert grant is not None
    values = mapping.grant_values(grant, now=pendulum.now("UTC"))
    G = models.Grant.__table__  # type: ignore[attr-defined]
    conn.execute(
        sa.update(G)
        .where(G.c.id == grant_id)
        .values({c: values[c] for c in mapping.CHANGING if c != "updated_at"})
    )
