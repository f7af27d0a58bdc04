"""A realistic run of the NRW program "Digitale Modellregionen", with the seeds' figures.

What the seeds say, and what the demo replays through the service layer (every step checked by
the rules and written to the log):

* 2018: the program starts with 91 M EUR for five model regions (press release 12.01.2018).
* By 2019-12-05: 42 projects approved with 56.6 M EUR of funding, about 24 M EUR of private
  co-investment and 80.9 M EUR total volume; on 2019-12-06 seven more notices are handed over
  (MWIDE interim report of 06.12.2019).
* The projects are extended to mid-2023 (Stadt Paderborn; guideline version 2021-07).
* Then some are closed after their proof of use, and one is revoked.

Project titles are invented but plausible; the seeds' names (GovChain,
Bergisch.Smart.Mobility, ...) are used. Amounts are drawn from a fixed seed so that every run
produces the same database; their totals are fixed to the seeds' figures.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import pendulum

from grantflow.domain.commands import (
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Revoke,
    Start,
    Submit,
)
from grantflow.domain.model import Document, Grant, Role, State
from grantflow.domain.money import ZERO, money
from grantflow.errors import RuleViolation

if TYPE_CHECKING:
    from grantflow.services import Grantflow

PROGRAM = "nrw-digitale-modellregionen"
ATTESTATIONS = frozenset({"it-standards", "portal-interop", "transferability", "ozg", "free-reuse"})

FIRST_WAVE = 42
FIRST_WAVE_FUNDING = Decimal("56600000.00")  # "Das Fördervolumen liegt bisher bei 56,6 Mio. EUR"
FIRST_WAVE_PRIVATE = Decimal("24300000.00")  # "private Investitionen von rund 24 Mio. EUR"
FIRST_WAVE_VOLUME = FIRST_WAVE_FUNDING + FIRST_WAVE_PRIVATE  # "Gesamtvolumen ... 80,9 Mio. EUR"
SECOND_WAVE = 7  # "überreichte ... weitere Zuwendungsbescheide für sieben Vorhaben"
INTERIM_REPORT = pendulum.Date(2019, 12, 6)
EXTENDED_UNTIL = pendulum.Date(2023, 6, 30)  # "bis Mitte 2023 verlängert"

# (region, applicant as the guideline names it, focus, title)
PROJECTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "aachen",
        "Stadt Aachen",
        "digitale-stadtentwicklung",
        "GovChain – Blockchain für Verwaltung und Stadtentwicklung",
    ),
    ("aachen", "Stadt Aachen", "e-government", "Digitales Bürgerbüro Aachen"),
    ("aachen", "StädteRegion Aachen", "e-government", "Online-Kfz-Zulassung StädteRegion"),
    ("aachen", "Stadt Aachen", "digitale-stadtentwicklung", "Open Innovation Lab digitalHUB"),
    (
        "aachen",
        "StädteRegion Aachen",
        "digitale-stadtentwicklung",
        "Smarte Pflege im ländlichen Raum",
    ),
    ("aachen", "Stadt Aachen", "e-government", "E-Akte für die Bauaufsicht"),
    ("aachen", "Stadt Aachen", "digitale-stadtentwicklung", "Datenplattform Mobilität Aachen"),
    ("aachen", "StädteRegion Aachen", "e-government", "Digitaler Schülerfahrkartenantrag"),
    ("aachen", "Stadt Aachen", "digitale-stadtentwicklung", "Smarte Quartiersenergie"),
    ("aachen", "Stadt Aachen", "e-government", "Gewerbeanmeldung online"),
    (
        "gelsenkirchen",
        "Stadt Gelsenkirchen",
        "digitale-stadtentwicklung",
        "Smart Region Emscher-Lippe: Sensornetz",
    ),
    ("gelsenkirchen", "Stadt Gelsenkirchen", "e-government", "Bürgerkonto und Postfach"),
    (
        "gelsenkirchen",
        "Westfälische Hochschule",
        "digitale-stadtentwicklung",
        "Reallabor vernetzte Mobilität",
    ),
    (
        "gelsenkirchen",
        "Stadt Gelsenkirchen",
        "digitale-stadtentwicklung",
        "Digitale Bildungsplattform Schulen",
    ),
    (
        "gelsenkirchen",
        "Hochschule Ruhr West",
        "digitale-stadtentwicklung",
        "Assistenzsysteme für Menschen mit Behinderung",
    ),
    ("gelsenkirchen", "Stadt Gelsenkirchen", "e-government", "Digitale Wohngeldantragstellung"),
    (
        "gelsenkirchen",
        "Stadt Gelsenkirchen",
        "digitale-stadtentwicklung",
        "Open-Data-Portal Gelsenkirchen",
    ),
    ("gelsenkirchen", "Stadt Gelsenkirchen", "e-government", "Digitale Personenstandsurkunden"),
    (
        "gelsenkirchen",
        "Stadt Gelsenkirchen",
        "digitale-stadtentwicklung",
        "Smarte Straßenbeleuchtung",
    ),
    ("owl", "Stadt Paderborn", "e-government", "Smartphone-Bürger-ID"),
    ("owl", "Stadt Paderborn", "digitale-stadtentwicklung", "Digitale Innenstadt Paderborn"),
    ("owl", "Kreis Paderborn", "e-government", "Digitaler Bauantrag Kreis Paderborn"),
    ("owl", "Stadt Bielefeld", "e-government", "Serviceportal Bielefeld"),
    ("owl", "Stadt Bielefeld", "digitale-stadtentwicklung", "Digitale Betreuungsplatzvergabe"),
    ("owl", "Stadt Delbrück", "digitale-stadtentwicklung", "Smart Village Delbrück"),
    ("owl", "Kreis Paderborn", "e-government", "Digitale Fördermittelverwaltung im Kreis"),
    ("owl", "Stadt Paderborn", "digitale-stadtentwicklung", "3D-Stadtmodell und Steuerungssystem"),
    ("owl", "Kreis Paderborn", "digitale-stadtentwicklung", "Telemedizin im Rettungsdienst"),
    ("owl", "Stadt Bielefeld", "digitale-stadtentwicklung", "Mobilitätsplattform OWL"),
    ("soest", "Stadt Soest", "e-government", "Digitales Rathaus Soest"),
    ("soest", "Kreis Soest", "e-government", "Elterngeld digital"),
    ("soest", "Stadt Lippstadt", "digitale-stadtentwicklung", "Smarte Parkraumbewirtschaftung"),
    ("soest", "Stadt Iserlohn", "digitale-stadtentwicklung", "Digitale Lernorte Iserlohn"),
    ("soest", "Stadt Soest", "digitale-stadtentwicklung", "Südwestfalen: Dorf.Digital"),
    ("soest", "Kreis Soest", "digitale-stadtentwicklung", "Ehrenamtsplattform Kreis Soest"),
    ("soest", "Stadt Iserlohn", "e-government", "Digitale Ratsarbeit"),
    ("soest", "Stadt Lippstadt", "e-government", "Digitaler Bürgerservice Lippstadt"),
    ("soest", "Stadt Soest", "digitale-stadtentwicklung", "Smarte Abfallwirtschaft"),
    ("wuppertal", "Stadt Wuppertal", "digitale-stadtentwicklung", "Bergisch.Smart.Mobility"),
    ("wuppertal", "Stadt Solingen", "e-government", "Digitale Bauakte Solingen"),
    ("wuppertal", "Stadt Remscheid", "e-government", "Online-Terminvergabe Bürgerbüro"),
    (
        "wuppertal",
        "Bergische Universität Wuppertal",
        "digitale-stadtentwicklung",
        "Wissenstransfer Start-up-Labor",
    ),
    # the seven notices of 2019-12-06
    ("wuppertal", "Stadt Wuppertal", "e-government", "Digitale Verkehrszeichenanordnung"),
    ("wuppertal", "Stadt Solingen", "digitale-stadtentwicklung", "Smart City Klingenstadt"),
    ("owl", "Stadt Paderborn", "e-government", "Digitale Gewerbeaufsicht"),
    ("aachen", "StädteRegion Aachen", "digitale-stadtentwicklung", "E-Mobilität in der Euregio"),
    (
        "gelsenkirchen",
        "Stadt Gelsenkirchen",
        "digitale-stadtentwicklung",
        "Smarte Gesundheitslotsen",
    ),
    ("soest", "Stadt Soest", "e-government", "Digitaler Friedhofsservice"),
    ("wuppertal", "Stadt Remscheid", "digitale-stadtentwicklung", "Smarte Wasserwirtschaft"),
)

ACTORS: tuple[tuple[str, frozenset[Role]], ...] = (
    ("carla.clerk", frozenset({Role.CLERK})),
    ("anton.approver", frozenset({Role.APPROVER})),
    ("berta.approver", frozenset({Role.APPROVER})),
    ("fiona.finance", frozenset({Role.FINANCE})),
    ("udo.auditor", frozenset({Role.AUDITOR})),
)
ADMIN = "ada.admin"
AUDITOR = "udo.auditor"
"""Who seals the log at the end of the demo (`audit digest`)."""
CLERK, APPROVER, APPROVER2, FINANCE = (a for a, _ in ACTORS[:4])


@attrs.frozen
class DemoResult:
    """What the demo did, for the caller to print."""

    grant_ids: tuple[str, ...]
    steps: int
    closed: tuple[str, ...]
    revoked: tuple[str, ...]


def split(total: Decimal, weights: list[int], unit: Decimal = Decimal("1000")) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, in whole ``unit`` s, summing exactly."""
    parts = [money((total * w / sum(weights) / unit).to_integral_value() * unit) for w in weights]
    parts[-1] += total - sum(parts, ZERO)
    return parts


