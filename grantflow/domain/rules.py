"""The rule engine: parameterized rule kinds, the context they judge, and their verdicts.

A rule is a pure predicate over a :class:`RuleContext` (the grant before the step, the step's
command, the actor, the guideline version in force and the budget exposure). It answers an
:class:`Outcome` (passed or not, with a message that names the numbers) or ``None`` when it does
not apply to this step. Rules never change anything.

Rules come from two places:

* **core rules** (ids ``GF-…``) that hold in every program: roles, four-eyes, chronology, the
  approved-amount and payout ceilings. They are grantflow's own, not catalog rules.
* **guideline rules** declared in a program's guideline file by ``kind`` with the catalog id
  (``../shared/domain/RULES.md``), a citation, a severity and parameters.

Custom kinds register through the ``grantflow.rules`` entry point group
(:func:`grantflow.plugins.load_rule_plugins`); see ``docs/how-to/custom-rules.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Self

import attrs
import pendulum

from grantflow.domain.commands import (
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
from grantflow.domain.dates import add_months, end_of_month
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import (
    Actor,
    ApplicantKind,
    Event,
    Grant,
    Role,
    Severity,
    State,
    Verdict,
)
from grantflow.domain.money import ZERO, apply_rate, format_eur, format_rate
from grantflow.domain.params import Reader, to_amount, to_rate

ALL_EVENTS = frozenset(Event)


@attrs.frozen
class Exposure:
    """What the program has already bound, as the store knows it when the step is decided.

    Each figure *includes* the grant being decided (its current commitment); rules that add
    money compare the change (:attr:`RuleContext.commitment_delta`).
    """

    program_committed: Decimal = ZERO
    region_committed: Mapping[str, Decimal] = attrs.field(factory=dict)
    call_committed: Mapping[str, Decimal] = attrs.field(factory=dict)
    year_disbursed: Mapping[int, Decimal] = attrs.field(factory=dict)
    """What the program paid out in each budget (calendar) year, by the payments' dates."""

    @classmethod
    def of(cls, grants: Any) -> Exposure:
        """Sum the commitments and payments of ``grants`` (an iterable of :class:`Grant`) in
        memory."""
        total = ZERO
        region: dict[str, Decimal] = {}
        call: dict[str, Decimal] = {}
        years: dict[int, Decimal] = {}
        for g in grants:
            c = g.committed_amount
            total += c
            if g.region:
                region[g.region] = region.get(g.region, ZERO) + c
            if g.call:
                call[g.call] = call.get(g.call, ZERO) + c
            for d in g.disbursements:
                years[d.date.year] = years.get(d.date.year, ZERO) + d.amount
        return cls(total, region, call, years)


@attrs.frozen(kw_only=True)
class RuleContext:
    """Everything a rule may look at. ``grant`` is the grant *before* the step; ``today`` is
    the business date on which the step is judged (the service's clock, in Europe/Berlin)."""

    event: Event
    grant: Grant
    command: Command
    actor: Actor
    version: ProgramVersion
    exposure: Exposure
    today: pendulum.Date

    @property
    def amount_after(self) -> Decimal:
        """The approved amount the grant would have after the step."""
        cmd = self.command
        if isinstance(cmd, Approve | Amend) and cmd.amount is not None:
            return cmd.amount
        if isinstance(cmd, Propose):
            return cmd.requested_amount
        return self.grant.approved_amount

    @property
    def commitment_delta(self) -> Decimal:
        """How much more of the budget the grant binds after an ``approve`` or ``amend``."""
        if self.event in (Event.APPROVE, Event.AMEND):
            return self.amount_after - self.grant.committed_amount
        return ZERO

    @property
    def attestations(self) -> frozenset[str]:
        """Attestations recorded so far plus those recorded with this step."""
        return self.grant.attestations | self.command.attestations


@attrs.frozen
class Outcome:
    """What a rule's ``check`` answers: passed or not, and the sentence an official reads.

    The message names the figures compared (amounts with ``format_eur``, rates with
    ``format_rate``); the rule's id and citation are added to it when it is shown.
    """

    passed: bool
    message: str


def ok(message: str) -> Outcome:
    """The rule is satisfied; ``message`` says why (``Outcome(True, message)``)."""
    return Outcome(True, message)


def fail(message: str) -> Outcome:
    """The rule refuses the step; ``message`` says why (``Outcome(False, message)``)."""
    return Outcome(False, message)


def eur(amount: Decimal) -> str:
    return format_eur(amount)


