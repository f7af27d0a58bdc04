"""The documentation keeps up with the code.

* ``docs/reference/cli.md`` has a section for every command of the ``grantflow`` CLI (found by
  walking the click group), and each section names every argument, option, choice and
  environment variable of its command.
* Every page in the ``nav`` of ``mkdocs.yml`` exists.
* The Python example in ``README.md`` runs as it is written.
"""

from __future__ import annotations

import re
import runpy
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from grantflow_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
CLI_PAGE = ROOT / "docs" / "reference" / "cli.md"
MKDOCS = ROOT / "mkdocs.yml"
README = ROOT / "README.md"

HEADING = re.compile(r"^(#+) ")
COMMAND_HEADING = re.compile(r"^#+ `grantflow ([a-z][a-z -]*)`\s*$")


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command below ``group`` as ("actor add", command), groups included."""
    for name, command in sorted(group.commands.items()):
        full = (*path, name)
        yield " ".join(full), command
        if isinstance(command, click.Group):
            yield from walk(command, full)


COMMANDS = dict(walk(cli))
LEAVES = sorted(n for n, c in COMMANDS.items() if not isinstance(c, click.Group))


def sections(text: str) -> dict[str, str]:
    """The text under each ``### `grantflow COMMAND` `` heading, up to the next heading of the
    same or a higher level."""
    lines = text.splitlines()
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = COMMAND_HEADING.match(line)
        if not m:
            continue
        level = len(line) - len(line.lstrip("#"))
        body = []
        for following in lines[i + 1 :]:
            h = HEADING.match(following)
            if h and len(h.group(1)) <= level:
                break
            body.append(following)
        found[m.group(1).strip()] = "\n".join(body)
    return found


def mentions(text: str, word: str) -> bool:
    """``word`` appears on its own (``--db`` is not found in ``--dbx``)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def expected_words(command: click.Command) -> list[str]:
    """Arguments, option names, choices and environment variables of ``command``."""
    words: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            words.append(param.metavar or (param.name or "").upper())
        else:
            words.extend(param.opts)
            words.extend(param.secondary_opts)
            envvar = getattr(param, "envvar", None)
            if isinstance(envvar, str):
                words.append(envvar)
        if isinstance(param.type, click.Choice):
            words.extend(str(c) for c in param.type.choices)
    return words


@pytest.fixture(scope="module")
def page() -> str:
    return CLI_PAGE.read_text(encoding="utf-8")


def test_the_cli_has_commands_to_document() -> None:
    assert {"init", "actor add", "propose", "approve", "check", "log"} <= set(COMMANDS)


@pytest.mark.parametrize("name", LEAVES)
def test_every_command_has_a_section_naming_all_its_parameters(page: str, name: str) -> None:
    found = sections(page)
    assert name in found, f"docs/reference/cli.md has no section '### `grantflow {name}`'"
    missing = [w for w in expected_words(COMMANDS[name]) if not mentions(found[name], w)]
    assert not missing, f"the section on `grantflow {name}` does not mention {missing}"


def test_the_global_options_and_help_are_documented(page: str) -> None:
    start = page.index("## Global options")
    end = page.index("\n## ", start + 1)
    block = page[start:end]
    missing = [w for w in [*expected_words(cli), "-h", "--help"] if not mentions(block, w)]
    assert not missing, f"'## Global options' does not mention {missing}"


def test_every_exit_code_is_documented(page: str) -> None:
    from grantflow_cli import errors

    codes = set(errors.DOCUMENTED)
    start = page.index("## Exit codes")
    end = page.index("\n## ", start + 1)
    table = page[start:end]
    missing = [c for c in sorted(codes) if f"| `{c}` |" not in table]
    assert not missing, f"exit codes {missing} are not in the table"


def nav_pages() -> list[str]:
    """The Markdown files the ``nav`` of ``mkdocs.yml`` lists (without a YAML parser: the file
    uses a ``!!python/name`` tag that a safe loader refuses)."""
    text = MKDOCS.read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", nav, flags=re.MULTILINE)


def test_mkdocs_nav_lists_pages() -> None:
    assert "index.md" in nav_pages()
    assert "reference/cli.md" in nav_pages()


@pytest.mark.parametrize("page_path", nav_pages())
def test_every_page_in_the_nav_exists(page_path: str) -> None:
    assert (ROOT / "docs" / page_path).is_file(), f"mkdocs.yml lists docs/{page_path}"


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(
        r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M
    )
    assert blocks, "README.md has no python example"
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "readme_example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    runpy.run_path(str(script), run_name="readme_example")
    assert (tmp_path / "grants.sqlite").exists()
