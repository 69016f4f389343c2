"""folded address key for matching

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_key', sa.String(length=300), nullable=False, server_default=''))
    # Fill the key of customers registered before it existed.
    from services.customers.japanese import fold

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, address FROM customers WHERE address <> ''")).all()
    for row in rows:
        bind.execute(sa.text("UPDATE customers SET address_key = :key WHERE id = :id"),
                     {"key": fold(row[1] or "").replace(" ", ""), "id": row[0]})


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('address_key')