@attrs.frozen(kw_only=True)
class Rule:
    """Base of every rule kind. Subclasses set ``kind``, ``default_events`` and ``check``.

    ``confidence`` carries the catalog's confidence mark (H, M, L) and ``assumed`` marks a
    parameter that is not verified against the official text; both are shown with the rule.
    """

    kind: ClassVar[str]
    default_events: ClassVar[frozenset[Event]]
    default_severity: ClassVar[Severity] = Severity.HARD

    id: str
    citation: str
    severity: Severity = Severity.HARD
    events: frozenset[Event] = frozenset()
    confidence: str | None = None
    assumed: bool = False
    note: str | None = None

    def check(self, ctx: RuleContext) -> Outcome | None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        """Read this kind's parameters; problems go to ``params.problems``. Default: none."""
        return {}

    @classmethod
    def build(cls, common: Mapping[str, Any], params: Reader) -> Self | None:
        """Construct the rule from the common fields and this kind's parameters."""
        values = cls.read_params(params)
        params.unknown_keys()
        if any(v is None for v in values.values()):
            return None
        return cls(**common, **values)

    def verdict(self, outcome: Outcome) -> Verdict:
        return Verdict(
            rule_id=self.id,
            passed=outcome.passed,
            severity=self.severity,
            message=outcome.message,
            citation=self.citation,
        )

    def describe(self) -> Mapping[str, Any]:
        """The rule's fields as shown by ``program show``."""
        fields = attrs.asdict(self, recurse=False)
        fields["kind"] = self.kind
        fields["events"] = sorted(e.value for e in self.events)
        return fields


# --------------------------------------------------------------------------------------------
# Core rules: hold in every program.
# --------------------------------------------------------------------------------------------

CORE = "grantflow core rule (docs/explanation/rules.md)"

ROLES_FOR: Mapping[Event, frozenset[Role]] = {
    Event.PROPOSE: frozenset({Role.CLERK}),
    Event.START: frozenset({Role.CLERK}),
    Event.WITHDRAW: frozenset({Role.CLERK, Role.APPROVER}),
    Event.APPROVE: frozenset({Role.APPROVER}),
    Event.REJECT: frozenset({Role.APPROVER}),
    Event.EXTEND: frozenset({Role.APPROVER}),
    Event.AMEND: frozenset({Role.APPROVER}),
    Event.CLOSE: frozenset({Role.APPROVER}),
    Event.REVOKE: frozenset({Role.APPROVER}),
    Event.DISBURSE: frozenset({Role.FINANCE}),
    Event.SUBMIT: frozenset({Role.CLERK}),
    Event.REPAY: frozenset({Role.FINANCE}),
}
"""Which roles may fire each event (GF-ROLE). Auditors and admins fire none."""


@attrs.frozen(kw_only=True)
class RoleRule(Rule):
    kind = "role"
    default_events = ALL_EVENTS

    def check(self, ctx: RuleContext) -> Outcome:
        needed = ROLES_FOR[ctx.event]
        have = ", ".join(sorted(ctx.actor.roles)) or "no role"
        need = " or ".join(sorted(needed))
        if ctx.actor.roles & needed:
            return ok(f"{ctx.actor.name} holds the {need} role needed to {ctx.event}")
        return fail(f"{ctx.actor.name} ({have}) may not {ctx.event}: that needs the {need} role")


@attrs.frozen(kw_only=True)
class FourEyesRule(Rule):
    kind = "four-eyes"
    default_events = frozenset({Event.APPROVE})

    def check(self, ctx: RuleContext) -> Outcome:
        g = ctx.grant
        # proposed_by last, so that it wins when the proposer also edited last
        involved = {g.last_edited_by: "last edited", g.proposed_by: "proposed"}
        if ctx.actor.name in involved:
            return fail(
                f"{ctx.actor.name} {involved[ctx.actor.name]} grant {g.id} and so may not "
                f"approve it (four-eyes principle)"
            )
        return ok(f"{ctx.actor.name} neither proposed nor last edited grant {g.id}")


@attrs.frozen(kw_only=True)
class ChronologyRule(Rule):
    kind = "chronology"
    default_events = ALL_EVENTS - {Event.PROPOSE}

    def check(self, ctx: RuleContext) -> Outcome:
        last = ctx.grant.last_business_date
        if ctx.command.date < last:
            return fail(
                f"the {ctx.event} is dated {ctx.command.date.isoformat()}, before the grant's "
                f"previous step on {last.isoformat()}"
            )
        return ok(f"dated {ctx.command.date.isoformat()}, not before {last.isoformat()}")


@attrs.frozen(kw_only=True)
class RequestedCapRule(Rule):
    kind = "requested-cap"
    default_events = frozenset({Event.APPROVE, Event.AMEND})

    def check(self, ctx: RuleContext) -> Outcome:
        amount, requested = ctx.amount_after, ctx.grant.requested_amount
        if amount > requested:
            return fail(f"{ctx.event} of {eur(amount)} is more than the requested {eur(requested)}")
        return ok(f"{eur(amount)} is within the requested {eur(requested)}")


