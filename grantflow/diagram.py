"""The lifecycle diagram, generated from :data:`grantflow.domain.lifecycle.LIFECYCLE`.

``python -m grantflow.diagram`` prints the Mermaid state diagram that
``docs/explanation/lifecycle.md`` embeds; a test keeps the page and the machine in step.
"""

from __future__ import annotations

from grantflow.domain.lifecycle import LIFECYCLE, NEW, TERMINAL


def mermaid() -> str:
    """A Mermaid ``stateDiagram-v2`` of the lifecycle: one arrow per (source, event)."""
    lines = ["stateDiagram-v2"]
    for step in LIFECYCLE:
        for source in step.sources:
            src = "[*]" if source == NEW else source
            dest = step.dest.value if step.dest else source
            lines.append(f"    {src} --> {dest}: {step.event.value}")
    for state in sorted(s.value for s in TERMINAL):
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(mermaid())  # noqa: T201
