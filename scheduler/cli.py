"""``township scheduler``: the scheduler as its own process (an active one and a standby).

Run it on two machines (or twice on one) against the shared database and broker::

    TOWNSHIP_DATABASE_URL=postgresql://... TOWNSHIP_BROKER_URL=redis://... township scheduler

The first to take the lease fires the jobs; the other waits and takes over
when the lease lapses (``kill -9``, a lost machine) or is released (SIGTERM,
Ctrl+C). See :mod:`scheduler.service`.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.command("scheduler")
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=1),
    default=None,
    help="Lease length (default: the SCHEDULER_LEASE_SECONDS setting, 15).",
)
@with_appcontext
def scheduler_command(lease_seconds: float | None) -> None:
    """Run the scheduler: standby until it holds the lease, then fire jobs (enqueue only)."""
    from core.tasks import is_embedded
    from scheduler.service import run_foreground

    app = current_app._get_current_object()
    if is_embedded(app):
        raise click.ClickException(
            _(
                "BROKER_URL is not set: the embedded broker runs inside `township serve`, "
                "which also runs the scheduler. Set TOWNSHIP_BROKER_URL (redis:// or amqp://) "
                "to run the scheduler as its own process."
            )
        )
    click.echo(_("Scheduler starting (standby until it holds the lease); Ctrl+C to stop."))
    run_foreground(app, lease_seconds=lease_seconds)
    click.echo(_("Scheduler stopped; lease released."))
