"""基本設定 per shop: each shop's registration form and notification mail; the company's stay its defaults

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # No rows are copied: a shop without settings of its own follows the company's, as every shop did before.
    op.create_table('shop_registration_settings',
    sa.Column('shop_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('fields_json', sa.Text(), nullable=False),
    sa.Column('notification_subject', sa.String(length=200), nullable=False),
    sa.Column('notification_body', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('shop_id')
    )
    with op.batch_alter_table('shop_registration_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_registration_settings_company_id'), ['company_id'], unique=False)


def downgrade():
    with op.batch_alter_table('shop_registration_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_registration_settings_company_id'))
    op.drop_table('shop_registration_settings')
