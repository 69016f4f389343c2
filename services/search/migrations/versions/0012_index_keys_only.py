"""the index's tables keep only the keys they are read and written by: every question is answered by the replicas'
stores, so the indexes made for the conditions once asked in SQL here cost each write and serve no read

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:30:00.000000
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

DROPPED = {  # table → columns whose index goes (each read by the company, or by its key, is kept)
    'ix_customer_choices': ['choice_id'],
    'ix_customers': ['birth_date', 'gender', 'mail_permission', 'member_number', 'member_number_value', 'name_key',
                     'registered_at', 'shop_id'],
    'ix_mail_activities': ['customer_id', 'mail_id', 'occurred_at'],
    'ix_mails': ['family'],
    'ix_purchase_lines': ['customer_id', 'product_code'],
    'ix_purchases': ['counted', 'customer_id', 'purchased_at', 'shop_id'],
}


def upgrade():
    for table, columns in DROPPED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))


def downgrade():
    for table, columns in DROPPED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
