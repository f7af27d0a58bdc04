"""Repayments, revocation for the future and the money statement through the service
(SQLite and PostgreSQL). The figures are the worked example of ``docs/explanation/money.md``
(hand-checked there and in ``tests/domain/test_repayments.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grantflow.domain.commands import Repay, Revoke, Submit
from grantflow.domain.model import Document, Event, RevocationEffect, State
from grantflow.errors import BadInput, NotFound, RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    DMR,
    day,
    disburse,
    invariant_problems,
    running_dmr_grant,
    set_up,
    table_contents,
)

EUR = Decimal


@pytest.fixture
def gf(app: Grantflow) -> Grantflow:
    set_up(app)
    return app


def _revoked(gf: Grantflow) -> str:
    """200,000.00 paid on 2019-05-02, revoked for the past from 2022-11-15."""
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("200000.00"), actor="finn")
    gf.act(
        g.id,
        Revoke(date=day("2022-11-15"), notice_number="W-1", reason="kein Verwendungsnachweis"),
        actor="anton",
    )
    return g.id


def test_a_repayment_is_booked_and_the_statement_shows_what_is_owed(gf: Grantflow) -> None:
    gid = _revoked(gf)
    after = gf.act(gid, Repay(date=day("2022-12-16"), amount=EUR("80000.00")), actor="finn")
    assert after.state is State.REVOKED
    assert (after.repaid_amount, after.refund_outstanding) == (EUR("80000.00"), EUR("120000.00"))
    assert gf.records(gid)[-1].event is Event.REPAY

    m = gf.money(gid, as_of=day("2023-03-01"))
    assert (m.claim.amount, m.repaid, m.outstanding) == (
        EUR("200000.00"),
        EUR("80000.00"),
        EUR("120000.00"),
    )
    # 699.84 + 216.72 + 1,284.10 (docs/explanation/money.md)
    assert [s.amount for ln in m.refund_interest.lines for s in ln.slices] == [
        EUR("699.84"),
        EUR("216.72"),
        EUR("1284.10"),
    ]
    assert m.refund_interest.total == EUR("2200.66")
    assert m.guideline_version == "2018-07"

    # as of the day before the repayment the grant is replayed: all 200,000.00 still owed,
    # interest for 2022-11-15 to 2022-12-14: 30 × 200,000.00 × 4.12 / 36,500 = 677.26
    before = gf.money(gid, as_of=day("2022-12-15"))
    assert (before.repaid, before.outstanding) == (EUR("0.00"), EUR("200000.00"))
    assert before.refund_interest.total == EUR("677.26")
    assert invariant_problems(gf) == []


def test_the_budget_report_counts_what_is_still_owed(gf: Grantflow) -> None:
    gid = _revoked(gf)
    gf.act(gid, Repay(date=day("2022-12-16"), amount=EUR("80000.00")), actor="finn")
    assert gf.budget_report(DMR, as_of=day("2022-12-15")).refunds == EUR("200000.00")
    assert gf.budget_report(DMR, as_of=day("2022-12-16")).refunds == EUR("120000.00")


def test_a_repayment_beyond_what_is_owed_changes_nothing(gf: Grantflow) -> None:
    gid = _revoked(gf)
    before = table_contents(gf, skip=("refused_attempts",))
    with pytest.raises(RuleViolation) as refused:
        gf.act(gid, Repay(date=day("2022-12-16"), amount=EUR("200000.01")), actor="finn")
    assert refused.value.rule_ids == ("GF-REFUND-BALANCE",)
    assert table_contents(gf, skip=("refused_attempts",)) == before
    (entry,) = [e for e in gf.log(grant_id=gid) if e.refused]
    assert entry.rule_ids == ("GF-REFUND-BALANCE",)


def test_a_revocation_for_the_future_binds_what_was_paid(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("300000.00"), actor="finn")
    gf.act(
        g.id,
        Submit(date=day("2019-06-28"), document=Document.SPENDING_REPORT, amount=EUR("300000")),
        actor="clara",
    )
    after = gf.act(
        g.id,
        Revoke(
            date=day("2020-02-03"),
            notice_number="W-2",
            effect=RevocationEffect.FUTURE,
            reason="Projekt endet auf Antrag",
        ),
        actor="anton",
    )
    assert (after.committed_amount, after.refund_claim) == (EUR("300000.00"), EUR("0.00"))
    assert gf.exposure(DMR).program_committed == EUR("300000.00")
    m = gf.money(g.id, as_of=day("2020-12-31"))
    assert (m.outstanding, m.refund_interest.total, m.interim_total) == (
        EUR("0.00"),
        EUR("0.00"),
        EUR("0.00"),
    )
    assert gf.records(g.id)[-1].data["effect"] == "future"
    assert invariant_problems(gf) == []


def test_the_statement_refuses_unknown_grants_and_days_before_the_grant(gf: Grantflow) -> None:
    gid = _revoked(gf)
    with pytest.raises(NotFound):
        gf.money("DMR-2019-9999")
    with pytest.raises(NotFound, match="did not exist yet"):
        gf.money(gid, as_of=day("2019-01-01"))
    with pytest.raises(BadInput, match="base-rate table ends"):
        gf.money(gid, as_of=day("2040-01-01"))
