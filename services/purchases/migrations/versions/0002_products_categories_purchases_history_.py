"""products, categories, purchases, history groups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:00:59.672396
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shop_id', 'name', name='uq_categories_shop_name')
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_categories_shop_id'), ['shop_id'], unique=False)

    op.create_table('history_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=125), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('history_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_groups_company_id'), ['company_id'], unique=False)

    op.create_table('purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('member_number', sa.String(length=50), nullable=False),
    sa.Column('order_code', sa.String(length=100), nullable=False),
    sa.Column('purchased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sales', sa.Integer(), nullable=False),
    sa.Column('billed_amount', sa.Integer(), nullable=False),
    sa.Column('media', sa.String(length=100), nullable=False),
    sa.Column('order_attributes', sa.Text(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shop_id', 'order_code', name='uq_purchases_shop_order_code')
    )
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchases_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchases_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchases_purchased_at'), ['purchased_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchases_shop_id'), ['shop_id'], unique=False)

    op.create_table('history_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=125), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['history_groups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('history_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_choices_group_id'), ['group_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shop_id', 'code', name='uq_products_shop_code')
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_shop_id'), ['shop_id'], unique=False)

    op.create_table('purchase_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('choice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['choice_id'], ['history_choices.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['history_groups.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('purchase_id', 'group_id', name='uq_purchase_answers_purchase_group')
    )
    with op.batch_alter_table('purchase_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_answers_purchase_id'), ['purchase_id'], unique=False)

    op.create_table('purchase_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('product_code', sa.String(length=50), nullable=False),
    sa.Column('product_name', sa.String(length=300), nullable=False),
    sa.Column('line_remark', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_lines_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_lines_purchase_id'), ['purchase_id'], unique=False)



def downgrade():
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_lines_purchase_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_lines_product_id'))

    op.drop_table('purchase_lines')
    with op.batch_alter_table('purchase_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_answers_purchase_id'))

    op.drop_table('purchase_answers')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_shop_id'))
        batch_op.drop_index(batch_op.f('ix_products_company_id'))
        batch_op.drop_index(batch_op.f('ix_products_category_id'))

    op.drop_table('products')
    with op.batch_alter_table('history_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_choices_group_id'))

    op.drop_table('history_choices')
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchases_shop_id'))
        batch_op.drop_index(batch_op.f('ix_purchases_purchased_at'))
        batch_op.drop_index(batch_op.f('ix_purchases_customer_id'))
        batch_op.drop_index(batch_op.f('ix_purchases_company_id'))

    op.drop_table('purchases')
    with op.batch_alter_table('history_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_groups_company_id'))

    op.drop_table('history_groups')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_shop_id'))
        batch_op.drop_index(batch_op.f('ix_categories_company_id'))

    op.drop_table('categories')
