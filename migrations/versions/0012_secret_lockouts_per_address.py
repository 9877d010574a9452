"""Basic-auth secret lockouts counted per identity and client address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The table holds only short-lived counts and locks (15 minutes by default), so it is made again with the new key
rather than altered: counts in flight when the node is upgraded start again from zero.
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _create(per_address: bool) -> None:
    columns = [sa.Column("identity", sa.String(length=300), nullable=False)]
    if per_address:
        columns.append(sa.Column("source", sa.String(length=64), nullable=False))
    op.create_table(
        "secret_lockouts",
        *columns,
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("identity", *(["source"] if per_address else []), name=op.f("pk_secret_lockouts")),
    )


def upgrade() -> None:
    op.drop_table("secret_lockouts")
    _create(per_address=True)


def downgrade() -> None:
    op.drop_table("secret_lockouts")
    _create(per_address=False)
