"""The ``grantflow`` command: global options, lazy access to the library; errors end in errors.py.

Heavy modules (SQLAlchemy through ``grantflow.services``, rich) are imported only inside the
commands that need them, so ``grantflow --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from grantflow import known_error

from . import errors
from .output import Output

if TYPE_CHECKING:
    from grantflow import Grantflow


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
            from grantflow import Grantflow, Identity

            # the login is the actor: the PostgreSQL login, or on SQLite the OS login (a
            # name typed with --actor only counts in a database made with --declared-actors)
            self._app = Grantflow.open(self.db, create=create, identity=Identity.LOGIN)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


class GrantflowGroup(click.Group):
    """Turns grantflow's errors into one plain message on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (``grantflow log | head``): stop quietly, as other tools do
            with contextlib.suppress(OSError, ValueError):  # stdout without a descriptor
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            errors.stop_quietly(ctx)
        except Exception as exc:
            env = ctx.find_object(Env)
            error = known_error(exc)  # database errors too: one sentence, no SQL
            if error is None:
                if env is not None and env.debug:
                    raise
                errors.stop_internal(ctx, exc)
            if error is not exc:
                error.__cause__ = exc
            errors.stop_on(ctx, env, error)
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
    from .commands import admin, audit, demo, grants, log, money, report_html, reports

    for module in (admin, grants, money, log, demo, reports, audit, report_html):
        module.register(cli)
    params.guard(cli)  # every text and number option within grantflow.limits


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(prog_name="grantflow"))
