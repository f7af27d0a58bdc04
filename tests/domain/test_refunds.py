"""Worked examples: settlement by financing type, refund claims, refund and interim interest.

Every grant is moved through the real lifecycle (``tests/domain/builders.py``). The expected
figures are computed by hand in the comments; where a second computation is possible the test
makes it independently (exact fractions, or a day-by-day count).

The DMR story: Stadt Paderborn, eligible costs 1,000,000.00 EUR, 800,000.00 EUR approved (80 %)
on 2019-03-15, own funds 200,000.00 EUR, funding period 2019-04-01 to 2020-12-31.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TypedDict

import pendulum
import pytest

from grantflow.domain.commands import Amend, Approve, Close, Disburse, Propose, Revoke, Start
from grantflow.domain.lifecycle import final_amount
from grantflow.domain.model import Applicant, ApplicantKind, FinancingType, State
from grantflow.domain.refunds import (
    Payout,
    Use,
    interim_interest,
    match_uses,
    refund_claim,
    refund_interest,
)
from grantflow.errors import BadInput
from grantflow.rates import load_base_rates
from tests.domain.builders import (
    ANTON,
    BERTA,
    CLARA,
    FINN,
    Case,
    day,
    dmr_approval,
    dmr_paid,
    dmr_running,
    mini_program,
)

TABLE = load_base_rates()
EUR = Decimal


class _CloseDates(TypedDict):
    """The dates of a ``Close``, to pass as ``**ON_TIME_CLOSE``."""

    date: pendulum.Date
    proof_date: pendulum.Date


ON_TIME_CLOSE: _CloseDates = {"date": day("2021-06-15"), "proof_date": day("2021-05-31")}


def _dmr_paid(financing: FinancingType, amount: str = "800000.00") -> Case:
    case = dmr_running(dmr_approval(financing_type=financing))
    case.do(Disburse(date=day("2019-05-02"), amount=EUR(amount)), FINN)
    return case


def _interest(principal: str, days: int, rate_pct: str) -> Decimal:
    """Independent act/365 computation of one slice: days × principal × rate / 36,500 with 50
    significant digits, rounded half-up to the cent."""
    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(principal) * Decimal(rate_pct) * days / Decimal(36500)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ============================================================================================
# Settlement by financing type (R-COST-REDUCTION, lifecycle.final_amount)
# ============================================================================================


def test_worked_example_share_financing_reduces_in_proportion() -> None:
    """Anteilfinanzierung: the grant stays 80 % of the costs.

    Approved 800,000.00 of 1,000,000.00 (80 %); final eligible costs 900,000.00.
    Final grant = 900,000.00 × 800,000 / 1,000,000 = 720,000.00 (the saving of 100,000.00
    reduces the grant by 80 %, i.e. 80,000.00). Paid 800,000.00: refund 80,000.00.
    """
    case = _dmr_paid(FinancingType.SHARE)
    case.do(Close(final_costs=EUR("900000.00"), **ON_TIME_CLOSE), ANTON)
    grant = case.current

    assert grant.settlement is not None
    assert grant.settlement.final_amount == EUR("720000.00")
    assert grant.settlement.final_amount == EUR(900000) * 800000 / 1000000  # cross-check
    claim = refund_claim(grant)
    assert (claim.amount, claim.paid, claim.covers) == (
        EUR("80000.00"),
        EUR("800000.00"),
        EUR("720000.00"),
    )
    assert claim.effective_from == day("2021-06-15")  # the final notice, unless told otherwise
    assert claim.explain() == (
        "final amount after the proof of use (R-COST-REDUCTION): paid 800,000.00 EUR, the grant "
        "covers 720,000.00 EUR, refund 80,000.00 EUR (R-REFUND, § 49a Abs. 1 VwVfG)"
    )


def test_worked_example_deficit_financing_reduces_by_the_whole_saving() -> None:
    """Fehlbedarfsfinanzierung: the grant fills the gap after own and other funds.

    Final costs 900,000.00 less own funds 200,000.00 = 700,000.00 (at most the approved
    800,000.00): the whole saving of 100,000.00 reduces the grant. Paid 800,000.00: refund
    100,000.00. With 50,000.00 more third-party money (other funds 250,000.00) the gap is
    650,000.00.
    """
    case = _dmr_paid(FinancingType.DEFICIT)
    grant = case.current
    assert final_amount(grant, EUR("900000.00"), EUR("250000.00")) == EUR("650000.00")

    case.do(Close(final_costs=EUR("900000.00"), **ON_TIME_CLOSE), ANTON)
    assert case.current.settlement is not None
    assert case.current.settlement.final_amount == EUR("700000.00")
    assert refund_claim(case.current).amount == EUR("100000.00")


@pytest.mark.parametrize(
    ("final_costs", "final", "refund"),
    [
        # Costs fall to 900,000.00, still above the fixed 800,000.00: the grant stays.
        ("900000.00", "800000.00", "0.00"),
        # Costs fall to 750,000.00, below the fixed amount: the grant is the costs.
        ("750000.00", "750000.00", "50000.00"),
    ],
)
def test_worked_example_fixed_amount_stays_unless_costs_fall_below_it(
    final_costs: str, final: str, refund: str
) -> None:
    """Festbetragsfinanzierung: 800,000.00 fixed; only costs below it reduce the grant."""
    case = _dmr_paid(FinancingType.FIXED)
    case.do(Close(final_costs=EUR(final_costs), **ON_TIME_CLOSE), ANTON)
    assert case.current.settlement is not None
    assert case.current.settlement.final_amount == EUR(final)
    assert refund_claim(case.current).amount == EUR(refund)


def test_worked_example_full_financing_reduces_by_savings_and_income() -> None:
    """Vollfinanzierung (a non-profit under a program without a rate cap): eligible costs
    500,000.00, all granted and paid. Final costs 460,000.00 and 10,000.00 of income from the
    project: final grant 460,000.00 - 10,000.00 = 450,000.00, refund 50,000.00."""
    case = Case(mini_program(""))
    case.do(
        Propose(
            date=day("2020-02-03"),
            program_id="mini",
            title="Offene Werkstatt",
            applicant=Applicant("Verein Werkraum e. V.", ApplicantKind.NON_PROFIT),
            eligible_costs=EUR("500000.00"),
            requested_amount=EUR("500000.00"),
            start=day("2020-04-01"),
            end=day("2021-03-31"),
        ),
        CLARA,
    )
    case.do(
        Approve(date=day("2020-03-02"), notice_number="M-1", financing_type=FinancingType.FULL),
        BERTA,
    )
    case.do(Start(date=day("2020-04-01")), CLARA)
    case.do(Disburse(date=day("2020-04-15"), amount=EUR("500000.00")), FINN)
    case.do(
        Close(
            date=day("2021-06-30"),
            final_costs=EUR("460000.00"),
            final_other_funds=EUR("10000.00"),
        ),
        ANTON,
    )
    assert case.current.settlement is not None
    assert case.current.settlement.final_amount == EUR("450000.00")
    assert refund_claim(case.current).amount == EUR("50000.00")


# ============================================================================================
# Revocation: refund claim and interest across a base-rate change (R-REFUND-INTEREST)
# ============================================================================================


def _revoked() -> Case:
    """200,000.00 EUR paid on 2019-05-02; no proof of use ever came; the notice is revoked
    with effect from 2022-11-15 (breach of an Auflage, R-REVOKE-LAWFUL)."""
    case = dmr_paid(EUR("200000.00"))
    case.do(
        Revoke(
            date=day("2022-11-15"),
            notice_number="DMR-OWL-2019-1-W",
            effective_from=day("2022-11-15"),
            known_since=day("2022-08-01"),
            reason="Verwendungsnachweis trotz Mahnung nicht vorgelegt",
        ),
        ANTON,
    )
    return case


def test_worked_example_revocation_with_interest_across_the_2023_base_rate_change() -> None:
    """Refund 200,000.00 EUR, interest from 2022-11-15, repaid on 2023-02-14.

    2022-11-15 to 2022-12-31:  47 days × 200,000.00 × 4.12 % / 365 = 1,061.04
    2023-01-01 to 2023-02-13:  44 days × 200,000.00 × 6.62 % / 365 = 1,596.05
                                                          total  2,657.09 EUR
    (4.12 % = base rate -0.88 + 5; 6.62 % = base rate 1.62 + 5; the repayment day is not
    counted.)
    """
    grant = _revoked().current
    assert grant.state is State.REVOKED
    claim = refund_claim(grant)
    assert (claim.amount, claim.effective_from) == (EUR("200000.00"), day("2022-11-15"))
    assert claim.basis == "the notice was revoked"

    due = refund_interest(claim, None, day("2023-02-14"), TABLE)

    (line,) = due.lines
    assert [(s.days, s.rate, s.amount) for s in line.slices] == [
        (47, EUR("4.12"), EUR("1061.04")),
        (44, EUR("6.62"), EUR("1596.05")),
    ]
    assert due.total == EUR("2657.09")
    assert due.total == _interest("200000", 47, "4.12") + _interest("200000", 44, "6.62")
    assert due.rule_id == "R-REFUND-INTEREST"
    assert due.explain()[-1] == "refund interest until 2023-02-14: 2,657.09 EUR"


def test_refund_interest_from_each_payout_counts_from_the_day_after() -> None:
    """MPSC: interest "ab dem Tag nach der Auszahlung". Paid 500,000.00 on 2019-05-02 and
    300,000.00 on 2019-08-01; closed at 720,000.00: the 80,000.00 refund is taken from the
    latest payment. Interest from 2019-08-02 until repayment on 2019-09-01 (not counted):
    2019-08-02 to 2019-08-31 = 30 days, 30 × 80,000.00 × 4.12 / 36,500 = 270.9041 -> 270.90."""
    case = dmr_running()
    case.do(Disburse(date=day("2019-05-02"), amount=EUR("500000.00")), FINN)
    case.do(
        Disburse(date=day("2019-08-01"), amount=EUR("300000.00"), needed_by=day("2019-09-30")),
        FINN,
    )
    case.do(Close(final_costs=EUR("900000.00"), **ON_TIME_CLOSE), ANTON)
    claim = refund_claim(case.current)
    assert [(p.paid_on, p.amount) for p in claim.parts] == [(day("2019-08-01"), EUR("80000.00"))]

    due = refund_interest(
        claim, None, day("2019-09-01"), TABLE, from_payouts=True, start_offset_days=1
    )
    assert due.lines[0].start == day("2019-08-02")
    assert due.total == EUR("270.90") == _interest("80000", 30, "4.12")


def test_a_claim_larger_than_the_last_payout_reaches_back_to_earlier_ones() -> None:
    case = dmr_running()
    case.do(Disburse(date=day("2019-05-02"), amount=EUR("500000.00")), FINN)
    case.do(Disburse(date=day("2019-06-03"), amount=EUR("100000.00")), FINN)
    case.do(Close(final_costs=EUR("500000.00"), **ON_TIME_CLOSE), ANTON)
    claim = refund_claim(case.current)  # final 400,000.00: 200,000.00 back
    assert [(p.paid_on, p.amount) for p in claim.parts] == [
        (day("2019-05-02"), EUR("100000.00")),
        (day("2019-06-03"), EUR("100000.00")),
    ]


def test_a_lowering_amendment_is_a_partial_revocation_with_a_claim() -> None:
    """Paid 700,000.00; an amendment of 2020-03-02 lowers the grant to 600,000.00."""
    case = dmr_paid(EUR("700000.00"))
    case.do(
        Amend(date=day("2020-03-02"), notice_number="DMR-OWL-2019-1-Ä1", amount=EUR("600000.00")),
        ANTON,
    )
    claim = refund_claim(case.current)
    assert (claim.amount, claim.effective_from) == (EUR("100000.00"), day("2020-03-02"))
    assert claim.basis == "amount lowered by amendment DMR-OWL-2019-1-Ä1"


def test_no_claim_while_payments_stay_within_the_grant() -> None:
    claim = refund_claim(dmr_paid(EUR("300000.00")).current)
    assert (claim.amount, claim.parts, claim.effective_from) == (EUR("0.00"), (), None)


def test_refund_interest_on_a_plain_amount_needs_a_start() -> None:
    with pytest.raises(BadInput, match="effective_from"):
        refund_interest(EUR("100.00"), None, day("2023-01-01"), TABLE)
    with pytest.raises(BadInput, match="with its payments"):
        refund_interest(
            EUR("100.00"), day("2022-01-01"), day("2023-01-01"), TABLE, from_payouts=True
        )
    with pytest.raises(BadInput, match="offset must not be negative"):
        refund_interest(
            EUR("100.00"), day("2022-01-01"), day("2023-01-01"), TABLE, start_offset_days=-1
        )
    plain = refund_interest(EUR("36500.00"), day("2016-08-01"), day("2016-08-02"), TABLE)
    assert plain.total == EUR("4.12")


# ============================================================================================
# Interim interest: funds not used within two months (R-INTERIM-INTEREST)
# ============================================================================================


def test_worked_example_interim_interest_for_money_used_late() -> None:
    """300,000.00 EUR paid on 2019-05-02; the window ends 2019-07-02 (two months).

    Reports: 200,000.00 used on 2019-06-20 (in time, no interest); 100,000.00 used on
    2019-09-16 (late). Interest runs on the late 100,000.00 for the whole time from payout to
    use, 2019-05-02 to 2019-09-15: 30 (May) + 30 + 31 + 31 + 15 = 137 days at 4.12 %:
        137 × 100,000.00 × 4.12 / 36,500 = 1,546.4110 -> 1,546.41 EUR.
    """
    case = dmr_paid(EUR("300000.00"))
    uses = [(day("2019-06-20"), EUR("200000.00")), (day("2019-09-16"), EUR("100000.00"))]

    result = interim_interest(case.current.disbursements, uses, day("2019-10-01"), TABLE)

    (line,) = result.lines
    assert (line.amount, line.used_on, line.use_by) == (
        EUR("100000.00"),
        day("2019-09-16"),
        day("2019-07-02"),
    )
    assert line.interest.days == 137
    assert result.total == EUR("1546.41") == _interest("100000", 137, "4.12")
    assert result.rule_id == "R-INTERIM-INTEREST"
    assert result.explain()[0] == (
        "payout 4 of 2019-05-02: 100,000.00 EUR used 2019-09-16, after the window ended 2019-07-02"
    )


def test_money_still_unused_bears_interest_up_to_the_statement_date() -> None:
    """Only the 200,000.00 report is in by 2019-08-01: 100,000.00 is unused after the window.
    2019-05-02 to 2019-07-31 = 91 days: 91 × 100,000.00 × 4.12 / 36,500 = 1,027.18 EUR.
    The report of 2019-09-16 is not yet known on 2019-08-01."""
    case = dmr_paid(EUR("300000.00"))
    uses = [(day("2019-06-20"), EUR("200000.00")), (day("2019-09-16"), EUR("100000.00"))]
    result = interim_interest(case.current.disbursements, uses, day("2019-08-01"), TABLE)
    (line,) = result.lines
    assert line.used_on is None
    assert result.total == EUR("1027.18") == _interest("100000", 91, "4.12")
    assert "not used as of 2019-08-01" in result.explain()[0]


def test_interim_interest_from_the_day_after_payout() -> None:
    """With ``start_offset_days=1``: 136 days, 136 × 100,000.00 × 4.12 / 36,500 = 1,535.12."""
    uses = [Use(day("2019-09-16"), EUR("100000.00"))]
    result = interim_interest(
        [(day("2019-05-02"), EUR("100000.00"))], uses, day("2019-10-01"), TABLE, start_offset_days=1
    )
    assert result.total == EUR("1535.12") == _interest("100000", 136, "4.12")


def test_spending_is_matched_to_payouts_first_in_first_out() -> None:
    """A: 100,000.00 paid 2020-01-15 (use by 2020-03-15); B: 50,000.00 paid 2020-02-10 (use by
    2020-04-10). 120,000.00 used on 2020-03-01 takes all of A and 20,000.00 of B, both in time;
    30,000.00 used on 2020-05-20 is the rest of B, late. Interest on it from 2020-02-10 to
    2020-05-19 = 100 days (2020 is a leap year; act/365 still divides by 365):
        100 × 30,000.00 × 4.12 / 36,500 = 338.6301 -> 338.63 EUR."""
    payouts = [
        Payout(1, day("2020-01-15"), EUR("100000.00")),
        Payout(2, day("2020-02-10"), EUR("50000.00")),
    ]
    uses = [(day("2020-05-20"), EUR("30000.00")), (day("2020-03-01"), EUR("120000.00"))]

    matched = match_uses(payouts, uses)
    a, b = matched.payouts
    assert [(p.used_on, p.amount) for p in a.pieces] == [(day("2020-03-01"), EUR("100000.00"))]
    assert [(p.used_on, p.amount) for p in b.pieces] == [
        (day("2020-03-01"), EUR("20000.00")),
        (day("2020-05-20"), EUR("30000.00")),
    ]
    assert a.late_pieces == ()
    assert b.unused == EUR("0.00")

    result = interim_interest(payouts, uses, day("2020-06-30"), TABLE)
    assert [(ln.seq, ln.amount) for ln in result.lines] == [(2, EUR("30000.00"))]
    assert result.total == EUR("338.63") == _interest("30000", 100, "4.12")


def test_spending_before_a_payout_uses_it_on_arrival() -> None:
    """Pre-financed: 50,000.00 spent on 2020-01-10, refunded by a payout on 2020-01-20. The
    payout is used on arrival; nothing beyond it was reported except 5,000.00 own money."""
    matched = match_uses(
        [(day("2020-01-20"), EUR("50000.00"))], [(day("2020-01-10"), EUR("55000.00"))]
    )
    (p,) = matched.payouts
    assert [(x.used_on, x.reported_on) for x in p.pieces] == [
        (day("2020-01-20"), day("2020-01-10"))
    ]
    assert matched.beyond_payouts == EUR("5000.00")
    assert (
        interim_interest(
            [(day("2020-01-20"), EUR("50000.00"))],
            [(day("2020-01-10"), EUR("55000.00"))],
            day("2021-01-01"),
            TABLE,
        ).lines
        == ()
    )


def test_money_within_its_window_bears_no_interest_yet() -> None:
    result = interim_interest([(day("2020-01-20"), EUR("50000.00"))], [], day("2020-03-20"), TABLE)
    assert result.lines == ()  # window ends 2020-03-20: the statement date is still in time
    result = interim_interest([(day("2020-01-20"), EUR("50000.00"))], [], day("2020-03-21"), TABLE)
    assert result.lines[0].interest.days == 61  # 2020-01-20 .. 2020-03-20


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(BadInput, match="more than zero"):
        Use(day("2020-01-01"), EUR("0.00"))
    with pytest.raises(BadInput, match="window must not be negative"):
        match_uses([], [], window_months=-1)
    with pytest.raises(BadInput, match="offset must not be negative"):
        interim_interest([], [], day("2020-01-01"), TABLE, start_offset_days=-2)
