"""The domain objects: grants, notices, disbursements, applicants, actors, transition records.

All are frozen attrs classes. A :class:`Grant` is never edited in place; the lifecycle folds
:class:`TransitionRecord` s into a new ``Grant`` (``grantflow.domain.lifecycle.apply``), so a
grant's state at any moment is the replay of its records up to that moment.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from grantflow.domain.dates import as_utc
from grantflow.domain.money import ZERO
from grantflow.errors import BadInput


class State(enum.StrEnum):
    """The eight public states of a grant.

    The sets of states the lifecycle, the rules and the reports ask about are defined here and
    only here (each a frozenset; :meth:`ordered` lists one in declaration order):

    * :meth:`active`: running, extended;
    * :meth:`with_duties`: approved, running, extended;
    * :meth:`binding`: approved, running, extended, closed;
    * :meth:`terminal`: rejected, withdrawn, revoked.
    """

    PROPOSED = "proposed"
    APPROVED = "approved"
    RUNNING = "running"
    EXTENDED = "extended"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"

    @classmethod
    def active(cls) -> frozenset[State]:
        """Running and extended: the project has started and is not yet closed, revoked or
        withdrawn. Only from these is money paid out (``disburse``), the period extended and
        the grant closed."""
        return _ACTIVE

    @classmethod
    def with_duties(cls) -> frozenset[State]:
        """Approved, running and extended: the grant notice is in force and the grant is not
        yet settled. Such a grant binds its approved amount (:attr:`Grant.committed_amount`)
        and has dated duties (proof of use, interim proofs, period end, unused funds; see
        :mod:`grantflow.domain.duties`); refunds are owed in any state."""
        return _WITH_DUTIES

    @classmethod
    def binding(cls) -> frozenset[State]:
        """Approved, running, extended and closed: a grant that binds or bound program funds
        (a closed grant its final amount). These count as grants in the budget figures, with
        their third-party funds and eligible costs (:func:`grantflow.domain.budget.figures`).
        Rejected and withdrawn grants never bound anything; a revoked grant's money is a
        refund claim (or, revoked for the future, what it kept: counted in ``committed`` but
        not as a grant)."""
        return _BINDING

    @classmethod
    def terminal(cls) -> frozenset[State]:
        """Rejected, withdrawn and revoked: the grant goes into no other state (a revoked
        grant's refund claim may still be repaid, ``repay``, which keeps the state)."""
        return _TERMINAL

    @classmethod
    def ordered(cls, states: frozenset[State]) -> tuple[State, ...]:
        """``states`` in declaration order (proposed first), as messages list them."""
        return tuple(s for s in cls if s in states)


_ACTIVE: frozenset[State] = frozenset({State.RUNNING, State.EXTENDED})
_WITH_DUTIES: frozenset[State] = frozenset({State.APPROVED, *_ACTIVE})
_BINDING: frozenset[State] = frozenset({*_WITH_DUTIES, State.CLOSED})
_TERMINAL: frozenset[State] = frozenset({State.REJECTED, State.WITHDRAWN, State.REVOKED})


class Event(enum.StrEnum):
    """What can happen to a grant. Each event is one kind of document or decision."""

    PROPOSE = "propose"  # application received (Antrag)
    APPROVE = "approve"  # grant notice (Zuwendungsbescheid)
    REJECT = "reject"  # rejection notice (Ablehnungsbescheid)
    WITHDRAW = "withdraw"  # applicant withdraws the application / renounces before payout
    START = "start"  # project begins
    DISBURSE = "disburse"  # payment of funds (Mittelabruf / Auszahlung)
    EXTEND = "extend"  # amendment notice extending the funding period
    AMEND = "amend"  # amendment notice changing the amount (also partial revocation)
    CLOSE = "close"  # final notice after the proof of use (Verwendungsnachweis)
    REVOKE = "revoke"  # revocation / withdrawal of the notice (Widerruf / Rücknahme)
    SUBMIT = (
        "submit"  # the grantee submits a document: spending report, interim proof, proof of use
    )
    REPAY = "repay"  # the grantee pays back (part of) the refund claim (Rückzahlung)


class RevocationEffect(enum.StrEnum):
    """Whether a revocation reaches back to money already paid (R-REVOKE-LAWFUL)."""

    PAST = "past"  # mit Wirkung für die Vergangenheit: what was paid becomes a refund claim
    FUTURE = "future"  # mit Wirkung für die Zukunft (§ 49 Abs. 2 VwVfG): no more payments


class Role(enum.StrEnum):
    CLERK = "clerk"  # records proposals, starts projects
    APPROVER = (
        "approver"  # approves, rejects, extends, amends, closes, revokes; overrides soft rules
    )
    FINANCE = "finance"  # disburses
    AUDITOR = "auditor"  # reads only
    ADMIN = "admin"  # manages programs and actors


class Assurance(enum.StrEnum):
    """How grantflow established who acted; recorded (and hashed) with every record.

    ``database-login``: the PostgreSQL login (``session_user``) mapped to the actor;
    ``os-login``: the operating-system login on a SQLite database; ``host-application``: an
    application embedding grantflow vouches for the user it authenticated; ``declared``: a
    name typed by whoever ran the command, allowed only in a SQLite database created for it
    (``grantflow init --declared-actors``: demos, training, tests)."""

    DATABASE_LOGIN = "database-login"
    OS_LOGIN = "os-login"
    HOST_APPLICATION = "host-application"
    DECLARED = "declared"


class Severity(enum.StrEnum):
    HARD = "hard"  # blocks the step; nobody can override it
    SOFT = "soft"  # blocks the step unless an approver overrides it with a justification


class FinancingType(enum.StrEnum):
    """Finanzierungsart of a grant notice (R-FUNDING-TYPE)."""

    SHARE = "share"  # Anteilfinanzierung: a percentage of eligible costs
    DEFICIT = "deficit"  # Fehlbedarfsfinanzierung: the gap after own and third-party funds
    FIXED = "fixed"  # Festbetragsfinanzierung: a fixed amount
    FULL = "full"  # Vollfinanzierung: the exception, needs a justification


class ApplicantKind(enum.StrEnum):
    MUNICIPALITY = "municipality"  # Gemeinde, Kreis, Gemeindeverband
    MUNICIPAL_COMPANY = "municipal-company"
    BUSINESS = "business"
    RESEARCH = "research"  # universities and research institutions
    NON_PROFIT = "non-profit"
    AUTHORITY = "authority"  # state authorities such as a Bezirksregierung


def _non_blank(_inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or not value.strip():
        raise BadInput(f"{attribute.name.replace('_', ' ')} must not be empty")


def _not_negative(_inst: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise BadInput(f"{attribute.name.replace('_', ' ')} must not be negative (got {value})")


@attrs.frozen
class Applicant:
    """A single applicant, or a consortium: the lead applies for all members."""

    lead: str = attrs.field(validator=_non_blank)
    kind: ApplicantKind
    members: tuple[str, ...] = ()

    @property
    def is_consortium(self) -> bool:
        return bool(self.members)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.lead, *self.members)


@attrs.frozen
class Period:
    """A closed interval of business dates (a funding period, Bewilligungszeitraum)."""

    start: pendulum.Date
    end: pendulum.Date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise BadInput(
                f"the period ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )

    def __contains__(self, d: pendulum.Date) -> bool:
        return self.start <= d <= self.end


@attrs.frozen
class GrantNotice:
    """Zuwendungsbescheid: the notice that approves a grant."""

    number: str = attrs.field(validator=_non_blank)
    date: pendulum.Date
    amount: Decimal = attrs.field(validator=_not_negative)
    funding_rate: Decimal
    financing_type: FinancingType
    period: Period
    purpose_binding_years: int | None = None


@attrs.frozen
class AmendmentNotice:
    """Änderungsbescheid: changes the amount (``amend``) or the period (``extend``)."""

    number: str = attrs.field(validator=_non_blank)
    date: pendulum.Date
    amount: Decimal
    period: Period
    event: Event
    signed_by: str | None = None
    """Who decided the amendment (GF-SOD-PAYMENT); ``None`` in a snapshot stored before
    grantflow kept it."""


@attrs.frozen
class Disbursement:
    """A payment to the grantee, requested for payments due by ``needed_by``."""

    seq: int
    date: pendulum.Date
    amount: Decimal
    needed_by: pendulum.Date
    paid_by: str | None = None
    """Who made the payment (GF-SOD-PAYMENT); ``None`` in a snapshot stored before grantflow
    kept it."""


class Document(enum.StrEnum):
    """What a grantee submits while the grant runs (``submit``)."""

    SPENDING_REPORT = "spending-report"  # grant money used for the purpose (Verwendung)
    INTERIM_PROOF = "interim-proof"  # Zwischennachweis for a budget year (R-INTERIM-PROOF)
    PROOF_OF_USE = "proof-of-use"  # Verwendungsnachweis (R-PROOF-6M)


@attrs.frozen
class Use:
    """Grant money the grantee reported as used for the purpose on ``date``."""

    seq: int
    date: pendulum.Date
    amount: Decimal


@attrs.frozen
class Repayment:
    """Money the grantee paid back on ``date`` (the value date of the bank statement)."""

    seq: int
    date: pendulum.Date
    amount: Decimal


@attrs.frozen
class ClaimTranche:
    """A part of the refund claim that arose with record ``seq`` (a lowering ``amend``, a
    ``close``, a ``revoke``) on ``arose_on`` and bears refund interest from ``effective_from``
    (R-REFUND, R-REFUND-INTEREST). The tranches of a grant add up to its refund claim.

    ``arose_on`` is the business date of that record, the notice that claims the money back; a
    revocation for the past may date ``effective_from`` earlier. ``None`` for a tranche stored
    before grantflow kept the day (``effective_from`` then stands in, see :attr:`due`).
    """

    seq: int
    event: Event
    effective_from: pendulum.Date
    amount: Decimal
    arose_on: pendulum.Date | None = None

    @property
    def due(self) -> pendulum.Date:
        """When this part of the claim is to be paid: the day it arose (R-REFUND; in NRW the
        claim is due when it arises, VV Nr. 8.5 zu § 44 LHO). grantflow knows no payment
        period; a later payment day set in a notice is not recorded."""
        return self.arose_on if self.arose_on is not None else self.effective_from


@attrs.frozen
class Actor:
    """A person acting in grantflow, with the roles an admin gave them."""

    name: str = attrs.field(validator=_non_blank)
    roles: frozenset[Role] = frozenset()

    def has(self, role: Role) -> bool:
        return role in self.roles


@attrs.frozen
class Settlement:
    """The final figures of a grant (R-COST-REDUCTION on ``close``; R-REFUND on ``revoke``)."""

    final_amount: Decimal
    refund_claim: Decimal


@attrs.frozen(kw_only=True)
class Grant:
    """One funding application and, once approved, the grant it became.

    Built only by the lifecycle from transition records; ``version`` is the sequence number of
    the last record applied.
    """

    id: str
    program_id: str
    title: str
    applicant: Applicant
    region: str | None = None
    focus: str | None = None
    call: str | None = None
    phase: str | None = None
    eligible_costs: Decimal
    requested_amount: Decimal
    private_funds: Decimal = ZERO
    own_funds: Decimal = ZERO
    period: Period
    received_on: pendulum.Date
    attestations: frozenset[str] = frozenset()
    state: State = State.PROPOSED
    notice: GrantNotice | None = None
    amendments: tuple[AmendmentNotice, ...] = ()
    disbursements: tuple[Disbursement, ...] = ()
    proposed_by: str
    last_edited_by: str
    last_business_date: pendulum.Date
    version: int = 0
    uses: tuple[Use, ...] = ()
    interim_proofs: tuple[tuple[int, pendulum.Date], ...] = ()
    proof_received_on: pendulum.Date | None = None
    proof_date: pendulum.Date | None = None
    closed_on: pendulum.Date | None = None
    final_costs: Decimal | None = None
    settlement: Settlement | None = None
    revoked_on: pendulum.Date | None = None
    revocation_effect: RevocationEffect | None = None
    repayments: tuple[Repayment, ...] = ()
    claim_tranches: tuple[ClaimTranche, ...] = ()
    approved_by: str | None = None
    """Who approved the grant notice (GF-SOD-PAYMENT); ``None`` before approval and in a
    snapshot stored before grantflow kept it."""

    @property
    def approved_amount(self) -> Decimal:
        """The amount of the latest notice (grant notice or amendment); zero before approval."""
        if self.amendments:
            return self.amendments[-1].amount
        return self.notice.amount if self.notice else ZERO

    @property
    def disbursed_amount(self) -> Decimal:
        return sum((d.amount for d in self.disbursements), ZERO)

    @property
    def used_amount(self) -> Decimal:
        """Grant money the grantee reported as used (spending reports)."""
        return sum((u.amount for u in self.uses), ZERO)

    @property
    def committed_amount(self) -> Decimal:
        """What this grant binds of the budget now.

        Approved and running grants bind their approved amount; a closed grant binds its final
        amount; a grant revoked for the future binds what it covers of the money paid before
        (R-REVOKE-LAWFUL, § 49 Abs. 2 VwVfG); a grant revoked for the past, a rejected or a
        withdrawn one binds nothing (a revoked grant's paid money is a refund claim, not a
        commitment).
        """
        if self.state in State.with_duties():
            return self.approved_amount
        if self.state in (State.CLOSED, State.REVOKED) and self.settlement is not None:
            return self.settlement.final_amount
        return ZERO

    @property
    def refund_claim(self) -> Decimal:
        """What the grantee owes back: paid money beyond what the grant now allows (before
        any repayment; see :attr:`refund_outstanding`)."""
        if self.settlement is not None:
            return self.settlement.refund_claim
        return max(ZERO, self.disbursed_amount - self.approved_amount)

    @property
    def repaid_amount(self) -> Decimal:
        """What the grantee has paid back of the refund claim (``repay``)."""
        return sum((r.amount for r in self.repayments), ZERO)

    @property
    def refund_outstanding(self) -> Decimal:
        """What is still owed of the refund claim: the claim less the repayments."""
        return max(ZERO, self.refund_claim - self.repaid_amount)

    @property
    def period_end(self) -> pendulum.Date:
        return self.period.end

    @property
    def funding_rate(self) -> Decimal | None:
        return self.notice.funding_rate if self.notice else None

    @property
    def financing_type(self) -> FinancingType | None:
        return self.notice.financing_type if self.notice else None


@attrs.frozen
class Override:
    """An approver's written decision to let a step pass although a soft rule refused it."""

    rule_id: str = attrs.field(validator=_non_blank)
    justification: str = attrs.field(validator=_non_blank)


@attrs.frozen(kw_only=True)
class Verdict:
    """What one rule said about one step.

    ``passed`` is the rule's own answer; ``overridden`` is true when a soft rule refused and an
    approver overrode it with ``justification``. A step goes ahead when every verdict
    :attr:`allows` it.
    """

    rule_id: str
    passed: bool
    severity: Severity
    message: str
    citation: str
    overridden: bool = False
    justification: str | None = None

    @property
    def allows(self) -> bool:
        return self.passed or self.overridden

    def explain(self) -> str:
        """``<message> — <rule id>, <citation>`` as shown to people."""
        text = f"{self.message} — {self.rule_id}, {self.citation}"
        if self.overridden:
            text += f" [overridden: {self.justification}]"
        return text


@attrs.frozen(kw_only=True)
class TransitionRecord:
    """One step in a grant's life, as an auditor reads it.

    ``data`` holds the event's document data as JSON values (amounts and dates as strings);
    it is everything needed to replay the step without the guideline. ``verdicts`` are the
    rule verdicts the step passed (including overridden soft rules).
    """

    grant_id: str
    seq: int
    event: Event
    from_state: State | None
    to_state: State
    business_date: pendulum.Date
    recorded_at: pendulum.DateTime = attrs.field(converter=as_utc)
    actor: str
    reason: str
    data: Mapping[str, Any]
    verdicts: tuple[Verdict, ...] = ()
    guideline_id: str
    guideline_version: str
