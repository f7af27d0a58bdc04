"""The template grant the scale benchmarks copy: one NRW grant taken through the real service.

``benchmarks.audit`` and ``benchmarks.reports`` both build their large files from grants made
here (and then copy the rows with bare ``sqlite3``): :func:`set_up` gives a database its actors
and the NRW program, :func:`life` lists the steps of a grant's life, and :func:`template` takes
one application through them. (The leading underscore keeps ``python -m benchmarks`` from
running this module as a benchmark.)
"""

from __future__ import annotations

from decimal import Decimal

import pendulum

from grantflow.demo import ATTESTATIONS
from grantflow.domain.commands import (
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Start,
    Submit,
)
from grantflow.domain.guideline import ProgramVersion
from grantflow.domain.model import Document, Role
from grantflow.services import Grantflow

NRW = "nrw-digitale-modellregionen"
REGIONS = ("aachen", "gelsenkirchen", "owl", "soest", "wuppertal")
FOCUS = ("e-government", "digitale-stadtentwicklung")
CREW = (("carla", Role.CLERK), ("anton", Role.APPROVER), ("fiona", Role.FINANCE))
"""The people of the template: a clerk, an approver and finance (and ``ada``, the admin)."""

Step = tuple[Command, str]
"""A command and the actor who gives it."""

D = pendulum.Date


def set_up(app: Grantflow) -> ProgramVersion:
    """Create the schema, the admin ``ada`` and :data:`CREW`, load the NRW program; returns its
    latest version."""
    app.init("ada")
    for name, role in CREW:
        app.add_actor(name, [role], by="ada")
    app.load_program(NRW, by="ada")
    return app.program(NRW).latest


def life(
    *,
    payouts: int,
    payout: Decimal,
    every_months: int,
    notice: str,
    amendment: str,
    extend: bool = True,
    close: Decimal | None = None,
) -> list[Step]:
    """The steps after the application: the notice (2019-03-01), the start (2019-04-01),
    ``payouts`` payments of ``payout`` from 2019-04-02 every ``every_months`` months, each
    reported as used 20 days later, then (``extend``) an extension to 2022-06-30 (notice of
    2021-09-01) and, with ``close`` (the final costs), the proof of use on 2022-08-01 and the
    final notice on 2022-09-01."""
    steps: list[Step] = [
        (Approve(date=D(2019, 3, 1), notice_number=notice), "anton"),
        (Start(date=D(2019, 4, 1)), "carla"),
    ]
    paid = D(2019, 4, 2)
    for _ in range(payouts):
        steps.append((Disburse(date=paid, amount=payout), "fiona"))
        used = Submit(date=paid.add(days=20), document=Document.SPENDING_REPORT, amount=payout)
        steps.append((used, "carla"))
        paid = paid.add(months=every_months)
    if extend:
        until = D(2022, 6, 30)
        steps.append(
            (Extend(date=D(2021, 9, 1), until=until, notice_number=amendment,
                    requested_on=D(2021, 6, 1)), "anton")
        )  # fmt: skip
    if close is not None:
        steps.append((Submit(date=D(2022, 8, 1), document=Document.PROOF_OF_USE), "carla"))
        steps.append((Close(date=D(2022, 9, 1), final_costs=close), "anton"))
    return steps


def template(
    app: Grantflow,
    version: ProgramVersion,
    steps: list[Step],
    *,
    title: str,
    eligible: Decimal,
    requested: Decimal,
    region: str = "soest",
    focus: str = "e-government",
) -> str:
    """Stadt Soest's application (2019-01-10, project 2019-04-01 to 2021-06-30) taken through
    ``steps`` by the service; returns the grant's id."""
    g = app.propose(
        Propose(
            date=D(2019, 1, 10),
            program_id=NRW,
            title=title,
            applicant=version.applicant("Stadt Soest"),
            region=region,
            focus=focus,
            eligible_costs=eligible,
            requested_amount=requested,
            start=D(2019, 4, 1),
            end=D(2021, 6, 30),
            attestations=ATTESTATIONS,
        ),
        actor="carla",
    )
    for cmd, actor in steps:
        app.act(g.id, cmd, actor=actor)
    return g.id
