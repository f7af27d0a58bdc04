"""Issue 12's attacks, performed: the log must prove what happened, and that it was allowed.

Each test changes the scenario database (``conftest.Scenario``) the way an attacker with table
access would, on SQLite and PostgreSQL, and asserts what grantflow answers: a step refuses to
decide on a grant row its log does not commit to (exit 3, nothing written), and ``audit verify``
replays and re-judges the log (exit 3, naming the record and the rule).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner, Result

from grantflow.audit import chain, entries
from grantflow.domain import lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.commands import Disburse
from grantflow.errors import BadInput, IntegrityFailure
from grantflow.services import Grantflow
from grantflow.store import create_engine, models_for, schema
from grantflow_cli.main import cli
from tests.audit.conftest import Scenario, attacker, drop_triggers
from tests.services.helpers import (
    chain_as_before_0006,
    day,
    disburse,
    running_dmr_grant,
    set_up,
)


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, *args])


def tables(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every grantflow table (to prove nothing was written)."""
    engine = attacker(url)
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            return {
                name: [dict(r) for r in conn.execute(sa.select(t)).mappings()]
                for name, t in sorted(meta.tables.items())
                if name != "refused_attempts"
            }
    finally:
        engine.dispose()


def snapshot_of(conn: sa.Connection, grant_id: str) -> dict[str, Any]:
    raw = conn.execute(
        sa.text("SELECT snapshot FROM grants WHERE id = :g"), {"g": grant_id}
    ).scalar_one()
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def set_snapshot(conn: sa.Connection, grant_id: str, snapshot: dict[str, Any], **cols: Any) -> None:
    value: Any = (
        json.dumps(snapshot)
        if conn.dialect.name == "sqlite"
        else sa.cast(sa.literal(json.dumps(snapshot)), sa.dialects.postgresql.JSONB)
    )
    assigns = ", ".join(f"{c} = :{c}" for c in cols)
    if conn.dialect.name == "sqlite":
        conn.execute(
            sa.text(
                f"UPDATE grants SET snapshot = :s{', ' + assigns if assigns else ''} WHERE id = :g"
            ),
            {"s": value, "g": grant_id, **cols},
        )
    else:
        conn.execute(
            sa.text(
                f"UPDATE grants SET snapshot = CAST(:s AS jsonb)"
                f"{', ' + assigns if assigns else ''} WHERE id = :g"
            ),
            {"s": json.dumps(snapshot), "g": grant_id, **cols},
        )
    del value


def cents(conn: sa.Connection, amount: str) -> Any:
    """An amount as the grants table stores it (integer cents on SQLite)."""
    return int(Decimal(amount) * 100) if conn.dialect.name == "sqlite" else Decimal(amount)


# -- attack 1: pay twice ----------------------------------------------------------------------


def test_a_grant_row_emptied_of_its_payments_stops_the_next_payment(scenario: Scenario) -> None:
    """UPDATE grants: no payments on grant a (its row and snapshot), then pay the whole grant
    again. The step refuses to decide on a row its log does not commit to: exit 3, naming
    the grant, nothing written; verify reports the row."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            snap = snapshot_of(conn, scenario.a)
            assert snap["disbursements"]
            snap["disbursements"] = []
            set_snapshot(conn, scenario.a, snap, disbursed_amount=cents(conn, "0"))
    finally:
        engine.dispose()
    before = tables(scenario.url)
    with Grantflow.open(scenario.url) as gf, pytest.raises(IntegrityFailure) as err:
        gf.act(scenario.a, disburse("800000.00", "2019-09-02"), actor="finn")
    assert err.value.exit_code == 3
    assert f"grant {scenario.a} was changed outside grantflow" in str(err.value)
    assert tables(scenario.url) == before
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3
    assert f"grant {scenario.a}" in v.output and "replay" in v.output


def test_a_state_column_edited_behind_grantflow_is_caught_by_the_step_and_verify(
    scenario: Scenario,
) -> None:
    """running -> closed in the state column only (the snapshot untouched)."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE grants SET state = 'closed' WHERE id = :g"), {"g": scenario.a}
            )
    finally:
        engine.dispose()
    with Grantflow.open(scenario.url) as gf, pytest.raises(IntegrityFailure) as err:
        gf.act(scenario.a, disburse("1.00", "2019-09-02"), actor="finn")
    assert "state is closed, the snapshot says running" in str(err.value)
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3 and "its state column is closed, its records give running" in v.output


