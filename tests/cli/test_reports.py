"""Money and deadlines through the CLI: spending reports, the budget report, duties; the demo."""

from __future__ import annotations

import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grantflow.demo import FIRST_WAVE, FIRST_WAVE_FUNDING, FIRST_WAVE_PRIVATE, SECOND_WAVE
from grantflow_cli.main import cli

from .conftest import NRW, Run, propose_nrw, snapshot


def _running(run: Run) -> str:
    gid = propose_nrw(run).stdout.strip()
    assert (
        run("approve", gid, "--notice", "N1", "--date", "2019-05-02", actor="anton").exit_code == 0
    )
    assert run("start", gid, "--date", "2019-06-01", actor="carla").exit_code == 0
    return gid


def test_spending_reports_interim_proofs_and_duties(setup: Run) -> None:
    gid = _running(setup)
    r = setup("disburse", gid, "--amount", "300000", "--date", "2019-06-10", actor="fiona")
    assert r.exit_code == 0, r.output
    duties = json.loads(setup("due", "--as-of", "2019-09-01", json=True).stdout)
    unused = [d for d in duties if d["kind"] == "unused-funds"]
    assert [(d["grant"], d["due"], d["overdue"], d["amount"]) for d in unused] == [
        (gid, "2019-08-10", True, "300000.00")
    ]
    r = setup(
        "submit",
        gid,
        "--document",
        "spending-report",
        "--amount",
        "300.000,01",
        "--date",
        "2019-09-02",
        actor="carla",
    )
    assert r.exit_code == 1 and "GF-CEILING" in r.stderr and "300,000.00 EUR paid out" in r.stderr
    r = setup(
        "submit",
        gid,
        "--document",
        "spending-report",
        "--amount",
        "300000",
        "--date",
        "2019-09-02",
        actor="carla",
    )
    assert r.exit_code == 0, r.output
    r = setup("submit", gid, "--document", "interim-proof", "--date", "2020-04-20", actor="carla")
    assert r.exit_code == 0, r.output
    duties = json.loads(setup("due", "--as-of", "2020-05-01", json=True).stdout)
    # the 2019 interim proof is in; the one for 2020 is due 30 April 2021
    assert [(d["kind"], d["due"]) for d in duties if d["grant"] == gid] == [
        ("interim-proof", "2021-04-30"),
        ("period-end", "2021-06-30"),
        ("proof-of-use", "2021-12-31"),
    ]
    later = json.loads(setup("due", "--as-of", "2022-01-10", "--within", "10", json=True).stdout)
    proof = next(d for d in later if d["kind"] == "proof-of-use")
    # the funding period ends 2021-06-30: the proof is due at the end of the 6th month after
    assert proof["due"] == "2021-12-31" and proof["overdue"] and proof["days_overdue"] == 10
    r = setup("submit", gid, "--document", "proof-of-use", "--date", "2022-01-12", actor="carla")
    assert r.exit_code == 0
    assert json.loads(setup("due", "--as-of", "2022-01-13", json=True).stdout) == []
    # the close takes the proof's date from the submitted proof: late, so R-PROOF-6M says no
    r = setup("close", gid, "--date", "2022-02-01", "--final-costs", "1000000", actor="berta")
    assert r.exit_code == 1 and "R-PROOF-6M" in r.stderr and "2022-01-12" in r.stderr


