"""The guideline version in force on a day is computed in one place (issue 14): the domain's
``in_force``, which the steps, the reports and the store's SQL agree with. A day before a
program's first version is refused with the same sentence everywhere; the reports no longer
fall back to the first version: the budget report refuses such a day, and the duties report
leaves out the program's grants (they did not exist yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grantflow.domain.guideline import in_force, no_version_in_force
from grantflow.errors import NotFound
from grantflow.services import Grantflow
from tests.services.helpers import (
    DMR,
    SMALL,
    approve,
    day,
    dmr_proposal,
    set_up,
    small_proposal,
    start,
)

BEFORE_SMALL = (
    "program small-program has no guideline version in force on 2019-06-01 "
    "(the first takes effect 2020-01-01)"
)


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


def test_in_force_is_the_latest_version_taking_effect_on_or_before_the_day(gf: Grantflow) -> None:
    versions = gf.program(DMR).versions
    assert [v.effective_from.isoformat() for v in versions] == ["2018-07-03", "2021-07-01"]
    assert in_force(versions, day("2018-07-02")) is None
    assert in_force(versions, day("2018-07-03")) == versions[0]
    assert in_force(versions, day("2021-06-30")) == versions[0]
    assert in_force(versions, day("2021-07-01")) == versions[1]
    assert in_force(reversed(versions), day("2030-01-01")) == versions[1]
    assert gf.program(DMR).version_at(day("2021-07-01")) == versions[1]


def test_every_place_refuses_a_day_before_the_first_version_with_one_sentence(
    gf: Grantflow,
) -> None:
    assert str(no_version_in_force(SMALL, day("2019-06-01"), day("2020-01-01"))) == BEFORE_SMALL
    with pytest.raises(NotFound) as program:
        gf.program(SMALL).version_at(day("2019-06-01"))
    with pytest.raises(NotFound) as step:  # the store's SQL
        gf.propose(small_proposal(date=day("2019-06-01")), actor="clara")
    with pytest.raises(NotFound) as budget:
        gf.budget_report(SMALL, as_of=day("2019-06-01"))
    assert {str(e.value) for e in (program, step, budget)} == {BEFORE_SMALL}


def test_due_leaves_out_programs_not_yet_in_force(gf: Grantflow) -> None:
    dmr = gf.propose(dmr_proposal(), actor="clara")
    gf.act(dmr.id, approve(), actor="anton")
    gf.act(dmr.id, start(), actor="clara")
    small = gf.propose(small_proposal(), actor="clara")
    gf.act(small.id, approve("2021-02-01"), actor="anton")
    gf.act(small.id, start("2021-03-01"), actor="clara")
    # on 2019-06-01 the small program had no guideline version, so no grant and no duty
    listed = {i.grant_id for i in gf.due(as_of=day("2019-06-01"))}
    assert listed == {dmr.id}
    assert gf.due(as_of=day("2019-06-01"), program=SMALL) == []
    later = {i.grant_id for i in gf.due(as_of=day("2023-06-01"))}
    assert later == {dmr.id, small.id}
