"""The exports an auditor takes away: JSON lines that ``docs/verify_log.py`` verifies without
grantflow (run as a subprocess on stdlib alone), CSV with the hashes, and every log filter."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from grantflow.audit import entries
from grantflow.errors import Refused
from grantflow.services import Grantflow
from grantflow_cli.main import cli
from tests.audit.conftest import Scenario
from tests.services.helpers import small_proposal

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_log.py"


def grantflow(url: str, *args: str, actor: str = "ada") -> Result:
    return CliRunner().invoke(cli, ["--db", url, "--actor", actor, *args])


def jsonl(url: str, *filters: str) -> list[dict[str, Any]]:
    r = grantflow(url, "log", *filters, "--format", "jsonl")
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines()]


def verify_log(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The auditor's script on ``lines``, in a fresh interpreter that sees only the standard
    library (``-I -S``: no site-packages, so no grantflow to import)."""
    export = tmp_path / "log.jsonl"
    export.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), str(export), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


def test_the_export_round_trips_and_every_line_rehashes(scenario: Scenario) -> None:
    lines = jsonl(scenario.url)
    kinds = [line["kind"] for line in lines]
    assert kinds.count("transition") == 12 and kinds.count("refused") == 2
    assert kinds[-2:] == ["checkpoint", "checkpoint"]
    # the administrative chain (actors, guideline loads) comes before the checkpoints
    admin = [line for line in lines if line["kind"] == "admin"]
    assert [a["admin_id"] for a in admin] == list(range(1, len(admin) + 1))
    assert admin[0]["action"] == "trust" and lines.index(admin[0]) == 14
    for line in lines:
        assert entries.line_hash(line) == line["hash"], line["log_id"]
        assert set(line) >= {"kind", "prev_hash", "hash", "log_id"}
    changed = {**lines[0], "reason": lines[0]["reason"] + "."}
    assert entries.line_hash(changed) != changed["hash"]
    first = lines[0]
    assert all(
        re.fullmatch(r"2026-03-02T09:0\d:\d\d\.\d{6}\+00:00", x["recorded_at"]) for x in lines[:14]
    )
    assert first["business_date"] == "2019-02-01" and first["seq"] == 1
    assert first["actor_auth"] == "host-application" and len(first["state_hash"]) == 64
    assert json.loads(grantflow(scenario.url, "--json", "log").stdout) == lines


def test_the_csv_carries_the_hashes(scenario: Scenario) -> None:
    r = grantflow(scenario.url, "log", "--format", "csv", "--decimal-comma")
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff")), delimiter=";"))
    by_id = {line["log_id"]: line for line in jsonl(scenario.url)}
    assert len(rows) == 14
    for row in rows:
        assert (row["hash"], row["prev_hash"]) == (
            by_id[row["log_id"]]["hash"],
            by_id[row["log_id"]]["prev_hash"],
        )
        assert row["recorded_at"] == by_id[row["log_id"]]["recorded_at"]


def test_the_stand_alone_script_verifies_a_real_export(scenario: Scenario, tmp_path: Path) -> None:
    lines = [json.dumps(x, ensure_ascii=False) for x in jsonl(scenario.url)]
    done = verify_log(tmp_path, lines, "--digest", scenario.digest2)
    assert done.returncode == 0, done.stderr
    admin = sum(1 for line in lines if '"kind": "admin"' in line)
    assert admin >= 10  # the trust record, ada and the people, the guideline versions
    assert done.stdout.strip() == (
        "intact: 12 transitions in 3 grants, 2 refused attempts, 2 checkpoints, "
        f"{admin} administrative records"
    )


def _tampered(lines: list[dict[str, Any]], how: str, sc: Scenario) -> tuple[list[str], list[str]]:
    """The export changed as ``how`` says; returns (lines, extra script arguments)."""
    out = [dict(x) for x in lines]
    index = {(x.get("grant_id"), x.get("seq")): i for i, x in enumerate(out)}
    args: list[str] = []
    if how == "changed field":
        out[index[(sc.a, 4)]]["data"]["amount"] = "9000.00"
    elif how == "deleted line":
        del out[index[(sc.a, 3)]]
    elif how == "inserted line":
        copy = dict(out[index[(sc.a, 3)]])
        out.insert(index[(sc.a, 3)] + 1, copy)
    elif how == "swapped lines":
        i, j = index[(sc.a, 4)], index[(sc.a, 5)]
        out[i], out[j] = out[j], out[i]
    elif how == "truncated tail":
        # a's newest two records and the checkpoint that sealed them are gone
        drop = {index[(sc.a, 6)], index[(sc.a, 7)]}
        out = [x for i, x in enumerate(out) if i not in drop and x.get("checkpoint_id") != 2]
        args = ["--digest", sc.digest2]
    elif how == "changed refused attempt":
        next(x for x in out if x["kind"] == "refused")["actor"] = "ada"
    elif how == "changed checkpoint":
        next(x for x in out if x["kind"] == "checkpoint")["created_by"] = "ada"
    return [json.dumps(x, ensure_ascii=False) for x in out], args


