"""Cache entries: a record's public values as ready-to-send JSON bytes, a tombstone, an unknown handle, or a
write in progress. One encoding for both tiers: ``b"<version>|<kind>|<payload>"``."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from registry.kernel.values import Value, public_view, render

VALUES, TOMBSTONE, UNKNOWN, PENDING = b"V", b"T", b"N", b"P"


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    kind: bytes
    body: bytes = b""  # the public values array, JSON, for VALUES

    @property
    def servable(self) -> bool:
        return self.kind != PENDING

    @property
    def found(self) -> bool:
        return self.kind == VALUES


def encode(entry: Entry) -> bytes:
    return b"%d|%s|" % (entry.version, entry.kind) + entry.body


def decode(raw: bytes) -> Entry:
    version, kind, body = raw.split(b"|", 2)
    return Entry(int(version), kind, body)


def values_body(values: list[Value]) -> bytes:
    return orjson.dumps([render(v) for v in public_view(values)])


def from_record(version: int, deleted: bool, values: list[Value]) -> Entry:
    if deleted:
        return Entry(version, TOMBSTONE)
    return Entry(version, VALUES, values_body(values))


NOT_FOUND = Entry(0, UNKNOWN)
