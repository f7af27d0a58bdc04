"""``audit verify`` over a million records, next to the floor measured in the same run.

    python -m benchmarks.audit [--records 1000000] [--small 100000] [--per-grant 10]
                               [--repeat 3] [--tracemalloc]

Builds a SQLite file with ``records`` transition records, ``per-grant`` per grant: one grant is
taken through the real service (propose, approve, start, payouts with their spending reports,
an extension, the proof of use), and its records are copied for the other grants with bare
``sqlite3`` ``executemany``, each copy chained and hashed as grantflow would (the grants' steps
interleave in the log, as in a program whose grants run side by side). A refused attempt and a
checkpoint sealing every grant's head are written through the service.

Then, taking turns, median of ``repeat`` runs:

* ``Grantflow.verify()``: the whole verification (every record's hash and chain, every grant
  row's version, the refused chain, the checkpoint and each of its heads);
* the **floor**: bare ``sqlite3`` reading the same rows in the same order (grant, seq), building
  the same canonical JSON bytes (``json.loads`` of the stored JSON, ``json.dumps`` with sorted
  keys) and comparing their SHA-256 and the chain -- the transitions only.

Printed: seconds and records per second of both, and the ratio (the target: within 2x). Then
memory: the peak resident set size of a fresh process while it runs ``verify`` on a
``small``-record file and on the ``records`` file (Linux: ``VmHWM``, reset just before), above
its size before (and, with ``--tracemalloc``, Python's own allocation peak; slow). Flat means:
the same at ``small`` and at ``records``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum

from benchmarks._template import life, set_up, template
from grantflow.audit import chain, entries
from grantflow.domain import lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.commands import Disburse
from grantflow.errors import Refused
from grantflow.services import Grantflow

GENESIS = "0" * 64  # the floor's own copy: it uses nothing of grantflow
COLUMNS = (
    "grant_id",
    "seq",
    "event",
    "from_state",
    "to_state",
    "business_date",
    "recorded_at",
    "actor",
    "reason",
    "data",
    "verdicts",
    "guideline_id",
    "guideline_version",
    "committed_amount",
    "state_hash",
    "actor_auth",
    "guideline_hash",
    "prev_hash",
    "hash",
)


def _template(app: Grantflow, per_grant: int) -> str:
    """One grant through the real service, ``per_grant`` records (at least 3): the application,
    the notice, the start, payouts every two months with their spending reports, an extension,
    the proof of use and the final notice, cut off after ``per_grant`` records; then a refused
    attempt."""
    version = set_up(app)
    pairs = max(0, -(-(per_grant - 5) // 2))  # payouts (with their reports) to fill the records
    steps = life(
        payouts=pairs,
        payout=Decimal("20000"),
        every_months=2,
        notice="BR-0001/2019",
        amendment="Ä-1",
        close=Decimal("1000000"),
    )[: per_grant - 1]
    gid = template(
        app,
        version,
        steps,
        title="Digitales Bürgerbüro – Vorlage",
        eligible=Decimal("1000000"),
        requested=Decimal("800000"),
    )
    with contextlib.suppress(Refused):  # a refused attempt: the refused chain is verified too
        app.act(gid, Disburse(date=pendulum.Date(2023, 1, 2), amount=Decimal("1")), actor="carla")
    return gid


def build(path: Path, records: int, per_grant: int) -> dict[str, Any]:
    """A SQLite file with ``records`` chained transition records and a checkpoint."""
    t0 = time.perf_counter()
    app = Grantflow.open(str(path), create=True)
    template = _template(app, per_grant)
    # the state after each of the template's steps, canonical: a copy's state hash is the hash
    # of these bytes with the template's id replaced by the copy's (as its snapshot is)
    states, grant = [], None
    for record in app.records(template):
        grant = lifecycle.apply(grant, record)
        states.append(chain.canonical(to_data(grant)).decode("utf-8"))
    app.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    rows = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM transitions WHERE grant_id = ? ORDER BY seq",
        (template,),
    ).fetchall()
    n = len(rows)
    grant_row = con.execute("SELECT * FROM grants WHERE id = ?", (template,)).fetchone()
    gcols = [c[0] for c in con.execute("SELECT * FROM grants LIMIT 0").description]
    parsed = [
        {
            **dict(zip(COLUMNS, r, strict=True)),
            "data": json.loads(r[COLUMNS.index("data")]),
            "verdicts": json.loads(r[COLUMNS.index("verdicts")]),
        }
        for r in rows
    ]
    insert_t = (
        f"INSERT INTO transitions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    insert_g = f"INSERT INTO grants ({', '.join(gcols)}) VALUES ({', '.join('?' * len(gcols))})"
    grants = max(1, records // n)
    window = 1000  # grants whose steps interleave in the log
    for first in range(1, grants, window):
        ids = [f"BEN-2019-{i:07d}" for i in range(first, min(grants, first + window))]
        heads = dict.fromkeys(ids, chain.GENESIS)
        batch = []
        for k, row in enumerate(rows):
            for gid in ids:
                state = hashlib.sha256(states[k].replace(template, gid).encode()).hexdigest()
                values = {
                    **parsed[k],
                    "grant_id": gid,
                    "state_hash": state,
                    "prev_hash": heads[gid],
                }
                h = chain.digest_of(entries.transition_payload(values))
                heads[gid] = h
                batch.append((gid, *row[1:-5], state, *row[-4:-2], values["prev_hash"], h))
        con.executemany(insert_t, batch)
        snapshot_at = gcols.index("snapshot")
        con.executemany(
            insert_g,
            [
                tuple(
                    gid
                    if c == "id"
                    else grant_row[snapshot_at].replace(template, gid)
                    if c == "snapshot"
                    else v
                    for c, v in zip(gcols, grant_row, strict=True)
                )
                for gid in ids
            ],
        )
        con.commit()
    con.close()
    with Grantflow.open(str(path)) as gf:
        checkpoint = gf.digest(by="ada")
    total = n * grants
    return {"seconds": time.perf_counter() - t0, "records": total, "grants": grants,
            "digest": checkpoint.digest, "mb": path.stat().st_size / 1e6}  # fmt: skip


def floor(path: Path) -> tuple[int, int]:
    """The transitions' hash chains checked with bare sqlite3: (records, broken)."""
    con = sqlite3.connect(path)
    cur = con.execute(
        "SELECT grant_id, seq, event, from_state, to_state, business_date, recorded_at, actor, "
        "reason, data, verdicts, guideline_id, guideline_version, state_hash, actor_auth, "
        "guideline_hash, prev_hash, hash FROM transitions ORDER BY grant_id, seq"
    )
    sha256, dumps, loads = hashlib.sha256, json.dumps, json.loads
    last_gid, last_hash, count, broken = None, GENESIS, 0, 0
    for (
        gid, seq, ev, fs, ts, bd, ra, actor, reason, data, verdicts, gl, glv, sh, aa, gh, prev, h
    ) in cur:  # fmt: skip
        if gid != last_gid:
            last_gid, last_hash = gid, GENESIS
        payload = {
            "kind": "transition",
            "grant_id": gid,
            "seq": seq,
            "event": ev,
            "from_state": fs,
            "to_state": ts,
            "business_date": bd,
            "recorded_at": f"{ra[:10]}T{ra[11:]}+00:00",
            "actor": actor,
            "reason": reason,
            "data": loads(data),
            "verdicts": loads(verdicts),
            "guideline_id": gl,
            "guideline_version": glv,
            "state_hash": sh,
            "actor_auth": aa,
            "guideline_hash": gh,
            "prev_hash": prev,
        }
        text = dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if prev != last_hash or sha256(text.encode("utf-8")).hexdigest() != h:
            broken += 1
        last_hash = h
        count += 1
    con.close()
    return count, broken


