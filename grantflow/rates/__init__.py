"""The base rate (Basiszinssatz, § 247 BGB) as packaged data, and its validating parser.

The table lives in ``grantflow/rates/base_rates.toml``; the file's header names its sources and
says how to add a new half-year. :func:`load_base_rates` reads the packaged file (once) through
:mod:`importlib.resources`; :func:`parse_base_rates` validates any text in that format and
reports every problem at once. The result is a pure
:class:`~grantflow.domain.interest.BaseRateTable` that the domain's interest functions take as
an argument.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pendulum

from grantflow.domain.interest import BaseRate, BaseRateTable
from grantflow.errors import BadInput

__all__ = ["DATA_FILE", "SCHEMA", "load_base_rates", "parse_base_rates"]

SCHEMA = 1
DATA_FILE = "base_rates.toml"
"""Name of the packaged data file inside ``grantflow.rates``."""

_RATE = re.compile(r"^-?\d{1,2}\.\d{2}$")
_ENTRY_KEYS = {"from", "rate", "verified", "note"}


def parse_base_rates(text: str, *, source: str = "<text>") -> BaseRateTable:
    """Parse and validate a base-rate file; raise :class:`BadInput` listing every problem."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML: {exc}") from None
    problems: list[str] = []
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema: {doc.get('schema')!r} is not valid; expected {SCHEMA}")
    title = doc.get("source", "")
    if not isinstance(title, str) or not title.strip():
        problems.append("source: missing; expected the publication the values come from")
    unknown = sorted(set(doc) - {"schema", "source", "rates"})
    if unknown:
        problems.append(f"unknown keys: {', '.join(unknown)}")
    raw = doc.get("rates")
    if not isinstance(raw, list) or not raw:
        problems.append("rates: missing; expected [[rates]] entries")
        raw = []
    rates = [r for i, entry in enumerate(raw) if (r := _entry(i, entry, problems)) is not None]
    if not problems:
        try:
            return BaseRateTable(tuple(rates), source=str(title))
        except BadInput as exc:
            problems.append(str(exc))
    raise BadInput(f"{source}: invalid base-rate table:\n  " + "\n  ".join(problems))


def _entry(i: int, entry: Any, problems: list[str]) -> BaseRate | None:
    where = f"rates[{i}]"
    if not isinstance(entry, dict):
        problems.append(f"{where}: expected a table")
        return None
    ok = True
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys: {', '.join(unknown)}")
        ok = False
    start = entry.get("from")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        problems.append(f"{where}.from: {start!r} is not valid; expected a date such as 2023-01-01")
        ok = False
    rate = entry.get("rate")
    if not isinstance(rate, str) or not _RATE.match(rate):
        problems.append(
            f"{where}.rate: {rate!r} is not valid; expected percent as a string with two "
            f'decimals, such as "-0.88" or "3.12"'
        )
        ok = False
    verified = entry.get("verified", True)
    if not isinstance(verified, bool):
        problems.append(f"{where}.verified: {verified!r} is not valid; expected true or false")
        ok = False
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(f"{where}.note: {note!r} is not valid; expected text")
        ok = False
    if not ok:
        return None
    assert isinstance(start, dt.date) and isinstance(rate, str)
    return BaseRate(
        start=pendulum.Date(start.year, start.month, start.day),
        rate=Decimal(rate),
        verified=verified,
        note=note,
    )


@functools.cache
def load_base_rates() -> BaseRateTable:
    """The packaged base-rate table (read once per process)."""
    ref = resources.files(__name__).joinpath(DATA_FILE)
    return parse_base_rates(ref.read_text(encoding="utf-8"), source=f"grantflow/rates/{DATA_FILE}")
