"""A reader that goes away early (``grantflow demo | head -3``) ends nothing half way.

The demo writes a whole database, seals it with a checkpoint and verifies it whatever happens
to its output, and then ends quietly (exit 0, nothing on stderr), as ``grantflow log | head``
does. Tables printed into a closed pipe end the same way (rich alone would exit 1).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

GRANTFLOW = [sys.executable, "-m", "grantflow_cli"]


def _env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GRANTFLOW_DB", None)
    env.pop("GRANTFLOW_ACTOR", None)
    return env


def _verified(db: Path) -> dict[str, object]:
    r = subprocess.run(
        [*GRANTFLOW, "--db", str(db), "--json", "audit", "verify"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    report: dict[str, object] = json.loads(r.stdout)
    return report


def _whole(report: dict[str, object]) -> None:
    assert report["intact"] is True
    assert report["checkpoints"] == 1 and report["refused"] == 1
    assert report["transitions"] == 720 and report["grants"] == 49


def test_the_demo_finishes_when_its_reader_closes_the_pipe(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [*GRANTFLOW, "demo", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_env(),
        )
        assert proc.stdout is not None
        first = [proc.stdout.readline() for _ in range(3)]
        proc.stdout.close()  # the reader is gone while the demo still replays the program
        code = proc.wait(timeout=600)
    assert first[0].startswith("2018: program loaded")
    assert code == 0
    assert err_path.read_text() == ""
    _whole(_verified(db))


def test_demo_piped_into_head(tmp_path: Path) -> None:
    """The shell's way, with the exit code of grantflow rather than of head."""
    db = tmp_path / "demo.sqlite"
    cmd = shlex.join([*GRANTFLOW, "demo", "--db", str(db)])
    r = subprocess.run(
        ["bash", "-c", f"{cmd} | head -3; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert len(r.stdout.splitlines()) == 3
    _whole(_verified(db))


def test_a_table_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    init = subprocess.run(
        [*GRANTFLOW, "--db", str(db), "init", "--admin", "ada"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    cmd = shlex.join([*GRANTFLOW, "--db", str(db), "program", "list"])
    r = subprocess.run(  # `true` is gone before grantflow writes its first line
        ["bash", "-c", f"{cmd} | true; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
