"""The figures of a grant that its stored row keeps beside the snapshot, derived from it.

The store writes them as query and money columns of ``grants`` (``grantflow.store.mapping``);
a step compares some of them with the snapshot before it decides, and ``audit verify``
compares all of them with the replay of the grant's records. One definition serves all three.
"""

from __future__ import annotations

from typing import Any

from grantflow.domain.model import Grant
from grantflow.domain.refunds import owed_tranches


def derived_values(grant: Grant, *, refunds: bool = True) -> dict[str, Any]:
    """The columns of ``grant``'s row that follow from its snapshot and that a step can change
    (:data:`DERIVED`). ``refunds=False`` leaves out ``refund_due`` and ``refund_tranches``,
    which walk the claim's tranches (a step's check compares only
    :data:`grantflow.store.mapping.SEALED_COLUMNS`)."""
    values: dict[str, Any] = {
        "state": grant.state.value,
        "approved_amount": grant.approved_amount,
        "committed_amount": grant.committed_amount,
        "disbursed_amount": grant.disbursed_amount,
        "period_start": grant.period.start,
        "period_end": grant.period.end,
        "last_business_date": grant.last_business_date,
        "refund_outstanding": grant.refund_outstanding,
    }
    if refunds:
        values.update(refund_values(grant))
    return values


def refund_values(grant: Grant) -> dict[str, Any]:
    """The refund columns of ``grant``'s row: what is still owed, since when the oldest tranche
    of it is due, and of how many tranches (:func:`~grantflow.domain.refunds.owed_tranches`)."""
    owed = owed_tranches(grant)
    return {
        "refund_outstanding": grant.refund_outstanding,
        "refund_due": min((o.tranche.due for o in owed), default=None),
        "refund_tranches": len(owed),
    }


DERIVED = (
    "state",
    "approved_amount",
    "committed_amount",
    "disbursed_amount",
    "period_start",
    "period_end",
    "last_business_date",
    "refund_outstanding",
    "refund_due",
    "refund_tranches",
)
"""The columns of a grant's row that follow from its snapshot and that a step can change
(:func:`derived_values`): a row whose columns differ from them was changed outside grantflow."""


__all__ = ["DERIVED", "derived_values", "refund_values"]
