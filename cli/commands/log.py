"""Reading the transition log: ``grantflow log`` as a table, CSV (German Excel) or JSON lines.

JSON lines are the entries exactly as their hashes cover them (plus ``hash`` and ``log_id``):
without filters the whole log and every checkpoint, which ``docs/verify_log.py`` verifies.

CSV is for spreadsheets, which run a cell as a formula when it begins with ``=``, ``+``, ``-``
or ``@`` (and some when it begins with a tab, a carriage return or NUL): such a text cell gets a
leading ``'`` (:func:`csv_cell`, as the OWASP CSV injection guidance says), so a reason like
``=HYPERLINK(…)`` arrives as text. Amounts are numbers and stay as they are.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

import click
import pendulum

from grantflow import Event, utc_iso

from ..main_support import env_of
from ..output import actor_shown, day, when
from ..params import DATE, MOMENT, MOMENT_UNTIL

CSV_COLUMNS = (
    "log_id",
    "recorded_at",
    "business_date",
    "grant",
    "seq",
    "event",
    "from_state",
    "to_state",
    "outcome",
    "actor",
    "actor_auth",
    "amount",
    "reason",
    "rules",
    "guideline",
    "guideline_version",
    "hash",
    "prev_hash",
)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
"""First characters that make a spreadsheet read a cell as a formula (OWASP: ``= + - @``, tab and
carriage return; OWASP ASVS adds NUL; a line feed for good measure)."""

NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
"""An amount as the CSV writes it (``-5.00``, ``800000,00``): a number, never a formula."""


def csv_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ``'`` if it begins with
    one of :data:`FORMULA_STARTS`."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _amount(entry: Any) -> str:
    data = entry.data or {}
    for key in ("amount", "final_amount", "requested_amount"):
        if data.get(key) is not None:
            return str(data[key])
    return ""


def _rules(entry: Any) -> str:
    if entry.refused:
        return " ".join(entry.rule_ids)
    return " ".join(f"{v.rule_id}(overridden)" for v in entry.verdicts if v.overridden)


def _csv_row(entry: Any, decimal_comma: bool) -> list[str]:
    amount = _amount(entry)
    if decimal_comma:
        amount = amount.replace(".", ",")
    cells = [
        f"{'r' if entry.refused else 't'}-{entry.id}",
        utc_iso(entry.recorded_at),
        entry.business_date.isoformat(),
        entry.grant_id or "",
        "" if entry.seq is None else str(entry.seq),
        str(entry.event),
        str(entry.from_state or ""),
        str(entry.to_state or ""),
        "refused" if entry.refused else "done",
        entry.actor,
        entry.actor_auth or "",
        amount,
        entry.reason,
        _rules(entry),
        entry.guideline_id or "",
        entry.guideline_version or "",
        entry.hash or "",
        entry.prev_hash or "",
    ]
    amount_at = CSV_COLUMNS.index("amount")
    return [
        cell if i == amount_at and NUMBER.fullmatch(cell) else csv_cell(cell)
        for i, cell in enumerate(cells)
    ]


def write_csv(entries: Iterable[Any], out: Any, *, decimal_comma: bool) -> None:
    """German-Excel CSV: UTF-8 with BOM, semicolon separated, optional decimal comma; no cell
    but a well-formed amount begins like a formula (:func:`csv_cell`)."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(_csv_row(entry, decimal_comma))


@click.command()
@click.argument("grant_id", metavar="[ID]", required=False)
@click.option("--program", "program_id", help="Only this program.")
@click.option("--actor", "actor_filter", help="Only steps by this actor.")
@click.option("--region", help="Only grants of this region.")
@click.option("--event", type=click.Choice([e.value for e in Event]), help="Only this event.")
@click.option("--since", type=DATE, help="Business date from (inclusive).")
@click.option("--until", type=DATE, help="Business date until (inclusive).")
@click.option(
    "--recorded-since",
    type=MOMENT,
    help="Recorded at or after (2021-12-31T14:30; Berlin time without an offset).",
)
@click.option(
    "--recorded-until",
    type=MOMENT_UNTIL,
    help="Recorded at or before (a bare date: to the end of that day).",
)
@click.option("--refused/--no-refused", default=True, help="Include refused attempts.")
@click.option("--only-refused", is_flag=True, help="Show only refused attempts.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
    help="table for people; csv for German Excel; jsonl (one JSON object a line) for tools.",
)
@click.option("--decimal-comma", is_flag=True, help="CSV: write amounts with a decimal comma.")
@click.pass_context
def log(
    ctx: click.Context,
    grant_id: str | None,
    program_id: str | None,
    actor_filter: str | None,
    region: str | None,
    event: str | None,
    since: pendulum.Date | None,
    until: pendulum.Date | None,
    recorded_since: pendulum.DateTime | None,
    recorded_until: pendulum.DateTime | None,
    refused: bool,
    only_refused: bool,
    fmt: str,
    decimal_comma: bool,
) -> None:
    """Read the transition log, with refused attempts marked.

    \b
    Examples:
      grantflow log DMR-2019-0001
      grantflow log --actor anton --since 2021-01-01 --format csv > log.csv
      grantflow log --region owl --recorded-since 2026-11-01
      grantflow log --format jsonl > log.jsonl    (the whole log, for docs/verify_log.py)
    """
    from grantflow import LogFilter

    env = env_of(ctx)
    app = env.app()
    if grant_id:
        app.grant(grant_id)  # unknown grant: exit 2, not an empty log
    if program_id:
        app.program(program_id)
    where = LogFilter(
        grant_id=grant_id,
        program=program_id,
        actor=actor_filter,
        event=event,
        since=since,
        until=until,
        include_refused=refused or only_refused,
        region=region,
        recorded_since=recorded_since,
        recorded_until=recorded_until,
    )
    stream = sys.stdout
    if fmt == "jsonl" or (env.json and fmt != "csv"):
        lines = app.export(where)
        if only_refused:
            lines = (line for line in lines if line["kind"] == "refused")
        if fmt != "jsonl":
            env.out.json(list(lines))
            return
        for line in lines:
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    entries = app.log(where)
    if only_refused:
        entries = (e for e in entries if e.refused)
    if fmt == "csv":
        write_csv(entries, stream, decimal_comma=decimal_comma)
        return
    rows = []
    styles: dict[int, dict[str, str]] = {}
    for i, e in enumerate(entries):
        rows.append(
            (
                when(e.recorded_at),
                day(e.business_date),
                e.grant_id or "",
                str(e.event),
                f"{e.from_state or '—'} → {e.to_state or '—'}",
                "REFUSED" if e.refused else "done",
                actor_shown(e.actor, e.actor_auth),
                _rules(e),
                e.reason,
            )
        )
        if e.refused:
            styles[i] = {"outcome": "bold red"}
    env.out.table(
        None,
        (
            "recorded (Berlin)",
            "date",
            "grant",
            "event",
            "state",
            "outcome",
            "actor",
            "rules",
            "reason",
        ),
        rows,
        styles=styles,
    )
    sys.stdout.flush()


def register(group: click.Group) -> None:
    group.add_command(log)
