"""accounts keep the SNMS login digest, sha256(password), for POST /identity/token/v1; templates keep their SNMS
object type

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

The SNMS digest login sends sha256(sha256(password) + yyyy-MM-dd); checking it needs sha256(password), which the
scrypt hash cannot give. Accounts made before this revision have none until their next password login or change.
A template's ``type`` (SNMS 元数据对象类型: 1 active identifier carrier, 2 other) was accepted and dropped before.
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("snms_digest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("object_type", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("object_type")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("snms_digest")