@attrs.frozen(kw_only=True)
class CeilingRule(Rule):
    kind = "ceiling"
    default_events = frozenset({Event.DISBURSE, Event.SUBMIT})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        g = ctx.grant
        if isinstance(cmd, Submit):
            if cmd.amount is None:
                return None
            used = g.used_amount + cmd.amount
            if used > g.disbursed_amount:
                return fail(
                    f"reporting {eur(cmd.amount)} as used would bring grant money used to "
                    f"{eur(used)}, more than the {eur(g.disbursed_amount)} paid out"
                )
            return ok(f"grant money used {eur(used)} stays within {eur(g.disbursed_amount)} paid")
        if not isinstance(cmd, Disburse):
            return None
        after = g.disbursed_amount + cmd.amount
        if after > g.approved_amount:
            return fail(
                f"paying {eur(cmd.amount)} would bring payments to {eur(after)}, more than the "
                f"approved {eur(g.approved_amount)} (already paid {eur(g.disbursed_amount)})"
            )
        return ok(f"payments of {eur(after)} stay within the approved {eur(g.approved_amount)}")


@attrs.frozen(kw_only=True)
class PeriodRule(Rule):
    kind = "period"
    default_events = frozenset({Event.EXTEND, Event.APPROVE})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if isinstance(cmd, Extend):
            end = ctx.grant.period.end
            if cmd.until <= end:
                return fail(
                    f"the extension until {cmd.until.isoformat()} does not go beyond the current "
                    f"end of the funding period {end.isoformat()}"
                )
            return ok(
                f"extends the funding period from {end.isoformat()} to {cmd.until.isoformat()}"
            )
        if isinstance(cmd, Approve) and cmd.start and cmd.end and cmd.end < cmd.start:
            return fail(
                f"the funding period ends {cmd.end.isoformat()} before it starts "
                f"{cmd.start.isoformat()}"
            )
        return None


@attrs.frozen(kw_only=True)
class RefundBalanceRule(Rule):
    """A repayment is at most what is still owed of the refund claim (R-REFUND)."""

    kind = "refund-balance"
    default_events = frozenset({Event.REPAY})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Repay):
            return None
        g = ctx.grant
        owed = g.refund_outstanding
        if owed <= 0:
            return fail(
                f"grant {g.id} owes nothing back (refund claim {eur(g.refund_claim)}, repaid "
                f"{eur(g.repaid_amount)}), so a repayment of {eur(cmd.amount)} cannot be booked "
                f"against it (R-REFUND)"
            )
        if cmd.amount > owed:
            return fail(
                f"a repayment of {eur(cmd.amount)} is more than the {eur(owed)} still owed "
                f"(refund claim {eur(g.refund_claim)}, repaid {eur(g.repaid_amount)}; R-REFUND)"
            )
        return ok(
            f"{eur(cmd.amount)} of the {eur(owed)} still owed; {eur(owed - cmd.amount)} "
            f"remains (R-REFUND)"
        )


@attrs.frozen(kw_only=True)
class NoWithdrawalAfterPayoutRule(Rule):
    """No withdrawal once money was paid out (GF-RENOUNCE).

    A withdrawn grant binds nothing and owes nothing back, so a withdrawal after a payment
    would leave the money paid with neither a commitment nor a refund claim. Renouncing after
    a payout is a revocation with a refund claim (``revoke``; R-WITHDRAW-RENOUNCE, RULES.md
    OQ-2). This is a core rule: a guideline that switches off its ``renounce`` rule does not
    switch this off. It judges a withdrawal only once money was paid (before, the guideline's
    ``renounce`` rule says that nothing has been paid yet), so the records of withdrawals
    before any payment keep the verdicts they had.
    """

    kind = "no-withdrawal-after-payout"
    default_events = frozenset({Event.WITHDRAW})

    def check(self, ctx: RuleContext) -> Outcome | None:
        paid = ctx.grant.disbursed_amount
        if paid <= 0:
            return None
        return fail(
            f"{eur(paid)} has already been paid out on grant {ctx.grant.id}; a withdrawal "
            f"would leave it with neither a commitment nor a refund claim: renouncing now is a "
            f"revocation with a refund (revoke), not a withdrawal (R-WITHDRAW-RENOUNCE)"
        )


from grantflow.domain import separation  # noqa: E402  (its rules build on the ones above)

CORE_RULES: tuple[Rule, ...] = (
    RoleRule(id="GF-ROLE", citation=CORE, events=RoleRule.default_events),
    separation.AdminNoStepsRule(
        id="GF-ADMIN-NO-STEPS",
        citation=separation.ADMIN_CITATION,
        events=separation.AdminNoStepsRule.default_events,
    ),
    FourEyesRule(id="GF-FOUR-EYES", citation=CORE, events=FourEyesRule.default_events),
    separation.PaymentSeparationRule(
        id="GF-SOD-PAYMENT",
        citation=separation.PAYMENT_CITATION,
        events=separation.PaymentSeparationRule.default_events,
    ),
    ChronologyRule(id="GF-CHRONOLOGY", citation=CORE, events=ChronologyRule.default_events),
    RequestedCapRule(
        id="GF-REQUESTED-CAP",
        citation=CORE + "; § 44 LHO: grants only on application",
        events=RequestedCapRule.default_events,
    ),
    CeilingRule(
        id="GF-CEILING",
        citation=CORE + "; the notice fixes the amount (R-NOTICE-CONTENT)",
        events=CeilingRule.default_events,
    ),
    PeriodRule(id="GF-PERIOD", citation=CORE, events=PeriodRule.default_events),
    RefundBalanceRule(
        id="GF-REFUND-BALANCE",
        citation=CORE + "; R-REFUND, § 49a Abs. 1 VwVfG: what is owed is the refund claim",
        events=RefundBalanceRule.default_events,
    ),
    NoWithdrawalAfterPayoutRule(
        id="GF-RENOUNCE",
        citation=CORE + "; R-WITHDRAW-RENOUNCE (RULES.md OQ-2): renunciation after a payout is a "
        "revocation with a refund, §§ 49, 49a VwVfG",
        events=NoWithdrawalAfterPayoutRule.default_events,
    ),
)


