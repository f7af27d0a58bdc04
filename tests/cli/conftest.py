"""Fixtures for driving the CLI: a fresh SQLite database with actors and both programs."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grantflow_cli.main import cli

NRW = "nrw-digitale-modellregionen"
MPSC = "smart-cities-mpsc"
NRW_ATTEST = ["it-standards", "portal-interop", "transferability", "ozg", "free-reuse"]

Run = Callable[..., Result]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite"


@pytest.fixture
def run(db: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("propose", ..., actor="carla")`` -> click Result, against the test database."""
    monkeypatch.delenv("GRANTFLOW_DB", raising=False)
    monkeypatch.delenv("GRANTFLOW_ACTOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def invoke(*args: str, actor: str = "ada", json: bool = False) -> Result:
        argv: list[str] = ["--db", str(db), "--actor", actor]
        if json:
            argv.append("--json")
        return runner.invoke(cli, [*argv, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def setup(run: Run) -> Run:
    """A database with an admin, a clerk, two approvers, finance, an auditor, both programs."""
    assert run("init", "--admin", "ada").exit_code == 0
    for name, role in (
        ("carla", "clerk"),
        ("anton", "approver"),
        ("berta", "approver"),
        ("fiona", "finance"),
        ("udo", "auditor"),
    ):
        r = run("actor", "add", name, "--role", role)
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
