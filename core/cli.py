"""The ``township`` command: serve, worker, scheduler, db, demo, users, plugins.

Plugins add their own groups through ``township_cli_commands``
(``township <plugin> ...``).
"""

from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

log = logging.getLogger(__name__)


def _create_app():
    from core.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main():
    """Township service platform (乡镇服务平台)."""


def register_commands(app) -> None:
    """Add the plugins' command groups to the app (found by ``township <name>``)."""
    from core.plugins import state

    for group in state(app).hook.township_cli_commands():
        for command in group or ():
            app.cli.add_command(command)


# ---------------------------------------------------------------------------
# serve: the all-in-one process of a small township
# ---------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: HOST setting).")
@click.option("--port", default=None, type=int, help="Port (default: PORT setting).")
@click.option("--threads", default=8, show_default=True, help="Web server threads.")
@click.option("--no-demo", is_flag=True, help="Do not load the demo county into an empty database.")
@with_appcontext
def serve(host, port, threads, no_demo):
    """Migrate, load the demo county if the database is empty, and serve web + workers +
    scheduler on one production WSGI server (waitress)."""
    import waitress

    from core import demo
    from core.db import utcnow
    from core.migrate import upgrade
    from core.tasks import is_embedded, resend_due, start_embedded_worker

    app = current_app._get_current_object()
    started = utcnow()
    upgrade(app)
    if not no_demo and demo.database_is_empty():
        click.echo("Empty database: loading the demo county ...")
        demo.load_demo()
    _print_logins()

    from core.heartbeat import Heartbeat, claim_web_heartbeat

    serving = claim_web_heartbeat(Heartbeat(app, "serve").start())  # web + worker + scheduler
    stoppers = [serving.stop]
    if is_embedded(app):
        worker = start_embedded_worker(app)
        stoppers.append(worker.stop)
        click.echo(f"Embedded task worker: {app.config['EMBEDDED_WORKER_THREADS']} thread(s)")
    # what an earlier run left pending goes out now; what this run sent (the demo's
    # e-mails) is already in the queue, and sending it again delivered it twice
    resend_due(app, grace_seconds=0, sent_before=started)
    if app.config.get("EMBEDDED_SCHEDULER"):
        from scheduler.service import start_embedded_scheduler

        handle = start_embedded_scheduler(app)
        stoppers.append(handle.stop)
        click.echo("Embedded scheduler: started (standby if another scheduler holds the lease)")

    host = host or app.config["HOST"]
    port = port or int(app.config["PORT"])
    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="township")

    # SIGTERM stops like Ctrl+C: the server loop ends in the main thread, then the
    # scheduler releases its lease and the embedded worker finishes its messages
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for stop in reversed(stoppers):
            stop()
        click.echo("Stopped.")


def _print_logins() -> None:
    from core.demo import saved_logins

    logins = saved_logins()
    if not logins:
        return
    click.echo("")
    click.echo("Demo logins (also in instance/demo_logins.txt):")
    width = max(len(login.username) for login in logins)
    for login in logins:
        click.echo(
            f"  {login.username.ljust(width)}  {login.password}  {login.role} @ {login.unit}"
        )
    click.echo("")


# ---------------------------------------------------------------------------
# database
# ---------------------------------------------------------------------------


