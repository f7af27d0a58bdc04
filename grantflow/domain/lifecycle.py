"""The grant lifecycle: declared once as data, run by one shared ``transitions`` machine.

:data:`LIFECYCLE` lists every event with the states it may fire from and the state it leads
to (``None``: the state stays, as for a payment). One module-level
:class:`transitions.Machine` is built from it; a step fires the event on that machine for a
small token that holds the grant's state (the token is never attached to the machine, and there
is no Machine per grant). The machine's only condition on every transition is "the rules allow
it": it evaluates *all* rules for the event, so a refused step reports every rule that refused
it.

Pure functions, no I/O:

* :func:`check` -- dry run: every verdict for an event on a grant; changes nothing.
* :func:`decide` -- check, then either raise (:class:`~grantflow.errors.RuleViolation`,
  :class:`~grantflow.errors.InvalidTransition`) or return the new :class:`TransitionRecord`.
* :func:`apply` / :func:`replay` -- fold records into a :class:`Grant`. A grant *is* the replay
  of its records; that is what point-in-time views and the crash tests rely on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
from transitions import EventData, Machine, MachineError

from grantflow.domain.codec import from_data, to_data
from grantflow.domain.commands import (
    COMMANDS,
    Amend,
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Repay,
    Revoke,
    Submit,
)
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import (
    Actor,
    AmendmentNotice,
    Disbursement,
    Document,
    Event,
    FinancingType,
    Grant,
    GrantNotice,
    Period,
    Repayment,
    RevocationEffect,
    Role,
    Settlement,
    Severity,
    State,
    TransitionRecord,
    Use,
    Verdict,
)
from grantflow.domain.money import ZERO, apply_rate, money
from grantflow.domain.refunds import next_tranches
from grantflow.domain.rules import CORE_RULES, Exposure, Rule, RuleContext
from grantflow.errors import BadInput, InvalidTransition, RuleViolation

from grantflow.domain import plausibility  # isort: skip  (after rules: it builds on them)

NEW = "new"
"""Pseudo-state of an application before it is proposed. Never stored."""


@attrs.frozen
class Step:
    """One line of the lifecycle table."""

    event: Event
    sources: tuple[str, ...]
    dest: State | None  # None: the state does not change (an internal transition)


def _sources(*states: State | frozenset[State]) -> tuple[str, ...]:
    """The state names of ``states`` (states and sets of states), in declaration order."""
    wanted: set[State] = set()
    for s in states:
        wanted |= {s} if isinstance(s, State) else s
    return tuple(s.value for s in State.ordered(frozenset(wanted)))


_ACTIVE = State.active()
_WITH_DUTIES = State.with_duties()

LIFECYCLE: tuple[Step, ...] = (
    Step(Event.PROPOSE, (NEW,), State.PROPOSED),
    Step(Event.APPROVE, _sources(State.PROPOSED), State.APPROVED),
    Step(Event.REJECT, _sources(State.PROPOSED), State.REJECTED),
    Step(Event.WITHDRAW, _sources(State.PROPOSED, State.APPROVED, State.RUNNING), State.WITHDRAWN),
    Step(Event.START, _sources(State.APPROVED), State.RUNNING),
    Step(Event.DISBURSE, _sources(_ACTIVE), None),
    Step(Event.EXTEND, _sources(_ACTIVE), State.EXTENDED),
    Step(Event.AMEND, _sources(_WITH_DUTIES), None),
    Step(Event.CLOSE, _sources(_ACTIVE), State.CLOSED),
    Step(Event.REVOKE, _sources(_WITH_DUTIES, State.CLOSED), State.REVOKED),
    Step(Event.SUBMIT, _sources(_WITH_DUTIES), None),
    Step(Event.REPAY, _sources(_ACTIVE, State.CLOSED, State.REVOKED), None),
)
"""The whole lifecycle as data: the machine, the docs' diagram and the tests read this."""

TERMINAL: frozenset[State] = State.terminal()
"""The states no event leads out of into another state (:meth:`State.terminal`)."""


