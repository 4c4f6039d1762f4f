"""ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:22:57.988262
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("payer", sa.String(length=320), nullable=False),
        sa.Column("payee", sa.String(length=320), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_reverses_id_ledger_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_payee", ["list_name", "payee"], unique=False)
        batch_op.create_index("ix_ledger_payer", ["list_name", "payer"], unique=False)

    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("memo", sa.Text(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.drop_column("memo")
        batch_op.drop_column("amount")

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_payer")
        batch_op.drop_index("ix_ledger_payee")

    op.drop_table("ledger_entry")
