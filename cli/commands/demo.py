"""``grantflow demo``: the NRW program replayed on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import click
import pendulum

from grantflow import BERLIN, ChainBroken, amount_to_json

from ..errors import stop_as
from ..main_support import env_of
from ..output import day, eur

DEFAULT_FILE = "grantflow-demo.sqlite"


@click.command()
@click.option(
    "--db",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"SQLite file to write (default: ./{DEFAULT_FILE}, replaced on every run).",
)
@click.option("--replace", is_flag=True, help="Replace the --db file if it exists.")
@click.pass_context
def demo(ctx: click.Context, /, path: Path | None, replace: bool) -> None:
    """Replay the NRW program "Digitale Modellregionen" with the seeds' figures.

    Writes a fresh SQLite file and says where, so you can explore it with the CLI.

    \b
    Example:
      grantflow demo
      grantflow --db grantflow-demo.sqlite list --state extended
    """
    from grantflow import Grantflow, Identity
    from grantflow import demo as scenario

    env = env_of(ctx)
    parent = ctx.parent
    # the global --db counts when it was typed on the command line, not from GRANTFLOW_DB:
    # the demo must never wipe the database an environment variable points at
    if (
        path is None
        and parent is not None
        and env.db
        and parent.get_parameter_source("db") is click.core.ParameterSource.COMMANDLINE
    ):
        path = Path(env.db)
    target = path or Path(DEFAULT_FILE)
    if target.exists():
        if path is not None and not replace:
            raise click.UsageError(f"{target} exists; give --replace to overwrite it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    reader_gone = False

    def say(text: str) -> None:
        """A line of progress. If the reader went away (``grantflow demo | head -3``) the replay
        goes on without output: the database ends up whole, sealed and verified, and the
        command then ends quietly (exit 0) as ``grantflow log | head`` does."""
        nonlocal reader_gone
        if reader_gone:
            return
        try:
            env.out.line(text)
        except BrokenPipeError:
            reader_gone = True

    app = Grantflow.open(str(target), create=True, identity=Identity.DECLARED)
    try:
        result = scenario.run(app, say=say)
        dates = (
            pendulum.Date(2019, 12, 5),
            scenario.INTERIM_REPORT,
            pendulum.today(BERLIN).date(),
        )
        rows = [app.budget_report(scenario.PROGRAM, as_of=d) for d in dates]
        budget = app.program(scenario.PROGRAM).latest.budget
        # the auditor seals the log and proves it intact, as `audit digest` / `audit verify`
        sealed = app.digest(by=scenario.AUDITOR)
        verdict = app.verify(sealed.digest)
    finally:
        app.close()
    if env.json:
        env.out.json(
            {
                "database": str(target),
                "steps": result.steps,
                "figures": [
                    {
                        "as_of": f.as_of.isoformat(),
                        "grants": f.grants,
                        "committed": amount_to_json(f.committed),
                        "private": amount_to_json(f.private),
                        "total_volume": amount_to_json(f.total_volume),
                        "disbursed": amount_to_json(f.disbursed),
                        "refunds": amount_to_json(f.refunds),
                        "available": amount_to_json(f.available),
                    }
                    for f in rows
                ],
                "audit": {"intact": verdict.intact, "digest": sealed.digest},
            }
        )
        if not verdict.intact:
            stop_as(ctx, ChainBroken)
        return
    env.out.table(
        f"program {scenario.PROGRAM}: budget {eur(budget)}",
        (
            "as of",
            "grants",
            "committed",
            "private",
            "total volume",
            "disbursed",
            "refunds",
            "available",
        ),
        [
            (
                day(f.as_of),
                str(f.grants),
                eur(f.committed),
                eur(f.private),
                eur(f.total_volume),
                eur(f.disbursed),
                eur(f.refunds),
                eur(f.available),
            )
            for f in rows
        ],
        right=(
            "grants",
            "committed",
            "private",
            "total volume",
            "disbursed",
            "refunds",
            "available",
        ),
    )
    env.out.line(f"{result.steps} steps written to {target.resolve()}")
    env.out.line(f"audit verify: {verdict.summary()}")
    if not verdict.intact:
        stop_as(ctx, ChainBroken)
    env.out.line(f"explore it:  grantflow --db {target} list")


def register(group: click.Group) -> None:
    group.add_command(demo)
