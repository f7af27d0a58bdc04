"""``report budget`` and ``due`` at scale, next to the floor measured in the same run.

    python -m benchmarks.reports [--grants 100000] [--repeat 5] [--keep PATH]

Builds a SQLite file with ``grants`` grants of the NRW program and ten transition records each
(1,000,000 records for the default 100,000 grants). Two grants are taken through the real
service (``benchmarks._template``): one closed after its proof of use with lower final costs
(so it owes a refund), one still running after an extension. Their rows are copied with bare
``sqlite3`` ``executemany`` for the others, four in five from the closed one: each copy in one
of the five regions and two focus areas, and with every date of its rows and documents moved,
the closed ones by up to 300 days, the running ones so that their funding periods end over the
four years after 2023-11 -- a program that has run for years, with steps on some 2,000
business days. The budget days of the copies are then rebuilt from the copied log by the code
migration 0004 runs (``Store.rebuild_budget_days``, timed), and checked against the grant rows.

Then it times, median of ``repeat`` runs:

* ``budget_report`` now and as of a past date, through :class:`grantflow.services.Grantflow`
  (the target: under a second each), next to the **floor**: the very SQL the report runs,
  compiled once and executed with bare ``sqlite3``;
* ``due`` within 30 days, next to its floor: the service's three queries with bare ``sqlite3``
  (the active candidates, the refund columns of the grants that owe one tranche of a refund,
  the other grants with a claim) plus ``json.loads`` of the snapshots they return. Every
  closed copy owes 4,000.00 EUR back, so the list holds some 80,000 refunds at 100,000 grants.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import re
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

from benchmarks._template import FOCUS, NRW, REGIONS, life, set_up, template
from grantflow.domain.duties import DutyKind
from grantflow.services import Grantflow, reports

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _templates(app: Grantflow) -> dict[str, str]:
    """The two template grants, by kind: ``closed`` and ``running``."""
    version = set_up(app)
    amounts: dict[str, Any] = {
        "eligible": Decimal("100000"),
        "requested": Decimal("80000"),
        "title": "Vorlage",
    }
    running = life(payouts=3, payout=Decimal("20000"), every_months=4, notice="N", amendment="Ä")
    # paid 40,000; final costs 45,000 make the grant 36,000 (80 %): 4,000 are owed back
    closed = life(
        payouts=2,
        payout=Decimal("20000"),
        every_months=4,
        notice="N",
        amendment="Ä",
        close=Decimal("45000"),
    )
    return {
        "running": template(app, version, running, **amounts),
        "closed": template(app, version, closed, **amounts),
    }


def _shifted(value: Any, days: int) -> Any:
    """``value`` with every ISO date in it (in JSON too) moved by ``days``."""
    if isinstance(value, str) and ISO_DAY.match(value):
        return pendulum.Date.fromisoformat(value).add(days=days).isoformat()
    if isinstance(value, dict):
        return {k: _shifted(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shifted(v, days) for v in value]
    return value


Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]
"""table -> (column names, rows) of one grant."""


def _variant(rows: Rows, days: int, region: str, focus: str) -> dict[str, list[list[Any]]]:
    """A grant's rows with every date moved by ``days`` and its region and focus set (in the
    columns, the snapshot and the application's record), without the generated ``id``s."""
    out: dict[str, list[list[Any]]] = {}
    for table, (cols, trows) in rows.items():
        out[table] = []
        for r in trows:
            values = dict(zip(cols, r, strict=True))
            for col, v in values.items():
                if col in ("data", "snapshot"):
                    doc = _shifted(json.loads(v), days)
                    if col == "snapshot" or values.get("event") == "propose":
                        doc.update(region=region, focus=focus)
                    values[col] = json.dumps(doc)
                elif col in ("region", "focus") and table == "grants":
                    values[col] = region if col == "region" else focus
                else:
                    values[col] = _shifted(v, days)
            out[table].append([values[c] for c in _columns(table, cols)])
    return out


