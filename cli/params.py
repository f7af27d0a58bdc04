"""click parameter types for amounts, dates, moments, roles and overrides.

Malformed values become click usage errors (exit code 2) with grantflow's own sentence.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click
import pendulum

from grantflow.domain.dates import BERLIN, parse_date
from grantflow.domain.money import parse_amount
from grantflow.errors import BadInput


class AmountType(click.ParamType[Decimal]):
    """800000, 800000.00, 800.000,00 — refuses what could mean two things (800.000)."""

    name = "amount"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(str(value))
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
            return parse_date(str(value))
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
            day = parse_date(text)
        except BadInput:
            pass
        else:
            start = pendulum.datetime(day.year, day.month, day.day, tz=BERLIN)
            moment = start.add(days=1).subtract(microseconds=1) if self.end_of_day else start
            return moment.in_timezone("UTC")
        date_part, _, time_part = text.replace("T", " ", 1).partition(" ")
        try:
            iso_day = parse_date(date_part).isoformat()
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
