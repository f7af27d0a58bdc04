"""The budget days: the budget figures' daily changes, so that reports need not read the log.

``budget_days`` holds, per program, business date, region, focus area and call, how that day's
steps changed the budget figures (:mod:`grantflow.domain.budget`): grants that bind budget,
committed, disbursed, outstanding refunds, private funds, total volume, grant notices and their
amount. ``report budget`` (now or ``--as-of``) and the budget rules' exposure sum these rows
instead of looking for each grant's last step in the transition log.

The table is derived data. This migration creates it and fills it from the transition log of
an existing database: every grant's records are replayed with the domain, grant by grant, and
their changes summed per day (``Store.rebuild_budget_days``). On PostgreSQL the log is locked
against new records (``SHARE`` mode) while that runs, so that a grantflow still writing with
the previous version cannot add a step the backfill misses.

The backfill runs this grantflow's domain and store code (replaying records is the domain's
job, in one place). A later migration that changes ``budget_days`` must keep it working, for
example by emptying the table here and filling it in its own step.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grantflow.store import types
from grantflow.store.migrations import backfill_store, layout

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES: tuple[tuple[str, bool], ...] = (
    ("grants", False),
    ("committed", True),
    ("disbursed", True),
    ("refunds", True),
    ("private", True),
    ("total_volume", True),
    ("notices", False),
    ("notice_amount", True),
)
"""(column, is money) in the order of ``grantflow.domain.budget.MEASURES``."""


def upgrade() -> None:
    t = layout()
    s = t.schema
    table = t("budget_days")
    programs = f"{s}.{t('programs')}" if s else t("programs")
    op.create_table(
        table,
        sa.Column("program_id", sa.String(100), nullable=False),
        sa.Column("day", types.BusinessDate(), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("focus", sa.String(100), nullable=False),
        sa.Column("call", sa.String(100), nullable=False),
        *(
            sa.Column(name, types.Money() if money else sa.Integer(), nullable=False)
            for name, money in MEASURES
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "day", "region", "focus", "call", name=op.f(f"pk_{table}")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            [f"{programs}.id"],
            name=op.f(f"fk_{table}_program_id_{t('programs')}"),
        ),
        schema=s,
    )
    backfill()


def backfill() -> None:
    """Fill the new table from the transition log (see the module docstring)."""
    backfill_store().rebuild_budget_days()


def downgrade() -> None:
    t = layout()
    op.drop_table(t("budget_days"), schema=t.schema)
