"""Fixtures for driving the CLI: a fresh SQLite database with actors and both programs."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from grantflow_cli.main import cli

NRW = "nrw-digitale-modellregionen"
MPSC = "smart-cities-mpsc"
NRW_ATTEST = ["it-standards", "portal-interop", "transferability", "ozg", "free-reuse"]

Run = Callable[..., Result]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite"


CAST = (
    ("carla", "clerk"),
    ("anton", "approver"),
    ("berta", "approver"),
    ("fiona", "finance"),
    ("udo", "auditor"),
)
GROUP = {"admin": "grantflow_admin", "auditor": "grantflow_auditor"}
OWNER = ""
"""``run(..., actor=OWNER)``: as the owner of the tables (PostgreSQL), naming nobody."""


@pytest.fixture
def pg_logins() -> dict[str, str]:
    """actor -> PostgreSQL login of the CLI fixtures (empty on SQLite; filled by ``setup``)."""
    return {}


@pytest.fixture
def run(db: Path | str, monkeypatch: pytest.MonkeyPatch, pg_logins: dict[str, str]) -> Run:
    """``run("propose", ..., actor="carla")`` -> click Result, against the test database.

    On SQLite the database takes declared identities (``init --declared-actors``), so
    ``--actor`` names the person. On PostgreSQL every person has their own database login
    (made by ``setup``), and the command connects as that login: grantflow takes the actor
    from it."""
    monkeypatch.delenv("GRANTFLOW_DB", raising=False)
    monkeypatch.delenv("GRANTFLOW_ACTOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def invoke(*args: str, actor: str = "ada", json: bool = False) -> Result:
        location = str(db)
        if location.startswith("postgresql") and actor in pg_logins:
            location = (
                make_url(location)
                .set(username=pg_logins[actor])
                .render_as_string(hide_password=False)
            )
        argv: list[str] = ["--db", location]
        if actor != OWNER:
            argv += ["--actor", actor]
        if json:
            argv.append("--json")
        return runner.invoke(cli, [*argv, *args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def pg_people(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Database logins for the CLI fixtures' people on the test server (made once, dropped at
    the end), each a member of the group its role needs."""
    admin_engine: sa.Engine = request.getfixturevalue("pg_admin")
    suffix = secrets.token_hex(3)
    logins = {name: f"gf_{name}_{suffix}" for name in ("ada", *(n for n, _ in CAST))}
    with admin_engine.connect() as conn:
        conn.execute(
            sa.text(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                "'grantflow_staff') THEN CREATE ROLE grantflow_staff NOLOGIN; END IF; "
                "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grantflow_admin') THEN "
                "CREATE ROLE grantflow_admin NOLOGIN; END IF; IF NOT EXISTS (SELECT FROM "
                "pg_roles WHERE rolname = 'grantflow_auditor') THEN CREATE ROLE "
                "grantflow_auditor NOLOGIN; END IF; END $$"
            )
        )
        roles = {"ada": "admin", **dict(CAST)}
        for name, login in logins.items():
            conn.execute(sa.text(f"CREATE ROLE {login} LOGIN"))
            conn.execute(sa.text(f"GRANT {GROUP.get(roles[name], 'grantflow_staff')} TO {login}"))
    yield logins
    with admin_engine.connect() as conn:
        for login in logins.values():
            conn.execute(sa.text(f"DROP OWNED BY {login}"))
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {login}"))


@pytest.fixture
def setup(
    run: Run, db: Path | str, request: pytest.FixtureRequest, pg_logins: dict[str, str]
) -> Run:
    """A database with an admin, a clerk, two approvers, finance, an auditor, both programs."""
    postgres = str(db).startswith("postgresql")
    if postgres:  # the owner creates the schema, the groups and the first admin (ada's login)
        people: dict[str, str] = request.getfixturevalue("pg_people")
        r = run("init", "--admin", "ada", "--login", people["ada"], actor=OWNER)
        assert r.exit_code == 0, r.output
        assert run("db", "roles", actor=OWNER).exit_code == 0
        engine = sa.create_engine(str(db))
        try:
            with engine.begin() as conn:
                database = make_url(str(db)).database
                for login in people.values():
                    conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {login}'))
        finally:
            engine.dispose()
        pg_logins.update(people)
    else:
        assert run("init", "--admin", "ada", "--declared-actors").exit_code == 0
    for name, role in CAST:
        mapped: tuple[str, ...] = ("--login", pg_logins[name]) if postgres else ()
        r = run("actor", "add", name, "--role", role, *mapped)
        assert r.exit_code == 0, r.output
    for program in (NRW, MPSC):
        r = run("program", "load", program)
        assert r.exit_code == 0, r.output
    return run


def snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to prove a refusal or an error changed nothing."""
    con = sqlite3.connect(db)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select name from sqlite_master where type='table' and name not like 'sqlite_%' order by name"
            )
        ]
        return {t: sorted(con.execute(f'select * from "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def propose_nrw(
    run: Run, *extra: str, requested: str = "800000", costs: str = "1000000", json: bool = False
) -> Result:
    args: list[str] = [
        "propose",
        "--program",
        NRW,
        "--applicant",
        "stadt aachen",
        "--region",
        "aachen",
        "--focus",
        "e-government",
        "--title",
        "GovChain",
        "--costs",
        costs,
        "--requested",
        requested,
        "--private",
        "200000",
        "--start",
        "2019-06-01",
        "--end",
        "2021-06-30",
        "--date",
        "2019-03-01",
    ]
    for a in NRW_ATTEST:
        args += ["--attest", a]
    return run(*args, *extra, actor="carla", json=json)


def ids(result: Result) -> Sequence[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def revoked(setup: Run) -> str:
    """The Aachen grant (:func:`propose_nrw`): 800,000.00 approved, 200,000.00 paid on 2019-07-01, revoked for the
    past from 2022-11-15."""
    gid = propose_nrw(setup).stdout.strip()
    steps = [
        ("anton", "approve", gid, "--notice", "N-1", "--date", "2019-04-01", "--attest",
         "remedy-waiver"),
        ("carla", "start", gid, "--date", "2019-06-01"),
        ("fiona", "disburse", gid, "--amount", "200.000,00", "--date", "2019-07-01"),
        ("anton", "revoke", gid, "--notice", "W-1", "--date", "2022-11-15", "--reason",
         "kein Verwendungsnachweis"),
    ]  # fmt: skip
    for actor, *args in steps:
        r = setup(*args, actor=actor)
        assert r.exit_code == 0, r.output
    return gid
