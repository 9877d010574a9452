"""lockout of Handle identities after wrong Basic-auth secrets

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_lockouts",
        sa.Column("identity", sa.String(length=300), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("identity", name=op.f("pk_secret_lockouts")),
    )


def downgrade() -> None:
    op.drop_table("secret_lockouts")