def test_due_lists_a_refund_until_it_is_repaid(setup: Run, revoked: str) -> None:
    """200,000.00 paid, revoked on 2022-11-15: the refund is due that day (R-REFUND) and on
    2022-12-15 overdue by 15 + 15 = 30 days; 80,000.00 repaid on 2022-12-16 leave 120,000.00
    (31 days overdue); the rest repaid on 2023-03-01 ends the duty."""
    gid = revoked
    lead = json.loads(setup("show", gid, json=True).stdout)["applicant"]["lead"]
    r = setup("due", "--as-of", "2022-12-15", json=True)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [
        {
            "grant": gid,
            "program": NRW,
            "applicant": lead,
            "title": "GovChain",
            "kind": "refund",
            "due": "2022-11-15",
            "overdue": True,
            "days_overdue": 30,
            "rule_id": "R-REFUND",
            "amount": "200000.00",
            "year": None,
            "description": (
                "200,000.00 EUR of the refund claim still owed, due since it arose on "
                "2022-11-15 (R-REFUND); 30 days overdue; it bears interest until repaid "
                f"(R-REFUND-INTEREST): grantflow money {gid} shows it"
            ),
        }
    ]
    table = setup("due", "--as-of", "2022-12-15", "--within", "10")
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if gid in line)
    for shown in ("15.11.2022", "OVERDUE 30 d", "refund", "R-REFUND", "200,000.00 EUR"):
        assert shown in row, (shown, row)

    r = setup("repay", gid, "--amount", "80.000,00", "--date", "16.12.2022", actor="fiona")
    assert r.exit_code == 0, r.output
    (partly,) = json.loads(setup("due", "--as-of", "2022-12-16", json=True).stdout)
    assert (partly["amount"], partly["days_overdue"]) == ("120000.00", 31)
    r = setup("repay", gid, "--amount", "120000", "--date", "2023-03-01", actor="fiona")
    assert r.exit_code == 0, r.output
    assert json.loads(setup("due", "--as-of", "2023-03-01", json=True).stdout) == []
    # a day earlier the grant still owed the rest
    (before,) = json.loads(setup("due", "--as-of", "2023-02-28", json=True).stdout)
    assert (before["amount"], before["days_overdue"]) == ("120000.00", 105)


