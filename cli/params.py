"""click parameter types for amounts, dates, moments, texts and whole numbers.

Malformed values become click usage errors (exit code 2) with grantflow's own sentence, and
every value is checked against :mod:`grantflow.limits` before any database sees it: amounts up
to the largest grantflow accepts, dates within the business dates, digits only ASCII 0-9,
names, ids, titles and reasons within their lengths and free of control characters.
:func:`guard` gives every plain text and whole-number parameter of the ``grantflow`` command
its limits, so a new option is checked without anyone remembering to.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from typing import Any

import click
import pendulum

from grantflow import BERLIN, BadInput, limits, parse_amount, parse_date

AMOUNT_TEXT_MAX = 40
"""The longest text read as an amount (``99.999.999.999,99 EUR`` has 21 characters)."""
DATE_TEXT_MAX = 40
"""The longest text read as a date or a moment."""


def _number_text(text: str, what: str, longest: int) -> str:
    """``text`` if it is short enough and its digits are ASCII; else BadInput."""
    if len(text) > longest:
        raise BadInput(f"{what} {limits.shorten(text, 20)!r} is too long to be {what}")
    problem = limits.text_problem(text, limits.ID)
    if problem:
        raise BadInput(f"{what} {problem}")
    limits.check_ascii_digits(text, what)
    return text


def read_amount(text: str) -> Decimal:
    """An amount as an official types it (:func:`~grantflow.domain.money.parse_amount`), within
    :mod:`grantflow.limits`: ASCII digits, at most 99,999,999,999.99 EUR. Raises BadInput."""
    _number_text(text, "amount", AMOUNT_TEXT_MAX)
    with decimal.localcontext() as context:
        context.prec = 2 * AMOUNT_TEXT_MAX  # a 40-digit number is refused, not an overflow
        value = parse_amount(text)
    problem = limits.amount_problem(value)
    if problem:
        raise BadInput(f"amount {text.strip()!r} {problem}")
    return value


def read_date(text: str) -> pendulum.Date:
    """A business date (2021-12-31 or 31.12.2021) within :mod:`grantflow.limits`: ASCII
    digits, 1970-01-01 to 2099-12-31. Raises BadInput."""
    _number_text(text, "date", DATE_TEXT_MAX)
    day = parse_date(text)
    problem = limits.date_problem(day)
    if problem:
        raise BadInput(f"date {text.strip()!r} {problem}")
    return day


class AmountType(click.ParamType[Decimal]):
    """800000, 800000.00, 800.000,00 — refuses what could mean two things (800.000)."""

    name = "amount"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return read_amount(str(value))
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


class DateType(click.ParamType[pendulum.Date]):
    """2021-12-31 or 31.12.2021."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> pendulum.Date:
        if isinstance(value, pendulum.Date):
            return value
        try:
            return read_date(str(value))
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


AMOUNT = AmountType()
DATE = DateType()


