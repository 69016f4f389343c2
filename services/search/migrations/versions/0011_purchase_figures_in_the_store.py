"""a customer's purchase figures computed by the replicas' stores: the index keeps only its address errors

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ix_address_errors',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('address_errors', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('ix_address_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_address_errors_company_id'), ['company_id'], unique=False)
    # Every customer with an address state keeps its row: a rebuild finds the company's address states by it.
    op.execute("INSERT INTO ix_address_errors (customer_id, company_id, address_errors) "
               "SELECT s.customer_id, s.company_id, s.address_errors FROM ix_customer_summaries s "
               "WHERE s.customer_id IN (SELECT customer_id FROM ix_address_states)")
    op.drop_table('ix_customer_summaries')


def downgrade():
    op.create_table('ix_customer_summaries',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('first_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_order_code', sa.String(length=100), nullable=False, server_default=''),
    sa.Column('latest_purchase_id', sa.Integer(), nullable=True),
    sa.Column('purchase_count', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('purchase_total', sa.BigInteger(), nullable=False, server_default='0'),
    sa.Column('address_errors', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('ix_customer_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_first_purchase_at'), ['first_purchase_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_latest_purchase_at'), ['latest_purchase_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_purchase_count'), ['purchase_count'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_purchase_total'), ['purchase_total'], unique=False)
    # The purchase figures are not kept here any more: `python -m services rebuild <company>` computes them again.
    op.execute("INSERT INTO ix_customer_summaries (customer_id, company_id, address_errors) "
               "SELECT customer_id, company_id, address_errors FROM ix_address_errors")
    op.drop_table('ix_address_errors')
