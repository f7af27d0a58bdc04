"""Reads and writes on one connection; the caller owns the transaction.

:class:`Store` is what the service layer talks to. It never begins, commits or rolls back; it
runs the queries (``SELECT … FOR UPDATE`` where a step needs a row to stay put, the budget sums
in SQL) and writes rows. It speaks SQLAlchemy Core on the typed models' tables: statements are
built once per table layout (:class:`Statements`), because on SQLite building a statement costs
more than running it. Converting rows to domain objects is :mod:`grantflow.store.mapping`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs
import pendulum
from sqlalchemy import (
    Select,
    and_,
    bindparam,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row, RowMapping
from sqlalchemy.orm import aliased
from sqlalchemy.types import Integer, String

from grantflow.audit import chain, entries
from grantflow.domain import budget, lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.guideline import Program, ProgramVersion, no_version_in_force
from grantflow.domain.model import Actor, Event, Grant, Role, State, TransitionRecord
from grantflow.domain.money import ZERO
from grantflow.domain.rules import Exposure
from grantflow.errors import BadInput, ConcurrentUpdate, IntegrityFailure, NotFound, Refused
from grantflow.store import mapping
from grantflow.store.models import Models
from grantflow.store.types import json_type


@attrs.frozen
class Signature:
    """Who wrote a record and how grantflow established it (an
    :class:`~grantflow.domain.model.Assurance` value, or ``"migration"``); ``actor`` is
    ``None`` only for a migration."""

    actor: str | None
    assurance: str


@attrs.frozen
class Seal:
    """What a step reads of a grant's state besides the snapshot: the hash of the snapshot
    as stored, the state hash its newest record committed to (``None`` for a record older
    than migration ``0006``), and the query columns derived from the snapshot."""

    snapshot_hash: str
    committed: str | None
    columns: dict[str, Any]


@attrs.frozen
class VersionRef:
    """Which guideline version is in force, and what to rebuild it from."""

    program_id: str
    program_name: str
    short: str
    version: str
    content_hash: str


def _event(value: Event | str | None) -> Event | None:
    if value is None:
        return None
    try:
        return Event(value)
    except ValueError:
        known = ", ".join(e.value for e in Event)
        raise BadInput(f"{value!r} is not an event; known: {known}") from None


def _moment(value: dt.datetime | None, name: str) -> pendulum.DateTime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise BadInput(f"{name} {value!r} is not a date and time")
    if value.tzinfo is None:
        raise BadInput(f"{name} {value.isoformat()} has no time zone")
    return pendulum.instance(value)


def _recorded_since(value: dt.datetime | None) -> pendulum.DateTime | None:
    return _moment(value, "recorded_since")


def _recorded_until(value: dt.datetime | None) -> pendulum.DateTime | None:
    return _moment(value, "recorded_until")


@attrs.frozen(kw_only=True)
class LogFilter:
    """Which entries of the log to read or export; every criterion given must hold.

    ``None`` (the default) means no restriction, so ``LogFilter()`` is the whole log. Pass a
    filter to :meth:`Grantflow.log <grantflow.services.Grantflow.log>` or
    :meth:`~grantflow.services.Grantflow.export`, or its fields as keywords
    (``gf.log(grant_id="DMR-2019-0001")``). A bad value raises
    :class:`~grantflow.errors.BadInput` when the filter is made.
    """

    grant_id: str | None = None
    """Only this grant's entries."""
    program: str | None = None
    """Only steps under this program's guideline (its id)."""
    actor: str | None = None
    """Only steps taken (or attempted) by this actor."""
    event: Event | None = attrs.field(default=None, converter=_event)
    """Only this event (an :class:`~grantflow.Event` or its name, ``"approve"``)."""
    since: pendulum.Date | None = None
    """Business date on or after this day."""
    until: pendulum.Date | None = None
    """Business date on or before this day."""
    include_refused: bool = True
    """Refused attempts too (``False``: transitions only)."""
    region: str | None = None
    """Only grants of this region (for a refused application: the region applied for)."""
    recorded_since: pendulum.DateTime | None = attrs.field(default=None, converter=_recorded_since)
    """Recorded at or after this moment (a timezone-aware datetime)."""
    recorded_until: pendulum.DateTime | None = attrs.field(default=None, converter=_recorded_until)
    """Recorded at or before this moment (a timezone-aware datetime)."""

    @property
    def whole(self) -> bool:
        """Whether nothing is left out (the whole log, checkpoints included, can be verified)."""
        return self.include_refused and all(
            v is None
            for v in (
                self.grant_id,
                self.program,
                self.actor,
                self.event,
                self.since,
                self.until,
                self.region,
                self.recorded_since,
                self.recorded_until,
            )
        )


