"""Back-links: when an event captured here links one of our identifiers to another node's, or a record's reference
item names another node's identifier, that node is told, so that traces starting there follow the link to us
(ADR 0005). A journal consumer with its own cursor: it moves only when every home node concerned has accepted the
links of the batch; unknown homes are skipped (nobody to tell)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

from foundation.config import Settings
from foundation.crypto.keys import load_signing_key
from foundation.db import Database
from foundation.federation import PrefixLocator, node_request
from registry.events import repository as events
from registry.journal import repository as journal
from registry.kernel.clock import utcnow
from registry.kernel.syntax import canonical, is_under
from sync.errors import BacklinkFailed

CURSOR = "backlinks"
LINKS_PATH = "/federation/v1/trace/links"

log = logging.getLogger("secnode.sync.backlinks")


@dataclass
class Report:
    """What one home node is told: links of our events, and the references of our records (replacing theirs)."""

    links: list[dict] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)

    def payload(self) -> dict:
        return {
            "links": self.links,
            "references": [{"source": source, "targets": targets} for source, targets in self.references.items()],
        }


class BacklinkSender:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        locator: PrefixLocator,
        *,
        batch: int = 500,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.db, self.settings, self.locator, self.batch = db, settings, locator, batch
        self.node_key = canonical(settings.node_prefix)
        self.key = load_signing_key(settings.node_key_file)
        self.http = httpx.AsyncClient(timeout=10.0, transport=transport)

    def _is_local(self, key: str) -> bool:
        return is_under(key.partition("/")[0], self.node_key)

    async def ship_once(self) -> int:
        """Report the back-links of one journal batch; returns how many journal rows the cursor moved over."""
        async with self.db.unit_of_work() as session:
            cursor = (await journal.cursor_of(session, CURSOR)).cursor
        async with self.db.read_session() as session:
            rows = await journal.after(session, cursor, limit=self.batch)
            captured = [r.subject for r in rows if r.kind == "event.captured"]
            changed = list(dict.fromkeys(r.subject_key for r in rows if r.kind.startswith("handle.")))
            links = await events.foreign_ends(session, captured, self._is_local)
            references = await events.foreign_references(session, changed, self._is_local)
            reported = await events.reported_prefixes(session, changed)
        reports: dict[str, Report] = defaultdict(Report)
        for link in links:
            home = await self._home(link["handle"].partition("/")[0])
            if home is not None:
                reports[home].links.append(link)
        now_reported = {
            source: await self._add_references(reports, source, references.get(source, []), reported.get(source, set()))
            for source in changed
            if source in references or source in reported
        }
        for home, report in reports.items():
            await self._send(home, report.payload())
        if rows:
            async with self.db.unit_of_work() as session:
                await events.record_reported_prefixes(session, now_reported)
                stored = await journal.cursor_of(session, CURSOR, for_update=True)
                stored.cursor = max(stored.cursor, rows[-1].seq)
                stored.last_attempt_at = stored.last_success_at = utcnow()
                stored.last_error = None
        return len(rows)

    async def _add_references(
        self, reports: dict[str, Report], source: str, targets: list[str], reported: set[str]
    ) -> set[str]:
        """Put ``source``'s current foreign references into the reports of their homes, with an empty list for a
        home whose prefixes it referenced before and no longer does (a withdrawal); returns the prefixes now
        reported. All of a record's targets at one home go in one list: the home replaces what it held."""
        now_reported = set()
        for prefix in {t.partition("/")[0] for t in targets} | reported:
            home = await self._home(prefix)
            if home is None:
                continue
            at_prefix = [t for t in targets if t.partition("/")[0] == prefix]
            reports[home].references.setdefault(source, []).extend(at_prefix)
            if at_prefix:
                now_reported.add(prefix)
        return now_reported

    async def _home(self, prefix: str) -> str | None:
        home = await self.locator.locate(prefix)
        if home is None:
            log.info("secnode.backlinks.no_home prefix=%s", prefix)
            return None
        return home.rstrip("/")

    async def _send(self, home: str, payload: dict) -> None:
        body, headers = node_request(payload, self.settings.node_prefix, self.key)
        try:
            response = await self.http.post(home + LINKS_PATH, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise BacklinkFailed(f"{home} unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise BacklinkFailed(f"{home} refused: {response.status_code} {response.text[:200]}")

    async def run_forever(self, idle_seconds: float = 1.0, max_delay: float = 30.0) -> None:
        delay = 0.5
        while True:
            try:
                moved = await self.ship_once()
                delay = 0.5
                if moved == 0:
                    await asyncio.sleep(idle_seconds)
            except BacklinkFailed as exc:
                log.warning("secnode.backlinks.failed error=%s retry_in<=%.1fs", exc, delay)
                async with self.db.unit_of_work() as session:
                    stored = await journal.cursor_of(session, CURSOR, for_update=True)
                    stored.last_attempt_at, stored.last_error = utcnow(), str(exc)
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, max_delay)

    async def aclose(self) -> None:
        await self.http.aclose()
