"""The budget days (table ``budget_days``) against the log they are derived from, on SQLite and
PostgreSQL.

* For random histories (``tests.strategies``: approvals, payments, amendments, extensions,
  closings with lower costs, revocations, withdrawals, mostly plausible and sometimes refused),
  ``report budget`` and the exposure as of every business date equal the sums of
  :func:`grantflow.domain.budget.figures` over the grants replayed as of that date, and the
  breakdown by year equals the grants' own notices and payments; a refused step leaves the
  table as it was; a rebuild from the log writes the same rows.
* A database migrated from revision 0003 (no ``budget_days`` yet) is backfilled to exactly the
  rows the live table holds, and reports the same.
* ``check_budget_days`` finds a changed row, ``rebuild_budget_days`` repairs it.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grantflow.domain import budget
from grantflow.domain.commands import Close, Command, Revoke, Submit, Withdraw
from grantflow.domain.lifecycle import LIFECYCLE, replay_as_of
from grantflow.domain.model import (
    Applicant,
    ApplicantKind,
    Document,
    Event,
    Grant,
    TransitionRecord,
)
from grantflow.domain.money import ZERO
from grantflow.domain.rules import ROLES_FOR, Exposure
from grantflow.errors import BadInput, NotFound, Refused, RuleViolation
from grantflow.guidelines import load
from grantflow.services import Grantflow
from grantflow.services.reports import BudgetLine, BudgetReport
from grantflow.store import create_engine, models_for, schema
from tests.services.helpers import (
    DMR,
    PEOPLE,
    SMALL,
    approve,
    day,
    disburse,
    dmr_proposal,
    set_up,
    small_proposal,
    start,
)
from tests.services.test_concurrency import _race
from tests.strategies import command_for, proposals

PROGRAM = load(DMR)
SOURCES = {line.event: line.sources for line in LIFECYCLE}
EVENTS = (
    *(Event.APPROVE,) * 4,
    *(Event.START,) * 3,
    *(Event.DISBURSE,) * 8,
    Event.EXTEND,
    *(Event.AMEND,) * 2,
    *(Event.SUBMIT,) * 3,
    *(Event.CLOSE,) * 4,
    Event.REVOKE,
    Event.WITHDRAW,
    Event.REJECT,
)
"""The events a history fires at existing grants, each as often as it appears."""

MEASURES = ("grants", "committed", "disbursed", "refunds", "private", "total_volume")


# --------------------------------------------------------------------------------------------
# A fresh database per example
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fresh(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], Grantflow]]:
    """Gives a Grantflow on an empty database at head with the people of ``PEOPLE`` and the DMR
    program, a new one at every call (the previous one is closed)."""
    numbers = itertools.count()
    opened: list[Grantflow] = []
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
    else:
        pg_url: str = request.getfixturevalue("pg_database")
        clean: Callable[[], None] = request.getfixturevalue("_pg_cleaner")

    def make() -> Grantflow:
        while opened:
            opened.pop().close()
        if backend == "sqlite":
            path = tmp_path / f"example-{next(numbers)}.sqlite"
            shutil.copyfile(template, path)
            url = f"sqlite:///{path}"
        else:
            clean()
            url = pg_url
        gf = Grantflow.open(url)
        opened.append(gf)
        set_up(gf, tmp_path)
        return gf

    yield make
    while opened:
        opened.pop().close()


def stored_rows(gf: Grantflow) -> list[tuple[Any, ...]]:
    """Every row of ``budget_days``, sorted."""
    assert gf.engine is not None
    table = gf.models.BudgetDay.__table__  # type: ignore[attr-defined]
    with gf.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(table)))


def _actor(data: st.DataObject, event: Event, grant: Grant | None) -> str:
    fit = [n for n, roles in PEOPLE.items() if set(roles) & set(ROLES_FOR[event])]
    if grant is not None and event is Event.APPROVE:
        fit = [n for n in fit if n not in (grant.proposed_by, grant.last_edited_by)]
    return data.draw(st.sampled_from(fit or list(PEOPLE)), label="actor")


def drive(gf: Grantflow, data: st.DataObject, steps: int) -> None:
    """Run a drawn history through the service; after every refused step the budget days must
    be as before it."""
    grants: dict[str, Grant] = {}
    cmd: Command  # a Propose or a later step, whichever was drawn
    for _ in range(steps):
        rows = stored_rows(gf)
        possible = [e for e in EVENTS if any(g.state.value in SOURCES[e] for g in grants.values())]
        try:
            if not grants or (len(grants) < 4 and data.draw(st.integers(0, 4), label="new?") == 0):
                cmd = data.draw(proposals(PROGRAM), label="proposal")
                grant = gf.propose(cmd, actor=_actor(data, Event.PROPOSE, None))
            else:
                event = data.draw(st.sampled_from(possible or list(EVENTS)), label="event")
                fitting = [g for g in grants.values() if g.state.value in SOURCES[event]]
                before = data.draw(st.sampled_from(fitting or list(grants.values())), label="grant")
                cmd = data.draw(command_for(event, before, PROGRAM), label="command")
                grant = gf.act(before.id, cmd, actor=_actor(data, event, before))
        except (Refused, BadInput):
            assert stored_rows(gf) == rows, "a refused step changed the budget days"
            continue
        grants[grant.id] = grant


# --------------------------------------------------------------------------------------------
# What the report must say: the figures of the grants replayed as of the day
# --------------------------------------------------------------------------------------------


def expected(grants: list[Grant]) -> dict[str, Any]:
    """The report's figures and breakdowns, computed from the grants themselves."""

    def line(key: str, members: list[Grant]) -> BudgetLine:
        total = sum((budget.figures(g) for g in members), budget.NOTHING)
        return BudgetLine(key, *(getattr(total, m) for m in MEASURES))

    def lines(by: Callable[[Grant], str | None]) -> tuple[BudgetLine, ...]:
        keys = sorted({by(g) or "-" for g in grants})
        out = [line(k, [g for g in grants if (by(g) or "-") == k]) for k in keys]
        return tuple(x for x in out if any(getattr(x, m) for m in MEASURES))

    total = line("", grants)
    years: dict[int, list[Any]] = {}
    for g in grants:
        if g.notice is not None:
            y = years.setdefault(g.notice.date.year, [0, ZERO, ZERO])
            y[0] += 1
            y[1] += g.notice.amount
        for d in g.disbursements:
            years.setdefault(d.date.year, [0, ZERO, ZERO])[2] += d.amount
    return {
        **{m: getattr(total, m) for m in MEASURES},
        "by_region": lines(lambda g: g.region),
        "by_focus": lines(lambda g: g.focus),
        "by_year": tuple(
            BudgetLine(str(y), n, amount, paid, ZERO, ZERO, ZERO)
            for y, (n, amount, paid) in sorted(years.items())
        ),
    }


