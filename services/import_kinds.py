"""The file kinds an import reads, each defined by its owner: customers (顧客) and purchases (購入履歴)."""
from services.customers.import_formats import KIND as CUSTOMERS
from services.purchases.import_formats import KIND as PURCHASES

KINDS = {"customers": CUSTOMERS, "purchases": PURCHASES}
