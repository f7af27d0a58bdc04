"""Statutory interest at "n percentage points above the base rate", per day, over rate periods.

German grant law charges interest on refund claims (§ 49a Abs. 3 VwVfG, R-REFUND-INTEREST) and
on funds not used soon after payout (§ 49a Abs. 4 VwVfG, R-INTERIM-INTEREST) at **five
percentage points above the base rate (Basiszinssatz, § 247 BGB) per year**. The base rate
changes on 1 January and 1 July, so interest over a longer span is the sum of slices, one per
rate period the span touches. :func:`interest` computes those slices and keeps them, so that an
official can check every figure by hand.

Conventions (the reasons and sources are in ``docs/explanation/money.md``):

* **Days.** Interest accrues for every calendar day ``d`` with ``start <= d < end``: the first
  day counts, the last one does not. Pass the first day that bears interest as ``start`` and the
  day the money came back (or was used) as ``end``. The number of days is ``end - start``.
* **Day count.** :attr:`DayCount.ACT_365` (the default): actual days, a year of 365 days, also in
  leap years (§ 191 BGB). :attr:`DayCount.ACT_ACT` is available for authorities whose practice
  divides by 366 in leap years; it also splits slices at 1 January.
* **Rate.** Base rate in force on the day + ``margin`` percentage points, per year. The base
  rate may be negative (it was from 2013 to 2022); only the *total* rate is floored at zero,
  because the statute creates a claim of the authority and no negative interest for the payer.
* **Rounding.** Each slice is computed exactly and rounded to the cent half-up (kaufmännisch);
  the total is the sum of the rounded slices, so the printed slices add up to the total.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import attrs
import pendulum

from grantflow.domain.money import CENT, ZERO, format_eur
from grantflow.errors import BadInput

STATUTORY_MARGIN = Decimal("5")
"""Percentage points above the base rate: § 49a Abs. 3 Satz 1 VwVfG (and § 288 Abs. 1 BGB)."""


class DayCount(enum.StrEnum):
    """How a slice's days are turned into a fraction of a year."""

    ACT_365 = "act/365"  # actual days / 365, also in leap years (default)
    ACT_ACT = "act/act"  # actual days / days of the calendar year (366 in leap years)


def _half_year_start(d: pendulum.Date) -> bool:
    return d.day == 1 and d.month in (1, 7)


def _next_half_year(d: pendulum.Date) -> pendulum.Date:
    return pendulum.Date(d.year, 7, 1) if d.month < 7 else pendulum.Date(d.year + 1, 1, 1)


@attrs.frozen
class BaseRate:
    """One published base rate: ``rate`` percent per year from ``start`` (1 January or 1 July).

    ``verified`` is false where the value could not be checked against a publication.
    """

    start: pendulum.Date
    rate: Decimal
    verified: bool = True
    note: str | None = None


@attrs.frozen
class RatePeriod:
    """A run of days with one base rate: ``start`` inclusive, ``end`` exclusive.

    Consecutive half-years with the same published value form one period (the file keeps every
    half-year, so that a missing publication is visible).
    """

    start: pendulum.Date
    end: pendulum.Date
    rate: Decimal
    verified: bool


@attrs.frozen
class BaseRateTable:
    """The base rate under § 247 BGB by half-year, oldest first, without gaps.

    Built by ``grantflow.rates.load_base_rates`` from the packaged data file, or directly in
    tests. The table covers the days from its first entry to the end of its last entry's
    half-year; interest outside that range is refused rather than guessed.
    """

    rates: tuple[BaseRate, ...]
    source: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.rates:
            raise BadInput("a base-rate table needs at least one rate")
        problems = []
        for i, r in enumerate(self.rates):
            if not _half_year_start(r.start):
                problems.append(
                    f"{r.start.isoformat()}: the base rate changes only on 1 January and 1 July"
                )
            if i and r.start != _next_half_year(self.rates[i - 1].start):
                problems.append(
                    f"{r.start.isoformat()} does not follow {self.rates[i - 1].start.isoformat()}"
                    f" (expected {_next_half_year(self.rates[i - 1].start).isoformat()}: one "
                    f"entry per half-year, oldest first, also when the rate did not change)"
                )
        if problems:
            raise BadInput("invalid base-rate table: " + "; ".join(problems))

    @property
    def covers_from(self) -> pendulum.Date:
        return self.rates[0].start

    @property
    def covers_until(self) -> pendulum.Date:
        """The last day the table knows the rate of (the end of its last half-year)."""
        return _next_half_year(self.rates[-1].start).subtract(days=1)

    def entry_on(self, day: pendulum.Date) -> BaseRate:
        """The published entry in force on ``day``."""
        self._require(day, day)
        found = self.rates[0]
        for r in self.rates:
            if r.start > day:
                break
            found = r
        return found

    def rate_on(self, day: pendulum.Date) -> Decimal:
        """The base rate in percent per year on ``day``."""
        return self.entry_on(day).rate

    def _require(self, first: pendulum.Date, last: pendulum.Date) -> None:
        if first < self.covers_from:
            raise BadInput(
                f"the base-rate table starts {self.covers_from.isoformat()}; "
                f"no rate for {first.isoformat()}"
            )
        if last > self.covers_until:
            missing = _next_half_year(self.rates[-1].start)
            raise BadInput(
                f"the base-rate table ends {self.covers_until.isoformat()}; no rate for "
                f"{last.isoformat()}: add the Bundesbank's base rate from "
                f"{missing.isoformat()} to grantflow/rates/base_rates.toml"
            )

    def periods(self, start: pendulum.Date, end: pendulum.Date) -> list[RatePeriod]:
        """The rate periods covering ``start <= d < end``, cut to that span."""
        if end <= start:
            return []
        self._require(start, end.subtract(days=1))
        merged: list[RatePeriod] = []
        for r in self.rates:
            r_end = _next_half_year(r.start)
            if merged and merged[-1].rate == r.rate and merged[-1].verified == r.verified:
                merged[-1] = attrs.evolve(merged[-1], end=r_end)
            else:
                merged.append(RatePeriod(r.start, r_end, r.rate, r.verified))
        out = []
        for p in merged:
            lo, hi = max(p.start, start), min(p.end, end)
            if lo < hi:
                out.append(attrs.evolve(p, start=lo, end=hi))
        return out


