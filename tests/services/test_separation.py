"""Separation of duties through the service, on SQLite and PostgreSQL: the attacks of issue 12
("an admin gave herself the approver role and approved"; "one person with approver + finance
approved and paid the same grant") are refused by GF-ADMIN-NO-STEPS and GF-SOD-PAYMENT, logged
as refused attempts, and shown by ``check``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from grantflow import demo
from grantflow.domain.commands import Amend
from grantflow.domain.model import Event, Role, State
from grantflow.errors import RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    approve,
    day,
    disburse,
    dmr_proposal,
    invariant_problems,
    running_dmr_grant,
    set_up,
    start,
)


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def test_an_admin_who_gave_herself_the_approver_role_may_not_approve(gf: Grantflow) -> None:
    gf.set_roles("ada", (Role.ADMIN, Role.APPROVER), by="ada")
    g = gf.propose(dmr_proposal(), actor="clara")
    with pytest.raises(RuleViolation) as refused:
        gf.act(g.id, approve(), actor="ada")
    assert refused.value.rule_ids == ("GF-ADMIN-NO-STEPS",)
    assert refused.value.explain() == (
        f"ada holds the admin role (besides approver) and so may not approve grant {g.id}: "
        "administrators give roles and take no step on grants — GF-ADMIN-NO-STEPS, grantflow "
        "core rule (docs/explanation/rules.md); Funktionstrennung: Rechteverwaltung nicht "
        "zugleich Sachbearbeitung (BSI IT-Grundschutz ORP.1.A4, M 2.5)"
    )
    assert gf.grant(g.id).state is State.PROPOSED
    refusals = [e for e in gf.log(grant_id=g.id) if e.refused]
    assert [(e.event, e.actor, e.rule_ids) for e in refusals] == [
        (Event.APPROVE, "ada", ("GF-ADMIN-NO-STEPS",))
    ]
    evaluation = gf.check(g.id, approve(), actor="ada")
    assert not evaluation.allowed
    assert [v.rule_id for v in evaluation.failures] == ["GF-ADMIN-NO-STEPS"]
    # an approver without the admin role approves it
    assert gf.act(g.id, approve(), actor="anton").approved_by == "anton"
    assert invariant_problems(gf) == []


def test_one_person_with_approver_and_finance_may_not_approve_and_pay(gf: Grantflow) -> None:
    gf.add_actor("paula", (Role.APPROVER, Role.FINANCE), by="ada")
    g = gf.propose(dmr_proposal(), actor="clara")
    gf.act(g.id, approve(), actor="paula")
    g = gf.act(g.id, start(), actor="clara")
    evaluation = gf.check(g.id, disburse("240000.00"), actor="paula")
    by_rule = {v.rule_id: v for v in evaluation.verdicts}
    assert by_rule["GF-ROLE"].passed
    assert by_rule["GF-ADMIN-NO-STEPS"].passed
    assert not by_rule["GF-SOD-PAYMENT"].passed
    assert by_rule["GF-SOD-PAYMENT"].message == (
        f"paula decided grant {g.id} (the grant notice N-1 of 2019-03-15) and so may not pay "
        "it out: who decides a grant does not pay it"
    )
    assert "§ 77 Satz 1 BHO" in by_rule["GF-SOD-PAYMENT"].citation
    with pytest.raises(RuleViolation) as refused:
        gf.act(g.id, disburse("240000.00"), actor="paula")
    assert refused.value.rule_ids == ("GF-SOD-PAYMENT",)
    assert gf.grant(g.id) == g
    refusals = [e for e in gf.log(grant_id=g.id) if e.refused]
    assert [(e.event, e.actor, e.rule_ids) for e in refusals] == [
        (Event.DISBURSE, "paula", ("GF-SOD-PAYMENT",))
    ]
    paid = gf.act(g.id, disburse("240000.00"), actor="finn")
    assert [d.paid_by for d in paid.disbursements] == ["finn"]
    record = gf.records(g.id)[-1]
    assert any(v.rule_id == "GF-SOD-PAYMENT" and v.passed for v in record.verdicts)
    assert invariant_problems(gf) == []


def test_who_paid_may_not_sign_an_amendment(gf: Grantflow) -> None:
    gf.add_actor("paula", (Role.APPROVER, Role.FINANCE), by="ada")
    g = running_dmr_grant(gf)  # approved by anton
    gf.act(g.id, disburse("240000.00"), actor="paula")
    cut = Amend(date=day("2019-06-01"), notice_number="N-1-Ä1", amount=Decimal("700000.00"))
    with pytest.raises(RuleViolation) as refused:
        gf.act(g.id, cut, actor="paula")
    assert refused.value.rule_ids == ("GF-SOD-PAYMENT",)
    amended = gf.act(g.id, cut, actor="berta")
    assert [a.signed_by for a in amended.amendments] == ["berta"]
    # given the finance role too, berta may not pay: she signed the amendment
    gf.set_roles("berta", (Role.APPROVER, Role.FINANCE), by="ada")
    with pytest.raises(RuleViolation) as again:
        gf.act(g.id, disburse("1000.00", "2019-06-02"), actor="berta")
    assert "GF-SOD-PAYMENT" in again.value.rule_ids


def test_the_names_survive_the_store(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("240000.00"), actor="finn")
    stored = gf.grant(g.id)
    assert stored.approved_by == "anton"
    assert [d.paid_by for d in stored.disbursements] == ["finn"]
    assert gf.grant(g.id, as_of=day("2019-04-15")).approved_by == "anton"


def test_in_the_demo_no_admin_acts_and_nobody_pays_a_grant_they_decided(
    app: Grantflow, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the demo's 720 steps once are enough")
    result = demo.run(app)
    admins = {a.name for a in app.actors() if a.has(Role.ADMIN)}
    assert admins == {demo.ADMIN}
    deciding = (Event.APPROVE, Event.AMEND, Event.EXTEND)
    for gid in result.grant_ids:
        records = app.records(gid)
        assert not admins & {r.actor for r in records}, gid
        deciders = {r.actor for r in records if r.event in deciding}
        payers = {r.actor for r in records if r.event is Event.DISBURSE}
        assert deciders and payers and not deciders & payers, gid
        for r in records:
            checked = {v.rule_id: v.passed for v in r.verdicts}
            assert checked["GF-ADMIN-NO-STEPS"], (gid, r.seq)
            if r.event is Event.DISBURSE or r.event in deciding[1:]:
                assert checked["GF-SOD-PAYMENT"], (gid, r.seq)
        grant = app.grant(gid)
        assert grant.approved_by in deciders
        assert {d.paid_by for d in grant.disbursements} == payers
