"""GS1 scans a worker remembers: keys mapped at the level asked for → the handle (see resolver.aliases)."""

from __future__ import annotations

from collections import OrderedDict

REMEMBERED = 100_000  # scans remembered per worker, least recently used forgotten first


class RememberedScans:
    """GS1 keys mapped at the level they were asked for, by canonical key → the handle, per worker."""

    def __init__(self, capacity: int = REMEMBERED):
        self.capacity = capacity
        self._handles: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        handle = self._handles.get(key)
        if handle is not None:
            self._handles.move_to_end(key)
        return handle

    def put(self, key: str, handle: str) -> None:
        self._handles[key] = handle
        self._handles.move_to_end(key)
        if len(self._handles) > self.capacity:
            self._handles.popitem(last=False)

    def forget(self, key: str) -> None:
        self._handles.pop(key, None)
