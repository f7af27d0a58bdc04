"""Program reports computed in SQL: the budget report and the list of duties falling due.

The budget report sums, in the database, the program's budget days (table ``budget_days``):
each row holds how one day's steps changed the figures of one region, focus area and call, as
:func:`grantflow.domain.budget.figures` defines them for a grant. The sum over the days up to a
date is every grant as it stood after its last step dated on or before that day, without
reading the transition log or loading grants into Python: what the report costs grows with the
days, regions and focus areas with steps in them, not with the records.

The duties report narrows the grants in SQL to those that can have a duty in the window and
only then asks the domain (:func:`grantflow.domain.duties.duties`) for the exact due dates.
Refunds are listed from the grants' refund columns (migration 0005), so that a program where
many grants owe money back does not have to read all their snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from grantflow.domain.duties import Duty, duties, refund_duties, refund_duty
from grantflow.domain.guideline import Program, in_force
from grantflow.domain.model import State
from grantflow.domain.money import ZERO
from grantflow.store import mapping
from grantflow.store.repository import Store


@attrs.frozen
class BudgetLine:
    """One row of a breakdown (a region, a focus area or a budget year)."""

    key: str
    grants: int
    committed: Decimal
    disbursed: Decimal
    refunds: Decimal
    private: Decimal
    total_volume: Decimal


@attrs.frozen(kw_only=True)
class BudgetReport:
    """A program's budget at the end of ``as_of``: the sums of what each grant contributes
    (:func:`grantflow.domain.budget.figures`).

    ``committed`` is what the grants bind (a closed grant its final amount, a grant revoked for
    the future what it kept; rejected, withdrawn and grants revoked for the past nothing),
    ``disbursed`` what has been paid (including to grants since revoked), ``refunds`` what
    grantees still owe back, ``available`` the budget of the guideline version in force less
    ``committed``. ``grants`` counts approved, running, extended and closed grants; ``private``
    and ``total_volume`` are their third-party funds and eligible costs. ``by_year`` is by
    calendar (budget) year: grant notices and their amounts by the year of the notice,
    payments by the year they were made. Lines with nothing in them are left out.
    """

    program_id: str
    program_name: str
    as_of: pendulum.Date
    version: str
    budget: Decimal
    grants: int
    committed: Decimal
    disbursed: Decimal
    refunds: Decimal
    available: Decimal
    private: Decimal
    total_volume: Decimal
    by_region: tuple[BudgetLine, ...]
    by_focus: tuple[BudgetLine, ...]
    by_year: tuple[BudgetLine, ...]


def budget_report(store: Store, program: Program, as_of: pendulum.Date) -> BudgetReport:
    """The budget report of ``program`` at the end of ``as_of`` (the service's default: today
    by its clock, ``Grantflow.today``), summed in SQL over the budget days up to that day,
    against the budget of the guideline version in force on that day. Raises NotFound for a
    day before the program's first version takes effect."""
    day = as_of
    version = program.version_at(day)  # NotFound before the program's first version
    regions: dict[str, _Sum] = {}
    focus: dict[str, _Sum] = {}
    years: dict[int, _Sum] = {}
    total = _Sum()
    for row in store.budget_sums(program.id, day):
        for acc in (
            regions.setdefault(row.region or "-", _Sum()),
            focus.setdefault(row.focus or "-", _Sum()),
            total,
        ):
            acc.add(row)
        # by budget year: grant notices and their amounts by the notice's date, payments by
        # the day they were made
        year = years.setdefault(int(row.year), _Sum())
        year.grants += int(row.notices)
        year.committed += row.notice_amount
        year.disbursed += row.disbursed
    return BudgetReport(
        program_id=program.id,
        program_name=program.name,
        as_of=day,
        version=version.version,
        budget=version.budget,
        grants=total.grants,
        committed=total.committed,
        disbursed=total.disbursed,
        refunds=total.refunds,
        available=version.budget - total.committed,
        private=total.private,
        total_volume=total.total_volume,
        by_region=_lines(regions),
        by_focus=_lines(focus),
        by_year=_lines({str(k): v for k, v in years.items()}),
    )


def _lines(sums: dict[str, _Sum]) -> tuple[BudgetLine, ...]:
    """The lines of a breakdown, by key, leaving out those with nothing in them (a region
    whose only grant was withdrawn, a year without notices or payments)."""
    return tuple(v.line(k) for k, v in sorted(sums.items()) if v)


@attrs.define
class _Sum:
    grants: int = 0
    committed: Decimal = ZERO
    disbursed: Decimal = ZERO
    refunds: Decimal = ZERO
    private: Decimal = ZERO
    total_volume: Decimal = ZERO

    def add(self, row: Any) -> None:
        self.grants += int(row.grants)
        self.committed += row.committed
        self.disbursed += row.disbursed
        self.refunds += row.refunds
        self.private += row.private
        self.total_volume += row.total_volume

    def __bool__(self) -> bool:
        return any(
            (
                self.grants,
                self.committed,
                self.disbursed,
                self.refunds,
                self.private,
                self.total_volume,
            )
        )

    def line(self, key: str) -> BudgetLine:
        return BudgetLine(
            key,
            self.grants,
            self.committed,
            self.disbursed,
            self.refunds,
            self.private,
            self.total_volume,
        )


