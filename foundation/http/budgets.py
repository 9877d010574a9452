"""Request budgets shared by every worker without a Redis round trip on a request's path.

A budget allows ``limit`` units per subject (a client address, an identity, a prefix) in fixed windows of
``window`` seconds. Each worker charges requests against its own view: the total of all workers it last read back,
plus what it charged since. A background task adds each worker's new charges to Redis every ``SYNC_SECONDS``
(``INCRBY``, one key per subject and window) and reads the totals back. Between two synchronisations the workers
together can overshoot by what they charged in that interval; without Redis (one worker) the count is exact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from starlette.types import ASGIApp, Receive, Scope, Send

from foundation.config import Settings
from foundation.errors import AddressRateLimited, DailyRequestsUsedUp, RegistrationsUsedUp
from foundation.http.face import ErrorRenderer
from foundation.http.request_ids import take_request_id, with_request_id
from foundation.http.requests import client_address
from foundation.metrics import LIMIT_REFUSED

log = logging.getLogger("secnode.limits")

SYNC_SECONDS = 0.25
EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")  # probes and scrapes are never refused


class Budget:
    def __init__(self, name: str, limit: int, window: int):
        self.name, self.limit, self.window = name, limit, window
        self._current = -1  # the window the counts below belong to
        self._known: dict[str, int] = {}  # totals of all workers, as last read back
        self._pending: dict[str, int] = defaultdict(int)  # charged here since the last synchronisation
        self._in_flight: dict[str, int] = {}  # charged here, on its way to Redis: still counted until read back

    def _roll(self, now: float) -> int:
        current = int(now // self.window)
        if current != self._current:
            self._current, self._known, self._pending, self._in_flight = current, {}, defaultdict(int), {}
        return current

    def charge(self, subject: str, units: int = 1) -> float | None:
        """Charge ``units``; None when the budget allows them, else the seconds until the window ends (nothing is
        charged then)."""
        now = time.time()
        current = self._roll(now)
        used = self._known.get(subject, 0) + self._in_flight.get(subject, 0) + self._pending[subject]
        if used + units > self.limit:
            return (current + 1) * self.window - now
        self._pending[subject] += units
        return None

    async def refresh(self, redis: Redis | RedisCluster, subject: str) -> None:
        """Read the node's total for ``subject`` now: for a process that charges without the periodic
        synchronisation (``secnode import``)."""
        value = await redis.get(self.key(self._roll(time.time()), subject))
        self.start_from(subject, int(value or 0))

    def start_from(self, subject: str, total: int) -> None:
        """Count from ``total`` units already used in the current window."""
        self._roll(time.time())
        self._known[subject] = total

    def key(self, window: int, subject: str) -> str:
        return f"secnode:limit:{self.name}:{window}:{subject}"

    async def synchronise(self, redis: Redis | RedisCluster) -> None:
        current = self._roll(time.time())
        pending, self._pending = self._pending, defaultdict(int)
        pending = {subject: units for subject, units in pending.items() if units}
        if not pending:
            return
        self._in_flight = pending
        pipe = redis.pipeline(transaction=False)
        for subject, units in pending.items():
            pipe.incrby(self.key(current, subject), units)
            pipe.expire(self.key(current, subject), self.window * 2)
        try:
            results = await pipe.execute()
        except Exception:
            if current == self._current:
                self._in_flight = {}
                for subject, units in pending.items():  # counted again at the next synchronisation
                    self._pending[subject] += units
            raise
        if current == self._current:
            self._known.update(zip(pending, results[::2], strict=True))  # the totals now hold what was in flight
            self._in_flight = {}


class Budgets:
    """The node's budgets (``SECNODE_LIMIT_*``; 0 turns one off) and their synchronisation task."""

    def __init__(self, redis: Redis | RedisCluster | None, settings: Settings):
        self.redis = redis
        self.per_ip = (
            Budget("ip", settings.limit_requests_per_ip, settings.limit_ip_window_seconds)
            if settings.limit_requests_per_ip
            else None
        )
        self.per_identity = (
            Budget("identity", settings.limit_requests_per_identity_daily, 86400)
            if settings.limit_requests_per_identity_daily
            else None
        )
        self.per_prefix = (
            Budget("prefix", settings.limit_registrations_per_prefix_daily, 86400)
            if settings.limit_registrations_per_prefix_daily
            else None
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def all(self) -> list[Budget]:
        return [b for b in (self.per_ip, self.per_identity, self.per_prefix) if b is not None]

    def start(self) -> None:
        if self.redis is not None and self.all:
            self._task = asyncio.create_task(self._run(self.redis))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=2)

    async def _run(self, redis: Redis | RedisCluster) -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            for budget in self.all:
                try:
                    await budget.synchronise(redis)
                except Exception as exc:  # Redis trouble: keep counting locally, try again
                    log.warning("secnode.limits.sync_failed budget=%s error=%s", budget.name, type(exc).__name__)

    async def refresh_registrations(self, prefix: str, registered_today: Callable[[], Awaitable[int]]) -> None:
        """Start from the day's registrations of ``prefix`` so far, for a process that charges without the periodic
        synchronisation (``secnode import``): the node's count in Redis, or without Redis the identifiers the
        database holds as registered today (``registered_today``)."""
        if self.per_prefix is None:
            return
        if self.redis is not None:
            await self.per_prefix.refresh(self.redis, prefix)
        else:
            self.per_prefix.start_from(prefix, await registered_today())

    async def flush(self) -> None:
        """Add what this process charged to the node's totals now (without the periodic task)."""
        if self.redis is not None:
            for budget in self.all:
                await budget.synchronise(self.redis)

    def charge_identity(self, identity: str) -> None:
        """An authenticated request: IDIS 603 once the identity's requests of the day (UTC) are used up."""
        if self.per_identity is None:
            return
        retry_after = self.per_identity.charge(identity)
        if retry_after is not None:
            LIMIT_REFUSED.labels("identity").inc()
            raise DailyRequestsUsedUp(identity, self.per_identity.limit, retry_after=retry_after)

    def charge_registrations(self, prefix: str, count: int) -> None:
        """``count`` identifiers about to be registered under ``prefix``: IDIS 604 once its registrations of the
        day (UTC) are used up; nothing is charged then."""
        if self.per_prefix is None or not count:
            return
        retry_after = self.per_prefix.charge(prefix, count)
        if retry_after is not None:
            LIMIT_REFUSED.labels("prefix").inc()
            raise RegistrationsUsedUp(prefix, self.per_prefix.limit, count, retry_after=retry_after)


class AddressRateLimit:
    """Outermost layer: every request, the resolver's hot path included, is charged to its client address before
    any work is done; over the budget it gets 429 with Retry-After, in its face's error format."""

    def __init__(self, app: ASGIApp, application):
        self.app = app
        # the FastAPI application: its state holds the budgets once started, and the assembly's error renderer
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        budgets: Budgets | None = getattr(self.application.state, "budgets", None)
        if (
            scope["type"] == "http"
            and budgets is not None
            and budgets.per_ip is not None
            and scope["path"] not in EXEMPT_PATHS
        ):
            retry_after = budgets.per_ip.charge(client_address(scope, self.application.state.settings))
            if retry_after is not None:
                LIMIT_REFUSED.labels("ip").inc()
                error = AddressRateLimited(budgets.per_ip.limit, budgets.per_ip.window, retry_after=retry_after)
                render: ErrorRenderer = self.application.state.render_error
                await render(error, scope)(scope, receive, with_request_id(send, take_request_id(scope)))
                return
        await self.app(scope, receive, send)
