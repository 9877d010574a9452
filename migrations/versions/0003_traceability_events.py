"""traceability events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_items',
    sa.Column('handle_key', sa.Text(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('handle_key', 'event_seq', 'role', name=op.f('pk_event_items'))
    )
    op.create_index('ix_event_items_lifecycle', 'event_items', ['handle_key', 'event_time', 'event_seq'], unique=False)
    op.create_table('trace_links',
    sa.Column('handle_key', sa.Text(), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('neighbor_key', sa.Text(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('handle_key', 'direction', 'neighbor_key', 'event_seq', name=op.f('pk_trace_links'))
    )
    op.create_table('events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=True),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_time_zone_offset', sa.String(length=6), nullable=False),
    sa.Column('record_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('biz_step', sa.String(length=200), nullable=True),
    sa.Column('disposition', sa.String(length=200), nullable=True),
    sa.Column('read_point', sa.Text(), nullable=True),
    sa.Column('biz_location', sa.Text(), nullable=True),
    sa.Column('enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('captured_by', sa.String(length=300), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_events_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_events_event_id'))
    )
    op.create_table('trace_grants',
    sa.Column('owner_enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grantee_enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grantee_enterprise_id'], ['enterprises.id'], name=op.f('fk_trace_grants_grantee_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['owner_enterprise_id'], ['enterprises.id'], name=op.f('fk_trace_grants_owner_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('owner_enterprise_id', 'grantee_enterprise_id', name=op.f('pk_trace_grants'))
    )


def downgrade() -> None:
    op.drop_table('trace_grants')
    op.drop_table('events')
    op.drop_table('trace_links')
    op.drop_index('ix_event_items_lifecycle', table_name='event_items')
    op.drop_table('event_items')
