"""The packaged base-rate table (grantflow/rates/base_rates.toml) and its parser.

The file is read twice: raw with :mod:`tomllib` (so that the checks on the data do not rely on
the parser they also test) and through :func:`grantflow.rates.load_base_rates`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from importlib import resources

import pendulum
import pytest

from grantflow.domain.interest import BaseRate, BaseRateTable
from grantflow.errors import BadInput
from grantflow.rates import DATA_FILE, load_base_rates, parse_base_rates
from tests.domain.builders import day

RAW = tomllib.loads(
    resources.files("grantflow.rates").joinpath(DATA_FILE).read_text(encoding="utf-8")
)
ENTRIES = RAW["rates"]


def test_every_entry_starts_on_1_january_or_1_july_in_increasing_order() -> None:
    starts = [e["from"] for e in ENTRIES]
    assert all(isinstance(s, dt.date) and (s.month, s.day) in ((1, 1), (7, 1)) for s in starts)
    assert starts == sorted(set(starts))


def test_the_half_years_follow_each_other_without_gaps_from_2002() -> None:
    """One entry per half-year, also when the rate did not change: a missing publication shows.
    The § 247 BGB base rate took effect on 1 January 2002 (Art. 229 § 7 EGBGB)."""
    starts = [e["from"] for e in ENTRIES]
    expected = [dt.date(2002 + i // 2, 1 + 6 * (i % 2), 1) for i in range(len(starts))]
    assert starts == expected


def test_rates_are_strings_with_two_decimals() -> None:
    assert all(re.fullmatch(r"-?\d\.\d\d", e["rate"]) for e in ENTRIES)


def test_the_table_reaches_at_least_the_second_half_of_2026() -> None:
    """Written in November 2026; later updates only add half-years."""
    assert ENTRIES[-1]["from"] >= dt.date(2026, 7, 1)
    table = load_base_rates()
    assert table.covers_until >= day("2026-12-31")


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        # Values as published, with the sources named in the data file.
        ("2002-01-01", "2.57"),  # first § 247 rate (BAnz. 2002 Nr. 3)
        ("2008-01-01", "3.32"),
        ("2009-01-01", "1.62"),
        ("2011-07-01", "0.37"),
        ("2012-01-01", "0.12"),  # "0,12 % (zuvor 0,37 %)"
        ("2013-01-01", "-0.13"),  # first negative value
        ("2015-01-01", "-0.83"),
        ("2016-06-30", "-0.83"),
        ("2016-07-01", "-0.88"),
        ("2022-12-31", "-0.88"),  # unchanged for six and a half years
        ("2023-01-01", "1.62"),
        ("2023-07-01", "3.12"),
        ("2024-01-01", "3.62"),
        ("2024-07-01", "3.37"),
        ("2025-01-01", "2.27"),
        ("2025-07-01", "1.27"),
        ("2026-01-01", "1.27"),
    ],
)
def test_known_values(on: str, rate: str) -> None:
    assert load_base_rates().rate_on(day(on)) == Decimal(rate)


def test_the_rate_was_negative_exactly_from_2013_to_2022() -> None:
    negative = [e["from"].year for e in ENTRIES if Decimal(e["rate"]) < 0]
    assert sorted(set(negative)) == list(range(2013, 2023))


def test_unverified_values_carry_a_note_and_none_predates_july_2026() -> None:
    """Only the value from 2026-07-01 (1.52 %) could not be checked when the table was written;
    confirming it removes the flag, never adds one to an older value."""
    unverified = [r for r in load_base_rates().rates if not r.verified]
    assert all(r.note for r in unverified)
    assert all(r.start >= day("2026-07-01") for r in unverified)
    raw = {e["from"]: e for e in ENTRIES}
    if raw[dt.date(2026, 7, 1)].get("verified", True) is False:
        assert raw[dt.date(2026, 7, 1)]["rate"] == "1.52"


def test_the_loader_matches_the_raw_file_and_names_its_source() -> None:
    table = load_base_rates()
    assert [(r.start, r.rate) for r in table.rates] == [
        (pendulum.Date(e["from"].year, e["from"].month, e["from"].day), Decimal(e["rate"]))
        for e in ENTRIES
    ]
    assert "Bundesbank" in table.source
    assert load_base_rates() is table  # read once


# --------------------------------------------------------------------------------------------
# The parser refuses malformed files, listing every problem
# --------------------------------------------------------------------------------------------

GOOD = """
schema = 1
source = "test"
[[rates]]
from = 2023-01-01
rate = "1.62"
[[rates]]
from = 2023-07-01
rate = "3.12"
"""


def test_a_good_file_parses() -> None:
    table = parse_base_rates(GOOD)
    assert table.rate_on(day("2023-08-01")) == Decimal("3.12")
    assert table.covers_until == day("2023-12-31")


def test_every_problem_of_an_entry_is_reported_at_once() -> None:
    text = """
schema = 2
[[rates]]
from = 2023-01-02
rate = 1.62
verified = "yes"
colour = "red"
"""
    with pytest.raises(BadInput) as info:
        parse_base_rates(text, source="bad.toml")
    message = str(info.value)
    for part in (
        "bad.toml",
        "schema: 2 is not valid; expected 1",
        "source: missing",
        "rates[0].rate: 1.62 is not valid",
        "rates[0].verified: 'yes' is not valid",
        "rates[0]: unknown keys: colour",
    ):
        assert part in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("2023-07-01", "2024-01-01"),
            "2024-01-01 does not follow 2023-01-01 (expected 2023-07-01",
        ),
        (GOOD.replace("2023-07-01", "2023-08-01"), "only on 1 January and 1 July"),
        (GOOD.replace('rate = "3.12"', 'rate = "3.1"'), "rates[1].rate: '3.1' is not valid"),
        (GOOD.replace("from = 2023-07-01", "from = 2023-07-01T00:00:00"), "rates[1].from"),
        ('schema = 1\nsource = "x"\n', "rates: missing"),
        ("schema = ", "not valid TOML"),
    ],
)
def test_malformed_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_base_rates(text)
    assert message in str(info.value)


def test_a_table_in_code_is_validated_too() -> None:
    with pytest.raises(BadInput, match="does not follow"):
        BaseRateTable(
            (BaseRate(day("2023-01-01"), Decimal("1.62")), BaseRate(day("2023-01-01"), ZERO_RATE))
        )
    with pytest.raises(BadInput, match="at least one rate"):
        BaseRateTable(())


ZERO_RATE = Decimal("0.00")