def reported(report: BudgetReport) -> dict[str, Any]:
    return {
        **{m: getattr(report, m) for m in MEASURES},
        "by_region": report.by_region,
        "by_focus": report.by_focus,
        "by_year": report.by_year,
    }


def nonzero(exposure: Exposure) -> tuple[Decimal, dict[str, Decimal], dict[str, Decimal]]:
    return (
        exposure.program_committed,
        {k: v for k, v in exposure.region_committed.items() if v},
        {k: v for k, v in exposure.call_committed.items() if v},
    )


def check_every_day(gf: Grantflow) -> int:
    """Compare the report and the exposure with the replayed grants on every business date of
    the log, the day before the first and long after the last; returns the days checked."""
    records: dict[str, list[TransitionRecord]] = {}
    for entry in gf.log(program=DMR, include_refused=False):
        assert entry.record is not None
        records.setdefault(entry.record.grant_id, []).append(entry.record)
    dates = sorted({r.business_date for rs in records.values() for r in rs})
    if not dates:
        return 0
    days = [dates[0].subtract(days=1), *dates, dates[-1].add(years=3)]
    for d in days:
        grants = [g for rs in records.values() if (g := replay_as_of(rs, d)) is not None]
        if d < gf.program(DMR).versions[0].effective_from:
            # no guideline version in force, so no budget to report (issue 14: no fallback)
            assert grants == []
            with pytest.raises(NotFound, match="no guideline version in force"):
                gf.budget_report(DMR, as_of=d)
        else:
            assert reported(gf.budget_report(DMR, as_of=d)) == expected(grants), d
        assert nonzero(gf.exposure(DMR, as_of=d)) == nonzero(Exposure.of(grants)), d
    now = [g for rs in records.values() if (g := replay_as_of(rs, days[-1])) is not None]
    assert nonzero(gf.exposure(DMR)) == nonzero(Exposure.of(now))
    return len(days)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_the_budget_days_add_up_to_the_grants_on_every_day(
    fresh: Callable[[], Grantflow], data: st.DataObject
) -> None:
    gf = fresh()
    drive(gf, data, data.draw(st.integers(8, 40), label="steps"))
    check_every_day(gf)
    assert gf.check_budget_days() == []
    rows = stored_rows(gf)
    gf.rebuild_budget_days(by="ada")
    assert [r for r in stored_rows(gf) if any(r[5:])] == [r for r in rows if any(r[5:])]


