"""public-key sessions and challenges, account lockout, API keys, read grants

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "key_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("identity", sa.String(length=300), nullable=True),
        sa.Column("used_cnonces", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_key_sessions")),
    )
    op.create_index(op.f("ix_key_sessions_expires_at"), "key_sessions", ["expires_at"], unique=False)
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "api_keys",
        sa.Column("id", _BIG_ID, sa.Identity(), nullable=False),
        sa.Column("enterprise_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_api_keys_enterprise_id_enterprises")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_keys_digest")),
    )
    op.create_index(op.f("ix_api_keys_enterprise_id"), "api_keys", ["enterprise_id"], unique=False)
    op.create_table(
        "read_grants",
        sa.Column("handle_key", sa.Text(), nullable=False),
        sa.Column("value_index", sa.BigInteger(), nullable=False),
        sa.Column("grantee", sa.String(length=320), nullable=False),
        sa.Column("granted_by", sa.String(length=300), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handle_key", "value_index", "grantee", name=op.f("pk_read_grants")),
    )


def downgrade() -> None:
    op.drop_table("read_grants")
    op.drop_index(op.f("ix_api_keys_enterprise_id"), table_name="api_keys")
    op.drop_table("api_keys")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
    op.drop_index(op.f("ix_key_sessions_expires_at"), table_name="key_sessions")
    op.drop_table("key_sessions")
