"""Hypothesis strategies for grantflow's domain: amounts, dates, actors, applicants, proposals
and the command of every event.

Two kinds of strategies live here:

* free ones (:func:`amounts`, :func:`dates`, :func:`any_command`, ...) that cover the value
  space, for round trips and properties that hold for any input;
* grant-aware ones (:func:`proposals`, :func:`command_for`) that draw data *relative to a grant
  and a program*: mostly plausible (dates moving forward, amounts within what is left),
  sometimes wrong on purpose (dates out of order, amounts too large, stray overrides), so that
  a state machine walks long paths and still meets every kind of refusal.

The grant-aware strategies draw plain integers and build the values themselves (a new strategy
object per draw is slow). Every "sometimes wrong" choice is drawn so that it shrinks towards
the plausible value: a minimal failing example takes the ordinary path wherever it can.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import strategies as st

from grantflow.domain.commands import (
    Amend,
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Reject,
    Repay,
    Revoke,
    Start,
    Submit,
    Withdraw,
)
from grantflow.domain.guideline import Program
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Document,
    Event,
    FinancingType,
    Grant,
    Override,
    RevocationEffect,
    Role,
)
from grantflow.domain.money import CENT, ZERO

STANDARDS = ("it-standards", "portal-interop", "transferability", "ozg", "free-reuse")
"""The attestations the NRW guideline (R-PROG-DMR-STANDARDS) requires before approval."""
OTHER_ATTESTATIONS = ("remedy-waiver", "early-start-consent", "de-minimis-declaration")
SOFT_RULES = ("R-BAGATELLE", "R-EXTENSION", "R-PROOF-6M")
HARD_RULES = ("R-FUNDING-TYPE", "GF-CHRONOLOGY", "R-DRAWDOWN-2M", "GF-CEILING")
OVERRIDE_FOR: dict[Event, str] = {
    Event.APPROVE: "R-BAGATELLE",
    Event.EXTEND: "R-EXTENSION",
    Event.CLOSE: "R-PROOF-6M",
}
"""The soft rule an approver would plausibly override for each event."""

# --------------------------------------------------------------------------------------------
# Free values
# --------------------------------------------------------------------------------------------


def amounts(
    min_value: Decimal = Decimal("0.01"), max_value: Decimal = Decimal("100000000.00")
) -> st.SearchStrategy[Decimal]:
    """Euro amounts with exactly two decimal places."""
    lo, hi = int(min_value / CENT), int(max_value / CENT)
    return st.integers(lo, hi).map(lambda cents: Decimal(cents) * CENT)


def dates(
    min_value: dt.date = dt.date(2018, 1, 1), max_value: dt.date = dt.date(2024, 12, 31)
) -> st.SearchStrategy[pendulum.Date]:
    return st.dates(min_value, max_value).map(lambda d: pendulum.Date(d.year, d.month, d.day))


def aware_datetimes() -> st.SearchStrategy[pendulum.DateTime]:
    """Timezone-aware recording times, in UTC or in Europe/Berlin (DST gaps and folds too)."""
    zones = st.sampled_from([dt.UTC, ZoneInfo("Europe/Berlin")])
    return st.datetimes(
        dt.datetime(2018, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        dt.datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=zones,
    ).map(pendulum.instance)


names = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "Zs")), min_size=1, max_size=24
).filter(lambda s: s.strip())
role_sets = st.frozensets(st.sampled_from(list(Role)), max_size=3)
actors = st.builds(Actor, name=names, roles=role_sets)
overrides = st.builds(
    Override,
    rule_id=st.sampled_from(SOFT_RULES + HARD_RULES),
    justification=st.sampled_from(["Einzelfallentscheidung", "Härtefall"]),
)
REASONS = (
    "Fördervoraussetzungen nicht erfüllt",
    "Zweck nicht erreicht",
    "Projekt aufgegeben",
    "Mittel zweckwidrig verwendet",
)

# --------------------------------------------------------------------------------------------
# Drawing helpers for the grant-aware strategies
# --------------------------------------------------------------------------------------------


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


def share(draw: st.DrawFn, base: Decimal, lo: str, hi: str) -> Decimal:
    """``base`` times a fraction in ``[lo, hi]`` (four decimal places), in cents."""
    f = draw(st.integers(int(Decimal(lo) * 10000), int(Decimal(hi) * 10000)))
    return (base * f / 10000).quantize(CENT)


def after(draw: st.DrawFn, day: pendulum.Date, forward: int = 90, back: int = 60) -> pendulum.Date:
    """A date 0..``forward`` days after ``day``; about once in ten up to ``back`` days before."""
    if rarely(draw, 10):
        return day.subtract(days=draw(st.integers(1, back)))
    return day.add(days=draw(st.integers(0, max(0, forward))))


def notice_number(draw: st.DrawFn, kind: str) -> str:
    return f"DMR-{kind}-{draw(st.integers(1, 9999))}"


def extras(draw: st.DrawFn, event: Event) -> dict[str, Any]:
    """Reason, overrides and extra attestations a command may carry.

    About one command in eight carries an override: mostly of the soft rule an approver would
    plausibly override for this event, otherwise of any rule (often a hard one, or one that
    does not judge this event: both refused as GF-OVERRIDE).
    """
    out: dict[str, Any] = {
        "reason": "" if rarely(draw, 12) else draw(st.sampled_from(REASONS)),
        "overrides": (),
        "attestations": frozenset(),
    }
    if rarely(draw, 8):
        plausible = OVERRIDE_FOR.get(event)
        if plausible and not rarely(draw, 3):
            out["overrides"] = (Override(plausible, "Einzelfallentscheidung"),)
        else:
            out["overrides"] = (draw(overrides),)
    if rarely(draw, 6):
        out["attestations"] = draw(st.frozensets(st.sampled_from(OTHER_ATTESTATIONS), min_size=1))
    return out


def horizon(program: Program, day: pendulum.Date) -> pendulum.Date | None:
    """When the funds of the version in force on ``day`` end (``None``: no version yet)."""
    in_force = [v for v in program.versions if v.effective_from <= day]
    return max(in_force, key=lambda v: v.effective_from).funds_until if in_force else None


# --------------------------------------------------------------------------------------------
# Applicants and proposals
# --------------------------------------------------------------------------------------------


@st.composite
def applicants(draw: st.DrawFn, program: Program, day: pendulum.Date) -> tuple[Applicant, str]:
    """An applicant and the region it applies in, under the version in force on ``day``.

    Mostly a municipality or institution the guideline names, in its own region, sometimes with
    partners of that region as a consortium; sometimes an applicant the guideline does not
    know (any kind, any region), or a known one in the wrong region.
    """
    version = program.version_at(day)
    regions = [r.id for r in version.regions]
    known = [a for a in version.applicants if a.region]
    if known and not rarely(draw, 5):
        lead = draw(st.sampled_from(known))
        region = lead.region or draw(st.sampled_from(regions))
        if rarely(draw, 12):
            region = draw(st.sampled_from(regions))  # perhaps the wrong one
        partners = [a.name for a in known if a.region == region and a.name != lead.name]
        members: tuple[str, ...] = ()
        if partners and rarely(draw, 3):
            members = tuple(draw(st.lists(st.sampled_from(partners), max_size=2, unique=True)))
        return Applicant(lead.name, lead.kind, members), region
    kind = draw(st.sampled_from(list(ApplicantKind)))
    lead_name = f"Antragsteller {draw(st.integers(1, 999))}"
    return Applicant(lead_name, kind), draw(st.sampled_from(regions))


@st.composite
def proposals(draw: st.DrawFn, program: Program) -> Propose:
    """An application to ``program`` with eligible costs from 10,000 EUR to 60 M EUR.

    The requested share is mostly within the rate for the applicant's kind and sometimes above;
    own funds are mostly left to their default (the gap), sometimes given (and then sometimes
    too small); the project mostly starts after an approval could come and ends within the
    funds of the guideline version in force.
    """
    first = program.versions[0].effective_from
    day = first.add(days=draw(st.integers(0, (pendulum.Date(2021, 9, 30) - first).in_days())))
    applicant, region = draw(applicants(program, day))
    version = program.version_at(day)
    focus = draw(st.sampled_from([f.id for f in version.focus_areas]))
    # a scale, then 1 to 6 times it: 100,000 EUR .. 60 M EUR, spread over three magnitudes (some
    # exceed a region's envelope alone, a few together exhaust it); rarely 10,000 .. 60,000 EUR
    # (small grants meet the minimum amount, R-BAGATELLE)
    scale = 10_000 if rarely(draw, 8) else draw(st.sampled_from([100_000, 1_000_000, 10_000_000]))
    cents = scale * draw(st.integers(100, 600))
    eligible = Decimal(cents) * CENT
    if rarely(draw, 4):
        requested = share(draw, eligible, "0.50", "1.00")  # often above the rate
    else:
        requested = share(draw, eligible, "0.25", "0.50")
    requested = max(requested, CENT)
    private = ZERO if not rarely(draw, 4) else share(draw, eligible - requested, "0", "0.5")
    own: Decimal | None = None
    if rarely(draw, 8):
        gap = max(ZERO, eligible - requested - private)
        own = share(draw, gap, "0.8", "2.0")  # below the gap: full financing fails
    start = day.add(days=draw(st.integers(15, 180)))
    end = start.add(days=draw(st.integers(120, 1100)))
    if not rarely(draw, 8):  # mostly within the horizon of the version in force
        end = max(start, min(end, version.funds_until))
    attested = frozenset(STANDARDS)
    if rarely(draw, 8):
        attested = draw(st.frozensets(st.sampled_from(STANDARDS)))
    if rarely(draw, 6):
        attested |= draw(st.frozensets(st.sampled_from(OTHER_ATTESTATIONS), min_size=1))
    return Propose(
        date=day,
        program_id=program.id,
        title=draw(st.sampled_from(["Bürgerportal", "Smarte Mobilität", "Digitales Rathaus"])),
        applicant=applicant,
        region=region,
        focus=focus,
        eligible_costs=eligible,
        requested_amount=requested,
        private_funds=private,
        own_funds=own,
        start=start,
        end=end,
        attestations=attested,
    )


# --------------------------------------------------------------------------------------------
# The command of every other event, relative to a grant
# --------------------------------------------------------------------------------------------


@st.composite
def command_for(draw: st.DrawFn, event: Event, grant: Grant, program: Program) -> Command:
    """A command for ``event`` on ``grant``: plausible data with a few wrong values mixed in."""
    last = grant.last_business_date
    more = extras(draw, event)
    if event is Event.APPROVE:
        amount = None
        if rarely(draw, 6):
            amount = share(draw, grant.requested_amount, "0.5", "1.2")
        financing = None if not draw(st.booleans()) else draw(st.sampled_from(list(FinancingType)))
        return Approve(
            date=after(draw, last, 45),
            notice_number=notice_number(draw, "B"),
            amount=amount,
            financing_type=financing,
            **more,
        )
    if event is Event.REJECT:
        return Reject(date=after(draw, last), **more)
    if event is Event.WITHDRAW:
        return Withdraw(date=after(draw, last), **more)
    if event is Event.START:
        return Start(date=after(draw, max(last, grant.period.start.subtract(days=20)), 40), **more)
    if event is Event.DISBURSE:
        final_on = grant.notice.date.add(days=30) if grant.notice else last
        day = after(draw, max(last, final_on), 120)
        left = max(grant.approved_amount - grant.disbursed_amount, CENT)
        amount = (
            share(draw, left, "0.6", "1.5") if rarely(draw, 6) else share(draw, left, "0.05", "0.6")
        )
        needed = day.add(days=draw(st.integers(0, 90))) if rarely(draw, 4) else None
        return Disburse(date=day, amount=max(amount, CENT), needed_by=needed, **more)
    if event is Event.EXTEND:
        end = grant.period.end
        day = after(draw, last, (end - last).in_days())
        until = end.add(days=draw(st.integers(1, 400)))
        funds_end = horizon(program, day)
        if funds_end is not None and funds_end > end and not rarely(draw, 6):
            until = min(until, funds_end)
        return Extend(date=day, until=until, notice_number=notice_number(draw, "A"), **more)
    if event is Event.AMEND:
        base = grant.approved_amount or grant.requested_amount
        return Amend(
            date=after(draw, last),
            notice_number=notice_number(draw, "A"),
            amount=share(draw, base, "0.6", "1.25"),
            **more,
        )
    if event is Event.CLOSE:
        near_end = max(last, grant.period.end.subtract(days=60))
        other = None
        if rarely(draw, 5):
            other = share(draw, grant.eligible_costs, "0", "0.6")
        return Close(
            date=after(draw, near_end, 200),
            final_costs=share(draw, grant.eligible_costs, "0.4", "1.2"),
            final_other_funds=other,
            **more,
        )
    if event is Event.SUBMIT:
        document = draw(st.sampled_from(list(Document)))
        day = after(draw, last, 120)
        if document is Document.SPENDING_REPORT:
            left = max(grant.disbursed_amount - grant.used_amount, CENT)
            amount = (
                share(draw, left, "0.5", "1.3")
                if rarely(draw, 5)
                else share(draw, left, "0.1", "1")
            )
            return Submit(date=day, document=document, amount=max(amount, CENT), **more)
        return Submit(date=day, document=document, **more)
    if event is Event.REPAY:
        owed = grant.refund_outstanding
        # mostly part or all of what is owed; sometimes more, or something where nothing is
        amount = (
            share(draw, owed, "0.9", "1.2") if rarely(draw, 5) else share(draw, owed, "0.2", "1")
        )
        return Repay(date=after(draw, last, 120), amount=max(amount, CENT), **more)
    assert event is Event.REVOKE
    known = after(draw, last, 30, 400) if rarely(draw, 5) else None
    effect = RevocationEffect.FUTURE if rarely(draw, 3) else RevocationEffect.PAST
    return Revoke(
        date=after(draw, last, 400),
        notice_number=notice_number(draw, "W"),
        known_since=known,
        effect=effect,
        **more,
    )


# --------------------------------------------------------------------------------------------
# Free commands (any valid field values), for round trips
# --------------------------------------------------------------------------------------------

_common: dict[str, Any] = {
    "date": dates(),
    "reason": st.text(max_size=30),
    "overrides": st.lists(overrides, max_size=2).map(tuple),
    "attestations": st.frozensets(st.sampled_from(STANDARDS + OTHER_ATTESTATIONS)),
}
_optional_date = st.none() | dates()
_optional_amount = st.none() | amounts(ZERO)


@st.composite
def _free_proposal(draw: st.DrawFn) -> Propose:
    start = draw(dates())
    return Propose(
        **{k: draw(v) for k, v in _common.items()},
        program_id=draw(names),
        title=draw(names),
        applicant=Applicant(
            draw(names),
            draw(st.sampled_from(list(ApplicantKind))),
            tuple(draw(st.lists(names, max_size=2))),
        ),
        region=draw(st.none() | names),
        focus=draw(st.none() | names),
        call=draw(st.none() | names),
        phase=draw(st.none() | names),
        eligible_costs=draw(amounts()),
        requested_amount=draw(amounts()),
        private_funds=draw(amounts(ZERO)),
        own_funds=draw(_optional_amount),
        start=start,
        end=start.add(days=draw(st.integers(0, 2000))),
    )


@st.composite
def _free_approval(draw: st.DrawFn) -> Approve:
    start, end = draw(_optional_date), draw(_optional_date)
    if start and end and end < start:
        start, end = end, start
    return Approve(
        **{k: draw(v) for k, v in _common.items()},
        notice_number=draw(names),
        amount=draw(_optional_amount),
        financing_type=draw(st.none() | st.sampled_from(list(FinancingType))),
        start=start,
        end=end,
        purpose_binding_years=draw(st.none() | st.integers(0, 30)),
    )


def any_command() -> st.SearchStrategy[Command]:
    """Any command of any event, with arbitrary (valid) field values."""
    return st.one_of(
        _free_proposal(),
        _free_approval(),
        st.builds(Reject, **_common),
        st.builds(Withdraw, **_common),
        st.builds(Start, **_common),
        st.builds(Disburse, **_common, amount=amounts(), needed_by=_optional_date),
        st.builds(
            Extend, **_common, until=dates(), notice_number=names, requested_on=_optional_date
        ),
        st.builds(Amend, **_common, notice_number=names, amount=amounts(ZERO)),
        st.builds(
            Close,
            **_common,
            final_costs=amounts(ZERO),
            proof_date=_optional_date,
            final_other_funds=_optional_amount,
        ),
        st.builds(
            Revoke,
            **_common,
            notice_number=names,
            effective_from=_optional_date,
            known_since=_optional_date,
        ),
        st.builds(
            Revoke,
            **_common,
            notice_number=names,
            known_since=_optional_date,
            effect=st.just(RevocationEffect.FUTURE),
        ),
        st.builds(Repay, **_common, amount=amounts()),
        st.builds(Submit, **_common, document=st.just(Document.SPENDING_REPORT), amount=amounts()),
        st.builds(
            Submit,
            **_common,
            document=st.just(Document.INTERIM_PROOF),
            year=st.none() | st.integers(2000, 2040),
        ),
        st.builds(Submit, **_common, document=st.just(Document.PROOF_OF_USE)),
    )
