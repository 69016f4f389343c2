"""The search index: a denormalised, query-shaped copy of what the owners publish.

Nothing here is authoritative: every row is rebuilt from the owners' events (or a full rebuild by RPC), applied only
when its version is newer than the one already applied.
"""
import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import OutboxRecord
from services.common.requests import HandledRequestRecord


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxRecord, Base):
    __tablename__ = "outbox"


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


class AppliedVersion(Base):
    """The newest version of each owner entity applied to the index (consumers are idempotent by it)."""

    __tablename__ = "applied_versions"

    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class IndexChange(Base):
    """The change journal: every change applied to the index, in order, with its company. Each replica keeps a store
    of its own (``store.py``) and follows this journal to stay fresh; it is pruned after a while (a replica that fell
    further behind loads everything again)."""

    __tablename__ = "ix_changes"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                     autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # customer, purchase, summary, mail, activity, saved, reset
    key: Mapped[int] = mapped_column(BigInteger)  # the entity's id (the company's for a reset)
    # Set: the entry stands for every key from ``key`` to this one (a batch's new entities, whose ids follow each
    # other, in one entry instead of one each).
    last_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    company_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class IndexIdentity(Base):
    """One row: a token made when the index is first used. A replica's store on disk names the index it copies, so
    that a database made afresh (its journal starting again at 1) is never followed from an old store's place."""

    __tablename__ = "ix_identity"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)


class IndexedCustomer(Base):
    __tablename__ = "ix_customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer)
    member_number: Mapped[str] = mapped_column(String(50))
    member_number_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50))
    family_kana: Mapped[str] = mapped_column(String(100))
    given_kana: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(300))
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    mail_permission: Mapped[str] = mapped_column(String(10))
    mobile_email: Mapped[str] = mapped_column(String(254))
    pc_email: Mapped[str] = mapped_column(String(254))
    dm_permission: Mapped[bool] = mapped_column(Boolean)
    line_permission: Mapped[bool] = mapped_column(Boolean, default=True)
    mobile_phone: Mapped[str] = mapped_column(String(20))
    home_phone: Mapped[str] = mapped_column(String(20))
    fax: Mapped[str] = mapped_column(String(20))
    remark1: Mapped[str] = mapped_column(Text, default="")
    remark2: Mapped[str] = mapped_column(Text, default="")
    remark3: Mapped[str] = mapped_column(Text, default="")
    remark4: Mapped[str] = mapped_column(Text, default="")
    remark5: Mapped[str] = mapped_column(Text, default="")
    remark6: Mapped[str] = mapped_column(Text, default="")
    remark7: Mapped[str] = mapped_column(Text, default="")
    remark8: Mapped[str] = mapped_column(Text, default="")
    remark9: Mapped[str] = mapped_column(Text, default="")
    remark10: Mapped[str] = mapped_column(Text, default="")
    extra1: Mapped[str] = mapped_column(Text, default="")
    extra2: Mapped[str] = mapped_column(Text, default="")
    extra3: Mapped[str] = mapped_column(Text, default="")
    extra4: Mapped[str] = mapped_column(Text, default="")
    points_held: Mapped[int] = mapped_column(Integer, default=0)
    valid_points: Mapped[int] = mapped_column(Integer, default=0)
    points_expiry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    earliest_expiry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    customer_class: Mapped[str] = mapped_column(String(20), default="new", server_default="new")


class IndexedChoice(Base):
    __tablename__ = "ix_customer_choices"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    choice_id: Mapped[int] = mapped_column(Integer)


class AddressErrorCount(Base):
    """Per customer, how many of its addresses are in error (``ix_address_states``), with its company: a customer's
    purchase figures are computed by each replica's store from its purchases (``store_derived.py``)."""

    __tablename__ = "ix_address_errors"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    address_errors: Mapped[int] = mapped_column(Integer, default=0)


class IndexedPurchase(Base):
    __tablename__ = "ix_purchases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    shop_id: Mapped[int] = mapped_column(Integer)
    order_code: Mapped[str] = mapped_column(String(100))
    purchased_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    billed_amount: Mapped[int] = mapped_column(Integer)
    sales: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # before discount: the lines' sum
    media: Mapped[str] = mapped_column(String(100), default="")
    order_attributes: Mapped[str] = mapped_column(Text, default="{}")
    counted: Mapped[bool] = mapped_column(Boolean)


class IndexedLine(Base):
    __tablename__ = "ix_purchase_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    product_code: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IndexedMail(Base):
    __tablename__ = "ix_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    mail_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    family: Mapped[str] = mapped_column(String(10))
    scenario_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(300))


class IndexedMailActivity(Base):
    __tablename__ = "ix_mail_activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    mail_id: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(String(10))
    result: Mapped[str] = mapped_column(String(10), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class IndexedAddressState(Base):
    __tablename__ = "ix_address_states"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    address_error: Mapped[bool] = mapped_column(Boolean)


class ExportLog(Base):
    """Every personal-data download: who, when, which conditions, which columns, how many rows."""

    __tablename__ = "export_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    conditions: Mapped[str] = mapped_column(Text)
    columns: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    completed: Mapped[bool] = mapped_column(Boolean, default=True)
    exported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SavedSearch(Base):
    """A named condition set: live (re-evaluated each time) or frozen (the customers it matched when saved)."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    conditions: Mapped[str] = mapped_column(Text)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SavedSearchMember(Base):
    __tablename__ = "saved_search_members"

    saved_search_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class RfmSetting(Base):
    """A company's RFM設定 (rank names, the bands of R, F and M, the rank of each R×F cell) as a JSON document; a
    company without a row uses the defaults (``rfm_settings.py``)."""

    __tablename__ = "rfm_settings"

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    settings: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
