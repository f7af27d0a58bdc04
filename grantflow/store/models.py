"""The typed ORM models: grantflow's tables, built per table prefix and schema.

grantflow keeps its tables in its own :class:`~sqlalchemy.MetaData`, so it can live in a host
application's database beside the host's tables: optionally in a PostgreSQL ``schema`` and/or
with every table name behind a ``prefix`` (``gf_grants``). The columns are declared once, on the
``*Columns`` classes below (``Mapped[...]`` annotations, read by mypy and by the declarative
mapper); :func:`models_for` turns them into mapped classes for one (prefix, schema) and caches
them, so every :class:`~grantflow.services.Grantflow` with the same layout shares one set.

Tables (without prefix):

``actors``            people and their roles
``programs``          funding programs (id, name, short prefix of grant ids)
``program_versions``  every guideline version ever loaded: its resolved document and hash
``grant_numbers``     the last grant number per program and year (id allocation)
``grants``            the current snapshot of every grant (JSON) plus query and money columns
                      (the refund columns of migration ``0005`` among them);
                      ``version`` is the mapper's ``version_id_col``
``transitions``       the transition log; ``id`` is the global order, ``(grant_id, seq)`` unique
``notices``           grant, amendment and revocation notices (one per such transition)
``disbursements``     payments (one per ``disburse`` transition)
``refused_attempts``  steps the rules or the lifecycle refused (who, what, which rules)
``audit_checkpoints`` seals of every hash chain's head (``grantflow audit digest``)
``admin_events``      the administrative log (migration ``0006``): actors, roles, logins,
                      guideline versions loaded, hash-chained like the log
``budget_days``       derived: per program, business date, region, focus area and call, how that
                      day's steps changed the budget figures (:mod:`grantflow.domain.budget`);
                      rebuilt from ``transitions`` at any time (migration ``0004``)

``transitions``, ``refused_attempts`` and ``audit_checkpoints`` are append-only (database
triggers refuse UPDATE and DELETE, see migration ``0002``) and hash-chained: ``prev_hash`` and
``hash`` (:mod:`grantflow.audit.chain`).

The domain never sees these classes: :mod:`grantflow.store.mapping` converts between them and
the domain objects, in one place.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pendulum
from sqlalchemy import (
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from grantflow.store.types import BusinessDate, Money, UTCDateTime, json_type

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint and index names (Alembic needs named constraints to change them later)."""

TABLES = (
    "actors",
    "programs",
    "program_versions",
    "grant_numbers",
    "grants",
    "transitions",
    "notices",
    "disbursements",
    "refused_attempts",
    "audit_checkpoints",
    "budget_days",
    "admin_events",
)
"""grantflow's table names without prefix, parents before children."""

APPEND_ONLY = ("transitions", "refused_attempts", "audit_checkpoints", "admin_events")
"""The tables whose rows are never changed or deleted (triggers refuse it)."""

HASH = 64  # a SHA-256 in hex

NAME = 200  # names of actors, titles ...
ID = 100  # program ids, grant ids, version ids


class _Row:
    """What every row class has (for the type checker: the declarative keyword constructor)."""

    if TYPE_CHECKING:

        def __init__(self, **kw: Any) -> None: ...


class ActorColumns(_Row):
    """``actors``: a person acting in grantflow, with the roles an admin gave them."""

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    roles: Mapped[list[str]] = mapped_column(json_type())
    created_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    login: Mapped[str | None] = mapped_column(String(NAME))
    """The login that acts as this person (migration ``0006``): on PostgreSQL the database
    login (``session_user``), on SQLite the operating-system login; NULL for actors made before
    0006 until an admin maps one (then the name is taken as the login)."""
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    """False once an admin deactivated the person (actors are never deleted)."""


class ProgramColumns(_Row):
    """``programs``: a funding program."""

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    short: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())


class ProgramVersionColumns(_Row):
    """``program_versions``: one guideline version as loaded, never rewritten."""

    program_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    version: Mapped[str] = mapped_column(String(ID), primary_key=True)
    effective_from: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(json_type())
    loaded_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str | None] = mapped_column(String(NAME))


