"""customer index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:25:24.528231
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('applied_versions',
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'entity_id')
    )
    op.create_table('ix_address_states',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('address_error', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'address')
    )
    op.create_table('ix_customer_choices',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('group_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('choice_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'group_id')
    )
    with op.batch_alter_table('ix_customer_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_customer_choices_choice_id'), ['choice_id'], unique=False)

    op.create_table('ix_customer_summaries',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('first_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_order_code', sa.String(length=100), nullable=False),
    sa.Column('latest_purchase_id', sa.Integer(), nullable=True),
    sa.Column('purchase_count', sa.Integer(), nullable=False),
    sa.Column('purchase_total', sa.BigInteger(), nullable=False),
    sa.Column('address_errors', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('ix_customer_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_first_purchase_at'), ['first_purchase_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_latest_purchase_at'), ['latest_purchase_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_purchase_count'), ['purchase_count'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customer_summaries_purchase_total'), ['purchase_total'], unique=False)

    op.create_table('ix_customers',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('member_number', sa.String(length=50), nullable=False),
    sa.Column('member_number_value', sa.BigInteger(), nullable=True),
    sa.Column('family_name', sa.String(length=50), nullable=False),
    sa.Column('given_name', sa.String(length=50), nullable=False),
    sa.Column('family_kana', sa.String(length=100), nullable=False),
    sa.Column('given_kana', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('mail_permission', sa.String(length=10), nullable=False),
    sa.Column('mobile_email', sa.String(length=254), nullable=False),
    sa.Column('pc_email', sa.String(length=254), nullable=False),
    sa.Column('dm_permission', sa.Boolean(), nullable=False),
    sa.Column('mobile_phone', sa.String(length=20), nullable=False),
    sa.Column('home_phone', sa.String(length=20), nullable=False),
    sa.Column('fax', sa.String(length=20), nullable=False),
    sa.Column('remark1', sa.Text(), nullable=False),
    sa.Column('remark2', sa.Text(), nullable=False),
    sa.Column('remark3', sa.Text(), nullable=False),
    sa.Column('remark4', sa.Text(), nullable=False),
    sa.Column('remark5', sa.Text(), nullable=False),
    sa.Column('remark6', sa.Text(), nullable=False),
    sa.Column('remark7', sa.Text(), nullable=False),
    sa.Column('remark8', sa.Text(), nullable=False),
    sa.Column('remark9', sa.Text(), nullable=False),
    sa.Column('remark10', sa.Text(), nullable=False),
    sa.Column('extra1', sa.Text(), nullable=False),
    sa.Column('extra2', sa.Text(), nullable=False),
    sa.Column('extra3', sa.Text(), nullable=False),
    sa.Column('extra4', sa.Text(), nullable=False),
    sa.Column('points_held', sa.Integer(), nullable=False),
    sa.Column('valid_points', sa.Integer(), nullable=False),
    sa.Column('points_expiry', sa.Date(), nullable=True),
    sa.Column('earliest_expiry', sa.Date(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ix_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_customers_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_gender'), ['gender'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_mail_permission'), ['mail_permission'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_member_number'), ['member_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_member_number_value'), ['member_number_value'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_registered_at'), ['registered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_customers_shop_id'), ['shop_id'], unique=False)

    op.create_table('ix_mail_activities',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=10), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ix_mail_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_mail_activities_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_mail_activities_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_mail_activities_mail_id'), ['mail_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_mail_activities_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('ix_mails',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('mail_number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('family', sa.String(length=10), nullable=False),
    sa.Column('scenario_number', sa.Integer(), nullable=True),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ix_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_mails_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_mails_family'), ['family'], unique=False)

    op.create_table('ix_purchase_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product_code', sa.String(length=50), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ix_purchase_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_purchase_lines_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchase_lines_product_code'), ['product_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchase_lines_purchase_id'), ['purchase_id'], unique=False)

    op.create_table('ix_purchases',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_code', sa.String(length=100), nullable=False),
    sa.Column('purchased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('billed_amount', sa.Integer(), nullable=False),
    sa.Column('media', sa.String(length=100), nullable=False),
    sa.Column('order_attributes', sa.Text(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ix_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ix_purchases_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchases_counted'), ['counted'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchases_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchases_purchased_at'), ['purchased_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ix_purchases_shop_id'), ['shop_id'], unique=False)



def downgrade():
    with op.batch_alter_table('ix_purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_purchases_shop_id'))
        batch_op.drop_index(batch_op.f('ix_ix_purchases_purchased_at'))
        batch_op.drop_index(batch_op.f('ix_ix_purchases_customer_id'))
        batch_op.drop_index(batch_op.f('ix_ix_purchases_counted'))
        batch_op.drop_index(batch_op.f('ix_ix_purchases_company_id'))

    op.drop_table('ix_purchases')
    with op.batch_alter_table('ix_purchase_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_purchase_lines_purchase_id'))
        batch_op.drop_index(batch_op.f('ix_ix_purchase_lines_product_code'))
        batch_op.drop_index(batch_op.f('ix_ix_purchase_lines_customer_id'))

    op.drop_table('ix_purchase_lines')
    with op.batch_alter_table('ix_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_mails_family'))
        batch_op.drop_index(batch_op.f('ix_ix_mails_company_id'))

    op.drop_table('ix_mails')
    with op.batch_alter_table('ix_mail_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_mail_activities_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_ix_mail_activities_mail_id'))
        batch_op.drop_index(batch_op.f('ix_ix_mail_activities_customer_id'))
        batch_op.drop_index(batch_op.f('ix_ix_mail_activities_company_id'))

    op.drop_table('ix_mail_activities')
    with op.batch_alter_table('ix_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_customers_shop_id'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_registered_at'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_name_key'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_member_number_value'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_member_number'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_mail_permission'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_gender'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_company_id'))
        batch_op.drop_index(batch_op.f('ix_ix_customers_birth_date'))

    op.drop_table('ix_customers')
    with op.batch_alter_table('ix_customer_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_customer_summaries_purchase_total'))
        batch_op.drop_index(batch_op.f('ix_ix_customer_summaries_purchase_count'))
        batch_op.drop_index(batch_op.f('ix_ix_customer_summaries_latest_purchase_at'))
        batch_op.drop_index(batch_op.f('ix_ix_customer_summaries_first_purchase_at'))
        batch_op.drop_index(batch_op.f('ix_ix_customer_summaries_company_id'))

    op.drop_table('ix_customer_summaries')
    with op.batch_alter_table('ix_customer_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ix_customer_choices_choice_id'))

    op.drop_table('ix_customer_choices')
    op.drop_table('ix_address_states')
    op.drop_table('applied_versions')
