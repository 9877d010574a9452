"""The reporter and the back-link sender inside ``secnode serve``: one active per node, whatever the number of
workers and replicas — on PostgreSQL the one holding a session advisory lock; the others wait to take over."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text

from foundation.config import Settings
from foundation.crypto.keys import load_signing_key
from foundation.db import Database, make_engine
from sync.backlinks import BacklinkSender
from sync.errors import ReporterBusy, UpstreamError
from sync.homing import HomingLocator
from sync.reporter import Reporter
from sync.upstream import HttpUpstream

log = logging.getLogger("secnode.sync")
REPORTER_LOCK_ID = 0x5EC0DE_0002
TAKEOVER_SECONDS = 15.0


@contextlib.asynccontextmanager
async def reporter_lock(db: Database, settings: Settings, *, wait: bool = True) -> AsyncIterator[None]:
    """Hold the node's one reporter role: on PostgreSQL a session advisory lock, waited for (``wait``) or tried once
    (``ReporterBusy``); SQLite serves one process anyway."""
    async with node_role(
        db,
        settings,
        REPORTER_LOCK_ID,
        wait=wait,
        busy="another process of this node is reporting (secnode serve, or sync run)",
    ):
        log.info("secnode.sync.reporter_active")
        yield


@contextlib.asynccontextmanager
async def node_role(
    db: Database, settings: Settings, lock_id: int, *, wait: bool, busy: str, poll_seconds: float = TAKEOVER_SECONDS
) -> AsyncIterator[None]:
    """Hold one of the node's single-holder roles (the reporter, the escrow depositor): on PostgreSQL the session
    advisory lock ``lock_id``, waited for (``wait``, polling) or tried once (``ReporterBusy(busy)``)."""
    if db.dialect != "postgresql":
        yield
        return
    # A session lock needs a session of its own: behind PgBouncer's transaction pooling, take it directly.
    lock_engine = make_engine(settings.database_direct_url, pool_size=1) if settings.database_direct_url else db.engine
    try:
        async with lock_engine.connect() as connection:
            while not (
                await connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id})
            ).scalar_one():
                await connection.rollback()
                if not wait:
                    raise ReporterBusy(busy)
                await asyncio.sleep(poll_seconds)
            await connection.commit()  # the lock belongs to the session and lives as long as this connection
            try:
                yield
            finally:  # the connection goes back to the pool: it must not take the lock along
                try:
                    await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
                    await connection.commit()
                except Exception:  # noqa: BLE001 - whatever went wrong, this connection must not be reused
                    await connection.invalidate()
    finally:
        if lock_engine is not db.engine:
            await lock_engine.dispose()


async def run_reporter(db: Database, settings: Settings) -> None:
    assert settings.upstream_url is not None  # the application runs the reporter only with a top-level node
    upstream = HttpUpstream(settings.upstream_url, settings.node_prefix, load_signing_key(settings.node_key_file))
    reporter = Reporter(db, settings, upstream)
    locator = HomingLocator(settings.upstream_url)
    backlinks = BacklinkSender(db, settings, locator)
    try:
        async with reporter_lock(db, settings):
            await _report(reporter, backlinks, settings)
    finally:
        await upstream.aclose()
        await backlinks.aclose()
        await locator.aclose()


async def _report(reporter: Reporter, backlinks: BacklinkSender, settings: Settings) -> None:
    delay = 1.0
    while True:  # the top-level may be down when we start
        try:
            await reporter.register(settings.public_url)
            break
        except UpstreamError as exc:
            log.warning("secnode.sync.register_failed error=%s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    await asyncio.gather(reporter.run_forever(), backlinks.run_forever())
