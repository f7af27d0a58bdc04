"""Every rule kind and every core rule: one step it lets pass, one it refuses.

Grants are made through the real lifecycle (``tests/domain/builders.py``), under the packaged
guidelines where they use the kind, and under a one-rule program where no packaged guideline
does. Each refusal asserts the rule id and the figures the message names; the figures are
computed from the inputs of the test.
"""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import attrs
import pytest

import tests.domain
from grantflow.domain.commands import (
    Amend,
    Approve,
    Close,
    Disburse,
    Extend,
    Propose,
    Reject,
    Repay,
    Revoke,
    Start,
    Withdraw,
)
from grantflow.domain.guideline import Program
from grantflow.domain.model import Applicant, ApplicantKind, Override, Severity, State
from grantflow.domain.money import apply_rate, format_eur
from grantflow.domain.rules import BUILTIN_KINDS, CORE_RULES, Exposure
from grantflow.errors import BadInput, InvalidTransition
from tests.domain.builders import (
    ANTON,
    AUDREY,
    CLARA,
    DMR_ATTESTATIONS,
    DMR_COSTS,
    DMR_RATE,
    FINN,
    FIONA,
    MPSC_COSTS,
    MPSC_RATE,
    NRW,
    PETRA,
    Case,
    day,
    dmr_approval,
    dmr_approved,
    dmr_paid,
    dmr_proposal,
    dmr_proposed,
    dmr_running,
    mini_program,
    mpsc_approval,
    mpsc_approved,
    mpsc_proposal,
    mpsc_proposed,
    program,
    verdict_of,
)

REQUESTED = apply_rate(DMR_COSTS, DMR_RATE)  # 800,000.00 EUR: the DMR default request


def test_every_builtin_kind_and_core_rule_has_a_passing_and_a_refusing_test() -> None:
    # the tests may live in any module of tests/domain (separation: test_separation.py)
    names = set(globals())
    for info in pkgutil.iter_modules(tests.domain.__path__):
        names |= set(vars(importlib.import_module(f"tests.domain.{info.name}")))
    stems = [k.replace("-", "_") for k in BUILTIN_KINDS]
    stems += [r.id.lower().replace("-", "_") for r in CORE_RULES]
    stems += ["gf_override", "gf_lifecycle"]
    missing = [
        f"test_{s}_{outcome}"
        for s in stems
        for outcome in ("passes", "refuses")
        if f"test_{s}_{outcome}" not in names
    ]
    assert not missing


# ============================================================================================
# Core rules (GF-...)
# ============================================================================================


def test_gf_role_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "GF-ROLE").passed
    assert verdict_of(record, "GF-ROLE").message == (
        "anton holds the approver role needed to approve"
    )


def test_gf_role_refuses() -> None:
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(), FINN)
    v = verdict_of(refusal, "GF-ROLE")
    assert v.message == "finn (finance) may not approve: that needs the approver role"
    assert case.refused(dmr_approval(), AUDREY).rule_ids == ("GF-ROLE",)


def test_gf_four_eyes_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "GF-FOUR-EYES").message == (
        "anton neither proposed nor last edited grant G-1"
    )


def test_gf_four_eyes_refuses() -> None:
    case = Case(program(NRW))
    case.do(dmr_proposal(), PETRA)  # petra is clerk and approver
    refusal = case.refused(dmr_approval(), PETRA)
    assert refusal.rule_ids == ("GF-FOUR-EYES",)
    assert verdict_of(refusal, "GF-FOUR-EYES").message == (
        "petra proposed grant G-1 and so may not approve it (four-eyes principle)"
    )


def test_gf_chronology_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "GF-CHRONOLOGY").message == "dated 2019-03-15, not before 2019-02-01"


def test_gf_chronology_refuses() -> None:
    case = dmr_proposed(date=day("2019-02-01"))
    refusal = case.refused(dmr_approval(date=day("2019-01-31")), ANTON)
    assert "GF-CHRONOLOGY" in refusal.rule_ids
    assert verdict_of(refusal, "GF-CHRONOLOGY").message == (
        "the approve is dated 2019-01-31, before the grant's previous step on 2019-02-01"
    )


def test_gf_requested_cap_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "GF-REQUESTED-CAP").message == (
        "800,000.00 EUR is within the requested 800,000.00 EUR"
    )


def test_gf_requested_cap_refuses() -> None:
    requested = apply_rate(DMR_COSTS, Decimal("0.50"))  # 500,000.00 EUR asked for
    more = requested + Decimal("50000.00")  # 550,000.00 EUR approved: more than asked
    case = dmr_proposed(requested_amount=requested)
    refusal = case.refused(dmr_approval(amount=more), ANTON)
    assert refusal.rule_ids == ("GF-REQUESTED-CAP",)
    assert verdict_of(refusal, "GF-REQUESTED-CAP").message == (
        "approve of 550,000.00 EUR is more than the requested 500,000.00 EUR"
    )


def test_gf_ceiling_passes() -> None:
    first = REQUESTED - Decimal("300000.00")  # 500,000.00 EUR
    case = dmr_paid(first)
    record = case.do(Disburse(date=day("2019-06-03"), amount=REQUESTED - first), FINN)
    assert verdict_of(record, "GF-CEILING").message == (
        "payments of 800,000.00 EUR stay within the approved 800,000.00 EUR"
    )


def test_gf_ceiling_refuses() -> None:
    first = Decimal("500000.00")
    second = Decimal("400000.00")
    assert first + second > REQUESTED
    case = dmr_paid(first)
    refusal = case.refused(Disburse(date=day("2019-06-03"), amount=second), FINN)
    assert refusal.rule_ids == ("GF-CEILING",)
    assert verdict_of(refusal, "GF-CEILING").message == (
        "paying 400,000.00 EUR would bring payments to 900,000.00 EUR, more than the approved "
        "800,000.00 EUR (already paid 500,000.00 EUR)"
    )


def test_gf_period_passes() -> None:
    case = dmr_running()
    record = case.do(
        Extend(date=day("2020-10-01"), until=day("2021-06-30"), notice_number="DMR-OWL-Ä1"),
        ANTON,
    )
    assert verdict_of(record, "GF-PERIOD").message == (
        "extends the funding period from 2020-12-31 to 2021-06-30"
    )
    assert case.current.state is State.EXTENDED
    assert case.current.period.end == day("2021-06-30")


def test_gf_period_refuses() -> None:
    case = dmr_running()
    refusal = case.refused(
        Extend(date=day("2020-10-01"), until=day("2020-11-30"), notice_number="DMR-OWL-Ä1"),
        ANTON,
    )
    assert refusal.rule_ids == ("GF-PERIOD",)
    assert verdict_of(refusal, "GF-PERIOD").message == (
        "the extension until 2020-11-30 does not go beyond the current end of the funding "
        "period 2020-12-31"
    )


def _revoked_after_paying(paid: Decimal) -> Case:
    case = dmr_paid(paid)
    case.do(
        Revoke(date=day("2020-02-03"), notice_number="DMR-OWL-W", reason="Zweck entfallen"),
        ANTON,
    )
    return case


