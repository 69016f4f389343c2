"""change journal: an entry may stand for a run of consecutive keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Set: the entry stands for every key from ``key`` to ``last_key`` (a batch's new entities in one entry).
    op.add_column('ix_changes', sa.Column('last_key', sa.BigInteger(), nullable=True))


def downgrade():
    # Each run written out key by key first: the older code reads one key an entry.
    bind = op.get_bind()
    runs = bind.execute(sa.text("SELECT kind, key, last_key, company_id, changed_at FROM ix_changes "
                                "WHERE last_key IS NOT NULL ORDER BY seq")).all()
    keys = [{"kind": run.kind, "key": key, "company_id": run.company_id, "changed_at": run.changed_at}
            for run in runs for key in range(run.key + 1, run.last_key + 1)]
    if keys:
        bind.execute(sa.text("INSERT INTO ix_changes (kind, key, company_id, changed_at) "
                             "VALUES (:kind, :key, :company_id, :changed_at)"), keys)
    op.drop_column('ix_changes', 'last_key')
