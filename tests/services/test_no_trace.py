"""Bad input and refusals leave the database exactly as it was: every grantflow table, row by
row, before and after (a refusal adds its one ``refused_attempts`` row, and nothing else)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from grantflow.domain.commands import Amend, Extend, Revoke, Start
from grantflow.errors import BadInput, GrantflowError, InvalidTransition, NotFound, RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
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
def gf(app: Grantflow, tmp_path: Path) -> tuple[Grantflow, str]:
    set_up(app, tmp_path)
    g = running_dmr_grant(app)
    app.act(g.id, disburse("100000.00"), actor="finn")
    app.propose(small_proposal("650000.00"), actor="clara")  # more than the envelope
    return app, g.id


REFUSALS: dict[str, tuple[type[GrantflowError], Callable[[Grantflow, str], object]]] = {
    "disburse beyond the approved amount": (
        RuleViolation,
        lambda gf, g: gf.act(g, disburse("750000.00"), actor="finn"),
    ),
    "disburse by a clerk": (
        RuleViolation,
        lambda gf, g: gf.act(g, disburse("1.00"), actor="clara"),
    ),
    "approve a running grant": (
        InvalidTransition,
        lambda gf, g: gf.act(g, approve("2019-06-01", "N-7"), actor="anton"),
    ),
    "extend backwards": (
        RuleViolation,
        lambda gf, g: gf.act(
            g,
            Extend(date=day("2019-06-01"), until=day("2019-12-31"), notice_number="X"),
            actor="anton",
        ),
    ),
    "amend above the request": (
        RuleViolation,
        lambda gf, g: gf.act(
            g,
            Amend(date=day("2019-06-01"), notice_number="X", amount=Decimal("900000")),
            actor="anton",
        ),
    ),
    "revoke without reasons": (
        RuleViolation,
        lambda gf, g: gf.act(g, Revoke(date=day("2019-06-01"), notice_number="W"), actor="anton"),
    ),
    "a step dated before the last one": (
        RuleViolation,
        lambda gf, g: gf.act(g, disburse("1.00", "2019-01-01"), actor="finn"),
    ),
    "a proposal by finance": (
        RuleViolation,
        lambda gf, g: gf.propose(dmr_proposal(), actor="finn"),
    ),
    "approving beyond the envelope": (
        RuleViolation,
        lambda gf, g: gf.act("SP-2021-0001", approve("2021-02-01"), actor="anton"),
    ),
}

BAD_INPUT: dict[str, tuple[type[GrantflowError], Callable[[Grantflow, str], object]]] = {
    "an unknown grant": (
        NotFound,
        lambda gf, g: gf.act("DMR-2019-0999", Start(date=day("2019-06-01")), actor="clara"),
    ),
    "an unknown actor": (NotFound, lambda gf, g: gf.act(g, disburse("1.00"), actor="mallory")),
    "an unknown program": (
        NotFound,
        lambda gf, g: gf.propose(dmr_proposal(program_id="x"), actor="clara"),
    ),
    "a proposal through act": (BadInput, lambda gf, g: gf.act(g, dmr_proposal(), actor="clara")),
    "an unknown event to list": (BadInput, lambda gf, g: list(gf.log(event="payout"))),
    "an unknown log filter": (BadInput, lambda gf, g: list(gf.log(grant=g))),
    "a recording time without a time zone": (
        BadInput,
        lambda gf, g: list(gf.export(recorded_since=dt.datetime(2021, 1, 1))),  # noqa: DTZ001
    ),
    "an unknown state to list": (BadInput, lambda gf, g: gf.grants(state="lost")),  # type: ignore[arg-type]
    "no grant id for a dry run": (
        BadInput,
        lambda gf, g: gf.check(None, disburse("1.00"), actor="finn"),
    ),
    "a duplicate actor": (BadInput, lambda gf, g: gf.add_actor("finn", ["clerk"], by="ada")),
    "a missing guideline file": (
        NotFound,
        lambda gf, g: gf.load_program("/nonexistent.toml", by="ada"),
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refusal_writes_only_its_refused_attempt(gf: tuple[Grantflow, str], case: str) -> None:
    app, grant_id = gf
    error, step = REFUSALS[case]
    before = table_contents(app, skip=["refused_attempts"])
    attempts = count(app, "refused_attempts")
    with pytest.raises(error):
        step(app, grant_id)
    assert table_contents(app, skip=["refused_attempts"]) == before
    assert count(app, "refused_attempts") == attempts + 1


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_writes_nothing_at_all(gf: tuple[Grantflow, str], case: str) -> None:
    app, grant_id = gf
    error, step = BAD_INPUT[case]
    before = table_contents(app)
    with pytest.raises(error):
        step(app, grant_id)
    assert table_contents(app) == before
