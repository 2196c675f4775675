"""Room change sequence: rooms.last_seq, messages.seq and messages.changed_seq.

Every new, edited or deleted message takes the room's next sequence number, so clients
can tell when they missed an event and catch up on edits and deletes after a reconnect.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, not batch mode: rebuilding `messages` on SQLite would drop the
    # triggers that keep the full-text index.
    op.add_column(
        "rooms", sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column("messages", sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("messages", sa.Column("changed_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_messages_room_id_changed_seq", "messages", ["room_id", "changed_seq"])
    # Number the messages already there, in id order within each room.
    op.execute(
        "UPDATE messages SET seq = (SELECT count(*) FROM messages AS earlier "
        "WHERE earlier.room_id = messages.room_id AND earlier.id <= messages.id)"
    )
    op.execute(
        "UPDATE rooms SET last_seq = COALESCE((SELECT max(seq) FROM messages "
        "WHERE messages.room_id = rooms.id), 0)"
    )


def downgrade() -> None:
    op.drop_index("ix_messages_room_id_changed_seq", table_name="messages")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("changed_seq")
        batch_op.drop_column("seq")
    with op.batch_alter_table("rooms") as batch_op:
        batch_op.drop_column("last_seq")
