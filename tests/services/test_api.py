"""Actors, programs, the log and the dry run through the service API (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from grantflow.domain.model import Actor, Event, Role, State
from grantflow.errors import (
    BadInput,
    IntegrityFailure,
    InvalidTransition,
    NotFound,
    Refused,
    RuleViolation,
)
from grantflow.guidelines import load
from grantflow.services import Grantflow, LogFilter
from tests.services.helpers import (
    DMR,
    SMALL,
    SMALL_PROGRAM,
    approve,
    count,
    day,
    disburse,
    dmr_proposal,
    running_dmr_grant,
    set_up,
    small_proposal,
    table_contents,
)


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    set_up(app, tmp_path)
    return app


# -- actors ----------------------------------------------------------------------------------


def test_init_adds_the_first_admin_once(app: Grantflow) -> None:
    app.init("ada")
    app.init("ada")  # harmless
    app.init()
    assert app.actors() == [Actor("ada", frozenset({Role.ADMIN}))]
    with pytest.raises(Refused, match="actor add"):
        app.init("eve")  # only the very first actor comes through init


def test_only_admins_add_actors(gf: Grantflow) -> None:
    with pytest.raises(Refused, match="admin"):
        gf.add_actor("eve", [Role.CLERK], by="anton")
    with pytest.raises(BadInput, match="already"):
        gf.add_actor("anton", [Role.CLERK], by="ada")
    with pytest.raises(BadInput, match="not a role"):
        gf.add_actor("eve", ["boss"], by="ada")
    with pytest.raises(NotFound, match="grantflow actor add"):
        gf.add_actor("eve", [Role.CLERK], by="nobody")
    eve = gf.add_actor("eve", ["clerk", Role.AUDITOR], by="ada")
    assert gf.actor("eve") == eve == Actor("eve", frozenset({Role.CLERK, Role.AUDITOR}))
    assert [a.name for a in gf.actors()] == sorted(
        ["ada", "anton", "audrey", "berta", "clara", "eve", "finn"]
    )
    assert gf.set_roles("eve", [Role.APPROVER], by="ada").roles == frozenset({Role.APPROVER})
    assert gf.actor("eve").roles == frozenset({Role.APPROVER})
    with pytest.raises(BadInput, match="own admin role"):
        gf.set_roles("ada", [Role.CLERK], by="ada")


def test_unknown_actors_are_not_found(gf: Grantflow) -> None:
    with pytest.raises(NotFound, match="grantflow actor add"):
        gf.actor("mallory")
    with pytest.raises(NotFound, match="grantflow actor add"):
        gf.propose(dmr_proposal(), actor="mallory")
    assert count(gf, "refused_attempts") == 0


# -- programs --------------------------------------------------------------------------------


def test_programs_are_rebuilt_from_the_stored_documents(gf: Grantflow) -> None:
    assert gf.program(DMR) == load(DMR)
    assert [p.id for p in gf.programs()] == [DMR, SMALL]
    with pytest.raises(NotFound):
        gf.program("no-such-program")


def test_loading_never_rewrites_history(gf: Grantflow, tmp_path: Path) -> None:
    again = gf.load_program(DMR, by="ada")
    assert (again.added, again.unchanged) == ((), ("2018-07", "2021-07"))
    changed = tmp_path / "changed.toml"
    changed.write_text(SMALL_PROGRAM.replace('budget = "1000000.00"', 'budget = "2000000.00"'))
    before = table_contents(gf)
    with pytest.raises(BadInput, match="never rewrites history: add a new version"):
        gf.load_program(str(changed), by="ada")
    newer = tmp_path / "newer.toml"
    newer.write_text(
        SMALL_PROGRAM
        + """
