"""Prefixes of this node homed at enterprise nodes, and their sites: what resolution refers clients to instead of
answering. Each worker keeps them in memory and reads them again every few seconds, so a homing or an unhoming
reaches every worker within ``REFRESH_SECONDS`` (homing is rare; resolution must not pay a query for it)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from foundation.db import Database
from registry.enterprise_nodes import service as enterprise_nodes
from registry.kernel.syntax import canonical

REFRESH_SECONDS = 5.0
log = logging.getLogger("secnode.homed")

Site = dict[str, Any]


class HomedPrefixes:
    def __init__(self, db: Database, refresh_seconds: float = REFRESH_SECONDS):
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._sites: dict[str, Site] = {}
        self._read_at = float("-inf")
        self._reading: asyncio.Lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def covering(self, prefix_key: str) -> tuple[str, Site] | None:
        """The homed prefix covering ``prefix_key`` (itself or its longest homed ancestor) and its site; None when
        this node serves it."""
        if time.monotonic() - self._read_at > self.refresh_seconds:
            await self._read()
        return self.covering_known(prefix_key)

    def covering_known(self, prefix_key: str) -> tuple[str, Site] | None:
        """``covering`` by what this worker last read, without reading again (for answers kept as bytes)."""
        if not self._sites:
            return None
        segments = prefix_key.split(".")
        for length in range(len(segments), 0, -1):
            candidate = ".".join(segments[:length])
            site = self._sites.get(candidate)
            if site is not None:
                return candidate, site
        return None

    async def _read(self, *, force: bool = False) -> None:
        async with self._reading:
            if not force and time.monotonic() - self._read_at <= self.refresh_seconds:
                return  # another request read them while this one waited
            async with self.db.read_session() as session:
                homed = await enterprise_nodes.list_homed(session)
            self._sites = {canonical(node["prefix"]): node["site"] for node in homed}
            self._read_at = time.monotonic()

    async def run(self) -> None:
        """Read the homed prefixes every ``refresh_seconds``, so answers kept as bytes learn of a homing too."""
        while True:
            try:
                await self._read(force=True)
            except Exception:  # noqa: BLE001 - the next round tries again; resolution goes on meanwhile
                log.warning("secnode.homed.read_failed", exc_info=True)
            await asyncio.sleep(self.refresh_seconds)

    def forget(self) -> None:
        """This worker homed or unhomed a prefix: read again on the next look-up, and soon after the change commits
        (answers kept as bytes do not look up)."""
        self._read_at = float("-inf")
        loop = asyncio.get_running_loop()
        for delay in (0.1, 1.0):
            loop.call_later(delay, lambda: self._tasks.add(loop.create_task(self._read(force=True))))
