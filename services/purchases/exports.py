"""The 購入情報 download of one customer: one row per purchase line, as the 購入履歴 tab shows it."""
from sqlalchemy import select

from services.common import arguments, csvfiles

from .fields import PURCHASE_EXPORT_HEADERS, VALUE_LABELS
from .models import Purchase

COUNTED = VALUE_LABELS["counted"]


def purchase_rows(session, scope, customer_id, shop_labels):
    """{headers, rows} of the customer's purchases in scope, newest first (購入情報 出力許可 needed).

    ``shop_labels``: shop id → how the screens name the shop ("103: LTV-Innovation Shop"), from the shops service.
    Moments are written in Japan time as Excel reads them; 集計対象 as 対象 / 対象外.
    """
    scope.ensure_permitted("may_export_purchases")
    customer_id = arguments.entity_id(customer_id, "customer_id")
    query = select(Purchase).where(Purchase.company_id == scope.company_id, Purchase.customer_id == customer_id)
    if scope.is_shop:
        query = query.where(Purchase.shop_id == scope.shop_id)
    rows = []
    for p in session.scalars(query.order_by(Purchase.purchased_at.desc(), Purchase.id.desc())):
        for line in p.lines:
            rows.append([p.member_number, p.order_code, shop_labels.get(p.shop_id, str(p.shop_id)),
                         csvfiles.excel_time(p.purchased_at), csvfiles.excel_time(p.shipped_at), line.product_code,
                         line.product_name, line.line_remark, line.quantity, line.unit_price,
                         line.quantity * line.unit_price, p.sales, p.billed_amount, p.sales - p.billed_amount,
                         p.media, COUNTED[bool(p.counted)]])
    return {"headers": list(PURCHASE_EXPORT_HEADERS), "rows": rows}
