"""Entry point of the ``grantflow`` command."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="grantflow")
def cli() -> None:
    """grantflow: public grants (Zuwendungen) by the book."""


def main() -> None:
    cli()