# --------------------------------------------------------------------------------------------
# Guideline rule kinds: declared in guideline files with catalog ids and parameters.
# --------------------------------------------------------------------------------------------

_KINDS = {k.value: k for k in ApplicantKind}


def _kind_rate_table(params: Reader, key: str) -> dict[ApplicantKind, Decimal] | None:
    raw = params.table_of(key, to_rate, 'a rate such as "0.80"')
    if raw is None:
        return None
    out: dict[ApplicantKind, Decimal] = {}
    for k, v in raw.items():
        if k not in _KINDS:
            params.problem(f"{key}.{k}", k, "an applicant kind: " + ", ".join(sorted(_KINDS)))
        else:
            out[_KINDS[k]] = v
    return out


@attrs.frozen(kw_only=True)
class FundingRateRule(Rule):
    """The grant is at most a rate of the eligible costs, by applicant kind (R-FUNDING-TYPE).

    ``attestation_rates`` raise the cap when an attestation is recorded (for example
    ``haushaltsnotlage`` = 0.90 in Smart Cities).
    """

    kind = "funding-rate"
    default_events = frozenset({Event.PROPOSE, Event.APPROVE, Event.AMEND})

    default_rate: Decimal
    rates: Mapping[ApplicantKind, Decimal] = attrs.field(factory=dict)
    attestation_rates: Mapping[str, Decimal] = attrs.field(factory=dict)

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {
            "default_rate": params.rate("default_rate"),
            "rates": _kind_rate_table(params, "by_kind") or {},
            "attestation_rates": params.table_of("by_attestation", to_rate, 'a rate such as "0.90"')
            or {},
        }

    def cap_for(self, ctx: RuleContext) -> Decimal:
        rate = self.rates.get(ctx.grant.applicant.kind, self.default_rate)
        for attestation, raised in self.attestation_rates.items():
            if attestation in ctx.attestations:
                rate = max(rate, raised)
        return rate

    def check(self, ctx: RuleContext) -> Outcome:
        rate = self.cap_for(ctx)
        costs = ctx.grant.eligible_costs
        limit = apply_rate(costs, rate)
        amount = ctx.amount_after
        what = "requested" if ctx.event is Event.PROPOSE else "approved"
        if amount > limit:
            return fail(
                f"{what} {eur(amount)} is more than {format_rate(rate)} of eligible costs "
                f"{eur(costs)} (at most {eur(limit)})"
            )
        return ok(
            f"{what} {eur(amount)} is within {format_rate(rate)} of eligible costs {eur(costs)}"
        )


@attrs.frozen(kw_only=True)
class BudgetRule(Rule):
    """What is approved never exceeds what is left of the program budget, a region's envelope or
    a call's budget (``scope``)."""

    kind = "budget"
    default_events = frozenset({Event.APPROVE, Event.AMEND})

    scope: str

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        scopes = {"program": "program", "region": "region", "call": "call"}
        return {"scope": params.choice("scope", scopes)}

    def check(self, ctx: RuleContext) -> Outcome | None:
        delta = ctx.commitment_delta
        v, ex, g = ctx.version, ctx.exposure, ctx.grant
        if self.scope == "program":
            budget, used, label = v.budget, ex.program_committed, f"program {v.program_id}"
        elif self.scope == "region":
            region = v.region(g.region)
            if region is None or region.envelope is None:
                return None
            budget = region.envelope
            used = ex.region_committed.get(region.id, ZERO)
            label = f"the envelope of region {region.id}"
        else:
            call = v.call(g.call)
            if call is None or call.budget is None:
                return None
            budget, used = call.budget, ex.call_committed.get(call.id, ZERO)
            label = f"the budget of call {call.id}"
        left = budget - used
        if delta > left:
            return fail(
                f"{ctx.event} would bind {eur(delta)} more, but only {eur(left)} is left of "
                f"{label} ({eur(budget)}, of which {eur(used)} is committed)"
            )
        return ok(f"{eur(delta)} fits into the {eur(left)} left of {label} ({eur(budget)})")


