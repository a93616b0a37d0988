"""delivery statuses: the platform's id of each sent part, delivered and read times

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sent_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("platform_id", sa.String(length=128), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_sent_parts_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_parts")),
        sa.UniqueConstraint("channel", "platform_id", name=op.f("uq_sent_parts_channel")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("sent_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_parts_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_parts_outbox_id"))
    op.drop_table("sent_parts")
    # on SQLite the table is copied: it keeps AUTOINCREMENT (ids never reused)
    with op.batch_alter_table("outbox", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("read_at")
        batch_op.drop_column("delivered_at")
