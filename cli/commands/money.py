"""``grantflow money``: a grant's money on a date, with every interest period to check by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
import pendulum

from grantflow.domain.interest import InterestResult, InterestSlice
from grantflow.domain.statement import MoneyStatement

from ..main_support import env_of
from ..output import amount_json, day, eur
from ..params import DATE


def pct(rate: Decimal) -> str:
    """A rate in percent as in German tables: ``4,12 %``."""
    return f"{rate:.2f} %".replace(".", ",")


def points(margin: Decimal) -> str:
    """Percentage points as in German text: ``5``, ``2,5``."""
    return f"{margin.normalize():f}".replace(".", ",")


def _slice_json(s: InterestSlice) -> dict[str, Any]:
    return {
        "first_day": s.first_day.isoformat(),
        "last_day": s.last_day.isoformat(),
        "days": s.days,
        "principal": amount_json(s.principal),
        "base_rate": f"{s.base_rate:.2f}",
        "margin_points": f"{s.margin:.2f}",
        "rate": f"{s.rate:.2f}",
        "year_days": s.year_days,
        "interest": amount_json(s.amount),
        "verified": s.verified,
    }


def _period_json(r: InterestResult) -> dict[str, Any]:
    return {
        "principal": amount_json(r.principal),
        "from": r.start.isoformat(),
        "to": r.end.subtract(days=1).isoformat(),
        "days": r.days,
        "interest": amount_json(r.total),
        "slices": [_slice_json(s) for s in r.slices],
    }


def statement_json(m: MoneyStatement) -> dict[str, Any]:
    """The statement as the JSON document ``money --json`` prints (see the CLI reference)."""
    t = m.terms
    claim = m.claim
    interim = m.interim_interest
    return {
        "grant": m.grant_id,
        "program": m.program_id,
        "guideline_version": m.guideline_version,
        "state": m.state.value,
        "as_of": m.as_of.isoformat(),
        "approved": amount_json(m.approved),
        "disbursed": amount_json(m.disbursed),
        "used": amount_json(m.used),
        "unused": amount_json(m.unused),
        "committed": amount_json(m.committed),
        "final_amount": amount_json(m.final_amount),
        "revocation": None
        if m.revoked_on is None
        else {
            "effective_from": m.revoked_on.isoformat(),
            "effect": m.revocation_effect.value if m.revocation_effect else None,
        },
        "refund_claim": {
            "amount": amount_json(claim.amount),
            "basis": claim.basis,
            "effective_from": claim.effective_from.isoformat() if claim.effective_from else None,
            "tranches": [
                {
                    "seq": tr.seq,
                    "event": tr.event.value,
                    "effective_from": tr.effective_from.isoformat(),
                    "amount": amount_json(tr.amount),
                }
                for tr in claim.tranches
            ],
            "payments": [
                {"seq": p.seq, "paid_on": p.paid_on.isoformat(), "amount": amount_json(p.amount)}
                for p in claim.parts
            ],
        },
        "repayments": [
            {"seq": r.seq, "date": r.date.isoformat(), "amount": amount_json(r.amount)}
            for r in m.repayments
        ],
        "repaid": amount_json(m.repaid),
        "outstanding": amount_json(m.outstanding),
        "refund_interest": {
            "rule": t.refund.rule_id,
            "citation": t.refund.citation,
            "margin_points": f"{t.refund.margin:.2f}",
            "starts": t.refund.starts.value,
            "day_count": t.day_count.value,
            "until": m.refund_interest.until.isoformat(),
            "interest": amount_json(m.refund_interest.total),
            "verified": m.refund_interest.verified,
            "periods": [_period_json(r) for r in m.refund_interest.lines],
        },
        "interim_interest": None
        if interim is None
        else {
            "rule": t.interim.rule_id,
            "citation": t.interim.citation,
            "margin_points": f"{t.interim.margin:.2f}",
            "window_months": t.interim.window_months,
            "starts": t.interim.starts.value,
            "day_count": t.day_count.value,
            "until": m.interim_until.isoformat() if m.interim_until else None,
            "interest": amount_json(interim.total),
            "verified": interim.verified,
            "lines": [
                {
                    "payout_seq": ln.seq,
                    "paid_on": ln.paid_on.isoformat(),
                    "use_by": ln.use_by.isoformat(),
                    "used_on": ln.used_on.isoformat() if ln.used_on else None,
                    "how": ln.what if ln.used_on else "not used",
                    **_period_json(ln.interest),
                }
                for ln in interim.lines
            ],
        },
        "verified": m.verified,
    }


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
        env.out.json(statement_json(m))
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
