"""The file kinds an import reads, each from its owner's module: customers (顧客) and purchases (購入履歴)."""
from services.common.importing import Kind
from services.customers import import_formats as customer_files
from services.purchases import import_formats as purchase_files

CUSTOMERS = Kind(name="customers", fields=customer_files.FIELDS, formats=customer_files.FORMATS,
                 items=customer_files.items, column_of=customer_files.column_of, row_of=customer_files.row_of)
PURCHASES = Kind(name="purchases", fields=purchase_files.FIELDS, formats=purchase_files.FORMATS,
                 items=purchase_files.items, column_of=purchase_files.column_of, row_of=purchase_files.row_of)
KINDS = {"customers": CUSTOMERS, "purchases": PURCHASES}
KIND_LABELS = {"customers": "顧客データ", "purchases": "購入履歴データ"}
