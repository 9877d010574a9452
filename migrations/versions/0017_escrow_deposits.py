"""data escrow: the deposits this node wrote, and where each was sent

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escrow_deposits",
        sa.Column("deposit_id", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("prev_id", sa.String(length=13), nullable=True),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("resend", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "destinations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deposit_id", name=op.f("pk_escrow_deposits")),
    )
    op.create_index(op.f("ix_escrow_deposits_created_at"), "escrow_deposits", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_escrow_deposits_created_at"), table_name="escrow_deposits")
    op.drop_table("escrow_deposits")
