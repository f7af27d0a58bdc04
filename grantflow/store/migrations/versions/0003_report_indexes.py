"""Covering indexes for the program reports (``report budget``, ``due``).

``report budget --as-of`` finds each grant's last step on or before a date and sums what it
bound and was paid; ``due`` looks at running grants by the end of their funding period. With
these indexes SQLite and PostgreSQL answer from the indexes alone instead of reading the wide
log and grant rows (see ``benchmarks/reports.py``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from grantflow.store.migrations import layout

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("transitions", "asof", ("guideline_id", "grant_id", "business_date", "seq")),
    ("transitions", "state", ("grant_id", "seq", "to_state", "committed_amount")),
    ("disbursements", "asof", ("grant_id", "date", "amount")),
    ("notices", "year", ("grant_id", "event", "date", "amount")),
    (
        "grants",
        "report",
        (
            "program_id", "region", "focus", "state", "committed_amount", "disbursed_amount",
            "private_funds", "eligible_costs", "id",
        ),
    ),
    ("grants", "of", ("id", "program_id", "region", "focus", "private_funds", "eligible_costs")),
    ("grants", "due", ("state", "period_end")),
)  # fmt: skip
"""(table, suffix, columns): the index is named ``ix_<table>_<suffix>``."""


def upgrade() -> None:
    t = layout()
    for table, suffix, columns in INDEXES:
        op.create_index(op.f(f"ix_{t(table)}_{suffix}"), t(table), list(columns), schema=t.schema)


def downgrade() -> None:
    t = layout()
    for table, suffix, _columns in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{t(table)}_{suffix}"), table_name=t(table), schema=t.schema)