class GrantNumberColumns(_Row):
    """``grant_numbers``: the last number given out per program and year."""

    program_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class GrantColumns(_Row):
    """``grants``: a grant's current snapshot plus the columns queries and budget sums use."""

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    program_id: Mapped[str] = mapped_column(String(ID))
    title: Mapped[str] = mapped_column(Text)
    applicant: Mapped[str] = mapped_column(String(NAME))
    state: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(ID))
    focus: Mapped[str | None] = mapped_column(String(ID))
    call: Mapped[str | None] = mapped_column(String(ID))
    phase: Mapped[str | None] = mapped_column(String(ID))
    eligible_costs: Mapped[Decimal] = mapped_column(Money())
    private_funds: Mapped[Decimal] = mapped_column(Money())
    requested_amount: Mapped[Decimal] = mapped_column(Money())
    approved_amount: Mapped[Decimal] = mapped_column(Money())
    committed_amount: Mapped[Decimal] = mapped_column(Money())
    disbursed_amount: Mapped[Decimal] = mapped_column(Money())
    period_start: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    period_end: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    received_on: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    last_business_date: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(json_type())
    updated_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    refund_outstanding: Mapped[Decimal] = mapped_column(Money(), server_default="0")
    """What the grantee still owes back (``Grant.refund_outstanding``; derived, for ``due``)."""
    refund_due: Mapped[pendulum.Date | None] = mapped_column(BusinessDate())
    """The day the oldest tranche still owed arose and fell due (NULL: nothing is owed)."""
    refund_tranches: Mapped[int] = mapped_column(Integer, server_default="0")
    """How many tranches of the refund claim are still (partly) owed
    (:func:`grantflow.domain.refunds.owed_tranches`)."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The domain's version (the seq of the last record) is the row version: an UPDATE
        # carries ``WHERE version = <the version read>`` and fails if another writer won.
        table = cls.__table__  # type: ignore[attr-defined]
        return {"version_id_col": table.c.version, "version_id_generator": False}


class TransitionColumns(_Row):
    """``transitions``: one row per step. ``id`` orders the whole log."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(String(ID))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    business_date: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    recorded_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(NAME))
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(json_type())
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    guideline_id: Mapped[str] = mapped_column(String(ID))
    guideline_version: Mapped[str] = mapped_column(String(ID))
    committed_amount: Mapped[Decimal] = mapped_column(Money())
    """The grant's commitment after this step (derived: the replay of the records gives it
    again; the budget sums read ``budget_days``)."""
    state_hash: Mapped[str | None] = mapped_column(String(HASH))
    """SHA-256 of the canonical snapshot of the grant after this step (migration ``0006``;
    NULL in records written before it): the state the next step must find in ``grants``."""
    actor_auth: Mapped[str | None] = mapped_column(String(20))
    """How the actor was established (:class:`grantflow.domain.model.Assurance`; ``0006``)."""
    guideline_hash: Mapped[str | None] = mapped_column(String(HASH))
    """The content hash of the guideline version the step was judged under (``0006``)."""
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    """The hash of the grant's previous record (64 zeros for ``seq`` 1)."""
    hash: Mapped[str] = mapped_column(String(HASH))
    """SHA-256 over the record's canonical payload (:mod:`grantflow.audit.chain`)."""


class NoticeColumns(_Row):
    """``notices``: a grant notice, amendment notice or revocation notice, keyed like the
    transition that issued it (``grant_id``, ``seq``)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(String(ID))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(NAME))
    date: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    amount: Mapped[Decimal] = mapped_column(Money())
    period_start: Mapped[pendulum.Date | None] = mapped_column(BusinessDate())
    period_end: Mapped[pendulum.Date | None] = mapped_column(BusinessDate())


class DisbursementColumns(_Row):
    """``disbursements``: one payment, keyed like the transition that made it
    (``grant_id``, ``seq``; a foreign key to ``transitions``)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(String(ID))
    seq: Mapped[int] = mapped_column(Integer)
    date: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    amount: Mapped[Decimal] = mapped_column(Money())
    needed_by: Mapped[pendulum.Date] = mapped_column(BusinessDate())


