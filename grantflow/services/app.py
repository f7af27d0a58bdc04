"""The service layer: the one public way to change anything in a grantflow database.

Every change is one unit of work. For a grant event it loads the grant (locking its row on
PostgreSQL), picks the guideline version in force on the event's date, sums the program's
commitments in SQL where a budget is at stake (after locking the program row on PostgreSQL),
lets the domain decide, applies the record, and writes the grant snapshot, the money row and the
transition record, all in ONE transaction. A refused event writes none of them; the refusal is
recorded in ``refused_attempts`` in a transaction of its own after the rollback.

On SQLite every write transaction begins with ``BEGIN IMMEDIATE`` (grantflow's own engines, see
:mod:`grantflow.store.engine`), so writers queue for the database's write lock. On top of the
locks, the grant row's ``version`` column is an optimistic check: the mapper declares it as
``version_id_col`` (an update through the ORM checks it), and the service's own UPDATE, written
in Core for speed, carries the same ``WHERE version = <the version read>``; an update of a row
that changed since it was read fails. A writer that loses a race (a stale version, a deadlock, a
serialization failure, ``database is locked``, a duplicate key) is retried up to ``retries``
times with a short jittered backoff, and then gets :class:`~grantflow.errors.ConcurrentUpdate`.

Reads run in read-only transactions (``BEGIN DEFERRED`` on SQLite: they never wait for a
writer). The transition log is streamed.
"""

from __future__ import annotations

import enum
import getpass
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import attrs
import pendulum
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from grantflow import limits
from grantflow.audit import chain, entries
from grantflow.audit import verify as audit
from grantflow.domain import lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.commands import Command, Propose
from grantflow.domain.dates import business_day, utc_now
from grantflow.domain.guideline import Program, ProgramVersion
from grantflow.domain.lifecycle import Evaluation
from grantflow.domain.model import (
    Actor,
    Assurance,
    Event,
    Grant,
    Role,
    State,
    TransitionRecord,
)
from grantflow.domain.rules import BUILTIN_KINDS, AnnualFundsRule, BudgetRule, Exposure
from grantflow.domain.statement import MoneyStatement, money_statement
from grantflow.errors import (
    BadInput,
    GrantflowError,
    IntegrityFailure,
    NotFound,
    Refused,
)
from grantflow.guidelines import loader
from grantflow.rates import load_base_rates
from grantflow.services import reports
from grantflow.services.results import AdminEntry, Checkpoint, LoadResult, LogEntry
from grantflow.store import mapping, schema
from grantflow.store import roles as db_roles
from grantflow.store.conflicts import conflict_of
from grantflow.store.engine import create_engine, read_only, resolve_url, sqlite_file
from grantflow.store.models import Models, models_for
from grantflow.store.repository import LogFilter, Seal, Signature, Store, VersionRef

T = TypeVar("T")

Bind = Engine | sessionmaker[Session] | Session
"""What grantflow works on: an engine, a host's sessionmaker, or a host's session."""

BACKOFF_SECONDS = 0.01
"""Base of the jittered backoff between retries (doubles with every attempt)."""


DECLARE_ACTORS = "declare-actors"
"""The administrative record that lets a SQLite database take declared identities."""


class Identity(enum.StrEnum):
    """How a :class:`Grantflow` establishes who acts (recorded as an
    :class:`~grantflow.domain.model.Assurance` with every record).

    ``host``: the application embedding grantflow authenticated its user and passes the name
    (``host-application``). ``login``: the login is the actor: the PostgreSQL login
    (``session_user``, ``database-login``) or, on SQLite, the operating-system login
    (``os-login``); naming someone else is refused, except in a SQLite database created with
    declared actors, where it is recorded as ``declared``. ``declared``: every name is taken
    as given and recorded as ``declared`` (only in a SQLite database created for it: demos,
    training, tests).
    """

    HOST = "host"
    LOGIN = "login"
    DECLARED = "declared"


def os_login() -> str:
    """The operating-system login of this process (``""`` if there is none): the name of its
    effective user id where the system has one (``pwd``), never an environment variable
    (``getpass.getuser`` reads ``LOGNAME`` and ``USER`` first, which anyone can set). Where
    there is no ``pwd`` (Windows) the login name Windows gives."""
    try:
        import pwd
    except ImportError:  # Windows
        try:
            return getpass.getuser()
        except Exception:
            return ""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a user id without a name (some containers)
        return ""


