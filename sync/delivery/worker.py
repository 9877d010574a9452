"""The delivery loop, in every worker of ``secnode serve`` (or ``secnode webhook run``): claim the subscriptions
that are due, send each one's pending message outside any transaction, record the outcome (ADR 0013).

One worker at a time sends a given subscription's messages, so they arrive in order: the claim locks the rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL: workers take different subscriptions, never wait for each other) and
leases them to this worker for longer than an attempt can take; an outcome is recorded only while the lease is
still this worker's. A worker that dies mid-attempt leaves the lease to run out; the next worker sends the same
message again (at least once: receivers deduplicate by ``webhook-id`` or by each change's ``seq``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.db import Database
from foundation.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_CHANGES, WEBHOOK_DISABLED, WEBHOOKS
from registry.journal import repository as journal
from registry.kernel.clock import utcnow
from registry.webhooks import delivery, secrets
from registry.webhooks import repository as subscriptions
from registry.webhooks.models import SubscriptionState, WebhookAttempt, WebhookSubscription
from registry.webhooks.service import CHANGES
from sync.delivery.backoff import retry_delay
from sync.delivery.changes import ChangeFeed
from sync.delivery.sender import Message, Outcome, send

log = logging.getLogger("secnode.webhooks")
CLAIM_LIMIT = 16  # subscriptions one worker sends to at once
METRICS_SECONDS = 10.0


class Producer(Protocol):
    """What makes a source's messages: sets the subscription's pending message (True) or moves its cursor past
    what is none of its business (False), inside the claim's transaction."""

    async def prepare(self, session: AsyncSession, subscription: WebhookSubscription) -> bool: ...


@dataclass(frozen=True)
class Job:
    message: Message
    url: str
    secret: str | None  # None: sealed with a key the node no longer has


