"""Reading an import file row by row: CSV with a header row, or JSON Lines.

The file is read line by line in binary, so the reader always knows the byte offset just after the last row it
returned (where a resumed import seeks to) and a running SHA-256 of every byte before it (how a resumed import
checks that the part already imported has not changed since).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from registry.bulk.errors import BadEncoding, BadHeader, EmptyFile, FormatUnknown, InputChanged

FORMATS = ("csv", "jsonl")
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the file: its fields, or why they could not be read."""

    number: int  # CSV: the spreadsheet row (the header is row 1); JSON Lines: the line number
    fields: dict[str, Any] | None
    problem: str | None = None  # a reason, when the row itself is unreadable


def format_of(path: Path, given: str | None) -> str:
    """The file's format: as given, or from its extension."""
    if given is not None:
        if given not in FORMATS:
            raise FormatUnknown(f"format must be csv or jsonl, not {given!r}")
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise FormatUnknown(f"cannot tell the format of {path.name} from its extension: pass --format csv or jsonl")


class Source:
    """Rows of one file from a byte offset on. ``position``, ``row`` and ``digest()`` describe the file up to
    the end of the last row returned."""

    def __init__(self, path: Path, fmt: str, *, encoding: str = "utf-8", offset: int = 0, row: int = 0):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise BadEncoding(f"unknown encoding {encoding!r}") from None
        self.path = path
        self.format = fmt
        self.encoding = encoding
        self.size = path.stat().st_size
        self._file: BinaryIO = path.open("rb")
        self._sha = hashlib.sha256()
        self.position = 0
        self.row = 0
        self._undecodable = 0  # lines met so far that are not valid in the encoding
        self.columns: list[str] | None = None
        try:
            if fmt == "csv":
                self._csv = csv.reader(self._lines())
                self.columns = self._header()
            if offset > self.position:
                self._skip_to(offset)
                self.row = row
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        self._file.close()

    def digest(self) -> str:
        return self._sha.hexdigest()

    def _lines(self) -> Iterator[str]:
        while line := self._file.readline():
            if self.position == 0 and line.startswith(_BOM):  # spreadsheets save UTF-8 with a byte order mark
                text = line[len(_BOM) :]
            else:
                text = line
            self._sha.update(line)
            self.position += len(line)
            try:
                decoded = text.decode(self.encoding)
            except UnicodeDecodeError:
                # The row that holds this line is reported as unreadable; the file is not refused.
                self._undecodable += 1
                decoded = text.decode(self.encoding, "replace")
            yield decoded

    def _header(self) -> list[str]:
        try:
            header = next(self._csv)
        except StopIteration:
            raise EmptyFile(self.path.name) from None
        except csv.Error as exc:
            raise BadHeader(f"the header row of {self.path.name} is not valid CSV: {exc}") from None
        self.row = 1
        columns = [c.strip() for c in header]
        if self._undecodable:
            raise BadEncoding(
                f"the header row of {self.path.name} is not {self.encoding}: pass --encoding "
                "(e.g. gbk for files saved by a Chinese-locale spreadsheet)"
            )
        blank = [n for n, c in enumerate(columns, 1) if not c]
        if blank:
            raise BadHeader(f"header column {blank[0]} has no name")
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise BadHeader(f"header names column {twice[0]!r} twice")
        return columns

    def _skip_to(self, offset: int) -> None:
        """Hash the bytes up to ``offset`` without parsing them (resuming)."""
        if offset > self.size:
            raise InputChanged(f"{self.path.name} is shorter than when it was partly imported")
        self._file.seek(self.position)
        remaining = offset - self.position
        while remaining:
            chunk = self._file.read(min(_CHUNK, remaining))
            self._sha.update(chunk)
            remaining -= len(chunk)
        self.position = offset

    def __iter__(self) -> Iterator[Row]:
        return self._csv_rows() if self.format == "csv" else self._jsonl_rows()

    def _csv_rows(self) -> Iterator[Row]:
        assert self.columns is not None
        width = len(self.columns)
        while True:
            undecodable = self._undecodable
            try:
                cells = next(self._csv)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. an unbalanced quote ran into the field size limit
                self.row += 1
                yield Row(self.row, None, f"not valid CSV: {exc}")
                continue
            self.row += 1
            if not any(cells):
                continue  # an empty line, or a row of empty cells a spreadsheet left behind
            if len(cells) > width and any(cells[width:]):
                yield Row(self.row, None, f"row has {len(cells)} fields, the header has {width}")
                continue
            if self._undecodable != undecodable:
                yield Row(self.row, None, _encoding_problem(self.encoding))
                continue
            # a short row: its missing last cells are empty
            yield Row(self.row, dict(zip(self.columns, cells, strict=False)))

    def _jsonl_rows(self) -> Iterator[Row]:
        for line in self._lines():
            self.row += 1
            if not line.strip():
                continue
            if self._undecodable:
                self._undecodable = 0
                yield Row(self.row, None, _encoding_problem(self.encoding))
                continue
            try:
                fields = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield Row(self.row, None, f"not valid JSON: {exc}")
                continue
            if not isinstance(fields, dict):
                yield Row(self.row, None, "a JSON Lines row must be an object of column: value")
                continue
            yield Row(self.row, fields)


def _encoding_problem(encoding: str) -> str:
    return f"not valid {encoding}: pass --encoding (e.g. gbk)"