def service(path: Path, *, replay: bool = True) -> tuple[int, bool]:
    with Grantflow.open(str(path)) as gf:
        report = gf.verify(replay=replay)
    return report.transitions, report.intact


CHILD = """
import json, sys, time
trace = sys.argv[2] == "1"
from grantflow.services import Grantflow


def status(key):  # kB, from the kernel's view of this process (Linux)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])


gf = Grantflow.open(sys.argv[1])
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from the current size
if trace:
    import tracemalloc
    tracemalloc.start()
t = time.perf_counter()
report = gf.verify()
seconds = time.perf_counter() - t
peak_py = tracemalloc.get_traced_memory()[1] if trace else None
print(json.dumps({"before_kb": before, "peak_kb": status("VmHWM"), "traced_peak": peak_py,
                  "intact": report.intact, "records": report.transitions, "seconds": seconds}))
"""


def memory(path: Path, trace: bool) -> dict[str, Any]:
    """Peak RSS of a fresh process verifying ``path`` (and Python's peak with ``trace``)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), "1" if trace else "0"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--per-grant", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"grantflow audit verify benchmark: Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs; {args.records:,} records, "
        f"{args.per_grant} per grant; median of {args.repeat} runs",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.sqlite", Path(tmp) / "small.sqlite"
        built = build(big, args.records, args.per_grant)
        print(
            f"built {built['records']:,} records in {built['grants']:,} grants "
            f"({built['mb']:.0f} MB) in {built['seconds']:.1f} s; checkpoint "
            f"{built['digest'][:14]}… seals every grant",
            flush=True,
        )
        floor(big)  # warm the page cache
        times: dict[str, list[float]] = {"service": [], "floor": [], "chains": []}
        for _ in range(args.repeat):
            t = time.perf_counter()
            count, intact = service(big)
            times["service"].append(time.perf_counter() - t)
            assert intact and count == built["records"], "the built log verifies"
            t = time.perf_counter()
            count, intact = service(big, replay=False)
            times["chains"].append(time.perf_counter() - t)
            assert intact and count == built["records"], "the built log verifies"
            t = time.perf_counter()
            count, broken = floor(big)
            times["floor"].append(time.perf_counter() - t)
            assert broken == 0 and count == built["records"], "the floor agrees"
        s, f = statistics.median(times["service"]), statistics.median(times["floor"])
        c = statistics.median(times["chains"])
        n = built["records"]
        ratio = s / f
        print(f"{'':38} {'seconds':>8} {'records/s':>10}")
        print(f"{'audit verify (Grantflow.verify)':38} {s:8.1f} {n / s:10,.0f}")
        print(f"{'audit verify --chains-only':38} {c:8.1f} {n / c:10,.0f}")
        print(f"{'floor (bare sqlite3 + json + sha256)':38} {f:8.1f} {n / f:10,.0f}")
        print(
            f"--chains-only ratio {c / f:.2f}x; runs: "
            + ", ".join(
                f"{a / b:.2f}x" for a, b in zip(times["chains"], times["floor"], strict=True)
            ),
            flush=True,
        )
        print(
            f"ratio {ratio:.2f}x ({'within' if ratio <= 2 else 'ABOVE'} the 2x target; runs: "
            + ", ".join(
                f"{a / b:.2f}x" for a, b in zip(times["service"], times["floor"], strict=True)
            )
            + ")",
            flush=True,
        )
        build(small, args.small, args.per_grant)
        print(
            "memory of verify in a fresh process (its peak RSS while verifying, above its RSS "
            "before):"
        )
        for label, path in ((f"{args.small:,}", small), (f"{args.records:,}", big)):
            m = memory(path, args.tracemalloc)
            grown = (m["peak_kb"] - m["before_kb"]) / 1024
            traced = (
                f", Python allocations peak {m['traced_peak'] / 1e6:.1f} MB"
                if m["traced_peak"] is not None
                else ""
            )
            print(
                f"  {label:>10} records: +{grown:.1f} MB (peak {m['peak_kb'] / 1024:.0f} MB, "
                f"before {m['before_kb'] / 1024:.0f} MB){traced}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
