"""reference links reported to other nodes, per record and target prefix; received ones found by source

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_reports",
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("target_prefix", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("source_key", "target_prefix", name=op.f("pk_reference_reports")),
    )
    op.create_index(op.f("ix_remote_links_neighbor_key"), "remote_links", ["neighbor_key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_remote_links_neighbor_key"), table_name="remote_links")
    op.drop_table("reference_reports")
