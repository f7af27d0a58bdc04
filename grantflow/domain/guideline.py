"""A funding program and the versions of its guideline (Förderrichtlinie), as the rules see them.

A :class:`Program` has versions, each in force from a business date. A step is checked under the
version in force on its business date (:meth:`Program.version_at`) and the transition record
keeps that version's id. Which version is in force on a day is decided here only
(:func:`in_force`; the store's SQL picks the same one, and refuses a day before the first
version with the same :func:`no_version_in_force`). Versions are built by
``grantflow.guidelines`` from TOML files; this module only holds them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from grantflow.domain.interest import STATUTORY_MARGIN, DayCount
from grantflow.domain.model import Applicant, ApplicantKind, Event, FinancingType
from grantflow.domain.refunds import DRAWDOWN_WINDOW_MONTHS
from grantflow.errors import BadInput, NotFound

if TYPE_CHECKING:
    from grantflow.domain.rules import Rule


def _fold(name: str) -> str:
    """Case- and space-insensitive key for matching names as people type them."""
    return " ".join(name.casefold().split())


@attrs.frozen
class Region:
    """A model region with its lead municipality, partners and envelope (budget share)."""

    id: str
    name: str
    lead: str
    partners: tuple[str, ...] = ()
    envelope: Decimal | None = None


@attrs.frozen
class FocusArea:
    id: str
    name: str
    sub_areas: tuple[str, ...] = ()


@attrs.frozen
class Call:
    """A call for applications (Staffel / Aufruf) with its window and budget."""

    id: str
    name: str
    opens: pendulum.Date
    closes: pendulum.Date
    budget: Decimal | None = None


@attrs.frozen
class Phase:
    id: str
    name: str
    max_amount: Decimal | None = None
    proof_months_after_notice: int | None = None


@attrs.frozen
class KnownApplicant:
    """An applicant the guideline names (matched case-insensitively by name)."""

    name: str
    kind: ApplicantKind
    region: str | None = None


class InterestStart(enum.StrEnum):
    """The first day that bears interest."""

    EFFECTIVE_DATE = "effective-date"  # the day the notice became ineffective (§ 49a Abs. 3)
    PAYOUT = "payout"  # the day of each payout
    DAY_AFTER_PAYOUT = "day-after-payout"  # the day after each payout (MPSC)

    @property
    def offset_days(self) -> int:
        return 1 if self is InterestStart.DAY_AFTER_PAYOUT else 0

    @property
    def text(self) -> str:
        """``from the day the notice became ineffective`` and the like, for explanations."""
        return {
            InterestStart.EFFECTIVE_DATE: "from the day the notice became ineffective",
            InterestStart.PAYOUT: "from each payout",
            InterestStart.DAY_AFTER_PAYOUT: "from the day after each payout",
        }[self]


@attrs.frozen(kw_only=True)
class RefundInterestTerms:
    """How refund interest is computed under a guideline (R-REFUND-INTEREST).

    ``margin`` is in percentage points above the base rate (§ 49a Abs. 3 Satz 1 VwVfG: 5);
    ``starts`` is :attr:`InterestStart.EFFECTIVE_DATE` (the statute) or a payout-based start.
    """

    rule_id: str = "R-REFUND-INTEREST"
    citation: str = "§ 49a Abs. 3 Satz 1 VwVfG (statutory default)"
    margin: Decimal = STATUTORY_MARGIN
    starts: InterestStart = InterestStart.EFFECTIVE_DATE
    confidence: str | None = None
    assumed: bool = False
    note: str | None = None


@attrs.frozen(kw_only=True)
class InterimInterestTerms:
    """How interest on funds not used within the drawdown window is computed
    (R-INTERIM-INTEREST, § 49a Abs. 4 VwVfG): ``window_months`` after each payout, then
    interest from ``starts`` (the payout or the day after) until use."""

    rule_id: str = "R-INTERIM-INTEREST"
    citation: str = "§ 49a Abs. 4 VwVfG (statutory default)"
    margin: Decimal = STATUTORY_MARGIN
    window_months: int = DRAWDOWN_WINDOW_MONTHS
    starts: InterestStart = InterestStart.PAYOUT
    confidence: str | None = None
    assumed: bool = False
    note: str | None = None


@attrs.frozen(kw_only=True)
class InterestTerms:
    """A guideline version's interest parameters (``[versions.interest]``), with the statutory
    values where the file says nothing (``declared`` is false then)."""

    day_count: DayCount = DayCount.ACT_365
    day_count_assumed: bool = False
    refund: RefundInterestTerms = attrs.field(factory=RefundInterestTerms)
    interim: InterimInterestTerms = attrs.field(factory=InterimInterestTerms)
    declared: bool = False


@attrs.frozen(kw_only=True)
class ProgramVersion:
    """One version of a program's guideline: its parameters and its rules, fully resolved."""

    program_id: str
    program_name: str
    version: str
    effective_from: pendulum.Date
    title: str
    source: str
    budget: Decimal
    funds_from: pendulum.Date
    funds_until: pendulum.Date
    currency: str = "EUR"
    default_financing_type: FinancingType = FinancingType.SHARE
    purpose_binding_years: int | None = None
    regions: tuple[Region, ...] = ()
    focus_areas: tuple[FocusArea, ...] = ()
    calls: tuple[Call, ...] = ()
    phases: tuple[Phase, ...] = ()
    applicants: tuple[KnownApplicant, ...] = ()
    rules: tuple[Rule, ...] = ()
    interest: InterestTerms = attrs.field(factory=InterestTerms)
    notes: tuple[str, ...] = ()
    document: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    content_hash: str = ""

    def region(self, region_id: str | None) -> Region | None:
        return next((r for r in self.regions if r.id == region_id), None)

    def focus_area(self, focus_id: str | None) -> FocusArea | None:
        return next((f for f in self.focus_areas if f.id == focus_id), None)

    def call(self, call_id: str | None) -> Call | None:
        return next((c for c in self.calls if c.id == call_id), None)

    def phase(self, phase_id: str | None) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    def find_applicant(self, name: str) -> KnownApplicant | None:
        """The named applicant, matched case-insensitively (``stadt paderborn``)."""
        key = _fold(name)
        return next((a for a in self.applicants if _fold(a.name) == key), None)

    def applicant(
        self, lead: str, members: Iterable[str] = (), kind: ApplicantKind | None = None
    ) -> Applicant:
        """The applicant for an application: names as the guideline spells them, kind from the
        guideline where it names the lead, else ``kind`` (which must then be given)."""
        known = self.find_applicant(lead)
        if kind is None:
            if known is None:
                raise BadInput(
                    f"applicant {lead!r} is not named in the guideline of {self.program_id}; "
                    f"give the applicant's kind ({', '.join(k.value for k in ApplicantKind)})"
                )
            kind = known.kind
        canonical = []
        for m in members:
            member = self.find_applicant(m)
            canonical.append(member.name if member else m)
        return Applicant(lead=known.name if known else lead, kind=kind, members=tuple(canonical))

    def rules_for(self, event: Event) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if event in r.events)

    @property
    def requires(self) -> Mapping[str, bool]:
        """Which application fields this program requires (region, focus, call, phase)."""
        return {
            "region": bool(self.regions),
            "focus": bool(self.focus_areas),
            "call": bool(self.calls),
            "phase": bool(self.phases),
        }


