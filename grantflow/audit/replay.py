"""What ``audit verify`` checks beyond the hashes: that the log tells a possible story.

The hash chains prove that nobody changed, removed or inserted a record without breaking a
link. They do not prove that the records describe what grantflow would have done, nor that
the state the rules read is the state the log committed to. :class:`Judge` does that, fed
the same stream of records (grant by grant, in ``seq`` order) and, first, the administrative
chain (:class:`Directory`):

* **continuity**: every record starts in the state the record before it ended in
  (``from_state`` of record n is ``to_state`` of record n-1; none for record 1);
* **replay**: the records fold into a grant (:func:`grantflow.domain.lifecycle.apply`), and the
  state hash a record commits to is the hash of the grant it gives; the grant's stored row
  (snapshot and query columns) is the replay of its records;
* **re-judging**: every step is judged again by the rules of this grantflow, against the grant
  before it, with the guideline version it names (whose content hash must be the one the
  record carries and the one the administrative chain says was loaded), the roles its actor
  had when it was written (from the administrative chain) and the overrides it records; a
  step the rules would have refused is reported with the rules that refuse it. Budget rules
  are judged against the grant alone: the program's sums at that moment come from every other
  grant's records and are not rebuilt for each step (``audit budget-days`` checks the sums
  table against the log);
* **identity**: every record written since migration ``0006`` says how its actor was
  established, names an actor the administrative chain knows, active at that time, and is
  ``declared`` only in a database created for declared actors.

Records written before migration ``0006`` committed to no state and name no guideline hash or
assurance; they are checked for continuity and replay only, and the report counts them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from grantflow.audit import chain
from grantflow.domain import lifecycle
from grantflow.domain.codec import from_data, to_data
from grantflow.domain.dates import business_day
from grantflow.domain.figures import derived_values
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import (
    Actor,
    Assurance,
    Event,
    Grant,
    Role,
    State,
    TransitionRecord,
)
from grantflow.errors import GrantflowError

Report = Callable[[str, str, "str | None"], None]
"""``report(where, what, log_id)``: how the judge hands a problem to the verifier."""

VersionOf = Callable[[str, str], "ProgramVersion | str"]
"""``version_of(program id, version)``: the parsed guideline version, or a sentence saying why
it cannot be had (its stored document does not match its content hash, it is missing)."""

ASSURANCES = frozenset(a.value for a in Assurance)


@attrs.define
class _Person:
    roles: tuple[tuple[int, frozenset[str], bool], ...] = ()
    """``(after_transition, roles, active)`` from every record about the person, oldest
    first."""
    login: str | None = None

    def at(self, transition_id: int) -> tuple[frozenset[str], bool] | None:
        """Roles and whether active when transition ``transition_id`` was written."""
        found = None
        for after, roles, active in self.roles:
            if after < transition_id:
                found = (roles, active)
        return found


@attrs.define
class Directory:
    """The administrative chain folded: who had which roles when, which guideline versions
    were loaded with which content hash, where the records of migration ``0006`` begin."""

    people: dict[str, _Person] = attrs.Factory(dict)
    versions: dict[tuple[str, str], str] = attrs.Factory(dict)
    legacy_transitions: int | None = None
    """The newest transition written before migration 0006 (``None``: no ``trust`` record
    seen, so nothing can be told apart)."""
    legacy_refused: int = 0
    legacy_checkpoints: int = 0
    declared: bool = False
    count: int = 0

    def fold(self, row: Mapping[str, Any], report: Report) -> None:
        """Take one administrative record (in chain order)."""
        self.count += 1
        action, subject, data = row["action"], row["subject"], row["data"]
        where, log_id = f"administrative record {row['id']}", f"a-{row['id']}"
        after = int(row["after_transition"] or 0)
        if not isinstance(data, Mapping):
            report(where, "its data is not an object", log_id)
            return
        if action == "trust":
            self.legacy_transitions = int(data.get("legacy_transitions") or 0)
            self.legacy_refused = int(data.get("legacy_refused") or 0)
            self.legacy_checkpoints = int(data.get("legacy_checkpoints") or 0)
            return
        if row["actor_auth"] != "migration":
            self._check_author(row, where, log_id, report)
        if action == "declare-actors":
            self.declared = True
        elif action == "add":
            person = self.people.setdefault(str(subject), _Person())
            person.login = data.get("login")
            person.roles = (*person.roles, (after, frozenset(data.get("roles") or ()), True))
        elif action in ("roles", "deactivate"):
            changed = self.people.get(str(subject))
            if changed is None or not changed.roles:
                report(where, f"changes {subject}, whom no record added", log_id)
                return
            _, roles, active = changed.roles[-1]
            if action == "roles":
                roles = frozenset(data.get("roles") or ())
            else:
                active = False
            changed.roles = (*changed.roles, (after, roles, active))
        elif action == "login":
            mapped = self.people.get(str(subject))
            if mapped is None:
                report(where, f"changes {subject}, whom no record added", log_id)
                return
            mapped.login = data.get("login")
        elif action == "guideline":
            self.versions[(str(subject), str(data.get("version")))] = str(data.get("content_hash"))
        else:
            report(where, f"has an unknown action {action!r}", log_id)

    def _check_author(
        self, row: Mapping[str, Any], where: str, log_id: str, report: Report
    ) -> None:
        author = row["actor"]
        if row["actor_auth"] not in ASSURANCES:
            report(
                where,
                f"names no known way its actor was established: {row['actor_auth']!r}",
                log_id,
            )
            return
        bootstrap = not self.people  # the first admin adds themselves
        if bootstrap:
            return
        person = self.people.get(str(author))
        state = person.roles[-1] if person is not None and person.roles else None
        if state is None or Role.ADMIN.value not in state[1] or not state[2]:
            report(
                where,
                f"was written by {author}, who was no active admin then: an administrative "
                "record only an admin may write",
                log_id,
            )

    def compare_actors(
        self, rows: Iterable[tuple[str, list[str], str | None, bool]], report: Report
    ) -> None:
        """The ``actors`` table must be what the administrative chain says."""
        seen: set[str] = set()
        for name, roles, login, active in rows:
            seen.add(name)
            person = self.people.get(name)
            where = f"actor {name}"
            if person is None or not person.roles:
                report(
                    where,
                    "is in the actors table but no administrative record added them: "
                    "added outside grantflow",
                    None,
                )
                continue
            _, logged_roles, logged_active = person.roles[-1]
            if frozenset(roles) != logged_roles:
                report(
                    where,
                    f"has the roles {', '.join(sorted(roles)) or 'none'} in the actors table, "
                    f"the administrative log says {', '.join(sorted(logged_roles)) or 'none'}: "
                    "changed outside grantflow",
                    None,
                )
            if login != person.login:
                report(
                    where,
                    f"has the login {login!r} in the actors table, the administrative "
                    f"log says {person.login!r}: changed outside grantflow",
                    None,
                )
            if bool(active) != logged_active:
                report(
                    where,
                    f"is {'active' if active else 'deactivated'} in the actors table, "
                    "the administrative log says otherwise: changed outside grantflow",
                    None,
                )
        for name in sorted(set(self.people) - seen):
            report(
                f"actor {name}",
                "was added by the administrative log but is missing from "
                "the actors table: deleted outside grantflow",
                None,
            )

    def compare_versions(self, rows: Iterable[tuple[str, str, str, Any]], report: Report) -> None:
        """Every stored guideline version must carry the content hash it was loaded with."""
        seen: set[tuple[str, str]] = set()
        for program_id, version, content_hash, _effective in rows:
            key = (program_id, version)
            seen.add(key)
            logged = self.versions.get(key)
            where = f"guideline {program_id} version {version}"
            if logged is None:
                report(
                    where,
                    "is stored but no administrative record loaded it: added outside grantflow",
                    None,
                )
            elif logged != content_hash:
                report(
                    where,
                    f"is stored with the content hash {content_hash[:12]}…, but was "
                    f"loaded with {logged[:12]}…: the guideline was swapped",
                    None,
                )
        for program_id, version in sorted(set(self.versions) - seen):
            report(
                f"guideline {program_id} version {version}",
                "was loaded but is no longer stored: deleted outside grantflow",
                None,
            )


class Judge:
    """Replays and re-judges the records of one grant after another (module docstring)."""

    def __init__(self, directory: Directory, version_of: VersionOf, report: Report) -> None:
        self.directory = directory
        self.version_of = version_of
        self.report = report
        self.grant: Grant | None = None
        self.broken = False
        self.last_to: str | None = None
        self.legacy = 0
        self.judged = 0

    def start(self) -> None:
        """A new grant's records follow."""
        self.grant, self.broken, self.last_to = None, False, None

    def record(self, row: Mapping[str, Any]) -> None:
        """The next record of the current grant (a verified-hash row with its ``row_*`` grant
        columns where its ``seq`` is the grant row's version)."""
        gid, seq = row["grant_id"], row["seq"]
        where, log_id = f"grant {gid} record {seq}", f"t-{row['id']}"
        expected_from = self.last_to
        self.last_to = row["to_state"]
        if row["from_state"] != expected_from:
            self.report(
                where,
                f"starts in {row['from_state'] or 'nothing'} but record {seq - 1} ended in "
                f"{expected_from or 'nothing'}: the log does not follow on",
                log_id,
            )
        if self.broken:
            return
        try:
            record = _record(row)
            before = self.grant
            after = lifecycle.apply(before, record)
        except Exception as exc:  # a forged record can hold anything
            self.report(where, f"cannot be replayed: {_first_line(exc)}", log_id)
            self.broken = True
            return
        self.grant = after
        legacy = self.directory.legacy_transitions
        trust = [row.get(k) for k in chain.TRUST_FIELDS]
        if legacy is not None and row["id"] <= legacy:
            self.legacy += 1
        elif any(v is None for v in trust):
            self.report(
                where,
                "was written after migration 0006 without saying how its actor was "
                "established, which guideline judged it or which state it leads to: not "
                "written by grantflow",
                log_id,
            )
        else:
            self._judge(row, record, before, after, where, log_id)
        if row.get("row_snapshot_present"):
            self._compare_row(row, after, gid)

    def _judge(
        self,
        row: Mapping[str, Any],
        record: TransitionRecord,
        before: Grant | None,
        after: Grant,
        where: str,
        log_id: str,
    ) -> None:
        self.judged += 1
        if chain.digest_of(to_data(after)) != row["state_hash"]:
            self.report(where, "commits to another state than its replay gives", log_id)
        auth = row["actor_auth"]
        if auth not in ASSURANCES:
            self.report(where, f"names no known way its actor was established: {auth!r}", log_id)
        elif auth == Assurance.DECLARED.value and not self.directory.declared:
            self.report(
                where,
                "names a declared actor in a database that takes no declared identities",
                log_id,
            )
        logged = self.directory.versions.get((record.guideline_id, record.guideline_version))
        if logged is not None and logged != row["guideline_hash"]:
            self.report(
                where,
                f"was judged under guideline {record.guideline_id} {record.guideline_version} "
                f"with content hash {str(row['guideline_hash'])[:12]}…, but that version was "
                f"loaded with {logged[:12]}…",
                log_id,
            )
        version = self.version_of(record.guideline_id, record.guideline_version)
        if isinstance(version, str):
            self.report(where, f"cannot be judged again: {version}", log_id)
            return
        if version.content_hash != row["guideline_hash"]:
            self.report(
                where,
                f"was judged under guideline content {str(row['guideline_hash'])[:12]}…, but the "
                f"stored version {record.guideline_version} is {version.content_hash[:12]}…: "
                "the guideline was swapped",
                log_id,
            )
        person = self.directory.people.get(record.actor)
        held = person.at(int(row["id"])) if person is not None else None
        if held is None:
            self.report(where, f"names {record.actor}, whom no administrative record added", log_id)
            return
        roles, active = held
        if not active:
            self.report(where, f"names {record.actor}, who was deactivated then", log_id)
        actor = Actor(name=record.actor, roles=frozenset(Role(r) for r in roles if r in _ROLES))
        cmd = lifecycle.command_of(record)
        try:
            evaluation = lifecycle.check(
                before,
                cmd,
                actor=actor,
                version=version,
                grant_id=record.grant_id,
                today=business_day(record.recorded_at),  # judged on the day it was recorded
            )
        except GrantflowError as exc:
            self.report(where, f"is refused when judged again: {exc}", log_id)
            return
        if not evaluation.lifecycle_ok:
            self.report(
                where,
                f"{record.event} is not possible from {evaluation.from_state} (GF-LIFECYCLE): "
                "the rules would have refused this step",
                log_id,
            )
            return
        failures = evaluation.failures
        if failures:
            said = "; ".join(f"{v.rule_id}: {v.message}" for v in failures)
            self.report(
                where,
                f"the rules refuse this step when it is judged again ({said})",
                log_id,
            )
        elif evaluation.to_state != record.to_state.value:
            self.report(
                where,
                f"ends in {record.to_state}, but the step leads to {evaluation.to_state}",
                log_id,
            )

    def _compare_row(self, row: Mapping[str, Any], replayed: Grant, gid: str) -> None:
        where = f"grant {gid}"
        try:
            stored = from_data(row["row_snapshot"], Grant)
        except Exception:  # a snapshot no writer of grantflow stores
            self.report(
                where, "its stored snapshot is not a grant: changed outside grantflow", None
            )
            return
        if stored != replayed:
            self.report(
                where,
                "its stored snapshot is not what its records replay to: changed outside grantflow",
                None,
            )
        for column, value in derived_values(replayed).items():
            stored_value = row.get(f"row_{column}")
            if not _same(stored_value, value):
                self.report(
                    where,
                    f"its {column} column is {stored_value}, its records give {value}: changed "
                    "outside grantflow",
                    None,
                )


