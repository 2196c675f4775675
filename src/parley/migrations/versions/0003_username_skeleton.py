"""Username skeleton: users.username_skeleton, unique, so look-alike names cannot coexist.

Existing users get the digest of their name's confusable skeleton (parley.usernames), in
id order; a user whose skeleton an earlier user already holds keeps NULL (which a unique
index allows many times): the earlier holder blocks every new look-alike just the same.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from parley.usernames import skeleton_digest

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("username_skeleton", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_skeleton", sa.String),
    )
    taken: set[str] = set()
    for user_id, username in connection.execute(
        sa.select(users.c.id, users.c.username).order_by(users.c.id)
    ):
        digest = skeleton_digest(username)
        if digest in taken:
            continue
        taken.add(digest)
        connection.execute(
            users.update().where(users.c.id == user_id).values(username_skeleton=digest)
        )
    op.create_index("ix_users_username_skeleton", "users", ["username_skeleton"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_username_skeleton", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("username_skeleton")
