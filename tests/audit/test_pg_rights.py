"""The PostgreSQL rights of ``docs/explanation/audit-chain.md``, run as written.

The page tells administrators to let the application connect as a role that does not own the
tables, and gives the ``GRANT``/``REVOKE`` statements for it. This test takes that SQL block
from the page, runs it for a fresh role, and shows both halves of its promise: connected as
that role every grantflow operation works (so the list of tables is complete), and the log
tables can be neither changed nor stripped of their triggers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from grantflow.errors import Refused
from grantflow.services import Grantflow
from tests.services.helpers import disburse, running_dmr_grant, set_up

pytestmark = pytest.mark.postgres

PAGE = Path(__file__).parents[2] / "docs" / "explanation" / "audit-chain.md"


def documented_rights_sql() -> str:
    """The page's SQL block that starts with the owner's comment."""
    blocks: list[str] = re.findall(r"```sql\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    found = [b for b in blocks if "GRANT" in b and "grantflow_app" in b and "CREATE" not in b]
    assert len(found) == 1, f"expected one GRANT block for grantflow_app in {PAGE.name}"
    return found[0]


@pytest.fixture
def app_role(pg_admin: sa.Engine, make_pg_database: Callable[[], str]) -> Iterator[tuple[str, str]]:
    """(owner URL, application URL): a fresh database owned by the server's user, with
    grantflow set up, and a fresh login role with the documented rights on it."""
    owner_url = make_pg_database()
    role = f"gf_app_{secrets.token_hex(4)}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    owner = sa.create_engine(owner_url)
    try:
        with owner.begin() as conn:
            database = make_url(owner_url).database
            conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
        url: URL = make_url(owner_url).set(username=role, password=None)
        yield owner_url, url.render_as_string(hide_password=False)
    finally:
        with owner.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
        owner.dispose()
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))


def test_the_application_role_of_the_docs_works_and_cannot_rewrite_the_log(
    app_role: tuple[str, str], tmp_path: Path
) -> None:
    owner_url, app_url = app_role
    role = make_url(app_url).username
    assert role is not None
    owner_app = Grantflow.open(owner_url, create=True)
    try:
        set_up(owner_app, tmp_path)
    finally:
        owner_app.close()
    with Grantflow.open(owner_url) as owner_app:
        owner_app.create_db_roles()  # `grantflow db roles`, as the page says
    owner = sa.create_engine(owner_url)
    try:
        with owner.begin() as conn:
            conn.execute(sa.text(documented_rights_sql().replace("grantflow_app", role)))
    finally:
        owner.dispose()

    gf = Grantflow.open(app_url)
    try:
        g = running_dmr_grant(gf)
        gf.act(g.id, disburse("1000.00"), actor="finn")
        with pytest.raises(Refused):
            gf.act(g.id, disburse("1000.00"), actor="clara")  # a refused attempt is logged
        sealed = gf.digest(by="audrey")
        report = gf.verify(sealed.digest)
        assert (report.intact, report.transitions, report.refused) == (True, 4, 1)
        assert gf.budget_report("nrw-digitale-modellregionen").grants == 1
        assert gf.due(within_days=3650)
        assert gf.grant(g.id).disbursed_amount == 1000
    finally:
        gf.close()

    attacker = sa.create_engine(app_url)
    try:
        for statement, words in (
            ("UPDATE transitions SET reason = 'x'", "permission denied"),
            ("DELETE FROM refused_attempts", "permission denied"),
            ("TRUNCATE audit_checkpoints", "permission denied"),
            ("UPDATE admin_events SET actor = 'x'", "permission denied"),
            ("DROP TRIGGER grantflow_append_only ON transitions", "must be owner"),
            ("DROP TRIGGER grantflow_actor_check ON transitions", "must be owner"),
        ):
            with attacker.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as err:
                conn.execute(sa.text(statement))
            assert words in str(err.value), statement
    finally:
        attacker.dispose()
