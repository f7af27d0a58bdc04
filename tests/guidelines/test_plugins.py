"""Rule kinds from other packages, found through the ``grantflow.rules`` entry point group.

Each test installs a real (tiny) distribution into ``tmp_path``: a module and a
``*.dist-info`` folder with ``METADATA`` and ``entry_points.txt``, the same files pip writes.
``importlib.metadata`` finds it once ``tmp_path`` is on ``sys.path``.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest

from grantflow.domain import lifecycle
from grantflow.domain.commands import Propose
from grantflow.domain.model import Actor, Applicant, ApplicantKind, Role
from grantflow.domain.money import apply_rate
from grantflow.errors import BadInput, GuidelineError
from grantflow.guidelines import load_text
from grantflow.plugins import ENTRY_POINT_GROUP, load_rule_plugins, rule_kinds

HOW_TO = Path(__file__).parents[2] / "docs" / "how-to" / "custom-rules.md"


def _block(opening: str, after: str = "") -> str:
    """The first code block of the how-to page that starts with ``opening`` (after the heading
    ``after``), exactly as printed there."""
    text = HOW_TO.read_text(encoding="utf-8")
    fence = text.index(opening, text.index(after))
    start = text.index("\n", fence) + 1
    return text[start : text.index("```", start)]


CO_FINANCING = _block("```python\n# my_agency/rules.py\n")
TEST_IT = _block("```python\n", after="## Test it")
REFUSAL_SHOWN = " ".join(_block("```text\n", after="## 3. Use it in a guideline file").split())

GUIDELINE = """
schema = 1

[program]
id = "kofi"
name = "Programm mit Kofinanzierung"
short = "KOFI"

[[versions]]
version = "1"
effective_from = 2024-01-01
title = "Richtlinie mit Kofinanzierung"
source = "tests/guidelines/test_plugins.py"
budget = "5000000.00"
funds_from = 2024-01-01
funds_until = 2027-12-31

[[versions.rules]]
id = "R-CO-FINANCING"
kind = "co-financing"
citation = "Richtlinie Nr. 5.2 (Kofinanzierung durch Dritte mindestens 10 %)"
confidence = "H"
[versions.rules.params]
minimum_share = "0.10"
"""

Install = Callable[..., None]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Write a distribution with a module and ``grantflow.rules`` entry points; import it."""
    modules: list[str] = []

    def _install(module: str, source: str, entry_points: dict[str, str]) -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = tmp_path / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8"
        )
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        modules.append(module)
        monkeypatch.syspath_prepend(str(tmp_path))

    yield _install
    for module in modules:
        sys.modules.pop(module, None)


CLARA = Actor("clara", frozenset({Role.CLERK}))


def _proposal(private_funds: Decimal) -> Propose:
    return Propose(
        date=pendulum.Date(2024, 3, 1),
        program_id="kofi",
        title="Quartiersplattform",
        applicant=Applicant("Gemeinde Musterdorf", ApplicantKind.MUNICIPALITY),
        eligible_costs=Decimal("200000.00"),
        requested_amount=Decimal("150000.00"),
        private_funds=private_funds,
        start=pendulum.Date(2024, 6, 1),
        end=pendulum.Date(2025, 5, 31),
    )


def test_a_plugin_kind_is_found_and_judges_steps(install: Install) -> None:
    install("gf_cofinancing", CO_FINANCING, {"co-financing": "gf_cofinancing:CoFinancingRule"})
    assert "co-financing" in load_rule_plugins()
    assert "budget" in rule_kinds()  # the built-in kinds stay

    program = load_text(GUIDELINE, source="kofi.toml")
    version = program.latest
    (rule,) = version.rules
    assert rule.kind == "co-financing"

    costs = Decimal("200000.00")
    needed = apply_rate(costs, Decimal("0.10"))  # 20,000.00 EUR
    short = needed - Decimal("5000.00")
    refused = lifecycle.check(None, _proposal(short), actor=CLARA, version=version, grant_id="K-1")
    assert not refused.allowed
    (failure,) = refused.failures
    assert failure.rule_id == "R-CO-FINANCING"
    assert failure.message == (
        "third-party funds 15,000.00 EUR are less than 10 % of eligible costs "
        "200,000.00 EUR (20,000.00 EUR)"
    )
    assert failure.citation == "Richtlinie Nr. 5.2 (Kofinanzierung durch Dritte mindestens 10 %)"

    passed = lifecycle.check(None, _proposal(needed), actor=CLARA, version=version, grant_id="K-1")
    assert passed.allowed
    (verdict,) = [v for v in passed.verdicts if v.rule_id == "R-CO-FINANCING"]
    assert verdict.message == (
        "third-party funds 20,000.00 EUR cover at least 10 % of eligible costs"
    )


