"""Threads.

messages gain the thread a reply belongs to (its root's id), whether a reply was also
posted to the room, and a root's thread summary (reply count, last reply time, who
replied); thread_follows holds who follows each thread and how far they have read it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ALTERs, not batch mode: rebuilding `messages` on SQLite would drop the
    # triggers that keep the full-text index.
    op.add_column("messages", sa.Column("thread_id", RowId, nullable=True))
    op.add_column(
        "messages",
        sa.Column("also_to_room", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "messages", sa.Column("reply_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("messages", sa.Column("last_reply_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "messages",
        sa.Column("participant_ids", sa.JSON(), server_default="[]", nullable=False),
    )
    op.create_index("ix_messages_thread_id_id", "messages", ["thread_id", "id"])
    op.create_table(
        "thread_follows",
        sa.Column("root_id", RowId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", RowId, server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["messages.id"],
            name=op.f("fk_thread_follows_root_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_thread_follows_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_thread_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("root_id", "user_id", name=op.f("pk_thread_follows")),
    )
    op.create_index("ix_thread_follows_user_id_room_id", "thread_follows", ["user_id", "room_id"])


def downgrade() -> None:
    op.drop_index("ix_thread_follows_user_id_room_id", table_name="thread_follows")
    op.drop_table("thread_follows")
    op.drop_index("ix_messages_thread_id_id", table_name="messages")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("participant_ids")
        batch_op.drop_column("last_reply_at")
        batch_op.drop_column("reply_count")
        batch_op.drop_column("also_to_room")
        batch_op.drop_column("thread_id")