class RefusedAttemptColumns(_Row):
    """``refused_attempts``: a step the rules or the lifecycle refused. Written after the
    refused transaction rolled back, in a transaction of its own."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recorded_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(NAME))
    event: Mapped[str] = mapped_column(String(20))
    grant_id: Mapped[str | None] = mapped_column(String(ID))
    from_state: Mapped[str | None] = mapped_column(String(20))
    business_date: Mapped[pendulum.Date] = mapped_column(BusinessDate())
    reason: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    rule_ids: Mapped[list[str]] = mapped_column(json_type())
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    data: Mapped[dict[str, Any]] = mapped_column(json_type())
    guideline_id: Mapped[str | None] = mapped_column(String(ID))
    guideline_version: Mapped[str | None] = mapped_column(String(ID))
    after_transition: Mapped[int | None] = mapped_column(Integer)
    """The newest transition id when the attempt was recorded: places it in the log's order."""
    actor_auth: Mapped[str | None] = mapped_column(String(20))
    """How the actor was established (migration ``0006``; NULL before it)."""
    guideline_hash: Mapped[str | None] = mapped_column(String(HASH))
    """The content hash of the guideline version the attempt was judged under (``0006``)."""
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    """The hash of the previous refused attempt (by ``id``; 64 zeros for the first)."""
    hash: Mapped[str] = mapped_column(String(HASH))
    """SHA-256 over the attempt's canonical payload (:mod:`grantflow.audit.chain`)."""


class AuditCheckpointColumns(_Row):
    """``audit_checkpoints``: a seal of every chain's head, written by ``grantflow audit
    digest``; the checkpoints form a chain of their own. ``id`` counts 1, 2, 3, …"""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(NAME))
    heads: Mapped[list[list[Any]]] = mapped_column(json_type())
    """``[grant_id, seq, hash]`` of every grant's last record, sorted by grant id."""
    refused_head: Mapped[list[Any] | None] = mapped_column(json_type())
    """``[id, hash]`` of the last refused attempt (``None`` before the first)."""
    admin_head: Mapped[list[Any] | None] = mapped_column(json_type())
    """``[id, hash]`` of the last administrative record (migration ``0006``; NULL in older
    checkpoints)."""
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH))


class AdminEventColumns(_Row):
    """``admin_events`` (migration ``0006``): the administrative log, one hash chain in ``id``
    order: actors added, their roles and logins changed, actors deactivated, guideline versions
    loaded, the database's identity settings, and the migration that started the chain."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[pendulum.DateTime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(NAME))
    """Who did it (NULL for a migration)."""
    actor_auth: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(NAME))
    """The actor or program the record is about."""
    data: Mapped[dict[str, Any]] = mapped_column(json_type())
    after_transition: Mapped[int | None] = mapped_column(Integer)
    """The newest transition id when the record was written: places it in the log's order."""
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH))


class BudgetDayColumns(_Row):
    """``budget_days``: how the steps dated ``day`` changed the budget figures of the grants of
    one program, region, focus area and call (``''`` where a grant has none). Each measure
    column is a sum of :func:`grantflow.domain.budget.deltas` (the figures after a step less
    those before it): the budget report as of a day sums the rows up to that day.

    Derived data: written in the transaction of each step, rebuilt from the transition log by
    ``Store.rebuild_budget_days`` (and by migration ``0004`` for older databases).
    """

    program_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    day: Mapped[pendulum.Date] = mapped_column(BusinessDate(), primary_key=True)
    region: Mapped[str] = mapped_column(String(ID), primary_key=True)
    focus: Mapped[str] = mapped_column(String(ID), primary_key=True)
    call: Mapped[str] = mapped_column(String(ID), primary_key=True)
    grants: Mapped[int] = mapped_column(Integer)
    """Change in the number of grants that bind budget (approved, running, extended, closed)."""
    committed: Mapped[Decimal] = mapped_column(Money())
    disbursed: Mapped[Decimal] = mapped_column(Money())
    refunds: Mapped[Decimal] = mapped_column(Money())
    """Change in the refund claims still outstanding."""
    private: Mapped[Decimal] = mapped_column(Money())
    total_volume: Mapped[Decimal] = mapped_column(Money())
    notices: Mapped[int] = mapped_column(Integer)
    """Grant notices issued that day."""
    notice_amount: Mapped[Decimal] = mapped_column(Money())