def http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False)


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        producers: Mapping[str, Producer] | None = None,
        client: httpx.AsyncClient | None = None,
    ):
        self.db, self.settings = db, settings
        self.producers: Mapping[str, Producer] = producers or {CHANGES: ChangeFeed(settings)}
        self.client = client or http_client(settings)
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # longer than any attempt (the address check, then the request), so a live worker never loses its lease
        self.lease_seconds = 2 * settings.webhook_timeout_seconds + 5

    async def aclose(self) -> None:
        await self.client.aclose()

    async def claim(self, limit: int = CLAIM_LIMIT) -> list[Job]:
        now = utcnow()
        jobs: list[Job] = []
        async with self.db.primary_read_session() as session:
            if not await subscriptions.any_due(session, now):
                return jobs
        async with self.db.unit_of_work() as session:
            for subscription in await subscriptions.claim_due(session, now, limit):
                if subscription.pending_id is None:
                    producer = self.producers.get(subscription.source)
                    if producer is None or not await producer.prepare(session, subscription):
                        continue
                assert subscription.pending_id is not None and subscription.pending_body is not None
                delivery.lease(subscription, self.owner, now + timedelta(seconds=self.lease_seconds))
                message = Message(
                    subscription.id, subscription.pending_id, subscription.pending_body, subscription.pending_count
                )
                secret = secrets.unseal(subscription.secret, self.settings.node_key_file)
                jobs.append(Job(message, subscription.url, secret))
        return jobs

    async def run_once(self) -> int:
        """Claim what is due and send it; returns how many messages were attempted."""
        jobs = await self.claim()
        if jobs:
            await asyncio.gather(*(self._deliver(job) for job in jobs))
        return len(jobs)

    async def _deliver(self, job: Job) -> None:
        if job.secret is None:
            outcome = Outcome(False, None, "the subscription's secret cannot be read: rotate it", 0)
        else:
            outcome = await send(
                self.client,
                job.url,
                job.secret,
                job.message,
                allow_private=self.settings.webhook_allow_private_addresses,
            )
        await self._record(job.message, outcome)

    async def _record(self, message: Message, outcome: Outcome) -> None:
        now = utcnow()
        async with self.db.unit_of_work() as session:
            subscription = await subscriptions.get(session, message.subscription_id, for_update=True)
            if subscription is None or not delivery.holds(subscription, self.owner, message.message_id):
                return  # deleted, redelivered or taken over meanwhile: this outcome no longer applies
            if outcome.ok:
                delivery.acknowledged(subscription, now)
                WEBHOOK_ATTEMPTS.labels("delivered").inc()
                WEBHOOK_CHANGES.inc(message.items)
            else:
                delay = retry_delay(
                    subscription.failures + 1,
                    self.settings.webhook_retry_base_seconds,
                    self.settings.webhook_retry_max_seconds,
                )
                WEBHOOK_ATTEMPTS.labels("failed").inc()
                assert outcome.error is not None
                if delivery.failed(
                    subscription,
                    now,
                    outcome.error,
                    now + timedelta(seconds=delay),
                    self.settings.webhook_disable_after_failures,
                ):
                    WEBHOOK_DISABLED.inc()
                    log.warning(
                        "secnode.webhooks.disabled subscription=%d failures=%d error=%s",
                        subscription.id,
                        subscription.failures,
                        outcome.error,
                    )
            attempt = WebhookAttempt(
                subscription_id=subscription.id,
                message_id=message.message_id,
                attempted_at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                items=message.items,
            )
            await subscriptions.add_attempt(session, attempt, self.settings.webhook_attempts_kept)

    async def refresh_metrics(self) -> None:
        async with self.db.read_session() as session:
            last = await journal.last_seq(session)
            rows = await subscriptions.list_all(session)
        WEBHOOKS.replace(
            {s.id: (max(0, last - s.cursor), s.failures, s.state == SubscriptionState.DISABLED.value) for s in rows}
        )

    async def run_forever(self) -> None:
        """Deliver until cancelled. Each message is sent by a task of its own, so a slow receiver holds up only its
        own subscription: the loop claims more while up to ``CLAIM_LIMIT`` are in flight. A fault of the node (the
        database away) is logged and retried after a pause; cancelling ends the messages in flight unrecorded
        (their leases run out and they are sent again)."""
        in_flight: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()  # a message ended: its subscription's next one may be due at once
        next_metrics = 0.0
        pause = self.settings.webhook_poll_seconds
        try:
            while True:
                claimed = 0
                try:
                    room = CLAIM_LIMIT - len(in_flight)
                    for job in await self.claim(room) if room > 0 else []:
                        task = asyncio.create_task(self._deliver(job))
                        in_flight.add(task)
                        task.add_done_callback(self._finished(in_flight, finished))
                        claimed += 1
                    if time.monotonic() >= next_metrics:
                        await self.refresh_metrics()
                        next_metrics = time.monotonic() + METRICS_SECONDS
                    pause = self.settings.webhook_poll_seconds
                except Exception:  # noqa: BLE001 - the loop must outlive a database restart; cancellation ends it
                    log.exception("secnode.webhooks.loop_failed retry_in=%.1fs", pause)
                    pause = min(pause * 2, 30.0)
                if claimed == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(finished.wait(), pause)
                    finished.clear()
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    @staticmethod
    def _finished(in_flight: set[asyncio.Task[None]], finished: asyncio.Event) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            finished.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("secnode.webhooks.delivery_failed", exc_info=task.exception())

        return done


async def run_delivery(db: Database, settings: Settings) -> None:
    worker = DeliveryWorker(db, settings)
    try:
        await worker.run_forever()
    finally:
        await worker.aclose()


async def ping(settings: Settings, subscription: WebhookSubscription) -> Outcome:
    """A ``webhook.ping`` message to the subscription's URL now, signed with its secret, outside its stream (the
    cursor does not move). For an enterprise checking its receiver."""
    secret = secrets.unseal(subscription.secret, settings.node_key_file)
    if secret is None:
        return Outcome(False, None, "the subscription's secret cannot be read: rotate it", 0)
    body = {"type": "webhook.ping", "timestamp": utcnow().isoformat(), "data": {"subscriptionId": subscription.id}}
    message = Message(subscription.id, f"ping_{subscription.id}_{uuid.uuid4().hex}", orjson.dumps(body).decode(), 0)
    async with http_client(settings) as client:
        return await send(
            client, subscription.url, secret, message, allow_private=settings.webhook_allow_private_addresses
        )
