"""Program reports computed in SQL: the budget report and the list of duties falling due.

The budget report sums, in the database, what every grant of a program binds, has been paid
and owes back at the end of a business date — each grant counted as it stood after its last
step dated on or before that day (the ``committed_amount`` and ``to_state`` its transition row
keeps), never by loading grants into Python.

The duties report narrows the grants in SQL to those that can have a duty in the window and
only then asks the domain (:func:`grantflow.domain.duties.duties`) for the exact due dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
from sqlalchemy import and_, case, extract, func, literal, or_, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from grantflow.domain.duties import Duty, duties
from grantflow.domain.guideline import Program, ProgramVersion
from grantflow.domain.model import State
from grantflow.domain.money import ZERO
from grantflow.store import mapping
from grantflow.store.repository import Store
from grantflow.store.types import Money

BOUND = (State.APPROVED, State.RUNNING, State.EXTENDED, State.CLOSED)
"""States in which a grant counts as approved for the report (it binds or bound budget)."""
COUNTED = (*BOUND, State.REVOKED)
ACTIVE = (State.APPROVED, State.RUNNING, State.EXTENDED)


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
    """A program's budget at the end of ``as_of``.

    ``committed`` is what approved grants bind (a closed grant its final amount; revoked,
    rejected and withdrawn grants nothing), ``disbursed`` what has been paid (including to
    grants since revoked), ``refunds`` what grantees owe back, ``available`` the budget of the
    guideline version in force less ``committed``. ``grants`` counts approved, running,
    extended and closed grants; ``private`` and ``total_volume`` are their third-party funds
    and eligible costs. ``by_year`` is by calendar (budget) year: grants and commitments by
    the year of the grant notice, payments by the year they were made.
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


def _money(expr: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[Decimal]:
    return type_coerce(func.coalesce(func.sum(expr), 0), Money())


def budget_report(
    store: Store, program: Program, as_of: pendulum.Date | None = None
) -> BudgetReport:
    """The budget report of ``program`` at the end of ``as_of``, summed in SQL.

    Without ``as_of`` it reports the grants as they stand now, from the grant rows alone;
    with it, each grant as it stood after its last step dated on or before that day (covering
    indexes keep this to index scans, see migration 0003).
    """
    m = store.m
    G, T, D, N = m.Grant, m.Transition, m.Disbursement, m.Notice
    if as_of is None:
        day = pendulum.today("Europe/Berlin").date()
        state_col: ColumnElement[Any] | InstrumentedAttribute[Any] = G.state
        committed: ColumnElement[Decimal] = type_coerce(G.committed_amount, Money())
        paid_amount: ColumnElement[Decimal] = type_coerce(G.disbursed_amount, Money())
        joins: list[tuple[Any, ColumnElement[bool], bool]] = []
    else:
        day = as_of
        last = (
            select(T.grant_id.label("gid"), func.max(T.seq).label("seq"))
            .where(T.guideline_id == program.id, T.business_date <= as_of)
            .group_by(T.grant_id)
            .subquery()
        )
        now = (
            select(
                T.grant_id.label("gid"),
                T.to_state.label("state"),
                T.committed_amount.label("committed"),
            )
            .join(last, and_(T.grant_id == last.c.gid, T.seq == last.c.seq))
            .subquery()
        )
        paid = (
            select(D.grant_id.label("gid"), func.sum(D.amount).label("paid"))
            .where(D.date <= as_of)
            .group_by(D.grant_id)
            .subquery()
        )
        state_col = now.c.state
        committed = type_coerce(now.c.committed, Money())
        paid_amount = type_coerce(func.coalesce(paid.c.paid, 0), Money())
        joins = [(now, now.c.gid == G.id, False), (paid, paid.c.gid == G.id, True)]
    bound = state_col.in_([s.value for s in BOUND])
    refund = case((paid_amount > committed, paid_amount - committed), else_=literal(0))

    def measures() -> list[ColumnElement[Any]]:
        return [
            func.sum(case((bound, 1), else_=0)).label("grants"),
            _money(case((bound, committed), else_=literal(0))).label("committed"),
            _money(paid_amount).label("disbursed"),
            _money(refund).label("refunds"),
            _money(case((bound, G.private_funds), else_=literal(0))).label("private"),
            _money(case((bound, G.eligible_costs), else_=literal(0))).label("total_volume"),
        ]

    base = select(G.region, G.focus, *measures()).select_from(G)
    for target, onclause, outer in joins:
        base = base.join(target, onclause, isouter=outer)
    base = base.where(
        G.program_id == program.id, state_col.in_([s.value for s in COUNTED])
    ).group_by(G.region, G.focus)
    regions: dict[str, _Sum] = {}
    focus: dict[str, _Sum] = {}
    total = _Sum()
    for row in store.conn.execute(base):
        for acc in (
            regions.setdefault(row.region or "-", _Sum()),
            focus.setdefault(row.focus or "-", _Sum()),
            total,
        ):
            acc.add(row)

    year = extract("year", N.date)
    approvals = (
        select(year.label("year"), func.count().label("grants"), _money(N.amount).label("amount"))
        .join(G, G.id == N.grant_id)
        .where(G.program_id == program.id, N.event == "approve", N.date <= day)
        .group_by(year)
    )
    pay_year = extract("year", D.date)
    payments = (
        select(pay_year.label("year"), _money(D.amount).label("amount"))
        .join(G, G.id == D.grant_id)
        .where(G.program_id == program.id, D.date <= day)
        .group_by(pay_year)
    )
    years: dict[int, _Sum] = {}
    for row in store.conn.execute(approvals):
        acc = years.setdefault(int(row.year), _Sum())
        acc.grants, acc.committed = int(row.grants), row.amount
    for row in store.conn.execute(payments):
        years.setdefault(int(row.year), _Sum()).disbursed = row.amount
    version = _version(program, day)
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
        by_region=tuple(v.line(k) for k, v in sorted(regions.items())),
        by_focus=tuple(v.line(k) for k, v in sorted(focus.items())),
        by_year=tuple(v.line(str(k)) for k, v in sorted(years.items())),
    )