def test_an_untouched_grant_still_steps(scenario: Scenario) -> None:
    """The negative control: the same payment on the untouched database goes through."""
    with Grantflow.open(scenario.url) as gf:
        gf.act(scenario.a, disburse("1000.00", "2019-09-02"), actor="finn")
        assert gf.verify(scenario.digest2).intact


# -- attack 4: forged records with a correct hash ---------------------------------------------


def _append_forged(
    conn: sa.Connection,
    grant_id: str,
    *,
    event: str,
    data: dict[str, Any],
    from_state: str,
    to_state: str,
    business_date: str,
    actor: str = "finn",
) -> int:
    """Append a record to ``grant_id``'s chain with every hash right: its own, its link, and a
    state hash of the state it claims (computed with grantflow's own domain code)."""
    head = conn.execute(
        sa.text(
            "SELECT seq, hash, guideline_id, guideline_version, guideline_hash FROM transitions "
            "WHERE grant_id = :g ORDER BY seq DESC LIMIT 1"
        ),
        {"g": grant_id},
    ).one()
    row: dict[str, Any] = {
        "grant_id": grant_id,
        "seq": head.seq + 1,
        "event": event,
        "from_state": from_state,
        "to_state": to_state,
        "business_date": dt.date.fromisoformat(business_date),
        "recorded_at": dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC),
        "actor": actor,
        "reason": "forged",
        "data": data,
        "verdicts": [],
        "guideline_id": head.guideline_id,
        "guideline_version": head.guideline_version,
        "committed_amount": cents(conn, "0"),
        "actor_auth": "host-application",
        "guideline_hash": head.guideline_hash,
        "state_hash": "0" * 64,
        "prev_hash": head.hash,
    }
    row["hash"] = chain.digest_of(entries.transition_payload(row))
    new_id: int = conn.execute(sa.text("SELECT max(id) + 1 FROM transitions")).scalar_one()
    conn.execute(
        sa.insert(sa.Table("transitions", sa.MetaData(), autoload_with=conn)),
        [{**row, "id": new_id}],
    )
    conn.execute(
        sa.text("UPDATE grants SET version = :v WHERE id = :g"), {"v": row["seq"], "g": grant_id}
    )
    return new_id


def test_a_well_hashed_payment_on_a_withdrawn_grant_is_reported_with_its_rule(
    scenario: Scenario,
) -> None:
    """Grant b was withdrawn; a payment record appended with correct hashes (INSERT on the log
    and UPDATE on grants, rights the application login holds) passes every hash check, but
    the rules would have refused it: verify exits 3 naming the record and GF-LIFECYCLE."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            new_id = _append_forged(
                conn,
                scenario.b,
                event="disburse",
                data={
                    "date": "2021-02-01",
                    "reason": "forged",
                    "overrides": [],
                    "attestations": [],
                    "amount": "20000.00",
                    "needed_by": "2021-02-01",
                },
                from_state="withdrawn",
                to_state="withdrawn",
                business_date="2021-02-01",
            )
    finally:
        engine.dispose()
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3, v.output
    assert f"t-{new_id}" in v.output
    assert "GF-LIFECYCLE" in v.output


def test_a_record_that_does_not_start_where_the_last_ended_is_reported(scenario: Scenario) -> None:
    """A well-hashed record of grant c claiming to start in ``closed`` (c is running)."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            new_id = _append_forged(
                conn,
                scenario.c,
                event="start",
                data={
                    "date": "2021-04-01",
                    "reason": "forged",
                    "overrides": [],
                    "attestations": [],
                },
                from_state="closed",
                to_state="running",
                business_date="2021-04-01",
            )
    finally:
        engine.dispose()
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3
    assert (
        f"grant {scenario.c} record 4 (t-{new_id}): starts in closed but record 3 ended in "
        "running" in v.output
    )


# -- attack 5: the guideline swapped -----------------------------------------------------------


