"""Which column of an imported file holds which field: known formats by their header, any other file by a mapping.

A mapping is ``{field: column name}`` (names, not positions, so a saved mapping survives columns moved around). A
file kind (customers, purchases) lists its fields with the labels the screens use; a known format (EC-CUBE's 会員CSV,
…) is recognised when every column of its signature is in the header, and maps itself. Any other file is mapped by
matching each field's label and usual spellings to the header; the operator corrects it column by column.
"""
import dataclasses

from .cells import CellUnreadable
from .contracts import field_error
from .errors import ValidationFailed


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    aliases: tuple = ()  # other spellings of the column in files seen in the wild, compared case-insensitively


@dataclasses.dataclass(frozen=True)
class ImportFormat:
    key: str
    label: str
    columns: dict  # field → the column name in this format
    signature: tuple  # the columns whose presence identifies the format

    def matches(self, header):
        return all(name in header for name in self.signature)


GENERIC = "generic"
GENERIC_LABEL = "汎用（列を指定して取込）"


@dataclasses.dataclass
class ImportItem:
    """One record for the owner (a customer, an order of several rows), or why there is none."""

    rows: list  # the csvreading.Row objects it came from
    record: dict | None = None
    problems: list = dataclasses.field(default_factory=list)  # [{"row", "column", "code"}]
    skip_reason: str | None = None
    line_row_numbers: list = dataclasses.field(default_factory=list)  # an order's product lines, by their row

    @property
    def end_offset(self):
        return self.rows[-1].end_offset

    @property
    def first_row(self):
        return self.rows[0].row_number


def recognise(header, formats):
    """The key of the first known format the header matches, or ``GENERIC``."""
    for import_format in formats:
        if import_format.matches(header):
            return import_format.key
    return GENERIC


def _folded(name):
    return "".join(name.lower().split()).replace("（", "(").replace("）", ")").replace("_", "")


def default_mapping(header, fields, formats):
    """The mapping a file starts with: its format's, or each field matched to a column by label or alias."""
    key = recognise(header, formats)
    if key != GENERIC:
        found = next(f for f in formats if f.key == key)
        return key, {field: column for field, column in found.columns.items() if column in header}
    by_name = {}
    for column in header:
        by_name.setdefault(_folded(column), column)
    mapping = {}
    for field in fields:
        for name in (field.label, field.name) + field.aliases:
            if _folded(name) in by_name:
                mapping[field.name] = by_name[_folded(name)]
                break
    return GENERIC, mapping


def check_mapping(header, mapping, fields):
    """The mapping as given, or ValidationFailed naming the fields whose column is missing or unknown."""
    known = {field.name: field for field in fields}
    if not isinstance(mapping, dict):
        raise field_error("mapping", "invalid")
    problems = {}
    for name, column in mapping.items():
        if name not in known:
            problems[f"mapping.{name}"] = ["unknown_field"]
        elif not isinstance(column, str) or column not in header:
            problems[f"mapping.{name}"] = ["unknown_column"]
    for field in fields:
        if field.required and not mapping.get(field.name):
            problems[f"mapping.{field.name}"] = ["required"]
    if problems:
        raise ValidationFailed("invalid mapping", problems)
    return dict(mapping)


class Cells:
    """The cells of one row by field, through a mapping; unreadable cells become problems of the item."""

    def __init__(self, header, mapping):
        self.index = {field: header.index(column) for field, column in mapping.items() if column in header}
        self.columns = dict(mapping)

    def raw(self, row, field):
        position = self.index.get(field)
        if position is None or position >= len(row.values):
            return ""
        return row.values[position]

    def has(self, field):
        return field in self.index

    def read(self, item, row, field, parse):
        """``parse(raw cell)``; an unreadable cell is noted on the item (row, column, code) and gives None."""
        try:
            return parse(self.raw(row, field))
        except CellUnreadable as unreadable:
            item.problems.append({"row": row.row_number, "column": self.columns[field], "code": unreadable.code})
            return None
