"""The plausibility core rules (GF-PLAUSIBLE-...) and the command limits
(grantflow.limits via Command.check_limits)."""

from __future__ import annotations

from decimal import Decimal

import pendulum
import pytest

from grantflow.domain import plausibility
from grantflow.domain.commands import Approve, Disburse, Submit
from grantflow.domain.model import Applicant, ApplicantKind, Document, Override
from grantflow.errors import BadInput
from tests.domain.builders import (
    ANTON,
    CLARA,
    Case,
    day,
    dmr_approval,
    dmr_proposal,
    dmr_proposed,
    program,
    verdict_of,
)
from tests.domain.builders import NRW as NRW_ID


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is fixed for these tests (GF-PLAUSIBLE-DATE compares with it)."""
    monkeypatch.setattr(plausibility, "today", lambda: pendulum.Date(2019, 6, 1))


def test_gf_plausible_application_passes() -> None:
    record = dmr_proposed().records[-1]
    assert verdict_of(record, "GF-PLAUSIBLE-APPLICATION").message == (
        "applied for on 2019-02-01, before the planned end 2020-12-31"
    )


def test_gf_plausible_application_refuses() -> None:
    case = Case(program(NRW_ID))
    refusal = case.refused(
        dmr_proposal(date=day("2019-03-01"), start=day("2018-09-01"), end=day("2019-02-28")),
        CLARA,
    )
    assert verdict_of(refusal, "GF-PLAUSIBLE-APPLICATION").message == (
        "the application is dated 2019-03-01, after the project's own planned end 2019-02-28: "
        "a project that is over cannot be funded"
    )
    assert "VV Nr. 1.3 zu § 44" in verdict_of(refusal, "GF-PLAUSIBLE-APPLICATION").citation


def test_gf_plausible_funds_passes() -> None:
    record = dmr_proposed().records[-1]
    assert verdict_of(record, "GF-PLAUSIBLE-FUNDS").passed


def test_gf_plausible_funds_refuses() -> None:
    case = Case(program(NRW_ID))
    refusal = case.refused(
        dmr_proposal(private_funds=Decimal("600000.00"), own_funds=Decimal("500000.00")), CLARA
    )
    assert verdict_of(refusal, "GF-PLAUSIBLE-FUNDS").message == (
        "own funds 500,000.00 EUR and private funds 600,000.00 EUR come to 1,100,000.00 EUR, "
        "more than the eligible costs 1,000,000.00 EUR they are meant to cover"
    )


def test_gf_plausible_date_passes() -> None:
    record = dmr_proposed().records[-1]
    assert verdict_of(record, "GF-PLAUSIBLE-DATE").message == (
        "dated 2019-02-01, not after 2020-06-01"
    )


def test_gf_plausible_date_refuses() -> None:
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(date=day("2021-03-15")), ANTON)
    assert verdict_of(refusal, "GF-PLAUSIBLE-DATE").message == (
        "the approve is dated 2021-03-15, more than a year after today (2019-06-01): documents "
        "are not dated that far ahead, and which guideline version of "
        "nrw-digitale-modellregionen will then be in force is not known"
    )


def test_gf_plausible_date_refuses_a_date_far_after_the_step() -> None:
    case = Case(program(NRW_ID))
    refusal = case.refused(dmr_proposal(end=day("2099-12-31")), CLARA)
    assert verdict_of(refusal, "GF-PLAUSIBLE-DATE").message == (
        "the end 2099-12-31 lies more than 30 years after the propose dated 2019-02-01; "
        "no guideline is in force that long"
    )


def test_plausibility_rules_are_hard_core_rules() -> None:
    from grantflow.domain.rules import CORE_RULES

    ids = [r.id for r in CORE_RULES]
    for rule in plausibility.PLAUSIBILITY_RULES:
        assert rule.id in ids
        assert rule.severity.value == "hard"


# -- limits of commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "x" * 1001}, "the title is 1,001 characters long; a title has at most 1,000"),
        ({"title": "a\x1b[2Jb"}, "the title contains the control character U+001B (ESC)"),
        ({"title": "a\nb"}, "the title contains the control character U+000A (LF)"),
        ({"program_id": "p" * 101}, "the program id is 101 characters long"),
        (
            {"applicant": Applicant("S" * 201, ApplicantKind.MUNICIPALITY)},
            "the applicant is 201 characters long; a name has at most 200",
        ),
        (
            {"applicant": Applicant("S", ApplicantKind.MUNICIPALITY, members=("a\x00",))},
            "a consortium member contains the control character U+0000 (NUL)",
        ),
        ({"eligible_costs": Decimal("1e20")}, "is more than the largest amount"),
        ({"requested_amount": Decimal("100000000000.00")}, "is more than the largest amount"),
        ({"date": day("1969-12-31")}, "the date 1969-12-31 is outside the business dates"),
        ({"end": pendulum.Date(9999, 12, 31)}, "the end 9999-12-31 is outside"),
        ({"reason": "r" * 10_001}, "the reason is 10,001 characters long"),
        ({"reason": "bidi \u202e"}, "the reason contains the control character U+202E"),
        ({"attestations": frozenset({"ok", "x" * 101})}, "an attestation is 101 characters"),
        ({"overrides": (Override("R-X", "j\x07"),)}, "a justification contains the control"),
    ],
)
def test_check_limits_refuses(changes: dict[str, object], message: str) -> None:
    cmd = dmr_proposal(**changes)
    with pytest.raises(BadInput) as refused:
        cmd.check_limits()
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_check_limits_accepts_the_edges() -> None:
    dmr_proposal(
        title="t" * 1000,
        program_id="p" * 100,
        applicant=Applicant("S" * 200, ApplicantKind.MUNICIPALITY, members=("m" * 200,)),
        eligible_costs=Decimal("99999999999.99"),
        requested_amount=Decimal("0.01"),
        date=day("1970-01-01"),
        end=day("2099-12-31"),
        reason="line one\r\nline two\n" + "r" * 9_000,
    ).check_limits()
    Approve(
        date=day("2019-03-15"), notice_number="N" * 200, purpose_binding_years=100
    ).check_limits()
    Disburse(date=day("2019-03-15"), amount=Decimal("99999999999.99")).check_limits()


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        (
            Approve(date=day("2019-03-15"), notice_number="N" * 201),
            "the notice number is 201 characters long",
        ),
        (
            Approve(date=day("2019-03-15"), notice_number="N", purpose_binding_years=101),
            "the purpose binding is 101; it must be 1 to 100 years",
        ),
        (
            Submit(date=day("2019-03-15"), document=Document.INTERIM_PROOF, year=12345),
            "the year 12345 is outside the years grantflow accepts, 1970 to 2099",
        ),
        (
            Disburse(date=day("2019-03-15"), amount=Decimal("123456789012345678901234567890")),
            "is more than the largest amount grantflow accepts, 99,999,999,999.99 EUR",
        ),
    ],
)
def test_check_limits_of_other_commands(cmd: object, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        cmd.check_limits()  # type: ignore[attr-defined]
    assert message in str(refused.value)
