"""GS1 company prefixes declared by enterprises, and the alias index: one row per alias value of a live record

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

``handle_aliases`` is kept by the write path in the writer's transaction, like the value index (0013). Its primary
key (scheme, canonical value) is what makes "one handle per key" hold under concurrent writers. See
docs/adr/0016-gs1-keys-and-aliases.md.
"""

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gs1_company_prefixes",
        sa.Column("company_prefix", sa.String(length=12), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_gs1_company_prefixes_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("company_prefix", name=op.f("pk_gs1_company_prefixes")),
    )
    op.create_index(
        op.f("ix_gs1_company_prefixes_enterprise_id"), "gs1_company_prefixes", ["enterprise_id"], unique=False
    )
    op.create_table(
        "handle_aliases",
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("value_key", sa.Text(), nullable=False),
        sa.Column("handle_key", sa.Text(), nullable=False),
        sa.Column("value_index", sa.BigInteger(), nullable=False),
        sa.Column("prefix_key", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("scheme", "value_key", name=op.f("pk_handle_aliases")),
    )
    op.create_index(op.f("ix_handle_aliases_handle_key"), "handle_aliases", ["handle_key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handle_aliases_handle_key"), table_name="handle_aliases")
    op.drop_table("handle_aliases")
    op.drop_index(op.f("ix_gs1_company_prefixes_enterprise_id"), table_name="gs1_company_prefixes")
    op.drop_table("gs1_company_prefixes")