@main.group()
def db():
    """Database migrations (Alembic: a core branch and one branch per plugin)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision):
    """Upgrade the database to REVISION (default: every branch's head)."""
    from core.migrate import current_heads, upgrade

    upgrade(current_app._get_current_object(), revision)
    click.echo("Database at: " + ", ".join(sorted(current_heads(current_app))))


@db.command("current")
@with_appcontext
def db_current():
    """Show the revisions the database is at."""
    from core.migrate import current_heads

    click.echo(", ".join(sorted(current_heads(current_app))) or "(empty)")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option(
    "--branch",
    default="core",
    show_default=True,
    help="The branch (plugin key) the revision belongs to.",
)
@with_appcontext
def db_revision(message, branch):
    """Autogenerate a revision on a branch (for developers)."""
    from core.migrate import revision

    revision(current_app._get_current_object(), message, branch)


# ---------------------------------------------------------------------------
# demo, users, plugins
# ---------------------------------------------------------------------------


@main.command("demo")
@with_appcontext
def demo_command():
    """Load the demo county (idempotent) and print the new logins."""
    from core.demo import load_demo
    from core.migrate import upgrade

    upgrade(current_app._get_current_object())
    new = load_demo()
    click.echo(f"Demo county ready; {len(new)} new login(s).")
    _print_logins()


@main.group()
def users():
    """Staff users."""


@users.command("create")
@click.argument("username")
@click.option("--name", required=True, help="Full name shown to colleagues.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="ROLE@UNIT_CODE, e.g. clerk@dongfeng (repeatable).",
)
@click.option("--email", default=None)
@click.password_option(help="Prompted when not given.")
@with_appcontext
def users_create(username, name, roles, email, password):
    """Create a staff user with roles in org units."""
    from core.auth import hash_password, validate_new_password
    from core.db import db as _db
    from core.models import Membership, OrgUnit, User
    from core.plugins import state

    try:
        validate_new_password(password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from exc
    if _db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} exists already")
    memberships = []
    for spec in roles:
        role, _, code = spec.partition("@")
        if role not in state().roles:
            raise click.BadParameter(
                f"unknown role {role!r}; roles: {', '.join(sorted(state().roles))}",
                param_hint="--role",
            )
        unit = _db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if unit is None:
            raise click.BadParameter(f"no org unit with code {code!r}", param_hint="--role")
        memberships.append((role, unit))
    user = User(username=username, name=name, email=email, password_hash=hash_password(password))
    _db.session.add(user)
    _db.session.flush()
    for role, unit in memberships:
        _db.session.add(Membership(user_id=user.id, org_unit_id=unit.id, role=role))
    _db.session.commit()
    click.echo(f"Created {username} with {', '.join(roles)}")


@users.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. the county's OA system.")
@with_appcontext
def users_token(username, name):
    """Make a JSON API token for a staff user; the token is printed once."""
    from core.api import create_token
    from core.db import db as _db
    from core.models import User

    user = _db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="USERNAME")
    try:
        token, plaintext = create_token(user, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--name") from exc
    click.echo(f"Token {token.id} for {username} ({name}); it is shown only now:")
    click.echo(plaintext)


@main.group()
def units():
    """Org units: townships, villages, stations."""


@units.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The unit's name, e.g. 新华镇.")
@click.option(
    "--kind",
    type=click.Choice(["county", "township", "village", "station"]),
    default="township",
    show_default=True,
)
@click.option("--parent", default=None, help="Code of the unit above (county of a township).")
@click.option("--timezone", default=None, help="Time zone of a township (default: setting).")
@with_appcontext
def units_create(code, name, kind, parent, timezone):
    """Create an org unit, e.g. a new township of a county."""
    from core.db import db as _db
    from core.models import OrgUnit, UnitKind
    from scheduler.triggers import TriggerError, zone

    above = {
        "county": None,
        "township": UnitKind.county,
        "village": UnitKind.township,
        "station": UnitKind.township,
    }[kind]
    if _db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)):
        raise click.BadParameter(f"the code {code!r} is taken", param_hint="CODE")
    parent_unit = None
    if above is not None:
        parent_unit = _db.session.scalar(select(OrgUnit).where(OrgUnit.code == (parent or "")))
        if parent_unit is None or parent_unit.kind != above:
            raise click.BadParameter(
                f"a {kind} needs --parent, the code of its {above.value}", param_hint="--parent"
            )
    tz = timezone or current_app.config["DEFAULT_TIMEZONE"]
    try:
        zone(tz)
    except TriggerError as exc:
        raise click.BadParameter(str(exc), param_hint="--timezone") from exc
    unit = OrgUnit(
        code=code,
        name=name,
        kind=UnitKind(kind),
        timezone=tz,
        parent_id=parent_unit.id if parent_unit else None,
    )
    _db.session.add(unit)
    _db.session.flush()
    if unit.kind == UnitKind.township:
        unit.township_id = unit.id
    elif parent_unit is not None:
        unit.township_id = parent_unit.township_id
    _db.session.commit()
    click.echo(f"Created {kind} {name} ({code})")


@main.group()
def plugins():
    """Institutions (plugins)."""


@plugins.command("list")
@with_appcontext
def plugins_list():
    """Each plugin with its version, hooks and the townships that enabled it."""
    from core.db import db as _db
    from core.models import InstitutionSetting, OrgUnit
    from core.plugins import state

    enabled: dict[str, list[str]] = {}
    rows = _db.session.execute(
        select(InstitutionSetting.plugin_key, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == InstitutionSetting.township_id)
        .where(InstitutionSetting.enabled.is_(True))
        .order_by(OrgUnit.name)
    )
    for key, township in rows:
        enabled.setdefault(key, []).append(township)
    for key, loaded in sorted(state().plugins.items()):
        info = loaded.info
        where = "all townships" if key == "core" else (", ".join(enabled.get(key, [])) or "none")
        click.echo(f"{key} {info.version}  {info.name} / {info.name_en}")
        click.echo(f"  enabled in: {where}")
        click.echo(f"  hooks: {', '.join(loaded.hooks)}")


