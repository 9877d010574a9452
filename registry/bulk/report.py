"""The per-row error report: a CSV file of row number, identifier, error name and reason."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, BinaryIO

from registry.bulk.errors import ReportChanged

HEADER = ("row", "identifier", "error", "reason")


class ErrorReport:
    """Appends failed rows; ``size`` after ``flush`` is what a checkpoint records."""

    def __init__(self, path: Path, *, keep_bytes: int | None):
        """``keep_bytes``: resume a report, cutting off anything written after the checkpoint; None: a new one."""
        self.path = path
        if keep_bytes is None:
            self._file: BinaryIO = path.open("wb")
            self._write(HEADER)
        else:
            if not path.exists() or path.stat().st_size < keep_bytes:
                raise ReportChanged(path)
            self._file = path.open("r+b")
            self._file.truncate(keep_bytes)
            self._file.seek(keep_bytes)

    def _write(self, row: tuple[Any, ...]) -> None:
        text = io.StringIO()
        csv.writer(text).writerow(row)
        self._file.write(text.getvalue().encode("utf-8", "backslashreplace"))

    def add(self, row: int, identifier: str, error: str, reason: str) -> None:
        self._write((row, identifier, error, reason))

    def flush(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
