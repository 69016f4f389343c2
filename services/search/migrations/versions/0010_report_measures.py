"""what 集計 reads: a customer's 顧客区分, a purchase's sales before discount, a line's unit price

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ix_customers', sa.Column('customer_class', sa.String(length=20), nullable=False,
                                            server_default='new'))
    op.add_column('ix_purchases', sa.Column('sales', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('ix_purchase_lines', sa.Column('unit_price', sa.Integer(), nullable=False, server_default='0'))
    # Rows indexed before lack these values: their applied version 0 makes reconcile report them stale, and
    # `python -m services repair <company>` (or the next event of each) reads them again from their owners.
    op.execute("UPDATE applied_versions SET version = 0 WHERE entity IN ('customer', 'purchase')")


def downgrade():
    op.drop_column('ix_purchase_lines', 'unit_price')
    op.drop_column('ix_purchases', 'sales')
    op.drop_column('ix_customers', 'customer_class')
