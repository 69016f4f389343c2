"""The one CSV reader of every file an operator or a connector brings in (インポート機能, ``python -m services import``).

Carts and spreadsheets write CSV in the encodings of Japanese offices: Shift_JIS (Excel, EC-CUBE; read as CP932,
which adds the characters Windows adds such as ① and ㈱), EUC-JP (older systems), UTF-8 with a BOM (Shopify, Excel's
"CSV UTF-8") or without one. ``inspect_file`` tells which, with charset-normalizer limited to those candidates, and
finds the delimiter; an operator may name the encoding instead when the guess is wrong.

A file is read as a stream, one record at a time, whatever its size: memory stays bounded. Each record carries the
byte offset where it ends, so a job or a connector that stopped can start again right after the last record it
finished (``read_rows(..., start_offset=...)``) without reading the beginning again.

Records are numbered as a spreadsheet numbers its rows: the header is row 1, the first record row 2, a blank line
takes a row (a quoted cell holding a line break stays in its record, as in Excel).
"""
import codecs
import csv
import dataclasses
import os
import typing

import charset_normalizer

from .field_messages import FILE_MESSAGES

MAX_FILE_BYTES = 2 * 1024 ** 3
"""The largest file taken: 2 GiB (a shop's whole history of ten million order lines is about 5 GB in EC-CUBE's
受注CSV of 70 columns; split such a file, or send it with the connector in several runs)."""

ENCODINGS = {
    "cp932": "Shift_JIS (CP932)",
    "euc_jp": "EUC-JP",
    "utf_8": "UTF-8",
    "utf_8_sig": "UTF-8 (BOM付き)",
}
"""The encodings a file may be in: Python's codec name → the label an operator reads."""

DELIMITERS = {",": "カンマ", "\t": "タブ", ";": "セミコロン", "|": "縦棒"}

SAMPLE_BYTES = 1024 * 1024
"""How much of the file the detector reads (and the most one record may hold)."""

_ZIP = b"PK\x03\x04"  # .xlsx and other Office files
_OLE = b"\xd0\xcf\x11\xe0"  # .xls

REFUSALS = FILE_MESSAGES
"""Why a file is refused, by code (the words the import page shows are in the one catalogue of messages)."""


class CsvFileRefused(Exception):
    """The file cannot be read as a CSV: nothing of it is imported. ``code`` is a key of ``REFUSALS``."""

    def __init__(self, code, row_number=None):
        self.code, self.row_number = code, row_number
        message = REFUSALS[code]
        if row_number is not None:
            message = f"{row_number}行目: {message}"
        super().__init__(message)

    @property
    def message(self):
        return str(self)


@dataclasses.dataclass(frozen=True)
class FileShape:
    """How a file is written: what ``read_rows`` needs to read it, and what the import page shows."""

    encoding: str  # a key of ENCODINGS
    delimiter: str
    header: tuple  # the column names of row 1, stripped (a name may appear twice: EC-CUBE's 受注CSV has two 送料)
    data_offset: int  # the byte where row 2 starts
    size: int

    @property
    def encoding_label(self):
        return ENCODINGS[self.encoding]

    def as_dict(self):
        return {"encoding": self.encoding, "delimiter": self.delimiter, "header": list(self.header),
                "data_offset": self.data_offset, "size": self.size}

    @classmethod
    def from_dict(cls, data):
        return cls(encoding=data["encoding"], delimiter=data["delimiter"], header=tuple(data["header"]),
                   data_offset=data["data_offset"], size=data["size"])


class Row(typing.NamedTuple):  # a tuple, made for each record faster than a frozen dataclass
    row_number: int  # as a spreadsheet numbers it: the header is 1
    end_offset: int  # the byte after this record: where reading starts again to resume after it
    values: tuple  # the cells as read (not stripped); missing trailing cells are not padded here
    undecodable: bool = False  # bytes the encoding does not know (shown as �)


def _head(path, size):
    with open(path, "rb") as stream:
        return stream.read(min(size, SAMPLE_BYTES))


def _first_non_ascii(path, head):
    """A window of the file starting shortly before its first non-ASCII byte (b"" when every byte is ASCII): a file
    whose first megabyte is ASCII (codes and numbers first) still shows its encoding further on."""
    if not head.isascii():
        return head
    with open(path, "rb") as stream:
        stream.seek(len(head))
        position = len(head)
        while True:
            chunk = stream.read(SAMPLE_BYTES)
            if not chunk:
                return b""
            if not chunk.isascii():
                start = next(i for i, byte in enumerate(chunk) if byte > 0x7F)
                stream.seek(position + max(0, start - 1024))
                return stream.read(64 * 1024)
            position += len(chunk)


