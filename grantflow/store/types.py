"""Column types that keep grantflow's values exact on every database.

* :class:`Money` -- euros with cents as :class:`~decimal.Decimal`. PostgreSQL stores
  ``NUMERIC(14, 2)``. SQLite has no decimal type (a ``NUMERIC`` column stores a binary float),
  so there the same column stores whole **cents** as a ``BIGINT``; sums in SQL stay exact on
  both. No value ever passes through a ``float``.
* :class:`UTCDateTime` -- recording times, timezone-aware and in UTC (PostgreSQL
  ``TIMESTAMP WITH TIME ZONE``; SQLite an ISO string in UTC). Read back as pendulum
  ``DateTime`` in UTC.
* :class:`BusinessDate` -- business dates (``DATE``), read back as pendulum ``Date``.
* :data:`JSONValue` -- JSON documents (``JSONB`` on PostgreSQL, ``JSON`` elsewhere).

The migrations import these types, so their database representation must never change; a new
representation is a new type and a migration.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import pendulum
from sqlalchemy import JSON, BigInteger, Date, DateTime, Dialect, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from grantflow.domain.money import CENT
from grantflow.errors import BadInput

UTC = pendulum.UTC

_MAX_CENTS = 10**14 - 1  # NUMERIC(14, 2) holds up to 999,999,999,999.99


class Money(TypeDecorator[Decimal]):
    """An amount in euros with cents, exact on every database (see the module docstring)."""

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal | int):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
        cents = Decimal(value) / CENT
        if cents != cents.to_integral_value():
            raise BadInput(f"{value} has more than two decimal places")
        if abs(cents) > _MAX_CENTS:
            raise BadInput(f"{value} is too large an amount")
        if dialect.name == "sqlite":
            return int(cents)
        return Decimal(value).quantize(CENT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2)  # cents: exact, with two decimal places
        return Decimal(value).quantize(CENT)


class UTCDateTime(TypeDecorator[pendulum.DateTime]):
    """A timezone-aware moment, stored in UTC and read back as a pendulum ``DateTime`` in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise BadInput(f"{value!r} has no time zone; recording times must be timezone-aware")
        utc = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)  # SQLite keeps no offset: the stored text is UTC
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> pendulum.DateTime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - the dialect parses its own format
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        moment: pendulum.DateTime = pendulum.instance(value).in_timezone(UTC)
        return moment


class BusinessDate(TypeDecorator[pendulum.Date]):
    """A calendar date (``DATE``), read back as a pendulum ``Date``."""

    impl = Date
    cache_ok = True

    def process_bind_param(self, value: dt.date | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            raise BadInput(f"{value!r} is a date and time; a business date is a calendar date")
        return dt.date(value.year, value.month, value.day)

    def process_result_value(self, value: Any, dialect: Dialect) -> pendulum.Date | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - the dialect parses its own format
            return pendulum.Date.fromisoformat(value)
        return _business_date(value)


@functools.lru_cache(maxsize=16_384)
def _business_date(value: dt.date) -> pendulum.Date:
    """``value`` as a pendulum ``Date``. Business dates repeat (a program's steps fall on a
    few thousand days) and building a pendulum ``Date`` costs about a microsecond, which a
    report reading 100,000 rows notices; ``Date`` is immutable, so one object can serve."""
    return pendulum.Date(value.year, value.month, value.day)


def json_type() -> TypeEngine[Any]:
    """JSON documents: ``JSONB`` on PostgreSQL, ``JSON`` (text) elsewhere."""
    return JSON().with_variant(JSONB(), "postgresql")


__all__ = ["BusinessDate", "Money", "UTCDateTime", "json_type"]
