"""A writer killed with SIGKILL at any point leaves a consistent database behind.

A child process runs a stream of transitions (propose, approve, start, payouts, close) until the
test kills it with SIGKILL after a random delay, so the kill lands anywhere: inside a
transaction, in a commit, between steps. After every kill the database opens, every grant's
state equals the replay of its transition records, and no money row lacks its record.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from decimal import Decimal
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from grantflow.domain.commands import Close
from grantflow.errors import GrantflowError
from grantflow.services import Grantflow
from tests.services.helpers import (
    approve,
    day,
    disburse,
    invariant_problems,
    set_up,
    small_proposal,
    start,
)

CTX = multiprocessing.get_context("fork")
KILLS = 6


def _stream(url: str, seed: int, ready: EventType) -> None:
    """Move grants through their lives, forever (until killed)."""
    gf = Grantflow.open(url)
    rng = random.Random(seed)
    ready.set()
    n = 0
    while True:
        n += 1
        try:
            g = gf.propose(small_proposal("2000.00", "south", title=f"{seed}-{n}"), actor="clara")
            gf.act(g.id, approve("2021-02-01", f"N-{seed}-{n}"), actor="anton")
            gf.act(g.id, start("2021-03-01"), actor="clara")
            for _ in range(rng.randint(1, 3)):
                gf.act(g.id, disburse("500.00", "2021-03-02"), actor="finn")
            if rng.random() < 0.5:
                gf.act(
                    g.id,
                    Close(date=day("2023-01-02"), final_costs=Decimal("1800.00")),
                    actor="berta",
                )
        except GrantflowError:
            pass  # a refusal is fine; the invariants must hold anyway


def test_sigkill_never_leaves_half_a_step(app: Grantflow, tmp_path: Path) -> None:
    set_up(app, tmp_path)
    assert app.engine is not None
    url = app.engine.url.render_as_string(hide_password=False)
    rng = random.Random(os.getpid())
    steps = 0
    for kill in range(KILLS):
        app.engine.dispose()
        ready = CTX.Event()
        child = CTX.Process(target=_stream, args=(url, kill, ready))
        child.start()
        assert ready.wait(60)
        # a random point in the stream: the pause ends wherever the child happens to be
        time.sleep(rng.uniform(0.1, 0.8))
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(30)
        assert child.exitcode == -signal.SIGKILL

        with Grantflow.open(url) as after:
            assert invariant_problems(after) == [], f"after kill {kill + 1}"
            total = sum(len(after.records(g.id)) for g in after.grants())
        assert total >= steps
        steps = total
    assert steps > 0