def test_gf_refund_balance_passes() -> None:
    """Paid 300,000.00, revoked for the past: 300,000.00 owed; 120,000.00 paid back."""
    case = _revoked_after_paying(Decimal("300000.00"))
    record = case.do(Repay(date=day("2020-03-02"), amount=Decimal("120000.00")), FINN)
    assert verdict_of(record, "GF-REFUND-BALANCE").message == (
        "120,000.00 EUR of the 300,000.00 EUR still owed; 180,000.00 EUR remains (R-REFUND)"
    )
    assert case.current.refund_outstanding == Decimal("180000.00")


def test_gf_refund_balance_refuses() -> None:
    """More than is still owed, and anything where nothing is owed, is refused."""
    case = _revoked_after_paying(Decimal("300000.00"))
    case.do(Repay(date=day("2020-03-02"), amount=Decimal("120000.00")), FINN)
    refusal = case.refused(Repay(date=day("2020-03-09"), amount=Decimal("180000.01")), FINN)
    assert refusal.rule_ids == ("GF-REFUND-BALANCE",)
    assert verdict_of(refusal, "GF-REFUND-BALANCE").message == (
        "a repayment of 180,000.01 EUR is more than the 180,000.00 EUR still owed (refund "
        "claim 300,000.00 EUR, repaid 120,000.00 EUR; R-REFUND)"
    )
    owes_nothing = dmr_paid(Decimal("300000.00"))  # running, within the grant
    refusal = owes_nothing.refused(Repay(date=day("2020-03-02"), amount=Decimal("1.00")), FINN)
    assert verdict_of(refusal, "GF-REFUND-BALANCE").message == (
        "grant G-1 owes nothing back (refund claim 0.00 EUR, repaid 0.00 EUR), so a repayment "
        "of 1.00 EUR cannot be booked against it (R-REFUND)"
    )


def _dmr_without_renounce() -> Program:
    """DMR with its R-WITHDRAW-RENOUNCE rule switched off in every version."""
    dmr = program(NRW)
    versions = tuple(
        attrs.evolve(v, rules=tuple(r for r in v.rules if r.id != "R-WITHDRAW-RENOUNCE"))
        for v in dmr.versions
    )
    return attrs.evolve(dmr, versions=versions)


def test_gf_renounce_passes() -> None:
    """Before any payout the core rule says nothing: the withdrawal goes ahead, with or
    without the guideline's renounce rule."""
    case = dmr_approved()
    case.program = _dmr_without_renounce()
    record = case.do(Withdraw(date=day("2019-03-20"), reason="Verzicht"), CLARA)
    assert "GF-RENOUNCE" not in {v.rule_id for v in record.verdicts}
    assert "R-WITHDRAW-RENOUNCE" not in {v.rule_id for v in record.verdicts}
    assert case.current.state is State.WITHDRAWN


def test_gf_renounce_refuses() -> None:
    """After a payout the core rule refuses, also where the guideline has no renounce rule."""
    case = dmr_paid(FIRST_PAYMENT)
    case.program = _dmr_without_renounce()
    refusal = case.refused(Withdraw(date=day("2019-06-01"), reason="Verzicht"), CLARA)
    assert refusal.rule_ids == ("GF-RENOUNCE",)
    verdict = verdict_of(refusal, "GF-RENOUNCE")
    assert verdict.severity is Severity.HARD
    assert "R-WITHDRAW-RENOUNCE" in verdict.message
    assert "R-WITHDRAW-RENOUNCE" in verdict.citation


def test_an_approved_period_that_ends_before_it_starts_is_bad_input() -> None:
    """Such a notice is malformed input, refused before any rule runs (also when the start
    comes from the application), so GF-PERIOD only ever judges extensions in practice."""
    with pytest.raises(BadInput, match=r"ends \(2019-05-31\) before it starts \(2019-06-01\)"):
        dmr_approval(start=day("2019-06-01"), end=day("2019-05-31"))
    case = dmr_proposed()  # the application's period starts 2019-04-01
    with pytest.raises(BadInput, match=r"ends \(2019-03-31\) before it starts \(2019-04-01\)"):
        case.check(dmr_approval(end=day("2019-03-31")), ANTON)
    assert case.current.state is State.PROPOSED


# ============================================================================================
# GF-OVERRIDE and soft rules
# ============================================================================================

SMALL_COSTS = Decimal("12000.00")
SMALL = apply_rate(SMALL_COSTS, DMR_RATE)  # 9,600.00 EUR, below the 12,500.00 EUR municipal minimum


def test_gf_override_passes() -> None:
    """A soft rule overridden by an approver with a justification lets the step pass."""
    case = dmr_proposed(eligible_costs=SMALL_COSTS, requested_amount=SMALL)
    why = "Pilot für alle Kommunen im Kreis; Bagatellgrenze ausnahmsweise unterschritten"
    record = case.do(dmr_approval(overrides=(Override("R-BAGATELLE", why),)), ANTON)
    v = verdict_of(record, "R-BAGATELLE")
    assert v.severity is Severity.SOFT
    assert not v.passed
    assert v.overridden
    assert v.justification == why
    assert v.message == "9,600.00 EUR is below the minimum grant of 12,500.00 EUR"
    assert v.explain().endswith(f"[overridden: {why}]")
    assert "GF-OVERRIDE" not in [x.rule_id for x in record.verdicts]
    assert case.current.state is State.APPROVED
    assert case.current.approved_amount == SMALL


def test_gf_override_refuses() -> None:
    """A hard rule cannot be overridden: the rule still refuses, and GF-OVERRIDE says why."""
    case = dmr_proposed()
    lower = REQUESTED - Decimal("100000.00")  # leaves a financing gap of 100,000.00 EUR
    override = Override("R-FULL-FINANCING-SECURED", "Die Stadt schließt die Lücke später")
    refusal = case.refused(dmr_approval(amount=lower, overrides=(override,)), ANTON)
    assert set(refusal.rule_ids) == {"R-FULL-FINANCING-SECURED", "GF-OVERRIDE"}
    assert not verdict_of(refusal, "R-FULL-FINANCING-SECURED").overridden
    assert verdict_of(refusal, "GF-OVERRIDE").message == (
        "R-FULL-FINANCING-SECURED is a hard rule; nobody can override it"
    )


def test_gf_override_refuses_a_soft_rule_without_an_approver() -> None:
    mini = mini_program(FINAL_INSTALLMENT)
    case = _mini_running(mini)
    override = Override("R-FINAL-INSTALLMENT", "Schlussrate vorgezogen")
    refusal = case.refused(
        Disburse(date=day("2020-04-01"), amount=MINI_AMOUNT, overrides=(override,)), FINN
    )
    assert set(refusal.rule_ids) == {"R-FINAL-INSTALLMENT", "GF-OVERRIDE"}
    assert not verdict_of(refusal, "R-FINAL-INSTALLMENT").overridden
    assert verdict_of(refusal, "GF-OVERRIDE").message == (
        "finn may not override R-FINAL-INSTALLMENT: only an approver may"
    )


