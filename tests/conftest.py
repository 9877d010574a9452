"""Test rig: a fresh PostgreSQL database built by the migrations, real Redis, the app over ASGI.

PostgreSQL: ``SECNODE_TEST_DATABASE_URL`` (an admin connection; default the local server, user postgres).
Redis: ``SECNODE_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.config import Settings
from foundation.db import Database
from foundation.migrate import upgrade
from node.app import create_app
from registry.bootstrap import ensure_node

ADMIN_URL = os.environ.get(
    "SECNODE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SECNODE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_PASSWORD = "Node-Secret-2026"
TABLES = [
    "webhook_attempts",
    "webhook_subscriptions",
    "escrow_deposits",
    "enterprise_nodes",
    "reference_reports",
    "secret_lockouts",
    "read_grants",
    "api_keys",
    "key_sessions",
    "sync_cursors",
    "remote_links",
    "trace_links",
    "event_items",
    "events",
    "trace_grants",
    "partner_grants",
    "resolution_counts",
    "journal",
    "handle_history",
    "handle_value_index",
    "handle_aliases",
    "handles",
    "template_items",
    "templates",
    "tokens",
    "accounts",
    "prefixes",
    "gs1_company_prefixes",
    "enterprises",
]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards; yields its URL."""
    name = f"secnode_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def migrated_database(dialect: str, directory) -> AsyncIterator[str]:
    """A database of its own built by the migrations, PostgreSQL (a scratch database) or SQLite (a file in
    ``directory``); yields its URL."""
    async with scratch_database() as pg_url:
        url = pg_url if dialect == "postgresql" else f"sqlite+aiosqlite:///{directory}/foundation.db"
        upgrade(url)
        yield url


@contextlib.asynccontextmanager
async def embedded_node(directory, **overrides) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The embedded default in this process: SQLite built by the migrations, no Redis, the node initialised, the
    application behind its hot path; yields a client of it and its database."""
    async with migrated_database("sqlite", directory) as url:
        settings = make_settings(url, redis_url=None, **overrides)
        db = Database(url)
        try:
            async with db.unit_of_work() as session:
                await ensure_node(session, settings)
            app = create_app(settings, db=db)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=ResolverFastPath(app))
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as http:
                    yield http, db
        finally:
            await db.dispose()


def redis_database(number: int) -> str:
    """The test Redis server, another logical database."""
    return REDIS_URL.rsplit("/", 1)[0] + f"/{number}"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with scratch_database() as url:
        upgrade(url)
        yield url


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "native_enabled": False,  # the native face's own tests turn it on, on a port of their own
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def fresh_node(db: Database, settings: Settings) -> Database:
    """Every test starts from an empty registry with only the node itself (admin + seed templates), and an empty
    cache (record versions start again at 1)."""
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    async with db.unit_of_work() as session:
        await session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    async with db.unit_of_work() as session:
        await ensure_node(session, settings)
    return db


@pytest.fixture
async def client(fresh_node: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
