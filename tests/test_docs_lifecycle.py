"""The lifecycle page embeds the diagram generated from the machine's own table."""

from pathlib import Path

from grantflow.diagram import mermaid
from grantflow.domain.lifecycle import LIFECYCLE

PAGE = Path(__file__).parent.parent / "docs" / "explanation" / "lifecycle.md"


def test_lifecycle_page_shows_the_generated_diagram() -> None:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("<!-- lifecycle-diagram:start -->")
    end = text.index("<!-- lifecycle-diagram:end -->")
    block = text[start:end]
    assert f"```mermaid\n{mermaid()}\n```" in block, "run python -m grantflow.diagram"


def test_diagram_has_one_arrow_per_source_of_every_event() -> None:
    arrows = [line for line in mermaid().splitlines() if ": " in line]
    assert len(arrows) == sum(len(step.sources) for step in LIFECYCLE)
