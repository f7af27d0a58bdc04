"""grantflow's one error tree, each error with its exit code.

Every error the library raises on purpose is a :class:`GrantflowError`, and every one is defined
here. Each class carries a stable ``code`` for machine-readable output and the ``exit_code`` the
``grantflow`` command ends with when it stops on that error (the CLI reads it from the error, in
one place: ``cli/errors.py``)::

    GrantflowError                       exit 2 (an error of no branch below)
     ├── BadInput (ValueError)           exit 2: malformed or unknown input, nothing was changed
     │    ├── NotFound (LookupError)     exit 2: unknown grant, program, actor or version
     │    │    ├── SchemaMissing         exit 2: no grantflow schema yet (``grantflow init``)
     │    │    └── SchemaOutdated        exit 2: an older schema (``grantflow init`` upgrades it)
     │    └── GuidelineError             exit 2: a guideline file that does not validate
     ├── Refused                         exit 1: the rules, the roles or the lifecycle said no
     │    ├── RuleViolation              exit 1: one or more rules refused (lists *every* one)
     │    └── InvalidTransition          exit 1: the event is not possible from the grant's state
     ├── ConcurrentUpdate                exit 4: a concurrent writer won; retrying is safe
     └── IntegrityFailure                exit 3: the stored data cannot be trusted as it is
          ├── SchemaTooNew               exit 3: the database was written by a newer grantflow
          ├── ChainBroken                exit 3: the audit chain is broken
          └── DatabaseNotSound           exit 3: not a SQLite database, or a damaged one

The command line documents the same codes (``docs/reference/cli.md#exit-codes``); 0 is done and
70 an internal error (a bug).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from grantflow.domain.model import Verdict


class GrantflowError(Exception):
    """Root of every error grantflow raises on purpose.

    ``code`` names the error for machine-readable output; ``exit_code`` is the exit code of the
    ``grantflow`` command that stops on it (the module docstring has the tree with both).
    """

    code: ClassVar[str] = "grantflow"
    exit_code: ClassVar[int] = 2


class BadInput(GrantflowError, ValueError):
    """The input is malformed or names something unknown; nothing was changed."""

    code = "input.bad"
    exit_code = 2


class NotFound(BadInput, LookupError):
    """A grant, program, guideline version or actor does not exist."""

    code = "input.not_found"


class SchemaMissing(NotFound):
    """The database has no grantflow schema yet (``grantflow init`` creates it)."""

    code = "store.schema_missing"


class SchemaOutdated(NotFound):
    """The database's schema is older than this grantflow (``grantflow init`` upgrades it)."""

    code = "store.schema_outdated"


class GuidelineProblem:
    """One problem in a guideline file: where, what was found, what was expected."""

    __slots__ = ("expected", "path", "value")

    def __init__(self, path: str, value: object, expected: str) -> None:
        self.path = path
        self.value = value
        self.expected = expected

    def __str__(self) -> str:
        if self.value is _MISSING:
            return f"{self.path}: missing; expected {self.expected}"
        return f"{self.path}: {self.value!r} is not valid; expected {self.expected}"

    def __repr__(self) -> str:
        return f"GuidelineProblem({self.path!r}, {self.value!r}, {self.expected!r})"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: object = _MISSING
"""Marker for a key that is absent (used as ``GuidelineProblem.value``)."""


class GuidelineError(BadInput):
    """A guideline file does not validate; :attr:`problems` lists every problem found."""

    code = "guideline.invalid"

    def __init__(self, source: str, problems: Sequence[GuidelineProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        first = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"guideline {source} is not valid: {first}{more}")


class Refused(GrantflowError):
    """The rules, the roles or the lifecycle refused the step; nothing was changed."""

    code = "refused"
    exit_code = 1


class RuleViolation(Refused):
    """One or more rules refused an event. :attr:`failures` holds *every* failing verdict."""

    code = "refused.rules"

    def __init__(self, event: str, grant_id: str, failures: Sequence[Verdict]) -> None:
        self.event = event
        self.grant_id = grant_id
        self.failures = tuple(failures)
        ids = ", ".join(v.rule_id for v in self.failures)
        super().__init__(f"{event} on {grant_id} refused by {ids}")

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(v.rule_id for v in self.failures)

    def explain(self) -> str:
        """One line per failing rule: the message, the rule id and where the guideline says so."""
        return "\n".join(v.explain() for v in self.failures)


class InvalidTransition(Refused):
    """The event is not possible from the grant's current state (GF-LIFECYCLE)."""

    code = "refused.lifecycle"

    def __init__(self, event: str, state: str, allowed_from: Sequence[str]) -> None:
        self.event = event
        self.state = state
        self.allowed_from = tuple(allowed_from)
        allowed = ", ".join(self.allowed_from) or "no state"
        super().__init__(
            f"{event} is not possible while the grant is {state} "
            f"(only from: {allowed}) — GF-LIFECYCLE"
        )


class ConcurrentUpdate(GrantflowError):
    """Another writer changed the same grant or budget first. Retrying the step is safe."""

    code = "conflict.retryable"
    exit_code = 4


class IntegrityFailure(GrantflowError):
    """Stored data cannot be trusted as it is (a broken audit chain, an unknown schema)."""

    code = "integrity"
    exit_code = 3


class SchemaTooNew(IntegrityFailure):
    """The database schema is newer than this version of grantflow understands."""

    code = "integrity.schema_too_new"


class ChainBroken(IntegrityFailure):
    """The audit chain is broken: a log entry was changed, deleted, inserted or moved outside
    grantflow (``grantflow audit verify`` exits 3)."""

    code = "integrity.chain_broken"


class DatabaseNotSound(IntegrityFailure):
    """The database file is not a SQLite database, or a damaged one (exit 3)."""

    code = "integrity.database_not_sound"
