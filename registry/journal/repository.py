"""Appending to the change journal, numbered in commit order (ADR 0001)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.journal.models import JournalEntry, SyncCursor
from registry.kernel.clock import utcnow

# Arbitrary constant naming the journal's transaction-level advisory lock on PostgreSQL.
JOURNAL_LOCK_ID = 0x5EC0DE_0001


# A whole batch in one statement on PostgreSQL; WITH ORDINALITY keeps the rows' order for their numbers.
_PG_APPEND = (
    "INSERT INTO journal (kind, subject, subject_key, version, actor, payload, created_at) "
    "SELECT kind, subject, subject_key, version, actor, payload, $7 FROM unnest($1::varchar[], $2::text[], "
    "$3::text[], $4::bigint[], $5::varchar[], $6::jsonb[]) WITH ORDINALITY "
    "AS t(kind, subject, subject_key, version, actor, payload, n) ORDER BY n"
)


async def append(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append journal rows; call as the last write of a transaction so the lock is held only until commit.

    Each row: kind, subject, subject_key, version, actor, payload.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Numbers are taken under this lock, which is held until commit: a higher number always commits later.
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": JOURNAL_LOCK_ID})
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None  # a connection checked out for this session
        await driver.execute(
            _PG_APPEND,
            [r["kind"] for r in rows],
            [r["subject"] for r in rows],
            [r["subject_key"] for r in rows],
            [r["version"] for r in rows],
            [r["actor"] for r in rows],
            [orjson.dumps(r["payload"]).decode() for r in rows],
            now,
        )
        return
    await session.execute(insert(JournalEntry.__table__), [{**row, "created_at": now} for row in rows])


def entry(
    kind: str, subject: str, subject_key: str, actor: str, version: int | None = None, **payload: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "subject": subject,
        "subject_key": subject_key,
        "version": version,
        "actor": actor,
        "payload": payload,
    }


async def advance_past(session: AsyncSession, seq: int) -> int | None:
    """Make the next journal number greater than ``seq`` (the top-level's acknowledgement). Returns the last number
    before, when it had to move; None when the journal was already beyond."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": JOURNAL_LOCK_ID})
    last = await last_seq(session)
    if last >= seq:
        return None
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT setval(pg_get_serial_sequence('journal', 'seq'), :seq)"), {"seq": seq})
    else:  # SQLite numbers max + 1: a marker row at ``seq`` moves it (the top-level takes it for a repeat)
        await session.execute(
            insert(JournalEntry.__table__),
            [
                {
                    "seq": seq,
                    "kind": "journal.advanced",
                    "subject": "journal",
                    "subject_key": "journal",
                    "version": None,
                    "actor": "system",
                    "payload": {"from": last},
                    "created_at": utcnow(),
                }
            ],
        )
    return last


async def after(session: AsyncSession, seq: int, limit: int = 1000) -> list[JournalEntry]:
    result = await session.execute(
        select(JournalEntry).where(JournalEntry.seq > seq).order_by(JournalEntry.seq).limit(limit)
    )
    return list(result.scalars())


async def last_seq(session: AsyncSession) -> int:
    return (await session.execute(select(func.coalesce(func.max(JournalEntry.seq), 0)))).scalar_one()


async def cursor_of(session: AsyncSession, name: str, *, for_update: bool = False) -> SyncCursor:
    """The named consumer's cursor (created at 0 the first time)."""
    query = select(SyncCursor).where(SyncCursor.name == name)
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        found = SyncCursor(name=name, cursor=0)
        session.add(found)
        await session.flush()
    return found


async def peek_cursor(session: AsyncSession, name: str) -> SyncCursor | None:
    """The named consumer's cursor, without creating it (safe on a read replica)."""
    return (await session.execute(select(SyncCursor).where(SyncCursor.name == name))).scalar_one_or_none()