@pytest.mark.parametrize(
    "how",
    [
        "changed field",
        "deleted line",
        "inserted line",
        "swapped lines",
        "truncated tail",
        "changed refused attempt",
        "changed checkpoint",
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_stand_alone_script_finds_tampering(
    scenario: Scenario, tmp_path: Path, how: str
) -> None:
    lines, args = _tampered(jsonl(scenario.url), how, scenario)
    done = verify_log(tmp_path, lines, *args)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert done.stderr.startswith("BROKEN: ")
    if how == "truncated tail":  # without the digest the shortened export is consistent
        assert verify_log(tmp_path, lines).returncode == 0


def test_a_filtered_export_is_not_the_whole_log(scenario: Scenario, tmp_path: Path) -> None:
    lines = jsonl(scenario.url, "--since", "2019-05-01")
    assert not [x for x in lines if x["kind"] == "checkpoint"]
    done = verify_log(tmp_path, [json.dumps(x) for x in lines])
    assert done.returncode == 3  # the chains have gaps, and the script says so


def test_log_filters(scenario: Scenario) -> None:
    everything = jsonl(scenario.url)
    steps = [x for x in everything if x["kind"] in ("transition", "refused")]
    with Grantflow.open(scenario.url) as gf:
        with pytest.raises(Refused):  # finance may not propose: a refused application
            gf.propose(small_proposal("5000.00", region="north"), actor="finn")
        refused_application = [e for e in gf.log() if e.refused and e.grant_id is None]
        assert len(refused_application) == 1
    north = jsonl(scenario.url, "--region", "north")
    assert {x["grant_id"] for x in north} == {scenario.b, None}
    assert [x["kind"] for x in north].count("refused") == 2  # one on b, the application
    assert {x["grant_id"] for x in jsonl(scenario.url, "--region", "south")} == {scenario.c}
    # recorded time: Berlin time without an offset (UTC+1 in March), both ends inclusive
    times = sorted(x["recorded_at"] for x in steps)
    cut_from, cut_to = times[3], times[9]
    berlin = {t: _berlin(t) for t in (cut_from, cut_to)}
    window = jsonl(
        scenario.url, "--recorded-since", berlin[cut_from], "--recorded-until", berlin[cut_to]
    )
    assert [x["log_id"] for x in window] == [
        x["log_id"] for x in steps if cut_from <= x["recorded_at"] <= cut_to
    ]
    assert len(window) == 7
    with_offset = jsonl(scenario.url, "--recorded-since", cut_from)
    assert {x["recorded_at"] for x in with_offset} >= {cut_from, times[-1]}
    assert min(x["recorded_at"] for x in with_offset) == cut_from
    assert jsonl(scenario.url, "--recorded-until", "2026-03-01") == []
    assert len(jsonl(scenario.url, "--recorded-until", "02.03.2026")) == 14
    r = grantflow(scenario.url, "log", "--recorded-since", "gestern")
    assert r.exit_code == 2 and "not a date and time" in r.output


def _berlin(utc_iso: str) -> str:
    """``2026-03-02T09:00:21.000003+00:00`` as Berlin wall time without offset."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(utc_iso).astimezone(ZoneInfo("Europe/Berlin"))
    return moment.replace(tzinfo=None).isoformat()


def test_the_stand_alone_script_refuses_a_duplicated_key(
    scenario: Scenario, tmp_path: Path
) -> None:
    """A line whose ``reason`` appears twice: a JSON reader shows one value, the hash may cover
    the other. The script refuses the line instead of choosing."""
    lines = [json.dumps(x, ensure_ascii=False) for x in jsonl(scenario.url)]
    first = lines[0]
    assert first.endswith("}")
    lines[0] = first[:-1] + ', "reason": "anders"}'
    done = verify_log(tmp_path, lines)
    assert done.returncode == 3
    assert "the key 'reason' appears twice" in done.stderr


def test_an_empty_export_proves_nothing(tmp_path: Path) -> None:
    done = verify_log(tmp_path, [])
    assert done.returncode == 1
    assert done.stderr.startswith("nothing verified: the export holds no entries")
    assert "intact" not in done.stdout


def test_the_stand_alone_script_checks_the_grants_story(scenario: Scenario, tmp_path: Path) -> None:
    """Well-hashed lines that tell an impossible story: a payment above the amount granted, a
    record that does not start where the last ended. The script recomputes the hashes so only
    the lifecycle checks can catch them (it needs no grantflow)."""
    exported = jsonl(scenario.url)
    for how, words in (
        ("overpaid", "pays 898000.00 in all on a grant of 800000.00"),
        ("jump", "starts in closed"),
    ):
        out = [dict(x) for x in exported]
        line = next(x for x in out if x.get("grant_id") == scenario.a and x.get("seq") == 4)
        if how == "overpaid":
            line["data"] = {**line["data"], "amount": "898000.00"}
        else:
            line["from_state"] = "closed"
        # rehash the changed line and every later line of the grant (an attacker knows how)
        prev = line["prev_hash"]
        for x in out:
            if x.get("grant_id") == scenario.a and x.get("seq", 0) >= 4:
                x["prev_hash"] = prev
                x["hash"] = prev = entries.line_hash(x)
        done = verify_log(
            tmp_path, [json.dumps(x, ensure_ascii=False) for x in out if x["kind"] != "checkpoint"]
        )
        assert done.returncode == 3, (how, done.stdout, done.stderr)
        assert words in done.stderr, (how, done.stderr)
