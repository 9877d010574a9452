"""Making a deposit: read the node (sync.escrow.source), write ``<name>.xml`` and its detached signature
``<name>.sig`` in a directory, and remember it in ``escrow_deposits`` with the destinations it is owed to."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.db import Database
from foundation.metrics import ESCROW_DEPOSITS, ESCROW_LAST_DEPOSIT
from registry.journal.models import EscrowDeposit
from registry.kernel.clock import utcnow
from sync.errors import EscrowGap
from sync.escrow import signature, source
from sync.escrow.deposit import FULL, INCR, DepositInfo, DepositWriter

UPSTREAM, AGENT = "upstream", "agent"


@dataclass(frozen=True)
class Written:
    info: DepositInfo
    xml_path: Path
    sig_path: Path


def destinations(settings: Settings) -> dict[str, str]:
    """Where deposits go: name -> base URL."""
    found = {}
    if settings.upstream_url and settings.escrow_to_upstream:
        found[UPSTREAM] = settings.upstream_url
    if settings.escrow_agent_url:
        found[AGENT] = settings.escrow_agent_url
    return found


def file_name(node_prefix: str, info: DepositInfo) -> str:
    return f"{node_prefix}_{info.deposit_id}_{info.kind}"


async def last_deposit(session: AsyncSession) -> EscrowDeposit | None:
    query = select(EscrowDeposit).order_by(EscrowDeposit.to_seq.desc(), EscrowDeposit.created_at.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def _next_id(session: AsyncSession, day: str) -> str:
    """``YYYYMMDD`` and a serial of the day: 13 word characters, as RFC 8909's depositIdType allows."""
    taken = (await session.execute(select(func.count()).where(EscrowDeposit.deposit_id.like(f"{day}%")))).scalar_one()
    return f"{day}{taken + 1:05d}"


async def make_deposit(
    db: Database, settings: Settings, key: Ed25519PrivateKey, kind: str, directory: str | os.PathLike[str]
) -> Written:
    """Write one deposit (``FULL`` or ``INCR`` after the last deposit) and record it. The caller holds the
    depositor's role, so no other deposit is made at the same time."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    async with db.unit_of_work() as session:
        previous = await last_deposit(session)
        now = utcnow()
        deposit_id = await _next_id(session, now.strftime("%Y%m%d"))
    if kind == INCR and previous is None:
        raise EscrowGap("there is no deposit yet for an incremental one to follow: make a full deposit first")
    info = DepositInfo(
        kind=kind,
        deposit_id=deposit_id,
        prev_id=previous.deposit_id if kind == INCR and previous is not None else None,
        resend=0,
        watermark=now,
        node_prefix=settings.node_prefix,
    )
    partial = out / f".{deposit_id}.partial"
    try:
        async with source.consistent_session(db) as session:
            info.to_seq = await source.last_seq(session)
            info.watermark = utcnow()
            with open(partial, "wb", buffering=1 << 20) as handle:
                writer = DepositWriter(handle, info)
                if kind == FULL:
                    await source.write_full(session, writer)
                else:
                    assert previous is not None
                    info.from_seq = previous.to_seq
                    await source.write_incremental(session, writer, previous.to_seq, info.to_seq)
        digest = await asyncio.to_thread(signature.path_digest, partial)
        name = file_name(settings.node_prefix, info)
        xml_path, sig_path = out / f"{name}.xml", out / f"{name}.sig"
        sig_path.write_bytes(signature.sign_digest(digest, key))
        os.replace(partial, xml_path)
    finally:
        partial.unlink(missing_ok=True)
    async with db.unit_of_work() as session:
        session.add(
            EscrowDeposit(
                deposit_id=info.deposit_id,
                kind=info.kind,
                prev_id=info.prev_id,
                from_seq=info.from_seq,
                to_seq=info.to_seq,
                watermark=info.watermark,
                file_path=str(xml_path.resolve()),
                resend=0,
                destinations={name: {"state": "pending", "attempts": 0} for name in destinations(settings)},
                created_at=utcnow(),
            )
        )
    ESCROW_DEPOSITS.labels(kind).inc()
    ESCROW_LAST_DEPOSIT.labels(kind).set(info.watermark.timestamp())
    return Written(info, xml_path, sig_path)
