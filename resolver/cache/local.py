"""The in-process tier: a bounded LRU that answers only while the worker's lease is fresh (ADR 0002)."""

from __future__ import annotations

import time
from collections import OrderedDict

from resolver.cache.entry import UNKNOWN, Entry

NEGATIVE_TTL = 5.0


class LocalTier:
    def __init__(self, capacity: int = 200_000, *, always_valid: bool = False):
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[Entry, float]] = OrderedDict()
        self.generation = 0  # grows with every invalidation this worker handles
        self._invalidated: OrderedDict[str, int] = OrderedDict()  # key -> generation of its last invalidation
        self._floor = 0  # invalidations older than what _invalidated remembers count as this generation
        self._deadline = float("inf") if always_valid else 0.0  # monotonic time until which we may answer

    # ---- lease ---------------------------------------------------------------------------------------------

    def serving(self) -> bool:
        if time.monotonic() < self._deadline:
            return True
        if self._deadline:  # just lapsed: nothing held under the old lease may be answered later
            self.lapse()
        return False

    def extend(self, deadline: float) -> None:
        self._deadline = max(self._deadline, deadline)

    def lapse(self) -> None:
        """The lease is gone: forget everything and answer nothing until it is renewed."""
        self._deadline = 0.0
        self._entries.clear()
        self.generation += 1
        self._floor = self.generation

    # ---- entries -------------------------------------------------------------------------------------------

    def get(self, key: str) -> Entry | None:
        if not self.serving():
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        entry, expires = found
        if expires and time.monotonic() > expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def invalidate(self, keys: list[str]) -> None:
        self.generation += 1
        for key in keys:
            self._entries.pop(key, None)
            self._invalidated[key] = self.generation
            self._invalidated.move_to_end(key)
        while len(self._invalidated) > 100_000:
            _, generation = self._invalidated.popitem(last=False)
            self._floor = max(self._floor, generation)

    def fill(self, key: str, entry: Entry, seen_generation: int) -> bool:
        """Insert what was read after ``seen_generation`` unless an invalidation of the key arrived meanwhile or a
        newer version is already here."""
        if not self.serving() or not entry.servable:
            return False
        if max(self._invalidated.get(key, 0), self._floor) > seen_generation:
            return False
        current = self._entries.get(key)
        if current is not None and current[0].version > entry.version:
            return False
        self._store(key, entry)
        return True

    def install(self, key: str, entry: Entry) -> None:
        """A committed version from this process's own write: newer than anything a fill could bring."""
        if not self.serving():
            return
        current = self._entries.get(key)
        if current is None or current[0].version <= entry.version:
            self._store(key, entry)

    def _store(self, key: str, entry: Entry) -> None:
        expires = time.monotonic() + NEGATIVE_TTL if entry.kind == UNKNOWN else 0.0
        self._entries[key] = (entry, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