@attrs.frozen(kw_only=True)
class EligibilityRule(Rule):
    """The application fits the program: region, focus area, call, phase and applicant kind.

    Where the guideline names an applicant with a region, the application must be in that
    region. ``kinds`` lists the applicant kinds allowed (empty: any).
    """

    kind = "eligibility"
    default_events = frozenset({Event.PROPOSE, Event.APPROVE})

    kinds: tuple[ApplicantKind, ...] = ()

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        raw = params.text_list("applicant_kinds") or ()
        kinds = []
        for k in raw:
            if k not in _KINDS:
                params.problem("applicant_kinds", k, "applicant kinds: " + ", ".join(_KINDS))
            else:
                kinds.append(_KINDS[k])
        return {"kinds": tuple(kinds)}

    def check(self, ctx: RuleContext) -> Outcome:
        v, g = ctx.version, ctx.grant
        problems: list[str] = []
        for field, items in (
            ("region", v.regions),
            ("focus", v.focus_areas),
            ("call", v.calls),
            ("phase", v.phases),
        ):
            value = getattr(g, field)
            ids = [i.id for i in items]
            if ids and value not in ids:
                shown = "none" if value is None else repr(value)
                problems.append(f"{field} {shown} is not one of {', '.join(ids)}")
        if self.kinds and g.applicant.kind not in self.kinds:
            problems.append(
                f"applicant kind {g.applicant.kind} is not eligible "
                f"(eligible: {', '.join(self.kinds)})"
            )
        for name in g.applicant.names:
            known = v.find_applicant(name)
            if known and known.region and g.region and known.region != g.region:
                problems.append(f"{known.name} belongs to region {known.region}, not {g.region}")
        if problems:
            return fail("; ".join(problems))
        return ok("the application fits the program's regions, areas, calls and applicants")


@attrs.frozen(kw_only=True)
class CallWindowRule(Rule):
    """An application must be received while its call is open."""

    kind = "call-window"
    default_events = frozenset({Event.PROPOSE})

    def check(self, ctx: RuleContext) -> Outcome | None:
        call = ctx.version.call(ctx.grant.call)
        if call is None:
            return None
        received = ctx.grant.received_on
        if not call.opens <= received <= call.closes:
            return fail(
                f"the application was received {received.isoformat()}, outside the window of "
                f"call {call.id} ({call.opens.isoformat()} to {call.closes.isoformat()})"
            )
        return ok(f"received {received.isoformat()} while call {call.id} was open")


@attrs.frozen(kw_only=True)
class PhaseCapRule(Rule):
    """The amount of a phase stays within the phase's maximum (R-PROG-MPSC-ELIGIBILITY-PHASES)."""

    kind = "phase-cap"
    default_events = frozenset({Event.PROPOSE, Event.APPROVE, Event.AMEND})

    def check(self, ctx: RuleContext) -> Outcome | None:
        phase = ctx.version.phase(ctx.grant.phase)
        if phase is None or phase.max_amount is None:
            return None
        amount = ctx.amount_after
        if amount > phase.max_amount:
            return fail(
                f"{eur(amount)} is more than the {phase.id} phase allows ({eur(phase.max_amount)})"
            )
        return ok(f"{eur(amount)} is within the {phase.id} phase maximum {eur(phase.max_amount)}")


@attrs.frozen(kw_only=True)
class AttestationRule(Rule):
    """Documents or declarations that must be recorded before the step.

    ``required`` attestations are needed from every applicant; with ``kinds`` set, only from
    applicants of those kinds.
    """

    kind = "attestations"
    default_events = frozenset({Event.APPROVE})

    required: tuple[str, ...]
    kinds: tuple[ApplicantKind, ...] = ()

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        kinds = []
        for k in params.text_list("applicant_kinds") or ():
            if k not in _KINDS:
                params.problem("applicant_kinds", k, "applicant kinds: " + ", ".join(_KINDS))
            else:
                kinds.append(_KINDS[k])
        return {"required": params.text_list("required", required=True), "kinds": tuple(kinds)}

    def check(self, ctx: RuleContext) -> Outcome | None:
        if self.kinds and ctx.grant.applicant.kind not in self.kinds:
            return None
        missing = [a for a in self.required if a not in ctx.attestations]
        if missing:
            return fail(f"missing attestation(s) before {ctx.event}: {', '.join(missing)}")
        return ok(f"attested: {', '.join(self.required)}")


@attrs.frozen(kw_only=True)
class MinimumAmountRule(Rule):
    """Bagatellgrenze: grants below a minimum should not be made (R-BAGATELLE, soft)."""

    kind = "minimum-amount"
    default_events = frozenset({Event.APPROVE})
    default_severity = Severity.SOFT

    default_minimum: Decimal
    minimums: Mapping[ApplicantKind, Decimal] = attrs.field(factory=dict)

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        raw = params.table_of("by_kind", to_amount, 'an amount such as "12500.00"') or {}
        mins: dict[ApplicantKind, Decimal] = {}
        for k, v in raw.items():
            if k not in _KINDS:
                params.problem(f"by_kind.{k}", k, "an applicant kind")
            else:
                mins[_KINDS[k]] = v
        return {"default_minimum": params.amount("minimum"), "minimums": mins}

    def check(self, ctx: RuleContext) -> Outcome:
        minimum = self.minimums.get(ctx.grant.applicant.kind, self.default_minimum)
        amount = ctx.amount_after
        if amount < minimum:
            return fail(f"{eur(amount)} is below the minimum grant of {eur(minimum)}")
        return ok(f"{eur(amount)} is at least the minimum grant of {eur(minimum)}")


