"""Tables of the customers service."""
import datetime as dt

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.db import NEVER_REUSE_IDS
from services.common.import_jobs import ImportJobRecord, ImportMappingRecord
from services.common.outbox import OutboxRecord, utcnow
from services.common.requests import HandledRequestRecord


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxRecord, Base):
    __tablename__ = "outbox"


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


class ImportJob(ImportJobRecord, Base):
    __tablename__ = "import_jobs"


class ImportMapping(ImportMappingRecord, Base):
    __tablename__ = "import_mappings"


REMARK_COUNT = 10
EXTRA_COUNT = 4


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("company_id", "member_number", name="uq_customers_company_member"),
                      Index("ix_customers_company_number_value", "company_id", "member_number_value"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer, index=True)
    member_number: Mapped[str] = mapped_column(String(50))
    # The member number as the number the sequence would issue it as, else NULL (numbering.py).
    member_number_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50), default="")
    family_kana: Mapped[str] = mapped_column(String(100), default="")
    given_kana: Mapped[str] = mapped_column(String(100), default="")
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    mail_permission: Mapped[str] = mapped_column(String(10), default="refused")
    mobile_email: Mapped[str] = mapped_column(String(254), default="")
    mobile_is_smartphone: Mapped[bool] = mapped_column(Boolean, default=False)
    pc_email: Mapped[str] = mapped_column(String(254), default="")
    pc_is_smartphone: Mapped[bool] = mapped_column(Boolean, default=False)
    dm_permission: Mapped[bool] = mapped_column(Boolean, default=True)
    line_permission: Mapped[bool] = mapped_column(Boolean, default=True)
    test_recipient: Mapped[bool] = mapped_column(Boolean, default=False)
    mobile_phone: Mapped[str] = mapped_column(String(20), default="")
    home_phone: Mapped[str] = mapped_column(String(20), default="")
    fax: Mapped[str] = mapped_column(String(20), default="")
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    address_key: Mapped[str] = mapped_column(String(300), default="")  # folded for matching, as name_key
    customer_class: Mapped[str] = mapped_column(String(20), default="new")
    # Name and furigana folded (width, kana, spaces) so that ﾔﾏﾀﾞ, やまだ and ヤマダ find the same customer.
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
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
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    choices: Mapped[list["CustomerChoice"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


# a customer found by mail address, compared without case (``customers.resolve_emails``)
Index("ix_customers_company_pc_email", Customer.company_id, func.lower(Customer.pc_email))
Index("ix_customers_company_mobile_email", Customer.company_id, func.lower(Customer.mobile_email))


class MemberSequence(Base):
    """The next auto-issued member number of a company; its row is locked while a number is taken."""

    __tablename__ = "member_sequences"

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_value: Mapped[int] = mapped_column(Integer, default=1)


class CompanySettings(Base):
    """The company's defaults of 基本設定 (how each field of the public registration form is shown, the notification
    mail), which a shop follows until it has settings of its own, and the versions of a company's settings, 備考
    included."""

    __tablename__ = "company_settings"

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fields_json: Mapped[str] = mapped_column(Text, default="{}")
    notification_subject: Mapped[str] = mapped_column(String(200), default="")
    notification_body: Mapped[str] = mapped_column(Text, default="")
    registration_version: Mapped[int] = mapped_column(Integer, default=0)
    remarks_version: Mapped[int] = mapped_column(Integer, default=0)


class ShopRegistrationSettings(Base):
    """基本設定 of one shop: its public registration form and notification mail. A shop without a row follows the
    company's defaults (CompanySettings)."""

    __tablename__ = "shop_registration_settings"

    shop_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    fields_json: Mapped[str] = mapped_column(Text, default="{}")
    notification_subject: Mapped[str] = mapped_column(String(200), default="")
    notification_body: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class RemarkSetting(Base):
    """備考: the name and visibility of remark 1..10 of a company."""

    __tablename__ = "remark_settings"
    __table_args__ = (UniqueConstraint("company_id", "position", name="uq_remark_settings_company_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    shown: Mapped[bool] = mapped_column(Boolean, default=True)


class AttributeGroup(Base):
    """顧客グループ: an attribute group (e.g. 会員ステータス) with its choices."""

    __tablename__ = "attribute_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(125))
    in_use: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    choices: Mapped[list["AttributeChoice"]] = relationship(order_by="AttributeChoice.position", lazy="selectin")


class AttributeChoice(Base):
    __tablename__ = "attribute_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("attribute_groups.id"), index=True)
    label: Mapped[str] = mapped_column(String(125))
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class CustomerChoice(Base):
    """A customer's choice in one attribute group: at most one per group."""

    __tablename__ = "customer_choices"
    __table_args__ = (UniqueConstraint("customer_id", "group_id", name="uq_customer_choices_customer_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("attribute_groups.id"))
    choice_id: Mapped[int] = mapped_column(ForeignKey("attribute_choices.id"))


class SupportEntry(Base):
    """対応履歴: one customer-service contact."""

    __tablename__ = "support_entries"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    staff: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    content: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SentNotification(Base):
    """The notification mail of a registration, once sent; makes the sending idempotent."""

    __tablename__ = "sent_notifications"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
