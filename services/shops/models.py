"""Tables of the shops service."""
import datetime as dt

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.outbox import OutboxRecord, utcnow
from services.common.requests import HandledRequestRecord

from .permissions import DEFAULTS


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxRecord, Base):
    __tablename__ = "outbox"


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(100), default="")
    representative: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    shops: Mapped[list["Shop"]] = relationship(back_populates="company", order_by="Shop.shop_number")


def _permission_column(name):
    return mapped_column(Boolean, default=DEFAULTS[name], nullable=False)


class Shop(Base):
    __tablename__ = "shops"
    __table_args__ = (UniqueConstraint("company_id", "shop_number", name="uq_shops_company_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    shop_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    manager_name: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    sender_name: Mapped[str] = mapped_column(String(100), default="")
    sender_address: Mapped[str] = mapped_column(String(254), default="")
    felica: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")
    registered_on: Mapped[dt.date] = mapped_column(Date)

    may_use_daily_monthly_report: Mapped[bool] = _permission_column("may_use_daily_monthly_report")
    may_use_sales_report: Mapped[bool] = _permission_column("may_use_sales_report")
    may_use_repeat_rate_report: Mapped[bool] = _permission_column("may_use_repeat_rate_report")
    may_use_product_report: Mapped[bool] = _permission_column("may_use_product_report")
    may_export_customers: Mapped[bool] = _permission_column("may_export_customers")
    may_export_purchases: Mapped[bool] = _permission_column("may_export_purchases")
    may_export_daily_monthly_report: Mapped[bool] = _permission_column("may_export_daily_monthly_report")
    may_export_sales_report: Mapped[bool] = _permission_column("may_export_sales_report")
    may_export_repeat_rate_report: Mapped[bool] = _permission_column("may_export_repeat_rate_report")
    may_export_product_report: Mapped[bool] = _permission_column("may_export_product_report")
    may_export_purchase_status: Mapped[bool] = _permission_column("may_export_purchase_status")
    may_use_custom_csv_download: Mapped[bool] = _permission_column("may_use_custom_csv_download")

    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship(back_populates="shops")
    account: Mapped["Account | None"] = relationship(back_populates="shop", uselist=False)


class Account(Base):
    """A login: a company operator (shop_id empty) or the one account of a shop."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), unique=True, nullable=True)
    login_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A session carries the generation it was opened in; raising it ends every open session of the account.
    session_generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    shop: Mapped[Shop | None] = relationship(back_populates="account")

    def end_sessions(self):
        """Logout, a new password, a lock or 待機: the account's open sessions stop working."""
        self.session_generation = (self.session_generation or 1) + 1


class AllowedNetwork(Base):
    """One entry of a company's IP allowlist (IP設定): an address or CIDR range, IPv4 or IPv6."""

    __tablename__ = "allowed_networks"
    __table_args__ = (UniqueConstraint("company_id", "network", name="uq_allowed_networks_company_network"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    network: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)



class LoginAddressFailures(Base):
    """Failed logins from one client address in the current window, whatever login ids they named."""

    __tablename__ = "login_address_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0)
