"""購入履歴 files the インポート機能 and the connector read: EC-CUBE 4's 受注CSV, Shopify's orders export, or any
line-item file mapped column by column (invoice, product code, description, quantity, date, unit price, customer).

Every format writes one row per order line, the rows of an order one after another (as carts export them); rows are
grouped into one ``record_orders`` order by 受注コード while the code stays the same. Order-level cells (customer,
dates, status) are taken from the first row of the order that has them: Shopify writes them on the first line only.

Cancelled and returned orders are kept with their status (never counted): EC-CUBE's 対応状況 キャンセル (注文取消し)
and 返品; Shopify's ``Cancelled at`` and a refunded ``Financial Status``; in any file a status column saying so, or
negative quantities (a cancellation invoice, written with the quantities it takes back). An order without a customer
(a guest order) is skipped with its reason: the CRM keeps customers' histories.
"""
from services.common import cells
from services.common.import_mapping import Cells, Field, ImportFormat, ImportItem
from services.common.importing import Kind

FIELDS = (
    Field("order_code", "受注コード", required=True,
          aliases=("注文番号", "受注番号", "伝票番号", "invoice", "invoiceno", "invoice no", "order id", "name")),
    Field("member_number", "会員番号", aliases=("会員ID", "顧客ID", "顧客番号", "customer id", "customerid")),
    Field("customer_email", "メールアドレス", aliases=("email",)),
    Field("purchased_at", "購入日時", required=True,
          aliases=("購入日", "受注日", "注文日", "invoicedate", "invoice date", "order date", "created at", "date")),
    Field("shipped_at", "発送日", aliases=("出荷日", "発送日時", "fulfilled at", "shipped at")),
    Field("product_code", "商品コード", required=True,
          aliases=("商品番号", "品番", "stockcode", "stock code", "sku", "product code", "lineitem sku")),
    Field("product_name", "商品名", aliases=("description", "product name", "lineitem name")),
    Field("quantity", "個数", required=True, aliases=("数量", "quantity", "qty", "lineitem quantity")),
    Field("unit_price", "単価", aliases=("価格", "販売価格", "unitprice", "unit price", "price", "lineitem price")),
    Field("status", "対応状況", aliases=("対応状況(名称)", "ステータス", "status", "financial status")),
    Field("cancelled_at", "キャンセル日", aliases=("cancelled at",)),
    Field("line_kind", "明細区分", aliases=("明細区分(ID)",)),
    Field("subtotal", "小計", aliases=("subtotal",)),
    Field("discount", "値引き", aliases=("値引", "割引", "discount amount")),
    Field("media", "購入メディア", aliases=("媒体", "source")),
)
FIELD_NAMES = tuple(field.name for field in FIELDS)

ECCUBE4_ORDERS = ImportFormat(
    key="eccube4_orders", label="EC-CUBE 4 受注CSV",
    columns={"order_code": "注文番号", "member_number": "会員ID", "purchased_at": "受注日", "shipped_at": "発送日",
             "product_code": "商品コード", "product_name": "商品名", "unit_price": "価格", "quantity": "個数",
             "status": "対応状況(ID)", "line_kind": "明細区分(ID)", "subtotal": "小計", "discount": "値引き"},
    signature=("注文番号", "会員ID", "受注日", "商品コード", "個数", "対応状況(ID)"))
SHOPIFY_ORDERS = ImportFormat(
    key="shopify_orders", label="Shopify 注文エクスポート",
    columns={"order_code": "Name", "customer_email": "Email", "purchased_at": "Created at",
             "shipped_at": "Fulfilled at", "product_code": "Lineitem sku", "product_name": "Lineitem name",
             "quantity": "Lineitem quantity", "unit_price": "Lineitem price", "status": "Financial Status",
             "cancelled_at": "Cancelled at", "subtotal": "Subtotal", "discount": "Discount Amount"},
    signature=("Name", "Email", "Financial Status", "Lineitem quantity", "Lineitem sku"))
FORMATS = (ECCUBE4_ORDERS, SHOPIFY_ORDERS)

ORDERED, CANCELLED, RETURNED = "ordered", "cancelled", "returned"
_STATUS_WORDS = {
    CANCELLED: ("キャンセル", "注文取消し", "注文取消", "取消", "取り消し", "cancelled", "canceled", "voided"),
    RETURNED: ("返品", "returned", "refunded"),
}
# EC-CUBE 4's 対応状況(ID) (OrderStatus): 3 注文取消し, 9 返品; the others are stages of an order that stands.
_ECCUBE_STATUS_IDS = {"3": CANCELLED, "9": RETURNED}
_PRODUCT_LINE_KINDS = ("", "1")  # EC-CUBE 4's 明細区分: 1 商品; 送料, 手数料, 割引, 税, ポイント are no product


def status_of(value):
    """A status cell → ordered / cancelled / returned (a word it does not know is an order that stands)."""
    if value.__class__ is str and value.isdigit() and value.isascii():  # EC-CUBE's 対応状況(ID): no word in it
        return _ECCUBE_STATUS_IDS.get(value, ORDERED)
    value = cells.text(value).lower()
    if value in _ECCUBE_STATUS_IDS:
        return _ECCUBE_STATUS_IDS[value]
    for status, words in _STATUS_WORDS.items():
        if any(word in value for word in words):
            return status
    return ORDERED


def _price(value):
    """A unit price in yen; a price with decimals (a file in another currency's habit) is rounded to the yen."""
    if value.__class__ is str and value.isdigit() and value.isascii():
        return int(value)  # plain digits, as most cells are
    text = cells.text(value).replace(",", "").replace("¥", "").replace("円", "")
    if not text:
        return None
    try:
        return int(round(float(text)))
    except ValueError:
        raise cells.CellUnreadable("not_integer") from None


