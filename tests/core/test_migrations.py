"""The migrations build exactly the models, from an empty database, on both backends."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from core import create_app
from core.config import normalise_database_url
from core.db import db
from core.migrate import current_heads, include_object, upgrade
from core.testing.fixtures import postgres_url, require_service
from tests import example_plugin


def migration_db_name(base: str) -> str:
    """A database of its own, named after the test database (parallel runs do not meet)."""
    name = base.rsplit("/", 1)[1].split("?")[0] or "test"
    return f"township_migrations_{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    base = require_service(postgres_url(), "PostgreSQL")
    migration_db = migration_db_name(base)
    admin = create_engine(normalise_database_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{migration_db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{migration_db}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + migration_db


def test_upgrade_heads_from_empty_matches_the_models(empty_database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": empty_database_url,
            "EXTRA_PLUGINS": [example_plugin],
        }
    )
    upgrade(app)
    with app.app_context():
        # a plugin branch depends on core, so Alembic records the plugin heads only
        assert "0001example" in current_heads(app)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    upgrade(app)  # a second upgrade is a no-op


def test_plugin_branch_depends_on_core(app):
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(app))
    example = script.get_revision("example@head")
    assert example.branch_labels == {"example"}
    assert "0001core" in (
        example.dependencies if isinstance(example.dependencies, tuple) else (example.dependencies,)
    )
