"""The chains in the database: triggers make the log append-only, every row is hashed over
exactly what is stored, refused attempts and checkpoints chain, and migration 0002 chains a
log written before it existed -- on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import runpy
import types
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from grantflow.audit import chain, entries
from grantflow.errors import Refused
from grantflow.services import Grantflow
from grantflow.store import create_engine, models_for, schema
from grantflow.store.repository import Store
from grantflow.testing import FixedClock
from tests.audit.conftest import Scenario
from tests.services.helpers import chain_as_before_0006, disburse, running_dmr_grant, set_up

VERIFY_LOG = types.SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[2] / "docs" / "verify_log.py"))
)
"""The auditors' stand-alone verifier (its functions; the subprocess tests run it as a
script)."""


@pytest.mark.parametrize(
    "table", ["transitions", "refused_attempts", "audit_checkpoints", "admin_events"]
)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
def test_the_log_tables_refuse_update_and_delete(
    app: Grantflow, tmp_path: Path, table: str, statement: str
) -> None:
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    with pytest.raises(Refused):
        app.act(g.id, disburse("900000.00"), actor="finn")
    app.digest(by="audrey")
    engine = sa.create_engine(app.engine.url)  # type: ignore[union-attr]
    try:
        with engine.connect() as conn:
            before = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert before > 0
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                conn.execute(sa.text(statement.format(t=table)))
            conn.rollback()
            if conn.dialect.name == "postgresql":
                with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                    conn.execute(sa.text(f"TRUNCATE {table} CASCADE"))
                conn.rollback()
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == before
    finally:
        engine.dispose()
    assert app.verify().intact


def test_hashes_cover_exactly_what_is_stored(app: Grantflow, tmp_path: Path) -> None:
    """Typed reads (SQLAlchemy's column types) and raw reads (the driver's values) of every
    row give the payload the writer hashed, also for a recording time on a whole second."""
    gf = Grantflow(
        app.engine,  # type: ignore[arg-type]
        clock=FixedClock("2026-03-29T00:59:59Z", step=dt.timedelta(microseconds=500_000)),
    )
    set_up(gf, tmp_path)
    g = running_dmr_grant(gf)
    with pytest.raises(Refused):
        gf.act(g.id, disburse("900000.00"), actor="finn")
    gf.digest(by="audrey")
    T = app.models.Transition
    with app.engine.connect() as conn:  # type: ignore[union-attr]
        store = Store(conn, app.models)
        raw = list(store.audit_transitions())
        typed = [
            dict(r._mapping)
            for r in conn.execute(sa.select(T.__table__).order_by(T.grant_id, T.seq))  # type: ignore[attr-defined]
        ]
        refused = list(store.audit_refused())
        checkpoints = list(store.checkpoint_rows())
    assert len(raw) == len(typed) == 3
    assert {r["recorded_at"].microsecond for r in typed} == {0, 500_000}
    for r, t in zip(raw, typed, strict=True):
        assert entries.transition_payload(r) == entries.transition_payload(t)
        assert chain.digest_of(entries.transition_payload(t)) == t["hash"]
        assert entries.transition_payload(t)["recorded_at"].endswith(".000000+00:00") or (
            entries.transition_payload(t)["recorded_at"].endswith(".500000+00:00")
        )
    assert [r["prev_hash"] for r in raw] == [chain.GENESIS, raw[0]["hash"], raw[1]["hash"]]
    [attempt] = refused
    assert attempt["id"] == 1 and attempt["prev_hash"] == chain.GENESIS
    assert chain.digest_of(entries.refused_payload(attempt)) == attempt["hash"]
    [cp] = checkpoints
    assert cp["heads"] == [[g.id, 3, raw[2]["hash"]]]
    assert cp["refused_head"] == [1, attempt["hash"]]
    assert chain.digest_of(entries.checkpoint_payload(cp)) == cp["hash"]


def test_refused_attempts_and_checkpoints_chain(app: Grantflow, tmp_path: Path) -> None:
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    first = app.digest(by="ada")
    assert first.id == 1 and first.prev_hash == chain.GENESIS and first.refused == 0
    assert (first.grants, first.records) == (1, 3)
    for _ in range(3):
        with pytest.raises(Refused):
            app.act(g.id, disburse("900000.00"), actor="finn")
    second = app.digest(by="audrey")
    assert second.id == 2 and second.prev_hash == first.hash and second.refused == 3
    assert second.digest == f"gf1-2-{second.hash}"
    log = list(app.export())
    refused = [line for line in log if line["kind"] == "refused"]
    assert [line["refused_id"] for line in refused] == [1, 2, 3]
    assert refused[1]["prev_hash"] == refused[0]["hash"]
    assert [line["log_id"] for line in log if line["kind"] == "checkpoint"] == ["c-1", "c-2"]
    with pytest.raises(Refused, match="auditor or the admin role"):
        app.digest(by="clara")
    report = app.verify(second.digest)
    assert report.intact and report.newest_digest == second.digest
    assert (report.transitions, report.grants, report.refused, report.checkpoints) == (3, 1, 3, 2)


def _log_at_0005(conn: sa.Connection) -> list[Any]:
    rows = conn.execute(
        sa.text(
            "SELECT id, 0 AS refused, hash, id AS o FROM transitions UNION ALL "
            "SELECT id, 1, hash, after_transition FROM refused_attempts ORDER BY 4, 2, 1"
        )
    )
    return [types.SimpleNamespace(id=i, refused=bool(r), hash=h) for i, r, h, _ in rows]


def test_migration_0002_chains_a_log_written_before_it(
    empty_db_url: str, tmp_path: Path, backend: str
) -> None:
    """Down to 0001 (the hashes, checkpoints and triggers go), up again: every row gets back
    exactly the hash grantflow gave it when it was written."""
    models = models_for()
    with Grantflow.open(empty_db_url, create=True) as gf:
        set_up(gf, tmp_path)
        g = running_dmr_grant(gf)
        gf.act(g.id, disburse("1000.00"), actor="finn")
        with pytest.raises(Refused):
            gf.act(g.id, disburse("900000.00"), actor="finn")
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:  # the log as a grantflow before 0006 wrote it
            command.downgrade(schema.alembic_config(connection=conn), "0005")
            chain_as_before_0006(conn)
        with engine.begin() as conn:
            written = [(e.id, e.refused, e.hash) for e in _log_at_0005(conn)]
            digest = "gf1-1-" + "0" * 64
            config = schema.alembic_config(connection=conn)
            command.downgrade(config, "0001")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("transitions")}
            assert "hash" not in columns
            assert not sa.inspect(conn).has_table(f"{models.prefix}audit_checkpoints")
            # the log is writable again at 0001: the attacker's window the hashes close
            conn.execute(sa.text("UPDATE transitions SET reason = reason"))
            conn.rollback()
        schema.upgrade(engine, models)
    finally:
        engine.dispose()
    with Grantflow.open(empty_db_url) as gf:
        assert [(e.id, e.refused, e.hash) for e in gf.log()] == written
        assert gf.verify().intact
        assert gf.verify(digest).problems[0].what.startswith("the log does not contain")
        with pytest.raises(Refused):
            gf.act(g.id, disburse("900000.00"), actor="finn")
        gf.act(g.id, disburse("1000.00", "2019-05-03"), actor="finn")
        assert gf.verify().intact


def test_the_export_reads_one_snapshot(scenario: Scenario) -> None:
    """A step and a checkpoint written while the export streams are not half in it: the export
    runs in one read transaction (REPEATABLE READ on PostgreSQL), so what it wrote verifies."""
    with Grantflow.open(scenario.url) as gf:
        lines = gf.export()
        exported = [next(lines)]
        with Grantflow.open(scenario.url) as other:
            other.act(scenario.a, disburse("1000.00", "2019-09-02"), actor="finn")
            other.digest(by="audrey")
        exported += list(lines)
    assert [x["log_id"] for x in exported if x["kind"] == "checkpoint"] == ["c-1", "c-2"]
    assert VERIFY_LOG.verify([json.dumps(x) for x in exported]).startswith("intact: 12 ")


@pytest.mark.parametrize(
    ("prefix", "pg_schema"),
    [
        ("gf_", None),
        ("p_", "grantflow_test"),
        ("an_agency_with_a_rather_long_table_prefix_", None),  # names beyond 63 characters
    ],
)
def test_every_table_layout_is_append_only_and_chained(
    empty_db_url: str, backend: str, tmp_path: Path, prefix: str, pg_schema: str | None
) -> None:
    if pg_schema and backend == "sqlite":
        pytest.skip("schemas are PostgreSQL's")
    engine = create_engine(empty_db_url)
    try:
        gf = Grantflow(engine, table_prefix=prefix, schema=pg_schema)
        set_up(gf, tmp_path)
        g = running_dmr_grant(gf)
        with pytest.raises(Refused):
            gf.act(g.id, disburse("900000.00"), actor="finn")
        gf.digest(by="audrey")
        assert gf.verify().intact
        where = f"{pg_schema}." if pg_schema else ""
        for table in ("transitions", "refused_attempts", "audit_checkpoints", "admin_events"):
            for statement in (
                f"UPDATE {where}{prefix}{table} SET id = id",
                f"DELETE FROM {where}{prefix}{table}",
            ):
                with (
                    engine.connect() as conn,
                    pytest.raises(sa.exc.DatabaseError, match="append-only"),
                ):
                    conn.execute(sa.text(statement))
        exported = [line["kind"] for line in gf.export()]
        assert gf.verify().intact
        assert [k for k in exported if k != "admin"] == [
            "transition",
            "transition",
            "transition",
            "refused",
            "checkpoint",
        ]
        assert exported.count("admin") == gf.verify().admin >= 1
    finally:
        engine.dispose()
