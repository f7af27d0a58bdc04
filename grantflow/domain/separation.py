"""Separation of duties: core rules on *who* may take a step, beyond the role it needs.

GF-ROLE asks whether the person holds a role that may take the step, and GF-FOUR-EYES keeps the
proposer from approving. Two more controls keep one person from holding both ends of a grant:

* **GF-ADMIN-NO-STEPS**: whoever holds the admin role takes no step on a grant, whatever other
  roles they hold. Administrators give roles; an administrator who could also approve or pay
  could give herself the role she needs and use it. An administrator who is also to work on
  grants needs a second name without the admin role.
* **GF-SOD-PAYMENT**: whoever decided a grant does not pay it out, and whoever paid it out does
  not decide it again (Trennung von Anordnung und Zahlung, after § 77 BHO / LHO: who gives
  orders for payments, or takes responsible part in them, may not take part in payments).
  "Decided" is the grant notice (``approve``) and every amendment notice (``amend``,
  ``extend``): each fixes what may be paid and until when. "Paid" is a ``disburse``.
  A ``close`` or ``revoke`` ends the payments, so nothing is paid after it; repayments
  (``repay``) are booked against a refund claim and not judged here.

The grant knows who did what from its records (:attr:`Grant.approved_by`,
:attr:`AmendmentNotice.signed_by`, :attr:`Disbursement.paid_by`); a snapshot stored before
grantflow kept those names has ``None`` there, and the rule says so when it passes.

The rules are registered in :data:`grantflow.domain.rules.CORE_RULES`.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from grantflow.domain.model import Event, Grant, Role
from grantflow.domain.money import ZERO
from grantflow.domain.rules import ALL_EVENTS, Outcome, Rule, RuleContext, eur, fail, ok

ADMIN_CITATION = (
    "grantflow core rule (docs/explanation/rules.md); Funktionstrennung: Rechteverwaltung "
    "nicht zugleich Sachbearbeitung (BSI IT-Grundschutz ORP.1.A4, M 2.5)"
)
PAYMENT_CITATION = (
    "grantflow core rule (docs/explanation/rules.md); Trennung von Anordnung und Zahlung "
    "(§ 77 Satz 1 BHO, § 77 LHO NRW: Kassensicherheit)"
)


@attrs.frozen(kw_only=True)
class AdminNoStepsRule(Rule):
    """Whoever holds the admin role takes no step on a grant (GF-ADMIN-NO-STEPS)."""

    kind = "admin-no-steps"
    default_events: ClassVar[frozenset[Event]] = ALL_EVENTS

    def check(self, ctx: RuleContext) -> Outcome:
        actor = ctx.actor
        if not actor.has(Role.ADMIN):
            return ok(f"{actor.name} does not hold the admin role")
        others = sorted(r.value for r in actor.roles - {Role.ADMIN})
        also = f" (besides {', '.join(others)})" if others else ""
        return fail(
            f"{actor.name} holds the admin role{also} and so may not {ctx.event} grant "
            f"{ctx.grant.id}: administrators give roles and take no step on grants"
        )


def _decisions(grant: Grant) -> list[tuple[str | None, str]]:
    """(who, which notice) for the grant notice and every amendment notice of ``grant``."""
    out: list[tuple[str | None, str]] = []
    if grant.notice is not None:
        out.append(
            (
                grant.approved_by,
                f"the grant notice {grant.notice.number} of {grant.notice.date.isoformat()}",
            )
        )
    out.extend(
        (a.signed_by, f"the {a.event} notice {a.number} of {a.date.isoformat()}")
        for a in grant.amendments
    )
    return out


@attrs.frozen(kw_only=True)
class PaymentSeparationRule(Rule):
    """Who decided a grant does not pay it; who paid it does not decide it (GF-SOD-PAYMENT)."""

    kind = "sod-payment"
    default_events: ClassVar[frozenset[Event]] = frozenset(
        {Event.DISBURSE, Event.AMEND, Event.EXTEND}
    )

    def check(self, ctx: RuleContext) -> Outcome | None:
        if ctx.event is Event.DISBURSE:
            return self._payment(ctx)
        if ctx.event in (Event.AMEND, Event.EXTEND):
            return self._decision(ctx)
        return None

    @staticmethod
    def _payment(ctx: RuleContext) -> Outcome:
        name, g = ctx.actor.name, ctx.grant
        decisions = _decisions(g)
        own = [what for who, what in decisions if who == name]
        if own:
            return fail(
                f"{name} decided grant {g.id} ({' and '.join(own)}) and so may not pay it out: "
                f"who decides a grant does not pay it"
            )
        known = sorted({who for who, _ in decisions if who is not None})
        unnamed = sum(1 for who, _ in decisions if who is None)
        if unnamed:
            return ok(
                f"{name} is named on no notice of grant {g.id}; {unnamed} of its "
                f"{len(decisions)} notices were stored before grantflow kept who decided them"
            )
        by = f" (decided by {', '.join(known)})" if known else ""
        return ok(f"{name} decided no notice of grant {g.id}{by}")

    @staticmethod
    def _decision(ctx: RuleContext) -> Outcome:
        name, g = ctx.actor.name, ctx.grant
        own = [d for d in g.disbursements if d.paid_by == name]
        if own:
            paid = sum((d.amount for d in own), ZERO)
            dates = ", ".join(d.date.isoformat() for d in own)
            return fail(
                f"{name} paid out {eur(paid)} on grant {g.id} ({dates}) and so may not sign "
                f"its {ctx.event} notice: who pays a grant does not decide it"
            )
        unnamed = sum(1 for d in g.disbursements if d.paid_by is None)
        if unnamed:
            return ok(
                f"{name} is named on no payment of grant {g.id}; {unnamed} of its "
                f"{len(g.disbursements)} payments were stored before grantflow kept who made them"
            )
        return ok(f"{name} made no payment on grant {g.id}")