def test_gf_override_refuses_a_rule_that_does_not_judge_the_step() -> None:
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(overrides=(Override("R-PROOF-6M", "irrelevant"),)), ANTON)
    assert refusal.rule_ids == ("GF-OVERRIDE",)
    assert verdict_of(refusal, "GF-OVERRIDE").message == (
        "R-PROOF-6M does not judge this approve, so it cannot be overridden"
    )


# ============================================================================================
# GF-LIFECYCLE
# ============================================================================================


def test_gf_lifecycle_passes() -> None:
    case = dmr_approved()
    evaluation = case.check(Start(date=day("2019-04-01")), CLARA)
    assert evaluation.lifecycle_ok
    assert evaluation.allowed
    assert evaluation.to_state == "running"
    assert "GF-LIFECYCLE" not in [v.rule_id for v in evaluation.verdicts]


def test_gf_lifecycle_refuses() -> None:
    case = dmr_proposed()
    start = Start(date=day("2019-04-01"))
    evaluation = case.check(start, CLARA)
    assert not evaluation.lifecycle_ok
    assert not evaluation.allowed
    v = verdict_of(evaluation, "GF-LIFECYCLE")
    assert v.severity is Severity.HARD
    assert v.message == "start is not possible while the grant is proposed (only from: approved)"
    with pytest.raises(InvalidTransition, match="GF-LIFECYCLE") as info:
        case.decide(start, CLARA)
    assert info.value.state == "proposed"
    assert info.value.allowed_from == ("approved",)


# ============================================================================================
# Several rules at once; the guideline version in force
# ============================================================================================


def test_a_refused_step_lists_every_failing_rule() -> None:
    # petra proposed (as clerk) and now approves 850,000.00 EUR without the DMR attestations,
    # for a funding period that starts before the notice and ends after the program's funds.
    case = Case(program(NRW))
    case.do(dmr_proposal(start=day("2019-03-01")), PETRA)
    too_much = apply_rate(DMR_COSTS, Decimal("0.85"))
    refusal = case.refused(
        Approve(
            date=day("2019-03-15"),
            notice_number="DMR-OWL-2019-1",
            amount=too_much,
            end=day("2022-06-30"),
        ),
        PETRA,
    )
    assert set(refusal.rule_ids) == {
        "GF-FOUR-EYES",
        "GF-REQUESTED-CAP",
        "R-PROG-DMR-STANDARDS",
        "R-FUNDING-TYPE",
        "R-EARLY-START",
        "R-ANNUALITY",
    }
    assert verdict_of(refusal, "R-FUNDING-TYPE").message == (
        "approved 850,000.00 EUR is more than 80 % of eligible costs 1,000,000.00 EUR "
        "(at most 800,000.00 EUR)"
    )
    explained = refusal.explain().splitlines()
    assert len(explained) == len(refusal.failures)
    assert all(" — " in line for line in explained)


def test_a_step_is_checked_under_the_version_in_force_on_its_business_date() -> None:
    """NRW: the extension to 2023-06-30 needs the 2021-07 version of the guideline."""
    case = dmr_running(dmr_approval(end=day("2021-12-31")))
    assert case.records[-2].guideline_version == "2018-07"  # the approval

    early = Extend(date=day("2021-05-01"), until=day("2023-06-30"), notice_number="DMR-OWL-Ä1")
    refusal = case.refused(early, ANTON)
    assert refusal.rule_ids == ("R-ANNUALITY",)
    assert verdict_of(refusal, "R-ANNUALITY").message == (
        "the funding period would end 2023-06-30, after the program's funds end 2021-12-31 "
        "(guideline version 2018-07)"
    )

    later = Extend(date=day("2021-08-01"), until=day("2023-06-30"), notice_number="DMR-OWL-Ä1")
    record = case.do(later, ANTON)
    assert record.guideline_id == NRW
    assert record.guideline_version == "2021-07"
    assert verdict_of(record, "R-ANNUALITY").message == (
        "ends 2023-06-30, within the program's funds until 2023-06-30"
    )
    assert case.current.state is State.EXTENDED


# ============================================================================================
# Guideline rule kinds
# ============================================================================================

# --- funding-rate (R-FUNDING-TYPE) -----------------------------------------------------------


def test_funding_rate_passes() -> None:
    record = dmr_proposed().records[-1]
    assert verdict_of(record, "R-FUNDING-TYPE").message == (
        "requested 800,000.00 EUR is within 80 % of eligible costs 1,000,000.00 EUR"
    )


def test_funding_rate_refuses() -> None:
    case = Case(program(NRW))
    asked = apply_rate(DMR_COSTS, Decimal("0.85"))
    refusal = case.refused(dmr_proposal(requested_amount=asked), CLARA)
    assert refusal.rule_ids == ("R-FUNDING-TYPE",)
    assert verdict_of(refusal, "R-FUNDING-TYPE").message == (
        "requested 850,000.00 EUR is more than 80 % of eligible costs 1,000,000.00 EUR "
        "(at most 800,000.00 EUR)"
    )


def test_funding_rate_by_applicant_kind() -> None:
    """Businesses get the default 50 %, research institutions 90 % (NRW.BANK)."""
    case = Case(program(NRW))
    business = Applicant("Digital GmbH", ApplicantKind.BUSINESS)
    refusal = case.refused(dmr_proposal(applicant=business), CLARA)
    assert verdict_of(refusal, "R-FUNDING-TYPE").message == (
        "requested 800,000.00 EUR is more than 50 % of eligible costs 1,000,000.00 EUR "
        "(at most 500,000.00 EUR)"
    )
    research = Applicant("Hochschule Ruhr West", ApplicantKind.RESEARCH)
    record = Case(program(NRW)).do(
        dmr_proposal(
            applicant=research,
            region="gelsenkirchen",
            requested_amount=apply_rate(DMR_COSTS, Decimal("0.90")),
        ),
        CLARA,
    )
    assert verdict_of(record, "R-FUNDING-TYPE").message == (
        "requested 900,000.00 EUR is within 90 % of eligible costs 1,000,000.00 EUR"
    )


def test_funding_rate_rises_to_90_percent_with_haushaltsnotlage() -> None:
    """MPSC: 65 %, or 90 % for a municipality in budgetary emergency."""
    asked = apply_rate(MPSC_COSTS, Decimal("0.90"))  # 2,430,000.00 EUR
    refusal = Case(program("smart-cities-mpsc")).refused(
        mpsc_proposal(requested_amount=asked), CLARA
    )
    assert refusal.rule_ids == ("R-FUNDING-TYPE",)
    assert verdict_of(refusal, "R-FUNDING-TYPE").message == (
        "requested 2,430,000.00 EUR is more than 65 % of eligible costs 2,700,000.00 EUR "
        "(at most 1,755,000.00 EUR)"
    )
    assert format_eur(apply_rate(MPSC_COSTS, MPSC_RATE)) == "1,755,000.00 EUR"

    case = mpsc_proposed(requested_amount=asked, attestations=frozenset({"haushaltsnotlage"}))
    assert verdict_of(case.records[-1], "R-FUNDING-TYPE").message == (
        "requested 2,430,000.00 EUR is within 90 % of eligible costs 2,700,000.00 EUR"
    )


# --- budget (program, region, call) ----------------------------------------------------------


