"""Recording a cart's batch of orders set-wise: one round of queries per batch, not one per order.

Every order is validated in Python first (a bad one is reported by index and writes nothing). The products its lines
name are read (or created) once; the orders are inserted as new purchases (copied straight in while none is stored
yet, else with one multi-row INSERT that skips a (shop, order code) stored already), and only those skipped are read
(locked, by id, so that two batches touching the same orders take them in the same order) and updated; then their
lines, their answers and one ``purchases_recorded`` event for the batch are written. An order stored exactly as sent
is left alone. With ``update_only`` nothing is inserted: the orders are read first.

Two batches inserting the same new order at once: the insert waits for the other transaction (ON CONFLICT DO NOTHING;
a straight copy gives way to it after ``pgcopy.LOCK_WAIT`` at most) and skips the order once it is stored, which is
then recorded as an update. An order named twice in one batch is applied in turn, as if it came in the next batch.
"""
import uuid
from collections import namedtuple
from functools import partial
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, select, update

from services.common import arguments, pgcopy
from services.common.batches import MAX_RECORDS
from services.common.contracts import field_error, load
from services.common.errors import ValidationFailed

from . import events, history_groups, order_attributes, schemas
from .line_products import LineProducts
from .models import Purchase, PurchaseAnswer, PurchaseLine

_input = schemas.PurchaseInput()
_options = schemas.RecordOptions()
_dump = schemas.Purchase()
_KEYS_PER_QUERY = 500
_purchases, _lines, _answers = Purchase.__table__, PurchaseLine.__table__, PurchaseAnswer.__table__
_LINE_COLUMNS = tuple(_lines.columns.keys())  # purchase_id, line_no, product_id, … as the table orders them


def record_options(options):
    """``{"mode": ...}`` checked; ValidationFailed by path under ``options``."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise field_error("options", "invalid")
    try:
        return load(_options, options)
    except ValidationFailed as failure:
        raise ValidationFailed("invalid input", {f"options.{path}": codes
                                                 for path, codes in failure.fields.items()}) from None


def record_orders(session, scope, orders, customers_by_number, shop_ids, options=None):
    """See ``purchases.record_orders``."""
    return write_orders(session, scope, check_orders(session, scope, orders, customers_by_number, shop_ids, options))


def check_orders(session, scope, orders, customers_by_number, shop_ids, options=None):
    """The batch checked, order by order, writing nothing (a session that reads is enough): what ``write_orders``
    writes. Raises ValidationFailed (options, or ``orders`` not a list)."""
    mode = record_options(options)["mode"]
    orders = arguments.sequence(orders, "orders", MAX_RECORDS)
    errors, valid = {}, []
    for index, order in enumerate(orders):
        try:  # bad text anywhere in the order is refused by the schema's first step (Contract)
            valid.append((index, _checked(session, scope, order, customers_by_number, shop_ids)))
        except ValidationFailed as failure:
            errors[index] = failure.fields
    return SimpleNamespace(mode=mode, orders=orders, errors=errors, valid=valid)


def write_orders(session, scope, checked):
    """The checked batch written in the session's transaction, with its ``purchases_recorded`` event."""
    errors = checked.errors
    products = LineProducts(session, scope.company_id)
    products.preload([values for _index, values in checked.valid])
    orders_to_write = _priced(products, checked.valid, errors)
    answer = {"created": 0, "updated": 0, "unchanged": 0, "cancelled": 0, "skipped": [], "applied": [],
              "events": []}
    for round_ in _rounds(orders_to_write):
        _write(session, scope, round_, checked.mode, answer)
    # Announced in the batch's order, as the orders were applied one by one before.
    answer["events"].sort(key=lambda item: item[0])
    events.purchases_recorded(session, scope.company_id, uuid.uuid4().hex,
                              [purchase for _index, purchase in answer["events"]])
    return {"created": answer["created"], "updated": answer["updated"], "unchanged": answer["unchanged"],
            "cancelled": answer["cancelled"],
            "skipped": sorted(answer["skipped"], key=lambda s: s["index"]),
            "errors": [{"index": index, "fields": errors[index]} for index in sorted(errors)],
            "purchases": sorted(answer["applied"], key=lambda p: p["index"])}


def _checked(session, scope, order, customers_by_number, shop_ids):
    values = load(_input, order)
    scope.ensure_shop(scope.company_id, values["shop_id"])
    if values["shop_id"] not in shop_ids:
        raise field_error("shop_id", "unknown_shop")
    if not values["lines"]:
        raise field_error("lines", "required")
    # Surveys are not enforced here; with no answer there is nothing to check (and no need to read the groups).
    values["answers"] = (history_groups.check_answers(session, scope.company_id, values["answers"], False)
                         if values["answers"] else {})
    if not values.get("order_code"):
        raise field_error("order_code", "required")
    customer = customers_by_number.get(values.get("member_number") or "")
    if customer is None:
        raise field_error("member_number", "unknown_customer")
    values["customer"] = customer
    return values


