"""trace links other nodes reported about this node's identifiers (back-links)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_links",
        sa.Column("handle_key", sa.Text(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("neighbor_key", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_node", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handle_key", "direction", "neighbor_key", "event_id", name=op.f("pk_remote_links")),
    )


def downgrade() -> None:
    op.drop_table("remote_links")
