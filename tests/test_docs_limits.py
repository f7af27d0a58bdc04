"""docs/reference/limits.md states the limits grantflow.limits enforces, and is in the nav."""

from __future__ import annotations

from pathlib import Path

from grantflow import limits
from grantflow.domain.plausibility import PLAUSIBILITY_RULES

ROOT = Path(__file__).parents[1]
PAGE = ROOT / "docs" / "reference" / "limits.md"


def test_the_page_states_every_limit() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for figure in (
        f"{limits.NAME_MAX} characters",
        f"{limits.ID_MAX} characters",
        f"{limits.TITLE_MAX:,} characters",
        f"{limits.TEXT_MAX:,} characters",
        f"{limits.PATH_MAX:,} characters",
        f"{limits.AMOUNT_MAX:,} EUR",
        f"{limits.DATE_MIN.isoformat()} to\n{limits.DATE_MAX.isoformat()}",
        f"1 to {limits.YEARS_MAX}",
        f"up to {limits.GUIDELINE_INTEGER_MAX:,}",
        f"{limits.GUIDELINE_BYTES_MAX:,} bytes",
        f"at most **{limits.GUIDELINE_DEPTH_MAX}** deep",
    ):
        assert figure in text, figure
    for rule in PLAUSIBILITY_RULES:
        assert f"| {rule.id} |" in text, rule.id


def test_the_page_is_in_the_nav() -> None:
    assert "reference/limits.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