def allowed_from(event: Event) -> tuple[str, ...]:
    return next(s.sources for s in LIFECYCLE if s.event is event)


def events_from(state: State | str) -> tuple[Event, ...]:
    """The events the lifecycle allows from ``state`` (rules may still refuse them)."""
    return tuple(s.event for s in LIFECYCLE if str(state) in s.sources)


class _Token:
    """What the shared machine moves: a state and the rule evaluation for one step."""

    def __init__(self, state: str, evaluate: Callable[[], tuple[Verdict, ...]]) -> None:
        self.state = state
        self.evaluate = evaluate
        self.verdicts: tuple[Verdict, ...] = ()


def _rules_allow(event: EventData) -> bool:
    token = event.model
    assert isinstance(token, _Token)
    token.verdicts = token.evaluate()
    return all(v.allows for v in token.verdicts)


def build_machine() -> Machine:
    """A ``transitions`` machine for :data:`LIFECYCLE` with no models attached."""
    return Machine(
        model=None,
        states=[NEW, *(s.value for s in State)],
        transitions=[
            {
                "trigger": step.event.value,
                "source": list(step.sources),
                "dest": step.dest.value if step.dest else None,
                "conditions": [_rules_allow],
            }
            for step in LIFECYCLE
        ],
        initial=NEW,
        auto_transitions=False,
        send_event=True,
    )


_MACHINE = build_machine()
_MACHINE_LOCK = threading.Lock()  # a transitions Machine is not made for concurrent use


def _fire(state: str, event: Event, evaluate: Callable[[], tuple[Verdict, ...]]) -> _Token:
    """Run one event through the shared machine. Raises MachineError if the state forbids it.

    The machine's event is triggered for the token directly (``Event.trigger(model)``, what a
    model's trigger method calls): attaching the token with ``add_model`` would bind a trigger
    and an ``is_<state>`` method per event and state to it on every step, and cost more than
    all the rules of a step together.
    """
    token = _Token(state, evaluate)
    with _MACHINE_LOCK:
        _MACHINE.events[event.value].trigger(token)
    return token


@attrs.frozen
class Evaluation:
    """The result of :func:`check`: every verdict, and whether the step would go ahead."""

    event: Event
    from_state: str
    to_state: str | None
    verdicts: tuple[Verdict, ...]
    lifecycle_ok: bool

    @property
    def allowed(self) -> bool:
        return self.lifecycle_ok and all(v.allows for v in self.verdicts)

    @property
    def failures(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.allows)


# --------------------------------------------------------------------------------------------
# Filling defaults: what the record keeps is the command with every default resolved.
# --------------------------------------------------------------------------------------------


def draft(grant_id: str, cmd: Propose, actor: str) -> Grant:
    """The grant an application would create (state ``proposed``, version 0)."""
    own = cmd.own_funds
    if own is None:
        own = max(ZERO, cmd.eligible_costs - cmd.requested_amount - cmd.private_funds)
    return Grant(
        id=grant_id,
        program_id=cmd.program_id,
        title=cmd.title,
        applicant=cmd.applicant,
        region=cmd.region,
        focus=cmd.focus,
        call=cmd.call,
        phase=cmd.phase,
        eligible_costs=money(cmd.eligible_costs),
        requested_amount=money(cmd.requested_amount),
        private_funds=money(cmd.private_funds),
        own_funds=money(own),
        period=Period(cmd.start, cmd.end),
        received_on=cmd.date,
        attestations=cmd.attestations,
        state=State.PROPOSED,
        proposed_by=actor,
        last_edited_by=actor,
        last_business_date=cmd.date,
        version=0,
    )