def _priced(products, valid, errors):
    """The valid orders with their lines' products; an order whose lines sum above the limit is refused before any
    product it names is created. A product created by a line takes that line's name and price, the first line of
    the batch naming it, as when orders were applied one by one."""
    planned = {}  # (shop id, code) → (name, price) a product about to be created will have
    kept, known = [], products.known  # the products read, and those created below once added to it
    for index, values in valid:
        sales, new, shop_id = 0, {}, values["shop_id"]
        for line in values["lines"]:
            key = (shop_id, line["product_code"])
            price = line["unit_price"]
            if price is None:
                product = known.get(key)
                price = product.price if product is not None else (planned.get(key) or new.get(key) or ("", 0))[1]
            if key not in known and key not in planned and key not in new:
                new[key] = (line["product_name"], line["unit_price"] or 0)
            sales += price * line["quantity"]
        if sales > schemas.MAX_AMOUNT:  # each line may be within bounds and their sum not
            errors[index] = {"lines": ["total_too_large"]}
            continue
        planned.update(new)
        kept.append((index, values))
    products.create(planned)
    for index, values in kept:
        shop_id = values["shop_id"]
        values["resolved"] = [known[(shop_id, line["product_code"])] for line in values["lines"]]
    return kept


def _rounds(orders):
    """Orders split so that no round names one (shop, order code) twice: the n-th mention goes in round n."""
    rounds, seen = [], {}
    for index, values in orders:
        key = (values["shop_id"], values["order_code"])
        n = seen[key] = seen.get(key, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((index, values))
    return rounds


def _stored(session, keys):
    """The stored purchases of (shop, order code) keys, locked. Asked shop by shop with the codes in a list: the
    unique index (shop_id, order_code) answers that, where PostgreSQL answers a list of (shop, code) pairs by reading
    the whole table (0.5 s a batch at 150,000 purchases, growing with them)."""
    found, codes_by_shop = {}, {}
    for shop_id, code in sorted(keys):
        codes_by_shop.setdefault(shop_id, []).append(code)
    for shop_id, codes in codes_by_shop.items():
        for start in range(0, len(codes), _KEYS_PER_QUERY):
            chunk = codes[start:start + _KEYS_PER_QUERY]
            for purchase in session.scalars(select(Purchase).where(Purchase.shop_id == shop_id,
                                                                   Purchase.order_code.in_(chunk))
                                            .order_by(Purchase.id).with_for_update()):
                found[(purchase.shop_id, purchase.order_code)] = purchase
    return found


_TargetLine = namedtuple("_TargetLine", _LINE_COLUMNS[1:])
"""A line as the order makes it: the purchase_lines row's values after its purchase id, in their order."""
_target_line = partial(tuple.__new__, _TargetLine)  # made from a tuple of its values: a third of the class's call


def _target(scope, values, purchase_id, version):
    """The purchase as the order makes it, shaped as the Purchase schema dumps it."""
    lines, sales = [], 0
    for line_no, (line, product) in enumerate(zip(values["lines"], values["resolved"]), start=1):
        unit_price = product.price if line["unit_price"] is None else line["unit_price"]
        quantity = line["quantity"]
        lines.append(_target_line((line_no, product.id, product.code, product.name, line["line_remark"], quantity,
                                   unit_price)))
        sales += unit_price * quantity
    customer = values["customer"]
    return SimpleNamespace(
        id=purchase_id, company_id=scope.company_id, shop_id=values["shop_id"], customer_id=customer["id"],
        member_number=customer["member_number"], order_code=values["order_code"],
        purchased_at=values["purchased_at"], shipped_at=values["shipped_at"], lines=lines, sales=sales,
        # 請求金額 defaults to the sales; a lower amount records a discount (割引 = 売上 − 請求金額).
        billed_amount=sales if values["billed_amount"] is None else values["billed_amount"], media=values["media"],
        order_attributes=order_attributes.as_text(values["order_attributes"]),
        answers=[SimpleNamespace(group_id=g, choice_id=c) for g, c in values["answers"].items() if c is not None],
        # A cancelled or returned order stays on record but never counts.
        counted=values["counted"] and values["status"] == schemas.ORDERED, status=values["status"], version=version)


def _row(purchase):
    return {"company_id": purchase.company_id, "shop_id": purchase.shop_id, "customer_id": purchase.customer_id,
            "member_number": purchase.member_number, "order_code": purchase.order_code,
            "purchased_at": purchase.purchased_at, "shipped_at": purchase.shipped_at, "sales": purchase.sales,
            "billed_amount": purchase.billed_amount, "media": purchase.media,
            "order_attributes": purchase.order_attributes, "counted": purchase.counted, "status": purchase.status,
            "version": purchase.version}


def _same(stored, target):
    was, now = _dump.dump(stored), _dump.dump(target)
    return {k: v for k, v in was.items() if k != "version"} == {k: v for k, v in now.items() if k != "version"}


def _write(session, scope, round_, mode, answer):
    """One round: unless only updates are asked for, the orders are inserted as new first, without looking them up
    (a shop's history imported once has nothing stored to find); those whose (shop, order code) is stored already,
    or was stored by a concurrent batch meanwhile (the insert skips them), are then read, locked, and recorded as
    updates (or left unchanged, or skipped when only new orders are asked for)."""
    stored_first = round_
    if mode != schemas.UPDATE_ONLY:
        new = [(index, values, _target(scope, values, None, 1)) for index, values in round_]
        stored_first = _insert(session, new, scope.company_id)
        _note_applied(answer, "created", [written for written in new if written[2].id is not None])
    stored = _stored(session, [(values["shop_id"], values["order_code"]) for _index, values in stored_first])
    changed, gone = [], []
    for index, values in stored_first:
        purchase = stored.get((values["shop_id"], values["order_code"]))
        if purchase is None and mode == schemas.UPDATE_ONLY:
            answer["skipped"].append({"index": index, "reason": "not_stored"})
        elif purchase is None:  # deleted by a concurrent call since the insert skipped it: inserted again
            gone.append((index, values))
        elif mode == schemas.CREATE_ONLY:
            answer["skipped"].append({"index": index, "reason": "already_stored"})
        else:
            target = _target(scope, values, purchase.id, purchase.version)
            if _same(purchase, target):
                answer["unchanged"] += 1
                answer["applied"].append({"index": index, "id": purchase.id, "version": purchase.version})
            else:
                target.version += 1
                changed.append((index, values, target))
    _update(session, changed)
    for purchase in stored.values():
        # Read before the writes, stale after them: the next round reads them afresh.
        session.expunge(purchase)
    _note_applied(answer, "updated", changed)
    if gone:
        _write(session, scope, gone, mode, answer)


def _note_applied(answer, kind, written):
    answer[kind] += len(written)
    for index, values, target in written:
        answer["cancelled"] += values["status"] != schemas.ORDERED
        answer["applied"].append({"index": index, "id": target.id, "version": target.version})
        answer["events"].append((index, target))


_NAMED_STORED = set()
"""Companies whose last batch named orders stored already (a file sent again): their next batch goes to the upsert
at once rather than being tried as all new first (a copy that stops at the first stored order, its work and the ids
it drew lost). A batch found all new takes the company off."""


def _insert(session, new, company_id):
    """Insert the new purchases (in key order, so that concurrent batches wait for each other in one order); returns
    the orders whose (shop, order code) is stored already, as (index, values). A history imported once has none
    stored: its batch is tried as all new first (``pgcopy.insert_new_rows``: copied straight in, nothing staged or
    read back), and inserted as an upsert when one is stored after all."""
    if not new:
        return []
    rows, keys = [_row(t) for _i, _v, t in new], ("shop_id", "order_code")
    if company_id not in _NAMED_STORED:
        ids = pgcopy.insert_new_rows(session.connection(), _purchases, rows, order_by=keys)
        if ids is not None:
            for (_index, _values, target), purchase_id in zip(new, ids):
                target.id = purchase_id
            _insert_details(session, [target for _i, _v, target in new])
            return []
    ids = {(shop_id, code): purchase_id for purchase_id, shop_id, code in pgcopy.upsert_rows(
        session.connection(), _purchases, rows, keys=keys, returning=("id", "shop_id", "order_code"),
        order_by=keys)}
    lost = []
    for index, values, target in new:
        target.id = ids.get((target.shop_id, target.order_code))
        if target.id is None:
            lost.append((index, values))
    (_NAMED_STORED.add if lost else _NAMED_STORED.discard)(company_id)
    _insert_details(session, [target for _i, _v, target in new if target.id is not None])
    return lost


def _update(session, changed):
    if not changed:
        return
    rows = [dict(_row(target), b_id=target.id) for _i, _v, target in changed]
    session.execute(update(_purchases).where(_purchases.c.id == bindparam("b_id")).values(
        {column: bindparam(column) for column in rows[0] if column != "b_id"}), rows)
    ids = [target.id for _i, _v, target in changed]
    for start in range(0, len(ids), _KEYS_PER_QUERY):
        chunk = ids[start:start + _KEYS_PER_QUERY]
        session.execute(delete(_lines).where(_lines.c.purchase_id.in_(chunk)))
        session.execute(delete(_answers).where(_answers.c.purchase_id.in_(chunk)))
    _insert_details(session, [target for _i, _v, target in changed])


def _insert_details(session, targets):
    pgcopy.insert_values(session.connection(), _lines, _LINE_COLUMNS,
                         [(t.id,) + line for t in targets for line in t.lines])
    answers = [{"purchase_id": t.id, "group_id": a.group_id, "choice_id": a.choice_id}
               for t in targets for a in t.answers]
    pgcopy.insert_rows(session.connection(), _answers, answers)
