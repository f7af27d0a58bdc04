"""A grant's whole life through the service layer, on SQLite and PostgreSQL: every step is
stored as snapshot + record + money row, and the stored grant is always the replay of its
records."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pendulum
import pytest

from grantflow.domain import lifecycle
from grantflow.domain.commands import Amend, Close, Extend, Reject, Revoke, Withdraw
from grantflow.domain.model import Event, Override, State
from grantflow.errors import InvalidTransition, NotFound, RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    DMR,
    SMALL,
    approve,
    count,
    day,
    disburse,
    dmr_proposal,
    invariant_problems,
    running_dmr_grant,
    set_up,
    small_proposal,
    start,
)

CLOCK = pendulum.datetime(2024, 5, 6, 7, 8, 9, 123456, tz="Europe/Berlin")


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def test_the_whole_life_of_a_grant(gf: Grantflow) -> None:
    g = gf.propose(dmr_proposal(own_funds=Decimal("250000.00")), actor="clara")
    assert g.id == "DMR-2019-0001"
    assert g.state is State.PROPOSED
    g = gf.act(g.id, approve(), actor="anton")
    assert (g.state, g.approved_amount) == (State.APPROVED, Decimal("800000.00"))
    g = gf.act(g.id, start(), actor="clara")
    g = gf.act(g.id, disburse("300000.00"), actor="finn")
    g = gf.act(g.id, disburse("200000.00", "2019-07-01"), actor="finn")
    g = gf.act(
        g.id,
        Extend(date=day("2020-10-01"), until=day("2021-06-30"), notice_number="N-2"),
        actor="berta",
    )
    assert g.state is State.EXTENDED
    g = gf.act(
        g.id,
        Amend(date=day("2020-11-01"), notice_number="N-3", amount=Decimal("750000")),
        actor="anton",
    )
    g = gf.act(g.id, Close(date=day("2021-09-01"), final_costs=Decimal("950000.00")), actor="anton")
    assert g.state is State.CLOSED
    assert g.settlement is not None

    stored = gf.grant(g.id)
    assert stored == g
    records = gf.records(g.id)
    assert [r.event for r in records] == [
        Event.PROPOSE,
        Event.APPROVE,
        Event.START,
        Event.DISBURSE,
        Event.DISBURSE,
        Event.EXTEND,
        Event.AMEND,
        Event.CLOSE,
    ]
    assert [r.seq for r in records] == list(range(1, 9))
    assert lifecycle.replay(records) == stored
    assert count(gf, "disbursements") == 2
    assert count(gf, "notices") == 3  # approve, extend, amend
    assert invariant_problems(gf) == []


def test_records_keep_utc_times_and_the_version_in_force(app: Grantflow, tmp_path: Path) -> None:
    gf = Grantflow(app.engine, clock=lambda: CLOCK)  # type: ignore[arg-type]
    set_up(gf, tmp_path)
    g = gf.propose(dmr_proposal(), actor="clara")
    gf.act(g.id, approve(), actor="anton")
    gf.act(g.id, start(), actor="clara")
    gf.act(g.id, disburse("1000.00", "2021-08-02"), actor="finn")
    records = gf.records(g.id)
    assert all(r.recorded_at == CLOCK for r in records)
    assert all(r.recorded_at.timezone_name == "UTC" for r in records)
    assert records[-1].recorded_at.microsecond == 123456
    # the guideline's second version takes effect 2021-07-01
    assert [r.guideline_version for r in records] == ["2018-07", "2018-07", "2018-07", "2021-07"]


def test_refused_steps_change_nothing_and_are_recorded(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    with pytest.raises(RuleViolation) as refused:
        gf.act(g.id, disburse("900000.00"), actor="finn")
    assert "GF-CEILING" in refused.value.rule_ids
    with pytest.raises(InvalidTransition):
        gf.act(g.id, approve("2019-06-01", "N-9"), actor="anton")
    assert gf.grant(g.id) == g
    assert len(gf.records(g.id)) == 3
    refusals = [e for e in gf.log(grant_id=g.id) if e.refused]
    assert [(e.event, e.rule_ids) for e in refusals] == [
        (Event.DISBURSE, ("GF-CEILING",)),
        (Event.APPROVE, ("GF-LIFECYCLE",)),
    ]
    assert refusals[0].data["amount"] == "900000.00"
    assert any(v.rule_id == "GF-ROLE" and v.passed for v in refusals[0].verdicts)
    assert invariant_problems(gf) == []


def test_every_failing_rule_is_reported(gf: Grantflow) -> None:
    g = gf.propose(dmr_proposal(attestations=frozenset()), actor="clara")
    with pytest.raises(RuleViolation) as refused:
        gf.act(g.id, approve(amount=Decimal("900000.00")), actor="clara")
    assert {"GF-ROLE", "GF-FOUR-EYES", "GF-REQUESTED-CAP", "R-PROG-DMR-STANDARDS"} <= set(
        refused.value.rule_ids
    )


def test_a_soft_rule_can_be_overridden_with_a_justification(gf: Grantflow) -> None:
    g = gf.propose(small_proposal("500.00"), actor="clara")
    with pytest.raises(RuleViolation, match="R-BAGATELLE"):
        gf.act(g.id, approve("2021-02-01"), actor="anton")
    g = gf.act(
        g.id,
        approve("2021-02-01", overrides=(Override("R-BAGATELLE", "pilot project"),)),
        actor="anton",
    )
    assert g.state is State.APPROVED
    verdict = next(v for v in gf.records(g.id)[-1].verdicts if v.rule_id == "R-BAGATELLE")
    assert verdict.overridden and verdict.justification == "pilot project"


def test_budget_and_envelope_hold(gf: Grantflow) -> None:
    ids = [gf.propose(small_proposal("250000.00"), actor="clara").id for _ in range(3)]
    ids += [gf.propose(small_proposal("250000.00", "south"), actor="clara").id for _ in range(3)]
    gf.act(ids[0], approve("2021-02-01"), actor="anton")
    gf.act(ids[1], approve("2021-02-01"), actor="anton")
    with pytest.raises(RuleViolation) as envelope:
        gf.act(ids[2], approve("2021-02-01"), actor="anton")  # north: 600,000 envelope
    assert envelope.value.rule_ids == ("R-ENVELOPE",)
    gf.act(ids[3], approve("2021-02-01"), actor="anton")
    gf.act(ids[4], approve("2021-02-01"), actor="anton")
    with pytest.raises(RuleViolation) as budget:
        gf.act(ids[5], approve("2021-02-01"), actor="anton")  # 1,000,000 in all
    assert budget.value.rule_ids == ("R-BUDGET",)
    exposure = gf.exposure(SMALL)
    assert exposure.program_committed == Decimal("1000000.00")
    assert exposure.region_committed == {
        "north": Decimal("500000.00"),
        "south": Decimal("500000.00"),
    }
    # withdrawing one frees its money for the next
    gf.act(ids[0], Withdraw(date=day("2021-02-02")), actor="clara")
    gf.act(ids[5], approve("2021-02-03"), actor="anton")
    assert gf.exposure(SMALL).program_committed == Decimal("1000000.00")
    assert invariant_problems(gf) == []


def test_exposure_as_of_a_past_day(gf: Grantflow) -> None:
    a = gf.propose(small_proposal("100000.00"), actor="clara")
    b = gf.propose(small_proposal("200000.00", "south"), actor="clara")
    gf.act(a.id, approve("2021-02-01"), actor="anton")
    gf.act(b.id, approve("2021-03-01"), actor="anton")
    gf.act(a.id, Revoke(date=day("2021-04-01"), notice_number="W-1", reason="fraud"), actor="anton")
    assert gf.exposure(SMALL, as_of=day("2021-01-31")).program_committed == Decimal("0.00")
    assert gf.exposure(SMALL, as_of=day("2021-02-15")).program_committed == Decimal("100000.00")
    assert gf.exposure(SMALL, as_of=day("2021-03-15")).region_committed == {
        "north": Decimal("100000.00"),
        "south": Decimal("200000.00"),
    }
    assert gf.exposure(SMALL).program_committed == Decimal("200000.00")
    with pytest.raises(NotFound):
        gf.exposure("no-such-program")


def test_grant_as_of_replays_the_records_up_to_that_day(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("1000.00"), actor="finn")
    assert gf.grant(g.id, as_of=day("2019-03-20")).state is State.APPROVED
    assert gf.grant(g.id, as_of=day("2019-05-02")).disbursed_amount == Decimal("1000.00")
    with pytest.raises(NotFound, match="did not exist yet"):
        gf.grant(g.id, as_of=day("2019-01-01"))
    with pytest.raises(NotFound):
        gf.grant("DMR-2019-9999")
    with pytest.raises(NotFound):
        gf.records("DMR-2019-9999")


def test_rejection_and_withdrawal(gf: Grantflow) -> None:
    a = gf.propose(dmr_proposal(), actor="clara")
    with pytest.raises(RuleViolation, match="R-REJECTION-FORM"):
        gf.act(a.id, Reject(date=day("2019-03-01")), actor="anton")
    a = gf.act(a.id, Reject(date=day("2019-03-01"), reason="not eligible"), actor="anton")
    assert a.state is State.REJECTED
    b = running_dmr_grant(gf)
    gf.act(b.id, disburse("1000.00"), actor="finn")
    with pytest.raises(RuleViolation, match="R-WITHDRAW-RENOUNCE"):
        gf.act(b.id, Withdraw(date=day("2019-06-01")), actor="clara")
    assert invariant_problems(gf) == []


def test_grants_are_listed_and_filtered(gf: Grantflow) -> None:
    a = gf.propose(dmr_proposal(), actor="clara")
    b = gf.propose(small_proposal("100000.00"), actor="clara")
    c = gf.propose(small_proposal("100000.00", "south"), actor="clara")
    gf.act(c.id, approve("2021-02-01"), actor="anton")
    assert [g.id for g in gf.grants()] == sorted([a.id, b.id, c.id])
    assert [g.id for g in gf.grants(program=SMALL)] == [b.id, c.id]
    assert [g.id for g in gf.grants(state=State.APPROVED)] == [c.id]
    assert [g.id for g in gf.grants(region="north")] == [b.id]
    assert gf.grants(program=DMR, region="south") == []


def test_grant_ids_count_per_program_and_year(gf: Grantflow) -> None:
    ids = [gf.propose(dmr_proposal(), actor="clara").id for _ in range(2)]
    ids.append(gf.propose(dmr_proposal(date=day("2020-01-05")), actor="clara").id)
    ids.append(gf.propose(small_proposal(), actor="clara").id)
    # a refused proposal gives its number back
    with pytest.raises(RuleViolation):
        gf.propose(dmr_proposal(), actor="anton")
    ids.append(gf.propose(dmr_proposal(), actor="clara").id)
    assert ids == [
        "DMR-2019-0001",
        "DMR-2019-0002",
        "DMR-2020-0001",
        "SP-2021-0001",
        "DMR-2019-0003",
    ]
