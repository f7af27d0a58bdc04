"""Issue 12: who acted is bound to a login, and the log says how it was established.

PostgreSQL: every person has their own database login, a member of one of the groups
``grantflow db roles`` makes; grantflow takes the actor from ``session_user``, refuses
``--actor`` naming someone else, and a trigger refuses any record (even raw SQL) whose actor
is not the login's. SQLite: the actor is the operating-system login, and declared identities
only in a database created for them. Each test performs the attack and asserts the outcome.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from grantflow.domain.model import Assurance
from grantflow.errors import NotFound, Refused
from grantflow.services import Grantflow, Identity
from grantflow.services import app as service
from grantflow_cli.main import cli
from tests.services.helpers import (
    DMR,
    PEOPLE,
    approve,
    dmr_proposal,
    set_up,
)

GROUPS = {"ada": "grantflow_admin", "audrey": "grantflow_auditor"}


@pytest.fixture
def people(
    pg_admin: sa.Engine, make_pg_database: Callable[[], str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """(owner URL, person -> URL of their own login): a fresh database set up by its owner,
    the groups of ``grantflow db roles``, and a login per person (plus ``mallory``, a staff
    login no actor is mapped to)."""
    owner_url = make_pg_database()
    suffix = secrets.token_hex(3)
    names = ["ada", *PEOPLE, "mallory"]
    logins = {name: f"gf_{name}_{suffix}" for name in names}
    with Grantflow.open(owner_url, create=True) as owner:  # the installer: host identity
        owner.init("ada", login=logins["ada"])
        for name, roles in PEOPLE.items():
            owner.add_actor(name, roles, by="ada", login=logins[name])
        owner.load_program(DMR, by="ada")
        owner.create_db_roles()
    database = make_url(owner_url).database
    with pg_admin.connect() as conn:
        for name, login in logins.items():
            conn.execute(sa.text(f"CREATE ROLE {login} LOGIN"))
            conn.execute(sa.text(f"GRANT {GROUPS.get(name, 'grantflow_staff')} TO {login}"))
            conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {login}'))
    urls = {
        name: make_url(owner_url).set(username=login).render_as_string(hide_password=False)
        for name, login in logins.items()
    }
    try:
        yield owner_url, urls
    finally:
        engine = sa.create_engine(owner_url)
        try:
            with engine.begin() as conn:
                for login in logins.values():
                    conn.execute(sa.text(f"DROP OWNED BY {login}"))
        finally:
            engine.dispose()
        with pg_admin.connect() as conn:
            for login in logins.values():
                conn.execute(sa.text(f"DROP ROLE IF EXISTS {login}"))


def as_login(url: str) -> Grantflow:
    return Grantflow.open(url, identity=Identity.LOGIN)


@pytest.mark.postgres
def test_a_login_acts_as_its_own_actor_and_no_one_else(
    people: tuple[str, dict[str, str]],
) -> None:
    _, urls = people
    with as_login(urls["clara"]) as gf:
        g = gf.propose(dmr_proposal())
        entry = next(iter(gf.log(grant_id=g.id)))
        assert (entry.actor, entry.actor_auth) == ("clara", "database-login")
        assert gf.whoami() == (gf.actor("clara"), Assurance.DATABASE_LOGIN)
        with pytest.raises(
            Refused,
            match=r"you are logged in as gf_clara_\w+ \(clara\); you "
            "cannot act as anton",
        ):
            gf.propose(dmr_proposal(), actor="anton")
    with as_login(urls["anton"]) as gf:
        gf.act(g.id, approve())
    with as_login(urls["mallory"]) as gf, pytest.raises(Refused, match="not mapped"):
        gf.propose(dmr_proposal())


@pytest.mark.postgres
def test_the_cli_refuses_an_actor_other_than_the_login(
    people: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, urls = people
    monkeypatch.delenv("GRANTFLOW_ACTOR", raising=False)
    r = CliRunner().invoke(cli, ["--db", urls["clara"], "--actor", "anton", "approve", "X"])
    assert r.exit_code in (1, 2)
    r = CliRunner().invoke(
        cli,
        ["--db", urls["clara"], "--actor", "anton", "actor", "add", "eve", "--role", "admin"],
    )
    assert r.exit_code == 1 and "you are logged in as" in r.output and "Traceback" not in r.output


def _raw_record(conn: sa.Connection, actor: str, auth: str | None) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO refused_attempts (id, recorded_at, actor, event, business_date, reason,"
            " code, message, rule_ids, verdicts, data, prev_hash, hash, actor_auth) VALUES "
            "(999, now(), :a, 'approve', '2021-01-01', 'x', 'refused', 'x', '[]', '[]', '{}', "
            "'0', '0', :auth)"
        ),
        {"a": actor, "auth": auth},
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("actor", "auth", "words"),
    [
        ("anton", "database-login", "is not the actor anton"),
        ("anton", "host-application", "may not vouch for anton"),
        ("anton", "declared", "not declared"),
        ("anton", None, "not nothing"),
        ("clara", "os-login", "not os-login"),
    ],
)
def test_a_raw_insert_cannot_impersonate(
    people: tuple[str, dict[str, str]], actor: str, auth: str | None, words: str
) -> None:
    """clara's login writes a record with raw SQL, naming anton or claiming another way of
    being established: the identity trigger refuses each."""
    _, urls = people
    engine = sa.create_engine(urls["clara"])
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as err:
            _raw_record(conn, actor, auth)
        assert words in str(err.value)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_staff_cannot_change_actors_and_auditors_write_nothing(
    people: tuple[str, dict[str, str]],
) -> None:
    _, urls = people
    clara = sa.create_engine(urls["clara"])
    audrey = sa.create_engine(urls["audrey"])
    try:
        for engine, statement in (
            (clara, "UPDATE actors SET roles = '[\"admin\"]'::jsonb WHERE name = 'clara'"),
            (
                clara,
                "INSERT INTO admin_events (id, recorded_at, actor_auth, action, data, "
                "prev_hash, hash) VALUES (99, now(), 'database-login', 'roles', '{}', "
                "'0', '0')",
            ),
            (clara, "UPDATE program_versions SET content_hash = 'x'"),
            (audrey, "UPDATE grants SET state = 'closed'"),
            (audrey, "INSERT INTO grant_numbers VALUES ('x', 2020, 1)"),
        ):
            with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as err:
                conn.execute(sa.text(statement))
            assert "permission denied" in str(err.value), statement
    finally:
        clara.dispose()
        audrey.dispose()
    with as_login(urls["clara"]) as gf, pytest.raises(Refused, match="needs the admin role"):
        gf.set_roles("clara", ["admin"])
    with as_login(urls["audrey"]) as gf:
        assert gf.verify().intact  # auditors read everything
        with pytest.raises(Refused, match="the database refused this for your login"):
            gf.digest()  # … and write nothing (on PostgreSQL an admin writes checkpoints)


@pytest.mark.postgres
def test_an_admin_changes_roles_in_the_administrative_log(
    people: tuple[str, dict[str, str]],
) -> None:
    _, urls = people
    with as_login(urls["ada"]) as gf:
        gf.set_roles("clara", ["clerk", "finance"])
        last = list(gf.actor_history("clara"))[-1]
        assert (last.actor, last.actor_auth, last.action) == ("ada", "database-login", "roles")
        gf.digest()
        assert gf.verify().intact


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_declared_actors_are_refused_on_postgresql(db_url: str) -> None:
    with Grantflow.open(db_url) as gf, pytest.raises(Refused, match="only in SQLite"):
        gf.init("ada", declared_actors=True)
    with Grantflow.open(db_url) as gf:
        set_up(gf)
    with (
        Grantflow.open(db_url, identity=Identity.DECLARED) as gf,
        pytest.raises(Refused, match="does not take them"),
    ):
        gf.propose(dmr_proposal(), actor="clara")


# -- SQLite: the operating-system login --------------------------------------------------------


def _as_os_user(monkeypatch: pytest.MonkeyPatch, login: str) -> None:
    monkeypatch.setattr(service, "os_login", lambda: login)


def test_on_sqlite_the_os_login_is_the_actor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "office.sqlite"
    _as_os_user(monkeypatch, "a.lovelace")
    with Grantflow.open(db, create=True, identity=Identity.LOGIN) as gf:
        gf.init("ada")  # the first admin acts through the login that ran init
        gf.add_actor("clara", ["clerk"], login="c.schumann")
        gf.add_actor("anton", ["approver"])
        gf.load_program(DMR)
    _as_os_user(monkeypatch, "c.schumann")
    with Grantflow.open(db, identity=Identity.LOGIN) as gf:
        g = gf.propose(dmr_proposal())
        entry = next(iter(gf.log(grant_id=g.id)))
        assert (entry.actor, entry.actor_auth) == ("clara", "os-login")
        with pytest.raises(
            Refused,
            match=r"logged in as c\.schumann \(clara\); you cannot "
            "act as anton .*--declared-actors",
        ):
            gf.act(g.id, approve(), actor="anton")
        with pytest.raises(Refused, match="needs the admin role"):
            gf.add_actor("eve", ["admin"])
    _as_os_user(monkeypatch, "nobody")
    with (
        Grantflow.open(db, identity=Identity.LOGIN) as gf,
        pytest.raises(Refused, match="login nobody is not mapped"),
    ):
        gf.propose(dmr_proposal(), actor="clara")
    with Grantflow.open(db) as gf:
        assert gf.verify().intact


def test_the_cli_refuses_another_name_without_declared_actors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "cli.sqlite")
    _as_os_user(monkeypatch, "a.lovelace")
    monkeypatch.delenv("GRANTFLOW_ACTOR", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init", "--admin", "ada"]).exit_code == 0
    r = runner.invoke(cli, ["--db", db, "actor", "add", "clara", "--role", "clerk"])
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("GRANTFLOW_ACTOR", "clara")  # the environment names someone else
    r = runner.invoke(cli, ["--db", db, "actor", "add", "eve", "--role", "admin"])
    assert (
        r.exit_code == 1
        and "you are logged in as a.lovelace (ada); you cannot act as clara" in r.output
    )


def test_declared_identities_are_recorded_as_declared(tmp_path: Path) -> None:
    with Grantflow.open(tmp_path / "t.sqlite", create=True, identity=Identity.DECLARED) as gf:
        set_up(gf)
        g = gf.propose(dmr_proposal(), actor="clara")
        gf.act(g.id, approve(), actor="anton")
        auths = {e.actor_auth for e in gf.log()}
        assert auths == {"declared"}
        assert gf.verify().intact
    with Grantflow.open(tmp_path / "u.sqlite", create=True) as gf:
        set_up(gf)  # no declared actors: the host application vouches
    with (
        Grantflow.open(tmp_path / "u.sqlite", identity=Identity.DECLARED) as gf,
        pytest.raises(Refused, match="does not take them"),
    ):
        gf.propose(dmr_proposal(), actor="clara")


def test_a_deactivated_actor_can_no_longer_act(app: Grantflow, tmp_path: Path) -> None:
    set_up(app, tmp_path)
    app.deactivate("clara", by="ada")
    with pytest.raises(Refused, match="clara was deactivated"):
        app.propose(dmr_proposal(), actor="clara")
    assert "clara" not in {a.name for a in app.actors()}
    with pytest.raises(NotFound):
        app.deactivate("nobody", by="ada")
    actions = [(e.action, e.subject) for e in app.actor_history("clara")]
    assert actions == [("add", "clara"), ("deactivate", "clara")]
    assert app.verify().intact


def test_verify_finds_an_actor_reactivated_behind_grantflows_back(
    app: Grantflow, tmp_path: Path
) -> None:
    set_up(app, tmp_path)
    app.deactivate("clara", by="ada")
    assert app.engine is not None
    with app.engine.begin() as conn:
        conn.execute(sa.text("UPDATE actors SET active = true WHERE name = 'clara'"))
    report = app.verify()
    assert not report.intact
    assert any("actor clara" in str(p) and "changed outside" in str(p) for p in report.problems)


def test_the_os_login_cannot_be_set_with_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``getpass.getuser`` believes LOGNAME and USER; grantflow asks the system for the name
    of the process's user id. Setting LOGNAME to carla's login does not make you carla."""
    import os
    import pwd

    real = pwd.getpwuid(os.geteuid()).pw_name
    db = str(tmp_path / "env.sqlite")
    monkeypatch.delenv("GRANTFLOW_ACTOR", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init", "--admin", "ada"]).exit_code == 0
    r = runner.invoke(
        cli, ["--db", db, "actor", "add", "carla", "--role", "admin", "--login", "cmueller"]
    )
    assert r.exit_code == 0, r.output
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "cmueller")
    assert service.os_login() == real
    r = runner.invoke(cli, ["--db", db, "--actor", "carla", "actor", "deactivate", "ada"])
    assert r.exit_code == 1 and f"you are logged in as {real} (ada)" in r.output
