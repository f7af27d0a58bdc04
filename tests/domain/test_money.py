"""Amounts: parsing as officials type them, formatting, and Decimal only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grantflow.domain.money import CENT, apply_rate, format_eur, format_rate, money, parse_amount
from grantflow.errors import BadInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("800000", "800000.00"),
        ("800000.00", "800000.00"),
        ("800000.5", "800000.50"),
        ("800000,00", "800000.00"),
        ("800.000,00", "800000.00"),
        ("1.250.000", "1250000.00"),
        ("1.250.000,5", "1250000.50"),
        ("800,000.00", "800000.00"),
        ("1,250,000", "1250000.00"),
        ("1,250,000.75", "1250000.75"),
        ("0", "0.00"),
        ("12,5", "12.50"),
        (" 800.000,00 EUR ", "800000.00"),
        ("800 000,00 €", "800000.00"),
        ("800\u00a0000,00", "800000.00"),
    ],
)
def test_parse_amount_accepts(text: str, expected: str) -> None:
    amount = parse_amount(text)
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always with its cents
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(("text", "meant"), [("800.000", "800000"), ("800,000", "800000")])
def test_parse_amount_refuses_ambiguous_thousands(text: str, meant: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_amount(text)
    message = str(refused.value)
    assert "ambiguous" in message
    assert meant in message  # names the reading it could be
    assert "three decimal places" in message  # and the other one: that is why it refuses


@pytest.mark.parametrize("text", ["-5", "-800.000,00", "- 12"])
def test_parse_amount_refuses_negative(text: str) -> None:
    with pytest.raises(BadInput, match="negative"):
        parse_amount(text)


@pytest.mark.parametrize(
    "text", ["abc", "", "12a", "1.2.3", "800000.123", "800000,123", "1.250.000,123", "EUR"]
)
def test_parse_amount_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(BadInput, match="at most two decimal places"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("amount", "english", "german"),
    [
        ("850000", "850,000.00 EUR", "850.000,00 EUR"),
        ("1250000.5", "1,250,000.50 EUR", "1.250.000,50 EUR"),
        ("999.99", "999.99 EUR", "999,99 EUR"),
        ("0", "0.00 EUR", "0,00 EUR"),
        ("-1234.5", "-1,234.50 EUR", "-1.234,50 EUR"),
        ("0.005", "0.01 EUR", "0,01 EUR"),  # half-up to the cent
    ],
)
def test_format_eur_both_styles(amount: str, english: str, german: str) -> None:
    assert format_eur(Decimal(amount)) == english
    assert format_eur(Decimal(amount), german=True) == german


@pytest.mark.parametrize("amount", ["0.00", "7.10", "1000.00", "123456789.99", "12500.00"])
def test_formatted_amounts_parse_back(amount: str) -> None:
    value = Decimal(amount)
    assert parse_amount(format_eur(value)) == value
    assert parse_amount(format_eur(value, german=True)) == value


def test_money_refuses_float() -> None:
    with pytest.raises(TypeError, match="float"):
        money(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", ""])
def test_money_refuses_what_is_not_a_number(value: str) -> None:
    with pytest.raises(BadInput):
        money(value)


def test_money_rounds_half_up_to_cents() -> None:
    assert money(Decimal("2.345")) == Decimal("2.35")
    assert money(Decimal("2.325")) == Decimal("2.33")  # half-up, not banker's rounding (2.32)
    assert money(7) == Decimal("7.00")
    assert money("7.1") == Decimal("7.10")
    assert money(Decimal("1E+3")).as_tuple().exponent == -2


def test_apply_rate_rounds_down_so_a_cap_is_never_exceeded() -> None:
    base, rate = Decimal("333333.36"), Decimal("0.80")
    capped = apply_rate(base, rate)
    assert capped <= base * rate < capped + CENT
    assert money(base * rate) > capped  # half-up would have rounded this one up


def test_format_rate() -> None:
    assert format_rate(Decimal("0.8")) == "80 %"
    assert format_rate(Decimal("0.125")) == "12.5 %"
