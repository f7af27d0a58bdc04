"""The events' documents: what an official enters to make a grant move.

One frozen class per :class:`~grantflow.domain.model.Event`. Every command carries the business
date from its document, a reason, optional soft-rule overrides and attestations (documents or
declarations the official records with the step, e.g. ``remedy-waiver``). Optional fields left
``None`` are filled from the grant and the guideline when the step is decided, and the filled
values are what the transition record keeps.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import attrs
import pendulum

from grantflow import limits
from grantflow.domain.model import (
    Applicant,
    Document,
    Event,
    FinancingType,
    Override,
    RevocationEffect,
    _non_blank,
    _not_negative,
)
from grantflow.domain.money import ZERO
from grantflow.errors import BadInput


def _positive(_inst: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value <= 0:
        raise BadInput(f"{attribute.name.replace('_', ' ')} must be more than zero (got {value})")


@attrs.frozen(kw_only=True)
class Command:
    """Fields every event carries."""

    event: ClassVar[Event]
    date: pendulum.Date
    reason: str = ""
    overrides: tuple[Override, ...] = ()
    attestations: frozenset[str] = frozenset()

    def override_for(self, rule_id: str) -> Override | None:
        for o in self.overrides:
            if o.rule_id == rule_id:
                return o
        return None

    def check_limits(self) -> None:
        """Raise :class:`~grantflow.errors.BadInput` unless every field is within grantflow's
        limits (:mod:`grantflow.limits`): lengths and characters of text, the range of amounts,
        business dates and years. Call it on a command from outside (the CLI and the service
        do) before the step is decided; replaying stored records does not, so a database
        written before a limit existed stays readable."""
        check_limits(self)


@attrs.frozen(kw_only=True)
class Propose(Command):
    """An application received on ``date`` (Antrag)."""

    event: ClassVar[Event] = Event.PROPOSE
    program_id: str = attrs.field(validator=_non_blank)
    title: str = attrs.field(validator=_non_blank)
    applicant: Applicant
    region: str | None = None
    focus: str | None = None
    call: str | None = None
    phase: str | None = None
    eligible_costs: Decimal = attrs.field(validator=_positive)
    requested_amount: Decimal = attrs.field(validator=_positive)
    private_funds: Decimal = attrs.field(default=ZERO, validator=_not_negative)
    own_funds: Decimal | None = attrs.field(default=None, validator=_not_negative)
    start: pendulum.Date
    end: pendulum.Date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise BadInput(
                f"the project period ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )


@attrs.frozen(kw_only=True)
class Approve(Command):
    """Zuwendungsbescheid. Unset fields default to the application and the guideline."""

    event: ClassVar[Event] = Event.APPROVE
    notice_number: str = attrs.field(validator=_non_blank)
    amount: Decimal | None = attrs.field(default=None, validator=_not_negative)
    financing_type: FinancingType | None = None
    start: pendulum.Date | None = None
    end: pendulum.Date | None = None
    purpose_binding_years: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise BadInput(
                f"the funding period ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )


@attrs.frozen(kw_only=True)
class Reject(Command):
    """Ablehnungsbescheid; needs written reasons (R-REJECTION-FORM)."""

    event: ClassVar[Event] = Event.REJECT


@attrs.frozen(kw_only=True)
class Withdraw(Command):
    """The applicant withdraws the application, or renounces before any payout."""

    event: ClassVar[Event] = Event.WITHDRAW


@attrs.frozen(kw_only=True)
class Start(Command):
    """The project begins."""

    event: ClassVar[Event] = Event.START


@attrs.frozen(kw_only=True)
class Disburse(Command):
    """A payment of ``amount`` for payments falling due by ``needed_by`` (default: ``date``)."""

    event: ClassVar[Event] = Event.DISBURSE
    amount: Decimal = attrs.field(validator=_positive)
    needed_by: pendulum.Date | None = None


@attrs.frozen(kw_only=True)
class Extend(Command):
    """Änderungsbescheid extending the funding period to ``until``."""

    event: ClassVar[Event] = Event.EXTEND
    until: pendulum.Date
    notice_number: str = attrs.field(validator=_non_blank)
    requested_on: pendulum.Date | None = None


@attrs.frozen(kw_only=True)
class Amend(Command):
    """Änderungsbescheid changing the approved amount (a lower amount is a partial revocation)."""

    event: ClassVar[Event] = Event.AMEND
    notice_number: str = attrs.field(validator=_non_blank)
    amount: Decimal = attrs.field(validator=_not_negative)


@attrs.frozen(kw_only=True)
class Close(Command):
    """Schlussbescheid after the proof of use (Verwendungsnachweis) received on ``proof_date``."""

    event: ClassVar[Event] = Event.CLOSE
    final_costs: Decimal = attrs.field(validator=_not_negative)
    proof_date: pendulum.Date | None = None
    final_other_funds: Decimal | None = attrs.field(default=None, validator=_not_negative)


@attrs.frozen(kw_only=True)
class Revoke(Command):
    """Widerruf / Rücknahme of the notice, effective from ``effective_from`` (default ``date``).

    ``effect`` (default :attr:`~RevocationEffect.PAST`): with effect for the past everything
    paid becomes a refund claim (R-REFUND) bearing interest from ``effective_from``
    (R-REFUND-INTEREST); with effect for the future (§ 49 Abs. 2 VwVfG) no further payments are
    made, the grant keeps what was paid (up to what it covered) and no refund claim arises. A
    revocation for the future takes effect on or after its own date. A *partial* revocation is
    an ``amend`` that lowers the amount.
    """

    event: ClassVar[Event] = Event.REVOKE
    notice_number: str = attrs.field(validator=_non_blank)
    effective_from: pendulum.Date | None = None
    known_since: pendulum.Date | None = None
    effect: RevocationEffect = RevocationEffect.PAST

    def __attrs_post_init__(self) -> None:
        if (
            self.effect is RevocationEffect.FUTURE
            and self.effective_from is not None
            and self.effective_from < self.date
        ):
            raise BadInput(
                f"a revocation for the future cannot take effect "
                f"({self.effective_from.isoformat()}) before its date ({self.date.isoformat()}); "
                f"a revocation reaching back is one for the past"
            )


@attrs.frozen(kw_only=True)
class Submit(Command):
    """The grantee submits a document on ``date``: a spending report (``amount`` of grant
    money used), an interim proof for budget ``year`` (default: the year before ``date``), or
    the proof of use."""

    event: ClassVar[Event] = Event.SUBMIT
    document: Document
    amount: Decimal | None = attrs.field(default=None, validator=_not_negative)
    year: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.document is Document.SPENDING_REPORT and not self.amount:
            raise BadInput("a spending report states the amount of grant money used")
        if self.document is not Document.SPENDING_REPORT and self.amount is not None:
            raise BadInput(f"an amount belongs to a spending report, not to a {self.document}")
        if self.year is not None and self.document is not Document.INTERIM_PROOF:
            raise BadInput(f"a year belongs to an interim proof, not to a {self.document}")


@attrs.frozen(kw_only=True)
class Repay(Command):
    """The grantee paid back ``amount`` of the refund claim on ``date`` (the value date of the
    bank statement). Repayments are credited to the claim; refund interest runs on what is
    still owed until each repayment (R-REFUND, R-REFUND-INTEREST)."""

    event: ClassVar[Event] = Event.REPAY
    amount: Decimal = attrs.field(validator=_positive)


_TEXT_KINDS: dict[str, str] = {
    "reason": limits.TEXT,
    "title": limits.TITLE,
    "notice_number": limits.NAME,
    "program_id": limits.ID,
    "region": limits.ID,
    "focus": limits.ID,
    "call": limits.ID,
    "phase": limits.ID,
}
"""The kind of limit (:mod:`grantflow.limits`) of each text field of a command."""


def _field_name(name: str) -> str:
    return "the " + name.replace("_", " ")


def check_limits(cmd: Command) -> None:
    """Raise BadInput unless every field of ``cmd`` is within :mod:`grantflow.limits` (see
    :meth:`Command.check_limits`)."""
    for field in attrs.fields(type(cmd)):
        value = getattr(cmd, field.name)
        what = _field_name(field.name)
        if value is None:
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, Decimal):
            limits.check_amount(value, what)
        elif isinstance(value, dt.date):
            limits.check_date(value, what)
        elif isinstance(value, str) and field.name in _TEXT_KINDS:
            limits.check_text(value, what, _TEXT_KINDS[field.name], blank=field.name == "reason")
        elif isinstance(value, Applicant):
            limits.check_text(value.lead, "the applicant", limits.NAME)
            for member in value.members:
                limits.check_text(member, "a consortium member", limits.NAME)
        elif field.name == "overrides":
            for o in value:
                limits.check_text(o.rule_id, "the id of an overridden rule", limits.ID)
                limits.check_text(o.justification, "a justification", limits.TEXT)
        elif field.name == "attestations":
            for a in sorted(value):
                limits.check_text(a, "an attestation", limits.ID)
        elif field.name == "purpose_binding_years":
            limits.check_years(value, "the purpose binding")
        elif field.name == "year":
            limits.check_year(value, "the year")


COMMANDS: dict[Event, type[Command]] = {
    cls.event: cls
    for cls in (
        Propose,
        Approve,
        Reject,
        Withdraw,
        Start,
        Disburse,
        Extend,
        Amend,
        Close,
        Revoke,
        Submit,
        Repay,
    )
}
"""The command class of every event."""
