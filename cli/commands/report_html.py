"""``grantflow audit report``: the audit report as one self-contained HTML file (or, with
``--json``, the same data as one JSON document). The report itself is built by
:mod:`grantflow.report`."""

from __future__ import annotations

from pathlib import Path

import click
import pendulum

from grantflow import ChainBroken
from grantflow.report import DEFAULT_OUTPUT, build, render_html

from ..errors import stop_as
from ..main_support import env_of
from ..output import echo_err
from ..params import DATE


@click.command("report")
@click.option("--program", metavar="ID", help="Only this program (default: every program).")
@click.option("--grant", "grant_id", metavar="ID", help="Only this grant.")
@click.option("--since", type=DATE, help="Steps with a business date from (inclusive).")
@click.option(
    "--until",
    type=DATE,
    help="Steps with a business date until (inclusive; default: the report date).",
)
@click.option(
    "--as-of",
    type=DATE,
    help="The report date: figures, late proofs and refunds at its end "
    "(default: --until, else today).",
)
@click.option(
    "--digest",
    metavar="DIGEST",
    help="A digest kept from 'grantflow audit digest': the verification also proves the log "
    "still holds everything it sealed.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Where to write the HTML file.",
)
@click.pass_context
def audit_report(
    ctx: click.Context,
    /,
    program: str | None,
    grant_id: str | None,
    since: pendulum.Date | None,
    until: pendulum.Date | None,
    as_of: pendulum.Date | None,
    digest: str | None,
    output: Path,
) -> None:
    """Write the audit report: one HTML file to open in a browser, print or attach.

    The report verifies the whole log (as `audit verify` does) and shows the result with the
    digest checked and when; the program's figures on the report date with a chart of
    commitments and payments; every grant's steps (refused attempts in place) with who acted
    and how they were established, amounts, notices, the rules' verdicts and overrides; and
    the lists to start from: overrides, refused attempts, late proofs of use, refunds owed
    with interest, and one person acting in two functions on a grant. The file needs no
    network and no script. With --json the same data goes to standard output instead. Exit
    3 (after writing the report) if the log is broken.

    \b
    Examples:
      grantflow audit report --program nrw-digitale-modellregionen
      grantflow audit report --grant DMR-2019-0001 --output DMR-2019-0001.html
      grantflow audit report --since 2021-01-01 --until 2021-12-31 --digest gf1-3-5d0c…
      grantflow --json audit report --program nrw-digitale-modellregionen > report.json
    """
    env = env_of(ctx)
    doc = build(
        env.app(),
        program=program,
        grant=grant_id,
        since=since,
        until=until,
        as_of=as_of,
        digest=digest,
    )
    if env.json:
        env.out.json(doc)
    else:
        output.write_text(render_html(doc), encoding="utf-8")
        n = len(doc["grants"])
        env.out.line(
            f"audit report written to {output}: {n} grant{'' if n == 1 else 's'}; "
            f"log {'intact' if doc['verify']['intact'] else 'BROKEN'}"
        )
    if not doc["verify"]["intact"]:
        if not env.json:
            echo_err(doc["verify"]["summary"])
        stop_as(ctx, ChainBroken)


def register(group: click.Group) -> None:
    """Add ``report`` to the ``audit`` group (registered before this)."""
    audit = group.commands["audit"]
    assert isinstance(audit, click.Group)
    audit.add_command(audit_report)
