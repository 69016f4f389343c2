"""change journal: the company of each change, and the index's identity, for the replicas' stores

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # A replica keeps each company's store apart and applies a change to that company's store only.
    op.add_column('ix_changes', sa.Column('company_id', sa.Integer(), nullable=True))
    # A store on disk belongs to one index: a database made again (with a journal starting afresh) is another.
    op.create_table('ix_identity', sa.Column('token', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('token'))


def downgrade():
    op.drop_table('ix_identity')
    op.drop_column('ix_changes', 'company_id')
