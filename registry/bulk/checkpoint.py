"""The checkpoint of an import: how far the file has been committed, kept beside it after every batch.

It records the byte offset and row number just after the last committed batch, a SHA-256 of the file up to there
(a resumed run refuses a file whose imported part changed), the size of the error report at that point (a resumed
run cuts off what an unfinished batch had appended) and the options the rows were read with.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from registry.bulk.errors import CheckpointInvalid, CheckpointMismatch

_FORMAT = 1


@dataclass
class Counts:
    rows: int = 0  # rows done (empty lines aside): created + present + failed
    created: int = 0  # identifiers registered by this import
    present: int = 0  # identical identifiers found already registered (an earlier run, or a retried batch)
    failed: int = 0  # rows in the error report


@dataclass
class Checkpoint:
    options: dict[str, Any]  # what the rows were read with; a resume must use the same
    offset: int = 0
    row: int = 0
    digest: str = ""
    errors_bytes: int = 0
    counts: Counts = field(default_factory=Counts)

    def save(self, path: Path) -> None:
        """Replace the file atomically: a crash leaves the previous checkpoint or this one, never half of one."""
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("wb") as handle:
            handle.write(orjson.dumps({"format": _FORMAT, **asdict(self)}, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        if not path.exists():
            return None
        try:
            raw = orjson.loads(path.read_bytes())
            assert raw.pop("format") == _FORMAT
            raw["counts"] = Counts(**raw["counts"])
            return cls(**raw)
        except (orjson.JSONDecodeError, AssertionError, KeyError, TypeError):
            raise CheckpointInvalid(path) from None

    def check_resumable(self, options: dict[str, Any], path: Path) -> None:
        changed = sorted(k for k in set(options) | set(self.options) if options.get(k) != self.options.get(k))
        if changed:
            raise CheckpointMismatch(path, changed)


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
