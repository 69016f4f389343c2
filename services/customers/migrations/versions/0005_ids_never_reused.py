"""customer and support-history ids are never handed out twice (SQLite AUTOINCREMENT)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:30:00.000000
"""
from alembic import op

from services.common.migrations import never_reuse_ids

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    never_reuse_ids(op, ["customers", "support_entries"])


def downgrade():
    pass  # AUTOINCREMENT does no harm to an older schema
