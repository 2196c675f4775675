"""Mentions and notification levels.

messages gain the users their body names and whether it called the room; message_mentions
holds who each message notified; memberships gain a notification level (none: the room
kind's default).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ALTERs, not batch mode: rebuilding `messages` on SQLite would drop the
    # triggers that keep the full-text index.
    op.add_column("messages", sa.Column("mentions", sa.JSON(), server_default="[]", nullable=False))
    op.add_column(
        "messages",
        sa.Column("mentions_room", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "memberships", sa.Column("notification_level", sa.String(length=16), nullable=True)
    )
    op.create_table(
        "message_mentions",
        sa.Column("message_id", RowId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_mentions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_message_mentions_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_mentions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", name=op.f("pk_message_mentions")),
    )
    op.create_index(
        "ix_message_mentions_user_id_room_id", "message_mentions", ["user_id", "room_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_mentions_user_id_room_id", table_name="message_mentions")
    op.drop_table("message_mentions")
    with op.batch_alter_table("memberships") as batch_op:
        batch_op.drop_column("notification_level")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("mentions_room")
        batch_op.drop_column("mentions")
