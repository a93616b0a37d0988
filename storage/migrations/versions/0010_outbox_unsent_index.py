"""outbox: a partial index of the messages still to send, per chat in order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNSENT = "sent_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["channel", "external_id", "id"],
        unique=False,
        postgresql_where=sa.text(UNSENT),
        sqlite_where=sa.text(UNSENT),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
