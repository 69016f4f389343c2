"""purchase_lines: the product a line names is kept by the products table itself, not checked line by line

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:30:00.000000
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# A product is never deleted (the catalogue offers no deletion, and a category goes only once it holds none):
# the database refuses it, so that every line's product_id, read or created in the line's own transaction, names a
# product for good. The foreign key checked that for every line written, a look-up and a row lock each: a fifth of
# the database's work in a batch of order lines (docs/performance.md).
_REFUSE = ("CREATE OR REPLACE FUNCTION products_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ "
           "BEGIN RAISE EXCEPTION 'products are never deleted (purchase lines name them)'; END $$")
_TRIGGER = ("CREATE TRIGGER products_never_deleted BEFORE DELETE ON products "
            "FOR EACH STATEMENT EXECUTE FUNCTION products_never_deleted()")
_SQLITE_TRIGGER = ("CREATE TRIGGER products_never_deleted BEFORE DELETE ON products "
                   "BEGIN SELECT RAISE(ABORT, 'products are never deleted (purchase lines name them)'); END")

_NAMES = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('purchase_lines_product_id_fkey', 'purchase_lines', type_='foreignkey')
        op.execute(_REFUSE)
        op.execute(_TRIGGER)
        # An outbox row holds a batch's event (hundreds of kB of JSON), read once by the relay: stored as it is,
        # not compressed on the way in and out.
        op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL")
    else:
        # SQLite's key has no name: the table's keys are named as it is read again, and the one dropped
        with op.batch_alter_table('purchase_lines', recreate='always', naming_convention=_NAMES) as batch:
            batch.drop_constraint('fk_purchase_lines_product_id_products', type_='foreignkey')
        op.execute(_SQLITE_TRIGGER)


def downgrade():
    op.execute("DROP TRIGGER products_never_deleted ON products" if op.get_bind().dialect.name == 'postgresql'
               else "DROP TRIGGER products_never_deleted")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION products_never_deleted()")
        op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTENDED")
        op.create_foreign_key('purchase_lines_product_id_fkey', 'purchase_lines', 'products', ['product_id'], ['id'])
    else:
        with op.batch_alter_table('purchase_lines', recreate='always') as batch:
            batch.create_foreign_key('fk_purchase_lines_product_id_products', 'products', ['product_id'], ['id'])