def test_budget_passes() -> None:
    """The exposure of another approved DMR grant, summed from real grants."""
    other = dmr_approved()
    case = dmr_proposed()
    record = case.do(dmr_approval(), ANTON, Exposure.of([other.current]))
    v = verdict_of(record, "R-SUBSIDIARITY-INTEREST")
    left = program(NRW).latest.budget - other.current.approved_amount  # 90,200,000.00 EUR
    assert format_eur(left) == "90,200,000.00 EUR"
    assert v.message == (
        "800,000.00 EUR fits into the 90,200,000.00 EUR left of program "
        "nrw-digitale-modellregionen (91,000,000.00 EUR)"
    )
    region = verdict_of(record, "R-PROG-DMR-ENVELOPE")
    assert region.message == (
        "800,000.00 EUR fits into the 18,700,000.00 EUR left of the envelope of region owl "
        "(19,500,000.00 EUR)"
    )


def test_budget_refuses() -> None:
    budget = Decimal("91000000.00")
    committed = budget - Decimal("500000.00")  # 500,000.00 EUR left, 800,000.00 EUR asked
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(), ANTON, Exposure(program_committed=committed))
    assert refusal.rule_ids == ("R-SUBSIDIARITY-INTEREST",)
    assert verdict_of(refusal, "R-SUBSIDIARITY-INTEREST").message == (
        "approve would bind 800,000.00 EUR more, but only 500,000.00 EUR is left of program "
        "nrw-digitale-modellregionen (91,000,000.00 EUR, of which 90,500,000.00 EUR is committed)"
    )


def test_budget_refuses_beyond_a_region_envelope() -> None:
    envelope = Decimal("19500000.00")  # OWL: "Fördervolumen von 19,5 Millionen Euro"
    used = envelope - Decimal("300000.00")
    exposure = Exposure(program_committed=used, region_committed={"owl": used})
    refusal = dmr_proposed().refused(dmr_approval(), ANTON, exposure)
    assert refusal.rule_ids == ("R-PROG-DMR-ENVELOPE",)
    assert verdict_of(refusal, "R-PROG-DMR-ENVELOPE").message == (
        "approve would bind 800,000.00 EUR more, but only 300,000.00 EUR is left of the "
        "envelope of region owl (19,500,000.00 EUR, of which 19,200,000.00 EUR is committed)"
    )


def test_budget_refuses_beyond_a_call_budget() -> None:
    call_budget = Decimal("350000000.00")  # 2nd call (assumed floor)
    used = call_budget - Decimal("1000000.00")
    exposure = Exposure(program_committed=used, call_committed={"staffel-2": used})
    refusal = mpsc_proposed().refused(mpsc_approval(), ANTON, exposure)
    assert refusal.rule_ids == ("R-PROG-MPSC-CALL-BUDGET",)
    assert verdict_of(refusal, "R-PROG-MPSC-CALL-BUDGET").message == (
        "approve would bind 1,755,000.00 EUR more, but only 1,000,000.00 EUR is left of the "
        "budget of call staffel-2 (350,000,000.00 EUR, of which 349,000,000.00 EUR is committed)"
    )


def test_budget_counts_only_the_increase_of_an_amendment() -> None:
    case = dmr_running()
    raise_to = REQUESTED  # amend down first, then back up: only the difference binds
    lower = REQUESTED - Decimal("200000.00")
    cut = case.do(Amend(date=day("2019-06-01"), notice_number="Ä1", amount=lower), ANTON)
    assert verdict_of(cut, "R-SUBSIDIARITY-INTEREST").passed  # binds 200,000.00 EUR less
    assert case.current.approved_amount == lower
    committed = Decimal("91000000.00") - Decimal("150000.00")
    refusal = case.refused(
        Amend(date=day("2019-07-01"), notice_number="Ä2", amount=raise_to),
        ANTON,
        Exposure(program_committed=committed),
    )
    assert verdict_of(refusal, "R-SUBSIDIARITY-INTEREST").message == (
        "amend would bind 200,000.00 EUR more, but only 150,000.00 EUR is left of program "
        "nrw-digitale-modellregionen (91,000,000.00 EUR, of which 90,850,000.00 EUR is committed)"
    )


# --- eligibility -----------------------------------------------------------------------------


def test_eligibility_passes() -> None:
    record = dmr_proposed().records[-1]
    assert verdict_of(record, "R-PROG-DMR-ELIGIBILITY").message == (
        "the application fits the program's regions, areas, calls and applicants"
    )


def test_eligibility_refuses() -> None:
    case = Case(program(NRW))
    refusal = case.refused(
        dmr_proposal(
            applicant=Applicant("Stadt Iserlohn", ApplicantKind.MUNICIPALITY),
            region="owl",
            focus="tourismus",
        ),
        CLARA,
    )
    assert refusal.rule_ids == ("R-PROG-DMR-ELIGIBILITY",)
    assert verdict_of(refusal, "R-PROG-DMR-ELIGIBILITY").message == (
        "focus 'tourismus' is not one of e-government, digitale-stadtentwicklung; "
        "Stadt Iserlohn belongs to region soest, not owl"
    )


def test_eligibility_refuses_applicant_kinds_the_program_does_not_fund() -> None:
    refusal = Case(program(NRW)).refused(
        dmr_proposal(applicant=Applicant("Bezirksregierung Detmold", ApplicantKind.AUTHORITY)),
        CLARA,
    )
    assert "applicant kind authority is not eligible" in (
        verdict_of(refusal, "R-PROG-DMR-ELIGIBILITY").message
    )
    business = Applicant("Smart GmbH", ApplicantKind.BUSINESS)
    refusal = Case(program("smart-cities-mpsc")).refused(
        mpsc_proposal(applicant=business, call=None), CLARA
    )
    assert verdict_of(refusal, "R-PROG-MPSC-ELIGIBILITY-PHASES").message == (
        "call none is not one of staffel-1, staffel-2; "
        "applicant kind business is not eligible (eligible: municipality)"
    )


# --- call-window -----------------------------------------------------------------------------

CONSORTIUM = Applicant(
    "Stadt Unna",
    ApplicantKind.MUNICIPALITY,
    ("Stadt Beckum", "Stadt Billerbeck", "Stadt Drensteinfurt", "Stadt Siegen", "Stadt Winterberg"),
)


def _staffel_3(received: str) -> Propose:
    costs = Decimal("2000000.00")
    return mpsc_proposal(
        date=day(received),
        title="6|6|EINS: Mitten in die Zukunft in Stadt.Land.Dorf",
        applicant=CONSORTIUM,
        call="staffel-3",
        phase="strategy",
        eligible_costs=costs,
        requested_amount=apply_rate(costs, MPSC_RATE),
        start=day("2021-10-01"),
        end=day("2022-09-30"),
    )


def test_call_window_passes() -> None:
    case = Case(program("smart-cities-mpsc"))
    record = case.do(_staffel_3("2021-03-14"), CLARA)  # the last day of the third call
    assert record.guideline_version == "2020-12"
    assert verdict_of(record, "R-PROG-MPSC-CALL-WINDOW").message == (
        "received 2021-03-14 while call staffel-3 was open"
    )


