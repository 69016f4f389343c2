"""Tables of the purchases service."""
import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.db import NEVER_REUSE_IDS
from services.common.import_jobs import ImportJobRecord, ImportMappingRecord
from services.common.outbox import OutboxRecord, utcnow
from services.common.requests import HandledRequestRecord

from .schemas import ORDERED


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


DEFAULT_CATEGORY = "default"


class Category(Base):
    """商品カテゴリ of a shop; every shop has ``default``."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("shop_id", "name", name="uq_categories_shop_name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "code", name="uq_products_shop_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    price: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    category: Mapped[Category] = relationship(lazy="joined")


class Purchase(Base):
    """購入履歴: one order of a customer at a shop."""

    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("shop_id", "order_code", name="uq_purchases_shop_order_code"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int] = mapped_column(Integer)  # the unique key (shop, order code) answers a shop's purchases
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    member_number: Mapped[str] = mapped_column(String(50))
    order_code: Mapped[str] = mapped_column(String(100))
    purchased_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sales: Mapped[int] = mapped_column(Integer, default=0)
    billed_amount: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[str] = mapped_column(String(100), default="")
    order_attributes: Mapped[str] = mapped_column(Text, default="{}")
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=ORDERED, server_default=ORDERED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list["PurchaseLine"]] = relationship(
        primaryjoin="Purchase.id == foreign(PurchaseLine.purchase_id)", cascade="all, delete-orphan",
        order_by="PurchaseLine.line_no", lazy="selectin")
    answers: Mapped[list["PurchaseAnswer"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class PurchaseLine(Base):
    """A purchase's line, kept by (purchase, line number 1, 2, …). No key to the purchase is checked line by line:
    lines are written only for a purchase inserted or locked in their transaction, and a purchase's deletion takes
    its lines with it (a trigger: migration 0009)."""

    __tablename__ = "purchase_lines"

    purchase_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # A product is never deleted (the database refuses it: migration 0008), so no key is checked line by line.
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    product_code: Mapped[str] = mapped_column(String(50))
    product_name: Mapped[str] = mapped_column(String(300))
    line_remark: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)


class HistoryGroup(Base):
    """履歴グループ: an order survey answered per purchase (e.g. 管理ステイタス)."""

    __tablename__ = "history_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(125))
    in_use: Mapped[bool] = mapped_column(Boolean, default=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    choices: Mapped[list["HistoryChoice"]] = relationship(order_by="HistoryChoice.position", lazy="selectin")


class HistoryChoice(Base):
    __tablename__ = "history_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("history_groups.id"), index=True)
    label: Mapped[str] = mapped_column(String(125))
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class PurchaseAnswer(Base):
    __tablename__ = "purchase_answers"
    __table_args__ = (UniqueConstraint("purchase_id", "group_id", name="uq_purchase_answers_purchase_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("history_groups.id"))
    choice_id: Mapped[int] = mapped_column(ForeignKey("history_choices.id"))
