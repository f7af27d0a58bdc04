"""What a grant owes, and by when: the dated duties of a grant.

:func:`duties` lists, for a grant on a business date ``as_of``:

* ``proof-of-use`` -- the Verwendungsnachweis by the deadline of R-PROOF-6M (end of the n-th
  month after the funding period, or the MPSC phase's months after the notice; the same
  computation as the rule, :func:`grantflow.domain.rules.proof_due`);
* ``interim-proof`` -- for a grant whose funding period runs over more than one budget year:
  a Zwischennachweis by 30 April for every year the period runs through before it ends
  (R-INTERIM-PROOF, ANBest-P Nr. 6.1: "binnen vier Monaten nach Ablauf des Haushaltsjahres");
* ``period-end`` -- the end of the funding period, while it lies ahead (expenditure after it is
  not eligible; an extension is applied for before it, R-EXTENSION);
* ``unused-funds`` -- money paid out and not reported as used, due within the drawdown window
  (R-DRAWDOWN-2M; afterwards it may bear interest, R-INTERIM-INTEREST);
* ``refund`` -- money the grantee still owes back (R-REFUND): one duty per tranche of the
  refund claim (:attr:`~grantflow.domain.model.Grant.claim_tranches`) not yet repaid, due on
  the day it arose (in NRW the claim is due when it arises, VV Nr. 8.5 zu § 44 LHO; grantflow
  knows no payment period), with the amount still owed after the ``repay`` records
  (:func:`grantflow.domain.refunds.owed_tranches`). It bears interest until repaid
  (R-REFUND-INTEREST), which ``grantflow money`` computes.

A duty is *overdue* when ``as_of`` is after its due date (the due date itself is in time).
Fulfilled duties are not listed. Only approved, running and extended grants owe proofs and
have a period end and unused funds: a closed grant has delivered its proof and been settled,
and proposed, rejected, withdrawn and revoked grants owe no proofs. A refund is owed in any
state that has a claim: a grant whose amount an amendment lowered below what was paid, a
closed grant settled below it, a revoked grant.

Spending reports, interim proofs and the received proof of use come from the grant's own
``submit`` records; a caller may pass other figures instead (see ``docs/explanation/money.md``).
Tranches that arose and repayments made after ``as_of`` are not yet known on ``as_of``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TypeVar

import attrs
import pendulum

from grantflow.domain.dates import add_months, end_of_month
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import Grant, State
from grantflow.domain.money import ZERO, format_eur
from grantflow.domain.refunds import UseLike, match_uses, owed_tranches
from grantflow.domain.rules import DrawdownWindowRule, ExtensionRule, ProofDeadlineRule, proof_due

PROOF_MONTHS = 6
"""R-PROOF-6M when the guideline declares no proof-deadline rule (ANBest-P Nr. 6.1)."""

INTERIM_PROOF_MONTHS = 4
"""R-INTERIM-PROOF: four months after the end of the budget year, i.e. 30 April."""

_R = TypeVar("_R")


class DutyKind(enum.StrEnum):
    PROOF_OF_USE = "proof-of-use"
    INTERIM_PROOF = "interim-proof"
    PERIOD_END = "period-end"
    UNUSED_FUNDS = "unused-funds"
    REFUND = "refund"


@attrs.frozen(kw_only=True)
class Duty:
    """One dated duty of a grant, with the rule it comes from and a sentence with the numbers."""

    kind: DutyKind
    due: pendulum.Date
    rule_id: str
    description: str
    overdue: bool
    days_overdue: int = 0
    amount: Decimal | None = None
    year: int | None = None


def _late(as_of: pendulum.Date, due: pendulum.Date) -> tuple[bool, int, str]:
    n = as_of.toordinal() - due.toordinal()  # days between, as (as_of - due).in_days()
    if n > 0:
        return True, n, f"; {n} day{'' if n == 1 else 's'} overdue"
    return False, 0, ""


def _rule(version: ProgramVersion, kind: type[_R]) -> _R | None:
    return next((r for r in version.rules if isinstance(r, kind)), None)


def duties(
    grant: Grant,
    version: ProgramVersion,
    as_of: pendulum.Date,
    *,
    uses: Iterable[UseLike] = (),
    proof_received: pendulum.Date | None = None,
    interim_proofs_received: Mapping[int, pendulum.Date] | None = None,
    refunds: bool = True,
) -> list[Duty]:
    """The open duties of ``grant`` on ``as_of``, earliest due first.

    ``uses`` are the grantee's spending reports (date, grant money used), matched to payouts
    first in, first out; without them every payout counts as unused. ``proof_received`` is the
    day the proof of use arrived (while the grant is not yet closed, the check takes time);
    ``interim_proofs_received`` maps a budget year to the day its interim proof arrived.
    Reports and receipts dated after ``as_of`` are not yet known on ``as_of``. A grant in any
    state has its refund duties (:func:`refund_duties`; left out with ``refunds=False``, for a
    caller that lists refunds another way); only approved, running and extended grants have
    the others.
    """
    owed = refund_duties(grant, as_of) if refunds else []
    if grant.state not in State.with_duties():
        return owed
    # what the grant's own records say (``submit``), unless the caller passes other figures
    uses = list(uses) or [(u.date, u.amount) for u in grant.uses]
    proof_received = proof_received or grant.proof_received_on
    if interim_proofs_received is None:
        interim_proofs_received = dict(grant.interim_proofs)
    received = {y: d for y, d in (interim_proofs_received or {}).items() if d <= as_of}
    out = [
        *owed,
        *_proof_of_use(grant, version, as_of, proof_received),
        *_interim_proofs(grant, as_of, received),
        *_period_end(grant, version, as_of),
        *_unused_funds(grant, version, as_of, uses),
    ]
    return sorted(out, key=lambda d: (d.due, d.kind.value))


def refund_duties(grant: Grant, as_of: pendulum.Date) -> list[Duty]:
    """One ``refund`` duty per tranche of ``grant``'s refund claim still (partly) owed at the
    end of ``as_of``, oldest first (:func:`grantflow.domain.refunds.owed_tranches`)."""
    return [
        refund_duty(grant.id, o.tranche.due, o.owed, as_of) for o in owed_tranches(grant, as_of)
    ]


def refund_duty(grant_id: str, due: pendulum.Date, owed: Decimal, as_of: pendulum.Date) -> Duty:
    """The ``refund`` duty for ``owed`` of a refund claim (or of one of its tranches) that
    arose on ``due`` (R-REFUND: due when it arises). ``grantflow due`` builds it from the
    grants table's refund columns for most grants, so it takes nothing else."""
    overdue, days, late = _late(as_of, due)
    return Duty(
        kind=DutyKind.REFUND,
        due=due,
        rule_id="R-REFUND",
        description=(
            f"{format_eur(owed)} of the refund claim still owed, due since it arose on "
            f"{due.isoformat()} (R-REFUND){late}; it bears interest until repaid "
            f"(R-REFUND-INTEREST): grantflow money {grant_id} shows it"
        ),
        overdue=overdue,
        days_overdue=days,
        amount=owed,
    )


