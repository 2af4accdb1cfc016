"""refresh claim on logfire_connections

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logfire_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refresh_claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logfire_connections", schema=None) as batch_op:
        batch_op.drop_column("refresh_claimed_until")
