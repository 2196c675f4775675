"""messages.deleted_by_moderator: whether a deleted message was taken down by a moderator
rather than by its author, so the tombstone can say which.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER, not batch mode: rebuilding `messages` on SQLite would drop the
    # triggers that keep the full-text index.
    op.add_column(
        "messages",
        sa.Column("deleted_by_moderator", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("deleted_by_moderator")