def _proof_of_use(
    grant: Grant, version: ProgramVersion, as_of: pendulum.Date, received: pendulum.Date | None
) -> list[Duty]:
    if received is not None and received <= as_of:
        return []
    rule = _rule(version, ProofDeadlineRule)
    months = rule.months if rule else PROOF_MONTHS
    rule_id = rule.id if rule else "R-PROOF-6M"
    due, why = proof_due(grant, version, months)
    overdue, days, late = _late(as_of, due)
    return [
        Duty(
            kind=DutyKind.PROOF_OF_USE,
            due=due,
            rule_id=rule_id,
            description=(
                f"proof of use (Verwendungsnachweis: Sachbericht and zahlenmäßiger Nachweis) "
                f"due by {due.isoformat()} ({why}){late}"
            ),
            overdue=overdue,
            days_overdue=days,
        )
    ]


def _interim_proofs(
    grant: Grant, as_of: pendulum.Date, received: Mapping[int, pendulum.Date]
) -> list[Duty]:
    period = grant.period
    out: list[Duty] = []
    for year in range(period.start.year, period.end.year):  # years ending inside the period
        if year in received:
            continue
        year_end = pendulum.Date(year, 12, 31)
        got = sum((d.amount for d in grant.disbursements if d.date.year == year), ZERO)
        if year_end < as_of and got == 0:
            continue  # nothing received that year: nothing to account for (ANBest-P Nr. 6.1)
        due = end_of_month(add_months(year_end, INTERIM_PROOF_MONTHS))
        overdue, days, late = _late(as_of, due)
        so_far = "" if year_end < as_of else " so far"
        out.append(
            Duty(
                kind=DutyKind.INTERIM_PROOF,
                due=due,
                rule_id="R-INTERIM-PROOF",
                description=(
                    f"interim proof (Zwischennachweis) for {year} due by {due.isoformat()}, "
                    f"{INTERIM_PROOF_MONTHS} months after the budget year; it covers "
                    f"{format_eur(got)} received in {year}{so_far}{late}"
                ),
                overdue=overdue,
                days_overdue=days,
                amount=got,
                year=year,
            )
        )
    return out


def _period_end(grant: Grant, version: ProgramVersion, as_of: pendulum.Date) -> list[Duty]:
    end = grant.period.end
    if as_of > end:
        return []
    rule = _rule(version, ExtensionRule)
    return [
        Duty(
            kind=DutyKind.PERIOD_END,
            due=end,
            rule_id=rule.id if rule else "R-EXTENSION",
            description=(
                f"the funding period ends {end.isoformat()} "
                f"({(end - as_of).in_days()} days from {as_of.isoformat()}); expenditure after "
                f"it is not eligible, and an extension must be applied for before it ends"
            ),
            overdue=False,
        )
    ]


def _unused_funds(
    grant: Grant, version: ProgramVersion, as_of: pendulum.Date, uses: Iterable[UseLike]
) -> list[Duty]:
    rule = _rule(version, DrawdownWindowRule)
    months = version.interest.interim.window_months  # the rule's months (the loader checks)
    window_id = rule.id if rule else "R-DRAWDOWN-2M"
    paid = [d for d in grant.disbursements if d.date <= as_of]
    matched = match_uses(paid, uses, window_months=months, as_of=as_of)
    out: list[Duty] = []
    for p in matched.payouts:
        if p.unused <= 0:
            continue
        overdue, days, late = _late(as_of, p.use_by)
        consequence = (
            "it may bear interest from payout to use (§ 49a Abs. 4 VwVfG), and the grantee "
            "must tell the authority (R-NOTIFY)"
            if overdue
            else "money not used by then may bear interest from payout to use"
        )
        out.append(
            Duty(
                kind=DutyKind.UNUSED_FUNDS,
                due=p.use_by,
                rule_id="R-INTERIM-INTEREST",
                description=(
                    f"{format_eur(p.unused)} of payout {p.seq} ({format_eur(p.amount)} paid "
                    f"{p.paid_on.isoformat()}) is not reported as used; funds are to be used "
                    f"within {months} months of payout, by {p.use_by.isoformat()} "
                    f"({window_id}){late}; {consequence}"
                ),
                overdue=overdue,
                days_overdue=days,
                amount=p.unused,
            )
        )
    return out
