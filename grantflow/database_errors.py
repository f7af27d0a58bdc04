"""Database errors as grantflow errors: one sentence, never the SQL or its parameters.

grantflow checks every value against :mod:`grantflow.limits` before a database sees it, so a
database error is not the normal way to learn about bad input. What can still happen:

* the file is not a SQLite database at all (a text file), or a damaged one: SQLite says
  ``file is not a database`` or ``database disk image is malformed``. That is
  :class:`DatabaseNotSound`, an :class:`~grantflow.errors.IntegrityFailure` (exit 3): the
  database cannot be trusted as it is;
* SQLAlchemy wraps an error grantflow raised while binding a value (a
  :class:`~grantflow.errors.BadInput` from a column type): that error, unwrapped;
* the database refuses a value (PostgreSQL ``DataError``: a value too long, a number out of
  range, a NUL character): :class:`~grantflow.errors.BadInput` naming what the database said,
  without the statement.

:func:`known_error` makes the translation; :func:`translated` runs a callable and raises the
translation of what it raised. Nothing here imports SQLAlchemy until an error is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from grantflow.errors import BadInput, DatabaseNotSound, GrantflowError

T = TypeVar("T")

_NOT_SOUND = (
    "file is not a database",
    "database disk image is malformed",
    "malformed database schema",
    "file is encrypted or is not a database",
    "database corrupt",
)


def _first_line(value: object) -> str:
    lines = str(value).strip().splitlines()
    text = lines[0].strip() if lines else ""
    return text if len(text) <= 200 else text[:200] + "…"


def known_error(exc: BaseException) -> GrantflowError | None:
    """The grantflow error ``exc`` stands for, or ``None`` if it is not a database error
    grantflow knows (see the module docstring)."""
    if isinstance(exc, GrantflowError):
        return exc
    module = type(exc).__module__
    if not (module.startswith("sqlalchemy") or module.startswith("sqlite3")):
        return None
    import sqlite3

    from sqlalchemy import exc as sa_exc

    orig: object = getattr(exc, "orig", None) if isinstance(exc, sa_exc.StatementError) else exc
    if isinstance(orig, GrantflowError):
        return orig
    if isinstance(orig, sqlite3.DatabaseError) and not isinstance(
        orig, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError
    ):
        said = _first_line(orig)
        if any(marker in said.lower() for marker in _NOT_SOUND):
            return DatabaseNotSound(
                f"the database is not sound: SQLite says {said!r}, so the file is not a "
                f"grantflow database or it is damaged; restore it from a backup or name "
                f"another file"
            )
    if isinstance(exc, sa_exc.DataError):
        return BadInput(
            f"the database refused a value ({_first_line(orig)}); "
            f"docs/reference/limits.md lists what grantflow accepts"
        )
    return None


def translated(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """``fn(*args, **kw)``; a database error grantflow knows is raised as its grantflow error
    (:func:`known_error`), chained to the original."""
    try:
        return fn(*args, **kw)
    except Exception as exc:
        known = known_error(exc)
        if known is None or known is exc:
            raise
        raise known from exc


__all__ = ["DatabaseNotSound", "known_error", "translated"]
