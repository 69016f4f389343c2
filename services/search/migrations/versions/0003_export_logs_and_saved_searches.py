"""export logs and saved searches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:35:45.773919
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('columns', sa.Text(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_logs_company_id'), ['company_id'], unique=False)

    op.create_table('saved_search_members',
    sa.Column('saved_search_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('saved_search_id', 'customer_id')
    )
    op.create_table('saved_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('customer_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_searches_company_id'), ['company_id'], unique=False)



def downgrade():
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_searches_company_id'))

    op.drop_table('saved_searches')
    op.drop_table('saved_search_members')
    with op.batch_alter_table('export_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_logs_company_id'))

    op.drop_table('export_logs')
