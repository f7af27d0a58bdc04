"""Several OS processes race for the same money, on SQLite and PostgreSQL.

Each test starts its writers with ``multiprocessing`` (real processes, each with its own engine)
and lets them go at once through a barrier. Afterwards no total exceeds its budget, every
success has its transition record and money row, and every failure left nothing behind but a
``refused_attempts`` row (or nothing at all, for a ConcurrentUpdate).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from grantflow.domain.commands import Command
from grantflow.domain.model import Event, State
from grantflow.errors import ConcurrentUpdate, RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    SMALL,
    approve,
    count,
    disburse,
    invariant_problems,
    set_up,
    small_proposal,
    start,
)

CTX = multiprocessing.get_context("fork")
TIMEOUT = 120

Step = tuple[str, Command, str]
"""(grant id, command, actor)."""
Outcome = tuple[str, str] | tuple[str, str, tuple[str, ...]]
"""("ok" | "conflict", grant id) or ("refused", grant id, rule ids)."""


def _writer(url: str, steps: Sequence[Step], barrier: Barrier, out: Any) -> None:
    """One process: open the database, wait for the others, try every step, report outcomes."""
    gf = Grantflow.open(url)
    results: list[Outcome] = []
    barrier.wait(TIMEOUT)
    for grant_id, cmd, actor in steps:
        try:
            gf.act(grant_id, cmd, actor=actor)
            results.append(("ok", grant_id))
        except RuleViolation as exc:
            results.append(("refused", grant_id, exc.rule_ids))
        except ConcurrentUpdate:
            results.append(("conflict", grant_id))
    gf.close()
    out.put(results)


def _race(gf: Grantflow, plans: Sequence[Sequence[Step]]) -> list[tuple[Any, ...]]:
    """Run one process per plan, all at once; the outcomes of every step."""
    assert gf.engine is not None
    url = gf.engine.url.render_as_string(hide_password=False)
    gf.engine.dispose()  # no pooled connection is carried into the children
    barrier = CTX.Barrier(len(plans))
    out = CTX.Queue()
    procs = [CTX.Process(target=_writer, args=(url, plan, barrier, out)) for plan in plans]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in out.get(timeout=TIMEOUT)]
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    return results


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def test_approvals_never_overspend_the_budget_or_an_envelope(gf: Grantflow) -> None:
    north = [gf.propose(small_proposal("250000.00"), actor="clara").id for _ in range(4)]
    south = [gf.propose(small_proposal("250000.00", "south"), actor="clara").id for _ in range(4)]
    plans = [[(gid, approve("2021-02-01", f"N-{gid}"), "anton")] for gid in north + south]
    results = _race(gf, plans)

    outcome = Counter(r[0] for r in results)
    assert sum(outcome.values()) == 8
    exposure = gf.exposure(SMALL)
    assert exposure.program_committed <= Decimal("1000000.00")
    assert exposure.region_committed.get("north", Decimal(0)) <= Decimal("600000.00")
    approved = {g.id for g in gf.grants(state=State.APPROVED)}
    assert approved == {r[1] for r in results if r[0] == "ok"}
    if not outcome["conflict"]:
        assert outcome["ok"] == 4  # 4 x 250,000 fill the budget whatever the order
    assert len(approved & set(north)) <= 2
    for r in results:
        records = gf.records(r[1])
        if r[0] == "ok":
            assert [x.event for x in records] == [Event.PROPOSE, Event.APPROVE]
        else:
            assert [x.event for x in records] == [Event.PROPOSE]
        if r[0] == "refused":
            assert set(r[2]) <= {"R-BUDGET", "R-ENVELOPE"}
    assert count(gf, "refused_attempts") == outcome["refused"]
    assert count(gf, "notices") == outcome["ok"]
    assert invariant_problems(gf) == []


def test_payouts_never_exceed_the_approved_amount(gf: Grantflow) -> None:
    g = gf.propose(small_proposal("900000.00", "south"), actor="clara")
    gf.act(g.id, approve("2021-02-01"), actor="anton")
    gf.act(g.id, start("2021-03-01"), actor="clara")
    plans = [[(g.id, disburse("200000.00", "2021-03-02"), "finn")] * 2 for _ in range(6)]
    results = _race(gf, plans)

    outcome = Counter(r[0] for r in results)
    grant = gf.grant(g.id)
    assert grant.disbursed_amount <= grant.approved_amount
    assert grant.disbursed_amount == Decimal("200000.00") * outcome["ok"]
    if not outcome["conflict"]:
        assert outcome["ok"] == 4 and outcome["refused"] == 8
    assert all(r[2] == ("GF-CEILING",) for r in results if r[0] == "refused")
    records = gf.records(g.id)
    assert [r.seq for r in records] == list(range(1, 4 + outcome["ok"]))
    assert sum(1 for r in records if r.event is Event.DISBURSE) == outcome["ok"]
    assert count(gf, "disbursements") == outcome["ok"]
    assert count(gf, "refused_attempts") == outcome["refused"]
    assert invariant_problems(gf) == []


def test_no_update_is_lost(gf: Grantflow) -> None:
    grants = []
    for _ in range(2):
        g = gf.propose(small_proposal("100000.00", "south"), actor="clara")
        gf.act(g.id, approve("2021-02-01"), actor="anton")
        grants.append(gf.act(g.id, start("2021-03-01"), actor="clara").id)
    plans = [
        [(grants[(i + k) % 2], disburse("1000.00", "2021-03-02"), "finn") for k in range(8)]
        for i in range(4)
    ]
    results = _race(gf, plans)

    ok = Counter(r[1] for r in results if r[0] == "ok")
    assert sum(ok.values()) + sum(1 for r in results if r[0] == "conflict") == 32
    for gid in grants:
        grant = gf.grant(gid)
        assert grant.disbursed_amount == Decimal("1000.00") * ok[gid]
        assert grant.version == 3 + ok[gid]
        assert len(grant.disbursements) == ok[gid]
    assert count(gf, "refused_attempts") == 0
    assert invariant_problems(gf) == []
