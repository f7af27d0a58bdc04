"""Transitions per second through the service layer, next to the floor measured in the same run.

    python -m benchmarks.service [--grants 100] [--payouts 7] [--repeat 3] [--pg URL | --no-pg]

For each database (a SQLite file in WAL mode; PostgreSQL when reachable) a stream of
transitions runs through :class:`grantflow.services.Grantflow`: ``grants`` grants are proposed,
approved, started and paid ``payouts`` times, one transaction per step. The **floor** then
writes exactly the same rows (the UPDATE of the grant row with its snapshot, the INSERT of the
transition record and the INSERT of the money row; an INSERT of the grant row for a proposal;
for an approval or a payment the upsert of its budget day) with bare SQLAlchemy Core, one
transaction per step, on the same engine set-up (WAL, ``BEGIN IMMEDIATE``). The payloads come
from the records the service wrote, replayed in memory before the clock starts (the records'
hash chains and the budget days' changes too), so the floor does no domain work and no hashing
at all.

Printed per database: steps per second for the service and the floor, and the ratio of time per
step (service / floor; the target is at most 2x). Two more columns say where the rest goes: the
floor plus the reads a step needs (actor, grant row, guideline version: ``+reads``), and the
domain work alone (decide and apply in memory, no database). A last line per database says
what the budget-day upsert costs: the floor without it, per step that makes one. Service, floor,
floor+reads and the floor without the upsert take turns every ``chunk`` steps (each on a
database of its own), so that all see the same machine; the median of ``repeat`` runs is shown.
Absolute numbers on shared machines are noisy, the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from grantflow.audit import chain, entries
from grantflow.domain import budget, lifecycle
from grantflow.domain.commands import Approve, Command, Disburse, Propose, Start
from grantflow.domain.model import Actor, Applicant, ApplicantKind, Grant, Role, TransitionRecord
from grantflow.guidelines import load_text
from grantflow.services import Grantflow
from grantflow.store import create_engine, mapping, models_for, upgrade
from grantflow.store.models import Models

PG_DEFAULT = os.environ.get(
    "GRANTFLOW_BENCH_PG",
    os.environ.get("GRANTFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

PROGRAM = """
schema = 1

[program]
id = "bench"
name = "Benchmark program"
short = "BEN"

[[versions]]
version = "v1"
effective_from = 2020-01-01
title = "Benchmark guideline"
source = "benchmarks/service.py"
budget = "90000000000.00"
funds_from = 2020-01-01
funds_until = 2030-12-31

[[versions.rules]]
id = "R-BUDGET"
kind = "budget"
citation = "benchmark: the program budget"
[versions.rules.params]
scope = "program"

[[versions.rules]]
id = "R-FUNDING-RATE"
kind = "funding-rate"
citation = "benchmark: at most 80 %"
[versions.rules.params]
default_rate = "0.80"

