"""The audit report: one self-contained HTML file (``grantflow audit report``) an auditor can
open from a USB stick, print, or attach to an audit finding; the same data as one JSON
document.

:func:`build` reads what the report shows from a :class:`~grantflow.services.Grantflow`: the
result of :meth:`~grantflow.services.Grantflow.verify`, each program's figures
(:meth:`~grantflow.services.Grantflow.budget_report`) with their course over time, every grant's
steps streamed from the log (refused attempts in place), and the lists auditors start from
(overrides, refused attempts, late proofs of use, refunds owed with interest, grants where one
person acted in two functions). It returns plain JSON values: amounts are strings with two
decimals, business dates ISO 8601, recording times ISO 8601 in UTC. :func:`render_html` turns
that document into the page (Jinja2, every value escaped; control characters made visible),
with inline SVG charts drawn by :mod:`grantflow.report.svg`; it needs no script, no font and no
network.

This module never imports the command line.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pendulum

from grantflow.audit.chain import utc_iso
from grantflow.domain.dates import BERLIN, format_date_de, to_berlin
from grantflow.domain.duties import PROOF_MONTHS, DutyKind
from grantflow.domain.model import Event, Grant, State, Verdict
from grantflow.domain.money import format_eur, money
from grantflow.domain.rules import ProofDeadlineRule, proof_due
from grantflow.errors import BadInput

if TYPE_CHECKING:
    from grantflow.services import Grantflow, LogEntry

__all__ = ["DEFAULT_OUTPUT", "build", "render_html", "visible"]

DEFAULT_OUTPUT = "audit-report.html"
"""Where ``grantflow audit report`` writes the page unless told otherwise."""

MAX_CHART_POINTS = 120
"""The chart samples the figures at month ends; beyond this many months, every n-th month."""

AMOUNT_KEYS = {
    "eligible_costs": "eligible costs",
    "requested_amount": "requested",
    "private_funds": "private funds",
    "own_funds": "own funds",
    "amount": "amount",
    "final_costs": "final costs",
    "final_amount": "final amount",
    "refund_claim": "refund claim",
}
"""The amounts a step's data can carry, and what the report calls them."""

FUNCTIONS = {
    Event.PROPOSE: "recorded the application",
    Event.APPROVE: "decided",
    Event.REJECT: "decided",
    Event.AMEND: "decided",
    Event.EXTEND: "decided",
    Event.CLOSE: "decided",
    Event.REVOKE: "decided",
    Event.DISBURSE: "paid",
}
"""The functions the four-eyes principle keeps apart: who records an application, who decides
on it (a notice of any kind), who pays. One person in two of them on one grant is listed."""