class _Order:
    def __init__(self, code):
        self.code, self.rows, self.lines, self.line_rows = code, [], [], []
        self.values = {}


_ORDER_FIELDS = ("member_number", "customer_email", "purchased_at", "shipped_at", "status", "cancelled_at",
                 "subtotal", "discount", "media")
_ORDER_PARSERS = {"purchased_at": cells.moment, "shipped_at": cells.moment, "cancelled_at": cells.moment,
                  "subtotal": cells.integer, "discount": cells.integer}  # the other order fields: cells.text


def _collect(order, row, columns, order_fields):
    """``order_fields``: those of _ORDER_FIELDS the file has a column for."""
    order.rows.append(row)
    for name in order_fields:
        if name not in order.values and columns.raw(row, name).strip():
            order.values[name] = (row, name)
    kind = cells.text(columns.raw(row, "line_kind")) if columns.has("line_kind") else ""
    if kind in _PRODUCT_LINE_KINDS:
        order.line_rows.append(row)


def _record(order, columns, shop_id):
    item = ImportItem(rows=order.rows, line_row_numbers=[row.row_number for row in order.line_rows])
    for row in order.rows:
        if row.undecodable:
            item.problems.append({"row": row.row_number, "column": "", "code": "undecodable_row"})
    read = {}
    for name, (row, _) in order.values.items():
        read[name] = columns.read(item, row, name, _ORDER_PARSERS.get(name, cells.text))
    status = status_of(read.get("status"))
    if read.get("cancelled_at") is not None:
        status = CANCELLED
    lines, negative = [], False
    for row in order.line_rows:
        quantity = columns.read(item, row, "quantity", cells.integer)
        unit_price = columns.read(item, row, "unit_price", _price) if columns.has("unit_price") else None
        if quantity is not None and quantity < 0:
            negative, quantity = True, -quantity
        lines.append({"product_code": cells.text(columns.raw(row, "product_code")),
                      "product_name": columns.raw(row, "product_name").strip() if columns.has("product_name") else "",
                      "quantity": quantity, "unit_price": None if unit_price is None else abs(unit_price)})
    if negative and status == ORDERED:
        status = CANCELLED  # a cancellation invoice: the quantities it takes back
    member_number = read.get("member_number") or ""
    email = read.get("customer_email") or ""
    if not member_number and not email:
        item.skip_reason = "no_customer"
        return item
    if item.problems:
        return item
    record = {"shop_id": shop_id, "order_code": order.code, "purchased_at": None, "lines": lines, "status": status}
    if read.get("purchased_at") is not None:
        record["purchased_at"] = read["purchased_at"].isoformat()
    if read.get("shipped_at") is not None:
        record["shipped_at"] = read["shipped_at"].isoformat()
    if member_number:
        record["member_number"] = member_number
    else:
        record["customer_email"] = email
    if read.get("media"):
        record["media"] = read["media"]
    if read.get("subtotal") is not None and read.get("discount"):
        record["billed_amount"] = max(0, read["subtotal"] - abs(read["discount"]))
    item.record = record
    return item


def items(rows, header, mapping, shop_id):
    """The file's rows as ``ImportItem``s, one order each (its consecutive rows with the same 受注コード)."""
    columns = Cells(header, mapping)
    order_fields = [name for name in _ORDER_FIELDS if columns.has(name)]
    order = None
    for row in rows:
        code = cells.text(columns.raw(row, "order_code"))
        if order is not None and code == order.code and code:
            _collect(order, row, columns, order_fields)
            continue
        if order is not None:
            yield _record(order, columns, shop_id)
        order = _Order(code)
        _collect(order, row, columns, order_fields)
        if not code:  # no code: an order of this one row, refused by the service's check of order_code
            yield _record(order, columns, shop_id)
            order = None
    if order is not None:
        yield _record(order, columns, shop_id)


def column_of(mapping, path):
    """The file's column for a field path of an error the service answered (``lines.2.quantity`` → ``個数``)."""
    parts = path.split(".")
    name = parts[2] if parts[0] == "lines" and len(parts) > 2 else parts[0]
    if name == "member_number" and "member_number" not in mapping:
        return mapping.get("customer_email", "")  # a customer named by address (Shopify)
    return mapping.get(name, "")


def row_of(item, path):
    """The row an error of the service points at: a line's own row, or the order's first."""
    parts = path.split(".")
    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
        return item.line_row_numbers[int(parts[1])] if int(parts[1]) < len(item.line_row_numbers) else item.first_row
    return item.first_row


def emails_of(orders):
    """The addresses naming the customers of orders that have no member number (Shopify's exports)."""
    return sorted({order["customer_email"] for order in orders if order.get("customer_email")})


def with_member_numbers(orders, numbers_by_email):
    """The orders with their customers' member numbers in place of addresses (an address no customer has: no
    number, and the order is refused as unknown_customer)."""
    found = {email.lower(): number for email, number in numbers_by_email.items()}
    out = []
    for order in orders:
        if "customer_email" in order:
            email = order["customer_email"]
            order = {key: value for key, value in order.items() if key != "customer_email"}
            order["member_number"] = found.get(email.lower())
        out.append(order)
    return out


def named_by_number(orders, resolve_emails):
    """The orders with every customer named by member number: ``resolve_emails(emails)`` (customers.resolve_emails)
    asked once for the addresses that stand in for numbers, only when some do."""
    emails = emails_of(orders)
    return with_member_numbers(orders, resolve_emails(emails)) if emails else orders


KIND = Kind(name="purchases", fields=FIELDS, formats=FORMATS, items=items, column_of=column_of, row_of=row_of,
            record_labels=(("billed_amount", "請求金額"),))