def resolve(cmd: Command, grant: Grant, version: ProgramVersion) -> Command:
    """Fill the command's unset fields from the grant and the guideline version."""
    if isinstance(cmd, Propose):
        return attrs.evolve(cmd, own_funds=grant.own_funds)
    if isinstance(cmd, Approve):
        return attrs.evolve(
            cmd,
            amount=money(cmd.amount) if cmd.amount is not None else grant.requested_amount,
            financing_type=cmd.financing_type or version.default_financing_type,
            start=cmd.start or grant.period.start,
            end=cmd.end or grant.period.end,
            purpose_binding_years=(
                cmd.purpose_binding_years
                if cmd.purpose_binding_years is not None
                else version.purpose_binding_years
            ),
        )
    if isinstance(cmd, Disburse):
        return attrs.evolve(cmd, amount=money(cmd.amount), needed_by=cmd.needed_by or cmd.date)
    if isinstance(cmd, Extend):
        return attrs.evolve(cmd, requested_on=cmd.requested_on or cmd.date)
    if isinstance(cmd, Amend):
        return attrs.evolve(cmd, amount=money(cmd.amount))
    if isinstance(cmd, Close):
        return attrs.evolve(
            cmd,
            final_costs=money(cmd.final_costs),
            proof_date=cmd.proof_date or grant.proof_received_on or cmd.date,
            final_other_funds=(
                money(cmd.final_other_funds)
                if cmd.final_other_funds is not None
                else grant.own_funds + grant.private_funds
            ),
        )
    if isinstance(cmd, Revoke):
        return attrs.evolve(cmd, effective_from=cmd.effective_from or cmd.date)
    if isinstance(cmd, Repay):
        return attrs.evolve(cmd, amount=money(cmd.amount))
    if isinstance(cmd, Submit):
        if cmd.document is Document.INTERIM_PROOF and cmd.year is None:
            return attrs.evolve(cmd, year=cmd.date.year - 1)
        if cmd.amount is not None:
            return attrs.evolve(cmd, amount=money(cmd.amount))
    return cmd


# --------------------------------------------------------------------------------------------
# Settlement (R-COST-REDUCTION): the final grant from the final costs, by financing type.
# --------------------------------------------------------------------------------------------


def final_amount(grant: Grant, final_costs: Decimal, other_funds: Decimal) -> Decimal:
    """The final grant after the proof of use (R-COST-REDUCTION).

    * share (Anteil): the rate of the final eligible costs, at most the approved amount;
    * deficit and full (Fehlbedarf, Voll): the final costs less own and third-party funds,
      at most the approved amount (the whole saving reduces the grant);
    * fixed (Festbetrag): the approved amount, unless the final costs fall below it.
    """
    approved = grant.approved_amount
    notice = grant.notice
    if notice is None:  # pragma: no cover - close needs an approved grant
        return ZERO
    ft = notice.financing_type
    if ft is FinancingType.SHARE:
        # The exact share amount / eligible costs, not the notice's rate rounded to four places
        # (1/3 as 0.3333 would cut a grant whose costs did not fall at all).
        if not grant.eligible_costs:  # pragma: no cover - a proposal has eligible costs > 0
            return ZERO
        share = final_costs * notice.amount / grant.eligible_costs
        return min(approved, apply_rate(share, Decimal(1)))
    if ft in (FinancingType.DEFICIT, FinancingType.FULL):
        return min(approved, max(ZERO, final_costs - other_funds))
    return min(approved, final_costs)


# --------------------------------------------------------------------------------------------
# check / decide
# --------------------------------------------------------------------------------------------


def _evaluate(
    rules: Iterable[Rule], ctx: RuleContext, overrides_valid: bool
) -> tuple[Verdict, ...]:
    verdicts: list[Verdict] = []
    for rule in rules:
        if ctx.event not in rule.events:
            continue
        outcome = rule.check(ctx)
        if outcome is None:
            continue
        verdict = rule.verdict(outcome)
        override = ctx.command.override_for(rule.id)
        if (
            not verdict.passed
            and override is not None
            and overrides_valid
            and rule.severity is Severity.SOFT
        ):
            verdict = attrs.evolve(verdict, overridden=True, justification=override.justification)
        verdicts.append(verdict)
    verdicts.extend(_override_verdicts(ctx, verdicts))
    return tuple(verdicts)


