"""How the CLI shows things: one JSON document with ``--json``, rich tables otherwise.

Human output uses German formats (``800.000,00 EUR``, ``31.12.2021``) and colors states; it is
plain text without colors when stdout is not a terminal or ``NO_COLOR`` is set. JSON output has
amounts as strings with two decimals and dates in ISO 8601. rich is imported only when a table
is actually printed, so ``grantflow --help`` stays fast.

Stored text is data, never instructions to the terminal: every line and table cell for people
goes through :func:`printable`, which shows control, format and bidi characters escaped
(``\\x1b``, ``\\u202e``), and rich reads no markup (``[red]``) or emoji codes (``:x:``) in
it. Messages on stderr go through :func:`echo_err`. ``--json`` output is exact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

import click

from grantflow import State, format_date_de, format_eur, format_rate, to_berlin

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from grantflow import Grant, Verdict

STATE_STYLE = {
    State.PROPOSED: "cyan",
    State.APPROVED: "blue",
    State.RUNNING: "green",
    State.EXTENDED: "green",
    State.CLOSED: "bright_black",
    State.REJECTED: "red",
    State.WITHDRAWN: "yellow",
    State.REVOKED: "bold red",
}


UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories :func:`printable` escapes: controls (C0, DEL, C1 such as ``ESC`` and
``CSI``), format characters (bidi overrides and isolates, zero-width characters, tags),
surrogates and the line and paragraph separators."""


