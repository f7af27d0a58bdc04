"""A grant's money on a date: approved, paid, used, claimed back, repaid, still owed, and the
interest on it, with every figure an official needs to check it by hand.

:func:`money_statement` puts together what :mod:`grantflow.domain.refunds` computes, under the
interest terms of the grant's guideline version (``[versions.interest]``,
:class:`~grantflow.domain.guideline.InterestTerms`):

* the refund claim (R-REFUND) with its tranches, the repayments and what is still owed;
* refund interest (R-REFUND-INTEREST) on what is owed, period by period between repayments,
  each cut at the base-rate changes, up to the statement date (that day bears none: the
  figure is what is owed if the rest is paid that day);
* interest on funds not used within the drawdown window (R-INTERIM-INTEREST), which the
  authority *may* claim. § 49a Abs. 4 VwVfG allows it only where the notice is not revoked
  with effect for the past, so a grant revoked for the past has none (its refund bears refund
  interest instead). Money that became a refund claim counts as no longer awaiting use from
  the day refund interest starts on it (the claim's date, or its payout where refund interest
  counts from the payouts), so no day bears both; a closed grant's remaining money and a grant
  revoked for the future count up to the closing or the revocation's effective date.

The worked examples are in ``docs/explanation/money.md`` and ``tests/domain/test_repayments.py``.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pendulum

from grantflow.domain.guideline import InterestStart, InterestTerms, ProgramVersion
from grantflow.domain.interest import BaseRateTable
from grantflow.domain.model import Grant, Repayment, RevocationEffect, State
from grantflow.domain.money import ZERO, format_eur
from grantflow.domain.refunds import (
    InterimInterest,
    RefundClaim,
    RefundInterest,
    Use,
    interim_interest,
    refund_claim,
    refund_interest,
)
from grantflow.errors import BadInput


@attrs.frozen(kw_only=True)
class MoneyStatement:
    """The money of one grant at the end of ``as_of`` (see :func:`money_statement`)."""

    grant_id: str
    program_id: str
    guideline_version: str
    state: State
    as_of: pendulum.Date
    approved: Decimal
    disbursed: Decimal
    used: Decimal
    committed: Decimal
    final_amount: Decimal | None
    revoked_on: pendulum.Date | None
    revocation_effect: RevocationEffect | None
    claim: RefundClaim
    repayments: tuple[Repayment, ...]
    refund_interest: RefundInterest
    interim_interest: InterimInterest | None
    """``None`` where § 49a Abs. 4 VwVfG does not apply (revoked for the past)."""
    interim_until: pendulum.Date | None
    """The day up to which money not used counts as awaiting use (``None`` with no interim
    interest)."""
    terms: InterestTerms

    @property
    def repaid(self) -> Decimal:
        return sum((r.amount for r in self.repayments), ZERO)

    @property
    def outstanding(self) -> Decimal:
        """What is still owed of the refund claim (before interest)."""
        return max(ZERO, self.claim.amount - self.repaid)

    @property
    def unused(self) -> Decimal:
        """Money paid and not (yet) reported as used."""
        return max(ZERO, self.disbursed - self.used)

    @property
    def interim_total(self) -> Decimal:
        return self.interim_interest.total if self.interim_interest is not None else ZERO

    @property
    def verified(self) -> bool:
        """False if any interest slice uses a base rate the table marks as not verified."""
        interim_ok = self.interim_interest is None or self.interim_interest.verified
        return self.refund_interest.verified and interim_ok

    def explain(self) -> list[str]:
        """The statement as lines of text, every interest slice with its arithmetic."""
        t = self.terms
        out = [
            f"grant {self.grant_id} ({self.state}) as of {self.as_of.isoformat()}, guideline "
            f"{self.program_id} version {self.guideline_version}",
            f"approved {format_eur(self.approved)}; paid {format_eur(self.disbursed)}; used "
            f"{format_eur(self.used)}; binds {format_eur(self.committed)}",
            f"refund claim {format_eur(self.claim.amount)} ({self.claim.basis})",
        ]
        out += [
            f"  {format_eur(tr.amount)} from {tr.effective_from.isoformat()} ({tr.event}, "
            f"record {tr.seq})"
            for tr in self.claim.tranches
        ]
        out.append(f"repaid {format_eur(self.repaid)}")
        out += [f"  {r.date.isoformat()}: {format_eur(r.amount)}" for r in self.repayments]
        out.append(f"still owed {format_eur(self.outstanding)}")
        out.append(
            f"refund interest ({t.refund.rule_id}: {t.refund.margin} percentage points above "
            f"the base rate {t.refund.starts.text}, {t.day_count}):"
        )
        out += ["  " + line for line in self.refund_interest.explain()]
        if self.interim_interest is None:
            out.append(
                f"no interim interest ({t.interim.rule_id}): the notice was revoked with effect "
                f"for the past (§ 49a Abs. 4 VwVfG)"
            )
        else:
            out.append(
                f"interim interest ({t.interim.rule_id}: money not used within "
                f"{t.interim.window_months} months of payout, {t.interim.margin} percentage "
                f"points above the base rate {t.interim.starts.text}; the authority may claim "
                f"it):"
            )
            out += ["  " + line for line in self.interim_interest.explain()]
        return out


def money_statement(
    grant: Grant, version: ProgramVersion, as_of: pendulum.Date, table: BaseRateTable
) -> MoneyStatement:
    """The money of ``grant`` as it stood at the end of ``as_of``, with interest up to that day.

    Pass the grant as of that day (``lifecycle.replay_as_of``; :meth:`Grantflow.money
    <grantflow.services.Grantflow.money>` does) and the guideline version the grant is governed
    by (the one in force on its notice's date); ``table`` is the base-rate table
    (``grantflow.rates.load_base_rates()``). Raises BadInput for a grant with steps after
    ``as_of`` and for interest on days the base-rate table does not cover.
    """
    if grant.last_business_date > as_of:
        raise BadInput(
            f"grant {grant.id} has steps after {as_of.isoformat()} (the last on "
            f"{grant.last_business_date.isoformat()}); a statement as of that day needs the "
            f"grant as it stood then"
        )
    terms = version.interest
    claim = refund_claim(grant)
    refund = RefundInterest(amount=ZERO, until=as_of, lines=())
    if claim.amount > 0:
        starts = terms.refund.starts
        refund = refund_interest(
            claim,
            None,
            as_of,
            table,
            margin=terms.refund.margin,
            start_offset_days=starts.offset_days,
            from_payouts=starts is not InterestStart.EFFECTIVE_DATE,
            day_count=terms.day_count,
            repayments=grant.repayments,
        )
    refund = attrs.evolve(refund, rule_id=terms.refund.rule_id)
    interim: InterimInterest | None = None
    until: pendulum.Date | None = None
    revoked_for_the_past = (
        grant.state is State.REVOKED and grant.revocation_effect is not RevocationEffect.FUTURE
    )
    if not revoked_for_the_past:
        until = as_of
        if grant.state is State.CLOSED and grant.closed_on is not None:
            until = min(until, grant.closed_on)
        if grant.state is State.REVOKED and grant.revoked_on is not None:
            until = min(until, grant.revoked_on)
        uses = [Use(u.date, u.amount) for u in grant.uses]
        if terms.refund.starts is InterestStart.EFFECTIVE_DATE:
            uses += [Use(t.effective_from, t.amount, "claimed back") for t in claim.tranches]
        else:  # refund interest runs from the payouts: that money never awaited use
            uses += [Use(p.paid_on, p.amount, "claimed back") for p in claim.parts]
        interim = interim_interest(
            grant.disbursements,
            uses,
            until,
            table,
            window_months=terms.interim.window_months,
            margin=terms.interim.margin,
            start_offset_days=terms.interim.starts.offset_days,
            day_count=terms.day_count,
        )
        interim = attrs.evolve(interim, rule_id=terms.interim.rule_id)
    return MoneyStatement(
        grant_id=grant.id,
        program_id=grant.program_id,
        guideline_version=version.version,
        state=grant.state,
        as_of=as_of,
        approved=grant.approved_amount,
        disbursed=grant.disbursed_amount,
        used=grant.used_amount,
        committed=grant.committed_amount,
        final_amount=grant.settlement.final_amount if grant.settlement else None,
        revoked_on=grant.revoked_on,
        revocation_effect=grant.revocation_effect,
        claim=claim,
        repayments=grant.repayments,
        refund_interest=refund,
        interim_interest=interim,
        interim_until=until,
        terms=terms,
    )


__all__ = ["MoneyStatement", "money_statement"]