def _override_verdicts(ctx: RuleContext, verdicts: list[Verdict]) -> list[Verdict]:
    """GF-OVERRIDE: every override names a soft rule, comes from an approver, and has a reason."""
    out: list[Verdict] = []
    by_id = {v.rule_id: v for v in verdicts}
    for o in ctx.command.overrides:
        v = by_id.get(o.rule_id)
        problem = None
        if not ctx.actor.has(Role.APPROVER):
            problem = f"{ctx.actor.name} may not override {o.rule_id}: only an approver may"
        elif v is None:
            problem = f"{o.rule_id} does not judge this {ctx.event}, so it cannot be overridden"
        elif v.severity is Severity.HARD:
            problem = f"{o.rule_id} is a hard rule; nobody can override it"
        if problem:
            out.append(
                Verdict(
                    rule_id="GF-OVERRIDE",
                    passed=False,
                    severity=Severity.HARD,
                    message=problem,
                    citation="grantflow core rule (docs/explanation/rules.md)",
                )
            )
    return out


def _context(
    grant: Grant,
    cmd: Command,
    actor: Actor,
    version: ProgramVersion,
    exposure: Exposure,
    today: pendulum.Date | None,
) -> RuleContext:
    return RuleContext(
        event=cmd.event,
        grant=grant,
        command=cmd,
        actor=actor,
        version=version,
        exposure=exposure,
        # only a caller without a clock gives no day: then the wall clock's (plausibility.today)
        today=today if today is not None else plausibility.today(),
    )


def _prepare(
    grant: Grant | None,
    cmd: Command,
    actor: Actor,
    version: ProgramVersion,
    grant_id: str | None,
) -> tuple[Grant, Command, str]:
    if isinstance(cmd, Propose) and grant is None:
        base = draft(grant_id or "(new)", cmd, actor.name)
        return base, resolve(cmd, base, version), NEW
    if grant is None:
        raise BadInput(f"{cmd.event} needs an existing grant")
    return grant, resolve(cmd, grant, version), grant.state.value


def check(
    grant: Grant | None,
    cmd: Command,
    *,
    actor: Actor,
    version: ProgramVersion,
    exposure: Exposure | None = None,
    grant_id: str | None = None,
    today: pendulum.Date | None = None,
) -> Evaluation:
    """Every verdict for ``cmd`` on ``grant`` (``None`` for a proposal). Changes nothing.

    ``today`` is the business date the step is judged on (``GF-PLAUSIBLE-DATE``); a service
    gives its clock's (:func:`grantflow.domain.dates.business_day`). Without it, the day in
    Europe/Berlin now."""
    evaluation, _, _ = _check(grant, cmd, actor, version, exposure, grant_id, today)
    return evaluation


def _check(
    grant: Grant | None,
    cmd: Command,
    actor: Actor,
    version: ProgramVersion,
    exposure: Exposure | None,
    grant_id: str | None,
    today: pendulum.Date | None,
) -> tuple[Evaluation, Grant, Command]:
    """:func:`check`, also returning the grant and the resolved command it judged (so that
    :func:`decide` records exactly what was checked, without resolving it again)."""
    base, resolved, state = _prepare(grant, cmd, actor, version, grant_id)
    ctx = _context(base, resolved, actor, version, exposure or Exposure(), today)
    rules = (*CORE_RULES, *version.rules)
    overrides_valid = actor.has(Role.APPROVER)

    def evaluate() -> tuple[Verdict, ...]:
        return _evaluate(rules, ctx, overrides_valid)

    try:
        token = _fire(state, cmd.event, evaluate)
    except MachineError:
        refused = Evaluation(
            event=cmd.event,
            from_state=state,
            to_state=None,
            verdicts=(
                Verdict(
                    rule_id="GF-LIFECYCLE",
                    passed=False,
                    severity=Severity.HARD,
                    message=(
                        f"{cmd.event} is not possible while the grant is {state} "
                        f"(only from: {', '.join(allowed_from(cmd.event))})"
                    ),
                    citation="grantflow lifecycle (docs/explanation/lifecycle.md)",
                ),
            ),
            lifecycle_ok=False,
        )
        return refused, base, resolved
    step = next(s for s in LIFECYCLE if s.event is cmd.event)
    evaluation = Evaluation(
        event=cmd.event,
        from_state=state,
        to_state=(step.dest.value if step.dest else state),
        verdicts=token.verdicts,
        lifecycle_ok=True,
    )
    return evaluation, base, resolved


