"""What one grant contributes to the budget figures, and what each step changes.

The figures are hand-checked against the DMR story of ``builders``: Stadt Paderborn, eligible
costs 1,000,000.00 EUR, 800,000.00 EUR approved (80 %), share financing.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from grantflow.domain import budget
from grantflow.domain.budget import NOTHING, BudgetFigures, BudgetKey, day_deltas, deltas, figures
from grantflow.domain.commands import Amend, Close, Revoke, Submit, Withdraw
from grantflow.domain.model import Applicant, ApplicantKind, Document
from grantflow.errors import BadInput

from .builders import (
    ANTON,
    CLARA,
    NRW,
    day,
    dmr_approval,
    dmr_approved,
    dmr_paid,
    dmr_proposed,
)

OWL = BudgetKey(NRW, "owl", "e-government", budget.NONE)
APPROVED = BudgetFigures(
    grants=1,
    committed=Decimal("800000.00"),
    total_volume=Decimal("1000000.00"),
    notices=1,
    notice_amount=Decimal("800000.00"),
)
"""The DMR grant right after its notice: it binds 800,000.00 of 1,000,000.00 eligible costs."""


def test_an_application_contributes_nothing_until_its_notice() -> None:
    case = dmr_proposed()
    assert figures(None) == NOTHING
    assert figures(case.current) == NOTHING
    assert deltas(None, case.current) == []  # a proposal writes no budget row
    before = case.current
    case.do(dmr_approval(), ANTON)
    assert deltas(before, case.current) == [(OWL, APPROVED)]


def test_payment_amendment_and_revocation_move_the_figures() -> None:
    case = dmr_paid(Decimal("300000.00"))
    assert figures(case.current) == attrs.evolve(APPROVED, disbursed=Decimal("300000.00"))
    # a partial revocation to 200,000.00 after 300,000.00 were paid: 100,000.00 are owed back
    before = case.current
    case.do(Amend(date=day("2019-09-02"), notice_number="Ä-1", amount=Decimal("200000.00")), ANTON)
    assert deltas(before, case.current) == [
        (OWL, BudgetFigures(committed=Decimal("-600000.00"), refunds=Decimal("100000.00")))
    ]
    # revoked: nothing binds, the grant no longer counts, everything paid is owed back
    before = case.current
    case.do(Revoke(date=day("2020-01-10"), notice_number="W-1", reason="Zweck verfehlt"), ANTON)
    assert figures(case.current) == BudgetFigures(
        disbursed=Decimal("300000.00"),
        refunds=Decimal("300000.00"),
        notices=1,
        notice_amount=Decimal("800000.00"),
    )
    assert deltas(before, case.current) == [
        (
            OWL,
            BudgetFigures(
                grants=-1,
                committed=Decimal("-200000.00"),
                refunds=Decimal("200000.00"),
                total_volume=Decimal("-1000000.00"),
            ),
        )
    ]


def test_closing_with_lower_costs_binds_the_final_amount() -> None:
    """Share financing: 900,000.00 final costs x 800,000 / 1,000,000 = 720,000.00 final grant;
    760,000.00 were paid, so 40,000.00 are owed back (R-COST-REDUCTION, R-REFUND)."""
    case = dmr_paid(Decimal("760000.00"))
    case.do(Submit(date=day("2021-03-01"), document=Document.PROOF_OF_USE), CLARA)
    before = case.current
    case.do(Close(date=day("2021-04-01"), final_costs=Decimal("900000.00")), ANTON)
    assert deltas(before, case.current) == [
        (OWL, BudgetFigures(committed=Decimal("-80000.00"), refunds=Decimal("40000.00")))
    ]
    assert figures(case.current).grants == 1  # a closed grant still counts


def test_a_withdrawn_grant_gives_its_commitment_back() -> None:
    case = dmr_approved()
    before = case.current
    case.do(Withdraw(date=day("2019-03-20"), reason="Projekt aufgegeben"), CLARA)
    assert deltas(before, case.current) == [
        (
            OWL,
            BudgetFigures(
                grants=-1, committed=Decimal("-800000.00"), total_volume=Decimal("-1000000.00")
            ),
        )
    ]
    # the notice was issued all the same: it stays in its budget year's count
    assert figures(case.current).notices == 1


def test_a_step_that_changes_no_figure_writes_nothing() -> None:
    case = dmr_paid(Decimal("300000.00"))
    before = case.current
    case.do(
        Submit(
            date=day("2019-06-01"), document=Document.SPENDING_REPORT, amount=Decimal("1000.00")
        ),
        CLARA,
    )
    assert deltas(before, case.current) == []


def test_a_grant_that_changes_region_moves_its_figures() -> None:
    """The lifecycle never changes a region today; the deltas key each side by its own region
    all the same, so the sums per region stay right if it ever does."""
    before = dmr_approved().current
    after = attrs.evolve(before, region="soest")
    moved = deltas(before, after)
    assert moved == sorted(moved, key=lambda kf: attrs.astuple(kf[0]))
    assert dict(moved) == {OWL: -APPROVED, attrs.evolve(OWL, region="soest"): APPROVED}


def test_figures_add_and_subtract_field_by_field() -> None:
    paid = attrs.evolve(APPROVED, disbursed=Decimal("1.00"))
    assert paid - APPROVED == BudgetFigures(disbursed=Decimal("1.00"))
    assert APPROVED + -APPROVED == NOTHING and not NOTHING and paid
    assert len(paid.values()) == len(budget.MEASURES)


def test_day_deltas_replay_each_grant_and_key_its_steps_by_their_date() -> None:
    case = dmr_paid(Decimal("300000.00"))
    soest = Applicant("Stadt Soest", ApplicantKind.MUNICIPALITY)
    other = [
        attrs.evolve(r, grant_id="G-2")
        for r in dmr_approved(region="soest", applicant=soest).records
    ]
    found = list(day_deltas([*case.records, *other]))
    assert found == [
        (day("2019-03-15"), OWL, APPROVED),
        (day("2019-05-02"), OWL, BudgetFigures(disbursed=Decimal("300000.00"))),
        (day("2019-03-15"), attrs.evolve(OWL, region="soest"), APPROVED),
    ]
    # the sum over a grant's steps is its figures now
    assert sum((f for _, k, f in found if k == OWL), NOTHING) == figures(case.current)


def test_day_deltas_need_each_grants_records_together_and_in_order() -> None:
    case = dmr_paid(Decimal("300000.00"))
    with pytest.raises(BadInput):
        list(day_deltas([case.records[0], case.records[2], case.records[1]]))
    with pytest.raises(BadInput):  # a grant's records interleaved with another's
        list(day_deltas([case.records[0], dmr_proposed().records[0], case.records[1]]))
