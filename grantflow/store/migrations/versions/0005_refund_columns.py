"""The refund columns: what each grant still owes back, since when, in how many tranches.

``grants`` gets three derived columns, written with every step like the other money columns
(:func:`grantflow.store.mapping.refund_values`):

* ``refund_outstanding``: the refund claim less the repayments (``Grant.refund_outstanding``);
* ``refund_due``: the day the oldest tranche still owed arose, and so fell due (R-REFUND: in
  NRW the claim is due when it arises, VV Nr. 8.5 zu § 44 LHO); NULL when nothing is owed;
* ``refund_tranches``: how many tranches of the claim are still (partly) owed.

and an index on ``(refund_tranches, last_business_date)``. ``grantflow due`` lists every
refund still owed from these columns, without reading the snapshots of the grants that owe
one (see ``grantflow.services.reports.due``).

The snapshots of the grants with a refund claim are replayed from their records and written
again with the columns (``Store.rebuild_refund_rows``): since this revision a claim tranche
keeps the day it arose (``ClaimTranche.arose_on``), which older snapshots lack. On PostgreSQL
the log is locked against new records (``SHARE`` mode) while that runs, as in ``0004``. The
backfill runs this grantflow's domain and store code; a later migration that changes
``grants`` must keep it working.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grantflow.store import types
from grantflow.store.migrations import backfill_store, layout

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = ("refund_tranches", "last_business_date")


def upgrade() -> None:
    t = layout()
    grants = t("grants")
    op.add_column(
        grants,
        sa.Column("refund_outstanding", types.Money(), nullable=False, server_default="0"),
        schema=t.schema,
    )
    op.add_column(grants, sa.Column("refund_due", types.BusinessDate()), schema=t.schema)
    op.add_column(
        grants,
        sa.Column("refund_tranches", sa.Integer(), nullable=False, server_default="0"),
        schema=t.schema,
    )
    op.create_index(op.f(f"ix_{grants}_refunds"), grants, list(INDEX), schema=t.schema)
    backfill()


def backfill() -> None:
    """Replay the grants with a refund claim and write their rows (see the module docstring)."""
    backfill_store().rebuild_refund_rows()


def downgrade() -> None:
    t = layout()
    grants = t("grants")
    op.drop_index(op.f(f"ix_{grants}_refunds"), table_name=grants, schema=t.schema)
    for column in ("refund_tranches", "refund_due", "refund_outstanding"):
        op.drop_column(grants, column, schema=t.schema)
