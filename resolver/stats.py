"""Resolution counts per prefix per day, kept in memory and added to the database every few seconds
(never a database write per request)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, date, datetime

from foundation.db import Database
from registry.statistics import repository

log = logging.getLogger("secnode.stats")
FLUSH_SECONDS = 15.0


class ResolutionStats:
    def __init__(self, db: Database):
        self.db = db
        self._counts: Counter[tuple[date, str]] = Counter()
        self._day = datetime.now(UTC).date()

    def count(self, prefix_key: str) -> None:
        self._counts[(self._day, prefix_key)] += 1

    async def flush(self) -> None:
        self._day = datetime.now(UTC).date()
        counts, self._counts = self._counts, Counter()
        if not counts:
            return
        try:
            async with self.db.unit_of_work() as session:
                await repository.add_resolutions(session, dict(counts))
        except Exception as exc:  # keep the counts for the next flush
            self._counts.update(counts)
            log.warning("secnode.stats.flush_failed error=%s", type(exc).__name__)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()
