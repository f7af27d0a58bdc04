"""Commands and transition records to JSON values and back (grantflow.domain.codec)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from hypothesis import given
from hypothesis import strategies as st

from grantflow.domain.codec import from_data, to_data
from grantflow.domain.commands import COMMANDS, Approve, Close, Command, Disburse, Propose
from grantflow.domain.lifecycle import command_of, decide
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Event,
    FinancingType,
    Role,
    Severity,
    State,
    TransitionRecord,
    Verdict,
)
from grantflow.guidelines import load
from tests.strategies import STANDARDS, amounts, any_command, aware_datetimes

PROGRAM = load("nrw-digitale-modellregionen")


def json_values_only(value: Any) -> bool:
    """True if ``value`` is made of JSON types only (str, int, bool, None, list, dict)."""
    if value is None or isinstance(value, str | bool | int):
        return not isinstance(value, float)
    if isinstance(value, list):
        return all(json_values_only(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_values_only(v) for k, v in value.items())
    return False


def through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


@given(any_command())
def test_every_command_round_trips_through_json(cmd: Command) -> None:
    data = to_data(cmd)
    assert json_values_only(data)
    assert from_data(through_json(data), type(cmd)) == cmd


@given(amounts(Decimal("0.00")))
def test_amounts_are_strings_with_cents(amount: Decimal) -> None:
    data = to_data(Disburse(date=pendulum.Date(2020, 1, 1), amount=amount + Decimal("0.01")))
    text = data["amount"]
    assert isinstance(text, str)
    whole, _, cents = text.partition(".")
    assert whole.isdigit() and len(cents) == 2
    assert Decimal(text) == amount + Decimal("0.01")


def test_whole_euros_keep_their_cents() -> None:
    data = to_data(Disburse(date=pendulum.Date(2020, 1, 1), amount=Decimal("800000")))
    assert data["amount"] == "800000.00"
    assert to_data(Decimal("0.5")) == "0.50"
    assert to_data(Decimal("1.005")) == "1.005"  # no rounding away of a value that is not money


def test_a_proposal_in_json_is_readable() -> None:
    cmd = Propose(
        date=pendulum.Date(2019, 3, 1),
        program_id=PROGRAM.id,
        title="Digitales Bürgerbüro",
        applicant=Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY, ("Kreis Paderborn",)),
        region="owl",
        eligible_costs=Decimal("1000000"),
        requested_amount=Decimal("800000"),
        start=pendulum.Date(2019, 5, 1),
        end=pendulum.Date(2021, 4, 30),
        attestations=frozenset({"ozg", "it-standards"}),
    )
    data = through_json(to_data(cmd))
    assert data["date"] == "2019-03-01"
    assert data["eligible_costs"] == "1000000.00"
    assert data["requested_amount"] == "800000.00"
    assert data["attestations"] == ["it-standards", "ozg"]  # a set as a sorted list
    assert data["applicant"] == {
        "lead": "Stadt Paderborn",
        "kind": "municipality",
        "members": ["Kreis Paderborn"],
    }
    assert "event" not in data  # the event is the record's, not a field of the document


def test_unknown_keys_are_refused() -> None:
    data = to_data(Approve(date=pendulum.Date(2019, 4, 1), notice_number="DMR-B-1"))
    data["amout"] = "1.00"
    with pytest.raises(ClassValidationError) as refused:
        from_data(data, Approve)
    (problem,) = refused.value.exceptions
    assert isinstance(problem, ForbiddenExtraKeysError)
    assert problem.extra_fields == {"amout"}


records = st.builds(
    TransitionRecord,
    grant_id=st.just("DMR-2019-0001"),
    seq=st.integers(1, 1000),
    event=st.sampled_from(list(Event)),
    from_state=st.none() | st.sampled_from(list(State)),
    to_state=st.sampled_from(list(State)),
    business_date=st.dates().map(lambda d: pendulum.Date(d.year, d.month, d.day)),
    recorded_at=aware_datetimes(),
    actor=st.just("anton"),
    reason=st.text(max_size=20),
    data=any_command().map(to_data),
    verdicts=st.lists(
        st.builds(
            Verdict,
            rule_id=st.sampled_from(["GF-ROLE", "R-BAGATELLE"]),
            passed=st.booleans(),
            severity=st.sampled_from(list(Severity)),
            message=st.text(max_size=20),
            citation=st.just("VV zu § 44 LHO"),
            overridden=st.booleans(),
            justification=st.none() | st.text(min_size=1, max_size=10),
        ),
        max_size=3,
    ).map(tuple),
    guideline_id=st.just(PROGRAM.id),
    guideline_version=st.sampled_from(["2018-07", "2021-07"]),
)


@given(records)
def test_records_round_trip_through_json(record: TransitionRecord) -> None:
    data = to_data(record)
    assert json_values_only(data)
    back = from_data(through_json(data), TransitionRecord)
    assert back == record
    assert back.recorded_at.timestamp() == record.recorded_at.timestamp()
    assert back.recorded_at.utcoffset() == pendulum.duration(0)  # stored in UTC
    assert data["recorded_at"].endswith("+00:00")


def test_a_decided_record_round_trips_and_replays_its_command() -> None:
    clerk = Actor("clara", frozenset({Role.CLERK}))
    propose = Propose(
        date=pendulum.Date(2019, 3, 1),
        program_id=PROGRAM.id,
        title="Digitales Bürgerbüro",
        applicant=Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
        region="owl",
        focus="e-government",
        eligible_costs=Decimal("1000000"),
        requested_amount=Decimal("800000"),
        start=pendulum.Date(2019, 5, 1),
        end=pendulum.Date(2021, 4, 30),
        attestations=frozenset(STANDARDS),
    )
    record = decide(
        None,
        propose,
        actor=clerk,
        version=PROGRAM.latest,
        recorded_at=pendulum.datetime(2019, 3, 1, 9, tz="Europe/Berlin"),
        grant_id="DMR-2019-0001",
    )
    assert json_values_only(record.data)
    back = from_data(through_json(to_data(record)), TransitionRecord)
    assert back == record
    assert command_of(back) == command_of(record)
    resolved = command_of(back)
    assert isinstance(resolved, Propose)
    assert resolved.own_funds == Decimal("200000.00")  # the default is resolved into the record


def test_close_record_keeps_settlement_figures_as_strings() -> None:
    data = to_data(Close(date=pendulum.Date(2021, 6, 1), final_costs=Decimal("950000")))
    assert data["final_costs"] == "950000.00"
    assert from_data(data, Close).final_costs == Decimal("950000.00")
    assert set(COMMANDS) == set(Event)
    assert to_data(FinancingType.FIXED) == "fixed"


def test_recording_times_are_kept_in_utc_even_in_the_repeated_autumn_hour() -> None:
    """02:00 on 2027-10-31 happens twice in Berlin; a record keeps the instant, in UTC."""
    import pendulum

    from grantflow.domain.codec import from_data, to_data
    from grantflow.domain.model import Event, State, TransitionRecord

    berlin = pendulum.datetime(2027, 10, 31, 2, 0, tz="Europe/Berlin")
    record = TransitionRecord(
        grant_id="G-1", seq=1, event=Event.PROPOSE, from_state=None, to_state=State.PROPOSED,
        business_date=pendulum.Date(2027, 10, 29), recorded_at=berlin, actor="clara", reason="",
        data={}, guideline_id="p", guideline_version="v",
    )  # fmt: skip
    assert record.recorded_at.timezone_name == "UTC"
    assert record.recorded_at == berlin.in_timezone("UTC")
    assert from_data(to_data(record), TransitionRecord) == record
