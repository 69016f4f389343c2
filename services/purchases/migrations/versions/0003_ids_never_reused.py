"""purchase and category ids are never handed out twice (SQLite AUTOINCREMENT)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:30:00.000000
"""
from alembic import op

from services.common.migrations import never_reuse_ids

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    never_reuse_ids(op, ["purchases", "categories"])


def downgrade():
    pass  # AUTOINCREMENT does no harm to an older schema