@attrs.frozen(kw_only=True)
class FullFinancingRule(Rule):
    """Own funds, third-party funds and the grant together cover the eligible costs."""

    kind = "full-financing"
    default_events = frozenset({Event.APPROVE, Event.AMEND, Event.EXTEND})

    def check(self, ctx: RuleContext) -> Outcome | None:
        g = ctx.grant
        grant = ctx.amount_after
        if ctx.event is Event.AMEND and grant <= g.approved_amount:
            # A lower amount is a partial revocation (RULES.md, product decisions): it binds
            # less money, and an amendment carries no new financing plan to check it against.
            return None
        covered = grant + g.own_funds + g.private_funds
        if covered < g.eligible_costs:
            return fail(
                f"grant {eur(grant)} + own funds {eur(g.own_funds)} + third-party funds "
                f"{eur(g.private_funds)} = {eur(covered)} do not cover eligible costs "
                f"{eur(g.eligible_costs)} (gap {eur(g.eligible_costs - covered)})"
            )
        return ok(f"financing {eur(covered)} covers eligible costs {eur(g.eligible_costs)}")


@attrs.frozen(kw_only=True)
class EarlyStartRule(Rule):
    """A project must not start before its approval, unless early start was consented to."""

    kind = "early-start"
    default_events = frozenset({Event.APPROVE})

    consent: str = "early-start-consent"

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {
            "consent": params.text("consent_attestation", required=False) or "early-start-consent"
        }

    def check(self, ctx: RuleContext) -> Outcome:
        cmd = ctx.command
        start = cmd.start if isinstance(cmd, Approve) and cmd.start else ctx.grant.period.start
        notice_date = cmd.date
        if start < notice_date and self.consent not in ctx.attestations:
            return fail(
                f"the project starts {start.isoformat()}, before the notice of "
                f"{notice_date.isoformat()}, and no '{self.consent}' is recorded"
            )
        return ok(f"the project starts {start.isoformat()}, not before the approval")


@attrs.frozen(kw_only=True)
class ProgramHorizonRule(Rule):
    """A funding period cannot end after the program's funds do (R-ANNUALITY)."""

    kind = "program-horizon"
    default_events = frozenset({Event.APPROVE, Event.EXTEND})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if isinstance(cmd, Extend):
            end = cmd.until
        elif isinstance(cmd, Approve):
            end = cmd.end or ctx.grant.period.end
        else:
            return None
        until = ctx.version.funds_until
        if end > until:
            return fail(
                f"the funding period would end {end.isoformat()}, after the program's funds end "
                f"{until.isoformat()} (guideline version {ctx.version.version})"
            )
        return ok(f"ends {end.isoformat()}, within the program's funds until {until.isoformat()}")


@attrs.frozen(kw_only=True)
class AnnualFundsRule(Rule):
    """The payments of a budget year stay within the funds the budget has for that year
    (R-ANNUALITY: appropriations are annual, § 45 LHO/BHO).

    ``funds`` maps each budget year to the program's funds for payments in that year. Without
    ``carry_over`` a year's payments must fit that year's funds, and a payment in a year the
    table does not list is refused (there are no funds for it). With ``carry_over`` (funds left
    at the end of a year stay available: Ausgabereste) the payments up to a year must fit the
    funds up to that year.
    """

    kind = "annual-funds"
    default_events = frozenset({Event.DISBURSE})

    funds: Mapping[int, Decimal]
    carry_over: bool = False

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        raw = params.table_of("funds", to_amount, 'an amount such as "1500000.00"')
        if raw is None:
            params.problem("funds", None, 'a table of amounts by budget year ("2020" = "…")')
            return {"funds": None}
        funds: dict[int, Decimal] = {}
        for year, amount in raw.items():
            if not (year.isdigit() and len(year) == 4):
                params.problem(f"funds.{year}", year, "a budget year such as 2020")
            else:
                funds[int(year)] = amount
        return {"funds": funds, "carry_over": bool(params.boolean("carry_over"))}

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Disburse):
            return None
        year = cmd.date.year
        paid = ctx.exposure.year_disbursed
        if self.carry_over:
            funds = sum((a for y, a in self.funds.items() if y <= year), ZERO)
            used = sum((a for y, a in paid.items() if y <= year), ZERO)
            label = f"the funds of the budget years up to {year}, carried over"
        else:
            if year not in self.funds:
                listed = ", ".join(str(y) for y in sorted(self.funds)) or "none"
                return fail(
                    f"the guideline has no funds for payments in budget year {year} "
                    f"(years with funds: {listed})"
                )
            funds, used = self.funds[year], paid.get(year, ZERO)
            label = f"the funds of budget year {year}"
        left = funds - used
        if cmd.amount > left:
            return fail(
                f"a payment of {eur(cmd.amount)} is more than the {eur(left)} left of {label} "
                f"({eur(funds)}, of which {eur(used)} is paid out)"
            )
        return ok(f"{eur(cmd.amount)} fits into the {eur(left)} left of {label} ({eur(funds)})")


