"""Statutory interest per day over base-rate periods (grantflow.domain.interest).

The expected figures are worked out by hand in the comments (days × principal × rate / 365,
rounded to the cent half-up per slice) and, where possible, checked again by
:func:`_day_by_day`, an independent computation that walks the calendar one day at a time and
asks the table for each day's rate.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grantflow.domain.interest import (
    BaseRate,
    BaseRateTable,
    DayCount,
    interest,
    round_cents,
)
from grantflow.domain.money import format_eur
from grantflow.errors import BadInput
from grantflow.rates import load_base_rates
from tests.domain.builders import day
from tests.strategies import amounts, dates

TABLE = load_base_rates()
ZERO = Decimal("0.00")


def _day_by_day(
    principal: Decimal, start: pendulum.Date, end: pendulum.Date, margin: Decimal = Decimal(5)
) -> Decimal:
    """Independent check for act/365: walk the calendar one day at a time, ask the table for
    each day's rate, count the days of each run of equal rates, and round each run's interest
    to the cent half-up (as the slices do)."""
    runs: list[list[Decimal | int]] = []  # [total rate, days]
    d = start
    while d < end:
        rate = max(Decimal(0), TABLE.rate_on(d) + margin)
        if runs and runs[-1][0] == rate:
            runs[-1][1] += 1
        else:
            runs.append([rate, 1])
        d = d.add(days=1)
    with localcontext() as ctx:
        ctx.prec = 50
        return sum(
            (
                (principal * Decimal(r) * n / Decimal(36500)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                for r, n in runs
            ),
            ZERO,
        )


def _flat(rate: str, start: str = "2020-01-01", halves: int = 4) -> BaseRateTable:
    """A synthetic table with one rate for ``halves`` half-years."""
    d = day(start)
    rates = []
    for _ in range(halves):
        rates.append(BaseRate(d, Decimal(rate)))
        d = pendulum.Date(d.year, 7, 1) if d.month == 1 else pendulum.Date(d.year + 1, 1, 1)
    return BaseRateTable(tuple(rates), source="test")


# --------------------------------------------------------------------------------------------
# Worked example: interest across the base-rate change of 1 January 2023
# --------------------------------------------------------------------------------------------


def test_worked_example_interest_across_the_base_rate_change_of_2023() -> None:
    """200,000.00 EUR from 2022-11-15 (first day) until it is paid on 2023-02-14.

    Slice 1: 2022-11-15 to 2022-12-31 = 16 + 31 = 47 days at -0.88 + 5 = 4.12 %:
        47 × 200,000.00 × 4.12 / 36,500 = 387,280,000 / 36,500 = 1,061.0411 -> 1,061.04
    Slice 2: 2023-01-01 to 2023-02-13 = 31 + 13 = 44 days at 1.62 + 5 = 6.62 %:
        44 × 200,000.00 × 6.62 / 36,500 = 582,560,000 / 36,500 = 1,596.0548 -> 1,596.05
    Total: 91 days, 1,061.04 + 1,596.05 = 2,657.09 EUR. The payment day bears no interest.
    """
    result = interest(Decimal("200000.00"), day("2022-11-15"), day("2023-02-14"), TABLE)

    assert [(s.first_day, s.last_day, s.days, s.rate, s.amount) for s in result.slices] == [
        (day("2022-11-15"), day("2022-12-31"), 47, Decimal("4.12"), Decimal("1061.04")),
        (day("2023-01-01"), day("2023-02-13"), 44, Decimal("6.62"), Decimal("1596.05")),
    ]
    assert result.total == Decimal("2657.09")
    assert result.days == 91
    assert result.total == _day_by_day(result.principal, result.start, result.end)
    assert result.verified
    assert result.explain() == [
        "2022-11-15 to 2022-12-31: 47 days × 200,000.00 EUR × 4.12 % (base rate -0.88 % + "
        "5.00 %) / 365 = 1,061.04 EUR",
        "2023-01-01 to 2023-02-13: 44 days × 200,000.00 EUR × 6.62 % (base rate 1.62 % + "
        "5.00 %) / 365 = 1,596.05 EUR",
        "total: 91 days, 2,657.09 EUR",
    ]


def test_half_years_with_an_unchanged_rate_form_one_slice() -> None:
    """-0.88 % was published for every half-year from 2016-07 to 2022-07: one slice of 730 days.

    100,000.00 × 4.12 / 36,500 × 730 = 8,240.00 EUR (exactly two years of 4,120.00).
    """
    result = interest(Decimal("100000.00"), day("2017-03-01"), day("2019-03-01"), TABLE)
    assert len(result.slices) == 1
    assert result.days == 730
    assert result.total == Decimal("8240.00")
    assert result.slices[0].base_rate == Decimal("-0.88")


def test_every_rate_change_on_the_way_is_a_slice() -> None:
    """2023-01-01 to 2024-12-31: four half-years with 1.62, 3.12, 3.62 and 3.37 %."""
    result = interest(Decimal("10000.00"), day("2023-01-01"), day("2025-01-01"), TABLE)
    assert [s.base_rate for s in result.slices] == [
        Decimal("1.62"),
        Decimal("3.12"),
        Decimal("3.62"),
        Decimal("3.37"),
    ]
    assert [s.days for s in result.slices] == [181, 184, 182, 184]
    assert result.total == _day_by_day(result.principal, result.start, result.end)


# --------------------------------------------------------------------------------------------
# Day count, rounding and rates
# --------------------------------------------------------------------------------------------


def test_act_365_divides_by_365_also_in_a_leap_year() -> None:
    """29 days in February 2024 at 3.62 + 5 = 8.62 %:
    act/365: 100,000.00 × 8.62 × 29 / 36,500 = 24,998,000 / 36,500 = 684.8767 -> 684.88
    act/act: 100,000.00 × 8.62 × 29 / 36,600 = 24,998,000 / 36,600 = 683.0055 -> 683.01
    """
    start, end = day("2024-02-01"), day("2024-03-01")
    act365 = interest(Decimal("100000.00"), start, end, TABLE)
    actact = interest(Decimal("100000.00"), start, end, TABLE, day_count=DayCount.ACT_ACT)
    assert (act365.total, act365.slices[0].year_days) == (Decimal("684.88"), 365)
    assert (actact.total, actact.slices[0].year_days) == (Decimal("683.01"), 366)


def test_act_act_splits_at_new_year_even_without_a_rate_change() -> None:
    """2019-12-01 to 2020-01-31 at 4.12 % (-0.88 throughout):
    act/365: 62 days, 100,000.00 × 4.12 × 62 / 36,500 = 699.8356 -> 699.84 (one slice)
    act/act: 31 days / 365 = 349.9178 -> 349.92 and 31 days / 366 = 348.9617 -> 348.96,
             together 698.88.
    """
    start, end = day("2019-12-01"), day("2020-02-01")
    act365 = interest(Decimal("100000.00"), start, end, TABLE)
    actact = interest(Decimal("100000.00"), start, end, TABLE, day_count=DayCount.ACT_ACT)
    assert [s.amount for s in act365.slices] == [Decimal("699.84")]
    assert [(s.days, s.year_days, s.amount) for s in actact.slices] == [
        (31, 365, Decimal("349.92")),
        (31, 366, Decimal("348.96")),
    ]
    assert actact.total == Decimal("698.88")


def test_a_slice_is_rounded_half_up_to_the_cent() -> None:
    """At 0 + 5 = 5 %: 36.50 × 5 × 1 / 36,500 = 0.005 exactly -> 0.01 (half-up, not to even);
    73.00 for a day is 0.01 exactly, and 36.49 gives 0.004999 -> 0.00."""
    table = _flat("0.00")
    one_day = (day("2020-03-02"), day("2020-03-03"))
    assert interest(Decimal("36.50"), *one_day, table).total == Decimal("0.01")
    assert interest(Decimal("73.00"), *one_day, table).total == Decimal("0.01")
    assert interest(Decimal("36.49"), *one_day, table).total == Decimal("0.00")


def test_round_cents_rounds_half_away_from_zero() -> None:
    assert round_cents(Fraction(1, 200)) == Decimal("0.01")
    assert round_cents(Fraction(-1, 200)) == Decimal("-0.01")
    assert round_cents(Fraction(1, 201)) == Decimal("0.00")
    assert round_cents(Fraction(12345, 100)) == Decimal("123.45")


def test_a_negative_base_rate_is_applied_as_published() -> None:
    """§ 247 BGB has no floor: in 2016 the rate was -0.88 + 5 = 4.12 %, not 5 %."""
    result = interest(Decimal("36500.00"), day("2016-08-01"), day("2016-08-02"), TABLE)
    assert result.slices[0].rate == Decimal("4.12")
    assert result.total == Decimal("4.12")  # 36,500 × 4.12 % / 365 for one day


def test_a_negative_total_rate_is_floored_at_zero() -> None:
    """A base rate of -6.00 % would give -1 %: the payer never receives interest."""
    result = interest(Decimal("100000.00"), day("2020-01-01"), day("2020-07-01"), _flat("-6.00"))
    assert result.slices[0].rate == Decimal("0.00")
    assert result.total == ZERO
    assert "floored at 0 %" in result.slices[0].explain()


def test_the_margin_is_a_parameter() -> None:
    """Nine points (§ 288 Abs. 2 BGB) instead of five: 36,500.00 × (-0.88 + 9) % / 365 = 8.12."""
    result = interest(
        Decimal("36500.00"), day("2016-08-01"), day("2016-08-02"), TABLE, Decimal("9")
    )
    assert result.total == Decimal("8.12")


def test_an_unverified_base_rate_is_flagged() -> None:
    """A slice using a rate marked ``verified = false`` says so, and so does the result."""
    table = BaseRateTable(
        (
            BaseRate(day("2026-01-01"), Decimal("1.27")),
            BaseRate(day("2026-07-01"), Decimal("1.52"), verified=False, note="one source"),
        )
    )
    result = interest(Decimal("1000.00"), day("2026-06-01"), day("2026-08-01"), table)
    assert [s.verified for s in result.slices] == [True, False]
    assert not result.verified
    assert result.explain()[1].endswith("[base rate not verified]")


def test_interest_after_the_table_ends_names_the_half_year_to_add() -> None:
    with pytest.raises(BadInput) as info:
        interest(Decimal("1.00"), day("2021-06-01"), day("2022-01-02"), _flat("1.00", halves=3))
    assert str(info.value) == (
        "the base-rate table ends 2021-06-30; no rate for 2022-01-01: add the Bundesbank's "
        "base rate from 2021-07-01 to grantflow/rates/base_rates.toml"
    )


def test_no_days_no_interest() -> None:
    result = interest(Decimal("5000.00"), day("2023-05-05"), day("2023-05-05"), TABLE)
    assert result.slices == ()
    assert result.total == ZERO


@pytest.mark.parametrize(
    ("principal", "start", "end", "message"),
    [
        ("-1.00", "2023-01-01", "2023-02-01", "principal of zero or more (got -1.00)"),
        ("1.00", "2023-02-01", "2023-01-01", "ends 2023-01-01 before it starts 2023-02-01"),
        ("1.00", "2001-12-01", "2002-02-01", "starts 2002-01-01; no rate for 2001-12-01"),
    ],
)
def test_refuses_what_it_cannot_compute(principal: str, start: str, end: str, message: str) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        interest(Decimal(principal), day(start), day(end), TABLE)


def test_the_last_covered_day_still_computes() -> None:
    """The table covers up to 2026-12-31: interest until (excluding) 2027-01-01 works."""
    result = interest(Decimal("1000.00"), day("2026-12-31"), day("2027-01-01"), TABLE)
    assert result.days == 1


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

COVERED = dates(dt.date(2002, 1, 1), dt.date(2026, 12, 31))


@settings(max_examples=200)
@given(amounts(max_value=Decimal("50000000.00")), COVERED, COVERED, COVERED)
def test_interest_is_additive_over_split_periods_up_to_a_cent(
    principal: Decimal, a: pendulum.Date, b: pendulum.Date, c: pendulum.Date
) -> None:
    """Splitting a period cuts at most one slice in two: the parts differ by at most a cent."""
    s, m, e = sorted((a, b, c))
    whole = interest(principal, s, e, TABLE).total
    parts = interest(principal, s, m, TABLE).total + interest(principal, m, e, TABLE).total
    assert abs(whole - parts) <= Decimal("0.01")


@settings(max_examples=100)
@given(COVERED, COVERED, st.sampled_from(list(DayCount)))
def test_zero_principal_gives_zero_interest(
    a: pendulum.Date, b: pendulum.Date, day_count: DayCount
) -> None:
    s, e = sorted((a, b))
    assert interest(ZERO, s, e, TABLE, day_count=day_count).total == ZERO


@settings(max_examples=200)
@given(amounts(max_value=Decimal("50000000.00")), COVERED, COVERED, COVERED)
def test_interest_never_falls_when_the_period_gets_longer(
    principal: Decimal, a: pendulum.Date, b: pendulum.Date, c: pendulum.Date
) -> None:
    s, e1, e2 = sorted((a, b, c))
    assert interest(principal, s, e1, TABLE).total <= interest(principal, s, e2, TABLE).total


@settings(max_examples=100)
@given(
    amounts(max_value=Decimal("50000000.00")),
    dates(dt.date(2002, 1, 1), dt.date(2023, 12, 31)),
    st.integers(0, 1100),
)
def test_slices_tile_the_period_and_match_the_day_by_day_count(
    principal: Decimal, s: pendulum.Date, length: int
) -> None:
    e = s.add(days=length)
    result = interest(principal, s, e, TABLE)
    assert result.days == length
    for left, right in zip(result.slices, result.slices[1:], strict=False):
        assert right.first_day == left.last_day.add(days=1)
    assert result.total == _day_by_day(principal, s, e)


# --------------------------------------------------------------------------------------------
# The explanation page shows the figures the code computes
# --------------------------------------------------------------------------------------------

MONEY_PAGE = Path(__file__).parents[2] / "docs" / "explanation" / "money.md"


@pytest.mark.parametrize(
    ("principal", "start", "end", "day_count", "shown"),
    [
        ("200000.00", "2022-11-15", "2023-02-14", DayCount.ACT_365, "2,657.09 EUR"),
        ("100000.00", "2019-05-02", "2019-09-16", DayCount.ACT_365, "1,546.41 EUR"),
        ("100000.00", "2019-05-02", "2019-08-01", DayCount.ACT_365, "1,027.18 EUR"),
        ("30000.00", "2020-02-10", "2020-05-20", DayCount.ACT_365, "338.63 EUR"),
        ("80000.00", "2019-08-02", "2019-09-01", DayCount.ACT_365, "270.90 EUR"),
        ("100000.00", "2024-02-01", "2024-03-01", DayCount.ACT_365, "684.88 EUR"),
        ("100000.00", "2024-02-01", "2024-03-01", DayCount.ACT_ACT, "683.01 EUR"),
    ],
)
def test_the_money_page_shows_the_computed_figures(
    principal: str, start: str, end: str, day_count: DayCount, shown: str
) -> None:
    total = interest(Decimal(principal), day(start), day(end), TABLE, day_count=day_count).total
    assert format_eur(total) == shown
    assert f"**{shown}**" in MONEY_PAGE.read_text(encoding="utf-8")
