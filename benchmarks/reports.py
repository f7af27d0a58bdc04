"""``report budget`` and ``due`` at scale, next to the floor measured in the same run.

    python -m benchmarks.reports [--grants 100000] [--repeat 5]

Builds a SQLite file with ``grants`` grants of the NRW program and ten transition records each
(1,000,000 records for the default 100,000 grants): one grant is taken through the real service
(propose, approve, start, three payouts with their spending reports, an extension), and its rows
are copied with bare ``sqlite3`` ``executemany`` for the others, with regions and funding
periods varied and four in five grants closed, as in a program that has run for years.

Then it times, median of ``repeat`` runs:

* ``budget_report`` now and as of a past date, through :class:`grantflow.services.Grantflow`
  (the target: under a second each), next to the **floor**: the very SQL the report runs,
  compiled once and executed with bare ``sqlite3``;
* ``due`` within 30 days, next to its floor: the candidate query with bare ``sqlite3`` plus
  ``json.loads`` of the snapshots it returns.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum

from grantflow.demo import ATTESTATIONS
from grantflow.domain.commands import Approve, Disburse, Extend, Propose, Start, Submit
from grantflow.domain.model import Document, Role
from grantflow.services import Grantflow, reports

NRW = "nrw-digitale-modellregionen"
REGIONS = ("aachen", "gelsenkirchen", "owl", "soest", "wuppertal")


def _template(app: Grantflow) -> str:
    app.init("ada")
    for name, role in (("carla", Role.CLERK), ("anton", Role.APPROVER), ("fiona", Role.FINANCE)):
        app.add_actor(name, [role], by="ada")
    app.load_program(NRW, by="ada")
    version = app.program(NRW).latest
    d = pendulum.Date
    g = app.propose(
        Propose(
            date=d(2019, 1, 10),
            program_id=NRW,
            title="Vorlage",
            applicant=version.applicant("Stadt Soest"),
            region="soest",
            focus="e-government",
            eligible_costs=Decimal("100000"),
            requested_amount=Decimal("80000"),
            start=d(2019, 4, 1),
            end=d(2021, 6, 30),
            attestations=ATTESTATIONS,
        ),
        actor="carla",
    )
    app.act(g.id, Approve(date=d(2019, 3, 1), notice_number="N"), actor="anton")
    app.act(g.id, Start(date=d(2019, 4, 1)), actor="carla")
    for month in (4, 8, 12):
        paid = d(2019, month, 2)
        app.act(g.id, Disburse(date=paid, amount=Decimal("20000")), actor="fiona")
        report = Submit(
            date=paid.add(days=20), document=Document.SPENDING_REPORT, amount=Decimal("20000")
        )
        app.act(g.id, report, actor="carla")
    app.act(
        g.id,
        Extend(
            date=d(2021, 9, 1), until=d(2022, 6, 30), notice_number="Ä", requested_on=d(2021, 6, 1)
        ),
        actor="anton",
    )
    return g.id


def _clone(path: Path, template: str, n: int) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    for trig in [r[0] for r in con.execute("select name from sqlite_master where type='trigger'")]:
        con.execute(f'drop trigger "{trig}"')  # bulk set-up only; the benchmark does not write

    def rows(table: str, key: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = con.execute(f'select * from "{table}" where {key} = ?', (template,))
        return [c[0] for c in cur.description], cur.fetchall()

    gcols, grows = rows("grants", "id")
    snapshot = json.loads(grows[0][gcols.index("snapshot")])
    child = {
        t: rows(t, "grant_id") for t in ("transitions", "disbursements", "notices") if t in tables
    }
    past = [pendulum.Date(2019, 6, 30).add(days=k) for k in range(0, 1400, 7)]
    future = [pendulum.Date(2023, 11, 15).add(days=k) for k in range(0, 1400, 7)]
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in ("grants", *child)}

    def flush() -> None:
        for table, values in batch.items():
            if not values:
                continue
            cols = gcols if table == "grants" else child[table][0]
            cols_sql = ", ".join(f'"{c}"' for c in cols if c != "id" or table == "grants")
            marks = ", ".join("?" for c in cols if c != "id" or table == "grants")
            con.executemany(f'insert into "{table}" ({cols_sql}) values ({marks})', values)
            values.clear()

    for i in range(1, n):
        gid = f"DMR-2019-{i:06d}"
        region = REGIONS[i % len(REGIONS)]
        # four in five grants are closed, their periods long over; the running ones end over
        # the next four years
        state = "closed" if i % 5 else "extended"
        end = (past if state == "closed" else future)[i % len(past)]
        snap = {**snapshot, "id": gid, "region": region, "state": state}
        snap["period"] = {**snapshot["period"], "end": end.isoformat()}
        row = list(grows[0])
        for col, value in (
            ("id", gid),
            ("region", region),
            ("state", state),
            ("period_end", end.isoformat()),
            ("snapshot", json.dumps(snap)),
        ):
            row[gcols.index(col)] = value
        batch["grants"].append(tuple(row))
        for table, (cols, trows) in child.items():
            for r in trows:
                values = [v for c, v in zip(cols, r, strict=True) if c != "id"]
                names = [c for c in cols if c != "id"]
                values[names.index("grant_id")] = gid
                if (
                    table == "transitions"
                    and r[cols.index("seq")] == len(trows)
                    and state == "closed"
                ):
                    values[names.index("to_state")] = "closed"
                batch[table].append(tuple(values))
        if i % 5000 == 0:
            flush()
    flush()
    con.commit()
    con.close()


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the database here (or reuse it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "scale.sqlite"
        t0 = time.perf_counter()
        if not path.exists():
            app = Grantflow.open(str(path), create=True)
            _clone(path, _template(app), args.grants)
        else:
            app = Grantflow.open(str(path), create=True)
        con = sqlite3.connect(path)
        counts = {
            t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
            for t in ("grants", "transitions")
        }
        print(
            f"built {counts['grants']:,} grants and {counts['transitions']:,} transition records "
            f"in {time.perf_counter() - t0:.1f} s (SQLite {sqlite3.sqlite_version}, "
            f"Python {platform.python_version()})"
        )
        program = app.program(NRW)
        as_of = pendulum.Date(2021, 1, 1)
        today = pendulum.Date(2026, 11, 23)
        rows = []

        def floor_of(stmt_fn: Callable[[Any], Any]) -> Callable[[], object]:
            sql: list[str] = []

            def grab(store: Any) -> None:
                compiled = stmt_fn(store)
                sql.append(compiled)

            app._read(grab)  # the benchmark compiles the service's own SQL

            def run() -> object:
                return [con.execute(s).fetchall() for s in sql[0]]

            return run

        for label, day in (
            ("report budget (now)", today),
            ("report budget --as-of 2021-01-01", as_of),
        ):
            service = _median(lambda d=day: app.budget_report(NRW, as_of=d), args.repeat)
            statements = _budget_sql(program, day)
            floor = _median(floor_of(statements), args.repeat)
            rows.append((label, service, floor))
        horizon = pendulum.Date(2023, 11, 1)
        service = _median(lambda: app.due(as_of=horizon, within_days=30), args.repeat)

        def due_floor() -> object:
            found = con.execute(
                "select snapshot from grants where state in ('approved','running','extended') "
                "and (period_end <= ? or phase is not null) order by id",
                (horizon.add(days=30).isoformat(),),
            ).fetchall()
            return [json.loads(s) for (s,) in found]

        rows.append(("due --within 30", service, _median(due_floor, args.repeat)))
        n_due = len(app.due(as_of=horizon, within_days=30))
        print(f"{'operation':36} {'service s':>10} {'floor s':>9} {'ratio':>7}   target < 1 s")
        for label, s, f in rows:
            print(f"{label:36} {s:10.3f} {f:9.3f} {s / f:6.2f}x   {'ok' if s < 1 else 'SLOW'}")
        print(f"(due listed {n_due:,} duties)")
        app.close()
        con.close()
    return 0


def _budget_sql(program: Any, day: pendulum.Date) -> Callable[[Any], list[str]]:
    """The report's SQL statements as literal SQL strings (compiled by SQLAlchemy)."""

    def compile_all(store: Any) -> list[str]:
        captured: list[str] = []
        real = store.conn.execute

        def spy(stmt: Any, *a: Any, **k: Any) -> Any:
            captured.append(
                str(
                    stmt.compile(dialect=store.conn.dialect, compile_kwargs={"literal_binds": True})
                )
            )
            return real(stmt, *a, **k)

        store.conn.execute = spy
        try:
            reports.budget_report(store, program, day)
        finally:
            store.conn.execute = real
        return captured

    return compile_all


if __name__ == "__main__":
    sys.exit(main())
