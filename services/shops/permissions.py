"""The permission flags of a shop account (権限設定), in the order of the manual's screen.

Part of the shops service's public contract: other services and the gateway check a flag with
``Scope.ensure_permitted(<name>)``. Company operators hold every permission.
"""
# name, Japanese label, default (the manual's 権限設定 screen: use allowed, export refused)
FLAGS = (
    ("may_use_daily_monthly_report", "集計:日報月報 利用許可", True),
    ("may_use_sales_report", "集計:売上 利用許可", True),
    ("may_use_repeat_rate_report", "集計:リピート率 利用許可", True),
    ("may_use_product_report", "集計:商品 利用許可", True),
    ("may_export_customers", "顧客情報 出力許可", False),
    ("may_export_purchases", "購入情報 出力許可", False),
    ("may_export_daily_monthly_report", "集計:日報月報 出力許可", False),
    ("may_export_sales_report", "集計:売上 出力許可", False),
    ("may_export_repeat_rate_report", "集計:リピート率 出力許可", False),
    ("may_export_product_report", "集計:商品 出力許可", False),
    ("may_export_purchase_status", "集計:購入状況 出力許可", False),
    ("may_use_custom_csv_download", "カスタマイズCSV_DL 利用許可", False),
)

NAMES = tuple(name for name, _label, _default in FLAGS)
LABELS = {name: label for name, label, _default in FLAGS}
DEFAULTS = {name: default for name, _label, default in FLAGS}