def test_budget_report_in_total_and_by_region(setup: Run) -> None:
    gid = _running(setup)
    setup("disburse", gid, "--amount", "250000", "--date", "2019-06-10", actor="fiona")
    doc = json.loads(setup("report", "budget", "--program", NRW, json=True).stdout)
    assert {k: doc[k] for k in ("budget", "committed", "disbursed", "available", "grants")} == {
        "budget": "91000000.00",
        "committed": "800000.00",
        "disbursed": "250000.00",
        "available": f"{Decimal('91000000') - Decimal('800000'):.2f}",
        "grants": 1,
    }
    assert doc["by_region"]["aachen"]["committed"] == "800000.00"
    assert doc["private"] == "200000.00" and doc["total_volume"] == "1000000.00"
    before = json.loads(
        setup("report", "budget", "--program", NRW, "--as-of", "2019-05-01", json=True).stdout
    )
    assert before["grants"] == 0 and before["committed"] == "0.00"
    r = setup(
        "revoke",
        gid,
        "--date",
        "2020-01-10",
        "--notice",
        "W1",
        "--reason",
        "Zweck verfehlt",
        actor="anton",
    )
    assert r.exit_code == 0, r.output
    after = json.loads(setup("report", "budget", "--program", NRW, json=True).stdout)
    assert (after["grants"], after["committed"], after["refunds"]) == (0, "0.00", "250000.00")
    assert setup("report", "budget", "--program", "nope").exit_code == 2


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    r = CliRunner().invoke(cli, ["demo", "--db", str(path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return path


def test_demo_reports_the_seeds_figures(demo_db: Path) -> None:
    """MWIDE, 06.12.2019: 42 projects, 56,6 Mio. EUR funding, ~24 Mio. EUR private,
    80,9 Mio. EUR total volume; seven more notices handed over that day."""

    def report(as_of: str) -> dict[str, object]:
        r = CliRunner().invoke(
            cli,
            [
                "--db",
                str(demo_db),
                "--json",
                "report",
                "budget",
                "--program",
                NRW,
                "--as-of",
                as_of,
            ],
        )
        assert r.exit_code == 0, r.output
        doc: dict[str, object] = json.loads(r.stdout)
        return doc

    before = report("2019-12-05")
    assert before["grants"] == FIRST_WAVE == 42
    assert before["committed"] == f"{FIRST_WAVE_FUNDING:.2f}" == "56600000.00"
    assert before["private"] == f"{FIRST_WAVE_PRIVATE:.2f}"
    assert Decimal(str(before["private"])) == pytest.approx(
        Decimal("24000000"), rel=Decimal("0.02")
    )
    assert before["total_volume"] == "80900000.00"
    assert before["budget"] == "91000000.00"
    that_day = report("2019-12-06")
    assert that_day["grants"] == FIRST_WAVE + SECOND_WAVE == 49


def test_demo_leaves_a_closed_a_revoked_and_extended_grants(demo_db: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(demo_db), "--json", "list"])
    states = [g["state"] for g in json.loads(r.stdout)]
    assert states.count("revoked") == 1
    assert states.count("closed") > 0 and states.count("extended") > 0
    assert {g["period_end"] for g in json.loads(r.stdout) if g["state"] == "extended"} == {
        "2023-06-30"
    }


def test_demo_ends_with_a_sealed_intact_log_holding_its_refused_drawdown(demo_db: Path) -> None:
    """The demo's last word is the auditor's: a checkpoint and `audit verify` against it; the
    log it verified holds the too-early drawdown the demo provoked, marked refused."""
    log = CliRunner().invoke(cli, ["--db", str(demo_db), "--json", "log", "--only-refused"])
    assert log.exit_code == 0, log.output
    refused = json.loads(log.stdout)
    assert [(r["kind"], r["event"], r["rule_ids"]) for r in refused] == [
        ("refused", "disburse", ["R-DRAWDOWN-2M"])
    ]
    verify = CliRunner().invoke(cli, ["--db", str(demo_db), "--json", "audit", "verify"])
    assert verify.exit_code == 0, verify.output
    doc = json.loads(verify.stdout)
    assert doc["intact"] and doc["refused"] == 1 and doc["checkpoints"] == 1


def test_audit_budget_days_finds_a_changed_row_and_an_admin_rebuilds_it(
    demo_db: Path, tmp_path: Path
) -> None:
    """The budget figures are derived: `audit budget-days` replays the log against them, exits
    3 naming the day that was changed behind grantflow's back, and leaves the repair to an
    admin (`--rebuild`); an auditor's rebuild is refused and changes nothing."""
    db = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, db)

    def run(*args: str, actor: str = "udo.auditor") -> Result:
        return CliRunner().invoke(cli, ["--db", str(db), "--actor", actor, "audit", *args])

    r = run("budget-days")
    assert r.exit_code == 0, r.output
    assert r.stdout == "the budget days of every program agree with the transition log\n"
    intact = snapshot(db)

    con = sqlite3.connect(db)
    with con:
        day = con.execute(
            "SELECT day FROM budget_days WHERE disbursed > 0 ORDER BY day LIMIT 1"
        ).fetchone()[0]
        con.execute("UPDATE budget_days SET disbursed = disbursed + 100000 WHERE day = ?", (day,))
    con.close()
    tampered = snapshot(db)

    r = run("budget-days", "--program", NRW)
    assert r.exit_code == 3
    assert r.stderr.startswith(
        f"BROKEN: 1 budget day of program {NRW} differs from the transition log"
    )
    assert f"budget_days {day} {NRW}/" in r.stderr
    assert "(the log says " in r.stderr

    r = run("budget-days", "--rebuild")
    assert r.exit_code == 1 and "needs the admin role" in r.stderr
    assert snapshot(db) == tampered

    r = run("budget-days", "--program", "no-such-program")
    assert r.exit_code == 2 and "there is no program 'no-such-program'" in r.stderr

    r = run("budget-days", "--rebuild", actor="ada.admin")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("rebuilt: ") and "written from the log" in r.stdout
    assert snapshot(db) == intact
    assert run("budget-days").exit_code == 0
