"""Which database errors mean "another writer won" (and so :class:`ConcurrentUpdate`).

* PostgreSQL: serialization failure (``40001``), deadlock (``40P01``), lock not available
  (``55P03``) and a unique violation (``23505``: two writers created the same row).
* SQLite: ``database is locked`` / ``database table is locked`` (the busy timeout ran out, or a
  deferred transaction's snapshot went stale) and ``UNIQUE constraint failed``.
* The ORM's :class:`~sqlalchemy.orm.exc.StaleDataError`: the grant row's ``version`` was no
  longer the one read (``version_id_col``).

Every other error is a real error and passes through unchanged.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from grantflow.errors import ConcurrentUpdate

PG_LOCK_NOT_AVAILABLE = "55P03"
"""lock_not_available: a statement waited longer than ``lock_timeout`` (see
:mod:`grantflow.store.engine`)."""

PG_CONFLICT_STATES = frozenset({"40001", "40P01", PG_LOCK_NOT_AVAILABLE, "23505"})


def conflict_of(exc: BaseException) -> ConcurrentUpdate | None:
    """The :class:`ConcurrentUpdate` that ``exc`` amounts to, or ``None`` if it is no conflict."""
    if isinstance(exc, ConcurrentUpdate):
        return exc
    if isinstance(exc, StaleDataError):
        return ConcurrentUpdate(
            f"another writer changed the grant first ({exc}); retrying the step is safe"
        )
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None)
        if state == PG_LOCK_NOT_AVAILABLE:
            return ConcurrentUpdate(
                f"another writer held what this step needs for longer than the lock timeout "
                f"(PostgreSQL {state}: {_first_line(orig)}); nothing was written and retrying "
                f"the step is safe (GRANTFLOW_LOCK_TIMEOUT sets how long to wait)"
            )
        if state in PG_CONFLICT_STATES:
            return ConcurrentUpdate(
                f"another writer got there first (PostgreSQL {state}: {_first_line(orig)}); "
                f"retrying the step is safe"
            )
        if isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig):
            return ConcurrentUpdate(
                f"the database is busy with another writer ({orig}); retrying the step is safe"
            )
        if isinstance(orig, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(orig):
            return ConcurrentUpdate(
                f"another writer created the same row first ({orig}); retrying the step is safe"
            )
    return None


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "?"


__all__ = ["PG_CONFLICT_STATES", "conflict_of"]
