"""click parameter types for amounts, dates, roles and overrides.

Malformed values become click usage errors (exit code 2) with grantflow's own sentence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
import pendulum

from grantflow.domain.dates import parse_date
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
