"""Each error of grantflow's tree carries its exit code; the CLI ends only in cli/errors.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grantflow import (
    BadInput,
    ChainBroken,
    ConcurrentUpdate,
    DatabaseNotSound,
    GrantflowError,
    GuidelineError,
    IntegrityFailure,
    InvalidTransition,
    NotFound,
    RuleViolation,
    SchemaMissing,
    SchemaOutdated,
    SchemaTooNew,
)
from grantflow_cli import errors
from grantflow_cli.errors import BAD_INPUT, CONFLICT, INTEGRITY, REFUSED

CLI = Path(errors.__file__).parent


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RuleViolation("approve", "G-1", []), REFUSED),
        (InvalidTransition("start", "proposed", ["approved"]), REFUSED),
        (BadInput("bad"), BAD_INPUT),
        (NotFound("nope"), BAD_INPUT),
        (SchemaMissing("no schema"), BAD_INPUT),
        (SchemaOutdated("old schema"), BAD_INPUT),
        (GuidelineError("x.toml", []), BAD_INPUT),
        (IntegrityFailure("broken"), INTEGRITY),
        (SchemaTooNew("newer"), INTEGRITY),
        (ChainBroken("cut"), INTEGRITY),
        (DatabaseNotSound("not a database"), INTEGRITY),
        (ConcurrentUpdate("again"), CONFLICT),
        (GrantflowError("other"), BAD_INPUT),
    ],
)
def test_exit_codes(error: GrantflowError, code: int) -> None:
    assert error.exit_code == code
    assert (REFUSED, BAD_INPUT, INTEGRITY, CONFLICT) == (1, 2, 3, 4)
    assert errors.error_document(error)["error"]["exit_code"] == code


def _error_classes() -> list[type[GrantflowError]]:
    found: list[type[GrantflowError]] = []
    todo: list[type[GrantflowError]] = [GrantflowError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_is_in_the_one_module_and_its_tree() -> None:
    """Every error class lives in grantflow.errors, is exported, and the tree in the module's
    docstring gives its exit code."""
    import grantflow.errors

    tree = grantflow.errors.__doc__ or ""
    for cls in _error_classes():
        if not cls.__module__.startswith("grantflow"):  # one a test defines
            continue
        assert cls.__module__ == "grantflow.errors", cls
        assert getattr(grantflow, cls.__name__) is cls, cls
        line = re.search(rf"── {cls.__name__}\b.*|^    {cls.__name__}\b.*", tree, re.MULTILINE)
        assert line is not None, f"{cls.__name__} is not in the tree"
        assert f"exit {cls.exit_code}" in line.group(0), line.group(0)


EXITS = re.compile(r"\bctx\.exit\(|\bsys\.exit\(|\bSystemExit\b|\.exit\(\s*\d")


def test_no_command_ends_outside_the_one_place() -> None:
    """Only cli/errors.py ends a command with an exit code (and main() hands click's to the
    shell)."""
    offenders = []
    for path in sorted(CLI.rglob("*.py")):
        if path.name == "errors.py" and path.parent == CLI:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if EXITS.search(line) and "sys.exit(cli.main(" not in line:
                offenders.append(f"{path.relative_to(CLI)}:{n}: {line.strip()}")
    assert not offenders, offenders
