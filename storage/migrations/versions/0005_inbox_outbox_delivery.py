"""delivery: the inbox, outbox rows for every message, per-channel reachability, singleton jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("channel", "update_id", name=op.f("uq_inbox_channel")),
        **AUTOINCREMENT,
    )
    op.create_index(
        "ix_inbox_pending", "inbox", ["handled_at", "channel", "sender", "id"], unique=False
    )
    with op.batch_alter_table("identities", table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(
            sa.Column("reachable", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("jobs", table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(sa.Column("singleton", sa.String(length=24), nullable=True))
        batch.create_unique_constraint(batch.f("uq_jobs_singleton"), ["singleton"])
    with op.batch_alter_table("outbox", table_kwargs=AUTOINCREMENT) as batch:
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("is_reply", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=80), nullable=True))
        batch.create_index("ix_outbox_chat", ["channel", "external_id", "id"], unique=False)
    # Messages queued before this revision: address them to the person's oldest account.
    op.execute(
        "UPDATE outbox SET channel = (SELECT i.channel FROM identities i"
        " WHERE i.person_id = outbox.person_id ORDER BY i.id LIMIT 1),"
        " external_id = (SELECT i.external_id FROM identities i"
        " WHERE i.person_id = outbox.person_id ORDER BY i.id LIMIT 1)"
    )
    op.execute("UPDATE outbox SET extra = '{}' WHERE extra IS NULL")
    with op.batch_alter_table("outbox", table_kwargs=AUTOINCREMENT) as batch:
        batch.alter_column("extra", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE person_id IS NULL")
    with op.batch_alter_table("outbox", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_index("ix_outbox_chat")
        for column in (
            "last_error",
            "failed_at",
            "claimed_until",
            "next_attempt_at",
            "parts_sent",
            "is_reply",
            "extra",
            "external_id",
            "channel",
        ):
            batch.drop_column(column)
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("jobs", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_constraint(batch.f("uq_jobs_singleton"), type_="unique")
        batch.drop_column("singleton")
    with op.batch_alter_table("identities", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_column("reachable")
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.drop_table("inbox")