class MomentType(click.ParamType[pendulum.DateTime]):
    """A moment: ``2021-12-31T14:30``, ``2021-12-31 14:30:00+01:00``, ``31.12.2021 14:30`` or a
    bare date. Without an offset it is Europe/Berlin time; a bare date means the start of that
    day (``end_of_day``: its end). The result is in UTC."""

    name = "datetime"

    def __init__(self, *, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> pendulum.DateTime:
        if isinstance(value, dt.datetime):
            return pendulum.instance(value).in_timezone("UTC")
        text = str(value).strip()
        try:
            _number_text(text, "date and time", DATE_TEXT_MAX)
        except BadInput as exc:
            self.fail(str(exc), param, ctx)
        try:
            day = read_date(text)
        except BadInput:
            pass
        else:
            start = pendulum.datetime(day.year, day.month, day.day, tz=BERLIN)
            moment = start.add(days=1).subtract(microseconds=1) if self.end_of_day else start
            return moment.in_timezone("UTC")
        date_part, _, time_part = text.replace("T", " ", 1).partition(" ")
        try:
            iso_day = read_date(date_part).isoformat()
            parsed = dt.datetime.fromisoformat(f"{iso_day}T{time_part.strip()}")
        except (BadInput, ValueError):
            self.fail(
                f"{text!r} is not a date and time; write 2021-12-31T14:30, "
                "2021-12-31 14:30:00+01:00 or 31.12.2021 14:30 (Berlin time without an offset)",
                param,
                ctx,
            )
        if parsed.tzinfo is None:
            local = pendulum.instance(parsed, tz=BERLIN)
        else:
            local = pendulum.instance(parsed)
        return local.in_timezone("UTC")


MOMENT = MomentType()
MOMENT_UNTIL = MomentType(end_of_day=True)


def _shown(text: str) -> str:
    """``text`` as a message shows it: escaped (``repr``: control characters cannot reach the
    terminal), cut to 40 characters; ``it`` for text too long to show."""
    return repr(text) if len(text) <= 40 else "it"


class TextType(click.ParamType[str]):
    """Text of one kind of :mod:`grantflow.limits` (name, id, title, long text, location):
    within its length, without control characters (line breaks only in long text)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = "text" if kind == limits.TEXT else kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = value if isinstance(value, str) else str(value)
        if not text.strip() and self.kind != limits.TEXT:
            self.fail("it must not be empty", param, ctx)
        problem = limits.text_problem(text, self.kind)
        if problem:
            self.fail(f"{_shown(text)} {problem}", param, ctx)
        return text


NAME = TextType(limits.NAME)
ID = TextType(limits.ID)
TITLE = TextType(limits.TITLE)
TEXT = TextType(limits.TEXT)
LOCATION = TextType(limits.PATH)


class WholeNumberType(click.ParamType[int]):
    """A whole number written with the ASCII digits 0-9, from ``minimum`` to ``maximum``
    (click's ``int`` reads ``١٢`` as 12; grantflow refuses to guess)."""

    name = "integer"

    def __init__(self, minimum: int, maximum: int, unit: str = "") -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if text.isascii() and text.isdigit() and len(text) > 12:
                self.fail(f"{text[:20]} is more than {self.maximum}", param, ctx)
            if not (text.isascii() and text.isdigit()):
                self.fail(
                    f"{limits.shorten(text, 20)!r} is not a whole number written with the "
                    f"digits 0-9",
                    param,
                    ctx,
                )
            number = int(text)
        if not self.minimum <= number <= self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            self.fail(f"{number} is not from {self.minimum} to {self.maximum}{unit}", param, ctx)
        return number


YEAR = WholeNumberType(limits.DATE_MIN.year, limits.DATE_MAX.year)
"""A calendar year within the business dates."""
YEARS = WholeNumberType(1, limits.YEARS_MAX, "years")
"""A count of years (purpose binding)."""
DAYS = WholeNumberType(0, 36_500, "days")
"""A count of days (up to a hundred years)."""
COUNT = WholeNumberType(0, 1_000_000_000)
"""Any other whole number."""


class _CheckedPath(click.ParamType[Any]):
    """A ``click.Path`` whose text is checked first (a NUL in a path is bad input, not an
    internal error)."""

    def __init__(self, inner: click.ParamType[Any]) -> None:
        self.inner = inner
        self.name = inner.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            problem = limits.text_problem(value, limits.PATH)
            if problem:
                self.fail(f"{_shown(value)} {problem}", param, ctx)
        return self.inner.convert(value, param, ctx)


TEXT_KINDS: dict[str, TextType] = {
    "reason": TEXT,
    "justifications": TEXT,
    "title": TITLE,
    "db": LOCATION,
    "name_or_file": LOCATION,
    "path": LOCATION,
    "actor": NAME,
    "actor_filter": NAME,
    "applicant": NAME,
    "members": NAME,
    "name": NAME,
    "notice": NAME,
}
"""The text kind of a parameter by its name; any other plain text parameter is an id."""

NUMBER_KINDS: dict[str, WholeNumberType] = {
    "year": YEAR,
    "binding_years": YEARS,
    "within_days": DAYS,
}
"""The whole-number type of a parameter by its name; any other is :data:`COUNT`."""


def _guard_param(param: click.Parameter) -> None:
    name = param.name or ""
    kind = param.type
    if isinstance(kind, click.types.StringParamType):
        param.type = TEXT_KINDS.get(name, ID)
    elif isinstance(kind, click.IntRange):
        lo = kind.min if kind.min is not None else 0
        hi = kind.max if kind.max is not None else NUMBER_KINDS.get(name, COUNT).maximum
        param.type = WholeNumberType(max(lo, NUMBER_KINDS.get(name, COUNT).minimum), hi)
    elif isinstance(kind, click.types.IntParamType):
        param.type = NUMBER_KINDS.get(name, COUNT)
    elif isinstance(kind, click.Path):
        param.type = _CheckedPath(kind)


def guard(command: click.Command) -> None:
    """Give every plain text, whole-number and path parameter of ``command`` and its
    subcommands the limits of :mod:`grantflow.limits` (by the parameter's name: a reason is
    long text, ``--db`` a location, an applicant a name, other text an id)."""
    for param in command.params:
        _guard_param(param)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard(sub)