def test_a_swapped_guideline_with_a_recomputed_fingerprint_is_reported(scenario: Scenario) -> None:
    """The stored DMR guideline gets a budget of 999 M and a content hash recomputed to match:
    grantflow's own check of the document passes, but verify compares the hash with the one
    every record carries and the administrative chain loaded."""
    from grantflow.guidelines import loader

    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT program_id, version, document FROM program_versions "
                    "WHERE program_id = 'nrw-digitale-modellregionen' ORDER BY version LIMIT 1"
                )
            ).one()
            document = json.loads(row.document) if isinstance(row.document, str) else row.document
            document["budget"] = "999000000.00"
            name = conn.execute(
                sa.text("SELECT name FROM programs WHERE id = :p"), {"p": row.program_id}
            ).scalar_one()
            swapped = loader.version_from_document(document, row.program_id, name)
            conn.execute(
                sa.text(
                    "UPDATE program_versions SET document = :d, content_hash = :h "
                    "WHERE program_id = :p AND version = :v"
                    if conn.dialect.name == "sqlite"
                    else "UPDATE program_versions SET document = CAST(:d AS jsonb), "
                    "content_hash = :h WHERE program_id = :p AND version = :v"
                ),
                {
                    "d": json.dumps(document),
                    "h": swapped.content_hash,
                    "p": row.program_id,
                    "v": row.version,
                },
            )
    finally:
        engine.dispose()
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3, v.output
    assert "the guideline was swapped" in v.output


# -- attack 3: actors changed behind grantflow's back -----------------------------------------


def test_roles_given_behind_grantflows_back_are_reported(scenario: Scenario) -> None:
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            roles = '["admin", "approver"]'
            conn.execute(
                sa.text("UPDATE actors SET roles = :r WHERE name = 'clara'")
                if conn.dialect.name == "sqlite"
                else sa.text("UPDATE actors SET roles = CAST(:r AS jsonb) WHERE name = 'clara'"),
                {"r": roles},
            )
    finally:
        engine.dispose()
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3
    assert "actor clara: has the roles admin, approver in the actors table" in v.output


def test_role_changes_are_in_the_administrative_chain(scenario: Scenario) -> None:
    with Grantflow.open(scenario.url) as gf:
        gf.set_roles("clara", ["clerk", "finance"], by="ada")
        history = [(e.action, e.subject, dict(e.data)) for e in gf.actor_history("clara")]
        assert history[-1] == ("roles", "clara", {"roles": ["clerk", "finance"]})
        report = gf.verify()
        assert report.intact, report.summary()
        gf.digest(by="ada")
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            drop_triggers(conn)
            conn.execute(
                sa.text("DELETE FROM admin_events WHERE id = (SELECT max(id) FROM admin_events)")
            )
    finally:
        engine.dispose()
    v = run(scenario.url, "audit", "verify")
    assert v.exit_code == 3


def test_names_are_unique_whatever_their_case(scenario: Scenario) -> None:
    with Grantflow.open(scenario.url) as gf, pytest.raises(BadInput) as err:
        gf.add_actor("Clara", ["approver"], by="ada")
    assert "there is already an actor 'Clara' ('clara'" in str(err.value)
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(
                sa.text(
                    "INSERT INTO actors (name, roles, created_at, login) VALUES "
                    "('CLARA', '[]', '2026-01-01 00:00:00.000000', 'x')"
                )
                if conn.dialect.name == "sqlite"
                else sa.text(
                    "INSERT INTO actors (name, roles, created_at, login) VALUES "
                    "('CLARA', '[]'::jsonb, now(), 'x')"
                )
            )
    finally:
        engine.dispose()


def test_verify_replays_what_the_scenario_did(scenario: Scenario) -> None:
    with Grantflow.open(scenario.url) as gf:
        report = gf.verify()
    assert report.intact and report.judged == report.transitions and report.legacy == 0
    assert report.admin >= 1


def test_the_state_hash_is_the_hash_of_the_snapshot(scenario: Scenario) -> None:
    engine = attacker(scenario.url)
    try:
        with engine.connect() as conn:
            head = conn.execute(
                sa.text(
                    "SELECT t.state_hash, g.snapshot FROM transitions t JOIN grants g ON "
                    "g.id = t.grant_id AND g.version = t.seq WHERE t.grant_id = :g"
                ),
                {"g": scenario.a},
            ).one()
    finally:
        engine.dispose()
    snapshot = json.loads(head.snapshot) if isinstance(head.snapshot, str) else head.snapshot
    assert head.state_hash == chain.digest_of(snapshot)
    with Grantflow.open(scenario.url) as gf:
        replayed = lifecycle.replay(gf.records(scenario.a))
    assert chain.digest_of(to_data(replayed)) == head.state_hash


