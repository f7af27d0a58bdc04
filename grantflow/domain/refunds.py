"""Refund claims and the interest on them; interest on funds not used within the drawdown window.

Pure functions over plain inputs (a grant, lists of dated amounts, a base-rate table), so that
the services can call them with whatever they have stored:

* :func:`refund_claim` -- R-REFUND (§ 49a Abs. 1 VwVfG): what was paid that the grant no longer
  covers, and which payments that money came from.
* :func:`refund_interest` -- R-REFUND-INTEREST (§ 49a Abs. 3 VwVfG): 5 percentage points above
  the base rate per year, from the day the notice became ineffective (or, as the MPSC terms
  say, from the day after each payout) on what is still owed, until each repayment.
* :func:`claim_tranches` / :func:`next_tranches` -- the parts of a refund claim by the step
  that created them (a lowering amendment, a close, a revocation), each with its own date;
  :func:`owed_tranches` -- what is still owed of each on a date, after the repayments.
* :func:`match_uses` and :func:`interim_interest` -- R-INTERIM-INTEREST (§ 49a Abs. 4 VwVfG):
  money not used within the drawdown window (R-DRAWDOWN-2M, two months in NRW) bears interest
  from payout to use. Spending reports are matched to payouts first in, first out.

Interest itself is computed by :func:`grantflow.domain.interest.interest`; its conventions
(days ``start <= d < end``, act/365, cents half-up per slice) hold here too. The worked examples
are in ``docs/explanation/money.md`` and ``tests/domain/test_refunds.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs
import pendulum

from grantflow.domain.dates import add_months
from grantflow.domain.interest import (
    STATUTORY_MARGIN,
    BaseRateTable,
    DayCount,
    InterestResult,
    interest,
)
from grantflow.domain.model import (
    ClaimTranche,
    Disbursement,
    Event,
    Grant,
    Repayment,
    RevocationEffect,
    State,
)
from grantflow.domain.money import ZERO, format_eur, money
from grantflow.errors import BadInput

DRAWDOWN_WINDOW_MONTHS = 2
"""R-DRAWDOWN-2M in NRW (VV zu § 44 LHO Nr. 7.2; ANBest-P/-G Nr. 1.4): used within two months."""


# --------------------------------------------------------------------------------------------
# Inputs: payouts and spending reports as plain dated amounts
# --------------------------------------------------------------------------------------------


def _positive(_inst: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value <= 0:
        raise BadInput(f"{attribute.name} must be more than zero (got {value})")


@attrs.frozen
class Use:
    """A spending report: ``amount`` of *grant money* used for the purpose on ``date``.

    Under share financing (Anteilfinanzierung) report the grant's share of the expenditure:
    the grant is used in proportion to the other funds (R-DRAWDOWN-PRORATA). ``what`` says
    how the money left the grantee's hands in explanations: ``"used"`` (a spending report) or,
    for money that became a refund claim, ``"claimed back"``.
    """

    date: pendulum.Date
    amount: Decimal = attrs.field(converter=money, validator=_positive)
    what: str = "used"


@attrs.frozen
class Payout:
    """A payment to the grantee (a :class:`~grantflow.domain.model.Disbursement`, or a pair)."""

    seq: int
    date: pendulum.Date
    amount: Decimal = attrs.field(converter=money, validator=_positive)


UseLike = Use | tuple[pendulum.Date, Decimal]
PayoutLike = Disbursement | Payout | tuple[pendulum.Date, Decimal]


def as_uses(uses: Iterable[UseLike]) -> list[Use]:
    """Spending reports as :class:`Use`, oldest first (stable for equal dates)."""
    out = [u if isinstance(u, Use) else Use(u[0], u[1]) for u in uses]
    return sorted(out, key=lambda u: u.date)


def as_payouts(payouts: Iterable[PayoutLike]) -> list[Payout]:
    """Payouts as :class:`Payout`, oldest first; pairs are numbered 1, 2, ... in given order."""
    out: list[Payout] = []
    for i, p in enumerate(payouts, start=1):
        if isinstance(p, Payout):
            out.append(p)
        elif isinstance(p, Disbursement):
            out.append(Payout(p.seq, p.date, p.amount))
        else:
            out.append(Payout(i, p[0], p[1]))
    return sorted(out, key=lambda p: (p.date, p.seq))


# --------------------------------------------------------------------------------------------
# FIFO matching of spending reports to payouts
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UsedPiece:
    """Part of a payout used on ``used_on`` (from the report of ``reported_on``).

    ``used_on`` is the report's date, or the payout's date when the money was spent before it
    arrived (pre-financed expenditure is refunded on arrival, so the payout is used at once).
    """

    used_on: pendulum.Date
    amount: Decimal
    reported_on: pendulum.Date
    what: str = "used"


@attrs.frozen(kw_only=True)
class PayoutUse:
    """One payout and how it was used: ``use_by`` is the end of the drawdown window."""

    seq: int
    paid_on: pendulum.Date
    amount: Decimal
    use_by: pendulum.Date
    pieces: tuple[UsedPiece, ...] = ()

    @property
    def used(self) -> Decimal:
        return sum((p.amount for p in self.pieces), ZERO)

    @property
    def unused(self) -> Decimal:
        return self.amount - self.used

    @property
    def late_pieces(self) -> tuple[UsedPiece, ...]:
        """Pieces used after the window (``used_on > use_by``)."""
        return tuple(p for p in self.pieces if p.used_on > self.use_by)


@attrs.frozen(kw_only=True)
class UseMatch:
    """The result of :func:`match_uses`: every payout, and reported use beyond all payouts."""

    payouts: tuple[PayoutUse, ...]
    beyond_payouts: Decimal = ZERO


def match_uses(
    payouts: Iterable[PayoutLike],
    uses: Iterable[UseLike],
    *,
    window_months: int = DRAWDOWN_WINDOW_MONTHS,
    as_of: pendulum.Date | None = None,
) -> UseMatch:
    """Match spending reports to payouts, first in, first out.

    Reports are taken oldest first; each consumes the oldest payout that still has money left.
    Reports dated after ``as_of`` are ignored. Reported use beyond everything paid (own or
    third-party funds) is returned as ``beyond_payouts``. A payout is used in time if its money
    is used by ``use_by`` = payout date + ``window_months`` calendar months (R-DRAWDOWN-2M).
    """
    if window_months < 0:
        raise BadInput(f"the drawdown window must not be negative (got {window_months} months)")
    ps = as_payouts(payouts)
    left = [p.amount for p in ps]
    pieces: list[list[UsedPiece]] = [[] for _ in ps]
    beyond = ZERO
    i = 0
    for u in as_uses(uses):
        if as_of is not None and u.date > as_of:
            continue
        rest = u.amount
        while rest > 0 and i < len(ps):
            if left[i] == 0:
                i += 1
                continue
            take = min(rest, left[i])
            pieces[i].append(
                UsedPiece(
                    used_on=max(u.date, ps[i].date), amount=take, reported_on=u.date, what=u.what
                )
            )
            left[i] -= take
            rest -= take
        beyond += rest
    return UseMatch(
        payouts=tuple(
            PayoutUse(
                seq=p.seq,
                paid_on=p.date,
                amount=p.amount,
                use_by=add_months(p.date, window_months),
                pieces=tuple(pieces[k]),
            )
            for k, p in enumerate(ps)
        ),
        beyond_payouts=beyond,
    )


# --------------------------------------------------------------------------------------------
# Interim interest (R-INTERIM-INTEREST, § 49a Abs. 4 VwVfG)
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InterimLine:
    """Interest on ``amount`` of payout ``seq``: used late on ``used_on``, or (``None``) not
    used by the statement date, in which case the interest runs on."""

    seq: int
    paid_on: pendulum.Date
    use_by: pendulum.Date
    amount: Decimal
    used_on: pendulum.Date | None
    interest: InterestResult
    what: str = "used"

    def explain(self) -> list[str]:
        what = (
            f"{self.what} {self.used_on.isoformat()}"
            if self.used_on
            else f"not used as of {self.interest.end.isoformat()}"
        )
        head = (
            f"payout {self.seq} of {self.paid_on.isoformat()}: {format_eur(self.amount)} {what}, "
            f"after the window ended {self.use_by.isoformat()}"
        )
        return [head, *("  " + line for line in self.interest.explain())]


@attrs.frozen(kw_only=True)
class InterimInterest:
    """Interest on funds not used within the drawdown window, as of ``as_of``.

    The authority *may* claim it (§ 49a Abs. 4 VwVfG: "können"); grantflow proposes the
    figure, the decision and any waiver are the official's.
    """

    as_of: pendulum.Date
    window_months: int
    lines: tuple[InterimLine, ...]
    rule_id: str = "R-INTERIM-INTEREST"

    @property
    def total(self) -> Decimal:
        return sum((line.interest.total for line in self.lines), ZERO)

    @property
    def verified(self) -> bool:
        return all(line.interest.verified for line in self.lines)

    def explain(self) -> list[str]:
        out = [line for ln in self.lines for line in ln.explain()]
        out.append(f"interim interest as of {self.as_of.isoformat()}: {format_eur(self.total)}")
        return out


def interim_interest(
    payouts: Iterable[PayoutLike],
    uses: Iterable[UseLike],
    as_of: pendulum.Date,
    table: BaseRateTable,
    *,
    window_months: int = DRAWDOWN_WINDOW_MONTHS,
    margin: Decimal = STATUTORY_MARGIN,
    start_offset_days: int = 0,
    day_count: DayCount = DayCount.ACT_365,
) -> InterimInterest:
    """Interest on money not used within ``window_months`` of its payout (R-INTERIM-INTEREST).

    Spending reports are matched to payouts first in, first out (:func:`match_uses`). Money
    used within the window bears no interest. Money used later bears interest for the whole
    time from payout to use ("für die Zeit bis zur zweckentsprechenden Verwendung", § 49a
    Abs. 4 VwVfG): days ``payout + start_offset_days <= d < use``. Money still unused on
    ``as_of`` after its window bears interest up to ``as_of`` (as if used that day). Pass
    ``start_offset_days=1`` where the terms count from the day after payout.
    """
    if start_offset_days < 0:
        raise BadInput(f"the start offset must not be negative (got {start_offset_days} days)")
    matched = match_uses(payouts, uses, window_months=window_months, as_of=as_of)
    lines: list[InterimLine] = []
    for p in matched.payouts:
        start = p.paid_on.add(days=start_offset_days)
        spans: list[tuple[Decimal, pendulum.Date | None, pendulum.Date, str]] = [
            (piece.amount, piece.used_on, piece.used_on, piece.what) for piece in p.late_pieces
        ]
        if p.unused > 0 and as_of > p.use_by:
            spans.append((p.unused, None, as_of, "used"))
        for amount, used_on, end, what in spans:
            lines.append(
                InterimLine(
                    seq=p.seq,
                    paid_on=p.paid_on,
                    use_by=p.use_by,
                    amount=amount,
                    used_on=used_on,
                    interest=interest(
                        amount, min(start, end), end, table, margin, day_count=day_count
                    ),
                    what=what,
                )
            )
    return InterimInterest(as_of=as_of, window_months=window_months, lines=tuple(lines))


# --------------------------------------------------------------------------------------------
# Refund claim (R-REFUND, § 49a Abs. 1 VwVfG) and refund interest (R-REFUND-INTEREST)
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ClaimPart:
    """The part of payout ``seq`` (paid ``paid_on``) that the claim asks back."""

    seq: int
    paid_on: pendulum.Date
    amount: Decimal


@attrs.frozen(kw_only=True)
class RefundClaim:
    """What the grantee owes back: ``paid`` less what the grant still ``covers``.

    ``parts`` says which payments the claim is made of: the latest payments first (the money
    the grant still covers is the money paid first). ``tranches`` says which steps made the
    claim, each with the day from which its part bears interest (the day the notice became
    ineffective to that extent, § 49a Abs. 3 VwVfG); ``effective_from`` is the earliest of
    them (``None`` without a claim). ``amount`` is the claim before any repayment.
    """

    grant_id: str
    amount: Decimal
    paid: Decimal
    covers: Decimal
    effective_from: pendulum.Date | None
    basis: str
    parts: tuple[ClaimPart, ...] = ()
    tranches: tuple[ClaimTranche, ...] = ()
    rule_id: str = "R-REFUND"

    def explain(self) -> str:
        return (
            f"{self.basis}: paid {format_eur(self.paid)}, the grant covers "
            f"{format_eur(self.covers)}, refund {format_eur(self.amount)} ({self.rule_id}, "
            f"§ 49a Abs. 1 VwVfG)"
        )


def _lifo_parts(disbursements: Sequence[Disbursement], amount: Decimal) -> tuple[ClaimPart, ...]:
    parts: list[ClaimPart] = []
    rest = amount
    for d in sorted(disbursements, key=lambda d: (d.date, d.seq), reverse=True):
        if rest <= 0:
            break
        take = min(rest, d.amount)
        parts.append(ClaimPart(seq=d.seq, paid_on=d.date, amount=take))
        rest -= take
    return tuple(reversed(parts))


@attrs.frozen
class _Basis:
    text: str
    covers: Decimal
    day: pendulum.Date | None
    event: Event


def _basis(grant: Grant) -> _Basis:
    """Why the grant covers what it covers, and the day the latest claim-making step dates."""
    if grant.settlement is not None:
        covers = grant.settlement.final_amount
        if grant.state is State.REVOKED:
            text = (
                "the notice was revoked for the future (§ 49 Abs. 2 VwVfG): it covers what "
                "was paid before"
                if grant.revocation_effect is RevocationEffect.FUTURE
                else "the notice was revoked"
            )
            return _Basis(text, covers, grant.revoked_on, Event.REVOKE)
        return _Basis(
            "final amount after the proof of use (R-COST-REDUCTION)",
            covers,
            grant.closed_on,
            Event.CLOSE,
        )
    basis = _Basis("approved amount", grant.approved_amount, None, Event.AMEND)
    before = grant.notice.amount if grant.notice else ZERO
    for a in grant.amendments:  # the latest amendment that lowered the amount
        if a.amount < before:
            basis = _Basis(
                f"amount lowered by amendment {a.number}", grant.approved_amount, a.date, a.event
            )
        before = a.amount
    return basis


def claim_tranches(grant: Grant) -> tuple[ClaimTranche, ...]:
    """The tranches of ``grant``'s refund claim, adding up to :attr:`Grant.refund_claim`.

    The lifecycle keeps them (:func:`next_tranches`). A grant stored before grantflow kept
    tranches gets one tranche for its whole claim, dated as :func:`refund_claim` always dated
    it (the revocation's effective date, the closing date, or the lowering amendment's date).
    """
    claim = grant.refund_claim
    kept = grant.claim_tranches
    if sum((t.amount for t in kept), ZERO) == claim:
        return kept
    if claim <= 0:
        return ()
    basis = _basis(grant)
    return (
        ClaimTranche(
            seq=grant.version,
            event=basis.event,
            effective_from=basis.day or grant.last_business_date,
            amount=claim,
        ),
    )


def next_tranches(
    before: Grant,
    after: Grant,
    *,
    seq: int,
    event: Event,
    effective_from: pendulum.Date,
    arose_on: pendulum.Date,
) -> tuple[ClaimTranche, ...]:
    """The claim tranches after a step (record ``seq`` of ``arose_on``) that took ``before`` to
    ``after``.

    A claim that grows gets a new tranche for the difference, arisen on ``arose_on`` and
    bearing interest from ``effective_from``; a claim that shrinks (an amendment raising the
    amount again) loses its newest tranches first.
    """
    tranches = list(claim_tranches(before))
    change = after.refund_claim - before.refund_claim
    if change > 0:
        tranches.append(
            ClaimTranche(
                seq=seq,
                event=event,
                effective_from=effective_from,
                amount=change,
                arose_on=arose_on,
            )
        )
    while change < 0 and tranches:
        last = tranches.pop()
        if last.amount > -change:
            tranches.append(attrs.evolve(last, amount=last.amount + change))
            change = ZERO
        else:
            change += last.amount
    return tuple(tranches)


@attrs.frozen(kw_only=True)
class OwedTranche:
    """What is still ``owed`` of one tranche of a refund claim, due since ``tranche.due``."""

    tranche: ClaimTranche
    owed: Decimal


def owed_tranches(grant: Grant, as_of: pendulum.Date | None = None) -> tuple[OwedTranche, ...]:
    """What is still owed of each tranche of ``grant``'s refund claim (R-REFUND) at the end of
    ``as_of`` (default: after every step), oldest tranche first; tranches paid back in full are
    left out. Without tranches or repayments dated after ``as_of`` the amounts add up to
    :attr:`Grant.refund_outstanding`.

    Only tranches that arose by ``as_of`` and repayments made by ``as_of`` count. Repayments
    are credited to the oldest tranche first: it has been due the longest (the order of
    § 366 Abs. 2 BGB among debts equally due; whether it applies by analogy was not verified).
    The interest does not depend on this order: every tranche bears the same rate on what is
    owed (:func:`refund_interest`).
    """
    tranches = sorted(claim_tranches(grant), key=lambda t: t.seq)
    repaid = grant.repaid_amount
    if as_of is not None:
        tranches = [t for t in tranches if t.due <= as_of]
        repaid = sum((r.amount for r in grant.repayments if r.date <= as_of), ZERO)
    out: list[OwedTranche] = []
    for t in tranches:
        credited = min(repaid, t.amount)
        repaid -= credited
        if t.amount > credited:
            out.append(OwedTranche(tranche=t, owed=t.amount - credited))
    return tuple(out)


def refund_claim(grant: Grant, effective_from: pendulum.Date | None = None) -> RefundClaim:
    """The refund claim of ``grant`` (R-REFUND): paid money the grant no longer covers.

    * revoked for the past: everything paid, from the revocation's effective date; revoked for
      the future: only a claim that existed before (the grant covers what was paid);
    * closed: paid beyond the final amount (R-COST-REDUCTION), from the closing date;
    * otherwise: paid beyond the approved amount, e.g. after an amendment lowered it (a partial
      revocation), from that amendment's date.

    A claim made in steps has one tranche per step, each with its own date. Pass
    ``effective_from`` to date the whole claim from one day instead (the day the official's
    notice names).
    """
    basis = _basis(grant)
    tranches = claim_tranches(grant)
    if effective_from is not None:
        tranches = tuple(attrs.evolve(t, effective_from=effective_from) for t in tranches)
    amount = grant.refund_claim
    return RefundClaim(
        grant_id=grant.id,
        amount=amount,
        paid=grant.disbursed_amount,
        covers=basis.covers,
        effective_from=min((t.effective_from for t in tranches), default=effective_from),
        basis=basis.text,
        parts=_lifo_parts(grant.disbursements, amount),
        tranches=tranches,
    )


@attrs.frozen(kw_only=True)
class RefundInterest:
    """Interest on a refund claim up to ``until`` (the payment day, which bears no interest).

    ``lines`` are the periods with one amount owed (Staffel): the claim from its first day,
    less each repayment from the day it was paid; each line is cut into slices at every
    change of the base rate. ``repaid`` is what was paid back before ``until``.
    """

    amount: Decimal
    until: pendulum.Date
    lines: tuple[InterestResult, ...]
    repaid: Decimal = ZERO
    rule_id: str = "R-REFUND-INTEREST"

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.lines), ZERO)

    @property
    def verified(self) -> bool:
        return all(r.verified for r in self.lines)

    def explain(self) -> list[str]:
        out = []
        for r in self.lines:
            last = r.end.subtract(days=1)
            out.append(
                f"{format_eur(r.principal)} owed from {r.start.isoformat()} to {last.isoformat()}:"
            )
            out.extend("  " + line for line in r.explain())
        out.append(f"refund interest until {self.until.isoformat()}: {format_eur(self.total)}")
        return out


RepaymentLike = Repayment | tuple[pendulum.Date, Decimal]


def _repayments(repayments: Iterable[RepaymentLike]) -> list[tuple[pendulum.Date, Decimal]]:
    out = []
    for r in repayments:
        day, amount = (r.date, r.amount) if isinstance(r, Repayment) else (r[0], money(r[1]))
        if amount <= 0:
            raise BadInput(f"a repayment must be more than zero (got {amount})")
        out.append((day, amount))
    return out


def _tranche_pieces(claim: RefundClaim, offset: int) -> list[tuple[pendulum.Date, Decimal]]:
    """When each euro of the claim starts to bear interest: its tranche's date, but not before
    the money was paid (money paid after the notice became ineffective is owed from its
    payment). The first tranche is made of the latest payments (as :attr:`RefundClaim.parts`)."""
    parts = list(reversed(claim.parts))
    left = [p.amount for p in parts]
    out: list[tuple[pendulum.Date, Decimal]] = []
    i = 0
    for t in sorted(claim.tranches, key=lambda t: t.seq):
        rest = t.amount
        while rest > 0 and i < len(parts):
            if left[i] == 0:
                i += 1
                continue
            take = min(rest, left[i])
            out.append((max(t.effective_from, parts[i].paid_on).add(days=offset), take))
            left[i] -= take
            rest -= take
        if rest > 0:  # more claimed than paid: cannot happen for a grant's own claim
            out.append((t.effective_from.add(days=offset), rest))
    return out


def _balances(
    pieces: Sequence[tuple[pendulum.Date, Decimal]],
    repayments: Sequence[tuple[pendulum.Date, Decimal]],
    until: pendulum.Date,
) -> list[tuple[pendulum.Date, pendulum.Date, Decimal]]:
    """The periods ``lo <= d < hi`` before ``until`` with one amount owed (more than zero).

    On day ``d`` the amount owed is every piece that started by ``d`` less every repayment
    paid by ``d`` (the repayment day bears no interest); a repayment before a piece starts is
    credited against it when it does.
    """
    days = sorted({d for d, _ in pieces} | {d for d, _ in repayments})
    days = [d for d in days if d < until]
    out: list[tuple[pendulum.Date, pendulum.Date, Decimal]] = []
    for i, lo in enumerate(days):
        hi = days[i + 1] if i + 1 < len(days) else until
        started = sum((a for d, a in pieces if d <= lo), ZERO)
        repaid = sum((a for d, a in repayments if d <= lo), ZERO)
        owed = max(ZERO, started - repaid)
        if owed <= 0:
            continue
        if out and out[-1][2] == owed and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi, owed)
        else:
            out.append((lo, hi, owed))
    return out


def refund_interest(
    claim: RefundClaim | Decimal,
    effective_from: pendulum.Date | None,
    until: pendulum.Date,
    table: BaseRateTable,
    *,
    margin: Decimal = STATUTORY_MARGIN,
    start_offset_days: int = 0,
    from_payouts: bool = False,
    day_count: DayCount = DayCount.ACT_365,
    repayments: Iterable[RepaymentLike] = (),
) -> RefundInterest:
    """Interest on a refund claim (R-REFUND-INTEREST, § 49a Abs. 3 VwVfG).

    The claim bears ``margin`` percentage points above the base rate per year for the days
    ``start <= d < until`` on what is still owed: from the day the notice became ineffective
    ("vom Eintritt der Unwirksamkeit an") until the day the money is paid back (or the
    statement date). ``repayments`` (dated amounts, e.g. :attr:`Grant.repayments`) reduce what
    is owed from the day each was paid; that day bears no interest on the amount repaid.

    Where the interest starts, with ``start_offset_days`` added:

    * ``effective_from`` given: the whole claim from that day;
    * ``effective_from=None`` and a :class:`RefundClaim`: each tranche from its own date (not
      before the money was paid);
    * ``from_payouts=True``: each part of the claim from its own payout instead (MPSC:
      "ab dem Tag nach der Auszahlung": use it with ``start_offset_days=1``); it needs a
      :class:`RefundClaim` with its parts.
    """
    if start_offset_days < 0:
        raise BadInput(f"the start offset must not be negative (got {start_offset_days} days)")
    repaid = _repayments(repayments)
    if from_payouts:
        if not isinstance(claim, RefundClaim):
            raise BadInput("interest from each payout needs the refund claim with its payments")
        amount = claim.amount
        pieces = [(p.paid_on.add(days=start_offset_days), p.amount) for p in claim.parts]
    elif isinstance(claim, RefundClaim) and effective_from is None and claim.tranches:
        amount = claim.amount
        pieces = _tranche_pieces(claim, start_offset_days)
    else:
        amount = claim.amount if isinstance(claim, RefundClaim) else money(claim)
        start = effective_from
        if start is None and isinstance(claim, RefundClaim):
            start = claim.effective_from
        if start is None:
            raise BadInput(
                "refund interest needs the day the notice became ineffective (effective_from)"
            )
        pieces = [(start.add(days=start_offset_days), amount)]
    lines = tuple(
        interest(owed, lo, hi, table, margin, day_count=day_count)
        for lo, hi, owed in _balances(pieces, repaid, until)
    )
    return RefundInterest(
        amount=amount,
        until=until,
        lines=lines,
        repaid=sum((a for d, a in repaid if d < until), ZERO),
    )