def test_call_window_refuses() -> None:
    refusal = Case(program("smart-cities-mpsc")).refused(_staffel_3("2021-03-15"), CLARA)
    assert refusal.rule_ids == ("R-PROG-MPSC-CALL-WINDOW",)
    assert verdict_of(refusal, "R-PROG-MPSC-CALL-WINDOW").message == (
        "the application was received 2021-03-15, outside the window of call staffel-3 "
        "(2020-12-16 to 2021-03-14)"
    )


# --- phase-cap -------------------------------------------------------------------------------


def test_phase_cap_passes() -> None:
    costs = Decimal("4000000.00")
    cap = Decimal("2500000.00")
    record = mpsc_proposed(phase="strategy", eligible_costs=costs, requested_amount=cap).records[-1]
    assert verdict_of(record, "R-PROG-MPSC-PHASE-CAP").message == (
        "2,500,000.00 EUR is within the strategy phase maximum 2,500,000.00 EUR"
    )


def test_phase_cap_refuses() -> None:
    costs = Decimal("4000000.00")
    asked = apply_rate(costs, MPSC_RATE)  # 2,600,000.00 EUR: within 65 %, above the cap
    refusal = Case(program("smart-cities-mpsc")).refused(
        mpsc_proposal(phase="strategy", eligible_costs=costs, requested_amount=asked), CLARA
    )
    assert refusal.rule_ids == ("R-PROG-MPSC-PHASE-CAP",)
    assert verdict_of(refusal, "R-PROG-MPSC-PHASE-CAP").message == (
        "2,600,000.00 EUR is more than the strategy phase allows (2,500,000.00 EUR)"
    )


# --- attestations ----------------------------------------------------------------------------


def test_attestations_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "R-PROG-DMR-STANDARDS").message == (
        "attested: it-standards, portal-interop, transferability, ozg, free-reuse"
    )
    # the de-minimis declaration is asked of businesses only: a municipality is not judged
    assert "R-STATE-AID-DEMINIMIS" not in [v.rule_id for v in record.verdicts]


def test_attestations_refuses() -> None:
    case = dmr_proposed(attestations=frozenset({"it-standards", "ozg"}))
    refusal = case.refused(dmr_approval(attestations=frozenset({"free-reuse"})), ANTON)
    assert refusal.rule_ids == ("R-PROG-DMR-STANDARDS",)
    assert verdict_of(refusal, "R-PROG-DMR-STANDARDS").message == (
        "missing attestation(s) before approve: portal-interop, transferability"
    )


def test_attestations_refuses_without_a_council_resolution() -> None:
    refusal = mpsc_proposed().refused(mpsc_approval(attestations=frozenset()), ANTON)
    assert refusal.rule_ids == ("R-OWN-CONTRIBUTION",)
    assert verdict_of(refusal, "R-OWN-CONTRIBUTION").message == (
        "missing attestation(s) before approve: council-resolution"
    )


def test_attestations_by_applicant_kind() -> None:
    business = Applicant("Digital GmbH", ApplicantKind.BUSINESS)
    half = apply_rate(DMR_COSTS, Decimal("0.50"))
    case = dmr_proposed(applicant=business, requested_amount=half)
    refusal = case.refused(dmr_approval(), ANTON)
    assert verdict_of(refusal, "R-STATE-AID-DEMINIMIS").message == (
        "missing attestation(s) before approve: de-minimis-declaration"
    )
    declared = DMR_ATTESTATIONS | {"de-minimis-declaration"}
    record = case.do(dmr_approval(attestations=declared), ANTON)
    assert verdict_of(record, "R-STATE-AID-DEMINIMIS").passed


# --- minimum-amount (R-BAGATELLE, soft) --------------------------------------------------------


def test_minimum_amount_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "R-BAGATELLE").message == (
        "800,000.00 EUR is at least the minimum grant of 12,500.00 EUR"
    )


def test_minimum_amount_refuses() -> None:
    case = dmr_proposed(eligible_costs=SMALL_COSTS, requested_amount=SMALL)
    refusal = case.refused(dmr_approval(), ANTON)
    assert refusal.rule_ids == ("R-BAGATELLE",)
    v = verdict_of(refusal, "R-BAGATELLE")
    assert v.severity is Severity.SOFT
    assert v.message == "9,600.00 EUR is below the minimum grant of 12,500.00 EUR"


def test_minimum_amount_by_applicant_kind() -> None:
    """Non-municipal recipients: 2,000.00 EUR (NRW VV Nr. 1.1)."""
    costs = Decimal("3000.00")
    research = Applicant("Bergische Universität Wuppertal", ApplicantKind.RESEARCH)
    case = dmr_proposed(
        applicant=research,
        region="wuppertal",
        eligible_costs=costs,
        requested_amount=apply_rate(costs, Decimal("0.60")),
    )
    refusal = case.refused(dmr_approval(), ANTON)
    assert verdict_of(refusal, "R-BAGATELLE").message == (
        "1,800.00 EUR is below the minimum grant of 2,000.00 EUR"
    )


# --- full-financing --------------------------------------------------------------------------


def test_full_financing_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "R-FULL-FINANCING-SECURED").message == (
        "financing 1,000,000.00 EUR covers eligible costs 1,000,000.00 EUR"
    )


def test_full_financing_refuses() -> None:
    case = dmr_proposed()  # own funds default to costs - request = 200,000.00 EUR
    assert case.current.own_funds == DMR_COSTS - REQUESTED
    lower = REQUESTED - Decimal("100000.00")
    refusal = case.refused(dmr_approval(amount=lower), ANTON)
    assert refusal.rule_ids == ("R-FULL-FINANCING-SECURED",)
    assert verdict_of(refusal, "R-FULL-FINANCING-SECURED").message == (
        "grant 700,000.00 EUR + own funds 200,000.00 EUR + third-party funds 0.00 EUR = "
        "900,000.00 EUR do not cover eligible costs 1,000,000.00 EUR (gap 100,000.00 EUR)"
    )


def test_full_financing_does_not_judge_a_partial_revocation() -> None:
    """An amendment that lowers the grant binds less money; raising it again is checked."""
    case = dmr_running()
    lower = REQUESTED - Decimal("100000.00")
    cut = case.do(Amend(date=day("2019-06-01"), notice_number="Ä1", amount=lower), ANTON)
    assert "R-FULL-FINANCING-SECURED" not in [v.rule_id for v in cut.verdicts]
    back = case.do(Amend(date=day("2019-07-01"), notice_number="Ä2", amount=REQUESTED), ANTON)
    assert verdict_of(back, "R-FULL-FINANCING-SECURED").message == (
        "financing 1,000,000.00 EUR covers eligible costs 1,000,000.00 EUR"
    )


# --- early-start -----------------------------------------------------------------------------


def test_early_start_passes() -> None:
    case = dmr_proposed(start=day("2019-03-01"))
    consent = DMR_ATTESTATIONS | {"early-start-consent"}
    record = case.do(dmr_approval(attestations=consent), ANTON)
    assert verdict_of(record, "R-EARLY-START").passed


