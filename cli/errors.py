"""Where a ``grantflow`` command ends: every exit code comes from here.

Each error of grantflow's tree carries its exit code (``GrantflowError.exit_code``,
:mod:`grantflow.errors`); :func:`stop_on` ends a command on such an error (message on stderr,
the error document with ``--json``), :func:`stop_as` ends one that has already said why (a
dry run that would be refused, a verification that found problems) with the exit code of the
error it stands for, and :func:`stop_internal` ends one on a bug.

=====  ===============================================================================
code   meaning
=====  ===============================================================================
0      done
1      refused: a rule, a role, the four-eyes principle or the lifecycle said no
2      bad input or usage: unknown grant/program/actor, malformed amount or date, ...
3      integrity failure: a broken audit chain, a database schema newer than this code
4      conflict: another user changed the same grant or budget at the same moment;
       nothing was written, running the command again is safe
70     internal error: a bug (``--debug`` shows the traceback)
=====  ===============================================================================
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any, NoReturn

import click

from grantflow import (
    BadInput,
    ConcurrentUpdate,
    GrantflowError,
    GuidelineError,
    IntegrityFailure,
    Refused,
    RuleViolation,
    verdict_to_json,
)

from .output import echo_err

if TYPE_CHECKING:
    from .main import Env

OK = 0
REFUSED = Refused.exit_code
BAD_INPUT = BadInput.exit_code
INTEGRITY = IntegrityFailure.exit_code
CONFLICT = ConcurrentUpdate.exit_code
INTERNAL_ERROR = 70

DOCUMENTED = (OK, REFUSED, BAD_INPUT, INTEGRITY, CONFLICT, INTERNAL_ERROR)
"""Every exit code of the ``grantflow`` command (the table above and the CLI reference)."""


def error_document(error: GrantflowError) -> dict[str, Any]:
    """The JSON document ``--json`` prints for an error."""
    doc: dict[str, Any] = {
        "error": {"code": error.code, "exit_code": error.exit_code, "message": str(error)}
    }
    if isinstance(error, RuleViolation):
        doc["error"]["rule_ids"] = list(error.rule_ids)
        doc["error"]["failures"] = [verdict_to_json(v) for v in error.failures]
    if isinstance(error, GuidelineError):
        doc["error"]["problems"] = [str(p) for p in error.problems]
    return doc


def say_error(error: GrantflowError) -> None:
    """The error for people, on stderr: one sentence, or one line per problem or rule."""
    if isinstance(error, GuidelineError):
        echo_err(f"error: guideline {error.source} is not valid:")
        for problem in error.problems:
            echo_err(f"  - {problem}")
    elif isinstance(error, RuleViolation):
        n = len(error.failures)
        what = (
            "the application" if error.event == "propose" else f"{error.event} of {error.grant_id}"
        )
        echo_err(
            f"refused: {what} — {n} rule{'s' if n != 1 else ''} "
            f"said no ({', '.join(error.rule_ids)}):"
        )
        for v in error.failures:
            echo_err(f"  - {v.explain()}")
    else:
        echo_err(f"error: {error}")


def stop_on(ctx: click.Context, env: Env | None, error: GrantflowError) -> NoReturn:
    """End the command on ``error``: the error document with ``--json``, the message on
    stderr, and the error's exit code."""
    if env is not None and env.debug:
        traceback.print_exception(error)
    if env is not None and env.json:
        env.out.json(error_document(error))
    say_error(error)
    ctx.exit(error.exit_code)


def stop_as(ctx: click.Context, error: type[GrantflowError]) -> NoReturn:
    """End a command that has already said why with the exit code of ``error``'s class (a dry
    run that would be refused: :class:`~grantflow.Refused`; problems found in the log:
    :class:`~grantflow.ChainBroken`)."""
    ctx.exit(error.exit_code)


def stop_internal(ctx: click.Context, error: BaseException) -> NoReturn:
    """End the command on a bug: one line asking for a report, :data:`INTERNAL_ERROR`."""
    echo_err(
        f"internal error: {type(error).__name__}: {error} "
        "(run with --debug for the traceback, and please report it)"
    )
    ctx.exit(INTERNAL_ERROR)


def stop_quietly(ctx: click.Context) -> NoReturn:
    """End the command with :data:`OK` without another word (the reader of the output went
    away: ``grantflow log | head``)."""
    ctx.exit(OK)
