"""The audit chain: hashes on the log, checkpoints, and triggers that make the log append-only.

* ``transitions`` and ``refused_attempts`` get ``prev_hash`` and ``hash``; rows already there
  are chained here, exactly as grantflow chains new ones (:mod:`grantflow.audit.entries`);
* ``audit_checkpoints`` is new (``grantflow audit digest`` writes it);
* triggers refuse every UPDATE and DELETE of the three tables (on PostgreSQL also TRUNCATE).

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from grantflow.audit import chain, entries
from grantflow.store import types
from grantflow.store.migrations import Layout, layout

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASHED = ("transitions", "refused_attempts")
APPEND_ONLY = ("transitions", "refused_attempts", "audit_checkpoints")
BATCH = 5000


def upgrade() -> None:
    t = layout()
    s = t.schema
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table in HASHED:
        for column in ("prev_hash", "hash"):
            # SQLite adds a NOT NULL column only with a default (grantflow always writes both);
            # PostgreSQL gets the constraint after the rows already there are chained.
            op.add_column(
                t(table),
                sa.Column(
                    column,
                    sa.String(64),
                    nullable=not sqlite,
                    server_default="" if sqlite else None,
                ),
                schema=s,
            )
    op.create_table(
        t("audit_checkpoints"),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("heads", types.json_type(), nullable=False),
        sa.Column("refused_head", types.json_type(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('audit_checkpoints')}")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            [f"{s}.{t('actors')}.name" if s else f"{t('actors')}.name"],
            name=op.f(f"fk_{t('audit_checkpoints')}_created_by_{t('actors')}"),
        ),
        schema=s,
    )
    _chain_transitions(bind, t)
    _chain_refused(bind, t)
    if not sqlite:
        for table in HASHED:
            for column in ("prev_hash", "hash"):
                op.alter_column(
                    t(table), column, existing_type=sa.String(64), nullable=False, schema=s
                )
    for statement in trigger_ddl(bind.dialect.name, t):
        op.execute(statement)


def downgrade() -> None:
    t = layout()
    bind = op.get_bind()
    for statement in drop_trigger_ddl(bind.dialect.name, t):
        op.execute(statement)
    op.drop_table(t("audit_checkpoints"), schema=t.schema)
    for table in HASHED:
        for column in ("hash", "prev_hash"):
            op.drop_column(t(table), column, schema=t.schema)


# --------------------------------------------------------------------------------------------
# Triggers
# --------------------------------------------------------------------------------------------


def _qualified(t: Layout, table: str) -> str:
    return f'"{t.schema}"."{t(table)}"' if t.schema else f'"{t(table)}"'


def function_name(t: Layout) -> str:
    """The PostgreSQL trigger function (one per table layout)."""
    name = f'"{t.prefix}grantflow_append_only"'
    return f'"{t.schema}".{name}' if t.schema else name


def trigger_ddl(dialect: str, t: Layout) -> list[str]:
    """The statements that make the log tables append-only."""
    out: list[str] = []
    if dialect == "postgresql":
        out.append(
            f"CREATE FUNCTION {function_name(t)}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "    RAISE EXCEPTION 'grantflow: % is append-only: % refused', TG_TABLE_NAME, TG_OP\n"
            "        USING ERRCODE = 'insufficient_privilege';\n"
            "END\n"
            "$$"
        )
        for table in APPEND_ONLY:
            out.append(
                f"CREATE TRIGGER grantflow_append_only BEFORE UPDATE OR DELETE ON "
                f"{_qualified(t, table)} FOR EACH ROW EXECUTE FUNCTION {function_name(t)}()"
            )
            out.append(
                f"CREATE TRIGGER grantflow_no_truncate BEFORE TRUNCATE ON "
                f"{_qualified(t, table)} FOR EACH STATEMENT EXECUTE FUNCTION {function_name(t)}()"
            )
        return out
    for table in APPEND_ONLY:
        for op_name in ("UPDATE", "DELETE"):
            out.append(
                f'CREATE TRIGGER "{t(table)}_append_only_{op_name.lower()}" BEFORE {op_name} '
                f'ON "{t(table)}" BEGIN SELECT RAISE(ABORT, '
                f"'grantflow: {t(table)} is append-only: {op_name} refused'); END"
            )
    return out


def drop_trigger_ddl(dialect: str, t: Layout) -> list[str]:
    """The statements that remove the triggers again (downgrade)."""
    if dialect == "postgresql":
        out = []
        for table in APPEND_ONLY:
            for name in ("grantflow_append_only", "grantflow_no_truncate"):
                out.append(f"DROP TRIGGER IF EXISTS {name} ON {_qualified(t, table)}")
        out.append(f"DROP FUNCTION IF EXISTS {function_name(t)}()")
        return out
    return [
        f'DROP TRIGGER IF EXISTS "{t(table)}_append_only_{op_name}"'
        for table in APPEND_ONLY
        for op_name in ("update", "delete")
    ]


# --------------------------------------------------------------------------------------------
# Chaining the rows already there
# --------------------------------------------------------------------------------------------


def _table(t: Layout, name: str, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(t(name), sa.MetaData(schema=t.schema), *columns)


def _log_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("grant_id", sa.String),
        sa.Column("event", sa.String),
        sa.Column("from_state", sa.String),
        sa.Column("business_date", types.BusinessDate()),
        sa.Column("recorded_at", types.UTCDateTime()),
        sa.Column("actor", sa.String),
        sa.Column("reason", sa.Text),
        sa.Column("data", types.json_type()),
        sa.Column("verdicts", types.json_type()),
        sa.Column("guideline_id", sa.String),
        sa.Column("guideline_version", sa.String),
        sa.Column("prev_hash", sa.String),
        sa.Column("hash", sa.String),
    ]


def _chain_transitions(bind: sa.Connection, t: Layout) -> None:
    """Chain every grant's records in ``seq`` order, a page of rows at a time."""
    T = _table(
        t,
        "transitions",
        *_log_columns(),
        sa.Column("seq", sa.Integer),
        sa.Column("to_state", sa.String),
    )
    update = (
        sa.update(T)
        .where(T.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h"))
    )
    last: tuple[str, int] | None = None
    head = chain.GENESIS
    while True:
        stmt = sa.select(T).order_by(T.c.grant_id, T.c.seq).limit(BATCH)
        if last is not None:
            stmt = stmt.where(
                sa.or_(T.c.grant_id > last[0], sa.and_(T.c.grant_id == last[0], T.c.seq > last[1]))
            )
        rows = bind.execute(stmt).mappings().all()
        if not rows:
            return
        changes = []
        for row in rows:
            if last is None or row["grant_id"] != last[0]:
                head = chain.GENESIS
            values = {**row, "prev_hash": head}
            head = chain.digest_of(entries.transition_payload(values))
            changes.append({"row_id": row["id"], "p": values["prev_hash"], "h": head})
            last = (row["grant_id"], row["seq"])
        bind.execute(update, changes)


def _chain_refused(bind: sa.Connection, t: Layout) -> None:
    """Chain the refused attempts in ``id`` order, a page of rows at a time."""
    R = _table(
        t,
        "refused_attempts",
        *_log_columns(),
        sa.Column("rule_ids", types.json_type()),
        sa.Column("code", sa.String),
        sa.Column("message", sa.Text),
    )
    update = (
        sa.update(R)
        .where(R.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h"))
    )
    last = 0
    head = chain.GENESIS
    while True:
        rows = (
            bind.execute(sa.select(R).where(R.c.id > last).order_by(R.c.id).limit(BATCH))
            .mappings()
            .all()
        )
        if not rows:
            return
        changes = []
        for row in rows:
            values = {**row, "prev_hash": head}
            head = chain.digest_of(entries.refused_payload(values))
            changes.append({"row_id": row["id"], "p": values["prev_hash"], "h": head})
            last = row["id"]
        bind.execute(update, changes)
