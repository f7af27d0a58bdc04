"""The shared ``transitions`` Machine against one Machine per grant, per grant.

grantflow runs every step through ONE module-level Machine built from ``LIFECYCLE``: a step fires
the machine's event for a token holding the grant's state, without attaching the token to the
machine (``lifecycle._fire``, used by ``lifecycle.check``). The alternative is to build a
``transitions.Machine`` for each grant from the same ``LIFECYCLE`` data and fire the event on it.
This module measures, per grant:

* time: the machine alone (a condition that allows everything), and a whole ``lifecycle.check``
  with every rule of the packaged NRW guideline, once with the shared machine and once with a
  Machine built per grant (``lifecycle._fire`` swapped for the per-grant variant);
* memory (tracemalloc): bytes still allocated per grant when N grants are held at once
  (a long-lived Machine per grant, or N tokens next to the one shared Machine, which keeps
  nothing of them), and the allocation peak of a single step.

Run it with ``python -m benchmarks.machine [--grants N] [--repeat R]``. Absolute numbers depend on
the machine; compare the ratios (``../shared/perf-floors.md`` section 2 has the floor).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib.metadata import version as dist_version
from typing import Any

import pendulum
from transitions import Machine

from grantflow.domain import lifecycle
from grantflow.domain.commands import Approve, Command, Disburse, Propose, Start
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.lifecycle import LIFECYCLE, NEW, _rules_allow, _Token, check, decide
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Event,
    Grant,
    Role,
    State,
    Verdict,
)
from grantflow.domain.rules import Exposure
from grantflow.guidelines import load

STATES = [NEW, *(s.value for s in State)]


def transitions_table() -> list[dict[str, Any]]:
    """The transitions of ``LIFECYCLE`` exactly as ``lifecycle.build_machine`` declares them."""
    return [
        {
            "trigger": step.event.value,
            "source": list(step.sources),
            "dest": step.dest.value if step.dest else None,
            "conditions": [_rules_allow],
        }
        for step in LIFECYCLE
    ]


TRANSITIONS = transitions_table()


def machine_per_grant(token: _Token, state: str) -> Machine:
    """A Machine of its own for one grant, from the same LIFECYCLE data."""
    return Machine(
        model=token,
        states=STATES,
        transitions=TRANSITIONS,
        initial=state,
        auto_transitions=False,
        send_event=True,
    )


def fire_per_grant(state: str, event: Event, evaluate: Callable[[], tuple[Verdict, ...]]) -> _Token:
    """Drop-in for ``lifecycle._fire`` that builds a Machine per call instead of sharing one."""
    token = _Token(state, evaluate)
    machine_per_grant(token, state)
    token.trigger(event.value)  # type: ignore[attr-defined]
    return token


def allow_all() -> tuple[Verdict, ...]:
    return ()


@contextmanager
def per_grant_machines() -> Iterator[None]:
    shared = lifecycle._fire
    lifecycle._fire = fire_per_grant
    try:
        yield
    finally:
        lifecycle._fire = shared


# --------------------------------------------------------------------------------------------
# A realistic grant to check against: the packaged NRW guideline, every rule
# --------------------------------------------------------------------------------------------

CLERK = Actor("clara", frozenset({Role.CLERK}))
APPROVER = Actor("anton", frozenset({Role.APPROVER}))
FINANCE = Actor("fiona", frozenset({Role.FINANCE}))


def sample_grants() -> tuple[ProgramVersion, Grant, Grant]:
    """A proposed and a running grant under the NRW guideline."""
    program = load("nrw-digitale-modellregionen")
    version = program.latest
    now = pendulum.datetime(2021, 1, 1, tz="UTC")
    steps: list[tuple[Command, Actor]] = [
        (
            Propose(
                date=pendulum.Date(2019, 3, 1),
                program_id=program.id,
                title="Digitales Bürgerbüro",
                applicant=Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
                region="owl",
                focus="e-government",
                eligible_costs=Decimal("1000000.00"),
                requested_amount=Decimal("800000.00"),
                start=pendulum.Date(2019, 5, 1),
                end=pendulum.Date(2021, 4, 30),
                attestations=frozenset(
                    {"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"}
                ),
            ),
            CLERK,
        ),
        (Approve(date=pendulum.Date(2019, 4, 1), notice_number="DMR-B-1"), APPROVER),
        (Start(date=pendulum.Date(2019, 5, 1)), CLERK),
    ]
    grant: Grant | None = None
    proposed: Grant | None = None
    for cmd, actor in steps:
        record = decide(
            grant, cmd, actor=actor, version=version, recorded_at=now, grant_id="DMR-2019-0001"
        )
        grant = lifecycle.apply(grant, record)
        proposed = proposed or grant
    assert grant is not None and proposed is not None
    return version, proposed, grant


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def _run_us(work: Callable[[], object], grants: int) -> float:
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(grants):
        work()
    return (time.perf_counter_ns() - start) / grants / 1000


def per_grant_us(
    shared_work: Callable[[], object], own_work: Callable[[], object], grants: int, repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(median, min) µs per call for both variants, runs interleaved so drift hits both."""
    shared_work()
    with per_grant_machines():
        own_work()
    shared, own = [], []
    for _ in range(repeat):
        shared.append(_run_us(shared_work, grants))
        with per_grant_machines():
            own.append(_run_us(own_work, grants))
    return (statistics.median(shared), min(shared)), (statistics.median(own), min(own))