# --------------------------------------------------------------------------------------------
# Hand-made histories
# --------------------------------------------------------------------------------------------


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def _history(gf: Grantflow) -> list[str]:
    """Three DMR grants: one paid and revoked, one closed, one withdrawn; one in region soest."""
    a = gf.propose(dmr_proposal(), actor="clara")
    gf.act(a.id, approve(), actor="anton")
    gf.act(a.id, start(), actor="clara")
    gf.act(a.id, disburse("300000.00"), actor="finn")
    gf.act(
        a.id,
        Revoke(date=day("2020-01-10"), notice_number="W-1", reason="Zweck verfehlt"),
        actor="anton",
    )
    b = gf.propose(dmr_proposal(title="Smarte Mobilität"), actor="clara")
    gf.act(b.id, approve("2019-03-20", "N-2"), actor="berta")
    gf.act(b.id, start(), actor="clara")
    gf.act(b.id, disburse("760000.00", "2019-05-03"), actor="finn")
    gf.act(b.id, Submit(date=day("2021-03-01"), document=Document.PROOF_OF_USE), actor="clara")
    gf.act(b.id, Close(date=day("2021-04-01"), final_costs=Decimal("900000.00")), actor="anton")
    soest = Applicant("Stadt Soest", ApplicantKind.MUNICIPALITY)
    c = gf.propose(dmr_proposal(region="soest", applicant=soest), actor="clara")
    gf.act(c.id, approve("2019-03-25", "N-3"), actor="anton")
    gf.act(c.id, Withdraw(date=day("2019-04-20"), reason="Projekt aufgegeben"), actor="clara")
    return [a.id, b.id, c.id]


def test_the_report_of_a_hand_made_history(gf: Grantflow) -> None:
    """Checked by hand: on 2019-06-30 both OWL grants bind 800,000.00 each and 1,060,000.00
    are paid; from 2021-04-01 the closed one binds 720,000.00 (share of 900,000.00 final
    costs) and owes 40,000.00 back, the revoked one owes its 300,000.00."""
    _history(gf)
    mid = gf.budget_report(DMR, as_of=day("2019-06-30"))
    assert (mid.grants, mid.committed, mid.disbursed, mid.refunds) == (
        2,
        Decimal("1600000.00"),
        Decimal("1060000.00"),
        ZERO,
    )
    assert [line.key for line in mid.by_region] == ["owl"]  # soest's only grant was withdrawn
    assert [(y.key, y.grants, y.committed, y.disbursed) for y in mid.by_year] == [
        ("2019", 3, Decimal("2400000.00"), Decimal("1060000.00"))
    ]
    end = gf.budget_report(DMR, as_of=day("2021-12-31"))
    assert (end.grants, end.committed, end.disbursed, end.refunds) == (
        1,
        Decimal("720000.00"),
        Decimal("1060000.00"),
        Decimal("340000.00"),
    )
    assert end.total_volume == Decimal("1000000.00")
    assert gf.exposure(DMR, as_of=day("2019-06-30")).region_committed == {
        "owl": Decimal("1600000.00"),
        "soest": ZERO,
    }
    # without a date: as of today, which is after every step here
    assert gf.budget_report(DMR).committed == end.committed
    assert gf.exposure(DMR).program_committed == Decimal("720000.00")


