"""JSON documents for what grantflow returns: grants, verdicts, log entries, reports.

These are the shapes the ``grantflow`` command prints with ``--json`` (the CLI reference lists
their keys), so a host application that shows grantflow's results as JSON gives the same
documents. Every function returns plain JSON values (``dict``, ``list``, ``str``, ``int``,
``bool``, ``None``): amounts are strings with two decimals (``"800000.00"``), business dates
ISO 8601 (``"2021-12-31"``), recording times ISO 8601 in UTC with microseconds
(:func:`utc_iso`).

Nothing here imports the database layer: the service's result types are named for the type
checker only, so ``import grantflow`` stays light.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from grantflow.audit.chain import utc_iso
from grantflow.domain.codec import to_data
from grantflow.domain.money import money

if TYPE_CHECKING:
    from grantflow.audit.verify import VerifyReport
    from grantflow.domain.interest import InterestResult, InterestSlice
    from grantflow.domain.model import Grant, Verdict
    from grantflow.domain.statement import MoneyStatement
    from grantflow.services.reports import BudgetLine, BudgetReport, DueItem
    from grantflow.services.results import AdminEntry, Checkpoint, LogEntry

__all__ = [
    "admin_entry_to_json",
    "amount_to_json",
    "budget_report_to_json",
    "checkpoint_to_json",
    "due_item_to_json",
    "grant_to_json",
    "log_entry_to_json",
    "money_statement_to_json",
    "utc_iso",
    "verdict_to_json",
    "verify_report_to_json",
]


def amount_to_json(amount: Decimal | None) -> str | None:
    """An amount as JSON shows it: a string with two decimals (``"800000.00"``), or ``None``.

    Added in 0.1.
    """
    return None if amount is None else f"{money(amount):.2f}"


def verdict_to_json(verdict: Verdict) -> dict[str, Any]:
    """A rule's verdict: its rule id, outcome, severity, message, citation and figures.

    Added in 0.1.
    """
    data: dict[str, Any] = to_data(verdict)
    return data


def grant_to_json(grant: Grant) -> dict[str, Any]:
    """A grant as ``grantflow show --json`` prints it (without ``as_of`` and ``steps``).

    Added in 0.1.
    """
    g = grant
    notice = g.notice
    return {
        "id": g.id,
        "program": g.program_id,
        "title": g.title,
        "state": g.state.value,
        "applicant": {
            "lead": g.applicant.lead,
            "kind": g.applicant.kind.value,
            "members": list(g.applicant.members),
        },
        "region": g.region,
        "focus": g.focus,
        "call": g.call,
        "phase": g.phase,
        "received_on": g.received_on.isoformat(),
        "eligible_costs": amount_to_json(g.eligible_costs),
        "requested_amount": amount_to_json(g.requested_amount),
        "private": amount_to_json(g.private_funds),
        "own_funds": amount_to_json(g.own_funds),
        "approved_amount": amount_to_json(g.approved_amount),
        "disbursed_amount": amount_to_json(g.disbursed_amount),
        "committed_amount": amount_to_json(g.committed_amount),
        "refund_claim": amount_to_json(g.refund_claim),
        "repaid_amount": amount_to_json(g.repaid_amount),
        "refund_outstanding": amount_to_json(g.refund_outstanding),
        "period_start": g.period.start.isoformat(),
        "period_end": g.period_end.isoformat(),
        "notice": None
        if notice is None
        else {
            "number": notice.number,
            "date": notice.date.isoformat(),
            "amount": amount_to_json(notice.amount),
            "funding_rate": str(notice.funding_rate),
            "financing_type": notice.financing_type.value,
            "purpose_binding_years": notice.purpose_binding_years,
        },
        "amendments": [
            {
                "number": a.number,
                "date": a.date.isoformat(),
                "event": a.event.value,
                "amount": amount_to_json(a.amount),
                "period_end": a.period.end.isoformat(),
            }
            for a in g.amendments
        ],
        "disbursements": [
            {
                "seq": d.seq,
                "date": d.date.isoformat(),
                "amount": amount_to_json(d.amount),
                "needed_by": d.needed_by.isoformat(),
            }
            for d in g.disbursements
        ],
        "attestations": sorted(g.attestations),
        "proof_date": g.proof_date.isoformat() if g.proof_date else None,
        "closed_on": g.closed_on.isoformat() if g.closed_on else None,
        "final_costs": amount_to_json(g.final_costs),
        "final_amount": amount_to_json(g.settlement.final_amount) if g.settlement else None,
        "revoked_on": g.revoked_on.isoformat() if g.revoked_on else None,
        "revocation_effect": g.revocation_effect.value if g.revocation_effect else None,
        "repayments": [
            {"seq": r.seq, "date": r.date.isoformat(), "amount": amount_to_json(r.amount)}
            for r in g.repayments
        ],
        "version": g.version,
    }


def log_entry_to_json(entry: LogEntry) -> dict[str, Any]:
    """An entry of :meth:`Grantflow.log <grantflow.Grantflow.log>`: a transition record or a
    refused attempt (``"refused": true``; then ``seq`` and ``to_state`` are ``None``).

    ``log_id`` is the entry's id as the export writes it (``t-<id>``, ``r-<id>``). The export
    (:meth:`Grantflow.export <grantflow.Grantflow.export>`) gives the entries as their hashes
    cover them, for verification; this is the entry as the log reads it. ``grantflow show
    --json`` lists a grant's steps with the keys ``seq``, ``event``, ``business_date``,
    ``actor`` and ``actor_auth`` of this document.

    Added in 0.1.
    """
    return {
        "log_id": f"{'r' if entry.refused else 't'}-{entry.id}",
        "refused": entry.refused,
        "grant": entry.grant_id,
        "seq": entry.seq,
        "event": str(entry.event),
        "from_state": None if entry.from_state is None else str(entry.from_state),
        "to_state": None if entry.to_state is None else str(entry.to_state),
        "business_date": entry.business_date.isoformat(),
        "recorded_at": utc_iso(entry.recorded_at),
        "actor": entry.actor,
        "actor_auth": entry.actor_auth,
        "reason": entry.reason,
        "data": dict(entry.data),
        "verdicts": [verdict_to_json(v) for v in entry.verdicts],
        "rule_ids": list(entry.rule_ids),
        "code": entry.code,
        "message": entry.message,
        "guideline": entry.guideline_id,
        "guideline_version": entry.guideline_version,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def admin_entry_to_json(entry: AdminEntry) -> dict[str, Any]:
    """A record of the administrative chain as ``grantflow actor history --json`` prints it.

    Added in 0.1.
    """
    return {
        "id": entry.id,
        "recorded_at": entry.recorded_at.isoformat(),
        "actor": entry.actor,
        "actor_auth": entry.actor_auth,
        "action": entry.action,
        "subject": entry.subject,
        "data": dict(entry.data),
        "hash": entry.hash,
    }


def checkpoint_to_json(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as ``grantflow audit digest --json`` prints it.

    Added in 0.1.
    """
    cp = checkpoint
    return {
        "digest": cp.digest,
        "checkpoint": cp.id,
        "grants": cp.grants,
        "records": cp.records,
        "refused": cp.refused,
        "created_at": utc_iso(cp.created_at),
        "created_by": cp.created_by,
    }