@attrs.frozen(kw_only=True)
class PayoutFinalityRule(Rule):
    """Funds are paid only once the notice is final: the remedy period has passed or the
    recipient waived legal remedies (R-PAYOUT-FINALITY)."""

    kind = "payout-finality"
    default_events = frozenset({Event.DISBURSE})

    remedy_days: int
    waiver: str = "remedy-waiver"

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {
            "remedy_days": params.integer("remedy_period_days", minimum=1),
            "waiver": params.text("waiver_attestation", required=False) or "remedy-waiver",
        }

    def check(self, ctx: RuleContext) -> Outcome | None:
        notice = ctx.grant.notice
        if notice is None:
            return None
        final_on = notice.date.add(days=self.remedy_days)
        if self.waiver in ctx.attestations:
            return ok("the recipient waived legal remedies; the notice is final")
        if ctx.command.date < final_on:
            return fail(
                f"the notice of {notice.date.isoformat()} is final only from "
                f"{final_on.isoformat()} ({self.remedy_days} days), and no '{self.waiver}' "
                f"is recorded"
            )
        return ok(f"the notice has been final since {final_on.isoformat()}")


@attrs.frozen(kw_only=True)
class DrawdownWindowRule(Rule):
    """Funds only for payments falling due within the drawdown window (R-DRAWDOWN-2M)."""

    kind = "drawdown-window"
    default_events = frozenset({Event.DISBURSE})

    months: int

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {"months": params.integer("months", minimum=1)}

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Disburse) or cmd.needed_by is None:
            return None
        latest = add_months(cmd.date, self.months)
        if cmd.needed_by > latest:
            return fail(
                f"{eur(cmd.amount)} requested on {cmd.date.isoformat()} is needed only by "
                f"{cmd.needed_by.isoformat()}, later than {self.months} months after payout "
                f"({latest.isoformat()})"
            )
        return ok(f"needed by {cmd.needed_by.isoformat()}, within {self.months} months")


@attrs.frozen(kw_only=True)
class FinalInstallmentRule(Rule):
    """A share of the grant is held back until the proof of use is checked
    (R-FINAL-INSTALLMENT)."""

    kind = "final-installment"
    default_events = frozenset({Event.DISBURSE})
    default_severity = Severity.SOFT

    retained: Decimal

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {"retained": params.rate("retained_rate")}

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Disburse):
            return None
        g = ctx.grant
        payable = g.approved_amount - apply_rate(g.approved_amount, self.retained)
        after = g.disbursed_amount + cmd.amount
        if after > payable:
            return fail(
                f"payments would reach {eur(after)}, but {format_rate(self.retained)} of "
                f"{eur(g.approved_amount)} is held back until the proof of use is checked "
                f"(at most {eur(payable)} before closing)"
            )
        return ok(f"payments of {eur(after)} leave the final instalment held back")


@attrs.frozen(kw_only=True)
class ExtensionRule(Rule):
    """An extension is applied for before the current period ends (R-EXTENSION)."""

    kind = "extension"
    default_events = frozenset({Event.EXTEND})
    default_severity = Severity.SOFT

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Extend):
            return None
        asked = cmd.requested_on or cmd.date
        end = ctx.grant.period.end
        if asked > end:
            return fail(
                f"the extension was applied for on {asked.isoformat()}, after the funding "
                f"period ended on {end.isoformat()}"
            )
        return ok(f"applied for on {asked.isoformat()}, before the period ended {end.isoformat()}")


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``6th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def proof_due(
    grant: Grant, version: ProgramVersion, months_after_period_end: int
) -> tuple[pendulum.Date, str]:
    """When the proof of use is due (R-PROOF-6M), and why, in words.

    By the end of the ``months_after_period_end``-th month after the funding period ends; a
    phase with ``proof_months_after_notice`` (MPSC) sets that many months after the notice
    instead. Shared by :class:`ProofDeadlineRule` and ``grantflow.domain.duties``.
    """
    phase = version.phase(grant.phase)
    if phase and phase.proof_months_after_notice and grant.notice:
        months = phase.proof_months_after_notice
        return (
            add_months(grant.notice.date, months),
            f"{months} months after the notice of {grant.notice.date.isoformat()}",
        )
    return (
        end_of_month(add_months(grant.period.end, months_after_period_end)),
        f"end of the {_ordinal(months_after_period_end)} month after the period ended "
        f"{grant.period.end.isoformat()}",
    )


