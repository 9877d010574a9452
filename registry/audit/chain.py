"""The audit log's hash chain: each entry's hash covers its own fields and the hash of the entry before it, so an
edited entry no longer matches its hash, and a deleted one leaves a gap in the numbers and a broken link.

Deleting the newest entries leaves a shorter chain that still verifies: compare the head (``secnode audit
verify`` prints it) with a copy kept elsewhere (docs/security.md).

The hash is SHA-256 or SM3 (``SECNODE_AUDIT_HASH``). The ``hash`` column holds 64 hex digits, which leaves no room
to tag an entry with its algorithm, so the chain says it itself: when a node starts appending with another
algorithm than the newest entry's, it first appends a switch entry (actor ``system``, action ``AUDIT hash sm3``),
hashed like every entry after it with the new algorithm. Entries before any switch are SHA-256. Verification
follows the switches, so every entry is checked with the algorithm it was written with, whatever the setting is
now."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from gmssl import func, sm3
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.audit.models import AuditEntry
from registry.kernel.clock import utcnow

GENESIS = "0" * 64
# Arbitrary constant naming the audit log's transaction-level advisory lock on PostgreSQL.
AUDIT_LOCK_ID = 0x5EC0DE_0003  # 0001 is the journal's, 0002 the reporter's

DEFAULT_ALGORITHM = "sha256"  # of the entries before the first switch
SWITCH_ACTOR = "system"
SWITCH_ACTION = "AUDIT hash "  # followed by the algorithm; requests ("PUT /...") and commands ("CLI ...") differ


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sm3(data: bytes) -> str:
    # GB/T 32905-2016: OpenSSL's when it has one (about 1.5 µs), else gmssl's pure Python (about 0.7 ms).
    if _OPENSSL_SM3:
        return hashlib.new("sm3", data).hexdigest()
    hexdigest: str = sm3.sm3_hash(func.bytes_to_list(data))
    return hexdigest


_OPENSSL_SM3 = "sm3" in hashlib.algorithms_available


HASHES = {"sha256": _sha256, "sm3": _sm3}


def _utc_text(moment: datetime) -> str:
    """The same text for a moment however the database hands it back (SQLite drops the zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    source: str,
    result: int,
    algorithm: str = DEFAULT_ALGORITHM,
) -> str:
    fields = orjson.dumps([seq, _utc_text(at), actor, action, source, result])
    return HASHES[algorithm](prev_hash.encode() + b"\n" + fields)


def _matches(entry: AuditEntry, algorithm: str) -> bool:
    return entry.hash == entry_hash(
        entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action, entry.source, entry.result, algorithm
    )


def switched_to(actor: str, action: str) -> str | None:
    """The algorithm a switch entry names; None for any other entry."""
    if actor == SWITCH_ACTOR and action.startswith(SWITCH_ACTION):
        return action[len(SWITCH_ACTION) :]
    return None


async def append(
    session: AsyncSession, *, actor: str, action: str, source: str, result: int, algorithm: str = DEFAULT_ALGORITHM
) -> AuditEntry:
    """Add the next entry, hashed with ``algorithm`` (the node's ``audit_hash`` setting); the caller commits."""
    return (
        await append_many(session, [{"actor": actor, "action": action, "source": source, "result": result}], algorithm)
    )[-1]


async def append_many(
    session: AsyncSession, entries: list[dict[str, Any]], algorithm: str = DEFAULT_ALGORITHM
) -> list[AuditEntry]:
    """Add entries (``actor``, ``action``, ``source``, ``result``) in this order, in one statement; the caller
    commits. Concurrent writers are ordered by the lock (PostgreSQL) or by the database's single writer (SQLite;
    the caller also serialises its own tasks)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
    last = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))).scalar()
    if not _written_with(last, algorithm):
        entries = [
            {"actor": SWITCH_ACTOR, "action": SWITCH_ACTION + algorithm, "source": "local", "result": 0},
            *entries,
        ]
    rows = []
    for entry in entries:
        last = _next(last, algorithm, **entry)
        rows.append(last)
    await session.execute(insert(AuditEntry), [_columns(row) for row in rows])
    return rows


def _written_with(last: AuditEntry | None, algorithm: str) -> bool:
    """Whether the chain's newest entry was hashed with ``algorithm`` (an empty chain starts with SHA-256). An
    edited entry matches no algorithm: the switch entry that then follows it is harmless, and verify names the
    edit."""
    if last is None:
        return algorithm == DEFAULT_ALGORITHM
    return _matches(last, algorithm)


def _next(last: AuditEntry | None, algorithm: str, *, actor: str, action: str, source: str, result: int) -> AuditEntry:
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    row: dict[str, Any] = {
        "seq": seq,
        "at": utcnow(),
        "actor": actor[:300],
        "action": action,
        "source": source[:64],
        "result": result,
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(prev_hash, seq, row["at"], row["actor"], action, row["source"], result, algorithm)
    return AuditEntry(**row)


def _columns(entry: AuditEntry) -> dict[str, Any]:
    return {
        name: getattr(entry, name) for name in ("seq", "at", "actor", "action", "source", "result", "prev_hash", "hash")
    }


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    head_algorithm: str = DEFAULT_ALGORITHM
    problems: list[str] = field(default_factory=list)


async def _in_order(session: AsyncSession, chunk: int = 10_000) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        rows = list(
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(chunk)
                )
            ).scalars()
        )
        for row in rows:
            yield row
        if len(rows) < chunk:
            return
        after = rows[-1].seq


async def verify(session: AsyncSession) -> Verification:
    """Walk the chain from the first entry; name every entry that was edited and every gap. Each entry is checked
    with the algorithm in force where it stands: SHA-256, or the one the last switch entry before it named."""
    report = Verification()
    expected_seq, prev_hash, algorithm = 1, GENESIS, DEFAULT_ALGORITHM
    async for row in _in_order(session):
        if row.seq != expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq} to {row.seq - 1}"
            report.problems.append(f"entry {missing} missing (deleted)")
        elif row.prev_hash != prev_hash:
            report.problems.append(f"entry {row.seq} does not follow entry {row.seq - 1} (the chain was rewritten)")
        switch = switched_to(row.actor, row.action)
        if switch is not None and switch not in HASHES:
            report.problems.append(f"entry {row.seq} switches to {switch!r}, which is no hash algorithm of the node")
        elif switch is not None:
            algorithm = switch
        if not _matches(row, algorithm):
            report.problems.append(f"entry {row.seq} was edited: its content no longer matches its hash")
        report.entries += 1
        expected_seq, prev_hash = row.seq + 1, row.hash
        report.head_seq, report.head_hash, report.head_algorithm = row.seq, row.hash, algorithm
    return report
