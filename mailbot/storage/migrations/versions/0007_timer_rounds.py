"""when each daemon last ran its timers (for `mailbot status`)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daemon") as batch:
        batch.add_column(sa.Column("timers_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daemon") as batch:
        batch.drop_column("timers_at")
