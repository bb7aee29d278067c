"""The ``township`` command."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def register_commands(app) -> None:
    pass


def _create_app():
    from core.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main():
    """Township service platform."""
