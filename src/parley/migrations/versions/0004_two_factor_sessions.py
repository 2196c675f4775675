"""Two-factor authentication and server-side web sessions.

users gain a TOTP secret, whether it is in force, and the time step of the last code
accepted; recovery_codes holds the hashes of each user's one-time recovery codes;
api_tokens gain the device and address of a login. The web cookie now holds a random
session id instead of a token, so the web sessions made before are ended: their cookies
name nothing the new code reads.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column(
        "users",
        sa.Column("totp_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("api_tokens", sa.Column("device", sa.String(length=64), nullable=True))
    op.add_column("api_tokens", sa.Column("address", sa.String(length=64), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)
    op.execute("DELETE FROM api_tokens WHERE kind = 'session'")


def downgrade() -> None:
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    # The old code kept a token in the cookie: the id-only sessions cannot carry over.
    op.execute("DELETE FROM api_tokens WHERE kind = 'session'")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("device")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled")
        batch_op.drop_column("totp_secret")
