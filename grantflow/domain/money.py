"""Money and rates as :class:`~decimal.Decimal`, never ``float``.

Amounts are euros with two decimal places, rounded half-up (kaufmännisch) where a computation
produces more. Rates are fractions (``Decimal("0.80")`` is 80 %).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from grantflow.errors import BadInput

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_PLAIN = re.compile(r"^\d+(?:\.\d{1,2})?$")  # 800000 / 800000.5 / 800000.00
_GERMAN = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d{1,2}$")  # 800.000,00
_GERMAN_NO_GROUPS = re.compile(r"^\d+,\d{1,2}$")  # 800000,00
_GERMAN_MULTI_GROUP = re.compile(r"^\d{1,3}(?:\.\d{3}){2,}$")  # 1.250.000
_ENGLISH = re.compile(r"^\d{1,3}(?:,\d{3})+\.\d{1,2}$")  # 800,000.00
_AMBIGUOUS_DOT = re.compile(r"^\d{1,3}\.\d{3}$")  # 800.000: 800 thousand or 800.000 EUR?
_ENGLISH_MULTI_GROUP = re.compile(r"^\d{1,3}(?:,\d{3}){2,}$")  # 1,250,000
_AMBIGUOUS_COMMA = re.compile(r"^\d{1,3},\d{3}$")  # 800,000: 800 thousand or 800.000 EUR?


def money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as a Decimal rounded to cents (half-up). Floats are refused."""
    if isinstance(value, float):  # pragma: no cover - guarded by the type checker too
        raise TypeError("money must not be a float; pass a Decimal, an int or a string")
    try:
        d = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation:
        raise BadInput(f"{value!r} is not an amount") from None
    if not d.is_finite():
        raise BadInput(f"{value!r} is not an amount")
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Parse an amount as an official would type it; refuse what could mean two things.

    Accepted: ``800000``, ``800000.00``, ``800000,00``, ``800.000,00``, ``1.250.000``,
    ``800,000.00``, ``1,250,000``. Refused: ``800.000`` and ``800,000`` (eight hundred or eight
    hundred thousand?), negative amounts, more than two decimal places, anything else.
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    for suffix in ("EUR", "€"):
        if s.upper().endswith(suffix):
            s = s[: -len(suffix)]
    if s.startswith("-"):
        raise BadInput(f"amount {text!r} is negative; amounts must be zero or more")
    if _AMBIGUOUS_DOT.match(s) or _AMBIGUOUS_COMMA.match(s):
        raise BadInput(
            f"amount {text!r} is ambiguous: it could mean {s.replace('.', '').replace(',', '')} "
            f"or a value with three decimal places; write it as "
            f"{s.replace('.', '').replace(',', '')} or with cents, e.g. "
            f"{s.replace(',', '.')},00"
        )
    if _PLAIN.match(s):
        return money(s)
    if _GERMAN.match(s) or _GERMAN_NO_GROUPS.match(s) or _GERMAN_MULTI_GROUP.match(s):
        return money(s.replace(".", "").replace(",", "."))
    if _ENGLISH.match(s) or _ENGLISH_MULTI_GROUP.match(s):
        return money(s.replace(",", ""))
    raise BadInput(
        f"amount {text!r} is not an amount in euros; "
        "write e.g. 800000, 800000.00 or 800.000,00 (at most two decimal places)"
    )


_TO_GERMAN = str.maketrans(",.", ".,")


def format_eur(amount: Decimal, *, german: bool = False) -> str:
    """Format an amount with its currency: ``850,000.00 EUR`` or (German) ``850.000,00 EUR``."""
    q = money(amount)
    sign = "-" if q < 0 else ""  # not "-0.00" for a negative zero
    text = f"{abs(q):,.2f}"
    if german:
        text = text.translate(_TO_GERMAN)
    return f"{sign}{text} EUR"


def format_rate(rate: Decimal) -> str:
    """Format a fraction as a percentage: ``Decimal("0.8")`` -> ``80 %``."""
    pct = (rate * 100).normalize()
    text = f"{pct:f}"
    return f"{text} %"


def apply_rate(base: Decimal, rate: Decimal) -> Decimal:
    """``base * rate`` rounded down to the cent: a cap is never exceeded by rounding."""
    from decimal import ROUND_DOWN

    return (base * rate).quantize(CENT, rounding=ROUND_DOWN)
