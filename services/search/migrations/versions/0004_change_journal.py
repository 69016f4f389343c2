"""change journal the replicas' in-memory columns follow

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 22:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ix_changes',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index(op.f('ix_ix_changes_changed_at'), 'ix_changes', ['changed_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_ix_changes_changed_at'), table_name='ix_changes')
    op.drop_table('ix_changes')