def verify_report_to_json(report: VerifyReport) -> dict[str, Any]:
    """What :meth:`Grantflow.verify <grantflow.Grantflow.verify>` found, as ``grantflow audit
    verify --json`` prints it.

    Added in 0.1.
    """
    return {
        "intact": report.intact,
        "transitions": report.transitions,
        "grants": report.grants,
        "refused": report.refused,
        "checkpoints": report.checkpoints,
        "admin": report.admin,
        "judged": report.judged,
        "legacy": report.legacy,
        "digest": report.digest,
        "newest_digest": report.newest_digest,
        "problems": [
            {"log_id": p.log_id, "where": p.where, "what": p.what} for p in report.problems
        ],
        "more_problems": report.more_problems,
    }


def _slice_json(s: InterestSlice) -> dict[str, Any]:
    return {
        "first_day": s.first_day.isoformat(),
        "last_day": s.last_day.isoformat(),
        "days": s.days,
        "principal": amount_to_json(s.principal),
        "base_rate": f"{s.base_rate:.2f}",
        "margin_points": f"{s.margin:.2f}",
        "rate": f"{s.rate:.2f}",
        "year_days": s.year_days,
        "interest": amount_to_json(s.amount),
        "verified": s.verified,
    }


def _period_json(r: InterestResult) -> dict[str, Any]:
    return {
        "principal": amount_to_json(r.principal),
        "from": r.start.isoformat(),
        "to": r.end.subtract(days=1).isoformat(),
        "days": r.days,
        "interest": amount_to_json(r.total),
        "slices": [_slice_json(s) for s in r.slices],
    }


