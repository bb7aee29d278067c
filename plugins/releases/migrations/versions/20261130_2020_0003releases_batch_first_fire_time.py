"""release batch: the first missed fire time it covers (lateness counts from it)

Revision ID: 0003releases
Revises: 0002releases
Create Date: 2026-11-30 20:20:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003releases"
down_revision = "0002releases"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("releases_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_scheduled_for", core.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("releases_batch", schema=None) as batch_op:
        batch_op.drop_column("first_scheduled_for")
