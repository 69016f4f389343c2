"""The one shape of a report's answer, for the page (a chart above tables) and for the CSV alike:

    {kind, title, options, chart: {type, x, x_name, series: [{name, type, data, axis}], y_names, y, cells},
     tables: [{name, columns: [{key, label, unit}], rows: [[...]]}], notes: [...]}

``chart.type`` is ``bar`` or ``line`` (series over ``x``; ``axis`` 1 draws a series against a second axis, e.g. a
rate beside counts) or ``heatmap`` (``cells`` [[x index, y index, value]] over ``x`` and ``y``). A column's ``unit``
tells the page and the CSV how to write a value: ``count`` (人・件), ``yen``, ``percent`` (one decimal), ``number``,
``text``, ``shop``, ``customer_class``.
"""
from decimal import ROUND_HALF_UP, Decimal

UNITS = ("text", "count", "yen", "percent", "number", "shop", "customer_class")
"""How a column's values are written. ``shop``: a shop's id, which the page and the CSV write as its number and name;
``customer_class``: a 顧客区分 value (``new``), written in the customers service's words (新規)."""


def rate(part, whole):
    """``part`` of ``whole`` in percent, to one decimal (half up); None when there is no whole."""
    if not whole:
        return None
    return float((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def per(total, count):
    """``total`` / ``count`` rounded half up to a whole yen; None when ``count`` is 0."""
    if not count:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def column(key, label, unit="count"):
    assert unit in UNITS, unit
    return {"key": key, "label": label, "unit": unit}


def table(name, columns, rows):
    return {"name": name, "columns": columns, "rows": [list(row) for row in rows]}


def series(name, data, kind="bar", axis=0):
    return {"name": name, "type": kind, "data": list(data), "axis": axis}


def chart(kind, x, all_series=(), x_name="", y_names=("",), y=None, cells=None, x_unit="text"):
    """``x_unit``: how ``x``'s values are written (a unit of ``UNITS``: ``shop`` ids are named by the page)."""
    assert x_unit in UNITS, x_unit
    return {"type": kind, "x": list(x), "x_name": x_name, "x_unit": x_unit, "series": list(all_series),
            "y_names": list(y_names), "y": list(y or []), "cells": [list(cell) for cell in (cells or [])]}


def month_label(day):
    return f"{day.year}/{day.month:02d}"


def day_label(day):
    return f"{day.year}/{day.month:02d}/{day.day:02d}"
