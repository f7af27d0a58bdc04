"""The mapping between domain objects and rows, and the mapper's optimistic version check."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlalchemy.orm import Session

from grantflow.domain import lifecycle
from grantflow.domain.codec import to_data
from grantflow.domain.model import Actor, Role
from grantflow.errors import ConcurrentUpdate, IntegrityFailure
from grantflow.services import Grantflow
from grantflow.store import mapping
from grantflow.store.conflicts import conflict_of
from grantflow.store.models import models_for
from tests.services.helpers import DMR, disburse, running_dmr_grant, set_up

NOW = pendulum.datetime(2024, 1, 2, 3, 4, 5, tz="UTC")


def test_orm_rows_map_to_the_same_domain_objects(app: Grantflow, tmp_path: Path) -> None:
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    m = models_for()
    with Session(app.engine) as s:
        assert mapping.grant_from_row(s.get(m.Grant, g.id)) == g  # type: ignore[arg-type]
        rows = s.query(m.Transition).filter_by(grant_id=g.id).order_by(m.Transition.seq).all()
        assert [mapping.record_from_row(r) for r in rows] == app.records(g.id)
        finn = s.get(m.Actor, "finn")
        assert mapping.actor_from_row(finn) == Actor("finn", frozenset({Role.FINANCE}))  # type: ignore[arg-type]


def test_the_mapper_checks_the_version_it_read(app: Grantflow, tmp_path: Path) -> None:
    """Two sessions read the same grant row; the first update wins, the second is stale."""
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    cmd = disburse("1000.00")
    record = lifecycle.decide(
        g,
        cmd,
        actor=app.actor("finn"),
        version=app.program(DMR).version_at(cmd.date),
        recorded_at=NOW,
    )
    after = lifecycle.apply(g, record)
    m = models_for()
    with (
        Session(app.engine, expire_on_commit=False) as first,
        Session(app.engine, expire_on_commit=False) as second,
    ):
        b = second.get(m.Grant, g.id)
        second.commit()  # the read is over (SQLite lets one writer in at a time); b is kept
        a = first.get(m.Grant, g.id)
        assert a is not None and b is not None and a.version == b.version == 3
        mapping.update_grant_row(a, after, now=NOW)
        first.commit()
        mapping.update_grant_row(b, after, now=NOW)
        with pytest.raises(Exception) as stale:
            second.commit()  # UPDATE … WHERE id = … AND version = 3 finds no row
    assert isinstance(conflict_of(stale.value), ConcurrentUpdate)
    assert app.grant(g.id).version == 4


def test_a_snapshot_that_disagrees_with_its_row_is_an_integrity_failure(
    app: Grantflow, tmp_path: Path
) -> None:
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    assert mapping.grant_from_snapshot(to_data(g), 3) == g
    with pytest.raises(IntegrityFailure, match="version"):
        mapping.grant_from_snapshot(to_data(g), 4)