@attrs.frozen(eq=False)
class Models:
    """grantflow's mapped classes and tables for one table prefix and schema."""

    prefix: str
    schema: str | None
    metadata: MetaData
    Actor: type[ActorColumns]
    Program: type[ProgramColumns]
    ProgramVersion: type[ProgramVersionColumns]
    GrantNumber: type[GrantNumberColumns]
    Grant: type[GrantColumns]
    Transition: type[TransitionColumns]
    Notice: type[NoticeColumns]
    Disbursement: type[DisbursementColumns]
    RefusedAttempt: type[RefusedAttemptColumns]
    AuditCheckpoint: type[AuditCheckpointColumns]
    BudgetDay: type[BudgetDayColumns]
    AdminEvent: type[AdminEventColumns]

    @property
    def version_table(self) -> str:
        """The name of Alembic's version table for this layout."""
        return f"{self.prefix}alembic_version"

    def table_names(self) -> tuple[str, ...]:
        """The full table names (with prefix, without schema), parents first."""
        return tuple(self.prefix + t for t in TABLES)


def _check_layout(prefix: str, schema: str | None) -> None:
    if prefix and not (prefix.replace("_", "").isalnum() and prefix.isascii()):
        raise ValueError(f"table prefix {prefix!r} may hold only ASCII letters, digits and _")
    if schema is not None and not (
        schema and schema.replace("_", "").isalnum() and schema.isascii()
    ):
        raise ValueError(f"schema {schema!r} may hold only ASCII letters, digits and _")


