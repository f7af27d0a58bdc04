"""Reading the transition log: ``grantflow log`` as a table, CSV (German Excel) or JSON lines."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import Any

import click
import pendulum

from grantflow.domain.codec import to_data
from grantflow.domain.model import Event

from ..main_support import env_of
from ..output import day, when
from ..params import DATE

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
    "amount",
    "reason",
    "rules",
    "guideline",
    "guideline_version",
)


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


def entry_json(entry: Any) -> dict[str, Any]:
    """One log entry as a JSON object (a line of ``--format jsonl``)."""
    return {
        "log_id": f"{'r' if entry.refused else 't'}-{entry.id}",
        "refused": entry.refused,
        "grant": entry.grant_id,
        "seq": entry.seq,
        "event": entry.event.value if isinstance(entry.event, Event) else entry.event,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "business_date": entry.business_date.isoformat(),
        "recorded_at": to_data(entry.recorded_at),
        "actor": entry.actor,
        "reason": entry.reason,
        "data": entry.data,
        "verdicts": [to_data(v) for v in entry.verdicts],
        "rule_ids": list(entry.rule_ids),
        "guideline": entry.guideline_id,
        "guideline_version": entry.guideline_version,
    }


def _csv_row(entry: Any, decimal_comma: bool) -> list[str]:
    amount = _amount(entry)
    if decimal_comma:
        amount = amount.replace(".", ",")
    return [
        f"{'r' if entry.refused else 't'}-{entry.id}",
        to_data(entry.recorded_at),
        entry.business_date.isoformat(),
        entry.grant_id or "",
        "" if entry.seq is None else str(entry.seq),
        str(entry.event),
        str(entry.from_state or ""),
        str(entry.to_state or ""),
        "refused" if entry.refused else "done",
        entry.actor,
        amount,
        entry.reason,
        _rules(entry),
        entry.guideline_id or "",
        entry.guideline_version or "",
    ]


def write_csv(entries: Iterable[Any], out: Any, *, decimal_comma: bool) -> None:
    """German-Excel CSV: UTF-8 with BOM, semicolon separated, optional decimal comma."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(_csv_row(entry, decimal_comma))


@click.command()
@click.argument("grant_id", metavar="[ID]", required=False)
@click.option("--program", "program_id", help="Only this program.")
@click.option("--actor", "actor_filter", help="Only steps by this actor.")
@click.option("--event", type=click.Choice([e.value for e in Event]), help="Only this event.")
@click.option("--since", type=DATE, help="Business date from (inclusive).")
@click.option("--until", type=DATE, help="Business date until (inclusive).")
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
    event: str | None,
    since: pendulum.Date | None,
    until: pendulum.Date | None,
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
      grantflow log --format jsonl > log.jsonl
    """
    env = env_of(ctx)
    app = env.app()
    if grant_id:
        app.grant(grant_id)  # unknown grant: exit 2, not an empty log
    if program_id:
        app.program(program_id)
    entries = app.log(
        grant_id=grant_id,
        program=program_id,
        actor=actor_filter,
        event=Event(event) if event else None,
        since=since,
        until=until,
        include_refused=refused or only_refused,
    )
    if only_refused:
        entries = (e for e in entries if e.refused)
    stream = sys.stdout
    if fmt == "csv":
        write_csv(entries, stream, decimal_comma=decimal_comma)
        return
    if env.json and fmt != "jsonl":
        env.out.json([entry_json(e) for e in entries])
        return
    if fmt == "jsonl":
        for entry in entries:
            stream.write(json.dumps(entry_json(entry), ensure_ascii=False) + "\n")
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
                e.actor,
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