def decide(
    grant: Grant | None,
    cmd: Command,
    *,
    actor: Actor,
    version: ProgramVersion,
    recorded_at: pendulum.DateTime,
    exposure: Exposure | None = None,
    grant_id: str | None = None,
    today: pendulum.Date | None = None,
) -> TransitionRecord:
    """Check ``cmd`` and return the transition record it produces, or raise.

    ``today`` as for :func:`check` (a service gives the business date of ``recorded_at``).

    Raises :class:`InvalidTransition` when the lifecycle forbids the event from the grant's
    state, and :class:`RuleViolation` listing every failing rule otherwise.
    """
    if isinstance(cmd, Propose) and grant is None and not grant_id:
        raise BadInput("a proposal needs the id of the grant it creates")
    evaluation, base, resolved = _check(grant, cmd, actor, version, exposure, grant_id, today)
    if not evaluation.lifecycle_ok:
        raise InvalidTransition(cmd.event, evaluation.from_state, allowed_from(cmd.event))
    gid = grant.id if grant else str(grant_id)
    if not evaluation.allowed:
        raise RuleViolation(cmd.event, gid, evaluation.failures)
    data: dict[str, Any] = to_data(resolved)
    if isinstance(resolved, Close):
        assert resolved.final_other_funds is not None
        final = final_amount(base, resolved.final_costs, resolved.final_other_funds)
        data["final_amount"] = to_data(final)
        data["refund_claim"] = to_data(max(ZERO, base.disbursed_amount - final))
    elif isinstance(resolved, Revoke):
        final = ZERO
        if resolved.effect is RevocationEffect.FUTURE:
            # § 49 Abs. 2 VwVfG: no further payments; what was paid stays covered (as far as
            # the grant covered it before: an earlier refund claim stays owed)
            covered = base.settlement.final_amount if base.settlement else base.approved_amount
            final = min(base.disbursed_amount, covered)
        data["final_amount"] = to_data(final)
        data["refund_claim"] = to_data(base.disbursed_amount - final)
    to_state = State(evaluation.to_state) if evaluation.to_state else base.state
    return TransitionRecord(
        grant_id=gid,
        seq=(grant.version + 1) if grant else 1,
        event=cmd.event,
        from_state=grant.state if grant else None,
        to_state=to_state,
        business_date=cmd.date,
        recorded_at=recorded_at,
        actor=actor.name,
        reason=cmd.reason,
        data=data,
        verdicts=evaluation.verdicts,
        guideline_id=version.program_id,
        guideline_version=version.version,
    )


# --------------------------------------------------------------------------------------------
# apply / replay
# --------------------------------------------------------------------------------------------


def command_of(record: TransitionRecord) -> Command:
    """The resolved command a record keeps (the settlement figures are extra keys)."""
    data = {k: v for k, v in record.data.items() if k not in ("final_amount", "refund_claim")}
    return from_data(data, COMMANDS[record.event])


