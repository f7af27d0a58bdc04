"""Persistence: typed SQLAlchemy models, the mapping to the domain, engines and migrations.

The domain (:mod:`grantflow.domain`) never imports this package. The service layer
(:mod:`grantflow.services`) is the only code that changes data through it.
"""

from grantflow.store.engine import (
    ENV_VAR,
    configure_sqlite,
    create_engine,
    default_path,
    resolve_url,
)
from grantflow.store.models import Models, models_for
from grantflow.store.schema import SchemaMissing, SchemaOutdated, upgrade

__all__ = [
    "ENV_VAR",
    "Models",
    "SchemaMissing",
    "SchemaOutdated",
    "configure_sqlite",
    "create_engine",
    "default_path",
    "models_for",
    "resolve_url",
    "upgrade",
]
