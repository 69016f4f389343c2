"""Tables of the mail-history service."""
import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import OutboxRecord, utcnow
from services.common.requests import HandledRequestRecord


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxRecord, Base):
    __tablename__ = "outbox"


class HandledRequest(HandledRequestRecord, Base):
    __tablename__ = "handled_requests"


class Mail(Base):
    """A mail the mail system sent (or sends, step by step, for a scenario)."""

    __tablename__ = "mails"
    __table_args__ = (UniqueConstraint("company_id", "mail_number", name="uq_mails_company_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    mail_number: Mapped[int] = mapped_column(Integer)  # the mail system's id of the mail
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    shop_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scenario_number: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class MailActivity(Base):
    """One thing that happened to one customer with one mail: a delivery (delivered or failed), an open, a click,
    a QR read. ``report_key`` makes a report sent twice count once."""

    __tablename__ = "mail_activities"
    __table_args__ = (UniqueConstraint("company_id", "report_key", name="uq_mail_activities_report"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    mail_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    member_number: Mapped[str] = mapped_column(String(50))
    activity: Mapped[str] = mapped_column(String(10))  # delivery | open | click | qr_read
    result: Mapped[str] = mapped_column(String(10), default="")  # delivered | failed (deliveries only)
    address: Mapped[str] = mapped_column(String(254), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    report_key: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AddressState(Base):
    """Failed deliveries to an address in total; 3 or more puts it in アドレスエラー."""

    __tablename__ = "address_states"
    __table_args__ = (UniqueConstraint("company_id", "customer_id", "address", name="uq_address_states"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    address: Mapped[str] = mapped_column(String(254))
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
