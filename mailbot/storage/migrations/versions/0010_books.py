"""books: buddies for members without email, the day of a paper slip, meetings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buddy", sa.String(length=320), nullable=True))
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_on", sa.Date(), nullable=True))
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("asked_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_list", ["list_name", "asked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_list")
    op.drop_table("meeting")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_column("done_on")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("buddy")
