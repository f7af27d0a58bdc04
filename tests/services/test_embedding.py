"""grantflow inside a host application: its own MetaData beside the host's tables (table prefix,
PostgreSQL schema), the host's engine, sessionmaker or session, and the host's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from grantflow.domain.model import State
from grantflow.errors import ConcurrentUpdate, RuleViolation
from grantflow.services import Grantflow
from grantflow.store import create_engine, repository
from tests.services.helpers import PEOPLE, approve, dmr_proposal, set_up


class HostBase(DeclarativeBase):
    pass


class HostGrant(HostBase):
    """The host has a table called ``grants`` too."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(sa.String(50))


@pytest.fixture
def host_engine(empty_db_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(empty_db_url)
    HostBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _tables(engine: sa.Engine, schema: str | None = None) -> set[str]:
    return set(sa.inspect(engine).get_table_names(schema=schema))


def test_a_prefix_keeps_out_of_the_hosts_tables(host_engine: sa.Engine, tmp_path: Path) -> None:
    gf = Grantflow(host_engine, table_prefix="gf_")
    set_up(gf, tmp_path)
    g = gf.propose(dmr_proposal(), actor="clara")
    assert "grants" in _tables(host_engine) and "gf_grants" in _tables(host_engine)
    assert "gf_alembic_version" in _tables(host_engine)
    with Session(host_engine) as s:
        assert s.scalars(sa.select(HostGrant)).all() == []
    assert Grantflow(host_engine, table_prefix="gf_").grant(g.id) == g


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_schema_of_its_own_on_postgres(host_engine: sa.Engine, tmp_path: Path) -> None:
    gf = Grantflow(host_engine, schema="grantflow")
    set_up(gf, tmp_path)
    gf.propose(dmr_proposal(), actor="clara")
    assert "grants" in _tables(host_engine, "grantflow")
    assert _tables(host_engine) == {"grants"}  # public: only the host's table


def test_taking_part_in_the_hosts_transaction(host_engine: sa.Engine, tmp_path: Path) -> None:
    set_up(Grantflow(host_engine, table_prefix="gf_"), tmp_path)
    reader = Grantflow(host_engine, table_prefix="gf_")

    with Session(host_engine) as session, session.begin():
        session.add(HostGrant(note="rolled back"))
        gf = Grantflow(session, table_prefix="gf_")
        g = gf.propose(dmr_proposal(), actor="clara")
        assert gf.grant(g.id).state is State.PROPOSED  # visible inside the transaction
        session.rollback()
    assert reader.grants() == []
    with Session(host_engine) as s:
        assert s.scalars(sa.select(HostGrant)).all() == []

    with Session(host_engine) as session, session.begin():
        session.add(HostGrant(note="kept"))
        gf = Grantflow(session, table_prefix="gf_")
        g = gf.propose(dmr_proposal(), actor="clara")
        with pytest.raises(RuleViolation):  # four-eyes; recorded in the host's transaction
            gf.act(g.id, approve(), actor="clara")
        gf.act(g.id, approve(), actor="anton")
    assert reader.grant(g.id).state is State.APPROVED
    assert [e.refused for e in reader.log(grant_id=g.id)] == [False, True, False]
    with Session(host_engine) as s:
        assert [h.note for h in s.scalars(sa.select(HostGrant))] == ["kept"]


def test_a_session_outside_a_transaction_commits_each_step(
    host_engine: sa.Engine, tmp_path: Path
) -> None:
    set_up(Grantflow(host_engine, table_prefix="gf_"), tmp_path)
    with Session(host_engine) as session:
        g = Grantflow(session, table_prefix="gf_").propose(dmr_proposal(), actor="clara")
        assert not session.in_transaction()
    assert Grantflow(host_engine, table_prefix="gf_").grant(g.id) == g


def test_a_hosts_sessionmaker(host_engine: sa.Engine, tmp_path: Path) -> None:
    gf = Grantflow(sessionmaker(host_engine), table_prefix="gf_")
    set_up(gf, tmp_path)
    g = gf.propose(dmr_proposal(), actor="clara")
    assert gf.grant(g.id) == g
    assert gf.url.startswith(host_engine.url.drivername)


def test_a_plain_sqlalchemy_sqlite_engine_works_too(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")  # pysqlite's own BEGIN
    try:
        gf = Grantflow(engine, table_prefix="gf_")
        set_up(gf, tmp_path)
        g = gf.propose(dmr_proposal(), actor="clara")
        assert gf.act(g.id, approve(), actor="anton").state is State.APPROVED
    finally:
        engine.dispose()


# -- retries -----------------------------------------------------------------------------------


def _flaky(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make the next ``failures`` grant updates lose a race; returns the list of attempts."""
    calls: list[int] = []
    real = repository.Store.update_grant

    def update_grant(self: repository.Store, *a: object, **kw: object) -> None:
        calls.append(1)
        if len(calls) <= failures:
            raise ConcurrentUpdate("simulated: another writer won")
        real(self, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(repository.Store, "update_grant", update_grant)
    return calls


def test_a_lost_race_is_retried(
    app: Grantflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(app, tmp_path)
    g = app.propose(dmr_proposal(), actor="clara")
    calls = _flaky(monkeypatch, 2)
    assert app.act(g.id, approve(), actor="anton").state is State.APPROVED
    assert len(calls) == 3
    assert len(app.records(g.id)) == 2


def test_too_many_lost_races_raise(
    app: Grantflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(app, tmp_path)
    g = app.propose(dmr_proposal(), actor="clara")
    calls = _flaky(monkeypatch, 10)
    with pytest.raises(ConcurrentUpdate):
        app.act(g.id, approve(), actor="anton")
    assert len(calls) == 1 + app.retries
    assert app.grant(g.id).state is State.PROPOSED


def test_no_retries_inside_the_hosts_transaction(
    host_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(Grantflow(host_engine, table_prefix="gf_"), tmp_path)
    with Session(host_engine) as session, session.begin():
        gf = Grantflow(session, table_prefix="gf_")
        g = gf.propose(dmr_proposal(), actor="clara")
        calls = _flaky(monkeypatch, 1)
        with pytest.raises(ConcurrentUpdate):
            gf.act(g.id, approve(), actor="anton")
        assert len(calls) == 1


def test_the_people_of_the_helpers_are_all_there(app: Grantflow, tmp_path: Path) -> None:
    set_up(app, tmp_path)
    assert {a.name for a in app.actors()} == {"ada", *PEOPLE}
