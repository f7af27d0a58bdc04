"""grantflow's one set of limits: what a name, an id, a text, an amount and a date may be.

Every value is checked here *before* a database sees it, and the limits are the same on SQLite
and PostgreSQL, so a value one database accepts the other accepts too. A value outside them is
:class:`~grantflow.errors.BadInput` (exit code 2) with one sentence that says what is wrong and
what is allowed. The user's reference is ``docs/reference/limits.md``.

=====================  ========================================================================
what                   limit
=====================  ========================================================================
names                  1 to 200 characters (:data:`NAME_MAX`): actors, applicants, consortium
                       members, program names, notice numbers
ids                    1 to 100 characters (:data:`ID_MAX`): grant, program, version, region,
                       focus area, call, phase, rule and attestation ids
titles                 1 to 1,000 characters (:data:`TITLE_MAX`): project and guideline titles
long text              up to 10,000 characters (:data:`TEXT_MAX`): reasons, justifications,
                       guideline notes and sources; the only text with line breaks
amounts                0.00 to 99,999,999,999.99 EUR (:data:`AMOUNT_MAX`), at most two decimals
business dates         1970-01-01 to 2099-12-31 (:data:`DATE_MIN`, :data:`DATE_MAX`)
year counts            1 to 100 (:data:`YEARS_MAX`): purpose-binding years
numbers in guidelines  0 to 1,000 (:data:`GUIDELINE_INTEGER_MAX`): months, years, counts
guideline files        up to 1 MB (:data:`GUIDELINE_BYTES_MAX`), nested at most 12 deep
=====================  ========================================================================

No text may hold control characters (C0 and C1 controls, DEL, NUL), line or paragraph
separators, bidirectional overrides or unpaired surrogates; long text may hold line breaks
(``\\n``, ``\\r``). Amounts and dates are written with the ASCII digits 0-9 only: Python reads
``Decimal("١٢٣")`` as 123, grantflow refuses to guess.

Why these numbers:

* **200 and 100** are the sizes of the database columns (``grantflow.store.models.NAME`` and
  ``ID``); PostgreSQL refuses longer values, SQLite would store them, so grantflow checks first.
* **99,999,999,999.99 EUR** (just under 100 billion euros) is more than the budget of any
  German funding program: the whole federal budget is about 480 billion euros, spread over
  thousands of budget titles. Money is ``NUMERIC(14, 2)`` on PostgreSQL (up to
  999,999,999,999.99) and whole cents in a 64-bit integer on SQLite; one digit is left
  for the sums grantflow stores (a program's commitments on a day, per region and call).
* **1970 to 2099**: grants are given under § 23 and § 44 of the Bundeshaushaltsordnung, in
  force since 1 January 1970 (the Landeshaushaltsordnungen followed), so no grant document can
  be older; 2099 leaves room for any project, extension and purpose-binding period planned
  today, while every date grantflow computes from a business date (deadlines, interest periods,
  the end of a purpose binding) stays inside the calendar of Python and of both databases.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Final

from grantflow.errors import BadInput

NAME_MAX: Final = 200
"""Names: actors, applicants, consortium members, program names, notice numbers."""
ID_MAX: Final = 100
"""Ids: grants, programs, guideline versions, regions, focus areas, calls, phases, rules,
attestations."""
TITLE_MAX: Final = 1_000
"""Project titles and guideline titles (one line)."""
TEXT_MAX: Final = 10_000
"""Long text: reasons, justifications, guideline notes and sources (line breaks allowed)."""
PATH_MAX: Final = 4_096
"""A database URL or a file path."""

AMOUNT_MAX: Final = Decimal("99999999999.99")
"""The largest amount grantflow accepts: 99,999,999,999.99 EUR."""
AMOUNT_DIGITS: Final = 11
"""Whole-euro digits of :data:`AMOUNT_MAX` (refused before any arithmetic on longer ones)."""

DATE_MIN: Final = dt.date(1970, 1, 1)
"""The earliest business date: the Bundeshaushaltsordnung is in force since 1970-01-01."""
DATE_MAX: Final = dt.date(2099, 12, 31)
"""The latest business date (planned ends, extensions, deadlines included)."""

YEARS_MAX: Final = 100
"""Purpose-binding years and other counts of years a user gives."""
GUIDELINE_INTEGER_MAX: Final = 1_000
"""The largest whole number in a guideline file (months, years, counts)."""
GUIDELINE_BYTES_MAX: Final = 1_000_000
"""The largest guideline file (the packaged ones are about 20 kB)."""
GUIDELINE_DEPTH_MAX: Final = 12
"""How deeply tables and arrays of a guideline file may nest (the format needs 5)."""

NAME: Final = "name"
ID: Final = "id"
TITLE: Final = "title"
TEXT: Final = "text"
PATH: Final = "path"

_MAX = {NAME: NAME_MAX, ID: ID_MAX, TITLE: TITLE_MAX, TEXT: TEXT_MAX, PATH: PATH_MAX}
_WHAT = {
    NAME: "a name",
    ID: "an id",
    TITLE: "a title",
    TEXT: "a text",
    PATH: "a database or file location",
}

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_LINE_BREAKS = frozenset("\n\r")


def _bad_char(ch: str) -> bool:
    if ch in _BIDI:
        return True
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


def describe_char(ch: str) -> str:
    """``U+0000 (NUL)``, ``U+001B (ESC)``: how a refused character is named in messages."""
    names = {"\x00": "NUL", "\x1b": "ESC", "\t": "TAB", "\n": "LF", "\r": "CR", "\x7f": "DEL"}
    name = names.get(ch) or unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def text_problem(value: str, kind: str = NAME) -> str | None:
    """What is wrong with ``value`` as text of ``kind`` (``None``: nothing). ``kind`` is one of
    :data:`NAME`, :data:`ID`, :data:`TITLE`, :data:`TEXT`, :data:`PATH`."""
    limit = _MAX[kind]
    if len(value) > limit:
        return f"is {len(value):,} characters long; {_WHAT[kind]} has at most {limit:,}"
    allowed_breaks = kind == TEXT
    for ch in value:
        if (allowed_breaks and ch in _LINE_BREAKS) or not _bad_char(ch):
            continue
        where = "" if allowed_breaks else "; line breaks only in reasons and other long text"
        return (
            f"contains the control character {describe_char(ch)}; {_WHAT[kind]} may hold "
            f"printable characters only{where}"
        )
    return None


def check_text(value: str, what: str, kind: str = NAME, *, blank: bool = False) -> str:
    """``value`` if it is valid text of ``kind``; else BadInput naming ``what`` (e.g. "the
    title"). Blank text is refused unless ``blank``."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text, not {type(value).__name__}")
    if not blank and not value.strip():
        raise BadInput(f"{what} must not be empty")
    problem = text_problem(value, kind)
    if problem:
        raise BadInput(f"{what} {problem}")
    return value


def amount_problem(value: Decimal) -> str | None:
    """What is wrong with ``value`` as an amount (``None``: nothing)."""
    if not value.is_finite():
        return "is not a number"
    if value < 0:
        return "is negative; amounts are 0.00 EUR or more"
    if value > AMOUNT_MAX:
        return (
            f"is more than the largest amount grantflow accepts, {AMOUNT_MAX:,} EUR "
            f"(just under 100 billion euros)"
        )
    if value != value.quantize(Decimal("0.01")):  # safe: at most 14 digits by now
        return "has more than two decimal places"
    return None


def check_amount(value: Decimal, what: str) -> Decimal:
    """``value`` if it is an amount grantflow accepts; else BadInput naming ``what``."""
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise BadInput(f"{what} must be an amount (a Decimal), not {type(value).__name__}")
    problem = amount_problem(Decimal(value))
    if problem:
        raise BadInput(f"{what} {_short(value)} {problem}")
    return value


def date_problem(value: dt.date) -> str | None:
    """What is wrong with ``value`` as a business date (``None``: nothing)."""
    day = dt.date(value.year, value.month, value.day)
    if day < DATE_MIN or day > DATE_MAX:
        return (
            f"is outside the business dates grantflow accepts, {DATE_MIN.isoformat()} to "
            f"{DATE_MAX.isoformat()}"
        )
    return None


def check_date(value: dt.date, what: str) -> dt.date:
    """``value`` if it is a business date grantflow accepts; else BadInput naming ``what``."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise BadInput(f"{what} must be a calendar date, not {type(value).__name__}")
    problem = date_problem(value)
    if problem:
        raise BadInput(f"{what} {value.isoformat()} {problem}")
    return value


def check_years(value: int, what: str, *, maximum: int = YEARS_MAX) -> int:
    """A whole number of years from 1 to ``maximum``; else BadInput naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{what} must be a whole number of years, not {type(value).__name__}")
    if not 1 <= value <= maximum:
        raise BadInput(f"{what} is {_short(value)}; it must be 1 to {maximum} years")
    return value


def check_year(value: int, what: str) -> int:
    """A calendar year within the business dates; else BadInput naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{what} must be a year, not {type(value).__name__}")
    if not DATE_MIN.year <= value <= DATE_MAX.year:
        raise BadInput(
            f"{what} {_short(value)} is outside the years grantflow accepts, "
            f"{DATE_MIN.year} to {DATE_MAX.year}"
        )
    return value


def non_ascii_digit(text: str) -> str | None:
    """The first digit in ``text`` that is not one of the ASCII digits 0-9 (``None``: none).

    Python's ``int`` and ``Decimal`` read Arabic-Indic, Devanagari, full-width and other digits
    as numbers; grantflow does not guess what a document meant and refuses them."""
    for ch in text:
        if ch > "\x7f" and unicodedata.category(ch) == "Nd":
            return ch
    return None


def check_ascii_digits(text: str, what: str) -> str:
    """``text`` if every digit in it is ASCII; else BadInput naming ``what``."""
    ch = non_ascii_digit(text)
    if ch is not None:
        raise BadInput(
            f"{what} {_short(text)!r} contains the digit {ch!r}, {describe_char(ch)}; "
            f"write amounts and dates with the digits 0-9"
        )
    return text


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def shorten(value: object, limit: int = 60) -> str:
    """``value`` as text, cut to ``limit`` characters with a note of its length, for messages."""
    return _short(value, limit)


__all__ = [
    "AMOUNT_MAX",
    "DATE_MAX",
    "DATE_MIN",
    "GUIDELINE_BYTES_MAX",
    "GUIDELINE_DEPTH_MAX",
    "GUIDELINE_INTEGER_MAX",
    "ID",
    "ID_MAX",
    "NAME",
    "NAME_MAX",
    "PATH",
    "PATH_MAX",
    "TEXT",
    "TEXT_MAX",
    "TITLE",
    "TITLE_MAX",
    "YEARS_MAX",
    "amount_problem",
    "check_amount",
    "check_ascii_digits",
    "check_date",
    "check_text",
    "check_year",
    "check_years",
    "date_problem",
    "describe_char",
    "non_ascii_digit",
    "shorten",
    "text_problem",
]
