"""The index held in memory, column by column, for counting and listing matching customers quickly.

Each search replica loads the index tables into numpy columns once and then follows the change journal
(``ix_changes``) the indexer writes in the same transaction as each change, re-reading the changed rows. A condition
document is answered with vectorised operations over these columns, with the same meaning as the SQL of ``query.py``
(``tests/unit/test_search_columns.py`` checks both give the same customers).

Slots never move: a customer, purchase, line or mail activity keeps its slot for the life of the process; a deleted
one is marked dead. A purchase or activity may arrive before its customer: the customer gets a slot that stays dead
until the customer itself arrives.
"""
import datetime as dt
import json
import logging
import time

import numpy as np
from sqlalchemy import BigInteger, cast, func, select

from services.common.contracts import JST
from services.common.text import fold_for_matching, normalize_phone

from .conditions import UNSELECTED, product_row_bounds, zero_fits
from .models import (CustomerSummary, IndexChange, IndexedChoice, IndexedCustomer, IndexedLine, IndexedMail,
                     IndexedMailActivity, IndexedPurchase)

log = logging.getLogger(__name__)

NULL = np.iinfo(np.int64).min  # a missing moment, day or number in an int64 column
GENDERS = {"female": 0, "male": 1, "unknown": 2}
MAIL_PERMISSIONS = {"mobile": 0, "pc": 1, "refused": 2}
FAMILIES = {"manual": 0, "automatic": 1}
ACTIVITIES = {"delivery": 0, "open": 1, "click": 2, "qr_read": 3}
ACTIVITY_OF = {"sent": "delivery", "opened": "open", "clicked": "click", "qr_read": "qr_read"}
REMARKS = [f"remark{i}" for i in range(1, 11)]
EXTRAS = [f"extra{i}" for i in range(1, 5)]
CHUNK = 50_000


class Columns:
    """Named numpy columns of one table that grow by appending; ``table["name"]`` is the live part."""

    def __init__(self, spec):
        self.spec = {}  # name -> (dtype, default)
        self.data = {}
        self.size = 0
        self.capacity = 0
        for name, (dtype, default) in spec.items():
            self.add_column(name, dtype, default)

    def add_column(self, name, dtype, default):
        self.spec[name] = (dtype, default)
        self.data[name] = np.full(self.capacity, default, dtype=dtype)

    def _grow(self, needed):
        if needed <= self.capacity:
            return
        capacity = max(needed, int(self.capacity * 1.5) + 1024)
        for name, (dtype, default) in self.spec.items():
            grown = np.full(capacity, default, dtype=dtype)
            grown[:self.size] = self.data[name][:self.size]
            self.data[name] = grown
        self.capacity = capacity

    def extend(self, n):
        """Room for n more rows (set to the defaults); returns the first new slot."""
        self._grow(self.size + n)
        start = self.size
        self.size += n
        return start

    def __getitem__(self, name):
        return self.data[name][:self.size]

    def put(self, name, slots, values):
        column = self.data[name]
        if column.dtype.kind == "U":  # fixed-width text: widen the column first when a value is longer
            if isinstance(values, str) or values is None:
                values = values or ""
                longest = len(values)
            else:
                values = [value or "" for value in values]
                longest = max(map(len, values), default=0)
            width = column.dtype.itemsize // 4
            if longest > width:
                dtype = np.dtype(f"<U{max(longest, 2 * width)}")
                self.spec[name] = (dtype, self.spec[name][1])
                column = self.data[name] = column.astype(dtype)
        column[slots] = values


class IdMap:
    """Entity id → slot: a sorted array for what was loaded at once, a dict for what came one by one."""

    def __init__(self):
        self.ids = np.empty(0, np.int64)
        self.slots = np.empty(0, np.int64)
        self.extra = {}

    def set_loaded(self, ids, slots):
        order = np.argsort(ids, kind="stable")
        self.ids, self.slots, self.extra = np.asarray(ids, np.int64)[order], np.asarray(slots, np.int64)[order], {}

    def lookup(self, ids):
        """Slots of ids (an array), -1 where unknown."""
        ids = np.asarray(ids, np.int64)
        found = np.full(len(ids), -1, np.int64)
        if len(self.ids):
            at = np.searchsorted(self.ids, ids).clip(0, len(self.ids) - 1)
            hit = self.ids[at] == ids
            found[hit] = self.slots[at[hit]]
        if self.extra:
            for i in np.flatnonzero(found < 0):
                found[i] = self.extra.get(int(ids[i]), -1)
        return found

    def add(self, entity_id, slot):
        self.extra[int(entity_id)] = int(slot)
        if len(self.extra) >= 100_000:  # keep the dict small: fold it into the sorted arrays
            extra_ids = np.fromiter(self.extra.keys(), np.int64, len(self.extra))
            extra_slots = np.fromiter(self.extra.values(), np.int64, len(self.extra))
            self.set_loaded(np.concatenate([self.ids, extra_ids]), np.concatenate([self.slots, extra_slots]))


