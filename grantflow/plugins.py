"""Rule kinds from other packages, through the ``grantflow.rules`` entry point group.

A package adds a rule kind by declaring, in its ``pyproject.toml``::

    [project.entry-points."grantflow.rules"]
    co-financing = "my_agency.rules:CoFinancingRule"

where ``CoFinancingRule`` subclasses :class:`grantflow.rules.Rule` and sets ``kind``
(the name guideline files use), ``default_events`` and ``check``. See
``docs/how-to/custom-rules.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points

from grantflow.domain.rules import BUILTIN_KINDS, Rule
from grantflow.errors import BadInput

ENTRY_POINT_GROUP = "grantflow.rules"


def load_rule_plugins() -> dict[str, type[Rule]]:
    """Rule kinds installed by other packages, by kind name."""
    found: dict[str, type[Rule]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            raise BadInput(f"rule plugin {ep.name} ({ep.value}) cannot be loaded: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Rule)):
            raise BadInput(
                f"rule plugin {ep.name} ({ep.value}) is not a subclass of grantflow's Rule"
            )
        kind = getattr(cls, "kind", None)
        if not isinstance(kind, str) or kind != ep.name:
            raise BadInput(
                f"rule plugin {ep.name} ({ep.value}) must set kind = {ep.name!r} "
                f"(the entry point's name)"
            )
        if kind in BUILTIN_KINDS:
            raise BadInput(f"rule plugin {ep.name} would replace the built-in kind {kind!r}")
        found[kind] = cls
    return found


def rule_kinds() -> Mapping[str, type[Rule]]:
    """Built-in kinds plus installed plugin kinds."""
    return {**BUILTIN_KINDS, **load_rule_plugins()}
