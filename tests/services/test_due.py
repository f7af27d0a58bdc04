"""``Grantflow.due`` lists the refunds grantees still owe (R-REFUND), on SQLite and PostgreSQL.

A refund is due the day its claim arose and listed until it is repaid, whatever the grant's
state. The service reads most refunds from the grants' refund columns (migration 0005) and the
rest from the snapshots; both must give what the domain gives
(:func:`grantflow.domain.duties.refund_duties`). Days overdue are counted by hand in the
docstrings.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from alembic import command

from grantflow.domain.commands import Amend, Close, Repay, Revoke
from grantflow.domain.duties import DutyKind, refund_duties
from grantflow.services import Grantflow
from grantflow.services.reports import DueItem
from grantflow.store import create_engine, mapping, models_for, schema
from tests.services.helpers import (
    DMR,
    SMALL,
    chain_as_before_0006,
    day,
    disburse,
    invariant_problems,
    running_dmr_grant,
    set_up,
)

EUR = Decimal


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def _revoked(gf: Grantflow, paid: str = "200000.00", on: str = "2019-09-02") -> str:
    """``paid`` on 2019-05-02, revoked for the past on ``on``."""
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse(paid), actor="finn")
    gf.act(g.id, Revoke(date=day(on), notice_number="W-1", reason="Zweck verfehlt"), actor="anton")
    return g.id


def _in_tranches(gf: Grantflow) -> str:
    """Paid 700,000.00; lowered to 600,000.00 on 2020-03-02; revoked on 2020-06-02."""
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("700000.00"), actor="finn")
    lower = Amend(date=day("2020-03-02"), notice_number="Ä-1", amount=EUR("600000.00"))
    gf.act(g.id, lower, actor="anton")
    gf.act(g.id, Revoke(date=day("2020-06-02"), notice_number="W-2", reason="x"), actor="anton")
    return g.id


def _rows(items: list[DueItem]) -> list[tuple[str, str, str, bool, int, Decimal | None]]:
    return [
        (
            i.grant_id,
            i.duty.kind.value,
            i.duty.due.isoformat(),
            i.duty.overdue,
            i.duty.days_overdue,
            i.duty.amount,
        )
        for i in items
    ]


def _refunds(gf: Grantflow, as_of: str) -> list[tuple[str, str, str, bool, int, Decimal | None]]:
    return [r for r in _rows(gf.due(as_of=day(as_of))) if r[1] == "refund"]


def _as_the_domain_says(gf: Grantflow, as_of: pendulum.Date) -> None:
    """The service's refund duties are the domain's, for every grant, in the same order."""
    listed = [(i.grant_id, i.duty) for i in gf.due(as_of=as_of) if i.duty.kind is DutyKind.REFUND]
    wanted = [
        (g.id, duty)
        for g in gf.grants()
        for duty in refund_duties(gf.grant(g.id), as_of)  # the grant now, as `due` reads it
    ]
    key = lambda pair: (not pair[1].overdue, pair[1].due, pair[0])  # noqa: E731
    assert listed == sorted(wanted, key=key), as_of


def test_a_refund_is_listed_overdue_first_among_the_other_duties(gf: Grantflow) -> None:
    """Revoked on 2019-09-02: the 200,000.00 are due that day and on 2019-10-01 overdue by
    28 + 1 = 29 days. A running grant's duties of the same day all lie ahead."""
    owes = _revoked(gf)
    runs = running_dmr_grant(gf).id
    found = gf.due(as_of=day("2019-10-01"))
    assert _rows(found) == [
        (owes, "refund", "2019-09-02", True, 29, EUR("200000.00")),
        (runs, "interim-proof", "2020-04-30", False, 0, EUR("0.00")),
        (runs, "period-end", "2020-12-31", False, 0, None),
        (runs, "proof-of-use", "2021-06-30", False, 0, None),
    ]
    refund = found[0]
    assert (refund.duty.rule_id, refund.applicant, refund.program_id) == (
        "R-REFUND",
        "Stadt Paderborn",
        DMR,
    )
    assert "R-REFUND-INTEREST" in refund.duty.description
    assert f"grantflow money {owes}" in refund.duty.description
    # a window never hides what is overdue
    assert _rows(gf.due(as_of=day("2019-10-01"), within_days=30)) == _rows(found)[:1]
    # nor does the program filter keep another program's refunds
    assert gf.due(as_of=day("2019-10-01"), program=SMALL) == []
    assert _rows(gf.due(as_of=day("2019-10-01"), program=DMR)) == _rows(found)
    assert invariant_problems(gf) == []


def test_a_partial_repayment_lowers_the_refund_and_a_full_one_removes_it(
    gf: Grantflow,
) -> None:
    """50,000.00 repaid on 2019-10-15 leave 150,000.00, overdue by 28 + 15 = 43 days; the
    other 150,000.00 on 2019-11-04 clear it (on 2019-11-03 it was overdue by 28 + 31 + 3 = 62
    days). Days before a repayment still show what was owed then."""
    gid = _revoked(gf)
    gf.act(gid, Repay(date=day("2019-10-15"), amount=EUR("50000.00")), actor="finn")
    assert _refunds(gf, "2019-10-15") == [(gid, "refund", "2019-09-02", True, 43, EUR("150000.00"))]
    assert _refunds(gf, "2019-10-14") == [(gid, "refund", "2019-09-02", True, 42, EUR("200000.00"))]
    gf.act(gid, Repay(date=day("2019-11-04"), amount=EUR("150000.00")), actor="finn")
    assert _refunds(gf, "2019-11-04") == []
    assert gf.due(as_of=day("2019-11-04")) == []
    assert _refunds(gf, "2019-11-03") == [(gid, "refund", "2019-09-02", True, 62, EUR("150000.00"))]
    # before the revocation there was nothing to pay back (and now no proofs are owed)
    assert _refunds(gf, "2019-09-01") == []
    for d in ("2019-09-01", "2019-09-02", "2019-10-14", "2019-10-15", "2019-11-04"):
        _as_the_domain_says(gf, day(d))
    assert invariant_problems(gf) == []


