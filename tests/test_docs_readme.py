"""The README's quick start shows what ``make demo`` really prints.

Only what must differ between runs is set aside: the directory the demo writes to, the hash of
the checkpoint (it covers the recording times), and the date of the report's "today" row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner

from grantflow_cli.main import cli

README = Path(__file__).parents[1] / "README.md"
OPENING = "```text\n.venv/bin/grantflow demo\n"


def readme_demo_block() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(OPENING) + len(OPENING)
    return text[start : text.index("```", start)]


def normalised(output: str, today: str) -> str:
    output = re.sub(r"gf1-(\d+)-[0-9a-f]{64}", r"gf1-\1-<hash>", output)
    output = re.sub(
        r"steps written to \S*/grantflow-demo\.sqlite", "steps written to <dir>", output
    )
    return output.replace(f"| {today} |", "| <today> |")


def test_the_readme_quick_start_shows_the_demo_as_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    today = pendulum.today("Europe/Berlin").date().format("DD.MM.YYYY")
    shown = readme_demo_block()
    rows = [line for line in shown.splitlines() if line.startswith("| ") and "EUR" in line]
    assert len(rows) == 3, "the README shows the three report rows of the demo"
    shown_today = rows[-1].split(" | ")[0].removeprefix("| ")
    assert normalised(shown, shown_today) == normalised(result.stdout, today)
