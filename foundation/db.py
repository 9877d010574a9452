"""Database engines, sessions and the unit of work.

One transaction per request: the request boundary commits once; services only flush. What must happen around the
commit of changed records (cache coordination) runs through the commit hooks the application assembles.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import asyncpg
import orjson
from sqlalchemy import JSON, BigInteger, Integer, MetaData, Table, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from foundation.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Portable column types: JSONB / BIGINT on PostgreSQL, JSON text / INTEGER (rowid alias) on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")

RECORD_CHANGES = "record_changes"


@dataclass(frozen=True, slots=True)
class RecordChange:
    """A committed-to-be change of one identifier record, as the caches need to know it."""

    key: str  # canonical identifier
    version: int
    deleted: bool
    values: list  # stored values (secrets included: caches keep only the public view)


class CommitHooks(Protocol):
    """What the application assembles around every write transaction (the resolver's cache coordination)."""

    async def before_commit(self, changes: list[RecordChange]) -> None: ...

    async def after_commit(self, changes: list[RecordChange]) -> None: ...

    async def after_rollback(self, changes: list[RecordChange]) -> None: ...


def note_record_change(session: AsyncSession, change: RecordChange) -> None:
    session.info.setdefault(RECORD_CHANGES, []).append(change)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:  # every model is mapped to a Table (SQLAlchemy declares a FromClause): Core inserts take it
        __table__: ClassVar[Table]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take SQLite's write lock at BEGIN: a deferred transaction that reads, then writes, could fail with
    # SQLITE_BUSY_SNAPSHOT when another connection wrote in between.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _unique_statement_name() -> str:
    return f"__secnode_{uuid.uuid4().hex}__"


# Behind PgBouncer in transaction pooling each transaction may run on another server connection, so no prepared
# statement may be expected to outlive it: asyncpg's cache off (it then uses unnamed statements), SQLAlchemy's cache
# off and its statements uniquely named (Debian's PgBouncer 1.18 does not track prepared statements).
PGBOUNCER_CONNECT_ARGS = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unique_statement_name,
}
# The resolver's one-record reads run generic plans: pruned to one partition at execution, planned once. (Left to
# itself PostgreSQL would keep planning them anew: a generic plan's estimate counts every partition.) Statements
# over many identifiers keep the default, whose custom plans prune at planning; a generic plan would probe every
# partition for every key. Behind PgBouncer, which cannot pass settings, the default applies (slower, correct).
RESOLVER_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


def make_engine(url: str, *, pool_size: int = 10, writer: bool = False, pgbouncer: bool = False) -> AsyncEngine:
    json = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=1 if writer else 5, max_overflow=0 if writer else 5, **json)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if writer:
            event.listen(engine.sync_engine, "connect", _sqlite_autocommit_driver)
            event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pre-ping: it would cost a round trip per checkout on the resolver's hot path; connections are recycled.
    # Overflow connections would be opened and closed under bursts: requests wait for a pooled one instead.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        connect_args=PGBOUNCER_CONNECT_ARGS if pgbouncer else {},
        **json,
    )


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite would otherwise begin lazily on its own).
    dbapi_connection.isolation_level = None


class Database:
    """The write engine (primary) and the read engine (a replica when configured, else the primary)."""

    def __init__(self, url: str, read_url: str | None = None, *, pool_size: int = 10, pgbouncer: bool = False):
        self.url = url
        self.read_url = read_url
        self.pool_size = pool_size
        self.pgbouncer = pgbouncer
        self._driver_pools: dict[str, asyncpg.Pool] = {}
        self._driver_lock = asyncio.Lock()
        self.engine = make_engine(url, pool_size=pool_size, writer=True, pgbouncer=pgbouncer)
        if read_url or url.startswith("sqlite"):  # SQLite: readers get their own engine, the writer is one connection
            self.read_engine = make_engine(read_url or url, pool_size=pool_size, pgbouncer=pgbouncer)
        else:
            self.read_engine = self.engine
        self.hooks: CommitHooks | None = None
        self.write_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, with_replica: bool = True) -> Database:
        return cls(
            settings.database_url,
            settings.database_read_url if with_replica else None,
            pool_size=settings.database_pool_size,
            pgbouncer=settings.database_pgbouncer,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def driver_pool(self, *, primary: bool = False) -> asyncpg.Pool:
        """A plain asyncpg pool on the read database (or the primary) for the resolver's cache misses: one
        prepared statement per miss, without the ORM's session and pool machinery (PostgreSQL only)."""
        which = "primary" if primary or self.read_url is None else "read"
        if which not in self._driver_pools:
            async with self._driver_lock:
                if which not in self._driver_pools:
                    url = make_url(self.read_url if which == "read" and self.read_url is not None else self.url)
                    self._driver_pools[which] = await asyncpg.create_pool(
                        url.set(drivername="postgresql").render_as_string(hide_password=False),
                        min_size=self.pool_size,
                        max_size=self.pool_size,
                        **(
                            {"statement_cache_size": 0}
                            if self.pgbouncer
                            else {"server_settings": RESOLVER_SERVER_SETTINGS}
                        ),
                    )
        return self._driver_pools[which]

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A write session that commits once at the end, or rolls back on error. Record changes go through the
        commit hooks (before commit: may refuse the write; after commit: install)."""
        async with self.write_sessions() as session:
            try:
                yield session
                changes = session.info.get(RECORD_CHANGES, [])
                if changes and self.hooks is not None:
                    await self.hooks.before_commit(changes)
                await session.commit()
            except BaseException:
                await session.rollback()
                changes = session.info.get(RECORD_CHANGES, [])
                if changes and self.hooks is not None:
                    await self.hooks.after_rollback(changes)
                raise
            changes = session.info.pop(RECORD_CHANGES, [])
            if changes and self.hooks is not None:
                await self.hooks.after_commit(changes)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session:
            yield session

    @asynccontextmanager
    async def primary_read_session(self) -> AsyncIterator[AsyncSession]:
        """Reads that must not lag behind a replica (credentials), without SQLite's single write connection."""
        async with (self.write_sessions if self.read_url else self.read_sessions)() as session:
            yield session

    async def dispose(self) -> None:
        for pool in self._driver_pools.values():
            await pool.close()
        self._driver_pools.clear()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