def _escaped(char: str) -> str:
    if char in "\r\t":
        return "\\r" if char == "\r" else "\\t"
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` as a terminal may show it: every character of :data:`UNSAFE_CATEGORIES` but the
    line break escaped as Python writes it (``ESC`` as ``\\x1b``, U+202E as ``\\u202e``, a
    carriage return as ``\\r``).

    A line break stays one: reasons may be long, and a new line cannot rewrite what the
    terminal showed before it (a carriage return can, and is escaped).
    """
    if text.isprintable():  # the usual case, checked in C: nothing to escape
        return text
    return "".join(
        _escaped(c) if c != "\n" and unicodedata.category(c) in UNSAFE_CATEGORIES else c
        for c in text
    )


def echo_err(text: str) -> None:
    """One message line on stderr, shown with :func:`printable`."""
    click.echo(printable(text), err=True)


def eur(amount: Decimal | None) -> str:
    return "" if amount is None else format_eur(amount, german=True)


def day(d: dt.date | None) -> str:
    return "" if d is None else format_date_de(d)


def when(t: dt.datetime | None) -> str:
    """A stored UTC time as shown to people: Europe/Berlin, to the second."""
    return "" if t is None else to_berlin(t).format("DD.MM.YYYY HH:mm:ss")


ASSURANCE_SHORT = {
    "database-login": "db login",
    "os-login": "OS login",
    "host-application": "host app",
    "declared": "declared",
}
"""How a table shows the way an actor was established (``--json`` and CSV keep the value)."""


def actor_shown(actor: str, actor_auth: str | None) -> str:
    """``anton (db login)``: the actor and how grantflow established it; the name alone for
    records written before migration 0006."""
    if not actor_auth:
        return actor
    return f"{actor} ({ASSURANCE_SHORT.get(actor_auth, actor_auth)})"


def colors_enabled(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


class Output:
    """Prints either one JSON document or human tables to stdout; errors go to stderr."""

    def __init__(self, *, json_mode: bool, stream: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stream = stream if stream is not None else sys.stdout
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            class QuietConsole(Console):
                def on_broken_pipe(self) -> None:
                    """The reader went away (``grantflow list | head``). rich would exit 1;
                    grantflow drops the rest of its output and raises BrokenPipeError, which
                    the command group turns into a quiet exit 0 and which lets a command that
                    is still writing to the database (``grantflow demo``) finish first."""
                    self.quiet = True
                    with contextlib.suppress(OSError, ValueError, AttributeError):
                        # later flushes (at exit too) go nowhere instead of failing again
                        devnull = os.open(os.devnull, os.O_WRONLY)
                        try:
                            os.dup2(devnull, self.file.fileno())
                        finally:
                            os.close(devnull)
                    raise BrokenPipeError(errno.EPIPE, "the reader of grantflow's output closed it")

            color = colors_enabled(self.stream)
            self._console = QuietConsole(
                file=self.stream,
                no_color=not color,
                color_system="auto" if color else None,
                markup=False,
                emoji=False,
                highlight=False,
                soft_wrap=not self.stream.isatty(),
                width=None if self.stream.isatty() else 200,
            )
        return self._console

    def json(self, document: Any) -> None:
        self.stream.write(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        self.stream.write("\n")

    def line(self, text: str = "") -> None:
        if self.json_mode:
            return
        self.console.print(self.text(text))

    @staticmethod
    def text(text: str, style: str = "") -> Text:
        """``text`` for rich, shown literally (:func:`printable`; no markup, no emoji codes)."""
        from rich.text import Text

        return Text(printable(text), style=style)

    def table(
        self,
        title: str | None,
        columns: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        right: Iterable[str] = (),
        styles: Mapping[int, Mapping[str, str]] | None = None,
    ) -> None:
        from rich import box
        from rich.table import Table

        table: Table = Table(
            title=None if title is None else self.text(title),
            box=box.SIMPLE_HEAD if self.stream.isatty() else box.ASCII2,
            title_justify="left",
        )
        right_cols = set(right)
        for c in columns:
            table.add_column(self.text(c), justify="right" if c in right_cols else "left")
        for i, row in enumerate(rows):
            cells = []
            for j, cell in enumerate(row):
                style = (styles or {}).get(i, {}).get(columns[j], "")
                cells.append(self.text(cell, style))
            table.add_row(*cells)
        self.console.print(table)

    def state(self, state: State) -> str:
        return state.value

    def state_style(self, state: State) -> str:
        return STATE_STYLE.get(state, "")

    def verdicts(self, verdicts: Sequence[Verdict], *, title: str | None = None) -> None:
        rows = []
        styles: dict[int, dict[str, str]] = {}
        for i, v in enumerate(verdicts):
            outcome = "pass" if v.passed else ("overridden" if v.overridden else "REFUSED")
            rows.append((outcome, v.rule_id, v.severity.value, v.message, v.citation))
            styles[i] = {
                "verdict": "green" if v.passed else ("yellow" if v.overridden else "bold red")
            }
        self.table(title, ("verdict", "rule", "severity", "why", "where"), rows, styles=styles)

    def grant(self, g: Grant) -> None:
        from rich.table import Table
        from rich.text import Text

        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        rows: list[tuple[str, str | Text]] = [
            ("grant", g.id),
            ("program", g.program_id),
            ("title", g.title),
            ("state", Text(g.state.value, style=self.state_style(g.state))),
            (
                "applicant",
                g.applicant.lead
                + (f" (+ {', '.join(g.applicant.members)})" if g.applicant.members else ""),
            ),
            ("kind", g.applicant.kind.value),
        ]
        for label, field in (
            ("region", g.region),
            ("focus", g.focus),
            ("call", g.call),
            ("phase", g.phase),
        ):
            if field:
                rows.append((label, field))
        rows += [
            ("received", day(g.received_on)),
            ("eligible costs", eur(g.eligible_costs)),
            ("requested", eur(g.requested_amount)),
            ("private funds", eur(g.private_funds)),
            ("own funds", eur(g.own_funds)),
            ("funding period", f"{day(g.period.start)} – {day(g.period.end)}"),
        ]
        if g.notice:
            n = g.notice
            rows += [
                ("notice", f"{n.number} of {day(n.date)}"),
                (
                    "financing",
                    f"{n.financing_type.value}, {format_rate(n.funding_rate)} of eligible costs",
                ),
                ("approved", eur(g.approved_amount)),
                ("disbursed", eur(g.disbursed_amount)),
            ]
        for d in g.disbursements:
            rows.append(
                ("payment", f"{day(d.date)}: {eur(d.amount)} (needed by {day(d.needed_by)})")
            )
        for a in g.amendments:
            rows.append(
                (
                    "amendment",
                    f"{a.number} of {day(a.date)}: {a.event.value}, {eur(a.amount)} "
                    f"until {day(a.period.end)}",
                )
            )
        if g.closed_on:
            rows.append(
                (
                    "closed",
                    f"{day(g.closed_on)}; proof of use {day(g.proof_date)}; "
                    f"final costs {eur(g.final_costs)}",
                )
            )
        if g.settlement:
            rows.append(("final grant", eur(g.settlement.final_amount)))
        if g.refund_claim:
            rows.append(("refund claim", eur(g.refund_claim)))
        for r in g.repayments:
            rows.append(("repayment", f"{day(r.date)}: {eur(r.amount)}"))
        if g.refund_claim or g.repayments:
            rows.append(("still owed", f"{eur(g.refund_outstanding)} (grantflow money {g.id})"))
        if g.revoked_on:
            effect = g.revocation_effect.value if g.revocation_effect else "past"
            rows.append(("revoked", f"effective {day(g.revoked_on)}, for the {effect}"))
        if g.attestations:
            rows.append(("attested", ", ".join(sorted(g.attestations))))
        for label, shown in rows:
            t.add_row(label, self.text(shown) if isinstance(shown, str) else shown)
        self.console.print(t)
