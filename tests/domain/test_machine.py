"""How a step runs through the shared ``transitions`` machine: once, and without attaching
anything to it. (What may fire from where is ``test_lifecycle.py``.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pendulum
import pytest
from transitions import MachineError

from grantflow.domain import lifecycle
from grantflow.domain.commands import Approve, Command, Disburse, Propose
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Event,
    Role,
    Severity,
    State,
    Verdict,
)
from grantflow.errors import InvalidTransition
from grantflow.guidelines import load

VERSION = load("nrw-digitale-modellregionen").latest
NOW = pendulum.datetime(2021, 1, 1, 12, 0, tz="UTC")
CLERK = Actor("clara", frozenset({Role.CLERK}))
APPROVER = Actor("anton", frozenset({Role.APPROVER}))
FINANCE = Actor("fiona", frozenset({Role.FINANCE}))

PROPOSAL = Propose(
    date=pendulum.Date(2019, 3, 1),
    program_id=VERSION.program_id,
    title="Digitales Bürgerbüro",
    applicant=Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
    region="owl",
    focus="e-government",
    eligible_costs=Decimal("1000000.00"),
    requested_amount=Decimal("800000.00"),
    start=pendulum.Date(2019, 5, 1),
    end=pendulum.Date(2021, 4, 30),
    attestations=frozenset(
        {"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"}
    ),
)


def _proposed() -> Any:
    record = lifecycle.decide(
        None, PROPOSAL, actor=CLERK, version=VERSION, recorded_at=NOW, grant_id="DMR-2019-0001"
    )
    return lifecycle.apply(None, record)


def test_the_machine_moves_the_token_and_keeps_nothing() -> None:
    seen: list[int] = []

    def evaluate() -> tuple[Verdict, ...]:
        seen.append(len(lifecycle._MACHINE.models))  # while the rules run
        return ()

    token = lifecycle._fire(State.PROPOSED.value, Event.APPROVE, evaluate)
    assert token.state == State.APPROVED.value  # the machine set the destination
    paid = lifecycle._fire(State.RUNNING.value, Event.DISBURSE, evaluate)
    assert paid.state == State.RUNNING.value  # an internal transition keeps the state
    assert seen == [0, 0]
    assert lifecycle._MACHINE.models == []
    with pytest.raises(MachineError):  # the machine, not grantflow, knows the sources
        lifecycle._fire(State.CLOSED.value, Event.DISBURSE, evaluate)
    assert len(seen) == 2  # no rule ran for an event the state does not allow


def test_the_rules_decide_the_transition() -> None:
    refusal = Verdict(
        rule_id="X", passed=False, severity=Severity.HARD, message="no", citation="test"
    )
    token = lifecycle._fire(State.PROPOSED.value, Event.APPROVE, lambda: (refusal,))
    assert token.state == State.PROPOSED.value
    assert token.verdicts == (refusal,)


@pytest.mark.parametrize(
    ("cmd", "actor", "state"),
    [
        (PROPOSAL, CLERK, None),
        (Approve(date=pendulum.Date(2019, 4, 1), notice_number="DMR-B-1"), APPROVER, "proposed"),
    ],
    ids=["propose", "approve"],
)
def test_decide_resolves_the_command_once_and_records_what_check_judged(
    monkeypatch: pytest.MonkeyPatch, cmd: Command, actor: Actor, state: str | None
) -> None:
    grant = _proposed() if state else None
    calls: list[Command] = []
    resolve = lifecycle.resolve

    def counting(c: Command, *args: Any) -> Command:
        calls.append(c)
        return resolve(c, *args)

    monkeypatch.setattr(lifecycle, "resolve", counting)
    evaluation = lifecycle.check(grant, cmd, actor=actor, version=VERSION, grant_id="DMR-2019-0001")
    assert evaluation.allowed and len(calls) == 1
    record = lifecycle.decide(
        grant, cmd, actor=actor, version=VERSION, recorded_at=NOW, grant_id="DMR-2019-0001"
    )
    assert len(calls) == 2  # once for check, once for decide
    assert record.verdicts == evaluation.verdicts
    judged = resolve(cmd, grant or lifecycle.draft("DMR-2019-0001", PROPOSAL, CLERK.name), VERSION)
    assert lifecycle.command_of(record) == judged


def test_a_refused_state_still_says_which_states_allow_the_event() -> None:
    grant = _proposed()
    pay = Disburse(date=pendulum.Date(2019, 4, 2), amount=Decimal("1.00"))
    with pytest.raises(InvalidTransition) as info:
        lifecycle.decide(grant, pay, actor=FINANCE, version=VERSION, recorded_at=NOW)
    assert info.value.allowed_from == lifecycle.allowed_from(Event.DISBURSE)
    assert lifecycle._MACHINE.models == []


def test_the_state_sets_are_the_ones_the_lifecycle_uses() -> None:
    """The sets of states are defined once, on State (issue 14), and mean what the lifecycle
    says: money is paid, the period extended and the grant closed only while it is active;
    notices are amended and documents submitted while it has duties; no event leads out of a
    terminal state into another one."""

    def sources(event: Event) -> frozenset[State]:
        return frozenset(State(s) for s in lifecycle.allowed_from(event))

    for event in (Event.DISBURSE, Event.EXTEND, Event.CLOSE):
        assert sources(event) == State.active()
    for event in (Event.AMEND, Event.SUBMIT):
        assert sources(event) == State.with_duties()
    assert sources(Event.REVOKE) == State.with_duties() | {State.CLOSED}
    assert State.binding() == State.with_duties() | {State.CLOSED}
    leaving = {
        State(s) for step in lifecycle.LIFECYCLE if step.dest for s in step.sources if s != "new"
    }
    assert State.terminal() == frozenset(State) - leaving
    assert State.terminal() == lifecycle.TERMINAL
    assert State.ordered(State.binding()) == (
        State.APPROVED,
        State.RUNNING,
        State.EXTENDED,
        State.CLOSED,
    )
