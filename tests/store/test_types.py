"""Money, times and dates come back exactly as they went in, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pendulum
import pytest
import sqlalchemy as sa

from grantflow.errors import BadInput
from grantflow.store import create_engine
from grantflow.store.types import BusinessDate, Money, UTCDateTime, json_type

md = sa.MetaData()
values = sa.Table(
    "type_check",
    md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", Money()),
    sa.Column("at", UTCDateTime()),
    sa.Column("day", BusinessDate()),
    sa.Column("doc", json_type()),
)


@pytest.fixture
def engine(empty_db_url: str) -> Iterator[sa.Engine]:
    e = create_engine(empty_db_url)
    md.create_all(e)
    yield e
    e.dispose()


def test_money_is_exact_and_sums_exactly(engine: sa.Engine) -> None:
    amounts: list[Decimal | int] = [
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("999999999999.99"),
        Decimal("-5.05"),
        7,
    ]
    with engine.begin() as conn:
        conn.execute(values.insert(), [{"amount": a} for a in amounts])
    with engine.connect() as conn:
        back = conn.execute(sa.select(values.c.amount).order_by(values.c.id)).scalars().all()
        total = conn.execute(sa.select(sa.func.sum(values.c.amount))).scalar_one()
        small = conn.execute(
            sa.select(sa.func.sum(values.c.amount)).where(values.c.amount < 1)
        ).scalar_one()
    assert back == [Decimal(a).quantize(Decimal("0.01")) for a in amounts]
    assert all(isinstance(b, Decimal) for b in back)
    assert str(back[0]) == "0.10"
    assert small == Decimal("-4.75")  # 0.10 + 0.20 - 5.05, no binary float on the way
    assert total == sum(Decimal(a) for a in amounts)


def test_money_refuses_floats_and_fractions_of_cents(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.StatementError) as floats, engine.begin() as conn:
        conn.execute(values.insert(), [{"amount": 0.1}])
    assert isinstance(floats.value.orig, TypeError)
    with pytest.raises(sa.exc.StatementError) as cents, engine.begin() as conn:
        conn.execute(values.insert(), [{"amount": Decimal("1.005")}])
    assert isinstance(cents.value.orig, BadInput)


def test_times_are_stored_in_utc(engine: sa.Engine) -> None:
    berlin = pendulum.datetime(2021, 3, 28, 3, 30, 0, 250000, tz="Europe/Berlin")
    with engine.begin() as conn:
        conn.execute(values.insert(), [{"at": berlin, "day": pendulum.Date(2021, 2, 28)}])
    with engine.connect() as conn:
        at, day = conn.execute(sa.select(values.c.at, values.c.day)).one()
    assert at == berlin
    assert at.timezone_name == "UTC" and at.hour == 1 and at.microsecond == 250000
    assert isinstance(at, pendulum.DateTime)
    assert isinstance(day, pendulum.Date) and day == pendulum.Date(2021, 2, 28)
    with pytest.raises(sa.exc.StatementError), engine.begin() as conn:
        conn.execute(values.insert(), [{"at": dt.datetime(2021, 1, 1)}])  # noqa: DTZ001


def test_json_documents_round_trip(engine: sa.Engine) -> None:
    doc = {"amount": "800000.00", "list": [1, "zwei", None], "nested": {"ä": True}}
    with engine.begin() as conn:
        conn.execute(values.insert(), [{"doc": doc}])
    with engine.connect() as conn:
        assert conn.execute(sa.select(values.c.doc)).scalar_one() == doc
