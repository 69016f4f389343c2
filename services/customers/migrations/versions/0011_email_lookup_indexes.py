"""customers: indexes for finding a customer by mail address, compared without case

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # An order file that names its customers by address (Shopify; EC-CUBE's guest orders) has them looked up with
    # lower(address) IN (...): without these, every batch read the whole company's customers.
    op.create_index('ix_customers_company_pc_email', 'customers', ['company_id', sa.text('lower(pc_email)')])
    op.create_index('ix_customers_company_mobile_email', 'customers', ['company_id', sa.text('lower(mobile_email)')])


def downgrade():
    op.drop_index('ix_customers_company_mobile_email', table_name='customers')
    op.drop_index('ix_customers_company_pc_email', table_name='customers')
