"""Business dates (pendulum ``Date``) and recording times (UTC ``DateTime``).

A business date is the date printed on a document (a notice, an application, a proof of use).
A recording time is when grantflow stored the step; it is kept in UTC and shown in
Europe/Berlin.
"""

from __future__ import annotations

import datetime as dt
import re

import pendulum

from grantflow.errors import BadInput

BERLIN = pendulum.timezone("Europe/Berlin")
UTC = pendulum.UTC

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

Date = pendulum.Date
DateTime = pendulum.DateTime


def parse_date(text: str) -> pendulum.Date:
    """Parse ``2021-12-31`` (ISO 8601) or ``31.12.2021`` (German) into a pendulum Date."""
    s = text.strip()
    m = _ISO.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _GERMAN.match(s)
        if not m:
            raise BadInput(f"date {text!r} is not a date; write 2021-12-31 or 31.12.2021")
        d, mo, y = (int(g) for g in m.groups())
    try:
        return pendulum.Date(y, mo, d)
    except ValueError:
        raise BadInput(f"date {text!r} does not exist in the calendar") from None


def as_date(value: dt.date | str) -> pendulum.Date:
    """Coerce a stdlib date, a pendulum date or a string into a pendulum Date."""
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, dt.datetime):
        raise BadInput(f"{value!r} is a date and time; a business date is a calendar date")
    if isinstance(value, pendulum.Date):
        return value
    return pendulum.Date(value.year, value.month, value.day)


def format_date_de(d: dt.date) -> str:
    """``31.12.2021``"""
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def add_months(d: pendulum.Date, months: int) -> pendulum.Date:
    """Calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    return d.add(months=months)


def end_of_month(d: pendulum.Date) -> pendulum.Date:
    return d.end_of("month")


def utc_now() -> pendulum.DateTime:
    """The current time in UTC. Only services call this; the domain takes time as an argument."""
    return pendulum.now(UTC)


def business_day(now: dt.datetime) -> pendulum.Date:
    """The business date at the instant ``now``: its date in Europe/Berlin. A service gives the
    domain "today" as ``business_day(clock())``, so that an injected clock decides it."""
    return as_utc(now).in_timezone(BERLIN).date()


def as_utc(value: dt.datetime) -> pendulum.DateTime:
    """A timezone-aware datetime converted to UTC; naive datetimes are refused."""
    if value.tzinfo is None:
        raise BadInput(f"{value!r} has no time zone; recording times must be timezone-aware")
    return pendulum.instance(value).in_timezone(UTC)


def to_berlin(value: dt.datetime) -> pendulum.DateTime:
    """A stored UTC time as shown to people: Europe/Berlin."""
    return as_utc(value).in_timezone(BERLIN)
