"""Reading validated values out of a parsed guideline table, collecting every problem.

A :class:`Reader` walks one TOML table. Each accessor returns the converted value or, when the
value is missing or malformed, records a :class:`~grantflow.errors.GuidelineProblem` naming the
key path, the value and what was expected, and returns ``None``. The caller raises one
:class:`~grantflow.errors.GuidelineError` with every problem at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import pendulum

from grantflow import limits
from grantflow.domain.money import money
from grantflow.errors import MISSING, GuidelineProblem

T = TypeVar("T")


class Reader:
    """Typed access to one table of a guideline file; problems go to a shared list.

    Each accessor returns the converted value, or ``None`` after recording a problem (the key
    path, the value, what was expected) when the value is malformed or a required key is
    missing. With ``required=False`` a missing key gives ``None`` and no problem.
    """

    def __init__(
        self, table: Mapping[str, Any], path: str, problems: list[GuidelineProblem]
    ) -> None:
        self.table = table
        self.path = path
        self.problems = problems
        self._seen: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, value: object, expected: str) -> None:
        """Record a problem with ``key`` of this table, for checks the accessors cannot make."""
        self.problems.append(GuidelineProblem(self._key(key), value, expected))

    def has(self, key: str) -> bool:
        return key in self.table

    def _get(self, key: str, required: bool, expected: str) -> object:
        self._seen.add(key)
        if key not in self.table:
            if required:
                self.problem(key, MISSING, expected)
            return MISSING
        return self.table[key]

    def _convert(
        self, key: str, required: bool, expected: str, conv: Callable[[object], T | None]
    ) -> T | None:
        raw = self._get(key, required, expected)
        if raw is MISSING:
            return None
        value = conv(raw)
        if value is None:
            self.problem(key, raw, expected)
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty string, stripped."""
        return self._convert(
            key,
            required,
            "a non-empty string",
            lambda v: v.strip() if isinstance(v, str) and v.strip() else None,
        )

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        """``true`` or ``false``; optional unless ``required``."""
        return self._convert(
            key, required, "true or false", lambda v: v if isinstance(v, bool) else None
        )

    def integer(
        self,
        key: str,
        *,
        required: bool = True,
        minimum: int = 0,
        maximum: int = limits.GUIDELINE_INTEGER_MAX,
    ) -> int | None:
        """A whole number from ``minimum`` to ``maximum`` (grantflow.limits)."""
        return self._convert(
            key,
            required,
            f"a whole number from {minimum} to {maximum:,}",
            lambda v: (
                v
                if isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum
                else None
            ),
        )

    def amount(self, key: str, *, required: bool = True) -> Decimal | None:
        """A non-negative amount in euros, written as a string ("91000000.00") or an integer,
        at most :data:`grantflow.limits.AMOUNT_MAX`."""
        return self._convert(
            key,
            required,
            'a non-negative amount in euros as a string such as "91000000.00" or an integer, '
            f"at most {limits.AMOUNT_MAX:,}",
            _to_amount,
        )

    def rate(self, key: str, *, required: bool = True) -> Decimal | None:
        """A fraction between 0 and 1 written as a string ("0.80")."""
        return self._convert(
            key, required, 'a rate between 0 and 1 as a string such as "0.80"', _to_rate
        )

    def date(self, key: str, *, required: bool = True) -> pendulum.Date | None:
        """A date, written as a TOML date (``2021-12-31``) or a string in that form."""
        return self._convert(key, required, "a date such as 2021-12-31", _to_date)

    def text_list(self, key: str, *, required: bool = False) -> tuple[str, ...] | None:
        """A list of non-empty strings; optional unless ``required``."""
        return self._convert(
            key,
            required,
            "a list of non-empty strings",
            lambda v: (
                tuple(v)
                if isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)
                else None
            ),
        )

    def choice(self, key: str, choices: Mapping[str, T], *, required: bool = True) -> T | None:
        """One of the keys of ``choices``; returns the value it maps to."""
        expected = "one of " + ", ".join(sorted(choices))
        return self._convert(
            key, required, expected, lambda v: choices.get(v) if isinstance(v, str) else None
        )

    def table_of(
        self, key: str, conv: Callable[[object], T | None], expected: str
    ) -> dict[str, T] | None:
        """A table whose values all convert with ``conv`` (e.g. rates by applicant kind);
        ``expected`` says what a value should look like, for the problem report."""
        raw = self._get(key, False, expected)
        if raw is MISSING:
            return None
        if not isinstance(raw, Mapping):
            self.problem(key, raw, f"a table of {expected}")
            return None
        out: dict[str, T] = {}
        for k, v in raw.items():
            c = conv(v)
            if c is None:
                self.problem(f"{key}.{k}", v, expected)
            else:
                out[str(k)] = c
        return out

    def sub(self, key: str, *, required: bool = True) -> Reader | None:
        raw = self._get(key, required, "a table")
        if raw is MISSING:
            return None
        if not isinstance(raw, Mapping):
            self.problem(key, raw, "a table")
            return None
        return Reader(raw, self._key(key), self.problems)

    def items(self, key: str, *, required: bool = False) -> Iterator[Reader]:
        """The tables of an array of tables (``[[regions]]``), each with its index in the path."""
        raw = self._get(key, required, "an array of tables")
        if raw is MISSING:
            return
        if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
            self.problem(key, raw, "an array of tables")
            return
        for i, item in enumerate(raw):
            yield Reader(item, f"{self._key(key)}[{i}]", self.problems)

    def unknown_keys(self, allowed: set[str] | None = None) -> None:
        """Report keys nobody read (usually typos) as problems."""
        known = self._seen | (allowed or set())
        for key in self.table:
            if key not in known:
                self.problem(key, self.table[key], "no such key here (a typo?)")


def _to_amount(v: object) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, str | int):
        return None
    text = str(v).replace("_", "")
    if limits.non_ascii_digit(text) is not None:
        return None  # Decimal("١٢٣") is 123: grantflow refuses to guess
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if limits.amount_problem(d) is not None:  # before money(): 40 digits overflow it
        return None
    return money(d)


def to_amount(v: object) -> Decimal | None:
    """Public converter for amounts in tables (``table_of``)."""
    return _to_amount(v)


def _to_rate(v: object) -> Decimal | None:
    if not isinstance(v, str) or limits.non_ascii_digit(v) is not None:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        return None
    return d if d.is_finite() and 0 <= d <= 1 else None


def to_rate(v: object) -> Decimal | None:
    """Public converter for rates in tables (``table_of``)."""
    return _to_rate(v)


def _to_date(v: object) -> pendulum.Date | None:
    if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
        if isinstance(v, str):
            try:
                return pendulum.Date.fromisoformat(v)
            except ValueError:
                return None
        return None
    return pendulum.Date(v.year, v.month, v.day)


def to_positive_int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None