def test_early_start_refuses() -> None:
    case = dmr_proposed(start=day("2019-03-01"))
    refusal = case.refused(dmr_approval(), ANTON)
    assert refusal.rule_ids == ("R-EARLY-START",)
    assert verdict_of(refusal, "R-EARLY-START").message == (
        "the project starts 2019-03-01, before the notice of 2019-03-15, and no "
        "'early-start-consent' is recorded"
    )


# --- program-horizon (R-ANNUALITY) -----------------------------------------------------------


def test_program_horizon_passes() -> None:
    record = dmr_approved().records[-1]
    assert verdict_of(record, "R-ANNUALITY").message == (
        "ends 2020-12-31, within the program's funds until 2021-12-31"
    )


def test_program_horizon_refuses() -> None:
    refusal = dmr_proposed().refused(dmr_approval(end=day("2022-06-30")), ANTON)
    assert refusal.rule_ids == ("R-ANNUALITY",)
    assert verdict_of(refusal, "R-ANNUALITY").message == (
        "the funding period would end 2022-06-30, after the program's funds end 2021-12-31 "
        "(guideline version 2018-07)"
    )


# --- payout-finality -------------------------------------------------------------------------

FIRST_PAYMENT = Decimal("100000.00")


def test_payout_finality_passes() -> None:
    case = dmr_running()
    waived = Disburse(
        date=day("2019-04-01"), amount=FIRST_PAYMENT, attestations=frozenset({"remedy-waiver"})
    )
    record = case.do(waived, FINN)
    assert verdict_of(record, "R-PAYOUT-FINALITY").message == (
        "the recipient waived legal remedies; the notice is final"
    )
    later = case.do(Disburse(date=day("2019-05-02"), amount=FIRST_PAYMENT), FINN)
    assert verdict_of(later, "R-PAYOUT-FINALITY").message == (
        "the recipient waived legal remedies; the notice is final"
    )


def test_payout_finality_refuses() -> None:
    case = dmr_running()  # notice of 2019-03-15: final 30 days later, on 2019-04-14
    refusal = case.refused(Disburse(date=day("2019-04-13"), amount=FIRST_PAYMENT), FINN)
    assert refusal.rule_ids == ("R-PAYOUT-FINALITY",)
    assert verdict_of(refusal, "R-PAYOUT-FINALITY").message == (
        "the notice of 2019-03-15 is final only from 2019-04-14 (30 days), and no "
        "'remedy-waiver' is recorded"
    )
    record = case.do(Disburse(date=day("2019-04-14"), amount=FIRST_PAYMENT), FINN)
    assert verdict_of(record, "R-PAYOUT-FINALITY").message == (
        "the notice has been final since 2019-04-14"
    )


# --- drawdown-window -------------------------------------------------------------------------


def test_drawdown_window_passes() -> None:
    case = dmr_running()
    record = case.do(
        Disburse(date=day("2019-05-02"), amount=FIRST_PAYMENT, needed_by=day("2019-07-02")), FINN
    )
    assert verdict_of(record, "R-DRAWDOWN-2M").message == "needed by 2019-07-02, within 2 months"


def test_drawdown_window_refuses() -> None:
    case = dmr_running()
    refusal = case.refused(
        Disburse(date=day("2019-05-02"), amount=FIRST_PAYMENT, needed_by=day("2019-07-03")), FINN
    )
    assert refusal.rule_ids == ("R-DRAWDOWN-2M",)
    assert verdict_of(refusal, "R-DRAWDOWN-2M").message == (
        "100,000.00 EUR requested on 2019-05-02 is needed only by 2019-07-03, later than "
        "2 months after payout (2019-07-02)"
    )


# --- final-installment (no packaged guideline uses it: a one-rule program) ----------------------

FINAL_INSTALLMENT = """
[[versions.rules]]
id = "R-FINAL-INSTALLMENT"
kind = "final-installment"
citation = "Schlussrate bis zur Prüfung des Verwendungsnachweises (Beispiel)"
[versions.rules.params]
retained_rate = "0.10"
"""
MINI_AMOUNT = Decimal("100000.00")


def _mini_running(mini: Program) -> Case:
    case = Case(mini)
    case.do(
        Propose(
            date=day("2020-02-01"),
            program_id="mini",
            title="Testvorhaben",
            applicant=Applicant("Gemeinde Musterdorf", ApplicantKind.MUNICIPALITY),
            eligible_costs=MINI_AMOUNT,
            requested_amount=MINI_AMOUNT,
            start=day("2020-03-01"),
            end=day("2020-12-31"),
        ),
        CLARA,
    )
    case.do(Approve(date=day("2020-02-15"), notice_number="M-1"), ANTON)
    case.do(Start(date=day("2020-03-01")), CLARA)
    return case


def test_final_installment_passes() -> None:
    case = _mini_running(mini_program(FINAL_INSTALLMENT))
    payable = MINI_AMOUNT - apply_rate(MINI_AMOUNT, Decimal("0.10"))  # 90,000.00 EUR
    record = case.do(Disburse(date=day("2020-04-01"), amount=payable), FINN)
    assert verdict_of(record, "R-FINAL-INSTALLMENT").message == (
        "payments of 90,000.00 EUR leave the final instalment held back"
    )


def test_final_installment_refuses() -> None:
    case = _mini_running(mini_program(FINAL_INSTALLMENT))
    refusal = case.refused(Disburse(date=day("2020-04-01"), amount=Decimal("95000.00")), FINN)
    assert refusal.rule_ids == ("R-FINAL-INSTALLMENT",)
    v = verdict_of(refusal, "R-FINAL-INSTALLMENT")
    assert v.severity is Severity.SOFT
    assert v.message == (
        "payments would reach 95,000.00 EUR, but 10 % of 100,000.00 EUR is held back until "
        "the proof of use is checked (at most 90,000.00 EUR before closing)"
    )
    record = case.do(
        Disburse(
            date=day("2020-04-01"),
            amount=Decimal("95000.00"),
            overrides=(Override("R-FINAL-INSTALLMENT", "Schlussrate nach Vor-Ort-Prüfung"),),
        ),
        FIONA,  # finance and approver: may pay and may override
    )
    assert verdict_of(record, "R-FINAL-INSTALLMENT").overridden


# --- annual-funds (R-ANNUALITY) ---------------------------------------------------------------

ANNUAL_FUNDS = """
[[versions.rules]]
id = "R-ANNUALITY"
kind = "annual-funds"
citation = "§ 45 LHO (Jährlichkeit); Haushaltsansatz je Haushaltsjahr (Beispiel)"
[versions.rules.params]
funds = {{ "2020" = "500000.00", "2021" = "300000.00" }}
{extra}
"""


def _paid_so_far(**years: str) -> Exposure:
    return Exposure(year_disbursed={int(y[1:]): Decimal(a) for y, a in years.items()})


def test_annual_funds_passes() -> None:
    case = _mini_running(mini_program(ANNUAL_FUNDS.format(extra="")))
    record = case.do(
        Disburse(date=day("2020-04-01"), amount=Decimal("40000.00")),
        FINN,
        _paid_so_far(y2020="450000.00"),
    )
    assert verdict_of(record, "R-ANNUALITY").message == (
        "40,000.00 EUR fits into the 50,000.00 EUR left of the funds of budget year 2020 "
        "(500,000.00 EUR)"
    )