def apply(grant: Grant | None, record: TransitionRecord) -> Grant:
    """The grant after ``record``. Pure; uses nothing but the record and the grant."""
    cmd = command_of(record)
    if isinstance(cmd, Propose):
        if grant is not None:
            raise BadInput(f"record {record.seq} proposes grant {record.grant_id} a second time")
        return attrs.evolve(draft(record.grant_id, cmd, record.actor), version=record.seq)
    if grant is None:
        raise BadInput(f"record {record.seq} of {record.grant_id} has no proposal before it")
    if record.seq != grant.version + 1:
        raise BadInput(
            f"record {record.seq} of {record.grant_id} follows version {grant.version}; "
            f"records must be applied in order"
        )
    changes: dict[str, Any] = {
        "state": record.to_state,
        "version": record.seq,
        "last_edited_by": record.actor,
        "last_business_date": record.business_date,
        "attestations": grant.attestations | cmd.attestations,
    }
    if isinstance(cmd, Approve):
        assert cmd.amount is not None and cmd.financing_type is not None
        assert cmd.start is not None and cmd.end is not None
        period = Period(cmd.start, cmd.end)
        rate = (
            (cmd.amount / grant.eligible_costs).quantize(Decimal("0.0001"))
            if grant.eligible_costs
            else ZERO
        )
        changes["notice"] = GrantNotice(
            number=cmd.notice_number,
            date=cmd.date,
            amount=cmd.amount,
            funding_rate=rate,
            financing_type=cmd.financing_type,
            period=period,
            purpose_binding_years=cmd.purpose_binding_years,
        )
        changes.update(period=period, approved_by=record.actor)
    elif isinstance(cmd, Disburse):
        assert cmd.needed_by is not None
        changes["disbursements"] = (
            *grant.disbursements,
            Disbursement(
                seq=record.seq,
                date=cmd.date,
                amount=cmd.amount,
                needed_by=cmd.needed_by,
                paid_by=record.actor,
            ),
        )
    elif isinstance(cmd, Extend):
        period = Period(grant.period.start, cmd.until)
        changes["period"] = period
        changes["amendments"] = (
            *grant.amendments,
            AmendmentNotice(
                number=cmd.notice_number,
                date=cmd.date,
                amount=grant.approved_amount,
                period=period,
                event=Event.EXTEND,
                signed_by=record.actor,
            ),
        )
    elif isinstance(cmd, Amend):
        changes["amendments"] = (
            *grant.amendments,
            AmendmentNotice(
                number=cmd.notice_number,
                date=cmd.date,
                amount=cmd.amount,
                period=grant.period,
                event=Event.AMEND,
                signed_by=record.actor,
            ),
        )
    elif isinstance(cmd, Close):
        changes["closed_on"] = cmd.date
        changes["proof_date"] = cmd.proof_date
        changes["final_costs"] = cmd.final_costs
        changes["settlement"] = Settlement(
            final_amount=Decimal(record.data["final_amount"]),
            refund_claim=Decimal(record.data["refund_claim"]),
        )
    elif isinstance(cmd, Submit):
        if cmd.document is Document.SPENDING_REPORT:
            assert cmd.amount is not None
            changes["uses"] = (*grant.uses, Use(seq=record.seq, date=cmd.date, amount=cmd.amount))
        elif cmd.document is Document.INTERIM_PROOF:
            assert cmd.year is not None
            changes["interim_proofs"] = (*grant.interim_proofs, (cmd.year, cmd.date))
        else:
            changes["proof_received_on"] = cmd.date
    elif isinstance(cmd, Revoke):
        changes["revoked_on"] = cmd.effective_from
        changes["revocation_effect"] = cmd.effect
        changes["settlement"] = Settlement(
            final_amount=Decimal(record.data["final_amount"]),
            refund_claim=Decimal(record.data["refund_claim"]),
        )
    elif isinstance(cmd, Repay):
        changes["repayments"] = (
            *grant.repayments,
            Repayment(seq=record.seq, date=cmd.date, amount=cmd.amount),
        )
    after = attrs.evolve(grant, **changes)
    if after.refund_claim != grant.refund_claim or grant.claim_tranches:
        # the claim's tranches, each dated from when the notice became ineffective to its
        # extent (R-REFUND-INTEREST): a revocation's effective date, else the step's date
        effective = cmd.effective_from if isinstance(cmd, Revoke) else None
        after = attrs.evolve(
            after,
            claim_tranches=next_tranches(
                grant,
                after,
                seq=record.seq,
                event=record.event,
                effective_from=effective or record.business_date,
                arose_on=record.business_date,
            ),
        )
    return after


def replay(records: Iterable[TransitionRecord]) -> Grant | None:
    """Fold a grant's records, in sequence order, into the grant they describe."""
    grant: Grant | None = None
    for record in records:
        grant = apply(grant, record)
    return grant


def replay_as_of(records: Iterable[TransitionRecord], day: pendulum.Date) -> Grant | None:
    """The grant as it stood at the end of business date ``day`` (``None``: not yet proposed)."""
    return replay(r for r in records if r.business_date <= day)
