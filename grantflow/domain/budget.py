"""What one grant contributes to its program's budget figures, and how a step changes that.

The budget report (``grantflow report budget``) and the budget rules' exposure (R-SUBSIDIARITY-
INTEREST, R-PROG-DMR-ENVELOPE, R-PROG-MPSC-CALL-BUDGET: rule kind ``budget``) sum, over a
program's grants, what each grant contributes. :func:`figures` says what that is for one grant,
in ONE place:

======================  ============================================================================
``grants``              1 while the grant is approved, running, extended or closed (it binds or
                        bound budget); 0 before approval and once rejected, withdrawn or revoked
``committed``           what it binds (:attr:`Grant.committed_amount`): the approved amount, after
                        closing the final amount (R-COST-REDUCTION), nothing once revoked
                        (R-REVOKE-LAWFUL, R-REVOKE-UNLAWFUL), rejected or withdrawn
``disbursed``           everything paid out to it (:attr:`Grant.disbursed_amount`), also if the
                        grant was revoked since
``refunds``             the refund claim still outstanding (R-REFUND): money paid beyond what the
                        grant now covers, less what the grantee has paid back
                        (:attr:`Grant.refund_outstanding`)
``private``             its third-party funds, while it counts in ``grants``
``total_volume``        its eligible costs, while it counts in ``grants``
``notices``             1 once its grant notice was issued (R-NOTICE-CONTENT), whatever happened
                        since: the budget year's count of notices
``notice_amount``       the amount of that grant notice (the budget year's approvals)
======================  ============================================================================

A step changes the figures by ``figures(after) - figures(before)`` (:func:`deltas`), keyed by
the program, the step's business date and the grant's region, focus area and call. The store
adds these deltas up per day (table ``budget_days``), so a report as of any day is a sum over
days, not a replay of the log; :func:`day_deltas` computes the same deltas from a grant's
records, to build that table from the log (migration 0004, ``Store.rebuild_budget_days``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

import attrs
import pendulum

from grantflow.domain.lifecycle import apply
from grantflow.domain.model import Grant, State, TransitionRecord
from grantflow.domain.money import ZERO

BOUND: frozenset[State] = State.binding()
"""States in which a grant counts in ``grants``: it binds or bound budget
(:meth:`State.binding`)."""

NONE = ""
"""The key of a grant without a region, focus area or call (SQL keys cannot be NULL)."""


@attrs.frozen
class BudgetKey:
    """Where a grant's figures are counted: its program, region, focus area and call
    (:data:`NONE` where the grant has none)."""

    program_id: str
    region: str
    focus: str
    call: str


def key(grant: Grant) -> BudgetKey:
    """The key ``grant`` counts under."""
    return BudgetKey(
        grant.program_id, grant.region or NONE, grant.focus or NONE, grant.call or NONE
    )


@attrs.frozen
class BudgetFigures:
    """One grant's contribution to the budget figures (see the module docstring), or a sum or
    a difference of such contributions."""

    grants: int = 0
    committed: Decimal = ZERO
    disbursed: Decimal = ZERO
    refunds: Decimal = ZERO
    private: Decimal = ZERO
    total_volume: Decimal = ZERO
    notices: int = 0
    notice_amount: Decimal = ZERO

    def __add__(self, other: BudgetFigures) -> BudgetFigures:
        return BudgetFigures(
            grants=self.grants + other.grants,
            committed=self.committed + other.committed,
            disbursed=self.disbursed + other.disbursed,
            refunds=self.refunds + other.refunds,
            private=self.private + other.private,
            total_volume=self.total_volume + other.total_volume,
            notices=self.notices + other.notices,
            notice_amount=self.notice_amount + other.notice_amount,
        )

    def __neg__(self) -> BudgetFigures:
        return BudgetFigures(
            grants=-self.grants,
            committed=-self.committed,
            disbursed=-self.disbursed,
            refunds=-self.refunds,
            private=-self.private,
            total_volume=-self.total_volume,
            notices=-self.notices,
            notice_amount=-self.notice_amount,
        )

    def __sub__(self, other: BudgetFigures) -> BudgetFigures:
        return self + -other

    def __bool__(self) -> bool:
        """Whether any figure is not zero."""
        return any(self.values())

    def values(self) -> tuple[int | Decimal, ...]:
        """The figures in field order (the order of the ``budget_days`` columns)."""
        return (
            self.grants,
            self.committed,
            self.disbursed,
            self.refunds,
            self.private,
            self.total_volume,
            self.notices,
            self.notice_amount,
        )


NOTHING = BudgetFigures()
"""The figures of no grant (and of a grant before its approval)."""

MEASURES: tuple[str, ...] = tuple(f.name for f in attrs.fields(BudgetFigures))
"""The names of the figures, in field order."""


def figures(grant: Grant | None) -> BudgetFigures:
    """What ``grant`` contributes to its program's budget figures (:data:`NOTHING` for
    ``None``: no grant yet)."""
    if grant is None:
        return NOTHING
    bound = grant.state in BOUND
    notice = grant.notice
    return BudgetFigures(
        grants=1 if bound else 0,
        committed=grant.committed_amount,
        disbursed=grant.disbursed_amount,
        refunds=grant.refund_outstanding,
        private=grant.private_funds if bound else ZERO,
        total_volume=grant.eligible_costs if bound else ZERO,
        notices=1 if notice is not None else 0,
        notice_amount=notice.amount if notice is not None else ZERO,
    )


def deltas(before: Grant | None, after: Grant) -> list[tuple[BudgetKey, BudgetFigures]]:
    """How a step from ``before`` (``None``: a proposal) to ``after`` changes the figures, per
    key, sorted by key and without zero changes (an empty list for a step that changes no
    figure, such as ``start``).

    Each side counts under its own key, so a grant whose region changed moves its figures from
    the old region to the new one.
    """
    return _deltas(before, figures(before), after, figures(after))


def _deltas(
    before: Grant | None, was: BudgetFigures, after: Grant, now: BudgetFigures
) -> list[tuple[BudgetKey, BudgetFigures]]:
    new_key = key(after)
    if before is None or key(before) == new_key:
        change = now - was
        return [(new_key, change)] if change else []
    out = [(key(before), -was), (new_key, now)]
    return sorted(((k, f) for k, f in out if f), key=lambda kf: attrs.astuple(kf[0]))


def day_deltas(
    records: Iterable[TransitionRecord],
) -> Iterator[tuple[pendulum.Date, BudgetKey, BudgetFigures]]:
    """``(business date, key, change)`` of every step in ``records``: the records of one or
    more grants, grant after grant, each grant's in order (``seq`` 1, 2, …). Replays each
    grant (:func:`grantflow.domain.lifecycle.apply`; only one grant is held at a time) and
    yields what :func:`deltas` says about each step."""
    grant: Grant | None = None
    was = NOTHING
    for record in records:
        before = grant if grant is not None and grant.id == record.grant_id else None
        grant = apply(before, record)
        now = figures(grant)
        for k, change in _deltas(before, was if before is not None else NOTHING, grant, now):
            yield record.business_date, k, change
        was = now


__all__ = [
    "BOUND",
    "MEASURES",
    "NONE",
    "NOTHING",
    "BudgetFigures",
    "BudgetKey",
    "day_deltas",
    "deltas",
    "figures",
    "key",
]
