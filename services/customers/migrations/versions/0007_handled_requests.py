"""handled requests; member numbers as numbers, for issuing past the highest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handled_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('handled_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_requests_created_at'), ['created_at'], unique=False)

    # Issuing a member number jumps past the highest one the sequence could have issued (customers/numbering.py).
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_number_value', sa.Integer(), nullable=True))
    bind = op.get_bind()
    issuable = re.compile(r'[1-9][0-9]{0,8}\Z')
    rows = bind.execute(sa.text("SELECT id, member_number FROM customers")).all()
    values = [{"id": row[0], "value": int(row[1])} for row in rows if issuable.match(row[1] or "")]
    for start in range(0, len(values), 1000):
        bind.execute(sa.text("UPDATE customers SET member_number_value = :value WHERE id = :id"),
                     values[start:start + 1000])
    op.create_index('ix_customers_company_number_value', 'customers', ['company_id', 'member_number_value'],
                    unique=False)


def downgrade():
    op.drop_index('ix_customers_company_number_value', table_name='customers')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('member_number_value')
    op.drop_table('handled_requests')
