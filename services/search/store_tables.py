"""The tables of a search replica's store (DuckDB, one database per company), shaped for the questions of 検索 and 集計.

They are derived from the index tables (``models.py``), never written by anything but the store: each customer row
carries its RFM summary (so that a count, a sort or a download reads one table), each purchase line carries what the
conditions filter it by (its customer, shop, day, shipment and 集計対象), and a customer who never bought has 0
purchases and 0円 rather than no summary. No keys or indexes: the engine scans columns, and a row is replaced by
deleting and inserting it.
"""
from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import ENUM

from services.customers.fields import GENDERS, MAIL_PERMISSIONS

metadata = MetaData()
MAIL_ACTIVITIES = {"sent": "delivery", "opened": "open", "clicked": "click", "qr_read": "qr_read"}
"""The flags of a メール履歴 condition and the activity each stands for."""
MAIL_FLAGS = {f"{family}_{flag}": (family, activity) for family in ("manual", "automatic")
              for flag, activity in MAIL_ACTIVITIES.items()}
"""customers' flag columns: (mail family, activity) — did any mail of the family get that activity for them."""
Moment = DateTime(timezone=True)
GENDER = ENUM(*GENDERS, name="gender", create_type=False)
MAIL_PERMISSION = ENUM(*MAIL_PERMISSIONS, name="mail_permission", create_type=False)
ENUMS = (GENDER, MAIL_PERMISSION)
"""Columns whose values are a closed catalogue of the customer master, kept as DuckDB ENUMs (created in each company's
database before its tables) and compared as small integers, not as text: the commonest attribute questions (送信許可,
性別) read them (a count of PC mail with DM allowed at a million customers: 2.6 ms in DuckDB against 7.4 ms as
text). A value outside the catalogue cannot be stored; the store's LAYOUT names the catalogues, so that a store
written with others is loaded afresh."""

customers = Table(
    "customers", metadata,
    Column("id", Integer), Column("company_id", Integer), Column("shop_id", Integer),
    Column("member_number", String), Column("member_number_value", BigInteger),
    Column("family_name", String), Column("given_name", String), Column("family_kana", String),
    Column("given_kana", String), Column("name_key", String), Column("gender", GENDER), Column("birth_date", Date),
    Column("mail_permission", MAIL_PERMISSION), Column("mobile_email", String), Column("pc_email", String),
    Column("dm_permission", Boolean), Column("line_permission", Boolean), Column("mobile_phone", String),
    Column("home_phone", String), Column("fax", String), Column("customer_class", String),
    *[Column(f"remark{i}", Text) for i in range(1, 11)], *[Column(f"extra{i}", Text) for i in range(1, 5)],
    Column("points_held", Integer), Column("valid_points", Integer), Column("points_expiry", Date),
    Column("earliest_expiry", Date), Column("last_login_at", Moment), Column("registered_at", Moment),
    # the summary, over counted purchases at every shop of the company, computed in the store from its purchases
    # (store_derived.py), and the number of the customer's addresses in error (read from the index)
    Column("first_purchase_at", Moment), Column("latest_purchase_at", Moment), Column("latest_shipped_at", Moment),
    Column("latest_order_code", String), Column("latest_purchase_id", Integer), Column("purchase_count", Integer),
    Column("purchase_total", BigInteger), Column("address_errors", Integer),
    # computed in the store from its purchases too: the first counted purchase, by moment then id, and the moment of
    # the second — 集計's cohort reports read them instead of grouping every purchase
    Column("first_purchase_id", Integer), Column("second_purchase_at", Moment),
    # what happened to the family's mails, of any mail and any day: the commonest メール履歴 questions read these
    # instead of joining every customer with the activities (computed in the store: store_derived.py)
    *[Column(name, Boolean) for name in MAIL_FLAGS],
)

choices = Table("choices", metadata, Column("customer_id", Integer), Column("group_id", Integer),
                Column("choice_id", Integer))

purchases = Table(
    "purchases", metadata,
    Column("id", Integer), Column("company_id", Integer), Column("customer_id", Integer), Column("shop_id", Integer),
    Column("order_code", String), Column("purchased_at", Moment), Column("shipped_at", Moment),
    Column("billed_amount", Integer), Column("sales", Integer), Column("media", String), Column("order_attributes", Text),
    Column("counted", Boolean), Column("line_count", Integer),
)

lines = Table(
    "lines", metadata,
    Column("purchase_id", Integer), Column("customer_id", Integer), Column("product_code", String),
    Column("quantity", Integer), Column("unit_price", Integer),
    # of its purchase, so that a product question reads this table alone
    Column("shop_id", Integer), Column("purchased_at", Moment), Column("shipped_at", Moment),
    Column("counted", Boolean),
)

mails = Table(
    "mails", metadata,
    Column("id", Integer), Column("company_id", Integer), Column("mail_number", Integer), Column("kind", String),
    Column("family", String), Column("scenario_number", Integer), Column("step", Integer), Column("name", String),
)

mail_activities = Table(
    "mail_activities", metadata,
    Column("id", Integer), Column("company_id", Integer), Column("customer_id", Integer), Column("mail_id", Integer),
    Column("activity", String), Column("result", String), Column("occurred_at", Moment),
)

saved_members = Table("saved_members", metadata, Column("saved_search_id", Integer), Column("customer_id", Integer))
"""The customers of each frozen saved search (a live one is its conditions, evaluated each time)."""