[[versions.rules]]
id = "R-DRAWDOWN-2M"
kind = "drawdown-window"
citation = "benchmark: two months"
[versions.rules.params]
months = 2
"""

CLERK, APPROVER, FINANCE = "clara", "anton", "finn"
D = pendulum.Date


def commands(grants: int, payouts: int) -> Iterator[tuple[int, Command, str]]:
    """The stream: (grant number, command, actor), grant after grant."""
    for i in range(grants):
        yield (
            i,
            Propose(
                date=D(2021, 1, 4),
                program_id="bench",
                title=f"Project {i}",
                applicant=Applicant(f"Stadt {i}", ApplicantKind.MUNICIPALITY),
                eligible_costs=Decimal("1000000.00"),
                requested_amount=Decimal("800000.00"),
                start=D(2021, 2, 1),
                end=D(2022, 12, 31),
            ),
            CLERK,
        )
        yield i, Approve(date=D(2021, 1, 20), notice_number=f"N-{i}"), APPROVER
        yield i, Start(date=D(2021, 2, 1)), CLERK
        for k in range(payouts):
            yield i, Disburse(date=D(2021, 2, 2 + k), amount=Decimal("1000.00")), FINANCE


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


class Target:
    """Where runs happen: a fresh database (or schema) for every run."""

    name: str

    @contextmanager
    def fresh(self) -> Iterator[tuple[sa.Engine, Models]]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class SqliteTarget(Target):
    name = "sqlite (file, WAL)"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.n = 0

    @contextmanager
    def fresh(self) -> Iterator[tuple[sa.Engine, Models]]:
        self.n += 1
        path = self.directory / f"run{self.n}.sqlite"
        engine = create_engine(path)
        models = models_for()
        upgrade(engine, models)
        try:
            yield engine, models
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}, journal WAL, synchronous FULL, BEGIN IMMEDIATE"


class PostgresTarget(Target):
    name = "postgresql"

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.prefix = f"bench_{secrets.token_hex(3)}_"
        self.n = 0

    @contextmanager
    def fresh(self) -> Iterator[tuple[sa.Engine, Models]]:
        self.n += 1
        models = models_for(f"{self.prefix}{self.n}_")
        upgrade(self.engine, models)
        try:
            yield self.engine, models
        finally:
            with self.engine.begin() as conn:
                for table in reversed(models.metadata.sorted_tables):
                    table.drop(conn)
                conn.execute(sa.text(f'DROP TABLE "{models.version_table}"'))

    def describe(self) -> str:
        with self.engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
        return f"PostgreSQL {version} via psycopg 3, READ COMMITTED, SELECT … FOR NO KEY UPDATE"


def postgres(url: str) -> PostgresTarget | None:
    try:
        target = PostgresTarget(url)
        with target.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        print(f"postgresql: skipped, no server at {url} ({type(exc).__name__})")
        return None
    return target


# --------------------------------------------------------------------------------------------
# The service run, the floor, the domain alone
# --------------------------------------------------------------------------------------------


def set_up(gf: Grantflow, directory: Path) -> None:
    gf.init("ada")
    gf.add_actor(CLERK, [Role.CLERK], by="ada")
    gf.add_actor(APPROVER, [Role.APPROVER], by="ada")
    gf.add_actor(FINANCE, [Role.FINANCE], by="ada")
    path = directory / "bench.toml"
    path.write_text(PROGRAM, encoding="utf-8")
    gf.load_program(str(path), by="ada")


class ServiceStream:
    """The stream through :class:`Grantflow`, run chunk by chunk."""

    def __init__(self, engine: sa.Engine, models: Models, directory: Path) -> None:
        self.gf = Grantflow(engine, table_prefix=models.prefix, schema=models.schema)
        set_up(self.gf, directory)
        self.ids: dict[int, str] = {}
        self.seen = 0

    def run(self, steps: list[tuple[int, Command, str]]) -> float:
        """Seconds for ``steps`` through the service, one transaction each."""
        gf, ids = self.gf, self.ids
        t0 = time.perf_counter()
        for i, cmd, actor in steps:
            if isinstance(cmd, Propose):
                ids[i] = gf.propose(cmd, actor=actor).id
            else:
                gf.act(ids[i], cmd, actor=actor)
        return time.perf_counter() - t0

    def new_records(self) -> list[TransitionRecord]:
        """The records written since the last call (read after the clock stopped)."""
        records = [e.record for e in self.gf.log(include_refused=False)][self.seen :]
        self.seen += len(records)
        return [r for r in records if r is not None]


class Floor:
    """The same rows written with bare SQLAlchemy Core, one transaction per step.

    With ``reads``, each step also runs the three reads the service makes (actor roles, the
    grant row ``FOR UPDATE`` on PostgreSQL, the guideline version in force). Without
    ``budget_days`` it leaves out the upsert of the step's budget day (to measure its cost).
    """

    def __init__(
        self,
        engine: sa.Engine,
        models: Models,
        directory: Path,
        *,
        reads: bool,
        budget_days: bool = True,
    ) -> None:
        gf = Grantflow(engine, table_prefix=models.prefix, schema=models.schema)
        set_up(gf, directory)
        self.guideline_hash = gf.program("bench").latest.content_hash
        self.engine, self.reads, self.budget_days = engine, reads, budget_days
        B = models.BudgetDay.__table__  # type: ignore[attr-defined]
        upsert = (pg_insert if engine.dialect.name == "postgresql" else sqlite_insert)(B)
        self.upsert = upsert.on_conflict_do_update(
            index_elements=[B.c[c] for c in ("program_id", "day", "region", "focus", "call")],
            set_={c: B.c[c] + upsert.excluded[c] for c in budget.MEASURES},
        )
        self.current: dict[str, Grant] = {}
        self.heads: dict[str, str] = {}
        self.now = pendulum.now("UTC")
        A, P, V = models.Actor, models.Program, models.ProgramVersion
        G, T = models.Grant.__table__, models.Transition.__table__  # type: ignore[attr-defined]
        self.update = (
            sa.update(G)
            .where(G.c.id == sa.bindparam("where_id"), G.c.version == sa.bindparam("where_version"))
            .values({c: sa.bindparam(f"new_{c}", type_=G.c[c].type) for c in mapping.CHANGING})
        )
        self.insert_grant, self.insert_transition = sa.insert(G), sa.insert(T)
        self.inserts = {
            "disbursements": sa.insert(models.Disbursement.__table__),  # type: ignore[attr-defined]
            "notices": sa.insert(models.Notice.__table__),  # type: ignore[attr-defined]
        }
        self.actor_q = sa.select(A.roles).where(A.name == sa.bindparam("name"))
        grant_q = sa.select(G.c.snapshot, G.c.version).where(G.c.id == sa.bindparam("id"))
        self.grant_q = grant_q if engine.dialect.name == "sqlite" else grant_q.with_for_update()
        self.version_q = (
            sa.select(P.name, P.short, V.version, V.content_hash)
            .join(V, V.program_id == P.id)
            .where(P.id == sa.bindparam("pid"), V.effective_from <= sa.bindparam("day"))
            .order_by(V.effective_from.desc())
            .limit(1)
        )

    def prepare(self, records: list[TransitionRecord]) -> list[tuple[Any, ...]]:
        """The statement parameters of every step (computed before the clock starts)."""
        out = []
        for record in records:
            before = self.current.get(record.grant_id)
            after = lifecycle.apply(before, record)
            self.current[record.grant_id] = after
            values = mapping.grant_values(after, now=self.now)
            params: dict[str, Any] = values
            if before is not None:
                params = {f"new_{c}": values[c] for c in mapping.CHANGING}
                params["where_id"] = before.id
                params["where_version"] = before.version
            transition = mapping.transition_values(record, committed=after.committed_amount)
            # what the record commits to (migration 0006), as the service computes it
            transition["state_hash"] = chain.digest_of(values["snapshot"])
            transition["actor_auth"] = "host-application"
            transition["guideline_hash"] = self.guideline_hash
            # the record's place in its grant's hash chain, as the service computes it
            transition["prev_hash"] = self.heads.get(record.grant_id, chain.GENESIS)
            transition["hash"] = chain.digest_of(entries.transition_payload(transition))
            self.heads[record.grant_id] = transition["hash"]
            money = mapping.money_values(record, after)
            days = [
                {
                    "program_id": k.program_id,
                    "day": record.business_date,
                    "region": k.region,
                    "focus": k.focus,
                    "call": k.call,
                    **dict(zip(budget.MEASURES, change.values(), strict=True)),
                }
                for k, change in budget.deltas(before, after)
            ]
            out.append((record, before is None, params, transition, money, days))
        return out

    def run(self, prepared: list[tuple[Any, ...]]) -> float:
        """Seconds to write ``prepared``, one transaction per step."""
        t0 = time.perf_counter()
        for record, new, params, transition, money, days in prepared:
            with self.engine.begin() as conn:
                if self.reads:
                    conn.execute(self.actor_q, {"name": record.actor}).scalar_one()
                    if not new:
                        conn.execute(self.grant_q, {"id": record.grant_id}).one()
                    conn.execute(
                        self.version_q, {"pid": "bench", "day": record.business_date}
                    ).one()
                if new:
                    conn.execute(self.insert_grant, [params])
                else:
                    conn.execute(self.update, params)
                conn.execute(self.insert_transition, [transition])
                if money is not None:
                    conn.execute(self.inserts[money[0]], [money[1]])
                if days and self.budget_days:
                    conn.execute(self.upsert, days)
        return time.perf_counter() - t0


def domain_only(grants: int, payouts: int) -> float:
    """Seconds for decide + apply of the same stream in memory (no database)."""
    program = load_text(PROGRAM)
    version = program.latest
    actors = {
        CLERK: Actor(CLERK, frozenset({Role.CLERK})),
        APPROVER: Actor(APPROVER, frozenset({Role.APPROVER})),
        FINANCE: Actor(FINANCE, frozenset({Role.FINANCE})),
    }
    current: dict[int, Grant] = {}
    now = pendulum.now("UTC")
    steps = list(commands(grants, payouts))
    t0 = time.perf_counter()
    for i, cmd, actor in steps:
        grant = current.get(i)
        record = lifecycle.decide(
            grant,
            cmd,
            actor=actors[actor],
            version=version,
            recorded_at=now,
            grant_id=f"BEN-2021-{i:04d}",
        )
        current[i] = lifecycle.apply(grant, record)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------------


def measure(
    target: Target, directory: Path, grants: int, payouts: int, repeat: int, chunk: int
) -> dict[str, Any]:
    """Service, floor and floor+reads, interleaved chunk by chunk so that all three see the
    same machine; per run the totals, then the median over runs."""
    steps = list(commands(grants, payouts))
    with target.fresh() as (engine, models):  # warm-up: imports, caches, statement caches
        warm = ServiceStream(engine, models, directory)
        warm.run(steps[: 2 * (3 + payouts)])
    service: list[float] = []
    floor: list[float] = []
    reads: list[float] = []
    no_days: list[float] = []
    domain: list[float] = []
    upserts = grants * (1 + payouts)  # the approval and the payments change a budget day
    for _ in range(repeat):
        with (
            target.fresh() as (s_engine, s_models),
            target.fresh() as (f_engine, f_models),
            target.fresh() as (r_engine, r_models),
            target.fresh() as (n_engine, n_models),
        ):
            stream = ServiceStream(s_engine, s_models, directory)
            bare = Floor(f_engine, f_models, directory, reads=False)
            with_reads = Floor(r_engine, r_models, directory, reads=True)
            without = Floor(n_engine, n_models, directory, reads=False, budget_days=False)
            totals = [0.0, 0.0, 0.0, 0.0]
            all_records: list[TransitionRecord] = []
            for k in range(0, len(steps), chunk):
                totals[0] += stream.run(steps[k : k + chunk])
                records = stream.new_records()
                all_records += records
                totals[1] += bare.run(bare.prepare(records))
                totals[2] += with_reads.run(with_reads.prepare(records))
                totals[3] += without.run(without.prepare(records))
            assert len(all_records) == len(steps), "every step went through"
        service.append(totals[0] / len(steps))
        floor.append(totals[1] / len(steps))
        reads.append(totals[2] / len(steps))
        no_days.append((totals[1] - totals[3]) / upserts)
        domain.append(domain_only(grants, payouts) / len(steps))
    return {
        "steps": len(steps),
        "service": statistics.median(service),
        "floor": statistics.median(floor),
        "reads": statistics.median(reads),
        "upsert": statistics.median(no_days),
        "upserts": upserts,
        "domain": statistics.median(domain),
        "ratios": [s / f for s, f in zip(service, floor, strict=True)],
    }


def report(name: str, r: dict[str, Any]) -> str:
    ratio = r["service"] / r["floor"]
    verdict = "within" if ratio <= 2.0 else "ABOVE"
    return (
        f"{name:<20} {r['steps']:>6} {1 / r['service']:>10,.0f} {1 / r['floor']:>10,.0f} "
        f"{ratio:>6.2f}x  {1 / r['reads']:>10,.0f} {r['service'] / r['reads']:>6.2f}x "
        f"{r['domain'] * 1e6:>9,.0f}   {verdict} the 2x target "
        f"(runs: {', '.join(f'{x:.2f}x' for x in r['ratios'])})\n"
        f"{'':<20} the budget-day upsert: {r['upsert'] * 1e6:,.0f} µs in the floor per step "
        f"that makes one ({r['upserts']} of {r['steps']} steps; the floor with it less the "
        f"floor without it)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__)
    parser.add_argument("--grants", type=int, default=100, help="grants per run (default 100)")
    parser.add_argument("--payouts", type=int, default=7, help="payouts per grant (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per database (default 3)")
    parser.add_argument(
        "--chunk", type=int, default=20, help="steps per turn when interleaving (default 20)"
    )
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL URL")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)

    print(
        f"grantflow service benchmark: Python {platform.python_version()}, SQLAlchemy "
        f"{sa.__version__}, {os.cpu_count()} CPUs; {args.grants} grants x "
        f"(propose, approve, start, {args.payouts} payouts), median of {args.repeat} runs"
    )
    with tempfile.TemporaryDirectory(prefix="grantflow-bench-") as tmp:
        directory = Path(tmp)
        targets: list[Target] = [SqliteTarget(directory)]
        if not args.no_pg:
            pg = postgres(args.pg)
            if pg is not None:
                targets.append(pg)
        for t in targets:
            print(f"  {t.name}: {t.describe()}")
        print()
        print(
            f"{'database':<20} {'steps':>6} {'service/s':>10} {'floor/s':>10} {'ratio':>7}  "
            f"{'+reads/s':>10} {'ratio':>7} {'domain µs':>9}"
        )
        for t in targets:
            result = measure(t, directory, args.grants, args.payouts, args.repeat, args.chunk)
            print(report(t.name, result), flush=True)
    print(
        "\nratio = service time per step / floor time per step (the same rows written with "
        "bare Core, one transaction per step); +reads adds the actor, grant and version reads; "
        "domain = decide + apply in memory per step."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
