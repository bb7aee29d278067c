"""Alembic environment: the app's engine and the shared metadata of core and plugins."""

from alembic import context

from core.db import db
from core.migrate import include_object

config = context.config
app = config.attributes["flask_app"]

with app.app_context():
    engine = db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            include_object=include_object,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
