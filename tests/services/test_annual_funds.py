"""R-ANNUALITY through the service: payments of a budget year are summed in the database (the
budget days) and checked against the year's funds of the guideline (rule kind
``annual-funds``), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from grantflow.errors import RuleViolation
from grantflow.services import Grantflow
from tests.services.helpers import (
    PEOPLE,
    SMALL_PROGRAM,
    approve,
    day,
    disburse,
    small_proposal,
    start,
)
from tests.services.test_concurrency import _race

ANNUAL = (
    SMALL_PROGRAM.replace('id = "small-program"', 'id = "annual-program"')
    + """
[[versions.rules]]
id = "R-ANNUALITY"
kind = "annual-funds"
citation = "test: funds by budget year"
[versions.rules.params]
funds = { "2021" = "100000.00", "2022" = "200000.00" }
"""
)


@pytest.fixture
def gf(app: Grantflow, tmp_path: Path) -> Grantflow:
    """The service with the people of the tests and the program with annual funds."""
    app.init("ada")
    for name, roles in PEOPLE.items():
        app.add_actor(name, roles, by="ada")
    path = tmp_path / "annual-program.toml"
    path.write_text(ANNUAL, encoding="utf-8")
    app.load_program(str(path), by="ada")
    return app


def running(gf: Grantflow, n: int, region: str = "north", amount: str = "300000.00") -> str:
    proposal = small_proposal(amount, region, program_id="annual-program", title=f"Vorhaben {n}")
    g = gf.propose(proposal, actor="clara")
    gf.act(g.id, approve("2021-02-01", number=f"N-{n}"), actor="anton")
    return gf.act(g.id, start("2021-03-01"), actor="clara").id


def test_payments_of_a_budget_year_stay_within_its_funds(gf: Grantflow) -> None:
    a, b = running(gf, 1), running(gf, 2)
    gf.act(a, disburse("80000.00", "2021-04-01"), actor="finn")
    with pytest.raises(RuleViolation) as refused:
        gf.act(b, disburse("30000.00", "2021-12-30"), actor="finn")
    assert refused.value.rule_ids == ("R-ANNUALITY",)
    assert refused.value.failures[0].message == (
        "a payment of 30,000.00 EUR is more than the 20,000.00 EUR left of the funds of budget "
        "year 2021 (100,000.00 EUR, of which 80,000.00 EUR is paid out)"
    )
    gf.act(b, disburse("20000.00", "2021-12-30"), actor="finn")
    # a new budget year, new funds
    gf.act(b, disburse("150000.00", "2022-01-10"), actor="finn")
    before = gf.grant(a)
    with pytest.raises(RuleViolation) as refused:
        gf.act(a, disburse("60000.00", "2022-02-01"), actor="finn")
    assert refused.value.failures[0].message == (
        "a payment of 60,000.00 EUR is more than the 50,000.00 EUR left of the funds of budget "
        "year 2022 (200,000.00 EUR, of which 150,000.00 EUR is paid out)"
    )
    assert gf.grant(a) == before  # a refused payment changes nothing
    with pytest.raises(RuleViolation) as refused:
        gf.act(a, disburse("1000.00", "2023-01-02"), actor="finn")
    assert refused.value.failures[0].message == (
        "the guideline has no funds for payments in budget year 2023 (years with funds: 2021, 2022)"
    )
    assert gf.exposure("annual-program").year_disbursed == {
        2021: Decimal("100000.00"),
        2022: Decimal("150000.00"),
    }
    assert gf.exposure("annual-program", as_of=day("2021-12-31")).year_disbursed == {
        2021: Decimal("100000.00")
    }


def test_concurrent_payments_never_overspend_a_budget_year(gf: Grantflow) -> None:
    """Four processes each pay 40,000 from the 100,000 of 2021 into four different grants at
    once: the program lock lets at most two through, whatever the order."""
    grants = [running(gf, n, amount="100000.00") for n in range(4)]
    plans = [[(gid, disburse("40000.00", "2021-04-01"), "finn")] for gid in grants]
    results = _race(gf, plans)

    outcome = Counter(r[0] for r in results)
    assert outcome["conflict"] == 0  # different grants: only the program lock is contended
    assert outcome["ok"] == 2 and outcome["refused"] == 2
    assert {r[2] for r in results if r[0] == "refused"} == {("R-ANNUALITY",)}
    assert gf.exposure("annual-program").year_disbursed == {2021: Decimal("80000.00")}
    assert sum((gf.grant(g).disbursed_amount for g in grants), Decimal(0)) == Decimal("80000.00")
