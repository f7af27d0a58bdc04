"""The public API is what ``grantflow.__all__`` says; pin it so changes are deliberate."""

import subprocess
import sys

import grantflow

EXPORTED = [  # the public API: change it on purpose, and say so in the changelog
    "BERLIN",
    "BUILTIN_GUIDELINES",
    "LIFECYCLE",
    "Actor",
    "AdminEntry",
    "Amend",
    "Applicant",
    "ApplicantKind",
    "Approve",
    "BadInput",
    "Bind",
    "BudgetLine",
    "BudgetReport",
    "ChainBroken",
    "Checkpoint",
    "Close",
    "Command",
    "ConcurrentUpdate",
    "DatabaseNotSound",
    "Disburse",
    "Document",
    "DueItem",
    "Evaluation",
    "Event",
    "Exposure",
    "Extend",
    "FinancingType",
    "Grant",
    "Grantflow",
    "GrantflowError",
    "GuidelineError",
    "GuidelineProblem",
    "Identity",
    "IntegrityFailure",
    "InterestResult",
    "InterestSlice",
    "InvalidTransition",
    "LoadResult",
    "LogEntry",
    "LogFilter",
    "MoneyStatement",
    "NotFound",
    "Override",
    "Problem",
    "Program",
    "ProgramVersion",
    "Propose",
    "Refused",
    "Reject",
    "Repay",
    "RevocationEffect",
    "Revoke",
    "Role",
    "Rule",
    "RuleContext",
    "RuleViolation",
    "SchemaMissing",
    "SchemaOutdated",
    "SchemaTooNew",
    "Severity",
    "Start",
    "State",
    "Submit",
    "TransitionRecord",
    "Verdict",
    "VerifyReport",
    "Withdraw",
    "admin_entry_to_json",
    "amount_to_json",
    "apply",
    "budget_report_to_json",
    "builtin_guideline_path",
    "check",
    "checkpoint_to_json",
    "decide",
    "due_item_to_json",
    "format_date_de",
    "format_eur",
    "format_rate",
    "grant_to_json",
    "known_error",
    "limits",
    "log_entry_to_json",
    "money_statement_to_json",
    "parse_amount",
    "parse_date",
    "replay",
    "to_berlin",
    "utc_iso",
    "verdict_to_json",
    "verify_report_to_json",
]


def test_all_is_pinned() -> None:
    assert grantflow.__all__ == EXPORTED
    assert sorted(EXPORTED) == EXPORTED or sorted(EXPORTED, key=_isort) == EXPORTED


def _isort(name: str) -> tuple[int, str]:
    """ruff's order of ``__all__``: constants, classes, functions."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return (kind, name)


def test_all_names_are_unique_and_importable() -> None:
    assert len(set(grantflow.__all__)) == len(grantflow.__all__)
    for name in grantflow.__all__:
        assert hasattr(grantflow, name), name
    assert set(dir(grantflow)) >= set(grantflow.__all__)


def test_import_grantflow_is_light_and_the_service_comes_on_first_use() -> None:
    """``import grantflow`` imports no database layer; ``from grantflow import Grantflow``
    does, and gives the service's own objects."""
    code = (
        "import sys, grantflow\n"
        "heavy = ('sqlalchemy', 'click', 'rich', 'alembic', 'psycopg', 'grantflow.services')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
        "from grantflow import Grantflow, LogFilter\n"
        "import grantflow.services as s\n"
        "print(Grantflow is s.Grantflow and LogFilter is s.LogFilter)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["", "True"], out.stdout


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        grantflow.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("grantflow.NoSuchThing exists")


def test_packaged_guidelines_load() -> None:
    from grantflow.guidelines import BUILTIN, load

    for name in BUILTIN:
        program = load(name)
        assert program.id == name
        assert program.versions


def test_the_rule_plugin_api_is_the_objects_grantflow_uses() -> None:
    """``grantflow.rules`` re-exports; a plugin's ``Rule`` must be the one the loader checks."""
    import grantflow.rules
    from grantflow.domain import model, money, params, rules

    home = {
        "Event": model,
        "Severity": model,
        "Verdict": model,
        "apply_rate": money,
        "format_eur": money,
        "format_rate": money,
        "Reader": params,
        "to_amount": params,
        "to_rate": params,
        "Exposure": rules,
        "Outcome": rules,
        "Rule": rules,
        "RuleContext": rules,
        "fail": rules,
        "ok": rules,
    }
    assert sorted(grantflow.rules.__all__) == sorted(home)
    assert grantflow.rules.__all__ == sorted(grantflow.rules.__all__)
    for name, module in home.items():
        assert getattr(grantflow.rules, name) is getattr(module, name), name
    for name in set(grantflow.rules.__all__) & set(grantflow.__all__):
        assert getattr(grantflow.rules, name) is getattr(grantflow, name), name


def test_the_rule_plugin_api_imports_no_database_and_no_command_line() -> None:
    code = (
        "import sys, grantflow.rules\n"
        "heavy = ('sqlalchemy', 'click', 'rich', 'alembic', 'psycopg', 'grantflow.services')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", out.stdout
