"""The tamper matrix: an attacker with table access drops the triggers and changes the log with
raw SQL; ``grantflow audit verify`` exits 3 naming the entry that was changed. On SQLite and
PostgreSQL, each case on its own copy of the scenario database (``conftest.Scenario``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from grantflow.audit import chain, entries
from grantflow_cli.main import cli
from tests.audit.conftest import (
    Scenario,
    attacker,
    drop_triggers,
    record_id,
    rewrite_grant_row,
)

Attack = Callable[[sa.Connection, Scenario], None]


def audit_verify(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, "audit", "verify", *args])


def table(conn: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=conn)


def row_of(conn: sa.Connection, grant_id: str, seq: int) -> dict[str, Any]:
    T = table(conn, "transitions")
    found = conn.execute(sa.select(T).where(T.c.grant_id == grant_id, T.c.seq == seq))
    return dict(found.mappings().one())


def put(conn: sa.Connection, row_id: int, values: dict[str, Any]) -> None:
    T = table(conn, "transitions")
    conn.execute(sa.update(T).where(T.c.id == row_id).values(**values))


# -- the attacks ------------------------------------------------------------------------------


def change_reason(conn: sa.Connection, sc: Scenario) -> None:
    conn.execute(
        sa.text("UPDATE transitions SET reason = 'anders' WHERE grant_id = :g AND seq = 4"),
        {"g": sc.a},
    )


def change_amount(conn: sa.Connection, sc: Scenario) -> None:
    """The payment of record 4 was 1000.00; now it says 9000.00 (the hash column untouched)."""
    row = row_of(conn, sc.a, 4)
    assert row["data"]["amount"] == "1000.00"
    put(conn, row["id"], {"data": {**row["data"], "amount": "9000.00"}})


def delete_middle(conn: sa.Connection, sc: Scenario) -> None:
    # record 3 is the start: no money row refers to it
    conn.execute(sa.text("DELETE FROM transitions WHERE grant_id = :g AND seq = 3"), {"g": sc.a})


def insert_record(conn: sa.Connection, sc: Scenario) -> None:
    """A forged record slipped in before c's record 3 (which moves to 4), chained correctly to
    record 2 and hashed correctly: the attacker knows the algorithm."""
    moved = row_of(conn, sc.c, 3)
    put(conn, moved["id"], {"seq": 4})
    before = row_of(conn, sc.c, 2)
    forged = {k: v for k, v in moved.items() if k != "id"}
    forged.update(seq=3, reason="nachträglich eingefügt", prev_hash=before["hash"])
    when = forged["recorded_at"]  # SQLite gives the stored UTC time back without a zone
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    forged["hash"] = chain.digest_of(entries.transition_payload({**forged, "recorded_at": aware}))
    new_id = conn.execute(sa.text("SELECT max(id) + 1 FROM transitions")).scalar_one()
    conn.execute(sa.insert(table(conn, "transitions")), [{**forged, "id": new_id}])


def swap_content(conn: sa.Connection, sc: Scenario) -> None:
    """Records 4 and 5 of a trade everything they say (their places, seq 4 and 5, stay)."""
    four, five = row_of(conn, sc.a, 4), row_of(conn, sc.a, 5)
    keep = ("id", "seq", "grant_id")
    put(conn, four["id"], {k: v for k, v in five.items() if k not in keep})
    put(conn, five["id"], {k: v for k, v in four.items() if k not in keep})


def swap_rows(conn: sa.Connection, sc: Scenario) -> None:
    """b's two records trade rows entirely (so also their places in the log's order)."""
    one, two = row_of(conn, sc.b, 1), row_of(conn, sc.b, 2)
    put(conn, one["id"], {"seq": -1})
    put(conn, two["id"], {k: v for k, v in one.items() if k != "id"})
    put(conn, one["id"], {k: v for k, v in two.items() if k != "id"})


def _cut_tail(conn: sa.Connection, sc: Scenario) -> None:
    for seq in (7, 6):
        conn.execute(
            sa.text("DELETE FROM disbursements WHERE grant_id = :g AND seq = :s"),
            {"g": sc.a, "s": seq},
        )
        conn.execute(
            sa.text("DELETE FROM transitions WHERE grant_id = :g AND seq = :s"),
            {"g": sc.a, "s": seq},
        )


def truncate_tail(conn: sa.Connection, sc: Scenario) -> None:
    _cut_tail(conn, sc)


def truncate_tail_and_fix_grant(conn: sa.Connection, sc: Scenario) -> None:
    """The tail cut, and the grant's row written as the replay of the records left (its
    version 5, its snapshot and columns), so that the row agrees with the log."""
    _cut_tail(conn, sc)
    rewrite_grant_row(conn, sc.a)


def truncate_tail_and_checkpoint(conn: sa.Connection, sc: Scenario) -> None:
    truncate_tail_and_fix_grant(conn, sc)
    conn.execute(sa.text("DELETE FROM audit_checkpoints WHERE id = 2"))


def delete_grant(conn: sa.Connection, sc: Scenario) -> None:
    conn.execute(sa.text("DELETE FROM transitions WHERE grant_id = :g"), {"g": sc.b})
    conn.execute(sa.text("DELETE FROM grants WHERE id = :g"), {"g": sc.b})


def change_refused(conn: sa.Connection, sc: Scenario) -> None:
    conn.execute(sa.text("UPDATE refused_attempts SET actor = 'ada' WHERE id = 2"))


def delete_refused(conn: sa.Connection, sc: Scenario) -> None:
    conn.execute(sa.text("DELETE FROM refused_attempts WHERE id = 1"))


def change_checkpoint(conn: sa.Connection, sc: Scenario) -> None:
    conn.execute(sa.text("UPDATE audit_checkpoints SET created_by = 'ada' WHERE id = 1"))


def hide_head_in_checkpoint(conn: sa.Connection, sc: Scenario) -> None:
    """Checkpoint 2 no longer seals grant a (to hide a cut tail)."""
    C = table(conn, "audit_checkpoints")
    heads = conn.execute(sa.select(C.c.heads).where(C.c.id == 2)).scalar_one()
    conn.execute(sa.update(C).where(C.c.id == 2).values(heads=[h for h in heads if h[0] != sc.a]))


def mangle_checkpoint_heads(conn: sa.Connection, sc: Scenario) -> None:
    """Checkpoint 1's heads are no list of heads any more: cut off mid-way (SQLite keeps the
    text), or an object (PostgreSQL keeps JSON only)."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("UPDATE audit_checkpoints SET heads = substr(heads, 1, 60)"))
    else:
        conn.execute(sa.text("""UPDATE audit_checkpoints SET heads = '{"heads": 0}' """))


