"""Domain objects to and from JSON values (amounts and dates as strings), with cattrs.

This is the one place that decides how a Decimal, a date or a set looks in stored event data,
in exports and in hashes: amounts as strings with their cents (``"800000.00"``), dates as ISO
8601 (``"2021-12-31"``), times as ISO 8601 in UTC, sets as sorted lists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar, get_origin

import cattrs
import pendulum

from grantflow.domain.dates import UTC
from grantflow.domain.money import money

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True)
converter.register_unstructure_hook(Decimal, lambda d: f"{money(d)}" if d == money(d) else str(d))
converter.register_structure_hook(Decimal, lambda v, _t: Decimal(str(v)))
converter.register_unstructure_hook(pendulum.Date, lambda d: d.isoformat())
converter.register_structure_hook(
    pendulum.Date,
    lambda v, _t: v if isinstance(v, pendulum.Date) else pendulum.Date.fromisoformat(v),
)
converter.register_unstructure_hook(pendulum.DateTime, lambda d: d.in_timezone(UTC).isoformat())


def _structure_datetime(v: Any, _t: type) -> pendulum.DateTime:
    parsed = pendulum.parse(v) if isinstance(v, str) else v
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"{v!r} is not a date and time")
    return parsed.in_timezone(UTC)


converter.register_structure_hook(pendulum.DateTime, _structure_datetime)


def _is_frozenset(t: Any) -> bool:
    # ``frozenset`` itself and annotations such as ``frozenset[str]`` (attrs fields): a hook
    # registered for the bare class alone leaves annotated fields as Python frozensets.
    return t is frozenset or get_origin(t) is frozenset


converter.register_unstructure_hook_func(
    _is_frozenset, lambda s: sorted(converter.unstructure(x) for x in s)
)


def to_data(obj: object) -> Any:
    """Unstructure an attrs object (or a value) into JSON values."""
    return converter.unstructure(obj)


def from_data(data: Any, cls: type[T]) -> T:
    """Structure JSON values into ``cls``."""
    return converter.structure(data, cls)
