"""Trust: the log commits to the state the rules read, to who acted and how, and to the
guideline; actors and guideline loads get a hash chain of their own.

* ``transitions`` get ``state_hash`` (the hash of the grant's canonical snapshot after the
  step), ``actor_auth`` (how the actor was established) and ``guideline_hash`` (the content
  hash of the guideline version that judged the step); ``refused_attempts`` the last two. They
  are part of what a record's hash covers from now on. Records already there keep them NULL
  and keep their hashes (:data:`grantflow.audit.chain.TRUST_FIELDS`).
* ``actors`` get ``login`` (set to the name for the actors already there) and ``active``;
  names are unique whatever their case, logins unique.
* ``admin_events`` is new: one hash chain, in ``id`` order, of every administrative change.
  This migration writes its first records: the ``trust`` record, which names the last
  transition, refused attempt and checkpoint written before it (``audit verify`` checks the
  new guarantees for everything after them, and says so), then an ``add`` record for every
  actor and a ``guideline`` record for every guideline version already stored.
* ``audit_checkpoints`` get ``admin_head``: checkpoints seal the administrative chain too.
* Every grant's row is written again from the replay of its records
  (``Store.rebuild_grant_rows``): the log is what the state commitments start from, so a row
  changed before the upgrade is repaired from the log rather than trusted, and the snapshots
  learn who decided and paid (``Grant.approved_by``, …), which older ones did not keep. On
  PostgreSQL the log is locked against new records while that runs (``SHARE`` mode). The
  backfill runs this grantflow's domain and store code: a later migration that changes
  ``grants`` must keep it working.
* Triggers: ``admin_events`` is append-only like the log. On PostgreSQL an insert into
  ``transitions``, ``refused_attempts`` or ``admin_events`` is refused unless its actor is the
  one mapped to the database login (``database-login``), or the login owns grantflow's tables
  or belongs to the ``grantflow_host`` role (``host-application``: an application that
  authenticates its users itself). See ``docs/explanation/threat-model.md``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from grantflow.audit import chain, entries
from grantflow.store import types
from grantflow.store.migrations import Layout, backfill_store, layout

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKED = ("transitions", "refused_attempts", "admin_events")
"""The tables whose inserts the PostgreSQL identity trigger checks."""


def upgrade() -> None:
    t = layout()
    s = t.schema
    bind = op.get_bind()
    actors = t("actors")
    op.add_column(actors, sa.Column("login", sa.String(200), nullable=True), schema=s)
    op.add_column(
        actors,
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        schema=s,
    )
    op.execute(sa.text(f"UPDATE {_qualified(t, 'actors')} SET login = name"))
    op.create_index(op.f(f"ix_{actors}_login"), actors, ["login"], unique=True, schema=s)
    op.create_index(
        f"uq_{actors}_name_key", actors, [sa.text("lower(name)")], unique=True, schema=s
    )
    for table, columns in (
        ("transitions", ("state_hash", "actor_auth", "guideline_hash")),
        ("refused_attempts", ("actor_auth", "guideline_hash")),
    ):
        for column in columns:
            size = 20 if column == "actor_auth" else 64
            op.add_column(t(table), sa.Column(column, sa.String(size), nullable=True), schema=s)
    op.add_column(
        t("audit_checkpoints"), sa.Column("admin_head", types.json_type(), nullable=True), schema=s
    )
    op.create_table(
        t("admin_events"),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("actor_auth", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("data", types.json_type(), nullable=False),
        sa.Column("after_transition", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t('admin_events')}")),
        schema=s,
    )
    op.create_index(
        op.f(f"ix_{t('admin_events')}_subject"), t("admin_events"), ["subject"], schema=s
    )
    _start_admin_chain(bind, t)
    backfill_store().rebuild_grant_rows()
    for statement in trigger_ddl(bind.dialect.name, t):
        op.execute(statement)


def downgrade() -> None:
    t = layout()
    s = t.schema
    bind = op.get_bind()
    for statement in drop_trigger_ddl(bind.dialect.name, t):
        op.execute(statement)
    op.drop_index(op.f(f"ix_{t('admin_events')}_subject"), table_name=t("admin_events"), schema=s)
    op.drop_table(t("admin_events"), schema=s)
    op.drop_column(t("audit_checkpoints"), "admin_head", schema=s)
    for table, columns in (
        ("transitions", ("state_hash", "actor_auth", "guideline_hash")),
        ("refused_attempts", ("actor_auth", "guideline_hash")),
    ):
        for column in columns:
            op.drop_column(t(table), column, schema=s)
    actors = t("actors")
    op.drop_index(f"uq_{actors}_name_key", table_name=actors, schema=s)
    op.drop_index(op.f(f"ix_{actors}_login"), table_name=actors, schema=s)
    op.drop_column(actors, "active", schema=s)
    op.drop_column(actors, "login", schema=s)


# --------------------------------------------------------------------------------------------
# The administrative chain's first records
# --------------------------------------------------------------------------------------------


def _start_admin_chain(bind: sa.Connection, t: Layout) -> None:
    """The ``trust`` record, then one ``add`` per actor and one ``guideline`` per version."""
    meta = sa.MetaData(schema=t.schema)
    A = sa.Table(
        t("actors"),
        meta,
        sa.Column("name", sa.String),
        sa.Column("roles", types.json_type()),
        sa.Column("login", sa.String),
        sa.Column("created_by", sa.String),
    )
    V = sa.Table(
        t("program_versions"),
        meta,
        sa.Column("program_id", sa.String),
        sa.Column("version", sa.String),
        sa.Column("effective_from", types.BusinessDate()),
        sa.Column("content_hash", sa.String),
    )
    E = sa.Table(
        t("admin_events"),
        meta,
        sa.Column("id", sa.Integer),
        sa.Column("recorded_at", types.UTCDateTime()),
        sa.Column("actor", sa.String),
        sa.Column("actor_auth", sa.String),
        sa.Column("action", sa.String),
        sa.Column("subject", sa.String),
        sa.Column("data", types.json_type()),
        sa.Column("after_transition", sa.Integer),
        sa.Column("prev_hash", sa.String),
        sa.Column("hash", sa.String),
    )

    def newest(table: str) -> int:
        T = sa.Table(t(table), meta, sa.Column("id", sa.Integer), extend_existing=True)
        value = bind.execute(sa.select(sa.func.max(T.c.id))).scalar()
        return int(value or 0)

    last_transition = newest("transitions")
    now = dt.datetime.now(dt.UTC)
    records: list[tuple[str, str | None, dict[str, Any]]] = [
        (
            "trust",
            None,
            {
                "revision": revision,
                "legacy_transitions": last_transition,
                "legacy_refused": newest("refused_attempts"),
                "legacy_checkpoints": newest("audit_checkpoints"),
            },
        )
    ]
    for name, roles, login in bind.execute(sa.select(A.c.name, A.c.roles, A.c.login)):
        records.append(("add", name, {"roles": sorted(roles), "login": login}))
    for program_id, version, effective_from, content_hash in bind.execute(
        sa.select(V.c.program_id, V.c.version, V.c.effective_from, V.c.content_hash).order_by(
            V.c.program_id, V.c.effective_from
        )
    ):
        records.append(
            (
                "guideline",
                program_id,
                {
                    "version": version,
                    "content_hash": content_hash,
                    "effective_from": entries.day_text(effective_from),
                },
            )
        )
    head = chain.GENESIS
    rows = []
    for number, (action, subject, data) in enumerate(records, 1):
        row = {
            "id": number,
            "recorded_at": now,
            "actor": None,
            "actor_auth": "migration",
            "action": action,
            "subject": subject,
            "data": data,
            "after_transition": last_transition or None,
            "prev_hash": head,
        }
        row["hash"] = head = chain.digest_of(entries.admin_payload(row))
        rows.append(row)
    bind.execute(sa.insert(E), rows)


# --------------------------------------------------------------------------------------------
# Triggers
# --------------------------------------------------------------------------------------------


def _qualified(t: Layout, table: str) -> str:
    return f'"{t.schema}"."{t(table)}"' if t.schema else f'"{t(table)}"'


def _function(t: Layout, name: str) -> str:
    quoted = f'"{t.prefix}{name}"'
    return f'"{t.schema}".{quoted}' if t.schema else quoted


def trigger_ddl(dialect: str, t: Layout) -> list[str]:
    """``admin_events`` append-only; on PostgreSQL the identity check on inserts."""
    table = t("admin_events")
    if dialect != "postgresql":
        return [
            f'CREATE TRIGGER "{table}_append_only_{op_name.lower()}" BEFORE {op_name} '
            f'ON "{table}" BEGIN SELECT RAISE(ABORT, '
            f"'grantflow: {table} is append-only: {op_name} refused'); END"
            for op_name in ("UPDATE", "DELETE")
        ]
    append_only = _function(t, "grantflow_append_only")  # made by migration 0002
    check = _function(t, "grantflow_actor_check")
    out = [
        f"CREATE TRIGGER grantflow_append_only BEFORE UPDATE OR DELETE ON "
        f"{_qualified(t, 'admin_events')} FOR EACH ROW EXECUTE FUNCTION {append_only}()",
        f"CREATE TRIGGER grantflow_no_truncate BEFORE TRUNCATE ON "
        f"{_qualified(t, 'admin_events')} FOR EACH STATEMENT EXECUTE FUNCTION {append_only}()",
        f"CREATE FUNCTION {check}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    IF NEW.actor_auth = 'database-login' THEN\n"
        "        IF NOT EXISTS (SELECT 1 FROM "
        f"{_qualified(t, 'actors')} a\n"
        "                       WHERE a.name = NEW.actor AND a.login = session_user\n"
        "                         AND a.active) THEN\n"
        "            RAISE EXCEPTION 'grantflow: the database login % is not the actor %',\n"
        "                session_user, NEW.actor USING ERRCODE = 'insufficient_privilege';\n"
        "        END IF;\n"
        "    ELSIF NEW.actor_auth IN ('host-application', 'migration') THEN\n"
        "        IF NOT (pg_has_role(session_user,\n"
        "                    (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')\n"
        "                OR (NEW.actor_auth = 'host-application'\n"
        "                    AND EXISTS (SELECT 1 FROM pg_roles\n"
        "                                WHERE rolname = 'grantflow_host')\n"
        "                    AND pg_has_role(session_user, 'grantflow_host', 'MEMBER'))) THEN\n"
        "            RAISE EXCEPTION 'grantflow: the database login % may not vouch for %',\n"
        "                session_user, NEW.actor USING ERRCODE = 'insufficient_privilege';\n"
        "        END IF;\n"
        "    ELSE\n"
        "        RAISE EXCEPTION 'grantflow: on PostgreSQL a record names its actor by database '\n"
        "            'login or host application, not %', coalesce(NEW.actor_auth, 'nothing')\n"
        "            USING ERRCODE = 'insufficient_privilege';\n"
        "    END IF;\n"
        "    RETURN NEW;\n"
        "END\n"
        "$$",
    ]
    for name in CHECKED:
        out.append(
            f"CREATE TRIGGER grantflow_actor_check BEFORE INSERT ON {_qualified(t, name)} "
            f"FOR EACH ROW EXECUTE FUNCTION {check}()"
        )
    return out


def drop_trigger_ddl(dialect: str, t: Layout) -> list[str]:
    """The statements that remove this migration's triggers again (downgrade)."""
    table = t("admin_events")
    if dialect != "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_append_only_{op_name}"'
            for op_name in ("update", "delete")
        ]
    out = [
        f"DROP TRIGGER IF EXISTS grantflow_actor_check ON {_qualified(t, name)}" for name in CHECKED
    ]
    out.append(f"DROP FUNCTION IF EXISTS {_function(t, 'grantflow_actor_check')}()")
    for name in ("grantflow_append_only", "grantflow_no_truncate"):
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {_qualified(t, 'admin_events')}")
    return out
