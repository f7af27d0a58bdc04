"""Point in time: for random histories, the grant rebuilt as of any business date is the grant
the service layer had at the end of that date.

Hypothesis draws a history -- applications and events on up to three grants, mostly plausible,
sometimes refused (``tests.strategies``) -- and drives the real service on a SQLite copy of a
prepared database. After every step that went through, the grant is kept under the step's
business date (the last step of a day wins). Then ``Grantflow.grant(id, as_of=d)`` must give
exactly that grant for every such date, the grant of the latest earlier date for the days in
between, and NotFound before the application; and the audit chain must be intact.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grantflow.domain.commands import Command
from grantflow.domain.lifecycle import LIFECYCLE
from grantflow.domain.model import Event, Grant
from grantflow.domain.rules import ROLES_FOR
from grantflow.errors import BadInput, NotFound, Refused
from grantflow.guidelines import load
from grantflow.services import Grantflow
from grantflow.store import create_engine, models_for, upgrade
from tests.services.helpers import DMR, PEOPLE, set_up
from tests.strategies import command_for, proposals

PROGRAM = load(DMR)
SOURCES = {line.event: line.sources for line in LIFECYCLE}
EVENTS = (
    *(Event.APPROVE,) * 3,
    *(Event.START,) * 2,
    *(Event.DISBURSE,) * 4,
    Event.EXTEND,
    Event.AMEND,
    *(Event.SUBMIT,) * 2,
    *(Event.CLOSE,) * 2,
    Event.REVOKE,
    Event.REPAY,
    Event.REJECT,
    Event.WITHDRAW,
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the people of ``PEOPLE`` and the DMR program, copied per example."""
    path = tmp_path_factory.mktemp("as-of") / "prepared.sqlite"
    engine = create_engine(path)
    upgrade(engine, models_for())
    engine.dispose()
    with Grantflow.open(str(path)) as gf:
        set_up(gf)
    return path


def _actor(data: st.DataObject, event: Event, grant: Grant | None) -> str:
    fit = [n for n, roles in PEOPLE.items() if set(roles) & set(ROLES_FOR[event])]
    if grant is not None and event is Event.APPROVE:
        fit = [n for n in fit if n not in (grant.proposed_by, grant.last_edited_by)]
    return data.draw(st.sampled_from(fit or list(PEOPLE)), label="actor")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_grant_as_of_any_date_is_the_grant_the_service_had(
    prepared: Path, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite"
        shutil.copyfile(prepared, path)
        with Grantflow.open(str(path)) as gf:
            history = _drive(gf, data)
            for gid, by_day in history.items():
                days = sorted(by_day)
                for d in days:
                    assert gf.grant(gid, as_of=d) == by_day[d], f"{gid} as of {d}"
                for before, after in itertools.pairwise(days):
                    if (after - before).in_days() > 1:
                        between = before.add(days=(after - before).in_days() // 2)
                        assert gf.grant(gid, as_of=between) == by_day[before]
                assert gf.grant(gid, as_of=days[-1].add(years=5)) == gf.grant(gid)
                with pytest.raises(NotFound, match="did not exist yet"):
                    gf.grant(gid, as_of=days[0].subtract(days=1))
            assert gf.verify().intact


def _drive(gf: Grantflow, data: st.DataObject) -> dict[str, dict[pendulum.Date, Grant]]:
    """Run a drawn history through the service; the grant after each step, by business date."""
    history: dict[str, dict[pendulum.Date, Grant]] = {}
    grants: dict[str, Grant] = {}
    cmd: Command  # a Propose or a later step, whichever was drawn
    for _ in range(data.draw(st.integers(4, 14), label="steps")):
        possible = [e for e in EVENTS if any(g.state.value in SOURCES[e] for g in grants.values())]
        if not grants or (len(grants) < 3 and data.draw(st.integers(0, 5), label="new?") == 0):
            cmd = data.draw(proposals(PROGRAM), label="proposal")
            try:
                grant = gf.propose(cmd, actor=_actor(data, Event.PROPOSE, None))
            except (Refused, BadInput):
                continue
        else:
            event = data.draw(st.sampled_from(possible or list(EVENTS)), label="event")
            fitting = [g for g in grants.values() if g.state.value in SOURCES[event]]
            before = data.draw(st.sampled_from(fitting or list(grants.values())), label="grant")
            cmd = data.draw(command_for(event, before, PROGRAM), label="command")
            try:
                grant = gf.act(before.id, cmd, actor=_actor(data, event, before))
            except (Refused, BadInput):
                assert gf.grant(before.id) == before  # a refusal changes nothing
                continue
        grants[grant.id] = grant
        history.setdefault(grant.id, {})[cmd.date] = grant
    return history