@attrs.frozen
class DueItem:
    """A duty of one grant."""

    grant_id: str
    program_id: str
    applicant: str
    title: str
    duty: Duty


def due(
    store: Store,
    programs: Iterable[Program],
    as_of: pendulum.Date,
    within_days: int | None,
    program_id: str | None = None,
) -> list[DueItem]:
    """Duties due by ``as_of + within_days`` (all open ones if ``None``), overdue first, then by
    due date: the duties of active grants, and the refunds still owed by grants in any state.

    SQL narrows the grants first. Active grants: a proof of use or a period end can only fall
    due in the window if the funding period ends before the window does (MPSC phases count
    months from the notice, so grants with a phase are always looked at); interim proofs fall
    due on 30 April, so when the window contains a 30 April every multi-year active grant is a
    candidate. Refunds (due the day they arise, so never later than ``as_of``): a grant that
    owes one tranche of a claim and has no step after ``as_of`` is listed from its refund
    columns alone (what is owed, and since when); a grant that owes several tranches, or has
    steps after ``as_of`` and a claim (a tranche or a repayment ``as_of`` does not know yet),
    is read from its snapshot and asked to the domain
    (:func:`grantflow.domain.duties.refund_duties`), which gives the same duties.

    Duties are judged under the guideline version in force on ``as_of``. A program whose
    first version takes effect after ``as_of`` had no grant then, so its grants have no duties
    on that day (the budget report, which needs that version's budget, refuses such a day).
    """
    G = store.m.Grant
    by_id = {p.id: p for p in programs}
    versions = {p.id: v for p in by_id.values() if (v := in_force(p.versions, as_of))}
    horizon = as_of.add(days=within_days) if within_days is not None else None
    of_program: list[ColumnElement[bool]] = [G.program_id == program_id] if program_id else []
    items: list[DueItem] = []

    def add(gid: str, pid: str, applicant: str, title: str, duty: Duty) -> None:
        if horizon is not None and duty.due > horizon and not duty.overdue:
            return
        items.append(DueItem(gid, pid, applicant, title, duty))

    with_duties = [s.value for s in State.ordered(State.with_duties())]
    cond: list[ColumnElement[bool]] = [G.state.in_(with_duties), *of_program]
    if horizon is not None and not _contains_april_30(as_of, horizon):
        # a proof of use or a period end can fall due (or be overdue) only once the period
        # ends by the horizon; phases count from the notice, so they are always looked at
        cond.append(or_(G.period_end <= horizon, G.phase.is_not(None)))
    for (snapshot,) in store.conn.execute(select(G.snapshot).where(*cond).order_by(G.id)):
        grant = mapping.grant_from_snapshot(snapshot)
        version = versions.get(grant.program_id)
        if version is None:  # not a program of the report, or none in force on as_of
            continue
        # refunds: below, for grants in any state
        for duty in duties(grant, version, as_of, refunds=False):
            add(grant.id, grant.program_id, grant.applicant.lead, grant.title, duty)

    # refunds of one tranche, with nothing after as_of: from the columns. Such a refund fell
    # due on or before as_of (the day of a step), so the window never hides it; read in the
    # order of the final sort, which then costs little even for many rows
    one = select(G.id, G.program_id, G.applicant, G.title, G.refund_due, G.refund_outstanding)
    one = one.where(G.refund_tranches == 1, G.last_business_date <= as_of, *of_program)
    for gid, pid, applicant, title, since, owed in store.conn.execute(
        one.order_by(G.refund_due, G.id)
    ):
        assert since is not None, f"{gid} owes a tranche of a refund claim without its day"
        if pid in by_id:
            items.append(DueItem(gid, pid, applicant, title, refund_duty(gid, since, owed, as_of)))
    # the others with a claim: from the snapshot (``refund_tranches IN (0, 1)`` adds nothing
    # to the condition but lets both terms use the index on refund_tranches, last_business_date)
    rest = select(G.snapshot).where(
        or_(
            G.refund_tranches > 1,
            and_(
                G.refund_tranches.in_((0, 1)),
                G.last_business_date > as_of,
                G.disbursed_amount > G.committed_amount,
            ),
        ),
        *of_program,
    )
    for (snapshot,) in store.conn.execute(rest):
        grant = mapping.grant_from_snapshot(snapshot)
        if grant.program_id in by_id:
            for duty in refund_duties(grant, as_of):
                add(grant.id, grant.program_id, grant.applicant.lead, grant.title, duty)
    items.sort(key=lambda i: (not i.duty.overdue, i.duty.due, i.grant_id))
    return items


def _contains_april_30(start: pendulum.Date, end: pendulum.Date) -> bool:
    """Whether an interim proof (due 30 April, R-INTERIM-PROOF) can fall in the window."""
    return any(
        start <= pendulum.Date(year, 4, 30) <= end for year in range(start.year, end.year + 1)
    )
