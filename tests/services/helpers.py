"""People, programs and commands for the service tests, and the invariants every database must
keep (used by the lifecycle, concurrency and crash tests alike)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa

from grantflow.domain import lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.commands import Approve, Disburse, Propose, Start
from grantflow.domain.model import Applicant, ApplicantKind, Event, Grant, Role
from grantflow.services import Grantflow
from grantflow.store import mapping
from grantflow.store.migrations import Layout

DMR = "nrw-digitale-modellregionen"
SMALL = "small-program"

DMR_ATTESTATIONS = frozenset(
    {"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"}
)

PEOPLE: dict[str, tuple[Role, ...]] = {
    "clara": (Role.CLERK,),
    "anton": (Role.APPROVER,),
    "berta": (Role.APPROVER,),
    "finn": (Role.FINANCE,),
    "audrey": (Role.AUDITOR,),
}

SMALL_PROGRAM = """
schema = 1

[program]
id = "small-program"
name = "A small test program"
short = "SP"

[[versions]]
version = "v1"
effective_from = 2020-01-01
title = "Test guideline"
source = "tests/services/helpers.py"
budget = "1000000.00"
funds_from = 2020-01-01
funds_until = 2030-12-31

[[versions.regions]]
id = "north"
name = "North"
lead = "Stadt Nord"
envelope = "600000.00"

[[versions.regions]]
id = "south"
name = "South"
lead = "Stadt Sued"

[[versions.applicants]]
name = "Stadt Nord"
kind = "municipality"
region = "north"

[[versions.applicants]]
name = "Stadt Sued"
kind = "municipality"
region = "south"

[[versions.rules]]
id = "R-BUDGET"
kind = "budget"
citation = "test: the program budget"
[versions.rules.params]
scope = "program"

[[versions.rules]]
id = "R-ENVELOPE"
kind = "budget"
citation = "test: the region envelope"
[versions.rules.params]
scope = "region"

[[versions.rules]]
id = "R-BAGATELLE"
kind = "minimum-amount"
severity = "soft"
citation = "test: minimum grant"
[versions.rules.params]
minimum = "1000.00"
"""


def day(text: str) -> pendulum.Date:
    return pendulum.Date.fromisoformat(text)


def small_program_file(directory: Path) -> Path:
    path = directory / "small-program.toml"
    path.write_text(SMALL_PROGRAM, encoding="utf-8")
    return path


def set_up(app: Grantflow, directory: Path | None = None) -> None:
    """The admin ``ada``, the people of :data:`PEOPLE`, DMR and (with ``directory``) the small
    program."""
    app.init("ada")
    for name, roles in PEOPLE.items():
        app.add_actor(name, roles, by="ada")
    app.load_program(DMR, by="ada")
    if directory is not None:
        app.load_program(str(small_program_file(directory)), by="ada")


def dmr_proposal(**changes: Any) -> Propose:
    """Stadt Paderborn's application to DMR: 1,000,000 eligible, 800,000 requested."""
    values: dict[str, Any] = {
        "date": day("2019-02-01"),
        "program_id": DMR,
        "title": "Digitales Bürgerbüro",
        "applicant": Applicant("Stadt Paderborn", ApplicantKind.MUNICIPALITY),
        "region": "owl",
        "focus": "e-government",
        "eligible_costs": Decimal("1000000.00"),
        "requested_amount": Decimal("800000.00"),
        "start": day("2019-04-01"),
        "end": day("2020-12-31"),
        "attestations": DMR_ATTESTATIONS | {"remedy-waiver"},
    }
    values.update(changes)
    return Propose(**values)


def small_proposal(amount: str = "300000.00", region: str = "north", **changes: Any) -> Propose:
    """An application to the small program: eligible costs = requested ``amount``."""
    lead = "Stadt Nord" if region == "north" else "Stadt Sued"
    values: dict[str, Any] = {
        "date": day("2021-01-10"),
        "program_id": SMALL,
        "title": f"Project of {amount}",
        "applicant": Applicant(lead, ApplicantKind.MUNICIPALITY),
        "region": region,
        "eligible_costs": Decimal(amount),
        "requested_amount": Decimal(amount),
        "start": day("2021-03-01"),
        "end": day("2022-12-31"),
    }
    values.update(changes)
    return Propose(**values)


def approve(d: str = "2019-03-15", number: str = "N-1", **kw: Any) -> Approve:
    return Approve(date=day(d), notice_number=number, **kw)


def start(d: str = "2019-04-01") -> Start:
    return Start(date=day(d))


def disburse(amount: str, d: str = "2019-05-02", **kw: Any) -> Disburse:
    return Disburse(date=day(d), amount=Decimal(amount), **kw)


def running_dmr_grant(app: Grantflow) -> Grant:
    """A DMR grant proposed, approved (800,000) and started."""
    g = app.propose(dmr_proposal(), actor="clara")
    app.act(g.id, approve(), actor="anton")
    return app.act(g.id, start(), actor="clara")


# --------------------------------------------------------------------------------------------
# Reading the raw tables
# --------------------------------------------------------------------------------------------


