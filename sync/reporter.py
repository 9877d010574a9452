"""The reporter: ships the change journal upward in order, moves its cursor only on acknowledgement, and applies
the top-level's prefix decisions through the registry (ADR 0004)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from foundation import __version__
from foundation.config import Settings
from foundation.crypto.handle_trust import TrustInvalid, certificate_jwk
from foundation.crypto.trust_keys import load_trust_key
from foundation.db import Database
from registry.enterprise_nodes import service as enterprise_nodes
from registry.journal import repository as journal
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.prefixes.service import apply_upstream_decision
from registry.statistics import repository as statistics
from registry.trust import service as trust
from sync.errors import UpstreamError
from sync.upstream import Upstream

log = logging.getLogger("secnode.sync")
CURSOR = "upstream"
UPSTREAM_ACTOR = Actor(name="upstream", is_node_admin=True)


@dataclass
class Status:
    cursor: int
    last_seq: int
    last_error: str | None

    @property
    def lag(self) -> int:
        return max(0, self.last_seq - self.cursor)


class Reporter:
    def __init__(self, db: Database, settings: Settings, upstream: Upstream, *, batch: int = 500):
        self.db, self.settings, self.upstream, self.batch = db, settings, upstream, batch

    async def register(self, service_url: str) -> int:
        """Register with the top-level node, and keep the journal's numbers above what it acknowledged: after a
        restore the journal would hand out numbers again that the top-level takes for repeats and drops."""
        acknowledged = await self.upstream.register(service_url)
        async with self.db.unit_of_work() as session:
            before = await journal.advance_past(session, acknowledged)
        if before is not None:
            log.warning("secnode.sync.journal_advanced last=%d acknowledged=%d", before, acknowledged)
        await self.certify()
        return acknowledged

    async def certify(self) -> bool:
        """Have the top level certify the node's trust key and keep the certificate (ADR 0015). A node without a
        trust key, or under a top level that certifies nothing, goes on without: its signatures are then its own."""
        try:
            key = load_trust_key(self.settings.trust_key_file)
        except (OSError, ValueError):
            return False
        try:
            answer = await self.upstream.certify(certificate_jwk(key))
        except UpstreamError as exc:
            log.warning("secnode.sync.not_certified error=%s", exc)
            return False
        try:
            async with self.db.unit_of_work() as session:
                await trust.store_node_certificate(
                    session,
                    self.settings,
                    UPSTREAM_ACTOR,
                    key,
                    str(answer.get("certificate", "")),
                    str(answer.get("rootCertificate", "")),
                )
        except TrustInvalid as exc:
            log.error("secnode.sync.bad_certificate error=%s", exc)
            return False
        return True

    async def status(self) -> Status:
        async with self.db.unit_of_work() as session:
            cursor = await journal.cursor_of(session, CURSOR)
            return Status(cursor.cursor, await journal.last_seq(session), cursor.last_error)

    async def ship_once(self) -> tuple[int, int]:
        """Send one batch after the cursor (possibly empty: the answer also carries decisions). Returns how many rows
        the top-level newly acknowledged and how many decisions were applied."""
        async with self.db.unit_of_work() as session:
            cursor = (await journal.cursor_of(session, CURSOR)).cursor
        async with self.db.read_session() as session:
            rows = await journal.after(session, cursor, limit=self.batch)
        entries = [
            {
                "seq": r.seq,
                "kind": r.kind,
                "subject": r.subject,
                "subjectKey": r.subject_key,
                "version": r.version,
                "actor": r.actor,
                "payload": r.payload,
                "createdAt": r.created_at.isoformat(),
            }
            for r in rows
        ]
        try:
            ack = await self.upstream.send_journal(cursor, entries)
        except UpstreamError as exc:
            await self._record_error(str(exc))
            raise
        decided = 0
        async with self.db.unit_of_work() as session:
            stored = await journal.cursor_of(session, CURSOR, for_update=True)
            moved = max(0, ack.accepted - stored.cursor)
            stored.cursor = max(stored.cursor, ack.accepted)
            stored.last_attempt_at = stored.last_success_at = utcnow()
            stored.last_error = None
            for decision in ack.decisions:
                applied = await apply_upstream_decision(
                    session,
                    self.settings,
                    UPSTREAM_ACTOR,
                    decision["prefix"],
                    approved=decision.get("decision") == "approved",
                    reason=decision.get("reason"),
                )
                decided += applied is not None
        return moved, decided

    async def _record_error(self, error: str) -> None:
        async with self.db.unit_of_work() as session:
            stored = await journal.cursor_of(session, CURSOR, for_update=True)
            stored.last_attempt_at, stored.last_error = utcnow(), error

    async def report_health(self) -> int:
        """Today's statistics and a heartbeat (version, health, journal lag); applies decisions it brings back."""
        day = utcnow().date()
        async with self.db.read_session() as session:
            registrations = await statistics.registrations_on(session, day)
            resolutions = await statistics.resolutions_on(session, day)
            homed = await enterprise_nodes.health_summary(session)
        status = await self.status()
        try:
            await self.upstream.send_statistics(day.isoformat(), registrations, resolutions, homed)
            decisions = await self.upstream.send_heartbeat(
                {"version": __version__, "health": "ok", "journalLag": status.lag, "at": utcnow().isoformat()}
            )
        except UpstreamError as exc:
            await self._record_error(str(exc))
            raise
        async with self.db.unit_of_work() as session:
            applied = [
                await apply_upstream_decision(
                    session,
                    self.settings,
                    UPSTREAM_ACTOR,
                    d["prefix"],
                    approved=d.get("decision") == "approved",
                    reason=d.get("reason"),
                )
                for d in decisions
            ]
        return sum(a is not None for a in applied)

    async def drain(self) -> None:
        """Ship until the top-level holds everything committed and has no decision left for us (errors propagate)."""
        while True:
            _, decided = await self.ship_once()
            if decided == 0 and (await self.status()).lag == 0:
                return

    async def run_forever(
        self, idle_seconds: float = 1.0, health_seconds: float = 60.0, max_delay: float = 30.0
    ) -> None:
        """Ship continuously and report health every minute; on failure wait with exponential backoff and full
        jitter (0.5 s doubling to 30 s)."""
        delay = 0.5
        next_health = 0.0
        while True:
            try:
                if time.monotonic() >= next_health:
                    await self.report_health()
                    next_health = time.monotonic() + health_seconds
                moved, decided = await self.ship_once()
                delay = 0.5
                if moved == 0 and decided == 0:
                    await asyncio.sleep(idle_seconds)
            except UpstreamError as exc:
                log.warning("secnode.sync.failed error=%s retry_in<=%.1fs", exc, delay)
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, max_delay)
