"""Repayments of refund claims, revocation for the future, and the money statement.

Every grant is moved through the real lifecycle (``tests/domain/builders.py``). The expected
figures are computed by hand in the docstrings and checked a second time by an independent
computation (``_slice``: days × principal × rate / 36,500 with 50 digits, rounded half-up).
The same examples are worked in ``docs/explanation/money.md``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from grantflow.domain import budget, lifecycle
from grantflow.domain.commands import (
    Amend,
    Close,
    Disburse,
    Repay,
    Revoke,
    Start,
    Submit,
)
from grantflow.domain.guideline import InterestStart
from grantflow.domain.model import Document, Event, RevocationEffect, State
from grantflow.domain.refunds import refund_claim, refund_interest
from grantflow.domain.statement import money_statement
from grantflow.errors import BadInput, InvalidTransition
from grantflow.rates import load_base_rates
from tests.domain.builders import (
    ANTON,
    CLARA,
    FINN,
    NRW,
    Case,
    day,
    dmr_paid,
    mpsc_approved,
    program,
)

TABLE = load_base_rates()
EUR = Decimal
DMR = program(NRW).versions[0]


def _slice(principal: str, days: int, rate_pct: str) -> Decimal:
    """days × principal × rate / 36,500 (act/365), exactly, rounded half-up to the cent."""
    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(principal) * Decimal(rate_pct) * days / Decimal(36500)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _revoked(paid: str = "200000.00") -> Case:
    """Paid on 2019-05-02; no proof of use came; revoked for the past from 2022-11-15."""
    case = dmr_paid(EUR(paid))
    case.do(
        Revoke(
            date=day("2022-11-15"),
            notice_number="DMR-OWL-2019-1-W",
            known_since=day("2022-08-01"),
            reason="Verwendungsnachweis trotz Mahnung nicht vorgelegt",
        ),
        ANTON,
    )
    return case


# ============================================================================================
# The worked example: a revocation, a partial repayment, a base-rate change
# ============================================================================================


def test_worked_example_partial_repayment_across_the_2023_base_rate_change() -> None:
    """Refund claim 200,000.00 EUR from 2022-11-15; 80,000.00 repaid on 2022-12-16; the rest
    (120,000.00) repaid on 2023-03-01. The base rate changed on 2023-01-01 from -0.88 % to
    1.62 % (rates 4.12 % and 6.62 %).

        2022-11-15 to 2022-12-15: 31 days × 200,000.00 × 4.12 % / 365 =   699.84
        2022-12-16 to 2022-12-31: 16 days × 120,000.00 × 4.12 % / 365 =   216.72
        2023-01-01 to 2023-02-28: 59 days × 120,000.00 × 6.62 % / 365 = 1,284.10
                                                              total    2,200.66 EUR
    (699.8356, 216.7233, 1,284.0986 before rounding; repayment days bear no interest.)
    """
    case = _revoked()
    case.do(Repay(date=day("2022-12-16"), amount=EUR("80000.00")), FINN)
    partly = case.current
    assert (partly.refund_claim, partly.repaid_amount, partly.refund_outstanding) == (
        EUR("200000.00"),
        EUR("80000.00"),
        EUR("120000.00"),
    )
    assert partly.state is State.REVOKED  # a repayment does not change the state

    before_the_rest = money_statement(partly, DMR, day("2023-03-01"), TABLE)
    lines = before_the_rest.refund_interest.lines
    assert [(ln.principal, ln.start, ln.end) for ln in lines] == [
        (EUR("200000.00"), day("2022-11-15"), day("2022-12-16")),
        (EUR("120000.00"), day("2022-12-16"), day("2023-03-01")),
    ]
    slices = [(s.days, s.principal, s.rate, s.amount) for ln in lines for s in ln.slices]
    assert slices == [
        (31, EUR("200000.00"), EUR("4.12"), EUR("699.84")),
        (16, EUR("120000.00"), EUR("4.12"), EUR("216.72")),
        (59, EUR("120000.00"), EUR("6.62"), EUR("1284.10")),
    ]
    assert [a for *_, a in slices] == [
        _slice("200000", 31, "4.12"),
        _slice("120000", 16, "4.12"),
        _slice("120000", 59, "6.62"),
    ]
    assert before_the_rest.refund_interest.total == EUR("2200.66")
    # without the early 80,000.00: 47 days at 4.12 % and 59 at 6.62 % on 200,000.00
    whole = refund_interest(refund_claim(partly), None, day("2023-03-01"), TABLE)
    assert whole.total == EUR("1061.04") + EUR("2140.16") == EUR("3201.20")
    assert before_the_rest.outstanding == EUR("120000.00")
    assert before_the_rest.interim_interest is None  # revoked for the past: § 49a Abs. 4

    case.do(Repay(date=day("2023-03-01"), amount=EUR("120000.00")), FINN)
    paid_up = case.current
    assert paid_up.refund_outstanding == EUR("0.00")
    later = money_statement(paid_up, DMR, day("2023-06-30"), TABLE)
    assert later.outstanding == EUR("0.00")
    assert later.refund_interest.total == EUR("2200.66")  # nothing owed after 2023-03-01
    assert later.refund_interest.repaid == EUR("200000.00")


def test_the_statement_explains_every_slice() -> None:
    case = _revoked()
    case.do(Repay(date=day("2022-12-16"), amount=EUR("80000.00")), FINN)
    text = money_statement(case.current, DMR, day("2023-03-01"), TABLE).explain()
    assert "refund claim 200,000.00 EUR (the notice was revoked)" in text
    assert "  200,000.00 EUR from 2022-11-15 (revoke, record 5)" in text
    assert "still owed 120,000.00 EUR" in text
    assert (
        "    2023-01-01 to 2023-02-28: 59 days × 120,000.00 EUR × 6.62 % (base rate 1.62 % + "
        "5.00 %) / 365 = 1,284.10 EUR"
    ) in text
    assert "  refund interest until 2023-03-01: 2,200.66 EUR" in text


def test_repayments_are_refused_beyond_the_claim_and_where_nothing_is_owed() -> None:
    case = _revoked()
    refusal = case.refused(Repay(date=day("2023-01-02"), amount=EUR("200000.01")), FINN)
    assert refusal.rule_ids == ("GF-REFUND-BALANCE",)
    case.do(Repay(date=day("2023-01-02"), amount=EUR("200000.00")), FINN)
    refusal = case.refused(Repay(date=day("2023-01-03"), amount=EUR("0.01")), FINN)
    assert refusal.rule_ids == ("GF-REFUND-BALANCE",)
    with pytest.raises(BadInput, match="more than zero"):
        Repay(date=day("2023-01-03"), amount=EUR("0.00"))


def test_only_finance_books_a_repayment() -> None:
    case = _revoked()
    refusal = case.refused(Repay(date=day("2023-01-02"), amount=EUR("1000.00")), CLARA)
    assert refusal.rule_ids == ("GF-ROLE",)


def test_a_repayment_is_not_possible_before_there_can_be_a_claim() -> None:
    case = mpsc_approved()
    with pytest.raises(InvalidTransition):
        case.decide(Repay(date=day("2021-01-05"), amount=EUR("1.00")), FINN)


def test_a_statement_needs_the_grant_as_of_its_date() -> None:
    case = _revoked()
    with pytest.raises(BadInput, match="has steps after 2022-01-01"):
        money_statement(case.current, DMR, day("2022-01-01"), TABLE)
    then = lifecycle.replay_as_of(case.records, day("2022-01-01"))
    assert then is not None
    assert money_statement(then, DMR, day("2022-01-01"), TABLE).claim.amount == EUR("0.00")


# ============================================================================================
# Claims made in steps: each tranche bears interest from its own date
# ============================================================================================


def test_a_claim_made_in_steps_bears_interest_from_each_steps_date() -> None:
    """Paid 700,000.00 on 2019-05-02. An amendment of 2020-03-02 lowers the grant to
    600,000.00 (claim 100,000.00 from 2020-03-02); a revocation for the past of 2020-06-02
    claims the rest (600,000.00 from 2020-06-02). As of 2020-07-01 (base rate -0.88 %):

        2020-03-02 to 2020-06-01: 92 days × 100,000.00 × 4.12 % / 365 = 1,038.47
        2020-06-02 to 2020-06-30: 29 days × 700,000.00 × 4.12 % / 365 = 2,291.40
                                                              total    3,329.87 EUR
    """
    case = dmr_paid(EUR("700000.00"))
    case.do(Amend(date=day("2020-03-02"), notice_number="Ä1", amount=EUR("600000.00")), ANTON)
    case.do(Revoke(date=day("2020-06-02"), notice_number="W1", reason="Zweck entfallen"), ANTON)
    grant = case.current
    assert [(t.event, t.effective_from, t.amount) for t in grant.claim_tranches] == [
        (Event.AMEND, day("2020-03-02"), EUR("100000.00")),
        (Event.REVOKE, day("2020-06-02"), EUR("600000.00")),
    ]
    claim = refund_claim(grant)
    assert (claim.amount, claim.effective_from) == (EUR("700000.00"), day("2020-03-02"))

    due = money_statement(grant, DMR, day("2020-07-01"), TABLE).refund_interest
    assert [(ln.principal, ln.days, ln.total) for ln in due.lines] == [
        (EUR("100000.00"), 92, EUR("1038.47")),
        (EUR("700000.00"), 29, EUR("2291.40")),
    ]
    assert due.total == _slice("100000", 92, "4.12") + _slice("700000", 29, "4.12")
    assert due.total == EUR("3329.87")
    # dating the whole claim from one day, as the notice may do, is still possible
    whole = refund_interest(refund_claim(grant, day("2020-06-02")), None, day("2020-07-01"), TABLE)
    assert whole.total == _slice("700000", 29, "4.12")


def test_an_amendment_raising_the_amount_again_shrinks_the_newest_tranche() -> None:
    # own funds of 400,000.00 keep the financing complete when the amount goes up again
    case = dmr_paid(EUR("700000.00"), own_funds=EUR("400000.00"))
    case.do(Amend(date=day("2020-03-02"), notice_number="Ä1", amount=EUR("600000.00")), ANTON)
    case.do(Amend(date=day("2020-04-01"), notice_number="Ä2", amount=EUR("650000.00")), ANTON)
    assert [(t.seq, t.amount) for t in case.current.claim_tranches] == [(5, EUR("50000.00"))]
    case.do(Amend(date=day("2020-05-04"), notice_number="Ä3", amount=EUR("700000.00")), ANTON)
    assert case.current.claim_tranches == ()
    assert case.current.refund_claim == EUR("0.00")


def test_a_closing_claim_stays_owed_when_the_grant_is_revoked_later() -> None:
    """Closed at 720,000.00 of 800,000.00 paid: 80,000.00 owed from the close; it is repaid;
    a later revocation for the past claims the other 720,000.00 from its own date."""
    case = dmr_paid(EUR("800000.00"))
    case.do(
        Close(date=day("2021-06-15"), proof_date=day("2021-05-31"), final_costs=EUR("900000.00")),
        ANTON,
    )
    case.do(Repay(date=day("2021-07-15"), amount=EUR("80000.00")), FINN)
    case.do(
        Revoke(date=day("2022-03-01"), notice_number="W2", reason="Zweckbindung verletzt"), ANTON
    )
    grant = case.current
    assert [(t.event, t.effective_from, t.amount) for t in grant.claim_tranches] == [
        (Event.CLOSE, day("2021-06-15"), EUR("80000.00")),
        (Event.REVOKE, day("2022-03-01"), EUR("720000.00")),
    ]
    assert (grant.refund_claim, grant.repaid_amount, grant.refund_outstanding) == (
        EUR("800000.00"),
        EUR("80000.00"),
        EUR("720000.00"),
    )
    due = money_statement(grant, DMR, day("2022-03-31"), TABLE).refund_interest
    # 80,000.00 from 2021-06-15 to 2021-07-14 (30 days); 720,000.00 from 2022-03-01 (30 days)
    assert [(ln.principal, ln.start, ln.days) for ln in due.lines] == [
        (EUR("80000.00"), day("2021-06-15"), 30),
        (EUR("720000.00"), day("2022-03-01"), 30),
    ]
    assert due.total == _slice("80000", 30, "4.12") + _slice("720000", 30, "4.12")


# ============================================================================================
# Revocation for the future (§ 49 Abs. 2 VwVfG)
# ============================================================================================


def test_worked_example_revocation_for_the_future_keeps_what_was_paid() -> None:
    """300,000.00 of 800,000.00 paid on 2019-05-02 and used on 2019-06-28 (within the two
    months); the notice is revoked for the future from 2020-02-03. The grant now binds the
    300,000.00 paid, nothing more is paid, nothing is claimed back, and no interest arises."""
    case = dmr_paid(EUR("300000.00"))
    case.do(
        Submit(date=day("2019-06-28"), document=Document.SPENDING_REPORT, amount=EUR("300000.00")),
        CLARA,
    )
    case.do(
        Revoke(
            date=day("2020-02-03"),
            notice_number="DMR-OWL-2019-1-W",
            effect=RevocationEffect.FUTURE,
            reason="Förderzweck entfällt ab 2020 (Projektende auf Antrag)",
        ),
        ANTON,
    )
    grant = case.current
    assert grant.state is State.REVOKED
    assert grant.revocation_effect is RevocationEffect.FUTURE
    assert (grant.committed_amount, grant.refund_claim, grant.claim_tranches) == (
        EUR("300000.00"),
        EUR("0.00"),
        (),
    )
    assert grant.settlement is not None
    assert grant.settlement.final_amount == EUR("300000.00")
    statement = money_statement(grant, DMR, day("2020-12-31"), TABLE)
    assert (statement.outstanding, statement.refund_interest.total) == (EUR("0"), EUR("0"))
    assert statement.interim_interest is not None
    assert statement.interim_interest.lines == ()  # used within the window
    assert statement.claim.basis.startswith("the notice was revoked for the future")
    with pytest.raises(InvalidTransition):
        case.decide(Disburse(date=day("2020-03-02"), amount=EUR("1000.00")), FINN)
    refusal = case.refused(Repay(date=day("2020-03-02"), amount=EUR("1.00")), FINN)
    assert refusal.rule_ids == ("GF-REFUND-BALANCE",)


def test_a_future_revocation_keeps_an_earlier_claim() -> None:
    """Paid 700,000.00; lowered to 600,000.00 by amendment (100,000.00 owed); revoked for the
    future: the grant binds 600,000.00 and the 100,000.00 stay owed from the amendment."""
    case = dmr_paid(EUR("700000.00"))
    case.do(Amend(date=day("2020-03-02"), notice_number="Ä1", amount=EUR("600000.00")), ANTON)
    case.do(
        Revoke(
            date=day("2020-06-02"),
            notice_number="W1",
            effect=RevocationEffect.FUTURE,
            reason="Zweck entfallen",
        ),
        ANTON,
    )
    grant = case.current
    assert (grant.committed_amount, grant.refund_claim) == (EUR("600000.00"), EUR("100000.00"))
    assert [(t.event, t.effective_from) for t in grant.claim_tranches] == [
        (Event.AMEND, day("2020-03-02"))
    ]


def test_a_revocation_for_the_future_cannot_reach_back() -> None:
    with pytest.raises(BadInput, match="for the future cannot take effect"):
        Revoke(
            date=day("2020-02-03"),
            effective_from=day("2020-02-02"),
            notice_number="W",
            effect=RevocationEffect.FUTURE,
            reason="x",
        )


def test_the_revocation_record_keeps_its_effect() -> None:
    case = dmr_paid(EUR("300000.00"))
    record = case.do(
        Revoke(
            date=day("2020-02-03"), notice_number="W", effect=RevocationEffect.FUTURE, reason="x"
        ),
        ANTON,
    )
    assert record.data["effect"] == "future"
    assert (record.data["final_amount"], record.data["refund_claim"]) == ("300000.00", "0.00")
    assert lifecycle.replay(case.records) == case.current


# ============================================================================================
# MPSC: refund interest from the day after each payout, and interim interest
# ============================================================================================


def test_mpsc_refund_interest_runs_from_the_day_after_the_payout_until_repayment() -> None:
    """Iserlohn, 65 % of 2,700,000.00 = 1,755,000.00 approved. Paid 1,000,000.00 on
    2021-02-01 and 500,000.00 on 2021-06-01, both reported as used within two months. Closed
    on 2021-09-01 at final costs of 2,000,000.00: final grant 2,000,000.00 × 1,755,000 /
    2,700,000 = 1,300,000.00, refund 200,000.00, taken from the latest payout. Repaid on
    2021-10-01. Interest from the day after that payout, 2021-06-02, to 2021-09-30:
    29 + 31 + 31 + 30 = 121 days × 200,000.00 × 4.12 % / 365 = 2,731.62 EUR."""
    case = mpsc_approved()
    case.do(Start(date=day("2021-01-04")), CLARA)
    case.do(Disburse(date=day("2021-02-01"), amount=EUR("1000000.00")), FINN)
    case.do(
        Submit(date=day("2021-03-15"), document=Document.SPENDING_REPORT, amount=EUR("1000000.00")),
        CLARA,
    )
    case.do(Disburse(date=day("2021-06-01"), amount=EUR("500000.00")), FINN)
    case.do(
        Submit(date=day("2021-07-15"), document=Document.SPENDING_REPORT, amount=EUR("300000.00")),
        CLARA,
    )
    case.do(Close(date=day("2021-09-01"), final_costs=EUR("2000000.00")), ANTON)
    case.do(Repay(date=day("2021-10-01"), amount=EUR("200000.00")), FINN)
    grant = case.current
    version = case.program.version_at(day("2020-11-16"))
    assert version.interest.refund.starts is InterestStart.DAY_AFTER_PAYOUT
    statement = money_statement(grant, version, day("2021-12-31"), TABLE)
    assert statement.claim.amount == EUR("200000.00")
    (line,) = statement.refund_interest.lines
    assert (line.start, line.end, line.days) == (day("2021-06-02"), day("2021-10-01"), 121)
    assert statement.refund_interest.total == EUR("2731.62") == _slice("200000", 121, "4.12")
    # the claimed money counts as never awaiting use: no interim interest on top
    assert statement.interim_interest is not None
    assert statement.interim_interest.total == EUR("0.00")
    assert statement.interim_until == day("2021-09-01")


def test_interim_interest_on_money_used_late_in_a_running_grant() -> None:
    """300,000.00 paid 2019-05-02 (window to 2019-07-02), 100,000.00 used on 2019-09-16: 137
    days × 100,000.00 × 4.12 % / 365 = 1,546.41 EUR (the money.md example), in the statement."""
    case = dmr_paid(EUR("300000.00"))
    for date, amount in (("2019-06-20", "200000.00"), ("2019-09-16", "100000.00")):
        case.do(
            Submit(date=day(date), document=Document.SPENDING_REPORT, amount=EUR(amount)), CLARA
        )
    statement = money_statement(case.current, DMR, day("2019-10-01"), TABLE)
    assert statement.interim_interest is not None
    assert statement.interim_total == EUR("1546.41") == _slice("100000", 137, "4.12")
    assert statement.interim_until == day("2019-10-01")
    assert statement.unused == EUR("0.00")


# ============================================================================================
# What the budget report counts (grantflow.domain.budget): outstanding refunds
# ============================================================================================


def test_the_budget_counts_what_is_still_owed_after_repayments() -> None:
    """Paid 300,000.00, revoked for the past: 300,000.00 owed; a repayment of 120,000.00
    lowers the outstanding refunds by 120,000.00 and changes no other figure."""
    case = dmr_paid(EUR("300000.00"))
    case.do(Revoke(date=day("2020-01-10"), notice_number="W-1", reason="Zweck verfehlt"), ANTON)
    before = case.current
    case.do(Repay(date=day("2020-02-14"), amount=EUR("120000.00")), FINN)
    (change,) = budget.deltas(before, case.current)
    assert change[1] == budget.BudgetFigures(refunds=EUR("-120000.00"))
    assert budget.figures(case.current).refunds == EUR("180000.00")


def test_the_budget_counts_a_grant_revoked_for_the_future_with_what_it_keeps() -> None:
    """Paid 300,000.00 of 800,000.00; revoked for the future: the grant binds the 300,000.00
    it keeps (500,000.00 go back to the budget), owes nothing and no longer counts as a grant
    that binds budget."""
    case = dmr_paid(EUR("300000.00"))
    before = case.current
    case.do(
        Revoke(
            date=day("2020-01-10"),
            notice_number="W-1",
            reason="Zweck entfällt",
            effect=RevocationEffect.FUTURE,
        ),
        ANTON,
    )
    (change,) = budget.deltas(before, case.current)
    assert change[1] == budget.BudgetFigures(
        grants=-1, committed=EUR("-500000.00"), total_volume=EUR("-1000000.00")
    )
