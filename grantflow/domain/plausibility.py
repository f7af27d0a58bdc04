"""Plausibility core rules (``GF-PLAUSIBLE-…``): values no real grant document can hold.

They hold in every program, next to the other core rules (:data:`grantflow.domain.rules.
CORE_RULES`), and are hard: a value that cannot be true is corrected, not overridden.

``GF-PLAUSIBLE-APPLICATION``
    An application dated after its own planned end: the project is over before anyone applied,
    and only projects not yet begun are funded (VV Nr. 1.3 zu § 44 BHO/LHO).
``GF-PLAUSIBLE-FUNDS``
    An application whose own and third-party (private) funds are larger than its eligible
    costs: they are means to cover those costs (ANBest-P Nr. 1.2), so they cannot exceed them.
    (On ``close`` the planned funds may well exceed final costs that fell: the settlement
    handles that, R-COST-REDUCTION.)
``GF-PLAUSIBLE-DATE``
    A date far from today: a step dated more than :data:`AHEAD_DAYS` days after today (no
    office dates its documents a year ahead, and nobody knows which guideline version will be in
    force then), or a date in the step (a planned end, an extension, ``needed_by``) more than
    :data:`SPAN_YEARS` years after the step's own date, beyond any guideline's horizon. Dates
    before the program's first guideline version are refused already (no version is in
    force), and dates outside 1970-2099 are bad input (:mod:`grantflow.limits`).

Amounts and dates written with digits other than ASCII 0-9 never reach a rule: the parsers
refuse them (:func:`grantflow.limits.check_ascii_digits`), since ``Decimal("١٢٣")`` is 123.

"Today" is :attr:`RuleContext.today <grantflow.domain.rules.RuleContext.today>`: the service
gives the business date of its clock (:func:`grantflow.domain.dates.business_day`), the audit's
replay the day a record was recorded. Only a caller of :func:`grantflow.domain.lifecycle.check`
or ``decide`` that gives no day gets :func:`today`, the day in Europe/Berlin now (a test may
replace it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pendulum

from grantflow.domain.commands import Command, Propose
from grantflow.domain.dates import business_day, utc_now
from grantflow.domain.model import Event
from grantflow.domain.money import format_eur
from grantflow.domain.rules import ALL_EVENTS, CORE, Outcome, Rule, RuleContext, fail, ok

AHEAD_DAYS = 366
"""How far after today a step may be dated (a year, leap day included)."""
SPAN_YEARS = 30
"""How far after a step's own date a date in the step may lie."""


def today() -> pendulum.Date:
    """The day in Europe/Berlin now: what ``GF-PLAUSIBLE-DATE`` compares with when the caller
    of the lifecycle gives no day (the service always gives its clock's)."""
    return business_day(utc_now())


@attrs.frozen(kw_only=True)
class ApplicationAfterEndRule(Rule):
    """``GF-PLAUSIBLE-APPLICATION``: an application is dated on or before its planned end."""

    kind = "plausible-application"
    default_events = frozenset({Event.PROPOSE})

    def check(self, ctx: RuleContext) -> Outcome | None:
        cmd = ctx.command
        if not isinstance(cmd, Propose):
            return None
        if cmd.date > cmd.end:
            return fail(
                f"the application is dated {cmd.date.isoformat()}, after the project's own "
                f"planned end {cmd.end.isoformat()}: a project that is over cannot be funded"
            )
        return ok(
            f"applied for on {cmd.date.isoformat()}, before the planned end {cmd.end.isoformat()}"
        )


@attrs.frozen(kw_only=True)
class FundsWithinCostsRule(Rule):
    """``GF-PLAUSIBLE-FUNDS``: own and private funds are not more than the costs."""

    kind = "plausible-funds"
    default_events = frozenset({Event.PROPOSE})

    def check(self, ctx: RuleContext) -> Outcome | None:
        if not isinstance(ctx.command, Propose):
            return None
        g = ctx.grant
        funds: Decimal = g.private_funds + g.own_funds
        costs = g.eligible_costs
        if funds > costs:
            return fail(
                f"own funds {format_eur(g.own_funds)} and private funds "
                f"{format_eur(g.private_funds)} come to {format_eur(funds)}, more than the "
                f"eligible costs {format_eur(costs)} they are meant to cover"
            )
        return ok(f"own and private funds {format_eur(funds)} are within the eligible costs")


def _dates(cmd: Command) -> list[tuple[str, dt.date]]:
    """The dates a command holds besides its own ``date``, with their field names."""
    out = []
    for field in attrs.fields(type(cmd)):
        value = getattr(cmd, field.name)
        if field.name != "date" and isinstance(value, dt.date):
            out.append((field.name.replace("_", " "), value))
    return out


@attrs.frozen(kw_only=True)
class DateNearTodayRule(Rule):
    """``GF-PLAUSIBLE-DATE``: a step is not dated far after today, and its other dates are not
    far after its own."""

    kind = "plausible-date"
    default_events = ALL_EVENTS

    def check(self, ctx: RuleContext) -> Outcome:
        cmd = ctx.command
        now = ctx.today
        latest = now.add(days=AHEAD_DAYS)
        if cmd.date > latest:
            return fail(
                f"the {ctx.event} is dated {cmd.date.isoformat()}, more than a year after today "
                f"({now.isoformat()}): documents are not dated that far ahead, and which "
                f"guideline version of {ctx.version.program_id} will then be in force is not "
                f"known"
            )
        horizon = cmd.date.add(years=SPAN_YEARS)
        for name, value in _dates(cmd):
            if value > horizon:
                return fail(
                    f"the {name} {value.isoformat()} lies more than {SPAN_YEARS} years after "
                    f"the {ctx.event} dated {cmd.date.isoformat()}; no guideline is in force "
                    f"that long"
                )
        return ok(f"dated {cmd.date.isoformat()}, not after {latest.isoformat()}")


PLAUSIBILITY_RULES: tuple[Rule, ...] = (
    ApplicationAfterEndRule(
        id="GF-PLAUSIBLE-APPLICATION",
        citation=CORE + "; VV Nr. 1.3 zu § 44 BHO/LHO (only projects not yet begun are funded)",
        events=ApplicationAfterEndRule.default_events,
    ),
    FundsWithinCostsRule(
        id="GF-PLAUSIBLE-FUNDS",
        citation=CORE + "; ANBest-P Nr. 1.2 (own and third-party funds cover the costs)",
        events=FundsWithinCostsRule.default_events,
    ),
    DateNearTodayRule(
        id="GF-PLAUSIBLE-DATE", citation=CORE, events=DateNearTodayRule.default_events
    ),
)
"""The plausibility core rules, in the order they are judged."""


__all__ = [
    "AHEAD_DAYS",
    "PLAUSIBILITY_RULES",
    "SPAN_YEARS",
    "ApplicationAfterEndRule",
    "DateNearTodayRule",
    "FundsWithinCostsRule",
    "today",
]
