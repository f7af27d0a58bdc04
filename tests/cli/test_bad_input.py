"""The bad-input matrix (issue 13): every command and the guideline loader, on SQLite and
PostgreSQL, with values outside grantflow's limits (grantflow.limits), malformed values,
implausible ones and broken databases.

Each case asserts the exit code (2 bad input, 3 a database that is not sound, 1 a plausibility
rule refused), that stderr is one sentence without SQL or a traceback, and that the database
is unchanged, every table (refused attempts aside for exit 1). The cases run in groups, one
prepared database per group and backend, so that ~180 cases stay fast; a failing group lists
every case that failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.cli.conftest import MPSC, NRW, NRW_ATTEST, Run, propose_nrw

Case = tuple[str, tuple[str, ...], int, str]
"""(label, argv after the global options, exit code, the actor who runs it)."""

SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET|WHERE)\b|\[SQL:|\[parameters:",
    re.IGNORECASE | re.DOTALL,
)

LONG_NAME = "N" * 201
LONG_ID = "i" * 101
LONG_TITLE = "T" * 1001
LONG_TEXT = "r" * 10_001
ESC = "a\x1b[2Jb"
NUL = "a\x00b"
BIDI = "a\u202eb"
AR = "\u0661\u0662\u0663"  # ١٢٣
AR_DATE = "\u0662\u0660\u0661\u0669-\u0660\u0663-\u0660\u0661"  # ٢٠١٩-٠٣-٠١
FULLWIDTH = "\uff11\uff10\uff10"  # １００

BAD_AMOUNTS = [
    ("19 digits", "1234567890123456789"),
    ("30 digits", "123456789012345678901234567890"),
    ("just above the largest", "100000000000"),
    ("Arabic-Indic digits", AR),
    ("full-width digits", FULLWIDTH),
    ("negative", "-5"),
    ("three decimals", "1.234,567"),
    ("ambiguous", "800.000"),
    ("words", "lots"),
    ("exponent", "1e9"),
    ("NaN", "NaN"),
    ("control character", "12\x0034"),
]
BAD_DATES = [
    ("9999-12-31", "9999-12-31"),
    ("before 1970", "1969-12-31"),
    ("after 2099", "2100-01-01"),
    ("Arabic-Indic digits", AR_DATE),
    ("not in the calendar", "2021-02-30"),
    ("words", "tomorrow"),
    ("year zero", "0000-01-01"),
]
BAD_NAMES = [
    ("201 characters", LONG_NAME),
    ("ESC", ESC),
    ("NUL", NUL),
    ("bidi override", BIDI),
    ("line break", "a\nb"),
    ("empty", ""),
]
BAD_IDS = [
    ("101 characters", LONG_ID),
    ("NUL", NUL),
    ("ESC", ESC),
    ("tab", "a\tb"),
]


def _propose_args(**changes: str) -> tuple[str, ...]:
    values = {
        "--program": NRW,
        "--applicant": "stadt aachen",
        "--region": "aachen",
        "--focus": "e-government",
        "--title": "GovChain",
        "--costs": "1000000",
        "--requested": "800000",
        "--private": "200000",
        "--start": "2019-06-01",
        "--end": "2021-06-30",
        "--date": "2019-03-01",
    }
    values.update(changes)
    args: list[str] = ["propose"]
    for key, value in values.items():
        args += [key, value]
    for a in NRW_ATTEST:
        args += ["--attest", a]
    return tuple(args)


def propose_cases() -> list[Case]:
    cases: list[Case] = []
    for option in ("--costs", "--requested", "--private", "--own"):
        for label, value in BAD_AMOUNTS:
            cases.append(
                (f"propose {option} {label}", _propose_args(**{option: value}), 2, "carla")
            )
    for option in ("--start", "--end", "--date"):
        for label, value in BAD_DATES:
            cases.append(
                (f"propose {option} {label}", _propose_args(**{option: value}), 2, "carla")
            )
    for option in ("--applicant",):
        for label, value in BAD_NAMES:
            cases.append(
                (f"propose {option} {label}", _propose_args(**{option: value}), 2, "carla")
            )
    for option in ("--program", "--region", "--focus"):
        for label, value in BAD_IDS:
            cases.append(
                (f"propose {option} {label}", _propose_args(**{option: value}), 2, "carla")
            )
    cases += [
        ("propose --title 1001 characters", _propose_args(**{"--title": LONG_TITLE}), 2, "carla"),
        ("propose --title ESC", _propose_args(**{"--title": ESC}), 2, "carla"),
        ("propose --title NUL", _propose_args(**{"--title": NUL}), 2, "carla"),
        ("propose --title line break", _propose_args(**{"--title": "a\r\nb"}), 2, "carla"),
        (
            "propose --member 201 characters",
            (*_propose_args(), "--member", LONG_NAME),
            2,
            "carla",
        ),
        (
            "propose --reason 10,001 characters",
            (*_propose_args(), "--reason", LONG_TEXT),
            2,
            "carla",
        ),
        ("propose --reason NUL", (*_propose_args(), "--reason", NUL), 2, "carla"),
        ("propose --attest 101 characters", (*_propose_args(), "--attest", LONG_ID), 2, "carla"),
        ("propose --attest ESC", (*_propose_args(), "--attest", ESC), 2, "carla"),
        # plausibility: refused by a core rule (exit 1), recorded as a refused attempt
        (
            "propose dated after its own planned end",
            _propose_args(**{"--date": "2021-07-01", "--start": "2019-06-01"}),
            1,
            "carla",
        ),
        (
            "propose with funds larger than the costs",
            _propose_args(**{"--private": "700000", "--own": "400000"}),
            1,
            "carla",
        ),
        (
            "propose dated two years ahead",
            _propose_args(
                **{"--date": "2098-03-01", "--start": "2098-06-01", "--end": "2099-06-30"}
            ),
            1,
            "carla",
        ),
    ]
    return cases


def event_cases(gid: str) -> list[Case]:
    cases: list[Case] = []
    events: list[tuple[str, tuple[str, ...], str]] = [
        ("approve", ("--notice", "N-1", "--amount", "800000"), "anton"),
        ("reject", ("--reason", "no"), "anton"),
        ("withdraw", ("--reason", "letter"), "carla"),
        ("start", (), "carla"),
        ("disburse", ("--amount", "1000"), "fiona"),
        ("extend", ("--until", "2022-06-30", "--notice", "A-1"), "anton"),
        ("amend", ("--amount", "700000", "--notice", "A-2"), "anton"),
        ("close", ("--final-costs", "900000"), "anton"),
        ("revoke", ("--notice", "W-1", "--reason", "r"), "anton"),
        ("submit", ("--document", "interim-proof"), "carla"),
        ("repay", ("--amount", "10"), "fiona"),
    ]
    for event, extra, actor in events:
        base = (event, gid, *extra)
        cases += [
            (f"{event} --date 9999-12-31", (*base, "--date", "9999-12-31"), 2, actor),
            (f"{event} --date Arabic", (*base, "--date", AR_DATE), 2, actor),
            (f"{event} --reason NUL", (*base, "--date", "2019-04-01", "--reason", NUL), 2, actor),
            (
                f"{event} --attest 101",
                (*base, "--date", "2019-04-01", "--attest", LONG_ID),
                2,
                actor,
            ),
            (f"{event} ID with NUL", (event, NUL, *extra, "--date", "2019-04-01"), 2, actor),
        ]
    for event, option in (
        ("approve", "--amount"),
        ("disburse", "--amount"),
        ("amend", "--amount"),
        ("close", "--final-costs"),
        ("close", "--other-funds"),
        ("repay", "--amount"),
        ("submit", "--amount"),
    ):
        extra = next(e for name, e, _ in events if name == event)
        actor = next(a for name, _, a in events if name == event)
        for label, value in BAD_AMOUNTS[:5]:
            args = [event, gid, *extra, "--date", "2019-04-01"]
            if option in args:
                args[args.index(option) + 1] = value
            else:
                args += [option, value]
            cases.append((f"{event} {option} {label}", tuple(args), 2, actor))
    cases += [
        ("approve --notice 201", ("approve", gid, "--notice", LONG_NAME, "--date", "2019-04-01"), 2, "anton"),
        ("approve --notice ESC", ("approve", gid, "--notice", ESC, "--date", "2019-04-01"), 2, "anton"),
        ("approve --end 9999", ("approve", gid, "--notice", "N", "--end", "9999-12-31", "--date", "2019-04-01"), 2, "anton"),
        ("approve --binding-years 101", ("approve", gid, "--notice", "N", "--binding-years", "101", "--date", "2019-04-01"), 2, "anton"),
        ("approve --binding-years Arabic", ("approve", gid, "--notice", "N", "--binding-years", "\u0665", "--date", "2019-04-01"), 2, "anton"),
        ("approve --binding-years 40 digits", ("approve", gid, "--notice", "N", "--binding-years", "9" * 40, "--date", "2019-04-01"), 2, "anton"),
        ("approve --override 101", ("approve", gid, "--notice", "N", "--override", LONG_ID, "--justification", "j", "--date", "2019-04-01"), 2, "anton"),
        ("approve --justification NUL", ("approve", gid, "--notice", "N", "--override", "R-X", "--justification", NUL, "--date", "2019-04-01"), 2, "anton"),
        ("extend --until 9999", ("extend", gid, "--notice", "A", "--until", "9999-12-31", "--date", "2019-04-01"), 2, "anton"),
        ("extend --requested-on Arabic", ("extend", gid, "--notice", "A", "--until", "2022-01-01", "--requested-on", AR_DATE, "--date", "2019-04-01"), 2, "anton"),
        ("disburse --needed-by 9999", ("disburse", gid, "--amount", "10", "--needed-by", "9999-12-31", "--date", "2019-04-01"), 2, "fiona"),
        ("close --proof-date 1900", ("close", gid, "--final-costs", "10", "--proof-date", "1900-01-01", "--date", "2019-04-01"), 2, "anton"),
        ("revoke --effective-from 9999", ("revoke", gid, "--notice", "W", "--reason", "r", "--effective-from", "9999-12-31", "--date", "2019-04-01"), 2, "anton"),
        ("revoke --known-since Arabic", ("revoke", gid, "--notice", "W", "--reason", "r", "--known-since", AR_DATE, "--date", "2019-04-01"), 2, "anton"),
        ("submit --year 99999", ("submit", gid, "--document", "interim-proof", "--year", "99999", "--date", "2019-04-01"), 2, "carla"),
        ("submit --year Arabic", ("submit", gid, "--document", "interim-proof", "--year", "\u0662\u0660\u0661\u0669", "--date", "2019-04-01"), 2, "carla"),
        ("submit --year 1969", ("submit", gid, "--document", "interim-proof", "--year", "1969", "--date", "2019-04-01"), 2, "carla"),
        ("check approve --amount 30 digits", ("check", gid, "approve", "--notice", "N", "--amount", "9" * 30, "--date", "2019-04-01"), 2, "anton"),
        ("check approve --date 9999", ("check", gid, "approve", "--notice", "N", "--date", "9999-12-31"), 2, "anton"),
        ("check ID 101", ("check", LONG_ID, "approve", "--notice", "N", "--date", "2019-04-01"), 2, "anton"),
        # plausibility: a notice dated far ahead of today
        ("approve dated in 2098", ("approve", gid, "--notice", "N", "--date", "2098-01-01", "--attest", "remedy-waiver"), 1, "anton"),
    ]  # fmt: skip
    return cases


def read_cases(gid: str) -> list[Case]:
    cases: list[Case] = [
        ("show ID NUL", ("show", NUL), 2, "ada"),
        ("show ID 101", ("show", LONG_ID), 2, "ada"),
        ("show --as-of 9999", ("show", gid, "--as-of", "9999-12-31"), 2, "ada"),
        ("show --as-of Arabic", ("show", gid, "--as-of", AR_DATE), 2, "ada"),
        ("list --program NUL", ("list", "--program", NUL), 2, "ada"),
        ("list --program 101", ("list", "--program", LONG_ID), 2, "ada"),
        ("list --region ESC", ("list", "--region", ESC), 2, "ada"),
        ("money ID NUL", ("money", NUL), 2, "ada"),
        ("money --as-of 9999", ("money", gid, "--as-of", "9999-12-31"), 2, "ada"),
        ("money --as-of 1969", ("money", gid, "--as-of", "1969-12-31"), 2, "ada"),
        ("due --as-of 9999", ("due", "--as-of", "9999-12-31"), 2, "ada"),
        ("due --within 40 digits", ("due", "--within", "9" * 40), 2, "ada"),
        ("due --within Arabic", ("due", "--within", AR), 2, "ada"),
        ("due --within 100 years and a day", ("due", "--within", "36501"), 2, "ada"),
        ("due --program NUL", ("due", "--program", NUL), 2, "ada"),
        ("report budget --as-of 9999", ("report", "budget", "--program", NRW, "--as-of", "9999-12-31"), 2, "ada"),
        ("report budget --program NUL", ("report", "budget", "--program", NUL), 2, "ada"),
        ("report budget --program 101", ("report", "budget", "--program", LONG_ID), 2, "ada"),
        ("log ID NUL", ("log", NUL), 2, "ada"),
        ("log --since 9999", ("log", "--since", "9999-12-31"), 2, "ada"),
        ("log --until Arabic", ("log", "--until", AR_DATE), 2, "ada"),
        ("log --actor ESC", ("log", "--actor", ESC), 2, "ada"),
        ("log --actor 201", ("log", "--actor", LONG_NAME), 2, "ada"),
        ("log --program NUL", ("log", "--program", NUL), 2, "ada"),
        ("log --recorded-since 9999", ("log", "--recorded-since", "9999-12-31T10:00"), 2, "ada"),
        ("log --recorded-until Arabic", ("log", "--recorded-until", AR_DATE + "T10:00"), 2, "ada"),
        ("log --recorded-since 41 characters", ("log", "--recorded-since", "2" * 41), 2, "ada"),
        ("audit budget-days --program NUL", ("audit", "budget-days", "--program", NUL), 2, "ada"),
        ("program show NUL", ("program", "show", NUL), 2, "ada"),
        ("program show 101", ("program", "show", LONG_ID), 2, "ada"),
    ]  # fmt: skip
    return cases


def admin_cases(tmp: Path) -> list[Case]:
    cases: list[Case] = []
    for label, value in BAD_NAMES:
        cases.append((f"actor add {label}", ("actor", "add", value, "--role", "clerk"), 2, "ada"))
        cases.append(
            (f"actor roles {label}", ("actor", "roles", value, "--role", "clerk"), 2, "ada")
        )
    cases += [
        ("init --admin 201", ("init", "--admin", LONG_NAME), 2, "ada"),
        ("init --admin NUL", ("init", "--admin", NUL), 2, "ada"),
        ("--actor 201", ("actor", "list"), 2, LONG_NAME),
        ("--actor NUL", ("actor", "list"), 2, NUL),
        ("--actor ESC", ("actor", "list"), 2, ESC),
        ("program load path with NUL", ("program", "load", "x\x00.toml"), 2, "ada"),
        ("program load path of 4097 characters", ("program", "load", "p" * 4097), 2, "ada"),
    ]
    cases += [
        (f"program load {label}", ("program", "load", str(path)), 2, "ada")
        for label, path in guideline_files(tmp)
    ]
    return cases


def guideline_files(tmp: Path) -> Iterator[tuple[str, Path]]:
    """Guideline files, each with one thing wrong, made from the packaged NRW file."""
    from grantflow.guidelines.loader import builtin_path

    base = builtin_path(NRW).read_text(encoding="utf-8")
    assert 'budget = "91000000.00"' in base and "effective_from = 2018-07-03" in base
    variants = {
        "40-digit budget": base.replace('budget = "91000000.00"', f'budget = "{"9" * 40}"', 1),
        "18-digit integer budget": base.replace(
            'budget = "91000000.00"', f"budget = {'9' * 18}", 1
        ),
        "budget above the largest": base.replace(
            'budget = "91000000.00"', 'budget = "100000000000.00"', 1
        ),
        "Arabic-Indic budget": base.replace(
            'budget = "91000000.00"', 'budget = "\u0669\u0661\u0660\u0660\u0660"', 1
        ),
        "NUL in the name": base.replace(
            'name = "Digitale Modellregionen NRW"', 'name = "Digitale\\u0000Modellregionen"', 1
        ),
        "ESC in a title": base.replace('title = "', 'title = "\\u001b[2J', 1),
        "line break in the program name": base.replace(
            'name = "Digitale Modellregionen NRW"', 'name = "Digitale\\nModellregionen"', 1
        ),
        "3000 nested arrays": base + "\nx = " + "[" * 3000 + "]" * 3000 + "\n",
        "20 nested arrays": base + "\nx = " + "[" * 20 + "]" * 20 + "\n",
        "date 9999": base.replace("effective_from = 2018-07-03", "effective_from = 9999-07-03", 1),
        "date 0001": base.replace("effective_from = 2018-07-03", "effective_from = 0001-07-03", 1),
        "program id of 101 characters": base.replace(f'id = "{NRW}"', f'id = "{"x" * 101}"', 1),
        "program name of 201 characters": base.replace(
            'name = "Digitale Modellregionen NRW"', f'name = "{"n" * 201}"', 1
        ),
        "purpose binding of a million years": base.replace(
            "purpose_binding_years = 5", "purpose_binding_years = 1000000", 1
        ),
        "note of 10,001 characters": base.replace(
            'budget = "91000000.00"', f'budget = "91000000.00"\nnote_x = "{"n" * 10_001}"', 1
        ),
        "not TOML": "this is = = not toml",
        "not UTF-8": None,
        "more than 1 MB": base + "\n# " + "x" * 1_000_001 + "\n",
    }
    for label, text in variants.items():
        path = tmp / f"bad-{len(label)}-{abs(hash(label))}.toml"
        if text is None:
            path.write_bytes(b'schema = 1\nname = "\xff\xfe"\n')
        else:
            assert text != base, label
            path.write_text(text, encoding="utf-8")
        yield label, path


def database_cases(tmp: Path) -> list[tuple[str, str, int]]:
    """(label, --db value, exit code): databases that cannot be used."""
    text = tmp / "text.sqlite"
    text.write_text("hello, I am not a database\n", encoding="utf-8")
    corrupt = tmp / "corrupt.sqlite"
    from grantflow.store import create_engine, models_for, upgrade

    made = tmp / "made.sqlite"
    engine = create_engine(made)
    upgrade(engine, models_for())
    engine.dispose()
    raw = made.read_bytes()
    corrupt.write_bytes(raw[:4096] + bytes(range(256)) * 64)
    return [
        ("a text file", str(text), 3),
        ("a corrupted SQLite file", str(corrupt), 3),
        ("mysql://", "mysql://user@localhost/grants", 2),
        ("an unknown kind of URL", "foo://x/y", 2),
        ("sqlite with another driver", "sqlite+pysqlcipher:///x.db", 2),
        ("postgresql with psycopg2", "postgresql+psycopg2://u@h/d", 2),
        ("a path with NUL", "grants\x00.sqlite", 2),
        ("a path of 4,097 characters", "p" * 4097, 2),
        ("only spaces", "   ", 2),
    ]


# -- checking one case -------------------------------------------------------------------


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the database at ``url``."""
    from grantflow.store import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return {
                t: sorted(
                    (tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{t}"'))), key=repr
                )
                for t in names
            }
    finally:
        engine.dispose()


def problems_with(result: Result, code: int) -> list[str]:
    """What is wrong with how a bad input was answered (empty: nothing)."""
    found: list[str] = []
    err = result.stderr
    if result.exit_code != code:
        found.append(f"exit {result.exit_code}, expected {code}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        found.append(f"raised {type(result.exception).__name__}")
    if "Traceback" in err or "internal error" in err:
        found.append("a traceback or an internal error")
    if SQL.search(err) or "sqlalche.me" in err:
        found.append("SQL in the message")
    lines = [line for line in err.splitlines() if line.strip()]
    usage = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    if usage:  # a click usage error: "Usage: …", "Try '… --help' for help.", then the error
        lines = lines[usage[0] :]
    if code == 1:  # a refusal: one line naming the rules, one line per failing rule
        if not (lines and lines[0].startswith("refused:") and len(lines) >= 2):
            found.append(f"not a refusal: {err!r}")
    elif lines and lines[0].startswith("error: guideline ") and lines[0].endswith("not valid:"):
        if len(lines) < 2 or not all(line.startswith("  - ") for line in lines[1:]):
            found.append(f"a guideline error without its problems: {err!r}")
    elif len(lines) != 1 or not lines[0].lower().startswith("error: "):
        found.append(f"not one sentence: {err[:300]!r}")
    if any(len(line) > 600 for line in lines):
        found.append("a line of more than 600 characters")
    return found


def check_cases(run: Run, url: str, cases: list[Case]) -> None:
    before = dump(url)
    failures: list[str] = []
    for label, argv, code, actor in cases:
        result = run(*argv, actor=actor)
        found = problems_with(result, code)
        after = dump(url)
        if code == 1:  # refused attempts are recorded; nothing else changes
            changed = [t for t in after if t != "refused_attempts" and after[t] != before.get(t)]
            before = after
        else:
            changed = [t for t in after if after[t] != before.get(t)]
        if changed:
            found.append(f"changed {', '.join(changed)}")
        if found:
            failures.append(f"{label}: {'; '.join(found)} — stderr {result.stderr[:200]!r}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)


# -- the tests -------------------------------------------------------------------------------


@pytest.fixture
def db(db_url: str) -> str:
    """The CLI fixtures' database (tests/cli/conftest.py) on SQLite and on PostgreSQL."""
    return db_url


@pytest.fixture
def grant(setup: Run) -> str:
    """A proposed NRW grant to aim the event commands at."""
    result = propose_nrw(setup)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_propose(setup: Run, db: str) -> None:
    check_cases(setup, db, propose_cases())


def test_events(setup: Run, db: str, grant: str) -> None:
    check_cases(setup, db, event_cases(grant))


def test_reads(setup: Run, db: str, grant: str) -> None:
    check_cases(setup, db, read_cases(grant))


def test_admin_and_guideline_files(setup: Run, db: str, tmp_path: Path) -> None:
    check_cases(setup, db, admin_cases(tmp_path))


def test_databases(setup: Run, db: str, tmp_path: Path, run_with_db: Callable[..., Result]) -> None:
    before = dump(db)
    failures = []
    for label, location, code in database_cases(tmp_path):
        result = run_with_db(location, "list")
        found = problems_with(result, code)
        if found:
            failures.append(f"--db {label}: {'; '.join(found)}")
    assert dump(db) == before
    assert not failures, "\n".join(failures)


@pytest.fixture
def run_with_db(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    from click.testing import CliRunner

    from grantflow_cli.main import cli

    monkeypatch.delenv("GRANTFLOW_DB", raising=False)
    runner = CliRunner()

    def invoke(location: str, *args: str) -> Result:
        return runner.invoke(cli, ["--db", location, *args], catch_exceptions=True)

    return invoke


def test_the_matrix_has_at_least_150_cases(tmp_path: Path) -> None:
    n = (
        len(propose_cases())
        + len(event_cases("G"))
        + len(read_cases("G"))
        + len(admin_cases(tmp_path))
        + len(database_cases(tmp_path))
    )
    assert n >= 150, n


def test_mpsc_is_loaded_too(setup: Run) -> None:
    """The matrix's database holds both packaged programs (the CLI fixtures load them)."""
    result = setup("program", "list", json=True)
    assert {p["id"] for p in __import__("json").loads(result.stdout)} == {NRW, MPSC}
