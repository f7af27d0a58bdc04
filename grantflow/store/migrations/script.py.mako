"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grantflow.store import types
from grantflow.store.migrations import layout
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    t = layout()  # t("grants") is the table's name; t.schema its schema
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    t = layout()
    ${downgrades if downgrades else "pass"}