def test_annual_funds_refuses() -> None:
    case = _mini_running(mini_program(ANNUAL_FUNDS.format(extra="")))
    refusal = case.refused(
        Disburse(date=day("2020-04-01"), amount=Decimal("60000.00")),
        FINN,
        _paid_so_far(y2020="450000.00"),
    )
    assert refusal.rule_ids == ("R-ANNUALITY",)
    assert verdict_of(refusal, "R-ANNUALITY").message == (
        "a payment of 60,000.00 EUR is more than the 50,000.00 EUR left of the funds of budget "
        "year 2020 (500,000.00 EUR, of which 450,000.00 EUR is paid out)"
    )


def test_annual_funds_without_funds_for_the_year_refuses() -> None:
    case = _mini_running(mini_program(ANNUAL_FUNDS.format(extra="")))
    refusal = case.refused(
        Disburse(date=day("2022-01-10"), amount=Decimal("1000.00")), FINN, _paid_so_far()
    )
    assert verdict_of(refusal, "R-ANNUALITY").message == (
        "the guideline has no funds for payments in budget year 2022 (years with funds: 2020, 2021)"
    )


def test_annual_funds_with_carry_over_adds_what_earlier_years_left() -> None:
    case = _mini_running(mini_program(ANNUAL_FUNDS.format(extra="carry_over = true")))
    paid = _paid_so_far(y2020="450000.00", y2021="300000.00")
    # 2021 alone is spent, but 50,000.00 EUR of 2020 carried over
    record = case.do(Disburse(date=day("2021-02-01"), amount=Decimal("50000.00")), FINN, paid)
    assert verdict_of(record, "R-ANNUALITY").message == (
        "50,000.00 EUR fits into the 50,000.00 EUR left of the funds of the budget years up to "
        "2021, carried over (800,000.00 EUR)"
    )
    refusal = case.refused(
        Disburse(date=day("2021-03-01"), amount=Decimal("0.01")),
        FINN,
        _paid_so_far(y2020="450000.00", y2021="350000.00"),
    )
    assert refusal.rule_ids == ("R-ANNUALITY",)


def test_annual_funds_need_a_table_of_years() -> None:
    with pytest.raises(BadInput, match=r"funds\.twenty"):
        mini_program(
            ANNUAL_FUNDS.format(extra="").replace('"2021" = "300000.00"', '"twenty" = "1.00"')
        )


def test_exposure_of_grants_sums_payments_by_budget_year() -> None:
    case = _mini_running(mini_program(""))
    case.do(Disburse(date=day("2020-04-01"), amount=Decimal("30000.00")), FINN)
    case.do(Disburse(date=day("2020-05-02"), amount=Decimal("20000.00")), FINN)
    assert Exposure.of([case.current]).year_disbursed == {2020: Decimal("50000.00")}


# --- extension -------------------------------------------------------------------------------


def test_extension_passes() -> None:
    case = dmr_running()
    record = case.do(
        Extend(
            date=day("2021-01-10"),
            requested_on=day("2020-11-30"),
            until=day("2021-06-30"),
            notice_number="Ä1",
        ),
        ANTON,
    )
    assert verdict_of(record, "R-EXTENSION").message == (
        "applied for on 2020-11-30, before the period ended 2020-12-31"
    )


def test_extension_refuses() -> None:
    case = dmr_running()
    late = Extend(
        date=day("2021-01-20"),
        requested_on=day("2021-01-15"),
        until=day("2021-06-30"),
        notice_number="Ä1",
    )
    refusal = case.refused(late, ANTON)
    assert refusal.rule_ids == ("R-EXTENSION",)
    v = verdict_of(refusal, "R-EXTENSION")
    assert v.severity is Severity.SOFT
    assert v.message == (
        "the extension was applied for on 2021-01-15, after the funding period ended on 2020-12-31"
    )


# --- proof-deadline (R-PROOF-6M) -------------------------------------------------------------


def test_proof_deadline_passes() -> None:
    case = dmr_paid(FIRST_PAYMENT)
    record = case.do(
        Close(date=day("2021-07-15"), proof_date=day("2021-06-30"), final_costs=DMR_COSTS), ANTON
    )
    assert verdict_of(record, "R-PROOF-6M").message == (
        "the proof of use arrived 2021-06-30, by 2021-06-30 (end of the 6th month after the "
        "period ended 2020-12-31)"
    )


def test_proof_deadline_refuses() -> None:
    case = dmr_paid(FIRST_PAYMENT)
    refusal = case.refused(
        Close(date=day("2021-07-15"), proof_date=day("2021-07-05"), final_costs=DMR_COSTS), ANTON
    )
    assert refusal.rule_ids == ("R-PROOF-6M",)
    assert verdict_of(refusal, "R-PROOF-6M").message == (
        "the proof of use arrived 2021-07-05, 5 days after it was due on 2021-06-30 "
        "(end of the 6th month after the period ended 2020-12-31)"
    )


def test_proof_deadline_of_an_mpsc_phase_counts_from_the_notice() -> None:
    """MPSC phase A: proof at the latest 30 months after the Zusage."""
    case = Case(program("smart-cities-mpsc"))
    case.do(_staffel_3("2021-03-10"), CLARA)
    case.do(mpsc_approval(date=day("2021-09-01")), ANTON)
    case.do(Start(date=day("2021-10-01")), CLARA)
    costs = case.current.eligible_costs
    late = Close(date=day("2024-03-20"), proof_date=day("2024-03-11"), final_costs=costs)
    refusal = case.refused(late, ANTON)
    assert verdict_of(refusal, "R-PROOF-6M").message == (
        "the proof of use arrived 2024-03-11, 10 days after it was due on 2024-03-01 "
        "(30 months after the notice of 2021-09-01)"
    )


def test_proof_deadline_names_the_month_as_an_ordinal() -> None:
    mini = mini_program(
        """
[[versions.rules]]
id = "R-PROOF-6M"
kind = "proof-deadline"
citation = "Programmvorgabe: zwei Monate"
[versions.rules.params]
months_after_period_end = 2
"""
    )
    case = _mini_running(mini)  # funding period ends 2020-12-31: proof due by 2021-02-28
    late = Close(date=day("2021-03-10"), proof_date=day("2021-03-01"), final_costs=MINI_AMOUNT)
    assert verdict_of(case.refused(late, ANTON), "R-PROOF-6M").message == (
        "the proof of use arrived 2021-03-01, 1 day after it was due on 2021-02-28 "
        "(end of the 2nd month after the period ended 2020-12-31)"
    )


# --- revocation-window (R-ASSET-BINDING) -----------------------------------------------------


def _dmr_closed() -> Case:
    case = dmr_paid(REQUESTED)
    case.do(
        Close(date=day("2021-03-01"), proof_date=day("2021-02-15"), final_costs=DMR_COSTS), ANTON
    )
    return case


def test_revocation_window_passes() -> None:
    case = _dmr_closed()
    assert case.current.notice is not None
    assert case.current.notice.purpose_binding_years == 5  # from the guideline version
    record = case.do(
        Revoke(date=day("2026-03-01"), notice_number="W-1", reason="Zweckentfremdung"), ANTON
    )
    assert verdict_of(record, "R-ASSET-BINDING").message == (
        "the binding or retention period runs until 2026-03-01"
    )
    assert case.current.state is State.REVOKED
    assert case.current.refund_claim == REQUESTED