def _whole_lines(sample):
    """The sample cut after its last line end, so that a multi-byte character is never cut in two."""
    end = sample.rfind(b"\n")
    return sample[:end + 1] if end >= 0 else sample


def detect_encoding(sample):
    """The encoding of a sample of bytes (a key of ENCODINGS), or None when it is none of them."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf_8_sig"
    text = _whole_lines(sample)
    try:
        text.decode("utf_8")
        return "utf_8"  # Shift_JIS or EUC-JP text of any length is almost never valid UTF-8
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(text, cp_isolation=["cp932", "euc_jp"], preemptive_behaviour=False)
    names = {match.encoding for match in matches}
    for name in ("cp932", "euc_jp"):  # Shift_JIS first: by far the commoner, and the tie-break
        if name in names:
            return name
    return None


def _sniff_delimiter(line):
    """The delimiter of a header line: the candidate found most often outside quotes (a comma when none is)."""
    counts, quoted = dict.fromkeys(DELIMITERS, 0), False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def inspect_file(path, encoding=None):
    """The shape of the file at ``path`` (its encoding detected unless given). Raises CsvFileRefused."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise CsvFileRefused("too_large")
    if size == 0:
        raise CsvFileRefused("empty")
    head = _head(path, size)
    if head.startswith((_ZIP, _OLE)):
        raise CsvFileRefused("excel")
    if b"\x00" in head:
        raise CsvFileRefused("not_csv")  # UTF-16, images, archives: no CSV in these encodings holds a NUL
    if encoding is None:
        window = _first_non_ascii(path, head)
        encoding = detect_encoding(window) if window else "utf_8"
        if encoding is None:
            raise CsvFileRefused("undecodable")
        if encoding == "utf_8" and head.startswith(codecs.BOM_UTF8):
            encoding = "utf_8_sig"
    elif encoding not in ENCODINGS:
        raise CsvFileRefused("unknown_encoding")
    elif encoding == "utf_8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf_8_sig"
    start = len(codecs.BOM_UTF8) if encoding == "utf_8_sig" else 0
    first_line = head[start:].split(b"\n", 1)[0]
    try:
        delimiter = _sniff_delimiter(first_line.decode(encoding.replace("_sig", "")))
    except UnicodeDecodeError:
        raise CsvFileRefused("wrong_encoding") from None
    header_rows = _records(path, encoding, delimiter, start, row_number=1)
    header = next(header_rows, None)
    if header is None:
        raise CsvFileRefused("empty")
    if header.undecodable:
        raise CsvFileRefused("wrong_encoding")
    names = tuple(value.strip().lstrip("\ufeff") for value in header.values)
    if not any(names):
        raise CsvFileRefused("no_header")
    return FileShape(encoding=encoding, delimiter=delimiter, header=names, data_offset=header.end_offset, size=size)


def _lines(stream, encoding, offset, tracker):
    """The text lines of a binary stream from ``offset``; ``tracker[0]`` follows the bytes handed out, so the
    offset after the record the csv reader just finished is known exactly. Blank lines between records are kept
    (the csv reader skips them)."""
    decode = codecs.getdecoder(encoding)
    stream.seek(offset)
    tracker[0] = offset
    for raw in stream:
        if len(raw) > SAMPLE_BYTES:
            raise CsvFileRefused("record_too_long")
        tracker[0] += len(raw)
        try:
            text, _ = decode(raw, "strict")
        except UnicodeDecodeError:
            text, _ = decode(raw, "replace")
            tracker[1] = True
        yield text


def _records(path, encoding, delimiter, offset, row_number):
    codec = "utf_8" if encoding == "utf_8_sig" else encoding  # the BOM is before row 1, never read again
    with open(path, "rb") as stream:
        tracker = [offset, False]
        reader = csv.reader(_lines(stream, codec, offset, tracker), delimiter=delimiter, quotechar='"',
                            strict=False)
        for values in reader:
            undecodable, tracker[1] = tracker[1], False
            if not values or (len(values) == 1 and not values[0].strip()):
                row_number += 1  # a blank line: no record, but a row of the spreadsheet all the same
                continue
            yield Row(row_number, tracker[0], tuple(values), undecodable)
            row_number += 1


def read_rows(path, shape, start_offset=None, start_row_number=2):
    """The records after the header, one at a time. ``start_offset`` (a Row's ``end_offset``) with
    ``start_row_number`` (that Row's number + 1) resumes after a record read before."""
    csv.field_size_limit(SAMPLE_BYTES)
    offset = shape.data_offset if start_offset is None else start_offset
    return _records(path, shape.encoding, shape.delimiter, offset, start_row_number)


def decode_sample(path, shape, rows=5):
    """The first ``rows`` records, for a preview."""
    found = []
    for row in read_rows(path, shape):
        found.append(row)
        if len(found) == rows:
            break
    return found
