"""Setting up: ``init``, ``actor add|list``, ``program load|list|show``."""

from __future__ import annotations

import click

from grantflow.domain.model import Role
from grantflow.domain.rules import Rule
from grantflow.guidelines.loader import BUILTIN, builtin_path

from ..main_support import env_of
from ..output import amount_json, day, eur


@click.command()
@click.option("--admin", "admin", metavar="NAME", help="Create this first admin actor.")
@click.pass_context
def init(ctx: click.Context, admin: str | None) -> None:
    """Create or upgrade the database; optionally its first admin.

    Running it again is harmless.

    \b
    Example:
      grantflow --db grants.sqlite init --admin ada
    """
    env = env_of(ctx)
    app = env.app(create=True)
    app.init(admin)
    if env.json:
        env.out.json({"database": app.url, "admin": admin})
    else:
        env.out.line(f"database ready: {app.url}")
        if admin:
            env.out.line(f"admin actor: {admin}")


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
@click.pass_context
def actor_add(ctx: click.Context, name: str, roles: tuple[str, ...]) -> None:
    """Add an actor with roles (admins only).

    \b
    Example:
      grantflow --actor ada actor add carla --role clerk
      grantflow --actor ada actor add anton --role approver
    """
    env = env_of(ctx)
    added = env.app().add_actor(name, [Role(r) for r in roles], by=env.actor)
    if env.json:
        env.out.json({"name": added.name, "roles": sorted(added.roles)})
    else:
        env.out.line(f"actor {added.name}: {', '.join(sorted(added.roles))}")


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
    actors = env.app().actors()
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
@click.argument("name", type=click.Choice(list(BUILTIN)))
def program_export(name: str) -> None:
    """Print a packaged guideline file, to copy and adapt it.

    \b
    Example:
      grantflow program export nrw-digitale-modellregionen > my-program.toml
    """
    click.echo(builtin_path(name).read_text(encoding="utf-8"), nl=False)


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
                    "budget": amount_json(p.latest.budget),
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
                        "budget": amount_json(v.budget),
                        "funds_until": v.funds_until.isoformat(),
                        "regions": [
                            {"id": r.id, "lead": r.lead, "envelope": amount_json(r.envelope)}
                            for r in v.regions
                        ],
                        "calls": [
                            {
                                "id": c.id,
                                "opens": c.opens.isoformat(),
                                "closes": c.closes.isoformat(),
                                "budget": amount_json(c.budget),
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


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(actor)
    group.add_command(program)
