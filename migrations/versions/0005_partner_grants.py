"""trace grants to enterprises of other nodes, named by their unified social credit code

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_grants",
        sa.Column("owner_enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grantee_credit_code", sa.String(length=18), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_partner_grants_owner_enterprise_id_enterprises")),
        sa.PrimaryKeyConstraint("owner_enterprise_id", "grantee_credit_code", name=op.f("pk_partner_grants")),
    )
    op.create_index("ix_partner_grants_grantee", "partner_grants", ["grantee_credit_code"])


def downgrade() -> None:
    op.drop_index("ix_partner_grants_grantee", table_name="partner_grants")
    op.drop_table("partner_grants")
