"""Username skeleton: users.username_skeleton, unique, so look-alike names cannot coexist.

Usernames are now compared by their PRECIS UsernameCaseMapped form (lower case) rather
than NFKC + case folding, so each existing username_key is recomputed; one that PRECIS
refuses, or that would collide with another user's, keeps its old key.

Display names lose the bidi controls and invisible characters that new ones may not
hold (a name left empty becomes the username).

Existing users get the digest of their name's confusable skeleton (parley.usernames), in
id order; a user whose skeleton an earlier user already holds keeps NULL (which a unique
index allows many times): the earlier holder blocks every new look-alike just the same.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from parley.schemas.fields import clean_display_name
from parley.usernames import INVALID_KEY_PREFIX, key, skeleton_digest

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
        sa.column("username_key", sa.String),
        sa.column("username_skeleton", sa.String),
        sa.column("display_name", sa.String),
    )
    rows = connection.execute(
        sa.select(
            users.c.id, users.c.username, users.c.username_key, users.c.display_name
        ).order_by(users.c.id)
    ).all()
    keys = {old_key for _, _, old_key, _ in rows}
    digests: set[str] = set()
    for user_id, username, old_key, display_name in rows:
        values: dict[str, str] = {}
        shown = clean_display_name(display_name) or username
        if shown != display_name:
            values["display_name"] = shown
        new_key = key(username)
        if (
            new_key != old_key
            and not new_key.startswith(INVALID_KEY_PREFIX)
            and new_key not in keys
        ):
            keys.discard(old_key)
            keys.add(new_key)
            values["username_key"] = new_key
        digest = skeleton_digest(username)
        if digest not in digests:
            digests.add(digest)
            values["username_skeleton"] = digest
        if values:
            connection.execute(users.update().where(users.c.id == user_id).values(**values))
    op.create_index("ix_users_username_skeleton", "users", ["username_skeleton"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_username_skeleton", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("username_skeleton")
