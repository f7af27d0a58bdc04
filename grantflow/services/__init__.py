"""The service layer: the one public way to change a grantflow database.

:class:`Grantflow` opens a database (or joins a host application's), and carries every grant
event through load, check, apply and write in one transaction.
"""

from grantflow.audit.verify import ChainBroken, Problem, VerifyReport
from grantflow.services.app import Bind, Grantflow, Identity
from grantflow.services.results import AdminEntry, Checkpoint, LoadResult, LogEntry
from grantflow.store.repository import LogFilter
from grantflow.store.schema import SchemaMissing, SchemaOutdated

__all__ = [
    "AdminEntry",
    "Bind",
    "ChainBroken",
    "Checkpoint",
    "Grantflow",
    "Identity",
    "LoadResult",
    "LogEntry",
    "LogFilter",
    "Problem",
    "SchemaMissing",
    "SchemaOutdated",
    "VerifyReport",
]
