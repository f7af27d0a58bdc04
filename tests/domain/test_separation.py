"""Separation of duties (grantflow/domain/separation.py): GF-ADMIN-NO-STEPS and GF-SOD-PAYMENT.

Each test moves a grant through the real lifecycle and asserts the verdict the rule gives, with
the people and notices its message names.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from grantflow.domain import lifecycle
from grantflow.domain.codec import from_data, to_data
from grantflow.domain.commands import Amend, Disburse, Extend, Start
from grantflow.domain.model import Actor, Grant, Role
from grantflow.domain.separation import ADMIN_CITATION, PAYMENT_CITATION
from tests.domain.builders import (
    ANTON,
    CLARA,
    FINN,
    FIONA,
    NRW,
    Case,
    day,
    dmr_approval,
    dmr_approved,
    dmr_proposal,
    dmr_proposed,
    dmr_running,
    program,
    verdict_of,
)

ADA = Actor("ada", frozenset({Role.ADMIN, Role.APPROVER}))  # gave herself the approver role
ADMIN_ONLY = Actor("root", frozenset({Role.ADMIN}))
ADMIN_CLERK = Actor("adele", frozenset({Role.ADMIN, Role.CLERK}))

PAYMENT = Disburse(date=day("2019-05-02"), amount=Decimal("240000.00"))
EXTENSION = Extend(date=day("2020-10-01"), until=day("2021-06-30"), notice_number="DMR-OWL-Ä1")


# --------------------------------------------------------------------------------------------
# GF-ADMIN-NO-STEPS
# --------------------------------------------------------------------------------------------


def test_gf_admin_no_steps_passes() -> None:
    record = dmr_approved().records[-1]
    verdict = verdict_of(record, "GF-ADMIN-NO-STEPS")
    assert verdict.passed
    assert verdict.message == "anton does not hold the admin role"
    assert verdict.citation == ADMIN_CITATION


def test_gf_admin_no_steps_refuses() -> None:
    """The attack: an admin gives herself the approver role and approves."""
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(), ADA)
    assert refusal.rule_ids == ("GF-ADMIN-NO-STEPS",)  # GF-ROLE passes: she is an approver
    verdict = verdict_of(refusal, "GF-ADMIN-NO-STEPS")
    assert verdict.message == (
        "ada holds the admin role (besides approver) and so may not approve grant G-1: "
        "administrators give roles and take no step on grants"
    )
    assert "GF-ADMIN-NO-STEPS, grantflow core rule" in verdict.explain()
    assert "ORP.1.A4" in verdict.explain()


def test_an_admin_without_other_roles_is_refused_by_both_role_rules() -> None:
    refusal = dmr_proposed().refused(dmr_approval(), ADMIN_ONLY)
    assert set(refusal.rule_ids) == {"GF-ROLE", "GF-ADMIN-NO-STEPS"}
    assert verdict_of(refusal, "GF-ADMIN-NO-STEPS").message == (
        "root holds the admin role and so may not approve grant G-1: "
        "administrators give roles and take no step on grants"
    )


def test_an_admin_may_not_propose_even_as_clerk() -> None:
    case = Case(program(NRW))
    refusal = case.refused(dmr_proposal(), ADMIN_CLERK)
    assert refusal.rule_ids == ("GF-ADMIN-NO-STEPS",)


def test_an_admin_with_finance_may_not_pay() -> None:
    case = dmr_running()
    admin_finance = Actor("ada", frozenset({Role.ADMIN, Role.FINANCE}))
    refusal = case.refused(PAYMENT, admin_finance)
    assert refusal.rule_ids == ("GF-ADMIN-NO-STEPS",)


# --------------------------------------------------------------------------------------------
# GF-SOD-PAYMENT: who decided does not pay
# --------------------------------------------------------------------------------------------


def test_gf_sod_payment_passes() -> None:
    case = dmr_running()
    record = case.do(PAYMENT, FINN)
    verdict = verdict_of(record, "GF-SOD-PAYMENT")
    assert verdict.passed
    assert verdict.message == "finn decided no notice of grant G-1 (decided by anton)"
    assert verdict.citation == PAYMENT_CITATION


def test_gf_sod_payment_refuses() -> None:
    """The attack: one person with approver and finance approves, then pays the same grant."""
    case = dmr_proposed()
    case.do(dmr_approval(), FIONA)  # fiona holds approver and finance
    case.do(Start(date=day("2019-04-01")), CLARA)
    refusal = case.refused(PAYMENT, FIONA)
    assert refusal.rule_ids == ("GF-SOD-PAYMENT",)  # GF-ROLE passes: she holds finance
    verdict = verdict_of(refusal, "GF-SOD-PAYMENT")
    assert verdict.message == (
        "fiona decided grant G-1 (the grant notice DMR-OWL-2019-1 of 2019-03-15) and so may not "
        "pay it out: who decides a grant does not pay it"
    )
    assert "§ 77 Satz 1 BHO" in verdict.explain()
    # someone else pays it
    assert verdict_of(case.do(PAYMENT, FINN), "GF-SOD-PAYMENT").passed


def test_the_signer_of_an_amendment_notice_may_not_pay() -> None:
    case = dmr_running()
    case.do(EXTENSION, FIONA)
    refusal = case.refused(Disburse(date=day("2020-10-02"), amount=Decimal("1000.00")), FIONA)
    assert refusal.rule_ids == ("GF-SOD-PAYMENT",)
    assert verdict_of(refusal, "GF-SOD-PAYMENT").message == (
        "fiona decided grant G-1 (the extend notice DMR-OWL-Ä1 of 2020-10-01) and so may not "
        "pay it out: who decides a grant does not pay it"
    )


@pytest.mark.parametrize(
    "decision",
    [
        EXTENSION,
        Amend(date=day("2020-10-01"), notice_number="DMR-OWL-Ä2", amount=Decimal("700000.00")),
    ],
    ids=["extend", "amend"],
)
def test_who_paid_may_not_decide_an_amendment(decision: Extend | Amend) -> None:
    case = dmr_running()
    case.do(PAYMENT, FIONA)  # anton approved; fiona may pay
    refusal = case.refused(decision, FIONA)
    assert refusal.rule_ids == ("GF-SOD-PAYMENT",)
    assert verdict_of(refusal, "GF-SOD-PAYMENT").message == (
        f"fiona paid out 240,000.00 EUR on grant G-1 (2019-05-02) and so may not sign its "
        f"{decision.event} notice: who pays a grant does not decide it"
    )
    passed = verdict_of(case.do(decision, ANTON), "GF-SOD-PAYMENT")
    assert passed.message == "anton made no payment on grant G-1"


def test_other_steps_get_no_sod_payment_verdict() -> None:
    record = dmr_approved().records[-1]
    assert "GF-SOD-PAYMENT" not in {v.rule_id for v in record.verdicts}


def test_check_shows_both_verdicts() -> None:
    case = dmr_proposed()
    case.do(dmr_approval(), FIONA)
    case.do(Start(date=day("2019-04-01")), CLARA)
    evaluation = case.check(PAYMENT, FIONA)
    assert not evaluation.allowed
    assert verdict_of(evaluation, "GF-ADMIN-NO-STEPS").passed
    assert not verdict_of(evaluation, "GF-SOD-PAYMENT").passed
    assert case.grant is not None and case.grant.disbursements == ()


# --------------------------------------------------------------------------------------------
# Who did what: kept by the lifecycle, absent in old snapshots
# --------------------------------------------------------------------------------------------


def test_replay_keeps_who_approved_amended_and_paid() -> None:
    case = dmr_running()
    case.do(PAYMENT, FINN)
    case.do(EXTENSION, ANTON)
    grant = lifecycle.replay(case.records)
    assert grant == case.grant
    assert grant is not None
    assert grant.approved_by == "anton"
    assert [d.paid_by for d in grant.disbursements] == ["finn"]
    assert [a.signed_by for a in grant.amendments] == ["anton"]
    assert from_data(to_data(grant), Grant) == grant


def _old_snapshot(grant: Grant) -> Grant:
    """``grant`` as a snapshot stored before grantflow kept who approved, signed and paid."""
    data = to_data(grant)
    del data["approved_by"]
    for item in (*data["disbursements"], *data["amendments"]):
        del item["paid_by" if "paid_by" in item else "signed_by"]
    return from_data(data, Grant)


def test_an_old_snapshot_loads_without_names_and_the_rule_says_so() -> None:
    case = dmr_running()
    case.do(PAYMENT, FINN)
    case.do(EXTENSION, ANTON)
    old = _old_snapshot(case.current)
    assert old.approved_by is None
    assert old.disbursements[0].paid_by is None
    assert old.amendments[0].signed_by is None
    assert old == attrs.evolve(
        case.current,
        approved_by=None,
        disbursements=tuple(attrs.evolve(d, paid_by=None) for d in case.current.disbursements),
        amendments=tuple(attrs.evolve(a, signed_by=None) for a in case.current.amendments),
    )
    legacy = Case(case.program, old)
    later = Disburse(date=day("2020-10-02"), amount=Decimal("1000.00"))
    verdict = verdict_of(legacy.check(later, FIONA), "GF-SOD-PAYMENT")
    assert verdict.passed
    assert verdict.message == (
        "fiona is named on no notice of grant G-1; 2 of its 2 notices were stored before "
        "grantflow kept who decided them"
    )
    amend = Amend(date=day("2020-10-02"), notice_number="Ä2", amount=Decimal("700000.00"))
    assert verdict_of(legacy.check(amend, FIONA), "GF-SOD-PAYMENT").message == (
        "fiona is named on no payment of grant G-1; 1 of its 1 payments were stored before "
        "grantflow kept who made them"
    )


def test_a_proposal_has_no_approver_yet() -> None:
    assert dmr_proposed().current.approved_by is None