def _grantflow_imports(source: str) -> set[str]:
    return {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grantflow")
    } | {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("grantflow")
    }


def test_the_how_to_imports_only_public_modules() -> None:
    assert _grantflow_imports(CO_FINANCING) == {"grantflow.rules"}
    assert _grantflow_imports(TEST_IT) == {"grantflow", "grantflow.guidelines"}


def test_the_how_to_test_runs_and_prints_the_refusal_it_shows(
    install: Install,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install("gf_cofin_howto", CO_FINANCING, {"co-financing": "gf_cofin_howto:CoFinancingRule"})
    (tmp_path / "kofi.toml").write_text(GUIDELINE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(TEST_IT, str(HOW_TO), "exec"), {"__name__": "how_to_test_it"})
    printed = capsys.readouterr().out
    assert " ".join(printed.split()) == REFUSAL_SHOWN
    assert REFUSAL_SHOWN.startswith("third-party funds 15,000.00 EUR are less than 10 %")


def test_without_the_plugin_the_kind_is_unknown() -> None:
    with pytest.raises(GuidelineError) as info:
        load_text(GUIDELINE, source="kofi.toml")
    (problem,) = info.value.problems
    assert problem.path == "versions[0].rules[0].kind"
    assert problem.value == "co-financing"


def test_a_plugin_parameter_is_validated_like_a_built_in_one(install: Install) -> None:
    install("gf_cofin_params", CO_FINANCING, {"co-financing": "gf_cofin_params:CoFinancingRule"})
    with pytest.raises(GuidelineError) as info:
        load_text(GUIDELINE.replace('minimum_share = "0.10"', 'minimum_share = "10 %"'))
    (problem,) = info.value.problems
    assert problem.path == "versions[0].rules[0].params.minimum_share"
    assert problem.value == "10 %"


NOT_A_RULE = """
class CoFinancingRule:
    kind = "co-financing"
"""


def test_a_plugin_that_is_not_a_rule_subclass_is_refused(install: Install) -> None:
    install("gf_not_a_rule", NOT_A_RULE, {"co-financing": "gf_not_a_rule:CoFinancingRule"})
    with pytest.raises(BadInput, match="is not a subclass of grantflow's Rule") as info:
        load_rule_plugins()
    assert "co-financing (gf_not_a_rule:CoFinancingRule)" in str(info.value)
    with pytest.raises(BadInput, match="not a subclass"):
        load_text(GUIDELINE)


def test_a_plugin_whose_kind_differs_from_its_entry_point_name_is_refused(
    install: Install,
) -> None:
    install("gf_mismatch", CO_FINANCING, {"cofinancing": "gf_mismatch:CoFinancingRule"})
    with pytest.raises(BadInput) as info:
        load_rule_plugins()
    assert str(info.value) == (
        "rule plugin cofinancing (gf_mismatch:CoFinancingRule) must set kind = 'cofinancing' "
        "(the entry point's name)"
    )


SHADOW = """
import attrs

from grantflow.domain.rules import BudgetRule


@attrs.frozen(kw_only=True)
class LaxBudget(BudgetRule):
    kind = "budget"
"""


def test_a_plugin_may_not_shadow_a_built_in_kind(install: Install) -> None:
    install("gf_shadow", SHADOW, {"budget": "gf_shadow:LaxBudget"})
    with pytest.raises(BadInput) as info:
        load_rule_plugins()
    assert str(info.value) == "rule plugin budget would replace the built-in kind 'budget'"


def test_a_plugin_that_cannot_be_imported_is_refused(install: Install) -> None:
    install("gf_broken", "raise RuntimeError('boom')\n", {"co-financing": "gf_broken:Rule"})
    with pytest.raises(BadInput, match=r"rule plugin co-financing \(gf_broken:Rule\) cannot be"):
        load_rule_plugins()
