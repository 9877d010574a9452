"""The change journal is numbered in commit order: a reader that moves its cursor never skips a row."""

import asyncio
import random

from sqlalchemy import insert, select

from registry.handles.writer import RecordWriter
from registry.journal import repository as journal
from registry.journal.models import JournalEntry
from registry.kernel.actor import SYSTEM
from registry.kernel.clock import utcnow
from registry.kernel.syntax import parse

WRITERS = 8
WRITES_EACH = 15


async def _writer(db, settings, worker: int) -> None:
    rng = random.Random(worker)
    for n in range(WRITES_EACH):
        async with db.unit_of_work() as session:
            writer = RecordWriter(session, settings, SYSTEM)
            ident = parse(f"88.118/journal-{worker}-{n}")
            [outcome] = await writer.create(
                [(ident, [{"index": 1, "type": "URL", "ttl": 60, "data": {"format": "string", "value": "https://x"}}])],
                identical_ok=False,
            )
            assert outcome.ok, outcome.error
            # hold the transaction open after the journal row is written, as a slow commit would
            await asyncio.sleep(rng.uniform(0, 0.02))


async def _tail(db, stop: asyncio.Event) -> list[int]:
    """A reader like the upward reporter: read after the cursor, move the cursor to the highest number seen."""
    cursor, seen = 0, []
    while not stop.is_set():
        async with db.read_session() as session:
            rows = await journal.after(session, cursor)
        if rows:
            seen.extend(r.seq for r in rows)
            cursor = rows[-1].seq
        await asyncio.sleep(0.001)
    async with db.read_session() as session:
        seen.extend(r.seq for r in await journal.after(session, cursor, limit=100_000))
    return seen


async def _run(db, settings) -> tuple[list[int], list[int]]:
    async with db.read_session() as session:
        start = await journal.last_seq(session)
    stop = asyncio.Event()
    tail = asyncio.create_task(_tail(db, stop))
    await asyncio.gather(*(_writer(db, settings, w) for w in range(WRITERS)))
    stop.set()
    seen = [s for s in await tail if s > start]
    async with db.read_session() as session:
        committed = list(
            (
                await session.execute(
                    select(JournalEntry.seq).where(JournalEntry.seq > start).order_by(JournalEntry.seq)
                )
            ).scalars()
        )
    return seen, committed


async def test_reader_following_the_journal_sees_every_committed_row(fresh_node, settings):
    seen, committed = await _run(fresh_node, settings)
    assert len(committed) == WRITERS * WRITES_EACH
    assert sorted(seen) == committed


async def test_negative_control_without_the_lock_a_reader_skips_rows(fresh_node, settings, monkeypatch):
    """Proves the test above can fail: the same workload without the advisory lock loses rows for the reader."""
    original = journal.append

    async def append_without_lock(session, rows):
        if rows:
            await session.execute(insert(JournalEntry), [{**row, "created_at": utcnow()} for row in rows])

    monkeypatch.setattr(journal, "append", append_without_lock)
    seen, committed = await _run(fresh_node, settings)
    monkeypatch.setattr(journal, "append", original)
    assert len(committed) == WRITERS * WRITES_EACH
    assert set(committed) - set(seen), "expected the unlocked journal to let a reader skip rows"
