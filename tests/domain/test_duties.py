"""Duties with due dates (grantflow.domain.duties), on grants moved through the real lifecycle.

The DMR grant: funding period 2019-04-01 to 2020-12-31, approved 2019-03-15. Its proof of use
is due by the end of the 6th month after the period: 2021-06-30 (R-PROOF-6M). It runs through
the budget year 2019, so an interim proof for 2019 is due by 2020-04-30 (R-INTERIM-PROOF).
A refund claim is due on the day it arises (R-REFUND); the days overdue are counted by hand in
each test's docstring.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pendulum
import pytest

from grantflow.domain.commands import (
    Amend,
    Close,
    Disburse,
    Extend,
    Reject,
    Repay,
    Revoke,
    Withdraw,
)
from grantflow.domain.duties import Duty, DutyKind, duties, refund_duties
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import Event, Override, RevocationEffect, State
from grantflow.domain.refunds import owed_tranches
from grantflow.domain.rules import ProofDeadlineRule, proof_due
from tests.domain.builders import (
    ANTON,
    CLARA,
    FINN,
    Case,
    day,
    dmr_approved,
    dmr_paid,
    dmr_proposed,
    dmr_running,
    mpsc_approved,
    verdict_of,
)

EUR = Decimal


def _version(case: Case, on: str) -> ProgramVersion:
    return case.program.version_at(day(on))


def _kinds(found: list[Duty]) -> list[tuple[DutyKind, str, bool]]:
    return [(d.kind, d.due.isoformat(), d.overdue) for d in found]


def _of(found: list[Duty], kind: DutyKind) -> Duty:
    (d,) = [d for d in found if d.kind is kind]
    return d


# --------------------------------------------------------------------------------------------
# Worked example: a late proof of use
# --------------------------------------------------------------------------------------------


def test_worked_example_late_proof_of_use() -> None:
    """The period ended 2020-12-31; the proof of use was due 2021-06-30.

    On 2021-07-15 no proof has come: the duty is overdue by 15 days (2021-06-30 to 2021-07-15).
    (The payout was used at once and the interim proof for 2019 came in time.) The proof arrives
    on 2021-08-16, 47 days late (2021-06-30 to 2021-07-31 = 31 days, plus 16 days of August),
    and R-PROOF-6M refuses the close. It is a soft rule:
    an approver may accept the late proof with a written justification (the extension on
    record). Once closed, the grant has no open duties.
    """
    case = dmr_paid(EUR("800000.00"))
    as_of = day("2021-07-15")
    uses = [(day("2019-06-01"), EUR("800000.00"))]
    interim = {2019: day("2020-04-15")}
    found = duties(
        case.current,
        _version(case, "2021-07-15"),
        as_of,
        uses=uses,
        interim_proofs_received=interim,
    )

    assert _kinds(found) == [(DutyKind.PROOF_OF_USE, "2021-06-30", True)]
    (proof,) = found
    assert (proof.rule_id, proof.days_overdue) == ("R-PROOF-6M", 15)
    assert proof.description == (
        "proof of use (Verwendungsnachweis: Sachbericht and zahlenmäßiger Nachweis) due by "
        "2021-06-30 (end of the 6th month after the period ended 2020-12-31); 15 days overdue"
    )

    late = Close(
        date=day("2021-08-20"), proof_date=day("2021-08-16"), final_costs=EUR("1000000.00")
    )
    refusal = case.refused(late, ANTON)
    verdict = verdict_of(refusal, "R-PROOF-6M")
    assert verdict.message == (
        "the proof of use arrived 2021-08-16, 47 days after it was due on 2021-06-30 (end of the "
        "6th month after the period ended 2020-12-31)"
    )
    assert (day("2021-08-16") - proof.due).in_days() == 47

    # The arrival of the proof ends the duty even before the close is decided ...
    assert (
        duties(
            case.current,
            _version(case, "2021-08-16"),
            day("2021-08-18"),
            uses=uses,
            interim_proofs_received=interim,
            proof_received=day("2021-08-16"),
        )
        == []
    )
    # ... and the close, with the override on record, leaves nothing open.
    justified = Override("R-PROOF-6M", "Fristverlängerung auf Antrag vom 2021-06-20 gewährt")
    case.do(
        Close(
            date=day("2021-08-20"),
            proof_date=day("2021-08-16"),
            final_costs=EUR("1000000.00"),
            overrides=(justified,),
        ),
        ANTON,
    )
    assert case.current.state is State.CLOSED
    assert duties(case.current, _version(case, "2021-08-20"), day("2021-08-20")) == []


def test_the_duty_uses_the_same_deadline_as_the_rule() -> None:
    case = dmr_running()
    version = _version(case, "2021-01-01")
    (rule,) = [r for r in version.rules if isinstance(r, ProofDeadlineRule)]
    due, _why = proof_due(case.current, version, rule.months)
    found = duties(case.current, version, day("2021-01-01"))
    assert _of(found, DutyKind.PROOF_OF_USE).due == due == day("2021-06-30")


def test_on_the_due_date_the_proof_is_not_yet_overdue() -> None:
    case = dmr_running()
    found = duties(case.current, _version(case, "2021-06-30"), day("2021-06-30"))
    assert _of(found, DutyKind.PROOF_OF_USE).overdue is False


def test_mpsc_proof_counts_months_from_the_notice() -> None:
    """MPSC implementation phase: 66 months after the Zusage of 2020-11-16 = 2026-05-16."""
    case = mpsc_approved()
    found = duties(case.current, _version(case, "2021-01-01"), day("2021-01-01"))
    proof = _of(found, DutyKind.PROOF_OF_USE)
    assert proof.due == day("2026-05-16")
    assert "66 months after the notice of 2020-11-16" in proof.description


# --------------------------------------------------------------------------------------------
# Interim proofs (R-INTERIM-PROOF)
# --------------------------------------------------------------------------------------------


def test_interim_proof_for_each_budget_year_before_the_period_ends() -> None:
    """Paid 300,000.00 on 2019-05-02: the interim proof for 2019 is due by 2020-04-30. On
    2020-05-10 it is 10 days overdue. 2020 is the period's last year: the final proof covers
    it, no interim proof."""
    case = dmr_paid(EUR("300000.00"))
    uses = [(day("2019-06-01"), EUR("300000.00"))]
    found = duties(case.current, _version(case, "2020-05-10"), day("2020-05-10"), uses=uses)
    interim = _of(found, DutyKind.INTERIM_PROOF)
    assert (interim.due, interim.year, interim.amount, interim.days_overdue) == (
        day("2020-04-30"),
        2019,
        EUR("300000.00"),
        10,
    )
    assert interim.description == (
        "interim proof (Zwischennachweis) for 2019 due by 2020-04-30, 4 months after the "
        "budget year; it covers 300,000.00 EUR received in 2019; 10 days overdue"
    )
    received = {2019: day("2020-04-20")}
    found = duties(
        case.current,
        _version(case, "2020-05-10"),
        day("2020-05-10"),
        uses=uses,
        interim_proofs_received=received,
    )
    assert DutyKind.INTERIM_PROOF not in [d.kind for d in found]


def test_an_extension_adds_the_interim_proof_of_the_next_year() -> None:
    """Extended to 2021-06-30 (applied for in time): 2020 now ends inside the period."""
    case = dmr_paid(EUR("300000.00"))
    case.do(Disburse(date=day("2020-02-03"), amount=EUR("100000.00")), FINN)
    case.do(
        Extend(date=day("2020-11-02"), until=day("2021-06-30"), notice_number="DMR-OWL-2019-1-V"),
        ANTON,
    )
    uses = [(day("2019-06-01"), EUR("300000.00")), (day("2020-03-01"), EUR("100000.00"))]
    found = duties(case.current, _version(case, "2021-01-04"), day("2021-01-04"), uses=uses)
    assert _kinds(found) == [
        (DutyKind.INTERIM_PROOF, "2020-04-30", True),
        (DutyKind.INTERIM_PROOF, "2021-04-30", False),
        (DutyKind.PERIOD_END, "2021-06-30", False),
        (DutyKind.PROOF_OF_USE, "2021-12-31", False),
    ]


def test_a_finished_year_without_money_needs_no_interim_proof() -> None:
    """Nothing was paid in 2019: on 2020-02-01 there is nothing to account for in 2019."""
    case = dmr_running()
    found = duties(case.current, _version(case, "2020-02-01"), day("2020-02-01"))
    assert DutyKind.INTERIM_PROOF not in [d.kind for d in found]
    # While 2019 runs, payments may still come: the duty is shown with what came so far.
    found = duties(case.current, _version(case, "2019-06-01"), day("2019-06-01"))
    assert (
        "covers 0.00 EUR received in 2019 so far" in _of(found, DutyKind.INTERIM_PROOF).description
    )


def test_a_grant_within_one_budget_year_has_no_interim_proof() -> None:
    case = dmr_running(end=day("2019-12-31"))
    found = duties(case.current, _version(case, "2019-06-01"), day("2019-06-01"))
    assert DutyKind.INTERIM_PROOF not in [d.kind for d in found]


# --------------------------------------------------------------------------------------------
# Period end and unused funds
# --------------------------------------------------------------------------------------------


def test_the_period_end_is_shown_while_it_lies_ahead() -> None:
    case = dmr_running()
    found = duties(case.current, _version(case, "2020-12-01"), day("2020-12-01"))
    end = _of(found, DutyKind.PERIOD_END)
    assert (end.due, end.overdue, end.rule_id) == (day("2020-12-31"), False, "R-EXTENSION")
    assert "ends 2020-12-31 (30 days from 2020-12-01)" in end.description
    later = duties(case.current, _version(case, "2021-01-01"), day("2021-01-01"))
    assert DutyKind.PERIOD_END not in [d.kind for d in later]


def test_unused_funds_are_due_within_two_months_of_payout() -> None:
    """300,000.00 paid 2019-05-02; 200,000.00 reported used on 2019-06-20. The other
    100,000.00 are to be used by 2019-07-02; on 2019-07-10 they are 8 days overdue."""
    case = dmr_paid(EUR("300000.00"))
    uses = [(day("2019-06-20"), EUR("200000.00"))]
    before = _of(
        duties(case.current, _version(case, "2019-06-25"), day("2019-06-25"), uses=uses),
        DutyKind.UNUSED_FUNDS,
    )
    assert (before.due, before.amount, before.overdue) == (
        day("2019-07-02"),
        EUR("100000.00"),
        False,
    )
    after = _of(
        duties(case.current, _version(case, "2019-07-10"), day("2019-07-10"), uses=uses),
        DutyKind.UNUSED_FUNDS,
    )
    assert (after.overdue, after.days_overdue, after.rule_id) == (True, 8, "R-INTERIM-INTEREST")
    assert after.description.startswith(
        "100,000.00 EUR of payout 4 (300,000.00 EUR paid 2019-05-02) is not reported as used; "
        "funds are to be used within 2 months of payout, by 2019-07-02 (R-DRAWDOWN-2M); 8 days "
        "overdue"
    )
    all_used = [*uses, (day("2019-07-01"), EUR("100000.00"))]
    found = duties(case.current, _version(case, "2019-07-10"), day("2019-07-10"), uses=all_used)
    assert DutyKind.UNUSED_FUNDS not in [d.kind for d in found]


def test_without_spending_reports_every_payout_counts_as_unused() -> None:
    case = dmr_paid(EUR("300000.00"))
    found = duties(case.current, _version(case, "2019-08-01"), day("2019-08-01"))
    assert _of(found, DutyKind.UNUSED_FUNDS).amount == EUR("300000.00")


def test_duties_are_sorted_by_due_date() -> None:
    case = dmr_paid(EUR("300000.00"))
    found = duties(case.current, _version(case, "2019-06-01"), day("2019-06-01"))
    assert _kinds(found) == [
        (DutyKind.UNUSED_FUNDS, "2019-07-02", False),
        (DutyKind.INTERIM_PROOF, "2020-04-30", False),
        (DutyKind.PERIOD_END, "2020-12-31", False),
        (DutyKind.PROOF_OF_USE, "2021-06-30", False),
    ]


# --------------------------------------------------------------------------------------------
# States without duties
# --------------------------------------------------------------------------------------------


def test_an_approved_grant_already_has_its_dated_duties() -> None:
    case = dmr_approved()
    found = duties(case.current, _version(case, "2019-03-20"), day("2019-03-20"))
    assert [d.kind for d in found] == [
        DutyKind.INTERIM_PROOF,
        DutyKind.PERIOD_END,
        DutyKind.PROOF_OF_USE,
    ]


@pytest.mark.parametrize("state", ["proposed", "rejected", "withdrawn", "revoked"])
def test_grants_outside_the_funding_phase_have_no_duties(state: str) -> None:
    if state == "revoked":  # before any payment: nothing to pay back either
        case = dmr_approved()
        case.do(Revoke(date=day("2019-04-01"), notice_number="W-1", reason="Zweck verfehlt"), ANTON)
    else:
        case = dmr_proposed()
        if state == "rejected":
            case.do(Reject(date=day("2019-03-01"), reason="nicht förderfähig"), ANTON)
        elif state == "withdrawn":
            case.do(Withdraw(date=day("2019-03-01")), CLARA)
    assert case.current.state.value == state
    assert duties(case.current, _version(case, "2021-09-01"), day("2021-09-01")) == []


# --------------------------------------------------------------------------------------------
# Refunds (R-REFUND): due when the claim arises, until repaid
# --------------------------------------------------------------------------------------------


def _refunds(found: list[Duty]) -> list[tuple[str, Decimal | None, bool, int]]:
    return [
        (d.due.isoformat(), d.amount, d.overdue, d.days_overdue)
        for d in found
        if d.kind is DutyKind.REFUND
    ]


def _revoked(effective_from: pendulum.Date | None = None) -> Case:
    """200,000.00 paid on 2019-05-02; revoked for the past on 2022-11-15 (the worked example
    of docs/explanation/money.md)."""
    case = dmr_paid(EUR("200000.00"))
    case.do(
        Revoke(
            date=day("2022-11-15"),
            effective_from=effective_from,
            notice_number="W-1",
            reason="kein Verwendungsnachweis",
        ),
        ANTON,
    )
    return case


def test_a_revoked_grant_owes_its_refund_from_the_day_of_the_revocation() -> None:
    """Due 2022-11-15, the day the claim arose: in time that day; on 2022-12-15 overdue by
    15 (rest of November) + 15 = 30 days. A revoked grant owes no proofs, only the money."""
    case = _revoked()
    version = _version(case, "2022-11-15")
    on_the_day = duties(case.current, version, day("2022-11-15"))
    assert _refunds(on_the_day) == [("2022-11-15", EUR("200000.00"), False, 0)]
    assert [d.kind for d in on_the_day] == [DutyKind.REFUND]
    (refund,) = duties(case.current, version, day("2022-12-15"))
    assert (refund.rule_id, refund.overdue, refund.days_overdue) == ("R-REFUND", True, 30)
    assert refund.description == (
        "200,000.00 EUR of the refund claim still owed, due since it arose on 2022-11-15 "
        "(R-REFUND); 30 days overdue; it bears interest until repaid (R-REFUND-INTEREST): "
        f"grantflow money {case.current.id} shows it"
    )


def test_a_repayment_lowers_the_refund_and_a_full_one_removes_it() -> None:
    """80,000.00 repaid on 2022-12-16, the remaining 120,000.00 on 2023-03-01 (the worked
    example of docs/explanation/money.md). On 2023-02-28 120,000.00 are overdue by
    15 + 31 + 31 + 28 = 105 days; from 2023-03-01 nothing is owed."""
    case = _revoked()
    case.do(Repay(date=day("2022-12-16"), amount=EUR("80000.00")), FINN)
    version = _version(case, "2022-12-16")
    assert _refunds(duties(case.current, version, day("2022-12-16"))) == [
        ("2022-11-15", EUR("120000.00"), True, 31)
    ]
    # a repayment is not known before its day: on 2022-12-15 all 200,000.00 are owed
    assert _refunds(duties(case.current, version, day("2022-12-15"))) == [
        ("2022-11-15", EUR("200000.00"), True, 30)
    ]
    case.do(Repay(date=day("2023-03-01"), amount=EUR("120000.00")), FINN)
    assert _refunds(duties(case.current, version, day("2023-02-28"))) == [
        ("2022-11-15", EUR("120000.00"), True, 105)
    ]
    assert duties(case.current, version, day("2023-03-01")) == []
    assert case.current.refund_outstanding == EUR("0.00")


def test_a_revocation_reaching_back_is_due_from_its_own_day() -> None:
    """Revoked on 2022-11-15 with effect from 2022-01-10: interest runs from 2022-01-10
    (R-REFUND-INTEREST), but nobody can pay a claim before the notice makes it: it is due
    from 2022-11-15, and not known before that day."""
    case = _revoked(effective_from=day("2022-01-10"))
    (tranche,) = case.current.claim_tranches
    assert (tranche.effective_from, tranche.arose_on, tranche.due) == (
        day("2022-01-10"),
        day("2022-11-15"),
        day("2022-11-15"),
    )
    version = _version(case, "2022-11-15")
    assert duties(case.current, version, day("2022-11-14")) == []
    assert _refunds(duties(case.current, version, day("2022-11-16"))) == [
        ("2022-11-15", EUR("200000.00"), True, 1)
    ]


def test_each_tranche_is_due_from_its_own_step_and_repayments_clear_the_oldest_first() -> None:
    """Paid 700,000.00; an amendment of 2020-03-02 lowers the grant to 600,000.00 (100,000.00
    owed from then on), a revocation of 2020-06-02 claims the other 600,000.00.

    On 2020-07-01: 100,000.00 overdue by 29 + 30 + 31 + 30 + 1 = 121 days, 600,000.00 by
    28 + 1 = 29 days. 150,000.00 repaid on 2020-07-15 clear the older tranche and leave
    550,000.00 of the newer one, overdue by 28 + 15 = 43 days."""
    case = dmr_paid(EUR("700000.00"))
    case.do(Amend(date=day("2020-03-02"), notice_number="Ä1", amount=EUR("600000.00")), ANTON)
    running = case.current
    case.do(Revoke(date=day("2020-06-02"), notice_number="W1", reason="Zweck entfallen"), ANTON)
    version = _version(case, "2020-07-01")
    # while the grant runs, the refund is listed among its other duties, by due date (the
    # payout is not reported as used: its window ended 2019-07-02)
    assert [d.kind for d in duties(running, version, day("2020-03-02"))] == [
        DutyKind.UNUSED_FUNDS,
        DutyKind.REFUND,
        DutyKind.INTERIM_PROOF,
        DutyKind.PERIOD_END,
        DutyKind.PROOF_OF_USE,
    ]
    # a caller listing refunds another way (grantflow due) asks for the others alone
    assert [d.kind for d in duties(running, version, day("2020-03-02"), refunds=False)] == [
        DutyKind.UNUSED_FUNDS,
        DutyKind.INTERIM_PROOF,
        DutyKind.PERIOD_END,
        DutyKind.PROOF_OF_USE,
    ]
    assert _refunds(duties(case.current, version, day("2020-07-01"))) == [
        ("2020-03-02", EUR("100000.00"), True, 121),
        ("2020-06-02", EUR("600000.00"), True, 29),
    ]
    # before the revocation only the amendment's tranche had arisen
    assert _refunds(duties(case.current, version, day("2020-04-01"))) == [
        ("2020-03-02", EUR("100000.00"), True, 30)
    ]
    case.do(Repay(date=day("2020-07-15"), amount=EUR("150000.00")), FINN)
    owed = owed_tranches(case.current)
    assert [(o.tranche.event, o.tranche.due, o.owed) for o in owed] == [
        (Event.REVOKE, day("2020-06-02"), EUR("550000.00"))
    ]
    assert sum(o.owed for o in owed) == case.current.refund_outstanding
    assert _refunds(duties(case.current, version, day("2020-07-15"))) == [
        ("2020-06-02", EUR("550000.00"), True, 43)
    ]


def test_a_closed_grant_owes_the_difference_from_its_close() -> None:
    """800,000.00 paid; the proof shows 900,000.00 of costs, so the grant is 720,000.00 (80 %):
    80,000.00 are owed from the close on 2021-06-15, on 2021-07-01 overdue by 16 days. A
    revocation for the future keeps the claim owed as it was."""
    case = dmr_paid(EUR("800000.00"))
    case.do(
        Close(date=day("2021-06-15"), proof_date=day("2021-05-31"), final_costs=EUR("900000.00")),
        ANTON,
    )
    version = _version(case, "2021-07-01")
    assert duties(case.current, version, day("2021-07-01")) == refund_duties(
        case.current, day("2021-07-01")
    )
    assert _refunds(duties(case.current, version, day("2021-07-01"))) == [
        ("2021-06-15", EUR("80000.00"), True, 16)
    ]
    case.do(
        Revoke(
            date=day("2021-08-02"),
            notice_number="W-F",
            effect=RevocationEffect.FUTURE,
            reason="Zweckbindung endet",
        ),
        ANTON,
    )
    assert _refunds(duties(case.current, version, day("2021-08-02"))) == [
        ("2021-06-15", EUR("80000.00"), True, 48)
    ]


def test_a_tranche_stored_without_its_day_is_due_from_its_effective_date() -> None:
    """Snapshots written before grantflow kept the day a tranche arose have no ``arose_on``;
    the day interest starts stands in."""
    case = _revoked(effective_from=day("2022-01-10"))
    (tranche,) = case.current.claim_tranches
    old = attrs.evolve(case.current, claim_tranches=(attrs.evolve(tranche, arose_on=None),))
    assert _refunds(refund_duties(old, day("2022-01-11"))) == [
        ("2022-01-10", EUR("200000.00"), True, 1)
    ]