def _columns(table: str, cols: list[str]) -> list[str]:
    """The columns a copy writes (all but a generated ``id``)."""
    return [c for c in cols if c != "id" or table == "grants"]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _clone(path: Path, templates: dict[str, str], n: int) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    for trig in [r[0] for r in con.execute("select name from sqlite_master where type='trigger'")]:
        con.execute(f'drop trigger "{trig}"')  # bulk set-up only; the benchmark does not write

    def rows(table: str, gid: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        key = "id" if table == "grants" else "grant_id"
        cur = con.execute(f'select * from "{table}" where {key} = ? order by id', (gid,))
        return [c[0] for c in cur.description], cur.fetchall()

    source: dict[str, Rows] = {
        kind: {t: rows(t, gid) for t in TABLES} for kind, gid in templates.items()
    }
    columns = {t: _columns(t, cols) for t, (cols, _) in source["closed"].items()}
    inserts = {
        t: f"insert into {_quoted([t])} ({_quoted(cols)}) values ({', '.join('?' for _ in cols)})"
        for t, cols in columns.items()
    }
    variants: dict[tuple[str, int, str, str], dict[str, list[list[Any]]]] = {}
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    for i in range(2, n):
        gid = f"DMR-2019-{i:06d}"
        kind = "closed" if i % 5 else "running"
        region, focus = REGIONS[(i // 5) % len(REGIONS)], FOCUS[(i // 25) % len(FOCUS)]
        # the running grants' funding periods (2022-06-30 in the template) end between
        # 2023-11-15 and 2027-09; the closed grants' steps move by up to 300 days
        days = 503 + 7 * ((i // 50) % 200) if kind == "running" else (i // 50) % 300
        at = (kind, days, region, focus)
        if at not in variants:
            variants[at] = _variant(source[kind], days, region, focus)
        for table, trows in variants[at].items():
            cols = columns[table]
            for r in trows:
                values = list(r)
                if table == "grants":
                    values[cols.index("id")] = gid
                    snapshot = cols.index("snapshot")
                    values[snapshot] = values[snapshot].replace(templates[kind], gid)
                else:
                    values[cols.index("grant_id")] = gid
                batch[table].append(tuple(values))
        if i % 5000 == 0 or i == n - 1:
            for table, values_list in batch.items():
                con.executemany(inserts[table], values_list)
                values_list.clear()
    con.commit()
    con.close()


TABLES = ("grants", "transitions", "disbursements", "notices")


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _agrees_with_grant_rows(con: sqlite3.Connection) -> None:
    """The rebuilt budget days sum to what the grant rows say now (cents, on SQLite)."""
    days = con.execute(
        "select sum(grants), sum(committed), sum(disbursed), sum(private), sum(total_volume) "
        "from budget_days"
    ).fetchone()
    rows = con.execute(
        "select sum(state in ('approved','running','extended','closed')), "
        "sum(committed_amount), sum(disbursed_amount), "
        "sum(case when state in ('approved','running','extended','closed') "
        "then private_funds else 0 end), "
        "sum(case when state in ('approved','running','extended','closed') "
        "then eligible_costs else 0 end) from grants"
    ).fetchone()
    assert days == rows, f"budget days {days} != grant rows {rows}"


def _build(path: Path, grants: int) -> None:
    """Build the file at ``path`` unless it exists, and say what it holds."""
    t0 = time.perf_counter()
    rebuilt = None
    if not path.exists():
        with Grantflow.open(str(path), create=True) as app:
            templates = _templates(app)
        _clone(path, templates, grants)
        t1 = time.perf_counter()
        with Grantflow.open(str(path)) as app:
            rows = app.rebuild_budget_days(by="ada")
        rebuilt = (time.perf_counter() - t1, rows)
    con = sqlite3.connect(path)
    counts = {
        t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
        for t in ("grants", "transitions", "budget_days")
    }
    days = con.execute("select count(distinct day) from budget_days").fetchone()[0]
    con.close()
    made = f"built in {time.perf_counter() - t0:.1f} s" if rebuilt is not None else "reused"
    print(
        f"{counts['grants']:,} grants and {counts['transitions']:,} transition records ({made}; "
        f"SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}); "
        f"{counts['budget_days']:,} budget-day rows on {days:,} business days"
    )
    if rebuilt is not None:
        print(
            f"rebuilding the budget days from the log (migration 0004's backfill): "
            f"{rebuilt[0]:.1f} s for {counts['transitions']:,} records, {rebuilt[1]:,} rows"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the database here (or reuse it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "scale.sqlite"
        _build(path, args.grants)
        app = Grantflow.open(str(path), create=True)
        con = sqlite3.connect(path)
        _agrees_with_grant_rows(con)
        program = app.program(NRW)
        as_of = pendulum.Date(2021, 1, 1)
        today = pendulum.Date(2026, 11, 23)
        results = []

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
            report = functools.partial(app.budget_report, NRW, as_of=day)
            service = _median(report, args.repeat)
            statements = _budget_sql(program, day)
            floor = _median(floor_of(statements), args.repeat)
            results.append((label, service, floor))
        horizon = pendulum.Date(2023, 11, 1)
        service = _median(lambda: app.due(as_of=horizon, within_days=30), args.repeat)

        def due_floor() -> object:
            found = con.execute(
                "select snapshot from grants where state in ('approved','running','extended') "
                "and (period_end <= ? or phase is not null) order by id",
                (horizon.add(days=30).isoformat(),),
            ).fetchall()
            refunds = con.execute(
                "select id, program_id, applicant, title, refund_due, refund_outstanding "
                "from grants where refund_tranches = 1 and last_business_date <= ? "
                "order by refund_due, id",
                (horizon.isoformat(),),
            ).fetchall()
            found += con.execute(
                "select snapshot from grants where refund_tranches > 1 or (refund_tranches in "
                "(0, 1) and last_business_date > ? and disbursed_amount > committed_amount)",
                (horizon.isoformat(),),
            ).fetchall()
            return [json.loads(s) for (s,) in found], refunds

        results.append(("due --within 30", service, _median(due_floor, args.repeat)))
        listed = app.due(as_of=horizon, within_days=30)
        refunds = sum(1 for i in listed if i.duty.kind is DutyKind.REFUND)
        print(f"{'operation':36} {'service s':>10} {'floor s':>9} {'ratio':>7}   target < 1 s")
        for label, s, f in results:
            print(f"{label:36} {s:10.3f} {f:9.3f} {s / f:6.2f}x   {'ok' if s < 1 else 'SLOW'}")
        print(f"(due listed {len(listed):,} duties, {refunds:,} of them refunds)")
        app.close()
        con.close()
    return 0


def _budget_sql(program: Any, day: pendulum.Date) -> Callable[[Any], list[str]]:
    """The report's SQL statements as literal SQL strings (compiled by SQLAlchemy)."""

    def compile_all(store: Any) -> list[str]:
        captured: list[str] = []
        real = store.conn.execute

        def spy(stmt: Any, *a: Any, **k: Any) -> Any:
            params = a[0] if a else k.get("parameters")
            bound = stmt.params(params) if params else stmt
            captured.append(
                str(
                    bound.compile(
                        dialect=store.conn.dialect, compile_kwargs={"literal_binds": True}
                    )
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
