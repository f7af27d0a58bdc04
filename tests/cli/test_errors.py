"""The one table from grantflow's error tree to the CLI's documented exit codes."""

from __future__ import annotations

import pytest

from grantflow.errors import (
    BadInput,
    ConcurrentUpdate,
    GrantflowError,
    GuidelineError,
    IntegrityFailure,
    InvalidTransition,
    NotFound,
    RuleViolation,
    SchemaTooNew,
)
from grantflow_cli.errors import BAD_INPUT, CONFLICT, INTEGRITY, REFUSED, exit_code_for


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RuleViolation("approve", "G-1", []), REFUSED),
        (InvalidTransition("start", "proposed", ["approved"]), REFUSED),
        (BadInput("bad"), BAD_INPUT),
        (NotFound("nope"), BAD_INPUT),
        (GuidelineError("x.toml", []), BAD_INPUT),
        (IntegrityFailure("broken"), INTEGRITY),
        (SchemaTooNew("newer"), INTEGRITY),
        (ConcurrentUpdate("again"), CONFLICT),
        (GrantflowError("other"), BAD_INPUT),
    ],
)
def test_exit_codes(error: GrantflowError, code: int) -> None:
    assert exit_code_for(error) == code
    assert (REFUSED, BAD_INPUT, INTEGRITY, CONFLICT) == (1, 2, 3, 4)
