"""digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:12:33.709868
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("distributed_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_through", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("digest_format", sa.String(length=8), nullable=False, server_default="text")
        )


def downgrade() -> None:

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("digest_format")
        batch_op.drop_column("digest_through")

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("distributed_at")