def _plan(rng: random.Random) -> Iterator[tuple[int, pendulum.Date, pendulum.Date]]:
    """(index, received, approved) for every project, first wave before the interim report."""
    last_first_wave_notice = INTERIM_REPORT.subtract(days=2)
    for i in range(FIRST_WAVE):
        received = pendulum.Date(2018, 9, 3).add(days=int(i * 9.5) + rng.randrange(0, 5))
        approved = min(received.add(days=rng.randrange(45, 90)), last_first_wave_notice)
        yield i, received, approved
    for i in range(FIRST_WAVE, FIRST_WAVE + SECOND_WAVE):
        yield i, pendulum.Date(2019, 8, 1).add(days=7 * (i - FIRST_WAVE)), INTERIM_REPORT


def run(app: Grantflow, *, say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Replay the program on ``app`` (an empty, initialised database)."""
    rng = random.Random(20191206)
    app.init(ADMIN)
    for name, roles in ACTORS:
        app.add_actor(name, roles, by=ADMIN)
    app.load_program(PROGRAM, by=ADMIN)
    say("2018: program loaded: 91 M EUR for five model regions")

    first_funding = split(FIRST_WAVE_FUNDING, [rng.randrange(50, 150) for _ in range(FIRST_WAVE)])
    first_private = split(FIRST_WAVE_PRIVATE, [int(f / 1000) for f in first_funding])
    second_funding = split(
        Decimal("8400000.00"), [rng.randrange(50, 150) for _ in range(SECOND_WAVE)]
    )
    funding = first_funding + second_funding
    private = first_private + [money(f * Decimal("0.35") // 1000 * 1000) for f in second_funding]

    steps = 0
    grants: list[Grant] = []
    for i, received, approved_on in _plan(rng):
        region, lead, focus, title = PROJECTS[i]
        version = app.program(PROGRAM).version_at(received)
        start = approved_on.add(days=14)
        g = app.propose(
            Propose(
                date=received,
                program_id=PROGRAM,
                title=title,
                applicant=version.applicant(lead),
                region=region,
                focus=focus,
                eligible_costs=funding[i] + private[i],
                requested_amount=funding[i],
                private_funds=private[i],
                own_funds=ZERO,
                start=start,
                end=pendulum.Date(2021, 12, 31),
                attestations=ATTESTATIONS,
                reason="Antrag eingegangen",
            ),
            actor=CLERK,
        )
        g = app.act(
            g.id,
            Approve(
                date=approved_on,
                notice_number=f"BR-{region.upper()}-48.01-{i + 1:03d}/{approved_on.year}",
                amount=funding[i],
                reason="Zuwendungsbescheid",
            ),
            actor=APPROVER if i % 2 else APPROVER2,
        )
        steps += 2
        grants.append(g)
    say(f"{FIRST_WAVE} projects approved by 05.12.2019; {SECOND_WAVE} more notices on 06.12.2019")

    revoked = grants[7].id
    closing = {g.id for g in grants[::3]} - {revoked}
    refused: list[str] = []
    for g in grants:
        timeline = _timeline(g, revoked=g.id == revoked, closing=g.id in closing)
        for _day, cmd, actor in sorted(timeline, key=lambda t: t[0]):
            if g is grants[0] and isinstance(cmd, Disburse) and not refused:
                refused.append(_too_early_drawdown(app, g, cmd))
            app.act(g.id, cmd, actor=actor)
            steps += 1
    say("projects started; funds drawn down in three instalments, each reported as used")
    say(f"refused and logged: {refused[0]}")
    say("interim proofs (Zwischennachweise) submitted every April")
    say(f"{revoked} revoked on 15.03.2021; its payments are now a refund claim")
    say("all running projects extended to 30.06.2023 (guideline version 2021-07)")
    closed = sorted(closing)
    say(f"{len(closed)} projects closed after their proof of use")
    still = [g for g in app.grants(program=PROGRAM) if g.state is State.EXTENDED]
    say(f"{len(still)} projects still waiting for their final accounting")
    return DemoResult(
        grant_ids=tuple(g.id for g in grants), steps=steps, closed=tuple(closed), revoked=(revoked,)
    )


Step = tuple[pendulum.Date, Command, str]


def _too_early_drawdown(app: Grantflow, g: Grant, first: Disburse) -> str:
    """Finance asks for the whole grant at the first drawdown, for payments due in a year: the
    drawdown rule (R-DRAWDOWN-2M) refuses it, and the refused attempt is logged."""
    try:
        app.act(
            g.id,
            Disburse(
                date=first.date,
                amount=g.approved_amount,
                needed_by=first.date.add(years=1),
                reason="Mittelabruf für das ganze Projekt",
            ),
            actor=FINANCE,
        )
    except RuleViolation as exc:
        return f"{exc}: {exc.explain()}"
    raise AssertionError(f"the demo's too-early drawdown on {g.id} was not refused")


REVOKED_ON = pendulum.Date(2021, 3, 15)
EXTENDED_ON = pendulum.Date(2021, 9, 15)
PROOF_SUBMITTED = pendulum.Date(2023, 9, 29)
CLOSED_ON = pendulum.Date(2023, 11, 20)


def _timeline(g: Grant, *, revoked: bool, closing: bool) -> list[Step]:
    """Every step of one approved grant after its notice, by business date."""
    assert g.notice is not None
    started = g.period.start
    steps: list[Step] = [(started, Start(date=started, reason="Projektbeginn"), CLERK)]
    first = max(started, g.notice.date.add(days=31))
    for k, (share, when) in enumerate(
        ((Decimal("0.30"), first), (Decimal("0.30"), first.add(months=8)),
         (Decimal("0.20"), first.add(months=16)))
    ):  # fmt: skip
        amount = money(g.approved_amount * share)
        steps.append(
            (when, Disburse(date=when, amount=amount, reason=f"Mittelabruf {k + 1}"), FINANCE)
        )
        used_on = when.add(days=40)
        steps.append(
            (
                used_on,
                Submit(
                    date=used_on,
                    document=Document.SPENDING_REPORT,
                    amount=amount,
                    reason=f"Verwendung von Mittelabruf {k + 1} angezeigt",
                ),
                CLERK,
            )
        )
    for year in range(started.year, 2023):
        on = pendulum.Date(year + 1, 4, 15)
        steps.append(
            (
                on,
                Submit(
                    date=on,
                    document=Document.INTERIM_PROOF,
                    year=year,
                    reason=f"Zwischennachweis {year}",
                ),
                CLERK,
            )
        )
    if revoked:
        steps = [step for step in steps if step[0] < REVOKED_ON]
        steps.append(
            (
                REVOKED_ON,
                Revoke(
                    date=REVOKED_ON,
                    notice_number="BR-W-2021-001",
                    known_since=pendulum.Date(2021, 1, 20),
                    reason=(
                        "Zuwendungszweck nicht erreicht: Projekt eingestellt "
                        "(§ 49 Abs. 3 Nr. 1 VwVfG NRW)"
                    ),
                ),
                APPROVER,
            )
        )
        return steps
    steps.append(
        (
            EXTENDED_ON,
            Extend(
                date=EXTENDED_ON,
                requested_on=pendulum.Date(2021, 8, 2),
                until=EXTENDED_UNTIL,
                notice_number=f"{g.notice.number}-Ä1",
                reason="Verlängerung der Modellregionen bis Mitte 2023",
            ),
            APPROVER,
        )
    )
    if closing:
        steps.append(
            (
                PROOF_SUBMITTED,
                Submit(
                    date=PROOF_SUBMITTED,
                    document=Document.PROOF_OF_USE,
                    reason="Verwendungsnachweis eingegangen",
                ),
                CLERK,
            )
        )
        steps.append(
            (
                CLOSED_ON,
                Close(
                    date=CLOSED_ON,
                    final_costs=money(g.eligible_costs * Decimal("0.96")),
                    reason="Verwendungsnachweis geprüft, Schlussbescheid",
                ),
                APPROVER2,
            )
        )
    return steps
