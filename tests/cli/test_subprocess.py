"""A few commands through a real process: exit codes, stderr, start-up imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GRANTFLOW = [sys.executable, "-m", "grantflow_cli"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("GRANTFLOW_DB", None)
    return subprocess.run(
        [*GRANTFLOW, *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def test_help_does_not_import_sqlalchemy_or_rich() -> None:
    code = (
        "import sys, runpy; sys.argv = ['grantflow', '--help']\n"
        "try:\n"
        "    runpy.run_module('grantflow_cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'rich', 'alembic', 'psycopg') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "Usage: grantflow" in out
    assert out.strip().endswith("HEAVY:"), out


def test_exit_codes_and_messages_in_a_real_process(tmp_path: Path) -> None:
    db = str(tmp_path / "p.sqlite")
    assert _run("--db", db, "init", "--admin", "ada").returncode == 0
    r = _run("--db", db, "--actor", "ada", "program", "load", "smart-cities-mpsc")
    assert r.returncode == 0, r.stderr
    r = _run("--db", db, "--actor", "ada", "actor", "add", "carla", "--role", "clerk")
    assert r.returncode == 0, r.stderr
    r = _run("--db", db, "--actor", "carla", "show", "MPSC-2021-0001")
    assert r.returncode == 2
    assert "MPSC-2021-0001" in r.stderr and "Traceback" not in r.stderr
    r = _run("--db", db, "--actor", "carla", "start", "X", "--date", "31.02.2021")
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = _run("--db", db, "--json", "program", "list")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["id"] == "smart-cities-mpsc"
    r = _run("--db", db, "--actor", "carla", "actor", "add", "mallory", "--role", "admin")
    assert r.returncode == 1 and "you cannot act as carla" in r.stderr  # the OS login is ada's
    declared = str(tmp_path / "declared.sqlite")
    assert _run("--db", declared, "init", "--admin", "ada", "--declared-actors").returncode == 0
    r = _run("--db", declared, "--actor", "ada", "actor", "add", "carla", "--role", "clerk")
    assert r.returncode == 0, r.stderr
    r = _run("--db", declared, "--actor", "carla", "actor", "add", "mallory", "--role", "admin")
    assert r.returncode == 1 and "needs the admin role" in r.stderr


@pytest.mark.parametrize("flag", ["--debug"])
def test_debug_shows_the_traceback(tmp_path: Path, flag: str) -> None:
    db = str(tmp_path / "d.sqlite")
    assert _run("--db", db, "init").returncode == 0
    r = _run("--db", db, flag, "show", "NOPE-1")
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    db = str(tmp_path / "b.sqlite")
    assert _run("--db", db, "init", "--admin", "ada").returncode == 0
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GRANTFLOW_DB", None)
    cmd = " ".join([*GRANTFLOW, "--db", db, "program", "export", "nrw-digitale-modellregionen"])
    r = subprocess.run(
        f"{cmd} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (
        r.stdout.startswith("#")
        and "internal error" not in r.stderr
        and "Traceback" not in r.stderr
    )
