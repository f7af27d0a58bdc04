"""The PostgreSQL group roles grantflow's people act through, with exactly the rights each needs.

``grantflow db roles`` (:meth:`grantflow.services.Grantflow.create_db_roles`) creates them if
they are missing and grants them their rights on this database's grantflow tables; running it
again changes nothing. A person's own login is then made a member of one group::

    CREATE ROLE "a.berger" LOGIN;          -- the database administrator, once per person
    GRANT grantflow_staff TO "a.berger";

================  ==========================================================================
group             rights
================  ==========================================================================
grantflow_admin   read everything; add and change actors (``actors``, ``admin_events``), load
                  guideline versions, write audit checkpoints, rebuild the budget days. No
                  step on a grant (GF-ADMIN-NO-STEPS refuses one anyway).
grantflow_staff   read everything; take steps on grants: the grant rows, the log, the money
                  rows, the budget days, refused attempts. Cannot change actors or
                  guidelines, and nobody can change or delete a log record (triggers).
grantflow_auditor read everything, write nothing.
grantflow_host    an application that authenticates its users itself and embeds grantflow
                  (``Identity.HOST``): the rights of admin and staff together; its records say
                  ``host-application``.
================  ==========================================================================

Which actor a login may record is enforced by the identity trigger of migration ``0006``, not
by these rights: a staff login can only write records naming the actor mapped to it.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from grantflow.store.models import TABLES, Models

GROUPS = ("grantflow_admin", "grantflow_staff", "grantflow_auditor", "grantflow_host")

_STAFF_WRITES = {
    "grants": "INSERT, UPDATE",
    "grant_numbers": "INSERT, UPDATE",
    "transitions": "INSERT",
    "notices": "INSERT",
    "disbursements": "INSERT",
    "refused_attempts": "INSERT",
    "budget_days": "INSERT, UPDATE",
}
_ADMIN_WRITES = {
    "actors": "INSERT, UPDATE",
    "admin_events": "INSERT",
    "programs": "INSERT, UPDATE",
    "program_versions": "INSERT",
    "audit_checkpoints": "INSERT",
    "budget_days": "INSERT, UPDATE, DELETE",
}
_SEQUENCED = ("transitions", "notices", "disbursements", "refused_attempts")


def statements(models: Models) -> list[str]:
    """The SQL that creates the group roles (if missing) and grants their rights."""
    quote = '"{}"'.format
    schema = models.schema or "public"

    def table(name: str, *, prefixed: bool = True) -> str:
        full = quote(models.prefix + name if prefixed else name)
        return f"{quote(models.schema)}.{full}" if models.schema else full

    out = [
        "DO $$ BEGIN\n"
        + "".join(
            f"    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{g}') THEN "
            f"CREATE ROLE {g} NOLOGIN; END IF;\n"
            for g in GROUPS
        )
        + "END $$"
    ]
    everyone = ", ".join(GROUPS)
    out.append(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {everyone}")
    tables = [table(t) for t in TABLES] + [table(models.version_table, prefixed=False)]
    out.append(f"GRANT SELECT ON {', '.join(tables)} TO {everyone}")
    for group, writes in (
        ("grantflow_staff", _STAFF_WRITES),
        ("grantflow_admin", _ADMIN_WRITES),
        ("grantflow_host", _STAFF_WRITES),
        ("grantflow_host", _ADMIN_WRITES),
    ):
        for name, rights in writes.items():
            out.append(f"GRANT {rights} ON {table(name)} TO {group}")
    for name in _SEQUENCED:
        qualified = table(name).replace("'", "''")
        out.append(
            "DO $$ BEGIN EXECUTE 'GRANT USAGE ON SEQUENCE ' || "
            f"pg_get_serial_sequence('{qualified}', 'id') || "
            "' TO grantflow_staff, grantflow_host'; END $$"
        )
    return out


def create(conn: Connection, models: Models) -> list[str]:
    """Run :func:`statements` on ``conn`` (PostgreSQL); returns them."""
    done = statements(models)
    for sql in done:
        conn.exec_driver_sql(sql)
    return done


__all__ = ["GROUPS", "create", "statements"]
