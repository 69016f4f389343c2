"""line permission (LINE送信可否) of indexed customers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # The owners default it to allowed, so rows indexed before the column existed agree with them.
    with op.batch_alter_table('ix_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_permission', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('ix_customers', schema=None) as batch_op:
        batch_op.drop_column('line_permission')
