"""process heartbeats (township doctor)

Revision ID: 0004core
Revises: 0003core
Create Date: 2026-11-30 20:50:00
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004core"
down_revision = "0003core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_process_heartbeat",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("seen_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_process_heartbeat")),
    )
    with op.batch_alter_table("core_process_heartbeat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_core_process_heartbeat_seen_at"), ["seen_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("core_process_heartbeat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_process_heartbeat_seen_at"))
    op.drop_table("core_process_heartbeat")
