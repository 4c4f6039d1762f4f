"""archive: distributed posts numbered per list

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00

Posts distributed before this migration are numbered too, in the order they went out,
and each list's counter starts after them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archive_number", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_inbound_message_list_name"), ["list_name", "archive_number"])
    _number_earlier_posts()


def _number_earlier_posts() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, list_name FROM inbound_message WHERE distributed_at IS NOT NULL"
        " ORDER BY distributed_at, id")).all()
    counts: dict[str, int] = {}
    for row_id, list_name in rows:
        counts[list_name] = counts.get(list_name, 0) + 1
        conn.execute(sa.text("UPDATE inbound_message SET archive_number = :n WHERE id = :id"),
                     {"n": counts[list_name], "id": row_id})
    for list_name, count in counts.items():
        conn.execute(sa.text("INSERT INTO counter (name, value) VALUES (:name, :value)"),
                     {"name": f"{list_name}:post", "value": count})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM counter WHERE name LIKE '%:post'"))
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_inbound_message_list_name"), type_="unique")
        batch_op.drop_column("archive_number")