def test_the_library_refuses_a_tampered_row_too(scenario: Scenario) -> None:
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            snap = snapshot_of(conn, scenario.a)
            snap["title"] = "anders"
            set_snapshot(conn, scenario.a, snap)
    finally:
        engine.dispose()
    with Grantflow.open(scenario.url) as gf, pytest.raises(IntegrityFailure):
        gf.act(scenario.a, Disburse(date=day("2019-09-02"), amount=Decimal("1.00")), actor="finn")


# -- migration 0006: old records keep verifying, new guarantees from then on ------------------


def test_a_log_from_before_0006_keeps_verifying_and_the_guarantees_start_at_the_upgrade(
    empty_db_url: str, tmp_path: Path
) -> None:
    with Grantflow.open(empty_db_url, create=True) as gf:
        set_up(gf, tmp_path)
        g = running_dmr_grant(gf)
        gf.act(g.id, disburse("1000.00"), actor="finn")
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:  # the database as a grantflow before 0006 left it
            command.downgrade(schema.alembic_config(connection=conn), "0005")
            chain_as_before_0006(conn)
            # a grant row changed before the upgrade: the upgrade rebuilds it from the log
            conn.execute(sa.text("UPDATE grants SET state = 'closed' WHERE id = :g"), {"g": g.id})
        schema.upgrade(engine, models_for())
    finally:
        engine.dispose()
    with Grantflow.open(empty_db_url) as gf:
        report = gf.verify()
        assert report.intact, report.summary()
        assert (report.legacy, report.judged) == (4, 0)
        assert "4 written before migration 0006 checked for their chain and replay only" in (
            report.summary()
        )
        assert gf.grant(g.id).state.value == "running"  # repaired from the log
        gf.act(g.id, disburse("1000.00", "2019-05-03"), actor="finn")  # steps on
        report = gf.verify()
        assert report.intact and (report.legacy, report.judged) == (4, 1)
    # a record without the new fields appended after the upgrade is no grantflow record
    attack = attacker(empty_db_url)
    try:
        with attack.begin() as conn:
            T = models_for().Transition.__table__  # type: ignore[attr-defined]
            head = (
                conn.execute(
                    sa.select(T).where(T.c.grant_id == g.id).order_by(T.c.seq.desc()).limit(1)
                )
                .mappings()
                .one()
            )
            row = {k: v for k, v in head.items() if k != "id"}
            row.update(
                seq=head["seq"] + 1,
                prev_hash=head["hash"],
                reason="ohne Angaben",
                state_hash=None,
                actor_auth=None,
                guideline_hash=None,
            )
            row["hash"] = chain.digest_of(entries.transition_payload(row))
            if conn.dialect.name == "postgresql":
                drop_triggers(conn)  # the identity trigger refuses such a record outright
            conn.execute(sa.insert(T), [row])
            conn.execute(
                sa.text("UPDATE grants SET version = version + 1 WHERE id = :g"), {"g": g.id}
            )
    finally:
        attack.dispose()
    with Grantflow.open(empty_db_url) as gf:
        report = gf.verify()
    assert not report.intact
    assert any("not written by grantflow" in p.what for p in report.problems)


def test_a_dry_run_refuses_to_judge_a_tampered_row_too(scenario: Scenario) -> None:
    """`check` reads the grant the way a step does: a row changed behind grantflow's back is an
    integrity failure, not a set of verdicts about a state the log never committed to."""
    engine = attacker(scenario.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE grants SET state = 'closed' WHERE id = :g"), {"g": scenario.a}
            )
    finally:
        engine.dispose()
    with Grantflow.open(scenario.url) as gf, pytest.raises(IntegrityFailure) as err:
        gf.check(scenario.a, disburse("1.00", "2019-09-02"), actor="finn")
    assert f"grant {scenario.a} was changed outside grantflow" in str(err.value)
