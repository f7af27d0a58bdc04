"""grantflow's first schema: actors, programs, grants, the transition log, money rows.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grantflow.store import types
from grantflow.store.migrations import layout

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Names follow grantflow.store.models.NAMING_CONVENTION; op.f() marks them as final, so a
    # name longer than the database allows is shortened exactly as the models' names are.
    t = layout()
    s = t.schema

    def ref(table: str, *columns: str) -> list[str]:
        qualified = f"{s}.{t(table)}" if s else t(table)
        return [f"{qualified}.{c}" for c in columns]

    def money(name: str) -> sa.Column[object]:
        return sa.Column(name, types.Money(), nullable=False)

    def index(table: str, *columns: str) -> None:
        name = op.f(f"ix_{t(table)}_{'_'.join(columns)}")
        op.create_index(name, t(table), list(columns), schema=s)

    op.create_table(
        t("actors"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", types.json_type(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f(f"pk_{t('actors')}")),
        schema=s,
    )
    op.create_table(
        t("programs"),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short", sa.String(40), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('programs')}")),
        schema=s,
    )
    op.create_table(
        t("program_versions"),
        sa.Column("program_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("effective_from", types.BusinessDate(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", types.json_type(), nullable=False),
        sa.Column("loaded_at", types.UTCDateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("program_id", "version", name=op.f(f"pk_{t('program_versions')}")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ref("programs", "id"),
            name=op.f(f"fk_{t('program_versions')}_program_id_{t('programs')}"),
        ),
        schema=s,
    )
    op.create_table(
        t("grant_numbers"),
        sa.Column("program_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "year", name=op.f(f"pk_{t('grant_numbers')}")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ref("programs", "id"),
            name=op.f(f"fk_{t('grant_numbers')}_program_id_{t('programs')}"),
        ),
        schema=s,
    )
    op.create_table(
        t("grants"),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("program_id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("applicant", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("focus", sa.String(100), nullable=True),
        sa.Column("call", sa.String(100), nullable=True),
        sa.Column("phase", sa.String(100), nullable=True),
        money("eligible_costs"),
        money("private_funds"),
        money("requested_amount"),
        money("approved_amount"),
        money("committed_amount"),
        money("disbursed_amount"),
        sa.Column("period_start", types.BusinessDate(), nullable=False),
        sa.Column("period_end", types.BusinessDate(), nullable=False),
        sa.Column("received_on", types.BusinessDate(), nullable=False),
        sa.Column("last_business_date", types.BusinessDate(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", types.json_type(), nullable=False),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('grants')}")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ref("programs", "id"),
            name=op.f(f"fk_{t('grants')}_program_id_{t('programs')}"),
        ),
        schema=s,
    )
    for column in ("program_id", "state", "region", "focus", "call", "period_end"):
        index("grants", column)
    op.create_table(
        t("transitions"),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grant_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("business_date", types.BusinessDate(), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", types.json_type(), nullable=False),
        sa.Column("verdicts", types.json_type(), nullable=False),
        sa.Column("guideline_id", sa.String(100), nullable=False),
        sa.Column("guideline_version", sa.String(100), nullable=False),
        money("committed_amount"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('transitions')}")),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ref("grants", "id"),
            name=op.f(f"fk_{t('transitions')}_grant_id_{t('grants')}"),
        ),
        sa.ForeignKeyConstraint(
            ["actor"],
            ref("actors", "name"),
            name=op.f(f"fk_{t('transitions')}_actor_{t('actors')}"),
        ),
        sa.UniqueConstraint("grant_id", "seq", name=op.f(f"uq_{t('transitions')}_grant_id_seq")),
        sqlite_autoincrement=True,
        schema=s,
    )
    for column in ("actor", "event", "business_date", "guideline_id"):
        index("transitions", column)
    for table, extra in (
        (
            "notices",
            [
                sa.Column("event", sa.String(20), nullable=False),
                sa.Column("number", sa.String(200), nullable=False),
                sa.Column("date", types.BusinessDate(), nullable=False),
                money("amount"),
                sa.Column("period_start", types.BusinessDate(), nullable=True),
                sa.Column("period_end", types.BusinessDate(), nullable=True),
            ],
        ),
        (
            "disbursements",
            [
                sa.Column("date", types.BusinessDate(), nullable=False),
                money("amount"),
                sa.Column("needed_by", types.BusinessDate(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            t(table),
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("grant_id", sa.String(100), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t(table)}")),
            sa.ForeignKeyConstraint(
                ["grant_id", "seq"],
                ref("transitions", "grant_id", "seq"),
                name=op.f(f"fk_{t(table)}_grant_id_{t('transitions')}"),
            ),
            sa.UniqueConstraint("grant_id", "seq", name=op.f(f"uq_{t(table)}_grant_id_seq")),
            schema=s,
        )
    op.create_table(
        t("refused_attempts"),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("grant_id", sa.String(100), nullable=True),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("business_date", types.BusinessDate(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("rule_ids", types.json_type(), nullable=False),
        sa.Column("verdicts", types.json_type(), nullable=False),
        sa.Column("data", types.json_type(), nullable=False),
        sa.Column("guideline_id", sa.String(100), nullable=True),
        sa.Column("guideline_version", sa.String(100), nullable=True),
        sa.Column("after_transition", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('refused_attempts')}")),
        sqlite_autoincrement=True,
        schema=s,
    )
    index("refused_attempts", "grant_id")
    index("refused_attempts", "actor")


def downgrade() -> None:
    t = layout()
    for table in (
        "refused_attempts",
        "disbursements",
        "notices",
        "transitions",
        "grants",
        "grant_numbers",
        "program_versions",
        "programs",
        "actors",
    ):
        op.drop_table(t(table), schema=t.schema)
