"""Business dates (pendulum Dates) and recording times (UTC, shown in Europe/Berlin)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
import pytest

from grantflow.domain.dates import (
    add_months,
    as_date,
    as_utc,
    end_of_month,
    format_date_de,
    parse_date,
    to_berlin,
)
from grantflow.errors import BadInput


@pytest.mark.parametrize(
    ("text", "ymd"),
    [
        ("2021-12-31", (2021, 12, 31)),
        ("31.12.2021", (2021, 12, 31)),
        ("1.2.2020", (2020, 2, 1)),
        ("01.02.2020", (2020, 2, 1)),
        ("29.02.2020", (2020, 2, 29)),  # a leap day
        (" 2019-07-03 ", (2019, 7, 3)),
    ],
)
def test_parse_date_iso_and_german(text: str, ymd: tuple[int, int, int]) -> None:
    parsed = parse_date(text)
    assert type(parsed) is pendulum.Date
    assert (parsed.year, parsed.month, parsed.day) == ymd


@pytest.mark.parametrize("text", ["2021-02-30", "29.02.2021", "31.04.2020", "2020-13-01"])
def test_parse_date_refuses_dates_not_in_the_calendar(text: str) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        parse_date(text)


@pytest.mark.parametrize("text", ["", "2021/12/31", "12-31-2021", "31.12.21", "morgen", "2021-1-5"])
def test_parse_date_refuses_other_formats(text: str) -> None:
    with pytest.raises(BadInput, match=r"2021-12-31 or 31\.12\.2021"):
        parse_date(text)


def test_as_date_coerces_dates_and_refuses_datetimes() -> None:
    assert as_date(dt.date(2021, 3, 4)) == pendulum.Date(2021, 3, 4)
    assert type(as_date(dt.date(2021, 3, 4))) is pendulum.Date
    assert as_date("04.03.2021") == pendulum.Date(2021, 3, 4)
    with pytest.raises(BadInput, match="calendar date"):
        as_date(dt.datetime(2021, 3, 4, 12, 0, tzinfo=dt.UTC))
    with pytest.raises(BadInput, match="calendar date"):
        as_date(pendulum.datetime(2021, 3, 4))


def test_format_date_de() -> None:
    assert format_date_de(pendulum.Date(2021, 3, 4)) == "04.03.2021"
    for d in (pendulum.Date(2019, 1, 1), pendulum.Date(2023, 12, 31)):
        assert parse_date(format_date_de(d)) == d


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2021, 3, 28, 1, 30)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(BadInput, match="time zone"):
        as_utc(naive)
    with pytest.raises(BadInput, match="time zone"):
        to_berlin(naive)


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("utc", "berlin_wall", "offset_hours"),
    [
        # spring forward: 2021-03-28 02:00 CET -> 03:00 CEST (01:00 UTC)
        ((2021, 3, 28, 0, 59), (2021, 3, 28, 1, 59), 1),
        ((2021, 3, 28, 1, 0), (2021, 3, 28, 3, 0), 2),
        # fall back: 2021-10-31 03:00 CEST -> 02:00 CET (01:00 UTC)
        ((2021, 10, 31, 0, 59), (2021, 10, 31, 2, 59), 2),
        ((2021, 10, 31, 1, 0), (2021, 10, 31, 2, 0), 1),
        ((2021, 12, 31, 23, 30), (2022, 1, 1, 0, 30), 1),  # the business date differs
    ],
)
def test_utc_to_berlin_across_dst(
    utc: tuple[int, int, int, int, int], berlin_wall: tuple[int, ...], offset_hours: int
) -> None:
    stored = pendulum.datetime(*utc, tz="UTC")
    shown = to_berlin(stored)
    assert (shown.year, shown.month, shown.day, shown.hour, shown.minute) == berlin_wall
    assert shown.utcoffset() == dt.timedelta(hours=offset_hours)
    # the same instant (compared as timestamps: PEP 495 makes times in the fold unequal
    # to every time in another zone)
    assert shown.timestamp() == stored.timestamp()
    assert as_utc(shown) == stored
    assert as_utc(shown).utcoffset() == dt.timedelta(0)


def test_as_utc_accepts_any_aware_datetime() -> None:
    ambiguous_second = dt.datetime(2021, 10, 31, 2, 30, fold=1, tzinfo=BERLIN)  # CET, 01:30 UTC
    ambiguous_first = dt.datetime(2021, 10, 31, 2, 30, fold=0, tzinfo=BERLIN)  # CEST, 00:30 UTC
    assert as_utc(ambiguous_first) == pendulum.datetime(2021, 10, 31, 0, 30, tz="UTC")
    assert as_utc(ambiguous_second) == pendulum.datetime(2021, 10, 31, 1, 30, tz="UTC")
    assert isinstance(as_utc(ambiguous_first), pendulum.DateTime)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(pendulum.Date(2021, 1, 31), 1) == pendulum.Date(2021, 2, 28)
    assert add_months(pendulum.Date(2020, 1, 31), 1) == pendulum.Date(2020, 2, 29)
    assert add_months(pendulum.Date(2021, 8, 31), 6) == pendulum.Date(2022, 2, 28)
    assert end_of_month(pendulum.Date(2020, 2, 3)) == pendulum.Date(2020, 2, 29)