def test_revocation_window_refuses() -> None:
    case = _dmr_closed()
    refusal = case.refused(
        Revoke(date=day("2026-03-02"), notice_number="W-1", reason="Zweckentfremdung"), ANTON
    )
    assert refusal.rule_ids == ("R-ASSET-BINDING",)
    assert verdict_of(refusal, "R-ASSET-BINDING").message == (
        "the grant closed 2021-03-01; its purpose-binding and record-retention periods ended "
        "2026-03-01, before 2026-03-02"
    )


# --- revocation-deadline (R-REVOKE-LAWFUL) ---------------------------------------------------


def test_revocation_deadline_passes() -> None:
    case = dmr_running()
    record = case.do(
        Revoke(
            date=day("2020-06-01"),
            notice_number="W-1",
            known_since=day("2019-06-01"),
            reason="Auflage nicht erfüllt",
        ),
        ANTON,
    )
    assert verdict_of(record, "R-REVOKE-LAWFUL").message == (
        "within a year of 2019-06-01 (until 2020-06-01)"
    )


def test_revocation_deadline_refuses() -> None:
    case = dmr_running()
    refusal = case.refused(
        Revoke(
            date=day("2020-06-02"),
            notice_number="W-1",
            known_since=day("2019-06-01"),
            reason="Auflage nicht erfüllt",
        ),
        ANTON,
    )
    assert refusal.rule_ids == ("R-REVOKE-LAWFUL",)
    assert verdict_of(refusal, "R-REVOKE-LAWFUL").message == (
        "the facts were known since 2019-06-01; the one-year deadline ended 2020-06-01, "
        "before 2020-06-02"
    )


# --- reasons (R-REJECTION-FORM) --------------------------------------------------------------


def test_reasons_passes() -> None:
    case = dmr_proposed()
    record = case.do(Reject(date=day("2019-03-15"), reason="Keine Haushaltsmittel mehr"), ANTON)
    assert verdict_of(record, "R-REJECTION-FORM").message == "written reasons are given"
    assert case.current.state is State.REJECTED


def test_reasons_refuses() -> None:
    refusal = dmr_proposed().refused(Reject(date=day("2019-03-15"), reason="  "), ANTON)
    assert refusal.rule_ids == ("R-REJECTION-FORM",)
    assert verdict_of(refusal, "R-REJECTION-FORM").message == (
        "a reject needs written reasons, and none were given"
    )


# --- renounce (R-WITHDRAW-RENOUNCE) ----------------------------------------------------------


def test_renounce_passes() -> None:
    case = dmr_approved()
    record = case.do(Withdraw(date=day("2019-03-20"), reason="Verzicht"), CLARA)
    assert verdict_of(record, "R-WITHDRAW-RENOUNCE").message == "nothing has been paid yet"
    assert case.current.state is State.WITHDRAWN


def test_renounce_refuses() -> None:
    case = dmr_paid(FIRST_PAYMENT)
    refusal = case.refused(Withdraw(date=day("2019-06-01"), reason="Verzicht"), CLARA)
    assert refusal.rule_ids == ("GF-RENOUNCE", "R-WITHDRAW-RENOUNCE")
    assert verdict_of(refusal, "R-WITHDRAW-RENOUNCE").message == (
        "100,000.00 EUR has already been paid; renouncing now is a revocation with a refund "
        "(revoke), not a withdrawal"
    )
    # the core rule that no guideline can switch off (tests/services/test_core_invariants.py)
    assert verdict_of(refusal, "GF-RENOUNCE").message == (
        "100,000.00 EUR has already been paid out on grant G-1; a withdrawal would leave it "
        "with neither a commitment nor a refund claim: renouncing now is a revocation with a "
        "refund (revoke), not a withdrawal (R-WITHDRAW-RENOUNCE)"
    )


# --- MPSC end to end: Iserlohn, 2nd call, directly into implementation -------------------------


def test_iserlohn_enters_the_implementation_phase_directly() -> None:
    case = mpsc_approved()
    approval = case.records[-1]
    assert approval.guideline_id == "smart-cities-mpsc"
    assert approval.guideline_version == "2019-03"
    assert case.current.phase == "implementation"
    assert case.current.approved_amount == apply_rate(MPSC_COSTS, MPSC_RATE)
    assert verdict_of(approval, "R-PROG-MPSC-PHASE-CAP").message == (
        "1,755,000.00 EUR is within the implementation phase maximum 15,000,000.00 EUR"
    )
    assert all(v.passed for v in approval.verdicts)


def test_gf_override_refuses_a_hard_rule_even_when_it_passes() -> None:
    """Naming a hard rule in an override is refused although that rule would have passed."""
    case = dmr_proposed()
    override = Override("R-FUNDING-TYPE", "vorsorglich")
    refusal = case.refused(dmr_approval(overrides=(override,)), ANTON)
    assert refusal.rule_ids == ("GF-OVERRIDE",)
    assert verdict_of(refusal, "GF-OVERRIDE").message == (
        "R-FUNDING-TYPE is a hard rule; nobody can override it"
    )


def test_early_start_judges_the_start_fixed_by_the_notice() -> None:
    """The notice may fix an earlier start than applied for; that start is the one judged."""
    case = dmr_proposed()
    refusal = case.refused(dmr_approval(start=day("2019-03-01")), ANTON)
    assert refusal.rule_ids == ("R-EARLY-START",)
    assert verdict_of(refusal, "R-EARLY-START").message.startswith(
        "the project starts 2019-03-01, before the notice of 2019-03-15"
    )


def test_revocation_deadline_says_when_it_cannot_be_checked() -> None:
    case = dmr_running()
    record = case.do(
        Revoke(date=day("2020-06-02"), notice_number="W-1", reason="Auflage nicht erfüllt"),
        ANTON,
    )
    v = verdict_of(record, "R-REVOKE-LAWFUL")
    assert v.passed and "not checked" in v.message


def test_ceiling_judges_spending_reports() -> None:
    """Grant money reported as used cannot exceed what was paid out (GF-CEILING)."""
    from grantflow.domain.commands import Submit
    from grantflow.domain.model import Document

    case = dmr_paid(Decimal("300000.00"))
    record = case.do(
        Submit(date=day("2019-06-01"), document=Document.SPENDING_REPORT, amount=Decimal("200000")),
        CLARA,
    )
    assert verdict_of(record, "GF-CEILING").message == (
        "grant money used 200,000.00 EUR stays within 300,000.00 EUR paid"
    )
    refusal = case.refused(
        Submit(
            date=day("2019-06-02"), document=Document.SPENDING_REPORT, amount=Decimal("100000.01")
        ),
        CLARA,
    )
    assert refusal.rule_ids == ("GF-CEILING",)
    assert verdict_of(refusal, "GF-CEILING").message == (
        "reporting 100,000.01 EUR as used would bring grant money used to 300,000.01 EUR, "
        "more than the 300,000.00 EUR paid out"
    )
