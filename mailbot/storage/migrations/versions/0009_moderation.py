"""moderation: member moderation, the flood brake, bans, membership events

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ban",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("banned_at", sa.DateTime(), nullable=False),
        sa.Column("banned_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ban")),
        sa.UniqueConstraint("list_name", "email", name=op.f("uq_ban_list_name")),
    )
    op.create_table(
        "membership_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_event")),
    )
    with op.batch_alter_table("membership_event", schema=None) as batch_op:
        batch_op.create_index("ix_membership_event_unreported", ["list_name", "reported_at"],
                              unique=False)
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moderated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("moderated_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("posts_on", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("posts_that_day", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("flood_told_on", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("flood_told_on")
        batch_op.drop_column("posts_that_day")
        batch_op.drop_column("posts_on")
        batch_op.drop_column("moderated_until")
        batch_op.drop_column("moderated_at")
    with op.batch_alter_table("membership_event", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_event_unreported")
    op.drop_table("membership_event")
    op.drop_table("ban")