_ROLES = frozenset(r.value for r in Role)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _same(stored: Any, value: Any) -> bool:
    if isinstance(value, Decimal):
        try:
            return Decimal(str(stored)) == value
        except Exception:
            return False
    if isinstance(value, dt.date):
        return str(stored)[:10] == value.isoformat()
    if value is None:
        return stored is None
    return bool(stored == value)


def _day(value: Any) -> pendulum.Date:
    parsed = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return pendulum.Date(parsed.year, parsed.month, parsed.day)


def _moment(value: Any) -> pendulum.DateTime:
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace(" ", "T"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return pendulum.instance(parsed)
    moment: pendulum.DateTime = pendulum.instance(value)
    return moment


def _record(row: Mapping[str, Any]) -> TransitionRecord:
    """The record a row holds, without its verdicts (neither replaying nor judging again reads
    them; the hash already proved them unchanged)."""
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    return TransitionRecord(
        grant_id=row["grant_id"],
        seq=row["seq"],
        event=Event(row["event"]),
        from_state=State(row["from_state"]) if row["from_state"] else None,
        to_state=State(row["to_state"]),
        business_date=_day(row["business_date"]),
        recorded_at=_moment(row["recorded_at"]),
        actor=row["actor"],
        reason=row["reason"],
        data=data,
        guideline_id=row["guideline_id"],
        guideline_version=row["guideline_version"],
    )


__all__ = ["Directory", "Judge", "Report", "VersionOf"]
