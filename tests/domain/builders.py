"""Builders for the domain tests: actors, commands, and grants moved through the real lifecycle.

Every grant a test uses is made by :func:`grantflow.domain.lifecycle.decide` and
:func:`~grantflow.domain.lifecycle.apply`, checked under the guideline version in force on each
command's business date, exactly as the services do. Nothing here builds a :class:`Grant` by
hand.

The default stories:

* **DMR** (``nrw-digitale-modellregionen``): Stadt Paderborn, region OWL, e-government, eligible
  costs 1,000,000.00 EUR, 80 % requested; applied 2019-02-01, approved 2019-03-15 with the five
  DMR attestations, funding period 2019-04-01 to 2020-12-31.
* **MPSC** (``smart-cities-mpsc``): Stadt Iserlohn, 2nd call, directly into the implementation
  phase, eligible costs 2,700,000.00 EUR ("Projektkosten von 2,7 Millionen Euro werden zu 65
  Prozent gefördert", kommune21.de), applied 2020-04-15, approved 2020-11-16 with the council
  resolution, funding period 2021-01-01 to 2025-12-31.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest

from grantflow.domain import lifecycle
from grantflow.domain.commands import Approve, Command, Disburse, Propose, Start
from grantflow.domain.guideline import Program, ProgramVersion
from grantflow.domain.lifecycle import Evaluation
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Grant,
    Role,
    TransitionRecord,
    Verdict,
)
from grantflow.domain.money import apply_rate
from grantflow.domain.rules import Exposure
from grantflow.errors import RuleViolation
from grantflow.guidelines import load, load_text

NRW = "nrw-digitale-modellregionen"
MPSC = "smart-cities-mpsc"

CLARA = Actor("clara", frozenset({Role.CLERK}))
ANTON = Actor("anton", frozenset({Role.APPROVER}))
BERTA = Actor("berta", frozenset({Role.APPROVER}))
FINN = Actor("finn", frozenset({Role.FINANCE}))
FIONA = Actor("fiona", frozenset({Role.FINANCE, Role.APPROVER}))  # pays, and may override
AUDREY = Actor("audrey", frozenset({Role.AUDITOR}))
PETRA = Actor("petra", frozenset({Role.CLERK, Role.APPROVER}))  # both roles: four-eyes cases

RECORDED_AT = pendulum.datetime(2022, 1, 1, 9, 0, tz="UTC")

DMR_ATTESTATIONS = frozenset(
    {"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"}
)
"""What R-PROG-DMR-STANDARDS requires before a DMR approval."""

GRANT_ID = "G-1"


def day(text: str) -> pendulum.Date:
    return pendulum.Date.fromisoformat(text)


@functools.cache
def program(name: str) -> Program:
    """A packaged program, loaded once per test session."""
    return load(name)


def mini_program(rules: str, *, budget: str = "1000000.00") -> Program:
    """A one-version program with the given ``[[versions.rules]]`` tables and nothing else."""
    text = f"""
schema = 1
[program]
id = "mini"
name = "Mini-Programm"
short = "MINI"

