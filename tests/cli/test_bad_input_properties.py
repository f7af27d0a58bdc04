"""Property-based (hypothesis): arbitrary text and numbers fed to the CLI's parameter types, to
the CLI itself and to the guideline loader never end in an internal error (exit 70).

A parameter type either returns a value within grantflow.limits or refuses with click's
BadParameter; the loader either returns a program or raises GuidelineError; the CLI exits 0, 1
or 2. Few examples each, so the suite stays fast.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click
import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grantflow import limits
from grantflow.errors import GuidelineError
from grantflow.guidelines.loader import load_text, program_from_document
from grantflow_cli import params
from tests.cli.conftest import NRW, Run

FEW = settings(max_examples=150, deadline=None)

texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.from_regex(r"[0-9.,\- ]{0,25}(EUR|€)?", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}[-.][0-9]{1,2}[-.][0-9]{1,4}(T[0-9:]{0,8})?", fullmatch=True),
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet="0123456789\u0660\u0661\u0662\u06f3\u0966\uff11.,-", max_size=20),
)

TYPES: list[click.ParamType[Any]] = [
    params.AMOUNT,
    params.DATE,
    params.MOMENT,
    params.MOMENT_UNTIL,
    params.NAME,
    params.ID,
    params.TITLE,
    params.TEXT,
    params.LOCATION,
    params.YEAR,
    params.YEARS,
    params.DAYS,
    params.COUNT,
]


@FEW
@given(kind=st.sampled_from(TYPES), text=texts)
def test_parameter_types_accept_within_limits_or_refuse(
    kind: click.ParamType[Any], text: str
) -> None:
    try:
        value = kind.convert(text, None, None)
    except click.BadParameter as refused:
        message = refused.format_message()
        assert "\n" not in message
        return
    if isinstance(value, Decimal):
        assert limits.amount_problem(value) is None
        assert all("0" <= ch <= "9" for ch in text if ch.isdigit())
    elif isinstance(value, dt.datetime):
        assert value.tzinfo is not None
    elif isinstance(value, pendulum.Date):
        assert limits.date_problem(value) is None
        assert all("0" <= ch <= "9" for ch in text if ch.isdigit())
    elif isinstance(value, str):
        assert isinstance(kind, params.TextType)
        assert limits.text_problem(value, kind.kind) is None
    else:
        assert isinstance(value, int)
        assert isinstance(kind, params.WholeNumberType)
        assert kind.minimum <= value <= kind.maximum


toml_values = st.recursive(
    st.one_of(
        st.text(max_size=20),
        st.integers(),
        st.booleans(),
        st.dates(),
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@FEW
@given(text=st.text(max_size=300))
def test_loader_on_arbitrary_text(text: str) -> None:
    try:
        load_text(text, source="hypothesis")
    except GuidelineError as error:
        assert error.problems


def _nrw_document() -> dict[str, Any]:
    import tomllib

    from grantflow.guidelines.loader import builtin_path

    return tomllib.loads(builtin_path(NRW).read_text(encoding="utf-8"))


@FEW
@given(
    path=st.lists(
        st.sampled_from(["program", "versions", 0, "rules", 3, "params", "regions"]), max_size=3
    ),
    key=st.sampled_from(["id", "name", "budget", "title", "effective_from", "short", "x", "notes"]),
    value=toml_values,
)
def test_loader_on_a_changed_packaged_file(path: list[object], key: str, value: object) -> None:
    """The packaged NRW document with one value somewhere replaced by an arbitrary one."""
    doc = _nrw_document()
    node: Any = doc
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict):
        node[key] = value
    elif isinstance(node, list):
        node.append(value)
    try:
        program_from_document(doc, "hypothesis")
    except GuidelineError as error:
        assert error.problems


OPTIONS = [
    ("propose", "--costs"),
    ("propose", "--requested"),
    ("propose", "--private"),
    ("propose", "--start"),
    ("propose", "--date"),
    ("propose", "--title"),
    ("propose", "--applicant"),
    ("propose", "--region"),
    ("propose", "--reason"),
    ("due", "--within"),
    ("due", "--as-of"),
    ("log", "--recorded-since"),
    ("log", "--actor"),
    ("show", "ID"),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(option=st.sampled_from(OPTIONS), text=texts)
def test_the_cli_never_ends_in_an_internal_error(
    setup: Run, option: tuple[str, str], text: str
) -> None:
    command, name = option
    if command == "propose":
        values = {
            "--program": NRW,
            "--applicant": "stadt aachen",
            "--region": "aachen",
            "--focus": "e-government",
            "--title": "T",
            "--costs": "1000000",
            "--requested": "800000",
            "--private": "200000",
            "--start": "2019-06-01",
            "--end": "2021-06-30",
            "--date": "2019-03-01",
            "--reason": "",
        }
        values[name] = text
        argv = [command, *(x for kv in values.items() for x in kv), "--dry-run"]
    elif name == "ID":
        argv = [command, text]
    else:
        argv = [command, name, text]
    result: Any = setup(*argv, actor="carla")
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, result.stderr)
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