@attrs.define
class _Sum:
    grants: int = 0
    committed: Decimal = ZERO
    disbursed: Decimal = ZERO
    refunds: Decimal = ZERO
    private: Decimal = ZERO
    total_volume: Decimal = ZERO

    def add(self, row: Any) -> None:
        self.grants += int(row.grants or 0)
        self.committed += row.committed
        self.disbursed += row.disbursed
        self.refunds += row.refunds
        self.private += row.private
        self.total_volume += row.total_volume

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
    """Duties of active grants due by ``as_of + within_days`` (all open ones if ``None``),
    overdue first, then by due date.

    SQL narrows the grants first: a proof of use or a period end can only fall due in the
    window if the funding period ends before the window does (MPSC phases count months from
    the notice, so grants with a phase are always looked at); interim proofs fall due on
    30 April, so when the window contains a 30 April every multi-year active grant is a
    candidate.
    """
    G = store.m.Grant
    by_id = {p.id: p for p in programs}
    horizon = as_of.add(days=within_days) if within_days is not None else None
    cond: list[ColumnElement[bool]] = [G.state.in_([s.value for s in ACTIVE])]
    if program_id:
        cond.append(G.program_id == program_id)
    if horizon is not None and not _contains_april_30(as_of, horizon):
        # a proof of use or a period end can fall due (or be overdue) only once the period
        # ends by the horizon; phases count from the notice, so they are always looked at
        cond.append(or_(G.period_end <= horizon, G.phase.is_not(None)))
    items: list[DueItem] = []
    for (snapshot,) in store.conn.execute(select(G.snapshot).where(*cond).order_by(G.id)):
        grant = mapping.grant_from_snapshot(snapshot)
        program = by_id.get(grant.program_id)
        if program is None:
            continue
        for duty in duties(grant, _version(program, as_of), as_of):
            if horizon is not None and duty.due > horizon and not duty.overdue:
                continue
            items.append(
                DueItem(grant.id, grant.program_id, grant.applicant.lead, grant.title, duty)
            )
    items.sort(key=lambda i: (not i.duty.overdue, i.duty.due, i.grant_id))
    return items


def _contains_april_30(start: pendulum.Date, end: pendulum.Date) -> bool:
    """Whether an interim proof (due 30 April, R-INTERIM-PROOF) can fall in the window."""
    return any(
        start <= pendulum.Date(year, 4, 30) <= end for year in range(start.year, end.year + 1)
    )


def _version(program: Program, day: pendulum.Date) -> ProgramVersion:
    """The version in force on ``day``, or the first one for days before the program."""
    first = program.versions[0]
    return program.version_at(day) if day >= first.effective_from else first