@functools.cache
def models_for(prefix: str = "", schema: str | None = None) -> Models:
    """The mapped classes for tables named ``<prefix><table>`` in ``schema`` (cached).

    Raises ValueError for a prefix or schema that is not a plain identifier.
    """
    _check_layout(prefix, schema)

    def ref(table: str, *columns: str) -> list[str]:
        qualified = f"{schema}.{prefix}{table}" if schema else f"{prefix}{table}"
        return [f"{qualified}.{c}" for c in columns]

    def fk(cols: list[str], table: str, *ref_cols: str) -> ForeignKeyConstraint:
        return ForeignKeyConstraint(cols, ref(table, *ref_cols))

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION, schema=schema)

    class Actor(ActorColumns, Base):
        __tablename__ = prefix + "actors"
        __table_args__ = (
            # migration 0006: names are unique whatever their case, logins unique
            Index(f"uq_{prefix}actors_name_key", text("lower(name)"), unique=True),
            Index(None, "login", unique=True),
        )

    class Program(ProgramColumns, Base):
        __tablename__ = prefix + "programs"

    class ProgramVersion(ProgramVersionColumns, Base):
        __tablename__ = prefix + "program_versions"
        __table_args__ = (fk(["program_id"], "programs", "id"),)

    class GrantNumber(GrantNumberColumns, Base):
        __tablename__ = prefix + "grant_numbers"
        __table_args__ = (fk(["program_id"], "programs", "id"),)

    class Grant(GrantColumns, Base):
        __tablename__ = prefix + "grants"
        __table_args__ = (
            fk(["program_id"], "programs", "id"),
            Index(None, "program_id"),
            Index(None, "state"),
            Index(None, "region"),
            Index(None, "focus"),
            Index(None, "call"),
            Index(None, "period_end"),
            # covering indexes of migration 0003: ix_grants_due is what `due` reads; the others
            # served the budget report before it summed budget_days (0004)
            Index(
                f"ix_{prefix}grants_report",
                "program_id", "region", "focus", "state", "committed_amount",
                "disbursed_amount", "private_funds", "eligible_costs", "id",
            ),
            Index(
                f"ix_{prefix}grants_of",
                "id", "program_id", "region", "focus", "private_funds", "eligible_costs",
            ),
            Index(f"ix_{prefix}grants_due", "state", "period_end"),
            # migration 0005: the grants that owe a refund (`due`)
            Index(f"ix_{prefix}grants_refunds", "refund_tranches", "last_business_date"),
        )  # fmt: skip

    class Transition(TransitionColumns, Base):
        __tablename__ = prefix + "transitions"
        __table_args__ = (
            fk(["grant_id"], "grants", "id"),
            fk(["actor"], "actors", "name"),
            UniqueConstraint("grant_id", "seq"),
            Index(None, "actor"),
            Index(None, "event"),
            Index(None, "business_date"),
            Index(None, "guideline_id"),
            Index(
                f"ix_{prefix}transitions_asof", "guideline_id", "grant_id", "business_date", "seq"
            ),
            Index(
                f"ix_{prefix}transitions_state", "grant_id", "seq", "to_state", "committed_amount"
            ),
            {"sqlite_autoincrement": True},
        )

    class Notice(NoticeColumns, Base):
        __tablename__ = prefix + "notices"
        __table_args__ = (
            # the money row and the record that made it: same grant, same seq
            fk(["grant_id", "seq"], "transitions", "grant_id", "seq"),
            UniqueConstraint("grant_id", "seq"),
            Index(f"ix_{prefix}notices_year", "grant_id", "event", "date", "amount"),
        )

    class Disbursement(DisbursementColumns, Base):
        __tablename__ = prefix + "disbursements"
        __table_args__ = (
            # the money row and the record that made it: same grant, same seq
            fk(["grant_id", "seq"], "transitions", "grant_id", "seq"),
            UniqueConstraint("grant_id", "seq"),
            Index(f"ix_{prefix}disbursements_asof", "grant_id", "date", "amount"),
        )

    class RefusedAttempt(RefusedAttemptColumns, Base):
        __tablename__ = prefix + "refused_attempts"
        __table_args__ = (
            Index(None, "grant_id"),
            Index(None, "actor"),
            {"sqlite_autoincrement": True},
        )

    class AuditCheckpoint(AuditCheckpointColumns, Base):
        __tablename__ = prefix + "audit_checkpoints"
        __table_args__ = (fk(["created_by"], "actors", "name"),)

    class BudgetDay(BudgetDayColumns, Base):
        __tablename__ = prefix + "budget_days"
        __table_args__ = (fk(["program_id"], "programs", "id"),)

    class AdminEvent(AdminEventColumns, Base):
        __tablename__ = prefix + "admin_events"
        __table_args__ = (Index(None, "subject"),)

    return Models(
        prefix=prefix,
        schema=schema,
        metadata=Base.metadata,
        Actor=Actor,
        Program=Program,
        ProgramVersion=ProgramVersion,
        GrantNumber=GrantNumber,
        Grant=Grant,
        Transition=Transition,
        Notice=Notice,
        Disbursement=Disbursement,
        RefusedAttempt=RefusedAttempt,
        AuditCheckpoint=AuditCheckpoint,
        BudgetDay=BudgetDay,
        AdminEvent=AdminEvent,
    )


__all__ = [
    "APPEND_ONLY",
    "NAMING_CONVENTION",
    "TABLES",
    "ActorColumns",
    "AdminEventColumns",
    "AuditCheckpointColumns",
    "BudgetDayColumns",
    "DisbursementColumns",
    "GrantColumns",
    "GrantNumberColumns",
    "Models",
    "NoticeColumns",
    "ProgramColumns",
    "ProgramVersionColumns",
    "RefusedAttemptColumns",
    "TransitionColumns",
    "models_for",
]
