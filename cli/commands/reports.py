"""Money and deadlines: ``report budget`` and ``due``."""

from __future__ import annotations

import click
import pendulum

from grantflow import budget_report_to_json, due_item_to_json

from ..main_support import env_of
from ..output import day, eur
from ..params import DATE


@click.group()
def report() -> None:
    """Program reports."""


@report.command("budget")
@click.option("--program", "program_id", required=True, help="Program id.")
@click.option("--as-of", type=DATE, help="At the end of this business date (default: today).")
@click.pass_context
def budget(ctx: click.Context, /, program_id: str, as_of: pendulum.Date | None) -> None:
    """Budget, committed, disbursed, refunds and available, in total and by region, focus area
    and budget year, as they stood at the end of a date.

    \b
    Example:
      grantflow report budget --program nrw-digitale-modellregionen --as-of 2019-12-05
    """
    env = env_of(ctx)
    r = env.app().budget_report(program_id, as_of=as_of)
    if env.json:
        env.out.json(budget_report_to_json(r))
        return
    out = env.out
    out.line(f"{r.program_id}: {r.program_name}, as of {day(r.as_of)} (guideline {r.version})")
    out.table(
        None,
        (
            "budget",
            "committed",
            "disbursed",
            "refunds",
            "available",
            "grants",
            "private",
            "total volume",
        ),
        [
            (
                eur(r.budget),
                eur(r.committed),
                eur(r.disbursed),
                eur(r.refunds),
                eur(r.available),
                str(r.grants),
                eur(r.private),
                eur(r.total_volume),
            )
        ],
        right=(
            "budget",
            "committed",
            "disbursed",
            "refunds",
            "available",
            "grants",
            "private",
            "total volume",
        ),
    )
    columns = ("grants", "committed", "disbursed", "refunds", "private", "total volume")
    for title, lines in (("by region", r.by_region), ("by focus area", r.by_focus)):
        out.table(
            title,
            ("", *columns),
            [
                (
                    x.key,
                    str(x.grants),
                    eur(x.committed),
                    eur(x.disbursed),
                    eur(x.refunds),
                    eur(x.private),
                    eur(x.total_volume),
                )
                for x in lines
            ],
            right=columns,
        )
    out.table(
        "by budget year",
        ("year", "grants approved", "approved", "disbursed"),
        [(x.key, str(x.grants), eur(x.committed), eur(x.disbursed)) for x in r.by_year],
        right=("grants approved", "approved", "disbursed"),
    )


@click.command()
@click.option("--as-of", type=DATE, help="As of this business date (default: today).")
@click.option(
    "--within",
    "within_days",
    type=click.IntRange(min=0),
    help="Only duties due within DAYS.",
    metavar="DAYS",
)
@click.option("--program", "program_id", help="Only this program.")
@click.pass_context
def due(
    ctx: click.Context,
    /,
    as_of: pendulum.Date | None,
    within_days: int | None,
    program_id: str | None,
) -> None:
    """Duties falling due, overdue first: proofs of use, interim proofs, ends of funding
    periods, funds not used within two months, and refunds still owed (due when the claim
    arises, until repaid).

    \b
    Example:
      grantflow due --as-of 2023-11-01 --within 60
    """
    env = env_of(ctx)
    items = env.app().due(as_of=as_of, within_days=within_days, program=program_id)
    if env.json:
        env.out.json([due_item_to_json(i) for i in items])
        return
    env.out.table(
        f"{len(items)} duties",
        ("due", "status", "grant", "duty", "rule", "applicant", "what"),
        [
            (
                day(i.duty.due),
                f"OVERDUE {i.duty.days_overdue} d" if i.duty.overdue else "open",
                i.grant_id,
                i.duty.kind.value,
                i.duty.rule_id,
                i.applicant,
                i.duty.description,
            )
            for i in items
        ],
        styles={n: {"status": "bold red"} for n, i in enumerate(items) if i.duty.overdue},
    )


def register(group: click.Group) -> None:
    group.add_command(report)
    group.add_command(due)
