"""``grantflow repay``, ``revoke --effect future`` and ``grantflow money`` from the command line:
German figures in tables, one JSON document, documented exit codes, nothing written on bad
input or a refusal. The figures are the worked example of ``docs/explanation/money.md``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run, propose_nrw, snapshot


def test_repay_then_money_shows_every_slice_in_german_figures(setup: Run, revoked: str) -> None:
    r = setup("repay", revoked, "--amount", "80.000,00", "--date", "16.12.2022", actor="fiona")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"{revoked}: repay done, now revoked"

    r = setup("money", revoked, "--as-of", "2023-03-01")
    assert r.exit_code == 0, r.output
    out = r.stdout
    for figure in (
        "| refund claim                  |              200.000,00 EUR |",
        "| repaid                        |               80.000,00 EUR |",
        "| still owed                    |              120.000,00 EUR |",
        "| refund interest to 01.03.2023 |                2.200,66 EUR |",
        "| 200.000,00 EUR | 15.11.2022 | 15.12.2022 |   31 |   -0,88 % | 4,12 % |     365 |   699,84 EUR |",
        "| 120.000,00 EUR | 16.12.2022 | 31.12.2022 |   16 |   -0,88 % | 4,12 % |     365 |   216,72 EUR |",
        "| 120.000,00 EUR | 01.01.2023 | 28.02.2023 |   59 |    1,62 % | 6,62 % |     365 | 1.284,10 EUR |",
        "revoked with effect for the past from 15.11.2022",
        "none (revoked for the past)",
    ):
        assert figure in out, figure


def test_money_json_is_one_document_with_every_period(setup: Run, revoked: str) -> None:
    setup("repay", revoked, "--amount", "80000", "--date", "2022-12-16", actor="fiona")
    r = setup("money", revoked, "--as-of", "2023-03-01", json=True)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["grant"], doc["state"], doc["as_of"]) == (revoked, "revoked", "2023-03-01")
    assert (doc["refund_claim"]["amount"], doc["repaid"], doc["outstanding"]) == (
        "200000.00",
        "80000.00",
        "120000.00",
    )
    assert doc["repayments"] == [{"seq": 6, "date": "2022-12-16", "amount": "80000.00"}]
    assert doc["refund_claim"]["tranches"] == [
        {"seq": 5, "event": "revoke", "effective_from": "2022-11-15", "amount": "200000.00"}
    ]
    interest = doc["refund_interest"]
    assert (interest["rule"], interest["interest"], interest["starts"]) == (
        "R-REFUND-INTEREST",
        "2200.66",
        "effective-date",
    )
    assert [(p["principal"], p["from"], p["to"], p["days"]) for p in interest["periods"]] == [
        ("200000.00", "2022-11-15", "2022-12-15", 31),
        ("120000.00", "2022-12-16", "2023-02-28", 75),
    ]
    assert [(s["days"], s["rate"], s["interest"]) for s in interest["periods"][1]["slices"]] == [
        (16, "4.12", "216.72"),
        (59, "6.62", "1284.10"),
    ]
    assert doc["interim_interest"] is None
    assert doc["revocation"] == {"effective_from": "2022-11-15", "effect": "past"}


def test_repay_beyond_what_is_owed_is_refused_and_changes_nothing(
    setup: Run, revoked: str, db: Path
) -> None:
    before = snapshot(db)
    r = setup("repay", revoked, "--amount", "200000.01", "--date", "2022-12-16", actor="fiona")
    assert r.exit_code == 1
    assert "GF-REFUND-BALANCE" in r.stderr
    assert "more than the 200,000.00 EUR still owed" in r.stderr
    after = snapshot(db)
    assert {t: rows for t, rows in after.items() if t != "refused_attempts"} == {
        t: rows for t, rows in before.items() if t != "refused_attempts"
    }


@pytest.mark.parametrize(
    "args",
    [
        ("--amount", "0", "--date", "2022-12-16"),
        ("--amount", "-5", "--date", "2022-12-16"),
        ("--amount", "80.000", "--date", "2022-12-16"),
        ("--amount", "1000", "--date", "16/12/2022"),
        (
            "--amount",
            "1000",
        ),
    ],
)
def test_repay_bad_input_is_exit_2_and_changes_nothing(
    setup: Run, revoked: str, db: Path, args: tuple[str, ...]
) -> None:
    before = snapshot(db)
    r = setup("repay", revoked, *args, actor="fiona")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert snapshot(db) == before


def test_revoke_for_the_future_keeps_what_was_paid(setup: Run, db: Path) -> None:
    gid = propose_nrw(setup).stdout.strip()
    for actor, *args in (
        ("anton", "approve", gid, "--notice", "N-1", "--date", "2019-04-01", "--attest",
         "remedy-waiver"),
        ("carla", "start", gid, "--date", "2019-06-01"),
        ("fiona", "disburse", gid, "--amount", "300000", "--date", "2019-07-01"),
    ):  # fmt: skip
        assert setup(*args, actor=actor).exit_code == 0
    before = snapshot(db)
    bad = setup(
        "revoke", gid, "--notice", "W-2", "--date", "2020-02-03", "--effective-from",
        "2020-01-01", "--effect", "future", "--reason", "x", actor="anton",
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "for the future cannot take effect" in bad.stderr
    assert snapshot(db) == before
    r = setup(
        "revoke", gid, "--notice", "W-2", "--date", "2020-02-03", "--effect", "future",
        "--reason", "Projekt endet auf Antrag", actor="anton",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(setup("money", gid, "--as-of", "2020-02-03", json=True).stdout)
    assert (doc["committed"], doc["refund_claim"]["amount"], doc["outstanding"]) == (
        "300000.00",
        "0.00",
        "0.00",
    )
    assert doc["revocation"] == {"effective_from": "2020-02-03", "effect": "future"}
    # the 300,000.00 paid on 2019-07-01 were never reported as used: interim interest from
    # 2019-07-01 to 2020-02-02 (31+31+30+31+30+31+31+2 = 217 days), up to the revocation:
    # 217 × 300,000.00 × 4.12 / 36,500 = 268,212,000 / 36,500 = 7,348.274 -> 7,348.27 EUR
    assert doc["interim_interest"]["interest"] == "7348.27"
    assert doc["interim_interest"]["lines"][0]["days"] == 217
    assert doc["interim_interest"]["until"] == "2020-02-03"
    human = setup("money", gid, "--as-of", "2020-02-03").stdout
    assert "| interim interest to 03.02.2020 |   7.348,27 EUR |" in human
    assert "300.000,00 EUR paid was not reported as used by 03.02.2020" in human
    r = setup("disburse", gid, "--amount", "1000", "--date", "2020-03-02", actor="fiona")
    assert r.exit_code == 1  # revoked: no more payments


def test_money_of_an_unknown_grant_or_before_it_existed_is_exit_2(setup: Run, revoked: str) -> None:
    assert setup("money", "DMR-2019-9999").exit_code == 2
    r = setup("money", revoked, "--as-of", "2018-01-01")
    assert r.exit_code == 2
    assert "did not exist yet" in r.stderr
