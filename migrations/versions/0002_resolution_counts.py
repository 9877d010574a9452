"""resolution counts per prefix per day

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolution_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("prefix_key", sa.String(length=128), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "prefix_key", name=op.f("pk_resolution_counts")),
    )


def downgrade() -> None:
    op.drop_table("resolution_counts")
