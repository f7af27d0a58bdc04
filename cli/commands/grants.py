"""Moving grants: ``propose``, the event commands, ``check``, ``show`` and ``list``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import click
import pendulum

from grantflow import (
    BERLIN,
    Amend,
    ApplicantKind,
    Approve,
    Close,
    Command,
    Disburse,
    Document,
    Extend,
    FinancingType,
    Override,
    Propose,
    Refused,
    Reject,
    Repay,
    RevocationEffect,
    Revoke,
    Start,
    State,
    Submit,
    Withdraw,
    grant_to_json,
    log_entry_to_json,
    verdict_to_json,
)

from ..errors import stop_as
from ..main_support import env_of
from ..output import actor_shown, day, eur
from ..params import AMOUNT, DATE

F = TypeVar("F", bound=Callable[..., Any])


def _today() -> pendulum.Date:
    return pendulum.today(BERLIN).date()


def event_options(*, date_required: bool = True, reason_required: bool = False) -> Callable[[F], F]:
    """The options every event takes: date, reason, overrides, attestations, dry run."""

    def decorate(f: F) -> F:
        for option in reversed(
            [
                click.option(
                    "--date",
                    "date",
                    type=DATE,
                    help="Business date of the document (2021-12-31 or 31.12.2021).",
                    **(
                        {"required": True}
                        if date_required
                        else {"default": _today, "show_default": "today"}
                    ),
                ),
                click.option(
                    "--reason",
                    help="Why (kept in the log)." + (" Required." if reason_required else ""),
                    # click 8.5 treats an explicit default (even None) as satisfying required=
                    **({"required": True} if reason_required else {"default": ""}),
                ),
                click.option(
                    "--override",
                    "overrides",
                    multiple=True,
                    metavar="RULE-ID",
                    help="Override a soft rule (approvers only; repeatable).",
                ),
                click.option(
                    "--justification",
                    "justifications",
                    multiple=True,
                    metavar="TEXT",
                    help="Written justification, one per --override, in the same order.",
                ),
                click.option(
                    "--attest",
                    "attestations",
                    multiple=True,
                    metavar="ID",
                    help="Record an attestation or document with this step (repeatable).",
                ),
                click.option(
                    "--dry-run",
                    is_flag=True,
                    help="Only check the rules and show every verdict; change nothing.",
                ),
            ]
        ):
            f = option(f)
        return f

    return decorate


def _common(
    date: pendulum.Date,
    reason: str,
    overrides: tuple[str, ...],
    justifications: tuple[str, ...],
    attestations: tuple[str, ...],
) -> dict[str, Any]:
    if len(overrides) != len(justifications):
        raise click.UsageError(
            f"give one --justification for each --override ({len(overrides)} overrides, "
            f"{len(justifications)} justifications)"
        )
    return {
        "date": date,
        "reason": reason,
        "overrides": tuple(Override(r, j) for r, j in zip(overrides, justifications, strict=True)),
        "attestations": frozenset(attestations),
    }


def _run(ctx: click.Context, grant_id: str | None, cmd: Command, dry_run: bool) -> None:
    env = env_of(ctx)
    app = env.app()
    if dry_run:
        ev = app.check(grant_id, cmd, actor=env.actor)
        if env.json:
            env.out.json(
                {
                    "grant": grant_id,
                    "event": cmd.event.value,
                    "allowed": ev.allowed,
                    "from_state": ev.from_state,
                    "to_state": ev.to_state,
                    "verdicts": [verdict_to_json(v) for v in ev.verdicts],
                }
            )
        else:
            env.out.verdicts(
                ev.verdicts, title=f"check: {cmd.event} on {grant_id or 'a new grant'}"
            )
            env.out.line(
                f"{cmd.event} would go ahead ({ev.from_state} → {ev.to_state})"
                if ev.allowed
                else f"{cmd.event} would be refused by {', '.join(v.rule_id for v in ev.failures)}"
            )
        if not ev.allowed:
            stop_as(ctx, Refused)
        return
    if isinstance(cmd, Propose):
        grant = app.propose(cmd, actor=env.actor)
    else:
        assert grant_id is not None
        grant = app.act(grant_id, cmd, actor=env.actor)
    if env.json:
        env.out.json(grant_to_json(grant))
    elif isinstance(cmd, Propose):
        env.out.line(grant.id)
    else:
        env.out.line(f"{grant.id}: {cmd.event} done, now {grant.state.value}")


@click.command()
@click.option("--program", "program_id", required=True, help="Program id.")
@click.option("--applicant", required=True, help="The applicant (the lead of a consortium).")
@click.option("--member", "members", multiple=True, help="Another consortium member (repeatable).")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in ApplicantKind]),
    help="Applicant kind; needed when the guideline does not name the applicant.",
)
@click.option("--region", help="Region (required where the program has regions).")
@click.option("--focus", help="Focus area (required where the program has focus areas).")
@click.option("--call", "call_id", help="Call (required where the program has calls).")
@click.option(
    "--phase",
    help="Phase, e.g. strategy or implementation (required where the program has phases).",
)
@click.option("--title", required=True, help="Project title.")
@click.option("--costs", required=True, type=AMOUNT, help="Eligible costs in EUR.")
@click.option("--requested", required=True, type=AMOUNT, help="Requested grant in EUR.")
@click.option("--private", type=AMOUNT, default="0", help="Private / third-party funds in EUR.")
@click.option("--own", type=AMOUNT, default=None, help="Own funds in EUR (default: the rest).")
@click.option("--start", required=True, type=DATE, help="Planned project start.")
@click.option("--end", required=True, type=DATE, help="Planned project end.")
@event_options(date_required=False)
@click.pass_context
def propose(
    ctx: click.Context,
    /,
    program_id: str,
    applicant: str,
    members: tuple[str, ...],
    kind: str | None,
    region: str | None,
    focus: str | None,
    call_id: str | None,
    phase: str | None,
    title: str,
    costs: Decimal,
    requested: Decimal,
    private: Decimal,
    own: Decimal | None,
    start: pendulum.Date,
    end: pendulum.Date,
    dry_run: bool,
    **common: Any,
) -> None:
    """Record an application received on --date (default today); prints the new grant's id.

    \b
    Example:
      grantflow --actor carla propose --program nrw-digitale-modellregionen \\
        --applicant "Stadt Aachen" --region aachen --focus e-government \\
        --title GovChain --costs 1.500.000,00 --requested 1.200.000,00 \\
        --private 300000 --start 2019-06-01 --end 2021-06-30 --date 2019-03-01 \\
        --attest it-standards --attest portal-interop --attest transferability \\
        --attest ozg --attest free-reuse
    """
    env = env_of(ctx)
    program = env.app().program(program_id)
    fields = _common(**common)
    version = program.version_at(fields["date"])
    given = {"region": region, "focus": focus, "call": call_id, "phase": phase}
    for field, needed in version.requires.items():
        if needed and not given[field]:
            choices = {
                "region": [r.id for r in version.regions],
                "focus": [f.id for f in version.focus_areas],
                "call": [c.id for c in version.calls],
                "phase": [p.id for p in version.phases],
            }[field]
            raise click.UsageError(
                f"--{field} is required for program {program.id} (one of: {', '.join(choices)})"
            )
    cmd = Propose(
        program_id=program.id,
        title=title,
        applicant=version.applicant(applicant, members, ApplicantKind(kind) if kind else None),
        region=region,
        focus=focus,
        call=call_id,
        phase=phase,
        eligible_costs=costs,
        requested_amount=requested,
        private_funds=private,
        own_funds=own,
        start=start,
        end=end,
        **fields,
    )
    _run(ctx, None, cmd, dry_run)


def _event_command(
    name: str, build: Callable[..., Command], *, reason_required: bool = False
) -> Callable[[Callable[..., Any]], click.Command]:
    def decorate(f: Callable[..., Any]) -> click.Command:
        @click.argument("grant_id", metavar="ID")
        @event_options(reason_required=reason_required)
        @click.pass_context
        def run(ctx: click.Context, /, grant_id: str, dry_run: bool, **kw: Any) -> None:
            common = {
                k: kw.pop(k)
                for k in ("date", "reason", "overrides", "justifications", "attestations")
            }
            _run(ctx, grant_id, build(**kw, **_common(**common)), dry_run)

        run.__doc__ = f.__doc__
        run.__name__ = name
        params = getattr(f, "__click_params__", [])
        cmd = click.command(name)(run)
        cmd.params.extend(reversed(params))
        return cmd

    return decorate


@_event_command(
    "approve",
    lambda notice, amount, financing, start, end, binding_years, **c: Approve(
        notice_number=notice,
        amount=amount,
        financing_type=FinancingType(financing) if financing else None,
        start=start,
        end=end,
        purpose_binding_years=binding_years,
        **c,
    ),
)
@click.option("--notice", required=True, help="Number of the grant notice (Zuwendungsbescheid).")
@click.option("--amount", type=AMOUNT, help="Approved amount (default: the requested amount).")
@click.option(
    "--financing",
    type=click.Choice([f.value for f in FinancingType]),
    help="Financing type (default: the guideline's).",
)
@click.option("--start", type=DATE, help="Start of the funding period (default: as applied for).")
@click.option("--end", type=DATE, help="End of the funding period (default: as applied for).")
@click.option(
    "--binding-years",
    type=click.IntRange(min=1),
    help="Purpose-binding years (default: the guideline's).",
)
def approve() -> None:
    """Approve a proposal with a grant notice (approvers; not the proposer: four-eyes).

    \b
    Example:
      grantflow --actor anton approve DMR-2019-0001 --notice "BR K 48.01-1/2019" \\
        --date 2019-05-02 --amount 1.200.000,00
    """


@_event_command("reject", Reject, reason_required=True)
def reject() -> None:
    """Reject a proposal (approvers); --reason is required.

    \b
    Example:
      grantflow --actor anton reject DMR-2019-0002 --date 2019-05-02 --reason "no OZG relevance"
    """


@_event_command("withdraw", Withdraw, reason_required=True)
def withdraw() -> None:
    """Record that the applicant withdrew (before any payout); --reason is required.

    \b
    Example:
      grantflow --actor carla withdraw DMR-2019-0003 --date 2019-04-01 --reason "letter of 28.03."
    """


@_event_command("start", Start)
def start() -> None:
    """Record that an approved project has started (clerks).

    \b
    Example:
      grantflow --actor carla start DMR-2019-0001 --date 2019-06-01
    """


@_event_command(
    "disburse", lambda amount, needed_by, **c: Disburse(amount=amount, needed_by=needed_by, **c)
)
@click.option("--amount", required=True, type=AMOUNT, help="Amount to pay out.")
@click.option("--needed-by", type=DATE, help="When the money is needed (default: --date).")
def disburse() -> None:
    """Pay out part of the grant (finance).

    \b
    Example:
      grantflow --actor fiona disburse DMR-2019-0001 --amount 250.000,00 --date 2019-07-01
    """


@_event_command(
    "extend",
    lambda until, notice, requested_on, **c: Extend(
        until=until, notice_number=notice, requested_on=requested_on, **c
    ),
)
@click.option("--until", required=True, type=DATE, help="New end of the funding period.")
@click.option("--notice", required=True, help="Number of the amendment notice.")
@click.option(
    "--requested-on", type=DATE, help="When the extension was applied for (default: --date)."
)
def extend() -> None:
    """Extend the funding period by an amendment notice (approvers).

    \b
    Example:
      grantflow --actor anton extend DMR-2019-0001 --until 2023-06-30 \\
        --notice "BR K 48.01-1/2019-Ä1" --date 2021-09-15
    """


@_event_command(
    "amend", lambda amount, notice, **c: Amend(amount=amount, notice_number=notice, **c)
)
@click.option("--amount", required=True, type=AMOUNT, help="The new approved amount.")
@click.option("--notice", required=True, help="Number of the amendment notice.")
def amend() -> None:
    """Change the approved amount by an amendment notice (approvers); lower is a partial revocation.

    \b
    Example:
      grantflow --actor anton amend DMR-2019-0001 --amount 1.100.000 --notice Ä2 --date 2020-03-01
    """


@_event_command(
    "close",
    lambda final_costs, proof_date, other_funds, **c: Close(
        final_costs=final_costs, proof_date=proof_date, final_other_funds=other_funds, **c
    ),
)
@click.option(
    "--final-costs", required=True, type=AMOUNT, help="Final eligible costs from the proof of use."
)
@click.option("--proof-date", type=DATE, help="When the proof of use arrived (default: --date).")
@click.option(
    "--other-funds", type=AMOUNT, help="Final own and third-party funds (default: as planned)."
)
def close() -> None:
    """Close a grant after its proof of use (approvers); computes the final grant.

    \b
    Example:
      grantflow --actor anton close DMR-2019-0001 --date 2023-11-30 --final-costs 1.450.000,00
    """


@_event_command(
    "revoke",
    lambda notice, effective_from, known_since, effect, **c: Revoke(
        notice_number=notice,
        effective_from=effective_from,
        known_since=known_since,
        effect=RevocationEffect(effect),
        **c,
    ),
    reason_required=True,
)
@click.option("--notice", required=True, help="Number of the revocation notice.")
@click.option(
    "--effective-from", type=DATE, help="Date the revocation takes effect (default: --date)."
)
@click.option(
    "--known-since", type=DATE, help="When the authority learned the facts (one-year deadline)."
)
@click.option(
    "--effect",
    type=click.Choice([e.value for e in RevocationEffect]),
    default=RevocationEffect.PAST.value,
    show_default=True,
    help="past: what was paid becomes a refund claim; future (§ 49 Abs. 2 VwVfG): no more "
    "payments, the grant keeps what was paid, no refund claim.",
)
def revoke() -> None:
    """Revoke a grant (approvers); --reason is required. With effect for the past (default)
    the paid amount becomes a refund claim; with --effect future no more money is paid and
    nothing is claimed back.

    \b
    Examples:
      grantflow --actor anton revoke DMR-2019-0007 --date 2022-02-01 --notice W-1 \\
        --reason "purpose not achieved"
      grantflow --actor anton revoke DMR-2019-0008 --date 2022-02-01 --notice W-2 \\
        --effect future --reason "project ended early on request"
    """


@_event_command(
    "submit",
    lambda document, amount, year, **c: Submit(
        document=Document(document), amount=amount, year=year, **c
    ),
)
@click.option(
    "--document",
    required=True,
    type=click.Choice([d.value for d in Document]),
    help="What the grantee submitted.",
)
@click.option("--amount", type=AMOUNT, help="Spending report: grant money used.")
@click.option(
    "--year", type=int, help="Interim proof: the budget year it covers (default: last year)."
)
def submit() -> None:
    """Record a document the grantee submitted (clerks): a spending report, an interim proof
    (Zwischennachweis) or the proof of use (Verwendungsnachweis).

    \b
    Examples:
      grantflow --actor carla submit DMR-2019-0001 --document spending-report \\
        --amount 180.000,00 --date 2019-08-30
      grantflow --actor carla submit DMR-2019-0001 --document interim-proof --date 2020-04-20
      grantflow --actor carla submit DMR-2019-0001 --document proof-of-use --date 2021-12-10
    """


@_event_command("repay", lambda amount, **c: Repay(amount=amount, **c))
@click.option("--amount", required=True, type=AMOUNT, help="Amount paid back.")
def repay() -> None:
    """Book a repayment of the refund claim (finance): --date is the value date on the bank
    statement. Refused beyond what is still owed (GF-REFUND-BALANCE); see `grantflow money`.

    \b
    Example:
      grantflow --actor fiona repay DMR-2019-0007 --amount 80.000,00 --date 2022-12-16
    """


EVENT_COMMANDS = (
    approve,
    reject,
    withdraw,
    start,
    disburse,
    extend,
    amend,
    close,
    revoke,
    submit,
    repay,
)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("grant_id", metavar="ID")
@click.argument("event", type=click.Choice([c.name or "" for c in EVENT_COMMANDS]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def check(ctx: click.Context, grant_id: str, event: str, args: tuple[str, ...]) -> None:
    """Dry run: every rule's verdict for EVENT on grant ID; exit 0 if it would pass, 1 if not.

    Takes the event's own options. Nothing is written. (For a new application use
    ``grantflow propose ... --dry-run``.)

    \b
    Example:
      grantflow --actor anton check DMR-2019-0001 approve --notice X \\
        --date 2019-05-02 --amount 900000
    """
    parent = ctx.parent
    assert parent is not None and isinstance(parent.command, click.Group)
    sub = parent.command.get_command(parent, event)
    assert sub is not None
    sub_ctx = sub.make_context(event, [grant_id, *args, "--dry-run"], parent=parent)
    with sub_ctx:
        sub.invoke(sub_ctx)


STEP_KEYS = ("seq", "event", "business_date", "actor", "actor_auth")
"""The keys of a log entry (:func:`grantflow.log_entry_to_json`) ``show --json`` lists a step
with."""


@click.command()
@click.argument("grant_id", metavar="ID")
@click.option("--as-of", type=DATE, help="Show the grant as it stood at the end of this date.")
@click.pass_context
def show(ctx: click.Context, grant_id: str, as_of: pendulum.Date | None) -> None:
    """Show one grant, now or as of a past date.

    \b
    Example:
      grantflow show DMR-2019-0001 --as-of 2020-12-31
    """
    env = env_of(ctx)
    app = env.app()
    g = app.grant(grant_id, as_of=as_of)
    steps = [
        e
        for e in app.log(grant_id=g.id, include_refused=False, until=as_of)
        if e.seq is not None and e.seq <= g.version
    ]
    if env.json:
        doc = grant_to_json(g)
        doc["as_of"] = as_of.isoformat() if as_of else None
        doc["steps"] = [
            {key: entry[key] for key in STEP_KEYS} for entry in map(log_entry_to_json, steps)
        ]
        env.out.json(doc)
    else:
        if as_of:
            env.out.line(f"as of {day(as_of)}")
        env.out.grant(g)
        env.out.table(
            "steps",
            ("#", "date", "event", "actor (how established)"),
            [
                (str(e.seq), day(e.business_date), str(e.event), actor_shown(e.actor, e.actor_auth))
                for e in steps
            ],
        )


@click.command("list")
@click.option("--program", "program_id", help="Only this program.")
@click.option("--state", type=click.Choice([s.value for s in State]), help="Only this state.")
@click.option("--region", help="Only this region.")
@click.pass_context
def list_grants(
    ctx: click.Context, program_id: str | None, state: str | None, region: str | None
) -> None:
    """List grants.

    \b
    Example:
      grantflow list --program nrw-digitale-modellregionen --state running --region owl
    """
    env = env_of(ctx)
    app = env.app()
    if program_id:
        app.program(program_id)  # unknown program: exit 2, not an empty list
    if region:
        known = {r.id for p in app.programs() for v in p.versions for r in v.regions}
        if region not in known:
            raise click.BadParameter(
                f"no loaded program has a region {region!r} (known: {', '.join(sorted(known))})",
                param_hint="--region",
            )
    grants = app.grants(program=program_id, state=State(state) if state else None, region=region)
    if env.json:
        env.out.json([grant_to_json(g) for g in grants])
        return
    env.out.table(
        f"{len(grants)} grants",
        ("id", "state", "applicant", "title", "approved", "disbursed", "period end"),
        [
            (
                g.id,
                g.state.value,
                g.applicant.lead,
                g.title,
                eur(g.approved_amount),
                eur(g.disbursed_amount),
                day(g.period_end),
            )
            for g in grants
        ],
        right=("approved", "disbursed"),
        styles={i: {"state": env.out.state_style(g.state)} for i, g in enumerate(grants)},
    )


def register(group: click.Group) -> None:
    for command in (propose, *EVENT_COMMANDS, check, show, list_grants):
        group.add_command(command)
