"""Every CLI command through click's CliRunner, on a real SQLite database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from grantflow_cli.main import cli

from .conftest import MPSC, NRW, Run, propose_nrw, snapshot


def _approve(run: Run, gid: str, *extra: str, actor: str = "anton") -> None:
    r = run("approve", gid, "--notice", "BR-K-1/2019", "--date", "2019-05-02", *extra, actor=actor)
    assert r.exit_code == 0, r.output


def _running(run: Run) -> str:
    gid = propose_nrw(run).stdout.strip()
    _approve(run, gid)
    assert run("start", gid, "--date", "2019-06-01", actor="carla").exit_code == 0
    return gid


def _show(run: Run, gid: str, *extra: str) -> dict[str, object]:
    r = run("show", gid, *extra, json=True)
    assert r.exit_code == 0, r.output
    doc: dict[str, object] = json.loads(r.stdout)
    return doc


def test_setup_commands(setup: Run) -> None:
    r = setup("actor", "list", json=True)
    actors = {a["name"]: a["roles"] for a in json.loads(r.stdout)}
    assert actors["anton"] == ["approver"] and actors["ada"] == ["admin"]
    programs = json.loads(setup("program", "list", json=True).stdout)
    assert {p["id"] for p in programs} == {NRW, MPSC}
    shown = json.loads(setup("program", "show", NRW, json=True).stdout)
    assert [v["version"] for v in shown["versions"]] == ["2018-07", "2021-07"]
    assert shown["versions"][1]["funds_until"] == "2023-06-30"
    assert any(r["id"] == "R-FUNDING-TYPE" for r in shown["versions"][0]["rules"])
    human = setup("program", "show", NRW)
    assert "R-PROG-DMR-ENVELOPE" in human.stdout and "19.500.000,00 EUR" in human.stdout


def test_init_twice_is_harmless_and_reload_adds_nothing(setup: Run) -> None:
    assert setup("init").exit_code == 0
    r = setup("program", "load", NRW, json=True)
    assert json.loads(r.stdout) == {
        "program": NRW,
        "added": [],
        "unchanged": ["2018-07", "2021-07"],
    }


def test_nrw_lifecycle_via_cli_only(setup: Run) -> None:
    run = setup
    gid = propose_nrw(run).stdout.strip()
    assert gid.startswith("DMR-2019-")
    _approve(run, gid, "--amount", "800.000,00")
    assert run("start", gid, "--date", "01.06.2019", actor="carla").exit_code == 0
    r = run("disburse", gid, "--amount", "250000", "--date", "2019-06-10", actor="fiona")
    assert r.exit_code == 0, r.output
    # extension to mid-2023 is only possible under the guideline version of 2021-07
    r = run(
        "extend",
        gid,
        "--until",
        "2023-06-30",
        "--notice",
        "Ä1",
        "--date",
        "2021-06-01",
        "--requested-on",
        "2021-05-20",
        actor="anton",
    )
    assert r.exit_code == 1 and "R-ANNUALITY" in r.stderr and "2021-12-31" in r.stderr
    r = run(
        "extend",
        gid,
        "--until",
        "2023-06-30",
        "--notice",
        "Ä1",
        "--date",
        "2021-07-15",
        "--requested-on",
        "2021-06-20",
        actor="anton",
    )
    assert r.exit_code == 0, r.output
    r = run("close", gid, "--date", "2023-11-30", "--final-costs", "900000", actor="berta")
    assert r.exit_code == 0, r.output
    doc = _show(run, gid)
    assert doc["state"] == "closed"
    assert doc["period_end"] == "2023-06-30"
    assert doc["approved_amount"] == "800000.00"
    assert doc["disbursed_amount"] == "250000.00"
    # share financing: 80 % of the final costs
    assert doc["final_amount"] == f"{Decimal('900000') * Decimal('0.8'):.2f}"
    log = [json.loads(line) for line in run("log", gid, "--format", "jsonl").stdout.splitlines()]
    done = [e["event"] for e in log if e["kind"] == "transition"]
    assert done == ["propose", "approve", "start", "disburse", "extend", "close"]
    refused = [e for e in log if e["kind"] == "refused"]
    assert [e["rule_ids"] for e in refused] == [["R-ANNUALITY"]]
    extend = [e for e in log if e["event"] == "extend" and e["kind"] == "transition"]
    assert [e["guideline_version"] for e in extend] == ["2021-07"]


def test_smart_cities_lifecycle_via_cli_only(setup: Run) -> None:
    run = setup
    shown = json.loads(run("program", "show", MPSC, json=True).stdout)
    third = next(c for c in shown["versions"][-1]["calls"] if c["closes"] == "2021-03-14")
    r = run(
        "propose", "--program", MPSC, "--applicant", "stadt beckum",
        "--member", "Stadt Billerbeck", "--member", "stadt drensteinfurt", "--member", "Stadt Siegen",
        "--member", "Stadt Unna", "--member", "Stadt Winterberg",
        "--call", third["id"], "--phase", "strategy",
        "--title", "6|6|EINS – Mitten in die Zukunft in Stadt.Land.Dorf",
        "--costs", "3.000.000,00", "--requested", "1.950.000,00",
        "--start", "2021-10-01", "--end", "2022-12-31", "--date", "2021-03-10",
        "--attest", "council-resolution",
        actor="carla",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    gid = r.stdout.strip()
    doc = _show(run, gid)
    assert doc["applicant"] == {
        "lead": "Stadt Beckum",
        "kind": "municipality",
        "members": [
            "Stadt Billerbeck",
            "Stadt Drensteinfurt",
            "Stadt Siegen",
            "Stadt Unna",
            "Stadt Winterberg",
        ],
    }
    r = run("approve", gid, "--notice", "KfW-436-0001", "--date", "2021-09-01", actor="anton")
    assert r.exit_code == 0, r.output
    assert run("start", gid, "--date", "2021-10-01", actor="carla").exit_code == 0
    r = run("disburse", gid, "--amount", "400000", "--date", "2021-11-02", actor="fiona")
    assert r.exit_code == 0, r.output
    r = run(
        "extend", gid, "--until", "2023-06-30", "--notice", "KfW-436-0001-Ä1",
        "--date", "2022-11-15", actor="anton",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("close", gid, "--date", "2023-10-01", "--final-costs", "3000000", actor="berta")
    assert r.exit_code == 0, r.output
    doc = _show(run, gid)
    assert doc["state"] == "closed" and doc["call"] == third["id"]
    assert doc["final_amount"] == "1950000.00"


def test_check_is_a_dry_run(setup: Run, db: Path) -> None:
    gid = propose_nrw(setup).stdout.strip()
    before = snapshot(db)
    ok = setup("check", gid, "approve", "--notice", "N", "--date", "2019-05-02", actor="anton")
    assert ok.exit_code == 0, ok.output
    assert "would go ahead" in ok.stdout
    no = setup("check", gid, "approve", "--notice", "N", "--date", "2019-05-02", actor="carla")
    assert no.exit_code == 1
    assert "GF-FOUR-EYES" in no.stdout and "GF-ROLE" in no.stdout
    as_json = setup(
        "check", gid, "approve", "--notice", "N", "--date", "2019-05-02", actor="carla", json=True
    )
    verdicts = json.loads(as_json.stdout)["verdicts"]
    assert {v["rule_id"] for v in verdicts if not v["passed"]} == {"GF-ROLE", "GF-FOUR-EYES"}
    assert snapshot(db) == before


def test_every_refusal_names_every_rule(setup: Run, db: Path) -> None:
    before = snapshot(db)
    r = propose_nrw(setup, requested="900000")
    assert r.exit_code == 1
    assert "R-FUNDING-TYPE" in r.stderr
    assert "900,000.00 EUR is more than 80 % of eligible costs 1,000,000.00 EUR" in r.stderr
    assert "Traceback" not in r.output
    after = snapshot(db)
    assert {t: rows for t, rows in after.items() if t != "refused_attempts"} == {
        t: rows for t, rows in before.items() if t != "refused_attempts"
    }
    assert len(after["refused_attempts"]) == len(before["refused_attempts"]) + 1


def test_soft_rule_override_needs_an_approver_and_a_justification(setup: Run) -> None:
    run = setup
    gid = _running(run)
    late = ("extend", gid, "--until", "2021-12-31", "--notice", "Ä1", "--date", "2021-07-10")
    r = run(*late, actor="anton")
    assert r.exit_code == 1 and "R-EXTENSION" in r.stderr and "2021-06-30" in r.stderr
    r = run(*late, "--override", "R-EXTENSION", actor="anton")
    assert r.exit_code == 2 and "--justification" in r.stderr
    r = run(*late, "--override", "R-EXTENSION", "--justification", "Antrag per E-Mail am 28.06.")
    assert r.exit_code == 1 and "GF-ROLE" in r.stderr  # ada is admin, not approver
    r = run(
        *late, "--override", "R-EXTENSION", "--justification", "Antrag am 28.06.", actor="anton"
    )
    assert r.exit_code == 0, r.output
    log = [
        json.loads(x)
        for x in run("log", gid, "--format", "jsonl", "--no-refused").stdout.split("\n")
        if x
    ]
    extend = next(e for e in log if e["event"] == "extend")
    overridden = [v for v in extend["verdicts"] if v["overridden"]]
    assert [(v["rule_id"], v["justification"]) for v in overridden] == [
        ("R-EXTENSION", "Antrag am 28.06.")
    ]
    r = run(
        "disburse", gid, "--amount", "2000000", "--date", "2019-07-01",
        "--override", "GF-CEILING", "--justification", "x", actor="anton",
    )  # fmt: skip
    assert r.exit_code == 1


@pytest.mark.parametrize(
    ("args", "actor", "code", "says"),
    [
        (("show", "DMR-2019-9999"), "udo", 2, "DMR-2019-9999"),
        (("start", "DMR-2019-9999", "--date", "2019-06-01"), "carla", 2, "DMR-2019-9999"),
        (("start", "{gid}", "--date", "2019-02-30"), "carla", 2, "2019-02-30"),
        (("start", "{gid}", "--date", "next monday"), "carla", 2, "not a date"),
        (("disburse", "{gid}", "--amount", "-5", "--date", "2019-07-01"), "fiona", 2, "negative"),
        (("disburse", "{gid}", "--amount", "viel", "--date", "2019-07-01"), "fiona", 2, "amount"),
        (("disburse", "{gid}", "--amount", "800.000", "--date", "2019-07-01"), "fiona", 2, "ambiguous"),
        (("disburse", "{gid}", "--date", "2019-07-01"), "fiona", 2, "--amount"),
        (("start", "{gid}"), "carla", 2, "--date"),
        (("disburse", "{gid}", "--amount", "1000", "--date", "2019-07-01"), "fiona", 1, "GF-LIFECYCLE"),
        (("start", "{gid}", "--date", "2019-06-01"), "carla", 1, "GF-LIFECYCLE"),
        (("approve", "{gid}", "--notice", "N", "--date", "2019-05-02"), "fiona", 1, "GF-ROLE"),
        (("approve", "{gid}", "--notice", "N", "--date", "2019-05-02"), "cara", 1, "GF-FOUR-EYES"),
        (("approve", "{gid}", "--notice", "N", "--date", "2019-05-02"), "nobody", 2, "actor add"),
        (("approve", "{gid}", "--notice", "N", "--date", "2019-05-02", "--amount", "900000"), "anton", 1, "GF-REQUESTED-CAP"),
        (("approve", "{gid}", "--notice", "N", "--date", "2019-05-02", "--start", "2021-01-01", "--end", "2020-01-01"), "anton", 2, "before it starts"),
        (("reject", "{gid}", "--date", "2019-05-02"), "anton", 2, "--reason"),
        (("program", "show", "no-such-program"), "udo", 2, "no-such-program"),
        (("program", "load", "/nonexistent/guideline.toml"), "ada", 2, "neither a packaged"),
        (("log", "--format", "xml"), "udo", 2, "xml"),
    ],
)  # fmt: skip
def test_bad_input_and_refusals_change_nothing(
    setup: Run, db: Path, args: tuple[str, ...], actor: str, code: int, says: str
) -> None:
    gid = propose_nrw(setup).stdout.strip()
    r = setup("actor", "add", "cara", "--role", "clerk", "--role", "approver")
    assert r.exit_code == 0
    if actor == "cara":  # cara proposes and then tries to approve her own proposal
        r = setup(
            "propose", "--program", NRW, "--applicant", "Stadt Soest", "--region", "soest",
            "--focus", "e-government", "--title", "Digitales Rathaus", "--costs", "100000",
            "--requested", "80000", "--start", "2019-06-01", "--end", "2020-12-31",
            "--date", "2019-03-01", actor="cara",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        gid = r.stdout.strip()
    before = snapshot(db)
    r = setup(*(a.format(gid=gid) for a in args), actor=actor)
    assert r.exit_code == code, r.output
    assert says in r.stderr
    assert "Traceback" not in r.output
    after = snapshot(db)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"refused_attempts"}, changed
    if code == 2:
        assert changed == set()


def test_show_as_of_and_list(setup: Run) -> None:
    gid = _running(setup)
    assert _show(setup, gid, "--as-of", "2019-04-30")["state"] == "proposed"
    assert _show(setup, gid, "--as-of", "02.05.2019")["state"] == "approved"
    assert _show(setup, gid)["state"] == "running"
    r = setup("show", gid, "--as-of", "2019-02-01")
    assert r.exit_code == 2
    rows = json.loads(setup("list", "--program", NRW, "--state", "running", json=True).stdout)
    assert [g["id"] for g in rows] == [gid]
    assert json.loads(setup("list", "--region", "owl", json=True).stdout) == []
    human = setup("list")
    assert gid in human.stdout and "800.000,00 EUR" in human.stdout


def test_show_json_has_the_contract_keys(setup: Run) -> None:
    gid = _running(setup)
    doc = _show(setup, gid)
    for key in ("id", "program", "state", "approved_amount", "disbursed_amount", "period_end"):
        assert key in doc
    assert doc["approved_amount"] == "800000.00" and doc["period_end"] == "2021-06-30"
    human = setup("show", gid)
    assert "01.06.2019 – 30.06.2021" in human.stdout and "800.000,00 EUR" in human.stdout


def test_log_exports(setup: Run) -> None:
    gid = _running(setup)
    setup("approve", gid, "--notice", "N", "--date", "2019-05-02", actor="anton")  # refused
    r = setup("log", "--format", "csv", "--decimal-comma")
    assert r.stdout.startswith("\ufeff")
    lines = r.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].split(";")[:4] == ["log_id", "recorded_at", "business_date", "grant"]
    propose_row = next(line for line in lines if ";propose;" in line)
    assert "800000,00" in propose_row
    assert any(";refused;" in line and "GF-LIFECYCLE" in line for line in lines)
    entries = [json.loads(x) for x in setup("log", gid, "--format", "jsonl").stdout.splitlines()]
    assert [e["event"] for e in entries if e["kind"] == "transition"] == [
        "propose",
        "approve",
        "start",
    ]
    by_actor = setup("log", "--actor", "anton", "--format", "jsonl").stdout.splitlines()
    assert {json.loads(x)["actor"] for x in by_actor} == {"anton"}
    window = setup("log", "--since", "2019-05-01", "--until", "2019-05-31", "--format", "jsonl")
    assert {json.loads(x)["business_date"] for x in window.stdout.splitlines()} == {"2019-05-02"}
    table = setup("log", gid)
    assert "REFUSED" in table.stdout and "proposed → approved" in table.stdout


def test_every_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    runner = CliRunner()

    def walk(prefix: list[str], command: object) -> None:
        import click

        assert isinstance(command, click.Command)
        r = runner.invoke(cli, [*prefix, "--help"])
        assert r.exit_code == 0, prefix
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk([*prefix, name], sub)
        elif prefix:
            assert "Example" in r.stdout, prefix

    walk([], cli)


def test_schema_newer_than_the_code_is_an_integrity_failure(setup: Run, db: Path) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("update alembic_version set version_num = 'from_the_future'")
    con.commit()
    con.close()
    r = setup("list")
    assert r.exit_code == 3, r.output
    assert "newer" in r.stderr


def test_unknown_program_region_or_grant_is_bad_input_not_an_empty_answer(setup: Run) -> None:
    assert setup("list", "--program", "nope").exit_code == 2
    r = setup("list", "--region", "nope")
    assert r.exit_code == 2 and "owl" in r.stderr
    assert setup("log", "NO-SUCH-ID").exit_code == 2
    assert setup("log", "--program", "nope").exit_code == 2


def test_json_errors_are_one_document_on_stdout(setup: Run) -> None:
    r = propose_nrw(setup, requested="900000", json=True)
    assert r.exit_code == 1
    err = json.loads(r.stdout)["error"]
    assert err["exit_code"] == 1 and err["rule_ids"] == ["R-FUNDING-TYPE"]
    assert err["failures"][0]["message"].startswith("requested 900,000.00 EUR")
    doc = json.loads(setup("log", json=True).stdout)
    # the whole log: the refused application and the administrative chain (actors, programs)
    assert isinstance(doc, list) and {e["kind"] for e in doc} == {"refused", "admin"}
    refused = [e for e in doc if e["kind"] == "refused"]
    assert len(refused) == 1 and refused[0]["actor_auth"] == "declared"


def test_a_broken_guideline_lists_every_problem(setup: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'schema = 1\n[program]\nid = "x"\nname = "X"\nshort = "X"\n'
        '[[versions]]\nversion = "1"\neffective_from = 2020-01-01\ntitle = "t"\nsource = "s"\n'
        'budget = "-1"\nfunds_from = 2020-01-01\nfunds_until = 2019-01-01\ncolour = "red"\n',
        encoding="utf-8",
    )
    r = setup("program", "load", str(bad))
    assert r.exit_code == 2
    for path in ("versions[0].budget", "versions[0].funds_until", "versions[0].colour"):
        assert path in r.stderr


def test_actor_roles_and_program_export(setup: Run) -> None:
    r = setup("actor", "roles", "udo", "--role", "auditor", "--role", "clerk", json=True)
    assert r.exit_code == 0 and json.loads(r.stdout)["roles"] == ["auditor", "clerk"]
    assert setup("actor", "roles", "udo", "--role", "admin", actor="anton").exit_code == 1
    r = setup("program", "export", MPSC)
    assert r.exit_code == 0 and 'id = "smart-cities-mpsc"' in r.stdout


def test_log_only_refused(setup: Run) -> None:
    gid = _running(setup)
    setup("start", gid, "--date", "2019-06-02", actor="carla")  # refused: already running
    lines = setup("log", "--only-refused", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(x)["rule_ids"] for x in lines] == [["GF-LIFECYCLE"]]
