"""Everything a rule kind of your own needs, in one public place.

A package that adds a rule kind through the ``grantflow.rules`` entry point group imports from
this module only::

    from grantflow.rules import Event, Outcome, Reader, Rule, RuleContext, fail, ok

The names here are grantflow's public API for rule plugins: they are the very objects the
built-in rules use (``grantflow.rules.Rule is grantflow.Rule``), and they stay where they are
between releases even when the modules behind them move. The walk-through is
``docs/how-to/custom-rules.md``.

* the rule: :class:`Rule` (subclass it), :class:`RuleContext` (what ``check`` looks at),
  :class:`Outcome` with :func:`ok` and :func:`fail` (what ``check`` answers);
* its parameters: :class:`Reader` (``read_params``), :func:`to_rate` and :func:`to_amount`
  (converters for ``Reader.table_of``);
* the vocabulary: :class:`Event`, :class:`Severity`, :class:`Verdict`, :class:`Exposure`;
* money: :func:`apply_rate` (a rate of an amount, rounded down to the cent), :func:`format_eur`
  and :func:`format_rate` (figures for messages).

Importing this module costs no more than ``import grantflow``: no database, no command line.
"""

from grantflow.domain.model import Event, Severity, Verdict
from grantflow.domain.money import apply_rate, format_eur, format_rate
from grantflow.domain.params import Reader, to_amount, to_rate
from grantflow.domain.rules import Exposure, Outcome, Rule, RuleContext, fail, ok

__all__ = [
    "Event",
    "Exposure",
    "Outcome",
    "Reader",
    "Rule",
    "RuleContext",
    "Severity",
    "Verdict",
    "apply_rate",
    "fail",
    "format_eur",
    "format_rate",
    "ok",
    "to_amount",
    "to_rate",
]
