"""Prefixes of this node homed at enterprise nodes, and their sites: what resolution refers clients to instead of
answering. Each worker keeps them in memory and reads them again every few seconds, so a homing or an unhoming
reaches every worker within ``REFRESH_SECONDS`` (homing is rare; resolution must not pay a query for it)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from foundation.db import Database
from registry.enterprise_nodes import service as enterprise_nodes
from registry.kernel.syntax import canonical

REFRESH_SECONDS = 5.0

Site = dict[str, Any]


class HomedPrefixes:
    def __init__(self, db: Database, refresh_seconds: float = REFRESH_SECONDS):
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._sites: dict[str, Site] = {}
        self._read_at = float("-inf")
        self._reading: asyncio.Lock = asyncio.Lock()

    async def covering(self, prefix_key: str) -> tuple[str, Site] | None:
        """The homed prefix covering ``prefix_key`` (itself or its longest homed ancestor) and its site; None when
        this node serves it."""
        if time.monotonic() - self._read_at > self.refresh_seconds:
            await self._read()
        if not self._sites:
            return None
        segments = prefix_key.split(".")
        for length in range(len(segments), 0, -1):
            candidate = ".".join(segments[:length])
            site = self._sites.get(candidate)
            if site is not None:
                return candidate, site
        return None

    async def _read(self) -> None:
        async with self._reading:
            if time.monotonic() - self._read_at <= self.refresh_seconds:
                return  # another request read them while this one waited
            async with self.db.read_session() as session:
                homed = await enterprise_nodes.list_homed(session)
            self._sites = {canonical(node["prefix"]): node["site"] for node in homed}
            self._read_at = time.monotonic()

    def forget(self) -> None:
        """Read again on the next look-up (this worker homed or unhomed a prefix)."""
        self._read_at = float("-inf")