def table_contents(app: Grantflow, *, skip: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every grantflow table (but ``skip``), sorted: a snapshot to compare."""
    assert app.engine is not None
    out: dict[str, list[tuple[Any, ...]]] = {}
    md = app.models.metadata
    with app.engine.connect() as conn:
        for table in md.sorted_tables:
            short = table.name.removeprefix(app.models.prefix)
            if short in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            out[short] = sorted((tuple(repr(v) for v in r) for r in rows), key=repr)
    return out


def count(app: Grantflow, table: str) -> int:
    assert app.engine is not None
    t = app.models.metadata.tables[
        f"{app.models.schema + '.' if app.models.schema else ''}{app.models.prefix}{table}"
    ]
    with app.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())


def invariant_problems(app: Grantflow) -> list[str]:
    """Everything that breaks grantflow's storage invariants, read straight from the tables:

    * every grant's snapshot equals the replay of its transition records, and its query and
      money columns equal the snapshot's values;
    * the records of a grant are numbered 1..n without gaps, the row's version is n;
    * every disbursement and notice row belongs to a record of the right event, and every
      disburse / notice record has its money row;
    * no grant pays out more than it approved; no program commits more than its budget;
    * every hash chain of the log is intact (``Grantflow.verify``);
    * the budget days add up to what the log says (``Grantflow.check_budget_days``).
    """
    assert app.engine is not None
    m = app.models
    problems: list[str] = []
    with app.engine.connect() as conn:
        grants = conn.execute(sa.select(m.Grant.__table__)).mappings().all()  # type: ignore[attr-defined]
        transitions = (
            conn.execute(
                sa.select(m.Transition.__table__).order_by(m.Transition.grant_id, m.Transition.seq)  # type: ignore[attr-defined]
            )
            .mappings()
            .all()
        )
        disbursements = conn.execute(sa.select(m.Disbursement.__table__)).mappings().all()  # type: ignore[attr-defined]
        notices = conn.execute(sa.select(m.Notice.__table__)).mappings().all()  # type: ignore[attr-defined]
    by_grant: dict[str, list[Any]] = {}
    for t in transitions:
        by_grant.setdefault(t["grant_id"], []).append(t)
    events = {(t["grant_id"], t["seq"]): t["event"] for t in transitions}
    for row in grants:
        gid = row["id"]
        rows = by_grant.get(gid, [])
        seqs = [t["seq"] for t in rows]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"{gid}: record numbers {seqs} are not 1..n")
            continue
        records = [
            mapping.record_from_values(
                **{k: t[k] for k in _RECORD_KEYS},
            )
            for t in rows
        ]
        replayed = lifecycle.replay(records)
        snapshot = mapping.grant_from_snapshot(row["snapshot"])
        if replayed is None or to_data(replayed) != to_data(snapshot):
            problems.append(f"{gid}: the snapshot is not the replay of its records")
            continue
        if row["version"] != len(records):
            problems.append(f"{gid}: row version {row['version']} but {len(records)} records")
        expected = mapping.grant_values(snapshot, now=pendulum.now("UTC"))
        for column in (
            "state",
            "approved_amount",
            "committed_amount",
            "disbursed_amount",
            "eligible_costs",
            "private_funds",
            "period_end",
            "region",
            "call",
            "focus",
            "refund_outstanding",
            "refund_due",
            "refund_tranches",
        ):
            if row[column] != expected[column]:
                problems.append(
                    f"{gid}: column {column}={row[column]!r}, snapshot says {expected[column]!r}"
                )
        if snapshot.disbursed_amount > snapshot.approved_amount and snapshot.state.value not in (
            "revoked",
            "closed",
        ):
            problems.append(
                f"{gid}: paid {snapshot.disbursed_amount} of {snapshot.approved_amount}"
            )
        if rows and rows[-1]["committed_amount"] != snapshot.committed_amount:
            problems.append(f"{gid}: the last record keeps another commitment than the grant")
    for d in disbursements:
        if events.get((d["grant_id"], d["seq"])) != Event.DISBURSE.value:
            problems.append(f"disbursement {d['grant_id']}/{d['seq']} has no disburse record")
    for n in notices:
        if events.get((n["grant_id"], n["seq"])) != n["event"]:
            problems.append(f"notice {n['grant_id']}/{n['seq']} has no {n['event']} record")
    paid = {(d["grant_id"], d["seq"]) for d in disbursements}
    noted = {(n["grant_id"], n["seq"]) for n in notices}
    for key, event in events.items():
        if event == Event.DISBURSE.value and key not in paid:
            problems.append(f"record {key} paid, but there is no disbursement row")
        if event in ("approve", "extend", "amend", "revoke") and key not in noted:
            problems.append(f"record {key} issued a notice, but there is no notice row")
    for program in {g["program_id"] for g in grants}:
        budget = app.program(program).latest.budget
        committed = sum(
            (g["committed_amount"] for g in grants if g["program_id"] == program), Decimal(0)
        )
        if committed > budget:
            problems.append(f"{program}: {committed} committed of a budget of {budget}")
    problems.extend(f"audit chain: {p}" for p in app.verify().problems)
    problems.extend(app.check_budget_days())
    return problems


_RECORD_KEYS = (
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
)


__all__ = [
    "DMR",
    "PEOPLE",
    "SMALL",
    "approve",
    "count",
    "day",
    "disburse",
    "dmr_proposal",
    "invariant_problems",
    "running_dmr_grant",
    "set_up",
    "small_proposal",
    "start",
    "table_contents",
]


def chain_as_before_0006(conn: sa.Connection) -> None:
    """This grantflow's records carry the fields of migration 0006 in what their hashes cover;
    downgrading below 0006 drops those columns, so the records no longer match their hashes.
    A database from before 0006 never had them: chain its log the way grantflow did then
    (migration 0002's own chaining), with the append-only triggers off meanwhile. For tests
    that build an old database by downgrading one written by this grantflow."""
    chaining = importlib.import_module("grantflow.store.migrations.versions.0002_audit_chain")
    t = Layout()
    for statement in chaining.drop_trigger_ddl(conn.dialect.name, t):
        conn.execute(sa.text(statement))
    chaining._chain_transitions(conn, t)
    chaining._chain_refused(conn, t)
    for statement in chaining.trigger_ddl(conn.dialect.name, t):
        conn.execute(sa.text(statement))
