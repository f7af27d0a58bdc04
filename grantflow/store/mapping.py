"""Between the domain objects and the rows: the one place that knows both.

Grants are stored as their snapshot (``codec.to_data(grant)``) plus columns for queries and
budget sums; transition records column by column with ``data`` and ``verdicts`` as JSON; a
``disburse`` also writes a disbursement row and a notice event (approve, extend, amend, revoke)
a notice row, both keyed by the record's ``(grant_id, seq)``.

Two shapes of row are mapped: column values (``*_values``, what the store's Core statements
write and read on the hot path) and the mapped ORM objects (``*_row``, for code that works with
the models through a Session, whose grant updates the mapper checks by ``version_id_col``).
Both go through :func:`grant_values`, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pendulum
from sqlalchemy.engine import RowMapping

from grantflow.domain.codec import from_data, to_data
from grantflow.domain.figures import DERIVED, derived_values, refund_values
from grantflow.domain.model import (
    Actor,
    Event,
    Grant,
    Role,
    State,
    TransitionRecord,
    Verdict,
)
from grantflow.domain.money import ZERO
from grantflow.errors import IntegrityFailure
from grantflow.store.models import ActorColumns, GrantColumns, Models, TransitionColumns

# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------


def roles_to_json(roles: Iterable[Role]) -> list[str]:
    """Roles as a sorted list of their names."""
    return sorted({Role(r).value for r in roles})


def actor_from_row(row: ActorColumns) -> Actor:
    """The :class:`Actor` of a mapped actors row."""
    return actor_from_values(row.name, row.roles)


def actor_from_values(name: str, roles: Iterable[str]) -> Actor:
    """An :class:`Actor` from its stored name and role names."""
    return Actor(name=name, roles=frozenset(Role(r) for r in roles))


# --------------------------------------------------------------------------------------------
# Grants
# --------------------------------------------------------------------------------------------


def grant_from_snapshot(snapshot: Mapping[str, Any], version: int | None = None) -> Grant:
    """The grant a snapshot describes. ``version`` (the row's) must agree with the snapshot."""
    grant = from_data(snapshot, Grant)
    if version is not None and grant.version != version:
        raise IntegrityFailure(
            f"grant {grant.id}: the snapshot is version {grant.version} but the row says {version}"
        )
    return grant


def grant_from_row(row: GrantColumns) -> Grant:
    """The grant of a mapped grants row."""
    return grant_from_snapshot(row.snapshot, row.version)


def grant_values(grant: Grant, *, now: pendulum.DateTime) -> dict[str, Any]:
    """Every column of the grants row for ``grant`` (snapshot, query and money columns)."""
    return {
        "id": grant.id,
        "program_id": grant.program_id,
        "title": grant.title,
        "applicant": grant.applicant.lead,
        "state": grant.state.value,
        "region": grant.region,
        "focus": grant.focus,
        "call": grant.call,
        "phase": grant.phase,
        "eligible_costs": grant.eligible_costs,
        "private_funds": grant.private_funds,
        "requested_amount": grant.requested_amount,
        "received_on": grant.received_on,
        "version": grant.version,
        "snapshot": to_data(grant),
        "updated_at": now,
        **derived_values(grant),
    }


CHANGING = (*DERIVED, "version", "snapshot", "updated_at")
"""The columns a step can change (the others are fixed by the proposal)."""


SEALED_COLUMNS = (
    "state",
    "approved_amount",
    "committed_amount",
    "disbursed_amount",
    "refund_outstanding",
)
"""The query columns a step compares with the snapshot before it decides (the budget sums and
reports read them): a row whose columns disagree with its snapshot was changed outside
grantflow."""


def sealed_column_problems(grant: Grant, columns: Mapping[str, Any]) -> list[str]:
    """Where the stored ``columns`` (:data:`SEALED_COLUMNS`) differ from what ``grant``
    gives (:func:`derived_values`), as ``"<column> is <stored>, the snapshot says <value>"``."""
    expected = derived_values(grant, refunds=False)
    return [
        f"{column} is {columns[column]}, the snapshot says {expected[column]}"
        for column in SEALED_COLUMNS
        if column in columns and columns[column] != expected[column]
    ]


def new_grant_row(models: Models, grant: Grant, *, now: pendulum.DateTime) -> GrantColumns:
    """A mapped (ORM) row for ``grant``."""
    return models.Grant(**grant_values(grant, now=now))


def update_grant_row(row: GrantColumns, grant: Grant, *, now: pendulum.DateTime) -> None:
    """Write ``grant`` into its loaded (ORM) row. Setting ``version`` makes the flush's UPDATE
    check the version that was read (the mapper's ``version_id_col``)."""
    values = grant_values(grant, now=now)
    for column in CHANGING:
        setattr(row, column, values[column])


# --------------------------------------------------------------------------------------------
# Transition records and the money rows they make
# --------------------------------------------------------------------------------------------


def verdicts_to_json(verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    """Verdicts as JSON values."""
    data: list[dict[str, Any]] = to_data(tuple(verdicts))
    return data


def verdicts_from_json(data: Sequence[Mapping[str, Any]]) -> tuple[Verdict, ...]:
    """Verdicts from their JSON values."""
    return from_data(list(data), tuple[Verdict, ...])


def transition_values(record: TransitionRecord, *, committed: Decimal) -> dict[str, Any]:
    """Every column of the transitions row for ``record`` (except the generated ``id``)."""
    return {
        "grant_id": record.grant_id,
        "seq": record.seq,
        "event": record.event.value,
        "from_state": record.from_state.value if record.from_state else None,
        "to_state": record.to_state.value,
        "business_date": record.business_date,
        "recorded_at": record.recorded_at,
        "actor": record.actor,
        "reason": record.reason,
        "data": dict(record.data),
        "verdicts": verdicts_to_json(record.verdicts),
        "guideline_id": record.guideline_id,
        "guideline_version": record.guideline_version,
        "committed_amount": committed,
    }


def record_from_row(row: TransitionColumns) -> TransitionRecord:
    """The record of a mapped transitions row."""
    return record_from_values(
        grant_id=row.grant_id,
        seq=row.seq,
        event=row.event,
        from_state=row.from_state,
        to_state=row.to_state,
        business_date=row.business_date,
        recorded_at=row.recorded_at,
        actor=row.actor,
        reason=row.reason,
        data=row.data,
        verdicts=row.verdicts,
        guideline_id=row.guideline_id,
        guideline_version=row.guideline_version,
    )


def record_from_values(
    *,
    grant_id: str,
    seq: int,
    event: str,
    from_state: str | None,
    to_state: str,
    business_date: pendulum.Date,
    recorded_at: pendulum.DateTime,
    actor: str,
    reason: str,
    data: Mapping[str, Any],
    verdicts: Sequence[Mapping[str, Any]],
    guideline_id: str,
    guideline_version: str,
) -> TransitionRecord:
    """A :class:`TransitionRecord` from the stored column values."""
    return TransitionRecord(
        grant_id=grant_id,
        seq=seq,
        event=Event(event),
        from_state=State(from_state) if from_state else None,
        to_state=State(to_state),
        business_date=business_date,
        recorded_at=recorded_at,
        actor=actor,
        reason=reason,
        data=data,
        verdicts=verdicts_from_json(verdicts),
        guideline_id=guideline_id,
        guideline_version=guideline_version,
    )


def money_values(record: TransitionRecord, after: Grant) -> tuple[str, dict[str, Any]] | None:
    """The money row a record makes, as (``"disbursements"`` or ``"notices"``, column values);
    ``None`` for events without one."""
    key = {"grant_id": record.grant_id, "seq": record.seq}
    if record.event is Event.DISBURSE:
        d = after.disbursements[-1]
        return "disbursements", {
            **key,
            "date": d.date,
            "amount": d.amount,
            "needed_by": d.needed_by,
        }
    if record.event is Event.APPROVE:
        assert after.notice is not None
        n = after.notice
        return "notices", {
            **key,
            "event": record.event.value,
            "number": n.number,
            "date": n.date,
            "amount": n.amount,
            "period_start": n.period.start,
            "period_end": n.period.end,
        }
    if record.event in (Event.EXTEND, Event.AMEND):
        a = after.amendments[-1]
        return "notices", {
            **key,
            "event": record.event.value,
            "number": a.number,
            "date": a.date,
            "amount": a.amount,
            "period_start": a.period.start,
            "period_end": a.period.end,
        }
    if record.event is Event.REVOKE:
        return "notices", {
            **key,
            "event": record.event.value,
            "number": str(record.data["notice_number"]),
            "date": record.business_date,
            "amount": after.settlement.final_amount if after.settlement else ZERO,
            "period_start": None,
            "period_end": None,
        }
    return None


def log_values(row: RowMapping) -> dict[str, Any]:
    """The fields of a log entry (``grantflow.services.LogEntry``) from a row of the log
    query: a transition (``kind`` 0) or a refused attempt (``kind`` 1)."""
    return {
        "id": row["id"],
        "refused": bool(row["kind"]),
        "grant_id": row["grant_id"],
        "seq": row["seq"],
        "event": Event(row["event"]),
        "from_state": State(row["from_state"]) if row["from_state"] else None,
        "to_state": State(row["to_state"]) if row["to_state"] else None,
        "business_date": row["business_date"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
        "reason": row["reason"],
        "data": row["data"],
        "verdicts": verdicts_from_json(row["verdicts"]),
        "guideline_id": row["guideline_id"],
        "guideline_version": row["guideline_version"],
        "rule_ids": tuple(row["rule_ids"] or ()),
        "code": row["code"],
        "message": row["message"],
        "actor_auth": row.get("actor_auth"),
        "prev_hash": row.get("prev_hash"),
        "hash": row.get("hash"),
    }


__all__ = [
    "CHANGING",
    "DERIVED",
    "SEALED_COLUMNS",
    "actor_from_row",
    "actor_from_values",
    "derived_values",
    "grant_from_row",
    "grant_from_snapshot",
    "grant_values",
    "log_values",
    "money_values",
    "new_grant_row",
    "record_from_row",
    "record_from_values",
    "refund_values",
    "roles_to_json",
    "sealed_column_problems",
    "transition_values",
    "update_grant_row",
    "verdicts_from_json",
    "verdicts_to_json",
]