[[versions]]
version = "1"
effective_from = 2020-01-01
title = "Testrichtlinie"
source = "tests/domain/builders.py"
budget = "{budget}"
funds_from = 2020-01-01
funds_until = 2030-12-31
{rules}
"""
    return load_text(text, source="mini")


# --------------------------------------------------------------------------------------------
# Commands with defaults
# --------------------------------------------------------------------------------------------

DMR_COSTS = Decimal("1000000.00")
DMR_RATE = Decimal("0.80")  # municipalities (NRW.BANK)


def dmr_proposal(**changes: Any) -> Propose:
    values: dict[str, Any] = {
        "date": day("2019-02-01"),
        "program_id": NRW,
        "title": "Digitales Bürgerbüro Paderborn",
        "applicant": Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
        "region": "owl",
        "focus": "e-government",
        "eligible_costs": DMR_COSTS,
        "requested_amount": apply_rate(DMR_COSTS, DMR_RATE),
        "start": day("2019-04-01"),
        "end": day("2020-12-31"),
    }
    values.update(changes)
    return Propose(**values)


def dmr_approval(**changes: Any) -> Approve:
    values: dict[str, Any] = {
        "date": day("2019-03-15"),
        "notice_number": "DMR-OWL-2019-1",
        "attestations": DMR_ATTESTATIONS,
    }
    values.update(changes)
    return Approve(**values)


MPSC_COSTS = Decimal("2700000.00")
MPSC_RATE = Decimal("0.65")


def mpsc_proposal(**changes: Any) -> Propose:
    values: dict[str, Any] = {
        "date": day("2020-04-15"),
        "program_id": MPSC,
        "title": "Digitaler Wissenscampus Iserlohn",
        "applicant": Applicant("Stadt Iserlohn", ApplicantKind.MUNICIPALITY),
        "call": "staffel-2",
        "phase": "implementation",
        "eligible_costs": MPSC_COSTS,
        "requested_amount": apply_rate(MPSC_COSTS, MPSC_RATE),
        "start": day("2021-01-01"),
        "end": day("2025-12-31"),
    }
    values.update(changes)
    return Propose(**values)


def mpsc_approval(**changes: Any) -> Approve:
    values: dict[str, Any] = {
        "date": day("2020-11-16"),
        "notice_number": "KfW-436-2020-17",
        "attestations": frozenset({"council-resolution"}),
    }
    values.update(changes)
    return Approve(**values)


# --------------------------------------------------------------------------------------------
# A grant and its records, moved only by decide/apply
# --------------------------------------------------------------------------------------------


@attrs.define
class Case:
    """One grant of one program, with the records that made it."""

    program: Program
    grant: Grant | None = None
    records: list[TransitionRecord] = attrs.field(factory=list)

    def version(self, cmd: Command) -> ProgramVersion:
        return self.program.version_at(cmd.date)

    def check(self, cmd: Command, actor: Actor, exposure: Exposure | None = None) -> Evaluation:
        """Dry run: every verdict, nothing changes."""
        return lifecycle.check(
            self.grant,
            cmd,
            actor=actor,
            version=self.version(cmd),
            exposure=exposure,
            grant_id=GRANT_ID,
        )

    def decide(
        self, cmd: Command, actor: Actor, exposure: Exposure | None = None
    ) -> TransitionRecord:
        return lifecycle.decide(
            self.grant,
            cmd,
            actor=actor,
            version=self.version(cmd),
            recorded_at=RECORDED_AT,
            exposure=exposure,
            grant_id=GRANT_ID if self.grant is None else None,
        )

    def do(self, cmd: Command, actor: Actor, exposure: Exposure | None = None) -> TransitionRecord:
        """Decide and apply: the grant moves on, the record is kept."""
        record = self.decide(cmd, actor, exposure)
        self.grant = lifecycle.apply(self.grant, record)
        self.records.append(record)
        return record

    def refused(
        self, cmd: Command, actor: Actor, exposure: Exposure | None = None
    ) -> RuleViolation:
        """Decide, expecting a refusal; the grant stays as it was."""
        before = self.grant
        with pytest.raises(RuleViolation) as info:
            self.decide(cmd, actor, exposure)
        assert self.grant is before
        return info.value

    @property
    def current(self) -> Grant:
        assert self.grant is not None
        return self.grant


def verdict_of(source: TransitionRecord | RuleViolation | Evaluation, rule_id: str) -> Verdict:
    """The one verdict of ``rule_id`` in a record, a refusal or a dry run."""
    verdicts = source.failures if isinstance(source, RuleViolation) else source.verdicts
    found = [v for v in verdicts if v.rule_id == rule_id]
    assert len(found) == 1, f"{rule_id}: {[v.rule_id for v in verdicts]}"
    return found[0]


def dmr_proposed(**changes: Any) -> Case:
    case = Case(program(NRW))
    case.do(dmr_proposal(**changes), CLARA)
    return case


def dmr_approved(approval: Approve | None = None, **changes: Any) -> Case:
    case = dmr_proposed(**changes)
    case.do(approval or dmr_approval(), ANTON)
    return case


def dmr_running(approval: Approve | None = None, **changes: Any) -> Case:
    """Approved and started on the first day of the funding period."""
    case = dmr_approved(approval, **changes)
    case.do(Start(date=case.current.period.start), CLARA)
    return case


def dmr_paid(amount: Decimal, *, on: str = "2019-05-02", **changes: Any) -> Case:
    """Running, with one payment of ``amount`` (after the notice became final)."""
    case = dmr_running(**changes)
    case.do(Disburse(date=day(on), amount=amount), FINN)
    return case


def mpsc_proposed(**changes: Any) -> Case:
    case = Case(program(MPSC))
    case.do(mpsc_proposal(**changes), CLARA)
    return case


def mpsc_approved(approval: Approve | None = None, **changes: Any) -> Case:
    case = mpsc_proposed(**changes)
    case.do(approval or mpsc_approval(), ANTON)
    return case