class BigramIndex:
    """Which rows of a fixed-width text column hold each pair of adjacent characters: a substring search of two or
    more characters reads the rows of its rarest pair instead of the whole column.

    Built from the column at one moment; rows written afterwards (``touched``) and rows appended are checked
    directly at each search, until there are enough of them to make a rebuild worth it (``stale``).
    """

    BLOCK = 200_000

    def __init__(self, column):
        self.size = len(column)
        self.touched_rows = set()
        width = column.dtype.itemsize // 4
        codes, rows = [np.empty(0, np.uint64)], [np.empty(0, np.int32)]
        if self.size and width >= 2:
            chars = column.view(np.uint32).reshape(self.size, width)
            for start in range(0, self.size, self.BLOCK):
                block = chars[start:start + self.BLOCK]
                present = block[:, 1:] != 0  # text is padded with NUL: a pair ends at a real character
                pairs = (block[:, :-1].astype(np.uint64) << np.uint64(32)) | block[:, 1:]
                codes.append(pairs[present])
                rows.append((np.nonzero(present)[0] + start).astype(np.int32))
        codes, rows = np.concatenate(codes), np.concatenate(rows)
        order = np.argsort(codes, kind="stable")
        self.codes, self.rows = codes[order], rows[order]

    def touched(self, rows):
        rows = np.atleast_1d(rows)
        self.touched_rows.update(rows[rows < self.size].tolist())

    def stale(self, size):
        return len(self.touched_rows) + size - self.size > max(50_000, size // 5)

    def contains(self, column, needle):
        """Rows of ``column`` (the same column, maybe grown or widened since) whose text contains ``needle``; None
        for a needle shorter than two characters."""
        if len(needle) < 2:
            return None
        spans = []
        for first, second in zip(needle, needle[1:]):
            code = np.uint64((ord(first) << 32) | ord(second))
            spans.append((np.searchsorted(self.codes, code, "left"), np.searchsorted(self.codes, code, "right")))
        low, high = min(spans, key=lambda span: span[1] - span[0])
        rows = self.rows[low:high]
        hit = np.zeros(len(column), np.bool_)
        if len(needle) == 2:
            hit[rows] = True  # the pair is the needle
        else:
            hit[rows[np.strings.find(column[rows], needle) >= 0]] = True
        recent = np.concatenate([np.fromiter(self.touched_rows, np.int64, len(self.touched_rows)),
                                 np.arange(self.size, len(column))])
        if len(recent):  # what they hold now decides
            hit[recent] = np.strings.find(column[recent], needle) >= 0
        return hit


def _epoch(value):
    if value is None:
        return NULL
    if value.tzinfo is None:  # SQLite keeps no zone: a naive value is UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp())


def _day(value):
    return NULL if value is None else value.toordinal()


def _digits(value):
    return (value or "").replace("-", "")


class ColumnStore:
    """All companies' index in memory. ``load`` once, then ``follow`` the journal; ``evaluate`` answers."""

    def __init__(self):
        self.customers = Columns({
            "id": (np.int64, 0), "alive": (np.bool_, False), "company": (np.int64, -1), "shop": (np.int64, -1),
            "member_number": (object, ""), "member_value": (np.int64, NULL),
            # fixed-width (widened as needed), so that a name search runs in numpy's string functions
            "name_key": (np.dtype("<U16"), ""),
            "gender": (np.int8, -1), "birth": (np.int64, NULL), "mail_permission": (np.int8, -1),
            "dm": (np.int8, -1), "line": (np.int8, -1), "mobile_email": (object, ""), "pc_email": (object, ""),
            "mobile_phone": (object, ""), "home_phone": (object, ""), "fax": (object, ""),
            **{name: (object, "") for name in REMARKS + EXTRAS},
            "points_held": (np.int64, NULL), "valid_points": (np.int64, NULL), "points_expiry": (np.int64, NULL),
            "earliest_expiry": (np.int64, NULL), "last_login": (np.int64, NULL), "registered": (np.int64, NULL),
            # the summary (RFM figures over counted purchases, address errors)
            "summarised": (np.bool_, False), "first": (np.int64, NULL), "latest": (np.int64, NULL),
            "latest_shipped": (np.int64, NULL), "count": (np.int64, 0), "total": (np.int64, 0),
            "latest_order_code": (object, ""), "latest_purchase_id": (np.int64, NULL),
            "address_errors": (np.int64, 0)})
        self.choice_groups = set()
        self.purchases = Columns({
            "id": (np.int64, 0), "alive": (np.bool_, False), "customer": (np.int64, -1), "shop": (np.int64, -1),
            "purchased": (np.int64, NULL), "shipped": (np.int64, NULL), "billed": (np.int64, 0),
            "counted": (np.bool_, False), "order_code": (object, ""), "media": (object, ""),
            "order_attributes": (object, "{}")})
        # a line of a purchase that changed or went away gets product 0, which no code has
        self.lines = Columns({"purchase": (np.int32, -1), "customer": (np.int32, -1), "product": (np.int32, 0)})
        self.mails = Columns({"id": (np.int64, 0), "company": (np.int64, -1), "family": (np.int8, -1),
                              "kind": (object, "")})
        self.activities = Columns({"id": (np.int64, 0), "customer": (np.int32, -1), "mail": (np.int32, -1),
                                   "activity": (np.int8, -1), "occurred": (np.int64, NULL)})
        self.customer_ids, self.purchase_ids, self.mail_ids, self.activity_ids = IdMap(), IdMap(), IdMap(), IdMap()
        self.products = {"": 0}  # product code -> number; 0 marks a line no longer there
        self.seq = 0  # the last journal entry followed
        self.gaps = {}  # journal seqs not seen yet (a transaction that had not committed): seq -> since when
        self.ready = False
        self.followed_at = 0.0
        self.names = None  # BigramIndex of name_key, once loaded
        self._appending = None  # while loading: the table whose rows arrive once each, in id order

    # --- slots ---------------------------------------------------------------------------------------------------

    def _slots(self, table, ids_map, ids):
        """Slots of entity ids, creating (dead) rows for unknown ones."""
        if table is self._appending:  # a first load: every id is new; the map is built once the table is read
            start = table.extend(len(ids))
            table.put("id", slice(start, start + len(ids)), ids)
            return np.arange(start, start + len(ids))
        slots = ids_map.lookup(ids)
        missing = np.flatnonzero(slots < 0)
        if len(missing):
            new_ids = np.unique(np.asarray(ids, np.int64)[missing])
            start = table.extend(len(new_ids))
            table.put("id", slice(start, start + len(new_ids)), new_ids)
            for offset, entity_id in enumerate(new_ids):
                ids_map.add(entity_id, start + offset)
            slots[missing] = ids_map.lookup(np.asarray(ids, np.int64)[missing])
        return slots

    def customer_slots(self, ids):
        return self._slots(self.customers, self.customer_ids, ids)

    def product_number(self, code):
        return self.products.setdefault(code, len(self.products))

    def _choice_column(self, group_id):
        name = f"choice:{group_id}"
        if group_id not in self.choice_groups:
            self.customers.add_column(name, np.int64, 0)  # 0: no choice in the group (未選択)
            self.choice_groups.add(group_id)
        return name

    # --- loading ---------------------------------------------------------------------------------------------------

    def load(self, session):
        """Read the whole index. The journal is followed from shortly before its newest entry, so that what changed
        while loading is read again."""
        newest = session.scalar(select(func.max(IndexChange.seq))) or 0
        started = time.monotonic()
        self._put_mails(session.execute(select(*_MAIL_COLUMNS).order_by(IndexedMail.id)).all())
        self._append(session, self.customers, self.customer_ids,
                     select(*_CUSTOMER_COLUMNS).order_by(IndexedCustomer.id), self._put_customers)
        self._stream(session, select(*_CHOICE_COLUMNS), self._put_choices)
        self._stream(session, select(*_SUMMARY_COLUMNS(session)), self._put_summaries)
        self._append(session, self.purchases, self.purchase_ids,
                     select(*_PURCHASE_COLUMNS(session)).order_by(IndexedPurchase.id), self._put_purchases)
        self._stream(session, select(IndexedLine.purchase_id, IndexedLine.product_code), self._put_lines)
        self._append(session, self.activities, self.activity_ids,
                     select(*_ACTIVITY_COLUMNS(session)).order_by(IndexedMailActivity.id), self._put_activities)
        self.names = BigramIndex(self.customers["name_key"])
        self.seq = max(0, newest - 5000)
        self.follow(session)
        self.ready = True
        log.info("search columns loaded in %.1f s: %d customers, %d purchases, %d lines, %d mail activities",
                 time.monotonic() - started, self.customers.size, self.purchases.size, self.lines.size,
                 self.activities.size)

    def _append(self, session, table, ids_map, statement, put):
        """Stream a table read in id order (each id once) into empty columns, then map its ids at once."""
        self._appending = table
        try:
            self._stream(session, statement, put)
        finally:
            self._appending = None
        ids_map.set_loaded(table["id"], np.arange(table.size))

    @staticmethod
    def _stream(session, statement, put):
        # Core rows: the ORM's per-row handling is not needed for plain columns
        result = session.connection().execution_options(yield_per=CHUNK).execute(statement)
        for rows in result.partitions(CHUNK):
            put(rows)

    def _put_mails(self, rows):
        if not rows:
            return
        slots = self._slots(self.mails, self.mail_ids, [r.id for r in rows])
        self.mails.put("company", slots, [r.company_id for r in rows])
        self.mails.put("family", slots, [FAMILIES.get(r.family, -1) for r in rows])
        self.mails.put("kind", slots, [r.kind for r in rows])

    def _put_customers(self, rows):
        if not rows:
            return
        r = dict(zip(_CUSTOMER_NAMES, zip(*rows)))  # column by column
        slots = self.customer_slots(r["id"])
        put = self.customers.put
        put("alive", slots, True)
        for column, values in (
                ("company", r["company_id"]), ("shop", r["shop_id"]), ("member_number", r["member_number"]),
                ("member_value", _or_null(r["member_number_value"])), ("name_key", list(r["name_key"])),
                ("gender", [GENDERS.get(v, 3) for v in r["gender"]]), ("birth", [_day(v) for v in r["birth_date"]]),
                ("mail_permission", [MAIL_PERMISSIONS.get(v, 3) for v in r["mail_permission"]]),
                ("dm", [-1 if v is None else int(v) for v in r["dm_permission"]]),
                ("line", [-1 if v is None else int(v) for v in r["line_permission"]]),
                ("mobile_email", [(v or "").lower() for v in r["mobile_email"]]),
                ("pc_email", [(v or "").lower() for v in r["pc_email"]]),
                ("mobile_phone", [_digits(v) for v in r["mobile_phone"]]),
                ("home_phone", [_digits(v) for v in r["home_phone"]]), ("fax", [_digits(v) for v in r["fax"]]),
                ("points_held", _or_null(r["points_held"])), ("valid_points", _or_null(r["valid_points"])),
                ("points_expiry", [_day(v) for v in r["points_expiry"]]),
                ("earliest_expiry", [_day(v) for v in r["earliest_expiry"]]),
                ("last_login", [_epoch(v) for v in r["last_login_at"]]),
                ("registered", [_epoch(v) for v in r["registered_at"]])):
            put(column, slots, values)
        if self.names is not None:
            self.names.touched(slots)
        for name in REMARKS + EXTRAS:
            put(name, slots, [v or "" for v in r[name]])

    def _put_choices(self, rows):
        by_group = {}
        for r in rows:
            by_group.setdefault(r.group_id, []).append((r.customer_id, r.choice_id))
        for group_id, pairs in by_group.items():
            column = self._choice_column(group_id)
            slots = self.customer_slots([p[0] for p in pairs])
            self.customers.put(column, slots, [p[1] for p in pairs])

    def _put_summaries(self, rows):
        if not rows:
            return
        slots = self.customer_slots([r.customer_id for r in rows])
        put = self.customers.put
        put("summarised", slots, True)
        put("first", slots, [_seconds(r.first) for r in rows])
        put("latest", slots, [_seconds(r.latest) for r in rows])
        put("latest_shipped", slots, [_seconds(r.shipped) for r in rows])
        put("count", slots, [r.purchase_count or 0 for r in rows])
        put("total", slots, [r.purchase_total or 0 for r in rows])
        put("latest_order_code", slots, [r.latest_order_code or "" for r in rows])
        put("latest_purchase_id", slots, [NULL if r.latest_purchase_id is None else r.latest_purchase_id
                                          for r in rows])
        put("address_errors", slots, [r.address_errors or 0 for r in rows])

    def _put_purchases(self, rows):
        if not rows:
            return
        # columns of _PURCHASE_COLUMNS, read column by column
        ids, customers, shops, purchased, shipped, billed, counted, codes, media, attributes = zip(*rows)
        slots = self._slots(self.purchases, self.purchase_ids, ids)
        put = self.purchases.put
        put("alive", slots, True)
        put("customer", slots, self.customer_slots(customers))
        put("shop", slots, shops)
        put("purchased", slots, _seconds_of(purchased))
        put("shipped", slots, _seconds_of(shipped))
        put("billed", slots, [amount or 0 for amount in billed])
        put("counted", slots, [bool(flag) for flag in counted])
        put("order_code", slots, [code or "" for code in codes])
        put("media", slots, [medium or "" for medium in media])
        put("order_attributes", slots, [text or "{}" for text in attributes])

    def _put_lines(self, rows):
        if not rows:
            return
        purchase_ids, codes = zip(*rows)
        purchases = self._slots(self.purchases, self.purchase_ids, purchase_ids)
        start = self.lines.extend(len(rows))
        at = slice(start, start + len(rows))
        self.lines.put("purchase", at, purchases)
        self.lines.put("customer", at, self.purchases.data["customer"][purchases])
        numbers = self.products
        self.lines.put("product", at, [numbers[code] if code in numbers else self.product_number(code)
                                       for code in codes])

    def _put_activities(self, rows):
        if not rows:
            return
        ids, customers, mails, activities, occurred = zip(*rows)  # the columns of _ACTIVITY_COLUMNS
        slots = self._slots(self.activities, self.activity_ids, ids)
        put = self.activities.put
        put("customer", slots, self.customer_slots(customers))
        put("mail", slots, self._slots(self.mails, self.mail_ids, mails))
        put("activity", slots, [ACTIVITIES.get(activity, -1) for activity in activities])
        put("occurred", slots, _seconds_of(occurred))

    # --- following the journal -------------------------------------------------------------------------------------

    def follow(self, session, gap_patience=30.0):
        """Re-read what the journal says changed since the last call. Returns the number of entries followed, or
        None when the store must be loaded afresh (a company was rebuilt)."""
        now = time.monotonic()
        self.gaps = {seq: since for seq, since in self.gaps.items() if now - since < gap_patience}
        columns = (IndexChange.seq, IndexChange.kind, IndexChange.key)
        entries = session.execute(select(*columns).where(IndexChange.seq > self.seq)
                                  .order_by(IndexChange.seq).limit(20000)).all()
        # Every gap is asked for, a chunk at a time: a transaction rolled back leaves as many gaps as it noted
        # changes (a rebuild's page, a thousand), and a change committed late into a gap left unasked would be missed.
        gaps = sorted(self.gaps)
        for start in range(0, len(gaps), 1000):
            entries += session.execute(select(*columns).where(IndexChange.seq.in_(gaps[start:start + 1000]))).all()
        self.followed_at = now
        if not entries:
            return 0
        seen = {e.seq for e in entries}
        for seq in seen:
            self.gaps.pop(seq, None)
        newest = max(seen)
        for seq in range(self.seq + 1, newest):
            if seq not in seen:
                self.gaps.setdefault(seq, now)
        self.seq = max(self.seq, newest)
        keys = {}
        for entry in entries:
            keys.setdefault(entry.kind, set()).add(entry.key)
        if "reset" in keys:
            return None
        self._reread(session, keys)
        if self.names is not None and self.names.stale(self.customers.size):
            self.names = BigramIndex(self.customers["name_key"])
        return len(entries)

    def _reread(self, session, keys):
        for chunk in _chunks(keys.get("mail", ())):
            self._put_mails(session.execute(select(*_MAIL_COLUMNS).where(IndexedMail.id.in_(chunk))).all())
        for chunk in _chunks(keys.get("customer", ())):
            rows = session.execute(select(*_CUSTOMER_COLUMNS).where(IndexedCustomer.id.in_(chunk))).all()
            slots = self.customer_slots(chunk)
            self.customers.put("alive", slots, False)  # deleted unless read again
            for group_id in self.choice_groups:
                self.customers.put(f"choice:{group_id}", slots, 0)
            self._put_customers(rows)
            self._put_choices(session.execute(select(*_CHOICE_COLUMNS)
                                              .where(IndexedChoice.customer_id.in_(chunk))).all())
        for chunk in _chunks(keys.get("purchase", ())):
            rows = session.execute(select(*_PURCHASE_COLUMNS(session)).where(IndexedPurchase.id.in_(chunk))).all()
            known = self.purchase_ids.lookup(chunk)
            known = known[known >= 0]
            if len(known):
                self.purchases.put("alive", known, False)
                lines = self.lines
                lines.put("product", np.flatnonzero(np.isin(lines["purchase"], known)), 0)
            self._put_purchases(rows)
            self._put_lines(session.execute(select(IndexedLine.purchase_id, IndexedLine.product_code)
                                            .where(IndexedLine.purchase_id.in_(chunk))).all())
        for chunk in _chunks(keys.get("summary", ())):
            rows = session.execute(select(*_SUMMARY_COLUMNS(session))
                                   .where(CustomerSummary.customer_id.in_(chunk))).all()
            slots = self.customer_slots(chunk)
            self.customers.put("summarised", slots, False)
            self.customers.put("count", slots, 0)
            self.customers.put("total", slots, 0)
            self.customers.put("address_errors", slots, 0)
            self._put_summaries(rows)
        for chunk in _chunks(keys.get("activity", ())):
            self._put_activities(session.execute(select(*_ACTIVITY_COLUMNS(session))
                                                 .where(IndexedMailActivity.id.in_(chunk))).all())

    # --- answering -------------------------------------------------------------------------------------------------

    def in_scope(self, scope):
        c = self.customers
        mask = c["alive"] & (c["company"] == scope.company_id)
        if scope.is_shop:
            mask &= c["shop"] == scope.shop_id
        return mask

    def sections(self, parsed, company_id, today):
        """{section: mask} for the sections present (None: the section asks nothing)."""
        found = {}
        for name, evaluate in (("attributes", lambda a: self.attributes(a, today)), ("latest", self.latest),
                               ("period", self.period), ("mails", lambda m: self.mails_section(m, company_id))):
            if parsed.get(name):
                found[name] = evaluate(parsed[name])
        return found

    def count(self, scope, parsed, today, with_sections=True):
        base = self.in_scope(scope)
        sections = self.sections(parsed, scope.company_id, today)
        total = base.copy()
        for mask in sections.values():
            if mask is not None:
                total &= mask
        result = {"total": int(total.sum()), "sections": {}}
        if with_sections:
            for name, mask in sections.items():
                result["sections"][name] = int((base & mask).sum()) if mask is not None else int(base.sum())
        return result, total

    def matching(self, scope, parsed, today):
        return self.count(scope, parsed, today, with_sections=False)[1]

    def ids_after(self, mask, after_id, limit):
        """The first ``limit`` ids above ``after_id`` of the matching customers, in order (a download's slice)."""
        ids = self.customers["id"][mask]
        ids = ids[ids > after_id]
        if len(ids) > limit:
            ids = np.partition(ids, limit - 1)[:limit]
        return np.sort(ids).tolist()

    def ordered_page(self, mask, sort, descending, offset, limit):
        """Customer ids of one page of the matching customers, sorted as ``query.sort_order`` sorts (a customer
        without a value last in both directions; member numbers descending the exact reverse), ties by id. None when
        this sort is better left to the database."""
        c = self.customers
        matched = np.flatnonzero(mask)
        if sort == "name":
            return None
        if sort == "member_number":
            key = c["member_value"][matched]
        elif sort == "registered_at":
            key = c["registered"][matched]
        elif sort == "latest_purchase_at":
            key = c["latest"][matched]
        else:  # never bought (no latest purchase, whether or not a summary remains): no figure
            key = np.where(c["latest"][matched] != NULL,
                           c["count" if sort == "purchase_count" else "total"][matched], NULL)
        missing = key == NULL
        if sort == "member_number":
            key = np.where(missing, np.iinfo(np.int64).max, key) if not descending else np.where(missing, NULL, -key)
        else:  # without a value: last both ways
            key = np.where(missing, np.iinfo(np.int64).max, -key if descending else key)
        wanted = offset + limit
        if wanted < len(matched) // 4:  # keep only what could be on the page before sorting
            threshold = np.partition(key, wanted)[wanted]
            keep = key <= threshold
            matched, key = matched[keep], key[keep]
        ids = c["id"][matched]
        if sort == "member_number" and len(matched) <= 20000:
            # the member number's text decides between equal (or no) numeric values, as in the database
            strings = c["member_number"][matched]
            order = sorted(range(len(matched)), key=lambda i: ids[i])
            order.sort(key=lambda i: strings[i], reverse=descending)
            order.sort(key=lambda i: key[i])
        elif sort == "member_number" and missing.any():
            return None
        else:
            order = np.lexsort((ids, key))
        return [int(ids[i]) for i in order[offset:offset + limit]]

    # 属性検索
    def attributes(self, a, today):
        c = self.customers
        mask = np.ones(c.size, np.bool_)
        if a["member_numbers"]:
            either = np.zeros(c.size, np.bool_)
            for part in a["member_numbers"]:
                if part[0] == "range":
                    value = c["member_value"]
                    either |= (value != NULL) & (value >= part[1]) & (value <= part[2])
                else:
                    either |= c["member_number"] == part[1]
            mask &= either
        if a["genders"]:
            mask &= _one_of(c["gender"], [GENDERS[g] for g in a["genders"]])
        mask = _narrow(mask, _days_between(c["birth"], a["birth_date"]))
        if a["age"]:
            birth = c["birth"]
            if a["age"].get("min") is not None:
                mask &= (birth != NULL) & (birth <= _years_before(today, a["age"]["min"]).toordinal())
            if a["age"].get("max") is not None:
                mask &= (birth != NULL) & (birth > _years_before(today, a["age"]["max"] + 1).toordinal())
        if a["mail_permissions"]:
            mask &= _one_of(c["mail_permission"], [MAIL_PERMISSIONS[p] for p in a["mail_permissions"]])
        if a["dm_permission"] is not None:
            mask &= c["dm"] == int(a["dm_permission"])
        if a.get("line_permission") is not None:
            mask &= c["line"] == int(a["line_permission"])
        if a["address_error"] is not None:
            mask &= (c["address_errors"] > 0) if a["address_error"] else (c["address_errors"] == 0)
        for group_id, wanted in a["choices"].items():
            chosen = [int(x) for x in wanted if str(x).isdigit()]
            unselected = UNSELECTED in wanted
            if not chosen and not unselected:
                continue
            group_id = int(group_id)
            column = c[f"choice:{group_id}"] if group_id in self.choice_groups else np.zeros(c.size, np.int64)
            either = _one_of(column, chosen) if chosen else np.zeros(c.size, np.bool_)
            if unselected:
                either |= column == 0
            mask &= either
        for column, bounds in (("points_held", a["points_held"]), ("valid_points", a["valid_points"])):
            mask = _narrow(mask, _within(c[column], bounds))
        mask = _narrow(mask, _days_between(c["points_expiry"], a["points_expiry"]))
        mask = _narrow(mask, _days_between(c["earliest_expiry"], a["earliest_expiry"]))
        mask = _narrow(mask, _moments_between(c["last_login"], a["last_login"]))
        if a["shop_ids"]:
            mask &= _one_of(c["shop"], a["shop_ids"])
        mask = _narrow(mask, _moments_between(c["registered"], a["registered"]))
        # text last, over the customers still in question only
        tests = []
        if a["name"].strip():
            tests.append((("name_key",), fold_for_matching(a["name"])))
        if a["email"].strip():
            tests.append((("mobile_email", "pc_email"), a["email"].strip().lower()))
        if a["phone"].strip():
            tests.append((("mobile_phone", "home_phone"), normalize_phone(a["phone"]).replace("-", "")))
        for position, text in a["remarks"].items():
            if text.strip():
                tests.append(((f"remark{position}",), text.strip()))
        for position, text in a["extras"].items():
            if text.strip():
                tests.append(((f"extra{position}",), text.strip()))
        if a["fax"].strip():
            tests.append((("fax",), normalize_phone(a["fax"]).replace("-", "")))
        for columns, needle in tests:
            mask &= self._contains(mask, columns, needle)
        return mask

    def _contains(self, mask, columns, needle):
        candidates = np.flatnonzero(mask)
        hit = np.zeros(len(mask), np.bool_)
        for name in columns:
            column = self.customers[name]
            found = self.names.contains(column, needle) if name == "name_key" and self.names is not None else None
            if found is not None:
                hit |= mask & found
                continue
            if column.dtype.kind == "U":
                if len(candidates) * 4 > len(mask):  # most of the column: no copy of the candidates' values
                    hit |= mask & (np.strings.find(column, needle) >= 0)
                else:
                    hit[candidates] |= np.strings.find(column[candidates], needle) >= 0
                continue
            values = column[candidates]
            hit[candidates] |= np.fromiter((needle in v for v in values), np.bool_, len(candidates))
        return hit

    # purchases
    def _purchase_filter(self, shops, purchased=None, shipped=None, counted=True):
        p = self.purchases
        mask = p["alive"].copy()
        if counted:
            mask &= p["counted"]
        if shops:
            mask &= _one_of(p["shop"], shops)
        mask = _narrow(mask, _moments_between(p["purchased"], purchased))
        mask = _narrow(mask, _moments_between(p["shipped"], shipped))
        return mask

    def _products_wanted(self, codes):
        """A lookup table by product number: True for the codes asked for."""
        wanted = np.zeros(len(self.products), np.bool_)
        wanted[[self.products[x] for x in codes if x in self.products]] = True
        return wanted

    def _per_customer(self, purchases, weights=None):
        return np.bincount(self.purchases["customer"][purchases], weights=weights, minlength=self.customers.size)

    def _product_row(self, row, purchases):
        codes = [x.strip() for x in row["product_codes"] if x.strip()]
        if not codes:
            return None
        low, high = product_row_bounds(row)
        if (low is None or low <= 0) and high is None:
            return None
        lines = self.lines
        chosen_lines = np.flatnonzero(self._products_wanted(codes)[lines["product"]])
        bought = np.zeros(self.purchases.size, np.bool_)
        bought[lines["purchase"][chosen_lines]] = True
        times = self._per_customer(np.flatnonzero(bought & purchases))
        if low is None or low <= 0:
            return times <= high
        return (times >= low) & ((times <= high) if high is not None else True)

    def _attribute_match(self, slots, wanted):
        """Which purchases (slots) carry every wanted order attribute (as the SQL matches the stored JSON)."""
        texts = self.purchases["order_attributes"][slots]
        needles = [f'"{key.strip()}": "{value.strip()}"' for key, value in wanted.items() if key.strip()]
        return np.fromiter((all(n in t for n in needles) for t in texts), np.bool_, len(slots))

    def latest(self, r):
        c = self.customers
        mask = np.ones(c.size, np.bool_)
        shops = r["shop_ids"]
        if shops:
            if any(_bounded(r[k]) for k in ("first_purchase", "latest_purchase", "latest_shipped")):
                chosen = np.flatnonzero(self._purchase_filter(shops))
                customers = self.purchases["customer"][chosen]
                first = np.full(c.size, np.iinfo(np.int64).max, np.int64)
                latest = np.full(c.size, NULL, np.int64)
                shipped = np.full(c.size, NULL, np.int64)
                np.minimum.at(first, customers, self.purchases["purchased"][chosen])
                np.maximum.at(latest, customers, self.purchases["purchased"][chosen])
                np.maximum.at(shipped, customers, self.purchases["shipped"][chosen])
                bought = np.zeros(c.size, np.bool_)
                bought[customers] = True
                first[~bought] = NULL
                mask &= bought & _moments_between(first, r["first_purchase"]) \
                    & _moments_between(latest, r["latest_purchase"]) & _moments_between(shipped, r["latest_shipped"])
        else:
            dates = (r["first_purchase"], r["latest_purchase"], r["latest_shipped"])
            if any(_bounded(d) for d in dates):
                mask &= c["summarised"] & _moments_between(c["first"], dates[0]) \
                    & _moments_between(c["latest"], dates[1]) & _moments_between(c["latest_shipped"], dates[2])
        mask = _narrow(mask, _within(c["count"], r["purchase_count"], missing_is_zero=True))
        mask = _narrow(mask, _within(c["total"], r["purchase_total"], missing_is_zero=True))
        if r["order_code"].strip():
            mask &= c["summarised"] & (c["latest_order_code"] == r["order_code"].strip())
        if any(k.strip() for k in r["order_attributes"]):
            candidates = np.flatnonzero(mask & (c["latest_purchase_id"] != NULL))
            purchases = self.purchase_ids.lookup(c["latest_purchase_id"][candidates])
            known = purchases >= 0
            hit = np.zeros(c.size, np.bool_)
            hit[candidates[known]] = self._attribute_match(purchases[known], r["order_attributes"]) \
                & self.purchases["alive"][purchases[known]]
            mask &= hit
        if r["product_rows"]:
            purchases = self._purchase_filter(shops)
            for row in r["product_rows"]:
                clause = self._product_row(row, purchases)
                if clause is not None:
                    mask &= clause
        return mask

    def period(self, q):
        c = self.customers
        mask = np.ones(c.size, np.bool_)
        purchases = self._purchase_filter(q["shop_ids"], q["purchased"], q["shipped"])
        narrowed = bool(q["shop_ids"]) or _bounded(q["purchased"]) or _bounded(q["shipped"])
        chosen = np.flatnonzero(purchases)
        count_bounds = q["count"]
        if count_bounds or q["total"]:
            times = self._per_customer(chosen)
            amount = self._per_customer(chosen, self.purchases["billed"][chosen].astype(np.float64))
            within = _within(times, count_bounds) & _within(amount, q["total"])
            if (_bounded(count_bounds) or _bounded(q["total"])) and zero_fits(count_bounds) \
                    and zero_fits(q["total"]):
                mask &= within  # no purchase in the period (0 times, 0 yen) qualifies
            else:
                mask &= (times > 0) & within
        asked = count_bounds or q["total"] or q["order_code"].strip() or q["media"].strip() \
            or any(k.strip() for k in q["order_attributes"]) or any(x.strip() for x in q["bought_products"]) \
            or any(x.strip() for row in q["product_rows"] for x in row["product_codes"])
        if narrowed and not asked:  # only shops or dates given: the customers who bought in them
            mask &= self._per_customer(chosen) > 0
        some = {}
        if q["order_code"].strip():
            some["order_code"] = self.purchases["order_code"][chosen] == q["order_code"].strip()
        if q["media"].strip():
            some["media"] = self.purchases["media"][chosen] == q["media"].strip()
        if any(k.strip() for k in q["order_attributes"]):
            some["attributes"] = self._attribute_match(chosen, q["order_attributes"])
        for hits in some.values():
            mask &= self._per_customer(chosen[hits]) > 0
        codes = [x.strip() for x in q["bought_products"] if x.strip()]
        if codes:
            lines = self.lines
            chosen_lines = np.flatnonzero(self._products_wanted(codes)[lines["product"]])
            chosen_lines = chosen_lines[purchases[lines["purchase"][chosen_lines]]]
            bought = np.zeros(c.size, np.bool_)
            bought[lines["customer"][chosen_lines]] = True
            mask &= bought if q["bought"] else ~bought
        if q["product_rows"]:
            for row in q["product_rows"]:
                clause = self._product_row(row, purchases)
                if clause is not None:
                    mask &= clause
        return mask

    # メール履歴
    def mails_section(self, mails, company_id):
        c, m, a = self.customers, self.mails, self.activities
        mask = np.ones(c.size, np.bool_)
        for family in ("manual", "automatic"):
            f = mails.get(family)
            if not f or not any(f[flag] for flag in ACTIVITY_OF):
                continue
            chosen_mails = (m["company"] == company_id) & (m["family"] == FAMILIES[family])
            if f["mail_ids"]:
                chosen_mails &= np.isin(m["id"], f["mail_ids"])
            if f["kinds"]:
                chosen_mails &= np.isin(m["kind"], f["kinds"])
            in_question = chosen_mails[a["mail"]] & _moments_between(a["occurred"], f["period"])
            for flag, activity in ACTIVITY_OF.items():
                if not f[flag]:
                    continue
                happened = np.zeros(c.size, np.bool_)
                happened[a["customer"][in_question & (a["activity"] == ACTIVITIES[activity])]] = True
                mask &= happened if f[flag] == "include" else ~happened
        return mask


# --- what is read from the index ---------------------------------------------------------------------------------

_CUSTOMER_COLUMNS = [getattr(IndexedCustomer, name) for name in (
    "id", "company_id", "shop_id", "member_number", "member_number_value", "name_key", "gender", "birth_date",
    "mail_permission", "dm_permission", "mobile_email", "pc_email", "mobile_phone", "home_phone", "fax",
    *REMARKS, *EXTRAS, "points_held", "valid_points", "points_expiry", "earliest_expiry", "last_login_at",
    "registered_at", "line_permission")]
_CUSTOMER_NAMES = [column.key for column in _CUSTOMER_COLUMNS]
_CHOICE_COLUMNS = [IndexedChoice.customer_id, IndexedChoice.group_id, IndexedChoice.choice_id]
_MAIL_COLUMNS = [IndexedMail.id, IndexedMail.company_id, IndexedMail.family, IndexedMail.kind]


def _moments(columns):
    """A statement's columns for a session: moments (given as (column, label)) read as whole seconds since 1970,
    computed by PostgreSQL where it can (SQLite gives datetimes, turned into seconds by ``_seconds``)."""

    def build(session):
        postgres = session.bind.dialect.name == "postgresql"
        return [(cast(func.floor(func.extract("epoch", item[0])), BigInteger) if postgres else item[0]).label(item[1])
                if isinstance(item, tuple) else item for item in columns]

    return build


def _or_null(values):
    """Numbers with NULL for a missing one."""
    return [NULL if value is None else value for value in values]


def _seconds_of(values):
    """_seconds of a column's values: PostgreSQL gives whole seconds, converted at once when none is missing."""
    try:
        return np.array(values, np.int64)
    except (TypeError, ValueError):  # a missing moment, or datetimes (SQLite)
        return [_seconds(value) for value in values]


def _seconds(value):
    if value is None:
        return NULL
    if isinstance(value, dt.datetime):
        return _epoch(value)
    return int(value)


_SUMMARY_COLUMNS = _moments([
    CustomerSummary.customer_id, (CustomerSummary.first_purchase_at, "first"),
    (CustomerSummary.latest_purchase_at, "latest"), (CustomerSummary.latest_shipped_at, "shipped"),
    CustomerSummary.purchase_count, CustomerSummary.purchase_total, CustomerSummary.latest_order_code,
    CustomerSummary.latest_purchase_id, CustomerSummary.address_errors])
_PURCHASE_COLUMNS = _moments([
    IndexedPurchase.id, IndexedPurchase.customer_id, IndexedPurchase.shop_id,
    (IndexedPurchase.purchased_at, "purchased"), (IndexedPurchase.shipped_at, "shipped"),
    IndexedPurchase.billed_amount, IndexedPurchase.counted, IndexedPurchase.order_code, IndexedPurchase.media,
    IndexedPurchase.order_attributes])
_ACTIVITY_COLUMNS = _moments([
    IndexedMailActivity.id, IndexedMailActivity.customer_id, IndexedMailActivity.mail_id,
    IndexedMailActivity.activity, (IndexedMailActivity.occurred_at, "occurred")])


def _chunks(keys, size=5000):
    keys = sorted(keys)
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


def _bounded(bounds):
    """Does a Range or DateRange ask anything?"""
    return bool(bounds) and any(v is not None for v in bounds.values())


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _narrow(mask, other):
    """mask &= other, skipped when other is True (a condition not asked): a pass over the column saved."""
    if other is not True:
        mask &= other
    return mask


def _one_of(values, wanted):
    """values in a short list: compared one by one, many times faster than np.isin on a large column."""
    wanted = set(wanted)
    if len(wanted) > 16:
        return np.isin(values, list(wanted))
    mask = np.zeros(len(values), np.bool_)
    for value in wanted:
        mask |= values == value
    return mask


def _within(values, bounds, missing_is_zero=False):
    """values in [min, max]; a missing value never is (unless it counts as 0)."""
    if not bounds:
        return True
    low, high = bounds.get("min"), bounds.get("max")
    mask = np.ones(len(values), np.bool_) if missing_is_zero else values != NULL
    if low is not None:
        mask &= values >= low
    if high is not None:
        mask &= values <= high
    return mask


def _days_between(days, bounds):
    if not bounds or not (bounds.get("start") or bounds.get("end")):
        return True
    mask = days != NULL
    if bounds.get("start"):
        mask &= days >= bounds["start"].toordinal()
    if bounds.get("end"):
        mask &= days <= bounds["end"].toordinal()
    return mask


def _moments_between(seconds, bounds):
    """Moments on the days of bounds, Japan time."""
    if not bounds or not (bounds.get("start") or bounds.get("end")):
        return True
    mask = seconds != NULL
    if bounds.get("start"):
        mask &= seconds >= int(dt.datetime.combine(bounds["start"], dt.time(), JST).timestamp())
    if bounds.get("end"):
        mask &= seconds < int(dt.datetime.combine(bounds["end"] + dt.timedelta(days=1), dt.time(), JST).timestamp())
    return mask
