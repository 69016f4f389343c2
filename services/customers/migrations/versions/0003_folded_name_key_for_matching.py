"""folded name key for matching

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:09:22.028389
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=300), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_customers_name_key'), ['name_key'], unique=False)
    # Fill the key of customers registered before it existed.
    from services.customers.japanese import fold

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, family_name, given_name, family_kana, given_kana FROM customers")).all()
    for row in rows:
        key = " ".join(fold(part) for part in row[1:])
        bind.execute(sa.text("UPDATE customers SET name_key = :key WHERE id = :id"), {"key": key, "id": row[0]})



def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name_key'))
        batch_op.drop_column('name_key')

