"""Sends the notification mail of a registration over SMTP, once per customer."""
import email.utils
import smtplib
from email.message import EmailMessage

from services.common.config import env, env_int

from .models import SentNotification


# Refusals that will not change on a retry (5xx answers about this mail); anything else is tried again.
PERMANENT_FAILURES = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)


def smtp_settings():
    return {"host": env("SMTP_HOST", "127.0.0.1"), "port": env_int("SMTP_PORT", 2525),
            "username": env("SMTP_USERNAME", ""), "password": env("SMTP_PASSWORD", ""),
            "starttls": env("SMTP_STARTTLS", "0") == "1", "default_from": env("MAIL_FROM", "noreply@localhost")}


def build_message(mail, default_from):
    message = EmailMessage()
    message["Subject"] = mail["subject"]
    message["From"] = email.utils.formataddr((mail["from_name"], mail["from_address"] or default_from))
    message["To"] = mail["to"]
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain="tsuhan-crm.local")
    message.set_content(mail["body"])
    return message


def send(mail, settings=None):
    settings = settings or smtp_settings()
    message = build_message(mail, settings["default_from"])
    with smtplib.SMTP(settings["host"], settings["port"], timeout=15) as smtp:
        if settings["starttls"]:
            smtp.starttls()
        if settings["username"]:
            smtp.login(settings["username"], settings["password"])
        smtp.send_message(message)


def deliver_once(session, mail, sender=send):
    """Send unless this customer's notification already went out; record it. Returns True when sent now."""
    if session.get(SentNotification, mail["customer_id"]) is not None:
        return False
    sender(mail)
    session.add(SentNotification(customer_id=mail["customer_id"], recipient=mail["to"]))
    return True
