"""The audit log's hash chain: each entry's hash covers its own fields and the hash of the entry before it, so an
edited entry no longer matches its hash, and a deleted one leaves a gap in the numbers and a broken link.

Deleting the newest entries leaves a shorter chain that still verifies: compare the head (``secnode audit
verify`` prints it) with a copy kept elsewhere (docs/security.md)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.audit.models import AuditEntry
from registry.clock import utcnow

GENESIS = "0" * 64
# Arbitrary constant naming the audit log's transaction-level advisory lock on PostgreSQL.
AUDIT_LOCK_ID = 0x5EC0DE_0003  # 0001 is the journal's, 0002 the reporter's


def _utc_text(moment: datetime) -> str:
    """The same text for a moment however the database hands it back (SQLite drops the zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, source: str, result: int) -> str:
    fields = orjson.dumps([seq, _utc_text(at), actor, action, source, result])
    return hashlib.sha256(prev_hash.encode() + b"\n" + fields).hexdigest()


async def append(session: AsyncSession, *, actor: str, action: str, source: str, result: int) -> AuditEntry:
    """Add the next entry; the caller commits. Concurrent writers are ordered by the lock (PostgreSQL) or by
    the database's single writer (SQLite; the caller also serialises its own tasks)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
    last = (await session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc())
                                  .limit(1))).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {"seq": seq, "at": utcnow(), "actor": actor[:300], "action": action, "source": source[:64],
           "result": result, "prev_hash": prev_hash}
    row["hash"] = entry_hash(prev_hash, seq, row["at"], row["actor"], action, row["source"], result)
    await session.execute(insert(AuditEntry), [row])
    return AuditEntry(**row)


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] | None = None


async def _in_order(session: AsyncSession, chunk: int = 10_000) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        rows = list((await session.execute(select(AuditEntry).where(AuditEntry.seq > after)
                                           .order_by(AuditEntry.seq).limit(chunk))).scalars())
        for row in rows:
            yield row
        if len(rows) < chunk:
            return
        after = rows[-1].seq


async def verify(session: AsyncSession) -> Verification:
    """Walk the chain from the first entry; name every entry that was edited and every gap."""
    report = Verification(problems=[])
    expected_seq, prev_hash = 1, GENESIS
    async for row in _in_order(session):
        if row.seq != expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq} to {row.seq - 1}"
            report.problems.append(f"entry {missing} missing (deleted)")
        elif row.prev_hash != prev_hash:
            report.problems.append(f"entry {row.seq} does not follow entry {row.seq - 1} (the chain was rewritten)")
        if row.hash != entry_hash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.source, row.result):
            report.problems.append(f"entry {row.seq} was edited: its content no longer matches its hash")
        report.entries += 1
        expected_seq, prev_hash = row.seq + 1, row.hash
        report.head_seq, report.head_hash = row.seq, row.hash
    return report
