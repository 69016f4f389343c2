"""RFM settings: each company's rank names, bands and ranks of the R×F cells

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # One row per company that saved its own; the others use the defaults.
    op.create_table('rfm_settings',
    sa.Column('company_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('settings', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id')
    )


def downgrade():
    op.drop_table('rfm_settings')
