"""outbox: an index of the events still to publish, in order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # The relay asks for the oldest unpublished events; without this index PostgreSQL walks the primary key past every
    # published event still kept (a week of them) to find them.
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False,
                    postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))


def downgrade():
    op.drop_index('ix_outbox_pending', table_name='outbox')