def test_each_tranche_of_a_claim_is_due_from_its_own_step(gf: Grantflow) -> None:
    """On 2020-07-01 the amendment's 100,000.00 are overdue by 29 + 30 + 31 + 30 + 1 = 121 days,
    the revocation's 600,000.00 by 28 + 1 = 29. 150,000.00 repaid on 2020-07-15 clear the
    older tranche and leave 550,000.00, overdue by 28 + 15 = 43 days."""
    gid = _in_tranches(gf)
    assert _refunds(gf, "2020-07-01") == [
        (gid, "refund", "2020-03-02", True, 121, EUR("100000.00")),
        (gid, "refund", "2020-06-02", True, 29, EUR("600000.00")),
    ]
    gf.act(gid, Repay(date=day("2020-07-15"), amount=EUR("150000.00")), actor="finn")
    assert _refunds(gf, "2020-07-15") == [(gid, "refund", "2020-06-02", True, 43, EUR("550000.00"))]
    for d in ("2020-03-01", "2020-03-02", "2020-05-01", "2020-07-01", "2020-07-15"):
        _as_the_domain_says(gf, day(d))
    assert invariant_problems(gf) == []


def test_a_closed_grant_owes_what_it_was_paid_beyond_its_final_amount(gf: Grantflow) -> None:
    """Paid 800,000.00, closed on 2021-06-15 at 720,000.00 (final costs 900,000.00 at 80 %):
    80,000.00 due that day, overdue by 15 + 1 = 16 days on 2021-07-01."""
    g = running_dmr_grant(gf)
    gf.act(g.id, disburse("800000.00"), actor="finn")
    closed = gf.act(
        g.id,
        Close(date=day("2021-06-15"), proof_date=day("2021-05-31"), final_costs=EUR("900000")),
        actor="anton",
    )
    assert closed.refund_outstanding == EUR("80000.00")
    assert _rows(gf.due(as_of=day("2021-07-01"))) == [
        (g.id, "refund", "2021-06-15", True, 16, EUR("80000.00"))
    ]
    _as_the_domain_says(gf, day("2021-07-01"))


def test_a_grant_owing_one_tranche_is_listed_without_reading_its_snapshot(
    gf: Grantflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refund columns suffice once no step lies after ``as_of``; before, or with several
    tranches owed, the snapshot is read. (What a program with many closed grants that owe
    money back costs: see ``benchmarks/reports.py``.)"""
    one, two = _revoked(gf), _in_tranches(gf)
    read: list[str] = []
    real = mapping.grant_from_snapshot

    def spy(snapshot: Any, version: int | None = None) -> Any:
        read.append(snapshot["id"])
        return real(snapshot, version)

    monkeypatch.setattr(mapping, "grant_from_snapshot", spy)
    assert {i.grant_id for i in gf.due(as_of=day("2020-07-01"))} == {one, two}
    assert read == [two]
    read.clear()
    assert {i.grant_id for i in gf.due(as_of=day("2019-09-02"))} == {one}
    assert read == [two]  # its steps of 2020 are not known on 2019-09-02
    read.clear()
    assert gf.due(as_of=day("2019-09-01")) == []
    assert sorted(read) == sorted([one, two])


def test_migrating_from_0004_fills_the_refund_columns(empty_db_url: str, tmp_path: Path) -> None:
    """A database from revision 0004 has no refund columns, and its snapshots keep no day on
    which a claim tranche arose; the migration replays the grants that have a claim."""
    with Grantflow.open(empty_db_url, create=True) as gf:
        set_up(gf, tmp_path)
        one, two = _revoked(gf), _in_tranches(gf)
        running_dmr_grant(gf)
        before = {d: _rows(gf.due(as_of=day(d))) for d in ("2019-10-01", "2020-07-01")}
    assert {r[0] for rows in before.values() for r in rows if r[1] == "refund"} == {one, two}
    models = models_for()
    G = models.Grant.__table__  # type: ignore[attr-defined]
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(schema.alembic_config(connection=conn), "0004")
            chain_as_before_0006(conn)
            assert "refund_due" not in {c["name"] for c in sa.inspect(conn).get_columns(G.name)}
            # the snapshots as grantflow wrote them before: tranches without arose_on
            old = sa.table(G.name, sa.column("id"), sa.column("snapshot", G.c.snapshot.type))
            for gid, snapshot in conn.execute(sa.select(old.c.id, old.c.snapshot)).all():
                for tranche in snapshot["claim_tranches"]:
                    del tranche["arose_on"]
                conn.execute(sa.update(old).where(old.c.id == gid).values(snapshot=snapshot))
        assert schema.upgrade(engine, models).state is schema.State.CURRENT
    finally:
        engine.dispose()
    with Grantflow.open(empty_db_url) as upgraded:
        assert [t.arose_on for t in upgraded.grant(two).claim_tranches] == [
            day("2020-03-02"),
            day("2020-06-02"),
        ]
        assert {d: _rows(upgraded.due(as_of=day(d))) for d in before} == before
        assert invariant_problems(upgraded) == []
