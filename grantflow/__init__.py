"""grantflow: public funding applications (Zuwendungen) through their lifecycle, by the book.

The public API is what this module exports (``__all__``, pinned by ``tests/test_public_api.py``);
everything else may change between releases. The ``grantflow`` command uses nothing else.

``import grantflow`` is light: the service and its result types (:class:`Grantflow`,
:class:`LogFilter`, ...), which need SQLAlchemy, are imported on first use
(``from grantflow import Grantflow``, PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from grantflow import limits
from grantflow._json import (
    admin_entry_to_json,
    amount_to_json,
    budget_report_to_json,
    checkpoint_to_json,
    due_item_to_json,
    grant_to_json,
    log_entry_to_json,
    money_statement_to_json,
    utc_iso,
    verdict_to_json,
    verify_report_to_json,
)
from grantflow.audit.verify import Problem, VerifyReport
from grantflow.database_errors import known_error
from grantflow.domain.commands import (
    Amend,
    Approve,
    Close,
    Command,
    Disburse,
    Extend,
    Propose,
    Reject,
    Repay,
    Revoke,
    Start,
    Submit,
    Withdraw,
)
from grantflow.domain.dates import BERLIN, format_date_de, parse_date, to_berlin
from grantflow.domain.guideline import Program, ProgramVersion
from grantflow.domain.interest import InterestResult, InterestSlice
from grantflow.domain.lifecycle import LIFECYCLE, Evaluation, apply, check, decide, replay
from grantflow.domain.model import (
    Actor,
    Applicant,
    ApplicantKind,
    Document,
    Event,
    FinancingType,
    Grant,
    Override,
    RevocationEffect,
    Role,
    Severity,
    State,
    TransitionRecord,
    Verdict,
)
from grantflow.domain.money import format_eur, format_rate, parse_amount
from grantflow.domain.rules import Exposure, Rule, RuleContext
from grantflow.domain.statement import MoneyStatement
from grantflow.errors import (
    BadInput,
    ChainBroken,
    ConcurrentUpdate,
    DatabaseNotSound,
    GrantflowError,
    GuidelineError,
    GuidelineProblem,
    IntegrityFailure,
    InvalidTransition,
    NotFound,
    Refused,
    RuleViolation,
    SchemaMissing,
    SchemaOutdated,
    SchemaTooNew,
)
from grantflow.guidelines.loader import BUILTIN as BUILTIN_GUIDELINES
from grantflow.guidelines.loader import builtin_path as builtin_guideline_path

if TYPE_CHECKING:
    from grantflow.services import (
        AdminEntry,
        Bind,
        Checkpoint,
        Grantflow,
        Identity,
        LoadResult,
        LogEntry,
        LogFilter,
    )
    from grantflow.services.reports import BudgetLine, BudgetReport, DueItem

_LAZY = {
    "AdminEntry": "grantflow.services",
    "Bind": "grantflow.services",
    "BudgetLine": "grantflow.services.reports",
    "BudgetReport": "grantflow.services.reports",
    "Checkpoint": "grantflow.services",
    "DueItem": "grantflow.services.reports",
    "Grantflow": "grantflow.services",
    "Identity": "grantflow.services",
    "LoadResult": "grantflow.services",
    "LogEntry": "grantflow.services",
    "LogFilter": "grantflow.services",
}
"""The names that need the database layer, and the module each is imported from on first use."""


def __getattr__(name: str) -> object:
    """The service and its result types, imported when first asked for (PEP 562)."""
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'grantflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BERLIN",
    "BUILTIN_GUIDELINES",
    "LIFECYCLE",
    "Actor",
    "AdminEntry",
    "Amend",
    "Applicant",
    "ApplicantKind",
    "Approve",
    "BadInput",
    "Bind",
    "BudgetLine",
    "BudgetReport",
    "ChainBroken",
    "Checkpoint",
    "Close",
    "Command",
    "ConcurrentUpdate",
    "DatabaseNotSound",
    "Disburse",
    "Document",
    "DueItem",
    "Evaluation",
    "Event",
    "Exposure",
    "Extend",
    "FinancingType",
    "Grant",
    "Grantflow",
    "GrantflowError",
    "GuidelineError",
    "GuidelineProblem",
    "Identity",
    "IntegrityFailure",
    "InterestResult",
    "InterestSlice",
    "InvalidTransition",
    "LoadResult",
    "LogEntry",
    "LogFilter",
    "MoneyStatement",
    "NotFound",
    "Override",
    "Problem",
    "Program",
    "ProgramVersion",
    "Propose",
    "Refused",
    "Reject",
    "Repay",
    "RevocationEffect",
    "Revoke",
    "Role",
    "Rule",
    "RuleContext",
    "RuleViolation",
    "SchemaMissing",
    "SchemaOutdated",
    "SchemaTooNew",
    "Severity",
    "Start",
    "State",
    "Submit",
    "TransitionRecord",
    "Verdict",
    "VerifyReport",
    "Withdraw",
    "admin_entry_to_json",
    "amount_to_json",
    "apply",
    "budget_report_to_json",
    "builtin_guideline_path",
    "check",
    "checkpoint_to_json",
    "decide",
    "due_item_to_json",
    "format_date_de",
    "format_eur",
    "format_rate",
    "grant_to_json",
    "known_error",
    "limits",
    "log_entry_to_json",
    "money_statement_to_json",
    "parse_amount",
    "parse_date",
    "replay",
    "to_berlin",
    "utc_iso",
    "verdict_to_json",
    "verify_report_to_json",
]
