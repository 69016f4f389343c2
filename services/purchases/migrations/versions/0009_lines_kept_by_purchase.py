"""purchase_lines: kept by (purchase, line number), the purchase's deletion taking them by a trigger

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# A line is written only for a purchase inserted or locked (FOR UPDATE) in the line's own transaction, so no key to
# the purchase is checked line by line: that check took a look-up and a row lock for every line, and the
# surrogate id a sequence and an index more, about two thirds of the database's work in a COPY of order lines
# (docs/performance.md). The lines were numbered 1, 2, … within their purchase from the start: (purchase_id,
# line_no) is their key, and answers the look-up of a purchase's lines that the index on purchase_id did.
_GO = ("CREATE OR REPLACE FUNCTION purchase_lines_go_with_their_purchase() RETURNS trigger LANGUAGE plpgsql AS $$ "
       "BEGIN DELETE FROM purchase_lines WHERE purchase_id IN (SELECT id FROM gone); RETURN NULL; END $$")
_TRIGGER = ("CREATE TRIGGER purchase_lines_go_with_their_purchase AFTER DELETE ON purchases "
            "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION purchase_lines_go_with_their_purchase()")
_SQLITE_TRIGGER = ("CREATE TRIGGER purchase_lines_go_with_their_purchase AFTER DELETE ON purchases "
                   "BEGIN DELETE FROM purchase_lines WHERE purchase_id = OLD.id; END")

_NAMES = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s', 'pk': 'pk_%(table_name)s'}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('purchase_lines_purchase_id_fkey', 'purchase_lines', type_='foreignkey')
        op.drop_index('ix_purchase_lines_purchase_id', table_name='purchase_lines')
        op.drop_constraint('purchase_lines_pkey', 'purchase_lines', type_='primary')
        op.drop_column('purchase_lines', 'id')
        op.create_primary_key('purchase_lines_pkey', 'purchase_lines', ['purchase_id', 'line_no'])
        op.execute(_GO)
        op.execute(_TRIGGER)
    else:
        with op.batch_alter_table('purchase_lines', recreate='always', naming_convention=_NAMES) as batch:
            batch.drop_constraint('fk_purchase_lines_purchase_id_purchases', type_='foreignkey')
            batch.drop_index('ix_purchase_lines_purchase_id')
            batch.drop_column('id')
            batch.create_primary_key('pk_purchase_lines', ['purchase_id', 'line_no'])
        op.execute(_SQLITE_TRIGGER)


def downgrade():
    op.execute("DROP TRIGGER purchase_lines_go_with_their_purchase"
               + (" ON purchases" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION purchase_lines_go_with_their_purchase()")
        op.drop_constraint('purchase_lines_pkey', 'purchase_lines', type_='primary')
        op.execute("ALTER TABLE purchase_lines ADD COLUMN id SERIAL PRIMARY KEY")
        op.create_foreign_key('purchase_lines_purchase_id_fkey', 'purchase_lines', 'purchases', ['purchase_id'],
                              ['id'], ondelete='CASCADE')
        op.create_index('ix_purchase_lines_purchase_id', 'purchase_lines', ['purchase_id'])
    else:
        with op.batch_alter_table('purchase_lines', recreate='always', naming_convention=_NAMES) as batch:
            batch.drop_constraint('pk_purchase_lines', type_='primary')
            batch.add_column(sa.Column('id', sa.Integer(), nullable=True))
        op.execute("UPDATE purchase_lines SET id = rowid")
        with op.batch_alter_table('purchase_lines', recreate='always', naming_convention=_NAMES) as batch:
            batch.alter_column('id', nullable=False)
            batch.create_primary_key('pk_purchase_lines', ['id'])
            batch.create_foreign_key('fk_purchase_lines_purchase_id_purchases', 'purchases', ['purchase_id'], ['id'],
                                     ondelete='CASCADE')
            batch.create_index('ix_purchase_lines_purchase_id', ['purchase_id'])