def build(
    gf: Grantflow,
    *,
    program: str | None = None,
    grant: str | None = None,
    since: pendulum.Date | None = None,
    until: pendulum.Date | None = None,
    as_of: pendulum.Date | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    """The audit report's data as one JSON document.

    The scope is one program (``program``), one grant (``grant``) or, with neither, every
    program. ``since``/``until`` bound the business dates of the steps shown (inclusive);
    ``as_of`` is the report date: the program's figures and the lists of duties and refunds
    are as of its end. ``as_of`` defaults to ``until``, else today (Europe/Berlin); ``until``
    defaults to ``as_of``, so the report tells nothing that happened after its date.
    ``digest`` is checked by :meth:`~grantflow.services.Grantflow.verify` (the whole log is
    always verified). Raises NotFound for an unknown program or grant, BadInput for a bad
    combination."""
    if program is not None and grant is not None:
        raise BadInput("name a program or a grant for the audit report, not both")
    today = pendulum.now(BERLIN).date()
    as_of = as_of or until or today
    until = until or as_of
    if since is not None and since > until:
        raise BadInput(
            f"the report's period is empty: since {format_date_de(since)} is after "
            f"{format_date_de(until)}"
        )
    checked_at = gf.clock()
    report = gf.verify(digest)
    grants: list[Grant]
    if grant is not None:
        one = gf.grant(grant)
        grants = [one]
        program_ids = [one.program_id]
    elif program is not None:
        program_ids = [gf.program(program).id]
        grants = gf.grants(program=program)
    else:
        program_ids = [p.id for p in gf.programs()]
        grants = gf.grants()
    by_id = {g.id: g for g in grants}

    timelines: dict[str, list[dict[str, Any]]] = {}
    refused_applications: list[dict[str, Any]] = []
    entries = gf.log(grant_id=grant, program=program, since=since, until=until)
    for entry in _in_scope(entries, by_id, grant is not None):
        step = _step(entry)
        if entry.grant_id is None:
            refused_applications.append(step)
        else:
            timelines.setdefault(entry.grant_id, []).append(step)

    grant_docs = [
        _grant_doc(gf, by_id[gid], steps, as_of) for gid, steps in sorted(timelines.items())
    ]
    return {
        "report": {
            "generated_at": utc_iso(checked_at),
            "grantflow_version": _version(),
            "database": _safe_url(gf),
            "program": program,
            "grant": grant,
            "since": None if since is None else since.isoformat(),
            "until": until.isoformat(),
            "as_of": as_of.isoformat(),
        },
        "verify": _verify_doc(report, checked_at),
        "programs": [_program_doc(gf, pid, as_of) for pid in program_ids],
        "grants": grant_docs,
        "refused_applications": refused_applications,
        "lists": _lists(gf, grant_docs, refused_applications, program_ids, grant, as_of),
    }


def _in_scope(
    entries: Iterable[LogEntry], grants: Mapping[str, Grant], one_grant: bool
) -> Iterator[LogEntry]:
    """The entries of the grants in scope (and refused applications, unless the report is
    about one grant)."""
    for entry in entries:
        if entry.grant_id is None:
            if not one_grant:
                yield entry
        elif entry.grant_id in grants:
            yield entry


def _version() -> str:
    try:
        return importlib.metadata.version("grantflow")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def _safe_url(gf: Grantflow) -> str:
    """The database the report was made from, without a password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(gf.url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - a host application's connection
        return "(the host application's database)"


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{money(value):.2f}"


def _verdict(v: Verdict) -> dict[str, Any]:
    return {
        "rule_id": v.rule_id,
        "passed": v.passed,
        "severity": v.severity.value,
        "message": v.message,
        "citation": v.citation,
        "overridden": v.overridden,
        "justification": v.justification,
    }


def _step(entry: LogEntry) -> dict[str, Any]:
    """One step of a timeline (a transition record or a refused attempt)."""
    data = entry.data
    amounts = {
        key: str(data[key])
        for key in AMOUNT_KEYS
        if isinstance(data.get(key), str | int | Decimal) and data[key] is not None
    }
    overrides = [
        {"rule_id": str(o.get("rule_id")), "justification": str(o.get("justification"))}
        for o in data.get("overrides") or ()
        if isinstance(o, Mapping)
    ]
    notice = data.get("notice_number")
    return {
        "log_id": f"{'r' if entry.refused else 't'}-{entry.id}",
        "refused": entry.refused,
        "grant": entry.grant_id,
        "seq": entry.seq,
        "event": entry.event.value,
        "from_state": None if entry.from_state is None else entry.from_state.value,
        "to_state": None if entry.to_state is None else entry.to_state.value,
        "business_date": entry.business_date.isoformat(),
        "recorded_at": utc_iso(entry.recorded_at),
        "actor": entry.actor,
        "actor_auth": entry.actor_auth,
        "reason": entry.reason,
        "amounts": amounts,
        "notice_number": None if notice is None else str(notice),
        "document": None if data.get("document") is None else str(data.get("document")),
        "verdicts": [_verdict(v) for v in entry.verdicts],
        "overrides": overrides,
        "rule_ids": list(entry.rule_ids),
        "message": entry.message,
        "guideline": entry.guideline_id,
        "guideline_version": entry.guideline_version,
        "hash": entry.hash,
    }


def _verify_doc(report: Any, checked_at: pendulum.DateTime) -> dict[str, Any]:
    return {
        "intact": report.intact,
        "summary": report.summary(),
        "checked_at": utc_iso(checked_at),
        "digest": report.digest,
        "newest_digest": report.newest_digest,
        "transitions": report.transitions,
        "grants": report.grants,
        "refused": report.refused,
        "checkpoints": report.checkpoints,
        "admin": report.admin,
        "judged": report.judged,
        "legacy": report.legacy,
        "problems": [
            {"log_id": p.log_id, "where": p.where, "what": p.what} for p in report.problems
        ],
        "more_problems": report.more_problems,
    }


def _chart_days(first: pendulum.Date, last: pendulum.Date) -> list[pendulum.Date]:
    """Month ends from ``first``'s month to ``last`` (and ``last`` itself)."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = max(1, -(-months // MAX_CHART_POINTS))
    days = []
    day = first.end_of("month")
    while day < last:
        days.append(day)
        day = day.add(months=step).end_of("month")
    days.append(last)
    return days


def _program_doc(gf: Grantflow, program_id: str, as_of: pendulum.Date) -> dict[str, Any]:
    program = gf.program(program_id)
    first = min(v.effective_from for v in program.versions)
    doc: dict[str, Any] = {"program": program.id, "name": program.name, "as_of": as_of.isoformat()}
    if as_of < first:
        doc["figures"] = None
        doc["chart"] = []
        return doc
    r = gf.budget_report(program_id, as_of=as_of)

    def line(x: Any) -> dict[str, Any]:
        return {
            "key": x.key,
            "grants": x.grants,
            "committed": _amount(x.committed),
            "disbursed": _amount(x.disbursed),
            "refunds": _amount(x.refunds),
        }

    doc["figures"] = {
        "guideline_version": r.version,
        "budget": _amount(r.budget),
        "grants": r.grants,
        "committed": _amount(r.committed),
        "disbursed": _amount(r.disbursed),
        "refunds": _amount(r.refunds),
        "available": _amount(r.available),
        "private": _amount(r.private),
        "total_volume": _amount(r.total_volume),
        "by_region": [line(x) for x in r.by_region],
        "by_focus": [line(x) for x in r.by_focus],
        "by_year": [line(x) for x in r.by_year],
    }
    chart = []
    for day in _chart_days(first, as_of):
        b = r if day == as_of else gf.budget_report(program_id, as_of=day)
        chart.append(
            {
                "as_of": day.isoformat(),
                "budget": _amount(b.budget),
                "committed": _amount(b.committed),
                "disbursed": _amount(b.disbursed),
            }
        )
    doc["chart"] = chart
    return doc


def _grant_doc(
    gf: Grantflow, current: Grant, steps: list[dict[str, Any]], as_of: pendulum.Date
) -> dict[str, Any]:
    """A grant's header (as of the report date), its path through the lifecycle and its
    steps."""
    g = current
    if g.last_business_date > as_of:
        try:
            g = gf.grant(current.id, as_of=as_of)
        except Exception:  # did not exist yet on as_of: show what it is now
            g = current
    path: list[str] = []
    for step in steps:
        for state in (step["from_state"], step["to_state"]):
            if state is not None and not step["refused"] and (not path or path[-1] != state):
                path.append(state)
    return {
        "id": g.id,
        "program": g.program_id,
        "title": g.title,
        "applicant": g.applicant.lead,
        "region": g.region,
        "focus": g.focus,
        "call": g.call,
        "state": g.state.value,
        "notice_number": g.notice.number if g.notice else None,
        "approved_amount": _amount(g.approved_amount),
        "disbursed_amount": _amount(g.disbursed_amount),
        "refund_outstanding": _amount(g.refund_outstanding),
        "period_start": g.period.start.isoformat(),
        "period_end": g.period_end.isoformat(),
        "path": path,
        "same_person": _same_person(steps),
        "steps": steps,
    }


def _same_person(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actors who acted in two functions of :data:`FUNCTIONS` on this grant."""
    seen: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for step in steps:
        function = FUNCTIONS.get(Event(step["event"]))
        if step["refused"] or function is None:
            continue
        seen.setdefault(step["actor"], {}).setdefault(function, []).append(step)
    out = []
    for actor, functions in seen.items():
        if len(functions) < 2:
            continue
        out.append(
            {
                "actor": actor,
                "functions": sorted(functions),
                "steps": [
                    {
                        "event": s["event"],
                        "business_date": s["business_date"],
                        "log_id": s["log_id"],
                    }
                    for f in sorted(functions)
                    for s in functions[f]
                ],
            }
        )
    return out


def _lists(
    gf: Grantflow,
    grants: list[dict[str, Any]],
    refused_applications: list[dict[str, Any]],
    program_ids: list[str],
    grant_id: str | None,
    as_of: pendulum.Date,
) -> dict[str, Any]:
    overrides: list[dict[str, Any]] = []
    refused = list(refused_applications)
    same_person: list[dict[str, Any]] = []
    for g in grants:
        for step in g["steps"]:
            if step["refused"]:
                refused.append(step)
            for v in step["verdicts"]:
                if v["overridden"]:
                    overrides.append(
                        {
                            "grant": g["id"],
                            "log_id": step["log_id"],
                            "event": step["event"],
                            "business_date": step["business_date"],
                            "actor": step["actor"],
                            "rule_id": v["rule_id"],
                            "message": v["message"],
                            "justification": v["justification"],
                        }
                    )
        same_person.extend({"grant": g["id"], **s} for s in g["same_person"])
    refused.sort(key=lambda s: (s["recorded_at"], s["log_id"]))
    return {
        "overrides": overrides,
        "refused": [
            {
                "grant": s["grant"],
                "log_id": s["log_id"],
                "event": s["event"],
                "business_date": s["business_date"],
                "recorded_at": s["recorded_at"],
                "actor": s["actor"],
                "actor_auth": s["actor_auth"],
                "rule_ids": s["rule_ids"],
                "message": s["message"],
            }
            for s in refused
        ],
        "late_proofs": _late_proofs(gf, program_ids, grant_id, as_of),
        "refunds": _refunds(gf, program_ids, grant_id, as_of),
        "same_person": same_person,
    }


def _late_proofs(
    gf: Grantflow, program_ids: list[str], grant_id: str | None, as_of: pendulum.Date
) -> list[dict[str, Any]]:
    """Proofs of use overdue on ``as_of`` (not received), and those received after their due
    date."""
    out: list[dict[str, Any]] = []
    for pid in program_ids:
        program = gf.program(pid)
        if as_of < min(v.effective_from for v in program.versions):
            continue
        for item in gf.due(as_of=as_of, program=pid):
            duty = item.duty
            if duty.kind != DutyKind.PROOF_OF_USE or not duty.overdue:
                continue
            if grant_id is not None and item.grant_id != grant_id:
                continue
            out.append(
                {
                    "grant": item.grant_id,
                    "applicant": item.applicant,
                    "due": duty.due.isoformat(),
                    "received": None,
                    "days_late": duty.days_overdue,
                    "rule_id": duty.rule_id,
                }
            )
        grants = [gf.grant(grant_id)] if grant_id is not None else gf.grants(program=pid)
        for g in grants:
            received = g.proof_received_on
            if received is None or received > as_of or g.program_id != pid:
                continue
            governed = g.notice.date if g.notice else g.received_on
            version = program.version_at(governed)
            rule = next((r for r in version.rules if isinstance(r, ProofDeadlineRule)), None)
            due, _ = proof_due(g, version, rule.months if rule else PROOF_MONTHS)
            if received > due:
                out.append(
                    {
                        "grant": g.id,
                        "applicant": g.applicant.lead,
                        "due": due.isoformat(),
                        "received": received.isoformat(),
                        "days_late": received.toordinal() - due.toordinal(),
                        "rule_id": rule.id if rule else "R-PROOF-6M",
                    }
                )
    out.sort(key=lambda x: (x["due"], x["grant"]))
    return out


def _refunds(
    gf: Grantflow, program_ids: list[str], grant_id: str | None, as_of: pendulum.Date
) -> list[dict[str, Any]]:
    """Refunds still owed on ``as_of``, with the refund interest up to that day."""
    out: list[dict[str, Any]] = []
    for pid in program_ids:
        if as_of < min(v.effective_from for v in gf.program(pid).versions):
            continue
        for item in gf.due(as_of=as_of, program=pid):
            if item.duty.kind != DutyKind.REFUND:
                continue
            if grant_id is not None and item.grant_id != grant_id:
                continue
            m = gf.money(item.grant_id, as_of=as_of)
            out.append(
                {
                    "grant": item.grant_id,
                    "applicant": item.applicant,
                    "claim": _amount(m.claim.amount),
                    "since": None
                    if m.claim.effective_from is None
                    else m.claim.effective_from.isoformat(),
                    "repaid": _amount(m.repaid),
                    "outstanding": _amount(m.outstanding),
                    "interest": _amount(m.refund_interest.total),
                    "interest_until": m.refund_interest.until.isoformat(),
                    "interest_verified": m.refund_interest.verified,
                    "total": _amount(m.outstanding + m.refund_interest.total),
                }
            )
    return out


# -- the page -------------------------------------------------------------------------------

_BIDI = {0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def visible(text: str) -> str:
    """``text`` with control characters and direction overrides shown as escapes
    (``\\x1b``, ``\\u202e``): stored text is shown as it is, but cannot hide or reorder what
    the page says. Newlines and tabs stay."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) == "Cc" or code in _BIDI:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _finalize(value: Any) -> Any:
    from markupsafe import Markup

    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _eur(value: str | Decimal | None) -> str:
    return "" if value is None or value == "" else format_eur(Decimal(value), german=True)


def _date(value: str | None) -> str:
    return "" if not value else format_date_de(pendulum.Date.fromisoformat(value))


def _berlin(value: str | None) -> str:
    if not value:
        return ""
    t = to_berlin(dt.datetime.fromisoformat(value))
    return f"{format_date_de(t.date())} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def render_html(doc: Mapping[str, Any]) -> str:
    """The page for a document :func:`build` returned: one self-contained HTML file."""
    import jinja2

    from grantflow.report import svg

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grantflow.report", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["eur"] = _eur
    env.filters["date_de"] = _date
    env.filters["berlin"] = _berlin
    charts = {}
    for p in doc["programs"]:
        points = [
            (
                pendulum.Date.fromisoformat(c["as_of"]),
                Decimal(c["committed"]),
                Decimal(c["disbursed"]),
            )
            for c in p["chart"]
        ]
        budget = Decimal(p["figures"]["budget"]) if p["figures"] else None
        charts[p["program"]] = svg.money_chart(points, budget=budget)
    lifecycles = {
        g["id"]: svg.lifecycle_path(
            [State(s) for s in g["path"]],
            label=f"Lifecycle of {g['id']}: " + " → ".join(g["path"]),
        )
        for g in doc["grants"]
    }
    return env.get_template("audit-report.html.j2").render(
        doc=doc, charts=charts, lifecycles=lifecycles
    )
