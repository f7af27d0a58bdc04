"""Which database errors are lost races (ConcurrentUpdate) and which are not."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from grantflow.errors import ConcurrentUpdate
from grantflow.store.conflicts import conflict_of


def FakePgError(sqlstate: str) -> psycopg.Error:
    """psycopg's own exception class for ``sqlstate``."""
    return psycopg.errors.lookup(sqlstate)(f"state {sqlstate}")


@pytest.mark.parametrize("state", ["40001", "40P01", "55P03", "23505"])
def test_postgres_conflicts(state: str) -> None:
    exc = OperationalError("UPDATE …", {}, FakePgError(state))
    assert isinstance(conflict_of(exc), ConcurrentUpdate)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")),
        OperationalError("INSERT", {}, sqlite3.OperationalError("database table is locked")),
        IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: t.x")),
        StaleDataError("UPDATE statement on table 'grants' expected to update 1 row(s)"),
        ConcurrentUpdate("already one"),
    ],
)
def test_sqlite_and_orm_conflicts(exc: Exception) -> None:
    assert isinstance(conflict_of(exc), ConcurrentUpdate)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("x", {}, FakePgError("42P01")),  # undefined table
        IntegrityError("x", {}, FakePgError("23503")),  # foreign key violation
        IntegrityError("x", {}, sqlite3.IntegrityError("FOREIGN KEY constraint failed")),
        OperationalError("x", {}, sqlite3.OperationalError("no such table: grants")),
        ValueError("not a database error"),
    ],
)
def test_real_errors_are_not_conflicts(exc: Exception) -> None:
    assert conflict_of(exc) is None