class _Refusal(Exception):
    """Carries a refusal out of the rolled-back transaction, with what to record about it."""

    def __init__(self, error: Refused, values: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.values = values


class Grantflow:
    """grantflow on a database: grants, programs, actors and the log.

    Args:
        engine: an :class:`~sqlalchemy.Engine` (best made with
            :func:`grantflow.store.create_engine`), a host application's ``sessionmaker``, or
            a host's :class:`~sqlalchemy.orm.Session`. With a session that is already in a
            transaction grantflow takes part in it: it flushes but never commits, rolls back
            or retries (the host decides).
        table_prefix: put before every table name (``gf_`` gives ``gf_grants``), to share a
            database with a host application.
        schema: the PostgreSQL schema of grantflow's tables.
        clock: where recording times come from (UTC).
        retries: how often a step that lost a race is tried again before ConcurrentUpdate.
        identity: how the actor of every change is established (:class:`Identity`; default
            ``host``: the embedding application vouches for the names it passes).
    """

    def __init__(
        self,
        engine: Bind,
        *,
        table_prefix: str = "",
        schema: str | None = None,
        clock: Callable[[], pendulum.DateTime] = utc_now,
        retries: int = 3,
        identity: Identity | str = Identity.HOST,
    ) -> None:
        self.identity = _enum(Identity, identity, "way of establishing identity")
        try:
            self.models: Models = models_for(table_prefix, schema)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        self.clock = clock
        self.retries = max(0, retries)
        self._owns_engine = False
        self._session: Session | None = None
        self._maker: sessionmaker[Session] | None = None
        self.engine: Engine | None = None
        if isinstance(engine, Engine):
            self.engine = engine
            self._read_engine = read_only(engine)
        elif isinstance(engine, sessionmaker):
            self._maker = engine
        elif isinstance(engine, Session):
            self._session = engine
        else:
            raise BadInput(
                f"grantflow needs an Engine, a sessionmaker or a Session, not {type(engine)}"
            )
        self._versions: dict[tuple[str, str, str], ProgramVersion] = {}

    def today(self) -> pendulum.Date:
        """Today's business date by this service's clock: the clock's date in Europe/Berlin.
        The default ``as_of`` of the reports and of :meth:`money`, and the "today" the rules
        judge a step on (``GF-PLAUSIBLE-DATE``)."""
        return business_day(self.clock())

    # -- opening and closing ------------------------------------------------------------------

    @classmethod
    def open(cls, db: str | Path | None = None, *, create: bool = False, **kw: Any) -> Grantflow:
        """Open the database ``db`` names: a URL, a SQLite file path, or (``None``) the
        ``GRANTFLOW_DB`` environment variable or else ``grantflow.sqlite`` in
        ``platformdirs.user_data_dir("grantflow")``. A ``postgresql://`` URL uses psycopg 3.

        With ``create=True`` the schema is created or upgraded (as :meth:`init`). Otherwise
        the schema must be there and current: a database without it raises
        :class:`~grantflow.store.schema.SchemaMissing` (a ``NotFound``: run ``grantflow
        init``), one written by a newer grantflow :class:`~grantflow.errors.SchemaTooNew`.
        Keyword arguments go to :class:`Grantflow`.
        """
        url = resolve_url(db)
        path = sqlite_file(url)
        if path is not None:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                raise schema.SchemaMissing(
                    f"there is no grantflow database at {path}; run `grantflow init` to create it"
                )
        app = cls(create_engine(url), **kw)
        app._owns_engine = True
        try:
            if create:
                app.init()
            else:
                app.require_schema()
        except BaseException:
            app.close()
            raise
        return app

    @property
    def url(self) -> str:
        """The database grantflow works on, as a URL with any password hidden."""
        if self.engine is not None:
            return self.engine.url.render_as_string(hide_password=True)
        if self._session is not None:
            bind = self._session.get_bind()
        else:
            assert self._maker is not None
            with self._maker() as session:
                bind = session.get_bind()
        return bind.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the engine if :meth:`open` made it."""
        if self._owns_engine and self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def require_schema(self) -> None:
        """Raise unless the database holds grantflow's current schema (see :meth:`open`)."""
        self._read(lambda store: schema.require_current(store.conn, self.models))

    def init(
        self,
        admin: str | None = None,
        *,
        login: str | None = None,
        declared_actors: bool | None = None,
    ) -> None:
        """Create or upgrade the schema (harmless to repeat) and, if the database has no actor
        yet, add ``admin`` as its first actor with the admin role.

        The first admin acts through ``login``: by default the login running this (with
        :attr:`Identity.LOGIN`: the PostgreSQL login, or the operating-system login on
        SQLite), else the name. ``declared_actors`` (default: when :attr:`identity` is
        ``declared``) lets a new SQLite database take declared identities, recorded as such:
        for demos, training and tests. Raises Refused if ``admin`` is new but other actors
        exist (an admin adds people), and for declared actors in a database that already has
        actors or on PostgreSQL.
        """
        declare = self.identity is Identity.DECLARED if declared_actors is None else declared_actors

        def op(store: Store) -> None:
            schema.upgrade(store.conn, self.models)
            if admin is None:  # declared actors come with the first admin
                return
            existing = store.actor_roles(admin)
            if existing is not None:
                if Role.ADMIN.value not in existing:
                    raise Refused(f"{admin} exists but is no admin; an admin gives roles")
                if declare and not store.admin_flag(DECLARE_ACTORS):
                    raise Refused(
                        "this database already has actors: declared actors can only be "
                        "chosen when a database is created"
                    )
                return
            if store.has_actors():
                raise Refused(
                    f"this database already has actors; only an admin adds {admin} "
                    f"(`grantflow actor add`)"
                )
            now = self.clock()
            first = Actor(name=_name(admin), roles=frozenset({Role.ADMIN}))
            current = self._current_login(store)
            mapped = login or current or admin
            signature = Signature(
                first.name, self._first_assurance(store, declare, mapped == current)
            )
            if declare:
                if store.dialect != "sqlite":
                    raise Refused(
                        "declared actors exist only in SQLite databases; on PostgreSQL every "
                        "person has their own database login"
                    )
                store.add_admin(DECLARE_ACTORS, None, {}, by=signature, now=now)
            store.add_actor(first, login=mapped, now=now, by=signature)

        self._write(op)

    def _current_login(self, store: Store) -> str | None:
        """The login that is acting, with :attr:`Identity.LOGIN` (else ``None``)."""
        if self.identity is not Identity.LOGIN:
            return None
        if store.dialect == "postgresql":
            login: str = store.conn.execute(text("SELECT session_user")).scalar_one()
            return login
        return os_login() or None

    def _first_assurance(self, store: Store, declare: bool, own_login: bool) -> str:
        """How the first admin's records are signed: by their own login when they run
        ``init`` themselves; when the tables' owner installs someone else (``--login``), the
        installation vouches for them (``host-application``; on SQLite ``declared``)."""
        postgres = store.dialect == "postgresql"
        if self.identity is Identity.LOGIN and own_login:
            return (Assurance.DATABASE_LOGIN if postgres else Assurance.OS_LOGIN).value
        if (
            self.identity is Identity.DECLARED
            or declare
            or (self.identity is Identity.LOGIN and not postgres)
        ):
            return Assurance.DECLARED.value
        return Assurance.HOST_APPLICATION.value

    # -- identity -----------------------------------------------------------------------------

    def whoami(self, actor: str | None = None) -> tuple[Actor, Assurance]:
        """Who would act when ``actor`` is named (``None``: nobody named), and how grantflow
        established it; raises as a step would (Refused, NotFound)."""

        def op(store: Store) -> tuple[Actor, Assurance]:
            who, signature = self._sign(store, actor)
            return who, Assurance(signature.assurance)

        return self._read(op)

    def _sign(self, store: Store, actor: str | None) -> tuple[Actor, Signature]:
        """The actor who acts and how that was established (:class:`Identity`). Raises
        Refused when the login may not act as ``actor``, NotFound for an unknown actor."""
        if self.identity is Identity.HOST:
            if actor is None:
                raise BadInput("name the actor: the host application vouches for who acts")
            return store.actor(actor), Signature(actor, Assurance.HOST_APPLICATION.value)
        if self.identity is Identity.DECLARED:
            if actor is None:
                raise BadInput("name the actor (declared identities)")
            self._require_declared(store, actor)
            return store.actor(actor), Signature(actor, Assurance.DECLARED.value)
        login = self._current_login(store) or ""
        postgres = store.dialect == "postgresql"
        mapped = store.actor_of_login(login) if login else None
        if mapped is not None and (actor is None or actor == mapped):
            how = Assurance.DATABASE_LOGIN if postgres else Assurance.OS_LOGIN
            return store.actor(mapped), Signature(mapped, how.value)
        if actor is not None and not postgres and store.admin_flag(DECLARE_ACTORS):
            return store.actor(actor), Signature(actor, Assurance.DECLARED.value)
        kind = "database login" if postgres else "login"
        if mapped is None:
            raise Refused(
                f"the {kind} {login or '(none)'} is not mapped to an active grantflow actor; "
                f"an admin maps it with `grantflow actor add NAME --login {login or 'LOGIN'}`"
            )
        raise Refused(
            f"you are logged in as {login} ({mapped}); you cannot act as {actor}"
            + (
                ""
                if postgres
                else " (only a database created with `grantflow init --declared-actors` "
                "takes declared identities)"
            )
        )

    def _require_declared(self, store: Store, actor: str) -> None:
        if store.dialect != "sqlite" or not store.admin_flag(DECLARE_ACTORS):
            raise Refused(
                f"{actor} is a declared identity, and this database does not take them: only "
                "a SQLite database created with `grantflow init --declared-actors` does"
            )

    # -- transactions -------------------------------------------------------------------------

    def _joined(self) -> bool:
        return self._session is not None and self._session.in_transaction()

    @contextmanager
    def _unit(self, *, write: bool) -> Iterator[Store]:
        """The store on a connection in a transaction: our own (committed at the end, or rolled
        back on an exception) or the host's (flushed, never committed)."""
        host = self._session
        if host is not None:
            if host.in_transaction():
                yield Store(host.connection(), self.models)
                if write:
                    host.flush()
                return
            with host.begin():
                yield Store(host.connection(), self.models)
            return
        if self.engine is not None:
            with (self.engine if write else self._read_engine).begin() as conn:
                yield Store(conn, self.models)
            return
        assert self._maker is not None
        with self._maker() as session, session.begin():
            yield Store(session.connection(), self.models)

    def _write(self, op: Callable[[Store], T]) -> T:
        """Run ``op`` in one write transaction; retry a lost race; record a refusal."""
        attempt = 0
        while True:
            joined = self._joined()
            try:
                with self._unit(write=True) as store:
                    return op(store)
            except _Refusal as refusal:
                try:
                    self._record_refusal(refusal.values)
                except GrantflowError as failed:  # the refusal still is the answer
                    refusal.error.add_note(f"the refused attempt was not recorded: {failed}")
                raise refusal.error from None
            except Exception as exc:
                conflict = conflict_of(exc)
                if conflict is None:
                    denied = _denied(exc)
                    if denied is not None:
                        raise denied from None
                    if isinstance(exc, OperationalError):
                        raise BadInput(f"the database cannot be used: {exc.orig}") from exc
                    raise
                if joined or attempt >= self.retries:
                    if conflict is exc:
                        raise
                    raise conflict from exc
                attempt += 1
                time.sleep(random.uniform(0.5, 1.5) * BACKOFF_SECONDS * 2**attempt)

    def _read(self, op: Callable[[Store], T]) -> T:
        try:
            with self._unit(write=False) as store:
                return op(store)
        except GrantflowError:
            raise
        except DBAPIError as exc:
            denied = _denied(exc)
            if denied is not None:
                raise denied from None
            if not isinstance(exc, OperationalError):
                raise
            conflict = conflict_of(exc)
            if conflict is not None:
                raise conflict from exc
            raise BadInput(f"the database cannot be used: {exc.orig}") from exc

    def _record_refusal(self, values: dict[str, Any]) -> None:
        self._write(lambda store: store.add_refused(values))

    # -- actors -------------------------------------------------------------------------------

    def add_actor(
        self,
        name: str,
        roles: Iterable[Role | str],
        *,
        by: str | None = None,
        login: str | None = None,
    ) -> Actor:
        """Add a person with ``roles``, acting through ``login`` (default: the name; on
        PostgreSQL their database login, on SQLite their operating-system login). ``by`` must
        be an admin (``None``: the login acting, with :attr:`Identity.LOGIN`). Written to the
        administrative chain. Raises BadInput if the name is taken (whatever its case), the
        login is mapped to someone else, or a role is unknown; Refused if ``by`` is no
        admin."""
        actor = Actor(name=_name(name), roles=_roles(roles))
        mapped = _name(login, "the login") if login is not None else actor.name

        def op(store: Store) -> Actor:
            who, signature = self._sign(store, by)
            _require_admin(who, f"add {name}")
            taken = store.actor_named_like(name)
            if taken is not None:
                same = (
                    "" if taken == name else f" ({taken!r}: names are unique whatever their case)"
                )
                raise BadInput(f"there is already an actor {name!r}{same}")
            owner = store.login_taken(mapped)
            if owner is not None:
                raise BadInput(f"the login {mapped!r} already belongs to {owner}")
            store.add_actor(actor, login=mapped, now=self.clock(), by=signature)
            return actor

        return self._write(op)

    def set_roles(self, name: str, roles: Iterable[Role | str], *, by: str | None = None) -> Actor:
        """Give ``name`` exactly ``roles`` (written to the administrative chain). ``by`` must
        be an admin (and cannot take away their own admin role)."""
        new_roles = _roles(roles)

        def op(store: Store) -> Actor:
            who, signature = self._sign(store, by)
            _require_admin(who, f"change the roles of {name}")
            store.actor(name)  # raises NotFound
            if name == who.name and Role.ADMIN not in new_roles:
                raise BadInput(f"{who.name} cannot take away their own admin role")
            store.set_roles(name, new_roles, now=self.clock(), by=signature)
            return Actor(name=name, roles=new_roles)

        return self._write(op)

    def set_login(self, name: str, login: str, *, by: str | None = None) -> None:
        """Map ``name`` to ``login`` (written to the administrative chain). Admins only."""
        mapped = _name(login, "the login")

        def op(store: Store) -> None:
            who, signature = self._sign(store, by)
            _require_admin(who, f"change the login of {name}")
            store.actor(name)  # raises NotFound
            owner = store.login_taken(mapped)
            if owner is not None and owner != name:
                raise BadInput(f"the login {mapped!r} already belongs to {owner}")
            store.set_login(name, mapped, now=self.clock(), by=signature)

        self._write(op)

    def deactivate(self, name: str, *, by: str | None = None) -> None:
        """Deactivate ``name``: they can no longer act; the log keeps their name (actors are
        never deleted). Written to the administrative chain. Admins only, not themselves."""

        def op(store: Store) -> None:
            who, signature = self._sign(store, by)
            _require_admin(who, f"deactivate {name}")
            store.actor(name)  # raises NotFound, or Refused if already deactivated
            if name == who.name:
                raise BadInput(f"{name} cannot deactivate themselves")
            store.deactivate(name, now=self.clock(), by=signature)

        self._write(op)

    def actor_history(self, name: str | None = None) -> Iterator[AdminEntry]:
        """The administrative chain, oldest first, streamed: actors added, roles and logins
        changed, actors deactivated, guideline versions loaded (of ``name`` only, if given:
        an actor or a program)."""
        try:
            with self._unit(write=False) as store:
                for row in store.admin_rows(subject=name):
                    yield AdminEntry(**row)
        except OperationalError as exc:
            raise BadInput(f"the database cannot be used: {exc.orig}") from exc

    def actor(self, name: str) -> Actor:
        """The named actor. Raises NotFound."""
        return self._read(lambda store: store.actor(name))

    def actors(self) -> list[Actor]:
        """Every actor, by name."""
        return self._read(lambda store: store.actors())

    # -- programs -----------------------------------------------------------------------------

    def load_program(self, name_or_path: str, *, by: str | None = None) -> LoadResult:
        """Load a packaged guideline (by name) or a guideline file (by path). Admins only.

        Versions already stored with the same content are left alone; a stored version with
        the same id but different content raises BadInput (grantflow never rewrites history:
        add a new version), and so does a new version that would take effect before a stored
        one.
        """
        program = loader.load(name_or_path)

        def op(store: Store) -> LoadResult:
            who, signature = self._sign(store, by)
            _require_admin(who, f"load program {program.id}")
            now = self.clock()
            row = store.program_row(program.id, lock=True)
            if row is None:
                store.add_program(program, now=now)
            elif row.short != program.short:
                raise BadInput(
                    f"program {program.id} gives its grants ids starting {row.short}; the file "
                    f"says {program.short}. grantflow never rewrites history: keep the prefix"
                )
            elif row.name != program.name:
                store.rename_program(program.id, program.name)
            stored = store.stored_versions(program.id)
            latest = max((d for _, d in stored.values()), default=None)
            added: list[str] = []
            unchanged: list[str] = []
            for v in program.versions:
                if v.version in stored:
                    if stored[v.version][0] != v.content_hash:
                        raise BadInput(
                            f"version {v.version} of {program.id} is stored with different "
                            f"content; grantflow never rewrites history: add a new version"
                        )
                    unchanged.append(v.version)
                    continue
                if latest is not None and v.effective_from <= latest:
                    raise BadInput(
                        f"version {v.version} of {program.id} would take effect "
                        f"{v.effective_from.isoformat()}, not after the stored versions (latest "
                        f"from {latest.isoformat()}); grantflow never rewrites history"
                    )
                store.add_version(v, now=now, by=signature)
                added.append(v.version)
            return LoadResult(program.id, tuple(added), tuple(unchanged))

        return self._write(op)

    def program(self, program_id: str) -> Program:
        """The program with every stored version, rebuilt from the stored documents."""
        return self._read(lambda store: self._program(store, program_id))

    def programs(self) -> list[Program]:
        """Every program, by id."""
        return self._read(lambda store: [self._program(store, p) for p in store.program_ids()])

    def _program(self, store: Store, program_id: str) -> Program:
        refs = store.version_refs(program_id)
        if not refs:
            raise NotFound(f"there is no program {program_id!r}")
        return Program(
            id=program_id,
            name=refs[0].program_name,
            versions=tuple(self._version(store, ref) for ref in refs),
            short=refs[0].short,
        )

    def _version(self, store: Store, ref: VersionRef) -> ProgramVersion:
        """The parsed version (cached by content hash: documents are read and parsed once)."""
        key = (ref.program_id, ref.program_name, ref.content_hash)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        document = store.version_document(ref.program_id, ref.version)
        version = loader.version_from_document(document, ref.program_id, ref.program_name)
        if version.content_hash != ref.content_hash or version.version != ref.version:
            raise IntegrityFailure(
                f"the stored document of {ref.program_id} version {ref.version} does not match "
                f"its content hash {ref.content_hash[:12]}…; it was changed outside grantflow"
            )
        self._versions[key] = version
        return version

    # -- grant events -------------------------------------------------------------------------

    def propose(self, cmd: Propose, *, actor: str | None = None) -> Grant:
        """Record an application. The grant's id is ``<program short>-<year of cmd.date>-<nnnn>``,
        numbered inside the transaction. Raises RuleViolation / BadInput / NotFound."""
        if not isinstance(cmd, Propose):
            raise BadInput(f"propose takes a Propose command, not {type(cmd).__name__}")
        cmd.check_limits()

        def op(store: Store) -> Grant:
            who, signature = self._sign(store, actor)
            ref = store.version_in_force(cmd.program_id, cmd.date)
            version = self._version(store, ref)
            exposure = self._exposure_for(store, version, cmd.event, lock=True)
            number = store.next_number(cmd.program_id, cmd.date.year)
            grant_id = f"{ref.short}-{cmd.date.year}-{number:04d}"
            now = self.clock()
            try:
                record = lifecycle.decide(
                    None,
                    cmd,
                    actor=who,
                    version=version,
                    recorded_at=now,
                    exposure=exposure,
                    grant_id=grant_id,
                    today=business_day(now),
                )
            except Refused as err:
                raise self._refusal(
                    err, None, cmd, who, signature, version, exposure, now, grant_id=grant_id
                ) from None
            after = lifecycle.apply(None, record)
            store.insert_grant(after, now=now)
            store.insert_record(
                record,
                after,
                before=None,
                signature=signature,
                guideline_hash=version.content_hash,
            )
            return after

        return self._write(op)

    def act(self, grant_id: str, cmd: Command, *, actor: str | None = None) -> Grant:
        """Apply any event but a proposal to grant ``grant_id``; returns the grant after it.

        Raises RuleViolation or InvalidTransition (recorded in ``refused_attempts``), NotFound,
        BadInput, or ConcurrentUpdate when the step kept losing races.
        """
        if isinstance(cmd, Propose):
            raise BadInput("a proposal creates a grant: use propose, not act")
        if not isinstance(cmd, Command):
            raise BadInput(f"{cmd!r} is not a grantflow command")
        cmd.check_limits()

        def op(store: Store) -> Grant:
            name, signature = self._signer(store, actor)
            grant, who, ref, seal = store.step(grant_id, name, cmd.date, lock=True)
            self._require_sealed(store, grant, seal)
            version = self._version(store, ref)
            exposure = self._exposure_for(store, version, cmd.event, lock=True)
            now = self.clock()
            try:
                record = lifecycle.decide(
                    grant,
                    cmd,
                    actor=who,
                    version=version,
                    recorded_at=now,
                    exposure=exposure,
                    today=business_day(now),
                )
            except Refused as err:
                raise self._refusal(
                    err, grant, cmd, who, signature, version, exposure, now
                ) from None
            after = lifecycle.apply(grant, record)
            store.update_grant(grant, after, now=now)  # … WHERE version = <the version read>
            store.insert_record(
                record,
                after,
                before=grant,
                signature=signature,
                guideline_hash=version.content_hash,
            )
            return after

        return self._write(op)

    def _signer(self, store: Store, actor: str | None) -> tuple[str, Signature]:
        """Who acts and how it was established, without reading the actor's roles (the step
        reads them with the grant): the declared and host names as given, a login's actor
        looked up."""
        if self.identity is Identity.HOST and actor is not None:
            return actor, Signature(actor, Assurance.HOST_APPLICATION.value)
        who, signature = self._sign(store, actor)
        return who.name, signature

    def _require_sealed(self, store: Store, grant: Grant, seal: Seal) -> None:
        """Refuse to decide on a grant row that is not the state its newest record committed
        to (IntegrityFailure, exit 3): the rules must read what the log proves. Records older
        than migration 0006 committed to no state: their grant is replayed from the log."""
        problems = mapping.sealed_column_problems(grant, seal.columns)
        if seal.committed is not None:
            if seal.snapshot_hash != seal.committed:
                problems.insert(
                    0,
                    f"its snapshot is not the state record {grant.version} committed to",
                )
        else:
            replayed = lifecycle.replay(store.records(grant.id))
            if replayed != grant:
                problems.insert(0, "its snapshot is not what its records replay to")
        if problems:
            raise IntegrityFailure(
                f"grant {grant.id} was changed outside grantflow: {'; '.join(problems)}. "
                "Nothing was written; run `grantflow audit verify`"
            )

    def check(self, grant_id: str | None, cmd: Command, *, actor: str | None = None) -> Evaluation:
        """Every verdict ``cmd`` would get, without changing anything (not even the log of
        refused attempts). ``grant_id`` is ``None`` for a proposal. Like a step, it refuses to
        judge a grant row that is not the state its log committed to (IntegrityFailure)."""

        cmd.check_limits()

        def op(store: Store) -> Evaluation:
            who, _ = self._sign(store, actor)
            grant: Grant | None = None
            if isinstance(cmd, Propose):
                program_id = cmd.program_id
            else:
                if grant_id is None:
                    raise BadInput(f"{cmd.event} needs the id of the grant it acts on")
                grant, _, _, seal = store.step(grant_id, who.name, cmd.date, lock=False)
                self._require_sealed(store, grant, seal)
                program_id = grant.program_id
            version = self._version(store, store.version_in_force(program_id, cmd.date))
            exposure = self._exposure_for(store, version, cmd.event, lock=False)
            return lifecycle.check(
                grant,
                cmd,
                actor=who,
                version=version,
                exposure=exposure,
                grant_id=grant_id,
                today=self.today(),
            )

        return self._read(op)

    def _exposure_for(
        self, store: Store, version: ProgramVersion, event: Event, *, lock: bool
    ) -> Exposure | None:
        """The budget sums, if a rule judging ``event`` may look at them (approve and amend,
        budget rules, rule kinds from plugins). With ``lock`` the program row is locked first,
        so no other budget decision of the program runs in between."""
        if not _needs_exposure(version, event):
            return None
        if lock:
            store.lock_program(version.program_id)
        return store.exposure(version.program_id)

    def _refusal(
        self,
        err: Refused,
        grant: Grant | None,
        cmd: Command,
        who: Actor,
        signature: Signature,
        version: ProgramVersion,
        exposure: Exposure | None,
        now: pendulum.DateTime,
        *,
        grant_id: str | None = None,
    ) -> _Refusal:
        """What to record about a refused step: every verdict, the failing rules, the command."""
        try:
            evaluation = lifecycle.check(
                grant,
                cmd,
                actor=who,
                version=version,
                exposure=exposure,
                grant_id=grant_id,
                today=business_day(now),
            )
            verdicts = evaluation.verdicts
            rule_ids = [v.rule_id for v in evaluation.failures]
        except GrantflowError:  # pragma: no cover - check raises only what decide raised
            verdicts, rule_ids = (), []
        if not rule_ids:
            rule_ids = list(getattr(err, "rule_ids", ())) or ["GF-LIFECYCLE"]
        values = {
            "recorded_at": now,
            "actor": who.name,
            "event": cmd.event.value,
            "grant_id": grant.id if grant else None,
            "from_state": grant.state.value if grant else None,
            "business_date": cmd.date,
            "reason": cmd.reason,
            "code": err.code,
            "message": str(err),
            "rule_ids": rule_ids,
            "verdicts": mapping.verdicts_to_json(verdicts),
            "data": to_data(cmd),
            "guideline_id": version.program_id,
            "guideline_version": version.version,
            "guideline_hash": version.content_hash,
            "actor_auth": signature.assurance,
        }
        return _Refusal(err, values)

    # -- reading ------------------------------------------------------------------------------

    def grant(self, grant_id: str, *, as_of: pendulum.Date | None = None) -> Grant:
        """The grant now, or (``as_of``) as it stood at the end of that business date: the
        replay of its records dated on or before it. Raises NotFound (also if the grant did not
        exist yet on ``as_of``)."""

        def op(store: Store) -> Grant:
            if as_of is None:
                return store.grant(grant_id)
            records = store.records(grant_id)
            if not records:
                raise NotFound(f"there is no grant {grant_id!r}")
            grant = lifecycle.replay_as_of(records, as_of)
            if grant is None:
                raise NotFound(
                    f"grant {grant_id} did not exist yet on {as_of.isoformat()} (proposed "
                    f"{records[0].business_date.isoformat()})"
                )
            return grant

        return self._read(op)

    def grants(
        self,
        *,
        program: str | None = None,
        state: State | None = None,
        region: str | None = None,
    ) -> list[Grant]:
        """The grants matching every filter given, by id."""
        wanted = _enum(State, state, "state") if state is not None else None
        return self._read(lambda store: store.grants(program=program, state=wanted, region=region))

    def money(self, grant_id: str, *, as_of: pendulum.Date | None = None) -> MoneyStatement:
        """The grant's money at the end of ``as_of`` (default :meth:`today`): approved,
        paid, used, the refund claim with its tranches, the repayments, what is still owed,
        and refund and interim interest up to that day with every period's days, rate and
        amount (:func:`grantflow.domain.statement.money_statement`).

        The interest terms are those of the guideline version the grant was approved under
        (the version in force on its notice's date; on its application's date before a
        notice): ``[versions.interest]`` of the guideline file. Raises NotFound (also if the
        grant did not exist yet on ``as_of``), and BadInput for interest on days the base-rate
        table does not cover.
        """
        day = as_of or self.today()

        def op(store: Store) -> MoneyStatement:
            grant = store.grant(grant_id)
            if grant.last_business_date > day:
                records = store.records(grant_id)
                then = lifecycle.replay_as_of(records, day)
                if then is None:
                    raise NotFound(
                        f"grant {grant_id} did not exist yet on {day.isoformat()} (proposed "
                        f"{records[0].business_date.isoformat()})"
                    )
                grant = then
            governed = grant.notice.date if grant.notice else grant.received_on
            version = self._version(store, store.version_in_force(grant.program_id, governed))
            return money_statement(grant, version, day, load_base_rates())

        return self._read(op)

    def records(self, grant_id: str) -> list[TransitionRecord]:
        """The grant's transition records in order. Raises NotFound."""

        def op(store: Store) -> list[TransitionRecord]:
            records = store.records(grant_id)
            if not records and not store.grant_exists(grant_id):
                raise NotFound(f"there is no grant {grant_id!r}")
            return records

        return self._read(op)

    def log(self, where: LogFilter | None = None, /, **criteria: Any) -> Iterator[LogEntry]:
        """The log in recorded order, streamed: transitions and (unless ``include_refused`` is
        false) refused attempts.

        Select entries with a :class:`LogFilter`, or with its fields as keywords
        (``gf.log(grant_id="DMR-2019-0001", include_refused=False)``); keywords given with a
        filter replace its fields. ``since``/``until`` bound the business date,
        ``recorded_since``/``recorded_until`` (timezone-aware) the recording time, all
        inclusive. Raises BadInput for an unknown criterion or a bad value."""
        return self._stream_log(_log_filter(where, criteria))

    def _stream_log(self, f: LogFilter) -> Iterator[LogEntry]:
        try:
            with self._unit(write=False) as store:
                for row in store.log_rows(f):
                    yield LogEntry(**mapping.log_values(row))
        except OperationalError as exc:
            raise BadInput(f"the database cannot be used: {exc.orig}") from exc

    # -- the audit chain (appended: issue 6) --------------------------------------------------

    def export(
        self, where: LogFilter | None = None, /, **criteria: Any
    ) -> Iterator[dict[str, Any]]:
        """The log as the JSON objects its hashes cover, streamed (``grantflow log --format
        jsonl``): each entry's hashed fields plus ``hash`` and ``log_id`` (not hashed), in
        recorded order. Without any filter it is the whole log followed by every checkpoint:
        exactly what ``docs/verify_log.py`` verifies. Select entries as in :meth:`log`, with
        a :class:`LogFilter` or its fields as keywords (a filtered export leaves gaps in the
        chains)."""
        return self._stream_export(_log_filter(where, criteria))

    def _stream_export(self, f: LogFilter) -> Iterator[dict[str, Any]]:
        try:
            with self._snapshot() as store:
                for row in store.log_rows(f):
                    yield entries.refused_line(row) if row["kind"] else entries.transition_line(row)
                if f.whole:
                    for row in store.admin_rows():
                        yield entries.admin_line(row)
                    for row in store.checkpoint_rows():
                        yield entries.checkpoint_line(row)
        except OperationalError as exc:
            raise BadInput(f"the database cannot be used: {exc.orig}") from exc

    def digest(self, *, by: str | None = None) -> Checkpoint:
        """Write a checkpoint sealing the head of every chain and return it; its ``digest``
        (``gf1-<id>-<hash>``) is what an auditor keeps outside the system. ``by`` must be an
        auditor or an admin (and is recorded)."""

        def op(store: Store) -> Checkpoint:
            who, _ = self._sign(store, by)
            if not (who.has(Role.AUDITOR) or who.has(Role.ADMIN)):
                raise Refused(
                    f"{who.name} may not write an audit checkpoint: that needs the auditor or "
                    "the admin role"
                )
            row = store.add_checkpoint(by=who.name, now=self.clock())
            return Checkpoint(
                id=row["id"],
                digest=chain.format_digest(row["id"], row["hash"]),
                hash=row["hash"],
                prev_hash=row["prev_hash"],
                created_at=row["created_at"],
                created_by=who.name,
                grants=len(row["heads"]),
                records=sum(seq for _, seq, _ in row["heads"]),
                refused=row["refused_head"][0] if row["refused_head"] else 0,
            )

        return self._write(op)

    def verify(self, digest: str | None = None, *, replay: bool = True) -> audit.VerifyReport:
        """Walk the whole log in a stream and check every hash chain (see
        :mod:`grantflow.audit.verify`), the administrative chain against the actors table and
        the stored guideline versions, and (``replay``, the default) replay every grant against
        its row and judge every step again by the rules (:mod:`grantflow.audit.replay`); with
        ``digest`` (as :meth:`digest` returned it) also that the log still holds that
        checkpoint. ``replay=False`` (``audit verify --chains-only``) checks the chains alone:
        the quick check, at the speed of hashing. Returns the report (``report.intact``;
        ``report.raise_if_broken()`` raises :class:`~grantflow.audit.verify.ChainBroken`, an
        IntegrityFailure). Raises BadInput for a malformed digest."""
        if digest is not None:
            try:
                chain.parse_digest(digest)
            except ValueError as exc:
                raise BadInput(str(exc)) from None

        def checkpoints(store: Store) -> Iterator[audit.SealedCheckpoint]:
            for cid in store.checkpoint_ids():
                meta = store.audit_checkpoint(cid)
                head = meta["refused_head"]
                refused = (
                    store.refused_hash(head[0])
                    if isinstance(head, list) and head and isinstance(head[0], int)
                    else None
                )
                admin = meta.get("admin_head")
                admin_stored = (
                    store.admin_hash(admin[0])
                    if isinstance(admin, list) and admin and isinstance(admin[0], int)
                    else None
                )
                yield audit.SealedCheckpoint(
                    meta, store.checkpoint_heads(cid), refused, admin_stored
                )

        try:
            with self._snapshot() as store:
                return audit.verify(
                    transitions=store.audit_transitions(with_rows=replay),
                    grants=store.audit_grants(),
                    refused=store.audit_refused(),
                    checkpoints=checkpoints(store),
                    digest=digest,
                    admin=store.audit_admin(),
                    actors=store.actor_rows(),
                    versions=store.version_hashes(),
                    version_of=self._version_finder(store) if replay else None,
                )
        except OperationalError as exc:
            raise BadInput(f"the database cannot be used: {exc.orig}") from exc

    def _version_finder(self, store: Store) -> Callable[[str, str], ProgramVersion | str]:
        """``version_of`` for :func:`grantflow.audit.verify.verify`: a stored guideline
        version, parsed once, or why it cannot be had."""
        refs: dict[str, dict[str, VersionRef]] = {}

        def version_of(program_id: str, version: str) -> ProgramVersion | str:
            if program_id not in refs:
                refs[program_id] = {r.version: r for r in store.version_refs(program_id)}
            ref = refs[program_id].get(version)
            if ref is None:
                return f"guideline {program_id} version {version} is not stored"
            try:
                return self._version(store, ref)
            except GrantflowError as exc:
                return str(exc)

        return version_of

    @contextmanager
    def _snapshot(self) -> Iterator[Store]:
        """A read transaction that sees one state of the database from its first to its last
        statement (verification, the export): REPEATABLE READ on PostgreSQL; a read
        transaction on SQLite (WAL) already does."""
        if self.engine is not None and self.engine.dialect.name == "postgresql":
            repeatable = self.engine.execution_options(isolation_level="REPEATABLE READ")
            with repeatable.begin() as conn:
                yield Store(conn, self.models)
            return
        with self._unit(write=False) as store:
            yield store

    def create_db_roles(self) -> list[str]:
        """PostgreSQL: create the group roles ``grantflow_admin``, ``grantflow_staff``,
        ``grantflow_auditor`` and ``grantflow_host`` if they are missing, and grant each the
        rights it needs on this database's grantflow tables (:mod:`grantflow.store.roles`);
        returns the statements run. Harmless to repeat. Needs a login that owns the tables
        and may create roles."""

        def op(store: Store) -> list[str]:
            if store.dialect != "postgresql":
                raise BadInput(
                    "database roles exist only on PostgreSQL; a SQLite database is one file, "
                    "protected by the operating system's file rights"
                )
            return db_roles.create(store.conn, self.models)

        return self._write(op)

    def exposure(self, program_id: str, *, as_of: pendulum.Date | None = None) -> Exposure:
        """What the program's grants bind (summed in SQL), now or at the end of ``as_of``."""

        def op(store: Store) -> Exposure:
            _require_program(store, program_id)
            return store.exposure(program_id, as_of)

        return self._read(op)

    # -- reports (money and deadlines) --------------------------------------------------------

    def budget_report(
        self, program_id: str, *, as_of: pendulum.Date | None = None
    ) -> reports.BudgetReport:
        """The program's budget at the end of ``as_of`` (default today), summed in SQL:
        budget, committed, disbursed, refunds, available, grants, by region, focus and year."""
        program = self.program(program_id)
        day = as_of or self.today()
        return self._read(lambda store: reports.budget_report(store, program, day))

    def due(
        self,
        *,
        as_of: pendulum.Date | None = None,
        within_days: int | None = None,
        program: str | None = None,
    ) -> list[reports.DueItem]:
        """Duties due by ``as_of + within_days`` (every open one if ``None``), overdue first:
        proofs of use, interim proofs, period ends and unused funds of approved, running and
        extended grants, and the refunds still owed by grants in any state (due when the claim
        arose, R-REFUND)."""
        programs = [self.program(program)] if program else self.programs()
        day = as_of or self.today()
        return self._read(lambda store: reports.due(store, programs, day, within_days, program))

    # -- the budget days: derived from the log ------------------------------------------------

    def check_budget_days(self, program_id: str | None = None) -> list[str]:
        """Where the budget days (the table ``report budget`` and the budget rules sum) differ
        from what the transition log says, one line per day and key; empty if they agree.
        Replays every record of ``program_id`` (of every program with ``None``): it reads the
        whole log."""

        def op(store: Store) -> list[str]:
            if program_id is not None:
                _require_program(store, program_id)
            return store.budget_days_problems(program_id)

        return self._read(op)

    def rebuild_budget_days(self, *, by: str | None = None, program_id: str | None = None) -> int:
        """Rebuild the budget days of ``program_id`` (every program with ``None``) from the
        transition log, in one transaction, and return the number of rows written. ``by`` must
        be an admin. Only needed after the table was changed outside grantflow: every step
        keeps it up to date (see :meth:`check_budget_days`)."""

        def op(store: Store) -> int:
            _require_admin(self._sign(store, by)[0], "rebuild the budget days")
            if program_id is not None:
                _require_program(store, program_id)
            return store.rebuild_budget_days(program_id)

        return self._write(op)


E = TypeVar("E", bound=enum.Enum)


_LOG_CRITERIA = tuple(attrs.fields_dict(LogFilter))


def _log_filter(where: LogFilter | None, criteria: dict[str, Any]) -> LogFilter:
    """``where`` with ``criteria`` (LogFilter's fields as keywords) put in."""
    if where is not None and not isinstance(where, LogFilter):
        raise BadInput(f"{where!r} is not a LogFilter")
    unknown = sorted(set(criteria) - set(_LOG_CRITERIA))
    if unknown:
        raise BadInput(
            f"{', '.join(unknown)}: no such log filter; the filters are {', '.join(_LOG_CRITERIA)}"
        )
    return attrs.evolve(where, **criteria) if where is not None else LogFilter(**criteria)


def _enum(cls: type[E], value: object, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(str(x.value) for x in cls)
        raise BadInput(f"{value!r} is not a {what}; known: {known}") from None


def _denied(exc: BaseException) -> Refused | None:
    """The refusal a database's "insufficient privilege" amounts to (PostgreSQL 42501: the
    login lacks a right, or grantflow's identity trigger refused a record), in one sentence
    without SQL; ``None`` for any other error."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if getattr(orig, "sqlstate", None) != "42501":
        return None
    diag = getattr(orig, "diag", None)
    message = getattr(diag, "message_primary", None) or str(orig).strip().splitlines()[0]
    message = message.removeprefix("grantflow: ")
    return Refused(f"the database refused this for your login: {message}")


def _name(value: str, what: str = "the actor name") -> str:
    """A name or login as grantflow stores it: within :mod:`grantflow.limits`, not blank."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text")
    return limits.check_text(value, what, limits.NAME)


def _roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    out: set[Role] = set()
    for r in roles:
        try:
            out.add(Role(r))
        except ValueError:
            known = ", ".join(x.value for x in Role)
            raise BadInput(f"{r!r} is not a role; roles are {known}") from None
    return frozenset(out)


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.has(Role.ADMIN):
        raise Refused(f"{actor.name} may not {what}: that needs the admin role")


def _require_program(store: Store, program_id: str) -> None:
    """Raise NotFound unless ``program_id`` is a loaded program."""
    if store.program_row(program_id) is None:
        raise NotFound(f"there is no program {program_id!r}")


def _needs_exposure(version: ProgramVersion, event: Event) -> bool:
    if event in (Event.APPROVE, Event.AMEND):
        return True
    return any(
        event in rule.events
        and (isinstance(rule, BudgetRule | AnnualFundsRule) or rule.kind not in BUILTIN_KINDS)
        for rule in version.rules
    )


__all__ = ["Bind", "Grantflow", "Identity", "os_login"]