def test_a_refused_step_leaves_the_budget_days_as_they_were(gf: Grantflow) -> None:
    ids = [
        gf.propose(small_proposal("600000.00", region=r), actor="clara").id
        for r in ("north", "south")
    ]
    gf.act(ids[0], approve("2021-02-01"), actor="anton")
    rows = stored_rows(gf)
    with pytest.raises(RuleViolation) as refused:  # 1,200,000.00 would exceed the 1,000,000.00
        gf.act(ids[1], approve("2021-02-02"), actor="anton")
    assert refused.value.rule_ids == ("R-BUDGET",)
    assert stored_rows(gf) == rows
    with pytest.raises(NotFound):
        gf.act("SP-2021-9999", approve("2021-02-02"), actor="anton")
    assert stored_rows(gf) == rows
    assert gf.budget_report(SMALL, as_of=day("2021-02-02")).committed == Decimal("600000.00")


def test_check_finds_a_changed_row_and_a_rebuild_repairs_it(gf: Grantflow) -> None:
    _history(gf)
    assert gf.check_budget_days() == []
    before = gf.budget_report(DMR, as_of=day("2021-12-31"))
    assert gf.engine is not None
    table = gf.models.BudgetDay.__table__  # type: ignore[attr-defined]
    with gf.engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.day == day("2019-05-02"))
            .values(disbursed=table.c.disbursed + 100)
        )
    problems = gf.check_budget_days()
    assert len(problems) == 1
    assert "2019-05-02" in problems[0] and "owl" in problems[0] and "disbursed" in problems[0]
    assert gf.budget_report(DMR, as_of=day("2021-12-31")) != before
    with pytest.raises(Refused):
        gf.rebuild_budget_days(by="anton")  # admins only
    with pytest.raises(NotFound):
        gf.rebuild_budget_days(by="ada", program_id="no-such-program")
    assert gf.rebuild_budget_days(by="ada", program_id=DMR) > 0
    assert gf.check_budget_days() == []
    assert gf.budget_report(DMR, as_of=day("2021-12-31")) == before


# --------------------------------------------------------------------------------------------
# Migration 0004 on a database from revision 0003
# --------------------------------------------------------------------------------------------


def test_migrating_from_0003_backfills_what_the_steps_wrote(
    empty_db_url: str, tmp_path: Path
) -> None:
    with Grantflow.open(empty_db_url, create=True) as gf:
        set_up(gf, tmp_path)
        _history(gf)
        gf.propose(small_proposal("300000.00"), actor="clara")  # another program, no rows yet
        live = stored_rows(gf)
        reports = {d: gf.budget_report(DMR, as_of=day(d)) for d in ("2019-03-31", "2021-12-31")}
        exposure = gf.exposure(DMR, as_of=day("2019-06-30"))
    assert len({r[0] for r in live}) == 1 and len(live) > 5
    models = models_for()
    engine = create_engine(empty_db_url)
    try:
        # the database as revision 0003 left it: no budget_days (nor the later migrations'
        # changes: their downgrades take them back)
        with engine.begin() as conn:
            command.downgrade(schema.alembic_config(connection=conn), "0003")
            # Models types BudgetDay as its column mixin, which declares no __tablename__
            assert not sa.inspect(conn).has_table(models.BudgetDay.__tablename__)  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert schema.status(conn, models).state is schema.State.OUTDATED
        with pytest.raises(schema.SchemaOutdated):
            Grantflow.open(empty_db_url)
        assert schema.upgrade(engine, models).state is schema.State.CURRENT
    finally:
        engine.dispose()
    with Grantflow.open(empty_db_url) as upgraded:
        assert stored_rows(upgraded) == live
        for d, report in reports.items():
            assert upgraded.budget_report(DMR, as_of=day(d)) == report
        assert upgraded.exposure(DMR, as_of=day("2019-06-30")) == exposure
        assert upgraded.check_budget_days() == []