def money_statement_to_json(statement: MoneyStatement) -> dict[str, Any]:
    """A grant's money on a date (:meth:`Grantflow.money <grantflow.Grantflow.money>`), as
    ``grantflow money --json`` prints it, every interest period included.

    Added in 0.1.
    """
    m = statement
    t = m.terms
    claim = m.claim
    interim = m.interim_interest
    return {
        "grant": m.grant_id,
        "program": m.program_id,
        "guideline_version": m.guideline_version,
        "state": m.state.value,
        "as_of": m.as_of.isoformat(),
        "approved": amount_to_json(m.approved),
        "disbursed": amount_to_json(m.disbursed),
        "used": amount_to_json(m.used),
        "unused": amount_to_json(m.unused),
        "committed": amount_to_json(m.committed),
        "final_amount": amount_to_json(m.final_amount),
        "revocation": None
        if m.revoked_on is None
        else {
            "effective_from": m.revoked_on.isoformat(),
            "effect": m.revocation_effect.value if m.revocation_effect else None,
        },
        "refund_claim": {
            "amount": amount_to_json(claim.amount),
            "basis": claim.basis,
            "effective_from": claim.effective_from.isoformat() if claim.effective_from else None,
            "tranches": [
                {
                    "seq": tr.seq,
                    "event": tr.event.value,
                    "effective_from": tr.effective_from.isoformat(),
                    "amount": amount_to_json(tr.amount),
                }
                for tr in claim.tranches
            ],
            "payments": [
                {
                    "seq": p.seq,
                    "paid_on": p.paid_on.isoformat(),
                    "amount": amount_to_json(p.amount),
                }
                for p in claim.parts
            ],
        },
        "repayments": [
            {"seq": r.seq, "date": r.date.isoformat(), "amount": amount_to_json(r.amount)}
            for r in m.repayments
        ],
        "repaid": amount_to_json(m.repaid),
        "outstanding": amount_to_json(m.outstanding),
        "refund_interest": {
            "rule": t.refund.rule_id,
            "citation": t.refund.citation,
            "margin_points": f"{t.refund.margin:.2f}",
            "starts": t.refund.starts.value,
            "day_count": t.day_count.value,
            "until": m.refund_interest.until.isoformat(),
            "interest": amount_to_json(m.refund_interest.total),
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
            "interest": amount_to_json(interim.total),
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


def _budget_line_json(line: BudgetLine) -> dict[str, Any]:
    return {
        "grants": line.grants,
        "committed": amount_to_json(line.committed),
        "disbursed": amount_to_json(line.disbursed),
        "refunds": amount_to_json(line.refunds),
        "private": amount_to_json(line.private),
        "total_volume": amount_to_json(line.total_volume),
    }


def budget_report_to_json(report: BudgetReport) -> dict[str, Any]:
    """A program's budget on a date (:meth:`Grantflow.budget_report
    <grantflow.Grantflow.budget_report>`), as ``grantflow report budget --json`` prints it.

    Added in 0.1.
    """
    r = report
    return {
        "program": r.program_id,
        "as_of": r.as_of.isoformat(),
        "guideline_version": r.version,
        "budget": amount_to_json(r.budget),
        "committed": amount_to_json(r.committed),
        "disbursed": amount_to_json(r.disbursed),
        "refunds": amount_to_json(r.refunds),
        "available": amount_to_json(r.available),
        "grants": r.grants,
        "private": amount_to_json(r.private),
        "total_volume": amount_to_json(r.total_volume),
        "by_region": {x.key: _budget_line_json(x) for x in r.by_region},
        "by_focus": {x.key: _budget_line_json(x) for x in r.by_focus},
        "by_year": {
            x.key: {
                "grants_approved": x.grants,
                "approved": amount_to_json(x.committed),
                "disbursed": amount_to_json(x.disbursed),
            }
            for x in r.by_year
        },
    }


def due_item_to_json(item: DueItem) -> dict[str, Any]:
    """A duty falling due (:meth:`Grantflow.due <grantflow.Grantflow.due>`), as one element of
    ``grantflow due --json``.

    Added in 0.1.
    """
    i = item
    return {
        "grant": i.grant_id,
        "program": i.program_id,
        "applicant": i.applicant,
        "title": i.title,
        "kind": i.duty.kind.value,
        "due": i.duty.due.isoformat(),
        "overdue": i.duty.overdue,
        "days_overdue": i.duty.days_overdue,
        "rule_id": i.duty.rule_id,
        "amount": amount_to_json(i.duty.amount),
        "year": i.duty.year,
        "description": i.duty.description,
    }