[[versions]]
version = "v2"
effective_from = 2022-01-01
title = "More money"
source = "test"
budget = "2000000.00"
"""
    )
    with pytest.raises(Refused, match="admin"):
        gf.load_program(str(newer), by="anton")
    assert table_contents(gf) == before
    result = gf.load_program(str(newer), by="ada")
    assert (result.program_id, result.added, result.unchanged) == (SMALL, ("v2",), ("v1",))
    assert gf.program(SMALL).version_at(day("2022-06-01")).budget == Decimal("2000000.00")
    # a file without the stored v2 that adds a v3 after it is fine: nothing is rewritten
    later = tmp_path / "later.toml"
    later.write_text(newer.read_text().replace("2022-01-01", "2023-01-01").replace('"v2"', '"v3"'))
    assert gf.load_program(str(later), by="ada").added == ("v3",)
    backdated = tmp_path / "backdated.toml"
    backdated.write_text(
        newer.read_text().replace('"v2"', '"v4"').replace("2022-01-01", "2021-06-01")
    )
    with pytest.raises(BadInput, match="never rewrites history"):
        gf.load_program(str(backdated), by="ada")
    with pytest.raises(NotFound):
        gf.load_program(str(tmp_path / "missing.toml"), by="ada")


def test_a_tampered_document_is_an_integrity_failure(gf: Grantflow) -> None:
    V = gf.models.ProgramVersion
    assert gf.engine is not None
    with gf.engine.begin() as conn:
        doc = conn.execute(sa.select(V.document).where(V.program_id == SMALL)).scalar_one()
        doc["budget"] = "9000000.00"
        conn.execute(sa.update(V).where(V.program_id == SMALL).values(document=doc))
    fresh = Grantflow(gf.engine)
    with pytest.raises(IntegrityFailure, match="content hash"):
        fresh.program(SMALL)


# -- check, the log ----------------------------------------------------------------------------


def test_check_is_a_dry_run_that_writes_nothing(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    before = table_contents(gf)
    ok = gf.check(g.id, disburse("1000.00"), actor="finn")
    assert ok.allowed and ok.to_state == "running"
    no = gf.check(g.id, disburse("900000.00"), actor="clara")
    assert not no.allowed
    assert {v.rule_id for v in no.failures} == {"GF-ROLE", "GF-CEILING"}
    lifecycle = gf.check(g.id, approve(), actor="anton")
    assert not lifecycle.lifecycle_ok
    proposal = gf.check(None, dmr_proposal(), actor="clara")
    assert proposal.allowed
    budget = gf.check(None, small_proposal("5000000.00"), actor="clara")
    assert budget.allowed  # the budget is judged on approval
    with pytest.raises(BadInput):
        gf.check(None, disburse("1.00"), actor="finn")
    assert table_contents(gf) == before


def test_the_log_streams_records_and_refusals_in_order(gf: Grantflow) -> None:
    a = running_dmr_grant(gf)
    with pytest.raises(RuleViolation):
        gf.act(a.id, disburse("900000.00"), actor="finn")
    b = gf.propose(small_proposal(), actor="clara")
    with pytest.raises(InvalidTransition):
        gf.act(b.id, disburse("1.00", "2021-02-01"), actor="finn")
    with pytest.raises(RuleViolation):
        gf.propose(small_proposal(), actor="finn")
    gf.act(a.id, disburse("1000.00"), actor="finn")

    entries = list(gf.log())
    assert [(e.grant_id, e.event.value, e.refused) for e in entries] == [
        (a.id, "propose", False),
        (a.id, "approve", False),
        (a.id, "start", False),
        (a.id, "disburse", True),
        (b.id, "propose", False),
        (b.id, "disburse", True),
        (None, "propose", True),
        (a.id, "disburse", False),
    ]
    refused = entries[6]
    assert refused.rule_ids == ("GF-ROLE",) and refused.seq is None and refused.to_state is None
    assert refused.code == "refused.rules" and refused.record is None
    assert entries[7].record == gf.records(a.id)[-1]
    assert [e.seq for e in gf.log(grant_id=a.id, include_refused=False)] == [1, 2, 3, 4]
    assert [e.event.value for e in gf.log(actor="finn")] == [
        "disburse",
        "disburse",
        "propose",
        "disburse",
    ]
    assert [e.grant_id for e in gf.log(program=SMALL, include_refused=False)] == [b.id]
    assert [e.event for e in gf.log(event="approve")] == [Event.APPROVE]
    assert len(list(gf.log(since=day("2019-04-01"), until=day("2019-05-02")))) == 3
    assert list(gf.log(grant_id="nothing")) == []


def test_log_and_export_take_one_log_filter_or_its_fields(gf: Grantflow) -> None:
    a = running_dmr_grant(gf)
    with pytest.raises(RuleViolation):
        gf.act(a.id, disburse("900000.00"), actor="finn")
    gf.act(a.id, disburse("1000.00"), actor="finn")
    gf.propose(small_proposal(), actor="clara")

    where = LogFilter(grant_id=a.id, event=Event.DISBURSE)
    assert where == LogFilter(grant_id=a.id, event="disburse")
    by_filter = [(e.id, e.refused) for e in gf.log(where)]
    assert by_filter == [(e.id, e.refused) for e in gf.log(grant_id=a.id, event="disburse")]
    assert [refused for _, refused in by_filter] == [True, False]
    # keywords given with a filter replace its fields
    assert [e.refused for e in gf.log(where, include_refused=False)] == [False]
    assert [e.event for e in gf.log(where, event=None)] == [
        Event.PROPOSE,
        Event.APPROVE,
        Event.START,
        Event.DISBURSE,
        Event.DISBURSE,
    ]
    # export selects the same entries with the same filter
    exported = [line["log_id"] for line in gf.export(where)]
    assert exported == [f"{'r' if e.refused else 't'}-{e.id}" for e in gf.log(where)]
    assert len(list(gf.export(LogFilter()))) == len(list(gf.export()))


def test_state_filters_take_strings_too(gf: Grantflow) -> None:
    g = running_dmr_grant(gf)
    assert [x.id for x in gf.grants(state=State("running"))] == [g.id]


def test_a_proposal_through_act_is_bad_input(gf: Grantflow) -> None:
    with pytest.raises(BadInput, match="use propose"):
        gf.act("X", dmr_proposal(), actor="clara")
    with pytest.raises(NotFound):
        gf.act("DMR-2019-0042", approve(), actor="anton")
    with pytest.raises(NotFound, match="no program"):
        gf.propose(dmr_proposal(program_id="nope"), actor="clara")
    with pytest.raises(NotFound, match="no guideline version in force"):
        gf.propose(dmr_proposal(date=day("2017-01-01")), actor="clara")
