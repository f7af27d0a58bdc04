"""Small helpers shared by the command modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .main import Env


def env_of(ctx: click.Context) -> Env:
    from .main import Env

    env = ctx.find_object(Env)
    if env is None:  # pragma: no cover - the group always sets it
        raise click.UsageError("grantflow commands run under the grantflow group")
    return env