# ---------------------------------------------------------------------------
# doctor, backup, restore: the operator's tools
# ---------------------------------------------------------------------------


@main.command("doctor")
@with_appcontext
def doctor_command():
    """Show the running processes (from their heartbeats) and the settings they share;
    warn when they disagree. Exits 1 when a shared setting differs."""
    from core.db import db as _db
    from core.heartbeat import (
        SHARED_SETTINGS,
        STALE_SECONDS,
        disagreements,
        running_processes,
        shared_values,
    )

    app = current_app._get_current_object()
    rows = running_processes()
    _db.session.rollback()
    if not rows:
        click.echo(
            f"No running process wrote a heartbeat in the last {STALE_SECONDS} s "
            "(web, worker, scheduler and serve write one every few seconds)."
        )
    else:
        click.echo(f"{len(rows)} running process(es):")
        for row in rows:
            click.echo(
                f"  {row.role:<9} {row.host}  pid {row.pid}"
                f"  started {row.started_at:%Y-%m-%d %H:%M:%S} UTC"
                f"  last seen {row.seen_at:%H:%M:%S} UTC"
            )
    mine = shared_values(app)
    click.echo("")
    click.echo("Shared settings (this command's value; the processes' when they differ):")
    problems = disagreements(rows)
    differing = {p.key: p for p in problems}
    keys = [s.key for s in SHARED_SETTINGS] + ["CODE_VERSION"]
    who = {s.key: s.who for s in SHARED_SETTINGS} | {"CODE_VERSION": "every process"}
    for key in keys:
        values = {repr((row.settings or {}).get(key)) for row in rows}
        marker = "!!" if key in differing else "  "
        shown = repr(mine.get(key)) if not values else " | ".join(sorted(values))
        click.echo(f" {marker} {key:<24} {shown}   ({who[key]})")
    if problems:
        click.echo("")
        for problem in problems:
            click.echo(f"WARNING: {problem.key} differs between processes ({problem.who}):")
            for value, holders in sorted(problem.values.items()):
                click.echo(f"    {value}: {', '.join(holders)}")
        raise SystemExit(1)
    if rows:
        click.echo("")
        click.echo("All running processes agree.")


@main.command("backup")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Archive to write (default: instance/backups/township-<UTC time>.tar.gz).",
)
@with_appcontext
def backup_command(output):
    """Write one archive: the database (SQLite online backup or pg_dump), the instance
    files (secret key, settings, stored documents), a manifest with SHA-256 checksums."""
    from pathlib import Path

    import core
    from core.backup import BackupError, create_backup, default_archive_name

    app = current_app._get_current_object()
    target = (
        Path(output) if output else Path(app.instance_path) / "backups" / default_archive_name()
    )
    try:
        summary = create_backup(
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.instance_path,
            target,
            version=str(getattr(core, "__version__", "")),
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backup written: {summary.path} ({summary.bytes:,} bytes; {summary.database} database, "
        f"{summary.tables} tables, {summary.rows:,} rows; {summary.files} instance file(s))"
    )


@main.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False))
@with_appcontext
def restore_command(archive):
    """Restore ARCHIVE (from `township backup`) into this instance's empty database and
    instance folder. A damaged archive or a database that has tables is refused."""
    from core.backup import BackupError, restore_backup
    from core.db import db as _db

    app = current_app._get_current_object()
    _db.engine.dispose()
    try:
        manifest = restore_backup(archive, app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path)
    except BackupError as exc:
        raise click.ClickException(f"Nothing restored: {exc}") from exc
    tables = manifest["database"]["tables"]
    click.echo(
        f"Restored the backup of {manifest['created_at']}: {len(tables)} tables, "
        f"{sum(tables.values()):,} rows, "
        f"{sum(1 for n in manifest['files'] if n.startswith('instance/'))} instance file(s). "
        "Restart the platform's processes (the secret key may have changed)."
    )


def _add_process_commands() -> None:
    """``worker`` and ``scheduler`` live beside what they run."""
    from core.worker import worker_command
    from scheduler.cli import scheduler_command

    main.add_command(worker_command, "worker")
    main.add_command(scheduler_command, "scheduler")


_add_process_commands()
