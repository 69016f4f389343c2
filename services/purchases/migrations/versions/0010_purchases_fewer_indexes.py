"""purchases: no index on the shop alone nor on the moment of purchase

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:00:00.000000
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# A purchase is read by its id, by (shop, order code) (the unique key, whose first column answers the shop), by its
# customer or by its company; a customer's purchases are sorted by moment among themselves. Neither index served a
# read, and each cost every purchase written (2 of 13 µs of a new purchase's insert: docs/performance.md).
DROPPED = ('ix_purchases_shop_id', 'ix_purchases_purchased_at')


def upgrade():
    for name in DROPPED:
        op.drop_index(name, table_name='purchases')


def downgrade():
    op.create_index('ix_purchases_shop_id', 'purchases', ['shop_id'])
    op.create_index('ix_purchases_purchased_at', 'purchases', ['purchased_at'])
