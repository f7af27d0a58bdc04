"""Setting up: ``init``, ``actor add|list``, ``program load|list|show``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from grantflow import (
    BUILTIN_GUIDELINES,
    Role,
    Rule,
    admin_entry_to_json,
    amount_to_json,
    builtin_guideline_path,
)

from ..main_support import env_of
from ..output import day, eur, when


@click.command()
@click.option("--admin", "admin", metavar="NAME", help="Create this first admin actor.")
@click.option(
    "--login",
    metavar="LOGIN",
    help="The first admin's login [default: yours: the PostgreSQL or the OS login].",
)
@click.option(
    "--declared-actors",
    is_flag=True,
    help=(
        "SQLite only, for demos, training and tests: let --actor name anyone; every such "
        "step is recorded as 'declared'. Only when the database is created."
    ),
)
@click.pass_context
def init(
    ctx: click.Context, /, admin: str | None, login: str | None, declared_actors: bool
) -> None:
    """Create or upgrade the database; optionally its first admin.

    Running it again is harmless. The first admin acts through the login that runs this
    (on PostgreSQL the database login, on SQLite the operating-system login).

    \b
    Example:
      grantflow --db grants.sqlite init --admin ada
      grantflow --db training.sqlite init --admin ada --declared-actors
    """
    env = env_of(ctx)
    app = env.app(create=True)
    app.init(admin, login=login, declared_actors=declared_actors)
    if env.json:
        env.out.json({"database": app.url, "admin": admin, "declared_actors": declared_actors})
    else:
        env.out.line(f"database ready: {app.url}")
        if admin:
            env.out.line(f"admin actor: {admin}")
        if declared_actors:
            env.out.line("declared actors: --actor may name anyone; recorded as 'declared'")


@click.group()
def actor() -> None:
    """People who act in grantflow and their roles."""


@actor.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role (repeat for several).",
)
@click.option(
    "--login",
    metavar="LOGIN",
    help="The login this person acts through [default: NAME]: their PostgreSQL or OS login.",
)
@click.pass_context
def actor_add(ctx: click.Context, /, name: str, roles: tuple[str, ...], login: str | None) -> None:
    """Add an actor with roles and a login (admins only); written to the administrative log.

    Names are unique whatever their case.

    \b
    Example:
      grantflow actor add carla --role clerk
      grantflow actor add anton --role approver --login a.berger
    """
    env = env_of(ctx)
    added = env.app().add_actor(name, [Role(r) for r in roles], by=env.actor, login=login)
    if env.json:
        env.out.json(
            {"name": added.name, "roles": sorted(added.roles), "login": login or added.name}
        )
    else:
        env.out.line(
            f"actor {added.name}: {', '.join(sorted(added.roles))} (login {login or added.name})"
        )


@actor.command("login")
@click.argument("name")
@click.argument("login")
@click.pass_context
def actor_login(ctx: click.Context, /, name: str, login: str) -> None:
    """Map an actor to another login (admins only); written to the administrative log.

    \b
    Example:
      grantflow actor login anton a.berger
    """
    env = env_of(ctx)
    env.app().set_login(name, login, by=env.actor)
    if env.json:
        env.out.json({"name": name, "login": login})
    else:
        env.out.line(f"actor {name}: login {login}")


@actor.command("deactivate")
@click.argument("name")
@click.pass_context
def actor_deactivate(ctx: click.Context, /, name: str) -> None:
    """Deactivate an actor (admins only): they can no longer act. Actors are never deleted:
    the log names them.

    \b
    Example:
      grantflow actor deactivate carla
    """
    env = env_of(ctx)
    env.app().deactivate(name, by=env.actor)
    if env.json:
        env.out.json({"name": name, "active": False})
    else:
        env.out.line(f"actor {name}: deactivated")


@actor.command("history")
@click.argument("name", required=False)
@click.pass_context
def actor_history(ctx: click.Context, /, name: str | None) -> None:
    """The administrative log: actors added, roles and logins changed, actors deactivated,
    guideline versions loaded (of NAME only: an actor or a program).

    \b
    Example:
      grantflow actor history
      grantflow actor history anton
    """
    env = env_of(ctx)
    entries = env.app().actor_history(name)
    if env.json:
        env.out.json([admin_entry_to_json(e) for e in entries])
        return
    env.out.table(
        "administrative log",
        ("#", "recorded (Berlin)", "by", "how", "action", "subject", "details"),
        [
            (
                str(e.id),
                when(e.recorded_at),
                e.actor or "(migration)",
                e.actor_auth,
                e.action,
                e.subject or "",
                _details(e.data),
            )
            for e in entries
        ],
    )


def _details(data: Mapping[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


@actor.command("roles")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="The actor's roles from now on (repeat for several; none: no rights left).",
)
@click.pass_context
def actor_roles(ctx: click.Context, /, name: str, roles: tuple[str, ...]) -> None:
    """Replace an actor's roles (admins only); the change is logged with the actor table.

    \b
    Example:
      grantflow --actor ada actor roles anton --role approver --role clerk
    """
    env = env_of(ctx)
    changed = env.app().set_roles(name, [Role(r) for r in roles], by=env.actor)
    if env.json:
        env.out.json({"name": changed.name, "roles": sorted(changed.roles)})
    else:
        env.out.line(f"actor {changed.name}: {', '.join(sorted(changed.roles)) or 'no roles'}")


@actor.command("list")
@click.pass_context
def actor_list(ctx: click.Context) -> None:
    """List actors and their roles.

    \b
    Example:
      grantflow actor list
    """
    env = env_of(ctx)
    actors = env.app().actors()  # active ones
    if env.json:
        env.out.json([{"name": a.name, "roles": sorted(a.roles)} for a in actors])
    else:
        env.out.table(
            "actors", ("name", "roles"), [(a.name, ", ".join(sorted(a.roles))) for a in actors]
        )


@click.group()
def program() -> None:
    """Funding programs and their guideline versions."""


@program.command("load")
@click.argument("name_or_file")
@click.pass_context
def program_load(ctx: click.Context, name_or_file: str) -> None:
    """Load a packaged guideline or a TOML file (admins only).

    Packaged: nrw-digitale-modellregionen, smart-cities-mpsc. Loading a changed file adds
    its new versions; a version that is already stored is never rewritten.

    \b
    Example:
      grantflow --actor ada program load nrw-digitale-modellregionen
    """
    env = env_of(ctx)
    result = env.app().load_program(name_or_file, by=env.actor)
    if env.json:
        env.out.json(
            {
                "program": result.program_id,
                "added": list(result.added),
                "unchanged": list(result.unchanged),
            }
        )
    else:
        added = ", ".join(result.added) or "none"
        unchanged = ", ".join(result.unchanged) or "none"
        env.out.line(f"program {result.program_id}: versions added {added}; unchanged {unchanged}")


@program.command("export")
@click.argument("name", type=click.Choice(list(BUILTIN_GUIDELINES)))
def program_export(name: str) -> None:
    """Print a packaged guideline file, to copy and adapt it.

    \b
    Example:
      grantflow program export nrw-digitale-modellregionen > my-program.toml
    """
    click.echo(builtin_guideline_path(name).read_text(encoding="utf-8"), nl=False)


@program.command("list")
@click.pass_context
def program_list(ctx: click.Context) -> None:
    """List loaded programs.

    \b
    Example:
      grantflow program list
    """
    env = env_of(ctx)
    programs = env.app().programs()
    if env.json:
        env.out.json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "versions": [v.version for v in p.versions],
                    "budget": amount_to_json(p.latest.budget),
                }
                for p in programs
            ]
        )
    else:
        env.out.table(
            "programs",
            ("id", "name", "versions", "budget", "funds until"),
            [
                (
                    p.id,
                    p.name,
                    ", ".join(v.version for v in p.versions),
                    eur(p.latest.budget),
                    day(p.latest.funds_until),
                )
                for p in programs
            ],
            right=("budget",),
        )


def _rule_json(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "severity": rule.severity.value,
        "events": sorted(e.value for e in rule.events),
        "citation": rule.citation,
        "confidence": rule.confidence,
        "assumed": rule.assumed,
    }


@program.command("show")
@click.argument("program_id")
@click.pass_context
def program_show(ctx: click.Context, program_id: str) -> None:
    """Show a program's versions, regions, calls and rules.

    \b
    Example:
      grantflow program show nrw-digitale-modellregionen
    """
    env = env_of(ctx)
    p = env.app().program(program_id)
    if env.json:
        env.out.json(
            {
                "id": p.id,
                "name": p.name,
                "versions": [
                    {
                        "version": v.version,
                        "effective_from": v.effective_from.isoformat(),
                        "title": v.title,
                        "budget": amount_to_json(v.budget),
                        "funds_until": v.funds_until.isoformat(),
                        "regions": [
                            {"id": r.id, "lead": r.lead, "envelope": amount_to_json(r.envelope)}
                            for r in v.regions
                        ],
                        "calls": [
                            {
                                "id": c.id,
                                "opens": c.opens.isoformat(),
                                "closes": c.closes.isoformat(),
                                "budget": amount_to_json(c.budget),
                            }
                            for c in v.calls
                        ],
                        "rules": [_rule_json(r) for r in v.rules],
                        "notes": list(v.notes),
                        "content_hash": v.content_hash,
                    }
                    for v in p.versions
                ],
            }
        )
        return
    out = env.out
    out.line(f"{p.id}: {p.name}")
    out.table(
        "versions",
        ("version", "in force from", "title", "budget", "funds until"),
        [
            (v.version, day(v.effective_from), v.title, eur(v.budget), day(v.funds_until))
            for v in p.versions
        ],
        right=("budget",),
    )
    v = p.latest
    if v.regions:
        out.table(
            "regions",
            ("id", "lead", "partners", "envelope"),
            [(r.id, r.lead, ", ".join(r.partners), eur(r.envelope)) for r in v.regions],
            right=("envelope",),
        )
    if v.calls:
        out.table(
            "calls",
            ("id", "name", "window", "budget"),
            [(c.id, c.name, f"{day(c.opens)} – {day(c.closes)}", eur(c.budget)) for c in v.calls],
            right=("budget",),
        )
    out.table(
        f"rules of version {v.version}",
        ("rule", "kind", "severity", "events", "where", "confidence"),
        [
            (
                r.id,
                r.kind,
                r.severity.value,
                ", ".join(sorted(e.value for e in r.events)),
                r.citation,
                (r.confidence or "") + (" assumed" if r.assumed else ""),
            )
            for r in v.rules
        ],
    )
    for note in v.notes:
        out.line(f"note: {note}")


@click.group()
def db() -> None:
    """The database itself (PostgreSQL roles)."""


@db.command("roles")
@click.pass_context
def db_roles(ctx: click.Context) -> None:
    """PostgreSQL: create the group roles and their rights (run as the tables' owner).

    grantflow_admin (actors, guidelines, checkpoints), grantflow_staff (steps on grants),
    grantflow_auditor (reads only) and grantflow_host (an application that authenticates its
    users itself). Harmless to repeat. Then make each person's login a member of one, and map
    it to their actor (`grantflow actor add NAME --role R --login LOGIN`).

    \b
    Example:
      grantflow --db postgresql://owner@db/grants db roles
      psql -c 'CREATE ROLE "a.berger" LOGIN; GRANT grantflow_staff TO "a.berger";'
    """
    env = env_of(ctx)
    done = env.app().create_db_roles()
    if env.json:
        env.out.json({"statements": done})
    else:
        env.out.line(
            "group roles ready: grantflow_admin, grantflow_staff, grantflow_auditor, "
            f"grantflow_host ({len(done)} statements)"
        )


def register(group: click.Group) -> None:
    group.add_command(db)
    group.add_command(init)
    group.add_command(actor)
    group.add_command(program)