def test_the_report_does_not_read_the_log(gf: Grantflow) -> None:
    """Neither ``report budget`` nor the exposure touch ``transitions``, ``disbursements`` or
    ``notices``: what they cost does not grow with the log."""
    _history(gf)
    assert gf.engine is not None
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(gf.engine, "before_cursor_execute", spy)
    try:
        gf.budget_report(DMR, as_of=pendulum.Date(2020, 1, 1))
        gf.exposure(DMR, as_of=pendulum.Date(2020, 1, 1))
    finally:
        sa.event.remove(gf.engine, "before_cursor_execute", spy)
    assert len([s for s in seen if "budget_days" in s]) == 2
    log = re.compile(r"(FROM|JOIN)\s+\"?(transitions|disbursements|notices)\b", re.IGNORECASE)
    assert not [s for s in seen if log.search(s)]
    assert log.search("SELECT x FROM transitions WHERE y")  # the check can fail


# --------------------------------------------------------------------------------------------
# Writers racing for the same budget day
# --------------------------------------------------------------------------------------------


def _deadlocks(gf: Grantflow) -> int:
    """How many deadlocks PostgreSQL has detected in this database (0 on SQLite)."""
    assert gf.engine is not None
    if gf.engine.dialect.name != "postgresql":
        return 0
    with gf.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        found = conn.execute(
            sa.text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        ).scalar_one()
    return int(found)


def test_writers_of_one_budget_day_neither_deadlock_nor_lose_a_change(gf: Grantflow) -> None:
    """Approvals (which lock the program row), payments, a withdrawal and a revocation (which do
    not), all on 2021-03-02 in region south, so all on one ``budget_days`` row, from four
    processes at once: every step that went through is in the row, and none deadlocked."""
    running = []
    for _ in range(4):
        g = gf.propose(small_proposal("100000.00", "south"), actor="clara")
        gf.act(g.id, approve("2021-02-01", f"N-{g.id}"), actor="anton")
        running.append(gf.act(g.id, start("2021-03-01"), actor="clara").id)
    waiting = [gf.propose(small_proposal("50000.00", "south"), actor="clara").id for _ in range(4)]
    deadlocks = _deadlocks(gf)
    on = day("2021-03-02")
    plans: list[list[tuple[str, Command, str]]] = [
        [(gid, approve("2021-03-02", f"N-{gid}"), "anton") for gid in waiting[:2]]
        + [(running[0], disburse("1000.00", "2021-03-02"), "finn")] * 3,
        [(gid, approve("2021-03-02", f"N-{gid}"), "berta") for gid in waiting[2:]]
        + [(running[1], disburse("2000.00", "2021-03-02"), "finn")] * 3,
        [(running[2], Withdraw(date=on, reason="verzichtet"), "clara")]
        + [(running[1], disburse("3000.00", "2021-03-02"), "finn")] * 2,
        [(running[3], Revoke(date=on, notice_number="W-1", reason="Zweck entfallen"), "anton")]
        + [(running[0], disburse("4000.00", "2021-03-02"), "finn")] * 2,
    ]
    results = _race(gf, plans)
    assert [r for r in results if r[0] != "ok"] == []  # nothing here may be refused
    assert _deadlocks(gf) == deadlocks
    assert gf.check_budget_days() == []
    report = gf.budget_report(SMALL, as_of=on)
    # 4 x 100,000 approved, one withdrawn and one revoked before any payment; 4 x 50,000 new
    assert (report.grants, report.committed) == (6, Decimal("400000.00"))
    # 3 x 1,000 + 3 x 2,000 + 2 x 3,000 + 2 x 4,000
    assert report.disbursed == Decimal("23000.00")
