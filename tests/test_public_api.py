"""The public API is what ``grantflow.__all__`` says; pin it so changes are deliberate."""

import subprocess
import sys

import grantflow


def test_all_names_are_unique_and_importable() -> None:
    assert len(set(grantflow.__all__)) == len(grantflow.__all__)
    for name in grantflow.__all__:
        assert hasattr(grantflow, name), name


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