def retained_bytes(attach: Callable[[int], list[object]], grants: int, repeat: int) -> float:
    """Median traced bytes still allocated per grant while ``grants`` grants are attached."""
    results = []
    for _ in range(repeat):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        held = attach(grants)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        results.append((after - before) / grants)
        del held
    return statistics.median(results)


def step_peak_bytes(work: Callable[[], object], steps: int = 200) -> float:
    """Median allocation peak of one step above what was allocated before it."""
    work()
    peaks = []
    gc.collect()
    tracemalloc.start()
    for _ in range(steps):
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        work()
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    return statistics.median(peaks)


def attach_shared(n: int) -> list[object]:
    """N grants on the shared machine: N tokens; the machine holds none of them."""
    return [_Token(State.RUNNING.value, allow_all) for _ in range(n)]


def attach_per_grant(n: int) -> list[object]:
    out: list[object] = []
    for _ in range(n):
        token = _Token(State.RUNNING.value, allow_all)
        out.append(machine_per_grant(token, State.RUNNING.value))
    return out


def row(label: str, shared: tuple[float, float], per: tuple[float, float]) -> str:
    return (
        f"| {label} | {shared[0]:,.1f} | {shared[1]:,.1f} | {per[0]:,.1f} | {per[1]:,.1f} "
        f"| {per[0] / shared[0]:.2f}× | {per[1] / shared[1]:.2f}× |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.machine", description=__doc__)
    parser.add_argument("--grants", type=int, default=1000, help="grants per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case")
    args = parser.parse_args(argv)
    n, reps = args.grants, args.repeat

    version, proposed, running = sample_grants()
    pay = Disburse(date=pendulum.Date(2019, 6, 1), amount=Decimal("100000.00"))
    approve = Approve(date=pendulum.Date(2019, 4, 1), notice_number="DMR-B-1")
    exposure = Exposure()

    def check_pay() -> object:
        return check(running, pay, actor=FINANCE, version=version, exposure=exposure)

    def check_approve() -> object:
        return check(proposed, approve, actor=APPROVER, version=version, exposure=exposure)

    assert check_pay().allowed and check_approve().allowed  # type: ignore[attr-defined]
    with per_grant_machines():
        assert check_pay().allowed and check_approve().allowed  # type: ignore[attr-defined]

    def shared_fire(state: str, event: Event) -> Callable[[], object]:
        return lambda: lifecycle._fire(state, event, allow_all)

    def own_fire(state: str, event: Event) -> Callable[[], object]:
        return lambda: fire_per_grant(state, event, allow_all)

    cases = [
        (
            "machine only: disburse (running → running)",
            shared_fire("running", Event.DISBURSE),
            own_fire("running", Event.DISBURSE),
        ),
        (
            "machine only: approve (proposed → approved)",
            shared_fire("proposed", Event.APPROVE),
            own_fire("proposed", Event.APPROVE),
        ),
        ("lifecycle.check: disburse, all NRW rules", check_pay, check_pay),
        ("lifecycle.check: approve, all NRW rules", check_approve, check_approve),
    ]
    print(
        f"grantflow benchmarks.machine: shared Machine vs a Machine per grant\n"
        f"Python {platform.python_version()}, transitions {dist_version('transitions')}, "
        f"{len(STATES)} states, {len(LIFECYCLE)} triggers; "
        f"{n} grants x {reps} runs per case\n"
    )
    print("Time per grant (µs): shared machine's event for a token vs Machine(...) + trigger")
    print()
    print(
        "| case | shared median | shared min | per-grant median | per-grant min "
        "| ratio (medians) | ratio (mins) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, shared_work, own_work in cases:
        shared, per = per_grant_us(shared_work, own_work, n, reps)
        print(row(label, shared, per))

    print()
    print("Memory per grant (tracemalloc, bytes)")
    print()
    print("| what | shared | per-grant | per-grant / shared |")
    print("|---|---:|---:|---:|")
    held_shared = retained_bytes(attach_shared, n, 3)
    held_own = retained_bytes(attach_per_grant, n, 3)
    print(
        f"| retained while {n} grants are held at once | {held_shared:,.0f} "
        f"| {held_own:,.0f} | {held_own / held_shared:.1f}× |"
    )
    peak_shared = step_peak_bytes(shared_fire("running", Event.DISBURSE))
    peak_own = step_peak_bytes(own_fire("running", Event.DISBURSE))
    print(
        f"| allocation peak of one step (machine only, disburse) | {peak_shared:,.0f} "
        f"| {peak_own:,.0f} | {peak_own / peak_shared:.1f}× |"
    )
    check_peak_shared = step_peak_bytes(check_pay)
    with per_grant_machines():
        check_peak_own = step_peak_bytes(check_pay)
    print(
        f"| allocation peak of one lifecycle.check (disburse) | {check_peak_shared:,.0f} "
        f"| {check_peak_own:,.0f} | {check_peak_own / check_peak_shared:.1f}× |"
    )
    leftover = len(lifecycle._MACHINE.models)
    print(f"\nModels left on grantflow's shared Machine after all runs: {leftover}")


if __name__ == "__main__":
    main()
