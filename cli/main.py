"""The ``grantflow`` command: global options, lazy access to the library, errors to exit codes.

Heavy modules (SQLAlchemy through ``grantflow.services``, rich) are imported only inside the
commands that need them, so ``grantflow --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from grantflow.database_errors import translated
from grantflow.errors import GrantflowError, GuidelineError, RuleViolation

from .errors import exit_code_for
from .output import Output, echo_err, verdict_json

if TYPE_CHECKING:
    from grantflow.services import Grantflow

INTERNAL_ERROR = 70


class Env:
    """What every command gets: the global options and a lazily opened library handle."""

    def __init__(self, db: str | None, actor: str | None, json_mode: bool, debug: bool) -> None:
        self.db = db
        self.actor = actor
        self.json = json_mode
        self.debug = debug
        self.out = Output(json_mode=json_mode)
        self._app: Grantflow | None = None

    def app(self, *, create: bool = False) -> Grantflow:
        """The library, opened on ``--db`` (or ``GRANTFLOW_DB`` / the default file)."""
        if self._app is None:
            from grantflow.services import Grantflow, Identity

            # the login is the actor: the PostgreSQL login, or on SQLite the OS login (a
            # name typed with --actor only counts in a database made with --declared-actors)
            self._app = Grantflow.open(self.db, create=create, identity=Identity.LOGIN)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


def _error_document(error: GrantflowError, code: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"error": {"code": error.code, "exit_code": code, "message": str(error)}}
    if isinstance(error, RuleViolation):
        doc["error"]["rule_ids"] = list(error.rule_ids)
        doc["error"]["failures"] = [verdict_json(v) for v in error.failures]
    if isinstance(error, GuidelineError):
        doc["error"]["problems"] = [str(p) for p in error.problems]
    return doc


def _say_error(error: GrantflowError) -> None:
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


class GrantflowGroup(click.Group):
    """Turns grantflow's errors into one plain message on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return translated(super().invoke, ctx)  # database errors: one sentence, no SQL
        except GrantflowError as error:
            env = ctx.find_object(Env)
            if env is not None and env.debug:
                traceback.print_exc()
            code = exit_code_for(error)
            if env is not None and env.json:
                env.out.json(_error_document(error, code))
            _say_error(error)
            ctx.exit(code)
        except BrokenPipeError:
            # the reader went away (``grantflow log | head``): stop quietly, as other tools do
            with contextlib.suppress(OSError, ValueError):  # stdout without a descriptor
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:
            env = ctx.find_object(Env)
            if env is not None and env.debug:
                raise
            echo_err(
                f"internal error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback, and please report it)"
            )
            ctx.exit(INTERNAL_ERROR)
        finally:
            env = ctx.find_object(Env)
            if env is not None:
                env.close()


@click.group(cls=GrantflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="GRANTFLOW_DB",
    metavar="URL_OR_PATH",
    help="Database URL or SQLite file path [env GRANTFLOW_DB; default: the per-user data file].",
)
@click.option(
    "--actor",
    envvar="GRANTFLOW_ACTOR",
    default=None,
    metavar="NAME",
    help=(
        "Who is acting [env GRANTFLOW_ACTOR; default: the actor mapped to your login]. On "
        "PostgreSQL only your own; on SQLite another name only in a database made with "
        "`init --declared-actors`."
    ),
)
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.version_option(package_name="grantflow")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, actor: str | None, json_mode: bool, debug: bool
) -> None:
    """grantflow: public grants (Zuwendungen) through their lifecycle, by the book.

    \b
    Start with:
      grantflow demo                      a realistic lifecycle on a fresh SQLite file
      grantflow init --admin NAME         create a database and its first admin
    Exit codes: 0 done, 1 refused, 2 bad input, 3 integrity failure, 4 conflict (retry).
    """
    ctx.obj = Env(db=db, actor=actor, json_mode=json_mode, debug=debug)


def _register() -> None:
    from . import params
    from .commands import admin, audit, demo, grants, log, money, reports

    for module in (admin, grants, money, log, demo, reports, audit):
        module.register(cli)
    params.guard(cli)  # every text and number option within grantflow.limits


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(prog_name="grantflow"))
