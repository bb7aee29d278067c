"""Alembic, driven from the app: a ``core`` branch plus one branch per plugin.

``township db upgrade`` (and the embedded ``serve`` at start) runs ``upgrade heads``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

from core.db import db
from core.plugins import state

HERE = Path(__file__).parent / "migrations"

#: tables that are not ours to migrate (APScheduler creates its own)
FOREIGN_TABLES = {"apscheduler_jobs"}


def alembic_config(app: Flask) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions")]
    for loaded in state(app).plugins.values():
        if loaded.info.migrations is not None:
            locations.append(str(loaded.info.migrations))
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    cfg.attributes["flask_app"] = app
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> None:
    """Bring the database to the newest revision of every branch."""
    with app.app_context():
        command.upgrade(alembic_config(app), revision)


def revision(app: Flask, message: str, branch: str = "core", autogenerate: bool = True) -> None:
    """Write a new revision on ``branch`` (developers' tool)."""
    with app.app_context():
        cfg = alembic_config(app)
        head = f"{branch}@head"
        command.revision(cfg, message=message, autogenerate=autogenerate, head=head)


def current_heads(app: Flask) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def unmanaged_patterns() -> list[str]:
    """Names of objects the plugins' migrations create that no model describes."""
    from flask import current_app, has_app_context

    if not has_app_context() or "township" not in current_app.extensions:
        return []
    return [p for loaded in state().plugins.values() for p in loaded.info.unmanaged]


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What Alembic compares: not APScheduler's table, not a plugin's unmanaged objects
    (nor the tables SQLite's FTS5 makes for them)."""
    from fnmatch import fnmatch

    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    if reflected and compare_to is None and name:
        return not any(fnmatch(name, pattern) for pattern in unmanaged_patterns())
    return True
