"""Refusing events that would make the trace graph circular: nothing may go, however indirectly, into what it was
made from. A capture's events are checked in order against the stored links and the links of the events before
them in the same capture, which are stored together at its end."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from registry.events import repository
from registry.events.errors import EventCycle
from registry.events.parsing import ParsedEvent

SEARCH_DEPTH = 64  # how far back through what went into what a capture looks for a cycle


class CycleGuard:
    def __init__(self, session: AsyncSession):
        self.session = session
        self._parents: dict[str, set[str]] = defaultdict(set)  # what went into a key: stored, then this capture's
        self._loaded: set[str] = set()  # keys whose stored parents are in _parents

    async def prefetch(self, events: list[ParsedEvent]) -> None:
        """Read what went into the upstream ends of all the capture's edges, level by level for all of them at once
        (a query per level, not per event and level)."""
        await self._load_ancestors({up for event in events for up, _, _ in event.edges})

    async def check(self, event: ParsedEvent) -> None:
        downs_of: dict[str, set[str]] = defaultdict(set)
        for up, down, _ in event.edges:
            downs_of[up].add(down)
        for up, downs in downs_of.items():
            met = await self._ancestor_among(up, downs)
            if met is not None:
                raise EventCycle(f"{met} already went into {up}: this event would make a cycle")

    def add(self, event: ParsedEvent) -> None:
        """The event is accepted: later events of the capture see its links."""
        for up, down, _ in event.edges:
            self._parents[down].add(up)

    async def _ancestor_among(self, start: str, targets: set[str]) -> str | None:
        frontier, seen = {start}, {start}
        for _ in range(SEARCH_DEPTH):
            if not frontier:
                return None
            await self._load(frontier)
            found = {parent for key in frontier for parent in self._parents.get(key, ())}
            met = found & targets
            if met:
                return min(met)
            frontier = found - seen
            seen |= found
        return None

    async def _load(self, keys: set[str]) -> None:
        missing = keys - self._loaded
        if missing:
            for key, parent, *_ in await repository.neighbours(self.session, missing, "up"):
                self._parents[key].add(parent)
            self._loaded |= missing

    async def _load_ancestors(self, keys: set[str]) -> None:
        frontier = keys
        for _ in range(SEARCH_DEPTH):
            frontier -= self._loaded
            if not frontier:
                return
            await self._load(frontier)
            frontier = {parent for key in frontier for parent in self._parents.get(key, ())}
