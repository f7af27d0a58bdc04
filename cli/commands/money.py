"""``grantflow money``: a grant's money on a date, with every interest period to check by hand."""

from __future__ import annotations

from decimal import Decimal

import click
import pendulum

from grantflow import InterestSlice, money_statement_to_json

from ..main_support import env_of
from ..output import day, eur
from ..params import DATE


def pct(rate: Decimal) -> str:
    """A rate in percent as in German tables: ``4,12 %``."""
    return f"{rate:.2f} %".replace(".", ",")


def points(margin: Decimal) -> str:
    """Percentage points as in German text: ``5``, ``2,5``."""
    return f"{margin.normalize():f}".replace(".", ",")


def _slice_row(owed: str, s: InterestSlice) -> tuple[str, ...]:
    return (
        owed,
        day(s.first_day),
        day(s.last_day),
        str(s.days),
        pct(s.base_rate),
        pct(s.rate),
        str(s.year_days),
        eur(s.amount) + ("" if s.verified else " *"),
    )


SLICE_COLUMNS = ("on", "from", "to", "days", "base rate", "rate", "divisor", "interest")


@click.command("money")
@click.argument("grant_id", metavar="ID")
@click.option(
    "--as-of",
    type=DATE,
    help="The statement date (default today): the grant as it stood at the end of that day, "
    "interest up to it (that day bears none).",
)
@click.pass_context
def money(ctx: click.Context, grant_id: str, as_of: pendulum.Date | None) -> None:
    """Show a grant's money: approved, paid, used, refund claim, repaid, still owed, and refund
    and interim interest with every rate period (days, rate, amount) to check by hand.

    \b
    Example:
      grantflow money DMR-2019-0007 --as-of 2023-03-01
    """
    env = env_of(ctx)
    m = env.app().money(grant_id, as_of=as_of)
    if env.json:
        env.out.json(money_statement_to_json(m))
        return
    out = env.out
    t = m.terms
    out.line(
        f"{m.grant_id} ({m.state.value}) as of {day(m.as_of)}; interest terms of "
        f"{m.program_id} version {m.guideline_version}"
    )
    rows = [
        ("approved", eur(m.approved)),
        ("paid out", eur(m.disbursed)),
        ("used (spending reports)", eur(m.used)),
        ("not reported as used", eur(m.unused)),
        ("binds of the budget", eur(m.committed)),
    ]
    if m.final_amount is not None:
        rows.append(("final grant", eur(m.final_amount)))
    rows += [
        ("refund claim", eur(m.claim.amount)),
        ("repaid", eur(m.repaid)),
        ("still owed", eur(m.outstanding)),
        (f"refund interest to {day(m.as_of)}", eur(m.refund_interest.total)),
        (
            f"interim interest to {day(m.interim_until)}"
            if m.interim_until
            else "interim interest",
            eur(m.interim_total)
            if m.interim_interest is not None
            else "none (revoked for the past)",
        ),
    ]
    out.table("money", ("", "EUR"), rows, right=("EUR",))
    if m.revoked_on is not None:
        effect = m.revocation_effect.value if m.revocation_effect else "past"
        out.line(f"revoked with effect for the {effect} from {day(m.revoked_on)}")
    if m.claim.amount:
        out.line(f"refund claim: {m.claim.basis} (R-REFUND)")
        out.table(
            "refund claim by step",
            ("step", "record", "interest from", "amount"),
            [
                (tr.event.value, str(tr.seq), day(tr.effective_from), eur(tr.amount))
                for tr in m.claim.tranches
            ],
            right=("amount",),
        )
    if m.repayments:
        out.table(
            "repayments",
            ("record", "value date", "amount"),
            [(str(r.seq), day(r.date), eur(r.amount)) for r in m.repayments],
            right=("amount",),
        )
    if m.refund_interest.lines:
        out.table(
            f"refund interest ({t.refund.rule_id}: {points(t.refund.margin)} percentage points "
            f"above the base rate {t.refund.starts.text}, {t.day_count})",
            SLICE_COLUMNS,
            [_slice_row(eur(r.principal), s) for r in m.refund_interest.lines for s in r.slices]
            + [("total", "", "", "", "", "", "", eur(m.refund_interest.total))],
            right=("on", "days", "base rate", "rate", "divisor", "interest"),
        )
        out.line(f"source: {t.refund.citation}")
    interim = m.interim_interest
    if interim is not None and interim.lines:
        out.table(
            f"interim interest ({t.interim.rule_id}: money not used within "
            f"{t.interim.window_months} months of payout, {points(t.interim.margin)} "
            f"percentage points above the base rate {t.interim.starts.text}, {t.day_count}; "
            f"the authority may claim it)",
            ("payout", "paid on", "use by", "amount", "until", *SLICE_COLUMNS[1:]),
            [
                (
                    str(ln.seq),
                    day(ln.paid_on),
                    day(ln.use_by),
                    eur(ln.amount),
                    f"{ln.what} {day(ln.used_on)}" if ln.used_on else "not used",
                    *_slice_row("", s)[1:],
                )
                for ln in interim.lines
                for s in ln.interest.slices
            ]
            + [("total", "", "", "", "", "", "", "", "", "", "", eur(interim.total))],
            right=("amount", "days", "base rate", "rate", "divisor", "interest"),
        )
        out.line(f"source: {t.interim.citation}")
        never = sum((ln.amount for ln in interim.lines if ln.used_on is None), Decimal(0))
        if never:
            out.line(
                f"{eur(never)} paid was not reported as used by {day(m.interim_until)}: without "
                f"spending reports (grantflow submit --document spending-report) grantflow "
                f"cannot tell when money was used and counts it as unused; the authority "
                f"decides whether to claim interim interest"
            )
    if not m.verified:
        out.line(
            "* uses a base rate not verified against the Bundesbank (see docs/explanation/money.md)"
        )
    if t.day_count_assumed:
        out.line(f"day count {t.day_count}: assumed by the guideline file, not verified")


def register(group: click.Group) -> None:
    group.add_command(money)
