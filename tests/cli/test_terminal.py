"""Stored text cannot attack the terminal that shows it.

An applicant, a title or a reason holding escape sequences (``ESC[2J`` clears the screen,
``ESC]8;;…`` makes a hidden link), other C0/C1 controls or bidi overrides (U+202E turns the
rest of a line around) is shown escaped in every table and line the CLI prints, and rich reads
no markup (``[red]``, ``[link=…]``) or emoji codes in it. ``--json`` stays exact.

grantflow refuses such text at the door today, but a database may hold it anyway: written
before grantflow checked text, or by another program. The tests put it there the second way,
straight into the SQLite file, and then read it through the CLI.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import unicodedata
from pathlib import Path

import pytest

from grantflow.domain.model import Severity, Verdict
from grantflow.errors import BadInput, RuleViolation
from grantflow_cli.errors import say_error
from grantflow_cli.output import UNSAFE_CATEGORIES, Output, printable
from tests.cli.conftest import NRW, NRW_ATTEST, Run

ESC = "\x1b"
TITLE = "[red]Gov[/red] :warning: [link=https://evil.example]click[/link] \x9b31m"
APPLICANT = "Stadt \x1b[2JAachen\u202eredlof\u202c \u2066x\u2069"
REASON = "ok\rFAKE \x07 \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ \u200b\U000e0041"
REFUSED_REASON = "\x1b[1A\x1b[2Kdone \x08\x7f\x00"


def _plant(db: Path, gid: str) -> None:
    """Give ``gid`` the hostile title, applicant and reasons, as another program might."""
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute(
                "UPDATE grants SET title = ?, applicant = ?, "
                "snapshot = json_set(snapshot, '$.title', ?, '$.applicant.lead', ?) WHERE id = ?",
                (TITLE, APPLICANT, TITLE, APPLICANT, gid),
            )
            for table in ("transitions", "refused_attempts"):  # append-only: not any more
                con.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only_update"')
            con.execute("UPDATE transitions SET reason = ? WHERE grant_id = ?", (REASON, gid))
            con.execute("UPDATE refused_attempts SET reason = ?", (REFUSED_REASON,))
    finally:
        con.close()


@pytest.fixture
def hostile(setup: Run, db: Path) -> str:
    """A grant whose title, applicant and reasons hold escape sequences and markup; one refused
    attempt on it."""
    args = ["propose", "--program", NRW, "--kind", "municipality", "--applicant", "Stadt X"]
    args += ["--region", "aachen", "--focus", "e-government", "--title", "T"]
    args += ["--costs", "1000000", "--requested", "800000", "--private", "200000"]
    args += ["--start", "2019-06-01", "--end", "2021-06-30", "--date", "2019-03-01"]
    for a in NRW_ATTEST:
        args += ["--attest", a]
    r = setup(*args, "--reason", "Antrag", actor="carla")
    assert r.exit_code == 0, r.output
    gid = r.stdout.strip()
    r = setup("approve", gid, "--notice", "N-1", "--date", "2019-02-01", actor="anton")
    assert r.exit_code == 1, r.output  # dated before the application: refused and logged
    _plant(db, gid)
    return gid


def _no_raw_controls(text: str) -> None:
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c != "\n" and unicodedata.category(c) in UNSAFE_CATEGORIES
        }
    )
    assert not bad, f"raw control or format characters in the output: {bad}"


def test_show_prints_stored_text_escaped_and_without_markup(setup: Run, hostile: str) -> None:
    r = setup("show", hostile)
    assert r.exit_code == 0, r.output
    _no_raw_controls(r.stdout)
    assert "Stadt \\x1b[2JAachen\\u202eredlof\\u202c \\u2066x\\u2069" in r.stdout
    assert "[red]Gov[/red] :warning: [link=https://evil.example]click[/link] \\x9b31m" in r.stdout


def test_list_prints_stored_text_escaped(setup: Run, hostile: str) -> None:
    r = setup("list")
    assert r.exit_code == 0, r.output
    _no_raw_controls(r.stdout)
    assert "Stadt \\x1b[2JAachen\\u202e" in r.stdout
    assert "[red]Gov[/red]" in r.stdout and "[link=https://evil.example]" in r.stdout
    assert "⚠" not in r.stdout  # no emoji code read either


def test_log_table_prints_reasons_escaped(setup: Run, hostile: str) -> None:
    r = setup("log", hostile)
    assert r.exit_code == 0, r.output
    _no_raw_controls(r.stdout)
    out = r.stdout.replace("\n", "")  # rich may wrap a long cell; the escapes stay whole
    for shown in ("ok\\rFAKE", "\\x07", "\\x1b]8;;https://evil.example\\x1b", "\\u200b"):
        assert shown in out, shown
    assert "\\U000e0041" in out
    assert "\\x1b[1A\\x1b[2Kdone \\x08\\x7f\\x00" in out


def test_json_output_stays_exact(setup: Run, hostile: str) -> None:
    shown = json.loads(setup("show", hostile, json=True).stdout)
    assert shown["title"] == TITLE and shown["applicant"]["lead"] == APPLICANT
    listed = json.loads(setup("list", json=True).stdout)
    assert listed[0]["title"] == TITLE
    lines = [json.loads(x) for x in setup("log", "--format", "jsonl").stdout.splitlines()]
    assert {e["reason"] for e in lines if e.get("kind") == "transition"} == {REASON}
    assert {e["reason"] for e in lines if e.get("kind") == "refused"} == {REFUSED_REASON}
    as_json = json.loads(setup("log", hostile, json=True).stdout)
    assert [e["reason"] for e in as_json] == [REASON, REFUSED_REASON]


def test_refusals_and_errors_on_stderr_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = Verdict(
        rule_id="R-X",
        passed=False,
        severity=Severity.HARD,
        message=f"applicant {APPLICANT} may not",
        citation="\x1b]8;;https://evil.example\x1b\\VV\x1b]8;;\x1b\\",
    )
    say_error(RuleViolation("approve", "DMR-\x1b[2J", [verdict]))
    say_error(BadInput(f"no such thing: {REASON}"))
    err = capsys.readouterr().err
    _no_raw_controls(err)
    assert "approve of DMR-\\x1b[2J" in err
    assert "applicant Stadt \\x1b[2JAachen\\u202eredlof" in err
    assert "\\x1b]8;;https://evil.example\\x1b\\VV" in err
    assert "no such thing: ok\\rFAKE \\x07" in err


def test_a_hostile_argument_is_escaped_in_the_error(setup: Run) -> None:
    r = setup("log", "DMR-\x1b[2J\u202e")
    assert r.exit_code == 2
    _no_raw_controls(r.stderr)  # refused at the door (naming U+001B) or escaped, never raw
    assert "\\x1b[2J" in r.stderr or "U+001B" in r.stderr


def test_printable_escapes_exactly_the_unsafe_characters() -> None:
    assert printable("Stadt Münster – Süd 😀\u00a0ok") == "Stadt Münster – Süd 😀\u00a0ok"
    assert printable("a\nb") == "a\nb"  # a line break stays one
    assert printable("\x1b[2J\u202e\r\t\x00\x7f\x9b") == "\\x1b[2J\\u202e\\r\\t\\x00\\x7f\\x9b"
    assert printable("\U000e0041\u2028\ufeff") == "\\U000e0041\\u2028\\ufeff"
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if c != "\n" and unicodedata.category(c) in UNSAFE_CATEGORIES:
            assert printable(c).startswith("\\"), f"U+{code:04X}"


def test_output_lines_and_tables_read_no_markup(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as stream:
        out = Output(json_mode=False, stream=stream)
        out.line("[bold]x[/bold] :smile: \x1b[31m")
        out.table("[red]t[/red] \x1b", ("[b]c[/b]",), [("[i]v[/i] :x: \u202e",)])
    text = path.read_text(encoding="utf-8")
    _no_raw_controls(text)
    for literal in ("[bold]x[/bold] :smile: \\x1b[31m", "[red]t[/red] \\x1b", "[b]c[/b]"):
        assert literal in text
    assert "[i]v[/i] :x: \\u202e" in text
