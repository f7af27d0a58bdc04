"""Tamper evidence: ``grantflow audit verify`` and ``grantflow audit digest``; the budget
figures against the log: ``grantflow audit budget-days``."""

from __future__ import annotations

import click

from grantflow import ChainBroken, IntegrityFailure, checkpoint_to_json, verify_report_to_json

from ..errors import stop_as
from ..main_support import env_of
from ..output import echo_err


@click.group()
def audit() -> None:
    """Prove that the log was not changed: verify it, take digests to keep."""


@audit.command("verify")
@click.option(
    "--digest",
    metavar="DIGEST",
    help="A digest printed earlier by 'grantflow audit digest': also prove the log still "
    "holds everything it sealed.",
)
@click.option(
    "--chains-only",
    is_flag=True,
    help="Check the hash chains alone (quick), without replaying and judging every step.",
)
@click.pass_context
def audit_verify(ctx: click.Context, /, digest: str | None, chains_only: bool) -> None:
    """Check the whole log: its hash chains, and that it tells what the rules allowed.

    Walks the transitions, the refused attempts, the administrative records and the
    checkpoints in a stream and finds a changed field, a deleted, inserted or swapped record, a
    broken chain, and (against every checkpoint, and the --digest you kept) records deleted
    from the end. It also replays every grant against its row and judges every step again by
    the rules (not with --chains-only). Exit 3 naming the first problem.

    \b
    Examples:
      grantflow audit verify
      grantflow audit verify --digest gf1-3-5d0c…
      grantflow audit verify --chains-only
    """
    env = env_of(ctx)
    report = env.app().verify(digest, replay=not chains_only)
    if env.json:
        env.out.json(verify_report_to_json(report))
    elif report.intact:
        env.out.line(report.summary())
        if report.newest_digest:
            env.out.line(f"newest checkpoint: {report.newest_digest}")
    else:
        echo_err(report.summary())
        for problem in report.problems[1:]:
            echo_err(f"  - {problem}")
        if report.more_problems:
            echo_err(f"  … and {report.more_problems} more")
    if not report.intact:
        stop_as(ctx, ChainBroken)


@audit.command("digest")
@click.pass_context
def audit_digest(ctx: click.Context) -> None:
    """Seal the head of every chain in a checkpoint and print its digest (auditors, admins).

    Keep the digest outside the system (audit report, e-mail, paper): `grantflow audit verify
    --digest DIGEST` later proves that nothing the checkpoint sealed was changed or removed.
    The digest goes to standard output alone, what it sealed to standard error.

    \b
    Example:
      grantflow --actor udo audit digest
    """
    env = env_of(ctx)
    cp = env.app().digest(by=env.actor)
    if env.json:
        env.out.json(checkpoint_to_json(cp))
        return
    env.out.line(cp.digest)
    refused = f"the refused attempts up to no. {cp.refused}" if cp.refused else "no refused attempt"
    echo_err(
        f"checkpoint {cp.id} seals {cp.grants} grant chain{'' if cp.grants == 1 else 's'} "
        f"({cp.records} records) and "
        f"{refused}; keep the digest outside grantflow"
    )


SHOWN_PROBLEMS = 20
"""How many differing budget days ``audit budget-days`` lists before it says how many more."""


@audit.command("budget-days")
@click.option("--program", metavar="PROGRAM", help="Only this program (default: every program).")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Admins: replace the budget days by what the log says (after the check).",
)
@click.pass_context
def audit_budget_days(ctx: click.Context, program: str | None, rebuild: bool) -> None:
    """Check that the budget figures agree with the log; exit 3 listing the days that do not.

    `report budget` and the budget rules sum the table budget_days, which every step keeps up
    to date. This replays the whole transition log and compares: a row changed outside
    grantflow shows up here (audit verify proves the log itself). With --rebuild an admin then
    rebuilds the table from the log, in one transaction.

    \b
    Examples:
      grantflow audit budget-days
      grantflow --actor ada audit budget-days --program nrw-digitale-modellregionen --rebuild
    """
    env = env_of(ctx)
    app = env.app()
    problems = app.check_budget_days(program)
    scope = f"program {program}" if program else "every program"
    if not env.json:
        if not problems:
            env.out.line(f"the budget days of {scope} agree with the transition log")
        else:
            n = len(problems)
            echo_err(
                f"BROKEN: {n} budget day{'' if n == 1 else 's'} of {scope} "
                f"{'differs' if n == 1 else 'differ'} from the transition log:"
            )
            for line in problems[:SHOWN_PROBLEMS]:
                echo_err(f"  - {line}")
            if n > SHOWN_PROBLEMS:
                echo_err(f"  … and {n - SHOWN_PROBLEMS} more")
    rows = app.rebuild_budget_days(by=env.actor, program_id=program) if rebuild else None
    if env.json:
        env.out.json(
            {"program": program, "agrees": not problems, "problems": problems, "rebuilt_rows": rows}
        )
    elif rows is not None:
        env.out.line(f"rebuilt: {rows} budget day rows of {scope} written from the log")
    if problems and rows is None:
        stop_as(ctx, IntegrityFailure)


def register(group: click.Group) -> None:
    group.add_command(audit)
