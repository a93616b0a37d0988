"""impact: residents shown suggestions per month, "met again", and the neighbourhood an
anonymised introduction counts in

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("introductions") as batch_op:
        batch_op.add_column(sa.Column("met_again_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("area_postcode", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("area_name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("area_organisation_id", sa.Integer(), nullable=True))
    op.create_table(
        "suggestion_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("postcode", sa.String(length=4), nullable=True),
        sa.Column("area_name", sa.String(length=80), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_marks")),
        sa.UniqueConstraint("person_id", "month", name=op.f("uq_suggestion_marks_person_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("suggestion_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suggestion_marks_postcode"), ["postcode"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggestion_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestion_marks_postcode"))
    op.drop_table("suggestion_marks")
    # on SQLite the table is copied: it keeps AUTOINCREMENT (ids never reused)
    kept = {"sqlite_autoincrement": True}
    with op.batch_alter_table("introductions", table_kwargs=kept) as batch_op:
        batch_op.drop_column("area_organisation_id")
        batch_op.drop_column("area_name")
        batch_op.drop_column("area_postcode")
        batch_op.drop_column("met_again_at")