class Statements:
    """The statements of the hot path, built once per table layout (building a statement costs
    more than running it on SQLite)."""

    def __init__(self, m: Models) -> None:
        A, P, V, G, T = m.Actor, m.Program, m.ProgramVersion, m.Grant, m.Transition
        self.actor_roles = select(A.roles).where(A.name == bindparam("name"))
        self.actor_row = select(A.name, A.roles, A.login, A.active).where(
            A.name == bindparam("name")
        )
        self.grant_snapshot = select(G.snapshot, G.version).where(G.id == bindparam("id"))

        table = G.__table__  # type: ignore[attr-defined]
        # the optimistic check the mapper's version_id_col makes, written out for Core:
        self.update_grant = (
            update(G)
            .where(G.id == bindparam("where_id"), G.version == bindparam("where_version"))
            .values({c: bindparam(f"new_{c}", type_=table.c[c].type) for c in mapping.CHANGING})
        )
        self.version_in_force = (
            select(P.name, P.short, V.version, V.content_hash)
            .join(V, V.program_id == P.id)
            .where(P.id == bindparam("pid"), V.effective_from <= bindparam("day"))
            .order_by(V.effective_from.desc())
            .limit(1)
        )
        # The grant's row lock is FOR NO KEY UPDATE: it keeps other writers of the row out, but
        # not the foreign-key checks of inserts that merely refer to it (its records).
        # Everything a step on an existing grant reads, in one round trip: the grant row, the
        # actor's roles and the guideline version in force on the step's date.
        V2 = aliased(V)
        in_force = (
            select(func.max(V2.effective_from))
            .where(V2.program_id == G.program_id, V2.effective_from <= bindparam("day"))
            .scalar_subquery()
        )
        # the hash of the grant's newest record: the head its next record chains to. Read in
        # the statement that locks the row; on PostgreSQL a row that another writer changed
        # meanwhile comes back newer than this subquery's snapshot, and the head is then NULL
        # (no record with that seq yet) and read again (Store.insert_record).
        head = (
            select(T.hash)
            .where(T.grant_id == G.id, T.seq == G.version)
            .scalar_subquery()
            .label("head")
        )
        # the state the newest record committed to (NULL for a record older than migration
        # 0006): the grant row must still hold it (GrantflowService checks before deciding)
        head_state = (
            select(T.state_hash)
            .where(T.grant_id == G.id, T.seq == G.version)
            .scalar_subquery()
            .label("head_state")
        )
        self.step_context = (
            select(
                G.snapshot,
                G.version,
                head,
                head_state,
                *(getattr(G, c) for c in mapping.SEALED_COLUMNS),
                select(A.roles)
                .where(A.name == bindparam("actor"), A.active)
                .scalar_subquery()
                .label("roles"),
                P.name.label("program_name"),
                P.short,
                V.version.label("guideline_version"),
                V.content_hash,
            )
            .select_from(G)
            .join(P, P.id == G.program_id)
            .outerjoin(V, and_(V.program_id == G.program_id, V.effective_from == in_force))
            .where(G.id == bindparam("id"))
        )
        self.step_context_for_update = self.step_context.with_for_update(of=G, key_share=True)
        B = m.BudgetDay
        # what a program's grants bind, by region and call, and what it paid out by budget
        # year (R-ANNUALITY): summed over the budget days (all of them: a commitment dated
        # after today binds too), or up to a day
        year = extract("year", B.day)
        exposure = select(
            B.region, B.call, year.label("year"), func.sum(B.committed), func.sum(B.disbursed)
        ).group_by(B.region, B.call, year)
        self.exposure_now = exposure.where(B.program_id == bindparam("pid"))
        self.exposure_as_of = exposure.where(
            B.program_id == bindparam("pid"), B.day <= bindparam("day")
        )
        self.budget_sums = (
            select(
                B.region,
                B.focus,
                year.label("year"),
                *(func.sum(getattr(B, c)).label(c) for c in budget.MEASURES),
            )
            .where(B.program_id == bindparam("pid"), B.day <= bindparam("day"))
            .group_by(B.region, B.focus, year)
        )
        table_b = B.__table__  # type: ignore[attr-defined]
        self.add_budget_days: dict[str, Any] = {}
        for dialect, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert)):
            upsert = make(table_b)
            self.add_budget_days[dialect] = upsert.on_conflict_do_update(
                index_elements=[table_b.c[c] for c in BUDGET_KEY],
                set_={c: table_b.c[c] + upsert.excluded[c] for c in budget.MEASURES},
            )
        self.insert_grant = insert(G)
        self.insert_transition = insert(T)
        self.insert_disbursement = insert(m.Disbursement)
        self.insert_notice = insert(m.Notice)
        self.insert_refused = insert(m.RefusedAttempt)
        E = m.AdminEvent
        self.last_admin = select(E.id, E.hash).order_by(E.id.desc()).limit(1)
        self.insert_admin = insert(E)
        self.last_transition = select(func.max(T.id))
        self.record_hash = select(T.hash).where(
            T.grant_id == bindparam("gid"), T.seq == bindparam("seq")
        )
        R, C = m.RefusedAttempt, m.AuditCheckpoint
        self.last_refused = select(R.id, R.hash).order_by(R.id.desc()).limit(1)
        self.last_checkpoint = select(C.id, C.hash).order_by(C.id.desc()).limit(1)
        self.insert_checkpoint = insert(C)
        qualified = f"{m.schema}.{m.prefix}" if m.schema else m.prefix
        self.lock_namespace = f"grantflow {qualified}"
        """Where the advisory locks of this table layout are keyed."""
        self.audit_lock_key = int.from_bytes(
            hashlib.sha256(f"grantflow audit chain {qualified}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        """PostgreSQL advisory lock serialising the refused chain and the checkpoints of one
        table layout."""
        N = m.GrantNumber.__table__  # type: ignore[attr-defined]
        self.next_number: dict[str, Any] = {}
        for dialect, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert)):
            self.next_number[dialect] = (
                make(N)
                .values(program_id=bindparam("pid"), year=bindparam("year"), last_number=literal(1))
                .on_conflict_do_update(
                    index_elements=[N.c.program_id, N.c.year],
                    set_={"last_number": N.c.last_number + 1},
                )
                .returning(N.c.last_number)
            )


@functools.cache
def statements(models: Models) -> Statements:
    """The (cached) hot-path statements for ``models``."""
    return Statements(models)


class Store:
    """grantflow's queries on one connection (in the caller's transaction)."""

    def __init__(self, conn: Connection, models: Models) -> None:
        self.conn = conn
        self.m = models
        self.q = statements(models)
        self.dialect = conn.dialect.name
        self._heads: dict[str, tuple[int, str]] = {}
        """grant id -> (seq, hash) of its newest record, as read or written in this
        transaction (the head the next record chains to)."""
        self._state_hashes: dict[str, str] = {}
        """grant id -> hash of the snapshot this transaction wrote (the next record's
        ``state_hash``)."""

    # -- actors -------------------------------------------------------------------------------

    def actor(self, name: str) -> Actor:
        """The named, active actor. Raises NotFound (with a hint to ``grantflow actor add``),
        Refused for a deactivated one."""
        row = self.conn.execute(self.q.actor_row, {"name": name}).first()
        if row is None:
            raise NotFound(
                f"there is no actor {name!r}; an admin adds people with `grantflow actor add`"
            )
        if not row.active:
            raise Refused(f"{name} was deactivated and can no longer act")
        return mapping.actor_from_values(name, row.roles)

    def actor_named_like(self, name: str) -> str | None:
        """The stored name that equals ``name`` but for case (``None`` if there is none)."""
        A = self.m.Actor
        found: str | None = self.conn.execute(
            select(A.name).where(func.lower(A.name) == name.lower()).limit(1)
        ).scalar()
        if found is None:  # lower() in SQL folds ASCII only on SQLite: compare in Python too
            folded = name.casefold()
            for (stored,) in self.conn.execute(select(A.name)):
                if stored.casefold() == folded:
                    return str(stored)
        return found

    def actor_of_login(self, login: str) -> str | None:
        """The name of the active actor mapped to ``login`` (``None`` if there is none)."""
        A = self.m.Actor
        found: str | None = self.conn.execute(
            select(A.name).where(A.login == login, A.active)
        ).scalar_one_or_none()
        return found

    def login_taken(self, login: str) -> str | None:
        """The actor already mapped to ``login`` (``None`` if none is)."""
        A = self.m.Actor
        found: str | None = self.conn.execute(
            select(A.name).where(A.login == login)
        ).scalar_one_or_none()
        return found

    def actor_rows(self) -> list[tuple[str, list[str], str | None, bool]]:
        """``(name, roles, login, active)`` of every actor, by name."""
        A = self.m.Actor
        rows = self.conn.execute(select(A.name, A.roles, A.login, A.active).order_by(A.name)).all()
        return [(name, list(roles), login, bool(active)) for name, roles, login, active in rows]

    def actors(self) -> list[Actor]:
        """Every active actor, by name."""
        A = self.m.Actor
        rows = self.conn.execute(select(A.name, A.roles).where(A.active).order_by(A.name))
        return [mapping.actor_from_values(name, roles) for name, roles in rows]

    def has_actors(self) -> bool:
        """Whether any actor exists."""
        return self.conn.execute(select(self.m.Actor.name).limit(1)).first() is not None

    def actor_roles(self, name: str) -> list[str] | None:
        """The stored role names of ``name``; ``None`` if there is no such actor."""
        roles: list[str] | None = self.conn.execute(
            self.q.actor_roles, {"name": name}
        ).scalar_one_or_none()
        return roles

    def add_actor(self, actor: Actor, *, login: str, now: pendulum.DateTime, by: Signature) -> None:
        """INSERT an actor and its ``add`` record in the administrative chain."""
        roles = mapping.roles_to_json(actor.roles)
        self.conn.execute(
            insert(self.m.Actor),
            [
                {
                    "name": actor.name,
                    "roles": roles,
                    "login": login,
                    "active": True,
                    "created_at": now,
                    "created_by": by.actor,
                }
            ],
        )
        self.add_admin("add", actor.name, {"roles": roles, "login": login}, by=by, now=now)

    def set_roles(
        self, name: str, roles: frozenset[Role], *, now: pendulum.DateTime, by: Signature
    ) -> None:
        """Give ``name`` exactly ``roles`` (with its ``roles`` record)."""
        A = self.m.Actor
        stored = mapping.roles_to_json(roles)
        self.conn.execute(update(A).where(A.name == name).values(roles=stored))
        self.add_admin("roles", name, {"roles": stored}, by=by, now=now)

    def set_login(self, name: str, login: str, *, now: pendulum.DateTime, by: Signature) -> None:
        """Map ``name`` to ``login`` (with its ``login`` record)."""
        A = self.m.Actor
        self.conn.execute(update(A).where(A.name == name).values(login=login))
        self.add_admin("login", name, {"login": login}, by=by, now=now)

    def deactivate(self, name: str, *, now: pendulum.DateTime, by: Signature) -> None:
        """Deactivate ``name`` (never delete: the log names it), with its record."""
        A = self.m.Actor
        self.conn.execute(update(A).where(A.name == name).values(active=False))
        self.add_admin("deactivate", name, {}, by=by, now=now)

    # -- the administrative chain -------------------------------------------------------------

    def add_admin(
        self,
        action: str,
        subject: str | None,
        data: dict[str, Any],
        *,
        by: Signature,
        now: pendulum.DateTime,
    ) -> dict[str, Any]:
        """Append a record to the administrative chain (under the audit lock)."""
        self.lock_audit()
        last = self.conn.execute(self.q.last_admin).first()
        row: dict[str, Any] = {
            "id": last.id + 1 if last is not None else 1,
            "recorded_at": now,
            "actor": by.actor,
            "actor_auth": by.assurance,
            "action": action,
            "subject": subject,
            "data": data,
            "after_transition": self.last_transition_id(),
            "prev_hash": last.hash if last is not None else chain.GENESIS,
        }
        row["hash"] = chain.digest_of(entries.admin_payload(row))
        self.conn.execute(self.q.insert_admin, [row])
        return row

    def admin_flag(self, action: str) -> bool:
        """Whether the administrative chain holds a record of ``action`` (a setting of the
        database, such as ``declare-actors``)."""
        E = self.m.AdminEvent
        return (
            self.conn.execute(select(E.id).where(E.action == action).limit(1)).first() is not None
        )

    def admin_rows(self, *, subject: str | None = None, batch: int = 500) -> Iterator[RowMapping]:
        """The administrative records (of ``subject``), by id, streamed."""
        E = self.m.AdminEvent
        stmt = select(
            E.id,
            E.recorded_at,
            E.actor,
            E.actor_auth,
            E.action,
            E.subject,
            E.data,
            E.after_transition,
            E.prev_hash,
            E.hash,
        ).order_by(E.id)
        if subject is not None:
            stmt = stmt.where(func.lower(E.subject) == subject.lower())
        yield from self.conn.execute(stmt.execution_options(yield_per=batch)).mappings()

    def audit_admin(self, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every administrative record as stored, by id, streamed."""
        E = self.m.AdminEvent
        raw = self._raw
        stmt = select(
            E.id,
            raw(E.recorded_at),
            E.actor,
            E.actor_auth,
            E.action,
            E.subject,
            raw(E.data),
            E.after_transition,
            E.prev_hash,
            E.hash,
        ).order_by(E.id)
        return self._stream_raw(stmt, ("data",), batch)

    def admin_hash(self, admin_id: int) -> str | None:
        """The stored hash of administrative record ``admin_id`` (``None`` if there is none)."""
        E = self.m.AdminEvent
        found: str | None = self.conn.execute(
            select(E.hash).where(E.id == admin_id)
        ).scalar_one_or_none()
        return found

    def version_hashes(self) -> Iterator[tuple[str, str, str, pendulum.Date]]:
        """``(program id, version, content hash, effective from)`` of every stored version."""
        V = self.m.ProgramVersion
        yield from self.conn.execute(
            select(V.program_id, V.version, V.content_hash, V.effective_from)
        )

    # -- programs -----------------------------------------------------------------------------

    def program_row(self, program_id: str, *, lock: bool = False) -> Row[str, str, str] | None:
        """The program's row (``id``, ``name``, ``short``), ``FOR UPDATE`` with ``lock``."""
        P = self.m.Program
        stmt = select(P.id, P.name, P.short).where(P.id == program_id)
        if lock and self.dialect != "sqlite":
            stmt = stmt.with_for_update(key_share=True)
        return self.conn.execute(stmt).first()

    def add_program(self, program: Program, *, now: pendulum.DateTime) -> None:
        """INSERT a program's row (its versions come with :meth:`add_version`)."""
        self.conn.execute(
            insert(self.m.Program),
            [{"id": program.id, "name": program.name, "short": program.short, "created_at": now}],
        )

    def rename_program(self, program_id: str, name: str) -> None:
        """Change a program's display name."""
        P = self.m.Program
        self.conn.execute(update(P).where(P.id == program_id).values(name=name))

    def add_version(
        self, version: ProgramVersion, *, now: pendulum.DateTime, by: Signature
    ) -> None:
        """INSERT a guideline version with its resolved document and content hash, and its
        ``guideline`` record in the administrative chain."""
        self.conn.execute(
            insert(self.m.ProgramVersion),
            [
                {
                    "program_id": version.program_id,
                    "version": version.version,
                    "effective_from": version.effective_from,
                    "content_hash": version.content_hash,
                    "document": dict(version.document),
                    "loaded_at": now,
                    "loaded_by": by.actor,
                }
            ],
        )
        self.add_admin(
            "guideline",
            version.program_id,
            {
                "version": version.version,
                "content_hash": version.content_hash,
                "effective_from": version.effective_from.isoformat(),
            },
            by=by,
            now=now,
        )

    def lock_program(self, program_id: str) -> None:
        """A transaction-level advisory lock on the program: budget decisions of one program
        run one after the other (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
        writers). An advisory lock rather than ``SELECT … FOR UPDATE`` on the program row, so
        the staff's logins need no UPDATE right on ``programs`` (``grantflow db roles``)."""
        if self.dialect == "sqlite":
            return
        found = self.conn.execute(
            select(self.m.Program.id).where(self.m.Program.id == program_id)
        ).first()
        if found is None:
            raise NotFound(f"there is no program {program_id!r}")
        key = int.from_bytes(
            hashlib.sha256(f"{self.q.lock_namespace} program {program_id}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def program_ids(self) -> list[str]:
        """Every program id, sorted."""
        return list(self.conn.scalars(select(self.m.Program.id).order_by(self.m.Program.id)))

    def version_in_force(self, program_id: str, day: pendulum.Date) -> VersionRef:
        """The version of ``program_id`` in force on ``day``, picked in SQL as
        :func:`grantflow.domain.guideline.in_force` picks it. Raises NotFound."""
        V = self.m.ProgramVersion
        row = self.conn.execute(self.q.version_in_force, {"pid": program_id, "day": day}).first()
        if row is None:
            first = self.conn.execute(
                select(func.min(V.effective_from)).where(V.program_id == program_id)
            ).scalar_one_or_none()
            if first is None:
                raise NotFound(
                    f"there is no program {program_id!r}; an admin loads it with "
                    f"`grantflow program load`"
                )
            raise no_version_in_force(program_id, day, first)
        return VersionRef(program_id, row.name, row.short, row.version, row.content_hash)

    def version_refs(self, program_id: str) -> list[VersionRef]:
        """Every stored version of ``program_id``, oldest first (empty if there is none)."""
        P, V = self.m.Program, self.m.ProgramVersion
        rows = self.conn.execute(
            select(P.name, P.short, V.version, V.content_hash)
            .join(V, V.program_id == P.id)
            .where(P.id == program_id)
            .order_by(V.effective_from)
        )
        return [VersionRef(program_id, r.name, r.short, r.version, r.content_hash) for r in rows]

    def version_document(self, program_id: str, version: str) -> dict[str, Any]:
        """The stored resolved document of one version."""
        V = self.m.ProgramVersion
        document: dict[str, Any] = self.conn.execute(
            select(V.document).where(V.program_id == program_id, V.version == version)
        ).scalar_one()
        return document

    def stored_versions(self, program_id: str) -> dict[str, tuple[str, pendulum.Date]]:
        """version id -> (content hash, effective from) of every stored version."""
        V = self.m.ProgramVersion
        rows = self.conn.execute(
            select(V.version, V.content_hash, V.effective_from).where(V.program_id == program_id)
        )
        return {r.version: (r.content_hash, r.effective_from) for r in rows}

    # -- grants -------------------------------------------------------------------------------

    def step(
        self, grant_id: str, actor: str, day: pendulum.Date, *, lock: bool
    ) -> tuple[Grant, Actor, VersionRef, Seal]:
        """The grant (``FOR UPDATE`` with ``lock`` on PostgreSQL), the actor, the guideline
        version in force on ``day`` and what the row and its newest record say of the grant's
        state (:class:`Seal`), read in one statement. Raises NotFound."""
        q = self.q.step_context_for_update if lock and self.dialect != "sqlite" else None
        row = self.conn.execute(
            q if q is not None else self.q.step_context,
            {"id": grant_id, "actor": actor, "day": day},
        ).first()
        if row is None:
            self.actor(actor)  # an unknown actor is reported first, as everywhere
            raise NotFound(f"there is no grant {grant_id!r}")
        if row.roles is None:
            self.actor(actor)  # raises NotFound, or Refused for a deactivated actor
        grant = mapping.grant_from_snapshot(row.snapshot, row.version)
        if row.head is not None:
            self._heads[grant_id] = (row.version, row.head)
        if row.guideline_version is None:
            self.version_in_force(grant.program_id, day)  # raises NotFound
        ref = VersionRef(
            grant.program_id, row.program_name, row.short, row.guideline_version, row.content_hash
        )
        seal = Seal(
            snapshot_hash=chain.digest_of(row.snapshot),
            committed=row.head_state,
            columns={c: row._mapping[c] for c in mapping.SEALED_COLUMNS},
        )
        return grant, mapping.actor_from_values(actor, row.roles), ref, seal

    def grant_exists(self, grant_id: str) -> bool:
        """Whether the grant has a row."""
        found = self.conn.execute(select(self.m.Grant.id).where(self.m.Grant.id == grant_id))
        return found.first() is not None

    def grant(self, grant_id: str) -> Grant:
        """The grant's current state (from its snapshot row), without locking. Raises
        NotFound."""
        row = self.conn.execute(self.q.grant_snapshot, {"id": grant_id}).first()
        if row is None:
            raise NotFound(f"there is no grant {grant_id!r}")
        return mapping.grant_from_snapshot(row.snapshot, row.version)

    def grants(
        self, *, program: str | None, state: State | None, region: str | None
    ) -> list[Grant]:
        """The grants matching every filter given, by id."""
        G = self.m.Grant
        stmt = select(G.snapshot, G.version).order_by(G.id)
        if program is not None:
            stmt = stmt.where(G.program_id == program)
        if state is not None:
            stmt = stmt.where(G.state == State(state).value)
        if region is not None:
            stmt = stmt.where(G.region == region)
        return [mapping.grant_from_snapshot(s, v) for s, v in self.conn.execute(stmt)]

    def next_number(self, program_id: str, year: int) -> int:
        """The next grant number of ``program_id`` in ``year``, counted up inside the caller's
        transaction (an upsert that locks the counter row), so a refused proposal gives its
        number back."""
        upsert = self.q.next_number.get(self.dialect)
        if upsert is None:  # pragma: no cover - grantflow runs on SQLite and PostgreSQL
            raise BadInput(f"grantflow does not support {self.dialect} databases")
        number: int = self.conn.execute(upsert, {"pid": program_id, "year": year}).scalar_one()
        return number

    # -- budget sums --------------------------------------------------------------------------

    def exposure(self, program_id: str, as_of: pendulum.Date | None = None) -> Exposure:
        """What the program's grants bind, summed in SQL over the budget days: in total, by
        region and by call (every commitment recorded, or with ``as_of`` each grant's
        commitment after its last step dated on or before that day), and what it paid out in
        each budget year (payments dated on or before ``as_of``)."""
        params: dict[str, Any] = {"pid": program_id}
        if as_of is None:
            stmt = self.q.exposure_now
        else:
            stmt = self.q.exposure_as_of
            params["day"] = as_of
        total = ZERO
        regions: dict[str, Decimal] = {}
        calls: dict[str, Decimal] = {}
        years: dict[int, Decimal] = {}
        for region, call, year, committed, disbursed in self.conn.execute(stmt, params):
            amount = committed if committed is not None else ZERO
            total += amount
            if region:
                regions[region] = regions.get(region, ZERO) + amount
            if call:
                calls[call] = calls.get(call, ZERO) + amount
            if disbursed:
                years[int(year)] = years.get(int(year), ZERO) + disbursed
        return Exposure(total, regions, calls, years)

    # -- the transition log -------------------------------------------------------------------

    def records(self, grant_id: str) -> list[TransitionRecord]:
        """The grant's transition records in order (empty if there are none)."""
        T = self.m.Transition
        rows = self.conn.execute(
            select(*_RECORD_COLUMNS(T)).where(T.grant_id == grant_id).order_by(T.seq)
        )
        return [mapping.record_from_values(**r) for r in rows.mappings()]

    def last_transition_id(self) -> int | None:
        """The newest transition id (``None`` before the first)."""
        value: int | None = self.conn.execute(self.q.last_transition).scalar()
        return value

    def lock_audit(self) -> None:
        """Serialise appending to the refused chain and to the checkpoints: a transaction-level
        advisory lock on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
        if self.dialect == "postgresql":
            self.conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.q.audit_lock_key}
            )

    def add_refused(self, values: dict[str, Any]) -> None:
        """INSERT a refused attempt at the end of the refused chain (under the chain's lock),
        placed in the log after the newest transition."""
        self.lock_audit()
        last = self.conn.execute(self.q.last_refused).first()
        row = {
            **values,
            "id": last.id + 1 if last is not None else 1,
            "after_transition": self.last_transition_id(),
            "prev_hash": last.hash if last is not None else chain.GENESIS,
        }
        row["hash"] = chain.digest_of(entries.refused_payload(row))
        self.conn.execute(self.q.insert_refused, [row])

    def update_grant(self, before: Grant, after: Grant, *, now: pendulum.DateTime) -> None:
        """UPDATE the grant's row to ``after`` if it is still at ``before.version``; raises
        ConcurrentUpdate if another writer changed it (the ``version_id_col`` check)."""
        values = mapping.grant_values(after, now=now)
        self._state_hashes[after.id] = chain.digest_of(values["snapshot"])
        params = {f"new_{c}": values[c] for c in mapping.CHANGING}
        params["where_id"] = before.id
        params["where_version"] = before.version
        result = self.conn.execute(self.q.update_grant, params)
        if result.rowcount != 1:
            raise ConcurrentUpdate(
                f"grant {before.id} changed since it was read at version {before.version}; "
                f"retrying the step is safe"
            )

    def insert_grant(self, grant: Grant, *, now: pendulum.DateTime) -> None:
        """INSERT the row of a new grant."""
        values = mapping.grant_values(grant, now=now)
        self._state_hashes[grant.id] = chain.digest_of(values["snapshot"])
        self.conn.execute(self.q.insert_grant, [values])

    def insert_record(
        self,
        record: TransitionRecord,
        after: Grant,
        *,
        before: Grant | None,
        signature: Signature,
        guideline_hash: str,
    ) -> None:
        """INSERT the transition record, chained to the grant's previous record, then the money
        row it makes (if any), and add what the step changed in the budget figures to the
        record's budget day (:meth:`add_budget_deltas`). ``before`` is the grant the record
        was applied to (``None`` for a proposal), ``after`` the grant it made (and wrote with
        :meth:`update_grant` or :meth:`insert_grant`: the record commits to that snapshot's
        hash). ``signature`` says how the actor was established; ``guideline_hash`` is the
        content hash of the guideline version that judged the step."""
        values = mapping.transition_values(record, committed=after.committed_amount)
        state_hash = self._state_hashes.pop(record.grant_id, None)
        if state_hash is None:
            state_hash = chain.digest_of(to_data(after))
        values["state_hash"] = state_hash
        values["actor_auth"] = signature.assurance
        values["guideline_hash"] = guideline_hash
        values["prev_hash"] = self._head_before(record)
        values["hash"] = chain.digest_of(entries.transition_payload(values))
        self.conn.execute(self.q.insert_transition, [values])
        self._heads[record.grant_id] = (record.seq, values["hash"])
        made = mapping.money_values(record, after)
        if made is not None:
            table, values = made
            q = self.q.insert_disbursement if table == "disbursements" else self.q.insert_notice
            self.conn.execute(q, [values])
        self.add_budget_deltas(record.business_date, before, after)

    # -- the budget days (derived from the log) -----------------------------------------------

    def add_budget_deltas(self, day: pendulum.Date, before: Grant | None, after: Grant) -> None:
        """Add ``figures(after) - figures(before)`` (:func:`grantflow.domain.budget.deltas`) to
        the ``budget_days`` rows of ``day``, in one ``INSERT … ON CONFLICT DO UPDATE``; nothing
        when no figure changes.

        The rows are locked in key order, so two steps can never wait for each other's rows
        (a step that moves a grant to another region touches two rows). On PostgreSQL the
        row lock is held to the end of the step's transaction: a concurrent step on the same
        day and key waits, then adds to the committed sum, so the rows always add up to what
        the committed log says.
        """
        changes = budget.deltas(before, after)
        if not changes:
            return
        self.conn.execute(
            self._budget_upsert(),
            [_budget_row(day, k, change) for k, change in changes],
        )

    def _budget_upsert(self) -> Any:
        upsert = self.q.add_budget_days.get(self.dialect)
        if upsert is None:  # pragma: no cover - grantflow runs on SQLite and PostgreSQL
            raise BadInput(f"grantflow does not support {self.dialect} databases")
        return upsert

    def budget_sums(self, program_id: str, day: pendulum.Date) -> list[Row[Any]]:
        """The budget figures of ``program_id`` at the end of ``day``, summed over the budget
        days up to it: one row per region, focus area and year of the business date, with
        every measure of :data:`grantflow.domain.budget.MEASURES` (one statement, so one
        consistent view)."""
        return list(self.conn.execute(self.q.budget_sums, {"pid": program_id, "day": day}))

    def computed_budget_days(
        self, program_id: str | None = None, *, batch: int = 2000
    ) -> dict[tuple[pendulum.Date, budget.BudgetKey], budget.BudgetFigures]:
        """What ``budget_days`` should hold for ``program_id`` (every program with ``None``),
        computed from the transition log: each grant's records replayed in order, streamed
        grant by grant, every step's change summed per day and key (zero sums left out)."""
        T = self.m.Transition
        stmt = select(*_REPLAY_COLUMNS(T)).order_by(T.grant_id, T.seq)
        if program_id is not None:
            stmt = stmt.where(T.guideline_id == program_id)
        records = self._replay_records(stmt, batch)
        sums: dict[tuple[pendulum.Date, budget.BudgetKey], budget.BudgetFigures] = {}
        for day, k, change in budget.day_deltas(records):
            at = (day, k)
            sums[at] = sums.get(at, budget.NOTHING) + change
        return {at: f for at, f in sums.items() if f}

    def stored_budget_days(
        self, program_id: str | None = None
    ) -> dict[tuple[pendulum.Date, budget.BudgetKey], budget.BudgetFigures]:
        """What ``budget_days`` holds for ``program_id`` (every program with ``None``), rows
        whose figures are all zero left out."""
        B = self.m.BudgetDay
        stmt = select(B.day, *(getattr(B, c) for c in BUDGET_KEY if c != "day"))
        stmt = stmt.add_columns(*(getattr(B, c) for c in budget.MEASURES))
        if program_id is not None:
            stmt = stmt.where(B.program_id == program_id)
        out: dict[tuple[pendulum.Date, budget.BudgetKey], budget.BudgetFigures] = {}
        for row in self.conn.execute(stmt):
            day, program, region, focus, call, *measures = row
            figures = budget.BudgetFigures(*measures)
            if figures:
                out[(day, budget.BudgetKey(program, region, focus, call))] = figures
        return out

    def rebuild_budget_days(self, program_id: str | None = None) -> int:
        """Replace the ``budget_days`` rows of ``program_id`` (every program with ``None``) by
        what the transition log says (:meth:`computed_budget_days`); returns the number of rows
        written.

        On PostgreSQL the table is locked (``EXCLUSIVE``: readers go on, writers wait) before
        the log is read, so a step committed meanwhile is either in the log read here or adds
        its change after the rebuild; SQLite's ``BEGIN IMMEDIATE`` already excludes writers.
        """
        B = self.m.BudgetDay
        if self.dialect == "postgresql":
            name = self.conn.dialect.identifier_preparer.format_table(B.__table__)  # type: ignore[attr-defined]
            self.conn.execute(text(f"LOCK TABLE {name} IN EXCLUSIVE MODE"))
        wipe = delete(B)
        if program_id is not None:
            wipe = wipe.where(B.program_id == program_id)
        self.conn.execute(wipe)
        rows = [
            _budget_row(day, k, figures)
            for (day, k), figures in sorted(
                self.computed_budget_days(program_id).items(),
                key=lambda item: (item[0][0], attrs.astuple(item[0][1])),
            )
        ]
        table = B.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            self.conn.execute(insert(table), rows[start : start + 5000])
        return len(rows)

    def rebuild_refund_rows(self, *, batch: int = 2000) -> int:
        """Write the snapshot and the refund columns (:func:`mapping.refund_values`) of every
        grant that has a refund claim again, from the replay of its records; returns how many
        grants were written. Migration 0005 runs it: the snapshots it finds keep no day on which
        each tranche of a claim arose (``ClaimTranche.arose_on``), the replay does.

        A grant has a claim exactly when it paid more than it binds (``disbursed_amount >
        committed_amount``: a closed or revoked grant binds its final amount, any other its
        approved amount); the other grants owe nothing and keep their rows.
        """
        G = self.m.Grant
        owing = select(G.id).where(G.disbursed_amount > G.committed_amount)
        columns = ("snapshot", "refund_outstanding", "refund_due", "refund_tranches")
        return self._rebuild_rows(owing, columns, batch)

    def rebuild_grant_rows(self, *, batch: int = 2000) -> int:
        """Write every grant's row (its snapshot and every column a step changes) again from
        the replay of its records; returns how many grants were written. Migration 0006 runs
        it: the log, not the row, is what the state commitments start from, and snapshots
        written before keep no record of who decided and paid (``Grant.approved_by``, …)."""
        columns = tuple(c for c in mapping.CHANGING if c not in ("version", "updated_at"))
        return self._rebuild_rows(select(self.m.Grant.id), columns, batch)

    def _rebuild_rows(self, which: Any, columns: tuple[str, ...], batch: int) -> int:
        G, T = self.m.Grant, self.m.Transition
        stmt = (
            select(*_REPLAY_COLUMNS(T))
            .where(T.grant_id.in_(which.scalar_subquery()))
            .order_by(T.grant_id, T.seq)
        )
        table = G.__table__  # type: ignore[attr-defined]
        write = (
            update(G)
            .where(G.id == bindparam("where_id"))
            .values({c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns})
        )
        pending: list[dict[str, Any]] = []
        written = 0
        records = self._replay_records(stmt, batch)
        for grant_id, own in itertools.groupby(records, key=lambda r: r.grant_id):
            grant = lifecycle.replay(own)
            assert grant is not None
            values = mapping.grant_values(grant, now=_UNREAD)
            pending.append({"where_id": grant_id, **{f"new_{c}": values[c] for c in columns}})
            if len(pending) >= batch:
                written += self._write_pending(write, pending)
        return written + self._write_pending(write, pending)

    def _replay_records(self, stmt: Any, batch: int) -> Iterator[TransitionRecord]:
        """The records ``stmt`` (a select of :func:`_REPLAY_COLUMNS`) finds, streamed ``batch``
        rows at a time, with what a replay does not read left empty."""
        result = self.conn.execute(stmt.execution_options(yield_per=batch))
        for row in result.mappings():
            yield mapping.record_from_values(**row, recorded_at=_UNREAD, reason="", verdicts=())

    def _write_pending(self, stmt: Any, pending: list[dict[str, Any]]) -> int:
        if pending:
            self.conn.execute(stmt, pending)
        n = len(pending)
        pending.clear()
        return n

    def budget_days_problems(self, program_id: str | None = None) -> list[str]:
        """Where ``budget_days`` differs from what the transition log says (empty: it agrees),
        one line per day and key. Replays the whole log of ``program_id`` (every program with
        ``None``)."""
        stored = self.stored_budget_days(program_id)
        computed = self.computed_budget_days(program_id)
        problems = []
        for at in sorted(
            stored.keys() | computed.keys(), key=lambda a: (a[0], attrs.astuple(a[1]))
        ):
            have, want = stored.get(at, budget.NOTHING), computed.get(at, budget.NOTHING)
            if have == want:
                continue
            day, k = at
            where = "/".join(x or "-" for x in (k.program_id, k.region, k.focus, k.call))
            wrong = ", ".join(
                f"{name} {a} (the log says {b})"
                for name, a, b in zip(budget.MEASURES, have.values(), want.values(), strict=True)
                if a != b
            )
            problems.append(f"budget_days {day.isoformat()} {where}: {wrong}")
        return problems

    def log_rows(self, f: LogFilter, *, batch: int = 500) -> Iterator[RowMapping]:
        """Transitions and (optionally) refused attempts matching ``f``, in recorded order,
        streamed ``batch`` rows at a time."""
        T, R = self.m.Transition, self.m.RefusedAttempt
        json_null = cast(null(), json_type())
        text_null = cast(null(), String())
        int_null = cast(null(), Integer())
        transitions = select(
            T.id.label("order_id"),
            literal(0).label("kind"),
            T.id.label("id"),
            T.grant_id,
            T.seq,
            T.event,
            T.from_state,
            T.to_state,
            T.business_date,
            T.recorded_at,
            T.actor,
            T.reason,
            T.data,
            T.verdicts,
            T.guideline_id,
            T.guideline_version,
            json_null.label("rule_ids"),
            text_null.label("code"),
            text_null.label("message"),
            T.state_hash,
            T.actor_auth,
            T.guideline_hash,
            T.prev_hash,
            T.hash,
        ).where(*_conditions(T, f, self.m))
        parts: list[Select[*tuple[Any, ...]]] = [transitions]
        if f.include_refused:
            parts.append(
                select(
                    func.coalesce(R.after_transition, 0).label("order_id"),
                    literal(1).label("kind"),
                    R.id.label("id"),
                    R.grant_id,
                    int_null.label("seq"),
                    R.event,
                    R.from_state,
                    text_null.label("to_state"),
                    R.business_date,
                    R.recorded_at,
                    R.actor,
                    R.reason,
                    R.data,
                    R.verdicts,
                    R.guideline_id,
                    R.guideline_version,
                    R.rule_ids,
                    R.code,
                    R.message,
                    text_null.label("state_hash"),
                    R.actor_auth,
                    R.guideline_hash,
                    R.prev_hash,
                    R.hash,
                ).where(*_conditions(R, f, self.m))
            )
        combined = union_all(*parts).subquery() if len(parts) > 1 else transitions.subquery()
        stmt = select(combined).order_by(combined.c.order_id, combined.c.kind, combined.c.id)
        result = self.conn.execute(stmt.execution_options(yield_per=batch))
        yield from result.mappings()

    # -- the audit chains ---------------------------------------------------------------------

    def _head_before(self, record: TransitionRecord) -> str:
        """The hash ``record`` chains to: its grant's previous record's (64 zeros for seq 1),
        from what this transaction read with the grant row or wrote, or else read now (the
        grant row is locked, so the previous record cannot change)."""
        if record.seq == 1:
            return chain.GENESIS
        known = self._heads.get(record.grant_id)
        if known is not None and known[0] == record.seq - 1:
            return known[1]
        found: str | None = self.conn.execute(
            self.q.record_hash, {"gid": record.grant_id, "seq": record.seq - 1}
        ).scalar_one_or_none()
        if found is None:
            raise IntegrityFailure(
                f"grant {record.grant_id} has no record {record.seq - 1} to chain record "
                f"{record.seq} to; run `grantflow audit verify`"
            )
        return found

    def chain_heads(self) -> list[list[Any]]:
        """``[grant_id, seq, hash]`` of every grant's newest record."""
        T = self.m.Transition
        last = (
            select(T.grant_id.label("gid"), func.max(T.seq).label("top"))
            .group_by(T.grant_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(T.grant_id, T.seq, T.hash).join(
                last, and_(last.c.gid == T.grant_id, last.c.top == T.seq)
            )
        )
        return [[gid, seq, h] for gid, seq, h in rows]

    def add_checkpoint(self, *, by: str, now: pendulum.DateTime) -> dict[str, Any]:
        """Seal the head of every chain in a new checkpoint (under the audit lock); returns the
        checkpoint's row values."""
        self.lock_audit()
        last = self.conn.execute(self.q.last_checkpoint).first()
        refused = self.conn.execute(self.q.last_refused).first()
        admin = self.conn.execute(self.q.last_admin).first()
        payload = chain.checkpoint_payload(
            checkpoint_id=last.id + 1 if last is not None else 1,
            created_at=chain.utc_iso(now),
            created_by=by,
            heads=self.chain_heads(),
            refused_head=[refused.id, refused.hash] if refused is not None else None,
            prev_hash=last.hash if last is not None else chain.GENESIS,
            admin_head=[admin.id, admin.hash] if admin is not None else None,
        )
        row = {
            "id": payload["checkpoint_id"],
            "created_at": now,
            "created_by": by,
            "heads": payload["heads"],
            "refused_head": payload["refused_head"],
            "admin_head": payload.get("admin_head"),
            "prev_hash": payload["prev_hash"],
            "hash": chain.digest_of(payload),
        }
        self.conn.execute(self.q.insert_checkpoint, [row])
        return row

    def checkpoint_rows(self, *, batch: int = 10) -> Iterator[RowMapping]:
        """Every checkpoint (heads included), by id, streamed."""
        C = self.m.AuditCheckpoint
        stmt = select(
            C.id,
            C.created_at,
            C.created_by,
            C.heads,
            C.refused_head,
            C.admin_head,
            C.prev_hash,
            C.hash,
        )
        result = self.conn.execute(stmt.order_by(C.id).execution_options(yield_per=batch))
        yield from result.mappings()

    def _raw(self, column: Any) -> Any:
        """``column`` without its type's result processing (verification reads the stored
        values as the driver returns them: see :mod:`grantflow.audit.entries`)."""
        return type_coerce(column, String()).label(column.key)

    def audit_transitions(
        self, *, batch: int = 2000, with_rows: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every transition record as stored, by grant and ``seq``, streamed. With
        ``with_rows`` the record whose ``seq`` is its grant row's version also carries that
        row: ``row_snapshot`` and ``row_<column>`` (:data:`grantflow.store.mapping.DERIVED`),
        and ``row_snapshot_present``."""
        T = self.m.Transition
        raw = self._raw
        if with_rows:
            G = self.m.Grant
            joined = (
                select(
                    *self._audit_transition_columns(T),
                    raw(G.snapshot).label("row_snapshot"),
                    (G.id.is_not(None)).label("row_snapshot_present"),
                    *(getattr(G, c).label(f"row_{c}") for c in mapping.DERIVED),
                )
                .outerjoin(G, and_(G.id == T.grant_id, G.version == T.seq))
                .order_by(T.grant_id, T.seq)
            )
            return self._stream_raw(joined, ("data", "verdicts", "row_snapshot"), batch)
        stmt = select(*self._audit_transition_columns(T)).order_by(T.grant_id, T.seq)
        return self._stream_raw(stmt, ("data", "verdicts"), batch)

    def _audit_transition_columns(self, T: Any) -> tuple[Any, ...]:
        raw = self._raw
        return (
            T.id,
            T.grant_id,
            T.seq,
            T.event,
            T.from_state,
            T.to_state,
            raw(T.business_date),
            raw(T.recorded_at),
            T.actor,
            T.reason,
            raw(T.data),
            raw(T.verdicts),
            T.guideline_id,
            T.guideline_version,
            T.state_hash,
            T.actor_auth,
            T.guideline_hash,
            T.prev_hash,
            T.hash,
        )

    def audit_refused(self, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every refused attempt as stored, by id, streamed."""
        R = self.m.RefusedAttempt
        raw = self._raw
        stmt = select(
            R.id,
            R.grant_id,
            R.event,
            R.from_state,
            raw(R.business_date),
            raw(R.recorded_at),
            R.actor,
            R.reason,
            raw(R.data),
            raw(R.verdicts),
            raw(R.rule_ids),
            R.code,
            R.message,
            R.guideline_id,
            R.guideline_version,
            R.actor_auth,
            R.guideline_hash,
            R.prev_hash,
            R.hash,
        ).order_by(R.id)
        return self._stream_raw(stmt, ("data", "verdicts", "rule_ids"), batch)

    def _stream_raw(
        self, stmt: Select[*tuple[Any, ...]], json_keys: tuple[str, ...], batch: int
    ) -> Iterator[dict[str, Any]]:
        text_json = self.dialect == "sqlite"
        result = self.conn.execute(stmt.execution_options(yield_per=batch))
        keys = list(result.keys())
        for row in result:
            values = dict(zip(keys, row, strict=True))
            if text_json:
                for key in json_keys:
                    values[key] = entries.json_value(values[key], text=True)
            yield values

    def audit_grants(self, *, batch: int = 2000) -> Iterator[tuple[str, int | None, int | None]]:
        """``(grant id, version of its grants row, seq of its newest record)`` for every grant
        that has a row or records (``None`` where one side is missing)."""
        G, T = self.m.Grant, self.m.Transition
        last = (
            select(T.grant_id.label("gid"), func.max(T.seq).label("top"))
            .group_by(T.grant_id)
            .subquery()
        )
        with_records = select(last.c.gid, G.version, last.c.top).outerjoin(G, G.id == last.c.gid)
        without = select(G.id, G.version, cast(null(), Integer())).where(
            ~select(T.id).where(T.grant_id == G.id).exists()
        )
        for stmt in (with_records, without):
            result = self.conn.execute(stmt.execution_options(yield_per=batch))
            yield from ((gid, version, top) for gid, version, top in result)

    def checkpoint_ids(self) -> list[int]:
        """The id of every checkpoint, in order."""
        C = self.m.AuditCheckpoint
        return list(self.conn.scalars(select(C.id).order_by(C.id)))

    def audit_checkpoint(self, checkpoint_id: int) -> dict[str, Any]:
        """One checkpoint's stored values but its heads; on PostgreSQL also ``heads_type``
        (what its heads column holds: ``array`` when intact)."""
        C = self.m.AuditCheckpoint
        columns = [
            C.id,
            self._raw(C.created_at),
            C.created_by,
            self._raw(C.refused_head),
            self._raw(C.admin_head),
            C.prev_hash,
            C.hash,
        ]
        if self.dialect == "postgresql":
            columns.append(func.jsonb_typeof(C.heads).label("heads_type"))
        row = self.conn.execute(select(*columns).where(C.id == checkpoint_id)).one()
        values = dict(row._mapping)
        for key in ("refused_head", "admin_head"):
            values[key] = entries.json_value(values[key], text=self.dialect == "sqlite")
        return values

    def checkpoint_heads(
        self, checkpoint_id: int, *, batch: int = 500
    ) -> Iterator[tuple[Any, str | None]]:
        """The heads a checkpoint sealed, in stored order, each with the hash the record it
        names has now (``None`` if there is no such record), streamed in constant memory: a
        checkpoint holds one head per grant.

        PostgreSQL expands the heads column and looks every head up in the ``(grant_id, seq)``
        index itself (on the server, streamed through a server-side cursor). On SQLite the
        column is read in chunks through SQLite's incremental BLOB I/O and parsed element by
        element (expanding it in SQL would hold all of it in this process), and each ``batch``
        of heads is looked up in the index in one statement.
        """
        if self.dialect == "sqlite":
            yield from self._sqlite_heads(checkpoint_id, batch)
            return
        C = self.m.AuditCheckpoint.__table__  # type: ignore[attr-defined]
        T = self.m.Transition.__table__  # type: ignore[attr-defined]
        quote = self.conn.dialect.identifier_preparer.format_table
        sql = (
            "SELECT e.value::text AS value, t.hash AS stored "
            f"FROM {quote(C)} AS c CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN "
            "jsonb_typeof(c.heads) = 'array' THEN c.heads ELSE '[]'::jsonb END) "
            f"WITH ORDINALITY AS e(value, n) LEFT JOIN {quote(T)} AS t "
            "ON jsonb_typeof(e.value) = 'array' AND t.grant_id = e.value ->> 0 "
            "AND t.seq = CASE WHEN jsonb_typeof(e.value -> 1) = 'number' "
            "AND (e.value ->> 1) ~ '^[0-9]{1,9}$' THEN (e.value ->> 1)::integer END "
            "WHERE c.id = :id ORDER BY e.n"
        )
        result = self.conn.execute(
            text(sql).execution_options(yield_per=2000), {"id": checkpoint_id}
        )
        for value, stored in result:
            yield json.loads(value), stored

    def _sqlite_heads(self, checkpoint_id: int, batch: int) -> Iterator[tuple[Any, str | None]]:
        table = self.m.AuditCheckpoint.__table__  # type: ignore[attr-defined]
        raw: Any = self.conn.connection.dbapi_connection

        def chunks() -> Iterator[bytes]:
            if not hasattr(raw, "blobopen"):  # another driver than the standard library's
                whole = self.conn.execute(
                    select(self._raw(self.m.AuditCheckpoint.heads)).where(
                        self.m.AuditCheckpoint.id == checkpoint_id
                    )
                ).scalar()
                yield whole.encode("utf-8") if isinstance(whole, str) else b""
                return
            try:
                blob = raw.blobopen(table.name, "heads", checkpoint_id, readonly=True)
            except sqlite3.Error:  # not text (NULL, a number): no array at all
                return
            with blob:
                while chunk := blob.read(1 << 16):
                    yield chunk

        pending: list[Any] = []
        for head in entries.iter_json_array(chunks()):
            pending.append(head)
            if len(pending) >= batch:
                yield from self._sqlite_lookup(pending)
                pending = []
        yield from self._sqlite_lookup(pending)

    def _sqlite_lookup(self, heads: list[Any]) -> Iterator[tuple[Any, str | None]]:
        if not heads:
            return
        keys = [
            h[:2] if isinstance(h, list) and len(h) == 3 and isinstance(h[0], str) else None
            for h in heads
        ]
        T = self.m.Transition.__table__  # type: ignore[attr-defined]
        sql = (
            "SELECT j.key, t.hash FROM json_each(:keys) AS j LEFT JOIN "
            f"{self.conn.dialect.identifier_preparer.format_table(T)} AS t "
            "ON t.grant_id = json_extract(j.value, '$[0]') "
            "AND t.seq = json_extract(j.value, '$[1]')"
        )
        rows = self.conn.execute(text(sql), {"keys": json.dumps(keys)})
        found: dict[int, str | None] = dict(rows.all())
        for i, head in enumerate(heads):
            yield head, found.get(i)

    def refused_hash(self, refused_id: int) -> str | None:
        """The stored hash of refused attempt ``refused_id`` (``None`` if there is none)."""
        R = self.m.RefusedAttempt
        found: str | None = self.conn.execute(
            select(R.hash).where(R.id == refused_id)
        ).scalar_one_or_none()
        return found


_UNREAD = pendulum.datetime(1970, 1, 1, tz="UTC")
"""The recording time of records replayed for the budget days and the refund rows (which it
does not change)."""

BUDGET_KEY = ("program_id", "day", "region", "focus", "call")
"""The key columns of ``budget_days``."""


def _budget_row(
    day: pendulum.Date, k: budget.BudgetKey, figures: budget.BudgetFigures
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "program_id": k.program_id,
        "day": day,
        "region": k.region,
        "focus": k.focus,
        "call": k.call,
    }
    row.update(zip(budget.MEASURES, figures.values(), strict=True))
    return row


def _REPLAY_COLUMNS(T: Any) -> tuple[Any, ...]:
    """What replaying a record reads of it (``apply``): not its recording time, reason or
    verdicts (for rebuilding derived data from the log)."""
    return (
        T.grant_id,
        T.seq,
        T.event,
        T.from_state,
        T.to_state,
        T.business_date,
        T.actor,
        T.data,
        T.guideline_id,
        T.guideline_version,
    )


def _RECORD_COLUMNS(T: Any) -> tuple[Any, ...]:
    """Every column of a record that :func:`mapping.record_from_values` takes."""
    return (*_REPLAY_COLUMNS(T), T.recorded_at, T.reason, T.verdicts)


def _conditions(table: Any, f: LogFilter, m: Models) -> Sequence[Any]:
    out: list[Any] = []
    if f.grant_id is not None:
        out.append(table.grant_id == f.grant_id)
    if f.region is not None:
        G = m.Grant
        in_region = table.grant_id.in_(select(G.id).where(G.region == f.region))
        if table is m.RefusedAttempt:  # a refused application has no grant, but a region
            in_region = or_(
                in_region,
                and_(table.grant_id.is_(None), table.data["region"].as_string() == f.region),
            )
        out.append(in_region)
    if f.recorded_since is not None:
        out.append(table.recorded_at >= f.recorded_since)
    if f.recorded_until is not None:
        out.append(table.recorded_at <= f.recorded_until)
    if f.program is not None:
        out.append(table.guideline_id == f.program)
    if f.actor is not None:
        out.append(table.actor == f.actor)
    if f.event is not None:
        out.append(table.event == f.event.value)
    if f.since is not None:
        out.append(table.business_date >= f.since)
    if f.until is not None:
        out.append(table.business_date <= f.until)
    return [and_(*out)] if out else []


__all__ = ["LogFilter", "Seal", "Signature", "Store", "VersionRef"]
