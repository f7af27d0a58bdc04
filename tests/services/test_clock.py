"""The service's clock decides "today" (issue 14): the rules (GF-PLAUSIBLE-DATE), the default
day of the reports and of ``money``, all from ``Grantflow(clock=...)`` in Europe/Berlin, not
from the wall clock."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from grantflow.services import Grantflow
from grantflow.testing import FixedClock
from tests.services.helpers import DMR, approve, day, dmr_proposal, set_up

# 22:30 UTC on 1 June is 00:30 on 2 June in Berlin (summer time)
NIGHT = "2019-06-01T22:30:00Z"


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    assert app.engine is not None
    clocked = Grantflow(app.engine, clock=FixedClock(NIGHT))
    set_up(clocked, tmp_path)
    return clocked


def test_today_is_the_clocks_date_in_berlin(gf: Grantflow) -> None:
    assert gf.today() == pendulum.Date(2019, 6, 2)


def test_the_rules_judge_a_step_on_the_clocks_day(gf: Grantflow) -> None:
    g = gf.propose(dmr_proposal(), actor="clara")
    # a year and a day after 2019-06-02 (2020 has a leap day): 366 days is the most allowed
    too_far = gf.check(g.id, approve("2020-06-03"), actor="anton")
    assert [v.message for v in too_far.failures if v.rule_id == "GF-PLAUSIBLE-DATE"] == [
        "the approve is dated 2020-06-03, more than a year after today (2019-06-02): documents "
        "are not dated that far ahead, and which guideline version of "
        "nrw-digitale-modellregionen will then be in force is not known"
    ]
    near = gf.check(g.id, approve("2020-06-02"), actor="anton")
    assert "GF-PLAUSIBLE-DATE" not in {v.rule_id for v in near.failures}
    gf.act(g.id, approve("2019-03-15"), actor="anton")
    assert not gf.verify().problems  # judged again on the day it was recorded


def test_the_reports_default_to_the_clocks_day(gf: Grantflow) -> None:
    g = gf.propose(dmr_proposal(), actor="clara")
    gf.act(g.id, approve("2019-03-15"), actor="anton")
    assert gf.budget_report(DMR).as_of == day("2019-06-02")
    assert gf.money(g.id).as_of == day("2019-06-02")
    assert gf.due() == gf.due(as_of=day("2019-06-02"))