@attrs.frozen(kw_only=True)
class ProofDeadlineRule(Rule):
    """The proof of use is due by the end of the n-th month after the funding period ends;
    a phase may instead set months after the notice (R-PROOF-6M)."""

    kind = "proof-deadline"
    default_events = frozenset({Event.CLOSE})

    months: int

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {"months": params.integer("months_after_period_end", minimum=1)}

    def due(self, ctx: RuleContext) -> tuple[pendulum.Date, str]:
        return proof_due(ctx.grant, ctx.version, self.months)

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Close):
            return None
        proof = cmd.proof_date or cmd.date
        due, why = self.due(ctx)
        if proof > due:
            late = (proof - due).in_days()
            return fail(
                f"the proof of use arrived {proof.isoformat()}, {late} "
                f"day{'' if late == 1 else 's'} after it was due on "
                f"{due.isoformat()} ({why})"
            )
        return ok(f"the proof of use arrived {proof.isoformat()}, by {due.isoformat()} ({why})")


@attrs.frozen(kw_only=True)
class RevocationWindowRule(Rule):
    """A closed grant can be revoked only while its purpose-binding period or the record-
    retention period runs (R-ASSET-BINDING, R-RECORD-RETENTION)."""

    kind = "revocation-window"
    default_events = frozenset({Event.REVOKE})

    retention_years: int

    @classmethod
    def read_params(cls, params: Reader) -> dict[str, Any]:
        return {"retention_years": params.integer("retention_years", minimum=1)}

    def check(self, ctx: RuleContext) -> Outcome | None:
        g = ctx.grant
        if g.state is not State.CLOSED or g.closed_on is None:
            return None
        binding = g.notice.purpose_binding_years if g.notice else None
        ends = [g.proof_date.add(years=self.retention_years)] if g.proof_date else []
        if binding:
            ends.append(g.closed_on.add(years=binding))
        until = max(ends) if ends else g.closed_on
        if ctx.command.date > until:
            return fail(
                f"the grant closed {g.closed_on.isoformat()}; its purpose-binding and "
                f"record-retention periods ended {until.isoformat()}, before "
                f"{ctx.command.date.isoformat()}"
            )
        return ok(f"the binding or retention period runs until {until.isoformat()}")


@attrs.frozen(kw_only=True)
class RevocationDeadlineRule(Rule):
    """A revocation comes within a year of the authority learning the facts
    (R-REVOKE-LAWFUL / R-REVOKE-UNLAWFUL, § 48 Abs. 4 VwVfG)."""

    kind = "revocation-deadline"
    default_events = frozenset({Event.REVOKE})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Revoke):
            return None
        if cmd.known_since is None:
            return ok(
                "no date of knowledge was given, so the one-year deadline is not checked "
                "(give it with the revocation to have it checked)"
            )
        deadline = cmd.known_since.add(years=1)
        if cmd.date > deadline:
            return fail(
                f"the facts were known since {cmd.known_since.isoformat()}; the one-year "
                f"deadline ended {deadline.isoformat()}, before {cmd.date.isoformat()}"
            )
        return ok(f"within a year of {cmd.known_since.isoformat()} (until {deadline.isoformat()})")


@attrs.frozen(kw_only=True)
class ReasonsRule(Rule):
    """A burdensome decision carries written reasons (R-REJECTION-FORM)."""

    kind = "reasons"
    default_events = frozenset({Event.REJECT, Event.REVOKE})

    def check(self, ctx: RuleContext) -> Outcome:
        if not ctx.command.reason.strip():
            return fail(f"a {ctx.event} needs written reasons, and none were given")
        return ok("written reasons are given")


@attrs.frozen(kw_only=True)
class RenounceRule(Rule):
    """After a payout, renouncing is a revocation with a refund, not a withdrawal
    (R-WITHDRAW-RENOUNCE)."""

    kind = "renounce"
    default_events = frozenset({Event.WITHDRAW})

    def check(self, ctx: RuleContext) -> Outcome:
        paid = ctx.grant.disbursed_amount
        if paid > 0:
            return fail(
                f"{eur(paid)} has already been paid; renouncing now is a revocation with a "
                f"refund (revoke), not a withdrawal"
            )
        return ok("nothing has been paid yet")


BUILTIN_KINDS: Mapping[str, type[Rule]] = {
    k.kind: k
    for k in (
        FundingRateRule,
        BudgetRule,
        EligibilityRule,
        CallWindowRule,
        PhaseCapRule,
        AttestationRule,
        MinimumAmountRule,
        FullFinancingRule,
        EarlyStartRule,
        ProgramHorizonRule,
        AnnualFundsRule,
        PayoutFinalityRule,
        DrawdownWindowRule,
        FinalInstallmentRule,
        ExtensionRule,
        ProofDeadlineRule,
        RevocationWindowRule,
        RevocationDeadlineRule,
        ReasonsRule,
        RenounceRule,
    )
}
"""The rule kinds a guideline file can use without plugins."""

from grantflow.domain.plausibility import PLAUSIBILITY_RULES  # noqa: E402 - builds on the above

CORE_RULES = (*CORE_RULES, *PLAUSIBILITY_RULES)
