"""``grantflow check`` shows the separation-of-duties verdicts (GF-ADMIN-NO-STEPS,
GF-SOD-PAYMENT), and a refusal names the people and the citation."""

from __future__ import annotations

import json

from tests.cli.conftest import Run, propose_nrw


def test_check_shows_both_separation_verdicts(setup: Run) -> None:
    assert setup("actor", "add", "paula", "--role", "approver", "--role", "finance").exit_code == 0
    gid = propose_nrw(setup).stdout.strip()
    approved = setup("approve", gid, "--notice", "N-1", "--date", "2019-05-02", actor="paula")
    assert approved.exit_code == 0, approved.output
    assert setup("start", gid, "--date", "2019-06-01", actor="carla").exit_code == 0
    pay = ("disburse", "--amount", "100000", "--date", "2019-06-03")
    check = setup("check", gid, *pay, actor="paula", json=True)
    assert check.exit_code == 1, check.output
    verdicts = {v["rule_id"]: v for v in json.loads(check.stdout)["verdicts"]}
    assert verdicts["GF-ADMIN-NO-STEPS"]["passed"]
    assert not verdicts["GF-SOD-PAYMENT"]["passed"]
    table = setup("check", gid, *pay, actor="paula")
    assert "GF-ADMIN-NO-STEPS" in table.stdout and "GF-SOD-PAYMENT" in table.stdout
    assert "disburse would be refused by GF-SOD-PAYMENT" in table.stdout
    refused = setup(*pay[:1], gid, *pay[1:], actor="paula")
    assert refused.exit_code == 1
    assert f"paula decided grant {gid} (the grant notice N-1 of 2019-05-02)" in refused.stderr
    assert "§ 77 Satz 1 BHO" in refused.stderr
    assert setup(*pay[:1], gid, *pay[1:], actor="fiona").exit_code == 0


def test_an_admin_with_the_approver_role_is_refused(setup: Run) -> None:
    assert setup("actor", "roles", "ada", "--role", "admin", "--role", "approver").exit_code == 0
    gid = propose_nrw(setup).stdout.strip()
    refused = setup("approve", gid, "--notice", "N-1", "--date", "2019-05-02", actor="ada")
    assert refused.exit_code == 1
    assert "GF-ADMIN-NO-STEPS" in refused.stderr
    assert "ada holds the admin role (besides approver)" in refused.stderr
