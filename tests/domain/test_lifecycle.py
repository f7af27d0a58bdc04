"""The lifecycle: which event may fire from which state, what each step records, and the
settlement figures, all through ``decide``/``apply`` on the packaged NRW guideline."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs
import pendulum
import pytest

from grantflow.domain import lifecycle
from grantflow.domain.commands import (
    Amend,
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Reject,
    Repay,
    Revoke,
    Start,
    Submit,
    Withdraw,
)
from grantflow.domain.guideline import Program
from grantflow.domain.lifecycle import (
    LIFECYCLE,
    NEW,
    apply,
    check,
    decide,
    replay,
    replay_as_of,
)
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Document,
    Event,
    FinancingType,
    Grant,
    Override,
    Role,
    State,
    TransitionRecord,
)
from grantflow.domain.money import CENT, ZERO
from grantflow.domain.rules import ROLES_FOR
from grantflow.errors import BadInput, InvalidTransition, NotFound, RuleViolation
from grantflow.guidelines import load
from grantflow.testing import FixedClock, InMemoryLedger

PROGRAM: Program = load("nrw-digitale-modellregionen")
STANDARDS = frozenset({"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"})
NOW = pendulum.datetime(2021, 1, 1, 12, 0, tz="UTC")

CLERK = Actor("clara", frozenset({Role.CLERK}))
APPROVER = Actor("anton", frozenset({Role.APPROVER}))
FINANCE = Actor("fiona", frozenset({Role.FINANCE}))
AUDITOR = Actor("udo", frozenset({Role.AUDITOR}))
ADMIN = Actor("ada", frozenset({Role.ADMIN}))
CLERK_APPROVER = Actor("paula", frozenset({Role.CLERK, Role.APPROVER}))
ACTOR_FOR: dict[Event, Actor] = {
    Event.PROPOSE: CLERK,
    Event.START: CLERK,
    Event.WITHDRAW: CLERK,
    Event.DISBURSE: FINANCE,
    Event.REPAY: FINANCE,
    Event.SUBMIT: CLERK,
    **dict.fromkeys(
        (Event.APPROVE, Event.REJECT, Event.EXTEND, Event.AMEND, Event.CLOSE, Event.REVOKE),
        APPROVER,
    ),
}

D = pendulum.Date
ELIGIBLE = Decimal("1000000.00")
REQUESTED = Decimal("800000.00")


def proposal(**changes: Any) -> Propose:
    base = Propose(
        date=D(2019, 3, 1),
        program_id=PROGRAM.id,
        title="Digitales Bürgerbüro",
        applicant=Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
        region="owl",
        focus="e-government",
        eligible_costs=ELIGIBLE,
        requested_amount=REQUESTED,
        start=D(2019, 5, 1),
        end=D(2021, 4, 30),
        attestations=STANDARDS,
    )
    return attrs.evolve(base, **changes)


def step(grant: Grant | None, cmd: Command, actor: Actor) -> Grant:
    """Decide and apply one step (the way a store would)."""
    record = decide(
        grant,
        cmd,
        actor=actor,
        version=PROGRAM.version_at(cmd.date),
        recorded_at=NOW,
        grant_id=None if grant else "DMR-2019-0001",
    )
    return apply(grant, record)


def records_of(path: list[tuple[Command, Actor]]) -> list[TransitionRecord]:
    records: list[TransitionRecord] = []
    grant: Grant | None = None
    for cmd, actor in path:
        record = decide(
            grant,
            cmd,
            actor=actor,
            version=PROGRAM.version_at(cmd.date),
            recorded_at=NOW,
            grant_id="DMR-2019-0001",
        )
        records.append(record)
        grant = apply(grant, record)
    return records


# --------------------------------------------------------------------------------------------
# One grant in each of the eight states, built through an in-memory ledger.
# --------------------------------------------------------------------------------------------

# Own funds of 250,000 leave room to amend the amount down without breaking full financing.
OWN = Decimal("250000.00")
PATHS: dict[State, list[tuple[Command, Actor]]] = {}
_propose = (proposal(own_funds=OWN), CLERK)
_approve = (Approve(date=D(2019, 4, 1), notice_number="DMR-B-1"), APPROVER)
_start = (Start(date=D(2019, 5, 1)), CLERK)
PATHS[State.PROPOSED] = [_propose]
PATHS[State.APPROVED] = [_propose, _approve]
PATHS[State.RUNNING] = [_propose, _approve, _start]
PATHS[State.EXTENDED] = [
    *PATHS[State.RUNNING],
    (Extend(date=D(2021, 3, 1), until=D(2021, 10, 31), notice_number="DMR-A-1"), APPROVER),
]
PATHS[State.CLOSED] = [
    *PATHS[State.RUNNING],
    (Close(date=D(2021, 6, 1), final_costs=ELIGIBLE), APPROVER),
]
PATHS[State.REJECTED] = [_propose, (Reject(date=D(2019, 4, 1), reason="kein Bedarf"), APPROVER)]
PATHS[State.WITHDRAWN] = [_propose, (Withdraw(date=D(2019, 4, 1)), CLERK)]
PATHS[State.REVOKED] = [
    *PATHS[State.APPROVED],
    (Revoke(date=D(2019, 5, 1), notice_number="DMR-W-1", reason="Zweck entfallen"), APPROVER),
]


@pytest.fixture(scope="module")
def ledger() -> InMemoryLedger:
    """A ledger holding one grant per state; its ids are ``ids[state]``."""
    led = InMemoryLedger(
        programs=[PROGRAM],
        actors=[CLERK, APPROVER, FINANCE, AUDITOR],
        clock=FixedClock(NOW),
    )
    for state, path in PATHS.items():
        (first, by), *rest = path
        assert isinstance(first, Propose)
        grant = led.propose(first, actor=by.name)
        for cmd, actor in rest:
            grant = led.act(grant.id, cmd, actor=actor.name)
        assert grant.state is state
        IDS[state] = grant.id
    return led


IDS: dict[State, str] = {}


def next_command(event: Event, grant: Grant) -> Command:
    """A command for ``event`` that every rule accepts on ``grant`` (if the state allows it)."""
    day = grant.last_business_date.add(days=1)
    if event is Event.PROPOSE:
        return proposal(date=day)
    if event is Event.APPROVE:
        return Approve(date=day, notice_number="DMR-B-2")
    if event is Event.REJECT:
        return Reject(date=day, reason="Förderziel nicht erreichbar")
    if event is Event.WITHDRAW:
        return Withdraw(date=day)
    if event is Event.START:
        return Start(date=day)
    if event is Event.DISBURSE:
        if grant.notice is not None:  # after the remedy period of 30 days
            day = max(day, grant.notice.date.add(days=30))
        return Disburse(date=day, amount=Decimal("100000.00"))
    if event is Event.EXTEND:
        until = min(grant.period.end.add(months=6), PROGRAM.version_at(day).funds_until)
        return Extend(date=day, until=until, notice_number="DMR-A-2")
    if event is Event.AMEND:
        return Amend(
            date=day,
            notice_number="DMR-A-3",
            amount=(grant.approved_amount or grant.requested_amount) - 50000,
        )
    if event is Event.CLOSE:
        return Close(date=day, final_costs=grant.eligible_costs)
    if event is Event.SUBMIT:
        return Submit(date=day, document=Document.INTERIM_PROOF)
    if event is Event.REPAY:  # refused by GF-REFUND-BALANCE where nothing is owed
        return Repay(date=day, amount=grant.refund_outstanding or Decimal("1000.00"))
    assert event is Event.REVOKE
    return Revoke(date=day, notice_number="DMR-W-2", reason="Auflagen nicht erfüllt")


def test_the_lifecycle_table_is_the_documented_one() -> None:
    """Pin LIFECYCLE against the lifecycle as documented, so a change to it is deliberate."""
    P, A, R, E, C = "proposed", "approved", "running", "extended", "closed"
    documented = {
        Event.PROPOSE: ({NEW}, State.PROPOSED),
        Event.APPROVE: ({P}, State.APPROVED),
        Event.REJECT: ({P}, State.REJECTED),
        Event.WITHDRAW: ({P, A, R}, State.WITHDRAWN),
        Event.START: ({A}, State.RUNNING),
        Event.DISBURSE: ({R, E}, None),
        Event.EXTEND: ({R, E}, State.EXTENDED),
        Event.AMEND: ({A, R, E}, None),
        Event.CLOSE: ({R, E}, State.CLOSED),
        Event.REVOKE: ({A, R, E, C}, State.REVOKED),
        Event.SUBMIT: ({A, R, E}, None),
        Event.REPAY: ({R, E, C, "revoked"}, None),
    }
    assert {s.event: (set(s.sources), s.dest) for s in LIFECYCLE} == documented
    assert len(LIFECYCLE) == len(Event)


@pytest.mark.parametrize("state", list(State), ids=str)
@pytest.mark.parametrize("event", list(Event), ids=str)
def test_every_event_from_every_state(ledger: InMemoryLedger, event: Event, state: State) -> None:
    grant = ledger.grant(IDS[state])
    line = next(s for s in LIFECYCLE if s.event is event)
    cmd = next_command(event, grant)
    actor = ACTOR_FOR[event]
    version = PROGRAM.version_at(cmd.date)
    if state.value in line.sources and event is Event.REPAY and not grant.refund_outstanding:
        # the lifecycle allows it, the rules refuse it: nothing is owed (none of the grants
        # here was paid; repayments are tested in tests/domain/test_repayments.py)
        with pytest.raises(RuleViolation) as nothing_owed:
            decide(grant, cmd, actor=actor, version=version, recorded_at=NOW)
        assert nothing_owed.value.rule_ids == ("GF-REFUND-BALANCE",)
        return
    if state.value in line.sources:
        record = decide(grant, cmd, actor=actor, version=version, recorded_at=NOW)
        after = apply(grant, record)
        expected = line.dest or state
        assert after.state is expected
        assert (record.event, record.from_state, record.to_state) == (event, state, expected)
        assert record.seq == grant.version + 1 == after.version
        return
    records_before = ledger.records(grant.id)
    exposure_before = ledger.exposure(PROGRAM.id)
    with pytest.raises(InvalidTransition) as refused:
        decide(grant, cmd, actor=actor, version=version, recorded_at=NOW, grant_id=grant.id)
    assert "GF-LIFECYCLE" in str(refused.value)
    assert refused.value.state == state.value
    assert refused.value.allowed_from == line.sources
    if event is not Event.PROPOSE:  # the ledger takes proposals only through propose()
        with pytest.raises(InvalidTransition):
            ledger.act(grant.id, cmd, actor=actor.name)
    assert ledger.grant(grant.id) == grant
    assert ledger.records(grant.id) == records_before
    assert ledger.exposure(PROGRAM.id) == exposure_before


def test_propose_fires_only_from_new() -> None:
    grant = step(None, proposal(), CLERK)
    assert grant.state is State.PROPOSED
    assert grant.version == 1
    assert grant.own_funds == ELIGIBLE - REQUESTED  # the default: the gap the applicant covers


@pytest.mark.parametrize("state", list(State), ids=str)
def test_check_reports_a_forbidden_event_as_gf_lifecycle(
    ledger: InMemoryLedger, state: State
) -> None:
    grant = ledger.grant(IDS[state])
    for event in Event:
        line = next(s for s in LIFECYCLE if s.event is event)
        if state.value in line.sources:
            continue
        cmd = next_command(event, grant)
        ev = check(grant, cmd, actor=ACTOR_FOR[event], version=PROGRAM.version_at(cmd.date))
        assert not ev.allowed
        assert not ev.lifecycle_ok
        assert ev.to_state is None
        assert [v.rule_id for v in ev.failures] == ["GF-LIFECYCLE"]
        assert state.value in ev.failures[0].message
        assert str(event) in ev.failures[0].message


def test_internal_transitions_keep_the_state_and_change_the_figures(
    ledger: InMemoryLedger,
) -> None:
    for state in (State.RUNNING, State.EXTENDED):
        grant = ledger.grant(IDS[state])
        pay = next_command(Event.DISBURSE, grant)
        assert isinstance(pay, Disburse)
        paid = step(grant, pay, FINANCE)
        assert paid.state is state
        assert paid.disbursed_amount == grant.disbursed_amount + pay.amount
        assert paid.disbursements[-1].needed_by == pay.date  # needed_by defaults to the date
    for state in (State.APPROVED, State.RUNNING, State.EXTENDED):
        grant = ledger.grant(IDS[state])
        amend = next_command(Event.AMEND, grant)
        assert isinstance(amend, Amend)
        amended = step(grant, amend, APPROVER)
        assert amended.state is state
        assert amended.approved_amount == amend.amount
        assert amended.committed_amount == amend.amount
        assert amended.amendments[-1].number == amend.notice_number


def test_extend_moves_the_end_of_the_period(ledger: InMemoryLedger) -> None:
    grant = ledger.grant(IDS[State.EXTENDED])
    ext = next_command(Event.EXTEND, grant)
    assert isinstance(ext, Extend)
    after = step(grant, ext, APPROVER)
    assert after.state is State.EXTENDED
    assert after.period.end == ext.until
    assert after.period.start == grant.period.start
    assert after.approved_amount == grant.approved_amount


def test_a_refused_step_names_every_failing_rule(ledger: InMemoryLedger) -> None:
    grant = ledger.grant(IDS[State.PROPOSED])
    # the proposer, a clerk, approving before the application was received
    early = Approve(date=grant.received_on.subtract(days=1), notice_number="X")
    with pytest.raises(RuleViolation) as refused:
        decide(grant, early, actor=CLERK, version=PROGRAM.version_at(early.date), recorded_at=NOW)
    assert {"GF-ROLE", "GF-FOUR-EYES", "GF-CHRONOLOGY"} <= set(refused.value.rule_ids)
    assert all(not v.allows for v in refused.value.failures)
    assert refused.value.grant_id == grant.id


def test_the_shared_machine_keeps_no_models(ledger: InMemoryLedger) -> None:
    grant = ledger.grant(IDS[State.RUNNING])
    version = PROGRAM.latest
    check(grant, next_command(Event.CLOSE, grant), actor=APPROVER, version=version)
    check(grant, next_command(Event.APPROVE, grant), actor=APPROVER, version=version)
    with pytest.raises(RuleViolation):
        cmd = next_command(Event.CLOSE, grant)
        decide(grant, cmd, actor=AUDITOR, version=version, recorded_at=NOW)
    assert lifecycle._MACHINE.models == []


# --------------------------------------------------------------------------------------------
# Roles and four eyes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", list(Event), ids=str)
def test_each_event_needs_its_role(ledger: InMemoryLedger, event: Event) -> None:
    line = next(s for s in LIFECYCLE if s.event is event)
    source = line.sources[0]
    grant = None if source == NEW else ledger.grant(IDS[State(source)])
    cmd = next_command(event, grant) if grant else proposal()
    version = PROGRAM.version_at(cmd.date)
    for actor in (CLERK, APPROVER, FINANCE, AUDITOR, ADMIN):
        allowed = bool(actor.roles & ROLES_FOR[event])
        ev = check(grant, cmd, actor=actor, version=version, grant_id="DMR-2019-0099")
        role = next(v for v in ev.verdicts if v.rule_id == "GF-ROLE")
        assert role.passed is allowed, (event, actor.name)
        if not allowed:
            with pytest.raises(RuleViolation) as refused:
                decide(grant, cmd, actor=actor, version=version, recorded_at=NOW, grant_id="X")
            assert "GF-ROLE" in refused.value.rule_ids


def test_four_eyes_the_proposer_may_not_approve() -> None:
    grant = step(None, proposal(), CLERK_APPROVER)
    approve = Approve(date=D(2019, 4, 1), notice_number="DMR-B-1")
    with pytest.raises(RuleViolation) as refused:
        decide(grant, approve, actor=CLERK_APPROVER, version=PROGRAM.latest, recorded_at=NOW)
    assert refused.value.rule_ids == ("GF-FOUR-EYES",)  # the role is right; only four-eyes fails
    assert step(grant, approve, APPROVER).state is State.APPROVED


def test_overrides_soft_rules_only_by_an_approver_with_reason() -> None:
    # R-BAGATELLE (soft): a municipality's grant below 12,500 EUR
    small = Decimal("10000.00")
    grant = step(None, proposal(requested_amount=small), CLERK)
    plain = Approve(date=D(2019, 4, 1), notice_number="DMR-B-1")
    with pytest.raises(RuleViolation) as refused:
        step(grant, plain, APPROVER)
    assert refused.value.rule_ids == ("R-BAGATELLE",)
    why = Override("R-BAGATELLE", "Pilotprojekt, Nachnutzung in allen Regionen")
    overridden = attrs.evolve(plain, overrides=(why,))
    record = decide(grant, overridden, actor=APPROVER, version=PROGRAM.latest, recorded_at=NOW)
    assert apply(grant, record).state is State.APPROVED
    bagatelle = next(v for v in record.verdicts if v.rule_id == "R-BAGATELLE")
    assert (bagatelle.passed, bagatelle.overridden, bagatelle.allows) == (False, True, True)
    assert bagatelle.justification == why.justification
    # overriding a hard rule is refused, and the hard rule still refuses
    hard = attrs.evolve(
        overridden, amount=small * 2, overrides=(why, Override("GF-REQUESTED-CAP", "bitte"))
    )
    with pytest.raises(RuleViolation) as refused:
        step(grant, hard, APPROVER)
    assert set(refused.value.rule_ids) == {"GF-REQUESTED-CAP", "GF-OVERRIDE"}
    # an override naming a rule that does not judge approvals is refused too
    stray = attrs.evolve(plain, overrides=(why, Override("R-PROOF-6M", "später")))
    with pytest.raises(RuleViolation) as refused:
        step(grant, stray, APPROVER)
    assert refused.value.rule_ids == ("GF-OVERRIDE",)


def test_an_override_from_a_non_approver_is_refused(ledger: InMemoryLedger) -> None:
    grant = ledger.grant(IDS[State.RUNNING])
    pay = next_command(Event.DISBURSE, grant)
    with_override = attrs.evolve(pay, overrides=(Override("R-DRAWDOWN-2M", "eilig"),))
    with pytest.raises(RuleViolation) as refused:
        step(grant, with_override, FINANCE)
    assert refused.value.rule_ids == ("GF-OVERRIDE",)
    assert step(grant, pay, FINANCE).state is State.RUNNING


# --------------------------------------------------------------------------------------------
# Settlement on close (R-COST-REDUCTION) and on revoke (R-REFUND)
# --------------------------------------------------------------------------------------------


def expected_final(
    ft: FinancingType, approved: Decimal, eligible: Decimal, final_costs: Decimal, other: Decimal
) -> Decimal:
    """R-COST-REDUCTION as the catalog states it, computed independently of the lifecycle."""
    if ft is FinancingType.SHARE:  # the notice's share of the final costs, rounded down
        share = (final_costs * approved / eligible).quantize(CENT, rounding=ROUND_DOWN)
        return min(approved, share)
    if ft in (FinancingType.DEFICIT, FinancingType.FULL):  # the whole saving reduces the grant
        return min(approved, max(ZERO, final_costs - other))
    return min(approved, final_costs)  # fixed: reduced only below the fixed amount


SCENARIOS = {
    # name: (eligible, requested, disbursed, final costs, final other funds or None)
    "costs-fell-overpaid": ("1000000.00", "800000.00", "700000.00", "600000.00", None),
    "costs-rose-capped": ("1000000.00", "800000.00", "500000.00", "1100000.00", None),
    "odd-cents": ("1000000.00", "800000.00", "700000.00", "912345.67", None),
    "one-third-unchanged": ("300000.00", "100000.00", "90000.00", "300000.00", None),
    "more-third-party-funds": ("1000000.00", "800000.00", "700000.00", "1000000.00", "350000.00"),
    "costs-below-other-funds": ("1000000.00", "800000.00", "100000.00", "150000.00", None),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("ft", list(FinancingType), ids=str)
def test_close_settles_by_financing_type(ft: FinancingType, scenario: str) -> None:
    eligible, requested, disbursed, final_costs, other_given = (
        None if x is None else Decimal(x) for x in SCENARIOS[scenario]
    )
    assert eligible and requested and disbursed and final_costs
    grant = step(None, proposal(eligible_costs=eligible, requested_amount=requested), CLERK)
    grant = step(
        grant,
        Approve(date=D(2019, 4, 1), notice_number="DMR-B-1", financing_type=ft),
        APPROVER,
    )
    grant = step(grant, Start(date=D(2019, 5, 1)), CLERK)
    grant = step(grant, Disburse(date=D(2019, 5, 2), amount=disbursed), FINANCE)
    grant = step(
        grant,
        Close(date=D(2021, 6, 1), final_costs=final_costs, final_other_funds=other_given),
        APPROVER,
    )
    other = other_given if other_given is not None else eligible - requested  # own funds
    final = expected_final(ft, requested, eligible, final_costs, other)
    assert grant.state is State.CLOSED
    assert grant.financing_type is ft
    assert grant.settlement is not None
    assert grant.settlement.final_amount == final
    assert grant.refund_claim == max(ZERO, disbursed - final)
    assert grant.committed_amount == final
    assert grant.final_costs == final_costs
    assert grant.closed_on == D(2021, 6, 1) == grant.proof_date


def test_settlement_figures_differ_by_financing_type() -> None:
    """Guard against a test that cannot fail: the scenarios really tell the types apart."""
    eligible, requested = Decimal("1000000.00"), Decimal("800000.00")
    finals = {
        ft: expected_final(ft, requested, eligible, Decimal("600000.00"), eligible - requested)
        for ft in FinancingType
    }
    assert finals[FinancingType.SHARE] == Decimal("480000.00")
    assert finals[FinancingType.DEFICIT] == finals[FinancingType.FULL] == Decimal("400000.00")
    assert finals[FinancingType.FIXED] == Decimal("600000.00")


@pytest.mark.parametrize("paid", ["0.00", "250000.00"])
@pytest.mark.parametrize("source", [State.APPROVED, State.RUNNING, State.CLOSED], ids=str)
def test_revoke_claims_back_everything_paid(source: State, paid: str) -> None:
    grant = step(None, proposal(), CLERK)
    grant = step(grant, Approve(date=D(2019, 4, 1), notice_number="DMR-B-1"), APPROVER)
    if source is not State.APPROVED:
        grant = step(grant, Start(date=D(2019, 5, 1)), CLERK)
        if Decimal(paid):
            grant = step(grant, Disburse(date=D(2019, 5, 2), amount=Decimal(paid)), FINANCE)
    if source is State.CLOSED:
        grant = step(grant, Close(date=D(2021, 6, 1), final_costs=ELIGIBLE), APPROVER)
    assert grant.state is source
    revoke = Revoke(date=D(2021, 7, 1), notice_number="DMR-W-1", reason="Zweckverfehlung")
    after = step(grant, revoke, APPROVER)
    assert after.state is State.REVOKED
    assert after.refund_claim == grant.disbursed_amount
    assert after.committed_amount == ZERO
    assert after.revoked_on == revoke.date


def test_committed_amount_per_state(ledger: InMemoryLedger) -> None:
    approved = REQUESTED  # the approval takes the requested amount by default
    closed = ledger.grant(IDS[State.CLOSED])
    final_costs = closed.final_costs
    assert final_costs is not None
    expected = {
        State.PROPOSED: ZERO,
        State.APPROVED: approved,
        State.RUNNING: approved,
        State.EXTENDED: approved,
        State.CLOSED: expected_final(FinancingType.SHARE, approved, ELIGIBLE, final_costs, OWN),
        State.REJECTED: ZERO,
        State.WITHDRAWN: ZERO,
        State.REVOKED: ZERO,
    }
    for state, amount in expected.items():
        assert ledger.grant(IDS[state]).committed_amount == amount, state
    assert ledger.exposure(PROGRAM.id).program_committed == sum(expected.values(), ZERO)
    assert ledger.exposure(PROGRAM.id).region_committed == {"owl": sum(expected.values(), ZERO)}


# --------------------------------------------------------------------------------------------
# Records: replay, point in time, order
# --------------------------------------------------------------------------------------------

LONG_PATH: list[tuple[Command, Actor]] = [
    (proposal(), CLERK),
    (Approve(date=D(2019, 4, 1), notice_number="DMR-B-1"), APPROVER),
    (Start(date=D(2019, 5, 1)), CLERK),
    (Disburse(date=D(2019, 6, 1), amount=Decimal("200000.00")), FINANCE),
    (Disburse(date=D(2020, 6, 1), amount=Decimal("300000.00")), FINANCE),
    (Extend(date=D(2021, 3, 1), until=D(2021, 10, 31), notice_number="DMR-A-1"), APPROVER),
    (Close(date=D(2022, 1, 15), final_costs=Decimal("950000.00")), APPROVER),
]


def test_replay_of_the_records_is_the_grant() -> None:
    grant: Grant | None = None
    for cmd, actor in LONG_PATH:
        grant = step(grant, cmd, actor)
    records = records_of(LONG_PATH)
    assert replay(records) == grant
    assert [r.seq for r in records] == list(range(1, len(LONG_PATH) + 1))
    assert replay([]) is None


def test_replay_as_of_a_day_is_the_grant_after_that_days_records() -> None:
    records = records_of(LONG_PATH)
    assert replay_as_of(records, D(2019, 2, 28)) is None
    for i, record in enumerate(records):
        as_of = replay_as_of(records, record.business_date)
        assert as_of == replay(records[: i + 1])
        before = replay_as_of(records, record.business_date.subtract(days=1))
        assert before == (replay(records[:i]) if i else None)
    mid = replay_as_of(records, D(2020, 1, 1))
    assert mid is not None
    assert (mid.state, mid.disbursed_amount) == (State.RUNNING, Decimal("200000.00"))


def test_apply_refuses_records_out_of_order() -> None:
    records = records_of(LONG_PATH)
    after_two = replay(records[:2])
    assert after_two is not None
    with pytest.raises(BadInput, match="in order"):
        apply(after_two, records[3])  # skips record 3
    with pytest.raises(BadInput, match="in order"):
        apply(after_two, records[1])  # applies record 2 twice
    with pytest.raises(BadInput, match="no proposal"):
        apply(None, records[1])
    with pytest.raises(BadInput, match="second time"):
        apply(after_two, records[0])


def test_records_round_trip_the_settlement() -> None:
    records = records_of(LONG_PATH)
    close = records[-1]
    grant = replay(records)
    assert grant is not None and grant.settlement is not None
    assert close.data["final_amount"] == f"{grant.settlement.final_amount}"
    assert close.data["refund_claim"] == f"{grant.settlement.refund_claim}"


def test_propose_on_an_existing_grant_is_a_lifecycle_refusal(ledger: InMemoryLedger) -> None:
    grant = ledger.grant(IDS[State.PROPOSED])
    ev = check(grant, proposal(), actor=CLERK, version=PROGRAM.latest)
    assert [v.rule_id for v in ev.failures] == ["GF-LIFECYCLE"]
    with pytest.raises(InvalidTransition):
        decide(grant, proposal(), actor=CLERK, version=PROGRAM.latest, recorded_at=NOW)


def test_decide_needs_a_grant_or_an_id() -> None:
    with pytest.raises(BadInput):
        decide(None, proposal(), actor=CLERK, version=PROGRAM.latest, recorded_at=NOW)
    with pytest.raises(BadInput):
        start = Start(date=D(2019, 5, 1))
        decide(None, start, actor=CLERK, version=PROGRAM.latest, recorded_at=NOW, grant_id="X")


# --------------------------------------------------------------------------------------------
# The in-memory ledger (grantflow.testing)
# --------------------------------------------------------------------------------------------


def test_ledger_ids_count_per_program_and_year() -> None:
    led = InMemoryLedger(programs=[PROGRAM], actors=[CLERK, APPROVER], clock=FixedClock(NOW))
    a = led.propose(proposal(), actor="clara")
    b = led.propose(proposal(title="Zweites Projekt"), actor="clara")
    c = led.propose(proposal(date=D(2020, 1, 2)), actor="clara")
    assert [a.id, b.id, c.id] == ["DMR-2019-0001", "DMR-2019-0002", "DMR-2020-0001"]
    with pytest.raises(RuleViolation):
        led.propose(proposal(date=D(2020, 1, 3)), actor="anton")  # an approver may not propose
    assert led.propose(proposal(date=D(2020, 1, 3)), actor="clara").id == "DMR-2020-0002"


def test_ledger_check_is_a_dry_run() -> None:
    led = InMemoryLedger(programs=[PROGRAM], actors=[CLERK, APPROVER], clock=FixedClock(NOW))
    ev = led.check(None, proposal(), actor="clara")
    assert ev.allowed
    assert led.grants() == ()
    grant = led.propose(proposal(), actor="clara")
    approve = Approve(date=D(2019, 4, 1), notice_number="DMR-B-1")
    assert led.check(grant.id, approve, actor="anton").allowed
    assert not led.check(grant.id, approve, actor="clara").allowed
    assert led.grant(grant.id) == grant
    assert len(led.records(grant.id)) == 1


def test_fixed_clock_is_utc_and_advances_by_its_step() -> None:
    import datetime as dt

    step = dt.timedelta(minutes=30)
    clock = FixedClock("2021-03-28T01:30:00+01:00", step=step)
    first, second = clock(), clock()
    assert first == pendulum.datetime(2021, 3, 28, 0, 30, tz="UTC")
    assert first.timezone_name == "UTC"
    assert second - first == step
    assert clock.now == second + step
    assert clock.advance(dt.timedelta(hours=1)) == second + step + dt.timedelta(hours=1)
    assert FixedClock(first)() == FixedClock(first)() == first  # no step: a fixed instant
    with pytest.raises(BadInput):
        FixedClock(dt.datetime(2021, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(BadInput):
        clock.advance(dt.timedelta(seconds=-1))


def test_amending_below_what_was_paid_leaves_a_refund_claim() -> None:
    """A partial revocation (amend) after payments: the excess is owed back (R-REFUND)."""
    grant = step(None, proposal(own_funds=ELIGIBLE), CLERK)  # own funds keep financing secured
    grant = step(grant, Approve(date=D(2019, 4, 1), notice_number="DMR-B-1"), APPROVER)
    grant = step(grant, Start(date=D(2019, 5, 1)), CLERK)
    paid = Decimal("500000.00")
    grant = step(grant, Disburse(date=D(2019, 5, 10), amount=paid), FINANCE)
    lower = Amend(date=D(2019, 6, 1), notice_number="DMR-A-1", amount=Decimal("100000.00"))
    grant = step(grant, lower, APPROVER)
    assert grant.approved_amount == lower.amount < grant.disbursed_amount == paid
    assert grant.refund_claim == paid - lower.amount
    assert grant.committed_amount == lower.amount
    with pytest.raises(RuleViolation) as refused:  # and nothing more can be paid
        step(grant, Disburse(date=D(2019, 7, 1), amount=Decimal("0.01")), FINANCE)
    assert "GF-CEILING" in refused.value.rule_ids


def test_ledger_refuses_misuse_and_unknown_names() -> None:
    led = InMemoryLedger(programs=[PROGRAM], actors=[CLERK], clock=FixedClock(NOW))
    grant = led.propose(proposal(), actor="clara")
    with pytest.raises(BadInput):
        led.act(grant.id, proposal(), actor="clara")
    with pytest.raises(BadInput):
        led.propose(Start(date=D(2019, 5, 1)), actor="clara")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        led.act(grant.id, Start(date=D(2019, 5, 1)), actor="nobody")
    with pytest.raises(NotFound):
        led.grant("DMR-2019-9999")
    with pytest.raises(NotFound):
        led.propose(proposal(program_id="no-such-program"), actor="clara")
    with pytest.raises(NotFound):  # no guideline version is in force before 2018-07-03
        led.propose(proposal(date=D(2018, 1, 1)), actor="clara")
    with pytest.raises(BadInput):
        led.check(None, Start(date=D(2019, 5, 1)), actor="clara")
    assert [g.id for g in led.grants()] == [grant.id]
    assert len(led.records(grant.id)) == 1  # nothing refused left a trace
