"""exchange items

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:26:19.347134
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "exchange_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("renewal_asked_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_message.id"],
            name=op.f("fk_exchange_item_inbound_id_inbound_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_item")),
        sa.UniqueConstraint("list_name", "number", name=op.f("uq_exchange_item_list_name")),
    )
    with op.batch_alter_table("exchange_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_item_active", ["list_name", "status", "kind"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("exchange_item", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_item_active")

    op.drop_table("exchange_item")