def _where(sc: Scenario, text: str) -> str:
    return text.format(a=sc.a, b=sc.b, c=sc.c)


# attack, digest to verify with (None, 1, 2), expected start of the report (or None: intact),
# the log id named (a (grant, seq) pair is looked up before the attack), words of the reason
CASES: list[tuple[Attack, int | None, str | None, Any, str]] = [
    (change_reason, None, "grant {a} record 4", ("a", 4), "does not match its hash"),
    (change_amount, None, "grant {a} record 4", ("a", 4), "does not match its hash"),
    (delete_middle, None, "grant {a} record 4", ("a", 4), "record 3 is missing"),
    (insert_record, None, "grant {c} record 3", "forged", "was inserted"),
    (swap_content, None, "grant {a} record 4", ("a", 4), "does not match its hash"),
    (swap_rows, None, "grant {b} record 2", ("b", 1), "records were moved or swapped"),
    (truncate_tail, 1, "grant {a}", None, "version 7 but the newest record is 5"),
    (truncate_tail_and_fix_grant, 1, "checkpoint 2", "c-2", "sealed grant {a} record 7"),
    (truncate_tail_and_checkpoint, 2, "digest gf1-2-", None, "does not contain checkpoint 2"),
    (delete_grant, None, "checkpoint 1", "c-1", "sealed grant {b} record 2"),
    (change_refused, None, "refused attempt 2", "r-2", "does not match its hash"),
    (delete_refused, None, "refused attempt 2", "r-2", "refused attempt 1 is missing"),
    (change_checkpoint, None, "checkpoint 1", "c-1", "does not match its hash"),
    (hide_head_in_checkpoint, None, "checkpoint 2", "c-2", "does not match its hash"),
    (mangle_checkpoint_heads, None, "checkpoint 1", "c-1", "does not match its hash"),
]


def test_the_untouched_scenario_is_intact(scenario: Scenario) -> None:
    r = audit_verify(scenario.url, "--digest", scenario.digest1)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("intact: 12 transitions in 3 grants, 2 refused attempts, 2 check")
    assert audit_verify(scenario.url, "--digest", scenario.digest2).exit_code == 0


@pytest.mark.parametrize(
    ("attack", "digest", "where", "named", "what"),
    CASES,
    ids=[c[0].__name__ for c in CASES],
)
def test_tampering_is_found_and_named(
    scenario: Scenario, attack: Attack, digest: int | None, where: str, named: Any, what: str
) -> None:
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            drop_triggers(conn)
            expected_id = None
            if isinstance(named, tuple):
                expected_id = f"t-{record_id(conn, getattr(scenario, named[0]), named[1])}"
            attack(conn, scenario)
            if named == "forged":
                expected_id = f"t-{record_id(conn, scenario.c, 3)}"
            elif isinstance(named, str):
                expected_id = named
    finally:
        engine.dispose()
    args = ["--digest", scenario.digest1 if digest == 1 else scenario.digest2] if digest else []
    r = audit_verify(scenario.url, *args)
    assert r.exit_code == 3, r.output
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"BROKEN: {_where(scenario, where)}"), first
    assert _where(scenario, what) in first, first
    if expected_id is not None:
        assert f"({expected_id})" in first, first


def test_a_cut_tail_without_its_checkpoint_needs_the_digest(scenario: Scenario) -> None:
    """The limit of a log alone: whoever deletes the newest records *and* the checkpoints that
    sealed them leaves a consistent log; only the digest kept outside finds it."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            drop_triggers(conn)
            truncate_tail_and_checkpoint(conn, scenario)
    finally:
        engine.dispose()
    assert audit_verify(scenario.url).exit_code == 0
    assert audit_verify(scenario.url, "--digest", scenario.digest1).exit_code == 0
    assert audit_verify(scenario.url, "--digest", scenario.digest2).exit_code == 3
