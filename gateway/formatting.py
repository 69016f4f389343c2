"""Template filters: Japan time, labels of codes, yen."""
import datetime as dt

from services.common.contracts import JST

from .forms import typed_day, typed_moment
from .messages import LABELS


def jst(value, with_time=True):
    """An ISO timestamp from a service, as operators read it: '2022-09-18 19:50' (Asia/Tokyo)."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(JST)
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def jst_input(value):
    """For a date-and-time field: '2026/12/06 14:30' (Japan time), from a service's moment (with its offset) or one
    posted back as typed (read as Japan time); text that is no moment is shown as typed."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(typed_moment(value))
    except ValueError:
        return value
    if moment.tzinfo:
        moment = moment.astimezone(JST)
    return moment.strftime("%Y/%m/%d %H:%M")


def day_input(value):
    """For a date field: '2026/12/06', from the services' ISO day or a day posted back as typed ('2026-12-6',
    full-width digits); text that is no day is shown as typed."""
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(typed_day(value)).strftime("%Y/%m/%d")
    except ValueError:
        return value


def label(value, kind):
    return LABELS.get(kind, {}).get(value, value or "")


def search_query(args, **changes):
    """The search form's query string with some parameters replaced (sorting, paging links)."""
    from urllib.parse import urlencode

    for key, value in changes.items():
        args.setlist(key, [str(value)])
    return urlencode(list(args.items(multi=True)))


def install(app):
    app.add_template_filter(jst)
    app.add_template_filter(jst_input)
    app.add_template_filter(day_input)
    app.add_template_filter(label)
    app.add_template_filter(search_query)
