"""A range of the condition language ({min, max}, either absent or null) as SQL clauses on an expression: the one
reading of every range, for the search conditions and RFM集計 alike. A range without bounds asks nothing."""


def in_range(expression, bounds):
    clauses = []
    if bounds and bounds.get("min") is not None:
        clauses.append(expression >= bounds["min"])
    if bounds and bounds.get("max") is not None:
        clauses.append(expression <= bounds["max"])
    return clauses
