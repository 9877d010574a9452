"""accounts keep the SNMS login digest, sha256(password), for POST /identity/token/v1

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03

The SNMS digest login sends sha256(sha256(password) + yyyy-MM-dd); checking it needs sha256(password), which the
scrypt hash cannot give. Accounts made before this revision have none until their next password login or change.
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("snms_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("snms_digest")