@attrs.frozen(kw_only=True)
class InterestSlice:
    """One line of an interest computation: a run of days at one rate.

    ``first_day`` and ``last_day`` are both inclusive (as printed); ``days`` counts them.
    ``amount = principal × rate × days / (100 × year_days)``, rounded to the cent half-up.
    """

    first_day: pendulum.Date
    last_day: pendulum.Date
    days: int
    principal: Decimal
    base_rate: Decimal
    margin: Decimal
    rate: Decimal
    year_days: int
    amount: Decimal
    verified: bool = True

    def explain(self) -> str:
        """``2022-11-15 to 2022-12-31: 47 days × 200,000.00 EUR × 4.12 % / 365 = 1,061.04 EUR``"""
        floored = " (floored at 0 %)" if self.rate > self.base_rate + self.margin else ""
        unverified = " [base rate not verified]" if not self.verified else ""
        return (
            f"{self.first_day.isoformat()} to {self.last_day.isoformat()}: "
            f"{self.days} day{'' if self.days == 1 else 's'} × {format_eur(self.principal)} × "
            f"{_pct(self.rate)} (base rate {_pct(self.base_rate)} + {_pct(self.margin)}"
            f"{floored}) / {self.year_days} = {format_eur(self.amount)}{unverified}"
        )


@attrs.frozen(kw_only=True)
class InterestResult:
    """Interest on ``principal`` for ``start <= d < end``, slice by slice."""

    principal: Decimal
    start: pendulum.Date
    end: pendulum.Date
    margin: Decimal
    day_count: DayCount
    slices: tuple[InterestSlice, ...]

    @property
    def total(self) -> Decimal:
        return sum((s.amount for s in self.slices), ZERO)

    @property
    def days(self) -> int:
        return sum(s.days for s in self.slices)

    @property
    def verified(self) -> bool:
        """False if any slice uses a base rate the table marks as not verified."""
        return all(s.verified for s in self.slices)

    def explain(self) -> list[str]:
        """One line per slice and a total line, as an official checks them."""
        lines = [s.explain() for s in self.slices]
        lines.append(f"total: {self.days} days, {format_eur(self.total)}")
        return lines


def _pct(rate: Decimal) -> str:
    return f"{rate:.2f} %"


def round_cents(value: Fraction) -> Decimal:
    """An exact fraction of euros rounded to the cent, half-up (away from zero at .5)."""
    cents = value * 100
    sign = -1 if cents < 0 else 1
    whole, rest = divmod(abs(cents), 1)
    n = int(whole) + (1 if rest >= Fraction(1, 2) else 0)
    return Decimal(sign * n).scaleb(-2).quantize(CENT, rounding=ROUND_HALF_UP)


def _split_years(start: pendulum.Date, end: pendulum.Date) -> Iterable[tuple[pendulum.Date, ...]]:
    lo = start
    while lo < end:
        hi = min(end, pendulum.Date(lo.year + 1, 1, 1))
        yield lo, hi
        lo = hi


def _year_days(d: pendulum.Date, day_count: DayCount) -> int:
    if day_count is DayCount.ACT_ACT and pendulum.Date(d.year, 12, 31).day_of_year == 366:
        return 366
    return 365


def interest(
    principal: Decimal,
    start: pendulum.Date,
    end: pendulum.Date,
    table: BaseRateTable,
    margin: Decimal = STATUTORY_MARGIN,
    *,
    day_count: DayCount = DayCount.ACT_365,
) -> InterestResult:
    """Interest on ``principal`` for every day ``start <= d < end`` at base rate + ``margin``.

    ``margin`` is in percentage points (``Decimal("5")``). Refuses a negative principal, an
    ``end`` before ``start`` and days the table does not cover; ``start == end`` gives no days
    and no interest.
    """
    if principal < 0:
        raise BadInput(f"interest needs a principal of zero or more (got {principal})")
    if end < start:
        raise BadInput(
            f"the interest period ends {end.isoformat()} before it starts {start.isoformat()}"
        )
    slices: list[InterestSlice] = []
    for period in table.periods(start, end):
        spans: Iterable[tuple[pendulum.Date, ...]] = (
            _split_years(period.start, period.end)
            if day_count is DayCount.ACT_ACT
            else [(period.start, period.end)]
        )
        for lo, hi in spans:
            days = (hi - lo).in_days()
            total_rate = max(ZERO, period.rate + margin)
            year_days = _year_days(lo, day_count)
            exact = Fraction(principal) * Fraction(total_rate) * days / Fraction(100 * year_days)
            slices.append(
                InterestSlice(
                    first_day=lo,
                    last_day=hi.subtract(days=1),
                    days=days,
                    principal=principal,
                    base_rate=period.rate,
                    margin=margin,
                    rate=total_rate,
                    year_days=year_days,
                    amount=round_cents(exact),
                    verified=period.verified,
                )
            )
    return InterestResult(
        principal=principal,
        start=start,
        end=end,
        margin=margin,
        day_count=day_count,
        slices=tuple(slices),
    )
