"""customer master, settings, support history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:38:31.688419
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attribute_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=125), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attribute_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attribute_groups_company_id'), ['company_id'], unique=False)

    op.create_table('company_settings',
    sa.Column('company_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fields_json', sa.Text(), nullable=False),
    sa.Column('notification_subject', sa.String(length=200), nullable=False),
    sa.Column('notification_body', sa.Text(), nullable=False),
    sa.Column('registration_version', sa.Integer(), nullable=False),
    sa.Column('remarks_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('company_id')
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('member_number', sa.String(length=50), nullable=False),
    sa.Column('family_name', sa.String(length=50), nullable=False),
    sa.Column('given_name', sa.String(length=50), nullable=False),
    sa.Column('family_kana', sa.String(length=100), nullable=False),
    sa.Column('given_kana', sa.String(length=100), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('mail_permission', sa.String(length=10), nullable=False),
    sa.Column('mobile_email', sa.String(length=254), nullable=False),
    sa.Column('mobile_is_smartphone', sa.Boolean(), nullable=False),
    sa.Column('pc_email', sa.String(length=254), nullable=False),
    sa.Column('pc_is_smartphone', sa.Boolean(), nullable=False),
    sa.Column('dm_permission', sa.Boolean(), nullable=False),
    sa.Column('test_recipient', sa.Boolean(), nullable=False),
    sa.Column('mobile_phone', sa.String(length=20), nullable=False),
    sa.Column('home_phone', sa.String(length=20), nullable=False),
    sa.Column('fax', sa.String(length=20), nullable=False),
    sa.Column('postal_code', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('customer_class', sa.String(length=20), nullable=False),
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
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'member_number', name='uq_customers_company_member')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_shop_id'), ['shop_id'], unique=False)

    op.create_table('member_sequences',
    sa.Column('company_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('company_id')
    )
    op.create_table('remark_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('shown', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'position', name='uq_remark_settings_company_position')
    )
    with op.batch_alter_table('remark_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remark_settings_company_id'), ['company_id'], unique=False)

    op.create_table('sent_notifications',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('attribute_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=125), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['attribute_groups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attribute_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attribute_choices_group_id'), ['group_id'], unique=False)

    op.create_table('support_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('staff', sa.String(length=100), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('support_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_entries_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_entries_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_entries_entered_at'), ['entered_at'], unique=False)

    op.create_table('customer_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('choice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['choice_id'], ['attribute_choices.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['attribute_groups.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'group_id', name='uq_customer_choices_customer_group')
    )
    with op.batch_alter_table('customer_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_choices_customer_id'), ['customer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('customer_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_choices_customer_id'))

    op.drop_table('customer_choices')
    with op.batch_alter_table('support_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_entries_entered_at'))
        batch_op.drop_index(batch_op.f('ix_support_entries_customer_id'))
        batch_op.drop_index(batch_op.f('ix_support_entries_company_id'))

    op.drop_table('support_entries')
    with op.batch_alter_table('attribute_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attribute_choices_group_id'))

    op.drop_table('attribute_choices')
    op.drop_table('sent_notifications')
    with op.batch_alter_table('remark_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remark_settings_company_id'))

    op.drop_table('remark_settings')
    op.drop_table('member_sequences')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_shop_id'))
        batch_op.drop_index(batch_op.f('ix_customers_company_id'))

    op.drop_table('customers')
    op.drop_table('company_settings')
    with op.batch_alter_table('attribute_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attribute_groups_company_id'))

    op.drop_table('attribute_groups')
