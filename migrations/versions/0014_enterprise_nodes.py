"""enterprise prefixes homed at enterprise nodes: their site information and health

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprise_nodes",
        sa.Column("prefix_key", sa.String(length=128), nullable=False),
        sa.Column("site", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("homed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("homed_by", sa.String(length=300), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("healthy", sa.Boolean(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["prefix_key"], ["prefixes.prefix_key"], name=op.f("fk_enterprise_nodes_prefix_key_prefixes")
        ),
        sa.PrimaryKeyConstraint("prefix_key", name=op.f("pk_enterprise_nodes")),
    )


def downgrade() -> None:
    op.drop_table("enterprise_nodes")
