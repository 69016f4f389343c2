"""mails, activities, address states

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:12:02.979184
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('address_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'customer_id', 'address', name='uq_address_states')
    )
    with op.batch_alter_table('address_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_states_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_address_states_customer_id'), ['customer_id'], unique=False)

    op.create_table('mail_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('member_number', sa.String(length=50), nullable=False),
    sa.Column('activity', sa.String(length=10), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_key', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'report_key', name='uq_mail_activities_report')
    )
    with op.batch_alter_table('mail_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_activities_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_activities_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_activities_mail_id'), ['mail_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_activities_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('mail_number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('scenario_number', sa.Integer(), nullable=True),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'mail_number', name='uq_mails_company_number')
    )
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mails_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mails_scenario_number'), ['scenario_number'], unique=False)



def downgrade():
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mails_scenario_number'))
        batch_op.drop_index(batch_op.f('ix_mails_company_id'))

    op.drop_table('mails')
    with op.batch_alter_table('mail_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_activities_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_mail_activities_mail_id'))
        batch_op.drop_index(batch_op.f('ix_mail_activities_customer_id'))
        batch_op.drop_index(batch_op.f('ix_mail_activities_company_id'))

    op.drop_table('mail_activities')
    with op.batch_alter_table('address_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_states_customer_id'))
        batch_op.drop_index(batch_op.f('ix_address_states_company_id'))

    op.drop_table('address_states')
