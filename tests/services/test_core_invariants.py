"""Invariants no guideline can switch off (issue 14): money paid out is never withdrawn.

A withdrawn grant binds nothing and owes nothing back. If a guideline switches its ``renounce``
rule off (``enabled = false`` in a version), the core rule GF-RENOUNCE still refuses a
withdrawal once money was paid: renouncing then is a revocation with a refund claim
(R-WITHDRAW-RENOUNCE).
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from grantflow.domain.commands import Revoke, Withdraw
from grantflow.domain.model import State
from grantflow.errors import RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    PEOPLE,
    approve,
    day,
    disburse,
    invariant_problems,
    small_proposal,
    start,
)

RENOUNCE_OFF = """
schema = 1

[program]
id = "renounce-off"
name = "A program whose guideline switches the renounce rule off"
short = "RO"

[[versions]]
version = "v1"
effective_from = 2020-01-01
title = "Test guideline with the renounce rule"
source = "tests/services/test_core_invariants.py"
budget = "1000000.00"
funds_from = 2020-01-01
funds_until = 2030-12-31

[[versions.regions]]
id = "north"
name = "North"
lead = "Stadt Nord"

[[versions.applicants]]
name = "Stadt Nord"
kind = "municipality"
region = "north"

[[versions.rules]]
id = "R-WITHDRAW-RENOUNCE"
kind = "renounce"
citation = "test: renouncing after a payout is a revocation"

[[versions]]
version = "v2"
effective_from = 2021-01-01
title = "Test guideline without the renounce rule"
source = "tests/services/test_core_invariants.py"

[[versions.rules]]
id = "R-WITHDRAW-RENOUNCE"
enabled = false
"""


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    path = tmp_path / "renounce-off.toml"
    path.write_text(RENOUNCE_OFF, encoding="utf-8")
    tomllib.loads(RENOUNCE_OFF)  # the file is valid TOML
    app.init("ada")
    for name, roles in PEOPLE.items():
        app.add_actor(name, roles, by="ada")
    app.load_program(str(path), by="ada")
    return app


def _paid(gf: Grantflow, amount: str = "100000.00") -> str:
    """A running grant of 300,000 EUR under v2 with ``amount`` paid out."""
    g = gf.propose(small_proposal(program_id="renounce-off"), actor="clara")
    gf.act(g.id, approve("2021-02-01"), actor="anton")
    gf.act(g.id, start("2021-03-01"), actor="clara")
    gf.act(g.id, disburse(amount, "2021-03-15"), actor="finn")
    return g.id


def test_the_guideline_version_switches_the_renounce_rule_off(gf: Grantflow) -> None:
    program = gf.program("renounce-off")
    assert [r.id for r in program.version("v1").rules] == ["R-WITHDRAW-RENOUNCE"]
    assert program.version("v2").rules == ()


def test_withdrawal_after_a_payout_is_refused_although_the_guideline_allows_it(
    gf: Grantflow,
) -> None:
    gid = _paid(gf)
    withdraw = Withdraw(date=day("2021-04-01"), reason="Verzicht")
    evaluation = gf.check(gid, withdraw, actor="clara")
    assert not evaluation.allowed
    assert [v.rule_id for v in evaluation.failures] == ["GF-RENOUNCE"]
    assert "R-WITHDRAW-RENOUNCE" not in {v.rule_id for v in evaluation.verdicts}
    with pytest.raises(RuleViolation, match="GF-RENOUNCE") as refused:
        gf.act(gid, withdraw, actor="clara")
    message = refused.value.explain()
    assert "100,000.00 EUR has already been paid out" in message
    assert "R-WITHDRAW-RENOUNCE" in message  # the catalog rule it keeps
    grant = gf.grant(gid)
    assert grant.state is State.RUNNING
    assert grant.committed_amount == Decimal("300000.00")
    # renouncing is a revocation with a refund claim
    after = gf.act(
        gid, Revoke(date=day("2021-04-01"), notice_number="W-1", reason="Verzicht"), actor="anton"
    )
    assert after.state is State.REVOKED
    assert after.committed_amount == 0
    assert after.refund_claim == Decimal("100000.00")
    assert invariant_problems(gf) == []


def test_withdrawal_before_any_payout_is_not_judged_by_the_core_rule(gf: Grantflow) -> None:
    g = gf.propose(small_proposal(program_id="renounce-off"), actor="clara")
    gf.act(g.id, approve("2021-02-01"), actor="anton")
    after = gf.act(g.id, Withdraw(date=day("2021-02-10"), reason="Verzicht"), actor="clara")
    assert after.state is State.WITHDRAWN
    assert "GF-RENOUNCE" not in {v.rule_id for v in gf.records(g.id)[-1].verdicts}
