"""Running a report for a caller: the permission (a shop account needs the report's 利用許可), the options read and
completed (the period a report has by default, the caller's shops), and the report's answer in the one shape of
``results.py``."""
import datetime as dt
from dataclasses import dataclass
from typing import Callable

from services.common import arguments
from services.common.contracts import field_error, load
from services.common.errors import NotFound

from .. import matching, rfm
from ..report_schemas import ReportOptions
from . import catalogue, daily_monthly, ltv, products, purchase_status, repeat, retention, sales

MODULES = {"daily_monthly": daily_monthly, "sales": sales, "repeat": repeat, "ltv": ltv, "retention": retention,
           "products": products, "purchase_status": purchase_status}
_options = ReportOptions()


@dataclass
class Reading:
    """What a report reads besides its options: the company's store, today, and the names and categories of
    products (by code, over the caller's shops: ``{code: {"name", "category"}}``, from the purchases service)."""
    execute: Callable  # statement → rows, over the company's tables
    today: dt.date
    product_labels: Callable


def options_for(report, scope, options, today):
    """The options as the report reads them: validated, the shops the caller may see, the period completed."""
    values = load(_options, arguments.mapping(options, "options"))
    values["shop_ids"] = rfm.shops_for(scope, values["shop_ids"])
    values["excluded_products"] = sorted(set(values["excluded_products"]))
    values["day"] = values["day"] or today
    values["date_to"] = values["date_to"] or today
    if values["date_from"] is None:
        values["date_from"] = values["date_to"] - dt.timedelta(days=max(report.default_days, 1) - 1)
    if values["date_from"] > values["date_to"]:
        raise field_error("date_from", "from_after_to")
    return values


def report_of(scope, kind, exporting=False):
    """The catalogue's report ``kind`` if the caller may see it (and download it, ``exporting``). Raises NotFound,
    Forbidden."""
    report = catalogue.BY_KIND.get(kind) if isinstance(kind, str) else None
    if report is None:
        raise NotFound("no such report")
    if report.use_permission:
        scope.ensure_permitted(report.use_permission)
    if exporting:
        scope.ensure_permitted(report.export_permission)
    return report


def run(scope, kind, options, store, product_labels, exporting=False):
    """The report ``kind`` for the caller: {kind, title, options, chart, tables, notes}. Raises NotFound (no such
    report), Forbidden (a shop account without its 利用許可 — or 出力許可 when ``exporting`` —, or naming another
    shop), ValidationFailed."""
    report = report_of(scope, kind, exporting)
    today = matching.today_jst()
    values = options_for(report, scope, options, today)
    reading = Reading(execute=lambda statement: store.execute(scope.company_id, statement), today=today,
                      product_labels=product_labels)
    answer = MODULES[kind].report(reading, values)
    shown = {name: values[name] for name in report.options}
    return {"kind": kind, "title": report.title,
            "options": {name: value.isoformat() if isinstance(value, dt.date) else value
                        for name, value in shown.items()}, "notes": [], **answer}