def in_force(versions: Iterable[ProgramVersion], day: pendulum.Date) -> ProgramVersion | None:
    """The version in force on ``day``: the latest whose ``effective_from`` is on or before
    ``day``; ``None`` before the first version takes effect."""
    current: ProgramVersion | None = None
    for v in versions:
        if v.effective_from <= day and (
            current is None or v.effective_from > current.effective_from
        ):
            current = v
    return current


def no_version_in_force(
    program_id: str, day: pendulum.Date, first: pendulum.Date | None
) -> NotFound:
    """The error for a day on which no version of ``program_id`` is in force (``first``: when
    the first version takes effect, ``None`` if the program has none)."""
    takes_effect = first.isoformat() if first is not None else "never"
    return NotFound(
        f"program {program_id} has no guideline version in force on {day.isoformat()} "
        f"(the first takes effect {takes_effect})"
    )


@attrs.frozen
class Program:
    """A funding program with its guideline versions, oldest first."""

    id: str
    name: str
    versions: tuple[ProgramVersion, ...]
    short: str = ""
    """Prefix of the program's grant ids (``DMR-2019-0001``)."""

    def version_at(self, day: pendulum.Date) -> ProgramVersion:
        """The version in force on ``day`` (:func:`in_force`). Raises NotFound before the
        first version takes effect."""
        version = in_force(self.versions, day)
        if version is None:
            first = min((v.effective_from for v in self.versions), default=None)
            raise no_version_in_force(self.id, day, first)
        return version

    def version(self, version_id: str) -> ProgramVersion:
        for v in self.versions:
            if v.version == version_id:
                return v
        raise NotFound(f"program {self.id} has no guideline version {version_id!r}")

    @property
    def latest(self) -> ProgramVersion:
        return max(self.versions, key=lambda v: v.effective_from)
