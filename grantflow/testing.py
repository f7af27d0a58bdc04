"""Fakes for testing code that uses grantflow: a fixed clock and an in-memory ledger.

:class:`FixedClock` stands in for "now" wherever grantflow takes the recording time as an
argument. :class:`InMemoryLedger` is the whole lifecycle without a database: it keeps programs,
actors, grants and their transition records in dictionaries and moves grants only through
:func:`grantflow.domain.lifecycle.decide` and :func:`grantflow.domain.lifecycle.apply`, exactly
as the services do against a store. A refused step raises and changes nothing::

    from grantflow.guidelines import load
    from grantflow.testing import FixedClock, InMemoryLedger

    ledger = InMemoryLedger(clock=FixedClock("2019-03-01T09:00:00Z"))
    ledger.add_program(load("nrw-digitale-modellregionen"))
    ledger.add_actor("clara", Role.CLERK)
    grant = ledger.propose(Propose(...), actor="clara")
    grant = ledger.act(grant.id, Approve(...), actor="anton")

The ledger is meant for tests: it is not thread-safe and keeps everything in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pendulum

from grantflow.domain import lifecycle
from grantflow.domain.commands import Command, Propose
from grantflow.domain.dates import as_utc, business_day
from grantflow.domain.guideline import Program, ProgramVersion
from grantflow.domain.lifecycle import Evaluation
from grantflow.domain.model import Actor, Grant, Role, TransitionRecord
from grantflow.domain.rules import Exposure
from grantflow.errors import BadInput, NotFound

__all__ = ["FixedClock", "InMemoryLedger"]


def _as_instant(value: dt.datetime | str) -> pendulum.DateTime:
    if isinstance(value, str):
        parsed = pendulum.parse(value)
        if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None:
            raise BadInput(f"{value!r} is not a date and time with a time zone")
        return parsed.in_timezone(pendulum.UTC)
    return as_utc(value)


class FixedClock:
    """A clock for tests: calling it returns a fixed UTC time, advancing by ``step`` per call.

    ``start`` is a timezone-aware datetime or an ISO 8601 string with an offset
    (``"2021-03-28T00:30:00Z"``); naive times are refused. With the default ``step`` of zero
    every call returns the same instant; :meth:`advance` and :meth:`set` move the clock.
    """

    def __init__(
        self,
        start: dt.datetime | str = "2020-01-01T00:00:00Z",
        *,
        step: dt.timedelta = dt.timedelta(0),
    ) -> None:
        if step < dt.timedelta(0):
            raise BadInput(f"a clock does not run backwards (step {step})")
        self._now = _as_instant(start)
        self._step = step

    def __call__(self) -> pendulum.DateTime:
        """The current time, then advance by ``step``."""
        now = self._now
        self._now = now + self._step
        return now

    @property
    def now(self) -> pendulum.DateTime:
        """The time the next call returns, without advancing."""
        return self._now

    def advance(self, delta: dt.timedelta) -> pendulum.DateTime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < dt.timedelta(0):
            raise BadInput(f"a clock does not run backwards ({delta})")
        self._now = self._now + delta
        return self._now

    def set(self, when: dt.datetime | str) -> pendulum.DateTime:
        """Set the clock to ``when`` (timezone-aware) and return it in UTC."""
        self._now = _as_instant(when)
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()!r}, step={self._step!r})"


class InMemoryLedger:
    """Programs, actors, grants and transition records, in memory, moved by the lifecycle.

    Every step runs :func:`~grantflow.domain.lifecycle.decide` under the guideline version in
    force on the command's business date, with the program's :meth:`exposure` at that moment,
    and folds the returned record into the grant with :func:`~grantflow.domain.lifecycle.apply`.
    The grant and its record are stored together only when both succeed, so a refused or
    malformed step leaves the ledger exactly as it was.

    ``clock`` (default: a :class:`FixedClock`) gives each record its recording time; it is
    called once per attempted step.

    Grant ids are ``<program short>-<year the application was received>-<nnnn>``, numbered per
    program and year from 0001 (``DMR-2019-0001``); a program without ``short`` uses its id.
    """

    def __init__(
        self,
        *,
        programs: Iterable[Program] = (),
        actors: Iterable[Actor] = (),
        clock: Callable[[], pendulum.DateTime] | None = None,
    ) -> None:
        self.clock: Callable[[], pendulum.DateTime] = clock or FixedClock()
        self._programs: dict[str, Program] = {}
        self._actors: dict[str, Actor] = {}
        self._grants: dict[str, Grant] = {}
        self._records: dict[str, list[TransitionRecord]] = {}
        for program in programs:
            self.add_program(program)
        for actor in actors:
            self.add_actor(actor)

    # -- programs and actors ---------------------------------------------------------------

    def add_program(self, program: Program) -> Program:
        """Register ``program`` (replacing one with the same id) and return it."""
        if not program.versions:
            raise BadInput(f"program {program.id} has no guideline version")
        self._programs[program.id] = program
        return program

    def program(self, program_id: str) -> Program:
        try:
            return self._programs[program_id]
        except KeyError:
            known = ", ".join(sorted(self._programs)) or "none"
            raise NotFound(f"there is no program {program_id!r} (known: {known})") from None

    def programs(self) -> tuple[Program, ...]:
        return tuple(self._programs.values())

    def add_actor(self, actor: Actor | str, *roles: Role) -> Actor:
        """Register an actor: ``add_actor("anton", Role.APPROVER)`` or ``add_actor(Actor(...))``.

        Registering a name again replaces its roles.
        """
        if isinstance(actor, Actor):
            if roles:
                raise BadInput("pass the roles in the Actor, not as extra arguments")
            person = actor
        else:
            person = Actor(actor, frozenset(roles))
        self._actors[person.name] = person
        return person

    def actor(self, name: str) -> Actor:
        try:
            return self._actors[name]
        except KeyError:
            raise NotFound(f"there is no actor {name!r}") from None

    def actors(self) -> tuple[Actor, ...]:
        return tuple(self._actors.values())

    # -- reading -----------------------------------------------------------------------------

    def grant(self, grant_id: str) -> Grant:
        try:
            return self._grants[grant_id]
        except KeyError:
            raise NotFound(f"there is no grant {grant_id!r}") from None

    def grants(self, program_id: str | None = None) -> tuple[Grant, ...]:
        """Every grant, in the order they were proposed (of one program if given)."""
        return tuple(
            g for g in self._grants.values() if program_id is None or g.program_id == program_id
        )

    def records(self, grant_id: str) -> tuple[TransitionRecord, ...]:
        """The grant's transition records, oldest first."""
        self.grant(grant_id)
        return tuple(self._records[grant_id])

    def exposure(self, program_id: str) -> Exposure:
        """What the program's grants bind now (:meth:`Exposure.of` over its grants)."""
        self.program(program_id)
        return Exposure.of(self.grants(program_id))

    def next_id(self, cmd: Propose) -> str:
        """The id a proposal would get now (no number is used up by asking)."""
        program = self.program(cmd.program_id)
        prefix = f"{program.short or program.id}-{cmd.date.year:04d}-"
        taken = sum(1 for gid in self._grants if gid.startswith(prefix))
        return f"{prefix}{taken + 1:04d}"

    # -- steps -------------------------------------------------------------------------------

    def _version(self, program_id: str, cmd: Command) -> ProgramVersion:
        return self.program(program_id).version_at(cmd.date)

    def check(self, grant_id: str | None, cmd: Command, *, actor: str) -> Evaluation:
        """Every verdict ``cmd`` would get (``grant_id`` ``None`` for a proposal). A dry run."""
        person = self.actor(actor)
        if grant_id is None:
            if not isinstance(cmd, Propose):
                raise BadInput(f"{cmd.event} needs the id of an existing grant")
            return lifecycle.check(
                None,
                cmd,
                actor=person,
                version=self._version(cmd.program_id, cmd),
                exposure=self.exposure(cmd.program_id),
                grant_id=self.next_id(cmd),
            )
        grant = self.grant(grant_id)
        return lifecycle.check(
            grant,
            cmd,
            actor=person,
            version=self._version(grant.program_id, cmd),
            exposure=self.exposure(grant.program_id),
        )

    def propose(self, cmd: Propose, *, actor: str) -> Grant:
        """Record an application; returns the new grant (state ``proposed``)."""
        if not isinstance(cmd, Propose):
            raise BadInput(f"propose takes a Propose command, not {type(cmd).__name__}")
        person = self.actor(actor)
        grant_id = self.next_id(cmd)
        record = lifecycle.decide(
            None,
            cmd,
            actor=person,
            version=self._version(cmd.program_id, cmd),
            recorded_at=(now := self.clock()),
            exposure=self.exposure(cmd.program_id),
            grant_id=grant_id,
            today=business_day(now),
        )
        grant = lifecycle.apply(None, record)
        self._grants[grant_id] = grant
        self._records[grant_id] = [record]
        return grant

    def act(self, grant_id: str, cmd: Command, *, actor: str) -> Grant:
        """Fire any event but ``propose`` on a grant; returns the grant after the step."""
        if isinstance(cmd, Propose):
            raise BadInput("use propose() for an application")
        person = self.actor(actor)
        grant = self.grant(grant_id)
        record = lifecycle.decide(
            grant,
            cmd,
            actor=person,
            version=self._version(grant.program_id, cmd),
            recorded_at=(now := self.clock()),
            exposure=self.exposure(grant.program_id),
            today=business_day(now),
        )
        after = lifecycle.apply(grant, record)
        self._records[grant_id].append(record)
        self._grants[grant_id] = after
        return after
